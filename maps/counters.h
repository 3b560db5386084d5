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
#define GUARD_VERDICT_COUNTERS(X)                                                      \
	X(PASS_NOMATCH, "pass_nomatch", "parsed, no rule matched")                     \
	X(PASS_ALLOW, "pass_allow", "an allow entry matched")                          \
	X(PASS_CATEGORY_OFF, "pass_category_off",                                      \
	  "a block entry matched but its category is not blocked for this client now") \
	X(PASS_NOT_IP, "pass_not_ip", "not IPv4 or IPv6 (ARP, LLDP, ...)")             \
	X(PASS_TRUNCATED, "pass_truncated", "frame ends inside a header")              \
	X(PASS_BAD_HEADER, "pass_bad_header",                                          \
	  "malformed header (IP version, IHL < 5, TCP data offset < 5, lengths)")      \
	X(PASS_VLAN_DEPTH, "pass_vlan_depth", "more than two VLAN tags")               \
	X(PASS_IPV6_EXT, "pass_ipv6_ext",                                              \
	  "IPv6 extension header chain too long or of an unknown kind")                \
	X(DROP_IP_DST, "drop_ip_dst", "destination address in a block list")           \
	X(DROP_IP_SRC, "drop_ip_src", "source address in a block list marked direction=source")

#define GUARD_NOTE_COUNTERS(X)                                                         \
	X(NOTE_VLAN, "note_vlan", "frames with one VLAN tag")                          \
	X(NOTE_QINQ, "note_qinq", "frames with two VLAN tags (802.1ad/802.1Q)")        \
	X(NOTE_IPV4_OPTIONS, "note_ipv4_options", "IPv4 headers with options")         \
	X(NOTE_IPV4_FRAGMENT, "note_ipv4_fragment", "IPv4 fragments (first or later)") \
	X(NOTE_IPV4_LATER_FRAGMENT, "note_ipv4_later_fragment",                        \
	  "IPv4 non-first fragments (judged by addresses only)")                       \
	X(NOTE_IPV6_EXT, "note_ipv6_ext", "IPv6 packets with extension headers")       \
	X(NOTE_IPV6_FRAGMENT, "note_ipv6_fragment", "IPv6 fragments")                  \
	X(NOTE_IPV6_LATER_FRAGMENT, "note_ipv6_later_fragment",                        \
	  "IPv6 non-first fragments (judged by addresses only)")                       \
	X(NOTE_L4_OTHER, "note_l4_other", "IP packets that are neither TCP nor UDP")

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
