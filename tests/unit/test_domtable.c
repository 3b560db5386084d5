// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of maps/domain.h (the domain hash, SWAR lower-casing, bloom filter and cuckoo
 * helpers) and user/domtable.c (merging, leaves, the kernel images and the host lookup):
 * matching semantics on hand-picked cases, a randomized comparison with a brute-force
 * reference that works on strings only, the bloom filter and the hash quality over 1M
 * generated names and over the real lists in $BPFGUARD_SHARED/data/lists (default ../shared),
 * cuckoo rebuilds, and a 64-bit collision crafted on purpose (two stored names, one key).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>
#include "user/domtable.h"
#include "user/registry.h"
#include "user/util.h"

static __u64 rnd(__u64 *s)
{
	/* splitmix64: deterministic, seeded per test */
	__u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void add(struct domtable *t, const char *name, int exact, int allow, int list, int cat)
{
	struct dom_entry e = {
		.name = name, .exact = exact, .allow = allow, .list_id = list, .category = cat
	};
	int err = domtable_add(t, &e);

	if (err)
		fail_msg("domtable_add('%s'): %s", name, strerror(-err));
}

static void build(struct domtable *t)
{
	int err = domtable_build(t);

	if (err)
		fail_msg("domtable_build: %s", strerror(-err));
}

/* Look name up; returns the leaf (NULL: no match) and checks the stored entry is confirmed. */
static const struct dom_leaf *look(const struct domtable *t, const char *name, struct dom_match *m)
{
	int err = domtable_lookup(t, name, m);

	if (err)
		fail_msg("domtable_lookup('%s'): %s", name, strerror(-err));
	if (m->leaf == DOM_LEAF_NONE)
		return NULL;
	assert_true(m->leaf < t->n_leaves);
	if (!m->rec)
		fail_msg("'%s': key found but no stored name equals the suffix", name);
	return &t->leaves[m->leaf];
}

/* name matches, through the entry stored as `entry` (subtree or exact key). */
static void expect_match(const struct domtable *t, const char *name, const char *entry, bool exact,
			 bool allow, __u64 cats)
{
	struct dom_match m;
	const struct dom_leaf *l = look(t, name, &m);

	if (!l)
		fail_msg("'%s': no match, want '%s'", name, entry);
	if (strcmp(domtable_name(t, m.rec), entry) != 0)
		fail_msg("'%s': matched '%s', want '%s'", name, domtable_name(t, m.rec), entry);
	assert_string_equal(m.name + m.suffix_off, entry);
	assert_int_equal(m.exact_key, exact);
	assert_int_equal(!!(m.rec->flags & DOMT_F_EXACT), exact);
	if (!!(l->flags & DOM_LEAF_F_ALLOW) != allow)
		fail_msg("'%s': allow %d, want %d", name, !!(l->flags & DOM_LEAF_F_ALLOW), allow);
	if (l->block_cats != cats)
		fail_msg("'%s': categories %#llx, want %#llx", name,
			 (unsigned long long)l->block_cats, (unsigned long long)cats);
}

static void expect_none(const struct domtable *t, const char *name)
{
	struct dom_match m;

	if (look(t, name, &m))
		fail_msg("'%s': matched '%s', want no match", name, domtable_name(t, m.rec));
}

/* ---- maps/domain.h ---- */

static void test_lower8(void **state)
{
	__u64 s = 1;
	int pos, b, i, j;

	(void)state;
	/* every byte value at every position, with random neighbours */
	for (pos = 0; pos < 8; pos++) {
		for (b = 0; b < 256; b++) {
			__u64 w = rnd(&s), got, want = 0;

			w = (w & ~(0xffull << (pos * 8))) | ((__u64)b << (pos * 8));
			for (j = 0; j < 8; j++) {
				unsigned int c = (unsigned int)(w >> (j * 8)) & 0xff;

				if (c >= 'A' && c <= 'Z')
					c += 'a' - 'A';
				want |= (__u64)c << (j * 8);
			}
			got = dh_lower8(w);
			if (got != want)
				fail_msg("dh_lower8(%#llx) = %#llx, want %#llx",
					 (unsigned long long)w, (unsigned long long)got,
					 (unsigned long long)want);
		}
	}
	/* words made only of boundary bytes */
	for (i = 0; i < 100000; i++) {
		static const __u8 edge[] = { '@',  'A',	 'Z',  '[',  '`',  'a', 'z', '{',
					     0x7f, 0x80, 0xc1, 0xda, 0xff, 0,	'.', '-' };
		__u64 w = 0, want = 0, r = rnd(&s);

		for (j = 0; j < 8; j++) {
			__u8 c = edge[(r >> (j * 4)) & 15];

			w |= (__u64)c << (j * 8);
			want |= (__u64)(c >= 'A' && c <= 'Z' ? c + 32 : c) << (j * 8);
		}
		assert_true(dh_lower8(w) == want);
	}
}

/* The word form reads whole words past the label end: the tail must not matter. */
static void test_label_forms_agree(void **state)
{
	__u8 buf[DH_MAX_LABEL + 8 + 16];
	__u64 s = 2;
	int i, len;

	(void)state;
	for (i = 0; i < 200000; i++) {
		__u64 a, b, c;
		int j;

		len = 1 + (int)(rnd(&s) % DH_MAX_LABEL);
		for (j = 0; j < (int)sizeof(buf); j++)
			buf[j] = (__u8)rnd(&s); /* garbage everywhere, label included */
		a = dh_label(buf, (__u32)len);
		b = dh_label_bytes(buf, (__u32)len);
		memset(buf + len, 0, sizeof(buf) - (size_t)len);
		c = dh_label(buf, (__u32)len);
		if (a != b || a != c)
			fail_msg("len %d: word form %#llx, byte form %#llx, zero tail %#llx", len,
				 (unsigned long long)a, (unsigned long long)b,
				 (unsigned long long)c);
	}
	/* a label inside a name, at every offset and length, with the rest of the name after */
	for (len = 1; len <= DH_MAX_LABEL; len++) {
		for (i = 0; i < 8; i++) {
			__u8 name[DH_MAX_LABEL + 8 + 16];

			memset(name, '.', sizeof(name));
			memset(name + i, 'q', (size_t)len);
			assert_true(dh_label(name + i, (__u32)len) ==
				    dh_label_bytes(name + i, (__u32)len));
		}
	}
	/* the length seeds the hash: "a" and "a\0" differ */
	memset(buf, 0, sizeof(buf));
	buf[0] = 'a';
	assert_true(dh_label(buf, 1) != dh_label(buf, 2));
}

/* Labels of up to 8 bytes without NUL are hashed without collision (checked on a sample). */
struct lab {
	__u64 h;
	__u64 word; /* the label itself: up to 8 bytes */
	__u32 len;
};

static int lab_cmp(const void *a, const void *b)
{
	const struct lab *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->word != y->word)
		return x->word < y->word ? -1 : 1;
	return (int)x->len - (int)y->len;
}

static void test_short_labels_distinct(void **state)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const size_t na = sizeof(alpha) - 1, nrand = 300000;
	size_t n = 0, i, a, b, c, cap = na + na * na + na * na * na + nrand;
	struct lab *v = calloc(cap, sizeof(*v));
	__u64 s = 3;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < cap; i++) {
		__u8 l[16] = { 0 };
		size_t len, j;

		if (i < na + na * na + na * na * na) {
			/* every label of 1..3 characters */
			len = i < na ? 1 : i < na + na * na ? 2 : 3;
			j = i < na ? i : i < na + na * na ? i - na : i - na - na * na;
			for (a = 0; a < len; a++, j /= na)
				l[a] = (__u8)alpha[j % na];
		} else {
			len = 4 + rnd(&s) % 5;
			for (j = 0; j < len; j++)
				l[j] = (__u8)alpha[rnd(&s) % na];
		}
		memcpy(&v[n].word, l, 8);
		v[n].len = (__u32)len;
		v[n++].h = dh_label(l, (__u32)len);
	}
	qsort(v, n, sizeof(*v), lab_cmp);
	for (i = 1, b = 0, c = 0; i < n; i++) {
		if (v[i].word == v[i - 1].word && v[i].len == v[i - 1].len) {
			b++; /* the same random label drawn twice */
			continue;
		}
		c++;
		if (v[i].h == v[i - 1].h)
			fail_msg("labels %.8s and %.8s share the hash %#llx",
				 (const char *)&v[i].word, (const char *)&v[i - 1].word,
				 (unsigned long long)v[i].h);
	}
	print_message("# labels: %zu distinct of 1..8 bytes, no shared hash\n", c + 1);
	assert_true(c + 1 > cap - nrand);
	free(v);
}

static void test_suffix_chain(void **state)
{
	__u64 keys[DH_MAX_LABELS], s;
	__u32 offs[DH_MAX_LABELS];
	const char *name = "A.b.Example.COM";

	(void)state;
	assert_int_equal(domtable_suffix_keys(DH_ROOT, name, strlen(name), keys, offs), 4);
	s = dh_suffix(DH_ROOT, dh_label_bytes((const __u8 *)"com", 3));
	assert_true(keys[3] == s);
	assert_int_equal(offs[3], 12);
	s = dh_suffix(s, dh_label_bytes((const __u8 *)"example", 7));
	assert_true(keys[2] == s);
	s = dh_suffix(s, dh_label_bytes((const __u8 *)"b", 1));
	assert_true(keys[1] == s);
	s = dh_suffix(s, dh_label_bytes((const __u8 *)"a", 1));
	assert_true(keys[0] == s);
	assert_int_equal(offs[0], 0);
	assert_true(dh_exact(s) == (s ^ DH_EXACT_SALT));
	assert_true(dh_exact(s) != s);
	/* never the empty key */
	assert_true(dh_suffix(0x1234, 0x1234) == 1);
	assert_true(dh_exact(DH_EXACT_SALT) == 1);
	/* another root, other keys */
	assert_int_equal(domtable_suffix_keys(12345, name, strlen(name), keys, offs), 4);
	assert_true(keys[0] != s);

	assert_int_equal(domtable_suffix_keys(DH_ROOT, "", 0, keys, offs), -EINVAL);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, "a..b", 4, keys, offs), -EINVAL);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, ".a", 2, keys, offs), -EINVAL);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, "a.", 2, keys, offs), -EINVAL);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, "a\0b", 3, keys, offs), -EINVAL);
}

static void test_bucket_find(void **state)
{
	struct dom_bucket b;
	int i;

	(void)state;
	memset(&b, 0, sizeof(b));
	for (i = 0; i < DOM_BUCKET_SLOTS; i++) {
		b.key[i] = 100 + i;
		b.leaf[i] = 7 + i;
	}
	for (i = 0; i < DOM_BUCKET_SLOTS; i++)
		assert_int_equal(dom_bucket_find(&b, 100 + i), 7 + i);
	assert_int_equal(dom_bucket_find(&b, 99), DOM_LEAF_NONE);
	memset(&b, 0, sizeof(b));
	assert_int_equal(dom_bucket_find(&b, 1), DOM_LEAF_NONE);
	/* bucket choices use disjoint key bits */
	assert_int_equal(dh_bucket1(0xaaaaaaaa00000005ull, 0xff), 5);
	assert_int_equal(dh_bucket2(0x0000000700000005ull, 0xff), 7);
	assert_true(dh_bloom_mask(0) == 1);
	assert_true(dh_bloom_mask((1 << 12) | (2 << 6) | 3) == ((1ull << 1) | (1ull << 2) | 8));
	assert_int_equal(dh_bloom_word(5ull << 18, 7), 5);
}

/* ---- matching semantics ---- */

/*
 * A one-label entry (a whole top-level domain): counted (DOM_CFG_F_TLD), and the walk tests the
 * top-level suffix, which it skips without one.
 */
static void test_tld_entry(void **state)
{
	struct dom_match m;
	struct domtable t;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "example.com", 0, 0, 0, 3);
	build(&t);
	assert_int_equal(t.n_tld, 0);
	assert_int_equal(domtable_lookup(&t, "a.b.example.com", &m), 0);
	/* example.com, found: nothing is listed below it, the walk ends there */
	assert_int_equal(m.bloom_probes, 1);
	assert_true(m.walk_ended);
	domtable_free(&t);

	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "example.com", 0, 0, 0, 3);
	add(&t, "ZIP", 0, 0, 0, 5);
	build(&t);
	assert_int_equal(t.n_tld, 1);
	expect_match(&t, "zip", "zip", false, false, 1ull << 5);
	expect_match(&t, "a.b.Zip", "zip", false, false, 1ull << 5);
	expect_match(&t, "example.com", "example.com", false, false, 1ull << 3);
	expect_none(&t, "zip.com");
	expect_none(&t, "azip");
	assert_int_equal(domtable_lookup(&t, "a.b.example.com", &m), 0);
	assert_int_equal(m.bloom_probes, 2); /* com too now */
	domtable_free(&t);
}

/*
 * The walk's early end (DOM_SLOT_F_LAST), worked out again from the names: a subtree record
 * has the flag unless a stored name (another subtree name, or an exact-only one at or below
 * it) ends with its name, or it shares its key. Every stored key's slot is checked.
 */
static __u32 slot_of(const struct domtable *t, __u64 key)
{
	__u32 mask = t->n_buckets - 1, v = dom_bucket_find(&t->table[dh_bucket1(key, mask)], key);

	return v ? v : dom_bucket_find(&t->table[dh_bucket2(key, mask)], key);
}

static size_t check_last_flags(const struct domtable *t)
{
	bool *below = calloc(t->n_recs, sizeof(*below));
	size_t i, n_last = 0;

	assert_non_null(below);
	for (i = 0; i < t->n_recs; i++) {
		const struct dom_rec *r = &t->recs[i], *a;
		const char *name = domtable_name(t, r), *p;

		/* an exact-only name is below the subtree entry at its own name */
		if ((r->flags & DOMT_F_EXACT) && (a = domtable_find(t, name, false)))
			below[a - t->recs] = true;
		for (p = strchr(name, '.'); p; p = strchr(p + 1, '.'))
			if ((a = domtable_find(t, p + 1, false)))
				below[a - t->recs] = true;
	}
	for (i = 0; i < t->n_recs; i++) {
		const struct dom_rec *r = &t->recs[i];
		bool want = !(r->flags & (DOMT_F_EXACT | DOMT_F_SHARED)) && !below[i];
		__u32 v = slot_of(t, r->key);

		if (!!(v & DOM_SLOT_F_LAST) != want)
			fail_msg("'%s'%s: DOM_SLOT_F_LAST %s, want %s", domtable_name(t, r),
				 r->flags & DOMT_F_EXACT ? " (exact)" : "",
				 v & DOM_SLOT_F_LAST ? "set" : "clear", want ? "set" : "clear");
		n_last += want;
	}
	free(below);
	return n_last;
}

/*
 * The entry that must decide name, from the names alone: an exact-only entry at the name, else
 * the subtree entry at its longest listed suffix (NULL: none).
 */
static const struct dom_rec *reference_decider(const struct domtable *t, const char *name)
{
	const struct dom_rec *r = domtable_find(t, name, true);
	const char *p;

	if (r)
		return r;
	for (p = name; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
		if ((r = domtable_find(t, p, false)))
			return r;
	return NULL;
}

/*
 * Names listed inside each other, subtree and exact-only, block and allow: the walk ends early
 * only where nothing more specific is listed, and every query is decided by the entry the
 * names say, whether or not the walk ended early.
 */
static void test_walk_end(void **state)
{
	static const char *const labels[] = { "a", "b", "c", "www", "ads", "x1" };
	unsigned int seed = 77;
	size_t i, n_last, ended = 0, q;
	struct dom_match m;
	struct domtable t;

	(void)state;
	assert_int_equal(domtable_init(&t, 0x1234567890abcdefull), 0);
	/* the crafted cases first */
	add(&t, "example.com", 0, 0, 0, 3);
	add(&t, "shop.example.com", 1, 1, 1, 0); /* exact allow one level below */
	add(&t, "far.example", 0, 0, 0, 3);
	add(&t, "c.b.a.far.example", 0, 1, 1, 0); /* allow three levels below */
	add(&t, "same.example", 0, 0, 0, 3);
	add(&t, "same.example", 1, 1, 1, 0); /* exact allow at the same name */
	add(&t, "solo.example", 0, 0, 0, 3); /* nothing below */
	/* then 4000 random names of 2..6 labels under three TLDs: many nested in others */
	for (i = 0; i < 4000; i++) {
		char name[128] = "";
		int nl = 1 + (int)(rand_r(&seed) % 5), j;

		for (j = 0; j < nl; j++)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s.",
				 labels[rand_r(&seed) % ARRAY_SIZE(labels)]);
		strcat(name, (const char *[]){ "test", "org", "example" }[rand_r(&seed) % 3]);
		add(&t, name, rand_r(&seed) % 5 == 0, rand_r(&seed) % 4 == 0, 2, 5);
	}
	build(&t);
	n_last = check_last_flags(&t);

	/* nothing below solo.example: the walk ends there; example.com has shop.example.com */
	assert_int_equal(domtable_lookup(&t, "a.b.solo.example", &m), 0);
	assert_true(m.walk_ended);
	assert_int_equal(m.bloom_probes, 1);
	assert_int_equal(domtable_lookup(&t, "a.b.example.com", &m), 0);
	assert_false(m.walk_ended);
	assert_int_equal(m.bloom_probes, 2);
	expect_match(&t, "a.b.solo.example", "solo.example", false, false, 1ull << 3);
	expect_match(&t, "a.b.example.com", "example.com", false, false, 1ull << 3);
	expect_match(&t, "shop.example.com", "shop.example.com", true, true, 0);
	expect_match(&t, "a.shop.example.com", "example.com", false, false, 1ull << 3);
	expect_match(&t, "x.c.b.a.far.example", "c.b.a.far.example", false, true, 0);
	expect_match(&t, "x.b.a.far.example", "far.example", false, false, 1ull << 3);
	expect_match(&t, "same.example", "same.example", true, true, 0);
	expect_match(&t, "w.same.example", "same.example", false, false, 1ull << 3);

	/* random queries over the same labels: the deciding entry is the names' */
	for (q = 0; q < 20000; q++) {
		char name[160] = "";
		const struct dom_rec *want;
		int nl = 1 + (int)(rand_r(&seed) % 7), j;

		for (j = 0; j < nl; j++)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s.",
				 labels[rand_r(&seed) % ARRAY_SIZE(labels)]);
		strcat(name, (const char *[]){ "test", "org", "example" }[rand_r(&seed) % 3]);
		assert_int_equal(domtable_lookup(&t, name, &m), 0);
		want = reference_decider(&t, name);
		if (want != m.rec)
			fail_msg("'%s': decided by '%s', want '%s'", name,
				 m.rec ? domtable_name(&t, m.rec) : "(none)",
				 want ? domtable_name(&t, want) : "(none)");
		ended += m.walk_ended;
	}
	print_message("# walk end: %zu records, %zu flagged last; %zu of 20000 walks ended at "
		      "one\n",
		      t.n_recs, n_last, ended);
	assert_true(n_last > 100 && n_last < t.n_recs);
	assert_true(ended > 1000);
	domtable_free(&t);
}

static void test_label_boundaries(void **state)
{
	struct domtable t;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "example.com", 0, 0, 0, 3);
	build(&t);
	expect_match(&t, "example.com", "example.com", false, false, 1ull << 3);
	expect_match(&t, "a.example.com", "example.com", false, false, 1ull << 3);
	expect_match(&t, "x.y.z.a.example.com", "example.com", false, false, 1ull << 3);
	expect_none(&t, "notexample.com");
	expect_none(&t, "example.com.evil");
	expect_none(&t, "com");
	expect_none(&t, "example.co");
	expect_none(&t, "example.comm");
	expect_none(&t, "xample.com");
	expect_none(&t, "example");
	expect_none(&t, "a-example.com");
	domtable_free(&t);
}

static void test_most_specific(void **state)
{
	struct domtable t;

	(void)state;
	/* block the domain, allow a subdomain */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "example.com", 0, 0, 0, 1);
	add(&t, "safe.example.com", 0, 1, 1, 0);
	build(&t);
	expect_match(&t, "example.com", "example.com", false, false, 1ull << 1);
	expect_match(&t, "www.example.com", "example.com", false, false, 1ull << 1);
	expect_match(&t, "safe.example.com", "safe.example.com", false, true, 0);
	expect_match(&t, "a.safe.example.com", "safe.example.com", false, true, 0);
	expect_match(&t, "unsafe.example.com", "example.com", false, false, 1ull << 1);
	domtable_free(&t);

	/* the reverse: allow the domain, block a subdomain */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "example.com", 0, 1, 0, 0);
	add(&t, "bad.example.com", 0, 0, 1, 5);
	build(&t);
	expect_match(&t, "example.com", "example.com", false, true, 0);
	expect_match(&t, "www.example.com", "example.com", false, true, 0);
	expect_match(&t, "bad.example.com", "bad.example.com", false, false, 1ull << 5);
	expect_match(&t, "x.bad.example.com", "bad.example.com", false, false, 1ull << 5);
	domtable_free(&t);
}

static void test_allow_beats_block(void **state)
{
	const struct dom_rec *r;
	struct domtable t;
	struct dom_match m;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	/* lists in config order: 0 block adult, 1 allow, 2 block games, 3 allow */
	add(&t, "example.com", 0, 0, 0, 2);
	add(&t, "example.com", 0, 1, 1, 0);
	add(&t, "example.com", 0, 0, 2, 4);
	add(&t, "example.com", 0, 1, 3, 0);
	add(&t, "other.org", 0, 0, 2, 4);
	add(&t, "other.org", 0, 0, 0, 2);
	add(&t, "other.org", 0, 0, 0, 2); /* the same list twice: one list */
	build(&t);
	expect_match(&t, "www.example.com", "example.com", false, true, 0);
	look(&t, "example.com", &m);
	assert_int_equal(t.leaves[m.leaf].list_id, 1); /* the first allow list */
	assert_int_equal(m.rec->n_lists, 4);
	assert_true(m.rec->block_cats == ((1ull << 2) | (1ull << 4))); /* kept for `check` */
	r = domtable_find(&t, "other.org", false);
	assert_non_null(r);
	assert_int_equal(r->list_id, 0); /* the first list */
	assert_int_equal(r->n_lists, 2);
	expect_match(&t, "x.other.org", "other.org", false, false, (1ull << 2) | (1ull << 4));
	assert_int_equal(t.n_entries, 7);
	assert_int_equal(t.n_recs, 2);
	domtable_free(&t);
}

static void test_exact_entries(void **state)
{
	struct domtable t;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "only.example.com", 1, 0, 0, 1); /* full:only.example.com */
	/* exact allow and subtree block at one name: the name is allowed, below it blocked */
	add(&t, "mixed.example.net", 1, 1, 1, 0);
	add(&t, "mixed.example.net", 0, 0, 0, 2);
	/* exact block and subtree allow at one name: allowed (allow wins at the same name) */
	add(&t, "other.example.net", 1, 0, 0, 3);
	add(&t, "other.example.net", 0, 1, 1, 0);
	/* exact block under a blocked subtree: both categories */
	add(&t, "blocked.org", 0, 0, 0, 4);
	add(&t, "x.blocked.org", 1, 0, 2, 5);
	/* exact block under an allowed subtree: its own category only */
	add(&t, "allowed.org", 0, 1, 1, 0);
	add(&t, "y.allowed.org", 1, 0, 0, 6);
	build(&t);
	assert_int_equal(t.n_exact, 5);

	expect_match(&t, "only.example.com", "only.example.com", true, false, 1ull << 1);
	expect_none(&t, "a.only.example.com");
	expect_none(&t, "example.com");

	expect_match(&t, "mixed.example.net", "mixed.example.net", true, true, 0);
	expect_match(&t, "a.mixed.example.net", "mixed.example.net", false, false, 1ull << 2);

	expect_match(&t, "other.example.net", "other.example.net", true, true, 0);
	expect_match(&t, "a.other.example.net", "other.example.net", false, true, 0);

	expect_match(&t, "x.blocked.org", "x.blocked.org", true, false, (1ull << 4) | (1ull << 5));
	expect_match(&t, "a.x.blocked.org", "blocked.org", false, false, 1ull << 4);

	expect_match(&t, "y.allowed.org", "y.allowed.org", true, false, 1ull << 6);
	expect_match(&t, "a.y.allowed.org", "allowed.org", false, true, 0);

	assert_non_null(domtable_find(&t, "only.example.com", true));
	assert_null(domtable_find(&t, "only.example.com", false));
	domtable_free(&t);
}

static void test_case_insensitive(void **state)
{
	static const char *const forms[] = { "WWW.EXAMPLE.COM", "wWw.ExAmPlE.cOm",
					     "www.example.com.", "Www.Example.Com." };
	struct domtable t;
	struct dom_match m;
	char name[64];
	__u64 s = 4;
	size_t i, j;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "Example.COM", 0, 0, 0, 1); /* stored in lower case */
	add(&t, "FULL.example.org", 1, 0, 0, 2);
	build(&t);
	assert_non_null(domtable_find(&t, "example.com", false));
	for (i = 0; i < ARRAY_SIZE(forms); i++)
		expect_match(&t, forms[i], "example.com", false, false, 1ull << 1);
	look(&t, "Www.Example.Com.", &m);
	assert_string_equal(m.name, "www.example.com");
	/* DNS 0x20: every random case pattern decides the same */
	for (i = 0; i < 2000; i++) {
		strcpy(name, "a.full.example.org");
		for (j = 2; name[j]; j++)
			if (name[j] != '.' && (rnd(&s) & 1))
				name[j] = (char)(name[j] - 32);
		expect_match(&t, name + 2, "full.example.org", true, false, 1ull << 2);
		expect_none(&t, name);
	}
	/* bytes >= 0x80 are not folded: no match, no crash */
	expect_none(&t, "\xc3\x89xample.com");
	domtable_free(&t);
}

static void test_long_names(void **state)
{
	char n253[DH_MAX_NAME + 8], n254[DH_MAX_NAME + 8], l63[80], l64[80], l61[80], buf[400];
	struct domtable t;
	struct dom_match m;
	int i;

	(void)state;
	/* 127 one-letter labels: 253 characters, the most a name can have */
	for (i = 0; i < DH_MAX_LABELS; i++) {
		n253[2 * i] = (char)('a' + i % 26);
		n253[2 * i + 1] = '.';
	}
	n253[DH_MAX_NAME] = '\0';
	assert_int_equal(strlen(n253), 253);
	snprintf(n254, sizeof(n254), "b%s", n253 + 1); /* 253 still, other first label */
	memset(l63, 'x', 63);
	l63[63] = '\0';
	memset(l64, 'x', 64);
	l64[64] = '\0';
	memset(l61, 'y', 61);
	l61[61] = '\0';

	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, n253, 0, 0, 0, 1);
	add(&t, n253 + 200, 0, 0, 0, 2); /* a 53-character suffix of it */
	snprintf(buf, sizeof(buf), "%s.%s.%s.%s", l63, l63, l63, l61);
	assert_int_equal(strlen(buf), 253);
	add(&t, buf, 1, 0, 0, 3);
	build(&t);
	assert_int_equal(domtable_lookup(&t, n253, &m), 0);
	assert_int_equal(m.n_labels, 127);
	expect_match(&t, n253, n253, false, false, (1ull << 1) | (1ull << 2));
	expect_match(&t, n254, n253 + 200, false, false, 1ull << 2);
	expect_match(&t, buf, buf, true, false, 1ull << 3);

	/* one more character or label is more than the kernel can examine */
	snprintf(buf, sizeof(buf), "c.%s", n253 + 2);
	assert_int_equal(strlen(buf), 253);
	snprintf(buf, sizeof(buf), "cc.%s", n253 + 2);
	assert_int_equal(domtable_lookup(&t, buf, &m), -ENAMETOOLONG);
	snprintf(buf, sizeof(buf), "c.c.%s", n253 + 2); /* 128 labels, 255 characters */
	assert_int_equal(domtable_lookup(&t, buf, &m), -ENAMETOOLONG);
	snprintf(buf, sizeof(buf), "%s.com", l63);
	expect_none(&t, buf);
	snprintf(buf, sizeof(buf), "%s.com", l64);
	assert_int_equal(domtable_lookup(&t, buf, &m), -ENAMETOOLONG);
	assert_int_equal(domtable_lookup(&t, "", &m), -EINVAL);
	assert_int_equal(domtable_lookup(&t, ".", &m), -EINVAL);
	assert_int_equal(domtable_lookup(&t, "a..com", &m), -EINVAL);
	assert_int_equal(domtable_lookup(&t, "example.com..", &m), -EINVAL);
	domtable_free(&t);
}

static void test_add_errors(void **state)
{
	struct dom_entry e = { .name = "example.com" };
	char l64[80];
	struct domtable t;

	(void)state;
	memset(l64, 'x', 64);
	strcpy(l64 + 64, ".com");
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	e.name = "";
	assert_int_equal(domtable_add(&t, &e), -EINVAL);
	e.name = "a..b";
	assert_int_equal(domtable_add(&t, &e), -EINVAL);
	e.name = l64;
	assert_int_equal(domtable_add(&t, &e), -EINVAL);
	e.name = NULL;
	assert_int_equal(domtable_add(&t, &e), -EINVAL);
	e.name = "example.com";
	e.category = 64;
	assert_int_equal(domtable_add(&t, &e), -EINVAL);
	e.allow = 1; /* an allow entry has no category */
	assert_int_equal(domtable_add(&t, &e), 0);
	assert_int_equal(t.n_entries, 1);
	assert_int_equal(t.n_recs, 0); /* merged later: at the latest by the build */
	build(&t);
	assert_int_equal(t.n_recs, 1);
	assert_int_equal(domtable_add(&t, &e), -EBUSY);
	assert_int_equal(domtable_build(&t), -EBUSY);
	domtable_free(&t);

	/* an empty table builds, and nothing matches */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	build(&t);
	expect_none(&t, "example.com");
	assert_int_equal(t.n_leaves, 1);
	assert_int_equal(t.n_buckets, 1);
	assert_int_equal(t.bloom_words, DH_BLOOM_MIN_WORDS);
	assert_int_equal(domtable_kernel_bytes(&t), DH_BLOOM_MIN_WORDS * 8 + 48 + 16);
	domtable_free(&t);
}

/* A games entry below an adult subtree still blocks as adult while games are allowed. */
static void test_categories_and_decider(void **state)
{
	const struct dom_rec *d;
	struct domtable t;
	struct dom_match m;
	const __u64 adult = 1ull << 0, games = 1ull << 1;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, "adult.example", 0, 0, 0, 0);
	add(&t, "play.adult.example", 0, 0, 1, 1);
	add(&t, "ok.adult.example", 0, 1, 2, 0);
	add(&t, "games.ok.adult.example", 0, 0, 1, 1);
	add(&t, "full.adult.example", 1, 0, 1, 1);
	build(&t);
	expect_match(&t, "x.play.adult.example", "play.adult.example", false, false, adult | games);
	look(&t, "x.play.adult.example", &m);
	assert_int_equal(t.leaves[m.leaf].list_id, 1);
	d = domtable_decider(&t, &m, games);
	assert_non_null(d);
	assert_string_equal(domtable_name(&t, d), "play.adult.example");
	d = domtable_decider(&t, &m, adult);
	assert_non_null(d);
	assert_string_equal(domtable_name(&t, d), "adult.example");
	assert_null(domtable_decider(&t, &m, 1ull << 7));

	/* below an allow entry, only what is more specific than it counts */
	expect_match(&t, "games.ok.adult.example", "games.ok.adult.example", false, false, games);
	look(&t, "games.ok.adult.example", &m);
	assert_null(domtable_decider(&t, &m, adult));
	expect_match(&t, "z.ok.adult.example", "ok.adult.example", false, true, 0);
	look(&t, "z.ok.adult.example", &m);
	d = domtable_decider(&t, &m, adult | games);
	assert_non_null(d);
	assert_string_equal(domtable_name(&t, d), "ok.adult.example");

	/* an exact entry: its own category, then the subtree above */
	expect_match(&t, "full.adult.example", "full.adult.example", true, false, adult | games);
	look(&t, "full.adult.example", &m);
	d = domtable_decider(&t, &m, adult);
	assert_string_equal(domtable_name(&t, d), "adult.example");
	d = domtable_decider(&t, &m, games);
	assert_string_equal(domtable_name(&t, d), "full.adult.example");
	assert_true(d->flags & DOMT_F_EXACT);
	expect_match(&t, "a.full.adult.example", "adult.example", false, false, adult);
	domtable_free(&t);
}

/* ---- randomized comparison with a reference on strings ---- */

struct ref_entry {
	char name[64];
	int exact, allow, list, cat;
};

struct ref_result {
	int found;
	size_t off; /* matched suffix */
	int exact;
	struct dom_leaf leaf;
	int n_lists;
};

static bool ref_at(const struct ref_entry *e, size_t n, const char *name, int exact, int *any,
		   int *allow, int *min_allow, int *min_list, __u64 *cats)
{
	size_t i;

	*any = *allow = 0;
	*min_allow = *min_list = 1 << 20;
	*cats = 0;
	for (i = 0; i < n; i++) {
		if (e[i].exact != exact || strcmp(e[i].name, name) != 0)
			continue;
		*any = 1;
		if (e[i].list < *min_list)
			*min_list = e[i].list;
		if (e[i].allow) {
			*allow = 1;
			if (e[i].list < *min_allow)
				*min_allow = e[i].list;
		} else {
			*cats |= 1ull << e[i].cat;
		}
	}
	return *any;
}

/* Distinct lists holding (name, exact). */
static int ref_lists(const struct ref_entry *e, size_t n, const char *name, int exact)
{
	int seen[64] = { 0 }, count = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].exact == exact && !strcmp(e[i].name, name) && !seen[e[i].list]++)
			count++;
	return count;
}

/* The rule of maps/domain.h, on strings: no hash, no table. */
static struct ref_result reference(const struct ref_entry *e, size_t n, const char *q)
{
	struct ref_result r = { 0 };
	const char *suf[DH_MAX_LABELS];
	int ns = 0, i, j;

	suf[ns++] = q;
	for (i = 0; q[i]; i++)
		if (q[i] == '.')
			suf[ns++] = q + i + 1;
	for (i = 0; i < ns; i++) {
		int xa, xal, xmina, xminl, sa, sal, smina, sminl, allow, list;
		__u64 xc, sc, cats;

		ref_at(e, n, suf[i], 1, &xa, &xal, &xmina, &xminl, &xc);
		if (i > 0)
			xa = 0;
		ref_at(e, n, suf[i], 0, &sa, &sal, &smina, &sminl, &sc);
		if (!xa && !sa)
			continue;
		r.found = 1;
		r.off = (size_t)(suf[i] - q);
		r.exact = xa;
		if (xa) {
			allow = xal || sal;
			list = xal ? xmina : sal ? smina : xminl;
			cats = xc | sc;
			r.n_lists = ref_lists(e, n, suf[i], 1);
		} else {
			allow = sal;
			list = sal ? smina : sminl;
			cats = sc;
			r.n_lists = ref_lists(e, n, suf[i], 0);
		}
		for (j = i + 1; !allow && j < ns; j++) {
			int a, al, mina, minl;
			__u64 c;

			if (!ref_at(e, n, suf[j], 0, &a, &al, &mina, &minl, &c))
				continue;
			if (al)
				break;
			cats |= c;
		}
		r.leaf.list_id = (__u32)list;
		r.leaf.flags = allow ? DOM_LEAF_F_ALLOW : 0;
		r.leaf.block_cats = allow ? 0 : cats;
		return r;
	}
	return r;
}

static int ref_cmp_list(const void *a, const void *b)
{
	return ((const struct ref_entry *)a)->list - ((const struct ref_entry *)b)->list;
}

static void test_random_vs_reference(void **state)
{
	/* labels that are prefixes and suffixes of each other stress the label boundaries */
	static const char *const vocab[] = { "com", "example", "notexample", "ample", "x",
					     "www", "a",       "e",	     "mail",  "co" };
	const size_t nv = ARRAY_SIZE(vocab);
	struct ref_entry *e = calloc(400, sizeof(*e));
	unsigned long queries = 0, matched = 0, exact_hits = 0, allows = 0;
	__u64 s = 5;
	int seed;

	(void)state;
	assert_non_null(e);
	for (seed = 0; seed < 30; seed++) {
		size_t n = 1 + rnd(&s) % 400, i, depth;
		struct domtable t;

		for (i = 0; i < n; i++) {
			/* few top-level entries: they would decide most names */
			int depth = rnd(&s) % 16 ? 2 + (int)(rnd(&s) % 3) : 1, k;

			e[i].name[0] = '\0';
			for (k = 0; k < depth; k++) {
				if (k)
					strcat(e[i].name, ".");
				strcat(e[i].name, vocab[rnd(&s) % nv]);
			}
			e[i].exact = rnd(&s) % 5 == 0;
			e[i].allow = rnd(&s) % 4 == 0;
			e[i].list = (int)(rnd(&s) % 6);
			e[i].cat = (int)(rnd(&s) % 64);
		}
		/* a list's entries come together, as from the registry */
		qsort(e, n, sizeof(*e), ref_cmp_list);
		assert_int_equal(domtable_init(&t, seed & 1 ? DH_ROOT : rnd(&s)), 0);
		for (i = 0; i < n; i++)
			add(&t, e[i].name, e[i].exact, e[i].allow, e[i].list, e[i].cat);
		build(&t);
		assert_int_equal(t.n_shared, 0);
		/* every name of 1 to 4 vocabulary labels */
		for (depth = 1; depth <= 4; depth++) {
			size_t count = 1, x;

			for (i = 0; i < depth; i++)
				count *= nv;
			for (x = 0; x < count; x++) {
				const struct dom_leaf *l;
				struct dom_match m;
				struct ref_result r;
				char q[128] = "";
				size_t y = x;

				for (i = 0; i < depth; i++, y /= nv) {
					if (i)
						strcat(q, ".");
					strcat(q, vocab[y % nv]);
				}
				r = reference(e, n, q);
				l = look(&t, q, &m);
				queries++;
				if (!r.found) {
					if (l)
						fail_msg("seed %d '%s': matched '%s', want none",
							 seed, q, domtable_name(&t, m.rec));
					continue;
				}
				matched++;
				exact_hits += (unsigned long)r.exact;
				if (!l)
					fail_msg("seed %d '%s': no match", seed, q);
				if (m.suffix_off != r.off || m.exact_key != r.exact ||
				    l->block_cats != r.leaf.block_cats ||
				    l->flags != r.leaf.flags || l->list_id != r.leaf.list_id ||
				    m.rec->n_lists != r.n_lists)
					fail_msg("seed %d '%s': got suffix %u exact %d cats %#llx "
						 "flags %u list %u lists %u; want %zu %d %#llx %u "
						 "%u %d",
						 seed, q, m.suffix_off, m.exact_key,
						 (unsigned long long)l->block_cats, l->flags,
						 l->list_id, m.rec->n_lists, r.off, r.exact,
						 (unsigned long long)r.leaf.block_cats,
						 r.leaf.flags, r.leaf.list_id, r.n_lists);
				allows += !!(l->flags & DOM_LEAF_F_ALLOW);
			}
		}
		domtable_free(&t);
	}
	print_message("# random: %lu queries, %lu matched (%lu by an exact key, %lu allowed)\n",
		      queries, matched, exact_hits, allows);
	assert_true(matched > queries / 10 && matched < queries - queries / 10);
	assert_true(exact_hits > 100 && allows > 100);
	free(e);
}

/* ---- 1M names: build time, bloom filter, hash quality ---- */

static const char *const tlds[] = {
	"com", "net",	 "org",	 "de", "fr", "ru", "info", "io", "co.uk", "com.br",	 "xyz",
	"top", "online", "site", "cn", "jp", "nl", "it",   "pl", "es",	  "blogspot.com"
};
static const char *const subs[] = { "www",    "cdn", "api", "mail",    "m",
				    "static", "img", "ads", "tracker", "login" };

static void gen_label(__u64 *s, char *out, size_t min, size_t span)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	size_t len = min + rnd(s) % span, i;

	for (i = 0; i < len; i++)
		out[i] = alpha[rnd(s) % (i == 0 || i == len - 1 ? 36 : 37)];
	out[len] = '\0';
}

/* Name i of the generated set: names share base domains and TLDs as real lists do. */
static void gen_name(__u64 *s, size_t bases, char *out, size_t size)
{
	__u64 j = rnd(s) % bases, bs = j * 0x9e3779b97f4a7c15ull + 17;
	char base[40], sub[40], sub2[40];
	unsigned int k = (unsigned int)(rnd(s) % 20);

	gen_label(&bs, base, 3, 14);
	if (k < 10) {
		snprintf(out, size, "%s.%s", base, tlds[j % ARRAY_SIZE(tlds)]);
	} else if (k < 14) {
		snprintf(out, size, "%s.%s.%s", subs[rnd(s) % ARRAY_SIZE(subs)], base,
			 tlds[j % ARRAY_SIZE(tlds)]);
	} else if (k < 18) {
		gen_label(s, sub, 1, 20);
		snprintf(out, size, "%s.%s.%s", sub, base, tlds[j % ARRAY_SIZE(tlds)]);
	} else {
		gen_label(s, sub, 2, 30);
		gen_label(s, sub2, 1, 10);
		snprintf(out, size, "%s.%s.%s.%s", sub2, sub, base, tlds[j % ARRAY_SIZE(tlds)]);
	}
}

struct keyed {
	__u64 key;
	const char *name;
	__u32 len;
	__u32 exact;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->exact != y->exact)
		return (int)x->exact - (int)y->exact;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

/*
 * Every key the kernel could be asked for about these names: the subtree key of every suffix
 * and the exact key of every name. Returns the distinct (string, kind) count; fails on two
 * distinct ones with one key.
 */
static size_t assert_no_collisions(const char *const *names, size_t n, const char *what)
{
	size_t cap = n * 4 + 16, k = 0, i, distinct = 0;
	struct keyed *v = malloc(cap * sizeof(*v));

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		__u64 keys[DH_MAX_LABELS];
		__u32 offs[DH_MAX_LABELS];
		size_t len = strlen(names[i]);
		int nl = domtable_suffix_keys(DH_ROOT, names[i], len, keys, offs), j;

		assert_true(nl > 0);
		if (k + (size_t)nl + 1 > cap) {
			cap = (k + (size_t)nl + 1) * 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[k++] = (struct keyed){ dh_exact(keys[0]), names[i], (__u32)len, 1 };
		for (j = 0; j < nl; j++)
			v[k++] = (struct keyed){ keys[j], names[i] + offs[j],
						 (__u32)(len - offs[j]), 0 };
	}
	qsort(v, k, sizeof(*v), keyed_cmp);
	for (i = 0; i < k; i++) {
		if (i > 0 && !keyed_cmp(&v[i - 1], &v[i]))
			continue;
		distinct++;
		if (i > 0 && v[i - 1].key == v[i].key)
			fail_msg("%s: '%.*s' and '%.*s' share the key %#llx", what,
				 (int)v[i - 1].len, v[i - 1].name, (int)v[i].len, v[i].name,
				 (unsigned long long)v[i].key);
	}
	free(v);
	return distinct;
}

static long max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

#define MILLION 1000000u

static void test_million(void **state)
{
	const size_t want = MILLION, extra = MILLION / 2;
	char **names = malloc((want + extra) * sizeof(*names)), *pool, q[300];
	size_t pool_len = 0, pool_cap = (want + extra) * 32, n_names, i, set = 0;
	unsigned long fp_keys = 0, fp_names = 0, probes = 0;
	double expected = 0, rate_keys, rate_names, var_k, var_n;
	__u64 s = 6, t0, t_build;
	struct domtable t;
	long rss0;

	(void)state;
	pool = malloc(pool_cap);
	assert_non_null(names);
	assert_non_null(pool);
	rss0 = max_rss_kb();
	/* names first (their memory is the test's), with duplicates as real lists have */
	for (n_names = 0; n_names < want + extra && pool_len + 300 < pool_cap; n_names++) {
		size_t len;

		gen_name(&s, want, q, sizeof(q));
		len = strlen(q);
		memcpy(pool + pool_len, q, len + 1);
		names[n_names] = pool + pool_len;
		pool_len += len + 1;
	}
	/* timed: the adds (until 1M distinct names) and the build */
	t0 = now_ns();
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	for (i = 0; t.n_recs < want; i++) {
		struct dom_entry e = { .name = names[i],
				       .list_id = (__u16)(i % 4),
				       .category = (__u32)(i % 7) };

		if (i == n_names)
			fail_msg("%zu generated names hold only %zu distinct ones", n_names,
				 t.n_recs);
		assert_int_equal(domtable_add(&t, &e), 0);
	}
	build(&t);
	t_build = now_ns() - t0;
	print_message("# 1M names: %zu entries, %zu distinct; add+build %.0f ms; host %.1f MB, "
		      "kernel %.1f MB (bloom %u words, table %u buckets at %.0f %% load, %u "
		      "leaves), %u rebuilds; max RSS %ld MB (%ld MB before the table)\n",
		      t.n_entries, t.n_recs, t_build / 1e6, domtable_host_bytes(&t) / 1e6,
		      domtable_kernel_bytes(&t) / 1e6, t.bloom_words, t.n_buckets,
		      100.0 * t.n_keys / (t.n_buckets * 4.0), t.n_leaves, t.rebuilds,
		      max_rss_kb() / 1024, rss0 / 1024);
	/* the adds stop once 1M are merged; a few more were pending */
	assert_true(t.n_recs >= want && t.n_recs <= want + DOMT_PENDING);
	assert_int_equal(t.n_keys, t.n_recs);
	assert_int_equal(t.n_shared, 0);
	assert_true(t.n_entries > t.n_recs); /* duplicates were merged */
	assert_true(t.n_keys * 100 <= (size_t)t.n_buckets * 4 * 85);
	assert_true((__u64)t.bloom_words * 64 >= (__u64)t.n_keys * DH_BLOOM_BITS_PER_KEY);
	assert_true(domtable_host_bytes(&t) < 150u * MILLION);
	assert_true(t_build < 3000000000ull); /* measured well under 1 s; slack for slow CI */

	/* records are sorted, and every stored key is in the bloom filter and the table */
	for (i = 0; i < t.n_recs; i++) {
		const struct dom_rec *r = &t.recs[i];
		__u32 mask = t.n_buckets - 1;

		if (i)
			assert_true(t.recs[i - 1].key < r->key);
		if (!dh_bloom_test(t.bloom[dh_bloom_word(r->key, t.bloom_words - 1)], r->key))
			fail_msg("bloom false negative: '%s'", domtable_name(&t, r));
		if (dom_slot_leaf(dom_bucket_find(&t.table[dh_bucket1(r->key, mask)], r->key)) !=
			    r->leaf &&
		    dom_slot_leaf(dom_bucket_find(&t.table[dh_bucket2(r->key, mask)], r->key)) !=
			    r->leaf)
			fail_msg("'%s' is not in its buckets", domtable_name(&t, r));
	}
	/* and every stored name looks up to itself */
	for (i = 0; i < t.n_recs; i++) {
		const struct dom_rec *r = &t.recs[i];
		struct dom_match m;

		assert_int_equal(domtable_lookup(&t, domtable_name(&t, r), &m), 0);
		if (m.rec != r)
			fail_msg("'%s' found '%s'", domtable_name(&t, r),
				 m.rec ? domtable_name(&t, m.rec) : "nothing");
	}

	/* false positives: what the filled words predict, against random keys and names */
	for (i = 0; i < t.bloom_words; i++) {
		double p = __builtin_popcountll(t.bloom[i]) / 64.0;

		expected += p * p * p;
		set += (size_t)__builtin_popcountll(t.bloom[i]);
	}
	expected /= t.bloom_words;
	for (i = 0; i < 8 * MILLION; i++) {
		__u64 k = rnd(&s) | 1;

		fp_keys += (unsigned long)dh_bloom_test(
			t.bloom[dh_bloom_word(k, t.bloom_words - 1)], k);
	}
	/* unlisted names: the two keys of the full name (distinct per name) */
	for (i = 0; i < 2 * MILLION; i++) {
		__u64 keys[DH_MAX_LABELS], k;
		__u32 offs[DH_MAX_LABELS];
		int j;

		gen_name(&s, 1000 * MILLION, q, sizeof(q)); /* other base names */
		assert_true(domtable_suffix_keys(DH_ROOT, q, strlen(q), keys, offs) > 0);
		if (domtable_find(&t, q, false) || domtable_find(&t, q, true))
			continue;
		for (j = 0; j < 2; j++) {
			k = j ? dh_exact(keys[0]) : keys[0];
			fp_names += (unsigned long)dh_bloom_test(
				t.bloom[dh_bloom_word(k, t.bloom_words - 1)], k);
			probes++;
		}
	}
	rate_keys = fp_keys / (8.0 * MILLION);
	rate_names = (double)fp_names / (double)probes;
	var_k = expected * (1 - expected) / (8.0 * MILLION);
	var_n = expected * (1 - expected) / (double)probes;
	print_message("# bloom: %.1f bits/key, %.1f %% of bits set; false positives: %.4f %% "
		      "expected from the fill, %.4f %% on 8M random keys, %.4f %% on %lu keys of "
		      "unlisted names (Poisson theory at exactly 16 bits/key: 0.7884 %%)\n",
		      (double)t.bloom_words * 64 / (double)t.n_keys,
		      100.0 * (double)set / ((double)t.bloom_words * 64), 100 * expected,
		      100 * rate_keys, 100 * rate_names, probes);
	/* within 6 standard deviations (no libm: compare squares) */
	assert_true((rate_keys - expected) * (rate_keys - expected) < 36 * var_k);
	assert_true((rate_names - expected) * (rate_names - expected) < 36 * var_n);
	assert_true(expected < 0.01);

	/* hash quality: no two distinct suffixes (or exact names) of the set share a key */
	{
		const char **v = malloc(t.n_recs * sizeof(*v));
		size_t d;

		assert_non_null(v);
		for (i = 0; i < t.n_recs; i++)
			v[i] = domtable_name(&t, &t.recs[i]);
		d = assert_no_collisions(v, t.n_recs, "generated");
		print_message("# generated: %zu distinct keys (suffixes and exact), no collision\n",
			      d);
		free(v);
	}
	domtable_free(&t);
	free(pool);
	free(names);
}

/* Sequential names are where weak hashes fail. */
static void test_sequential_names(void **state)
{
	const size_t n = 400000;
	char *pool = malloc(n * 2 * 48), **v = malloc(n * 2 * sizeof(*v));
	size_t i, off = 0, d;
	struct domtable t;

	(void)state;
	assert_non_null(pool);
	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[2 * i] = pool + off;
		off += (size_t)sprintf(pool + off, "%zu.example.com", i) + 1;
		v[2 * i + 1] = pool + off;
		off += (size_t)sprintf(pool + off, "host-%08zu-long-label.cdn%zu.net", i, i % 97) +
		       1;
	}
	d = assert_no_collisions((const char *const *)v, 2 * n, "sequential");
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	for (i = 0; i < 2 * n; i++)
		add(&t, v[i], 0, 0, 0, 0);
	build(&t);
	assert_int_equal(t.n_keys, 2 * n);
	assert_int_equal(t.rebuilds, 0);
	print_message("# sequential: %zu distinct keys, no collision, table at %.0f %% load\n", d,
		      100.0 * t.n_keys / (t.n_buckets * 4.0));
	domtable_free(&t);
	free(pool);
	free(v);
}

/* ---- the real lists ---- */

struct collect {
	char **names;
	size_t n, cap;
	struct domtable *t;
	__u16 list;
};

static int on_entry(void *ctx, const struct reg_entry *e)
{
	struct collect *c = ctx;
	struct dom_entry de = { .name = e->name,
				.exact = !!(e->flags & REG_F_EXACT),
				.allow = !!(e->flags & REG_F_ALLOW),
				.list_id = c->list,
				.category = c->list };
	int err;

	if (e->kind != REG_DOMAIN)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->names = realloc(c->names, c->cap * sizeof(*c->names));
		if (!c->names)
			return -ENOMEM;
	}
	c->names[c->n] = strdup(e->name);
	if (!c->names[c->n])
		return -ENOMEM;
	c->n++;
	err = domtable_add(c->t, &de);
	return err;
}

static void quiet(void *ctx, enum diag_severity sev, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)sev;
	(void)file;
	(void)line;
	(void)msg;
}

static void test_real_lists(void **state)
{
	static const char *const files[] = {
		"ut1_games.domains",	   "ut1_gambling.domains",
		"ut1_doh.domains",	   "ut1_dating.domains",
		"ut1_mixed_adult.domains", "stevenblack_unified_hosts_2024-05-28.txt.gz"
	};
	const char *shared = getenv("BPFGUARD_SHARED");
	struct collect c = { 0 };
	struct domtable t;
	size_t i, d, found = 0;

	(void)state;
	if (!shared || !*shared)
		shared = "../shared";
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	c.t = &t;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		struct diag diag = { .cb = quiet };
		struct reg_stats st;
		char path[512];
		int err;

		snprintf(path, sizeof(path), "%s/data/lists/%s", shared, files[i]);
		c.list = (__u16)i;
		err = registry_parse_file(path, on_entry, &c, &diag, &st);
		if (err)
			fail_msg("%s: %s (set BPFGUARD_SHARED to the shared/ directory)", path,
				 strerror(-err));
	}
	build(&t);
	d = assert_no_collisions((const char *const *)c.names, c.n, "real lists");
	assert_int_equal(t.n_shared, 0);
	for (i = 0; i < c.n; i++) {
		struct dom_match m;

		assert_int_equal(domtable_lookup(&t, c.names[i], &m), 0);
		assert_non_null(m.rec);
		/* the name itself or a listed parent decides; the record is confirmed by name */
		assert_string_equal(domtable_name(&t, m.rec), m.name + m.suffix_off);
		found += m.suffix_off == 0;
	}
	print_message("# real lists: %zu names (%zu distinct), %zu distinct keys with suffixes, "
		      "no collision; %zu decided by their own entry, %zu by a listed parent; "
		      "kernel %.1f MB\n",
		      c.n, t.n_recs, d, found, c.n - found, domtable_kernel_bytes(&t) / 1e6);
	assert_true(t.n_recs > 200000);
	print_message("# real lists: %zu keys end the walk (nothing listed below them)\n",
		      check_last_flags(&t));
	for (i = 0; i < c.n; i++)
		free(c.names[i]);
	free(c.names);
	domtable_free(&t);
}

/* ---- the cuckoo table when it fills up ---- */

static void test_cuckoo_full(void **state)
{
	char name[64];
	struct domtable t;
	size_t i;

	(void)state;
	/* 100 % nominal load: a 2-choice 4-way table cannot hold it, so the table doubles */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	t.max_load_pct = 100;
	for (i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "n%zu.example", i);
		add(&t, name, 0, 0, 0, 1);
	}
	build(&t);
	print_message("# cuckoo at 100 %% nominal load: %u rebuilds, %u buckets\n", t.rebuilds,
		      t.n_buckets);
	assert_true(t.rebuilds >= 1);
	assert_int_equal(t.n_buckets, (1024u << t.rebuilds));
	for (i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "a.n%zu.example", i);
		expect_match(&t, name, name + 2, false, false, 2);
	}
	domtable_free(&t);

	/* without displacements, the first full pair of buckets forces a doubling */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	t.max_kicks = 0;
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "k%zu.example", i);
		add(&t, name, 0, 0, 0, 1);
	}
	build(&t);
	assert_true(t.rebuilds >= 1);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "k%zu.example", i);
		expect_match(&t, name, name, false, false, 2);
	}
	domtable_free(&t);
}

/*
 * Nine names whose keys share both buckets at every table size up to 64 times the nominal
 * one (low 8 bits and bits 32..39 equal): no table can hold them, the build gives up.
 */
static void test_cuckoo_gives_up(void **state)
{
	__u64 keys[DH_MAX_LABELS], want = 0;
	__u32 offs[DH_MAX_LABELS];
	char name[64];
	struct domtable t;
	int found = 0;
	size_t i;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	for (i = 0; found < 9; i++) {
		int len = snprintf(name, sizeof(name), "c%zu.example", i);

		assert_true(domtable_suffix_keys(DH_ROOT, name, (size_t)len, keys, offs) > 0);
		if (!found)
			want = keys[0] & 0x000000ff000000ffull;
		if ((keys[0] & 0x000000ff000000ffull) != want)
			continue;
		add(&t, name, 0, 0, 0, 1);
		found++;
	}
	assert_int_equal(domtable_build(&t), -ENOSPC);
	assert_int_equal(t.rebuilds, 6);
	domtable_free(&t);
}

/* ---- a 64-bit collision made on purpose ---- */

/* The inverse of dh_label for an 8-byte label: the word whose hash is h. */
static __u64 label8_inverse(__u64 h)
{
	__u64 inv = DH_K_LABEL, x;
	int i;

	for (i = 0; i < 6; i++)
		inv *= 2 - DH_K_LABEL * inv; /* Newton: the inverse of K modulo 2^64 */
	x = h ^ (h >> 29) ^ (h >> 58); /* undo h ^= h >> 29 */
	return (x * inv) ^ 8; /* undo the multiply and the length seed */
}

static void test_crafted_collision(void **state)
{
	__u64 keys[DH_MAX_LABELS], kp1[DH_MAX_LABELS], kp2[DH_MAX_LABELS];
	__u32 offs[DH_MAX_LABELS];
	char victim[64], crafted[64];
	const struct dom_rec *ra, *rb, *d;
	struct domtable t;
	struct dom_match m;
	int i, ok = 0;

	(void)state;
	assert_int_equal(domtable_suffix_keys(DH_ROOT, "example.com", 11, kp1, offs), 2);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, "example.org", 11, kp2, offs), 2);
	for (i = 0; i < 1000 && !ok; i++) {
		__u64 target, w;
		int j;

		snprintf(victim, sizeof(victim), "victim%d.example.org", i);
		assert_true(domtable_suffix_keys(DH_ROOT, victim, strlen(victim), keys, offs) > 0);
		/* S(x.example.com) == S(victim.example.org) iff L(x) == target */
		target = kp1[0] ^ kp2[0] ^
			 dh_label_bytes((const __u8 *)victim, (__u32)strcspn(victim, "."));
		w = label8_inverse(target);
		ok = 1;
		for (j = 0; j < 8; j++) {
			unsigned char c = (unsigned char)(w >> (8 * j));

			if (c == 0 || c == '.' || (c >= 'A' && c <= 'Z'))
				ok = 0;
			crafted[j] = (char)c;
		}
		strcpy(crafted + 8, ".example.com");
	}
	assert_true(ok);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, crafted, strlen(crafted), kp1, offs), 3);
	assert_int_equal(domtable_suffix_keys(DH_ROOT, victim, strlen(victim), kp2, offs), 3);
	assert_true(kp1[0] == kp2[0]); /* one key, two names */
	/* another root: the crafted name no longer collides */
	assert_int_equal(domtable_suffix_keys(7, crafted, strlen(crafted), kp1, offs), 3);
	assert_int_equal(domtable_suffix_keys(7, victim, strlen(victim), kp2, offs), 3);
	assert_true(kp1[0] != kp2[0]);

	/* both listed: both kept, the key's leaf fails closed (block wins over allow) */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, crafted, 0, 0, 0, 9);
	add(&t, victim, 0, 1, 1, 0);
	build(&t);
	assert_int_equal(t.n_shared, 2);
	assert_int_equal(t.n_keys, 1);
	ra = domtable_find(&t, crafted, false);
	rb = domtable_find(&t, victim, false);
	assert_non_null(ra);
	assert_non_null(rb);
	assert_true(ra != rb && (ra->flags & DOMT_F_SHARED) && (rb->flags & DOMT_F_SHARED));
	assert_int_equal(ra->leaf, rb->leaf);
	assert_true(t.leaves[ra->leaf].block_cats == 1ull << 9);
	assert_int_equal(t.leaves[ra->leaf].flags, 0);
	assert_int_equal(domtable_lookup(&t, victim, &m), 0);
	assert_true(m.rec == rb); /* confirmed by name: the victim's own record */
	d = domtable_decider(&t, &m, 1ull << 9);
	assert_true(d == rb);
	domtable_free(&t);

	/*
	 * only the crafted name listed: the walk stops at example.org, which no listed name ends
	 * with (maps/domain.h, "Nodes"): the shared key is never probed. Its first and only bloom
	 * word: no entry is a one-label name, so org's is not read (DOM_CFG_F_TLD).
	 */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, crafted, 0, 0, 0, 9);
	build(&t);
	assert_int_equal(domtable_lookup(&t, victim, &m), 0);
	assert_int_equal(m.leaf, DOM_LEAF_NONE);
	assert_int_equal(m.bloom_probes, 1);
	domtable_free(&t);

	/* and a name under example.org: the walk reaches the victim, a false match */
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	add(&t, crafted, 0, 0, 0, 9);
	add(&t, "other.example.org", 0, 0, 0, 3);
	build(&t);
	assert_int_equal(domtable_lookup(&t, victim, &m), 0);
	assert_int_not_equal(m.leaf, DOM_LEAF_NONE); /* the kernel would block it */
	assert_int_equal(m.bloom_probes, 2); /* example.org, then the victim */
	assert_null(m.rec);
	assert_non_null(m.key_rec);
	assert_string_equal(domtable_name(&t, m.key_rec), crafted);
	assert_int_equal(m.suffix_off, 0);
	domtable_free(&t);

	/* with a random root, the same two names do not meet */
	assert_int_equal(domtable_init(&t, 0x0123456789abcdefull), 0);
	add(&t, crafted, 0, 0, 0, 9);
	build(&t);
	expect_none(&t, victim);
	domtable_free(&t);
}

static void test_kernel_bytes(void **state)
{
	struct domtable t;
	char name[64];
	int i;

	(void)state;
	assert_int_equal(domtable_init(&t, DH_ROOT), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "s%d.example", i);
		add(&t, name, i % 3 == 0, i % 5 == 0, i % 3, i % 64);
	}
	build(&t);
	/*
	 * 10000 keys and 3335 inner nodes (the names of the 3334 exact-only entries, and
	 * "example"): (2 * 10000 + 3335) * 16 bits -> 8192 words; 10000 / 3.4 -> 4096 buckets
	 */
	assert_true(t.n_inner > 3200 && t.n_inner < 3500);
	assert_int_equal(t.bloom_words, 8192);
	assert_int_equal(t.n_buckets, 4096);
	assert_true(t.n_leaves > 1 && t.n_leaves < 10000); /* deduplicated */
	assert_int_equal(domtable_kernel_bytes(&t), 8192 * 8 + 4096 * 48 + (size_t)t.n_leaves * 16);
	assert_true(domtable_host_bytes(&t) > domtable_kernel_bytes(&t));
	/* leaf 0 is nobody's */
	for (i = 0; i < (int)t.n_recs; i++)
		assert_int_not_equal(t.recs[i].leaf, DOM_LEAF_NONE);
	domtable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower8),
		cmocka_unit_test(test_label_forms_agree),
		cmocka_unit_test(test_short_labels_distinct),
		cmocka_unit_test(test_suffix_chain),
		cmocka_unit_test(test_bucket_find),
		cmocka_unit_test(test_label_boundaries),
		cmocka_unit_test(test_tld_entry),
		cmocka_unit_test(test_walk_end),
		cmocka_unit_test(test_most_specific),
		cmocka_unit_test(test_allow_beats_block),
		cmocka_unit_test(test_exact_entries),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_add_errors),
		cmocka_unit_test(test_categories_and_decider),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_sequential_names),
		cmocka_unit_test(test_real_lists),
		cmocka_unit_test(test_cuckoo_full),
		cmocka_unit_test(test_cuckoo_gives_up),
		cmocka_unit_test(test_crafted_collision),
		cmocka_unit_test(test_kernel_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
