// SPDX-License-Identifier: GPL-2.0-only
/*
 * The INI config (see config.h and DESIGN.md "Config (INI)"): a line parser that fills a
 * struct guard_config section by section, reports every problem as file:line with what to do,
 * and resolves what may be named before it is defined (schedules used by groups, categories)
 * once the whole file has been read. Any error refuses the whole file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>
#include "user/config.h"
#include "user/schedule.h"

#define CFG_ZONEINFO "/usr/share/zoneinfo"
#define CFG_MAX_FILE (16 << 20) /* a config larger than this is surely not one */
#define CFG_MAX_SEEN 64 /* keys remembered per section, for duplicates */
#define CFG_KEY_MAX 64
#define CFG_SHOW 64 /* bytes of a bad value quoted in a message */
#define CFG_BLOCK_TTL_MAX 86400
#define CFG_DEFAULT_STATE_DIR "/var/lib/bpfguard"
#define CFG_DEFAULT_BLOCK_TTL 10
#define N_URL_ONLY 4 /* entries of url_only_keys[] */

enum cfg_section { SEC_NONE, SEC_GUARD, SEC_LIST, SEC_SCHEDULE, SEC_GROUP, SEC_BAD };

/* A group rule whose category and schedule are resolved after the whole file is read. */
struct cfg_pending {
	int group;
	bool allow;
	int rule;
	int line;
	char category[CATEGORY_NAME_LEN];
	char schedule[LIST_NAME_LEN]; /* empty: always */
};

struct cfg_parser {
	const char *file;
	struct diag *d;
	struct guard_config *cfg;
	unsigned int errors;

	enum cfg_section sec;
	int sec_line;
	char seen[CFG_MAX_SEEN][CFG_KEY_MAX];
	int n_seen;
	bool guard_seen;
	int dns_action_line;

	/* The [list] being read. */
	int category_line;
	int url_only_line[N_URL_ONLY]; /* line of each url_only_keys[] key, 0: not given */
	/* The [group] being read: errors in its clients = and macs = values. */
	unsigned int member_errors;

	struct cfg_pending *pending;
	int n_pending, cap_pending;
};

static const char *const guard_keys[] = {
	"interfaces", "tc_ingress", "tc_egress", "xdp_mode", "dns_action", "tcp_action",
	"sinkhole4",  "sinkhole6",  "block_ttl", "metrics",  "state_dir",  "unexamined",
};
static const char *const list_keys[] = { "path",  "url",    "category", "action",   "direction",
					 "match", "sha256", "refresh",	"max_size", "timeout" };
/* [list] keys that only a url = list takes; their lines are kept to report them beside path =. */
static const char *const url_only_keys[N_URL_ONLY] = { "sha256", "refresh", "max_size", "timeout" };
static const char *const group_keys[] = { "clients", "macs", "block", "allow" };
static const char *const section_kinds[] = { "guard", "list", "schedule", "group" };
static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static void cfg_err(struct cfg_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cfg_err(struct cfg_parser *p, int line, const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->errors++;
	diag_report(p->d, DIAG_ERROR, p->file, line, "%s", msg);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* `value ; comment` and `value # comment`: a comment starts after whitespace. */
static void cut_comment(char *s)
{
	char *q;

	for (q = s; *q; q++) {
		if ((*q == ';' || *q == '#') && (q == s || is_blank(q[-1]))) {
			*q = '\0';
			return;
		}
	}
}

/* Edit distance (case-insensitive) of two short strings, for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
	int prev[CFG_KEY_MAX + 1], cur[CFG_KEY_MAX + 1];
	int la = (int)strlen(a), lb = (int)strlen(b), i, j;

	if (la > CFG_KEY_MAX || lb > CFG_KEY_MAX)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						 tolower((unsigned char)b[j - 1]));
			int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
	}
	return prev[lb];
}

/* " (did you mean 'x'?)" for the nearest of words, or "" when none is near. */
static const char *suggest(const char *word, const char *const *words, size_t n, char *buf,
			   size_t len)
{
	int best = INT_MAX, dist;
	size_t i, bi = 0;

	for (i = 0; i < n; i++) {
		dist = edit_distance(word, words[i]);
		if (dist < best) {
			best = dist;
			bi = i;
		}
	}
	if (best > 2 &&
	    !(n && strlen(word) >= 3 && strncasecmp(word, words[bi], strlen(word)) == 0))
		return "";
	snprintf(buf, len, " (did you mean '%s'?)", words[bi]);
	return buf;
}

/* "a, b, c" into buf. */
static const char *join(const char *const *words, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", words[i]);
	return buf;
}

/* Index of v in words (case-insensitive), or -1 after reporting "key: 'v' is not one of ...". */
static int parse_enum(struct cfg_parser *p, int line, const char *key, const char *v,
		      const char *const *words, size_t n)
{
	char list[128];
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0)
			return (int)i;
	cfg_err(p, line, "%s: '%.*s' is not one of %s", key, CFG_SHOW, v,
		join(words, n, list, sizeof(list)));
	return -1;
}

static bool name_ok(const char *s, size_t max, bool upper_dot)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      (upper_dot && ((c >= 'A' && c <= 'Z') || c == '.'))))
			return false;
	}
	return n >= 1 && n <= max;
}

/* List, schedule and group names: [A-Za-z0-9_.-]{1,47}. */
static bool section_name_ok(const char *s)
{
	return name_ok(s, LIST_NAME_LEN - 1, true);
}

/* Category names: [a-z0-9_-]{1,31}. */
static bool category_ok(const char *s)
{
	return name_ok(s, CATEGORY_NAME_LEN - 1, false);
}

/* Split a comma list in place: each call returns the next trimmed element, NULL at the end. */
static char *next_item(char **cursor)
{
	char *s = *cursor, *comma;

	if (!s)
		return NULL;
	comma = strchr(s, ',');
	if (comma) {
		*comma = '\0';
		*cursor = comma + 1;
	} else {
		*cursor = NULL;
	}
	return trim(s);
}

/*
 * Was key given in the current section (valid or not)? The checks for missing keys at the end
 * of a section ask this first, so that a bad value is reported once, not twice.
 */
static bool seen_key(const struct cfg_parser *p, const char *key)
{
	int i;

	for (i = 0; i < p->n_seen; i++)
		if (strcasecmp(p->seen[i], key) == 0)
			return true;
	return false;
}

/* ---- [guard] ---- */

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    (unsigned char)*s < 0x20)
			return false;
	return true;
}

static void parse_ifaces(struct cfg_parser *p, int line, const char *key, char *v,
			 char (*out)[IF_NAMESIZE], int *n_out)
{
	char *cursor = v, *item;
	int i, n = 0;

	*n_out = 0;
	if (!*v || strcasecmp(v, "none") == 0)
		return;
	while ((item = next_item(&cursor))) {
		if (!*item) {
			cfg_err(p, line,
				"%s: empty interface name in the list (remove the extra "
				"comma)",
				key);
			continue;
		}
		if (strlen(item) >= IF_NAMESIZE) {
			cfg_err(p, line, "%s: interface name '%.*s' is longer than %d characters",
				key, CFG_SHOW, item, IF_NAMESIZE - 1);
			continue;
		}
		if (!ifname_ok(item)) {
			cfg_err(p, line, "%s: '%.*s' is not a valid interface name", key, CFG_SHOW,
				item);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(out[i], item) == 0)
				break;
		if (i < n) {
			cfg_err(p, line, "%s: interface '%s' is listed twice", key, item);
			continue;
		}
		if (n >= CFG_MAX_IFACES) {
			cfg_err(p, line, "%s: more than %d interfaces", key, CFG_MAX_IFACES);
			break;
		}
		str_copy(out[n++], item, IF_NAMESIZE);
	}
	*n_out = n;
}

static void parse_sinkhole(struct cfg_parser *p, int line, const char *key, const char *v,
			   int family, struct ip_prefix *out)
{
	struct ip_prefix pfx;
	const char *why;

	if (!*v) {
		memset(out, 0, sizeof(*out));
		return;
	}
	if (strchr(v, '/') || ip_prefix_parse(v, &pfx, false, &why) || pfx.family != family) {
		cfg_err(p, line, "%s: '%.*s' is not an IPv%d address (e.g. %s)", key, CFG_SHOW, v,
			family, family == 4 ? "192.0.2.1" : "2001:db8::1");
		return;
	}
	*out = pfx;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* A number with an optional unit suffix: units[i] is the letter, mult[i] its multiplier. */
static bool parse_scaled(const char *s, const char *units, const unsigned long long *mult,
			 unsigned long long max, bool allow_b, unsigned long long *out)
{
	unsigned long long v = 0, m = 1;
	const char *u;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (*s) {
		u = strchr(units, tolower((unsigned char)*s));
		if (!u)
			return false;
		m = mult[u - units];
		s++;
		if (allow_b && (*s == 'b' || *s == 'B'))
			s++;
		if (*s)
			return false;
	}
	if (v > max / m)
		return false;
	*out = v * m;
	return true;
}

/* `90`, `90s`, `30m`, `6h`, `1d` into seconds, at most max. */
static bool parse_duration(const char *s, unsigned long long max, unsigned long long *out)
{
	static const unsigned long long mult[] = { 1, 60, 3600, 86400 };

	return parse_scaled(s, "smhd", mult, max, false, out);
}

/* `1048576`, `512K`, `50M`, `2G` (powers of 1024; a trailing B is allowed) into bytes. */
static bool parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
	static const unsigned long long mult[] = { 1ULL << 10, 1ULL << 20, 1ULL << 30 };

	return parse_scaled(s, "kmg", mult, max, true, out);
}

/* `host:port`: IPv4 `127.0.0.1:9477`, IPv6 `[::1]:9477`; `off` or empty: none. */
static void parse_metrics(struct cfg_parser *p, int line, const char *v, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];
	const char *port;
	unsigned long pv;
	size_t hl;
	int family;

	if (!*v || strcasecmp(v, "off") == 0) {
		out[0] = '\0';
		return;
	}
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - v - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, hl);
		port = close + 2;
		family = AF_INET6;
	} else {
		const char *colon = strrchr(v, ':');

		if (!colon)
			goto bad;
		hl = (size_t)(colon - v);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, v, hl);
		port = colon + 1;
		family = AF_INET;
	}
	host[hl] = '\0';
	if (inet_pton(family, host, addr) != 1)
		goto bad;
	if (!parse_uint(port, 65535, &pv) || pv == 0) {
		cfg_err(p, line, "metrics: port '%.*s' is out of range (1-65535)", CFG_SHOW, port);
		return;
	}
	if (strlen(v) >= len)
		goto bad;
	strcpy(out, v);
	return;
bad:
	cfg_err(p, line,
		"metrics: '%.*s' is not host:port (e.g. 127.0.0.1:9477 or [::1]:9477; "
		"'off' for none)",
		CFG_SHOW, v);
}

static void guard_key(struct cfg_parser *p, int line, const char *key, char *v)
{
	static const char *const dns_actions[] = { "drop", "nxdomain", "refused", "sinkhole" };
	static const char *const tcp_actions[] = { "drop", "reset" };
	static const char *const unexamined_values[] = { "pass", "block" };
	struct guard_config *cfg = p->cfg;
	char hint[96];
	int k;

	if (strcasecmp(key, "interfaces") == 0) {
		parse_ifaces(p, line, key, v, cfg->ifaces, &cfg->n_ifaces);
	} else if (strcasecmp(key, "tc_ingress") == 0) {
		parse_ifaces(p, line, key, v, cfg->tc_ingress, &cfg->n_tc_ingress);
	} else if (strcasecmp(key, "tc_egress") == 0) {
		parse_ifaces(p, line, key, v, cfg->tc_egress, &cfg->n_tc_egress);
	} else if (strcasecmp(key, "xdp_mode") == 0) {
		/* listed in the order the message shows; mapped to the enum */
		static const char *const shown[] = { "native", "generic", "auto" };
		static const int val[] = { XDP_MODE_NATIVE, XDP_MODE_GENERIC, XDP_MODE_AUTO };

		k = parse_enum(p, line, key, v, shown, ARRAY_SIZE(shown));
		if (k >= 0)
			cfg->xdp_mode = val[k];
	} else if (strcasecmp(key, "dns_action") == 0) {
		k = parse_enum(p, line, key, v, dns_actions, ARRAY_SIZE(dns_actions));
		if (k >= 0) {
			cfg->dns_action = k; /* DNS_ACT_* in the same order */
			p->dns_action_line = line;
		}
	} else if (strcasecmp(key, "tcp_action") == 0) {
		k = parse_enum(p, line, key, v, tcp_actions, ARRAY_SIZE(tcp_actions));
		if (k >= 0)
			cfg->tcp_action = k; /* TCP_ACT_* in the same order */
	} else if (strcasecmp(key, "unexamined") == 0) {
		k = parse_enum(p, line, key, v, unexamined_values, ARRAY_SIZE(unexamined_values));
		if (k >= 0)
			cfg->unexamined = k; /* UNEXAMINED_* in the same order */
	} else if (strcasecmp(key, "sinkhole4") == 0) {
		parse_sinkhole(p, line, key, v, 4, &cfg->sinkhole4);
	} else if (strcasecmp(key, "sinkhole6") == 0) {
		parse_sinkhole(p, line, key, v, 6, &cfg->sinkhole6);
	} else if (strcasecmp(key, "block_ttl") == 0) {
		unsigned long ttl;

		if (!parse_uint(v, CFG_BLOCK_TTL_MAX, &ttl))
			cfg_err(p, line, "block_ttl: '%.*s' is not a number of seconds in 0..%d",
				CFG_SHOW, v, CFG_BLOCK_TTL_MAX);
		else
			cfg->block_ttl = (unsigned int)ttl;
	} else if (strcasecmp(key, "metrics") == 0) {
		parse_metrics(p, line, v, cfg->metrics, sizeof(cfg->metrics));
	} else if (strcasecmp(key, "state_dir") == 0) {
		if (v[0] != '/')
			cfg_err(p, line, "state_dir: '%.*s' is not an absolute path (e.g. %s)",
				CFG_SHOW, v, CFG_DEFAULT_STATE_DIR);
		else if (!str_copy(cfg->state_dir, v, sizeof(cfg->state_dir)))
			cfg_err(p, line, "state_dir: path longer than %zu characters",
				sizeof(cfg->state_dir) - 1);
	} else {
		cfg_err(p, line, "unknown key '%.*s' in [guard]%s", CFG_SHOW, key,
			suggest(key, guard_keys, ARRAY_SIZE(guard_keys), hint, sizeof(hint)));
	}
}

/* ---- [list NAME] ---- */

/* Is key one of url_only_keys[]? If so, remember its line. */
static bool url_only_key(struct cfg_parser *p, int line, const char *key)
{
	size_t i;

	for (i = 0; i < N_URL_ONLY; i++) {
		if (strcasecmp(key, url_only_keys[i]) == 0) {
			p->url_only_line[i] = line;
			return true;
		}
	}
	return false;
}

/* sha256 =, refresh =, max_size =, timeout = (see fetch.h for what they do). */
static void list_url_key(struct cfg_parser *p, int line, struct cfg_list *l, const char *key,
			 const char *v)
{
	unsigned long long n;
	size_t i, len;

	if (strcasecmp(key, "sha256") == 0) {
		len = strlen(v);
		for (i = 0; i < len && isxdigit((unsigned char)v[i]); i++)
			;
		if (len != 64 || i != len) {
			cfg_err(p, line,
				"sha256: '%.*s' is not 64 hexadecimal digits (give the SHA-256 "
				"of the file as downloaded, as sha256sum prints it)",
				CFG_SHOW, v);
			return;
		}
		for (i = 0; i < len; i++)
			l->sha256[i] = (char)tolower((unsigned char)v[i]);
		l->sha256[len] = '\0';
	} else if (strcasecmp(key, "refresh") == 0) {
		if (!parse_duration(v, CFG_REFRESH_MAX, &n)) {
			cfg_err(p, line,
				"refresh: '%.*s' is not a duration of at most 30 days (seconds, "
				"or a number with s, m, h or d: 30m, 6h, 1d)",
				CFG_SHOW, v);
			return;
		}
		if (n < CFG_REFRESH_MIN) {
			cfg_err(p, line,
				"refresh: %llu s is shorter than the minimum of %d s (list "
				"sources ask not to be polled more often; e.g. refresh = 30m)",
				n, CFG_REFRESH_MIN);
			return;
		}
		l->refresh = (unsigned int)n;
	} else if (strcasecmp(key, "max_size") == 0) {
		if (!parse_size(v, CFG_MAX_SIZE_MAX, &n)) {
			cfg_err(p, line,
				"max_size: '%.*s' is not a size of at most 16G (bytes, or a "
				"number with K, M or G: 50M)",
				CFG_SHOW, v);
			return;
		}
		if (n == 0) {
			cfg_err(p, line, "max_size: 0 would refuse every download (e.g. 50M)");
			return;
		}
		l->max_size = n;
	} else {
		if (!parse_duration(v, CFG_TIMEOUT_MAX, &n) || n == 0) {
			cfg_err(p, line,
				"timeout: '%.*s' is not a duration of 1 s to 1 h (seconds, or a "
				"number with s, m or h: 60, 5m)",
				CFG_SHOW, v);
			return;
		}
		l->timeout = (unsigned int)n;
	}
}

static void list_key(struct cfg_parser *p, int line, const char *key, char *v)
{
	static const char *const actions[] = { "block", "allow" };
	static const char *const dirs[] = { "destination", "source", "both" };
	static const char *const matches[] = { "subtree", "exact" };
	struct cfg_list *l = &p->cfg->lists[p->cfg->n_lists - 1];
	char hint[96];
	int k;

	if (strcasecmp(key, "path") == 0) {
		const char *dir = p->cfg->dir;

		if (!*v) {
			cfg_err(p, line,
				"path: empty (give the registry file, e.g. "
				"/etc/bpfguard/registry/adult.txt.gz)");
			return;
		}
		if (v[0] == '/' || !dir) {
			l->path = strdup(v);
		} else if (asprintf(&l->path, "%s/%s", dir, v) < 0) {
			l->path = NULL;
		}
		if (!l->path)
			cfg_err(p, line, "path: out of memory");
	} else if (strcasecmp(key, "url") == 0) {
		if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) {
			cfg_err(p, line, "url: '%.*s' is not an http:// or https:// URL", CFG_SHOW,
				v);
			return;
		}
		l->url = strdup(v);
		if (!l->url)
			cfg_err(p, line, "url: out of memory");
	} else if (strcasecmp(key, "category") == 0) {
		if (!category_ok(v)) {
			cfg_err(p, line,
				"category: '%.*s' is not a category name (1-%d characters "
				"of a-z, 0-9, '_' and '-')",
				CFG_SHOW, v, CATEGORY_NAME_LEN - 1);
			return;
		}
		str_copy(l->category, v, sizeof(l->category));
		p->category_line = line;
	} else if (strcasecmp(key, "action") == 0) {
		k = parse_enum(p, line, key, v, actions, ARRAY_SIZE(actions));
		if (k >= 0)
			l->action = k == 0 ? LIST_BLOCK : LIST_ALLOW;
	} else if (strcasecmp(key, "direction") == 0) {
		static const int val[] = { LIST_DIR_DST, LIST_DIR_SRC, LIST_DIR_BOTH };

		k = parse_enum(p, line, key, v, dirs, ARRAY_SIZE(dirs));
		if (k >= 0)
			l->direction = val[k];
	} else if (strcasecmp(key, "match") == 0) {
		k = parse_enum(p, line, key, v, matches, ARRAY_SIZE(matches));
		if (k >= 0)
			l->match = k == 0 ? LIST_MATCH_SUBTREE : LIST_MATCH_EXACT;
	} else if (url_only_key(p, line, key)) {
		list_url_key(p, line, l, key, v);
	} else {
		cfg_err(p, line, "unknown key '%.*s' in [list %s]%s", CFG_SHOW, key, l->name,
			suggest(key, list_keys, ARRAY_SIZE(list_keys), hint, sizeof(hint)));
	}
}

static void list_finish(struct cfg_parser *p)
{
	struct guard_config *cfg = p->cfg;
	struct cfg_list *l = &cfg->lists[cfg->n_lists - 1];
	int id, k;

	if (!seen_key(p, "path") && !seen_key(p, "url"))
		cfg_err(p, l->line, "[list %s] has neither path = nor url = (give one)", l->name);
	else if (seen_key(p, "path") && seen_key(p, "url"))
		cfg_err(p, l->line, "[list %s] has both path = and url = (keep one)", l->name);
	else if (seen_key(p, "path"))
		for (k = 0; k < N_URL_ONLY; k++)
			if (p->url_only_line[k])
				cfg_err(p, p->url_only_line[k],
					"%s: only a url = list takes it ([list %s] reads "
					"path =; remove the key)",
					url_only_keys[k], l->name);
	if (!l->category[0]) {
		if (!seen_key(p, "category"))
			cfg_err(p, l->line, "[list %s] has no category = (e.g. category = adult)",
				l->name);
		return;
	}
	id = config_category(cfg, l->category);
	if (id < 0) {
		if (cfg->n_categories >= GUARD_MAX_CATEGORIES) {
			cfg_err(p, p->category_line,
				"category: '%s' would be category number %d; "
				"at most %d categories (share categories between lists)",
				l->category, cfg->n_categories + 1, GUARD_MAX_CATEGORIES);
			return;
		}
		id = cfg->n_categories++;
		str_copy(cfg->categories[id], l->category, CATEGORY_NAME_LEN);
	}
	l->category_id = id;
}

/* ---- [schedule NAME] ---- */

static int day_index(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(day_names); i++)
		if (strcasecmp(s, day_names[i]) == 0)
			return (int)i;
	return -1;
}

/* `mon-fri`, `sat,sun`, `mon`, `daily`, `fri-mon`: a bitmask (bit 0 = Monday), or -1. */
static int parse_days(const char *key)
{
	char buf[CFG_KEY_MAX], *cursor = buf, *item;
	int mask = 0;

	if (!str_copy(buf, key, sizeof(buf)))
		return -1;
	while ((item = next_item(&cursor))) {
		char *dash = strchr(item, '-');
		int a, b, i;

		if (strcasecmp(item, "daily") == 0) {
			mask |= 0x7f;
			continue;
		}
		if (dash) {
			*dash = '\0';
			a = day_index(trim(item));
			b = day_index(trim(dash + 1));
		} else {
			a = b = day_index(item);
		}
		if (a < 0 || b < 0)
			return -1;
		for (i = a;; i = (i + 1) % 7) {
			mask |= 1 << i;
			if (i == b)
				break;
		}
	}
	return mask;
}

/* `HH:MM`, 00:00..23:59, or 24:00 when allow_end. Minutes after midnight, or -1. */
static int parse_hhmm(const char *s, bool allow_end)
{
	int h, m;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	h = s[0] - '0';
	s++;
	if (isdigit((unsigned char)s[0]))
		h = h * 10 + (*s++ - '0');
	if (s[0] != ':' || !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) || s[3])
		return -1;
	m = (s[1] - '0') * 10 + (s[2] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_end)))
		return -1;
	return h * 60 + m;
}

static void schedule_windows(struct cfg_parser *p, int line, const char *key, int days, char *v)
{
	struct cfg_schedule *s = &p->cfg->schedules[p->cfg->n_schedules - 1];
	char *cursor = v, *item;

	if (!*v) {
		cfg_err(p, line, "%s: no time window (e.g. %s = 08:00-12:00, 13:30-16:30)", key,
			key);
		return;
	}
	while ((item = next_item(&cursor))) {
		char *dash = strchr(item, '-');
		int start = -1, end = -1;

		if (dash) {
			*dash = '\0';
			start = parse_hhmm(trim(item), false);
			end = parse_hhmm(trim(dash + 1), true);
			*dash = '-';
		}
		if (start < 0 || end < 0) {
			cfg_err(p, line,
				"%s: '%.*s' is not a time window HH:MM-HH:MM (00:00-24:00; "
				"22:00-06:30 crosses midnight)",
				key, CFG_SHOW, item);
			continue;
		}
		if (start == end) {
			cfg_err(p, line,
				"%s: window '%s' is empty (for the whole day write "
				"00:00-24:00)",
				key, item);
			continue;
		}
		if (s->n_windows >= CFG_MAX_WINDOWS) {
			cfg_err(p, line, "%s: more than %d time windows in [schedule %s]", key,
				CFG_MAX_WINDOWS, s->name);
			return;
		}
		s->windows[s->n_windows].days = (__u8)days;
		s->windows[s->n_windows].start = (__u16)start;
		s->windows[s->n_windows].end = (__u16)end;
		s->n_windows++;
	}
}

static bool tz_name_ok(const char *tz)
{
	const char *q;

	if (!*tz || tz[0] == '/' || strlen(tz) >= 64)
		return false;
	for (q = tz; *q; q++)
		if (!(isalnum((unsigned char)*q) || strchr("_+-/", *q)))
			return false;
	return !strstr(tz, "..") && tz[strlen(tz) - 1] != '/';
}

static void schedule_key(struct cfg_parser *p, int line, const char *key, char *v)
{
	struct cfg_schedule *s = &p->cfg->schedules[p->cfg->n_schedules - 1];
	struct stat sb;
	int days;

	if (strcasecmp(key, "timezone") == 0) {
		struct tz_zone *z = NULL;
		char path[PATH_MAX];
		bool posix;

		if (strlen(v) >= sizeof(s->timezone)) {
			cfg_err(p, line, "timezone: '%.*s...' is longer than %zu characters",
				CFG_SHOW, v, sizeof(s->timezone) - 1);
			return;
		}
		/* a POSIX TZ rule (CET-1CEST,M3.5.0,M10.5.0/3) serves machines without tzdata */
		posix = tz_parse_posix(v, &z) == 0;
		tz_free(z);
		if (!tz_name_ok(v) && !posix) {
			cfg_err(p, line,
				"timezone: '%.*s' is neither a time zone name (e.g. Europe/Paris, "
				"UTC) nor a POSIX TZ rule (e.g. CET-1CEST,M3.5.0,M10.5.0/3)",
				CFG_SHOW, v);
			return;
		}
		/* Check the name only where the zone database is installed. */
		snprintf(path, sizeof(path), "%s/%s", CFG_ZONEINFO, v);
		if (!posix && stat(CFG_ZONEINFO, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))) {
			cfg_err(p, line,
				"timezone: '%s' is not a known time zone (no %s; e.g. "
				"Europe/Paris, UTC)",
				v, path);
			return;
		}
		str_copy(s->timezone, v, sizeof(s->timezone));
		return;
	}
	days = parse_days(key);
	if (days <= 0) {
		cfg_err(p, line,
			"unknown key '%.*s' in [schedule %s] (expected days such as "
			"mon-fri, sat,sun, mon, daily, fri-mon, or timezone)",
			CFG_SHOW, key, s->name);
		return;
	}
	schedule_windows(p, line, key, days, v);
}

static void schedule_finish(struct cfg_parser *p)
{
	struct cfg_schedule *s = &p->cfg->schedules[p->cfg->n_schedules - 1];

	/* Keys other than timezone are day specs (reported if bad). */
	if (s->n_windows == 0 && p->n_seen == (seen_key(p, "timezone") ? 1 : 0))
		cfg_err(p, s->line,
			"[schedule %s] has no time windows (add e.g. mon-fri = "
			"08:00-16:30)",
			s->name);
}

/* ---- [group NAME] ---- */

static void group_rules(struct cfg_parser *p, int line, const char *key, bool allow, char *v)
{
	int gi = p->cfg->n_groups - 1;
	struct cfg_group *g = &p->cfg->groups[gi];
	int *n = allow ? &g->n_allow : &g->n_block;
	char *cursor = v, *item;

	if (!*v)
		return;
	while ((item = next_item(&cursor))) {
		struct cfg_pending *pd;
		char *at = strchr(item, '@');
		char *sched = NULL;

		if (at) {
			*at = '\0';
			item = trim(item);
			sched = trim(at + 1);
		}
		if (!category_ok(item)) {
			cfg_err(p, line,
				"%s: '%.*s' is not a category name (1-%d characters of a-z, "
				"0-9, '_' and '-'; CATEGORY or CATEGORY@SCHEDULE)",
				key, CFG_SHOW, item, CATEGORY_NAME_LEN - 1);
			continue;
		}
		if (sched && !section_name_ok(sched)) {
			cfg_err(p, line, "%s: '%.*s' after '@' is not a schedule name", key,
				CFG_SHOW, sched);
			continue;
		}
		if (*n >= CFG_MAX_GROUP_RULES) {
			cfg_err(p, line, "%s: more than %d rules in [group %s]", key,
				CFG_MAX_GROUP_RULES, g->name);
			return;
		}
		if (p->n_pending == p->cap_pending) {
			int cap = p->cap_pending ? p->cap_pending * 2 : 32;
			struct cfg_pending *np = realloc(p->pending, sizeof(*np) * (size_t)cap);

			if (!np) {
				cfg_err(p, line, "%s: out of memory", key);
				return;
			}
			p->pending = np;
			p->cap_pending = cap;
		}
		pd = &p->pending[p->n_pending++];
		memset(pd, 0, sizeof(*pd));
		pd->group = gi;
		pd->allow = allow;
		pd->rule = (*n)++;
		pd->line = line;
		str_copy(pd->category, item, sizeof(pd->category));
		if (sched)
			str_copy(pd->schedule, sched, sizeof(pd->schedule));
	}
}

static void group_key(struct cfg_parser *p, int line, const char *key, char *v)
{
	struct cfg_group *g = &p->cfg->groups[p->cfg->n_groups - 1];
	char *cursor = v, *item, hint[96];
	unsigned int errors = p->errors;

	if (strcasecmp(key, "clients") == 0) {
		while (*v && (item = next_item(&cursor))) {
			struct ip_prefix pfx, fixed;
			const char *why;
			char buf[64];

			if (!ip_prefix_parse(item, &pfx, false, &why)) {
				if (g->n_clients >= CFG_MAX_GROUP_CLIENTS) {
					cfg_err(p, line,
						"clients: more than %d prefixes in [group %s] "
						"(merge them into wider prefixes)",
						CFG_MAX_GROUP_CLIENTS, g->name);
					return;
				}
				g->clients[g->n_clients++] = pfx;
			} else if (!ip_prefix_parse(item, &fixed, true, &why)) {
				cfg_err(p, line,
					"clients: '%.*s' has host bits set beyond the prefix "
					"length (did you mean %s?)",
					CFG_SHOW, item, ip_prefix_format(&fixed, buf, sizeof(buf)));
			} else {
				cfg_err(p, line,
					"clients: '%.*s': %s (expected an address or CIDR "
					"such as 192.0.2.0/25 or 2001:db8:1::/64)",
					CFG_SHOW, item, why);
			}
		}
		p->member_errors += p->errors - errors;
	} else if (strcasecmp(key, "macs") == 0) {
		while (*v && (item = next_item(&cursor))) {
			__u8 mac[6];

			if (!mac_parse(item, mac)) {
				cfg_err(p, line,
					"macs: '%.*s' is not a MAC address (expected "
					"aa:bb:cc:dd:ee:ff)",
					CFG_SHOW, item);
				continue;
			}
			if (g->n_macs >= CFG_MAX_GROUP_CLIENTS) {
				cfg_err(p, line, "macs: more than %d addresses in [group %s]",
					CFG_MAX_GROUP_CLIENTS, g->name);
				return;
			}
			memcpy(g->macs[g->n_macs++], mac, 6);
		}
		p->member_errors += p->errors - errors;
	} else if (strcasecmp(key, "block") == 0) {
		group_rules(p, line, "block", false, v);
	} else if (strcasecmp(key, "allow") == 0) {
		group_rules(p, line, "allow", true, v);
	} else {
		cfg_err(p, line, "unknown key '%.*s' in [group %s]%s", CFG_SHOW, key, g->name,
			suggest(key, group_keys, ARRAY_SIZE(group_keys), hint, sizeof(hint)));
	}
}

static void group_finish(struct cfg_parser *p)
{
	struct cfg_group *g = &p->cfg->groups[p->cfg->n_groups - 1];

	/* An empty group is an error, unless its members were already reported as bad. */
	if (g->n_clients == 0 && g->n_macs == 0 && !p->member_errors)
		cfg_err(p, g->line, "[group %s] has no clients = or macs = (it would match no one)",
			g->name);
}

/* ---- sections ---- */

static void section_finish(struct cfg_parser *p)
{
	switch (p->sec) {
	case SEC_LIST:
		list_finish(p);
		break;
	case SEC_SCHEDULE:
		schedule_finish(p);
		break;
	case SEC_GROUP:
		group_finish(p);
		break;
	default:
		break;
	}
	p->sec = SEC_NONE;
	p->n_seen = 0;
	p->member_errors = 0;
	memset(p->url_only_line, 0, sizeof(p->url_only_line));
}

static bool grow(void **arr, int n, size_t size)
{
	void *na;

	/* Grow in steps of 8 elements. */
	if (n % 8)
		return true;
	na = realloc(*arr, size * (size_t)(n + 8));
	if (!na)
		return false;
	*arr = na;
	return true;
}

static int find_name(const void *arr, int n, size_t size, const char *name)
{
	int i;

	/* Every section struct starts with its name. */
	for (i = 0; i < n; i++)
		if (strcmp((const char *)arr + size * (size_t)i, name) == 0)
			return i;
	return -1;
}

static void section_header(struct cfg_parser *p, int line, char *s)
{
	struct guard_config *cfg = p->cfg;
	char *end = strchr(s, ']'), *kind, *name, hint[96];

	section_finish(p);
	p->sec = SEC_BAD; /* until the header proves good: its keys are not checked */
	p->sec_line = line;
	if (!end || trim(end + 1)[0]) {
		cfg_err(p, line,
			"section header '%.*s' is not closed by ']' at the end of the line",
			CFG_SHOW, s);
		return;
	}
	*end = '\0';
	kind = trim(s + 1);
	name = kind;
	while (*name && !is_blank(*name))
		name++;
	if (*name)
		*name++ = '\0';
	name = trim(name);

	if (strcasecmp(kind, "guard") == 0) {
		if (*name) {
			cfg_err(p, line, "[guard] takes no name (write [guard])");
			return;
		}
		if (p->guard_seen) {
			cfg_err(p, line, "second [guard] section (merge it into the first)");
			return;
		}
		p->guard_seen = true;
		p->sec = SEC_GUARD;
		return;
	}
	if (strcasecmp(kind, "list") && strcasecmp(kind, "schedule") && strcasecmp(kind, "group")) {
		cfg_err(p, line,
			"unknown section [%.*s]%s (sections: [guard], [list NAME], "
			"[schedule NAME], [group NAME])",
			CFG_SHOW, kind,
			suggest(kind, section_kinds, ARRAY_SIZE(section_kinds), hint,
				sizeof(hint)));
		return;
	}
	if (!*name) {
		cfg_err(p, line, "[%s] needs a name: [%s NAME]", kind, kind);
		return;
	}
	if (!section_name_ok(name)) {
		cfg_err(p, line,
			"[%s %.*s]: the name must be 1-%d characters of A-Z, a-z, 0-9, "
			"'_', '.' and '-'",
			kind, CFG_SHOW, name, LIST_NAME_LEN - 1);
		return;
	}

	if (strcasecmp(kind, "list") == 0) {
		struct cfg_list *l;

		if (find_name(cfg->lists, cfg->n_lists, sizeof(cfg->lists[0]), name) >= 0) {
			cfg_err(p, line, "duplicate [list %s] (list names must be unique)", name);
			return;
		}
		if (cfg->n_lists >= GUARD_MAX_LISTS) {
			cfg_err(p, line, "[list %s]: more than %d lists", name, GUARD_MAX_LISTS);
			return;
		}
		l = &cfg->lists[cfg->n_lists++];
		memset(l, 0, sizeof(*l));
		str_copy(l->name, name, sizeof(l->name));
		l->action = LIST_BLOCK;
		l->direction = LIST_DIR_DST;
		l->match = LIST_MATCH_SUBTREE;
		l->line = line;
		l->refresh = CFG_REFRESH_DEFAULT;
		l->max_size = CFG_MAX_SIZE_DEFAULT;
		l->timeout = CFG_TIMEOUT_DEFAULT;
		p->category_line = line;
		p->sec = SEC_LIST;
	} else if (strcasecmp(kind, "schedule") == 0) {
		struct cfg_schedule *sc;

		if (find_name(cfg->schedules, cfg->n_schedules, sizeof(*sc), name) >= 0) {
			cfg_err(p, line, "duplicate [schedule %s] (schedule names must be unique)",
				name);
			return;
		}
		if (!grow((void **)&cfg->schedules, cfg->n_schedules, sizeof(*sc))) {
			cfg_err(p, line, "[schedule %s]: out of memory", name);
			return;
		}
		sc = &cfg->schedules[cfg->n_schedules++];
		memset(sc, 0, sizeof(*sc));
		str_copy(sc->name, name, sizeof(sc->name));
		sc->line = line;
		p->sec = SEC_SCHEDULE;
	} else {
		struct cfg_group *g;

		if (find_name(cfg->groups, cfg->n_groups, sizeof(*g), name) >= 0) {
			cfg_err(p, line, "duplicate [group %s] (group names must be unique)", name);
			return;
		}
		if (cfg->n_groups >= GUARD_MAX_GROUPS - 1) {
			cfg_err(p, line, "[group %s]: more than %d groups", name,
				GUARD_MAX_GROUPS - 1);
			return;
		}
		if (!grow((void **)&cfg->groups, cfg->n_groups, sizeof(*g))) {
			cfg_err(p, line, "[group %s]: out of memory", name);
			return;
		}
		g = &cfg->groups[cfg->n_groups++];
		memset(g, 0, sizeof(*g));
		str_copy(g->name, name, sizeof(g->name));
		g->line = line;
		p->sec = SEC_GROUP;
	}
}

static const char *section_label(struct cfg_parser *p, char *buf, size_t len)
{
	const struct guard_config *cfg = p->cfg;

	switch (p->sec) {
	case SEC_GUARD:
		return "[guard]";
	case SEC_LIST:
		snprintf(buf, len, "[list %s]", cfg->lists[cfg->n_lists - 1].name);
		return buf;
	case SEC_SCHEDULE:
		snprintf(buf, len, "[schedule %s]", cfg->schedules[cfg->n_schedules - 1].name);
		return buf;
	case SEC_GROUP:
		snprintf(buf, len, "[group %s]", cfg->groups[cfg->n_groups - 1].name);
		return buf;
	default:
		return "";
	}
}

static void key_value(struct cfg_parser *p, int line, char *s)
{
	char *eq = strchr(s, '='), *key, *v, label[80];

	if (!eq) {
		if (p->sec != SEC_BAD)
			cfg_err(p, line,
				"'%.*s': no '=' (expected key = value; comments start with "
				"';' or '#')",
				CFG_SHOW, s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	v = eq + 1;
	cut_comment(v);
	v = trim(v);
	if (p->sec == SEC_BAD)
		return; /* the header was reported; its keys would only add noise */
	if (p->sec == SEC_NONE) {
		cfg_err(p, line,
			"'%.*s =' before any section (start with [guard], [list NAME], "
			"[schedule NAME] or [group NAME])",
			CFG_SHOW, key);
		return;
	}
	if (!*key) {
		cfg_err(p, line, "no key before '=' in %s", section_label(p, label, sizeof(label)));
		return;
	}
	if (strlen(key) >= CFG_KEY_MAX) {
		cfg_err(p, line, "unknown key '%.*s' in %s", CFG_SHOW, key,
			section_label(p, label, sizeof(label)));
		return;
	}
	if (seen_key(p, key)) {
		cfg_err(p, line,
			"duplicate key '%s' in %s (each key once a section; for several "
			"values use a comma list)",
			key, section_label(p, label, sizeof(label)));
		return;
	}
	if (p->n_seen < CFG_MAX_SEEN)
		str_copy(p->seen[p->n_seen++], key, CFG_KEY_MAX);

	switch (p->sec) {
	case SEC_GUARD:
		guard_key(p, line, key, v);
		break;
	case SEC_LIST:
		list_key(p, line, key, v);
		break;
	case SEC_SCHEDULE:
		schedule_key(p, line, key, v);
		break;
	case SEC_GROUP:
		group_key(p, line, key, v);
		break;
	default:
		break;
	}
}

/* Group rules name categories and schedules that may come later in the file. */
static void resolve_pending(struct cfg_parser *p)
{
	struct guard_config *cfg = p->cfg;
	int i, j;

	for (i = 0; i < p->n_pending; i++) {
		struct cfg_pending *pd = &p->pending[i];
		struct cfg_group *g = &cfg->groups[pd->group];
		struct cfg_group_rule *r = pd->allow ? &g->allow[pd->rule] : &g->block[pd->rule];
		char known[512];
		size_t off = 0;

		r->category_id = config_category(cfg, pd->category);
		r->schedule = -1;
		if (r->category_id < 0) {
			known[0] = '\0';
			for (j = 0; j < cfg->n_categories && off < sizeof(known); j++)
				off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
							j ? ", " : "", cfg->categories[j]);
			if (cfg->n_categories)
				cfg_err(p, pd->line,
					"%s: unknown category '%s' (categories come from "
					"[list] sections: %s)",
					pd->allow ? "allow" : "block", pd->category, known);
			else
				cfg_err(p, pd->line,
					"%s: unknown category '%s' (categories come from "
					"[list] sections, and there is none)",
					pd->allow ? "allow" : "block", pd->category);
		}
		if (!pd->schedule[0])
			continue;
		r->schedule = find_name(cfg->schedules, cfg->n_schedules, sizeof(cfg->schedules[0]),
					pd->schedule);
		if (r->schedule < 0) {
			known[0] = '\0';
			off = 0;
			for (j = 0; j < cfg->n_schedules && off < sizeof(known); j++)
				off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
							j ? ", " : "", cfg->schedules[j].name);
			cfg_err(p, pd->line, "%s: unknown schedule '%s' in '%s@%s' (%s%s)",
				pd->allow ? "allow" : "block", pd->schedule, pd->category,
				pd->schedule,
				cfg->n_schedules ? "schedules: " :
						   "no [schedule NAME] section defines one",
				known);
		}
	}
}

static void check_guard(struct cfg_parser *p)
{
	struct guard_config *cfg = p->cfg;

	if (cfg->dns_action == DNS_ACT_SINKHOLE && !cfg->sinkhole4.family && !cfg->sinkhole6.family)
		cfg_err(p, p->dns_action_line,
			"dns_action: sinkhole needs sinkhole4 = and/or "
			"sinkhole6 = in [guard] (the addresses to answer with)");
}

int config_parse(const char *name, const char *dir, const char *buf, size_t len, struct diag *d,
		 struct guard_config **out)
{
	struct cfg_parser p = { .file = name, .d = d };
	struct guard_config *cfg;
	char *text = NULL, *s, *nl;
	int line = 0, err = 0;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	p.cfg = cfg;
	cfg->path = strdup(name);
	cfg->dir = dir ? strdup(dir) : NULL;
	text = malloc(len + 1);
	if (!cfg->path || (dir && !cfg->dir) || !text) {
		err = -ENOMEM;
		goto cleanup;
	}
	cfg->xdp_mode = XDP_MODE_AUTO;
	cfg->dns_action = DNS_ACT_NXDOMAIN;
	cfg->tcp_action = TCP_ACT_RESET;
	cfg->block_ttl = CFG_DEFAULT_BLOCK_TTL;
	str_copy(cfg->state_dir, CFG_DEFAULT_STATE_DIR, sizeof(cfg->state_dir));

	memcpy(text, buf, len);
	text[len] = '\0';
	for (s = text; s < text + len; s = nl + 1) {
		size_t n;

		nl = memchr(s, '\n', (size_t)(text + len - s));
		if (!nl)
			nl = text + len;
		*nl = '\0';
		n = (size_t)(nl - s);
		line++;
		if (memchr(s, '\0', n)) {
			cfg_err(&p, line, "NUL byte in the line (is this a text file?)");
			continue;
		}
		if (line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		s = trim(s);
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			cut_comment(s);
			section_header(&p, line, trim(s));
		} else {
			key_value(&p, line, s);
		}
	}
	section_finish(&p);
	resolve_pending(&p);
	check_guard(&p);
	if (p.errors)
		err = -EINVAL;
cleanup:
	free(text);
	free(p.pending);
	if (err) {
		config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

int config_load(const char *path, struct diag *d, struct guard_config **out)
{
	char *buf = NULL, *copy = NULL, *dir = NULL, *slash;
	char real[PATH_MAX];
	size_t len = 0;
	struct stat sb;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err = -errno;
		goto report;
	}
	if (S_ISDIR(sb.st_mode)) {
		err = -EISDIR;
		goto report;
	}
	if (sb.st_size > CFG_MAX_FILE) {
		err = -EFBIG;
		goto report;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto report;
	}
	/* Read to the end, whatever st_size said (a file may grow while being written). */
	for (;;) {
		if (len == (size_t)sb.st_size + 1 || len > (size_t)CFG_MAX_FILE) {
			err = -EFBIG;
			goto report;
		}
		n = read(fd, buf + len, (size_t)sb.st_size + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto report;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	/* Relative list paths resolve against the config's directory, made absolute so that
	 * they keep their meaning whatever the daemon's working directory becomes. */
	copy = strdup(path);
	if (!copy) {
		err = -ENOMEM;
		goto report;
	}
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(copy, ".");
	dir = realpath(copy, real) ? real : copy;
	err = config_parse(path, dir, buf, len, d, out);
	goto cleanup;

report:
	diag_report(d, DIAG_ERROR, path, 0, "cannot read config: %s", strerror(-err));
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(copy);
	return err;
}

void config_free(struct guard_config *cfg)
{
	int i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_lists; i++) {
		free(cfg->lists[i].path);
		free(cfg->lists[i].url);
	}
	free(cfg->schedules);
	free(cfg->groups);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

int config_category(const struct guard_config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->n_categories; i++)
		if (strcmp(cfg->categories[i], name) == 0)
			return i;
	return -1;
}
