/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running guard, read from the kernel: its run record (pinned), and the tables of the
 * program instance it has attached now, found through the program's map ids (a reload swaps in
 * a whole new instance: its tables are not pinned, its program is). The array tables are
 * mmapped read-only; the lookups mirror bpf/lib/iprule.h and bpf/lib/domain.h step for step, a
 * missing group or bucket reading as "no match" where the kernel's map lookup would fail.
 *
 * Also the commands built on it: `check --live` (the decision of the maps in force) and
 * `add` / `del` (persist a live change, user/changes.h, then have the guard reload and wait
 * until its maps show the change). Used by user/cli.c and user/check.c.
 */
#ifndef BPFGUARD_LIVE_H
#define BPFGUARD_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include "maps/guard_maps.h"
#include "user/check.h"

enum live_map {
	LIVE_V4_TABLE,
	LIVE_V4_L3,
	LIVE_V4_RUNS,
	LIVE_V6_TABLE,
	LIVE_V6_TRIE,
	LIVE_IP_LEAVES,
	LIVE_DOM_BLOOM,
	LIVE_DOM_TABLE,
	LIVE_DOM_LEAVES,
	LIVE_DOM_CONFIG,
	LIVE_GROUP_POLICY,
	LIVE_GROUP_MACS,
	LIVE_LEARNED, /* addresses learned from DNS answers (maps/learn.h), when the build has them */
	LIVE_MAPS,
};

struct live_guard {
	struct run_record rec;
	bool alive; /* rec.pid is a running process */
	__u32 prog_id; /* the program instance read */
	int fd[LIVE_MAPS]; /* -1: the program has no such map */
	const void *mem[LIVE_MAPS]; /* the mmapped array tables, read-only; NULL if not mapped */
	size_t mem_len[LIVE_MAPS];
	__u32 entries[LIVE_MAPS]; /* max_entries */
	struct dom_config dc;
	bool block_unexamined; /* the program's cfg_block_unexamined ([guard] unexamined = block) */
	struct list_meta lists[GUARD_MAX_LISTS];
	__u32 n_lists;
};

/*
 * The run record pinned under pin_dir. Returns 0 (and whether its pid is alive), -ENOENT when
 * nothing is pinned there, or -errno (a message says what to do for EPERM).
 */
int live_read_record(const char *pin_dir, struct run_record *rec, bool *alive);

/*
 * Open the running guard's tables: run record, program, maps. Returns 0, -ENOENT when no guard
 * is pinned at pin_dir (quietly: the caller says what to do), or -errno after pr_warn.
 */
int live_open(const char *pin_dir, struct live_guard *lg);
void live_close(struct live_guard *lg);

/* The IP leaf of addr (family 4 or 6) in direction dir (enum ipt_dir): bpf/lib/iprule.h. */
__u32 live_ip_leaf(const struct live_guard *lg, int family, int dir, const __u8 *addr);
/* Leaf id's contents. Returns 0, or -ENOENT for a leaf id the map does not hold. */
int live_ip_leaf_get(const struct live_guard *lg, __u32 id, struct ip_leaf *out);

/* One key of a name found in the domain table. */
struct live_dom_hit {
	__u32 leaf;
	__u32 suffix_off; /* the suffix that matched: name + suffix_off */
	bool exact; /* the whole name's exact-only key */
	struct dom_leaf l; /* the leaf's contents (zero if the leaf map does not hold it) */
};

#define LIVE_MAX_HITS (DH_MAX_LABELS + 1)

/*
 * Look name (lower case, no trailing dot) up as bpf/lib/domain.h does. hits[0] is what the
 * kernel decides by (the most specific key found), then every less specific key found, in
 * order. Returns the number of hits (0: no match), or -EINVAL / -ENAMETOOLONG for a name the
 * kernel cannot examine.
 */
int live_dom_lookup(const struct live_guard *lg, const char *name, struct live_dom_hit *hits);

/* The client group of a sender (address of family 4 or 6, or mac), as the kernel finds it. */
__u32 live_group_of(const struct live_guard *lg, int family, const __u8 *addr, const __u8 *mac);
/* The block mask of group in force now. */
__u64 live_group_mask(const struct live_guard *lg, __u32 group);

/* `check --live`: the exit code (0 decided, 2 error). */
int live_check_run(const struct check_opts *o);

struct live_change_opts {
	const char *config_path; /* -c, or NULL: the running guard's config, else the default */
	const char *default_config;
	const char *pin_dir;
	const char *list; /* --list */
	int op; /* enum change_op: CHANGE_ADD or CHANGE_DEL */
	char **entries;
	int n_entries;
	unsigned int timeout_s; /* how long to wait for the guard to load the change */
};

/*
 * `add` / `del`: the exit code. 0 done (in force, or saved for the next start when no guard
 * runs), 1 an entry to delete is not in the list, or the running guard did not load the change
 * in time, 2 a bad entry, an unknown list, a corrupt change file or a system error.
 */
int live_change_run(const struct live_change_opts *o);

#endif
