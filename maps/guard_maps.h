/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The maps of the guard program: names (kernel object names hold 15 characters, and these are
 * also the pin names under /sys/fs/bpf/bpfguard/) and, for bpf/, their definitions. user/ gets
 * the maps through the skeleton and refers to pins by these names.
 */
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#define BPFGUARD_MAPS_GUARD_MAPS_H

#include "abi.h"
#include "counters.h"
#include "domain.h"
#include "flow.h"
#include "iptable.h"
#include "learn.h"
#include "policy.h"

#define PIN_DIR "/sys/fs/bpf/bpfguard"

/* Map (and pin) names. The skeleton field is the same name. */
#define MAP_COUNTERS counters
#define MAP_LIST_HITS list_hits
#define MAP_LIST_META list_meta
#define MAP_GROUP_POLICY group_policy
#define MAP_GROUP_MACS group_macs
#define MAP_RUN run_record
#define MAP_TRACE trace
#define MAP_V4_TABLE v4_table
#define MAP_V4_L3 v4_l3
#define MAP_V4_RUNS v4_runs
#define MAP_V6_TABLE v6_table
#define MAP_V6_TRIE v6_trie
#define MAP_IP_LEAVES ip_leaves
/* The domain tables: MAP_DOM_BLOOM, MAP_DOM_TABLE, MAP_DOM_LEAVES (maps/domain.h), and: */
#define MAP_DOM_CONFIG dom_config
/* The name stage's state (maps/flow.h). */
#define MAP_NAME_SCRATCH name_scratch
#define MAP_TLS_FLOWS tls_flows
#define MAP_TLS_PENDING tls_pending
#define MAP_DNS_FLOWS dns_flows
/* Addresses learned from DNS answers: MAP_LEARNED, MAP_LEARN_SLOTS, MAP_LEARN_SCRATCH (learn.h). */

#define GUARD_STR_(x) #x
#define GUARD_STR(x) GUARD_STR_(x)

/* Sizes the loader sets before load (bpf_map__set_max_entries); these are the defaults. */
#define V4_TABLE_DEFAULT_GROUPS (IPT_ROOT_GROUPS + 1024)
#define V4_L3_DEFAULT 1024
#define V4_RUNS_DEFAULT_CHUNKS 1024
#define V6_TABLE_DEFAULT_GROUPS (IPT_ROOT_GROUPS + 1024)
#define V6_TRIE_DEFAULT_ENTRIES 1024
#define IP_LEAVES_DEFAULT 1024
#define GROUP_MACS_DEFAULT 1
#define DOM_BLOOM_DEFAULT DH_BLOOM_MIN_WORDS
#define DOM_TABLE_DEFAULT 16
#define DOM_LEAVES_DEFAULT 16

#ifdef __BPF__
/* Definitions: included once, by bpf/guard.bpf.c. */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GC_COUNTER_MAX);
	__type(key, __u32);
	__type(value, struct guard_count);
} MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GUARD_MAX_LISTS);
	__type(key, __u32);
	__type(value, struct guard_count);
} MAP_LIST_HITS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_MAX_LISTS);
	__type(key, __u32);
	__type(value, struct list_meta);
} MAP_LIST_META SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct group_policy);
} MAP_GROUP_POLICY SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GROUP_MACS_DEFAULT);
	__type(key, struct group_mac_key);
	__type(value, __u32);
} MAP_GROUP_MACS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct run_record);
} MAP_RUN SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct guard_trace);
} MAP_TRACE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, V4_TABLE_DEFAULT_GROUPS);
	__type(key, __u32);
	__type(value, struct ipt_group);
} MAP_V4_TABLE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, V4_L3_DEFAULT);
	__type(key, __u32);
	__type(value, struct ipt_cgroup);
} MAP_V4_L3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, V4_RUNS_DEFAULT_CHUNKS);
	__type(key, __u32);
	__type(value, struct ipt_runs);
} MAP_V4_RUNS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, V6_TABLE_DEFAULT_GROUPS);
	__type(key, __u32);
	__type(value, struct ipt_group);
} MAP_V6_TABLE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, V6_TRIE_DEFAULT_ENTRIES);
	__type(key, struct ipt_v6_key);
	__type(value, __u32);
} MAP_V6_TRIE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IP_LEAVES_DEFAULT);
	__type(key, __u32);
	__type(value, struct ip_leaf);
} MAP_IP_LEAVES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DOM_BLOOM_DEFAULT);
	__type(key, __u32);
	__type(value, __u64);
} MAP_DOM_BLOOM SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DOM_TABLE_DEFAULT);
	__type(key, __u32);
	__type(value, struct dom_bucket);
} MAP_DOM_TABLE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DOM_LEAVES_DEFAULT);
	__type(key, __u32);
	__type(value, struct dom_leaf);
} MAP_DOM_LEAVES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dom_config);
} MAP_DOM_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct name_scratch);
} MAP_NAME_SCRATCH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOW_TLS_DEFAULT);
	__type(key, struct flow_key);
	__type(value, struct flow_tls);
} MAP_TLS_FLOWS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOW_DNS_DEFAULT);
	__type(key, struct flow_key);
	__type(value, struct flow_dns);
} MAP_DNS_FLOWS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_PENDING_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} MAP_TLS_PENDING SEC(".maps");

/* max_entries: LEARN_DEFAULT when learning is on, 1 when it is off (user/loader.c) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEARN_DEFAULT);
	__type(key, struct learn_key);
	__type(value, struct learn_entry);
} MAP_LEARNED SEC(".maps");

/* max_entries: LEARN_SLOTS when learning is on, 1 when it is off */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LEARN_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} MAP_LEARN_SLOTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dnsresp_walk);
} MAP_LEARN_SCRATCH SEC(".maps");
#endif /* __BPF__ */

#endif
