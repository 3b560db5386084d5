#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Writes the fuzzers' seed inputs to tests/fuzz/seeds/<fuzzer>/ (committed: the files are the
seeds; this script says where they came from and remakes them). Usage: make_seeds.py [DIR].
The ClientHellos carry OpenSSL's random values: remade, they differ in those bytes only.

Each seed is a well-formed input of the kind its target parses, so that a short fuzz run
(tests/fuzz/smoke.sh, in `make test`) starts from deep inside the parser instead of from
nothing: DNS queries as dig sends them (EDNS and a cookie, 0x20 mixed case, an HTTPS query),
a DNS response with a compressed CNAME chain and A/AAAA records, ClientHellos made by
OpenSSL itself (Python's ssl module through a memory BIO), HTTP requests as curl sends
them, domain tables, and registry lines of every format. The registry and config targets
also read tests/data/ and etc/ (see smoke.sh).
"""
import os
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "seeds")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def qname(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def opt(options=b"", udp=1232):
    return b"\0" + struct.pack(">HHIH", 41, udp, 0, len(options)) + options


def query(qid, name, qtype, flags=0x0100, additional=b"", arcount=0):
    hdr = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, arcount)
    return hdr + qname(name) + struct.pack(">HH", qtype, 1) + additional


cookie = struct.pack(">HH", 10, 8) + bytes(range(1, 9))
put("fuzz_dns", "a_edns_cookie",
    query(0x1234, "www.Example.COM", 1, additional=opt(cookie), arcount=1))
put("fuzz_dns", "https_plain", query(0xBEEF, "example.org", 65))
put("fuzz_dns", "aaaa_long_labels", query(7, ".".join(["a" * 63] * 3 + ["example"]), 28))
put("fuzz_dns", "any_many_labels", query(9, ".".join("abcdefghijklmnopqrstuvwxyz") + ".net", 255))

# A response: www.example.com CNAME cdn.example.net (pointer into the question), A, AAAA.
resp = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 3, 0, 1) + qname("www.example.com")
resp += struct.pack(">HH", 1, 1)
cname = qname("cdn.example.net")
resp += b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 300, len(cname)) + cname
cdn = 12 + len(qname("www.example.com")) + 4 + 12  # offset of cdn.example.net
resp += struct.pack(">H", 0xC000 | cdn) + struct.pack(">HHIH", 1, 1, 60, 4)
resp += bytes([192, 0, 2, 1])
resp += struct.pack(">H", 0xC000 | cdn) + struct.pack(">HHIH", 28, 1, 60, 16)
resp += bytes.fromhex("20010db8000000000000000000000001") + opt()
put("fuzz_dnsresp", "cname_a_aaaa", resp)
put("fuzz_dnsresp", "nxdomain",
    struct.pack(">HHHHHH", 5, 0x8183, 1, 0, 0, 0) + qname("ads.example.com")
    + struct.pack(">HH", 1, 1))


def client_hello(host, alpn=None, maxver=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if maxver:
        ctx.maximum_version = maxver
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    s = ctx.wrap_bio(inc, out, server_hostname=host)
    try:
        s.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


put("fuzz_tls", "hello_tls13", client_hello("www.example.com"))
put("fuzz_tls", "hello_alpn", client_hello("Blocked.Example.ORG", alpn=["h2", "http/1.1"]))
put("fuzz_tls", "hello_tls12", client_hello("a.b.c.example.net", maxver=ssl.TLSVersion.TLSv1_2))

put("fuzz_http", "curl_get",
    b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
put("fuzz_http", "absolute_form",
    b"GET http://Ads.Example.com:8080/x?y HTTP/1.1\r\nHost: other.example\r\n\r\n")
put("fuzz_http", "post_host_late",
    b"POST /f HTTP/1.0\r\nContent-Length: 3\r\nX-A: b\r\nhost:\texample.org:80 \r\n\r\nabc")
put("fuzz_http", "pipelined",
    b"GET / HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n"
    b"HEAD /x HTTP/1.1\r\nHost: b.example\n\nGET / HTTP/1.1\r\n")
put("fuzz_http", "pipelined_no_host",
    b"GET / HTTP/1.0\r\nAccept: */*\r\n\r\nGET / HTTP/1.1\r\nHost: b.example\r\n\r\n")

put("fuzz_domain", "lookup", b"\0www.Ads.Example.COM.")
put("fuzz_domain", "table", b"\x01" + b"\x10 example.com\n\x12 ok.example.com\n"
    b"\x21 full.example.org\n\x30 com\n\x04 *.wild.example\n")

put("fuzz_registry", "mixed", b"".join([
    b"\xef\xbb\xbf# a comment\r\n",
    b"0.0.0.0 ads.example.com tracker.example.net\r\n",
    b"127.0.0.1 localhost\n",
    b"||adblock.example^\n@@||allowed.example^\n||path.example/x^\n##.cosmetic\n",
    b"address=/dnsmasq.example/0.0.0.0\nserver=/other.example/192.0.2.1\n",
    b"domain:dlc.example\nfull:exact.example\nregex:^x\\.example$\n",
    b"*.wild.example\nb\xc3\xbccher.example\n192.0.2.0/24\n2001:db8::/32 ; SBL1\n",
]))

# A config with every kind of section and key (the shipped one has no groups or remote lists).
put("fuzz_config", "every_section.conf", b"""[guard]
interfaces = eth1, eth2
xdp_mode = generic
tc_ingress = eth3
tc_egress = eth1
dns_action = sinkhole
sinkhole4 = 192.0.2.53
sinkhole6 = 2001:db8::53
tcp_action = drop
block_ttl = 30
unexamined = block
metrics = [::1]:9477
state_dir = /var/lib/bpfguard

[list ads]
url = https://lists.example/ads.txt.gz
category = ads
refresh = 12h
max_size = 50M
timeout = 30s
sha256 = 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

[list games]
path = registry/games.txt
category = games
direction = both
match = exact

[list ok]
path = registry/ok.txt
category = ads
action = allow

[schedule school]
timezone = CET-1CEST,M3.5.0,M10.5.0/3
mon-fri = 08:00-12:00, 13:30-16:30
sat,sun = 22:00-06:30

[schedule lunch]
daily = 12:00-13:30

[group pupils]
clients = 192.0.2.0/25, 2001:db8:1::/64
macs = 02:00:00:00:00:07
block = ads, games@school
allow = games@lunch
""")
