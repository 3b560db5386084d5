/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live changes to a list (`bpfguard add|del ENTRY --list L`), persisted so that every load of
 * the policy, a restart included, applies them. One change file per list, in the config's
 * state directory: STATE_DIR/changes/LIST.txt, one change a line,
 *
 *   +ENTRY   the entry is added to the list
 *   -ENTRY   the entry is taken out of the list (the list's file keeps it; it is skipped)
 *
 * with `#` comments and blank lines. ENTRY is one name or one IP address or CIDR, normalised
 * as the registry parser normalises a list's lines (user/registry.h): a name in lower case,
 * without the trailing dot, an IDN in punycode, validated; a prefix without host bits. An entry
 * is known by that text alone: a change replaces every line of the list's file with the same
 * name or prefix (a `full:` or `@@` line included).
 *
 * Writers (`add`, `del`) hold an flock on STATE_DIR/changes/.lock for the whole
 * read-modify-write and replace the file atomically (temporary file, fsync, rename), so two
 * concurrent writers never lose a change and a reader never sees half a file. Readers take no
 * lock. A change file that cannot be parsed is an error with file:line, never ignored: the load
 * fails and a running guard keeps its policy.
 *
 * Used by user/policy.c (changes_parse_list, in place of registry_parse_file), user/live.c
 * (the add and del commands) and the unit tests.
 */
#ifndef BPFGUARD_CHANGES_H
#define BPFGUARD_CHANGES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "user/log.h"
#include "user/registry.h"
#include "user/util.h"

#define CHANGES_SUBDIR "changes"
#define CHANGES_LOCK ".lock"
#define CHANGES_MAX_LINE 1024

enum change_op {
	CHANGE_NONE = 0, /* a removed change (kept in the set as a tombstone) */
	CHANGE_ADD = '+',
	CHANGE_DEL = '-',
};

/* One entry of a change: what the registry would have given for it. */
struct change_entry {
	int kind; /* enum reg_kind */
	struct ip_prefix prefix; /* REG_IP */
	char name[256]; /* REG_DOMAIN: normalised; REG_IP: the prefix as text */
};

/*
 * Normalise one entry as given on the command line or in a change file: a name (`*.name` is
 * the same as name) or an address or CIDR. Returns 0, or -EINVAL with a message in why saying
 * what is wrong (e.g. "host bits set beyond the prefix length (did you mean 192.0.2.0/24?)").
 */
int change_entry_parse(const char *s, struct change_entry *e, char *why, size_t why_len);

struct change {
	int op; /* enum change_op */
	int line; /* line in the change file it was read from; 0 if new */
	struct change_entry e;
};

/* The changes of one list: a small set by entry, in file order. */
struct change_set {
	struct change *v;
	size_t n, cap; /* n counts tombstones too */
	size_t n_add, n_del;
	/* private: open addressing, index into v + 1 (0: empty) */
	__u32 *index;
	size_t index_cap;
};

void changes_init(struct change_set *s);
void changes_free(struct change_set *s);
/* The change for e (any op, tombstones included), or NULL. */
struct change *changes_find(const struct change_set *s, const struct change_entry *e);
/* Set e's op (CHANGE_NONE removes it). Returns 0 or -ENOMEM. */
int changes_set(struct change_set *s, const struct change_entry *e, int op, int line);

/* STATE_DIR/changes/LIST.txt into buf. Returns 0, or -ENAMETOOLONG / -EINVAL (bad list name). */
int changes_path(const char *state_dir, const char *list, char *buf, size_t len);

/*
 * Read a change file into s (which must be empty). A missing file (or directory) is no change:
 * returns 0. A line that is not `+ENTRY`, `-ENTRY`, a comment or blank, an entry that does not
 * normalise, or an entry both added and deleted is reported through d as file:line and makes
 * it return -EINVAL (after reading the whole file); a file that cannot be read, -errno.
 */
int changes_load(struct change_set *s, const char *path, struct diag *d);

/*
 * Write s to path atomically (temporary file beside it, fsync, rename, fsync of the directory).
 * list names the list in the file's header comment. Returns 0 or -errno (pr_warn says why).
 */
int changes_save(const struct change_set *s, const char *path, const char *list);

/*
 * Take the writers' lock of state_dir (creating STATE_DIR/changes, mode 0755, when missing).
 * Returns an fd to give to changes_unlock, or -errno after pr_warn.
 */
int changes_lock(const char *state_dir);
void changes_unlock(int fd);

/*
 * For policy_build: parse a list's file through the registry parser as registry_parse_file
 * does, except that the entries the list's change file names are skipped, then give fn the
 * change file's additions (file and line: the change file's). Without a change file, exactly
 * registry_parse_file. The files the list includes go to inc (may be NULL:
 * registry_parse_file_inc). Returns what registry_parse_file returns, or -EINVAL when the
 * change file is corrupt (reported through d with file:line), -errno when it cannot be read.
 */
int changes_parse_list(const char *state_dir, const char *list, const char *path, reg_entry_fn fn,
		       void *ctx, struct diag *d, struct reg_stats *st, struct reg_files *inc);

/* What one add or del request did (changes_edit). */
enum change_result {
	CR_ADDED = 1, /* add: the entry is now added (+ENTRY) */
	CR_RESTORED, /* add: a deleted entry of the list's file is back (its -ENTRY removed) */
	CR_IN_FILE, /* add: the list's file already has it: nothing to do */
	CR_ALREADY_ADDED, /* add: already added: nothing to do */
	CR_CANCELLED, /* del: an added entry removed (its +ENTRY removed) */
	CR_HIDDEN, /* del: an entry of the list's file is now deleted (-ENTRY) */
	CR_ALREADY_DELETED, /* del: already deleted: nothing to do */
	CR_NOT_FOUND, /* del: neither in the list's file nor added: nothing done */
};

struct change_req {
	struct change_entry e; /* in */
	int result; /* out: enum change_result */
	/* out: where the list's file has the entry (line 0: not found, or the file not read) */
	char *file; /* malloc'd (change_reqs_release) */
	int line;
	/* out, CR_NOT_FOUND: the file entry that covers it (a shorter prefix, a parent name) */
	char cover[256];
	char *cover_file; /* malloc'd */
	int cover_line;
};

/* Free what changes_edit allocated in reqs. */
void change_reqs_release(struct change_req *reqs, size_t n);

/*
 * Apply add (op CHANGE_ADD) or del (CHANGE_DEL) requests to list's change file under the lock:
 * load it (a corrupt one: -EINVAL, reported through d, nothing written), look the entries up in
 * the list's file (list_path; NULL when there is no file to read yet, e.g. a url list never
 * fetched: then a del always records -ENTRY), decide each request's result, and save the file
 * when something changed (*changed set). Returns 0 or -errno.
 */
int changes_edit(const char *state_dir, const char *list, const char *list_path, int op,
		 struct change_req *reqs, size_t n, struct diag *d, bool *changed);

/* "added", "deleted"...: a phrase for a result, for messages. */
const char *change_result_name(int result);

#endif
