// SPDX-License-Identifier: GPL-2.0-only
/*
 * extract_answers: what the guard would learn from each DNS response in a capture, for the
 * differential test against tshark (tests/e2e/test_learn_tshark.sh). Every frame of FILE
 * (pcap or pcapng, read by user/pcap.c) that is UDP from port 53 goes through the header-only
 * parsers the BPF program runs (bpf/lib/parse.h, bpf/lib/dnsresp.h). Output, one line per
 * response the parser walks (ret 0 or partial), in frame order:
 *   FRAME<TAB>QNAME<TAB>ADDR/TTL,ADDR/TTL,...     (the A and AAAA records of class IN, in order;
 *                                                   "-" when there are none)
 * and with -a, one line for every other UDP/53 response: FRAME<TAB>!REASON (dnsresp_ret_name).
 * QNAME is lower case, without a trailing dot ("" for the root). The message is the UDP
 * payload by the IP length (Ethernet padding left out); a TTL with the top bit set reads as 0.
 * Exit: 0, 1 when the capture is cut or corrupt (after the lines of the frames before), 2 for
 * usage or a file that cannot be opened.
 *
 * Built by the test script (the Makefile does not build tests/tools):
 *   cc -std=gnu11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -o extract_answers \
 *      tests/tools/extract_answers.c user/pcap.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf/lib/parse.h"
#include "bpf/lib/dnsresp.h"
#include "user/pcap.h"

static struct dnsresp_walk walk;

/* The UDP payload's length: by the IP header when it says, else the frame's. */
static __u32 payload_len(const struct parse_result *r, const __u8 *data, const __u8 *end)
{
	__u32 frame = (__u32)(end - (const __u8 *)r->payload);
	__u32 hdrs = (__u32)((const __u8 *)r->payload - data) - 14 - 4 * r->vlan_depth;

	if (r->ip_len == 0 || r->ip_len < hdrs)
		return frame;
	return r->ip_len - hdrs < frame ? r->ip_len - hdrs : frame;
}

static void frame(const struct pcap_frame *pf, int all)
{
	const __u8 *end = pf->data + pf->caplen;
	struct parse_result r;
	struct dns_query q;
	struct name_buf nb;
	char name[NAME_MAX_LEN + 1], a[INET6_ADDRSTRLEN];
	__u32 plen, i;
	int ret;

	memset(&r, 0, sizeof(r));
	if (parse_packet(pf->data, end, 0, &r) < 0 || !r.payload || r.later_fragment ||
	    r.l4_proto != PARSE_IPPROTO_UDP || r.sport != DNS_PORT)
		return;
	plen = payload_len(&r, pf->data, end);
	ret = dnsresp_parse(r.payload, (const __u8 *)r.payload + plen, &q, &nb, &walk);
	if (ret != 0 && ret != DNSRESP_PARTIAL) {
		if (all)
			printf("%llu\t!%s\n", (unsigned long long)pf->index, dnsresp_ret_name(ret));
		return;
	}
	printf("%llu\t%s\t", (unsigned long long)pf->index, name_str(&nb, name));
	for (i = 0; i < walk.n; i++) {
		const struct dnsresp_addr *x = &walk.addr[i];

		inet_ntop(x->family == 4 ? AF_INET : AF_INET6, x->addr, a, sizeof(a));
		printf("%s%s/%u", i ? "," : "", a, x->ttl);
	}
	printf("%s\n", walk.n ? "" : "-");
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_LEN];
	struct pcap_reader *rd = NULL;
	struct pcap_frame pf;
	int all = 0, ret, rc = 0;

	if (argc == 3 && !strcmp(argv[1], "-a")) {
		all = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr,
			"usage: extract_answers [-a] FILE.pcap|FILE.pcapng|-\n"
			"  prints FRAME<TAB>QNAME<TAB>ADDR/TTL,... for every DNS response the\n"
			"  guard would learn from; -a: FRAME<TAB>!REASON for the others\n");
		return 2;
	}
	ret = pcap_reader_open(argv[1], &rd, errbuf);
	if (ret) {
		fprintf(stderr,
			"extract_answers: %s: give a pcap or pcapng file of Ethernet frames\n",
			errbuf);
		return 2;
	}
	while ((ret = pcap_reader_next(rd, &pf)) == 1)
		frame(&pf, all);
	if (ret < 0) {
		fprintf(stderr, "extract_answers: %s\n", pcap_reader_error(rd));
		rc = 1;
	}
	pcap_reader_close(rd);
	return rc;
}
