/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the user side: strings, IP prefixes, time. No global state. */
#ifndef BPFGUARD_UTIL_H
#define BPFGUARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An address or prefix, in network byte order; family is 4 or 6. */
struct ip_prefix {
	__u8 addr[16];
	__u8 plen;
	__u8 family;
};

/*
 * Parse "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n". Host bits set beyond the prefix are an error
 * unless allow_host_bits (then they are cleared). Returns 0, or -EINVAL with *why set to a
 * static message saying what is wrong.
 */
int ip_prefix_parse(const char *s, struct ip_prefix *p, bool allow_host_bits, const char **why);
/* "192.0.2.0/24", or "192.0.2.1" for a full-length prefix. buf of at least 64 bytes. */
const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len);
/* Does prefix p cover address addr (same family)? */
bool ip_prefix_covers(const struct ip_prefix *p, const __u8 *addr);

/*
 * A MAC address: six pairs of hex digits separated by ':' or '-' (02:00:00:00:00:07). Returns
 * true and mac, or false.
 */
bool mac_parse(const char *s, __u8 mac[6]);

/* Trim ASCII whitespace at both ends, in place; returns s. */
char *str_trim(char *s);
/* Copy with truncation, always NUL-terminated; returns false if truncated. */
bool str_copy(char *dst, const char *src, size_t size);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
