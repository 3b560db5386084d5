#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The DNS response parser the guard learns addresses with (bpf/lib/dnsresp.h), checked against
# tshark: tests/tools/extract_answers (built here from the guard's parser headers) prints, for
# every DNS response in a capture, the question and the A/AAAA records of class IN it would
# learn, with their TTLs; tshark's dns.qry.name, dns.a, dns.aaaa and the per-record
# dns.resp.type / class / ttl of the answer section must say the same, frame by frame.
#  1. A generated capture: 400 random responses over IPv4 and IPv6 (A, AAAA, CNAME chains, MX,
#     TXT, class CH records, owners as pointers, labels or the root, TTLs 0 to 2^32 - 1, 0x20
#     case), and responses nothing is learned from (NXDOMAIN, NODATA, a query).
#  2. A capture of real answers: dig A/AAAA/ANY against dnsmasq (addresses, CNAME chains,
#     several addresses per name), over IPv4 and IPv6.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
for tool in tshark dumpcap dig dnsmasq cc; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done
D="$E2E_TMP/answers"
mkdir -p "$D"
XA="$D/extract_answers"

if out=$(cd "$E2E_ROOT" && cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-o "$XA" tests/tools/extract_answers.c user/pcap.c 2>&1); then
	ok "extract_answers builds from bpf/lib/dnsresp.h and user/pcap.c"
else
	bail "extract_answers builds from bpf/lib/dnsresp.h and user/pcap.c" "$out"
fi

# --- the generated capture ----------------------------------------------------------------
"$PY" - "$D/gen.pcap" <<'PYEOF' || bail "the generator writes gen.pcap"
import random, struct, sys

rnd = random.Random(4)

def name(n):
    if n in ("", "."):
        return b"\0"
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"

def rr(owner, typ, cls, ttl, data):
    return owner + struct.pack(">HHIH", typ, cls, ttl, len(data)) + data

def rname():
    labels = ["www", "cdn", "Games", "edge", "a", "x-1", "LONG" * 10, "q"]
    return ".".join(rnd.choice(labels) for _ in range(rnd.randint(1, 5))) + ".test"

def ttl():
    return rnd.choice([0, 1, 30, 300, 86400, 0x7fffffff, 0x80000000, 0xffffffff,
                       rnd.randrange(1 << 32)])

def response(qname, qtype, answers, rcode=0, qr=True, extra=b"", nextra=0):
    flags = (0x8000 if qr else 0) | 0x0180 | rcode
    h = struct.pack(">HHHHHH", rnd.randrange(65536), flags, 1, len(answers), 0, nextra)
    return h + name(qname) + struct.pack(">HH", qtype, 1) + b"".join(answers) + extra

def random_response():
    q = rname()
    answers = []
    owners = [b"\xc0\x0c"]
    for _ in range(rnd.randint(1, 16)):
        owner = rnd.choice(owners + [name(rname()), b"\0"])
        k = rnd.randrange(10)
        if k < 4:
            answers.append(rr(owner, 1, 1, ttl(), bytes(rnd.randrange(256) for _ in range(4))))
        elif k < 7:
            answers.append(rr(owner, 28, 1, ttl(),
                              b"\x20\x01\x0d\xb8" + bytes(rnd.randrange(256) for _ in range(12))))
        elif k == 7:
            target = rname()
            answers.append(rr(owner, 5, 1, ttl(), name(target)))
        elif k == 8:
            answers.append(rr(owner, 15, 1, ttl(), b"\0\x0a" + name(rname())))
        else:
            txt = bytes([rnd.randrange(40)]) 
            txt += bytes(0x61 + rnd.randrange(26) for _ in range(txt[0]))
            answers.append(rr(owner, 16, rnd.choice([1, 3]), ttl(), txt))
    extra = b""
    nextra = 0
    if rnd.random() < 0.3:  # glue in the additional section: not an answer
        extra = rr(b"\xc0\x0c", 1, 1, 60, b"\xc6\x33\x64\x63")
        nextra = 1
    return response(q, rnd.choice([1, 28, 255]), answers, extra=extra, nextra=nextra)

def frame(msg, v6):
    udp = struct.pack(">HHHH", 53, 40000 + rnd.randrange(1000), 8 + len(msg), 0) + msg
    if v6:
        ip = struct.pack(">IHBB", 0x60000000, len(udp), 17, 64) + \
            bytes.fromhex("20010db8000300000000000000000010") + \
            bytes.fromhex("20010db8000100000000000000000002")
        et = 0x86dd
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         bytes([203, 0, 113, 10]), bytes([192, 0, 2, 2]))
        et = 0x0800
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + struct.pack(">H", et) + ip + udp

msgs = [random_response() for _ in range(400)]
msgs.append(response("nx.test", 1, [], rcode=3))
msgs.append(response("nodata.test", 28, []))
msgs.append(response("query.test", 1, [], qr=False))
msgs.append(response("Mixed.CASE.test", 1, [rr(b"\xc0\x0c", 1, 1, 5, b"\xcb\0\x71\x05")]))
msgs.append(response(".", 1, [rr(b"\0", 1, 1, 7, b"\xcb\0\x71\x06")]))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, m in enumerate(msgs):
        fr = frame(m, i % 3 == 0)
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)
PYEOF
ok "the generator writes gen.pcap (405 responses)"

# compare FILE LABEL: extract_answers against tshark, one result for the learned frames and
# one for the frames nothing is learned from.
compare() {
	local file=$1 label=$2 ours theirs out
	ours="$D/$label.ours"
	theirs="$D/$label.tshark"
	"$XA" -a "$file" >"$ours" 2>"$ours.err" || {
		not_ok "$label: extract_answers reads the capture" "$(cat "$ours.err")"
		return
	}
	tshark -r "$file" -n -Y 'udp.srcport == 53' -T fields -E separator=/t -E occurrence=a \
		-E aggregator=, -e frame.number -e dns.flags.response -e dns.flags.opcode \
		-e dns.flags.rcode -e dns.count.queries -e dns.count.answers -e dns.qry.name \
		-e dns.resp.type -e dns.resp.class -e dns.resp.ttl -e dns.a -e dns.aaaa \
		>"$theirs" 2>"$theirs.err" || {
		not_ok "$label: tshark reads the capture" "$(cat "$theirs.err")"
		return
	}
	out=$("$PY" - "$ours" "$theirs" <<'PYEOF'
import sys

ours = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    ours[f[0]] = f[1:]
learned = skipped = 0
bad = []
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    f += [""] * (12 - len(f))
    num, resp, opcode, rcode, qd, an, qname, types, classes, ttls, a, aaaa = f[:12]
    walkable = resp in ("1", "True") and opcode == "0" and rcode == "0" and qd == "1" and \
        an not in ("", "0")
    if not walkable:
        skipped += 1
        if num in ours and not ours[num][0].startswith("!"):
            bad.append("frame %s: tshark sees nothing to learn, ours: %s" % (num, ours[num]))
        continue
    n = int(an)
    types, classes, ttls = types.split(","), classes.split(","), ttls.split(",")
    a, aaaa = [x for x in a.split(",") if x], [x for x in aaaa.split(",") if x]
    want = []
    for t, c, ttl in zip(types[:n], classes[:n], ttls[:n]):
        ttl = int(ttl, 0)
        if ttl < 0 or ttl >= 1 << 31:
            ttl = 0
        if t == "1":
            addr = a.pop(0)
        elif t == "28":
            addr = aaaa.pop(0)
        else:
            continue
        if int(c, 0) == 1:
            want.append("%s/%d" % (addr, ttl))
    qname = "" if qname == "<Root>" else qname.lower()
    expect = [qname, ",".join(want) or "-"]
    learned += 1
    if ours.get(num) != expect:
        bad.append("frame %s: tshark %s, ours %s" % (num, expect, ours.get(num)))
print("%d %d" % (learned, skipped))
for b in bad[:10]:
    print(b)
PYEOF
)
	read -r nl ns <<<"$(head -n 1 <<<"$out")"
	if [[ "$(wc -l <<<"$out")" == 1 && "$nl" -gt 0 ]]; then
		ok "$label: $nl responses: the question and every A/AAAA record with its TTL agree with tshark ($ns with nothing to learn)"
	else
		not_ok "$label: every response agrees with tshark" "$out"
	fi
}

compare "$D/gen.pcap" generated
n=$(grep -c $'\t!' "$D/generated.ours")
assert_eq 3 "$n" "generated: NXDOMAIN, NODATA and the query are reported, not walked"

# --- real answers from dnsmasq ------------------------------------------------------------
make_topology || bail "three namespaces with veth links and routes"
C=$NS_CLIENT
offload_off "$C" eth0 || bail "offloads off on the client's link"
dnsmasq_start "$NS_SERVER" "$D/dnsmasq.log" --listen-address=203.0.113.10 \
	--listen-address=2001:db8:3::10 --local-ttl=300 \
	--address=/games.test/203.0.113.20 --address=/games.test/2001:db8:3::20 \
	--host-record=multi.test,203.0.113.21,2001:db8:3::21 --host-record=multi.test,203.0.113.22 \
	--cname=alias.test,other.test --cname=other.test,multi.test ||
	bail "dnsmasq in the server namespace"
capture_start "$C" eth0 "$D/real.pcap" || bail "dumpcap on the client's link"
for srv in 203.0.113.10 2001:db8:3::10; do
	for q in "A www.games.test" "AAAA www.Games.test" "A multi.test" "AAAA multi.test" \
		"A alias.test" "ANY multi.test" "A nx.invalid" "MX games.test"; do
		# shellcheck disable=SC2086
		in_ns "$C" timeout 5 dig +time=1 +tries=1 "@$srv" $q >/dev/null 2>&1
	done
done
capture_stop
compare "$D/real.pcap" real
assert_match "real: the CNAME chain's addresses belong to the question" \
	$'\talias\\.test\t203\\.0\\.113\\.2[12]/300,203\\.0\\.113\\.2[12]/300' "$(cat "$D/real.ours")"

e2e_finish
