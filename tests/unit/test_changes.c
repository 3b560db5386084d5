// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/changes.c, the live changes to a list: entries normalised as the registry
 * does, the change set, change files read and written (atomically; corrupt ones refused with
 * file:line), a list read through its changes (deleted file entries skipped, additions given
 * with the change file's line), add/del decisions (add then del cancels, del of a file entry
 * hides it, del of what is not there says what covers it), concurrent writers losing nothing,
 * and policy_build applying the change file of each list, and naming a list that fails out of
 * memory.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "user/changes.h"
#include "user/config.h"
#include "user/policy.h"

/* ---- scaffolding ------------------------------------------------------------------------- */

static char tmpdir[64];

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_changes.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tmp_teardown(void **state)
{
	(void)state;
	/* only our own mkdtemp() directory */
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Problems reported through a diag, kept for assertions. */
struct report {
	int sev, line;
	char file[256];
	char msg[512];
};

struct capture {
	struct report r[64];
	int n;
};

static void capture_cb(void *ctx, enum diag_severity sev, const char *file, int line,
		       const char *msg)
{
	struct capture *c = ctx;

	if (c->n >= (int)(sizeof(c->r) / sizeof(c->r[0])))
		return;
	c->r[c->n].sev = sev;
	c->r[c->n].line = line;
	snprintf(c->r[c->n].file, sizeof(c->r[c->n].file), "%s", file ? file : "");
	snprintf(c->r[c->n].msg, sizeof(c->r[c->n].msg), "%s", msg);
	c->n++;
}

/* The report at line, or NULL. */
static const struct report *report_at(const struct capture *c, int line)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->r[i].line == line)
			return &c->r[i];
	return NULL;
}

/* The message at line: there must be one. */
static const char *msg_at(const struct capture *c, int line)
{
	const struct report *r = report_at(c, line);

	if (!r)
		fail_msg("no message at line %d", line);
	return r ? r->msg : "";
}

/* Entries a list read gave, as text ("D name" / "I prefix"), with their file:line. */
struct got {
	char text[300];
	char file[256];
	int line;
	unsigned int flags;
};

struct sink {
	struct got v[256];
	int n;
};

static int collect(void *ctx, const struct reg_entry *e)
{
	struct sink *s = ctx;
	struct got *g;
	char buf[64];

	assert_true(s->n < 256);
	g = &s->v[s->n++];
	if (e->kind == REG_IP)
		snprintf(g->text, sizeof(g->text), "I %s",
			 ip_prefix_format(&e->prefix, buf, sizeof(buf)));
	else
		snprintf(g->text, sizeof(g->text), "D %s", e->name);
	snprintf(g->file, sizeof(g->file), "%s", e->file ? e->file : "");
	g->line = e->line;
	g->flags = e->flags;
	return 0;
}

static const struct got *got_find(const struct sink *s, const char *text)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].text, text))
			return &s->v[i];
	return NULL;
}

static int got_count(const struct sink *s, const char *text)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !strcmp(s->v[i].text, text);
	return n;
}

static void entry(struct change_entry *e, const char *s)
{
	char why[256];

	assert_int_equal(change_entry_parse(s, e, why, sizeof(why)), 0);
}

/* ---- normalisation ------------------------------------------------------------------------ */

static void expect_norm(const char *in, int kind, const char *out)
{
	struct change_entry e;
	char why[256] = "";
	int rc = change_entry_parse(in, &e, why, sizeof(why));

	if (rc)
		fail_msg("'%s' refused: %s", in, why);
	assert_int_equal(e.kind, kind);
	assert_string_equal(e.name, out);
}

static void expect_bad(const char *in, const char *why_part)
{
	struct change_entry e;
	char why[256] = "";

	assert_int_equal(change_entry_parse(in, &e, why, sizeof(why)), -EINVAL);
	if (!strstr(why, why_part))
		fail_msg("'%s': message '%s' lacks '%s'", in, why, why_part);
}

static void test_normalise(void **state)
{
	(void)state;
	/* names as the registry normalises them */
	expect_norm("Example.ORG", REG_DOMAIN, "example.org");
	expect_norm("www.example.org.", REG_DOMAIN, "www.example.org");
	expect_norm("  spaced.example\t", REG_DOMAIN, "spaced.example");
	expect_norm("*.wild.example", REG_DOMAIN, "wild.example");
	expect_norm("b\303\274cher.example", REG_DOMAIN, "xn--bcher-kva.example");
	expect_norm("under_score.example", REG_DOMAIN, "under_score.example");
	/* addresses and prefixes, in their canonical text */
	expect_norm("192.0.2.1", REG_IP, "192.0.2.1");
	expect_norm("192.0.2.1/32", REG_IP, "192.0.2.1");
	expect_norm("198.51.100.0/24", REG_IP, "198.51.100.0/24");
	expect_norm("2001:DB8:0:0::/32", REG_IP, "2001:db8::/32");
	expect_norm("2001:db8::1", REG_IP, "2001:db8::1");

	expect_bad("192.0.2.1/24", "did you mean 192.0.2.0/24");
	expect_bad("2001:db8::1/32", "did you mean 2001:db8::/32");
	expect_bad("300.1.2.3", "300.1.2.3");
	expect_bad("192.0.2.0/33", "prefix length out of range");
	expect_bad("", "empty entry");
	expect_bad("   ", "empty entry");
	expect_bad("two names.example", "not one name");
	expect_bad("bad!name.example", "invalid name");
	expect_bad("||adblock.example^", "invalid name");
	expect_bad("a..b.example", "invalid name");
	expect_bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
		   "invalid name");
}

/* ---- the set ------------------------------------------------------------------------------ */

static void test_set(void **state)
{
	struct change_set s;
	struct change_entry e, ip;
	struct change *c;
	char name[64];
	int i;

	(void)state;
	changes_init(&s);
	entry(&e, "a.example");
	entry(&ip, "192.0.2.0/24");
	assert_null(changes_find(&s, &e));
	assert_int_equal(changes_set(&s, &e, CHANGE_ADD, 3), 0);
	assert_int_equal(changes_set(&s, &ip, CHANGE_DEL, 4), 0);
	assert_int_equal(s.n_add, 1);
	assert_int_equal(s.n_del, 1);
	c = changes_find(&s, &e);
	assert_non_null(c);
	assert_int_equal(c->op, CHANGE_ADD);
	assert_int_equal(c->line, 3);
	/* an address is found by its prefix, whatever text it was given as */
	entry(&e, "192.0.2.0/24");
	c = changes_find(&s, &e);
	assert_non_null(c);
	assert_int_equal(c->op, CHANGE_DEL);
	/* a name and an address do not meet */
	entry(&e, "b.example");
	assert_null(changes_find(&s, &e));

	/* removal leaves a tombstone that counts as nothing */
	entry(&e, "a.example");
	assert_int_equal(changes_set(&s, &e, CHANGE_NONE, 0), 0);
	assert_int_equal(s.n_add, 0);
	assert_int_equal(changes_find(&s, &e)->op, CHANGE_NONE);
	assert_int_equal(changes_set(&s, &e, CHANGE_DEL, 0), 0);
	assert_int_equal(s.n_del, 2);

	/* growth keeps every entry findable */
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d.grow.example", i);
		entry(&e, name);
		assert_int_equal(changes_set(&s, &e, i % 2 ? CHANGE_ADD : CHANGE_DEL, i + 1), 0);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "N%d.Grow.Example.", i);
		entry(&e, name);
		c = changes_find(&s, &e);
		assert_non_null(c);
		assert_int_equal(c->line, i + 1);
		assert_int_equal(c->op, i % 2 ? CHANGE_ADD : CHANGE_DEL);
	}
	assert_int_equal(s.n_add, 2500);
	assert_int_equal(s.n_del, 2502);
	changes_free(&s);
}

/* ---- files ---------------------------------------------------------------------------------- */

static void test_path(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(changes_path("/var/lib/bpfguard", "adult", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/bpfguard/changes/adult.txt");
	assert_int_equal(changes_path("/s", "a/b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(changes_path("/s", "..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(changes_path("/s", "", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(changes_path("/a/long/state/dir", "list", buf, 16), -ENAMETOOLONG);
}

static void test_load_good(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	struct change_set s;
	struct change_entry e;
	char path[PATH_MAX];

	(void)state;
	tmp_path(path, sizeof(path), "good.txt");
	write_file(path, "# comment\n"
			 "\n"
			 "+Added.Example\r\n"
			 "  -198.51.100.0/24  \n"
			 "+added.example\n" /* the same change twice: one */
			 "-2001:db8::/32\n");
	changes_init(&s);
	assert_int_equal(changes_load(&s, path, &d), 0);
	assert_int_equal(cap.n, 0);
	assert_int_equal(s.n_add, 1);
	assert_int_equal(s.n_del, 2);
	entry(&e, "added.example");
	assert_int_equal(changes_find(&s, &e)->line, 3);
	entry(&e, "198.51.100.0/24");
	assert_int_equal(changes_find(&s, &e)->op, CHANGE_DEL);
	changes_free(&s);

	/* no file, no directory: no change */
	changes_init(&s);
	tmp_path(path, sizeof(path), "none.txt");
	assert_int_equal(changes_load(&s, path, &d), 0);
	tmp_path(path, sizeof(path), "nodir/none.txt");
	assert_int_equal(changes_load(&s, path, &d), 0);
	assert_int_equal(s.n_add + s.n_del, 0);
	assert_int_equal(cap.n, 0);
	changes_free(&s);
}

static void test_load_corrupt(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	struct change_set s;
	char path[PATH_MAX];
	const struct report *r;
	FILE *f;

	(void)state;
	tmp_path(path, sizeof(path), "bad.txt");
	write_file(path, "+ok.example\n"
			 "no-op.example\n"
			 "+192.0.2.1/24\n"
			 "+bad!name\n"
			 "-ok.example\n"
			 "+\n");
	changes_init(&s);
	assert_int_equal(changes_load(&s, path, &d), -EINVAL);
	assert_int_equal(d.errors, 5);
	r = report_at(&cap, 2);
	assert_non_null(r);
	assert_string_equal(r->file, path);
	assert_int_equal(r->sev, DIAG_ERROR);
	assert_non_null(strstr(r->msg, "expected +ENTRY or -ENTRY"));
	assert_non_null(strstr(msg_at(&cap, 3), "did you mean 192.0.2.0/24"));
	assert_non_null(strstr(msg_at(&cap, 4), "invalid name"));
	assert_non_null(strstr(msg_at(&cap, 5), "both added (line 1) and deleted"));
	assert_non_null(strstr(msg_at(&cap, 6), "empty entry"));
	assert_null(report_at(&cap, 1));
	changes_free(&s);

	/* a NUL byte: not a change file */
	cap.n = 0;
	d.errors = 0;
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("+a.example\n+b\0c.example\n", 1, 24, f);
	fclose(f);
	changes_init(&s);
	assert_int_equal(changes_load(&s, path, &d), -EINVAL);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.r[0].line, 2);
	assert_non_null(strstr(cap.r[0].msg, "NUL"));
	changes_free(&s);

	/* unreadable (a directory): an error, not "no change" */
	cap.n = 0;
	tmp_path(path, sizeof(path), "adir.txt");
	assert_int_equal(mkdir(path, 0755), 0);
	changes_init(&s);
	assert_true(changes_load(&s, path, &d) < 0);
	assert_true(cap.n >= 1);
	changes_free(&s);
}

static int count_files(const char *dir)
{
	char cmd[PATH_MAX + 32], buf[32];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(buf, sizeof(buf), p))
		n = atoi(buf);
	pclose(p);
	return n;
}

static void test_save_roundtrip(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	struct change_set s, t;
	struct change_entry e;
	char path[PATH_MAX], dir[PATH_MAX];
	const char *text;

	(void)state;
	tmp_path(dir, sizeof(dir), "rt");
	assert_int_equal(mkdir(dir, 0755), 0);
	tmp_path(path, sizeof(path), "rt/list.txt");
	changes_init(&s);
	entry(&e, "one.example");
	assert_int_equal(changes_set(&s, &e, CHANGE_ADD, 0), 0);
	entry(&e, "203.0.113.0/25");
	assert_int_equal(changes_set(&s, &e, CHANGE_DEL, 0), 0);
	entry(&e, "gone.example");
	assert_int_equal(changes_set(&s, &e, CHANGE_ADD, 0), 0);
	assert_int_equal(changes_set(&s, &e, CHANGE_NONE, 0), 0);
	assert_int_equal(changes_save(&s, path, "mylist"), 0);
	text = read_file(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "[list mylist]"));
	assert_non_null(strstr(text, "\n+one.example\n-203.0.113.0/25\n"));
	assert_null(strstr(text, "gone.example"));
	/* only the file: no temporary left beside it */
	assert_int_equal(count_files(dir), 1);

	changes_init(&t);
	assert_int_equal(changes_load(&t, path, &d), 0);
	assert_int_equal(t.n_add, 1);
	assert_int_equal(t.n_del, 1);
	entry(&e, "one.example");
	assert_non_null(changes_find(&t, &e));
	changes_free(&t);

	/* nothing left: no file */
	entry(&e, "one.example");
	changes_set(&s, &e, CHANGE_NONE, 0);
	entry(&e, "203.0.113.0/25");
	changes_set(&s, &e, CHANGE_NONE, 0);
	assert_int_equal(changes_save(&s, path, "mylist"), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_files(dir), 0);
	changes_free(&s);
}

/* ---- a list read through its changes -------------------------------------------------------- */

static void make_state(char *state_dir, size_t len)
{
	char p[PATH_MAX];

	tmp_path(state_dir, len, "state");
	mkdir(state_dir, 0755);
	snprintf(p, sizeof(p), "%s/%s", state_dir, CHANGES_SUBDIR);
	mkdir(p, 0755);
}

static void test_parse_list(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	struct reg_stats st = { 0 };
	struct sink *s = calloc(1, sizeof(*s));
	char sd[PATH_MAX], list[PATH_MAX], cpath[PATH_MAX];
	const struct got *g;

	(void)state;
	assert_non_null(s);
	make_state(sd, sizeof(sd));
	tmp_path(list, sizeof(list), "list.txt");
	write_file(list, "kept.example\n"
			 "hidden.example\n"
			 "full:exact.example\n"
			 "@@||allowed.example^\n"
			 "198.51.100.0/24\n"
			 "203.0.113.0/25\n"
			 "also.example\n");

	/* no change file: exactly the registry's entries */
	assert_int_equal(changes_parse_list(sd, "l", list, collect, s, &d, &st, NULL), 0);
	assert_int_equal(s->n, 7);
	assert_int_equal(cap.n, 0);

	assert_int_equal(changes_path(sd, "l", cpath, sizeof(cpath)), 0);
	write_file(cpath, "# changes\n"
			  "-hidden.example\n"
			  "-203.0.113.0/25\n"
			  "+new.example\n"
			  "+192.0.2.7\n"
			  "+also.example\n" /* also in the file: given once, as added */
			  "-exact.example\n" /* hides the full: line */
			  "+allowed.example\n"); /* replaces the @@ line with a plain entry */
	memset(s, 0, sizeof(*s));
	memset(&st, 0, sizeof(st));
	assert_int_equal(changes_parse_list(sd, "l", list, collect, s, &d, &st, NULL), 0);
	assert_int_equal(cap.n, 0);
	assert_non_null(got_find(s, "D kept.example"));
	assert_non_null(got_find(s, "I 198.51.100.0/24"));
	assert_null(got_find(s, "D hidden.example"));
	assert_null(got_find(s, "I 203.0.113.0/25"));
	assert_null(got_find(s, "D exact.example"));
	assert_int_equal(got_count(s, "D also.example"), 1);
	assert_int_equal(got_count(s, "D allowed.example"), 1);
	g = got_find(s, "D allowed.example");
	assert_int_equal(g->flags & REG_F_ALLOW, 0);
	g = got_find(s, "D new.example");
	assert_non_null(g);
	assert_string_equal(g->file, cpath);
	assert_int_equal(g->line, 4);
	g = got_find(s, "I 192.0.2.7");
	assert_non_null(g);
	assert_int_equal(g->line, 5);
	g = got_find(s, "D also.example");
	assert_string_equal(g->file, cpath);
	assert_int_equal(s->n, 2 + 4); /* kept, 198.51.100.0/24; 4 additions */

	/* a corrupt change file: an error with file:line, and no entry given at all */
	write_file(cpath, "+fine.example\n*oops\n");
	memset(s, 0, sizeof(*s));
	cap.n = 0;
	d.errors = 0;
	assert_int_equal(changes_parse_list(sd, "l", list, collect, s, &d, &st, NULL), -EINVAL);
	assert_int_equal(s->n, 0);
	assert_non_null(report_at(&cap, 2));
	assert_string_equal(report_at(&cap, 2)->file, cpath);
	assert_true(d.errors >= 1);
	free(s);
}

/* ---- add and del --------------------------------------------------------------------------- */

struct edit {
	struct change_req r[8];
	size_t n;
	bool changed;
	int rc;
};

static void edit(struct edit *x, const char *sd, const char *list_path, int op, ...)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	const char *arg;
	va_list ap;

	change_reqs_release(x->r, x->n);
	memset(x, 0, sizeof(*x));
	va_start(ap, op);
	while ((arg = va_arg(ap, const char *)))
		entry(&x->r[x->n++].e, arg);
	va_end(ap);
	x->rc = changes_edit(sd, "l", list_path, op, x->r, x->n, &d, &x->changed);
}

static const char *change_file(const char *sd)
{
	char p[PATH_MAX];

	assert_int_equal(changes_path(sd, "l", p, sizeof(p)), 0);
	return read_file(p);
}

static void test_edit(void **state)
{
	char sd[PATH_MAX], list[PATH_MAX];
	struct edit x = { 0 };
	const char *text;

	(void)state;
	make_state(sd, sizeof(sd));
	tmp_path(list, sizeof(list), "elist.txt");
	write_file(list, "# a list\n"
			 "infile.example\n"
			 "203.0.113.0/25\n"
			 "@@||flagged.example^\n"
			 "parent.example\n");

	/* add, then del: cancels (no change file left) */
	edit(&x, sd, list, CHANGE_ADD, "new.example", NULL);
	assert_int_equal(x.rc, 0);
	assert_true(x.changed);
	assert_int_equal(x.r[0].result, CR_ADDED);
	text = change_file(sd);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n+new.example\n"));
	edit(&x, sd, list, CHANGE_ADD, "NEW.example.", NULL);
	assert_int_equal(x.r[0].result, CR_ALREADY_ADDED);
	assert_false(x.changed);
	edit(&x, sd, list, CHANGE_DEL, "new.example", NULL);
	assert_int_equal(x.r[0].result, CR_CANCELLED);
	assert_true(x.changed);
	assert_null(change_file(sd));

	/* del of a file entry hides it, and says where it is */
	edit(&x, sd, list, CHANGE_DEL, "infile.example", "203.0.113.0/25", NULL);
	assert_int_equal(x.rc, 0);
	assert_int_equal(x.r[0].result, CR_HIDDEN);
	assert_int_equal(x.r[0].line, 2);
	assert_string_equal(x.r[0].file, list);
	assert_int_equal(x.r[1].result, CR_HIDDEN);
	assert_int_equal(x.r[1].line, 3);
	text = change_file(sd);
	assert_non_null(strstr(text, "\n-infile.example\n-203.0.113.0/25\n"));
	edit(&x, sd, list, CHANGE_DEL, "infile.example", NULL);
	assert_int_equal(x.r[0].result, CR_ALREADY_DELETED);
	assert_false(x.changed);
	/* add of a deleted file entry: the file's line is back, no +ENTRY needed */
	edit(&x, sd, list, CHANGE_ADD, "infile.example", NULL);
	assert_int_equal(x.r[0].result, CR_RESTORED);
	text = change_file(sd);
	assert_null(strstr(text, "infile.example"));
	assert_non_null(strstr(text, "-203.0.113.0/25"));
	/* add of a plain file entry: nothing to do */
	edit(&x, sd, list, CHANGE_ADD, "infile.example", NULL);
	assert_int_equal(x.r[0].result, CR_IN_FILE);
	assert_false(x.changed);
	/* a file entry that is not plain (an @@ rule): add makes it a block entry */
	edit(&x, sd, list, CHANGE_ADD, "flagged.example", NULL);
	assert_int_equal(x.r[0].result, CR_ADDED);
	/* ... and del of it after that both removes the +ENTRY and hides the file's line */
	edit(&x, sd, list, CHANGE_DEL, "flagged.example", NULL);
	assert_int_equal(x.r[0].result, CR_CANCELLED);
	text = change_file(sd);
	assert_non_null(strstr(text, "\n-flagged.example\n"));
	assert_null(strstr(text, "+flagged.example"));

	/* del of what is not there: nothing written, and what covers it is named */
	edit(&x, sd, list, CHANGE_DEL, "203.0.113.9", "www.parent.example", "nowhere.example",
	     NULL);
	assert_int_equal(x.rc, 0);
	assert_false(x.changed);
	assert_int_equal(x.r[0].result, CR_NOT_FOUND);
	assert_string_equal(x.r[0].cover, "203.0.113.0/25");
	assert_int_equal(x.r[0].cover_line, 3);
	assert_int_equal(x.r[1].result, CR_NOT_FOUND);
	assert_string_equal(x.r[1].cover, "parent.example");
	assert_int_equal(x.r[1].cover_line, 5);
	assert_int_equal(x.r[2].result, CR_NOT_FOUND);
	assert_int_equal(x.r[2].cover_line, 0);

	/* the list's file unknown (a url list never fetched): a del records -ENTRY anyway */
	edit(&x, sd, NULL, CHANGE_DEL, "unknown.example", NULL);
	assert_int_equal(x.r[0].result, CR_HIDDEN);
	assert_non_null(strstr(change_file(sd), "\n-unknown.example\n"));

	/* a corrupt change file: refused, left as it is */
	{
		char p[PATH_MAX];

		changes_path(sd, "l", p, sizeof(p));
		write_file(p, "+ok.example\nbroken\n");
		edit(&x, sd, list, CHANGE_ADD, "more.example", NULL);
		assert_int_equal(x.rc, -EINVAL);
		assert_false(x.changed);
		assert_string_equal(read_file(p), "+ok.example\nbroken\n");
	}
	change_reqs_release(x.r, x.n);
}

/* Writers in several processes at once: every change lands (the flock serialises them). */
#define WRITERS 8
#define PER_WRITER 40

static void test_concurrent_writers(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	char sd[PATH_MAX], list[PATH_MAX], cpath[PATH_MAX], name[64];
	struct change_set s;
	struct change_entry e;
	pid_t pids[WRITERS];
	int w, i, status;

	(void)state;
	tmp_path(sd, sizeof(sd), "cstate"); /* not created: the first writer makes it */
	tmp_path(list, sizeof(list), "clist.txt");
	write_file(list, "base.example\n");
	for (w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct diag qd = { .max_print = 1 };

			for (i = 0; i < PER_WRITER; i++) {
				struct change_req r = { 0 };
				bool changed;
				char why[128];

				snprintf(name, sizeof(name), "w%d-%d.example", w, i);
				if (change_entry_parse(name, &r.e, why, sizeof(why)) ||
				    changes_edit(sd, "l", list, CHANGE_ADD, &r, 1, &qd, &changed) ||
				    r.result != CR_ADDED || !changed)
					_exit(1);
				change_reqs_release(&r, 1);
			}
			_exit(0);
		}
	}
	for (w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(changes_path(sd, "l", cpath, sizeof(cpath)), 0);
	changes_init(&s);
	assert_int_equal(changes_load(&s, cpath, &d), 0);
	assert_int_equal(s.n_add, WRITERS * PER_WRITER);
	for (w = 0; w < WRITERS; w++) {
		for (i = 0; i < PER_WRITER; i++) {
			snprintf(name, sizeof(name), "w%d-%d.example", w, i);
			entry(&e, name);
			assert_non_null(changes_find(&s, &e));
		}
	}
	changes_free(&s);
}

/* ---- policy_build applies each list's change file ------------------------------------------ */

static void test_policy_build(void **state)
{
	struct capture cap = { 0 };
	struct diag d = { .cb = capture_cb, .ctx = &cap };
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	char sd[PATH_MAX], conf[3 * PATH_MAX + 256], cpath[PATH_MAX], list[PATH_MAX];
	struct ip_prefix a;
	const char *why;
	struct dom_match m;
	__u32 leaf;
	int i;

	(void)state;
	make_state(sd, sizeof(sd));
	tmp_path(list, sizeof(list), "plist.txt");
	write_file(list, "blocked.example\n203.0.113.0/25\n");
	snprintf(conf, sizeof(conf),
		 "[guard]\ninterfaces = none\nstate_dir = %s\n\n"
		 "[list adult]\npath = %s\ncategory = adult\naction = block\n\n"
		 "[list other]\npath = %s\ncategory = other\naction = block\n",
		 sd, list, list);
	assert_int_equal(config_parse("p.conf", tmpdir, conf, strlen(conf), &d, &cfg), 0);
	assert_int_equal(changes_path(sd, "adult", cpath, sizeof(cpath)), 0);
	write_file(cpath, "+live.example\n-blocked.example\n+198.51.100.7\n-203.0.113.0/25\n");

	assert_int_equal(policy_build(cfg, &d, &pol), 0);
	/* adult: its changes; other: the same file, untouched */
	assert_int_equal(pol->lists[0].entries, 2);
	assert_int_equal(pol->lists[1].entries, 2);
	assert_non_null(domtable_find(&pol->dom, "live.example", false));
	assert_int_equal(domtable_find(&pol->dom, "live.example", false)->list_id, 0);
	assert_int_equal(domtable_find(&pol->dom, "blocked.example", false)->list_id, 1);
	assert_int_equal(domtable_find(&pol->dom, "blocked.example", false)->n_lists, 1);
	assert_int_equal(domtable_lookup(&pol->dom, "www.live.example", &m), 0);
	assert_true(m.leaf != DOM_LEAF_NONE);
	ip_prefix_parse("198.51.100.7", &a, false, &why);
	leaf = iptable_lookup(&pol->ipt, 4, IPT_DIR_DST, a.addr);
	assert_true(leaf != IPT_LEAF_NONE);
	assert_int_equal(pol->ipt.leaves[leaf].list_id, 0);
	ip_prefix_parse("203.0.113.9", &a, false, &why);
	leaf = iptable_lookup(&pol->ipt, 4, IPT_DIR_DST, a.addr);
	assert_true(leaf != IPT_LEAF_NONE);
	assert_int_equal(pol->ipt.leaves[leaf].list_id, 1); /* only from list other now */
	policy_free(pol);
	pol = NULL;

	/* a corrupt change file fails the build, naming file:line */
	write_file(cpath, "+live.example\n+not a name\n");
	cap.n = 0;
	assert_int_equal(policy_build(cfg, &d, &pol), -EINVAL);
	assert_null(pol);
	for (i = 0; i < cap.n; i++)
		if (cap.r[i].line == 2 && !strcmp(cap.r[i].file, cpath))
			break;
	assert_true(i < cap.n);
	config_free(cfg);
}

/*
 * A list that fails without a reason of its own (out of memory: the parser and the tables
 * report bad lines, not allocations) is named by policy_build, at the list's config line. In
 * a child whose address space ends 32 MB past what it uses, a list of 1M names cannot fit.
 */
static void test_policy_build_oom(void **state)
{
	char list[PATH_MAX], conf[PATH_MAX + 256];
	FILE *f;
	pid_t pid;
	int i, status;

	(void)state;
	tmp_path(list, sizeof(list), "big.txt");
	f = fopen(list, "w");
	assert_non_null(f);
	for (i = 0; i < 1000000; i++)
		fprintf(f, "name%07d.example-oom.test\n", i);
	assert_int_equal(fclose(f), 0);
	snprintf(conf, sizeof(conf),
		 "[guard]\ninterfaces = none\n\n[list big]\npath = %s\ncategory = ads\n", list);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct capture cap = { 0 };
		struct diag d = { .cb = capture_cb, .ctx = &cap };
		struct guard_config *cfg = NULL;
		struct guard_policy *pol = NULL;
		unsigned long pages = 0;
		struct rlimit rl;
		FILE *st = fopen("/proc/self/statm", "r");
		int err, found = 0;

		if (!st || fscanf(st, "%lu", &pages) != 1)
			_exit(10);
		fclose(st);
		if (config_parse("oom.conf", tmpdir, conf, strlen(conf), &d, &cfg))
			_exit(11);
		rl.rlim_cur = rl.rlim_max = pages * (rlim_t)sysconf(_SC_PAGESIZE) + (32u << 20);
		if (setrlimit(RLIMIT_AS, &rl))
			_exit(12);
		err = policy_build(cfg, &d, &pol);
		if (err != -ENOMEM || pol)
			_exit(13);
		for (i = 0; i < cap.n; i++)
			if (cap.r[i].sev == DIAG_ERROR && cap.r[i].line == 4 &&
			    strstr(cap.r[i].msg, "[list big]: cannot load") &&
			    strstr(cap.r[i].msg, strerror(ENOMEM)))
				found = 1;
		_exit(found ? 0 : 14);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	/* 13: the build did not fail for memory; 14: it failed without naming the list */
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_path),
		cmocka_unit_test_setup_teardown(test_load_good, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_corrupt, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_save_roundtrip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_parse_list, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_edit, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_policy_build, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_policy_build_oom, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
