// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers: see util.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "user/util.h"

int ip_prefix_parse(const char *s, struct ip_prefix *p, bool allow_host_bits, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen;
	int maxlen, plen, i;

	memset(p, 0, sizeof(*p));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= INET6_ADDRSTRLEN) {
		*why = "not an IP address";
		return -EINVAL;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = 4;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = 6;
		maxlen = 128;
	} else {
		*why = "not an IP address";
		return -EINVAL;
	}
	plen = maxlen;
	if (slash) {
		const char *q = slash + 1;
		char *end;
		long v;

		if (!isdigit((unsigned char)*q)) {
			*why = "prefix length is not a number";
			return -EINVAL;
		}
		errno = 0;
		v = strtol(q, &end, 10);
		if (*end != '\0' || errno) {
			*why = "prefix length is not a number";
			return -EINVAL;
		}
		if (v < 0 || v > maxlen) {
			*why = p->family == 4 ? "prefix length out of range (0-32)" :
						"prefix length out of range (0-128)";
			return -EINVAL;
		}
		plen = (int)v;
	}
	p->plen = (__u8)plen;
	for (i = 0; i < maxlen / 8; i++) {
		int bits = plen - i * 8;
		__u8 mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));

		if (p->addr[i] & ~mask) {
			if (!allow_host_bits) {
				*why = "host bits set beyond the prefix length";
				return -EINVAL;
			}
			p->addr[i] &= mask;
		}
	}
	return 0;
}

const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int full = p->family == 4 ? 32 : 128;

	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (p->plen == full)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->plen);
	return buf;
}

bool mac_parse(const char *s, __u8 mac[6])
{
	int i;

	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return false;
		mac[i] = (__u8)strtoul((char[]){ s[0], s[1], '\0' }, NULL, 16);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return false;
			s++;
		}
	}
	return *s == '\0';
}

bool ip_prefix_covers(const struct ip_prefix *p, const __u8 *addr)
{
	int i, bits = p->plen;

	for (i = 0; bits > 0; i++, bits -= 8) {
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));

		if ((p->addr[i] ^ addr[i]) & mask)
			return false;
	}
	return true;
}

char *str_trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

bool str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return false;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
