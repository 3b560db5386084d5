/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal HTTP/1.0 endpoint for Prometheus scrapes: one listening socket polled by the
 * daemon's loop; each request is answered and the connection closed.
 */
#ifndef BPFGUARD_HTTP_H
#define BPFGUARD_HTTP_H

#include <stdio.h>

/* Listen on "host:port" ("127.0.0.1:9477", "[::1]:9477"). Returns a fd or -errno (message). */
int http_listen(const char *hostport);

/* Body writer: writes the response body for path into f; returns 0, or -ENOENT for a 404. */
typedef int (*http_body_fn)(void *ctx, const char *path, FILE *f);

/* Accept one connection on lfd and answer it (bounded: 1 s to read the request). */
void http_serve_one(int lfd, http_body_fn fn, void *ctx);

#endif
