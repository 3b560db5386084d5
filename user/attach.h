/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attaching the guard program to interfaces, and pinning. XDP is attached as a bpf_link pinned
 * under the pin dir (so a killed daemon leaves it enforcing); TC through a clsact hook with a
 * filter at a fixed handle and priority. Either can be swapped to a new program atomically
 * (bpf_link_update / BPF_TC_F_REPLACE): that is how a reload changes policy without a gap.
 */
#ifndef BPFGUARD_ATTACH_H
#define BPFGUARD_ATTACH_H

#include <net/if.h>
#include <stdbool.h>
#include "maps/policy.h"

#define GUARD_TC_HANDLE 0xb9f
#define GUARD_TC_PRIORITY 0xb9f

struct attach_point {
	char ifname[IF_NAMESIZE];
	int ifindex;
	int kind; /* enum attach_kind */
	int link_fd; /* XDP: the link; -1 otherwise */
	bool hook_created; /* TC: we created the clsact qdisc, so we remove it */
	__u32 prog_id;
};

/* Resolve ifname; -ENODEV with a message naming it if it does not exist. */
int attach_ifindex(const char *ifname, int *ifindex);

/*
 * Attach prog_fd at XDP on ifname. mode is enum xdp_mode_cfg: native, generic, or auto (native,
 * then generic with a message). If a pinned link of ours is at link_pin (left by a stopped
 * daemon), it is adopted and updated in place. Returns 0 or -errno after pr_warn.
 */
int attach_xdp(int prog_fd, const char *ifname, int mode, const char *link_pin,
	       struct attach_point *ap);
/* Attach prog_fd at TC ingress or egress of ifname; replace=true takes over a stale filter. */
int attach_tc(int prog_fd, const char *ifname, bool egress, bool replace, struct attach_point *ap);
/* Swap the program of an attachment atomically. */
int attach_replace(struct attach_point *ap, int prog_fd);
/* Detach (and unpin the XDP link at link_pin if given). Errors are logged, not returned. */
void attach_detach(struct attach_point *ap, const char *link_pin);

/* Is a TC filter of ours on ifname (ingress or egress)? Sets *prog_id. */
bool attach_tc_present(int ifindex, bool egress, __u32 *prog_id);
/* Which XDP program is on ifindex (0: none), and in which mode. */
int attach_xdp_query(int ifindex, __u32 *prog_id, int *kind);

const char *attach_kind_name(int kind);

/*
 * Make sure pin_dir exists on a BPF filesystem, mode 0700, mounting bpffs at /sys/fs/bpf when
 * nothing is mounted there. Returns 0 or -errno with a message saying what to do.
 */
int pin_dir_prepare(const char *pin_dir);
/* "pin_dir/name" into buf. */
const char *pin_path(char *buf, size_t len, const char *pin_dir, const char *name);

#endif
