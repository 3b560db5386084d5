// SPDX-License-Identifier: GPL-2.0-only
/*
 * The running guard's maps, and the commands that use them: `check --live`, `add` and `del`
 * (see live.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "user/attach.h"
#include "user/changes.h"
#include "user/config.h"
#include "user/domtable.h"
#include "user/fetch.h"
#include "user/live.h"
#include "user/log.h"
#include "user/registry.h"

/* The maps of a program instance, by kernel name, with the layout this build expects. */
static const struct {
	const char *name;
	__u32 key_size, value_size;
	bool mmapable, required;
} live_maps[LIVE_MAPS] = {
	[LIVE_V4_TABLE] = { GUARD_STR(MAP_V4_TABLE), 4, sizeof(struct ipt_group), true, true },
	[LIVE_V4_L3] = { GUARD_STR(MAP_V4_L3), 4, sizeof(struct ipt_cgroup), true, true },
	[LIVE_V4_RUNS] = { GUARD_STR(MAP_V4_RUNS), 4, sizeof(struct ipt_runs), true, true },
	[LIVE_V6_TABLE] = { GUARD_STR(MAP_V6_TABLE), 4, sizeof(struct ipt_group), true, true },
	[LIVE_V6_TRIE] = { GUARD_STR(MAP_V6_TRIE), sizeof(struct ipt_v6_key), 4, false, true },
	[LIVE_IP_LEAVES] = { GUARD_STR(MAP_IP_LEAVES), 4, sizeof(struct ip_leaf), false, true },
	[LIVE_DOM_BLOOM] = { GUARD_STR(MAP_DOM_BLOOM), 4, sizeof(__u64), true, true },
	[LIVE_DOM_TABLE] = { GUARD_STR(MAP_DOM_TABLE), 4, sizeof(struct dom_bucket), true, true },
	[LIVE_DOM_LEAVES] = { GUARD_STR(MAP_DOM_LEAVES), 4, sizeof(struct dom_leaf), true, true },
	[LIVE_DOM_CONFIG] = { GUARD_STR(MAP_DOM_CONFIG), 4, sizeof(struct dom_config), false,
			      true },
	[LIVE_GROUP_POLICY] = { GUARD_STR(MAP_GROUP_POLICY), 4, sizeof(struct group_policy), false,
				true },
	[LIVE_GROUP_MACS] = { GUARD_STR(MAP_GROUP_MACS), sizeof(struct group_mac_key), 4, false,
			      false },
#ifdef MAP_LEARNED
	[LIVE_LEARNED] = { GUARD_STR(MAP_LEARNED), sizeof(struct learn_key),
			   sizeof(struct learn_entry), false, false },
#endif
};

#define LIVE_OPEN_TRIES 20 /* a reload may replace the program between two reads */

int live_read_record(const char *pin_dir, struct run_record *rec, bool *alive)
{
	char path[PATH_MAX];
	__u32 key = 0;
	int fd, err = 0;

	*alive = false;
	memset(rec, 0, sizeof(*rec));
	fd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_RUN)));
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			pr_warn("cannot open %s: %s%s\n", path, strerror(-err),
				err == -EPERM || err == -EACCES ? " (needs root)" : "");
		return err;
	}
	if (bpf_map_lookup_elem(fd, &key, rec)) {
		err = -errno;
		pr_warn("cannot read %s: %s\n", path, strerror(-err));
	}
	close(fd);
	*alive = !err && rec->pid && (kill((pid_t)rec->pid, 0) == 0 || errno == EPERM);
	return err;
}

void live_close(struct live_guard *lg)
{
	int i;

	for (i = 0; i < LIVE_MAPS; i++) {
		if (lg->mem[i])
			munmap((void *)lg->mem[i], lg->mem_len[i]);
		if (lg->fd[i] >= 0)
			close(lg->fd[i]);
		lg->mem[i] = NULL;
		lg->fd[i] = -1;
	}
}

/* Keep fd if it is one of the maps we read, with the layout we expect. */
/*
 * The load-time knob var, a __u32 of the program's read-only data (map fd, info mi: its
 * ".rodata" map), found by name through the map's BTF: whichever build of bpfguard loaded it.
 * Returns 0 with *v, or -errno.
 */
static int read_rodata_u32(int fd, const struct bpf_map_info *mi, const char *var, __u32 *v)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *t;
	struct btf *btf = NULL;
	__u32 zero = 0, i;
	__u8 *val = NULL;
	int err = -ENOENT;

	if (!mi->btf_id || !mi->btf_value_type_id)
		return -ENOENT;
	btf = btf__load_from_kernel_by_id(mi->btf_id);
	val = malloc(mi->value_size);
	if (!btf || !val) {
		err = btf ? -ENOMEM : -errno;
		goto cleanup;
	}
	t = btf__type_by_id(btf, mi->btf_value_type_id);
	if (!t || !btf_is_datasec(t))
		goto cleanup;
	vsi = btf_var_secinfos(t);
	for (i = 0; i < btf_vlen(t); i++, vsi++) {
		const struct btf_type *vt = btf__type_by_id(btf, vsi->type);

		if (!vt || strcmp(btf__name_by_offset(btf, vt->name_off), var))
			continue;
		if (vsi->size != sizeof(*v) || vsi->offset + vsi->size > mi->value_size) {
			err = -EPROTO;
			goto cleanup;
		}
		if (bpf_map_lookup_elem(fd, &zero, val)) {
			err = -errno;
			goto cleanup;
		}
		memcpy(v, val + vsi->offset, sizeof(*v));
		err = 0;
		break;
	}
cleanup:
	free(val);
	btf__free(btf);
	return err;
}

static int take_map(struct live_guard *lg, int fd)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), v = 0;
	size_t n;
	int i;

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	n = strlen(mi.name);
	if (n >= 7 && !strcmp(mi.name + n - 7, ".rodata")) {
		/* the knobs check --live reports by: a program without one predates it */
		if (!read_rodata_u32(fd, &mi, "cfg_block_unexamined", &v))
			lg->block_unexamined = v != 0;
		return 0;
	}
	for (i = 0; i < LIVE_MAPS; i++) {
		if (!live_maps[i].name || strcmp(mi.name, live_maps[i].name))
			continue;
		if (mi.key_size != live_maps[i].key_size ||
		    mi.value_size != live_maps[i].value_size) {
			pr_warn("the running guard's map %s has %u-byte keys and %u-byte values, "
				"this bpfguard expects %u and %u: use the bpfguard binary the "
				"guard runs\n",
				mi.name, mi.key_size, mi.value_size, live_maps[i].key_size,
				live_maps[i].value_size);
			return -EPROTO;
		}
		if (lg->fd[i] >= 0)
			break;
		lg->fd[i] = fd;
		lg->entries[i] = mi.max_entries;
		return 1;
	}
	return 0;
}

/* The maps of program prog_fd: every one of live_maps found (required ones must be). */
static int take_prog_maps(struct live_guard *lg, int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), n, i, *ids = NULL;
	int err = 0;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids;
	ids = calloc(n ? n : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		err = -errno;
		goto cleanup;
	}
	for (i = 0; i < n && i < info.nr_map_ids; i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue; /* gone with a program being replaced: the caller retries */
		err = take_map(lg, fd);
		if (err <= 0)
			close(fd);
		if (err < 0)
			goto cleanup;
		err = 0;
	}
	for (i = 0; i < LIVE_MAPS; i++) {
		if (live_maps[i].required && lg->fd[i] < 0) {
			err = -ENOENT;
			goto cleanup;
		}
	}
cleanup:
	free(ids);
	return err;
}

static int map_tables(struct live_guard *lg)
{
	long page = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < LIVE_MAPS; i++) {
		size_t len = (size_t)lg->entries[i] * live_maps[i].value_size;
		void *mem;

		if (!live_maps[i].mmapable || lg->fd[i] < 0 || !len)
			continue;
		len = (len + page - 1) / page * page;
		mem = mmap(NULL, len, PROT_READ, MAP_SHARED, lg->fd[i], 0);
		if (mem == MAP_FAILED) {
			int err = -errno;

			pr_warn("cannot map the running guard's %s table: %s\n", live_maps[i].name,
				strerror(-err));
			return err;
		}
		lg->mem[i] = mem;
		lg->mem_len[i] = len;
	}
	return 0;
}

static void read_lists(struct live_guard *lg, const char *pin_dir)
{
	char path[PATH_MAX];
	__u32 i;
	int fd;

	lg->n_lists = 0;
	fd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_LIST_META)));
	if (fd < 0)
		return;
	for (i = 0; i < GUARD_MAX_LISTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, &lg->lists[i]) || !lg->lists[i].name[0])
			break;
		lg->n_lists = i + 1;
	}
	close(fd);
}

int live_open(const char *pin_dir, struct live_guard *lg)
{
	int tries, i, err = 0, prog_fd = -1;
	__u32 key = 0;

	memset(lg, 0, sizeof(*lg));
	for (i = 0; i < LIVE_MAPS; i++)
		lg->fd[i] = -1;
	for (tries = 0; tries < LIVE_OPEN_TRIES; tries++) {
		__u32 a;

		err = live_read_record(pin_dir, &lg->rec, &lg->alive);
		if (err)
			return err;
		for (a = 0; a < lg->rec.n_attach && a < RUN_MAX_ATTACH; a++) {
			prog_fd = bpf_prog_get_fd_by_id(lg->rec.attach[a].prog_id);
			if (prog_fd >= 0) {
				lg->prog_id = lg->rec.attach[a].prog_id;
				break;
			}
		}
		if (prog_fd >= 0) {
			live_close(lg);
			err = take_prog_maps(lg, prog_fd);
			close(prog_fd);
			prog_fd = -1;
			if (err != -ENOENT)
				break;
		} else if (!lg->rec.n_attach) {
			err = -ENOENT;
			break;
		}
		/* the program of the record was just replaced: read the record again */
		usleep(20000);
	}
	if (err == -ENOENT || (!err && !lg->prog_id)) {
		pr_warn("the guard pinned at %s has no guard program attached that this bpfguard "
			"can read (status says what is attached)\n",
			pin_dir);
		err = -ENODATA;
	}
	if (!err)
		err = map_tables(lg);
	if (!err && bpf_map_lookup_elem(lg->fd[LIVE_DOM_CONFIG], &key, &lg->dc))
		err = -errno;
	if (err) {
		live_close(lg);
		return err;
	}
	read_lists(lg, pin_dir);
	return 0;
}

/* ---- the IP tables: bpf/lib/iprule.h ---------------------------------------------------- */

static __u32 table_entry(const struct live_guard *lg, int m, __u32 gid, __u8 idx)
{
	const struct ipt_group *g = lg->mem[m];

	if (!g || gid >= lg->entries[m])
		return IPT_LEAF_NONE;
	return g[gid].e[idx];
}

static __u32 l3_entry(const struct live_guard *lg, __u32 cg, __u8 idx)
{
	const struct ipt_cgroup *c = lg->mem[LIVE_V4_L3];
	const struct ipt_runs *runs = lg->mem[LIVE_V4_RUNS];
	__u32 w = idx >> 6, rank, r;

	if (!c || cg >= lg->entries[LIVE_V4_L3])
		return IPT_LEAF_NONE;
	c += cg;
	rank = c->before[w & 3] +
	       (__u32)__builtin_popcountll(c->bits[w & 3] & (~0ull >> (63 - (idx & 63))));
	r = c->base + rank - 1;
	if (!runs || r / IPT_RUNS_PER_CHUNK >= lg->entries[LIVE_V4_RUNS])
		return IPT_LEAF_NONE;
	return runs[r / IPT_RUNS_PER_CHUNK].v[r % IPT_RUNS_PER_CHUNK];
}

__u32 live_ip_leaf(const struct live_guard *lg, int family, int dir, const __u8 *a)
{
	struct ipt_v6_key key;
	__u32 e, leaf;

	if (family == 4) {
		e = table_entry(lg, LIVE_V4_TABLE, dir * 256 + a[0], a[1]);
		if (!(e & IPT_EXT))
			return e;
		e = table_entry(lg, LIVE_V4_TABLE, e & IPT_PAYLOAD, a[2]);
		if (!(e & IPT_EXT))
			return e;
		e = l3_entry(lg, e & IPT_PAYLOAD, a[3]);
		return e & IPT_EXT ? IPT_LEAF_NONE : e;
	}
	e = table_entry(lg, LIVE_V6_TABLE, dir * 256 + a[0], a[1]);
	if (!(e & IPT_EXT))
		return e;
	e = table_entry(lg, LIVE_V6_TABLE, e & IPT_PAYLOAD, a[2]);
	if (!(e & IPT_EXT))
		return e;
	memset(&key, 0, sizeof(key));
	key.prefixlen = 8 + 128;
	key.dir = (__u8)dir;
	memcpy(key.addr, a, sizeof(key.addr));
	if (!bpf_map_lookup_elem(lg->fd[LIVE_V6_TRIE], &key, &leaf))
		return leaf;
	return e & IPT_PAYLOAD;
}

int live_ip_leaf_get(const struct live_guard *lg, __u32 id, struct ip_leaf *out)
{
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(lg->fd[LIVE_IP_LEAVES], &id, out))
		return -ENOENT;
	return 0;
}

/* ---- the domain tables: bpf/lib/domain.h ------------------------------------------------ */

static __u32 dom_probe(const struct live_guard *lg, __u64 key)
{
	const __u64 *bloom = lg->mem[LIVE_DOM_BLOOM];
	const struct dom_bucket *table = lg->mem[LIVE_DOM_TABLE];
	__u32 idx, leaf;

	idx = dh_bloom_word(key, lg->dc.bloom_mask);
	if (!bloom || idx >= lg->entries[LIVE_DOM_BLOOM] || !dh_bloom_test(bloom[idx], key))
		return DOM_LEAF_NONE;
	if (!table)
		return DOM_LEAF_NONE;
	idx = dh_bucket1(key, lg->dc.bucket_mask);
	if (idx < lg->entries[LIVE_DOM_TABLE]) {
		leaf = dom_slot_leaf(dom_bucket_find(&table[idx], key));
		if (leaf != DOM_LEAF_NONE)
			return leaf;
	}
	idx = dh_bucket2(key, lg->dc.bucket_mask);
	return idx < lg->entries[LIVE_DOM_TABLE] ?
		       dom_slot_leaf(dom_bucket_find(&table[idx], key)) :
		       DOM_LEAF_NONE;
}

static void dom_hit(const struct live_guard *lg, struct live_dom_hit *h, __u32 leaf, __u32 off,
		    bool exact)
{
	const struct dom_leaf *leaves = lg->mem[LIVE_DOM_LEAVES];

	memset(h, 0, sizeof(*h));
	h->leaf = leaf;
	h->suffix_off = off;
	h->exact = exact;
	if (leaves && leaf < lg->entries[LIVE_DOM_LEAVES])
		h->l = leaves[leaf];
}

int live_dom_lookup(const struct live_guard *lg, const char *name, struct live_dom_hit *hits)
{
	__u64 keys[DH_MAX_LABELS];
	__u32 offs[DH_MAX_LABELS], leaf;
	int n, i, nh = 0;

	n = domtable_suffix_keys(lg->dc.root, name, strlen(name), keys, offs);
	if (n < 0)
		return n;
	/* the kernel probes least specific first, each key found overriding; the exact key last */
	if (lg->dc.flags & DOM_CFG_F_EXACT) {
		leaf = dom_probe(lg, dh_exact(keys[0]));
		if (leaf != DOM_LEAF_NONE)
			dom_hit(lg, &hits[nh++], leaf, 0, true);
	}
	for (i = 0; i < n; i++) {
		leaf = dom_probe(lg, keys[i]);
		if (leaf != DOM_LEAF_NONE)
			dom_hit(lg, &hits[nh++], leaf, offs[i], false);
	}
	return nh;
}

/* ---- groups ------------------------------------------------------------------------------ */

__u32 live_group_of(const struct live_guard *lg, int family, const __u8 *addr, const __u8 *mac)
{
	struct ip_leaf l;
	__u32 leaf, g;

	if (mac) {
		struct group_mac_key k = { 0 };

		memcpy(k.mac, mac, sizeof(k.mac));
		if (lg->fd[LIVE_GROUP_MACS] >= 0 &&
		    !bpf_map_lookup_elem(lg->fd[LIVE_GROUP_MACS], &k, &g))
			return g;
		return 0;
	}
	if (!addr)
		return 0;
	leaf = live_ip_leaf(lg, family, IPT_DIR_CLIENT, addr);
	if (leaf == IPT_LEAF_NONE || live_ip_leaf_get(lg, leaf, &l))
		return 0;
	return l.flags & IP_LEAF_F_GROUP ? l.list_id : 0;
}

__u64 live_group_mask(const struct live_guard *lg, __u32 group)
{
	struct group_policy gp;

	if (bpf_map_lookup_elem(lg->fd[LIVE_GROUP_POLICY], &group, &gp))
		return 0;
	return gp.block_mask;
}

/* ---- check --live ------------------------------------------------------------------------ */

static const char *list_name(const struct live_guard *lg, __u32 id)
{
	return id < lg->n_lists ? lg->lists[id].name : "?";
}

/* A category's name, from any list of that category. */
static const char *category_name(const struct live_guard *lg, __u32 cat, char *buf, size_t len)
{
	__u32 i;

	for (i = 0; i < lg->n_lists; i++)
		if (lg->lists[i].category_id == cat)
			return lg->lists[i].category;
	snprintf(buf, len, "#%u", cat);
	return buf;
}

/*
 * The category to name for a leaf: its list's own when that one blocks under mask, else the
 * first blocked one; with nothing blocked, its list's.
 */
static __u32 leaf_category(const struct live_guard *lg, __u64 cats, __u32 list_id, __u64 mask)
{
	__u64 on = cats & mask;

	if (list_id < lg->n_lists && (on & (1ull << (lg->lists[list_id].category_id & 63))))
		return lg->lists[list_id].category_id;
	if (on)
		return (__u32)__builtin_ctzll(on);
	return list_id < lg->n_lists ? lg->lists[list_id].category_id : 0;
}

struct live_line {
	const char *verdict;
	const char *list; /* NULL: no entry */
	const char *category;
	char entry[DH_MAX_NAME + 8]; /* names: the suffix that matched; "" for addresses */
	const char *match; /* "subtree" / "exact"; NULL for addresses */
	const char *direction; /* addresses */
	const char *note;
};

/*
 * The name of group id in the running guard's config (the run record's path), into buf: the
 * maps hold no group names. "#ID" when the file changed after the policy in force was loaded
 * (its groups may be others now) or cannot be read.
 */
static void diag_quiet(void *ctx, enum diag_severity sev, const char *file, int line,
		       const char *msg)
{
	(void)ctx, (void)sev, (void)file, (void)line, (void)msg;
}

static const char *group_name(const struct live_guard *lg, __u32 id, char *buf, size_t len)
{
	struct diag quiet = { .cb = diag_quiet };
	struct guard_config *cfg = NULL;
	struct stat st;

	snprintf(buf, len, "#%u", id);
	if (id == 0) {
		snprintf(buf, len, "default");
		return buf;
	}
	if (lg->rec.config[0] != '/' || stat(lg->rec.config, &st) ||
	    (__u64)st.st_mtime > lg->rec.loaded)
		return buf;
	if (config_load(lg->rec.config, &quiet, &cfg))
		return buf;
	if (id <= (__u32)cfg->n_groups)
		snprintf(buf, len, "%s", cfg->groups[id - 1].name);
	config_free(cfg);
	return buf;
}

static void print_line(const struct check_opts *o, const struct live_guard *lg,
		       const struct live_line *l, bool with_group, __u32 group)
{
	char gname[LIST_NAME_LEN + 8];

	if (with_group)
		group_name(lg, group, gname, sizeof(gname));
	if (o->json) {
		printf("{\"decision\": \"%s\", \"target\": \"%s\"", l->verdict, o->target);
		if (!l->list && l->category)
			printf(", \"category\": \"%s\", \"learned\": true", l->category);
		if (l->list) {
			printf(", \"list\": \"%s\", \"category\": \"%s\"", l->list, l->category);
			if (l->match)
				printf(", \"entry\": \"%s\", \"match\": \"%s\"", l->entry,
				       l->match);
			if (l->direction)
				printf(", \"direction\": \"%s\"", l->direction);
		}
		if (with_group)
			printf(", \"group\": \"%s\", \"group_id\": %u", gname, group);
		if (l->note)
			printf(", \"note\": \"%s\"", l->note);
		printf(", \"live\": true, \"generation\": %u}\n", lg->rec.generation);
		return;
	}
	printf("%s %s", l->verdict, o->target);
	if (!l->list && l->category)
		printf(" category=%s", l->category);
	if (l->list) {
		printf(" list=%s category=%s", l->list, l->category);
		if (l->match)
			printf(" entry=%s match=%s", l->entry, l->match);
		if (l->direction)
			printf(" direction=%s", l->direction);
	}
	if (with_group)
		printf(" group=%s", gname);
	if (l->note)
		printf(" %s", l->note);
	printf(" (live, generation %u)\n", lg->rec.generation);
}

enum { J_NOMATCH, J_DROP, J_ALLOW, J_OFF };

static int ip_judge(const struct live_guard *lg, __u32 leaf, __u64 mask, struct ip_leaf *l)
{
	if (leaf == IPT_LEAF_NONE || live_ip_leaf_get(lg, leaf, l))
		return J_NOMATCH;
	if (l->block_cats & mask)
		return J_DROP;
	if (l->flags & IP_LEAF_F_ALLOW)
		return J_ALLOW;
	return l->block_cats ? J_OFF : J_NOMATCH;
}

/*
 * bpf/lib/learn.h's learn_judge: an address a DNS answer gave for a name of a learned category,
 * not expired, with a category blocked now. Returns true (out set to block) when it drops.
 */
static bool learned(const struct live_guard *lg, const struct ip_prefix *t, __u64 mask,
		    struct live_line *out, char *cbuf, size_t clen)
{
#ifdef MAP_LEARNED
	struct learn_entry e;
	struct learn_key k = { .family = t->family };
	struct timespec ts;
	__u64 on;

	if (lg->fd[LIVE_LEARNED] < 0)
		return false;
	memcpy(k.addr, t->addr, t->family == 4 ? 4 : 16);
	if (bpf_map_lookup_elem(lg->fd[LIVE_LEARNED], &k, &e))
		return false;
	/* the kernel's bpf_ktime_get_coarse_ns() is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	on = e.cats & mask;
	if ((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec >= e.expires || !on)
		return false;
	out->verdict = "block";
	out->list = NULL;
	out->category = category_name(lg, (__u32)__builtin_ctzll(on), cbuf, clen);
	out->direction = NULL;
	out->note = "(learned: a DNS answer gave this address for a name of that category)";
	return true;
#else
	(void)lg;
	(void)t;
	(void)mask;
	(void)out;
	(void)cbuf;
	(void)clen;
	return false;
#endif
}

/* bpf/lib/verdict.h's guard_ip_decide: the destination, then the source. */
static void check_ip(const struct check_opts *o, const struct live_guard *lg,
		     const struct ip_prefix *t, __u64 mask, struct live_line *out, char *cbuf,
		     size_t clen)
{
	struct ip_leaf dl, sl;
	int dj, sj, dir = IPT_DIR_DST;

	(void)o;
	dj = ip_judge(lg, live_ip_leaf(lg, t->family, IPT_DIR_DST, t->addr), mask, &dl);
	if (dj != J_DROP) {
		sj = ip_judge(lg, live_ip_leaf(lg, t->family, IPT_DIR_SRC, t->addr), mask, &sl);
		if (sj == J_DROP || dj == J_NOMATCH) {
			dj = sj;
			dl = sl;
			dir = IPT_DIR_SRC;
		}
	}
	out->verdict = dj == J_DROP ? "block" : dj == J_ALLOW ? "allow" : "pass";
	if ((dj == J_NOMATCH || dj == J_OFF) && learned(lg, t, mask, out, cbuf, clen))
		return;
	if (dj == J_NOMATCH)
		return;
	out->list = list_name(lg, dl.list_id);
	out->category =
		category_name(lg, leaf_category(lg, dl.block_cats, dl.list_id, mask), cbuf, clen);
	out->direction = dir == IPT_DIR_SRC ? "source" : "destination";
	if (dj == J_OFF)
		out->note = "(category not blocked for this client now)";
}

/*
 * bpf/lib/domain.h's lookup, then the verdict rule of the leaf found. The entry named: the
 * suffix whose key decided; for a block, the most specific key of the chain whose list has the
 * category that blocks (an `adult` subtree above a `games` entry blocks as adult).
 */
static int check_name(const struct check_opts *o, const struct live_guard *lg, __u64 mask,
		      struct live_line *out, char *cbuf, size_t clen)
{
	struct live_dom_hit hits[LIVE_MAX_HITS];
	char name[DH_MAX_NAME + 3];
	const char *why = NULL, *q = o->target;
	const struct live_dom_hit *h;
	size_t len;
	int n, i, k = 0;

	if (!domain_normalize(o->target, name, sizeof(name), &why)) {
		q = name;
	} else {
		len = strlen(o->target);
		if (len < sizeof(name)) {
			/* as the kernel sees it: one trailing dot ignored, any case */
			memcpy(name, o->target, len + 1);
			if (len > 0 && name[len - 1] == '.')
				name[len - 1] = '\0';
			q = name;
		}
	}
	n = live_dom_lookup(lg, q, hits);
	if (n == -ENAMETOOLONG || (n < 0 && strlen(q) > DH_MAX_NAME)) {
		out->verdict = lg->block_unexamined ? "block" : "pass";
		out->note =
			lg->block_unexamined ?
				"(longer than 253 characters, 127 labels or a 63-byte label: the "
				"guard cannot examine it, and blocks it: unexamined = block)" :
				"(longer than 253 characters, 127 labels or a 63-byte label: the "
				"guard cannot examine it and counts it as such)";
		return 0;
	}
	if (n < 0) {
		pr_warn("'%s' is neither an IP address nor a domain name (%s); give an address like "
			"192.0.2.1 or a name like www.example.com\n",
			o->target, why ? why : "empty label");
		return 2;
	}
	out->verdict = "pass";
	if (n == 0)
		return 0;
	h = &hits[0];
	if (h->l.block_cats & mask) {
		__u32 cat = leaf_category(lg, h->l.block_cats, h->l.list_id, mask);

		out->verdict = "block";
		for (i = 0; i < n; i++) {
			if (i > 0 && (hits[i].l.flags & DOM_LEAF_F_ALLOW))
				break;
			if (hits[i].l.list_id < lg->n_lists &&
			    lg->lists[hits[i].l.list_id].category_id == cat) {
				k = i;
				break;
			}
		}
		out->category = category_name(lg, cat, cbuf, clen);
	} else if (h->l.flags & DOM_LEAF_F_ALLOW) {
		out->verdict = "allow";
		out->category =
			category_name(lg, leaf_category(lg, 0, h->l.list_id, 0), cbuf, clen);
	} else {
		out->category = category_name(
			lg, leaf_category(lg, h->l.block_cats, h->l.list_id, 0), cbuf, clen);
		if (h->l.block_cats)
			out->note = "(category not blocked for this client now)";
	}
	h = &hits[k];
	out->list = list_name(lg, h->l.list_id);
	snprintf(out->entry, sizeof(out->entry), "%s%s", h->exact ? "full:" : "",
		 q + h->suffix_off);
	out->match = h->exact ? "exact" : "subtree";
	return 0;
}

int live_check_run(const struct check_opts *o)
{
	struct live_line line = { .verdict = "pass" };
	struct ip_prefix target, client = { 0 };
	const char *pin_dir = o->pin_dir ? o->pin_dir : PIN_DIR;
	const char *why = NULL;
	struct live_guard lg;
	__u8 mac[6];
	bool has_mac = false;
	char cbuf[16];
	__u32 group = 0;
	__u64 mask;
	int ret = 0, err;

	if (o->at) {
		pr_warn("--at evaluates the config's schedules at another time, and the live maps "
			"hold what is in force now: give -c CONF (without --live) to check at %s\n",
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
	err = live_open(pin_dir, &lg);
	if (err == -ENOENT) {
		pr_warn("no guard is running: nothing pinned at %s (start one with `bpfguard run -c "
			"CONF`, give --pin-dir, or check against a config with -c CONF)\n",
			pin_dir);
		return 2;
	}
	if (err)
		return 2;
	if (o->client)
		group = live_group_of(&lg, client.family, has_mac ? NULL : client.addr,
				      has_mac ? mac : NULL);
	mask = live_group_mask(&lg, group);
	if (ip_prefix_parse(o->target, &target, false, &why))
		ret = check_name(o, &lg, mask, &line, cbuf, sizeof(cbuf));
	else
		check_ip(o, &lg, &target, mask, &line, cbuf, sizeof(cbuf));
	if (!ret)
		print_line(o, &lg, &line, o->client != NULL, group);
	live_close(&lg);
	return ret;
}

/* ---- add and del --------------------------------------------------------------------------- */

static const struct cfg_list *find_list(const struct guard_config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->n_lists; i++)
		if (!strcmp(cfg->lists[i].name, name))
			return &cfg->lists[i];
	return NULL;
}

static void say_lists(const struct guard_config *cfg)
{
	int i;

	if (!cfg->n_lists) {
		fprintf(stderr, "  (%s has no [list] section)\n", cfg->path);
		return;
	}
	fprintf(stderr, "  the lists of %s:", cfg->path);
	for (i = 0; i < cfg->n_lists; i++)
		fprintf(stderr, "%s %s", i ? "," : "", cfg->lists[i].name);
	fprintf(stderr, "\n");
}

/* "FILE:LINE" of where the list's file has it, for messages. */
static const char *where(const struct change_req *r, const char *list_path, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d", r->file ? r->file : list_path ? list_path : "?", r->line);
	return buf;
}

/* One line per request: what was done. Returns true when the request is a failure (stderr). */
static bool say_result(const struct change_req *r, const char *list, const char *list_path,
		       bool file_known, const char *suffix)
{
	char w[PATH_MAX + 16], c[PATH_MAX + 16];
	const char *x = r->e.name;

	switch (r->result) {
	case CR_ADDED:
		printf("added %s to list %s%s\n", x, list, suffix);
		break;
	case CR_RESTORED:
		printf("%s is back in list %s (%s)%s\n", x, list, where(r, list_path, w, sizeof(w)),
		       suffix);
		break;
	case CR_IN_FILE:
		printf("%s is already in list %s (%s): nothing to do\n", x, list,
		       where(r, list_path, w, sizeof(w)));
		break;
	case CR_ALREADY_ADDED:
		printf("%s was already added to list %s: nothing to do\n", x, list);
		break;
	case CR_CANCELLED:
		printf("removed %s from list %s (it had been added with `bpfguard add`)%s\n", x,
		       list, suffix);
		break;
	case CR_HIDDEN:
		if (r->line)
			printf("deleted %s from list %s (%s is skipped)%s\n", x, list,
			       where(r, list_path, w, sizeof(w)), suffix);
		else
			printf("deleted %s from list %s%s\n", x, list, suffix);
		break;
	case CR_ALREADY_DELETED:
		printf("%s is already deleted from list %s: nothing to do\n", x, list);
		break;
	case CR_NOT_FOUND:
		fprintf(stderr, "bpfguard del: %s is not in list %s (neither in %s nor added)", x,
			list, file_known && list_path ? list_path : "its file");
		if (r->cover_line) {
			snprintf(c, sizeof(c), "%s:%d", r->cover_file ? r->cover_file : "?",
				 r->cover_line);
			fprintf(stderr,
				"; %s (%s) covers it: del %s, or add %s to an allow list to let it "
				"through",
				r->cover, c, r->cover, x);
		}
		fprintf(stderr, "\n");
		return true;
	}
	return false;
}

static bool is_change(int result)
{
	return result == CR_ADDED || result == CR_RESTORED || result == CR_CANCELLED ||
	       result == CR_HIDDEN;
}

/* Does the live guard show request r done? Unknown cases (an address deleted) count as yes. */
static bool shows(const struct live_guard *lg, const struct cfg_list *l, const struct change_req *r)
{
	bool present = r->result == CR_ADDED || r->result == CR_RESTORED;
	struct live_dom_hit hits[LIVE_MAX_HITS];
	__u32 list_id;
	int n;

	for (list_id = 0; list_id < lg->n_lists; list_id++)
		if (!strcmp(lg->lists[list_id].name, l->name))
			break;
	if (list_id == lg->n_lists)
		return false; /* the guard does not have this list (yet) */
	if (r->e.kind == REG_IP) {
		int dir = l->direction & LIST_DIR_DST ? IPT_DIR_DST : IPT_DIR_SRC;

		/* an entry always leaves a leaf over its first address; a deletion cannot be seen */
		return !present ||
		       live_ip_leaf(lg, r->e.prefix.family, dir, r->e.prefix.addr) != IPT_LEAF_NONE;
	}
	n = live_dom_lookup(lg, r->e.name, hits);
	if (n < 0)
		return true;
	if (present)
		return n > 0 && hits[0].suffix_off == 0;
	/* deleted: no key of the name itself owned by this list */
	return !(n > 0 && hits[0].suffix_off == 0 && hits[0].l.list_id == list_id);
}

static bool all_shown(const char *pin_dir, const struct cfg_list *l, const struct change_req *r,
		      size_t n)
{
	struct live_guard lg;
	bool ok = true;
	size_t i;

	if (live_open(pin_dir, &lg))
		return false;
	for (i = 0; ok && i < n; i++)
		if (is_change(r[i].result))
			ok = shows(&lg, l, &r[i]);
	live_close(&lg);
	return ok;
}

static double since(__u64 t0)
{
	return (double)(now_ns() - t0) / 1e9;
}

/*
 * SIGHUP the guard and wait until a load newer than gen0 shows every change, at most timeout_s.
 * Returns 0 (*gen the generation in force), -ETIMEDOUT, -ESRCH (the guard stopped), -EIO (the
 * guard's reload failed: the run record counts it), -errno.
 */
static int reload_and_wait(const char *pin_dir, const struct run_record *rec0,
			   const struct cfg_list *l, const struct change_req *r, size_t n,
			   unsigned int timeout_s, __u32 *gen)
{
	__u64 deadline = now_ns() + (__u64)timeout_s * 1000000000ull;
	__u32 seen = rec0->generation;
	struct run_record rec;
	bool alive;
	int err;

	if (kill((pid_t)rec0->pid, SIGHUP) < 0) {
		err = -errno;
		pr_warn("cannot signal the guard (pid %u): %s%s\n", rec0->pid, strerror(-err),
			err == -EPERM ? " (needs root, or the user the guard runs as)" : "");
		return err;
	}
	for (;;) {
		usleep(10000);
		err = live_read_record(pin_dir, &rec, &alive);
		if (err == -ENOENT || (!err && (!alive || rec.pid != rec0->pid)))
			return -ESRCH;
		if (err)
			return err;
		/*
		 * A newer load. One that was already running when the change was written may not
		 * have read it: then the maps do not show it yet, and the load our signal asked for
		 * comes next.
		 */
		if (rec.generation != seen) {
			seen = rec.generation;
			if (all_shown(pin_dir, l, r, n)) {
				*gen = rec.generation;
				return 0;
			}
		}
		/* a failed reload after our signal: no later one will come by itself */
		if (rec.reloads_failed != rec0->reloads_failed)
			return -EIO;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

int live_change_run(const struct live_change_opts *o)
{
	const char *cmd = o->op == CHANGE_ADD ? "add" : "del";
	struct diag diag = { .max_print = 20 };
	struct guard_config *cfg = NULL;
	struct change_req *reqs = NULL;
	const struct cfg_list *l;
	struct fetch_result fr;
	struct run_record rec;
	const char *config, *list_path;
	char why[512], suffix[128] = "";
	__u64 t0 = now_ns();
	bool pinned, alive = false, changed = false, missing = false, file_known;
	size_t i, n = (size_t)o->n_entries, n_changes = 0;
	__u32 gen = 0;
	int ret = 2, err;

	reqs = calloc(n ? n : 1, sizeof(*reqs));
	if (!reqs)
		return 2;
	for (i = 0; i < n; i++) {
		if (change_entry_parse(o->entries[i], &reqs[i].e, why, sizeof(why))) {
			fprintf(stderr, "bpfguard %s: %s\n", cmd, why);
			missing = true;
		}
	}
	if (missing) {
		fprintf(stderr, "bpfguard %s: nothing was changed\n", cmd);
		goto cleanup;
	}

	/* The guard's own config unless -c says otherwise: its state_dir is where it reads. */
	err = live_read_record(o->pin_dir, &rec, &alive);
	if (err && err != -ENOENT)
		goto cleanup;
	pinned = !err;
	config = o->config_path;
	if (!config)
		config = pinned && rec.config[0] == '/' ? rec.config : o->default_config;
	if (config_load(config, &diag, &cfg))
		goto cleanup;
	if (o->config_path && pinned && alive && rec.config[0] == '/') {
		char a[PATH_MAX], b[PATH_MAX];

		if (realpath(o->config_path, a) && realpath(rec.config, b) && strcmp(a, b))
			pr_warn("bpfguard %s: note: the running guard (pid %u) uses %s, not %s: it "
				"reads the changes of %s's state_dir only if it is the same\n",
				cmd, rec.pid, rec.config, o->config_path, rec.config);
	}
	l = find_list(cfg, o->list);
	if (!l) {
		fprintf(stderr, "bpfguard %s: no [list %s] in %s\n", cmd, o->list, cfg->path);
		say_lists(cfg);
		goto cleanup;
	}
	list_path = l->path;
	if (!list_path) {
		memset(&fr, 0, sizeof(fr));
		list_path = fetch_cached(l, cfg->state_dir, false, &fr) ? NULL : fr.path;
	}
	err = changes_edit(cfg->state_dir, l->name, list_path, o->op, reqs, n, &diag, &changed);
	if (err) {
		if (err == -EINVAL)
			fprintf(stderr, "bpfguard %s: nothing was changed\n", cmd);
		goto cleanup;
	}
	file_known = list_path && !access(list_path, R_OK);
	for (i = 0; i < n; i++)
		n_changes += is_change(reqs[i].result);
	missing = false;
	for (i = 0; i < n; i++)
		missing |= reqs[i].result == CR_NOT_FOUND;

	if (!changed) {
		for (i = 0; i < n; i++)
			say_result(&reqs[i], l->name, list_path, file_known, "");
		ret = missing ? 1 : 0;
		goto cleanup;
	}
	if (!pinned || !alive) {
		if (!pinned)
			snprintf(suffix, sizeof(suffix),
				 " (saved; no guard is running: in force when `bpfguard run` "
				 "starts)");
		else
			snprintf(suffix, sizeof(suffix),
				 " (saved; the guard (pid %u) is not running and its last policy "
				 "stays attached: in force at the next `bpfguard run`)",
				 rec.pid);
		for (i = 0; i < n; i++)
			say_result(&reqs[i], l->name, list_path, file_known,
				   n == 1 && is_change(reqs[i].result) ? suffix : "");
		if (n > 1)
			printf("%zu change%s to list %s%s\n", n_changes, n_changes == 1 ? "" : "s",
			       l->name, suffix);
		ret = missing ? 1 : 0;
		goto cleanup;
	}
	if (n > 1)
		for (i = 0; i < n; i++)
			say_result(&reqs[i], l->name, list_path, file_known, "");
	fflush(stdout);
	err = reload_and_wait(o->pin_dir, &rec, l, reqs, n, o->timeout_s, &gen);
	if (!err) {
		snprintf(suffix, sizeof(suffix), " (in force, generation %u, %.1f s)", gen,
			 since(t0));
		if (n == 1)
			say_result(&reqs[0], l->name, list_path, file_known, suffix);
		else
			printf("%zu change%s to list %s in force (generation %u, %.1f s)\n",
			       n_changes, n_changes == 1 ? "" : "s", l->name, gen, since(t0));
		ret = missing ? 1 : 0;
		goto cleanup;
	}
	if (n == 1)
		say_result(&reqs[0], l->name, list_path, file_known, " (saved)");
	if (err == -ESRCH)
		fprintf(stderr,
			"bpfguard %s: the guard (pid %u) stopped before it loaded the change: it "
			"takes effect at the next `bpfguard run`\n",
			cmd, rec.pid);
	else if (err == -EIO)
		fprintf(stderr,
			"bpfguard %s: the guard (pid %u) could not reload, and keeps its running "
			"policy: the reason is in its log (the output of `bpfguard run`, e.g. "
			"journalctl -u bpfguard). The change is saved in %s/%s/%s.txt and applies at "
			"its next successful load\n",
			cmd, rec.pid, cfg->state_dir, CHANGES_SUBDIR, l->name);
	else if (err == -ETIMEDOUT)
		fprintf(stderr,
			"bpfguard %s: the guard (pid %u) did not load the change within %u s: its "
			"reload failed or is still running; the reason is in its log (the output of "
			"`bpfguard run`, e.g. journalctl -u bpfguard). The change is saved in %s/%s/"
			"%s.txt and applies at its next successful load\n",
			cmd, rec.pid, o->timeout_s, cfg->state_dir, CHANGES_SUBDIR, l->name);
	ret = 1;
cleanup:
	change_reqs_release(reqs, n);
	free(reqs);
	config_free(cfg);
	return ret;
}
