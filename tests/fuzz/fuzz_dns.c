// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the DNS query parser (bpf/lib/dns.h) and the answer builder: any bytes
 * as a DNS message. Beyond the sanitizers: a parsed query's name is within the limits, in
 * lower case, its labels match its dots and its wire length; every kind of answer built from
 * it (full and lean, TTL and sinkhole addresses taken from the input) has the length
 * dns_answer_len() says, is written inside exactly that many bytes, reads back
 * (tests/bpf/l7gen.h) with the query's ID and question, and the sum of its written bytes and
 * its question's is the checksum of the whole message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/lib/dns.h"
#include "bpf/l7gen.h"
#include "bpf/pktgen.h"

static void check_query(const __u8 *msg, size_t size, const struct dns_query *q,
			const struct name_buf *nb)
{
	struct dns_answer_cfg cfg;
	__u32 i, total = 0;

	if (nb->len > NAME_MAX_LEN || nb->labels > NAME_MAX_LABELS || q->wire < 1 ||
	    12u + q->wire + 4 > size || q->wire != (nb->labels ? nb->len + 2u : 1u))
		abort();
	for (i = 0; i < nb->len; i++)
		if (nb->b[1 + i] >= 'A' && nb->b[1 + i] <= 'Z')
			abort();
	for (i = 0; i < nb->labels; i++) {
		__u32 llen, start = name_label(nb, i, &llen);

		if (llen < 1 || llen > 63 || start + llen > nb->len + 1u)
			abort();
		total += llen + 1;
	}
	if (nb->labels && total != nb->len + 1u)
		abort();
	for (i = 0; i < 16; i++) {
		cfg.a[i & 3] = msg[i & 7];
		cfg.aaaa[i] = msg[(i + 3) % 12];
	}
	cfg.ttl = ((__u32)q->id << 16 | q->flags) ^ 0x9e3779b9u;
	for (i = 0; i < 2 * (DNS_ANS_NODATA + 1); i++) {
		__u32 kind = i % (DNS_ANS_NODATA + 1) | (i > DNS_ANS_NODATA ? DNS_ANS_LEAN : 0);
		__u32 want = dns_answer_len(q, kind), alen;
		/* exactly the answer's length: ASan sees a write past it */
		__u8 *ans = malloc(want ? want : 1);
		struct dnsr r;
		__u64 sum;

		if (!ans)
			return;
		memcpy(ans + 12, msg + 12, q->wire + 4u);
		alen = dns_build_answer(ans, ans + want, q, kind, &cfg, &sum);
		if (!alen || alen != want || alen > DNS_ANSWER_MAX || l7_dns_read(ans, alen, &r))
			abort();
		/* the sum of the bytes written and the question's is the whole message's */
		if (pkt_csum(ans + 12, q->wire + 4u, dns_sum_fold(sum)) != pkt_csum(ans, alen, 0))
			abort();
		if (r.id != q->id || r.qname_len != q->wire || memcmp(r.qname, msg + 12, q->wire))
			abort();
		free(ans);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u8 *msg = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	struct dns_query q;
	struct name_buf nb;
	int ret;

	if (!msg)
		return 0;
	memcpy(msg, data, size);
	ret = dns_parse_query(msg, msg + size, &q, &nb);
	if (ret == 0)
		check_query(msg, size, &q, &nb);
	else if (ret != DNS_NOT_QUERY && ret != -(int)GC_PASS_DNS_MALFORMED &&
		 ret != -(int)GC_PASS_NAME_TOO_LONG && ret != -(int)GC_PASS_NAME_TRUNCATED)
		abort();
	free(msg);
	return 0;
}
