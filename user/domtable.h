/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host side of the domain tables (maps/domain.h): collects domain entries from the lists,
 * merges the same (name, exact) from several lists, works out each key's leaf, deduplicates
 * leaves, and builds the kernel images (bloom filter words, cuckoo buckets, leaves) that the
 * loader copies into the maps. Keeps every stored name, sorted by key, so that `check` can name
 * the entry that decided and confirm a match exactly. domtable_lookup() does what the kernel
 * does, step by step. Used by policy.c, loader.c, check.c and the tests.
 */
#ifndef BPFGUARD_DOMTABLE_H
#define BPFGUARD_DOMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "maps/domain.h"
#include "user/hash.h"

/* One entry as a list gave it, before merging. */
struct dom_entry {
	const char *name; /* dotted, no trailing dot; any case (stored in lower case) */
	__u8 exact; /* exact-only: REG_F_EXACT (`full:`) or a list with match = exact */
	__u8 allow; /* from an allow list, or an allow rule (Adblock `@@`) */
	__u16 list_id;
	__u32 category; /* category id, 0..63; ignored for allow entries */
};

/* Flags of a stored entry. */
#define DOMT_F_EXACT 0x1 /* exact-only: stored under dh_exact(S) */
#define DOMT_F_ALLOW 0x2 /* some allow entry: allow wins over the block lists at this key */
#define DOMT_F_SHARED 0x4 /* another stored name has the same 64-bit key (see maps/domain.h) */
/* another stored name ends with this one's (below it, or exact-only at it): no DOM_SLOT_F_LAST */
#define DOMT_F_BELOW 0x8

/* A distinct (name, exact) after merging every list that holds it. 32 bytes. */
struct dom_rec {
	__u64 key; /* the kernel key: S(name), or dh_exact(S(name)) when exact */
	__u64 block_cats; /* categories of the block lists that hold it */
	__u32 name_off; /* into domtable.names */
	__u32 leaf; /* the leaf written for its key (after build) */
	__u16 list_id; /* first list that holds it (allow lists first when allowed) */
	__u16 n_lists; /* lists that hold it */
	__u16 last_list; /* private: the list that added it last (n_lists) */
	__u8 flags; /* DOMT_F_* */
	__u8 name_len;
};

/* private: an entry hashed, waiting to be merged (domtable_add) */
#define DOMT_PENDING 8
struct dom_pending {
	__u64 key;
	__u32 len;
	struct dom_entry e;
	char name[DH_MAX_NAME + 1 + 8]; /* lower case, zero tail */
};

struct domtable {
	__u64 root; /* the key of the root (maps/domain.h): the program must use the same */
	unsigned int max_load_pct; /* cuckoo load the sizing aims below (default 85) */
	unsigned int max_kicks; /* displacements before an insertion fails (default 500) */

	char *names; /* every stored name, NUL-terminated, lower case */
	size_t names_len, names_cap;
	struct dom_rec *recs; /* after build: sorted by key, then name */
	size_t n_recs, cap_recs;
	size_t n_entries; /* entries given, before merging */
	size_t n_exact; /* exact-only records */
	size_t n_tld; /* records of a one-label name (DOM_CFG_F_TLD) */
	size_t n_allow; /* records with an allow entry */
	size_t n_shared; /* records whose key another record has too (DOMT_F_SHARED) */

	/* The kernel images, after domtable_build(). */
	__u64 *bloom; /* bloom_words words: MAP_DOM_BLOOM */
	__u32 bloom_words;
	struct dom_bucket *table; /* n_buckets buckets: MAP_DOM_TABLE */
	__u32 n_buckets;
	struct dom_leaf *leaves; /* n_leaves, index 0 is DOM_LEAF_NONE: MAP_DOM_LEAVES */
	__u32 n_leaves, cap_leaves;
	size_t n_keys; /* distinct keys stored in the table */
	size_t n_inner; /* nodes above them, estimated (maps/domain.h "Nodes"): bloom sizing */
	unsigned int rebuilds; /* table doublings after a failed cuckoo insertion */
	bool built;

	/* private */
	__u64 *index; /* until built: open addressing, key bits 32..63 | record index + 1 */
	size_t index_cap;
	struct dom_pending *pending; /* a ring of DOMT_PENDING entries */
	unsigned int pending_head, n_pending;
	struct khash leaf_index; /* struct dom_leaf -> leaf id */
};

/* Start empty with root (DH_ROOT, or a per-instance random value). Returns 0 or -ENOMEM. */
int domtable_init(struct domtable *t, __u64 root);
void domtable_free(struct domtable *t);

/*
 * Add one entry (the name is copied). Entries of one list must come one after the other (as
 * the registry gives them) for n_lists to count lists, not entries. The entry is merged into
 * the records a few adds later (or by domtable_build): n_recs and the other counts lag by up to
 * DOMT_PENDING entries until the build. Returns 0, -EINVAL for a name that is not a dotted name
 * of 1..DH_MAX_NAME characters with labels of 1..DH_MAX_LABEL bytes (no NUL or '.' inside a
 * label) or a category out of range, -EBUSY after domtable_build(), or -ENOMEM / -E2BIG (an
 * earlier entry could not be merged: the table is unusable, free it).
 */
int domtable_add(struct domtable *t, const struct dom_entry *e);

/*
 * Work out the leaves and build the kernel images; the records get sorted. Once only: the
 * table is frozen afterwards. Returns 0, -ENOMEM, -E2BIG when the table would need more than
 * 2^31 buckets or the leaves more than 2^31 ids, or -ENOSPC when the cuckoo table still fails
 * after 6 doublings (keys bunched in a few buckets: names crafted against a known root).
 */
int domtable_build(struct domtable *t);

/* What a lookup found: the kernel's decision and the stored entry behind it. */
struct dom_match {
	char name[DH_MAX_NAME + 1]; /* the name looked up, lower case, no trailing dot */
	__u32 n_labels;
	__u32 leaf; /* the kernel's leaf id (DOM_LEAF_NONE: no key of the name is stored) */
	__u64 key; /* the key found */
	__u32 suffix_off; /* the matched suffix: name + suffix_off */
	bool exact_key; /* the full name's exact key was found */
	/*
	 * The stored entry with this key and exactly this suffix (string compare), or NULL: no
	 * match, or a false match (the kernel acts on the key alone; then key_rec is the stored
	 * entry that owns the key).
	 */
	const struct dom_rec *rec;
	const struct dom_rec *key_rec;
	__u32 bloom_probes; /* bloom words read: steps of the walk, and the exact key's */
	__u32 table_probes; /* keys that passed the bloom filter and were looked up in the table */
	bool walk_ended; /* a key found with DOM_SLOT_F_LAST ended the walk (maps/domain.h) */
};

/*
 * Look name up exactly as the kernel does (maps/domain.h, "The lookup"): any case, one trailing
 * dot ignored. Returns 0 (m->leaf says whether something matched), -EINVAL for an empty name
 * or label, -ENAMETOOLONG for a name the kernel cannot fully examine: more than DH_MAX_NAME
 * characters, more than DH_MAX_LABELS labels, or a label over DH_MAX_LABEL bytes.
 */
int domtable_lookup(const struct domtable *t, const char *name, struct dom_match *m);

/* The stored entry for (name, exact), any case, or NULL. After domtable_build(). */
const struct dom_rec *domtable_find(const struct domtable *t, const char *name, bool exact);

/*
 * The entry that decides under the client group's block mask, after domtable_lookup() found
 * m->rec: the allow entry when the leaf allows; else the most specific entry of the match's
 * chain (the entry found, the subtree entry at the same name when an exact key was found, then
 * the subtree entries at its ancestors up to the nearest allow) with a category in block_mask;
 * NULL when none (a block entry matched but none of its categories is blocked now).
 */
const struct dom_rec *domtable_decider(const struct domtable *t, const struct dom_match *m,
				       __u64 block_mask);

static inline const char *domtable_name(const struct domtable *t, const struct dom_rec *r)
{
	return t->names + r->name_off;
}

/* Kernel memory the three maps need, in bytes (bloom + table + leaves), after build. */
size_t domtable_kernel_bytes(const struct domtable *t);

/* Host memory the table holds now, in bytes (records, names, images, indexes). */
size_t domtable_host_bytes(const struct domtable *t);

/*
 * The keys of every suffix of name (lower case, validated), most specific first: keys[0] is
 * S(name), keys[n-1] the top-level label's; offs[i] is where suffix i starts. Returns the
 * number of labels, or -EINVAL / -ENAMETOOLONG as domtable_lookup. For tests and tools.
 */
int domtable_suffix_keys(__u64 root, const char *name, size_t len, __u64 *keys, __u32 *offs);

#endif
