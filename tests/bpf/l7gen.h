/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Application payload builders for the tests: DNS queries (any name, type, EDNS), TLS
 * ClientHellos (extension order, SNI position, post-quantum key share sizes, ECH, GREASE),
 * and a DNS response reader that checks a forged answer field by field. Host only; included by
 * tests/unit/test_{dns,tls,http}.c and tests/bpf/test_names.c. Written from the RFCs, not from
 * the parsers under test (bpf/lib/dns.h, tls.h): the reader here shares no code with them.
 */
#ifndef BPFGUARD_TESTS_L7GEN_H
#define BPFGUARD_TESTS_L7GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

/* --- DNS queries --- */

struct dnsq_spec {
	__u16 id;
	__u16 flags; /* 0x0100 (RD) when 0 and raw_flags is not set */
	bool raw_flags; /* use flags as given, even 0 */
	const char *name; /* dotted text; labels are copied as given (mixed case stays) */
	const __u8 *wire; /* or: the QNAME in wire form, wire_len bytes (malformed names) */
	size_t wire_len;
	__u16 qtype, qclass; /* qclass 0: IN */
	__u16 qdcount; /* 0: 1 */
	bool edns; /* add an OPT record (UDP size 1232, a COOKIE option) */
	bool edns_do; /* the DO bit in the OPT record */
};

/* Text name to wire form; returns the wire length, 0 if a label is empty or over 63 bytes. */
static inline size_t l7_name_to_wire(const char *name, __u8 *out, size_t cap)
{
	size_t n = 0;
	const char *p = name;

	if (!*p || !strcmp(p, ".")) {
		if (cap < 1)
			return 0;
		out[0] = 0;
		return 1;
	}
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || n + 1 + l + 1 > cap)
			return 0;
		out[n++] = (__u8)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

/* A DNS query message into out; returns its length, 0 if it does not fit or the name is bad. */
static inline size_t l7_dns_query(__u8 *out, size_t cap, const struct dnsq_spec *s)
{
	__u16 flags = s->raw_flags ? s->flags : (s->flags ? s->flags : 0x0100);
	size_t n = 12, w;

	if (cap < 12 + 4 + 23)
		return 0;
	memset(out, 0, 12);
	out[0] = (__u8)(s->id >> 8);
	out[1] = (__u8)s->id;
	out[2] = (__u8)(flags >> 8);
	out[3] = (__u8)flags;
	out[5] = (__u8)(s->qdcount ? s->qdcount : 1);
	out[4] = (__u8)((s->qdcount ? s->qdcount : 1) >> 8);
	out[11] = s->edns ? 1 : 0;
	if (s->wire) {
		if (n + s->wire_len > cap)
			return 0;
		memcpy(out + n, s->wire, s->wire_len);
		w = s->wire_len;
	} else {
		w = l7_name_to_wire(s->name, out + n, cap - n);
		if (!w)
			return 0;
	}
	n += w;
	if (n + 4 + 23 > cap)
		return 0;
	out[n++] = (__u8)(s->qtype >> 8);
	out[n++] = (__u8)s->qtype;
	out[n++] = (__u8)((s->qclass ? s->qclass : 1) >> 8);
	out[n++] = (__u8)(s->qclass ? s->qclass : 1);
	if (s->edns) {
		static const __u8 cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		out[n++] = 0; /* root */
		out[n++] = 0;
		out[n++] = 41; /* OPT */
		out[n++] = 0x04; /* UDP payload size 1232 */
		out[n++] = 0xd0;
		out[n++] = 0; /* extended rcode */
		out[n++] = 0; /* version */
		out[n++] = s->edns_do ? 0x80 : 0;
		out[n++] = 0;
		out[n++] = 0; /* rdlen 12 */
		out[n++] = 12;
		out[n++] = 0; /* option COOKIE (10), 8 bytes: a client cookie */
		out[n++] = 10;
		out[n++] = 0;
		out[n++] = 8;
		memcpy(out + n, cookie, 8);
		n += 8;
	}
	return n;
}

/* --- DNS responses: a reader for the forged answers --- */

struct dnsr_rr {
	__u16 name_ptr; /* 0xc00c-style pointer as read, or 0 for the root name */
	__u16 type, cls;
	__u32 ttl;
	__u16 rdlen;
	__u8 rdata[64];
};

struct dnsr {
	__u16 id, flags, qd, an, ns, ar;
	__u8 qname[256]; /* wire form, as in the message */
	size_t qname_len;
	__u16 qtype, qclass;
	struct dnsr_rr rr[4]; /* answer, authority, additional in order */
	int n_rr;
	/* the OPT record, when there is one */
	bool has_opt;
	__u16 opt_udp;
	__u32 opt_ttl;
	__u16 ede_code; /* the EDE option's INFO-CODE, 0xffff if none */
	size_t len; /* bytes the message really used */
};

/* Read a response the guard forged; returns NULL, or a description of the first problem. */
static inline const char *l7_dns_read(const __u8 *m, size_t len, struct dnsr *r)
{
	size_t n = 12;
	int i, total;

	memset(r, 0, sizeof(*r));
	r->ede_code = 0xffff;
	if (len < 12)
		return "shorter than a DNS header";
	r->id = (__u16)(m[0] << 8 | m[1]);
	r->flags = (__u16)(m[2] << 8 | m[3]);
	r->qd = (__u16)(m[4] << 8 | m[5]);
	r->an = (__u16)(m[6] << 8 | m[7]);
	r->ns = (__u16)(m[8] << 8 | m[9]);
	r->ar = (__u16)(m[10] << 8 | m[11]);
	if (r->qd != 1)
		return "QDCOUNT is not 1";
	/* the question: an uncompressed name */
	while (1) {
		if (n >= len)
			return "the question name runs past the message";
		if (m[n] == 0)
			break;
		if (m[n] & 0xc0)
			return "the question name is compressed";
		n += (size_t)m[n] + 1;
	}
	n++;
	r->qname_len = n - 12;
	if (r->qname_len > sizeof(r->qname))
		return "the question name is too long";
	memcpy(r->qname, m + 12, r->qname_len);
	if (n + 4 > len)
		return "the question's type and class are cut";
	r->qtype = (__u16)(m[n] << 8 | m[n + 1]);
	r->qclass = (__u16)(m[n + 2] << 8 | m[n + 3]);
	n += 4;
	total = r->an + r->ns + r->ar;
	if (total > 4)
		return "more records than the guard writes";
	for (i = 0; i < total; i++) {
		struct dnsr_rr *rr = &r->rr[i];

		if (n + 1 > len)
			return "a record's name is cut";
		if (m[n] == 0) {
			rr->name_ptr = 0;
			n += 1;
		} else if ((m[n] & 0xc0) == 0xc0) {
			if (n + 2 > len)
				return "a record's name pointer is cut";
			rr->name_ptr = (__u16)(m[n] << 8 | m[n + 1]);
			n += 2;
		} else {
			return "a record's owner is neither the root nor a pointer";
		}
		if (n + 10 > len)
			return "a record's fixed part is cut";
		rr->type = (__u16)(m[n] << 8 | m[n + 1]);
		rr->cls = (__u16)(m[n + 2] << 8 | m[n + 3]);
		rr->ttl = (__u32)m[n + 4] << 24 | (__u32)m[n + 5] << 16 | (__u32)m[n + 6] << 8 |
			  m[n + 7];
		rr->rdlen = (__u16)(m[n + 8] << 8 | m[n + 9]);
		n += 10;
		if (n + rr->rdlen > len)
			return "a record's data runs past the message";
		if (rr->rdlen > sizeof(rr->rdata))
			return "a record's data is longer than the guard writes";
		memcpy(rr->rdata, m + n, rr->rdlen);
		n += rr->rdlen;
		if (rr->type == 41) {
			size_t o = 0;

			if (i < r->an + r->ns)
				return "an OPT record outside the additional section";
			if (rr->name_ptr)
				return "the OPT record's owner is not the root";
			r->has_opt = true;
			r->opt_udp = rr->cls;
			r->opt_ttl = rr->ttl;
			while (o + 4 <= rr->rdlen) {
				__u16 code = (__u16)(rr->rdata[o] << 8 | rr->rdata[o + 1]);
				__u16 olen = (__u16)(rr->rdata[o + 2] << 8 | rr->rdata[o + 3]);

				if (o + 4 + olen > rr->rdlen)
					return "an EDNS option runs past its record";
				if (code == 15) {
					if (olen < 2)
						return "the EDE option is shorter than its code";
					r->ede_code =
						(__u16)(rr->rdata[o + 4] << 8 | rr->rdata[o + 5]);
				}
				o += 4 + olen;
			}
			if (o != rr->rdlen)
				return "the OPT record's options do not fill it";
		}
	}
	r->n_rr = total;
	r->len = n;
	if (n != len)
		return "bytes after the last record";
	return NULL;
}

/* --- TLS ClientHellos --- */

struct hello_spec {
	const char *sni; /* NULL: no server_name extension */
	int sni_pos; /* the server_name extension's index among the extensions */
	size_t key_share; /* key_share bytes: 32 (X25519), 1216 + 32 (X25519MLKEM768) */
	bool ech; /* an encrypted_client_hello extension, before the SNI */
	bool grease; /* GREASE extensions first and last (as Chrome sends) */
	int sid_len; /* session id bytes, 0..32 */
	int n_ciphers; /* cipher suites (0: 16) */
	__u8 sni_type; /* the server_name entry's name type (0: host_name) */
	__u8 rec_minor; /* record version 3.x (0: 1) */
	size_t record_cut; /* > 0: the record length says this much less than the hello needs */
	/*
	 * > 0: the handshake message in TLS records of this many bytes each, the last one
	 * shorter (as some filter-evasion tools send a ClientHello); 0: one record
	 */
	size_t record_piece;
};

static inline void l7_put16(__u8 *p, size_t v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* One extension: type, length, data (a pattern). Returns the bytes written. */
static inline size_t l7_ext(__u8 *p, __u16 type, size_t len)
{
	size_t i;

	l7_put16(p, type);
	l7_put16(p + 2, len);
	for (i = 0; i < len; i++)
		p[4 + i] = (__u8)(0x40 + (i * 7 + type) % 61);
	return 4 + len;
}

/*
 * A ClientHello record into out (room: PKT_MAX is plenty). Returns its length, 0 if it does
 * not fit. *sni_off gets the offset of the SNI's first byte (0 when there is none).
 */
static inline size_t l7_hello(__u8 *out, size_t cap, const struct hello_spec *s, size_t *sni_off)
{
	/* extension types, in a Chrome-like order, the SNI inserted at sni_pos */
	static const __u16 others[] = { 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005,
					0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x4469 };
	static const size_t other_len[] = { 0, 1, 10, 2, 0, 14, 5, 18, 0, 0, 2, 7, 3, 5 };
	size_t n_others = sizeof(others) / sizeof(others[0]);
	__u8 buf[8192];
	size_t n = 0, i, hs, ext_start, hello_start, sni_at = 0;
	int pos = 0, ncs = s->n_ciphers ? s->n_ciphers : 16;

	/* handshake body */
	buf[n++] = 3;
	buf[n++] = 3; /* legacy_version TLS 1.2 */
	for (i = 0; i < 32; i++)
		buf[n++] = (__u8)(0xa0 + i); /* random */
	buf[n++] = (__u8)s->sid_len;
	for (i = 0; i < (size_t)s->sid_len; i++)
		buf[n++] = (__u8)(0x50 + i);
	l7_put16(buf + n, (size_t)ncs * 2);
	n += 2;
	for (i = 0; i < (size_t)ncs; i++) {
		l7_put16(buf + n, 0x1301 + i);
		n += 2;
	}
	buf[n++] = 1; /* one compression method: null */
	buf[n++] = 0;
	ext_start = n;
	n += 2;
	if (s->grease)
		n += l7_ext(buf + n, 0x0a0a, 0);
	for (i = 0; i <= n_others; i++, pos++) {
		if (s->sni && pos == s->sni_pos) {
			size_t l = strlen(s->sni);

			if (s->ech)
				n += l7_ext(buf + n, 0xfe0d, 90);
			l7_put16(buf + n, 0);
			l7_put16(buf + n + 2, l + 5);
			l7_put16(buf + n + 4, l + 3);
			buf[n + 6] = s->sni_type;
			l7_put16(buf + n + 7, l);
			memcpy(buf + n + 9, s->sni, l);
			sni_at = n + 9;
			n += 9 + l;
		}
		if (i == n_others)
			break;
		if (others[i] == 0x0033) {
			/* key_share: one entry of the group 0x11ec (X25519MLKEM768) or x25519 */
			size_t ks = s->key_share ? s->key_share : 32;

			if (n + 10 + ks > sizeof(buf) - 64)
				return 0;
			l7_put16(buf + n, 0x0033);
			l7_put16(buf + n + 2, ks + 6);
			l7_put16(buf + n + 4, ks + 4);
			l7_put16(buf + n + 6, ks > 32 ? 0x11ec : 0x001d);
			l7_put16(buf + n + 8, ks);
			memset(buf + n + 10, 0x77, ks);
			n += 10 + ks;
		} else {
			n += l7_ext(buf + n, others[i], other_len[i]);
		}
	}
	if (s->grease)
		n += l7_ext(buf + n, 0x1a1a, 1);
	l7_put16(buf + ext_start, n - ext_start - 2);
	hs = n;
	hello_start = 5 + 4;
	if (hello_start + hs > cap)
		return 0;
	if (s->record_piece) {
		/* the handshake message (header and body), record after record */
		size_t total = 4 + hs, piece = s->record_piece, at, k = 0;
		size_t len = total + 5 * ((total + piece - 1) / piece);
		__u8 msg[8192 + 4];

		if (len > cap)
			return 0;
		msg[0] = 1;
		msg[1] = (__u8)(hs >> 16);
		msg[2] = (__u8)(hs >> 8);
		msg[3] = (__u8)hs;
		memcpy(msg + 4, buf, hs);
		for (at = 0; at < total; at += piece) {
			size_t m = total - at < piece ? total - at : piece;

			out[k] = 0x16;
			out[k + 1] = 3;
			out[k + 2] = s->rec_minor ? s->rec_minor : 1;
			l7_put16(out + k + 3, m);
			memcpy(out + k + 5, msg + at, m);
			k += 5 + m;
		}
		/* the SNI's first byte: its place in the message, behind the headers before it */
		*sni_off = sni_at ? 4 + sni_at + 5 * ((4 + sni_at) / piece + 1) : 0;
		return k;
	}
	out[0] = 0x16;
	out[1] = 3;
	out[2] = s->rec_minor ? s->rec_minor : 1;
	l7_put16(out + 3, hs + 4 - s->record_cut);
	out[5] = 1;
	out[6] = (__u8)(hs >> 16);
	out[7] = (__u8)(hs >> 8);
	out[8] = (__u8)hs;
	memcpy(out + hello_start, buf, hs);
	*sni_off = sni_at ? hello_start + sni_at : 0;
	return hello_start + hs;
}

/*
 * The stream offset just past the SNI's last byte in the hello s describes (0: no SNI): behind
 * the record headers before it when the hello is in records of s->record_piece bytes.
 */
static inline size_t l7_hello_sni_end(const struct hello_spec *s)
{
	struct hello_spec one = *s;
	__u8 buf[8192];
	size_t off, last;

	one.record_piece = 0;
	if (!s->sni || !l7_hello(buf, sizeof(buf), &one, &off) || !off)
		return 0;
	if (!s->record_piece)
		return off + strlen(s->sni);
	last = off - 5 + strlen(s->sni) - 1; /* in the handshake message */
	return last + 5 * (last / s->record_piece + 1) + 1;
}

#endif
