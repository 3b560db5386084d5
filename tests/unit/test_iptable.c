// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/iptable.c: the 16-8-8 array trie and the IPv6 overflow trie against a
 * brute-force reference (every covering prefix, shortest first), on hand-picked and random sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "user/iptable.h"

static struct ipt_entry mk(const char *cidr, int dir, int allow, int list, int cat)
{
	struct ipt_entry e = { 0 };
	const char *why;

	assert_int_equal(ip_prefix_parse(cidr, &e.prefix, false, &why), 0);
	e.dir = dir;
	e.allow = allow;
	e.list_id = list;
	e.category = cat;
	return e;
}

static __u8 *addr_of(const char *s, __u8 *buf)
{
	struct ip_prefix p;
	const char *why;

	assert_int_equal(ip_prefix_parse(s, &p, false, &why), 0);
	memcpy(buf, p.addr, 16);
	return buf;
}

/* The reference: apply every covering prefix, shortest first, as the builder's rule says. */
static struct ip_leaf reference(const struct ipt_entry *e, size_t n, int family, int dir,
				const __u8 *a, int *found)
{
	struct ip_leaf l = { 0 };
	int L, max = family == 4 ? 32 : 128;

	*found = 0;
	for (L = 0; L <= max; L++) {
		int allow = 0, any = 0, first_allow = 0xffff, first_block = 0xffff;
		__u64 cats = 0;
		size_t i;

		for (i = 0; i < n; i++) {
			if (e[i].prefix.family != family || e[i].dir != dir ||
			    e[i].prefix.plen != L || !ip_prefix_covers(&e[i].prefix, a))
				continue;
			any = 1;
			if (e[i].allow) {
				allow = 1;
				if (e[i].list_id < first_allow)
					first_allow = e[i].list_id;
			} else {
				cats |= 1ull << e[i].category;
				if (e[i].list_id < first_block)
					first_block = e[i].list_id;
			}
		}
		if (!any)
			continue;
		*found = 1;
		if (allow) {
			l.block_cats = 0;
			l.flags = IP_LEAF_F_ALLOW;
			l.list_id = first_allow;
		} else {
			l.block_cats |= cats;
			l.list_id = first_block;
		}
	}
	return l;
}

static void check_addr(const struct iptable *t, const struct ipt_entry *e, size_t n, int family,
		       int dir, const __u8 *a)
{
	int found;
	struct ip_leaf want = reference(e, n, family, dir, a, &found);
	__u32 id = iptable_lookup(t, family, dir, a);

	if (!found) {
		assert_int_equal(id, IPT_LEAF_NONE);
		assert_null(iptable_match(t, family, dir, a));
		return;
	}
	assert_int_not_equal(id, IPT_LEAF_NONE);
	assert_true(id < t->n_leaves);
	assert_int_equal(t->leaves[id].block_cats, want.block_cats);
	assert_int_equal(t->leaves[id].flags, want.flags);
	assert_int_equal(t->leaves[id].list_id, want.list_id);
	assert_non_null(iptable_match(t, family, dir, a));
}

static void test_basic_v4(void **state)
{
	struct ipt_entry e[] = {
		mk("192.0.2.0/24", IPT_DIR_DST, 0, 0, 1),
		mk("192.0.2.128/25", IPT_DIR_DST, 0, 1, 2),
		mk("192.0.2.200/32", IPT_DIR_DST, 1, 2, 3),
		mk("198.51.0.0/16", IPT_DIR_DST, 0, 3, 4),
		mk("203.0.113.7/32", IPT_DIR_SRC, 0, 4, 5),
	};
	struct iptable t;
	const struct ipt_prefix *m;
	__u8 a[16];
	__u32 id;

	(void)state;
	assert_int_equal(iptable_init(&t), 0);
	assert_int_equal(iptable_build(&t, e, ARRAY_SIZE(e)), 0);
	assert_true(t.has_src);
	assert_int_equal(t.n_prefixes, 5);

	id = iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.2.1", a));
	assert_int_equal(t.leaves[id].block_cats, 1ull << 1);
	id = iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.2.129", a));
	assert_int_equal(t.leaves[id].block_cats, (1ull << 1) | (1ull << 2));
	assert_int_equal(t.leaves[id].list_id, 1);
	id = iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.2.200", a));
	assert_int_equal(t.leaves[id].block_cats, 0);
	assert_int_equal(t.leaves[id].flags, IP_LEAF_F_ALLOW);
	m = iptable_match(&t, 4, IPT_DIR_DST, a);
	assert_non_null(m);
	assert_int_equal(m->prefix.plen, 32);
	assert_int_equal(iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.3.1", a)), 0);
	assert_int_not_equal(iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("198.51.255.255", a)), 0);
	/* a source-only prefix does not match as a destination */
	assert_int_equal(iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("203.0.113.7", a)), 0);
	assert_int_not_equal(iptable_lookup(&t, 4, IPT_DIR_SRC, addr_of("203.0.113.7", a)), 0);
	iptable_free(&t);
}

static void test_same_prefix_many_lists(void **state)
{
	struct ipt_entry e[] = {
		mk("192.0.2.0/24", IPT_DIR_DST, 0, 5, 7),
		mk("192.0.2.0/24", IPT_DIR_DST, 0, 2, 9),
		mk("192.0.2.0/24", IPT_DIR_DST, 0, 2, 9),
	};
	struct iptable t;
	__u8 a[16];
	__u32 id;

	(void)state;
	assert_int_equal(iptable_init(&t), 0);
	assert_int_equal(iptable_build(&t, e, ARRAY_SIZE(e)), 0);
	assert_int_equal(t.n_prefixes, 1);
	assert_int_equal(t.prefixes[0].n_lists, 2);
	id = iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.2.9", a));
	assert_int_equal(t.leaves[id].block_cats, (1ull << 7) | (1ull << 9));
	assert_int_equal(t.leaves[id].list_id, 2);
	/* allow beats block at the same prefix */
	e[1].allow = 1;
	assert_int_equal(iptable_build(&t, e, ARRAY_SIZE(e)), 0);
	id = iptable_lookup(&t, 4, IPT_DIR_DST, addr_of("192.0.2.9", a));
	assert_int_equal(t.leaves[id].flags, IP_LEAF_F_ALLOW);
	assert_int_equal(t.leaves[id].block_cats, 0);
	iptable_free(&t);
}

static void test_v6_trie(void **state)
{
	struct ipt_entry e[] = {
		mk("2001:db8::/32", IPT_DIR_DST, 0, 0, 1),
		mk("2001:db8:3::/64", IPT_DIR_DST, 0, 1, 2),
		mk("2001:db8:3::20/128", IPT_DIR_DST, 1, 2, 0),
		mk("2001::/16", IPT_DIR_DST, 0, 3, 3),
		mk("2001:db8:ff00::/40", IPT_DIR_DST, 0, 4, 4),
	};
	struct iptable t;
	__u8 a[16];
	__u32 id;

	(void)state;
	assert_int_equal(iptable_init(&t), 0);
	assert_int_equal(iptable_build(&t, e, ARRAY_SIZE(e)), 0);
	assert_int_equal(t.n_v6_rules, 4); /* /32, /64, /128, /40 are longer than /24 */
	id = iptable_lookup(&t, 6, IPT_DIR_DST, addr_of("2001:db8:3::20", a));
	assert_int_equal(t.leaves[id].flags, IP_LEAF_F_ALLOW);
	id = iptable_lookup(&t, 6, IPT_DIR_DST, addr_of("2001:db8:3::21", a));
	assert_int_equal(t.leaves[id].block_cats, (1ull << 1) | (1ull << 2) | (1ull << 3));
	id = iptable_lookup(&t, 6, IPT_DIR_DST, addr_of("2001:db9::1", a));
	assert_int_equal(t.leaves[id].block_cats, 1ull << 3);
	assert_int_equal(iptable_lookup(&t, 6, IPT_DIR_DST, addr_of("2002::1", a)), 0);
	iptable_free(&t);
}

static void random_prefix(struct ipt_entry *e, int family, unsigned int *seed)
{
	int i, max = family == 4 ? 32 : 128;

	memset(e, 0, sizeof(*e));
	e->prefix.family = family;
	/* a small address space, so prefixes overlap and nest a lot */
	if (family == 4) {
		e->prefix.addr[0] = 198;
		e->prefix.addr[1] = 51 + rand_r(seed) % 2;
		e->prefix.addr[2] = rand_r(seed) % 4;
		e->prefix.addr[3] = rand_r(seed) % 256;
		e->prefix.plen = 8 + rand_r(seed) % 25;
	} else {
		e->prefix.addr[0] = 0x20;
		e->prefix.addr[1] = 0x01;
		e->prefix.addr[2] = rand_r(seed) % 2;
		e->prefix.addr[3] = 0xb8;
		for (i = 4; i < 16; i++)
			e->prefix.addr[i] = rand_r(seed) % 3;
		e->prefix.plen = 8 + rand_r(seed) % 121;
	}
	for (i = 0; i < max / 8; i++) {
		int bits = e->prefix.plen - i * 8;

		e->prefix.addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits));
	}
	e->dir = rand_r(seed) % 5 == 0 ? IPT_DIR_SRC : IPT_DIR_DST;
	e->allow = rand_r(seed) % 6 == 0;
	e->list_id = rand_r(seed) % 8;
	e->category = rand_r(seed) % 64;
}

static void test_random_against_reference(void **state)
{
	enum { N = 400, Q = 3000 };
	struct ipt_entry *e = calloc(N, sizeof(*e));
	unsigned int seed = 12345;
	struct iptable t;
	int round, q, i;

	(void)state;
	assert_non_null(e);
	assert_int_equal(iptable_init(&t), 0);
	for (round = 0; round < 6; round++) {
		int family = round % 2 ? 6 : 4;

		for (i = 0; i < N; i++)
			random_prefix(&e[i], family, &seed);
		assert_int_equal(iptable_build(&t, e, N), 0);
		for (q = 0; q < Q; q++) {
			struct ipt_entry probe;
			__u8 a[16];

			/* an address inside a random listed prefix, or near one */
			random_prefix(&probe, family, &seed);
			memcpy(a, e[rand_r(&seed) % N].prefix.addr, 16);
			if (q % 3 == 0)
				memcpy(a, probe.prefix.addr, 16);
			a[family == 4 ? 3 : 15] ^= (__u8)(rand_r(&seed) % 4);
			check_addr(&t, e, N, family, IPT_DIR_DST, a);
			check_addr(&t, e, N, family, IPT_DIR_SRC, a);
		}
	}
	iptable_free(&t);
	free(e);
}

static void test_empty(void **state)
{
	struct iptable t;
	__u8 a[16] = { 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(iptable_init(&t), 0);
	assert_int_equal(iptable_build(&t, NULL, 0), 0);
	assert_int_equal(iptable_lookup(&t, 4, IPT_DIR_DST, a), 0);
	assert_int_equal(iptable_lookup(&t, 6, IPT_DIR_DST, a), 0);
	assert_false(t.has_src);
	iptable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_v4), cmocka_unit_test(test_same_prefix_many_lists),
		cmocka_unit_test(test_v6_trie),	 cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
