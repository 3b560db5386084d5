// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the DNS response parser (bpf/lib/dnsresp.h): any bytes as a DNS
 * message. Beyond the sanitizers: every return is one of the documented codes; a walked
 * response's question is within the limits, in lower case, and its QNAME's wire length fits
 * the message; the walk's state is what the kernel relies on (at most one address per record,
 * DNSRESP_MAX_RRS records, a whole walk ending inside the message); every address collected is
 * the data of an A/AAAA record found in the message's bytes, with its TTL, an IPv4 address
 * zero-padded; and the same message parsed again gives the same result (no state kept between
 * calls).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/lib/dnsresp.h"

static int known_ret(int ret)
{
	if (ret >= 0)
		return ret == 0 || ret == DNSRESP_NOT_RESPONSE || ret == DNSRESP_RCODE ||
		       ret == DNSRESP_NO_ANSWER || ret == DNSRESP_PARTIAL;
	return -ret >= DNSRESP_E_HEADER && -ret < DNSRESP_E_MAX_;
}

/* The record data a+ttl must appear in the message: TTL, RDLENGTH, then the address. */
static int found_in(const __u8 *msg, size_t size, const struct dnsresp_addr *a)
{
	__u32 alen = a->family == 4 ? 4 : 16;
	size_t i;

	for (i = 12; i + 6 + alen <= size; i++) {
		__u32 ttl = (__u32)msg[i] << 24 | (__u32)msg[i + 1] << 16 | (__u32)msg[i + 2] << 8 |
			    msg[i + 3];

		if ((ttl & 0x80000000u ? 0 : ttl) == a->ttl && msg[i + 4] == 0 &&
		    msg[i + 5] == alen && !memcmp(msg + i + 6, a->addr, alen))
			return 1;
	}
	return 0;
}

static void check_walk(const __u8 *msg, size_t size, int ret, const struct dns_query *q,
		       const struct name_buf *nb, const struct dnsresp_walk *w)
{
	static const __u8 zero[12];
	__u32 i;

	if (nb->len > NAME_MAX_LEN || nb->labels > NAME_MAX_LABELS || q->wire < 1 ||
	    12u + q->wire + 4 > size || q->wire != (nb->labels ? nb->len + 2u : 1u))
		abort();
	for (i = 0; i < nb->len; i++)
		if (nb->b[1 + i] >= 'A' && nb->b[1 + i] <= 'Z')
			abort();
	if (w->n > w->rr || w->rr > DNSRESP_MAX_RRS || w->rr > w->ancount ||
	    w->avail > DNSRESP_COPY_MAX || w->avail > size || w->len != size ||
	    (ret == 0 && w->pos > size))
		abort();
	for (i = 0; i < w->n; i++) {
		const struct dnsresp_addr *a = &w->addr[i];

		if (a->family != 4 && a->family != 6)
			abort();
		if (a->family == 4 && memcmp(a->addr + 4, zero, sizeof(zero)))
			abort();
		if (a->ttl > 0x7fffffffu || !found_in(msg, size, a))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsresp_walk w, w2;
	__u8 *msg = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	struct dns_query q, q2;
	struct name_buf nb, nb2;
	int ret, ret2;

	if (!msg || size > 0xffff) {
		free(msg);
		return 0;
	}
	memcpy(msg, data, size);
	ret = dnsresp_parse(msg, msg + size, &q, &nb, &w);
	if (!known_ret(ret))
		abort();
	if (ret == 0 || ret == DNSRESP_PARTIAL)
		check_walk(msg, size, ret, &q, &nb, &w);
	ret2 = dnsresp_parse(msg, msg + size, &q2, &nb2, &w2);
	if (ret2 != ret || memcmp(&w, &w2, sizeof(w)) || memcmp(&q, &q2, sizeof(q)))
		abort();
	free(msg);
	return 0;
}
