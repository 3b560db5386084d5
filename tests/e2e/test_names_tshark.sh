#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The names the guard reads (issue 3), checked against tshark and through `bpfguard replay`:
#  1. tests/data/l7/gen_pcaps.py writes captures of DNS queries, TLS ClientHellos (one
#     segment, split in 2 to 6 segments, the SNI straddling boundaries, ECH, interleaved
#     flows, a retransmission, a gap) and HTTP requests, with what is expected of each frame.
#  2. Real programs are captured in namespaces (dig over UDP and TCP, v4 and v6, against
#     dnsmasq; openssl s_client and curl against openssl s_server; curl against a Python
#     http.server), once as they are and once with the server announcing an MSS of 100, so
#     that every real ClientHello spans several segments (offloads are off on the client's
#     link: a veth would otherwise carry one large GSO packet).
#  3. tests/tools/extract_names (built here from the guard's own parser headers) prints the
#     name of every frame; it must be what the generator says, and what tshark finds
#     (tests/tools/l7_compare.py says how tshark's fields are normalised: case, ports, the
#     frame a reassembled ClientHello is reported on).
#  4. `bpfguard replay` gives every frame the expected verdict under dns_action = nxdomain,
#     refused, sinkhole and drop (tcp_action reset, or drop).
# OpenSSL 3.0 cannot offer X25519MLKEM768: the post-quantum-sized ClientHello is the
# generator's (a 1,216-byte key share before the SNI, cut at MSS 1448).

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
for tool in tshark dumpcap dig dnsmasq openssl cc; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done

D="$E2E_TMP/l7"
mkdir -p "$D"
XN="$D/extract_names"
CMP=("$PY" "$E2E_ROOT/tests/tools/l7_compare.py")

# --- the host tool, from the guard's parser headers --------------------------------------
if out=$(cd "$E2E_ROOT" && cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-o "$XN" tests/tools/extract_names.c user/pcap.c 2>&1); then
	ok "extract_names builds from bpf/lib/{dns,tls,http,name}.h and user/pcap.c"
else
	bail "extract_names builds from bpf/lib/{dns,tls,http,name}.h and user/pcap.c" "$out"
fi

# --- the generated captures ---------------------------------------------------------------
if out=$("$PY" "$E2E_ROOT/tests/data/l7/gen_pcaps.py" "$D" 2>&1); then
	ok "gen_pcaps.py writes dns.pcap, tls.pcap, http.pcap and expected.tsv"
else
	bail "gen_pcaps.py writes dns.pcap, tls.pcap, http.pcap and expected.tsv" "$out"
fi

# --- configs: one per action pair ---------------------------------------------------------
printf '%s\n' "# issue 3 tests: blocked subtrees" blocked.test "bücher.test" long.test a.b \
	>"$D/block.txt"
printf '%s\n' "# issue 3 tests: allowed inside a blocked subtree" ok.blocked.test >"$D/allow.txt"
# write_conf MODE DNS_ACTION TCP_ACTION [KEY LINES...]
write_conf() {
	local mode=$1 dns=$2 tcp=$3 line
	shift 3
	{
		printf '[guard]\ninterfaces = none\ndns_action = %s\ntcp_action = %s\n' "$dns" "$tcp"
		for line in "$@"; do
			echo "$line"
		done
		printf '\n[list l7-block]\npath = block.txt\ncategory = adult\naction = block\n'
		printf '\n[list l7-allow]\npath = allow.txt\ncategory = adult\naction = allow\n'
	} >"$D/$mode.conf"
}
write_conf nxdomain nxdomain reset
write_conf refused refused reset
write_conf sinkhole sinkhole drop "sinkhole4 = 198.51.100.250" "sinkhole6 = 2001:db8:2::250"
write_conf drop drop drop

# check: the decisions the replay expectations rest on.
for pair in www.BLOCKED.test:block blocked.test:block ok.blocked.test:allow \
	x.ok.blocked.test:allow notblocked.test:pass www.xn--bcher-kva.test:block \
	"$(printf 'a.%.0s' {1..126})b:block" www.allowed.test:pass; do
	name=${pair%:*}
	want=${pair##*:}
	out=$(timeout 30 "$BPFGUARD" check -c "$D/nxdomain.conf" "$name" 2>&1)
	read -r first _ <<<"$out"
	assert_eq "$want" "${first:-}" "check ${name:0:40}: $want"
done

# tshark_fields FILE: the fields l7_compare.py reads.
tshark_fields() {
	timeout 60 tshark -r "$1" -n -d tcp.port==8443,tls -T fields -E separator=/t \
		-E occurrence=a -E aggregator=, -e frame.number -e tcp.stream -e dns.flags.response \
		-e dns.qry.name -e tls.handshake.extensions_server_name -e http.request \
		-e http.host -e http.request.uri 2>"$1.tshark.err"
}

# report: turn l7_compare.py's PASS/FAIL/# lines into TAP. Fed by process substitution, not a
# pipe: in a pipeline it would count in a subshell.
report() {
	local kind desc why last=""
	while IFS=$'\t' read -r kind desc why; do
		case "$kind" in
		PASS) ok "$desc" ;;
		SKIP) T_NUM=$((T_NUM + 1)) && printf 'ok %d - %s # SKIP %s\n' "$T_NUM" "$desc" "$why" ;;
		FAIL) not_ok "$desc" ;;
		"#") diag "  $desc${why:+	$why}" ;;
		*) not_ok "l7_compare.py printed an unexpected line" "$kind $desc" ;;
		esac
		last=$kind
	done
	[[ -n "$last" ]] || not_ok "l7_compare.py printed results"
}

# compare_file FILE: extract_names vs the generator, vs tshark; replay in every mode.
compare_file() {
	local f=$1 p="$D/$1" mode t0 t1
	if ! timeout 30 "$XN" -a -e "$p" >"$p.ours" 2>"$p.ours.err"; then
		not_ok "$f: extract_names reads the capture" "$(cat "$p.ours.err")"
		return
	fi
	if ! tshark_fields "$p" >"$p.tshark"; then
		not_ok "$f: tshark reads the capture" "$(cat "$p.tshark.err")"
		return
	fi
	report < <("${CMP[@]}" ours "$D/expected.tsv" "$f" "$p.ours")
	report < <("${CMP[@]}" diff "$D/expected.tsv" "$f" "$p.ours" "$p.tshark")
	for mode in nxdomain refused sinkhole drop; do
		t0=$(date +%s%N)
		if ! timeout 60 "$BPFGUARD" replay -c "$D/$mode.conf" "$p" >"$p.$mode.replay" \
			2>"$p.$mode.err"; then
			not_ok "$f [$mode]: bpfguard replay exits 0" "$(tail -n 20 "$p.$mode.err")"
			continue
		fi
		t1=$(date +%s%N)
		diag "$f [$mode]: replay took $(((t1 - t0) / 1000000)) ms"
		report < <("${CMP[@]}" replay "$D/expected.tsv" "$f" "$p.$mode.replay" "$mode")
	done
}

diag "=== generated captures"
for f in dns.pcap tls.pcap http.pcap; do
	compare_file "$f"
done

# ECH: tshark sees extension 0xfe0d where extract_names -e says "ech" (before the SNI) and
# in the hello where it comes after the SNI (the walk stops at the SNI: no note there).
ech_t=$(tshark -r "$D/tls.pcap" -n -Y 'tls.handshake.extension.type == 0xfe0d' \
	-T fields -e tls.handshake.extensions_server_name 2>/dev/null | sort | tr '\n' ' ')
assert_eq "echafter.blocked.test echouter.blocked.test " "$ech_t" \
	"tls.pcap: tshark sees ECH (0xfe0d) in the two ECH hellos"
ech_o=$(awk -F'\t' '$2 == "sni" && $4 == "ech" { print $3 }' "$D/tls.pcap.ours" | tr '\n' ' ')
assert_eq "echouter.blocked.test " "$ech_o" \
	"tls.pcap: extract_names flags ECH where it comes before the SNI"

# --- captures of real programs ------------------------------------------------------------
diag "=== real programs, captured"
make_topology || bail "three namespaces with veth links and routes"
C=$NS_CLIENT
S=$NS_SERVER
offload_off "$C" eth0 || bail "offloads off on the client's link"
make_cert "$D" || bail "openssl makes a self-signed certificate"
tls_server_start "$S" 443 "$D" || bail "openssl s_server in the server namespace"
http_server_start "$S" 8080 || bail "python http.server in the server namespace"
dnsmasq_start "$S" "$D/dnsmasq.log" --listen-address=203.0.113.10 \
	--listen-address=2001:db8:3::10 --address=/blocked.test/203.0.113.20 \
	--address=/blocked.test/2001:db8:3::20 --address=/allowed.test/203.0.113.20 \
	--address=/allowed.test/2001:db8:3::20 || bail "dnsmasq in the server namespace"
ok "servers: dnsmasq, openssl s_server, http.server"

# clients LABEL: the real clients, every one bounded.
clients() {
	local t=(timeout 10 nsenter --net="/run/netns/$C")
	"${t[@]}" dig +time=2 +tries=1 @203.0.113.10 A www.blocked.test
	"${t[@]}" dig +time=2 +tries=1 @2001:db8:3::10 AAAA Mixed.Blocked.TEST
	"${t[@]}" dig +time=2 +tries=1 @203.0.113.10 HTTPS svc.blocked.test
	"${t[@]}" dig +time=2 +tries=1 +noedns @203.0.113.10 A www.allowed.test
	"${t[@]}" dig +time=2 +tries=1 +tcp @203.0.113.10 A tcp.blocked.test
	"${t[@]}" dig +time=2 +tries=1 +tcp @2001:db8:3::10 AAAA www.allowed.test
	"${t[@]}" openssl s_client -connect 203.0.113.20:443 -servername openssl.blocked.test \
		</dev/null
	"${t[@]}" openssl s_client -connect '[2001:db8:3::20]:443' -servername www.allowed.test \
		</dev/null
	"${t[@]}" curl -sk --resolve curl.blocked.test:443:203.0.113.20 \
		https://curl.blocked.test/ -o /dev/null
	"${t[@]}" curl -sk --resolve curl6.blocked.test:443:2001:db8:3::20 \
		https://curl6.blocked.test/ -o /dev/null
	"${t[@]}" curl -sk --resolve www.allowed.test:443:203.0.113.20 \
		https://www.allowed.test/ -o /dev/null
	"${t[@]}" curl -s --resolve www.blocked.test:8080:203.0.113.20 \
		http://www.blocked.test:8080/probe -o /dev/null
	"${t[@]}" curl -s -6 --resolve ok.blocked.test:8080:2001:db8:3::20 \
		http://ok.blocked.test:8080/probe -o /dev/null
}

real_capture() {
	local name=$1 p="$D/$1"
	if ! capture_start "$C" eth0 "$p"; then
		not_ok "$name: dumpcap captures on the client's link"
		return 1
	fi
	clients >"$p.clients.log" 2>&1
	capture_stop
	ok "$name: captured $(tshark -r "$p" 2>/dev/null | wc -l) frames of real clients"
}

real_capture real.pcap
# The server announces an MSS of 100: every ClientHello the client sends spans segments.
if ! ip -n "$S" route replace default via 198.51.100.1 src 198.51.100.2 advmss 100 ||
	! ip -n "$S" -6 route replace default via 2001:db8:2::1 src 2001:db8:2::2 advmss 100; then
	not_ok "advmss 100 on the server's routes"
fi
# The client's link at the IPv6 minimum (at 576, the kernel would take IPv6 off it).
ip -n "$C" link set eth0 mtu 1280 || not_ok "MTU 1280 on the client's link"
real_capture real-mss100.pcap

for f in real.pcap real-mss100.pcap; do
	p="$D/$f"
	[[ -s "$p" ]] || continue
	if ! timeout 30 "$XN" -a -e "$p" >"$p.ours" 2>"$p.ours.err"; then
		not_ok "$f: extract_names reads the capture" "$(cat "$p.ours.err")"
		continue
	fi
	tshark_fields "$p" >"$p.tshark" || not_ok "$f: tshark reads the capture"
	report < <("${CMP[@]}" diff - "$f" "$p.ours" "$p.tshark")
	names=$(awk -F'\t' '$3 !~ /^!/ { print $2 ":" $3 }' "$p.ours" | sort | tr '\n' ' ')
	want="dns-tcp:tcp.blocked.test dns-tcp:www.allowed.test dns-udp:mixed.blocked.test "
	want+="dns-udp:svc.blocked.test dns-udp:www.allowed.test dns-udp:www.blocked.test "
	want+="http:ok.blocked.test http:www.blocked.test sni:curl.blocked.test "
	want+="sni:curl6.blocked.test sni:openssl.blocked.test sni:www.allowed.test "
	want+="sni:www.allowed.test "
	assert_eq "$want" "$names" "$f: extract_names finds every name the clients used"
	if timeout 60 "$BPFGUARD" replay -c "$D/nxdomain.conf" "$p" >"$p.replay" 2>"$p.replay.err"
	then
		report < <("${CMP[@]}" real "$f" "$p.ours" "$p.replay")
	else
		not_ok "$f: bpfguard replay exits 0" "$(tail -n 20 "$p.replay.err")"
	fi
done

# At MSS 100 every real ClientHello is followed over segments: each of the 5 hellos has a
# pending segment before the one that completes its SNI, in extract_names and in replay.
p="$D/real-mss100.pcap"
if [[ -s "$p.ours" ]]; then
	segs=$(tshark -r "$p" -n -Y 'tls.handshake.type == 1' -T fields \
		-e tcp.segment.count 2>/dev/null | tr '\n' ' ')
	assert_match "real-mss100.pcap: tshark reassembles each of the 5 ClientHellos from several segments ($segs)" \
		'^([2-9] |[1-9][0-9] ){5}$' "$segs"
	n=$(grep -c $'\tsni\t!pass_tls_pending' "$p.ours")
	assert_match "real-mss100.pcap: extract_names follows the hellos over segments ($n pending)" \
		'^([5-9]|[1-9][0-9]+)$' "$n"
	n=$(grep -c $'\tpass\tpass_tls_pending\t' "$p.replay" 2>/dev/null)
	m=$(grep -c $'\tanswer\treset_sni\t' "$p.replay" 2>/dev/null)
	assert_eq "3" "$m" "real-mss100.pcap: replay resets the 3 blocked hellos"
	assert_match "real-mss100.pcap: replay follows the hellos ($n pending segments)" \
		'^([5-9]|[1-9][0-9]+)$' "$n"
fi

e2e_finish
