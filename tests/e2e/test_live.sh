#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Live changes (issue 4): `bpfguard add|del ENTRY --list L` on a running guard, in the
# namespaces of tests/e2e/lib.sh (TC ingress on the guard's client side; dnsmasq resolves every
# test name in the server namespace, a Python http.server serves 203.0.113.20:8080):
#   - add a name: dig gets NXDOMAIN from the guard, without a restart (same pid, a newer
#     generation); add an address: connections to it fail; del: both work again;
#   - del of an entry of the list's file lets it through; add brings it back;
#   - `check --live` (and `check` without -c while a guard runs) agrees with the traffic and
#     with `check -c` on the entries it can name;
#   - a restart keeps the changes in force; with no guard running a change is saved and in
#     force at the next start;
#   - a bad entry and an unknown list: exit 2 with a clear message, nothing written; an entry
#     to delete that is not there: exit 1;
#   - a corrupt change file: `add` refuses it, and a reload fails with its file:line while the
#     policy in force stays; a reload that fails for another reason makes `add` exit 1 saying
#     the reason is in the guard's log;
#   - timing: `add` to in force with a 100k-entry list.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
for tool in dig dnsmasq; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done
make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"

C=$NS_CLIENT
S=$NS_SERVER
D="$E2E_TMP/live"
STATE="$D/state"
mkdir -p "$D"

DNSLOG="$D/dnsmasq.log"
dnsmasq_start "$S" "$DNSLOG" --listen-address=203.0.113.10 \
	--address=/live.test/203.0.113.20 --address=/blocked.test/203.0.113.20 \
	--address=/other.test/203.0.113.20 || bail "dnsmasq in the server namespace"
http_server_start "$S" 8080 || bail "python http.server in the server namespace"
ok "servers: dnsmasq, http.server"

# The list: a name and a prefix in its file; the names and addresses the test adds are not.
printf '%s\n' "# e2e live list" blocked.test 203.0.113.128/25 >"$D/block.txt"
LIST=live-block
CONF="$D/live.conf"
{
	printf '[guard]\ntc_ingress = eth1\nstate_dir = %s\nmetrics = off\n\n' "$STATE"
	printf '[list %s]\npath = block.txt\ncategory = adult\naction = block\n' "$LIST"
} >"$CONF"
CHANGES="$STATE/changes/$LIST.txt"

# bg ARGS...: bpfguard for the running guard's pins.
bg() {
	bpfguard_g "$@" --pin-dir "$GUARD_PIN"
}

generation() {
	local v
	v=$(bg status --json 2>/dev/null | jq -er '.generation') || v="?"
	echo "$v"
}

status_pid() {
	local v
	v=$(bg status --json 2>/dev/null | jq -er '.pid') || v="?"
	echo "$v"
}

# dns NAME: the status of `dig A NAME` from the client ("NOERROR 203.0.113.20", "NXDOMAIN", or
# "FAIL" when no answer came).
dns() {
	local out st addr
	out=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 @203.0.113.10 A "$1" 2>&1)
	st=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
	addr=$(awk '/^[^;].*\tA\t/ { print $NF; exit }' <<<"$out")
	if [[ -z "$st" ]]; then
		echo FAIL
	else
		echo "$st${addr:+ $addr}"
	fi
}

# web: the body of http://203.0.113.20:8080/probe from the client, or "FAIL (curl exit N)".
web() {
	local out rc
	out=$(in_ns "$C" timeout 5 curl -s --max-time 2 http://203.0.113.20:8080/probe 2>/dev/null)
	rc=$?
	if ((rc == 0)); then
		echo "$out"
	else
		echo "FAIL (curl exit $rc)"
	fi
}

# first TEXT: the first word of a check line.
first() {
	echo "${1%% *}"
}

# run_cmd ARGS...: bpfguard ARGS for the guard's pins; sets OUT (stdout and stderr) and RC.
run_cmd() {
	OUT=$(bg "$@" 2>&1)
	RC=$?
}

guard_start "$CONF" || bail "bpfguard run becomes ready"
ok "bpfguard run becomes ready (tc ingress)"
PID0=$GUARD_PID
assert_eq "NOERROR 203.0.113.20" "$(dns www.live.test)" "before: www.live.test resolves"
assert_eq "NXDOMAIN" "$(dns www.blocked.test)" "before: www.blocked.test (in the file) is blocked"
assert_eq "bpfguard-e2e 8080" "$(web)" "before: http://203.0.113.20:8080 is served"

# ---- add a name ----------------------------------------------------------------------------
g0=$(generation)
run_cmd add live.test --list "$LIST"
assert_eq 0 "$RC" "add live.test: exit 0"
assert_match "add live.test: says it is in force, with the generation and time" \
	"^added live\.test to list $LIST \(in force, generation $((g0 + 1)), [0-9.]+ s\)$" "$OUT"
assert_eq "NXDOMAIN" "$(dns www.live.test)" "after add: www.live.test gets NXDOMAIN"
assert_eq "NXDOMAIN" "$(dns live.test)" "after add: live.test gets NXDOMAIN"
assert_eq "NOERROR 203.0.113.20" "$(dns www.other.test)" "after add: www.other.test still resolves"
assert_eq "$PID0 $PID0" "$GUARD_PID $(status_pid)" "after add: the same guard process (no restart)"
assert_true "after add: the guard is still running" kill -0 "$GUARD_PID"
assert_match "the change file holds +live.test" '(^|'$'\n'')\+live\.test($|'$'\n'')' \
	"$(cat "$CHANGES" 2>&1)"

out=$(bg check --live www.live.test)
assert_eq "block www.live.test list=$LIST category=adult entry=live.test match=subtree" \
	"${out% (live*}" "check --live www.live.test: block, by the suffix live.test"
out=$(bg check www.live.test)
assert_eq "block" "$(first "$out")" "check without -c answers from the running guard: block"
assert_match "... and says it is live" '\(live, generation [0-9]+\)$' "$out"
out=$(bg check --live www.live.test --json)
assert_eq "block live.test true" \
	"$(jq -r '"\(.decision) \(.entry) \(.live)"' <<<"$out" 2>&1)" "check --live --json"

# ---- add an address ------------------------------------------------------------------------
run_cmd add 203.0.113.20 --list "$LIST"
assert_eq 0 "$RC" "add 203.0.113.20: exit 0"
assert_match "add 203.0.113.20: in force" "^added 203\.0\.113\.20 to list $LIST \(in force" "$OUT"
assert_match "after add: http://203.0.113.20:8080 fails (connect blocked)" '^FAIL' "$(web)"
r=$(ping_count "$C" 203.0.113.20)
assert_eq "$PING_COUNT 0" "$r" "after add: ping 203.0.113.20 gets no reply"
out=$(bg check --live 203.0.113.20)
assert_eq "block 203.0.113.20 list=$LIST category=adult direction=destination" "${out% (live*}" \
	"check --live 203.0.113.20: block, list $LIST"
out=$(bg check --live 203.0.113.10)
assert_eq "pass" "$(first "$out")" "check --live 203.0.113.10 (the resolver): pass"

# ---- del ---------------------------------------------------------------------------------------
run_cmd del 203.0.113.20 --list "$LIST"
assert_eq 0 "$RC" "del 203.0.113.20: exit 0"
assert_match "del 203.0.113.20: removed, in force" "^removed 203\.0\.113\.20 .*\(in force" "$OUT"
assert_eq "bpfguard-e2e 8080" "$(web)" "after del: http://203.0.113.20:8080 is served again"
run_cmd del live.test --list "$LIST"
assert_eq 0 "$RC" "del live.test: exit 0"
assert_eq "NOERROR 203.0.113.20" "$(dns www.live.test)" "after del: www.live.test resolves again"
out=$(bg check --live www.live.test)
assert_eq "pass www.live.test" "${out% (live*}" "check --live www.live.test: pass after del"
if [[ -e "$CHANGES" ]]; then
	not_ok "add then del cancels: no change file left" "$(cat "$CHANGES")"
else
	ok "add then del cancels: no change file left"
fi

# del of an entry of the list's file: skipped from now on; add brings it back
run_cmd del blocked.test --list "$LIST"
assert_eq 0 "$RC" "del blocked.test (in the file): exit 0"
assert_match "del blocked.test: names the file line it skips" \
	"^deleted blocked\.test from list $LIST \(.*block\.txt:2 is skipped\) \(in force" "$OUT"
assert_eq "NOERROR 203.0.113.20" "$(dns www.blocked.test)" \
	"after del: www.blocked.test resolves (the file still lists it)"
assert_match "the list's file is not edited" '^blocked\.test$' "$(sed -n 2p "$D/block.txt")"
run_cmd add blocked.test --list "$LIST"
assert_match "add blocked.test: back from the file" "^blocked\.test is back in list $LIST" "$OUT"
assert_eq "NXDOMAIN" "$(dns www.blocked.test)" "after add: www.blocked.test is blocked again"

# ---- check --live agrees with check -c --------------------------------------------------------
run_cmd add live.test 203.0.113.20 2001:db8:3::/64 --list "$LIST"
assert_eq 0 "$RC" "add of three entries at once: exit 0"
assert_match "... one line for the three, in force" "3 changes to list $LIST in force" "$OUT"
bad=()
for t in www.live.test live.test www.blocked.test www.other.test 203.0.113.20 203.0.113.130 \
	203.0.113.10 2001:db8:3::10 198.51.100.2; do
	a=$(bg check --live "$t" --json | jq -r '"\(.decision) \(.list)"')
	b=$(bpfguard_g check -c "$CONF" "$t" --json | jq -r '"\(.decision) \(.list)"')
	[[ -n "$a" && "$a" == "$b" ]] || bad+=("$t: live '$a', config '$b'")
done
if ((${#bad[@]} == 0)); then
	ok "check --live and check -c agree on 9 targets (decision and list)"
else
	not_ok "check --live and check -c agree on 9 targets (decision and list)" "${bad[@]}"
fi

# ---- a name the guard cannot examine: check --live reads the running program's knob --------------
long="$(printf 'x%.0s' {1..70}).live.test"
out=$(bg check --live "$long")
assert_eq "pass" "$(first "$out")" "check --live of a 70-byte label: pass (unexamined = pass)"
# wait_generation G: until the guard runs a generation after G (10 s at most)
wait_generation() {
	local i
	for i in $(seq 100); do
		[[ "$(generation)" =~ ^[0-9]+$ && "$(generation)" -gt "$1" ]] && return 0
		sleep 0.1
	done
	return 1
}
g=$(generation)
sed -i 's/^\[guard\]$/[guard]\nunexamined = block/' "$CONF"
kill -HUP "$GUARD_PID"
wait_generation "$g" || not_ok "SIGHUP with unexamined = block: a new generation"
out=$(bg check --live "$long")
assert_eq "block" "$(first "$out")" "... after a reload with unexamined = block: block"
assert_match "... and says why" "unexamined = block" "$out"
assert_eq "block" "$(first "$(bpfguard_g check -c "$CONF" "$long")")" "... check -c agrees"
g=$(generation)
sed -i '/^unexamined = block$/d' "$CONF"
kill -HUP "$GUARD_PID"
wait_generation "$g" || not_ok "SIGHUP back to unexamined = pass: a new generation"

# ---- refused requests ---------------------------------------------------------------------------
cp "$CHANGES" "$D/changes.before"
run_cmd add 'not a name!' --list "$LIST"
assert_eq 2 "$RC" "add of a bad entry: exit 2"
assert_match "... the message says what is wrong" "not one name, address or CIDR" "$OUT"
run_cmd add 192.0.2.1/24 --list "$LIST"
assert_eq 2 "$RC" "add of a CIDR with host bits: exit 2"
assert_match "... and says what was meant" "did you mean 192\.0\.2\.0/24" "$OUT"
run_cmd add ok.example --list no-such-list
assert_eq 2 "$RC" "add to an unknown list: exit 2"
assert_match "... names the list and the lists there are" \
	"no \[list no-such-list\].*the lists of .*: $LIST" "$(tr '\n' ' ' <<<"$OUT")"
run_cmd del never-listed.test --list "$LIST"
assert_eq 1 "$RC" "del of an entry in neither the file nor the changes: exit 1"
assert_match "... says it is not in the list" "never-listed\.test is not in list $LIST" "$OUT"
run_cmd del 203.0.113.130 --list "$LIST"
assert_match "del of an address a file prefix covers: names the prefix" \
	"203\.0\.113\.128/25 \(.*block\.txt:3\) covers it" "$OUT"
assert_eq "" "$(diff "$D/changes.before" "$CHANGES")" "refused requests left the change file as it was"

# ---- a corrupt change file ------------------------------------------------------------------------
g1=$(generation)
printf 'this is not a change\n' >>"$CHANGES"
run_cmd add more.test --list "$LIST"
assert_eq 2 "$RC" "add with a corrupt change file: exit 2, nothing written"
assert_match "... names the file and line" "$LIST\.txt:[0-9]+: error: 'this is not a change'" "$OUT"
kill -HUP "$GUARD_PID"
sleep 1.5
assert_eq "$g1" "$(generation)" "SIGHUP with a corrupt change file: the reload fails"
assert_match "... the guard's log names the file and line" \
	"$LIST\.txt:[0-9]+: error: 'this is not a change'" "$(cat "$GUARD_LOG")"
assert_eq "NXDOMAIN" "$(dns www.live.test)" "... and the policy in force stays (live.test blocked)"
cp "$D/changes.before" "$CHANGES"

# ---- a reload that fails: add exits 1 and points at the log -------------------------------------------
mv "$D/block.txt" "$D/block.away"
sleep 0.5
run_cmd add slow.test --list "$LIST" --timeout 30
assert_eq 1 "$RC" "add while the list's file is gone (the reload fails): exit 1"
assert_match "... at once, from the run record's failed-reload count" "could not reload" "$OUT"
assert_match "... says the reason is in the guard's log" "reason is in its log" "$OUT"
mv "$D/block.away" "$D/block.txt"
for ((i = 0; i < 50; i++)); do
	[[ "$(dns www.slow.test)" == NXDOMAIN ]] && break
	sleep 0.1
done
assert_eq "NXDOMAIN" "$(dns www.slow.test)" "the file back, the next reload brings the saved change"
run_cmd del slow.test --list "$LIST"

# ---- restart ------------------------------------------------------------------------------------------
guard_stop
assert_eq 0 "$GUARD_RC" "guard stops (SIGTERM)"
run_cmd add stopped.test --list "$LIST" -c "$CONF"
assert_eq 0 "$RC" "add with no guard running: exit 0"
assert_match "... saved for the next start" "saved; no guard is running" "$OUT"
guard_start "$CONF" || bail "bpfguard run starts again"
ok "bpfguard run starts again"
assert_eq "NXDOMAIN" "$(dns www.live.test)" "after restart: live.test (added) is still blocked"
assert_eq "NXDOMAIN" "$(dns www.stopped.test)" \
	"after restart: stopped.test (added while stopped) is blocked"
assert_match "after restart: 203.0.113.20 (added) is still blocked" '^FAIL' "$(web)"
assert_eq "NXDOMAIN" "$(dns www.blocked.test)" "after restart: blocked.test (file) is blocked"
out=$(bg check --live 2001:db8:3::10)
assert_eq "block" "$(first "$out")" "after restart: check --live 2001:db8:3::10: block"
run_cmd del live.test 203.0.113.20 2001:db8:3::/64 stopped.test --list "$LIST"
assert_eq 0 "$RC" "del of the four: exit 0"
assert_eq "NOERROR 203.0.113.20" "$(dns www.live.test)" "after del: live.test resolves"
assert_eq "bpfguard-e2e 8080" "$(web)" "after del: http://203.0.113.20:8080 is served"

# ---- timing: add with a 100k-entry list -----------------------------------------------------------------
guard_stop
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "n%d.bulk%d.test\n", i, i % 97 }' >"$D/big.txt"
printf '\n[list big]\npath = big.txt\ncategory = adult\naction = block\n' >>"$CONF"
guard_start "$CONF" || bail "bpfguard run with a 100k-entry list"
assert_eq "100000" "$(bg stats --json | jq -r '.lists[] | select(.name == "big") | .entries')" \
	"the big list has 100000 entries"
times=()
for n in 1 2 3; do
	t0=$(date +%s%N)
	run_cmd add "timed$n.test" --list big
	t1=$(date +%s%N)
	[[ "$RC" == 0 ]] || not_ok "add to the big list" "$OUT"
	times+=("$(((t1 - t0) / 1000000))")
done
diag "add to in force with a 100k-entry list: ${times[*]} ms; the last one said (${OUT##*(}"
assert_eq "NXDOMAIN" "$(dns www.timed3.test)" "the last timed add is in force"
worst=$(printf '%s\n' "${times[@]}" | sort -n | tail -n 1)
if ((worst < 10000)); then
	ok "add to in force with a 100k-entry list in under 10 s (worst ${worst} ms)"
else
	not_ok "add to in force with a 100k-entry list in under 10 s" "${times[*]} ms"
fi
guard_stop

e2e_finish
