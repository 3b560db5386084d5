/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Answers in place: a blocked DNS query over UDP becomes its own answer (NXDOMAIN, REFUSED,
 * sinkhole or NODATA: bpf/lib/dns.h writes the header and the records behind the question,
 * which stays where the client's query had it), a blocked TCP segment (TLS ClientHello, HTTP
 * request, DNS over TCP) becomes a reset to its sender. Ethernet and IP addresses and the
 * ports are swapped, lengths and every checksum rewritten; the frame is resized first with
 * bpf_xdp_adjust_tail() (XDP) or bpf_skb_change_tail() (TC), after which every packet pointer
 * is reloaded, and everything is written through packet pointers (no helper copies). The
 * entry point sends it back (XDP_TX; TC: bpf_redirect() to the interface it came from). BPF
 * only; included by bpf/lib/names.h after the cfg_* knobs.
 *
 * Shapes that are not answered (the caller drops them instead): IPv4 with options, IPv6 with
 * extension headers (a routing header would make the swapped addresses wrong), fragments.
 */
#ifndef BPFGUARD_BPF_LIB_ANSWER_H
#define BPFGUARD_BPF_LIB_ANSWER_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/lib/ctx.h"
#include "bpf/lib/dns.h"
#include "bpf/lib/parse.h"

#define ANS_TCP_FIN 0x01
#define ANS_TCP_SYN 0x02
#define ANS_TCP_RST 0x04
#define ANS_TCP_ACK 0x10
#define ANS_L3_OFF_MAX (14 + 8) /* Ethernet and two VLAN tags */

/* Copy len bytes at offset off of the frame to to (a map value): the hook's helper. */
static __always_inline long guard_load(struct pkt_ctx *pc, __u32 off, void *to, __u32 len)
{
	if (pc->hook == GUARD_HOOK_XDP)
		return bpf_xdp_load_bytes(pc->ctx, off, to, len);
	return bpf_skb_load_bytes(pc->ctx, off, to, len);
}

/*
 * Bytes kept in front of an answer's new bytes: Ethernet, two VLAN tags, an IPv6 header (a
 * reset); and a DNS answer's UDP header, DNS header and question.
 */
#define ANS_KEEP_MAX (ANS_L3_OFF_MAX + 40 + 8 + DNS_QEND_MAX)
_Static_assert(ANS_KEEP_MAX <= HTTP_SCRATCH_LEN && ANS_KEEP_MAX < 0x200, "ans_grow_head's copy");

/*
 * Grow an XDP frame by delta bytes at the head, then move its first keep bytes (the headers,
 * and a DNS answer's question) to the new start: the same frame as growing at the tail, for
 * drivers that leave little tailroom (veth hands XDP its skb's own buffer, whose tailroom
 * depends on the allocation size), while XDP guarantees XDP_PACKET_HEADROOM in front.
 * Returns 0, or -1 with the frame unchanged.
 */
static __always_inline int ans_grow_head(struct xdp_md *x, __u32 delta, __u32 keep)
{
	__u32 zero = 0;
	struct name_scratch *sc = bpf_map_lookup_elem(&MAP_NAME_SCRATCH, &zero);
	/* the HTTP bytes are done with once an answer is being sent; no room on the stack */
	__u8 *buf;

	if (!sc || keep == 0 || keep > ANS_KEEP_MAX || delta > 256)
		return -1;
	buf = sc->http;
	NAME_CLAMP(keep, 0x1ff);
	if (keep == 0 || bpf_xdp_adjust_head(x, -(int)delta))
		return -1;
	if (bpf_xdp_load_bytes(x, delta, buf, keep) || bpf_xdp_store_bytes(x, 0, buf, keep)) {
		/* neither wrote a byte (they check their bounds first): the frame as it was */
		bpf_xdp_adjust_head(x, (int)delta);
		return -1;
	}
	return 0;
}

/*
 * Resize the frame to len bytes, keeping its first keep bytes (the headers; the question of a
 * DNS answer), and reload the packet pointers; TC makes the frame's first len bytes linear
 * (len is at most ANS_FRAME_MAX). Returns 0 or -1.
 */
#define ANS_FRAME_MAX (ANS_L3_OFF_MAX + 40 + 8 + DNS_ANSWER_MAX)

static __always_inline int ans_resize(struct pkt_ctx *pc, __u32 len, __u32 keep)
{
	if (pc->hook == GUARD_HOOK_XDP) {
		struct xdp_md *x = pc->ctx;
		int delta = (int)len - (int)pc->bytes;

		if (bpf_xdp_adjust_tail(x, delta) &&
		    (delta <= 0 || ans_grow_head(x, (__u32)delta, keep)))
			return -1;
		pc->data = (void *)(long)x->data;
		pc->data_end = (void *)(long)x->data_end;
	} else {
		struct __sk_buff *skb = pc->ctx;

		if (bpf_skb_change_tail(skb, len, 0))
			return -1;
		/*
		 * The answer must be linear to be written in place. (skb opaque before each
		 * read: clang would otherwise compute &skb->data once and read through the sum,
		 * a modified context pointer the verifier refuses.)
		 */
		if (len > ANS_FRAME_MAX)
			return -1;
		NAME_CLAMP(len, 0x3ff);
		parse_opaque(skb);
		if ((void *)(long)skb->data + len > (void *)(long)skb->data_end)
			bpf_skb_pull_data(skb, len);
		parse_opaque(skb);
		pc->data = (void *)(long)skb->data;
		pc->data_end = (void *)(long)skb->data_end;
	}
	return 0;
}

/* Fold a sum of 16-bit words (in memory order) into the Internet checksum. */
static __always_inline __u16 ans_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* The pseudo header's sum: both addresses (either order), protocol, L4 length. */
static __always_inline __u64 ans_pseudo(const struct name_pkt *k, __u8 proto, __u32 len)
{
	const __u16 *s = (const __u16 *)k->saddr, *d = (const __u16 *)k->daddr;
	__u64 sum = (__u64)bpf_htons(proto) + bpf_htons((__u16)len);

	sum += (__u64)s[0] + s[1] + d[0] + d[1];
	if (k->family == 6)
		sum += (__u64)s[2] + s[3] + s[4] + s[5] + s[6] + s[7] + d[2] + d[3] + d[4] + d[5] +
		       d[6] + d[7];
	return sum;
}

/*
 * Turn the headers up to L4 around: MAC addresses swapped, IP addresses swapped (from the
 * parse's copies), IP lengths for l4_len bytes of L4, TTL / hop limit 64, IPv4 checksum.
 * l3_off is the IP header's offset. The checksum is summed from the fields' values, the
 * header's other fields read before anything is written: a load of bytes just stored by
 * several smaller stores waits for them (~5 ns). Returns 0 or -1 (the frame is too short:
 * not expected).
 */
static __always_inline int ans_turn_ip(struct pkt_ctx *pc, const struct name_pkt *k, __u32 l3_off,
				       __u32 l4_len)
{
	struct hdr_eth *eth = pc->data;
	__u8 mac[6];

	if ((void *)(eth + 1) > pc->data_end || l3_off > ANS_L3_OFF_MAX)
		return -1;
	NAME_CLAMP(l3_off, 0x1f);
	__builtin_memcpy(mac, eth->dst, 6);
	__builtin_memcpy(eth->dst, eth->src, 6);
	__builtin_memcpy(eth->src, mac, 6);
	if (k->family == 4) {
		struct hdr_ipv4 *ip = pc->data + l3_off;
		const __u16 *s = (const __u16 *)k->saddr;
		__u16 w0, id, frag, tot, ttl_proto;

		if ((void *)(ip + 1) > pc->data_end)
			return -1;
		w0 = *(const __u16 *)(void *)ip; /* version, IHL, TOS: kept */
		id = ip->id;
		frag = ip->frag_off & bpf_htons(0x4000); /* DF stays; never a fragment here */
		tot = bpf_htons((__u16)(sizeof(*ip) + l4_len));
		/* TTL 64 and the protocol, as the 16-bit word they share (little endian) */
		ttl_proto = (__u16)(64 | ip->protocol << 8);
		__builtin_memcpy(ip->saddr, k->daddr, 4);
		__builtin_memcpy(ip->daddr, k->saddr, 4);
		ip->tot_len = tot;
		ip->frag_off = frag;
		*(__u16 *)(void *)&ip->ttl = ttl_proto;
		/* the addresses' sum is the same in either order */
		ip->check = ans_fold((__u64)w0 + tot + id + frag + ttl_proto + s[0] + s[1] +
				     ((const __u16 *)k->daddr)[0] + ((const __u16 *)k->daddr)[1]);
	} else {
		struct hdr_ipv6 *ip6 = pc->data + l3_off;

		if ((void *)(ip6 + 1) > pc->data_end)
			return -1;
		__builtin_memcpy(ip6->saddr, k->daddr, 16);
		__builtin_memcpy(ip6->daddr, k->saddr, 16);
		ip6->payload_len = bpf_htons((__u16)l4_len);
		ip6->hop_limit = 64;
	}
	return 0;
}

/*
 * The one's complement sum (in memory order, unfolded) of the len bytes at offset off of the
 * frame, len 5..DNS_COPY_MAX, off at least 8 past the frame's start: whole 8-byte words, then
 * the last part of a word as the 8 bytes that end the block, the bytes already summed shifted
 * out. Returns 0, or -1 when the frame is shorter than off + len (not expected).
 */
static __always_inline int ans_sum(struct pkt_ctx *pc, __u32 off, __u32 len, __u64 *sum)
{
	__u32 n = len / 8, r = len & 7, i, o;
	const __u8 *p;
	__u64 s = 0, w;

	if (off < 8 || off > ANS_KEEP_MAX || len > DNS_COPY_MAX)
		return -1;
	for (i = 0; i < (DNS_COPY_MAX + 7) / 8; i++) {
		if (i >= n)
			break;
		o = off + i * 8;
		NAME_CLAMP(o, 0x3ff);
		p = pc->data + o;
		if (p + 8 > (const __u8 *)pc->data_end)
			return -1;
		w = name_load64(p);
		s += (w & 0xffffffff) + (w >> 32);
	}
	if (r) {
		o = off + len - 8;
		NAME_CLAMP(o, 0x3ff);
		p = pc->data + o;
		if (p + 8 > (const __u8 *)pc->data_end)
			return -1;
		w = name_load64(p) >> ((8 - r) * 8); /* little endian: the last r bytes */
		s += (w & 0xffffffff) + (w >> 32);
	}
	*sum = s;
	return 0;
}

/*
 * The UDP query of q (its DNS message at offset dns_off of the frame, behind the UDP header)
 * becomes the answer of kind in place: the frame is resized to the answer's length (the
 * headers and the question kept where they are), turned around, the UDP header rewritten,
 * dns_build_answer() writes the DNS header and the records behind the question. The UDP
 * checksum adds the sums of what was written (ports, length, the sum dns_build_answer kept)
 * to the question's, read in place, and the pseudo header's: no byte written is read back
 * (a load across recent smaller stores waits for them). Returns 0; -2 when the frame could
 * not be resized (it is unchanged); -1 when it could not be rewritten (the caller drops it).
 */
static __always_inline int ans_dns_udp(struct pkt_ctx *pc, const struct name_pkt *k,
				       const struct dns_query *q, __u32 dns_off, __u32 kind,
				       const struct dns_answer_cfg *cfg)
{
	__u32 l3_off = k->l3_off;
	__u32 l4_off =
		l3_off + (k->family == 4 ? sizeof(struct hdr_ipv4) : sizeof(struct hdr_ipv6));
	__u32 mlen = dns_answer_len(q, kind), total = 8 + mlen, qlen = (__u32)q->wire + 4;
	__u64 written, question;
	struct hdr_udp *u;
	__u16 ck;

	if (l3_off > ANS_L3_OFF_MAX || dns_off != l4_off + sizeof(*u) || mlen == 0)
		return -1;
	/* the frame is still the query when the resize fails: the caller may try a lean one */
	if (ans_resize(pc, l4_off + total, dns_off + 12 + qlen))
		return -2;
	if (ans_turn_ip(pc, k, l3_off, total))
		return -1;
	if (ans_sum(pc, dns_off + 12, qlen, &question))
		return -1;
	NAME_CLAMP(l4_off, 0x3f); /* at most 22 + 40 */
	u = pc->data + l4_off;
	if ((void *)(u + 1) > pc->data_end)
		return -1;
	u->source = bpf_htons(k->dport);
	u->dest = bpf_htons(k->sport);
	u->len = bpf_htons((__u16)total);
	if (dns_build_answer((__u8 *)(u + 1), pc->data_end, q, kind, cfg, &written) != mlen)
		return -1;
	/* the UDP header's and the message's sums are big-endian values: swapped to memory order */
	written += (__u64)k->sport + k->dport + total;
	ck = ans_fold(question + dns_sum_swap(dns_sum_fold(written)) +
		      ans_pseudo(k, PARSE_IPPROTO_UDP, total));
	u->check = ck ? ck : 0xffff;
	return 0;
}

/*
 * The TCP segment k (k->plen bytes of data) becomes a reset to its sender, the way
 * Linux answers a segment for no socket (tcp_v4_send_reset): after an ACK, RST with the
 * acknowledged number as its sequence number (exactly what the sender expects next, so it
 * accepts the reset); without, RST|ACK acknowledging the segment. No options, no data.
 * Returns 0, or -1 when the frame could not be rewritten (the caller drops it).
 */
static __always_inline int ans_tcp_reset(struct pkt_ctx *pc, const struct name_pkt *k)
{
	__u32 l3_off = k->l3_off, rseq = 0, rack = 0;
	__u32 l4_off =
		l3_off + (k->family == 4 ? sizeof(struct hdr_ipv4) : sizeof(struct hdr_ipv6));
	__u8 flags = k->tcp_flags, rflags;
	struct hdr_tcp *t;
	__u16 doff_flags;
	__u64 sum;

	if (l3_off > ANS_L3_OFF_MAX)
		return -1;
	if (flags & ANS_TCP_ACK) {
		rseq = bpf_htonl(k->ack_seq);
		rflags = ANS_TCP_RST;
	} else {
		rack = bpf_htonl(k->seq + k->plen + !!(flags & ANS_TCP_SYN) +
				 !!(flags & ANS_TCP_FIN));
		rflags = ANS_TCP_RST | ANS_TCP_ACK;
	}
	if (ans_resize(pc, l4_off + sizeof(*t), l4_off) || ans_turn_ip(pc, k, l3_off, sizeof(*t)))
		return -1;
	NAME_CLAMP(l4_off, 0x3f); /* at most 22 + 40 */
	t = pc->data + l4_off;
	if ((void *)(t + 1) > pc->data_end)
		return -1;
	/* data offset 5 and the flags, as the 16-bit word they share (little endian) */
	doff_flags = (__u16)(5 << 4 | rflags << 8);
	t->source = bpf_htons(k->dport);
	t->dest = bpf_htons(k->sport);
	__builtin_memcpy(t->seq, &rseq, 4);
	__builtin_memcpy(t->ack_seq, &rack, 4);
	*(__u16 *)(void *)&t->doff_res = doff_flags;
	t->window = 0;
	t->urg_ptr = 0;
	/* summed from the values, not read back (ans_turn_ip) */
	sum = ans_pseudo(k, PARSE_IPPROTO_TCP, sizeof(*t)) + bpf_htons(k->dport) +
	      bpf_htons(k->sport) + (rseq & 0xffff) + (rseq >> 16) + (rack & 0xffff) +
	      (rack >> 16) + doff_flags;
	t->check = ans_fold(sum);
	return 0;
}

#endif
