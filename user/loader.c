// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading the guard program for a policy (see loader.h): size every table to the policy plus
 * headroom, set the rodata knobs, load, then write the tables through mmap (the array tables
 * are BPF_F_MMAPABLE: a 100 MB table is one memcpy, not a million syscalls).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/log.h"

static __u32 with_headroom(__u32 n, double headroom, __u32 min)
{
	double v = (double)n * (1.0 + headroom) + 1;

	if (v < min)
		return min;
	if (v > 0x7fffffff)
		return 0x7fffffff;
	return (__u32)v;
}

/* fill_mmap's window: what the copy adds to the process's resident memory at most. */
#define FILL_WINDOW (8u << 20)

/*
 * Copy size bytes into an mmapable array map (the rest stays zero, as the kernel made it),
 * through a window mapped at successive offsets: mapping the whole table at once would count
 * it in the daemon's resident memory beside the host copy (a 100 MB table, 200 MB at peak).
 */
static int fill_mmap(struct bpf_map *map, const void *src, size_t size)
{
	size_t len = (size_t)bpf_map__max_entries(map) * bpf_map__value_size(map);
	long page = sysconf(_SC_PAGESIZE);
	size_t off, n;
	void *mem;

	len = (len + page - 1) / page * page;
	if (size > len) {
		pr_warn("the %s table is smaller than the policy needs\n", bpf_map__name(map));
		return -E2BIG;
	}
	for (off = 0; off < size; off += n) {
		n = size - off < FILL_WINDOW ? size - off : FILL_WINDOW;
		/* the window's length in whole pages, within the table */
		mem = mmap(NULL, (n + page - 1) / page * page, PROT_READ | PROT_WRITE, MAP_SHARED,
			   bpf_map__fd(map), (off_t)off);
		if (mem == MAP_FAILED) {
			int err = -errno;

			pr_warn("cannot map the %s table: %s\n", bpf_map__name(map),
				strerror(-err));
			return err;
		}
		memcpy(mem, (const char *)src + off, n);
		munmap(mem, (n + page - 1) / page * page);
	}
	return 0;
}

static int update(struct bpf_map *map, __u32 key, const void *val, size_t size)
{
	int err = bpf_map__update_elem(map, &key, sizeof(key), val, size, BPF_ANY);

	if (err)
		pr_warn("cannot write %s[%u]: %s\n", bpf_map__name(map), key, strerror(-err));
	return err;
}

/*
 * The domain tables (maps/domain.h): bloom words, cuckoo buckets and leaves through mmap, then
 * the one dom_config entry that gives the program their shape and the hash root.
 */
static int fill_domains(struct guard *skel, const struct domtable *dt)
{
	struct dom_config dc = {
		.root = dt->root,
		.bloom_mask = dt->bloom_words - 1,
		.bucket_mask = dt->n_buckets - 1,
		.n_leaves = dt->n_leaves,
		.flags = (dt->n_exact ? DOM_CFG_F_EXACT : 0) | (dt->n_tld ? DOM_CFG_F_TLD : 0),
	};
	int err;

	if (!dt->built && dt->n_entries == 0) {
		/* no domain entry at all: the maps keep their default sizes, all zero (empty) */
		dc.bloom_mask = DOM_BLOOM_DEFAULT - 1;
		dc.bucket_mask = DOM_TABLE_DEFAULT - 1;
		dc.n_leaves = 0;
		return update(skel->maps.MAP_DOM_CONFIG, 0, &dc, sizeof(dc));
	}
	if (!dt->built) {
		pr_warn("the domain tables were not built (domtable_build): a caller bug\n");
		return -EINVAL;
	}
	err = fill_mmap(skel->maps.MAP_DOM_BLOOM, dt->bloom,
			(size_t)dt->bloom_words * sizeof(*dt->bloom));
	if (!err)
		err = fill_mmap(skel->maps.MAP_DOM_TABLE, dt->table,
				(size_t)dt->n_buckets * sizeof(*dt->table));
	if (!err)
		err = fill_mmap(skel->maps.MAP_DOM_LEAVES, dt->leaves,
				(size_t)dt->n_leaves * sizeof(*dt->leaves));
	/* last: the program reads the tables only once it knows their shape */
	if (!err)
		err = update(skel->maps.MAP_DOM_CONFIG, 0, &dc, sizeof(dc));
	return err;
}

int loader_fill(struct guard *skel, const struct guard_policy *pol)
{
	const struct iptable *t = &pol->ipt;
	__u32 i;
	size_t r;
	int err;

	err = fill_mmap(skel->maps.MAP_V4_TABLE, t->v4, (size_t)t->v4_groups * sizeof(*t->v4));
	if (!err)
		err = fill_mmap(skel->maps.MAP_V4_L3, t->v4_l3,
				(size_t)t->n_v4_l3 * sizeof(*t->v4_l3));
	if (!err)
		err = fill_mmap(skel->maps.MAP_V4_RUNS, t->v4_runs,
				(size_t)t->n_v4_runs * sizeof(*t->v4_runs));
	if (!err)
		err = fill_mmap(skel->maps.MAP_V6_TABLE, t->v6,
				(size_t)t->v6_groups * sizeof(*t->v6));
	if (err)
		return err;
	for (r = 0; r < t->n_v6_rules; r++) {
		err = bpf_map__update_elem(skel->maps.MAP_V6_TRIE, &t->v6_rules[r].key,
					   sizeof(t->v6_rules[r].key), &t->v6_rules[r].leaf,
					   sizeof(__u32), BPF_ANY);
		if (err) {
			pr_warn("cannot write the IPv6 prefix trie: %s\n", strerror(-err));
			return err;
		}
	}
	for (i = 1; i < t->n_leaves; i++) {
		err = update(skel->maps.MAP_IP_LEAVES, i, &t->leaves[i], sizeof(t->leaves[i]));
		if (err)
			return err;
	}
	err = fill_domains(skel, &pol->dom);
	if (err)
		return err;
	/* every slot: a reused map may hold the lists of an older config */
	for (i = 0; i < GUARD_MAX_LISTS; i++) {
		struct list_meta none = { 0 };

		err = update(skel->maps.MAP_LIST_META, i, i < pol->n_lists ? &pol->lists[i] : &none,
			     sizeof(none));
		if (err)
			return err;
	}
	for (i = 0; i < pol->n_groups; i++) {
		err = update(skel->maps.MAP_GROUP_POLICY, i, &pol->groups[i],
			     sizeof(pol->groups[i]));
		if (err)
			return err;
	}
	for (i = 0; i < pol->n_macs; i++) {
		struct group_mac_key k = { 0 };

		memcpy(k.mac, pol->macs[i].mac, sizeof(k.mac));
		err = bpf_map__update_elem(skel->maps.MAP_GROUP_MACS, &k, sizeof(k),
					   &pol->macs[i].group, sizeof(__u32), BPF_ANY);
		if (err) {
			pr_warn("cannot write the group MAC map: %s\n", strerror(-err));
			return err;
		}
	}
	return 0;
}

/* user/config.h's action enums are the program's (maps/policy.h), in the same order. */
_Static_assert((int)DNS_ACT_DROP == (int)GUARD_DNS_DROP &&
		       (int)DNS_ACT_NXDOMAIN == (int)GUARD_DNS_NXDOMAIN &&
		       (int)DNS_ACT_REFUSED == (int)GUARD_DNS_REFUSED &&
		       (int)DNS_ACT_SINKHOLE == (int)GUARD_DNS_SINKHOLE,
	       "DNS actions");
_Static_assert((int)TCP_ACT_DROP == (int)GUARD_TCP_DROP &&
		       (int)TCP_ACT_RESET == (int)GUARD_TCP_RESET,
	       "TCP actions");

/* The answer knobs (rodata): the policy's actions, or the defaults when it has none. */
static void set_actions(struct guard *skel, const struct guard_actions *a)
{
	struct guard__rodata *ro = skel->rodata;

	if (!a->set) {
		ro->cfg_dns_action = GUARD_DNS_NXDOMAIN;
		ro->cfg_tcp_action = GUARD_TCP_RESET;
		ro->cfg_block_ttl = 10; /* user/config.c: CFG_DEFAULT_BLOCK_TTL */
		return;
	}
	ro->cfg_dns_action = (__u32)a->dns_action;
	ro->cfg_tcp_action = (__u32)a->tcp_action;
	ro->cfg_block_unexamined = a->unexamined == UNEXAMINED_BLOCK;
	ro->cfg_block_ttl = a->block_ttl;
	ro->cfg_sinkhole4_set = a->has_sinkhole4;
	ro->cfg_sinkhole6_set = a->has_sinkhole6;
	memcpy((void *)ro->cfg_sinkhole4, a->sinkhole4, sizeof(a->sinkhole4));
	memcpy((void *)ro->cfg_sinkhole6, a->sinkhole6, sizeof(a->sinkhole6));
}

__u32 loader_learn_entries(const struct guard_policy *pol, const struct loader_opts *o)
{
	if (!pol->learn_mask)
		return 1; /* nothing is learned: the smallest map (the program still names it) */
	return o && o->learn_entries ? o->learn_entries : LEARN_DEFAULT;
}

int loader_load(const struct guard_policy *pol, const struct loader_opts *o, struct guard **out)
{
	const struct iptable *t = &pol->ipt;
	struct guard *skel;
	double h = o ? o->headroom : 0;
	int err;

	*out = NULL;
	skel = guard__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	skel->rodata->cfg_trace = o && o->trace;
	skel->rodata->cfg_has_src = t->has_src;
	skel->rodata->cfg_has_groups = t->has_client;
	skel->rodata->cfg_has_macs = pol->n_macs > 0;
	skel->rodata->cfg_learn_mask = pol->learn_mask;
	set_actions(skel, &pol->act);
	err = bpf_map__set_max_entries(skel->maps.MAP_V4_TABLE,
				       with_headroom(t->v4_groups, h, IPT_ROOT_GROUPS));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_V4_L3,
					       with_headroom(t->n_v4_l3, h, 16));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_V4_RUNS,
					       with_headroom(t->n_v4_runs / IPT_RUNS_PER_CHUNK + 1,
							     h, 16));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_V6_TABLE,
					       with_headroom(t->v6_groups, h, IPT_ROOT_GROUPS));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_V6_TRIE,
					       with_headroom((__u32)t->n_v6_rules, h, 16));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_IP_LEAVES,
					       with_headroom(t->n_leaves, h, 16));
	if (!err && pol->n_macs)
		err = bpf_map__set_max_entries(skel->maps.MAP_GROUP_MACS, pol->n_macs);
	/* the domain maps: the built sizes, powers of two (dom_config holds the masks) */
	if (!err && pol->dom.built)
		err = bpf_map__set_max_entries(skel->maps.MAP_DOM_BLOOM, pol->dom.bloom_words);
	if (!err && pol->dom.built)
		err = bpf_map__set_max_entries(skel->maps.MAP_DOM_TABLE, pol->dom.n_buckets);
	if (!err && pol->dom.built)
		err = bpf_map__set_max_entries(skel->maps.MAP_DOM_LEAVES, pol->dom.n_leaves);
	if (!err && o && o->reuse_counters_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_COUNTERS, o->reuse_counters_fd);
	if (!err && o && o->reuse_list_hits_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_LIST_HITS, o->reuse_list_hits_fd);
	if (!err && o && o->reuse_list_meta_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_LIST_META, o->reuse_list_meta_fd);
	if (!err && o && o->reuse_run_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_RUN, o->reuse_run_fd);
	/* a reused learned map keeps its size (bpf_map__reuse_fd takes the map's own) */
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_LEARNED,
					       loader_learn_entries(pol, o));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.MAP_LEARN_SLOTS,
					       pol->learn_mask ? LEARN_SLOTS : 1);
	if (!err && o && o->reuse_learned_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_LEARNED, o->reuse_learned_fd);
	if (!err && o && o->reuse_learn_slots_fd >= 0)
		err = bpf_map__reuse_fd(skel->maps.MAP_LEARN_SLOTS, o->reuse_learn_slots_fd);
	if (err) {
		pr_warn("cannot size the BPF maps: %s\n", strerror(-err));
		goto cleanup;
	}
	err = guard__load(skel);
	if (err) {
		if (err == -EPERM)
			pr_warn("cannot load the BPF program: permission denied (needs root or "
				"CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)\n");
		else
			pr_warn("cannot load the BPF program: %s (run with -v for the verifier "
				"log)\n",
				strerror(-err));
		goto cleanup;
	}
	err = loader_fill(skel, pol);
	if (err)
		goto cleanup;
	*out = skel;
	skel = NULL;
cleanup:
	guard__destroy(skel);
	return err;
}
