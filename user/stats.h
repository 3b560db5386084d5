/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counters of a running guard, read from its pinned maps (or from a loaded skeleton's maps),
 * summed over CPUs; printed as text, JSON, or Prometheus metrics.
 */
#ifndef BPFGUARD_STATS_H
#define BPFGUARD_STATS_H

#include <stdio.h>
#include "maps/guard_maps.h"

struct guard_stats {
	struct guard_count counters[GC_COUNTER_MAX];
	struct list_meta lists[GUARD_MAX_LISTS];
	struct guard_count list_hits[GUARD_MAX_LISTS];
	__u32 n_lists;
};

/* Read from map fds (any of them may be -1: that part stays zero). */
int stats_read_fds(int counters_fd, int list_hits_fd, int list_meta_fd, __u32 n_lists,
		   struct guard_stats *st);
/* Read from the pins under pin_dir. -ENOENT with a message when no guard is pinned there. */
int stats_read_pinned(const char *pin_dir, struct guard_stats *st);

void stats_print_text(FILE *f, const struct guard_stats *st);
void stats_print_json(FILE *f, const struct guard_stats *st);
void stats_print_prometheus(FILE *f, const struct guard_stats *st);

#endif
