/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Addresses learned from DNS answers (issue 4, "time cut-off for flows already open"): the key
 * and value of map learned (an LRU hash: an address -> the categories of the names it was given
 * for, and until when), and the per-CPU scratch a DNS response is walked in (bpf/lib/dnsresp.h,
 * bpf/lib/learn.h). Included by maps/guard_maps.h; shared with user/ (the loader sizes the map,
 * the daemon pins it and keeps it across reloads, the tests read it) and with the host builds of
 * bpf/lib/dnsresp.h.
 */
#ifndef BPFGUARD_MAPS_LEARN_H
#define BPFGUARD_MAPS_LEARN_H

#include "abi.h"

/* Map (and pin) names. */
#define MAP_LEARNED learned
#define MAP_LEARN_SLOTS learn_slots
#define MAP_LEARN_SCRATCH learn_scratch

/* Addresses remembered at once (max_entries of learned when learning is on; the LRU evicts). */
#define LEARN_DEFAULT 65536
/*
 * The filter in front of map learned (map learn_slots, an array of LEARN_SLOTS words, when
 * learning is on): slot learn_slot(address) holds the latest expiry of the addresses learned
 * into it, 0 when none is live. A packet whose slot is 0 (most packets) skips the hash lookup;
 * a lookup that finds nothing live in a slot whose time has passed zeroes it.
 */
#define LEARN_SLOTS (1u << 18)
/*
 * How long an address is remembered: the record's TTL, at least LEARN_TTL_MIN_S (a TTL of 0
 * still covers the connection the client opens next), at most LEARN_TTL_MAX_S. A packet to a
 * remembered address keeps it for LEARN_KEEP_S more when less than half of that is left: a
 * connection that outlives the TTL of the answer it was opened with stays judged.
 */
#define LEARN_TTL_MIN_S 30
#define LEARN_TTL_MAX_S 86400
#define LEARN_KEEP_S 300
#define LEARN_NS_PER_S 1000000000ull

/* Key of map learned. */
struct learn_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3]; /* zero */
	__u8 addr[16]; /* IPv4: the first 4 bytes, the rest zero */
};
ABI_ASSERT_SIZE(struct learn_key, 20);

/*
 * The slot of an address: its bytes as two little-endian words (IPv4: the 4 bytes in the low
 * half of a0, a1 = 0), mixed by multiplication, the top bits.
 */
static inline __u32 learn_slot(__u64 a0, __u64 a1)
{
	__u64 h = a0 * 0x9e3779b97f4a7c15ull ^ a1 * 0xc2b2ae3d27d4eb4full;

	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	return (__u32)(h >> 46) & (LEARN_SLOTS - 1);
}

/* Value of map learned. */
struct learn_entry {
	__u64 cats; /* categories (bits) of the names it answered, within cfg_learn_mask */
	__u64 expires; /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC) from which it is forgotten */
};
ABI_ASSERT_SIZE(struct learn_entry, 16);

/*
 * The response walk (bpf/lib/dnsresp.h). The message is copied into msg (at most
 * DNSRESP_COPY_MAX bytes); positions are masked with DNSRESP_POS_MASK before a read, and a
 * record's fixed part and data (26 bytes at most for an AAAA record) stay inside the buffer.
 */
#define DNSRESP_COPY_MAX 1024
#define DNSRESP_POS_MASK (DNSRESP_COPY_MAX - 1)
#define DNSRESP_BUF_LEN (DNSRESP_COPY_MAX + 32)
#define DNSRESP_MAX_RRS 16 /* answer records walked; then the walk stops (DNSRESP_PARTIAL) */
#define DNSRESP_MAX_ADDRS DNSRESP_MAX_RRS
#define DNSRESP_STEPS 128 /* steps of the walk: one per owner label, one per record */

/* An A or AAAA record of the answer section. */
struct dnsresp_addr {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u32 ttl; /* seconds, as the record says (a TTL with the top bit set reads as 0) */
	__u8 addr[16]; /* IPv4: the first 4 bytes, the rest zero */
};
ABI_ASSERT_SIZE(struct dnsresp_addr, 24);

/* The walk's state and what it found (map learn_scratch: one per CPU). */
struct dnsresp_walk {
	__u8 msg[DNSRESP_BUF_LEN]; /* the message, from its header on */
	__u32 len; /* the message's length, as its UDP header says */
	__u32 avail; /* bytes of it in msg: at most len and DNSRESP_COPY_MAX */
	__u32 pos; /* where the walk is: a record's owner name (or a label inside it) */
	__u16 ancount; /* the header's ANCOUNT */
	__u16 rr; /* answer records walked */
	__u16 owner; /* bytes of the current owner name walked so far */
	__u16 n; /* addresses in addr[] */
	__u32 pad;
	struct dnsresp_addr addr[DNSRESP_MAX_ADDRS];
};
ABI_ASSERT_SIZE(struct dnsresp_walk, DNSRESP_BUF_LEN + 24 + 24 * DNSRESP_MAX_ADDRS);

#endif
