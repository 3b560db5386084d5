#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `bpfguard replay` and `bpfguard bench` end to end (needs root; no network: BPF_PROG_TEST_RUN
# only). Scapy writes a capture of IPv4/IPv6 frames (blocked, allowed, source-blocked, not IP,
# truncated, VLAN, fragments, a bad header); replay must print exactly the expected line for
# each, the same for the file converted by editcap to pcapng and to nanosecond pcap, and from
# standard input. Then the exit codes: a cut capture (1, the lines before it), a non-Ethernet
# capture, a missing file, a bad --at / --client-side, a bad config (2). Groups and schedules:
# a capture replayed --at school time, lunch and a Saturday, and check --client IP/MAC --at.
# Last, `bench --quick`:
# the JSON shape DESIGN.md promises and sane numbers.

# The jq programs are single-quoted on purpose: $n and $m in them are jq variables.
# shellcheck disable=SC2016

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
for tool in editcap tshark setpriv; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps' (tshark, util-linux)"
done

D="$E2E_TMP/replay"
mkdir -p "$D"

cat >"$D/blocked.txt" <<'EOF'
# e2e replay: blocked documentation prefixes, and a name (the capture has no query for it)
203.0.113.0/24
2001:db8:3::/64
0.0.0.0 adult.example
EOF
cat >"$D/allowed.txt" <<'EOF'
203.0.113.128/25
2001:db8:3::20
EOF
cat >"$D/sources.txt" <<'EOF'
198.18.0.0/15
EOF
cat >"$D/guard.conf" <<'EOF'
[guard]
interfaces = none

[list blocked]
path = blocked.txt
category = adult
action = block

[list allowed]
path = allowed.txt
category = adult
action = allow

[list bad-sources]
path = sources.txt
category = malware
action = block
direction = source
EOF

# The frames, in order, and what replay must say about each.
cat >"$D/gen.py" <<'EOF'
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, ARP, Dot1Q, Raw, raw, wrpcap

C4, C6 = "192.0.2.2", "2001:db8:1::2"
frames = [
    Ether() / IP(src=C4, dst="203.0.113.10") / TCP(dport=443, flags="S"),
    Ether() / IP(src=C4, dst="198.51.100.2") / UDP(dport=53),
    Ether() / IPv6(src=C6, dst="2001:db8:3::10") / TCP(dport=443, flags="S"),
    Ether() / IPv6(src=C6, dst="2001:db8:2::2") / UDP(dport=53),
    Ether() / ARP(psrc=C4, pdst="192.0.2.1"),
    Raw(raw(Ether() / IP(src=C4, dst="203.0.113.10") / TCP())[:30]),  # cut in the IP header
    Ether() / IP(src=C4, dst="203.0.113.130") / TCP(dport=80),
    Ether() / IP(src="198.18.0.5", dst="198.51.100.2") / UDP(dport=53),
    Ether() / Dot1Q(vlan=5) / IP(src=C4, dst="203.0.113.20") / UDP(dport=53),
    Ether() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(src=C4, dst="203.0.113.20"),
    Ether() / IPv6(src=C6, dst="2001:db8:3::20") / TCP(dport=443),
    Ether() / IP(src=C4, dst="203.0.113.10", frag=100, proto=6) / Raw(b"x" * 40),
    Ether() / IP(src=C4, dst="203.0.113.10", ihl=4) / TCP(),
    Ether() / IP(src=C4, dst="203.0.113.10") / UDP() / Raw(b"j" * 8000),
]
wrpcap(sys.argv[1], frames)
# a capture of raw IP packets: link type 101 (or 228), not Ethernet
wrpcap(sys.argv[2], [IP(src=C4, dst="203.0.113.10") / UDP()])
EOF
cat >"$D/want.txt" <<'EOF'
1	drop	drop_ip_dst	blocked:203.0.113.0/24
2	pass	pass_nomatch	-
3	drop	drop_ip_dst	blocked:2001:db8:3::/64
4	pass	pass_nomatch	-
5	pass	pass_not_ip	-
6	pass	pass_truncated	-
7	pass	pass_allow	allowed:203.0.113.128/25
8	drop	drop_ip_src	bad-sources:198.18.0.0/15
9	drop	drop_ip_dst	blocked:203.0.113.0/24
10	pass	pass_vlan_depth	-
11	pass	pass_allow	allowed:2001:db8:3::20
12	drop	drop_ip_dst	blocked:203.0.113.0/24
13	pass	pass_bad_header	-
14	drop	drop_ip_dst	blocked:203.0.113.0/24
EOF
N_WANT=$(wc -l <"$D/want.txt")

if ! out=$("$PY" "$D/gen.py" "$D/mix.pcap" "$D/rawip.pcap" 2>&1); then
	bail "scapy writes the captures" "$out"
fi
ok "scapy wrote the captures"

# write_capture NAME: gen-NAME.py writes NAME.pcap (scapy), one test line.
write_capture() {
	local out
	if out=$("$PY" "$D/gen-$1.py" "$D/$1.pcap" 2>&1); then
		ok "scapy wrote the $1 capture"
	else
		not_ok "scapy wrote the $1 capture" "$out"
	fi
}

# same_as_want DESC FILE: the replay output in FILE equals want.txt, line for line.
same_as_want() {
	local d
	if d=$(diff -u "$D/want.txt" "$2"); then
		ok "$1"
	else
		not_ok "$1" "replay output differs from the expected lines:" "$d"
	fi
}

# --- every frame, exactly -----------------------------------------------------------------

"$BPFGUARD" replay -c "$D/guard.conf" "$D/mix.pcap" >"$D/out.txt" 2>"$D/err.txt"
assert_eq 0 "$?" "replay of a good capture exits 0"
same_as_want "replay: one exact line per frame (pcap, microseconds)" "$D/out.txt"
assert_eq "$N_WANT" "$(tshark -r "$D/mix.pcap" 2>/dev/null | wc -l)" \
	"tshark counts as many frames as replay prints"
assert_eq "" "$(cat "$D/err.txt")" "replay of a good capture prints no warning"

editcap -F pcapng "$D/mix.pcap" "$D/mix.pcapng" >/dev/null 2>&1 ||
	not_ok "editcap converts to pcapng"
"$BPFGUARD" replay -c "$D/guard.conf" "$D/mix.pcapng" >"$D/out-ng.txt" 2>/dev/null
assert_eq 0 "$?" "replay of the pcapng conversion exits 0"
same_as_want "replay: the same lines from pcapng (written by editcap)" "$D/out-ng.txt"

editcap -F nsecpcap "$D/mix.pcap" "$D/mix-ns.pcap" >/dev/null 2>&1 ||
	not_ok "editcap converts to nanosecond pcap"
"$BPFGUARD" replay -c "$D/guard.conf" "$D/mix-ns.pcap" >"$D/out-ns.txt" 2>/dev/null
same_as_want "replay: the same lines from nanosecond pcap" "$D/out-ns.txt"

"$BPFGUARD" replay -c "$D/guard.conf" - <"$D/mix.pcapng" >"$D/out-stdin.txt" 2>/dev/null
same_as_want "replay: the same lines from standard input (-)" "$D/out-stdin.txt"

"$BPFGUARD" replay -c "$D/guard.conf" "$D/mix.pcap" --client-side 192.0.2.0/24,2001:db8:1::/64 \
	--at 2026-09-01T10:30 >"$D/out-opts.txt" 2>/dev/null
assert_eq 0 "$?" "replay accepts --client-side and --at"
same_as_want "replay: --client-side and --at do not change IP verdicts" "$D/out-opts.txt"

# --- groups and schedules: replay --at and check --at ------------------------------------

cat >"$D/games.txt" <<'EOF'
198.51.100.0/24
games.example
EOF
cat >"$D/groups.conf" <<'EOF'
[guard]
interfaces = none

[list blocked]
path = blocked.txt
category = adult

[list games]
path = games.txt
category = games

[schedule school]
timezone = UTC
mon-fri = 08:00-12:00, 13:30-16:30

[group pupils]
clients = 192.0.2.0/25, 2001:db8:1::/64
block = adult, games@school

[group staff]
macs = 02:00:00:00:00:aa
block = adult
EOF
cat >"$D/gen-groups.py" <<'EOF'
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, DNS, DNSQR, wrpcap
frames = [
    Ether() / IP(src="192.0.2.10", dst="198.51.100.7") / TCP(dport=443, flags="S"),
    Ether() / IP(src="192.0.2.10", dst="192.0.2.1") / UDP(sport=5353, dport=53) /
        DNS(id=7, rd=1, qd=DNSQR(qname="www.games.example", qtype="A")),
    Ether() / IPv6(src="2001:db8:1::10", dst="2001:db8:2::2") / UDP(sport=5353, dport=53) /
        DNS(id=8, rd=1, qd=DNSQR(qname="games.example", qtype="AAAA")),
    Ether(src="02:00:00:00:00:aa") / IP(src="192.0.2.10", dst="198.51.100.7") /
        TCP(dport=443, flags="S"),
    Ether() / IP(src="192.0.2.10", dst="203.0.113.10") / TCP(dport=443, flags="S"),
    Ether() / IP(src="192.0.2.200", dst="198.51.100.7") / TCP(dport=443, flags="S"),
]
wrpcap(sys.argv[1], frames)
EOF
write_capture groups
# Monday 2026-11-30 09:00 UTC is school time; 12:30 is lunch; Saturday is never school.
# Frames: a pupil's SYN to games, a pupil's DNS queries (v4, v6), the same SYN from staff's MAC,
# a pupil's SYN to adult, a SYN to games from a client no group claims (the default group).
cat >"$D/want-school.txt" <<'EOF'
1	drop	drop_ip_dst	games:198.51.100.0/24
2	answer	answer_dns_nxdomain	games:games.example
3	answer	answer_dns_nxdomain	games:games.example
4	pass	pass_category_off	games:198.51.100.0/24
5	drop	drop_ip_dst	blocked:203.0.113.0/24
6	drop	drop_ip_dst	games:198.51.100.0/24
EOF
cat >"$D/want-free.txt" <<'EOF'
1	pass	pass_category_off	games:198.51.100.0/24
2	pass	pass_domain_category_off	games:games.example
3	pass	pass_domain_category_off	games:games.example
4	pass	pass_category_off	games:198.51.100.0/24
5	drop	drop_ip_dst	blocked:203.0.113.0/24
6	drop	drop_ip_dst	games:198.51.100.0/24
EOF
for when in school@2026-11-30T09:00 free@2026-11-30T12:30 free@2026-11-28T09:00; do
	want=${when%%@*}
	at=${when#*@}
	out=$(TZ=UTC "$BPFGUARD" replay -c "$D/groups.conf" "$D/groups.pcap" --at "$at" 2>&1)
	if d=$(diff -u "$D/want-$want.txt" - <<<"$out"); then
		ok "replay --at $at: pupils by address (v4, v6), staff by MAC, the default group"
	else
		not_ok "replay --at $at: the expected verdicts" "$d"
	fi
done
out=$(TZ=UTC "$BPFGUARD" check -c "$D/groups.conf" www.games.example --client 192.0.2.10 \
	--at 2026-11-30T09:00 --json)
assert_true "check --client --at (school): block, group pupils" \
	jq -e '.decision == "block" and .group == "pupils" and .list == "games"' <<<"$out"
out=$(TZ=UTC "$BPFGUARD" check -c "$D/groups.conf" www.games.example --client 192.0.2.10 \
	--at 2026-11-30T12:30 --json)
assert_true "check --client --at (lunch): pass, group pupils" \
	jq -e '.decision == "pass" and .group == "pupils"' <<<"$out"
out=$(TZ=UTC "$BPFGUARD" check -c "$D/groups.conf" 198.51.100.7 --client 02:00:00:00:00:aa \
	--at 2026-11-30T09:00)
assert_match "check --client MAC: the MAC's group" '^pass 198\.51\.100\.7 .*group=staff' "$out"
err=$("$BPFGUARD" check -c "$D/groups.conf" 198.51.100.7 --client pupils 2>&1 >/dev/null)
assert_eq 2 "$?" "check --client with neither an address nor a MAC: exit 2"
assert_match "check --client: says what it takes" "--client 'pupils'.*MAC" "$err"

# --- unexamined = block: names the guard cannot read are blocked, not passed ---------------

cat >"$D/gen-unexamined.py" <<'EOF'
import struct, sys
from scapy.all import Ether, IP, TCP, UDP, Raw, wrpcap

def hello_body(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    exts = struct.pack("!H", len(sni_ext)) + sni_ext
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + exts
    return b"\x01" + struct.pack("!I", len(body))[1:] + body

def records(hs, cut):
    # the handshake message in TLS records of `cut` bytes (one record when cut is None)
    parts = [hs] if cut is None else [hs[i:i + cut] for i in range(0, len(hs), cut)]
    return b"".join(b"\x16\x03\x01" + struct.pack("!H", len(p)) + p for p in parts)

def tls(payload, sport):
    return (Ether() / IP(src="192.0.2.10", dst="198.51.100.7") /
            TCP(sport=sport, dport=443, flags="PA", seq=1000, ack=2000) / Raw(payload))

# a DNS query whose question starts with a compression pointer (no query has one)
dns = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\xc0\x0c" + b"\x00\x01\x00\x01"
frames = [
    tls(records(hello_body("www.example.org"), 1), 40001),  # records of 1 byte: too many
    Ether() / IP(src="192.0.2.10", dst="198.51.100.53") / UDP(sport=5353, dport=53) / Raw(dns),
    tls(records(hello_body("www.example.org"), None), 40002),  # one record: examined
    tls(records(hello_body("a..example.org"), None), 40003),  # an empty label
    tls(records(hello_body("www.adult.example"), 40), 40004),  # records of 40: followed
]
wrpcap(sys.argv[1], frames)
EOF
write_capture unexamined
# tshark reads the names of frames 1, 3 and 5 too: the hellos in records are real ones
sni=$(tshark -r "$D/unexamined.pcap" -Y tls.handshake.extensions_server_name \
	-T fields -e frame.number -e tls.handshake.extensions_server_name 2>/dev/null | tr '\t\n' ': ')
assert_match "tshark: the hellos in several records name their servers too" \
	'1:www\.example\.org .*3:www\.example\.org .*5:www\.adult\.example' "$sni"
cat >"$D/want-unexamined-pass.txt" <<'EOF'
1	pass	pass_tls_unsupported	-
2	pass	pass_dns_malformed	-
3	pass	pass_nomatch	-
4	pass	pass_name_malformed	-
5	answer	reset_sni	blocked:adult.example
EOF
cat >"$D/want-unexamined-block.txt" <<'EOF'
1	answer	reset_unexamined	-
2	drop	drop_unexamined	-
3	pass	pass_nomatch	-
4	answer	reset_unexamined	-
5	answer	reset_sni	blocked:adult.example
EOF
sed 's/^interfaces = none$/interfaces = none\nunexamined = block/' "$D/guard.conf" \
	>"$D/unexamined.conf"
for mode in pass block; do
	conf="$D/guard.conf"
	[ "$mode" = block ] && conf="$D/unexamined.conf"
	out=$("$BPFGUARD" replay -c "$conf" "$D/unexamined.pcap" 2>&1)
	if d=$(diff -u "$D/want-unexamined-$mode.txt" - <<<"$out"); then
		ok "replay, unexamined = $mode: names the guard cannot read are ${mode}ed"
	else
		not_ok "replay, unexamined = $mode: the expected verdicts" "$d"
	fi
done

# --- exit codes ---------------------------------------------------------------------------

size=$(stat -c %s "$D/mix.pcap")
head -c $((size - 100)) "$D/mix.pcap" >"$D/cut.pcap"
"$BPFGUARD" replay -c "$D/guard.conf" "$D/cut.pcap" >"$D/out-cut.txt" 2>"$D/err-cut.txt"
assert_eq 1 "$?" "a capture cut inside its last frame: exit 1"
assert_eq "$(head -n $((N_WANT - 1)) "$D/want.txt")" "$(cat "$D/out-cut.txt")" \
	"a cut capture: the lines of the whole frames before the cut"
assert_match "a cut capture: the error names the byte offset" \
	"cut\.pcap: offset [0-9]+: frame $N_WANT is truncated" "$(cat "$D/err-cut.txt")"

err=$("$BPFGUARD" replay -c "$D/guard.conf" "$D/rawip.pcap" 2>&1 >/dev/null)
assert_eq 2 "$?" "a raw-IP capture: exit 2"
assert_match "a raw-IP capture: the error names the link type" "link type [0-9]+.*Ethernet" \
	"$err"

err=$("$BPFGUARD" replay -c "$D/guard.conf" "$D/missing.pcap" 2>&1 >/dev/null)
assert_eq 2 "$?" "a missing capture: exit 2"
assert_match "a missing capture: the error names the file" "missing\.pcap: cannot open" "$err"

err=$("$BPFGUARD" replay -c "$D/guard.conf" "$D/guard.conf" 2>&1 >/dev/null)
assert_eq 2 "$?" "a file that is no capture: exit 2"
assert_match "a file that is no capture: said so" "not a pcap or pcapng file" "$err"

err=$("$BPFGUARD" replay -c "$D/guard.conf" "$D/mix.pcap" --at 2026-09-01 2>&1 >/dev/null)
assert_eq 2 "$?" "a bad --at: exit 2"
assert_match "a bad --at: the value is quoted with the expected format" \
	"--at '2026-09-01': expected local time as YYYY-MM-DDTHH:MM" "$err"

err=$("$BPFGUARD" replay -c "$D/guard.conf" "$D/mix.pcap" --client-side pupils 2>&1 >/dev/null)
assert_eq 2 "$?" "a bad --client-side: exit 2"
assert_match "a bad --client-side: the value is quoted" "'pupils'" "$err"

sed 's/^action = allow$/action = permit/' "$D/guard.conf" >"$D/bad.conf"
err=$("$BPFGUARD" replay -c "$D/bad.conf" "$D/mix.pcap" 2>&1 >/dev/null)
assert_eq 2 "$?" "a bad config: exit 2"
assert_match "a bad config: file:line of the culprit" "bad\.conf:[0-9]+" "$err"

# --- bench --------------------------------------------------------------------------------

mkdir -p "$D/tmp"
export TMPDIR="$D/tmp" # bench writes its generated lists there
if json=$(timeout 120 "$BPFGUARD" bench --quick --json 2>"$D/err-bench.txt"); then
	ok "bench --quick --json exits 0"
else
	not_ok "bench --quick --json exits 0" "$(tail -n 5 "$D/err-bench.txt")"
fi
assert_true "bench: the output is one JSON object" jq -e 'type == "object"' <<<"$json"
for name in minimal v4-nomatch v6-nomatch v4-prefix-hit v4-prefix-hit-short v6-prefix-hit \
	lpm-v4-nomatch dns-miss dns-miss-restore dns-miss-fresh dns-hit sni-miss sni-hit sni-split \
	sni-split-pair \
	sni-split-first http-host-miss http-host-hit dns-hit-drop sni-hit-drop http-host-hit-drop \
	v4-nomatch-group1 v6-nomatch-group1 dns-miss-group1 v4-nomatch-groups v6-nomatch-groups \
	v4-prefix-hit-groups dns-miss-groups; do
	assert_true "bench: case $name present with ns_per_pkt > 0 and a ratio" \
		jq -e --arg n "$name" '[.cases[] | select(.name == $n)] | length == 1 and
			(.[0].ns_per_pkt > 0) and (.[0].ratio_to_minimal > 0)' <<<"$json"
done
assert_true "bench: minimal's ratio is 1" \
	jq -e '.cases[] | select(.name == "minimal") | .ratio_to_minimal == 1' <<<"$json"
assert_true "bench: every ratio is ns_per_pkt over minimal's" \
	jq -e '(.cases[] | select(.name == "minimal") | .ns_per_pkt) as $m |
		all(.cases[]; ((.ratio_to_minimal - .ns_per_pkt / $m) | fabs) < 0.01)' <<<"$json"
# timed by the clock (the bench's own network namespace: root has it), checked against the
# kernel's whole-ns figure of the same run: never below it; over it by the part rounded off,
# or a little more when the run was preempted (the kernel's timer leaves that out, the clock
# not; far more, tens of ns, if the XDP dispatcher were rebuilt within the timed calls)
assert_true "bench: repeat cases timed by the clock, at or above the kernel's whole ns" \
	jq -e '.params.timing == "clock" and all(.cases[] | select(.method == "repeat");
		.kernel_ns > 0 and .ns_per_pkt >= .kernel_ns - 0.05 and
		.ns_per_pkt < .kernel_ns * 1.5 + 5)' <<<"$json"
assert_true "bench: IP hits drop, name hits are answered (tx), misses pass" \
	jq -e 'all(.cases[]; .verdict == (if (.name | test("^(dns|sni|http)-.*(hit|split|pair)$")) then
		"tx" elif (.name | test("hit")) then "drop" else "pass" end))' <<<"$json"
assert_true "bench: each name case landed in its counter" \
	jq -e '[.cases[] | {(.name): .counter}] | add | .["dns-miss"] == "pass_nomatch" and
		.["dns-hit"] == "answer_dns_nxdomain" and .["sni-hit"] == "reset_sni" and
		.["sni-split"] == "reset_sni" and .["sni-split-pair"] == "reset_sni" and
		.["http-host-hit"] == "reset_http" and
		.["sni-miss"] == "pass_nomatch" and .["http-host-miss"] == "pass_nomatch" and
		.["dns-hit-drop"] == "drop_dns" and .["sni-hit-drop"] == "drop_sni" and
		.["http-host-hit-drop"] == "drop_http"' <<<"$json"
assert_true "bench: rewriting cases are measured through the restore harness (sni-split fresh)" \
	jq -e '(.cases | map(select(.verdict == "tx")) |
		all(.method == (if (.name | test("^sni-split")) then "fresh" else "restore" end))) and
		.params.fresh_calls > 0 and .params.fresh_overhead_ns >= 0 and
		.params.restore_overhead_ns > 0' <<<"$json"
# restore and fresh subtract their own cost measured with each case's frame (the minimal
# program through the same method): a number for those cases, none for repeat
assert_true "bench: restore and fresh cases carry the overhead measured with their own frame" \
	jq -e 'all(.cases[]; if .method == "repeat" then .overhead_ns == null
		else (.overhead_ns | type) == "number" and .overhead_ns >= 0 end)' <<<"$json"
# the restore method measures what repeat does: the same miss both ways, within 25 %
assert_true "bench: dns-miss-restore agrees with dns-miss" \
	jq -e '[.cases[] | {(.name): .ns_per_pkt}] | add | .["dns-miss-restore"] as $r |
		.["dns-miss"] as $m | ($r - $m | fabs) <= ($m * 0.25 + 2)' <<<"$json"
assert_true "bench: names load and memory (quick: 100000 names)" \
	jq -e '.load.names == 100000 and .load.distinct_names > 99000 and
		.load.load_names_gz_s > 0 and .load.load_1m_names_gz_s == null and
		.memory.names_bytes > 0 and .memory.bytes_per_name > 0 and
		.memory.maps.dom_table > 0' <<<"$json"
assert_true "bench: load section (quick sizes, times > 0)" \
	jq -e '.load.v4_prefixes == 100000 and .load.v6_prefixes == 10000 and
		.load.load_v4_gz_s > 0 and .load.load_all_gz_s > 0 and .load.fill_s > 0 and
		.load.load_1m_v4_gz_s == null' <<<"$json"
assert_true "bench: memory section (maps' memlock, per prefix)" \
	jq -e '.memory.maps_bytes > 0 and .memory.bytes_per_prefix > 0 and
		.memory.maps.v4_table > 0 and .memory.lpm_v4_bytes > 0' <<<"$json"

if text=$(timeout 60 "$BPFGUARD" bench --quick --v4 5000 --v6 500 2>/dev/null); then
	assert_match "bench (text): a table with the minimal row" \
		$'case +ns/pkt +ratio +verdict +method +counter\nminimal +[0-9]+\\.[0-9] +1\\.00 +pass +repeat' \
		"$text"
	assert_match "bench (text): --v4/--v6 sizes are used" "5000 IPv4 \\+ 500 IPv6" "$text"
else
	not_ok "bench --quick --v4 5000 --v6 500 exits 0"
fi
if text=$(timeout 60 "$BPFGUARD" bench --quick --v4 500 --v6 50 --case dns-hit,sni-miss 2>/dev/null); then
	assert_eq "minimal dns-hit sni-miss" "$(awk 'NR > 1 && $2 ~ /^[0-9]+[.][0-9]$/ && $3 ~ /^[0-9]+[.][0-9]+$/ { printf "%s%s", s, $1; s = " " }' <<<"$text")" \
		"bench --case: only the named cases and the baseline"
	assert_match "bench --case: dns-hit answered through the restore harness" \
		'dns-hit +[0-9]+\.[0-9] +[0-9.]+ +tx +restore +answer_dns_nxdomain' "$text"
else
	not_ok "bench --quick --case dns-hit,sni-miss exits 0"
fi
# without CAP_SYS_ADMIN (no namespace of its own): the kernel's whole ns, and it says so
if json=$(timeout 60 setpriv --bounding-set -sys_admin --inh-caps -sys_admin "$BPFGUARD" bench \
	--quick --v4 500 --v6 50 --case dns-miss --json 2>"$D/err-bench-kernel.txt"); then
	assert_true "bench without CAP_SYS_ADMIN: the kernel's figures, whole ns" \
		jq -e '.params.timing == "kernel" and all(.cases[]; .ns_per_pkt == .kernel_ns)' \
		<<<"$json"
	assert_match "bench without CAP_SYS_ADMIN: says why the times are coarser" \
		"cannot make a network namespace of its own .*whole ns rounded down" \
		"$(cat "$D/err-bench-kernel.txt")"
else
	not_ok "bench without CAP_SYS_ADMIN exits 0" "$(tail -n 3 "$D/err-bench-kernel.txt")"
fi
out=$(timeout 60 "$BPFGUARD" bench --quick --v4 500 --v6 50 --case nosuch 2>&1)
assert_eq "2" "$?" "bench --case with an unknown case exits 2"
assert_match "bench --case: an unknown case is named" "no case 'nosuch'" "$out"
out=$(timeout 60 "$BPFGUARD" bench --quick --case '' 2>&1)
assert_eq "2" "$?" "bench --case '' exits 2"
assert_match "bench --case '': says what it needs" "needs case names" "$out"
assert_eq "" "$(ls -A "$D/tmp")" "bench leaves nothing behind in \$TMPDIR"
unset TMPDIR

e2e_finish
