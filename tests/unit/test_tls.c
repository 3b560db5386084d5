// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ClientHello walk of bpf/lib/tls.h, compiled on the host: fixtures (SNI position, post-
 * quantum key shares, GREASE, ECH, no SNI, other name types, records that do not hold the
 * hello, the length limits), every cut of every fixture as a first segment, every split into
 * two segments and random splits into three to eight (the SNI straddling boundaries included),
 * a differential test against a plain one-shot reference parser written here over randomly
 * mutated hellos, each also fed in random splits, and the fast walk held to the resumable one
 * segment by segment (results, spans, the whole walk state).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bpf/lib/tls.h"
#include "bpf/l7gen.h"

#define ERR(c) (-(int)GC_##c)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static char sni253[256], sni254dot[256], sni255[260];

struct tls_fixture {
	const char *desc;
	struct hello_spec spec;
	int ret; /* of the one-shot walk over the whole record */
	int ech; /* TLS_F_ECH expected */
};

/* clang-format off */
static const struct tls_fixture fixtures[] = {
	{ "sni first", { .sni = "www.example.com", .sni_pos = 0 }, TLS_NAME, 0 },
	{ "sni in the middle", { .sni = "Example.ORG", .sni_pos = 6 }, TLS_NAME, 0 },
	{ "sni last", { .sni = "a.b.example.net", .sni_pos = 14 }, TLS_NAME, 0 },
	{ "post-quantum key share before the sni",
	  { .sni = "pq.example.com", .sni_pos = 12, .key_share = 1216 + 32 }, TLS_NAME, 0 },
	{ "grease and ech before the sni",
	  { .sni = "ech.example.com", .sni_pos = 3, .grease = true, .ech = true }, TLS_NAME,
	  TLS_F_ECH },
	{ "session id 32, 40 ciphers",
	  { .sni = "x.example", .sni_pos = 2, .sid_len = 32, .n_ciphers = 40 }, TLS_NAME, 0 },
	{ "record version 3.3", { .sni = "x.example", .rec_minor = 3 }, TLS_NAME, 0 },
	{ "no sni", { .sni = NULL }, TLS_NONE, 0 },
	{ "name type 1", { .sni = "x.example", .sni_type = 1 }, TLS_NONE, 0 },
	{ "a record shorter than its hello, the sni in it",
	  { .sni = "x.example", .record_cut = 10 }, TLS_NAME, 0 },
	{ "a record shorter than its hello, the sni after it: no record follows",
	  { .sni = "x.example", .sni_pos = 14, .record_cut = 10 }, ERR(PASS_TLS_MALFORMED), 0 },
	{ "records of 40 bytes, one cutting the sni",
	  { .sni = "www.example.com", .sni_pos = 6, .record_piece = 40 }, TLS_NAME, 0 },
	{ "records of 7 bytes", { .sni = "a.b.example.net", .sni_pos = 2, .record_piece = 7 },
	  TLS_NAME, 0 },
	{ "records of 1 byte: more records than fields", { .sni = "x.example", .record_piece = 1 },
	  ERR(PASS_TLS_UNSUPPORTED), 0 },
	{ "post-quantum hello in records of 512",
	  { .sni = "pq.example.com", .sni_pos = 12, .key_share = 1216 + 32, .record_piece = 512 },
	  TLS_NAME, 0 },
	{ "record version 3.5", { .sni = "x.example", .rec_minor = 5 }, TLS_NOT_HELLO, 0 },
	{ "sni of 253", { .sni = sni253, .sni_pos = 4 }, TLS_NAME, 0 },
	{ "sni of 254 with a trailing dot", { .sni = sni254dot, .sni_pos = 4 }, TLS_NAME, 0 },
	{ "sni of 255", { .sni = sni255, .sni_pos = 4 }, ERR(PASS_NAME_TOO_LONG), 0 },
};
/* clang-format on */

static void setup_names(void)
{
	int i;

	for (i = 0; i < 253; i++)
		sni253[i] = (i + 1) % 50 == 0 ? '.' : (char)('a' + i % 26);
	sni253[253] = 0;
	memcpy(sni254dot, sni253, 253);
	strcpy(sni254dot + 253, ".");
	memcpy(sni255, sni253, 253);
	strcpy(sni255 + 253, "xy");
}

static void lower_into(char *out, const char *in)
{
	size_t i, n = strlen(in);

	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = 0;
	if (n && out[n - 1] == '.')
		out[n - 1] = 0;
}

/*
 * Feed buf in segments ending at cuts[0..n) (the last must be len), as the kernel does: the
 * walk state and the saved name bytes kept between segments. Returns the result of the segment
 * that ended the walk (or TLS_MORE), the name in name, the segment index in *at.
 */
static int feed(const __u8 *buf, size_t len, const size_t *cuts, int n, char *name, int *at,
		__u8 *flags)
{
	struct tls_walk w;
	__u8 saved[FLOW_NAME_LEN];
	size_t from = 0;
	int i, ret = TLS_MORE;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < n; i++) {
		struct tls_span span = { 0 };
		size_t to = cuts[i];
		__u8 *seg = malloc(to - from + 1); /* exact size: ASan sees any overread */

		assert_non_null(seg);
		memcpy(seg, buf + from, to - from);
		ret = tls_walk_saving(&w, seg, seg + (to - from), &span, saved);
		assert_true(span.save_at + span.len <= sizeof(saved));
		if (ret == TLS_NAME) {
			struct name_buf nb;
			__u32 before = w.name_len - span.len;

			memset(&nb, 0, sizeof(nb));
			memcpy(nb.b + 1, saved, before);
			memcpy(nb.b + 1 + before, seg + span.off, span.len);
			ret = name_from_dotted(&nb, w.name_len);
			if (!ret) {
				name_lower(&nb);
				name_str(&nb, name);
				ret = TLS_NAME;
			}
		}
		free(seg);
		from = to;
		*at = i;
		if (ret != TLS_MORE)
			break;
	}
	(void)len;
	*flags = w.flags;
	return ret;
}

/*
 * n segment ends for len bytes: n - 1 random cuts from lo to len - 1 (len 0: all 0), then len,
 * sorted (duplicates allowed: an empty segment).
 */
static void random_cuts(size_t *cuts, int n, size_t len, size_t lo, unsigned int *seed)
{
	int j, m;

	for (j = 0; j < n - 1; j++)
		cuts[j] = len > lo ? lo + (size_t)rand_r(seed) % (len - lo) : 0;
	cuts[n - 1] = len;
	for (j = 1; j < n; j++) {
		for (m = j; m > 0 && cuts[m - 1] > cuts[m]; m--) {
			size_t t = cuts[m];

			cuts[m] = cuts[m - 1];
			cuts[m - 1] = t;
		}
	}
}

static void test_fixtures(void **state)
{
	size_t i;

	(void)state;
	setup_names();
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct tls_fixture *f = &fixtures[i];
		__u8 buf[8192];
		size_t sni_off, len = l7_hello(buf, sizeof(buf), &f->spec, &sni_off);
		struct name_buf nb;
		char got[NAME_MAX_LEN + 1], want[NAME_MAX_LEN + 2];
		int ret, at;
		__u8 flags;

		assert_true(len > 0);
		ret = tls_sni(buf, buf + len, &nb);
		if (ret != f->ret)
			fail_msg("%s: returned %d, expected %d", f->desc, ret, f->ret);
		ret = feed(buf, len, &len, 1, got, &at, &flags);
		assert_int_equal(ret, f->ret);
		if ((flags & TLS_F_ECH) != f->ech)
			fail_msg("%s: ECH flag %d, expected %d", f->desc, flags & TLS_F_ECH,
				 f->ech);
		if (ret != TLS_NAME)
			continue;
		lower_into(want, f->spec.sni);
		name_str(&nb, got);
		if (strcmp(got, want))
			fail_msg("%s: sni '%s', expected '%s'", f->desc, got, want);
		/* the generator put the name where it says (when no record header cuts it) */
		if (l7_hello_sni_end(&f->spec) == sni_off + strlen(f->spec.sni))
			assert_int_equal(memcmp(buf + sni_off, f->spec.sni, strlen(f->spec.sni)),
					 0);
	}
}

/* Not a ClientHello: other content types, other handshake types, too short. */
static void test_not_hello(void **state)
{
	static const __u8 appdata[] = { 0x17, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const __u8 server_hello[] = { 0x16, 3, 3, 0, 60, 2, 0, 0, 56, 3, 3 };
	static const __u8 sslv2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15 };
	struct name_buf nb;

	(void)state;
	assert_int_equal(tls_sni(appdata, appdata + sizeof(appdata), &nb), TLS_NOT_HELLO);
	assert_int_equal(tls_sni(server_hello, server_hello + sizeof(server_hello), &nb),
			 TLS_NOT_HELLO);
	assert_int_equal(tls_sni(sslv2, sslv2 + sizeof(sslv2), &nb), TLS_NOT_HELLO);
	assert_false(tls_looks_like_hello(appdata, appdata + sizeof(appdata), sizeof(appdata)));
	assert_false(tls_looks_like_hello(server_hello, server_hello + sizeof(server_hello),
					  sizeof(server_hello)));
	/* 5 bytes of a handshake record: it may become a ClientHello, follow it */
	assert_true(tls_looks_like_hello(server_hello, server_hello + 5, 5));
	assert_false(tls_looks_like_hello(appdata, appdata + 1, 1));
}

/* Lengths that do not nest: each is malformed. */
static void test_malformed(void **state)
{
	struct hello_spec s = { .sni = "www.example.com", .sni_pos = 3 };
	__u8 good[8192];
	size_t sni_off, len = l7_hello(good, sizeof(good), &s, &sni_off);
	/* offsets in the record: 9 + 34 = session id length; then ciphers... */
	size_t sid = 9 + 34, cs = sid + 1, comp = cs + 2 + 32, exts = comp + 2;
	struct {
		const char *desc;
		size_t at;
		__u8 v;
		int ret;
	} cases[] = {
		{ "session id length 33", sid, 33, ERR(PASS_TLS_MALFORMED) },
		{ "cipher suites length odd", cs + 1, 31, ERR(PASS_TLS_MALFORMED) },
		{ "cipher suites length 0", cs + 1, 0, ERR(PASS_TLS_MALFORMED) },
		{ "cipher suites past the hello", cs, 0x40, ERR(PASS_TLS_MALFORMED) },
		{ "no compression method", comp, 0, ERR(PASS_TLS_MALFORMED) },
		{ "extensions past the hello", exts, 0x40, ERR(PASS_TLS_MALFORMED) },
		{ "extension past the block", exts + 2 + 2, 0x7f, ERR(PASS_TLS_MALFORMED) },
		{ "sni list longer than its extension", sni_off - 9 + 4, 0x60,
		  ERR(PASS_TLS_MALFORMED) },
		{ "sni name longer than its list", sni_off - 2 + 1, 0x40, ERR(PASS_TLS_MALFORMED) },
		{ "handshake shorter than a hello", 8, 20, ERR(PASS_TLS_MALFORMED) },
	};
	size_t i;

	(void)state;
	assert_true(len > 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		__u8 buf[8192];
		struct name_buf nb;
		int ret;

		memcpy(buf, good, len);
		buf[cases[i].at] = cases[i].v;
		if (cases[i].at == 8) /* the handshake length: its three bytes */
			buf[6] = buf[7] = 0;
		ret = tls_sni(buf, buf + len, &nb);
		if (ret != cases[i].ret)
			fail_msg("%s: returned %d, expected %d", cases[i].desc, ret, cases[i].ret);
	}
}

/* Every cut of every fixture as a first segment: MORE before the SNI's end, then the result. */
static void test_first_segment_cuts(void **state)
{
	size_t i, cut, cuts = 0;

	(void)state;
	setup_names();
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct tls_fixture *f = &fixtures[i];
		__u8 buf[8192];
		size_t sni_off, len = l7_hello(buf, sizeof(buf), &f->spec, &sni_off);
		size_t decided = f->ret == TLS_NAME ? l7_hello_sni_end(&f->spec) : 0;

		for (cut = 0; cut <= len; cut++) {
			char name[NAME_MAX_LEN + 1];
			int ret, at;
			__u8 flags;

			ret = feed(buf, cut, &cut, 1, name, &at, &flags);
			if (f->ret == TLS_NAME) {
				int want = cut < decided ? TLS_MORE : TLS_NAME;

				if (ret != want)
					fail_msg("%s cut at %zu: returned %d, expected %d", f->desc,
						 cut, ret, want);
			} else if (ret != TLS_MORE && ret != f->ret) {
				fail_msg("%s cut at %zu: returned %d, expected MORE or %d", f->desc,
					 cut, ret, f->ret);
			}
			cuts++;
		}
	}
	print_message("# %zu cuts\n", cuts);
}

/*
 * Every split into two segments, and random splits into three to eight: the same name from
 * the segment that holds the SNI's last byte, whatever the boundaries cut (a field, the SNI).
 */
static void test_splits(void **state)
{
	struct hello_spec specs[] = {
		{ .sni = "split.example.com", .sni_pos = 12, .key_share = 1216 + 32 },
		{ .sni = "First.Example.com", .sni_pos = 0, .grease = true },
		{ .sni = sni253, .sni_pos = 9, .key_share = 1216 + 32, .sid_len = 32 },
	};
	unsigned int seed = 11;
	size_t i, k, runs = 0;

	(void)state;
	setup_names();
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		__u8 buf[8192];
		size_t sni_off, len = l7_hello(buf, sizeof(buf), &specs[i], &sni_off);
		size_t last = sni_off + strlen(specs[i].sni) - 1; /* the SNI's last byte */
		char want[NAME_MAX_LEN + 2];

		lower_into(want, specs[i].sni);
		for (k = 1; k < len; k++) {
			size_t cuts[2] = { k, len };
			char name[NAME_MAX_LEN + 1] = "";
			int ret, at;
			__u8 flags;

			ret = feed(buf, len, cuts, 2, name, &at, &flags);
			if (ret != TLS_NAME || strcmp(name, want) || at != (last < k ? 0 : 1))
				fail_msg("spec %zu split at %zu: ret %d name '%s' in segment %d", i,
					 k, ret, name, at);
			runs++;
		}
		for (k = 0; k < 3000; k++) {
			size_t cuts[8];
			int n = 3 + rand_r(&seed) % 6, ret, at, want_at = 0;
			char name[NAME_MAX_LEN + 1] = "";
			__u8 flags;

			random_cuts(cuts, n, len, 1, &seed);
			while (cuts[want_at] <= last)
				want_at++;
			ret = feed(buf, len, cuts, n, name, &at, &flags);
			if (ret != TLS_NAME || strcmp(name, want) || at != want_at)
				fail_msg(
					"spec %zu random split %zu: ret %d name '%s' at %d, want %d",
					i, k, ret, name, at, want_at);
			runs++;
		}
	}
	print_message("# %zu split walks\n", runs);
}

/* --- differential: a one-shot reference parser --- */

/*
 * The reference reads the hello's bytes across its records one at a time, in the walk's order:
 * the next record's header where the last one ends (before the next field, or when a byte
 * past the record is needed), each header and field counted against TLS_FIELDS_MAX.
 */
struct ref_rd {
	const __u8 *m;
	size_t len, pos, rec_left;
	int fields, err;
	int in_name, cuts; /* name bytes read so far (-1: not in the name); headers inside it */
};

/* The next record's header when the current record is over: 0, or -1 with r->err. */
static int rd_header(struct ref_rd *r)
{
	size_t k, n;

	if (r->rec_left)
		return 0;
	for (k = 0; k < 5; k++) {
		__u8 c;

		if (r->pos + k >= r->len) {
			r->err = TLS_MORE;
			return -1;
		}
		c = r->m[r->pos + k];
		if ((k == 0 && c != 0x16) || (k == 1 && c != 3) || (k == 2 && c > 4)) {
			r->err = ERR(PASS_TLS_MALFORMED);
			return -1;
		}
	}
	n = (size_t)r->m[r->pos + 3] << 8 | r->m[r->pos + 4];
	if (!n) {
		r->err = ERR(PASS_TLS_MALFORMED);
		return -1;
	}
	if (++r->fields > TLS_FIELDS_MAX || (r->in_name > 0 && ++r->cuts > TLS_PARTS_MAX)) {
		r->err = ERR(PASS_TLS_UNSUPPORTED);
		return -1;
	}
	r->pos += 5;
	r->rec_left = n;
	return 0;
}

/* The hello's next byte. */
static int rd_byte(struct ref_rd *r, __u8 *b)
{
	if (rd_header(r))
		return -1;
	if (r->pos >= r->len) {
		r->err = TLS_MORE;
		return -1;
	}
	*b = r->m[r->pos++];
	r->rec_left--;
	return 0;
}

static int rd_skip(struct ref_rd *r, size_t n)
{
	__u8 b;

	while (n--)
		if (rd_byte(r, &b))
			return -1;
	return 0;
}

/* A field of n bytes (big-endian) into *v: counted as the walk counts it. */
static int rd_field(struct ref_rd *r, size_t n, size_t *v)
{
	__u8 b;

	if (rd_header(r))
		return -1;
	if (++r->fields > TLS_FIELDS_MAX) {
		r->err = ERR(PASS_TLS_UNSUPPORTED);
		return -1;
	}
	*v = 0;
	while (n--) {
		if (rd_byte(r, &b))
			return -1;
		*v = *v << 8 | b;
	}
	return 0;
}

static int ref_sni(const __u8 *m, size_t len, char *name, size_t *name_len, int *ech)
{
	struct ref_rd r = { .m = m, .len = len, .in_name = -1 };
	size_t left, ext_left, l, v, k;

	*ech = 0;
#define FIELD(n, v)                     \
	do {                            \
		if (rd_field(&r, n, v)) \
			return r.err;   \
	} while (0)
#define SKIP(n)                       \
	do {                          \
		if (rd_skip(&r, n))   \
			return r.err; \
	} while (0)
	/* the first record's header: a field, read as it stands */
	if (++r.fields > TLS_FIELDS_MAX)
		return ERR(PASS_TLS_UNSUPPORTED);
	if (len < 5)
		return TLS_MORE;
	if (m[0] != 0x16 || m[1] != 3 || m[2] > 4)
		return TLS_NOT_HELLO;
	r.rec_left = (size_t)m[3] << 8 | m[4];
	if (!r.rec_left)
		return ERR(PASS_TLS_MALFORMED);
	r.pos = 5;
	FIELD(4, &v);
	if ((v >> 24) != 1)
		return TLS_NOT_HELLO;
	v &= 0xffffff;
	if (v < 38)
		return ERR(PASS_TLS_MALFORMED);
	left = v - 34;
	SKIP(34);
	FIELD(1, &l);
	if (left < 1 + l || l > 32)
		return ERR(PASS_TLS_MALFORMED);
	left -= 1 + l;
	SKIP(l);
	FIELD(2, &l);
	if (left < 2 + l || l < 2 || (l & 1))
		return ERR(PASS_TLS_MALFORMED);
	left -= 2 + l;
	SKIP(l);
	FIELD(1, &l);
	if (left < 1 + l || l < 1)
		return ERR(PASS_TLS_MALFORMED);
	left -= 1 + l;
	if (left == 0)
		return TLS_NONE;
	SKIP(l);
	FIELD(2, &l);
	if (left < 2 || l > left - 2)
		return ERR(PASS_TLS_MALFORMED);
	if (l == 0)
		return TLS_NONE;
	ext_left = l;
	for (;;) {
		size_t type;

		FIELD(4, &v);
		type = v >> 16;
		l = v & 0xffff;
		if (ext_left < 4 || l > ext_left - 4)
			return ERR(PASS_TLS_MALFORMED);
		ext_left -= 4 + l;
		if (type == 0) {
			size_t list, nt, nl;

			if (l < 5)
				return ERR(PASS_TLS_MALFORMED);
			FIELD(5, &v);
			list = v >> 24 & 0xffff;
			nt = v >> 16 & 0xff;
			nl = v & 0xffff;
			if (list + 2 > l || nl + 3 > list)
				return ERR(PASS_TLS_MALFORMED);
			if (nt != 0)
				return TLS_NONE;
			if (nl == 0)
				return ERR(PASS_TLS_MALFORMED);
			if (nl > 254)
				return ERR(PASS_NAME_TOO_LONG);
			for (k = 0, r.in_name = 0; k < nl; k++, r.in_name++)
				if (rd_byte(&r, (__u8 *)&name[k]))
					return r.err;
			name[nl] = 0;
			*name_len = nl; /* the bytes may hold a NUL: not a C string */
			return TLS_NAME;
		}
		if (type == 0xfe0d)
			*ech = 1;
		if (ext_left == 0)
			return TLS_NONE;
		SKIP(l);
	}
#undef FIELD
#undef SKIP
}

static void test_mutations_against_ref(void **state)
{
	unsigned int seed = 99;
	int i, by_ret[64] = { 0 };

	(void)state;
	setup_names();
	for (i = 0; i < 30000; i++) {
		struct hello_spec s = {
			.sni = rand_r(&seed) % 8 ? "www.Example.com" : NULL,
			.sni_pos = rand_r(&seed) % 15,
			.key_share = rand_r(&seed) % 2 ? 1248 : 32,
			.ech = rand_r(&seed) % 2,
			.grease = rand_r(&seed) % 2,
			.sid_len = rand_r(&seed) % 33,
			/* a quarter in records of 1..64 bytes: the walk follows them, or gives up */
			.record_piece = rand_r(&seed) % 4 ? 0 : 1 + (size_t)rand_r(&seed) % 64,
		};
		__u8 buf[8192];
		size_t sni_off, len = l7_hello(buf, sizeof(buf), &s, &sni_off), cuts[4];
		int nm = rand_r(&seed) % 4, k, ref, got, at, ech, n;
		char want[300], name[NAME_MAX_LEN + 1] = "", wantl[300];
		size_t want_len = 0;
		__u8 flags;

		if (!len) {
			/* tiny records of a post-quantum hello: more than the buffer, one record */
			s.record_piece = 0;
			len = l7_hello(buf, sizeof(buf), &s, &sni_off);
		}
		assert_true(len > 0);
		for (k = 0; k < nm; k++) {
			/* mostly in the lengths before the SNI, where they matter */
			size_t limit = sni_off ? sni_off : len;
			size_t at_ = (size_t)rand_r(&seed) % (rand_r(&seed) % 2 ? limit : len);

			buf[at_] = (__u8)(rand_r(&seed) % 2 ? rand_r(&seed) : buf[at_] + 1);
		}
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		ref = ref_sni(buf, len, want, &want_len, &ech);
		/* in one segment, then in random splits: the same outcome */
		n = 1 + rand_r(&seed) % 4;
		random_cuts(cuts, n, len, 0, &seed);
		got = feed(buf, len, cuts, n, name, &at, &flags);
		if (ref == TLS_NAME) {
			/* the name then goes through name_from_dotted, which may refuse it */
			struct name_buf nb;
			memset(&nb, 0, sizeof(nb));
			memcpy(nb.b + 1, want, want_len);
			ref = name_from_dotted(&nb, (__u32)want_len);
			if (!ref) {
				name_lower(&nb);
				name_str(&nb, wantl);
				ref = TLS_NAME;
			}
		}
		by_ret[(got < 0 ? -got : got) % 64]++;
		if (got != ref)
			fail_msg("mutation %d (%d segments): walk %d, reference %d", i, n, got,
				 ref);
		if (got == TLS_NAME && strcmp(name, wantl))
			fail_msg("mutation %d: walk '%s', reference '%s'", i, name, wantl);
		if (got == TLS_NAME && (flags & TLS_F_ECH) != ech)
			fail_msg("mutation %d: ECH flag %d, reference %d", i, flags, ech);
	}
	print_message("# name %d none %d more %d not-hello %d malformed %d unsupported %d "
		      "name-malformed %d\n",
		      by_ret[TLS_NAME], by_ret[TLS_NONE], by_ret[TLS_MORE], by_ret[TLS_NOT_HELLO],
		      by_ret[GC_PASS_TLS_MALFORMED], by_ret[GC_PASS_TLS_UNSUPPORTED],
		      by_ret[GC_PASS_NAME_MALFORMED]);
	assert_true(by_ret[TLS_NAME] > 1000);
	assert_true(by_ret[TLS_NONE] > 100);
	assert_true(by_ret[TLS_MORE] > 100);
	assert_true(by_ret[TLS_NOT_HELLO] > 100);
	assert_true(by_ret[GC_PASS_TLS_MALFORMED] > 100);
	assert_true(by_ret[GC_PASS_TLS_UNSUPPORTED] > 10);
}

/*
 * The fast walk (tls_walk_fast, what tls_walk_len tries first) against the resumable walk
 * alone (tls_walk_slow), segment by segment over mutated hellos in random splits: the same
 * result, the same walk state (every field of struct tls_walk) and the same span after every
 * segment. And the fast walk must decide most plain hellos itself, first segments and
 * segments resumed between extensions alike.
 */
static void test_fast_against_slow(void **state)
{
	unsigned int seed = 7;
	int i, fast_first = 0, fast_next = 0, fast_more = 0, segs = 0, r;

	(void)state;
	setup_names();
	for (i = 0; i < 20000; i++) {
		struct hello_spec s = {
			.sni = rand_r(&seed) % 8 ?
				       (rand_r(&seed) % 4 ? "www.Example.com" : sni253) :
				       NULL,
			.sni_pos = rand_r(&seed) % 15,
			.key_share = rand_r(&seed) % 2 ? 1248 : 32,
			.ech = rand_r(&seed) % 2,
			.grease = rand_r(&seed) % 2,
			.sid_len = rand_r(&seed) % 33,
			.n_ciphers = rand_r(&seed) % 3 ? 0 : 1 + rand_r(&seed) % 40,
			.record_piece = rand_r(&seed) % 5 ? 0 : 1 + (size_t)rand_r(&seed) % 300,
		};
		__u8 buf[8192];
		size_t sni_off, len = l7_hello(buf, sizeof(buf), &s, &sni_off), cuts[6], from = 0;
		struct tls_walk wa, wb;
		int nm = rand_r(&seed) % 3, n = 1 + rand_r(&seed) % 4, k;

		if (!len) {
			/* tiny records of a post-quantum hello: more than the buffer, one record */
			s.record_piece = 0;
			len = l7_hello(buf, sizeof(buf), &s, &sni_off);
		}
		for (k = 0; k < nm; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			buf[at] = (__u8)(rand_r(&seed) % 2 ? rand_r(&seed) : buf[at] + 1);
		}
		random_cuts(cuts, n, len, 0, &seed);
		memset(&wa, 0, sizeof(wa));
		memset(&wb, 0, sizeof(wb));
		for (k = 0; k < n; k++) {
			struct tls_span sa = { 0 }, sb = { 0 };
			struct tls_walk probe = wa;
			struct tls_span sp = { 0 };
			size_t seglen = cuts[k] - from;
			__u8 *seg = malloc(seglen + 1); /* exact size: ASan sees any overread */
			int ra, rb;

			assert_non_null(seg);
			memcpy(seg, buf + from, seglen);
			r = tls_walk_fast(&probe, seg, (__u32)seglen, seg + seglen, &sp);
			if (r == TLS_NAME)
				*(k ? &fast_next : &fast_first) += 1;
			else if (r == TLS_MORE)
				fast_more++;
			ra = tls_walk_len(&wa, seg, (__u32)seglen, seg + seglen, &sa);
			rb = tls_walk_slow(&wb, seg, (__u32)seglen, seg + seglen, &sb);
			free(seg);
			segs++;
			if (ra != rb || memcmp(&wa, &wb, sizeof(wa)) ||
			    ((ra == TLS_NAME || ra == TLS_MORE) &&
			     (sa.len != sb.len ||
			      (sa.len && (sa.off != sb.off || sa.save_at != sb.save_at)))))
				fail_msg("hello %d segment %d/%d: fast+slow %d (span %u+%u at %u), "
					 "slow %d (span %u+%u at %u), states %s",
					 i, k, n, ra, sa.off, sa.len, sa.save_at, rb, sb.off,
					 sb.len, sb.save_at,
					 memcmp(&wa, &wb, sizeof(wa)) ? "differ" : "equal");
			if (ra != TLS_MORE)
				break;
			from = cuts[k];
		}
	}
	print_message("# %d segments; the fast walk decided %d first segments and %d later "
		      "ones, and left %d inside an extension\n",
		      segs, fast_first, fast_next, fast_more);
	assert_true(fast_first > 3000);
	assert_true(fast_next > 1000);
	assert_true(fast_more > 1000);
}

/*
 * A hello in records, cut inside its key share: resumed in the next segment, the fast walk
 * reads on past the record's end (the next record's header and what follows, misaligned)
 * before it gives up. Bytes fe 0d there read as an ECH header: the fast walk notes ECH,
 * which the resumable walk, reading the real extensions, does not; tls_walk_len() must put
 * the flags back (before, the ECH note counted such hellos). Every cut and place of the
 * two bytes in a range; the test fails if none makes the fast walk note ECH.
 */
/* One case of test_ech_past_record: returns 1 when the fast walk alone noted ECH. */
static int ech_case(const __u8 *base, size_t len, size_t c1, size_t p, size_t piece)
{
	struct tls_walk wa = { 0 }, wb = { 0 }, probe;
	struct tls_span sa = { 0 }, sb = { 0 }, sp = { 0 };
	__u8 buf[8192];
	int ra, rb, rp;

	memcpy(buf, base, len);
	buf[p] = 0xfe;
	buf[p + 1] = 0x0d;
	ra = tls_walk_len(&wa, buf, (__u32)c1, buf + c1, &sa);
	rb = tls_walk_slow(&wb, buf, (__u32)c1, buf + c1, &sb);
	if (ra != TLS_MORE || rb != TLS_MORE || memcmp(&wa, &wb, sizeof(wa)))
		return 0;
	probe = wa;
	rp = tls_walk_fast(&probe, buf + c1, (__u32)(len - c1), buf + len, &sp);
	ra = tls_walk_len(&wa, buf + c1, (__u32)(len - c1), buf + len, &sa);
	rb = tls_walk_slow(&wb, buf + c1, (__u32)(len - c1), buf + len, &sb);
	if (ra != rb || memcmp(&wa, &wb, sizeof(wa)))
		fail_msg("records of %zu, cut at %zu, fe 0d at %zu: fast+slow %d (flags %#x), "
			 "slow %d (flags %#x)",
			 piece, c1, p, ra, wa.flags, rb, wb.flags);
	return rp == TLS_SLOW && (probe.flags & TLS_F_ECH) && !(wb.flags & TLS_F_ECH);
}

static void test_ech_past_record(void **state)
{
	int exercised = 0, tried = 0;
	size_t piece, c1, p;

	(void)state;
	for (piece = 40; piece <= 300; piece += 20) {
		struct hello_spec s = { .sni = "www.example.com",
					.sni_pos = 9,
					.key_share = 1248,
					.record_piece = piece };
		__u8 base[8192];
		size_t sni_off, len = l7_hello(base, sizeof(base), &s, &sni_off);

		assert_true(len > 900 + 400);
		for (c1 = 80; c1 < 900; c1 += 7)
			for (p = c1; p < c1 + 400; p++, tried++)
				exercised += ech_case(base, len, c1, p, piece);
	}
	print_message("# %d second segments; in %d the fast walk read an ECH header past a "
		      "record's end\n",
		      tried, exercised);
	assert_true(exercised > 0);
}

/* More fields than the walk follows: UNSUPPORTED, in one segment or several. */
static void test_field_limit(void **state)
{
	__u8 buf[4096];
	size_t n = 0, i, ext_start, hs;
	struct name_buf nb;
	char name[NAME_MAX_LEN + 1];
	int at, nexts;
	__u8 flags;

	(void)state;
	for (nexts = 50; nexts <= 70; nexts += 20) {
		n = 9;
		buf[n++] = 3;
		buf[n++] = 3;
		memset(buf + n, 0xaa, 32);
		n += 32;
		buf[n++] = 0; /* no session id */
		buf[n++] = 0;
		buf[n++] = 2;
		buf[n++] = 0x13;
		buf[n++] = 1;
		buf[n++] = 1;
		buf[n++] = 0;
		ext_start = n;
		n += 2;
		for (i = 0; i < (size_t)nexts; i++)
			n += l7_ext(buf + n, (__u16)(0x1000 + i), 1);
		buf[n++] = 0; /* server_name */
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 8;
		buf[n++] = 0;
		buf[n++] = 6;
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 3;
		memcpy(buf + n, "a.b", 3);
		n += 3;
		l7_put16(buf + ext_start, n - ext_start - 2);
		hs = n - 9;
		buf[0] = 0x16;
		buf[1] = 3;
		buf[2] = 1;
		l7_put16(buf + 3, hs + 4);
		buf[5] = 1;
		buf[6] = 0;
		l7_put16(buf + 7, hs);
		/* 6 fields before the extensions, then one per extension, then the SNI's */
		if (6 + nexts + 2 <= TLS_FIELDS_MAX) {
			assert_int_equal(tls_sni(buf, buf + n, &nb), TLS_NAME);
		} else {
			size_t cuts[3] = { n / 3, 2 * n / 3, n };

			assert_int_equal(tls_sni(buf, buf + n, &nb), ERR(PASS_TLS_UNSUPPORTED));
			assert_int_equal(feed(buf, n, cuts, 3, name, &at, &flags),
					 ERR(PASS_TLS_UNSUPPORTED));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_not_hello),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_first_segment_cuts),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_mutations_against_ref),
		cmocka_unit_test(test_fast_against_slow),
		cmocka_unit_test(test_ech_past_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
