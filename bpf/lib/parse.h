/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cursor parsers for the packet path: Ethernet, up to two VLAN tags, IPv4 or IPv6 (extension
 * headers walked with a constant bound), TCP and UDP. Header-only; included by bpf/guard.bpf.c
 * and bpf/minimal.bpf.c, and by host C (tests/unit/test_parse.c; fuzz targets can too), so the
 * parser the kernel runs is the parser the host tests: nothing here is BPF-only.
 *
 * Policy for odd shapes (every one is decided and counted, maps/counters.h):
 *   frame ends inside any header we read                    -> PASS_TRUNCATED
 *   not IPv4/IPv6 after the tags (ARP, LLDP...)              -> PASS_NOT_IP
 *   a third VLAN tag                                         -> PASS_VLAN_DEPTH
 *   IP version not matching the ethertype, IHL < 5,
 *   IPv4 total length below the header (0 is allowed: TSO), -> PASS_BAD_HEADER
 *   TCP data offset < 5, UDP length 1..7
 *   more than PARSE_IPV6_EXT_MAX IPv6 extension headers      -> PASS_IPV6_EXT
 * and the notes: VLAN / QINQ (set once the tags are walked), IPv4 options, fragments (first or
 * later), later fragments (no L4 header: judged by addresses only), IPv6 extension headers,
 * L4 neither TCP nor UDP (not noted for later fragments, whose L4 header is elsewhere).
 *
 * Return contract: each parse_*() returns >= 0 on success (parse_ethhdr: the ethertype after
 * the tags, host order; the others 0) or -counter, the negated enum guard_counter of the PASS
 * verdict that ends the parse. Notes accumulate in r->notes as NOTE_BIT(counter).
 */
#ifndef BPFGUARD_BPF_LIB_PARSE_H
#define BPFGUARD_BPF_LIB_PARSE_H

#include <linux/types.h>
#include "maps/counters.h"

#ifdef __BPF__
#include <bpf/bpf_helpers.h>
#define PARSE_FN static __always_inline
#else
#include <string.h>
#define PARSE_FN static inline
#endif

/*
 * Wire formats, defined here so that no UAPI header (and its glibc ties) is needed. 32-bit
 * fields are byte arrays: every struct is 2-byte aligned, as headers behind a 14-byte Ethernet
 * header are, so neither the host (UBSan) nor clang assume an alignment the frame lacks.
 */
struct hdr_eth {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct hdr_vlan {
	__be16 tci;
	__be16 proto; /* the encapsulated ethertype */
};

struct hdr_ipv4 {
	__u8 ver_ihl; /* version << 4 | ihl */
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off; /* flags << 13 | offset in 8-byte units */
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct hdr_ipv6 {
	__u8 ver_tc[4]; /* version << 4 | traffic class | flow label */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* The common start of hop-by-hop, routing, destination options and AH headers. */
struct hdr_ipv6_opt {
	__u8 nexthdr;
	__u8 hdrlen; /* AH: in 4-byte units minus 2; the others: in 8-byte units minus 1 */
};

struct hdr_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__u8 id[4];
};

struct hdr_tcp {
	__be16 source;
	__be16 dest;
	__u8 seq[4];
	__u8 ack_seq[4];
	__u8 doff_res; /* data offset << 4 */
	__u8 flags;
	__be16 window;
	__be16 check;
	__be16 urg_ptr;
};

struct hdr_udp {
	__be16 source;
	__be16 dest;
	__be16 len;
	__be16 check;
};

_Static_assert(sizeof(struct hdr_eth) == 14, "Ethernet header");
_Static_assert(sizeof(struct hdr_vlan) == 4, "VLAN tag");
_Static_assert(sizeof(struct hdr_ipv4) == 20, "IPv4 header");
_Static_assert(sizeof(struct hdr_ipv6) == 40, "IPv6 header");
_Static_assert(sizeof(struct hdr_ipv6_frag) == 8, "IPv6 fragment header");
_Static_assert(sizeof(struct hdr_tcp) == 20, "TCP header");
_Static_assert(sizeof(struct hdr_udp) == 8, "UDP header");

#define PARSE_ETH_P_IP 0x0800
#define PARSE_ETH_P_IPV6 0x86dd
#define PARSE_ETH_P_8021Q 0x8100
#define PARSE_ETH_P_8021AD 0x88a8

#define PARSE_IPPROTO_HOPOPTS 0
#define PARSE_IPPROTO_ICMP 1
#define PARSE_IPPROTO_TCP 6
#define PARSE_IPPROTO_UDP 17
#define PARSE_IPPROTO_ROUTING 43
#define PARSE_IPPROTO_FRAGMENT 44
#define PARSE_IPPROTO_AH 51
#define PARSE_IPPROTO_ICMPV6 58
#define PARSE_IPPROTO_NONE 59
#define PARSE_IPPROTO_DSTOPTS 60

#define PARSE_IPV4_MF 0x2000
#define PARSE_IPV4_OFFSET 0x1fff
#define PARSE_IPV6_FRAG_OFFSET 0xfff8

#define PARSE_VLAN_MAX 2 /* tags accepted: 802.1Q, QinQ */
#define PARSE_IPV6_EXT_MAX 8 /* extension headers walked before giving up (PASS_IPV6_EXT) */

/* Note counters as bits of parse_result.notes. */
#define NOTE_BIT(counter) (1u << ((counter)-GC_VERDICT_MAX))
#define PARSE_NOTES (GC_COUNTER_MAX - GC_VERDICT_MAX)
_Static_assert(PARSE_NOTES <= 32, "notes must fit in parse_result.notes");

#define PARSE_ERR(counter) (-(int)(counter))

/* Network to host order, the same on both sides (bpf_ntohs does exactly this). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define parse_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#else
#define parse_ntohs(x) ((__u16)(x))
#endif

/*
 * An address (4 or 16 bytes) out of the frame into the parse result: whole words on BPF (the
 * x86 JIT reads unaligned words, while clang splits a copy of 2-byte-aligned header fields
 * into halves, shifts and ors), memcpy on the host.
 */
PARSE_FN void parse_addr_copy(__u8 *to, const __u8 *from, int n)
{
#ifdef __BPF__
	if (n == 4) {
		*(__u32 *)(void *)to = *(const __u32 *)(const void *)from;
		return;
	}
	*(__u64 *)(void *)to = *(const __u64 *)(const void *)from;
	*(__u64 *)(void *)(to + 8) = *(const __u64 *)(const void *)(from + 8);
#else
	memcpy(to, from, (size_t)n);
#endif
}

struct hdr_cursor {
	const void *pos;
};

/*
 * What the parse found. Fields after an early -counter return are whatever had been reached.
 * The addresses are copied out of the frame (4 or 16 bytes, by family): the stages that judge
 * them then hold no packet pointer, so the verifier does not re-verify them once per header
 * layout (VLAN depth, IPv4 options, each IPv6 extension chain) that reaches them. The pointers
 * point into the frame, at bytes already bounds-checked.
 */
struct parse_result {
	__u8 saddr[16];
	__u8 daddr[16];
	/* parse_packet() zeroes everything from here on */
	const void *l4; /* the TCP/UDP header, NULL for other L4 and later fragments */
	const void *payload; /* after the TCP/UDP header (may equal data_end), or NULL */
	__u32 notes; /* NOTE_BIT() of each note counter */
	/* the IP packet's length by its header (v6: 40 + payload length); 0 (v4 TSO) or less than
	 * the headers (v6 jumbogram): unknown */
	__u16 ip_len;
	__u16 sport; /* TCP/UDP ports, host order; 0 when there is no L4 header */
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 l4_proto; /* PARSE_IPPROTO_*: TCP, UDP, or what the last header named */
	__u8 vlan_depth; /* tags seen, including those the device already removed */
	__u8 later_fragment; /* a non-first fragment: no L4 header, addresses only */
	__u8 tcp_flags;
};

static inline int parse_is_vlan(__u16 proto)
{
	return proto == PARSE_ETH_P_8021Q || proto == PARSE_ETH_P_8021AD;
}

/*
 * Ethernet and up to PARSE_VLAN_MAX tags of either TPID in any order. r->vlan_depth holds the
 * tags already removed by the device (TC: skb->vlan_present) and counts towards the limit.
 * Returns the ethertype after the tags (host order), -PASS_TRUNCATED or -PASS_VLAN_DEPTH.
 */
PARSE_FN int parse_ethhdr(struct hdr_cursor *nh, const void *data_end, struct parse_result *r)
{
	const struct hdr_eth *eth = nh->pos;
	__u16 proto;
	int i;

	if ((const void *)(eth + 1) > data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	proto = parse_ntohs(eth->proto);
	nh->pos = eth + 1;

	/* One more round than tags allowed, to see the tag that is one too many. */
	for (i = 0; i < PARSE_VLAN_MAX + 1; i++) {
		const struct hdr_vlan *vlan = nh->pos;

		if (!parse_is_vlan(proto))
			break;
		if (r->vlan_depth >= PARSE_VLAN_MAX)
			return PARSE_ERR(GC_PASS_VLAN_DEPTH);
		if ((const void *)(vlan + 1) > data_end)
			return PARSE_ERR(GC_PASS_TRUNCATED);
		proto = parse_ntohs(vlan->proto);
		nh->pos = vlan + 1;
		r->vlan_depth++;
	}
	if (r->vlan_depth == 1)
		r->notes |= NOTE_BIT(GC_NOTE_VLAN);
	else if (r->vlan_depth == 2)
		r->notes |= NOTE_BIT(GC_NOTE_QINQ);
	return proto;
}

/*
 * IPv4: version 4, IHL >= 5, the whole header (options included) inside the frame. Sets the
 * addresses, l4_proto and, for a non-first fragment, later_fragment. Returns 0 or -counter.
 */
PARSE_FN int parse_ipv4(struct hdr_cursor *nh, const void *data_end, struct parse_result *r)
{
	const struct hdr_ipv4 *ip = nh->pos;
	__u32 hlen, tot_len;
	__u16 frag;

	if ((const void *)(ip + 1) > data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	if ((ip->ver_ihl >> 4) != 4)
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	hlen = (ip->ver_ihl & 0xf) * 4;
	if (hlen < sizeof(*ip))
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	/* 0 is what TSO/BIG TCP packets carry; anything else must at least hold the header. */
	tot_len = parse_ntohs(ip->tot_len);
	if (tot_len && tot_len < hlen)
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	if ((const __u8 *)ip + hlen > (const __u8 *)data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	if (hlen > sizeof(*ip))
		r->notes |= NOTE_BIT(GC_NOTE_IPV4_OPTIONS);
	r->ip_len = (__u16)tot_len; /* 0 for TSO: unknown */

	frag = parse_ntohs(ip->frag_off);
	if (frag & (PARSE_IPV4_MF | PARSE_IPV4_OFFSET))
		r->notes |= NOTE_BIT(GC_NOTE_IPV4_FRAGMENT);
	if (frag & PARSE_IPV4_OFFSET) {
		r->notes |= NOTE_BIT(GC_NOTE_IPV4_LATER_FRAGMENT);
		r->later_fragment = 1;
	}
	r->family = 4;
	parse_addr_copy(r->saddr, ip->saddr, 4);
	parse_addr_copy(r->daddr, ip->daddr, 4);
	r->l4_proto = ip->protocol;
	nh->pos = (const __u8 *)ip + hlen;
	return 0;
}

/*
 * Hide a value from the compiler (not from the verifier): arithmetic written to avoid a branch
 * stays that way instead of being folded back into a compare-and-jump.
 */
#define parse_opaque(var) asm volatile("" : "=r"(var) : "0"(var))

/* The extension headers walked, as bits of a 64-bit mask (all their numbers are below 64). */
#define PARSE_IPV6_EXT_MASK                                                   \
	((1ull << PARSE_IPPROTO_HOPOPTS) | (1ull << PARSE_IPPROTO_ROUTING) |  \
	 (1ull << PARSE_IPPROTO_FRAGMENT) | (1ull << PARSE_IPPROTO_DSTOPTS) | \
	 (1ull << PARSE_IPPROTO_AH))

/* 1 when nexthdr is an extension header the walk follows, else 0. */
static inline __u64 parse_ipv6_is_ext(__u64 nexthdr)
{
	return nexthdr < 64 ? (PARSE_IPV6_EXT_MASK >> nexthdr) & 1 : 0;
}

/* 1 when a == b, else 0, without a branch (a, b < 2^63). */
static inline __u64 parse_eq(__u64 a, __u64 b)
{
	__u64 x = a ^ b;

	parse_opaque(x);
	return (x - 1) >> 63;
}

/* 1 when a != 0, else 0, without a branch (a < 2^63). */
static inline __u64 parse_nonzero(__u64 a)
{
	parse_opaque(a);
	return (0 - a) >> 63;
}

/*
 * IPv6 and its extension headers (hop-by-hop, routing, fragment, destination options, AH; at
 * most PARSE_IPV6_EXT_MAX). Any other next header is the L4 protocol. A fragment header with
 * a non-zero offset ends the walk (what follows is payload of another fragment). Returns 0 or
 * -counter.
 *
 * Verifier workaround: the walk is written without a branch on the header type. With one
 * branch per type, every mix of types gives the cursor a different range, each range is a
 * state the verifier cannot prune, and everything after the parse was verified once per mix
 * (about 170 layouts per VLAN depth: 175k instructions for XDP, 290k for TC, for this stage
 * alone). Here every header advances the cursor by the same expression, whose range the
 * verifier sees as [0, 2048] whatever the type, so the layouts after k headers collapse into
 * one state that also covers the shorter chains.
 */
PARSE_FN int parse_ipv6(struct hdr_cursor *nh, const void *data_end, struct parse_result *r)
{
	const struct hdr_ipv6 *ip6 = nh->pos;
	__u64 nexthdr;
	int i;

	if ((const void *)(ip6 + 1) > data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	if ((ip6->ver_tc[0] >> 4) != 6)
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	r->family = 6;
	/* a jumbogram (hop-by-hop option) says 0: 40, shorter than its headers, read as unknown */
	r->ip_len = (__u16)(parse_ntohs(ip6->payload_len) + sizeof(*ip6));
	parse_addr_copy(r->saddr, ip6->saddr, 16);
	parse_addr_copy(r->daddr, ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	nh->pos = ip6 + 1;

	for (i = 0; i < PARSE_IPV6_EXT_MAX; i++) {
		/* Every extension header is at least 8 bytes: the fragment header's size. */
		const struct hdr_ipv6_frag *h = nh->pos;
		__u64 is_frag, is_ah, later, hlen, units, len;

		if (!parse_ipv6_is_ext(nexthdr))
			break;
		if ((const void *)(h + 1) > data_end)
			return PARSE_ERR(GC_PASS_TRUNCATED);
		is_frag = parse_eq(nexthdr, PARSE_IPPROTO_FRAGMENT);
		is_ah = parse_eq(nexthdr, PARSE_IPPROTO_AH);
		/* The length byte: the fragment header has none (its second byte is reserved). */
		hlen = ((const struct hdr_ipv6_opt *)h)->hdrlen & (is_frag - 1);
		/*
		 * In 4-byte units: AH (hlen + 2), the others 2 * (hlen + 1); the fragment header
		 * (hlen 0) gives 2, its 8 bytes.
		 */
		units = hlen + 2 + (hlen & (is_ah - 1));
		len = units * 4;
		/* Drop the lower bound the verifier knows (8): every chain length nests in the next. */
		parse_opaque(len);
		len &= 0xffc;
		if ((const __u8 *)h + len > (const __u8 *)data_end)
			return PARSE_ERR(GC_PASS_TRUNCATED);
		later = is_frag & parse_nonzero(parse_ntohs(h->frag_off) & PARSE_IPV6_FRAG_OFFSET);
		r->notes |= NOTE_BIT(GC_NOTE_IPV6_EXT) |
			    (__u32)(is_frag << (GC_NOTE_IPV6_FRAGMENT - GC_VERDICT_MAX)) |
			    (__u32)(later << (GC_NOTE_IPV6_LATER_FRAGMENT - GC_VERDICT_MAX));
		nexthdr = h->nexthdr;
		nh->pos = (const __u8 *)h + len;
		if (later) {
			r->later_fragment = 1;
			break;
		}
	}
	if (!r->later_fragment && parse_ipv6_is_ext(nexthdr))
		return PARSE_ERR(GC_PASS_IPV6_EXT);
	r->l4_proto = (__u8)nexthdr;
	return 0;
}

/* TCP: the fixed header, data offset >= 5, options inside the frame. Returns 0 or -counter. */
PARSE_FN int parse_tcphdr(struct hdr_cursor *nh, const void *data_end, struct parse_result *r)
{
	const struct hdr_tcp *tcp = nh->pos;
	__u32 hlen;

	if ((const void *)(tcp + 1) > data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	hlen = (tcp->doff_res >> 4) * 4;
	if (hlen < sizeof(*tcp))
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	if ((const __u8 *)tcp + hlen > (const __u8 *)data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	r->l4 = tcp;
	r->sport = parse_ntohs(tcp->source);
	r->dport = parse_ntohs(tcp->dest);
	r->tcp_flags = tcp->flags;
	r->payload = (const __u8 *)tcp + hlen;
	nh->pos = r->payload;
	return 0;
}

/* UDP: the 8-byte header; a length field of 1..7 is malformed (0: jumbogram/GSO). */
PARSE_FN int parse_udphdr(struct hdr_cursor *nh, const void *data_end, struct parse_result *r)
{
	const struct hdr_udp *udp = nh->pos;
	__u16 len;

	if ((const void *)(udp + 1) > data_end)
		return PARSE_ERR(GC_PASS_TRUNCATED);
	len = parse_ntohs(udp->len);
	if (len && len < sizeof(*udp))
		return PARSE_ERR(GC_PASS_BAD_HEADER);
	r->l4 = udp;
	r->sport = parse_ntohs(udp->source);
	r->dport = parse_ntohs(udp->dest);
	r->payload = udp + 1;
	nh->pos = r->payload;
	return 0;
}

/*
 * The whole frame, data to data_end; vlan_hw is the number of VLAN tags the device already
 * removed. Fills r: every field but the address bytes, which are written for the family
 * parsed (4 or 16 bytes). Returns 0 when the addresses (and the L4 header when there is one)
 * are known, or -counter: the PASS verdict for a frame the pipeline does not judge.
 */
PARSE_FN int parse_packet(const void *data, const void *data_end, __u8 vlan_hw,
			  struct parse_result *r)
{
	struct hdr_cursor nh = { .pos = data };
	int proto, ret;

	/*
	 * Not the addresses: zeroing 32 bytes per packet for nothing, and clang copies such
	 * stores into every branch of the parse.
	 */
	__builtin_memset(&r->l4, 0, sizeof(*r) - __builtin_offsetof(struct parse_result, l4));
	r->vlan_depth = vlan_hw;
	proto = parse_ethhdr(&nh, data_end, r);
	if (proto < 0)
		return proto;
	if (proto == PARSE_ETH_P_IP)
		ret = parse_ipv4(&nh, data_end, r);
	else if (proto == PARSE_ETH_P_IPV6)
		ret = parse_ipv6(&nh, data_end, r);
	else
		return PARSE_ERR(GC_PASS_NOT_IP);
	if (ret < 0)
		return ret;
	if (r->later_fragment)
		return 0;
	if (r->l4_proto == PARSE_IPPROTO_TCP)
		return parse_tcphdr(&nh, data_end, r);
	if (r->l4_proto == PARSE_IPPROTO_UDP)
		return parse_udphdr(&nh, data_end, r);
	r->notes |= NOTE_BIT(GC_NOTE_L4_OTHER);
	return 0;
}

#endif
