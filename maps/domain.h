/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The domain hash and the domain tables: the contract between the kernel's name lookups
 * (bpf/, DNS query names, TLS SNI, HTTP Host) and their builder, user/domtable.c, which also
 * mirrors the kernel lookup for `check`, `replay` and the tests. Header-only, no libc: included
 * by bpf/ (clang -target bpf, __BPF__ defined) and by user/.
 *
 * Matching (issue 3). A listed name covers itself and every name below it at label boundaries
 * (`example.com` covers `a.example.com`, not `notexample.com` nor `example.com.evil`), unless the
 * entry is exact-only (`full:`, `match = exact`): then it covers the name alone. The most
 * specific covering entry decides; at the same name an allow entry beats a block entry.
 * Case-insensitive. Names up to DH_MAX_NAME characters (dotted, without the trailing dot) and
 * DH_MAX_LABELS labels.
 *
 * Keys. Every suffix of a name at a label boundary has a 64-bit key, computed right to left
 * from the hash of each label (one dh_label() and one dh_suffix() per label):
 *
 *   for a.b.example.com:  S(com)           = dh_suffix(root, dh_label("com"))
 *                         S(example.com)   = dh_suffix(S(com), dh_label("example"))
 *                         S(b.example.com) = dh_suffix(S(example.com), dh_label("b")) ...
 *
 * root is the builder's (struct domtable.root), handed to the program with the tables (map
 * dom_config, maps/policy.h): DH_ROOT, or better a random value per policy, which keeps anyone
 * who cannot read the maps from crafting a name whose key equals a listed one (see "False
 * matches"). A subtree entry is stored under S(name), an exact-only entry under
 * dh_exact(S(name)). Key 0 marks an empty slot and is never computed.
 *
 * Nodes. The suffixes of every stored name are its nodes: for a.b.example.com, com,
 * example.com, b.example.com and a.b.example.com itself (for an exact-only entry too). A name no
 * stored name ends with (the suffix "nomatch.com" when nothing under it is listed) cannot have a
 * listed suffix longer than itself: the lookup stops there. Most names that match nothing stop
 * after one or two labels (their top-level label, then a second-level name nothing is listed
 * under), whatever their length.
 *
 * The lookup (user/domtable.c: domtable_lookup() is the host twin; the kernel must do the same):
 *   1. Lower-case the name (dh_lower8 on each 8-byte word), find its labels; a name with an empty
 *      label or one over DH_MAX_LABEL bytes cannot be examined (the kernel checks every label
 *      first, before any probe).
 *   2. Walk the suffixes from the top-level label leftwards, computing S as it goes. At each
 *      suffix, read the bloom word MAP_DOM_BLOOM[dh_bloom_word(S, bloom_mask)]:
 *        - if it lacks a bit of dh_node_mask(S), S is not a node: stop the walk;
 *        - if it holds every bit of dh_bloom_mask(S), probe S in the table (3.); a leaf found
 *          replaces what a shorter suffix found: the most specific match decides. When its
 *          slot carries DOM_SLOT_F_LAST, nothing more specific can match: the walk ends there
 *          (and the exact-only key is not probed: there is none at or below it).
 *      The top-level suffix's word is read only when some entry is a one-label name
 *      (DOM_CFG_F_TLD): without one, no key is stored there, and it is a node for any name
 *      under a top-level domain anything is listed under; the walk goes on to the second level.
 *      When the walk reaches the whole name (no stop), its exact-only key dh_exact(S) is
 *      probed last (when the tables hold one: DOM_CFG_F_EXACT): found, it beats the subtree
 *      key at the same name.
 *   3. Probe(key): the cuckoo buckets MAP_DOM_TABLE[dh_bucket1(key, bucket_mask)] and
 *      [dh_bucket2(...)]: dom_bucket_find() on each gives the slot (DOM_LEAF_NONE: absent),
 *      dom_slot_leaf() of it the leaf id.
 *      bloom_mask and bucket_mask are the map sizes (powers of two) minus one, given by the
 *      loader.
 *   4. The leaf MAP_DOM_LEAVES[id] (struct dom_leaf) carries what the builder worked out for that
 *      key, the verdict then follows the rule of maps/iptable.h's ip_leaf: blocked if
 *      block_cats & the client group's block mask, else allowed if DOM_LEAF_F_ALLOW, else passed.
 *
 * False matches. The kernel keeps 64-bit keys, not names: a name that is not listed matches
 * when one of its suffix keys equals a stored key (and the walk reaches it: every shorter suffix
 * is a node, or passes for one). With keys spread like random values that has probability
 * about n / 2^64 per key probed, n the keys stored: at 10M entries, a name that probes 6 keys is
 * falsely matched with probability 6 * 10^7 / 2^64 = 3.3e-12, about one name in 300 billion.
 * Two distinct listed names share a key with probability about n^2 / 2^65 (2.7e-6 at 10M); the
 * builder detects it, keeps both names and stores the key once with the union of their
 * decisions, and says so. `check` confirms a match exactly: the host keeps every stored name
 * and compares strings. The hash is fast, not cryptographic: with the default root, anyone can
 * search offline for a name whose key equals a listed one (a label of 8 bytes is hashed
 * invertibly; tests/unit/test_domtable.c crafts one), e.g. a subdomain of a blocked site
 * colliding with an allowed entry; a secret random root makes that blind guessing at the odds
 * above.
 */
#ifndef BPFGUARD_MAPS_DOMAIN_H
#define BPFGUARD_MAPS_DOMAIN_H

#include "abi.h"

/* Map (and pin) names: maps/guard_maps.h defines the maps under these names. */
#define MAP_DOM_BLOOM dom_bloom /* BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, __u64 words */
#define MAP_DOM_TABLE dom_table /* BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, struct dom_bucket */
#define MAP_DOM_LEAVES dom_leaves /* BPF_MAP_TYPE_ARRAY, struct dom_leaf, index 0 unused */

/* Limits: a longer name or one with more labels cannot be fully examined (its own reason). */
#define DH_MAX_NAME 253 /* characters of the dotted name, without a trailing dot */
#define DH_MAX_LABELS 127 /* labels of a name: 127 one-letter labels make 253 characters */
#define DH_MAX_LABEL 63 /* bytes of one label */
#define DH_LABEL_WORDS 8 /* 8-byte words of the longest label: dh_label's constant bound */
/*
 * dh_label() reads whole 8-byte words: up to DH_LABEL_WORDS * 8 = 64 bytes from the label
 * start, past the label end. A per-CPU scratch buffer of DH_SCRATCH_SIZE bytes holding the
 * name from offset 0, with label starts clamped to DH_SCRATCH_LABEL_MAX, lets the verifier
 * see every such read in bounds.
 */
#define DH_SCRATCH_LABEL_MAX 255
#define DH_SCRATCH_SIZE (DH_SCRATCH_LABEL_MAX + 1 + DH_LABEL_WORDS * 8)

/* Constants of the hash. Changing any of them changes every key: bump nothing, rebuild all. */
#define DH_ROOT 0x6a09e667f3bcc908ull /* the key of the root: parent of a top-level label */
#define DH_EXACT_SALT 0xbb67ae8584caa73bull /* dh_exact(S) = S ^ salt */
#define DH_K_LABEL 0x9e3779b97f4a7c15ull /* label word mixing (2^64 / golden ratio) */
#define DH_K_MIX 0xff51afd7ed558ccdull /* dh_suffix (MurmurHash3's first finaliser constant) */
#define DH_KEY_NONE 0ull /* an empty cuckoo slot; dh_suffix and dh_exact never return it */

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * 8 bytes at p as a little-endian word. On BPF, one 8-byte load: the verifier accepts
 * unaligned map-value and stack reads on x86-64 (no strict alignment there), whereas clang
 * splits a __builtin_memcpy of unknown alignment into 8 byte loads and 7 shifts for BPF.
 * On the host, __builtin_memcpy, which compiles to one load.
 */
#ifdef __BPF__
typedef __u64 __attribute__((may_alias)) dh_u64_alias;
#endif
static __always_inline __u64 dh_load64(const __u8 *p)
{
	__u64 w;

#ifdef __BPF__
	w = *(const dh_u64_alias *)p;
#else
	__builtin_memcpy(&w, p, sizeof(w));
#endif
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/*
 * ASCII lower case of 8 bytes at once (SWAR): 'A'..'Z' get 0x20 added; every other byte,
 * 0x80..0xff included, is left alone. Per byte b with its high bit cleared (h = b & 0x7f, so no
 * carry crosses bytes): h + 0x3f has bit 7 set iff h >= 'A', h + 0x25 iff h > 'Z'.
 */
static __always_inline __u64 dh_lower8(__u64 w)
{
	const __u64 hi = 0x8080808080808080ull;
	__u64 h = w & 0x7f7f7f7f7f7f7f7full;
	__u64 ge_a = h + 0x3f3f3f3f3f3f3f3full;
	__u64 gt_z = h + 0x2525252525252525ull;
	__u64 upper = (ge_a & ~gt_z) & ~w & hi;

	return w | (upper >> 2);
}

/*
 * The hash of one label: p holds len bytes (1..DH_MAX_LABEL, already lower-cased) and at least
 * 8 readable bytes past the label end (whatever they hold: the tail is masked). The label is
 * read as little-endian words, the last one zero-padded, each mixed in with a multiply and an
 * xorshift, from a state seeded with the length. A label of up to 8 bytes without NUL bytes
 * (every valid label) is hashed without collision. Constant bound: at most DH_LABEL_WORDS
 * iterations, whatever len says; a len over DH_MAX_LABEL hashes the first 64 bytes only (the
 * caller must not pass one: such a name cannot be examined).
 */
static __always_inline __u64 dh_label(const __u8 *p, __u32 len)
{
	__u64 h = len, w;
	__u32 i, left;

	for (i = 0; i < DH_LABEL_WORDS; i++) {
		if (i * 8 >= len)
			break;
		w = dh_load64(p + i * 8);
		left = len - i * 8;
		if (left < 8)
			w &= ~0ull >> ((8 - left) * 8);
		h = (h ^ w) * DH_K_LABEL;
		h ^= h >> 29;
	}
	return h;
}

/*
 * The same hash reading exactly len bytes, one at a time: the reference form, for host code
 * whose buffer has no readable tail, and for the test that the word form masks its tail.
 */
static __always_inline __u64 dh_label_bytes(const __u8 *p, __u32 len)
{
	__u64 h = len, w;
	__u32 i, j;

	for (i = 0; i < DH_LABEL_WORDS && i * 8 < len; i++) {
		w = 0;
		for (j = 0; j < 8 && i * 8 + j < len; j++)
			w |= (__u64)p[i * 8 + j] << (j * 8);
		h = (h ^ w) * DH_K_LABEL;
		h ^= h >> 29;
	}
	return h;
}

/*
 * The key of the suffix whose first label hashes to label and whose parent suffix has key
 * parent (the root's: DH_ROOT or the instance root): one multiply and an xorshift, a bijection
 * of parent ^ label, so under one parent distinct label hashes give distinct keys. One multiply,
 * not a full finaliser: the walk computes these one after the other, each waiting for the last
 * (the label hashes themselves are computed side by side). The high half of the product is the
 * best mixed: the bits that pick the bloom bits, the bloom word and the second bucket come from
 * it, or from the low half folded with it. Never DH_KEY_NONE: 0 becomes 1.
 */
static __always_inline __u64 dh_suffix(__u64 parent, __u64 label)
{
	__u64 x = (parent ^ label) * DH_K_MIX;

	x ^= x >> 32;
	return x ? x : 1;
}

/* The key of an exact-only entry for the name whose key is s. Never DH_KEY_NONE. */
static __always_inline __u64 dh_exact(__u64 s)
{
	__u64 x = s ^ DH_EXACT_SALT;

	return x ? x : 1;
}

/*
 * The bloom filter: an array of __u64 words, a power of two of them. A key has one word
 * (dh_bloom_word: key bits 18 and up) and two masks of three bits in it:
 *   dh_node_mask   (key bits 46..63) set for every node: every suffix of a stored name;
 *   dh_bloom_mask  (key bits 0..17) set for every stored key (subtree and exact-only entries).
 * The builder sizes it at DH_BLOOM_BITS_PER_KEY bits per node that is only a node and twice
 * that per stored key (which sets both masks), so that about the same share of the bits is set
 * as with one mask at DH_BLOOM_BITS_PER_KEY: false positives about 0.8 % per test (0.79 % in
 * theory at exactly 16 bits per key; tests/unit measures it). A false positive costs a probe of
 * the table (bloom mask) or one more step of the walk (node mask), never a wrong answer.
 */
#define DH_BLOOM_BITS_PER_KEY 16
#define DH_BLOOM_MIN_WORDS 64

static __always_inline __u64 dh_bloom_mask(__u64 key)
{
	return (1ull << (key & 63)) | (1ull << ((key >> 6) & 63)) | (1ull << ((key >> 12) & 63));
}

static __always_inline __u64 dh_node_mask(__u64 key)
{
	return (1ull << ((key >> 46) & 63)) | (1ull << ((key >> 52) & 63)) | (1ull << (key >> 58));
}

/* nwords_mask: the number of words (a power of two) minus one. */
static __always_inline __u32 dh_bloom_word(__u64 key, __u32 nwords_mask)
{
	return (__u32)(key >> 18) & nwords_mask;
}

/* Might key be stored? word is the bloom word dh_bloom_word() picked. No false negatives. */
static __always_inline int dh_bloom_test(__u64 word, __u64 key)
{
	__u64 m = dh_bloom_mask(key);

	return (word & m) == m;
}

/* Might key be a node (a suffix of a stored name)? No false negatives. */
static __always_inline int dh_node_test(__u64 word, __u64 key)
{
	__u64 m = dh_node_mask(key);

	return (word & m) == m;
}

/*
 * The table: a bucketized cuckoo hash, an array of buckets (a power of two of them) of
 * DOM_BUCKET_SLOTS keys each. A key lives in one of two buckets: dh_bucket1 (low 32 bits of
 * the key) or dh_bucket2 (high 32 bits), independent choices (they may coincide). A lookup
 * reads at most both buckets: 8 compares, constant bound. Empty slots hold DH_KEY_NONE with
 * leaf DOM_LEAF_NONE. The builder keeps the load at or below about 85 %.
 */
#define DOM_BUCKET_SLOTS 4
#define DOM_LEAF_NONE 0u

struct dom_bucket {
	__u64 key[DOM_BUCKET_SLOTS];
	__u32 leaf[DOM_BUCKET_SLOTS];
};
ABI_ASSERT_SIZE(struct dom_bucket, 48);

/* bucket_mask: the number of buckets (a power of two, at most 2^32) minus one. */
static __always_inline __u32 dh_bucket1(__u64 key, __u32 bucket_mask)
{
	return (__u32)key & bucket_mask;
}

static __always_inline __u32 dh_bucket2(__u64 key, __u32 bucket_mask)
{
	return (__u32)(key >> 32) & bucket_mask;
}

/*
 * A slot's leaf id carries one flag in its top bit: DOM_SLOT_F_LAST, set by the builder on a
 * subtree key when no other stored name ends with the key's name (no name listed below it, no
 * exact-only entry at it) and no other name shares the key. A walk that finds such a key has
 * its most specific match: it stops there instead of reading the bloom words of the longer
 * suffixes (a name asked for below its list entry, www.ads.example for ads.example, is the
 * usual hit). dom_slot_leaf() is the leaf id; leaf ids stay below 2^31.
 */
#define DOM_SLOT_F_LAST 0x80000000u

static __always_inline __u32 dom_slot_leaf(__u32 slot)
{
	return slot & ~DOM_SLOT_F_LAST;
}

/* The slot of key in bucket b (leaf id and flag), or DOM_LEAF_NONE. key must not be 0. */
static __always_inline __u32 dom_bucket_find(const struct dom_bucket *b, __u64 key)
{
	if (b->key[0] == key)
		return b->leaf[0];
	if (b->key[1] == key)
		return b->leaf[1];
	if (b->key[2] == key)
		return b->leaf[2];
	if (b->key[3] == key)
		return b->leaf[3];
	return DOM_LEAF_NONE;
}

/* Leaf flags. */
#define DOM_LEAF_F_ALLOW 0x1 /* an allow entry at this key (at its name, for an exact key) */

/*
 * A leaf: what the entries at one key say, deduplicated (many keys share a leaf; leaf 0 is
 * DOM_LEAF_NONE and never written). Built by user/domtable.c with the rule of ip_leaf:
 *   flags:      DOM_LEAF_F_ALLOW when an allow entry sits at the key's name (for an exact key:
 *               an exact or subtree allow entry at that name): then block_cats is 0.
 *   block_cats: otherwise, the categories of the block entries at the key's name (for an exact
 *               key: exact and subtree ones) and of the subtree block entries at its ancestors,
 *               up to the nearest ancestor holding an allow entry. So a `games` entry under an
 *               `adult` subtree still blocks as adult while games are allowed.
 *   list_id:    the list of the entry at the key (allow lists first when allowed, else the
 *               first list holding it), for the per-list hit counters.
 */
struct dom_leaf {
	__u64 block_cats;
	__u32 list_id;
	__u16 flags; /* DOM_LEAF_F_* */
	__u16 pad;
};
ABI_ASSERT_SIZE(struct dom_leaf, 16);

#endif
