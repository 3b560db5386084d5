// SPDX-License-Identifier: GPL-2.0-only
/*
 * `check`: build the policy from the config exactly as `run` does and decide for one target
 * with the same tables and leaf rules the kernel uses (iptable_lookup is the host twin of
 * bpf/lib/iprule.h), then name the entry that decided (iptable_match).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "user/check.h"
#include "user/log.h"
#include "user/policy.h"

int parse_at(const char *s, long long *epoch)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	time_t t;

	if (!end || *end || strlen(s) != 16)
		return -EINVAL;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*epoch = (long long)t;
	return 0;
}

struct decision {
	const char *verdict; /* block, allow, pass */
	const struct ipt_prefix *entry;
	int dir;
	__u32 category_id; /* the category that blocks */
	bool category_off;
};

/* The kernel's verdict rule (bpf/lib/verdict.h) for one direction. */
static bool decide_dir(const struct guard_policy *pol, int family, int dir, const __u8 *addr,
		       struct decision *out)
{
	__u32 id = iptable_lookup(&pol->ipt, family, dir, addr);
	const struct ip_leaf *l;
	__u64 mask = pol->groups[0].block_mask;

	if (id == IPT_LEAF_NONE)
		return false;
	l = &pol->ipt.leaves[id];
	out->entry = iptable_match(&pol->ipt, family, dir, addr);
	out->dir = dir;
	if (l->block_cats & mask) {
		out->verdict = "block";
		out->category_id = (__u32)__builtin_ctzll(l->block_cats & mask);
		return true;
	}
	if (l->flags & IP_LEAF_F_ALLOW) {
		out->verdict = "allow";
		return true;
	}
	out->verdict = "pass";
	out->category_off = l->block_cats != 0;
	return false;
}

int check_run(const struct check_opts *o)
{
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	struct decision dec = { .verdict = "pass" };
	struct diag diag = { .max_print = 20 };
	struct ip_prefix target, client;
	const char *why;
	long long at;
	char buf[64];
	int ret = 2;

	if (o->at && parse_at(o->at, &at)) {
		pr_warn("--at '%s': expected local time as YYYY-MM-DDTHH:MM (e.g. "
			"2026-09-01T10:30)\n",
			o->at);
		return 2;
	}
	if (o->client && ip_prefix_parse(o->client, &client, false, &why)) {
		pr_warn("--client '%s': %s\n", o->client, why);
		return 2;
	}
	if (ip_prefix_parse(o->target, &target, false, &why) ||
	    target.plen != (target.family == 4 ? 32 : 128)) {
		/* XXX: names are decided once the domain stage lands (issue 3). */
		pr_warn("'%s' is not an IP address: this version checks IPv4/IPv6 addresses\n",
			o->target);
		return 2;
	}
	if (config_load(o->config_path, &diag, &cfg))
		goto cleanup;
	if (policy_build(cfg, &diag, &pol))
		goto cleanup;

	/* as a destination first, as the kernel does; then as a source */
	if (!decide_dir(pol, target.family, IPT_DIR_DST, target.addr, &dec) && pol->ipt.has_src) {
		struct decision src = { .verdict = "pass" };

		if (decide_dir(pol, target.family, IPT_DIR_SRC, target.addr, &src) ||
		    (!dec.entry && src.entry))
			dec = src;
	}
	if (!strcmp(dec.verdict, "pass") && !dec.category_off)
		dec.entry = NULL;

	if (o->json) {
		printf("{\"decision\": \"%s\", \"target\": \"%s\"", dec.verdict, o->target);
		if (dec.entry) {
			const struct list_meta *m = &pol->lists[dec.entry->list_id];

			printf(", \"list\": \"%s\", \"category\": \"%s\", \"entry\": \"%s\", "
			       "\"direction\": \"%s\", \"lists_holding_entry\": %u",
			       m->name, m->category,
			       ip_prefix_format(&dec.entry->prefix, buf, sizeof(buf)),
			       dec.dir == IPT_DIR_SRC ? "source" : "destination",
			       dec.entry->n_lists);
			if (dec.category_off)
				printf(", \"note\": \"category not blocked for this client now\"");
		}
		printf("}\n");
	} else if (dec.entry) {
		const struct list_meta *m = &pol->lists[dec.entry->list_id];

		printf("%s %s list=%s category=%s entry=%s direction=%s%s\n", dec.verdict,
		       o->target, m->name, m->category,
		       ip_prefix_format(&dec.entry->prefix, buf, sizeof(buf)),
		       dec.dir == IPT_DIR_SRC ? "source" : "destination",
		       dec.category_off ? " (category not blocked for this client now)" : "");
	} else {
		printf("pass %s\n", o->target);
	}
	ret = 0;
cleanup:
	policy_free(pol);
	config_free(cfg);
	return ret;
}
