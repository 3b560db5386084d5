// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/registry.c: every line format, every malformed case (each must warn with
 * its line and be skipped), CRLF/BOM, .gz files (written here with zlib), corrupt and truncated
 * .gz, missing files, include: chains and cycles, domain_normalize(), and the real lists in
 * $BPFGUARD_SHARED/data/lists (default ../shared, the repo being the working directory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "user/registry.h"

#define DATA "tests/data/registry"

struct got {
	int kind;
	char text[260]; /* the name, or the formatted prefix */
	unsigned int flags;
	int line;
	char file[256];
};

struct sink {
	struct got *v;
	int n, cap;
	int stop_after; /* > 0: return -ECANCELED after this many entries */
};

struct report {
	int sev;
	int line;
	char file[256];
	char msg[512];
};

struct capture {
	struct report r[256];
	int n;
};

static int collect(void *ctx, const struct reg_entry *e)
{
	struct sink *s = ctx;
	struct got *g;

	if (s->stop_after && s->n >= s->stop_after)
		return -ECANCELED;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, sizeof(*s->v) * (size_t)s->cap);
		assert_non_null(s->v);
	}
	g = &s->v[s->n++];
	memset(g, 0, sizeof(*g));
	g->kind = e->kind;
	g->flags = e->flags;
	g->line = e->line;
	snprintf(g->file, sizeof(g->file), "%s", e->file);
	if (e->kind == REG_IP)
		ip_prefix_format(&e->prefix, g->text, sizeof(g->text));
	else
		snprintf(g->text, sizeof(g->text), "%s", e->name);
	return 0;
}

static void on_diag(void *ctx, enum diag_severity sev, const char *file, int line, const char *msg)
{
	struct capture *c = ctx;
	struct report *r;

	if (c->n >= (int)ARRAY_SIZE(c->r))
		return;
	r = &c->r[c->n++];
	r->sev = sev;
	r->line = line;
	snprintf(r->file, sizeof(r->file), "%s", file);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

struct run {
	struct sink s;
	struct capture c;
	struct diag d;
	struct reg_stats st;
	struct reg_files inc; /* parse_file: the include: files named */
	int rc;
};

static struct run *run_new(void)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->d.cb = on_diag;
	r->d.ctx = &r->c;
	return r;
}

static void run_free(struct run *r)
{
	reg_files_free(&r->inc);
	free(r->s.v);
	free(r);
}

static struct run *parse_text(const char *text)
{
	struct run *r = run_new();

	r->rc = registry_parse_buffer("t.txt", text, strlen(text), collect, &r->s, &r->d, &r->st);
	return r;
}

static struct run *parse_file(const char *path)
{
	struct run *r = run_new();

	r->rc = registry_parse_file_inc(path, collect, &r->s, &r->d, &r->st, &r->inc);
	return r;
}

/* The entry with this text, or NULL. */
static const struct got *find(const struct run *r, const char *text)
{
	int i;

	for (i = 0; i < r->s.n; i++)
		if (strcmp(r->s.v[i].text, text) == 0)
			return &r->s.v[i];
	return NULL;
}

static void expect_entry(const struct run *r, int kind, const char *text, unsigned int flags,
			 int line)
{
	const struct got *g = find(r, text);

	if (!g)
		fail_msg("no entry '%s'", text);
	assert_int_equal(g->kind, kind);
	assert_int_equal(g->flags, flags);
	assert_int_equal(g->line, line);
}

/* A report at this line whose message contains every given substring. */
static void expect_report(const struct run *r, int sev, int line, const char *sub1,
			  const char *sub2)
{
	int i;

	for (i = 0; i < r->c.n; i++) {
		const struct report *p = &r->c.r[i];

		if (p->sev == sev && p->line == line && strstr(p->msg, sub1) &&
		    (!sub2 || strstr(p->msg, sub2)))
			return;
	}
	for (i = 0; i < r->c.n; i++)
		print_message("report %d: %s:%d: %s\n", i, r->c.r[i].file, r->c.r[i].line,
			      r->c.r[i].msg);
	fail_msg("no %s at line %d with '%s'%s%s", sev ? "error" : "warning", line, sub1,
		 sub2 ? " and " : "", sub2 ? sub2 : "");
}

/* One malformed line: exactly one warning at line 1 mentioning sub, no entry. */
static void expect_bad_line(const char *text, const char *sub)
{
	struct run *r = parse_text(text);

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 0);
	assert_int_equal(r->st.invalid, 1);
	assert_int_equal(r->d.warnings, 1);
	assert_int_equal(r->d.errors, 0);
	expect_report(r, DIAG_WARNING, 1, sub, "the line is skipped");
	run_free(r);
}

static void test_plain_and_wildcard(void **state)
{
	struct run *r = parse_text("Example.COM\nfoo.example.org.\n*.wild.example\ncom\n"
				   "under_score.example\nxn--bcher-kva.example\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 6);
	expect_entry(r, REG_DOMAIN, "example.com", 0, 1);
	expect_entry(r, REG_DOMAIN, "foo.example.org", 0, 2);
	expect_entry(r, REG_DOMAIN, "wild.example", REG_F_WILDCARD, 3);
	expect_entry(r, REG_DOMAIN, "com", 0, 4);
	expect_entry(r, REG_DOMAIN, "under_score.example", 0, 5);
	expect_entry(r, REG_DOMAIN, "xn--bcher-kva.example", 0, 6);
	assert_int_equal(r->st.lines, 6);
	assert_int_equal(r->st.domains, 6);
	assert_int_equal(r->st.entries, 6);
	assert_int_equal(r->d.warnings, 0);
	run_free(r);
}

static void test_ip_and_netset(void **state)
{
	struct run *r = parse_text("192.0.2.1\n192.0.2.0/24\n2001:db8::/32\n"
				   "1.10.16.0/20 ; SBL256894   \n198.51.100.0/24 # comment\n"
				   "203.0.113.0/25\tSBL1\n2001:db8:1::1\n0.0.0.0/0\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 8);
	expect_entry(r, REG_IP, "192.0.2.1", 0, 1);
	expect_entry(r, REG_IP, "192.0.2.0/24", 0, 2);
	expect_entry(r, REG_IP, "2001:db8::/32", 0, 3);
	expect_entry(r, REG_IP, "1.10.16.0/20", 0, 4);
	expect_entry(r, REG_IP, "198.51.100.0/24", 0, 5);
	expect_entry(r, REG_IP, "203.0.113.0/25", 0, 6);
	expect_entry(r, REG_IP, "2001:db8:1::1", 0, 7);
	expect_entry(r, REG_IP, "0.0.0.0/0", 0, 8);
	assert_int_equal(r->st.ip, 8);
	assert_int_equal(r->st.domains, 0);
	assert_int_equal(r->d.warnings, 0);
	run_free(r);
}

static void test_ip_malformed(void **state)
{
	(void)state;
	expect_bad_line("192.0.2.1/24\n", "did you mean 192.0.2.0/24?");
	expect_bad_line("2001:db8::1/32\n", "did you mean 2001:db8::/32?");
	expect_bad_line("300.1.2.3\n", "not an IP address");
	expect_bad_line("1.2.3\n", "not an IP address");
	expect_bad_line("192.0.2.0/33\n", "prefix length out of range (0-32)");
	expect_bad_line("2001:db8::/129\n", "prefix length out of range (0-128)");
	expect_bad_line("192.0.2.0/\n", "prefix length is not a number");
	expect_bad_line("192.0.2.0/2x\n", "prefix length is not a number");
	expect_bad_line("2001:db8::zz\n", "not an IP address");
	expect_bad_line("0\n", "not an IP address");
}

static void test_hosts(void **state)
{
	struct run *r = parse_text("# hosts\n"
				   "127.0.0.1 localhost\n"
				   "127.0.0.1 localhost.localdomain\n"
				   "127.0.0.1 local\n"
				   "255.255.255.255 broadcasthost\n"
				   "::1 localhost\n"
				   "::1 ip6-localhost\n"
				   "::1 ip6-loopback\n"
				   "fe80::1%lo0 localhost\n"
				   "ff00::0 ip6-localnet\n"
				   "ff00::0 ip6-mcastprefix\n"
				   "ff02::1 ip6-allnodes\n"
				   "ff02::2 ip6-allrouters\n"
				   "ff02::3 ip6-allhosts\n"
				   "0.0.0.0 0.0.0.0\n"
				   "0.0.0.0 a.example b.example\n"
				   "127.0.0.1 c.example # inline comment\n"
				   ":: d.example\n"
				   "::1 E.example\n"
				   "0 f.example\n"
				   "0.0.0.0\tg.example\t#tab comment\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.ignored_hosts, 14);
	assert_int_equal(r->st.comments, 1);
	assert_int_equal(r->s.n, 7);
	expect_entry(r, REG_DOMAIN, "a.example", 0, 16);
	expect_entry(r, REG_DOMAIN, "b.example", 0, 16);
	expect_entry(r, REG_DOMAIN, "c.example", 0, 17);
	expect_entry(r, REG_DOMAIN, "d.example", 0, 18);
	expect_entry(r, REG_DOMAIN, "e.example", 0, 19);
	expect_entry(r, REG_DOMAIN, "f.example", 0, 20);
	expect_entry(r, REG_DOMAIN, "g.example", 0, 21);
	run_free(r);
}

static void test_hosts_malformed(void **state)
{
	struct run *r;

	(void)state;
	expect_bad_line("0.0.0.0 bad..example\n", "empty label");
	/* One bad name of three: the two good ones load. */
	r = parse_text("0.0.0.0 good.example ba%d.example other.example\n");
	assert_int_equal(r->s.n, 2);
	assert_int_equal(r->st.invalid, 1);
	expect_report(r, DIAG_WARNING, 1, "ba%d.example", "bad character");
	run_free(r);
	/* An address that is not one, followed by names. */
	r = parse_text("1.2.3.4.5 a.example\n");
	assert_int_equal(r->s.n, 0);
	expect_report(r, DIAG_WARNING, 1, "'1.2.3.4.5' is not an IP address", NULL);
	run_free(r);
}

static void test_adblock(void **state)
{
	struct run *r = parse_text("[Adblock Plus 2.0]\n"
				   "! Title: test\n"
				   "||ads.example^\n"
				   "@@||ok.example^\n"
				   "||end.example^|\n"
				   "||x.example/path^\n"
				   "||y.example^$third-party\n"
				   "example.com##.ad\n"
				   "example.com#@#.ad\n"
				   "/banner/*/img^\n"
				   "|https://z.example/\n"
				   "||w*.example^\n"
				   "@@/path/\n"
				   "||198.51.100.7^\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.comments, 2);
	assert_int_equal(r->st.adblock_unsupported, 8);
	assert_int_equal(r->s.n, 4);
	expect_entry(r, REG_DOMAIN, "ads.example", 0, 3);
	expect_entry(r, REG_DOMAIN, "ok.example", REG_F_ALLOW, 4);
	expect_entry(r, REG_DOMAIN, "end.example", 0, 5);
	expect_entry(r, REG_IP, "198.51.100.7", 0, 14);
	expect_bad_line("||bad..example^\n", "empty label");
	run_free(r);
}

static void test_dnsmasq(void **state)
{
	struct run *r = parse_text("address=/a.example/0.0.0.0\n"
				   "address=/b.example/\n"
				   "server=/c.example/192.0.2.53\n"
				   "local=/d.example/\n"
				   "address=/e.example/f.example/::\n"
				   "address=/*.g.example/0.0.0.0\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->s.n, 7);
	expect_entry(r, REG_DOMAIN, "a.example", 0, 1);
	expect_entry(r, REG_DOMAIN, "b.example", 0, 2);
	expect_entry(r, REG_DOMAIN, "c.example", 0, 3);
	expect_entry(r, REG_DOMAIN, "d.example", 0, 4);
	expect_entry(r, REG_DOMAIN, "e.example", 0, 5);
	expect_entry(r, REG_DOMAIN, "f.example", 0, 5);
	expect_entry(r, REG_DOMAIN, "g.example", REG_F_WILDCARD, 6);
	run_free(r);
	expect_bad_line("address=/#/0.0.0.0\n", "every domain");
	expect_bad_line("address=/noclose\n", "closing '/'");
	expect_bad_line("server=//192.0.2.1\n", "empty name");
	expect_bad_line("local=/x..example/\n", "empty label");
}

static void test_domain_list_community(void **state)
{
	struct run *r = parse_text("domain:example.com\n"
				   "full:www.example.com\n"
				   "keyword:ads\n"
				   "regex:^ad[0-9]+\\.example$\n"
				   "domain:attr.example @cn\n"
				   "attr2.example @ads @cn\n"
				   "include:other\n"
				   "full:attr3.example @ads\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.regex_skipped, 2);
	assert_int_equal(r->st.includes, 0); /* a buffer follows no include */
	assert_int_equal(r->s.n, 5);
	expect_entry(r, REG_DOMAIN, "example.com", 0, 1);
	expect_entry(r, REG_DOMAIN, "www.example.com", REG_F_EXACT, 2);
	expect_entry(r, REG_DOMAIN, "attr.example", 0, 5);
	expect_entry(r, REG_DOMAIN, "attr2.example", 0, 6);
	expect_entry(r, REG_DOMAIN, "attr3.example", REG_F_EXACT, 8);
	run_free(r);
	expect_bad_line("domain:a.example b.example\n", "unexpected text");
	expect_bad_line("full:\n", "empty name");
	expect_bad_line("include:../x\n", "same directory");
}

static void test_names_malformed(void **state)
{
	char label64[80], name254[300], line[320];

	(void)state;
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example\n");
	expect_bad_line(label64, "label longer than 63 bytes");
	/* 63 is fine */
	memset(label64, 'a', 63);
	strcpy(label64 + 63, ".example\n");
	{
		struct run *r = parse_text(label64);

		assert_int_equal(r->s.n, 1);
		assert_int_equal(r->d.warnings, 0);
		run_free(r);
	}
	/* 254 bytes: four labels of 62 plus dots and a two-byte label */
	snprintf(name254, sizeof(name254), "%.62s.%.62s.%.62s.%.62s.ab", label64, label64, label64,
		 label64);
	assert_int_equal(strlen(name254), 254);
	snprintf(line, sizeof(line), "%s\n", name254);
	expect_bad_line(line, "name longer than 253 bytes");
	/* 253 bytes, with the trailing dot DNS allows on top */
	name254[253] = '\0';
	name254[252] = 'b';
	snprintf(line, sizeof(line), "%s.\n", name254 + 0);
	{
		struct run *r = parse_text(line);

		assert_int_equal(r->s.n, 1);
		assert_int_equal(strlen(r->s.v[0].text), 253);
		run_free(r);
	}
	expect_bad_line("a..b\n", "empty label");
	expect_bad_line(".a.example\n", "empty label");
	expect_bad_line("a.example..\n", "empty label");
	expect_bad_line("exa%mple.com\n", "bad character");
	expect_bad_line("user@example.com\n", "bad character");
	expect_bad_line("two words\n", "unexpected text");
	expect_bad_line("caf\xc3.example\n", "internationalised");
	expect_bad_line("\xff\xfe.example\n", "internationalised");
	expect_bad_line("*.\n", "empty name");
}

static void test_idn(void **state)
{
	struct run *r = parse_text("bücher.example\nÉCOLE.example\nfaß.de\n*.münchen.example\n"
				   "0.0.0.0 παράδειγμα.example\n");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->s.n, 5);
	expect_entry(r, REG_DOMAIN, "xn--bcher-kva.example", 0, 1);
	expect_entry(r, REG_DOMAIN, "xn--cole-9oa.example", 0, 2);
	expect_entry(r, REG_DOMAIN, "xn--fa-hia.de", 0, 3); /* IDNA2008: ß is kept */
	expect_entry(r, REG_DOMAIN, "xn--mnchen-3ya.example", REG_F_WILDCARD, 4);
	expect_entry(r, REG_DOMAIN, "xn--hxajbheg2az3al.example", 0, 5);
	run_free(r);
}

static void test_domain_normalize(void **state)
{
	char out[256];
	const char *why = NULL;

	(void)state;
	assert_int_equal(domain_normalize("WWW.Example.ORG.", out, sizeof(out), &why), 0);
	assert_string_equal(out, "www.example.org");
	assert_int_equal(domain_normalize("Bücher.Example", out, sizeof(out), &why), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(domain_normalize("", out, sizeof(out), &why), -EINVAL);
	assert_string_equal(why, "empty name");
	assert_int_equal(domain_normalize(".", out, sizeof(out), &why), -EINVAL);
	assert_int_equal(domain_normalize("a b", out, sizeof(out), &why), -EINVAL);
	assert_non_null(strstr(why, "bad character"));
	/* too small an output buffer is refused, not overrun */
	assert_int_equal(domain_normalize("abcdef.example", out, 8, &why), -EINVAL);
}

static void test_ut1_ip_in_name_position(void **state)
{
	struct run *r = parse_text("games.example\n192.0.2.7\n203.0.113.9\n");

	(void)state;
	assert_int_equal(r->s.n, 3);
	expect_entry(r, REG_IP, "192.0.2.7", 0, 2);
	expect_entry(r, REG_IP, "203.0.113.9", 0, 3);
	assert_int_equal(r->st.ip, 2);
	assert_int_equal(r->st.domains, 1);
	run_free(r);
}

static void test_comments_crlf_bom(void **state)
{
	struct run *r = parse_text("\xef\xbb\xbf# bom then comment\r\n"
				   "\r\n"
				   "   \t\n"
				   "; netset comment\n"
				   "! adblock comment\n"
				   "a.example\r\n"
				   "   b.example   \r\n"
				   "0.0.0.0 c.example\r\n"
				   "192.0.2.0/24\r\n"
				   "last.example"); /* no final newline */

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.lines, 10);
	assert_int_equal(r->st.comments, 5);
	assert_int_equal(r->s.n, 5);
	expect_entry(r, REG_DOMAIN, "a.example", 0, 6);
	expect_entry(r, REG_DOMAIN, "b.example", 0, 7);
	expect_entry(r, REG_DOMAIN, "c.example", 0, 8);
	expect_entry(r, REG_IP, "192.0.2.0/24", 0, 9);
	expect_entry(r, REG_DOMAIN, "last.example", 0, 10);
	run_free(r);

	/* A BOM later on is U+FEFF inside a name: UTS #46 maps it to nothing (IDNA2008). */
	r = parse_text("a.example\n\xef\xbb\xbf"
		       "b.example\n");
	assert_int_equal(r->s.n, 2);
	expect_entry(r, REG_DOMAIN, "b.example", 0, 2);
	run_free(r);
}

static void test_long_lines_and_nul(void **state)
{
	size_t big = 5000;
	char *text = malloc(2 * 4097 + 64);
	struct run *r;

	(void)state;
	assert_non_null(text);
	/* 4096 bytes (a comment) is a line; 4097 is too long; 5000 too; then a good line */
	text[0] = '#';
	memset(text + 1, 'x', 4095);
	text[4096] = '\n';
	memset(text + 4097, 'a', 4097);
	text[4097 + 4097] = '\n';
	text[4097 + 4098] = '\0';
	r = parse_text(text);
	assert_int_equal(r->st.comments, 1);
	assert_int_equal(r->st.invalid, 1);
	expect_report(r, DIAG_WARNING, 2, "line longer than 4096 bytes", "the line is skipped");
	run_free(r);

	memset(text, 'b', big);
	strcpy(text + big, "\nafter.example\n");
	r = parse_text(text);
	assert_int_equal(r->st.lines, 2);
	assert_int_equal(r->st.invalid, 1);
	assert_int_equal(r->s.n, 1);
	expect_report(r, DIAG_WARNING, 1, "line longer than 4096 bytes", NULL);
	expect_entry(r, REG_DOMAIN, "after.example", 0, 2);
	run_free(r);

	/* an overlong last line without newline */
	memset(text, 'c', big);
	text[big] = '\0';
	r = parse_text(text);
	assert_int_equal(r->st.lines, 1);
	assert_int_equal(r->st.invalid, 1);
	run_free(r);
	free(text);

	r = run_new();
	r->rc = registry_parse_buffer("nul.txt", "a.example\nb\0c.example\nd.example\n", 32,
				      collect, &r->s, &r->d, &r->st);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 2);
	expect_report(r, DIAG_WARNING, 2, "NUL byte", NULL);
	run_free(r);
}

static void test_callback_stops(void **state)
{
	struct run *r = run_new();
	const char *text = "a.example\nb.example\nc.example\n";

	(void)state;
	r->s.stop_after = 2;
	r->rc = registry_parse_buffer("t.txt", text, strlen(text), collect, &r->s, &r->d, &r->st);
	assert_int_equal(r->rc, -ECANCELED);
	assert_int_equal(r->s.n, 2);
	run_free(r);
}

static void test_mixed_file(void **state)
{
	struct run *r = parse_file(DATA "/mixed.txt");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.errors, 0);
	assert_int_equal(r->d.warnings, 1);
	expect_report(r, DIAG_WARNING, 20, "bad..name.example", "empty label");
	assert_string_equal(r->c.r[0].file, DATA "/mixed.txt");
	assert_int_equal(r->st.comments, 4);
	assert_int_equal(r->st.ignored_hosts, 1);
	assert_int_equal(r->st.adblock_unsupported, 1);
	assert_int_equal(r->st.regex_skipped, 1);
	assert_int_equal(r->s.n, 13);
	expect_entry(r, REG_DOMAIN, "plain.example", 0, 5);
	expect_entry(r, REG_DOMAIN, "wild.example", REG_F_WILDCARD, 6);
	expect_entry(r, REG_DOMAIN, "hosts-a.example", 0, 7);
	expect_entry(r, REG_DOMAIN, "hosts-b.example", 0, 7);
	expect_entry(r, REG_DOMAIN, "adblock.example", 0, 9);
	expect_entry(r, REG_DOMAIN, "allowed.example", REG_F_ALLOW, 10);
	expect_entry(r, REG_DOMAIN, "dnsmasq.example", 0, 12);
	expect_entry(r, REG_DOMAIN, "server.example", 0, 13);
	expect_entry(r, REG_DOMAIN, "dlc.example", 0, 14);
	expect_entry(r, REG_DOMAIN, "full.example", REG_F_EXACT, 15);
	expect_entry(r, REG_IP, "192.0.2.0/24", 0, 17);
	expect_entry(r, REG_IP, "2001:db8::/32", 0, 18);
	expect_entry(r, REG_IP, "198.51.100.0/24", 0, 19);
	assert_string_equal(find(r, "plain.example")->file, DATA "/mixed.txt");
	run_free(r);
}

static void test_crlf_bom_files(void **state)
{
	struct run *r = parse_file(DATA "/crlf.txt");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->s.n, 3);
	expect_entry(r, REG_DOMAIN, "crlf-a.example", 0, 1);
	expect_entry(r, REG_DOMAIN, "crlf-b.example", 0, 2);
	expect_entry(r, REG_IP, "192.0.2.1", 0, 3);
	run_free(r);

	r = parse_file(DATA "/bom.txt");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->s.n, 2);
	expect_entry(r, REG_DOMAIN, "bom.example", 0, 1);
	run_free(r);
}

/* A scratch directory for files written by a test; removed with its files. */
static char tmpdir[64];

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_registry.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	char cmd[128];

	(void)state;
	/* Only our own mkdtemp() directory. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const char *text, size_t len)
{
	gzFile gz = gzopen(path, "wb9");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, text, (unsigned int)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

static void *read_all(const char *path, size_t *len)
{
	struct stat sb;
	void *buf;
	FILE *f;

	assert_int_equal(stat(path, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
	fclose(f);
	*len = (size_t)sb.st_size;
	return buf;
}

/* 20000 names, with a comment and an IP: compresses to a few tens of KiB. */
static char *big_text(size_t *len)
{
	size_t cap = 20000 * 40 + 64, off = 0;
	char *t = malloc(cap);
	int i;

	assert_non_null(t);
	off += (size_t)snprintf(t + off, cap - off, "# generated\n192.0.2.0/24\n");
	for (i = 0; i < 20000; i++)
		off += (size_t)snprintf(t + off, cap - off, "0.0.0.0 n%d.x%d.example\n", i * 7919,
					i % 97);
	*len = off;
	return t;
}

static void test_gz_file(void **state)
{
	char path[128];
	size_t len;
	char *text = big_text(&len);
	struct run *r;

	(void)state;
	tmp_path(path, sizeof(path), "list.txt.gz");
	write_gz(path, text, len);
	r = parse_file(path);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.errors, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.lines, 20002);
	assert_int_equal(r->s.n, 20001);
	expect_entry(r, REG_IP, "192.0.2.0/24", 0, 2);
	expect_entry(r, REG_DOMAIN, "n0.x0.example", 0, 3);
	expect_entry(r, REG_DOMAIN, "n158372081.x17.example", 0, 20002);
	run_free(r);

	/* The same text uncompressed gives the same result. */
	tmp_path(path, sizeof(path), "list.txt");
	write_file(path, text, len);
	r = parse_file(path);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 20001);
	run_free(r);
	free(text);
}

static void test_gz_corrupt_and_truncated(void **state)
{
	char path[128], bad[128];
	size_t len, zlen;
	char *text = big_text(&len), *z;
	struct run *r;

	(void)state;
	tmp_path(path, sizeof(path), "good.gz");
	write_gz(path, text, len);
	z = read_all(path, &zlen);
	assert_true(zlen > 1000);

	/* Truncated: the first half of the compressed stream. */
	tmp_path(bad, sizeof(bad), "truncated.gz");
	write_file(bad, z, zlen / 2);
	r = parse_file(bad);
	assert_int_equal(r->rc, -EIO);
	assert_int_equal(r->d.errors, 1);
	expect_report(r, DIAG_ERROR, 0, "cannot read registry file", "truncated");
	assert_true(r->s.n > 0 && r->s.n < 20001); /* what came before stays given */
	run_free(r);

	/* Corrupt: garbage in the middle of the deflate data. */
	memset(z + zlen / 2, 0x55, 64);
	tmp_path(bad, sizeof(bad), "corrupt.gz");
	write_file(bad, z, zlen);
	r = parse_file(bad);
	assert_int_equal(r->rc, -EIO);
	assert_int_equal(r->d.errors, 1);
	expect_report(r, DIAG_ERROR, 0, "cannot read registry file", "corrupt");
	run_free(r);

	/* Corrupt trailer (CRC): every byte decompresses, the check fails. */
	write_gz(path, text, len);
	free(z);
	z = read_all(path, &zlen);
	z[zlen - 6] ^= 0xff;
	write_file(bad, z, zlen);
	r = parse_file(bad);
	assert_int_equal(r->rc, -EIO);
	assert_int_equal(r->d.errors, 1);
	run_free(r);
	free(z);
	free(text);
}

static void test_missing_and_unreadable(void **state)
{
	char path[128];
	struct run *r;

	(void)state;
	tmp_path(path, sizeof(path), "no-such-file.txt");
	r = parse_file(path);
	assert_int_equal(r->rc, -ENOENT);
	assert_int_equal(r->d.errors, 1);
	assert_int_equal(r->s.n, 0);
	expect_report(r, DIAG_ERROR, 0, "cannot read registry file", "No such file");
	assert_string_equal(r->c.r[0].file, path);
	run_free(r);

	r = parse_file(tmpdir);
	assert_int_equal(r->rc, -EISDIR);
	expect_report(r, DIAG_ERROR, 0, "cannot read registry file", "Is a directory");
	run_free(r);
}

static void test_includes(void **state)
{
	struct run *r = parse_file(DATA "/dlc/top");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.includes, 2);
	assert_int_equal(r->st.regex_skipped, 2);
	assert_int_equal(r->s.n, 6);
	expect_entry(r, REG_DOMAIN, "top.example", 0, 2);
	expect_entry(r, REG_DOMAIN, "www.top.example", REG_F_EXACT, 3);
	expect_entry(r, REG_DOMAIN, "attr.example", 0, 7);
	expect_entry(r, REG_DOMAIN, "sub1.example", 0, 1);
	expect_entry(r, REG_DOMAIN, "sub2.example", REG_F_EXACT, 1);
	expect_entry(r, REG_DOMAIN, "sub2-plain.example", 0, 2);
	assert_string_equal(find(r, "sub2.example")->file, DATA "/dlc/sub2");
	assert_string_equal(find(r, "sub1.example")->file, DATA "/dlc/sub1");
	/* the files the daemon must watch beside the list's own */
	assert_int_equal(r->inc.n, 2);
	assert_string_equal(r->inc.path[0], DATA "/dlc/sub1");
	assert_string_equal(r->inc.path[1], DATA "/dlc/sub2");
	run_free(r);

	/* registry_parse_file records nothing and reads the same */
	r = run_new();
	r->rc = registry_parse_file(DATA "/dlc/top", collect, &r->s, &r->d, &r->st);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 6);
	assert_int_equal(r->inc.n, 0);
	run_free(r);
}

static void test_include_cycle(void **state)
{
	struct run *r = parse_file(DATA "/dlc/cycle-a");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.errors, 0);
	assert_int_equal(r->d.warnings, 1);
	assert_int_equal(r->s.n, 2);
	/* reported at the line of cycle-b that closes the loop */
	expect_report(r, DIAG_WARNING, 2, "include cycle",
		      DATA "/dlc/cycle-a -> " DATA "/dlc/cycle-b -> " DATA "/dlc/cycle-a");
	assert_string_equal(r->c.r[0].file, DATA "/dlc/cycle-b");
	/* each once, the one that closes the loop too */
	assert_int_equal(r->inc.n, 2);
	assert_string_equal(r->inc.path[0], DATA "/dlc/cycle-b");
	assert_string_equal(r->inc.path[1], DATA "/dlc/cycle-a");
	run_free(r);
}

static void test_include_missing(void **state)
{
	struct run *r = parse_file(DATA "/dlc/missing");

	(void)state;
	assert_int_equal(r->rc, -ENOENT);
	assert_int_equal(r->d.errors, 1);
	expect_report(r, DIAG_ERROR, 2, "no-such-file", "No such file");
	expect_entry(r, REG_DOMAIN, "missing.example", 0, 1);
	/* recorded though missing: creating it is the fix the daemon must notice */
	assert_int_equal(r->inc.n, 1);
	assert_string_equal(r->inc.path[0], DATA "/dlc/no-such-file");
	run_free(r);
}

static void test_include_depth(void **state)
{
	char path[128], text[64];
	struct run *r;
	int i;

	(void)state;
	/* f0 includes f1 ... f11 includes nothing: f0..f8 are read, f8's include is refused */
	for (i = 0; i < 12; i++) {
		snprintf(text, sizeof(text), "domain:d%d.example\ninclude:f%d\n", i, i + 1);
		snprintf(path, sizeof(path), "%s/f%d", tmpdir, i);
		write_file(path, text, strlen(text));
	}
	tmp_path(path, sizeof(path), "f0");
	r = parse_file(path);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->s.n, 9);
	assert_int_equal(r->st.includes, 8);
	assert_int_equal(r->d.warnings, 1);
	expect_report(r, DIAG_WARNING, 2, "include:f9", "deeper than 8");
	/* f1..f8: the refused f9 is not read, now or after a change */
	assert_int_equal(r->inc.n, 8);
	tmp_path(path, sizeof(path), "f8");
	assert_string_equal(r->inc.path[7], path);
	run_free(r);
}

static int count_only(void *ctx, const struct reg_entry *e)
{
	unsigned long *n = ctx;

	(*n) += e->kind == REG_DOMAIN;
	return 0;
}

/* 1M hosts-file names from a .gz must parse well under a second (DESIGN: lists of millions). */
static void test_speed_1m_gz(void **state)
{
	struct reg_stats st;
	struct diag d = { 0 };
	unsigned long n = 0;
	char path[128], line[96];
	uint64_t t0, dt;
	gzFile gz;
	int i, len;

	(void)state;
	tmp_path(path, sizeof(path), "1m.txt.gz");
	gz = gzopen(path, "wb1");
	assert_non_null(gz);
	gzbuffer(gz, 1 << 20);
	for (i = 0; i < 1000000; i++) {
		len = snprintf(line, sizeof(line), "0.0.0.0 ads%d.tracker-%d.example%d.com\n", i,
			       i % 7919, i % 101);
		assert_int_equal(gzwrite(gz, line, (unsigned int)len), len);
	}
	assert_int_equal(gzclose(gz), Z_OK);

	t0 = now_ns();
	assert_int_equal(registry_parse_file(path, count_only, &n, &d, &st), 0);
	dt = now_ns() - t0;
	print_message("# 1M names from .gz: %.0f ms\n", (double)dt / 1e6);
	assert_int_equal(n, 1000000);
	assert_int_equal(st.domains, 1000000);
	assert_int_equal(d.warnings + d.errors, 0);
	assert_true(dt < 1000000000ull);
}

/* ---- the real lists in shared/data/lists ---- */

static const char *shared_dir(void)
{
	const char *s = getenv("BPFGUARD_SHARED");

	return s && *s ? s : "../shared";
}

static struct run *parse_shared(const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data/lists/%s", shared_dir(), name);
	if (stat(path, &sb) != 0)
		fail_msg("%s: %s (set BPFGUARD_SHARED to the shared/ directory)", path,
			 strerror(errno));
	return parse_file(path);
}

static void test_real_spamhaus(void **state)
{
	struct run *r = parse_shared("spamhaus_drop_2024-02-27.txt");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->d.errors, 0);
	assert_int_equal(r->st.ip, 989);
	assert_int_equal(r->st.domains, 0);
	assert_int_equal(r->s.n, 989);
	expect_entry(r, REG_IP, "1.10.16.0/20", 0, 1);
	expect_entry(r, REG_IP, "223.254.0.0/16", 0, 989);
	run_free(r);

	r = parse_shared("spamhaus_dropv6_2024-02-27.txt");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.ip, 51);
	expect_entry(r, REG_IP, "2a12:2640::/29", 0, 1);
	run_free(r);
}

static void test_real_stevenblack(void **state)
{
	struct run *r = parse_shared("stevenblack_unified_hosts_2024-05-28.txt.gz");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->d.errors, 0);
	assert_int_equal(r->st.lines, 141925);
	assert_int_equal(r->st.domains, 141885);
	assert_int_equal(r->st.ip, 0);
	assert_int_equal(r->st.ignored_hosts, 14);
	assert_int_equal(r->st.comments, 26);
	expect_entry(r, REG_DOMAIN, "ck.getcookiestxt.com", 0, 29);
	/* an entry with an inline comment */
	assert_non_null(find(r, "docs.pipenv.org"));
	assert_int_equal(find(r, "docs.pipenv.org")->kind, REG_DOMAIN);
	run_free(r);
}

static void test_real_ut1(void **state)
{
	struct run *r = parse_shared("ut1_games.domains");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.lines, 33741);
	assert_int_equal(r->st.domains, 33715);
	assert_int_equal(r->st.ip, 26);
	expect_entry(r, REG_DOMAIN, "0000100.com", 0, 1);
	run_free(r);

	r = parse_shared("ut1_gambling.domains");
	assert_int_equal(r->d.warnings, 0);
	assert_int_equal(r->st.domains, 32233);
	assert_int_equal(r->st.ip, 14);
	run_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_wildcard),
		cmocka_unit_test(test_ip_and_netset),
		cmocka_unit_test(test_ip_malformed),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_hosts_malformed),
		cmocka_unit_test(test_adblock),
		cmocka_unit_test(test_dnsmasq),
		cmocka_unit_test(test_domain_list_community),
		cmocka_unit_test(test_names_malformed),
		cmocka_unit_test(test_idn),
		cmocka_unit_test(test_domain_normalize),
		cmocka_unit_test(test_ut1_ip_in_name_position),
		cmocka_unit_test(test_comments_crlf_bom),
		cmocka_unit_test(test_long_lines_and_nul),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_mixed_file),
		cmocka_unit_test(test_crlf_bom_files),
		cmocka_unit_test_setup_teardown(test_gz_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_gz_corrupt_and_truncated, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_unreadable, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_include_cycle),
		cmocka_unit_test(test_include_missing),
		cmocka_unit_test_setup_teardown(test_include_depth, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_speed_1m_gz, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_real_spamhaus),
		cmocka_unit_test(test_real_stevenblack),
		cmocka_unit_test(test_real_ut1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
