// SPDX-License-Identifier: GPL-2.0-only
/*
 * Builds the domain tables of maps/domain.h in host memory (see domtable.h). Adding an entry
 * hashes its name once and merges it into its record through an open-addressing index keyed by
 * the 64-bit key (names compared, so distinct names sharing a key are found). Building fills
 * the bloom filter (each stored key's two masks, and the node mask of every suffix above it,
 * sized by an estimate of those suffixes), works out each record's leaf from its own entries,
 * the subtree entry at the same name and its ancestors (found through the bloom filter first,
 * so most ancestor probes cost no memory read), fills the cuckoo table, and sorts the records
 * by key in place for the lookups of `check`.
 *
 * Speed: a 1M-name index is far bigger than the caches, and a lookup in it is a cache miss.
 * Adds wait DOMT_PENDING adds before merging (their slot prefetched meanwhile), and the leaves
 * are worked out LEAF_BATCH records at a time with the memory they read prefetched first: 1M
 * names add and build in about 0.6 s here (tests/unit/test_domtable.c prints it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "user/domtable.h"

#define INDEX_MIN 1024
#define DEFAULT_MAX_LOAD_PCT 85
#define DEFAULT_MAX_KICKS 500
#define MAX_BUCKETS (1u << 31)
#define MAX_REBUILDS 6 /* doublings of the table after failed insertions */
#define RNG_SEED 0x2545f4914f6cdd1dull
#define SORT_SMALL 16 /* ranges of the record sort up to this size: insertion sort */
/* room for the name, its NUL and the 8 readable bytes dh_label() wants past a label */
#define NAME_BUF (DH_MAX_NAME + 1 + 8)

static __u64 pow2_at_least(__u64 n)
{
	__u64 p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * Lower-case name[0..len) into buf (NAME_BUF bytes, zero tail), split it into labels and
 * compute the key of every suffix, right to left: keys[i] is the key of the suffix starting at
 * offs[i], i = 0 the whole name. Returns the number of labels, -EINVAL (empty name or label, a
 * NUL inside) or -ENAMETOOLONG (too long a name or label, too many labels).
 */
static int name_keys(__u64 root, const char *name, size_t len, char *buf, __u64 *keys, __u32 *offs)
{
	__u8 lens[DH_MAX_LABELS];
	size_t i, start = 0;
	int n = 0, j;
	__u64 s;

	if (len == 0)
		return -EINVAL;
	if (len > DH_MAX_NAME)
		return -ENAMETOOLONG;
	for (i = 0; i <= len; i++) {
		char c = i < len ? name[i] : '.';

		if (c == '.') {
			if (i == start)
				return -EINVAL;
			if (i - start > DH_MAX_LABEL || n == DH_MAX_LABELS)
				return -ENAMETOOLONG;
			offs[n] = (__u32)start;
			lens[n++] = (__u8)(i - start);
			start = i + 1;
			if (i < len)
				buf[i] = '.';
			continue;
		}
		if (c == '\0')
			return -EINVAL;
		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	memset(buf + len, 0, NAME_BUF - len);
	s = root;
	for (j = n - 1; j >= 0; j--) {
		s = dh_suffix(s, dh_label((const __u8 *)buf + offs[j], lens[j]));
		keys[j] = s;
	}
	return n;
}

int domtable_suffix_keys(__u64 root, const char *name, size_t len, __u64 *keys, __u32 *offs)
{
	char buf[NAME_BUF];

	return name_keys(root, name, len, buf, keys, offs);
}

/*
 * The same for a stored name (lower case and valid already): hashed in place in the arena,
 * whose slack past the last name gives dh_label() its readable tail.
 */
static int stored_keys(const struct domtable *t, const struct dom_rec *r, __u64 *keys, __u32 *offs)
{
	const __u8 *name = (const __u8 *)t->names + r->name_off;
	__u32 i, end = r->name_len;
	int n = 0, j;
	__u64 s = t->root;

	offs[n++] = 0;
	for (i = 0; i < end; i++)
		if (name[i] == '.')
			offs[n++] = i + 1;
	for (j = n - 1; j >= 0; j--) {
		s = dh_suffix(s, dh_label(name + offs[j], end - offs[j]));
		keys[j] = s;
		end = offs[j] - 1;
	}
	return n;
}

int domtable_init(struct domtable *t, __u64 root)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->root = root;
	t->max_load_pct = DEFAULT_MAX_LOAD_PCT;
	t->max_kicks = DEFAULT_MAX_KICKS;
	t->index = calloc(INDEX_MIN, sizeof(*t->index));
	if (!t->index)
		return -ENOMEM;
	t->index_cap = INDEX_MIN;
	t->pending = calloc(DOMT_PENDING, sizeof(*t->pending));
	if (!t->pending) {
		domtable_free(t);
		return -ENOMEM;
	}
	err = khash_init(&t->leaf_index, sizeof(struct dom_leaf), 64);
	if (err) {
		domtable_free(t);
		return err;
	}
	return 0;
}

void domtable_free(struct domtable *t)
{
	free(t->names);
	free(t->recs);
	free(t->bloom);
	free(t->table);
	free(t->leaves);
	free(t->index);
	free(t->pending);
	khash_free(&t->leaf_index);
	memset(t, 0, sizeof(*t));
}

/*
 * --- the index: key -> record, used while adding and building ---
 * A slot holds the key's high 32 bits and the record index + 1 (0: empty), so that a probe
 * reads a record only when those bits agree.
 */

static size_t index_slot(const struct domtable *t, __u64 key)
{
	/* keys are spread already; a multiply keeps the slot off the bits the buckets use */
	return (size_t)((key * DH_K_LABEL) >> 32) & (t->index_cap - 1);
}

static __u64 index_entry(__u64 key, size_t rec)
{
	return (key & 0xffffffff00000000ull) | ((__u64)rec + 1);
}

/* The record of a used slot v whose key may be key, or NULL. */
static struct dom_rec *index_rec(const struct domtable *t, __u64 v, __u64 key)
{
	if ((v >> 32) != (key >> 32))
		return NULL;
	return &t->recs[(__u32)v - 1];
}

static int index_grow(struct domtable *t)
{
	size_t cap = t->index_cap * 2, i;
	__u64 *old = t->index;

	t->index = calloc(cap, sizeof(*t->index));
	if (!t->index) {
		t->index = old;
		return -ENOMEM;
	}
	t->index_cap = cap;
	free(old);
	for (i = 0; i < t->n_recs; i++) {
		size_t s = index_slot(t, t->recs[i].key);

		while (t->index[s])
			s = (s + 1) & (cap - 1);
		t->index[s] = index_entry(t->recs[i].key, i);
	}
	return 0;
}

static bool rec_is(const struct domtable *t, const struct dom_rec *r, __u64 key, const char *name,
		   size_t len, bool exact)
{
	return r->key == key && r->name_len == len && !!(r->flags & DOMT_F_EXACT) == exact &&
	       !memcmp(t->names + r->name_off, name, len);
}

/* The record (key, name, exact) through the index (before the records are sorted), or NULL. */
static struct dom_rec *index_find(const struct domtable *t, __u64 key, const char *name, size_t len,
				  bool exact)
{
	size_t s = index_slot(t, key);
	__u64 v;

	while ((v = t->index[s])) {
		struct dom_rec *r = index_rec(t, v, key);

		if (r && rec_is(t, r, key, name, len, exact))
			return r;
		s = (s + 1) & (t->index_cap - 1);
	}
	return NULL;
}

/* --- adding --- */

static void rec_merge(struct dom_rec *r, const struct dom_entry *e)
{
	if (e->allow) {
		if (!(r->flags & DOMT_F_ALLOW) || e->list_id < r->list_id)
			r->list_id = e->list_id;
		r->flags |= DOMT_F_ALLOW;
	} else {
		r->block_cats |= 1ull << e->category;
		if (!(r->flags & DOMT_F_ALLOW) && e->list_id < r->list_id)
			r->list_id = e->list_id;
	}
	if (r->last_list != e->list_id) {
		r->last_list = e->list_id;
		if (r->n_lists < 0xffff)
			r->n_lists++;
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t ncap = *cap ? *cap : min;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = ncap;
	return 0;
}

/* Merge pending entry p into its record, or make one. */
static int add_pending(struct domtable *t, const struct dom_pending *p)
{
	const struct dom_entry *e = &p->e;
	bool seen = false, exact = e->exact;
	size_t len = p->len, s;
	__u64 key = p->key, v;
	struct dom_rec *r;
	int err;

	s = index_slot(t, key);
	while ((v = t->index[s])) {
		r = index_rec(t, v, key);
		if (!r) {
			s = (s + 1) & (t->index_cap - 1);
			continue;
		}
		if (rec_is(t, r, key, p->name, len, exact)) {
			rec_merge(r, e);
			return 0;
		}
		if (r->key == key) {
			/* another name with the same key: both are kept, the kernel sees one */
			if (!(r->flags & DOMT_F_SHARED))
				t->n_shared++;
			r->flags |= DOMT_F_SHARED;
			seen = true;
		}
		s = (s + 1) & (t->index_cap - 1);
	}

	if (t->names_len + len + 1 > 0xffffffffu || t->n_recs >= 0xfffffffeu)
		return -E2BIG;
	/* 8 bytes of slack past the last name: dh_label() reads whole words (stored_keys) */
	err = grow((void **)&t->names, &t->names_cap, t->names_len + len + 1 + 8, 1, 1 << 16);
	if (!err)
		err = grow((void **)&t->recs, &t->cap_recs, t->n_recs + 1, sizeof(*t->recs), 1024);
	if (err)
		return err;
	r = &t->recs[t->n_recs];
	memset(r, 0, sizeof(*r));
	r->key = key;
	r->name_off = (__u32)t->names_len;
	r->name_len = (__u8)len;
	r->list_id = e->list_id;
	r->last_list = e->list_id;
	r->n_lists = 1;
	if (exact) {
		r->flags |= DOMT_F_EXACT;
		t->n_exact++;
	}
	if (!memchr(p->name, '.', len))
		t->n_tld++;
	if (e->allow)
		r->flags |= DOMT_F_ALLOW;
	else
		r->block_cats = 1ull << e->category;
	if (seen) {
		r->flags |= DOMT_F_SHARED;
		t->n_shared++;
	} else {
		t->n_keys++;
	}
	memcpy(t->names + t->names_len, p->name, len + 1);
	t->names_len += len + 1;
	t->index[s] = index_entry(key, t->n_recs++);
	if (t->n_recs * 2 > t->index_cap)
		return index_grow(t);
	return 0;
}

/* Merge every pending entry. */
static int add_flush(struct domtable *t)
{
	int err = 0;

	while (t->n_pending && !err) {
		err = add_pending(t, &t->pending[t->pending_head]);
		t->pending_head = (t->pending_head + 1) % DOMT_PENDING;
		t->n_pending--;
	}
	return err;
}

/*
 * An entry is hashed at once and merged DOMT_PENDING entries later: its index slot is
 * prefetched meanwhile, and the merge then finds it in the cache (a 1M-name index is far
 * bigger than the caches: without this, every add waits for one memory read).
 */
int domtable_add(struct domtable *t, const struct dom_entry *e)
{
	__u64 keys[DH_MAX_LABELS];
	__u32 offs[DH_MAX_LABELS];
	struct dom_pending *p;
	size_t len;
	int n, err = 0;

	if (t->built)
		return -EBUSY;
	if (!e->name || (!e->allow && e->category >= GUARD_MAX_CATEGORIES))
		return -EINVAL;
	if (t->n_pending == DOMT_PENDING) {
		err = add_pending(t, &t->pending[t->pending_head]);
		t->pending_head = (t->pending_head + 1) % DOMT_PENDING;
		t->n_pending--;
	}
	p = &t->pending[(t->pending_head + t->n_pending) % DOMT_PENDING];
	len = strlen(e->name);
	n = name_keys(t->root, e->name, len, p->name, keys, offs);
	if (n < 0)
		return err ? err : -EINVAL;
	p->key = e->exact ? dh_exact(keys[0]) : keys[0];
	p->len = (__u32)len;
	p->e = *e;
	p->e.name = NULL;
	t->n_pending++;
	t->n_entries++;
	__builtin_prefetch(&t->index[index_slot(t, p->key)]);
	return err;
}

/* --- building --- */

static bool bloom_has(const struct domtable *t, __u64 key)
{
	return dh_bloom_test(t->bloom[dh_bloom_word(key, t->bloom_words - 1)], key);
}

static bool bloom_node(const struct domtable *t, __u64 key)
{
	return dh_node_test(t->bloom[dh_bloom_word(key, t->bloom_words - 1)], key);
}

/* ln(y) for y >= 1, without libm: 2 atanh((y - 1) / (y + 1)), halving y down to [1, 2) first. */
static double ln_ge1(double y)
{
	double u, u2, term, sum = 0;
	int halvings = 0, k;

	while (y >= 2) {
		y /= 2;
		halvings++;
	}
	u = (y - 1) / (y + 1);
	u2 = u * u;
	term = u;
	for (k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= u2;
	}
	return 2 * sum + halvings * 0.6931471805599453;
}

/*
 * The nodes above the stored keys (maps/domain.h, "Nodes": the proper suffixes of every stored
 * name, and the name of an exact-only entry, whose key is not its subtree key), distinct ones
 * estimated by linear counting: each sets one bit of a bitmap, and n distinct keys leave about
 * m e^(-n/m) of its m bits clear. Sizes the bloom filter; a few percent off is harmless.
 */
static int count_inner_nodes(const struct domtable *t, size_t *out)
{
	__u64 keys[DH_MAX_LABELS], *bits, m, zero = 0, i;
	__u32 offs[DH_MAX_LABELS];
	size_t r, occ = 0;
	int n, j;

	for (r = 0; r < t->n_recs; r++) {
		const char *name = t->names + t->recs[r].name_off;

		for (i = 0; i < t->recs[r].name_len; i++)
			occ += name[i] == '.';
		occ += !!(t->recs[r].flags & DOMT_F_EXACT);
	}
	*out = 0;
	if (!occ)
		return 0;
	m = pow2_at_least(2 * (__u64)occ < 4096 ? 4096 : 2 * (__u64)occ);
	bits = calloc(m / 64, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	for (r = 0; r < t->n_recs; r++) {
		const struct dom_rec *rec = &t->recs[r];

		n = stored_keys(t, rec, keys, offs);
		for (j = rec->flags & DOMT_F_EXACT ? 0 : 1; j < n; j++) {
			__u64 b = (keys[j] * DH_K_LABEL) >> 20 & (m - 1);

			bits[b / 64] |= 1ull << (b % 64);
		}
	}
	for (i = 0; i < m / 64; i++)
		zero += 64 - (__u64)__builtin_popcountll(bits[i]);
	free(bits);
	*out = (size_t)((double)m * ln_ge1((double)m / (double)(zero ? zero : 1)) + 0.5);
	return 0;
}

/*
 * Size the bloom filter (DH_BLOOM_BITS_PER_KEY per inner node, twice that per stored key) and
 * set both masks of every stored key and the node mask of every suffix above it.
 */
static int bloom_build(struct domtable *t)
{
	__u64 keys[DH_MAX_LABELS], words;
	__u32 offs[DH_MAX_LABELS];
	size_t i, inner;
	int err, n, j;

	err = count_inner_nodes(t, &inner);
	if (err)
		return err;
	t->n_inner = inner;
	words = pow2_at_least(((2 * (__u64)t->n_keys + inner) * DH_BLOOM_BITS_PER_KEY + 63) / 64);
	if (words < DH_BLOOM_MIN_WORDS)
		words = DH_BLOOM_MIN_WORDS;
	if (words > MAX_BUCKETS)
		return -E2BIG;
	free(t->bloom); /* a build that failed may be retried */
	t->bloom = calloc(words, sizeof(*t->bloom));
	if (!t->bloom)
		return -ENOMEM;
	t->bloom_words = (__u32)words;
	for (i = 0; i < t->n_recs; i++) {
		const struct dom_rec *r = &t->recs[i];
		__u64 key = r->key;

		t->bloom[dh_bloom_word(key, t->bloom_words - 1)] |= dh_bloom_mask(key);
		n = stored_keys(t, r, keys, offs);
		for (j = 0; j < n; j++)
			t->bloom[dh_bloom_word(keys[j], t->bloom_words - 1)] |=
				dh_node_mask(keys[j]);
	}
	return 0;
}

static int leaf_id(struct domtable *t, const struct dom_leaf *l, __u32 *id)
{
	__u32 *found = khash_get(&t->leaf_index, l);
	int err;

	if (found) {
		*id = *found;
		return 0;
	}
	if (t->n_leaves >= 0x7fffffff)
		return -E2BIG;
	if (t->n_leaves == t->cap_leaves) {
		__u32 ncap = t->cap_leaves ? t->cap_leaves * 2 : 64;
		struct dom_leaf *n = realloc(t->leaves, (size_t)ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->leaves = n;
		t->cap_leaves = ncap;
	}
	err = khash_put(&t->leaf_index, l, t->n_leaves);
	if (err)
		return err;
	t->leaves[t->n_leaves] = *l;
	*id = t->n_leaves++;
	return 0;
}

/* A direct-mapped cache in front of leaf_id(): few distinct leaves, a million lookups. */
#define LEAF_CACHE 256

struct leaf_cache {
	struct dom_leaf l[LEAF_CACHE];
	__u32 id[LEAF_CACHE]; /* 0: empty (leaf 0 is never cached) */
};

static int leaf_id_cached(struct domtable *t, struct leaf_cache *c, const struct dom_leaf *l,
			  __u32 *id)
{
	__u64 h = (l->block_cats ^ ((__u64)l->list_id << 32) ^ l->flags) * DH_K_LABEL;
	size_t i = (size_t)(h >> 56) & (LEAF_CACHE - 1);
	int err;

	if (c->id[i] && !memcmp(&c->l[i], l, sizeof(*l))) {
		*id = c->id[i];
		return 0;
	}
	err = leaf_id(t, l, id);
	if (!err) {
		c->l[i] = *l;
		c->id[i] = *id;
	}
	return err;
}

/*
 * The leaf of record r (maps/domain.h, struct dom_leaf), from true names (a key is confirmed
 * by comparing the name): keys and offs are the suffix keys of its n labels (stored_keys).
 * On the way, the nearest subtree record r lies below (or at, for an exact-only r) gets
 * DOMT_F_BELOW: a record with any stored name below it is the nearest such of one of them, so
 * every record without DOMT_F_BELOW has none (its key gets DOM_SLOT_F_LAST).
 */
static void rec_leaf(struct domtable *t, const struct dom_rec *r, const __u64 *keys,
		     const __u32 *offs, int n, struct dom_leaf *l)
{
	const char *name = t->names + r->name_off;
	bool allow = r->flags & DOMT_F_ALLOW, stop = allow, marked = false;
	__u64 cats = r->block_cats;
	__u32 list = r->list_id;
	int j;

	if (r->flags & DOMT_F_EXACT) {
		struct dom_rec *sub = index_find(t, keys[0], name, r->name_len, false);

		if (sub) {
			if (!allow && (sub->flags & DOMT_F_ALLOW))
				list = sub->list_id;
			allow = allow || (sub->flags & DOMT_F_ALLOW);
			stop = allow;
			cats |= sub->block_cats;
			sub->flags |= DOMT_F_BELOW;
			marked = true;
		}
	}
	/* the ancestors' categories up to the nearest allow entry; the nearest one marked */
	for (j = 1; (!stop || !marked) && j < n; j++) {
		struct dom_rec *a;

		if (!bloom_has(t, keys[j]))
			continue;
		a = index_find(t, keys[j], name + offs[j], r->name_len - offs[j], false);
		if (!a)
			continue;
		if (!marked) {
			a->flags |= DOMT_F_BELOW;
			marked = true;
		}
		if (stop)
			continue;
		if (a->flags & DOMT_F_ALLOW)
			stop = true;
		else
			cats |= a->block_cats;
	}
	memset(l, 0, sizeof(*l));
	l->list_id = list;
	if (allow)
		l->flags = DOM_LEAF_F_ALLOW;
	else
		l->block_cats = cats;
}

/*
 * The leaves of every record, LEAF_BATCH records at a time: the keys of a batch first, then
 * the memory their lookups will read, in three rounds of prefetches (index slot, record, name)
 * so that the batch's cache misses overlap, then the leaves themselves.
 */
#define LEAF_BATCH 32

struct leaf_batch {
	__u64 keys[LEAF_BATCH][DH_MAX_LABELS];
	__u32 offs[LEAF_BATCH][DH_MAX_LABELS];
	int n[LEAF_BATCH];
	__u64 want[LEAF_BATCH * 8]; /* keys worth a prefetch (bloom hits), the first ones */
	size_t slot[LEAF_BATCH * 8];
	const struct dom_rec *rec[LEAF_BATCH * 8];
};

static void leaf_prefetch(const struct domtable *t, struct leaf_batch *b, size_t first, int m)
{
	int k, j, w = 0, i;

	for (k = 0; k < m; k++) {
		const struct dom_rec *r = &t->recs[first + (size_t)k];

		b->n[k] = stored_keys(t, r, b->keys[k], b->offs[k]);
		for (j = r->flags & DOMT_F_EXACT ? 0 : 1; j < b->n[k]; j++) {
			if (w == LEAF_BATCH * 8 || (j > 0 && !bloom_has(t, b->keys[k][j])))
				continue;
			b->want[w] = b->keys[k][j];
			b->slot[w] = index_slot(t, b->want[w]);
			__builtin_prefetch(&t->index[b->slot[w]]);
			w++;
		}
	}
	/* the first slot probed: usually the one (the index is at most half full) */
	for (i = 0; i < w; i++) {
		__u64 v = t->index[b->slot[i]];
		const struct dom_rec *r = v ? index_rec(t, v, b->want[i]) : NULL;

		b->rec[i] = r;
		if (r)
			__builtin_prefetch(r);
	}
	for (i = 0; i < w; i++)
		if (b->rec[i])
			__builtin_prefetch(t->names + b->rec[i]->name_off);
}

static int leaves_build(struct domtable *t)
{
	struct leaf_batch *b = malloc(sizeof(*b));
	struct leaf_cache *cache = calloc(1, sizeof(*cache));
	size_t i;
	int err = 0, k, m;

	if (!b || !cache) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < t->n_recs && !err; i += (size_t)m) {
		m = t->n_recs - i < LEAF_BATCH ? (int)(t->n_recs - i) : LEAF_BATCH;
		leaf_prefetch(t, b, i, m);
		for (k = 0; k < m && !err; k++) {
			struct dom_rec *r = &t->recs[i + (size_t)k];
			struct dom_leaf l;

			rec_leaf(t, r, b->keys[k], b->offs[k], b->n[k], &l);
			err = leaf_id_cached(t, cache, &l, &r->leaf);
		}
	}
cleanup:
	free(b);
	free(cache);
	return err;
}

/*
 * Records sharing a key (distinct names, one kernel key): the key's leaf is the union of
 * theirs, failing closed: allow only if each allows, else every block category of those that
 * do not allow.
 */
static int merge_shared(struct domtable *t)
{
	size_t i, s;
	int err;

	for (i = 0; i < t->n_recs; i++) {
		struct dom_rec *r = &t->recs[i];
		struct dom_leaf m = { .list_id = 0xffffffffu };
		bool all_allow = true;
		__u64 v;

		if (!(r->flags & DOMT_F_SHARED))
			continue;
		for (s = index_slot(t, r->key); (v = t->index[s]);
		     s = (s + 1) & (t->index_cap - 1)) {
			const struct dom_rec *o = index_rec(t, v, r->key);
			const struct dom_leaf *ol;

			if (!o || o->key != r->key)
				continue;
			ol = &t->leaves[o->leaf];
			if (ol->list_id < m.list_id)
				m.list_id = ol->list_id;
			if (!(ol->flags & DOM_LEAF_F_ALLOW)) {
				all_allow = false;
				m.block_cats |= ol->block_cats;
			}
		}
		if (all_allow) {
			m.flags = DOM_LEAF_F_ALLOW;
			m.block_cats = 0;
		}
		/* every record of the key works out the same leaf (the union is idempotent) */
		err = leaf_id(t, &m, &r->leaf);
		if (err)
			return err;
	}
	return 0;
}

static bool bucket_place(struct dom_bucket *b, __u64 key, __u32 leaf)
{
	int s;

	for (s = 0; s < DOM_BUCKET_SLOTS; s++) {
		if (b->key[s] == DH_KEY_NONE) {
			b->key[s] = key;
			b->leaf[s] = leaf;
			return true;
		}
	}
	return false;
}

static __u64 rng_next(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Insert key; 1 if it was there already, 0, or -ENOSPC after max_kicks displacements. */
static int cuckoo_insert(struct domtable *t, __u64 key, __u32 leaf, __u64 *rng)
{
	__u32 mask = t->n_buckets - 1, b1 = dh_bucket1(key, mask), b2 = dh_bucket2(key, mask), b;
	unsigned int k;

	if (dom_bucket_find(&t->table[b1], key) || dom_bucket_find(&t->table[b2], key))
		return 1;
	if (bucket_place(&t->table[b1], key, leaf) || bucket_place(&t->table[b2], key, leaf))
		return 0;
	b = rng_next(rng) & 1 ? b1 : b2;
	for (k = 0; k < t->max_kicks; k++) {
		struct dom_bucket *bk = &t->table[b];
		int s = (int)(rng_next(rng) & (DOM_BUCKET_SLOTS - 1));
		__u64 vk = bk->key[s];
		__u32 vl = bk->leaf[s];

		bk->key[s] = key;
		bk->leaf[s] = leaf;
		key = vk;
		leaf = vl;
		b1 = dh_bucket1(key, mask);
		b = b1 == b ? dh_bucket2(key, mask) : b1;
		if (bucket_place(&t->table[b], key, leaf))
			return 0;
	}
	return -ENOSPC;
}

static int table_build(struct domtable *t)
{
	__u64 want = (t->n_keys * 100 + DOM_BUCKET_SLOTS * t->max_load_pct - 1) /
		     (DOM_BUCKET_SLOTS * t->max_load_pct);
	__u64 nb = pow2_at_least(want ? want : 1);

	for (;;) {
		__u64 rng = RNG_SEED;
		size_t i, n = 0;
		int err = 0;

		if (nb > MAX_BUCKETS)
			return -E2BIG;
		free(t->table);
		t->table = calloc(nb, sizeof(*t->table));
		if (!t->table)
			return -ENOMEM;
		t->n_buckets = (__u32)nb;
		for (i = 0; i < t->n_recs && !err; i++) {
			const struct dom_rec *r = &t->recs[i];
			/* nothing below it, nor another name under its key: the walk may end here */
			bool last = !(r->flags & (DOMT_F_EXACT | DOMT_F_BELOW | DOMT_F_SHARED));

			err = cuckoo_insert(t, r->key, r->leaf | (last ? DOM_SLOT_F_LAST : 0),
					    &rng);
			if (err == 0)
				n++;
			else if (err == 1)
				err = 0;
		}
		if (!err) {
			t->n_keys = n;
			return 0;
		}
		/* random keys fail at most once at 85 %: repeated failures mean crafted keys */
		if (t->rebuilds == MAX_REBUILDS)
			return -ENOSPC;
		t->rebuilds++;
		nb *= 2;
	}
}

static int rec_cmp(const struct dom_rec *a, const struct dom_rec *b, const char *names)
{
	size_t la = a->name_len, lb = b->name_len;
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	c = memcmp(names + a->name_off, names + b->name_off, la < lb ? la : lb);
	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return (int)(a->flags & DOMT_F_EXACT) - (int)(b->flags & DOMT_F_EXACT);
}

static int rec_cmp_r(const void *a, const void *b, void *names)
{
	return rec_cmp(a, b, names);
}

static void rec_swap(struct dom_rec *a, struct dom_rec *b)
{
	struct dom_rec x = *a;

	*a = *b;
	*b = x;
}

#define SORT_BITS 8 /* key bits per level of the record sort */

/*
 * Sort recs[lo, hi) by key (then name) in place: an MSD radix sort (American flag sort) on
 * SORT_BITS key bits at a time from the top, with 2^SORT_BITS write fronts that each advance
 * sequentially (a wider first level would scatter every swap across memory), then insertion
 * sort under SORT_SMALL records. No copy of the records: the peak memory stays the table's.
 */
static void recs_sort(struct dom_rec *recs, size_t lo, size_t hi, int shift, const char *names)
{
	size_t next[1 << SORT_BITS], end[1 << SORT_BITS] = { 0 }, b, i, j, k;
	const __u64 digits = (1u << SORT_BITS) - 1;

	if (hi - lo <= SORT_SMALL || shift < 0) {
		if (hi - lo > SORT_SMALL) {
			/* the same key all along (crafted names): stay O(n log n) */
			qsort_r(&recs[lo], hi - lo, sizeof(*recs), rec_cmp_r, (void *)names);
			return;
		}
		for (j = lo + 1; j < hi; j++)
			for (k = j; k > lo && rec_cmp(&recs[k - 1], &recs[k], names) > 0; k--)
				rec_swap(&recs[k - 1], &recs[k]);
		return;
	}
	for (i = lo; i < hi; i++)
		end[(recs[i].key >> shift) & digits]++;
	for (b = 0, i = lo; b <= digits; b++) {
		next[b] = i;
		i += end[b];
		end[b] = i;
	}
	for (b = 0; b <= digits; b++) {
		while (next[b] < end[b]) {
			size_t d = (recs[next[b]].key >> shift) & digits;

			if (d == b)
				next[b]++;
			else
				rec_swap(&recs[next[b]], &recs[next[d]++]);
		}
	}
	for (b = 0, i = lo; b <= digits; b++) {
		if (end[b] - i > 1)
			recs_sort(recs, i, end[b], shift - SORT_BITS, names);
		i = end[b];
	}
}

/* Give back what the doubling left unused (the frozen table never grows again). */
static void shrink(struct domtable *t)
{
	void *p;

	if (t->n_recs && t->n_recs < t->cap_recs) {
		p = realloc(t->recs, t->n_recs * sizeof(*t->recs));
		if (p) {
			t->recs = p;
			t->cap_recs = t->n_recs;
		}
	}
	if (t->names_len && t->names_len + 8 < t->names_cap) {
		p = realloc(t->names, t->names_len + 8);
		if (p) {
			t->names = p;
			t->names_cap = t->names_len + 8;
		}
	}
}

int domtable_build(struct domtable *t)
{
	struct dom_leaf none = { 0 };
	__u32 id;
	int err;

	if (t->built)
		return -EBUSY;
	err = add_flush(t);
	if (err)
		return err;
	/* leaf 0 is DOM_LEAF_NONE: registered first, so that no key gets it */
	err = leaf_id(t, &none, &id);
	if (!err)
		err = bloom_build(t);
	if (!err)
		err = leaves_build(t);
	if (!err && t->n_shared)
		err = merge_shared(t);
	if (!err)
		err = table_build(t);
	if (err)
		return err;
	free(t->index);
	t->index = NULL;
	t->index_cap = 0;
	recs_sort(t->recs, 0, t->n_recs, 64 - SORT_BITS, t->names);
	shrink(t);
	t->built = true;
	return 0;
}

/* --- lookups --- */

/* The first sorted record with key >= key. */
static size_t lower_bound(const struct domtable *t, __u64 key)
{
	size_t lo = 0, hi = t->n_recs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->recs[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct dom_rec *sorted_find(const struct domtable *t, __u64 key, const char *name,
					 size_t len, bool exact)
{
	size_t i;

	for (i = lower_bound(t, key); i < t->n_recs && t->recs[i].key == key; i++)
		if (rec_is(t, &t->recs[i], key, name, len, exact))
			return &t->recs[i];
	return NULL;
}

const struct dom_rec *domtable_find(const struct domtable *t, const char *name, bool exact)
{
	__u64 keys[DH_MAX_LABELS];
	__u32 offs[DH_MAX_LABELS];
	char buf[NAME_BUF];
	size_t len = strlen(name);
	__u64 key;

	if (name_keys(t->root, name, len, buf, keys, offs) < 0)
		return NULL;
	key = exact ? dh_exact(keys[0]) : keys[0];
	if (t->built)
		return sorted_find(t, key, buf, len, exact);
	return index_find(t, key, buf, len, exact);
}

/* One probe of the kernel's lookup: both buckets (the bloom word said the key may be there). */
static __u32 probe(const struct domtable *t, __u64 key, struct dom_match *m)
{
	__u32 mask = t->n_buckets - 1, leaf;

	m->table_probes++;
	leaf = dom_bucket_find(&t->table[dh_bucket1(key, mask)], key);
	if (leaf == DOM_LEAF_NONE)
		leaf = dom_bucket_find(&t->table[dh_bucket2(key, mask)], key);
	return leaf;
}

/* The walk of maps/domain.h ("The lookup"), step by step as bpf/lib/domain.h takes it. */
int domtable_lookup(const struct domtable *t, const char *name, struct dom_match *m)
{
	__u64 keys[DH_MAX_LABELS], key = 0;
	__u32 offs[DH_MAX_LABELS], leaf, found = DOM_LEAF_NONE;
	char buf[NAME_BUF];
	size_t len = strlen(name);
	int n, i, at = -1;
	bool exact = false;

	memset(m, 0, sizeof(*m));
	if (len > 0 && name[len - 1] == '.')
		len--;
	n = name_keys(t->root, name, len, buf, keys, offs);
	if (n < 0)
		return n;
	memcpy(m->name, buf, len + 1);
	m->n_labels = (__u32)n;
	if (!t->built)
		return 0;
	for (i = n - 1; i >= 0; i--) {
		/* no one-label entry: the top-level suffix is not tested (DOM_CFG_F_TLD) */
		if (i == n - 1 && !t->n_tld)
			continue;
		m->bloom_probes++;
		if (!bloom_node(t, keys[i]))
			break;
		if (!bloom_has(t, keys[i]))
			continue;
		leaf = probe(t, keys[i], m);
		if (leaf != DOM_LEAF_NONE) {
			found = dom_slot_leaf(leaf);
			key = keys[i];
			at = i;
			/* nothing listed below it: the walk ends, the exact key unprobed */
			if (leaf & DOM_SLOT_F_LAST) {
				m->walk_ended = true;
				break;
			}
		}
	}
	if (i < 0 && t->n_exact) {
		m->bloom_probes++;
		if (bloom_has(t, dh_exact(keys[0]))) {
			leaf = probe(t, dh_exact(keys[0]), m);
			if (leaf != DOM_LEAF_NONE) {
				found = dom_slot_leaf(leaf);
				key = dh_exact(keys[0]);
				at = 0;
				exact = true;
			}
		}
	}
	if (found == DOM_LEAF_NONE)
		return 0;
	m->leaf = found;
	m->key = key;
	m->suffix_off = offs[at];
	m->exact_key = exact;
	m->rec = sorted_find(t, key, m->name + offs[at], len - offs[at], exact);
	m->key_rec = m->rec;
	if (!m->rec) {
		size_t j = lower_bound(t, key);

		m->key_rec = j < t->n_recs && t->recs[j].key == key ? &t->recs[j] : NULL;
	}
	return 0;
}

const struct dom_rec *domtable_decider(const struct domtable *t, const struct dom_match *m,
				       __u64 block_mask)
{
	const struct dom_rec *base = m->rec ? m->rec : m->key_rec, *sub = NULL;
	const struct dom_leaf *leaf;
	__u64 keys[DH_MAX_LABELS];
	__u32 offs[DH_MAX_LABELS];
	char buf[NAME_BUF];
	const char *name;
	int n, j;

	if (!base || m->leaf == DOM_LEAF_NONE || m->leaf >= t->n_leaves)
		return NULL;
	leaf = &t->leaves[m->leaf];
	name = domtable_name(t, base);
	n = name_keys(t->root, name, base->name_len, buf, keys, offs);
	if (n < 0)
		return NULL;
	if (base->flags & DOMT_F_EXACT)
		sub = sorted_find(t, keys[0], name, base->name_len, false);
	if (leaf->flags & DOM_LEAF_F_ALLOW) {
		if (!(base->flags & DOMT_F_ALLOW) && sub && (sub->flags & DOMT_F_ALLOW))
			return sub;
		return base;
	}
	if (!(leaf->block_cats & block_mask))
		return NULL;
	if (base->block_cats & block_mask)
		return base;
	if (sub && (sub->block_cats & block_mask))
		return sub;
	for (j = 1; j < n; j++) {
		const struct dom_rec *a;

		a = sorted_find(t, keys[j], name + offs[j], base->name_len - offs[j], false);
		if (!a)
			continue;
		if (a->flags & DOMT_F_ALLOW)
			break;
		if (a->block_cats & block_mask)
			return a;
	}
	/* only a record sharing the key (DOMT_F_SHARED) blocks: the key's owner is named */
	return base;
}

size_t domtable_kernel_bytes(const struct domtable *t)
{
	return (size_t)t->bloom_words * sizeof(__u64) +
	       (size_t)t->n_buckets * sizeof(struct dom_bucket) +
	       (size_t)t->n_leaves * sizeof(struct dom_leaf);
}

size_t domtable_host_bytes(const struct domtable *t)
{
	return t->names_cap + t->cap_recs * sizeof(struct dom_rec) + domtable_kernel_bytes(t) +
	       t->index_cap * sizeof(*t->index) +
	       t->leaf_index.cap * (t->leaf_index.key_size + sizeof(uint32_t) + 1);
}
