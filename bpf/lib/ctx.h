/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-packet context every stage of the pipeline receives: the frame bounds, the program's
 * context and hook (for the helpers that copy, resize and answer), and what was decided (for
 * the counters and the trace). BPF only; included by bpf/guard.bpf.c through the other
 * bpf/lib headers.
 */
#ifndef BPFGUARD_BPF_LIB_CTX_H
#define BPFGUARD_BPF_LIB_CTX_H

#include <linux/types.h>

/* Which entry point runs: a constant in each, so the helpers of the others compile away. */
enum guard_hook {
	GUARD_HOOK_XDP = 0,
	GUARD_HOOK_TC_INGRESS = 1,
	GUARD_HOOK_TC_EGRESS = 2,
};

struct pkt_ctx {
	void *data;
	void *data_end;
	void *ctx; /* struct xdp_md * or struct __sk_buff * */
	__u64 bytes; /* counted bytes: XDP data_end - data, TC skb->len */
	__u64 block_mask; /* the client group's blocked categories now */
	__u8 hook; /* enum guard_hook */
	__u8 vlan_hw; /* VLAN tags the device already removed (TC: skb->vlan_present) */
	/* The decision, filled by the stage that makes it. */
	__u8 source; /* enum name_source: the name examined */
	__u8 trace_flags; /* TRACE_F_* */
	__u8 match_label;
	__u32 group; /* client group */
	__u32 leaf_id; /* the leaf that decided (IP or domain, see trace_flags), 0 if none */
	__u32 list_id; /* its list (meaningful when leaf_id is set) */
};

#endif
