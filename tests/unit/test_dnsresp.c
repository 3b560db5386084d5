// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DNS response parser of bpf/lib/dnsresp.h compiled on the host: crafted responses (A,
 * AAAA, CNAME chains, other types and classes, owner names as pointers, labels or the root,
 * TTLs, the limits: records, steps, the copy), every malformed shape with its code, every cut
 * of every fixture at every byte, and a differential against a plain reference walker written
 * here over randomly mutated responses.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bpf/lib/dnsresp.h"

#define E(x) DNSRESP_ERR(DNSRESP_E_##x)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define MSG_MAX 16384
#define T_CNAME 5
#define T_TXT 16
#define T_RRSIG 46
#define C_CH 3

/* --- a response builder --- */

enum owner_kind { OWN_PTR = 0, OWN_NAME, OWN_ROOT, OWN_WIRE };

struct rr_spec {
	int owner; /* enum owner_kind; OWN_PTR: 0xc00c */
	const char *owner_name; /* OWN_NAME: text, uncompressed */
	const __u8 *owner_wire; /* OWN_WIRE: raw bytes */
	size_t owner_wire_len;
	__u16 type, klass; /* klass 0: IN */
	__u32 ttl;
	const char *addr; /* A/AAAA: text; else: */
	const char *target; /* CNAME: text, uncompressed */
	size_t rdlen; /* other types (and A/AAAA with rdata_raw): bytes of filler */
	bool rdata_raw; /* A/AAAA: rdlen bytes of filler instead of addr */
};

#define RR_MAX 40
struct resp_spec {
	__u16 id;
	__u16 flags; /* 0: 0x8180 (QR, RD, RA, NOERROR) */
	bool qd_set; /* use qdcount as given */
	__u16 qdcount;
	bool an_set; /* use ancount as given, else the records written */
	__u16 ancount;
	const char *qname; /* text, mixed case kept */
	const __u8 *qwire; /* or raw */
	size_t qwire_len;
	__u16 qtype;
	struct rr_spec rr[RR_MAX];
	int n_rr;
	bool tail; /* an authority SOA and an additional OPT record after the answers */
};

/* What the builder wrote where: for the cuts. */
struct resp_layout {
	size_t len;
	size_t qend; /* the question's end */
	size_t aend; /* the answer section's end */
};

static size_t name_wire(const char *name, __u8 *out)
{
	size_t n = 0;
	const char *p = name, *dot;

	while (*p) {
		size_t l;

		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		out[n++] = (__u8)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

static void put16(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static size_t build(__u8 *m, const struct resp_spec *s, struct resp_layout *lay)
{
	size_t n = 12;
	int i;

	memset(m, 0, MSG_MAX);
	put16(m, s->id);
	put16(m + 2, s->flags ? s->flags : 0x8180);
	put16(m + 4, s->qd_set ? s->qdcount : 1);
	put16(m + 6, s->an_set ? s->ancount : (__u32)s->n_rr);
	put16(m + 8, s->tail ? 1 : 0);
	put16(m + 10, s->tail ? 1 : 0);
	if (s->qwire) {
		memcpy(m + n, s->qwire, s->qwire_len);
		n += s->qwire_len;
	} else {
		n += name_wire(s->qname, m + n);
	}
	put16(m + n, s->qtype ? s->qtype : DNS_TYPE_A);
	put16(m + n + 2, DNS_CLASS_IN);
	n += 4;
	lay->qend = n;
	for (i = 0; i < s->n_rr; i++) {
		const struct rr_spec *r = &s->rr[i];
		size_t rdl = 0;

		switch (r->owner) {
		case OWN_PTR:
			put16(m + n, 0xc00c);
			n += 2;
			break;
		case OWN_NAME:
			n += name_wire(r->owner_name, m + n);
			break;
		case OWN_ROOT:
			m[n++] = 0;
			break;
		default:
			memcpy(m + n, r->owner_wire, r->owner_wire_len);
			n += r->owner_wire_len;
			break;
		}
		put16(m + n, r->type);
		put16(m + n + 2, r->klass ? r->klass : DNS_CLASS_IN);
		put32(m + n + 4, r->ttl);
		if ((r->type == DNS_TYPE_A || r->type == DNS_TYPE_AAAA) && !r->rdata_raw) {
			rdl = r->type == DNS_TYPE_A ? 4 : 16;
			assert_int_equal(inet_pton(r->type == DNS_TYPE_A ? AF_INET : AF_INET6,
						   r->addr, m + n + 10),
					 1);
		} else if (r->type == T_CNAME && r->target) {
			rdl = name_wire(r->target, m + n + 10);
		} else {
			size_t k;

			rdl = r->rdlen;
			for (k = 0; k < rdl; k++)
				m[n + 10 + k] = (__u8)(0x41 + k % 26);
		}
		put16(m + n + 8, (__u32)rdl);
		n += 10 + rdl;
		assert_true(n < MSG_MAX - 64);
	}
	lay->aend = n;
	if (s->tail) {
		/* SOA with a pointer owner and root names, then an OPT record */
		static const __u8 soa[] = { 0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22,
					    0,	  0,	0, 0, 0, 1, 0, 0, 0, 2,	 0, 0,
					    0,	  3,	0, 0, 0, 4, 0, 0, 0, 5 };
		static const __u8 opt[] = { 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };

		memcpy(m + n, soa, sizeof(soa));
		n += sizeof(soa);
		memcpy(m + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	lay->len = n;
	return n;
}

/* --- fixtures --- */

struct want_addr {
	const char *addr;
	__u32 ttl;
};

struct fixture {
	const char *desc;
	struct resp_spec s;
	int ret;
	const char *qname; /* expected, lower case (for ret 0 / PARTIAL) */
	struct want_addr addrs[DNSRESP_MAX_ADDRS + 1];
	int n_addrs;
	__u16 rr; /* records walked (ret 0 / PARTIAL) */
};

#define A(a, t)                                         \
	{                                               \
		.type = DNS_TYPE_A, .addr = a, .ttl = t \
	}
#define AAAA(a, t)                                         \
	{                                                  \
		.type = DNS_TYPE_AAAA, .addr = a, .ttl = t \
	}
#define CNAME(own, tgt)                                                                          \
	{                                                                                        \
		.owner = OWN_NAME, .owner_name = own, .type = T_CNAME, .target = tgt, .ttl = 300 \
	}
#define CNAME_Q(tgt)                                       \
	{                                                  \
		.type = T_CNAME, .target = tgt, .ttl = 300 \
	}

static const __u8 w_ptr[] = { 3, 'w', 'w', 'w', 0xc0, 0x0c };
static const __u8 w_ext[] = { 3, 'w', 'w', 'w', 0x41, 'x', 0 };
static const __u8 own_ext[] = { 0x80, 'x', 0 };
static const __u8 own_ext40[] = { 0x41, 'x', 0 };
static const __u8 own_label_ptr[] = { 3, 'c', 'd', 'n', 0xc0, 0x0c };

/* clang-format off */
static const struct fixture fixtures[] = {
	{ "one A", { .qname = "www.example.com", .n_rr = 1, .rr = { A("192.0.2.1", 300) } },
	  0, "www.example.com", { { "192.0.2.1", 300 } }, 1, 1 },
	{ "A and AAAA, mixed case question", { .qname = "Game.EXAMPLE", .n_rr = 3, .rr = {
	  A("203.0.113.5", 60), AAAA("2001:db8::5", 120), A("203.0.113.6", 60) } },
	  0, "game.example", { { "203.0.113.5", 60 }, { "2001:db8::5", 120 },
	  { "203.0.113.6", 60 } }, 3, 3 },
	{ "CNAME chain then addresses", { .qname = "play.game.example", .qtype = DNS_TYPE_AAAA,
	  .n_rr = 4, .rr = { CNAME_Q("edge.cdn.example"), CNAME("edge.cdn.example",
	  "x.edge.cdn.example"), { .owner = OWN_WIRE, .owner_wire = own_label_ptr,
	  .owner_wire_len = sizeof(own_label_ptr), .type = DNS_TYPE_AAAA,
	  .addr = "2001:db8:3::20", .ttl = 20 }, { .owner = OWN_NAME,
	  .owner_name = "x.edge.cdn.example", .type = DNS_TYPE_AAAA, .addr = "2001:db8:3::21",
	  .ttl = 21 } } },
	  0, "play.game.example", { { "2001:db8:3::20", 20 }, { "2001:db8:3::21", 21 } }, 2, 4 },
	{ "other types and classes skipped", { .qname = "a.example", .n_rr = 5, .rr = {
	  { .type = T_TXT, .rdlen = 30 }, { .type = DNS_TYPE_A, .klass = C_CH, .rdata_raw = true,
	  .rdlen = 7 }, { .type = T_RRSIG, .rdlen = 90 }, A("198.51.100.9", 7),
	  { .type = DNS_TYPE_AAAA, .klass = C_CH, .rdata_raw = true, .rdlen = 3 } } },
	  0, "a.example", { { "198.51.100.9", 7 } }, 1, 5 },
	{ "owner the root", { .qname = "a.example", .n_rr = 1, .rr = {
	  { .owner = OWN_ROOT, .type = DNS_TYPE_A, .addr = "192.0.2.77", .ttl = 1 } } },
	  0, "a.example", { { "192.0.2.77", 1 } }, 1, 1 },
	{ "authority and additional after the answers", { .qname = "b.example", .tail = true,
	  .n_rr = 2, .rr = { A("192.0.2.2", 5), AAAA("2001:db8::2", 6) } },
	  0, "b.example", { { "192.0.2.2", 5 }, { "2001:db8::2", 6 } }, 2, 2 },
	{ "TTL 0, the largest, the top bit set", { .qname = "t.example", .n_rr = 3, .rr = {
	  A("192.0.2.3", 0), A("192.0.2.4", 0x7fffffff), A("192.0.2.5", 0x80000001) } },
	  0, "t.example", { { "192.0.2.3", 0 }, { "192.0.2.4", 0x7fffffff },
	  { "192.0.2.5", 0 } }, 3, 3 },
	{ "answers only of other types", { .qname = "c.example", .n_rr = 1, .rr = {
	  CNAME_Q("d.example") } }, 0, "c.example", { { 0 } }, 0, 1 },
	{ "ANCOUNT below the records present", { .qname = "e.example", .an_set = true,
	  .ancount = 1, .n_rr = 2, .rr = { A("192.0.2.6", 9), A("192.0.2.7", 9) } },
	  0, "e.example", { { "192.0.2.6", 9 } }, 1, 1 },
	/* not learned from, not errors */
	{ "a query", { .qname = "q.example", .flags = 0x0100 }, DNSRESP_NOT_RESPONSE },
	{ "a NOTIFY response", { .qname = "q.example", .flags = 0xa400, .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, DNSRESP_NOT_RESPONSE },
	{ "NXDOMAIN", { .qname = "q.example", .flags = 0x8183 }, DNSRESP_RCODE },
	{ "SERVFAIL with a record", { .qname = "q.example", .flags = 0x8182, .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, DNSRESP_RCODE },
	{ "NODATA", { .qname = "q.example", .tail = true }, DNSRESP_NO_ANSWER },
	/* malformed */
	{ "QDCOUNT 0", { .qname = "q.example", .qd_set = true, .qdcount = 0, .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, E(QDCOUNT) },
	{ "QDCOUNT 2", { .qname = "q.example", .qd_set = true, .qdcount = 2, .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, E(QDCOUNT) },
	{ "a pointer in the question", { .qwire = w_ptr, .qwire_len = sizeof(w_ptr), .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, E(QNAME) },
	{ "a reserved label type in the question", { .qwire = w_ext, .qwire_len = sizeof(w_ext),
	  .n_rr = 1, .rr = { A("192.0.2.1", 1) } }, E(QNAME) },
	{ "owner with label type 0x80", { .qname = "q.example", .n_rr = 2, .rr = {
	  A("192.0.2.1", 1), { .owner = OWN_WIRE, .owner_wire = own_ext,
	  .owner_wire_len = sizeof(own_ext), .type = DNS_TYPE_A, .addr = "192.0.2.2" } } },
	  E(OWNER) },
	{ "owner with label type 0x40", { .qname = "q.example", .n_rr = 1, .rr = {
	  { .owner = OWN_WIRE, .owner_wire = own_ext40, .owner_wire_len = sizeof(own_ext40),
	  .type = DNS_TYPE_A, .addr = "192.0.2.2" } } }, E(OWNER) },
	{ "A with 5 bytes of data", { .qname = "q.example", .n_rr = 1, .rr = {
	  { .type = DNS_TYPE_A, .rdata_raw = true, .rdlen = 5 } } }, E(RDLEN) },
	{ "AAAA with 4 bytes of data", { .qname = "q.example", .n_rr = 2, .rr = {
	  A("192.0.2.1", 1), { .type = DNS_TYPE_AAAA, .rdata_raw = true, .rdlen = 4 } } },
	  E(RDLEN) },
	{ "ANCOUNT above the records present", { .qname = "q.example", .an_set = true,
	  .ancount = 3, .n_rr = 2, .rr = { A("192.0.2.1", 1), A("192.0.2.2", 1) } },
	  E(RR_CUT) },
	{ "ANCOUNT above the answers: the SOA and OPT after read as answers",
	  { .qname = "q.example", .an_set = true, .ancount = 3, .tail = true, .n_rr = 1,
	  .rr = { A("192.0.2.1", 1) } }, 0, "q.example", { { "192.0.2.1", 1 } }, 1, 3 },
};
/* clang-format on */

/* --- checking --- */

static void addr_text(const struct dnsresp_addr *a, char *out, size_t cap)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, out, (socklen_t)cap))
		snprintf(out, cap, "family %u", a->family);
}

static void check_result(const char *what, int ret, const struct name_buf *nb,
			 const struct dnsresp_walk *w, int want_ret, const char *qname,
			 const struct want_addr *addrs, int n_addrs, int rr)
{
	char got[NAME_MAX_LEN + 1], a[64];
	int i;

	if (ret != want_ret)
		fail_msg("%s: returned %d (%s), expected %d (%s)", what, ret, dnsresp_ret_name(ret),
			 want_ret, dnsresp_ret_name(want_ret));
	if (ret != 0 && ret != DNSRESP_PARTIAL)
		return;
	name_str(nb, got);
	if (strcmp(got, qname))
		fail_msg("%s: question '%s', expected '%s'", what, got, qname);
	if (w->n != n_addrs)
		fail_msg("%s: %u addresses, expected %d", what, w->n, n_addrs);
	if (rr >= 0 && w->rr != rr)
		fail_msg("%s: %u records walked, expected %d", what, w->rr, rr);
	for (i = 0; i < n_addrs; i++) {
		const struct dnsresp_addr *x = &w->addr[i];

		addr_text(x, a, sizeof(a));
		if (strcmp(a, addrs[i].addr) || x->ttl != addrs[i].ttl)
			fail_msg("%s: address %d %s ttl %u, expected %s ttl %u", what, i, a, x->ttl,
				 addrs[i].addr, addrs[i].ttl);
		if (x->family == 4) {
			static const __u8 zero[12];

			assert_memory_equal(x->addr + 4, zero, 12);
		}
	}
}

/* Parse a copy of exactly len bytes (ASan sees any read past it). */
static int parse_copy(const __u8 *m, size_t len, struct dns_query *q, struct name_buf *nb,
		      struct dnsresp_walk *w)
{
	__u8 *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, m, len);
	ret = dnsresp_parse(copy, copy + len, q, nb, w);
	free(copy);
	return ret;
}

static void test_fixtures(void **state)
{
	static __u8 m[MSG_MAX];
	static struct dnsresp_walk w;
	struct resp_layout lay;
	struct dns_query q;
	struct name_buf nb;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct fixture *f = &fixtures[i];
		size_t len = build(m, &f->s, &lay);
		int ret = parse_copy(m, len, &q, &nb, &w);

		check_result(f->desc, ret, &nb, &w, f->ret, f->qname, f->addrs, f->n_addrs, f->rr);
		if (ret == 0) {
			assert_int_equal(q.id, f->s.id);
			assert_int_equal(q.qtype, f->s.qtype ? f->s.qtype : DNS_TYPE_A);
			assert_int_equal(q.qclass, DNS_CLASS_IN);
			assert_int_equal(w.pos, f->s.an_set ? w.pos : lay.aend);
		}
	}
}

/*
 * Every cut of every fixture that parses: in the header (fewer than 13 bytes) a cut header, in
 * the question a cut question, before the end of the last of ANCOUNT records a cut record; at or
 * after it, the whole result.
 */
static void test_truncation(void **state)
{
	static __u8 m[MSG_MAX];
	static struct dnsresp_walk w;
	struct resp_layout lay;
	struct dns_query q;
	struct name_buf nb;
	size_t i, cut, cuts = 0, walk_end;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct fixture *f = &fixtures[i];
		size_t len = build(m, &f->s, &lay);
		char what[160];

		if (f->ret != 0)
			continue;
		/* where the whole walk ends: the last of ANCOUNT records */
		assert_int_equal(parse_copy(m, len, &q, &nb, &w), 0);
		walk_end = w.pos;
		for (cut = 0; cut <= len; cut++) {
			int want, ret = parse_copy(m, cut, &q, &nb, &w);

			if (cut < 13)
				want = E(HEADER);
			else if (cut < lay.qend)
				want = E(QCUT);
			else if (cut < walk_end)
				want = E(RR_CUT);
			else
				want = 0;
			snprintf(what, sizeof(what), "%s, cut at %zu of %zu", f->desc, cut, len);
			check_result(what, ret, &nb, &w, want, f->qname, f->addrs, f->n_addrs,
				     f->rr);
			cuts++;
		}
	}
	print_message("# %zu cut messages\n", cuts);
	assert_true(cuts > 500);
}

/* The limits: records, steps, the copy, owner and question names at their lengths. */
static void test_limits(void **state)
{
	static __u8 m[MSG_MAX];
	static struct dnsresp_walk w;
	static struct resp_spec s;
	struct want_addr want[DNSRESP_MAX_ADDRS];
	static char addrs[RR_MAX][32], owner[300], qname[300];
	struct resp_layout lay;
	struct dns_query q;
	struct name_buf nb;
	size_t len;
	int i;

	(void)state;
	/* more records than are walked: the first DNSRESP_MAX_RRS are learned */
	memset(&s, 0, sizeof(s));
	s.qname = "many.example";
	s.n_rr = DNSRESP_MAX_RRS + 4;
	for (i = 0; i < s.n_rr; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "198.51.100.%d", i + 1);
		s.rr[i] = (struct rr_spec)A(addrs[i], (__u32)i);
		if (i < DNSRESP_MAX_ADDRS)
			want[i] = (struct want_addr){ addrs[i], (__u32)i };
	}
	len = build(m, &s, &lay);
	check_result("20 records", parse_copy(m, len, &q, &nb, &w), &nb, &w, DNSRESP_PARTIAL,
		     "many.example", want, DNSRESP_MAX_ADDRS, DNSRESP_MAX_RRS);
	/* exactly DNSRESP_MAX_RRS: whole */
	s.n_rr = DNSRESP_MAX_RRS;
	len = build(m, &s, &lay);
	check_result("16 records", parse_copy(m, len, &q, &nb, &w), &nb, &w, 0, "many.example",
		     want, DNSRESP_MAX_ADDRS, DNSRESP_MAX_RRS);

	/* steps: owners of 12 labels take 13 steps a record; 128 steps walk 9 records */
	for (i = 0; i < 12; i++) {
		owner[2 * i] = (char)('a' + i);
		owner[2 * i + 1] = '.';
	}
	owner[23] = 0;
	s.n_rr = 12;
	for (i = 0; i < s.n_rr; i++) {
		s.rr[i].owner = OWN_NAME;
		s.rr[i].owner_name = owner;
	}
	len = build(m, &s, &lay);
	check_result("12 records of 12-label owners", parse_copy(m, len, &q, &nb, &w), &nb, &w,
		     DNSRESP_PARTIAL, "many.example", want, DNSRESP_STEPS / 13, DNSRESP_STEPS / 13);

	/* the copy: a TXT record that runs past DNSRESP_COPY_MAX stops the walk */
	memset(&s, 0, sizeof(s));
	s.qname = "big.example";
	s.n_rr = 3;
	s.rr[0] = (struct rr_spec)A("192.0.2.9", 9);
	s.rr[1] = (struct rr_spec){ .type = T_TXT, .rdlen = 1100, .ttl = 1 };
	s.rr[2] = (struct rr_spec)A("192.0.2.10", 10);
	len = build(m, &s, &lay);
	assert_true(len > DNSRESP_COPY_MAX);
	want[0] = (struct want_addr){ "192.0.2.9", 9 };
	check_result("past the copy", parse_copy(m, len, &q, &nb, &w), &nb, &w, DNSRESP_PARTIAL,
		     "big.example", want, 1, 1);
	/* ... and a message cut inside that record is cut, not partial */
	check_result("past the copy, cut", parse_copy(m, len - 20, &q, &nb, &w), &nb, &w, E(RR_CUT),
		     "big.example", want, 1, -1);
	/* a record that ends exactly at the copy's end is walked */
	s.rr[1].rdlen = DNSRESP_COPY_MAX - (lay.qend + 16) - 12;
	len = build(m, &s, &lay);
	want[1] = (struct want_addr){ "192.0.2.10", 10 };
	check_result("a record ending at the copy's end", parse_copy(m, len, &q, &nb, &w), &nb, &w,
		     DNSRESP_PARTIAL, "big.example", want, 1, 2);

	/* an owner name of 255 bytes in wire form is the longest; 257 is malformed */
	for (i = 0; i < 126; i++) {
		owner[2 * i] = 'o';
		owner[2 * i + 1] = '.';
	}
	strcpy(owner + 252, "oo"); /* 127 labels, 254 characters: wire 256 */
	memset(&s, 0, sizeof(s));
	s.qname = "o.example";
	s.n_rr = 1;
	s.rr[0] = (struct rr_spec){ .owner = OWN_NAME,
				    .owner_name = owner,
				    .type = DNS_TYPE_A,
				    .addr = "192.0.2.11",
				    .ttl = 11 };
	len = build(m, &s, &lay);
	check_result("owner of 256 wire bytes", parse_copy(m, len, &q, &nb, &w), &nb, &w, E(OWNER),
		     "", NULL, 0, -1);
	owner[253] = 0; /* 253 characters: wire 255 */
	len = build(m, &s, &lay);
	want[0] = (struct want_addr){ "192.0.2.11", 11 };
	/* 127 label steps and the record's: DNSRESP_STEPS exactly */
	check_result("owner of 255 wire bytes", parse_copy(m, len, &q, &nb, &w), &nb, &w, 0,
		     "o.example", want, 1, 1);

	/* the question: 253 characters read, 254 too long */
	for (i = 0; i < 126; i++) {
		qname[2 * i] = 'q';
		qname[2 * i + 1] = '.';
	}
	strcpy(qname + 252, "q");
	s.qname = qname;
	s.rr[0] = (struct rr_spec)A("192.0.2.12", 12);
	len = build(m, &s, &lay);
	want[0] = (struct want_addr){ "192.0.2.12", 12 };
	check_result("question of 253 characters", parse_copy(m, len, &q, &nb, &w), &nb, &w, 0,
		     qname, want, 1, 1);
	strcpy(qname + 252, "qq");
	len = build(m, &s, &lay);
	check_result("question of 254 characters", parse_copy(m, len, &q, &nb, &w), &nb, &w,
		     E(QNAME_LONG), "", NULL, 0, -1);
}

/* --- differential: a reference walker written the plain way --- */

struct ref_out {
	int n;
	__u8 family[DNSRESP_MAX_ADDRS];
	__u8 addr[DNSRESP_MAX_ADDRS][16];
	__u32 ttl[DNSRESP_MAX_ADDRS];
	char qname[NAME_MAX_LEN + 1];
};

static int ref_parse(const __u8 *m, size_t len, struct ref_out *o)
{
	size_t n = 12, out = 0, avail = len < DNSRESP_COPY_MAX ? len : DNSRESP_COPY_MAX;
	unsigned int an, rr, steps = 0;

	memset(o, 0, sizeof(*o));
	if (len < 13)
		return E(HEADER);
	if (!(m[2] & 0x80) || (m[2] & 0x78))
		return DNSRESP_NOT_RESPONSE;
	if (m[3] & 0x0f)
		return DNSRESP_RCODE;
	if (m[4] != 0 || m[5] != 1)
		return E(QDCOUNT);
	an = (unsigned int)m[6] << 8 | m[7];
	if (!an)
		return DNSRESP_NO_ANSWER;
	for (;;) {
		size_t l, k;

		if (n >= len || n - 12 >= DNS_COPY_MAX)
			return E(QCUT);
		l = m[n];
		if (l == 0)
			break;
		if (l > 63)
			return E(QNAME);
		if (n - 12 + 1 + l + 1 > 255)
			return E(QNAME_LONG);
		if (out)
			o->qname[out++] = '.';
		for (k = 0; k < l && n + 1 + k < len; k++) {
			char c = (char)m[n + 1 + k];

			o->qname[out++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		n += 1 + l;
	}
	o->qname[out] = 0;
	if (n + 5 > len || n + 5 - 12 > DNS_COPY_MAX)
		return E(QCUT);
	n += 5;
	for (rr = 0; rr < an; rr++) {
		size_t owner = 0, rdlen, type, klass;
		__u32 ttl;

		if (rr >= DNSRESP_MAX_RRS)
			return DNSRESP_PARTIAL;
		for (;;) {
			if (steps++ >= DNSRESP_STEPS)
				return DNSRESP_PARTIAL;
			if (n >= avail)
				return n + 1 > len ? E(RR_CUT) : DNSRESP_PARTIAL;
			if (m[n] >= 0xc0) {
				if (n + 2 > avail)
					return n + 2 > len ? E(RR_CUT) : DNSRESP_PARTIAL;
				n += 2;
				break;
			}
			if (m[n] > 63)
				return E(OWNER);
			if (m[n] == 0) {
				n++;
				break;
			}
			owner += m[n] + 1u;
			if (owner >= 255)
				return E(OWNER);
			n += m[n] + 1u;
		}
		if (n + 10 > avail)
			return n + 10 > len ? E(RR_CUT) : DNSRESP_PARTIAL;
		type = (size_t)m[n] << 8 | m[n + 1];
		klass = (size_t)m[n + 2] << 8 | m[n + 3];
		ttl = (__u32)m[n + 4] << 24 | (__u32)m[n + 5] << 16 | (__u32)m[n + 6] << 8 |
		      m[n + 7];
		rdlen = (size_t)m[n + 8] << 8 | m[n + 9];
		if (n + 10 + rdlen > avail)
			return n + 10 + rdlen > len ? E(RR_CUT) : DNSRESP_PARTIAL;
		if (klass == 1 && (type == 1 || type == 28)) {
			if (rdlen != (type == 1 ? 4u : 16u))
				return E(RDLEN);
			o->family[o->n] = type == 1 ? 4 : 6;
			memcpy(o->addr[o->n], m + n + 10, rdlen);
			o->ttl[o->n] = ttl > 0x7fffffff ? 0 : ttl;
			o->n++;
		}
		n += 10 + rdlen;
	}
	return 0;
}

/* A random response: a question, 1..24 records of every shape, sometimes a tail. */
static size_t random_resp(__u8 *m, unsigned int *seed, struct resp_layout *lay)
{
	static const char *const qnames[] = { "www.example.com", "Game.Example", "a", "x.y.z.w" };
	static const char *const owners[] = { "cdn.example", "a.b.c.d.e.f.g.h", "q" };
	static char addrs[RR_MAX][48];
	static struct resp_spec s;
	int i;

	memset(&s, 0, sizeof(s));
	s.id = (__u16)rand_r(seed);
	s.qname = qnames[rand_r(seed) % ARRAY_SIZE(qnames)];
	s.qtype = rand_r(seed) % 2 ? DNS_TYPE_A : DNS_TYPE_AAAA;
	s.tail = rand_r(seed) % 3 == 0;
	s.n_rr = 1 + rand_r(seed) % 24;
	for (i = 0; i < s.n_rr; i++) {
		struct rr_spec *r = &s.rr[i];
		int k = rand_r(seed) % 8;

		r->owner = rand_r(seed) % 4 ? OWN_PTR : rand_r(seed) % 2 ? OWN_NAME : OWN_ROOT;
		r->owner_name = owners[rand_r(seed) % ARRAY_SIZE(owners)];
		r->ttl = (__u32)rand_r(seed) * (rand_r(seed) % 2 ? 1u : 3u);
		if (k < 3) {
			r->type = DNS_TYPE_A;
			snprintf(addrs[i], sizeof(addrs[i]), "192.0.2.%d", rand_r(seed) % 256);
			r->addr = addrs[i];
		} else if (k < 6) {
			r->type = DNS_TYPE_AAAA;
			snprintf(addrs[i], sizeof(addrs[i]), "2001:db8:%x::%x",
				 rand_r(seed) % 65536, rand_r(seed) % 65536);
			r->addr = addrs[i];
		} else if (k == 6) {
			r->type = T_CNAME;
			r->target = owners[rand_r(seed) % ARRAY_SIZE(owners)];
		} else {
			r->type = T_TXT;
			r->rdlen =
				(size_t)(rand_r(seed) % 3 ? rand_r(seed) % 40 : rand_r(seed) % 400);
		}
	}
	return build(m, &s, lay);
}

static void test_mutations_against_ref(void **state)
{
	static __u8 m[MSG_MAX];
	static struct dnsresp_walk w;
	unsigned int seed = 11;
	int i, by_ret[32] = { 0 };

	(void)state;
	for (i = 0; i < 60000; i++) {
		struct resp_layout lay;
		struct ref_out ro;
		struct dns_query q;
		struct name_buf nb;
		char got[NAME_MAX_LEN + 1];
		size_t len = random_resp(m, &seed, &lay);
		int k, nm = rand_r(&seed) % 4, ret, ret_ref;

		for (k = 0; k < nm; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			switch (rand_r(&seed) % 4) {
			case 0:
				m[at] = (__u8)rand_r(&seed);
				break;
			case 1:
				m[at] ^= 0x40;
				break;
			case 2: /* a header field */
				m[2 + rand_r(&seed) % 10] = (__u8)(rand_r(&seed) % 3);
				break;
			default: /* in the answers: a length, a type */
				at = lay.qend + (size_t)rand_r(&seed) % (lay.aend - lay.qend + 1);
				if (at < len)
					m[at] = (__u8)(rand_r(&seed) % 2 ? 0xc0 :
									   rand_r(&seed) % 70);
				break;
			}
		}
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		ret_ref = ref_parse(m, len, &ro);
		ret = parse_copy(m, len, &q, &nb, &w);
		by_ret[ret < 0 ? 16 - ret : ret]++;
		if (ret != ret_ref)
			fail_msg("mutation %d: parser %d (%s), reference %d (%s)", i, ret,
				 dnsresp_ret_name(ret), ret_ref, dnsresp_ret_name(ret_ref));
		if (ret != 0 && ret != DNSRESP_PARTIAL)
			continue;
		name_str(&nb, got);
		if (strcmp(got, ro.qname) || w.n != ro.n)
			fail_msg("mutation %d: parser '%s' %u addresses, reference '%s' %d", i, got,
				 w.n, ro.qname, ro.n);
		for (k = 0; k < ro.n; k++)
			if (w.addr[k].family != ro.family[k] || w.addr[k].ttl != ro.ttl[k] ||
			    memcmp(w.addr[k].addr, ro.addr[k], ro.family[k] == 4 ? 4 : 16))
				fail_msg("mutation %d: address %d differs", i, k);
	}
	print_message("# ok %d, partial %d, not a response %d, rcode %d, no answer %d, "
		      "cut %d, owner %d, rdlength %d, question %d\n",
		      by_ret[0], by_ret[DNSRESP_PARTIAL], by_ret[DNSRESP_NOT_RESPONSE],
		      by_ret[DNSRESP_RCODE], by_ret[DNSRESP_NO_ANSWER],
		      by_ret[16 + DNSRESP_E_RR_CUT], by_ret[16 + DNSRESP_E_OWNER],
		      by_ret[16 + DNSRESP_E_RDLEN],
		      by_ret[16 + DNSRESP_E_QCUT] + by_ret[16 + DNSRESP_E_QNAME]);
	/* the mutations must reach every outcome, or the comparison says little */
	assert_true(by_ret[0] > 5000);
	assert_true(by_ret[DNSRESP_PARTIAL] > 100);
	assert_true(by_ret[DNSRESP_NOT_RESPONSE] > 100);
	assert_true(by_ret[DNSRESP_RCODE] > 100);
	assert_true(by_ret[DNSRESP_NO_ANSWER] > 100);
	assert_true(by_ret[16 + DNSRESP_E_RR_CUT] > 1000);
	assert_true(by_ret[16 + DNSRESP_E_OWNER] > 100);
	assert_true(by_ret[16 + DNSRESP_E_RDLEN] > 100);
	assert_true(by_ret[16 + DNSRESP_E_QCUT] > 100);
}

/* The walk leaves w as the kernel reads it: n <= rr, pos within the message, owners reset. */
static void test_walk_state(void **state)
{
	static __u8 m[MSG_MAX];
	static struct dnsresp_walk w;
	unsigned int seed = 5;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		struct resp_layout lay;
		struct dns_query q;
		struct name_buf nb;
		size_t len = random_resp(m, &seed, &lay);
		int ret = parse_copy(m, len, &q, &nb, &w);

		assert_true(ret == 0 || ret == DNSRESP_PARTIAL);
		assert_true(w.n <= w.rr && w.rr <= DNSRESP_MAX_RRS);
		assert_true(w.avail <= DNSRESP_COPY_MAX && w.avail <= w.len);
		if (ret == 0) {
			assert_int_equal(w.pos, lay.aend);
			assert_int_equal(w.owner, 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),   cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_limits),	   cmocka_unit_test(test_mutations_against_ref),
		cmocka_unit_test(test_walk_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
