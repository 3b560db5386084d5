/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-packet context every stage of the pipeline receives: the frame bounds and what was
 * decided (for the counters and the trace). BPF only; included by bpf/guard.bpf.c through the
 * other bpf/lib headers.
 */
#ifndef BPFGUARD_BPF_LIB_CTX_H
#define BPFGUARD_BPF_LIB_CTX_H

#include <linux/types.h>

struct pkt_ctx {
	void *data;
	void *data_end;
	__u64 bytes; /* counted bytes: XDP data_end - data, TC skb->len */
	__u8 vlan_hw; /* VLAN tags the device already removed (TC: skb->vlan_present) */
	/* The decision, filled by the stage that makes it. */
	__u32 group; /* client group */
	__u32 leaf_id; /* the IP leaf that decided, IPT_LEAF_NONE if none */
	__u32 list_id; /* its list (meaningful when leaf_id is set) */
};

#endif
