// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for config_parse(): any bytes as a config. Beyond the sanitizers: a config
 * is returned exactly when no error was reported, and what it holds is within its bounds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "user/config.h"

static void quiet(void *ctx, enum diag_severity sev, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)sev;
	(void)file;
	(void)line;
	(void)msg;
}

static void check(const struct guard_config *cfg)
{
	int i, j;

	if (cfg->n_ifaces > CFG_MAX_IFACES || cfg->n_lists > GUARD_MAX_LISTS ||
	    cfg->n_categories > GUARD_MAX_CATEGORIES || cfg->block_ttl > 86400)
		abort();
	for (i = 0; i < cfg->n_lists; i++) {
		const struct cfg_list *l = &cfg->lists[i];

		if (!l->path == !l->url || l->category_id < 0 ||
		    l->category_id >= cfg->n_categories ||
		    strcmp(cfg->categories[l->category_id], l->category) != 0)
			abort();
	}
	for (i = 0; i < cfg->n_schedules; i++) {
		const struct cfg_schedule *s = &cfg->schedules[i];

		if (s->n_windows < 1 || s->n_windows > CFG_MAX_WINDOWS)
			abort();
		for (j = 0; j < s->n_windows; j++)
			if (!s->windows[j].days || s->windows[j].days > 0x7f ||
			    s->windows[j].start >= 1440 || s->windows[j].end > 1440 ||
			    s->windows[j].start == s->windows[j].end)
				abort();
	}
	for (i = 0; i < cfg->n_groups; i++) {
		const struct cfg_group *g = &cfg->groups[i];

		for (j = 0; j < g->n_block; j++)
			if (g->block[j].category_id < 0 ||
			    g->block[j].category_id >= cfg->n_categories ||
			    g->block[j].schedule < -1 || g->block[j].schedule >= cfg->n_schedules)
				abort();
		for (j = 0; j < g->n_allow; j++)
			if (g->allow[j].category_id < 0 ||
			    g->allow[j].category_id >= cfg->n_categories)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { .cb = quiet };
	struct guard_config *cfg = NULL;
	int rc;

	rc = config_parse("fuzz.conf", "/etc/bpfguard", (const char *)data, size, &d, &cfg);
	if (rc == 0) {
		if (!cfg || d.errors)
			abort();
		check(cfg);
		config_free(cfg);
	} else if (rc != -EINVAL || cfg || !d.errors) {
		abort();
	}
	return 0;
}
