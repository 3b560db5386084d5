/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1.x requests: the host a request names, from the first segment of the request.
 * Header-only and host-compilable: included by bpf/lib/names.h, by tests/unit/test_http.c and
 * tests/fuzz/fuzz_http.c.
 *
 * Host API:
 *   int http_host(data, end, &host)
 *     data..end is a TCP segment's payload. Returns
 *       0                  host.off/host.len locate the host name in data (no port, no
 *                          brackets; a trailing dot kept: name_from_dotted drops it)
 *       HTTP_NOT_REQUEST   the payload does not start with "METHOD " (GET POST HEAD PUT DELETE
 *                          OPTIONS PATCH CONNECT TRACE, case-sensitive as RFC 9110 says)
 *       HTTP_NO_HOST       a request, but no host name in what is examined: no Host header
 *                          line before the end of the headers, the end of the segment or the
 *                          first HTTP_COPY_MAX bytes, or the host is an IP literal in brackets
 *       -counter           PASS_NAME_TRUNCATED (the segment, or the first HTTP_COPY_MAX
 *                          bytes, end inside the host), PASS_NAME_TOO_LONG (over 254 bytes)
 *   Where the host comes from: an absolute-form target (http:// or https://, any case), the
 *   authority-form target of CONNECT, else the first Host header (any case, optional
 *   whitespace before the value). The host ends at the first of CR LF SP HT : / ? # or the
 *   end of the value.
 *
 *   __u32 http_next(data, end, &host)
 *     After http_host(): the offset of a request pipelined behind the first in the same bytes
 *     (where the first's header block ends, if a method starts there), or 0. host: what
 *     http_host() found (the search starts after it), NULL when it found none (HTTP_NO_HOST:
 *     the search starts at the request's start).
 * Both sides run the same two steps on a copy of the payload's first bytes (at most
 * HTTP_COPY_MAX) followed by HTTP_PAD zero bytes: http_scan() (method, target, the Host line),
 * then http_value() (the host's end). The kernel copies into its per-CPU scratch buffer; a
 * copy is cheaper than walking the packet here, and lets every read be a plain word load.
 */
#ifndef BPFGUARD_BPF_LIB_HTTP_H
#define BPFGUARD_BPF_LIB_HTTP_H

#include "bpf/lib/name.h"

#define HTTP_NOT_REQUEST 1
#define HTTP_NO_HOST 2

#define HTTP_COPY_MAX 1536 /* payload bytes examined: a whole segment at the usual MSS */
/* Scan steps: a word without a line feed, or a line; a request has fewer lines than this. */
#define HTTP_SCAN_STEPS (HTTP_COPY_MAX / 8 + 64)
#define HTTP_HOST_WORDS 33 /* a host of 254 characters and its end */
#define HTTP_OFF_MASK 0x7ff /* offsets into the copy are below HTTP_COPY_MAX */
#define HTTP_PAD 16 /* zero bytes after the copy: the two words read at any offset are defined */
/* The copy's buffer: offsets masked to HTTP_OFF_MASK, a host's words and the padding past. */
#define HTTP_BUF_LEN (HTTP_OFF_MASK + 1 + HTTP_HOST_WORDS * 8 + HTTP_PAD)

_Static_assert(HTTP_BUF_LEN == HTTP_SCRATCH_LEN, "maps/flow.h sizes the kernel's copy");

/* Little-endian word of up to 8 characters, for comparing loaded words. */
#define HTTP_W(a, b, c, d, e, f, g, h)                                                           \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 | \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/* Length of "METHOD " at the start of word x (the first 8 payload bytes), 0 if none. */
static inline __u32 http_method_len(__u64 x)
{
	__u64 x4 = x & 0xffffffffull, x5 = x & 0xffffffffffull, x6 = x & 0xffffffffffffull;
	__u64 x7 = x & 0xffffffffffffffull;

	if (x4 == HTTP_W('G', 'E', 'T', ' ', 0, 0, 0, 0) ||
	    x4 == HTTP_W('P', 'U', 'T', ' ', 0, 0, 0, 0))
		return 4;
	if (x5 == HTTP_W('P', 'O', 'S', 'T', ' ', 0, 0, 0) ||
	    x5 == HTTP_W('H', 'E', 'A', 'D', ' ', 0, 0, 0))
		return 5;
	if (x6 == HTTP_W('P', 'A', 'T', 'C', 'H', ' ', 0, 0) ||
	    x6 == HTTP_W('T', 'R', 'A', 'C', 'E', ' ', 0, 0))
		return 6;
	if (x7 == HTTP_W('D', 'E', 'L', 'E', 'T', 'E', ' ', 0))
		return 7;
	if (x == HTTP_W('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '))
		return 8;
	if (x == HTTP_W('C', 'O', 'N', 'N', 'E', 'C', 'T', ' '))
		return 9; /* 8, and the target is an authority: told apart by the caller */
	return 0;
}

/* 0x80 in each byte of x that ends a host: CR LF SP HT (any byte below 0x21), : / ? # */
static inline __u64 http_host_stops(__u64 x)
{
	__u64 below = ~((x & NAME_LOWS7) + NAME_ONES * (0x80 - 0x21)) & ~x & NAME_HIGHS;

	return below | name_bytes_eq(x, ':') | name_bytes_eq(x, '/') | name_bytes_eq(x, '?') |
	       name_bytes_eq(x, '#');
}

/*
 * The request copied into buf (n bytes, n <= HTTP_COPY_MAX, then HTTP_PAD zero bytes and
 * room to HTTP_BUF_LEN): its method, then where its host starts. Returns 0 with rq,
 * HTTP_NOT_REQUEST or HTTP_NO_HOST (struct http_req: maps/flow.h; the kernel keeps it in its
 * scratch map, memory the verifier does not track, which the scan relies on). Origin form:
 * the first line (after a LF) that starts with "host:" in any case; an empty line, the
 * copy's end, or more than HTTP_SCAN_STEPS steps (words without a LF, and lines) before it is
 * HTTP_NO_HOST. A line's first 5 bytes are read from the word holding its LF and the next
 * (buf[o..o+16), the padding makes it defined).
 *
 * As a global function in the kernel (bpf/lib/names.h).
 */
PARSE_FN int http_scan(const __u8 *buf, __u32 n, struct http_req *rq)
{
	__u32 mlen, i, t;
	__u64 x;

	rq->ows = 0;
	if (n < 8)
		return HTTP_NOT_REQUEST;
	mlen = http_method_len(name_load64(buf));
	if (!mlen)
		return HTTP_NOT_REQUEST;
	if (mlen == 9) {
		/* CONNECT host:port: the authority is the target */
		rq->start = 8;
		return 0;
	}
	/*
	 * Verifier workaround: the method's length is a different constant on each method's
	 * path, and the scan would be verified once per method; through memory it is one
	 * unknown number, clamped.
	 */
	rq->start = mlen;
	t = NAME_LAUNDER(rq->start);
	NAME_CLAMP(t, 0xf);
	if (n >= t + 8) {
		/* the scheme's letters in lower case (| 0x20), the rest compared exactly */
		x = name_load64(buf + t);
		if (((x | 0x20202020ull) & 0xffffffffffffffull) ==
		    HTTP_W('h', 't', 't', 'p', ':', '/', '/', 0)) {
			rq->start = t + 7;
			return 0;
		}
		if ((x | 0x2020202020ull) == HTTP_W('h', 't', 't', 'p', 's', ':', '/', '/')) {
			rq->start = t + 8;
			return 0;
		}
	}
	/*
	 * One step per word without a LF, or per line: the position is kept in rq->start
	 * (memory) between steps, so the verifier sees every step alike (a position in a
	 * register would carry a different range into every step).
	 */
	rq->start = t;
	for (i = 0; i < HTTP_SCAN_STEPS; i++) {
		__u32 o = NAME_LAUNDER(rq->start), k, at, rem;
		__u64 w0, w1, m, line;

		if (o >= n)
			break;
		NAME_CLAMP(o, HTTP_OFF_MASK);
		w0 = name_load64(buf + o);
		w1 = name_load64(buf + o + 8);
		m = name_bytes_eq(w0, '\n'); /* the padding is zero: no LF past n */
		if (!m) {
			rq->start = o + 8;
			continue;
		}
		k = name_first_byte(m) + 1; /* the line starts at o + k, k in 1..8 */
		/* its first 5 bytes: w0 >> 8k | w1 << (64 - 8k), without a shift by 64 */
		line = ((w0 >> (k * 8 - 1)) >> 1) | (w1 << (64 - k * 8));
		at = o + k;
		rem = n - at; /* at <= n: the LF is before n */
		if (rem < 2 || (line & 0xff) == '\r' || (line & 0xff) == '\n' || rem < 5)
			return HTTP_NO_HOST;
		if (((line | 0x20202020ull) & 0xffffffffffull) ==
		    HTTP_W('h', 'o', 's', 't', ':', 0, 0, 0)) {
			rq->start = at + 5;
			rq->ows = 1;
			return 0;
		}
		rq->start = at;
	}
	return HTTP_NO_HOST;
}

/*
 * The host in buf (as for http_scan) from rq->start: optional whitespace first when rq->ows,
 * then the bytes up to the first stop (http_host_stops). Returns 0 with h (off from buf's
 * start), HTTP_NO_HOST for an empty host or an IP literal in brackets, -PASS_NAME_TRUNCATED
 * when the copy ends first, -PASS_NAME_TOO_LONG for more than 254 characters.
 */
PARSE_FN int http_value(const __u8 *buf, __u32 n, const struct http_req *rq, struct http_host *h)
{
	__u32 s = rq->start, i, len = 0;

	if (rq->ows) {
		for (i = 0; i < 8; i++) {
			__u8 c;

			if (s >= n)
				return NAME_ERR(PASS_NAME_TRUNCATED);
			c = buf[s & HTTP_OFF_MASK];
			if (c != ' ' && c != '\t')
				break;
			s++;
		}
	}
	if (s >= n)
		return NAME_ERR(PASS_NAME_TRUNCATED);
	NAME_CLAMP(s, HTTP_OFF_MASK);
	if (buf[s] == '[')
		return HTTP_NO_HOST;
	for (i = 0; i < HTTP_HOST_WORDS; i++) {
		__u64 m = http_host_stops(name_load64(buf + s + i * 8));

		/* the padding's zero bytes stop it too: past n, the copy ended first */
		if (m) {
			len = i * 8 + name_first_byte(m);
			break;
		}
	}
	if (i == HTTP_HOST_WORDS)
		return NAME_ERR(PASS_NAME_TOO_LONG);
	if (s + len >= n)
		return NAME_ERR(PASS_NAME_TRUNCATED);
	if (len > NAME_MAX_LEN + 1)
		return NAME_ERR(PASS_NAME_TOO_LONG);
	h->off = s;
	h->len = len;
	return len ? 0 : HTTP_NO_HOST;
}

/*
 * The end of a header block in buf (as for http_scan: n bytes, then the zero padding),
 * searched from offset from inside it: the offset just past its first empty line ("\n\n" or
 * "\n\r\n"), or 0 when the copy ends first. Four overlapping words a step (at o, o+6, o+12,
 * o+18: every 3-byte window starting in o..o+23 lies whole in one of them) and one test, so
 * the verifier walks few steps; then the step's words are searched again for the first. The
 * padding holds no LF and no CR.
 */
#define HTTP_END_STEP 24
#define HTTP_END_STEPS (HTTP_COPY_MAX / HTTP_END_STEP + 2)

/* 0x80 at each byte of w that starts an empty line's end: LF LF, or LF CR LF. */
static inline __u64 http_blank(__u64 w, __u64 *lf_lf)
{
	__u64 lf = name_bytes_eq(w, '\n'), cr = name_bytes_eq(w, '\r');

	*lf_lf = lf & (lf >> 8);
	return *lf_lf | (lf & (cr >> 8) & (lf >> 16));
}

PARSE_FN __u32 http_headers_end(const __u8 *buf, __u32 n, __u32 from)
{
	__u32 i, k, o = 0, at;
	__u64 m, m2, any;

	/* the step whose words hold the first empty line: one test a step */
	for (i = 0; i < HTTP_END_STEPS; i++) {
		o = from + i * HTTP_END_STEP;
		if (o >= n)
			return 0;
		at = o & HTTP_OFF_MASK;
		any = http_blank(name_load64(buf + at), &m2) |
		      http_blank(name_load64(buf + at + 6), &m2) |
		      http_blank(name_load64(buf + at + 12), &m2) |
		      http_blank(name_load64(buf + at + 18), &m2);
		if (any)
			break;
	}
	if (i == HTTP_END_STEPS)
		return 0;
	/* then which word, and where in it (the lowest LF LF or LF CR LF) */
	at = NAME_LAUNDER(o);
	NAME_CLAMP(at, HTTP_OFF_MASK);
	for (k = 0; k < 4; k++) {
		m = http_blank(name_load64(buf + at + k * 6), &m2);
		if (m) {
			__u32 j = name_first_byte(m);

			return at + k * 6 + j + ((m2 >> (j * 8)) & 0x80 ? 2 : 3);
		}
	}
	return 0;
}

/*
 * The offset in buf (as for http_headers_end) of a request pipelined behind the one whose
 * host ends at from: where its header block ends, if 8 bytes there start with a method; 0
 * otherwise (none, a body, or fewer than 8 bytes of it in the copy).
 */
PARSE_FN __u32 http_next_request(const __u8 *buf, __u32 n, __u32 from)
{
	__u32 next = http_headers_end(buf, n, from);

	if (!next || next + 8 > n)
		return 0;
	NAME_CLAMP(next, HTTP_OFF_MASK);
	return http_method_len(name_load64(buf + next)) ? next : 0;
}

#ifndef __BPF__
/*
 * Host API: the offset in data..end of a request pipelined behind the first one, whose host
 * h is (http_host; NULL: none), in the first HTTP_COPY_MAX bytes; 0 when there is none.
 */
static inline __u32 http_next(const void *data, const void *end, const struct http_host *h)
{
	__u8 buf[HTTP_BUF_LEN];
	size_t n = (size_t)((const __u8 *)end - (const __u8 *)data);

	if (n > HTTP_COPY_MAX)
		n = HTTP_COPY_MAX;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, n);
	return http_next_request(buf, (__u32)n, h ? h->off + h->len : 0);
}

/* Host API: see the top of the file. */
static inline int http_host(const void *data, const void *end, struct http_host *h)
{
	__u8 buf[HTTP_BUF_LEN];
	struct http_req rq;
	size_t n = (size_t)((const __u8 *)end - (const __u8 *)data);
	int ret;

	memset(h, 0, sizeof(*h));
	if (n > HTTP_COPY_MAX)
		n = HTTP_COPY_MAX;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, n);
	ret = http_scan(buf, (__u32)n, &rq);
	if (ret)
		return ret;
	return http_value(buf, (__u32)n, &rq, h);
}

/* Host API: the host as a name (dotted, lower case) in nb; the same results, TLS-style. */
static inline int http_host_name(const void *data, const void *end, struct name_buf *nb)
{
	struct http_host h;
	int ret = http_host(data, end, &h);

	if (ret)
		return ret;
	memset(nb, 0, sizeof(*nb));
	memcpy(nb->b + 1, (const __u8 *)data + h.off, h.len);
	ret = name_from_dotted(nb, h.len);
	if (ret)
		return ret;
	name_lower(nb);
	return 0;
}
#endif

#endif
