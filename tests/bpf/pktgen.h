/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small packet builder for the tests: Ethernet, VLAN tags, IPv4 (options, fragment fields),
 * IPv6 (extension headers), TCP/UDP/ICMP, with lengths and checksums computed. Layers are
 * appended in order; each one writes its protocol number into the field of the layer before
 * (ethertype, IPv4 protocol, IPv6 next header). pkt_finish() fills lengths and checksums.
 * Included by tests/bpf/test_*.c, tests/unit/test_parse.c and test_dns.c, tests/fuzz/fuzz_dns.c;
 * host only.
 *
 * A declarative form, struct pkt_spec + pkt_build(), serves the fixture tables.
 */
#ifndef BPFGUARD_TESTS_PKTGEN_H
#define BPFGUARD_TESTS_PKTGEN_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include "bpf/lib/parse.h"

#define PKT_MAX 4096

enum pkt_next_kind {
	PKT_NEXT_NONE = 0,
	PKT_NEXT_ETHERTYPE = 1, /* a 2-byte ethertype field */
	PKT_NEXT_IPPROTO = 2, /* a 1-byte protocol / next header field */
};

struct pkt {
	__u8 buf[PKT_MAX];
	size_t len;
	size_t next_off; /* the field the next layer names itself in */
	int next_kind;
	int family; /* 4 or 6 once an IP header is added */
	size_t l3_off; /* the IP header */
	size_t l4_off; /* the TCP/UDP/ICMP header (0: none yet) */
	__u8 l4_proto;
	/*
	 * End of the headers the guard parses (TCP/UDP: the L4 header; ICMP and other protocols:
	 * the IP headers): every cut before it is a truncated frame.
	 */
	size_t l4_end;
	bool overflow; /* a layer did not fit: the test asserts this is false */
};

static inline void *pkt_put(struct pkt *p, size_t n)
{
	void *at;

	if (p->len + n > sizeof(p->buf)) {
		p->overflow = true;
		return NULL;
	}
	at = p->buf + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

static inline void pkt_put_be16(__u8 *at, __u16 v)
{
	at[0] = (__u8)(v >> 8);
	at[1] = (__u8)v;
}

static inline __u16 pkt_get_be16(const __u8 *at)
{
	return (__u16)(at[0] << 8 | at[1]);
}

/* Name this layer in the previous one; kind says what the previous field expects. */
static inline void pkt_link(struct pkt *p, int kind, __u16 proto)
{
	if (p->next_kind == PKT_NEXT_ETHERTYPE && kind == PKT_NEXT_ETHERTYPE)
		pkt_put_be16(p->buf + p->next_off, proto);
	else if (p->next_kind == PKT_NEXT_IPPROTO && kind == PKT_NEXT_IPPROTO)
		p->buf[p->next_off] = (__u8)proto;
}

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

static inline void pkt_eth(struct pkt *p)
{
	static const __u8 dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	static const __u8 src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	__u8 *h = pkt_put(p, sizeof(struct hdr_eth));

	if (!h)
		return;
	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	p->next_off = p->len - 2;
	p->next_kind = PKT_NEXT_ETHERTYPE;
}

/* A VLAN tag with TPID tpid (0x8100 or 0x88a8) and VLAN id vid. */
static inline void pkt_vlan(struct pkt *p, __u16 tpid, __u16 vid)
{
	__u8 *h;

	pkt_link(p, PKT_NEXT_ETHERTYPE, tpid);
	h = pkt_put(p, sizeof(struct hdr_vlan));
	if (!h)
		return;
	pkt_put_be16(h, vid & 0x0fff);
	p->next_off = p->len - 2;
}

/* A non-IP frame: the ethertype and n bytes of payload (ARP's 28 by default). */
static inline void pkt_raw(struct pkt *p, __u16 ethertype, size_t n)
{
	__u8 *b;

	pkt_link(p, PKT_NEXT_ETHERTYPE, ethertype);
	p->next_kind = PKT_NEXT_NONE;
	b = pkt_put(p, n);
	if (b)
		memset(b, 0xab, n);
	p->l4_end = p->len;
}

/*
 * IPv4 from src to dst (4 bytes each, network order), with opt_len bytes of options (a
 * multiple of 4: NOPs then an end-of-list) and the frag_off field (host order: flags | offset).
 */
static inline void pkt_ipv4(struct pkt *p, const __u8 *src, const __u8 *dst, size_t opt_len,
			    __u16 frag_off)
{
	size_t hlen = sizeof(struct hdr_ipv4) + opt_len;
	__u8 *h;

	pkt_link(p, PKT_NEXT_ETHERTYPE, PARSE_ETH_P_IP);
	p->l3_off = p->len;
	h = pkt_put(p, hlen);
	if (!h)
		return;
	h[0] = (__u8)(0x40 | (hlen / 4));
	pkt_put_be16(h + 4, 0x1234);
	pkt_put_be16(h + 6, frag_off);
	h[8] = 64;
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	if (opt_len) {
		memset(h + 20, 1, opt_len - 1); /* NOP */
		h[hlen - 1] = 0; /* end of options */
	}
	p->family = 4;
	p->next_off = p->l3_off + 9;
	p->next_kind = PKT_NEXT_IPPROTO;
	p->l4_end = p->len;
}

static inline void pkt_ipv6(struct pkt *p, const __u8 *src, const __u8 *dst)
{
	__u8 *h;

	pkt_link(p, PKT_NEXT_ETHERTYPE, PARSE_ETH_P_IPV6);
	p->l3_off = p->len;
	h = pkt_put(p, sizeof(struct hdr_ipv6));
	if (!h)
		return;
	h[0] = 0x60;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	p->family = 6;
	p->next_off = p->l3_off + 6;
	p->next_kind = PKT_NEXT_IPPROTO;
	p->l4_end = p->len;
}

/*
 * An IPv6 extension header of type (hop-by-hop, routing, destination options: len a multiple
 * of 8, >= 8; AH: a multiple of 4, >= 12), padded with Pad1 options.
 */
static inline void pkt_ipv6_ext(struct pkt *p, __u8 type, size_t len)
{
	__u8 *h;

	pkt_link(p, PKT_NEXT_IPPROTO, type);
	h = pkt_put(p, len);
	if (!h)
		return;
	h[1] = (__u8)(type == PARSE_IPPROTO_AH ? len / 4 - 2 : len / 8 - 1);
	p->next_off = p->len - len;
	p->l4_end = p->len;
}

/* An IPv6 fragment header: offset in 8-byte units, more fragments flag. */
static inline void pkt_ipv6_frag(struct pkt *p, __u16 offset, bool more)
{
	__u8 *h;

	pkt_link(p, PKT_NEXT_IPPROTO, PARSE_IPPROTO_FRAGMENT);
	h = pkt_put(p, sizeof(struct hdr_ipv6_frag));
	if (!h)
		return;
	pkt_put_be16(h + 2, (__u16)(offset << 3 | (more ? 1 : 0)));
	h[4] = 0xde;
	h[7] = 0x01;
	p->next_off = p->len - sizeof(struct hdr_ipv6_frag);
	p->l4_end = p->len;
}

/* TCP with data offset doff (in 32-bit words; 5 and up write that many header bytes). */
static inline void pkt_tcp(struct pkt *p, __u16 sport, __u16 dport, __u8 doff, __u8 flags)
{
	size_t hlen = doff >= 5 ? (size_t)doff * 4 : sizeof(struct hdr_tcp);
	__u8 *h;

	pkt_link(p, PKT_NEXT_IPPROTO, PARSE_IPPROTO_TCP);
	p->l4_off = p->len;
	p->l4_proto = PARSE_IPPROTO_TCP;
	h = pkt_put(p, hlen);
	if (!h)
		return;
	pkt_put_be16(h, sport);
	pkt_put_be16(h + 2, dport);
	h[4] = 0x11;
	h[12] = (__u8)(doff << 4);
	h[13] = flags;
	pkt_put_be16(h + 14, 65535);
	if (hlen > sizeof(struct hdr_tcp))
		memset(h + 20, 1, hlen - 20); /* NOP options */
	p->next_kind = PKT_NEXT_NONE;
	p->l4_end = p->len;
}

static inline void pkt_udp(struct pkt *p, __u16 sport, __u16 dport)
{
	__u8 *h;

	pkt_link(p, PKT_NEXT_IPPROTO, PARSE_IPPROTO_UDP);
	p->l4_off = p->len;
	p->l4_proto = PARSE_IPPROTO_UDP;
	h = pkt_put(p, sizeof(struct hdr_udp));
	if (!h)
		return;
	pkt_put_be16(h, sport);
	pkt_put_be16(h + 2, dport);
	p->next_kind = PKT_NEXT_NONE;
	p->l4_end = p->len;
}

/* An ICMP (IPv4) or ICMPv6 echo request, by the family of the IP header. */
static inline void pkt_icmp(struct pkt *p)
{
	__u8 proto = p->family == 6 ? PARSE_IPPROTO_ICMPV6 : PARSE_IPPROTO_ICMP;
	__u8 *h;

	pkt_link(p, PKT_NEXT_IPPROTO, proto);
	p->l4_off = p->len;
	p->l4_proto = proto;
	h = pkt_put(p, 8);
	if (!h)
		return;
	h[0] = p->family == 6 ? 128 : 8;
	pkt_put_be16(h + 4, 0x4242);
	pkt_put_be16(h + 6, 1);
	p->next_kind = PKT_NEXT_NONE;
}

/* Another IP protocol (GRE, ESP...): proto and n bytes of payload, no header parsed. */
static inline void pkt_l4_raw(struct pkt *p, __u8 proto, size_t n)
{
	__u8 *b;

	pkt_link(p, PKT_NEXT_IPPROTO, proto);
	p->next_kind = PKT_NEXT_NONE;
	b = pkt_put(p, n);
	if (b)
		memset(b, 0x5a, n);
}

/* n bytes of payload (a pattern when data is NULL). */
static inline void pkt_payload(struct pkt *p, const void *data, size_t n)
{
	__u8 *b = pkt_put(p, n);
	size_t i;

	if (!b)
		return;
	for (i = 0; i < n; i++)
		b[i] = data ? ((const __u8 *)data)[i] : (__u8)('a' + i % 26);
}

/* The Internet checksum of len bytes, starting from sum (a partial sum). */
static inline __u16 pkt_csum(const __u8 *b, size_t len, __u32 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (__u32)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The partial sum of the pseudo header for an L4 segment of len bytes of protocol proto. */
static inline __u32 pkt_pseudo_sum(const struct pkt *p, __u8 proto, size_t len)
{
	const __u8 *ip = p->buf + p->l3_off;
	size_t alen = p->family == 6 ? 16 : 4;
	const __u8 *src = ip + (p->family == 6 ? 8 : 12);
	__u32 sum = 0;
	size_t i;

	for (i = 0; i < 2 * alen; i += 2)
		sum += (__u32)(src[i] << 8 | src[i + 1]);
	sum += proto;
	sum += (__u32)(len >> 16) + (__u32)(len & 0xffff);
	return sum;
}

/* Fill IP lengths, the IPv4 header checksum, the UDP length and the L4 checksum. */
static inline void pkt_finish(struct pkt *p)
{
	__u8 *ip = p->buf + p->l3_off;

	if (p->family == 4) {
		size_t hlen = (size_t)(ip[0] & 0xf) * 4;

		pkt_put_be16(ip + 2, (__u16)(p->len - p->l3_off));
		pkt_put_be16(ip + 10, 0);
		pkt_put_be16(ip + 10, pkt_csum(ip, hlen, 0));
	} else if (p->family == 6) {
		pkt_put_be16(ip + 4, (__u16)(p->len - p->l3_off - sizeof(struct hdr_ipv6)));
	}
	if (p->l4_off) {
		__u8 *l4 = p->buf + p->l4_off;
		size_t len = p->len - p->l4_off;
		size_t ck = 2; /* the checksum field: ICMP's */
		__u32 sum = 0;

		if (p->l4_proto == PARSE_IPPROTO_TCP)
			ck = 16;
		else if (p->l4_proto == PARSE_IPPROTO_UDP)
			ck = 6;
		if (p->l4_proto == PARSE_IPPROTO_UDP)
			pkt_put_be16(l4 + 4, (__u16)len);
		pkt_put_be16(l4 + ck, 0);
		if (p->l4_proto != PARSE_IPPROTO_ICMP)
			sum = pkt_pseudo_sum(p, p->l4_proto, len);
		pkt_put_be16(l4 + ck, pkt_csum(l4, len, sum));
	}
}

/* Parse an address literal of either family into 16 bytes; returns 4, 6, or 0 if invalid. */
static inline int pkt_addr(const char *s, __u8 *out)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

/* --- the declarative form --- */

#define PKT_SPEC_EXT_MAX 12

struct pkt_ext {
	__u8 type; /* PARSE_IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _AH, _FRAGMENT */
	__u16 len; /* bytes (not for fragments; 0: the smallest the type allows) */
	__u16 frag_offset; /* fragments: offset in 8-byte units */
	__u8 more; /* fragments: M flag */
};

struct pkt_spec {
	__u16 vlan[4]; /* TPIDs, outermost first; 0 ends */
	__u16 ethertype; /* when set and there is no dst: a non-IP frame of that type */
	const char *src; /* source address (default: 192.0.2.1 or 2001:db8:ffff::1) */
	const char *dst; /* destination address; its family picks IPv4/IPv6 */
	__u8 ip_opts; /* IPv4 option bytes, a multiple of 4 */
	__u16 frag; /* IPv4 frag_off (flags | offset), host order */
	struct pkt_ext ext[PKT_SPEC_EXT_MAX];
	__u8 n_ext;
	__u8 l4; /* PARSE_IPPROTO_TCP, _UDP, _ICMP / _ICMPV6, or any other protocol number */
	__u8 doff; /* TCP data offset, 0: 5 */
	__u16 sport, dport; /* 0: 40000 and 443 */
	__u16 payload; /* payload bytes after L4 */
};

/* Build spec into p (pkt_init first is done here). Returns false if an address is invalid. */
static inline bool pkt_build(struct pkt *p, const struct pkt_spec *s)
{
	__u8 src[16], dst[16];
	int fam, i;

	pkt_init(p);
	pkt_eth(p);
	for (i = 0; i < 4 && s->vlan[i]; i++)
		pkt_vlan(p, s->vlan[i], (__u16)(100 + i));
	if (!s->dst) {
		pkt_raw(p, s->ethertype ? s->ethertype : 0x0806, 28);
		return !p->overflow;
	}
	fam = pkt_addr(s->dst, dst);
	if (!fam)
		return false;
	if (pkt_addr(s->src ? s->src : fam == 4 ? "192.0.2.1" : "2001:db8:ffff::1", src) != fam)
		return false;
	if (fam == 4) {
		pkt_ipv4(p, src, dst, s->ip_opts, s->frag);
	} else {
		pkt_ipv6(p, src, dst);
		for (i = 0; i < s->n_ext && i < PKT_SPEC_EXT_MAX; i++) {
			const struct pkt_ext *e = &s->ext[i];
			size_t len = e->len;

			if (!len) /* the smallest the type allows */
				len = e->type == PARSE_IPPROTO_AH ? 12 : 8;
			if (e->type == PARSE_IPPROTO_FRAGMENT)
				pkt_ipv6_frag(p, e->frag_offset, e->more);
			else
				pkt_ipv6_ext(p, e->type, len);
		}
	}
	/* A non-first fragment carries no L4 header: write payload, name the protocol. */
	if ((fam == 4 && (s->frag & PARSE_IPV4_OFFSET)) ||
	    (fam == 6 && s->n_ext && s->ext[s->n_ext - 1].type == PARSE_IPPROTO_FRAGMENT &&
	     s->ext[s->n_ext - 1].frag_offset)) {
		pkt_l4_raw(p, s->l4, s->payload ? s->payload : 64);
		pkt_finish(p);
		return !p->overflow;
	}
	switch (s->l4) {
	case PARSE_IPPROTO_TCP:
		pkt_tcp(p, s->sport ? s->sport : 40000, s->dport ? s->dport : 443,
			s->doff ? s->doff : 5, 0x02);
		break;
	case PARSE_IPPROTO_UDP:
		pkt_udp(p, s->sport ? s->sport : 40000, s->dport ? s->dport : 53);
		break;
	case PARSE_IPPROTO_ICMP:
	case PARSE_IPPROTO_ICMPV6:
		pkt_icmp(p);
		break;
	default:
		pkt_l4_raw(p, s->l4, 16);
		break;
	}
	if (s->payload)
		pkt_payload(p, NULL, s->payload);
	pkt_finish(p);
	return !p->overflow;
}

#endif
