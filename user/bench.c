// SPDX-License-Identifier: GPL-2.0-only
/*
 * `bench` (see bench.h). One run measures, on one pinned CPU, with BPF_PROG_TEST_RUN (repeat R,
 * best of several runs, ns per packet as the kernel reports it):
 *   minimal          bpf/minimal.bpf.c: parse Ethernet + IP, pass (the baseline)
 *   v4-*, v6-*       guard_xdp (trace off) with the generated lists loaded
 *   lpm-v4-*         a plain kernel LPM trie of the same IPv4 prefixes, looked up by a tiny
 *                    program assembled here (no bpf/ file): the structure DESIGN.md compares to
 * The lists: N random IPv4 prefixes (/8 to /32, uniform length) and M random IPv6 prefixes (/16
 * to /128), fixed seeds, written as .gz registry files to a temporary directory and loaded as
 * `run` loads them. A few probe prefixes are added for the hit cases, and random prefixes that
 * would decide the probes' addresses are drawn again (so every case measures what it names):
 *   nomatch        203.0.113.1 / 2001:db8::1: no prefix covers them
 *   prefix-hit     198.18.7.9/32 (3 array reads) / 2606:4700::1111/128 (the IPv6 trie)
 *   prefix-hit-short  100.64.0.0/12 with nothing longer inside (1 read) / 3fff::/20 (2 reads)
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "minimal.skel.h"
#include "user/bench.h"
#include "user/loader.h"
#include "user/log.h"
#include "user/stats.h"

#define BENCH_SEED_V4 0x6270666775617264ull /* "bpfguard" */
#define BENCH_SEED_V6 0x3667756172643676ull
#define BENCH_REPEAT 5000000u
#define BENCH_RUNS 3
#define BENCH_REPEAT_QUICK 200000u
#define BENCH_RUNS_QUICK 2
#define BENCH_MAX_CASES 16
#define BENCH_PKT_MAX 128

/* The probes (see the top of the file). */
static const __u8 v4_nomatch[4] = { 203, 0, 113, 1 };
static const __u8 v4_hit32[4] = { 198, 18, 7, 9 };
static const __u8 v4_short_net[4] = { 100, 64, 0, 0 };
#define V4_SHORT_LEN 12
static const __u8 v4_short_addr[4] = { 100, 64, 1, 1 };
static const __u8 v6_nomatch[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 v6_hit128[16] = { 0x26, 0x06, 0x47, 0x00, [14] = 0x11, [15] = 0x11 };
static const __u8 v6_short_net[16] = { 0x3f, 0xff };
#define V6_SHORT_LEN 20
static const __u8 v6_short_addr[16] = { 0x3f, 0xff, [15] = 1 };

enum bench_prog { PROG_MINIMAL, PROG_GUARD, PROG_LPM };

struct bench_case {
	const char *name;
	enum bench_prog prog;
	int family;
	const __u8 *daddr;
	__u32 want; /* XDP_PASS or XDP_DROP */
	int counter; /* the guard's verdict counter the packets must land in, -1: none */
	__u8 pkt[BENCH_PKT_MAX];
	__u32 len;
	__u32 ns; /* best run: the kernel's duration per packet, in whole ns */
	double ratio;
};

struct bench {
	const struct bench_opts *o;
	long n4, n6;
	__u32 repeat;
	int runs;
	char dir[256]; /* the temporary directory, "" when none */
	char v4_path[288], v6_path[288], conf4_path[288], conf_path[288];
	size_t gz_bytes;
	struct guard_policy *pol;
	struct guard *skel;
	struct minimal *minimal;
	int lpm_map_fd, lpm_prog_fd;
	double load_v4_s, load_all_s, fill_s, lpm_fill_s;
	size_t maps_bytes, lpm_bytes, lpm_prefixes;
	struct bench_case cases[BENCH_MAX_CASES];
	int n_cases;
};

/* --- random prefixes --- */

static __u64 splitmix64(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void mask_addr(__u8 *a, int bytes, int plen)
{
	int i;

	for (i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		a[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

/* Would prefix (a, plen) be the most specific match of probe address x, or one inside the
 * reserved net (net, net_len)? Then it is drawn again. */
static bool steals_probe(const struct ip_prefix *p, const __u8 *nomatch, const __u8 *net,
			 int net_len)
{
	struct ip_prefix reserved = *p;

	if (ip_prefix_covers(p, nomatch))
		return true;
	memcpy(reserved.addr, net, p->family == 4 ? 4 : 16);
	reserved.plen = net_len;
	return p->plen > net_len && ip_prefix_covers(&reserved, p->addr);
}

static int gz_line(gzFile gz, const struct ip_prefix *p)
{
	char buf[80];
	int n;

	ip_prefix_format(p, buf, sizeof(buf) - 1);
	n = (int)strlen(buf);
	buf[n++] = '\n';
	return gzwrite(gz, buf, n) == n ? 0 : -EIO;
}

/* Write n random prefixes of family, plus the probes, to path as a gzip registry file. */
static int write_list(const char *path, int family, long n)
{
	int bytes = family == 4 ? 4 : 16, min = family == 4 ? 8 : 16, max = family == 4 ? 32 : 128;
	__u64 seed = family == 4 ? BENCH_SEED_V4 : BENCH_SEED_V6;
	const __u8 *nomatch = family == 4 ? v4_nomatch : v6_nomatch;
	const __u8 *net = family == 4 ? v4_short_net : v6_short_net;
	int net_len = family == 4 ? V4_SHORT_LEN : V6_SHORT_LEN;
	struct ip_prefix p = { .family = (__u8)family };
	gzFile gz;
	long i;
	int err = 0;

	gz = gzopen(path, "wb");
	if (!gz) {
		pr_warn("cannot create %s: %s\n", path, strerror(errno ? errno : ENOMEM));
		return -EIO;
	}
	gzprintf(gz, "# bpfguard bench: %ld random IPv%d prefixes /%d-/%d, seed 0x%llx\n", n,
		 family, min, max, (unsigned long long)seed);
	/* the probes */
	memcpy(p.addr, family == 4 ? v4_hit32 : v6_hit128, bytes);
	p.plen = max;
	err = gz_line(gz, &p);
	memset(p.addr, 0, sizeof(p.addr));
	memcpy(p.addr, net, bytes);
	p.plen = net_len;
	if (!err)
		err = gz_line(gz, &p);
	for (i = 0; i < n && !err; i++) {
		int k;

		do {
			for (k = 0; k < bytes; k += 8) {
				__u64 r = splitmix64(&seed);

				memcpy(p.addr + k, &r, bytes - k < 8 ? bytes - k : 8);
			}
			p.plen = min + (int)(splitmix64(&seed) % (max - min + 1));
			mask_addr(p.addr, bytes, p.plen);
		} while (steals_probe(&p, nomatch, net, net_len));
		err = gz_line(gz, &p);
	}
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
	if (err)
		pr_warn("cannot write %s: %s\n", path, strerror(-err));
	return err;
}

static int write_config(const char *path, const char *v4, const char *v6)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	fprintf(f, "# bpfguard bench\n[guard]\ninterfaces = none\n\n");
	fprintf(f, "[list bench-v4]\npath = %s\ncategory = bench\naction = block\n\n", v4);
	if (v6)
		fprintf(f, "[list bench-v6]\npath = %s\ncategory = bench\naction = block\n", v6);
	if (fclose(f)) {
		err = -errno;
		pr_warn("cannot write %s: %s\n", path, strerror(-err));
	}
	return err;
}

static size_t file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return 0;
	n = fseek(f, 0, SEEK_END) ? 0 : ftell(f);
	fclose(f);
	return n > 0 ? (size_t)n : 0;
}

/* config_load + policy_build, timed; *out gets the policy when out is not NULL. */
static int load_policy(const char *conf, double *secs, struct guard_policy **out)
{
	struct diag diag = { .max_print = 20 };
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	__u64 t0 = now_ns();
	int err;

	err = config_load(conf, &diag, &cfg);
	if (!err)
		err = policy_build(cfg, &diag, &pol);
	*secs = (double)(now_ns() - t0) / 1e9;
	config_free(cfg);
	if (err) {
		pr_warn("bench: the generated config %s did not load (%s)\n", conf, strerror(-err));
		return err;
	}
	if (out)
		*out = pol;
	else
		policy_free(pol);
	return 0;
}

/* --- packets --- */

static __u16 csum16(const __u8 *p, size_t n)
{
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Ethernet + IPv4 or IPv6 + a TCP SYN from a documentation client to daddr, port 443. */
static __u32 build_syn(__u8 *pkt, int family, const __u8 *daddr)
{
	static const __u8 v4_src[4] = { 192, 0, 2, 2 };
	static const __u8 v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
	__u8 *ip = pkt + 14, *tcp;
	__u32 len;

	memset(pkt, 0, BENCH_PKT_MAX);
	memcpy(pkt, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (family == 4) {
		pkt[12] = 0x08;
		ip[0] = 0x45;
		ip[3] = 40; /* total length */
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6; /* TCP */
		memcpy(ip + 12, v4_src, 4);
		memcpy(ip + 16, daddr, 4);
		{
			__u16 c = csum16(ip, 20);

			ip[10] = c >> 8;
			ip[11] = c & 0xff;
		}
		tcp = ip + 20;
	} else {
		pkt[12] = 0x86;
		pkt[13] = 0xdd;
		ip[0] = 0x60;
		ip[5] = 20; /* payload length */
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, v6_src, 16);
		memcpy(ip + 24, daddr, 16);
		tcp = ip + 40;
	}
	tcp[0] = 0xc3; /* source port 50000 */
	tcp[1] = 0x50;
	tcp[2] = 0x01; /* 443 */
	tcp[3] = 0xbb;
	tcp[7] = 1; /* seq */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	len = (__u32)(tcp + 20 - pkt);
	return len < 60 ? 60 : len; /* padded to the Ethernet minimum */
}

/* --- the plain LPM trie program, assembled here --- */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

/*
 * XDP: if the frame is Ethernet + IPv4 (34 bytes present), look the destination up in the LPM
 * trie map_fd; XDP_DROP on a match, XDP_PASS otherwise. The least a trie-based filter does.
 */
static int lpm_prog_load(int map_fd)
{
	const __u16 eth_ip = htons(0x0800); /* as a 16-bit load of the frame reads it */
	struct bpf_insn insns[] = {
		/* r2 = data, r3 = data_end */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct xdp_md, data), 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 3, 1, offsetof(struct xdp_md, data_end), 0),
		/* if data + 34 > data_end goto pass */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 34),
		INSN(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 13, 0),
		/* if eth->proto != htons(ETH_P_IP) goto pass */
		INSN(BPF_LDX | BPF_MEM | BPF_H, 5, 2, 12, 0),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 11, eth_ip),
		/* key = { 32, ip->daddr } at r10 - 8 */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 2, 30, 0),
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -8, 32),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 5, -4, 0),
		/* r0 = bpf_map_lookup_elem(map, r10 - 8) */
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -8),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		/* if r0 == NULL goto pass */
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_DROP),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		/* pass: */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, po, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_lpm", "GPL", insns, ARRAY_SIZE(insns), &po);
	if (fd < 0) {
		fd = -errno;
		pr_warn("cannot load the LPM trie comparison program: %s\n%s\n", strerror(-fd),
			log);
	}
	return fd;
}

/* The policy's distinct IPv4 destination prefixes, into a new LPM trie. */
static int lpm_fill(struct bench *b)
{
	const struct iptable *t = &b->pol->ipt;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct lpm_v4_key *keys = NULL;
	__u32 *vals = NULL, n = 0, done, count;
	size_t i;
	int fd, err = 0;
	__u64 t0;

	for (i = 0; i < t->n_prefixes; i++)
		n += t->prefixes[i].prefix.family == 4 && t->prefixes[i].dir == IPT_DIR_DST;
	keys = calloc(n ? n : 1, sizeof(*keys));
	vals = calloc(n ? n : 1, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0, n = 0; i < t->n_prefixes; i++) {
		const struct ipt_prefix *p = &t->prefixes[i];

		if (p->prefix.family != 4 || p->dir != IPT_DIR_DST)
			continue;
		keys[n].prefixlen = p->prefix.plen;
		memcpy(keys[n].addr, p->prefix.addr, 4);
		vals[n++] = 1;
	}
	t0 = now_ns();
	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bench_lpm", sizeof(*keys), sizeof(*vals),
			    n ? n : 1, &mo);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot create the LPM trie of %u prefixes: %s\n", n, strerror(-err));
		goto cleanup;
	}
	b->lpm_map_fd = fd;
	/* In batches where the kernel has them for tries, else one by one. */
	for (done = 0; done < n; done += count) {
		count = n - done < 65536 ? n - done : 65536;
		if (bpf_map_update_batch(fd, keys + done, vals + done, &count, NULL)) {
			err = -errno;
			/* 524: the kernel's ENOTSUPP, which leaks to user space here */
			if (done == 0 && (err == -EINVAL || err == -EOPNOTSUPP || err == -524))
				break;
			pr_warn("cannot fill the LPM trie: %s\n", strerror(-err));
			goto cleanup;
		}
	}
	if (done < n) {
		for (; done < n; done++) {
			if (bpf_map_update_elem(fd, &keys[done], &vals[done], BPF_ANY)) {
				err = -errno;
				pr_warn("cannot fill the LPM trie: %s\n", strerror(-err));
				goto cleanup;
			}
		}
	}
	b->lpm_fill_s = (double)(now_ns() - t0) / 1e9;
	b->lpm_prefixes = n;
	err = 0;
cleanup:
	free(keys);
	free(vals);
	return err;
}

/* --- memory --- */

/* The kernel's accounting of a map: "memlock:" in /proc/self/fdinfo/<fd>. */
static size_t map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return (size_t)v;
}

/* --- measuring --- */

static int bench_prog_fd(const struct bench *b, enum bench_prog p)
{
	switch (p) {
	case PROG_MINIMAL:
		return bpf_program__fd(b->minimal->progs.minimal_xdp);
	case PROG_GUARD:
		return bpf_program__fd(b->skel->progs.guard_xdp);
	default:
		return b->lpm_prog_fd;
	}
}

static int read_counters(const struct bench *b, struct guard_stats *st)
{
	int err = stats_read_fds(bpf_map__fd(b->skel->maps.MAP_COUNTERS), -1, -1, 0, st);

	if (err)
		pr_warn("cannot read the guard's counters: %s\n", strerror(-err));
	return err;
}

/* Run case c: best duration of b->runs test runs of b->repeat packets each, checked. */
static int measure(struct bench *b, struct bench_case *c, struct guard_stats *st)
{
	__u64 before = 0;
	int r, err;

	if (c->counter >= 0) {
		err = read_counters(b, st);
		if (err)
			return err;
		before = st->counters[c->counter].packets;
	}
	c->ns = 0xffffffffu;
	for (r = 0; r < b->runs; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, ta, .data_in = c->pkt, .data_size_in = c->len,
			    .repeat = b->repeat);

		if (bpf_prog_test_run_opts(bench_prog_fd(b, c->prog), &ta)) {
			err = -errno;
			pr_warn("bench %s: BPF_PROG_TEST_RUN failed: %s%s\n", c->name,
				strerror(-err),
				err == -EPERM ?
					" (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)" :
					"");
			return err;
		}
		if (ta.retval != c->want) {
			pr_warn("bench %s: the program returned %u, expected %u: the case does not "
				"measure what it names\n",
				c->name, ta.retval, c->want);
			return -EPROTO;
		}
		if (ta.duration < c->ns)
			c->ns = ta.duration;
	}
	if (c->counter >= 0) {
		__u64 want = (__u64)b->repeat * b->runs, got;

		err = read_counters(b, st);
		if (err)
			return err;
		got = st->counters[c->counter].packets - before;
		if (got != want) {
			pr_warn("bench %s: %llu packets reached %s, expected %llu: the case does not "
				"measure what it names\n",
				c->name, (unsigned long long)got,
				guard_counter_info[c->counter].name, (unsigned long long)want);
			return -EPROTO;
		}
	}
	return 0;
}

static void add_case(struct bench *b, const char *name, enum bench_prog prog, int family,
		     const __u8 *daddr, __u32 want, int counter)
{
	struct bench_case *c = &b->cases[b->n_cases++];

	c->name = name;
	c->prog = prog;
	c->family = family;
	c->daddr = daddr;
	c->want = want;
	c->counter = prog == PROG_GUARD ? counter : -1;
	c->len = build_syn(c->pkt, family, daddr);
}

/* The host tables must agree that each case's address is (not) matched as the case says. */
static int check_cases(const struct bench *b)
{
	int i;

	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];
		__u32 leaf = iptable_lookup(&b->pol->ipt, c->family, IPT_DIR_DST, c->daddr);

		if (c->prog == PROG_MINIMAL)
			continue;
		if ((leaf != IPT_LEAF_NONE) != (c->want == XDP_DROP)) {
			pr_warn("bench %s: the host tables %s the probe address: the generated "
				"lists are wrong\n",
				c->name, leaf ? "match" : "do not match");
			return -EPROTO;
		}
	}
	return 0;
}

/* --- the run --- */

static int pin_cpu(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (sched_getaffinity(0, sizeof(*saved), saved) || cpu < 0)
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

static int prepare(struct bench *b)
{
	struct loader_opts lo = LOADER_OPTS_INIT; /* trace off: the packet path as `run` has it */
	const char *tmp = getenv("TMPDIR");
	struct bpf_map *m;
	__u64 t0;
	int i, err;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	err = 0;
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s/bpfguard-bench.XXXXXX", tmp) >=
	    sizeof(b->dir))
		err = -ENAMETOOLONG;
	else if (!mkdtemp(b->dir))
		err = -errno;
	if (err) {
		b->dir[0] = 0;
		pr_warn("cannot create a temporary directory in %s: %s (set TMPDIR to a writable "
			"directory)\n",
			tmp, strerror(-err));
		return err;
	}
	snprintf(b->v4_path, sizeof(b->v4_path), "%s/v4.txt.gz", b->dir);
	snprintf(b->v6_path, sizeof(b->v6_path), "%s/v6.txt.gz", b->dir);
	snprintf(b->conf4_path, sizeof(b->conf4_path), "%s/v4.conf", b->dir);
	snprintf(b->conf_path, sizeof(b->conf_path), "%s/all.conf", b->dir);
	err = write_list(b->v4_path, 4, b->n4);
	if (!err)
		err = write_list(b->v6_path, 6, b->n6);
	if (!err)
		err = write_config(b->conf4_path, b->v4_path, NULL);
	if (!err)
		err = write_config(b->conf_path, b->v4_path, b->v6_path);
	if (err)
		return err;
	b->gz_bytes = file_size(b->v4_path) + file_size(b->v6_path);

	/*
	 * The load path, timed: the IPv4 list alone (best of two: the first also pays for
	 * warming the allocator and the page cache), then both lists, the policy measured.
	 */
	for (i = 0; i < (b->o->quick ? 1 : 2); i++) {
		double s;

		err = load_policy(b->conf4_path, &s, NULL);
		if (err)
			return err;
		if (i == 0 || s < b->load_v4_s)
			b->load_v4_s = s;
	}
	err = load_policy(b->conf_path, &b->load_all_s, &b->pol);
	if (err)
		return err;

	t0 = now_ns();
	err = loader_load(b->pol, &lo, &b->skel);
	b->fill_s = (double)(now_ns() - t0) / 1e9;
	if (err)
		return err;
	for (m = bpf_object__next_map(b->skel->obj, NULL); m;
	     m = bpf_object__next_map(b->skel->obj, m))
		b->maps_bytes += map_memlock(bpf_map__fd(m));

	b->minimal = minimal__open_and_load();
	if (!b->minimal) {
		err = -errno;
		pr_warn("cannot load the minimal program: %s%s\n", strerror(-err),
			err == -EPERM ? " (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)" : "");
		return err;
	}
	err = lpm_fill(b);
	if (err)
		return err;
	b->lpm_bytes = map_memlock(b->lpm_map_fd);
	b->lpm_prog_fd = lpm_prog_load(b->lpm_map_fd);
	return b->lpm_prog_fd < 0 ? b->lpm_prog_fd : 0;
}

static void cleanup_files(struct bench *b)
{
	const char *files[] = { b->v4_path, b->v6_path, b->conf4_path, b->conf_path };
	size_t i;

	if (!b->dir[0])
		return;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i][0])
			unlink(files[i]);
	rmdir(b->dir);
}

/* --- output --- */

static void print_json(const struct bench *b)
{
	size_t prefixes = b->pol->ipt.n_prefixes;
	struct bpf_map *m;
	int i;

	printf("{\"cases\": [");
	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];

		printf("%s{\"name\": \"%s\", \"ns_per_pkt\": %u, \"ratio_to_minimal\": %.2f, "
		       "\"verdict\": \"%s\"}",
		       i ? ", " : "", c->name, c->ns, c->ratio,
		       c->want == XDP_DROP ? "drop" : "pass");
	}
	printf("], \"load\": {\"v4_prefixes\": %ld, \"v6_prefixes\": %ld, \"probe_prefixes\": 4, "
	       "\"distinct_prefixes\": %zu, \"gz_bytes\": %zu, \"load_v4_gz_s\": %.3f, "
	       "\"load_1m_v4_gz_s\": ",
	       b->n4, b->n6, prefixes, b->gz_bytes, b->load_v4_s);
	if (b->n4 == 1000000)
		printf("%.3f", b->load_v4_s);
	else
		printf("null");
	printf(", \"load_all_gz_s\": %.3f, \"fill_s\": %.3f, \"lpm_v4_fill_s\": %.3f}",
	       b->load_all_s, b->fill_s, b->lpm_fill_s);
	printf(", \"memory\": {\"maps_bytes\": %zu, \"bytes_per_prefix\": %.1f, "
	       "\"tables_bytes\": %zu, \"v4_groups\": %u, \"v6_groups\": %u, \"v6_trie_rules\": "
	       "%zu, \"leaves\": %u, \"lpm_v4_bytes\": %zu, \"lpm_v4_prefixes\": %zu, "
	       "\"lpm_v4_bytes_per_prefix\": %.1f, \"maps\": {",
	       b->maps_bytes, prefixes ? (double)b->maps_bytes / prefixes : 0.0,
	       iptable_kernel_bytes(&b->pol->ipt), b->pol->ipt.v4_groups, b->pol->ipt.v6_groups,
	       b->pol->ipt.n_v6_rules, b->pol->ipt.n_leaves, b->lpm_bytes, b->lpm_prefixes,
	       b->lpm_prefixes ? (double)b->lpm_bytes / b->lpm_prefixes : 0.0);
	i = 0;
	for (m = bpf_object__next_map(b->skel->obj, NULL); m;
	     m = bpf_object__next_map(b->skel->obj, m))
		printf("%s\"%s\": %zu", i++ ? ", " : "", bpf_map__name(m),
		       map_memlock(bpf_map__fd(m)));
	printf("}}, \"params\": {\"repeat\": %u, \"runs\": %d, \"seed_v4\": \"0x%llx\", "
	       "\"seed_v6\": \"0x%llx\"}}\n",
	       b->repeat, b->runs, (unsigned long long)BENCH_SEED_V4,
	       (unsigned long long)BENCH_SEED_V6);
}

static void print_text(const struct bench *b)
{
	size_t prefixes = b->pol->ipt.n_prefixes;
	int i;

	printf("%-22s %8s %8s  %s\n", "case", "ns/pkt", "ratio", "verdict");
	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];

		printf("%-22s %8u %8.2f  %s\n", c->name, c->ns, c->ratio,
		       c->want == XDP_DROP ? "drop" : "pass");
	}
	printf("\nBPF_PROG_TEST_RUN, best of %d runs of %u packets, one CPU\n", b->runs, b->repeat);
	printf("lists: %ld IPv4 + %ld IPv6 random prefixes (+4 probes), %zu distinct, %.1f MB "
	       "gzipped\n",
	       b->n4, b->n6, prefixes, b->gz_bytes / 1e6);
	printf("load (config -> policy): IPv4 list %.2f s, both lists %.2f s; fill (loader_load) "
	       "%.2f s\n",
	       b->load_v4_s, b->load_all_s, b->fill_s);
	printf("kernel memory: guard maps %.1f MB (%.0f bytes per prefix: %u+%u table groups, "
	       "%zu IPv6 trie rules, %u leaves)\n",
	       b->maps_bytes / 1e6, prefixes ? (double)b->maps_bytes / prefixes : 0.0,
	       b->pol->ipt.v4_groups, b->pol->ipt.v6_groups, b->pol->ipt.n_v6_rules,
	       b->pol->ipt.n_leaves);
	printf("plain LPM trie of the %zu IPv4 prefixes: %.1f MB (%.0f bytes per prefix), filled "
	       "in %.2f s\n",
	       b->lpm_prefixes, b->lpm_bytes / 1e6,
	       b->lpm_prefixes ? (double)b->lpm_bytes / b->lpm_prefixes : 0.0, b->lpm_fill_s);
}

int bench_run(const struct bench_opts *o)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct guard_stats *st = calloc(1, sizeof(*st));
	cpu_set_t saved;
	bool pinned = false;
	int i, err, ret = 2;

	if (!b || !st) {
		pr_warn("bench: out of memory\n");
		goto cleanup;
	}
	b->o = o;
	b->lpm_map_fd = b->lpm_prog_fd = -1;
	b->n4 = o->v4 >= 0 ? o->v4 : o->quick ? BENCH_V4_QUICK : BENCH_V4_DEFAULT;
	b->n6 = o->v6 >= 0 ? o->v6 : o->quick ? BENCH_V6_QUICK : BENCH_V6_DEFAULT;
	b->repeat = o->quick ? BENCH_REPEAT_QUICK : BENCH_REPEAT;
	b->runs = o->quick ? BENCH_RUNS_QUICK : BENCH_RUNS;
	if (geteuid() != 0)
		pr_warn("bench: not running as root: loading BPF will likely fail (needs root or "
			"CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)\n");
	if (!o->json)
		fprintf(stderr, "bench: generating and loading %ld IPv4 + %ld IPv6 prefixes...\n",
			b->n4, b->n6);
	err = prepare(b);
	if (err)
		goto cleanup;

	add_case(b, "minimal", PROG_MINIMAL, 4, v4_nomatch, XDP_PASS, -1);
	add_case(b, "v4-nomatch", PROG_GUARD, 4, v4_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v4-prefix-hit", PROG_GUARD, 4, v4_hit32, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v4-prefix-hit-short", PROG_GUARD, 4, v4_short_addr, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v6-nomatch", PROG_GUARD, 6, v6_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v6-prefix-hit", PROG_GUARD, 6, v6_hit128, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v6-prefix-hit-short", PROG_GUARD, 6, v6_short_addr, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "lpm-v4-nomatch", PROG_LPM, 4, v4_nomatch, XDP_PASS, -1);
	add_case(b, "lpm-v4-prefix-hit", PROG_LPM, 4, v4_hit32, XDP_DROP, -1);
	err = check_cases(b);
	if (err)
		goto cleanup;

	if (!o->json)
		fprintf(stderr, "bench: measuring %d cases...\n", b->n_cases);
	pinned = pin_cpu(&saved) == 0;
	for (i = 0; i < b->n_cases; i++) {
		err = measure(b, &b->cases[i], st);
		if (err)
			goto cleanup;
	}
	for (i = 0; i < b->n_cases; i++)
		b->cases[i].ratio = b->cases[0].ns ? (double)b->cases[i].ns / b->cases[0].ns : 0;
	if (o->json)
		print_json(b);
	else
		print_text(b);
	fflush(stdout);
	ret = 0;
cleanup:
	if (pinned)
		sched_setaffinity(0, sizeof(saved), &saved);
	if (b) {
		if (b->lpm_prog_fd >= 0)
			close(b->lpm_prog_fd);
		if (b->lpm_map_fd >= 0)
			close(b->lpm_map_fd);
		minimal__destroy(b->minimal);
		guard__destroy(b->skel);
		policy_free(b->pol);
		cleanup_files(b);
	}
	free(st);
	free(b);
	return ret;
}
