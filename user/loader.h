/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading the guard program: open the skeleton, size the tables for a policy, set the rodata
 * knobs, load (a verifier rejection is reported with its log), and fill every map from the
 * policy. Used by `run`, `replay`, `check`, `bench` and the BPF tests.
 */
#ifndef BPFGUARD_LOADER_H
#define BPFGUARD_LOADER_H

#include <stdbool.h>
#include "guard.skel.h"
#include "user/policy.h"

struct loader_opts {
	bool trace; /* cfg_trace: record each packet's decision in the trace map */
	double headroom; /* extra table capacity for live additions (0.25 = 25%) */
	int reuse_counters_fd; /* >= 0: share this counters map (a reload keeps the counts) */
	int reuse_list_hits_fd; /* >= 0: likewise for list hits */
	int reuse_list_meta_fd; /* >= 0: likewise for the list metadata (rewritten) */
	int reuse_run_fd; /* >= 0: likewise for the run record */
	int reuse_learned_fd; /* >= 0: likewise for the addresses learned from DNS answers */
	int reuse_learn_slots_fd; /* >= 0: likewise for their filter (with reuse_learned_fd) */
	__u32 learn_entries; /* size of a new learned map when the policy learns; 0: default */
};

#define LOADER_OPTS_INIT                                                                     \
	{                                                                                    \
		.reuse_counters_fd = -1, .reuse_list_hits_fd = -1, .reuse_list_meta_fd = -1, \
		.reuse_run_fd = -1, .reuse_learned_fd = -1, .reuse_learn_slots_fd = -1       \
	}

/*
 * The size of the learned map (maps/learn.h) policy pol needs: o->learn_entries (default
 * LEARN_DEFAULT) when it learns (pol->learn_mask), 1 when it does not (and its filter,
 * learn_slots: LEARN_SLOTS or 1). A map to reuse must be at least that large (the daemon
 * replaces a smaller pinned one, and its filter with it).
 */
__u32 loader_learn_entries(const struct guard_policy *pol, const struct loader_opts *o);

/* Returns 0 and *out (destroy with guard__destroy), or -errno after pr_warn saying why. */
int loader_load(const struct guard_policy *pol, const struct loader_opts *o, struct guard **out);

/* Write the policy's tables, leaves, lists and groups into the maps of a loaded skeleton. */
int loader_fill(struct guard *skel, const struct guard_policy *pol);

#endif
