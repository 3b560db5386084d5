// SPDX-License-Identifier: GPL-2.0-only
/* Attach, replace, detach and pin: see attach.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/attach.h"
#include "user/config.h"
#include "user/log.h"

const char *attach_kind_name(int kind)
{
	switch (kind) {
	case ATTACH_XDP_NATIVE:
		return "xdp native";
	case ATTACH_XDP_GENERIC:
		return "xdp generic";
	case ATTACH_TC_INGRESS:
		return "tc ingress";
	case ATTACH_TC_EGRESS:
		return "tc egress";
	default:
		return "none";
	}
}

const char *pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	snprintf(buf, len, "%s/%s", pin_dir, name);
	return buf;
}

int attach_ifindex(const char *ifname, int *ifindex)
{
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex) {
		pr_warn("interface '%s' does not exist here (check the name with `ip link`; in a "
			"network namespace, run bpfguard inside it with nsenter --net=...)\n",
			ifname);
		return -ENODEV;
	}
	return 0;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

int attach_xdp_query(int ifindex, __u32 *prog_id, int *kind)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	*prog_id = 0;
	*kind = ATTACH_NONE;
	if (err)
		return err;
	if (q.drv_prog_id) {
		*prog_id = q.drv_prog_id;
		*kind = ATTACH_XDP_NATIVE;
	} else if (q.skb_prog_id) {
		*prog_id = q.skb_prog_id;
		*kind = ATTACH_XDP_GENERIC;
	} else if (q.hw_prog_id) {
		*prog_id = q.hw_prog_id;
		*kind = ATTACH_XDP_NATIVE;
	}
	return 0;
}

static void explain_busy_xdp(const char *ifname, int ifindex)
{
	__u32 id;
	int kind;

	attach_xdp_query(ifindex, &id, &kind);
	pr_warn("%s already has an XDP program attached (id %u, %s): is another bpfguard running "
		"(`bpfguard status`)? If it is a leftover, remove it with `ip link set dev %s "
		"xdp off` (or `xdp-loader unload %s --all`)\n",
		ifname, id, attach_kind_name(kind), ifname, ifname);
}

int attach_xdp(int prog_fd, const char *ifname, int mode, const char *link_pin,
	       struct attach_point *ap)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd, err, ifindex, kind;
	__u32 cur;

	memset(ap, 0, sizeof(*ap));
	ap->link_fd = -1;
	str_copy(ap->ifname, ifname, sizeof(ap->ifname));
	err = attach_ifindex(ifname, &ifindex);
	if (err)
		return err;
	ap->ifindex = ifindex;

	/* A pinned link of ours, left by a daemon that stopped without cleaning up: adopt it. */
	if (link_pin && access(link_pin, F_OK) == 0) {
		fd = bpf_obj_get(link_pin);
		if (fd >= 0 && !bpf_link_update(fd, prog_fd, NULL)) {
			attach_xdp_query(ifindex, &cur, &kind);
			ap->link_fd = fd;
			ap->kind = kind;
			ap->prog_id = prog_id_of(prog_fd);
			pr_info("%s: adopted the XDP link left pinned at %s\n", ifname, link_pin);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		/* a dead link (its interface went away): drop the pin and attach afresh */
		unlink(link_pin);
	}

	if (mode != XDP_MODE_GENERIC) {
		opts.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
		if (fd >= 0) {
			ap->kind = ATTACH_XDP_NATIVE;
			goto attached;
		}
		err = -errno;
		if (err == -EBUSY || err == -EEXIST) {
			explain_busy_xdp(ifname, ifindex);
			return -EBUSY;
		}
		if (mode == XDP_MODE_NATIVE) {
			pr_warn("%s: native XDP attach failed: %s (the driver may not support XDP; "
				"set xdp_mode = generic or auto)\n",
				ifname, strerror(-err));
			return err;
		}
		pr_warn("%s: native XDP is not available (%s); using generic XDP, which is slower\n",
			ifname, strerror(-err));
	}
	opts.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		if (err == -EBUSY || err == -EEXIST) {
			explain_busy_xdp(ifname, ifindex);
			return -EBUSY;
		}
		pr_warn("%s: XDP attach failed: %s\n", ifname, strerror(-err));
		return err;
	}
	ap->kind = ATTACH_XDP_GENERIC;
attached:
	ap->link_fd = fd;
	ap->prog_id = prog_id_of(prog_fd);
	if (link_pin && bpf_obj_pin(fd, link_pin)) {
		err = -errno;
		pr_warn("cannot pin the XDP link at %s: %s\n", link_pin, strerror(-err));
		close(fd);
		ap->link_fd = -1;
		return err;
	}
	return 0;
}

static void tc_opts(struct bpf_tc_hook *hook, int ifindex, bool egress)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

bool attach_tc_present(int ifindex, bool egress, __u32 *prog_id)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = GUARD_TC_HANDLE, .priority = GUARD_TC_PRIORITY);

	tc_opts(&hook, ifindex, egress);
	if (bpf_tc_query(&hook, &o))
		return false;
	if (prog_id)
		*prog_id = o.prog_id;
	return true;
}

int attach_tc(int prog_fd, const char *ifname, bool egress, bool replace, struct attach_point *ap)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = GUARD_TC_HANDLE, .priority = GUARD_TC_PRIORITY,
		    .prog_fd = prog_fd);
	int err, ifindex;
	__u32 id;

	memset(ap, 0, sizeof(*ap));
	ap->link_fd = -1;
	str_copy(ap->ifname, ifname, sizeof(ap->ifname));
	err = attach_ifindex(ifname, &ifindex);
	if (err)
		return err;
	ap->ifindex = ifindex;
	ap->kind = egress ? ATTACH_TC_EGRESS : ATTACH_TC_INGRESS;

	tc_opts(&hook, ifindex, egress);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("%s: cannot create the clsact qdisc: %s\n", ifname, strerror(-err));
		return err;
	}
	ap->hook_created = !err;
	if (!replace && attach_tc_present(ifindex, egress, &id)) {
		pr_warn("%s: a bpfguard TC filter is already attached (%s, prog id %u): is another "
			"bpfguard running (`bpfguard status`)?\n",
			ifname, attach_kind_name(ap->kind), id);
		return -EBUSY;
	}
	if (replace)
		o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &o);
	if (err) {
		pr_warn("%s: cannot attach the TC program (%s): %s\n", ifname,
			attach_kind_name(ap->kind), strerror(-err));
		if (ap->hook_created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
			ap->hook_created = false;
		}
		return err;
	}
	ap->prog_id = o.prog_id;
	return 0;
}

int attach_replace(struct attach_point *ap, int prog_fd)
{
	int err;

	if (ap->link_fd >= 0) {
		err = bpf_link_update(ap->link_fd, prog_fd, NULL);
		if (err) {
			err = -errno;
			pr_warn("%s: cannot swap the XDP program: %s\n", ap->ifname,
				strerror(-err));
			return err;
		}
	} else {
		struct bpf_tc_hook hook;
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = GUARD_TC_HANDLE,
			    .priority = GUARD_TC_PRIORITY, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);

		tc_opts(&hook, ap->ifindex, ap->kind == ATTACH_TC_EGRESS);
		err = bpf_tc_attach(&hook, &o);
		if (err) {
			pr_warn("%s: cannot swap the TC program: %s\n", ap->ifname, strerror(-err));
			return err;
		}
	}
	ap->prog_id = prog_id_of(prog_fd);
	return 0;
}

void attach_detach(struct attach_point *ap, const char *link_pin)
{
	if (ap->kind == ATTACH_XDP_NATIVE || ap->kind == ATTACH_XDP_GENERIC) {
		if (link_pin && unlink(link_pin) && errno != ENOENT)
			pr_warn("cannot remove %s: %s\n", link_pin, strerror(errno));
		if (ap->link_fd >= 0) {
			/* the last reference: the program leaves the interface */
			close(ap->link_fd);
			ap->link_fd = -1;
		}
	} else if (ap->kind == ATTACH_TC_INGRESS || ap->kind == ATTACH_TC_EGRESS) {
		struct bpf_tc_hook hook;
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = GUARD_TC_HANDLE,
			    .priority = GUARD_TC_PRIORITY);
		int err;

		tc_opts(&hook, ap->ifindex, ap->kind == ATTACH_TC_EGRESS);
		err = bpf_tc_detach(&hook, &o);
		if (err && err != -ENOENT)
			pr_warn("%s: cannot detach the TC program: %s\n", ap->ifname,
				strerror(-err));
		if (ap->hook_created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	ap->kind = ATTACH_NONE;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* Are we in the machine's own mount namespace (not under `ip netns exec`, say)? */
static bool init_mount_ns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/mnt", &self) || stat("/proc/1/ns/mnt", &init))
		return true;
	return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

int pin_dir_prepare(const char *pin_dir)
{
	char parent[256];
	char *slash;

	str_copy(parent, pin_dir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (!is_bpffs(parent)) {
		if (!strcmp(parent, "/sys/fs/bpf") && init_mount_ns() &&
		    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0) {
			pr_info("mounted the BPF filesystem at /sys/fs/bpf\n");
		} else {
			pr_warn("%s is not on a BPF filesystem: mount one with `mount -t bpf bpf "
				"/sys/fs/bpf` (needs root). Under `ip netns exec` /sys is remounted "
				"and hides it: use `nsenter --net=/run/netns/NAME` instead\n",
				pin_dir);
			return -ENOENT;
		}
	}
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_warn("cannot create %s: %s\n", pin_dir, strerror(-err));
		return err;
	}
	chmod(pin_dir, 0700);
	return 0;
}
