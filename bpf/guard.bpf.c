// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guard program: one pipeline (guard_classify) behind every attach point: XDP, and TC
 * ingress/egress through clsact. Each entry point is a thin wrapper that maps the internal
 * verdict (enum guard_verdict) to its XDP_* / TC_ACT_* code. Stage 1: IP/CIDR rules.
 *
 * Loading needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root): without CAP_PERFMON the
 * verifier refuses variable-offset packet pointer arithmetic (Spectre v1 hardening), which
 * any parse of IPv4 options or IPv6 extension headers needs.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* The map definitions: included here, and only here. */
#include "maps/guard_maps.h"

/* Load-time knobs, set by user/loader.c through skel->rodata before load. */
const volatile __u32 cfg_trace = 0; /* write struct guard_trace for every packet */
const volatile __u32 cfg_has_src = 0; /* some list has direction=source: look the source up */

#include "bpf/lib/ctx.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/counters.h"
#include "bpf/lib/verdict.h"

/* TC: bytes of headers to make linear before parsing when the device left them in fragments. */
#define GUARD_PULL_LEN 256

/* Parse, judge, count: returns enum guard_verdict, having counted exactly one verdict. */
static __always_inline int guard_classify(struct pkt_ctx *pc)
{
	struct parse_result r;
	int ret;

	ret = parse_packet(pc->data, pc->data_end, pc->vlan_hw, &r);
	guard_count_notes(r.notes, pc->bytes);
	if (ret < 0)
		return guard_pass(pc, (__u32)-ret);
	return guard_ip_verdict(pc, &r);
}

SEC("xdp")
int guard_xdp(struct xdp_md *ctx)
{
	struct pkt_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};

	pc.bytes = (__u64)(pc.data_end - pc.data);
	return guard_classify(&pc) == GV_DROP ? XDP_DROP : XDP_PASS;
}

static __always_inline int guard_tc(struct __sk_buff *skb)
{
	struct pkt_ctx pc = {};
	__u32 want = skb->len < GUARD_PULL_LEN ? skb->len : GUARD_PULL_LEN;

	/*
	 * Headers a driver left in page fragments are outside direct packet access and would
	 * read as a truncated frame (a pass): make the first bytes linear. Rare on real devices.
	 */
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);
	/* Reload after the pull: it invalidates every packet pointer. */
	pc.data = (void *)(long)skb->data;
	pc.data_end = (void *)(long)skb->data_end;
	pc.bytes = skb->len;
	/* The stack already moved a VLAN tag into the skb (ingress): it counts towards the limit. */
	pc.vlan_hw = skb->vlan_present ? 1 : 0;
	return guard_classify(&pc) == GV_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int guard_tc_ingress(struct __sk_buff *skb)
{
	return guard_tc(skb);
}

SEC("tc")
int guard_tc_egress(struct __sk_buff *skb)
{
	return guard_tc(skb);
}

char LICENSE[] SEC("license") = "GPL";
