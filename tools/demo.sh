#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: the shipped etc/bpfguard.conf guarding a client in network namespaces
# (tests/e2e/lib.sh's client - guard - server topology, documentation addresses only). Shows
# real pings and HTTP fetches that are BLOCKED and ALLOWED, over IPv4 and IPv6; then names
# (the .test self-test lists): dig queries answered NXDOMAIN by the guard itself (dnsmasq in the
# server namespace is the resolver), TLS handshakes (openssl s_server) and HTTP requests reset
# by SNI and Host, and allowed names that resolve and load; the `bpfguard check` answers, then
# `bpfguard status` and `bpfguard stats`. Last, client groups and a schedule (a second, small
# config): a pupil and a member of staff fetch the same games page; a school-hours window that
# starts a few seconds later blocks it for the pupil only, at the boundary. Cleans up on exit
# and Ctrl-C. Exits 0 only if every block and pass happened as expected.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib.sh"

CONF="$E2E_ROOT/etc/bpfguard.conf"
PORT=8080
TLS_PORT=443
DEMO_PINGS=3
GOOD=0
BAD=0
# The resolver and the web servers for names sit on addresses the IP lists allow, so that only
# the name decides.
RESOLVER=203.0.113.130
RESOLVER6=2001:db8:3::20
WEB=203.0.113.130
WEB6=2001:db8:3::20
PASS_OBJ="$E2E_BUILD/bpf/minimal.bpf.o"
DNSLOG=""
DNSMASQ_PID=""

if [[ -t 1 ]]; then
	B=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' N=$'\e[0m'
else
	B="" RED="" GREEN="" N=""
fi

heading() {
	printf '\n%s== %s ==%s\n' "$B" "$*" "$N"
}

# expect WHAT WANT GOT DETAIL: print one result line and count it.
expect() {
	local what=$1 want=$2 got=$3 detail=$4
	if [[ "$want" == "$got" ]]; then
		GOOD=$((GOOD + 1))
		printf '  %-50s %s%-8s%s %s\n' "$what" "$GREEN" "$got" "$N" "$detail"
	else
		BAD=$((BAD + 1))
		printf '  %-50s %s%-8s%s %s  <-- UNEXPECTED, wanted %s\n' "$what" "$RED" "$got" "$N" \
			"$detail" "$want"
	fi
}

# demo_ping WANT DST: BLOCKED when no reply came back, ALLOWED when all did.
demo_ping() {
	local want=$1 dst=$2 r tx rx got s0="" s1="" d
	[[ -n "$GUARD_PID" ]] && s0=$(snap)
	r=$(PING_COUNT=$DEMO_PINGS ping_count "$NS_CLIENT" "$dst")
	[[ -n "$GUARD_PID" ]] && s1=$(snap)
	read -r tx rx <<<"$r"
	if [[ "$tx" == "$DEMO_PINGS" && "$rx" == 0 ]]; then
		got=BLOCKED
	elif [[ "$tx" == "$DEMO_PINGS" && "$rx" == "$DEMO_PINGS" ]]; then
		got=ALLOWED
	else
		got="?"
	fi
	if [[ -z "$GUARD_PID" ]]; then
		expect "ping $dst" "$want" "$got" "($tx sent, $rx replies)"
		return
	fi
	d=$(cdelta "$s0" "$s1" drop_ip_dst)
	expect "ping $dst" "$want" "$got" "($tx sent, $rx replies; drop_ip_dst +$d)"
	# The guard, not something else, must have done it: every blocked ping counted.
	if [[ $want == BLOCKED && $got == BLOCKED && "$d" != "$DEMO_PINGS" ]]; then
		expect "  ... counted by the guard" "+$DEMO_PINGS" "+$d" "(drop_ip_dst)"
	fi
}

# demo_http WANT URL
demo_http() {
	local want=$1 url=$2 body got
	body=$(http_get "$NS_CLIENT" "$url" 2)
	if [[ "$body" == "bpfguard-e2e $PORT" ]]; then
		got=ALLOWED
	elif [[ -z "$body" ]]; then
		got=BLOCKED
	else
		got="?"
	fi
	expect "GET $url" "$want" "$got" "$([[ $got == BLOCKED ]] && echo "(timed out after 2 s)" ||
		echo "(page served)")"
}

# demo_http_from WANT SRC URL: demo_http from client address SRC.
demo_http_from() {
	local want=$1 src=$2 url=$3 body got
	body=$(in_ns "$NS_CLIENT" curl -sS -g --max-time 2 --interface "$src" "$url" 2>/dev/null)
	if [[ "$body" == "bpfguard-e2e $PORT" ]]; then
		got=ALLOWED
	elif [[ -z "$body" ]]; then
		got=BLOCKED
	else
		got="?"
	fi
	expect "GET $url from $src" "$want" "$got" \
		"$([[ $got == BLOCKED ]] && echo "(timed out after 2 s)" || echo "(page served)")"
}

# dnsmasq_saw NAME: did dnsmasq log a query for NAME (case-insensitive)?
dnsmasq_saw() {
	grep -qiF "] $1 from" "$DNSLOG" 2>/dev/null
}

# guard_delta S0 S1 COUNTER: "; COUNTER +N" while the guard runs, nothing before.
guard_delta() {
	[[ -n "$GUARD_PID" ]] && echo "; $3 +$(cdelta "$1" "$2" "$3")"
}

# demo_dig WANT SERVER TYPE NAME [ADDR]: dig in the client. WANT is BLOCKED (NXDOMAIN that
# dnsmasq never saw: the guard's; then also in under 100 ms, with EDE 15 (Blocked), counted) or
# RESOLVED (dnsmasq answered; ADDR when given). Prints dig's status, EDE and time lines.
demo_dig() {
	local want=$1 srv=$2 type=$3 name=$4 addr=${5:-} out st ms ede ans got s0="" s1="" d
	[[ -n "$GUARD_PID" ]] && s0=$(snap)
	out=$(in_ns "$NS_CLIENT" timeout 5 dig +time=2 +tries=1 "@$srv" "$type" "$name" 2>&1)
	[[ -n "$GUARD_PID" ]] && s1=$(snap)
	d=$(cdelta "$s0" "$s1" answer_dns_nxdomain)
	st=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
	ms=$(sed -n 's/^;; Query time: \([0-9]\+\) msec.*/\1/p' <<<"$out")
	ede=$(grep -m 1 'EDE:' <<<"$out")
	ans=$(awk '!/^;/ && NF >= 5 && ($4 == "A" || $4 == "AAAA") { print $5 }' <<<"$out" |
		paste -sd ,)
	if [[ "$st" == NXDOMAIN ]] && ! dnsmasq_saw "$name"; then
		got=BLOCKED
	elif [[ "$st" == NOERROR && -n "$ans" ]] && dnsmasq_saw "$name"; then
		got=RESOLVED
	else
		got=${st:-?}
	fi
	expect "dig @$srv $type $name" "$want" "$got" \
		"(${ms:-?} ms${ans:+, $ans}$(guard_delta "$s0" "$s1" answer_dns_nxdomain))"
	printf '      | %s\n' "$(grep -m 1 -e '->>HEADER<<-' <<<"$out")"
	[[ -n "$ede" ]] && printf '      | %s\n' "$ede"
	printf '      | %s\n' "$(grep -m 1 '^;; Query time' <<<"$out")"
	if [[ $want == RESOLVED && $got == RESOLVED && -n "$addr" && "$ans" != "$addr" ]]; then
		expect "  ... the address dnsmasq has for it" "$addr" "$ans" ""
	fi
	[[ $want == BLOCKED && $got == BLOCKED ]] || return 0
	# The guard answered in place: at once, saying why, and counted it.
	if ! [[ "$ms" =~ ^[0-9]+$ ]] || ((ms >= 100)); then
		expect "  ... answered in < 100 ms" "<100" "${ms:-?}" "ms"
	fi
	[[ "$ede" == *"EDE: 15 (Blocked)"* ]] || expect "  ... with EDE 15 (Blocked)" yes no "$ede"
	[[ "$d" == 1 ]] || expect "  ... counted by the guard" "+1" "+$d" "(answer_dns_nxdomain)"
}

# demo_tls WANT NAME ADDR: curl -k https://NAME/ on ADDR:$TLS_PORT (a self-signed certificate).
# RESET: curl's TLS connect failed (exit 35) in under 1 s, and reset_sni moved by 1;
# ALLOWED: the page came (HTTP 200).
demo_tls() {
	local want=$1 name=$2 addr=$3 out rc code t got s0="" s1="" d
	[[ -n "$GUARD_PID" ]] && s0=$(snap)
	out=$(in_ns "$NS_CLIENT" timeout 10 curl -sk -o /dev/null -w '%{http_code} %{time_total}' \
		--max-time 3 --resolve "$name:$TLS_PORT:$addr" "https://$name:$TLS_PORT/" 2>/dev/null)
	rc=$?
	[[ -n "$GUARD_PID" ]] && s1=$(snap)
	d=$(cdelta "$s0" "$s1" reset_sni)
	read -r code t <<<"$out"
	if [[ "$rc" == 0 && "$code" == 200 ]]; then
		got=ALLOWED
	elif [[ "$rc" == 35 && "$t" =~ ^0\. ]]; then
		got=RESET
	else
		got="?"
	fi
	expect "curl https://$name ($addr)" "$want" "$got" \
		"(curl exit $rc, HTTP ${code:-?}, ${t:-?} s$(guard_delta "$s0" "$s1" reset_sni))"
	if [[ $want == RESET && $got == RESET && "$d" != 1 ]]; then
		expect "  ... counted by the guard" "+1" "+$d" "(reset_sni)"
	fi
}

# demo_http_name WANT NAME ADDR: curl http://NAME:$PORT/probe on ADDR. RESET: exit 56 (the
# connection was reset) in under 1 s, reset_http +1; ALLOWED: the page came.
demo_http_name() {
	local want=$1 name=$2 addr=$3 out rc t body got s0 s1 d
	s0=$(snap)
	out=$(in_ns "$NS_CLIENT" timeout 10 curl -s -g -w ' %{time_total}' --max-time 3 \
		--resolve "$name:$PORT:$addr" "http://$name:$PORT/probe" 2>/dev/null)
	rc=$?
	s1=$(snap)
	d=$(cdelta "$s0" "$s1" reset_http)
	t=${out##* }
	body=${out% *}
	body=${body%$'\n'}
	if [[ "$rc" == 0 && "$body" == "bpfguard-e2e $PORT" ]]; then
		got=ALLOWED
	elif [[ "$rc" == 56 && "$t" =~ ^0\. ]]; then
		got=RESET
	else
		got="?"
	fi
	expect "GET http://$name:$PORT ($addr)" "$want" "$got" \
		"(curl exit $rc, ${t:-?} s; reset_http +$d)"
	if [[ $want == RESET && $got == RESET && "$d" != 1 ]]; then
		expect "  ... counted by the guard" "+1" "+$d" "(reset_http)"
	fi
}

# demo_check WANT IP|NAME: `bpfguard check` (no traffic): the first word is the decision.
demo_check() {
	local want=$1 ip=$2 out first
	out=$(bpfguard_g check -c "$CONF" "$ip" 2>/dev/null | head -n 1)
	read -r first _ <<<"$out"
	expect "check $ip" "$want" "${first:-?}" "${out#"$first"}"
}

e2e_init
e2e_require_bpfguard
for tool in dig dnsmasq openssl; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done
[[ -f "$PASS_OBJ" ]] || bail "$PASS_OBJ (an XDP pass program) is missing: run 'make'"
START=$SECONDS

heading "Topology: client -- guard -- server (network namespaces)"
make_topology || bail "building the namespaces"
# The guard answers a blocked name by sending the packet back out of eth1 (XDP_TX). On a veth,
# native XDP delivers such a frame only if the peer (the client's eth0) runs an XDP program
# too: a pass program, which a real NIC would not need.
ip -n "$NS_CLIENT" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp ||
	bail "an XDP pass program ($PASS_OBJ) on the client's eth0"
cat <<EOF
  client $NS_CLIENT  192.0.2.2, 2001:db8:1::2 (an XDP pass program on eth0, for the veth)
  guard  $NS_GUARD  eth1 (client side, XDP), eth2 (uplink, TC ingress)
  server $NS_SERVER  203.0.113.10, .20, .130, 2001:db8:3::10, ::20: http.server :$PORT,
         openssl s_server :$TLS_PORT, dnsmasq on $RESOLVER and $RESOLVER6 (local records
         only: allowed.test and blocked.test -> $WEB, $WEB6)
  config $CONF
EOF
http_server_start "$NS_SERVER" "$PORT" || bail "python http.server in the server namespace"
make_cert "$E2E_TMP" || bail "openssl makes a self-signed certificate"
tls_server_start "$NS_SERVER" "$TLS_PORT" "$E2E_TMP" ||
	bail "openssl s_server (port $TLS_PORT) in the server namespace"
# dnsmasq has records for the blocked names too: an NXDOMAIN can only come from the guard.
DNSLOG="$E2E_TMP/dnsmasq.log"
dnsmasq_start "$NS_SERVER" "$DNSLOG" --listen-address="$RESOLVER" \
	--listen-address="$RESOLVER6" --address=/allowed.test/"$WEB" \
	--address=/allowed.test/"$WEB6" --address=/blocked.test/"$WEB" \
	--address=/blocked.test/"$WEB6" || bail "dnsmasq in the server namespace"

heading "Before the guard: everything is reachable"
demo_ping ALLOWED 203.0.113.10
demo_ping ALLOWED 2001:db8:3::10
demo_dig RESOLVED "$RESOLVER" A before.blocked.test "$WEB"
demo_tls ALLOWED before.blocked.test "$WEB"

heading "Starting: bpfguard run -c etc/bpfguard.conf (in the guard namespace)"
if ! guard_start "$CONF"; then
	BAD=$((BAD + 1))
	echo "  bpfguard run did not start (see above)"
	echo "DEMO FAILED"
	exit 1
fi
echo "  running, pid $GUARD_PID, pins in $GUARD_PIN"

heading "IPv4"
demo_ping BLOCKED 203.0.113.10
demo_ping ALLOWED 203.0.113.130
demo_http BLOCKED "http://203.0.113.10:$PORT/probe"
demo_http ALLOWED "http://203.0.113.130:$PORT/probe"

heading "IPv6"
demo_ping BLOCKED 2001:db8:3::10
demo_ping ALLOWED 2001:db8:3::20
demo_http BLOCKED "http://[2001:db8:3::10]:$PORT/probe"
demo_http ALLOWED "http://[2001:db8:3::20]:$PORT/probe"

heading "Names: DNS (blocked.test blocked, ok.blocked.test allowed; the guard answers in place)"
demo_dig BLOCKED "$RESOLVER" A www.blocked.test
demo_dig BLOCKED "$RESOLVER6" AAAA www6.blocked.test
demo_dig RESOLVED "$RESOLVER" A allowed.test "$WEB"
demo_dig RESOLVED "$RESOLVER6" AAAA www.allowed.test "$WEB6"
demo_dig RESOLVED "$RESOLVER" A ok.blocked.test "$WEB"

heading "Names: TLS SNI (curl -k to openssl s_server :$TLS_PORT)"
# s_server serves one connection at a time, and a connection whose ClientHello the guard reset
# stays open on its side: the blocked name comes last.
demo_tls ALLOWED allowed.test "$WEB"
demo_tls ALLOWED ok.blocked.test "$WEB6"
demo_tls RESET www.blocked.test "$WEB"

heading "Names: HTTP Host (curl to http.server :$PORT)"
demo_http_name RESET www.blocked.test "$WEB"
demo_http_name RESET www6.blocked.test "$WEB6"
demo_http_name ALLOWED allowed.test "$WEB"
demo_http_name ALLOWED ok.blocked.test "$WEB6"

heading "bpfguard check (decisions without traffic)"
demo_check block 203.0.113.10
demo_check pass 203.0.113.130
demo_check block 2001:db8:3::10
demo_check allow 2001:db8:3::20
demo_check block 1.10.16.1
demo_check block 2a12:2640::1
demo_check pass 198.51.100.2
demo_check block www.blocked.test
demo_check allow ok.blocked.test
demo_check pass allowed.test

heading "bpfguard status"
bpfguard_g status --pin-dir "$GUARD_PIN" 2>&1 | sed 's/^/  /'
heading "bpfguard stats"
bpfguard_g stats --pin-dir "$GUARD_PIN" 2>&1 | sed 's/^/  /'

heading "Stopping (SIGTERM)"
guard_stop
expect "bpfguard run exit status" 0 "$GUARD_RC" ""
if [[ -e "$GUARD_PIN" ]]; then
	expect "pin dir removed" yes no "($GUARD_PIN)"
else
	expect "pin dir removed" yes yes ""
fi
kill -TERM "$DNSMASQ_PID" 2>/dev/null
wait "$DNSMASQ_PID" 2>/dev/null
forget_pid "$DNSMASQ_PID"

heading "Client groups and a schedule (a second config)"
# A class that starts a few seconds from now: the schedule's zone is a POSIX rule whose offset
# makes its clock show a whole minute at that instant (a real deployment names its zone).
T0=$(($(date +%s) + 6))
read -r TZ0 WIN0 < <(schedule_from "$T0" 10)
GCONF="$E2E_TMP/school.conf"
printf '203.0.113.20/32\n' >"$E2E_TMP/games.txt"
cat >"$GCONF" <<EOF
[guard]
interfaces = eth1

[list games]
path = games.txt
category = games

[schedule class]
timezone = $TZ0
daily = $WIN0

[group pupils]
clients = 192.0.2.2/32
block = games@class

[group staff]
clients = 192.0.2.66/32
allow = games
EOF
sed -n '/^\[schedule/,$p' "$GCONF" | sed 's/^/  /'
if guard_start "$GCONF"; then
	echo "  running, pid $GUARD_PID; the class starts at $(date -d "@$T0" +%T)"
	demo_http_from ALLOWED 192.0.2.2 "http://203.0.113.20:$PORT/probe"
	demo_http_from ALLOWED 192.0.2.66 "http://203.0.113.20:$PORT/probe"
	while (($(date +%s) <= T0)); do
		sleep 0.2
	done
	sleep 0.5
	echo "  $(grep 'schedule: group pupils' "$GUARD_LOG" | tail -n 1)"
	demo_http_from BLOCKED 192.0.2.2 "http://203.0.113.20:$PORT/probe"
	demo_http_from ALLOWED 192.0.2.66 "http://203.0.113.20:$PORT/probe"
	out=$(bpfguard_g check --pin-dir "$GUARD_PIN" 203.0.113.20 --client 192.0.2.2 2>&1)
	expect "check --live 203.0.113.20 --client 192.0.2.2" block "${out%% *}" "${out#* }"
	guard_stop
	expect "bpfguard run exit status" 0 "$GUARD_RC" ""
else
	BAD=$((BAD + 1))
	echo "  bpfguard run did not start with the groups config (see above)"
fi

heading "Result"
echo "  $GOOD as expected, $BAD unexpected, in $((SECONDS - START)) s"
if ((BAD > 0)); then
	echo "DEMO FAILED"
	exit 1
fi
echo "DEMO OK"
exit 0
