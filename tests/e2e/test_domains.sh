#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end name blocking (issue 3) with real programs, in the namespaces of tests/e2e/lib.sh:
# dnsmasq is the resolver in the server namespace (local records only, every query logged),
# openssl s_server and a Python http.server serve TLS and HTTP; dig, curl and openssl s_client
# run in the client. For each attach mode (XDP native, with a pass program on the client's
# side of the veth so that XDP_TX reaches it; XDP generic; TC ingress):
#   - dig: a blocked name gets NXDOMAIN from the guard in under 100 ms, over v4 and v6, for A,
#     AAAA, HTTPS and mixed case, with an EDE 15 (Blocked) option when the query had EDNS and
#     no OPT record when it had none; dnsmasq never sees the query. An allowed name (and one
#     under an allow entry inside a blocked subtree) resolves. dig +tcp gets a reset at once;
#     so does a blocked query pipelined after an allowed one in one TCP segment, or sent after
#     its length prefix in a segment of its own (tests/tools/dns_tcp_client.py).
#   - HTTP/1.1 requests pipelined in one segment (tests/tools/http_pipeline_client.py): a
#     blocked one is reset, first or behind an allowed one; two allowed ones are both answered;
#     a 17th request, past the 16 judged in a segment, is counted unexamined
#     (pass_http_unsupported) and answered.
#   - curl and openssl s_client: a blocked SNI fails at once with a reset (curl exit 35, under
#     1 s), v4 and v6; an allowed one completes. The same with the server announcing an MSS of
#     100, so that the client's real ClientHello spans several segments, and with s_client
#     sending its ClientHello in TLS records of 512 bytes (-max_send_frag, a long ALPN list).
#   - curl over HTTP: a blocked Host is reset (curl exit 56), an allowed one gets its page.
#   - the guard's counters move by exactly the blocked queries, hellos and requests;
#   - every forged answer, captured on the client's link, is checked byte for byte
#     (tests/tools/check_answers.py) and tshark parses it without a malformed packet, an expert
#     error or a bad checksum.
# Then dns_action = refused and sinkhole (A -> sinkhole4, AAAA -> sinkhole6, other types NODATA)
# in each mode, and dns_action = drop with tcp_action = drop (no answer, no reset) once.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
for tool in tshark dumpcap dig dnsmasq openssl; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done
PASS_OBJ="$E2E_BUILD/bpf/minimal.bpf.o"
[[ -f "$PASS_OBJ" ]] || bail "$PASS_OBJ (an XDP pass program) is missing: run 'make'"

make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"
C=$NS_CLIENT
S=$NS_SERVER
G=$NS_GUARD
D="$E2E_TMP/dom"
mkdir -p "$D"
CHECK=("$PY" "$E2E_ROOT/tests/tools/check_answers.py")

# Real segments on every link, complete checksums in the captures (lib.sh: offload_off).
for link in "$C eth0" "$G eth1" "$G eth2" "$S eth0"; do
	# shellcheck disable=SC2086
	offload_off $link || bail "offloads off on $link"
done
make_cert "$D" || bail "openssl makes a self-signed certificate"
# openssl s_server serves one connection at a time, and a connection whose ClientHello the
# guard answered with a reset stays open on the server's side (the server never gets the
# hello): the blocked names go to a second server, on 4443, which they may leave stuck.
tls_server_start "$S" 443 "$D" || bail "openssl s_server (port 443) in the server namespace"
tls_server_start "$S" 4443 "$D" || bail "openssl s_server (port 4443) in the server namespace"
http_server_start "$S" 8080 || bail "python http.server in the server namespace"
http_server_start "$S" 8081 HTTP/1.1 ||
	bail "python http.server (HTTP/1.1: pipelined requests answered) in the server namespace"
# dnsmasq answers for the blocked names too: an NXDOMAIN can only come from the guard.
DNSLOG="$D/dnsmasq.log"
dnsmasq_start "$S" "$DNSLOG" --listen-address=203.0.113.10 --listen-address=2001:db8:3::10 \
	--address=/allowed.test/203.0.113.20 --address=/allowed.test/2001:db8:3::20 \
	--address=/blocked.test/203.0.113.20 --address=/blocked.test/2001:db8:3::20 ||
	bail "dnsmasq in the server namespace"
ok "servers: dnsmasq, openssl s_server, http.server"

# Without the guard, the blocked names resolve and their TLS and HTTP servers answer.
out=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.blocked.test)
assert_eq "203.0.113.20" "$out" "without the guard, dnsmasq resolves www.blocked.test"
out=$(in_ns "$C" timeout 5 curl -sk -o /dev/null -w '%{http_code}' --max-time 3 \
	--resolve www.blocked.test:443:203.0.113.20 https://www.blocked.test/)
assert_eq "200" "$out" "without the guard, https://www.blocked.test/ answers 200"

printf '%s\n' "# e2e: blocked subtrees" blocked.test >"$D/block.txt"
printf '%s\n' "# e2e: allowed inside a blocked subtree" ok.blocked.test >"$D/allow.txt"
# write_conf NAME KEY LINES...: a config with the two lists, in $D.
write_conf() {
	local name=$1
	shift
	guard_conf "$D/$name.conf" "$(printf '%s\n' "[list e2e-names]" "path = block.txt" \
		"category = adult" "action = block" "" "[list e2e-names-allow]" "path = allow.txt" \
		"category = adult" "action = allow")" "$@"
}

SINK=("sinkhole4 = 198.51.100.250" "sinkhole6 = 2001:db8:2::250")
# mode_conf MODE ACTION [TCP_ACTION]: the attach keys of MODE with dns_action ACTION.
mode_conf() {
	local mode=$1 act=$2 tcp=${3:-reset} keys
	case "$mode" in
	native) keys=("interfaces = eth1" "xdp_mode = native") ;;
	generic) keys=("interfaces = eth1" "xdp_mode = generic") ;;
	tc) keys=("tc_ingress = eth1") ;;
	esac
	# block_ttl: the default (10) for nxdomain, 30 for the others
	[[ $act == nxdomain ]] || keys+=("block_ttl = 30")
	write_conf "$mode-$act-$tcp" "${keys[@]}" "dns_action = $act" "tcp_action = $tcp" "${SINK[@]}"
}

# --- clients ------------------------------------------------------------------------------

# digq ARGS...: dig in the client (bounded: one try, 1 s); output in DIG_OUT, exit in DIG_RC,
# the time dig reports in DIG_MS ("?" if none).
digq() {
	DIG_OUT=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 "$@" 2>&1)
	DIG_RC=$?
	DIG_MS=$(sed -n 's/^;; Query time: \([0-9]\+\) msec.*/\1/p' <<<"$DIG_OUT")
	DIG_MS=${DIG_MS:-?}
}

dig_status() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$DIG_OUT"
}

# dnsmasq_saw NAME: did dnsmasq log a query for NAME (case-insensitive)?
dnsmasq_saw() {
	grep -qiF "] $1 from" "$DNSLOG" 2>/dev/null
}

# assert_unseen DESC NAME: dnsmasq never logged a query for NAME.
assert_unseen() {
	if dnsmasq_saw "$2"; then
		not_ok "$1" "dnsmasq.log: $(grep -iF "] $2 from" "$DNSLOG" | head -n 3)"
	else
		ok "$1"
	fi
}

# dns_tcp LABEL WANT ARGS...: tests/tools/dns_tcp_client.py ARGS in the client prints WANT.
dns_tcp() {
	local label=$1 want=$2 out
	shift 2
	out=$(in_ns "$C" timeout 10 "$PY" "$E2E_ROOT/tests/tools/dns_tcp_client.py" "$@" 2>&1)
	assert_eq "$want" "$out" "$label"
}

# pipe_http LABEL WANT ARGS...: tests/tools/http_pipeline_client.py ARGS in the client prints
# WANT.
pipe_http() {
	local label=$1 want=$2 out
	shift 2
	out=$(in_ns "$C" timeout 10 "$PY" "$E2E_ROOT/tests/tools/http_pipeline_client.py" "$@" 2>&1)
	assert_eq "$want" "$out" "$label"
}

# dns_blocked LABEL STATUS SERVER TYPE NAME [DIG ARGS...]: the guard answers STATUS, fast,
# well-formed; dnsmasq never sees it.
dns_blocked() {
	local m=$1 want=$2 srv=$3 type=$4 name=$5
	shift 5
	digq "$@" "@$srv" "$type" "$name"
	assert_eq "$want" "$(dig_status)" "$m: dig @$srv $type $name $*: $want from the guard"
	if [[ "$DIG_MS" =~ ^[0-9]+$ ]] && ((DIG_MS < 100)); then
		ok "$m: ... answered in $DIG_MS ms (< 100 ms)"
	else
		not_ok "$m: ... answered in < 100 ms" "dig says: $DIG_MS ms" "$DIG_OUT"
	fi
	assert_nomatch "$m: ... dig parses the answer without a warning" \
		'[Ww][Aa][Rr][Nn][Ii][Nn][Gg]|[Mm]alformed|mismatch|FORMERR|TRUNCATED' "$DIG_OUT"
	assert_unseen "$m: ... dnsmasq never saw the query" "$name"
}

# dns_allowed LABEL SERVER TYPE NAME WANT_ADDR: resolved by dnsmasq.
dns_allowed() {
	local m=$1 srv=$2 type=$3 name=$4 want=$5
	digq +short "@$srv" "$type" "$name"
	assert_eq "$want" "$DIG_OUT" "$m: dig @$srv $type $name resolves (dnsmasq)"
	if dnsmasq_saw "$name"; then
		ok "$m: ... and dnsmasq saw the query"
	else
		not_ok "$m: ... and dnsmasq saw the query" "$(tail -n 5 "$DNSLOG")"
	fi
}

# curl_tls NAME ADDR PORT [CURL ARGS]: https://NAME:PORT/ on ADDR; prints "EXIT HTTP_CODE
# SECONDS".
curl_tls() {
	local name=$1 addr=$2 port=$3 out rc
	shift 3
	out=$(in_ns "$C" timeout 10 curl -sk -o /dev/null -w '%{http_code} %{time_total}' \
		--max-time 3 --resolve "$name:$port:$addr" "$@" "https://$name:$port/" 2>/dev/null)
	rc=$?
	echo "$rc $out"
}

# curl_http NAME ADDR: http://NAME:8080/probe on ADDR; prints "EXIT SECONDS BODY".
curl_http() {
	local name=$1 addr=$2 out rc
	out=$(in_ns "$C" timeout 10 curl -s -g -w ' %{time_total}' --max-time 3 \
		--resolve "$name:8080:$addr" "http://$name:8080/probe" 2>/dev/null)
	rc=$?
	echo "$rc ${out##* } ${out% *}"
}

# fast SECONDS: under 1 s?
fast() {
	[[ "$1" =~ ^0\.[0-9]+$ ]]
}

# tls_blocked LABEL NAME ADDR: curl fails at once with a reset (35: the TLS connect failed).
tls_blocked() {
	local m=$1 name=$2 addr=$3 rc code t
	read -r rc code t <<<"$(curl_tls "$name" "$addr" 4443)"
	if [[ "$rc" == 35 ]] && fast "$t"; then
		ok "$m: curl https://$name ($addr): reset, exit 35 after ${t}s"
	else
		not_ok "$m: curl https://$name ($addr): reset at once (exit 35, < 1 s)" \
			"exit $rc, HTTP code $code, ${t}s"
	fi
}

tls_allowed() {
	local m=$1 name=$2 addr=$3 rc code t
	read -r rc code t <<<"$(curl_tls "$name" "$addr" 443)"
	assert_eq "0 200" "$rc $code" "$m: curl https://$name ($addr) completes (${t}s)"
}

# sclient_blocked LABEL NAME [ARGS...]: openssl s_client fails at once, with no handshake.
sclient_blocked() {
	local m=$1 name=$2 out rc t0 t1
	shift 2
	t0=$(date +%s%N)
	out=$(in_ns "$C" timeout 5 openssl s_client -connect 203.0.113.20:4443 -servername "$name" \
		"$@" </dev/null 2>&1)
	rc=$?
	t1=$(date +%s%N)
	if ((rc != 0 && (t1 - t0) < 1000000000)) && [[ "$out" =~ (reset|errno=104|write:errno) ]]
	then
		ok "$m: openssl s_client -servername $name: reset after $(((t1 - t0) / 1000000)) ms"
	else
		not_ok "$m: openssl s_client -servername $name: reset at once" \
			"exit $rc after $(((t1 - t0) / 1000000)) ms" "${out:0:1500}"
	fi
}

# sclient_allowed LABEL NAME [ARGS...]: openssl s_client completes its handshake.
sclient_allowed() {
	local m=$1 name=$2 out rc
	shift 2
	out=$(in_ns "$C" timeout 5 openssl s_client -connect 203.0.113.20:443 -servername "$name" \
		"$@" </dev/null 2>&1)
	rc=$?
	if ((rc == 0)) && [[ "$out" =~ "SSL handshake has read" ]]; then
		ok "$m: openssl s_client -servername $name: handshake completes"
	else
		not_ok "$m: openssl s_client -servername $name: handshake completes" "exit $rc" \
			"${out:0:1500}"
	fi
}

# A ClientHello of more than 512 bytes that openssl sends in TLS records of 512 bytes.
LONG_ALPN=$("$PY" -c 'print(",".join("proto%03d-xxxxxxxx" % i for i in range(40)))')

http_blocked() {
	local m=$1 name=$2 addr=$3 rc t body
	read -r rc t body <<<"$(curl_http "$name" "$addr")"
	if [[ "$rc" == 56 ]] && fast "$t"; then
		ok "$m: curl http://$name:8080 ($addr): reset, exit 56 after ${t}s"
	else
		not_ok "$m: curl http://$name:8080 ($addr): reset at once (exit 56, < 1 s)" \
			"exit $rc after ${t}s, body '$body'"
	fi
}

http_allowed() {
	local m=$1 name=$2 addr=$3 rc t body
	read -r rc t body <<<"$(curl_http "$name" "$addr")"
	assert_eq "0 bpfguard-e2e 8080" "$rc $body" "$m: curl http://$name:8080 ($addr) is served"
}

# report: l7_compare.py-format lines (PASS/FAIL/#) to TAP (fed by process substitution).
report() {
	local kind desc last=""
	while IFS=$'\t' read -r kind desc; do
		case "$kind" in
		PASS) ok "$desc" ;;
		FAIL) not_ok "$desc" ;;
		"#") diag "  $desc" ;;
		*) not_ok "check_answers.py printed an unexpected line" "$kind $desc" ;;
		esac
		last=$kind
	done
	[[ -n "$last" ]] || not_ok "check_answers.py printed results"
}

# tshark_clean LABEL CAP: tshark finds no malformed packet, no expert error and no bad
# checksum in CAP (every checksum verified; the client's offloads are off, so its own
# packets carry complete checksums too).
# A TCP checksum field of 0xffff where tshark computes 0x0000 is not an error: both are zero in
# one's complement (RFC 1624), and Linux writes 0xffff when it computes the sum in software
# (skb_checksum_help), one segment in 65536 (seen: a client's own ACK). The answers and resets
# the guard writes are checked byte for byte by tests/tools/check_answers.py besides.
tshark_clean() {
	local m=$1 cap=$2 bad n
	local opts=(-n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)
	local filter='_ws.malformed || _ws.expert.severity >= 8388608 || ip.checksum.status == 0 ||
		udp.checksum.status == 0 || (tcp.checksum.status == 0 && tcp.checksum != 0xffff)'
	bad=$(timeout 60 tshark -r "$cap" "${opts[@]}" -Y "$filter" 2>&1 | grep -v '^Running as user')
	n=$(timeout 60 tshark -r "$cap" -n -Y 'dns.flags.response == 1 || tcp.flags.reset == 1' \
		2>/dev/null | wc -l)
	if [[ -z "$bad" ]] && ((n > 0)); then
		ok "$m: tshark parses the capture ($n DNS answers and resets) without an error"
	else
		not_ok "$m: tshark parses the capture without a malformed packet, an expert error or a bad checksum" \
			"$n answers and resets; frames with errors:" "$bad" \
			"$(timeout 60 tshark -r "$cap" "${opts[@]}" -V -Y "$filter" 2>/dev/null |
				grep -iE 'malformed|expert info \(error|bad|incorrect' | head -n 20)"
	fi
}

# --- per attach mode ----------------------------------------------------------------------

peer_pass() { # PEER_PASS on|off: an XDP pass program on the client's eth0 (native mode)
	if [[ $1 == on ]]; then
		ip -n "$C" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	else
		ip -n "$C" link set dev eth0 xdpdrv off
	fi
}

low_mss() { # on|off: the server announces an MSS of 100; the client's MTU at the v6 minimum
	local adv=() mtu=1500
	if [[ $1 == on ]]; then
		adv=(advmss 100)
		mtu=1280
	fi
	ip -n "$S" route replace default via 198.51.100.1 src 198.51.100.2 "${adv[@]}" &&
		ip -n "$S" -6 route replace default via 2001:db8:2::1 src 2001:db8:2::2 "${adv[@]}" &&
		ip -n "$C" link set eth0 mtu "$mtu"
}

# names_mode MODE: nxdomain/reset, every client.
names_mode() {
	local mode=$1 m="$1 nxdomain" conf cap s0 s1 t
	t=$mode
	diag "=== $m"
	conf=$(mode_conf "$mode" nxdomain)
	if ! guard_start "$conf"; then
		not_ok "$m: bpfguard run becomes ready"
		guard_stop
		return
	fi
	ok "$m: bpfguard run becomes ready"
	cap="$D/$mode-nxdomain.pcap"
	capture_start "$C" eth0 "$cap" || not_ok "$m: dumpcap on the client's link"
	s0=$(snap)

	# DNS: 6 blocked queries over UDP, 1 over TCP
	dns_blocked "$m" NXDOMAIN 203.0.113.10 A "dig-$t.blocked.test"
	assert_match "$m: ... with an EDE 15 (Blocked) option" 'EDE: 15 \(Blocked\)' "$DIG_OUT"
	dns_blocked "$m" NXDOMAIN 2001:db8:3::10 AAAA "dig6-$t.blocked.test"
	assert_match "$m: ... with an EDE 15 (Blocked) option" 'EDE: 15 \(Blocked\)' "$DIG_OUT"
	dns_blocked "$m" NXDOMAIN 203.0.113.10 HTTPS "svc-$t.blocked.test"
	dns_blocked "$m" NXDOMAIN 203.0.113.10 A "NoEdns-$t.Blocked.Test" +noedns
	assert_nomatch "$m: ... no OPT record in the answer to a query without EDNS" \
		'OPT PSEUDOSECTION|EDE:' "$DIG_OUT"
	assert_match "$m: ... the question keeps the query's case" \
		";NoEdns-$t\\.Blocked\\.Test\\.[[:space:]]+IN[[:space:]]+A" "$DIG_OUT"
	dns_blocked "$m" NXDOMAIN 2001:db8:3::10 A "x.y.MiXeD-$t.bLoCkEd.TeSt" +dnssec
	dns_blocked "$m" NXDOMAIN 203.0.113.10 A blocked.test
	dns_allowed "$m" 203.0.113.10 A "www-$t.allowed.test" 203.0.113.20
	dns_allowed "$m" 2001:db8:3::10 AAAA "www-$t.allowed.test" 2001:db8:3::20
	dns_allowed "$m" 203.0.113.10 A "x-$t.ok.blocked.test" 203.0.113.20
	local t0 t1
	t0=$(date +%s%N)
	digq +tcp @203.0.113.10 A "tcp-$t.blocked.test"
	t1=$(date +%s%N)
	if [[ "$DIG_OUT" =~ (reset|refused) ]] && (((t1 - t0) < 1000000000)); then
		ok "$m: dig +tcp tcp-$t.blocked.test: reset after $(((t1 - t0) / 1000000)) ms"
	else
		not_ok "$m: dig +tcp tcp-$t.blocked.test: reset at once" \
			"after $(((t1 - t0) / 1000000)) ms" "$DIG_OUT"
	fi
	assert_unseen "$m: ... dnsmasq never saw it" "tcp-$t.blocked.test"
	digq +tcp +short @2001:db8:3::10 AAAA "tcp-$t.allowed.test"
	assert_eq "2001:db8:3::20" "$DIG_OUT" "$m: dig +tcp AAAA tcp-$t.allowed.test resolves"

	# TLS: 3 blocked hellos (curl v4, v6, s_client), 2 allowed
	tls_blocked "$m" "tls-$t.blocked.test" 203.0.113.20
	tls_blocked "$m" "tls6-$t.blocked.test" 2001:db8:3::20
	sclient_blocked "$m" "sc-$t.blocked.test"
	# a ClientHello in several TLS records (openssl -max_send_frag 512): followed
	sclient_blocked "$m, hello in 512-byte records" "rec-$t.blocked.test" -max_send_frag 512 \
		-alpn "$LONG_ALPN"
	sclient_allowed "$m, hello in 512-byte records" "rec-$t.allowed.test" -max_send_frag 512 \
		-alpn "$LONG_ALPN"
	tls_allowed "$m" "tls-$t.allowed.test" 203.0.113.20
	tls_allowed "$m" "tls6-$t.ok.blocked.test" 2001:db8:3::20

	# HTTP: 2 blocked requests, 2 allowed
	http_blocked "$m" "http-$t.blocked.test" 203.0.113.20
	http_blocked "$m" "http6-$t.blocked.test" 2001:db8:3::20
	http_allowed "$m" "http-$t.allowed.test" 203.0.113.20
	http_allowed "$m" "http-$t.ok.blocked.test" 2001:db8:3::20
	capture_stop
	sleep 0.2
	s1=$(snap)
	assert_deltas "$m: counters: 6 DNS answers, 1 DNS/TCP, 4 TLS and 2 HTTP resets" "$s0" "$s1" \
		answer_dns_nxdomain=6 reset_dns_tcp=1 reset_sni=4 reset_http=2 drop_dns=0 \
		drop_sni=0 drop_http=0 pass_tls_unsupported=0
	# the allowed hello went out in several records (tshark: their lengths)
	recs=$(tshark -r "$cap" -Y "tls.handshake.extensions_server_name == \"rec-$t.allowed.test\"" \
		-T fields -e tls.record.length 2>/dev/null | head -n 1)
	assert_match "$m: ... openssl sent that hello in several records ($recs)" '^512,512' "$recs"
	report < <("${CHECK[@]}" "$cap" nxdomain --ttl 10 --expect 13)
	tshark_clean "$m" "$cap"

	# DNS over TCP as a stream (RFC 7766): queries pipelined in one segment, a length prefix
	# in a segment of its own (as some stub resolvers send it)
	s0=$(snap)
	dns_tcp "$m: DNS/TCP, 2 queries in one segment, the 2nd blocked: reset" reset \
		203.0.113.10 pipelined "pl-$t.allowed.test" "pl-$t.blocked.test"
	assert_unseen "$m: ... dnsmasq never saw the blocked one" "pl-$t.blocked.test"
	dns_tcp "$m: DNS/TCP, 2 allowed queries in one segment: both answered" \
		"answers 2 NOERROR NOERROR" 2001:db8:3::10 pipelined "pl1-$t.allowed.test" \
		"pl2-$t.allowed.test"
	dns_tcp "$m: DNS/TCP, a length prefix alone, then a blocked query: reset" reset \
		2001:db8:3::10 prefix "px-$t.blocked.test"
	assert_unseen "$m: ... dnsmasq never saw it" "px-$t.blocked.test"
	dns_tcp "$m: DNS/TCP, a length prefix alone, then an allowed query: answered" \
		"answers 1 NOERROR" 203.0.113.10 prefix "px-$t.allowed.test"
	sleep 0.2
	s1=$(snap)
	assert_deltas "$m: counters: 2 DNS/TCP resets, 2 streams followed past a prefix" "$s0" \
		"$s1" reset_dns_tcp=2 note_dns_tcp_followed=2

	# HTTP/1.1 requests pipelined in one segment: each is judged, up to 16 (a 17th is counted,
	# pass_http_unsupported; reset with unexamined = block)
	s0=$(snap)
	pipe_http "$m: HTTP, 2 requests in one segment, the 1st blocked: reset" reset \
		203.0.113.20 8081 "pipe-$t.blocked.test" "pipe-$t.allowed.test"
	pipe_http "$m: HTTP, 2 requests in one segment, the 2nd blocked: reset" reset \
		203.0.113.20 8081 "pipe0-$t.allowed.test" "pipe-$t.blocked.test"
	pipe_http "$m: HTTP, 2 allowed requests in one segment: both answered" "responses 2" \
		2001:db8:3::20 8081 "pipe1-$t.allowed.test" "pipe2-$t.ok.blocked.test"
	hosts=()
	for i in $(seq 16); do hosts+=("p$i-$t.allowed.test"); done
	pipe_http "$m: HTTP, 17 requests in one segment, the 17th blocked: not read" \
		"responses 17" 203.0.113.20 8081 "${hosts[@]}" "pipe17-$t.blocked.test"
	sleep 0.2
	s1=$(snap)
	assert_deltas "$m: counters: 2 HTTP resets, 1 pipelined request unexamined" "$s0" "$s1" \
		reset_http=2 pass_http_unsupported=1

	# The client's ClientHello over several segments.
	if low_mss on; then
		s0=$(snap)
		tls_blocked "$m, MSS 100" "mss-$t.blocked.test" 203.0.113.20
		tls_blocked "$m, MSS 100" "mss6-$t.blocked.test" 2001:db8:3::20
		sclient_blocked "$m, MSS 100" "mss-sc-$t.blocked.test"
		tls_allowed "$m, MSS 100" "mss-$t.allowed.test" 203.0.113.20
		tls_allowed "$m, MSS 100" "mss6-$t.allowed.test" 2001:db8:3::20
		http_blocked "$m, MSS 100" "mss-http-$t.blocked.test" 203.0.113.20
		sleep 0.2
		s1=$(snap)
		assert_deltas "$m, MSS 100: counters: 3 TLS resets, 5 hellos followed over segments" \
			"$s0" "$s1" reset_sni=3 note_tls_split=5 reset_http=1 pass_tls_unordered=0
		low_mss off || not_ok "$m: the server's routes and the client's MTU restored"
	else
		not_ok "$m: advmss 100 on the server's routes, MTU 1280 on the client's link"
		low_mss off
	fi
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: bpfguard run stops cleanly"
}

# actions_mode MODE: refused and sinkhole, DNS only; byte checks of the answers.
actions_mode() {
	local mode=$1 act m conf cap t s0 s1
	for act in refused sinkhole; do
		m="$mode $act"
		t="$mode-$act"
		diag "=== $m"
		conf=$(mode_conf "$mode" "$act")
		if ! guard_start "$conf"; then
			not_ok "$m: bpfguard run becomes ready"
			guard_stop
			continue
		fi
		cap="$D/$mode-$act.pcap"
		capture_start "$C" eth0 "$cap" || not_ok "$m: dumpcap on the client's link"
		s0=$(snap)
		if [[ $act == refused ]]; then
			dns_blocked "$m" REFUSED 203.0.113.10 A "r-$t.blocked.test"
			dns_blocked "$m" REFUSED 2001:db8:3::10 AAAA "r6-$t.blocked.test" +noedns
			dns_blocked "$m" REFUSED 203.0.113.10 HTTPS "rs-$t.blocked.test"
		else
			digq +short @203.0.113.10 A "s-$t.blocked.test"
			assert_eq "198.51.100.250" "$DIG_OUT" "$m: A s-$t.blocked.test: sinkhole4"
			digq +short @2001:db8:3::10 AAAA "s6-$t.blocked.test"
			assert_eq "2001:db8:2::250" "$DIG_OUT" "$m: AAAA s6-$t.blocked.test: sinkhole6"
			digq +short @203.0.113.10 AAAA "s64-$t.blocked.test"
			assert_eq "2001:db8:2::250" "$DIG_OUT" "$m: AAAA over v4: sinkhole6"
			dns_blocked "$m" NOERROR 203.0.113.10 HTTPS "sh-$t.blocked.test"
			assert_match "$m: ... HTTPS: no answer (NODATA)" 'ANSWER: 0,' "$DIG_OUT"
			for n in "s-$t" "s6-$t" "s64-$t"; do
				assert_unseen "$m: dnsmasq never saw $n.blocked.test" "$n.blocked.test"
			done
		fi
		capture_stop
		s1=$(snap)
		if [[ $act == refused ]]; then
			assert_deltas "$m: counters: 3 REFUSED" "$s0" "$s1" answer_dns_refused=3 \
				answer_dns_nxdomain=0
		else
			assert_deltas "$m: counters: 3 sinkholed, 1 NODATA" "$s0" "$s1" \
				answer_dns_sinkhole=3 answer_dns_nodata=1 answer_dns_nxdomain=0
		fi
		report < <("${CHECK[@]}" "$cap" "$act" --ttl 30 --sinkhole4 198.51.100.250 \
			--sinkhole6 2001:db8:2::250 --expect "$([[ $act == refused ]] && echo 3 || echo 4)")
		tshark_clean "$m" "$cap"
		guard_stop
	done
}

# drop_mode MODE: dns_action = drop, tcp_action = drop: no answer, no reset.
drop_mode() {
	local mode=$1 m="$1 drop" conf s0 s1 rc code t
	diag "=== $m"
	conf=$(mode_conf "$mode" drop drop)
	if ! guard_start "$conf"; then
		not_ok "$m: bpfguard run becomes ready"
		guard_stop
		return
	fi
	s0=$(snap)
	digq @203.0.113.10 A "d-$mode.blocked.test"
	assert_eq 9 "$DIG_RC" "$m: dig gets no answer (exit 9)"
	assert_match "$m: ... it timed out" 'timed out|no servers could be reached' "$DIG_OUT"
	read -r rc code t <<<"$(curl_tls "d-$mode.blocked.test" 203.0.113.20 4443 --max-time 1.5)"
	assert_eq 28 "$rc" "$m: curl https://d-$mode.blocked.test times out (exit 28, ${t}s)"
	dns_allowed "$m" 203.0.113.10 A "d-$mode.allowed.test" 203.0.113.20
	s1=$(snap)
	assert_unseen "$m: dnsmasq never saw the dropped query" "d-$mode.blocked.test"
	# the hello is retransmitted while curl waits: each copy is dropped
	local ds
	ds=$(cdelta "$s0" "$s1" drop_sni)
	assert_eq "1 0 0" "$(cdelta "$s0" "$s1" drop_dns) $(cdelta "$s0" "$s1" reset_sni) \
$(cdelta "$s0" "$s1" answer_dns_nxdomain)" "$m: counters: the query dropped, nothing answered"
	assert_match "$m: counters: the ClientHello (and its retransmissions) dropped ($ds)" \
		'^[1-9][0-9]*$' "$ds"
	guard_stop
}

# E2E_NAME_MODES: the attach modes to run (default all three).
for mode in ${E2E_NAME_MODES:-native generic tc}; do
	[[ $mode == native ]] && { peer_pass on || not_ok "XDP pass program on the client's eth0"; }
	names_mode "$mode"
	actions_mode "$mode"
	[[ $mode == native ]] && peer_pass off
done
[[ " ${E2E_NAME_MODES:-generic} " == *" generic "* ]] && drop_mode generic

e2e_finish
