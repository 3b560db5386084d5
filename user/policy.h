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
#include "user/iptable.h"
#include "user/registry.h"

struct guard_policy {
	struct iptable ipt;
	struct list_meta lists[GUARD_MAX_LISTS];
	__u32 n_lists;
	struct group_policy groups[GUARD_MAX_GROUPS];
	__u32 n_groups; /* at least 1: group 0, everyone else */
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
