/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The domain lookup (DESIGN.md "The packet path", step 4) over the tables of maps/domain.h,
 * built by user/domtable.c, whose domtable_lookup() is the host twin of dom_lookup() here.
 * BPF only; included by bpf/lib/names.h after maps/guard_maps.h.
 *
 * One pass over the labels, right to left: the suffix key S of each suffix (dh_label, in the
 * form of name_label_hash(), and dh_suffix, from the scratch buffer), probed as soon as it is
 * known, least specific first; a key found overrides what a less specific one found, so the
 * most specific match decides, as domtable_lookup()'s most-specific-first probing does. The
 * whole name's exact-only key is probed last (when the tables hold one: DOM_CFG_F_EXACT): it
 * beats the subtree key at the same name. A
 * probe reads one bloom word; only when all three bits of the key are set does it read the
 * two cuckoo buckets.
 */
#ifndef BPFGUARD_BPF_LIB_DOMAIN_H
#define BPFGUARD_BPF_LIB_DOMAIN_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "bpf/lib/name.h"

/* The leaf of key, or DOM_LEAF_NONE (bloom_mask, bucket_mask: struct dom_config's). */
static __always_inline __u32 dom_probe(__u32 bloom_mask, __u32 bucket_mask, __u64 key)
{
	const struct dom_bucket *b;
	const __u64 *word;
	__u32 idx, leaf;

	idx = dh_bloom_word(key, bloom_mask);
	word = bpf_map_lookup_elem(&MAP_DOM_BLOOM, &idx);
	if (!word || !dh_bloom_test(*word, key))
		return DOM_LEAF_NONE;
	idx = dh_bucket1(key, bucket_mask);
	b = bpf_map_lookup_elem(&MAP_DOM_TABLE, &idx);
	if (b) {
		leaf = dom_bucket_find(b, key);
		if (leaf != DOM_LEAF_NONE)
			return leaf;
	}
	idx = dh_bucket2(key, bucket_mask);
	b = bpf_map_lookup_elem(&MAP_DOM_TABLE, &idx);
	return b ? dom_bucket_find(b, key) : DOM_LEAF_NONE;
}

/*
 * Look up the name in nb (dotted, lower case, dots recorded: bpf/lib/name.h). Sets
 * nb->match_leaf (DOM_LEAF_NONE: nothing matched), match_label, match_exact. Returns 0, or
 * -counter for a name the lookup cannot examine: PASS_NAME_MALFORMED (an empty label),
 * PASS_NAME_TOO_LONG (a label over 63 bytes). A name without labels (the root) matches nothing.
 *
 * Verifier notes: the label loop runs at most DH_MAX_LABELS times with dh_label's word loop
 * (DH_LABEL_WORDS) inside; what a probe finds goes to the scratch map, not to registers, so
 * the states after the loop do not differ by the iteration that matched.
 */
static __always_inline int dom_lookup(struct name_buf *nb)
{
	const struct dom_config *dc;
	__u32 zero = 0, i, n = nb->labels, end = (__u32)nb->len + 1, bloom_mask, bucket_mask, exact;
	__u64 s;

	nb->match_leaf = DOM_LEAF_NONE;
	nb->match_label = 0;
	nb->match_exact = 0;
	dc = bpf_map_lookup_elem(&MAP_DOM_CONFIG, &zero);
	if (!dc || n == 0)
		return 0;
	s = dc->root;
	bloom_mask = dc->bloom_mask;
	bucket_mask = dc->bucket_mask;
	exact = dc->flags & DOM_CFG_F_EXACT;
	for (i = 0; i < DH_MAX_LABELS; i++) {
		__u32 li, start, len, leaf;

		if (i >= n)
			break;
		li = (n - 1 - i) & DH_MAX_LABELS;
		start = (__u32)nb->dot[li] + 1;
		len = end - start;
		if (len == 0 || len > 0xffff)
			return NAME_ERR(PASS_NAME_MALFORMED);
		if (len > DH_MAX_LABEL)
			return NAME_ERR(PASS_NAME_TOO_LONG);
		NAME_CLAMP(start, DH_SCRATCH_LABEL_MAX);
		s = dh_suffix(s, name_label_hash(nb->b + start, len));
		leaf = dom_probe(bloom_mask, bucket_mask, s);
		if (leaf != DOM_LEAF_NONE) {
			nb->match_leaf = leaf;
			nb->match_label = (__u16)li;
		}
		/* the next label (to the left) ends at this one's dot */
		end = start - 1;
	}
	/* the whole name's exact-only key: it beats the subtree key at the same name */
	if (!exact)
		return 0;
	i = dom_probe(bloom_mask, bucket_mask, dh_exact(s));
	if (i != DOM_LEAF_NONE) {
		nb->match_leaf = i;
		nb->match_label = 0;
		nb->match_exact = 1;
	}
	return 0;
}

#endif
