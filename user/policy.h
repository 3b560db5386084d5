/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The compiled policy: everything the kernel maps will hold, built in host memory from a config
 * and its registry files, before anything touches the running guard. A policy that fails to
 * build changes nothing (a reload keeps the old one).
 */
#ifndef BPFGUARD_POLICY_H
#define BPFGUARD_POLICY_H

#include "maps/guard_maps.h"
#include "user/config.h"
#include "user/domtable.h"
#include "user/iptable.h"
#include "user/registry.h"

/*
 * What a blocked name is answered with (the [guard] keys dns_action, tcp_action, block_ttl,
 * sinkhole4/6), handed to the program as load-time knobs by the loader. A zeroed struct (set
 * false: policy_new) means the defaults: nxdomain, reset, 10 s.
 */
struct guard_actions {
	bool set; /* the fields below hold a config's values */
	int dns_action; /* enum dns_action_cfg */
	int tcp_action; /* enum tcp_action_cfg */
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
	a->block_ttl = cfg->block_ttl;
	a->has_sinkhole4 = cfg->sinkhole4.family == 4;
	a->has_sinkhole6 = cfg->sinkhole6.family == 6;
	__builtin_memcpy(a->sinkhole4, cfg->sinkhole4.addr, sizeof(a->sinkhole4));
	__builtin_memcpy(a->sinkhole6, cfg->sinkhole6.addr, sizeof(a->sinkhole6));
}

struct guard_policy {
	struct iptable ipt;
	struct domtable dom; /* built (dom.built) by policy_build; tests may build it by hand */
	struct list_meta lists[GUARD_MAX_LISTS];
	__u32 n_lists;
	struct group_policy groups[GUARD_MAX_GROUPS];
	__u32 n_groups; /* at least 1: group 0, everyone else */
	struct guard_actions act; /* how blocked names are answered */
	struct reg_stats reg; /* summed over the lists */
	__u64 build_ns; /* time to read the lists and build the tables */
};

/*
 * Read every list of cfg and build the policy. A list file that cannot be read is an error
 * (reported through d, returns -errno); bad lines are warnings. Returns 0 and *out (free with
 * policy_free).
 */
int policy_build(const struct guard_config *cfg, struct diag *d, struct guard_policy **out);
/* An empty policy (no lists, group 0 blocks nothing): tests fill ipt/lists/groups by hand. */
struct guard_policy *policy_new(void);
void policy_free(struct guard_policy *pol);

#endif
