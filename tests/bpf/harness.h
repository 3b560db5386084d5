/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Map access shared by the BPF tests (test_datapath.c, test_names.c): counter snapshots summed
 * over CPUs, and the per-CPU trace slot reset and read back around one test run. cmocka
 * assertions: include after <cmocka.h> and the skeleton (user/loader.h).
 */
#ifndef BPFGUARD_TESTS_BPF_HARNESS_H
#define BPFGUARD_TESTS_BPF_HARNESS_H

#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"

/* Every counter and the first lists' hits, each summed over CPUs. */
struct snapshot {
	struct guard_count c[GC_COUNTER_MAX];
	struct guard_count hits[GUARD_MAX_LISTS];
};

static inline void harness_sum(int fd, __u32 key, int ncpus, struct guard_count *out)
{
	struct guard_count v[ncpus];
	int i;

	assert_int_equal(bpf_map_lookup_elem(fd, &key, v), 0);
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpus; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
}

/* Counters and the hits of lists [0, n_lists) of skel. */
static inline void harness_snap(struct guard *skel, int ncpus, __u32 n_lists, struct snapshot *sn)
{
	int cfd = bpf_map__fd(skel->maps.MAP_COUNTERS), hfd = bpf_map__fd(skel->maps.MAP_LIST_HITS);
	__u32 i;

	memset(sn, 0, sizeof(*sn));
	for (i = 0; i < GC_COUNTER_MAX; i++)
		harness_sum(cfd, i, ncpus, &sn->c[i]);
	for (i = 0; i < n_lists && i < GUARD_MAX_LISTS; i++)
		harness_sum(hfd, i, ncpus, &sn->hits[i]);
}

/* Set every CPU's trace slot to a marker the program must overwrite. */
static inline void harness_trace_reset(struct guard *skel, int ncpus)
{
	struct guard_trace t[ncpus];
	__u32 zero = 0;

	memset(t, 0xee, sizeof(t));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.MAP_TRACE), &zero, t, BPF_ANY),
			 0);
}

/* The trace slot of cpu (the CPU the test runs on). */
static inline void harness_trace_read(struct guard *skel, int ncpus, int cpu,
				      struct guard_trace *out)
{
	struct guard_trace t[ncpus];
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.MAP_TRACE), &zero, t), 0);
	*out = t[cpu];
}

#endif
