// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet parser of bpf/lib/parse.h, compiled on the host: fixtures with the expected
 * fields, every truncation of every fixture (including the cuts below 14 bytes that
 * BPF_PROG_TEST_RUN refuses), every IPv6 extension chain up to the limit, and a differential
 * test against a plain reference parser written here over randomly mutated frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bpf/lib/parse.h"
#include "bpf/pktgen.h"

#define TCP PARSE_IPPROTO_TCP
#define UDP PARSE_IPPROTO_UDP
#define HOP PARSE_IPPROTO_HOPOPTS
#define RT PARSE_IPPROTO_ROUTING
#define DST PARSE_IPPROTO_DSTOPTS
#define AH PARSE_IPPROTO_AH
#define FRAG PARSE_IPPROTO_FRAGMENT
#define Q 0x8100
#define AD 0x88a8
#define NB(x) NOTE_BIT(GC_NOTE_##x)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct parse_fixture {
	const char *desc;
	struct pkt_spec spec;
	void (*fix)(struct pkt *p); /* after pkt_build: make it malformed */
	int ret; /* 0 or -counter */
	__u32 notes;
	__u8 l4_proto;
	__u16 sport, dport; /* expected when ret == 0 and there is an L4 header */
};

static void fix_version(struct pkt *p)
{
	p->buf[p->l3_off] = (__u8)((p->buf[p->l3_off] & 0x0f) | 0x50);
}

static void fix_ihl4(struct pkt *p)
{
	p->buf[p->l3_off] = 0x44;
}

static void fix_totlen(struct pkt *p)
{
	pkt_put_be16(p->buf + p->l3_off + 2, 19);
}

static void fix_totlen0(struct pkt *p)
{
	pkt_put_be16(p->buf + p->l3_off + 2, 0);
}

static void fix_doff0(struct pkt *p)
{
	p->buf[p->l4_off + 12] = 0;
}

static void fix_udplen(struct pkt *p)
{
	pkt_put_be16(p->buf + p->l4_off + 4, 7);
}

static void fix_v6_in_v4(struct pkt *p)
{
	p->buf[p->l3_off] = 0x60;
}

/* A table: one fixture per entry, kept on its own lines. */
/* clang-format off */
static const struct parse_fixture fixtures[] = {
	{ "v4 tcp", { .dst = "198.51.100.7", .l4 = TCP, .sport = 1234, .dport = 80 },
	  NULL, 0, 0, TCP, 1234, 80 },
	{ "v4 udp", { .dst = "198.51.100.7", .l4 = UDP, .sport = 5353, .dport = 53 },
	  NULL, 0, 0, UDP, 5353, 53 },
	{ "v4 icmp", { .dst = "198.51.100.7", .l4 = PARSE_IPPROTO_ICMP }, NULL, 0, NB(L4_OTHER),
	  PARSE_IPPROTO_ICMP },
	{ "v4 gre", { .dst = "198.51.100.7", .l4 = 47 }, NULL, 0, NB(L4_OTHER), 47 },
	{ "v4 tcp options", { .dst = "198.51.100.7", .l4 = TCP, .doff = 15 }, NULL, 0, 0, TCP,
	  40000, 443 },
	{ "v4 ip options", { .dst = "198.51.100.7", .ip_opts = 40, .l4 = UDP }, NULL, 0,
	  NB(IPV4_OPTIONS), UDP, 40000, 53 },
	{ "v4 first fragment", { .dst = "198.51.100.7", .frag = PARSE_IPV4_MF, .l4 = UDP }, NULL,
	  0, NB(IPV4_FRAGMENT), UDP, 40000, 53 },
	{ "v4 later fragment", { .dst = "198.51.100.7", .frag = 185, .l4 = UDP }, NULL, 0,
	  NB(IPV4_FRAGMENT) | NB(IPV4_LATER_FRAGMENT), UDP },
	{ "v4 later fragment, options",
	  { .dst = "198.51.100.7", .ip_opts = 8, .frag = PARSE_IPV4_MF | 1, .l4 = TCP },
	  NULL, 0, NB(IPV4_OPTIONS) | NB(IPV4_FRAGMENT) | NB(IPV4_LATER_FRAGMENT), TCP },
	{ "vlan", { .vlan = { Q }, .dst = "198.51.100.7", .l4 = TCP }, NULL, 0, NB(VLAN), TCP,
	  40000, 443 },
	{ "qinq 88a8/8100", { .vlan = { AD, Q }, .dst = "2001:db8::1", .l4 = UDP }, NULL, 0,
	  NB(QINQ), UDP, 40000, 53 },
	{ "qinq 8100/88a8", { .vlan = { Q, AD }, .dst = "2001:db8::1", .l4 = UDP }, NULL, 0,
	  NB(QINQ), UDP, 40000, 53 },
	{ "three tags", { .vlan = { AD, Q, Q }, .dst = "198.51.100.7", .l4 = TCP }, NULL,
	  PARSE_ERR(GC_PASS_VLAN_DEPTH) },
	{ "arp", { .ethertype = 0x0806 }, NULL, PARSE_ERR(GC_PASS_NOT_IP) },
	{ "arp in vlan", { .vlan = { Q }, .ethertype = 0x0806 }, NULL, PARSE_ERR(GC_PASS_NOT_IP),
	  NB(VLAN) },
	{ "v4 version 5", { .dst = "198.51.100.7", .l4 = TCP }, fix_version,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v6 header behind 0x0800", { .dst = "198.51.100.7", .l4 = TCP }, fix_v6_in_v4,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v6 version 5", { .dst = "2001:db8::1", .l4 = TCP }, fix_version,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v4 ihl 4", { .dst = "198.51.100.7", .l4 = TCP }, fix_ihl4,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v4 total length 19", { .dst = "198.51.100.7", .l4 = TCP }, fix_totlen,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v4 total length 0 (TSO)", { .dst = "198.51.100.7", .l4 = TCP }, fix_totlen0, 0, 0,
	  TCP, 40000, 443 },
	{ "tcp doff 4", { .dst = "198.51.100.7", .l4 = TCP, .doff = 4 }, NULL,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "tcp doff 0", { .dst = "2001:db8::1", .l4 = TCP }, fix_doff0,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "udp length 7", { .dst = "198.51.100.7", .l4 = UDP }, fix_udplen,
	  PARSE_ERR(GC_PASS_BAD_HEADER) },
	{ "v6 tcp", { .dst = "2001:db8::1", .l4 = TCP, .sport = 7, .dport = 8 }, NULL, 0, 0, TCP,
	  7, 8 },
	{ "v6 icmpv6", { .dst = "2001:db8::1", .l4 = PARSE_IPPROTO_ICMPV6 }, NULL, 0,
	  NB(L4_OTHER), PARSE_IPPROTO_ICMPV6 },
	{ "v6 no next header", { .dst = "2001:db8::1", .l4 = PARSE_IPPROTO_NONE }, NULL, 0,
	  NB(L4_OTHER), PARSE_IPPROTO_NONE },
	{ "v6 hop-by-hop", { .dst = "2001:db8::1", .ext = { { HOP } }, .n_ext = 1, .l4 = UDP },
	  NULL, 0, NB(IPV6_EXT), UDP, 40000, 53 },
	{ "v6 hop, routing, dest opts",
	  { .dst = "2001:db8::1",
	    .ext = { { HOP, 16 }, { RT, 24 }, { DST, 2048 } },
	    .n_ext = 3,
	    .l4 = TCP },
	  NULL, 0, NB(IPV6_EXT), TCP, 40000, 443 },
	{ "v6 ah", { .dst = "2001:db8::1", .ext = { { AH, 1028 } }, .n_ext = 1, .l4 = TCP }, NULL,
	  0, NB(IPV6_EXT), TCP, 40000, 443 },
	{ "v6 first fragment",
	  { .dst = "2001:db8::1", .ext = { { HOP }, { FRAG, 0, 0, 1 } }, .n_ext = 2, .l4 = UDP },
	  NULL, 0, NB(IPV6_EXT) | NB(IPV6_FRAGMENT), UDP, 40000, 53 },
	{ "v6 later fragment",
	  { .dst = "2001:db8::1", .ext = { { FRAG, 0, 100, 1 } }, .n_ext = 1, .l4 = TCP }, NULL,
	  0, NB(IPV6_EXT) | NB(IPV6_FRAGMENT) | NB(IPV6_LATER_FRAGMENT), TCP },
	{ "v6 eight headers",
	  { .dst = "2001:db8::1",
	    .ext = { { HOP }, { DST }, { RT }, { AH }, { DST }, { RT }, { AH }, { DST } },
	    .n_ext = 8,
	    .l4 = UDP },
	  NULL, 0, NB(IPV6_EXT), UDP, 40000, 53 },
	{ "v6 nine headers",
	  { .dst = "2001:db8::1",
	    .ext = { { HOP }, { DST }, { RT }, { AH }, { DST }, { RT }, { AH }, { DST }, { DST } },
	    .n_ext = 9,
	    .l4 = UDP },
	  NULL, PARSE_ERR(GC_PASS_IPV6_EXT), NB(IPV6_EXT) },
	{ "v6 esp is l4", { .dst = "2001:db8::1", .ext = { { HOP } }, .n_ext = 1, .l4 = 50 },
	  NULL, 0, NB(IPV6_EXT) | NB(L4_OTHER), 50 },
};
/* clang-format on */

static void parse_buf(const __u8 *buf, size_t len, struct parse_result *r, int *ret)
{
	/* An exact-size copy: a read past the end is a read past a malloc'd block. */
	__u8 *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, buf, len);
	/* garbage in the result: parse_packet must set what it reports */
	memset(r, 0xa5, sizeof(*r));
	*ret = parse_packet(copy, copy + len, 0, r);
	free(copy);
}

static void test_fixtures(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct parse_fixture *f = &fixtures[i];
		struct parse_result r;
		struct pkt p;
		__u8 dst[16];
		int ret, fam;

		print_message("# %s\n", f->desc);
		assert_true(pkt_build(&p, &f->spec));
		if (f->fix)
			f->fix(&p);
		parse_buf(p.buf, p.len, &r, &ret);
		assert_int_equal(ret, f->ret);
		assert_int_equal(r.notes, f->notes);
		if (ret < 0)
			continue;
		fam = pkt_addr(f->spec.dst, dst);
		assert_int_equal(r.family, fam);
		assert_memory_equal(r.daddr, dst, fam == 4 ? 4 : 16);
		assert_memory_equal(r.saddr, p.buf + p.l3_off + (fam == 4 ? 12 : 8),
				    fam == 4 ? 4 : 16);
		assert_int_equal(r.l4_proto, f->l4_proto);
		assert_int_equal(r.sport, f->sport);
		assert_int_equal(r.dport, f->dport);
		assert_int_equal(r.later_fragment, !!(f->notes & (NB(IPV4_LATER_FRAGMENT) |
								  NB(IPV6_LATER_FRAGMENT))));
		if (f->sport) {
			assert_ptr_equal(r.l4 != NULL, 1);
		} else {
			assert_null(r.l4);
			assert_null(r.payload);
		}
	}
}

/* Every cut of every well-formed fixture before the end of its L4 header is PASS_TRUNCATED. */
static void test_truncation(void **state)
{
	size_t i, cut, cuts = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct parse_fixture *f = &fixtures[i];
		struct parse_result r;
		struct pkt p;
		int ret;

		if (f->ret < 0 || f->fix)
			continue;
		assert_true(pkt_build(&p, &f->spec));
		assert_true(p.l4_end > 14 && p.l4_end <= p.len);
		for (cut = 0; cut < p.l4_end; cut++) {
			parse_buf(p.buf, cut, &r, &ret);
			if (ret != PARSE_ERR(GC_PASS_TRUNCATED))
				fail_msg("%s cut at %zu of %zu: %d, expected PASS_TRUNCATED",
					 f->desc, cut, p.l4_end, ret);
			cuts++;
		}
		parse_buf(p.buf, p.l4_end, &r, &ret);
		assert_int_equal(ret, 0);
	}
	print_message("# %zu cuts\n", cuts);
	assert_true(cuts > 1000);
}

/* --- a reference parser: plain offsets and branches, written from the RFCs, not parse.h --- */

struct ref_result {
	int ret;
	__u32 notes;
	int family;
	__u8 daddr[16], saddr[16];
	int l4_proto;
	int sport, dport;
	int later;
};

static int ref_get16(const __u8 *b, size_t at)
{
	return b[at] << 8 | b[at + 1];
}

static void ref_parse(const __u8 *b, size_t len, struct ref_result *o)
{
	size_t off = 14;
	int proto, tags = 0, nh, n;

	memset(o, 0, sizeof(*o));
	o->ret = PARSE_ERR(GC_PASS_TRUNCATED);
	if (len < 14)
		return;
	proto = ref_get16(b, 12);
	while (proto == 0x8100 || proto == 0x88a8) {
		if (tags == 2) {
			o->ret = PARSE_ERR(GC_PASS_VLAN_DEPTH);
			return;
		}
		if (off + 4 > len)
			return;
		proto = ref_get16(b, off + 2);
		off += 4;
		tags++;
	}
	o->notes |= tags == 1 ? NB(VLAN) : tags == 2 ? NB(QINQ) : 0;
	if (proto == 0x0800) {
		size_t hl;
		int fo, tl;

		if (off + 20 > len)
			return;
		if (b[off] >> 4 != 4 || (b[off] & 15) < 5) {
			o->ret = PARSE_ERR(GC_PASS_BAD_HEADER);
			return;
		}
		hl = (size_t)(b[off] & 15) * 4;
		tl = ref_get16(b, off + 2);
		if (tl != 0 && (size_t)tl < hl) {
			o->ret = PARSE_ERR(GC_PASS_BAD_HEADER);
			return;
		}
		if (off + hl > len)
			return;
		if (hl > 20)
			o->notes |= NB(IPV4_OPTIONS);
		fo = ref_get16(b, off + 6);
		if (fo & 0x3fff)
			o->notes |= NB(IPV4_FRAGMENT);
		if (fo & 0x1fff) {
			o->notes |= NB(IPV4_LATER_FRAGMENT);
			o->later = 1;
		}
		o->family = 4;
		memcpy(o->saddr, b + off + 12, 4);
		memcpy(o->daddr, b + off + 16, 4);
		nh = b[off + 9];
		off += hl;
	} else if (proto == 0x86dd) {
		if (off + 40 > len)
			return;
		if (b[off] >> 4 != 6) {
			o->ret = PARSE_ERR(GC_PASS_BAD_HEADER);
			return;
		}
		o->family = 6;
		memcpy(o->saddr, b + off + 8, 16);
		memcpy(o->daddr, b + off + 24, 16);
		nh = b[off + 6];
		off += 40;
		for (n = 0;; n++) {
			size_t hl;

			if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51)
				break;
			if (n == 8) {
				o->ret = PARSE_ERR(GC_PASS_IPV6_EXT);
				return;
			}
			if (off + 8 > len)
				return;
			if (nh == 44)
				hl = 8;
			else if (nh == 51)
				hl = ((size_t)b[off + 1] + 2) * 4;
			else
				hl = ((size_t)b[off + 1] + 1) * 8;
			/* a header cut short leaves no note */
			if (off + hl > len)
				return;
			o->notes |= NB(IPV6_EXT);
			if (nh == 44) {
				o->notes |= NB(IPV6_FRAGMENT);
				if (ref_get16(b, off + 2) & 0xfff8) {
					o->notes |= NB(IPV6_LATER_FRAGMENT);
					o->later = 1;
				}
			}
			nh = b[off];
			off += hl;
			if (o->later)
				break;
		}
	} else {
		o->ret = PARSE_ERR(GC_PASS_NOT_IP);
		return;
	}
	o->l4_proto = nh;
	if (o->later) {
		o->ret = 0;
		return;
	}
	if (nh == 6) {
		if (off + 20 > len)
			return;
		if (b[off + 12] >> 4 < 5) {
			o->ret = PARSE_ERR(GC_PASS_BAD_HEADER);
			return;
		}
		if (off + (size_t)(b[off + 12] >> 4) * 4 > len)
			return;
	} else if (nh == 17) {
		int ul;

		if (off + 8 > len)
			return;
		ul = ref_get16(b, off + 4);
		if (ul != 0 && ul < 8) {
			o->ret = PARSE_ERR(GC_PASS_BAD_HEADER);
			return;
		}
	} else {
		o->notes |= NB(L4_OTHER);
		o->ret = 0;
		return;
	}
	o->sport = ref_get16(b, off);
	o->dport = ref_get16(b, off + 2);
	o->ret = 0;
}

/* parse_packet and ref_parse agree on verdict, notes and fields. */
static void check_against_ref(const __u8 *buf, size_t len, const char *what)
{
	struct parse_result r;
	struct ref_result o;
	int ret;

	parse_buf(buf, len, &r, &ret);
	ref_parse(buf, len, &o);
	if (ret != o.ret || r.notes != o.notes)
		fail_msg("%s (%zu bytes): parse %d notes %#x, reference %d notes %#x", what, len,
			 ret, r.notes, o.ret, o.notes);
	if (ret < 0)
		return;
	assert_int_equal(r.family, o.family);
	assert_memory_equal(r.daddr, o.daddr, 16 * (o.family == 6) + 4 * (o.family == 4));
	assert_memory_equal(r.saddr, o.saddr, 16 * (o.family == 6) + 4 * (o.family == 4));
	assert_int_equal(r.l4_proto, o.l4_proto);
	assert_int_equal(r.later_fragment, o.later);
	assert_int_equal(r.sport, o.sport);
	assert_int_equal(r.dport, o.dport);
}

static const __u8 ext_types[] = { HOP, RT, DST, AH, FRAG };

/* Build an IPv6 packet with the chain encoded in code (base-5 digits), n headers long. */
static void build_chain(struct pkt *p, unsigned long code, int n, unsigned int *seed, __u8 l4)
{
	struct pkt_spec s = { .dst = "2001:db8:1:2::3", .l4 = l4 };
	int i;

	for (i = 0; i < n; i++, code /= 5) {
		struct pkt_ext *e = &s.ext[i];

		e->type = ext_types[code % 5];
		if (e->type == AH)
			e->len = (__u16)(4 * (2 + rand_r(seed) % 20));
		else if (e->type != FRAG)
			e->len = (__u16)(8 * (1 + rand_r(seed) % 10));
		else
			e->more = (__u8)(rand_r(seed) & 1);
	}
	s.n_ext = (__u8)n;
	assert_true(pkt_build(p, &s));
}

/* Every chain of up to 5 headers, and random chains up to 10: the branch-free walk is exact. */
static void test_ipv6_chains(void **state)
{
	unsigned int seed = 1;
	unsigned long code, total;
	int n, i, checked = 0;
	struct pkt p;

	(void)state;
	for (n = 0; n <= 5; n++) {
		for (total = 1, i = 0; i < n; i++)
			total *= 5;
		for (code = 0; code < total; code++) {
			struct parse_result r;
			int ret;

			build_chain(&p, code, n, &seed, TCP);
			parse_buf(p.buf, p.len, &r, &ret);
			assert_int_equal(ret, 0);
			assert_int_equal(r.l4_proto, TCP);
			assert_int_equal(r.sport, 40000);
			assert_int_equal(r.dport, 443);
			assert_ptr_equal(r.l4 != NULL, 1);
			check_against_ref(p.buf, p.len, "chain");
			checked++;
		}
	}
	for (i = 0; i < 20000; i++) {
		struct parse_result r;
		int ret;

		n = 6 + rand_r(&seed) % 5;
		build_chain(&p, (unsigned long)rand_r(&seed) * (unsigned long)rand_r(&seed), n,
			    &seed, UDP);
		parse_buf(p.buf, p.len, &r, &ret);
		assert_int_equal(ret, n <= PARSE_IPV6_EXT_MAX ? 0 : PARSE_ERR(GC_PASS_IPV6_EXT));
		check_against_ref(p.buf, p.len, "long chain");
		checked++;
	}
	print_message("# %d chains\n", checked);
}

/* Random byte mutations and cuts of the fixtures: parse_packet agrees with the reference. */
static void test_mutations_against_ref(void **state)
{
	unsigned int seed = 42;
	size_t i;
	int k, ok = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		struct pkt base;

		assert_true(pkt_build(&base, &fixtures[i].spec));
		if (fixtures[i].fix)
			fixtures[i].fix(&base);
		check_against_ref(base.buf, base.len, fixtures[i].desc);
		for (k = 0; k < 3000; k++) {
			__u8 buf[PKT_MAX];
			size_t len = base.len, at;
			int m, muts = 1 + rand_r(&seed) % 4;

			memcpy(buf, base.buf, len);
			for (m = 0; m < muts; m++) {
				/* mostly header bytes: that is where the decisions are */
				at = (size_t)rand_r(&seed) %
				     (base.l4_end + 8 < len ? base.l4_end + 8 : len);
				buf[at] = (__u8)rand_r(&seed);
			}
			if (rand_r(&seed) % 4 == 0)
				len = (size_t)rand_r(&seed) % (len + 1);
			check_against_ref(buf, len, fixtures[i].desc);
			ok++;
		}
	}
	print_message("# %d mutated frames\n", ok);
}

/* The builder's lengths and checksums verify (a checksum over its own field sums to zero). */
static void test_pktgen_checksums(void **state)
{
	size_t i;
	int checked = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const __u8 *ip, *l4;
		struct pkt p;
		size_t l4len;
		__u32 sum;

		if (fixtures[i].fix || !fixtures[i].spec.dst)
			continue;
		assert_true(pkt_build(&p, &fixtures[i].spec));
		ip = p.buf + p.l3_off;
		if (p.family == 4) {
			assert_int_equal(pkt_get_be16(ip + 2), p.len - p.l3_off);
			assert_int_equal(pkt_csum(ip, (size_t)(ip[0] & 0xf) * 4, 0), 0);
		} else {
			assert_int_equal(pkt_get_be16(ip + 4), p.len - p.l3_off - 40);
		}
		if (!p.l4_off)
			continue;
		l4 = p.buf + p.l4_off;
		l4len = p.len - p.l4_off;
		if (p.l4_proto == UDP)
			assert_int_equal(pkt_get_be16(l4 + 4), l4len);
		sum = p.l4_proto == PARSE_IPPROTO_ICMP ? 0 : pkt_pseudo_sum(&p, p.l4_proto, l4len);
		assert_int_equal(pkt_csum(l4, l4len, sum), 0);
		checked++;
	}
	print_message("# %d checksums\n", checked);
	assert_true(checked > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pktgen_checksums),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_ipv6_chains),
		cmocka_unit_test(test_mutations_against_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
