// SPDX-License-Identifier: GPL-2.0-only
/*
 * Builds the IP rule tables of maps/iptable.h in host memory (see iptable.h). Prefixes are
 * merged, sorted by length and painted shortest first, so a prefix always overwrites exactly
 * the entries of its range and every child group starts as copies of its parent entry (leaf
 * pushing): the kernel lookup never backtracks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "user/iptable.h"

#define ROOT_ENTRIES (1u << 16)

static int grow_groups(struct ipt_group **tab, __u32 *cap, __u32 need)
{
	struct ipt_group *n;
	__u32 ncap = *cap ? *cap : IPT_ROOT_GROUPS;

	if (need <= *cap)
		return 0;
	if (need > IPT_PAYLOAD)
		return -E2BIG;
	while (ncap < need)
		ncap = ncap > IPT_PAYLOAD / 2 ? IPT_PAYLOAD : ncap * 2;
	n = realloc(*tab, (size_t)ncap * sizeof(**tab));
	if (!n)
		return -ENOMEM;
	*tab = n;
	*cap = ncap;
	return 0;
}

int iptable_init(struct iptable *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = grow_groups(&t->v4, &t->v4_cap, IPT_ROOT_GROUPS);
	if (!err)
		err = grow_groups(&t->v6, &t->v6_cap, IPT_ROOT_GROUPS);
	if (!err)
		err = khash_init(&t->leaf_index, sizeof(struct ip_leaf), 64);
	if (!err)
		err = khash_init(&t->v6_index, sizeof(struct ipt_v6_key), 64);
	if (err) {
		iptable_free(t);
		return err;
	}
	memset(t->v4, 0, IPT_ROOT_GROUPS * sizeof(*t->v4));
	memset(t->v6, 0, IPT_ROOT_GROUPS * sizeof(*t->v6));
	t->v4_groups = t->v6_groups = IPT_ROOT_GROUPS;
	t->leaves = calloc(16, sizeof(*t->leaves));
	if (!t->leaves) {
		iptable_free(t);
		return -ENOMEM;
	}
	t->cap_leaves = 16;
	t->n_leaves = 1; /* leaf 0 is IPT_LEAF_NONE */
	return 0;
}

void iptable_free(struct iptable *t)
{
	free(t->v4);
	free(t->v4_l3);
	free(t->v4_runs);
	free(t->v6);
	free(t->v6_rules);
	free(t->leaves);
	free(t->prefixes);
	khash_free(&t->leaf_index);
	khash_free(&t->v6_index);
	memset(t, 0, sizeof(*t));
}

static int leaf_id(struct iptable *t, const struct ip_leaf *l, __u32 *id)
{
	__u32 *found = khash_get(&t->leaf_index, l);
	int err;

	if (found) {
		*id = *found;
		return 0;
	}
	if (t->n_leaves >= IPT_PAYLOAD)
		return -E2BIG;
	if (t->n_leaves == t->cap_leaves) {
		struct ip_leaf *n = realloc(t->leaves, 2 * (size_t)t->cap_leaves * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->leaves = n;
		t->cap_leaves *= 2;
	}
	err = khash_put(&t->leaf_index, l, t->n_leaves);
	if (err)
		return err;
	t->leaves[t->n_leaves] = *l;
	*id = t->n_leaves++;
	return 0;
}

/*
 * The child group under entry idx of group g (creating it filled with that entry's leaf);
 * returns its index in *out. Entries are named by (group, index): the table may move.
 */
static int child_group(struct ipt_group **tab, __u32 *n, __u32 *cap, __u32 g, __u32 idx, __u32 *out)
{
	__u32 c, i, fill = (*tab)[g].e[idx];
	int err;

	if (fill & IPT_EXT) {
		*out = fill & IPT_PAYLOAD;
		return 0;
	}
	err = grow_groups(tab, cap, *n + 1);
	if (err)
		return err;
	c = (*n)++;
	for (i = 0; i < IPT_GROUP_ENTRIES; i++)
		(*tab)[c].e[i] = fill;
	(*tab)[g].e[idx] = IPT_EXT | c;
	*out = c;
	return 0;
}

static void paint(__u32 *e, __u32 from, __u32 count, __u32 leaf)
{
	__u32 i;

	for (i = 0; i < count; i++)
		e[from + i] = leaf;
}

/* Paint an IPv4 prefix of length <= 24 (longer ones go to level 3: see build_v4_l3). */
static int paint_v4(struct iptable *t, const struct ipt_prefix *p, __u32 leaf)
{
	const __u8 *a = p->prefix.addr;
	int L = p->prefix.plen;
	__u32 g2;
	int err;

	if (L <= 16) {
		__u32 base = (__u32)p->dir * ROOT_ENTRIES + ((__u32)a[0] << 8 | a[1]);

		paint(&t->v4[0].e[0], base, 1u << (16 - L), leaf);
		return 0;
	}
	err = child_group(&t->v4, &t->v4_groups, &t->v4_cap, p->dir * 256 + a[0], a[1], &g2);
	if (err)
		return err;
	paint(t->v4[g2].e, a[2], 1u << (24 - L), leaf);
	return 0;
}

static int paint_v6(struct iptable *t, const struct ipt_prefix *p, __u32 leaf)
{
	const __u8 *a = p->prefix.addr;
	int L = p->prefix.plen;
	struct ipt_v6_rule *r;
	__u32 g2;
	int err;

	if (L <= 16) {
		__u32 base = (__u32)p->dir * ROOT_ENTRIES + ((__u32)a[0] << 8 | a[1]);

		paint(&t->v6[0].e[0], base, 1u << (16 - L), leaf);
		return 0;
	}
	err = child_group(&t->v6, &t->v6_groups, &t->v6_cap, p->dir * 256 + a[0], a[1], &g2);
	if (err)
		return err;
	if (L <= 24) {
		paint(t->v6[g2].e, a[2], 1u << (24 - L), leaf);
		return 0;
	}
	/* Longer: the LPM trie holds it; the level-2 entry says "look in the trie". */
	t->v6[g2].e[a[2]] |= IPT_EXT;
	if (t->n_v6_rules == t->cap_v6_rules) {
		size_t ncap = t->cap_v6_rules ? t->cap_v6_rules * 2 : 64;

		r = realloc(t->v6_rules, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->v6_rules = r;
		t->cap_v6_rules = ncap;
	}
	r = &t->v6_rules[t->n_v6_rules++];
	memset(r, 0, sizeof(*r));
	r->key.prefixlen = 8 + L;
	r->key.dir = p->dir;
	memcpy(r->key.addr, a, 16);
	r->leaf = leaf;
	t->v6_lens[p->dir][L] = 1;
	return khash_put(&t->v6_index, &r->key, leaf);
}

/* Entry idx of a compressed level-3 group: the value of the run that covers idx. */
static __u32 l3_entry(const struct iptable *t, __u32 cg, __u8 idx)
{
	const struct ipt_cgroup *c = &t->v4_l3[cg];
	__u32 w = idx >> 6, rank;

	rank = c->before[w] +
	       (__u32)__builtin_popcountll(c->bits[w] & (~0ull >> (63 - (idx & 63))));
	return t->v4_runs[c->base + rank - 1];
}

static __u32 lookup_v4(const struct iptable *t, int dir, const __u8 *a)
{
	__u32 e = t->v4[dir * 256 + a[0]].e[a[1]];

	if (e & IPT_EXT)
		e = t->v4[e & IPT_PAYLOAD].e[a[2]];
	if (e & IPT_EXT)
		e = l3_entry(t, e & IPT_PAYLOAD, a[3]);
	return e;
}

static __u32 lookup_v6(const struct iptable *t, int dir, const __u8 *a)
{
	__u32 e = t->v6[dir * 256 + a[0]].e[a[1]];
	struct ipt_v6_key k;
	int L, i;

	if (!(e & IPT_EXT))
		return e;
	e = t->v6[e & IPT_PAYLOAD].e[a[2]];
	if (!(e & IPT_EXT))
		return e;
	/* What the kernel's LPM trie answers: the longest present prefix covering a. */
	for (L = 128; L > 24; L--) {
		__u32 *v;

		if (!t->v6_lens[dir][L])
			continue;
		memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + L;
		k.dir = dir;
		for (i = 0; i < 16; i++) {
			int bits = L - i * 8;

			k.addr[i] = a[i] & (bits >= 8 ? 0xff :
					    bits <= 0 ? 0 :
							(0xff << (8 - bits)));
		}
		v = khash_get(&t->v6_index, &k);
		if (v)
			return *v;
	}
	return e & IPT_PAYLOAD;
}

__u32 iptable_lookup(const struct iptable *t, int family, int dir, const __u8 *addr)
{
	return family == 4 ? lookup_v4(t, dir, addr) : lookup_v6(t, dir, addr);
}

static int cmp_entry(const void *x, const void *y)
{
	const struct ipt_entry *a = x, *b = y;
	int c;

	if (a->prefix.family != b->prefix.family)
		return a->prefix.family - b->prefix.family;
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->prefix.plen != b->prefix.plen)
		return a->prefix.plen - b->prefix.plen;
	c = memcmp(a->prefix.addr, b->prefix.addr, 16);
	if (c)
		return c;
	return (int)a->list_id - (int)b->list_id;
}

static int cmp_prefix_key(const struct ipt_prefix *a, int family, int dir, int plen,
			  const __u8 *addr)
{
	if (a->prefix.family != family)
		return a->prefix.family - family;
	if (a->dir != dir)
		return a->dir - dir;
	if (a->prefix.plen != plen)
		return a->prefix.plen - plen;
	return memcmp(a->prefix.addr, addr, 16);
}

static bool same_prefix(const struct ipt_entry *a, const struct ipt_entry *b)
{
	return a->prefix.family == b->prefix.family && a->dir == b->dir &&
	       a->prefix.plen == b->prefix.plen && !memcmp(a->prefix.addr, b->prefix.addr, 16);
}

/* Merge sorted entries into distinct prefixes: same prefix from several lists, allow wins. */
static int merge(struct iptable *t, const struct ipt_entry *e, size_t n)
{
	size_t i, j;

	t->prefixes = calloc(n ? n : 1, sizeof(*t->prefixes));
	if (!t->prefixes)
		return -ENOMEM;
	for (i = 0; i < n; i = j) {
		struct ipt_prefix *p = &t->prefixes[t->n_prefixes++];
		__u16 first_block = 0xffff, first_allow = 0xffff;

		p->prefix = e[i].prefix;
		p->dir = e[i].dir;
		for (j = i; j < n && same_prefix(&e[i], &e[j]); j++) {
			/* sorted by list within a prefix: count each list once */
			if (j == i || e[j].list_id != e[j - 1].list_id)
				p->n_lists++;
			if (e[j].allow) {
				p->allow = 1;
				if (e[j].list_id < first_allow)
					first_allow = e[j].list_id;
			} else {
				p->block_cats |= 1ull << (e[j].category & 63);
				if (e[j].list_id < first_block)
					first_block = e[j].list_id;
			}
		}
		p->list_id = p->allow ? first_allow : first_block;
		if (p->dir == IPT_DIR_SRC)
			t->has_src = true;
		if (p->dir == IPT_DIR_CLIENT)
			t->has_client = true;
	}
	return 0;
}

/* The leaf of p given the leaf covering it so far (its parent): see ip_leaf's rule. */
static int make_leaf(struct iptable *t, struct ipt_prefix *p, __u32 parent)
{
	struct ip_leaf l = { 0 };

	if (parent & IPT_EXT)
		parent = IPT_LEAF_NONE; /* cannot happen in length order; be safe */
	if (p->dir == IPT_DIR_CLIENT) {
		/* a client prefix: the most specific one names the group, nothing is inherited */
		l.flags = IP_LEAF_F_GROUP;
	} else if (p->allow) {
		l.flags = IP_LEAF_F_ALLOW;
	} else {
		if (parent != IPT_LEAF_NONE) {
			l.block_cats = t->leaves[parent].block_cats;
			l.flags = t->leaves[parent].flags;
		}
		l.block_cats |= p->block_cats;
	}
	l.list_id = p->list_id;
	return leaf_id(t, &l, &p->leaf);
}

/* Order of IPv4 prefixes longer than /24: by direction and /24, then by length. */
static int cmp_l3(const void *x, const void *y, void *arg)
{
	const struct ipt_prefix *pf = arg;
	const struct ipt_prefix *a = &pf[*(const __u32 *)x], *b = &pf[*(const __u32 *)y];
	int c;

	if (a->dir != b->dir)
		return a->dir - b->dir;
	c = memcmp(a->prefix.addr, b->prefix.addr, 3);
	if (c)
		return c;
	if (a->prefix.plen != b->prefix.plen)
		return a->prefix.plen - b->prefix.plen;
	return a->prefix.addr[3] - b->prefix.addr[3];
}

/* Append one compressed level-3 group made of the 256 entries e; its index in *cg. */
static int compress_l3(struct iptable *t, const __u32 *e, __u32 *cg)
{
	struct ipt_cgroup *c;
	__u32 i;

	if (t->n_v4_l3 == t->cap_v4_l3) {
		__u32 ncap = t->cap_v4_l3 ? t->cap_v4_l3 * 2 : 256;

		c = realloc(t->v4_l3, (size_t)ncap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->v4_l3 = c;
		t->cap_v4_l3 = ncap;
	}
	if (t->n_v4_l3 >= IPT_PAYLOAD)
		return -E2BIG;
	/* room for 256 more runs, the most one group can add */
	if (t->n_v4_runs + IPT_GROUP_ENTRIES > t->cap_v4_runs) {
		__u32 ncap = t->cap_v4_runs ? t->cap_v4_runs * 2 : 4096;
		__u32 *r = realloc(t->v4_runs, (size_t)ncap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		t->v4_runs = r;
		t->cap_v4_runs = ncap;
	}
	c = &t->v4_l3[t->n_v4_l3];
	memset(c, 0, sizeof(*c));
	c->base = t->n_v4_runs;
	for (i = 0; i < IPT_GROUP_ENTRIES; i++) {
		if (i && e[i] == e[i - 1])
			continue;
		c->bits[i >> 6] |= 1ull << (i & 63);
		t->v4_runs[t->n_v4_runs++] = e[i];
	}
	for (i = 1; i < 4; i++)
		c->before[i] = (__u8)(c->before[i - 1] + __builtin_popcountll(c->bits[i - 1]));
	*cg = t->n_v4_l3++;
	return 0;
}

/*
 * Level 3 of IPv4: for each /24 holding longer prefixes, paint them (shortest first) over
 * 256 copies of the /24's entry, then store the result run-length compressed. A /24 with one
 * /32 costs 48 bytes instead of a 1 KB group: a million listed hosts fit in ~60 MB.
 */
static int build_v4_l3(struct iptable *t, __u32 *idx, size_t n)
{
	__u32 e[IPT_GROUP_ENTRIES];
	size_t i, j;
	int err;

	qsort_r(idx, n, sizeof(*idx), cmp_l3, t->prefixes);
	for (i = 0; i < n; i = j) {
		const struct ipt_prefix *first = &t->prefixes[idx[i]];
		const __u8 *a = first->prefix.addr;
		__u32 g2, cg, k, fill;

		err = child_group(&t->v4, &t->v4_groups, &t->v4_cap, first->dir * 256 + a[0], a[1],
				  &g2);
		if (err)
			return err;
		fill = t->v4[g2].e[a[2]];
		for (k = 0; k < IPT_GROUP_ENTRIES; k++)
			e[k] = fill;
		for (j = i; j < n; j++) {
			struct ipt_prefix *p = &t->prefixes[idx[j]];

			if (p->dir != first->dir || memcmp(p->prefix.addr, a, 3))
				break;
			err = make_leaf(t, p, e[p->prefix.addr[3]]);
			if (err)
				return err;
			paint(e, p->prefix.addr[3], 1u << (32 - p->prefix.plen), p->leaf);
		}
		err = compress_l3(t, e, &cg);
		if (err)
			return err;
		t->v4[g2].e[a[2]] = IPT_EXT | cg;
	}
	return 0;
}

int iptable_build(struct iptable *t, const struct ipt_entry *entries, size_t n)
{
	struct ipt_entry *copy = malloc((n ? n : 1) * sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	memcpy(copy, entries, n * sizeof(*copy));
	return iptable_build_take(t, copy, n);
}

int iptable_build_take(struct iptable *t, struct ipt_entry *sorted, size_t n)
{
	__u32 *deferred = NULL;
	size_t i, n_deferred = 0;
	int err;

	iptable_free(t);
	err = iptable_init(t);
	if (err) {
		free(sorted);
		return err;
	}
	t->n_entries = n;
	for (i = 0; i < n; i++) {
		/* normalise: host bits and the unused tail of a v4 address are zero */
		struct ip_prefix *p = &sorted[i].prefix;
		int b;

		for (b = 0; b < 16; b++) {
			int bits = p->plen - b * 8;

			p->addr[b] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits));
		}
	}
	qsort(sorted, n, sizeof(*sorted), cmp_entry);
	err = merge(t, sorted, n);
	/* merged into t->prefixes: the entries would only add to the peak of the paint */
	free(sorted);
	sorted = NULL;
	if (err)
		goto cleanup;

	/*
	 * t->prefixes is sorted by length within each (family, dir): paint in that order, so a
	 * prefix's parent is whatever the table says at its address when its turn comes. IPv4
	 * prefixes longer than /24 wait until every shorter one is painted (build_v4_l3).
	 */
	deferred = malloc((t->n_prefixes ? t->n_prefixes : 1) * sizeof(*deferred));
	if (!deferred) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < t->n_prefixes; i++) {
		struct ipt_prefix *p = &t->prefixes[i];

		if (p->prefix.family == 4 && p->prefix.plen > 24) {
			deferred[n_deferred++] = (__u32)i;
			continue;
		}
		err = make_leaf(t, p, iptable_lookup(t, p->prefix.family, p->dir, p->prefix.addr));
		if (!err)
			err = p->prefix.family == 4 ? paint_v4(t, p, p->leaf) :
						      paint_v6(t, p, p->leaf);
		if (err)
			goto cleanup;
	}
	err = build_v4_l3(t, deferred, n_deferred);
cleanup:
	free(deferred);
	return err;
}

const struct ipt_prefix *iptable_match(const struct iptable *t, int family, int dir,
				       const __u8 *addr)
{
	int L, max = family == 4 ? 32 : 128;
	__u8 m[16];

	for (L = max; L >= 0; L--) {
		size_t lo = 0, hi = t->n_prefixes;
		int i;

		memset(m, 0, sizeof(m));
		for (i = 0; i < max / 8; i++) {
			int bits = L - i * 8;

			m[i] = addr[i] & (bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)));
		}
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = cmp_prefix_key(&t->prefixes[mid], family, dir, L, m);

			if (c == 0)
				return &t->prefixes[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}

size_t iptable_kernel_bytes(const struct iptable *t)
{
	/* An LPM trie node is about 48 bytes of header + key + value, and a trie of n leaves
	 * has up to n - 1 intermediate nodes: estimate 2 nodes a rule. */
	return (size_t)t->v4_groups * sizeof(struct ipt_group) +
	       (size_t)t->n_v4_l3 * sizeof(struct ipt_cgroup) +
	       (size_t)t->n_v4_runs * sizeof(__u32) +
	       (size_t)t->v6_groups * sizeof(struct ipt_group) +
	       t->n_v6_rules * 2 * (48 + sizeof(struct ipt_v6_key) + sizeof(__u32)) +
	       (size_t)t->n_leaves * sizeof(struct ip_leaf);
}
