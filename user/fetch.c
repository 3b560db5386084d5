// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remote lists (see fetch.h): one conditional libcurl download per call into a temp file of
 * the state directory, verified (size, sha256 pin, gzip integrity) and renamed over the last
 * good copy; when the source fails, the last good copy is checked and used with a warning.
 * Also a small SHA-256 (FIPS 180-4) for the pin, so that no crypto library is needed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>
#include "user/fetch.h"
#include "user/log.h"
#include "user/util.h"

#define FETCH_CHUNK (128 * 1024) /* bytes read per step when verifying a file */
/*
 * A gzip download may inflate to this many times max_size: real lists inflate 3-10 times, a
 * gzip bomb ~1000 times (every reload would inflate it twice: here and in the registry).
 */
#define FETCH_INFLATE_RATIO 16
#define FETCH_META_MAX (16 * 1024) /* a metadata file larger than this is not ours */
#define FETCH_MAX_REDIRS 5
#define FETCH_BACKOFF_FIRST 60 /* seconds before the first retry after a failure */
#define FETCH_TMP_SUFFIX "XXXXXX" /* mkstemp(3): six of [A-Za-z0-9] */
#define FETCH_USER_AGENT "bpfguard (list fetcher)"

/*
 * snprintf for messages: they quote paths of up to PATH_MAX and are cut to their buffer
 * (through vsnprintf, so that -Wformat-truncation does not flag each message).
 */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- SHA-256 ---- */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
		     sha256_k[i] + w[i];
		t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void sha256_init(struct sha256_ctx *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->n = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	c->len += len;
	if (c->n) {
		take = 64 - c->n < len ? 64 - c->n : len;
		memcpy(c->buf + c->n, p, take);
		c->n += take;
		p += take;
		len -= take;
		if (c->n < 64)
			return;
		sha256_block(c->h, c->buf);
		c->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c->h, p);
	memcpy(c->buf, p, len);
	c->n = len;
}

void sha256_hex(struct sha256_ctx *c, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	uint64_t bits = c->len * 8;
	int i;

	c->buf[c->n++] = 0x80;
	if (c->n > 56) {
		memset(c->buf + c->n, 0, 64 - c->n);
		sha256_block(c->h, c->buf);
		c->n = 0;
	}
	memset(c->buf + c->n, 0, 56 - c->n);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_block(c->h, c->buf);
	for (i = 0; i < 32; i++) {
		unsigned char byte = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));

		hex[2 * i] = digits[byte >> 4];
		hex[2 * i + 1] = digits[byte & 15];
	}
	hex[64] = '\0';
}

/* Read fd from its start to its end, handing each chunk to fn; returns 0 or -errno. */
static int read_chunks(int fd, int (*fn)(void *ctx, const unsigned char *p, size_t n), void *ctx)
{
	unsigned char *buf = malloc(FETCH_CHUNK);
	off_t off = 0;
	ssize_t n;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = pread(fd, buf, FETCH_CHUNK, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		off += n;
		err = fn(ctx, buf, (size_t)n);
		if (err)
			break;
	}
	free(buf);
	return err;
}

static int sha_chunk(void *ctx, const unsigned char *p, size_t n)
{
	sha256_update(ctx, p, n);
	return 0;
}

int sha256_file(const char *path, char hex[65])
{
	struct sha256_ctx c;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sha256_init(&c);
	err = read_chunks(fd, sha_chunk, &c);
	close(fd);
	if (!err)
		sha256_hex(&c, hex);
	return err;
}

/* ---- verification of a download: sha256 and gzip integrity in one pass ---- */

struct verify {
	struct sha256_ctx sha;
	bool gz_expected; /* the URL's path ends in .gz */
	bool started; /* the first bytes were looked at */
	bool gz; /* the data is gzip: check it inflates */
	bool in_member; /* inside a gzip member (not at a member boundary) */
	unsigned long members;
	unsigned long long inflated; /* bytes the gzip data inflated to so far */
	unsigned long long inflate_max; /* and how many it may */
	z_stream z;
	bool z_init;
	unsigned char *out; /* inflate output, discarded */
	char why[256]; /* the gzip problem */
};

static int verify_chunk(void *ctx, const unsigned char *p, size_t n)
{
	struct verify *v = ctx;
	int ret;

	sha256_update(&v->sha, p, n);
	if (!v->started) {
		v->started = true;
		/* gzip files start 1f 8b; a chunk holds at least 2 bytes unless the file is
		 * shorter, and then it is no gzip file. */
		v->gz = n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
		if (v->gz_expected && !v->gz) {
			if (n < 2)
				say(v->why, sizeof(v->why),
				    "the URL names a .gz file but the download has %zu "
				    "byte(s)",
				    n);
			else
				say(v->why, sizeof(v->why),
				    "the URL names a .gz file but the data is not gzip (it "
				    "starts %02x %02x, not 1f 8b)",
				    p[0], p[1]);
			return -EBADMSG;
		}
		if (v->gz) {
			v->out = malloc(FETCH_CHUNK);
			if (!v->out || inflateInit2(&v->z, 16 + MAX_WBITS) != Z_OK)
				return -ENOMEM;
			v->z_init = true;
		}
	}
	if (!v->gz)
		return 0;
	v->z.next_in = (unsigned char *)p;
	v->z.avail_in = (uInt)n;
	while (v->z.avail_in > 0) {
		v->z.next_out = v->out;
		v->z.avail_out = FETCH_CHUNK;
		ret = inflate(&v->z, Z_NO_FLUSH);
		v->inflated += FETCH_CHUNK - v->z.avail_out;
		if (v->inflated > v->inflate_max) {
			say(v->why, sizeof(v->why),
			    "the gzip data inflates to more than %llu bytes (%d times max_size): "
			    "no list is that compressible (a gzip bomb?); if this one is real, "
			    "raise max_size",
			    v->inflate_max, FETCH_INFLATE_RATIO);
			return -EFBIG;
		}
		if (ret == Z_STREAM_END) {
			/* A member ends (its CRC and length checked); another may follow. */
			v->members++;
			v->in_member = false;
			inflateReset(&v->z);
			continue;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			say(v->why, sizeof(v->why), "the gzip data is corrupt (%s%s)",
			    v->z.msg ? v->z.msg : "zlib error",
			    v->members ? " after a complete member" : "");
			return -EBADMSG;
		}
		v->in_member = true;
		if (ret == Z_BUF_ERROR)
			break;
	}
	return 0;
}

/*
 * Check the file at fd: its sha256 into hex, and, when it is gzip (or gz_expected), that it
 * inflates to its end with every CRC right, to at most FETCH_INFLATE_RATIO times max bytes.
 * Returns 0, or -EBADMSG (-EFBIG: inflates to more) with why set, or -errno.
 */
static int verify_file(int fd, bool gz_expected, unsigned long long max, char hex[65], char *why,
		       size_t why_len)
{
	struct verify *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	sha256_init(&v->sha);
	v->gz_expected = gz_expected;
	v->inflate_max = max > ~0ULL / FETCH_INFLATE_RATIO ? ~0ULL : max * FETCH_INFLATE_RATIO;
	err = read_chunks(fd, verify_chunk, v);
	if (!err && !v->started)
		err = verify_chunk(v, (const unsigned char *)"", 0);
	if (!err && v->gz && (v->in_member || !v->members)) {
		say(v->why, sizeof(v->why),
		    "the gzip data is cut short (the download ends inside a member)");
		err = -EBADMSG;
	}
	if (!err)
		sha256_hex(&v->sha, hex);
	else if (err == -EBADMSG || err == -EFBIG)
		say(why, why_len, "%s", v->why);
	else
		say(why, why_len, "cannot read the download back: %s", strerror(-err));
	if (v->z_init)
		inflateEnd(&v->z);
	free(v->out);
	free(v);
	return err;
}

/* ---- the state directory ---- */

struct fetch_paths {
	char copy[PATH_MAX]; /* lists/NAME */
	char lists[PATH_MAX]; /* lists/ */
	char meta[PATH_MAX]; /* meta/NAME */
	char metadir[PATH_MAX]; /* meta/ */
	char tmpdir[PATH_MAX]; /* tmp/ */
	char lock[PATH_MAX]; /* tmp/NAME.lock */
	char tmpl[PATH_MAX]; /* tmp/NAME.XXXXXX */
};

/* What meta/NAME holds. Fields describing the copy are trusted only when ok. */
struct fetch_meta {
	bool found; /* the file was read */
	bool ok; /* it describes the copy beside it (same inode and size) */
	char url[4096];
	char etag[512];
	char last_modified[128];
	char sha256[65];
	unsigned long long size, inode;
	long long fetched_at, checked_at, attempted_at;
	unsigned int failures;
	char error[512];
};

static bool list_name_ok(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int make_paths(const char *state_dir, const char *name, struct fetch_paths *p)
{
	int n = 0;

	n |= snprintf(p->lists, sizeof(p->lists), "%s/lists", state_dir) >= (int)sizeof(p->lists);
	n |= snprintf(p->copy, sizeof(p->copy), "%s/lists/%s", state_dir, name) >=
	     (int)sizeof(p->copy);
	n |= snprintf(p->metadir, sizeof(p->metadir), "%s/meta", state_dir) >=
	     (int)sizeof(p->metadir);
	n |= snprintf(p->meta, sizeof(p->meta), "%s/meta/%s", state_dir, name) >=
	     (int)sizeof(p->meta);
	n |= snprintf(p->tmpdir, sizeof(p->tmpdir), "%s/tmp", state_dir) >= (int)sizeof(p->tmpdir);
	n |= snprintf(p->lock, sizeof(p->lock), "%s/tmp/%s.lock", state_dir, name) >=
	     (int)sizeof(p->lock);
	n |= snprintf(p->tmpl, sizeof(p->tmpl), "%s/tmp/%s.%s", state_dir, name,
		      FETCH_TMP_SUFFIX) >= (int)sizeof(p->tmpl);
	return n ? -ENAMETOOLONG : 0;
}

/* mkdir -p, mode 0755 for what it creates. Returns 0 or -errno, *bad the path that failed. */
static int mkdir_p(const char *path, char *bad, size_t bad_len)
{
	char buf[PATH_MAX], *s, c;
	int err;

	if (!str_copy(buf, path, sizeof(buf)))
		return -ENAMETOOLONG;
	for (s = buf + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			say(bad, bad_len, "%s", buf);
			return err;
		}
		if (!c)
			return 0;
		*s = c;
	}
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Remove tmp/NAME.XXXXXX files left by a fetch that was killed (the caller holds the lock). */
static void remove_stale_temps(const struct fetch_paths *p, const char *name)
{
	size_t nl = strlen(name), sl = strlen(FETCH_TMP_SUFFIX);
	struct dirent *de;
	DIR *d;

	d = opendir(p->tmpdir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *rest;

		if (strncmp(de->d_name, name, nl) != 0 || de->d_name[nl] != '.')
			continue;
		/* mkstemp's six characters hold no '.': "a.b.lock" is not a temp of list "a". */
		rest = de->d_name + nl + 1;
		if (strlen(rest) != sl || strchr(rest, '.'))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			pr_debug("removed %s/%s, left by an interrupted fetch\n", p->tmpdir,
				 de->d_name);
	}
	closedir(d);
}

/* A header value fit to store in the metadata and send back: printable ASCII only. */
static bool value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void meta_read(const struct fetch_paths *p, const struct stat *copy_st, bool have_copy,
		      struct fetch_meta *m)
{
	char *buf = NULL, *line, *next, *eq;
	bool have_inode = false, have_size = false;
	ssize_t n, len = 0;
	int fd;

	memset(m, 0, sizeof(*m));
	fd = open(p->meta, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	buf = malloc(FETCH_META_MAX + 1);
	if (!buf)
		goto cleanup;
	while (len < FETCH_META_MAX) {
		n = read(fd, buf + len, (size_t)(FETCH_META_MAX - len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	m->found = true;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "url") == 0)
			str_copy(m->url, eq, sizeof(m->url));
		else if (strcmp(line, "etag") == 0)
			str_copy(m->etag, eq, sizeof(m->etag));
		else if (strcmp(line, "last_modified") == 0)
			str_copy(m->last_modified, eq, sizeof(m->last_modified));
		else if (strcmp(line, "sha256") == 0 && strlen(eq) == 64)
			str_copy(m->sha256, eq, sizeof(m->sha256));
		else if (strcmp(line, "size") == 0)
			have_size = sscanf(eq, "%llu", &m->size) == 1;
		else if (strcmp(line, "inode") == 0)
			have_inode = sscanf(eq, "%llu", &m->inode) == 1;
		else if (strcmp(line, "fetched_at") == 0)
			sscanf(eq, "%lld", &m->fetched_at);
		else if (strcmp(line, "checked_at") == 0)
			sscanf(eq, "%lld", &m->checked_at);
		else if (strcmp(line, "attempted_at") == 0)
			sscanf(eq, "%lld", &m->attempted_at);
		else if (strcmp(line, "failures") == 0)
			sscanf(eq, "%u", &m->failures);
		else if (strcmp(line, "error") == 0)
			str_copy(m->error, eq, sizeof(m->error));
	}
	m->ok = have_copy && have_inode && have_size && m->sha256[0] &&
		m->inode == (unsigned long long)copy_st->st_ino &&
		m->size == (unsigned long long)copy_st->st_size;
	if (!value_ok(m->etag))
		m->etag[0] = '\0';
	if (!value_ok(m->last_modified))
		m->last_modified[0] = '\0';
cleanup:
	free(buf);
	close(fd);
}

/* Write meta/NAME atomically (temp file, fsync, rename). Returns 0 or -errno. */
static int meta_write(const struct fetch_paths *p, const struct fetch_meta *m)
{
	char tmp[PATH_MAX];
	int fd, err = 0;
	FILE *f;

	str_copy(tmp, p->tmpl, sizeof(tmp));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	fprintf(f,
		"url=%s\netag=%s\nlast_modified=%s\nsha256=%s\nsize=%llu\ninode=%llu\n"
		"fetched_at=%lld\nchecked_at=%lld\nattempted_at=%lld\nfailures=%u\nerror=%s\n",
		m->url, m->etag, m->last_modified, m->sha256, m->size, m->inode, m->fetched_at,
		m->checked_at, m->attempted_at, m->failures, m->error);
	if (fflush(f) != 0 || fchmod(fileno(f), 0644) < 0 || fsync(fileno(f)) < 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, p->meta) < 0)
		err = -errno;
	if (!err)
		err = fsync_dir(p->metadir);
cleanup:
	if (err)
		unlink(tmp);
	return err;
}

/* "45 s", "12 min", "3 h 5 min", "4 days 2 h". */
static const char *fmt_age(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%lld s", s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lld min", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lld days %lld h", s / 86400, s % 86400 / 3600);
	return buf;
}

static const char *fmt_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "an unknown time");
	return buf;
}

static void result_from_meta(struct fetch_result *r, const struct fetch_meta *m, time_t now)
{
	long long since;

	r->fetched_at = (time_t)m->fetched_at;
	r->checked_at = (time_t)m->checked_at;
	r->attempted_at = (time_t)m->attempted_at;
	r->failures = m->failures;
	r->size = m->size;
	str_copy(r->sha256, m->sha256, sizeof(r->sha256));
	since = m->checked_at ? m->checked_at : m->fetched_at;
	r->age = since ? now - (time_t)since : 0;
	if (r->age < 0)
		r->age = 0;
}

/*
 * Is the copy in lists/NAME usable (as the fallback, and as the base of a conditional
 * request)? When the metadata does not describe it, describe it afresh (sha256, size, inode,
 * mtime as fetched_at, no validators); check it against the metadata's sha256 (when verify:
 * that reads the whole file) and the pin. Returns 0, -ENOENT (no copy) or -EBADMSG with why.
 */
static int check_copy(const struct cfg_list *l, const struct fetch_paths *p, struct fetch_meta *m,
		      bool verify, char *why, size_t why_len)
{
	struct stat st;
	char hex[65];
	int err;

	if (stat(p->copy, &st) < 0)
		return -errno;
	if (!m->ok || verify) {
		err = sha256_file(p->copy, hex);
		if (err) {
			say(why, why_len, "the last good copy %s cannot be read: %s", p->copy,
			    strerror(-err));
			return err;
		}
		if (m->ok && strcmp(hex, m->sha256) != 0) {
			say(why, why_len,
			    "the last good copy %s is damaged (its sha256 is %s, the "
			    "metadata recorded %s)",
			    p->copy, hex, m->sha256);
			/* Neither a fallback nor a base for conditional requests. */
			m->ok = false;
			m->etag[0] = m->last_modified[0] = '\0';
			return -EBADMSG;
		}
		if (!m->ok) {
			/* Describe it; its validators belonged to another copy. */
			m->etag[0] = m->last_modified[0] = '\0';
			str_copy(m->sha256, hex, sizeof(m->sha256));
			m->size = (unsigned long long)st.st_size;
			m->inode = (unsigned long long)st.st_ino;
			m->fetched_at = st.st_mtime;
			m->checked_at = 0;
			m->ok = true;
		}
	}
	if (l->sha256[0] && strcmp(m->sha256, l->sha256) != 0) {
		say(why, why_len,
		    "the last good copy %s does not match the sha256 pin (its sha256 is %s)",
		    p->copy, m->sha256);
		return -EBADMSG;
	}
	return 0;
}

int fetch_cached(const struct cfg_list *l, const char *state_dir, bool verify,
		 struct fetch_result *r)
{
	struct fetch_paths *p = NULL;
	struct fetch_meta *m = NULL;
	char why[768];
	struct stat st;
	int err;

	memset(r, 0, sizeof(*r));
	if (!list_name_ok(l->name)) {
		say(r->message, sizeof(r->message), "list '%s': not a usable list name", l->name);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	m = calloc(1, sizeof(*m));
	if (!p || !m) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = make_paths(state_dir, l->name, p);
	if (err) {
		say(r->message, sizeof(r->message), "list '%s': state_dir %s is too long", l->name,
		    state_dir);
		goto cleanup;
	}
	str_copy(r->path, p->copy, sizeof(r->path));
	if (stat(p->copy, &st) < 0) {
		err = -errno;
		say(r->message, sizeof(r->message), "list '%s': no copy of %s in %s: %s", l->name,
		    l->url ? l->url : "its URL", p->lists, strerror(-err));
		goto cleanup;
	}
	meta_read(p, &st, true, m);
	err = check_copy(l, p, m, verify, why, sizeof(why));
	if (err) {
		say(r->message, sizeof(r->message), "list '%s': %s", l->name, why);
		goto cleanup;
	}
	result_from_meta(r, m, time(NULL));
	r->status = FETCH_CACHED;
	say(r->message, sizeof(r->message), "list '%s': the copy %s (%llu bytes)", l->name, p->copy,
	    r->size);
cleanup:
	free(p);
	free(m);
	return err;
}

time_t fetch_next_due(const struct cfg_list *l, const struct fetch_result *r)
{
	time_t refresh = l->refresh ? (time_t)l->refresh : CFG_REFRESH_DEFAULT;
	time_t backoff = FETCH_BACKOFF_FIRST;
	unsigned int i;

	if (r->failures == 0)
		return r->checked_at ? r->checked_at + refresh : 0;
	for (i = 1; i < r->failures && backoff < refresh; i++)
		backoff *= 2;
	if (backoff > refresh)
		backoff = refresh;
	return r->attempted_at + backoff;
}

/* ---- the download ---- */

struct download {
	int fd;
	unsigned long long size, max;
	int err; /* set by the callbacks when they stop the transfer */
	char why[256];
	char etag[512]; /* of the last response (redirects reset them) */
	char last_modified[128];
	long long content_length; /* of the last response, -1: none */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct download *dl = ctx;
	size_t len = size * nmemb, done = 0;
	ssize_t n;

	if (dl->size + len > dl->max) {
		dl->err = -EFBIG;
		say(dl->why, sizeof(dl->why),
		    "the list is larger than max_size = %llu bytes (more was sent)", dl->max);
		return 0;
	}
	while (done < len) {
		n = write(dl->fd, data + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			dl->err = -errno;
			say(dl->why, sizeof(dl->why), "cannot write the download: %s",
			    strerror(-dl->err));
			return 0;
		}
		done += (size_t)n;
	}
	dl->size += len;
	return len;
}

/* Keep the value of `name:` in out, trimmed; the caller checked the name. */
static void header_value(const char *line, size_t len, size_t name_len, char *out, size_t out_len)
{
	const char *v = line + name_len, *end = line + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if ((size_t)(end - v) >= out_len) {
		out[0] = '\0'; /* too long to keep: no conditional request next time */
		return;
	}
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	if (!value_ok(out))
		out[0] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct download *dl = ctx;
	size_t len = size * nmemb;

	if (len >= 5 && strncasecmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 1xx): forget the last one's headers. */
		dl->etag[0] = dl->last_modified[0] = '\0';
		dl->content_length = -1;
	} else if (len > 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
		dl->content_length = strtoll(line + 15, NULL, 10);
	} else if (len > 5 && strncasecmp(line, "ETag:", 5) == 0) {
		header_value(line, len, 5, dl->etag, sizeof(dl->etag));
	} else if (len > 14 && strncasecmp(line, "Last-Modified:", 14) == 0) {
		header_value(line, len, 14, dl->last_modified, sizeof(dl->last_modified));
	}
	return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Does the URL's path (before ? and #) end in .gz? */
static bool url_is_gz(const char *url)
{
	size_t n = strcspn(url, "?#");

	return n >= 3 && strncasecmp(url + n - 3, ".gz", 3) == 0;
}

/*
 * One request of l->url into dl->fd. Returns 0 with *code the final HTTP status, or -errno
 * with why set.
 */
static int download(const struct cfg_list *l, const struct fetch_meta *m, bool conditional,
		    struct download *dl, long *code, char *why, size_t why_len)
{
	char errbuf[CURL_ERROR_SIZE] = "", hdr[700];
	unsigned long timeout = l->timeout ? l->timeout : CFG_TIMEOUT_DEFAULT;
	struct curl_slist *headers = NULL, *h;
	CURLcode rc;
	CURL *curl;
	int err = 0;

	*code = 0;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		say(why, why_len, "libcurl cannot start: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	curl = curl_easy_init();
	if (!curl) {
		say(why, why_len, "libcurl cannot start (out of memory?)");
		return -ENOMEM;
	}
	if (conditional && m->etag[0]) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", m->etag);
		h = curl_slist_append(headers, hdr);
		if (!h)
			goto nomem;
		headers = h;
	}
	if (conditional && m->last_modified[0]) {
		snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", m->last_modified);
		h = curl_slist_append(headers, hdr);
		if (!h)
			goto nomem;
		headers = h;
	}

	curl_easy_setopt(curl, CURLOPT_URL, l->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)dl->max);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, FETCH_USER_AGENT);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, dl);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, dl);
	if (headers)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
	if (!errbuf[0])
		str_copy(errbuf, curl_easy_strerror(rc), sizeof(errbuf));
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_WRITE_ERROR:
		if (dl->err) {
			err = dl->err;
			say(why, why_len, "%s", dl->why);
			break;
		}
		err = -EIO;
		say(why, why_len, "the transfer failed: %s", errbuf);
		break;
	case CURLE_FILESIZE_EXCEEDED:
		err = -EFBIG;
		say(why, why_len,
		    "the list is larger than max_size = %llu bytes (Content-Length %lld)", dl->max,
		    dl->content_length);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err = -ETIMEDOUT;
		say(why, why_len, "no complete answer within timeout = %lu s (%llu bytes came)",
		    timeout, dl->size);
		break;
	case CURLE_HTTP_RETURNED_ERROR:
		err = -EPROTO;
		say(why, why_len, "the server answered HTTP %ld", *code);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		err = -ENOENT;
		say(why, why_len, "the host name does not resolve (%s)", errbuf);
		break;
	case CURLE_COULDNT_CONNECT:
		err = -ECONNREFUSED;
		say(why, why_len, "the server is unreachable (%s)", errbuf);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNSUPPORTED_PROTOCOL:
		err = -EPROTO;
		say(why, why_len, "%s (only http and https, at most %d redirects)", errbuf,
		    FETCH_MAX_REDIRS);
		break;
	case CURLE_PARTIAL_FILE:
		err = -EIO;
		say(why, why_len, "the transfer was cut short (%s)", errbuf);
		break;
	default:
		err = -EIO;
		say(why, why_len, "the transfer failed: %s", errbuf);
		break;
	}
	goto cleanup;
nomem:
	err = -ENOMEM;
	say(why, why_len, "out of memory");
cleanup:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return err;
}

/*
 * After a successful 200: put the verified temp file in place (or drop it when it has the
 * same bytes as the copy) and describe it in m. Returns 0 with *changed, or -errno with why.
 */
static int install_copy(const struct fetch_paths *p, const char *tmp, int fd,
			const struct download *dl, const char *hex, struct fetch_meta *m,
			time_t now, bool *changed, char *why, size_t why_len)
{
	struct stat st;
	int err;

	*changed = !(m->ok && strcmp(m->sha256, hex) == 0 && m->size == dl->size);
	if (*changed) {
		if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0) {
			err = -errno;
			say(why, why_len, "cannot write %s: %s", tmp, strerror(-err));
			return err;
		}
		if (rename(tmp, p->copy) < 0) {
			err = -errno;
			say(why, why_len, "cannot rename %s to %s: %s", tmp, p->copy,
			    strerror(-err));
			return err;
		}
		fsync_dir(p->lists);
		m->inode = (unsigned long long)st.st_ino;
		m->size = dl->size;
		str_copy(m->sha256, hex, sizeof(m->sha256));
		m->fetched_at = now;
		m->ok = true;
	}
	str_copy(m->etag, dl->etag, sizeof(m->etag));
	str_copy(m->last_modified, dl->last_modified, sizeof(m->last_modified));
	return 0;
}

int fetch_list(const struct cfg_list *l, const char *state_dir, struct fetch_result *r)
{
	struct fetch_paths *p = NULL;
	struct fetch_meta *m = NULL;
	struct download dl = { .fd = -1, .content_length = -1 };
	char why[768] = "", copy_why[768] = "", tmp[PATH_MAX] = "", bad[PATH_MAX], hex[65];
	char when[64], age[64];
	bool have_copy, conditional = false, changed = false;
	int lock_fd = -1, err = 0, src_err = 0, copy_err;
	time_t now = time(NULL);
	struct stat st;

	memset(r, 0, sizeof(*r));
	if (!l->url || !list_name_ok(l->name) || !state_dir || !state_dir[0]) {
		say(r->message, sizeof(r->message),
		    "list '%s': fetch_list needs a url = list with a usable name and a "
		    "state_dir",
		    l->name);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	m = calloc(1, sizeof(*m));
	if (!p || !m) {
		err = -ENOMEM;
		say(r->message, sizeof(r->message), "list '%s': out of memory", l->name);
		goto cleanup;
	}
	if (make_paths(state_dir, l->name, p)) {
		err = -ENAMETOOLONG;
		say(r->message, sizeof(r->message),
		    "list '%s': state_dir %s is too long for the paths under it", l->name,
		    state_dir);
		goto cleanup;
	}
	str_copy(r->path, p->copy, sizeof(r->path));
	dl.max = l->max_size ? l->max_size : CFG_MAX_SIZE_DEFAULT;

	/* The directories and the lock: without them no download, but a copy may still serve. */
	if ((src_err = mkdir_p(p->lists, bad, sizeof(bad))) ||
	    (src_err = mkdir_p(p->metadir, bad, sizeof(bad))) ||
	    (src_err = mkdir_p(p->tmpdir, bad, sizeof(bad)))) {
		say(why, sizeof(why), "cannot create %s: %s (state_dir in [guard])", bad,
		    strerror(-src_err));
	} else {
		lock_fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
			src_err = -errno;
			say(why, sizeof(why), "cannot lock %s: %s", p->lock, strerror(-src_err));
		} else {
			remove_stale_temps(p, l->name);
		}
	}

	have_copy = stat(p->copy, &st) == 0;
	meta_read(p, &st, have_copy, m);
	m->attempted_at = now;
	/*
	 * Check the copy first (one read of it): a 304 must not confirm damaged bytes, and
	 * validators apply only to an intact copy of the same URL that the pin wants.
	 */
	copy_err = have_copy ? check_copy(l, p, m, true, copy_why, sizeof(copy_why)) : -ENOENT;
	conditional = !copy_err && strcmp(m->url, l->url) == 0 &&
		      (m->etag[0] || m->last_modified[0]);

	if (!src_err) {
		str_copy(tmp, p->tmpl, sizeof(tmp));
		dl.fd = mkostemp(tmp, O_CLOEXEC);
		if (dl.fd < 0) {
			src_err = -errno;
			say(why, sizeof(why), "cannot create a temp file in %s: %s", p->tmpdir,
			    strerror(-src_err));
			tmp[0] = '\0';
		}
	}
	if (!src_err)
		src_err = download(l, m, conditional, &dl, &r->http_code, why, sizeof(why));
	if (!src_err && r->http_code == 304) {
		if (!conditional) {
			src_err = -EPROTO;
			say(why, sizeof(why),
			    "the server answered 304 Not Modified to a request that was "
			    "not conditional");
		} else {
			/* A 304 may carry updated validators. */
			if (dl.etag[0])
				str_copy(m->etag, dl.etag, sizeof(m->etag));
			if (dl.last_modified[0])
				str_copy(m->last_modified, dl.last_modified,
					 sizeof(m->last_modified));
			r->status = FETCH_NOT_MODIFIED;
		}
	} else if (!src_err && r->http_code != 200) {
		src_err = -EPROTO;
		say(why, sizeof(why), "the server answered HTTP %ld (expected 200)", r->http_code);
	} else if (!src_err) {
		src_err = verify_file(dl.fd, url_is_gz(l->url), dl.max, hex, why, sizeof(why));
		if (!src_err && l->sha256[0] && strcmp(hex, l->sha256) != 0) {
			src_err = -EBADMSG;
			say(why, sizeof(why),
			    "its sha256 is %s, not the pinned %s (if the list changed on "
			    "purpose, update sha256 = in the config)",
			    hex, l->sha256);
		}
		if (!src_err)
			src_err = install_copy(p, tmp, dl.fd, &dl, hex, m, now, &changed, why,
					       sizeof(why));
		if (!src_err) {
			if (changed)
				tmp[0] = '\0'; /* renamed: nothing to remove */
			r->status = changed ? FETCH_NEW : FETCH_NOT_MODIFIED;
		}
	}
	if (dl.fd >= 0)
		close(dl.fd);
	if (tmp[0])
		unlink(tmp);

	if (!src_err) {
		str_copy(m->url, l->url, sizeof(m->url));
		m->checked_at = now;
		m->failures = 0;
		m->error[0] = '\0';
		err = meta_write(p, m);
		if (err)
			pr_warn("list '%s': cannot write the metadata %s: %s (the next fetch will "
				"not be conditional)\n",
				l->name, p->meta, strerror(-err));
		err = 0;
		result_from_meta(r, m, now);
		say(r->message, sizeof(r->message), "list '%s': %s %s (%llu bytes, HTTP %ld)",
		    l->name, r->status == FETCH_NEW ? "new copy of" : "no change in", l->url,
		    r->size, r->http_code);
		goto cleanup;
	}

	/* The source failed: fall back to the last good copy, if it is still good. */
	r->error = src_err;
	m->failures++;
	say(m->error, sizeof(m->error), "%s", why);
	err = copy_err;
	if (lock_fd >= 0)
		meta_write(p, m); /* attempt, failures and error; best effort */
	result_from_meta(r, m, now);
	if (err) {
		say(r->message, sizeof(r->message),
		    "list '%s': cannot fetch %s: %s; %s: the list cannot be loaded (check the "
		    "URL and the network, or give the list as path = with a local copy)",
		    l->name, l->url, why,
		    err == -ENOENT ? "there is no earlier copy in the state directory" : copy_why);
		err = src_err;
		r->path[0] = '\0';
		goto cleanup;
	}
	r->status = FETCH_STALE_COPY;
	say(r->message, sizeof(r->message),
	    "list '%s': cannot fetch %s: %s; using the last good copy %s (downloaded %s, "
	    "%s %s ago)",
	    l->name, l->url, why, p->copy, fmt_time(m->fetched_at, when, sizeof(when)),
	    m->checked_at ? "last confirmed current by the source" : "its metadata lost;",
	    fmt_age((long long)r->age, age, sizeof(age)));
	pr_warn("%s\n", r->message);
cleanup:
	if (lock_fd >= 0)
		close(lock_fd);
	free(p);
	free(m);
	return err;
}
