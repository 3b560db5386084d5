/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The name stage (DESIGN.md "The packet path", step 4): find the name a packet carries (a DNS
 * query over UDP/53, or every query of a TCP/53 segment, the stream followed over segments, a
 * TLS ClientHello's SNI on any TCP port, followed over segments, an HTTP/1.x request's host on
 * any TCP port), bring it into the per-CPU scratch
 * buffer, look it up (bpf/lib/domain.h) and act: drop, answer the query (bpf/lib/answer.h),
 * reset the connection. BPF only; included by bpf/guard.bpf.c after maps/guard_maps.h, the
 * cfg_* knobs and bpf/lib/verdict.h.
 *
 * The main program hands a packet over (names_hand_over) when it may carry a name: a TCP
 * segment with data that starts like a TLS handshake or an HTTP request, goes to port 53, or
 * belongs to a followed flow; a UDP datagram to port 53. Every other packet stays in the main
 * program, which decides by IP rules as it did before this stage existed. While learning
 * (cfg_learn_mask, bpf/lib/learn.h), a UDP datagram from port 53 comes too: a DNS response
 * whose addresses may be learned (names_dns_learn; it passes by the IP decision). For a packet
 * handed over, guard_names_xdp/_skb decide everything, IP rules first (an IP drop, or a drop by
 * a learned destination, wins), and count exactly one verdict:
 *   a blocked category matched        DROP_DNS / ANSWER_DNS_* / DROP_DNS_TCP / RESET_DNS_TCP /
 *                                      DROP_SNI / RESET_SNI / DROP_HTTP / RESET_HTTP
 *   an allow entry matched             PASS_DOMAIN_ALLOW (an IP allow does not exempt a name;
 *                                      a name allow does not exempt an IP drop)
 *   a block entry, category off now    PASS_DOMAIN_CATEGORY_OFF
 *   a name the guard cannot examine    PASS_NAME_*, PASS_DNS_MALFORMED, PASS_TLS_*
 *   a first segment of a split hello   PASS_TLS_PENDING
 *   nothing matched, no name           the IP decision (PASS_NOMATCH, PASS_ALLOW, ...)
 *
 * Split ClientHellos: a first segment that ends before the SNI leaves a record in tls_flows
 * (keyed by the client's 5-tuple: struct tls_walk, the SNI bytes seen, the next sequence
 * number) and an expiry time in tls_pending[slot(5-tuple)]; a TCP segment with data looks its
 * flow up only when its slot holds a time in the future. Segments are followed in order only:
 * a segment from before the expected sequence number is a retransmission (noted, passed by the
 * IP decision, the following goes on); one from after it means a gap (PASS_TLS_UNORDERED, the
 * record is dropped, the flow passes). A record lives FLOW_TLS_TIMEOUT_NS after its last
 * segment; the LRU map evicts the oldest when full. A ClientHello in several TLS records is
 * followed the same way (bpf/lib/tls.h): the walk state says where the current record ends;
 * a name cut by a record's end inside a segment comes in parts (TLS_PART), saved as the parts
 * of earlier segments are (in sc->ft.name for a first segment).
 *
 * DNS over TCP (names_dns_tcp): every length-prefixed message that starts in a segment, up to
 * DNS_TCP_MSGS_MAX; a segment that ends inside a message or its prefix leaves a record in
 * dns_flows (struct flow_dns: where the next segment stands in the stream).
 */
#ifndef BPFGUARD_BPF_LIB_NAMES_H
#define BPFGUARD_BPF_LIB_NAMES_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif
#include "bpf/lib/answer.h"
#include "bpf/lib/counters.h"
#include "bpf/lib/ctx.h"
#include "bpf/lib/dns.h"
#include "bpf/lib/domain.h"
#include "bpf/lib/http.h"
#include "bpf/lib/tls.h"

/* name_judge(): a blocked category matched (not a counter). */
#define NAME_BLOCK 0xffffu

static __always_inline struct name_scratch *names_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&MAP_NAME_SCRATCH, &zero);
}

/*
 * --- The walks, as global functions ---
 * Verifier workaround: a global (non-static) function is verified once, on its own, and its
 * caller sees an unknown result. Inlined, each walk's loop ends in as many states as it has
 * exits (an iteration, a field, a word), and all the code after it (copies, lookup, answers)
 * was verified once per state: over a million instructions. The runtime cost is a call.
 */

/*
 * A part of the lookup (bpf/lib/domain.h): levels from .. from + DOM_PART_LEVELS - 1 of the
 * name in nb. Returns 0 (nb->match_*), DOM_MORE or -counter: see names_dom_lookup().
 */
__noinline int guard_dom_lookup(struct name_buf *nb, __u32 from)
{
	if (!nb)
		return NAME_ERR(PASS_NAME_MALFORMED);
	return dom_lookup_part(nb, from);
}

/*
 * The lookup of the name in nb, a part at a time (inlined in each caller: no call more than the
 * walk's own for a name of up to DOM_PART_LEVELS labels). Returns 0 (nb->match_*) or -counter.
 */
static __always_inline int names_dom_lookup(struct name_buf *nb)
{
	int ret = DOM_MORE;
	__u32 p;

	for (p = 0; p < DOM_PARTS && ret == DOM_MORE; p++)
		ret = guard_dom_lookup(nb, p * DOM_PART_LEVELS);
	/* DOM_PARTS parts reach DH_MAX_LABELS, as deep as nb holds: not expected */
	return ret == DOM_MORE ? NAME_ERR(PASS_NAME_TOO_LONG) : ret;
}

/* A DNS question copied into nb (avail bytes): parsed (q), lower case, looked up. */
__noinline int guard_dns_name(struct name_buf *nb, __u32 avail, struct dns_query *q)
{
	int ret;

	if (!nb || !q)
		return NAME_ERR(PASS_DNS_MALFORMED);
	ret = dns_question(nb, avail, q);
	if (ret)
		return ret;
	return names_dom_lookup(nb);
}

/* A text name (SNI, Host) of len bytes copied into nb->b[1..]: dots, labels checked, looked up. */
__noinline int guard_text_name(struct name_buf *nb, __u32 len)
{
	int ret;

	if (!nb)
		return NAME_ERR(PASS_NAME_MALFORMED);
	ret = name_from_dotted(nb, len);
	if (!ret && nb->label_check)
		ret = name_check_labels(nb);
	if (ret)
		return ret;
	return names_dom_lookup(nb);
}

/* Payload offsets the walks take: far more than any headers (the parse allows < 4 KB). */
#define NAMES_OFF_MAX 0x3fff

/*
 * A DNS question read in place (per program type): the message at frame offset msg_off, avail
 * bytes of it from the QNAME on, which must all be in the linear data. dns_name_scan() records
 * the labels in sc->nb, sc->q gets the question's wire length (QTYPE and QCLASS must be in the
 * linear data too: the answer reads them there, names_dns()), and the walk
 * (bpf/lib/domain.h) hashes the labels it needs from the packet: no copy. Returns 0
 * (nb->match_*), or DNS_FAST_COPY for anything else (bytes outside the linear data, a name
 * the scan does not accept): the caller then copies the question and runs guard_dns_name(),
 * the reference.
 */
#define DNS_FAST_COPY 1
#define NAMES_DNS_FAST(sfx, ctx_type)                                                              \
	__noinline int guard_dns_fast_##sfx(ctx_type *ctx, struct name_scratch *sc, __u32 msg_off, \
					    __u32 avail)                                           \
	{                                                                                          \
		const __u8 *data = (const __u8 *)(long)ctx->data;                                  \
		const __u8 *end = (const __u8 *)(long)ctx->data_end;                               \
		const __u8 *msg, *qt;                                                              \
		__u32 at;                                                                          \
		int wire;                                                                          \
                                                                                                   \
		if (!sc || msg_off > NAMES_OFF_MAX || avail > DNS_COPY_MAX)                        \
			return DNS_FAST_COPY;                                                      \
		NAME_CLAMP(msg_off, NAMES_OFF_MAX);                                                \
		NAME_CLAMP(avail, 0x1ff);                                                          \
		msg = data + msg_off;                                                              \
		if (msg + sizeof(struct hdr_dns) + avail > end)                                    \
			return DNS_FAST_COPY;                                                      \
		wire = dns_name_scan(msg, end, avail, &sc->nb);                                    \
		if (wire < 0)                                                                      \
			return DNS_FAST_COPY;                                                      \
		at = (__u32)wire;                                                                  \
		NAME_CLAMP(at, 0xff);                                                              \
		qt = msg + sizeof(struct hdr_dns) + at;                                            \
		if (qt + 4 > end)                                                                  \
			return DNS_FAST_COPY;                                                      \
		sc->q.wire = (__u16)at;                                                            \
		return dom_walk(&sc->nb, msg, end) ? DNS_FAST_COPY : 0;                            \
	}

NAMES_DNS_FAST(xdp, struct xdp_md)
NAMES_DNS_FAST(skb, struct __sk_buff)

/*
 * The HTTP request copied into sc->http (n bytes, zero-padded): method, target, Host line
 * (http_scan), the host's end (http_value), the host copied to sc->nb.b[1..]. Returns 0 with
 * sc->host (the host in the payload), HTTP_NOT_REQUEST, HTTP_NO_HOST or -counter.
 */
__noinline int guard_http_host(struct name_scratch *sc, __u32 n)
{
	__u32 i, off, len;
	int ret;

	if (!sc)
		return HTTP_NOT_REQUEST;
	if (n > HTTP_COPY_MAX)
		return HTTP_NOT_REQUEST;
	/* sc->rq, not a stack struct: the verifier tracks the stack (see http_scan) */
	ret = http_scan(sc->http, n, &sc->rq);
	if (ret)
		return ret;
	ret = http_value(sc->http, n, &sc->rq, &sc->host);
	if (ret)
		return ret;
	off = NAME_LAUNDER(sc->host.off);
	len = NAME_LAUNDER(sc->host.len);
	/*
	 * Whole words at the name buffer's own offsets, from the byte before the host (b[0], the
	 * leading dot, set in the first): name_from_dotted() then reads words that one store
	 * each wrote (a word read across two stores waits for both to reach the cache).
	 */
	if (off == 0)
		return HTTP_NO_HOST; /* (never: a method comes first) */
	off--;
	NAME_CLAMP(off, HTTP_OFF_MASK);
	name_store64(sc->nb.b, (name_load64(sc->http + off) & ~0xffull) | '.');
	for (i = 1; i < HTTP_HOST_WORDS; i++) {
		if (i * 8 > len)
			break;
		name_store64(sc->nb.b + i * 8, name_load64(sc->http + off + i * 8));
	}
	return 0;
}

/*
 * The offset in sc->http (n bytes) of a request pipelined behind the one there, whose header
 * block is searched for its end from offset from (http_next_request), or 0.
 */
__noinline int guard_http_next(struct name_scratch *sc, __u32 n, __u32 from)
{
	if (!sc || n > HTTP_COPY_MAX)
		return 0;
	return (int)http_next_request(sc->http, n, from);
}

/*
 * The ClientHello walk of one segment at offset off (tls_walk_len), per program type; with
 * NAMES_TLS_RESUME or'ed into seglen, on in the same segment after TLS_PART (tls_walk_resume).
 */
#define NAMES_TLS_RESUME 0x80000000u
#define NAMES_TLS_WALK(sfx, ctx_type)                                                          \
	__noinline int guard_tls_walk_##sfx(ctx_type *ctx, struct tls_walk *w,                 \
					    struct tls_span *span, __u32 off, __u32 seglen)    \
	{                                                                                      \
		const __u8 *data = (const __u8 *)(long)ctx->data;                              \
		const __u8 *end = (const __u8 *)(long)ctx->data_end;                           \
                                                                                               \
		if (!w || !span || off > NAMES_OFF_MAX)                                        \
			return NAME_ERR(PASS_TLS_UNSUPPORTED);                                 \
		NAME_CLAMP(off, NAMES_OFF_MAX);                                                \
		if (seglen & NAMES_TLS_RESUME)                                                 \
			return tls_walk_resume(w, data + off, seglen & ~NAMES_TLS_RESUME, end, \
					       span);                                          \
		return tls_walk_len(w, data + off, seglen, end, span);                         \
	}

NAMES_TLS_WALK(xdp, struct xdp_md)
NAMES_TLS_WALK(skb, struct __sk_buff)

static __always_inline int names_tls_walk(struct pkt_ctx *pc, struct tls_walk *w,
					  struct tls_span *span, __u32 off, __u32 seglen)
{
	if (pc->hook == GUARD_HOOK_XDP)
		return guard_tls_walk_xdp(pc->ctx, w, span, off, seglen);
	return guard_tls_walk_skb(pc->ctx, w, span, off, seglen);
}

/*
 * The len bytes (1..NAME_MAX_LEN + 1) of a name at frame offset off (> 0) to nb->b[1..len], in
 * place from the linear data, per program type: whole words at the buffer's own offsets, b[0]
 * (the leading dot) with the byte before the name, so name_from_dotted() and the walk read
 * words that one store each wrote (a helper's copy is read back across its stores, and such a
 * read waits for them to reach the cache). Returns 0, or 1 when a word is not in the linear
 * data: the caller copies with the helper.
 */
#define NAMES_NAME_WORDS(sfx, ctx_type)                                                           \
	__noinline int guard_name_words_##sfx(ctx_type *ctx, struct name_buf *nb, __u32 off,      \
					      __u32 len)                                          \
	{                                                                                         \
		const __u8 *data = (const __u8 *)(long)ctx->data;                                 \
		const __u8 *end = (const __u8 *)(long)ctx->data_end;                              \
		const __u8 *q, *r;                                                                \
		__u32 i;                                                                          \
                                                                                                  \
		if (!nb || off == 0 || off > NAMES_OFF_MAX || len == 0 || len > NAME_MAX_LEN + 1) \
			return 1;                                                                 \
		off--; /* from the byte before the name */                                        \
		NAME_CLAMP(off, NAMES_OFF_MAX);                                                   \
		q = data + off;                                                                   \
		if (q + 8 > end)                                                                  \
			return 1;                                                                 \
		name_store64(nb->b, (name_load64(q) & ~0xffull) | '.');                           \
		for (i = 1; i < (NAME_MAX_LEN + 1) / 8 + 1; i++) {                                \
			if (i * 8 > len)                                                          \
				break;                                                            \
			r = q + i * 8;                                                            \
			if (r + 8 > end)                                                          \
				return 1;                                                         \
			name_store64(nb->b + i * 8, name_load64(r));                              \
		}                                                                                 \
		return 0;                                                                         \
	}

NAMES_NAME_WORDS(xdp, struct xdp_md)
NAMES_NAME_WORDS(skb, struct __sk_buff)

static __always_inline int names_name_words(struct pkt_ctx *pc, struct name_buf *nb, __u32 off,
					    __u32 len)
{
	if (pc->hook == GUARD_HOOK_XDP)
		return guard_name_words_xdp(pc->ctx, nb, off, len);
	return guard_name_words_skb(pc->ctx, nb, off, len);
}

/*
 * Judge the name in nb whose lookup returned ret (0, or -counter for a name it could not
 * examine) under the client group's mask. Returns NAME_BLOCK, PASS_DOMAIN_ALLOW,
 * PASS_DOMAIN_CATEGORY_OFF (pc's leaf, list and trace fields then name the domain entry), a
 * PASS_NAME_* reason, or PASS_NOMATCH (pc untouched: the IP decision stands).
 */
static __always_inline __u32 name_judge(struct pkt_ctx *pc, struct name_buf *nb, int ret)
{
	const struct dom_leaf *l;
	__u32 leaf;

	if (ret < 0)
		return (__u32)-ret;
	leaf = nb->match_leaf;
	if (leaf == DOM_LEAF_NONE)
		return GC_PASS_NOMATCH;
	l = bpf_map_lookup_elem(&MAP_DOM_LEAVES, &leaf);
	if (!l || !(l->block_cats || (l->flags & DOM_LEAF_F_ALLOW)))
		return GC_PASS_NOMATCH;
	pc->leaf_id = leaf;
	pc->list_id = l->list_id;
	pc->trace_flags = TRACE_F_DOMAIN | (nb->match_exact ? TRACE_F_EXACT : 0);
	pc->match_label = (__u8)nb->match_label;
	if (l->block_cats & pc->block_mask) {
		guard_list_hit(pc->list_id, pc->bytes);
		return NAME_BLOCK;
	}
	if (l->flags & DOM_LEAF_F_ALLOW) {
		guard_list_hit(pc->list_id, pc->bytes);
		return GC_PASS_DOMAIN_ALLOW;
	}
	return GC_PASS_DOMAIN_CATEGORY_OFF;
}

/* A blocked TCP segment: reset (tcp_action = reset, when the frame can be turned) or drop. */
static __always_inline int names_tcp_block(struct pkt_ctx *pc, const struct name_pkt *k,
					   __u32 drop_counter, __u32 reset_counter)
{
	if (cfg_tcp_action == GUARD_TCP_RESET && k->answerable && !ans_tcp_reset(pc, k))
		return guard_verdict(pc, reset_counter, GV_ANSWER);
	return guard_drop(pc, drop_counter);
}

/* The reasons of a name the guard cannot examine: one run of the counters. */
_Static_assert(GC_PASS_NAME_TRUNCATED == GC_PASS_NAME_TOO_LONG + 1 &&
		       GC_PASS_NAME_MALFORMED == GC_PASS_NAME_TOO_LONG + 2 &&
		       GC_PASS_DNS_MALFORMED == GC_PASS_NAME_TOO_LONG + 3 &&
		       GC_PASS_TLS_MALFORMED == GC_PASS_NAME_TOO_LONG + 4 &&
		       GC_PASS_TLS_UNSUPPORTED == GC_PASS_NAME_TOO_LONG + 5 &&
		       GC_PASS_HTTP_UNSUPPORTED == GC_PASS_NAME_TOO_LONG + 6,
	       "the unexamined reasons are consecutive");

/* A name the guard cannot examine: PASS_NAME_TOO_LONG .. PASS_HTTP_UNSUPPORTED. */
static __always_inline int names_unexamined(__u32 counter)
{
	return counter - GC_PASS_NAME_TOO_LONG <= GC_PASS_HTTP_UNSUPPORTED - GC_PASS_NAME_TOO_LONG;
}

/*
 * A packet that passes by counter: the verdict, or -1 for the IP decision (PASS_NOMATCH). A
 * name the guard cannot examine (PASS_NAME_TOO_LONG .. PASS_HTTP_UNSUPPORTED: too long, cut,
 * malformed, a ClientHello in too many records, more HTTP requests in a segment than it
 * reads) is blocked instead when [guard] unexamined = block (cfg_block_unexamined): a TCP
 * segment as tcp_action says, a DNS query over UDP dropped (a question the guard could not read
 * cannot be answered). Such a verdict names no domain entry in the trace, even when an entry
 * decided a name before it in the segment (a query or request pipelined).
 */
static __always_inline int names_pass(struct pkt_ctx *pc, const struct name_pkt *k, __u32 counter)
{
	if (counter == GC_PASS_NOMATCH)
		return -1;
	if (!names_unexamined(counter))
		return guard_pass(pc, counter);
	pc->leaf_id = 0;
	pc->list_id = 0;
	pc->trace_flags = 0;
	pc->match_label = 0;
	if (!cfg_block_unexamined)
		return guard_pass(pc, counter);
	if (k->l4_proto == PARSE_IPPROTO_TCP)
		return names_tcp_block(pc, k, GC_DROP_UNEXAMINED, GC_RESET_UNEXAMINED);
	return guard_drop(pc, GC_DROP_UNEXAMINED);
}

/* Text name (SNI, Host) of len bytes now in nb->b[1..]: dots, case, lookup, judged. */
static __always_inline __u32 names_text(struct pkt_ctx *pc, struct name_buf *nb, __u32 len)
{
	return name_judge(pc, nb, guard_text_name(nb, len));
}

/* The payload's first byte: a pointer from the frame's start and an offset the verifier bounds. */
static __always_inline const __u8 *names_payload(struct pkt_ctx *pc, const struct name_pkt *k)
{
	__u32 off = k->payload_off;

	NAME_CLAMP(off, NAMES_OFF_MAX);
	return (const __u8 *)pc->data + off;
}

/* names_dns_judge(): a message that is no query (a response, NOTIFY, UPDATE), noted. */
#define NAMES_NOT_QUERY 0xfffeu

/*
 * Judge the DNS query at offset msg_off of the frame (the UDP payload, or after a length
 * prefix in a TCP segment), msg_len bytes of it in the segment: name_judge()'s result
 * (NAME_BLOCK, a pass counter, PASS_NOMATCH), PASS_DNS_MALFORMED, or NAMES_NOT_QUERY.
 */
static __always_inline __u32 names_dns_judge(struct pkt_ctx *pc, struct name_scratch *sc,
					     __u32 msg_off, __u32 msg_len, __u32 source)
{
	const __u8 *msg;
	__u32 n;
	int ret;

	pc->source = (__u8)source;
	NAME_CLAMP(msg_off, NAMES_OFF_MAX);
	msg = (const __u8 *)pc->data + msg_off;
	/* only read: what an answer repeats is taken by the caller, for a query it answers */
	ret = dns_header_ok(msg, pc->data_end);
	if (ret == DNS_NOT_QUERY)
		return NAMES_NOT_QUERY;
	if (ret < 0 || msg_len < sizeof(struct hdr_dns) + 1)
		return GC_PASS_DNS_MALFORMED;
	n = msg_len - sizeof(struct hdr_dns);
	if (n > DNS_COPY_MAX)
		n = DNS_COPY_MAX;
	NAME_CLAMP(n, 0x1ff);
	if (pc->hook == GUARD_HOOK_XDP)
		ret = guard_dns_fast_xdp(pc->ctx, sc, msg_off, n);
	else
		ret = guard_dns_fast_skb(pc->ctx, sc, msg_off, n);
	/* and the trace's match is named from the copy in the scratch (user/replay.c) */
	if (ret || (cfg_trace && sc->nb.match_leaf != DOM_LEAF_NONE)) {
		if (n == 0 || guard_load(pc, msg_off + sizeof(struct hdr_dns), sc->nb.b, n))
			return GC_PASS_NAME_TRUNCATED;
		ret = guard_dns_name(&sc->nb, n, &sc->q);
	}
	return name_judge(pc, &sc->nb, ret);
}

/* A DNS query over UDP at offset msg_off of the frame, msg_len bytes long. */
static __always_inline int names_dns(struct pkt_ctx *pc, struct name_scratch *sc, __u32 msg_off,
				     __u32 msg_len)
{
	const struct name_pkt *k = &sc->pkt;
	struct dns_query *q = &sc->q; /* map memory: the stack is tight (512 bytes, all frames) */
	struct dns_answer_cfg *cfg = &sc->acfg;
	const __u8 *msg, *qt;
	__u32 n, c, kind;
	int ret;

	c = names_dns_judge(pc, sc, msg_off, msg_len, NAME_SRC_DNS_UDP);
	if (c == NAMES_NOT_QUERY) {
		guard_count(GC_NOTE_DNS_NOT_QUERY, pc->bytes);
		return -1;
	}
	if (c != NAME_BLOCK)
		return names_pass(pc, k, c);

	if (cfg_dns_action == GUARD_DNS_DROP || !k->answerable)
		return guard_drop(pc, GC_DROP_DNS);
	NAME_CLAMP(msg_off, NAMES_OFF_MAX);
	msg = (const __u8 *)pc->data + msg_off;
	/*
	 * The fields the answer repeats, from the packet: its header (dns_header_ok() found it
	 * there), and QTYPE and QCLASS where the fast path found them; the copy path read those
	 * from its copy (the same bytes) when they are not all in the linear data.
	 */
	if (msg + sizeof(struct hdr_dns) > (const __u8 *)pc->data_end)
		return guard_drop(pc, GC_DROP_DNS);
	dns_header_fields((const struct hdr_dns *)msg, q);
	n = q->wire;
	NAME_CLAMP(n, 0x1ff); /* at most 255 */
	qt = msg + sizeof(struct hdr_dns) + n;
	if (qt + 4 <= (const __u8 *)pc->data_end) {
		q->qtype = (__u16)(qt[0] << 8 | qt[1]);
		q->qclass = (__u16)(qt[2] << 8 | qt[3]);
	}
	q->has_opt = (__u8)dns_find_opt(msg, qt + 4, pc->data_end);
	cfg->ttl = cfg_block_ttl;
	/*
	 * Byte by byte through the volatile: a memcpy would let clang fold the initial zeros.
	 * Only a sinkhole answer carries them (the verifier drops the copy otherwise).
	 */
	if (cfg_dns_action == GUARD_DNS_SINKHOLE) {
		for (n = 0; n < 4; n++)
			cfg->a[n] = cfg_sinkhole4[n];
		for (n = 0; n < 16; n++)
			cfg->aaaa[n] = cfg_sinkhole6[n];
	}
	if (cfg_dns_action == GUARD_DNS_REFUSED) {
		kind = DNS_ANS_REFUSED;
		c = GC_ANSWER_DNS_REFUSED;
	} else if (cfg_dns_action == GUARD_DNS_SINKHOLE) {
		kind = DNS_ANS_NODATA;
		c = GC_ANSWER_DNS_NODATA;
		if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_A && cfg_sinkhole4_set) {
			kind = DNS_ANS_A;
			c = GC_ANSWER_DNS_SINKHOLE;
		} else if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_AAAA &&
			   cfg_sinkhole6_set) {
			kind = DNS_ANS_AAAA;
			c = GC_ANSWER_DNS_SINKHOLE;
		}
	} else {
		kind = DNS_ANS_NXDOMAIN;
		c = GC_ANSWER_DNS_NXDOMAIN;
	}
	ret = ans_dns_udp(pc, k, q, msg_off, kind, cfg);
	if (ret == -2) {
		/* no room to grow the frame: the same answer without SOA and OPT */
		guard_count(GC_NOTE_DNS_LEAN, pc->bytes);
		ret = ans_dns_udp(pc, k, q, msg_off, kind | DNS_ANS_LEAN, cfg);
	}
	if (ret)
		return guard_drop(pc, GC_DROP_DNS);
	return guard_verdict(pc, c, GV_ANSWER);
}

/*
 * A DNS response from UDP port 53 (handed over only when cfg_learn_mask is set): when its
 * question names a domain entry of a learned category, the addresses it gives are learned
 * (bpf/lib/learn.h). Returns -1: the response itself passes by the IP decision.
 */
static __always_inline int names_dns_learn(struct pkt_ctx *pc, struct name_scratch *sc)
{
	const struct name_pkt *k = &sc->pkt;
	const __u8 *msg = names_payload(pc, k), *udp;
	__u32 off = k->payload_off, plen = k->plen, n, len, leaf;
	const struct dom_leaf *l;
	__u16 ancount = 0;
	__u64 cats;

	pc->source = NAME_SRC_DNS_UDP;
	if (dnsresp_check_header(msg, pc->data_end, &ancount))
		return -1;
	/* the message's length by the UDP header (before it): a first fragment holds less */
	n = off - sizeof(struct hdr_udp);
	NAME_CLAMP(n, NAMES_OFF_MAX);
	udp = (const __u8 *)pc->data + n;
	if (udp + sizeof(struct hdr_udp) > (const __u8 *)pc->data_end)
		return -1;
	len = parse_ntohs(((const struct hdr_udp *)udp)->len);
	len = len > sizeof(struct hdr_udp) ? len - sizeof(struct hdr_udp) : 0;
	if (plen > len)
		plen = len; /* Ethernet padding */
	if (plen < sizeof(struct hdr_dns) + 1)
		return -1;
	n = plen - sizeof(struct hdr_dns);
	if (n > DNS_COPY_MAX)
		n = DNS_COPY_MAX;
	NAME_CLAMP(n, 0x1ff);
	if (n == 0 || guard_load(pc, off + sizeof(struct hdr_dns), sc->nb.b, n))
		return -1;
	if (guard_dns_name(&sc->nb, n, &sc->q))
		return -1;
	leaf = sc->nb.match_leaf;
	if (leaf == DOM_LEAF_NONE)
		return -1;
	l = bpf_map_lookup_elem(&MAP_DOM_LEAVES, &leaf);
	if (!l)
		return -1;
	cats = l->block_cats & cfg_learn_mask;
	if (cats)
		learn_response(pc, off, len, plen, ancount, sc->q.wire, cats);
	return -1;
}

/* --- TLS: first segments and followed flows --- */

/* The flow's tls_pending slot: a hash of the addresses and ports. */
static __always_inline __u32 flow_slot_of(const struct name_pkt *k)
{
	const __u32 *s = (const __u32 *)k->saddr, *d = (const __u32 *)k->daddr;
	__u64 h = ((__u64)k->sport << 16 | k->dport) ^ ((__u64)s[0] << 32 | d[0]);

	if (k->family == 6)
		h ^= ((__u64)s[1] << 32 | d[1]) * 3 ^ ((__u64)s[2] << 32 | d[2]) * 5 ^
		     ((__u64)s[3] << 32 | d[3]) * 7;
	h *= 0x9e3779b97f4a7c15ull;
	return (__u32)(h >> 48) & (FLOW_PENDING_SLOTS - 1);
}

/* The flow key of the packet in sc->pkt, into sc->key. */
static __always_inline void names_flow_key(struct name_scratch *sc)
{
	const struct name_pkt *k = &sc->pkt;
	struct flow_key *fk = &sc->key;

	__builtin_memset(fk, 0, sizeof(*fk));
	if (k->family == 4) {
		__builtin_memcpy(fk->saddr, k->saddr, 4);
		__builtin_memcpy(fk->daddr, k->daddr, 4);
	} else {
		__builtin_memcpy(fk->saddr, k->saddr, 16);
		__builtin_memcpy(fk->daddr, k->daddr, 16);
	}
	fk->sport = bpf_htons(k->sport);
	fk->dport = bpf_htons(k->dport);
	fk->family = k->family;
}

/* --- DNS over TCP: every message of a segment, followed across segments --- */

/* The byte of the segment at offset off (< plen), or -1 when it is not in the linear data. */
static __always_inline int names_seg_byte(struct pkt_ctx *pc, const struct name_pkt *k, __u32 off)
{
	const __u8 *p;

	off += k->payload_off; /* both at most NAMES_OFF_MAX: the sum within 0x7fff */
	NAME_CLAMP(off, 0x7fff);
	p = (const __u8 *)pc->data + off;
	if (p + 1 > (const __u8 *)pc->data_end)
		return -1;
	return *p;
}

/*
 * A TCP segment to port 53: a stream of DNS messages, each behind its 2-byte length (RFC 1035
 * 4.2.2, RFC 7766). Every message that starts in the segment is judged, up to
 * DNS_TCP_MSGS_MAX (pipelined queries: the first blocked one decides; more is unexamined,
 * PASS_DNS_MALFORMED). A message cut by the segment's end is judged on the bytes the segment
 * has (a question cut there is a name the guard cannot examine), except one whose length
 * prefix ends the segment: it is judged where it starts, in the next. When a segment ends
 * inside a message or its prefix, a record in dns_flows (struct flow_dns) says where the next
 * segment stands in the stream: the rest of a message to skip, a message starting, a prefix's
 * second byte; the record then follows the stream until it idles FLOW_DNS_TIMEOUT_NS (a
 * segment retransmitted must be read where it stands). With a record: a segment after a gap
 * is read from its start (as one of a stream never followed), one that only repeats bytes
 * seen passes (they were judged), one overlapping them is read from where the new bytes start.
 * Without one, a segment starts with a prefix.
 * Returns the verdict (counted), or -1: no message decided, the IP decision stands.
 *
 * Verifier notes: the walk's position and state live in the scratch map (sc->dns_off, sc->fd)
 * and the loop reads them back at each message, so every message is verified once per exit
 * of the judge, not once per combination of what the earlier ones found.
 */
static __always_inline int names_dns_tcp(struct pkt_ctx *pc, struct name_scratch *sc)
{
	const struct name_pkt *k = &sc->pkt;
	struct flow_dns *st = &sc->fd, *rec;
	__u32 plen = k->plen, off = 0, left, mlen, c, i;
	__s32 d;
	int b0, b1;

	if (plen > NAMES_OFF_MAX)
		return names_pass(pc, k, GC_PASS_NAME_TRUNCATED);
	__builtin_memset(st, 0, sizeof(*st));
	sc->dns_rec = 0;
	/* a record only where the flow's tls_pending slot says one may be (names_kind_of) */
	rec = NULL;
	if (sc->slot_live)
		rec = bpf_map_lookup_elem(&MAP_DNS_FLOWS, &sc->key);
	if (rec) {
		d = (__s32)(k->seq - rec->next_seq);
		if (bpf_ktime_get_coarse_ns() >= rec->expires || d > 0) {
			/* stale, or after a gap: where a message starts is not known */
			bpf_map_delete_elem(&MAP_DNS_FLOWS, &sc->key);
		} else if ((__u32)-d >= plen) {
			return -1; /* bytes seen before only (a retransmission): judged then */
		} else {
			*st = *rec;
			off = (__u32)-d;
			sc->dns_rec = 1;
		}
	}
	/* the rest of a message judged where it started */
	mlen = st->msg_left;
	if (mlen && !st->at_start) {
		if (mlen >= plen - off) {
			st->msg_left = (__u16)(mlen - (plen - off));
			off = plen;
		} else {
			st->msg_left = 0;
			off += mlen;
		}
	}
	sc->dns_off = off;
	sc->dns_verdict = GC_PASS_NOMATCH;
	sc->dns_act = 0;
	for (i = 0; i < DNS_TCP_MSGS_MAX; i++) {
		off = NAME_LAUNDER(sc->dns_off);
		plen = NAME_LAUNDER(sc->pkt.plen);
		if (off >= plen)
			break;
		/* the message's length: known (its prefix ended the last segment), or its prefix */
		mlen = NAME_LAUNDER(st->msg_left);
		st->msg_left = 0;
		st->at_start = 0;
		if (!mlen) {
			b0 = names_seg_byte(pc, k, off);
			if (b0 < 0) {
				sc->dns_verdict = GC_PASS_NAME_TRUNCATED;
				sc->dns_act = 1;
				break;
			}
			if (st->pfx_have) {
				mlen = (__u32)st->pfx << 8 | (__u32)b0;
				st->pfx_have = 0;
				off += 1;
			} else if (off + 1 == plen) {
				st->pfx = (__u8)b0;
				st->pfx_have = 1;
				sc->dns_off = plen;
				break;
			} else {
				b1 = names_seg_byte(pc, k, off + 1);
				if (b1 < 0) {
					sc->dns_verdict = GC_PASS_NAME_TRUNCATED;
					sc->dns_act = 1;
					break;
				}
				mlen = (__u32)b0 << 8 | (__u32)b1;
				off += 2;
			}
			if (off == plen) {
				/* the prefix ends the segment: the message is judged in the next */
				st->msg_left = (__u16)mlen;
				st->at_start = mlen ? 1 : 0;
				sc->dns_off = plen;
				break;
			}
		}
		/* through memory: few values stay in registers across the judge's calls */
		sc->dns_off = off;
		sc->dns_mlen = mlen;
		left = plen - off;
		if (!mlen)
			c = GC_PASS_DNS_MALFORMED; /* an empty message */
		else
			c = names_dns_judge(pc, sc, NAME_LAUNDER(k->payload_off) + off,
					    mlen < left ? mlen : left, NAME_SRC_DNS_TCP);
		/* what acts, acts after the loop: its code verified once, not once a message */
		if (c == NAME_BLOCK || (cfg_block_unexamined && names_unexamined(c))) {
			sc->dns_verdict = c;
			sc->dns_act = 1;
			break;
		}
		if (c == NAMES_NOT_QUERY)
			guard_count(GC_NOTE_DNS_NOT_QUERY, pc->bytes);
		else if (c != GC_PASS_NOMATCH)
			sc->dns_verdict = c;
		off = NAME_LAUNDER(sc->dns_off);
		mlen = NAME_LAUNDER(sc->dns_mlen);
		left = NAME_LAUNDER(sc->pkt.plen) - off;
		if (mlen > left) {
			/* cut by the segment's end: the rest comes next */
			sc->fd.msg_left = (__u16)(mlen - left);
			sc->dns_off = off + left;
			break;
		}
		sc->dns_off = off + mlen;
	}
	if (NAME_LAUNDER(sc->dns_act)) {
		c = NAME_LAUNDER(sc->dns_verdict);
		if (c == NAME_BLOCK)
			return names_tcp_block(pc, k, GC_DROP_DNS_TCP, GC_RESET_DNS_TCP);
		return names_pass(pc, k, c);
	}
	plen = NAME_LAUNDER(sc->pkt.plen);
	if (NAME_LAUNDER(sc->dns_off) < plen) {
		/* more messages than the guard judges in a segment: not followed further */
		__builtin_memset(st, 0, sizeof(*st));
		if (cfg_block_unexamined)
			return names_pass(pc, k, GC_PASS_DNS_MALFORMED);
		sc->dns_verdict = GC_PASS_DNS_MALFORMED;
	}
	/*
	 * A stream followed stays followed (at a message's end now): the segment that ended
	 * inside a message may come again, retransmitted, and must not be read as a new one.
	 */
	if (st->msg_left || st->pfx_have || sc->dns_rec) {
		__u64 *exp;
		__u32 slot;

		if (!sc->slot_live)
			names_flow_key(sc);
		st->next_seq = k->seq + plen;
		st->expires = bpf_ktime_get_coarse_ns() + FLOW_DNS_TIMEOUT_NS;
		if (bpf_map_update_elem(&MAP_DNS_FLOWS, &sc->key, st, BPF_ANY)) {
			guard_count(GC_NOTE_FLOW_FULL, pc->bytes);
		} else {
			/* the slot's time covers the record's (names_kind_of looks it up then) */
			slot = NAME_LAUNDER(k->slot);
			exp = bpf_map_lookup_elem(&MAP_TLS_PENDING, &slot);
			if (exp && *exp < st->expires)
				*exp = st->expires;
			if (st->msg_left || st->pfx_have)
				guard_count(GC_NOTE_DNS_TCP_FOLLOWED, pc->bytes);
		}
	}
	return names_pass(pc, k, NAME_LAUNDER(sc->dns_verdict));
}

/*
 * Save len SNI bytes at frame offset off into a flow's name at save_at: through the scratch's
 * save buffer, a word at a time (the name buffer has a word of slack for the last one).
 */
static __always_inline int names_save(struct pkt_ctx *pc, struct name_scratch *sc, __u8 *name,
				      __u32 off, __u32 save_at, __u32 len)
{
	__u32 i;

	if (len == 0)
		return 0;
	if (len > 255 || save_at > 255)
		return -1;
	NAME_CLAMP(len, 0xff);
	NAME_CLAMP(save_at, 0xff);
	if (len == 0 || guard_load(pc, off, sc->save, len))
		return -1;
	for (i = 0; i < 32; i++) {
		if (i * 8 >= len)
			break;
		name_store64(name + ((save_at + i * 8) & 0xff), name_load64(sc->save + i * 8));
	}
	return 0;
}

static __always_inline void names_ech_note(struct pkt_ctx *pc, const struct tls_walk *w)
{
	if (w->flags & TLS_F_ECH)
		guard_count(GC_NOTE_TLS_ECH, pc->bytes);
}

/*
 * A ClientHello segment: walk it with w (sc->w, zeroed, for a first segment; the record's for
 * a followed flow f, NULL for a first segment) and act on what the walk found. The flow's key
 * is sc->key. The name's bytes seen before this segment's part are in f->name (a followed
 * flow) or sc->ft.name (parts cut by records in this first segment).
 */
static __always_inline int names_tls(struct pkt_ctx *pc, struct name_scratch *sc,
				     struct tls_walk *w, struct flow_tls *f)
{
	const struct name_pkt *k = &sc->pkt;
	__u32 off = k->payload_off, c, i, before, len;
	__u8 *saved = f ? f->name : sc->ft.name;
	int ret;

	pc->source = NAME_SRC_SNI;
	NAME_CLAMP(off, NAMES_OFF_MAX);
	ret = names_tls_walk(pc, w, &sc->span, off, k->plen);
	/* a name cut by a record's end inside the segment: save the part, walk on */
	for (i = 0; i < TLS_PARTS_MAX + 1 && ret == TLS_PART; i++) {
		if (names_save(pc, sc, saved, off + sc->span.off, sc->span.save_at, sc->span.len)) {
			ret = NAME_ERR(PASS_TLS_MALFORMED);
			break;
		}
		ret = names_tls_walk(pc, w, &sc->span, off, k->plen | NAMES_TLS_RESUME);
	}
	if (ret == TLS_PART)
		ret = NAME_ERR(PASS_TLS_UNSUPPORTED);
	if (ret == TLS_MORE) {
		__u64 now = bpf_ktime_get_coarse_ns();
		__u64 *exp;
		__u32 slot;

		if (f) {
			if (names_save(pc, sc, f->name, off + sc->span.off, sc->span.save_at,
				       sc->span.len))
				goto drop_flow;
			f->next_seq = k->seq + k->plen;
			f->expires = now + FLOW_TLS_TIMEOUT_NS;
			return guard_pass(pc, GC_PASS_TLS_PENDING);
		}
		/* a new record: its key (a followed flow's was made to find it) */
		names_flow_key(sc);
		sc->ft.next_seq = k->seq + k->plen;
		sc->ft.pad = 0;
		sc->ft.expires = now + FLOW_TLS_TIMEOUT_NS;
		sc->ft.w = *w;
		if (names_save(pc, sc, sc->ft.name, off + sc->span.off, sc->span.save_at,
			       sc->span.len) ||
		    bpf_map_update_elem(&MAP_TLS_FLOWS, &sc->key, &sc->ft, BPF_ANY)) {
			guard_count(GC_NOTE_FLOW_FULL, pc->bytes);
			return guard_pass(pc, GC_PASS_TLS_PENDING);
		}
		slot = NAME_LAUNDER(k->slot);
		exp = bpf_map_lookup_elem(&MAP_TLS_PENDING, &slot);
		if (exp)
			*exp = sc->ft.expires;
		guard_count(GC_NOTE_TLS_SPLIT, pc->bytes);
		return guard_pass(pc, GC_PASS_TLS_PENDING);
	}
	/*
	 * The walk ended: the record goes. (Left stale instead, it saved this segment the
	 * delete's ~40 ns, but filled the LRU map with records that every new flow's insert then
	 * had to evict: a split hello of a new flow, both segments, ~460 -> ~750 ns.)
	 */
	if (f)
		bpf_map_delete_elem(&MAP_TLS_FLOWS, &sc->key);
	if (ret == TLS_NOT_HELLO)
		return -1;
	names_ech_note(pc, w);
	if (ret == TLS_NONE) {
		guard_count(GC_NOTE_TLS_NO_SNI, pc->bytes);
		return -1;
	}
	if (ret < 0)
		return names_pass(pc, k, (__u32)-ret);

	/* TLS_NAME: the bytes saved from earlier segments, then this segment's */
	len = sc->span.len;
	before = (__u32)w->name_len - len;
	if (before > NAME_MAX_LEN + 1 || len == 0 || len > NAME_MAX_LEN + 1)
		return names_pass(pc, k, GC_PASS_TLS_MALFORMED);
	NAME_CLAMP(before, 0xff);
	NAME_CLAMP(len, 0xff);
	if (len == 0)
		return names_pass(pc, k, GC_PASS_TLS_MALFORMED);
	if (before) {
		/* all 256 bytes, whatever before says: no exit by length, one verifier state */
#pragma unroll
		for (i = 0; i < 32; i++)
			name_store64(sc->nb.b + 1 + i * 8, name_load64(saved + i * 8));
	}
	/* a name in this segment alone: read in place when the linear data holds it */
	if ((before || names_name_words(pc, &sc->nb, off + sc->span.off, len)) &&
	    guard_load(pc, off + sc->span.off, sc->nb.b + 1 + before, len))
		return names_pass(pc, k, GC_PASS_NAME_TRUNCATED);
	c = names_text(pc, &sc->nb, before + len);
	if (c != NAME_BLOCK)
		return names_pass(pc, k, c);
	return names_tcp_block(pc, k, GC_DROP_SNI, GC_RESET_SNI);

drop_flow:
	bpf_map_delete_elem(&MAP_TLS_FLOWS, &sc->key);
	guard_count(GC_NOTE_FLOW_FULL, pc->bytes);
	return guard_pass(pc, GC_PASS_TLS_PENDING);
}

/* The first segment of a ClientHello: a fresh walk. */
static __always_inline int names_tls_first(struct pkt_ctx *pc, struct name_scratch *sc)
{
	__builtin_memset(&sc->w, 0, sizeof(sc->w));
	return names_tls(pc, sc, &sc->w, NULL);
}

/* A segment of a followed flow (record f): in order, a retransmission, or after a gap. */
static __always_inline int names_tls_next(struct pkt_ctx *pc, struct name_scratch *sc,
					  struct flow_tls *f)
{
	__s32 d = (__s32)(sc->pkt.seq - f->next_seq);

	pc->source = NAME_SRC_SNI;
	if (d < 0) {
		guard_count(GC_NOTE_TLS_RETRANSMIT, pc->bytes);
		return -1;
	}
	if (d > 0) {
		bpf_map_delete_elem(&MAP_TLS_FLOWS, &sc->key);
		return guard_pass(pc, GC_PASS_TLS_UNORDERED);
	}
	return names_tls(pc, sc, &f->w, f);
}

/* --- HTTP --- */

/*
 * Requests judged in one segment: the first and those pipelined behind it (RFC 9112 §9.3); a
 * request behind the last of them is a name unexamined (PASS_HTTP_UNSUPPORTED). The verifier
 * walks the loop once a request (its calls are to global functions): 16 cost the TC program
 * with learning ~21k instructions more than 1.
 */
#define HTTP_REQS_MAX 16

/*
 * A segment that starts with an HTTP request: each request in it (HTTP_REQS_MAX), copied to
 * sc->http from where it starts and judged by its host. The first blocked one blocks the
 * segment; else a request that could not be examined decides its verdict, else the last that
 * matched an entry, else the IP rules (a request without a host is noted). Acting happens once,
 * after the loop.
 */
static __always_inline int names_http(struct pkt_ctx *pc, struct name_scratch *sc)
{
	const struct name_pkt *k = &sc->pkt;
	__u32 at = 0, seg = GC_PASS_NOMATCH, c, i, n, from;
	int ret;

	pc->source = NAME_SRC_HTTP;
	for (i = 0; i < HTTP_REQS_MAX; i++) {
		/* at: the request's offset in the payload, below plen (http_next_request) */
		n = k->plen - at;
		if (n > HTTP_COPY_MAX)
			n = HTTP_COPY_MAX;
		NAME_CLAMP(n, HTTP_OFF_MASK);
		if (n < 8 || guard_load(pc, k->payload_off + at, sc->http, n))
			break;
		name_store64(sc->http + n, 0);
		name_store64(sc->http + n + 8, 0);
		ret = guard_http_host(sc, n);
		c = GC_PASS_NOMATCH;
		from = 0;
		if (ret == HTTP_NO_HOST) {
			guard_count(GC_NOTE_HTTP_NO_HOST, pc->bytes);
		} else if (ret < 0) {
			c = (__u32)-ret;
		} else if (ret == 0) {
			c = names_text(pc, &sc->nb, sc->host.len);
			/* the header block ends after the host (a host holds no line end) */
			from = NAME_LAUNDER(sc->host.off) + NAME_LAUNDER(sc->host.len);
		} else if (i == 0) {
			/* not a request (HTTP_NOT_REQUEST): not HTTP, the IP rules decide */
			return -1;
		} else {
			/* a method, then no request line the scan takes */
			c = GC_PASS_HTTP_UNSUPPORTED;
		}
		if (c == NAME_BLOCK) {
			seg = c;
			break;
		}
		if (names_unexamined(c) || (c != GC_PASS_NOMATCH && !names_unexamined(seg)))
			seg = c;
		ret = guard_http_next(sc, n, from);
		if (ret <= 0)
			break;
		at += (__u32)ret;
	}
	/* one more request behind the last one judged: not read */
	if (i == HTTP_REQS_MAX && seg != NAME_BLOCK)
		seg = GC_PASS_HTTP_UNSUPPORTED;
	if (seg != NAME_BLOCK)
		return names_pass(pc, k, seg);
	return names_tcp_block(pc, k, GC_DROP_HTTP, GC_RESET_HTTP);
}

/* --- the entry --- */

enum names_kind {
	NAMES_NONE = 0,
	NAMES_DNS_UDP = 1,
	NAMES_DNS_TCP = 2,
	NAMES_TLS_FIRST = 3,
	NAMES_TLS_NEXT = 4,
	NAMES_HTTP = 5,
	NAMES_DNS_RESP = 6, /* a DNS response (UDP from port 53): learning (bpf/lib/learn.h) */
};

/*
 * Which name the packet in sc->pkt carries (enum names_kind). A UDP datagram: a DNS query (to
 * port 53), else a DNS response (from port 53, when learning). A TCP segment: the next of a
 * followed ClientHello (its flow's tls_pending slot holds a future time and tls_flows its
 * record, not stale: *f), the first of one (22, 3.x, a ClientHello), DNS (to port 53), an HTTP
 * request (a method), or none of them (most segments).
 */
static __always_inline __u32 names_kind_of(struct pkt_ctx *pc, struct name_scratch *sc,
					   struct flow_tls **f)
{
	const struct name_pkt *k = &sc->pkt;
	const __u8 *p = names_payload(pc, k);
	__u32 slot;
	__u64 *exp;

	if (k->l4_proto == PARSE_IPPROTO_UDP)
		return k->dport == DNS_PORT ? NAMES_DNS_UDP : NAMES_DNS_RESP;
	slot = flow_slot_of(k);
	sc->pkt.slot = slot;
	sc->slot_live = 0;
	exp = bpf_map_lookup_elem(&MAP_TLS_PENDING, &slot);
	if (exp && *exp) {
		/* a split ClientHello (or a DNS stream) may be on its way in this slot */
		__u64 now = bpf_ktime_get_coarse_ns();

		if (now < *exp) {
			sc->slot_live = 1;
			names_flow_key(sc);
			*f = bpf_map_lookup_elem(&MAP_TLS_FLOWS, &sc->key);
			if (*f && (*f)->expires > now)
				return NAMES_TLS_NEXT;
			*f = NULL;
		} else {
			*exp = 0;
		}
	}
	if (tls_looks_like_hello(p, pc->data_end, k->plen))
		return NAMES_TLS_FIRST;
	if (k->dport == DNS_PORT)
		return NAMES_DNS_TCP;
	if (p + 8 <= (const __u8 *)pc->data_end && http_method_len(name_load64(p)))
		return NAMES_HTTP;
	return NAMES_NONE;
}

/*
 * The name stage for a packet described in sc->pkt: which name, then its handler. Counts and
 * returns the verdict: a name's, or the IP decision's (sc->pkt.ip_counter) when no name
 * decides.
 */
static __always_inline int names_run(struct pkt_ctx *pc, struct name_scratch *sc)
{
	struct name_pkt *k = &sc->pkt;
	struct flow_tls *f = NULL;
	__u32 kind = names_kind_of(pc, sc, &f);
	int ret;

	k->kind = kind;
	kind = NAME_LAUNDER(k->kind);
	if (kind == NAMES_DNS_UDP)
		ret = names_dns(pc, sc, NAME_LAUNDER(k->payload_off), NAME_LAUNDER(k->plen));
	else if (kind == NAMES_DNS_TCP)
		ret = names_dns_tcp(pc, sc);
	else if (kind == NAMES_TLS_FIRST)
		ret = names_tls_first(pc, sc);
	else if (kind == NAMES_TLS_NEXT && f)
		ret = names_tls_next(pc, sc, f);
	else if (kind == NAMES_HTTP)
		ret = names_http(pc, sc);
	else if (cfg_learn_mask && kind == NAMES_DNS_RESP)
		ret = names_dns_learn(pc, sc);
	else
		ret = -1;
	if (ret >= 0)
		return ret;
	return guard_ip_finish(pc, NAME_LAUNDER(k->ip_counter));
}

/*
 * The packet the main program handed over (names_hand_over): its offsets and length in a, the
 * parse's notes, L4 protocol, family and removed VLAN tags and the client group (bits 56-63) in b. Reads what it needs again
 * from the packet, decides the IP rules (the main program did not), describes the packet in
 * sc->pkt and runs the name stage. Counts and returns the verdict.
 */
static __always_inline int names_entry(struct pkt_ctx *pc, __u64 a, __u64 b)
{
	struct name_scratch *sc;
	struct name_pkt *k;
	__u32 payload_off = (__u32)(a & NAMES_OFF_MAX), l4_off = (__u32)((a >> 16) & NAMES_OFF_MAX);
	__u32 l3_off = (__u32)((a >> 32) & 0x3f), notes = (__u32)b, counter;
	const __u8 *l3 = (const __u8 *)pc->data + l3_off;
	const __u8 *l4 = (const __u8 *)pc->data + l4_off;
	__u8 family = (__u8)(b >> 40), l4_proto = (__u8)(b >> 32);

	pc->vlan_hw = (__u8)(b >> 48);
	/*
	 * The addresses go straight into the scratch map, not the stack: this frame is the
	 * deepest of the program's call chain, which shares one 512-byte stack.
	 */
	sc = names_scratch();
	if (!sc) /* a one-entry per-CPU array always has its entry */
		return guard_pass(pc, GC_PASS_NOMATCH);
	k = &sc->pkt;
	if (family == 4) {
		if (l3 + sizeof(struct hdr_ipv4) > (const __u8 *)pc->data_end)
			return guard_pass(pc, GC_PASS_TRUNCATED);
		/* whole words: a byte-wise copy (the header's alignment is 1) is 4 loads each */
		name_store64(k->saddr, *(const __u32 *)(l3 + 12));
		name_store64(k->saddr + 8, 0);
		name_store64(k->daddr, *(const __u32 *)(l3 + 16));
		name_store64(k->daddr + 8, 0);
	} else {
		if (l3 + sizeof(struct hdr_ipv6) > (const __u8 *)pc->data_end)
			return guard_pass(pc, GC_PASS_TRUNCATED);
		parse_addr_copy(k->saddr, l3 + 8, 16);
		parse_addr_copy(k->daddr, l3 + 24, 16);
	}
	counter = guard_ip_decide(pc, family, k->saddr, k->daddr, (__u32)(b >> 56));
	if (guard_is_ip_drop(counter))
		return guard_ip_finish(pc, counter);
	if (l4 + sizeof(struct hdr_udp) > (const __u8 *)pc->data_end)
		return guard_ip_finish(pc, counter);
	k->l3_off = l3_off;
	k->payload_off = payload_off;
	k->plen = (__u32)(a >> 48);
	k->ip_counter = counter;
	k->sport = parse_ntohs(((const struct hdr_udp *)l4)->source);
	k->dport = parse_ntohs(((const struct hdr_udp *)l4)->dest);
	k->family = family;
	k->l4_proto = l4_proto;
	k->answerable =
		!(notes & (NOTE_BIT(GC_NOTE_IPV4_OPTIONS) | NOTE_BIT(GC_NOTE_IPV6_EXT) |
			   NOTE_BIT(GC_NOTE_IPV4_FRAGMENT) | NOTE_BIT(GC_NOTE_IPV6_FRAGMENT)));
	/* tcp_flags, seq and ack_seq are read for TCP segments only */
	if (l4_proto == PARSE_IPPROTO_TCP) {
		const struct hdr_tcp *t = (const struct hdr_tcp *)l4;
		__u32 seq, ack;

		if ((const void *)(t + 1) > pc->data_end)
			return guard_ip_finish(pc, counter);
		__builtin_memcpy(&seq, t->seq, 4);
		__builtin_memcpy(&ack, t->ack_seq, 4);
		k->seq = bpf_ntohl(seq);
		k->ack_seq = bpf_ntohl(ack);
		k->tcp_flags = t->flags;
	}
	return names_run(pc, sc);
}

/*
 * The name stage, as global functions (one per kind of context: their helpers differ).
 * Verifier workaround: a global function is verified once, on its own, with its arguments
 * unknown: the name stage is not verified again for every header layout the parse let through
 * (VLAN tags, IPv4 options, IPv6 extension chains, both families), which multiplied it.
 * Speed: the main program hands over only the packets that may carry a name, before the IP
 * rules, and nothing of its own state: every other packet runs the main program as it was
 * before the name stage existed, registers and all (the stage inlined, or merely a call
 * needing the parse's pointers after the IP rules' lookups, made clang spill them: a plain
 * TCP segment paid up to 9 ns more, 70 %).
 */
__noinline int guard_names_xdp(struct xdp_md *ctx, __u64 a, __u64 b)
{
	struct pkt_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.ctx = ctx,
		.hook = GUARD_HOOK_XDP,
	};

	pc.bytes = (__u64)((const __u8 *)pc.data_end - (const __u8 *)pc.data);
	return names_entry(&pc, a, b);
}

__noinline int guard_names_skb(struct __sk_buff *ctx, __u64 a, __u64 b)
{
	struct pkt_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.ctx = ctx,
		.hook = GUARD_HOOK_TC_INGRESS,
	};

	pc.bytes = ctx->len;
	return names_entry(&pc, a, b);
}

/* First letters of the methods (C D G H O P T), as bits from 'C'. */
#define NAMES_METHOD_LETTERS                                                                     \
	((1u << ('C' - 'C')) | (1u << ('D' - 'C')) | (1u << ('G' - 'C')) | (1u << ('H' - 'C')) | \
	 (1u << ('O' - 'C')) | (1u << ('P' - 'C')) | (1u << ('T' - 'C')))

/* The flow's tls_pending slot from the parse (flow_slot_of's hash). */
static __always_inline __u32 names_slot_of(const struct parse_result *r)
{
	const __u32 *s = (const __u32 *)r->saddr, *d = (const __u32 *)r->daddr;
	__u64 h = ((__u64)r->sport << 16 | r->dport) ^ ((__u64)s[0] << 32 | d[0]);

	if (r->family == 6)
		h ^= ((__u64)s[1] << 32 | d[1]) * 3 ^ ((__u64)s[2] << 32 | d[2]) * 5 ^
		     ((__u64)s[3] << 32 | d[3]) * 7;
	h *= 0x9e3779b97f4a7c15ull;
	return (__u32)(h >> 48) & (FLOW_PENDING_SLOTS - 1);
}

/*
 * A TCP segment with data: may it carry a name? Its first two bytes (a TLS handshake record,
 * a method's first letter), its port (53), or its flow's tls_pending slot (a split
 * ClientHello's next segment). Most segments answer no after two byte reads and one array
 * read; the name stage checks the candidates closely.
 */
static __always_inline int names_tcp_may(struct pkt_ctx *pc, const struct parse_result *r,
					 __u32 plen)
{
	const __u8 *p = r->payload;
	__u64 *exp;
	__u32 slot;
	__u8 c;

	if (r->dport == DNS_PORT)
		return 1;
	if (p + 1 <= (const __u8 *)pc->data_end) {
		c = p[0];
		/*
		 * A one-byte first segment (an evasion trick) may end the frame (no Ethernet
		 * padding: a frame on a veth, a capture): p[1] is not read then; with padding,
		 * p[1] is padding, not data.
		 */
		if (c == TLS_CONTENT_HANDSHAKE &&
		    (plen == 1 || (p + 2 <= (const __u8 *)pc->data_end && p[1] == 3)))
			return 1;
		if (c >= 'C' && c <= 'T' && ((NAMES_METHOD_LETTERS >> (c - 'C')) & 1))
			return 1;
	}
	slot = names_slot_of(r);
	exp = bpf_map_lookup_elem(&MAP_TLS_PENDING, &slot);
	return exp && *exp;
}

/*
 * In the main program, after the parse: does the packet go to the name stage? A TCP segment
 * with data, a UDP datagram to port 53 (or from it, when learning). The L4 data's length is
 * the IP header's say (a frame may carry Ethernet padding: a bare ACK is 54 bytes in a 60-byte
 * frame), the frame's when the header does not say. Sets the arguments of guard_names_*()
 * (names_entry()). Returns 1 to hand it over, else 0: the IP rules decide in the main program,
 * as before.
 */
static __always_inline int names_hand_over(struct pkt_ctx *pc, const struct parse_result *r,
					   __u64 *a, __u64 *b)
{
	const __u8 *data = pc->data;
	__u32 payload_off, l3_off, hdrs, frame, plen;

	if (!r->payload || r->later_fragment)
		return 0;
	if (r->l4_proto == PARSE_IPPROTO_UDP) {
		/* to port 53: a query; from port 53, when learning: a response (bpf/lib/learn.h) */
		if (r->dport != DNS_PORT && !(cfg_learn_mask && r->sport == DNS_PORT))
			return 0;
	} else if (r->l4_proto != PARSE_IPPROTO_TCP) {
		return 0;
	}
	payload_off = (__u32)((const __u8 *)r->payload - data);
	frame = (__u32)((const __u8 *)pc->data_end - (const __u8 *)r->payload);
	/* the IP header follows Ethernet and the tags still in the frame */
	l3_off = sizeof(struct hdr_eth) + 4 * (__u32)(r->vlan_depth - pc->vlan_hw);
	hdrs = payload_off - l3_off;
	if (r->ip_len == 0 || r->ip_len < hdrs)
		plen = frame;
	else
		plen = r->ip_len - hdrs < frame ? r->ip_len - hdrs : frame;
	if (plen == 0 || plen > 0xffff || payload_off > NAMES_OFF_MAX)
		return 0;
	if (r->l4_proto == PARSE_IPPROTO_TCP && !names_tcp_may(pc, r, plen))
		return 0;
	*a = payload_off | (__u64)((const __u8 *)r->l4 - data) << 16 | (__u64)l3_off << 32 |
	     (__u64)plen << 48;
	*b = r->notes | (__u64)r->l4_proto << 32 | (__u64)r->family << 40 |
	     (__u64)pc->vlan_hw << 48;
	return 1;
}

#endif
