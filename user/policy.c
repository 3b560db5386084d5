// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiling a config into a policy (see policy.h): read every list through the registry
 * parser, collect IP entries by direction, build the IP tables, and derive the group masks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "user/fetch.h"
#include "user/policy.h"

struct collect {
	struct ipt_entry *e;
	size_t n, cap;
	struct domtable *dom;
	struct diag *d;
	const struct cfg_list *list;
	__u16 list_id;
	unsigned long ip, domains;
};

static int push(struct collect *c, const struct ip_prefix *p, int dir)
{
	struct ipt_entry *e;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;

		e = realloc(c->e, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		c->e = e;
		c->cap = ncap;
	}
	e = &c->e[c->n++];
	memset(e, 0, sizeof(*e));
	e->prefix = *p;
	e->dir = dir;
	e->allow = c->list->action == LIST_ALLOW;
	e->list_id = c->list_id;
	e->category = c->list->category_id;
	return 0;
}

static int on_entry(void *ctx, const struct reg_entry *re)
{
	struct collect *c = ctx;
	int err = 0;

	if (re->kind == REG_DOMAIN) {
		struct dom_entry de = {
			.name = re->name,
			.exact = (re->flags & REG_F_EXACT) || c->list->match == LIST_MATCH_EXACT,
			/* an allow list, or an allow rule (Adblock @@) inside a block list */
			.allow = c->list->action == LIST_ALLOW || (re->flags & REG_F_ALLOW),
			.list_id = c->list_id,
			.category = (__u32)c->list->category_id,
		};

		err = domtable_add(c->dom, &de);
		if (err == -EINVAL) {
			/* the registry validated it; the table's own rules are the last word */
			diag_report(c->d, DIAG_WARNING, re->file, re->line,
				    "'%s' cannot be stored as a domain entry; the line is skipped",
				    re->name);
			return 0;
		}
		c->domains++;
		return err;
	}
	c->ip++;
	if (c->list->direction & LIST_DIR_DST)
		err = push(c, &re->prefix, IPT_DIR_DST);
	if (!err && (c->list->direction & LIST_DIR_SRC))
		err = push(c, &re->prefix, IPT_DIR_SRC);
	return err;
}

struct guard_policy *policy_new(void)
{
	struct guard_policy *pol = calloc(1, sizeof(*pol));
	__u64 root = DH_ROOT;

	if (!pol)
		return NULL;
	/*
	 * A random hash root per policy: nobody who cannot read the maps can craft a name whose
	 * key equals a listed one (maps/domain.h, "False matches"). The loader hands it over.
	 */
	if (getrandom(&root, sizeof(root), GRND_NONBLOCK) != sizeof(root))
		root = DH_ROOT;
	if (iptable_init(&pol->ipt)) {
		free(pol);
		return NULL;
	}
	if (domtable_init(&pol->dom, root)) {
		iptable_free(&pol->ipt);
		free(pol);
		return NULL;
	}
	pol->n_groups = 1;
	return pol;
}

void policy_free(struct guard_policy *pol)
{
	if (!pol)
		return;
	iptable_free(&pol->ipt);
	domtable_free(&pol->dom);
	free(pol);
}

static void add_stats(struct reg_stats *sum, const struct reg_stats *s)
{
	sum->lines += s->lines;
	sum->entries += s->entries;
	sum->ip += s->ip;
	sum->domains += s->domains;
	sum->comments += s->comments;
	sum->invalid += s->invalid;
	sum->ignored_hosts += s->ignored_hosts;
	sum->adblock_unsupported += s->adblock_unsupported;
	sum->regex_skipped += s->regex_skipped;
	sum->includes += s->includes;
}

int policy_build(const struct guard_config *cfg, struct diag *d, struct guard_policy **out)
{
	struct collect c = { 0 };
	struct guard_policy *pol;
	__u64 t0 = now_ns();
	int i, err = 0;

	*out = NULL;
	pol = policy_new();
	if (!pol)
		return -ENOMEM;
	if (cfg->n_groups > 0) {
		/* XXX: client groups and schedules arrive with the policy engine (issue 4). */
		diag_report(d, DIAG_ERROR, cfg->path, cfg->groups[0].line,
			    "[group] sections are not supported by this version yet; remove them "
			    "(every block list then applies to every client)");
		err = -EOPNOTSUPP;
		goto cleanup;
	}
	for (i = 0; i < cfg->n_lists; i++) {
		const struct cfg_list *l = &cfg->lists[i];
		struct list_meta *m = &pol->lists[i];
		struct reg_stats st = { 0 };
		struct fetch_result fr;
		const char *path;

		str_copy(m->name, l->name, sizeof(m->name));
		str_copy(m->category, l->category, sizeof(m->category));
		m->category_id = l->category_id;
		m->action = l->action;
		path = l->path;
		if (!path) {
			/*
			 * A remote list: the copy in the state directory (the daemon refreshes
			 * it on its schedule); downloaded now only when there is none yet.
			 */
			err = fetch_cached(l, cfg->state_dir, true, &fr);
			if (err)
				err = fetch_list(l, cfg->state_dir, &fr);
			if (err) {
				diag_report(d, DIAG_ERROR, cfg->path, l->line, "[list %s]: %s",
					    l->name, fr.message);
				goto cleanup;
			}
			path = fr.path;
		}
		c.dom = &pol->dom;
		c.d = d;
		c.list = l;
		c.list_id = i;
		c.ip = c.domains = 0;
		err = registry_parse_file(path, on_entry, &c, d, &st);
		if (err)
			goto cleanup;
		add_stats(&pol->reg, &st);
		m->entries = c.ip + c.domains;
		if (l->action == LIST_BLOCK)
			pol->groups[0].block_mask |= 1ull << l->category_id;
	}
	pol->n_lists = cfg->n_lists;
	policy_actions_from_config(&pol->act, cfg);
	err = iptable_build(&pol->ipt, c.e, c.n);
	if (err) {
		diag_report(d, DIAG_ERROR, cfg->path, 0, "cannot build the IP tables: %s",
			    strerror(-err));
		goto cleanup;
	}
	err = domtable_build(&pol->dom);
	if (err) {
		diag_report(d, DIAG_ERROR, cfg->path, 0, "cannot build the domain tables: %s",
			    strerror(-err));
		goto cleanup;
	}
	if (pol->dom.n_shared)
		diag_report(d, DIAG_WARNING, cfg->path, 0,
			    "%zu listed names share a 64-bit key with another (the kernel treats "
			    "them alike; `check` tells them apart)",
			    pol->dom.n_shared);
	pol->build_ns = now_ns() - t0;
	*out = pol;
	pol = NULL;
cleanup:
	free(c.e);
	policy_free(pol);
	return err;
}
