/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The IP rule tables: a multibit trie with strides 16-8-8 built from arrays, as DPDK's rte_lpm
 * (DIR-24-8) does, so that a lookup is one to four array reads that the verifier inlines,
 * whatever the number of prefixes. Built by user/iptable.c, read by bpf/lib/iprule.h.
 *
 * Every table is an array of groups of 256 __u32 entries (struct ipt_group). An entry is
 *   0                      nothing covers this range
 *   leaf id (bit 31 clear) the most specific prefix covering the whole range has this leaf
 *   IPT_EXT | payload      the range holds longer prefixes: payload is the child group index,
 *                          except on IPv6's last array level (see below)
 * Prefixes are leaf-pushed: a child group starts as 256 copies of its parent's leaf, so a
 * lookup never backtracks.
 *
 * Roots: groups [dir * 256, dir * 256 + 255] are the root of direction dir (IPT_DIR_DST,
 * IPT_DIR_SRC, IPT_DIR_CLIENT), 2^16 entries indexed by the address's first 16 bits: group =
 * byte 0, entry = byte 1. IPT_DIR_CLIENT holds the `clients =` prefixes of the [group]
 * sections: its leaves have IP_LEAF_F_GROUP and name a client group, not a list.
 *
 * IPv4: root (/16) -> level 2 (/24, byte 2) -> level 3 (/32, byte 3). A level-2 entry with
 *   IPT_EXT names a level-3 group, which is stored run-length compressed (struct ipt_cgroup):
 *   most /24s that hold longer prefixes hold one or two /32s, and a plain 1 KB group each would
 *   cost a gigabyte for a million listed hosts.
 * IPv6: root (/16) -> level 2 (/24, byte 2). An IPv6 level-2 entry with IPT_EXT means the LPM
 *   trie (struct ipt_v6_key) holds longer prefixes in this /24: look it up; its payload is the
 *   leaf to use when the trie has no match (the prefix of length <= 24 pushed down here).
 *   The trie holds only prefixes longer than /24, so random traffic rarely reaches it.
 */
#ifndef BPFGUARD_MAPS_IPTABLE_H
#define BPFGUARD_MAPS_IPTABLE_H

#include "abi.h"

#define IPT_GROUP_ENTRIES 256
#define IPT_EXT 0x80000000u
#define IPT_PAYLOAD 0x7fffffffu
#define IPT_LEAF_NONE 0u

enum ipt_dir {
	IPT_DIR_DST = 0,
	IPT_DIR_SRC = 1,
	IPT_DIR_CLIENT = 2, /* the client groups' prefixes (DESIGN.md "The packet path", step 2) */
	IPT_DIRS = 3,
};

#define IPT_ROOT_GROUPS (IPT_DIRS * 256) /* groups 0..767 are the three roots */

struct ipt_group {
	__u32 e[IPT_GROUP_ENTRIES];
};
ABI_ASSERT_SIZE(struct ipt_group, 1024);

/*
 * A compressed level-3 group: bit i of bits is set where a run of equal entries starts (bit 0
 * always). Entry i is runs[base + rank(i) - 1], rank(i) = the number of set bits in [0, i] =
 * before[i / 64] + the set bits of word i / 64 up to i, so a lookup counts bits in one word.
 * The runs table is an array of struct ipt_runs chunks (run r: chunk r / 16, slot r % 16).
 */
struct ipt_cgroup {
	__u64 bits[4];
	__u32 base;
	__u8 before[4]; /* set bits in the words before word w */
};
ABI_ASSERT_SIZE(struct ipt_cgroup, 40);

#define IPT_RUNS_PER_CHUNK 16
struct ipt_runs {
	__u32 v[IPT_RUNS_PER_CHUNK];
};
ABI_ASSERT_SIZE(struct ipt_runs, 64);

/* LPM trie key for IPv6 prefixes longer than /24: prefixlen counts the direction byte too. */
struct ipt_v6_key {
	__u32 prefixlen; /* 8 + prefix length */
	__u8 dir; /* enum ipt_dir */
	__u8 addr[16];
	__u8 pad[3];
} __attribute__((packed));
ABI_ASSERT_SIZE(struct ipt_v6_key, 24);

/* Leaf flags. */
#define IP_LEAF_F_ALLOW 0x1 /* an allow entry covers the address, more specific than any block */
#define IP_LEAF_F_GROUP 0x2 /* IPT_DIR_CLIENT: list_id is the client group id (block_cats 0) */

/*
 * A leaf: what the most specific covering entries say. Leaves are shared (deduplicated), so
 * the kernel tables stay small; the host keeps the prefixes for `check` and `replay`.
 *   block_cats: categories of the block entries covering the address that are more specific
 *               than every covering allow entry (at equal length, allow wins).
 * In IPT_DIR_CLIENT a leaf names the group of the most specific covering `clients =` prefix.
 */
struct ip_leaf {
	__u64 block_cats;
	__u32 list_id; /* the list of the most specific entry (per-list hits); a group id with
			* IP_LEAF_F_GROUP */
	__u16 flags; /* IP_LEAF_F_* */
	__u16 pad;
};
ABI_ASSERT_SIZE(struct ip_leaf, 16);

#endif
