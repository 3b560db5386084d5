// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the ClientHello walk (bpf/lib/tls.h): any bytes as the start of a TCP
 * stream. Beyond the sanitizers: the walk over the whole input and the walk over the same
 * bytes cut into three segments (at places the input's last bytes choose) end the same way,
 * with the same name, and a name found is within the limits and in lower case.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/lib/tls.h"

/* Walk in[0..size) as segments ending at cuts[0..n); returns the result and the name. */
static int walk(const __u8 *in, size_t size, const size_t *cuts, int n, struct name_buf *nb)
{
	struct tls_walk w;
	__u8 saved[FLOW_NAME_LEN];
	size_t from = 0;
	int i, ret = TLS_MORE;

	memset(&w, 0, sizeof(w));
	memset(nb, 0, sizeof(*nb));
	for (i = 0; i < n; i++) {
		struct tls_span span = { 0 };
		size_t len = cuts[i] - from;
		__u8 *seg = malloc(len ? len : 1); /* exact: ASan sees any overread */

		if (!seg)
			abort();
		memcpy(seg, in + from, len);
		/* every part of a name cut by records or segments saved, bounds checked */
		ret = tls_walk_saving(&w, seg, seg + len, &span, saved);
		if (span.save_at + span.len > sizeof(saved) || span.off + span.len > len)
			abort();
		if (ret == TLS_NAME) {
			__u32 before = w.name_len - span.len;

			if (span.off + span.len > len || before > NAME_MAX_LEN + 1)
				abort();
			memcpy(nb->b + 1, saved, before);
			memcpy(nb->b + 1 + before, seg + span.off, span.len);
			ret = name_from_dotted(nb, w.name_len);
			if (!ret) {
				name_lower(nb);
				ret = TLS_NAME;
			}
		}
		free(seg);
		from = cuts[i];
		if (ret != TLS_MORE)
			break;
	}
	(void)size;
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct name_buf one, three;
	size_t all[1] = { size }, cuts[3];
	int r1, r3;
	__u32 i;

	if (size > 8192)
		return 0;
	cuts[0] = size ? (size_t)data[size - 1] * size / 256 : 0;
	cuts[1] = size > 1 ? cuts[0] + (size - cuts[0]) * data[size - 2] / 256 : cuts[0];
	cuts[2] = size;
	r1 = walk(data, size, all, 1, &one);
	r3 = walk(data, size, cuts, 3, &three);
	if (r1 != r3)
		abort();
	if (r1 == TLS_NAME) {
		if (one.len != three.len || memcmp(one.b, three.b, one.len + 1u) ||
		    one.len > NAME_MAX_LEN)
			abort();
		for (i = 1; i <= one.len; i++)
			if (one.b[i] >= 'A' && one.b[i] <= 'Z')
				abort();
	}
	return 0;
}
