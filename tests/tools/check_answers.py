#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Checks, byte for byte, the answers the guard forges, in a capture taken on the client's link
# (tests/e2e/test_domains.sh). Written from RFC 1035, 6891, 8914 and 9293, not from the guard's
# code. Usage:
#   check_answers.py CAPTURE DNS_ACTION [--ttl N] [--sinkhole4 A] [--sinkhole6 A] [--expect N]
# DNS_ACTION is nxdomain, refused or sinkhole. A forged DNS answer is a response to a query for
# a name at or under blocked.test (not under ok.blocked.test); each is checked against the
# query it answers (same ID, ports and addresses swapped):
#   Ethernet addresses swapped; IPv4: header checksum right, TTL > 0, no fragment, total
#   length right; IPv6: payload length right; UDP: length right, checksum right (and not 0 on
#   IPv6); DNS: the query's ID, QR and RA set, the opcode, RD and CD copied, AA, TC and AD clear,
#   the rcode of the action; the question section the query's, byte for byte (its case kept);
#   NXDOMAIN and NODATA: one SOA in the authority section whose TTL and minimum are the block
#   TTL; sinkhole: one A or AAAA record, owner the question's name, the sinkhole address, the
#   block TTL; REFUSED: no records; an OPT record (UDP size >= 512, version 0, the DO bit
#   copied, one EDE option: INFO-CODE 15 "Blocked") exactly when the query had one.
# A TCP reset from a server's address is checked against the client segment it answers (the
# last one with data of its flow): ports and addresses swapped, RST set, its sequence number
# the segment's acknowledgement number, checksums right.
# Prints PASS/FAIL lines (l7_compare.py's format), one per forged answer, and a last line
# counting them: a failure when there are none, or not N with --expect N.

import ipaddress
import sys

from scapy.all import DNS, IP, TCP, UDP, Ether, IPv6, PcapReader, raw

RCODE = {"nxdomain": 3, "refused": 5, "sinkhole": 0}


def out(ok, desc, diags=()):
    print(("PASS" if ok else "FAIL") + "\t" + desc)
    for d in diags:
        print("#\t" + d)


def blocked(name):
    n = name.lower().rstrip(".")
    if n == "ok.blocked.test" or n.endswith(".ok.blocked.test"):
        return False
    return n == "blocked.test" or n.endswith(".blocked.test")


def l3(p):
    return p[IP] if IP in p else p[IPv6]


def question_bytes(msg):
    """The question section of a DNS message (bytes), and where it ends."""
    i = 12
    while msg[i] != 0:
        if msg[i] & 0xC0:
            raise ValueError("compression pointer in the question")
        i += 1 + msg[i]
    return msg[12:i + 5], i + 5


def read_name(msg, i):
    """Name at i (pointers followed), lower case, and the offset after it."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[i]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = i + 2
            i = (n & 0x3F) << 8 | msg[i + 1]
            hops += 1
            if hops > 20:
                raise ValueError("pointer loop")
            continue
        if n == 0:
            return ".".join(labels).lower(), (end if end is not None else i + 1)
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n


def rr(msg, i):
    name, i = read_name(msg, i)
    t, c, ttl, rdlen = int.from_bytes(msg[i:i + 2], "big"), int.from_bytes(msg[i + 2:i + 4],
                                                                           "big"), \
        int.from_bytes(msg[i + 4:i + 8], "big"), int.from_bytes(msg[i + 8:i + 10], "big")
    rdata = msg[i + 10:i + 10 + rdlen]
    if len(rdata) != rdlen:
        raise ValueError("record data past the end of the message")
    return {"name": name, "type": t, "class": c, "ttl": ttl, "rdata": rdata, "raw_at": i}, \
        i + 10 + rdlen


def checksums_ok(p, errs):
    """Recompute the IPv4, UDP and TCP checksums with scapy and compare."""
    q = p.copy()
    if IP in q:
        got = q[IP].chksum
        del q[IP].chksum
        want = IP(raw(q[IP])).chksum
        if got != want:
            errs.append(f"IPv4 header checksum {got:#06x}, should be {want:#06x}")
    for proto in (UDP, TCP):
        if proto in q:
            got = q[proto].chksum
            if proto is UDP and got == 0:
                if IPv6 in q:
                    errs.append("UDP checksum 0 over IPv6 (not allowed)")
                return
            del q[proto].chksum
            r = Ether(raw(q))
            want = r[proto].chksum
            if got != want:
                errs.append(f"{proto.__name__} checksum {got:#06x}, should be {want:#06x}")


def check_dns(resp, query, action, ttl, sink4, sink6):
    errs = []
    qm, am = bytes(query[UDP].payload), bytes(resp[UDP].payload)
    if resp[Ether].src != query[Ether].dst or resp[Ether].dst != query[Ether].src:
        errs.append("Ethernet addresses not swapped")
    ql3, al3 = l3(query), l3(resp)
    if (al3.src, al3.dst) != (ql3.dst, ql3.src):
        errs.append(f"addresses {al3.src} -> {al3.dst}, query {ql3.src} -> {ql3.dst}")
    if IP in resp:
        if resp[IP].ttl == 0:
            errs.append("IPv4 TTL 0")
        if resp[IP].flags.MF or resp[IP].frag:
            errs.append("IPv4 fragment")
        if resp[IP].len != len(raw(resp[IP])):
            errs.append(f"IPv4 total length {resp[IP].len}, packet {len(raw(resp[IP]))}")
    else:
        if resp[IPv6].plen != len(raw(resp[IPv6].payload)):
            errs.append(f"IPv6 payload length {resp[IPv6].plen}")
    if (resp[UDP].sport, resp[UDP].dport) != (query[UDP].dport, query[UDP].sport):
        errs.append("UDP ports not swapped")
    if resp[UDP].len != 8 + len(am):
        errs.append(f"UDP length {resp[UDP].len}, message {len(am)} bytes")
    checksums_ok(resp, errs)
    if len(am) < 12:
        return errs + ["DNS message shorter than its header"]
    qid, qflags = int.from_bytes(qm[0:2], "big"), int.from_bytes(qm[2:4], "big")
    aid, aflags = int.from_bytes(am[0:2], "big"), int.from_bytes(am[2:4], "big")
    qd, an, ns, ar = (int.from_bytes(am[i:i + 2], "big") for i in (4, 6, 8, 10))
    if aid != qid:
        errs.append(f"ID {aid:#06x}, query {qid:#06x}")
    want = 0x8000 | 0x0080 | (qflags & (0x7800 | 0x0100 | 0x0010)) | RCODE[action]
    if aflags != want:
        errs.append(f"flags {aflags:#06x}, expected {want:#06x} (QR RA, opcode RD CD copied, "
                    "AA TC AD clear, the rcode)")
    qq, qend = question_bytes(qm)
    try:
        aq, i = question_bytes(am)
    except (ValueError, IndexError) as e:
        return errs + [f"question: {e}"]
    if aq != qq:
        errs.append(f"question {aq!r} is not the query's {qq!r}")
    qname, _ = read_name(qm, 12)
    qtype = int.from_bytes(qq[-4:-2], "big")
    q_opt = None
    if int.from_bytes(qm[10:12], "big"):
        try:
            q_opt, _ = rr(qm, qend)
        except (ValueError, IndexError):
            q_opt = None
        if q_opt and q_opt["type"] != 41:
            q_opt = None
    records = []
    try:
        for _ in range(an + ns + ar):
            r, i = rr(am, i)
            records.append(r)
    except (ValueError, IndexError) as e:
        return errs + [f"records: {e}"]
    if i != len(am):
        errs.append(f"{len(am) - i} bytes after the last record")
    if qd != 1:
        errs.append(f"QDCOUNT {qd}")
    answers, auth, add = records[:an], records[an:an + ns], records[an + ns:]
    rcode = aflags & 0xF
    if action == "refused":
        if an or ns:
            errs.append(f"REFUSED with {an} answers, {ns} authority records")
    elif action == "nxdomain" or (action == "sinkhole" and rcode == 0 and an == 0):
        if an != 0 or ns != 1 or auth[0]["type"] != 6:
            errs.append(f"expected one SOA in the authority section: AN {an}, NS {ns}")
        else:
            soa = auth[0]
            rd = soa["rdata"]
            try:
                _, j = read_name(am, soa["raw_at"] + 10)
                _, j = read_name(am, j)
                minimum = int.from_bytes(am[j + 16:j + 20], "big")
                if j + 20 != soa["raw_at"] + 10 + len(rd):
                    errs.append("SOA rdata length does not match its fields")
            except (ValueError, IndexError) as e:
                errs.append(f"SOA rdata: {e}")
                minimum = None
            if soa["ttl"] != ttl or minimum != ttl:
                errs.append(f"SOA TTL {soa['ttl']}, minimum {minimum}, expected {ttl}")
            if soa["class"] != 1:
                errs.append(f"SOA class {soa['class']}")
        if action == "sinkhole" and qtype in (1, 28):
            errs.append("sinkhole: an A/AAAA query answered without the sinkhole address")
    if action == "sinkhole" and qtype in (1, 28):
        want_t, want_a = (1, sink4) if qtype == 1 else (28, sink6)
        if an != 1 or ns != 0:
            errs.append(f"sinkhole: AN {an}, NS {ns}, expected one answer")
        else:
            a = answers[0]
            if a["type"] != want_t or a["class"] != 1 or a["name"] != qname or a["ttl"] != ttl:
                errs.append(f"sinkhole record {a['name']} type {a['type']} class {a['class']} "
                            f"TTL {a['ttl']}, expected {qname} type {want_t} TTL {ttl}")
            if ipaddress.ip_address(a["rdata"]) != ipaddress.ip_address(want_a):
                errs.append(f"sinkhole address {ipaddress.ip_address(a['rdata'])}, "
                            f"expected {want_a}")
    opts = [r for r in add if r["type"] == 41]
    if q_opt is None:
        if ar or opts:
            errs.append("an OPT record in the answer to a query without EDNS")
    elif len(opts) != 1 or ar != 1:
        errs.append(f"the query had EDNS: expected one OPT record, got ARCOUNT {ar}")
    else:
        o = opts[0]
        if o["name"] != "" or o["class"] < 512:
            errs.append(f"OPT owner {o['name']!r} UDP size {o['class']}")
        if (o["ttl"] >> 16) & 0xFF != 0 or (o["ttl"] >> 24) & 0xFF != 0:
            errs.append(f"OPT extended rcode/version {o['ttl']:#010x}")
        if (o["ttl"] & 0x8000) != (q_opt["ttl"] & 0x8000):
            errs.append("OPT DO bit not the query's")
        rd, ede = o["rdata"], []
        k = 0
        while k + 4 <= len(rd):
            code, ln = int.from_bytes(rd[k:k + 2], "big"), int.from_bytes(rd[k + 2:k + 4], "big")
            if code == 15:
                ede.append(int.from_bytes(rd[k + 4:k + 6], "big") if ln >= 2 else None)
            k += 4 + ln
        if k != len(rd):
            errs.append("OPT options do not fill its rdata")
        if ede != [15]:
            errs.append(f"EDE options {ede}, expected one with INFO-CODE 15 (Blocked)")
    return errs


def check_rst(rst, seg):
    errs = []
    ql3, al3 = l3(seg), l3(rst)
    if (al3.src, al3.dst) != (ql3.dst, ql3.src):
        errs.append(f"addresses {al3.src} -> {al3.dst}, segment {ql3.src} -> {ql3.dst}")
    if (rst[TCP].sport, rst[TCP].dport) != (seg[TCP].dport, seg[TCP].sport):
        errs.append("ports not swapped")
    if rst[TCP].seq != seg[TCP].ack:
        errs.append(f"RST sequence number {rst[TCP].seq}, the segment acknowledged "
                    f"{seg[TCP].ack} (RFC 9293 3.10.7.3: outside the window, ignored)")
    if rst[TCP].flags.A:
        end = seg[TCP].seq + len(bytes(seg[TCP].payload))
        if rst[TCP].ack not in (end & 0xFFFFFFFF, seg[TCP].seq):
            errs.append(f"RST acknowledgement {rst[TCP].ack}, segment ends at {end}")
    if bytes(rst[TCP].payload).rstrip(b"\0"):
        errs.append("data in the RST")
    checksums_ok(rst, errs)
    return errs


def main():
    a = sys.argv[1:]
    if len(a) < 2 or a[1] not in RCODE:
        sys.exit("usage: check_answers.py CAPTURE nxdomain|refused|sinkhole [--ttl N] "
                 "[--sinkhole4 A] [--sinkhole6 A] [--expect N]")
    cap, action = a[0], a[1]
    opts = dict(zip(a[2::2], a[3::2]))
    ttl = int(opts.get("--ttl", 10))
    sink4, sink6 = opts.get("--sinkhole4"), opts.get("--sinkhole6")
    queries, segs, n = {}, {}, 0
    for i, p in enumerate(PcapReader(cap), 1):
        if Ether not in p or (IP not in p and IPv6 not in p):
            continue
        if UDP in p and DNS in p:
            msg = bytes(p[UDP].payload)
            if len(msg) < 12:
                continue
            key = (l3(p).src, p[UDP].sport, l3(p).dst, p[UDP].dport, msg[0:2])
            if not msg[2] & 0x80:
                queries[key] = p
                continue
            try:
                name, _ = read_name(msg, 12)
            except (ValueError, IndexError):
                name = ""
            if not blocked(name):
                continue
            n += 1
            q = queries.get((l3(p).dst, p[UDP].dport, l3(p).src, p[UDP].sport, msg[0:2]))
            desc = f"frame {i}: {action} answer for {name} (IPv{4 if IP in p else 6})"
            if q is None:
                out(False, desc, ["no query for it in the capture"])
                continue
            out_errs = check_dns(p, q, action, ttl, sink4, sink6)
            out(not out_errs, desc + " is right, byte for byte", out_errs)
        elif TCP in p:
            t = p[TCP]
            key = (l3(p).src, t.sport, l3(p).dst, t.dport)
            if len(bytes(t.payload)) and not t.flags.R:
                segs[key] = p
            if not t.flags.R:
                continue
            seg = segs.get((l3(p).dst, t.dport, l3(p).src, t.sport))
            if seg is None:
                continue  # a reset with no client data before it: not the guard's
            n += 1
            errs = check_rst(p, seg)
            out(not errs, f"frame {i}: TCP reset {l3(p).src}:{t.sport} -> {l3(p).dst}:"
                f"{t.dport} answers the client's segment", errs)
    expect = int(opts["--expect"]) if "--expect" in opts else None
    out(n > 0 and (expect is None or n == expect),
        f"{cap.rsplit('/', 1)[-1]}: {n} forged answers checked"
        + (f" (expected {expect})" if expect is not None else ""))


if __name__ == "__main__":
    main()
