// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live changes to the lists: the change files, their set, the filter policy_build reads a
 * list through, and the locked read-modify-write of `add` and `del` (see changes.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "user/changes.h"
#include "user/hash.h"

int change_entry_parse(const char *s, struct change_entry *e, char *why, size_t why_len)
{
	const char *w = NULL;
	size_t n;

	memset(e, 0, sizeof(*e));
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		snprintf(why, why_len,
			 "empty entry (give a name like example.org, or an address "
			 "or CIDR like 192.0.2.0/24)");
		return -EINVAL;
	}
	if (n >= sizeof(e->name) || memchr(s, ' ', n) || memchr(s, '\t', n)) {
		snprintf(why, why_len, "'%.*s' is not one name, address or CIDR",
			 (int)(n > 64 ? 64 : n), s);
		return -EINVAL;
	}
	memcpy(e->name, s, n);
	e->name[n] = '\0';
	if (registry_looks_ip(e->name)) {
		struct ip_prefix fixed;
		char buf[64];

		e->kind = REG_IP;
		if (!ip_prefix_parse(e->name, &e->prefix, false, &w)) {
			ip_prefix_format(&e->prefix, e->name, sizeof(e->name));
			return 0;
		}
		if (!ip_prefix_parse(e->name, &fixed, true, &w))
			snprintf(why, why_len,
				 "'%s': host bits set beyond the prefix length (did you mean %s?)",
				 e->name, ip_prefix_format(&fixed, buf, sizeof(buf)));
		else
			snprintf(why, why_len, "'%s': %s", e->name, w);
		return -EINVAL;
	}
	e->kind = REG_DOMAIN;
	/* `*.name` is the subtree of name, as in a list */
	if (e->name[0] == '*' && e->name[1] == '.')
		memmove(e->name, e->name + 2, n - 1);
	{
		char out[sizeof(e->name)];

		if (domain_normalize(e->name, out, sizeof(out), &w)) {
			snprintf(why, why_len,
				 "invalid name '%s': %s (give one name like example.org, or an "
				 "address or CIDR like 192.0.2.0/24)",
				 e->name, w);
			return -EINVAL;
		}
		str_copy(e->name, out, sizeof(e->name));
	}
	return 0;
}

/* ---- the set -------------------------------------------------------------------------- */

void changes_init(struct change_set *s)
{
	memset(s, 0, sizeof(*s));
}

void changes_free(struct change_set *s)
{
	free(s->v);
	free(s->index);
	changes_init(s);
}

static uint64_t key_hash(int kind, const char *name, size_t len, const struct ip_prefix *p)
{
	if (kind == REG_IP)
		return hash_bytes(p, sizeof(*p)) ^ 0x9e3779b97f4a7c15ull;
	return hash_bytes(name, len);
}

static bool key_eq(const struct change_entry *e, int kind, const char *name, size_t len,
		   const struct ip_prefix *p)
{
	if (e->kind != kind)
		return false;
	if (kind == REG_IP)
		return !memcmp(&e->prefix, p, sizeof(*p));
	return !strncmp(e->name, name, len) && e->name[len] == '\0';
}

/* The slot of the key, or -1 when the set is empty; *found says whether it holds the key. */
static size_t index_slot(const struct change_set *s, int kind, const char *name, size_t len,
			 const struct ip_prefix *p, bool *found)
{
	size_t mask = s->index_cap - 1, i = key_hash(kind, name, len, p) & mask;

	*found = false;
	while (s->index[i]) {
		if (key_eq(&s->v[s->index[i] - 1].e, kind, name, len, p)) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	return i;
}

static struct change *find_raw(const struct change_set *s, int kind, const char *name,
			       const struct ip_prefix *p)
{
	size_t i, len = kind == REG_DOMAIN ? strlen(name) : 0;
	bool found;

	if (!s->index_cap)
		return NULL;
	i = index_slot(s, kind, name, len, p, &found);
	return found ? &s->v[s->index[i] - 1] : NULL;
}

struct change *changes_find(const struct change_set *s, const struct change_entry *e)
{
	return find_raw(s, e->kind, e->name, &e->prefix);
}

static int index_grow(struct change_set *s)
{
	size_t cap = s->index_cap ? s->index_cap * 2 : 64, i;
	__u32 *old = s->index;
	size_t old_cap = s->index_cap;

	s->index = calloc(cap, sizeof(*s->index));
	if (!s->index) {
		s->index = old;
		return -ENOMEM;
	}
	s->index_cap = cap;
	for (i = 0; i < old_cap; i++) {
		const struct change_entry *e;
		size_t slot;
		bool found;

		if (!old[i])
			continue;
		e = &s->v[old[i] - 1].e;
		slot = index_slot(s, e->kind, e->name, strlen(e->name), &e->prefix, &found);
		s->index[slot] = old[i];
	}
	free(old);
	return 0;
}

static void count(struct change_set *s, int op, int delta)
{
	if (op == CHANGE_ADD)
		s->n_add += delta;
	else if (op == CHANGE_DEL)
		s->n_del += delta;
}

int changes_set(struct change_set *s, const struct change_entry *e, int op, int line)
{
	struct change *c = changes_find(s, e);
	size_t slot;
	bool found;
	int err;

	if (c) {
		count(s, c->op, -1);
		c->op = op;
		c->line = line;
		count(s, op, 1);
		return 0;
	}
	if (op == CHANGE_NONE)
		return 0;
	if ((s->n + 1) * 2 > s->index_cap) {
		err = index_grow(s);
		if (err)
			return err;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct change *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	c = &s->v[s->n];
	c->op = op;
	c->line = line;
	c->e = *e;
	slot = index_slot(s, e->kind, e->name, strlen(e->name), &e->prefix, &found);
	s->index[slot] = (__u32)++s->n;
	count(s, op, 1);
	return 0;
}

/* ---- files ---------------------------------------------------------------------------- */

int changes_path(const char *state_dir, const char *list, char *buf, size_t len)
{
	/* config list names are [A-Za-z0-9_.-]: refuse anything that could leave the directory */
	if (!list[0] || strchr(list, '/') || !strcmp(list, ".") || !strcmp(list, ".."))
		return -EINVAL;
	if (snprintf(buf, len, "%s/%s/%s.txt", state_dir, CHANGES_SUBDIR, list) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int changes_load(struct change_set *s, const char *path, struct diag *d)
{
	char *line = NULL, why[512];
	size_t cap = 0;
	ssize_t got;
	int lineno = 0, bad = 0, err = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		err = -errno;
		diag_report(d, DIAG_ERROR, path, 0, "cannot read the list's live changes: %s",
			    strerror(-err));
		return err;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		struct change_entry e;
		struct change *old;
		char *t;
		int op;

		lineno++;
		if ((size_t)got != strlen(line)) {
			diag_report(d, DIAG_ERROR, path, lineno,
				    "a NUL byte: this is not a change file (fix or remove it)");
			bad++;
			continue;
		}
		if (got > CHANGES_MAX_LINE) {
			diag_report(d, DIAG_ERROR, path, lineno,
				    "line longer than %d bytes (fix or delete the line)",
				    CHANGES_MAX_LINE);
			bad++;
			continue;
		}
		t = str_trim(line);
		if (!*t || *t == '#')
			continue;
		op = *t;
		if (op != CHANGE_ADD && op != CHANGE_DEL) {
			diag_report(d, DIAG_ERROR, path, lineno,
				    "'%.64s': expected +ENTRY or -ENTRY (e.g. +example.org, "
				    "-192.0.2.0/24); fix or delete the line",
				    t);
			bad++;
			continue;
		}
		if (change_entry_parse(t + 1, &e, why, sizeof(why))) {
			diag_report(d, DIAG_ERROR, path, lineno, "%s; fix or delete the line", why);
			bad++;
			continue;
		}
		old = changes_find(s, &e);
		if (old && old->op != op && old->op != CHANGE_NONE) {
			diag_report(d, DIAG_ERROR, path, lineno,
				    "'%s' is both %s (line %d) and %s here: keep one of the lines",
				    e.name, old->op == CHANGE_ADD ? "added" : "deleted", old->line,
				    op == CHANGE_ADD ? "added" : "deleted");
			bad++;
			continue;
		}
		if (old)
			continue; /* the same change twice: one is enough */
		err = changes_set(s, &e, op, lineno);
		if (err)
			break;
	}
	if (!err && ferror(f)) {
		err = -EIO;
		diag_report(d, DIAG_ERROR, path, lineno, "read error");
	}
	free(line);
	fclose(f);
	if (!err && bad)
		err = -EINVAL;
	return err;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, err = 0;

	str_copy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		str_copy(dir, ".", sizeof(dir));
	else
		*slash = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int changes_save(const struct change_set *s, const char *path, const char *list)
{
	char tmp[PATH_MAX + 16];
	FILE *f = NULL;
	size_t i;
	int fd, err = 0;

	if (s->n_add + s->n_del == 0) {
		/* nothing left: no file at all, as before the first change */
		if (unlink(path) < 0 && errno != ENOENT) {
			err = -errno;
			pr_warn("cannot remove %s: %s\n", path, strerror(-err));
			return err;
		}
		fsync_dir_of(path);
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot create a file beside %s: %s\n", path, strerror(-err));
		return err;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	fprintf(f,
		"# Live changes to [list %s], written by `bpfguard add|del ... --list %s`.\n"
		"# +ENTRY adds ENTRY to the list; -ENTRY takes it out (the list's file keeps it).\n"
		"# Applied at every load of the list. Edited by hand: reload the guard (SIGHUP).\n",
		list, list);
	for (i = 0; i < s->n; i++)
		if (s->v[i].op != CHANGE_NONE)
			fprintf(f, "%c%s\n", s->v[i].op, s->v[i].e.name);
	errno = EIO;
	if (fflush(f) || ferror(f) || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	f = NULL;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (!err)
		err = fsync_dir_of(path);
cleanup:
	if (err) {
		pr_warn("cannot write %s: %s\n", path, strerror(-err));
		unlink(tmp);
	}
	return err;
}

/* mkdir -p with mode 0755. Returns 0 or -errno. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	if (!str_copy(buf, path, sizeof(buf)))
		return -ENAMETOOLONG;
	for (p = buf + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

int changes_lock(const char *state_dir)
{
	char dir[PATH_MAX], path[PATH_MAX + 8];
	int fd, err;

	if (snprintf(dir, sizeof(dir), "%s/%s", state_dir, CHANGES_SUBDIR) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	err = mkdir_p(dir);
	if (err) {
		pr_warn("cannot create %s: %s (state_dir in [guard]; needs write access)\n", dir,
			strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CHANGES_LOCK);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err = -errno;
		pr_warn("cannot lock %s: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

void changes_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* ---- applying: the filter policy_build reads a list through ----------------------------- */

struct filter {
	const struct change_set *s;
	reg_entry_fn fn;
	void *ctx;
	unsigned long skipped;
};

static int filter_entry(void *ctx, const struct reg_entry *e)
{
	struct filter *f = ctx;

	if (find_raw(f->s, e->kind, e->name, &e->prefix)) {
		f->skipped++;
		return 0;
	}
	return f->fn(f->ctx, e);
}

int changes_parse_list(const char *state_dir, const char *list, const char *path, reg_entry_fn fn,
		       void *ctx, struct diag *d, struct reg_stats *st, struct reg_files *inc)
{
	struct change_set s;
	struct filter f = { .s = &s, .fn = fn, .ctx = ctx };
	char cpath[PATH_MAX];
	size_t i;
	int err;

	changes_init(&s);
	if (!state_dir || !state_dir[0] || changes_path(state_dir, list, cpath, sizeof(cpath)))
		return registry_parse_file_inc(path, fn, ctx, d, st, inc);
	err = changes_load(&s, cpath, d);
	if (err) {
		diag_report(d, DIAG_ERROR, cpath, 0,
			    "the live changes of list '%s' cannot be used: the list is not loaded "
			    "(fix the lines above, then reload)",
			    list);
		goto cleanup;
	}
	if (s.n_add + s.n_del == 0) {
		err = registry_parse_file_inc(path, fn, ctx, d, st, inc);
		goto cleanup;
	}
	err = registry_parse_file_inc(path, filter_entry, &f, d, st, inc);
	for (i = 0; !err && i < s.n; i++) {
		const struct change *c = &s.v[i];
		struct reg_entry re = {
			.kind = c->e.kind,
			.prefix = c->e.prefix,
			.name = c->e.kind == REG_DOMAIN ? c->e.name : NULL,
			.file = cpath,
			.line = c->line,
		};

		if (c->op != CHANGE_ADD)
			continue;
		st->entries++;
		if (re.kind == REG_IP)
			st->ip++;
		else
			st->domains++;
		err = fn(ctx, &re);
	}
	if (!err)
		pr_debug("list %s: %zu entries added, %zu deleted by %s (%lu lines of the list "
			 "skipped)\n",
			 list, s.n_add, s.n_del, cpath, f.skipped);
cleanup:
	changes_free(&s);
	return err;
}

/* ---- add and del ------------------------------------------------------------------------ */

const char *change_result_name(int result)
{
	switch (result) {
	case CR_ADDED:
		return "added";
	case CR_RESTORED:
		return "restored";
	case CR_IN_FILE:
		return "already in the list's file";
	case CR_ALREADY_ADDED:
		return "already added";
	case CR_CANCELLED:
		return "removed";
	case CR_HIDDEN:
		return "deleted";
	case CR_ALREADY_DELETED:
		return "already deleted";
	case CR_NOT_FOUND:
		return "not in the list";
	}
	return "?";
}

void change_reqs_release(struct change_req *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(reqs[i].file);
		free(reqs[i].cover_file);
		reqs[i].file = reqs[i].cover_file = NULL;
	}
}

/* Cover hints cost a compare per request and file entry: only for a few requests. */
#define COVER_MAX_REQS 16

/* What the list's file says about each distinct requested entry. */
struct seen {
	const char *file; /* the entry's file (strdup'd) */
	int line;
	bool plain; /* a line without full: or @@ */
	char cover[256];
	char *cover_file;
	int cover_line;
	int cover_len; /* prefix length, or name length, of the cover: the longest wins */
};

struct scan {
	struct change_set want; /* the requested entries; v[i] <-> seen[i] */
	struct seen *seen;
	int err;
};

/* Does the file's entry e cover the requested w (strictly: a shorter prefix, a parent)? */
static int covers(const struct reg_entry *e, const struct change_entry *w)
{
	size_t el, wl;

	if (e->kind != w->kind)
		return -1;
	if (e->kind == REG_IP) {
		if (e->prefix.family != w->prefix.family || e->prefix.plen >= w->prefix.plen ||
		    !ip_prefix_covers(&e->prefix, w->prefix.addr))
			return -1;
		return e->prefix.plen;
	}
	el = strlen(e->name);
	wl = strlen(w->name);
	if (el >= wl || w->name[wl - el - 1] != '.' || strcmp(w->name + wl - el, e->name))
		return -1;
	return (int)el;
}

static int scan_entry(void *ctx, const struct reg_entry *e)
{
	struct scan *sc = ctx;
	struct change *c = find_raw(&sc->want, e->kind, e->name, &e->prefix);
	bool plain = !(e->flags & (REG_F_EXACT | REG_F_ALLOW));
	size_t i;

	if (c) {
		struct seen *s = &sc->seen[c - sc->want.v];

		if (!s->line || (plain && !s->plain)) {
			char *file = strdup(e->file ? e->file : "?");

			if (!file)
				return -ENOMEM;
			free((char *)s->file);
			s->file = file;
			s->line = e->line;
			s->plain = plain;
		}
	}
	for (i = 0; sc->want.n <= COVER_MAX_REQS && i < sc->want.n; i++) {
		struct seen *s = &sc->seen[i];
		int len = covers(e, &sc->want.v[i].e);

		if (len < 0 || (s->cover_line && len <= s->cover_len))
			continue;
		free(s->cover_file);
		s->cover_file = strdup(e->file ? e->file : "?");
		if (!s->cover_file)
			return -ENOMEM;
		s->cover_line = e->line;
		s->cover_len = len;
		if (e->kind == REG_IP)
			ip_prefix_format(&e->prefix, s->cover, sizeof(s->cover));
		else
			str_copy(s->cover, e->name, sizeof(s->cover));
	}
	return 0;
}

static void ignore_diag(void *ctx, enum diag_severity sev, const char *file, int line,
			const char *msg)
{
	(void)ctx;
	(void)sev;
	(void)file;
	(void)line;
	(void)msg;
}

/* Decide one request against the change set and what the list's file holds. */
static int decide(struct change_set *s, struct change_req *r, int op, const struct seen *fs,
		  bool file_known, bool *changed)
{
	struct change *c = changes_find(s, &r->e);
	int cur = c ? c->op : CHANGE_NONE, next = cur;
	bool in_file = file_known ? fs->line > 0 : true; /* unknown: assume it may be */
	bool plain = file_known && fs->line > 0 && fs->plain;

	if (op == CHANGE_ADD) {
		if (cur == CHANGE_ADD) {
			r->result = CR_ALREADY_ADDED;
		} else if (plain) {
			/* the file's own line is enough: no +ENTRY */
			r->result = cur == CHANGE_DEL ? CR_RESTORED : CR_IN_FILE;
			next = CHANGE_NONE;
		} else {
			r->result = CR_ADDED;
			next = CHANGE_ADD;
		}
	} else {
		if (cur == CHANGE_DEL) {
			r->result = CR_ALREADY_DELETED;
		} else if (cur == CHANGE_ADD) {
			r->result = CR_CANCELLED;
			/* the file may hold it too: then it must stay hidden */
			next = in_file ? CHANGE_DEL : CHANGE_NONE;
		} else if (in_file) {
			r->result = CR_HIDDEN;
			next = CHANGE_DEL;
		} else {
			r->result = CR_NOT_FOUND;
		}
	}
	if (next == cur)
		return 0;
	*changed = true;
	return changes_set(s, &r->e, next, 0);
}

int changes_edit(const char *state_dir, const char *list, const char *list_path, int op,
		 struct change_req *reqs, size_t n, struct diag *d, bool *changed)
{
	struct diag quiet = { .cb = ignore_diag };
	struct scan sc = { 0 };
	struct change_set s;
	char path[PATH_MAX];
	bool file_known = false;
	size_t i;
	int lock = -1, err;

	*changed = false;
	changes_init(&s);
	changes_init(&sc.want);
	err = changes_path(state_dir, list, path, sizeof(path));
	if (err) {
		pr_warn("list '%s': no change file path under %s: %s\n", list, state_dir,
			strerror(-err));
		return err;
	}
	for (i = 0; i < n; i++) {
		err = changes_set(&sc.want, &reqs[i].e, CHANGE_ADD, 0);
		if (err)
			goto cleanup;
	}
	sc.seen = calloc(sc.want.n ? sc.want.n : 1, sizeof(*sc.seen));
	if (!sc.seen) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* The list's file first, outside the lock: only the change file needs it. */
	if (list_path) {
		struct reg_stats st = { 0 };

		err = registry_parse_file(list_path, scan_entry, &sc, &quiet, &st);
		if (err == -ENOMEM)
			goto cleanup;
		if (err)
			pr_warn("cannot read %s (%s): whether the list's file has the entries is "
				"unknown (a del records -ENTRY in any case)\n",
				list_path, strerror(-err));
		file_known = !err;
	}
	lock = changes_lock(state_dir);
	if (lock < 0) {
		err = lock;
		goto cleanup;
	}
	err = changes_load(&s, path, d);
	if (err) {
		if (err == -EINVAL)
			diag_report(
				d, DIAG_ERROR, path, 0,
				"the change file is corrupt: nothing was changed (fix the lines "
				"above, or remove the file to drop every live change of list "
				"'%s')",
				list);
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		struct change *w = changes_find(&sc.want, &reqs[i].e);
		const struct seen *fs = &sc.seen[w - sc.want.v];

		if (fs->line) {
			reqs[i].file = strdup(fs->file);
			reqs[i].line = fs->line;
		}
		if (fs->cover_line) {
			str_copy(reqs[i].cover, fs->cover, sizeof(reqs[i].cover));
			reqs[i].cover_file = strdup(fs->cover_file);
			reqs[i].cover_line = fs->cover_line;
		}
		err = decide(&s, &reqs[i], op, fs, file_known, changed);
		if (err)
			goto cleanup;
	}
	if (*changed)
		err = changes_save(&s, path, list);
cleanup:
	if (err)
		*changed = false;
	changes_unlock(lock);
	for (i = 0; sc.seen && i < sc.want.n; i++) {
		free((char *)sc.seen[i].file);
		free(sc.seen[i].cover_file);
	}
	free(sc.seen);
	changes_free(&sc.want);
	changes_free(&s);
	return err;
}
