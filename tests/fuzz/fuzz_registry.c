// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for registry_parse_buffer(): any bytes as a registry file. Checks, beyond
 * the sanitizers, what every entry must satisfy: a domain is normalised (re-normalising it is
 * the identity), an IP prefix has no host bits, and the stats add up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "user/registry.h"

static void quiet(void *ctx, enum diag_severity sev, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)sev;
	(void)file;
	(void)line;
	(void)msg;
}

static int check_entry(void *ctx, const struct reg_entry *e)
{
	unsigned long *n = ctx;

	(*n)++;
	if (e->kind == REG_DOMAIN) {
		char again[256];
		const char *why;
		size_t len = strlen(e->name);

		if (len == 0 || len > 253 ||
		    domain_normalize(e->name, again, sizeof(again), &why) ||
		    strcmp(again, e->name) != 0)
			abort();
	} else if (e->kind == REG_IP) {
		struct ip_prefix p = e->prefix;
		char buf[64];
		const char *why;
		struct ip_prefix q;

		/* The formatted prefix parses back, strictly, to the same prefix. */
		if (ip_prefix_parse(ip_prefix_format(&p, buf, sizeof(buf)), &q, false, &why) ||
		    memcmp(&p, &q, sizeof(p)) != 0)
			abort();
	} else {
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { .cb = quiet };
	struct reg_stats st;
	unsigned long n = 0;

	if (registry_parse_buffer("fuzz", (const char *)data, size, check_entry, &n, &d, &st))
		abort();
	if (st.entries != n || st.ip + st.domains != n || st.invalid != d.warnings || d.errors)
		abort();
	return 0;
}
