// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DNS query parser of bpf/lib/dns.h and the name buffer of bpf/lib/name.h, compiled on the
 * host: fixtures (types, 0x20 case, label and length limits, malformed shapes), every cut of
 * every fixture, a differential test against a plain reference parser written here over
 * randomly mutated queries, and the kernel's in-place fast path against its copy path.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bpf/lib/dns.h"
#include "bpf/l7gen.h"
#include "bpf/pktgen.h"

#define ERR(c) (-(int)GC_##c)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* n labels of one character: the longest name is 127 of them, 253 characters. */
static void labels_of_one(char *out, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = (char)('a' + i % 26);
		out[2 * i + 1] = '.';
	}
	out[2 * n - 1] = 0;
}

/* A name of len characters in labels of 62 (the last up to 63). */
static void long_name(char *out, int len)
{
	int i;

	for (i = 0; i < len; i++)
		out[i] = (i + 1) % 63 == 0 ? '.' : (char)('a' + i % 26);
	out[len] = 0;
	if (out[len - 1] == '.')
		out[len - 1] = 'z';
}

static void lower_str(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

struct dns_fixture {
	const char *desc;
	struct dnsq_spec spec;
	int ret;
	const char *want; /* the name expected (lower case), NULL: the spec's name lowered */
	int labels; /* -1: count from want */
};

static const __u8 w_pointer[] = { 3, 'w', 'w', 'w', 0xc0, 0x0c };
static const __u8 w_ext_label[] = { 3, 'w', 'w', 'w', 0x41, 'x', 0 };
static const __u8 w_root[] = { 0 };
static const __u8 w_dot_inside[] = { 7, 'e', 'x', 'a', '.', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
static const __u8 w_runaway[] = { 63, 'a' }; /* the label says 63 bytes, the message ends */

/* clang-format off */
static const struct dns_fixture fixtures[] = {
	{ "A query", { .id = 0x1234, .name = "www.example.com", .qtype = 1 }, 0, NULL, -1 },
	{ "AAAA query", { .id = 1, .name = "example.com", .qtype = 28 }, 0, NULL, -1 },
	{ "HTTPS query", { .id = 2, .name = "a.b.c.example.org", .qtype = 65 }, 0, NULL, -1 },
	{ "SVCB query", { .id = 2, .name = "_dns.resolver.arpa", .qtype = 64 }, 0, NULL, -1 },
	{ "ANY query", { .id = 3, .name = "example.net", .qtype = 255 }, 0, NULL, -1 },
	{ "0x20 mixed case", { .name = "wWw.ExAmPlE.CoM", .qtype = 1 }, 0, "www.example.com", 3 },
	{ "one label", { .name = "localhost", .qtype = 1 }, 0, NULL, -1 },
	{ "root name", { .wire = w_root, .wire_len = 1, .qtype = 2 }, 0, "", 0 },
	{ "edns query", { .name = "example.com", .qtype = 1, .edns = true }, 0, NULL, -1 },
	{ "digits, hyphens, underscore", { .name = "_sip._tcp.x-1.EXAMPLE", .qtype = 33 }, 0,
	  "_sip._tcp.x-1.example", 4 },
	{ "a dot inside a wire label", { .wire = w_dot_inside, .wire_len = sizeof(w_dot_inside),
	  .qtype = 1 }, 0, "exa.ple.com", 2 },
	{ "compression pointer", { .wire = w_pointer, .wire_len = sizeof(w_pointer), .qtype = 1 },
	  ERR(PASS_DNS_MALFORMED), "", 0 },
	{ "extended label type", { .wire = w_ext_label, .wire_len = sizeof(w_ext_label),
	  .qtype = 1 }, ERR(PASS_DNS_MALFORMED), "", 0 },
	{ "QDCOUNT 2", { .name = "example.com", .qtype = 1, .qdcount = 2 },
	  ERR(PASS_DNS_MALFORMED), "", 0 },
	{ "a response", { .name = "example.com", .qtype = 1, .flags = 0x8180 }, DNS_NOT_QUERY,
	  "", 0 },
	{ "NOTIFY", { .name = "example.com", .qtype = 6, .flags = 0x2000 }, DNS_NOT_QUERY, "", 0 },
	{ "UPDATE", { .name = "example.com", .qtype = 6, .flags = 0x2800 }, DNS_NOT_QUERY, "", 0 },
	{ "flags 0 (no RD)", { .name = "example.com", .qtype = 1, .raw_flags = true }, 0, NULL,
	  -1 },
	{ "a label running past the message", { .wire = w_runaway, .wire_len = 2, .qtype = 1 },
	  ERR(PASS_NAME_TRUNCATED), "", 0 },
};
/* clang-format on */

static int count_labels(const char *s)
{
	int n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* Check a parse against what is expected; msg..len is the message. */
static void check_parse(const char *what, const __u8 *msg, size_t len, int want_ret,
			const char *want, int want_labels, const struct dnsq_spec *s)
{
	struct dns_query q;
	struct name_buf nb;
	char got[NAME_MAX_LEN + 1];
	int ret = dns_parse_query(msg, msg + len, &q, &nb);
	__u32 i;

	if (ret != want_ret)
		fail_msg("%s: returned %d, expected %d", what, ret, want_ret);
	if (ret)
		return;
	name_str(&nb, got);
	if (strcmp(got, want))
		fail_msg("%s: name '%s', expected '%s'", what, got, want);
	if (nb.labels != want_labels)
		fail_msg("%s: %u labels, expected %d", what, nb.labels, want_labels);
	assert_int_equal(nb.b[0], '.');
	/* the dots: label i starts after dot[i], and they are in the name where the dots are */
	for (i = 0; i < nb.labels; i++) {
		__u32 llen, start = name_label(&nb, i, &llen);

		assert_int_equal(nb.b[nb.dot[i]], '.');
		assert_true(llen >= 1 && llen <= 63);
		assert_int_equal(start, nb.dot[i] + 1u);
		if (i + 1 < nb.labels)
			assert_int_equal(start + llen, nb.dot[i + 1]);
		else
			assert_int_equal(start + llen, nb.len + 1u);
	}
	/* zeroed to the end of the last word */
	for (i = nb.len + 1; i < ((nb.len + 1u + 7) & ~7u); i++)
		assert_int_equal(nb.b[i], 0);
	if (s) {
		assert_int_equal(q.id, s->id);
		assert_int_equal(q.qtype, s->qtype);
		assert_int_equal(q.qclass, s->qclass ? s->qclass : 1);
		assert_int_equal(!!q.has_opt, s->edns);
		assert_int_equal(q.flags, s->raw_flags ? s->flags : (s->flags ? s->flags : 0x0100));
	}
}

static void test_fixtures(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct dns_fixture *f = &fixtures[i];
		__u8 msg[600];
		char want[NAME_MAX_LEN + 1];
		size_t len = l7_dns_query(msg, sizeof(msg), &f->spec);

		assert_true(len > 0);
		if (f->want) {
			snprintf(want, sizeof(want), "%s", f->want);
		} else {
			snprintf(want, sizeof(want), "%s", f->spec.name);
			lower_str(want);
		}
		check_parse(f->desc, msg, len, f->ret, want,
			    f->labels >= 0 ? f->labels : count_labels(want), &f->spec);
	}
}

/* The limits: 253 characters and 127 labels are read; one more of either is too long. */
static void test_limits(void **state)
{
	char name[300];
	__u8 msg[600];
	struct dnsq_spec s = { .name = name, .qtype = 1 };
	size_t len;

	(void)state;
	labels_of_one(name, 127);
	assert_int_equal(strlen(name), 253);
	len = l7_dns_query(msg, sizeof(msg), &s);
	check_parse("127 labels", msg, len, 0, name, 127, &s);

	long_name(name, 253);
	len = l7_dns_query(msg, sizeof(msg), &s);
	check_parse("253 characters", msg, len, 0, name, count_labels(name), &s);

	long_name(name, 254);
	len = l7_dns_query(msg, sizeof(msg), &s);
	assert_true(len > 0);
	check_parse("254 characters", msg, len, ERR(PASS_NAME_TOO_LONG), "", 0, NULL);

	/* 128 labels: 255 characters; as wire bytes by hand (the builder allows it) */
	labels_of_one(name, 128);
	len = l7_dns_query(msg, sizeof(msg), &s);
	assert_true(len > 0);
	check_parse("128 labels", msg, len, ERR(PASS_NAME_TOO_LONG), "", 0, NULL);

	/* a 63-byte label is the longest: 64 is a reserved label type (0x40) */
	memset(name, 'x', 63);
	strcpy(name + 63, ".com");
	len = l7_dns_query(msg, sizeof(msg), &s);
	check_parse("63-byte label", msg, len, 0, name, 2, &s);
	{
		__u8 w[80];

		w[0] = 64;
		memset(w + 1, 'x', 64);
		w[65] = 0;
		s.name = NULL;
		s.wire = w;
		s.wire_len = 66;
		len = l7_dns_query(msg, sizeof(msg), &s);
		check_parse("64-byte label", msg, len, ERR(PASS_DNS_MALFORMED), "", 0, NULL);
	}
}

/*
 * Every cut of every fixture and of the longest names: a cut in the header is malformed, a cut
 * in the name or in QTYPE/QCLASS is a truncated name; only the whole question parses.
 */
static void test_truncation(void **state)
{
	char n127[300], n253[300];
	const char *names[] = { "www.example.com", "a", n127, n253, "wWw.ExAmPlE.CoM" };
	size_t i, cut, cuts = 0;

	(void)state;
	labels_of_one(n127, 127);
	long_name(n253, 253);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct dnsq_spec s = { .name = names[i], .qtype = 28, .edns = i % 2 };
		__u8 msg[600];
		size_t len = l7_dns_query(msg, sizeof(msg), &s), qend;
		char want[NAME_MAX_LEN + 1];

		assert_true(len > 0);
		snprintf(want, sizeof(want), "%s", names[i]);
		lower_str(want);
		qend = 12 + strlen(names[i]) + 2 + 4;
		for (cut = 0; cut <= len; cut++) {
			__u8 *copy = malloc(cut ? cut : 1);
			int want_ret;

			assert_non_null(copy);
			memcpy(copy, msg, cut);
			if (cut < 13)
				want_ret = ERR(PASS_DNS_MALFORMED);
			else if (cut < qend)
				want_ret = ERR(PASS_NAME_TRUNCATED);
			else
				want_ret = 0;
			/* a copy of exactly cut bytes: ASan sees any read past it */
			check_parse("cut", copy, cut, want_ret, want, count_labels(want), NULL);
			free(copy);
			cuts++;
		}
	}
	print_message("# %zu cut messages\n", cuts);
}

/* A query for each of the first 600 label boundary shapes: label lengths 1..63 in pairs. */
static void test_label_shapes(void **state)
{
	int a, b;

	(void)state;
	for (a = 1; a <= 63; a += 3) {
		for (b = 1; b <= 63; b += 5) {
			char name[200];
			__u8 msg[600];
			struct dnsq_spec s = { .name = name, .qtype = 1 };
			size_t len;

			memset(name, 'A', (size_t)a);
			name[a] = '.';
			memset(name + a + 1, 'b', (size_t)b);
			strcpy(name + a + 1 + b, ".Example.COM");
			len = l7_dns_query(msg, sizeof(msg), &s);
			assert_true(len > 0);
			lower_str(name);
			check_parse("label shapes", msg, len, 0, name, 4, NULL);
		}
	}
}

/* --- differential: a reference parser written the plain way --- */

static int ref_parse(const __u8 *m, size_t len, char *name, __u16 *qtype, int *labels)
{
	size_t n = 12, out = 0;
	int nl = 0;

	if (len < 13)
		return ERR(PASS_DNS_MALFORMED);
	if (m[2] & 0xf8) /* QR or an opcode */
		return DNS_NOT_QUERY;
	if (m[4] != 0 || m[5] != 1)
		return ERR(PASS_DNS_MALFORMED);
	for (;;) {
		size_t l, k;

		if (n >= len)
			return ERR(PASS_NAME_TRUNCATED);
		l = m[n];
		if (l == 0)
			break;
		if (l > 63)
			return ERR(PASS_DNS_MALFORMED);
		/* the wire form may not pass 255 bytes with its root label */
		if (n - 12 + 1 + l + 1 > 255)
			return ERR(PASS_NAME_TOO_LONG);
		if (n + 1 + l > len)
			return ERR(PASS_NAME_TRUNCATED);
		if (out)
			name[out++] = '.';
		for (k = 0; k < l; k++)
			name[out++] = (char)tolower(m[n + 1 + k]);
		n += 1 + l;
		nl++;
	}
	name[out] = 0;
	if (n + 5 > len)
		return ERR(PASS_NAME_TRUNCATED);
	*qtype = (__u16)(m[n + 1] << 8 | m[n + 2]);
	*labels = nl;
	return 0;
}

/*
 * A random name of shape 0 (w<n>.ExAmple.com), 1 (1..127 one-letter labels), 3 (120 of them)
 * or 2 (1..253 characters in long labels) into base.
 */
static void random_name(char *base, size_t size, int shape, unsigned int *seed)
{
	switch (shape) {
	case 0:
		snprintf(base, size, "w%d.ExAmple.com", rand_r(seed) % 1000);
		break;
	case 1:
	case 3:
		labels_of_one(base, shape == 1 ? 1 + rand_r(seed) % 127 : 120);
		break;
	default:
		long_name(base, 1 + rand_r(seed) % 253);
		break;
	}
}

static void test_mutations_against_ref(void **state)
{
	unsigned int seed = 7;
	int i, by_ret[64] = { 0 };

	(void)state;
	for (i = 0; i < 40000; i++) {
		char base[300], want[300];
		__u8 msg[600];
		struct dnsq_spec s = { .name = base, .qtype = (__u16)(rand_r(&seed) % 300) };
		size_t len;
		int k, nm, ret_ref, labels = 0;
		__u16 qt = 0;
		struct dns_query q;
		struct name_buf nb;
		char got[NAME_MAX_LEN + 1];
		int ret;

		int shape = rand_r(&seed) % 4;

		random_name(base, sizeof(base), shape, &seed);
		s.edns = rand_r(&seed) % 2;
		len = l7_dns_query(msg, sizeof(msg), &s);
		assert_true(len > 0);
		if (shape == 3) /* near the limit: a longer label makes the name too long */
			msg[12 + 2 * (rand_r(&seed) % 120)] = (__u8)(1 + rand_r(&seed) % 63);
		nm = rand_r(&seed) % 4;
		for (k = 0; k < nm; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			msg[at] = (__u8)(rand_r(&seed) % 3 ? rand_r(&seed) : msg[at] ^ 0x40);
		}
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		ret_ref = ref_parse(msg, len, want, &qt, &labels);
		ret = dns_parse_query(msg, msg + len, &q, &nb);
		by_ret[(ret < 0 ? -ret : ret) % 64]++;
		if (ret != ret_ref)
			fail_msg("mutation %d: parser %d, reference %d", i, ret, ret_ref);
		if (ret)
			continue;
		name_str(&nb, got);
		if (strcmp(got, want) || nb.labels != labels || q.qtype != qt)
			fail_msg(
				"mutation %d: parser '%s' (%u labels, type %u), reference '%s' (%d, "
				"%u)",
				i, got, nb.labels, q.qtype, want, labels, qt);
	}
	print_message("# ok %d, malformed %d, truncated %d, too long %d, not a query %d\n",
		      by_ret[0], by_ret[GC_PASS_DNS_MALFORMED], by_ret[GC_PASS_NAME_TRUNCATED],
		      by_ret[GC_PASS_NAME_TOO_LONG], by_ret[DNS_NOT_QUERY]);
	/* the mutations must reach every outcome, or the test says little */
	assert_true(by_ret[0] > 1000);
	assert_true(by_ret[GC_PASS_DNS_MALFORMED] > 100);
	assert_true(by_ret[GC_PASS_NAME_TRUNCATED] > 100);
	assert_true(by_ret[GC_PASS_NAME_TOO_LONG] > 10);
	assert_true(by_ret[DNS_NOT_QUERY] > 100);
}

/*
 * The kernel's fast path (dns_name_scan, dns_label_hash: the name read in place) against the
 * copy path (dns_question on a copy of the message, the reference) over the mutated queries
 * of test_mutations_against_ref: the scan accepts exactly the names the copy path accepts,
 * records the same labels, and hashes each label as dh_label does its lower-case bytes. The
 * message is in a buffer of its exact size: ASan sees any read past it.
 */
static void test_scan_against_copy(void **state)
{
	unsigned int seed = 23;
	int i, accepted = 0, refused = 0;

	(void)state;
	for (i = 0; i < 40000; i++) {
		char base[300];
		__u8 gen[600], *msg;
		struct dnsq_spec s = { .name = base, .qtype = (__u16)(rand_r(&seed) % 300) };
		struct name_buf ncopy, nscan;
		struct dns_query q;
		size_t len;
		__u32 avail, l;
		int k, nm, rcopy, rscan, shape = rand_r(&seed) % 4;

		random_name(base, sizeof(base), shape, &seed);
		s.edns = rand_r(&seed) % 2;
		len = l7_dns_query(gen, sizeof(gen), &s);
		assert_true(len > 0);
		if (shape == 3)
			gen[12 + 2 * (rand_r(&seed) % 120)] = (__u8)(1 + rand_r(&seed) % 63);
		nm = rand_r(&seed) % 4;
		for (k = 0; k < nm; k++) {
			size_t at = 12 + (size_t)rand_r(&seed) % (len - 12);

			gen[at] = (__u8)(rand_r(&seed) % 3 ? rand_r(&seed) : gen[at] ^ 0x40);
		}
		if (rand_r(&seed) % 4 == 0)
			len = 13 + (size_t)rand_r(&seed) % (len - 12);
		avail = (__u32)(len - 12 > DNS_COPY_MAX ? DNS_COPY_MAX : len - 12);
		msg = malloc(len);
		assert_non_null(msg);
		memcpy(msg, gen, len);
		memset(&ncopy, 0, sizeof(ncopy));
		memcpy(ncopy.b, msg + 12, avail);
		memset(&q, 0, sizeof(q));
		rcopy = dns_question(&ncopy, avail, &q);
		memset(&nscan, 0xa5, sizeof(nscan));
		rscan = dns_name_scan(msg, msg + len, avail, &nscan);
		if ((rscan >= 0) != (rcopy == 0))
			fail_msg("query %d: scan %d, copy path %d", i, rscan, rcopy);
		if (rscan < 0) {
			refused++;
			free(msg);
			continue;
		}
		accepted++;
		if (rscan != q.wire || nscan.wire != q.wire || nscan.labels != ncopy.labels ||
		    nscan.len != ncopy.len ||
		    memcmp(nscan.dot, ncopy.dot, ncopy.labels * sizeof(ncopy.dot[0])))
			fail_msg("query %d: scan %d (%u labels, %u long), copy %u (%u, %u)", i,
				 rscan, nscan.labels, nscan.len, q.wire, ncopy.labels, ncopy.len);
		name_lower(&ncopy);
		for (l = 0; l < nscan.labels; l++) {
			__u32 llen, start = name_label(&ncopy, l, &llen);
			__u64 h = 0;

			if (dns_label_hash(msg, msg + len, 12 + start, llen, &h) ||
			    h != dh_label_bytes(ncopy.b + start, llen))
				fail_msg("query %d label %u (%u bytes at %u): hash %#llx, dh_label "
					 "%#llx",
					 i, l, llen, start, (unsigned long long)h,
					 (unsigned long long)dh_label_bytes(ncopy.b + start, llen));
		}
		free(msg);
	}
	print_message("# fast scan: %d names accepted, %d left to the copy path\n", accepted,
		      refused);
	assert_true(accepted > 10000);
	assert_true(refused > 1000);
}

/* The word helpers against byte-wise definitions, on every byte value in every position. */
static void test_word_helpers(void **state)
{
	unsigned int seed = 3;
	int i, b;

	(void)state;
	for (i = 0; i < 20000; i++) {
		__u8 by[8];
		__u64 x, lo, eq, want_lo = 0, want_eq = 0;
		__u8 c = (__u8)(i < 256 ? i : rand_r(&seed));

		for (b = 0; b < 8; b++)
			by[b] = (__u8)(rand_r(&seed) % 4 == 0 ? c : rand_r(&seed));
		if (i < 256)
			by[i % 8] = (__u8)i;
		memcpy(&x, by, 8);
		lo = dh_lower8(x);
		eq = name_bytes_eq(x, c);
		for (b = 0; b < 8; b++) {
			__u8 l = by[b] >= 'A' && by[b] <= 'Z' ? by[b] + 32 : by[b];

			want_lo |= (__u64)l << (8 * b);
			if (by[b] == c)
				want_eq |= 0x80ull << (8 * b);
		}
		assert_int_equal(lo, want_lo);
		assert_int_equal(eq, want_eq);
		if (eq) {
			for (b = 0; b < 8 && by[b] != c; b++)
				;
			assert_int_equal(name_first_byte(eq), b);
		}
	}
}

static const struct dns_answer_cfg answer_cfg = {
	.ttl = 10,
	.a = { 192, 0, 2, 99 },
	.aaaa = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 },
};

/* One answer of kind (with DNS_ANS_LEAN or not) to a query of qtype, read back field by field. */
static void check_answer(__u32 kind, bool edns, bool do_bit, __u16 qtype, const char *name)
{
	static const __u16 want_rcode[] = { 3, 5, 0, 0, 0 };
	struct dnsq_spec s = { .id = 0xbeef,
			       .name = name,
			       .qtype = qtype,
			       .edns = edns,
			       .edns_do = do_bit,
			       .flags = 0x0110 };
	__u32 base = kind & ~(__u32)DNS_ANS_LEAN, alen, want;
	__u64 sum;
	bool lean = kind & DNS_ANS_LEAN, sink = base == DNS_ANS_A || base == DNS_ANS_AAAA;
	bool soa = !lean && (base == DNS_ANS_NXDOMAIN || base == DNS_ANS_NODATA);
	__u8 msg[600], ans[DNS_ANSWER_MAX + 8], last;
	size_t len = l7_dns_query(msg, sizeof(msg), &s);
	struct dns_query q;
	struct name_buf nb;
	struct dnsr r;
	const char *why;

	assert_int_equal(dns_parse_query(msg, msg + len, &q, &nb), 0);
	memset(ans, 0xee, sizeof(ans));
	memcpy(ans + 12, msg + 12, q.wire + 4u);
	want = dns_answer_len(&q, kind);
	assert_true(want > 12 && want <= DNS_ANSWER_MAX);
	/* one byte short of the answer: nothing is written at or past the end given */
	last = ans[want - 1];
	assert_int_equal(dns_build_answer(ans, ans + want - 1, &q, kind, &answer_cfg, &sum), 0);
	assert_int_equal(ans[want - 1], last);
	assert_int_equal(ans[want], 0xee);
	alen = dns_build_answer(ans, ans + want, &q, kind, &answer_cfg, &sum);
	assert_int_equal(alen, want);
	assert_int_equal(ans[want], 0xee);
	/* the sum of what it wrote and the question's: the whole message's checksum */
	if (pkt_csum(ans + 12, q.wire + 4u, dns_sum_fold(sum)) != pkt_csum(ans, alen, 0))
		fail_msg("%s kind %#x edns %d: the sum of the bytes written is %#x, the checksum "
			 "%#x (the whole message's %#x)",
			 name, kind, edns, dns_sum_fold(sum),
			 pkt_csum(ans + 12, q.wire + 4u, dns_sum_fold(sum)),
			 pkt_csum(ans, alen, 0));
	why = l7_dns_read(ans, alen, &r);
	if (why)
		fail_msg("kind %#x edns %d: %s", kind, edns, why);
	assert_int_equal(r.id, 0xbeef);
	/* QR, RA, RD and CD copied, the rcode; opcode 0; AA TC AD clear */
	assert_int_equal(r.flags, 0x8000 | 0x0080 | 0x0100 | 0x0010 | want_rcode[base]);
	assert_int_equal(r.qd, 1);
	assert_int_equal(r.qname_len, q.wire);
	/* the question as the client sent it: its case kept */
	assert_memory_equal(r.qname, msg + 12, q.wire);
	assert_int_equal(r.qtype, qtype);
	assert_int_equal(r.qclass, 1);
	assert_int_equal(r.an, sink);
	assert_int_equal(r.ns, soa);
	assert_int_equal(r.ar, edns && !lean);
	if (r.an) {
		assert_int_equal(r.rr[0].name_ptr, 0xc00c);
		assert_int_equal(r.rr[0].type, base == DNS_ANS_A ? 1 : 28);
		assert_int_equal(r.rr[0].cls, 1);
		assert_int_equal(r.rr[0].ttl, 10);
		assert_int_equal(r.rr[0].rdlen, base == DNS_ANS_A ? 4 : 16);
		assert_memory_equal(r.rr[0].rdata,
				    base == DNS_ANS_A ? answer_cfg.a : answer_cfg.aaaa,
				    r.rr[0].rdlen);
	}
	if (r.ns) {
		const __u8 *d = r.rr[r.an].rdata;

		assert_int_equal(r.rr[r.an].type, 6);
		assert_int_equal(r.rr[r.an].ttl, 10);
		assert_int_equal(r.rr[r.an].rdlen, 22);
		assert_int_equal(d[0], 0);
		assert_int_equal(d[1], 0);
		/* minimum: the negative-caching TTL */
		assert_int_equal(d[18] << 24 | d[19] << 16 | d[20] << 8 | d[21], 10);
	}
	assert_int_equal(r.has_opt, edns && !lean);
	if (r.has_opt) {
		assert_int_equal(r.opt_udp, 1232);
		assert_int_equal(r.opt_ttl, do_bit ? 0x8000u : 0u);
		assert_int_equal(r.ede_code, 15);
	}
	/* a lean answer without a record is never longer than the query: it fits any frame */
	if (lean && !sink)
		assert_true(alen <= len);
}

/*
 * Answers built by dns_build_answer() for every kind, full and lean, with and without EDNS
 * (and its DO bit), for several query types, read back by the independent reader of
 * tests/bpf/l7gen.h: every field.
 */
/*
 * Text names (name_from_dotted): label_check may only be left clear for a name whose every
 * label has 1..63 characters, so that the kernel may skip name_check_labels() then; and
 * name_check_labels() gives the reference's reason (right to left, the first bad label:
 * empty, or over 63) for every name. The buffer and dot[] start with stale dots, as the
 * per-CPU scratch does.
 */
static int ref_text_labels(const char *name, size_t len)
{
	size_t end = len, start;

	if (len && name[len - 1] == '.')
		end--; /* one trailing dot: an absolute name */
	for (;;) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		if (end == start)
			return -GC_PASS_NAME_MALFORMED;
		if (end - start > NAME_LABEL_MAX)
			return -GC_PASS_NAME_TOO_LONG;
		if (start == 0)
			return 0;
		end = start - 1; /* the label left of this one ends at its dot */
	}
}

/*
 * What name_from_dotted() returns: empty (a lone dot too), over 253 characters, or more dots
 * than 127 labels can have (129 with b[0]'s: only empty labels make that many) are refused.
 */
static int ref_text_dots(const char *name, size_t len)
{
	size_t k, dots = 1; /* b[0]'s */

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0)
		return -GC_PASS_NAME_MALFORMED;
	if (len > NAME_MAX_LEN)
		return -GC_PASS_NAME_TOO_LONG;
	for (k = 0; k < len; k++)
		dots += name[k] == '.';
	return dots > NAME_MAX_LABELS + 1 ? -GC_PASS_NAME_MALFORMED : 0;
}

static void test_text_label_check(void **state)
{
	unsigned int seed = 11;
	int i, skipped = 0, checked = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		struct name_buf nb;
		char name[300];
		size_t len = 1 + (size_t)rand_r(&seed) % (rand_r(&seed) % 4 ? 40 : 255), k;
		int dots = 2 + rand_r(&seed) % 30, ret, want;

		for (k = 0; k < len; k++)
			name[k] = rand_r(&seed) % dots ? (char)('a' + rand_r(&seed) % 3) : '.';
		memset(&nb, '.', sizeof(nb));
		memcpy(nb.b + 1, name, len);
		ret = name_from_dotted(&nb, (__u32)len);
		want = ref_text_dots(name, len);
		if (ret != want)
			fail_msg("\"%.*s\": name_from_dotted %d, the reference %d", (int)len, name,
				 ret, want);
		if (ret)
			continue;
		want = ref_text_labels(name, len);
		if (!nb.label_check) {
			skipped++;
			if (want)
				fail_msg("\"%.*s\": label_check clear, but the reference says %d",
					 (int)len, name, want);
		} else {
			checked++;
		}
		if (name_check_labels(&nb) != want)
			fail_msg("\"%.*s\": name_check_labels %d, the reference %d", (int)len, name,
				 name_check_labels(&nb), want);
	}
	print_message("# %d names needed no label check, %d did\n", skipped, checked);
	assert_true(skipped > 10000);
	assert_true(checked > 10000);
}

static void test_answers(void **state)
{
	static const __u16 qtypes[] = { 1, 28, 65, 255 };
	/* the question ends at an odd offset, at an even one; the root */
	static const char *const names[] = { "Ads.Example.COM", "Ads.Example.COMS", "" };
	__u32 kind, lean, n;
	int edns, qt, do_bit;

	(void)state;
	for (n = 0; n < ARRAY_SIZE(names); n++)
		for (lean = 0; lean <= DNS_ANS_LEAN; lean += DNS_ANS_LEAN)
			for (kind = DNS_ANS_NXDOMAIN; kind <= DNS_ANS_NODATA; kind++)
				for (edns = 0; edns < 2; edns++)
					for (do_bit = 0; do_bit <= edns; do_bit++)
						for (qt = 0; qt < 4; qt++)
							check_answer(kind | lean, edns, do_bit,
								     qtypes[qt], names[n]);
}

/*
 * The kernel's label hash (name_label_hash, bpf/lib/name.h) is dh_label (maps/domain.h) of
 * the label in lower case: every length 1..63, any case, any bytes after the label (it reads
 * whole words past the end and must mask them), against both of dh_label's forms.
 */
static void test_label_hash(void **state)
{
	unsigned int seed = 17;
	__u8 buf[DH_SCRATCH_SIZE], low[DH_SCRATCH_SIZE];
	__u32 len, i, k;

	(void)state;
	for (k = 0; k < 2000; k++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (__u8)(k % 2 ? rand_r(&seed) : "aZ09-_.xQ"[rand_r(&seed) % 9]);
		for (len = 1; len <= DH_MAX_LABEL; len++) {
			__u32 at = (__u32)rand_r(&seed) % 200;
			__u64 want;

			for (i = 0; i < len; i++) {
				__u8 c = buf[at + i];

				low[i] = c >= 'A' && c <= 'Z' ? (__u8)(c + 32) : c;
			}
			want = dh_label_bytes(low, len);
			memset(low + len, 0x5a, 8); /* dh_label masks the bytes past the label */
			assert_int_equal(dh_label(low, len), want);
			if (name_label_hash(buf + at, len) != want)
				fail_msg("length %u at %u: kernel hash %#llx, dh_label %#llx", len,
					 at, (unsigned long long)name_label_hash(buf + at, len),
					 (unsigned long long)want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_label_shapes),
		cmocka_unit_test(test_word_helpers),
		cmocka_unit_test(test_mutations_against_ref),
		cmocka_unit_test(test_text_label_check),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_label_hash),
		cmocka_unit_test(test_scan_against_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
