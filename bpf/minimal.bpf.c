// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench's programs (user/bench.c). minimal_xdp, the baseline: reads Ethernet and the
 * IPv4/IPv6 header, bounds checked, and passes everything; `bpfguard bench` reports the
 * guard's cost as a ratio to it. bench_restore_xdp, the harness of the "restore" method: puts
 * the case's original frame back (the program measured turned the last one into an answer),
 * then tail-calls the program measured; its own cost is measured with minimal_xdp as the
 * target and subtracted.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/parse.h"
#include "maps/bench.h"

/* The original frame of the case being measured (user/bench.c writes it before each case). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_frame);
} bench_frame SEC(".maps");

/* Slot 0: the program measured (the guard, or minimal_xdp for the harness's own cost). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

SEC("xdp")
int minimal_xdp(struct xdp_md *ctx)
{
	const void *data = (void *)(long)ctx->data;
	const void *data_end = (void *)(long)ctx->data_end;
	const struct hdr_eth *eth = data;
	__u8 first = 0;

	if ((const void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->proto == __builtin_bswap16(PARSE_ETH_P_IP)) {
		const struct hdr_ipv4 *ip = (const void *)(eth + 1);

		if ((const void *)(ip + 1) > data_end)
			return XDP_PASS;
		first = ip->daddr[0];
	} else if (eth->proto == __builtin_bswap16(PARSE_ETH_P_IPV6)) {
		const struct hdr_ipv6 *ip6 = (const void *)(eth + 1);

		if ((const void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		first = ip6->daddr[0];
	}
	/* Keep the header read the baseline is meant to pay for: the compiler would drop it. */
	barrier_var(first);
	return XDP_PASS;
}

/*
 * The frame back to the case's original length and bytes, then the program measured. Under
 * BPF_PROG_TEST_RUN with a repeat count, each repetition starts from the frame the last one
 * left: an answer or a reset, grown or shrunk at its tail (the test run's buffer has the
 * tailroom, so the guard never moves the frame's head there). Returns XDP_ABORTED when it
 * cannot (user/bench.c checks every return value).
 */
SEC("xdp")
int bench_restore_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0, len;
	struct bench_frame *f = bpf_map_lookup_elem(&bench_frame, &zero);
	int cur;

	if (!f)
		return XDP_ABORTED;
	len = f->len;
	if (len < 14 || len > BENCH_FRAME_MAX)
		return XDP_ABORTED;
	cur = (int)(ctx->data_end - ctx->data);
	if (cur != (int)len && bpf_xdp_adjust_tail(ctx, (int)len - cur))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, f->b, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_target, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
