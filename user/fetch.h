/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Remote lists (`url =` in a [list]): download with libcurl into the state directory and keep
 * the last good copy. Included by the policy/daemon code that turns a url = list into a file
 * for the registry parser, and by tests/unit/test_fetch.c.
 *
 * Files, under the config's state_dir (created 0755 when missing):
 *   lists/NAME   the last good copy, exactly the bytes the source sent (gzip stays gzip: the
 *                registry parser reads .gz transparently)
 *   meta/NAME    its metadata, `key=value` lines: url, etag, last_modified, sha256, size,
 *                inode, fetched_at, checked_at, attempted_at, failures, error
 *   tmp/NAME.*   downloads in progress, and tmp/NAME.lock (flock: one fetch of a list at a time)
 * A download goes to a temp file, is verified (size, sha256 pin, gzip integrity when the URL
 * ends in .gz or the data starts with the gzip magic), fsync'ed, then renamed over lists/NAME:
 * a failed or interrupted download never replaces or truncates the good copy. The metadata is
 * renamed into place after the copy and records the copy's inode: a metadata file that does
 * not describe the copy beside it (a crash between the two renames) is not trusted.
 *
 * Requests: http and https only (redirects too, at most 5), conditional (If-None-Match with
 * the stored ETag, If-Modified-Since with the stored Last-Modified, when the copy is intact
 * and matches the pin), no Accept-Encoding (the bytes on the wire are the bytes stored, so
 * max_size and the sha256 pin are about the file as published), proxies from the usual
 * environment variables (http_proxy, https_proxy, no_proxy) as curl reads them.
 */
#ifndef BPFGUARD_FETCH_H
#define BPFGUARD_FETCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "user/config.h"

enum fetch_status {
	FETCH_NEW = 1, /* downloaded and verified: path has new content (parse it) */
	FETCH_NOT_MODIFIED, /* 304, or a 200 with the same bytes: path is unchanged */
	FETCH_STALE_COPY, /* the source failed (error, message): path is the last good copy */
	FETCH_CACHED, /* fetch_cached(): the copy in the state directory, no request made */
};

struct fetch_result {
	int status; /* enum fetch_status */
	char path[PATH_MAX]; /* the file to parse: state_dir/lists/NAME */
	time_t fetched_at; /* when the copy's bytes were downloaded (0: unknown) */
	time_t checked_at; /* when the source last confirmed the copy (200 or 304; 0: never) */
	time_t attempted_at; /* when a request was last made */
	time_t age; /* now - checked_at: how long the copy may have been out of date */
	unsigned int failures; /* failed attempts since the last success (0 after a success) */
	int error; /* the source's failure as -errno (FETCH_STALE_COPY or an error), else 0 */
	long http_code; /* status of the last response, 0 if none came */
	unsigned long long size; /* bytes of the copy */
	char sha256[65]; /* of the copy, lower-case hex */
	/*
	 * One line, no newline: what happened. For FETCH_STALE_COPY the warning (already printed
	 * with pr_warn): the URL, why it failed, which copy is used and how old it is. For an
	 * error: the URL, why, and that there is no usable copy.
	 */
	char message[1024];
};

/*
 * Fetch list l (l->url must be set) into state_dir. Always asks the source (conditionally when
 * the copy allows). Returns 0 with r->status FETCH_NEW, FETCH_NOT_MODIFIED or FETCH_STALE_COPY
 * (then also pr_warn's r->message), or -errno when there is no usable copy: the source failed
 * and no earlier copy exists (or it no longer matches the sha256 pin, or is damaged); then
 * r->message names the URL and the reason and nothing was printed. Source failures, as
 * r->error: -ECONNREFUSED/-EHOSTUNREACH/-ENETUNREACH (unreachable), -ENOENT (no such host),
 * -ETIMEDOUT (took longer than l->timeout), -EFBIG (larger than l->max_size, or gzip data
 * inflating to more than 16 times that), -EBADMSG (corrupt gzip, or sha256 mismatch), -EPROTO
 * (an HTTP error status, see r->http_code), -EIO (other transfer errors); state directory
 * errors are their -errno.
 * Blocks for at most about l->timeout seconds (plus waiting for another fetch of the same
 * list, through the lock). Thread-safe for different lists.
 */
int fetch_list(const struct cfg_list *l, const char *state_dir, struct fetch_result *r);

/*
 * The copy of l already in state_dir, without any request: r->status FETCH_CACHED, with the
 * metadata of the last attempts (for fetch_next_due after a restart). Returns 0, -ENOENT
 * when there is no copy, or -EBADMSG when the copy does not match the metadata's sha256 or
 * l's pin (checked only when verify is true: it reads the whole file).
 */
int fetch_cached(const struct cfg_list *l, const char *state_dir, bool verify,
		 struct fetch_result *r);

/*
 * When list l should be fetched next, from the result of its last fetch_list or
 * fetch_cached: r->checked_at + l->refresh after a success; after failures, sooner:
 * r->attempted_at + 60 s, doubling with each further failure (60, 120, 240 s ...), never
 * later than the refresh interval. A list never fetched is due at once (returns 0).
 */
time_t fetch_next_due(const struct cfg_list *l, const struct fetch_result *r);

/* SHA-256, exposed for tests and `bpfguard lint`-style checks. */
struct sha256_ctx {
	uint32_t h[8];
	uint64_t len; /* bytes hashed */
	unsigned char buf[64];
	size_t n; /* bytes in buf */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Finish and write the digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(struct sha256_ctx *c, char hex[65]);
/* The SHA-256 of a whole file into hex. Returns 0 or -errno. */
int sha256_file(const char *path, char hex[65]);

#endif
