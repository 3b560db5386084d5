// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/fetch.c against a real HTTP server on 127.0.0.1 (tests/tools/
 * list_server.py, started here and killed by PID): first fetch stores the copy and its
 * metadata; the next one is conditional (If-None-Match / If-Modified-Since, as the server's
 * log shows) and gets 304; a failing source (HTTP 500, unreachable, too slow, too large, cut
 * short, corrupt gzip, a gzip bomb, sha256 mismatch, bad redirect) keeps the last good copy
 * with a warning, or is an error naming the URL when there is none; the copy in the state
 * directory is never seen half-written, even when the fetching process is killed. Also
 * SHA-256 test vectors and the refresh schedule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "user/fetch.h"

#define SERVER_SCRIPT "tests/tools/list_server.py"
#define PYTHON "/usr/bin/python3"

struct env {
	char dir[PATH_MAX]; /* everything of this run */
	char www[PATH_MAX]; /* what the server serves */
	char log[PATH_MAX]; /* the server's request log */
	pid_t server;
	int port;
};

static struct env *E;

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *path_of(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated; *len its size. NULL if it cannot be opened. */
static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Serve data as www/name, with mtime fixed (Last-Modified is whole seconds). */
static void serve(const char *name, const void *data, size_t len, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	char p[PATH_MAX];

	path_of(p, "%s/%s", E->www, name);
	write_file(p, data, len);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void serve_str(const char *name, const char *text, time_t mtime)
{
	serve(name, text, strlen(text), mtime);
}

/* The server's answer mode for www/name (see list_server.py); NULL: normal. */
static void set_mode(const char *name, const char *mode)
{
	char p[PATH_MAX];

	path_of(p, "%s/%s.mode", E->www, name);
	if (mode)
		write_file(p, mode, strlen(mode));
	else
		unlink(p);
}

/* A fresh state directory of this test. */
static const char *new_state(const char *tag, char *buf)
{
	path_of(buf, "%s/state-%s", E->dir, tag);
	rm_rf(buf);
	return buf;
}

struct list {
	struct cfg_list l;
	char url[512];
};

static void make_list(struct list *t, const char *name, const char *file)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->l.name, sizeof(t->l.name), "%s", name);
	snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d/%s", E->port, file);
	t->l.url = t->url;
	snprintf(t->l.category, sizeof(t->l.category), "test");
	t->l.refresh = 3600;
	t->l.max_size = 1 << 20;
	t->l.timeout = 10;
}

/* Lines of the server log for /file, in order; *n their count. */
static char **log_lines(const char *file, int *n)
{
	char *text = read_all(E->log, NULL), *line, *save = NULL, needle[300];
	char **out = NULL;
	int k = 0;

	*n = 0;
	if (!text)
		return NULL;
	snprintf(needle, sizeof(needle), "GET /%s ", file);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, needle, strlen(needle)) != 0)
			continue;
		out = realloc(out, sizeof(*out) * (size_t)(k + 1));
		assert_non_null(out);
		out[k] = strdup(line);
		assert_non_null(out[k]);
		k++;
	}
	free(text);
	*n = k;
	return out;
}

/* The last log line of /file; fails if there is none. Caller frees. */
static char *last_request(const char *file)
{
	char **lines, *last;
	int n, i;

	lines = log_lines(file, &n);
	assert_true(n > 0);
	last = lines[n - 1];
	for (i = 0; i < n - 1; i++)
		free(lines[i]);
	free(lines);
	return last;
}

static int count_requests(const char *file)
{
	char **lines;
	int n, i;

	lines = log_lines(file, &n);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return n;
}

/* The value of key= in the metadata file; "" when absent. */
static void meta_get(const char *state, const char *name, const char *key, char *out, size_t len)
{
	char p[PATH_MAX], *text, *line, *save = NULL;
	size_t kl = strlen(key);

	out[0] = '\0';
	text = read_all(path_of(p, "%s/meta/%s", state, name), NULL);
	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, kl) == 0 && line[kl] == '=')
			snprintf(out, len, "%s", line + kl + 1);
	free(text);
}

/* Rewrite key= in the metadata file (as an older fetch would have left it). */
static void meta_set(const char *state, const char *name, const char *key, const char *value)
{
	char p[PATH_MAX], *text, *line, *save = NULL, *out;
	size_t kl = strlen(key), off = 0, cap;

	text = read_all(path_of(p, "%s/meta/%s", state, name), NULL);
	assert_non_null(text);
	cap = strlen(text) + strlen(value) + 64;
	out = calloc(1, cap);
	assert_non_null(out);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=')
			off += (size_t)snprintf(out + off, cap - off, "%s=%s\n", key, value);
		else
			off += (size_t)snprintf(out + off, cap - off, "%s\n", line);
	}
	write_file(p, out, off);
	free(text);
	free(out);
}

/* Names in state/tmp other than lock files (downloads in progress or left behind). */
static int temp_files(const char *state)
{
	char p[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path_of(p, "%s/tmp", state));

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || (l > 5 && strcmp(de->d_name + l - 5, ".lock") == 0))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static void expect_copy(const char *state, const char *name, const void *data, size_t len)
{
	char p[PATH_MAX], *got;
	size_t n;

	got = read_all(path_of(p, "%s/lists/%s", state, name), &n);
	assert_non_null(got);
	assert_int_equal(n, len);
	assert_memory_equal(got, data, len);
	free(got);
}

static void sha_of(const void *data, size_t len, char hex[65])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_hex(&c, hex);
}

static int fetch(const struct list *t, const char *state, struct fetch_result *r)
{
	int rc = fetch_list(&t->l, state, r);

	print_message("# fetch %s: rc %d status %d http %ld error %d: %s\n", t->l.name, rc,
		      r->status, r->http_code, r->error, r->message);
	return rc;
}

static void expect_stale(const struct list *t, const char *state, int error, const char *why)
{
	struct fetch_result r;
	char p[PATH_MAX];

	assert_int_equal(fetch(t, state, &r), 0);
	assert_int_equal(r.status, FETCH_STALE_COPY);
	assert_int_equal(r.error, error);
	assert_string_equal(r.path, path_of(p, "%s/lists/%s", state, t->l.name));
	assert_non_null(strstr(r.message, t->url));
	assert_non_null(strstr(r.message, why));
	assert_non_null(strstr(r.message, "using the last good copy"));
	assert_non_null(strstr(r.message, p));
	assert_int_equal(temp_files(state), 0);
}

static void expect_error(const struct list *t, const char *state, int error, const char *why)
{
	struct fetch_result r;
	char p[PATH_MAX];

	assert_int_equal(fetch(t, state, &r), error);
	assert_int_equal(r.error, error);
	assert_non_null(strstr(r.message, t->url));
	assert_non_null(strstr(r.message, why));
	assert_null(strstr(r.message, "using the last good copy"));
	assert_int_equal(temp_files(state), 0);
	(void)p;
}

/* A gzip file of text, in members of at most member bytes of input each. */
static unsigned char *gzip_of(const char *text, size_t member, size_t *out_len)
{
	size_t len = strlen(text), off = 0, cap = len + 1024 * (len / member + 2), n = 0;
	unsigned char *out = malloc(cap);

	assert_non_null(out);
	do {
		size_t take = len - off < member ? len - off : member;
		z_stream z = { 0 };

		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
					      Z_DEFAULT_STRATEGY),
				 Z_OK);
		z.next_in = (unsigned char *)text + off;
		z.avail_in = (uInt)take;
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		n = cap - z.avail_out;
		deflateEnd(&z);
		off += take;
	} while (off < len);
	*out_len = n;
	return out;
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- the server ---- */

static int setup(void **state)
{
	static const char *const proxies[] = { "http_proxy",  "HTTP_PROXY", "https_proxy",
					       "HTTPS_PROXY", "all_proxy",  "ALL_PROXY" };
	char portfile[PATH_MAX], *text;
	size_t i;
	int tries;

	(void)state;
	/* The requests go to 127.0.0.1 directly, whatever proxy the environment names. */
	for (i = 0; i < ARRAY_SIZE(proxies); i++)
		unsetenv(proxies[i]);
	E = calloc(1, sizeof(*E));
	if (!E)
		return -1;
	snprintf(E->dir, sizeof(E->dir), "/tmp/bpfguard-fetch.XXXXXX");
	if (!mkdtemp(E->dir))
		return -1;
	path_of(E->www, "%s/www", E->dir);
	path_of(E->log, "%s/server.log", E->dir);
	path_of(portfile, "%s/port", E->dir);
	if (mkdir(E->www, 0755) < 0)
		return -1;
	if (access(SERVER_SCRIPT, R_OK) < 0) {
		fprintf(stderr, "# %s not found: run the tests from the top of the tree\n",
			SERVER_SCRIPT);
		return -1;
	}
	E->server = fork();
	if (E->server < 0)
		return -1;
	if (E->server == 0) {
		/* Gone with the test, even if the test is killed before its teardown. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(PYTHON, PYTHON, SERVER_SCRIPT, "--root", E->www, "--port-file", portfile,
		      "--log", E->log, (char *)NULL);
		_exit(127);
	}
	for (tries = 0; tries < 200; tries++) {
		text = read_all(portfile, NULL);
		if (text) {
			E->port = atoi(text);
			free(text);
			break;
		}
		if (waitpid(E->server, NULL, WNOHANG) == E->server) {
			E->server = 0;
			fprintf(stderr, "# the list server exited at start\n");
			return -1;
		}
		usleep(50 * 1000);
	}
	if (E->port <= 0) {
		fprintf(stderr, "# the list server did not start within 10 s\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!E)
		return 0;
	if (E->server > 0) {
		kill(E->server, SIGTERM);
		waitpid(E->server, NULL, 0);
	}
	rm_rf(E->dir);
	free(E);
	E = NULL;
	return 0;
}

/* ---- tests ---- */

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmn"
		  "opqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	struct sha256_ctx c;
	char hex[65], p[PATH_MAX], *a;
	size_t i, off, step;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		sha_of(v[i].in, strlen(v[i].in), hex);
		assert_string_equal(hex, v[i].hex);
	}
	/* One million 'a', fed in uneven pieces (block boundaries crossed every way). */
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	sha256_init(&c);
	for (off = 0, step = 1; off < 1000000; off += step, step = step % 131 + 7)
		sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
	sha256_hex(&c, hex);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* And from a file. */
	write_file(path_of(p, "%s/million-a", E->dir), a, 1000000);
	assert_int_equal(sha256_file(p, hex), 0);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_int_equal(sha256_file(path_of(p, "%s/absent", E->dir), hex), -ENOENT);
	free(a);
}

/* First fetch: copy and metadata stored. Second: If-None-Match, 304. Then new content. */
static void test_first_fetch_then_304(void **state)
{
	const char *v1 = "# list one\nbad.example\n192.0.2.0/24\n";
	const char *v2 = "# list two\nbad.example\nworse.example\n";
	char st[PATH_MAX], p[PATH_MAX], val[600], hex[65], *line;
	struct fetch_result r;
	struct stat sb1, sb2;
	struct list t;
	time_t t0 = time(NULL);

	(void)state;
	new_state("first", st);
	serve_str("first.txt", v1, 1700000000);
	make_list(&t, "first", "first.txt");

	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	assert_int_equal(r.http_code, 200);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.failures, 0);
	assert_string_equal(r.path, path_of(p, "%s/lists/first", st));
	expect_copy(st, "first", v1, strlen(v1));
	sha_of(v1, strlen(v1), hex);
	assert_string_equal(r.sha256, hex);
	assert_true(r.size == strlen(v1));
	assert_true(r.fetched_at >= t0 && r.fetched_at <= time(NULL));
	assert_true(r.checked_at == r.fetched_at);
	assert_true(r.age <= 1);
	/* The metadata: ETag and Last-Modified as the server sent them, sha256, times. */
	meta_get(st, "first", "etag", val, sizeof(val));
	assert_int_equal(strlen(val), 18);
	assert_true(val[0] == '"' && val[17] == '"');
	meta_get(st, "first", "last_modified", val, sizeof(val));
	assert_string_equal(val, "Tue, 14 Nov 2023 22:13:20 GMT");
	meta_get(st, "first", "sha256", val, sizeof(val));
	assert_string_equal(val, hex);
	meta_get(st, "first", "url", val, sizeof(val));
	assert_string_equal(val, t.url);
	meta_get(st, "first", "fetched_at", val, sizeof(val));
	assert_true(atoll(val) == (long long)r.fetched_at);
	meta_get(st, "first", "size", val, sizeof(val));
	assert_true(strtoull(val, NULL, 10) == strlen(v1));
	assert_int_equal(temp_files(st), 0);
	line = last_request("first.txt");
	assert_non_null(strstr(line, "inm=- ims=- -> 200"));
	free(line);
	assert_int_equal(stat(p, &sb1), 0);
	assert_int_equal(sb1.st_mode & 0777, 0644);

	/* Second fetch: conditional, 304, the copy untouched (same inode, same bytes). */
	meta_get(st, "first", "etag", val, sizeof(val));
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NOT_MODIFIED);
	assert_int_equal(r.http_code, 304);
	assert_string_equal(r.sha256, hex);
	line = last_request("first.txt");
	assert_non_null(strstr(line, val)); /* If-None-Match: the stored ETag */
	assert_non_null(strstr(line, "ims=Tue, 14 Nov 2023 22:13:20 GMT"));
	assert_non_null(strstr(line, "-> 304"));
	free(line);
	assert_int_equal(stat(p, &sb2), 0);
	assert_true(sb1.st_ino == sb2.st_ino);
	expect_copy(st, "first", v1, strlen(v1));
	assert_int_equal(count_requests("first.txt"), 2);

	/* The list changes on the server: a conditional request that gets 200 and new bytes. */
	serve_str("first.txt", v2, 1700003600);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	line = last_request("first.txt");
	assert_non_null(strstr(line, val)); /* the old ETag was sent */
	assert_non_null(strstr(line, "-> 200"));
	free(line);
	expect_copy(st, "first", v2, strlen(v2));
	meta_get(st, "first", "last_modified", val, sizeof(val));
	assert_string_equal(val, "Tue, 14 Nov 2023 23:13:20 GMT");
	sha_of(v2, strlen(v2), hex);
	assert_string_equal(r.sha256, hex);

	/* A 200 with the same bytes (a server that ignores validators) is no change. */
	meta_set(st, "first", "etag", "\"something-else\"");
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NOT_MODIFIED);
	assert_int_equal(r.http_code, 200);
	assert_int_equal(temp_files(st), 0);
	expect_copy(st, "first", v2, strlen(v2));
}

/* A server without ETag: If-Modified-Since with the stored Last-Modified, and 304. */
static void test_last_modified_only(void **state)
{
	const char *v1 = "lm.example\n";
	char st[PATH_MAX], val[200], *line;
	struct fetch_result r;
	struct list t;

	(void)state;
	new_state("lm", st);
	serve_str("lm.txt", v1, 1600000000);
	set_mode("lm.txt", "noetag");
	make_list(&t, "lm", "lm.txt");
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	meta_get(st, "lm", "etag", val, sizeof(val));
	assert_string_equal(val, "");
	meta_get(st, "lm", "last_modified", val, sizeof(val));
	assert_string_equal(val, "Sun, 13 Sep 2020 12:26:40 GMT");

	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NOT_MODIFIED);
	assert_int_equal(r.http_code, 304);
	line = last_request("lm.txt");
	assert_non_null(strstr(line, "inm=- ims=Sun, 13 Sep 2020 12:26:40 GMT -> 304"));
	free(line);

	/* Modified later: 200 and the new copy. */
	serve_str("lm.txt", "lm2.example\n", 1600000600);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "lm", "lm2.example\n", 12);
	set_mode("lm.txt", NULL);
}

/* The source fails: the last good copy is used, with a warning that says how old it is. */
static void test_failing_source_keeps_copy(void **state)
{
	const char *v1 = "keep.example\n";
	char st[PATH_MAX], val[64], num[32];
	struct fetch_result r;
	struct list t, moved;
	time_t now;

	(void)state;
	new_state("keep", st);
	serve_str("keep.txt", v1, 1700000000);
	make_list(&t, "keep", "keep.txt");
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);

	/* HTTP 500. */
	set_mode("keep.txt", "500");
	expect_stale(&t, st, -EPROTO, "HTTP 500");
	expect_copy(st, "keep", v1, strlen(v1));
	meta_get(st, "keep", "failures", val, sizeof(val));
	assert_string_equal(val, "1");
	meta_get(st, "keep", "error", val, sizeof(val));
	assert_non_null(strstr(val, "HTTP 500"));

	/* The age in the warning: the copy was last confirmed 2 hours ago. */
	now = time(NULL);
	snprintf(num, sizeof(num), "%lld", (long long)now - 7200);
	meta_set(st, "keep", "checked_at", num);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_STALE_COPY);
	assert_true(r.age >= 7200 && r.age <= 7205);
	assert_non_null(strstr(r.message, "last confirmed current by the source 2 h 0 min ago"));
	assert_int_equal(r.failures, 2);
	/* Retries come sooner than the refresh interval, backing off: 60 s, then 120 s. */
	assert_true(fetch_next_due(&t.l, &r) == r.attempted_at + 120);

	/* Unreachable (nothing listens on the port): the same copy. */
	make_list(&moved, "keep", "keep.txt");
	snprintf(moved.url, sizeof(moved.url), "http://127.0.0.1:%d/keep.txt", closed_port());
	expect_stale(&moved, st, -ECONNREFUSED, "unreachable");
	expect_copy(st, "keep", v1, strlen(v1));

	/* The source is back: the copy is confirmed, the failures forgotten. */
	set_mode("keep.txt", NULL);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NOT_MODIFIED);
	assert_int_equal(r.failures, 0);
	assert_true(r.age <= 1);
	assert_true(fetch_next_due(&t.l, &r) == r.checked_at + 3600);
	meta_get(st, "keep", "error", val, sizeof(val));
	assert_string_equal(val, "");
}

/* No copy at all and the source fails: an error naming the URL and the reason. */
static void test_no_copy_is_error(void **state)
{
	char st[PATH_MAX], p[PATH_MAX];
	struct list t;

	(void)state;
	new_state("none", st);
	serve_str("none.txt", "x.example\n", 1700000000);
	set_mode("none.txt", "500");
	make_list(&t, "none", "none.txt");
	expect_error(&t, st, -EPROTO, "HTTP 500");
	expect_error(&t, st, -EPROTO, "no earlier copy");
	assert_int_equal(access(path_of(p, "%s/lists/none", st), F_OK), -1);
	set_mode("none.txt", NULL);

	make_list(&t, "missing", "does-not-exist.txt");
	expect_error(&t, st, -EPROTO, "HTTP 404");

	make_list(&t, "refused", "none.txt");
	snprintf(t.url, sizeof(t.url), "http://127.0.0.1:%d/none.txt", closed_port());
	expect_error(&t, st, -ECONNREFUSED, "unreachable");
	assert_int_equal(access(path_of(p, "%s/lists/refused", st), F_OK), -1);

	/* Not a url = list, or a name that would leave lists/. */
	make_list(&t, "..", "none.txt");
	{
		struct fetch_result r;

		assert_int_equal(fetch_list(&t.l, st, &r), -EINVAL);
		t.l.url = NULL;
		snprintf(t.l.name, sizeof(t.l.name), "nourl");
		assert_int_equal(fetch_list(&t.l, st, &r), -EINVAL);
	}
}

/* sha256 = pins the content: a mismatch is an error and the download is not used. */
static void test_sha256_pin(void **state)
{
	const char *v1 = "pinned.example\n", *v2 = "changed.example\n";
	char st[PATH_MAX], h1[65], h2[65], *line;
	struct fetch_result r;
	struct list t;

	(void)state;
	new_state("pin", st);
	sha_of(v1, strlen(v1), h1);
	sha_of(v2, strlen(v2), h2);
	serve_str("pin.txt", v1, 1700000000);
	make_list(&t, "pin", "pin.txt");
	snprintf(t.l.sha256, sizeof(t.l.sha256), "%s", h1);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	assert_string_equal(r.sha256, h1);

	/* The list changes under the pin: refused, the pinned copy stays. */
	serve_str("pin.txt", v2, 1700000100);
	expect_stale(&t, st, -EBADMSG, h2);
	expect_copy(st, "pin", v1, strlen(v1));
	assert_non_null(strstr(r.message, "") /* (message checked in expect_stale) */);

	/* No copy and a wrong pin: an error. */
	{
		char st2[PATH_MAX];

		new_state("pin2", st2);
		expect_error(&t, st2, -EBADMSG, "not the pinned");
	}

	/* The operator updates the pin: the old copy's validators do not apply (unconditional
	 * request), the new content is taken. */
	snprintf(t.l.sha256, sizeof(t.l.sha256), "%s", h2);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	line = last_request("pin.txt");
	assert_non_null(strstr(line, "inm=- ims=- -> 200"));
	free(line);
	expect_copy(st, "pin", v2, strlen(v2));

	/* A pin that the copy does not match and a failing source: the copy is not used. */
	snprintf(t.l.sha256, sizeof(t.l.sha256), "%s", h1);
	set_mode("pin.txt", "500");
	expect_error(&t, st, -EPROTO, "does not match the sha256 pin");
	set_mode("pin.txt", NULL);
}

static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = (i % 64 == 63) ? '\n' : c;
	s[n] = '\0';
	return s;
}

/* max_size: by Content-Length, and by counting when there is none. */
static void test_size_limit(void **state)
{
	char st[PATH_MAX], st2[PATH_MAX];
	char *small = filled(1000, 'a'), *big = filled(4096, 'b');
	struct fetch_result r;
	struct list t;

	(void)state;
	new_state("size", st);
	serve_str("size.txt", small, 1700000000);
	make_list(&t, "size", "size.txt");
	t.l.max_size = 1000; /* exactly the size: allowed */
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);

	serve_str("size.txt", big, 1700000100);
	expect_stale(&t, st, -EFBIG, "larger than max_size = 1000 bytes (Content-Length 4096)");
	expect_copy(st, "size", small, 1000);

	set_mode("size.txt", "nolen");
	expect_stale(&t, st, -EFBIG, "larger than max_size = 1000 bytes (more was sent)");
	expect_copy(st, "size", small, 1000);

	new_state("size2", st2);
	expect_error(&t, st2, -EFBIG, "max_size");

	/* Without Content-Length and within the limit: taken. */
	t.l.max_size = 4096;
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "size", big, 4096);
	set_mode("size.txt", NULL);
	free(small);
	free(big);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* timeout: a server that stalls mid-body is given up after the limit, the copy stays. */
static void test_time_limit(void **state)
{
	char st[PATH_MAX], st2[PATH_MAX];
	char *v1 = filled(300, 'c'), *v2 = filled(300, 'd');
	struct fetch_result r;
	struct list t;
	double t0, dt;

	(void)state;
	new_state("slow", st);
	serve_str("slow.txt", v1, 1700000000);
	make_list(&t, "slow", "slow.txt");
	t.l.timeout = 1;
	assert_int_equal(fetch(&t, st, &r), 0);

	serve_str("slow.txt", v2, 1700000100);
	set_mode("slow.txt", "slow");
	t0 = mono();
	expect_stale(&t, st, -ETIMEDOUT, "no complete answer within timeout = 1 s (10 bytes came)");
	dt = mono() - t0;
	print_message("# gave up after %.2f s\n", dt);
	assert_true(dt >= 0.9 && dt < 4.0);
	expect_copy(st, "slow", v1, 300);

	new_state("slow2", st2);
	t0 = mono();
	expect_error(&t, st2, -ETIMEDOUT, "timeout = 1 s");
	assert_true(mono() - t0 < 4.0);
	set_mode("slow.txt", NULL);
	free(v1);
	free(v2);
}

/*
 * gzip: a good .gz is stored as is; a corrupt one (bad CRC, cut short, not gzip) is not, nor
 * one that inflates to more than 16 times max_size.
 */
static void test_gzip_integrity(void **state)
{
	char st[PATH_MAX], st2[PATH_MAX], *text = filled(20000, 'g');
	unsigned char *gz, *multi, *bad;
	size_t gz_len, multi_len;
	struct fetch_result r;
	struct list t, magic;

	(void)state;
	new_state("gz", st);
	gz = gzip_of(text, 1 << 30, &gz_len);
	multi = gzip_of(text, 7000, &multi_len); /* three members, as pigz or cat a.gz b.gz */
	serve("gz.txt.gz", gz, gz_len, 1700000000);
	make_list(&t, "gz", "gz.txt.gz");
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "gz", gz, gz_len); /* stored compressed, as published */

	serve("gz.txt.gz", multi, multi_len, 1700000100);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "gz", multi, multi_len);

	/* A flipped byte inside the deflate data. */
	bad = malloc(gz_len);
	assert_non_null(bad);
	memcpy(bad, gz, gz_len);
	bad[gz_len / 2] ^= 0x55;
	serve("gz.txt.gz", bad, gz_len, 1700000200);
	expect_stale(&t, st, -EBADMSG, "the gzip data is corrupt");
	expect_copy(st, "gz", multi, multi_len);

	/* A wrong CRC in the trailer. */
	memcpy(bad, gz, gz_len);
	bad[gz_len - 6] ^= 0x01;
	serve("gz.txt.gz", bad, gz_len, 1700000300);
	expect_stale(&t, st, -EBADMSG, "incorrect data check");

	/* Cut short. */
	serve("gz.txt.gz", gz, gz_len - 20, 1700000400);
	expect_stale(&t, st, -EBADMSG, "cut short");

	/* Garbage after the last member. */
	memcpy(bad, gz, gz_len);
	serve("gz.txt.gz", multi, multi_len, 1700000500);
	{
		unsigned char *tail = malloc(multi_len + 8);

		assert_non_null(tail);
		memcpy(tail, multi, multi_len);
		memcpy(tail + multi_len, "garbage!", 8);
		serve("gz.txt.gz", tail, multi_len + 8, 1700000600);
		free(tail);
	}
	expect_stale(&t, st, -EBADMSG, "corrupt");

	/* A .gz URL that serves plain text (an error page, say). */
	serve_str("gz.txt.gz", "<html>oops</html>\n", 1700000700);
	expect_stale(&t, st, -EBADMSG, "not gzip (it starts 3c 68");
	expect_copy(st, "gz", multi, multi_len);

	/*
	 * Inflating to more than 16 times max_size (20000 bytes: 'g's compress ~400 times): a
	 * gzip bomb is refused, the copy stays; 16 times is still taken.
	 */
	t.l.max_size = 1249;
	serve("gz.txt.gz", gz, gz_len, 1700000750);
	expect_stale(&t, st, -EFBIG, "inflates to more than 19984 bytes (16 times max_size)");
	expect_copy(st, "gz", multi, multi_len);
	t.l.max_size = 1250;
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "gz", gz, gz_len);
	t.l.max_size = 1 << 20;

	/* Without .gz in the URL, the gzip magic alone makes the data checked. */
	new_state("gz2", st2);
	memcpy(bad, gz, gz_len);
	bad[gz_len / 2] ^= 0x55;
	serve("magic.bin", bad, gz_len, 1700000800);
	make_list(&magic, "magic", "magic.bin");
	expect_error(&magic, st2, -EBADMSG, "the gzip data is corrupt");
	serve("magic.bin", gz, gz_len, 1700000900);
	assert_int_equal(fetch(&magic, st2, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	free(gz);
	free(multi);
	free(bad);
	free(text);
}

/* A body cut short of its Content-Length, and redirects (followed; only to http/https). */
static void test_short_body_and_redirects(void **state)
{
	char st[PATH_MAX], target[300];
	const char *v1 = "redir.example\n";
	struct fetch_result r;
	struct list t, moved;

	(void)state;
	new_state("short", st);
	serve_str("short.txt", "a.example\nb.example\nc.example\n", 1700000000);
	make_list(&t, "short", "short.txt");
	assert_int_equal(fetch(&t, st, &r), 0);
	serve_str("short.txt", "d.example\ne.example\nf.example\n", 1700000100);
	set_mode("short.txt", "short");
	expect_stale(&t, st, -EIO, "cut short");
	expect_copy(st, "short", "a.example\nb.example\nc.example\n", 30);
	set_mode("short.txt", NULL);

	/* /moved.txt redirects to /redir.txt: the target's bytes and ETag are kept. */
	serve_str("redir.txt", v1, 1700000000);
	serve_str("moved.txt", "unused\n", 1700000000);
	snprintf(target, sizeof(target), "http://127.0.0.1:%d/redir.txt", E->port);
	set_mode("moved.txt", target);
	{
		char mode[400];

		snprintf(mode, sizeof(mode), "redirect %s", target);
		set_mode("moved.txt", mode);
	}
	make_list(&moved, "moved", "moved.txt");
	assert_int_equal(fetch(&moved, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	expect_copy(st, "moved", v1, strlen(v1));
	assert_int_equal(fetch(&moved, st, &r), 0);
	assert_int_equal(r.status, FETCH_NOT_MODIFIED);
	assert_int_equal(r.http_code, 304);

	/* A redirect to file:// is refused. */
	set_mode("moved.txt", "redirect file:///etc/hostname");
	expect_stale(&moved, st, -EPROTO, "only http and https");
	expect_copy(st, "moved", v1, strlen(v1));
	set_mode("moved.txt", NULL);
}

/*
 * The copy is never half-written: while a slow download of new content runs (in a child), the
 * copy read over and over is always exactly the old or the new bytes, and the download goes to
 * a temp file. A fetch killed mid-download leaves the old copy whole; the next fetch removes
 * the temp file it left.
 */
static void test_never_half_written(void **state)
{
	char st[PATH_MAX], p[PATH_MAX];
	char *v1 = filled(256 * 1024, 'o'), *v2 = filled(300 * 1024, 'n'), *got;
	int seen_old = 0, seen_new = 0, seen_temp = 0, torn = 0, status, i;
	struct fetch_result r;
	size_t n;
	struct list t;
	pid_t child;

	(void)state;
	new_state("atomic", st);
	serve_str("atomic.txt", v1, 1700000000);
	make_list(&t, "atomic", "atomic.txt");
	assert_int_equal(fetch(&t, st, &r), 0);
	path_of(p, "%s/lists/atomic", st);

	serve_str("atomic.txt", v2, 1700000100);
	set_mode("atomic.txt", "trickle 0.05");
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fetch_result cr;
		int rc = fetch_list(&t.l, st, &cr);

		_exit(rc == 0 && cr.status == FETCH_NEW ? 0 : 1);
	}
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);

		got = read_all(p, &n);
		assert_non_null(got);
		if (n == strlen(v1) && memcmp(got, v1, n) == 0)
			seen_old++;
		else if (n == strlen(v2) && memcmp(got, v2, n) == 0)
			seen_new++;
		else
			torn++;
		free(got);
		if (temp_files(st))
			seen_temp++;
		if (w == child)
			break;
		usleep(2000);
	}
	print_message("# reads: %d old, %d new, %d neither; a temp file seen %d times\n", seen_old,
		      seen_new, torn, seen_temp);
	assert_int_equal(torn, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(seen_old > 10);
	assert_true(seen_temp > 10);
	expect_copy(st, "atomic", v2, strlen(v2));
	assert_int_equal(temp_files(st), 0);

	/* Killed mid-download: the copy stays whole, a temp file stays behind. */
	serve_str("atomic.txt", v1, 1700000200);
	set_mode("atomic.txt", "trickle 0.2");
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fetch_result cr;

		fetch_list(&t.l, st, &cr);
		_exit(0);
	}
	for (i = 0; i < 500 && !temp_files(st); i++)
		usleep(10000);
	assert_true(temp_files(st) == 1);
	usleep(300000); /* some of the body is in the temp file */
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_true(WIFSIGNALED(status));
	expect_copy(st, "atomic", v2, strlen(v2));
	assert_int_equal(temp_files(st), 1);

	set_mode("atomic.txt", NULL);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	assert_int_equal(temp_files(st), 0);
	expect_copy(st, "atomic", v1, strlen(v1));
	free(v1);
	free(v2);
}

/*
 * The metadata must describe the copy: a copy replaced behind its back (as by a crash between
 * the two renames) is fetched unconditionally, and a damaged copy is not used.
 */
static void test_metadata_and_damage(void **state)
{
	const char *v1 = "meta.example\n";
	char st[PATH_MAX], p[PATH_MAX], hex[65], *line;
	struct fetch_result r;
	struct list t;
	int fd;

	(void)state;
	new_state("meta", st);
	serve_str("meta.txt", v1, 1700000000);
	make_list(&t, "meta", "meta.txt");
	assert_int_equal(fetch_cached(&t.l, st, true, &r), -ENOENT);
	assert_int_equal(fetch(&t, st, &r), 0);

	assert_int_equal(fetch_cached(&t.l, st, true, &r), 0);
	assert_int_equal(r.status, FETCH_CACHED);
	sha_of(v1, strlen(v1), hex);
	assert_string_equal(r.sha256, hex);
	assert_string_equal(r.path, path_of(p, "%s/lists/meta", st));

	/* A new file in place of the copy (another inode): the metadata is not trusted. */
	unlink(p);
	write_file(p, "other.example\n", 14);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	line = last_request("meta.txt");
	assert_non_null(strstr(line, "inm=- ims=- -> 200"));
	free(line);
	expect_copy(st, "meta", v1, strlen(v1));

	/* The copy damaged in place (same inode and size): found when it is needed. */
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "M", 1, 0), 1);
	close(fd);
	assert_int_equal(fetch_cached(&t.l, st, false, &r), 0);
	assert_int_equal(fetch_cached(&t.l, st, true, &r), -EBADMSG);
	assert_non_null(strstr(r.message, "damaged"));
	set_mode("meta.txt", "500");
	expect_error(&t, st, -EPROTO, "is damaged");

	/* With the source back, no 304 confirms the damaged bytes: an unconditional request
	 * replaces them. */
	set_mode("meta.txt", NULL);
	assert_int_equal(fetch(&t, st, &r), 0);
	assert_int_equal(r.status, FETCH_NEW);
	line = last_request("meta.txt");
	assert_non_null(strstr(line, "inm=- ims=- -> 200"));
	free(line);
	expect_copy(st, "meta", v1, strlen(v1));

	/* A pin the cached copy does not match. */
	snprintf(t.l.sha256, sizeof(t.l.sha256), "%064d", 0);
	assert_int_equal(fetch_cached(&t.l, st, false, &r), -EBADMSG);
	assert_non_null(strstr(r.message, "sha256 pin"));
}

/* A state directory that cannot be created: no download, an error naming it. */
static void test_state_dir_unusable(void **state)
{
	char st[PATH_MAX], p[PATH_MAX];
	struct list t;

	(void)state;
	serve_str("sd.txt", "sd.example\n", 1700000000);
	make_list(&t, "sd", "sd.txt");
	/* A regular file where the state directory should be. */
	write_file(path_of(p, "%s/not-a-dir", E->dir), "x", 1);
	path_of(st, "%s/not-a-dir/state", E->dir);
	expect_error(&t, st, -ENOTDIR, "cannot create");
	assert_int_equal(count_requests("sd.txt"), 0);
}

/* The refresh schedule. */
static void test_next_due(void **state)
{
	struct cfg_list l = { .refresh = 3600 };
	struct fetch_result r = { 0 };

	(void)state;
	assert_true(fetch_next_due(&l, &r) == 0); /* never fetched: now */
	r.checked_at = 1000000;
	r.attempted_at = 1000000;
	assert_true(fetch_next_due(&l, &r) == 1000000 + 3600);
	r.attempted_at = 1000500;
	r.failures = 1;
	assert_true(fetch_next_due(&l, &r) == 1000500 + 60);
	r.failures = 2;
	assert_true(fetch_next_due(&l, &r) == 1000500 + 120);
	r.failures = 6;
	assert_true(fetch_next_due(&l, &r) == 1000500 + 1920);
	r.failures = 7;
	assert_true(fetch_next_due(&l, &r) == 1000500 + 3600); /* capped at refresh */
	r.failures = 1000;
	assert_true(fetch_next_due(&l, &r) == 1000500 + 3600);
	l.refresh = 0; /* unset: the default of 6 h */
	r.failures = 0;
	assert_true(fetch_next_due(&l, &r) == 1000000 + 6 * 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_first_fetch_then_304),
		cmocka_unit_test(test_last_modified_only),
		cmocka_unit_test(test_failing_source_keeps_copy),
		cmocka_unit_test(test_no_copy_is_error),
		cmocka_unit_test(test_sha256_pin),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_time_limit),
		cmocka_unit_test(test_gzip_integrity),
		cmocka_unit_test(test_short_body_and_redirects),
		cmocka_unit_test(test_never_half_written),
		cmocka_unit_test(test_metadata_and_damage),
		cmocka_unit_test(test_state_dir_unusable),
		cmocka_unit_test(test_next_due),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
