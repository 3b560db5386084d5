/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The schedule engine (issue 4): whether a [schedule NAME] is active at an instant, when that
 * next changes, and each client group's block mask at an instant. For `check --at`,
 * `replay --at` and the daemon (which writes the masks into the group_policy map), and for the
 * tests, which pass explicit time_t values: nothing here reads the clock.
 *
 * Time zones: a small reader of the zone database (TZif files, RFC 8536, with the POSIX TZ
 * rule of their footer for the years after the last transition) computes local time. It keeps
 * no global state: setenv("TZ") + tzset() would change the zone of every thread of the daemon
 * (and of localtime() anywhere in the process) while a schedule is evaluated, and a test could
 * not run two zones side by side. A zone is loaded per evaluation (a file of a few KB).
 *
 * What a window means (local wall-clock time in the schedule's zone):
 * - `mon-fri = 08:00-12:00` is active from 08:00 (inclusive) to 12:00 (exclusive) on each of
 *   those days; `24:00` is the end of the day; `00:00-24:00` the whole day.
 * - A window whose end is before its start (`fri = 22:00-06:30`) crosses midnight and belongs
 *   to the day it starts on: active Friday 23:00 and Saturday 05:00, not Saturday 23:00.
 * - A window is one stretch of real time: from the first moment the clock shows its start to
 *   the first moment it then shows its end. A time the clock skips (spring forward) counts as
 *   the moment of the jump. So on a spring-forward day a window lying wholly in the skipped
 *   hour (02:00-03:00 in Europe/Paris) does not happen, and 02:30-04:00 runs 03:00-04:00. On a
 *   fall-back night a window is never active twice and never flickers: with New York's 01:00-
 *   02:00 repeated, `01:00-01:45` runs from the first 01:00 (EDT) to the first 01:45 (EDT) and
 *   is inactive while the clock shows 01:00-01:45 again (EST); `sat = 22:00-01:30` ends at the
 *   first 01:30; `01:30-03:00` runs from 01:30 EDT through the repeated hour to 03:00 EST.
 * - Windows that overlap or touch merge: `08:00-12:00, 12:00-13:00` does not change at noon.
 */
#ifndef BPFGUARD_SCHEDULE_H
#define BPFGUARD_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>
#include "user/config.h"

/* Where named zones live (the tzdata package). */
#define TZ_ZONEINFO "/usr/share/zoneinfo"
/* schedule_next_change() and tz_next_transition(): no change, ever. */
#define SCHEDULE_NEVER ((time_t)INT64_MAX)
/* How far schedule_next_change() looks: a weekly schedule changes within a week and an hour. */
#define SCHEDULE_HORIZON (8 * 86400)
/* Instants the engine accepts: +-2^40 s (about 34,800 years either side of 1970). */
#define SCHEDULE_TIME_LIMIT ((time_t)1 << 40)

/* ---- time zones ---- */

struct tz_zone; /* opaque: transitions and the POSIX rule after them */

/*
 * Load a zone. name: a zone database name (Europe/Paris, UTC) read from TZ_ZONEINFO/NAME, or,
 * when there is no such file, a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). name NULL or
 * "": the machine's local zone, as the C library reads it: $TZ if set (":NAME", NAME, a path
 * or a POSIX string; empty: UTC), else /etc/localtime, else UTC (the local zone never fails
 * but for -ENOMEM). Returns 0 and *out (free with tz_free), -ENOENT (no such zone), -EINVAL
 * (a file that is not TZif), -EFBIG or -ENOMEM.
 */
int tz_load(const char *name, struct tz_zone **out);
/* A TZif file by path. Same returns as tz_load. */
int tz_load_file(const char *path, struct tz_zone **out);
/* A TZif image in memory (RFC 8536 versions 1 to 4). 0 or -EINVAL / -ENOMEM. */
int tz_parse_tzif(const void *buf, size_t len, struct tz_zone **out);
/* A POSIX TZ string, with the TZif v3 extensions (rule times -167..167 h). 0 or -EINVAL. */
int tz_parse_posix(const char *spec, struct tz_zone **out);
void tz_free(struct tz_zone *z);

/* The zone's offset from UTC at t, seconds east (Paris in summer: 7200). */
int tz_offset(const struct tz_zone *z, time_t t);
/*
 * The next instant > t at which the offset may change (the offset is constant on
 * [t, result)), or SCHEDULE_NEVER.
 */
time_t tz_next_transition(const struct tz_zone *z, time_t t);

/* Local civil time (t clamped to +-2^52 s). */
struct tz_tm {
	int year, mon, mday; /* mon 1..12 */
	int wday; /* 0 = Monday ... 6 = Sunday (the order of cfg_window.days) */
	int hour, min, sec;
	int utoff; /* seconds east of UTC */
};
void tz_localtime(const struct tz_zone *z, time_t t, struct tz_tm *tm);
/*
 * The first instant at which the zone's clock shows year-mon-mday at sec seconds after
 * midnight or later (sec may exceed 86400: the following days). A skipped time gives the
 * instant of the jump; a repeated one its first occurrence. For `check --at` and the tests.
 */
time_t tz_first_instant(const struct tz_zone *z, int year, int mon, int mday, long sec);

/* ---- schedules ---- */

/*
 * The core, in a zone the caller loaded: is s active at t, and the next instant > t at which
 * that changes (at most t + SCHEDULE_HORIZON, else SCHEDULE_NEVER). next may be NULL.
 * Returns 0, -ERANGE when |t| > SCHEDULE_TIME_LIMIT, or -EINVAL (a NULL argument, a window the
 * config parser would have refused).
 */
int schedule_eval(const struct cfg_schedule *s, const struct tz_zone *z, time_t t, bool *active,
		  time_t *next);
/*
 * The same in the schedule's `timezone =` or the machine's local zone. If that zone cannot be
 * read (tzdata removed under a running guard: config_load checked the name), these warn and
 * evaluate in UTC; group_masks_at() returns the error instead.
 */
bool schedule_active(const struct cfg_schedule *s, time_t t);
time_t schedule_next_change(const struct cfg_schedule *s, time_t t);

/*
 * Each group's block mask at t (bit N: category id N is blocked), into
 * block_masks[0 .. cfg->n_groups]: index 0 is the default group (everyone no [group] claims),
 * which blocks every category of a block list (action = block), always; index i is
 * cfg->groups[i - 1], which blocks the categories of its `block =` rules that apply at t, less
 * those of its `allow =` rules that apply at t (allow wins: `block = games` with
 * `allow = games@lunch` lets games through at lunch). A rule `cat@NAME` applies while schedule
 * NAME is active, a rule without @ always. A named group blocks only what it names: it does not
 * inherit group 0's categories.
 * Returns 0, or -EINVAL (a rule naming a category or schedule out of range), -ERANGE (t), or
 * the -errno of a zone that cannot be read (warned with the schedule's name and line); on error
 * block_masks is left unchanged.
 */
int group_masks_at(const struct guard_config *cfg, time_t t, __u64 *block_masks);
/*
 * group_masks_at(), and in *next the first instant > t at which any mask may change (the
 * earliest change of a schedule a rule names), or SCHEDULE_NEVER: the daemon sleeps until
 * then. next may be NULL.
 */
int group_masks_eval(const struct guard_config *cfg, time_t t, __u64 *block_masks, time_t *next);

#endif
