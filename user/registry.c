// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registry files (see registry.h): a line splitter over zlib (plain and .gz files alike), a
 * per-line format detector (plain names, `*.name`, hosts, Adblock, dnsmasq, domain-list-community,
 * IP/CIDR and netset lines) and domain_normalize(). Every line is copied once into a fixed
 * buffer and parsed in place: no allocation per line, libidn2 only for non-ASCII names.
 */
#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "user/registry.h"

#define REG_LINE_MAX 4096 /* longer lines are reported and skipped, never split */
#define REG_INCLUDE_DEPTH 8 /* nested include: files */
#define REG_CHUNK (128 * 1024) /* bytes decompressed per gzread() */
#define REG_NAME_MAX 253
#define REG_LABEL_MAX 63
#define REG_SHOW 80 /* bytes of an offending token quoted in a message */

/* Files open along the current include chain, to detect cycles. */
struct reg_chain {
	dev_t dev[REG_INCLUDE_DEPTH + 1];
	ino_t ino[REG_INCLUDE_DEPTH + 1];
	const char *path[REG_INCLUDE_DEPTH + 1];
	int n;
	struct reg_files *inc; /* where the include: files go (NULL: not recorded) */
};

struct reg_parser {
	const char *file; /* name in messages and entries */
	const char *dir; /* directory of file, for include: (NULL: includes are not followed) */
	reg_entry_fn fn;
	void *ctx;
	struct diag *d;
	struct reg_stats *st;
	struct reg_chain *chain;
	int depth;
	/* The line being assembled. */
	int lineno;
	size_t len;
	bool overlong;
	char buf[REG_LINE_MAX + 2]; /* the line, a '\r' and the NUL */
};

static int reg_parse_path(struct reg_parser *parent, const char *path, int line);

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static void rtrim(char *s)
{
	char *e = s + strlen(s);

	while (e > s && is_blank(e[-1]))
		*--e = '\0';
}

/* Cut the first whitespace-separated token of s; returns the rest (trimmed, maybe empty). */
static char *cut_token(char *s)
{
	while (*s && !is_blank(*s))
		s++;
	if (*s)
		*s++ = '\0';
	return skip_blank(s);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Names: lower case, one trailing dot removed, labels 1..63 bytes of [a-z0-9_-], at most 253
 * bytes. Pure ASCII never reaches libidn2.
 */
static int check_ascii_name(const char *in, size_t n, char *out, size_t outlen, const char **why)
{
	size_t i, label = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = "empty name";
		return -EINVAL;
	}
	if (n > REG_NAME_MAX) {
		*why = "name longer than 253 bytes";
		return -EINVAL;
	}
	if (n + 1 > outlen) {
		*why = "name does not fit the output buffer";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0) {
				*why = "empty label (a leading dot or two dots in a row)";
				return -EINVAL;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			if (++label > REG_LABEL_MAX) {
				*why = "label longer than 63 bytes";
				return -EINVAL;
			}
		} else {
			*why = "bad character in name (allowed: letters, digits, '-', '_' and '.')";
			return -EINVAL;
		}
		out[i] = (char)c;
	}
	if (label == 0) {
		*why = "empty label (two dots at the end)";
		return -EINVAL;
	}
	out[n] = '\0';
	return 0;
}

int domain_normalize(const char *in, char *out, size_t outlen, const char **why)
{
	const unsigned char *p;
	char *ace = NULL;
	size_t n;
	int rc;

	for (p = (const unsigned char *)in; *p; p++)
		if (*p >= 0x80)
			break;
	if (!*p)
		return check_ascii_name(in, (size_t)(p - (const unsigned char *)in), out, outlen,
					why);

	/* IDNA2008 with the UTS #46 mapping (lower case, width folding); transitional as a
	 * fallback for names only the older rules accept. */
	rc = idn2_to_ascii_8z(in, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_to_ascii_8z(in, &ace, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc != IDN2_OK) {
		*why = "not a valid internationalised domain name (IDNA2008)";
		return -EINVAL;
	}
	n = strlen(ace);
	rc = check_ascii_name(ace, n, out, outlen, why);
	idn2_free(ace);
	return rc;
}

static void reg_warn(struct reg_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reg_warn(struct reg_parser *p, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->st->invalid++;
	diag_report(p->d, DIAG_WARNING, p->file, line, "%s", msg);
}

static int reg_emit(struct reg_parser *p, struct reg_entry *e, int line)
{
	e->file = p->file;
	e->line = line;
	p->st->entries++;
	if (e->kind == REG_IP)
		p->st->ip++;
	else
		p->st->domains++;
	return p->fn ? p->fn(p->ctx, e) : 0;
}

/*
 * Does s look like an IP address or prefix rather than a name? The address part (before `/`
 * or a `%zone`) is digits and dots (IPv4), or has a `:` and only letters, digits, `:` and `.`
 * (IPv6, typos included, so that they get an IP message; element-hiding rules with `:` have a
 * `#` and are not taken).
 */
bool registry_looks_ip(const char *s)
{
	bool colon = false, v4 = true;
	const char *q;

	for (q = s; *q && *q != '/' && *q != '%'; q++) {
		char c = *q;

		if (c == ':')
			colon = true;
		else if (!((c >= '0' && c <= '9') || c == '.'))
			v4 = false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '.' || c == ':'))
			return false;
	}
	if (q == s)
		return false;
	return colon || v4;
}

/* An address or prefix entry; host bits beyond the prefix are warned, with the fix. */
static int reg_ip(struct reg_parser *p, const char *tok, int line)
{
	struct reg_entry e = { .kind = REG_IP };
	const char *why;

	if (ip_prefix_parse(tok, &e.prefix, false, &why)) {
		struct ip_prefix fixed;
		const char *why2;
		char buf[64];

		if (!ip_prefix_parse(tok, &fixed, true, &why2)) {
			reg_warn(
				p, line,
				"'%.*s': host bits set beyond the prefix length (did you mean %s?) "
				"— the line is skipped",
				REG_SHOW, tok, ip_prefix_format(&fixed, buf, sizeof(buf)));
			return 0;
		}
		reg_warn(p, line, "'%.*s': %s — the line is skipped", REG_SHOW, tok, why);
		return 0;
	}
	return reg_emit(p, &e, line);
}

/* A name entry (an IPv4 address in name position is an IP entry: UT1 lists have them). */
static int reg_name(struct reg_parser *p, const char *tok, unsigned int flags, int line)
{
	struct reg_entry e = { .kind = REG_DOMAIN, .flags = flags };
	char name[REG_NAME_MAX + 3];
	const char *why;

	if (registry_looks_ip(tok))
		return reg_ip(p, tok, line);
	if (domain_normalize(tok, name, sizeof(name), &why)) {
		reg_warn(p, line, "invalid name '%.*s': %s — the line is skipped", REG_SHOW, tok,
			 why);
		return 0;
	}
	e.name = name;
	return reg_emit(p, &e, line);
}

/* `*.name`: the same subtree as `name`, remembered as written. */
static int reg_wildcard_or_name(struct reg_parser *p, const char *tok, unsigned int flags, int line)
{
	if (tok[0] == '*' && tok[1] == '.')
		return reg_name(p, tok + 2, flags | REG_F_WILDCARD, line);
	return reg_name(p, tok, flags, line);
}

/* Names a hosts file carries for the machine itself: not blockable, not worth a warning. */
static bool hosts_ignored(const char *name)
{
	static const char *const ignored[] = {
		"localhost",	 "localhost.localdomain", "local",	  "broadcasthost",
		"ip6-localhost", "ip6-loopback",	  "ip6-localnet", "ip6-mcastprefix",
		"ip6-allnodes",	 "ip6-allrouters",	  "ip6-allhosts", "0.0.0.0",
	};
	char c = (char)(name[0] | 0x20);
	size_t i;

	if (c != 'l' && c != 'b' && c != 'i' && name[0] != '0')
		return false; /* the common case, without a dozen strcasecmp() */
	for (i = 0; i < ARRAY_SIZE(ignored); i++)
		if (strcasecmp(name, ignored[i]) == 0)
			return true;
	return false;
}

/* After a name, only domain-list-community attributes (`@cn`, `&owner`) may follow. */
static bool only_attributes(char *rest)
{
	while (*rest) {
		char *tok = rest;

		rest = cut_token(rest);
		if (tok[0] != '@' && tok[0] != '&')
			return false;
	}
	return true;
}

/* `ADDRESS name name ...`; the address may be `0` or carry a zone (`fe80::1%lo0`). */
static int reg_hosts(struct reg_parser *p, char *addr, char *rest, int line)
{
	struct ip_prefix pfx;
	const char *why;
	char *pct;
	int err;

	pct = strchr(addr, '%');
	if (pct)
		*pct = '\0';
	if (strcmp(addr, "0") != 0 && ip_prefix_parse(addr, &pfx, false, &why)) {
		reg_warn(p, line,
			 "'%.*s' is not an IP address (a hosts line starts with one) "
			 "— the line is skipped",
			 REG_SHOW, addr);
		return 0;
	}
	while (*rest) {
		char *tok = rest;

		rest = cut_token(rest);
		if (hosts_ignored(tok)) {
			p->st->ignored_hosts++;
			continue;
		}
		err = reg_name(p, tok, 0, line);
		if (err)
			return err;
	}
	return 0;
}

/* `address=/a/b/VALUE`, `server=/a/VALUE`, `local=/a/`: s points after the `=/`. */
static int reg_dnsmasq(struct reg_parser *p, char *s, int line)
{
	char *last = strrchr(s, '/');
	int err;

	if (!last) {
		reg_warn(p, line,
			 "dnsmasq line without its closing '/' (expected "
			 "address=/name/[address]) — the line is skipped");
		return 0;
	}
	*last = '\0';
	while (s) {
		char *slash = strchr(s, '/');

		if (slash)
			*slash = '\0';
		if (!*s) {
			reg_warn(p, line,
				 "dnsmasq line with an empty name between '/' "
				 "— the line is skipped");
			return 0;
		}
		if (strcmp(s, "#") == 0) {
			reg_warn(p, line,
				 "dnsmasq '/#/' (every domain) cannot be a list entry "
				 "— the line is skipped");
			return 0;
		}
		err = reg_wildcard_or_name(p, s, 0, line);
		if (err)
			return err;
		s = slash ? slash + 1 : NULL;
	}
	return 0;
}

/*
 * Adblock: `||name^` blocks, `@@||name^` allows (an optional `|` may close either). Anything
 * else — paths, `$` options, wildcards, element hiding — cannot be honoured by a DNS/SNI
 * filter and is counted, not warned (real lists are full of such rules).
 */
static int reg_adblock(struct reg_parser *p, char *s, int line)
{
	unsigned int flags = 0;
	char *caret;
	size_t n;

	if (s[0] == '@' && s[1] == '@') {
		flags |= REG_F_ALLOW;
		s += 2;
	}
	if (s[0] != '|' || s[1] != '|')
		goto unsupported;
	s += 2;
	caret = strchr(s, '^');
	if (!caret || caret == s)
		goto unsupported;
	if (!(caret[1] == '\0' || (caret[1] == '|' && caret[2] == '\0')))
		goto unsupported;
	*caret = '\0';
	n = strcspn(s, "|$*/?&=:#");
	if (s[n] != '\0')
		goto unsupported;
	return reg_name(p, s, flags, line);
unsupported:
	p->st->adblock_unsupported++;
	return 0;
}

/*
 * Characters that make a token an Adblock rule rather than a name: anchors, separators,
 * options, wildcards, paths and the `#` of element hiding (`##`, `#@#`, `#?#`, ...).
 */
static bool adblock_syntax(const char *tok)
{
	return strpbrk(tok, "|^$*/#") != NULL;
}

/* Record path in f, once. Returns 0 or -ENOMEM. */
static int reg_files_add(struct reg_files *f, const char *path)
{
	size_t i;
	char *dup;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->path[i], path) == 0)
			return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		char **v = realloc(f->path, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->path = v;
		f->cap = cap;
	}
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	f->path[f->n++] = dup;
	return 0;
}

void reg_files_free(struct reg_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
	f->path = NULL;
	f->n = f->cap = 0;
}

/* `include:NAME`: a file beside the current one (registry_parse_file only). */
static int reg_include(struct reg_parser *p, char *s, int line)
{
	char path[PATH_MAX];
	char *rest = cut_token(s);

	(void)rest; /* attribute filters (`include:x @-cn`) are not honoured: all of x is read */
	if (!*s || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		reg_warn(p, line,
			 "include:'%.*s' must name a file in the same directory "
			 "— the line is skipped",
			 REG_SHOW, s);
		return 0;
	}
	if (!p->dir)
		return 0; /* a buffer: nothing to include from */
	if (p->depth >= REG_INCLUDE_DEPTH) {
		reg_warn(p, line,
			 "include:%.*s is nested deeper than %d files "
			 "— the line is skipped",
			 REG_SHOW, s, REG_INCLUDE_DEPTH);
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, s) >= sizeof(path)) {
		reg_warn(p, line, "include:%.*s: path too long — the line is skipped", REG_SHOW, s);
		return 0;
	}
	/* before it is read: a file missing now is watched for too */
	if (p->chain->inc && reg_files_add(p->chain->inc, path))
		return -ENOMEM;
	return reg_parse_path(p, path, line);
}

/* Cut an inline comment: whitespace followed by `#` (hosts) or `;` (netset, Spamhaus). */
static void cut_inline_comment(char *s)
{
	char *q;

	for (q = s + 1; *q; q++) {
		if ((*q == '#' || *q == ';') && is_blank(q[-1])) {
			*q = '\0';
			break;
		}
	}
	rtrim(s);
}

/* One line, NUL-terminated, writable. Returns 0 or the callback's (or an include's) error. */
static int reg_line(struct reg_parser *p, char *s, int line)
{
	struct reg_stats *st = p->st;
	char *tok, *rest;
	bool wildcard;
	size_t n;

	if (line == 1 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
	    (unsigned char)s[2] == 0xbf)
		s += 3;
	s = skip_blank(s);
	rtrim(s);
	n = strlen(s);
	if (n == 0 || s[0] == '#' || s[0] == '!' || s[0] == ';' ||
	    (s[0] == '[' && s[n - 1] == ']')) {
		st->comments++;
		return 0;
	}
	cut_inline_comment(s);

	/* domain-list-community and dnsmasq prefixes; the switch keeps plain lines fast. */
	switch (s[0]) {
	case 'd':
	case 'f':
		if (starts_with(s, "domain:") || starts_with(s, "full:")) {
			unsigned int flags = s[0] == 'f' ? REG_F_EXACT : 0;

			tok = strchr(s, ':') + 1;
			rest = cut_token(tok);
			if (!only_attributes(rest)) {
				reg_warn(p, line,
					 "unexpected text after '%.*s' (one name a line, "
					 "then only @attributes) — the line is skipped",
					 REG_SHOW, s);
				return 0;
			}
			return reg_name(p, tok, flags, line);
		}
		break;
	case 'k':
	case 'r':
		if (starts_with(s, "keyword:") || starts_with(s, "regex:")) {
			st->regex_skipped++;
			return 0;
		}
		break;
	case 'i':
		if (starts_with(s, "include:"))
			return reg_include(p, s + 8, line);
		break;
	case 'a':
		if (starts_with(s, "address=/"))
			return reg_dnsmasq(p, s + 9, line);
		break;
	case 's':
		if (starts_with(s, "server=/"))
			return reg_dnsmasq(p, s + 8, line);
		break;
	case 'l':
		if (starts_with(s, "local=/"))
			return reg_dnsmasq(p, s + 7, line);
		break;
	}

	/* Adblock */
	if (s[0] == '|' || (s[0] == '@' && s[1] == '@'))
		return reg_adblock(p, s, line);

	tok = s;
	rest = cut_token(s);
	if (registry_looks_ip(tok)) {
		/* `ADDRESS names...` is a hosts line; `PREFIX anything` a netset line. */
		if (*rest && !strchr(tok, '/'))
			return reg_hosts(p, tok, rest, line);
		return reg_ip(p, tok, line);
	}
	wildcard = tok[0] == '*' && tok[1] == '.';
	if (adblock_syntax(wildcard ? tok + 2 : tok)) {
		st->adblock_unsupported++;
		return 0;
	}
	if (!only_attributes(rest)) {
		reg_warn(p, line,
			 "unexpected text after '%.*s' (one name a line; a hosts line "
			 "starts with an address) — the line is skipped",
			 REG_SHOW, tok);
		return 0;
	}
	return reg_wildcard_or_name(p, tok, 0, line);
}

/* The assembled line is complete: check its length and bytes, then parse it. */
static int reg_end_line(struct reg_parser *p)
{
	int line = ++p->lineno;
	bool overlong = p->overlong;
	size_t len = p->len;

	p->st->lines++;
	p->len = 0;
	p->overlong = false;
	if (!overlong && len > 0 && p->buf[len - 1] == '\r')
		len--;
	if (overlong || len > REG_LINE_MAX) {
		reg_warn(p, line, "line longer than %d bytes — the line is skipped", REG_LINE_MAX);
		return 0;
	}
	if (memchr(p->buf, '\0', len)) {
		reg_warn(p, line, "NUL byte in the line (a binary file?) — the line is skipped");
		return 0;
	}
	p->buf[len] = '\0';
	return reg_line(p, p->buf, line);
}

/* Feed bytes; each '\n' ends a line. */
static int reg_feed(struct reg_parser *p, const char *data, size_t n)
{
	int err;

	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl ? (size_t)(nl - data) : n;

		if (!p->overlong) {
			if (p->len + seg > REG_LINE_MAX + 1) {
				p->overlong = true;
			} else {
				memcpy(p->buf + p->len, data, seg);
				p->len += seg;
			}
		}
		if (!nl)
			break;
		err = reg_end_line(p);
		if (err)
			return err;
		data += seg + 1;
		n -= seg + 1;
	}
	return 0;
}

/* A last line without its newline. */
static int reg_finish(struct reg_parser *p)
{
	if (p->len || p->overlong)
		return reg_end_line(p);
	return 0;
}

static void reg_parser_init(struct reg_parser *p, const char *file, reg_entry_fn fn, void *ctx,
			    struct diag *d, struct reg_stats *st)
{
	p->file = file;
	p->dir = NULL;
	p->fn = fn;
	p->ctx = ctx;
	p->d = d;
	p->st = st;
	p->chain = NULL;
	p->depth = 0;
	p->lineno = 0;
	p->len = 0;
	p->overlong = false;
}

int registry_parse_buffer(const char *name, const char *buf, size_t len, reg_entry_fn fn, void *ctx,
			  struct diag *d, struct reg_stats *st)
{
	struct reg_stats local;
	struct reg_parser *p;
	int err;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	reg_parser_init(p, name, fn, ctx, d, st);
	err = reg_feed(p, buf, len);
	if (!err)
		err = reg_finish(p);
	free(p);
	return err;
}

/* Read an open gzFile (plain files pass through zlib unchanged) to its end. */
static int reg_read_gz(struct reg_parser *p, gzFile gz)
{
	char *chunk;
	int zerr, n, err = 0;

	chunk = malloc(REG_CHUNK);
	if (!chunk)
		return -ENOMEM;
	for (;;) {
		n = gzread(gz, chunk, REG_CHUNK);
		if (n < 0) {
			const char *msg = gzerror(gz, &zerr);

			err = zerr == Z_ERRNO ? -errno : -EIO;
			if (zerr == Z_ERRNO)
				msg = strerror(-err);
			diag_report(p->d, DIAG_ERROR, p->file, 0,
				    "cannot read registry file: %s (after line %d; the file is "
				    "corrupt: fetch it again)",
				    msg, p->lineno);
			if (!err)
				err = -EIO;
			goto cleanup;
		}
		if (n == 0)
			break;
		err = reg_feed(p, chunk, (size_t)n);
		if (err)
			goto cleanup;
	}
	gzerror(gz, &zerr);
	if (zerr == Z_BUF_ERROR) {
		/* zlib reports a gzip stream cut short this way, and only this way. */
		diag_report(p->d, DIAG_ERROR, p->file, 0,
			    "cannot read registry file: compressed data ends early (after line %d; "
			    "the file is truncated: fetch it again)",
			    p->lineno);
		err = -EIO;
		goto cleanup;
	}
	err = reg_finish(p);
cleanup:
	free(chunk);
	return err;
}

/* Open and parse one file, as the top level or from an include: line of parent. */
static int reg_parse_path(struct reg_parser *parent, const char *path, int inc_line)
{
	struct reg_parser *p = NULL;
	gzFile gz = NULL;
	struct stat sb;
	char *dir = NULL, *slash;
	int fd, i, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err = -errno;
		goto report;
	}
	if (S_ISDIR(sb.st_mode)) {
		err = -EISDIR;
		goto report;
	}
	for (i = 0; i < parent->chain->n; i++) {
		if (parent->chain->dev[i] == sb.st_dev && parent->chain->ino[i] == sb.st_ino) {
			char loop[512];
			size_t off = 0;
			int j;

			/* "a -> b -> a": the files of the loop, in include order */
			for (j = i; j < parent->chain->n && off < sizeof(loop); j++)
				off += (size_t)snprintf(loop + off, sizeof(loop) - off, "%s -> ",
							parent->chain->path[j]);
			if (off < sizeof(loop))
				snprintf(loop + off, sizeof(loop) - off, "%s", path);
			reg_warn(parent, inc_line,
				 "include cycle: %s (remove one of the include: lines) "
				 "— the line is skipped",
				 loop);
			err = 0;
			goto cleanup;
		}
	}

	p = malloc(sizeof(*p));
	dir = strdup(path);
	if (!p || !dir) {
		err = -ENOMEM;
		goto cleanup;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	reg_parser_init(p, path, parent->fn, parent->ctx, parent->d, parent->st);
	p->dir = dir;
	p->chain = parent->chain;
	p->depth = parent->chain->n;

	gz = gzdopen(fd, "rb");
	if (!gz) {
		err = -ENOMEM;
		goto cleanup;
	}
	fd = -1; /* gz owns it now */
	gzbuffer(gz, REG_CHUNK);

	i = p->chain->n++;
	p->chain->dev[i] = sb.st_dev;
	p->chain->ino[i] = sb.st_ino;
	p->chain->path[i] = path;
	if (inc_line > 0)
		p->st->includes++;
	err = reg_read_gz(p, gz);
	p->chain->n--;
	goto cleanup;

report:
	if (inc_line > 0)
		diag_report(parent->d, DIAG_ERROR, parent->file, inc_line,
			    "include: cannot read registry file %s: %s (create it or remove the "
			    "include: line)",
			    path, strerror(-err));
	else
		diag_report(parent->d, DIAG_ERROR, path, 0, "cannot read registry file: %s",
			    strerror(-err));
cleanup:
	if (gz)
		gzclose_r(gz);
	if (fd >= 0)
		close(fd);
	free(dir);
	free(p);
	return err;
}

int registry_parse_file(const char *path, reg_entry_fn fn, void *ctx, struct diag *d,
			struct reg_stats *st)
{
	return registry_parse_file_inc(path, fn, ctx, d, st, NULL);
}

int registry_parse_file_inc(const char *path, reg_entry_fn fn, void *ctx, struct diag *d,
			    struct reg_stats *st, struct reg_files *inc)
{
	struct reg_stats local;
	struct reg_chain chain = { .n = 0, .inc = inc };
	struct reg_parser root;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	/* A pseudo parent that holds the chain; it parses no line itself. */
	reg_parser_init(&root, path, fn, ctx, d, st);
	root.chain = &chain;
	return reg_parse_path(&root, path, 0);
}
