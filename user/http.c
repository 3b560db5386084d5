// SPDX-License-Identifier: GPL-2.0-only
/* The metrics endpoint: see http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "user/http.h"
#include "user/log.h"
#include "user/util.h"

int http_listen(const char *hostport)
{
	struct sockaddr_storage ss = { 0 };
	char host[64];
	const char *colon;
	socklen_t slen;
	int fd, one = 1, err;
	long port;

	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');

		if (!close || close[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - hostport - 1), hostport + 1);
		colon = close + 1;
	} else {
		colon = strrchr(hostport, ':');
		if (!colon)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	}
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		slen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		slen = sizeof(struct sockaddr_in6);
	} else {
		goto bad;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) || listen(fd, 16)) {
		err = -errno;
		pr_warn("metrics: cannot listen on %s: %s (is the address on this host and the port "
			"free? set metrics = off to disable)\n",
			hostport, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
bad:
	pr_warn("metrics: '%s' is not host:port (e.g. 127.0.0.1:9477 or [::1]:9477)\n", hostport);
	return -EINVAL;
}

void http_serve_one(int lfd, http_body_fn fn, void *ctx)
{
	struct timeval tv = { .tv_sec = 1 };
	char req[2048], path[256] = "/";
	char *body = NULL;
	size_t blen = 0, got = 0;
	FILE *f;
	int c, st;

	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t n = recv(c, req + got, sizeof(req) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	if (sscanf(req, "GET %255s", path) != 1) {
		const char *r = "HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n";

		send(c, r, strlen(r), MSG_NOSIGNAL);
		goto out;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		goto out;
	st = fn(ctx, path, f);
	fclose(f);
	dprintf(c,
		"HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		st ? "404 Not Found" : "200 OK", st ? 0 : blen);
	if (!st)
		send(c, body, blen, MSG_NOSIGNAL);
	free(body);
out:
	close(c);
}
