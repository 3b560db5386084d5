// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guard program: one pipeline (guard_classify) behind every attach point: XDP, and TC
 * ingress/egress through clsact. Each entry point is a thin wrapper that maps the internal
 * verdict (enum guard_verdict) to its XDP_* / TC_ACT_* code. Stages: IP/CIDR rules
 * (bpf/lib/verdict.h), then names (bpf/lib/names.h): DNS queries, TLS SNI, HTTP Host.
 *
 * Loading needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root): without CAP_PERFMON the
 * verifier refuses variable-offset packet pointer arithmetic (Spectre v1 hardening), which
 * any parse of IPv4 options or IPv6 extension headers needs, and the subtraction of packet
 * pointers the name stage uses for lengths.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* The map definitions: included here, and only here. */
#include "maps/guard_maps.h"

/* Load-time knobs, set by user/loader.c through skel->rodata before load. */
const volatile __u32 cfg_trace = 0; /* write struct guard_trace for every packet */
const volatile __u32 cfg_has_src = 0; /* some list has direction=source: look the source up */
const volatile __u32 cfg_has_groups = 0; /* some [group] has clients =: look the sender up */
const volatile __u32 cfg_has_macs = 0; /* some [group] has macs =: look its Ethernet source up */
/* categories whose addresses are learned from DNS answers (bpf/lib/learn.h); 0: no learning */
const volatile __u64 cfg_learn_mask = 0;
const volatile __u32 cfg_dns_action = GUARD_DNS_NXDOMAIN; /* enum guard_dns_action */
const volatile __u32 cfg_tcp_action = GUARD_TCP_RESET; /* enum guard_tcp_action */
const volatile __u32 cfg_block_ttl = 10; /* TTL of the records of a forged DNS answer */
/* [guard] unexamined = block: a name the guard cannot examine is blocked (bpf/lib/names.h) */
const volatile __u32 cfg_block_unexamined = 0;
const volatile __u32 cfg_sinkhole4_set = 0; /* cfg_sinkhole4 holds an address */
const volatile __u32 cfg_sinkhole6_set = 0;
const volatile __u8 cfg_sinkhole4[4] = {};
const volatile __u8 cfg_sinkhole6[16] = {};

#include "bpf/lib/ctx.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/counters.h"
#include "bpf/lib/verdict.h"
#include "bpf/lib/names.h"

/*
 * TC: bytes to make linear before parsing when the device left them in fragments: the headers
 * and a ClientHello's first segment, which the walk reads in place. Rare on real devices.
 */
#define GUARD_PULL_LEN 2048

/*
 * Parse, judge, count: returns enum guard_verdict, having counted exactly one verdict. hook is
 * the entry point's constant (pc->hook too): passed on its own, it picks the name stage of the
 * program's kind at compile time, whatever clang keeps of pc in memory.
 */
static __always_inline int guard_classify(struct pkt_ctx *pc, const int hook)
{
	struct parse_result r;
	__u32 counter, group;
	__u64 a, b;
	int ret;

	ret = parse_packet(pc->data, pc->data_end, pc->vlan_hw, &r);
	guard_count_notes(r.notes, pc->bytes);
	if (ret < 0)
		return guard_pass(pc, (__u32)-ret);
	/*
	 * Verifier-neutral, for speed: r stays in memory (its address escapes to nothing), so
	 * the fields the hand-over reads come from the stack, not from registers clang would
	 * otherwise keep, and spill, across the whole parse (2-6 ns on every packet).
	 */
	asm volatile("" : : "r"(&r) : "memory");
	/*
	 * The client group (the sender's, else the receiver's: bpf/lib/verdict.h), found here
	 * for every packet, before the hand-over: the name stage's frame (the deepest of the
	 * call chain) holds no lookup keys of its own, and this frame has one call site.
	 */
	group = guard_client_group(pc, r.family, r.saddr, r.daddr);
	/* A packet that may carry a name: the name stage decides it all (bpf/lib/names.h). */
	if (names_hand_over(pc, &r, &a, &b)) {
		b |= (__u64)(group & 0xff) << 56;
		return hook == GUARD_HOOK_XDP ? guard_names_xdp(pc->ctx, a, b) :
						guard_names_skb(pc->ctx, a, b);
	}
	counter = guard_ip_decide(pc, r.family, r.saddr, r.daddr, group);
	return guard_ip_finish(pc, counter);
}

SEC("xdp")
int guard_xdp(struct xdp_md *ctx)
{
	struct pkt_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.ctx = ctx,
		.hook = GUARD_HOOK_XDP,
	};
	int v;

	pc.bytes = (__u64)(pc.data_end - pc.data);
	v = guard_classify(&pc, GUARD_HOOK_XDP);
	return v == GV_DROP ? XDP_DROP : v == GV_ANSWER ? XDP_TX : XDP_PASS;
}

static __always_inline int guard_tc(struct __sk_buff *skb, __u8 hook)
{
	struct pkt_ctx pc = { .ctx = skb, .hook = hook };
	__u32 want = skb->len < GUARD_PULL_LEN ? skb->len : GUARD_PULL_LEN;
	int v;

	/*
	 * Headers a driver left in page fragments are outside direct packet access and would
	 * read as a truncated frame (a pass): make the first bytes linear.
	 */
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);
	/* Reload after the pull: it invalidates every packet pointer. */
	pc.data = (void *)(long)skb->data;
	pc.data_end = (void *)(long)skb->data_end;
	pc.bytes = skb->len;
	/* The stack already moved a VLAN tag into the skb (ingress): it counts towards the limit. */
	pc.vlan_hw = skb->vlan_present ? 1 : 0;
	v = guard_classify(&pc, hook);
	if (v == GV_DROP)
		return TC_ACT_SHOT;
	if (v != GV_ANSWER)
		return TC_ACT_OK;
	/*
	 * The frame was rewritten into an answer: back out of the interface it came in by
	 * (ingress), or back up into the stack that sent it (egress). Its checksums are complete:
	 * the stack must not trust a receive checksum state computed for the old bytes.
	 */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	return bpf_redirect(skb->ifindex, hook == GUARD_HOOK_TC_EGRESS ? BPF_F_INGRESS : 0);
}

SEC("tc")
int guard_tc_ingress(struct __sk_buff *skb)
{
	return guard_tc(skb, GUARD_HOOK_TC_INGRESS);
}

SEC("tc")
int guard_tc_egress(struct __sk_buff *skb)
{
	return guard_tc(skb, GUARD_HOOK_TC_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
