// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for user/domtable.c: arbitrary names looked up in a small table, and small
 * tables built from arbitrary names. Beyond the sanitizers, every lookup is checked against a
 * reference that works on strings only (no hash, no table): the same validation errors, the
 * same matched suffix and the same leaf; case and a trailing dot change nothing.
 *
 * Input: byte 0 even: the rest is one name, looked up in a fixed table. Byte 0 odd: the rest
 * is up to 16 lines, each "F name" with F a flag byte (bit 0 exact, bit 1 allow, bits 2..3
 * list, bits 4..7 category): they make the table, then every line's name and every suffix of
 * it is looked up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "user/domtable.h"

struct ent {
	char name[DH_MAX_NAME + 1];
	int exact, allow, list, cat;
};

static const struct ent fixed[] = {
	{ "example.com", 0, 0, 0, 1 },
	{ "safe.example.com", 0, 1, 1, 0 },
	{ "bad.safe.example.com", 0, 0, 2, 2 },
	{ "full.example.com", 1, 0, 0, 3 },
	{ "full.example.com", 0, 1, 3, 0 },
	{ "org", 1, 0, 0, 4 },
	{ "a.b.c.d.e", 0, 0, 3, 5 },
	{ "xn--bcher-kva.example", 0, 0, 0, 6 },
	{ "mail.test", 0, 0, 2, 7 },
	{ "_dmarc.mail.test", 1, 1, 1, 0 },
	{ "x", 0, 0, 1, 8 },
	{ "y.x", 0, 0, 2, 9 },
	{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk.example.com", 1, 0, 3,
	  10 },
};

/* domtable's validation, restated: returns 0 or the error domtable_lookup must give. */
static int ref_validate(const char *s, size_t len)
{
	size_t i, start = 0;

	if (len == 0)
		return -EINVAL;
	if (len > DH_MAX_NAME)
		return -ENAMETOOLONG;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start)
			return -EINVAL;
		if (i - start > DH_MAX_LABEL)
			return -ENAMETOOLONG;
		start = i + 1;
	}
	return 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

struct ref_at {
	int any, allow, min_allow, min_list;
	__u64 cats;
};

static void ref_at(const struct ent *e, size_t n, const char *name, int exact, struct ref_at *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->min_allow = r->min_list = 1 << 20;
	for (i = 0; i < n; i++) {
		if (e[i].exact != exact || strcmp(e[i].name, name) != 0)
			continue;
		r->any = 1;
		if (e[i].list < r->min_list)
			r->min_list = e[i].list;
		if (e[i].allow) {
			r->allow = 1;
			if (e[i].list < r->min_allow)
				r->min_allow = e[i].list;
		} else {
			r->cats |= 1ull << e[i].cat;
		}
	}
}

/* The rule of maps/domain.h on strings: q is lower case and valid. */
static int reference(const struct ent *e, size_t n, const char *q, size_t *off, int *exact,
		     struct dom_leaf *leaf)
{
	const char *suf[DH_MAX_LABELS];
	int ns = 0, i, j;

	suf[ns++] = q;
	for (i = 0; q[i]; i++)
		if (q[i] == '.')
			suf[ns++] = q + i + 1;
	for (i = 0; i < ns; i++) {
		struct ref_at x, t, a;
		int allow;

		ref_at(e, n, suf[i], 1, &x);
		if (i > 0)
			x.any = 0;
		ref_at(e, n, suf[i], 0, &t);
		if (!x.any && !t.any)
			continue;
		memset(leaf, 0, sizeof(*leaf));
		*off = (size_t)(suf[i] - q);
		*exact = x.any;
		if (x.any) {
			allow = x.allow || t.allow;
			leaf->list_id = (__u32)(x.allow ? x.min_allow :
						t.allow ? t.min_allow :
							  x.min_list);
			leaf->block_cats = x.cats | t.cats;
		} else {
			allow = t.allow;
			leaf->list_id = (__u32)(t.allow ? t.min_allow : t.min_list);
			leaf->block_cats = t.cats;
		}
		for (j = i + 1; !allow && j < ns; j++) {
			ref_at(e, n, suf[j], 0, &a);
			if (!a.any)
				continue;
			if (a.allow)
				break;
			leaf->block_cats |= a.cats;
		}
		if (allow) {
			leaf->flags = DOM_LEAF_F_ALLOW;
			leaf->block_cats = 0;
		}
		return 1;
	}
	return 0;
}

static void same_match(const struct dom_match *a, const struct dom_match *b)
{
	if (a->leaf != b->leaf || a->suffix_off != b->suffix_off || a->exact_key != b->exact_key ||
	    a->rec != b->rec || strcmp(a->name, b->name) != 0)
		abort();
}

/* Look name (any bytes, NUL-terminated) up and check everything against the reference. */
static void check(const struct domtable *t, const struct ent *e, size_t n, const char *name)
{
	char q[DH_MAX_NAME + 16], variant[DH_MAX_NAME + 16];
	size_t len = strlen(name), i, off = 0;
	struct dom_match m, m2;
	struct dom_leaf want;
	int err, v, exact = 0, found;

	err = domtable_lookup(t, name, &m);
	if (len > 0 && name[len - 1] == '.')
		len--;
	v = ref_validate(name, len);
	if (err != v)
		abort();
	if (err)
		return;
	memcpy(q, name, len);
	q[len] = '\0';
	lower(q);
	if (strcmp(q, m.name) != 0)
		abort();
	found = reference(e, n, q, &off, &exact, &want);
	if (!found) {
		if (m.leaf != DOM_LEAF_NONE)
			abort();
	} else {
		const struct dom_leaf *l = &t->leaves[m.leaf];

		if (m.leaf == DOM_LEAF_NONE || m.leaf >= t->n_leaves || !m.rec ||
		    m.suffix_off != off || m.exact_key != exact || l->flags != want.flags ||
		    l->block_cats != want.block_cats || l->list_id != want.list_id ||
		    strcmp(domtable_name(t, m.rec), q + off) != 0)
			abort();
	}
	/* upper case and a trailing dot decide the same */
	for (i = 0; i < len; i++)
		variant[i] = (char)(q[i] >= 'a' && q[i] <= 'z' ? q[i] - 32 : q[i]);
	variant[len] = '.';
	variant[len + 1] = '\0';
	if (domtable_lookup(t, variant, &m2))
		abort();
	same_match(&m, &m2);
}

static void quiet_build(struct domtable *t)
{
	if (domtable_build(t))
		abort();
}

static void fixed_table(const uint8_t *data, size_t size)
{
	char name[320];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1, i;
	struct domtable t;

	if (domtable_init(&t, DH_ROOT))
		abort();
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct dom_entry de = { .name = fixed[i].name,
					.exact = (__u8)fixed[i].exact,
					.allow = (__u8)fixed[i].allow,
					.list_id = (__u16)fixed[i].list,
					.category = (__u32)fixed[i].cat };

		if (domtable_add(&t, &de))
			abort();
	}
	quiet_build(&t);
	memcpy(name, data, n);
	name[n] = '\0'; /* a name ends at its first NUL, as a C string does */
	check(&t, fixed, sizeof(fixed) / sizeof(fixed[0]), name);
	domtable_free(&t);
}

static void built_table(const uint8_t *data, size_t size)
{
	static struct ent e[16];
	char lines[16][DH_MAX_NAME + 2];
	size_t n = 0, nl = 0, pos = 0, i;
	struct domtable t;

	if (domtable_init(&t, (size & 1) ? DH_ROOT : 0x5eed5eed5eed5eedull))
		abort();
	while (pos < size && nl < 16) {
		const uint8_t *end = memchr(data + pos, '\n', size - pos);
		size_t llen = end ? (size_t)(end - (data + pos)) : size - pos;
		struct dom_entry de = { 0 };
		uint8_t f;
		int err, v;

		if (llen >= 2 && llen - 2 <= DH_MAX_NAME) {
			f = data[pos];
			memcpy(lines[nl], data + pos + 2, llen - 2);
			lines[nl][llen - 2] = '\0';
			de.name = lines[nl];
			de.exact = f & 1;
			de.allow = (f >> 1) & 1;
			de.list_id = (f >> 2) & 3;
			de.category = f >> 4;
			err = domtable_add(&t, &de);
			v = ref_validate(lines[nl], strlen(lines[nl]));
			if ((err != 0) != (v != 0))
				abort();
			if (!err) {
				/* as stored: lower case */
				memcpy(e[n].name, lines[nl], strlen(lines[nl]) + 1);
				lower(e[n].name);
				e[n].exact = de.exact;
				e[n].allow = de.allow;
				e[n].list = de.list_id;
				e[n].cat = (int)de.category;
				n++;
			}
			nl++;
		}
		pos += llen + 1;
	}
	quiet_build(&t);
	for (i = 0; i < nl; i++) {
		const char *p = lines[i];

		check(&t, e, n, p);
		while ((p = strchr(p, '.')))
			check(&t, e, n, ++p);
	}
	domtable_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		built_table(data + 1, size - 1);
	else
		fixed_table(data + 1, size - 1);
	return 0;
}
