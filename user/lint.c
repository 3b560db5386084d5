// SPDX-License-Identifier: GPL-2.0-only
/* `lint`: every problem of every file as file:line: message, then a count line. */
#include <stdio.h>
#include "user/lint.h"
#include "user/log.h"
#include "user/registry.h"

struct lint_ctx {
	FILE *out;
};

static void on_problem(void *ctx, enum diag_severity sev, const char *file, int line,
		       const char *msg)
{
	struct lint_ctx *l = ctx;

	if (line > 0)
		fprintf(l->out, "%s:%d: %s: %s\n", file, line, sev ? "error" : "warning", msg);
	else
		fprintf(l->out, "%s: %s: %s\n", file, sev ? "error" : "warning", msg);
}

static int count_entry(void *ctx, const struct reg_entry *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

int lint_run(char *const *files, int n, FILE *out)
{
	struct lint_ctx l = { .out = out };
	struct diag d = { .cb = on_problem, .ctx = &l };
	struct reg_stats sum = { 0 };
	int i, unreadable = 0;

	for (i = 0; i < n; i++) {
		struct reg_stats st = { 0 };

		if (registry_parse_file(files[i], count_entry, NULL, &d, &st))
			unreadable++;
		sum.lines += st.lines;
		sum.entries += st.entries;
		sum.ip += st.ip;
		sum.domains += st.domains;
		sum.invalid += st.invalid;
		sum.ignored_hosts += st.ignored_hosts;
		sum.adblock_unsupported += st.adblock_unsupported;
		sum.regex_skipped += st.regex_skipped;
		sum.includes += st.includes;
	}
	fprintf(out,
		"%d file%s, %lu lines, %lu entries (%lu IP, %lu domains), %u problem%s; passed over: "
		"%lu localhost-style hosts names, %lu Adblock rules the guard cannot honour, %lu "
		"regex/keyword rules; %lu includes followed\n",
		n, n == 1 ? "" : "s", sum.lines, sum.entries, sum.ip, sum.domains,
		d.errors + d.warnings, d.errors + d.warnings == 1 ? "" : "s", sum.ignored_hosts,
		sum.adblock_unsupported, sum.regex_skipped, sum.includes);
	if (unreadable)
		return 2;
	return d.errors + d.warnings ? 1 : 0;
}
