/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Common ground of the kernel/user ABI: fixed-width types and the size assertion every map
 * key and value carries. Included by every other maps/ header; both bpf/ and user/ see it.
 */
#ifndef BPFGUARD_MAPS_ABI_H
#define BPFGUARD_MAPS_ABI_H

#include <linux/types.h>

/* A key or value whose size changes breaks pinned maps of a running guard: assert each one. */
#define ABI_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " is part of the kernel/user ABI")

/* Limits shared by both sides. */
#define GUARD_MAX_LISTS 256 /* [list] sections in one config */
#define GUARD_MAX_CATEGORIES 64 /* one bit each in a __u64 mask */
#define GUARD_MAX_GROUPS 256 /* [group] sections + the default group 0; ids fit 8 bits */

#endif
