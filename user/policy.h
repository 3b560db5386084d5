/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The compiled policy: everything the kernel maps will hold, built in host memory from a config
 * and its registry files, before anything touches the running guard. A policy that fails to
 * build changes nothing (a reload keeps the old one).
 */
#ifndef BPFGUARD_POLICY_H
#define BPFGUARD_POLICY_H

#include <time.h>
#include "maps/guard_maps.h"
#include "user/config.h"
#include "user/domtable.h"
#include "user/iptable.h"
#include "user/registry.h"

/*
 * What a blocked name is answered with (the [guard] keys dns_action, tcp_action, block_ttl,
 * sinkhole4/6), and whether a name the guard cannot examine is blocked (unexamined), handed to the program as load-time knobs by the loader. A zeroed struct (set
 * false: policy_new) means the defaults: nxdomain, reset, 10 s.
 */
struct guard_actions {
	bool set; /* the fields below hold a config's values */
	int dns_action; /* enum dns_action_cfg */
	int tcp_action; /* enum tcp_action_cfg */
	int unexamined; /* enum unexamined_cfg */
	unsigned int block_ttl; /* seconds */
	bool has_sinkhole4, has_sinkhole6;
	__u8 sinkhole4[4];
	__u8 sinkhole6[16];
};

/* The actions of cfg (policy_build calls this). */
static inline void policy_actions_from_config(struct guard_actions *a,
					      const struct guard_config *cfg)
{
	a->set = true;
	a->dns_action = cfg->dns_action;
	a->tcp_action = cfg->tcp_action;
	a->unexamined = cfg->unexamined;
	a->block_ttl = cfg->block_ttl;
	a->has_sinkhole4 = cfg->sinkhole4.family == 4;
	a->has_sinkhole6 = cfg->sinkhole6.family == 6;
	__builtin_memcpy(a->sinkhole4, cfg->sinkhole4.addr, sizeof(a->sinkhole4));
	__builtin_memcpy(a->sinkhole6, cfg->sinkhole6.addr, sizeof(a->sinkhole6));
}

/* A `macs =` address of a [group] and its group id. */
struct policy_mac {
	__u8 mac[6];
	__u32 group;
};

struct guard_policy {
	struct iptable ipt; /* the lists' prefixes, and the groups' clients (IPT_DIR_CLIENT) */
	struct domtable dom; /* built (dom.built) by policy_build; tests may build it by hand */
	struct list_meta lists[GUARD_MAX_LISTS];
	__u32 n_lists;
	/*
	 * Per client group: the block mask in force (policy_masks_at; policy_build sets it for
	 * the time of the build). Group 0 is everyone no [group] claims; group i is the config's
	 * groups[i - 1].
	 */
	struct group_policy groups[GUARD_MAX_GROUPS];
	char group_names[GUARD_MAX_GROUPS][LIST_NAME_LEN]; /* group 0: "default" */
	__u32 n_groups; /* at least 1: group 0, everyone else */
	struct policy_mac *macs; /* `macs =` of every group (unique) */
	__u32 n_macs;
	/* categories some group rule names with @schedule: learned from passing DNS answers */
	__u64 learn_mask;
	struct guard_actions act; /* how blocked and unexamined names are answered */
	struct reg_stats reg; /* summed over the lists */
	struct reg_files includes; /* the files the lists' include: lines name (watched too) */
	__u64 build_ns; /* time to read the lists and build the tables */
	/* what the tables held (they stay counted after policy_drop_tables) */
	size_t n_ip_prefixes, n_domains;
};

/*
 * Read every list of cfg and build the policy. A list file that cannot be read is an error
 * (reported through d, returns -errno); bad lines are warnings. Returns 0 and *out (free with
 * policy_free).
 */
int policy_build(const struct guard_config *cfg, struct diag *d, struct guard_policy **out);
/*
 * Each group's block mask at t (group_masks_eval of user/schedule.h) into pol->groups; *next
 * (may be NULL) the first instant > t at which a mask may change, or SCHEDULE_NEVER. Returns 0
 * or the error of group_masks_eval (pol unchanged).
 */
int policy_masks_at(struct guard_policy *pol, const struct guard_config *cfg, time_t t,
		    time_t *next);
/*
 * The client group of a packet's sender (DESIGN.md "The packet path", step 2), as the kernel
 * finds it: its Ethernet source (mac, may be NULL) among the groups' `macs =`, else its address
 * (family 4 or 6) among their `clients =` (the most specific prefix), else 0.
 */
__u32 policy_group_of(const struct guard_policy *pol, int family, const __u8 *addr,
		      const __u8 *mac);
/*
 * The group a packet is judged for, as the kernel finds it (its IP rules and any name it
 * carries): the sender's (policy_group_of of saddr and the frame's source MAC smac), else the
 * receiver's (daddr and the destination MAC dmac): a reply from outside is judged for the
 * client it goes to. The MACs may be NULL.
 */
__u32 policy_ip_group_of(const struct guard_policy *pol, int family, const __u8 *saddr,
			 const __u8 *daddr, const __u8 *smac, const __u8 *dmac);
/* An empty policy (no lists, group 0 blocks nothing): tests fill ipt/lists/groups by hand. */
struct guard_policy *policy_new(void);
void policy_free(struct guard_policy *pol);
/*
 * Free the host copies of the tables once the maps hold them (ipt and dom are left empty):
 * the daemon keeps only what it still reads (lists, groups, masks), so a reload's peak is
 * one policy being built, not two. check and replay keep them to name entries.
 */
void policy_drop_tables(struct guard_policy *pol);

#endif
