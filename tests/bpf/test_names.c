// SPDX-License-Identifier: GPL-2.0-only
/*
 * The name stage through BPF_PROG_TEST_RUN (needs root): the real skeleton loaded by
 * loader_load() with a hand-built policy of domain lists (block, allow, a category that is
 * off, an exact-only entry, names at the length limits).
 *   - fixtures: DNS queries (UDP and TCP, v4 and v6, types, 0x20 case, label boundaries,
 *     127 labels, 253 characters, too long, malformed, truncated), TLS ClientHellos (SNI
 *     position, ECH, no SNI, malformed), HTTP requests (Host with a port, absolute-form,
 *     pipelined), through XDP and TC ingress, asserting the return code, every counter delta,
 *     the list hits and the trace (the domain leaf against the host's domtable_lookup());
 *   - the answers byte for byte, read by a parser written in the test (tests/bpf/l7gen.h), every
 *     checksum recomputed independently: NXDOMAIN, REFUSED, sinkhole A/AAAA, NODATA, with and
 *     without EDNS (OPT + EDE 15), v4 and v6, VLAN; TCP resets for SNI, Host, DNS over TCP;
 *   - split ClientHellos over 2 and 3 segments (SNI in the 2nd, straddling a boundary), out of
 *     order, retransmitted, interleaved flows;
 *   - DNS over TCP as a stream: queries pipelined in a segment, a length prefix alone or a byte
 *     at a time, a query cut after or inside its question, retransmitted, overlapping and
 *     out-of-order segments, more queries than are judged, the drop action's retransmissions;
 *     and 300 random streams cut at random places, some segments sent twice, against a model;
 *   - a differential of kernel decisions against domtable_lookup() over random names;
 *   - the verifier's instruction count of each program, printed and bounded.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/loader.h"
#include "user/log.h"
#include "user/policy.h"
#include "bpf/lib/dns.h"
#include "bpf/pktgen.h"
#include "bpf/harness.h"
#include "bpf/l7gen.h"

#define TCP PARSE_IPPROTO_TCP
#define UDP PARSE_IPPROTO_UDP
#define NB(x) NOTE_BIT(GC_NOTE_##x)
#define NOLIST (-1)
#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* --- the policy --- */

enum { CAT_ADULT = 0, CAT_MALWARE = 1, CAT_GAMES = 2 };
#define BLOCK_MASK ((1ull << CAT_ADULT) | (1ull << CAT_MALWARE)) /* games are off */
enum { L_ADULT = 0, L_MALWARE = 1, L_ALLOW = 2, L_GAMES = 3, N_LISTS = 4 };

static const struct {
	const char *name, *category;
	__u32 category_id, action;
} lists[N_LISTS] = {
	[L_ADULT] = { "adult", "adult", CAT_ADULT, LIST_BLOCK },
	[L_MALWARE] = { "malware", "malware", CAT_MALWARE, LIST_BLOCK },
	[L_ALLOW] = { "allow", "adult", CAT_ADULT, LIST_ALLOW },
	[L_GAMES] = { "games", "games", CAT_GAMES, LIST_BLOCK },
};

/* Names built at setup: the longest that can be listed and looked up. */
static char n253_listed[256]; /* 253 characters, listed exact-only */
static char n253_under[256]; /* 253 characters under long.test */
static char n254_under[260]; /* 254: too long */
static char n127_under[256]; /* 127 labels under q.z */
static char n128[300]; /* 128 labels */
static char n63label[96]; /* a 63-byte label under example-adult.com */
static char n64label[96]; /* a 64-byte label: SNI only (DNS cannot say it) */
/* 40 labels, listed: the walk finds a node at every level (past the fast path's 16) */
static char n40_listed[160];
static char n41_below[170]; /* one label below it */
/* its last 32 labels (x8. ... .x37.deep.test), listed exact-only as allowed: past two parts */
static char n32_exact[120];
static char n40_beside[160]; /* its 20 top labels, then others: nothing listed */

static const struct {
	const char *name;
	int list;
	bool exact;
} entries[] = {
	{ "example-adult.com", L_ADULT, false },
	{ "ads.example.net", L_ADULT, false },
	{ "q.z", L_ADULT, false },
	{ n40_listed, L_MALWARE, false },
	{ n32_exact, L_ALLOW, true },
	{ "exact.example.org", L_ADULT, true },
	{ "evil.test", L_MALWARE, false },
	{ "long.test", L_MALWARE, false },
	{ n253_listed, L_MALWARE, true },
	{ "safe.example-adult.com", L_ALLOW, false },
	{ "game.example", L_GAMES, false },
	/* a walk may end at a key nothing is listed below (DOM_SLOT_F_LAST): these must not */
	{ "shop.example", L_ADULT, false },
	{ "shop.example", L_ALLOW, true }, /* an exact-only allow at the same name */
	{ "kids.example", L_ADULT, false },
	{ "ok.kids.example", L_ALLOW, true }, /* an exact-only allow below */
	{ "far.example", L_ADULT, false },
	{ "c.b.a.far.example", L_ALLOW, false }, /* listed three labels below */
	{ "203.0.113.7", L_MALWARE, false }, /* an IP entry: tested for the IP-first order */
};

static void setup_names(void)
{
	int i;

	for (i = 0; i < 253; i++)
		n253_listed[i] = (i + 1) % 60 == 0 ? '.' : (char)('a' + i % 26);
	n253_listed[253] = 0;
	/* 243 characters of labels, then ".long.test" */
	for (i = 0; i < 243; i++)
		n253_under[i] = (i + 1) % 50 == 0 ? '.' : 'k';
	strcpy(n253_under + 243, ".long.test");
	snprintf(n254_under, sizeof(n254_under), "k%s", n253_under);
	for (i = 0; i < 125; i++) {
		n127_under[2 * i] = (char)('a' + i % 26);
		n127_under[2 * i + 1] = '.';
	}
	strcpy(n127_under + 250, "q.z");
	for (i = 0; i < 128; i++) {
		n128[2 * i] = 'b';
		n128[2 * i + 1] = '.';
	}
	strcpy(n128 + 253, "q.z"); /* 128 labels before q.z: 130 */
	/* x0.x1. ... .x37.deep.test; y0. ... .y19.x20. ... .x37.deep.test */
	n40_listed[0] = n40_beside[0] = 0;
	for (i = 0; i < 38; i++) {
		snprintf(n40_listed + strlen(n40_listed), sizeof(n40_listed) - strlen(n40_listed),
			 "x%d.", i);
		snprintf(n40_beside + strlen(n40_beside), sizeof(n40_beside) - strlen(n40_beside),
			 "%c%d.", i < 20 ? 'y' : 'x', i);
	}
	strcat(n40_listed, "deep.test");
	strcat(n40_beside, "deep.test");
	snprintf(n41_below, sizeof(n41_below), "w.%s", n40_listed);
	snprintf(n32_exact, sizeof(n32_exact), "%s", strstr(n40_listed, "x8."));
	memset(n63label, 'm', 63);
	strcpy(n63label + 63, ".example-adult.com");
	memset(n64label, 'm', 64);
	strcpy(n64label + 64, ".example-adult.com");
}

/* --- frames --- */

struct fspec {
	int fam; /* 4 (default) or 6 */
	__u8 l4; /* UDP (default for DNS) or TCP */
	__u16 sport, dport; /* 0: 40000 and 53 (UDP) / 443 (TCP) */
	__u16 vlan; /* a tag's TPID, 0: none */
	__u8 ip_opts; /* IPv4 option bytes */
	const char *dst; /* 0: 198.51.100.53 / 2001:db8:53::53 */
	__u32 seq, ack;
	__u8 flags; /* TCP, 0: ACK|PSH */
};

static void frame(struct pkt *p, const struct fspec *fs, const void *payload, size_t len)
{
	__u8 src[16], dst[16];
	int fam = fs->fam ? fs->fam : 4;
	const char *d = fs->dst ? fs->dst : fam == 4 ? "198.51.100.53" : "2001:db8:53::53";

	pkt_init(p);
	pkt_eth(p);
	if (fs->vlan)
		pkt_vlan(p, fs->vlan, 7);
	assert_int_equal(pkt_addr(d, dst), fam);
	assert_int_equal(pkt_addr(fam == 4 ? "192.0.2.10" : "2001:db8:c::10", src), fam);
	if (fam == 4)
		pkt_ipv4(p, src, dst, fs->ip_opts, 0);
	else
		pkt_ipv6(p, src, dst);
	if (fs->l4 == TCP) {
		__u8 *t;

		pkt_tcp(p, fs->sport ? fs->sport : 40000, fs->dport ? fs->dport : 443, 5,
			fs->flags ? fs->flags : TCP_ACK | TCP_PSH);
		t = p->buf + p->l4_off;
		t[4] = (__u8)(fs->seq >> 24);
		t[5] = (__u8)(fs->seq >> 16);
		t[6] = (__u8)(fs->seq >> 8);
		t[7] = (__u8)fs->seq;
		t[8] = (__u8)(fs->ack >> 24);
		t[9] = (__u8)(fs->ack >> 16);
		t[10] = (__u8)(fs->ack >> 8);
		t[11] = (__u8)fs->ack;
	} else {
		pkt_udp(p, fs->sport ? fs->sport : 40000, fs->dport ? fs->dport : 53);
	}
	pkt_payload(p, payload, len);
	pkt_finish(p);
	assert_false(p->overflow);
}

/* --- fixtures --- */

enum payload_kind { P_DNS = 1, P_DNS_TCP, P_TLS, P_HTTP, P_RAW };

struct pspec;
typedef size_t (*payload_fn)(__u8 *buf, size_t cap, const struct pspec *f);

/* A payload: what it carries, and how the frame is cut. */
struct pspec {
	int kind; /* enum payload_kind */
	const char *name; /* the qname, SNI, Host */
	__u16 qtype; /* DNS, 0: A */
	payload_fn custom; /* instead of kind's default payload: writes it, returns its length */
	const char *pre, *post; /* P_HTTP: the payload is pre, the name, post (when pre is set) */
	size_t cut; /* > 0: the frame ends this many bytes early */
};

struct nfix {
	const char *desc;
	struct fspec fs;
	struct pspec pl;
	__u32 counter; /* the verdict counter */
	int list; /* the list with a hit, or NOLIST */
	__u32 notes; /* NB() of the notes */
	__u32 more_hits; /* 1 << l for each other list l with a hit (requests pipelined) */
	const char *decider; /* the name whose entry decided, when not pl.name (pipelined) */
};

static size_t dns_payload(__u8 *buf, size_t cap, const char *name, __u16 qtype, bool edns)
{
	struct dnsq_spec s = {
		.id = 0x4242, .name = name, .qtype = qtype ? qtype : 1, .edns = edns
	};

	return l7_dns_query(buf, cap, &s);
}

static size_t payload_of(const struct pspec *f, __u8 *buf, size_t cap)
{
	size_t n, sni_off;

	if (f->custom)
		return f->custom(buf, cap, f);
	switch (f->kind) {
	case P_DNS:
		return dns_payload(buf, cap, f->name, f->qtype, false);
	case P_DNS_TCP:
		n = dns_payload(buf + 2, cap - 2, f->name, f->qtype, false);
		buf[0] = (__u8)(n >> 8);
		buf[1] = (__u8)n;
		return n + 2;
	case P_TLS: {
		struct hello_spec h = { .sni = f->name, .sni_pos = 3, .grease = true };

		return l7_hello(buf, cap, &h, &sni_off);
	}
	case P_HTTP:
		if (f->pre)
			return (size_t)snprintf((char *)buf, cap, "%s%s%s", f->pre, f->name,
						f->post);
		return (size_t)snprintf(
			(char *)buf, cap,
			"GET /index.html HTTP/1.1\r\nHost: %s\r\nUser-Agent: t/1\r\n"
			"Accept: */*\r\n\r\n",
			f->name);
	default:
		return 0;
	}
}

static size_t c_response(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct dnsq_spec s = { .name = f->name, .qtype = 1, .flags = 0x8180 };

	return l7_dns_query(buf, cap, &s);
}

static size_t c_qd2(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct dnsq_spec s = { .name = f->name, .qtype = 1, .qdcount = 2 };

	return l7_dns_query(buf, cap, &s);
}

static size_t c_pointer(__u8 *buf, size_t cap, const struct pspec *f)
{
	static const __u8 w[] = { 3, 'w', 'w', 'w', 0xc0, 0x0c };
	struct dnsq_spec s = { .wire = w, .wire_len = sizeof(w), .qtype = 1 };

	(void)f;
	return l7_dns_query(buf, cap, &s);
}

static size_t c_edns(__u8 *buf, size_t cap, const struct pspec *f)
{
	return dns_payload(buf, cap, f->name, f->qtype, true);
}

static size_t c_ech(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 5, .ech = true, .grease = true };
	size_t sni_off;

	return l7_hello(buf, cap, &h, &sni_off);
}

/* The SNI as the last extension, without GREASE: the frame ends with the name. */
static size_t c_hello_sni_last(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 14 };
	size_t sni_off, n = l7_hello(buf, cap, &h, &sni_off);

	assert_int_equal(sni_off + strlen(f->name), n);
	return n;
}

static size_t c_nosni(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = NULL };
	size_t sni_off;

	(void)f;
	return l7_hello(buf, cap, &h, &sni_off);
}

static size_t c_hello_bad(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 2 };
	size_t sni_off, n = l7_hello(buf, cap, &h, &sni_off);

	buf[9 + 34] = 33; /* session id length 33 */
	return n;
}

static size_t c_hello_short_record(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 2, .record_cut = 100 };
	size_t sni_off;

	return l7_hello(buf, cap, &h, &sni_off);
}

/* The hello in records of 40 bytes (one boundary inside the SNI): followed. */
static size_t c_hello_records(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 6, .record_piece = 40 };
	size_t sni_off;

	return l7_hello(buf, cap, &h, &sni_off);
}

/* In records of 2 bytes: more records than fields the walk follows. */
static size_t c_hello_tiny_records(__u8 *buf, size_t cap, const struct pspec *f)
{
	struct hello_spec h = { .sni = f->name, .sni_pos = 6, .record_piece = 2 };
	size_t sni_off;

	return l7_hello(buf, cap, &h, &sni_off);
}

/* Records of 40 bytes, the second of another content type (application data). */
static size_t c_hello_mixed_records(__u8 *buf, size_t cap, const struct pspec *f)
{
	size_t n = c_hello_records(buf, cap, f);

	if (n > 45)
		buf[45] = 0x17;
	return n;
}

static size_t c_http_port(__u8 *buf, size_t cap, const struct pspec *f)
{
	return (size_t)snprintf((char *)buf, cap, "POST /x HTTP/1.1\r\nhost:%s:8080\r\n\r\n",
				f->name);
}

static size_t c_http_abs(__u8 *buf, size_t cap, const struct pspec *f)
{
	return (size_t)snprintf((char *)buf, cap,
				"GET http://%s/p HTTP/1.1\r\nHost: unlisted.example\r\n\r\n",
				f->name);
}

static size_t c_http_nohost(__u8 *buf, size_t cap, const struct pspec *f)
{
	(void)f;
	return (size_t)snprintf((char *)buf, cap, "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n");
}

static size_t c_http_literal(__u8 *buf, size_t cap, const struct pspec *f)
{
	(void)f;
	return (size_t)snprintf((char *)buf, cap, "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n");
}

/*
 * HTTP/1.1 pipelining, as pre NAME post (struct pspec): an unlisted host's request, then one
 * for the name; the same with bare LF line ends (HTTP/1.0 clients may send them); the name's
 * request first, then an unlisted one; behind a request without a host; behind an allowed
 * host's; a POST whose 33-byte body reads as a request for the name (a body is not read).
 */
#define HTTP_END "\r\n\r\n"
#define HTTP_REQ_PRE "GET / HTTP/1.1\r\nHost: "
#define HTTP_PIPE_PRE "GET / HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n" HTTP_REQ_PRE
#define HTTP_PIPE_LF_PRE "GET / HTTP/1.0\nHost: a.example.org\n\nHEAD /x HTTP/1.0\nHost: "
#define HTTP_PIPE_POST "\r\n\r\nGET /x HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
#define HTTP_NOHOST_PRE "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n" HTTP_REQ_PRE
#define HTTP_ALLOW_PRE "GET / HTTP/1.1\r\nHost: safe.example-adult.com\r\n\r\n" HTTP_REQ_PRE
#define HTTP_BODY_PRE \
	"POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 33\r\n\r\nx" HTTP_REQ_PRE

/* n - 1 unlisted hosts' requests pipelined, then one for the name */
static size_t http_nth(__u8 *buf, size_t cap, const struct pspec *f, int n)
{
	size_t len = 0;
	int i;

	for (i = 1; i < n; i++)
		len += (size_t)snprintf((char *)buf + len, cap - len,
					"GET /%d HTTP/1.1\r\nHost: www.example.com\r\n\r\n", i);
	return len +
	       (size_t)snprintf((char *)buf + len, cap - len, HTTP_REQ_PRE "%s" HTTP_END, f->name);
}

/* the last request the guard judges in a segment (HTTP_REQS_MAX), and one more */
static size_t c_http_16th(__u8 *buf, size_t cap, const struct pspec *f)
{
	return http_nth(buf, cap, f, 16);
}

static size_t c_http_17th(__u8 *buf, size_t cap, const struct pspec *f)
{
	return http_nth(buf, cap, f, 17);
}

static size_t c_tls_appdata(__u8 *buf, size_t cap, const struct pspec *f)
{
	size_t i;

	(void)f;
	buf[0] = 0x17;
	buf[1] = 3;
	buf[2] = 3;
	buf[3] = 0;
	buf[4] = 200;
	for (i = 5; i < 205 && i < cap; i++)
		buf[i] = (__u8)(i * 13);
	return 205;
}

/* clang-format off */
#define DNS4(n, ...) { .kind = P_DNS, .name = n, __VA_ARGS__ }
#define ANSWER(l) GC_ANSWER_DNS_NXDOMAIN, l, 0
#define NOMATCH GC_PASS_NOMATCH, NOLIST, 0
#define PASS_N(c, notes) GC_##c, NOLIST, notes
static const struct nfix fixtures[] = {
	/* DNS over UDP, IPv4: what matches, at label boundaries */
	{ "dns A subdomain", {}, DNS4("www.example-adult.com"), ANSWER(L_ADULT) },
	{ "dns AAAA listed name", {}, DNS4("example-adult.com", .qtype = 28), ANSWER(L_ADULT) },
	{ "dns HTTPS", {}, DNS4("a.b.ads.example.net", .qtype = 65), ANSWER(L_ADULT) },
	{ "dns SVCB", {}, DNS4("evil.test", .qtype = 64), GC_ANSWER_DNS_NXDOMAIN, L_MALWARE, 0 },
	{ "dns ANY", {}, DNS4("x.evil.test", .qtype = 255), GC_ANSWER_DNS_NXDOMAIN, L_MALWARE,
	  0 },
	{ "dns 0x20 mixed case", {}, DNS4("WwW.ExAmPlE-aDuLt.CoM"), ANSWER(L_ADULT) },
	{ "dns not at a label boundary", {}, DNS4("notexample-adult.com"), NOMATCH },
	{ "dns listed name as a prefix", {}, DNS4("example-adult.com.evil"), NOMATCH },
	{ "dns parent of a listed name", {}, DNS4("example.net"), NOMATCH },
	{ "dns unlisted", {}, DNS4("www.example.com"), NOMATCH },
	{ "dns allow inside a block", {}, DNS4("safe.example-adult.com"),
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "dns below an allow", {}, DNS4("a.safe.example-adult.com"),
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "dns beside an allow", {}, DNS4("unsafe.example-adult.com"), ANSWER(L_ADULT) },
	{ "dns exact-only entry", {}, DNS4("EXACT.example.org"), ANSWER(L_ADULT) },
	{ "dns below an exact-only entry", {}, DNS4("a.exact.example.org"), NOMATCH },
	{ "dns category off", {}, DNS4("www.game.example"), GC_PASS_DOMAIN_CATEGORY_OFF, NOLIST,
	  0 },
	{ "dns exact-only allow at a subtree entry", {}, DNS4("shop.example"),
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "dns below it", {}, DNS4("www.shop.example"), ANSWER(L_ADULT) },
	{ "dns exact-only allow under a subtree entry", {}, DNS4("ok.kids.example"),
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "dns below the exact-only allow", {}, DNS4("a.ok.kids.example"), ANSWER(L_ADULT) },
	{ "dns allow listed three labels below", {}, DNS4("x.c.b.a.far.example"),
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "dns beside it", {}, DNS4("x.b.a.far.example"), ANSWER(L_ADULT) },
	{ "dns 63-byte label", {}, DNS4(n63label), ANSWER(L_ADULT) },
	{ "dns 127 labels", {}, DNS4(n127_under), ANSWER(L_ADULT) },
	{ "dns 40 labels, every level a node", {}, DNS4(n40_listed), GC_ANSWER_DNS_NXDOMAIN,
	  L_MALWARE, 0 },
	{ "dns 41 labels below 40 listed", {}, DNS4(n41_below), GC_ANSWER_DNS_NXDOMAIN,
	  L_MALWARE, 0 },
	{ "dns 40 labels, nodes for 20", {}, DNS4(n40_beside), NOMATCH },
	{ "dns 253 characters", {}, DNS4(n253_under), GC_ANSWER_DNS_NXDOMAIN, L_MALWARE, 0 },
	{ "dns 253 characters, listed exact", {}, DNS4(n253_listed), GC_ANSWER_DNS_NXDOMAIN,
	  L_MALWARE, 0 },
	{ "dns 254 characters", {}, DNS4(n254_under), PASS_N(PASS_NAME_TOO_LONG, 0) },
	{ "dns 130 labels", {}, DNS4(n128), PASS_N(PASS_NAME_TOO_LONG, 0) },
	{ "dns root name", {}, DNS4("."), NOMATCH },
	{ "dns with EDNS", {}, { .kind = P_DNS, .name = "www.evil.test", .custom = c_edns },
	  GC_ANSWER_DNS_NXDOMAIN, L_MALWARE, 0 },
	{ "dns response", {}, { .kind = P_DNS, .name = "evil.test", .custom = c_response },
	  PASS_N(PASS_NOMATCH, NB(DNS_NOT_QUERY)) },
	{ "dns QDCOUNT 2", {}, { .kind = P_DNS, .name = "evil.test", .custom = c_qd2 },
	  PASS_N(PASS_DNS_MALFORMED, 0) },
	{ "dns compression pointer", {}, { .kind = P_DNS, .custom = c_pointer },
	  PASS_N(PASS_DNS_MALFORMED, 0) },
	{ "dns name cut by the frame", {}, { .kind = P_DNS, .name = "www.evil.test", .cut = 8 },
	  PASS_N(PASS_NAME_TRUNCATED, 0) },
	{ "dns header cut by the frame", {}, { .kind = P_DNS, .name = "a", .cut = 12 },
	  PASS_N(PASS_DNS_MALFORMED, 0) },
	{ "dns to another port", { .dport = 5353 }, DNS4("evil.test"), NOMATCH },
	/* shapes */
	{ "dns IPv6", { .fam = 6 }, DNS4("www.evil.test"), GC_ANSWER_DNS_NXDOMAIN, L_MALWARE, 0 },
	{ "dns in a VLAN", { .vlan = 0x8100 }, DNS4("www.evil.test"), GC_ANSWER_DNS_NXDOMAIN,
	  L_MALWARE, NB(VLAN) },
	{ "dns IPv6 in a VLAN", { .fam = 6, .vlan = 0x88a8 }, DNS4("evil.test"),
	  GC_ANSWER_DNS_NXDOMAIN, L_MALWARE, NB(VLAN) },
	{ "dns with IPv4 options: not answered", { .ip_opts = 8 }, DNS4("evil.test"), GC_DROP_DNS,
	  L_MALWARE, NB(IPV4_OPTIONS) },
	{ "dns to a blocked address: the IP rule first", { .dst = "203.0.113.7" },
	  DNS4("safe.example-adult.com"), GC_DROP_IP_DST, L_MALWARE, 0 },
	/* DNS over TCP */
	{ "dns over tcp", { .l4 = TCP, .dport = 53 }, { .kind = P_DNS_TCP, .name = "evil.test" },
	  GC_RESET_DNS_TCP, L_MALWARE, 0 },
	{ "dns over tcp unlisted", { .l4 = TCP, .dport = 53 },
	  { .kind = P_DNS_TCP, .name = "example.com" }, NOMATCH },
	{ "dns over tcp v6", { .fam = 6, .l4 = TCP, .dport = 53 },
	  { .kind = P_DNS_TCP, .name = "www.example-adult.com" }, GC_RESET_DNS_TCP, L_ADULT, 0 },
	/* TLS */
	{ "sni blocked", { .l4 = TCP }, { .kind = P_TLS, .name = "www.evil.test" }, GC_RESET_SNI,
	  L_MALWARE, 0 },
	{ "sni blocked, any port", { .l4 = TCP, .dport = 8443 },
	  { .kind = P_TLS, .name = "Ads.Example.NET" }, GC_RESET_SNI, L_ADULT, 0 },
	{ "sni unlisted", { .l4 = TCP }, { .kind = P_TLS, .name = "www.example.com" }, NOMATCH },
	{ "sni allow", { .l4 = TCP }, { .kind = P_TLS, .name = "safe.example-adult.com" },
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0 },
	{ "sni v6", { .fam = 6, .l4 = TCP }, { .kind = P_TLS, .name = "evil.test" },
	  GC_RESET_SNI, L_MALWARE, 0 },
	/*
	 * The name is read in place a word at a time from the byte before it: a name that ends
	 * the frame leaves its last word short (13 bytes: the copy by the helper), or not
	 * (15 bytes: the last word ends with the frame)
	 */
	{ "sni ending the frame", { .l4 = TCP },
	  { .kind = P_TLS, .name = "www.evil.test", .custom = c_hello_sni_last }, GC_RESET_SNI,
	  L_MALWARE, 0 },
	{ "sni ending the frame with a whole word", { .l4 = TCP },
	  { .kind = P_TLS, .name = "x.www.evil.test", .custom = c_hello_sni_last }, GC_RESET_SNI,
	  L_MALWARE, 0 },
	{ "sni ending the frame, unlisted", { .l4 = TCP },
	  { .kind = P_TLS, .name = "x.www.evil.tes", .custom = c_hello_sni_last }, NOMATCH },
	{ "sni with ech before it", { .l4 = TCP }, { .kind = P_TLS, .name = "evil.test",
	  .custom = c_ech }, GC_RESET_SNI, L_MALWARE, NB(TLS_ECH) },
	{ "hello without sni", { .l4 = TCP }, { .kind = P_TLS, .custom = c_nosni },
	  PASS_N(PASS_NOMATCH, NB(TLS_NO_SNI)) },
	{ "hello malformed", { .l4 = TCP }, { .kind = P_TLS, .name = "evil.test",
	  .custom = c_hello_bad }, PASS_N(PASS_TLS_MALFORMED, 0) },
	{ "a record shorter than its hello, the sni in it", { .l4 = TCP },
	  { .kind = P_TLS, .name = "evil.test", .custom = c_hello_short_record }, GC_RESET_SNI,
	  L_MALWARE, 0 },
	{ "hello in records of 40 bytes", { .l4 = TCP }, { .kind = P_TLS, .name = "www.evil.test",
	  .custom = c_hello_records }, GC_RESET_SNI, L_MALWARE, 0 },
	{ "hello in records of 40 bytes, unlisted", { .l4 = TCP },
	  { .kind = P_TLS, .name = "www.example.com", .custom = c_hello_records }, NOMATCH },
	{ "hello in records of 2 bytes", { .l4 = TCP }, { .kind = P_TLS, .name = "evil.test",
	  .custom = c_hello_tiny_records }, PASS_N(PASS_TLS_UNSUPPORTED, 0) },
	{ "hello records with another content type", { .l4 = TCP }, { .kind = P_TLS,
	  .name = "evil.test", .custom = c_hello_mixed_records }, PASS_N(PASS_TLS_MALFORMED, 0) },
	{ "sni with an empty label", { .l4 = TCP }, { .kind = P_TLS, .name = "a..evil.test" },
	  PASS_N(PASS_NAME_MALFORMED, 0) },
	{ "sni with a 64-byte label", { .l4 = TCP }, { .kind = P_TLS, .name = n64label },
	  PASS_N(PASS_NAME_TOO_LONG, 0) },
	{ "sni of 253 characters", { .l4 = TCP }, { .kind = P_TLS, .name = n253_under },
	  GC_RESET_SNI, L_MALWARE, 0 },
	{ "tls application data", { .l4 = TCP }, { .kind = P_RAW, .custom = c_tls_appdata },
	  NOMATCH },
	/* HTTP */
	{ "http host", { .l4 = TCP, .dport = 80 }, { .kind = P_HTTP, .name = "www.evil.test" },
	  GC_RESET_HTTP, L_MALWARE, 0 },
	{ "http host unlisted", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.example.com" }, NOMATCH },
	{ "http host with a port", { .l4 = TCP, .dport = 8080 },
	  { .kind = P_HTTP, .name = "EVIL.test", .custom = c_http_port }, GC_RESET_HTTP,
	  L_MALWARE, 0 },
	{ "http absolute-form", { .l4 = TCP, .dport = 3128 },
	  { .kind = P_HTTP, .name = "x.ads.example.net", .custom = c_http_abs }, GC_RESET_HTTP,
	  L_ADULT, 0 },
	{ "http v6", { .fam = 6, .l4 = TCP, .dport = 80 }, { .kind = P_HTTP, .name = "evil.test" },
	  GC_RESET_HTTP, L_MALWARE, 0 },
	{ "http without host", { .l4 = TCP, .dport = 80 }, { .kind = P_HTTP,
	  .custom = c_http_nohost }, PASS_N(PASS_NOMATCH, NB(HTTP_NO_HOST)) },
	{ "http ip literal", { .l4 = TCP, .dport = 80 }, { .kind = P_HTTP,
	  .custom = c_http_literal }, PASS_N(PASS_NOMATCH, NB(HTTP_NO_HOST)) },
	{ "http host cut by the frame", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.evil.test", .cut = 48 },
	  PASS_N(PASS_NAME_TRUNCATED, 0) },
	/* requests pipelined in one segment: each judged, up to 16 */
	{ "http pipelined, the 2nd blocked", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.evil.test", .pre = HTTP_PIPE_PRE, .post = HTTP_END },
	  GC_RESET_HTTP, L_MALWARE, 0 },
	{ "http pipelined, bare LF lines", { .fam = 6, .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "Evil.Test", .pre = HTTP_PIPE_LF_PRE, .post = "\n\n" },
	  GC_RESET_HTTP, L_MALWARE, 0 },
	{ "http pipelined, the 2nd unlisted", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.example.org", .pre = HTTP_PIPE_PRE, .post = HTTP_END },
	  NOMATCH },
	{ "http pipelined behind a blocked host", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.evil.test", .pre = HTTP_REQ_PRE, .post = HTTP_PIPE_POST },
	  GC_RESET_HTTP, L_MALWARE, 0 },
	{ "http pipelined behind a request without a host", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.evil.test", .pre = HTTP_NOHOST_PRE, .post = HTTP_END },
	  GC_RESET_HTTP, L_MALWARE, NB(HTTP_NO_HOST) },
	{ "http pipelined behind an allowed host", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "evil.test", .pre = HTTP_ALLOW_PRE, .post = HTTP_END },
	  GC_RESET_HTTP, L_MALWARE, 0, 1u << L_ALLOW },
	{ "http pipelined, allowed then unlisted", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "a.example.org", .pre = HTTP_ALLOW_PRE, .post = HTTP_END },
	  GC_PASS_DOMAIN_ALLOW, L_ALLOW, 0, 0, "safe.example-adult.com" },
	{ "http pipelined, allowed then a host cut", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "a.example.org", .pre = HTTP_ALLOW_PRE, .post = "" },
	  PASS_N(PASS_NAME_TRUNCATED, 0), 1u << L_ALLOW },
	{ "http pipelined, the 16th blocked", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "evil.test", .custom = c_http_16th }, GC_RESET_HTTP, L_MALWARE,
	  0 },
	{ "http pipelined, the 17th: not read", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "evil.test", .custom = c_http_17th },
	  PASS_N(PASS_HTTP_UNSUPPORTED, 0) },
	{ "http with a body: not looked past", { .l4 = TCP, .dport = 80 },
	  { .kind = P_HTTP, .name = "www.evil.test", .pre = HTTP_BODY_PRE, .post = HTTP_END },
	  NOMATCH },
};
/* clang-format on */

/* --- state, map access --- */

struct nstate {
	struct guard_policy *pol;
	struct guard *skel;
	int ncpus, cpu;
	struct guard_policy *pol2; /* a second load for one test (freed by the teardown) */
	struct guard *skel2;
};

static void snap(const struct nstate *s, struct guard *skel, struct snapshot *sn)
{
	harness_snap(skel, s->ncpus, N_LISTS, sn);
}

static void trace_reset(const struct nstate *s, struct guard *skel)
{
	harness_trace_reset(skel, s->ncpus);
}

static void trace_read(const struct nstate *s, struct guard *skel, struct guard_trace *out)
{
	harness_trace_read(skel, s->ncpus, s->cpu, out);
}

enum hook { HOOK_XDP = 0, HOOK_TC = 1 };
static const char *const hook_name[] = { "xdp", "tc" };

struct run_out {
	int ret;
	__u8 buf[PKT_MAX + 512];
	__u32 len;
};

static void run(struct guard *skel, enum hook hook, const void *frame, size_t len,
		struct run_out *o)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = o->buf, .data_size_out = sizeof(o->buf), .repeat = 1);
	struct bpf_program *prog = hook == HOOK_XDP ? skel->progs.guard_xdp :
						      skel->progs.guard_tc_ingress;
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		fail_msg("%s test run of %zu bytes: %s", hook_name[hook], len, strerror(-err));
	o->ret = (int)opts.retval;
	o->len = opts.data_size_out;
}

static const char *counter_name(__u32 c)
{
	return c < GC_COUNTER_MAX ? guard_counter_info[c].name : "?";
}

static bool is_answer(__u32 c)
{
	return (c >= GC_ANSWER_DNS_NXDOMAIN && c <= GC_ANSWER_DNS_NODATA) ||
	       c == GC_RESET_DNS_TCP || c == GC_RESET_SNI || c == GC_RESET_HTTP ||
	       c == GC_RESET_UNEXAMINED;
}

static bool is_drop(__u32 c)
{
	return c == GC_DROP_IP_DST || c == GC_DROP_IP_SRC || c == GC_DROP_DNS ||
	       c == GC_DROP_DNS_TCP || c == GC_DROP_SNI || c == GC_DROP_HTTP ||
	       c == GC_DROP_UNEXAMINED;
}

static int expected_retval(enum hook hook, __u32 counter)
{
	if (hook == HOOK_XDP)
		return is_drop(counter) ? XDP_DROP : is_answer(counter) ? XDP_TX : XDP_PASS;
	return is_drop(counter) ? TC_ACT_SHOT : is_answer(counter) ? TC_ACT_REDIRECT : TC_ACT_OK;
}

static void check_deltas(const char *what, const struct snapshot *a, const struct snapshot *b,
			 __u32 counter, __u32 notes, int list, __u32 more_hits, size_t len)
{
	__u32 i;

	for (i = 0; i < GC_COUNTER_MAX; i++) {
		bool want = i == counter || (i >= GC_VERDICT_MAX && (notes & NOTE_BIT(i)));
		__u64 dp = b->c[i].packets - a->c[i].packets, db = b->c[i].bytes - a->c[i].bytes;

		if (dp != (want ? 1 : 0) || db != (want ? len : 0))
			fail_msg("%s: counter %s moved by %llu packets %llu bytes, expected %d/%zu",
				 what, counter_name(i), (unsigned long long)dp,
				 (unsigned long long)db, want, want ? len : 0);
	}
	for (i = 0; i < N_LISTS; i++) {
		int want = (list >= 0 && i == (__u32)list) + ((more_hits >> i) & 1);
		__u64 dp = b->hits[i].packets - a->hits[i].packets;

		if (dp != (__u64)want)
			fail_msg("%s: list %u hits moved by %llu, expected %d", what, i,
				 (unsigned long long)dp, want);
	}
}

/* --- setup --- */

static int build_policy(struct guard_policy **out, bool with_ip)
{
	struct guard_policy *pol = policy_new();
	struct ipt_entry ip = { 0 };
	const char *why;
	size_t i;
	int err;

	*out = NULL;
	if (!pol)
		return -ENOMEM;
	for (i = 0; i < N_LISTS; i++) {
		struct list_meta *m = &pol->lists[i];

		str_copy(m->name, lists[i].name, sizeof(m->name));
		str_copy(m->category, lists[i].category, sizeof(m->category));
		m->category_id = lists[i].category_id;
		m->action = lists[i].action;
	}
	pol->n_lists = N_LISTS;
	pol->groups[0].block_mask = BLOCK_MASK;
	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		struct dom_entry e = {
			.name = entries[i].name,
			.exact = entries[i].exact,
			.allow = lists[entries[i].list].action == LIST_ALLOW,
			.list_id = (__u16)entries[i].list,
			.category = lists[entries[i].list].category_id,
		};

		if (!strcmp(entries[i].name, "203.0.113.7")) {
			if (!with_ip)
				continue;
			if (ip_prefix_parse(entries[i].name, &ip.prefix, false, &why))
				return -EINVAL;
			ip.dir = IPT_DIR_DST;
			ip.list_id = (__u16)entries[i].list;
			ip.category = lists[entries[i].list].category_id;
			continue;
		}
		err = domtable_add(&pol->dom, &e);
		if (err) {
			fprintf(stderr, "domtable_add %s: %s\n", e.name, strerror(-err));
			policy_free(pol);
			return err;
		}
	}
	err = iptable_build(&pol->ipt, &ip, with_ip ? 1 : 0);
	if (!err)
		err = domtable_build(&pol->dom);
	if (err) {
		policy_free(pol);
		return err;
	}
	*out = pol;
	return 0;
}

static int load(struct guard_policy *pol, struct guard **skel)
{
	struct loader_opts o = LOADER_OPTS_INIT;

	o.trace = true;
	return loader_load(pol, &o, skel);
}

static int group_setup(void **state)
{
	struct nstate *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -1;
	*state = s;
	if (geteuid() != 0) {
		fprintf(stderr, "test_names needs root (BPF_PROG_TEST_RUN, map creation)\n");
		return -1;
	}
	if (harness_pin_cpu(&s->cpu))
		return -1;
	s->ncpus = libbpf_num_possible_cpus();
	setup_names();
	err = build_policy(&s->pol, true);
	if (!err)
		err = load(s->pol, &s->skel);
	if (err) {
		fprintf(stderr, "setup: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static void drop_second(struct nstate *s)
{
	guard__destroy(s->skel2);
	s->skel2 = NULL;
	policy_free(s->pol2);
	s->pol2 = NULL;
}

static int group_teardown(void **state)
{
	struct nstate *s = *state;

	if (!s)
		return 0;
	drop_second(s);
	guard__destroy(s->skel);
	policy_free(s->pol);
	free(s);
	return 0;
}

/* --- fixtures --- */

static __u8 source_of(const struct nfix *f)
{
	switch (f->pl.kind) {
	case P_DNS:
		return f->fs.dport && f->fs.dport != 53 ? NAME_SRC_NONE : NAME_SRC_DNS_UDP;
	case P_DNS_TCP:
		return NAME_SRC_DNS_TCP;
	case P_TLS:
		return NAME_SRC_SNI;
	case P_HTTP:
		return NAME_SRC_HTTP;
	default:
		return NAME_SRC_NONE;
	}
}

/* The labels before the suffix starting at off (the trace's match_label). */
static __u32 labels_before(const char *name, __u32 off)
{
	__u32 i, n = 0;

	for (i = 0; i < off; i++)
		n += name[i] == '.';
	return n;
}

/* Fixture f through skel (loaded from pol) on hook: verdict, counters, trace. */
static void run_fixture_on(struct nstate *s, struct guard *skel, const struct guard_policy *pol,
			   const struct nfix *f, enum hook hook)
{
	__u8 payload[PKT_MAX];
	struct snapshot a, b;
	struct guard_trace t;
	struct run_out o;
	char what[200];
	struct pkt p;
	struct fspec fs = f->fs;
	size_t n;

	if ((f->pl.kind == P_DNS_TCP || f->pl.kind == P_TLS || f->pl.kind == P_HTTP ||
	     f->pl.kind == P_RAW) &&
	    !fs.l4)
		fs.l4 = TCP;
	snprintf(what, sizeof(what), "%s [%s]", f->desc, hook_name[hook]);
	n = payload_of(&f->pl, payload, sizeof(payload));
	if (!n)
		fail_msg("%s: the payload does not build", what);
	frame(&p, &fs, payload, n);
	if (f->pl.cut)
		p.len -= f->pl.cut;
	snap(s, skel, &a);
	trace_reset(s, skel);
	run(skel, hook, p.buf, p.len, &o);
	snap(s, skel, &b);
	trace_read(s, skel, &t);
	if (o.ret != expected_retval(hook, f->counter))
		fail_msg("%s: returned %d, expected %d (counter %s, trace says %s)", what, o.ret,
			 expected_retval(hook, f->counter), counter_name(f->counter),
			 counter_name(t.counter));
	check_deltas(what, &a, &b, f->counter, f->notes, f->list, f->more_hits, p.len);
	if (t.counter != f->counter)
		fail_msg("%s: trace counter %s", what, counter_name(t.counter));
	if (f->counter != GC_DROP_IP_DST && t.source != source_of(f))
		fail_msg("%s: trace source %u, expected %u", what, t.source, source_of(f));
	if (f->counter >= GC_DROP_DNS && f->counter <= GC_PASS_DOMAIN_CATEGORY_OFF &&
	    f->counter != GC_DROP_UNEXAMINED && f->counter != GC_RESET_UNEXAMINED) {
		/* a domain entry decided: the host's lookup names the same leaf and suffix */
		struct dom_match m;
		char name[NAME_MAX_LEN + 2];

		snprintf(name, sizeof(name), "%s",
			 f->decider		    ? f->decider :
			 f->pl.custom == c_http_abs ? "x.ads.example.net" :
						      f->pl.name);
		assert_int_equal(domtable_lookup(&pol->dom, name, &m), 0);
		if (!(t.flags & TRACE_F_DOMAIN) || t.leaf_id != m.leaf || m.leaf == 0)
			fail_msg("%s: trace leaf %u flags %#x, host leaf %u", what, t.leaf_id,
				 t.flags, m.leaf);
		if (t.list_id != pol->dom.leaves[m.leaf].list_id ||
		    (f->list >= 0 && t.list_id != (__u32)f->list))
			fail_msg("%s: trace list %u", what, t.list_id);
		if (t.match_label != labels_before(m.name, m.suffix_off) ||
		    !!(t.flags & TRACE_F_EXACT) != m.exact_key)
			fail_msg("%s: trace label %u exact %d, host %u %d", what, t.match_label,
				 !!(t.flags & TRACE_F_EXACT), labels_before(m.name, m.suffix_off),
				 m.exact_key);
	} else if (t.flags & TRACE_F_DOMAIN) {
		fail_msg("%s: a domain leaf in the trace of a packet no domain decided", what);
	}
}

static void run_fixture(struct nstate *s, const struct nfix *f, enum hook hook)
{
	run_fixture_on(s, s->skel, s->pol, f, hook);
}

static void test_fixtures_xdp(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixtures); i++)
		run_fixture(*state, &fixtures[i], HOOK_XDP);
}

static void test_fixtures_tc(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixtures); i++)
		run_fixture(*state, &fixtures[i], HOOK_TC);
}

/* --- answers, byte for byte --- */

/* The frame q turned around: MACs, addresses, TTL, lengths, checksums; returns the L4 header. */
static const __u8 *check_turned(const char *what, const struct pkt *q, const struct run_out *o,
				__u8 proto, size_t *l4_len)
{
	const __u8 *in = q->buf, *out = o->buf, *ip = out + q->l3_off, *qip = in + q->l3_off;
	size_t l3 = q->l3_off, l4 = q->l4_off;

	if (memcmp(out, in + 6, 6) || memcmp(out + 6, in, 6))
		fail_msg("%s: MAC addresses not swapped", what);
	if (memcmp(out + 12, in + 12, l3 - 12))
		fail_msg("%s: the ethertype or VLAN tags changed", what);
	if (q->family == 4) {
		*l4_len = pkt_get_be16(ip + 2) - 20u;
		if (o->len != l4 + *l4_len)
			fail_msg("%s: frame of %u bytes, IP says %zu", what, o->len, l4 + *l4_len);
		if (memcmp(ip + 12, qip + 16, 4) || memcmp(ip + 16, qip + 12, 4))
			fail_msg("%s: IPv4 addresses not swapped", what);
		if (ip[0] != 0x45 || ip[8] != 64 || ip[9] != proto)
			fail_msg("%s: IPv4 version/ihl %#x ttl %u proto %u", what, ip[0], ip[8],
				 ip[9]);
		if (pkt_csum(ip, 20, 0) != 0)
			fail_msg("%s: IPv4 header checksum wrong", what);
	} else {
		*l4_len = pkt_get_be16(ip + 4);
		if (o->len != l4 + *l4_len)
			fail_msg("%s: frame of %u bytes, IPv6 says %zu", what, o->len,
				 l4 + *l4_len);
		if (memcmp(ip + 8, qip + 24, 16) || memcmp(ip + 24, qip + 8, 16))
			fail_msg("%s: IPv6 addresses not swapped", what);
		if (ip[6] != proto || ip[7] != 64)
			fail_msg("%s: IPv6 next header %u hop limit %u", what, ip[6], ip[7]);
	}
	{
		/* the L4 checksum over the pseudo header, computed here */
		struct pkt tmp = *q;

		memcpy(tmp.buf, out, o->len);
		tmp.len = o->len;
		if (pkt_csum(out + l4, *l4_len, pkt_pseudo_sum(&tmp, proto, *l4_len)) != 0)
			fail_msg("%s: %s checksum wrong", what, proto == UDP ? "UDP" : "TCP");
	}
	return out + l4;
}

struct ans_case {
	const char *desc;
	int dns_action;
	bool sink4, sink6;
	const char *name;
	__u16 qtype;
	int fam;
	__u16 vlan;
	bool edns, edns_do;
	__u32 counter;
	int kind; /* enum dns_answer_kind expected */
};

static const struct dns_answer_cfg sinks = {
	.ttl = 42,
	.a = { 192, 0, 2, 254 },
	.aaaa = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x5e, [15] = 0xfe },
};

/* Load the policy again with other actions (block_ttl 42, the sinkholes above). */
static void load_actions(struct nstate *s, int dns_action, int tcp_action, bool sink4, bool sink6)
{
	drop_second(s);
	assert_int_equal(build_policy(&s->pol2, false), 0);
	s->pol2->act.set = true;
	s->pol2->act.dns_action = dns_action;
	s->pol2->act.tcp_action = tcp_action;
	s->pol2->act.block_ttl = sinks.ttl;
	s->pol2->act.has_sinkhole4 = sink4;
	s->pol2->act.has_sinkhole6 = sink6;
	memcpy(s->pol2->act.sinkhole4, sinks.a, 4);
	memcpy(s->pol2->act.sinkhole6, sinks.aaaa, 16);
	assert_int_equal(load(s->pol2, &s->skel2), 0);
	assert_int_equal(s->skel2->rodata->cfg_dns_action, dns_action);
	assert_int_equal(s->skel2->rodata->cfg_block_ttl, 42);
}

static void test_dns_answers(void **state)
{
	/* clang-format off */
	static const struct ans_case cases[] = {
		{ "nxdomain A", DNS_ACT_NXDOMAIN, 0, 0, "www.Evil.test", 1, 4, 0, 0, 0,
		  GC_ANSWER_DNS_NXDOMAIN, DNS_ANS_NXDOMAIN },
		{ "nxdomain AAAA edns v6", DNS_ACT_NXDOMAIN, 0, 0, "evil.test", 28, 6, 0, 1, 1,
		  GC_ANSWER_DNS_NXDOMAIN, DNS_ANS_NXDOMAIN },
		{ "nxdomain HTTPS in a VLAN, edns", DNS_ACT_NXDOMAIN, 0, 0, "a.evil.test", 65, 4,
		  0x8100, 1, 0, GC_ANSWER_DNS_NXDOMAIN, DNS_ANS_NXDOMAIN },
		{ "refused", DNS_ACT_REFUSED, 0, 0, "evil.test", 1, 4, 0, 1, 0,
		  GC_ANSWER_DNS_REFUSED, DNS_ANS_REFUSED },
		{ "refused v6", DNS_ACT_REFUSED, 0, 0, "evil.test", 28, 6, 0, 0, 0,
		  GC_ANSWER_DNS_REFUSED, DNS_ANS_REFUSED },
		{ "sinkhole A", DNS_ACT_SINKHOLE, 1, 1, "WWW.evil.test", 1, 4, 0, 0, 0,
		  GC_ANSWER_DNS_SINKHOLE, DNS_ANS_A },
		{ "sinkhole AAAA edns", DNS_ACT_SINKHOLE, 1, 1, "evil.test", 28, 4, 0, 1, 1,
		  GC_ANSWER_DNS_SINKHOLE, DNS_ANS_AAAA },
		{ "sinkhole A v6 in QinQ-less VLAN", DNS_ACT_SINKHOLE, 1, 1, "evil.test", 1, 6,
		  0x88a8, 1, 0, GC_ANSWER_DNS_SINKHOLE, DNS_ANS_A },
		{ "sinkhole HTTPS: nodata", DNS_ACT_SINKHOLE, 1, 1, "evil.test", 65, 4, 0, 1, 0,
		  GC_ANSWER_DNS_NODATA, DNS_ANS_NODATA },
		{ "sinkhole AAAA without sinkhole6: nodata", DNS_ACT_SINKHOLE, 1, 0, "evil.test",
		  28, 4, 0, 0, 0, GC_ANSWER_DNS_NODATA, DNS_ANS_NODATA },
		{ "sinkhole ANY: nodata", DNS_ACT_SINKHOLE, 1, 1, "evil.test", 255, 6, 0, 0, 0,
		  GC_ANSWER_DNS_NODATA, DNS_ANS_NODATA },
		{ "drop", DNS_ACT_DROP, 0, 0, "evil.test", 1, 4, 0, 1, 0, GC_DROP_DNS, -1 },
	};
	/* clang-format on */
	static const __u16 want_rcode[] = { 3, 5, 0, 0, 0 };
	struct nstate *s = *state;
	size_t i;
	int hook, loaded = -1;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ans_case *c = &cases[i];

		if (loaded != c->dns_action * 4 + c->sink4 * 2 + c->sink6) {
			load_actions(s, c->dns_action, TCP_ACT_RESET, c->sink4, c->sink6);
			loaded = c->dns_action * 4 + c->sink4 * 2 + c->sink6;
		}
		for (hook = HOOK_XDP; hook <= HOOK_TC; hook++) {
			struct dnsq_spec qs = { .id = (__u16)(0x1000 + i),
						.name = c->name,
						.qtype = c->qtype,
						.edns = c->edns,
						.edns_do = c->edns_do,
						.flags = 0x0110 };
			struct fspec fs = { .fam = c->fam, .vlan = c->vlan, .sport = 51515 };
			__u8 msg[600];
			size_t mlen = l7_dns_query(msg, sizeof(msg), &qs), l4_len;
			struct snapshot a, b;
			struct run_out o;
			struct pkt p;
			struct dnsr r;
			const __u8 *udp;
			const char *why;
			char what[160];
			__u32 wire;

			snprintf(what, sizeof(what), "%s [%s]", c->desc, hook_name[hook]);
			frame(&p, &fs, msg, mlen);
			snap(s, s->skel2, &a);
			run(s->skel2, (enum hook)hook, p.buf, p.len, &o);
			snap(s, s->skel2, &b);
			check_deltas(what, &a, &b, c->counter, c->vlan ? NB(VLAN) : 0, L_MALWARE, 0,
				     p.len);
			if (o.ret != expected_retval((enum hook)hook, c->counter))
				fail_msg("%s: returned %d", what, o.ret);
			if (c->kind < 0)
				continue;
			udp = check_turned(what, &p, &o, UDP, &l4_len);
			if (pkt_get_be16(udp) != 53 || pkt_get_be16(udp + 2) != 51515 ||
			    pkt_get_be16(udp + 4) != l4_len)
				fail_msg("%s: UDP ports %u %u length %u", what, pkt_get_be16(udp),
					 pkt_get_be16(udp + 2), pkt_get_be16(udp + 4));
			why = l7_dns_read(udp + 8, l4_len - 8, &r);
			if (why)
				fail_msg("%s: the answer does not parse: %s", what, why);
			if (r.id != qs.id ||
			    r.flags != (0x8000 | 0x0080 | 0x0110 | want_rcode[c->kind]))
				fail_msg("%s: id %#x flags %#x", what, r.id, r.flags);
			/* the question as sent, case kept */
			wire = (__u32)strlen(c->name) + 2;
			if (r.qname_len != wire || memcmp(r.qname, msg + 12, wire) ||
			    r.qtype != c->qtype || r.qclass != 1)
				fail_msg("%s: the question changed", what);
			assert_int_equal(r.an, c->kind == DNS_ANS_A || c->kind == DNS_ANS_AAAA);
			assert_int_equal(r.ns,
					 c->kind == DNS_ANS_NXDOMAIN || c->kind == DNS_ANS_NODATA);
			assert_int_equal(r.ar, c->edns);
			if (r.an) {
				assert_int_equal(r.rr[0].name_ptr, 0xc00c);
				assert_int_equal(r.rr[0].type, c->kind == DNS_ANS_A ? 1 : 28);
				assert_int_equal(r.rr[0].ttl, 42);
				assert_memory_equal(r.rr[0].rdata,
						    c->kind == DNS_ANS_A ? sinks.a : sinks.aaaa,
						    c->kind == DNS_ANS_A ? 4 : 16);
			}
			if (r.ns) {
				assert_int_equal(r.rr[r.an].type, 6);
				assert_int_equal(r.rr[r.an].ttl, 42);
			}
			if (c->edns) {
				assert_true(r.has_opt);
				assert_int_equal(r.opt_udp, 1232);
				assert_int_equal(r.opt_ttl, c->edns_do ? 0x8000u : 0u);
				assert_int_equal(r.ede_code, DNS_EDE_BLOCKED);
			} else {
				assert_false(r.has_opt);
			}
		}
	}
	drop_second(s);
}

/* Resets for SNI, Host and DNS over TCP (and drops under tcp_action = drop). */
static void test_tcp_resets(void **state)
{
	static const struct {
		const char *desc;
		int kind, fam;
		__u16 dport;
		__u8 flags;
		__u32 reset, drop;
	} cases[] = {
		{ "sni", P_TLS, 4, 443, TCP_ACK | TCP_PSH, GC_RESET_SNI, GC_DROP_SNI },
		{ "sni v6", P_TLS, 6, 443, TCP_ACK | TCP_PSH, GC_RESET_SNI, GC_DROP_SNI },
		{ "http", P_HTTP, 4, 80, TCP_ACK | TCP_PSH, GC_RESET_HTTP, GC_DROP_HTTP },
		{ "http v6", P_HTTP, 6, 80, TCP_ACK, GC_RESET_HTTP, GC_DROP_HTTP },
		{ "dns over tcp", P_DNS_TCP, 4, 53, TCP_ACK | TCP_PSH, GC_RESET_DNS_TCP,
		  GC_DROP_DNS_TCP },
		{ "sni without ack (data on a SYN)", P_TLS, 4, 443, 0x02, GC_RESET_SNI,
		  GC_DROP_SNI },
	};
	struct nstate *s = *state;
	size_t i;
	int action, hook;

	for (action = TCP_ACT_RESET; action >= TCP_ACT_DROP; action--) {
		load_actions(s, DNS_ACT_NXDOMAIN, action, false, false);
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			for (hook = HOOK_XDP; hook <= HOOK_TC; hook++) {
				struct pspec f = { .kind = cases[i].kind, .name = "www.evil.test" };
				struct fspec fs = { .fam = cases[i].fam,
						    .l4 = TCP,
						    .dport = cases[i].dport,
						    .sport = 43210,
						    .seq = 0xfffffff0u,
						    .ack = 0x12345678,
						    .flags = cases[i].flags };
				__u32 counter = action == TCP_ACT_RESET ? cases[i].reset :
									  cases[i].drop;
				__u8 payload[PKT_MAX];
				size_t n = payload_of(&f, payload, sizeof(payload)), l4_len;
				struct snapshot a, b;
				struct run_out o;
				struct pkt p;
				const __u8 *t;
				char what[120];
				__u32 seq, ack, want_seq, want_ack;

				snprintf(what, sizeof(what), "%s %s [%s]", cases[i].desc,
					 action == TCP_ACT_RESET ? "reset" : "drop",
					 hook_name[hook]);
				frame(&p, &fs, payload, n);
				snap(s, s->skel2, &a);
				run(s->skel2, (enum hook)hook, p.buf, p.len, &o);
				snap(s, s->skel2, &b);
				check_deltas(what, &a, &b, counter, 0, L_MALWARE, 0, p.len);
				if (o.ret != expected_retval((enum hook)hook, counter))
					fail_msg("%s: returned %d", what, o.ret);
				if (action == TCP_ACT_DROP)
					continue;
				t = check_turned(what, &p, &o, TCP, &l4_len);
				assert_int_equal(l4_len, 20);
				seq = (__u32)t[4] << 24 | (__u32)t[5] << 16 | (__u32)t[6] << 8 |
				      t[7];
				ack = (__u32)t[8] << 24 | (__u32)t[9] << 16 | (__u32)t[10] << 8 |
				      t[11];
				if (cases[i].flags & TCP_ACK) {
					/* RST at the acknowledged number: what the client expects */
					want_seq = fs.ack;
					want_ack = 0;
					assert_int_equal(t[13], 0x04);
				} else {
					want_seq = 0;
					want_ack = fs.seq + (__u32)n + 1; /* the SYN counts one */
					assert_int_equal(t[13], 0x14);
				}
				if (seq != want_seq || ack != want_ack)
					fail_msg("%s: seq %#x ack %#x, expected %#x %#x", what, seq,
						 ack, want_seq, want_ack);
				if (pkt_get_be16(t) != cases[i].dport ||
				    pkt_get_be16(t + 2) != 43210 || t[12] != 0x50 ||
				    pkt_get_be16(t + 14) != 0)
					fail_msg("%s: ports %u %u doff %#x window %u", what,
						 pkt_get_be16(t), pkt_get_be16(t + 2), t[12],
						 pkt_get_be16(t + 14));
			}
		}
	}
	drop_second(s);
}

/* --- split ClientHellos --- */

struct seg_run {
	const __u8 *hello;
	size_t from, to; /* bytes of the hello */
	__u32 counter;
	__u32 notes;
	int list;
};

/*
 * Send stream[from..to) of a flow (sport to dport) at sequence isn + from through XDP on skel;
 * check the verdict, the counters and, for a reset, that it is one.
 */
static void send_stream(struct nstate *s, struct guard *skel, const char *what, int fam,
			__u16 sport, __u16 dport, const __u8 *stream, size_t from, size_t to,
			__u32 counter, __u32 notes, int list)
{
	struct fspec fs = { .fam = fam,
			    .l4 = TCP,
			    .sport = sport,
			    .dport = dport,
			    .seq = 1000000 + (__u32)from,
			    .ack = 77 };
	struct snapshot a, b;
	struct guard_trace t;
	struct run_out o;
	struct pkt p;

	frame(&p, &fs, stream + from, to - from);
	snap(s, skel, &a);
	if (skel == s->skel)
		trace_reset(s, skel);
	run(skel, HOOK_XDP, p.buf, p.len, &o);
	snap(s, skel, &b);
	if (skel == s->skel) {
		trace_read(s, skel, &t);
		if (t.counter != counter)
			fail_msg("%s: bytes %zu..%zu counted %s, expected %s", what, from, to,
				 counter_name(t.counter), counter_name(counter));
	}
	check_deltas(what, &a, &b, counter, notes, list, 0, p.len);
	if (o.ret != expected_retval(HOOK_XDP, counter))
		fail_msg("%s: returned %d", what, o.ret);
	if (counter == GC_RESET_SNI || counter == GC_RESET_DNS_TCP ||
	    counter == GC_RESET_UNEXAMINED) {
		/* the reset acknowledges up to this segment's end: here, RST at ack 77 */
		const __u8 *tcp = o.buf + p.l4_off;

		assert_int_equal(tcp[13], 0x04);
		assert_int_equal(pkt_get_be16(tcp + 2), sport);
	}
}

/* A segment of a ClientHello to port 443 (send_stream). */
static void send_segment(struct nstate *s, const char *what, int fam, __u16 sport,
			 const __u8 *hello, size_t from, size_t to, __u32 counter, __u32 notes,
			 int list)
{
	send_stream(s, s->skel, what, fam, sport, 443, hello, from, to, counter, notes, list);
}

/*
 * A post-quantum hello in TLS records (as filter-evasion tools send it) and in segments: a
 * segment that cuts a record's header, one whose record boundary cuts the SNI, the SNI cut by
 * a segment and a record at once.
 */
static void split_records(struct nstate *s)
{
	struct hello_spec pq = { .sni = "www.Evil.test", .sni_pos = 12, .key_share = 1216 + 32 };
	__u8 hr[8192];
	size_t sni = 0, end = 0, len = 0, piece, h = 0;

	/* records of a size that puts a record's header (at h) inside the SNI, not at its ends */
	for (piece = 100; piece < 200; piece++) {
		pq.record_piece = piece;
		len = l7_hello(hr, sizeof(hr), &pq, &sni);
		end = l7_hello_sni_end(&pq);
		h = (sni / (piece + 5) + 1) * (piece + 5);
		if (len && sni + 2 < h && h + 5 + 2 < end)
			break;
	}
	assert_true(piece < 200);
	assert_int_equal(hr[h], 0x16);
	print_message("# records of %zu bytes: %zu bytes, SNI at %zu..%zu, a header at %zu\n",
		      piece, len, sni, end, h);
	/* one segment: the walk goes from record to record, the name in two parts */
	send_segment(s, "records, one segment", 4, 53000, hr, 0, len, GC_RESET_SNI, 0, L_MALWARE);
	/* the 2nd segment starts 2 bytes into the 2nd record's header */
	send_segment(s, "records, header cut, 1st", 4, 53001, hr, 0, 5 + piece + 2,
		     GC_PASS_TLS_PENDING, NB(TLS_SPLIT), NOLIST);
	send_segment(s, "records, header cut, 2nd", 4, 53001, hr, 5 + piece + 2, len, GC_RESET_SNI,
		     0, L_MALWARE);
	/* the SNI cut by the segment (2 bytes in), then by a record boundary in the 2nd */
	send_segment(s, "records, sni cut twice, 1st", 4, 53002, hr, 0, sni + 2,
		     GC_PASS_TLS_PENDING, NB(TLS_SPLIT), NOLIST);
	send_segment(s, "records, sni cut twice, 2nd", 4, 53002, hr, sni + 2, len, GC_RESET_SNI, 0,
		     L_MALWARE);
	/* the segment ends inside the header that cuts the SNI */
	send_segment(s, "records, in the header inside the sni, 1st", 4, 53003, hr, 0, h + 3,
		     GC_PASS_TLS_PENDING, NB(TLS_SPLIT), NOLIST);
	send_segment(s, "records, in the header inside the sni, 2nd", 4, 53003, hr, h + 3, len,
		     GC_RESET_SNI, 0, L_MALWARE);
}

/* Every record of tls_flows past its time (expires 1), its flow's slot still live. */
static void age_tls_flows(struct nstate *s)
{
	int fd = bpf_map__fd(s->skel->maps.tls_flows);
	struct flow_key k, next;
	struct flow_tls f;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		assert_int_equal(bpf_map_lookup_elem(fd, &k, &f), 0);
		f.expires = 1;
		assert_int_equal(bpf_map_update_elem(fd, &k, &f, BPF_EXIST), 0);
	}
}

static void test_split_hello(void **state)
{
	struct nstate *s = *state;
	struct hello_spec pq = {
		.sni = "www.Evil.test", .sni_pos = 12, .key_share = 1216 + 32, .grease = true
	};
	struct hello_spec ok = { .sni = "www.example.com", .sni_pos = 12, .key_share = 1248 };
	__u8 hb[8192], hk[8192];
	size_t sni, sni_ok, len = l7_hello(hb, sizeof(hb), &pq, &sni);
	size_t len_ok = l7_hello(hk, sizeof(hk), &ok, &sni_ok);
	size_t k;
	int fam;

	assert_true(len > 1400 && sni > 1300);
	print_message("# post-quantum hello: %zu bytes, SNI at %zu\n", len, sni);
	for (fam = 4; fam <= 6; fam += 2) {
		__u16 port = fam == 4 ? 50000 : 51000;

		/* two segments, SNI in the second */
		send_segment(s, "2 segments, 1st", fam, port, hb, 0, 1000, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "2 segments, 2nd", fam, port, hb, 1000, len, GC_RESET_SNI, 0,
			     L_MALWARE);
		/* decided: its record is gone, the 2nd again is no hello's part */
		send_segment(s, "2 segments, 2nd again", fam, port, hb, 1000, len, GC_PASS_NOMATCH,
			     0, NOLIST);
		/* a record past its time is not resumed (its slot kept live by another flow) */
		send_segment(s, "stale, 1st", fam, port + 8, hb, 0, 1000, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		age_tls_flows(s);
		send_segment(s, "stale, 2nd", fam, port + 8, hb, 1000, len, GC_PASS_NOMATCH, 0,
			     NOLIST);
		/* the SNI straddling the boundary */
		send_segment(s, "straddling, 1st", fam, port + 1, hb, 0, sni + 5,
			     GC_PASS_TLS_PENDING, NB(TLS_SPLIT), NOLIST);
		send_segment(s, "straddling, 2nd", fam, port + 1, hb, sni + 5, len, GC_RESET_SNI, 0,
			     L_MALWARE);
		/* three segments: the 2nd cuts the SNI's header, the 3rd has the rest */
		send_segment(s, "3 segments, 1st", fam, port + 2, hb, 0, 600, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "3 segments, 2nd", fam, port + 2, hb, 600, sni - 3,
			     GC_PASS_TLS_PENDING, 0, NOLIST);
		send_segment(s, "3 segments, 3rd", fam, port + 2, hb, sni - 3, len, GC_RESET_SNI, 0,
			     L_MALWARE);
		/* an unlisted name over three segments, the SNI cut twice */
		send_segment(s, "unlisted, 1st", fam, port + 3, hk, 0, sni_ok + 2,
			     GC_PASS_TLS_PENDING, NB(TLS_SPLIT), NOLIST);
		send_segment(s, "unlisted, 2nd", fam, port + 3, hk, sni_ok + 2, sni_ok + 9,
			     GC_PASS_TLS_PENDING, 0, NOLIST);
		send_segment(s, "unlisted, 3rd", fam, port + 3, hk, sni_ok + 9, len_ok,
			     GC_PASS_NOMATCH, 0, NOLIST);
		/* a retransmission of the 1st segment: passed; the 2nd still decides */
		send_segment(s, "retransmit, 1st", fam, port + 4, hb, 0, 700, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "retransmit, 1st again", fam, port + 4, hb, 0, 700, GC_PASS_NOMATCH,
			     NB(TLS_RETRANSMIT), NOLIST);
		send_segment(s, "retransmit, 2nd", fam, port + 4, hb, 700, len, GC_RESET_SNI, 0,
			     L_MALWARE);
		/* a gap: the following stops, the rest passes */
		send_segment(s, "gap, 1st", fam, port + 5, hb, 0, 500, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "gap, 3rd before the 2nd", fam, port + 5, hb, 1000, len,
			     GC_PASS_TLS_UNORDERED, 0, NOLIST);
		send_segment(s, "gap, 2nd after", fam, port + 5, hb, 500, 1000, GC_PASS_NOMATCH, 0,
			     NOLIST);
		/* two flows interleaved */
		send_segment(s, "flow A 1st", fam, port + 6, hb, 0, 800, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "flow B 1st", fam, port + 7, hk, 0, 800, GC_PASS_TLS_PENDING,
			     NB(TLS_SPLIT), NOLIST);
		send_segment(s, "flow B 2nd", fam, port + 7, hk, 800, len_ok, GC_PASS_NOMATCH, 0,
			     NOLIST);
		send_segment(s, "flow A 2nd", fam, port + 6, hb, 800, len, GC_RESET_SNI, 0,
			     L_MALWARE);
	}
	split_records(s);
	/*
	 * The small-MSS case: 536-byte segments after a first one of every length from 6 (a
	 * first segment must hold the record header and the handshake type to be recognised).
	 */
	for (k = 6; k < len; k += 37) {
		__u16 port = (__u16)(52000 + k % 8000);
		size_t from = 0, to = k;
		int segs = 0;

		while (to < len && to <= sni + 13) {
			send_segment(s, "every split", 4, port, hb, from, to, GC_PASS_TLS_PENDING,
				     segs ? 0 : NB(TLS_SPLIT), NOLIST);
			from = to;
			to = from + 536 < len ? from + 536 : len;
			segs++;
		}
		send_segment(s, "every split, last", 4, port, hb, from, len, GC_RESET_SNI, 0,
			     L_MALWARE);
	}
}

/* --- DNS over TCP: several messages a segment, a stream followed over segments --- */

/* Append a DNS query for name (with EDNS when edns) behind its length prefix to b at *n. */
static size_t add_dns_msg(__u8 *b, size_t *n, size_t cap, const char *name, bool edns)
{
	size_t m = dns_payload(b + *n + 2, cap - *n - 2, name, 1, edns), at = *n;

	assert_true(m > 0);
	b[at] = (__u8)(m >> 8);
	b[at + 1] = (__u8)m;
	*n += 2 + m;
	return at;
}

/*
 * DNS over TCP as a stream of length-prefixed messages (RFC 7766): pipelined queries in one
 * segment (the blocked one decides, wherever it is), a length prefix sent alone or a byte at a
 * time, a message cut after or inside its question, retransmitted and overlapping segments, a
 * gap, more messages than a segment's walk judges; then the drop action, whose dropped segment
 * is judged again when it comes back.
 */
static void test_dns_tcp_stream(void **state)
{
	struct nstate *s = *state;
	__u8 b[2048];
	size_t n, m1, m2, q1, at;
	int fam, i;

	for (fam = 4; fam <= 6; fam += 2) {
		__u16 port = fam == 4 ? 41000 : 42000;

		/* pipelined: unlisted then blocked; a category off then blocked; none blocked */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "www.example.com", false);
		add_dns_msg(b, &n, sizeof(b), "www.evil.test", true);
		send_stream(s, s->skel, "pipelined, blocked 2nd", fam, port, 53, b, 0, n,
			    GC_RESET_DNS_TCP, 0, L_MALWARE);
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "www.game.example", false);
		add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		add_dns_msg(b, &n, sizeof(b), "x.Evil.Test", false);
		send_stream(s, s->skel, "pipelined, category off, then blocked 3rd", fam, port + 1,
			    53, b, 0, n, GC_RESET_DNS_TCP, 0, L_MALWARE);
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		add_dns_msg(b, &n, sizeof(b), "safe.example-adult.com", true);
		add_dns_msg(b, &n, sizeof(b), "b.example.org", false);
		send_stream(s, s->skel, "pipelined, allowed", fam, port + 2, 53, b, 0, n,
			    GC_PASS_DOMAIN_ALLOW, 0, L_ALLOW);

		/* the length prefix in a segment of its own, then a byte at a time */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "www.evil.test", false);
		send_stream(s, s->skel, "prefix alone", fam, port + 3, 53, b, 0, 2, GC_PASS_NOMATCH,
			    NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "message after its prefix", fam, port + 3, 53, b, 2, n,
			    GC_RESET_DNS_TCP, 0, L_MALWARE);
		send_stream(s, s->skel, "prefix, 1st byte", fam, port + 4, 53, b, 0, 1,
			    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "prefix, 2nd byte", fam, port + 4, 53, b, 1, 2,
			    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "message after a prefix in bytes", fam, port + 4, 53, b, 2,
			    n, GC_RESET_DNS_TCP, 0, L_MALWARE);
		/* a retransmission of bytes judged passes; the stream goes on */
		send_stream(s, s->skel, "prefix, again", fam, port + 5, 53, b, 0, 2,
			    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "prefix, retransmitted", fam, port + 5, 53, b, 0, 2,
			    GC_PASS_NOMATCH, 0, NOLIST);
		send_stream(s, s->skel, "message after a retransmission", fam, port + 5, 53, b, 2,
			    n, GC_RESET_DNS_TCP, 0, L_MALWARE);
		/* ... and an allowed message after its prefix, retransmitted: still at its place */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		add_dns_msg(b, &n, sizeof(b), "safe.example-adult.com", false);
		send_stream(s, s->skel, "prefix alone (allowed)", fam, port + 12, 53, b, 0, 2,
			    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "its message", fam, port + 12, 53, b, 2, n,
			    GC_PASS_DOMAIN_ALLOW, 0, L_ALLOW);
		send_stream(s, s->skel, "its message, retransmitted", fam, port + 12, 53, b, 2, n,
			    GC_PASS_NOMATCH, 0, NOLIST);
		send_stream(s, s->skel, "the stream's start, retransmitted", fam, port + 12, 53, b,
			    0, n, GC_PASS_NOMATCH, 0, NOLIST);
		at = n;
		add_dns_msg(b, &n, sizeof(b), "evil.test", false);
		send_stream(s, s->skel, "the stream goes on", fam, port + 12, 53, b, at, n,
			    GC_RESET_DNS_TCP, 0, L_MALWARE);

		/* a message cut after its question: judged; the next segment skips its rest */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "a.example.org", true);
		m1 = n;
		add_dns_msg(b, &n, sizeof(b), "evil.test", false);
		q1 = 2 + 12 + 15 + 4; /* prefix, header, 15 bytes of QNAME, QTYPE and QCLASS */
		send_stream(s, s->skel, "cut after the question", fam, port + 6, 53, b, 0, q1 + 3,
			    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "its rest, then a blocked one", fam, port + 6, 53, b,
			    q1 + 3, n, GC_RESET_DNS_TCP, 0, L_MALWARE);
		/* ... cut in the middle of the next one's prefix, then overlapped */
		send_stream(s, s->skel, "ends a byte into a prefix", fam, port + 7, 53, b, 0,
			    m1 + 1, GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "overlapping the bytes seen", fam, port + 7, 53, b, 0, n,
			    GC_RESET_DNS_TCP, 0, L_MALWARE);

		/* a question cut: a name the guard cannot examine; the rest is skipped */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "www.evil.test", false);
		m2 = n;
		add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		send_stream(s, s->skel, "cut inside the question", fam, port + 8, 53, b, 0,
			    2 + 12 + 5, GC_PASS_NAME_TRUNCATED, NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "the cut one's rest, then unlisted", fam, port + 8, 53, b,
			    2 + 12 + 5, n, GC_PASS_NOMATCH, 0, NOLIST);
		(void)m2;

		/* a gap: where a message starts is lost; the segment is read from its start */
		n = 0;
		add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		at = n;
		add_dns_msg(b, &n, sizeof(b), "evil.test", false);
		send_stream(s, s->skel, "before a gap", fam, port + 9, 53, b, 0, 2, GC_PASS_NOMATCH,
			    NB(DNS_TCP_FOLLOWED), NOLIST);
		send_stream(s, s->skel, "after a gap, a message at its start", fam, port + 9, 53, b,
			    at, n, GC_RESET_DNS_TCP, 0, L_MALWARE);

		/* more messages than a segment's walk judges: the rest is not examined */
		n = 0;
		for (i = 0; i < DNS_TCP_MSGS_MAX; i++)
			add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		add_dns_msg(b, &n, sizeof(b), "evil.test", false);
		send_stream(s, s->skel, "one message more than judged", fam, port + 10, 53, b, 0, n,
			    GC_PASS_DNS_MALFORMED, 0, NOLIST);
		n = 0;
		for (i = 0; i < DNS_TCP_MSGS_MAX - 1; i++)
			add_dns_msg(b, &n, sizeof(b), "a.example.org", false);
		add_dns_msg(b, &n, sizeof(b), "evil.test", false);
		send_stream(s, s->skel, "the last message judged blocked", fam, port + 11, 53, b, 0,
			    n, GC_RESET_DNS_TCP, 0, L_MALWARE);
	}

	/* drop: the dropped segment comes back (retransmitted) and is dropped again */
	load_actions(s, DNS_ACT_NXDOMAIN, TCP_ACT_DROP, false, false);
	n = 0;
	add_dns_msg(b, &n, sizeof(b), "www.evil.test", false);
	send_stream(s, s->skel2, "drop: prefix alone", 4, 43000, 53, b, 0, 2, GC_PASS_NOMATCH,
		    NB(DNS_TCP_FOLLOWED), NOLIST);
	for (i = 0; i < 3; i++)
		send_stream(s, s->skel2, "drop: the message, sent again", 4, 43000, 53, b, 2, n,
			    GC_DROP_DNS_TCP, 0, L_MALWARE);
	drop_second(s);
}

/* The verdict counter of stream[from..to) of a flow through hook (s->skel: its trace). */
static __u32 stream_verdict(struct nstate *s, enum hook hook, int fam, __u16 sport,
			    const __u8 *stream, size_t from, size_t to)
{
	struct fspec fs = { .fam = fam,
			    .l4 = TCP,
			    .sport = sport,
			    .dport = 53,
			    .seq = 1000000 + (__u32)from,
			    .ack = 77 };
	struct guard_trace t;
	struct run_out o;
	struct pkt p;

	frame(&p, &fs, stream + from, to - from);
	trace_reset(s, s->skel);
	run(s->skel, hook, p.buf, p.len, &o);
	trace_read(s, s->skel, &t);
	if (o.ret != expected_retval(hook, t.counter))
		fail_msg("stream %u: bytes %zu..%zu returned %d for %s", sport, from, to, o.ret,
			 counter_name(t.counter));
	return t.counter;
}

/*
 * Random streams of 1 to 6 queries (blocked or not, with or without EDNS) cut at random
 * places into up to 6 segments (at most DNS_TCP_MSGS_MAX queries starting in any), some
 * segments sent twice, through XDP and TC: each segment's verdict against a model written
 * here. A query is judged in the segment holding its first byte after the length prefix: on
 * the bytes there (its question complete: by its name; its header cut: pass_dns_malformed;
 * its question cut: pass_name_truncated); the first blocked query resets (the stream ends);
 * else the last unexamined query names the verdict, else pass_nomatch. A segment sent again
 * passes (pass_nomatch) once the stream is followed (a segment has ended inside a query or a
 * prefix), and is judged as the first time before.
 */
static void test_dns_tcp_random(void **state)
{
	static const char *const names[] = { "a.example.org", "x.evil.test", "www.example.com",
					     "evil.test" };
	struct nstate *s = *state;
	__u64 rng = 0x6477733a74637021ull;
	unsigned int streams = 0, segs = 0, resets = 0, unexamined = 0, again = 0, st;

	for (st = 0; st < 300; st++) {
		size_t bs[6], q[6], e[6], cut[8], total = 0, a, b, m;
		bool blocked[6], followed = false;
		enum hook hook = st & 1 ? HOOK_TC : HOOK_XDP;
		int fam = st & 2 ? 6 : 4, k, nseg, i, j, tries;
		__u16 sport = (__u16)(20000 + st);
		__u8 buf[2048];

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		k = 1 + (int)((rng >> 33) % 6);
		for (i = 0; i < k; i++) {
			int which = (int)((rng >> (13 + i * 3)) & 3);
			bool edns = (rng >> (40 + i)) & 1;
			size_t at = add_dns_msg(buf, &total, sizeof(buf), names[which], edns);

			bs[i] = at + 2;
			/* header, QNAME (one length byte a label, the root), QTYPE and QCLASS */
			q[i] = bs[i] + 12 + strlen(names[which]) + 2 + 4;
			e[i] = total;
			blocked[i] = which & 1;
		}
		/* cut points, at most DNS_TCP_MSGS_MAX query starts a segment */
		for (tries = 0; tries < 20; tries++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			nseg = 1 + (int)((rng >> 33) % 6);
			cut[0] = 0;
			for (j = 1; j < nseg; j++)
				cut[j] = 1 + (size_t)((rng >> (j * 7)) % (total - 1));
			cut[nseg] = total;
			/* sort, drop repeats */
			for (i = 1; i < nseg; i++)
				for (j = i + 1; j < nseg; j++)
					if (cut[j] < cut[i]) {
						m = cut[i];
						cut[i] = cut[j];
						cut[j] = m;
					}
			for (i = 1, j = 1; i <= nseg; i++)
				if (cut[i] != cut[j - 1])
					cut[j++] = cut[i];
			nseg = j - 1;
			for (j = 0; j < nseg; j++) {
				int starts = 0;

				for (i = 0; i < k; i++)
					starts += bs[i] >= cut[j] && bs[i] < cut[j + 1];
				if (starts > DNS_TCP_MSGS_MAX)
					break;
			}
			if (j == nseg)
				break;
		}
		if (tries == 20)
			continue;
		streams++;
		for (j = 0; j < nseg; j++) {
			__u32 want = GC_PASS_NOMATCH, got;
			int sends = ((rng >> (50 + j)) & 3) == 0 ? 2 : 1, r;

			a = cut[j];
			b = cut[j + 1];
			for (i = 0; i < k; i++) {
				if (bs[i] < a || bs[i] >= b)
					continue;
				if (q[i] <= b && blocked[i]) {
					want = GC_RESET_DNS_TCP;
					break;
				}
				if (q[i] > b)
					want = b - bs[i] < 12 + 1 ? GC_PASS_DNS_MALFORMED :
								    GC_PASS_NAME_TRUNCATED;
			}
			for (r = 0; r < sends; r++) {
				__u32 w = r == 1 && followed ? GC_PASS_NOMATCH : want;

				got = stream_verdict(s, hook, fam, sport, buf, a, b);
				segs++;
				again += r;
				if (got != w)
					fail_msg(
						"stream %u (%d queries, %s, v%d): bytes %zu..%zu of %zu "
						"(send %d) counted %s, expected %s",
						st, k, hook == HOOK_XDP ? "xdp" : "tc", fam, a, b,
						total, r + 1, counter_name(got), counter_name(w));
				if (w == GC_RESET_DNS_TCP)
					break;
				/* a segment ending inside a query or its prefix: followed from then on */
				for (i = 0; i < k; i++)
					if (b > bs[i] - 2 && b < e[i])
						followed = true;
			}
			if (want == GC_RESET_DNS_TCP) {
				resets++;
				break;
			}
			unexamined += want != GC_PASS_NOMATCH;
		}
	}
	print_message("# %u streams, %u segments (%u sent again): %u resets, %u unexamined\n",
		      streams, segs, again, resets, unexamined);
	assert_true(streams > 250 && resets > 50 && unexamined > 20 && again > 50);
}

/* --- differential: kernel decisions against the host's lookup, random names --- */

/*
 * A random name into name (cap bytes): 1-6 random labels, the last one half of the time a
 * listed name or a near miss; or, for deep (a quarter of the names), a few random labels above
 * a deep name with some of its top labels cut: walks of 20 to 50 levels, which the kernel takes
 * a part (DOM_PART_LEVELS) at a time, with matches, nodes and exact keys past its parts' ends.
 */
static void diff_name(char *name, size_t cap, unsigned int *seed, bool deep)
{
	static const char *const labels[] = {
		"www",	"a",	"ads",	"example",	 "example-adult", "com",   "net",
		"test", "evil", "safe", "game",		 "org",		  "exact", "q",
		"z",	"long", "x",	"xn--bcher-kva", "shop",	  "kids",  "ok",
		"b"
	};
	/* listed names and near misses, as suffixes half of the time */
	static const char *const suffixes[] = {
		"example-adult.com",
		"ads.example.net",
		"exact.example.org",
		"evil.test",
		"safe.example-adult.com",
		"game.example",
		"q.z",
		"example.net",
		"evil.tes",
		"vil.test",
		"example-adult.co",
		"long.test",
		"shop.example",
		"ok.kids.example",
		"kids.example",
		"b.a.far.example",
		"c.b.a.far.example",
	};
	const char *const bases[] = { n40_listed, n41_below, n40_beside, n32_exact };
	int nl = 1 + rand_r(seed) % 6, j;
	const char *base = NULL;

	name[0] = 0;
	if (deep) {
		base = bases[rand_r(seed) % ARRAY_SIZE(bases)];
		/* a third of the time, its top labels cut: nodes, no entry */
		for (j = rand_r(seed) % 3 ? 0 : rand_r(seed) % 12; j > 0; j--)
			base = strchr(base, '.') + 1;
		nl = rand_r(seed) % 5;
	}
	for (j = 0; j < nl; j++) {
		const char *l = labels[rand_r(seed) % ARRAY_SIZE(labels)];
		size_t at = strlen(name);

		if (!deep && j == nl - 1 && rand_r(seed) % 2)
			l = suffixes[rand_r(seed) % ARRAY_SIZE(suffixes)];
		snprintf(name + at, cap - at, "%s%s", j ? "." : "", l);
	}
	if (base)
		snprintf(name + strlen(name), cap - strlen(name), "%s%s", nl ? "." : "", base);
	/* random case: the kernel lower-cases, the host too */
	for (j = 0; name[j]; j++)
		if (rand_r(seed) % 3 == 0 && name[j] >= 'a' && name[j] <= 'z')
			name[j] = (char)(name[j] - 32);
}

/*
 * Random names, each in a DNS query, a ClientHello's SNI or an HTTP Host (in turn), through
 * XDP and TC: the kernel decides as the host's lookup (domtable_lookup()) does.
 */
static void test_differential(void **state)
{
	static const int kinds[] = { P_DNS, P_TLS, P_HTTP };
	static const __u32 blocked[] = { GC_ANSWER_DNS_NXDOMAIN, GC_RESET_SNI, GC_RESET_HTTP };
	struct nstate *s = *state;
	unsigned int seed = 2024;
	int i, by[GC_VERDICT_MAX] = { 0 }, mismatches = 0, deep_hits = 0;

	for (i = 0; i < 3000; i++) {
		int k = i % 3;
		char name[300];
		struct dom_match m;
		struct pspec f = { .kind = kinds[k], .name = name };
		__u8 payload[PKT_MAX];
		struct fspec fs = { .sport = (__u16)(20000 + i % 1000) };
		struct guard_trace t;
		struct run_out o;
		struct pkt p;
		__u32 want;
		size_t n;

		diff_name(name, sizeof(name), &seed, i % 4 == 3);
		if (kinds[k] != P_DNS) {
			fs.l4 = TCP;
			fs.dport = kinds[k] == P_HTTP ? 80 : 443;
		}
		assert_int_equal(domtable_lookup(&s->pol->dom, name, &m), 0);
		if (m.leaf == 0) {
			want = GC_PASS_NOMATCH;
		} else {
			const struct dom_leaf *l = &s->pol->dom.leaves[m.leaf];

			want = l->block_cats & BLOCK_MASK  ? blocked[k] :
			       l->flags & DOM_LEAF_F_ALLOW ? GC_PASS_DOMAIN_ALLOW :
							     GC_PASS_DOMAIN_CATEGORY_OFF;
			deep_hits += i % 4 == 3;
		}
		n = payload_of(&f, payload, sizeof(payload));
		frame(&p, &fs, payload, n);
		trace_reset(s, s->skel);
		run(s->skel, (enum hook)(i % 2), p.buf, p.len, &o);
		trace_read(s, s->skel, &t);
		by[want]++;
		if (t.counter != want || (m.leaf && t.leaf_id != m.leaf)) {
			print_error("# %s: kernel %s leaf %u, host %s leaf %u\n", name,
				    counter_name(t.counter), t.leaf_id, counter_name(want), m.leaf);
			mismatches++;
		}
	}
	print_message("# nomatch %d blocked %d/%d/%d (DNS/SNI/Host) allow %d category-off %d; "
		      "deep names matched %d; mismatches %d\n",
		      by[GC_PASS_NOMATCH], by[GC_ANSWER_DNS_NXDOMAIN], by[GC_RESET_SNI],
		      by[GC_RESET_HTTP], by[GC_PASS_DOMAIN_ALLOW], by[GC_PASS_DOMAIN_CATEGORY_OFF],
		      deep_hits, mismatches);
	assert_int_equal(mismatches, 0);
	assert_true(by[GC_PASS_NOMATCH] > 300 && by[GC_ANSWER_DNS_NXDOMAIN] > 100);
	assert_true(by[GC_RESET_SNI] > 100 && by[GC_RESET_HTTP] > 100 && deep_hits > 100);
	assert_true(by[GC_PASS_DOMAIN_ALLOW] > 0 && by[GC_PASS_DOMAIN_CATEGORY_OFF] > 0);
}

/* A second policy of one domain entry e, loaded as s->skel2; its dom_config into *dc. */
static void load_one_entry(struct nstate *s, const struct dom_entry *e, struct dom_config *dc)
{
	__u32 zero = 0;

	drop_second(s);
	s->pol2 = policy_new();
	assert_non_null(s->pol2);
	s->pol2->n_lists = N_LISTS;
	s->pol2->groups[0].block_mask = BLOCK_MASK;
	assert_int_equal(domtable_add(&s->pol2->dom, e), 0);
	assert_int_equal(iptable_build(&s->pol2->ipt, NULL, 0), 0);
	assert_int_equal(domtable_build(&s->pol2->dom), 0);
	assert_int_equal(load(s->pol2, &s->skel2), 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(s->skel2->maps.MAP_DOM_CONFIG), &zero, dc),
			 0);
	assert_int_equal(dc->root, s->pol2->dom.root);
}

/* name in a DNS query (or a ClientHello, kind P_TLS) through s->skel2: counter, list L_MALWARE. */
static void run_one_name(struct nstate *s, const char *name, enum payload_kind kind, __u32 counter)
{
	struct pspec f = { .kind = kind, .name = name };
	struct fspec fs = { .l4 = (__u8)(kind == P_TLS ? TCP : 0) };
	__u8 payload[PKT_MAX];
	struct snapshot a, b;
	struct run_out o;
	struct pkt p;

	frame(&p, &fs, payload, payload_of(&f, payload, sizeof(payload)));
	snap(s, s->skel2, &a);
	run(s->skel2, HOOK_XDP, p.buf, p.len, &o);
	snap(s, s->skel2, &b);
	check_deltas(name, &a, &b, counter, 0, counter == GC_PASS_NOMATCH ? NOLIST : L_MALWARE, 0,
		     p.len);
}

/*
 * Tables without an exact-only entry: the lookup skips the exact key's probe (dom_config's
 * DOM_CFG_F_EXACT off), and still decides by the subtree keys, the whole name's included.
 */
static void test_no_exact_entry(void **state)
{
	static const struct {
		const char *name;
		__u32 counter;
	} cases[] = {
		{ "evil.test", GC_ANSWER_DNS_NXDOMAIN },
		{ "a.b.EVIL.test", GC_ANSWER_DNS_NXDOMAIN },
		{ "notevil.test", GC_PASS_NOMATCH },
		{ "test", GC_PASS_NOMATCH },
	};
	struct nstate *s = *state;
	struct dom_entry e = { .name = "evil.test", .list_id = L_MALWARE, .category = CAT_MALWARE };
	struct dom_config dc;
	size_t i;

	load_one_entry(s, &e, &dc);
	assert_int_equal(dc.flags & DOM_CFG_F_EXACT, 0);
	/* no one-label entry: "test" is not tested */
	assert_int_equal(dc.flags & DOM_CFG_F_TLD, 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_one_name(s, cases[i].name, P_DNS, cases[i].counter);
	drop_second(s);
}

/*
 * A one-label entry (a whole top-level domain): the walk tests the top-level suffix
 * (DOM_CFG_F_TLD), in the packet (a DNS question), from the copy (a question of more labels
 * than the in-place walk takes) and in text (SNI).
 */
static void test_tld_entry(void **state)
{
	static char deep[128];
	static const struct {
		const char *name;
		enum payload_kind kind;
		__u32 counter;
	} cases[] = {
		{ "zip", P_DNS, GC_ANSWER_DNS_NXDOMAIN },
		{ "a.b.ZIP", P_DNS, GC_ANSWER_DNS_NXDOMAIN },
		{ deep, P_DNS, GC_ANSWER_DNS_NXDOMAIN },
		{ "www.example.zip", P_TLS, GC_RESET_SNI },
		{ "zip.com", P_DNS, GC_PASS_NOMATCH },
		{ "notzip", P_DNS, GC_PASS_NOMATCH },
		{ "zip.example", P_TLS, GC_PASS_NOMATCH },
	};
	struct nstate *s = *state;
	struct dom_entry e = { .name = "zip", .list_id = L_MALWARE, .category = CAT_MALWARE };
	struct dom_config dc;
	size_t i;

	deep[0] = 0;
	for (i = 0; i < 20; i++)
		strcat(deep, "l.");
	strcat(deep, "zip"); /* 21 labels: past the in-place walk (DOM_PKT_LEVELS), the copy */
	load_one_entry(s, &e, &dc);
	assert_int_equal(dc.flags & DOM_CFG_F_TLD, DOM_CFG_F_TLD);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_one_name(s, cases[i].name, cases[i].kind, cases[i].counter);
	drop_second(s);
}

/*
 * [guard] unexamined = block: every fixture again, through a program loaded with the knob.
 * A name the guard cannot examine (PASS_NAME_TOO_LONG .. PASS_HTTP_UNSUPPORTED) is blocked,
 * a TCP segment reset (tcp_action = reset) or dropped (drop), a DNS query over UDP dropped;
 * every other verdict, reordered split hellos (PASS_TLS_UNORDERED) among them, is unchanged.
 */
/*
 * DNS over TCP with unexamined = block (s->skel2): a question cut by the segment's end and a
 * segment of more messages than are judged are blocked (counter); a length prefix alone is
 * not (its message is judged in the next segment), nor is the allowed message after it.
 */
static void dns_tcp_unexamined(struct nstate *s, __u32 counter)
{
	__u8 b[2048];
	size_t n = 0;
	int i;

	add_dns_msg(b, &n, sizeof(b), "www.example.com", false);
	send_stream(s, s->skel2, "block unexamined: prefix alone", 4, 44000, 53, b, 0, 2,
		    GC_PASS_NOMATCH, NB(DNS_TCP_FOLLOWED), NOLIST);
	send_stream(s, s->skel2, "block unexamined: the message after it", 4, 44000, 53, b, 2, n,
		    GC_PASS_NOMATCH, 0, NOLIST);
	send_stream(s, s->skel2, "block unexamined: a question cut", 4, 44001, 53, b, 0, 2 + 12 + 5,
		    counter, 0, NOLIST);
	n = 0;
	for (i = 0; i < DNS_TCP_MSGS_MAX + 1; i++)
		add_dns_msg(b, &n, sizeof(b), "www.example.com", false);
	send_stream(s, s->skel2, "block unexamined: one message more than judged", 4, 44002, 53, b,
		    0, n, counter, 0, NOLIST);
}

static void unexamined_run(struct nstate *s, int tcp_action)
{
	size_t i, blocked = 0;
	int h;

	drop_second(s);
	assert_int_equal(build_policy(&s->pol2, true), 0);
	s->pol2->act.set = true;
	s->pol2->act.dns_action = DNS_ACT_NXDOMAIN;
	s->pol2->act.tcp_action = tcp_action;
	s->pol2->act.block_ttl = 10;
	s->pol2->act.unexamined = UNEXAMINED_BLOCK;
	assert_int_equal(load(s->pol2, &s->skel2), 0);
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		struct nfix f = fixtures[i];

		if (f.counter >= GC_PASS_NAME_TOO_LONG && f.counter <= GC_PASS_HTTP_UNSUPPORTED) {
			bool tcp = f.pl.kind != P_DNS || f.fs.l4 == TCP;

			f.counter = tcp && tcp_action == TCP_ACT_RESET ? GC_RESET_UNEXAMINED :
									 GC_DROP_UNEXAMINED;
			f.list = NOLIST;
			blocked++;
		} else if (tcp_action == TCP_ACT_DROP) {
			/* and the blocked names' resets are drops too */
			f.counter = f.counter == GC_RESET_DNS_TCP ? GC_DROP_DNS_TCP :
				    f.counter == GC_RESET_SNI	  ? GC_DROP_SNI :
				    f.counter == GC_RESET_HTTP	  ? GC_DROP_HTTP :
								    f.counter;
		}
		for (h = HOOK_XDP; h <= HOOK_TC; h++)
			run_fixture_on(s, s->skel2, s->pol2, &f, (enum hook)h);
	}
	/* DNS (QDCOUNT, pointer, cut name, cut header), TLS (malformed, records, labels), HTTP */
	assert_true(blocked >= 9);
	dns_tcp_unexamined(s,
			   tcp_action == TCP_ACT_RESET ? GC_RESET_UNEXAMINED : GC_DROP_UNEXAMINED);
	drop_second(s);
}

static void test_unexamined_block(void **state)
{
	unexamined_run(*state, TCP_ACT_RESET);
	unexamined_run(*state, TCP_ACT_DROP);
}

/* --- coverage and the verifier --- */

/* Every verdict counter of the name stage has a fixture (here or in the tests above). */
static void test_coverage(void **state)
{
	static const __u32 elsewhere[] = {
		GC_ANSWER_DNS_REFUSED,
		GC_ANSWER_DNS_SINKHOLE,
		GC_ANSWER_DNS_NODATA,
		GC_DROP_DNS_TCP,
		GC_DROP_SNI,
		GC_DROP_HTTP,
		GC_PASS_TLS_PENDING,
		GC_PASS_TLS_UNORDERED,
		/* test_unexamined_block */
		GC_DROP_UNEXAMINED,
		GC_RESET_UNEXAMINED,
	};
	__u64 seen = 0;
	__u32 notes = 0, c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		seen |= 1ull << fixtures[i].counter;
		notes |= fixtures[i].notes;
	}
	for (i = 0; i < ARRAY_SIZE(elsewhere); i++)
		seen |= 1ull << elsewhere[i];
	/* test_split_hello, test_dns_tcp_stream */
	notes |= NB(TLS_SPLIT) | NB(TLS_RETRANSMIT) | NB(DNS_TCP_FOLLOWED);
	for (c = GC_DROP_DNS; c < GC_VERDICT_MAX; c++)
		if (!(seen & (1ull << c)))
			fail_msg("verdict counter %s has no fixture", counter_name(c));
	for (c = GC_NOTE_DNS_NOT_QUERY; c < GC_COUNTER_MAX; c++)
		/*
		 * Not provoked through BPF_PROG_TEST_RUN: a full flow table (the LRU map makes
		 * room), a frame that cannot grow (the test run gives room; veth native XDP does
		 * not: the end-to-end tests meet it)
		 */
		if (c != GC_NOTE_FLOW_FULL && c != GC_NOTE_DNS_LEAN && !(notes & NOTE_BIT(c)))
			fail_msg("note counter %s has no fixture", counter_name(c));
}

/* The verifier's work per program, with room under its limit. */
static void test_verifier_budget(void **state)
{
	struct nstate *s = *state;

	harness_verifier_budget(s->skel, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coverage),	 cmocka_unit_test(test_verifier_budget),
		cmocka_unit_test(test_fixtures_xdp),	 cmocka_unit_test(test_fixtures_tc),
		cmocka_unit_test(test_dns_answers),	 cmocka_unit_test(test_tcp_resets),
		cmocka_unit_test(test_split_hello),	 cmocka_unit_test(test_dns_tcp_stream),
		cmocka_unit_test(test_dns_tcp_random),	 cmocka_unit_test(test_differential),
		cmocka_unit_test(test_no_exact_entry),	 cmocka_unit_test(test_tld_entry),
		cmocka_unit_test(test_unexamined_block),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
