// SPDX-License-Identifier: GPL-2.0-only
/* Open-addressing hash of fixed-size keys: see hash.h. Linear probing, load factor <= 1/2. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "user/hash.h"

uint64_t hash_bytes(const void *p, size_t n)
{
	/* FNV-1a, then a final mix so that low bits are usable as a slot index. */
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static int khash_alloc(struct khash *h, size_t cap)
{
	h->keys = calloc(cap, h->key_size);
	h->vals = calloc(cap, sizeof(*h->vals));
	h->used = calloc(cap, 1);
	if (!h->keys || !h->vals || !h->used) {
		free(h->keys);
		free(h->vals);
		free(h->used);
		return -ENOMEM;
	}
	h->cap = cap;
	h->count = 0;
	return 0;
}

int khash_init(struct khash *h, size_t key_size, size_t expected)
{
	size_t cap = 16;

	memset(h, 0, sizeof(*h));
	h->key_size = key_size;
	while (cap < expected * 2)
		cap <<= 1;
	return khash_alloc(h, cap);
}

void khash_free(struct khash *h)
{
	free(h->keys);
	free(h->vals);
	free(h->used);
	memset(h, 0, sizeof(*h));
}

static size_t khash_slot(const struct khash *h, const void *key, int *found)
{
	size_t i = hash_bytes(key, h->key_size) & (h->cap - 1);

	while (h->used[i]) {
		if (!memcmp(h->keys + i * h->key_size, key, h->key_size)) {
			*found = 1;
			return i;
		}
		i = (i + 1) & (h->cap - 1);
	}
	*found = 0;
	return i;
}

uint32_t *khash_get(const struct khash *h, const void *key)
{
	int found;
	size_t i;

	if (!h->cap)
		return NULL;
	i = khash_slot(h, key, &found);
	return found ? &h->vals[i] : NULL;
}

static int khash_grow(struct khash *h)
{
	struct khash old = *h;
	size_t i;
	int err;

	err = khash_alloc(h, old.cap * 2);
	if (err) {
		*h = old;
		return err;
	}
	for (i = 0; i < old.cap; i++) {
		int found;
		size_t j;

		if (!old.used[i])
			continue;
		j = khash_slot(h, old.keys + i * old.key_size, &found);
		memcpy(h->keys + j * h->key_size, old.keys + i * old.key_size, h->key_size);
		h->vals[j] = old.vals[i];
		h->used[j] = 1;
		h->count++;
	}
	free(old.keys);
	free(old.vals);
	free(old.used);
	return 0;
}

int khash_put(struct khash *h, const void *key, uint32_t val)
{
	int found, err;
	size_t i;

	if ((h->count + 1) * 2 > h->cap) {
		err = khash_grow(h);
		if (err)
			return err;
	}
	i = khash_slot(h, key, &found);
	if (!found) {
		memcpy(h->keys + i * h->key_size, key, h->key_size);
		h->used[i] = 1;
		h->count++;
	}
	h->vals[i] = val;
	return 0;
}
