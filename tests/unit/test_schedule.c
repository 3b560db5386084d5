// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/schedule.c, on a fake clock (explicit time_t values; nothing reads the
 * clock). The zone reader against the C library's localtime_r() over 1900-2100 in 16 zones
 * and 9 POSIX TZ strings (every transition, and a sample between), hand-made TZif images and
 * malformed ones, the local zone from $TZ and /etc/localtime. Schedules parsed by the real
 * config parser: boundaries (at start: active; at end: inactive), overnight windows, wrapping
 * day ranges (fri-mon), daily, 00:00-24:00, merged windows, two time zones, DST both ways
 * (Europe/Paris, America/New_York, America/Santiago whose midnight is skipped), the next change
 * checked minute by minute through DST weeks, and the group masks (default group, block/allow,
 * cat@schedule, errors).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "user/config.h"
#include "user/schedule.h"

/* ---- helpers ---- */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900,
			 .tm_mon = mo - 1,
			 .tm_mday = d,
			 .tm_hour = h,
			 .tm_min = mi,
			 .tm_sec = s };

	return timegm(&tm);
}

static const char *fmt_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == SCHEDULE_NEVER) {
		snprintf(buf, len, "NEVER");
		return buf;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC (%a)", &tm);
	return buf;
}

/* assert_time_equal: with both instants readable in the failure message. */
#define assert_time_equal(got, want)                                                         \
	do {                                                                                 \
		time_t g_ = (got), w_ = (want);                                              \
		char bg_[64], bw_[64];                                                       \
		if (g_ != w_)                                                                \
			fail_msg("%s: got %s, want %s", #got, fmt_utc(g_, bg_, sizeof(bg_)), \
				 fmt_utc(w_, bw_, sizeof(bw_)));                             \
	} while (0)

/* The saved $TZ, restored (with tzset) by tz_restore: tests change it only between the two. */
static char *saved_tz;
static bool had_tz;

static void tz_save(void)
{
	const char *tz = getenv("TZ");

	had_tz = tz != NULL;
	saved_tz = tz ? strdup(tz) : NULL;
}

static void tz_restore(void)
{
	if (had_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
}

static void set_tz(const char *tz)
{
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

static struct tz_zone *zone(const char *name)
{
	struct tz_zone *z = NULL;
	int err = tz_load(name, &z);

	if (err)
		fail_msg("tz_load(%s): %s", name, strerror(-err));
	return z;
}

static struct guard_config *parse_cfg(const char *text)
{
	struct diag d = { 0 };
	struct guard_config *cfg = NULL;

	assert_int_equal(config_parse("sched.conf", "/tmp", text, strlen(text), &d, &cfg), 0);
	assert_int_equal(d.errors, 0);
	return cfg;
}

/* A config with one schedule `sched` made of the given body lines. */
static struct guard_config *one_schedule(const char *body)
{
	char text[2048];

	snprintf(text, sizeof(text), "[schedule sched]\n%s", body);
	return parse_cfg(text);
}

/* active and next of s at t, in its own zone, through the public entry points. */
static void expect_at(const struct cfg_schedule *s, time_t t, bool active, time_t next)
{
	char b[64];
	bool got = schedule_active(s, t);

	if (got != active)
		fail_msg("[schedule %s] at %s: active %d, want %d", s->name,
			 fmt_utc(t, b, sizeof(b)), got, active);
	assert_time_equal(schedule_next_change(s, t), next);
}

/* ---- the zone reader against the C library ---- */

/* Compare one instant; returns false (after printing) on a difference. */
static bool same_as_libc(const struct tz_zone *z, const char *name, time_t t)
{
	struct tz_tm mine;
	struct tm ref;
	char b[64];

	tz_localtime(z, t, &mine);
	if (!localtime_r(&t, &ref))
		fail_msg("localtime_r failed at %lld", (long long)t);
	if (mine.utoff != ref.tm_gmtoff || mine.year != ref.tm_year + 1900 ||
	    mine.mon != ref.tm_mon + 1 || mine.mday != ref.tm_mday ||
	    mine.wday != (ref.tm_wday + 6) % 7 || mine.hour != ref.tm_hour ||
	    mine.min != ref.tm_min || mine.sec != ref.tm_sec) {
		print_error("%s at %s (%lld): mine %04d-%02d-%02d %02d:%02d:%02d wday %d off %d, "
			    "libc %04d-%02d-%02d %02d:%02d:%02d wday %d off %ld\n",
			    name, fmt_utc(t, b, sizeof(b)), (long long)t, mine.year, mine.mon,
			    mine.mday, mine.hour, mine.min, mine.sec, mine.wday, mine.utoff,
			    ref.tm_year + 1900, ref.tm_mon + 1, ref.tm_mday, ref.tm_hour,
			    ref.tm_min, ref.tm_sec, (ref.tm_wday + 6) % 7, ref.tm_gmtoff);
		return false;
	}
	return true;
}

/*
 * Every transition tz_next_transition() walks from `from` to 2100 (checked on both sides), the
 * offset constant in between (samples), and a sample of instants every ~7 days: all equal to
 * what glibc computes with TZ set to the same zone. Returns the number of transitions.
 */
static int compare_zone(const char *name, const char *tz_env, struct tz_zone *z, int from)
{
	time_t t, lo = utc(from, 1, 1, 0, 0, 0), hi = utc(2100, 1, 1, 0, 0, 0), n;
	int transitions = 0, bad = 0;

	set_tz(tz_env);
	for (t = lo; t < hi && bad < 5; t += 7 * 86400 + 3607)
		bad += !same_as_libc(z, name, t);
	for (t = lo; t < hi && bad < 5; t = n) {
		n = tz_next_transition(z, t);
		assert_true(n > t);
		if (n >= hi)
			break;
		/* the offset is constant on [t, n) */
		assert_int_equal(tz_offset(z, n - 1), tz_offset(z, t + (n - t) / 2));
		bad += !same_as_libc(z, name, n - 1);
		bad += !same_as_libc(z, name, n);
		transitions++;
	}
	if (bad)
		fail_msg("%s: %d differences from localtime_r", name, bad);
	return transitions;
}

static void test_zones_match_libc(void **state)
{
	static const char *const zones[] = {
		"Europe/Paris",	     "America/New_York",  "Australia/Sydney", "Australia/Lord_Howe",
		"Asia/Kolkata",	     "America/St_Johns",  "Pacific/Chatham",  "Europe/Dublin",
		"Africa/Casablanca", "America/Sao_Paulo", "Pacific/Apia",     "Asia/Tokyo",
		"America/Santiago",  "Europe/London",	  "Asia/Tehran",      "UTC",
	};
	char env[128];
	size_t i;
	int n;

	(void)state;
	tz_save();
	for (i = 0; i < ARRAY_SIZE(zones); i++) {
		struct tz_zone *z = zone(zones[i]);

		snprintf(env, sizeof(env), ":%s", zones[i]);
		n = compare_zone(zones[i], env, z, 1900);
		/* a zone with DST has hundreds of transitions in two centuries */
		if (strcmp(zones[i], "Europe/Paris") == 0)
			assert_true(n > 200);
		if (strcmp(zones[i], "UTC") == 0)
			assert_int_equal(n, 0);
		tz_free(z);
	}
	tz_restore();
}

static void test_posix_rules_match_libc(void **state)
{
	static const char *const specs[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"AEST-10AEDT,M10.1.0,M4.1.0/3", /* southern: DST across the new year */
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"IST-1GMT0,M10.5.0,M3.5.0/1", /* Europe/Dublin: negative DST */
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", /* negative rule times (v3) */
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"XXX3YYY,J60/0,J300/25", /* Julian days, a rule time past 24:00 */
		"ABC-5:30DEF-6:45:30,100/1:30,280/23",
	};
	size_t i;

	(void)state;
	tz_save();
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		struct tz_zone *z = NULL;

		assert_int_equal(tz_parse_posix(specs[i], &z), 0);
		/*
		 * two transitions a year; from 1970: glibc evaluates POSIX rules of earlier
		 * years as if they were 1970 (test_posix_rule_details checks those years)
		 */
		assert_in_range(compare_zone(specs[i], specs[i], z, 1970), 259, 261);
		tz_free(z);
	}
	tz_restore();
}

static void test_posix_rule_details(void **state)
{
	struct tz_zone *z = NULL;
	struct tz_tm tm;

	(void)state;
	/* DST all year (TZif v3): glibc gets the first hours of a UTC year wrong, so no libc */
	assert_int_equal(tz_parse_posix("EST5EDT4,0/0,J365/25", &z), 0);
	assert_int_equal(tz_offset(z, utc(2030, 1, 1, 2, 0, 0)), -4 * 3600);
	assert_int_equal(tz_offset(z, utc(2030, 7, 1, 0, 0, 0)), -4 * 3600);
	assert_int_equal(tz_offset(z, utc(2030, 12, 31, 23, 0, 0)), -4 * 3600);
	tz_free(z);
	/* no DST: one offset, no transition */
	assert_int_equal(tz_parse_posix("<+0530>-5:30", &z), 0);
	assert_int_equal(tz_offset(z, 0), 19800);
	assert_time_equal(tz_next_transition(z, 0), SCHEDULE_NEVER);
	tz_localtime(z, utc(2024, 2, 29, 20, 0, 0), &tm);
	assert_int_equal(tm.year, 2024);
	assert_int_equal(tm.mon, 3);
	assert_int_equal(tm.mday, 1);
	assert_int_equal(tm.hour, 1);
	assert_int_equal(tm.min, 30);
	assert_int_equal(tm.wday, 4); /* Friday */
	tz_free(z);
	/* a DST name without a rule: the US rule */
	assert_int_equal(tz_parse_posix("EST5EDT", &z), 0);
	assert_int_equal(tz_offset(z, utc(2024, 3, 10, 6, 59, 59)), -5 * 3600);
	assert_int_equal(tz_offset(z, utc(2024, 3, 10, 7, 0, 0)), -4 * 3600);
	tz_free(z);
	/* times before 1970 and far ahead */
	assert_int_equal(tz_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &z), 0);
	assert_int_equal(tz_offset(z, utc(1812, 7, 1, 0, 0, 0)), 7200);
	assert_int_equal(tz_offset(z, utc(1900, 3, 25, 0, 59, 59)), 3600); /* last Sunday */
	assert_int_equal(tz_offset(z, utc(1900, 3, 25, 1, 0, 0)), 7200);
	assert_int_equal(tz_offset(z, utc(1900, 10, 28, 0, 59, 59)), 7200);
	assert_int_equal(tz_offset(z, utc(1900, 10, 28, 1, 0, 0)), 3600);
	assert_int_equal(tz_offset(z, utc(2400, 12, 1, 0, 0, 0)), 3600);
	assert_time_equal(tz_next_transition(z, utc(2400, 12, 1, 0, 0, 0)),
			  utc(2401, 3, 25, 1, 0, 0));
	/* the ends of time_t: no overflow (UBSan builds trap on one), standard time */
	assert_int_equal(tz_offset(z, INT64_MAX), 3600);
	assert_int_equal(tz_offset(z, INT64_MIN), 3600);
	assert_time_equal(tz_next_transition(z, INT64_MAX - 1), SCHEDULE_NEVER);
	tz_localtime(z, INT64_MIN, &tm);
	assert_true(tm.year < -100000000);
	tz_localtime(z, INT64_MAX, &tm);
	assert_true(tm.year > 100000000);
	tz_free(z);
	z = zone("Europe/Paris");
	assert_int_equal(tz_offset(z, INT64_MAX), 3600);
	assert_int_equal(tz_offset(z, INT64_MIN), 561); /* LMT, before the first transition */
	assert_time_equal(tz_next_transition(z, INT64_MAX - 1), SCHEDULE_NEVER);
	tz_free(z);
}

static void test_posix_rule_errors(void **state)
{
	static const char *const bad[] = {
		"",
		"C-1",
		"CET",
		"CET-",
		"CET25",
		"CET-1:60",
		"CET-1CEST,M3.5",
		"CET-1CEST,M13.1.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0",
		"CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,M3.5.0",
		"CET-1CEST,M3.5.0,M10.5.0/168",
		"CET-1CEST,J0,J100",
		"CET-1CEST,366,100",
		"CET-1CEST,M3.5.0,M10.5.0x",
		"<AB>1",
		"<ABC1",
		"Nope/Nope",
	};
	struct tz_zone *z;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		z = (struct tz_zone *)1;
		if (tz_parse_posix(bad[i], &z) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_null(z);
	}
}

/* ---- TZif images ---- */

struct blob {
	unsigned char b[1024];
	size_t n;
};

static void put(struct blob *bl, const void *p, size_t n)
{
	assert_true(bl->n + n <= sizeof(bl->b));
	memcpy(bl->b + bl->n, p, n);
	bl->n += n;
}

static void put32(struct blob *bl, long long v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	put(bl, b, 4);
}

static void put64(struct blob *bl, long long v)
{
	put32(bl, v >> 32);
	put32(bl, v & 0xffffffff);
}

static void header(struct blob *bl, char version, unsigned timecnt, unsigned typecnt,
		   unsigned charcnt)
{
	unsigned char pad[15] = { 0 };

	put(bl, "TZif", 4);
	put(bl, &version, 1);
	put(bl, pad, 15);
	put32(bl, 0); /* isutcnt */
	put32(bl, 0); /* isstdcnt */
	put32(bl, 0); /* leapcnt */
	put32(bl, timecnt);
	put32(bl, typecnt);
	put32(bl, charcnt);
}

/* Two types: +1 h from `a`, +2 h from `b`; type 0 (+0:30) before. */
static void data(struct blob *bl, int tsize, long long a, long long b)
{
	static const unsigned char idx[2] = { 1, 2 };
	static const unsigned char tt[3][2] = { { 0, 0 }, { 0, 4 }, { 1, 8 } };
	static const int offs[3] = { 1800, 3600, 7200 };
	int i;

	if (tsize == 8) {
		put64(bl, a);
		put64(bl, b);
	} else {
		put32(bl, a);
		put32(bl, b);
	}
	put(bl, idx, 2);
	for (i = 0; i < 3; i++) {
		put32(bl, offs[i]);
		put(bl, tt[i], 2);
	}
	put(bl, "LMT\0ONE\0TWO\0", 12);
}

static void test_tzif_images(void **state)
{
	struct blob v1 = { .n = 0 }, v2 = { .n = 0 }, bad;
	struct tz_zone *z = NULL;
	long long a = 1000000000, b = 1100000000;

	(void)state;
	/* version 1: 32-bit times, nothing after the last transition */
	header(&v1, 0, 2, 3, 12);
	data(&v1, 4, a, b);
	assert_int_equal(tz_parse_tzif(v1.b, v1.n, &z), 0);
	assert_int_equal(tz_offset(z, a - 1), 1800);
	assert_int_equal(tz_offset(z, a), 3600);
	assert_int_equal(tz_offset(z, b - 1), 3600);
	assert_int_equal(tz_offset(z, b), 7200);
	assert_int_equal(tz_offset(z, (time_t)1 << 36), 7200);
	assert_time_equal(tz_next_transition(z, 0), a);
	assert_time_equal(tz_next_transition(z, a), b);
	assert_time_equal(tz_next_transition(z, b), SCHEDULE_NEVER);
	tz_free(z);

	/* version 2: an empty v1 block, 64-bit times, a footer rule after the last transition */
	header(&v2, '2', 0, 1, 1);
	put(&v2, "\0\0\0\0\0\0", 6);
	put(&v2, "", 1);
	header(&v2, '2', 2, 3, 12);
	data(&v2, 8, -3000000000LL, b);
	put(&v2, "\nCET-1CEST,M3.5.0,M10.5.0/3\n", 28);
	assert_int_equal(tz_parse_tzif(v2.b, v2.n, &z), 0);
	assert_int_equal(tz_offset(z, -3000000001LL), 1800);
	assert_int_equal(tz_offset(z, -3000000000LL), 3600);
	assert_int_equal(tz_offset(z, b), 3600); /* the rule: winter */
	assert_int_equal(tz_offset(z, utc(2030, 7, 1, 0, 0, 0)), 7200);
	assert_time_equal(tz_next_transition(z, b), utc(2005, 3, 27, 1, 0, 0));
	tz_free(z);

	/* malformed: each must be refused, never read out of bounds */
	bad = v2;
	bad.b[0] = 'X';
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	bad = v2;
	bad.b[4] = '9'; /* unknown version */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	for (bad.n = 0; bad.n < v2.n - 1; bad.n++) /* every truncation */
		if (tz_parse_tzif(v2.b, bad.n, &z) != -EINVAL)
			fail_msg("truncated to %zu bytes: accepted", bad.n);
	assert_null(z);
	bad = v1;
	memcpy(bad.b + 44, bad.b + 48, 4); /* times not ascending */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	bad = v1;
	bad.b[44 + 8] = 3; /* type index out of range */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	bad = v1;
	bad.b[44 + 10] = 0x7f; /* offset of type 0: far beyond 26 h */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	bad = v2;
	bad.n = v2.n - 28; /* the footer is the last 28 bytes */
	put(&bad, "\nCET-1CEST,M3\n", 14); /* not a rule */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	bad = v2;
	bad.b[v2.n - 28] = 'x'; /* the footer does not start with a newline */
	assert_int_equal(tz_parse_tzif(bad.b, bad.n, &z), -EINVAL);
	assert_null(z);
}

static void test_tz_load(void **state)
{
	struct tz_zone *z = NULL, *ref;
	time_t summer = utc(2024, 7, 1, 12, 0, 0), winter = utc(2024, 1, 15, 12, 0, 0);

	(void)state;
	tz_save();
	assert_int_equal(tz_load("Europe/Paris", &z), 0);
	assert_int_equal(tz_offset(z, summer), 7200);
	assert_int_equal(tz_offset(z, winter), 3600);
	tz_free(z);
	assert_int_equal(tz_load("No/Such_Zone", &z), -ENOENT);
	assert_null(z);
	assert_int_equal(tz_load("Europe", &z), -EISDIR);
	assert_int_equal(tz_load_file("/etc/hostname-not-there", &z), -ENOENT);
	/* a file that is not TZif */
	assert_int_equal(tz_load_file("/etc/passwd", &z), -EINVAL);
	/* a POSIX string where no file has the name */
	assert_int_equal(tz_load("JST-9", &z), 0);
	assert_int_equal(tz_offset(z, summer), 9 * 3600);
	tz_free(z);

	/* the local zone: $TZ as the C library reads it */
	set_tz("Asia/Tokyo");
	assert_int_equal(tz_load(NULL, &z), 0);
	assert_int_equal(tz_offset(z, winter), 9 * 3600);
	tz_free(z);
	set_tz(":America/New_York");
	assert_int_equal(tz_load("", &z), 0);
	assert_int_equal(tz_offset(z, winter), -5 * 3600);
	assert_int_equal(tz_offset(z, summer), -4 * 3600);
	tz_free(z);
	set_tz("/usr/share/zoneinfo/Australia/Sydney");
	assert_int_equal(tz_load(NULL, &z), 0);
	assert_int_equal(tz_offset(z, winter), 11 * 3600);
	tz_free(z);
	set_tz("<+0545>-5:45");
	assert_int_equal(tz_load(NULL, &z), 0);
	assert_int_equal(tz_offset(z, winter), 5 * 3600 + 45 * 60);
	tz_free(z);
	set_tz("");
	assert_int_equal(tz_load(NULL, &z), 0);
	assert_int_equal(tz_offset(z, summer), 0);
	tz_free(z);
	set_tz("not a zone!");
	assert_int_equal(tz_load(NULL, &z), 0); /* UTC, as glibc */
	assert_int_equal(tz_offset(z, summer), 0);
	tz_free(z);
	/* no $TZ: /etc/localtime, whatever this machine has: the same as libc says */
	set_tz(NULL);
	assert_int_equal(tz_load(NULL, &z), 0);
	ref = z;
	assert_true(same_as_libc(ref, "/etc/localtime", summer));
	assert_true(same_as_libc(ref, "/etc/localtime", winter));
	tz_free(ref);
	tz_restore();
}

static void test_first_instant(void **state)
{
	struct tz_zone *paris = zone("Europe/Paris"), *ny = zone("America/New_York");

	(void)state;
	/* a plain time */
	assert_time_equal(tz_first_instant(paris, 2024, 6, 3, 8 * 3600), utc(2024, 6, 3, 6, 0, 0));
	/* skipped (Paris, 2024-03-31 02:00-03:00): the instant of the jump */
	assert_time_equal(tz_first_instant(paris, 2024, 3, 31, 2 * 3600 + 1800),
			  utc(2024, 3, 31, 1, 0, 0));
	assert_time_equal(tz_first_instant(paris, 2024, 3, 31, 3 * 3600),
			  utc(2024, 3, 31, 1, 0, 0));
	/* repeated (New York, 2024-11-03 01:00-02:00): the first, in EDT */
	assert_time_equal(tz_first_instant(ny, 2024, 11, 3, 3600 + 1800),
			  utc(2024, 11, 3, 5, 30, 0));
	/* 02:00 comes only after the repeat, in EST */
	assert_time_equal(tz_first_instant(ny, 2024, 11, 3, 2 * 3600), utc(2024, 11, 3, 7, 0, 0));
	/* seconds past a day roll into the next */
	assert_time_equal(tz_first_instant(ny, 2024, 12, 31, 86400 + 60), utc(2025, 1, 1, 5, 1, 0));
	tz_free(paris);
	tz_free(ny);
}

/* ---- schedules ---- */

static void test_boundaries(void **state)
{
	struct guard_config *cfg =
		one_schedule("mon-fri = 08:00-12:00, 13:30-16:30\ntimezone = UTC\n");
	const struct cfg_schedule *s = &cfg->schedules[0];

	(void)state;
	/* 2024-06-03 is a Monday */
	expect_at(s, utc(2024, 6, 3, 7, 0, 0), false, utc(2024, 6, 3, 8, 0, 0));
	expect_at(s, utc(2024, 6, 3, 7, 59, 59), false, utc(2024, 6, 3, 8, 0, 0));
	expect_at(s, utc(2024, 6, 3, 8, 0, 0), true, utc(2024, 6, 3, 12, 0, 0)); /* at start */
	expect_at(s, utc(2024, 6, 3, 11, 59, 59), true, utc(2024, 6, 3, 12, 0, 0));
	expect_at(s, utc(2024, 6, 3, 12, 0, 0), false, utc(2024, 6, 3, 13, 30, 0)); /* at end */
	expect_at(s, utc(2024, 6, 3, 13, 30, 0), true, utc(2024, 6, 3, 16, 30, 0));
	expect_at(s, utc(2024, 6, 3, 16, 30, 0), false, utc(2024, 6, 4, 8, 0, 0));
	/* Friday evening to Monday morning */
	expect_at(s, utc(2024, 6, 7, 16, 30, 0), false, utc(2024, 6, 10, 8, 0, 0));
	expect_at(s, utc(2024, 6, 8, 10, 0, 0), false, utc(2024, 6, 10, 8, 0, 0));
	expect_at(s, utc(2024, 6, 9, 23, 59, 59), false, utc(2024, 6, 10, 8, 0, 0));
	config_free(cfg);
}

static void test_overnight(void **state)
{
	struct guard_config *cfg = one_schedule("fri = 22:00-06:30\ntimezone = UTC\n");
	const struct cfg_schedule *s = &cfg->schedules[0];

	(void)state;
	/* 2024-06-07 is a Friday */
	expect_at(s, utc(2024, 6, 7, 21, 59, 59), false, utc(2024, 6, 7, 22, 0, 0));
	expect_at(s, utc(2024, 6, 7, 22, 0, 0), true, utc(2024, 6, 8, 6, 30, 0));
	expect_at(s, utc(2024, 6, 7, 23, 0, 0), true, utc(2024, 6, 8, 6, 30, 0));
	expect_at(s, utc(2024, 6, 8, 0, 0, 0), true, utc(2024, 6, 8, 6, 30, 0));
	expect_at(s, utc(2024, 6, 8, 5, 0, 0), true, utc(2024, 6, 8, 6, 30, 0)); /* Saturday */
	expect_at(s, utc(2024, 6, 8, 6, 30, 0), false, utc(2024, 6, 14, 22, 0, 0));
	expect_at(s, utc(2024, 6, 8, 23, 0, 0), false, utc(2024, 6, 14, 22, 0, 0)); /* not Sat */
	/* Thursday night and Friday early morning are not Friday's window */
	expect_at(s, utc(2024, 6, 6, 23, 0, 0), false, utc(2024, 6, 7, 22, 0, 0));
	expect_at(s, utc(2024, 6, 7, 5, 0, 0), false, utc(2024, 6, 7, 22, 0, 0));
	config_free(cfg);

	/* ending at midnight: 22:00-00:00 is 22:00-24:00 */
	cfg = one_schedule("sun = 22:00-00:00\ntimezone = UTC\n");
	s = &cfg->schedules[0];
	expect_at(s, utc(2024, 6, 9, 23, 59, 59), true, utc(2024, 6, 10, 0, 0, 0));
	expect_at(s, utc(2024, 6, 10, 0, 0, 0), false, utc(2024, 6, 16, 22, 0, 0));
	config_free(cfg);
}

static void test_day_ranges(void **state)
{
	struct guard_config *cfg = one_schedule("fri-mon = 10:00-11:00\ntimezone = UTC\n");
	const struct cfg_schedule *s = &cfg->schedules[0];
	static const bool want[7] = { true, false, false, false, true, true, true }; /* Mon.. */
	int d;

	(void)state;
	assert_int_equal(s->windows[0].days, 0x71); /* fri, sat, sun, mon */
	for (d = 0; d < 7; d++) {
		/* 2024-06-03 + d: Monday + d */
		time_t t = utc(2024, 6, 3 + d, 10, 30, 0);

		if (schedule_active(s, t) != want[d])
			fail_msg("fri-mon on weekday %d (0 = Monday): %d", d, !want[d]);
	}
	/* Monday 11:00 -> Friday 10:00 */
	expect_at(s, utc(2024, 6, 3, 11, 0, 0), false, utc(2024, 6, 7, 10, 0, 0));
	config_free(cfg);

	cfg = one_schedule("sat,sun = 09:00-10:00\nwed = 09:00-10:00\ntimezone = UTC\n");
	s = &cfg->schedules[0];
	expect_at(s, utc(2024, 6, 5, 9, 0, 0), true, utc(2024, 6, 5, 10, 0, 0));
	expect_at(s, utc(2024, 6, 5, 10, 0, 0), false, utc(2024, 6, 8, 9, 0, 0));
	expect_at(s, utc(2024, 6, 9, 10, 0, 0), false, utc(2024, 6, 12, 9, 0, 0));
	config_free(cfg);
}

static void test_daily_and_whole_days(void **state)
{
	struct guard_config *cfg = one_schedule("daily = 00:00-24:00\ntimezone = Europe/Paris\n");
	const struct cfg_schedule *s = &cfg->schedules[0];

	(void)state;
	/* always active, across midnight and both DST changes: it never changes */
	expect_at(s, utc(2024, 6, 3, 12, 0, 0), true, SCHEDULE_NEVER);
	expect_at(s, utc(2024, 3, 30, 23, 0, 0), true, SCHEDULE_NEVER);
	expect_at(s, utc(2024, 3, 31, 1, 0, 0), true, SCHEDULE_NEVER);
	expect_at(s, utc(2024, 10, 27, 0, 30, 0), true, SCHEDULE_NEVER);
	expect_at(s, utc(2024, 10, 26, 22, 0, 0), true, SCHEDULE_NEVER);
	config_free(cfg);

	cfg = one_schedule("daily = 22:00-06:00\ntimezone = UTC\n");
	s = &cfg->schedules[0];
	expect_at(s, utc(2024, 6, 3, 23, 0, 0), true, utc(2024, 6, 4, 6, 0, 0));
	expect_at(s, utc(2024, 6, 4, 5, 0, 0), true, utc(2024, 6, 4, 6, 0, 0));
	expect_at(s, utc(2024, 6, 4, 12, 0, 0), false, utc(2024, 6, 4, 22, 0, 0));
	config_free(cfg);

	/* whole days and touching windows merge: no change at midnight or at 12:00 */
	cfg = one_schedule("mon = 00:00-24:00\ntue = 00:00-12:00, 12:00-13:00\nsun = 20:00-24:00\n"
			   "timezone = UTC\n");
	s = &cfg->schedules[0];
	expect_at(s, utc(2024, 6, 2, 20, 0, 0), true, utc(2024, 6, 4, 13, 0, 0));
	expect_at(s, utc(2024, 6, 3, 0, 0, 0), true, utc(2024, 6, 4, 13, 0, 0));
	expect_at(s, utc(2024, 6, 4, 12, 0, 0), true, utc(2024, 6, 4, 13, 0, 0));
	expect_at(s, utc(2024, 6, 4, 13, 0, 0), false, utc(2024, 6, 9, 20, 0, 0));
	config_free(cfg);

	/* overlapping windows: the union */
	cfg = one_schedule("daily = 08:00-12:00, 10:00-14:00, 09:00-09:30\ntimezone = UTC\n");
	s = &cfg->schedules[0];
	expect_at(s, utc(2024, 6, 3, 8, 0, 0), true, utc(2024, 6, 3, 14, 0, 0));
	expect_at(s, utc(2024, 6, 3, 14, 0, 0), false, utc(2024, 6, 4, 8, 0, 0));
	config_free(cfg);
}

static void test_two_timezones(void **state)
{
	struct guard_config *cfg = parse_cfg("[schedule tokyo]\ndaily = 09:00-17:00\n"
					     "timezone = Asia/Tokyo\n"
					     "[schedule ny]\ndaily = 09:00-17:00\n"
					     "timezone = America/New_York\n");
	const struct cfg_schedule *tokyo = &cfg->schedules[0], *ny = &cfg->schedules[1];

	(void)state;
	/* 01:00 UTC: 10:00 in Tokyo (UTC+9), 21:00 the day before in New York (EDT, UTC-4) */
	expect_at(tokyo, utc(2024, 6, 3, 1, 0, 0), true, utc(2024, 6, 3, 8, 0, 0));
	expect_at(ny, utc(2024, 6, 3, 1, 0, 0), false, utc(2024, 6, 3, 13, 0, 0));
	/* 14:00 UTC: 23:00 in Tokyo, 10:00 in New York */
	expect_at(tokyo, utc(2024, 6, 3, 14, 0, 0), false, utc(2024, 6, 4, 0, 0, 0));
	expect_at(ny, utc(2024, 6, 3, 14, 0, 0), true, utc(2024, 6, 3, 21, 0, 0));
	/* New York in winter: EST, UTC-5 */
	expect_at(ny, utc(2024, 1, 15, 14, 0, 0), true, utc(2024, 1, 15, 22, 0, 0));
	config_free(cfg);
}

static void test_local_zone(void **state)
{
	struct guard_config *cfg = one_schedule("daily = 09:00-17:00\n");
	const struct cfg_schedule *s = &cfg->schedules[0];

	(void)state;
	assert_string_equal(s->timezone, "");
	tz_save();
	set_tz("Asia/Tokyo");
	expect_at(s, utc(2024, 6, 3, 1, 0, 0), true, utc(2024, 6, 3, 8, 0, 0));
	set_tz(":America/New_York");
	expect_at(s, utc(2024, 6, 3, 1, 0, 0), false, utc(2024, 6, 3, 13, 0, 0));
	set_tz("UTC0");
	expect_at(s, utc(2024, 6, 3, 8, 59, 59), false, utc(2024, 6, 3, 9, 0, 0));
	tz_restore();
	config_free(cfg);
}

static void test_dst_spring_forward(void **state)
{
	/* Europe/Paris, Sunday 2024-03-31: 02:00 CET becomes 03:00 CEST at 01:00 UTC */
	struct guard_config *cfg = parse_cfg("[schedule gap]\nsun = 02:00-03:00\n"
					     "timezone = Europe/Paris\n"
					     "[schedule late]\nsun = 02:30-04:00\n"
					     "timezone = Europe/Paris\n"
					     "[schedule early]\nsun = 01:00-02:30\n"
					     "timezone = Europe/Paris\n"
					     "[schedule morning]\ndaily = 08:00-09:00\n"
					     "timezone = Europe/Paris\n");
	const struct cfg_schedule *gap = &cfg->schedules[0], *late = &cfg->schedules[1];
	const struct cfg_schedule *early = &cfg->schedules[2], *morning = &cfg->schedules[3];

	(void)state;
	/* the window lies in the skipped hour: it does not happen that day */
	expect_at(gap, utc(2024, 3, 24, 1, 0, 0), true, utc(2024, 3, 24, 2, 0, 0)); /* CET */
	expect_at(gap, utc(2024, 3, 31, 0, 59, 59), false, utc(2024, 4, 7, 0, 0, 0));
	expect_at(gap, utc(2024, 3, 31, 1, 0, 0), false, utc(2024, 4, 7, 0, 0, 0));
	expect_at(gap, utc(2024, 3, 31, 1, 30, 0), false, utc(2024, 4, 7, 0, 0, 0));
	expect_at(gap, utc(2024, 3, 30, 12, 0, 0), false, utc(2024, 4, 7, 0, 0, 0)); /* CEST */
	/* starting in the skipped hour: from the jump (03:00 CEST) to 04:00 CEST */
	expect_at(late, utc(2024, 3, 31, 0, 59, 59), false, utc(2024, 3, 31, 1, 0, 0));
	expect_at(late, utc(2024, 3, 31, 1, 0, 0), true, utc(2024, 3, 31, 2, 0, 0));
	expect_at(late, utc(2024, 3, 31, 2, 0, 0), false, utc(2024, 4, 7, 0, 30, 0));
	/* ending in the skipped hour: until the jump */
	expect_at(early, utc(2024, 3, 31, 0, 0, 0), true, utc(2024, 3, 31, 1, 0, 0));
	expect_at(early, utc(2024, 3, 31, 1, 0, 0), false, utc(2024, 4, 6, 23, 0, 0));
	/* a window after the change moves an hour earlier in UTC: 23 h between the two */
	expect_at(morning, utc(2024, 3, 30, 7, 0, 0), true, utc(2024, 3, 30, 8, 0, 0));
	expect_at(morning, utc(2024, 3, 30, 8, 0, 0), false, utc(2024, 3, 31, 6, 0, 0));
	expect_at(morning, utc(2024, 3, 31, 6, 0, 0), true, utc(2024, 3, 31, 7, 0, 0));
	config_free(cfg);

	/* America/Santiago, Sunday 2024-09-08: midnight is skipped (23:59:59 -04 -> 01:00 -03) */
	cfg = parse_cfg("[schedule chile]\nsun = 00:00-06:00\ntimezone = America/Santiago\n"
			"[schedule sat]\nsat = 22:00-24:00\ntimezone = America/Santiago\n");
	expect_at(&cfg->schedules[0], utc(2024, 9, 8, 3, 59, 59), false, utc(2024, 9, 8, 4, 0, 0));
	expect_at(&cfg->schedules[0], utc(2024, 9, 8, 4, 0, 0), true, utc(2024, 9, 8, 9, 0, 0));
	expect_at(&cfg->schedules[1], utc(2024, 9, 8, 2, 0, 0), true, utc(2024, 9, 8, 4, 0, 0));
	config_free(cfg);
}

static void test_dst_fall_back(void **state)
{
	/*
	 * America/New_York, Sunday 2024-11-03: at 06:00 UTC 01:59:59 EDT becomes 01:00 EST, so
	 * 01:00-02:00 happens twice (01:30 EDT = 05:30 UTC, 01:30 EST = 06:30 UTC). A window is
	 * one stretch from the first moment the clock shows its start to the first moment it
	 * then shows its end: never active twice, never flickering.
	 */
	struct guard_config *cfg = parse_cfg("[schedule inside]\nsun = 01:00-01:45\n"
					     "timezone = America/New_York\n"
					     "[schedule night]\nsat = 22:00-01:30\n"
					     "timezone = America/New_York\n"
					     "[schedule across]\nsun = 01:30-03:00\n"
					     "timezone = America/New_York\n");
	const struct cfg_schedule *inside = &cfg->schedules[0], *night = &cfg->schedules[1];
	const struct cfg_schedule *across = &cfg->schedules[2];

	(void)state;
	/* the first 01:00-01:45 (EDT) only */
	expect_at(inside, utc(2024, 11, 3, 4, 59, 59), false, utc(2024, 11, 3, 5, 0, 0));
	expect_at(inside, utc(2024, 11, 3, 5, 0, 0), true, utc(2024, 11, 3, 5, 45, 0));
	expect_at(inside, utc(2024, 11, 3, 5, 45, 0), false, utc(2024, 11, 10, 6, 0, 0));
	expect_at(inside, utc(2024, 11, 3, 6, 0, 0), false, utc(2024, 11, 10, 6, 0, 0));
	expect_at(inside, utc(2024, 11, 3, 6, 30, 0), false, utc(2024, 11, 10, 6, 0, 0));
	/* Saturday 22:00 EDT to the first 01:30 (EDT); the second 01:00-01:30 is not in it */
	expect_at(night, utc(2024, 11, 3, 2, 0, 0), true, utc(2024, 11, 3, 5, 30, 0));
	expect_at(night, utc(2024, 11, 3, 5, 29, 59), true, utc(2024, 11, 3, 5, 30, 0));
	expect_at(night, utc(2024, 11, 3, 5, 30, 0), false, utc(2024, 11, 10, 3, 0, 0));
	expect_at(night, utc(2024, 11, 3, 6, 15, 0), false, utc(2024, 11, 10, 3, 0, 0));
	/* 01:30 EDT through the repeated hour to 03:00 EST: 2.5 h, in one piece */
	expect_at(across, utc(2024, 11, 3, 5, 30, 0), true, utc(2024, 11, 3, 8, 0, 0));
	expect_at(across, utc(2024, 11, 3, 6, 10, 0), true, utc(2024, 11, 3, 8, 0, 0));
	expect_at(across, utc(2024, 11, 3, 8, 0, 0), false, utc(2024, 11, 10, 6, 30, 0));
	config_free(cfg);

	/* Europe/Paris, Sunday 2024-10-27: 02:00-03:00 twice (CEST, then CET from 01:00 UTC) */
	cfg = parse_cfg("[schedule twice]\nsun = 02:15-02:45\ntimezone = Europe/Paris\n"
			"[schedule to3]\nsun = 02:30-03:00\ntimezone = Europe/Paris\n");
	expect_at(&cfg->schedules[0], utc(2024, 10, 27, 0, 15, 0), true,
		  utc(2024, 10, 27, 0, 45, 0));
	expect_at(&cfg->schedules[0], utc(2024, 10, 27, 1, 15, 0), false,
		  utc(2024, 11, 3, 1, 15, 0));
	/* 03:00 first comes after the repeat (03:00 CET): the window takes the repeated hour */
	expect_at(&cfg->schedules[1], utc(2024, 10, 27, 0, 30, 0), true,
		  utc(2024, 10, 27, 2, 0, 0));
	expect_at(&cfg->schedules[1], utc(2024, 10, 27, 1, 10, 0), true,
		  utc(2024, 10, 27, 2, 0, 0));
	config_free(cfg);
}

/*
 * schedule_eval's two answers agree, minute by minute: from t0, follow next changes for
 * `days`; between two changes every minute has the same state, and at a change it flips.
 * Minutes are enough: windows start and end on local minutes, and these zones' offsets are
 * whole minutes. Returns the number of changes seen.
 */
static int walk(const struct cfg_schedule *s, const struct tz_zone *z, time_t t0, int days)
{
	time_t t = t0, next, m, end = t0 + (time_t)days * 86400;
	bool state, now;
	int changes = 0;

	assert_int_equal(schedule_eval(s, z, t, &state, &next), 0);
	while (t < end) {
		time_t stop = next < end ? next : end;

		for (m = t - t % 60 + 60; m < stop; m += 60) {
			assert_int_equal(schedule_eval(s, z, m, &now, NULL), 0);
			if (now != state) {
				char b[64];

				fail_msg("[schedule %s] changes at %s, before the next change it "
					 "announced",
					 s->name, fmt_utc(m, b, sizeof(b)));
			}
		}
		if (next >= end)
			break;
		assert_true(next - t <= SCHEDULE_HORIZON);
		assert_int_equal(schedule_eval(s, z, next, &now, NULL), 0);
		assert_true(now != state);
		assert_int_equal(schedule_eval(s, z, next - 1, &now, NULL), 0);
		assert_true(now == state);
		t = next;
		state = !state;
		changes++;
		assert_int_equal(schedule_eval(s, z, t, &now, &next), 0);
	}
	return changes;
}

static void test_next_change_walk(void **state)
{
	static const struct {
		const char *zone;
		const char *body;
		time_t from;
		int min_changes;
	} cases[] = {
		/* DST weeks in both directions, and a plain week */
		{ "Europe/Paris",
		  "mon-fri = 08:00-12:00, 13:30-16:30\nfri = 22:00-06:30\n"
		  "sun = 02:00-03:00, 02:30-02:45, 23:00-01:00\n",
		  1711234800 /* 2024-03-23 23:00 UTC */, 20 },
		{ "Europe/Paris", "daily = 02:15-02:45, 01:00-01:30\nsat = 22:00-02:30\n",
		  1729724400 /* 2024-10-23 23:00 UTC */, 20 },
		{ "America/New_York", "daily = 01:30-01:45, 23:00-01:15\nsun-mon = 01:00-03:00\n",
		  1730332800 /* 2024-10-31 00:00 UTC */, 15 },
		{ "Australia/Lord_Howe", "daily = 01:45-02:15\n", /* a 30-minute DST */
		  1712102400 /* 2024-04-03 00:00 UTC */, 12 },
		{ "UTC", "fri-mon = 00:00-24:00\nwed = 12:00-13:00\n", 1717200000, 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct guard_config *cfg = one_schedule(cases[i].body);
		struct tz_zone *z = zone(cases[i].zone);
		int n = walk(&cfg->schedules[0], z, cases[i].from, 9);

		if (n < cases[i].min_changes)
			fail_msg("case %zu: %d changes in 9 days, want at least %d", i, n,
				 cases[i].min_changes);
		tz_free(z);
		config_free(cfg);
	}
}

/* Away from DST changes, active means: the clock shows a time in a window of its day. */
static void test_wall_clock_oracle(void **state)
{
	struct guard_config *cfg =
		one_schedule("mon-fri = 08:00-12:00, 13:30-16:30\nfri = 22:00-06:30\n"
			     "sat,sun = 10:00-11:00\ndaily = 23:30-24:00\n");
	const struct cfg_schedule *s = &cfg->schedules[0];
	struct tz_zone *z = zone("Asia/Kolkata"); /* +05:30, no DST since 1945 */
	time_t t;
	int checked = 0;

	(void)state;
	for (t = utc(2024, 5, 1, 0, 0, 0); t < utc(2024, 5, 29, 0, 0, 0); t += 7 * 60) {
		struct tz_tm tm;
		int min, prev, i;
		bool want = false, got;

		tz_localtime(z, t, &tm);
		min = tm.hour * 60 + tm.min;
		prev = (tm.wday + 6) % 7;
		for (i = 0; i < s->n_windows; i++) {
			const struct cfg_window *w = &s->windows[i];

			if (w->start < w->end)
				want |= (w->days >> tm.wday & 1) && min >= w->start && min < w->end;
			else
				want |= ((w->days >> tm.wday & 1) && min >= w->start) ||
					((w->days >> prev & 1) && min < w->end);
		}
		assert_int_equal(schedule_eval(s, z, t, &got, NULL), 0);
		if (got != want)
			fail_msg("at %lld: got %d, want %d", (long long)t, got, want);
		checked++;
	}
	assert_true(checked > 5000);
	tz_free(z);
	config_free(cfg);
}

static void test_schedule_errors(void **state)
{
	struct guard_config *cfg = one_schedule("daily = 09:00-17:00\ntimezone = UTC\n");
	struct cfg_schedule s = cfg->schedules[0];
	struct tz_zone *z = zone("UTC");
	bool active = true;
	time_t next = 0;

	(void)state;
	assert_int_equal(schedule_eval(&s, z, SCHEDULE_TIME_LIMIT + 1, &active, &next), -ERANGE);
	assert_int_equal(schedule_eval(&s, z, -SCHEDULE_TIME_LIMIT - 1, &active, &next), -ERANGE);
	/* far away, still exact */
	assert_int_equal(schedule_eval(&s, z, utc(9999, 12, 31, 9, 0, 0), &active, &next), 0);
	assert_true(active);
	assert_time_equal(next, utc(9999, 12, 31, 17, 0, 0));
	assert_int_equal(schedule_eval(&s, z, utc(1000, 1, 1, 8, 0, 0), &active, &next), 0);
	assert_false(active);
	assert_time_equal(next, utc(1000, 1, 1, 9, 0, 0));
	/* no window: never active, never changes */
	s.n_windows = 0;
	assert_int_equal(schedule_eval(&s, z, 0, &active, &next), 0);
	assert_false(active);
	assert_time_equal(next, SCHEDULE_NEVER);
	/* a hand-made window the parser would refuse */
	s.n_windows = 1;
	s.windows[0].end = 1441;
	assert_int_equal(schedule_eval(&s, z, 0, &active, &next), -EINVAL);
	s.windows[0].end = s.windows[0].start;
	assert_int_equal(schedule_eval(&s, z, 0, &active, &next), -EINVAL);
	/* a zone that cannot be read: UTC, with a warning */
	s = cfg->schedules[0];
	snprintf(s.timezone, sizeof(s.timezone), "Nowhere/Atlantis");
	assert_true(schedule_active(&s, utc(2024, 6, 3, 9, 0, 0)));
	assert_false(schedule_active(&s, utc(2024, 6, 3, 8, 59, 0)));
	assert_time_equal(schedule_next_change(&s, utc(2024, 6, 3, 9, 0, 0)),
			  utc(2024, 6, 3, 17, 0, 0));
	tz_free(z);
	config_free(cfg);
}

/* ---- group masks ---- */

static const char group_conf[] = "[list adult]\npath = a\ncategory = adult\n"
				 "[list games]\npath = g\ncategory = games\n"
				 "[list social]\npath = s\ncategory = social\n"
				 "[list good]\npath = o\ncategory = good\naction = allow\n"
				 "[list more-games]\npath = g2\ncategory = games\n"
				 "[schedule school]\nmon-fri = 08:00-16:30\ntimezone = UTC\n"
				 "[schedule lunch]\nmon-fri = 12:00-13:00\ntimezone = UTC\n"
				 "[schedule night]\ndaily = 22:00-06:00\ntimezone = UTC\n"
				 "[schedule unused]\ndaily = 03:00-03:01\ntimezone = UTC\n"
				 "[group pupils]\nclients = 192.0.2.0/25\n"
				 "block = adult, games@school, social@school, games@night\n"
				 "allow = games@lunch\n"
				 "[group staff]\nclients = 192.0.2.128/25\nblock = adult\n"
				 "[group guests]\nmacs = 02:00:00:00:00:01\nallow = adult\n";

#define ADULT (1ull << 0)
#define GAMES (1ull << 1)
#define SOCIAL (1ull << 2)

static void expect_masks(const struct guard_config *cfg, time_t t, __u64 pupils, time_t next)
{
	__u64 m[5] = { 0, 0, 0, 0, 0xdead };
	time_t got_next = 0;
	char b[64];

	assert_int_equal(group_masks_eval(cfg, t, m, &got_next), 0);
	if (m[1] != pupils)
		fail_msg("pupils at %s: mask %#llx, want %#llx", fmt_utc(t, b, sizeof(b)),
			 (unsigned long long)m[1], (unsigned long long)pupils);
	assert_int_equal(m[0], ADULT | GAMES | SOCIAL); /* every block list; not `good` */
	assert_int_equal(m[2], ADULT); /* staff: what it names, always */
	assert_int_equal(m[3], 0); /* guests: an allow rule and no block */
	assert_int_equal(m[4], 0xdead); /* n_groups + 1 entries, no more */
	assert_time_equal(got_next, next);
	/* group_masks_at: the same masks */
	memset(m, 0, sizeof(m));
	assert_int_equal(group_masks_at(cfg, t, m), 0);
	assert_int_equal(m[1], pupils);
}

static void test_group_masks(void **state)
{
	struct guard_config *cfg = parse_cfg(group_conf);

	(void)state;
	assert_int_equal(cfg->n_groups, 3);
	assert_int_equal(config_category(cfg, "games"), 1);
	/* Monday 2024-06-03 */
	expect_masks(cfg, utc(2024, 6, 3, 7, 0, 0), ADULT, utc(2024, 6, 3, 8, 0, 0));
	expect_masks(cfg, utc(2024, 6, 3, 8, 0, 0), ADULT | GAMES | SOCIAL,
		     utc(2024, 6, 3, 12, 0, 0));
	/* lunch: the allow rule wins over games@school */
	expect_masks(cfg, utc(2024, 6, 3, 12, 0, 0), ADULT | SOCIAL, utc(2024, 6, 3, 13, 0, 0));
	expect_masks(cfg, utc(2024, 6, 3, 13, 0, 0), ADULT | GAMES | SOCIAL,
		     utc(2024, 6, 3, 16, 30, 0));
	expect_masks(cfg, utc(2024, 6, 3, 17, 0, 0), ADULT, utc(2024, 6, 3, 22, 0, 0));
	/* games@night: a second schedule for the same category */
	expect_masks(cfg, utc(2024, 6, 3, 23, 0, 0), ADULT | GAMES, utc(2024, 6, 4, 6, 0, 0));
	/* Saturday: no school */
	expect_masks(cfg, utc(2024, 6, 8, 10, 0, 0), ADULT, utc(2024, 6, 8, 22, 0, 0));
	config_free(cfg);
}

static void test_group_masks_no_groups(void **state)
{
	struct guard_config *cfg =
		parse_cfg("[list a]\npath = a\ncategory = c0\n[list b]\npath = b\ncategory = c1\n"
			  "action = allow\n[list c]\npath = c\ncategory = c2\n");
	__u64 m[2] = { 0, 0x77 };
	time_t next = 0;

	(void)state;
	assert_int_equal(group_masks_eval(cfg, 0, m, &next), 0);
	assert_int_equal(m[0], 0x5);
	assert_int_equal(m[1], 0x77); /* only group 0 written */
	assert_time_equal(next, SCHEDULE_NEVER);
	config_free(cfg);
}

static void test_group_masks_errors(void **state)
{
	struct guard_config *cfg = parse_cfg(group_conf);
	__u64 m[4] = { 1, 2, 3, 4 };
	time_t t = utc(2024, 6, 3, 9, 0, 0);
	char saved[64];

	(void)state;
	/* a category out of range */
	cfg->groups[0].block[0].category_id = GUARD_MAX_CATEGORIES;
	assert_int_equal(group_masks_at(cfg, t, m), -EINVAL);
	cfg->groups[0].block[0].category_id = 0;
	/* a schedule out of range */
	cfg->groups[0].allow[0].schedule = cfg->n_schedules;
	assert_int_equal(group_masks_at(cfg, t, m), -EINVAL);
	cfg->groups[0].allow[0].schedule = 1;
	/* a time out of range */
	assert_int_equal(group_masks_at(cfg, SCHEDULE_TIME_LIMIT + 1, m), -ERANGE);
	/* a zone that cannot be read, on a schedule a rule uses: the error, not a guess */
	memcpy(saved, cfg->schedules[0].timezone, sizeof(saved));
	snprintf(cfg->schedules[0].timezone, sizeof(cfg->schedules[0].timezone), "Nowhere/X");
	assert_int_equal(group_masks_at(cfg, t, m), -ENOENT);
	memcpy(cfg->schedules[0].timezone, saved, sizeof(saved));
	/* on a schedule no rule uses: ignored */
	snprintf(cfg->schedules[3].timezone, sizeof(cfg->schedules[3].timezone), "Nowhere/X");
	/* masks unchanged by every failure above */
	assert_int_equal(m[0], 1);
	assert_int_equal(m[1], 2);
	assert_int_equal(m[2], 3);
	assert_int_equal(m[3], 4);
	assert_int_equal(group_masks_at(cfg, t, m), 0);
	assert_int_equal(m[1], ADULT | GAMES | SOCIAL);
	assert_int_equal(group_masks_at(NULL, t, m), -EINVAL);
	assert_int_equal(group_masks_at(cfg, t, NULL), -EINVAL);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zones_match_libc),
		cmocka_unit_test(test_posix_rules_match_libc),
		cmocka_unit_test(test_posix_rule_details),
		cmocka_unit_test(test_posix_rule_errors),
		cmocka_unit_test(test_tzif_images),
		cmocka_unit_test(test_tz_load),
		cmocka_unit_test(test_first_instant),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_overnight),
		cmocka_unit_test(test_day_ranges),
		cmocka_unit_test(test_daily_and_whole_days),
		cmocka_unit_test(test_two_timezones),
		cmocka_unit_test(test_local_zone),
		cmocka_unit_test(test_dst_spring_forward),
		cmocka_unit_test(test_dst_fall_back),
		cmocka_unit_test(test_next_change_walk),
		cmocka_unit_test(test_wall_clock_oracle),
		cmocka_unit_test(test_schedule_errors),
		cmocka_unit_test(test_group_masks),
		cmocka_unit_test(test_group_masks_no_groups),
		cmocka_unit_test(test_group_masks_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
