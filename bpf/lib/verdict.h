/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The IP rule decision (DESIGN.md "The packet path", steps 3 and 5): the destination's leaf,
 * then the source's when cfg_has_src is set, judged against the client group's block mask.
 * guard_ip_decide() decides without counting (a name may still decide, bpf/lib/names.h);
 * guard_ip_finish() counts and returns that decision. BPF only; included by bpf/guard.bpf.c
 * after maps/guard_maps.h and the cfg_* knobs.
 */
#ifndef BPFGUARD_BPF_LIB_VERDICT_H
#define BPFGUARD_BPF_LIB_VERDICT_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "counters.h"
#include "ctx.h"
#include "iprule.h"
#include "learn.h"
#include "parse.h"

/* The leaf of address addr of family (4 or 6) in direction dir. */
static __always_inline __u32 ip_leaf_of(__u8 family, __u32 dir, const __u8 *addr)
{
	return family == 4 ? iprule_v4(dir, addr) : iprule_v6(dir, addr);
}

/*
 * What leaf says under block mask mask: drop_counter (DROP_IP_DST/SRC) when one of its block
 * categories is blocked, PASS_ALLOW for an allow entry, PASS_CATEGORY_OFF for a block entry
 * whose categories are all off, PASS_NOMATCH otherwise. *list_id gets the leaf's list.
 */
static __always_inline __u32 ip_judge(__u32 leaf, __u64 mask, __u32 drop_counter, __u32 *list_id)
{
	const struct ip_leaf *l;

	if (leaf == IPT_LEAF_NONE)
		return GC_PASS_NOMATCH;
	l = bpf_map_lookup_elem(&MAP_IP_LEAVES, &leaf);
	if (!l) /* a leaf id beyond the leaf map: the loader sizes it, so this is defensive */
		return GC_PASS_NOMATCH;
	*list_id = l->list_id;
	if (l->block_cats & mask)
		return drop_counter;
	if (l->flags & IP_LEAF_F_ALLOW)
		return GC_PASS_ALLOW;
	if (l->block_cats)
		return GC_PASS_CATEGORY_OFF;
	return GC_PASS_NOMATCH;
}

/*
 * A drop by the addresses: an IP entry's, or a learned destination's (bpf/lib/learn.h). One
 * range test: the three counters follow each other (maps/counters.h).
 */
_Static_assert(GC_DROP_IP_SRC == GC_DROP_IP_DST + 1 && GC_DROP_LEARNED == GC_DROP_IP_SRC + 1,
	       "the drops by address are consecutive counters");
static __always_inline int guard_is_ip_drop(__u32 counter)
{
	return counter - GC_DROP_IP_DST <= GC_DROP_LEARNED - GC_DROP_IP_DST;
}

/*
 * The client group of an end of the packet (DESIGN.md "The packet path", step 2): its Ethernet
 * address (the frame's source at mac_off 6, its destination at 0) among the groups' MACs (when
 * cfg_has_macs), else the most specific `clients =` prefix covering addr (when
 * cfg_has_groups), else 0, everyone else. user/policy.c's policy_group_of() is the host twin.
 */
static __always_inline __u32 guard_group_at(const void *data, const void *data_end, __u8 family,
					    const __u8 *addr, const __u32 mac_off)
{
	const struct ip_leaf *l;
	__u32 leaf;

	if (cfg_has_macs) {
		const __u8 *eth = data;
		const __u32 *g;

		/* the key is the frame's address itself (a packet pointer may be a key) */
		if (eth + sizeof(struct hdr_eth) <= (const __u8 *)data_end) {
			g = bpf_map_lookup_elem(&MAP_GROUP_MACS, eth + mac_off);
			if (g)
				return *g;
		}
	}
	if (!cfg_has_groups)
		return 0;
	leaf = ip_leaf_of(family, IPT_DIR_CLIENT, addr);
	if (leaf == IPT_LEAF_NONE)
		return 0;
	l = bpf_map_lookup_elem(&MAP_IP_LEAVES, &leaf);
	return l && (l->flags & IP_LEAF_F_GROUP) ? l->list_id : 0;
}

/*
 * The group a packet is judged for: its sender's (the client of a query, of a connection's
 * first packet), else its receiver's: a reply from outside goes to the client whose group
 * judges it. (Judged for its sender, group 0, a reply from a network a `direction = source`
 * or `both` list names would be dropped for a client whose group allows the category.)
 * user/policy.c's policy_ip_group_of() is the host twin.
 */
static __always_inline __u32 guard_client_group(struct pkt_ctx *pc, __u8 family, const __u8 *saddr,
						const __u8 *daddr)
{
	__u32 g = guard_group_at(pc->data, pc->data_end, family, saddr, 6);

	if (g == 0 && (cfg_has_groups || cfg_has_macs))
		g = guard_group_at(pc->data, pc->data_end, family, daddr, 0);
	return g;
}

/*
 * Decide a packet by its addresses (family 4 or 6, saddr and daddr in network order: in the
 * parse result, or in the name stage's scratch map), without counting, for the client's group
 * (guard_client_group: the main program finds it and hands it to the name stage). The group's
 * block mask judges every entry: the destination's; the source's (only when cfg_has_src) when
 * the destination did not drop: a source drop wins, otherwise the source decides only if the
 * destination matched nothing. Sets pc->group, block_mask, leaf_id, list_id. Returns the
 * verdict counter.
 */
static __always_inline __u32 guard_ip_decide(struct pkt_ctx *pc, __u8 family, const __u8 *saddr,
					     const __u8 *daddr, __u32 group)
{
	const struct group_policy *gp;
	__u32 leaf, list_id = 0, counter;

	/*
	 * A local key, not &pc->group: a pc field whose address reaches a helper makes clang keep
	 * all of pc in memory, and pc->hook would no longer be a constant the helpers of the
	 * other hooks compile away with.
	 */
	pc->group = group;
	gp = bpf_map_lookup_elem(&MAP_GROUP_POLICY, &group);
	pc->block_mask = gp ? gp->block_mask : 0;

	leaf = ip_leaf_of(family, IPT_DIR_DST, daddr);
	counter = ip_judge(leaf, pc->block_mask, GC_DROP_IP_DST, &list_id);
	if (cfg_has_src && counter != GC_DROP_IP_DST) {
		__u32 sleaf, slist = 0, scounter;

		sleaf = ip_leaf_of(family, IPT_DIR_SRC, saddr);
		scounter = ip_judge(sleaf, pc->block_mask, GC_DROP_IP_SRC, &slist);
		if (scounter == GC_DROP_IP_SRC || counter == GC_PASS_NOMATCH) {
			counter = scounter;
			leaf = sleaf;
			list_id = slist;
		}
	}
	if (counter == GC_PASS_NOMATCH) {
		leaf = IPT_LEAF_NONE;
		list_id = 0;
	}
	pc->leaf_id = leaf;
	pc->list_id = list_id;
	/* a destination learned from a DNS answer (bpf/lib/learn.h): when no IP entry decided */
	if (cfg_learn_mask && (counter == GC_PASS_NOMATCH || counter == GC_PASS_CATEGORY_OFF))
		counter = learn_judge(pc, family, daddr, counter);
	return counter;
}

/*
 * Count the IP decision counter (from guard_ip_decide) and return its verdict. The deciding
 * entry's list gets a hit when it drops or allows.
 */
static __always_inline int guard_ip_finish(struct pkt_ctx *pc, __u32 counter)
{
	if (guard_is_ip_drop(counter)) {
		/* a learned destination has no list entry */
		if (counter != GC_DROP_LEARNED)
			guard_list_hit(pc->list_id, pc->bytes);
		return guard_drop(pc, counter);
	}
	if (counter == GC_PASS_ALLOW)
		guard_list_hit(pc->list_id, pc->bytes);
	return guard_pass(pc, counter);
}

#endif
