// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP request parser of bpf/lib/http.h, compiled on the host: fixtures (every method,
 * Host in any case with or without a port or whitespace, absolute-form and CONNECT targets,
 * no host, IP literals, limits), every cut of every fixture, the bytes that end a host
 * (http_host_stops) against their definition, and a differential test against a plain
 * reference parser written here with string functions, over randomly mutated requests.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <strings.h>
#include <cmocka.h>
#include "bpf/lib/http.h"

#define ERR(c) (-(int)GC_##c)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct http_fixture {
	const char *desc;
	const char *req;
	int ret;
	const char *host; /* the name expected (dotted, lower case) when ret == 0 */
};

/* clang-format off */
static const struct http_fixture fixtures[] = {
	{ "GET with Host", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "example.com" },
	{ "Host with a port", "GET /x HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 0,
	  "example.com" },
	{ "host: in lower case, no space", "POST /a HTTP/1.1\r\nhost:Example.COM\r\n\r\n", 0,
	  "example.com" },
	{ "HOST: with tabs and spaces", "PUT /a HTTP/1.0\r\nHOST: \t  www.Example.org\r\n\r\n", 0,
	  "www.example.org" },
	{ "Host after other headers",
	  "GET /index.html?q=1 HTTP/1.1\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n"
	  "X-Host: decoy.example\r\nHostname: decoy2.example\r\nHost: real.example.net\r\n\r\n",
	  0, "real.example.net" },
	{ "Host with a trailing dot", "HEAD / HTTP/1.1\r\nHost: example.com.\r\n\r\n", 0,
	  "example.com" },
	{ "Host ends at LF only", "GET / HTTP/1.1\nHost: lf.example\n\n", 0, "lf.example" },
	{ "absolute-form http", "GET http://Abs.Example.com/path HTTP/1.1\r\nHost: other.example"
	  "\r\n\r\n", 0, "abs.example.com" },
	{ "absolute-form HTTPS with a port", "GET HTTPS://x.example:443/ HTTP/1.1\r\n\r\n", 0,
	  "x.example" },
	{ "absolute-form without a path", "OPTIONS http://bare.example HTTP/1.1\r\n\r\n", 0,
	  "bare.example" },
	{ "absolute-form with a query", "GET http://q.example?x HTTP/1.1\r\n\r\n", 0,
	  "q.example" },
	{ "CONNECT authority", "CONNECT tunnel.example.com:443 HTTP/1.1\r\nHost: "
	  "tunnel.example.com:443\r\n\r\n", 0, "tunnel.example.com" },
	{ "DELETE", "DELETE /r HTTP/1.1\r\nHost: d.example\r\n\r\n", 0, "d.example" },
	{ "OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: o.example\r\n\r\n", 0, "o.example" },
	{ "PATCH", "PATCH /r HTTP/1.1\r\nHost: p.example\r\n\r\n", 0, "p.example" },
	{ "TRACE", "TRACE / HTTP/1.1\r\nHost: t.example\r\n\r\n", 0, "t.example" },
	{ "lower-case method", "get / HTTP/1.1\r\nHost: example.com\r\n\r\n", HTTP_NOT_REQUEST,
	  NULL },
	{ "unknown method", "BREW / HTCPCP/1.0\r\nHost: pot.example\r\n\r\n", HTTP_NOT_REQUEST,
	  NULL },
	{ "TLS record", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", HTTP_NOT_REQUEST, NULL },
	{ "too short", "GET /", HTTP_NOT_REQUEST, NULL },
	{ "HTTP/1.0 without Host", "GET / HTTP/1.0\r\nAccept: */*\r\n\r\nHost: body.example\r\n",
	  HTTP_NO_HOST, NULL },
	{ "IPv6 literal", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", HTTP_NO_HOST, NULL },
	{ "empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", HTTP_NO_HOST, NULL },
	{ "headers go on in the next segment", "GET / HTTP/1.1\r\nAccept: */*\r\n", HTTP_NO_HOST,
	  NULL },
	{ "Host cut by the segment", "GET / HTTP/1.1\r\nHost: exam", ERR(PASS_NAME_TRUNCATED),
	  NULL },
};
/* clang-format on */

static void check(const char *what, const char *buf, size_t len, int want, const char *host)
{
	char *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
	struct name_buf nb;
	char got[NAME_MAX_LEN + 1];
	int ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	ret = http_host_name(copy, copy + len, &nb);
	free(copy);
	if (ret != want)
		fail_msg("%s: returned %d, expected %d", what, ret, want);
	if (ret)
		return;
	name_str(&nb, got);
	if (strcmp(got, host))
		fail_msg("%s: host '%s', expected '%s'", what, got, host);
}

static void test_fixtures(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++)
		check(fixtures[i].desc, fixtures[i].req, strlen(fixtures[i].req), fixtures[i].ret,
		      fixtures[i].host);
}

/* The host's place: the offsets http_host() reports point at the host in the payload. */
static void test_offsets(void **state)
{
	const char *req = "GET / HTTP/1.1\r\nHost:   www.example.com:81\r\n\r\n";
	struct http_host h;

	(void)state;
	assert_int_equal(http_host(req, req + strlen(req), &h), 0);
	assert_int_equal(h.off, strlen("GET / HTTP/1.1\r\nHost:   "));
	assert_int_equal(h.len, strlen("www.example.com"));
}

/*
 * Every cut of every request that names a host: before the method's 8 bytes it is not a
 * request; from the host's first byte to right after its last (its end not seen) the name is
 * truncated; after its end, the whole answer; before the host, no host or truncated (a cut in
 * the whitespace after "Host:"), never a name.
 */
static void test_truncation(void **state)
{
	size_t i, cut, cuts = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct http_fixture *f = &fixtures[i];
		size_t len = strlen(f->req);
		struct http_host h;

		if (f->ret != 0)
			continue;
		assert_int_equal(http_host(f->req, f->req + len, &h), 0);
		for (cut = 0; cut <= len; cut++) {
			char *copy = malloc(cut ? cut : 1);
			struct name_buf nb;
			int ret;

			assert_non_null(copy);
			memcpy(copy, f->req, cut);
			ret = http_host_name(copy, copy + cut, &nb);
			free(copy);
			if (cut < 8) {
				assert_int_equal(ret, HTTP_NOT_REQUEST);
			} else if (cut > h.off + h.len) {
				check(f->desc, f->req, cut, 0, f->host);
			} else if (cut >= h.off) {
				/* an absolute-form target is recognised with its 8 first bytes */
				bool unseen = h.off < 20 &&
					      cut < (size_t)(strchr(f->req, ' ') - f->req) + 9;

				if (ret != ERR(PASS_NAME_TRUNCATED) &&
				    !(unseen && ret == HTTP_NO_HOST))
					fail_msg("%s cut at %zu in the host: returned %d", f->desc,
						 cut, ret);
			} else if (ret != HTTP_NO_HOST && ret != ERR(PASS_NAME_TRUNCATED)) {
				fail_msg("%s cut at %zu before the host: returned %d", f->desc, cut,
					 ret);
			}
			cuts++;
		}
	}
	print_message("# %zu cuts\n", cuts);
}

/*
 * A request pipelined behind the first (http_next): found after CRLF and bare LF header
 * blocks, after an absolute-form first request, after a long header block (the search's
 * steps); not after a body, nor when the header block does not end in the bytes, nor when
 * fewer than 8 bytes or no method follow; and every cut of each finds the second request
 * exactly when its method's 8 bytes are in.
 */
static void test_pipelined(void **state)
{
	static const struct {
		const char *desc, *first, *second;
		bool found; /* the second is found (at the first's length) */
		const char *second_host;
	} cases[] = {
		{ "crlf", "GET / HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n",
		  "GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n", true, "b.example" },
		{ "bare lf", "GET / HTTP/1.0\nHost: a.example\n\n",
		  "HEAD /x HTTP/1.0\nHost: b.example\n\n", true, "b.example" },
		{ "absolute-form first", "GET http://a.example/ HTTP/1.1\r\n\r\n",
		  "DELETE /x HTTP/1.1\r\nHost: b.example\r\n\r\n", true, "b.example" },
		{ "a body follows",
		  "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello",
		  "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n", false, NULL },
		{ "headers not ended", "GET / HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n", "",
		  false, NULL },
		{ "7 bytes after", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "GET / H", false,
		  NULL },
		{ "not a method", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "get / HTTP/1.1\r\n",
		  false, NULL },
	};
	char req[1600], first[1400];
	size_t i, cut, c;

	(void)state;
	for (i = 0; i <= ARRAY_SIZE(cases); i++) {
		const char *f, *second, *host, *desc;
		size_t len, at;
		struct http_host h, h2;
		bool found;
		__u32 next;

		if (i < ARRAY_SIZE(cases)) {
			f = cases[i].first;
			second = cases[i].second;
			found = cases[i].found;
			host = cases[i].second_host;
			desc = cases[i].desc;
		} else {
			/* a header block of ~1 KB: the search goes through many steps */
			at = (size_t)snprintf(first, sizeof(first),
					      "GET / HTTP/1.1\r\nHost: a.example\r\n");
			for (c = 0; c < 40; c++)
				at += (size_t)snprintf(first + at, sizeof(first) - at,
						       "X-Header-%02zu: %s\r\n", c,
						       "value value value");
			snprintf(first + at, sizeof(first) - at, "\r\n");
			f = first;
			second = "PUT /y HTTP/1.1\r\nHost: long.example\r\n\r\n";
			found = true;
			host = "long.example";
			desc = "long headers";
		}
		at = strlen(f);
		len = (size_t)snprintf(req, sizeof(req), "%s%s", f, second);
		assert_true(len < HTTP_COPY_MAX);
		assert_int_equal(http_host(req, req + len, &h), 0);
		next = http_next(req, req + len, &h);
		if (next != (found ? at : 0))
			fail_msg("%s: next request at %u, expected %zu", desc, next,
				 found ? at : 0);
		/* from the request's start (a first request without a host): the same */
		assert_int_equal(http_next(req, req + len, NULL), next);
		if (!next)
			continue;
		assert_int_equal(http_host(req + next, req + len, &h2), 0);
		assert_int_equal(h2.len, strlen(host));
		assert_memory_equal(req + next + h2.off, host, h2.len);
		for (cut = h.off + h.len + 1; cut <= len; cut++) {
			__u32 want = cut >= next + 8 ? next : 0;

			if (http_next(req, req + cut, &h) != want)
				fail_msg("%s cut at %zu: next %u, expected %u", desc, cut,
					 http_next(req, req + cut, &h), want);
		}
	}
}

/* A request without a host (HTTP/1.0), then one pipelined behind it: found from the start. */
static void test_pipelined_no_host(void **state)
{
	static const char first[] = "GET / HTTP/1.0\r\nAccept: */*\r\nX-A: b\r\n\r\n";
	char req[200];
	struct http_host h;
	size_t len;

	(void)state;
	len = (size_t)snprintf(req, sizeof(req), "%sGET / HTTP/1.1\r\nHost: b.example\r\n\r\n",
			       first);
	assert_int_equal(http_host(req, req + len, &h), HTTP_NO_HOST);
	assert_int_equal(http_next(req, req + len, NULL), strlen(first));
	assert_int_equal(http_host(req + strlen(first), req + len, &h), 0);
	assert_int_equal(h.len, strlen("b.example"));
	/* no empty line: the header block does not end in the bytes */
	assert_int_equal(http_next(req, req + strlen(first) - 2, NULL), 0);
}

/* Limits: a host of 254 (with a trailing dot) is read, 255 is too long; the scan window. */
static void test_limits(void **state)
{
	char req[2200], host[300];
	int i;

	(void)state;
	for (i = 0; i < 253; i++)
		host[i] = (i + 1) % 40 == 0 ? '.' : 'h';
	host[253] = 0;
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
	check("host of 253", req, strlen(req), 0, host);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s.\r\n\r\n", host);
	check("host of 254 with a trailing dot", req, strlen(req), 0, host);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %sxx\r\n\r\n", host);
	check("host of 255", req, strlen(req), ERR(PASS_NAME_TOO_LONG), NULL);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s%s\r\n\r\n", host, host);
	check("host of 506", req, strlen(req), ERR(PASS_NAME_TOO_LONG), NULL);
	/* Host around the end of what is examined (HTTP_COPY_MAX bytes), then past it */
	for (i = 1400; i < 1600; i += 3) {
		char pad[1700], big[2000];
		int n, ret;
		struct http_host h;
		size_t host_end;

		memset(pad, 'x', (size_t)i);
		pad[i] = 0;
		n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %s\r\nHost: w.example\r\n\r\n",
			     pad);
		ret = http_host(big, big + n, &h);
		host_end = (size_t)(strstr(big, "w.example") - big) + strlen("w.example");
		if (host_end < HTTP_COPY_MAX)
			assert_int_equal(ret, 0);
		else if ((size_t)(strstr(big, "\r\nHost") - big) + 7 <= HTTP_COPY_MAX)
			assert_int_equal(ret, ERR(PASS_NAME_TRUNCATED));
		else
			assert_int_equal(ret, HTTP_NO_HOST);
	}
}

/*
 * http_host_stops() against the definition, byte by byte: every byte value at every place of
 * a word, among neighbours of every kind (a carry or borrow between bytes would flag or hide
 * a neighbour).
 */
static bool host_stop_ref(unsigned char c)
{
	return c < 0x21 || c == ':' || c == '/' || c == '?' || c == '#';
}

/* The word of b[0..8) with b[pos] = v, flagged byte by byte as the definition says. */
static void check_host_stops(__u8 b[8], unsigned v, unsigned pos)
{
	__u64 x, m, got, want;
	unsigned k;

	b[pos] = (__u8)v;
	memcpy(&x, b, sizeof(x));
	m = http_host_stops(x);
	for (k = 0; k < 8; k++) {
		got = (m >> (k * 8)) & 0xff;
		want = host_stop_ref(b[k]) ? 0x80 : 0;
		if (got != want)
			fail_msg("byte 0x%02x at %u: byte %u (0x%02x) flagged 0x%02llx, "
				 "want 0x%02llx",
				 v, pos, k, b[k], (unsigned long long)got,
				 (unsigned long long)want);
	}
}

static void test_host_stops(void **state)
{
	static const __u8 around[] = {
		0x00, 0x20, 0x21, 'a', ':', '.', 0x7f, 0x80, 0xa3, 0xba, 0xff
	};
	unsigned v, pos, a, k;
	__u8 b[8];

	(void)state;
	for (v = 0; v < 256; v++)
		for (pos = 0; pos < 8; pos++)
			for (a = 0; a < ARRAY_SIZE(around); a++) {
				for (k = 0; k < 8; k++)
					b[k] = around[(a + k) % ARRAY_SIZE(around)];
				check_host_stops(b, v, pos);
			}
}

/* --- differential: a reference parser with string functions --- */

static int ref_host(const char *b, size_t len, size_t *off, size_t *hl)
{
	static const char *const methods[] = { "GET ",	 "PUT ",    "POST ",	"HEAD ",   "PATCH ",
					       "TRACE ", "DELETE ", "OPTIONS ", "CONNECT " };
	size_t i, t = 0, s = 0, k, scan_end;
	int ows = 0;

	if (len > HTTP_COPY_MAX)
		len = HTTP_COPY_MAX;
	if (len < 8)
		return HTTP_NOT_REQUEST;
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (!strncmp(b, methods[i], strlen(methods[i])))
			break;
	if (i == ARRAY_SIZE(methods))
		return HTTP_NOT_REQUEST;
	t = strlen(methods[i]);
	if (i == 8) {
		s = 8;
	} else if (len >= t + 8 && !strncasecmp(b + t, "http://", 7)) {
		s = t + 7;
	} else if (len >= t + 8 && !strncasecmp(b + t, "https://", 8)) {
		s = t + 8;
	} else {
		scan_end = len;
		for (k = t; k < scan_end; k++) {
			size_t line = k + 1;

			if (b[k] != '\n')
				continue;
			if (line + 2 > len || b[line] == '\r' || b[line] == '\n' || line + 5 > len)
				return HTTP_NO_HOST;
			if (!strncasecmp(b + line, "host", 4) && b[line + 4] == ':') {
				s = line + 5;
				ows = 1;
				break;
			}
		}
		if (!ows)
			return HTTP_NO_HOST;
	}
	if (ows)
		for (i = 0; i < 8 && s < len && (b[s] == ' ' || b[s] == '\t'); i++)
			s++;
	if (s >= len)
		return ERR(PASS_NAME_TRUNCATED);
	if (b[s] == '[')
		return HTTP_NO_HOST;
	for (k = s; k < len && k < s + 264; k++)
		if ((unsigned char)b[k] < 0x21 || strchr(":/?#", b[k]))
			break;
	if (k == s + 264)
		return ERR(PASS_NAME_TOO_LONG);
	if (k == len)
		return ERR(PASS_NAME_TRUNCATED);
	*off = s;
	*hl = k - s;
	if (*hl > NAME_MAX_LEN + 1)
		return ERR(PASS_NAME_TOO_LONG);
	return *hl ? 0 : HTTP_NO_HOST;
}

static void test_mutations_against_ref(void **state)
{
	static const char *const bases[] = {
		"GET /a/b HTTP/1.1\r\nUser-Agent: x\r\nHost: www.example.com:80\r\nAccept: *\r\n\r\n",
		"GET http://abs.example/p HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT c.example:443 HTTP/1.1\r\n\r\n",
		"POST /form HTTP/1.1\r\nhost:\t a.b.c.example\r\ncontent-length: 3\r\n\r\nabc",
		"OPTIONS * HTTP/1.1\r\nHOST: o.example\r\n\r\n",
	};
	unsigned int seed = 5;
	int i, by_ret[64] = { 0 };

	(void)state;
	for (i = 0; i < 50000; i++) {
		char buf[256];
		const char *b = bases[rand_r(&seed) % ARRAY_SIZE(bases)];
		size_t len = strlen(b), off = 0, hl = 0;
		int k, nm = rand_r(&seed) % 4, ref, got;
		struct http_host h;
		char *copy;

		memcpy(buf, b, len);
		for (k = 0; k < nm; k++) {
			static const char pool[] = "\r\n :/?#[Hh\t.";
			size_t at = (size_t)rand_r(&seed) % len;

			buf[at] = rand_r(&seed) % 2 ? pool[rand_r(&seed) % (sizeof(pool) - 1)] :
						      (char)rand_r(&seed);
		}
		if (rand_r(&seed) % 3 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		ref = ref_host(copy, len, &off, &hl);
		got = http_host(copy, copy + len, &h);
		free(copy);
		by_ret[(got < 0 ? -got : got) % 64]++;
		if (got != ref)
			fail_msg("mutation %d: parser %d, reference %d", i, got, ref);
		if (!got && (h.off != off || h.len != hl))
			fail_msg("mutation %d: parser %u+%u, reference %zu+%zu", i, h.off, h.len,
				 off, hl);
	}
	print_message("# host %d, not a request %d, no host %d, truncated %d\n", by_ret[0],
		      by_ret[HTTP_NOT_REQUEST], by_ret[HTTP_NO_HOST],
		      by_ret[GC_PASS_NAME_TRUNCATED]);
	assert_true(by_ret[0] > 5000);
	assert_true(by_ret[HTTP_NOT_REQUEST] > 1000);
	assert_true(by_ret[HTTP_NO_HOST] > 1000);
	assert_true(by_ret[GC_PASS_NAME_TRUNCATED] > 1000);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_pipelined_no_host),
		cmocka_unit_test(test_host_stops),
		cmocka_unit_test(test_mutations_against_ref),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
