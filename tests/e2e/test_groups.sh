#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end client groups and schedules (issue 4) on the real clock: a real `bpfguard run`
# (XDP) with two client groups, pupils (192.0.2.2) and staff (192.0.2.66), both on the client
# namespace. Games (203.0.113.0/25) are blocked for pupils while schedule `class` is active,
# and allowed again while schedule `break` is active (allow wins). Both schedules get a POSIX
# TZ rule whose offset puts a window's start a few seconds ahead, so the test sees the daemon
# write the masks at two real boundaries: a pupil's connection attempts and an open TCP
# stream to a games address must stop within one second of the first boundary and work again
# within one second of the second; staff are never affected; adult is always blocked for both.
# `check --client --at` agrees with what the kernel did. The games list is `direction = both`
# and the uplink (eth2) is filtered by TC too: the replies from the games network, whose
# sender is in no group, are judged for the client they go to (judged for the sender, group 0,
# they would all be dropped, for staff and for pupils on a break).

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init
e2e_require_bpfguard
make_topology || bail "three namespaces with veth links and routes"
ok "topology: client, guard, server namespaces"

CONF_DIR="$E2E_TMP/conf"
mkdir -p "$CONF_DIR"
printf '203.0.113.0/25\n' >"$CONF_DIR/games.txt"
printf '203.0.113.128/25\n' >"$CONF_DIR/adult.txt"

NOW=$(date +%s)
T0=$((NOW + 8)) # class starts: games blocked for pupils
T1=$((T0 + 5))  # break starts: games allowed again
read -r TZ0 WIN0 < <(schedule_from "$T0" 10)
read -r TZ1 WIN1 < <(schedule_from "$T1" 10)
CONF="$CONF_DIR/groups.conf"
cat >"$CONF" <<EOF
[guard]
interfaces = eth1
xdp_mode = native
tc_ingress = eth2

[list games]
path = games.txt
category = games
direction = both

[list adult]
path = adult.txt
category = adult

[schedule class]
timezone = $TZ0
daily = $WIN0

[schedule break]
timezone = $TZ1
daily = $WIN1

[group pupils]
clients = 192.0.2.2/32
block = adult, games@class
allow = games@break

[group staff]
clients = 192.0.2.66/32
block = adult
EOF
diag "T0 $(date -d "@$T0" +%T) (class, $TZ0), T1 $(date -d "@$T1" +%T) (break, $TZ1)"

# check --at: the same instants through the host's evaluation
at() { date -d "@$1" +%Y-%m-%dT%H:%M; }
# --at has minute resolution: the minutes around the boundaries, in local time of the machine,
# are only exact when the boundary is a whole minute of the machine's clock; test the rule with
# instants well inside each state instead.
out=$("$BPFGUARD" check -c "$CONF" 203.0.113.10 --client 192.0.2.2 --at "$(at $((T0 - 120)))")
assert_match "check --at before class: games pass for pupils" '^pass 203\.0\.113\.10 .*group=pupils' "$out"
out=$("$BPFGUARD" check -c "$CONF" 203.0.113.10 --client 192.0.2.66 --at "$(at $((T0 - 120)))")
assert_match "check: staff are their group" '^pass .*group=staff' "$out"
out=$("$BPFGUARD" check -c "$CONF" 203.0.113.130 --client 192.0.2.2)
assert_match "check: adult blocked for pupils" '^block 203\.0\.113\.130 list=adult .*group=pupils' "$out"

http_server_start "$NS_SERVER" 8080 || bail "python http.server in the server namespace"

# An echo server: an open TCP stream to a games address, kept through the boundaries.
echo_server_start "$NS_SERVER" 7000

# The probes: for DURATION seconds, every 0.1 s, a line "EPOCH_FLOAT ok|fail" per attempt.
# mode connect: a new HTTP fetch from SRC each time; mode stream: one TCP connection kept open,
# a line sent and its echo awaited (0.3 s) each time (the connection is not reopened).
cat >"$E2E_TMP/probe.py" <<'EOF'
import socket, sys, time
mode, src, dst, port, until = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
conn = None
if mode == "stream":
    conn = socket.create_connection((dst, port), timeout=2, source_address=(src, 0))
    conn.settimeout(0.3)
while time.time() < until:
    t = time.time()
    ok = False
    try:
        if mode == "stream":
            conn.sendall(b"ping\n")
            got = b""
            while len(got) < 5:
                d = conn.recv(64)
                if not d:
                    break
                got += d
            ok = got == b"ping\n"
        else:
            c = socket.create_connection((dst, port), timeout=0.3, source_address=(src, 0))
            c.sendall(b"GET /probe HTTP/1.0\r\n\r\n")
            c.settimeout(0.5)
            ok = c.recv(64).startswith(b"HTTP/1.0 200")
            c.close()
    except OSError:
        ok = False
    if mode == "stream" and not ok:
        # drain a late echo so the next round reads its own
        try:
            conn.settimeout(0.05)
            conn.recv(4096)
        except OSError:
            pass
        conn.settimeout(0.3)
    print("%.3f %s" % (t, "ok" if ok else "fail"), flush=True)
    time.sleep(max(0.0, 0.1 - (time.time() - t)))
EOF

guard_start "$CONF" || bail "bpfguard run with groups and schedules"
ok "bpfguard run with two groups and two schedules"
now=$(date +%s)
((now < T0 - 2)) || bail "the guard took too long to start: the first boundary is too close ($now vs $T0)"

UNTIL=$((T1 + 4))
bg_in_ns "$NS_CLIENT" "$E2E_TMP/pupil-connect.log" "$PY" "$E2E_TMP/probe.py" connect 192.0.2.2 203.0.113.10 8080 "$UNTIL"
P1=$BG_PID
bg_in_ns "$NS_CLIENT" "$E2E_TMP/staff-connect.log" "$PY" "$E2E_TMP/probe.py" connect 192.0.2.66 203.0.113.10 8080 "$UNTIL"
P2=$BG_PID
bg_in_ns "$NS_CLIENT" "$E2E_TMP/pupil-stream.log" "$PY" "$E2E_TMP/probe.py" stream 192.0.2.2 203.0.113.10 7000 "$UNTIL"
P3=$BG_PID
out=$(in_ns "$NS_CLIENT" curl -sS --max-time 1 --interface 192.0.2.2 http://203.0.113.130:8080/probe 2>&1)
assert_nomatch "adult blocked for a pupil" 'bpfguard-e2e' "$out"
out=$(in_ns "$NS_CLIENT" curl -sS --max-time 1 --interface 192.0.2.66 http://203.0.113.130:8080/probe 2>&1)
assert_nomatch "adult blocked for staff" 'bpfguard-e2e' "$out"
for p in $P1 $P2 $P3; do
	wait "$p"
	forget_pid "$p"
done

# judge LOG NAME: the attempts before T0, in [T0+1, T1), and from T1+1 on.
judge() {
	awk -v t0="$T0" -v t1="$T1" '
		$1 < t0 - 0.35 { if ($2 == "ok") a_ok++; else a_fail++ }
		$1 >= t0 + 1 && $1 < t1 { if ($2 == "ok") b_ok++; else b_fail++ }
		$1 >= t1 + 1 { if ($2 == "ok") c_ok++; else c_fail++ }
		$1 >= t0 && $2 == "fail" && !first { first = $1 - t0 }
		END { printf "%d %d %d %d %d %d %.3f\n", a_ok, a_fail, b_ok, b_fail, c_ok, c_fail, first }' "$1"
}
read -r a_ok a_fail b_ok b_fail c_ok c_fail first < <(judge "$E2E_TMP/pupil-connect.log")
diag "pupil connects: before $a_ok ok/$a_fail fail, class $b_ok/$b_fail, break $c_ok/$c_fail; first failure $first s after T0"
assert_true "pupil: games reachable before class ($a_ok ok, $a_fail failed)" test "$a_ok" -gt 5 -a "$a_fail" -eq 0
assert_true "pupil: no games connection succeeds from 1 s into class ($b_ok ok, $b_fail failed)" test "$b_ok" -eq 0 -a "$b_fail" -gt 5
assert_true "pupil: games reachable again from 1 s into the break ($c_ok ok, $c_fail failed)" test "$c_ok" -gt 5 -a "$c_fail" -eq 0

read -r a_ok a_fail b_ok b_fail c_ok c_fail first < <(judge "$E2E_TMP/pupil-stream.log")
diag "pupil open stream: before $a_ok ok/$a_fail fail, class $b_ok/$b_fail, break $c_ok/$c_fail"
assert_true "pupil: an open stream to games works before class" test "$a_ok" -gt 5 -a "$a_fail" -eq 0
assert_true "pupil: the open stream stops within 1 s of the boundary" test "$b_ok" -eq 0 -a "$b_fail" -gt 5
# (TCP's retransmission backoff after 5 s of drops may delay the first echoes of the break)
last=$(tail -n 1 "$E2E_TMP/pupil-stream.log")
assert_true "pupil: the same stream resumes in the break ($c_ok ok; last: $last)" \
	test "$c_ok" -gt 5 -a "${last#* }" = ok

read -r a_ok a_fail b_ok b_fail c_ok c_fail first < <(judge "$E2E_TMP/staff-connect.log")
assert_true "staff: games reachable throughout ($a_ok/$b_ok/$c_ok ok, $a_fail/$b_fail/$c_fail failed)" \
	test "$a_fail" -eq 0 -a "$b_fail" -eq 0 -a "$c_fail" -eq 0 -a "$b_ok" -gt 5

# check --live: the masks in force now (the break) and the groups by name
out=$(bpfguard_g check --pin-dir "$GUARD_PIN" 203.0.113.10 --client 192.0.2.2 2>&1)
assert_match "check --live: games pass for a pupil in the break, the group by name" \
	'^pass 203\.0\.113\.10 .*group=pupils' "$out"
out=$(bpfguard_g check --pin-dir "$GUARD_PIN" 203.0.113.130 --client 192.0.2.66 2>&1)
assert_match "check --live: adult blocked for staff" '^block 203\.0\.113\.130 .*group=staff' "$out"

log=$(cat "$GUARD_LOG")
assert_match "the daemon logged the class boundary" 'schedule: group pupils now blocks (adult, games|games, adult)' "$log"
assert_match "the daemon logged the break boundary" 'schedule: group pupils now blocks adult$' "$log"

guard_stop
assert_eq 0 "$GUARD_RC" "SIGTERM: exit 0"

# A config that puts one client in two groups is refused with the line.
cat >"$CONF_DIR/dup.conf" <<'EOF'
[guard]
interfaces = none
[list games]
path = games.txt
category = games
[group a]
clients = 192.0.2.0/25
block = games
[group b]
clients = 192.0.2.0/25
block = games
EOF
out=$("$BPFGUARD" check -c "$CONF_DIR/dup.conf" 203.0.113.10 2>&1)
rc=$?
assert_eq 2 "$rc" "a prefix in two groups: exit 2"
assert_match "a prefix in two groups: the message names both" 'dup.conf:9: .*clients 192\.0\.2\.0/25 is also in \[group a\]' "$out"

e2e_finish
