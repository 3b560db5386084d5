/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The domain lookup (DESIGN.md "The packet path", step 4) over the tables of maps/domain.h,
 * built by user/domtable.c, whose domtable_lookup() is the host twin of the walk here.
 * BPF only; included by bpf/lib/names.h after maps/guard_maps.h.
 *
 * The walk of maps/domain.h ("The lookup"): from the top-level label leftwards, the suffix key S
 * of each suffix (dh_label, in the form of name_label_hash(), and dh_suffix, from the scratch
 * buffer), its bloom word read as soon as S is known: a key whose node bits are not all set
 * ends the walk (nothing longer can be listed), one whose key bits are all set is probed in the
 * cuckoo table, and a key found overrides what a less specific one found, so the most specific
 * match decides; a key found with DOM_SLOT_F_LAST (nothing listed below it) ends the walk. The
 * top-level suffix is tested only when some entry is a one-label name (DOM_CFG_F_TLD):
 * otherwise it cannot be stored, and is a node for nearly every name. The whole name's
 * exact-only key is probed last (when the tables hold one: DOM_CFG_F_EXACT, and the walk
 * reached the whole name): it beats the subtree key at the same name. A name that matches
 * nothing usually costs one bloom word: its second-level name, not a node (and one more, its
 * top-level label's, when some entry is a one-label name).
 */
#ifndef BPFGUARD_BPF_LIB_DOMAIN_H
#define BPFGUARD_BPF_LIB_DOMAIN_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "bpf/lib/dns.h"
#include "bpf/lib/name.h"

/* The leaf of key in the cuckoo table, or DOM_LEAF_NONE (bucket_mask: struct dom_config's). */
static __always_inline __u32 dom_table_find(__u32 bucket_mask, __u64 key)
{
	const struct dom_bucket *b;
	__u32 idx, leaf;

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

/* The bloom word of key (0 when the map has none there: no node, no key). */
static __always_inline __u64 dom_bloom_word(__u32 bloom_mask, __u64 key)
{
	__u32 idx = dh_bloom_word(key, bloom_mask);
	const __u64 *word = bpf_map_lookup_elem(&MAP_DOM_BLOOM, &idx);

	return word ? *word : 0;
}

/*
 * Levels the walk takes over a name in the packet (deeper, the DNS fast path leaves the name
 * to the copy path, where the walk goes to DH_MAX_LABELS): a bound for the verifier, which
 * checks every level with the label hash's word loop inside.
 */
#define DOM_PKT_LEVELS 16

/*
 * Levels one part of the walk over a copied name takes (dom_lookup_part()): the caller calls
 * the parts in turn, DOM_PARTS of them reach DH_MAX_LABELS. The verifier checks a part's levels
 * once, where one walk of all DH_MAX_LABELS levels cost it ~120k instructions in every program;
 * a name deeper than DOM_PART_LEVELS (none that a list or a browser uses) costs a call a part.
 */
#define DOM_PART_LEVELS 16
#define DOM_PARTS ((DH_MAX_LABELS + DOM_PART_LEVELS - 1) / DOM_PART_LEVELS)
/* dom_lookup_part(): the name has levels below the part's (nb->walk_key holds the suffix key) */
#define DOM_MORE 1

/*
 * The walk over the name in nb (dots recorded: bpf/lib/name.h), whose labels are all
 * 1..DH_MAX_LABEL bytes (a DNS name by construction, a text name checked by
 * name_check_labels()), from level from (0: the top-level label) on, levels of it at most. The
 * labels' bytes are in nb->b, or, when msg is not NULL, in the packet: the DNS message at msg
 * (the QNAME at msg + 12: dns_name_scan()), end the packet's end; any case, each word is lowered
 * as it is hashed. Level 0 resets nb->match_leaf (DOM_LEAF_NONE: nothing matched), match_label
 * and match_exact; a level that matches sets them. Returns 0 (the walk ended), DOM_MORE (a
 * copied name with labels below the levels walked: nb->walk_key holds the suffix key to go on
 * from), or -counter: a label the walk cannot hash (PASS_NAME_MALFORMED, PASS_NAME_TOO_LONG,
 * PASS_NAME_TRUNCATED: checked before, so not expected), a name in the packet deeper than
 * levels (PASS_NAME_TOO_LONG: the caller takes the copy path). A name without labels (the
 * root) matches nothing.
 *
 * Verifier notes: the walk runs at most levels times with the label hash's word loop inside;
 * what a probe finds goes to the scratch map, not to registers, so the states after the loop do
 * not differ by the iteration that matched.
 */
static __always_inline int dom_walk_in(struct name_buf *nb, const __u8 *msg, const void *end,
				       const int in_pkt, __u32 from, const __u32 levels)
{
	const struct dom_config *dc;
	__u32 zero = 0, i, n = nb->labels, last = (__u32)nb->len + 1;
	__u64 s, w, h;

	if (from == 0) {
		nb->match_leaf = DOM_LEAF_NONE;
		nb->match_label = 0;
		nb->match_exact = 0;
	}
	dc = bpf_map_lookup_elem(&MAP_DOM_CONFIG, &zero);
	if (!dc || n == 0)
		return 0;
	s = dc->root;
	if (from) {
		if (from >= n || from > DH_MAX_LABELS)
			return NAME_ERR(PASS_NAME_MALFORMED);
		s = nb->walk_key;
		/* the part before ended with the label that begins after this dot */
		last = nb->dot[(n - from) & DH_MAX_LABELS];
	}
	/* dc's fields read where they are used: held in registers, they cost the frame its room */
	for (i = 0; i < levels; i++) {
		__u32 lvl = from + i, li, start, len, leaf;

		if (lvl >= n)
			break;
		li = (n - 1 - lvl) & DH_MAX_LABELS;
		start = (__u32)nb->dot[li] + 1;
		len = last - start;
		/* in the packet, dns_name_scan() read each label's length byte: 1..DH_MAX_LABEL */
		if (!in_pkt && (len == 0 || len > 0xffff))
			return NAME_ERR(PASS_NAME_MALFORMED);
		if (!in_pkt && len > DH_MAX_LABEL)
			return NAME_ERR(PASS_NAME_TOO_LONG);
		/* the next label (to the left) ends at this one's dot */
		last = start - 1;
		if (in_pkt) {
			/* the hash's own copy of the length: see dns_name_scan() */
			NAME_CLAMP(len, DH_MAX_LABEL);
			if (dns_label_hash(msg, end, sizeof(struct hdr_dns) + start, len, &h))
				return NAME_ERR(PASS_NAME_TRUNCATED);
		} else {
			NAME_CLAMP(start, DH_SCRATCH_LABEL_MAX);
			h = name_label_hash(nb->b + start, len);
		}
		s = dh_suffix(s, h);
		/* no one-label entry: the top-level suffix is neither stored nor worth testing */
		if (lvl == 0 && !(dc->flags & DOM_CFG_F_TLD))
			continue;
		w = dom_bloom_word(dc->bloom_mask, s);
		/* not a node: no listed name ends with this suffix, nor with a longer one */
		if (!dh_node_test(w, s))
			return 0;
		if (dh_bloom_test(w, s)) {
			leaf = dom_table_find(dc->bucket_mask, s);
			if (leaf != DOM_LEAF_NONE) {
				nb->match_leaf = dom_slot_leaf(leaf);
				nb->match_label = (__u16)li;
				/* nothing listed below it: the most specific match there is */
				if (leaf & DOM_SLOT_F_LAST)
					return 0;
			}
		}
	}
	if (from + i < n) {
		/* in the packet, a walk deeper than its levels: the caller takes the copy path */
		if (in_pkt)
			return NAME_ERR(PASS_NAME_TOO_LONG);
		nb->walk_key = s;
		return DOM_MORE;
	}
	/* the whole name's exact-only key: it beats the subtree key at the same name */
	if (!(dc->flags & DOM_CFG_F_EXACT))
		return 0;
	s = dh_exact(s);
	if (!dh_bloom_test(dom_bloom_word(dc->bloom_mask, s), s))
		return 0;
	i = dom_table_find(dc->bucket_mask, s);
	if (i != DOM_LEAF_NONE) {
		nb->match_leaf = dom_slot_leaf(i);
		nb->match_label = 0;
		nb->match_exact = 1;
	}
	return 0;
}

/* The walk over a DNS question's name in the packet, recorded by dns_name_scan(). */
static __always_inline int dom_walk(struct name_buf *nb, const __u8 *msg, const void *end)
{
	return dom_walk_in(nb, msg, end, 1, 0, DOM_PKT_LEVELS);
}

/*
 * A part of the walk over the name in nb->b (text names, and DNS names copied: see
 * dom_walk()): levels from .. from + DOM_PART_LEVELS - 1. Returns as dom_walk_in().
 */
static __always_inline int dom_lookup_part(struct name_buf *nb, __u32 from)
{
	return dom_walk_in(nb, NULL, NULL, 0, from, DOM_PART_LEVELS);
}

#endif
