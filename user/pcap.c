// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture file reader (see pcap.h): classic pcap and pcapng, read sequentially from a FILE
 * (a pipe works) or a memory buffer. Every length read from the file is checked before it is
 * used: a record or block that claims more than the file holds, or more than a frame can be,
 * is an error naming its byte offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "user/pcap.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR_LEN 24
#define PCAP_REC_LEN 16

#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_OPT_TSRESOL 9
/* The largest block kept in memory: a frame plus generous room for options. */
#define PCAPNG_MAX_KEPT (PCAP_MAX_FRAME + (64u << 10))
/* A skipped block larger than this is taken for corruption. */
#define PCAPNG_MAX_SKIPPED (256u << 20)
#define PCAPNG_MAX_IFACES 4096

struct pcap_iface {
	__u16 linktype;
	__u32 snaplen;
	bool ts_pow2; /* if_tsresol: units of 2^-ts_exp s, else 10^-ts_exp s */
	__u8 ts_exp;
};

struct pcap_reader {
	char name[256];
	FILE *fp; /* NULL: reading mem */
	bool own_fp;
	const __u8 *mem;
	size_t mem_len, mem_pos;
	__u64 pos; /* bytes consumed */
	__u8 pend[4]; /* bytes put back (the magic of a pcapng file), read again first */
	size_t n_pend;
	enum pcap_format format;
	bool swap; /* the file's byte order is not ours */
	bool nsec; /* classic pcap: nanosecond timestamps */
	int failed; /* the error every later call returns, 0 while healthy */
	__u64 frames;
	__u8 *buf; /* the current frame or block */
	size_t buf_cap;
	struct pcap_iface *ifaces; /* pcapng: interfaces of the current section */
	__u32 n_ifaces, cap_ifaces;
	char err[PCAP_ERRBUF_LEN];
};

static void set_err(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, PCAP_ERRBUF_LEN, fmt, ap);
	va_end(ap);
}

/* Fail the reader: the message is "NAME: offset OFF: ..." and later calls return err again. */
static int fail(struct pcap_reader *r, int err, __u64 off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct pcap_reader *r, int err, __u64 off, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s: offset %llu: %s", r->name, (unsigned long long)off,
		 msg);
	r->failed = err;
	return err;
}

/* Read up to n bytes; returns the count (short only at end of file) or -EIO. */
static ssize_t src_read(struct pcap_reader *r, void *dst, size_t n)
{
	size_t got = n < r->n_pend ? n : r->n_pend, more;

	memcpy(dst, r->pend, got);
	memmove(r->pend, r->pend + got, r->n_pend - got);
	r->n_pend -= got;
	n -= got;
	if (!r->fp) {
		more = r->mem_len - r->mem_pos < n ? r->mem_len - r->mem_pos : n;
		memcpy((__u8 *)dst + got, r->mem + r->mem_pos, more);
		r->mem_pos += more;
	} else {
		more = n ? fread((__u8 *)dst + got, 1, n, r->fp) : 0;
		if (more < n && ferror(r->fp))
			return -EIO;
	}
	got += more;
	r->pos += got;
	return (ssize_t)got;
}

static __u32 rd32(const struct pcap_reader *r, const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static __u16 rd16(const struct pcap_reader *r, const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int grow_buf(struct pcap_reader *r, size_t need)
{
	__u8 *n;

	if (need <= r->buf_cap)
		return 0;
	n = realloc(r->buf, need);
	if (!n)
		return -ENOMEM;
	r->buf = n;
	r->buf_cap = need;
	return 0;
}

/* Link types people meet instead of Ethernet, for the message. */
static const char *linktype_name(__u32 lt)
{
	switch (lt) {
	case 0:
		return "NULL, BSD loopback";
	case 101:
		return "RAW IP";
	case 105:
		return "IEEE 802.11";
	case 113:
		return "LINUX_SLL, a capture on 'any'";
	case 127:
		return "802.11 radiotap";
	case 228:
		return "raw IPv4";
	case 229:
		return "raw IPv6";
	case 276:
		return "LINUX_SLL2, a capture on 'any'";
	default:
		return "not Ethernet";
	}
}

#define LINKTYPE_HELP                                                                   \
	"replay needs Ethernet frames (link type 1): capture on an Ethernet interface " \
	"(tcpdump -i eth0 -w FILE)"

static __u64 ts_to_ns(const struct pcap_iface *ifc, __u64 ts)
{
	unsigned __int128 v = ts;
	__u8 e = ifc->ts_exp;

	if (ifc->ts_pow2)
		return (__u64)((v * 1000000000u) >> (e > 127 ? 127 : e));
	for (; e < 9; e++)
		v *= 10;
	for (; e > 9; e--)
		v /= 10;
	return (__u64)v;
}

/* --- classic pcap --- */

static int pcap_open_classic(struct pcap_reader *r, const __u8 *hdr, char *errbuf)
{
	__u16 major = rd16(r, hdr + 4), minor = rd16(r, hdr + 6);
	__u32 linktype = rd32(r, hdr + 20) & 0xffff; /* the upper bits carry FCS information */

	if (major != 2) {
		set_err(errbuf, "%s: offset 4: pcap version %u.%u: only version 2.x is known",
			r->name, major, minor);
		return -EINVAL;
	}
	if (linktype != PCAP_LINKTYPE_ETHERNET) {
		set_err(errbuf, "%s: offset 20: link type %u (%s): " LINKTYPE_HELP, r->name,
			linktype, linktype_name(linktype));
		return -EPROTONOSUPPORT;
	}
	r->format = PCAP_FMT_PCAP;
	return 0;
}

static int pcap_next_classic(struct pcap_reader *r, struct pcap_frame *f)
{
	__u64 off = r->pos;
	__u8 rec[PCAP_REC_LEN];
	__u32 sec, frac, caplen, len;
	ssize_t n;
	int err;

	n = src_read(r, rec, sizeof(rec));
	if (n < 0)
		return fail(r, -EIO, off, "read error: %s", strerror(errno));
	if (n == 0)
		return 0;
	if (n < PCAP_REC_LEN)
		return fail(r, -EINVAL, off,
			    "truncated record header of frame %llu (%zd of %d bytes): the file "
			    "was cut short",
			    (unsigned long long)r->frames + 1, n, PCAP_REC_LEN);
	sec = rd32(r, rec);
	frac = rd32(r, rec + 4);
	caplen = rd32(r, rec + 8);
	len = rd32(r, rec + 12);
	if (caplen > PCAP_MAX_FRAME)
		return fail(r, -EINVAL, off,
			    "record of frame %llu claims %u captured bytes, more than %u: the file "
			    "is corrupt",
			    (unsigned long long)r->frames + 1, caplen, PCAP_MAX_FRAME);
	err = grow_buf(r, caplen ? caplen : 1);
	if (err)
		return fail(r, err, off, "out of memory");
	n = src_read(r, r->buf, caplen);
	if (n < 0)
		return fail(r, -EIO, off, "read error: %s", strerror(errno));
	if ((size_t)n < caplen)
		return fail(r, -EINVAL, off,
			    "frame %llu is truncated: its record says %u bytes, the file "
			    "ends after %zd",
			    (unsigned long long)r->frames + 1, caplen, n);
	f->data = r->buf;
	f->caplen = caplen;
	f->len = len;
	f->ts_ns = (__u64)sec * 1000000000u + (__u64)frac * (r->nsec ? 1 : 1000);
	f->index = ++r->frames;
	f->offset = off;
	return 1;
}

/* --- pcapng --- */

/* Options of an IDB: only if_tsresol matters. Malformed options are ignored, not fatal. */
static void idb_options(const struct pcap_reader *r, const __u8 *p, size_t len,
			struct pcap_iface *ifc)
{
	while (len >= 4) {
		__u16 code = rd16(r, p), olen = rd16(r, p + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;

		if (code == 0 || padded > len - 4)
			return;
		if (code == PCAPNG_OPT_TSRESOL && olen >= 1) {
			ifc->ts_pow2 = p[4] & 0x80;
			ifc->ts_exp = p[4] & 0x7f;
		}
		p += 4 + padded;
		len -= 4 + padded;
	}
}

static int add_iface(struct pcap_reader *r, __u64 off, const __u8 *body, size_t blen)
{
	struct pcap_iface *ifc;

	if (blen < 8)
		return fail(r, -EINVAL, off,
			    "interface description block of %zu bytes, less than its 8 fixed bytes",
			    blen);
	if (r->n_ifaces >= PCAPNG_MAX_IFACES)
		return fail(r, -EINVAL, off, "more than %d interfaces in one section",
			    PCAPNG_MAX_IFACES);
	if (r->n_ifaces == r->cap_ifaces) {
		__u32 ncap = r->cap_ifaces ? r->cap_ifaces * 2 : 4;

		ifc = realloc(r->ifaces, ncap * sizeof(*ifc));
		if (!ifc)
			return fail(r, -ENOMEM, off, "out of memory");
		r->ifaces = ifc;
		r->cap_ifaces = ncap;
	}
	ifc = &r->ifaces[r->n_ifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = rd16(r, body);
	ifc->snaplen = rd32(r, body + 4);
	ifc->ts_exp = 6; /* microseconds unless if_tsresol says otherwise */
	idb_options(r, body + 8, blen - 8, ifc);
	return 0;
}

/* The interface of a packet block, or NULL after fail() (unknown, or not Ethernet). */
static const struct pcap_iface *frame_iface(struct pcap_reader *r, __u64 off, __u32 id)
{
	const struct pcap_iface *ifc;

	if (id >= r->n_ifaces) {
		fail(r, -EINVAL, off,
		     "packet of frame %llu names interface %u, but the section describes %u: the "
		     "file is corrupt",
		     (unsigned long long)r->frames + 1, id, r->n_ifaces);
		return NULL;
	}
	ifc = &r->ifaces[id];
	if (ifc->linktype != PCAP_LINKTYPE_ETHERNET) {
		fail(r, -EPROTONOSUPPORT, off,
		     "frame %llu is from interface %u, link type %u (%s): " LINKTYPE_HELP,
		     (unsigned long long)r->frames + 1, id, ifc->linktype,
		     linktype_name(ifc->linktype));
		return NULL;
	}
	return ifc;
}

/*
 * Read the block at r->pos: header, body and trailing length. *type and *blen (body bytes) are
 * set; the body is in r->buf unless the block is skipped (not a kind we read). Returns 1, 0 at
 * a clean end of file, or -errno after fail().
 */
static int read_block(struct pcap_reader *r, __u32 *type, size_t *blen)
{
	__u64 off = r->pos;
	__u8 hdr[12], trail[4];
	size_t head = 8, body;
	__u32 total;
	bool keep;
	ssize_t n;
	int err;

	n = src_read(r, hdr, 8);
	if (n < 0)
		return fail(r, -EIO, off, "read error: %s", strerror(errno));
	if (n == 0)
		return 0;
	if (n < 8)
		return fail(r, -EINVAL, off,
			    "truncated block header (%zd of 8 bytes): the file was cut short", n);
	memcpy(type, hdr, 4); /* SHB's type reads the same in both byte orders */
	if (*type == PCAPNG_SHB) {
		__u32 bom;

		n = src_read(r, hdr + 8, 4);
		if (n < 0)
			return fail(r, -EIO, off, "read error: %s", strerror(errno));
		if (n < 4)
			return fail(r, -EINVAL, off,
				    "truncated section header block: the file was cut short");
		memcpy(&bom, hdr + 8, 4);
		if (bom == PCAPNG_BOM)
			r->swap = false;
		else if (bom == __builtin_bswap32(PCAPNG_BOM))
			r->swap = true;
		else
			return fail(r, -EINVAL, off + 8,
				    "section header block with byte-order magic 0x%08x (expected "
				    "0x1a2b3c4d in either byte order): the file is corrupt",
				    bom);
		head = 12;
	} else {
		*type = rd32(r, hdr);
	}
	total = rd32(r, hdr + 4);
	if (total % 4 || total < head + 4 || (*type == PCAPNG_SHB && total < 28))
		return fail(r, -EINVAL, off,
			    "block of type 0x%08x has length %u (a multiple of 4, at least %zu, "
			    "expected): the file is corrupt",
			    *type, total, *type == PCAPNG_SHB ? (size_t)28 : head + 4);
	keep = *type == PCAPNG_SHB || *type == PCAPNG_IDB || *type == PCAPNG_EPB ||
	       *type == PCAPNG_SPB || *type == PCAPNG_PB;
	if (total > (keep ? PCAPNG_MAX_KEPT : PCAPNG_MAX_SKIPPED))
		return fail(r, -EINVAL, off,
			    "block of type 0x%08x claims %u bytes, more than a block can be: the "
			    "file is corrupt",
			    *type, total);
	body = total - head - 4;
	if (keep) {
		err = grow_buf(r, body + head + 1);
		if (err)
			return fail(r, err, off, "out of memory");
		memcpy(r->buf, hdr + 8, head - 8); /* an SHB's byte-order magic heads its body */
		n = src_read(r, r->buf + (head - 8), body);
		if (n < 0)
			return fail(r, -EIO, off, "read error: %s", strerror(errno));
		if ((size_t)n < body)
			goto truncated;
		body += head - 8;
	} else {
		__u8 chunk[4096];
		size_t left = body;

		while (left) {
			size_t want = left < sizeof(chunk) ? left : sizeof(chunk);

			n = src_read(r, chunk, want);
			if (n < 0)
				return fail(r, -EIO, off, "read error: %s", strerror(errno));
			if ((size_t)n < want)
				goto truncated;
			left -= want;
		}
	}
	n = src_read(r, trail, 4);
	if (n < 0)
		return fail(r, -EIO, off, "read error: %s", strerror(errno));
	if (n < 4)
		goto truncated;
	if (rd32(r, trail) != total)
		return fail(r, -EINVAL, off,
			    "block of type 0x%08x: leading length %u, trailing length %u: the file "
			    "is corrupt",
			    *type, total, rd32(r, trail));
	*blen = body;
	return 1;
truncated:
	return fail(r, -EINVAL, off,
		    "truncated block of type 0x%08x: it claims %u bytes, the file ends after %llu",
		    *type, total, (unsigned long long)(r->pos - off));
}

static int shb(struct pcap_reader *r, __u64 off, size_t blen)
{
	__u16 major;

	if (blen < 16)
		return fail(r, -EINVAL, off, "section header block too short: corrupt");
	major = rd16(r, r->buf + 4);
	if (major != 1)
		return fail(r, -EINVAL, off, "pcapng version %u.%u: only version 1.x is known",
			    major, rd16(r, r->buf + 6));
	r->n_ifaces = 0; /* interfaces are per section */
	return 0;
}

static int pcapng_next(struct pcap_reader *r, struct pcap_frame *f)
{
	for (;;) {
		const struct pcap_iface *ifc;
		__u64 off = r->pos;
		__u32 type, caplen, len;
		size_t blen = 0;
		__u64 ts;
		int ret;

		ret = read_block(r, &type, &blen);
		if (ret <= 0)
			return ret;
		switch (type) {
		case PCAPNG_SHB:
			ret = shb(r, off, blen);
			if (ret)
				return ret;
			continue;
		case PCAPNG_IDB:
			ret = add_iface(r, off, r->buf, blen);
			if (ret)
				return ret;
			continue;
		case PCAPNG_EPB:
		case PCAPNG_PB:
			if (blen < 20)
				return fail(r, -EINVAL, off,
					    "packet block of %zu bytes, less than its 20 fixed "
					    "bytes: the file is corrupt",
					    blen);
			ifc = frame_iface(r, off,
					  type == PCAPNG_EPB ? rd32(r, r->buf) : rd16(r, r->buf));
			if (!ifc)
				return r->failed;
			ts = (__u64)rd32(r, r->buf + 4) << 32 | rd32(r, r->buf + 8);
			caplen = rd32(r, r->buf + 12);
			len = rd32(r, r->buf + 16);
			if (caplen > blen - 20)
				return fail(r, -EINVAL, off,
					    "packet block of frame %llu claims %u captured bytes, "
					    "the block holds %zu: the file is corrupt",
					    (unsigned long long)r->frames + 1, caplen, blen - 20);
			f->data = r->buf + 20;
			f->ts_ns = ts_to_ns(ifc, ts);
			break;
		case PCAPNG_SPB:
			if (blen < 4)
				return fail(r, -EINVAL, off,
					    "simple packet block of %zu bytes: the file is corrupt",
					    blen);
			ifc = frame_iface(r, off, 0);
			if (!ifc)
				return r->failed;
			len = rd32(r, r->buf);
			caplen = len;
			if (ifc->snaplen && caplen > ifc->snaplen)
				caplen = ifc->snaplen;
			if (caplen > blen - 4)
				caplen = (__u32)(blen - 4);
			f->data = r->buf + 4;
			f->ts_ns = 0; /* a simple packet block has no timestamp */
			break;
		default:
			continue; /* name resolution, statistics, custom blocks... */
		}
		if (caplen > PCAP_MAX_FRAME)
			return fail(r, -EINVAL, off, "frame %llu of %u bytes is larger than %u",
				    (unsigned long long)r->frames + 1, caplen, PCAP_MAX_FRAME);
		f->caplen = caplen;
		f->len = len;
		f->index = ++r->frames;
		f->offset = off;
		return 1;
	}
}

/* --- opening --- */

static int open_common(struct pcap_reader *r, char *errbuf)
{
	__u8 hdr[PCAP_HDR_LEN];
	__u32 magic;
	ssize_t n;
	int err;

	n = src_read(r, hdr, 4);
	if (n < 0) {
		set_err(errbuf, "%s: read error: %s", r->name, strerror(errno));
		return -EIO;
	}
	if (n == 0) {
		set_err(errbuf, "%s: the file is empty: not a pcap or pcapng capture", r->name);
		return -EINVAL;
	}
	if (n < 4) {
		set_err(errbuf, "%s: offset 0: %zd bytes: too short to be a pcap or pcapng file",
			r->name, n);
		return -EINVAL;
	}
	memcpy(&magic, hdr, 4);
	if (magic == PCAPNG_SHB) {
		__u32 type;
		size_t blen = 0;

		/* Put the magic back: the block reader takes the SHB from its start (a pipe
		 * cannot seek). */
		r->format = PCAP_FMT_PCAPNG;
		memcpy(r->pend, hdr, 4);
		r->n_pend = 4;
		r->pos = 0;
		err = read_block(r, &type, &blen);
		if (err == 0) /* cannot happen: 4 bytes are pending */
			err = fail(r, -EINVAL, 0, "empty section header block");
		else if (err == 1)
			err = shb(r, 0, blen);
		if (err < 0) {
			set_err(errbuf, "%s", r->err);
			return err;
		}
		return 0;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		r->swap = false;
	} else if (magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		r->swap = true;
	} else {
		set_err(errbuf,
			"%s: offset 0: magic 0x%08x: not a pcap or pcapng file (tcpdump -w and "
			"tshark -w write both)",
			r->name, magic);
		return -EINVAL;
	}
	r->nsec = rd32(r, hdr) == PCAP_MAGIC_NS;
	n = src_read(r, hdr + 4, PCAP_HDR_LEN - 4);
	if (n < 0) {
		set_err(errbuf, "%s: read error: %s", r->name, strerror(errno));
		return -EIO;
	}
	if (n < PCAP_HDR_LEN - 4) {
		set_err(errbuf,
			"%s: offset 0: truncated pcap file header (%zd of %d bytes): the file was "
			"cut short",
			r->name, n + 4, PCAP_HDR_LEN);
		return -EINVAL;
	}
	return pcap_open_classic(r, hdr, errbuf);
}

static struct pcap_reader *reader_new(const char *name)
{
	struct pcap_reader *r = calloc(1, sizeof(*r));

	if (r)
		snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

int pcap_reader_open(const char *path, struct pcap_reader **out, char *errbuf)
{
	struct pcap_reader *r;
	int err;

	*out = NULL;
	r = reader_new(strcmp(path, "-") ? path : "<stdin>");
	if (!r) {
		set_err(errbuf, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		r->fp = stdin;
	} else {
		r->fp = fopen(path, "rb");
		if (!r->fp) {
			err = -errno;
			set_err(errbuf, "%s: cannot open: %s", path, strerror(-err));
			goto cleanup;
		}
		r->own_fp = true;
	}
	err = open_common(r, errbuf);
	if (err)
		goto cleanup;
	*out = r;
	r = NULL;
cleanup:
	pcap_reader_close(r);
	return err;
}

int pcap_reader_open_mem(const char *name, const void *buf, size_t len, struct pcap_reader **out,
			 char *errbuf)
{
	struct pcap_reader *r;
	int err;

	*out = NULL;
	r = reader_new(name);
	if (!r) {
		set_err(errbuf, "%s: out of memory", name);
		return -ENOMEM;
	}
	r->mem = buf;
	r->mem_len = len;
	err = open_common(r, errbuf);
	if (err) {
		pcap_reader_close(r);
		return err;
	}
	*out = r;
	return 0;
}

int pcap_reader_next(struct pcap_reader *r, struct pcap_frame *f)
{
	if (r->failed)
		return r->failed;
	memset(f, 0, sizeof(*f));
	if (r->format == PCAP_FMT_PCAPNG)
		return pcapng_next(r, f);
	return pcap_next_classic(r, f);
}

const char *pcap_reader_error(const struct pcap_reader *r)
{
	return r->err;
}

enum pcap_format pcap_reader_format(const struct pcap_reader *r)
{
	return r->format;
}

void pcap_reader_close(struct pcap_reader *r)
{
	if (!r)
		return;
	if (r->own_fp)
		fclose(r->fp);
	free(r->buf);
	free(r->ifaces);
	free(r);
}
