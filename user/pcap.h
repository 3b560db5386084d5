/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A reader for capture files: classic pcap (either byte order, microsecond or nanosecond
 * timestamps) and pcapng (SHB, IDB, EPB, SPB and the obsolete PB; other blocks are skipped;
 * either byte order, several sections). Ethernet (link type 1) only: any other link type is an
 * error. No libpcap. Used by `replay` (user/replay.c) and its tests.
 *
 * Errors are returned as -errno with a message in the caller's or the reader's error buffer,
 * "FILE: offset N: what is wrong" (N is the byte offset of the header or block at fault), so a
 * truncated or corrupt file says where.
 */
#ifndef BPFGUARD_PCAP_H
#define BPFGUARD_PCAP_H

#include <stddef.h>
#include <linux/types.h>

#define PCAP_ERRBUF_LEN 1024
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_MAX_FRAME (256u << 10) /* libpcap's largest snapshot length */

struct pcap_reader;

/* One frame; data is valid until the next pcap_reader_next() or pcap_reader_close(). */
struct pcap_frame {
	const __u8 *data;
	__u32 caplen; /* bytes captured (the length of data) */
	__u32 len; /* bytes on the wire */
	__u64 ts_ns; /* capture time, nanoseconds since the epoch */
	__u64 index; /* frame number, from 1 */
	__u64 offset; /* byte offset of its record header (pcap) or block (pcapng) */
};

enum pcap_format {
	PCAP_FMT_PCAP = 1, /* classic pcap */
	PCAP_FMT_PCAPNG = 2,
};

/*
 * Open path ("-": standard input) and read its file header. Returns 0 and *out, or -errno with
 * the reason in errbuf (PCAP_ERRBUF_LEN bytes): -ENOENT and friends for the file, -EINVAL for
 * a file that is not a capture or is cut inside its header, -EPROTONOSUPPORT for a link type
 * other than Ethernet.
 */
int pcap_reader_open(const char *path, struct pcap_reader **out, char *errbuf);
/* The same over a buffer (tests, fuzzing); name is used in messages; buf must outlive r. */
int pcap_reader_open_mem(const char *name, const void *buf, size_t len, struct pcap_reader **out,
			 char *errbuf);

/*
 * The next frame: returns 1 and *f, 0 at a clean end of file, or -errno with the reason in
 * pcap_reader_error(): -EINVAL for a truncated or corrupt record or block (after which the
 * reader stays failed), -EPROTONOSUPPORT for a packet of a non-Ethernet interface, -EIO.
 */
int pcap_reader_next(struct pcap_reader *r, struct pcap_frame *f);

/* The message of the last failure of r ("" if none). */
const char *pcap_reader_error(const struct pcap_reader *r);
enum pcap_format pcap_reader_format(const struct pcap_reader *r);
void pcap_reader_close(struct pcap_reader *r);

#endif
