// SPDX-License-Identifier: GPL-2.0-only
/*
 * The schedule engine and the time zone reader it runs on (see schedule.h for what a window
 * means and why zones are not read through TZ/tzset()).
 *
 * A zone is its TZif transitions (instants, each with the offset that starts there) and the
 * POSIX TZ rule of the file's footer, which gives the transitions after the last one listed.
 * Local time is t + offset(t). A window on local day D is the real-time interval
 * [first(D start), first(D' end)), where first(L) is the first instant whose local time is L
 * or later; a schedule is the union of its windows' intervals over the days around t.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "user/log.h"
#include "user/schedule.h"

#define TZ_MAX_FILE (1 << 20) /* zone files are a few KB */
#define TZ_MAX_OFFSET (26 * 3600) /* |UT offset| < 26 h (RFC 8536: -89999..93599) */
#define TZ_MAX_RULE_HOURS 167 /* TZif v3 rule times: -167..167 h */
#define TZ_MAX_SPEC 256 /* a POSIX TZ string */
#define TZ_MAX_COUNT (1 << 20) /* any TZif count */
#define TZ_REACH_STEPS 64 /* segments first_reach() walks (a few in any real zone) */
#define SECS_PER_DAY 86400
/* Beyond +-2^52 s (140 million years) rules are not computed: no arithmetic can overflow. */
#define TZ_RULE_LIMIT ((__s64)1 << 52)

/* Local days around t whose windows can reach t + SCHEDULE_HORIZON (see schedule_eval). */
#define SCHED_DAYS_BEFORE 2
#define SCHED_DAYS_AFTER 10
#define SCHED_MAX_SPANS (CFG_MAX_WINDOWS * (SCHED_DAYS_BEFORE + SCHED_DAYS_AFTER + 1))

enum tz_date_kind {
	TZ_DATE_JULIAN1 = 0, /* Jn: 1..365, February 29 never counted */
	TZ_DATE_JULIAN0 = 1, /* n: 0..365, February 29 counted */
	TZ_DATE_MWD = 2, /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
};

struct tz_date {
	int kind;
	int day; /* TZ_DATE_JULIAN* */
	int mon, week, wday; /* TZ_DATE_MWD */
	long secs; /* local time of day of the change, -167..167 h */
};

/* A POSIX TZ rule: standard time, and daylight time between start and end. */
struct tz_rule {
	bool valid;
	bool has_dst;
	int std_off, dst_off; /* seconds east */
	struct tz_date start, end; /* start in standard time, end in daylight time */
};

struct tz_zone {
	__s64 *times; /* transitions, strictly ascending */
	__u8 *idx; /* the type in force from times[i] */
	__s32 *offs; /* the UT offset of each type */
	__u32 n_times, n_types;
	struct tz_rule rule; /* after the last transition, or always if there is none */
};

/* ---- the calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static __s64 floor_div(__s64 a, __s64 b)
{
	__s64 q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool is_leap(__s64 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(__s64 y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* H. Hinnant's days_from_civil. */
static __s64 days_from_civil(__s64 y, int m, int d)
{
	__s64 era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(__s64 z, __s64 *y, int *m, int *d)
{
	__s64 era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(__s64 days)
{
	return (int)(days + 3 - floor_div(days + 3, 7) * 7);
}

/* ---- POSIX TZ rules ---- */

/* The day (days since the epoch) on which date d falls in year y. */
static __s64 rule_day(const struct tz_date *d, __s64 y)
{
	__s64 jan1 = days_from_civil(y, 1, 1), first;
	int md, wd;

	switch (d->kind) {
	case TZ_DATE_JULIAN1:
		return jan1 + d->day - 1 + (is_leap(y) && d->day >= 60);
	case TZ_DATE_JULIAN0:
		return jan1 + d->day;
	default:
		first = days_from_civil(y, d->mon, 1);
		wd = (weekday(first) + 1) % 7; /* 0 = Sunday, as in the rule */
		md = 1 + (d->wday - wd + 7) % 7 + 7 * (d->week - 1);
		while (md > month_days(y, d->mon))
			md -= 7;
		return first + md - 1;
	}
}

static __s64 rule_start(const struct tz_rule *r, __s64 y)
{
	return rule_day(&r->start, y) * SECS_PER_DAY + r->start.secs - r->std_off;
}

static __s64 rule_end(const struct tz_rule *r, __s64 y)
{
	return rule_day(&r->end, y) * SECS_PER_DAY + r->end.secs - r->dst_off;
}

static __s64 year_of(__s64 t)
{
	__s64 y;
	int m, d;

	civil_from_days(floor_div(t, SECS_PER_DAY), &y, &m, &d);
	return y;
}

/*
 * Daylight time runs from start(y) to end(y), or to end(y + 1) when end(y) comes first in the
 * year (the southern hemisphere; Europe/Dublin's negative DST).
 */
static int rule_offset(const struct tz_rule *r, __s64 t)
{
	__s64 y, y0, s, e;

	if (!r->has_dst || t > TZ_RULE_LIMIT || t < -TZ_RULE_LIMIT)
		return r->std_off;
	y0 = year_of(t);
	for (y = y0 - 2; y <= y0 + 1; y++) {
		s = rule_start(r, y);
		e = rule_end(r, y);
		if (e == s)
			continue;
		if (e < s)
			e = rule_end(r, y + 1);
		if (s <= t && t < e)
			return r->dst_off;
	}
	return r->std_off;
}

static __s64 rule_next(const struct tz_rule *r, __s64 t)
{
	__s64 y, y0, c, best = SCHEDULE_NEVER;

	if (!r->has_dst || t > TZ_RULE_LIMIT || t < -TZ_RULE_LIMIT)
		return SCHEDULE_NEVER;
	y0 = year_of(t);
	for (y = y0 - 1; y <= y0 + 2; y++) {
		c = rule_start(r, y);
		if (c > t && c < best)
			best = c;
		c = rule_end(r, y);
		if (c > t && c < best)
			best = c;
	}
	return best;
}

/* `std`, or `<+0330>`: at least 3 characters. Returns the end, or NULL. */
static const char *parse_zone_name(const char *p)
{
	const char *q;

	if (*p == '<') {
		for (q = p + 1; isalnum((unsigned char)*q) || *q == '+' || *q == '-'; q++)
			;
		return *q == '>' && q - p - 1 >= 3 ? q + 1 : NULL;
	}
	for (q = p; isalpha((unsigned char)*q); q++)
		;
	return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, into seconds. Returns the end, or NULL. */
static const char *parse_hms(const char *p, int max_h, long *out)
{
	long sign = 1, h = 0, m = 0, s = 0;
	int n;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (n = 0; isdigit((unsigned char)*p) && n < 3; n++)
		h = h * 10 + (*p++ - '0');
	if (n == 0 || h > max_h)
		return NULL;
	if (*p == ':') {
		p++;
		for (n = 0; isdigit((unsigned char)*p) && n < 2; n++)
			m = m * 10 + (*p++ - '0');
		if (n == 0 || m > 59)
			return NULL;
		if (*p == ':') {
			p++;
			for (n = 0; isdigit((unsigned char)*p) && n < 2; n++)
				s = s * 10 + (*p++ - '0');
			if (n == 0 || s > 59)
				return NULL;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

/* A number lo..hi. Returns the end, or NULL. */
static const char *parse_num(const char *p, int lo, int hi, int *out)
{
	long v = 0;
	int n;

	for (n = 0; isdigit((unsigned char)*p) && n < 4; n++)
		v = v * 10 + (*p++ - '0');
	if (n == 0 || v < lo || v > hi)
		return NULL;
	*out = (int)v;
	return p;
}

/* `Jn`, `n` or `Mm.w.d`, then an optional `/time` (default 02:00). Returns the end, or NULL. */
static const char *parse_rule_date(const char *p, struct tz_date *d)
{
	memset(d, 0, sizeof(*d));
	if (*p == 'J') {
		d->kind = TZ_DATE_JULIAN1;
		p = parse_num(p + 1, 1, 365, &d->day);
	} else if (*p == 'M') {
		d->kind = TZ_DATE_MWD;
		p = parse_num(p + 1, 1, 12, &d->mon);
		if (p && *p == '.')
			p = parse_num(p + 1, 1, 5, &d->week);
		else
			p = NULL;
		if (p && *p == '.')
			p = parse_num(p + 1, 0, 6, &d->wday);
		else
			p = NULL;
	} else {
		d->kind = TZ_DATE_JULIAN0;
		p = parse_num(p, 0, 365, &d->day);
	}
	if (!p)
		return NULL;
	d->secs = 2 * 3600;
	if (*p == '/')
		p = parse_hms(p + 1, TZ_MAX_RULE_HOURS, &d->secs);
	return p;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]: 0 or -EINVAL. */
static int parse_rule(const char *spec, struct tz_rule *r)
{
	const char *p = spec;
	long off;

	memset(r, 0, sizeof(*r));
	p = parse_zone_name(p);
	if (!p || !(p = parse_hms(p, 24, &off)))
		return -EINVAL;
	r->std_off = (int)-off; /* POSIX offsets count west */
	r->dst_off = r->std_off;
	r->valid = true;
	if (!*p)
		return 0;
	p = parse_zone_name(p);
	if (!p)
		return -EINVAL;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		p = parse_hms(p, 24, &off);
		if (!p)
			return -EINVAL;
		r->dst_off = (int)-off;
	}
	if (!*p) {
		/* no rule: the C library's default, the US rule of 2007 */
		return parse_rule_date("M3.2.0", &r->start) && parse_rule_date("M11.1.0", &r->end) ?
			       0 :
			       -EINVAL;
	}
	if (*p != ',' || !(p = parse_rule_date(p + 1, &r->start)))
		return -EINVAL;
	if (*p != ',' || !(p = parse_rule_date(p + 1, &r->end)))
		return -EINVAL;
	return *p ? -EINVAL : 0;
}

/* ---- zones ---- */

void tz_free(struct tz_zone *z)
{
	if (!z)
		return;
	free(z->times);
	free(z->idx);
	free(z->offs);
	free(z);
}

int tz_parse_posix(const char *spec, struct tz_zone **out)
{
	struct tz_zone *z;
	int err;

	*out = NULL;
	if (!spec || strlen(spec) >= TZ_MAX_SPEC)
		return -EINVAL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	err = parse_rule(spec, &z->rule);
	if (err) {
		tz_free(z);
		return err;
	}
	*out = z;
	return 0;
}

static __u32 get_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static __s64 get_be64(const __u8 *p)
{
	return (__s64)((__u64)get_be32(p) << 32 | get_be32(p + 4));
}

struct tzif_header {
	int version; /* 0 for version 1, else '2', '3', '4' */
	__u32 isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

#define TZIF_HEADER_LEN 44

/* strict: the header of the block in use (the version 1 block of a later file may be empty). */
static int tzif_header(const __u8 *p, size_t len, struct tzif_header *h, bool strict)
{
	if (len < TZIF_HEADER_LEN || memcmp(p, "TZif", 4) != 0)
		return -EINVAL;
	h->version = p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4'))
		return -EINVAL;
	h->isutcnt = get_be32(p + 20);
	h->isstdcnt = get_be32(p + 24);
	h->leapcnt = get_be32(p + 28);
	h->timecnt = get_be32(p + 32);
	h->typecnt = get_be32(p + 36);
	h->charcnt = get_be32(p + 40);
	if ((strict && (h->typecnt == 0 || h->charcnt == 0)) || h->typecnt > 256 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || h->leapcnt > TZ_MAX_COUNT ||
	    h->timecnt > TZ_MAX_COUNT || h->charcnt > TZ_MAX_COUNT)
		return -EINVAL;
	return 0;
}

/* Bytes of the data block after a header, with tsize-byte times (4: version 1, else 8). */
static size_t tzif_block_len(const struct tzif_header *h, size_t tsize)
{
	return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
	       h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/*
 * Leap-second records ("right/" zones) are not applied: schedules run on POSIX time, which
 * those zones are off from by at most 27 s.
 */
int tz_parse_tzif(const void *buf, size_t len, struct tz_zone **out)
{
	const __u8 *p = buf, *end = p + len, *q;
	struct tzif_header h;
	struct tz_zone *z = NULL;
	size_t tsize = 4, blen;
	char spec[TZ_MAX_SPEC];
	__u32 i;
	int err;

	*out = NULL;
	err = tzif_header(p, len, &h, false);
	if (err)
		return err;
	if (h.version == 0 && (h.typecnt == 0 || h.charcnt == 0))
		return -EINVAL;
	p += TZIF_HEADER_LEN;
	blen = tzif_block_len(&h, 4);
	if (blen > (size_t)(end - p))
		return -EINVAL;
	if (h.version >= '2') {
		/* skip the 32-bit block: the second header and block have 64-bit times */
		p += blen;
		err = tzif_header(p, (size_t)(end - p), &h, true);
		if (err)
			return err;
		p += TZIF_HEADER_LEN;
		tsize = 8;
		blen = tzif_block_len(&h, 8);
		if (blen > (size_t)(end - p))
			return -EINVAL;
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->times = calloc(h.timecnt ? h.timecnt : 1, sizeof(*z->times));
	z->idx = calloc(h.timecnt ? h.timecnt : 1, sizeof(*z->idx));
	z->offs = calloc(h.typecnt, sizeof(*z->offs));
	if (!z->times || !z->idx || !z->offs) {
		err = -ENOMEM;
		goto cleanup;
	}
	z->n_times = h.timecnt;
	z->n_types = h.typecnt;
	err = -EINVAL;
	for (i = 0; i < h.timecnt; i++) {
		z->times[i] = tsize == 8 ? get_be64(p + i * 8) : (__s32)get_be32(p + i * 4);
		if (i > 0 && z->times[i] <= z->times[i - 1])
			goto cleanup;
	}
	q = p + h.timecnt * tsize;
	for (i = 0; i < h.timecnt; i++) {
		z->idx[i] = q[i];
		if (q[i] >= h.typecnt)
			goto cleanup;
	}
	q += h.timecnt;
	for (i = 0; i < h.typecnt; i++, q += 6) {
		__s32 off = (__s32)get_be32(q);

		/* q[4]: is DST (not needed); q[5]: abbreviation index */
		if (off <= -TZ_MAX_OFFSET || off >= TZ_MAX_OFFSET || q[5] >= h.charcnt)
			goto cleanup;
		z->offs[i] = off;
	}
	p += blen;
	if (h.version >= '2') {
		/* the footer: "\n" POSIX-TZ-string "\n"; empty: no rule */
		const __u8 *nl;
		size_t n;

		if (p >= end || *p != '\n')
			goto cleanup;
		p++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			goto cleanup;
		n = (size_t)(nl - p);
		if (n >= sizeof(spec))
			goto cleanup;
		memcpy(spec, p, n);
		spec[n] = '\0';
		if (n > 0 && parse_rule(spec, &z->rule))
			goto cleanup;
	}
	*out = z;
	return 0;
cleanup:
	tz_free(z);
	return err;
}

/* -errno of a failed call, never 0. */
static int neg_errno(void)
{
	int e = errno;

	return e > 0 ? -e : -EIO;
}

int tz_load_file(const char *path, struct tz_zone **out)
{
	struct stat st;
	__u8 *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	if (fstat(fd, &st) < 0) {
		err = neg_errno();
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto cleanup;
	}
	if (st.st_size > TZ_MAX_FILE) {
		err = -EFBIG;
		goto cleanup;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = neg_errno();
			goto cleanup;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	err = tz_parse_tzif(buf, got, out);
cleanup:
	free(buf);
	close(fd);
	return err;
}

/* A zone database name (or an absolute path), else a POSIX TZ string. */
static int load_named(const char *name, struct tz_zone **out)
{
	char path[PATH_MAX];
	int err;

	if (name[0] == '/') {
		err = tz_load_file(name, out);
	} else {
		if (snprintf(path, sizeof(path), "%s/%s", TZ_ZONEINFO, name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		err = tz_load_file(path, out);
	}
	if (err == -ENOENT || err == -ENOTDIR) {
		if (tz_parse_posix(name, out) == 0)
			return 0;
		return -ENOENT;
	}
	return err;
}

/* The machine's local zone, as glibc finds it; UTC when it finds none. */
static int load_local(struct tz_zone **out)
{
	const char *tz = getenv("TZ");
	int err;

	if (!tz)
		err = tz_load_file("/etc/localtime", out);
	else if (*tz == ':')
		err = tz[1] ? load_named(tz + 1, out) : -ENOENT;
	else
		err = *tz ? load_named(tz, out) : -ENOENT;
	if (err == 0 || err == -ENOMEM)
		return err;
	return tz_parse_posix("UTC0", out);
}

int tz_load(const char *name, struct tz_zone **out)
{
	*out = NULL;
	if (!name || !*name)
		return load_local(out);
	return load_named(name, out);
}

int tz_offset(const struct tz_zone *z, time_t t)
{
	__u32 lo, hi, mid;

	if (z->n_times == 0)
		return z->rule.valid ? rule_offset(&z->rule, t) : z->offs[0];
	if (t < z->times[0])
		return z->offs[0]; /* RFC 8536: type 0 before the first transition */
	if (t >= z->times[z->n_times - 1] && z->rule.valid)
		return rule_offset(&z->rule, t);
	/* the last transition <= t */
	lo = 0;
	hi = z->n_times;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->offs[z->idx[lo]];
}

time_t tz_next_transition(const struct tz_zone *z, time_t t)
{
	__u32 lo, hi, mid;

	if (z->n_times == 0 || t >= z->times[z->n_times - 1])
		return z->rule.valid ? rule_next(&z->rule, t) : SCHEDULE_NEVER;
	/* the first transition > t */
	lo = 0;
	hi = z->n_times - 1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (z->times[mid] > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return z->times[lo];
}

void tz_localtime(const struct tz_zone *z, time_t t, struct tz_tm *tm)
{
	__s64 lt, days, y;
	long sod;
	int off;

	if (t > TZ_RULE_LIMIT)
		t = TZ_RULE_LIMIT;
	else if (t < -TZ_RULE_LIMIT)
		t = -TZ_RULE_LIMIT;
	off = tz_offset(z, t);
	lt = (__s64)t + off;
	days = floor_div(lt, SECS_PER_DAY);
	sod = (long)(lt - days * SECS_PER_DAY);

	civil_from_days(days, &y, &tm->mon, &tm->mday);
	tm->year = (int)y;
	tm->wday = weekday(days);
	tm->hour = (int)(sod / 3600);
	tm->min = (int)(sod / 60 % 60);
	tm->sec = (int)(sod % 60);
	tm->utoff = off;
}

/*
 * The first instant whose local time (t + offset(t)) is local or later. On each stretch
 * [a, b) of constant offset o the local time is t + o, increasing; the first stretch whose
 * local times reach `local` holds the answer, max(a, local - o). Starting TZ_MAX_OFFSET before
 * `local`, no earlier instant can qualify.
 */
static __s64 first_reach(const struct tz_zone *z, __s64 local)
{
	__s64 a = local - TZ_MAX_OFFSET, b, c;
	int i, o;

	for (i = 0; i < TZ_REACH_STEPS; i++) {
		o = tz_offset(z, a);
		b = tz_next_transition(z, a);
		c = local - o > a ? local - o : a;
		if (c < b)
			return c;
		a = b;
	}
	return local - tz_offset(z, local); /* not reached: no zone changes that often */
}

time_t tz_first_instant(const struct tz_zone *z, int year, int mon, int mday, long sec)
{
	if (mon < 1 || mon > 12)
		mon = 1;
	if (sec > TZ_RULE_LIMIT || sec < -TZ_RULE_LIMIT)
		sec = sec < 0 ? -TZ_RULE_LIMIT : TZ_RULE_LIMIT;
	return first_reach(z, days_from_civil(year, mon, mday) * SECS_PER_DAY + sec);
}

/* ---- schedules ---- */

struct span {
	__s64 a, b; /* [a, b) */
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

/*
 * The windows of the local days day0 - SCHED_DAYS_BEFORE .. day0 + SCHED_DAYS_AFTER, as real
 * intervals, sorted and merged. An overnight window ends the day after it starts, so days
 * before day0 - 1 cannot reach t; and a window of day0 + 11 or later starts after
 * t + SCHEDULE_HORIZON, so every boundary up to the horizon is a real one.
 */
static int schedule_spans(const struct cfg_schedule *s, const struct tz_zone *z, __s64 day0,
			  struct span *spans)
{
	__s64 d;
	int i, n = 0, m;

	if (s->n_windows < 0 || s->n_windows > CFG_MAX_WINDOWS)
		return -EINVAL;
	for (i = 0; i < s->n_windows; i++) {
		const struct cfg_window *w = &s->windows[i];

		if (w->start >= 1440 || w->end > 1440 || w->start == w->end)
			return -EINVAL;
	}
	for (d = day0 - SCHED_DAYS_BEFORE; d <= day0 + SCHED_DAYS_AFTER; d++) {
		int wd = weekday(d);

		for (i = 0; i < s->n_windows; i++) {
			const struct cfg_window *w = &s->windows[i];
			__s64 start, end, a, b;

			if (!(w->days & (1u << wd)))
				continue;
			start = d * SECS_PER_DAY + w->start * 60;
			end = (w->end > w->start ? d : d + 1) * SECS_PER_DAY + w->end * 60;
			a = first_reach(z, start);
			b = first_reach(z, end);
			if (a < b) /* a window in a skipped hour does not happen */
				spans[n++] = (struct span){ a, b };
		}
	}
	qsort(spans, (size_t)n, sizeof(*spans), span_cmp);
	/* merge overlapping and touching intervals: no change where one ends and one starts */
	for (i = 1, m = n ? 1 : 0; i < n; i++) {
		if (spans[i].a <= spans[m - 1].b) {
			if (spans[i].b > spans[m - 1].b)
				spans[m - 1].b = spans[i].b;
		} else {
			spans[m++] = spans[i];
		}
	}
	return m;
}

int schedule_eval(const struct cfg_schedule *s, const struct tz_zone *z, time_t t, bool *active,
		  time_t *next)
{
	struct span spans[SCHED_MAX_SPANS];
	__s64 day0, nx = SCHEDULE_NEVER;
	bool on = false;
	int i, n;

	if (!s || !z || !active)
		return -EINVAL;
	if (t > SCHEDULE_TIME_LIMIT || t < -SCHEDULE_TIME_LIMIT)
		return -ERANGE;
	day0 = floor_div((__s64)t + tz_offset(z, t), SECS_PER_DAY);
	n = schedule_spans(s, z, day0, spans);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (spans[i].b <= t)
			continue;
		on = spans[i].a <= t;
		nx = on ? spans[i].b : spans[i].a;
		break;
	}
	if (nx > (__s64)t + SCHEDULE_HORIZON)
		nx = SCHEDULE_NEVER;
	*active = on;
	if (next)
		*next = (time_t)nx;
	return 0;
}

static int load_zone(const struct cfg_schedule *s, struct tz_zone **z)
{
	return tz_load(s->timezone[0] ? s->timezone : NULL, z);
}

static void warn_zone(const struct cfg_schedule *s, const char *cfg_path, int err)
{
	pr_warn("%s%s%d: [schedule %s]: cannot read time zone '%s' from %s/%s: %s; install the "
		"tzdata package (make deps) or fix timezone =\n",
		cfg_path ? cfg_path : "", cfg_path ? ":" : "line ", s->line, s->name, s->timezone,
		TZ_ZONEINFO, s->timezone, strerror(-err));
}

/* schedule_eval in the schedule's zone, or in UTC (warned) when that cannot be read. */
static int eval_fallback(const struct cfg_schedule *s, time_t t, bool *active, time_t *next)
{
	struct tz_zone *z = NULL;
	int err;

	err = load_zone(s, &z);
	if (err) {
		warn_zone(s, NULL, err);
		err = tz_parse_posix("UTC0", &z);
		if (err)
			return err;
	}
	err = schedule_eval(s, z, t, active, next);
	tz_free(z);
	return err;
}

bool schedule_active(const struct cfg_schedule *s, time_t t)
{
	bool active = false;

	if (eval_fallback(s, t, &active, NULL))
		return false;
	return active;
}

time_t schedule_next_change(const struct cfg_schedule *s, time_t t)
{
	bool active;
	time_t next = SCHEDULE_NEVER;

	if (eval_fallback(s, t, &active, &next))
		return SCHEDULE_NEVER;
	return next;
}

/* The rules of one group are in range; mark the schedules they name. */
static int check_rules(const struct guard_config *cfg, const struct cfg_group_rule *r, int n,
		       bool *used)
{
	int i;

	if (n < 0 || n > CFG_MAX_GROUP_RULES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (r[i].category_id < 0 || r[i].category_id >= GUARD_MAX_CATEGORIES ||
		    r[i].schedule < -1 || r[i].schedule >= cfg->n_schedules)
			return -EINVAL;
		if (r[i].schedule >= 0)
			used[r[i].schedule] = true;
	}
	return 0;
}

static __u64 rules_mask(const struct cfg_group_rule *r, int n, const bool *on)
{
	__u64 mask = 0;
	int i;

	for (i = 0; i < n; i++)
		if (r[i].schedule < 0 || on[r[i].schedule])
			mask |= 1ull << r[i].category_id;
	return mask;
}

int group_masks_eval(const struct guard_config *cfg, time_t t, __u64 *block_masks, time_t *next)
{
	__u64 masks[GUARD_MAX_GROUPS] = { 0 };
	time_t nx = SCHEDULE_NEVER, sn;
	bool *used = NULL, *on = NULL;
	int i, err = 0;

	if (!cfg || !block_masks || cfg->n_groups < 0 || cfg->n_groups >= GUARD_MAX_GROUPS ||
	    cfg->n_schedules < 0 || cfg->n_lists < 0 || cfg->n_lists > GUARD_MAX_LISTS)
		return -EINVAL;
	if (t > SCHEDULE_TIME_LIMIT || t < -SCHEDULE_TIME_LIMIT)
		return -ERANGE;
	used = calloc((size_t)cfg->n_schedules + 1, sizeof(*used));
	on = calloc((size_t)cfg->n_schedules + 1, sizeof(*on));
	if (!used || !on) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < cfg->n_groups; i++) {
		const struct cfg_group *g = &cfg->groups[i];

		err = check_rules(cfg, g->block, g->n_block, used);
		if (!err)
			err = check_rules(cfg, g->allow, g->n_allow, used);
		if (err)
			goto cleanup;
	}
	for (i = 0; i < cfg->n_schedules; i++) {
		const struct cfg_schedule *s = &cfg->schedules[i];
		struct tz_zone *z = NULL;

		if (!used[i])
			continue;
		err = load_zone(s, &z);
		if (err) {
			warn_zone(s, cfg->path, err);
			goto cleanup;
		}
		err = schedule_eval(s, z, t, &on[i], &sn);
		tz_free(z);
		if (err)
			goto cleanup;
		if (sn < nx)
			nx = sn;
	}
	/* group 0: every category of a block list, as without any [group] */
	for (i = 0; i < cfg->n_lists; i++) {
		const struct cfg_list *l = &cfg->lists[i];

		if (l->category_id < 0 || l->category_id >= GUARD_MAX_CATEGORIES) {
			err = -EINVAL;
			goto cleanup;
		}
		if (l->action == LIST_BLOCK)
			masks[0] |= 1ull << l->category_id;
	}
	for (i = 0; i < cfg->n_groups; i++) {
		const struct cfg_group *g = &cfg->groups[i];

		masks[i + 1] = rules_mask(g->block, g->n_block, on) &
			       ~rules_mask(g->allow, g->n_allow, on);
	}
	memcpy(block_masks, masks, ((size_t)cfg->n_groups + 1) * sizeof(*block_masks));
	if (next)
		*next = nx;
cleanup:
	free(used);
	free(on);
	return err;
}

int group_masks_at(const struct guard_config *cfg, time_t t, __u64 *block_masks)
{
	return group_masks_eval(cfg, t, block_masks, NULL);
}
