/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host side of the IP rule tables (maps/iptable.h): builds the 16-8-8 array trie and the IPv6
 * overflow trie from a set of prefixes, deduplicates leaves, and looks addresses up exactly as
 * bpf/lib/iprule.h does, so `check` and the tests can compare. Used by policy.c and loader.c.
 */
#ifndef BPFGUARD_IPTABLE_H
#define BPFGUARD_IPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "maps/iptable.h"
#include "user/hash.h"
#include "user/util.h"

/* One entry as the registry gave it, before merging. */
struct ipt_entry {
	struct ip_prefix prefix;
	__u8 dir; /* enum ipt_dir */
	__u8 allow; /* from an allow list */
	__u16 list_id; /* IPT_DIR_CLIENT: the client group id (the lowest wins at one prefix) */
	__u32 category; /* category id (0..63) */
};

/* A distinct prefix after merging every list that holds it (kept for `check` and `replay`). */
struct ipt_prefix {
	struct ip_prefix prefix;
	__u8 dir;
	__u8 allow; /* some allow list holds it */
	__u16 list_id; /* first list that holds it (allow lists first when allow) */
	__u32 n_lists; /* lists that hold it */
	__u64 block_cats; /* categories of the block lists that hold it */
	__u32 leaf; /* the leaf written for it */
};

struct ipt_v6_rule {
	struct ipt_v6_key key;
	__u32 leaf;
};

struct iptable {
	struct ipt_group *v4; /* roots and level 2: v4_groups used of v4_cap allocated */
	__u32 v4_groups, v4_cap;
	struct ipt_cgroup *v4_l3; /* level 3, compressed */
	__u32 n_v4_l3, cap_v4_l3;
	__u32 *v4_runs; /* the run values of level 3 */
	__u32 n_v4_runs, cap_v4_runs;
	struct ipt_group *v6;
	__u32 v6_groups, v6_cap;
	struct ipt_v6_rule *v6_rules; /* prefixes longer than /24, for the LPM trie */
	size_t n_v6_rules, cap_v6_rules;
	struct ip_leaf *leaves; /* index 0 is IPT_LEAF_NONE */
	__u32 n_leaves, cap_leaves;
	struct ipt_prefix *prefixes; /* sorted by family, dir, plen, addr */
	size_t n_prefixes;
	size_t n_entries; /* entries given, before merging */
	bool has_src; /* some prefix has dir IPT_DIR_SRC */
	bool has_client; /* some prefix has dir IPT_DIR_CLIENT (client groups) */
	/* private */
	struct khash leaf_index; /* struct ip_leaf -> leaf id */
	struct khash v6_index; /* struct ipt_v6_key -> leaf id, for host lookups */
	__u8 v6_lens[IPT_DIRS][129]; /* prefix lengths (> 24) present in the trie */
};

/* Start empty (roots allocated, every address unmatched). Returns 0 or -ENOMEM. */
int iptable_init(struct iptable *t);
void iptable_free(struct iptable *t);

/*
 * Build the tables from entries (any order; duplicates and overlaps allowed: the same prefix
 * from several lists is merged, at equal length allow wins). Replaces whatever t held.
 * Returns 0, -ENOMEM, or -E2BIG if a limit of the encoding (2^31 groups or leaves) is hit.
 */
int iptable_build(struct iptable *t, const struct ipt_entry *entries, size_t n);
/* The same, taking entries (malloc'ed; freed here, sorted in place first): no copy. */
int iptable_build_take(struct iptable *t, struct ipt_entry *entries, size_t n);

/* Lookups exactly as the kernel does them; return a leaf id (IPT_LEAF_NONE: no match). */
__u32 iptable_lookup(const struct iptable *t, int family, int dir, const __u8 *addr);

/* The most specific distinct prefix covering addr in direction dir, or NULL. */
const struct ipt_prefix *iptable_match(const struct iptable *t, int family, int dir,
				       const __u8 *addr);

/* Kernel memory the tables need, in bytes, at their current sizes (for `bench` and `status`). */
size_t iptable_kernel_bytes(const struct iptable *t);

#endif
