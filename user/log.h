/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging and diagnostics. pr_warn/pr_info/pr_debug print to stderr by level; libbpf's own
 * messages are routed here and shown only at -v. A struct diag collects `file:line: message`
 * problems from the config and registry parsers so that callers decide how to show them.
 */
#ifndef BPFGUARD_LOG_H
#define BPFGUARD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_WARN = 0,
	LOG_INFO = 1,
	LOG_DEBUG = 2,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Route libbpf's messages through pr_debug (or pr_warn for its warnings at -v). */
void log_hook_libbpf(void);

void log_print(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pr_warn(...) log_print(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_print(LOG_DEBUG, __VA_ARGS__)

enum diag_severity {
	DIAG_WARNING = 0, /* the line was skipped, the rest loads */
	DIAG_ERROR = 1, /* the input cannot be used (config: the whole file is refused) */
};

/*
 * A sink for problems found in input files. With cb NULL, each problem is printed to stderr as
 * "file:line: warning: message" (line 0: "file: ..."). Counts are kept either way.
 */
struct diag {
	void (*cb)(void *ctx, enum diag_severity sev, const char *file, int line, const char *msg);
	void *ctx;
	unsigned int errors;
	unsigned int warnings;
	unsigned int max_print; /* with cb NULL: stop printing after this many (0: no limit) */
	unsigned int printed;
};

void diag_report(struct diag *d, enum diag_severity sev, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
