#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Writes the captures of the name differential and replay tests (tests/e2e/test_names_tshark.sh)
# and what the tests expect of every frame. Usage: gen_pcaps.py OUTDIR
#
#   OUTDIR/dns.pcap   DNS queries over UDP and TCP, v4 and v6: A, AAAA, HTTPS, SVCB, ANY, 0x20
#                     mixed case, names of 253 characters and of 127 labels, IDN punycode,
#                     EDNS, responses (not judged), a root query, a name too long
#   OUTDIR/tls.pcap   TLS ClientHellos: one segment; split over 2, 3 and 6 segments with the SNI
#                     in the 2nd segment, straddling a boundary, or with a field cut; a
#                     post-quantum-sized key share before the SNI; ECH (0xfe0d) before and after
#                     the SNI; port 8443; v6; two split hellos interleaved; a retransmission;
#                     a gap; no SNI
#   OUTDIR/http.pcap  HTTP/1.x requests: Host with and without port, in any case, absolute-form
#                     targets (with and without a Host header, and a Host that differs), CONNECT,
#                     IP literals, no Host, a trailing dot, 253 characters, v6, a response
#   OUTDIR/expected.tsv  one line per frame of every file:
#       file frame case ours tshark_exempt verdict reason match qtype
#     ours: SOURCE:NAME the guard's parser must extract from this frame, "!REASON" for a frame it
#           examines without a name (extract_names -a), "-" for none
#     tshark_exempt: "-", or why tshark reports a name here that the guard does not extract
#     verdict, reason, match: what `bpfguard replay` prints with dns_action = nxdomain and
#           tcp_action = reset (test_names_tshark.sh derives the other actions from these)
#     qtype: the DNS query type (for dns_action = sinkhole), "-" for others
#
# The replay config the expectations are written for (test_names_tshark.sh writes it):
#   list l7-block (block): blocked.test, bücher.test (Unicode in the file), long.test, a.b
#   list l7-allow (allow): ok.blocked.test
# Every frame is Ethernet; addresses are documentation ones (client 192.0.2.2, 2001:db8:1::2;
# servers 203.0.113.10/.20, 2001:db8:3::10/::20).

import os
import struct
import sys

from scapy.all import DNS, DNSQR, DNSRR, DNSRROPT, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap

C4, C6 = "192.0.2.2", "2001:db8:1::2"
R4, R6 = "203.0.113.10", "2001:db8:3::10"  # resolver
S4, S6 = "203.0.113.20", "2001:db8:3::20"  # web server
MAC_C, MAC_G = "02:00:00:00:00:02", "02:00:00:00:00:01"

BLOCK = "l7-block"
ALLOW = "l7-allow"

# A name of exactly 253 characters under long.test, and one of 127 labels (253 characters).
LONG253 = ("x" * 62 + ".") * 3 + "y" * (253 - 3 * 63 - len(".long.test")) + ".long.test"
assert len(LONG253) == 253, len(LONG253)
LABELS127 = "a." * 126 + "b"
assert len(LABELS127) == 253 and LABELS127.count(".") == 126
# 254 characters: one too many (the wire form is 256 bytes).
LONG254 = "z" + LONG253
NOTLISTED253 = LONG253.replace(".long.test", ".lng.test").replace("y", "w", 1) + "w"
NOTLISTED253 = NOTLISTED253[len(NOTLISTED253) - 253:]
assert len(NOTLISTED253) == 253 and NOTLISTED253[0] != "."


def block(entry, answer="answer_dns_nxdomain"):
    return ("answer", answer, f"{BLOCK}:{entry}")


PASS = ("pass", "pass_nomatch", "-")
ALLOWED = ("pass", "pass_domain_allow", f"{ALLOW}:ok.blocked.test")


class Capture:
    """Frames of one file and what is expected of each."""

    def __init__(self, name):
        self.name = name
        self.frames = []
        self.rows = []

    def add(self, frame, case, ours="-", verdict=PASS, exempt="-", qtype="-"):
        self.frames.append(frame)
        self.rows.append((self.name, len(self.frames), case, ours, exempt) + verdict + (qtype,))

    def write(self, outdir):
        wrpcap(os.path.join(outdir, self.name), self.frames)


def eth():
    return Ether(src=MAC_C, dst=MAC_G)


def eth_back():
    return Ether(src=MAC_G, dst=MAC_C)


def ip(v6, src, dst):
    return IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)


# --- DNS ----------------------------------------------------------------------------------

QTYPES = {"A": 1, "AAAA": 28, "SVCB": 64, "HTTPS": 65, "ANY": 255, "TXT": 16, "MX": 15}


def dns_query(qid, name, qtype, edns=False):
    d = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=QTYPES[qtype]))
    if edns:
        d.ar = DNSRROPT(rclass=1232)
    return d


def gen_dns():
    cap = Capture("dns.pcap")
    sport = [40000]

    def udp(case, name, qtype, ours_name, verdict, v6=False, edns=False, exempt="-",
            ours=None):
        sport[0] += 1
        d = dns_query(sport[0] & 0xffff, name, qtype, edns)
        f = eth() / ip(v6, C6 if v6 else C4, R6 if v6 else R4) / UDP(sport=sport[0], dport=53) / d
        cap.add(f, case, ours or f"dns-udp:{ours_name}", verdict, exempt, qtype)

    udp("udp4 A blocked", "www.blocked.test", "A", "www.blocked.test", block("blocked.test"))
    udp("udp6 AAAA blocked", "www.blocked.test", "AAAA", "www.blocked.test",
        block("blocked.test"), v6=True)
    udp("udp4 HTTPS blocked apex", "blocked.test", "HTTPS", "blocked.test", block("blocked.test"))
    udp("udp6 SVCB blocked", "_dns.resolver.blocked.test", "SVCB", "_dns.resolver.blocked.test",
        block("blocked.test"), v6=True)
    udp("udp4 ANY blocked", "any.blocked.test", "ANY", "any.blocked.test", block("blocked.test"))
    udp("udp4 0x20 mixed case", "wWw.BlOcKeD.TeSt", "A", "www.blocked.test",
        block("blocked.test"))
    udp("udp4 EDNS blocked", "edns.blocked.test", "A", "edns.blocked.test", block("blocked.test"),
        edns=True)
    udp("udp6 EDNS AAAA blocked", "edns6.blocked.test", "AAAA", "edns6.blocked.test",
        block("blocked.test"), v6=True, edns=True)
    udp("udp4 allowed name", "www.allowed.test", "A", "www.allowed.test", PASS)
    udp("udp6 allowed name", "www.allowed.test", "AAAA", "www.allowed.test", PASS, v6=True)
    udp("udp4 allow entry beats block", "ok.blocked.test", "A", "ok.blocked.test", ALLOWED)
    udp("udp4 allow entry subtree", "a.OK.blocked.test", "HTTPS", "a.ok.blocked.test", ALLOWED)
    udp("udp4 label boundary: notblocked.test", "notblocked.test", "A", "notblocked.test", PASS)
    udp("udp4 label boundary: blocked.test.evil", "blocked.test.evil", "A", "blocked.test.evil",
        PASS)
    udp("udp4 253 characters, listed", LONG253, "A", LONG253, block("long.test"))
    udp("udp6 253 characters, listed", LONG253.upper(), "AAAA", LONG253, block("long.test"),
        v6=True)
    udp("udp4 253 characters, not listed", NOTLISTED253, "A", NOTLISTED253, PASS)
    udp("udp4 127 labels, listed", LABELS127, "A", LABELS127, block("a.b"))
    udp("udp4 IDN punycode of a Unicode entry", "www.xn--bcher-kva.test", "A",
        "www.xn--bcher-kva.test", block("xn--bcher-kva.test"))
    udp("udp4 IDN punycode, uppercase", "XN--BCHER-KVA.test", "AAAA", "xn--bcher-kva.test",
        block("xn--bcher-kva.test"))
    udp("udp4 254 characters: too long", LONG254, "A", None,
        ("pass", "pass_name_too_long", "-"), ours="dns-udp:!pass_name_too_long",
        exempt="a 254-character name is over the 253 limit: the guard does not examine it")
    udp("udp4 MX blocked", "mail.blocked.test", "MX", "mail.blocked.test",
        block("blocked.test"))

    # A response to the client (from port 53) and one sent to port 53: not judged by name.
    resp = DNS(id=7, qr=1, ra=1, rd=1, qd=DNSQR(qname="www.blocked.test"),
               an=DNSRR(rrname="www.blocked.test", rdata="203.0.113.20"))
    cap.add(eth_back() / IP(src=R4, dst=C4) / UDP(sport=53, dport=40100) / resp,
            "udp4 response to the client (not a query)")
    cap.add(eth() / IP(src=C4, dst=R4) / UDP(sport=5353, dport=53) / resp,
            "udp4 response sent to port 53 (not judged)", "dns-udp:!note_dns_not_query")
    # The root name: no name to judge (tshark shows "<Root>").
    cap.add(eth() / IP(src=C4, dst=R4) / UDP(sport=40200, dport=53) /
            DNS(id=9, rd=1, qd=DNSQR(qname=".", qtype=2)), "udp4 root NS query", "dns-udp:")

    # DNS over TCP: handshake, then the query (length-prefixed) in the first data segment.
    def tcp(case, name, qtype, verdict, v6=False, sp=0):
        c, s = (C6, R6) if v6 else (C4, R4)
        d = bytes(dns_query(sp & 0xffff, name, qtype))
        seq = 1000
        cap.add(eth() / ip(v6, c, s) / TCP(sport=sp, dport=53, flags="S", seq=seq - 1),
                case + " (SYN)")
        cap.add(eth_back() / ip(v6, s, c) / TCP(sport=53, dport=sp, flags="SA", seq=5000,
                                                ack=seq), case + " (SYN-ACK)")
        cap.add(eth() / ip(v6, c, s) / TCP(sport=sp, dport=53, flags="A", seq=seq, ack=5001),
                case + " (ACK)")
        cap.add(eth() / ip(v6, c, s) / TCP(sport=sp, dport=53, flags="PA", seq=seq, ack=5001) /
                Raw(struct.pack("!H", len(d)) + d), case,
                f"dns-tcp:{name.lower()}", verdict, qtype=qtype)

    reset = ("answer", "reset_dns_tcp", f"{BLOCK}:blocked.test")
    tcp("tcp4 A blocked", "www.blocked.test", "A", reset, sp=41001)
    tcp("tcp6 AAAA blocked, mixed case", "Tcp6.Blocked.Test", "AAAA", reset, v6=True, sp=41002)
    tcp("tcp4 allowed", "www.allowed.test", "A", PASS, sp=41003)
    tcp("tcp6 HTTPS allowed", "www.allowed.test", "HTTPS", PASS, v6=True, sp=41004)
    return cap


# --- TLS ----------------------------------------------------------------------------------

def ext(etype, data):
    return struct.pack("!HH", etype, len(data)) + data


def sni_ext(name):
    n = name.encode()
    entry = b"\x00" + struct.pack("!H", len(n)) + n
    return ext(0, struct.pack("!H", len(entry)) + entry)


def key_share_ext(sizes):
    """key_share with one entry per (group, key length)."""
    body = b"".join(struct.pack("!HH", g, n) + bytes((i * 7 + 3) & 0xff for i in range(n))
                    for g, n in sizes)
    return ext(51, struct.pack("!H", len(body)) + body)


def ech_ext():
    # outer ECHClientHello: type 0, kdf/aead, config id, enc (32), payload (200)
    enc, payload = bytes(range(32)), bytes((i * 13) & 0xff for i in range(200))
    body = (b"\x00" + struct.pack("!HH", 1, 1) + b"\x2a" + struct.pack("!H", len(enc)) + enc +
            struct.pack("!H", len(payload)) + payload)
    return ext(0xFE0D, body)


COMMON_EXTS = [
    ext(10, bytes.fromhex("0006001d00170018")),  # supported_groups
    ext(13, bytes.fromhex("000804030804040105010201")),  # signature_algorithms
    ext(16, bytes.fromhex("000c02683208687474702f312e31")),  # ALPN h2, http/1.1
    ext(43, bytes.fromhex("0403040303")),  # supported_versions
]


def client_hello(sni, before=(), after=None):
    """A TLS 1.3-style ClientHello record: extensions `before`, the SNI, then `after`."""
    ciphers = bytes.fromhex("130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035")
    exts = list(before)
    if sni is not None:
        exts.append(sni_ext(sni))
    exts += COMMON_EXTS if after is None else list(after)
    ext_block = b"".join(exts)
    body = (b"\x03\x03" + bytes(range(32)) + b"\x20" + bytes(range(100, 132)) +
            struct.pack("!H", len(ciphers)) + ciphers + b"\x01\x00" +
            struct.pack("!H", len(ext_block)) + ext_block)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def in_records(rec, piece):
    """The hello's handshake message (rec after its record header) in TLS records of `piece`
    bytes, as some filter-evasion tools send a ClientHello."""
    hs = rec[5:]
    return b"".join(b"\x16\x03\x01" + struct.pack("!H", len(hs[i:i + piece])) + hs[i:i + piece]
                    for i in range(0, len(hs), piece))


def record_off(off, piece):
    """Where byte `off` of a one-record hello is in in_records(rec, piece)."""
    h = off - 5
    return h + 5 * (h // piece + 1)


def sni_offset(rec, name):
    """Offset of the SNI host name's first byte in the record."""
    i = rec.find(name.encode())
    assert i > 0
    return i


class Flow:
    """One TCP connection from the client: handshake, then data segments."""

    def __init__(self, cap, case, sport, dport=443, v6=False, server=None):
        self.cap, self.case, self.sport, self.dport, self.v6 = cap, case, sport, dport, v6
        self.c = C6 if v6 else C4
        self.s = server or (S6 if v6 else S4)
        self.seq = 100000 + sport * 7
        cap.add(eth() / ip(v6, self.c, self.s) / TCP(sport=sport, dport=dport, flags="S",
                                                     seq=self.seq - 1), case + " (SYN)")
        cap.add(eth_back() / ip(v6, self.s, self.c) /
                TCP(sport=dport, dport=sport, flags="SA", seq=7000, ack=self.seq),
                case + " (SYN-ACK)")
        cap.add(eth() / ip(v6, self.c, self.s) /
                TCP(sport=sport, dport=dport, flags="A", seq=self.seq, ack=7001), case + " (ACK)")

    def segment(self, data, note, ours="-", verdict=PASS, seq=None, exempt="-"):
        s = self.seq if seq is None else seq
        self.cap.add(eth() / ip(self.v6, self.c, self.s) /
                     TCP(sport=self.sport, dport=self.dport, flags="PA", seq=s, ack=7001) /
                     Raw(data), f"{self.case}: {note}", ours, verdict, exempt)
        if seq is None:
            self.seq += len(data)

    def send(self, rec, cuts, name, verdict, ech=False, done_at=None, sni_end=None):
        """rec cut at offsets `cuts`; the SNI completes in segment done_at (default: the last
        segment the name reaches, which ends at sni_end: by default where the name is found)."""
        bounds = [0] + list(cuts) + [len(rec)]
        end = sni_end if sni_end is not None else sni_offset(rec, name) + len(name)
        if done_at is None:
            done_at = next(i for i in range(len(bounds) - 1) if bounds[i + 1] >= end)
        for i in range(len(bounds) - 1):
            if i < done_at:
                ours, v = "sni:!pass_tls_pending", ("pass", "pass_tls_pending", "-")
            elif i == done_at:
                ours, v = f"sni:{name.lower()}@" + ("ech" if ech else "-"), verdict
            else:
                ours, v = "-", PASS
            self.segment(rec[bounds[i]:bounds[i + 1]], f"segment {i + 1}/{len(bounds) - 1}",
                         ours, v)


def gen_tls():
    cap = Capture("tls.pcap")
    rst = ("answer", "reset_sni", f"{BLOCK}:blocked.test")
    # X25519MLKEM768-sized and X25519 key shares, then a padding extension: as in browsers
    # that send post-quantum key shares, the SNI comes after the first 1448 bytes.
    pq = key_share_ext([(0x11EC, 1216), (0x001D, 32)]) + ext(21, bytes(160))

    name = "www.blocked.test"
    rec = client_hello(name)
    Flow(cap, "v4 one segment, blocked", 50001).send(rec, [], name, rst)

    name = "www.allowed.test"
    Flow(cap, "v6 one segment, allowed", 50002, v6=True).send(client_hello(name), [], name, PASS)

    name = "ok.blocked.test"
    Flow(cap, "v4 one segment, allow entry", 50003).send(client_hello(name), [], name, ALLOWED)

    name = "WWW.Blocked.TEST"
    Flow(cap, "v4 one segment, upper case SNI", 50004).send(client_hello(name), [], name, rst)

    name = "pq.blocked.test"
    rec = client_hello(name, before=[pq])
    assert sni_offset(rec, name) > 1448
    Flow(cap, "v4 post-quantum-sized hello at MSS 1448, SNI in the 2nd segment",
         50005).send(rec, [1448], name, rst)

    name = "straddle.blocked.test"
    rec = client_hello(name)
    Flow(cap, "v4 split in 2, the cut inside the SNI", 50006).send(
        rec, [sni_offset(rec, name) + 5], name, rst)

    name = "three.blocked.test"
    rec = client_hello(name, before=[pq])
    o = sni_offset(rec, name)
    Flow(cap, "v4 split in 3, SNI in the 2nd straddling into the 3rd", 50007).send(
        rec, [o - 40, o + 7], name, rst)

    name = "middle.blocked.test"
    rec = client_hello(name, before=[pq])
    o = sni_offset(rec, name)
    Flow(cap, "v4 split in 3, SNI whole in the 2nd, hello ends in the 3rd", 50008).send(
        rec, [o - 9, o + len(name) + 10], name, rst)

    name = "fields.blocked.test"
    rec = client_hello(name)
    o = sni_offset(rec, name)
    # cuts: inside the handshake length, inside the cipher suites' length, inside the SNI
    # extension's type, between the name's length bytes
    Flow(cap, "v4 split in 5, fields cut across segments", 50009).send(
        rec, [8, 77, o - 8, o - 1], name, rst)

    # A first segment shorter than the record header (a split DPI-evasion tools make: 1 or 2
    # bytes first): the hello must be followed all the same.
    name = "tiny1.blocked.test"
    rec = client_hello(name)
    Flow(cap, "v4 first segment of 1 byte", 50022).send(rec, [1], name, rst)
    name = "tiny5.blocked.test"
    rec = client_hello(name)
    Flow(cap, "v4 first segment of 5 bytes (the record header)", 50023).send(rec, [5], name, rst)

    name = "six.blocked.test"
    rec = client_hello(name, before=[pq])
    Flow(cap, "v4 split in 6 segments of 300 bytes", 50010).send(
        rec, list(range(300, len(rec), 300))[:5], name, rst)

    name = "echouter.blocked.test"
    rec = client_hello(name, before=[ech_ext()])
    Flow(cap, "v4 ECH before the SNI (outer SNI blocked)", 50011).send(rec, [], name, rst,
                                                                       ech=True)

    name = "echafter.blocked.test"
    rec = client_hello(name, after=COMMON_EXTS + [ech_ext()])
    Flow(cap, "v4 ECH after the SNI", 50012).send(rec, [], name, rst)

    name = "alt.blocked.test"
    rec = client_hello(name, before=[pq])
    Flow(cap, "v4 port 8443, split in 2", 50013, dport=8443).send(rec, [700], name, rst)

    name = "v6split.blocked.test"
    rec = client_hello(name, before=[pq])
    Flow(cap, "v6 split in 2 at MSS 1428", 50014, v6=True).send(rec, [1428], name, rst)

    name = "www.xn--bcher-kva.test"
    Flow(cap, "v4 IDN punycode SNI", 50015).send(
        client_hello(name), [], name, ("answer", "reset_sni", f"{BLOCK}:xn--bcher-kva.test"))

    rec = LONG253
    Flow(cap, "v4 253-character SNI split in 3", 50016).send(
        client_hello(rec), [150, 300], rec, ("answer", "reset_sni", f"{BLOCK}:long.test"))

    rec = client_hello(None)
    Flow(cap, "v4 hello without SNI", 50017).segment(rec, "one segment", "sni:!note_tls_no_sni")

    # Two split hellos interleaved: per-flow state.
    na, nb = "inter-a.blocked.test", "www.allowed.test"
    ra, rb = client_hello(na, before=[pq]), client_hello(nb, before=[pq])
    fa = Flow(cap, "interleaved A (blocked)", 50018)
    fb = Flow(cap, "interleaved B (allowed)", 50019, v6=True)
    fa.segment(ra[:1000], "segment 1/2", "sni:!pass_tls_pending", ("pass", "pass_tls_pending", "-"))
    fb.segment(rb[:1000], "segment 1/2", "sni:!pass_tls_pending", ("pass", "pass_tls_pending", "-"))
    fa.segment(ra[1000:], "segment 2/2", f"sni:{na}@-", rst)
    fb.segment(rb[1000:], "segment 2/2", f"sni:{nb}@-", PASS)

    # A retransmitted first segment: noted, passed; the walk goes on with the next segment.
    name = "retrans.blocked.test"
    rec = client_hello(name, before=[pq])
    f = Flow(cap, "v4 split in 2, first segment retransmitted", 50020)
    s0 = f.seq
    f.segment(rec[:900], "segment 1/2", "sni:!pass_tls_pending", ("pass", "pass_tls_pending", "-"))
    f.segment(rec[:900], "segment 1/2 again", "sni:!note_tls_retransmit", PASS, seq=s0)
    f.segment(rec[900:], "segment 2/2", f"sni:{name}@-", rst)

    # A ClientHello in several TLS records (a trick of filter-evasion tools): followed from
    # record to record, a record boundary inside the SNI included.
    name = "records.blocked.test"
    rec = client_hello(name)
    o = sni_offset(rec, name)
    piece = next(p for p in range(30, 90) if (o - 5) // p != (o + len(name) - 6) // p)
    stream = in_records(rec, piece)
    end = record_off(o + len(name) - 1, piece) + 1
    Flow(cap, f"v4 hello in records of {piece} bytes (one cuts the SNI)", 50030).send(
        stream, [], name, rst, sni_end=end)
    name = "recsplit.blocked.test"
    rec = client_hello(name, before=[pq])
    stream = in_records(rec, 300)
    end = record_off(sni_offset(rec, name) + len(name) - 1, 300) + 1
    # segments: the 2nd starts 2 bytes into the 2nd record's header; the 3rd 3 bytes before
    # the SNI's end
    Flow(cap, "v4 hello in records of 300 bytes, split in 3", 50031).send(
        stream, [307, end - 3], name, rst, sni_end=end)
    name = "tiny.blocked.test"
    stream = in_records(client_hello(name), 2)
    Flow(cap, "v4 hello in records of 2 bytes", 50032).segment(
        stream, "one segment", "sni:!pass_tls_unsupported",
        ("pass", "pass_tls_unsupported", "-"),
        exempt="a hello in 2-byte records: more records than the guard follows (64 fields)")

    # A gap: the segment after the missing one ends the following, the flow passes.
    name = "gap.blocked.test"
    rec = client_hello(name, before=[pq])
    f = Flow(cap, "v4 split in 3, the 2nd segment missing", 50021)
    s0 = f.seq
    f.segment(rec[:600], "segment 1/3", "sni:!pass_tls_pending", ("pass", "pass_tls_pending", "-"))
    f.segment(rec[1200:], "segment 3/3 (after a gap)", "sni:!pass_tls_unordered",
              ("pass", "pass_tls_unordered", "-"), seq=s0 + 1200)
    return cap


# --- HTTP ---------------------------------------------------------------------------------

def gen_http():
    cap = Capture("http.pcap")
    rst = ("answer", "reset_http", f"{BLOCK}:blocked.test")

    def req(case, payload, ours, verdict, port=80, v6=False, sport=0, exempt="-"):
        f = Flow(cap, case, sport, dport=port, v6=v6)
        f.segment(payload.encode(), "request", ours, verdict, exempt=exempt)

    req("GET, Host", "GET / HTTP/1.1\r\nHost: www.blocked.test\r\nUser-Agent: t\r\n\r\n",
        "http:www.blocked.test", rst, sport=51001)
    req("GET, Host with port (8080)",
        "GET /x HTTP/1.1\r\nHost: www.blocked.test:8080\r\nAccept: */*\r\n\r\n",
        "http:www.blocked.test", rst, port=8080, sport=51002)
    req("GET, header name and value in odd case, spaces",
        "GET / HTTP/1.1\r\nUser-Agent: t\r\nhOsT:   WWW.Blocked.TEST\r\n\r\n",
        "http:www.blocked.test", rst, sport=51003)
    req("absolute form with Host",
        "GET http://abs.blocked.test/path?q=1 HTTP/1.1\r\nHost: abs.blocked.test\r\n\r\n",
        "http:abs.blocked.test", rst, sport=51004)
    req("absolute form, HTTP/1.0 without Host",
        "GET http://abs10.blocked.test:8080/ HTTP/1.0\r\nUser-Agent: t\r\n\r\n",
        "http:abs10.blocked.test", rst, port=8080, sport=51005)
    req("absolute form wins over a different Host",
        "GET HTTP://Target.Blocked.Test/ HTTP/1.1\r\nHost: www.allowed.test\r\n\r\n",
        "http:target.blocked.test", rst, sport=51006)
    req("allowed host", "GET / HTTP/1.1\r\nHost: www.allowed.test\r\n\r\n",
        "http:www.allowed.test", PASS, sport=51007)
    req("allow entry", "HEAD / HTTP/1.1\r\nHost: ok.blocked.test\r\n\r\n",
        "http:ok.blocked.test", ALLOWED, sport=51008)
    req("POST with a body", "POST /form HTTP/1.1\r\nHost: post.blocked.test\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
        "http:post.blocked.test", rst, sport=51009)
    req("v6 GET, Host with port", "GET / HTTP/1.1\r\nHost: v6.blocked.test:80\r\n\r\n",
        "http:v6.blocked.test", rst, v6=True, sport=51010)
    req("Host an IPv4 literal", "GET / HTTP/1.1\r\nHost: 203.0.113.20\r\n\r\n",
        "http:203.0.113.20", PASS, sport=51011)
    req("Host an IPv6 literal", "GET / HTTP/1.1\r\nHost: [2001:db8:3::20]:80\r\n\r\n",
        "http:!note_http_no_host", PASS, v6=True, sport=51012,
        exempt="an IP literal in brackets names no host: the guard does not look it up")
    req("HTTP/1.0 without Host", "GET / HTTP/1.0\r\nUser-Agent: t\r\n\r\n",
        "http:!note_http_no_host", PASS, sport=51013)
    req("Host with a trailing dot", "GET / HTTP/1.1\r\nHost: dot.blocked.test.\r\n\r\n",
        "http:dot.blocked.test", rst, sport=51014)
    req("253-character Host", f"GET / HTTP/1.1\r\nHost: {LONG253}\r\n\r\n",
        f"http:{LONG253}", ("answer", "reset_http", f"{BLOCK}:long.test"), sport=51015)
    req("IDN punycode Host", "GET / HTTP/1.1\r\nHost: xn--bcher-kva.test\r\n\r\n",
        "http:xn--bcher-kva.test", ("answer", "reset_http", f"{BLOCK}:xn--bcher-kva.test"),
        sport=51016)
    req("label boundary", "GET / HTTP/1.1\r\nHost: notblocked.test\r\n\r\n",
        "http:notblocked.test", PASS, sport=51017)
    # A response: not a request.
    f = Flow(cap, "response", 51018)
    cap.add(eth_back() / IP(src=S4, dst=C4) /
            TCP(sport=80, dport=51018, flags="PA", seq=7001, ack=f.seq) /
            Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nHost: www.blocked.test\r\n\r\n"),
            "response: the server's answer")
    return cap


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_pcaps.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rows = []
    for cap in (gen_dns(), gen_tls(), gen_http()):
        cap.write(out)
        rows += cap.rows
    with open(os.path.join(out, "expected.tsv"), "w") as f:
        for r in rows:
            assert all("\n" not in str(c) for c in r)
            assert all("\t" not in str(c) for c in r)
            f.write("\t".join(str(c) for c in r) + "\n")


if __name__ == "__main__":
    main()
