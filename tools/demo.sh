#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: the shipped etc/bpfguard.conf guarding a client in network namespaces
# (tests/e2e/lib.sh's client - guard - server topology, documentation addresses only). Shows
# real pings and HTTP fetches that are BLOCKED and ALLOWED, over IPv4 and IPv6, the
# `bpfguard check` answers, then `bpfguard status` and `bpfguard stats`. Cleans up on exit
# and Ctrl-C. Exits 0 only if every block and pass happened as expected.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib.sh"

CONF="$E2E_ROOT/etc/bpfguard.conf"
PORT=8080
DEMO_PINGS=3
GOOD=0
BAD=0

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
		printf '  %-46s %s%-7s%s %s\n' "$what" "$GREEN" "$got" "$N" "$detail"
	else
		BAD=$((BAD + 1))
		printf '  %-46s %s%-7s%s %s  <-- UNEXPECTED, wanted %s\n' "$what" "$RED" "$got" "$N" \
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

# demo_check WANT IP: `bpfguard check` (no traffic): the first word is the decision.
demo_check() {
	local want=$1 ip=$2 out first
	out=$(bpfguard_g check -c "$CONF" "$ip" 2>/dev/null | head -n 1)
	read -r first _ <<<"$out"
	expect "check $ip" "$want" "${first:-?}" "${out#"$first"}"
}

e2e_init
e2e_require_bpfguard
START=$SECONDS

heading "Topology: client -- guard -- server (network namespaces)"
make_topology || bail "building the namespaces"
cat <<EOF
  client $NS_CLIENT  192.0.2.2, 2001:db8:1::2
  guard  $NS_GUARD  eth1 (client side, XDP), eth2 (uplink, TC ingress)
  server $NS_SERVER  203.0.113.10, .20, .130, 2001:db8:3::10, ::20 (+ http.server :$PORT)
  config $CONF
EOF
http_server_start "$NS_SERVER" "$PORT" || bail "python http.server in the server namespace"

heading "Before the guard: everything is reachable"
demo_ping ALLOWED 203.0.113.10
demo_ping ALLOWED 2001:db8:3::10

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

heading "bpfguard check (decisions without traffic)"
demo_check block 203.0.113.10
demo_check pass 203.0.113.130
demo_check block 2001:db8:3::10
demo_check allow 2001:db8:3::20
demo_check block 1.10.16.1
demo_check block 2a12:2640::1
demo_check pass 198.51.100.2

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

heading "Result"
echo "  $GOOD as expected, $BAD unexpected, in $((SECONDS - START)) s"
if ((BAD > 0)); then
	echo "DEMO FAILED"
	exit 1
fi
echo "DEMO OK"
exit 0
