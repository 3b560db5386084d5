/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-flow and per-CPU state of the name stage (DNS, TLS SNI, HTTP Host): the name scratch
 * buffer every name is copied into, the resumable ClientHello walk, and the per-flow record
 * that follows a ClientHello split over several TCP segments. Shared with user/ (the tests
 * read and reset these maps) and with the host builds of the parsers (bpf/lib/name.h, tls.h).
 */
#ifndef BPFGUARD_MAPS_FLOW_H
#define BPFGUARD_MAPS_FLOW_H

#include "abi.h"
#include "domain.h"

/* A name the program matches: at most 253 characters in at most 127 labels (RFC 1035). */
#define NAME_MAX_LEN DH_MAX_NAME
#define NAME_MAX_LABELS DH_MAX_LABELS
/* Wire form: a length byte per label and the root label: 255 bytes for the longest name. */
#define NAME_MAX_WIRE 255
/*
 * The buffer: b[0] is a dot, the name is b[1..len], then zero bytes to the end of the last
 * word the name touches. Sized for dh_label() (maps/domain.h), which reads whole words up to
 * 64 bytes past a label start: DH_SCRATCH_SIZE.
 */
#define NAME_BUF_LEN DH_SCRATCH_SIZE

/*
 * The name scratch buffer (one per CPU, map name_scratch). dot[i] is the index in b of the dot
 * before label i, left to right: label i is b[dot[i] + 1 .. end), end being dot[i + 1] or
 * len + 1 for the last label. The match fields are what bpf/lib/domain.h found.
 */
struct name_buf {
	__u8 b[NAME_BUF_LEN];
	__u8 dot[NAME_MAX_LABELS + 1];
	__u16 len; /* characters, without a trailing dot */
	__u16 labels; /* 0 for the root name (len 0) */
	__u32 match_leaf; /* the deciding domain leaf, DOM_LEAF_NONE if none */
	__u16 match_label; /* the first label of the suffix that matched */
	__u8 match_exact; /* the full name's exact-only key matched */
	__u8 pad;
	__u16 wire; /* name_from_wire(): the wire length */
	/* name_from_dotted(): 1 when a label may be empty or over 63 bytes (see there) */
	__u16 label_check;
	/* the domain walk's suffix key where a part of it stopped (bpf/lib/domain.h: DOM_MORE) */
	__u64 walk_key;
};
ABI_ASSERT_SIZE(struct name_buf, 320 + 128 + 24);

/*
 * The resumable walk of a TLS ClientHello (bpf/lib/tls.h): which field comes next, how many
 * bytes to skip before it, and the bytes of a field that straddles a segment boundary.
 */
struct tls_walk {
	__u64 acc; /* the bytes of the current field read so far, big-endian (up to 5) */
	__u32 skip; /* bytes to skip before the next field */
	__u32 hs_left; /* bytes of the ClientHello body not yet consumed (skips included) */
	__u32 ext_left; /* bytes of the extensions block not yet consumed */
	__u16 name_len; /* SNI: the host name's length, once known */
	__u16 name_have; /* SNI: bytes of the name already saved (struct flow_tls.name) */
	__u8 phase; /* enum tls_phase: the field that comes next */
	__u8 have; /* bytes of the current field read so far (a field cut by the segment) */
	__u8 flags; /* TLS_F_* */
	__u8 steps; /* fields walked so far, over every segment */
	__u32 seg_off; /* where the walk is in the current segment (not kept between segments) */
	__u16 rec_left; /* bytes of the current TLS record's payload not walked yet */
	__u16 rh_len; /* a record header cut by a segment: its length bytes read so far */
	__u8 rh_have; /* ... its bytes read so far (0: none pending) */
	__u8 name_cuts; /* record headers inside the SNI so far (bpf/lib/tls.h: TLS_PARTS_MAX) */
	__u8 pad[2];
};
ABI_ASSERT_SIZE(struct tls_walk, 40);

/* The part of the SNI in the segment just walked (bpf/lib/tls.h). */
struct tls_span {
	__u32 off; /* from the segment's start */
	__u32 len;
	__u32 save_at; /* where these bytes go in the saved name (TLS_MORE) */
	__u32 seg_len; /* the segment's length (set by the walk) */
};
ABI_ASSERT_SIZE(struct tls_span, 16);

/* Flow key: the client's segment as it was seen (source = the client). */
struct flow_key {
	__u8 saddr[16]; /* IPv4: the first 4 bytes, the rest zero */
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
};
ABI_ASSERT_SIZE(struct flow_key, 40);

/*
 * A ClientHello being followed over segments (map tls_flows, LRU). name holds the SNI bytes of
 * earlier segments; it has a word of slack, the saves being whole 8-byte words.
 */
#define FLOW_NAME_LEN (256 + 8)
struct flow_tls {
	__u32 next_seq; /* the sequence number the next in-order segment starts with */
	__u32 pad;
	__u64 expires; /* bpf_ktime_get_coarse_ns() after which the record is stale */
	struct tls_walk w;
	__u8 name[FLOW_NAME_LEN]; /* the SNI bytes seen in earlier segments (w.name_have) */
};
ABI_ASSERT_SIZE(struct flow_tls, 16 + 40 + FLOW_NAME_LEN);

/*
 * A DNS-over-TCP stream followed into its next segment (map dns_flows, LRU), when a segment
 * did not end at a message's end: where that segment stands in the stream of length-prefixed
 * messages (bpf/lib/names.h: names_dns_tcp). Also the walk's state over one segment.
 */
struct flow_dns {
	__u32 next_seq; /* the sequence number of the position below */
	__u16 msg_left; /* bytes of the current message still to come; 0: a length prefix */
	__u8 at_start; /* the current message's first byte comes next: it is judged then */
	__u8 pfx_have; /* 1: the first byte of a length prefix came (in pfx) */
	__u8 pfx;
	__u8 pad[7];
	__u64 expires; /* bpf_ktime_get_coarse_ns() after which the record is stale */
};
ABI_ASSERT_SIZE(struct flow_dns, 24);

/* Bytes of a segment on their way to a flow record's name (names_save): up to 255. */
#define SAVE_BUF_LEN 256
/* The copy of an HTTP request's first bytes (bpf/lib/http.h: HTTP_BUF_LEN). */
#define HTTP_SCRATCH_LEN 2328

/* A DNS query's header and question (bpf/lib/dns.h). */
struct dns_query {
	__u16 id; /* host order, as all fields */
	__u16 flags;
	__u16 qtype;
	__u16 qclass;
	__u16 arcount;
	__u16 wire; /* the QNAME's wire length; the question is wire + 4 bytes */
	__u8 has_opt; /* DNS_OPT_* of an OPT record right after the question (dns_find_opt) */
	__u8 pad[3];
};
ABI_ASSERT_SIZE(struct dns_query, 16);

/* What a blocked query is answered with (bpf/lib/dns.h: dns_build_answer). */
struct dns_answer_cfg {
	__u32 ttl; /* of every record, and the SOA's minimum (the negative-caching TTL) */
	__u8 a[4]; /* DNS_ANS_A's address */
	__u8 aaaa[16]; /* DNS_ANS_AAAA's address */
};
ABI_ASSERT_SIZE(struct dns_answer_cfg, 24);

/* Where an HTTP request's host starts (bpf/lib/http.h: http_scan, http_value). */
struct http_req {
	__u32 start;
	__u32 ows; /* optional whitespace may come first (a Host header's value) */
};

/* Where it is (bpf/lib/http.h: http_value). */
struct http_host {
	__u32 off; /* the host's first byte, from the payload's start */
	__u32 len;
};

/*
 * What the name stage knows of the packet (bpf/lib/names.h), copied from the parse into the
 * scratch: offsets from the frame's start, not pointers, and in map memory, so that the
 * stage is verified once, not once per header layout that reached it.
 */
struct name_pkt {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 l3_off; /* the IP header */
	__u32 payload_off; /* the L4 payload */
	__u32 plen; /* its length (by the IP length when known) */
	__u32 seq; /* TCP, host order */
	__u32 ack_seq;
	__u32 ip_counter; /* the IP decision, counted when no name decides */
	__u16 sport; /* host order */
	__u16 dport;
	__u8 family;
	__u8 l4_proto;
	__u8 tcp_flags;
	__u8 answerable; /* no IPv4 options, no IPv6 extension headers, not a fragment */
	__u32 slot; /* its flow's tls_pending slot (TCP) */
	__u32 kind; /* enum names_kind */
	/* the pipeline's context so far (struct pkt_ctx, bpf/lib/ctx.h) */
	__u64 bytes;
	__u64 block_mask;
	__u32 group;
	__u32 leaf_id;
	__u32 list_id;
	__u32 pad;
};
ABI_ASSERT_SIZE(struct name_pkt, 32 + 24 + 8 + 8 + 32);

/*
 * Per-CPU scratch of the name stage (map name_scratch): map memory, so that the verifier does
 * not track what the walks leave there (a stack struct would split its states by every value
 * stored), and room a 512-byte stack does not have.
 */
struct name_scratch {
	struct name_buf nb;
	struct tls_walk w; /* a first segment's walk */
	struct tls_span span; /* the SNI's bytes in the segment walked; an HTTP host's */
	__u8 save[SAVE_BUF_LEN]; /* bytes on their way to a flow record */
	struct flow_tls ft; /* a new flow record being built */
	__u8 http[HTTP_SCRATCH_LEN]; /* an HTTP request's first bytes, zero-padded */
	struct http_req rq; /* the scan's position: memory, see http_scan() */
	struct http_host host; /* what http_value() found */
	struct name_pkt pkt;
	struct flow_key key; /* the packet's flow */
	struct dns_query q; /* the DNS query being judged */
	struct dns_answer_cfg acfg; /* its answer's settings */
	struct flow_dns fd; /* a DNS-over-TCP segment's walk over its messages */
	__u32 dns_off; /* that walk's position in the segment */
	__u32 dns_verdict; /* what its messages decided so far (a counter) */
	__u32 dns_rec; /* the segment's stream had a record in dns_flows */
	__u32 dns_mlen; /* the length of the message being judged */
	__u32 dns_act; /* its verdict blocks (or is a name unexamined, to block) */
	__u32 slot_live; /* the packet's tls_pending slot holds a time to come: sc->key is made */
};
ABI_ASSERT_SIZE(struct name_scratch, 472 + 40 + 16 + SAVE_BUF_LEN + 16 + 40 + FLOW_NAME_LEN +
					     HTTP_SCRATCH_LEN + 16 + 104 + 40 + 16 + 24 + 24 + 24);

/*
 * The pending-flow filter (map tls_pending): FLOW_PENDING_SLOTS expiry times indexed by a hash
 * of the flow key. A TCP segment looks its flow up in tls_flows (and, to port 53, in
 * dns_flows) only when its slot holds a time in the future, so ordinary TCP traffic pays one
 * array read, not a hash lookup. A record in either map keeps its slot's time at or past its
 * own expiry.
 */
#define FLOW_PENDING_SLOTS 65536
#define FLOW_TLS_DEFAULT 16384 /* flows followed at once (tls_flows max_entries) */
#define FLOW_TLS_TIMEOUT_NS (10ull * 1000000000ull) /* a split ClientHello completes by then */
#define FLOW_DNS_DEFAULT 4096 /* DNS-over-TCP streams followed at once (dns_flows max_entries) */
#define FLOW_DNS_TIMEOUT_NS (10ull * 1000000000ull) /* a cut DNS message completes by then */
#define DNS_TCP_MSGS_MAX 16 /* messages judged in one TCP segment (more: unexamined) */

#endif
