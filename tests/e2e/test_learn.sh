#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end time cut-off for flows already open (issue 4, bpf/lib/learn.h), in the namespaces
# of tests/e2e/lib.sh: dnsmasq in the server namespace answers www.games.test (category games,
# which a [group] blocks with @schedule, so the guard learns it) with 203.0.113.20 and
# 2001:db8:3::20, TTL 120; an echo server listens there. For each attach mode (XDP native on
# both of the guard's links; TC ingress on both; TC ingress and egress on the client's link
# only, where the answers pass on the way out):
#   - dig from the client: the answers pass, note_dns_learned counts them, and the pinned map
#     learned holds both addresses with the games bit and an expiry 120 s ahead;
#   - open TCP streams to both addresses (a line and its echo every 0.1 s, one connection
#     kept), and one to 203.0.113.130 (not learned), work while games is off for the client's
#     group (lab: the default group 0 blocks every list);
#   - games is turned on in lab's entry of the program's group_policy map (bpftool, as the
#     daemon writes it at a boundary): both learned streams stop within one second
#     (drop_learned counts), the other keeps working; turned off again, they resume;
#   - SIGHUP: the reloaded program keeps the learned map (same map, same entries), and turning
#     games on in the new program's mask stops the streams again without a new answer.
# A reload that turns learning on (a schedule added) replaces the one-entry pinned maps with
# full-size ones, and learns; after SIGKILL, a new run adopts them. Then once on the real
# clock: a [group] for the client blocks games@class, whose window opens a few seconds ahead
# (a POSIX TZ rule puts a whole minute there, as tests/e2e/test_groups.sh does): the open
# stream to the learned address stops within one second of the boundary the daemon writes.

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
for tool in dig dnsmasq bpftool; do
	command -v "$tool" >/dev/null || bail "tool '$tool' is missing: run 'make deps'"
done

make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"
C=$NS_CLIENT
S=$NS_SERVER
D="$E2E_TMP/learn"
mkdir -p "$D"

DNSLOG="$D/dnsmasq.log"
dnsmasq_start "$S" "$DNSLOG" --listen-address=203.0.113.10 --local-ttl=120 \
	--address=/games.test/203.0.113.20 --address=/games.test/2001:db8:3::20 \
	--address=/plain.test/203.0.113.130 || bail "dnsmasq in the server namespace"

# The echo server, dual stack: every line sent back.
echo_server_start "$S" 7000

# The stream probe: one TCP connection to DST:7000 kept open until the file STOP exists; every
# 0.1 s a line and its echo (0.3 s to come), a line "CLOCK ok|fail" per round, CLOCK the
# monotonic clock (or the epoch with "wall").
cat >"$D/stream.py" <<'EOF'
import os, socket, sys, time
dst, stop, clock = sys.argv[1], sys.argv[2], sys.argv[3]
now = time.time if clock == "wall" else time.monotonic
conn = socket.create_connection((dst, 7000), timeout=2)
conn.settimeout(0.3)
print("connected", flush=True)
while not os.path.exists(stop):
    t = now()
    ok = False
    try:
        conn.sendall(b"ping\n")
        got = b""
        while len(got) < 5:
            d = conn.recv(64)
            if not d:
                break
            got += d
        ok = got == b"ping\n"
    except OSError:
        ok = False
    if not ok:
        # a late echo belongs to an earlier round: drain it
        try:
            conn.settimeout(0.05)
            conn.recv(4096)
        except OSError:
            pass
        conn.settimeout(0.3)
    print("%.3f %s" % (t, "ok" if ok else "fail"), flush=True)
    time.sleep(max(0.0, 0.1 - (now() - t)))
EOF

mono() { "$PY" -c 'import time; print("%.3f" % time.monotonic())'; }
# fadd A B: A + B (decimals)
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
# before A B: A < B (decimals)
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# stream_start NAME DST [wall]: a stream probe in the client, logging to $D/NAME.log; waits
# (at most 3 s) until it has an echo. Sets STREAM_PIDS[NAME].
declare -A STREAM_PIDS
stream_start() {
	local name=$1 dst=$2 clock=${3:-mono} i
	rm -f "$D/stop-$name"
	bg_in_ns "$C" "$D/$name.log" "$PY" "$D/stream.py" "$dst" "$D/stop-$name" "$clock"
	STREAM_PIDS[$name]=$BG_PID
	for ((i = 0; i < 30; i++)); do
		grep -q ' ok$' "$D/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "stream $name to $dst: no echo in 3 s:" "$(tail -n 5 "$D/$name.log")"
	return 1
}

stream_stop() {
	local name=$1 pid=${STREAM_PIDS[$1]}
	[[ -n "$pid" ]] || return 0
	touch "$D/stop-$name"
	timeout 5 tail --pid="$pid" -f /dev/null
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	unset "STREAM_PIDS[$name]"
}

# rounds NAME FROM TO: "OK FAIL" of the rounds started in [FROM, TO).
rounds() {
	awk -v a="$2" -v b="$3" '$1 ~ /^[0-9.]+$/ && $1 >= a && $1 < b {
		if ($2 == "ok") o++; else f++ } END { printf "%d %d\n", o, f }' "$D/$1.log"
}

# last_ok NAME: the start of the last round that got its echo.
last_ok() {
	awk '$2 == "ok" { t = $1 } END { printf "%.3f\n", t }' "$D/$1.log"
}

# The program's maps (not pinned: each reload makes them anew) through its id.
prog_map_id() { # MAP_NAME: the id of the running program's map of that name
	local prog m
	prog=$(bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null |
		jq -r '.attach[0].prog_id') || return 1
	for m in $(bpftool -j prog show id "$prog" 2>/dev/null | jq -r '.map_ids[]'); do
		if [[ "$(bpftool -j map show id "$m" | jq -r '.name')" == "$1" ]]; then
			echo "$m"
			return 0
		fi
	done
	return 1
}

# le64 N: N as 8 little-endian hex bytes for bpftool.
le64() {
	local n=$1 i out=""
	for ((i = 0; i < 8; i++)); do
		out+=$(printf '%02x ' $(((n >> (8 * i)) & 255)))
	done
	echo "$out"
}

# set_mask MASK: the block mask of group lab (2, the client's) in the running program, as
# the daemon writes it at a boundary.
set_mask() {
	local id
	id=$(prog_map_id group_policy) || return 1
	# shellcheck disable=SC2046
	bpftool map update id "$id" key hex 02 00 00 00 value hex $(le64 "$1") $(le64 0)
}

# learned_json: the pinned map learned, as bpftool dumps it (formatted by its BTF).
learned_json() {
	bpftool -j map dump pinned "$GUARD_PIN/learned" 2>/dev/null
}

# learned_entry ADDR: "CATS EXPIRES" of the learned entry for ADDR (IPv4 or IPv6), or empty.
learned_entry() {
	local key
	key=$("$PY" -c '
import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
b = a.packed + bytes(16 - len(a.packed))
print(" ".join(str(x) for x in [a.version, 0, 0, 0] + list(b)))' "$1")
	learned_json | jq -r --arg k "$key" '.[] | select((.formatted.key // .key) as $x |
		([$x.family] + $x.pad + $x.addr | map(tostring) | join(" ")) == $k) |
		"\(.formatted.value.cats // .value.cats) \(.formatted.value.expires // .value.expires)"'
}

# The lists and the category the group rule schedules.
printf '%s\n' "# e2e: scheduled" games.test >"$D/games.txt"
printf '%s\n' "# e2e: not scheduled" plain.test >"$D/plain.txt"
# write_conf NAME KEYS...: attach keys, the lists, a group that makes games learned
# the lists, a schedule, pupils (not the client: the reason games is learned) and lab (the
# client, group 2: nothing blocked, its mask the test's)
SECTIONS=$(printf '%s\n' "[list games]" "path = games.txt" "category = games" "action = block" \
	"" "[list plain]" "path = plain.txt" "category = plain" "action = block" \
	"" "[schedule class]" "timezone = UTC" "mon-fri = 08:00-12:00" \
	"" "[group pupils]" "clients = 192.0.2.128/25" "block = games@class" \
	"" "[group lab]" "clients = 192.0.2.0/25, 2001:db8:1::/64")
write_conf() {
	local name=$1
	shift
	guard_conf "$D/$name.conf" "$SECTIONS" "$@"
}

mode_conf() {
	case "$1" in
	native) write_conf native "interfaces = eth1, eth2" "xdp_mode = native" ;;
	tc) write_conf tc "tc_ingress = eth1, eth2" ;;
	egress) write_conf egress "tc_ingress = eth1" "tc_egress = eth1" ;;
	esac
}

GAMES_BIT=""

run_mode() {
	local m=$1 conf s0 s1 out t0 t_on t_off n v4 v6 gen id1 id2 e o f
	conf=$(mode_conf "$m")
	guard_start "$conf" || {
		not_ok "$m: bpfguard run"
		return
	}
	ok "$m: bpfguard run (learning: group pupils blocks games@class)"
	if [[ -z "$GAMES_BIT" ]]; then
		n=$(bpftool -j map dump pinned "$GUARD_PIN/list_meta" 2>/dev/null | jq -r \
			'.[] | (.formatted.value // .value) | select(.name == "games") | .category_id')
		[[ "$n" =~ ^[0-9]+$ ]] && GAMES_BIT=$((1 << n))
	fi
	[[ -n "$GAMES_BIT" ]] || bail "$m: the games category's id from the pinned list_meta"

	# the answers pass and are learned
	s0=$(snap)
	t0=$(mono)
	v4=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.games.test)
	v6=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 AAAA www.games.test)
	out=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.plain.test)
	s1=$(snap)
	assert_eq "203.0.113.20 2001:db8:3::20 203.0.113.130" "$v4 $v6 $out" \
		"$m: dig: the answers pass (A, AAAA of www.games.test; www.plain.test)"
	assert_deltas "$m: two answers learned from (the plain one passes unlearned)" "$s0" "$s1" \
		note_dns_learned=2 drop_learned=0
	for a in 203.0.113.20 2001:db8:3::20; do
		read -r e o <<<"$(learned_entry "$a")"
		if [[ "$e" == "$GAMES_BIT" && "$o" =~ ^[0-9]+$ ]] &&
			"$PY" -c 'import sys; d = int(sys.argv[1]) / 1e9 - float(sys.argv[2]); sys.exit(not 118 <= d <= 122)' "$o" "$t0"; then
			ok "$m: learned $a: games, expiring with the TTL (120 s)"
		else
			not_ok "$m: learned $a: games, expiring with the TTL (120 s)" \
				"entry: cats '$e' expires '$o' (now $t0)" "$(learned_json | head -c 1500)"
		fi
	done
	assert_eq "" "$(learned_entry 203.0.113.130)" "$m: the plain name's address is not learned"

	# open streams while games is off for the client's group
	set_mask 0 || not_ok "$m: write the client's group mask (bpftool)"
	if ! stream_start "v4-$m" 203.0.113.20 || ! stream_start "v6-$m" 2001:db8:3::20 ||
		! stream_start "plain-$m" 203.0.113.130; then
		bail "$m: open streams to the learned addresses and to 203.0.113.130"
	fi
	sleep 1
	s0=$(snap)
	t_on=$(mono)
	if set_mask "$GAMES_BIT"; then
		ok "$m: games turned on in the client's group mask (bpftool map update)"
	else
		not_ok "$m: games turned on in the client's group mask (bpftool map update)"
	fi
	sleep 2.5
	s1=$(snap)
	for n in "v4-$m" "v6-$m"; do
		read -r o f <<<"$(rounds "$n" "$(fadd "$t_on" -2)" "$t_on")"
		e=$(last_ok "$n")
		if ((o >= 10 && f == 0)) && before "$e" "$(fadd "$t_on" 1)"; then
			ok "$m: stream $n worked before ($o echoes) and stopped within 1 s (last echo at +$(fadd "$e" "-$t_on") s)"
		else
			not_ok "$m: stream $n worked before and stopped within 1 s" \
				"before: $o ok $f failed; last echo at $e, turned on at $t_on" \
				"$(tail -n 5 "$D/$n.log")"
		fi
	done
	read -r o f <<<"$(rounds "plain-$m" "$(fadd "$t_on" 0.5)" "$(fadd "$t_on" 2.5)")"
	assert_true "$m: the stream to an address not learned keeps working ($o ok, $f failed)" \
		test "$o" -gt 10 -a "$f" -eq 0
	n=$(cdelta "$s0" "$s1" drop_learned)
	assert_true "$m: drop_learned counts the dropped segments ($n)" test "$n" -gt 2 2>/dev/null

	# off again: the same connections resume (TCP retransmits)
	t_off=$(mono)
	set_mask 0 || not_ok "$m: write the client's group mask (bpftool)"
	sleep 5
	read -r o f <<<"$(rounds "v4-$m" "$t_off" "$(fadd "$t_off" 10)")"
	e=$(tail -n 1 "$D/v4-$m.log")
	assert_true "$m: games off again: the v4 stream resumes ($o echoes; last: $e)" \
		test "$o" -gt 3 -a "${e#* }" = ok

	# a reload keeps what was learned
	gen=$(bpfguard_g status --pin-dir "$GUARD_PIN" --json | jq -r '.generation')
	id1=$(bpftool -j map show pinned "$GUARD_PIN/learned" | jq -r '.id')
	kill -HUP "$GUARD_PID"
	for ((n = 0; n < 50; n++)); do
		[[ "$(bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null | jq -r '.generation')" == "$((gen + 1))" ]] && break
		sleep 0.1
	done
	id2=$(bpftool -j map show pinned "$GUARD_PIN/learned" | jq -r '.id')
	assert_eq "$id1 yes" "$id2 $([[ -n "$(learned_entry 203.0.113.20)" ]] && echo yes)" \
		"$m: SIGHUP: the reloaded program shares the learned map, its entries kept"
	t_on=$(mono)
	set_mask "$GAMES_BIT" || not_ok "$m: write the new program's mask"
	sleep 2
	e=$(last_ok "v4-$m")
	if before "$e" "$(fadd "$t_on" 1)"; then
		ok "$m: after the reload, games on stops the v4 stream again without a new answer"
	else
		not_ok "$m: after the reload, games on stops the v4 stream again without a new answer" \
			"last echo at $e, turned on at $t_on" "$(tail -n 5 "$D/v4-$m.log")"
	fi
	set_mask 0
	for n in "v4-$m" "v6-$m" "plain-$m"; do
		stream_stop "$n"
	done
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: SIGTERM: exit 0"
}

for mode in ${E2E_LEARN_MODES:-native tc egress}; do
	run_mode "$mode"
done

# --- learning turned on by a reload: the pinned maps grow ----------------------------------
# max_entries NAME: of the pinned map NAME of the running guard
max_entries() {
	bpftool -j map show pinned "$GUARD_PIN/$1" 2>/dev/null | jq -r '.max_entries'
}

CONF="$D/reload.conf"
{
	printf '[guard]\ntc_ingress = eth1, eth2\n'
	printf '\n[list games]\npath = games.txt\ncategory = games\naction = block\n'
	printf '\n[group lab]\nclients = 192.0.2.0/25\n'
} >"$CONF"
if guard_start "$CONF"; then
	assert_eq "1 1" "$(max_entries learned) $(max_entries learn_slots)" \
		"reload: no schedule, nothing learned: the pinned learned maps hold one entry"
	s0=$(snap)
	in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.games.test >/dev/null
	s1=$(snap)
	assert_deltas "reload: without learning, an answer is not examined" "$s0" "$s1" \
		note_dns_learned=0
	printf '\n[schedule class]\ntimezone = UTC\nmon-fri = 08:00-12:00\n' >>"$CONF"
	printf '\n[group pupils]\nclients = 192.0.2.128/25\nblock = games@class\n' >>"$CONF"
	kill -HUP "$GUARD_PID"
	for ((n = 0; n < 50; n++)); do
		[[ "$(bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null |
			jq -r '.generation')" == 2 ]] && break
		sleep 0.1
	done
	assert_eq "65536 262144" "$(max_entries learned) $(max_entries learn_slots)" \
		"reload: games@class learned now: the pins are maps of the full size"
	s0=$(snap)
	in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.games.test >/dev/null
	s1=$(snap)
	assert_deltas "reload: the reloaded program learns" "$s0" "$s1" note_dns_learned=1
	assert_match "reload: ... into the pinned map" '^[0-9]+ [0-9]+$' \
		"$(learned_entry 203.0.113.20)"

	# SIGKILL, then a new run on the same pins: it adopts what was learned
	id1=$(bpftool -j map show pinned "$GUARD_PIN/learned" | jq -r '.id')
	kill -KILL "$GUARD_PID"
	wait "$GUARD_PID" 2>/dev/null
	forget_pid "$GUARD_PID"
	GUARD_LOG="$E2E_TMP/adopt.log"
	bg_in_ns "$NS_GUARD" "$GUARD_LOG" "$BPFGUARD" run -c "$CONF" --pin-dir "$GUARD_PIN"
	GUARD_PID=$BG_PID
	for ((n = 0; n < 100; n++)); do
		bpfguard_g status --pin-dir "$GUARD_PIN" >/dev/null 2>&1 && break
		sleep 0.1
	done
	assert_eq "$id1 yes" "$(bpftool -j map show pinned "$GUARD_PIN/learned" | jq -r '.id') $(
		[[ -n "$(learned_entry 203.0.113.20)" ]] && echo yes)" \
		"adoption: after SIGKILL, a new run keeps the learned map and its entries"

	# a reload that renumbers the categories (a list before games): the learned bits would
	# name another category, so the learned addresses are forgotten, in a fresh map
	{
		printf '[guard]\ntc_ingress = eth1, eth2\n'
		printf '\n[list plain]\npath = plain.txt\ncategory = plain\naction = block\n'
		printf '\n[list games]\npath = games.txt\ncategory = games\naction = block\n'
		printf '\n[schedule class]\ntimezone = UTC\nmon-fri = 08:00-12:00\n'
		printf '\n[group pupils]\nclients = 192.0.2.128/25\nblock = games@class\n'
		printf '\n[group lab]\nclients = 192.0.2.0/25\n'
	} >"$CONF"
	gen=$(bpfguard_g status --pin-dir "$GUARD_PIN" --json | jq -r '.generation')
	kill -HUP "$GUARD_PID"
	for ((n = 0; n < 50; n++)); do
		[[ "$(bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null |
			jq -r '.generation')" == "$((gen + 1))" ]] && break
		sleep 0.1
	done
	id2=$(bpftool -j map show pinned "$GUARD_PIN/learned" | jq -r '.id')
	assert_true "renumbered categories: a fresh learned map ($id1 -> $id2), nothing kept" \
		test "$id2" != "$id1" -a -z "$(learned_entry 203.0.113.20)"
	assert_match "renumbered categories: the daemon says why" \
		'categories were renumbered: the addresses learned' "$(cat "$GUARD_LOG")"
	s0=$(snap)
	in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.games.test >/dev/null
	s1=$(snap)
	assert_deltas "renumbered categories: the next answer is learned again" "$s0" "$s1" \
		note_dns_learned=1
	guard_stop
	assert_eq 0 "$GUARD_RC" "reload: SIGTERM: exit 0"
else
	not_ok "reload: bpfguard run"
fi

# --- the real clock: the daemon's own boundary ---------------------------------------------
T0=$(($(date +%s) + 10))
read -r TZ0 WIN0 < <(schedule_from "$T0" 10)
CONF="$D/boundary.conf"
{
	printf '[guard]\ntc_ingress = eth1, eth2\n'
	printf '\n[list games]\npath = games.txt\ncategory = games\naction = block\n'
	printf '\n[schedule class]\ntimezone = %s\ndaily = %s\n' "$TZ0" "$WIN0"
	printf '\n[group pupils]\nclients = 192.0.2.2/32, 2001:db8:1::2/128\nblock = games@class\n'
} >"$CONF"
diag "boundary at $(date -d "@$T0" +%T) (class, $TZ0)"
if guard_start "$CONF"; then
	ok "boundary: bpfguard run, the pupils' class starting in a few seconds"
	v4=$(in_ns "$C" timeout 5 dig +time=1 +tries=1 +short @203.0.113.10 A www.games.test)
	assert_eq "203.0.113.20" "$v4" "boundary: dig before class: the answer passes"
	stream_start boundary 203.0.113.20 wall || not_ok "boundary: an open stream to 203.0.113.20"
	now=$(date +%s)
	if ((now < T0 - 1)); then
		sleep $((T0 - now + 2))
		read -r o f <<<"$(rounds boundary "$(fadd "$T0" -3)" "$(fadd "$T0" -0.35)")"
		e=$(last_ok boundary)
		if ((o >= 10 && f == 0)) && before "$e" "$(fadd "$T0" 1)"; then
			ok "boundary: the open stream worked before class ($o echoes) and stopped within 1 s of it"
		else
			not_ok "boundary: the open stream worked before class and stopped within 1 s of it" \
				"before: $o ok $f failed; last echo at $e, boundary at $T0" \
				"$(tail -n 5 "$D/boundary.log")" "$(tail -n 5 "$GUARD_LOG")"
		fi
		assert_match "boundary: the daemon logged it" 'schedule: group pupils now blocks games' \
			"$(cat "$GUARD_LOG")"
		assert_true "boundary: drop_learned counts" test "$(counter drop_learned)" -gt 2
	else
		not_ok "boundary: the guard started in time for the boundary" "now $now, boundary $T0"
	fi
	stream_stop boundary
	guard_stop
	assert_eq 0 "$GUARD_RC" "boundary: SIGTERM: exit 0"
else
	not_ok "boundary: bpfguard run"
fi

e2e_finish
