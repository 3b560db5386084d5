// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiling a config into a policy (see policy.h): read every list through the registry
 * parser, collect IP entries by direction, build the IP tables, and derive the group masks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "user/changes.h"
#include "user/fetch.h"
#include "user/policy.h"
#include "user/schedule.h"

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

/* A [group]'s `clients =` prefix: a client-direction entry naming group id. */
static int push_client(struct collect *c, const struct ip_prefix *p, __u16 group)
{
	static const struct cfg_list none = { .action = LIST_BLOCK };
	const struct cfg_list *saved = c->list;
	int err;

	c->list = &none;
	c->list_id = group;
	err = push(c, p, IPT_DIR_CLIENT);
	c->list = saved;
	return err;
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
	reg_files_free(&pol->includes);
	free(pol->macs);
	free(pol);
}

void policy_drop_tables(struct guard_policy *pol)
{
	iptable_free(&pol->ipt);
	domtable_free(&pol->dom);
}

int policy_masks_at(struct guard_policy *pol, const struct guard_config *cfg, time_t t,
		    time_t *next)
{
	__u64 masks[GUARD_MAX_GROUPS] = { 0 };
	int i, err;

	if ((__u32)cfg->n_groups + 1 != pol->n_groups)
		return -EINVAL; /* not this config's policy */
	err = group_masks_eval(cfg, t, masks, next);
	if (err)
		return err;
	for (i = 0; i <= cfg->n_groups; i++)
		pol->groups[i].block_mask = masks[i];
	return 0;
}

__u32 policy_group_of(const struct guard_policy *pol, int family, const __u8 *addr, const __u8 *mac)
{
	__u32 i, leaf;

	for (i = 0; mac && i < pol->n_macs; i++)
		if (!memcmp(pol->macs[i].mac, mac, 6))
			return pol->macs[i].group;
	if (!pol->ipt.has_client || !addr)
		return 0;
	leaf = iptable_lookup(&pol->ipt, family, IPT_DIR_CLIENT, addr);
	if (leaf == IPT_LEAF_NONE || !(pol->ipt.leaves[leaf].flags & IP_LEAF_F_GROUP))
		return 0;
	return pol->ipt.leaves[leaf].list_id;
}

__u32 policy_ip_group_of(const struct guard_policy *pol, int family, const __u8 *saddr,
			 const __u8 *daddr, const __u8 *smac, const __u8 *dmac)
{
	__u32 g = policy_group_of(pol, family, saddr, smac);

	return g ? g : policy_group_of(pol, family, daddr, dmac);
}

/* A client prefix and its group, to find one prefix claimed by two groups. */
struct claim {
	struct ip_prefix p;
	int group; /* index into cfg->groups */
};

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = memcmp(&x->p, &y->p, sizeof(x->p));

	return c ? c : x->group - y->group;
}

/*
 * The groups: names, `clients =` prefixes into the IP table's client direction, `macs =` into
 * pol->macs, the categories to learn. A prefix or MAC claimed by two groups is an error: which
 * group a pupil is in must not depend on the order of the file.
 */
static int build_groups(struct guard_policy *pol, const struct guard_config *cfg, struct collect *c,
			struct diag *d)
{
	struct claim *cl = NULL;
	size_t n = 0, i;
	int gi, k, err = 0;
	char buf[64];

	str_copy(pol->group_names[0], "default", sizeof(pol->group_names[0]));
	pol->n_groups = (__u32)cfg->n_groups + 1;
	for (gi = 0; gi < cfg->n_groups; gi++)
		n += cfg->groups[gi].n_clients + cfg->groups[gi].n_macs;
	cl = calloc(n ? n : 1, sizeof(*cl));
	pol->macs = calloc(n ? n : 1, sizeof(*pol->macs));
	if (!cl || !pol->macs) {
		err = -ENOMEM;
		goto cleanup;
	}
	n = 0;
	for (gi = 0; gi < cfg->n_groups; gi++) {
		const struct cfg_group *g = &cfg->groups[gi];

		str_copy(pol->group_names[gi + 1], g->name, sizeof(pol->group_names[0]));
		for (k = 0; k < g->n_clients; k++) {
			/* the config refused host bits: equal prefixes compare equal */
			cl[n].p = g->clients[k];
			cl[n++].group = gi;
			err = push_client(c, &g->clients[k], (__u16)(gi + 1));
			if (err)
				goto cleanup;
		}
		for (k = 0; k < g->n_macs; k++) {
			__u32 m;

			for (m = 0; m < pol->n_macs; m++)
				if (!memcmp(pol->macs[m].mac, g->macs[k], 6))
					break;
			if (m < pol->n_macs) {
				diag_report(
					d, DIAG_ERROR, cfg->path, g->line,
					"[group %s]: MAC %02x:%02x:%02x:%02x:%02x:%02x is also in "
					"[group %s]; a device belongs to one group",
					g->name, g->macs[k][0], g->macs[k][1], g->macs[k][2],
					g->macs[k][3], g->macs[k][4], g->macs[k][5],
					pol->group_names[pol->macs[m].group]);
				err = -EINVAL;
				goto cleanup;
			}
			memcpy(pol->macs[pol->n_macs].mac, g->macs[k], 6);
			pol->macs[pol->n_macs++].group = (__u32)gi + 1;
		}
		for (k = 0; k < g->n_block; k++)
			if (g->block[k].schedule >= 0)
				pol->learn_mask |= 1ull << (g->block[k].category_id & 63);
		for (k = 0; k < g->n_allow; k++)
			if (g->allow[k].schedule >= 0)
				pol->learn_mask |= 1ull << (g->allow[k].category_id & 63);
	}
	if (n > 1)
		qsort(cl, n, sizeof(*cl), cmp_claim);
	for (i = 1; i < n; i++) {
		if (memcmp(&cl[i].p, &cl[i - 1].p, sizeof(cl[i].p)) ||
		    cl[i].group == cl[i - 1].group)
			continue;
		diag_report(d, DIAG_ERROR, cfg->path, cfg->groups[cl[i].group].line,
			    "[group %s]: clients %s is also in [group %s]; a client prefix "
			    "belongs to one group (a more specific prefix may go to another)",
			    cfg->groups[cl[i].group].name,
			    ip_prefix_format(&cl[i].p, buf, sizeof(buf)),
			    cfg->groups[cl[i - 1].group].name);
		err = -EINVAL;
		goto cleanup;
	}
cleanup:
	free(cl);
	return err;
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
	unsigned int errors;
	int i, err = 0;

	*out = NULL;
	pol = policy_new();
	if (!pol)
		return -ENOMEM;
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
		/* the list's file, with its live changes (user/changes.h) */
		errors = d->errors;
		err = changes_parse_list(cfg->state_dir, l->name, path, on_entry, &c, d, &st,
					 &pol->includes);
		if (err) {
			/* a failure the parser said nothing of (out of memory): name the list */
			if (d->errors == errors)
				diag_report(d, DIAG_ERROR, cfg->path, l->line,
					    "[list %s]: cannot load %s: %s", l->name, path,
					    strerror(-err));
			goto cleanup;
		}
		add_stats(&pol->reg, &st);
		m->entries = c.ip + c.domains;
	}
	pol->n_lists = cfg->n_lists;
	err = build_groups(pol, cfg, &c, d);
	if (err)
		goto cleanup;
	/* the masks in force now; the daemon rewrites them at each schedule boundary */
	err = policy_masks_at(pol, cfg, time(NULL), NULL);
	if (err) {
		diag_report(d, DIAG_ERROR, cfg->path, 0, "cannot evaluate the schedules: %s",
			    strerror(-err));
		goto cleanup;
	}
	policy_actions_from_config(&pol->act, cfg);
	/* the tables take the entries (sorted in place, freed once merged) */
	err = iptable_build_take(&pol->ipt, c.e, c.n);
	c.e = NULL;
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
	pol->n_ip_prefixes = pol->ipt.n_prefixes;
	pol->n_domains = pol->dom.n_entries;
	pol->build_ns = now_ns() - t0;
	*out = pol;
	pol = NULL;
cleanup:
	free(c.e);
	policy_free(pol);
	return err;
}
