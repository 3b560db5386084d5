// SPDX-License-Identifier: GPL-2.0-only
/* The verifier's work by function and source line (see vheat.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "user/hash.h"
#include "user/vheat.h"

/* Items by key: a table of keys to indexes into a growing array. */
struct vheat_set {
	struct khash idx;
	struct vheat_item *items;
	size_t n, cap;
};

static int set_init(struct vheat_set *s)
{
	memset(s, 0, sizeof(*s));
	return khash_init(&s->idx, VHEAT_KEY_LEN, 1024);
}

/* The item of key (len bytes, cut to fit), added with src when new; NULL: out of memory. */
static struct vheat_item *set_get(struct vheat_set *s, const char *key, size_t len, const char *src,
				  size_t src_len)
{
	char k[VHEAT_KEY_LEN] = { 0 };
	struct vheat_item *it;
	uint32_t *v;

	memcpy(k, key, len < VHEAT_KEY_LEN ? len : VHEAT_KEY_LEN - 1);
	v = khash_get(&s->idx, k);
	if (v)
		return &s->items[*v];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct vheat_item *n = realloc(s->items, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->items = n;
		s->cap = cap;
	}
	if (khash_put(&s->idx, k, (uint32_t)s->n))
		return NULL;
	it = &s->items[s->n++];
	memset(it, 0, sizeof(*it));
	memcpy(it->key, k, sizeof(k));
	memcpy(it->src, src, src_len < VHEAT_SRC_LEN ? src_len : VHEAT_SRC_LEN - 1);
	return it;
}

static int by_insns(const void *a, const void *b)
{
	const struct vheat_item *x = a, *y = b;

	if (x->insns != y->insns)
		return x->insns < y->insns ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* An instruction the verifier walked: "N: (op) ..." (state lines are "N: R1=..."). */
static int is_insn(const char *l, size_t len)
{
	size_t i = 0;

	while (i < len && isdigit((unsigned char)l[i]))
		i++;
	return i > 0 && i + 2 < len && l[i] == ':' && l[i + 1] == ' ' && l[i + 2] == '(';
}

int vheat_parse(const char *log, struct vheat *h)
{
	struct vheat_set funcs, lines;
	struct vheat_item *fn = NULL, *ln = NULL;
	const char *p = log;
	int err = -ENOMEM;

	memset(h, 0, sizeof(*h));
	if (set_init(&funcs))
		return -ENOMEM;
	if (set_init(&lines)) {
		khash_free(&funcs.idx);
		return -ENOMEM;
	}
	fn = set_get(&funcs, "main", 4, "", 0);
	if (!fn)
		goto cleanup;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > 11 && !strncmp(p, "Validating ", 11)) {
			const char *name = p + 11, *paren = memchr(name, '(', len - 11);

			fn = set_get(&funcs, name, paren ? (size_t)(paren - name) : len - 11, "",
				     0);
			ln = NULL;
			if (!fn)
				goto cleanup;
		} else if (len > 2 && p[0] == ';' && p[1] == ' ') {
			/* "; text @ file:line": the last " @ " splits them */
			const char *at = NULL, *q;

			for (q = p; q + 3 <= p + len; q++)
				if (q[0] == ' ' && q[1] == '@' && q[2] == ' ')
					at = q;
			if (at) {
				ln = set_get(&lines, at + 3, (size_t)(p + len - at - 3), p + 2,
					     (size_t)(at - p - 2));
				if (!ln)
					goto cleanup;
			}
		} else if (is_insn(p, len)) {
			fn->insns++;
			if (ln)
				ln->insns++;
			h->total++;
		} else if (len > 10 && !strncmp(p, "processed ", 10)) {
			h->processed = strtoull(p + 10, NULL, 10);
		}
		p += len + (e ? 1 : 0);
	}
	qsort(funcs.items, funcs.n, sizeof(*funcs.items), by_insns);
	qsort(lines.items, lines.n, sizeof(*lines.items), by_insns);
	h->funcs = funcs.items;
	h->n_funcs = funcs.n;
	h->lines = lines.items;
	h->n_lines = lines.n;
	funcs.items = lines.items = NULL;
	err = 0;
cleanup:
	free(funcs.items);
	free(lines.items);
	khash_free(&funcs.idx);
	khash_free(&lines.idx);
	return err;
}

void vheat_free(struct vheat *h)
{
	free(h->funcs);
	free(h->lines);
	memset(h, 0, sizeof(*h));
}

/* The largest log the kernel takes (UINT_MAX >> 2, rounded down). */
#define VHEAT_LOG_SIZE ((1u << 30) - 64)

int vheat_load(struct bpf_object *obj, const char *prog, struct vheat *h)
{
	struct bpf_program *p;
	char *buf;
	int err, found = 0;

	memset(h, 0, sizeof(*h));
	buf = malloc(VHEAT_LOG_SIZE);
	if (!buf)
		return -ENOMEM;
	buf[0] = 0;
	bpf_object__for_each_program(p, obj)
	{
		if (strcmp(bpf_program__name(p), prog)) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		found = 1;
		bpf_program__set_log_level(p, 2 | 4); /* every instruction, and the stats */
		bpf_program__set_log_buf(p, buf, VHEAT_LOG_SIZE);
	}
	if (!found) {
		free(buf);
		return -ENOENT;
	}
	err = bpf_object__load(obj);
	if (vheat_parse(buf, h))
		err = -ENOMEM;
	free(buf);
	return err;
}

void vheat_print(const struct vheat *h, size_t top, void (*out)(const char *line, void *arg),
		 void *arg)
{
	char line[256];
	size_t i;

	snprintf(line, sizeof(line), "%llu instructions walked (the verifier counts %llu)",
		 (unsigned long long)h->total, (unsigned long long)h->processed);
	out(line, arg);
	for (i = 0; i < h->n_funcs; i++) {
		snprintf(line, sizeof(line), "%9llu %5.1f%%  %s",
			 (unsigned long long)h->funcs[i].insns,
			 h->total ? 100.0 * (double)h->funcs[i].insns / (double)h->total : 0.0,
			 h->funcs[i].key);
		out(line, arg);
	}
	for (i = 0; i < h->n_lines && i < top; i++) {
		snprintf(line, sizeof(line), "%9llu %5.1f%%  %-20s %s",
			 (unsigned long long)h->lines[i].insns,
			 h->total ? 100.0 * (double)h->lines[i].insns / (double)h->total : 0.0,
			 h->lines[i].key, h->lines[i].src);
		out(line, arg);
	}
}
