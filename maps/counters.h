/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counters: the enum indexing the per-CPU counter array, the value type, and the name/help
 * table the CLI and metrics print. Shared with user/: the X-macro keeps both sides in sync.
 *
 * Verdict counters (up to GC_VERDICT_MAX) partition the traffic: every packet the pipeline
 * sees lands in exactly one. Note counters record shapes seen on the way (a VLAN tag, an
 * IPv4 fragment...) and a packet may land in several of them, or none.
 */
#ifndef BPFGUARD_MAPS_COUNTERS_H
#define BPFGUARD_MAPS_COUNTERS_H

#include "abi.h"

/* X(enum suffix, metric name, help) — verdict counters first, in this order. */
#define GUARD_VERDICT_COUNTERS(X)                                                                  \
	X(PASS_NOMATCH, "pass_nomatch", "parsed, no rule matched")                                 \
	X(PASS_ALLOW, "pass_allow", "an allow entry matched")                                      \
	X(PASS_CATEGORY_OFF, "pass_category_off",                                                  \
	  "a block entry matched but its category is not blocked for this client now")             \
	X(PASS_NOT_IP, "pass_not_ip", "not IPv4 or IPv6 (ARP, LLDP, ...)")                         \
	X(PASS_TRUNCATED, "pass_truncated", "frame ends inside a header")                          \
	X(PASS_BAD_HEADER, "pass_bad_header",                                                      \
	  "malformed header (IP version, IHL < 5, TCP data offset < 5, lengths)")                  \
	X(PASS_VLAN_DEPTH, "pass_vlan_depth", "more than two VLAN tags")                           \
	X(PASS_IPV6_EXT, "pass_ipv6_ext",                                                          \
	  "IPv6 extension header chain too long or of an unknown kind")                            \
	X(DROP_IP_DST, "drop_ip_dst", "destination address in a block list")                       \
	X(DROP_IP_SRC, "drop_ip_src", "source address in a block list marked direction=source")    \
	X(DROP_LEARNED, "drop_learned",                                                            \
	  "destination learned from a DNS answer for a name in a category blocked now")            \
	X(DROP_DNS, "drop_dns",                                                                    \
	  "DNS query for a blocked name, dropped (dns_action=drop, or a query in an "              \
	  "IP fragment or behind IPv6 extension headers, which is not answered)")                  \
	X(ANSWER_DNS_NXDOMAIN, "answer_dns_nxdomain",                                              \
	  "DNS query for a blocked name, answered NXDOMAIN")                                       \
	X(ANSWER_DNS_REFUSED, "answer_dns_refused",                                                \
	  "DNS query for a blocked name, answered REFUSED")                                        \
	X(ANSWER_DNS_SINKHOLE, "answer_dns_sinkhole",                                              \
	  "DNS A/AAAA query for a blocked name, answered with the sinkhole address")               \
	X(ANSWER_DNS_NODATA, "answer_dns_nodata",                                                  \
	  "DNS query for a blocked name under dns_action=sinkhole, of another type "               \
	  "(or of a family without a sinkhole address): answered NOERROR, no data")                \
	X(DROP_DNS_TCP, "drop_dns_tcp", "DNS query over TCP for a blocked name, dropped")          \
	X(RESET_DNS_TCP, "reset_dns_tcp",                                                          \
	  "DNS query over TCP for a blocked name, answered with a TCP reset")                      \
	X(DROP_SNI, "drop_sni", "TLS ClientHello with a blocked SNI, dropped")                     \
	X(RESET_SNI, "reset_sni", "TLS ClientHello with a blocked SNI, answered with a TCP reset") \
	X(DROP_HTTP, "drop_http", "HTTP request for a blocked host, dropped")                      \
	X(RESET_HTTP, "reset_http", "HTTP request for a blocked host, answered with a TCP reset")  \
	X(DROP_UNEXAMINED, "drop_unexamined",                                                      \
	  "a name the guard cannot examine (a pass_name_* / _malformed / pass_tls_unsupported "    \
	  "reason), dropped: [guard] unexamined = block")                                          \
	X(RESET_UNEXAMINED, "reset_unexamined",                                                    \
	  "a name the guard cannot examine, in a TCP segment, answered with a TCP reset: "         \
	  "[guard] unexamined = block")                                                            \
	X(PASS_DOMAIN_ALLOW, "pass_domain_allow", "a domain allow entry matched the name")         \
	X(PASS_DOMAIN_CATEGORY_OFF, "pass_domain_category_off",                                    \
	  "a domain block entry matched the name but its category is not blocked "                 \
	  "for this client now")                                                                   \
	X(PASS_NAME_TOO_LONG, "pass_name_too_long",                                                \
	  "a name over 253 characters or 127 labels, or with a label over 63: not examined")       \
	X(PASS_NAME_TRUNCATED, "pass_name_truncated",                                              \
	  "a name cut by the end of the frame or segment: not examined")                           \
	X(PASS_NAME_MALFORMED, "pass_name_malformed",                                              \
	  "an SNI or Host name that is empty or has an empty label")                               \
	X(PASS_DNS_MALFORMED, "pass_dns_malformed",                                                \
	  "a DNS query the guard cannot read: header cut, QDCOUNT not 1, a "                       \
	  "compression pointer or reserved label type in the question, over 16 in a TCP segment")  \
	X(PASS_TLS_MALFORMED, "pass_tls_malformed", "a TLS ClientHello whose lengths do not nest") \
	X(PASS_TLS_UNSUPPORTED, "pass_tls_unsupported",                                            \
	  "a TLS ClientHello the guard does not follow: more than 64 fields and TLS record "       \
	  "headers before the SNI, a name cut by more than 8 records, or a segment over 16 KB")    \
	X(PASS_HTTP_UNSUPPORTED, "pass_http_unsupported",                                          \
	  "an HTTP request the guard does not read: the 17th or a later one in one segment")       \
	X(PASS_TLS_PENDING, "pass_tls_pending",                                                    \
	  "a segment of a split TLS ClientHello that does not complete the SNI yet")               \
	X(PASS_TLS_UNORDERED, "pass_tls_unordered",                                                \
	  "a segment after a gap in a split TLS ClientHello being followed: the "                  \
	  "following stops, the flow passes")

#define GUARD_NOTE_COUNTERS(X)                                                            \
	X(NOTE_VLAN, "note_vlan", "frames with one VLAN tag")                             \
	X(NOTE_QINQ, "note_qinq", "frames with two VLAN tags (802.1ad/802.1Q)")           \
	X(NOTE_IPV4_OPTIONS, "note_ipv4_options", "IPv4 headers with options")            \
	X(NOTE_IPV4_FRAGMENT, "note_ipv4_fragment", "IPv4 fragments (first or later)")    \
	X(NOTE_IPV4_LATER_FRAGMENT, "note_ipv4_later_fragment",                           \
	  "IPv4 non-first fragments (judged by addresses only)")                          \
	X(NOTE_IPV6_EXT, "note_ipv6_ext", "IPv6 packets with extension headers")          \
	X(NOTE_IPV6_FRAGMENT, "note_ipv6_fragment", "IPv6 fragments")                     \
	X(NOTE_IPV6_LATER_FRAGMENT, "note_ipv6_later_fragment",                           \
	  "IPv6 non-first fragments (judged by addresses only)")                          \
	X(NOTE_L4_OTHER, "note_l4_other", "IP packets that are neither TCP nor UDP")      \
	X(NOTE_DNS_LEARNED, "note_dns_learned",                                           \
	  "DNS answers for a name of a scheduled category whose addresses were learned "  \
	  "(the answers pass)")                                                           \
	X(NOTE_DNS_NOT_QUERY, "note_dns_not_query",                                       \
	  "DNS messages to port 53 that are not standard queries (responses, NOTIFY, "    \
	  "UPDATE): not judged by name")                                                  \
	X(NOTE_TLS_SPLIT, "note_tls_split",                                               \
	  "TLS ClientHellos whose SNI is not in their first segment: followed")           \
	X(NOTE_TLS_RETRANSMIT, "note_tls_retransmit",                                     \
	  "segments of a followed ClientHello seen again (retransmissions): passed, "     \
	  "the following goes on")                                                        \
	X(NOTE_TLS_NO_SNI, "note_tls_no_sni", "TLS ClientHellos without a host name SNI") \
	X(NOTE_TLS_ECH, "note_tls_ech",                                                   \
	  "TLS ClientHellos with an encrypted_client_hello extension before the SNI "     \
	  "(the outer SNI is matched as any SNI)")                                        \
	X(NOTE_HTTP_NO_HOST, "note_http_no_host",                                         \
	  "HTTP requests whose first segment names no host (no Host header, an IP "       \
	  "literal)")                                                                     \
	X(NOTE_DNS_LEAN, "note_dns_lean",                                                 \
	  "DNS answers sent without their SOA and OPT records: the frame could not grow " \
	  "(veth XDP, where the buffer can be the sender's skb)")                         \
	X(NOTE_FLOW_FULL, "note_flow_full",                                               \
	  "split ClientHellos or DNS-over-TCP streams that could not be followed: the "   \
	  "flow table refused the record")                                                \
	X(NOTE_DNS_TCP_FOLLOWED, "note_dns_tcp_followed",                                 \
	  "DNS-over-TCP segments that end inside a message or its length prefix: the "    \
	  "stream is followed into the next segment")

#define GUARD_COUNTER_ENUM(sym, name, help) GC_##sym,
enum guard_counter {
	GUARD_VERDICT_COUNTERS(GUARD_COUNTER_ENUM) GC_VERDICT_MAX,
	/* the first note takes the value GC_VERDICT_MAX */
	GC_NOTE_BASE_ = GC_VERDICT_MAX - 1,
	GUARD_NOTE_COUNTERS(GUARD_COUNTER_ENUM) GC_COUNTER_MAX,
};
#undef GUARD_COUNTER_ENUM

/* Value of the per-CPU counter array and of the per-CPU per-list hit array. */
struct guard_count {
	__u64 packets;
	__u64 bytes;
};
ABI_ASSERT_SIZE(struct guard_count, 16);

#ifndef __BPF__
struct guard_counter_info {
	const char *name;
	const char *help;
};

/* Indexed by enum guard_counter. */
static const struct guard_counter_info guard_counter_info[GC_COUNTER_MAX] = {
#define GUARD_COUNTER_INFO(sym, n, h) [GC_##sym] = { .name = n, .help = h },
	GUARD_VERDICT_COUNTERS(GUARD_COUNTER_INFO) GUARD_NOTE_COUNTERS(GUARD_COUNTER_INFO)
#undef GUARD_COUNTER_INFO
};
#endif

#endif
