/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy values the loader writes and the pipeline reads: per-group category masks, the list
 * metadata that `stats` prints, the run record that `status` prints, and the per-packet trace
 * that `replay` and `check` read. Shared with user/.
 */
#ifndef BPFGUARD_MAPS_POLICY_H
#define BPFGUARD_MAPS_POLICY_H

#include "abi.h"

/* Per client group: which categories are blocked right now (written from the schedules). */
struct group_policy {
	__u64 block_mask;
	__u64 reserved;
};
ABI_ASSERT_SIZE(struct group_policy, 16);

/*
 * Key of map group_macs: an Ethernet source address (`macs =` of a [group]); the value is the
 * group id (__u32). A MAC match beats a `clients =` prefix match. Six bytes, no padding: the
 * program looks the frame's own bytes up, with no copy on its stack.
 */
struct group_mac_key {
	__u8 mac[6];
};
ABI_ASSERT_SIZE(struct group_mac_key, 6);

#define LIST_NAME_LEN 48
#define CATEGORY_NAME_LEN 32

/* List metadata, indexed by list id: lets `stats` name the lists from pinned maps alone. */
struct list_meta {
	char name[LIST_NAME_LEN];
	char category[CATEGORY_NAME_LEN];
	__u32 category_id;
	__u32 action; /* enum list_action */
	__u32 entries; /* entries loaded */
	__u32 flags;
};
ABI_ASSERT_SIZE(struct list_meta, 96);

enum list_action {
	LIST_BLOCK = 0,
	LIST_ALLOW = 1,
};

/* Where a running guard is attached: one record, written by `run`, read by `status`. */
#define RUN_MAX_ATTACH 16
#define RUN_IFNAME_LEN 16

enum attach_kind {
	ATTACH_NONE = 0,
	ATTACH_XDP_NATIVE = 1,
	ATTACH_XDP_GENERIC = 2,
	ATTACH_TC_INGRESS = 3,
	ATTACH_TC_EGRESS = 4,
};

struct run_attach {
	char ifname[RUN_IFNAME_LEN];
	__u32 ifindex;
	__u32 kind; /* enum attach_kind */
	__u32 prog_id;
	__u32 flags; /* RUN_ATTACH_F_* */
};

#define RUN_ATTACH_F_HOOK_CREATED 0x1 /* the guard created the clsact qdisc: it removes it */
ABI_ASSERT_SIZE(struct run_attach, 32);

struct run_record {
	__u32 pid;
	__u32 n_attach;
	__u64 started; /* seconds since the epoch */
	__u64 loaded; /* when the policy in force was loaded */
	__u32 n_lists;
	__u32 generation; /* policy loads since start */
	__u32 reloads_failed; /* reloads that failed since start (the old policy stayed) */
	__u32 failed_generation; /* the generation in force when the last one failed */
	char config[120];
	struct run_attach attach[RUN_MAX_ATTACH];
};
ABI_ASSERT_SIZE(struct run_record, 672);

/*
 * What the pipeline decided for the last packet on this CPU (only when cfg_trace is set).
 * leaf_id is an IP leaf (maps/iptable.h) unless flags has TRACE_F_DOMAIN: then a domain leaf
 * (maps/domain.h), and match_label the first label of the name's suffix that matched (label 0
 * is the whole name; the name itself is the one the frame carries, see source).
 */
struct guard_trace {
	__u32 counter; /* enum guard_counter: the verdict counter */
	__u32 list_id;
	__u32 leaf_id;
	__u32 group;
	__u32 verdict; /* enum guard_verdict */
	__u8 source; /* enum name_source: the name examined, NAME_SRC_NONE if none */
	__u8 flags; /* TRACE_F_* */
	__u8 match_label;
	__u8 pad;
};
ABI_ASSERT_SIZE(struct guard_trace, 24);

/* Where the name the pipeline examined came from. */
enum name_source {
	NAME_SRC_NONE = 0,
	NAME_SRC_DNS_UDP = 1,
	NAME_SRC_DNS_TCP = 2,
	NAME_SRC_SNI = 3,
	NAME_SRC_HTTP = 4,
};

#define TRACE_F_DOMAIN 0x1 /* leaf_id is a domain leaf */
#define TRACE_F_EXACT 0x2 /* the whole name's exact-only key matched */

/*
 * The shape of the domain tables (map dom_config, one entry), written by the loader with them:
 * the kernel lookup (bpf/lib/domain.h) needs the hash root and the two masks of maps/domain.h.
 */
struct dom_config {
	__u64 root; /* the builder's root key (struct domtable.root) */
	__u32 bloom_mask; /* bloom words - 1 (a power of two - 1) */
	__u32 bucket_mask; /* cuckoo buckets - 1 (a power of two - 1) */
	__u32 n_leaves; /* leaves written, for status */
	__u32 flags; /* DOM_CFG_F_* */
};
ABI_ASSERT_SIZE(struct dom_config, 24);

/* Some entry is exact-only: the whole name's exact key must be probed (one more probe). */
#define DOM_CFG_F_EXACT 0x1
/*
 * Some entry is a one-label name (a top-level domain: `zip`): the walk must test the top-level
 * suffix's key. Without one, it goes straight on to the second level: a top-level suffix is
 * then never a stored key, and nearly always a node (whatever is listed under .com).
 */
#define DOM_CFG_F_TLD 0x2

/* Load-time actions (rodata cfg_dns_action, cfg_tcp_action): user/config.h's order. */
enum guard_dns_action {
	GUARD_DNS_DROP = 0,
	GUARD_DNS_NXDOMAIN = 1,
	GUARD_DNS_REFUSED = 2,
	GUARD_DNS_SINKHOLE = 3,
};

enum guard_tcp_action {
	GUARD_TCP_DROP = 0,
	GUARD_TCP_RESET = 1,
};

/* The internal verdict of guard_classify(); each entry point maps it to XDP_* / TC_ACT_*. */
enum guard_verdict {
	GV_PASS = 0,
	GV_DROP = 1,
	GV_ANSWER = 2, /* the packet was rewritten into an answer: send it back */
};

#endif
