/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the BPF tests (test_datapath.c, test_names.c, test_groups.c, test_learn.c): counter
 * snapshots summed over CPUs, the per-CPU trace slot reset and read back around one test run,
 * running on one CPU, the verifier's budget, fixture files. cmocka assertions: include after
 * <cmocka.h> and the skeleton (user/loader.h).
 */
#ifndef BPFGUARD_TESTS_BPF_HARNESS_H
#define BPFGUARD_TESTS_BPF_HARNESS_H

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/vheat.h"

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

/*
 * Run on one CPU from now on, the first one allowed (*cpu): the per-CPU trace slot the test
 * runs write is then known. Returns 0, or -1.
 */
static inline int harness_pin_cpu(int *cpu)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (*cpu = 0; *cpu < CPU_SETSIZE && !CPU_ISSET(*cpu, &set); (*cpu)++)
		;
	CPU_ZERO(&set);
	CPU_SET(*cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : 0;
}

/*
 * The verifier's work for each entry point of skel (bpf_prog_info.verified_insns), printed
 * with what: under two thirds of its limit of 1,000,000, room for what comes next.
 */
/*
 * The verifier's budget: 2/3 of its 1M-instruction limit for each program, so that another
 * compiler or kernel, which may walk more, still loads it. Over it, the failure shows where the
 * work goes (user/vheat.h: the program loaded again with skel's knobs, its log read).
 */
#define HARNESS_VERIFIER_BUDGET 666666

static inline void harness_heat_line(const char *line, void *arg)
{
	(void)arg;
	print_message("#   %s\n", line);
}

static inline void harness_verifier_budget(struct guard *skel, const char *what)
{
	struct bpf_program *progs[] = { skel->progs.guard_xdp, skel->progs.guard_tc_ingress,
					skel->progs.guard_tc_egress };
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		struct guard *again;
		struct vheat h;

		assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len), 0);
		print_message("# %s%s: %u instructions verified, %u in the program\n",
			      bpf_program__name(progs[i]), what, info.verified_insns,
			      info.xlated_prog_len / 8);
		assert_true(info.verified_insns > 1000);
		if (info.verified_insns < HARNESS_VERIFIER_BUDGET)
			continue;
		again = guard__open();
		if (again) {
			memcpy((void *)again->rodata, (const void *)skel->rodata,
			       sizeof(*again->rodata));
			if (vheat_load(again->obj, bpf_program__name(progs[i]), &h) != -ENOMEM) {
				vheat_print(&h, 20, harness_heat_line, NULL);
				vheat_free(&h);
			}
			guard__destroy(again);
		}
		fail_msg(
			"%s%s: %u instructions verified, over the budget of %u (build/verifier-heat "
			"shows where they go)",
			bpf_program__name(progs[i]), what, info.verified_insns,
			HARNESS_VERIFIER_BUDGET);
	}
}

/* A fixture file: dir/name holding text. */
static inline void harness_write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#endif
