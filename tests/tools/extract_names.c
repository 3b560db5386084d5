// SPDX-License-Identifier: GPL-2.0-only
/*
 * extract_names: the names the guard's own parsers find in a capture, for the differential
 * test against tshark (tests/e2e/test_names_tshark.sh). Every frame of FILE (pcap or pcapng,
 * read by user/pcap.c) goes through the header-only parsers the BPF program runs
 * (bpf/lib/parse.h, dns.h, tls.h, http.h, name.h), dispatched as bpf/lib/names.h does:
 *   UDP to port 53                        a DNS query
 *   TCP, a ClientHello being followed     its next segment, in sequence order
 *   TCP, starts like a ClientHello        a TLS ClientHello (SNI), followed over segments
 *   TCP to port 53                        a DNS query behind its 2-byte length
 *   TCP, starts with "METHOD "            an HTTP/1.x request (Host or absolute-form target)
 * Output, one line per name found, in frame order:
 *   FRAME<TAB>SOURCE<TAB>NAME            SOURCE: dns-udp, dns-tcp, sni, http
 * NAME is dotted, lower case, without a trailing dot, bytes outside 0x21..0x7e as \xNN.
 * Options:
 *   -a  also a line for each frame a parser looked at without finding a complete name:
 *       FRAME<TAB>SOURCE<TAB>!REASON, REASON the counter the guard counts it under
 *       (pass_tls_pending, pass_name_too_long, note_tls_retransmit, note_dns_not_query...)
 *   -e  a fourth column on sni lines: "ech" when an encrypted_client_hello extension was
 *       walked over before the SNI (the guard's note_tls_ech), "-" otherwise
 * Exit: 0, 1 when the capture is cut or corrupt (after the lines of the frames before), 2 for
 * usage or a file that cannot be opened.
 *
 * Built by the test script (the Makefile does not build tests/tools):
 *   cc -std=gnu11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -o extract_names \
 *      tests/tools/extract_names.c user/pcap.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf/lib/parse.h"
#include "bpf/lib/dns.h"
#include "bpf/lib/http.h"
#include "bpf/lib/tls.h"
#include "user/pcap.h"

/* ClientHellos followed at once; the oldest is replaced when full (the kernel's LRU). */
#define FLOWS_MAX 256

struct flow {
	struct flow_key key;
	__u64 used; /* frame that last touched it; 0: free */
	__u32 next_seq;
	struct tls_walk w;
	__u8 name[FLOW_NAME_LEN];
};

struct extractor {
	struct flow flows[FLOWS_MAX];
	int all; /* -a */
	int ech; /* -e */
};

static const char *reason(int counter)
{
	if (counter >= 0 && counter < GC_COUNTER_MAX && guard_counter_info[counter].name)
		return guard_counter_info[counter].name;
	return "unknown";
}

static void put_name(const __u8 *s, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\')
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
}

static void out_name(__u64 frame, const char *src, const struct name_buf *nb, const char *flags)
{
	printf("%llu\t%s\t", (unsigned long long)frame, src);
	put_name(nb->b + 1, nb->len > NAME_MAX_LEN ? NAME_MAX_LEN : nb->len);
	if (flags)
		printf("\t%s", flags);
	putchar('\n');
}

/* A frame a parser examined without a name: its counter (-a only). */
static void out_reason(const struct extractor *x, __u64 frame, const char *src, int counter)
{
	if (x->all)
		printf("%llu\t%s\t!%s\n", (unsigned long long)frame, src, reason(counter));
}

static void key_of(const struct parse_result *r, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, r->saddr, r->family == 4 ? 4 : 16);
	memcpy(k->daddr, r->daddr, r->family == 4 ? 4 : 16);
	k->sport = r->sport;
	k->dport = r->dport;
	k->family = r->family;
}

static struct flow *flow_find(struct extractor *x, const struct flow_key *k)
{
	int i;

	for (i = 0; i < FLOWS_MAX; i++)
		if (x->flows[i].used && !memcmp(&x->flows[i].key, k, sizeof(*k)))
			return &x->flows[i];
	return NULL;
}

static struct flow *flow_new(struct extractor *x, const struct flow_key *k, __u64 frame)
{
	struct flow *f = &x->flows[0];
	int i;

	for (i = 0; i < FLOWS_MAX; i++) {
		if (!x->flows[i].used) {
			f = &x->flows[i];
			break;
		}
		if (x->flows[i].used < f->used)
			f = &x->flows[i];
	}
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->used = frame;
	return f;
}

static void dns(struct extractor *x, __u64 frame, const char *src, const __u8 *msg, __u32 len)
{
	struct dns_query q;
	struct name_buf nb;
	int ret;

	ret = dns_parse_query(msg, msg + len, &q, &nb);
	if (ret == DNS_NOT_QUERY)
		out_reason(x, frame, src, GC_NOTE_DNS_NOT_QUERY);
	else if (ret < 0)
		out_reason(x, frame, src, -ret);
	else
		out_name(frame, src, &nb, NULL);
}

static void http(struct extractor *x, __u64 frame, const __u8 *p, __u32 len)
{
	struct name_buf nb;
	int ret;

	if (len < 8) /* as the kernel: a request line is longer */
		return;
	ret = http_host_name(p, p + len, &nb);
	if (ret == HTTP_NOT_REQUEST)
		return;
	if (ret == HTTP_NO_HOST)
		out_reason(x, frame, "http", GC_NOTE_HTTP_NO_HOST);
	else if (ret < 0)
		out_reason(x, frame, "http", -ret);
	else
		out_name(frame, "http", &nb, NULL);
}

/*
 * One segment of a ClientHello: f is its flow (a fresh one for a first segment). The saved
 * bytes and the walk as the kernel keeps them (bpf/lib/names.h names_tls).
 */
static void tls(struct extractor *x, __u64 frame, struct flow *f, __u32 seq, const __u8 *p,
		__u32 len)
{
	struct tls_span span;
	struct name_buf nb;
	__u32 before;
	int ret, k;

	ret = tls_walk_len(&f->w, p, len, p + len, &span);
	/* a name cut by a record's end inside the segment: save the part, walk on */
	for (k = 0; k < TLS_PARTS_MAX + 1 && ret == TLS_PART; k++) {
		if (span.save_at + span.len > FLOW_NAME_LEN) {
			out_reason(x, frame, "sni", GC_PASS_TLS_MALFORMED);
			f->used = 0;
			return;
		}
		memcpy(f->name + span.save_at, p + span.off, span.len);
		ret = tls_walk_resume(&f->w, p, len, p + len, &span);
	}
	if (ret == TLS_PART)
		ret = NAME_ERR(PASS_TLS_UNSUPPORTED);
	if (ret == TLS_MORE) {
		if (span.len) {
			if (span.save_at + span.len > FLOW_NAME_LEN) {
				out_reason(x, frame, "sni", GC_PASS_TLS_MALFORMED);
				f->used = 0;
				return;
			}
			memcpy(f->name + span.save_at, p + span.off, span.len);
		}
		f->next_seq = seq + len;
		f->used = frame;
		out_reason(x, frame, "sni", GC_PASS_TLS_PENDING);
		return;
	}
	f->used = 0; /* the walk is over, whatever it found */
	if (ret == TLS_NOT_HELLO)
		return;
	if (ret == TLS_NONE) {
		out_reason(x, frame, "sni", GC_NOTE_TLS_NO_SNI);
		return;
	}
	if (ret < 0) {
		out_reason(x, frame, "sni", -ret);
		return;
	}
	before = (__u32)f->w.name_len - span.len;
	if (before > NAME_MAX_LEN + 1 || span.len == 0 || span.len > NAME_MAX_LEN + 1) {
		out_reason(x, frame, "sni", GC_PASS_TLS_MALFORMED);
		return;
	}
	memset(&nb, 0, sizeof(nb));
	memcpy(nb.b + 1, f->name, before);
	memcpy(nb.b + 1 + before, p + span.off, span.len);
	ret = name_from_dotted(&nb, before + span.len);
	if (ret < 0) {
		out_reason(x, frame, "sni", -ret);
		return;
	}
	name_lower(&nb);
	out_name(frame, "sni", &nb, x->ech ? (f->w.flags & TLS_F_ECH ? "ech" : "-") : NULL);
}

/*
 * Bytes of L4 payload, as bpf/lib/names.h counts them: the IP length less the headers after
 * the Ethernet header and tags, capped by the frame (no device-removed tags in a capture).
 */
static __u32 payload_len(const struct parse_result *r, const __u8 *data, const __u8 *end)
{
	__u32 frame = (__u32)(end - (const __u8 *)r->payload);
	__u32 payload_off = (__u32)((const __u8 *)r->payload - data);
	__u32 l3_off = sizeof(struct hdr_eth) + 4 * (__u32)r->vlan_depth;
	__u32 hdrs = payload_off - l3_off;

	if (r->ip_len == 0 || r->ip_len < hdrs)
		return frame;
	return r->ip_len - hdrs < frame ? r->ip_len - hdrs : frame;
}

static void frame(struct extractor *x, const struct pcap_frame *pf)
{
	const __u8 *end = pf->data + pf->caplen, *p;
	const struct hdr_tcp *t;
	struct parse_result r;
	struct flow_key key;
	struct flow *f;
	__u32 plen, seq, mlen;

	memset(&r, 0, sizeof(r));
	if (parse_packet(pf->data, end, 0, &r) < 0 || !r.payload || r.later_fragment)
		return;
	p = r.payload;
	plen = payload_len(&r, pf->data, end);
	if (plen == 0 || plen > 0xffff)
		return;
	if (r.l4_proto == PARSE_IPPROTO_UDP) {
		if (r.dport == DNS_PORT)
			dns(x, pf->index, "dns-udp", p, plen);
		return;
	}
	if (r.l4_proto != PARSE_IPPROTO_TCP)
		return;
	t = r.l4;
	seq = (__u32)t->seq[0] << 24 | (__u32)t->seq[1] << 16 | (__u32)t->seq[2] << 8 | t->seq[3];
	key_of(&r, &key);
	f = flow_find(x, &key);
	if (f) {
		__s32 d = (__s32)(seq - f->next_seq);

		if (d < 0) {
			out_reason(x, pf->index, "sni", GC_NOTE_TLS_RETRANSMIT);
			return;
		}
		if (d > 0) {
			f->used = 0;
			out_reason(x, pf->index, "sni", GC_PASS_TLS_UNORDERED);
			return;
		}
		tls(x, pf->index, f, seq, p, plen);
		return;
	}
	if (tls_looks_like_hello(p, end, plen)) {
		tls(x, pf->index, flow_new(x, &key, pf->index), seq, p, plen);
		return;
	}
	if (r.dport == DNS_PORT) {
		if (plen < 2)
			return;
		mlen = (__u32)p[0] << 8 | p[1];
		if (mlen > plen - 2)
			mlen = plen - 2;
		dns(x, pf->index, "dns-tcp", p + 2, mlen);
		return;
	}
	http(x, pf->index, p, plen);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: extract_names [-a] [-e] FILE.pcap|FILE.pcapng|-\n"
		"  prints FRAME<TAB>SOURCE<TAB>NAME for every name the guard's parsers find\n"
		"  -a  also FRAME<TAB>SOURCE<TAB>!REASON for frames examined without a name\n"
		"  -e  a fourth column on sni lines: ech or -\n");
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_LEN];
	struct pcap_reader *rd = NULL;
	struct extractor *x;
	struct pcap_frame pf;
	int opt, ret, rc = 0;

	x = calloc(1, sizeof(*x));
	if (!x) {
		fprintf(stderr, "extract_names: out of memory\n");
		return 2;
	}
	while ((opt = getopt(argc, argv, "aeh")) != -1) {
		switch (opt) {
		case 'a':
			x->all = 1;
			break;
		case 'e':
			x->ech = 1;
			break;
		default:
			usage();
			free(x);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		free(x);
		return 2;
	}
	ret = pcap_reader_open(argv[optind], &rd, errbuf);
	if (ret) {
		fprintf(stderr,
			"extract_names: %s: give a pcap or pcapng file of Ethernet frames\n",
			errbuf);
		free(x);
		return 2;
	}
	while ((ret = pcap_reader_next(rd, &pf)) == 1)
		frame(x, &pf);
	if (ret < 0) {
		fprintf(stderr, "extract_names: %s\n", pcap_reader_error(rd));
		rc = 1;
	}
	pcap_reader_close(rd);
	free(x);
	return rc;
}
