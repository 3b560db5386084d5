/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The name every source (DNS query, TLS SNI, HTTP Host) is brought to before the domain lookup:
 * struct name_buf (maps/flow.h) in dotted form behind a leading dot, lower case, with the index
 * of every dot. Header-only and host-compilable: included by bpf/lib/dns.h, tls.h, http.h,
 * domain.h, and by the host tests and fuzz targets, so the kernel runs the code the host tests.
 *
 * Host API (the same functions the kernel runs):
 *   name_from_wire(nb, avail)    b[0..avail) holds a DNS name in wire form (and what follows
 *                                it in the message); turns it into dotted form in place.
 *                                Returns its wire length (>= 1) or -counter.
 *   name_from_dotted(nb, len)    b[1..len] holds a host name as text (SNI, Host); records the
 *                                dots and whether name_check_labels() must look (label_check).
 *                                Returns 0 or -counter.
 *   name_lower(nb)               ASCII lower case, a word at a time (dh_lower8, maps/domain.h);
 *                                zeroes the bytes after the name to the end of its last word.
 *   name_check_labels(nb)        every label of a text name 1..63 bytes. Returns 0 or -counter.
 * -counter is the negated verdict counter of maps/counters.h that the packet is then counted
 * under: PASS_NAME_TOO_LONG (over 253 characters or 127 labels), PASS_NAME_TRUNCATED (the copy
 * ends inside the name), PASS_NAME_MALFORMED (text form: empty, or more dots than 127 labels
 * allow), PASS_DNS_MALFORMED (a compression pointer or reserved label type in wire form).
 * Empty labels and labels over 63 characters in text form are refused by
 * name_check_labels(nb), which the kernel runs before the lookup (bpf/lib/domain.h).
 *
 * Verifier notes: the walks use constant-bound loops whose bodies have no branch that leaves a
 * different constant in a register the next iteration reads, so the verifier sees one state
 * per iteration (a byte loop over 253 characters with a branch per byte is what exhausted its
 * budget here before). Indexes into b[] and dot[] are masked to the array sizes.
 */
#ifndef BPFGUARD_BPF_LIB_NAME_H
#define BPFGUARD_BPF_LIB_NAME_H

#include <linux/types.h>
#include "maps/counters.h"
#include "maps/flow.h"
#include "bpf/lib/parse.h"

#ifndef __BPF__
#include <string.h>
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the word-at-a-time name code assumes a little-endian host and BPF target"
#endif

#define NAME_ERR(counter) PARSE_ERR(GC_##counter)

/*
 * Read lv from memory as the verifier sees it: an unknown value within its type, whatever was
 * stored (map memory is not tracked). For values whose range would otherwise differ by path.
 *
 * Bound v by mask for the verifier (v <= mask already holds): clang would drop a mask it can
 * prove redundant, or merge the checks that prove it into one the verifier cannot use, so v
 * is first hidden from clang. For the sizes and offsets given to helpers.
 */
#define NAME_LAUNDER(lv) (*(volatile __typeof__(lv) *)&(lv))

#define NAME_CLAMP(v, mask)      \
	do {                     \
		parse_opaque(v); \
		(v) &= (mask);   \
	} while (0)
#define NAME_WORDS (NAME_BUF_LEN / 8)
#define NAME_LABEL_MAX 63

/* Unaligned 64-bit loads and stores: one instruction in BPF (x86 JIT), memcpy on the host. */
#ifdef __BPF__
#define name_load64(p) (*(const __u64 *)(const void *)(p))
#define name_store64(p, v) (*(__u64 *)(void *)(p) = (v))
#else
static inline __u64 name_load64(const void *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void name_store64(void *p, __u64 v)
{
	memcpy(p, &v, sizeof(v));
}
#endif

#define NAME_ONES 0x0101010101010101ull
#define NAME_HIGHS 0x8080808080808080ull
#define NAME_LOWS7 0x7f7f7f7f7f7f7f7full

/* 0x80 in every byte of x that is zero, 0 elsewhere (exact: no borrow between bytes). */
static inline __u64 name_zero_bytes(__u64 x)
{
	return ~(((x & NAME_LOWS7) + NAME_LOWS7) | x | NAME_LOWS7);
}

/* 0x80 in every byte of x equal to c. */
static inline __u64 name_bytes_eq(__u64 x, __u8 c)
{
	return name_zero_bytes(x ^ (NAME_ONES * c));
}

/* Index (0..7) of the lowest byte flagged 0x80 in m (m != 0): BPF has no ctz instruction. */
static inline __u32 name_first_byte(__u64 m)
{
	__u64 low = m & (0 - m);

	return (__u32)(((low >> 7) * 0x0001020304050607ull) >> 56);
}

/* Mask of the bytes of a word below byte n (n in 0..8). */
static inline __u64 name_low_bytes(__u32 n)
{
	return n >= 8 ? ~0ull : (1ull << (n * 8)) - 1;
}

/*
 * Wire form to dotted form, in place: b[0..avail) holds the copied bytes, the name first.
 * Each length byte becomes a dot (so b[0] is the leading dot) and the root label's zero byte
 * stays, right after the name. Returns the wire length (len + 2, or 1 for the root name) or
 * -counter: PASS_DNS_MALFORMED for a compression pointer or reserved label type (a query's
 * name is never compressed), PASS_NAME_TOO_LONG when the labels run past 255 bytes,
 * PASS_NAME_TRUNCATED when the copy ends first.
 *
 * Verifier workaround: the wire length is returned through nb->wire (map memory): computed in
 * the loop, its range would differ by the iteration that ended it, and everything after the
 * call would be verified once per iteration.
 */
PARSE_FN int name_from_wire(struct name_buf *nb, __u32 avail)
{
	__u32 pos = 0, i;

	for (i = 0; i < NAME_MAX_LABELS + 1; i++) {
		__u32 l;

		if (pos >= avail)
			return NAME_ERR(PASS_NAME_TRUNCATED);
		NAME_CLAMP(pos, 0xff);
		l = nb->b[pos];
		if (l == 0)
			break;
		if (l & 0xc0)
			return NAME_ERR(PASS_DNS_MALFORMED);
		nb->dot[i] = (__u8)pos;
		nb->b[pos] = '.';
		pos += l + 1;
		/* room for the root label's byte: the wire form is at most 255 bytes */
		if (pos >= NAME_MAX_WIRE)
			return NAME_ERR(PASS_NAME_TOO_LONG);
	}
	/* unreachable: 128 labels need 256 bytes, refused above; the verifier wants the bound */
	if (i > NAME_MAX_LABELS)
		return NAME_ERR(PASS_NAME_TOO_LONG);
	nb->labels = (__u16)i;
	nb->len = (__u16)(pos ? pos - 1 : 0);
	nb->wire = (__u16)(pos + 1);
	nb->b[0] = '.';
	return (int)NAME_LAUNDER(nb->wire);
}

/*
 * Text form (SNI, Host): b[1..len] holds the name as copied. One trailing dot is dropped (an
 * absolute name); the dots are recorded. Returns 0 or -counter: PASS_NAME_TOO_LONG (over 253
 * characters), PASS_NAME_MALFORMED (empty, more dots than labels allow). Label lengths are
 * checked by name_check_labels(), which can only refuse a name that label_check marks: one
 * with two dots in a row (the leading dot of b[0] included), a dot at its end, or over 63
 * characters (otherwise every label has 1..63).
 *
 * Verifier workaround: the label count lives in nb->labels (map memory), not in a register: a
 * register would hold a different number on every path through the dots, and the verifier
 * would walk the loop once per number.
 */
PARSE_FN int name_from_dotted(struct name_buf *nb, __u32 len)
{
	__u32 w, t;

	if (len > NAME_MAX_LEN + 1)
		return NAME_ERR(PASS_NAME_TOO_LONG);
	NAME_CLAMP(len, 0xff);
	if (len && nb->b[len] == '.')
		len--;
	if (len == 0)
		return NAME_ERR(PASS_NAME_MALFORMED);
	if (len > NAME_MAX_LEN)
		return NAME_ERR(PASS_NAME_TOO_LONG);
	/* a store only when needed: a byte stored into a word just written delays its reads */
	if (nb->b[0] != '.')
		nb->b[0] = '.';
	/* zero what follows the name in its last word: no dot is found past the end */
	t = (len + 1) & 0xf8;
	name_store64(nb->b + t, name_load64(nb->b + t) & ((1ull << (((len + 1) & 7) * 8)) - 1));
	nb->labels = 0;
	nb->label_check = len > NAME_LABEL_MAX || nb->b[len] == '.';
	for (w = 0; w < NAME_WORDS; w++) {
		__u64 m;
		__u32 j;

		if (w * 8 > len)
			break;
		m = name_bytes_eq(name_load64(nb->b + w * 8), '.');
		for (j = 0; j < 8 && m; j++) {
			__u32 n = NAME_LAUNDER(nb->labels), at = w * 8 + name_first_byte(m);

			/* 254 dots cannot be 127 labels: more than 128 means empty labels */
			if (n > NAME_MAX_LABELS)
				return NAME_ERR(PASS_NAME_MALFORMED);
			NAME_CLAMP(n, NAME_MAX_LABELS);
			/*
			 * A dot right after the last one: an empty label. (The first dot, b[0]'s,
			 * is compared with whatever dot[127] holds: at worst a needless check.)
			 */
			if (at == (__u32)nb->dot[(n - 1) & NAME_MAX_LABELS] + 1)
				nb->label_check = 1;
			nb->dot[n] = (__u8)at;
			nb->labels = (__u16)(n + 1);
			m &= m - 1;
		}
	}
	nb->len = (__u16)len;
	return 0;
}

/*
 * Every label of a text name (its dots recorded by name_from_dotted) 1..NAME_LABEL_MAX bytes?
 * Right to left, the first bad label decides. Returns 0, -PASS_NAME_MALFORMED (an empty label)
 * or -PASS_NAME_TOO_LONG (a label over 63 bytes): the domain lookup walks only as far as the
 * tables hold a suffix, so the whole name is checked here, before it.
 */
PARSE_FN int name_check_labels(const struct name_buf *nb)
{
	__u32 i, n = nb->labels, end = (__u32)nb->len + 1;

	for (i = 0; i < NAME_MAX_LABELS; i++) {
		__u32 start, len;

		if (i >= n)
			break;
		start = (__u32)nb->dot[(n - 1 - i) & NAME_MAX_LABELS] + 1;
		len = end - start;
		if (len == 0 || len > 0xffff)
			return NAME_ERR(PASS_NAME_MALFORMED);
		if (len > NAME_LABEL_MAX)
			return NAME_ERR(PASS_NAME_TOO_LONG);
		end = start - 1;
	}
	return 0;
}

/*
 * Lower case b[0..len] (the leading dot and the name) a word at a time, and zero the bytes
 * after the name to the end of its last word. Whole words are lowered, the last one's bytes
 * past the name included: they are zeroed after the loop (one comparison per iteration keeps
 * the verifier to one state per iteration).
 */
PARSE_FN void name_lower(struct name_buf *nb)
{
	__u32 w, end = (__u32)nb->len + 1, t; /* bytes in use: the dot and the name */

	for (w = 0; w < NAME_WORDS; w++) {
		if (w * 8 >= end)
			break;
		name_store64(nb->b + w * 8, dh_lower8(name_load64(nb->b + w * 8)));
	}
	t = end & ~7u;
	NAME_CLAMP(t, 0xf8); /* end <= 254 */
	name_store64(nb->b + t, name_load64(nb->b + t) & ((1ull << ((end & 7) * 8)) - 1));
}

/*
 * dh_label() of maps/domain.h over the label lowered (dh_lower8 on each word: the kernel
 * lowers a name as it hashes it, in one pass), for labels of 1..DH_MAX_LABEL bytes, in the
 * shape the verifier walks cheaply: the whole words in a loop with one comparison, then the
 * masked last word, its place and mask computed before the loop. dh_label's loop compares the
 * length twice per word (its end, and whether the word is the last), which splits the
 * verifier's states by the length's range: 8 times the work per label, and with 127 labels,
 * most of the budget. The host tests check both give the same hash for every length and case.
 */
static inline __u64 name_label_hash(const __u8 *p, __u32 len)
{
	const __u8 *last = p + (len & 0x38);
	__u64 h = len, mask = (1ull << ((len & 7) * 8)) - 1, w;
	__u32 i, full = len >> 3;

	for (i = 0; i < DH_MAX_LABEL / 8; i++) {
		if (i >= full)
			break;
		w = dh_lower8(name_load64(p + i * 8));
		h = (h ^ w) * DH_K_LABEL;
		h ^= h >> 29;
	}
	if (len & 7) {
		w = dh_lower8(name_load64(last)) & mask;
		h = (h ^ w) * DH_K_LABEL;
		h ^= h >> 29;
	}
	return h;
}

/* Label i's first byte and length (i < labels). */
static inline __u32 name_label(const struct name_buf *nb, __u32 i, __u32 *llen)
{
	__u32 start = (__u32)nb->dot[i & NAME_MAX_LABELS] + 1;
	__u32 end = i + 1 < nb->labels ? nb->dot[(i + 1) & NAME_MAX_LABELS] : (__u32)nb->len + 1;

	*llen = end - start;
	return start;
}

#ifndef __BPF__
/*
 * Host only: the name as a C string (without the leading dot) into out (NAME_MAX_LEN + 1
 * bytes). For tests and tools.
 */
static inline const char *name_str(const struct name_buf *nb, char *out)
{
	__u32 len = nb->len > NAME_MAX_LEN ? NAME_MAX_LEN : nb->len;

	memcpy(out, nb->b + 1, len);
	out[len] = 0;
	return out;
}
#endif

#endif
