// SPDX-License-Identifier: GPL-2.0-only
/*
 * `replay` through the real program (needs root): a hand-built policy, a table of frames
 * (IPv4/IPv6, blocked, allowed, category off, source-blocked, non-IP, truncated, a runt, a
 * VLAN tag, a jumbo frame, fragments) written as classic pcap and as pcapng, replayed with
 * replay_policy(); every output line is asserted exactly. Then a capture cut in the middle, a
 * missing file, and the option parser of --at and --client-side.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "user/log.h"
#include "user/policy.h"
#include "user/replay.h"
#include "bpf/pktgen.h"

enum { L_BLOCKED = 0, L_ALLOWED = 1, L_GAMES = 2, L_BADSRC = 3, N_LISTS = 4 };
enum { CAT_ADULT = 0, CAT_GAMES = 1 };

static const struct {
	const char *name, *category;
	__u32 category_id, action;
} lists[N_LISTS] = {
	[L_BLOCKED] = { "blocked", "adult", CAT_ADULT, LIST_BLOCK },
	[L_ALLOWED] = { "allowed", "adult", CAT_ADULT, LIST_ALLOW },
	[L_GAMES] = { "games", "games", CAT_GAMES, LIST_BLOCK }, /* not in the block mask */
	[L_BADSRC] = { "bad-sources", "adult", CAT_ADULT, LIST_BLOCK },
};

static const struct {
	const char *cidr;
	int dir, list;
} entries[] = {
	{ "203.0.113.0/24", IPT_DIR_DST, L_BLOCKED },
	{ "203.0.113.128/25", IPT_DIR_DST, L_ALLOWED },
	{ "192.0.2.64/26", IPT_DIR_DST, L_GAMES },
	{ "198.18.0.0/15", IPT_DIR_SRC, L_BADSRC },
	{ "2001:db8:3::/64", IPT_DIR_DST, L_BLOCKED },
	{ "2001:db8:3::20/128", IPT_DIR_DST, L_ALLOWED }, /* in the IPv6 trie */
};

#define TCP PARSE_IPPROTO_TCP
#define UDP PARSE_IPPROTO_UDP
#define ICMP PARSE_IPPROTO_ICMP

struct fixture {
	const char *desc;
	struct pkt_spec spec;
	size_t cut; /* keep only this many bytes (0: the whole frame) */
	size_t pad_to; /* grow the frame with zeros to this size (a jumbo frame) */
	int bad_ihl; /* overwrite the IPv4 IHL with 4 */
	const char *want; /* the line, without the frame number */
};

static const struct fixture fixtures[] = {
	{ .desc = "v4 TCP to a blocked /24",
	  .spec = { .dst = "203.0.113.10", .l4 = TCP },
	  .want = "drop\tdrop_ip_dst\tblocked:203.0.113.0/24" },
	{ .desc = "v4 UDP to an unlisted address",
	  .spec = { .dst = "198.51.100.1", .l4 = UDP },
	  .want = "pass\tpass_nomatch\t-" },
	{ .desc = "v6 TCP to a blocked /64",
	  .spec = { .dst = "2001:db8:3::10", .l4 = TCP },
	  .want = "drop\tdrop_ip_dst\tblocked:2001:db8:3::/64" },
	{ .desc = "v6 UDP to an unlisted address",
	  .spec = { .dst = "2001:db8:2::2", .l4 = UDP },
	  .want = "pass\tpass_nomatch\t-" },
	{ .desc = "ARP", .spec = { .ethertype = 0x0806 }, .want = "pass\tpass_not_ip\t-" },
	{ .desc = "v4 cut inside the IP header",
	  .spec = { .dst = "203.0.113.10", .l4 = TCP },
	  .cut = 14 + 10,
	  .want = "pass\tpass_truncated\t-" },
	{ .desc = "a 10-byte runt (judged on the host)",
	  .spec = { .dst = "203.0.113.10", .l4 = TCP },
	  .cut = 10,
	  .want = "pass\tpass_truncated\t-" },
	{ .desc = "v4 to an allowed /25 inside the blocked /24",
	  .spec = { .dst = "203.0.113.200", .l4 = TCP },
	  .want = "pass\tpass_allow\tallowed:203.0.113.128/25" },
	{ .desc = "v4 to a list whose category is off",
	  .spec = { .dst = "192.0.2.77", .l4 = UDP },
	  .want = "pass\tpass_category_off\tgames:192.0.2.64/26" },
	{ .desc = "v4 from a blocked source",
	  .spec = { .src = "198.18.0.5", .dst = "198.51.100.1", .l4 = TCP },
	  .want = "drop\tdrop_ip_src\tbad-sources:198.18.0.0/15" },
	{ .desc = "v6 to an allowed /128 (trie) inside the blocked /64",
	  .spec = { .dst = "2001:db8:3::20", .l4 = TCP },
	  .want = "pass\tpass_allow\tallowed:2001:db8:3::20" },
	{ .desc = "802.1Q-tagged v4 to the blocked /24",
	  .spec = { .vlan = { 0x8100 }, .dst = "203.0.113.10", .l4 = UDP },
	  .want = "drop\tdrop_ip_dst\tblocked:203.0.113.0/24" },
	{ .desc = "v4 cut inside the TCP header",
	  .spec = { .dst = "203.0.113.10", .l4 = TCP },
	  .cut = 14 + 20 + 10,
	  .want = "pass\tpass_truncated\t-" },
	{ .desc = "blocked source and blocked destination: the destination decides",
	  .spec = { .src = "198.18.0.5", .dst = "203.0.113.10", .l4 = TCP },
	  .want = "drop\tdrop_ip_dst\tblocked:203.0.113.0/24" },
	{ .desc = "v4 with IHL 4",
	  .spec = { .dst = "203.0.113.10", .l4 = TCP },
	  .bad_ihl = 1,
	  .want = "pass\tpass_bad_header\t-" },
	{ .desc = "ICMP to the blocked /24",
	  .spec = { .dst = "203.0.113.10", .l4 = ICMP },
	  .want = "drop\tdrop_ip_dst\tblocked:203.0.113.0/24" },
	{ .desc = "a 9000-byte jumbo frame to the blocked /24",
	  .spec = { .dst = "203.0.113.10", .l4 = UDP },
	  .pad_to = 9000,
	  .want = "drop\tdrop_ip_dst\tblocked:203.0.113.0/24" },
	{ .desc = "v6 non-first fragment to the blocked /64",
	  .spec = { .dst = "2001:db8:3::10",
		    .l4 = UDP,
		    .ext = { { .type = PARSE_IPPROTO_FRAGMENT, .frag_offset = 100 } },
		    .n_ext = 1 },
	  .want = "drop\tdrop_ip_dst\tblocked:2001:db8:3::/64" },
};
#define N_FIXTURES ARRAY_SIZE(fixtures)

struct frame {
	__u8 *data;
	size_t len;
};

static struct frame frames[N_FIXTURES];
static struct guard_policy *policy;
static char dir[] = "/tmp/test_replay.XXXXXX";
static const char *const files[] = { "all.pcap", "all.pcapng", "cut.pcap" };

/* --- capture writers --- */

static void w32(FILE *f, __u32 v, int be)
{
	__u8 b[4];

	if (be) {
		b[0] = v >> 24;
		b[1] = v >> 16;
		b[2] = v >> 8;
		b[3] = v;
	} else {
		b[0] = v;
		b[1] = v >> 8;
		b[2] = v >> 16;
		b[3] = v >> 24;
	}
	assert_int_equal(fwrite(b, 1, 4, f), 4);
}

static void w16(FILE *f, __u16 v, int be)
{
	__u8 b[2] = { be ? v >> 8 : v, be ? v : v >> 8 };

	assert_int_equal(fwrite(b, 1, 2, f), 2);
}

/* Classic pcap, little-endian, microseconds. */
static void write_pcap(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	assert_non_null(f);
	w32(f, 0xa1b2c3d4, 0);
	w16(f, 2, 0);
	w16(f, 4, 0);
	w32(f, 0, 0);
	w32(f, 0, 0);
	w32(f, 262144, 0);
	w32(f, 1, 0);
	for (i = 0; i < n; i++) {
		w32(f, 1700000000 + (__u32)i, 0);
		w32(f, 0, 0);
		w32(f, (__u32)frames[i].len, 0);
		w32(f, (__u32)frames[i].len, 0);
		assert_int_equal(fwrite(frames[i].data, 1, frames[i].len, f), frames[i].len);
	}
	assert_int_equal(fclose(f), 0);
}

/* pcapng, big-endian: SHB, IDB, then an EPB per frame. */
static void write_pcapng(const char *path)
{
	static const __u8 zero[4];
	FILE *f = fopen(path, "wb");
	size_t i;

	assert_non_null(f);
	w32(f, 0x0a0d0d0a, 1);
	w32(f, 28, 1);
	w32(f, 0x1a2b3c4d, 1);
	w16(f, 1, 1);
	w16(f, 0, 1);
	w32(f, 0xffffffff, 1);
	w32(f, 0xffffffff, 1);
	w32(f, 28, 1);
	w32(f, 1, 1);
	w32(f, 20, 1);
	w16(f, 1, 1);
	w16(f, 0, 1);
	w32(f, 0, 1);
	w32(f, 20, 1);
	for (i = 0; i < N_FIXTURES; i++) {
		size_t pad = (4 - frames[i].len % 4) % 4;
		__u32 total = (__u32)(32 + frames[i].len + pad);

		w32(f, 6, 1);
		w32(f, total, 1);
		w32(f, 0, 1);
		w32(f, 0, 1);
		w32(f, (__u32)i, 1);
		w32(f, (__u32)frames[i].len, 1);
		w32(f, (__u32)frames[i].len, 1);
		assert_int_equal(fwrite(frames[i].data, 1, frames[i].len, f), frames[i].len);
		assert_int_equal(fwrite(zero, 1, pad, f), pad);
		w32(f, total, 1);
	}
	assert_int_equal(fclose(f), 0);
}

/* --- setup --- */

static int setup(void **state)
{
	struct ipt_entry e[ARRAY_SIZE(entries)];
	size_t i;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	policy = policy_new();
	if (!policy)
		return -1;
	for (i = 0; i < N_LISTS; i++) {
		struct list_meta *m = &policy->lists[i];

		str_copy(m->name, lists[i].name, sizeof(m->name));
		str_copy(m->category, lists[i].category, sizeof(m->category));
		m->category_id = lists[i].category_id;
		m->action = lists[i].action;
	}
	policy->n_lists = N_LISTS;
	policy->groups[0].block_mask = 1ull << CAT_ADULT;
	memset(e, 0, sizeof(e));
	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		const char *why;

		if (ip_prefix_parse(entries[i].cidr, &e[i].prefix, false, &why))
			return -1;
		e[i].dir = (__u8)entries[i].dir;
		e[i].list_id = (__u16)entries[i].list;
		e[i].allow = lists[entries[i].list].action == LIST_ALLOW;
		e[i].category = lists[entries[i].list].category_id;
	}
	if (iptable_build(&policy->ipt, e, ARRAY_SIZE(entries)))
		return -1;

	for (i = 0; i < N_FIXTURES; i++) {
		const struct fixture *fx = &fixtures[i];
		struct pkt p;
		size_t len;

		if (!pkt_build(&p, &fx->spec))
			return -1;
		if (fx->bad_ihl)
			p.buf[p.l3_off] = 0x44;
		len = fx->cut ? fx->cut : p.len;
		frames[i].len = fx->pad_to > len ? fx->pad_to : len;
		frames[i].data = calloc(1, frames[i].len);
		if (!frames[i].data)
			return -1;
		memcpy(frames[i].data, p.buf, len);
	}
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_FIXTURES; i++)
		free(frames[i].data);
	policy_free(policy);
	/* what a failed test left behind */
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* --- running --- */

/* Replay path; returns replay_policy()'s result, the output in *out (free it). */
static int replay(const char *path, char **out, unsigned long *n)
{
	struct replay_opts o = { 0 };
	size_t len = 0;
	FILE *mem;
	int err;

	*out = NULL;
	mem = open_memstream(out, &len);
	assert_non_null(mem);
	assert_int_equal(replay_opts_parse(&o), 0);
	err = replay_policy(policy, path, &o, mem, n);
	assert_int_equal(fclose(mem), 0);
	return err;
}

/* The expected output for the first n fixtures. */
static char *expected(size_t n)
{
	char *buf = calloc(1, 128 * N_FIXTURES);
	size_t i, at = 0;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		at += sprintf(buf + at, "%zu\t%s\n", i + 1, fixtures[i].want);
	return buf;
}

/* Compare line by line, naming the fixture of the first difference. */
static void assert_lines(const char *got, const char *want)
{
	const char *g = got, *w = want;
	size_t line = 1;

	while (*g || *w) {
		const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
		size_t gl = ge ? (size_t)(ge - g) : strlen(g),
		       wl = we ? (size_t)(we - w) : strlen(w);

		if (gl != wl || memcmp(g, w, gl))
			fail_msg("line %zu (%s): got '%.*s', want '%.*s'", line,
				 line <= N_FIXTURES ? fixtures[line - 1].desc : "extra", (int)gl, g,
				 (int)wl, w);
		g += gl + (ge ? 1 : 0);
		w += wl + (we ? 1 : 0);
		line++;
	}
}

static void check_file(const char *path)
{
	char *out, *want = expected(N_FIXTURES);
	unsigned long n;

	assert_int_equal(replay(path, &out, &n), 0);
	assert_lines(out, want);
	assert_string_equal(out, want);
	assert_int_equal(n, N_FIXTURES);
	free(out);
	free(want);
}

static void test_pcap(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/all.pcap", dir);
	write_pcap(path, N_FIXTURES);
	check_file(path);
	unlink(path);
}

static void test_pcapng(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/all.pcapng", dir);
	write_pcapng(path);
	check_file(path);
	unlink(path);
}

/* Cut inside the fifth record: four lines, then -EBADMSG. */
static void test_cut_capture(void **state)
{
	char path[64], *out, *want = expected(4);
	unsigned long n;
	long size = 24;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/cut.pcap", dir);
	write_pcap(path, N_FIXTURES);
	for (i = 0; i < 4; i++)
		size += 16 + (long)frames[i].len;
	assert_int_equal(truncate(path, size + 16 + 5), 0);
	assert_int_equal(replay(path, &out, &n), -EBADMSG);
	assert_string_equal(out, want);
	assert_int_equal(n, 4);
	free(out);
	free(want);
	unlink(path);
}

static void test_missing_file(void **state)
{
	char path[64], *out;
	unsigned long n = 99;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.pcap", dir);
	assert_int_equal(replay(path, &out, &n), -ENOENT);
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
	free(out);
}

static void test_opts(void **state)
{
	struct replay_opts o = { .at = "2026-09-01T10:30",
				 .client_side = "192.0.2.0/25, 2001:db8:1::/64" };
	struct tm tm;

	(void)state;
	assert_int_equal(replay_opts_parse(&o), 0);
	assert_true(o.parsed);
	assert_true(o.has_at);
	assert_non_null(localtime_r(&o.at_time, &tm));
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tm.tm_mon, 8);
	assert_int_equal(tm.tm_mday, 1);
	assert_int_equal(tm.tm_hour, 10);
	assert_int_equal(tm.tm_min, 30);
	assert_int_equal(o.n_clients, 2);
	assert_int_equal(o.clients[0].family, 4);
	assert_int_equal(o.clients[0].plen, 25);
	assert_int_equal(o.clients[1].family, 6);
	assert_int_equal(o.clients[1].plen, 64);

	o = (struct replay_opts){ .at = "2026-09-01 10:30" };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .at = "2026-13-01T10:30" };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .at = "2026-09-01T10:30:00" };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .client_side = "192.0.2.0/33" };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .client_side = "192.0.2.1/24" }; /* host bits */
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .client_side = "pupils" };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	o = (struct replay_opts){ .client_side = "," };
	assert_int_equal(replay_opts_parse(&o), -EINVAL);
	assert_false(o.parsed);
	o = (struct replay_opts){ 0 };
	assert_int_equal(replay_opts_parse(&o), 0);
	assert_false(o.has_at);
	assert_int_equal(o.n_clients, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap),	    cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_cut_capture), cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_opts),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_replay: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
