// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guard program through BPF_PROG_TEST_RUN (needs root): the real skeleton loaded by
 * loader_load() with a hand-built policy, every fixture run through guard_xdp and
 * guard_tc_ingress, asserting the return code, the counter deltas (every verdict and note
 * counter, summed over CPUs), the list-hit deltas and the trace. Then every truncation of a
 * set of frames, the trace knob off, and a differential test of the kernel lookups against
 * iptable_lookup() on random prefix sets.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/log.h"
#include "user/policy.h"
#include "bpf/pktgen.h"
#include "bpf/harness.h"

#define TCP PARSE_IPPROTO_TCP
#define UDP PARSE_IPPROTO_UDP
#define ICMP PARSE_IPPROTO_ICMP
#define HOP PARSE_IPPROTO_HOPOPTS
#define RT PARSE_IPPROTO_ROUTING
#define DST PARSE_IPPROTO_DSTOPTS
#define AH PARSE_IPPROTO_AH
#define FRAG PARSE_IPPROTO_FRAGMENT
#define Q 0x8100
#define AD 0x88a8
#define NB(x) NOTE_BIT(GC_NOTE_##x)
#define NOLIST (-1)

/* --- the policy of the fixtures --- */

enum { CAT_ADULT = 0, CAT_MALWARE = 1, CAT_GAMES = 2 };
#define BLOCK_MASK ((1ull << CAT_ADULT) | (1ull << CAT_MALWARE)) /* games are off */

enum { L_V4 = 0, L_V6 = 1, L_ALLOW = 2, L_SRC = 3, L_GAMES = 4, N_LISTS = 5 };

static const struct {
	const char *name, *category;
	__u32 category_id, action;
} lists[N_LISTS] = {
	[L_V4] = { "v4-adult", "adult", CAT_ADULT, LIST_BLOCK },
	[L_V6] = { "v6-malware", "malware", CAT_MALWARE, LIST_BLOCK },
	[L_ALLOW] = { "allow", "adult", CAT_ADULT, LIST_ALLOW },
	[L_SRC] = { "bad-sources", "malware", CAT_MALWARE, LIST_BLOCK },
	[L_GAMES] = { "games", "games", CAT_GAMES, LIST_BLOCK },
};

static const struct {
	const char *cidr;
	int dir, list;
} entries[] = {
	{ "10.0.0.0/8", IPT_DIR_DST, L_V4 },
	{ "10.1.2.0/24", IPT_DIR_DST, L_ALLOW }, /* allow inside a block */
	{ "172.16.0.0/16", IPT_DIR_DST, L_V4 },
	{ "203.0.113.0/24", IPT_DIR_DST, L_V4 },
	{ "203.0.113.9", IPT_DIR_DST, L_ALLOW }, /* a /32 allow inside a /24 block */
	{ "198.51.100.128/25", IPT_DIR_DST, L_V4 },
	{ "100.64.1.1/32", IPT_DIR_DST, L_V4 },
	{ "100.100.0.0/16", IPT_DIR_DST, L_GAMES },
	{ "100.100.5.0/24", IPT_DIR_DST, L_V4 }, /* a blocked category inside an off one */
	{ "198.18.0.0/15", IPT_DIR_SRC, L_SRC },
	{ "2001:db8::/32", IPT_DIR_DST, L_V6 },
	{ "2001:db8:aaaa::/48", IPT_DIR_DST, L_ALLOW },
	{ "2a00:1450:4001::/48", IPT_DIR_DST, L_V6 },
	{ "2a02:26f0:100:200::/64", IPT_DIR_DST, L_V6 },
	{ "2a02:26f0:100:200::1/128", IPT_DIR_DST, L_ALLOW }, /* trie: allow inside a /64 */
	{ "2620:fe::fe/128", IPT_DIR_DST, L_V6 },
	{ "2a0b:4d07::/32", IPT_DIR_DST, L_GAMES },
	{ "2001:db8:bad::/48", IPT_DIR_SRC, L_SRC },
};

/* --- fixtures --- */

struct fixture {
	const char *desc;
	struct pkt_spec spec;
	void (*fix)(struct pkt *p); /* after pkt_build: make it malformed */
	int verdict; /* GV_PASS / GV_DROP */
	__u32 counter; /* the verdict counter */
	__u32 notes; /* NB() of every note counter expected */
	int list; /* the list with a hit, or NOLIST */
};

static void fix_version(struct pkt *p)
{
	p->buf[p->l3_off] = (__u8)((p->buf[p->l3_off] & 0x0f) | 0x50);
}

static void fix_ihl4(struct pkt *p)
{
	p->buf[p->l3_off] = 0x44;
}

static void fix_cut_l4(struct pkt *p)
{
	p->len = p->l4_off + 10;
}

/* clang-format off */
#define V4(d, ...) { .dst = d, .l4 = TCP, __VA_ARGS__ }
#define V6(d, ...) { .dst = d, .l4 = UDP, __VA_ARGS__ }
/* clang-format on */
#define DROP_DST(l) GV_DROP, GC_DROP_IP_DST, 0, l
#define DROP_SRC GV_DROP, GC_DROP_IP_SRC, 0, L_SRC
#define NOMATCH GV_PASS, GC_PASS_NOMATCH, 0, NOLIST
#define ALLOW GV_PASS, GC_PASS_ALLOW, 0, L_ALLOW
#define CAT_OFF GV_PASS, GC_PASS_CATEGORY_OFF, 0, NOLIST
/* with notes */
#define DROP_DST_N(l, notes) GV_DROP, GC_DROP_IP_DST, notes, l
#define DROP_SRC_N(notes) GV_DROP, GC_DROP_IP_SRC, notes, L_SRC
#define PASS_N(counter, notes) GV_PASS, GC_##counter, notes, NOLIST

static const struct fixture fixtures[] = {
	/* IPv4, every prefix length: a hit and a miss next to it */
	{ "v4 /8 hit", V4("10.9.8.7"), NULL, DROP_DST(L_V4) },
	{ "v4 /8 miss", V4("11.0.0.1"), NULL, NOMATCH },
	{ "v4 /8 miss below", V4("9.255.255.255"), NULL, NOMATCH },
	{ "v4 /16 hit", V4("172.16.99.1"), NULL, DROP_DST(L_V4) },
	{ "v4 /16 miss", V4("172.17.0.1"), NULL, NOMATCH },
	{ "v4 /24 hit", V4("203.0.113.200"), NULL, DROP_DST(L_V4) },
	{ "v4 /24 miss", V4("203.0.114.1"), NULL, NOMATCH },
	{ "v4 /25 hit", V4("198.51.100.200"), NULL, DROP_DST(L_V4) },
	{ "v4 /25 miss", V4("198.51.100.127"), NULL, NOMATCH },
	{ "v4 /32 hit", V4("100.64.1.1"), NULL, DROP_DST(L_V4) },
	{ "v4 /32 miss", V4("100.64.1.2"), NULL, NOMATCH },
	{ "v4 allow /24 inside a /8 block", V4("10.1.2.3"), NULL, ALLOW },
	{ "v4 /8 block around the allow", V4("10.1.3.3"), NULL, DROP_DST(L_V4) },
	{ "v4 allow /32 inside a /24 block", V4("203.0.113.9"), NULL, ALLOW },
	{ "v4 category off", V4("100.100.1.1"), NULL, CAT_OFF },
	{ "v4 blocked /24 inside an off /16", V4("100.100.5.5"), NULL, DROP_DST(L_V4) },
	{ "v4 udp hit", { .dst = "10.0.0.1", .l4 = UDP }, NULL, DROP_DST(L_V4) },
	{ "v4 icmp hit", { .dst = "10.0.0.1", .l4 = ICMP }, NULL, DROP_DST_N(L_V4, NB(L4_OTHER)) },
	{ "v4 gre miss", { .dst = "11.0.0.1", .l4 = 47 }, NULL, PASS_N(PASS_NOMATCH, NB(L4_OTHER)) },
	/* source lists */
	{ "v4 source hit", V4("192.0.2.10", .src = "198.19.1.1"), NULL, DROP_SRC },
	{ "v4 source miss", V4("192.0.2.10", .src = "198.20.0.1"), NULL, NOMATCH },
	{ "v4 source list does not match destinations", V4("198.19.1.1"), NULL, NOMATCH },
	{ "v4 source hit beats a destination allow", V4("10.1.2.3", .src = "198.18.0.1"), NULL,
	  DROP_SRC },
	{ "v4 destination drop judged first", V4("10.9.9.9", .src = "198.18.0.1"), NULL,
	  DROP_DST(L_V4) },
	{ "v4 destination allow, source clean", V4("10.1.2.3", .src = "198.20.0.1"), NULL, ALLOW },
	{ "v4 destination category off, source clean", V4("100.100.1.1", .src = "198.20.0.1"), NULL,
	  CAT_OFF },
	/* IPv6, every prefix length */
	{ "v6 /32 hit", V6("2001:db8:1::1"), NULL, DROP_DST(L_V6) },
	{ "v6 /32 miss", V6("2001:db9::1"), NULL, NOMATCH },
	{ "v6 /48 hit", V6("2a00:1450:4001:81c::200e"), NULL, DROP_DST(L_V6) },
	{ "v6 /48 miss", V6("2a00:1450:4002::1"), NULL, NOMATCH },
	{ "v6 /64 hit", V6("2a02:26f0:100:200::abcd"), NULL, DROP_DST(L_V6) },
	{ "v6 /64 miss", V6("2a02:26f0:100:201::1"), NULL, NOMATCH },
	{ "v6 /128 hit", V6("2620:fe::fe"), NULL, DROP_DST(L_V6) },
	{ "v6 /128 miss", V6("2620:fe::ff"), NULL, NOMATCH },
	{ "v6 /128 miss, other /24", V6("2620:ff::fe"), NULL, NOMATCH },
	{ "v6 allow /48 inside a /32 block", V6("2001:db8:aaaa::1"), NULL, ALLOW },
	{ "v6 allow /128 inside a /64 block", V6("2a02:26f0:100:200::1"), NULL, ALLOW },
	{ "v6 category off", V6("2a0b:4d07::53"), NULL, CAT_OFF },
	{ "v6 tcp hit", { .dst = "2620:fe::fe", .l4 = TCP }, NULL, DROP_DST(L_V6) },
	{ "v6 icmpv6 hit",
	  { .dst = "2620:fe::fe", .l4 = PARSE_IPPROTO_ICMPV6 },
	  NULL,
	  DROP_DST_N(L_V6, NB(L4_OTHER)) },
	{ "v6 source hit", V6("2001:db9::1", .src = "2001:db8:bad:1::1"), NULL, DROP_SRC },
	{ "v6 source miss", V6("2001:db9::1", .src = "2001:db8:bae::1"), NULL, NOMATCH },
	/* VLAN */
	{ "vlan hit", V4("10.9.8.7", .vlan = { Q }), NULL, DROP_DST_N(L_V4, NB(VLAN)) },
	{ "vlan miss", V6("2001:db9::1", .vlan = { Q }), NULL, PASS_N(PASS_NOMATCH, NB(VLAN)) },
	{ "802.1ad tag", V4("10.9.8.7", .vlan = { AD }), NULL, DROP_DST_N(L_V4, NB(VLAN)) },
	{ "qinq hit", V4("10.9.8.7", .vlan = { AD, Q }), NULL, DROP_DST_N(L_V4, NB(QINQ)) },
	{ "qinq v6 hit", V6("2620:fe::fe", .vlan = { Q, Q }), NULL, DROP_DST_N(L_V6, NB(QINQ)) },
	{ "three tags", V4("10.9.8.7", .vlan = { AD, Q, Q }), NULL, PASS_N(PASS_VLAN_DEPTH, 0) },
	/* IPv4 options and fragments */
	{ "v4 options hit", V4("10.9.8.7", .ip_opts = 40), NULL,
	  DROP_DST_N(L_V4, NB(IPV4_OPTIONS)) },
	{ "v4 options miss", V4("11.9.8.7", .ip_opts = 4), NULL,
	  PASS_N(PASS_NOMATCH, NB(IPV4_OPTIONS)) },
	{ "v4 first fragment hit", V4("10.9.8.7", .frag = PARSE_IPV4_MF), NULL,
	  DROP_DST_N(L_V4, NB(IPV4_FRAGMENT)) },
	{ "v4 later fragment hit", V4("10.9.8.7", .frag = 185), NULL,
	  DROP_DST_N(L_V4, NB(IPV4_FRAGMENT) | NB(IPV4_LATER_FRAGMENT)) },
	{ "v4 middle fragment miss", V4("11.9.8.7", .frag = PARSE_IPV4_MF | 185), NULL,
	  PASS_N(PASS_NOMATCH, NB(IPV4_FRAGMENT) | NB(IPV4_LATER_FRAGMENT)) },
	{ "v4 later fragment from a bad source", V4("11.9.8.7", .src = "198.18.3.3", .frag = 9),
	  NULL, DROP_SRC_N(NB(IPV4_FRAGMENT) | NB(IPV4_LATER_FRAGMENT)) },
	/* IPv6 extension headers */
	{ "v6 hop-by-hop hit", V6("2620:fe::fe", .ext = { { HOP } }, .n_ext = 1), NULL,
	  DROP_DST_N(L_V6, NB(IPV6_EXT)) },
	{ "v6 routing hit", V6("2620:fe::fe", .ext = { { RT, 24 } }, .n_ext = 1), NULL,
	  DROP_DST_N(L_V6, NB(IPV6_EXT)) },
	{ "v6 dest-opts miss", V6("2620:fe::ff", .ext = { { DST, 16 } }, .n_ext = 1), NULL,
	  PASS_N(PASS_NOMATCH, NB(IPV6_EXT)) },
	{ "v6 hop, routing, dest-opts, ah chain hit",
	  V6("2a00:1450:4001::1", .ext = { { HOP, 8 }, { RT, 40 }, { DST, 8 }, { AH, 24 } },
	     .n_ext = 4),
	  NULL, DROP_DST_N(L_V6, NB(IPV6_EXT)) },
	{ "v6 first fragment hit",
	  V6("2620:fe::fe", .ext = { { HOP }, { FRAG, 0, 0, 1 } }, .n_ext = 2), NULL,
	  DROP_DST_N(L_V6, NB(IPV6_EXT) | NB(IPV6_FRAGMENT)) },
	{ "v6 later fragment hit", V6("2620:fe::fe", .ext = { { FRAG, 0, 181, 0 } }, .n_ext = 1),
	  NULL, DROP_DST_N(L_V6, NB(IPV6_EXT) | NB(IPV6_FRAGMENT) | NB(IPV6_LATER_FRAGMENT)) },
	{ "v6 later fragment miss after dest-opts",
	  V6("2620:fe::ff", .ext = { { DST }, { FRAG, 0, 2, 1 } }, .n_ext = 2), NULL,
	  PASS_N(PASS_NOMATCH, NB(IPV6_EXT) | NB(IPV6_FRAGMENT) | NB(IPV6_LATER_FRAGMENT)) },
	{ "v6 eight headers hit",
	  V6("2620:fe::fe",
	     .ext = { { HOP }, { DST }, { RT }, { AH }, { DST }, { RT }, { AH }, { DST } },
	     .n_ext = 8),
	  NULL, DROP_DST_N(L_V6, NB(IPV6_EXT)) },
	{ "v6 nine headers: over the limit",
	  V6("2620:fe::fe",
	     .ext = { { HOP }, { DST }, { RT }, { AH }, { DST }, { RT }, { AH }, { DST }, { DST } },
	     .n_ext = 9),
	  NULL, PASS_N(PASS_IPV6_EXT, NB(IPV6_EXT)) },
	/* malformed and odd frames */
	{ "tcp doff 4", V4("10.9.8.7", .doff = 4), NULL, PASS_N(PASS_BAD_HEADER, 0) },
	{ "arp", { .ethertype = 0x0806 }, NULL, PASS_N(PASS_NOT_IP, 0) },
	{ "lldp in a vlan",
	  { .vlan = { Q }, .ethertype = 0x88cc },
	  NULL,
	  PASS_N(PASS_NOT_IP, NB(VLAN)) },
	{ "ip version 5 behind 0x0800", V4("10.9.8.7"), fix_version, PASS_N(PASS_BAD_HEADER, 0) },
	{ "ip version 5 behind 0x86dd", V6("2620:fe::fe"), fix_version,
	  PASS_N(PASS_BAD_HEADER, 0) },
	{ "ihl 4", V4("10.9.8.7"), fix_ihl4, PASS_N(PASS_BAD_HEADER, 0) },
	{ "tcp header cut", V4("10.9.8.7"), fix_cut_l4, PASS_N(PASS_TRUNCATED, 0) },
};

/* --- map access --- */

struct dp_state {
	struct guard_policy *pol;
	struct guard *skel;
	int ncpus;
	int cpu; /* the CPU the test runs on: its trace slot is the one written */
	/* a second load for one test (freed by the group teardown if the test fails) */
	struct guard_policy *pol2;
	struct guard *skel2;
};

static void snap(const struct dp_state *s, struct guard *skel, struct snapshot *sn)
{
	harness_snap(skel, s->ncpus, GUARD_MAX_LISTS, sn);
}

static void trace_reset(const struct dp_state *s, struct guard *skel)
{
	harness_trace_reset(skel, s->ncpus);
}

static void trace_read(const struct dp_state *s, struct guard *skel, struct guard_trace *out)
{
	harness_trace_read(skel, s->ncpus, s->cpu, out);
}

enum hook { HOOK_XDP = 0, HOOK_TC = 1, HOOK_TC_EGRESS = 2 };
static const char *const hook_name[] = { "xdp", "tc", "tc egress" };

/* Run one frame through a hook: 0 and *retval, or the test run's -errno. */
static int try_run(struct guard *skel, enum hook hook, const void *frame, size_t len, int *retval)
{
	__u8 out[PKT_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	struct bpf_program *prog = hook == HOOK_XDP ? skel->progs.guard_xdp :
				   hook == HOOK_TC  ? skel->progs.guard_tc_ingress :
						      skel->progs.guard_tc_egress;
	int fd = bpf_program__fd(prog);
	int err = bpf_prog_test_run_opts(fd, &opts);

	*retval = (int)opts.retval;
	return err;
}

/* Run one frame through a hook; returns the program's return code. */
static int run(struct guard *skel, enum hook hook, const void *frame, size_t len)
{
	int ret, err = try_run(skel, hook, frame, len, &ret);

	if (err)
		fail_msg("%s test run of %zu bytes: %s", hook_name[hook], len, strerror(-err));
	return ret;
}

static int expected_retval(enum hook hook, int verdict)
{
	if (hook == HOOK_XDP)
		return verdict == GV_DROP ? XDP_DROP : XDP_PASS;
	return verdict == GV_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

static const char *counter_name(__u32 c)
{
	return c < GC_COUNTER_MAX ? guard_counter_info[c].name : "?";
}

/*
 * The deltas between two snapshots are exactly: +1 packet of len bytes on counter and on each
 * note of notes, +1 on list (unless NOLIST), nothing else.
 */
static void check_deltas(const char *what, const struct snapshot *a, const struct snapshot *b,
			 __u32 counter, __u32 notes, int list, size_t len)
{
	__u32 i;

	for (i = 0; i < GC_COUNTER_MAX; i++) {
		bool want = i == counter || (i >= GC_VERDICT_MAX && (notes & NOTE_BIT(i)));
		__u64 dp = b->c[i].packets - a->c[i].packets, db = b->c[i].bytes - a->c[i].bytes;

		if (dp != (want ? 1 : 0) || db != (want ? len : 0))
			fail_msg("%s: counter %s moved by %llu packets %llu bytes, expected %d/%zu",
				 what, counter_name(i), (unsigned long long)dp,
				 (unsigned long long)db, want, want ? len : 0);
	}
	for (i = 0; i < GUARD_MAX_LISTS; i++) {
		bool want = list >= 0 && i == (__u32)list;
		__u64 dp = b->hits[i].packets - a->hits[i].packets;
		__u64 db = b->hits[i].bytes - a->hits[i].bytes;

		if (dp != (want ? 1 : 0) || db != (want ? len : 0))
			fail_msg("%s: list %u hits moved by %llu packets %llu bytes, expected %d",
				 what, i, (unsigned long long)dp, (unsigned long long)db, want);
	}
}

/* Exactly one verdict counter moved, by one packet; returns it. */
static __u32 one_verdict(const char *what, const struct snapshot *a, const struct snapshot *b)
{
	__u32 i, found = GC_VERDICT_MAX;
	int moved = 0;

	for (i = 0; i < GC_VERDICT_MAX; i++) {
		__u64 dp = b->c[i].packets - a->c[i].packets;

		if (dp) {
			moved += (int)dp;
			found = i;
		}
	}
	if (moved != 1)
		fail_msg("%s: %d verdict counts, expected exactly one", what, moved);
	return found;
}

/* --- setup --- */

static struct ipt_entry mk_entry(const char *cidr, int dir, int list)
{
	struct ipt_entry e = { 0 };
	const char *why = "";

	if (ip_prefix_parse(cidr, &e.prefix, false, &why))
		fail_msg("bad test prefix %s: %s", cidr, why);
	e.dir = (__u8)dir;
	e.allow = lists[list].action == LIST_ALLOW;
	e.list_id = (__u16)list;
	e.category = lists[list].category_id;
	return e;
}

static void fill_lists(struct guard_policy *pol)
{
	int i;

	for (i = 0; i < N_LISTS; i++) {
		struct list_meta *m = &pol->lists[i];

		str_copy(m->name, lists[i].name, sizeof(m->name));
		str_copy(m->category, lists[i].category, sizeof(m->category));
		m->category_id = lists[i].category_id;
		m->action = lists[i].action;
	}
	pol->n_lists = N_LISTS;
	pol->groups[0].block_mask = BLOCK_MASK;
}

/* Load pol (its IP tables built by the test; its domain table, empty, is built here). */
static int load(struct guard_policy *pol, bool trace, struct guard **skel)
{
	struct loader_opts o = LOADER_OPTS_INIT;
	int err;

	if (!pol->dom.built) {
		err = domtable_build(&pol->dom);
		if (err)
			return err;
	}
	o.trace = trace;
	return loader_load(pol, &o, skel);
}

static int group_setup(void **state)
{
	struct ipt_entry e[ARRAY_SIZE(entries)];
	struct dp_state *s = calloc(1, sizeof(*s));
	size_t i;
	int err;

	if (!s)
		return -1;
	*state = s;
	if (geteuid() != 0) {
		fprintf(stderr, "test_datapath needs root (BPF_PROG_TEST_RUN, map creation)\n");
		return -1;
	}
	/* Run on one CPU so that the per-CPU trace slot of the test runs is known. */
	if (harness_pin_cpu(&s->cpu))
		return -1;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= s->cpu)
		return -1;

	s->pol = policy_new();
	if (!s->pol)
		return -1;
	for (i = 0; i < ARRAY_SIZE(entries); i++)
		e[i] = mk_entry(entries[i].cidr, entries[i].dir, entries[i].list);
	err = iptable_build(&s->pol->ipt, e, ARRAY_SIZE(e));
	if (err) {
		fprintf(stderr, "iptable_build: %s\n", strerror(-err));
		return -1;
	}
	fill_lists(s->pol);
	err = load(s->pol, true, &s->skel);
	if (err) {
		fprintf(stderr, "loader_load: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct dp_state *s = *state;

	if (!s)
		return 0;
	guard__destroy(s->skel2);
	policy_free(s->pol2);
	guard__destroy(s->skel);
	policy_free(s->pol);
	free(s);
	return 0;
}

/* --- tests --- */

/* The leaf the deciding address has on the host, for the trace check. */
static __u32 host_leaf(const struct guard_policy *pol, const struct pkt *p, int dir)
{
	const __u8 *ip = p->buf + p->l3_off;
	const __u8 *a = p->family == 4 ? ip + (dir == IPT_DIR_SRC ? 12 : 16) :
					 ip + (dir == IPT_DIR_SRC ? 8 : 24);

	return iptable_lookup(&pol->ipt, p->family, dir, a);
}

static void run_fixture(struct dp_state *s, const struct fixture *f, enum hook hook)
{
	struct snapshot a, b;
	struct guard_trace t;
	char what[160];
	struct pkt p;
	int ret;

	snprintf(what, sizeof(what), "%s [%s]", f->desc, hook_name[hook]);
	if (!pkt_build(&p, &f->spec))
		fail_msg("%s: the fixture does not build", what);
	if (f->fix)
		f->fix(&p);
	snap(s, s->skel, &a);
	trace_reset(s, s->skel);
	ret = run(s->skel, hook, p.buf, p.len);
	snap(s, s->skel, &b);
	trace_read(s, s->skel, &t);

	if (ret != expected_retval(hook, f->verdict))
		fail_msg("%s: returned %d, expected %d", what, ret,
			 expected_retval(hook, f->verdict));
	check_deltas(what, &a, &b, f->counter, f->notes, f->list, p.len);
	if (t.counter != f->counter || t.verdict != (__u32)f->verdict || t.group != 0)
		fail_msg("%s: trace says %s verdict %u group %u", what, counter_name(t.counter),
			 t.verdict, t.group);
	if (f->counter == GC_DROP_IP_DST || f->counter == GC_DROP_IP_SRC ||
	    f->counter == GC_PASS_ALLOW || f->counter == GC_PASS_CATEGORY_OFF) {
		int dir = f->counter == GC_DROP_IP_SRC ? IPT_DIR_SRC : IPT_DIR_DST;
		__u32 leaf = host_leaf(s->pol, &p, dir);

		if (t.leaf_id != leaf || leaf == IPT_LEAF_NONE)
			fail_msg("%s: trace leaf %u, host lookup %u", what, t.leaf_id, leaf);
		if (t.list_id != s->pol->ipt.leaves[leaf].list_id ||
		    (f->list != NOLIST && t.list_id != (__u32)f->list))
			fail_msg("%s: trace list %u, expected %d", what, t.list_id, f->list);
	} else if (t.leaf_id != IPT_LEAF_NONE || t.list_id != 0) {
		fail_msg("%s: trace leaf %u list %u for a packet that matched nothing", what,
			 t.leaf_id, t.list_id);
	}
}

static void test_fixtures_xdp(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixtures); i++)
		run_fixture(*state, &fixtures[i], HOOK_XDP);
}

static void test_fixtures_tc(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		run_fixture(*state, &fixtures[i], HOOK_TC);
		run_fixture(*state, &fixtures[i], HOOK_TC_EGRESS);
	}
}

/*
 * Every verdict counter of the parse and the IP rules has a fixture, and so has every note of
 * the parse. (The name stage's counters and notes: tests/bpf/test_names.c.)
 */
static void test_fixture_coverage(void **state)
{
	__u64 seen = 0;
	__u32 notes = 0, c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		seen |= 1ull << fixtures[i].counter;
		notes |= fixtures[i].notes;
	}
	for (c = 0; c <= GC_DROP_IP_SRC; c++)
		if (!(seen & (1ull << c)))
			fail_msg("verdict counter %s has no fixture", counter_name(c));
	for (c = GC_VERDICT_MAX; c <= GC_NOTE_L4_OTHER; c++)
		if (!(notes & NOTE_BIT(c)))
			fail_msg("note counter %s has no fixture", counter_name(c));
}

/*
 * Cut frames at every byte from the Ethernet header's end to the end of their last parsed
 * header: each is a pass, counted once, as PASS_TRUNCATED. The kernel refuses some test runs:
 * any frame shorter than 14 bytes, and for TC an untagged frame that ends inside its first
 * IPv4/IPv6 header (the skb test run reads it); XDP runs those cuts, and
 * tests/unit/test_parse.c runs every cut below 14 bytes on the same parser.
 */
static void test_truncation(void **state)
{
	static const struct pkt_spec bases[] = {
		V4("10.9.8.7"),
		V4("10.9.8.7", .vlan = { AD, Q }, .ip_opts = 12, .doff = 8),
		{ .dst = "10.9.8.7", .l4 = UDP, .vlan = { Q } },
		{ .dst = "10.9.8.7", .l4 = ICMP },
		V6("2620:fe::fe"),
		{ .dst = "2620:fe::fe", .l4 = TCP, .doff = 6 },
		V6("2620:fe::fe", .vlan = { Q },
		   .ext = { { HOP }, { RT, 24 }, { FRAG, 0, 0, 1 }, { AH, 16 }, { DST, 16 } },
		   .n_ext = 5),
		V6("2620:fe::fe", .ext = { { DST }, { FRAG, 0, 7, 1 } }, .n_ext = 2),
	};
	struct dp_state *s = *state;
	int hook, cuts = 0, refused = 0;
	size_t i, cut;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		struct pkt p;

		assert_true(pkt_build(&p, &bases[i]));
		for (hook = HOOK_XDP; hook <= HOOK_TC; hook++) {
			for (cut = sizeof(struct hdr_eth); cut <= p.l4_end; cut++) {
				struct snapshot a, b;
				char what[96];
				__u32 c;
				int ret;

				snprintf(what, sizeof(what), "frame %zu cut at %zu of %zu [%s]", i,
					 cut, p.l4_end, hook_name[hook]);
				snap(s, s->skel, &a);
				if (try_run(s->skel, hook, p.buf, cut, &ret) == -EINVAL &&
				    hook == HOOK_TC && !bases[i].vlan[0] &&
				    cut < p.l3_off + (p.family == 4 ? sizeof(struct hdr_ipv4) :
								      sizeof(struct hdr_ipv6))) {
					refused++;
					continue;
				}
				snap(s, s->skel, &b);
				c = one_verdict(what, &a, &b);
				if (cut < p.l4_end) {
					if (ret != expected_retval(hook, GV_PASS) ||
					    c != GC_PASS_TRUNCATED)
						fail_msg("%s: returned %d, counted %s", what, ret,
							 counter_name(c));
					if (b.c[c].bytes - a.c[c].bytes != cut)
						fail_msg("%s: counted %llu bytes", what,
							 (unsigned long long)(b.c[c].bytes -
									      a.c[c].bytes));
				} else if (ret != expected_retval(hook, GV_DROP) ||
					   c != GC_DROP_IP_DST) {
					/* the whole header: every base frame goes to a blocked address */
					fail_msg("%s: the full headers returned %d, counted %s",
						 what, ret, counter_name(c));
				}
				cuts++;
			}
		}
	}
	print_message("# %d cut frames run, %d refused by the TC test run\n", cuts, refused);
	assert_true(refused < cuts / 4);
}

/* Free the second load of a test that passed (the group teardown frees it otherwise). */
static void drop_second(struct dp_state *s)
{
	guard__destroy(s->skel2);
	s->skel2 = NULL;
	policy_free(s->pol2);
	s->pol2 = NULL;
}

/* With cfg_trace off, the trace map is never written; the counters still are. */
static void test_trace_off(void **state)
{
	static const struct pkt_spec spec = V4("10.9.8.7");
	struct dp_state *s = *state;
	struct ipt_entry e = mk_entry("10.0.0.0/8", IPT_DIR_DST, L_V4);
	struct guard_trace t, marker;
	struct snapshot a, b;
	struct pkt p;
	int hook;

	s->pol2 = policy_new();
	assert_non_null(s->pol2);
	assert_int_equal(iptable_build(&s->pol2->ipt, &e, 1), 0);
	fill_lists(s->pol2);
	assert_false(s->pol2->ipt.has_src);
	assert_int_equal(load(s->pol2, false, &s->skel2), 0);
	assert_int_equal(s->skel2->rodata->cfg_trace, 0);
	assert_int_equal(s->skel2->rodata->cfg_has_src, 0);
	assert_true(pkt_build(&p, &spec));
	memset(&marker, 0xee, sizeof(marker));
	for (hook = HOOK_XDP; hook <= HOOK_TC; hook++) {
		trace_reset(s, s->skel2);
		snap(s, s->skel2, &a);
		assert_int_equal(run(s->skel2, hook, p.buf, p.len), expected_retval(hook, GV_DROP));
		snap(s, s->skel2, &b);
		check_deltas("trace off", &a, &b, GC_DROP_IP_DST, 0, L_V4, p.len);
		trace_read(s, s->skel2, &t);
		assert_memory_equal(&t, &marker, sizeof(t));
	}
	drop_second(s);
}

/* --- differential: kernel lookups against iptable_lookup() on random prefix sets --- */

struct rnd {
	__u64 s;
};

static __u32 rnd32(struct rnd *r)
{
	/* xorshift64*: reproducible from the printed seed */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (__u32)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

static __u32 rnd_below(struct rnd *r, __u32 n)
{
	return rnd32(r) % n;
}

/*
 * A random address of family fam near the clusters the prefixes are drawn from; spread widens
 * the clusters (bigger sets need wider ones, or every address is covered).
 */
static void rnd_addr(struct rnd *r, int fam, __u8 *a, __u32 spread)
{
	static const __u8 v4_first[] = { 10, 100, 172, 198, 203 };
	static const __u8 v6_first[][2] = { { 0x20, 0x01 }, { 0x2a, 0x00 }, { 0x26, 0x20 } };
	int i;

	memset(a, 0, 16);
	for (i = 0; i < 16; i++)
		a[i] = (__u8)rnd32(r);
	if (rnd_below(r, 8) == 0)
		return; /* anywhere */
	if (fam == 4) {
		a[0] = v4_first[rnd_below(r, sizeof(v4_first))];
		if (rnd_below(r, 2))
			a[1] = (__u8)rnd_below(r, spread);
		if (rnd_below(r, 2))
			a[2] = (__u8)rnd_below(r, spread);
	} else {
		memcpy(a, v6_first[rnd_below(r, 3)], 2);
		if (rnd_below(r, 2))
			a[2] = (__u8)rnd_below(r, spread);
		if (rnd_below(r, 2)) /* many long prefixes in few /24s: the trie path */
			memset(a + 3, 0, 5 + rnd_below(r, 8));
	}
}

/* The host's verdict for a frame, computed as bpf/lib/verdict.h decides. */
struct host_verdict {
	__u32 counter, leaf, list;
};

static __u32 host_judge(const struct iptable *t, __u32 leaf, __u64 mask, __u32 drop)
{
	const struct ip_leaf *l;

	if (leaf == IPT_LEAF_NONE)
		return GC_PASS_NOMATCH;
	l = &t->leaves[leaf];
	if (l->block_cats & mask)
		return drop;
	if (l->flags & IP_LEAF_F_ALLOW)
		return GC_PASS_ALLOW;
	return l->block_cats ? GC_PASS_CATEGORY_OFF : GC_PASS_NOMATCH;
}

static struct host_verdict host_decide(const struct guard_policy *pol, int fam, const __u8 *src,
				       const __u8 *dst)
{
	const struct iptable *t = &pol->ipt;
	__u64 mask = pol->groups[0].block_mask;
	struct host_verdict v;

	v.leaf = iptable_lookup(t, fam, IPT_DIR_DST, dst);
	v.counter = host_judge(t, v.leaf, mask, GC_DROP_IP_DST);
	if (t->has_src && v.counter != GC_DROP_IP_DST) {
		__u32 sleaf = iptable_lookup(t, fam, IPT_DIR_SRC, src);
		__u32 sc = host_judge(t, sleaf, mask, GC_DROP_IP_SRC);

		if (sc == GC_DROP_IP_SRC || v.counter == GC_PASS_NOMATCH) {
			v.counter = sc;
			v.leaf = sleaf;
		}
	}
	if (v.counter == GC_PASS_NOMATCH)
		v.leaf = IPT_LEAF_NONE;
	v.list = v.leaf ? t->leaves[v.leaf].list_id : 0;
	return v;
}

static int rnd_plen(struct rnd *r, int fam)
{
	static const __u8 v4[] = { 0, 8, 12, 15, 16, 17, 20, 23, 24, 25, 27, 28, 30, 31, 32 };

	if (fam == 4)
		return rnd_below(r, 4) ? v4[1 + rnd_below(r, sizeof(v4) - 1)] :
					 (int)rnd_below(r, 33);
	switch (rnd_below(r, 4)) {
	case 0:
		return (int)rnd_below(r, 129);
	case 1:
		return 16 + (int)rnd_below(r, 9); /* arrays only */
	case 2:
		return 25 + (int)rnd_below(r, 40); /* the trie */
	default:
		return 64 + (int)rnd_below(r, 65);
	}
}

/* Does the kernel's IPv6 lookup of a reach the LPM trie (the /24 holds longer prefixes)? */
static bool host_v6_trie(const struct iptable *t, int dir, const __u8 *a)
{
	__u32 e = t->v6[dir * 256 + a[0]].e[a[1]];

	if (!(e & IPT_EXT))
		return false;
	return t->v6[e & IPT_PAYLOAD].e[a[2]] & IPT_EXT;
}

/* An address inside a random entry of family fam: its prefix, random host bits. */
static void rnd_inside(struct rnd *r, const struct ipt_entry *e, size_t n, int fam, __u8 *a)
{
	size_t k = rnd_below(r, (__u32)n), tries;
	int b;

	for (tries = 0; tries < n && e[k].prefix.family != fam; tries++)
		k = (k + 1) % n;
	if (e[k].prefix.family != fam)
		return;
	for (b = 0; b < 16; b++) {
		int bits = e[k].prefix.plen - b * 8;
		__u8 keep = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));

		a[b] = (__u8)((e[k].prefix.addr[b] & keep) | (rnd32(r) & ~keep));
	}
	if (fam == 4)
		memset(a + 4, 0, 12);
}

static void differential_round(struct dp_state *s, __u64 seed, size_t n_entries, bool with_src,
			       int n_frames)
{
	struct rnd r = { seed };
	struct ipt_entry *e = calloc(n_entries, sizeof(*e));
	int i, hook, mismatches = 0, by_counter[GC_VERDICT_MAX] = { 0 }, trie = 0;
	size_t k, short_ones = 0;
	__u32 spread = 4 + (__u32)(n_entries / 100);

	print_message("# differential round: seed %llu, %zu entries, %d frames\n",
		      (unsigned long long)seed, n_entries, n_frames);
	assert_non_null(e);
	for (k = 0; k < n_entries; k++) {
		int fam = rnd_below(&r, 2) ? 4 : 6, plen = rnd_plen(&r, fam), b;

		/* a few short prefixes, or they would cover every address drawn */
		while (plen < 16 && short_ones >= 6)
			plen = rnd_plen(&r, fam);
		short_ones += plen < 16;
		rnd_addr(&r, fam, e[k].prefix.addr, spread);
		if (fam == 4)
			memset(e[k].prefix.addr + 4, 0, 12);
		for (b = 0; b < 16; b++) {
			int bits = plen - b * 8;

			e[k].prefix.addr[b] &= bits >= 8 ? 0xff :
					       bits <= 0 ? 0 :
							   0xff << (8 - bits);
		}
		e[k].prefix.plen = (__u8)plen;
		e[k].prefix.family = (__u8)fam;
		e[k].dir = with_src && rnd_below(&r, 4) == 0 ? IPT_DIR_SRC : IPT_DIR_DST;
		e[k].allow = rnd_below(&r, 6) == 0;
		e[k].list_id = (__u16)rnd_below(&r, 8);
		e[k].category = rnd_below(&r, 4); /* category 3 is off */
	}
	s->pol2 = policy_new();
	assert_non_null(s->pol2);
	assert_int_equal(iptable_build(&s->pol2->ipt, e, n_entries), 0);
	s->pol2->groups[0].block_mask = 0x7;
	assert_int_equal(s->pol2->ipt.has_src, with_src);
	assert_int_equal(load(s->pol2, true, &s->skel2), 0);
	assert_int_equal(s->skel2->rodata->cfg_has_src, with_src);

	for (i = 0; i < n_frames; i++) {
		int fam = i % 2 ? 6 : 4;
		struct host_verdict want;
		struct guard_trace t;
		__u8 src[16], dst[16];
		struct pkt p;
		int ret;

		rnd_addr(&r, fam, src, spread);
		rnd_addr(&r, fam, dst, spread);
		/* half the frames go inside a prefix of the set (host bits random) */
		if (rnd_below(&r, 2))
			rnd_inside(&r, e, n_entries, fam, rnd_below(&r, 3) ? dst : src);
		pkt_init(&p);
		pkt_eth(&p);
		if (fam == 4)
			pkt_ipv4(&p, src, dst, 0, 0);
		else
			pkt_ipv6(&p, src, dst);
		pkt_udp(&p, 1000, 53);
		pkt_finish(&p);
		want = host_decide(s->pol2, fam, src, dst);
		by_counter[want.counter]++;
		if (fam == 6 && (host_v6_trie(&s->pol2->ipt, IPT_DIR_DST, dst) ||
				 (with_src && host_v6_trie(&s->pol2->ipt, IPT_DIR_SRC, src))))
			trie++;
		/* every fourth frame through TC too */
		for (hook = HOOK_XDP; hook <= (i % 4 == 0 ? HOOK_TC : HOOK_XDP); hook++) {
			trace_reset(s, s->skel2);
			ret = run(s->skel2, hook, p.buf, p.len);
			trace_read(s, s->skel2, &t);
			if (t.counter != want.counter || t.leaf_id != want.leaf ||
			    t.list_id != want.list ||
			    ret != expected_retval(hook, want.counter >= GC_DROP_IP_DST ?
								 GV_DROP :
								 GV_PASS)) {
				char sa[64], da[64];
				struct ip_prefix ps = { .plen = fam == 4 ? 32 : 128,
							.family = (__u8)fam };
				struct ip_prefix pd = ps;

				memcpy(ps.addr, src, 16);
				memcpy(pd.addr, dst, 16);
				print_error(
					"# seed %llu frame %d [%s] %s -> %s: kernel %s leaf %u list "
					"%u ret %d, host %s leaf %u list %u\n",
					(unsigned long long)seed, i, hook_name[hook],
					ip_prefix_format(&ps, sa, sizeof(sa)),
					ip_prefix_format(&pd, da, sizeof(da)),
					counter_name(t.counter), t.leaf_id, t.list_id, ret,
					counter_name(want.counter), want.leaf, want.list);
				mismatches++;
			}
		}
	}
	free(e);
	drop_second(s);
	print_message("# nomatch %d allow %d category-off %d drop-dst %d drop-src %d; through "
		      "the v6 trie %d; mismatches %d\n",
		      by_counter[GC_PASS_NOMATCH], by_counter[GC_PASS_ALLOW],
		      by_counter[GC_PASS_CATEGORY_OFF], by_counter[GC_DROP_IP_DST],
		      by_counter[GC_DROP_IP_SRC], trie, mismatches);
	assert_int_equal(mismatches, 0);
	/* the round means something only if every outcome and the trie path occur */
	assert_true(by_counter[GC_PASS_NOMATCH] > n_frames / 20);
	assert_true(by_counter[GC_PASS_ALLOW] > 0);
	assert_true(by_counter[GC_PASS_CATEGORY_OFF] > 0);
	assert_true(by_counter[GC_DROP_IP_DST] > n_frames / 20);
	assert_true(with_src ? by_counter[GC_DROP_IP_SRC] > 0 : by_counter[GC_DROP_IP_SRC] == 0);
	assert_true(trie > n_frames / 50);
}

static void test_differential(void **state)
{
	struct dp_state *s = *state;

	differential_round(s, 0x5eed0001, 200, true, 4000);
	differential_round(s, 0x5eed0002, 3000, true, 4000);
	differential_round(s, 0x5eed0003, 1000, false, 2000);
	differential_round(s, 0x5eed0004, 20000, true, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_coverage), cmocka_unit_test(test_fixtures_xdp),
		cmocka_unit_test(test_fixtures_tc),	 cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_trace_off),	 cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
