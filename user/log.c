// SPDX-License-Identifier: GPL-2.0-only
/* Logging and diagnostics: see log.h. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "user/log.h"

static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf is chatty and its warnings are often expected probes: show them only at -v. */
	if (current_level < LOG_INFO)
		return 0;
	if (level == LIBBPF_DEBUG && current_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void diag_report(struct diag *d, enum diag_severity sev, const char *file, int line,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!d) {
		fprintf(stderr, "%s:%d: %s: %s\n", file, line, sev ? "error" : "warning", msg);
		return;
	}
	if (sev == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->cb) {
		d->cb(d->ctx, sev, file, line, msg);
		return;
	}
	if (d->max_print && d->printed >= d->max_print) {
		if (d->printed++ == d->max_print)
			fprintf(stderr,
				"(further problems not shown; `bpfguard lint` lists them all)\n");
		return;
	}
	d->printed++;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s: %s\n", file, line, sev ? "error" : "warning", msg);
	else
		fprintf(stderr, "%s: %s: %s\n", file, sev ? "error" : "warning", msg);
}
