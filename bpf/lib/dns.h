/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DNS queries: the header check and the question, header-only and host-compilable (included by
 * bpf/guard.bpf.c through bpf/lib/names.h, by tests/unit/test_dns.c and tests/fuzz/fuzz_dns.c).
 * The message is a UDP/53 payload, or a TCP/53 segment's payload after its 2-byte length (the
 * query must be in the first segment).
 *
 * Host API:
 *   int dns_parse_query(msg, end, &q, &nb)
 *     msg..end is the DNS message (bytes past end are not read). Returns
 *       0              a standard query with one question: q holds id, flags, qtype, qclass,
 *                      arcount, the QNAME's wire length and whether an EDNS OPT record follows
 *                      the question; nb holds the name, dotted, lower case (bpf/lib/name.h)
 *       DNS_NOT_QUERY  a response (QR set) or another opcode than QUERY: not judged by name
 *       -counter       PASS_DNS_MALFORMED (header cut, QDCOUNT != 1, a compression pointer or
 *                      reserved label type in the QNAME), PASS_NAME_TOO_LONG, PASS_NAME_TRUNCATED
 *                      (the message ends inside the name or its QTYPE/QCLASS)
 *   The kernel runs the same steps: dns_header_ok() on the packet, a copy of the bytes from
 *   the QNAME on into the scratch buffer (at most DNS_COPY_MAX), dns_question() on the copy;
 *   or, when those bytes are all in the packet's linear data, dns_name_scan() on the packet in
 *   place (no copy), falling back to the copy for any name it does not accept.
 */
#ifndef BPFGUARD_BPF_LIB_DNS_H
#define BPFGUARD_BPF_LIB_DNS_H

#include "bpf/lib/name.h"

struct hdr_dns {
	__be16 id;
	__be16 flags;
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};
_Static_assert(sizeof(struct hdr_dns) == 12, "DNS header");

#define DNS_PORT 53
#define DNS_F_QR 0x8000
#define DNS_F_OPCODE 0x7800
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_F_RCODE 0x000f

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED 5

#define DNS_TYPE_A 1
#define DNS_TYPE_SOA 6
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_TYPE_SVCB 64
#define DNS_TYPE_HTTPS 65
#define DNS_TYPE_ANY 255
#define DNS_CLASS_IN 1

#define DNS_EDNS_EDE 15 /* EDNS option: Extended DNS Error (RFC 8914) */
#define DNS_EDE_BLOCKED 15 /* its INFO-CODE "Blocked" */

/* Bytes copied from the QNAME on: the longest wire name and QTYPE/QCLASS. */
#define DNS_COPY_MAX (NAME_MAX_WIRE + 1 + 4)
_Static_assert(DNS_COPY_MAX <= NAME_BUF_LEN, "the copy fits the name buffer");

/* dns_check_header() and dns_parse_query(): a message that is not a query. */
#define DNS_NOT_QUERY 1

/* struct dns_query: maps/flow.h (the kernel keeps it in its scratch map). */

/*
 * The header of the message at msg, read only: 0 for a standard query with QDCOUNT 1,
 * DNS_NOT_QUERY for a response or another opcode, -PASS_DNS_MALFORMED otherwise (the header or
 * the first byte of the name past end, QDCOUNT != 1). The kernel takes the fields an answer
 * repeats (dns_header_fields) only for a query it answers.
 */
PARSE_FN int dns_header_ok(const void *msg, const void *end)
{
	const struct hdr_dns *h = msg;

	/* the header and at least the root label */
	if ((const __u8 *)(h + 1) + 1 > (const __u8 *)end)
		return NAME_ERR(PASS_DNS_MALFORMED);
	if (parse_ntohs(h->flags) & (DNS_F_QR | DNS_F_OPCODE))
		return DNS_NOT_QUERY;
	if (parse_ntohs(h->qdcount) != 1)
		return NAME_ERR(PASS_DNS_MALFORMED);
	return 0;
}

/* The header fields an answer repeats or depends on, into q (has_opt cleared). */
PARSE_FN void dns_header_fields(const struct hdr_dns *h, struct dns_query *q)
{
	q->id = parse_ntohs(h->id);
	q->flags = parse_ntohs(h->flags);
	q->arcount = parse_ntohs(h->arcount);
	q->has_opt = 0;
}

/* dns_header_ok(), then the fields into q (for any whole header, queries or not). */
PARSE_FN int dns_check_header(const void *msg, const void *end, struct dns_query *q)
{
	int ret = dns_header_ok(msg, end);

	if (ret < 0)
		return ret;
	dns_header_fields(msg, q);
	return ret;
}

/*
 * The question, from the copy: nb->b[0..avail) holds the message from the QNAME on. Converts
 * the name (name_from_wire), reads QTYPE and QCLASS. Returns 0 or -counter. The name keeps
 * its case: the kernel's lookup lowers each word as it hashes it (name_label_hash); the host
 * API below lowers the buffer (name_lower).
 */
PARSE_FN int dns_question(struct name_buf *nb, __u32 avail, struct dns_query *q)
{
	int wire = name_from_wire(nb, avail);
	__u32 at;

	if (wire < 0)
		return wire;
	at = (__u32)wire;
	if (at + 4 > avail)
		return NAME_ERR(PASS_NAME_TRUNCATED);
	NAME_CLAMP(at, 0xff); /* at <= 255 */
	q->wire = (__u16)at;
	q->qtype = (__u16)(nb->b[at] << 8 | nb->b[at + 1]);
	q->qclass = (__u16)(nb->b[at + 2] << 8 | nb->b[at + 3]);
	return 0;
}

/* Offsets into a DNS message that the fast path reads at: below the longest question's end. */
#define DNS_SCAN_OFF_MAX 0x1ff
/*
 * dh_label() of the len bytes (1..63) at msg + off, read in place (end: the end of what may be
 * read), lowered word by word: the whole words, then the last part of a word as the 8 bytes
 * that end the label, shifted down (so no byte past the label is read; those 8 bytes start
 * after msg for a label of the question, which follows the 12-byte header). Returns 0 with *h,
 * or -1 if a read would pass end.
 */
PARSE_FN int dns_label_hash(const __u8 *msg, const void *end, __u32 off, __u32 len, __u64 *h)
{
	__u64 x = len, w;
	__u32 i, o, full = len >> 3, r = len & 7;
	const __u8 *p;

	for (i = 0; i < NAME_LABEL_MAX / 8; i++) {
		if (i >= full)
			break;
		o = off + i * 8;
		NAME_CLAMP(o, DNS_SCAN_OFF_MAX);
		p = msg + o;
		if (p + 8 > (const __u8 *)end)
			return -1;
		w = dh_lower8(name_load64(p));
		x = (x ^ w) * DH_K_LABEL;
		x ^= x >> 29;
	}
	if (r) {
		o = off + len - 8;
		NAME_CLAMP(o, DNS_SCAN_OFF_MAX);
		p = msg + o;
		if (p + 8 > (const __u8 *)end)
			return -1;
		w = dh_lower8(name_load64(p)) >> ((8 - r) * 8);
		x = (x ^ w) * DH_K_LABEL;
		x ^= x >> 29;
	}
	*h = x;
	return 0;
}

/*
 * dns_question()'s name step for the kernel's fast path, read in place: the QNAME at msg + 12,
 * with avail bytes of the message from there on (all of them before end, which the caller
 * checked: the copy path would have copied them). Records the labels in nb as name_from_wire()
 * does (dot[], labels, len, wire; b[] is not written: the lookup hashes the labels in place,
 * dns_label_hash()) and returns the wire length, or -1 for any name dns_question() would not
 * accept (a compression pointer or reserved label type, a name past 255 bytes or past avail,
 * QTYPE and QCLASS cut): the caller then takes the copy path, whose counter is the reference.
 * So both paths agree on every name; the host tests compare them.
 *
 * Speed: the labels are a chain (each length byte says where the next one is), one dependent
 * load per label, nothing else on it: the labels are hashed only as far as the lookup walks.
 */
PARSE_FN int dns_name_scan(const __u8 *msg, const void *end, __u32 avail, struct name_buf *nb)
{
	const __u8 *qname = msg + sizeof(struct hdr_dns), *p = qname;
	__u32 i, pos = 0;

	if (avail > DNS_COPY_MAX)
		return -1;
	/*
	 * Past avail, the scan goes on as long as the packet does: the end's test below refuses
	 * such a name (positions only grow), so the loop need not test avail on every label.
	 */
	for (i = 0; i < NAME_MAX_LABELS + 1; i++) {
		__u32 l;

		if (p + 1 > (const __u8 *)end)
			return -1;
		l = *p;
		if (l == 0)
			break;
		if (l & 0xc0)
			return -1;
		nb->dot[i & NAME_MAX_LABELS] = (__u8)pos;
		p += l + 1;
		pos += l + 1;
	}
	/* the wire form is at most 255 bytes (128 labels need 256), QTYPE and QCLASS follow */
	if (i > NAME_MAX_LABELS || pos >= NAME_MAX_WIRE || pos + 1 + 4 > avail)
		return -1;
	nb->labels = (__u16)i;
	nb->len = (__u16)(pos ? pos - 1 : 0);
	nb->wire = (__u16)(pos + 1);
	return (int)NAME_LAUNDER(nb->wire);
}

/*
 * Whether an EDNS OPT record follows the question (at rr): root owner name and type OPT, the
 * whole fixed part inside the message. Only the first additional record is looked at, and
 * only when the query has no answer or authority records (a query has none). Returns 0 or
 * DNS_OPT_PRESENT, with DNS_OPT_DO when the record's DO bit is set.
 */
#define DNS_OPT_PRESENT 0x1
#define DNS_OPT_DO 0x2

PARSE_FN int dns_find_opt(const void *msg, const __u8 *rr, const void *end)
{
	const struct hdr_dns *h = msg;

	if (!h->arcount || h->ancount || h->nscount)
		return 0;
	if (rr + 11 > (const __u8 *)end)
		return 0;
	if (rr[0] != 0 || rr[1] != 0 || rr[2] != DNS_TYPE_OPT)
		return 0;
	return DNS_OPT_PRESENT | ((rr[7] & 0x80) ? DNS_OPT_DO : 0);
}

/* What a blocked query is answered with (dns_build_answer). */
enum dns_answer_kind {
	DNS_ANS_NXDOMAIN = 0, /* NXDOMAIN, an SOA in the authority section */
	DNS_ANS_REFUSED = 1, /* REFUSED, nothing else */
	DNS_ANS_A = 2, /* NOERROR, one A record: the sinkhole address */
	DNS_ANS_AAAA = 3, /* NOERROR, one AAAA record: the sinkhole address */
	DNS_ANS_NODATA = 4, /* NOERROR, no answer, an SOA in the authority section */
};
/*
 * Or'ed into the kind: a lean answer, without the SOA and the OPT record (the same RCODE, the
 * A/AAAA record kept). Never longer than the query unless it carries a sinkhole address: the
 * kernel sends it when the frame cannot grow (bpf_xdp_adjust_tail refuses, as on veth, where
 * an XDP buffer can be the sender's own skb with a few bytes of room).
 */
#define DNS_ANS_LEAN 0x10

/* struct dns_answer_cfg: maps/flow.h. */

/* The question's end is at most 12 + 255 + 4; an answer adds at most an SOA and an OPT record. */
#define DNS_QEND_MAX (12 + NAME_MAX_WIRE + 4)
#define DNS_SOA_LEN 34 /* owner pointer, fixed part, rdata (root MNAME and RNAME, 5 numbers) */
#define DNS_OPT_LEN 17 /* root owner, fixed part, one EDE option with its 2-byte code */
#define DNS_ANSWER_MAX (DNS_QEND_MAX + DNS_SOA_LEN + DNS_OPT_LEN)

/*
 * Big-endian 16 and 32-bit numbers at p (unaligned): one store each (a constant's swap is
 * folded), where byte stores were two and four, and shifts.
 */
static inline void dns_put16(__u8 *p, __u32 v)
{
	__u16 be = __builtin_bswap16((__u16)v);

#ifdef __BPF__
	*(__u16 *)(void *)p = be;
#else
	memcpy(p, &be, sizeof(be));
#endif
}

static inline void dns_put32(__u8 *p, __u32 v)
{
	__u32 be = __builtin_bswap32(v);

#ifdef __BPF__
	*(__u32 *)(void *)p = be;
#else
	memcpy(p, &be, sizeof(be));
#endif
}

/*
 * The length of the answer of kind to q (dns_build_answer writes exactly this many bytes): the
 * header, the question, the kind's records, the OPT record when the query had one and the
 * answer is not lean. 0 if the question is longer than a question can be.
 */
PARSE_FN __u32 dns_answer_len(const struct dns_query *q, __u32 kind)
{
	__u32 qend = 12 + (__u32)q->wire + 4, lean = kind & DNS_ANS_LEAN, len;

	kind &= ~DNS_ANS_LEAN;
	if (qend > DNS_QEND_MAX)
		return 0;
	if (kind == DNS_ANS_A)
		len = qend + 16;
	else if (kind == DNS_ANS_AAAA)
		len = qend + 28;
	else if ((kind == DNS_ANS_NXDOMAIN || kind == DNS_ANS_NODATA) && !lean)
		len = qend + DNS_SOA_LEN;
	else
		len = qend;
	return len + (q->has_opt && !lean ? DNS_OPT_LEN : 0);
}

/*
 * One's complement sums of big-endian 16-bit words (the Internet checksum's, unfolded, in the
 * value space: the word at an even offset e is byte[e] << 8 | byte[e + 1]). dns_sum_fold()
 * folds a sum to 16 bits (not inverted); a block that starts at an odd offset adds its own
 * sum byte-swapped (RFC 1071: the sum does not depend on byte order).
 */
static inline __u32 dns_sum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)s;
}

static inline __u32 dns_sum_swap(__u32 v)
{
	return (v & 0xff) << 8 | (v >> 8 & 0xff);
}

/*
 * Store v big-endian at p + off (8, 16 or 32 bits) and add it to *s, the sum of a block that
 * starts at p: at an odd offset, its bytes fall in the other halves of the words.
 */
PARSE_FN void dns_put8s(__u8 *p, __u32 off, __u32 v, __u64 *s)
{
	p[off] = (__u8)v;
	*s += (off & 1) ? (v & 0xff) : (v & 0xff) << 8;
}

PARSE_FN void dns_put16s(__u8 *p, __u32 off, __u32 v, __u64 *s)
{
	dns_put16(p + off, v);
	*s += (off & 1) ? dns_sum_swap(v) : (v & 0xffff);
}

PARSE_FN void dns_put32s(__u8 *p, __u32 off, __u32 v, __u64 *s)
{
	dns_put32(p + off, v);
	*s += (off & 1) ? dns_sum_swap(v >> 16) + dns_sum_swap(v) : (v >> 16) + (v & 0xffff);
}

/*
 * Turn the query whose question sits at m + 12 (q->wire + 4 bytes, as the client sent it: its
 * case is kept) into the answer of kind, in place: header (the query's ID, QR and RA set,
 * opcode, RD and CD copied, the rcode; AA, TC, AD clear), the question untouched, the kind's
 * records behind it, and when the query had an OPT record, an OPT record (UDP size 1232, the
 * DO bit copied) carrying an Extended DNS Error option 15 "Blocked" (RFC 8914); with
 * DNS_ANS_LEAN, neither the SOA nor the OPT record. Records use a pointer to the question's
 * name. Nothing is written at or past end (the kernel passes the packet's end: every write is
 * bounds-checked where the verifier can see it). *sum gets the one's complement sum of every
 * byte written (the header and the records; the question's bytes are not read), as if m
 * started at an even offset (the kernel's UDP checksum adds the question's sum read in
 * place: no byte written here is read back). Returns the answer's length (that of
 * dns_answer_len), 0 if the question is longer than a question can be or the answer does not
 * fit before end.
 */
PARSE_FN __u32 dns_build_answer(__u8 *m, const void *end, const struct dns_query *q, __u32 kind,
				const struct dns_answer_cfg *c, __u64 *sum)
{
	__u32 qend = 12 + (__u32)q->wire + 4, an = 0, ns = 0, rcode = DNS_RCODE_NOERROR, i;
	__u32 lean = kind & DNS_ANS_LEAN, opt = q->has_opt && !lean;
	__u64 hs = 0, ts = 0; /* the header's sum; the records', from their start */
	__u8 *p;

	kind &= ~DNS_ANS_LEAN;
	if (qend > DNS_QEND_MAX || m + 12 > (const __u8 *)end)
		return 0;
	p = m + qend;
	if (p > (const __u8 *)end)
		return 0;
	if (kind == DNS_ANS_A || kind == DNS_ANS_AAAA) {
		__u32 alen = kind == DNS_ANS_A ? 4 : 16;

		if (p + 12 + 4 > (const __u8 *)end)
			return 0;
		dns_put16s(p, 0, 0xc00c, &ts);
		dns_put16s(p, 2, kind == DNS_ANS_A ? DNS_TYPE_A : DNS_TYPE_AAAA, &ts);
		dns_put16s(p, 4, DNS_CLASS_IN, &ts);
		dns_put32s(p, 6, c->ttl, &ts);
		dns_put16s(p, 10, alen, &ts);
		if (kind == DNS_ANS_A) {
			for (i = 0; i < 4; i++)
				dns_put8s(p + 12, i, c->a[i], &ts);
		} else {
			if (p + 12 + 16 > (const __u8 *)end)
				return 0;
			for (i = 0; i < 16; i++)
				dns_put8s(p + 12, i, c->aaaa[i], &ts);
		}
		p += 12 + alen;
		an = 1;
	} else if ((kind == DNS_ANS_NXDOMAIN || kind == DNS_ANS_NODATA) && lean) {
		if (kind == DNS_ANS_NXDOMAIN)
			rcode = DNS_RCODE_NXDOMAIN;
	} else if (kind == DNS_ANS_NXDOMAIN || kind == DNS_ANS_NODATA) {
		if (p + DNS_SOA_LEN > (const __u8 *)end)
			return 0;
		/* the SOA gives resolvers the negative-caching TTL: min(its TTL, its minimum) */
		dns_put16s(p, 0, 0xc00c, &ts);
		dns_put16s(p, 2, DNS_TYPE_SOA, &ts);
		dns_put16s(p, 4, DNS_CLASS_IN, &ts);
		dns_put32s(p, 6, c->ttl, &ts);
		dns_put16s(p, 10, 22, &ts);
		dns_put8s(p, 12, 0, &ts); /* MNAME: the root */
		dns_put8s(p, 13, 0, &ts); /* RNAME: the root */
		dns_put32s(p, 14, 1, &ts); /* serial */
		dns_put32s(p, 18, 3600, &ts); /* refresh */
		dns_put32s(p, 22, 600, &ts); /* retry */
		dns_put32s(p, 26, 86400, &ts); /* expire */
		dns_put32s(p, 30, c->ttl, &ts); /* minimum */
		p += DNS_SOA_LEN;
		ns = 1;
		if (kind == DNS_ANS_NXDOMAIN)
			rcode = DNS_RCODE_NXDOMAIN;
	} else {
		rcode = DNS_RCODE_REFUSED;
	}
	if (opt) {
		if (p + DNS_OPT_LEN > (const __u8 *)end)
			return 0;
		/* the records before it have even lengths: it starts at an even offset of theirs */
		dns_put8s(p, 0, 0, &ts);
		dns_put16s(p, 1, DNS_TYPE_OPT, &ts);
		dns_put16s(p, 3, 1232, &ts);
		dns_put8s(p, 5, 0, &ts); /* extended rcode */
		dns_put8s(p, 6, 0, &ts); /* version */
		dns_put8s(p, 7, (q->has_opt & DNS_OPT_DO) ? 0x80 : 0, &ts);
		dns_put8s(p, 8, 0, &ts);
		dns_put16s(p, 9, 6, &ts);
		dns_put16s(p, 11, DNS_EDNS_EDE, &ts);
		dns_put16s(p, 13, 2, &ts);
		dns_put16s(p, 15, DNS_EDE_BLOCKED, &ts);
		p += DNS_OPT_LEN;
	}
	dns_put16s(m, 0, q->id, &hs);
	dns_put16s(m, 2,
		   DNS_F_QR | DNS_F_RA | (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) | rcode,
		   &hs);
	dns_put16s(m, 4, 1, &hs);
	dns_put16s(m, 6, an, &hs);
	dns_put16s(m, 8, ns, &hs);
	dns_put16s(m, 10, opt, &hs);
	/* the records start where the question ends: at an odd offset, their sum is swapped */
	*sum = hs + ((qend & 1) ? dns_sum_swap(dns_sum_fold(ts)) : ts);
	return (__u32)(p - m);
}

#ifndef __BPF__
/* Host API: see the top of the file. */
static inline int dns_parse_query(const void *msg, const void *end, struct dns_query *q,
				  struct name_buf *nb)
{
	const __u8 *qname = (const __u8 *)msg + sizeof(struct hdr_dns);
	size_t avail;
	int ret;

	memset(q, 0, sizeof(*q));
	ret = dns_check_header(msg, end, q);
	if (ret)
		return ret;
	avail = (size_t)((const __u8 *)end - qname);
	if (avail > DNS_COPY_MAX)
		avail = DNS_COPY_MAX;
	memset(nb, 0, sizeof(*nb));
	memcpy(nb->b, qname, avail);
	ret = dns_question(nb, (__u32)avail, q);
	if (ret)
		return ret;
	name_lower(nb);
	q->has_opt = (__u8)dns_find_opt(msg, qname + q->wire + 4, end);
	return 0;
}
#endif

#endif
