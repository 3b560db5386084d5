/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DNS responses: the header, the question and the A/AAAA records of the answer section,
 * header-only and host-compilable (included by bpf/lib/learn.h, tests/unit/test_dnsresp.c,
 * tests/fuzz/fuzz_dnsresp.c, tests/tools/extract_answers.c). The guard learns the addresses a
 * name of a schedule-controlled category resolves to (bpf/lib/learn.h); this is what reads them.
 *
 * Host API:
 *   int dnsresp_parse(msg, end, &q, &nb, &w)
 *     msg..end is a DNS message (a UDP/53 payload; bytes past end are not read). Returns
 *       0                     a response (QR set, opcode QUERY, RCODE NOERROR, QDCOUNT 1,
 *                             ANCOUNT > 0) walked to its last answer record: q holds the
 *                             question (id, flags, qtype, qclass, the QNAME's wire length), nb
 *                             its name (dotted, lower case: bpf/lib/name.h), w->addr[0..n) every
 *                             A and AAAA record of class IN, in order, with its TTL (a CNAME
 *                             chain's addresses belong to the question: owners are not compared)
 *       DNSRESP_NOT_RESPONSE  QR clear, or another opcode than QUERY
 *       DNSRESP_RCODE         an error response (NXDOMAIN, SERVFAIL, REFUSED, ...)
 *       DNSRESP_NO_ANSWER     ANCOUNT 0 (NODATA, a referral)
 *       DNSRESP_PARTIAL       the walk stopped at a limit, not at a fault: DNSRESP_MAX_RRS
 *                             records, DNSRESP_STEPS steps, or the end of the copy
 *                             (DNSRESP_COPY_MAX) of a longer message; w holds the records
 *                             before it (the kernel learns them)
 *       -DNSRESP_E_*          the message is cut or malformed (enum dnsresp_error); nothing is
 *                             learned from it
 *   The kernel runs the same steps: dnsresp_check_header() on the packet, the question copied
 *   into the name buffer and read by dns_question() (bpf/lib/dns.h), the message copied into
 *   struct dnsresp_walk (maps/learn.h) and walked by dnsresp_walk().
 */
#ifndef BPFGUARD_BPF_LIB_DNSRESP_H
#define BPFGUARD_BPF_LIB_DNSRESP_H

#include "maps/learn.h"
#include "bpf/lib/dns.h"

/* Not errors: nothing to learn (dnsresp_check_header), or what the walk stopped at. */
#define DNSRESP_NOT_RESPONSE 1
#define DNSRESP_RCODE 2
#define DNSRESP_NO_ANSWER 3
#define DNSRESP_PARTIAL 4
#define DNSRESP_MORE 5 /* dnsresp_step(): a label or a record walked, go on */

/* Cut and malformed messages, returned negated. */
enum dnsresp_error {
	DNSRESP_E_HEADER = 1, /* the message ends inside the header */
	DNSRESP_E_QDCOUNT = 2, /* QDCOUNT is not 1 */
	DNSRESP_E_QNAME = 3, /* the question's name: a compression pointer, a reserved label type */
	DNSRESP_E_QNAME_LONG = 4, /* the question's name: over 255 bytes in wire form */
	DNSRESP_E_QCUT = 5, /* the message ends inside the question */
	DNSRESP_E_OWNER = 6, /* a record's owner name: a reserved label type, over 255 bytes */
	DNSRESP_E_RR_CUT = 7, /* the message ends inside a record (owner, fixed part or data) */
	DNSRESP_E_RDLEN = 8, /* an A record of class IN whose data is not 4 bytes, AAAA not 16 */
	DNSRESP_E_MAX_,
};

#define DNSRESP_ERR(e) (-(int)(e))

/*
 * The header of the message at msg (the packet, or a copy). Returns 0 for a response worth
 * walking (QR, QUERY, NOERROR, QDCOUNT 1, ANCOUNT > 0; *ancount set), DNSRESP_NOT_RESPONSE,
 * DNSRESP_RCODE, DNSRESP_NO_ANSWER, -DNSRESP_E_HEADER (fewer than 12 bytes and the question's
 * first byte), -DNSRESP_E_QDCOUNT.
 */
PARSE_FN int dnsresp_check_header(const void *msg, const void *end, __u16 *ancount)
{
	const struct hdr_dns *h = msg;
	__u16 flags;

	if ((const __u8 *)(h + 1) + 1 > (const __u8 *)end)
		return DNSRESP_ERR(DNSRESP_E_HEADER);
	flags = parse_ntohs(h->flags);
	if (!(flags & DNS_F_QR) || (flags & DNS_F_OPCODE))
		return DNSRESP_NOT_RESPONSE;
	if (flags & DNS_F_RCODE)
		return DNSRESP_RCODE;
	if (parse_ntohs(h->qdcount) != 1)
		return DNSRESP_ERR(DNSRESP_E_QDCOUNT);
	*ancount = parse_ntohs(h->ancount);
	if (*ancount == 0)
		return DNSRESP_NO_ANSWER;
	return 0;
}

/*
 * A walk that needs the bytes up to need (exclusive) and has fewer: the end of the copy of a
 * longer message (DNSRESP_PARTIAL), or of the message itself (-DNSRESP_E_RR_CUT).
 */
PARSE_FN int dnsresp_short(__u32 need, __u32 len)
{
	return need > len ? DNSRESP_ERR(DNSRESP_E_RR_CUT) : DNSRESP_PARTIAL;
}

/*
 * One step of the walk at w->pos: a label of an owner name (DNSRESP_MORE, w->pos past it), or
 * the end of the owner name and the record after it (DNSRESP_MORE, w->pos at the next record,
 * an A/AAAA record of class IN appended to w->addr). Returns 0 once ANCOUNT records are
 * walked, DNSRESP_PARTIAL at a limit, -DNSRESP_E_* for a cut or malformed record.
 *
 * Verifier notes: everything the walk carries from one step to the next is read from w (map
 * memory in the kernel) through NAME_LAUNDER, so the verifier sees one state per step, not
 * one per value a register could hold; positions are masked before every read.
 */
PARSE_FN int dnsresp_step(struct dnsresp_walk *w)
{
	__u32 pos = NAME_LAUNDER(w->pos), avail = NAME_LAUNDER(w->avail);
	__u32 len = NAME_LAUNDER(w->len), rr = NAME_LAUNDER(w->rr), c, type, klass, ttl, rdlen;
	const __u8 *p;

	if (rr >= w->ancount)
		return 0;
	if (rr >= DNSRESP_MAX_RRS)
		return DNSRESP_PARTIAL;
	if (pos >= avail)
		return dnsresp_short(pos + 1, len);
	NAME_CLAMP(pos, DNSRESP_POS_MASK); /* pos < avail <= DNSRESP_COPY_MAX */
	c = w->msg[pos];
	if ((c & 0xc0) == 0xc0) {
		/* a compression pointer ends the owner name (where it points is not read) */
		if (pos + 2 > avail)
			return dnsresp_short(pos + 2, len);
		pos += 2;
	} else if (c & 0xc0) {
		return DNSRESP_ERR(DNSRESP_E_OWNER);
	} else if (c) {
		__u32 owner = (__u32)NAME_LAUNDER(w->owner) + c + 1;

		/* the labels and the root byte: 255 bytes at most */
		if (owner >= NAME_MAX_WIRE)
			return DNSRESP_ERR(DNSRESP_E_OWNER);
		w->owner = (__u16)owner;
		w->pos = pos + c + 1;
		return DNSRESP_MORE;
	} else {
		pos += 1; /* the root label */
	}
	w->owner = 0;
	/* the fixed part: TYPE, CLASS, TTL, RDLENGTH */
	if (pos + 10 > avail)
		return dnsresp_short(pos + 10, len);
	NAME_CLAMP(pos, DNSRESP_POS_MASK); /* pos + 10 <= avail <= DNSRESP_COPY_MAX */
	p = w->msg + pos;
	type = (__u32)p[0] << 8 | p[1];
	klass = (__u32)p[2] << 8 | p[3];
	ttl = (__u32)p[4] << 24 | (__u32)p[5] << 16 | (__u32)p[6] << 8 | p[7];
	rdlen = (__u32)p[8] << 8 | p[9];
	if (pos + 10 + rdlen > avail)
		return dnsresp_short(pos + 10 + rdlen, len);
	if (klass == DNS_CLASS_IN && (type == DNS_TYPE_A || type == DNS_TYPE_AAAA)) {
		__u32 n = NAME_LAUNDER(w->n);
		struct dnsresp_addr *a;

		if (rdlen != (type == DNS_TYPE_A ? 4u : 16u))
			return DNSRESP_ERR(DNSRESP_E_RDLEN);
		/* n <= rr < DNSRESP_MAX_RRS: one address per record at most */
		NAME_CLAMP(n, DNSRESP_MAX_ADDRS - 1);
		a = &w->addr[n];
		a->family = type == DNS_TYPE_A ? 4 : 6;
		a->pad[0] = 0;
		a->pad[1] = 0;
		a->pad[2] = 0;
		/* RFC 2181 section 8: a TTL with the most significant bit set is 0 */
		a->ttl = (ttl & 0x80000000u) ? 0 : ttl;
		if (type == DNS_TYPE_A) {
			__builtin_memcpy(a->addr, p + 10, 4);
			__builtin_memset(a->addr + 4, 0, 12);
		} else {
			__builtin_memcpy(a->addr, p + 10, 16);
		}
		w->n = (__u16)(n + 1);
	}
	w->pos = pos + 10 + rdlen;
	w->rr = (__u16)(rr + 1);
	return DNSRESP_MORE;
}

#ifdef __BPF__
/* bpf_loop()'s context: the walk, and what its last step returned. */
struct dnsresp_loop {
	struct dnsresp_walk *w;
	int ret;
};

static long dnsresp_loop_step(__u64 i, void *ctx)
{
	struct dnsresp_loop *l = ctx;
	int ret = dnsresp_step(l->w);

	if (ret == DNSRESP_MORE)
		return 0;
	l->ret = ret;
	return 1;
}
#endif

/*
 * Walk the answer section of the message in w->msg (avail bytes copied of len) from w->pos,
 * ancount records: the A/AAAA records of class IN into w->addr[0..n). Returns 0,
 * DNSRESP_PARTIAL or -DNSRESP_E_* (dnsresp_step).
 *
 * Verifier workaround: in BPF the steps run through bpf_loop(), whose callback is verified as
 * one body; a bounded loop of DNSRESP_STEPS steps was verified step by step, every path of
 * each (some 86,000 instructions).
 */
PARSE_FN int dnsresp_walk(struct dnsresp_walk *w)
{
#ifdef __BPF__
	struct dnsresp_loop l = { .w = w, .ret = DNSRESP_MORE };

	bpf_loop(DNSRESP_STEPS, dnsresp_loop_step, &l, 0);
	if (l.ret != DNSRESP_MORE)
		return l.ret;
#else
	__u32 i;
	int ret;

	for (i = 0; i < DNSRESP_STEPS; i++) {
		ret = dnsresp_step(w);
		if (ret != DNSRESP_MORE)
			return ret;
	}
#endif
	/* every step walked: the last one may have finished the last record */
	return NAME_LAUNDER(w->rr) >= w->ancount ? 0 : DNSRESP_PARTIAL;
}

/*
 * Set w up for a walk of the message of len bytes whose first avail bytes are in w->msg, with
 * ancount answer records after a question whose name is qwire bytes long.
 */
PARSE_FN void dnsresp_walk_init(struct dnsresp_walk *w, __u32 len, __u32 avail, __u16 ancount,
				__u32 qwire)
{
	w->len = len;
	w->avail = avail;
	w->pos = sizeof(struct hdr_dns) + qwire + 4;
	w->ancount = ancount;
	w->rr = 0;
	w->owner = 0;
	w->n = 0;
	w->pad = 0;
}

#ifndef __BPF__
/* The question's errors (dns_question's counters) as the response parser's. */
static inline int dnsresp_question_error(int ret)
{
	if (ret == -(int)GC_PASS_NAME_TOO_LONG)
		return DNSRESP_ERR(DNSRESP_E_QNAME_LONG);
	if (ret == -(int)GC_PASS_NAME_TRUNCATED)
		return DNSRESP_ERR(DNSRESP_E_QCUT);
	return DNSRESP_ERR(DNSRESP_E_QNAME);
}

/* Host API: see the top of the file. */
static inline int dnsresp_parse(const void *msg, const void *end, struct dns_query *q,
				struct name_buf *nb, struct dnsresp_walk *w)
{
	const __u8 *qname = (const __u8 *)msg + sizeof(struct hdr_dns);
	size_t len = (size_t)((const __u8 *)end - (const __u8 *)msg), avail;
	__u16 ancount = 0;
	int ret;

	memset(q, 0, sizeof(*q));
	memset(nb, 0, sizeof(*nb));
	memset(w, 0, sizeof(*w));
	ret = dnsresp_check_header(msg, end, &ancount);
	if (ret)
		return ret;
	q->id = parse_ntohs(((const struct hdr_dns *)msg)->id);
	q->flags = parse_ntohs(((const struct hdr_dns *)msg)->flags);
	avail = len - sizeof(struct hdr_dns);
	if (avail > DNS_COPY_MAX)
		avail = DNS_COPY_MAX;
	memcpy(nb->b, qname, avail);
	ret = dns_question(nb, (__u32)avail, q);
	if (ret)
		return dnsresp_question_error(ret);
	name_lower(nb);
	avail = len > DNSRESP_COPY_MAX ? DNSRESP_COPY_MAX : len;
	memcpy(w->msg, msg, avail);
	dnsresp_walk_init(w, len > 0xffff ? 0xffff : (__u32)len, (__u32)avail, ancount, q->wire);
	return dnsresp_walk(w);
}

/* A name for a return value of dnsresp_parse(), for messages and tools. */
static inline const char *dnsresp_ret_name(int ret)
{
	static const char *const errs[DNSRESP_E_MAX_] = {
		[DNSRESP_E_HEADER] = "header-cut",     [DNSRESP_E_QDCOUNT] = "qdcount",
		[DNSRESP_E_QNAME] = "qname-malformed", [DNSRESP_E_QNAME_LONG] = "qname-too-long",
		[DNSRESP_E_QCUT] = "question-cut",     [DNSRESP_E_OWNER] = "owner-malformed",
		[DNSRESP_E_RR_CUT] = "record-cut",     [DNSRESP_E_RDLEN] = "rdlength",
	};

	switch (ret) {
	case 0:
		return "ok";
	case DNSRESP_NOT_RESPONSE:
		return "not-response";
	case DNSRESP_RCODE:
		return "rcode";
	case DNSRESP_NO_ANSWER:
		return "no-answer";
	case DNSRESP_PARTIAL:
		return "partial";
	default:
		if (ret < 0 && -ret < DNSRESP_E_MAX_ && errs[-ret])
			return errs[-ret];
		return "unknown";
	}
}
#endif

#endif
