#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Hitless reloads and crash recovery under load (issue 4), with real traffic through the
# tests/e2e/lib.sh topology. Two client loops run in the background for the whole of each part:
# one fetches a page from allowed addresses as fast as it can (every failure is recorded), the
# other opens TCP connections to blocked addresses, 16 at a time, each given 0.3 s (every
# connection that gets an answer is recorded: a blocked SYN that got through).
#   1. Soak, in XDP native mode and in TC mode: 100 reloads, alternating SIGHUP and a rewrite of
#      the block list (same content, another order, one extra unrelated entry; in place or
#      renamed over), each awaited through `status --json` generation; 5 reloads that fail (a
#      config syntax error, a list file gone, ...) keep the policy and the generation. No
#      allowed request may fail, no blocked one pass; the counters only grow; every blocked SYN
#      is counted by the guard.
#   2. SIGKILL during the reload of a 300k-prefix policy, 0, 50, 150, 400 ms after the SIGHUP
#      and about when it swaps, each time followed by a new `run` on the same pins, in XDP and
#      in TC mode: the pinned program keeps enforcing while no daemon runs, the new run adopts
#      the link (XDP: the same link, its program updated) or the filter (TC: replaced), and the
#      loops, which run across every kill and restart, see no failure. SIGTERM then leaves
#      nothing attached and nothing pinned.
# The large list is 198.18.0.0/15 (benchmarking space) and 2001:db8:8000::/33: it sits in a
# list file only; the test sends traffic to documentation addresses alone.
#
# Also: a list file replaced while a reload runs (after the daemon read it) must be applied,
# not lost.
# Most of the time goes to the 200 reloads of part 1 (about 0.35 s each in the daemon, plus the
# 300 ms inotify debounce for half of them): 150-170 s in all on a 2-CPU machine.
#
# Environment: SOAK_RELOADS (default 100), to shorten the soak while working on it;
# SOAK_TIME_BUDGET (default 180 s), the time the whole file should take (reported, not asserted).

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOAK_RELOADS=${SOAK_RELOADS:-100}
# Steps (1-based) at which a failing reload is injected; the step itself repairs it.
FAIL_STEPS=(12 31 52 71 90)
# Milliseconds between SIGHUP and SIGKILL in part 2.
KILL_DELAYS=(0 50 150 400)
TIME_BUDGET=${SOAK_TIME_BUDGET:-180}
# now_us: microseconds since the epoch (bash's EPOCHREALTIME, no external command).
now_us() {
	echo "${EPOCHREALTIME/[.,]/}"
}
T_START=$(now_us)
# Blocked probes sent inside a counted interval: each is one more SYN for drop_ip_dst.
BLOCKED_PROBES=0

e2e_init
e2e_require_bpfguard
command -v bpftool >/dev/null || bail "tool 'bpftool' is missing: run 'make deps' (tools/deps.sh)"
make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"

C=$NS_CLIENT
G=$NS_GUARD
D="$E2E_TMP/conf"
mkdir -p "$D" "$D/away"
# The allowed loop opens many connections: let the client pick from every port.
in_ns "$C" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" >/dev/null

http_server_start "$NS_SERVER" 8080 || bail "python http.server in the server namespace"
# The loops and the server take whatever CPU is left, but the guard under test comes first
# (nice 10; the server's threads inherit it): a reload must not wait for the traffic.
renice -n 10 -p "$HTTP_PID" >/dev/null

# ---- the client loops ------------------------------------------------------------------------
LOOP_PY="$E2E_TMP/loop.py"
cat >"$LOOP_PY" <<'PYEOF'
"""Client loops for test_reload_soak.sh.

allowed RESULT EVENTS STOP ADDR...: GET /probe from ADDR:8080 in turn, as fast as possible,
    each within 1 s (connect, request, whole answer); a failure is any error, timeout or wrong
    body. Closes with SO_LINGER 0 after the server's FIN, so no side keeps TIME_WAIT.
blocked RESULT EVENTS STOP INFLIGHT ADDR...: keep INFLIGHT non-blocking connects to ADDR:8080
    open; one that is answered (connected, or refused) is a blocked request that passed; one
    that is still pending after 0.3 s is closed (a SYN_SENT socket closes silently: exactly one
    SYN per attempt, unless the process stalled past the 1 s SYN retransmission: "late").
probe-allowed ADDR / probe-blocked ADDR: one attempt; exit 0 when the guard did its job.
Each loop runs until the file STOP exists, appends every failure to EVENTS at once (time,
address, what) and writes its totals to RESULT as JSON when it stops.
"""
import json, os, selectors, socket, struct, sys, time

PORT = 8080
EXPECT = b"bpfguard-e2e 8080\n"
LINGER0 = struct.pack("ii", 1, 0)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def get(addr, limit=1.0):
    t0 = time.monotonic()
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    try:
        s.settimeout(limit)
        s.connect((addr, PORT))
        s.sendall(b"GET /probe HTTP/1.0\r\nHost: soak\r\n\r\n")
        buf = b""
        while True:
            left = limit - (time.monotonic() - t0)
            if left <= 0:
                raise TimeoutError("no complete answer within %.1f s" % limit)
            s.settimeout(left)
            d = s.recv(65536)
            if not d:
                break
            buf += d
        if not buf.startswith(b"HTTP/1.0 200") or not buf.endswith(EXPECT):
            raise ValueError("unexpected answer %r" % buf[:80])
    finally:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        s.close()
    return time.monotonic() - t0


def allowed(result, events, stop, addrs):
    n = {a: 0 for a in addrs}
    fails = {a: 0 for a in addrs}
    worst = 0.0
    i = 0
    with open(events, "a", buffering=1) as ev:
        while not os.path.exists(stop):
            a = addrs[i % len(addrs)]
            i += 1
            n[a] += 1
            try:
                worst = max(worst, get(a))
            except Exception as e:  # every kind of failure counts
                fails[a] += 1
                ev.write("%.6f allowed-failed %s %s: %s\n" % (time.time(), a,
                         type(e).__name__, e))
    json.dump({"attempts": sum(n.values()), "failures": sum(fails.values()),
               "per_addr": n, "failures_per_addr": fails, "slowest_s": round(worst, 4)},
              open(result, "w"))


def blocked(result, events, stop, inflight, addrs):
    sel = selectors.DefaultSelector()
    live = {}
    n = {a: 0 for a in addrs}
    passed = {a: 0 for a in addrs}
    late = 0
    i = 0
    with open(events, "a", buffering=1) as ev:
        while True:
            stopping = os.path.exists(stop)
            while not stopping and len(live) < inflight:
                a = addrs[i % len(addrs)]
                i += 1
                s = socket.socket(family(a), socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((a, PORT))
                sel.register(s, selectors.EVENT_WRITE)
                live[s] = (time.monotonic(), a)
            for key, _ in sel.select(timeout=0.02):
                s = key.fileobj
                t0, a = live.pop(s)
                sel.unregister(s)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                n[a] += 1
                passed[a] += 1
                ev.write("%.6f blocked-passed %s %s after %.3f s\n" % (time.time(), a,
                         "connected" if err == 0 else "answered: " + os.strerror(err),
                         time.monotonic() - t0))
                s.close()
            now = time.monotonic()
            for s, (t0, a) in list(live.items()):
                if now - t0 >= 0.3:
                    del live[s]
                    sel.unregister(s)
                    s.close()
                    n[a] += 1
                    if now - t0 >= 0.95:
                        late += 1
            if stopping and not live:
                break
    json.dump({"attempts": sum(n.values()), "passed": sum(passed.values()), "late": late,
               "per_addr": n, "passed_per_addr": passed}, open(result, "w"))


def main():
    mode = sys.argv[1]
    if mode == "allowed":
        allowed(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif mode == "blocked":
        blocked(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:])
    elif mode == "probe-allowed":
        try:
            get(sys.argv[2])
        except Exception as e:
            sys.exit("GET %s failed: %s: %s" % (sys.argv[2], type(e).__name__, e))
    elif mode == "probe-blocked":
        s = socket.socket(family(sys.argv[2]), socket.SOCK_STREAM)
        s.settimeout(0.3)
        try:
            s.connect((sys.argv[2], PORT))
        except (TimeoutError, socket.timeout):
            sys.exit(0)
        except OSError as e:
            sys.exit("connect %s was answered: %s" % (sys.argv[2], e))
        sys.exit("connect %s succeeded: the blocked address is reachable" % sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)


main()
PYEOF

ALLOWED_ADDRS=(203.0.113.20 2001:db8:3::20 203.0.113.130)
BLOCKED_ADDRS=(203.0.113.10 2001:db8:3::10)
LOOP_SEQ=0

# loops_start: both loops in the client namespace, with fresh result, event and stop files.
# Sets LOOP_A, LOOP_B (PIDs) and LOOP_DIR.
loops_start() {
	LOOP_SEQ=$((LOOP_SEQ + 1))
	LOOP_DIR="$E2E_TMP/loops-$LOOP_SEQ"
	mkdir -p "$LOOP_DIR"
	: >"$LOOP_DIR/events"
	bg_in_ns "$C" "$LOOP_DIR/allowed.log" nice -n 10 "$PY" "$LOOP_PY" allowed \
		"$LOOP_DIR/allowed.json" "$LOOP_DIR/events" "$LOOP_DIR/stop" "${ALLOWED_ADDRS[@]}"
	LOOP_A=$BG_PID
	bg_in_ns "$C" "$LOOP_DIR/blocked.log" nice -n 10 "$PY" "$LOOP_PY" blocked \
		"$LOOP_DIR/blocked.json" "$LOOP_DIR/events" "$LOOP_DIR/stop" 16 \
		"${BLOCKED_ADDRS[@]}"
	LOOP_B=$BG_PID
}

# loops_stop: touch the stop file, wait (at most 10 s) for both loops to write their totals.
loops_stop() {
	local pid i
	touch "$LOOP_DIR/stop"
	for pid in "$LOOP_A" "$LOOP_B"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		forget_pid "$pid"
	done
}

# loop_events: the failures the loops recorded so far.
loop_events() {
	wc -l <"$LOOP_DIR/events"
}

# loops_alive: both loops still running.
loops_alive() {
	kill -0 "$LOOP_A" 2>/dev/null && kill -0 "$LOOP_B" 2>/dev/null
}

# probe KIND ADDR: one probe-allowed / probe-blocked from the client; prints why it failed.
# (Not counted in BLOCKED_PROBES: only used before a counted interval.)
probe() {
	timeout 5 nsenter --net="/run/netns/$C" "$PY" "$LOOP_PY" "probe-$1" "$2" 2>&1
}

# probes "KIND ADDR"...: the probes at once; 0 when all succeed, their messages in PROBES_OUT.
probes() {
	local spec pids=() i=0 rc=0
	for spec in "$@"; do
		[[ $spec == blocked* ]] && BLOCKED_PROBES=$((BLOCKED_PROBES + 1))
		# shellcheck disable=SC2086 # "KIND ADDR" is two words
		probe $spec >"$E2E_TMP/probe-$i.out" &
		pids+=($!)
		i=$((i + 1))
	done
	PROBES_OUT=""
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || rc=1
		PROBES_OUT+=$(cat "$E2E_TMP/probe-$i.out")
	done
	return $rc
}

# loops_report LABEL S0 S1 PROBES: assert on what the stopped loops saw and what the guard
# counted between the snaps S0 (before the loops started) and S1 (after they stopped), while
# the test itself also sent PROBES blocked probes (one SYN each).
loops_report() {
	local m=$1 s0=$2 s1=$3 np=$4 a b a_n a_f b_n b_p late drops hits ev allow_n allow_hits
	local slow sent
	a=$(cat "$LOOP_DIR/allowed.json" 2>/dev/null)
	b=$(cat "$LOOP_DIR/blocked.json" 2>/dev/null)
	if [[ -z "$a" || -z "$b" ]]; then
		not_ok "$m: the client loops wrote their totals" \
			"allowed: $(tail -n 5 "$LOOP_DIR/allowed.log")" \
			"blocked: $(tail -n 5 "$LOOP_DIR/blocked.log")"
		return
	fi
	a_n=$(_jnum "$a" .attempts)
	a_f=$(_jnum "$a" .failures)
	slow=$(_jnum "$a" .slowest_s)
	b_n=$(_jnum "$b" .attempts)
	b_p=$(_jnum "$b" .passed)
	late=$(_jnum "$b" .late)
	diag "$m: allowed loop: $a" "$m: blocked loop: $b"
	ev=$(head -n 20 "$LOOP_DIR/events")
	assert_eq 0 "$a_f" "$m: no allowed request failed ($a_n GETs, slowest $slow s)"
	[[ "$a_f" == 0 ]] || diag "first failures:" "$ev"
	assert_eq 0 "$b_p" "$m: no blocked request passed ($b_n connects of 0.3 s)"
	[[ "$b_p" == 0 ]] || diag "first failures:" "$ev"
	if [[ "$a_n" =~ ^[0-9]+$ && "$b_n" =~ ^[0-9]+$ ]] && ((a_n >= 300 && b_n >= 100)); then
		ok "$m: the loops made enough attempts ($a_n allowed >= 300, $b_n blocked >= 100)"
	else
		not_ok "$m: the loops made enough attempts" \
			"allowed $a_n (want >= 300), blocked $b_n (want >= 100)"
	fi
	# Each blocked attempt and probe sent exactly one SYN (a "late" attempt perhaps two): all
	# dropped and counted, by drop_ip_dst and by the e2e-block list, and nothing else dropped.
	drops=$(cdelta "$s0" "$s1" drop_ip_dst)
	hits=$(ldelta "$s0" "$s1" e2e-block)
	sent="$b_n attempts + $np probes, $late late; list e2e-block +$hits"
	if [[ "$drops" =~ ^[0-9]+$ && "$b_n" =~ ^[0-9]+$ && "$late" =~ ^[0-9]+$ ]] &&
		((drops >= b_n + np && drops <= b_n + np + late)) && [[ "$hits" == "$drops" ]]; then
		ok "$m: every blocked SYN dropped and counted (drop_ip_dst +$drops = $sent)"
	else
		not_ok "$m: every blocked SYN was dropped and counted" \
			"drop_ip_dst +$drops; $sent"
	fi
	# The allowed loop's GETs to allow-list entries were each at least 3 packets (SYN, ACK,
	# request) through the e2e-allow list.
	allow_n=$(jq -r '.per_addr["203.0.113.20"] + .per_addr["2001:db8:3::20"]' <<<"$a")
	allow_hits=$(ldelta "$s0" "$s1" e2e-allow)
	if [[ "$allow_hits" =~ ^[0-9]+$ && "$allow_n" =~ ^[0-9]+$ ]] &&
		((allow_hits >= 3 * allow_n)); then
		ok "$m: list e2e-allow counted the GETs (+$allow_hits packets, $allow_n GETs)"
	else
		not_ok "$m: list e2e-allow counted the allowed GETs" \
			"+$allow_hits packets for $allow_n GETs (want >= 3 each)"
	fi
}

# ---- guard helpers ---------------------------------------------------------------------------

# status_json: `status --json` of GUARD_PIN (empty when unreadable).
status_json() {
	bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null
}

# generation: from status --json, "?" when unreadable.
generation() {
	local v
	v=$(status_json | jq -er '.generation' 2>/dev/null) || v="?"
	echo "$v"
}

# wait_gen_at_least N SECONDS [FIRST]: poll status --json every 20 ms, the first time after
# FIRST seconds (no reload is quicker: fewer polls beside the reload); prints the generation.
wait_gen_at_least() {
	local want=$1 end g
	end=$(($(now_us) + $2 * 1000000))
	[[ -n "${3:-}" ]] && sleep "$3"
	while :; do
		g=$(generation)
		if [[ "$g" =~ ^[0-9]+$ ]] && ((g >= want)); then
			echo "$g"
			return 0
		fi
		if (($(now_us) > end)); then
			echo "$g"
			return 1
		fi
		sleep 0.02
	done
}

# failed_reloads: "reload failed" lines in the guard's log so far.
failed_reloads() {
	grep -c 'reload failed' "$GUARD_LOG" 2>/dev/null
}

# wait_failed_reload N: until the log shows more than N failed reloads (at most 5 s).
wait_failed_reload() {
	local i
	for ((i = 0; i < 250; i++)); do
		(($(failed_reloads) > $1)) && return 0
		sleep 0.02
	done
	return 1
}

# ms_since T0: milliseconds from T0 (now_us) until now.
ms_since() {
	echo $((($(now_us) - $1) / 1000))
}

# sample: "drop_ip_dst pass_allow block_hits block_entries allow_hits" from stats --json.
sample() {
	guard_stats 2>/dev/null | jq -r '[.counters.drop_ip_dst.packets,
		.counters.pass_allow.packets,
		(.lists[] | select(.name == "e2e-block") | .packets, .entries),
		(.lists[] | select(.name == "e2e-allow") | .packets)] | map(tostring) | join(" ")'
}

# replace_file PATH CONTENT: write CONTENT to PATH.tmp, then rename it over PATH (what editors
# and package managers do).
replace_file() {
	printf '%s' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# own_times: the daemon's own time for each reload so far, in ms, from its log.
own_times() {
	grep -o 'reloaded: .* in [0-9.]* s' "$GUARD_LOG" | awk '{ print int($(NF - 1) * 1000) }'
}

# stats_line NAME VALUES...: "NAME: n N, min/avg/max A/B/C" of integer milliseconds.
stats_line() {
	local name=$1
	shift
	if (($# == 0)); then
		echo "$name: none"
		return
	fi
	printf '%s\n' "$@" | awk -v n="$name" '{ s += $1; if (NR == 1 || $1 < lo) lo = $1;
		if ($1 > hi) hi = $1 } END { printf "%s: %d, min/avg/max %d/%d/%d ms\n", n, NR, lo,
		s / NR, hi }'
}

# ---- part 1: the soak ------------------------------------------------------------------------
BLOCK_A=$'# soak: blocked documentation prefixes\n203.0.113.0/25\n2001:db8:3::10/128\n'
BLOCK_B=$'2001:db8:3::10/128\n# soak: the same entries, the other way round\n203.0.113.0/25\n'
BLOCK_C=$'# soak: one extra entry no traffic goes to\n203.0.113.0/25\n203.0.113.250/32\n'
BLOCK_C+=$'2001:db8:3::10/128\n'
ALLOW=$'# soak: allowed inside the blocked /25\n203.0.113.20/32\n2001:db8:3::20/128\n'

# soak_conf GUARD_LINE...: the soak config, printed (written by the caller).
soak_conf() {
	local line
	echo "[guard]"
	for line in "$@"; do
		echo "$line"
	done
	printf '\n[list e2e-block]\npath = block.txt\ncategory = e2e\naction = block\n'
	printf '\n[list e2e-allow]\npath = allow.txt\ncategory = e2e\naction = allow\n'
}

# inject_failure K: make the K-th kind of failing reload happen and wait for it (the log says
# "reload failed"); sets FAIL_DESC. The matching repair is repair_failure K.
inject_failure() {
	local k=$1 n
	n=$(failed_reloads)
	case $k in
	0)
		FAIL_DESC="config syntax error (unclosed [section), by inotify, then SIGHUP"
		replace_file "$CONF" \
			"$(sed 's/^\[list e2e-allow\]$/[list e2e-allow/' "$CONF_GOOD")"$'\n'
		wait_failed_reload "$n" || return 1
		n=$(failed_reloads)
		kill -HUP "$GUARD_PID"
		;;
	1)
		FAIL_DESC="block list file moved away, then SIGHUP"
		mv "$D/block.txt" "$D/away/block.txt"
		kill -HUP "$GUARD_PID"
		;;
	2)
		FAIL_DESC="config with an unknown key, seen by inotify"
		replace_file "$CONF" "$(sed 's/^action = allow$/acton = allow/' "$CONF_GOOD")"$'\n'
		;;
	3)
		FAIL_DESC="config naming a list file that does not exist, seen by inotify"
		replace_file "$CONF" \
			"$(sed 's/^path = allow.txt$/path = no-such-allow.txt/' "$CONF_GOOD")"$'\n'
		;;
	4)
		FAIL_DESC="allow list file deleted, seen by inotify"
		rm -f "$D/allow.txt"
		;;
	esac
	wait_failed_reload "$n"
}

repair_failure() {
	case $1 in
	0 | 2 | 3) replace_file "$CONF" "$(cat "$CONF_GOOD")"$'\n' ;;
	1) mv "$D/away/block.txt" "$D/block.txt" ;;
	4) replace_file "$D/allow.txt" "$ALLOW" ;;
	esac
}

# soak LABEL HOOK GUARD_LINE...: start a guard with the soak config, run the loops, reload
# SOAK_RELOADS times (with the failures of FAIL_STEPS), then check and stop.
soak() {
	local m=$1 hook=$2 s0 s1 g0 g i k t0 ms kind variant expect=2 fk=0 fails_ok=0
	local first prev cur bad_mono=0 bad_entries=0 hup_ms=() file_ms=() fix_ms=() p c P Q
	local t_part
	t_part=$(now_us)
	shift 2
	diag "=== soak: $m, $SOAK_RELOADS reloads"
	CONF="$D/soak-${m// /-}.conf"
	CONF_GOOD="$CONF.good"
	soak_conf "$@" >"$CONF_GOOD"
	cp "$CONF_GOOD" "$CONF"
	printf '%s' "$BLOCK_A" >"$D/block.txt"
	printf '%s' "$ALLOW" >"$D/allow.txt"
	if ! guard_start "$CONF"; then
		not_ok "$m: bpfguard run becomes ready"
		guard_stop
		return
	fi
	ok "$m: bpfguard run becomes ready ($hook on eth1)"
	assert_true "$m: blocked 203.0.113.10 before the soak" probe blocked 203.0.113.10
	assert_true "$m: allowed 203.0.113.20 before the soak" probe allowed 203.0.113.20
	g0=$(generation)
	s0=$(snap)
	BLOCKED_PROBES=0
	prev=$(sample)
	loops_start
	sleep 0.3
	if ! loops_alive; then
		not_ok "$m: the client loops are running" "$(tail -n 5 "$LOOP_DIR"/*.log)"
		loops_stop
		guard_stop
		return
	fi

	g=$g0
	for ((i = 1; i <= SOAK_RELOADS; i++)); do
		if [[ " ${FAIL_STEPS[*]} " == *" $i "* ]] && ((fk < 5)); then
			# a reload that fails, then this step repairs it
			p=$(generation)
			if inject_failure "$fk"; then
				c=$(generation)
				if [[ "$c" == "$p" ]] && kill -0 "$GUARD_PID" 2>/dev/null &&
					probes "blocked 203.0.113.10" "allowed 203.0.113.20"; then
					ok "$m: failing reload, $FAIL_DESC: generation stays $c"
					fails_ok=$((fails_ok + 1))
				else
					not_ok "$m: failing reload, $FAIL_DESC: generation stays" \
						"generation $p -> $c" "$PROBES_OUT" \
						"$(tail -n 5 "$GUARD_LOG")"
				fi
			else
				not_ok "$m: failing reload, $FAIL_DESC: the log says it failed" \
					"$(tail -n 5 "$GUARD_LOG")"
			fi
			kind=fix
			t0=$(now_us)
			repair_failure "$fk"
			fk=$((fk + 1))
		elif ((i % 2)); then
			kind=hup
			t0=$(now_us)
			kill -HUP "$GUARD_PID"
		else
			kind="file"
			variant=$(((i / 2) % 6))
			t0=$(now_us)
			case $variant in
			0) printf '%s' "$BLOCK_A" >"$D/block.txt" ;;
			1) replace_file "$D/block.txt" "$BLOCK_B" ;;
			2) printf '%s' "$BLOCK_B" >"$D/block.txt" ;;
			3) replace_file "$D/block.txt" "$BLOCK_C" ;;
			4) replace_file "$D/block.txt" "$BLOCK_A" ;;
			5) printf '%s' "$BLOCK_A" >"$D/block.txt" ;;
			esac
			# 3: the extra entry; 0, 2, 5: the same content again, written in place
			expect=2
			((variant == 3)) && expect=3
		fi
		first=0.25
		[[ $kind == hup ]] || first=0.55
		if ! g=$(wait_gen_at_least $((g0 + i)) 10 "$first"); then
			not_ok "$m: reload $i ($kind) completes within 10 s" "generation $g" \
				"$(tail -n 5 "$GUARD_LOG")"
			break
		fi
		ms=$(ms_since "$t0")
		case $kind in
		hup) hup_ms+=("$ms") ;;
		file) file_ms+=("$ms") ;;
		fix) fix_ms+=("$ms") ;;
		esac
		cur=$(sample)
		read -r -a P <<<"$prev"
		read -r -a Q <<<"$cur"
		if ((${#Q[@]} != 5)); then
			bad_mono=$((bad_mono + 1))
			diag "reload $i: stats --json unreadable: '$cur'"
		else
			for k in 0 1 2 4; do
				if ((Q[k] < P[k])); then
					bad_mono=$((bad_mono + 1))
					diag "reload $i: a counter went down: '$prev' -> '$cur'"
					break
				fi
			done
			if ((Q[3] != expect)); then
				bad_entries=$((bad_entries + 1))
				diag "reload $i: e2e-block has ${Q[3]} entries, the file $expect"
			fi
			prev=$cur
		fi
	done
	g=$(generation)
	loops_stop
	sleep 0.2
	s1=$(snap)

	assert_eq "$((g0 + SOAK_RELOADS))" "$g" \
		"$m: $SOAK_RELOADS reloads: generation $g0 -> $((g0 + SOAK_RELOADS)), each awaited"
	assert_eq "$fk" "$fails_ok" "$m: $fk failing reloads kept the policy and the generation"
	assert_eq 0 "$bad_mono" \
		"$m: drop_ip_dst, pass_allow and the list hits only grew, read after every reload"
	assert_eq 0 "$bad_entries" \
		"$m: after every reload e2e-block had the entries of its file (2 or 3)"
	assert_true "$m: the guard is still running" kill -0 "$GUARD_PID"
	diag "$m: reload times, from the trigger until status --json shows the new generation:" \
		"$(stats_line "SIGHUP" "${hup_ms[@]}")" \
		"$(stats_line "list rewrite (inotify, 300 ms debounce)" "${file_ms[@]}")" \
		"$(stats_line "repair after a failure" "${fix_ms[@]}")" \
		"$(own_times | awk '{ s += $1; if ($1 > hi) hi = $1 } END { printf \
			"in the daemon: %d reloads, avg %d ms, max %d ms", NR, s / NR, hi }')"
	loops_report "$m" "$s0" "$s1" "$BLOCKED_PROBES"
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: SIGTERM: exit 0"
	diag "soak $m: $(($(ms_since "$t_part") / 1000)) s"
}

soak "xdp native" "xdp native" "interfaces = eth1" "xdp_mode = native"
soak "tc ingress" "tc ingress" "tc_ingress = eth1"
diag "part 1 done after $(($(ms_since "$T_START") / 1000)) s"

# ---- part 2: SIGKILL during a reload of a large policy, then adoption ------------------------
BIG_PY="$E2E_TMP/big.py"
cat >"$BIG_PY" <<'PYEOF'
# 300000 distinct prefixes: every /24 and /32 of 198.18.0.0/15 (131584), the rest random /64
# and /128 in 2001:db8:8000::/33; shuffled. No traffic ever goes to any of them.
import random, sys
rng = random.Random(4)
lines = ["198.%d.%d.0/24" % (18 + (i >> 8), i & 255) for i in range(512)]
lines += ["198.%d.%d.%d/32" % (18 + (i >> 16), (i >> 8) & 255, i & 255) for i in range(131072)]
seen = set()
while len(lines) < int(sys.argv[1]):
    a = rng.getrandbits(31) | 1 << 31
    if rng.random() < 0.5:
        p = "2001:db8:%x:%x::/64" % (a >> 16, a & 0xffff)
    else:
        p = "2001:db8:%x:%x:%x::%x/128" % (a >> 16, a & 0xffff, rng.getrandbits(16),
                                             rng.getrandbits(16))
    if p not in seen:
        seen.add(p)
        lines.append(p)
rng.shuffle(lines)
sys.stdout.write("\n".join(lines) + "\n")
PYEOF
"$PY" "$BIG_PY" 300000 >"$D/big.txt" || bail "generating the 300k-prefix list"
printf '%s' "$BLOCK_A" >"$D/block.txt"
printf '%s' "$ALLOW" >"$D/allow.txt"

# big_conf GUARD_LINE...
big_conf() {
	soak_conf "$@"
	printf '\n[list bench-big]\npath = big.txt\ncategory = bench\naction = block\n'
}

# xdp_link_ids PIN: "LINK_ID PROG_ID" of the XDP link pinned in PIN (empty if none).
xdp_link_ids() {
	bpftool -j link show pinned "$1/link_xdp_eth1" 2>/dev/null | jq -r '"\(.id) \(.prog_id)"'
}

# adopt CONF: a new `run` on GUARD_PIN; waits (at most 20 s) until status exits 0. Sets
# GUARD_PID, GUARD_LOG, ADOPT_MS.
adopt() {
	local conf=$1 t0 i
	GUARD_LOG="$E2E_TMP/adopt-$E2E_PIN_SEQ-$RANDOM.log"
	t0=$(now_us)
	bg_in_ns "$G" "$GUARD_LOG" "$BPFGUARD" -v run -c "$conf" --pin-dir "$GUARD_PIN"
	GUARD_PID=$BG_PID
	for ((i = 0; i < 1000; i++)); do
		kill -0 "$GUARD_PID" 2>/dev/null || break
		if bpfguard_g status --pin-dir "$GUARD_PIN" >/dev/null 2>&1; then
			ADOPT_MS=$(ms_since "$t0")
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# map_fds PID: how many BPF maps the process has open.
map_fds() {
	find "/proc/$1/fd" -lname 'anon_inode:bpf-map' 2>/dev/null | wc -l
}

# edit_during_reload LABEL: SIGHUP, then, as soon as the daemon creates the maps of the new
# instance (it has read the list files by then, and the program load and the filling of 300k
# prefixes are still ahead), replace the block list with one more entry. The change must not
# be lost: within 5 s the guard has the new entry.
edit_during_reload() {
	local m=$1 g g1 n0 i n="?" when
	g=$(generation)
	n0=$(map_fds "$GUARD_PID")
	kill -HUP "$GUARD_PID"
	for ((i = 0; i < 500; i++)); do
		(($(map_fds "$GUARD_PID") > n0)) && break
		sleep 0.01
	done
	replace_file "$D/block.txt" "$BLOCK_C"
	g1=$(generation)
	when="the new maps appeared, generation still $g1"
	((i < 500)) || when="no new maps seen in 5 s"
	for ((i = 0; i < 50; i++)); do
		n=$(list_hits e2e-block entries)
		[[ "$n" == 3 ]] && break
		sleep 0.1
	done
	if [[ "$n" == 3 ]]; then
		ok "$m: list replaced during a reload ($when): applied, gen $g -> $(generation)"
	else
		not_ok "$m: list replaced during a reload ($when): applied within 5 s" \
			"e2e-block has $n entries, the file 3; generation $g -> $(generation)" \
			"the daemon's log: $(tail -n 4 "$GUARD_LOG")"
	fi
}

# crash LABEL HOOK GUARD_LINE...
crash() {
	local m=$1 hook=$2 conf s0 s1 g t0 ms d pid out rc kp0 kp1 kp sp ids0 ids1 ev0 ev1 gen
	local ok_all dt_hup m2 n_before=0 n_after=0 own="" i
	local t_part
	t_part=$(now_us)
	shift 2
	diag "=== SIGKILL during reloads: $m, 300k prefixes"
	conf="$D/big-${m// /-}.conf"
	big_conf "$@" >"$conf"
	printf '%s' "$BLOCK_A" >"$D/block.txt"
	t0=$(now_us)
	if ! guard_start "$conf"; then
		not_ok "$m: bpfguard run with 300k prefixes becomes ready"
		guard_stop
		return
	fi
	ok "$m: bpfguard run with 300k prefixes becomes ready ($(ms_since "$t0") ms)"
	assert_eq 300000 "$(list_hits bench-big entries)" "$m: bench-big has 300000 entries"
	s0=$(snap)
	BLOCKED_PROBES=0
	loops_start
	sleep 0.3
	g=$(generation)
	t0=$(now_us)
	kill -HUP "$GUARD_PID"
	if g=$(wait_gen_at_least $((g + 1)) 20); then
		dt_hup=$(ms_since "$t0")
		# the daemon logs its time just after it writes the new generation
		for ((i = 0; i < 20; i++)); do
			own=$(own_times | tail -n 1)
			[[ -n "$own" ]] && break
			sleep 0.05
		done
		ok "$m: a whole reload of 300k prefixes: $dt_hup ms to the generation ($own ms own)"
	else
		not_ok "$m: a whole reload of 300k prefixes completes" "$(tail -n 5 "$GUARD_LOG")"
		dt_hup=1000
	fi

	# The fixed delays, then about when a reload like this one swaps (the daemon's own time
	# for it, less 30 ms).
	[[ "$own" =~ ^[0-9]+$ ]] || own=$dt_hup
	[[ "$hook" == xdp* ]] && edit_during_reload "$m"
	for d in "${KILL_DELAYS[@]}" $((own - 30)); do
		m2="$m: kill -9 ${d} ms after SIGHUP"
		kp0=$(kernel_prog eth1 "$hook")
		ids0=$(xdp_link_ids "$GUARD_PIN")
		ev0=$(loop_events)
		gen=$(generation)
		pid=$GUARD_PID
		kill -HUP "$pid"
		((d > 0)) && sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		forget_pid "$pid"
		GUARD_PID=""
		kp1=$(kernel_prog eth1 "$hook")
		if [[ "$kp0" == "$kp1" ]]; then
			n_before=$((n_before + 1))
			out="killed before the swap"
		else
			n_after=$((n_after + 1))
			out="killed after the swap"
		fi
		diag "$m2: the log ended with: $(tail -n 1 "$GUARD_LOG")" \
			"prog on eth1 $kp0 -> $kp1 ($out); record generation $gen -> $(generation)"
		out=$(bpfguard_g status --pin-dir "$GUARD_PIN" 2>&1)
		rc=$?
		if [[ $rc == 1 && "$out" =~ [Nn][Oo][Tt]\ running ]]; then
			ok "$m2: status exits 1, not running"
		else
			not_ok "$m2: status exits 1, not running" "exit $rc: $out"
		fi
		# The pinned program enforces with no daemon at all.
		ok_all=1
		[[ "$kp1" =~ ^[0-9]+$ ]] || ok_all=0
		probes "blocked 203.0.113.10" "blocked 2001:db8:3::10" "allowed 203.0.113.20" \
			"allowed 2001:db8:3::20" || ok_all=0
		out=$PROBES_OUT
		if ((ok_all)); then
			out="203.0.113.10, 2001:db8:3::10 blocked; 203.0.113.20, 2001:db8:3::20"
			out+=" served"
			ok "$m2: no daemon, prog $kp1 still enforcing: $out"
		else
			not_ok "$m2: no daemon, the pinned program still enforces" \
				"prog on eth1: '$kp1'" "$out"
		fi
		# A new run adopts the pins.
		if ! adopt "$conf"; then
			not_ok "$m2: a new run adopts the pins and becomes ready" \
				"$(tail -n 10 "$GUARD_LOG")"
			guard_stop
			break
		fi
		kp=$(kernel_prog eth1 "$hook")
		sp=$(status_prog eth1 "$hook")
		out='adopting the pins'
		[[ "$hook" == xdp* ]] && out+='.*adopted the XDP link'
		if [[ "$(tr '\n' ' ' <"$GUARD_LOG")" =~ $out ]]; then
			ok "$m2: a new run (-v) says it adopts the pins, ready in $ADOPT_MS ms"
		else
			not_ok "$m2: a new run (-v) says it adopts the pins" \
				"no /$out/ in its log:" "$(head -n 20 "$GUARD_LOG")"
		fi
		if [[ "$hook" == xdp* ]]; then
			ids1=$(xdp_link_ids "$GUARD_PIN")
			if [[ -n "$ids0" && "${ids1%% *}" == "${ids0%% *}" &&
				"${ids1#* }" == "$sp" && "$kp" == "$sp" && "$sp" != "$kp1" ]]; then
				ok "$m2: XDP link ${ids1%% *} updated in place, prog $kp1 -> $sp"
			else
				not_ok "$m2: the XDP link is updated in place" \
					"link/prog before: '$ids0', after: '$ids1'" \
					"kernel '$kp', status '$sp', the killed guard's prog '$kp1'"
			fi
		else
			out=$(tc -n "$G" -j filter show dev eth1 ingress |
				jq '[.[] | select(.options.prog)] | length')
			if [[ "$out" == 1 && "$kp" == "$sp" && "$sp" != "$kp1" ]]; then
				ok "$m2: TC filter replaced: one filter, prog $kp1 -> $sp (status)"
			else
				not_ok "$m2: the TC filter is replaced" \
					"filters with a prog: $out" \
					"kernel '$kp', status '$sp', the killed guard's prog '$kp1'"
			fi
		fi
		ev1=$(loop_events)
		assert_eq "$ev0" "$ev1" \
			"$m2: the loops saw no failure across the kill and the restart"
		loops_alive ||
			not_ok "$m2: the client loops still run" "$(tail -n 3 "$LOOP_DIR"/*.log)"
	done

	loops_stop
	sleep 0.2
	s1=$(snap)
	loops_report "$m (kills and restarts)" "$s0" "$s1" "$BLOCKED_PROBES"
	diag "$m: kills that landed before the swap: $n_before, after it: $n_after"

	# SIGTERM: nothing left.
	local pin=$GUARD_PIN
	guard_stop
	assert_eq 0 "$GUARD_RC" "$m: SIGTERM: exit 0"
	assert_eq "" "$(kernel_prog eth1 "$hook")" "$m: after SIGTERM no program on eth1"
	assert_nomatch "$m: after SIGTERM no XDP on eth1" 'xdp' "$(ip -n "$G" link show dev eth1)"
	assert_eq "" "$(tc -n "$G" filter show dev eth1 ingress 2>/dev/null)" \
		"$m: after SIGTERM no TC filter on eth1"
	if [[ -e "$pin" ]]; then
		not_ok "$m: after SIGTERM the pin dir is removed" "$(ls "$pin")"
	else
		ok "$m: after SIGTERM the pin dir is removed"
	fi
	out=$(tc -n "$G" qdisc show dev eth1 | grep clsact)
	[[ -n "$out" ]] &&
		diag "$m: note: the clsact qdisc stays on eth1 after an adopted run stops: $out"
	tc -n "$G" qdisc del dev eth1 clsact 2>/dev/null
	diag "kills $m: $(($(ms_since "$t_part") / 1000)) s"
	return 0
}

crash "xdp native" "xdp native" "interfaces = eth1" "xdp_mode = native"
crash "tc ingress" "tc ingress" "tc_ingress = eth1"

# Time is reported, not asserted: a loaded machine must not fail a correctness test.
T_ALL=$(($(ms_since "$T_START") / 1000))
diag "the whole file ran in $T_ALL s (budget $TIME_BUDGET s)"

e2e_finish
