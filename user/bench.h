/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `bpfguard bench [--json] [--quick] [--v4 N] [--v6 N] [--case NAME,...]`: nanoseconds per packet through
 * BPF_PROG_TEST_RUN for the standard packet mix, beside the minimal XDP program measured in the
 * same run, with random prefix lists loaded through the real path (a generated .gz registry,
 * config_load, policy_build, loader_load); also load time and the maps' kernel memory. Used by
 * user/cli.c (`make bench`).
 */
#ifndef BPFGUARD_BENCH_H
#define BPFGUARD_BENCH_H

#include <stdbool.h>

#define BENCH_V4_DEFAULT 1000000
#define BENCH_V6_DEFAULT 100000
#define BENCH_V4_QUICK 100000
#define BENCH_V6_QUICK 10000

struct bench_opts {
	bool json; /* one JSON object (DESIGN.md "Command line") instead of a table */
	bool quick; /* smaller lists and fewer repeats: for tests */
	long v4; /* random IPv4 prefixes (/8../32); < 0: the default (--quick: the quick one) */
	long v6; /* random IPv6 prefixes (/16../128); < 0: likewise */
	const char *cases; /* NULL, or only these cases (comma-separated names) and minimal */
};

/* Returns the exit code: 0 measured and printed, 2 system error (needs root) after a message. */
int bench_run(const struct bench_opts *o);

#endif
