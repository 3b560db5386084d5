// SPDX-License-Identifier: GPL-2.0-only
/*
 * `bench` (see bench.h). One run measures, on one pinned CPU, with BPF_PROG_TEST_RUN (repeat R,
 * best of several runs, ns per packet: see bench_timing_setup):
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
 * And a names list: a gzip hosts file (`0.0.0.0 name` lines) of N random names of 2 to 4
 * labels under a few TLDs (labels of [a-z0-9], so they never meet the probes, whose labels
 * have a '-'), plus the listed probe static.blocked-bench.com. Every name case asks for a
 * 5-label name (both walk 5 suffixes), from 192.0.2.2 to 203.0.113.1:
 *   dns-miss       A query (RD, EDNS as dig sends it) for www.img.static.nomatch-bench.com
 *   dns-hit        the same for www.img.static.blocked-bench.com: answered NXDOMAIN, XDP_TX
 *   dns-tcp-miss   the miss over TCP, a segment holding the query behind its length (the
 *                  stream's record looked up, none found: a stream not followed)
 *   sni-miss/-hit  one segment holding a whole ClientHello (x25519 key share, the SNI 10th of
 *                  15 extensions, as browsers permute them), to port 443: pass / RST, XDP_TX
 *   sni-split      the second segment of a post-quantum ClientHello (X25519MLKEM768, ~1.7 KB)
 *                  split after 1000 bytes, the SNI in the second: RST, XDP_TX
 *   sni-split-pair  both segments of that hello, of a new flow each call (another source
 *                  port), summed: what a post-quantum hello to a blocked name costs, the flow
 *                  record made, found and deleted
 *   sni-split-first  that hello's first segment, of a new flow each call (another source
 *                  port): walked to the key share, a flow record made (pass_tls_pending)
 *   http-host-miss/-hit  `GET / HTTP/1.1` with the Host header first, as curl sends it: pass / RST
 *   tls-data       a TLS application data record to port 443 (most TCP payload): no name, the
 *                  main program's hand-over check only (the IP rules decide: pass)
 *   dns-hit-drop, sni-hit-drop, http-host-hit-drop  the hits through PROG_DROP (dns_action and
 *                  tcp_action drop): the decision to block without the answer or reset
 * Cases that rewrite the frame (an answer, a reset) cannot use repeat R as it is: the second
 * repetition would see the answer. They are measured "restore": repeat R of a harness program
 * (bpf/minimal.bpf.c: bench_restore_xdp) that puts the original frame back, then tail-calls
 * the guard; minus the harness's own cost, which is the harness with the minimal program as
 * its target, on the case's frame, minus the minimal program's repeat-R figure (calibrate();
 * dns-miss-restore checks the method against dns-miss). Like the repeat cases, they run with
 * warm caches.
 * sni-split needs flow state made by another frame: it is measured "fresh": BPF_PROG_TEST_RUN
 * with repeat 1, the original frames each call, C calls per run (the first segment run before
 * each second segment, only the second's duration counted), the mean of the best run minus the
 * per-call overhead, which is the minimal program measured the same way on the case's frame
 * minus its repeat-R figure. Each call is a system call, which leaves the caches colder than a
 * stream of packets does: dns-miss-fresh shows by how much against dns-miss.
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
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "minimal.skel.h"
#include "maps/bench.h"
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
#define BENCH_SEED_NAMES 0x6e616d6573626e63ull
#define BENCH_FRESH_CALLS 20000u /* per run, for the cases measured fresh */
#define BENCH_FRESH_CALLS_QUICK 3000u
#define BENCH_NAMES_DEFAULT 1000000
#define BENCH_NAMES_QUICK 100000
#define BENCH_MAX_CASES 40
#define BENCH_PKT_MAX BENCH_FRAME_MAX /* the restore harness puts frames this long back */
#define BENCH_OUT_MAX 4096 /* an answer may grow the frame */
#define BENCH_REPEAT_BASE 2u /* timed_run's second call: what a call costs besides packets */
#define BENCH_BASE_RUNS 5 /* of which the fastest is taken */

/* How runs are timed (bench_timing_setup). */
enum bench_timing {
	BENCH_TIMING_CLOCK, /* this process's clock, the program held in the XDP dispatcher */
	BENCH_TIMING_KERNEL, /* the kernel's figure: whole ns, rounded down */
};

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
/* The sender of every case (the receiver of v4-reply-groups: no IPv4 prefix covers it). */
static const __u8 v4_client[4] = { 192, 0, 2, 2 };
static const __u8 v6_client[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
/* The names list's probes and the names the cases ask for. */
#define NAME_LISTED "static.blocked-bench.com"
#define NAME_HIT "www.img." NAME_LISTED
#define NAME_MISS "www.img.static.nomatch-bench.com"
static const char *const name_tlds[] = { "com", "net", "org", "io", "de", "ru", "info", "xyz" };

/*
 * PROG_GROUPS: the guard loaded with the same lists plus 64 categories and 256 groups;
 * PROG_GROUP1: the same with one group (the probes' sender's): the single-group cost.
 * PROG_DROP: the main lists with dns_action = drop and tcp_action = drop: a blocked name's
 * decision without the answer or reset (the *-hit-drop cases, measured repeat).
 */
enum bench_prog { PROG_MINIMAL, PROG_GUARD, PROG_LPM, PROG_GROUPS, PROG_GROUP1, PROG_DROP };
/* How a case is run (see the top of the file). */
enum bench_method { M_REPEAT, M_FRESH, M_RESTORE };
/* What the output frame of a fresh or restore case must be (beyond the return value). */
enum bench_out { OUT_ANY, OUT_NXDOMAIN, OUT_RST };

struct bench_case {
	const char *name;
	enum bench_prog prog;
	int family;
	const __u8 *daddr;
	__u32 want; /* XDP_PASS or XDP_DROP */
	int counter; /* the guard's verdict counter the packets must land in, -1: none */
	const char *qname; /* a name case: the name the packet carries, else NULL */
	enum bench_method method;
	bool new_flow; /* fresh: another source port each call (a new flow each time) */
	bool pair; /* fresh: pre timed too, both of a new flow each call (and two calls' cost off) */
	enum bench_out out;
	__u32 l4_off; /* from the frame's start */
	__u8 pkt[BENCH_PKT_MAX];
	__u32 len;
	__u8 pre[BENCH_PKT_MAX]; /* pre_len > 0: run before each call of pkt (not timed) */
	__u32 pre_len;
	int pre_counter; /* the verdict counter pre must land in */
	double ns; /* per packet, in hundredths (see bench_timing_setup) */
	__u32 kernel_ns; /* repeat, restore: the kernel's figure for the best run, whole ns */
	double overhead; /* restore, fresh: the method's own cost with this frame, subtracted */
	double ratio;
};

struct bench {
	const struct bench_opts *o;
	long n4, n6;
	__u32 repeat;
	int runs;
	char dir[256]; /* the temporary directory, "" when none */
	long n_names;
	__u32 fresh_calls;
	char v4_path[288], v6_path[288], conf4_path[288], conf_path[288];
	char names_path[288], confn_path[288], confd_path[288];
	size_t gz_bytes, names_gz_bytes;
	double load_names_s, fresh_overhead, restore_overhead;
	size_t dom_bytes;
	struct guard_policy *pol;
	struct guard *skel;
	char confg_path[288]; /* the groups config: all.conf + 61 categories + 255 groups */
	char confg1_path[288]; /* the same with one group */
	struct guard_policy *pol_groups, *pol_group1, *pol_drop;
	struct guard *skel_groups, *skel_group1, *skel_drop;
	double load_groups_s;
	struct minimal *minimal;
	int lpm_map_fd, lpm_prog_fd;
	enum bench_timing timing;
	int lo_ifindex; /* the loopback of the bench's own network namespace (clock timing) */
	int attached_fd; /* the program attached to it, -1: none */
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

/* Would prefix (a, plen) cover the no-match probe or the IPv4 client, or be one inside the
 * reserved net (net, net_len)? Then it is drawn again. */
static bool steals_probe(const struct ip_prefix *p, const __u8 *nomatch, const __u8 *net,
			 int net_len)
{
	struct ip_prefix reserved = *p;

	if (ip_prefix_covers(p, nomatch) || (p->family == 4 && ip_prefix_covers(p, v4_client)))
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

/* A random label of 3 to 12 characters of [a-z0-9], the first a letter. */
static int random_label(char *out, __u64 *seed)
{
	__u64 r = splitmix64(seed);
	int n = 3 + (int)(r % 10), i;

	r >>= 8;
	out[0] = (char)('a' + r % 26);
	for (i = 1; i < n; i++) {
		if (i % 8 == 0)
			r = splitmix64(seed);
		else
			r /= 36;
		out[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
	}
	return n;
}

/* Write n random names of 2 to 4 labels and the listed probe to path as a gzip hosts file. */
static int write_names(const char *path, long n)
{
	__u64 seed = BENCH_SEED_NAMES;
	char line[128];
	gzFile gz;
	long i;
	int err = 0, len;

	gz = gzopen(path, "wb");
	if (!gz) {
		pr_warn("cannot create %s: %s\n", path, strerror(errno ? errno : ENOMEM));
		return -EIO;
	}
	gzprintf(gz, "# bpfguard bench: %ld random names of 2-4 labels, seed 0x%llx\n", n,
		 (unsigned long long)seed);
	len = snprintf(line, sizeof(line), "0.0.0.0 %s\n", NAME_LISTED);
	if (gzwrite(gz, line, len) != len)
		err = -EIO;
	for (i = 0; i < n && !err; i++) {
		__u64 r = splitmix64(&seed);
		int labels = 1 + (int)(r % 3), k;
		const char *tld = name_tlds[(r >> 8) % ARRAY_SIZE(name_tlds)];

		len = snprintf(line, sizeof(line), "0.0.0.0 ");
		for (k = 0; k < labels; k++) {
			len += random_label(line + len, &seed);
			line[len++] = '.';
		}
		len += snprintf(line + len, sizeof(line) - len, "%s\n", tld);
		if (gzwrite(gz, line, len) != len)
			err = -EIO;
	}
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
	if (err)
		pr_warn("cannot write %s: %s\n", path, strerror(-err));
	return err;
}

/* A config of the lists given (NULL: not listed); drop: dns_action and tcp_action drop. */
static int write_config(const char *path, const char *v4, const char *v6, const char *names,
			bool drop)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", path, strerror(-err));
		return err;
	}
	fprintf(f, "# bpfguard bench\n[guard]\ninterfaces = none\n%s\n",
		drop ? "dns_action = drop\ntcp_action = drop\n" : "");
	if (v4)
		fprintf(f, "[list bench-v4]\npath = %s\ncategory = bench\naction = block\n\n", v4);
	if (v6)
		fprintf(f, "[list bench-v6]\npath = %s\ncategory = bench\naction = block\n\n", v6);
	if (names)
		fprintf(f, "[list bench-names]\npath = %s\ncategory = bench\naction = block\n",
			names);
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

/* The one's complement sum of p[0..n) added to s (not folded). */
static __u32 csum_add(__u32 s, const __u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

static __u16 csum_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __u16 csum16(const __u8 *p, size_t n)
{
	return csum_fold(csum_add(0, p, n));
}

static void put16(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* What build_frame() puts after the IP header. */
struct l4_spec {
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 sport, dport;
	__u8 tcp_flags;
	__u32 seq, ack;
	const __u8 *payload;
	__u32 plen;
};

/*
 * Ethernet + IPv4 or IPv6 from a documentation client to daddr + the TCP or UDP header of l and
 * its payload, lengths and checksums right. Returns the frame's length (padded to the Ethernet
 * minimum), 0 if it does not fit BENCH_PKT_MAX; *l4_off gets the L4 header's offset.
 */
static __u32 build_frame(__u8 *pkt, int family, const __u8 *daddr, const struct l4_spec *l,
			 __u32 *l4_off)
{
	__u32 hl = l->proto == IPPROTO_TCP ? 20 : 8, l4len = hl + l->plen, len, sum;
	__u8 *ip = pkt + 14, *h, pseudo[40];

	if (14 + 40 + l4len > BENCH_PKT_MAX)
		return 0;
	memset(pkt, 0, BENCH_PKT_MAX);
	memcpy(pkt, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (family == 4) {
		pkt[12] = 0x08;
		ip[0] = 0x45;
		put16(ip + 2, 20 + l4len); /* total length */
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = l->proto;
		memcpy(ip + 12, v4_client, 4);
		memcpy(ip + 16, daddr, 4);
		put16(ip + 10, csum16(ip, 20));
		h = ip + 20;
		/* the pseudo header: addresses, zero, protocol, length */
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = l->proto;
		put16(pseudo + 10, l4len);
		sum = csum_add(0, pseudo, 12);
	} else {
		pkt[12] = 0x86;
		pkt[13] = 0xdd;
		ip[0] = 0x60;
		put16(ip + 4, l4len); /* payload length */
		ip[6] = l->proto;
		ip[7] = 64;
		memcpy(ip + 8, v6_client, 16);
		memcpy(ip + 24, daddr, 16);
		h = ip + 40;
		memcpy(pseudo, ip + 8, 32);
		memset(pseudo + 32, 0, 8);
		put16(pseudo + 34, l4len);
		pseudo[39] = l->proto;
		sum = csum_add(0, pseudo, 40);
	}
	put16(h, l->sport);
	put16(h + 2, l->dport);
	if (l->proto == IPPROTO_TCP) {
		h[4] = (__u8)(l->seq >> 24);
		h[5] = (__u8)(l->seq >> 16);
		h[6] = (__u8)(l->seq >> 8);
		h[7] = (__u8)l->seq;
		h[8] = (__u8)(l->ack >> 24);
		h[9] = (__u8)(l->ack >> 16);
		h[10] = (__u8)(l->ack >> 8);
		h[11] = (__u8)l->ack;
		h[12] = 5 << 4;
		h[13] = l->tcp_flags;
		h[14] = 0xff;
		h[15] = 0xff;
	} else {
		put16(h + 4, l4len);
	}
	if (l->plen)
		memcpy(h + hl, l->payload, l->plen);
	put16(h + (l->proto == IPPROTO_TCP ? 16 : 6), csum_fold(csum_add(sum, h, l4len)));
	*l4_off = (__u32)(h - pkt);
	len = (__u32)(h + l4len - pkt);
	return len < 60 ? 60 : len; /* padded to the Ethernet minimum */
}

/* A TCP SYN from a documentation client to daddr, port 443. */
static __u32 build_syn(__u8 *pkt, int family, const __u8 *daddr, __u32 *l4_off)
{
	struct l4_spec l = {
		.proto = IPPROTO_TCP, .sport = 50000, .dport = 443, .tcp_flags = 0x02, .seq = 1
	};

	return build_frame(pkt, family, daddr, &l, l4_off);
}

/* A DNS query for name (dotted), type A, RD, with an OPT record as dig sends it. */
static __u32 build_dns_query(__u8 *out, const char *name)
{
	/* OPT: root owner, type 41, UDP size 1232, rdlen 12; a COOKIE option (10), 8 bytes */
	static const __u8 opt[] = { 0,	0, 41, 0x04, 0xd0, 0,	 0,    0,    0,	   0,	 12,  0,
				    10, 0, 8,  0x5e, 0x1f, 0x3a, 0x77, 0x10, 0x22, 0x9c, 0x41 };
	__u32 n = 12;
	const char *p = name;

	memset(out, 0, 12);
	put16(out, 0x4b1d); /* id */
	put16(out + 2, 0x0100); /* RD */
	put16(out + 4, 1); /* QDCOUNT */
	put16(out + 10, 1); /* ARCOUNT: the OPT record */
	while (*p) {
		const char *dot = strchr(p, '.');
		__u32 l = dot ? (__u32)(dot - p) : (__u32)strlen(p);

		out[n++] = (__u8)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	put16(out + n, 1); /* A */
	put16(out + n + 2, 1); /* IN */
	n += 4;
	memcpy(out + n, opt, sizeof(opt));
	return n + (__u32)sizeof(opt);
}

/* One extension of type with len bytes of a pattern; returns the bytes written. */
static __u32 tls_ext(__u8 *p, __u32 type, __u32 len)
{
	__u32 i;

	put16(p, type);
	put16(p + 2, len);
	for (i = 0; i < len; i++)
		p[4 + i] = (__u8)(0x40 + (i * 7 + type) % 61);
	return 4 + len;
}

/*
 * A TLS record holding a ClientHello as browsers send it: 32-byte session id, 16 cipher suites,
 * GREASE first and last, 14 other extensions with the SNI (sni) inserted at index sni_pos and
 * a key share of key_share bytes (32: x25519; 1216 + 32: X25519MLKEM768). Returns the record's
 * length; *sni_off gets the SNI's offset in it.
 */
static __u32 build_hello(__u8 *out, const char *sni, int sni_pos, __u32 key_share, __u32 *sni_off)
{
	static const __u16 types[] = { 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005,
				       0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x4469 };
	static const __u8 lens[] = { 0, 1, 10, 2, 0, 14, 5, 18, 0, 0, 2, 7, 3, 5 };
	__u32 n = 9, i, ext_start, l = (__u32)strlen(sni);
	int pos;

	out[n++] = 3;
	out[n++] = 3; /* legacy_version TLS 1.2 */
	for (i = 0; i < 32; i++)
		out[n++] = (__u8)(0xa0 + i); /* random */
	out[n++] = 32;
	for (i = 0; i < 32; i++)
		out[n++] = (__u8)(0x50 + i); /* session id */
	put16(out + n, 32);
	n += 2;
	for (i = 0; i < 16; i++, n += 2)
		put16(out + n, 0x1301 + i);
	out[n++] = 1; /* compression: null */
	out[n++] = 0;
	ext_start = n;
	n += 2;
	n += tls_ext(out + n, 0x0a0a, 0);
	for (i = 0, pos = 0; i <= ARRAY_SIZE(types); i++, pos++) {
		if (pos == sni_pos) {
			put16(out + n, 0); /* server_name */
			put16(out + n + 2, l + 5);
			put16(out + n + 4, l + 3);
			out[n + 6] = 0; /* host_name */
			put16(out + n + 7, l);
			memcpy(out + n + 9, sni, l);
			*sni_off = n + 9;
			n += 9 + l;
		}
		if (i == ARRAY_SIZE(types))
			break;
		if (types[i] == 0x0033) {
			put16(out + n, 0x0033);
			put16(out + n + 2, key_share + 6);
			put16(out + n + 4, key_share + 4);
			put16(out + n + 6, key_share > 32 ? 0x11ec : 0x001d);
			put16(out + n + 8, key_share);
			memset(out + n + 10, 0x77, key_share);
			n += 10 + key_share;
		} else {
			n += tls_ext(out + n, types[i], lens[i]);
		}
	}
	n += tls_ext(out + n, 0x1a1a, 1);
	put16(out + ext_start, n - ext_start - 2);
	out[0] = 0x16; /* handshake record, TLS 1.0 as clients label it */
	out[1] = 3;
	out[2] = 1;
	put16(out + 3, n - 5);
	out[5] = 1; /* ClientHello */
	out[6] = (__u8)((n - 9) >> 16);
	out[7] = (__u8)((n - 9) >> 8);
	out[8] = (__u8)(n - 9);
	return n;
}

/* An HTTP/1.1 GET for host as curl sends it (Host first). */
static __u32 build_http_get(__u8 *out, const char *host)
{
	return (__u32)sprintf((char *)out,
			      "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
			      "Accept: */*\r\n\r\n",
			      host);
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
	case PROG_GROUPS:
		return bpf_program__fd(b->skel_groups->progs.guard_xdp);
	case PROG_GROUP1:
		return bpf_program__fd(b->skel_group1->progs.guard_xdp);
	case PROG_DROP:
		return bpf_program__fd(b->skel_drop->progs.guard_xdp);
	default:
		return b->lpm_prog_fd;
	}
}

static int read_counters(const struct bench *b, enum bench_prog p, struct guard_stats *st)
{
	struct guard *skel = p == PROG_GROUPS ? b->skel_groups :
			     p == PROG_GROUP1 ? b->skel_group1 :
			     p == PROG_DROP   ? b->skel_drop :
						b->skel;
	int err = stats_read_fds(bpf_map__fd(skel->maps.MAP_COUNTERS), -1, -1, 0, st);

	if (err)
		pr_warn("cannot read the guard's counters: %s\n", strerror(-err));
	return err;
}

/*
 * One BPF_PROG_TEST_RUN of pkt, repeat times: the program must return want. *duration: the
 * kernel's figure per packet; *wall_ns (when not NULL): the call's time as this process saw it.
 */
static int run_pkt(const struct bench *b, const struct bench_case *c, const __u8 *pkt, __u32 len,
		   __u32 repeat, __u32 want, __u8 *out, __u32 *duration, double *wall_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, ta, .data_in = pkt, .data_size_in = len, .repeat = repeat,
		    .data_out = out, .data_size_out = out ? BENCH_OUT_MAX : 0);
	__u64 t0 = now_ns();
	int err;

	if (bpf_prog_test_run_opts(bench_prog_fd(b, c->prog), &ta)) {
		err = -errno;
		pr_warn("bench %s: BPF_PROG_TEST_RUN failed: %s%s\n", c->name, strerror(-err),
			err == -EPERM ? " (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)" : "");
		return err;
	}
	if (ta.retval != want) {
		pr_warn("bench %s: the program returned %u for the %s, expected %u: the case does "
			"not measure what it names\n",
			c->name, ta.retval, pkt == c->pkt ? "packet" : "first segment", want);
		return -EPROTO;
	}
	if (wall_ns)
		*wall_ns = (double)(now_ns() - t0);
	*duration = ta.duration;
	return 0;
}

static const char *method_name(enum bench_method m)
{
	return m == M_FRESH ? "fresh" : m == M_RESTORE ? "restore" : "repeat";
}

/*
 * One BPF_PROG_TEST_RUN of the restore harness, repeat times (its frame and target set by
 * restore_setup): the target must return c->want every time (the harness's own failure is
 * XDP_ABORTED). *duration and *wall_ns as run_pkt's.
 */
static int run_restore(const struct bench *b, const struct bench_case *c, __u32 repeat, __u8 *out,
		       __u32 *duration, double *wall_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, ta, .data_in = c->pkt, .data_size_in = c->len,
		    .repeat = repeat, .data_out = out, .data_size_out = out ? BENCH_OUT_MAX : 0);
	__u64 t0 = now_ns();
	int err;

	if (bpf_prog_test_run_opts(bpf_program__fd(b->minimal->progs.bench_restore_xdp), &ta)) {
		err = -errno;
		pr_warn("bench %s: BPF_PROG_TEST_RUN of the restore harness failed: %s\n", c->name,
			strerror(-err));
		return err;
	}
	if (ta.retval != c->want) {
		pr_warn("bench %s: the restore harness returned %u, expected %u%s\n", c->name,
			ta.retval, c->want,
			ta.retval == XDP_ABORTED ? " (it could not put the frame back)" :
						   ": the case does not measure what it names");
		return -EPROTO;
	}
	if (wall_ns)
		*wall_ns = (double)(now_ns() - t0);
	*duration = ta.duration;
	return 0;
}

/* The frame a fresh or restore case's program sent back must be the answer the case names. */
static int check_out(const struct bench_case *c, const __u8 *out)
{
	const __u8 *l4 = out + c->l4_off, *in = c->pkt + c->l4_off;
	const char *what = NULL;

	if (c->out == OUT_NXDOMAIN && (memcmp(l4, in + 2, 2) || !(l4[8 + 2] & 0x80) ||
				       (l4[8 + 3] & 0x0f) != 3 || memcmp(l4 + 8, in + 8, 2)))
		what = "a DNS response to the query (same id, QR set, RCODE 3 NXDOMAIN, from port 53)";
	else if (c->out == OUT_RST && (memcmp(l4, in + 2, 2) || !(l4[13] & 0x04)))
		what = "a TCP reset from the server's port";
	if (!what)
		return 0;
	pr_warn("bench %s: the frame sent back is not %s: the case does not measure what it "
		"names\n",
		c->name, what);
	return -EPROTO;
}

/*
 * Restore cases: the harness gets the case's frame and its target, the program measured.
 * Returns 0 or -errno after a message.
 */
static int restore_setup(const struct bench *b, const struct bench_case *c, struct bench_frame *f)
{
	__u32 zero = 0;
	int fd = bench_prog_fd(b, c->prog);

	memset(f, 0, sizeof(*f));
	f->len = c->len;
	memcpy(f->b, c->pkt, c->len);
	if (bpf_map_update_elem(bpf_map__fd(b->minimal->maps.bench_frame), &zero, f, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->minimal->maps.bench_target), &zero, &fd, BPF_ANY)) {
		int err = -errno;

		pr_warn("bench %s: cannot set the restore harness up: %s\n", c->name,
			strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Attach prog_fd to the bench's loopback (clock timing): the test runs of it are timed alone.
 * Returns 0 or -errno; the caller says what failed.
 */
static int bench_attach(struct bench *b, int prog_fd)
{
	int err;

	if (b->timing != BENCH_TIMING_CLOCK || b->attached_fd == prog_fd)
		return 0;
	err = bpf_xdp_attach(b->lo_ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	if (err)
		return err;
	b->attached_fd = prog_fd;
	return 0;
}

/*
 * Timing. The kernel gives a test run's time per packet in whole ns, rounded down: for the
 * minimal program, 5.0-5.99 ns reads 5, up to 18 % low, and every ratio is that much high.
 * So each repeat run is timed by this process's clock instead, a run of b->repeat packets
 * minus the fastest of BENCH_BASE_RUNS runs of BENCH_REPEAT_BASE (timed_run); the kernel's
 * figure is kept beside it (kernel_ns) as a check: the clock can read up to 1 ns more (the
 * part rounded off), never less. One obstacle: a test run of more than one packet puts its
 * program into the kernel's XDP dispatcher for the run and takes it out after, two RCU grace
 * periods (12-24 ms a call here, in steps of a scheduler tick) that the kernel's timer leaves
 * out and a clock around the call does not. A program attached to a device is in the
 * dispatcher already, and then the test run does not touch it: so the bench moves into a
 * network namespace of its own and attaches the program it measures to that namespace's
 * loopback device, in generic (skb) mode. No packet reaches it: the device is down, and the
 * namespace is the bench's alone; it goes away when the bench exits. Without the namespace
 * (no CAP_SYS_ADMIN), the bench says so and uses the kernel's figures.
 */
static void bench_timing_setup(struct bench *b, const struct bench_case *minimal)
{
	const char *why = NULL;
	double wall = 0, best = 1e18;
	int i, err = 0;
	__u32 d;

	b->timing = BENCH_TIMING_KERNEL;
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		why = "cannot make a network namespace of its own";
	} else {
		b->lo_ifindex = (int)if_nametoindex("lo");
		if (!b->lo_ifindex) {
			err = -errno;
			why = "no loopback device in its namespace";
		}
	}
	if (!why) {
		b->timing = BENCH_TIMING_CLOCK;
		err = bench_attach(b, bench_prog_fd(b, minimal->prog));
		if (err)
			why = "cannot attach a program in its namespace";
	}
	/* attached, a short test run takes microseconds: else the dispatcher is still rebuilt */
	for (i = 0; !why && i < 3; i++) {
		err = run_pkt(b, minimal, minimal->pkt, minimal->len, BENCH_REPEAT_BASE,
			      minimal->want, NULL, &d, &wall);
		if (err)
			why = "a test run failed";
		else if (wall < best)
			best = wall;
	}
	if (!why && best > 500e3)
		why = "a short test run still takes over 0.5 ms (the XDP dispatcher is rebuilt)";
	if (!why)
		return;
	b->timing = BENCH_TIMING_KERNEL;
	pr_warn("bench: %s%s%s%s: times are the kernel's, in whole ns rounded down, and ratios to "
		"a 5-6 ns baseline up to 20 %% high%s\n",
		why, err ? " (" : "", err ? strerror(-err) : "", err ? ")" : "",
		err == -EPERM ? " (finer ones need CAP_SYS_ADMIN)" : "");
}

/*
 * Time one run of case c (a repeat or restore case): b->repeat packets, then BENCH_BASE_RUNS
 * runs of BENCH_REPEAT_BASE (BENCH_TIMING_CLOCK: see bench_timing_setup). *ns: per packet,
 * *kernel_ns: the kernel's figure for the same b->repeat packets (whole ns, rounded down).
 */
static int timed_run(struct bench *b, struct bench_case *c, __u8 *out, double *ns, __u32 *kernel_ns)
{
	double wall = 0, wall_base = 0;
	__u32 d, i;
	int err;

	err = c->method == M_RESTORE ?
		      run_restore(b, c, b->repeat, out, kernel_ns, &wall) :
		      run_pkt(b, c, c->pkt, c->len, b->repeat, c->want, NULL, kernel_ns, &wall);
	if (err)
		return err;
	if (b->timing != BENCH_TIMING_CLOCK) {
		*ns = *kernel_ns;
		return 0;
	}
	/*
	 * What a call costs besides its packets (a few microseconds) cancels out. The least of
	 * a few short calls: one slowed down by the machine (an interrupt, another task) would
	 * make every packet of the long one look faster than it was, below even the kernel's
	 * own figure on a busy machine (quick runs, 200k packets: 50 us is 0.25 ns a packet).
	 */
	for (i = 0; i < BENCH_BASE_RUNS; i++) {
		double w = 0;

		err = c->method == M_RESTORE ? run_restore(b, c, BENCH_REPEAT_BASE, NULL, &d, &w) :
					       run_pkt(b, c, c->pkt, c->len, BENCH_REPEAT_BASE,
						       c->want, NULL, &d, &w);
		if (err)
			return err;
		if (i == 0 || w < wall_base)
			wall_base = w;
	}
	*ns = (wall - wall_base) / (b->repeat - BENCH_REPEAT_BASE);
	if (*ns < 0)
		*ns = 0;
	return 0;
}

/* In hundredths of a ns, the precision the output carries (ratios are computed from it). */
static double ns_round(double ns)
{
	return (double)(__u64)(ns * 100 + 0.5) / 100;
}

static int measure(struct bench *b, struct bench_case *c, struct guard_stats *st, double *raw);

/*
 * What the restore or fresh method costs with case c's own frames: the same method with the
 * minimal program (which reads only Ethernet and IP) on c's frame, minus the minimal program's
 * repeat figure. The frame's length matters: the harness writes the whole frame back before
 * each repetition, a fresh call copies it in; the minimal program's own frame is a 54-byte
 * SYN, a ClientHello segment is up to 1.5 KB. (What it leaves out: the harness also restores
 * the frame's length when the target resized it, a bpf_xdp_adjust_tail() counted with the
 * case.) Sets c->overhead.
 */
static int calibrate(struct bench *b, struct bench_case *c, struct guard_stats *st)
{
	struct bench_case *cal = malloc(sizeof(*cal));
	double raw = 0;
	int err;

	if (!cal)
		return -ENOMEM;
	*cal = *c;
	cal->prog = PROG_MINIMAL;
	cal->want = XDP_PASS;
	cal->counter = -1;
	cal->out = OUT_ANY;
	cal->pre_len = 0;
	cal->new_flow = false;
	cal->pair = false;
	err = measure(b, cal, st, &raw);
	free(cal);
	if (err)
		return err;
	c->overhead = raw > b->cases[0].ns ? raw - b->cases[0].ns : 0;
	return 0;
}

/*
 * Run case c b->runs times, checked. Repeat cases: the best of the runs' times per packet for
 * b->repeat packets (timed_run). Restore cases: the same through the harness, *raw the best,
 * c->ns = *raw - c->overhead (calibrate). Fresh cases: b->fresh_calls calls of repeat 1 per
 * run, the mean of the kernel's durations in the best run in *raw, and c->ns = *raw -
 * c->overhead.
 */
static int measure(struct bench *b, struct bench_case *c, struct guard_stats *st, double *raw)
{
	__u64 before = 0, before_pre = 0;
	__u8 *out = NULL;
	double best = 1e18, t;
	int r, err = 0;
	__u32 d = 0, k;

	if (c->counter >= 0) {
		err = read_counters(b, c->prog, st);
		if (err)
			return err;
		before = st->counters[c->counter].packets;
		if (c->pre_len)
			before_pre = st->counters[c->pre_counter].packets;
	}
	if (c->method != M_REPEAT) {
		out = malloc(BENCH_OUT_MAX);
		if (!out)
			return -ENOMEM;
	}
	if (c->method == M_RESTORE) {
		struct bench_frame *f = malloc(sizeof(*f));

		err = f ? restore_setup(b, c, f) : -ENOMEM;
		free(f);
		if (err)
			goto cleanup;
	}
	if (c->method != M_FRESH) {
		err = bench_attach(b, c->method == M_RESTORE ?
					      bpf_program__fd(b->minimal->progs.bench_restore_xdp) :
					      bench_prog_fd(b, c->prog));
		if (err) {
			pr_warn("bench %s: cannot attach the program to the loopback device of the "
				"bench's namespace: %s\n",
				c->name, strerror(-err));
			goto cleanup;
		}
	}
	for (r = 0; r < b->runs; r++) {
		__u64 sum = 0;

		if (c->method != M_FRESH) {
			/* restore: the output is the last repetition's frame, the answer */
			__u8 *o = c->method == M_RESTORE && r == 0 ? out : NULL;

			err = timed_run(b, c, o, &t, &d);
			if (!err && o)
				err = check_out(c, o);
			if (err)
				goto cleanup;
			if (t < best) {
				best = t;
				c->kernel_ns = d;
			}
			continue;
		}
		for (k = 0; k < b->fresh_calls; k++) {
			bool first = r == 0 && k == 0;

			if (c->pair) {
				/* the next source port for both segments: a new flow's hello */
				__u16 sp = (__u16)(20000 + (r * b->fresh_calls + k) % 40000);

				c->pre[c->l4_off] = (__u8)(sp >> 8);
				c->pre[c->l4_off + 1] = (__u8)sp;
				c->pkt[c->l4_off] = (__u8)(sp >> 8);
				c->pkt[c->l4_off + 1] = (__u8)sp;
			}
			if (c->pre_len) {
				err = run_pkt(b, c, c->pre, c->pre_len, 1, XDP_PASS, NULL, &d,
					      NULL);
				if (err)
					goto cleanup;
				if (c->pair)
					sum += d;
			}
			if (c->new_flow) {
				/* the next source port (20000..60000): another flow, a new record */
				__u16 sp = (__u16)(20000 + (r * b->fresh_calls + k) % 40000);

				c->pkt[c->l4_off] = (__u8)(sp >> 8);
				c->pkt[c->l4_off + 1] = (__u8)sp;
			}
			err = run_pkt(b, c, c->pkt, c->len, 1, c->want, first ? out : NULL, &d,
				      NULL);
			if (!err && first)
				err = check_out(c, out);
			if (err)
				goto cleanup;
			sum += d;
		}
		if ((double)sum / b->fresh_calls < best)
			best = (double)sum / b->fresh_calls;
	}
	if (c->method == M_REPEAT && b->timing == BENCH_TIMING_CLOCK &&
	    best < c->kernel_ns - 0.05) {
		pr_warn("bench %s: the clock read %.2f ns a packet, less than the kernel's %u: the "
			"timing is broken (a bug, or a kernel that times test runs otherwise)\n",
			c->name, best, c->kernel_ns);
		err = -EPROTO;
		goto cleanup;
	}
	*raw = best;
	if (c->method == M_REPEAT) {
		c->ns = ns_round(best);
	} else {
		double ns = best - c->overhead * (c->pair ? 2 : 1);

		c->ns = ns_round(ns < 0.01 ? 0.01 : ns);
	}
	if (c->counter >= 0) {
		__u64 base = BENCH_BASE_RUNS * BENCH_REPEAT_BASE;
		__u64 per_run = c->method == M_FRESH		? b->fresh_calls :
				b->timing == BENCH_TIMING_CLOCK ? b->repeat + base :
								  b->repeat;
		__u64 want = per_run * b->runs, got, got_pre;

		err = read_counters(b, c->prog, st);
		if (err)
			goto cleanup;
		got = st->counters[c->counter].packets - before;
		got_pre = c->pre_len ? st->counters[c->pre_counter].packets - before_pre : want;
		if (got != want || got_pre != want) {
			bool pre = got == want;

			pr_warn("bench %s: %llu %s reached %s, expected %llu: the case does not "
				"measure what it names\n",
				c->name, (unsigned long long)(pre ? got_pre : got),
				pre ? "first segments" : "packets",
				guard_counter_info[pre ? c->pre_counter : c->counter].name,
				(unsigned long long)want);
			err = -EPROTO;
		}
	}
cleanup:
	free(out);
	return err;
}

static struct bench_case *add_case(struct bench *b, const char *name, enum bench_prog prog,
				   int family, const __u8 *daddr, __u32 want, int counter)
{
	struct bench_case *c = &b->cases[b->n_cases++];

	c->name = name;
	c->prog = prog;
	c->family = family;
	c->daddr = daddr;
	c->want = want;
	c->counter = prog == PROG_GUARD || prog == PROG_GROUPS || prog == PROG_GROUP1 ||
				     prog == PROG_DROP ?
			     counter :
			     -1;
	c->len = build_syn(c->pkt, family, daddr, &c->l4_off);
	return c;
}

/* Turn an IPv4 case's frame around: the sender becomes the receiver (checksums unchanged). */
static void swap_addrs(struct bench_case *c)
{
	__u8 t[4];

	memcpy(t, c->pkt + 14 + 12, 4);
	memcpy(c->pkt + 14 + 12, c->pkt + 14 + 16, 4);
	memcpy(c->pkt + 14 + 16, t, 4);
}

enum name_proto {
	NP_DNS,
	NP_DNS_TCP,
	NP_TLS,
	NP_TLS_SPLIT,
	NP_TLS_SPLIT_PAIR,
	NP_TLS_SPLIT_FIRST,
	NP_HTTP,
	NP_TLS_DATA
};

/*
 * A name case of the guard: qname carried by a DNS query, a ClientHello (whole, or the second
 * segment of a split post-quantum one) or an HTTP request, from 192.0.2.2 to 203.0.113.1; or a
 * TLS data segment (qname NULL), which carries none.
 * Returns 0, or -E2BIG if a frame does not fit (a bug here).
 */
static int add_name_case(struct bench *b, const char *name, enum bench_prog prog,
			 enum name_proto np, const char *qname, enum bench_method method,
			 __u32 want, int counter)
{
	struct bench_case *c = add_case(b, name, prog, 4, v4_nomatch, want, counter);
	struct l4_spec l = { .proto = IPPROTO_TCP,
			     .sport = 50123,
			     .dport = 443,
			     .tcp_flags = 0x18 /* ACK|PSH */,
			     .seq = 0x1000,
			     .ack = 0x2000 };
	__u8 payload[2048];
	__u32 n, sni, pre_l4;

	c->qname = qname;
	c->method = method;
	c->out = want != XDP_TX ? OUT_ANY : np == NP_DNS ? OUT_NXDOMAIN : OUT_RST;
	switch (np) {
	case NP_DNS:
		l.proto = IPPROTO_UDP;
		l.dport = 53;
		n = build_dns_query(payload, qname);
		break;
	case NP_DNS_TCP:
		/* the same query over TCP, behind its length: a segment that ends with it */
		l.dport = 53;
		n = build_dns_query(payload + 2, qname);
		put16(payload, n);
		n += 2;
		break;
	case NP_TLS:
		n = build_hello(payload, qname, 9, 32, &sni);
		break;
	case NP_TLS_DATA:
		/*
		 * a TLS 1.3 application data record of 200 bytes: no name, not handed over; from
		 * another port than the hellos (sni-split leaves its flow's pending slot set)
		 */
		l.sport = 50124;
		payload[0] = 0x17;
		payload[1] = 3;
		payload[2] = 3;
		put16(payload + 3, 200);
		for (n = 5; n < 205; n++)
			payload[n] = (__u8)(n * 37);
		break;
	case NP_TLS_SPLIT_FIRST:
		/* the first 1000 bytes of the split hello below: a new flow followed each call */
		n = build_hello(payload, qname, 12, 1216 + 32, &sni);
		if (n <= 1000 || sni < 1000)
			return -E2BIG;
		c->new_flow = true;
		c->out = OUT_ANY;
		l.sport = 20000;
		l.payload = payload;
		l.plen = 1000;
		c->len = build_frame(c->pkt, 4, v4_nomatch, &l, &c->l4_off);
		return c->len ? 0 : -E2BIG;
	case NP_TLS_SPLIT_PAIR:
		/* both segments below, of a new flow each call: what a post-quantum hello costs */
		c->pair = true;
		/* fallthrough */
	case NP_TLS_SPLIT:
		/* the first 1000 bytes, then the rest (the SNI, after the key share) */
		n = build_hello(payload, qname, 12, 1216 + 32, &sni);
		if (n <= 1000 || sni < 1000)
			return -E2BIG;
		l.payload = payload;
		l.plen = 1000;
		c->pre_len = build_frame(c->pre, 4, v4_nomatch, &l, &pre_l4);
		c->pre_counter = GC_PASS_TLS_PENDING;
		if (!c->pre_len)
			return -E2BIG;
		l.seq += 1000;
		l.payload = payload + 1000;
		l.plen = n - 1000;
		c->len = build_frame(c->pkt, 4, v4_nomatch, &l, &c->l4_off);
		return c->len ? 0 : -E2BIG;
	default:
		l.dport = 80;
		n = build_http_get(payload, qname);
		break;
	}
	l.payload = payload;
	l.plen = n;
	c->len = build_frame(c->pkt, 4, v4_nomatch, &l, &c->l4_off);
	return c->len ? 0 : -E2BIG;
}

/* The host tables must agree that each case's address or name is (not) matched as it says. */
/*
 * --case: keep only the named cases (comma-separated) and the minimal program, the baseline.
 * Returns 0, or -EINVAL after a message naming a case that does not exist.
 */
static int select_cases(struct bench *b, const char *names)
{
	bool keep[BENCH_MAX_CASES] = { false };
	const char *p = names;
	int i, n;

	if (!*names) {
		pr_warn("bench: --case needs case names, e.g. --case dns-miss,sni-hit\n");
		return -EINVAL;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (i = 0; i < b->n_cases; i++) {
			if (strlen(b->cases[i].name) == len && !strncmp(b->cases[i].name, p, len)) {
				keep[i] = found = true;
				break;
			}
		}
		if (!found) {
			pr_warn("bench: there is no case '%.*s' (the table of a full run names them)\n",
				(int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	keep[0] = true; /* minimal: the baseline of every ratio */
	for (i = n = 0; i < b->n_cases; i++) {
		if (!keep[i])
			continue;
		if (i != n)
			b->cases[n] = b->cases[i];
		n++;
	}
	b->n_cases = n;
	return 0;
}

static int check_cases(const struct bench *b)
{
	int i;

	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];
		bool hit = c->want != XDP_PASS, found;
		struct dom_match m;

		if (c->prog == PROG_MINIMAL)
			continue;
		if (c->qname) {
			int err = domtable_lookup(&b->pol->dom, c->qname, &m);

			if (err) {
				pr_warn("bench %s: the host lookup of %s failed: %s\n", c->name,
					c->qname, strerror(-err));
				return err;
			}
			found = m.leaf != DOM_LEAF_NONE;
			/* the IP tables must not decide a name case */
			if (iptable_lookup(&b->pol->ipt, c->family, IPT_DIR_DST, c->daddr) !=
			    IPT_LEAF_NONE) {
				pr_warn("bench %s: the host tables match the address of a name "
					"case: the generated lists are wrong\n",
					c->name);
				return -EPROTO;
			}
		} else {
			found = iptable_lookup(&b->pol->ipt, c->family, IPT_DIR_DST, c->daddr) !=
				IPT_LEAF_NONE;
		}
		if (found != hit) {
			pr_warn("bench %s: the host tables %s the probe %s: the generated lists are "
				"wrong\n",
				c->name, found ? "match" : "do not match",
				c->qname ? "name" : "address");
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

/*
 * A groups config at conf: the lists of all.conf (category bench), 61 one-prefix lists for the
 * other categories (64 in all), a schedule, and n_groups groups (the last one the probes'),
 * each with 8 client prefixes and rules naming every category, half of them @schedule. The
 * probes' sender (192.0.2.2, 2001:db8:1::2) is a client of the last group, found by a /24 and
 * a /48.
 */
static int write_groups_config(struct bench *b, const char *conf, int n_groups)
{
	FILE *f;
	char path[320];
	int c, g, k, err = 0;

	f = fopen(conf, "w");
	if (!f) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", conf, strerror(-err));
		return err;
	}
	fprintf(f, "# bpfguard bench: 64 categories, 256 groups\n[guard]\ninterfaces = none\n\n");
	fprintf(f, "[list bench-v4]\npath = %s\ncategory = bench\n\n", b->v4_path);
	fprintf(f, "[list bench-v6]\npath = %s\ncategory = bench\n\n", b->v6_path);
	fprintf(f, "[list bench-names]\npath = %s\ncategory = bench\n\n", b->names_path);
	for (c = 1; c < 64 - 2; c++) {
		FILE *l;

		snprintf(path, sizeof(path), "%s/cat%02d.txt", b->dir, c);
		l = fopen(path, "w");
		if (!l || fprintf(l, "198.18.%d.0/24\n", c) < 0 || fclose(l)) {
			err = -EIO;
			pr_warn("cannot write %s\n", path);
			if (l)
				fclose(l);
			break;
		}
		fprintf(f, "[list cat%02d]\npath = %s\ncategory = c%02d\n\n", c, path, c);
	}
	fprintf(f, "[schedule lessons]\nmon-fri = 08:00-12:00, 13:30-16:30\n\n");
	for (g = GUARD_MAX_GROUPS - n_groups; g < GUARD_MAX_GROUPS && !err; g++) {
		fprintf(f, "[group g%d]\nclients = ", g);
		if (g == GUARD_MAX_GROUPS - 1) {
			fprintf(f, "192.0.2.0/24, 2001:db8:1::/48");
			k = 2;
		} else {
			k = 0;
		}
		for (; k < 8; k++) {
			unsigned int n = (unsigned int)(g * 8 + k);

			if (k % 2)
				fprintf(f, "%s2001:db8:%x:%x::/64", k ? ", " : "", 0x1000 + g, k);
			else
				fprintf(f, "%s100.%u.%u.0/24", k ? ", " : "", 64 + n / 256,
					n % 256);
		}
		fprintf(f, "\nblock = bench");
		for (c = 1; c < 64 - 2; c++)
			fprintf(f, ", c%02d%s", c, (c + g) % 2 ? "@lessons" : "");
		fprintf(f, "\n\n");
	}
	if (fclose(f) && !err) {
		err = -errno;
		pr_warn("cannot write %s: %s\n", conf, strerror(-err));
	}
	return err;
}

/*
 * A groups instance of n_groups named groups (+ the default) from conf: built and loaded like
 * the main one, its probes' sender checked to be in the last group.
 */
static int prepare_group_instance(struct bench *b, const char *conf, int n_groups, double *secs,
				  struct guard_policy **pol, struct guard **skel)
{
	struct loader_opts lo = LOADER_OPTS_INIT;
	int err = write_groups_config(b, conf, n_groups);

	if (!err)
		err = load_policy(conf, secs, pol);
	if (!err && (*pol)->n_groups != (__u32)n_groups + 1) {
		pr_warn("bench: %s has %u groups, not %d (a bug in bench.c)\n", conf,
			(*pol)->n_groups, n_groups + 1);
		err = -EPROTO;
	}
	/* the probes must pay for a group lookup that finds a group */
	if (!err && (policy_group_of(*pol, 4, v4_client, NULL) != (__u32)n_groups ||
		     policy_group_of(*pol, 6, v6_client, NULL) != (__u32)n_groups)) {
		pr_warn("bench: the probes' sender is not in the last group of %s (a bug in "
			"bench.c)\n",
			conf);
		err = -EPROTO;
	}
	if (!err)
		err = loader_load(*pol, &lo, skel);
	return err;
}

/* PROG_GROUPS (256 groups) and PROG_GROUP1 (one), 64 categories each. */
static int prepare_groups(struct bench *b)
{
	double s;
	int err;

	snprintf(b->confg_path, sizeof(b->confg_path), "%s/groups.conf", b->dir);
	snprintf(b->confg1_path, sizeof(b->confg1_path), "%s/group1.conf", b->dir);
	err = prepare_group_instance(b, b->confg_path, GUARD_MAX_GROUPS - 1, &b->load_groups_s,
				     &b->pol_groups, &b->skel_groups);
	if (!err)
		err = prepare_group_instance(b, b->confg1_path, 1, &s, &b->pol_group1,
					     &b->skel_group1);
	return err;
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
	snprintf(b->names_path, sizeof(b->names_path), "%s/names.hosts.gz", b->dir);
	snprintf(b->confn_path, sizeof(b->confn_path), "%s/names.conf", b->dir);
	snprintf(b->confd_path, sizeof(b->confd_path), "%s/drop.conf", b->dir);
	err = write_list(b->v4_path, 4, b->n4);
	if (!err)
		err = write_list(b->v6_path, 6, b->n6);
	if (!err)
		err = write_names(b->names_path, b->n_names);
	if (!err)
		err = write_config(b->conf4_path, b->v4_path, NULL, NULL, false);
	if (!err)
		err = write_config(b->confn_path, NULL, NULL, b->names_path, false);
	if (!err)
		err = write_config(b->conf_path, b->v4_path, b->v6_path, b->names_path, false);
	if (!err)
		err = write_config(b->confd_path, b->v4_path, b->v6_path, b->names_path, true);
	if (err)
		return err;
	b->gz_bytes = file_size(b->v4_path) + file_size(b->v6_path);
	b->names_gz_bytes = file_size(b->names_path);

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
		err = load_policy(b->confn_path, &s, NULL);
		if (err)
			return err;
		if (i == 0 || s < b->load_names_s)
			b->load_names_s = s;
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
	b->dom_bytes = map_memlock(bpf_map__fd(b->skel->maps.MAP_DOM_BLOOM)) +
		       map_memlock(bpf_map__fd(b->skel->maps.MAP_DOM_TABLE)) +
		       map_memlock(bpf_map__fd(b->skel->maps.MAP_DOM_LEAVES));

	err = prepare_groups(b);
	if (!err) {
		double s;

		err = load_policy(b->confd_path, &s, &b->pol_drop);
		if (!err)
			err = loader_load(b->pol_drop, &lo, &b->skel_drop);
	}
	if (err)
		return err;
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
	const char *files[] = { b->v4_path,    b->v6_path,     b->conf4_path,
				b->conf_path,  b->names_path,  b->confn_path,
				b->confg_path, b->confg1_path, b->confd_path };
	char path[320];
	size_t i;

	if (!b->dir[0])
		return;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i][0])
			unlink(files[i]);
	for (i = 1; i < 64 - 2; i++) {
		snprintf(path, sizeof(path), "%s/cat%02zu.txt", b->dir, i);
		unlink(path);
	}
	rmdir(b->dir);
}

/* --- output --- */

static const char *verdict_name(__u32 v)
{
	return v == XDP_PASS ? "pass" : v == XDP_DROP ? "drop" : v == XDP_TX ? "tx" : "?";
}

static size_t n_names(const struct bench *b)
{
	return b->pol->dom.n_recs;
}

static void print_json(const struct bench *b)
{
	size_t prefixes = b->pol->ipt.n_prefixes, names = n_names(b);
	struct bpf_map *m;
	int i;

	printf("{\"cases\": [");
	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];

		printf("%s{\"name\": \"%s\", \"ns_per_pkt\": %.2f, \"ratio_to_minimal\": %.2f, "
		       "\"verdict\": \"%s\", \"counter\": ",
		       i ? ", " : "", c->name, c->ns, c->ratio, verdict_name(c->want));
		if (c->counter >= 0)
			printf("\"%s\"", guard_counter_info[c->counter].name);
		else
			printf("null");
		printf(", \"method\": \"%s\", \"kernel_ns\": ", method_name(c->method));
		if (c->method == M_REPEAT)
			printf("%u, \"overhead_ns\": null}", c->kernel_ns);
		else
			printf("null, \"overhead_ns\": %.2f}", c->overhead);
	}
	printf("], \"load\": {\"v4_prefixes\": %ld, \"v6_prefixes\": %ld, \"probe_prefixes\": 4, "
	       "\"distinct_prefixes\": %zu, \"gz_bytes\": %zu, \"load_v4_gz_s\": %.3f, "
	       "\"load_1m_v4_gz_s\": ",
	       b->n4, b->n6, prefixes, b->gz_bytes, b->load_v4_s);
	if (b->n4 == 1000000)
		printf("%.3f", b->load_v4_s);
	else
		printf("null");
	printf(", \"names\": %ld, \"distinct_names\": %zu, \"names_gz_bytes\": %zu, "
	       "\"load_names_gz_s\": %.3f, \"load_1m_names_gz_s\": ",
	       b->n_names, names, b->names_gz_bytes, b->load_names_s);
	if (b->n_names == 1000000)
		printf("%.3f", b->load_names_s);
	else
		printf("null");
	printf(", \"load_all_gz_s\": %.3f, \"fill_s\": %.3f, \"lpm_v4_fill_s\": %.3f}",
	       b->load_all_s, b->fill_s, b->lpm_fill_s);
	printf(", \"memory\": {\"maps_bytes\": %zu, \"bytes_per_prefix\": %.1f, "
	       "\"tables_bytes\": %zu, \"v4_groups\": %u, \"v6_groups\": %u, \"v6_trie_rules\": "
	       "%zu, \"leaves\": %u, \"names_bytes\": %zu, \"bytes_per_name\": %.1f, "
	       "\"lpm_v4_bytes\": %zu, \"lpm_v4_prefixes\": %zu, "
	       "\"lpm_v4_bytes_per_prefix\": %.1f, \"maps\": {",
	       b->maps_bytes, prefixes ? (double)(b->maps_bytes - b->dom_bytes) / prefixes : 0.0,
	       iptable_kernel_bytes(&b->pol->ipt), b->pol->ipt.v4_groups, b->pol->ipt.v6_groups,
	       b->pol->ipt.n_v6_rules, b->pol->ipt.n_leaves, b->dom_bytes,
	       names ? (double)b->dom_bytes / names : 0.0, b->lpm_bytes, b->lpm_prefixes,
	       b->lpm_prefixes ? (double)b->lpm_bytes / b->lpm_prefixes : 0.0);
	i = 0;
	for (m = bpf_object__next_map(b->skel->obj, NULL); m;
	     m = bpf_object__next_map(b->skel->obj, m))
		printf("%s\"%s\": %zu", i++ ? ", " : "", bpf_map__name(m),
		       map_memlock(bpf_map__fd(m)));
	printf("}}, \"params\": {\"timing\": \"%s\", \"repeat\": %u, \"runs\": %d, \"fresh_calls\": %u, "
	       "\"fresh_overhead_ns\": %.1f, \"restore_overhead_ns\": %.1f, \"seed_v4\": \"0x%llx\", \"seed_v6\": \"0x%llx\", "
	       "\"seed_names\": \"0x%llx\"}}\n",
	       b->timing == BENCH_TIMING_CLOCK ? "clock" : "kernel", b->repeat, b->runs,
	       b->fresh_calls, b->fresh_overhead, b->restore_overhead,
	       (unsigned long long)BENCH_SEED_V4, (unsigned long long)BENCH_SEED_V6,
	       (unsigned long long)BENCH_SEED_NAMES);
}

static void print_text(const struct bench *b)
{
	size_t prefixes = b->pol->ipt.n_prefixes, names = n_names(b);
	int i;

	printf("%-22s %8s %8s  %-7s %-7s  %s\n", "case", "ns/pkt", "ratio", "verdict", "method",
	       "counter");
	for (i = 0; i < b->n_cases; i++) {
		const struct bench_case *c = &b->cases[i];

		printf("%-22s %8.1f %8.2f  %-7s %-7s  %s\n", c->name, c->ns, c->ratio,
		       verdict_name(c->want), method_name(c->method),
		       c->counter >= 0 ? guard_counter_info[c->counter].name : "-");
	}
	printf("\nBPF_PROG_TEST_RUN, one CPU; repeat: best of %d runs of %u packets, %s; restore: "
	       "the same through a harness that puts the frame back, minus its cost with the "
	       "case's frame (%.1f ns with minimal's); fresh: best of %d runs of %u calls of 1 "
	       "packet, mean of the kernel's figures, minus the per-call cost with the case's "
	       "frame (%.1f ns with minimal's)\n",
	       b->runs, b->repeat,
	       b->timing == BENCH_TIMING_CLOCK ?
		       "timed by the clock (the kernel's whole ns: --json kernel_ns)" :
		       "the kernel's figures (whole ns, rounded down)",
	       b->restore_overhead, b->runs, b->fresh_calls, b->fresh_overhead);
	printf("lists: %ld IPv4 + %ld IPv6 random prefixes (+4 probes), %zu distinct, %.1f MB "
	       "gzipped; %ld random names (+1 probe), %zu distinct, %.1f MB gzipped\n",
	       b->n4, b->n6, prefixes, b->gz_bytes / 1e6, b->n_names, names,
	       b->names_gz_bytes / 1e6);
	printf("load (config -> policy): IPv4 list %.2f s, names list %.2f s, all lists %.2f s; "
	       "fill (loader_load) %.2f s\n",
	       b->load_v4_s, b->load_names_s, b->load_all_s, b->fill_s);
	printf("kernel memory: guard maps %.1f MB; without the name tables %.0f bytes per prefix "
	       "(%u+%u table groups, %zu IPv6 trie rules, %u leaves)\n",
	       b->maps_bytes / 1e6,
	       prefixes ? (double)(b->maps_bytes - b->dom_bytes) / prefixes : 0.0,
	       b->pol->ipt.v4_groups, b->pol->ipt.v6_groups, b->pol->ipt.n_v6_rules,
	       b->pol->ipt.n_leaves);
	printf("names: dom_bloom + dom_table + dom_leaves %.1f MB, %.1f bytes per name\n",
	       b->dom_bytes / 1e6, names ? (double)b->dom_bytes / names : 0.0);
	printf("plain LPM trie of the %zu IPv4 prefixes: %.1f MB (%.0f bytes per prefix), filled "
	       "in %.2f s\n",
	       b->lpm_prefixes, b->lpm_bytes / 1e6,
	       b->lpm_prefixes ? (double)b->lpm_bytes / b->lpm_prefixes : 0.0, b->lpm_fill_s);
}

/* The name cases (see the top of the file). */
static int add_name_cases(struct bench *b)
{
	static const struct {
		const char *name;
		enum bench_prog prog;
		enum name_proto np;
		const char *qname;
		enum bench_method method;
		__u32 want;
		int counter;
	} cases[] = {
		{ "dns-miss", PROG_GUARD, NP_DNS, NAME_MISS, M_REPEAT, XDP_PASS, GC_PASS_NOMATCH },
		{ "dns-miss-restore", PROG_GUARD, NP_DNS, NAME_MISS, M_RESTORE, XDP_PASS,
		  GC_PASS_NOMATCH },
		{ "dns-miss-fresh", PROG_GUARD, NP_DNS, NAME_MISS, M_FRESH, XDP_PASS,
		  GC_PASS_NOMATCH },
		{ "dns-hit", PROG_GUARD, NP_DNS, NAME_HIT, M_RESTORE, XDP_TX,
		  GC_ANSWER_DNS_NXDOMAIN },
		{ "dns-tcp-miss", PROG_GUARD, NP_DNS_TCP, NAME_MISS, M_REPEAT, XDP_PASS,
		  GC_PASS_NOMATCH },
		{ "sni-miss", PROG_GUARD, NP_TLS, NAME_MISS, M_REPEAT, XDP_PASS, GC_PASS_NOMATCH },
		{ "sni-hit", PROG_GUARD, NP_TLS, NAME_HIT, M_RESTORE, XDP_TX, GC_RESET_SNI },
		{ "sni-split", PROG_GUARD, NP_TLS_SPLIT, NAME_HIT, M_FRESH, XDP_TX, GC_RESET_SNI },
		{ "sni-split-pair", PROG_GUARD, NP_TLS_SPLIT_PAIR, NAME_HIT, M_FRESH, XDP_TX,
		  GC_RESET_SNI },
		{ "http-host-miss", PROG_GUARD, NP_HTTP, NAME_MISS, M_REPEAT, XDP_PASS,
		  GC_PASS_NOMATCH },
		{ "http-host-hit", PROG_GUARD, NP_HTTP, NAME_HIT, M_RESTORE, XDP_TX,
		  GC_RESET_HTTP },
		{ "tls-data", PROG_GUARD, NP_TLS_DATA, NULL, M_REPEAT, XDP_PASS, GC_PASS_NOMATCH },
		/* the hits' decisions alone: dropped (PROG_DROP), no frame rewritten, so repeat */
		{ "dns-hit-drop", PROG_DROP, NP_DNS, NAME_HIT, M_REPEAT, XDP_DROP, GC_DROP_DNS },
		{ "sni-hit-drop", PROG_DROP, NP_TLS, NAME_HIT, M_REPEAT, XDP_DROP, GC_DROP_SNI },
		{ "http-host-hit-drop", PROG_DROP, NP_HTTP, NAME_HIT, M_REPEAT, XDP_DROP,
		  GC_DROP_HTTP },
	};
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(cases) && !err; i++)
		err = add_name_case(b, cases[i].name, cases[i].prog, cases[i].np, cases[i].qname,
				    cases[i].method, cases[i].want, cases[i].counter);
	if (err)
		pr_warn("bench: a name case's frame does not fit %d bytes (a bug in bench.c)\n",
			BENCH_PKT_MAX);
	return err;
}

int bench_run(const struct bench_opts *o)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct guard_stats *st = calloc(1, sizeof(*st));
	cpu_set_t saved;
	bool pinned = false;
	int i, err, ret = 2;
	double raw = 0;

	if (!b || !st) {
		pr_warn("bench: out of memory\n");
		goto cleanup;
	}
	b->o = o;
	b->lpm_map_fd = b->lpm_prog_fd = -1;
	b->attached_fd = -1;
	b->timing = BENCH_TIMING_KERNEL;
	b->n4 = o->v4 >= 0 ? o->v4 : o->quick ? BENCH_V4_QUICK : BENCH_V4_DEFAULT;
	b->n6 = o->v6 >= 0 ? o->v6 : o->quick ? BENCH_V6_QUICK : BENCH_V6_DEFAULT;
	b->repeat = o->quick ? BENCH_REPEAT_QUICK : BENCH_REPEAT;
	b->runs = o->quick ? BENCH_RUNS_QUICK : BENCH_RUNS;
	b->n_names = o->quick ? BENCH_NAMES_QUICK : BENCH_NAMES_DEFAULT;
	b->fresh_calls = o->quick ? BENCH_FRESH_CALLS_QUICK : BENCH_FRESH_CALLS;
	if (geteuid() != 0)
		pr_warn("bench: not running as root: loading BPF will likely fail (needs root or "
			"CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)\n");
	add_case(b, "minimal", PROG_MINIMAL, 4, v4_nomatch, XDP_PASS, -1);
	add_case(b, "v4-nomatch", PROG_GUARD, 4, v4_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v4-prefix-hit", PROG_GUARD, 4, v4_hit32, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v4-prefix-hit-short", PROG_GUARD, 4, v4_short_addr, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v6-nomatch", PROG_GUARD, 6, v6_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v6-prefix-hit", PROG_GUARD, 6, v6_hit128, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v6-prefix-hit-short", PROG_GUARD, 6, v6_short_addr, XDP_DROP, GC_DROP_IP_DST);
	err = add_name_cases(b);
	if (err)
		goto cleanup;
	/*
	 * The same probes with 64 categories and one group, then 256 groups (the sender in the
	 * last group): the cost of 256 groups against one.
	 */
	add_case(b, "v4-nomatch-group1", PROG_GROUP1, 4, v4_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v6-nomatch-group1", PROG_GROUP1, 6, v6_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	err = add_name_case(b, "dns-miss-group1", PROG_GROUP1, NP_DNS, NAME_MISS, M_REPEAT,
			    XDP_PASS, GC_PASS_NOMATCH);
	if (err)
		goto cleanup;
	add_case(b, "v4-nomatch-groups", PROG_GROUPS, 4, v4_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	add_case(b, "v4-prefix-hit-groups", PROG_GROUPS, 4, v4_hit32, XDP_DROP, GC_DROP_IP_DST);
	add_case(b, "v6-nomatch-groups", PROG_GROUPS, 6, v6_nomatch, XDP_PASS, GC_PASS_NOMATCH);
	/* a reply to the client: the sender in no group, so the receiver's group is looked up */
	swap_addrs(add_case(b, "v4-reply-groups", PROG_GROUPS, 4, v4_nomatch, XDP_PASS,
			    GC_PASS_NOMATCH));
	err = add_name_case(b, "dns-miss-groups", PROG_GROUPS, NP_DNS, NAME_MISS, M_REPEAT,
			    XDP_PASS, GC_PASS_NOMATCH);
	if (err)
		goto cleanup;
	add_case(b, "lpm-v4-nomatch", PROG_LPM, 4, v4_nomatch, XDP_PASS, -1);
	add_case(b, "lpm-v4-prefix-hit", PROG_LPM, 4, v4_hit32, XDP_DROP, -1);
	/*
	 * Last: the first segments of split hellos, each of a new flow, fill the flow table
	 * and the pending slots that other TCP segments read
	 */
	err = add_name_case(b, "sni-split-first", PROG_GUARD, NP_TLS_SPLIT_FIRST, NAME_MISS,
			    M_FRESH, XDP_PASS, GC_PASS_TLS_PENDING);
	if (err)
		goto cleanup;
	/* a misspelt --case is told before the lists are generated and loaded */
	if (o->cases) {
		err = select_cases(b, o->cases);
		if (err)
			goto cleanup;
	}
	if (!o->json)
		fprintf(stderr,
			"bench: generating and loading %ld IPv4 + %ld IPv6 prefixes and %ld "
			"names...\n",
			b->n4, b->n6, b->n_names);
	err = prepare(b);
	if (!err)
		err = check_cases(b);
	if (err)
		goto cleanup;

	if (!o->json)
		fprintf(stderr, "bench: measuring %d cases...\n", b->n_cases);
	pinned = pin_cpu(&saved) == 0;
	bench_timing_setup(b, &b->cases[0]);
	for (i = 0; i < b->n_cases; i++) {
		if (b->cases[i].method != M_REPEAT && b->cases[i].prog != PROG_MINIMAL) {
			err = calibrate(b, &b->cases[i], st);
			if (err)
				goto cleanup;
		}
		err = measure(b, &b->cases[i], st, &raw);
		if (err)
			goto cleanup;
		if (i == 0) {
			/*
			 * the fresh method's per-call overhead: minimal measured fresh too; the
			 * restore harness's: the harness with minimal as its target
			 */
			struct bench_case cal = b->cases[0];

			cal.method = M_FRESH;
			err = measure(b, &cal, st, &raw);
			if (err)
				goto cleanup;
			b->fresh_overhead = raw > b->cases[0].ns ? raw - b->cases[0].ns : 0;
			cal.method = M_RESTORE;
			err = measure(b, &cal, st, &raw);
			if (err)
				goto cleanup;
			b->restore_overhead = raw > b->cases[0].ns ? raw - b->cases[0].ns : 0;
		}
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
		if (b->attached_fd >= 0)
			bpf_xdp_detach(b->lo_ifindex, XDP_FLAGS_SKB_MODE, NULL);
		if (b->lpm_prog_fd >= 0)
			close(b->lpm_prog_fd);
		if (b->lpm_map_fd >= 0)
			close(b->lpm_map_fd);
		minimal__destroy(b->minimal);
		guard__destroy(b->skel);
		policy_free(b->pol);
		guard__destroy(b->skel_groups);
		policy_free(b->pol_groups);
		guard__destroy(b->skel_group1);
		policy_free(b->pol_group1);
		guard__destroy(b->skel_drop);
		policy_free(b->pol_drop);
		cleanup_files(b);
	}
	free(st);
	free(b);
	return ret;
}
