/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small open-addressing hash table of fixed-size keys to __u32 values, for the host-side
 * builders (leaf deduplication, the IPv6 overflow prefixes). Not thread-safe; no global state.
 */
#ifndef BPFGUARD_HASH_H
#define BPFGUARD_HASH_H

#include <stddef.h>
#include <stdint.h>

struct khash {
	size_t key_size;
	size_t cap; /* slots, a power of two */
	size_t count;
	unsigned char *keys; /* cap * key_size */
	uint32_t *vals;
	unsigned char *used;
};

int khash_init(struct khash *h, size_t key_size, size_t expected);
void khash_free(struct khash *h);
/* Returns a pointer to the value of key, or NULL. */
uint32_t *khash_get(const struct khash *h, const void *key);
/* Inserts or overwrites. Returns 0 or -ENOMEM. */
int khash_put(struct khash *h, const void *key, uint32_t val);
uint64_t hash_bytes(const void *p, size_t n);

#endif
