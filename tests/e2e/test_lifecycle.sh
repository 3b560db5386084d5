#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end life of a guard (DESIGN.md "State and reloads"), with real traffic through the
# tests/e2e/lib.sh topology:
#   - a registry file edited in place is picked up (inotify) and SIGHUP reloads; the counters
#     survive reloads; the new entry blocks, exactly counted;
#   - a reload that fails (a registry file gone) keeps the policy in force;
#   - a file a list includes is followed like the list: created after a failed reload, or
#     edited, it reloads;
#   - a guard killed with SIGKILL leaves its last policy enforcing (status says it is not
#     running); a new run on the same pins adopts them, counters included, and a SIGTERM then
#     leaves nothing attached or pinned. For XDP and for TC.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"

C=$NS_CLIENT
G=$NS_GUARD
P=$PING_COUNT
D="$E2E_TMP/conf"
mkdir -p "$D"

printf '203.0.113.0/25\n2001:db8:3::10/128\n' >"$D/block.txt"
printf '203.0.113.20/32\n' >"$D/allow.txt"

# write_conf NAME GUARD_LINE...
write_conf() {
	local name=$1
	shift
	guard_conf "$D/$name.conf" "$(printf '%s\n' "[list lc-block]" "path = block.txt" \
		"category = lc" "action = block" "" "[list lc-allow]" "path = allow.txt" \
		"category = lc" "action = allow")" "$@"
}

CONF_XDP=$(write_conf xdp "interfaces = eth1" "xdp_mode = native")
CONF_TC=$(write_conf tc "tc_ingress = eth1")

# generation: the policy load count from status --json ("?" when unreadable).
generation() {
	local v
	v=$(bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null | jq -er '.generation') ||
		v="?"
	echo "$v"
}

# wait_generation N: until status --json says generation N (up to 5 s).
wait_generation() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ "$(generation)" == "$1" ]] && return 0
		sleep 0.1
	done
	return 1
}

# blocked LABEL DST LIST: 5 pings get no reply and are counted exactly, by the guard.
blocked() {
	local s0 s1 r
	s0=$(snap)
	r=$(ping_count "$C" "$2")
	s1=$(snap)
	assert_eq "$P 0" "$r" "$1: ping $2 is blocked"
	assert_deltas "$1: ping $2: drop_ip_dst +$P, $3 +$P" "$s0" "$s1" "drop_ip_dst=$P" \
		"list:$3=$P" "verdicts=$P"
}

passed() {
	local s0 s1 r
	s0=$(snap)
	r=$(ping_count "$C" "$2")
	s1=$(snap)
	assert_eq "$P $P" "$r" "$1: ping $2 gets its replies"
	assert_deltas "$1: ping $2: drop_ip_dst +0" "$s0" "$s1" "drop_ip_dst=0" "verdicts=$P"
}

# ---- reloads ---------------------------------------------------------------------------------
diag "=== reloads (xdp native)"
guard_start "$CONF_XDP" || bail "xdp: bpfguard run becomes ready"
ok "xdp: bpfguard run becomes ready"
assert_eq 1 "$(generation)" "status --json: generation 1 after start"
assert_eq 2 "$(list_hits lc-block entries)" "stats: lc-block has 2 entries"
blocked "start" 203.0.113.10 lc-block
passed "start" 203.0.113.130

# Edit the list the way editors do (a new file renamed over the old one): inotify reloads.
printf '203.0.113.0/25\n2001:db8:3::10/128\n203.0.113.128/26\n' >"$D/block.txt.new"
mv "$D/block.txt.new" "$D/block.txt"
if wait_generation 2; then
	ok "registry file replaced: reloaded by itself (generation 2)"
else
	not_ok "registry file replaced: reloaded by itself (generation 2)" \
		"generation: $(generation)" "$(tail -n 5 "$GUARD_LOG")"
fi
assert_eq 3 "$(list_hits lc-block entries)" "stats: lc-block has 3 entries after the reload"
blocked "after the inotify reload" 203.0.113.130 lc-block
blocked "after the inotify reload" 203.0.113.10 lc-block

s0=$(snap)
kill -HUP "$GUARD_PID"
if wait_generation 3; then
	ok "SIGHUP: reloaded (generation 3)"
else
	not_ok "SIGHUP: reloaded (generation 3)" "generation: $(generation)" \
		"$(tail -n 5 "$GUARD_LOG")"
fi
s1=$(snap)
assert_deltas "SIGHUP: the counters survive the reload unchanged" "$s0" "$s1" "verdicts=0" \
	"drop_ip_dst=0" "pass_nomatch=0" "list:lc-block=0"
assert_true "SIGHUP: the guard is still running" kill -0 "$GUARD_PID"
blocked "after SIGHUP" 203.0.113.130 lc-block

# A reload that cannot read a list keeps the policy in force.
mv "$D/block.txt" "$D/block.txt.away"
kill -HUP "$GUARD_PID"
sleep 1
assert_eq 3 "$(generation)" "list file gone: the reload fails, generation stays 3"
assert_true "list file gone: the guard is still running" kill -0 "$GUARD_PID"
assert_match "list file gone: the log says the reload failed and names the file" \
	'block\.txt' "$(grep -i 'fail\|cannot\|no such' "$GUARD_LOG")"
blocked "list file gone" 203.0.113.10 lc-block
passed "list file gone" 203.0.113.20
mv "$D/block.txt.away" "$D/block.txt"
if wait_generation 4; then
	ok "list file back: reloaded by itself (generation 4)"
else
	not_ok "list file back: reloaded by itself (generation 4)" "generation: $(generation)"
fi

# A list that includes another file (include: lines, as domain-list-community lists do): the
# included file is watched as the list is. First it is missing: the reload fails and the policy
# stays; creating it (a name the running policy does not know) is the fix, and reloads.
printf '203.0.113.0/25\n2001:db8:3::10/128\ninclude:more.txt\n' >"$D/block.txt.new"
mv "$D/block.txt.new" "$D/block.txt"
sleep 1
assert_eq 4 "$(generation)" "include: of a missing file: the reload fails, generation stays 4"
assert_match "include: of a missing file: the log names it" 'more\.txt' \
	"$(grep -i 'include' "$GUARD_LOG")"
printf '203.0.113.128/26\n' >"$D/more.txt.new"
mv "$D/more.txt.new" "$D/more.txt"
if wait_generation 5; then
	ok "the included file created: reloaded by itself (generation 5)"
else
	not_ok "the included file created: reloaded by itself (generation 5)" \
		"generation: $(generation)" "$(tail -n 5 "$GUARD_LOG")"
fi
assert_eq 3 "$(list_hits lc-block entries)" "stats: lc-block has 3 entries, one included"
blocked "an included entry" 203.0.113.130 lc-block
# Edited in place: the included file alone changes, and the guard follows it.
printf '203.0.113.192/26\n' >"$D/more.txt"
if wait_generation 6; then
	ok "the included file edited: reloaded by itself (generation 6)"
else
	not_ok "the included file edited: reloaded by itself (generation 6)" \
		"generation: $(generation)" "$(tail -n 5 "$GUARD_LOG")"
fi
passed "the included entry changed" 203.0.113.130
blocked "the included entry changed" 203.0.113.10 lc-block

# ---- SIGKILL: the last policy keeps enforcing; a new run adopts the pins ----------------------
# kill_and_adopt LABEL CONF IF HOOK
kill_and_adopt() {
	local m=$1 conf=$2 ifc=$3 hook=$4 pin s0 s1 kp out
	pin=$GUARD_PIN
	s0=$(snap)
	kill -KILL "$GUARD_PID"
	wait "$GUARD_PID" 2>/dev/null
	forget_pid "$GUARD_PID"
	GUARD_PID=""
	out=$(bpfguard_g status --pin-dir "$pin" 2>&1)
	assert_eq 1 "$(bpfguard_g status --pin-dir "$pin" >/dev/null 2>&1; echo $?)" \
		"$m: after SIGKILL, status exits 1 (not running)"
	assert_match "$m: after SIGKILL, status says so" '[Nn][Oo][Tt] running' "$out"
	kp=$(kernel_prog "$ifc" "$hook")
	assert_match "$m: after SIGKILL, the program stays attached on $ifc" '^[0-9]+$' "$kp"
	s1=$(snap)
	assert_deltas "$m: the pinned counters are still readable, unchanged" "$s0" "$s1" \
		"verdicts=0"
	blocked "$m: after SIGKILL (still enforcing)" 203.0.113.10 lc-block

	# A new run on the same pins adopts them.
	s0=$(snap)
	GUARD_PIN=$pin
	GUARD_LOG="$E2E_TMP/adopt-$m.log"
	GUARD_LOG=${GUARD_LOG// /-}
	bg_in_ns "$G" "$GUARD_LOG" "$BPFGUARD" run -c "$conf" --pin-dir "$pin"
	GUARD_PID=$BG_PID
	local i ready=0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$GUARD_PID" 2>/dev/null || break
		if bpfguard_g status --pin-dir "$pin" >/dev/null 2>&1; then
			ready=1
			break
		fi
		sleep 0.1
	done
	if ((ready)); then
		ok "$m: a new run adopts the pins of the killed one"
	else
		not_ok "$m: a new run adopts the pins of the killed one" "$(tail -n 10 "$GUARD_LOG")"
		guard_stop
		return
	fi
	s1=$(snap)
	assert_deltas "$m: the adopted counters carry on from the old ones" "$s0" "$s1" \
		"verdicts=0" "drop_ip_dst=0"
	kp=$(kernel_prog "$ifc" "$hook")
	assert_eq "$(status_prog "$ifc" "$hook")" "$kp" \
		"$m: one program on $ifc ($hook), the one status names"
	blocked "$m: after adoption" 203.0.113.10 lc-block
	passed "$m: after adoption" 203.0.113.20
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: SIGTERM: exit 0"
	assert_eq "" "$(kernel_prog "$ifc" "$hook")" "$m: after SIGTERM nothing attached on $ifc"
	out=$(tc -n "$G" filter show dev "$ifc" ingress 2>/dev/null)
	assert_eq "" "$out" "$m: after SIGTERM no TC filter on $ifc"
	if [[ -e "$pin" ]]; then
		not_ok "$m: after SIGTERM the pin dir is removed" "$(ls "$pin")"
	else
		ok "$m: after SIGTERM the pin dir is removed"
	fi
}

diag "=== SIGKILL and adoption (xdp native)"
kill_and_adopt "xdp" "$CONF_XDP" eth1 "xdp native"

diag "=== SIGKILL and adoption (tc ingress)"
if guard_start "$CONF_TC"; then
	ok "tc: bpfguard run becomes ready"
	blocked "tc: start" 203.0.113.10 lc-block
	kill_and_adopt "tc" "$CONF_TC" eth1 "tc ingress"
else
	not_ok "tc: bpfguard run becomes ready"
fi

e2e_finish
