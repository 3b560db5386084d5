/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IP rule lookups over the tables of maps/iptable.h (built by user/iptable.c, which mirrors
 * these lookups in iptable_lookup()). IPv4: up to four array reads (level 3 is compressed). IPv6: two array reads,
 * then the LPM trie only when the /24 holds longer prefixes. Constant-bound code, no loops.
 * BPF only; included by bpf/lib/verdict.h after maps/guard_maps.h.
 */
#ifndef BPFGUARD_BPF_LIB_IPRULE_H
#define BPFGUARD_BPF_LIB_IPRULE_H

#include <bpf/bpf_helpers.h>
#ifndef BPFGUARD_MAPS_GUARD_MAPS_H
#error "bpf/guard.bpf.c includes maps/guard_maps.h (the map definitions) before this header"
#endif

/*
 * Entry a[idx] of group gid of table map, or IPT_LEAF_NONE when the group is missing (a table
 * that a smaller map cannot hold: the loader sizes maps to the tables, so this is defensive).
 */
static __always_inline __u32 iprule_entry(void *map, __u32 gid, __u8 idx)
{
	const struct ipt_group *g = bpf_map_lookup_elem(map, &gid);

	if (!g)
		return IPT_LEAF_NONE;
	return g->e[idx];
}

/* Bits set in w: the BPF ISA has no popcount instruction, so the SWAR form. */
static __always_inline __u32 iprule_popcount(__u64 w)
{
	w = w - ((w >> 1) & 0x5555555555555555ull);
	w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((w * 0x0101010101010101ull) >> 56);
}

/*
 * Entry idx of compressed level-3 group cg (maps/iptable.h): the value of the run covering idx,
 * runs[base + rank - 1] with rank the set bits of the bitmap in [0, idx].
 */
static __always_inline __u32 iprule_l3(__u32 cg, __u8 idx)
{
	const struct ipt_cgroup *c = bpf_map_lookup_elem(&MAP_V4_L3, &cg);
	const struct ipt_runs *chunk;
	__u32 w = idx >> 6, rank, r;

	if (!c)
		return IPT_LEAF_NONE;
	/* the builder counted the bits of the words before idx's word: one popcount here */
	rank = c->before[w & 3] + iprule_popcount(c->bits[w & 3] & (~0ull >> (63 - (idx & 63))));
	/* bit 0 is always set, so rank >= 1 */
	r = c->base + rank - 1;
	chunk = bpf_map_lookup_elem(&MAP_V4_RUNS, &(__u32){ r / IPT_RUNS_PER_CHUNK });
	if (!chunk)
		return IPT_LEAF_NONE;
	return chunk->v[r % IPT_RUNS_PER_CHUNK];
}

/* The leaf of IPv4 address a (4 bytes, network order) in direction dir (enum ipt_dir). */
static __always_inline __u32 iprule_v4(__u32 dir, const __u8 *a)
{
	__u32 e;

	e = iprule_entry(&MAP_V4_TABLE, dir * 256 + a[0], a[1]);
	if (!(e & IPT_EXT))
		return e;
	e = iprule_entry(&MAP_V4_TABLE, e & IPT_PAYLOAD, a[2]);
	if (!(e & IPT_EXT))
		return e;
	e = iprule_l3(e & IPT_PAYLOAD, a[3]);
	/* The last level holds leaves only; a set IPT_EXT would be a builder bug: no match. */
	return e & IPT_EXT ? IPT_LEAF_NONE : e;
}

/* The leaf of IPv6 address a (16 bytes, network order) in direction dir (enum ipt_dir). */
static __always_inline __u32 iprule_v6(__u32 dir, const __u8 *a)
{
	struct ipt_v6_key key;
	__u32 e, *leaf;

	e = iprule_entry(&MAP_V6_TABLE, dir * 256 + a[0], a[1]);
	if (!(e & IPT_EXT))
		return e;
	e = iprule_entry(&MAP_V6_TABLE, e & IPT_PAYLOAD, a[2]);
	if (!(e & IPT_EXT))
		return e;
	/* Longer prefixes in this /24: the trie decides, the pushed-down leaf is its fallback. */
	key.prefixlen = 8 + 128;
	key.dir = (__u8)dir;
	__builtin_memcpy(key.addr, a, sizeof(key.addr));
	/* The trie compares only prefixlen bits, but the verifier wants the whole key initialised. */
	key.pad[0] = key.pad[1] = key.pad[2] = 0;
	leaf = bpf_map_lookup_elem(&MAP_V6_TRIE, &key);
	return leaf ? *leaf : e & IPT_PAYLOAD;
}

#endif
