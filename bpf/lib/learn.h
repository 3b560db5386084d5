/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The time cut-off for flows already open (issue 4): the addresses that DNS answers give for
 * names of the schedule-controlled categories (the rodata knob cfg_learn_mask, which the loader
 * sets from the policy) are remembered in map learned (maps/learn.h, an LRU hash, behind the
 * filter map learn_slots), and every other packet to such an address is judged by those
 * categories: when one of them is blocked for the packet's client group now, the packet drops
 * (DROP_LEARNED), so a connection opened while the category was off stops when it turns on.
 * BPF only; included by bpf/lib/verdict.h after maps/guard_maps.h and the cfg_* knobs.
 *
 *   learn_judge()     the end of guard_ip_decide(), in the main program and in the name stage:
 *                     a packet that no IP entry decided (no match, or a block entry whose
 *                     categories are off) looks its destination up (its slot first: an array
 *                     read; the hash map, through a global function, only when the slot is
 *                     set); an IP drop or an IP allow keeps its decision.
 *   learn_response()  the name stage (names_dns_learn, bpf/lib/names.h): a DNS response from
 *                     UDP port 53 whose question names a domain entry of a learned category:
 *                     its A and AAAA records (bpf/lib/dnsresp.h) are remembered with those
 *                     categories until the record's TTL runs out (clamped to
 *                     LEARN_TTL_MIN_S..LEARN_TTL_MAX_S). The response passes (NOTE_DNS_LEARNED
 *                     counts it).
 * With cfg_learn_mask 0 (no group rule has an @schedule) neither runs: the verifier removes the
 * branches on the knob. What stays is the knob's load where it is tested (bench: v4-nomatch
 * unchanged); with learning on, a packet whose slot is empty pays the slot's hash and read
 * (~2-3 ns).
 */
#ifndef BPFGUARD_BPF_LIB_LEARN_H
#define BPFGUARD_BPF_LIB_LEARN_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "bpf/lib/answer.h"
#include "bpf/lib/counters.h"
#include "bpf/lib/ctx.h"
#include "bpf/lib/dnsresp.h"

/* The key of address addr (4 or 16 bytes by family; an IPv4 one zero-padded) in k. */
static __always_inline void learn_key_of(struct learn_key *k, __u8 family, const __u8 *addr)
{
	k->family = family;
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->pad[2] = 0;
	if (family == 4) {
		__builtin_memcpy(k->addr, addr, 4);
		__builtin_memset(k->addr + 4, 0, 12);
	} else {
		__builtin_memcpy(k->addr, addr, 16);
	}
}

/* Raise address a0:a1's slot (maps/learn.h: learn_slot) to at least expires. */
static __always_inline void learn_slot_raise(__u64 a0, __u64 a1, __u64 expires)
{
	__u32 idx = learn_slot(a0, a1);
	__u64 *slot = bpf_map_lookup_elem(&MAP_LEARN_SLOTS, &idx);

	if (slot && *slot < expires)
		*slot = expires;
}

/*
 * The learned categories of the destination a0:a1 (its bytes as two words in memory order;
 * IPv4: the low 4 bytes of a0, a1 = 0) of family (4 or 6) under block mask block_mask:
 * GC_DROP_LEARNED when it is remembered, not expired, and one of its categories is in the
 * mask, else 0. A live entry that a packet reaches is kept LEARN_KEEP_S more when less than
 * half of that is left; an expired one is removed, and its slot cleared when nothing learned
 * into it is live any more.
 * A global function (verified once), called only when the slot says an address may be there.
 */
__noinline __u32 guard_learn_judge(__u64 block_mask, __u32 family, __u64 a0, __u64 a1)
{
	__u32 idx = learn_slot(a0, a1);
	struct learn_entry *e;
	struct learn_key k;
	__u64 now, *slot;

	k.family = (__u8)family;
	k.pad[0] = 0;
	k.pad[1] = 0;
	k.pad[2] = 0;
	__builtin_memcpy(k.addr, &a0, 8);
	__builtin_memcpy(k.addr + 8, &a1, 8);
	e = bpf_map_lookup_elem(&MAP_LEARNED, &k);
	now = bpf_ktime_get_coarse_ns();
	if (e && now < e->expires) {
		if (e->expires - now < LEARN_KEEP_S * LEARN_NS_PER_S / 2) {
			e->expires = now + LEARN_KEEP_S * LEARN_NS_PER_S;
			learn_slot_raise(a0, a1, e->expires);
		}
		return (e->cats & block_mask) ? GC_DROP_LEARNED : 0;
	}
	if (e)
		bpf_map_delete_elem(&MAP_LEARNED, &k);
	/* the slot's time is the latest of its addresses': once past, none of them is live */
	slot = bpf_map_lookup_elem(&MAP_LEARN_SLOTS, &idx);
	if (slot && *slot && *slot <= now)
		*slot = 0;
	return 0;
}

/*
 * The learned decision for a packet to daddr (family 4 or 6; 4 or 16 bytes) that the IP rules
 * decided as counter (only PASS_NOMATCH and PASS_CATEGORY_OFF are asked: an IP drop or allow
 * keeps its decision): DROP_LEARNED (pc's leaf and list then name no entry), else counter.
 * Most packets stop at their slot, which holds 0: an array read, no hash lookup.
 */
static __always_inline __u32 learn_judge(struct pkt_ctx *pc, __u8 family, const __u8 *daddr,
					 __u32 counter)
{
	__u64 a0 = 0, a1 = 0, *slot;
	__u32 v4, idx;

	if (family == 4) {
		__builtin_memcpy(&v4, daddr, 4);
		a0 = v4;
	} else {
		__builtin_memcpy(&a0, daddr, 8);
		__builtin_memcpy(&a1, daddr + 8, 8);
	}
	idx = learn_slot(a0, a1);
	slot = bpf_map_lookup_elem(&MAP_LEARN_SLOTS, &idx);
	if (slot && !*slot)
		return counter;
	if (!guard_learn_judge(pc->block_mask, family, a0, a1))
		return counter;
	pc->leaf_id = IPT_LEAF_NONE;
	pc->list_id = 0;
	return GC_DROP_LEARNED;
}

/*
 * The walk of the answer section, as a global function.
 * Verifier workaround: verified once, on its own, with w unknown; inlined in the name stage it
 * would be verified again for every state the stage reaches it in.
 */
__noinline int guard_learn_walk(struct dnsresp_walk *w)
{
	if (!w)
		return DNSRESP_ERR(DNSRESP_E_HEADER);
	return dnsresp_walk(w);
}

/* Remember address a (a record of the walk) with categories cats from now on. */
static __always_inline void learn_insert(const struct dnsresp_addr *a, __u64 cats, __u64 now)
{
	struct learn_entry *e, v;
	struct learn_key k;
	__u64 ttl = a->ttl, expires;

	if (ttl < LEARN_TTL_MIN_S)
		ttl = LEARN_TTL_MIN_S;
	if (ttl > LEARN_TTL_MAX_S)
		ttl = LEARN_TTL_MAX_S;
	expires = now + ttl * LEARN_NS_PER_S;
	learn_key_of(&k, a->family, a->addr);
	e = bpf_map_lookup_elem(&MAP_LEARNED, &k);
	if (e && now < e->expires) {
		/* an address several names share: all their categories, the longest TTL */
		e->cats |= cats;
		if (e->expires < expires)
			e->expires = expires;
	} else {
		v.cats = cats;
		v.expires = expires;
		if (bpf_map_update_elem(&MAP_LEARNED, &k, &v, BPF_ANY))
			return;
	}
	/* the slot after the entry: a packet that finds the slot set finds the entry */
	learn_slot_raise(name_load64(a->addr), name_load64(a->addr + 8), expires);
}

/*
 * The DNS response at frame offset msg_off, len bytes long as its UDP header says, avail of
 * them in the frame, ancount answer records after a question of qwire bytes whose name
 * matched a domain entry of categories cats (within cfg_learn_mask): copy it into the
 * per-CPU walk (at most DNSRESP_COPY_MAX bytes), walk it, remember its A and AAAA records
 * (a walk stopped at a limit keeps the records before; a cut or malformed message gives
 * nothing). Counts NOTE_DNS_LEARNED when an address was remembered. The caller passes the
 * response.
 */
static __always_inline void learn_response(struct pkt_ctx *pc, __u32 msg_off, __u32 len,
					   __u32 avail, __u16 ancount, __u32 qwire, __u64 cats)
{
	struct dnsresp_walk *w;
	__u32 zero = 0, i, n;
	__u64 now;
	int ret;

	w = bpf_map_lookup_elem(&MAP_LEARN_SCRATCH, &zero);
	if (!w)
		return;
	if (avail > DNSRESP_COPY_MAX)
		avail = DNSRESP_COPY_MAX;
	if (avail > len)
		avail = len;
	NAME_CLAMP(avail, 0x7ff);
	if (avail == 0 || avail > DNSRESP_COPY_MAX || guard_load(pc, msg_off, w->msg, avail))
		return;
	dnsresp_walk_init(w, len, avail, ancount, qwire);
	ret = guard_learn_walk(w);
	if (ret != 0 && ret != DNSRESP_PARTIAL)
		return;
	n = NAME_LAUNDER(w->n);
	if (n == 0)
		return;
	now = bpf_ktime_get_coarse_ns();
	for (i = 0; i < DNSRESP_MAX_ADDRS; i++) {
		if (i >= n)
			break;
		learn_insert(&w->addr[i], cats, now);
	}
	guard_count(GC_NOTE_DNS_LEARNED, pc->bytes);
}

#endif
