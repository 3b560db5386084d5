/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counting, BPF side: guard_count() on the per-CPU counter array (maps/counters.h), per-list
 * hits, the notes a parse collected, and the one exit every packet takes: guard_verdict() counts
 * exactly one verdict counter and writes the trace; drops go through guard_drop(), passes
 * through guard_pass(), answers (the frame rewritten to go back) through guard_verdict() with
 * GV_ANSWER. Included by bpf/guard.bpf.c after maps/guard_maps.h and its cfg_trace
 * knob (`const volatile __u32 cfg_trace`).
 */
#ifndef BPFGUARD_BPF_LIB_COUNTERS_H
#define BPFGUARD_BPF_LIB_COUNTERS_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "ctx.h"
#include "parse.h"

/* Add one packet of bytes to counter idx (enum guard_counter); out-of-range indexes are ignored. */
static __always_inline void guard_count(__u32 idx, __u64 bytes)
{
	struct guard_count *c;

	if (idx >= GC_COUNTER_MAX)
		return;
	c = bpf_map_lookup_elem(&MAP_COUNTERS, &idx);
	if (!c)
		return;
	/* Per-CPU and not preemptible under XDP/TC: plain increments. */
	c->packets++;
	c->bytes += bytes;
}

/* A hit on list list_id (the list of the entry that decided). */
static __always_inline void guard_list_hit(__u32 list_id, __u64 bytes)
{
	struct guard_count *c;

	if (list_id >= GUARD_MAX_LISTS)
		return;
	c = bpf_map_lookup_elem(&MAP_LIST_HITS, &list_id);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

/* One count per note bit set (NOTE_BIT(), bpf/lib/parse.h). */
static __always_inline void guard_count_notes(__u32 notes, __u64 bytes)
{
	int i;

	if (!notes) /* the common case: one branch */
		return;
		/* Unrolled: an AND and a branch per note; the loop cost three times that. */
#pragma unroll
	for (i = 0; i < PARSE_NOTES; i++)
		if (notes & (1u << i))
			guard_count(GC_VERDICT_MAX + i, bytes);
}

/*
 * The exit of the pipeline: counts verdict counter counter (< GC_VERDICT_MAX) for this packet,
 * records the trace when cfg_trace is set, and returns verdict (enum guard_verdict).
 */
static __always_inline int guard_verdict(struct pkt_ctx *pc, __u32 counter, int verdict)
{
	guard_count(counter, pc->bytes);
	if (cfg_trace) {
		__u32 zero = 0;
		struct guard_trace *t = bpf_map_lookup_elem(&MAP_TRACE, &zero);

		if (t) {
			t->counter = counter;
			t->list_id = pc->list_id;
			t->leaf_id = pc->leaf_id;
			t->group = pc->group;
			t->verdict = verdict;
			t->source = pc->source;
			t->flags = pc->trace_flags;
			t->match_label = pc->match_label;
			t->pad = 0;
		}
	}
	return verdict;
}

/* Every drop: counted by reason (a DROP_* counter). */
static __always_inline int guard_drop(struct pkt_ctx *pc, __u32 reason)
{
	return guard_verdict(pc, reason, GV_DROP);
}

/* Every pass: counted by reason (a PASS_* counter). */
static __always_inline int guard_pass(struct pkt_ctx *pc, __u32 reason)
{
	return guard_verdict(pc, reason, GV_PASS);
}

#endif
