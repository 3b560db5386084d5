// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/pcap.c: classic pcap and pcapng files crafted here byte by byte (both
 * byte orders, both timestamp precisions, every block kind the reader takes or skips), and
 * every way such a file can be cut or corrupted, each expected to fail with its byte offset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "user/pcap.h"

/* --- a byte buffer with writers in a chosen byte order --- */

struct bbuf {
	__u8 *p;
	size_t len, cap;
	int be; /* write multi-byte fields big-endian */
};

static void put(struct bbuf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put8(struct bbuf *b, __u8 v)
{
	put(b, &v, 1);
}

static void put16(struct bbuf *b, __u16 v)
{
	__u8 x[2] = { v & 0xff, v >> 8 };

	if (b->be) {
		x[0] = v >> 8;
		x[1] = v & 0xff;
	}
	put(b, x, 2);
}

static void put32(struct bbuf *b, __u32 v)
{
	if (b->be) {
		put16(b, v >> 16);
		put16(b, v & 0xffff);
	} else {
		put16(b, v & 0xffff);
		put16(b, v >> 16);
	}
}

static void set32(struct bbuf *b, size_t at, __u32 v)
{
	size_t save = b->len;

	b->len = at;
	put32(b, v);
	b->len = save;
}

/* A recognisable frame of n bytes: byte i is seed + i. */
static void frame_bytes(__u8 *dst, size_t n, __u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (__u8)(seed + i);
}

/* --- classic pcap --- */

static void pcap_hdr(struct bbuf *b, int nsec, __u32 linktype)
{
	put32(b, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(b, 2);
	put16(b, 4);
	put32(b, 0); /* thiszone */
	put32(b, 0); /* sigfigs */
	put32(b, 65535);
	put32(b, linktype);
}

static void pcap_rec(struct bbuf *b, __u32 sec, __u32 frac, __u32 caplen, __u32 len, __u8 seed)
{
	__u8 data[2048];

	assert_true(caplen <= sizeof(data));
	put32(b, sec);
	put32(b, frac);
	put32(b, caplen);
	put32(b, len);
	frame_bytes(data, caplen, seed);
	put(b, data, caplen);
}

/* --- pcapng --- */

/* Start a block: returns the offset of its length field, to be closed by end_block. */
static size_t begin_block(struct bbuf *b, __u32 type)
{
	size_t at;

	put32(b, type);
	at = b->len;
	put32(b, 0);
	return at;
}

static void end_block(struct bbuf *b, size_t len_at)
{
	__u32 total;

	while (b->len % 4)
		put8(b, 0);
	total = (__u32)(b->len - (len_at - 4) + 4);
	set32(b, len_at, total);
	put32(b, total);
}

static void shb(struct bbuf *b)
{
	size_t at = begin_block(b, 0x0a0d0d0a);

	put32(b, 0x1a2b3c4d);
	put16(b, 1);
	put16(b, 0);
	put32(b, 0xffffffff); /* section length: unknown */
	put32(b, 0xffffffff);
	end_block(b, at);
}

/* tsresol < 0: no if_tsresol option (microseconds). */
static void idb(struct bbuf *b, __u16 linktype, __u32 snaplen, int tsresol)
{
	size_t at = begin_block(b, 1);

	put16(b, linktype);
	put16(b, 0);
	put32(b, snaplen);
	if (tsresol >= 0) {
		put16(b, 9);
		put16(b, 1);
		put8(b, (__u8)tsresol);
		put8(b, 0);
		put16(b, 0);
		put16(b, 0); /* opt_endofopt */
		put16(b, 0);
	}
	end_block(b, at);
}

static void epb(struct bbuf *b, __u32 iface, __u64 ts, __u32 caplen, __u32 len, __u8 seed)
{
	size_t at = begin_block(b, 6);
	__u8 data[2048];

	put32(b, iface);
	put32(b, (__u32)(ts >> 32));
	put32(b, (__u32)ts);
	put32(b, caplen);
	put32(b, len);
	frame_bytes(data, caplen, seed);
	put(b, data, caplen);
	end_block(b, at);
}

static void spb(struct bbuf *b, __u32 len, __u8 seed)
{
	size_t at = begin_block(b, 3);
	__u8 data[2048];

	put32(b, len);
	frame_bytes(data, len, seed);
	put(b, data, len);
	end_block(b, at);
}

/* A block the reader must skip (an Interface Statistics Block, 5, or anything else). */
static void other_block(struct bbuf *b, __u32 type, size_t body)
{
	size_t at = begin_block(b, type), i;

	for (i = 0; i < body; i++)
		put8(b, 0xee);
	end_block(b, at);
}

/* --- helpers --- */

static void expect_frame(struct pcap_reader *r, __u64 index, __u32 caplen, __u32 len, __u8 seed,
			 __u64 ts_ns)
{
	struct pcap_frame f;
	__u8 want[2048];
	int ret = pcap_reader_next(r, &f);

	if (ret != 1)
		fail_msg("frame %llu: pcap_reader_next returned %d: %s", (unsigned long long)index,
			 ret, pcap_reader_error(r));
	assert_int_equal(f.index, index);
	assert_int_equal(f.caplen, caplen);
	assert_int_equal(f.len, len);
	assert_int_equal(f.ts_ns, ts_ns);
	frame_bytes(want, caplen, seed);
	assert_memory_equal(f.data, want, caplen);
}

static void expect_end(struct pcap_reader *r)
{
	struct pcap_frame f;

	assert_int_equal(pcap_reader_next(r, &f), 0);
	assert_int_equal(pcap_reader_next(r, &f), 0); /* and it stays at the end */
	assert_string_equal(pcap_reader_error(r), "");
}

/* Read to the end; returns the last result (0 or -errno) and the frames read. */
static int drain(struct pcap_reader *r, int *frames)
{
	struct pcap_frame f;
	int ret;

	*frames = 0;
	while ((ret = pcap_reader_next(r, &f)) == 1)
		(*frames)++;
	return ret;
}

static struct pcap_reader *open_ok(const struct bbuf *b)
{
	char err[PCAP_ERRBUF_LEN] = "";
	struct pcap_reader *r = NULL;
	int ret = pcap_reader_open_mem("mem.pcap", b->p, b->len, &r, err);

	if (ret)
		fail_msg("open failed (%d): %s", ret, err);
	return r;
}

static void expect_open_error(const struct bbuf *b, int want, const char *needle)
{
	char err[PCAP_ERRBUF_LEN] = "";
	struct pcap_reader *r = NULL;
	int ret = pcap_reader_open_mem("bad.pcap", b->p, b->len, &r, err);

	assert_int_equal(ret, want);
	assert_null(r);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

/* Opens fine, then the frame after `good` frames fails with want and a message with needle. */
static void expect_next_error(const struct bbuf *b, int good, int want, const char *needle)
{
	struct pcap_reader *r = open_ok(b);
	int frames, ret = drain(r, &frames);

	assert_int_equal(frames, good);
	assert_int_equal(ret, want);
	if (!strstr(pcap_reader_error(r), needle))
		fail_msg("error '%s' does not contain '%s'", pcap_reader_error(r), needle);
	/* a failed reader stays failed */
	{
		struct pcap_frame f;

		assert_int_equal(pcap_reader_next(r, &f), want);
	}
	pcap_reader_close(r);
}

/* --- classic pcap tests --- */

static void classic_file(struct bbuf *b, int be, int nsec)
{
	b->be = be;
	pcap_hdr(b, nsec, 1);
	pcap_rec(b, 1700000000, nsec ? 123456789 : 123456, 60, 60, 1);
	pcap_rec(b, 1700000001, 5, 14, 1514, 2); /* snapped: 14 of 1514 bytes */
	pcap_rec(b, 1700000002, 0, 0, 0, 3); /* empty record */
	pcap_rec(b, 1700000003, 7, 1500, 1500, 4);
}

static void check_classic(int be, int nsec)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;
	__u64 unit = nsec ? 1 : 1000;

	classic_file(&b, be, nsec);
	r = open_ok(&b);
	assert_int_equal(pcap_reader_format(r), PCAP_FMT_PCAP);
	expect_frame(r, 1, 60, 60, 1,
		     1700000000ull * 1000000000 + (nsec ? 123456789 : 123456) * unit);
	expect_frame(r, 2, 14, 1514, 2, 1700000001ull * 1000000000 + 5 * unit);
	expect_frame(r, 3, 0, 0, 3, 1700000002ull * 1000000000);
	expect_frame(r, 4, 1500, 1500, 4, 1700000003ull * 1000000000 + 7 * unit);
	expect_end(r);
	pcap_reader_close(r);
	free(b.p);
}

static void test_classic_le_usec(void **state)
{
	(void)state;
	check_classic(0, 0);
}

static void test_classic_be_usec(void **state)
{
	(void)state;
	check_classic(1, 0);
}

static void test_classic_le_nsec(void **state)
{
	(void)state;
	check_classic(0, 1);
}

static void test_classic_be_nsec(void **state)
{
	(void)state;
	check_classic(1, 1);
}

static void test_classic_offsets(void **state)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;
	struct pcap_frame f;

	(void)state;
	classic_file(&b, 0, 0);
	r = open_ok(&b);
	assert_int_equal(pcap_reader_next(r, &f), 1);
	assert_int_equal(f.offset, 24);
	assert_int_equal(pcap_reader_next(r, &f), 1);
	assert_int_equal(f.offset, 24 + 16 + 60);
	pcap_reader_close(r);
	free(b.p);
}

static void test_classic_header_only(void **state)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;

	(void)state;
	pcap_hdr(&b, 0, 1);
	r = open_ok(&b);
	expect_end(r);
	pcap_reader_close(r);
	free(b.p);
}

static void test_classic_linktype(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	pcap_hdr(&b, 0, 113);
	pcap_rec(&b, 1, 1, 60, 60, 1);
	expect_open_error(&b, -EPROTONOSUPPORT, "offset 20: link type 113 (LINUX_SLL");
	free(b.p);
	memset(&b, 0, sizeof(b));
	b.be = 1;
	pcap_hdr(&b, 1, 101);
	expect_open_error(&b, -EPROTONOSUPPORT, "link type 101 (RAW IP)");
	free(b.p);
}

static void test_classic_version(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	pcap_hdr(&b, 0, 1);
	b.p[4] = 3; /* version 3.4 */
	expect_open_error(&b, -EINVAL, "offset 4: pcap version 3.4");
	free(b.p);
}

static void test_classic_truncated(void **state)
{
	struct bbuf b = { 0 };
	size_t full;

	(void)state;
	classic_file(&b, 0, 0);
	full = b.len;

	/* inside the file header */
	b.len = 10;
	expect_open_error(&b, -EINVAL, "offset 0: truncated pcap file header (10 of 24 bytes)");
	/* inside the second record header: 24 + 16 + 60 = 100, plus 7 */
	b.len = 107;
	expect_next_error(&b, 1, -EINVAL,
			  "mem.pcap: offset 100: truncated record header of frame 2 (7 of 16");
	/* inside the data of the fourth frame: 100 + 16 + 14 + 16 = 146, data from 162 */
	b.len = 162 + 1000;
	expect_next_error(&b, 3, -EINVAL,
			  "offset 146: frame 4 is truncated: its record says 1500 bytes, the file "
			  "ends after 1000");
	b.len = full;
	free(b.p);
}

static void test_classic_corrupt_length(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	classic_file(&b, 1, 0);
	set32(&b, 100 + 8, 0x7fffffff); /* caplen of frame 2 */
	expect_next_error(&b, 1, -EINVAL,
			  "offset 100: record of frame 2 claims 2147483647 captured bytes");
	free(b.p);
}

/* Every prefix of a valid file: a clean end exactly at record boundaries, else an error. */
static void test_classic_every_cut(void **state)
{
	size_t bounds[] = { 24, 100, 130, 146, 1662 }, cut, i;
	struct bbuf b = { 0 };

	(void)state;
	classic_file(&b, 0, 1);
	assert_int_equal(b.len, 1662);
	for (cut = 0; cut <= b.len; cut++) {
		char err[PCAP_ERRBUF_LEN];
		struct pcap_reader *r = NULL;
		int ret = pcap_reader_open_mem("cut", b.p, cut, &r, err), frames, boundary = -1;

		for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
			if (cut == bounds[i])
				boundary = (int)i;
		if (cut < 24) {
			assert_int_equal(ret, -EINVAL);
			continue;
		}
		assert_int_equal(ret, 0);
		ret = drain(r, &frames);
		if (boundary >= 0) {
			assert_int_equal(ret, 0);
			assert_int_equal(frames, boundary);
		} else {
			assert_int_equal(ret, -EINVAL);
			assert_non_null(strstr(pcap_reader_error(r), "offset "));
		}
		pcap_reader_close(r);
	}
	free(b.p);
}

/* --- pcapng tests --- */

static void ng_file(struct bbuf *b, int be)
{
	b->be = be;
	shb(b);
	other_block(b, 4, 20); /* name resolution block, before any interface */
	idb(b, 1, 65535, 9); /* nanoseconds */
	idb(b, 1, 64, -1); /* microseconds, snaplen 64 */
	epb(b, 0, 1700000000123456789ull, 60, 60, 1);
	other_block(b, 5, 12); /* interface statistics */
	epb(b, 1, 1700000000123456ull, 61, 1514, 2); /* odd length: padded */
	other_block(b, 0x40000bad, 0); /* a custom block with an empty body */
	spb(b, 1500, 3); /* interface 0: snaplen 65535, all captured */
}

static void check_ng(int be)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;
	struct pcap_frame f;

	ng_file(&b, be);
	r = open_ok(&b);
	assert_int_equal(pcap_reader_format(r), PCAP_FMT_PCAPNG);
	expect_frame(r, 1, 60, 60, 1, 1700000000123456789ull);
	expect_frame(r, 2, 61, 1514, 2, 1700000000123456000ull);
	expect_frame(r, 3, 1500, 1500, 3, 0);
	expect_end(r);
	pcap_reader_close(r);

	/* offsets: SHB 28, NRB 32, IDB 32, IDB 20 -> first EPB at 112 */
	r = open_ok(&b);
	assert_int_equal(pcap_reader_next(r, &f), 1);
	assert_int_equal(f.offset, 112);
	pcap_reader_close(r);
	free(b.p);
}

static void test_ng_le(void **state)
{
	(void)state;
	check_ng(0);
}

static void test_ng_be(void **state)
{
	(void)state;
	check_ng(1);
}

/* Two sections of opposite byte order; interfaces restart with each section. */
static void test_ng_two_sections(void **state)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;

	(void)state;
	b.be = 0;
	shb(&b);
	idb(&b, 1, 0, -1);
	epb(&b, 0, 5, 40, 40, 7);
	b.be = 1;
	shb(&b);
	idb(&b, 1, 0, 0x80 | 10); /* units of 2^-10 s */
	epb(&b, 0, 1024 * 3 + 512, 41, 41, 8);
	spb(&b, 20, 9); /* snaplen 0: no limit */
	r = open_ok(&b);
	expect_frame(r, 1, 40, 40, 7, 5000);
	expect_frame(r, 2, 41, 41, 8, 3500000000ull);
	expect_frame(r, 3, 20, 20, 9, 0);
	expect_end(r);
	pcap_reader_close(r);
	free(b.p);
}

static void test_ng_spb_snaplen(void **state)
{
	struct bbuf b = { 0 };
	struct pcap_reader *r;

	(void)state;
	shb(&b);
	idb(&b, 1, 64, -1);
	/* a writer that stored 64 bytes of a 100-byte packet: the block holds 64 (+ padding) */
	{
		size_t at = begin_block(&b, 3);
		__u8 data[64];

		put32(&b, 100);
		frame_bytes(data, sizeof(data), 5);
		put(&b, data, sizeof(data));
		end_block(&b, at);
	}
	r = open_ok(&b);
	expect_frame(r, 1, 64, 100, 5, 0);
	expect_end(r);
	pcap_reader_close(r);
	free(b.p);
}

static void test_ng_linktype(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	shb(&b);
	idb(&b, 1, 0, -1);
	idb(&b, 276, 0, -1);
	epb(&b, 0, 0, 60, 60, 1);
	epb(&b, 1, 0, 60, 60, 2); /* at 28 + 20 + 20 + 92 = 160 */
	expect_next_error(&b, 1, -EPROTONOSUPPORT,
			  "offset 160: frame 2 is from interface 1, link type 276 (LINUX_SLL2");
	free(b.p);
}

static void test_ng_corrupt(void **state)
{
	struct bbuf b = { 0 };
	size_t first_epb = 112;

	(void)state;
	/* trailing length differs from the leading one */
	ng_file(&b, 0);
	b.p[first_epb + 92 - 4] ^= 0x04;
	expect_next_error(&b, 0, -EINVAL,
			  "offset 112: block of type 0x00000006: leading length 92");
	free(b.p);

	/* total length not a multiple of 4 */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 1);
	set32(&b, first_epb + 4, 93);
	expect_next_error(&b, 0, -EINVAL, "offset 112: block of type 0x00000006 has length 93");
	free(b.p);

	/* captured length larger than the block */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 0);
	set32(&b, first_epb + 8 + 12, 200);
	expect_next_error(&b, 0, -EINVAL, "offset 112: packet block of frame 1 claims 200");
	free(b.p);

	/* an interface that was never described */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 0);
	set32(&b, first_epb + 8, 7);
	expect_next_error(&b, 0, -EINVAL, "offset 112: packet of frame 1 names interface 7");
	free(b.p);

	/* a block claiming a gigabyte */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 0);
	set32(&b, first_epb + 4, 0x40000000);
	expect_next_error(&b, 0, -EINVAL, "offset 112: block of type 0x00000006 claims");
	free(b.p);

	/* a section header with a bad byte-order magic */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 0);
	b.p[8] = 0x11;
	expect_open_error(&b, -EINVAL, "offset 8: section header block with byte-order magic");
	free(b.p);

	/* pcapng version 2 */
	memset(&b, 0, sizeof(b));
	ng_file(&b, 1);
	b.p[13] = 2;
	expect_open_error(&b, -EINVAL, "pcapng version 2.0");
	free(b.p);
}

static void test_ng_truncated(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	ng_file(&b, 0);
	/* inside the SHB */
	b.len = 20;
	expect_open_error(&b, -EINVAL, "offset 0: truncated block of type 0x0a0d0d0a");
	/* inside the first EPB's data: it starts at 112 and has 92 bytes */
	b.len = 112 + 50;
	expect_next_error(&b, 0, -EINVAL,
			  "offset 112: truncated block of type 0x00000006: it claims 92 bytes, the "
			  "file ends after 50");
	/* inside the header of the block after it */
	b.len = 112 + 92 + 5;
	expect_next_error(&b, 1, -EINVAL, "offset 204: truncated block header (5 of 8 bytes)");
	free(b.p);
}

/* Every prefix of a valid pcapng file: a clean end at block boundaries, else an error. */
static void test_ng_every_cut(void **state)
{
	/* block ends: SHB 28, NRB 60, IDB 92, IDB 112, EPB 204, ISB 228, EPB 324, custom 336, SPB */
	size_t bounds[] = { 28, 60, 92, 112, 204, 228, 324, 336 },
	       frames_at[] = { 0, 0, 0, 0, 1, 1, 2, 2 };
	struct bbuf b = { 0 };
	size_t cut, i;

	(void)state;
	ng_file(&b, 1);
	for (cut = 0; cut <= b.len; cut++) {
		char err[PCAP_ERRBUF_LEN];
		struct pcap_reader *r = NULL;
		int ret = pcap_reader_open_mem("cut", b.p, cut, &r, err), frames, want = -1;

		for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
			if (cut == bounds[i])
				want = (int)frames_at[i];
		if (cut == b.len)
			want = 3;
		if (cut < 28) {
			assert_int_equal(ret, -EINVAL);
			continue;
		}
		assert_int_equal(ret, 0);
		ret = drain(r, &frames);
		if (want >= 0) {
			assert_int_equal(ret, 0);
			assert_int_equal(frames, want);
		} else {
			assert_int_equal(ret, -EINVAL);
			assert_non_null(strstr(pcap_reader_error(r), "offset "));
		}
		pcap_reader_close(r);
	}
	free(b.p);
}

/* --- not a capture, and files on disk --- */

static void test_not_a_capture(void **state)
{
	struct bbuf b = { 0 };

	(void)state;
	put(&b, "hello world, not a capture\n", 27);
	expect_open_error(&b, -EINVAL, "offset 0: magic 0x6c6c6568: not a pcap or pcapng file");
	b.len = 0;
	expect_open_error(&b, -EINVAL, "the file is empty");
	b.len = 3;
	expect_open_error(&b, -EINVAL, "3 bytes: too short");
	free(b.p);
}

static void test_files(void **state)
{
	char path[] = "/tmp/test_pcap.XXXXXX", err[PCAP_ERRBUF_LEN];
	struct bbuf b = { 0 };
	struct pcap_reader *r = NULL;
	int fd, frames;
	FILE *f;

	(void)state;
	assert_int_equal(pcap_reader_open("/nonexistent/x.pcap", &r, err), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "/nonexistent/x.pcap: cannot open"));

	ng_file(&b, 1);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
	fclose(f);
	assert_int_equal(pcap_reader_open(path, &r, err), 0);
	assert_int_equal(drain(r, &frames), 0);
	assert_int_equal(frames, 3);
	pcap_reader_close(r);

	/* the same file cut inside a block, from disk */
	assert_int_equal(truncate(path, 150), 0);
	assert_int_equal(pcap_reader_open(path, &r, err), 0);
	assert_int_equal(drain(r, &frames), -EINVAL);
	assert_int_equal(frames, 0);
	assert_non_null(strstr(pcap_reader_error(r), "offset 112: truncated block"));
	assert_non_null(strstr(pcap_reader_error(r), path));
	pcap_reader_close(r);

	unlink(path);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic_le_usec),
		cmocka_unit_test(test_classic_be_usec),
		cmocka_unit_test(test_classic_le_nsec),
		cmocka_unit_test(test_classic_be_nsec),
		cmocka_unit_test(test_classic_offsets),
		cmocka_unit_test(test_classic_header_only),
		cmocka_unit_test(test_classic_linktype),
		cmocka_unit_test(test_classic_version),
		cmocka_unit_test(test_classic_truncated),
		cmocka_unit_test(test_classic_corrupt_length),
		cmocka_unit_test(test_classic_every_cut),
		cmocka_unit_test(test_ng_le),
		cmocka_unit_test(test_ng_be),
		cmocka_unit_test(test_ng_two_sections),
		cmocka_unit_test(test_ng_spb_snaplen),
		cmocka_unit_test(test_ng_linktype),
		cmocka_unit_test(test_ng_corrupt),
		cmocka_unit_test(test_ng_truncated),
		cmocka_unit_test(test_ng_every_cut),
		cmocka_unit_test(test_not_a_capture),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
