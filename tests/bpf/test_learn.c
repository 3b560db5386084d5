// SPDX-License-Identifier: GPL-2.0-only
/*
 * The time cut-off for flows already open (issue 4, bpf/lib/learn.h) through the real program
 * (needs root). A config whose [group] blocks games@school and social@school (so the policy
 * learns those two categories: pol->learn_mask) is compiled with policy_build() and loaded; the
 * test clients are in group 0, whose block mask the test writes as the daemon does at a
 * schedule boundary. Through XDP and TC ingress:
 *   - a DNS response for a games name (a CNAME, an A and an AAAA record) passes and fills map
 *     learned with both addresses, the games bit and the records' TTLs;
 *   - later packets to them (a TCP SYN, a segment the name stage examines, UDP, IPv6) pass while
 *     games is off in group 0's mask and drop as DROP_LEARNED once it is on;
 *   - an IP allow entry keeps its pass, an IP block entry its drop (with its list hit); a block
 *     entry of a category that is off lets the learned category decide;
 *   - expiry: an entry whose time is past passes and is removed (and its slot cleared); one
 *     about to expire is kept LEARN_KEEP_S by the packet; the slot filter (learn_slots) keeps
 *     a slot with time left and clears a stale one; TTLs are clamped; an address two names
 *     share gets both categories and the longer time;
 *   - nothing is learned from a name of a category that is not learned, an unlisted name, an
 *     allow entry, NXDOMAIN, a response to port 53, another port, a malformed answer; 20
 *     records give 16 addresses;
 *   - a differential: random answer sections (mutated, ANCOUNT past the records), the host's
 *     walk (bpf/lib/dnsresp.h) against what the kernel learned, address by address;
 *   - a policy without schedules does not hand responses over, ignores the map (size 1), and
 *     its program is smaller;
 *   - the verifier's work with learning on, bounded as for the other programs.
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/log.h"
#include "user/policy.h"
#include "bpf/lib/dnsresp.h"
#include "bpf/pktgen.h"
#include "bpf/harness.h"

#define NS 1000000000ll
#define CLIENT "192.0.2.10" /* group 0: the pupils are 192.0.2.128/25 */
#define CLIENT6 "2001:db8:c::10"
#define RESOLVER "198.51.100.53"
#define RESOLVER6 "2001:db8:2::53"

static char tmpdir[] = "/tmp/bpfguard-learn-XXXXXX";

static const char conf_learn[] = "[guard]\n"
				 "interfaces = none\n"
				 "[list adult]\n"
				 "path = adult.txt\n"
				 "category = adult\n"
				 "[list games]\n"
				 "path = games.txt\n"
				 "category = games\n"
				 "[list social]\n"
				 "path = social.txt\n"
				 "category = social\n"
				 "[list games-allow]\n"
				 "path = allow.txt\n"
				 "category = games\n"
				 "action = allow\n"
				 "[schedule school]\n"
				 "timezone = UTC\n"
				 "mon-fri = 08:00-12:00\n"
				 "[group pupils]\n"
				 "clients = 192.0.2.128/25\n"
				 "block = adult, games@school, social@school\n";

/* The same lists, no schedule: nothing to learn. */
static const char conf_plain[] = "[guard]\n"
				 "interfaces = none\n"
				 "[list adult]\n"
				 "path = adult.txt\n"
				 "category = adult\n"
				 "[list games]\n"
				 "path = games.txt\n"
				 "category = games\n"
				 "[group pupils]\n"
				 "clients = 192.0.2.128/25\n"
				 "block = adult, games\n";

struct lstate {
	struct guard_config *cfg;
	struct guard_policy *pol;
	struct guard *skel;
	int ncpus, cpu;
	__u64 games, social, adult; /* category bits */
	int list_adult, list_allow;
};

/* --- files, policy --- */

static void write_file(const char *name, const char *text)
{
	harness_write_file(tmpdir, name, text);
}

static int build(const char *text, struct guard_config **cfg, struct guard_policy **pol)
{
	struct diag d = { .max_print = 20 };

	if (config_parse("learn.conf", tmpdir, text, strlen(text), &d, cfg))
		return -1;
	return policy_build(*cfg, &d, pol) ? -1 : 0;
}

static int list_of(const struct guard_policy *pol, const char *name)
{
	__u32 i;

	for (i = 0; i < pol->n_lists; i++)
		if (!strcmp(pol->lists[i].name, name))
			return (int)i;
	return -1;
}

static int setup(void **state)
{
	struct lstate *s = calloc(1, sizeof(*s));
	struct loader_opts lo = LOADER_OPTS_INIT;

	if (!s)
		return -1;
	*state = s;
	if (geteuid() != 0) {
		fprintf(stderr, "test_learn needs root (BPF_PROG_TEST_RUN, map creation)\n");
		return -1;
	}
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("adult.txt", "adult.example\n203.0.113.99\n");
	write_file("games.txt", "games.example\n");
	write_file("social.txt", "social.example\n");
	write_file("allow.txt", "edu.games.example\n203.0.113.77\n");
	if (harness_pin_cpu(&s->cpu))
		return -1;
	s->ncpus = libbpf_num_possible_cpus();
	if (build(conf_learn, &s->cfg, &s->pol))
		return -1;
	s->games = 1ull << s->pol->lists[list_of(s->pol, "games")].category_id;
	s->social = 1ull << s->pol->lists[list_of(s->pol, "social")].category_id;
	s->adult = 1ull << s->pol->lists[list_of(s->pol, "adult")].category_id;
	s->list_adult = list_of(s->pol, "adult");
	s->list_allow = list_of(s->pol, "games-allow");
	lo.trace = true;
	if (loader_load(s->pol, &lo, &s->skel)) {
		fprintf(stderr, "setup: the learning program does not load (-v for the log)\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct lstate *s = *state;
	char cmd[300];

	if (s) {
		guard__destroy(s->skel);
		policy_free(s->pol);
		config_free(s->cfg);
		free(s);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- DNS responses --- */

struct rec {
	__u16 type; /* 1 A, 28 AAAA, 5 CNAME (target "cdn.example"), 0: end */
	const char *addr;
	__u32 ttl;
	int rdlen; /* > 0: this many bytes of data instead (a malformed record) */
};

static size_t put_name(__u8 *out, const char *name)
{
	size_t n = 0;
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		out[n++] = (__u8)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

/* A response (flags, e.g. 0x8180 NOERROR, 0x8183 NXDOMAIN) for qname with records r[]. */
static size_t response(__u8 *m, __u16 flags, const char *qname, const struct rec *r)
{
	size_t n = 12;
	int an = 0;

	memset(m, 0, 12);
	pkt_put_be16(m, 0x4242);
	pkt_put_be16(m + 2, flags);
	pkt_put_be16(m + 4, 1);
	n += put_name(m + n, qname);
	pkt_put_be16(m + n, 1);
	pkt_put_be16(m + n + 2, 1);
	n += 4;
	for (; r && r->type; r++, an++) {
		size_t dl;

		pkt_put_be16(m + n, 0xc00c);
		pkt_put_be16(m + n + 2, r->type);
		pkt_put_be16(m + n + 4, 1);
		pkt_put_be16(m + n + 6, (__u16)(r->ttl >> 16));
		pkt_put_be16(m + n + 8, (__u16)r->ttl);
		if (r->rdlen > 0) {
			dl = (size_t)r->rdlen;
			memset(m + n + 12, 7, dl);
		} else if (r->type == 5) {
			dl = put_name(m + n + 12, "cdn.example");
		} else {
			dl = r->type == 1 ? 4 : 16;
			assert_int_equal(pkt_addr(r->addr, m + n + 12), r->type == 1 ? 4 : 6);
		}
		pkt_put_be16(m + n + 10, (__u16)dl);
		n += 12 + dl;
	}
	pkt_put_be16(m + 6, (__u16)an);
	return n;
}

/* A frame from src:sport to dst:dport: UDP or TCP (flags) with payload. */
static void frame(struct pkt *p, const char *src, const char *dst, __u8 l4, __u16 sport,
		  __u16 dport, __u8 flags, const void *payload, size_t len)
{
	__u8 s[16], d[16];
	int fam = pkt_addr(dst, d);

	assert_int_equal(pkt_addr(src, s), fam);
	pkt_init(p);
	pkt_eth(p);
	if (fam == 4)
		pkt_ipv4(p, s, d, 0, 0);
	else
		pkt_ipv6(p, s, d);
	if (l4 == PARSE_IPPROTO_TCP)
		pkt_tcp(p, sport, dport, 5, flags);
	else
		pkt_udp(p, sport, dport);
	if (len)
		pkt_payload(p, payload, len);
	pkt_finish(p);
	assert_false(p->overflow);
}

enum hook { HOOK_XDP = 0, HOOK_TC = 1 };
static const char *const hook_name[] = { "xdp", "tc" };

/* Run a frame; returns the program's return code, *t the trace. */
static int run(struct lstate *s, struct guard *skel, enum hook h, const struct pkt *p,
	       struct guard_trace *t)
{
	__u8 out[PKT_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->buf, .data_size_in = (__u32)p->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	struct bpf_program *prog = h == HOOK_XDP ? skel->progs.guard_xdp :
						   skel->progs.guard_tc_ingress;

	harness_trace_reset(skel, s->ncpus);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	harness_trace_read(skel, s->ncpus, s->cpu, t);
	return (int)o.retval;
}

static const char *cname(__u32 c)
{
	return c < GC_COUNTER_MAX ? guard_counter_info[c].name : "?";
}

/*
 * Run p and assert its verdict counter (and return code), that exactly the counters counter
 * and note (GC_COUNTER_MAX: none) moved by one packet, and the list hits (list < 0: none).
 */
static void expect(struct lstate *s, struct guard *skel, enum hook h, const char *what,
		   const struct pkt *p, __u32 counter, __u32 note, int list)
{
	bool drop = counter == GC_DROP_LEARNED || counter == GC_DROP_IP_DST;
	int want_ret = h == HOOK_XDP ? (drop ? XDP_DROP : XDP_PASS) :
				       (drop ? TC_ACT_SHOT : TC_ACT_OK);
	struct snapshot a, b;
	struct guard_trace t;
	__u32 i;
	int ret;

	harness_snap(skel, s->ncpus, GUARD_MAX_LISTS, &a);
	ret = run(s, skel, h, p, &t);
	harness_snap(skel, s->ncpus, GUARD_MAX_LISTS, &b);
	if (ret != want_ret || t.counter != counter)
		fail_msg("%s [%s]: returned %d, trace %s; expected %d, %s", what, hook_name[h], ret,
			 cname(t.counter), want_ret, cname(counter));
	for (i = 0; i < GC_COUNTER_MAX; i++) {
		__u64 d = b.c[i].packets - a.c[i].packets;
		__u64 want = i == counter || i == note;

		if (d != want)
			fail_msg("%s [%s]: counter %s moved by %llu, expected %llu", what,
				 hook_name[h], cname(i), (unsigned long long)d,
				 (unsigned long long)want);
	}
	for (i = 0; i < GUARD_MAX_LISTS; i++) {
		__u64 d = b.hits[i].packets - a.hits[i].packets;

		if (d != (list >= 0 && i == (__u32)list))
			fail_msg("%s [%s]: list %u hits moved by %llu", what, hook_name[h], i,
				 (unsigned long long)d);
	}
	if (counter == GC_DROP_LEARNED && (t.leaf_id != 0 || (t.flags & TRACE_F_DOMAIN)))
		fail_msg("%s [%s]: a learned drop names leaf %u", what, hook_name[h], t.leaf_id);
}

/* --- map learned --- */

static int learned_fd(struct guard *skel)
{
	return bpf_map__fd(skel->maps.MAP_LEARNED);
}

static void key_of(const char *addr, struct learn_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (__u8)pkt_addr(addr, k->addr);
	assert_true(k->family == 4 || k->family == 6);
}

static int learned_get(struct guard *skel, const char *addr, struct learn_entry *e)
{
	struct learn_key k;

	key_of(addr, &k);
	return bpf_map_lookup_elem(learned_fd(skel), &k, e) ? -errno : 0;
}

/* Address addr's slot in learn_slots (maps/learn.h: learn_slot), as the kernel computes it. */
static __u32 slot_of(const char *addr)
{
	struct learn_key k;
	__u64 a0, a1;

	key_of(addr, &k);
	memcpy(&a0, k.addr, 8);
	memcpy(&a1, k.addr + 8, 8);
	return learn_slot(a0, a1);
}

static __u64 slot_get(struct guard *skel, const char *addr)
{
	__u32 idx = slot_of(addr);
	__u64 v;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.MAP_LEARN_SLOTS), &idx, &v), 0);
	return v;
}

static void slot_set(struct guard *skel, const char *addr, __u64 v)
{
	__u32 idx = slot_of(addr);

	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(skel->maps.MAP_LEARN_SLOTS), &idx, &v, BPF_ANY), 0);
}

/* An entry for addr, and its slot raised to expires as the kernel does (slot: false, not). */
static void learned_put(struct guard *skel, const char *addr, __u64 cats, __s64 expires, bool slot)
{
	struct learn_entry e = { .cats = cats, .expires = (__u64)expires };
	struct learn_key k;

	key_of(addr, &k);
	assert_int_equal(bpf_map_update_elem(learned_fd(skel), &k, &e, BPF_ANY), 0);
	if (slot && slot_get(skel, addr) < (__u64)expires)
		slot_set(skel, addr, (__u64)expires);
}

static int learned_count(struct guard *skel)
{
	struct learn_key k, next;
	int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(learned_fd(skel), prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* Forget everything: the entries, and the slots they are in (a test that sets a slot alone
 * leaves it 0). */
static void learned_clear(struct guard *skel)
{
	int sfd = bpf_map__fd(skel->maps.MAP_LEARN_SLOTS);
	struct learn_key k;
	__u64 a0, a1, zero = 0;
	__u32 idx;

	while (!bpf_map_get_next_key(learned_fd(skel), NULL, &k)) {
		memcpy(&a0, k.addr, 8);
		memcpy(&a1, k.addr + 8, 8);
		idx = learn_slot(a0, a1);
		if (bpf_map__max_entries(skel->maps.MAP_LEARN_SLOTS) == LEARN_SLOTS)
			assert_int_equal(bpf_map_update_elem(sfd, &idx, &zero, BPF_ANY), 0);
		assert_int_equal(bpf_map_delete_elem(learned_fd(skel), &k), 0);
	}
	assert_int_equal(learned_count(skel), 0);
}

/* bpf_ktime_get_coarse_ns()'s clock. */
static __s64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__s64)ts.tv_sec * NS + ts.tv_nsec;
}

/* The entry for addr holds cats and expires ttl seconds after t0 (within a second). */
static void expect_learned(struct guard *skel, const char *what, const char *addr, __u64 cats,
			   __s64 t0, __s64 ttl)
{
	struct learn_entry e;
	__s64 d;

	if (learned_get(skel, addr, &e))
		fail_msg("%s: %s was not learned", what, addr);
	d = (__s64)e.expires - (t0 + ttl * NS);
	if (e.cats != cats || d < -NS || d > NS)
		fail_msg("%s: %s holds categories %#llx, expiry %+.3f s from the expected", what,
			 addr, (unsigned long long)e.cats, d / 1e9);
	if (slot_get(skel, addr) < e.expires)
		fail_msg("%s: %s's slot holds less than its expiry", what, addr);
}

static void set_mask(struct guard *skel, __u64 mask)
{
	struct group_policy gp = { .block_mask = mask };
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.MAP_GROUP_POLICY), &zero, &gp,
					     BPF_ANY),
			 0);
}

/* A response from the resolver (v4, or v6 when to is a v6 address) to the client's port. */
static void resp_frame(struct pkt *p, const char *to, __u16 sport, __u16 dport, __u16 flags,
		       const char *qname, const struct rec *r)
{
	__u8 m[1500];
	size_t n = response(m, flags, qname, r);

	frame(p, strchr(to, ':') ? RESOLVER6 : RESOLVER, to, PARSE_IPPROTO_UDP, sport, dport, 0, m,
	      n);
}

static void syn_to(struct pkt *p, const char *dst)
{
	frame(p, strchr(dst, ':') ? CLIENT6 : CLIENT, dst, PARSE_IPPROTO_TCP, 40001, 443, 0x02,
	      NULL, 0);
}

/* --- tests --- */

/* The policy learns exactly the categories its group rules name with @schedule. */
static void test_policy(void **state)
{
	struct lstate *s = *state;

	assert_int_equal(s->pol->learn_mask, s->games | s->social);
	assert_int_equal(s->skel->rodata->cfg_learn_mask, s->games | s->social);
	assert_int_equal(bpf_map__max_entries(s->skel->maps.MAP_LEARNED), LEARN_DEFAULT);
}

static void learn_and_judge(struct lstate *s, enum hook h)
{
	static const struct rec r[] = { { 5, NULL, 300, 0 },
					{ 1, "203.0.113.5", 120, 0 },
					{ 28, "2001:db8:3::5", 300, 0 },
					{ 0, NULL, 0, 0 } };
	static const char http[] = "GET / HTTP/1.1\r\nHost: other.example\r\n\r\n";
	struct guard *k = s->skel;
	struct pkt p;
	__s64 t0;

	learned_clear(k);
	set_mask(k, 0);
	t0 = coarse_ns();
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "www.Games.example", r);
	expect(s, k, h, "a games answer passes, learned", &p, GC_PASS_NOMATCH, GC_NOTE_DNS_LEARNED,
	       -1);
	expect_learned(k, "games answer", "203.0.113.5", s->games, t0, 120);
	expect_learned(k, "games answer", "2001:db8:3::5", s->games, t0, 300);
	assert_int_equal(learned_count(k), 2);

	syn_to(&p, "203.0.113.5");
	expect(s, k, h, "SYN to a learned address, games off", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX,
	       -1);
	set_mask(k, s->games | s->adult);
	expect(s, k, h, "SYN to a learned address, games on", &p, GC_DROP_LEARNED, GC_COUNTER_MAX,
	       -1);
	frame(&p, CLIENT, "203.0.113.5", PARSE_IPPROTO_TCP, 40001, 80, 0x18, http, strlen(http));
	expect(s, k, h, "an HTTP request the name stage reads, to a learned address", &p,
	       GC_DROP_LEARNED, GC_COUNTER_MAX, -1);
	frame(&p, CLIENT, "203.0.113.5", PARSE_IPPROTO_UDP, 40001, 443, 0, "quic", 4);
	expect(s, k, h, "UDP to a learned address", &p, GC_DROP_LEARNED, GC_COUNTER_MAX, -1);
	syn_to(&p, "2001:db8:3::5");
	expect(s, k, h, "SYN to a learned IPv6 address", &p, GC_DROP_LEARNED, GC_COUNTER_MAX, -1);
	syn_to(&p, "203.0.113.6");
	expect(s, k, h, "SYN to an address not learned", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	set_mask(k, s->social);
	syn_to(&p, "203.0.113.5");
	expect(s, k, h, "another learned category on", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	set_mask(k, 0);

	/* an answer over IPv6, to the client's v6 address */
	learned_clear(k);
	t0 = coarse_ns();
	resp_frame(&p, CLIENT6, 53, 40000, 0x8180, "social.example",
		   (const struct rec[]){ { 1, "203.0.113.8", 60, 0 }, { 0, NULL, 0, 0 } });
	expect(s, k, h, "a social answer over IPv6", &p, GC_PASS_NOMATCH, GC_NOTE_DNS_LEARNED, -1);
	expect_learned(k, "social answer", "203.0.113.8", s->social, t0, 60);
	set_mask(k, s->social);
	syn_to(&p, "203.0.113.8");
	expect(s, k, h, "SYN to a learned social address, social on", &p, GC_DROP_LEARNED,
	       GC_COUNTER_MAX, -1);
	set_mask(k, 0);
}

static void test_learn_and_judge_xdp(void **state)
{
	learn_and_judge(*state, HOOK_XDP);
}

static void test_learn_and_judge_tc(void **state)
{
	learn_and_judge(*state, HOOK_TC);
}

/* An IP rule that decided keeps its decision; a block entry whose category is off does not. */
static void test_ip_rules_first(void **state)
{
	static const struct rec r[] = { { 1, "203.0.113.77", 100, 0 },
					{ 1, "203.0.113.99", 100, 0 },
					{ 0, NULL, 0, 0 } };
	struct lstate *s = *state;
	struct guard *k = s->skel;
	struct pkt p;

	learned_clear(k);
	set_mask(k, 0);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "play.games.example", r);
	expect(s, k, HOOK_XDP, "answer with listed addresses", &p, GC_PASS_NOMATCH,
	       GC_NOTE_DNS_LEARNED, -1);
	assert_int_equal(learned_count(k), 2);
	set_mask(k, s->games);
	syn_to(&p, "203.0.113.77");
	expect(s, k, HOOK_XDP, "an IP allow entry keeps its pass", &p, GC_PASS_ALLOW,
	       GC_COUNTER_MAX, s->list_allow);
	syn_to(&p, "203.0.113.99");
	expect(s, k, HOOK_XDP, "an IP block entry of a category off: the learned one decides", &p,
	       GC_DROP_LEARNED, GC_COUNTER_MAX, -1);
	set_mask(k, s->games | s->adult);
	expect(s, k, HOOK_XDP, "an IP block entry that drops keeps its drop", &p, GC_DROP_IP_DST,
	       GC_COUNTER_MAX, s->list_adult);
	set_mask(k, 0);
}

/* Expiry, the keep-alive of a packet, TTL clamps, addresses shared by names. */
static void test_expiry_and_ttl(void **state)
{
	struct lstate *s = *state;
	struct guard *k = s->skel;
	struct learn_entry e;
	struct pkt p;
	__s64 t0 = coarse_ns();

	learned_clear(k);
	set_mask(k, s->games);
	learned_put(k, "203.0.113.50", s->games, t0 - NS, true);
	syn_to(&p, "203.0.113.50");
	expect(s, k, HOOK_XDP, "an expired entry passes", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	assert_int_equal(learned_get(k, "203.0.113.50", &e), -ENOENT);
	assert_int_equal(slot_get(k, "203.0.113.50"), 0); /* nothing live in it any more */

	/* the slot filter: an entry whose slot is 0 is not looked at (the kernel never leaves one) */
	learned_put(k, "203.0.113.53", s->games, t0 + 100 * NS, false);
	syn_to(&p, "203.0.113.53");
	expect(s, k, HOOK_XDP, "an entry behind an empty slot", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX,
	       -1);
	/* a slot whose time is left but whose entry is gone (evicted) stays for its other ones */
	slot_set(k, "203.0.113.54", (__u64)(t0 + 100 * NS));
	syn_to(&p, "203.0.113.54");
	expect(s, k, HOOK_XDP, "a live slot without an entry", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX,
	       -1);
	assert_int_equal(slot_get(k, "203.0.113.54"), (__u64)(t0 + 100 * NS));
	slot_set(k, "203.0.113.54", (__u64)(t0 - NS));
	expect(s, k, HOOK_XDP, "a stale slot without an entry", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX,
	       -1);
	assert_int_equal(slot_get(k, "203.0.113.54"), 0);

	learned_put(k, "203.0.113.51", s->games, t0 + 2 * NS, true);
	syn_to(&p, "203.0.113.51");
	expect(s, k, HOOK_XDP, "an entry about to expire drops", &p, GC_DROP_LEARNED,
	       GC_COUNTER_MAX, -1);
	expect_learned(k, "kept by its traffic", "203.0.113.51", s->games, coarse_ns(),
		       LEARN_KEEP_S);
	assert_true(slot_get(k, "203.0.113.51") >= (__u64)(t0 + (LEARN_KEEP_S - 1) * NS));

	learned_put(k, "203.0.113.52", s->games, t0 + 200 * NS, true);
	syn_to(&p, "203.0.113.52");
	expect(s, k, HOOK_XDP, "an entry with time left drops", &p, GC_DROP_LEARNED, GC_COUNTER_MAX,
	       -1);
	assert_int_equal(learned_get(k, "203.0.113.52", &e), 0);
	assert_int_equal(e.expires, (__u64)(t0 + 200 * NS)); /* untouched */
	set_mask(k, 0);

	/* TTLs: 0 and the top bit set read as the minimum, 10 days as the maximum */
	learned_clear(k);
	t0 = coarse_ns();
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "games.example",
		   (const struct rec[]){ { 1, "203.0.113.60", 0, 0 },
					 { 1, "203.0.113.61", 0x80000001u, 0 },
					 { 1, "203.0.113.62", 864000, 0 },
					 { 0, NULL, 0, 0 } });
	expect(s, k, HOOK_XDP, "TTL clamps", &p, GC_PASS_NOMATCH, GC_NOTE_DNS_LEARNED, -1);
	expect_learned(k, "TTL 0", "203.0.113.60", s->games, t0, LEARN_TTL_MIN_S);
	expect_learned(k, "TTL 2^31 + 1", "203.0.113.61", s->games, t0, LEARN_TTL_MIN_S);
	expect_learned(k, "TTL 10 days", "203.0.113.62", s->games, t0, LEARN_TTL_MAX_S);

	/* one address, two names: both categories, the longer time */
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "games.example",
		   (const struct rec[]){ { 1, "203.0.113.70", 500, 0 }, { 0, NULL, 0, 0 } });
	expect(s, k, HOOK_XDP, "a shared address, first name", &p, GC_PASS_NOMATCH,
	       GC_NOTE_DNS_LEARNED, -1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "www.social.example",
		   (const struct rec[]){ { 1, "203.0.113.70", 100, 0 }, { 0, NULL, 0, 0 } });
	expect(s, k, HOOK_XDP, "a shared address, second name", &p, GC_PASS_NOMATCH,
	       GC_NOTE_DNS_LEARNED, -1);
	expect_learned(k, "shared", "203.0.113.70", s->games | s->social, t0, 500);
}

/* Responses that teach nothing, and the limit of 16 addresses. */
static void test_not_learned(void **state)
{
	static const struct rec one[] = { { 1, "203.0.113.5", 100, 0 }, { 0, NULL, 0, 0 } };
	static const struct rec bad[] = { { 1, "203.0.113.5", 100, 0 },
					  { 1, NULL, 100, 5 },
					  { 0, NULL, 0, 0 } };
	struct lstate *s = *state;
	struct guard *k = s->skel;
	struct rec many[21];
	char addrs[20][32];
	struct pkt p;
	int i;

	learned_clear(k);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "www.adult.example", one);
	expect(s, k, HOOK_XDP, "a name of a category not learned", &p, GC_PASS_NOMATCH,
	       GC_COUNTER_MAX, -1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "unlisted.example", one);
	expect(s, k, HOOK_XDP, "an unlisted name", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "a.edu.games.example", one);
	expect(s, k, HOOK_XDP, "a name under an allow entry", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX,
	       -1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8183, "games.example", one);
	expect(s, k, HOOK_XDP, "NXDOMAIN with a record", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "games.example", bad);
	expect(s, k, HOOK_XDP, "a malformed answer", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	resp_frame(&p, CLIENT, 5353, 40000, 0x8180, "games.example", one);
	expect(s, k, HOOK_XDP, "an answer from port 5353", &p, GC_PASS_NOMATCH, GC_COUNTER_MAX, -1);
	resp_frame(&p, CLIENT, 40000, 53, 0x8180, "games.example", one);
	expect(s, k, HOOK_XDP, "a response to port 53", &p, GC_PASS_NOMATCH, GC_NOTE_DNS_NOT_QUERY,
	       -1);
	assert_int_equal(learned_count(k), 0);

	for (i = 0; i < 20; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "203.0.113.%d", 100 + i);
		many[i] = (struct rec){ 1, addrs[i], 100, 0 };
	}
	many[20] = (struct rec){ 0, NULL, 0, 0 };
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "games.example", many);
	expect(s, k, HOOK_XDP, "20 records", &p, GC_PASS_NOMATCH, GC_NOTE_DNS_LEARNED, -1);
	assert_int_equal(learned_count(k), DNSRESP_MAX_ADDRS);
	for (i = 0; i < 20; i++) {
		struct learn_entry e;

		assert_int_equal(learned_get(k, addrs[i], &e), i < DNSRESP_MAX_ADDRS ? 0 : -ENOENT);
	}
	learned_clear(k);
}

/* A random answer section for m (the question written, n bytes so far); returns the length. */
static size_t random_answers(__u8 *m, size_t n, unsigned int *seed)
{
	static const char *const owners[] = { "cdn.example", "a.b.c.d.e.f.g.h.i.j.k.l", "q" };
	int i, an = 1 + rand_r(seed) % 24;

	for (i = 0; i < an; i++) {
		int kind = rand_r(seed) % 8, o = rand_r(seed) % 4;
		size_t dl, k;

		if (o == 0) {
			n += put_name(m + n, owners[rand_r(seed) % 3]);
		} else if (o == 1) {
			m[n++] = 0;
		} else {
			pkt_put_be16(m + n, 0xc00c);
			n += 2;
		}
		pkt_put_be16(m + n, kind < 3 ? 1 : kind < 6 ? 28 : kind == 6 ? 5 : 16);
		pkt_put_be16(m + n + 2, rand_r(seed) % 10 ? 1 : 3);
		pkt_put_be16(m + n + 4, (__u16)rand_r(seed));
		pkt_put_be16(m + n + 6, (__u16)rand_r(seed));
		dl = kind < 3  ? 4u :
		     kind < 6  ? 16u :
		     kind == 6 ? 13u :
				 (size_t)(rand_r(seed) % 120);
		pkt_put_be16(m + n + 8, (__u16)dl);
		for (k = 0; k < dl; k++)
			m[n + 10 + k] = (__u8)(kind < 6 ? 203 - (int)(k % 2) * (rand_r(seed) % 4) :
							  rand_r(seed));
		n += 10 + dl;
		if (n > 1400)
			break;
	}
	pkt_put_be16(m + 6, (__u16)(i < an ? i + 1 : an));
	return n;
}

/* The host's walk (bpf/lib/dnsresp.h) and the kernel's learning agree on random answers. */
static void test_differential(void **state)
{
	struct lstate *s = *state;
	struct guard *k = s->skel;
	static struct dnsresp_walk w;
	unsigned int seed = 23;
	int i, learned = 0, none = 0, shared = 0;

	for (i = 0; i < 1500; i++) {
		__u8 m[1600];
		size_t n = 12, qend, len;
		struct dns_query q;
		struct name_buf nb;
		struct pkt p;
		int ret, j, nm, count;
		__s64 t0;

		memset(m, 0, 12);
		pkt_put_be16(m + 2, 0x8180);
		pkt_put_be16(m + 4, 1);
		n += put_name(m + n, rand_r(&seed) % 2 ? "x.games.example" : "Games.Example");
		pkt_put_be16(m + n, 1);
		pkt_put_be16(m + n + 2, 1);
		qend = n + 4;
		len = random_answers(m, qend, &seed);
		nm = rand_r(&seed) % 4;
		for (j = 0; j < nm; j++) {
			size_t at = qend + (size_t)rand_r(&seed) % (len - qend);

			m[at] = (__u8)(rand_r(&seed) % 2 ? rand_r(&seed) : m[at] ^ 0xc0);
		}
		if (rand_r(&seed) % 8 == 0)
			m[7] = (__u8)(m[7] + 1 + rand_r(&seed) % 3); /* ANCOUNT past the records */
		ret = dnsresp_parse(m, m + len, &q, &nb, &w);
		learned_clear(k);
		frame(&p, RESOLVER, CLIENT, PARSE_IPPROTO_UDP, 53, 40000, 0, m, len);
		t0 = coarse_ns();
		run(s, k, HOOK_XDP, &p, &(struct guard_trace){ 0 });
		if (ret != 0 && ret != DNSRESP_PARTIAL)
			w.n = 0;
		/* every address of the host's walk is learned with its longest clamped TTL */
		for (j = 0; j < w.n; j++) {
			__u32 ttl = 0, x;
			char a[64];

			for (x = 0; x < w.n; x++)
				if (w.addr[x].family == w.addr[j].family &&
				    !memcmp(w.addr[x].addr, w.addr[j].addr, 16) &&
				    w.addr[x].ttl > ttl)
					ttl = w.addr[x].ttl;
			ttl = ttl < LEARN_TTL_MIN_S ? LEARN_TTL_MIN_S :
			      ttl > LEARN_TTL_MAX_S ? LEARN_TTL_MAX_S :
						      ttl;
			inet_ntop(w.addr[j].family == 4 ? AF_INET : AF_INET6, w.addr[j].addr, a,
				  sizeof(a));
			expect_learned(k, "differential", a, s->games, t0, ttl);
		}
		/* and nothing else: as many entries as distinct addresses */
		count = 0;
		for (j = 0; j < w.n; j++) {
			int x, dup = 0;

			for (x = 0; x < j; x++)
				dup |= w.addr[x].family == w.addr[j].family &&
				       !memcmp(w.addr[x].addr, w.addr[j].addr, 16);
			count += !dup;
			shared += dup;
		}
		if (learned_count(k) != count)
			fail_msg(
				"case %d: the kernel learned %d addresses, the host's walk %d (%s)",
				i, learned_count(k), count, dnsresp_ret_name(ret));
		if (count)
			learned++;
		else
			none++;
	}
	print_message("# %d answers learned from, %d not (%d shared addresses)\n", learned, none,
		      shared);
	assert_true(learned > 300 && none > 300 && shared > 10);
	learned_clear(k);
}

/* Without schedules: no hand-over of responses, no lookup, a one-entry map, a smaller program. */
static void test_learning_off(void **state)
{
	struct lstate *s = *state;
	struct loader_opts lo = LOADER_OPTS_INIT;
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	struct guard *k = NULL;
	struct bpf_prog_info on = { 0 }, off = { 0 };
	__u32 len = sizeof(on);
	__u64 games;
	struct pkt p;

	assert_int_equal(build(conf_plain, &cfg, &pol), 0);
	assert_int_equal(pol->learn_mask, 0);
	games = 1ull << pol->lists[list_of(pol, "games")].category_id;
	lo.trace = true;
	assert_int_equal(loader_load(pol, &lo, &k), 0);
	assert_int_equal(k->rodata->cfg_learn_mask, 0);
	assert_int_equal(bpf_map__max_entries(k->maps.MAP_LEARNED), 1);
	resp_frame(&p, CLIENT, 53, 40000, 0x8180, "games.example",
		   (const struct rec[]){ { 1, "203.0.113.5", 100, 0 }, { 0, NULL, 0, 0 } });
	expect(s, k, HOOK_XDP, "learning off: an answer is not examined", &p, GC_PASS_NOMATCH,
	       GC_COUNTER_MAX, -1);
	assert_int_equal(learned_count(k), 0);
	learned_put(k, "203.0.113.5", games, coarse_ns() + 100 * NS, false);
	assert_int_equal(bpf_map__max_entries(k->maps.MAP_LEARN_SLOTS), 1);
	set_mask(k, games);
	syn_to(&p, "203.0.113.5");
	expect(s, k, HOOK_XDP, "learning off: the map is not looked at", &p, GC_PASS_NOMATCH,
	       GC_COUNTER_MAX, -1);

	assert_int_equal(
		bpf_obj_get_info_by_fd(bpf_program__fd(s->skel->progs.guard_xdp), &on, &len), 0);
	len = sizeof(off);
	assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(k->progs.guard_xdp), &off, &len),
			 0);
	print_message("# guard_xdp: %u instructions with learning, %u without (verified: %u, %u)\n",
		      on.xlated_prog_len / 8, off.xlated_prog_len / 8, on.verified_insns,
		      off.verified_insns);
	assert_true(off.xlated_prog_len < on.xlated_prog_len);
	guard__destroy(k);
	policy_free(pol);
	config_free(cfg);
}

/* The verifier's work with learning on, as test_names bounds it without. */
static void test_verifier_budget(void **state)
{
	struct lstate *s = *state;

	harness_verifier_budget(s->skel, " with learning");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_verifier_budget),
		cmocka_unit_test(test_learn_and_judge_xdp),
		cmocka_unit_test(test_learn_and_judge_tc),
		cmocka_unit_test(test_ip_rules_first),
		cmocka_unit_test(test_expiry_and_ttl),
		cmocka_unit_test(test_not_learned),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_learning_off),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
