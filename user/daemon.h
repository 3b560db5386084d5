/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `bpfguard run`: load the policy, attach, pin, serve metrics, reload on SIGHUP and on a change
 * of the config or a registry file (a failed reload keeps the running policy), stop cleanly on
 * SIGTERM/SIGINT. Also `status`, which reads what a running guard pinned.
 */
#ifndef BPFGUARD_DAEMON_H
#define BPFGUARD_DAEMON_H

#include <stdbool.h>

struct daemon_opts {
	const char *config_path;
	const char *pin_dir;
};

/* Returns the process exit code: 0 after a clean stop, 2 when it could not start. */
int daemon_run(const struct daemon_opts *o);

/* `status`: 0 when a guard is running and attached, 1 when none is (or it is stale), 2 on error. */
int daemon_status(const char *pin_dir, bool json);

#endif
