// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HTTP request parser (bpf/lib/http.h): any bytes as a segment's
 * payload. Beyond the sanitizers: a host found lies inside the payload, is 1..254 bytes, holds
 * no byte that ends a host, and follows a method; a request pipelined behind it (or behind a
 * request without a host) starts after an empty line with a method, found alike from the
 * request's start; the results are among the documented ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/lib/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u8 *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	struct http_host h;
	struct name_buf nb;
	__u32 i;
	int ret;

	if (!in)
		return 0;
	memcpy(in, data, size);
	ret = http_host(in, in + size, &h);
	if (ret == 0) {
		if (h.len < 1 || h.len > NAME_MAX_LEN + 1 || h.off + h.len > size ||
		    h.off + h.len >= HTTP_COPY_MAX || size < 8 || !http_method_len(name_load64(in)))
			abort();
		for (i = 0; i < h.len; i++)
			if (http_host_stops(in[h.off + i]) & 0x80)
				abort();
		/* a pipelined request: after an empty line past the host, a method's 8 bytes */
		i = http_next(in, in + size, &h);
		if (i && (i < h.off + h.len + 2 || i + 8 > size || i + 8 > HTTP_COPY_MAX ||
			  in[i - 1] != '\n' ||
			  !(in[i - 2] == '\n' || (in[i - 2] == '\r' && in[i - 3] == '\n')) ||
			  !http_method_len(name_load64(in + i))))
			abort();
		/* no empty line before the host: searched from the request's start, the same */
		if (http_next(in, in + size, NULL) != i)
			abort();
		ret = http_host_name(in, in + size, &nb);
		if (ret != 0 && ret != -(int)GC_PASS_NAME_MALFORMED &&
		    ret != -(int)GC_PASS_NAME_TOO_LONG)
			abort();
	} else if (ret == HTTP_NO_HOST) {
		/* a request without a host: one pipelined behind it, found from its start */
		i = http_next(in, in + size, NULL);
		if (i && (i < 6 || i + 8 > size || i + 8 > HTTP_COPY_MAX || in[i - 1] != '\n' ||
			  !(in[i - 2] == '\n' || (in[i - 2] == '\r' && in[i - 3] == '\n')) ||
			  !http_method_len(name_load64(in + i))))
			abort();
	} else if (ret != HTTP_NOT_REQUEST && ret != HTTP_NO_HOST &&
		   ret != -(int)GC_PASS_NAME_TRUNCATED && ret != -(int)GC_PASS_NAME_TOO_LONG) {
		abort();
	}
	free(in);
	return 0;
}
