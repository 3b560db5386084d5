// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon (`run`) and `status`: see daemon.h. A reload builds a whole new program instance
 * with its tables filled, sharing the counters, and swaps it onto every attachment in one
 * atomic operation each (bpf_link_update for XDP, BPF_TC_F_REPLACE for TC): at no moment is a
 * partial or empty table in force. The old instance is freed after the swap.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/attach.h"
#include "user/daemon.h"
#include "user/fetch.h"
#include "user/http.h"
#include "user/loader.h"
#include "user/schedule.h"
#include "user/log.h"
#include "user/stats.h"

#define MAX_ATTACH (3 * CFG_MAX_IFACES)
#define RELOAD_DEBOUNCE_NS (300 * 1000000ull)

/* The maps that outlive a program instance: pinned, and reused by every reload. */
static const char *const pinned_maps[] = {
	GUARD_STR(MAP_COUNTERS),
	GUARD_STR(MAP_LIST_HITS),
	GUARD_STR(MAP_LIST_META),
	GUARD_STR(MAP_RUN),
	/* unless a policy needs them larger: replace_learned() */
	GUARD_STR(MAP_LEARNED),
	GUARD_STR(MAP_LEARN_SLOTS),
};
#define PIN_LEARNED 4
#define PIN_LEARN_SLOTS 5

struct daemon {
	const struct daemon_opts *o;
	struct guard_config *cfg;
	struct guard_policy *pol;
	struct guard *skel;
	struct attach_point ap[MAX_ATTACH];
	char link_pin[MAX_ATTACH][PATH_MAX];
	int n_ap;
	int pin_fd[ARRAY_SIZE(pinned_maps)]; /* fds of the pinned maps, -1 if none yet */
	struct run_record rec;
	int sfd, mfd, ifd;
	__u64 reload_due;
	/* the last reload failed: any change in the watched directories tries again */
	bool retry_on_any_change;
	bool adopted; /* pins of a guard that died were there at start: its filters are ours */
	struct run_record old_rec; /* the dead guard's record, when adopted */
	time_t fetch_due[GUARD_MAX_LISTS]; /* url lists: when to ask the source again (0: none) */
	time_t masks_due; /* when a schedule next changes a group's mask (SCHEDULE_NEVER: never) */
};

/* How long the daemon trusts a computed next schedule change: the clock may be set meanwhile. */
#define SCHEDULE_RECHECK_S 30

static int prog_fd_for(struct guard *skel, int kind)
{
	switch (kind) {
	case ATTACH_TC_INGRESS:
		return bpf_program__fd(skel->progs.guard_tc_ingress);
	case ATTACH_TC_EGRESS:
		return bpf_program__fd(skel->progs.guard_tc_egress);
	default:
		return bpf_program__fd(skel->progs.guard_xdp);
	}
}

static struct bpf_map *pinned_map(struct guard *skel, unsigned int i)
{
	struct bpf_map *maps[] = { skel->maps.MAP_COUNTERS,  skel->maps.MAP_LIST_HITS,
				   skel->maps.MAP_LIST_META, skel->maps.MAP_RUN,
				   skel->maps.MAP_LEARNED,   skel->maps.MAP_LEARN_SLOTS };

	return maps[i];
}

/* Whether the pinned map at pin_fd[i] has at least n entries. */
static bool pin_holds(const struct daemon *d, unsigned int i, __u32 n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return d->pin_fd[i] >= 0 && !bpf_obj_get_info_by_fd(d->pin_fd[i], &info, &len) &&
	       info.max_entries >= n;
}

static void load_opts(const struct daemon *d, const struct guard_policy *pol,
		      struct loader_opts *lo)
{
	*lo = (struct loader_opts)LOADER_OPTS_INIT;
	lo->headroom = 0.1;
	lo->reuse_counters_fd = d->pin_fd[0];
	lo->reuse_list_hits_fd = d->pin_fd[1];
	lo->reuse_list_meta_fd = d->pin_fd[2];
	lo->reuse_run_fd = d->pin_fd[3];
	/* the learned addresses and their filter go together, when large enough for pol */
	if (pin_holds(d, PIN_LEARNED, loader_learn_entries(pol, lo)) &&
	    pin_holds(d, PIN_LEARN_SLOTS, pol->learn_mask ? LEARN_SLOTS : 1)) {
		lo->reuse_learned_fd = d->pin_fd[PIN_LEARNED];
		lo->reuse_learn_slots_fd = d->pin_fd[PIN_LEARN_SLOTS];
	}
}

/*
 * The pinned learned maps are too small for the policy skel was loaded with (learning turned
 * on by a reload, or adopted from a guard that did not learn), or missing: pin skel's instead.
 * What the old ones held is lost; they learned nothing the new policy would use.
 */
static void replace_learned(struct daemon *d, struct guard *skel)
{
	unsigned int i;
	char path[PATH_MAX];
	int err;

	for (i = PIN_LEARNED; i <= PIN_LEARN_SLOTS; i++) {
		pin_path(path, sizeof(path), d->o->pin_dir, pinned_maps[i]);
		if (d->pin_fd[i] >= 0) {
			unlink(path);
			close(d->pin_fd[i]);
			d->pin_fd[i] = -1;
		}
		err = bpf_map__pin(pinned_map(skel, i), path);
		if (err) {
			pr_warn("cannot pin %s: %s (the learned addresses will not outlive this "
				"policy; check that %s is on a bpf file system)\n",
				path, strerror(-err), d->o->pin_dir);
			continue;
		}
		d->pin_fd[i] = dup(bpf_map__fd(pinned_map(skel, i)));
	}
}

/*
 * Does every category of old keep its id in new? Learned addresses carry category bits: when
 * a reload renumbers categories (a list removed or moved), those bits would name others.
 */
static bool same_category_ids(const struct guard_config *old, const struct guard_config *new)
{
	int i;

	if (new->n_categories < old->n_categories)
		return false;
	for (i = 0; i < old->n_categories; i++)
		if (strcmp(old->categories[i], new->categories[i]))
			return false;
	return true;
}

static int write_record(struct daemon *d)
{
	__u32 key = 0;
	int i;

	d->rec.n_attach = d->n_ap;
	for (i = 0; i < d->n_ap; i++) {
		struct run_attach *ra = &d->rec.attach[i];

		str_copy(ra->ifname, d->ap[i].ifname, sizeof(ra->ifname));
		ra->ifindex = d->ap[i].ifindex;
		ra->kind = d->ap[i].kind;
		ra->prog_id = d->ap[i].prog_id;
		ra->flags = d->ap[i].hook_created ? RUN_ATTACH_F_HOOK_CREATED : 0;
	}
	d->rec.n_lists = d->pol->n_lists;
	if (bpf_map_update_elem(d->pin_fd[3], &key, &d->rec, BPF_ANY)) {
		pr_warn("cannot write the run record: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Refuse to start beside a live guard on the same pins; reuse the pins of a dead one. */
static int adopt_pins(struct daemon *d)
{
	char path[PATH_MAX];
	struct run_record rec;
	unsigned int i;
	__u32 key = 0;

	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		d->pin_fd[i] =
			bpf_obj_get(pin_path(path, sizeof(path), d->o->pin_dir, pinned_maps[i]));
		if (d->pin_fd[i] < 0 && errno != ENOENT) {
			pr_warn("cannot open %s: %s\n", path, strerror(errno));
			return -errno;
		}
	}
	if (d->pin_fd[3] >= 0 && !bpf_map_lookup_elem(d->pin_fd[3], &key, &rec) && rec.pid &&
	    rec.pid != (__u32)getpid() && kill((pid_t)rec.pid, 0) == 0) {
		pr_warn("a guard is already running (pid %u, config %s) with its pins at %s: stop it "
			"first (kill %u), or give another --pin-dir\n",
			rec.pid, rec.config, d->o->pin_dir, rec.pid);
		return -EBUSY;
	}
	if (d->pin_fd[0] >= 0) {
		d->adopted = true;
		if (d->pin_fd[3] >= 0 && !bpf_map_lookup_elem(d->pin_fd[3], &key, &rec))
			d->old_rec = rec;
		pr_info("adopting the pins of a guard that stopped without cleaning up\n");
	}
	return 0;
}

static int pin_new_maps(struct daemon *d)
{
	char path[PATH_MAX];
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		if (d->pin_fd[i] >= 0)
			continue;
		err = bpf_map__pin(pinned_map(d->skel, i),
				   pin_path(path, sizeof(path), d->o->pin_dir, pinned_maps[i]));
		if (err) {
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
			return err;
		}
		d->pin_fd[i] = dup(bpf_map__fd(pinned_map(d->skel, i)));
	}
	return 0;
}

static int attach_all(struct daemon *d)
{
	const struct guard_config *c = d->cfg;
	__u32 j;
	int i, err;

	for (i = 0; i < c->n_ifaces; i++) {
		snprintf(d->link_pin[d->n_ap], PATH_MAX, "%s/link_xdp_%s", d->o->pin_dir,
			 c->ifaces[i]);
		err = attach_xdp(prog_fd_for(d->skel, ATTACH_XDP_NATIVE), c->ifaces[i], c->xdp_mode,
				 d->link_pin[d->n_ap], &d->ap[d->n_ap]);
		if (err)
			return err;
		d->n_ap++;
	}
	for (i = 0; i < c->n_tc_ingress + c->n_tc_egress; i++) {
		bool egress = i >= c->n_tc_ingress;
		const char *ifname = egress ? c->tc_egress[i - c->n_tc_ingress] : c->tc_ingress[i];
		/* pins left by a dead guard: its TC filters are ours to take over */
		bool stale = d->adopted;

		d->link_pin[d->n_ap][0] = '\0';
		err = attach_tc(prog_fd_for(d->skel, egress ? ATTACH_TC_EGRESS : ATTACH_TC_INGRESS),
				ifname, egress, stale, &d->ap[d->n_ap]);
		if (err)
			return err;
		/* a clsact qdisc the dead guard created is ours to remove at the end */
		for (j = 0; stale && j < d->old_rec.n_attach && j < RUN_MAX_ATTACH; j++)
			if (!strcmp(d->old_rec.attach[j].ifname, ifname) &&
			    d->old_rec.attach[j].kind == (__u32)d->ap[d->n_ap].kind &&
			    (d->old_rec.attach[j].flags & RUN_ATTACH_F_HOOK_CREATED))
				d->ap[d->n_ap].hook_created = true;
		d->n_ap++;
	}
	return 0;
}

static void detach_all(struct daemon *d)
{
	while (d->n_ap > 0) {
		d->n_ap--;
		attach_detach(&d->ap[d->n_ap],
			      d->link_pin[d->n_ap][0] ? d->link_pin[d->n_ap] : NULL);
	}
}

static void unpin_all(struct daemon *d)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		unlink(pin_path(path, sizeof(path), d->o->pin_dir, pinned_maps[i]));
		if (d->pin_fd[i] >= 0)
			close(d->pin_fd[i]);
		d->pin_fd[i] = -1;
	}
	if (rmdir(d->o->pin_dir) && errno != ENOENT)
		pr_warn("cannot remove %s: %s (something else is pinned there)\n", d->o->pin_dir,
			strerror(errno));
}

static bool same_interfaces(const struct guard_config *a, const struct guard_config *b)
{
	return a->n_ifaces == b->n_ifaces && a->n_tc_ingress == b->n_tc_ingress &&
	       a->n_tc_egress == b->n_tc_egress && a->xdp_mode == b->xdp_mode &&
	       !memcmp(a->ifaces, b->ifaces, sizeof(a->ifaces)) &&
	       !memcmp(a->tc_ingress, b->tc_ingress, sizeof(a->tc_ingress)) &&
	       !memcmp(a->tc_egress, b->tc_egress, sizeof(a->tc_egress));
}

static void watch_files(struct daemon *d);

/* When each url list is due for a refresh, from what its copy's metadata says. */
static void plan_fetches(struct daemon *d)
{
	struct fetch_result fr;
	int i;

	for (i = 0; i < GUARD_MAX_LISTS; i++) {
		const struct cfg_list *l = &d->cfg->lists[i];

		d->fetch_due[i] = 0;
		if (i >= d->cfg->n_lists || !l->url)
			continue;
		memset(&fr, 0, sizeof(fr));
		fetch_cached(l, d->cfg->state_dir, false, &fr);
		d->fetch_due[i] = fetch_next_due(l, &fr);
		if (d->fetch_due[i] <= 0)
			d->fetch_due[i] = time(NULL);
	}
}

/* Refresh the url lists that are due; new content schedules a reload. */
static void run_fetches(struct daemon *d)
{
	time_t now = time(NULL);
	struct fetch_result fr;
	int i;

	for (i = 0; i < d->cfg->n_lists; i++) {
		const struct cfg_list *l = &d->cfg->lists[i];

		if (!l->url || !d->fetch_due[i] || d->fetch_due[i] > now)
			continue;
		memset(&fr, 0, sizeof(fr));
		if (fetch_list(l, d->cfg->state_dir, &fr))
			pr_warn("[list %s]: %s; the loaded entries stay in force\n", l->name,
				fr.message);
		else if (fr.status == FETCH_NEW) {
			pr_warn("[list %s]: new content from %s\n", l->name, l->url);
			d->reload_due = now_ns();
		}
		d->fetch_due[i] = fetch_next_due(l, &fr);
		if (d->fetch_due[i] <= now)
			d->fetch_due[i] = now + 60;
	}
}

/* Milliseconds until the next url list is due, or -1. */
static int fetch_timeout(const struct daemon *d)
{
	time_t now = time(NULL), next = 0;
	int i;

	for (i = 0; i < d->cfg->n_lists; i++)
		if (d->fetch_due[i] && (!next || d->fetch_due[i] < next))
			next = d->fetch_due[i];
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now) * 1000;
}

/* The categories of mask by name, comma-separated, into buf ("nothing" for none). */
static const char *category_names(const struct guard_config *cfg, __u64 mask, char *buf, size_t len)
{
	size_t n = 0;
	int c;

	buf[0] = 0;
	for (c = 0; c < cfg->n_categories && n < len; c++)
		if (mask & (1ull << c))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      cfg->categories[c]);
	return buf[0] ? buf : "nothing";
}

/*
 * The schedules: each group's block mask at this instant into the running program's
 * group_policy map (an 8-byte value per group: the program sees the old or the new mask,
 * never a mix), and the instant of the next change into d->masks_due. Called at start, after
 * each reload and at each boundary; the map always holds what d->pol->groups holds.
 */
static void apply_schedules(struct daemon *d)
{
	__u64 old[GUARD_MAX_GROUPS] = { 0 };
	time_t now = time(NULL), next = SCHEDULE_NEVER;
	char buf[512];
	__u32 i;
	int fd, err;

	for (i = 0; i < d->pol->n_groups; i++)
		old[i] = d->pol->groups[i].block_mask;
	err = policy_masks_at(d->pol, d->cfg, now, &next);
	if (err) {
		pr_warn("cannot evaluate the schedules (%s): the group masks in force stay; "
			"trying again in %d s\n",
			strerror(-err), SCHEDULE_RECHECK_S);
		d->masks_due = now + SCHEDULE_RECHECK_S;
		return;
	}
	fd = bpf_map__fd(d->skel->maps.MAP_GROUP_POLICY);
	for (i = 0; i < d->pol->n_groups; i++) {
		if (d->pol->groups[i].block_mask == old[i])
			continue;
		if (bpf_map_update_elem(fd, &i, &d->pol->groups[i], BPF_ANY)) {
			pr_warn("cannot write the mask of group %s: %s; trying again in 1 s\n",
				d->pol->group_names[i], strerror(errno));
			d->pol->groups[i].block_mask = old[i];
			next = now + 1;
			continue;
		}
		pr_warn("schedule: group %s now blocks %s\n", d->pol->group_names[i],
			category_names(d->cfg, d->pol->groups[i].block_mask, buf, sizeof(buf)));
	}
	d->masks_due = next;
}

/* Milliseconds until the next schedule change is due (at most SCHEDULE_RECHECK_S s away). */
static int schedule_timeout(const struct daemon *d)
{
	struct timespec ts;
	long long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (d->masks_due == SCHEDULE_NEVER)
		ms = SCHEDULE_RECHECK_S * 1000LL;
	else
		ms = ((long long)d->masks_due - ts.tv_sec) * 1000 - ts.tv_nsec / 1000000;
	if (ms < 0)
		return 0;
	return ms > SCHEDULE_RECHECK_S * 1000LL ? SCHEDULE_RECHECK_S * 1000 : (int)ms;
}

/* Build and swap in a new policy; on any failure the running one stays. */
static int reload(struct daemon *d)
{
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	struct guard *skel = NULL;
	struct loader_opts lo;
	struct diag diag = { .max_print = 20 };
	__u64 t0 = now_ns();
	int i, err;

	pr_warn("reloading %s\n", d->o->config_path);
	err = config_load(d->o->config_path, &diag, &cfg);
	if (!err)
		err = policy_build(cfg, &diag, &pol);
	if (!err) {
		load_opts(d, pol, &lo);
		if (lo.reuse_learned_fd >= 0 && !same_category_ids(d->cfg, cfg)) {
			/* the learned addresses' category bits would name other categories */
			pr_warn("reload: the categories were renumbered: the addresses learned from "
				"DNS answers are forgotten (they are learned again from the next "
				"answers)\n");
			lo.reuse_learned_fd = -1;
			lo.reuse_learn_slots_fd = -1;
		}
		err = loader_load(pol, &lo, &skel);
	}
	if (err)
		goto fail;
	/* the maps hold the tables now: the host copies would only double the peak */
	policy_drop_tables(pol);
	if (!same_interfaces(d->cfg, cfg))
		pr_warn("reload: interface changes take effect at the next start; the new lists "
			"apply to the current interfaces\n");
	for (i = 0; i < d->n_ap; i++) {
		err = attach_replace(&d->ap[i], prog_fd_for(skel, d->ap[i].kind));
		if (err) {
			/* put back the old program where it was already swapped */
			while (--i >= 0)
				attach_replace(&d->ap[i], prog_fd_for(d->skel, d->ap[i].kind));
			goto fail;
		}
	}
	if (lo.reuse_learned_fd < 0)
		replace_learned(d, skel);
	guard__destroy(d->skel);
	policy_free(d->pol);
	config_free(d->cfg);
	d->skel = skel;
	d->pol = pol;
	d->cfg = cfg;
	d->rec.generation++;
	d->rec.loaded = (__u64)time(NULL);
	write_record(d);
	/* a boundary may have passed while the policy was built */
	apply_schedules(d);
	d->retry_on_any_change = false;
	watch_files(d);
	plan_fetches(d);
	pr_warn("reloaded: %u lists, %zu IP prefixes, in %.3f s\n", pol->n_lists,
		pol->n_ip_prefixes, (now_ns() - t0) / 1e9);
	return 0;
fail:
	/* `add`/`del` wait on the record: a failure they can see at once */
	d->rec.reloads_failed++;
	d->rec.failed_generation = d->rec.generation;
	write_record(d);
	/*
	 * The fix may be a file the running policy does not know (a list or an include: file
	 * created after the failure): the next change in a watched directory tries again.
	 */
	d->retry_on_any_change = true;
	pr_warn("reload failed (%s): the policy loaded at %s stays in force\n", strerror(-err),
		d->rec.loaded ? ctime(&(time_t){ (time_t)d->rec.loaded }) : "start");
	guard__destroy(skel);
	policy_free(pol);
	config_free(cfg);
	return err;
}

static void watch_dir_of(int ifd, const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	str_copy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		str_copy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	/* editors replace files by rename: watch the directory, not the inode */
	inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE);
}

static void drain_inotify(struct daemon *d);

static void watch_files(struct daemon *d)
{
	int i, old = d->ifd, fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	/* the new watches first, so that no change falls between the old ones and these */
	if (fd >= 0) {
		watch_dir_of(fd, d->o->config_path);
		for (i = 0; i < d->cfg->n_lists; i++)
			if (d->cfg->lists[i].path)
				watch_dir_of(fd, d->cfg->lists[i].path);
		/*
		 * The included files: beside the lists that include them (the same directories),
		 * or, for a remote list, in the state directory its copy is in.
		 */
		for (i = 0; i < (int)d->pol->includes.n; i++)
			watch_dir_of(fd, d->pol->includes.path[i]);
	}
	if (old >= 0) {
		/*
		 * A file that changed while the reload was reading it must not be forgotten with
		 * the old watches: its event schedules another reload.
		 */
		drain_inotify(d);
		close(old);
	}
	d->ifd = fd;
}

static bool same_base(const char *path, const char *name)
{
	const char *base = strrchr(path, '/');

	return strcmp(base ? base + 1 : path, name) == 0;
}

/* Does a change to name (in a watched directory) call for a reload? */
static bool is_our_file(const struct daemon *d, const char *name)
{
	size_t i;

	if (d->retry_on_any_change || same_base(d->o->config_path, name))
		return true;
	for (i = 0; i < (size_t)d->cfg->n_lists; i++)
		if (d->cfg->lists[i].path && same_base(d->cfg->lists[i].path, name))
			return true;
	for (i = 0; i < d->pol->includes.n; i++)
		if (same_base(d->pol->includes.path[i], name))
			return true;
	return false;
}

static void drain_inotify(struct daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(d->ifd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len && is_our_file(d, ev->name))
				d->reload_due = now_ns() + RELOAD_DEBOUNCE_NS;
			p += sizeof(*ev) + ev->len;
		}
	}
}

static int metrics_body(void *ctx, const char *path, FILE *f)
{
	struct daemon *d = ctx;
	struct guard_stats st;

	if (strcmp(path, "/metrics") && strcmp(path, "/"))
		return -ENOENT;
	if (stats_read_fds(d->pin_fd[0], d->pin_fd[1], d->pin_fd[2], d->pol->n_lists, &st))
		return -EIO;
	stats_print_prometheus(f, &st);
	return 0;
}

static void loop(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = d->sfd, .events = POLLIN },
			{ .fd = d->mfd, .events = POLLIN },
			{ .fd = d->ifd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		int timeout = schedule_timeout(d), t;

		if (d->reload_due) {
			__u64 now = now_ns();

			t = now >= d->reload_due ? 0 : (int)((d->reload_due - now) / 1000000) + 1;
			if (t < timeout)
				timeout = t;
		}
		t = fetch_timeout(d);
		if (t >= 0 && t < timeout)
			timeout = t;
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			return;
		if (pfd[0].revents & POLLIN) {
			if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				/* before: a change seen during the reload schedules the next one */
				d->reload_due = 0;
				reload(d);
				continue;
			}
			pr_warn("stopping (signal %u)\n", si.ssi_signo);
			return;
		}
		if (pfd[1].revents & POLLIN)
			http_serve_one(d->mfd, metrics_body, d);
		if (pfd[2].revents & POLLIN)
			drain_inotify(d);
		if (fetch_timeout(d) == 0)
			run_fetches(d);
		if (schedule_timeout(d) == 0)
			apply_schedules(d);
		if (d->reload_due && now_ns() >= d->reload_due) {
			d->reload_due = 0;
			reload(d);
		}
	}
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o, .sfd = -1, .mfd = -1, .ifd = -1 };
	struct diag diag = { .max_print = 20 };
	struct loader_opts lo;
	sigset_t mask;
	unsigned int i;
	int ret = 2, ifindex;

	for (i = 0; i < ARRAY_SIZE(d.pin_fd); i++)
		d.pin_fd[i] = -1;
	/* no euid test: capabilities are enough, and each step says what it lacked */
	if (config_load(o->config_path, &diag, &d.cfg))
		return 2;
	for (i = 0; i < (unsigned int)d.cfg->n_ifaces; i++)
		if (attach_ifindex(d.cfg->ifaces[i], &ifindex))
			goto cleanup;
	for (i = 0; i < (unsigned int)d.cfg->n_tc_ingress; i++)
		if (attach_ifindex(d.cfg->tc_ingress[i], &ifindex))
			goto cleanup;
	for (i = 0; i < (unsigned int)d.cfg->n_tc_egress; i++)
		if (attach_ifindex(d.cfg->tc_egress[i], &ifindex))
			goto cleanup;
	if (!d.cfg->n_ifaces && !d.cfg->n_tc_ingress && !d.cfg->n_tc_egress) {
		pr_warn("%s: no interfaces to guard (set interfaces = IFNAME in [guard]; "
			"`interfaces = none` is for check and replay only)\n",
			o->config_path);
		goto cleanup;
	}
	if (pin_dir_prepare(o->pin_dir))
		goto cleanup;
	if (adopt_pins(&d))
		goto cleanup_fds;
	if (policy_build(d.cfg, &diag, &d.pol))
		goto cleanup_fds;

	load_opts(&d, d.pol, &lo);
	if (loader_load(d.pol, &lo, &d.skel))
		goto cleanup_fds;
	policy_drop_tables(d.pol);
	if (lo.reuse_learned_fd < 0 &&
	    (d.pin_fd[PIN_LEARNED] >= 0 || d.pin_fd[PIN_LEARN_SLOTS] >= 0))
		replace_learned(&d, d.skel);
	if (pin_new_maps(&d))
		goto cleanup_unpin;
	d.rec.pid = (__u32)getpid();
	d.rec.started = d.rec.loaded = (__u64)time(NULL);
	str_copy(d.rec.config, o->config_path, sizeof(d.rec.config));
	if (attach_all(&d))
		goto cleanup_detach;
	d.rec.generation = 1;
	if (write_record(&d))
		goto cleanup_detach;
	apply_schedules(&d);

	if (d.cfg->metrics[0]) {
		d.mfd = http_listen(d.cfg->metrics);
		if (d.mfd < 0)
			goto cleanup_detach;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d.sfd < 0) {
		pr_warn("signalfd: %s\n", strerror(errno));
		goto cleanup_detach;
	}
	watch_files(&d);
	plan_fetches(&d);

	printf("bpfguard: guarding");
	for (i = 0; i < (unsigned int)d.n_ap; i++)
		printf("%s %s (%s)", i ? "," : "", d.ap[i].ifname, attach_kind_name(d.ap[i].kind));
	printf(" with %u lists, %zu IP prefixes (loaded in %.3f s); pins at %s%s%s\n",
	       d.pol->n_lists, d.pol->n_ip_prefixes, d.pol->build_ns / 1e9, o->pin_dir,
	       d.mfd >= 0 ? "; metrics at http://" : "", d.mfd >= 0 ? d.cfg->metrics : "");
	fflush(stdout);

	loop(&d);
	ret = 0;
cleanup_detach:
	detach_all(&d);
cleanup_unpin:
	unpin_all(&d);
	goto cleanup;
cleanup_fds:
	for (i = 0; i < ARRAY_SIZE(d.pin_fd); i++)
		if (d.pin_fd[i] >= 0)
			close(d.pin_fd[i]);
	if (d.pin_fd[0] < 0)
		rmdir(o->pin_dir);
cleanup:
	if (d.sfd >= 0)
		close(d.sfd);
	if (d.mfd >= 0)
		close(d.mfd);
	if (d.ifd >= 0)
		close(d.ifd);
	guard__destroy(d.skel);
	policy_free(d.pol);
	config_free(d.cfg);
	return ret;
}

int daemon_status(const char *pin_dir, bool json)
{
	char path[PATH_MAX];
	struct run_record rec;
	__u32 key = 0, i;
	bool alive;
	int fd;

	fd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_RUN)));
	if (fd < 0) {
		if (errno == ENOENT) {
			if (json)
				printf("{\"running\": false, \"pin_dir\": \"%s\"}\n", pin_dir);
			else
				printf("not running: nothing pinned at %s\n", pin_dir);
			return 1;
		}
		pr_warn("cannot open %s: %s%s\n", path, strerror(errno),
			errno == EPERM || errno == EACCES ? " (needs root)" : "");
		return 2;
	}
	if (bpf_map_lookup_elem(fd, &key, &rec)) {
		pr_warn("cannot read %s: %s\n", path, strerror(errno));
		close(fd);
		return 2;
	}
	close(fd);
	alive = rec.pid && kill((pid_t)rec.pid, 0) == 0;
	if (json) {
		printf("{\"running\": %s, \"pid\": %u, \"pin_dir\": \"%s\", \"config\": \"%s\", "
		       "\"started\": %llu, \"loaded\": %llu, \"generation\": %u, "
		       "\"reloads_failed\": %u, \"lists\": %u, \"attach\": [",
		       alive ? "true" : "false", rec.pid, pin_dir, rec.config,
		       (unsigned long long)rec.started, (unsigned long long)rec.loaded,
		       rec.generation, rec.reloads_failed, rec.n_lists);
		for (i = 0; i < rec.n_attach && i < RUN_MAX_ATTACH; i++)
			printf("%s{\"ifname\": \"%s\", \"ifindex\": %u, \"hook\": \"%s\", "
			       "\"prog_id\": %u}",
			       i ? ", " : "", rec.attach[i].ifname, rec.attach[i].ifindex,
			       attach_kind_name(rec.attach[i].kind), rec.attach[i].prog_id);
		printf("]}\n");
	} else {
		time_t started = (time_t)rec.started, loaded = (time_t)rec.loaded;
		char s1[64], s2[64];

		strftime(s1, sizeof(s1), "%Y-%m-%d %H:%M:%S", localtime(&started));
		strftime(s2, sizeof(s2), "%Y-%m-%d %H:%M:%S", localtime(&loaded));
		printf("%s (pid %u), config %s\n",
		       alive ? "running" :
			       "NOT running: the last policy stays attached and enforcing",
		       rec.pid, rec.config);
		printf("started %s, policy loaded %s (load #%u), %u lists, pins at %s\n", s1, s2,
		       rec.generation, rec.n_lists, pin_dir);
		if (rec.reloads_failed)
			printf("%u reload%s failed since start (the last while load #%u was in "
			       "force): see the log\n",
			       rec.reloads_failed, rec.reloads_failed == 1 ? "" : "s",
			       rec.failed_generation);
		for (i = 0; i < rec.n_attach && i < RUN_MAX_ATTACH; i++)
			printf("  %-16s ifindex %-4u %-12s prog id %u\n", rec.attach[i].ifname,
			       rec.attach[i].ifindex, attach_kind_name(rec.attach[i].kind),
			       rec.attach[i].prog_id);
	}
	return alive ? 0 : 1;
}
