// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/config.c: every key and default, every error (the message must name the
 * key and come with the right line), every problem of a file reported (not only the first),
 * relative list paths, comments/CRLF/BOM, and the config of DESIGN.md.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "user/config.h"

#define DATA "tests/data/config"

struct report {
	int sev;
	int line;
	char file[256];
	char msg[512];
};

struct capture {
	struct report r[128];
	int n;
	struct diag d;
};

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

static struct capture *cap_new(void)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->d.cb = on_diag;
	c->d.ctx = c;
	return c;
}

static void cap_dump(const struct capture *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		print_message("report %d: %s:%d: %s\n", i, c->r[i].file, c->r[i].line, c->r[i].msg);
}

/* Parse text that must be accepted, with no report at all. */
static struct guard_config *parse_ok(const char *text)
{
	struct capture *c = cap_new();
	struct guard_config *cfg = NULL;
	int rc = config_parse("test.conf", "/etc/bpfguard", text, strlen(text), &c->d, &cfg);

	if (rc || c->n)
		cap_dump(c);
	assert_int_equal(rc, 0);
	assert_int_equal(c->n, 0);
	assert_non_null(cfg);
	free(c);
	return cfg;
}

/* Parse text that must be refused; returns the reports. *out must stay untouched. */
static struct capture *parse_bad(const char *text)
{
	struct capture *c = cap_new();
	struct guard_config *cfg = (struct guard_config *)(uintptr_t)0x1;
	int rc = config_parse("test.conf", "/etc/bpfguard", text, strlen(text), &c->d, &cfg);

	assert_int_equal(rc, -EINVAL);
	assert_ptr_equal(cfg, (struct guard_config *)(uintptr_t)0x1);
	assert_true(c->n > 0);
	assert_int_equal(c->d.errors, (unsigned int)c->n);
	return c;
}

static bool has_report(const struct capture *c, int line, const char *sub1, const char *sub2)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->r[i].sev == DIAG_ERROR && c->r[i].line == line &&
		    strcmp(c->r[i].file, "test.conf") == 0 && strstr(c->r[i].msg, sub1) &&
		    (!sub2 || strstr(c->r[i].msg, sub2)))
			return true;
	return false;
}

/* The text is refused with exactly one error, at line, whose message has sub1 (and sub2). */
static void expect_error(const char *text, int line, const char *sub1, const char *sub2)
{
	struct capture *c = parse_bad(text);

	if (c->n != 1 || !has_report(c, line, sub1, sub2)) {
		cap_dump(c);
		fail_msg("expected one error at line %d with '%s'%s%s", line, sub1,
			 sub2 ? " and " : "", sub2 ? sub2 : "");
	}
	free(c);
}

static void test_defaults(void **state)
{
	struct guard_config *cfg = parse_ok("[guard]\n");

	(void)state;
	assert_int_equal(cfg->n_ifaces, 0);
	assert_int_equal(cfg->n_tc_ingress, 0);
	assert_int_equal(cfg->n_tc_egress, 0);
	assert_int_equal(cfg->xdp_mode, XDP_MODE_AUTO);
	assert_int_equal(cfg->dns_action, DNS_ACT_NXDOMAIN);
	assert_int_equal(cfg->tcp_action, TCP_ACT_RESET);
	assert_int_equal(cfg->unexamined, UNEXAMINED_PASS);
	assert_int_equal(cfg->sinkhole4.family, 0);
	assert_int_equal(cfg->sinkhole6.family, 0);
	assert_int_equal(cfg->block_ttl, 10);
	assert_string_equal(cfg->metrics, "");
	assert_string_equal(cfg->state_dir, "/var/lib/bpfguard");
	assert_int_equal(cfg->n_lists, 0);
	assert_int_equal(cfg->n_categories, 0);
	assert_int_equal(cfg->n_schedules, 0);
	assert_int_equal(cfg->n_groups, 0);
	assert_string_equal(cfg->path, "test.conf");
	assert_string_equal(cfg->dir, "/etc/bpfguard");
	config_free(cfg);

	/* An empty file is a config with every default too. */
	cfg = parse_ok("");
	assert_int_equal(cfg->dns_action, DNS_ACT_NXDOMAIN);
	config_free(cfg);
}

static void test_guard_keys(void **state)
{
	struct guard_config *cfg = parse_ok("[guard]\n"
					    "interfaces = eth1, eth2 ,veth-long-name1\n"
					    "tc_ingress = lan0\n"
					    "tc_egress = wan0, wan1\n"
					    "xdp_mode = native\n"
					    "dns_action = sinkhole\n"
					    "tcp_action = drop\n"
					    "sinkhole4 = 192.0.2.1\n"
					    "sinkhole6 = 2001:db8::1\n"
					    "block_ttl = 86400\n"
					    "metrics = [::1]:9477\n"
					    "state_dir = /run/bpfguard\n");
	char buf[64];

	(void)state;
	assert_int_equal(cfg->n_ifaces, 3);
	assert_string_equal(cfg->ifaces[0], "eth1");
	assert_string_equal(cfg->ifaces[1], "eth2");
	assert_string_equal(cfg->ifaces[2], "veth-long-name1");
	assert_int_equal(cfg->n_tc_ingress, 1);
	assert_string_equal(cfg->tc_ingress[0], "lan0");
	assert_int_equal(cfg->n_tc_egress, 2);
	assert_string_equal(cfg->tc_egress[1], "wan1");
	assert_int_equal(cfg->xdp_mode, XDP_MODE_NATIVE);
	assert_int_equal(cfg->dns_action, DNS_ACT_SINKHOLE);
	assert_int_equal(cfg->tcp_action, TCP_ACT_DROP);
	assert_int_equal(cfg->sinkhole4.family, 4);
	assert_string_equal(ip_prefix_format(&cfg->sinkhole4, buf, sizeof(buf)), "192.0.2.1");
	assert_int_equal(cfg->sinkhole6.family, 6);
	assert_string_equal(ip_prefix_format(&cfg->sinkhole6, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(cfg->block_ttl, 86400);
	assert_string_equal(cfg->metrics, "[::1]:9477");
	assert_string_equal(cfg->state_dir, "/run/bpfguard");
	config_free(cfg);
}

static void test_guard_enum_values(void **state)
{
	static const struct {
		const char *text;
		size_t off;
		int want;
	} cases[] = {
		{ "xdp_mode = generic", offsetof(struct guard_config, xdp_mode), XDP_MODE_GENERIC },
		{ "xdp_mode = auto", offsetof(struct guard_config, xdp_mode), XDP_MODE_AUTO },
		{ "xdp_mode = NATIVE", offsetof(struct guard_config, xdp_mode), XDP_MODE_NATIVE },
		{ "dns_action = drop", offsetof(struct guard_config, dns_action), DNS_ACT_DROP },
		{ "dns_action = refused", offsetof(struct guard_config, dns_action),
		  DNS_ACT_REFUSED },
		{ "dns_action = nxdomain", offsetof(struct guard_config, dns_action),
		  DNS_ACT_NXDOMAIN },
		{ "tcp_action = reset", offsetof(struct guard_config, tcp_action), TCP_ACT_RESET },
		{ "tcp_action = drop", offsetof(struct guard_config, tcp_action), TCP_ACT_DROP },
		{ "unexamined = block", offsetof(struct guard_config, unexamined),
		  UNEXAMINED_BLOCK },
		{ "unexamined = Pass", offsetof(struct guard_config, unexamined), UNEXAMINED_PASS },
		{ "block_ttl = 0", offsetof(struct guard_config, block_ttl), 0 },
	};
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct guard_config *cfg;

		snprintf(text, sizeof(text), "[guard]\n%s\n", cases[i].text);
		cfg = parse_ok(text);
		assert_int_equal(*(int *)((char *)cfg + cases[i].off), cases[i].want);
		config_free(cfg);
	}
}

static void test_guard_interfaces_none_and_metrics_off(void **state)
{
	struct guard_config *cfg = parse_ok("[guard]\ninterfaces = none\nmetrics = off\n"
					    "tc_ingress =\n");

	(void)state;
	assert_int_equal(cfg->n_ifaces, 0);
	assert_int_equal(cfg->n_tc_ingress, 0);
	assert_string_equal(cfg->metrics, "");
	config_free(cfg);
	cfg = parse_ok("[guard]\ninterfaces =\nmetrics =\n");
	assert_int_equal(cfg->n_ifaces, 0);
	assert_string_equal(cfg->metrics, "");
	config_free(cfg);
	cfg = parse_ok("[guard]\nmetrics = 127.0.0.1:9477\ndns_action = sinkhole\n"
		       "sinkhole6 = 2001:db8::53\n");
	assert_string_equal(cfg->metrics, "127.0.0.1:9477");
	assert_int_equal(cfg->dns_action, DNS_ACT_SINKHOLE);
	config_free(cfg);
}

static void test_guard_errors(void **state)
{
	(void)state;
	expect_error("[guard]\ninterface = eth1\n", 2, "unknown key 'interface' in [guard]",
		     "did you mean 'interfaces'?");
	expect_error("[guard]\nxdp_mode = fast\n", 2,
		     "xdp_mode: 'fast' is not one of native, generic, auto", NULL);
	expect_error("[guard]\n\ndns_action = block\n", 3, "dns_action: 'block'",
		     "drop, nxdomain, refused, sinkhole");
	expect_error("[guard]\ntcp_action = rst\n", 2, "tcp_action: 'rst'", "drop, reset");
	expect_error("[guard]\nunexamined = drop\n", 2, "unexamined: 'drop'", "pass, block");
	expect_error("[guard]\ndns_action = sinkhole\n", 2, "dns_action", "sinkhole4");
	expect_error("[guard]\nsinkhole4 = 2001:db8::1\n", 2, "sinkhole4", "IPv4");
	expect_error("[guard]\nsinkhole4 = 192.0.2.0/24\n", 2, "sinkhole4", "IPv4");
	expect_error("[guard]\nsinkhole6 = 192.0.2.1\n", 2, "sinkhole6", "IPv6");
	expect_error("[guard]\nblock_ttl = 86401\n", 2, "block_ttl", "0..86400");
	expect_error("[guard]\nblock_ttl = -1\n", 2, "block_ttl", NULL);
	expect_error("[guard]\nblock_ttl = 10s\n", 2, "block_ttl", NULL);
	expect_error("[guard]\nmetrics = 127.0.0.1\n", 2, "metrics", "host:port");
	expect_error("[guard]\nmetrics = localhost:9477\n", 2, "metrics", "host:port");
	expect_error("[guard]\nmetrics = 127.0.0.1:0\n", 2, "metrics", "1-65535");
	expect_error("[guard]\nmetrics = 127.0.0.1:65536\n", 2, "metrics", "1-65535");
	expect_error("[guard]\nmetrics = [::1:9477\n", 2, "metrics", "host:port");
	expect_error("[guard]\nmetrics = ::1:9477\n", 2, "metrics", "host:port");
	expect_error("[guard]\nstate_dir = var/lib\n", 2, "state_dir", "absolute");
	expect_error("[guard]\ninterfaces = eth0, averyveryverylongname\n", 2, "interfaces",
		     "longer than 15");
	expect_error("[guard]\ntc_egress = eth0,,eth1\n", 2, "tc_egress", "empty interface");
	expect_error("[guard]\ntc_ingress = eth0, eth0\n", 2, "tc_ingress", "twice");
	expect_error("[guard]\ninterfaces = a/b\n", 2, "interfaces", "not a valid interface");
	expect_error("[guard]\ninterfaces = a,b,c,d,e,f,g,h,i\n", 2, "interfaces", "more than 8");
	expect_error("[guard]\nxdp_mode = auto\nxdp_mode = native\n", 3,
		     "duplicate key 'xdp_mode' in [guard]", NULL);
	expect_error("[guard]\n[guard]\n", 2, "second [guard]", NULL);
	expect_error("[guard extra]\n", 1, "[guard] takes no name", NULL);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("interfaces = eth0\n", 1, "'interfaces =' before any section", NULL);
	expect_error("[guard]\ninterfaces eth0\n", 2, "'interfaces eth0': no '='", NULL);
	expect_error("[guard]\n = eth0\n", 2, "no key before '='", NULL);
	expect_error("[gaurd]\ninterfaces = eth0\n", 1, "unknown section [gaurd]",
		     "did you mean 'guard'?");
	expect_error("[lists adult]\npath = x\n", 1, "unknown section [lists]",
		     "did you mean 'list'?");
	expect_error("[guard\n", 1, "not closed by ']'", NULL);
	expect_error("[guard] x\n", 1, "not closed by ']'", NULL);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[guard]\nxdp_mode = auto\0\ntcp_action = drop\n";
	struct capture *c = cap_new();
	struct guard_config *cfg = NULL;

	(void)state;
	assert_int_equal(config_parse("test.conf", NULL, text, sizeof(text) - 1, &c->d, &cfg),
			 -EINVAL);
	assert_null(cfg);
	assert_int_equal(c->n, 1);
	assert_true(has_report(c, 2, "NUL byte", NULL));
	free(c);
}

static void test_every_error_reported(void **state)
{
	struct capture *c = parse_bad("[guard]\n"
				      "xdp_mode = fast\n"
				      "interface = eth1\n"
				      "[list a]\n"
				      "category = Bad Name\n"
				      "[list a]\n"
				      "path = x\n"
				      "[group g]\n"
				      "clients = 192.0.2.1/24\n"
				      "block = nosuch@never\n");

	(void)state;
	assert_true(has_report(c, 2, "xdp_mode", NULL));
	assert_true(has_report(c, 3, "interface", NULL));
	assert_true(has_report(c, 5, "category", "not a category name"));
	assert_true(has_report(c, 4, "[list a] has neither path = nor url =", NULL));
	assert_true(has_report(c, 6, "duplicate [list a]", NULL));
	assert_true(has_report(c, 9, "clients", "did you mean 192.0.2.0/24?"));
	assert_true(has_report(c, 10, "unknown category 'nosuch'", NULL));
	assert_true(has_report(c, 10, "unknown schedule 'never'", NULL));
	/* a bad value is reported once: not again as "no category =" or "no clients =" */
	assert_int_equal(c->n, 8);
	free(c);
}

static void test_lists(void **state)
{
	struct guard_config *cfg = parse_ok("[list adult]\n"
					    "path = /etc/bpfguard/registry/adult.txt.gz\n"
					    "category = adult\n"
					    "action = block\n"
					    "[list ok.Sites_1]\n"
					    "path = registry/ok.txt\n"
					    "category = adult\n"
					    "action = allow\n"
					    "match = exact\n"
					    "[list drop]\n"
					    "url = https://www.spamhaus.org/drop/drop.txt\n"
					    "category = bad-ip\n"
					    "direction = both\n"
					    "[list src]\n"
					    "path = src.txt\n"
					    "category = bad_src\n"
					    "direction = source\n"
					    "match = subtree\n"
					    "[list dst]\n"
					    "path = ../dst.txt\n"
					    "category = bad-ip\n"
					    "direction = destination\n");
	const struct cfg_list *l;

	(void)state;
	assert_int_equal(cfg->n_lists, 5);
	assert_int_equal(cfg->n_categories, 3);
	assert_string_equal(cfg->categories[0], "adult");
	assert_string_equal(cfg->categories[1], "bad-ip");
	assert_string_equal(cfg->categories[2], "bad_src");
	assert_int_equal(config_category(cfg, "adult"), 0);
	assert_int_equal(config_category(cfg, "bad-ip"), 1);
	assert_int_equal(config_category(cfg, "bad_src"), 2);
	assert_int_equal(config_category(cfg, "games"), -1);

	l = &cfg->lists[0];
	assert_string_equal(l->name, "adult");
	assert_string_equal(l->path, "/etc/bpfguard/registry/adult.txt.gz");
	assert_null(l->url);
	assert_string_equal(l->category, "adult");
	assert_int_equal(l->category_id, 0);
	assert_int_equal(l->action, LIST_BLOCK);
	assert_int_equal(l->direction, LIST_DIR_DST);
	assert_int_equal(l->match, LIST_MATCH_SUBTREE);
	assert_int_equal(l->line, 1);

	l = &cfg->lists[1];
	assert_string_equal(l->name, "ok.Sites_1");
	assert_string_equal(l->path, "/etc/bpfguard/registry/ok.txt");
	assert_int_equal(l->action, LIST_ALLOW);
	assert_int_equal(l->match, LIST_MATCH_EXACT);
	assert_int_equal(l->category_id, 0);
	assert_int_equal(l->line, 5);

	l = &cfg->lists[2];
	assert_null(l->path);
	assert_string_equal(l->url, "https://www.spamhaus.org/drop/drop.txt");
	assert_int_equal(l->direction, LIST_DIR_BOTH);
	assert_int_equal(l->category_id, 1);
	assert_int_equal(l->action, LIST_BLOCK);

	l = &cfg->lists[3];
	assert_string_equal(l->path, "/etc/bpfguard/src.txt");
	assert_int_equal(l->direction, LIST_DIR_SRC);
	assert_int_equal(l->category_id, 2);

	l = &cfg->lists[4];
	assert_string_equal(l->path, "/etc/bpfguard/../dst.txt");
	assert_int_equal(l->direction, LIST_DIR_DST);
	assert_int_equal(l->category_id, 1);
	config_free(cfg);
}

static void test_list_errors(void **state)
{
	char *text;
	size_t off, cap = 256 * 64;
	int i;

	(void)state;
	expect_error("[list a]\ncategory = x\n", 1, "[list a] has neither path = nor url =", NULL);
	expect_error("[list a]\npath = p\nurl = http://x/\ncategory = x\n", 1, "[list a] has both",
		     NULL);
	expect_error("[list a]\npath = p\n", 1, "[list a] has no category =", NULL);
	expect_error("[list a]\npath = p\ncategory = Adult\n", 3, "category: 'Adult'", "a-z, 0-9");
	expect_error("[list a]\npath = p\ncategory = a23456789012345678901234567890123\n", 3,
		     "category", "1-31");
	expect_error("[list a]\npath = p\ncategory = x\naction = deny\n", 4,
		     "action: 'deny' is not one of block, allow", NULL);
	expect_error("[list a]\npath = p\ncategory = x\ndirection = dst\n", 4,
		     "direction: 'dst' is not one of destination, source, both", NULL);
	expect_error("[list a]\npath = p\ncategory = x\nmatch = prefix\n", 4,
		     "match: 'prefix' is not one of subtree, exact", NULL);
	expect_error("[list a]\npath = p\ncategory = x\ncategroy = y\n", 4,
		     "unknown key 'categroy' in [list a]", "did you mean 'category'?");
	expect_error("[list a]\npath = p\npath = q\ncategory = x\n", 3,
		     "duplicate key 'path' in [list a]", NULL);
	expect_error("[list a]\npath =\ncategory = x\n", 2, "path: empty", NULL);
	expect_error("[list a]\nurl = ftp://x/y\ncategory = x\n", 2, "url: 'ftp://x/y'", "http://");
	expect_error("[list]\n", 1, "[list] needs a name", NULL);
	expect_error("[list a b]\n", 1, "[list a b]", "name must be");
	expect_error("[list a/b]\n", 1, "[list a/b]", "name must be");
	expect_error("[list a23456789012345678901234567890123456789012345678]\n", 1, "[list",
		     "1-47");
	expect_error("[list a]\npath = p\ncategory = x\n[list a]\npath = q\ncategory = x\n", 4,
		     "duplicate [list a]", NULL);

	/* 65 categories: the 65th is refused at its category line. */
	text = malloc(cap);
	assert_non_null(text);
	off = 0;
	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"[list l%d]\npath = p\ncategory = c%d\n", i, i);
	expect_error(text, 64 * 3 + 3, "category: 'c64'", "at most 64 categories");
	/* 257 lists (sharing categories): the 257th header is refused. */
	off = 0;
	for (i = 0; i < 257; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"[list l%d]\npath = p\ncategory = c\n", i);
	expect_error(text, 256 * 3 + 1, "[list l256]", "more than 256 lists");
	free(text);
}

/* sha256 =, refresh =, max_size =, timeout =: defaults, units, upper-case hex. */
static void test_list_url_keys(void **state)
{
	struct guard_config *cfg = parse_ok(
		"[list plain]\n"
		"url = http://192.0.2.1/list.txt\n"
		"category = c\n"
		"[list tuned]\n"
		"url = https://192.0.2.1/list.txt.gz\n"
		"category = c\n"
		"sha256 = E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n"
		"refresh = 30m\n"
		"max_size = 50M\n"
		"timeout = 90\n"
		"[list units]\n"
		"url = http://192.0.2.1/x\n"
		"category = c\n"
		"refresh = 60\n"
		"max_size = 512kB\n"
		"timeout = 2m\n"
		"[list days]\n"
		"url = http://192.0.2.1/y\n"
		"category = c\n"
		"refresh = 1D\n"
		"max_size = 1048577\n"
		"timeout = 1h\n"
		"[list local]\n"
		"path = /etc/bpfguard/registry/local.txt\n"
		"category = c\n");
	const struct cfg_list *l;

	(void)state;
	assert_int_equal(cfg->n_lists, 5);
	l = &cfg->lists[0];
	assert_string_equal(l->sha256, "");
	assert_int_equal(l->refresh, 6 * 3600);
	assert_true(l->max_size == 200ULL * 1024 * 1024);
	assert_int_equal(l->timeout, 60);

	l = &cfg->lists[1];
	assert_string_equal(l->sha256,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(l->refresh, 1800);
	assert_true(l->max_size == 50ULL * 1024 * 1024);
	assert_int_equal(l->timeout, 90);

	l = &cfg->lists[2];
	assert_int_equal(l->refresh, 60);
	assert_true(l->max_size == 512ULL * 1024);
	assert_int_equal(l->timeout, 120);

	l = &cfg->lists[3];
	assert_int_equal(l->refresh, 86400);
	assert_true(l->max_size == 1048577ULL);
	assert_int_equal(l->timeout, 3600);

	/* A path = list keeps the defaults, unused. */
	l = &cfg->lists[4];
	assert_string_equal(l->sha256, "");
	assert_int_equal(l->refresh, 6 * 3600);
	config_free(cfg);
}

static void test_list_url_key_errors(void **state)
{
	static const char head[] = "[list a]\nurl = http://192.0.2.1/l\ncategory = x\n";
	static const struct {
		const char *line;
		const char *sub1, *sub2;
	} cases[] = {
		{ "sha256 = abc", "sha256: 'abc'", "64 hexadecimal digits" },
		{ "sha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
		  "sha256", "64 hexadecimal" },
		{ "sha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
		  "sha256", "64 hexadecimal" },
		{ "sha256 = g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "sha256", "64 hexadecimal" },
		{ "sha256 =", "sha256: ''", NULL },
		{ "refresh = 59", "refresh: 59 s is shorter than the minimum of 60 s", NULL },
		{ "refresh = 30s", "refresh: 30 s is shorter", NULL },
		{ "refresh = 0", "refresh: 0 s", NULL },
		{ "refresh = 31d", "refresh: '31d'", "30 days" },
		{ "refresh = 6 h", "refresh: '6 h'", "30m, 6h, 1d" },
		{ "refresh = 6hours", "refresh: '6hours'", NULL },
		{ "refresh = -5", "refresh: '-5'", NULL },
		{ "refresh = h", "refresh: 'h'", NULL },
		{ "refresh = 99999999999999999999999", "refresh: '9999", NULL },
		{ "max_size = 0", "max_size: 0 would refuse every download", NULL },
		{ "max_size = 50X", "max_size: '50X'", "K, M or G" },
		{ "max_size = 17G", "max_size: '17G'", "16G" },
		{ "max_size = 50MiB", "max_size: '50MiB'", NULL },
		{ "max_size = M", "max_size: 'M'", NULL },
		{ "timeout = 0", "timeout: '0'", "1 s to 1 h" },
		{ "timeout = 2h", "timeout: '2h'", NULL },
		{ "timeout = 1.5", "timeout: '1.5'", NULL },
	};
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, cases[i].line);
		expect_error(text, 4, cases[i].sub1, cases[i].sub2);
	}

	/* Beside path =, each url-only key is an error at its own line. */
	{
		struct capture *c =
			parse_bad("[list a]\n"
				  "path = /x\n"
				  "category = x\n"
				  "sha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b9"
				  "34ca495991b7852b855\n"
				  "refresh = 1h\n"
				  "max_size = 1M\n"
				  "timeout = 5\n");

		if (c->n != 4 || !has_report(c, 4, "sha256: only a url = list", "[list a]") ||
		    !has_report(c, 5, "refresh: only a url = list", NULL) ||
		    !has_report(c, 6, "max_size: only a url = list", NULL) ||
		    !has_report(c, 7, "timeout: only a url = list", "remove the key")) {
			cap_dump(c);
			fail_msg("expected four url-only errors at lines 4-7");
		}
		free(c);
	}
	expect_error("[list a]\nurl = http://192.0.2.1/l\ncategory = x\nrefersh = 1h\n", 4,
		     "unknown key 'refersh' in [list a]", "did you mean 'refresh'?");
	expect_error("[list a]\nurl = http://192.0.2.1/l\ncategory = x\ntimeout = 5\ntimeout = 6\n",
		     5, "duplicate key 'timeout'", NULL);
}

static void test_schedules(void **state)
{
	struct guard_config *cfg = parse_ok("[schedule school]\n"
					    "mon-fri = 08:00-12:00, 13:30-16:30\n"
					    "timezone = Europe/Paris\n"
					    "[schedule night]\n"
					    "daily = 22:00-06:30\n"
					    "timezone = CET-1CEST,M3.5.0,M10.5.0/3\n"
					    "[schedule weekend]\n"
					    "sat,sun = 00:00-24:00\n"
					    "fri-mon = 9:05-10:00\n"
					    "Wed = 23:59-24:00\n"
					    "sun-sun = 00:00-00:01\n");
	const struct cfg_schedule *s;

	(void)state;
	assert_int_equal(cfg->n_schedules, 3);
	s = &cfg->schedules[0];
	assert_string_equal(s->name, "school");
	assert_string_equal(s->timezone, "Europe/Paris");
	assert_int_equal(s->line, 1);
	assert_int_equal(s->n_windows, 2);
	assert_int_equal(s->windows[0].days, 0x1f);
	assert_int_equal(s->windows[0].start, 8 * 60);
	assert_int_equal(s->windows[0].end, 12 * 60);
	assert_int_equal(s->windows[1].days, 0x1f);
	assert_int_equal(s->windows[1].start, 13 * 60 + 30);
	assert_int_equal(s->windows[1].end, 16 * 60 + 30);

	s = &cfg->schedules[1];
	/* a POSIX TZ rule, for machines without the zone database */
	assert_string_equal(s->timezone, "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(s->n_windows, 1);
	assert_int_equal(s->windows[0].days, 0x7f);
	assert_int_equal(s->windows[0].start, 22 * 60);
	assert_int_equal(s->windows[0].end, 6 * 60 + 30); /* end < start: crosses midnight */

	s = &cfg->schedules[2];
	assert_int_equal(s->n_windows, 4);
	assert_int_equal(s->windows[0].days, 0x60); /* sat, sun */
	assert_int_equal(s->windows[0].start, 0);
	assert_int_equal(s->windows[0].end, 1440);
	assert_int_equal(s->windows[1].days, 0x71); /* fri, sat, sun, mon */
	assert_int_equal(s->windows[1].start, 9 * 60 + 5);
	assert_int_equal(s->windows[2].days, 0x04); /* wed */
	assert_int_equal(s->windows[2].start, 23 * 60 + 59);
	assert_int_equal(s->windows[2].end, 1440);
	assert_int_equal(s->windows[3].days, 0x40);
	config_free(cfg);
}

static void test_schedule_errors(void **state)
{
	char text[2048];
	size_t off;
	int i;

	(void)state;
	expect_error("[schedule s]\nmon-fry = 08:00-09:00\n", 2, "unknown key 'mon-fry'",
		     "mon-fri");
	expect_error("[schedule s]\nmon = 8-9\n", 2, "mon: '8-9'", "HH:MM-HH:MM");
	expect_error("[schedule s]\nmon = 08:00-24:01\n", 2, "mon: '08:00-24:01'", NULL);
	expect_error("[schedule s]\nmon = 24:00-08:00\n", 2, "mon: '24:00-08:00'", NULL);
	expect_error("[schedule s]\nmon = 08:60-09:00\n", 2, "mon: '08:60-09:00'", NULL);
	expect_error("[schedule s]\nmon = 08:00-08:00\n", 2, "mon: window '08:00-08:00' is empty",
		     NULL);
	expect_error("[schedule s]\nmon =\n", 2, "mon: no time window", NULL);
	expect_error("[schedule s]\nmon = 08:00-09:00\nmon = 10:00-11:00\n", 3,
		     "duplicate key 'mon' in [schedule s]", NULL);
	expect_error("[schedule s]\ntimezone = UTC\n", 1, "[schedule s] has no time windows", NULL);
	expect_error("[schedule s]\nmon = 08:00-09:00\ntimezone = Europe/Pariss\n", 3,
		     "timezone: 'Europe/Pariss' is not a known time zone", NULL);
	expect_error("[schedule s]\nmon = 08:00-09:00\ntimezone = ../../etc/passwd\n", 3,
		     "timezone", "neither a time zone name");
	expect_error("[schedule s]\nmon = 08:00-09:00\ntimezone = CET-1CEST,M13.5.0\n", 3,
		     "timezone", "nor a POSIX TZ rule");
	expect_error("[schedule s]\nmon = 08:00-09:00\n[schedule s]\nmon = 08:00-09:00\n", 3,
		     "duplicate [schedule s]", NULL);
	/* 17 windows */
	off = (size_t)snprintf(text, sizeof(text), "[schedule s]\nmon = ");
	for (i = 0; i < 17; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%02d:00-%02d:30",
					i ? ", " : "", i, i);
	snprintf(text + off, sizeof(text) - off, "\n");
	expect_error(text, 2, "more than 16 time windows", NULL);
}

static void test_groups(void **state)
{
	struct guard_config *cfg =
		parse_ok("[list adult]\npath = a\ncategory = adult\n"
			 "[list games]\npath = g\ncategory = games\n"
			 "[list ok]\npath = o\ncategory = ok\naction = allow\n"
			 "[group pupils]\n"
			 "clients = 192.0.2.0/25, 2001:db8:1::/64, 198.51.100.7\n"
			 "macs = aa:bb:cc:dd:ee:ff, 02-00-00-00-00-01\n"
			 "block = adult, games@school, games@evening\n"
			 "allow = ok\n"
			 "[group staff]\n"
			 "macs = 02:00:00:00:00:02\n"
			 "[schedule school]\n"
			 "mon-fri = 08:00-16:30\n"
			 "[schedule evening]\n"
			 "daily = 20:00-23:00\n");
	const struct cfg_group *g;
	char buf[64];

	(void)state;
	assert_int_equal(cfg->n_groups, 2);
	g = &cfg->groups[0];
	assert_string_equal(g->name, "pupils");
	assert_int_equal(g->line, 11);
	assert_int_equal(g->n_clients, 3);
	assert_string_equal(ip_prefix_format(&g->clients[0], buf, sizeof(buf)), "192.0.2.0/25");
	assert_string_equal(ip_prefix_format(&g->clients[1], buf, sizeof(buf)), "2001:db8:1::/64");
	assert_string_equal(ip_prefix_format(&g->clients[2], buf, sizeof(buf)), "198.51.100.7");
	assert_int_equal(g->n_macs, 2);
	assert_memory_equal(g->macs[0], "\xaa\xbb\xcc\xdd\xee\xff", 6);
	assert_memory_equal(g->macs[1], "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(g->n_block, 3);
	assert_int_equal(g->block[0].category_id, 0);
	assert_int_equal(g->block[0].schedule, -1);
	assert_int_equal(g->block[1].category_id, 1);
	assert_int_equal(g->block[1].schedule, 0); /* defined after the group */
	assert_int_equal(g->block[2].category_id, 1);
	assert_int_equal(g->block[2].schedule, 1);
	assert_int_equal(g->n_allow, 1);
	assert_int_equal(g->allow[0].category_id, 2);
	assert_int_equal(g->allow[0].schedule, -1);
	g = &cfg->groups[1];
	assert_int_equal(g->n_clients, 0);
	assert_int_equal(g->n_macs, 1);
	assert_int_equal(g->n_block, 0);
	config_free(cfg);
}

static void test_group_errors(void **state)
{
	char text[4096];
	size_t off;
	int i;

	(void)state;
	expect_error("[list a]\npath = p\ncategory = adult\n[list b]\npath = p\ncategory = games\n"
		     "[group g]\nclients = 192.0.2.0/24\nblock = adult, x\n",
		     9, "block: unknown category 'x'",
		     "(categories come from [list] sections: adult, games)");
	expect_error("[group g]\nclients = 192.0.2.0/24\nallow = x\n", 3,
		     "allow: unknown category 'x'", "there is none");
	expect_error("[list a]\npath = p\ncategory = adult\n[schedule school]\nmon = 08:00-09:00\n"
		     "[group g]\nclients = 192.0.2.0/24\nblock = adult@scool\n",
		     8, "block: unknown schedule 'scool'", "schedules: school");
	expect_error("[list a]\npath = p\ncategory = adult\n"
		     "[group g]\nclients = 192.0.2.0/24\nblock = adult@never\n",
		     6, "unknown schedule 'never'", "no [schedule NAME]");
	expect_error("[group g]\nclients = 192.0.2.1/24\n", 2, "clients: '192.0.2.1/24'",
		     "did you mean 192.0.2.0/24?");
	expect_error("[group g]\nclients = 2001:db8::1/64\n", 2, "clients",
		     "did you mean 2001:db8::/64?");
	expect_error("[group g]\nclients = 192.0.2.0/33\n", 2, "clients: '192.0.2.0/33'",
		     "out of range");
	expect_error("[group g]\nclients = pupils-net\n", 2, "clients: 'pupils-net'",
		     "not an IP address");
	expect_error("[group g]\nmacs = aa:bb:cc:dd:ee\n", 2, "macs: 'aa:bb:cc:dd:ee'",
		     "aa:bb:cc:dd:ee:ff");
	expect_error("[group g]\nmacs = aa:bb:cc:dd:ee:fg\n", 2, "macs", NULL);
	expect_error("[group g]\n", 1, "[group g] has no clients = or macs =", NULL);
	expect_error("[group g]\nclients = 192.0.2.0/24\nblok = x\n", 3,
		     "unknown key 'blok' in [group g]", "did you mean 'block'?");
	expect_error("[group g]\nclients = 192.0.2.0/24\nblock = Adult\n", 3, "block: 'Adult'",
		     "not a category name");
	expect_error("[group g]\nclients = 192.0.2.0/24\nblock = a@b c\n", 3, "block: 'b c'",
		     "schedule");
	expect_error("[group g]\nclients = 192.0.2.0/24\n[group g]\nclients = 192.0.2.0/24\n", 3,
		     "duplicate [group g]", NULL);
	/* 65 clients */
	off = (size_t)snprintf(text, sizeof(text), "[group g]\nclients = ");
	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s192.0.2.%d",
					i ? "," : "", i);
	snprintf(text + off, sizeof(text) - off, "\n");
	expect_error(text, 2, "clients: more than 64", NULL);
}

static void test_comments_crlf_bom(void **state)
{
	const char *text = "\xef\xbb\xbf; a comment\r\n"
			   "# another\r\n"
			   "\r\n"
			   "  [guard]   ; the guard\r\n"
			   "interfaces = eth1   ; comment\r\n"
			   "tc_ingress = lan0\r\n"
			   "xdp_mode=generic#comment needs whitespace\r\n"
			   "   tcp_action\t=\tdrop\t# tab comment\r\n"
			   "[list a]\r\n"
			   "url = http://example.org/list#frag\r\n"
			   "category = adult";

	struct capture *c = cap_new();
	struct guard_config *cfg = NULL;
	int rc;

	(void)state;
	rc = config_parse("test.conf", NULL, text, strlen(text), &c->d, &cfg);
	/* A comment starts after whitespace: `generic#comment...` is the value, and wrong. */
	assert_int_equal(rc, -EINVAL);
	assert_true(has_report(c, 7, "xdp_mode: 'generic#comment needs whitespace'", NULL));
	assert_int_equal(c->n, 1);
	free(c);

	cfg = parse_ok("\xef\xbb\xbf; a comment\r\n"
		       "# another\r\n"
		       "\r\n"
		       "  [guard]   ; the guard\r\n"
		       "interfaces = eth1   ; comment\r\n"
		       "tc_ingress = lan0#x\r\n"
		       "xdp_mode=generic\t#comment\r\n"
		       "   tcp_action\t=\tdrop\t# tab comment\r\n"
		       "[list a]\r\n"
		       "url = http://example.org/list#frag\r\n"
		       "category = adult");
	assert_int_equal(cfg->n_ifaces, 1);
	assert_string_equal(cfg->ifaces[0], "eth1");
	assert_string_equal(cfg->tc_ingress[0], "lan0#x"); /* no whitespace: not a comment */
	assert_int_equal(cfg->xdp_mode, XDP_MODE_GENERIC);
	assert_int_equal(cfg->tcp_action, TCP_ACT_DROP);
	assert_string_equal(cfg->lists[0].url, "http://example.org/list#frag");
	assert_string_equal(cfg->lists[0].category, "adult");
	config_free(cfg);
}

static void test_design_config(void **state)
{
	/* DESIGN.md's example verbatim names two categories no [list] defines: refused. */
	static const char design[] =
		"[guard]\n"
		"interfaces = eth1              ; none: replay/check only\n"
		"xdp_mode = auto                ; native | generic | auto\n"
		"dns_action = nxdomain          ; drop | nxdomain | refused | sinkhole\n"
		"tcp_action = reset             ; drop | reset\n"
		"metrics = 127.0.0.1:9477\n"
		"\n"
		"[list adult]\n"
		"path = /etc/bpfguard/registry/adult.txt.gz\n"
		"category = adult\n"
		"action = block\n"
		"\n"
		"[schedule school]\n"
		"mon-fri = 08:00-12:00, 13:30-16:30\n"
		"\n"
		"[group pupils]\n"
		"clients = 192.0.2.0/25, 2001:db8:1::/64\n"
		"block = adult, gambling, games@school   ; games only while 'school' is active\n";
	struct capture *c = parse_bad(design);

	(void)state;
	assert_int_equal(c->n, 2);
	assert_true(has_report(c, 18, "unknown category 'gambling'", "sections: adult"));
	assert_true(has_report(c, 18, "unknown category 'games'", NULL));
	free(c);
}

static void test_load_shipped(void **state)
{
	struct capture *c = cap_new();
	struct guard_config *cfg = NULL;
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	const struct cfg_group *g;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(config_load(DATA "/shipped.conf", &c->d, &cfg), 0);
	assert_int_equal(c->n, 0);
	assert_string_equal(cfg->path, DATA "/shipped.conf");
	snprintf(want, sizeof(want), "%s/%s", cwd, DATA);
	assert_string_equal(cfg->dir, want);
	assert_int_equal(cfg->n_ifaces, 1);
	assert_string_equal(cfg->ifaces[0], "eth1");
	assert_int_equal(cfg->xdp_mode, XDP_MODE_AUTO);
	assert_string_equal(cfg->metrics, "127.0.0.1:9477");
	assert_int_equal(cfg->n_lists, 3);
	assert_string_equal(cfg->lists[0].path, "/etc/bpfguard/registry/adult.txt.gz");
	/* relative paths resolve against the config's directory, made absolute */
	snprintf(want, sizeof(want), "%s/%s/registry/gambling.txt", cwd, DATA);
	assert_string_equal(cfg->lists[1].path, want);
	assert_int_equal(access(cfg->lists[1].path, R_OK), 0);
	assert_int_equal(access(cfg->lists[2].path, R_OK), 0);
	assert_int_equal(cfg->n_categories, 3);
	assert_int_equal(cfg->n_schedules, 1);
	assert_int_equal(cfg->n_groups, 1);
	g = &cfg->groups[0];
	assert_int_equal(g->n_clients, 2);
	assert_int_equal(g->n_block, 3);
	assert_int_equal(g->block[2].category_id, config_category(cfg, "games"));
	assert_int_equal(g->block[2].schedule, 0);
	config_free(cfg);
	free(c);
}

static void test_load_errors(void **state)
{
	struct capture *c = cap_new();
	struct guard_config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load(DATA "/no-such.conf", &c->d, &cfg), -ENOENT);
	assert_null(cfg);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->r[0].line, 0);
	assert_int_equal(c->r[0].sev, DIAG_ERROR);
	assert_string_equal(c->r[0].file, DATA "/no-such.conf");
	assert_string_equal(c->r[0].msg, "cannot read config: No such file or directory");
	c->n = 0;
	assert_int_equal(config_load(DATA, &c->d, &cfg), -EISDIR);
	assert_int_equal(c->n, 1);
	assert_non_null(strstr(c->r[0].msg, "Is a directory"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_guard_keys),
		cmocka_unit_test(test_guard_enum_values),
		cmocka_unit_test(test_guard_interfaces_none_and_metrics_off),
		cmocka_unit_test(test_guard_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_list_url_keys),
		cmocka_unit_test(test_list_url_key_errors),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_schedule_errors),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_group_errors),
		cmocka_unit_test(test_comments_crlf_bom),
		cmocka_unit_test(test_design_config),
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
