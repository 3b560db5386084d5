// SPDX-License-Identifier: GPL-2.0-only
/*
 * `check`: build the policy from the config exactly as `run` does and decide for one target
 * with the same tables and leaf rules the kernel uses (iptable_lookup is the host twin of
 * bpf/lib/iprule.h), then name the entry that decided (iptable_match). The client's group
 * (--client IP or MAC; none: the default group) and the schedules at --at (default: now) give
 * the block mask, as the daemon writes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "user/check.h"
#include "user/live.h"
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
static bool decide_dir(const struct guard_policy *pol, __u64 mask, int family, int dir,
		       const __u8 *addr, struct decision *out)
{
	__u32 id = iptable_lookup(&pol->ipt, family, dir, addr);
	const struct ip_leaf *l;

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

/*
 * The category to name for entry r: the first of its categories blocked under mask (what
 * actually blocks), else its list's.
 */
static const char *rec_category(const struct guard_config *cfg, const struct guard_policy *pol,
				const struct dom_rec *r, __u64 mask)
{
	__u64 on = r->block_cats & mask;

	if (on && __builtin_ctzll(on) < cfg->n_categories)
		return cfg->categories[__builtin_ctzll(on)];
	return pol->lists[r->list_id].category;
}

/* The client's group, as the lines show it: " group=NAME" when the config has groups. */
static void print_group(const struct check_opts *o, const struct guard_policy *pol, __u32 group)
{
	if (pol->n_groups < 2)
		return;
	if (o->json)
		printf(", \"group\": \"%s\"", pol->group_names[group]);
	else
		printf(" group=%s", pol->group_names[group]);
}

static void print_dom_line(const struct check_opts *o, const struct guard_config *cfg,
			   const struct guard_policy *pol, __u32 group, const char *verdict,
			   const struct dom_rec *r, const char *note)
{
	const struct list_meta *m = r ? &pol->lists[r->list_id] : NULL;
	const char *category = r ? rec_category(cfg, pol, r, pol->groups[group].block_mask) : NULL;

	if (o->json) {
		printf("{\"decision\": \"%s\", \"target\": \"%s\"", verdict, o->target);
		if (r)
			printf(", \"list\": \"%s\", \"category\": \"%s\", \"entry\": \"%s%s\", "
			       "\"match\": \"%s\", \"lists_holding_entry\": %u",
			       m->name, category, r->flags & DOMT_F_EXACT ? "full:" : "",
			       domtable_name(&pol->dom, r),
			       r->flags & DOMT_F_EXACT ? "exact" : "subtree", r->n_lists);
		if (note)
			printf(", \"note\": \"%s\"", note);
		print_group(o, pol, group);
		printf("}\n");
		return;
	}
	if (r)
		printf("%s %s list=%s category=%s entry=%s%s match=%s", verdict, o->target, m->name,
		       category, r->flags & DOMT_F_EXACT ? "full:" : "",
		       domtable_name(&pol->dom, r), r->flags & DOMT_F_EXACT ? "exact" : "subtree");
	else
		printf("%s %s", verdict, o->target);
	print_group(o, pol, group);
	printf("%s%s\n", note ? " " : "", note ? note : "");
}

/*
 * A name: the kernel's decision from its leaf (domtable_lookup mirrors the kernel lookup), the
 * entry behind it confirmed by string compare, so a 64-bit key collision cannot go unnoticed.
 */
static int check_name(const struct check_opts *o, const struct guard_config *cfg,
		      const struct guard_policy *pol, __u32 group)
{
	const struct dom_rec *r;
	const struct dom_leaf *l;
	struct dom_match m;
	__u64 mask = pol->groups[group].block_mask;
	char name[DH_MAX_NAME + 3];
	const char *why = NULL, *q = o->target;
	int err;

	/* as the lists are: lower case, a Unicode IDN in punycode (what the wire carries) */
	if (!domain_normalize(o->target, name, sizeof(name), &why))
		q = name;
	err = domtable_lookup(&pol->dom, q, &m);

	if (err == -ENAMETOOLONG) {
		bool block = cfg->unexamined == UNEXAMINED_BLOCK;

		print_dom_line(
			o, cfg, pol, group, block ? "block" : "pass", NULL,
			block ? "(longer than 253 characters, 127 labels or a 63-byte label: "
				"the guard cannot examine it, and blocks it: unexamined = block)" :
				"(longer than 253 characters, 127 labels or a 63-byte label: the "
				"guard cannot examine it and counts it as such)");
		return 0;
	}
	if (err) {
		pr_warn("'%s' is neither an IP address nor a domain name (%s); give an address like "
			"192.0.2.1 or a name like www.example.com\n",
			o->target, why ? why : "empty label");
		return 2;
	}
	if (m.leaf == DOM_LEAF_NONE) {
		print_dom_line(o, cfg, pol, group, "pass", NULL, NULL);
		return 0;
	}
	l = &pol->dom.leaves[m.leaf];
	if (!m.rec) {
		/* the kernel acts on the key alone: say what it does, and that it is a collision */
		print_dom_line(
			o, cfg, pol, group,
			l->block_cats & mask	    ? "block" :
			l->flags & DOM_LEAF_F_ALLOW ? "allow" :
						      "pass",
			m.key_rec,
			"(64-bit key collision: the guard treats this name as the entry shown)");
		return 0;
	}
	r = domtable_decider(&pol->dom, &m, mask);
	if (l->block_cats & mask)
		print_dom_line(o, cfg, pol, group, "block", r ? r : m.rec, NULL);
	else if (l->flags & DOM_LEAF_F_ALLOW)
		print_dom_line(o, cfg, pol, group, "allow", r ? r : m.rec, NULL);
	else
		print_dom_line(o, cfg, pol, group, "pass", m.rec,
			       "(category not blocked for this client now)");
	return 0;
}

int check_run(const struct check_opts *o)
{
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	struct decision dec = { .verdict = "pass" };
	struct diag diag = { .max_print = 20 };
	struct ip_prefix target, client = { 0 };
	const char *why = NULL;
	__u8 mac[6];
	bool has_mac = false;
	long long at = 0;
	char buf[64];
	__u32 group = 0;
	__u64 mask;
	int ret = 2, err;

	if (o->live)
		return live_check_run(o);

	if (o->at && parse_at(o->at, &at)) {
		pr_warn("--at '%s': expected local time as YYYY-MM-DDTHH:MM (e.g. "
			"2026-09-01T10:30)\n",
			o->at);
		return 2;
	}
	if (o->client && mac_parse(o->client, mac)) {
		has_mac = true;
	} else if (o->client && ip_prefix_parse(o->client, &client, false, &why)) {
		pr_warn("--client '%s': %s (give the client's address, like 192.0.2.10, or its MAC, "
			"like 02:00:00:00:00:01)\n",
			o->client, why);
		return 2;
	}
	if (strchr(o->target, '/')) {
		pr_warn("'%s': give one address, not a prefix\n", o->target);
		return 2;
	}
	if (config_load(o->config_path, &diag, &cfg))
		goto cleanup;
	if (policy_build(cfg, &diag, &pol))
		goto cleanup;
	if (o->at) {
		/* the policy was built with the masks of now: those of --at instead */
		err = policy_masks_at(pol, cfg, (time_t)at, NULL);
		if (err) {
			pr_warn("--at '%s': cannot evaluate the schedules: %s\n", o->at,
				strerror(-err));
			goto cleanup;
		}
	}
	if (o->client)
		group = policy_group_of(pol, client.family, has_mac ? NULL : client.addr,
					has_mac ? mac : NULL);
	mask = pol->groups[group].block_mask;
	if (ip_prefix_parse(o->target, &target, false, &why)) {
		ret = check_name(o, cfg, pol, group);
		goto cleanup;
	}

	/* as a destination first, as the kernel does; then as a source */
	if (!decide_dir(pol, mask, target.family, IPT_DIR_DST, target.addr, &dec) &&
	    pol->ipt.has_src) {
		struct decision src = { .verdict = "pass" };

		if (decide_dir(pol, mask, target.family, IPT_DIR_SRC, target.addr, &src) ||
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
		print_group(o, pol, group);
		printf("}\n");
	} else if (dec.entry) {
		const struct list_meta *m = &pol->lists[dec.entry->list_id];

		printf("%s %s list=%s category=%s entry=%s direction=%s", dec.verdict, o->target,
		       m->name, m->category, ip_prefix_format(&dec.entry->prefix, buf, sizeof(buf)),
		       dec.dir == IPT_DIR_SRC ? "source" : "destination");
		print_group(o, pol, group);
		printf("%s\n",
		       dec.category_off ? " (category not blocked for this client now)" : "");
	} else {
		printf("pass %s", o->target);
		print_group(o, pol, group);
		printf("\n");
	}
	ret = 0;
cleanup:
	policy_free(pol);
	config_free(cfg);
	return ret;
}
