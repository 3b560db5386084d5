/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS ClientHello: the server_name (SNI) through a resumable walk, so that a ClientHello split
 * over several TCP segments (every post-quantum one: X25519MLKEM768 key shares make it ~1.6 KB)
 * is followed segment by segment with the 32-byte struct tls_walk (maps/flow.h) kept between
 * them. Header-only and host-compilable: included by bpf/lib/names.h, by
 * tests/unit/test_tls.c and tests/fuzz/fuzz_tls.c.
 *
 * Host API:
 *   int tls_sni(data, end, &nb)
 *     data..end is the start of a TCP stream (a first segment, or segments concatenated).
 *     Returns TLS_NAME (nb holds the SNI, dotted, lower case), TLS_NONE (a ClientHello without
 *     a host_name SNI), TLS_NOT_HELLO (not a TLS handshake record holding a ClientHello),
 *     TLS_MORE (the bytes end before the SNI), or -counter (below).
 *   int tls_walk(&w, seg, seg_end, &span)
 *     One segment of the stream, w zeroed before the first (phase TLS_PH_RECORD). Returns
 *       TLS_MORE       the segment ended first; w says where the walk resumes. When the name
 *                      itself is cut, span holds the part in this segment: span.len bytes at
 *                      seg + span.off, to be saved at name[span.save_at] (w.name_have counts
 *                      them already)
 *       TLS_PART       the name is cut by the end of a TLS record inside the segment: save
 *                      the part in span as for TLS_MORE, then go on in the same segment with
 *                      tls_walk_resume(&w, seg, seg_end, &span) (at most TLS_PARTS_MAX + 1
 *                      times: a name cut by more than TLS_PARTS_MAX records is UNSUPPORTED)
 *       TLS_NAME       the SNI is complete: the w.name_len - span.len bytes saved before, then
 *                      span.len bytes at seg + span.off
 *       TLS_NONE, TLS_NOT_HELLO as above
 *       -counter       PASS_TLS_MALFORMED (lengths that do not nest, a record of another kind
 *                      or an empty one between the hello's records), PASS_TLS_UNSUPPORTED
 *                      (more than TLS_FIELDS_MAX fields and records before the SNI, a segment
 *                      over TLS_SEG_MAX bytes), PASS_NAME_TOO_LONG (an SNI over 254 bytes)
 *     w.flags gets TLS_F_ECH when an encrypted_client_hello extension (0xfe0d) is walked over.
 *   int tls_walk_saving(&w, seg, seg_end, &span, saved)
 *     tls_walk() that saves every part of a cut name in saved[] itself (TLS_PART, and the
 *     last part at TLS_MORE): returns TLS_MORE, TLS_NAME (the parts before in saved[]) and the
 *     rest as tls_walk().
 *
 * What is walked: record header (type 22, version 3.x, length), handshake header (type 1),
 * version and random, session id, cipher suites, compression methods, then extension headers
 * until server_name (type 0), whose first entry must be a host_name. The walk stops at the
 * SNI: extensions after it (ECH among them) are not looked at. The ClientHello may be spread
 * over several handshake records (a trick of some filter-evasion tools, e.g. a record boundary
 * inside the SNI): the walk reads each record's header where the last one ends (w.rec_left)
 * and goes on with the hello's bytes in the next; each header counts as a field.
 */
#ifndef BPFGUARD_BPF_LIB_TLS_H
#define BPFGUARD_BPF_LIB_TLS_H

#include "bpf/lib/name.h"

#define TLS_CONTENT_HANDSHAKE 0x16
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0x0000
#define TLS_EXT_ECH 0xfe0d
#define TLS_SNI_HOST_NAME 0

/* tls_walk() results (>= 0); errors are -counter. */
#define TLS_MORE 0
#define TLS_NAME 1
#define TLS_NONE 2
#define TLS_NOT_HELLO 3
#define TLS_PART 5 /* (4 is the fast walk's TLS_SLOW) */

#define TLS_F_ECH 0x01

enum tls_phase {
	TLS_PH_RECORD = 0, /* 5 bytes: content type, version, length */
	TLS_PH_HANDSHAKE = 1, /* 4 bytes: type, 24-bit length; then skip version + random */
	TLS_PH_SESSION_ID = 2, /* 1 byte: length; skip the id */
	TLS_PH_CIPHERS = 3, /* 2 bytes: length; skip the suites */
	TLS_PH_COMPRESSION = 4, /* 1 byte: length; skip the methods */
	TLS_PH_EXTS = 5, /* 2 bytes: length of the extensions block */
	TLS_PH_EXT = 6, /* 4 bytes: extension type and length */
	TLS_PH_SNI = 7, /* 5 bytes: server_name list length, name type, name length */
	TLS_PH_NAME = 8, /* the host name's bytes */
	TLS_PH_DONE = 9,
};

/* Field size by phase, a nibble each: 5 4 1 2 1 2 4 5 0 from phase 0 up. */
#define TLS_FIELD_SIZES 0x054212145ull
#define tls_field_size(phase) ((__u32)((TLS_FIELD_SIZES >> ((phase)*4)) & 0xf))

#define TLS_FIELDS_MAX 64 /* fields walked over all segments before giving up */
/*
 * Loop bound for one segment, never the one that stops: the fields and record headers (the
 * field limit; a step that ends at a record's end reads the next header too), the name, the
 * bytes of a header cut by the segment (a byte a step), one more.
 */
#define TLS_STEPS_MAX (TLS_FIELDS_MAX + 6)
#define TLS_SEG_MAX 0x3fff /* segment bytes walked (offsets are masked to this) */
/* Record headers inside the SNI (each cuts it: TLS_PART): more is PASS_TLS_UNSUPPORTED. */
#define TLS_PARTS_MAX 8
#define TLS_RANDOM_LEN 34 /* legacy_version + random */

/* Big-endian 8 bytes at p as a number (p unaligned). */
static inline __u64 tls_be64(const __u8 *p)
{
	return __builtin_bswap64(name_load64(p));
}

/*
 * Take size bytes of the ClientHello body for a field (hs_left counts the body); -MALFORMED
 * when the body is shorter.
 */
static inline int tls_take(struct tls_walk *w, __u32 size)
{
	if (size > w->hs_left)
		return NAME_ERR(PASS_TLS_MALFORMED);
	w->hs_left -= size;
	return 0;
}

/*
 * Act on field v of the current phase (its size already taken from the segment). Returns -1
 * to continue the walk, or a tls_walk() result.
 */
static inline int tls_field(struct tls_walk *w, __u64 v)
{
	__u32 len, type;

	switch (w->phase) {
	case TLS_PH_RECORD:
		if ((v >> 32) != TLS_CONTENT_HANDSHAKE || ((v >> 24) & 0xff) != 3 ||
		    ((v >> 16) & 0xff) > 4)
			return TLS_NOT_HELLO;
		/* the first record's payload: the hello may go on in the next records */
		w->rec_left = (__u16)(v & 0xffff);
		if (!w->rec_left)
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->phase = TLS_PH_HANDSHAKE;
		return -1;
	case TLS_PH_HANDSHAKE:
		if ((v >> 24) != TLS_HS_CLIENT_HELLO)
			return TLS_NOT_HELLO;
		len = (__u32)(v & 0xffffff);
		if (len < TLS_RANDOM_LEN + 4)
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->hs_left = len - TLS_RANDOM_LEN;
		w->skip = TLS_RANDOM_LEN;
		w->phase = TLS_PH_SESSION_ID;
		return -1;
	case TLS_PH_SESSION_ID:
	case TLS_PH_CIPHERS:
	case TLS_PH_COMPRESSION:
		len = (__u32)v;
		if (tls_take(w, tls_field_size(w->phase)) || tls_take(w, len) ||
		    (w->phase == TLS_PH_SESSION_ID && len > 32) ||
		    (w->phase == TLS_PH_CIPHERS && (len < 2 || (len & 1))) ||
		    (w->phase == TLS_PH_COMPRESSION && len < 1))
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->skip = len;
		w->phase++;
		/* a ClientHello may end after the compression methods: no extensions */
		if (w->phase == TLS_PH_EXTS && w->hs_left == 0)
			return TLS_NONE;
		return -1;
	case TLS_PH_EXTS:
		len = (__u32)v;
		if (tls_take(w, 2) || len > w->hs_left)
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->ext_left = len;
		w->phase = TLS_PH_EXT;
		return len ? -1 : TLS_NONE;
	case TLS_PH_EXT:
		type = (__u32)(v >> 16);
		len = (__u32)(v & 0xffff);
		if (w->ext_left < 4 || len > w->ext_left - 4)
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->ext_left -= 4 + len;
		if (type == TLS_EXT_SERVER_NAME) {
			if (len < 5)
				return NAME_ERR(PASS_TLS_MALFORMED);
			w->name_len = (__u16)len; /* the extension's length until the SNI header */
			w->phase = TLS_PH_SNI;
			return -1;
		}
		if (type == TLS_EXT_ECH)
			w->flags |= TLS_F_ECH;
		w->skip = len;
		/* the last extension: nothing left to skip to */
		return w->ext_left ? -1 : TLS_NONE;
	case TLS_PH_SNI:
		len = (__u32)(v & 0xffff); /* name length */
		type = (__u32)((v >> 16) & 0xff);
		if (((v >> 24) & 0xffff) + 2 > w->name_len || len + 3 > ((v >> 24) & 0xffff))
			return NAME_ERR(PASS_TLS_MALFORMED);
		if (type != TLS_SNI_HOST_NAME)
			return TLS_NONE;
		if (len == 0)
			return NAME_ERR(PASS_TLS_MALFORMED);
		if (len > NAME_MAX_LEN + 1) /* 253 and an absolute name's dot */
			return NAME_ERR(PASS_NAME_TOO_LONG);
		w->name_len = (__u16)len;
		w->name_have = 0;
		w->phase = TLS_PH_NAME;
		return -1;
	default:
		return NAME_ERR(PASS_TLS_MALFORMED);
	}
}

/*
 * One step of the walk: a skip and one field, or the name's bytes. Returns -1 to go on, or a
 * tls_walk() result.
 *
 * Verifier workaround: the offset in the segment and its length are read from memory (w and
 * span) at each step and the offset written back: in registers, the ranges the comparisons
 * give them would be carried into the next step, different on every path, and the walk would
 * be verified once per combination (over 600,000 instructions); from memory they are unknown
 * numbers again, and every step is verified once per field kind.
 */
static inline int tls_step(struct tls_walk *w, const __u8 *seg, const __u8 *end,
			   struct tls_span *span)
{
	__u32 off = NAME_LAUNDER(w->seg_off), seglen = NAME_LAUNDER(span->seg_len), size, k;
	const __u8 *q;
	__u64 v;
	int ret;

	if (off > seglen)
		return NAME_ERR(PASS_TLS_MALFORMED);
	if (w->skip) {
		if (w->skip >= seglen - off) {
			w->skip -= seglen - off;
			return TLS_MORE;
		}
		off += w->skip;
		w->skip = 0;
	}
	if (w->phase == TLS_PH_NAME) {
		__u32 want = (__u32)w->name_len - w->name_have;

		span->off = off;
		span->save_at = w->name_have;
		if (seglen - off < want) {
			span->len = seglen - off;
			w->name_have += (__u16)span->len;
			return TLS_MORE;
		}
		span->len = want;
		w->phase = TLS_PH_DONE;
		return TLS_NAME;
	}
	if (w->phase > TLS_PH_SNI)
		return NAME_ERR(PASS_TLS_MALFORMED);
	if (++w->steps > TLS_FIELDS_MAX)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	size = tls_field_size(w->phase);
	NAME_CLAMP(off, TLS_SEG_MAX);
	q = seg + off;
	if (w->have == 0 && off + 8 <= seglen && q + 8 <= end) {
		/* the whole field and more in the segment: one load */
		v = tls_be64(q) >> (64 - size * 8);
		off += size;
	} else {
		/* near the end of the segment: a byte at a time, resumable */
		for (k = 0; k < 5; k++) {
			if (w->have >= size)
				break;
			NAME_CLAMP(off, TLS_SEG_MAX);
			q = seg + off;
			if (off >= seglen || q + 1 > end) {
				w->steps--; /* counted when it completes */
				return TLS_MORE;
			}
			w->acc = w->acc << 8 | *q;
			w->have++;
			off++;
		}
		v = w->acc;
		w->acc = 0;
		w->have = 0;
	}
	w->seg_off = off;
	ret = tls_field(w, v);
	return ret;
}

/*
 * The header of the next TLS record, where the last one ended (w->rec_left 0), at
 * seg + w->seg_off: all 5 bytes at once when the segment holds them, else one byte a step,
 * resumable across segments (rh_have, rh_len). A handshake record (22, 3.x) of 1 byte or
 * more; it counts as a field. Returns -1 to go on (w->rec_left set once the header is
 * complete), TLS_MORE when the segment ends first, or -counter.
 */
static inline int tls_record_header(struct tls_walk *w, const __u8 *seg, __u32 seglen,
				    const __u8 *end)
{
	__u32 off = NAME_LAUNDER(w->seg_off), have = w->rh_have, c;
	const __u8 *q;

	NAME_CLAMP(off, TLS_SEG_MAX);
	q = seg + off;
	if (!have && off + 5 <= seglen && q + 5 <= end) {
		if (q[0] != TLS_CONTENT_HANDSHAKE || q[1] != 3 || q[2] > 4)
			return NAME_ERR(PASS_TLS_MALFORMED);
		w->rh_len = (__u16)(q[3] << 8 | q[4]);
		off += 5;
	} else {
		/* a header cut by the segment: a byte now, the next one at the next step */
		if (off >= seglen || q + 1 > end)
			return TLS_MORE;
		c = *q;
		/* another kind of record (or an SSL 2 one) inside a ClientHello */
		if ((have == 0 && c != TLS_CONTENT_HANDSHAKE) || (have == 1 && c != 3) ||
		    (have == 2 && c > 4))
			return NAME_ERR(PASS_TLS_MALFORMED);
		if (have >= 3)
			w->rh_len = (__u16)(w->rh_len << 8 | c);
		w->rh_have = (__u8)(have + 1);
		w->seg_off = off + 1;
		if (have + 1 < 5)
			return -1;
		off++;
	}
	w->seg_off = off;
	if (!w->rh_len)
		return NAME_ERR(PASS_TLS_MALFORMED); /* an empty handshake record: never sent */
	if (++w->steps > TLS_FIELDS_MAX)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	/* inside the name (some of it seen): one more part to save, whatever the segments */
	if (w->phase == TLS_PH_NAME && w->name_have && ++w->name_cuts > TLS_PARTS_MAX)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	w->rec_left = w->rh_len;
	w->rh_len = 0;
	w->rh_have = 0;
	return -1;
}

/*
 * One step (tls_step) over the bytes of the current record in the segment: the step reads up
 * to the segment's end or the record's, whichever comes first (span->seg_len). A record that
 * ends inside the segment: the next one's header is read at once. Returns -1 to go on,
 * TLS_PART (span holds a part of the name: the rest is in the next record), or a tls_walk()
 * result.
 */
static inline int tls_record_step(struct tls_walk *w, const __u8 *seg, __u32 seglen,
				  const __u8 *end, struct tls_span *span)
{
	__u32 off = NAME_LAUNDER(w->seg_off), stop = seglen, used;
	int first = w->phase == TLS_PH_RECORD, ret;

	if (off > seglen)
		return NAME_ERR(PASS_TLS_MALFORMED);
	if (!first && !w->rec_left)
		return tls_record_header(w, seg, seglen, end);
	if (!first && seglen - off > w->rec_left)
		stop = off + w->rec_left;
	span->seg_len = stop;
	ret = tls_step(w, seg, end, span);
	/* the first record's header is no record's payload; the name ends the walk */
	if (first || (ret != -1 && ret != TLS_MORE))
		return ret;
	used = (ret == TLS_MORE ? stop : NAME_LAUNDER(w->seg_off)) - off;
	w->rec_left = (__u16)(w->rec_left - used);
	if (ret == -1 || stop == seglen)
		return ret;
	/* the record ends inside the segment: the next record's header follows */
	w->seg_off = stop;
	if (span->len)
		return TLS_PART;
	return tls_record_header(w, seg, seglen, end);
}

/* The steps of a segment from w->seg_off (tls_walk_slow, tls_walk_resume). */
static inline int tls_walk_steps(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
				 struct tls_span *span)
{
	__u32 i;

	for (i = 0; i < TLS_STEPS_MAX; i++) {
		int ret = tls_record_step(w, seg, seglen, end, span);

		if (ret != -1)
			return ret;
	}
	return NAME_ERR(PASS_TLS_UNSUPPORTED);
}

/*
 * The resumable walk of one segment, step by step (tls_step), seglen bytes from seg, end the
 * frame's end: what tls_walk_len() falls back to, and the reference the host tests hold the
 * fast walk to.
 */
PARSE_FN int tls_walk_slow(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
			   struct tls_span *span)
{
	span->len = 0;
	if (seglen > TLS_SEG_MAX)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	span->seg_len = seglen;
	w->seg_off = 0;
	return tls_walk_steps(w, seg, seglen, end, span);
}

/* After TLS_PART: the same segment, on from where the walk stopped (see the top of the file). */
PARSE_FN int tls_walk_resume(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
			     struct tls_span *span)
{
	span->len = 0;
	if (seglen > TLS_SEG_MAX)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	return tls_walk_steps(w, seg, seglen, end, span);
}

/* tls_walk_fast(): not the plain case, the resumable walk (tls_step) takes the segment. */
#define TLS_SLOW 4

/* Big-endian 16 and 24-bit numbers at p. */
PARSE_FN __u32 tls_be16(const __u8 *p)
{
	return (__u32)p[0] << 8 | p[1];
}

/* A big-endian 32-bit number at p (unaligned): one load and a byte swap. */
PARSE_FN __u32 tls_be32(const __u8 *p)
{
	__u32 v;

#ifdef __BPF__
	v = *(const __u32 *)(const void *)p;
#else
	memcpy(&v, p, sizeof(v));
#endif
	return __builtin_bswap32(v);
}

/*
 * The fast walk over the extension headers of a ClientHello, from offset off of the segment
 * (an extension header; ext_left bytes of the extensions block from there, steps fields
 * walked; the current TLS record ends at segment offset rec_end): each header read where it
 * stands, the walk's state in registers, to the SNI and the name. Returns TLS_NAME, or
 * TLS_MORE when an extension's data runs past the segment (inside its record), with w and span
 * exactly as the resumable walk leaves them; TLS_SLOW for anything else (a header or the name
 * cut by the segment's end, anything past the record's, no SNI, lengths that do not nest, the
 * field limit): tls_step() then walks the segment and gives the answer.
 * Sets TLS_F_ECH in w->flags on the way, as the resumable walk does over the same headers
 * (past a record's end, what it reads as headers is not: it then returns TLS_SLOW, and
 * tls_walk_len() puts the flags back).
 *
 * Verifier notes: one path goes on through each iteration (the ECH flag is memory, and no
 * branch narrows a value the next iteration reads), so the loop is verified once per
 * iteration.
 */
PARSE_FN int tls_exts_fast(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
			   struct tls_span *span, __u32 off, __u32 ext_left, __u32 steps,
			   __u32 rec_end)
{
	/*
	 * Where the extensions block ends (ext_end). Each header is compared with the segment's
	 * end only, each extension's data with the block's only when it reaches the segment's
	 * end or the block's (or is the SNI's): a header past the block or the record (lengths
	 * that do not nest, a record ending in the segment) leads to one of the tests below
	 * that give the resumable walk the segment, before anything is decided (the SNI's
	 * data, and a state to resume from, are within both). One state for the verifier: no
	 * bound is taken as the least of several.
	 */
	__u32 ext_end = off + ext_left, i, type, len = 0, next = off, list, name;
	const __u8 *q;

	for (i = 0; i < TLS_FIELDS_MAX; i++) {
		if (steps + i >= TLS_FIELDS_MAX || off + 4 > seglen)
			return TLS_SLOW;
		NAME_CLAMP(off, TLS_SEG_MAX); /* off + 4 <= seglen <= TLS_SEG_MAX */
		q = seg + off;
		if (q + 4 > end)
			return TLS_SLOW;
		/* type and length in one load: the chain from one header to the next is short */
		type = tls_be32(q);
		len = type & 0xffff;
		type >>= 16;
		off += 4;
		next = off + len;
		/* (data past the block: the resumable walk refuses it before it looks further) */
		if (type == TLS_EXT_SERVER_NAME) {
			if (next > ext_end)
				return TLS_SLOW;
			break;
		}
		/* a header past the record's end may be read here: tls_walk_len() undoes it */
		if (type == TLS_EXT_ECH)
			w->flags |= TLS_F_ECH;
		if (next >= seglen || next >= ext_end) {
			/*
			 * The last extension (the resumable walk says), data past the block or
			 * its record: the resumable walk. Else its data runs to or past the
			 * segment's end (a split hello's first segment ends in its key share):
			 * the walk's state where the resumable walk leaves it, the rest of this
			 * extension to skip in the next segment.
			 */
			if (next >= ext_end || next > rec_end)
				return TLS_SLOW;
			w->acc = 0;
			w->skip = next - seglen;
			w->ext_left = ext_end - next;
			w->name_len = 0;
			w->name_have = 0;
			w->phase = TLS_PH_EXT;
			w->have = 0;
			w->steps = (__u8)(steps + i + 1);
			w->seg_off = off;
			w->rec_left = (__u16)(rec_end - seglen);
			span->len = 0;
			return TLS_MORE;
		}
		off = next;
	}
	ext_left = ext_end - next;
	/* the server_name extension's header: list length, name type, name length */
	steps += i + 1;
	if (i == TLS_FIELDS_MAX || steps >= TLS_FIELDS_MAX || len < 5 || off > TLS_SEG_MAX - 5 ||
	    off + 5 > seglen)
		return TLS_SLOW;
	NAME_CLAMP(off, TLS_SEG_MAX);
	q = seg + off;
	if (q + 5 > end)
		return TLS_SLOW;
	list = tls_be16(q);
	name = tls_be16(q + 3);
	if (list + 2 > len || name + 3 > list || q[2] != TLS_SNI_HOST_NAME || name == 0 ||
	    name > NAME_MAX_LEN + 1)
		return TLS_SLOW;
	off += 5;
	if (seglen - off < name || off + name > rec_end)
		return TLS_SLOW;
	/* the resumable walk's state after the name: the same, field by field */
	w->acc = 0;
	w->skip = 0;
	w->ext_left = ext_left;
	w->name_len = (__u16)name;
	w->name_have = 0;
	w->phase = TLS_PH_DONE;
	w->have = 0;
	w->steps = (__u8)(steps + 1);
	w->seg_off = off;
	w->rec_left = (__u16)(rec_end - off);
	span->off = off;
	span->len = name;
	span->save_at = 0;
	return TLS_NAME;
}

/*
 * The fast walk of a segment: a first segment that holds the whole ClientHello up to the end
 * of the SNI (w fresh), or the next segment of a followed hello whose walk stopped between
 * extensions (the usual split: inside a large key share). Returns TLS_NAME, TLS_MORE (a first
 * segment that ends inside an extension: the rest to skip next), or TLS_SLOW for every other
 * case and outcome: tls_step() then walks the segment from w as it was (but w->flags may have
 * gained TLS_F_ECH: tls_walk_len() puts them back).
 * The fields before the extensions are checked as tls_field() checks them, in its order.
 */
PARSE_FN int tls_walk_fast(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
			   struct tls_span *span)
{
	__u32 hs_left, len, off, sid, ciphers, comp, exts;

	if (seglen > TLS_SEG_MAX || w->have)
		return TLS_SLOW;
	if (w->phase == TLS_PH_EXT) {
		/* resumed between extensions (inside a record): the rest of one to skip first */
		if (w->skip >= seglen || !w->rec_left || w->rh_have)
			return TLS_SLOW;
		span->seg_len = seglen;
		return tls_exts_fast(w, seg, seglen, end, span, w->skip, w->ext_left, w->steps,
				     w->rec_left);
	}
	if (w->phase != TLS_PH_RECORD || w->steps || w->skip)
		return TLS_SLOW;
	/* record header (5), handshake header (4), version and random (34), session id length */
	if (seglen < 5 + 4 + TLS_RANDOM_LEN + 1 || seg + 5 + 4 + TLS_RANDOM_LEN + 1 > end)
		return TLS_SLOW;
	if (seg[0] != TLS_CONTENT_HANDSHAKE || seg[1] != 3 || seg[2] > 4 ||
	    seg[5] != TLS_HS_CLIENT_HELLO)
		return TLS_SLOW;
	hs_left = tls_be16(seg + 3);
	len = (__u32)seg[6] << 16 | tls_be16(seg + 7);
	if (len + 4 > hs_left || len < TLS_RANDOM_LEN + 4)
		return TLS_SLOW;
	hs_left = len - TLS_RANDOM_LEN;
	off = 5 + 4 + TLS_RANDOM_LEN;
	sid = seg[off];
	if (hs_left < 1 || sid > hs_left - 1 || sid > 32)
		return TLS_SLOW;
	hs_left -= 1 + sid;
	off += 1;
	/* the session id, then the cipher suites' length */
	if (sid >= seglen - off || off + sid + 2 > seglen)
		return TLS_SLOW;
	off += sid;
	NAME_CLAMP(off, 0x7f); /* 44 + 32 at most */
	if (seg + off + 2 > end)
		return TLS_SLOW;
	ciphers = tls_be16(seg + off);
	if (hs_left < 2 || ciphers > hs_left - 2 || ciphers < 2 || (ciphers & 1))
		return TLS_SLOW;
	hs_left -= 2 + ciphers;
	off += 2;
	/* the suites, then the compression methods' length */
	if (ciphers >= seglen - off || off + ciphers + 1 > seglen)
		return TLS_SLOW;
	off += ciphers;
	NAME_CLAMP(off, TLS_SEG_MAX);
	if (seg + off + 1 > end)
		return TLS_SLOW;
	comp = seg[off];
	if (hs_left < 1 || comp > hs_left - 1 || comp < 1)
		return TLS_SLOW;
	hs_left -= 1 + comp;
	off += 1;
	/* no extensions (TLS_NONE), or the methods, then the extensions' length */
	if (!hs_left || comp >= seglen - off || off + comp + 2 > seglen)
		return TLS_SLOW;
	off += comp;
	NAME_CLAMP(off, TLS_SEG_MAX);
	if (seg + off + 2 > end)
		return TLS_SLOW;
	exts = tls_be16(seg + off);
	if (hs_left < 2 || exts > hs_left - 2 || !exts)
		return TLS_SLOW;
	w->hs_left = hs_left - 2;
	span->seg_len = seglen;
	/* the whole hello is in the first record (checked above): it ends after it */
	return tls_exts_fast(w, seg, seglen, end, span, off + 2, exts, 6, 5 + tls_be16(seg + 3));
}

/*
 * tls_walk() with the segment's length given: seglen bytes from seg, end the frame's end
 * (>= seg + seglen: a frame may carry padding after the segment). The kernel calls this form:
 * its reads are checked against end, the frame's end, which the verifier knows. The fast walk
 * first (tls_walk_fast), the resumable one for whatever it leaves.
 */
PARSE_FN int tls_walk_len(struct tls_walk *w, const __u8 *seg, __u32 seglen, const __u8 *end,
			  struct tls_span *span)
{
	__u8 flags = w->flags;
	int ret;

	span->len = 0;
	ret = tls_walk_fast(w, seg, seglen, end, span);
	if (ret != TLS_SLOW)
		return ret;
	/* the fast walk may have noted ECH in a header it read past a record's end */
	w->flags = flags;
	return tls_walk_slow(w, seg, seglen, end, span);
}

/* See the top of the file. */
PARSE_FN int tls_walk(struct tls_walk *w, const __u8 *seg, const __u8 *end, struct tls_span *span)
{
	return tls_walk_len(w, seg, (__u32)(end - seg), end, span);
}

/*
 * A first look at a segment of plen payload bytes: does it start like a TLS handshake record
 * (22, 3, 0..4) holding a ClientHello? A segment shorter than 6 bytes is judged by the bytes it
 * has: clients that split their ClientHello after byte 1, 2 or 5 (to evade filters) must still
 * be followed. Reads only bytes of the payload (a short segment's frame is padded with zeros).
 */
static inline int tls_looks_like_hello(const __u8 *p, const void *end, __u32 plen)
{
	if (plen == 0 || p + 1 > (const __u8 *)end || p[0] != TLS_CONTENT_HANDSHAKE)
		return 0;
	if (plen < 2)
		return 1;
	if (p + 2 > (const __u8 *)end || p[1] != 3)
		return 0;
	if (plen < 3)
		return 1;
	if (p + 3 > (const __u8 *)end || p[2] > 4)
		return 0;
	if (plen < 6)
		return 1;
	if (p + 6 > (const __u8 *)end)
		return 0;
	return p[5] == TLS_HS_CLIENT_HELLO;
}

#ifndef __BPF__
/* Host API: see the top of the file. saved has room for FLOW_NAME_LEN bytes. */
static inline int tls_walk_saving(struct tls_walk *w, const __u8 *seg, const __u8 *end,
				  struct tls_span *span, __u8 *saved)
{
	int ret = tls_walk(w, seg, end, span), k;

	for (k = 0; k < TLS_PARTS_MAX + 1 && ret == TLS_PART; k++) {
		memcpy(saved + span->save_at, seg + span->off, span->len);
		ret = tls_walk_resume(w, seg, (__u32)(end - seg), end, span);
	}
	if (ret == TLS_PART)
		return NAME_ERR(PASS_TLS_UNSUPPORTED);
	if (ret == TLS_MORE && span->len)
		memcpy(saved + span->save_at, seg + span->off, span->len);
	return ret;
}

/* Host API: see the top of the file. */
static inline int tls_sni(const void *data, const void *end, struct name_buf *nb)
{
	struct tls_walk w;
	struct tls_span span = { 0 };
	__u32 before;
	int ret;

	memset(&w, 0, sizeof(w));
	memset(nb, 0, sizeof(*nb));
	/* the parts of a name cut by records go straight to their places in nb */
	ret = tls_walk_saving(&w, data, end, &span, nb->b + 1);
	if (ret != TLS_NAME)
		return ret;
	before = (__u32)w.name_len - span.len;
	memcpy(nb->b + 1 + before, (const __u8 *)data + span.off, span.len);
	ret = name_from_dotted(nb, w.name_len);
	if (ret)
		return ret;
	name_lower(nb);
	return TLS_NAME;
}
#endif

#endif
