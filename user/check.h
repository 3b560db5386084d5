/* SPDX-License-Identifier: GPL-2.0-only */
/* `bpfguard check`: the decision for a name or address, and the entry that made it. */
#ifndef BPFGUARD_CHECK_H
#define BPFGUARD_CHECK_H

#include <stdbool.h>

struct check_opts {
	const char *config_path;
	const char *target; /* NAME or IP */
	const char *client; /* --client IP, or NULL */
	const char *at; /* --at YYYY-MM-DDTHH:MM, or NULL */
	bool json;
	bool live; /* --live: from the maps of the guard running at pin_dir (user/live.h) */
	const char *pin_dir; /* --live: the running guard's pins (NULL: PIN_DIR) */
};

/* Returns the exit code: 0 decided (block, allow or pass), 2 usage or system error. */
int check_run(const struct check_opts *o);

/* Parse --at (local time, ISO 8601 YYYY-MM-DDTHH:MM). Returns 0 or -EINVAL. */
int parse_at(const char *s, long long *epoch);

#endif
