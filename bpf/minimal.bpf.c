// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench baseline: an XDP program that reads Ethernet and the IPv4/IPv6 header, bounds
 * checked, and passes everything. `bpfguard bench` reports the guard's cost as a ratio to it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/parse.h"

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

char LICENSE[] SEC("license") = "GPL";
