// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/util.c: ip_prefix_parse() (v4, v6, prefix lengths, host bits, malformed
 * input and its messages), ip_prefix_format(), ip_prefix_covers(), str_trim(), str_copy(),
 * now_ns().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "user/util.h"

static void parse_ok(const char *s, int family, int plen, const char *formatted)
{
	struct ip_prefix p;
	const char *why = NULL;
	char buf[64];

	if (ip_prefix_parse(s, &p, false, &why))
		fail_msg("'%s' refused: %s", s, why);
	assert_int_equal(p.family, family);
	assert_int_equal(p.plen, plen);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), formatted);
}

static void parse_bad(const char *s, const char *why_want)
{
	struct ip_prefix p;
	const char *why = NULL;

	assert_int_equal(ip_prefix_parse(s, &p, false, &why), -EINVAL);
	assert_non_null(why);
	if (strcmp(why, why_want) != 0)
		fail_msg("'%s': got '%s', want '%s'", s, why, why_want);
}

static void test_parse_v4(void **state)
{
	struct ip_prefix p;
	const char *why;

	(void)state;
	parse_ok("192.0.2.1", 4, 32, "192.0.2.1");
	parse_ok("192.0.2.1/32", 4, 32, "192.0.2.1");
	parse_ok("192.0.2.0/24", 4, 24, "192.0.2.0/24");
	parse_ok("0.0.0.0/0", 4, 0, "0.0.0.0/0");
	parse_ok("0.0.0.0", 4, 32, "0.0.0.0");
	parse_ok("255.255.255.255", 4, 32, "255.255.255.255");
	parse_ok("10.0.0.0/8", 4, 8, "10.0.0.0/8");
	parse_ok("198.51.100.128/25", 4, 25, "198.51.100.128/25");
	parse_ok("192.0.2.0/024", 4, 24, "192.0.2.0/24"); /* leading zero in the length */
	assert_int_equal(ip_prefix_parse("203.0.113.7/24", &p, false, &why), -EINVAL);
	assert_int_equal(ip_prefix_parse("192.0.2.0/24", &p, false, &why), 0);
	assert_memory_equal(p.addr, "\xc0\x00\x02\x00", 4);
	/* the rest of the address is zeroed */
	assert_memory_equal(p.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
}

static void test_parse_v6(void **state)
{
	struct ip_prefix p;
	const char *why;

	(void)state;
	parse_ok("2001:db8::1", 6, 128, "2001:db8::1");
	parse_ok("2001:db8::/32", 6, 32, "2001:db8::/32");
	parse_ok("::/0", 6, 0, "::/0");
	parse_ok("::", 6, 128, "::");
	parse_ok("::1/128", 6, 128, "::1");
	parse_ok("2001:DB8:0:0::/64", 6, 64, "2001:db8::/64");
	parse_ok("::ffff:192.0.2.1", 6, 128, "::ffff:192.0.2.1");
	parse_ok("2a12:2640::/29", 6, 29, "2a12:2640::/29");
	parse_ok("2001:db8:0:0:0:0:0:0/127", 6, 127, "2001:db8::/127");
	assert_int_equal(ip_prefix_parse("2001:db8::/32", &p, false, &why), 0);
	assert_memory_equal(p.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	parse_bad("", "not an IP address");
	parse_bad("/24", "not an IP address");
	parse_bad("192.0.2", "not an IP address");
	parse_bad("192.0.2.256", "not an IP address");
	parse_bad("192.0.2.1.5", "not an IP address");
	parse_bad(" 192.0.2.1", "not an IP address");
	parse_bad("example.com", "not an IP address");
	parse_bad("2001:db8:::1", "not an IP address");
	parse_bad("2001:db8::g", "not an IP address");
	parse_bad("fe80::1%eth0", "not an IP address");
	parse_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999", "not an IP address");
	parse_bad("192.0.2.0/", "prefix length is not a number");
	parse_bad("192.0.2.0/x", "prefix length is not a number");
	parse_bad("192.0.2.0/-1", "prefix length is not a number");
	parse_bad("192.0.2.0/+8", "prefix length is not a number");
	parse_bad("192.0.2.0/24x", "prefix length is not a number");
	parse_bad("192.0.2.0/24 ", "prefix length is not a number");
	parse_bad("192.0.2.0/24/24", "prefix length is not a number");
	parse_bad("192.0.2.0/33", "prefix length out of range (0-32)");
	parse_bad("192.0.2.0/99999999999999999999", "prefix length is not a number");
	parse_bad("2001:db8::/129", "prefix length out of range (0-128)");
	parse_bad("192.0.2.1/24", "host bits set beyond the prefix length");
	parse_bad("192.0.2.128/24", "host bits set beyond the prefix length");
	parse_bad("0.0.0.1/0", "host bits set beyond the prefix length");
	parse_bad("2001:db8::1/64", "host bits set beyond the prefix length");
	parse_bad("2001:db9::/31", "host bits set beyond the prefix length");
	/* an address longer than any textual IPv6 address */
	parse_bad("0000:0000:0000:0000:0000:0000:255.255.255.255:1", "not an IP address");
}

static void test_parse_host_bits_allowed(void **state)
{
	struct ip_prefix p;
	const char *why;
	char buf[64];

	(void)state;
	assert_int_equal(ip_prefix_parse("192.0.2.77/24", &p, true, &why), 0);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "192.0.2.0/24");
	assert_int_equal(ip_prefix_parse("192.0.2.255/25", &p, true, &why), 0);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "192.0.2.128/25");
	assert_int_equal(ip_prefix_parse("203.0.113.9/0", &p, true, &why), 0);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "0.0.0.0/0");
	assert_int_equal(ip_prefix_parse("2001:db8:ffff::1/33", &p, true, &why), 0);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "2001:db8:8000::/33");
	/* still refuses what is not an address */
	assert_int_equal(ip_prefix_parse("192.0.2.0/40", &p, true, &why), -EINVAL);
}

static void test_format(void **state)
{
	struct ip_prefix p = { .family = 4, .plen = 20, .addr = { 1, 10, 16, 0 } };
	char buf[64], small[8];

	(void)state;
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "1.10.16.0/20");
	p.plen = 32;
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "1.10.16.0");
	/* truncated into a small buffer, still terminated */
	p.plen = 20;
	ip_prefix_format(&p, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	memset(&p, 0, sizeof(p));
	p.family = 6;
	p.plen = 128;
	p.addr[15] = 1;
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "::1");
	/* the longest form fits 64 bytes */
	memset(p.addr, 0xff, 16);
	p.plen = 127;
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127");
}

static void test_covers(void **state)
{
	struct ip_prefix p, a;
	const char *why;

	(void)state;
	assert_int_equal(ip_prefix_parse("192.0.2.0/24", &p, false, &why), 0);
	assert_int_equal(ip_prefix_parse("192.0.2.200", &a, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	assert_int_equal(ip_prefix_parse("192.0.3.0", &a, false, &why), 0);
	assert_false(ip_prefix_covers(&p, a.addr));

	/* a prefix length that is not a multiple of 8 */
	assert_int_equal(ip_prefix_parse("198.51.100.128/25", &p, false, &why), 0);
	assert_int_equal(ip_prefix_parse("198.51.100.255", &a, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	assert_int_equal(ip_prefix_parse("198.51.100.127", &a, false, &why), 0);
	assert_false(ip_prefix_covers(&p, a.addr));

	/* /0 covers everything, /32 only itself */
	assert_int_equal(ip_prefix_parse("0.0.0.0/0", &p, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	assert_int_equal(ip_prefix_parse("198.51.100.127/32", &p, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	a.addr[3] ^= 1;
	assert_false(ip_prefix_covers(&p, a.addr));

	/* IPv6 */
	assert_int_equal(ip_prefix_parse("2001:db8::/33", &p, false, &why), 0);
	assert_int_equal(ip_prefix_parse("2001:db8:7fff::1", &a, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	assert_int_equal(ip_prefix_parse("2001:db8:8000::1", &a, false, &why), 0);
	assert_false(ip_prefix_covers(&p, a.addr));
	assert_int_equal(ip_prefix_parse("2001:db8::1/128", &p, false, &why), 0);
	assert_int_equal(ip_prefix_parse("2001:db8::1", &a, false, &why), 0);
	assert_true(ip_prefix_covers(&p, a.addr));
	a.addr[15] = 2;
	assert_false(ip_prefix_covers(&p, a.addr));
}

static void test_str_trim(void **state)
{
	char a[] = "  \t hello world \r\n", b[] = "", c[] = " \t\n", d[] = "x";

	(void)state;
	assert_string_equal(str_trim(a), "hello world");
	assert_string_equal(str_trim(b), "");
	assert_string_equal(str_trim(c), "");
	assert_string_equal(str_trim(d), "x");
}

static void test_str_copy(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'z', sizeof(buf));
	assert_true(str_copy(buf, "abcde", sizeof(buf)));
	assert_string_equal(buf, "abcde");
	assert_false(str_copy(buf, "abcdef", sizeof(buf)));
	assert_string_equal(buf, "abcde");
	assert_true(str_copy(buf, "", sizeof(buf)));
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_false(str_copy(buf, "a", 0));
	assert_int_equal(buf[0], 'q'); /* size 0: nothing written */
}

/* mac_parse: the one parser of `macs =`, `check --client` and `check --live --client`. */
static void test_mac_parse(void **state)
{
	static const char *const bad[] = {
		"",
		"02:00:00:00:00",
		"02:00:00:00:00:0",
		"02:00:00:00:00:077",
		"02:00:00:00:00:0g",
		"02.00.00.00.00.07",
		"0200:00:00:00:07",
		"192.0.2.1",
		"02:00:00:00:00:07:",
	};
	__u8 mac[6];
	size_t i;

	(void)state;
	assert_true(mac_parse("02:00:00:00:00:07", mac));
	assert_memory_equal(mac, ((__u8[]){ 2, 0, 0, 0, 0, 7 }), 6);
	assert_true(mac_parse("aa-BB-cc-dd-EE-ff", mac));
	assert_memory_equal(mac, ((__u8[]){ 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff }), 6);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mac_parse(bad[i], mac))
			fail_msg("'%s' was taken for a MAC address", bad[i]);
}

static void test_now_ns(void **state)
{
	uint64_t a = now_ns(), b = now_ns();

	(void)state;
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_host_bits_allowed),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_str_trim),
		cmocka_unit_test(test_str_copy),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_now_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
