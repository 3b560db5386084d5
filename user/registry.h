/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Registry files: blocklists and allowlists in the formats real lists use, one entry kind
 * detected per line (DESIGN.md, "Registry files"). The parser streams entries to a callback;
 * it never stops at a bad line: each one is reported through the diag as file:line and skipped.
 * `.gz` files are read transparently. Names are normalised here, once (lower case, no trailing
 * dot, IDN to punycode, label and name lengths checked).
 */
#ifndef BPFGUARD_REGISTRY_H
#define BPFGUARD_REGISTRY_H

#include <stddef.h>
#include "user/log.h"
#include "user/util.h"

enum reg_kind {
	REG_IP = 1, /* an address or prefix: e.prefix */
	REG_DOMAIN = 2, /* a name: e.name */
};

/* Flags of a domain entry. */
#define REG_F_EXACT 0x1 /* `full:` — only the name itself, not its subtree */
#define REG_F_ALLOW 0x2 /* the line itself says allow (Adblock `@@`) */
#define REG_F_WILDCARD 0x4 /* written as `*.name` */

struct reg_entry {
	int kind; /* enum reg_kind */
	struct ip_prefix prefix; /* REG_IP */
	const char *name; /* REG_DOMAIN: normalised, valid until the callback returns */
	unsigned int flags;
	const char *file;
	int line;
};

/* Lines passed over without an entry, by why; `lint` prints the non-zero ones. */
struct reg_stats {
	unsigned long lines;
	unsigned long entries; /* entries given to the callback */
	unsigned long ip;
	unsigned long domains;
	unsigned long comments; /* comment and blank lines */
	unsigned long invalid; /* malformed: warned with file:line */
	unsigned long ignored_hosts; /* hosts-file names that are not blockable (localhost...) */
	unsigned long adblock_unsupported; /* Adblock rules with paths, options, cosmetic rules */
	unsigned long regex_skipped; /* domain-list-community regex: lines */
	unsigned long includes; /* include: lines followed */
};

/* The callback returns 0 to continue, or a negative errno to stop the parse with that error. */
typedef int (*reg_entry_fn)(void *ctx, const struct reg_entry *e);

/*
 * Does s look like an IP address or prefix rather than a name? The address part (before `/`
 * or a `%zone`) is digits and dots (IPv4), or has a `:` and only letters, digits, `:` and `.`
 * (IPv6, typos included, so that they get an IP message). The registry's rule, which
 * `bpfguard add|del` (user/changes.c) follows too.
 */
bool registry_looks_ip(const char *s);

/*
 * Parse one registry file. Returns 0 when the file was read to its end (bad lines only warned),
 * or -errno when it could not be opened or read — reported through d as "path: reason" — or
 * the callback's error. Entries already given to the callback stay given: the caller decides
 * whether to keep them (a reload keeps the old policy when a file fails).
 */
int registry_parse_file(const char *path, reg_entry_fn fn, void *ctx, struct diag *d,
			struct reg_stats *st);
/*
 * The files include: lines name, read or not (a missing one is an error of the parse): paths
 * as the parser opens them, the including file's directory and the name, each once. For a
 * caller that must notice when one changes: the daemon reloads then, as for the list's own
 * file. Start zeroed; free with reg_files_free().
 */
struct reg_files {
	char **path;
	size_t n, cap;
};
void reg_files_free(struct reg_files *f);
/*
 * registry_parse_file, and the files its include: lines name added to inc (may be NULL). A
 * path that cannot be recorded (no memory) fails the parse with -ENOMEM.
 */
int registry_parse_file_inc(const char *path, reg_entry_fn fn, void *ctx, struct diag *d,
			    struct reg_stats *st, struct reg_files *inc);
/* The same over a buffer (tests, fuzzing); name is used in messages; no includes followed. */
int registry_parse_buffer(const char *name, const char *buf, size_t len, reg_entry_fn fn, void *ctx,
			  struct diag *d, struct reg_stats *st);

/*
 * Normalise a domain name in place into out (at least 254 bytes): lower case, trailing dot
 * removed, Unicode IDN converted to punycode (IDNA2008), labels 1..63 bytes of [a-z0-9_-],
 * name at most 253 bytes. Returns 0 or -EINVAL with *why set.
 */
int domain_normalize(const char *in, char *out, size_t outlen, const char **why);

#endif
