/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `bpfguard replay -c CONF FILE.pcap [--client-side IP/CIDR[,...]] [--at TIME]`: every frame of
 * a capture through the real guard_xdp program with BPF_PROG_TEST_RUN, one loaded instance for
 * the whole file, and one line per frame on stdout:
 *
 *   N<TAB>verdict<TAB>reason<TAB>match
 *
 * N counts frames from 1; verdict is pass, drop or answer (XDP_PASS, XDP_DROP, XDP_TX); reason
 * is the verdict counter's name (maps/counters.h) from the program's trace; match is LIST:ENTRY
 * for a frame an IP entry decided (the entry named on the host by iptable_match), else "-".
 * Used by user/cli.c and tests/bpf/test_replay.c.
 */
#ifndef BPFGUARD_REPLAY_H
#define BPFGUARD_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include "user/policy.h"
#include "user/util.h"

#define REPLAY_MAX_CLIENT_SIDE 64

struct replay_opts {
	const char *at; /* --at YYYY-MM-DDTHH:MM (local time), NULL: now */
	const char *client_side; /* --client-side IP/CIDR[,IP/CIDR...]: the clients' side */
	/*
	 * Filled by replay_opts_parse() (replay_run parses a copy itself when parsed is false).
	 * replay_run evaluates the schedules at at_time (default: now). Each frame's client group
	 * is its sender's, found by the program itself (MAC, then address); clients only
	 * validates --client-side.
	 */
	bool parsed;
	bool has_at;
	time_t at_time;
	struct ip_prefix clients[REPLAY_MAX_CLIENT_SIDE];
	int n_clients;
};

/* Validate and convert at and client_side. Returns 0, or -EINVAL after pr_warn saying why. */
int replay_opts_parse(struct replay_opts *o);

/*
 * The command: load the config, build the policy, load the program (trace on) and replay
 * pcap_path ("-": standard input). Returns the exit code: 0 every frame replayed, 1 the capture
 * is truncated or corrupt after its header (the frames before it were printed), 2 usage or
 * system error (config, policy, capture cannot be opened, BPF; needs root).
 */
int replay_run(const char *config_path, const char *pcap_path, const struct replay_opts *o);

/*
 * The same for a policy already built (tests build one by hand); lines go to out, and
 * *frames_done counts them. Returns 0, or -errno after pr_warn: -EBADMSG when the capture is
 * truncated or corrupt after its header (the frames before were printed), the reader's error
 * when it cannot be opened (-ENOENT, -EINVAL, -EPROTONOSUPPORT...), -EPERM without privileges,
 * others from BPF.
 */
int replay_policy(const struct guard_policy *pol, const char *pcap_path,
		  const struct replay_opts *o, FILE *out, unsigned long *frames_done);

#endif
