// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client groups and schedules through the real program (needs root): a config with three
 * [group]s (clients = v4 and v6 prefixes, one nested in another, macs =) and a school-hours
 * schedule is compiled with policy_build(), its masks evaluated at a school-day morning and on
 * a Saturday (policy_masks_at, the daemon's evaluation), loaded, and frames from each kind of
 * client run through guard_xdp: the verdict counter and the group in the trace are asserted
 * for IP and DNS decisions, and for packets from a `direction = both` list's networks, in no
 * group, which are judged for their receiver's group (its address, or the destination MAC). Then 256 groups of random client prefixes: for thousands of random
 * senders, the group the kernel finds equals the host's policy_group_of().
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/log.h"
#include "user/policy.h"
#include "user/schedule.h"
#include "bpf/pktgen.h"
#include "bpf/l7gen.h"
#include "bpf/harness.h"

static int ncpus;
static char tmpdir[] = "/tmp/bpfguard-groups-XXXXXX";

/* Groups: 0 default, 1 pupils, 2 staff, 3 guests (the config's order). */
enum { G_DEFAULT = 0, G_PUPILS = 1, G_STAFF = 2, G_GUESTS = 3 };

static const char conf[] = "[guard]\n"
			   "interfaces = none\n"
			   "[list adult]\n"
			   "path = adult.txt\n"
			   "category = adult\n"
			   "[list games]\n"
			   "path = games.txt\n"
			   "category = games\n"
			   "direction = both\n"
			   "[schedule school]\n"
			   "timezone = UTC\n"
			   "mon-fri = 08:00-12:00, 13:30-16:30\n"
			   "[group pupils]\n"
			   "clients = 192.0.2.0/25, 2001:db8:1::/64\n"
			   "block = adult, games@school\n"
			   "[group staff]\n"
			   "clients = 192.0.2.0/28\n"
			   "macs = 02:00:00:00:00:aa\n"
			   "block = adult\n"
			   "[group guests]\n"
			   "clients = 192.0.2.128/25\n"
			   "block = games\n";

/* 2026-11-30 is a Monday; 2026-11-28 a Saturday (UTC). */
#define MONDAY_0900 ((time_t)1796029200)
#define MONDAY_1230 ((time_t)1796041800)
#define SATURDAY_0900 ((time_t)1795856400)

static void write_file(const char *name, const char *text)
{
	harness_write_file(tmpdir, name, text);
}

static struct guard_policy *build(const char *text, struct guard_config **cfgp)
{
	struct diag d = { .max_print = 20 };
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;

	assert_int_equal(config_parse("groups.conf", tmpdir, text, strlen(text), &d, &cfg), 0);
	assert_int_equal(policy_build(cfg, &d, &pol), 0);
	*cfgp = cfg;
	return pol;
}

static int setup(void **state)
{
	cpu_set_t set;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("adult.txt", "203.0.113.0/24\nadult.example\n");
	write_file("games.txt", "198.51.100.0/24\n2001:db8:5::/48\ngames.example\n");
	ncpus = libbpf_num_possible_cpus();
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	return ncpus > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const __u8 mac_staff[6] = { 0x02, 0, 0, 0, 0, 0xaa };

struct frame {
	const char *src, *dst;
	const __u8 *mac; /* Ethernet source, NULL: pktgen's */
	const char *qname; /* a DNS query for this name (UDP/53), else a TCP SYN to port 443 */
	const __u8 *dmac; /* Ethernet destination, NULL: pktgen's */
};

static size_t make_frame(const struct frame *f, __u8 *out)
{
	struct pkt p;
	__u8 src[16], dst[16];
	int fam = pkt_addr(f->dst, dst);

	assert_int_not_equal(fam, 0);
	assert_int_equal(pkt_addr(f->src, src), fam);
	pkt_init(&p);
	pkt_eth(&p);
	if (fam == 4)
		pkt_ipv4(&p, src, dst, 0, 0);
	else
		pkt_ipv6(&p, src, dst);
	if (f->qname) {
		struct dnsq_spec q = { .id = 0x1234, .name = f->qname, .qtype = 1 };
		__u8 msg[512];
		size_t n = l7_dns_query(msg, sizeof(msg), &q);

		assert_int_not_equal(n, 0);
		pkt_udp(&p, 40000, 53);
		pkt_payload(&p, msg, n);
	} else {
		pkt_tcp(&p, 40000, 443, 5, 0x02);
	}
	pkt_finish(&p);
	assert_false(p.overflow);
	if (f->mac)
		memcpy(p.buf + 6, f->mac, 6);
	if (f->dmac)
		memcpy(p.buf, f->dmac, 6);
	memcpy(out, p.buf, p.len);
	return p.len;
}

/* Run one frame; the trace's counter and group. */
static void run_frame(struct guard *skel, const __u8 *frame, size_t len, struct guard_trace *t)
{
	__u8 out[PKT_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	harness_trace_reset(skel, ncpus);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.guard_xdp), &opts), 0);
	harness_trace_read(skel, ncpus, 0, t);
}

struct expect {
	struct frame f;
	__u32 group;
	__u32 at_school; /* the verdict counter on Monday 09:00 */
	__u32 at_lunch; /* Monday 12:30 */
	__u32 weekend; /* Saturday 09:00 */
};

static const struct expect cases[] = {
	/* pupils: games only outside school hours, adult always */
	{ { "192.0.2.100", "198.51.100.5" },
	  G_PUPILS,
	  GC_DROP_IP_DST,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "192.0.2.100", "203.0.113.9" },
	  G_PUPILS,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST },
	{ { "2001:db8:1::5", "2001:db8:5::5" },
	  G_PUPILS,
	  GC_DROP_IP_DST,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "192.0.2.100", "192.0.2.200", NULL, "games.example" },
	  G_PUPILS,
	  GC_ANSWER_DNS_NXDOMAIN,
	  GC_PASS_DOMAIN_CATEGORY_OFF,
	  GC_PASS_DOMAIN_CATEGORY_OFF },
	{ { "192.0.2.100", "192.0.2.200", NULL, "www.adult.example" },
	  G_PUPILS,
	  GC_ANSWER_DNS_NXDOMAIN,
	  GC_ANSWER_DNS_NXDOMAIN,
	  GC_ANSWER_DNS_NXDOMAIN },
	/* staff: the /28 inside the pupils' /25 is more specific; games never blocked */
	{ { "192.0.2.5", "198.51.100.5" },
	  G_STAFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "192.0.2.5", "203.0.113.9" }, G_STAFF, GC_DROP_IP_DST, GC_DROP_IP_DST, GC_DROP_IP_DST },
	/* a pupil's address, but staff's MAC: the MAC decides */
	{ { "192.0.2.100", "198.51.100.5", mac_staff },
	  G_STAFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "192.0.2.100", "192.0.2.200", mac_staff, "games.example" },
	  G_STAFF,
	  GC_PASS_DOMAIN_CATEGORY_OFF,
	  GC_PASS_DOMAIN_CATEGORY_OFF,
	  GC_PASS_DOMAIN_CATEGORY_OFF },
	/* guests: games always, adult never */
	{ { "192.0.2.200", "198.51.100.5" },
	  G_GUESTS,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST },
	{ { "192.0.2.200", "203.0.113.9" },
	  G_GUESTS,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	/* nobody's client: the default group blocks every block list, always */
	{ { "198.51.100.77", "203.0.113.9" },
	  G_DEFAULT,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST },
	{ { "2001:db8:2::1", "2001:db8:5::5" },
	  G_DEFAULT,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST,
	  GC_DROP_IP_DST },
	{ { "192.0.2.200", "192.0.2.1" },
	  G_GUESTS,
	  GC_PASS_NOMATCH,
	  GC_PASS_NOMATCH,
	  GC_PASS_NOMATCH },
	/*
	 * From a games network (direction = both), in no group: judged for the receiver's group.
	 * A pupil hears back from a games server outside school hours only, staff always,
	 * guests and nobody's hosts never (judged for the sender, group 0, every one dropped).
	 */
	{ { "198.51.100.5", "192.0.2.100" },
	  G_PUPILS,
	  GC_DROP_IP_SRC,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "2001:db8:5::5", "2001:db8:1::5" },
	  G_PUPILS,
	  GC_DROP_IP_SRC,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "198.51.100.5", "192.0.2.5" },
	  G_STAFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	{ { "198.51.100.5", "192.0.2.200" },
	  G_GUESTS,
	  GC_DROP_IP_SRC,
	  GC_DROP_IP_SRC,
	  GC_DROP_IP_SRC },
	{ { "2001:db8:5::5", "2001:db8:2::1" },
	  G_DEFAULT,
	  GC_DROP_IP_SRC,
	  GC_DROP_IP_SRC,
	  GC_DROP_IP_SRC },
	/* to a pupil's address, but staff's MAC as the frame's destination: the MAC decides */
	{ { "198.51.100.5", "192.0.2.100", NULL, NULL, mac_staff },
	  G_STAFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF,
	  GC_PASS_CATEGORY_OFF },
	/* a reply carrying a name-like payload takes the name stage: the same group */
	{ { "198.51.100.5", "192.0.2.100", NULL, "games.example" },
	  G_PUPILS,
	  GC_DROP_IP_SRC,
	  GC_PASS_DOMAIN_CATEGORY_OFF,
	  GC_PASS_DOMAIN_CATEGORY_OFF },
};

static void test_groups_and_schedules(void **state)
{
	static const time_t when[3] = { MONDAY_0900, MONDAY_1230, SATURDAY_0900 };
	struct guard_config *cfg;
	struct guard_policy *pol = build(conf, &cfg);
	unsigned int w, i;

	(void)state;
	assert_int_equal(pol->n_groups, 4);
	assert_string_equal(pol->group_names[G_STAFF], "staff");
	assert_int_equal(pol->n_macs, 1);
	/* games is the one category a schedule controls */
	assert_int_equal(pol->learn_mask, 1ull << config_category(cfg, "games"));
	for (w = 0; w < 3; w++) {
		struct loader_opts lo = LOADER_OPTS_INIT;
		struct guard *skel = NULL;

		assert_int_equal(policy_masks_at(pol, cfg, when[w], NULL), 0);
		lo.trace = true;
		assert_int_equal(loader_load(pol, &lo, &skel), 0);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct expect *e = &cases[i];
			__u32 want = w == 0 ? e->at_school : w == 1 ? e->at_lunch : e->weekend;
			struct guard_trace t;
			__u8 frame[PKT_MAX];
			size_t len = make_frame(&e->f, frame);

			run_frame(skel, frame, len, &t);
			if (t.counter != want || t.group != e->group)
				fail_msg(
					"instant %u, case %u (%s -> %s%s%s): counter %s group %u, want "
					"%s group %u",
					w, i, e->f.src, e->f.dst, e->f.qname ? " query " : "",
					e->f.qname ? e->f.qname : "",
					guard_counter_info[t.counter].name, t.group,
					guard_counter_info[want].name, e->group);
			/* the host's lookup agrees (pktgen's own MACs are in no group) */
			{
				__u8 a[16] = { 0 }, d[16] = { 0 };
				int fam = pkt_addr(e->f.src, a);

				assert_int_equal(pkt_addr(e->f.dst, d), fam);
				assert_int_equal(policy_ip_group_of(pol, fam, a, d, e->f.mac,
								    e->f.dmac),
						 e->group);
			}
		}
		guard__destroy(skel);
	}
	policy_free(pol);
	config_free(cfg);
}

/* A prefix or a MAC in two groups is refused with the line of the second group. */
static void test_conflicts(void **state)
{
	static const char *const bad[] = {
		"[guard]\ninterfaces = none\n[list a]\npath = adult.txt\ncategory = adult\n"
		"[group one]\nclients = 192.0.2.0/25\nblock = adult\n"
		"[group two]\nclients = 192.0.2.0/25\nblock = adult\n",
		"[guard]\ninterfaces = none\n[list a]\npath = adult.txt\ncategory = adult\n"
		"[group one]\nmacs = 02:00:00:00:00:01\nblock = adult\n"
		"[group two]\nmacs = 02:00:00:00:00:01\nblock = adult\n",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct diag d = { .max_print = 0 };
		struct guard_config *cfg = NULL;
		struct guard_policy *pol = NULL;

		assert_int_equal(config_parse("c.conf", tmpdir, bad[i], strlen(bad[i]), &d, &cfg),
				 0);
		assert_int_equal(policy_build(cfg, &d, &pol), -EINVAL);
		assert_null(pol);
		assert_int_equal(d.errors, 1);
		config_free(cfg);
	}
}

/* A deterministic generator: the test is the same every run. */
static __u64 rng = 0x9e3779b97f4a7c15ull;
static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)rng;
}

/*
 * 255 named groups with 40 random client prefixes each (v4 /8../32 and v6 /16../128 under
 * 2001:db8::/32), nested at random: for 20000 random senders, the kernel's group is the
 * host's. The senders are drawn near the prefixes so most hit one.
 */
static void test_random_groups(void **state)
{
	enum { GROUPS = 255, PER = 40, SENDERS = 20000 };
	struct ip_prefix *pfx = calloc(GROUPS * PER, sizeof(*pfx));
	size_t cap = 64 + (size_t)GROUPS * (PER * 48 + 64), n = 0, k;
	char *text = malloc(cap), buf[64];
	struct loader_opts lo = LOADER_OPTS_INIT;
	struct guard_config *cfg;
	struct guard_policy *pol;
	struct guard *skel = NULL;
	unsigned int g, i, hits = 0;

	(void)state;
	assert_non_null(pfx);
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n,
			      "[guard]\ninterfaces = none\n[list a]\npath = adult.txt\n"
			      "category = adult\n");
	for (g = 0; g < GROUPS; g++) {
		unsigned int written = 0;

		n += (size_t)snprintf(text + n, cap - n,
				      "[group g%u]\nblock = adult\nclients = ", g);
		for (i = 0; i < PER; i++) {
			struct ip_prefix *p = &pfx[g * PER + i];
			int b;

			memset(p, 0, sizeof(*p));
			if (rnd() % 3) {
				p->family = 4;
				p->plen = (__u8)(8 + rnd() % 25);
				p->addr[0] = 192;
				p->addr[1] = (__u8)(rnd() % 4);
				p->addr[2] = (__u8)rnd();
				p->addr[3] = (__u8)rnd();
				if (p->plen < 16)
					p->plen = 16;
			} else {
				p->family = 6;
				p->plen = (__u8)(32 + rnd() % 97);
				p->addr[0] = 0x20;
				p->addr[1] = 0x01;
				p->addr[2] = 0x0d;
				p->addr[3] = 0xb8;
				for (b = 4; b < 16; b++)
					p->addr[b] = (__u8)(b < 8 ? rnd() % 4 : rnd());
			}
			for (b = 0; b < 16; b++) { /* the config refuses host bits */
				int bits = p->plen - b * 8;

				p->addr[b] &= bits >= 8 ? 0xff :
					      bits <= 0 ? 0 :
							  (__u8)(0xff << (8 - bits));
			}
			/* the same prefix twice would be refused: make each group's distinct */
			for (k = 0; k < (size_t)(g * PER + i); k++)
				if (pfx[k].family == p->family && pfx[k].plen == p->plen &&
				    ip_prefix_covers(&pfx[k], p->addr) &&
				    ip_prefix_covers(p, pfx[k].addr))
					break;
			if (k < (size_t)(g * PER + i)) {
				p->family = 0;
				continue;
			}
			n += (size_t)snprintf(text + n, cap - n, "%s%s", written++ ? ", " : "",
					      ip_prefix_format(p, buf, sizeof(buf)));
		}
		n += (size_t)snprintf(text + n, cap - n, "\n");
	}
	assert_true(n < cap);
	pol = build(text, &cfg);
	assert_int_equal(pol->n_groups, GROUPS + 1);
	lo.trace = true;
	assert_int_equal(loader_load(pol, &lo, &skel), 0);
	for (i = 0; i < SENDERS; i++) {
		const struct ip_prefix *near = &pfx[rnd() % (GROUPS * PER)];
		struct frame f = { .dst = "198.51.100.1" };
		struct guard_trace t;
		__u8 frame[PKT_MAX], a[16], d[16];
		char src[64];
		size_t len;
		__u32 want;
		int b, fam = near->family ? near->family : 4;

		memcpy(a, near->addr, 16);
		/* randomise the bits past a random length around the prefix's */
		for (b = near->plen - 4 + (int)(rnd() % 12); b < (fam == 4 ? 32 : 128); b++)
			if (b >= 0 && rnd() & 1)
				a[b / 8] ^= (__u8)(0x80 >> (b % 8));
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, src, sizeof(src));
		f.src = src;
		f.dst = fam == 4 ? "198.51.100.1" : "2001:db8:ffff::1";
		assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, f.dst, d), 1);
		len = make_frame(&f, frame);
		run_frame(skel, frame, len, &t);
		/* the sender's group, else the receiver's (which may be in a random prefix too) */
		want = policy_ip_group_of(pol, fam, a, d, NULL, NULL);
		if (t.group != want)
			fail_msg("sender %s: the kernel says group %u, the host %u", src, t.group,
				 want);
		hits += want != 0;
	}
	/* the senders must exercise the groups, not fall through to the default */
	assert_true(hits > SENDERS / 3);
	print_message("# %u of %u senders in a named group (of %u groups)\n", hits, SENDERS,
		      GROUPS);
	guard__destroy(skel);
	policy_free(pol);
	config_free(cfg);
	free(text);
	free(pfx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_and_schedules),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_random_groups),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
