#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end IP blocking (issue 2): a real `bpfguard run` in the guard namespace between a
# client and a server (tests/e2e/lib.sh), attached by XDP (native, generic) and by TC (ingress
# on the client side, egress on the server side). Real pings and HTTP fetches; the counters
# must move by exactly the packets the client sent. Then: refusal of a second run on the same
# interface, a clean SIGTERM (nothing attached, nothing pinned), config errors (exit 2, with a
# message naming the culprit), and `check`.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"

CONF_DIR="$E2E_TMP/conf"
mkdir -p "$CONF_DIR"

cat >"$CONF_DIR/block.txt" <<'EOF'
# e2e: blocked documentation prefixes
203.0.113.0/25
2001:db8:3::10/128
EOF
cat >"$CONF_DIR/allow.txt" <<'EOF'
# e2e: allowed inside the blocked /25
203.0.113.20/32
2001:db8:3::20/128
EOF
cat >"$CONF_DIR/source.txt" <<'EOF'
# e2e: clients whose traffic is dropped (direction = source)
192.0.2.66/32
2001:db8:1::66/128
EOF

# write_conf NAME [GUARD KEY LINES...]: a config with the three lists, in CONF_DIR.
write_conf() {
	local name=$1
	shift
	guard_conf "$CONF_DIR/$name.conf" "$(
		cat <<'EOF'
[list e2e-block]
path = block.txt
category = e2e
action = block

[list e2e-allow]
path = allow.txt
category = e2e
action = allow

[list e2e-source]
path = source.txt
category = e2e-source
action = block
direction = source
EOF
	)" "$@"
}

CONF_NATIVE=$(write_conf xdp-native "interfaces = eth1" "xdp_mode = native")
CONF_GENERIC=$(write_conf xdp-generic "interfaces = eth1" "xdp_mode = generic")
CONF_TC_IN=$(write_conf tc-ingress "tc_ingress = eth1")
CONF_TC_OUT=$(write_conf tc-egress "tc_egress = eth2")
CONF_CHECK=$(write_conf check)

C=$NS_CLIENT
G=$NS_GUARD
http_server_start "$NS_SERVER" 8080 || bail "python http.server in the server namespace"

# run_bounded ARGS...: bpfguard in the guard namespace, for runs expected to refuse at once:
# killed after 10 s (exit 124) if it does not.
run_bounded() {
	timeout 10 nsenter --net="/run/netns/$NS_GUARD" "$BPFGUARD" "$@"
}

# After curl returns, let the connection's last segments (FIN, ACK) cross the guard.
settle() {
	sleep 0.3
}

# ping_case LABEL DST EXPECT_RX SPEC... [-- PING ARGS]: 5 pings, the reply count, the deltas.
ping_case() {
	local label=$1 dst=$2 want_rx=$3 s0 s1 r specs=() args=()
	shift 3
	while (($# > 0)); do
		if [[ "$1" == "--" ]]; then
			shift
			args=("$@")
			break
		fi
		specs+=("$1")
		shift
	done
	s0=$(snap)
	r=$(ping_count "$C" "$dst" "${args[@]}")
	s1=$(snap)
	assert_eq "$PING_COUNT $want_rx" "$r" "$label: ping ${args[*]} $dst: sent $PING_COUNT, $want_rx replies"
	assert_deltas "$label: ping $dst: counters" "$s0" "$s1" "${specs[@]}"
}

# http_case LABEL URL pass|block COUNTER [LIST]: fetch URL from the client; pass: the body
# arrives; block: curl gives up after 2 s. Every TCP segment the client sent lands in COUNTER
# (and LIST), and in no other verdict counter.
http_case() {
	local label=$1 url=$2 want=$3 ctr=$4 list=${5:-} s0 s1 t0 t1 body n specs
	s0=$(snap)
	t0=$(tcp_segs_out "$C")
	body=$(http_get "$C" "$url" 2)
	settle
	t1=$(tcp_segs_out "$C")
	s1=$(snap)
	n=$(delta "$t0" "$t1")
	if [[ $want == pass ]]; then
		assert_eq "bpfguard-e2e 8080" "$body" "$label: GET $url is served"
	else
		assert_eq "" "$body" "$label: GET $url times out (blocked)"
	fi
	specs=("$ctr=$n" "verdicts=$n")
	[[ -n "$list" ]] && specs+=("list:$list=$n")
	if [[ "$n" =~ ^[0-9]+$ ]] && ((n > 0)); then
		assert_deltas "$label: GET $url: the $n TCP segments sent land in $ctr" "$s0" "$s1" \
			"${specs[@]}"
	else
		not_ok "$label: GET $url: TCP segments sent by the client" "got '$n'"
	fi
}

# traffic LABEL: the blocks and passes every attach mode must show.
traffic() {
	local m=$1
	local P=$PING_COUNT
	# IPv4
	ping_case "$m" 203.0.113.10 0 "drop_ip_dst=$P" "list:e2e-block=$P" "verdicts=$P"
	ping_case "$m" 203.0.113.130 "$P" "pass_nomatch=$P" "drop_ip_dst=0" "verdicts=$P"
	ping_case "$m" 203.0.113.20 "$P" "pass_allow=$P" "list:e2e-allow=$P" "drop_ip_dst=0" \
		"verdicts=$P"
	http_case "$m" "http://203.0.113.130:8080/probe" pass pass_nomatch
	http_case "$m" "http://203.0.113.10:8080/probe" block drop_ip_dst e2e-block
	http_case "$m" "http://203.0.113.20:8080/probe" pass pass_allow e2e-allow
	# IPv6
	ping_case "$m" 2001:db8:3::10 0 "drop_ip_dst=$P" "list:e2e-block=$P" "verdicts=$P"
	ping_case "$m" 2001:db8:2::2 "$P" "pass_nomatch=$P" "verdicts=$P"
	ping_case "$m" 2001:db8:3::20 "$P" "pass_allow=$P" "list:e2e-allow=$P" "verdicts=$P"
	http_case "$m" "http://[2001:db8:3::20]:8080/probe" pass pass_allow e2e-allow
	http_case "$m" "http://[2001:db8:3::10]:8080/probe" block drop_ip_dst e2e-block
	# direction = source: the client's second address is listed
	ping_case "$m" 198.51.100.2 0 "drop_ip_src=$P" "list:e2e-source=$P" "drop_ip_dst=0" \
		"verdicts=$P" -- -I 192.0.2.66
	ping_case "$m" 198.51.100.2 "$P" "pass_nomatch=$P" "drop_ip_src=0" "verdicts=$P" \
		-- -I 192.0.2.2
	ping_case "$m" 2001:db8:2::2 0 "drop_ip_src=$P" "list:e2e-source=$P" "verdicts=$P" \
		-- -I 2001:db8:1::66
}

# stopped_clean LABEL: after SIGTERM, exit 0, nothing attached, no pins.
stopped_clean() {
	local m=$1 pin=$GUARD_PIN out
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: SIGTERM: bpfguard run exits 0"
	out=$(ip -n "$G" link show)
	assert_nomatch "$m: after SIGTERM no XDP program on eth1/eth2" 'xdp' "$out"
	out=$(for d in eth1 eth2; do
		for dir in ingress egress; do
			tc -n "$G" filter show dev "$d" "$dir" 2>/dev/null
		done
	done)
	assert_eq "" "$out" "$m: after SIGTERM no TC filter on eth1/eth2"
	out=$(tc -n "$G" qdisc show)
	assert_nomatch "$m: after SIGTERM no clsact qdisc left (bpfguard created it)" 'clsact' "$out"
	if [[ -e "$pin" ]]; then
		not_ok "$m: after SIGTERM the pin dir is removed" "$pin still exists: $(ls "$pin")"
	else
		ok "$m: after SIGTERM the pin dir is removed"
	fi
}

# second_run LABEL CONF: while a guard runs, a second one on the same interface (fresh pin dir,
# then the same pin dir) refuses with exit 2 and a message, and leaves the first one working.
second_run() {
	local m=$1 conf=$2 pin2 out rc
	new_pin_dir
	pin2=$PIN_DIR
	out=$(run_bounded run -c "$conf" --pin-dir "$pin2" 2>&1)
	rc=$?
	assert_eq 2 "$rc" "$m: a second run on the same interface exits 2"
	assert_match "$m: ... with a message naming the interface" 'eth[12]' "$out"
	if [[ -e "$pin2" ]]; then
		not_ok "$m: ... and leaves no pin dir" "$pin2 exists: $(ls "$pin2")"
	else
		ok "$m: ... and leaves no pin dir"
	fi
	out=$(run_bounded run -c "$conf" --pin-dir "$GUARD_PIN" 2>&1)
	rc=$?
	assert_eq 2 "$rc" "$m: a second run on the same pin dir exits 2"
	assert_match "$m: ... with a message" '[a-z]' "$out"
	assert_true "$m: the first guard still answers status" \
		bpfguard_g status --pin-dir "$GUARD_PIN"
	ping_case "$m (after the refused runs)" 203.0.113.10 0 "drop_ip_dst=$PING_COUNT" \
		"verdicts=$PING_COUNT"
}

# run_mode LABEL CONF IF HOOK: start, check the attachment (status and the kernel agree),
# traffic, stop.
run_mode() {
	local m=$1 conf=$2 ifc=$3 hook=$4 out sp kp
	diag "=== $m"
	if ! guard_start "$conf"; then
		not_ok "$m: bpfguard run becomes ready within 10 s"
		guard_stop
		return
	fi
	ok "$m: bpfguard run becomes ready within 10 s"
	out=$(bpfguard_g status --pin-dir "$GUARD_PIN" 2>&1)
	out=$(grep -E "(^|[[:space:]])${ifc}([[:space:]]|$)" <<<"$out")
	assert_match "$m: bpfguard status shows $ifc $hook" "$hook" "$out"
	sp=$(status_prog "$ifc" "$hook")
	kp=$(kernel_prog "$ifc" "$hook")
	if [[ "$sp" =~ ^[0-9]+$ && "$sp" == "$kp" ]]; then
		ok "$m: the kernel has prog id $kp on $ifc ($hook), as status --json says"
	else
		not_ok "$m: the kernel has the program status --json names on $ifc ($hook)" \
			"status --json: '$sp', kernel: '$kp'"
	fi
	traffic "$m"
	if [[ -n "${SECOND_RUN:-}" ]]; then
		second_run "$m" "$conf"
	fi
	stopped_clean "$m"
}

SECOND_RUN=1 run_mode "xdp native" "$CONF_NATIVE" eth1 "xdp native"
run_mode "xdp generic" "$CONF_GENERIC" eth1 "xdp generic"
SECOND_RUN=1 run_mode "tc ingress" "$CONF_TC_IN" eth1 "tc ingress"
run_mode "tc egress" "$CONF_TC_OUT" eth2 "tc egress"

# --- config errors: exit 2, a message naming the culprit, nothing left pinned ----------------
diag "=== config errors"
# conf_error LABEL CONF REGEX
conf_error() {
	local m=$1 conf=$2 re=$3 pin out rc
	new_pin_dir
	pin=$PIN_DIR
	out=$(run_bounded run -c "$conf" --pin-dir "$pin" 2>&1)
	rc=$?
	assert_eq 2 "$rc" "config error, $m: bpfguard run exits 2"
	assert_match "config error, $m: the message names it" "$re" "$out"
	if [[ -e "$pin" ]]; then
		not_ok "config error, $m: no pin dir left" "$pin exists"
	else
		ok "config error, $m: no pin dir left"
	fi
}

conf=$(write_conf no-iface "interfaces = nosuch9")
conf_error "missing interface" "$conf" 'nosuch9'
conf=$(write_conf no-tc-iface "tc_ingress = nosuch8")
conf_error "missing TC interface" "$conf" 'nosuch8'
conf=$(write_conf bad-key "interfaces = eth1" "frobnicate = yes")
conf_error "unknown key" "$conf" 'bad-key\.conf:3.*frobnicate|frobnicate.*bad-key\.conf:3'
conf=$(write_conf missing-list "interfaces = eth1")
sed -i 's|^path = source.txt|path = no-such-list.txt|' "$conf"
conf_error "missing registry file" "$conf" 'no-such-list\.txt'
out=$(ip -n "$G" link show)
assert_nomatch "config errors leave no XDP program behind" 'xdp' "$out"

# --- check: the decision without a running guard --------------------------------------------
diag "=== check"
for pair in 203.0.113.10:block 203.0.113.20:allow 203.0.113.130:pass 203.0.113.127:block \
	203.0.113.128:pass 2001:db8:3::10:block 2001:db8:3::20:allow 2001:db8:3::30:pass \
	198.51.100.2:pass; do
	ip=${pair%:*}
	want=${pair##*:}
	out=$(bpfguard_g check -c "$CONF_CHECK" "$ip" 2>/dev/null)
	read -r first _ <<<"$out"
	assert_eq "$want" "${first:-}" "check $ip: $want"
done
out=$(bpfguard_g check -c "$CONF_CHECK" 203.0.113.10 --json 2>&1)
assert_true "check --json prints JSON" jq -e . <<<"$out"

e2e_finish
