#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Reload benchmark (issue 4): a real `bpfguard run` guarding a veth in a namespace of its own,
# with N random IPv4/IPv6 prefixes and N random names (default 1M each, .gz files), then
# SIGHUP: the time from the signal to the swap (the daemon's "reloaded ... in X s" line, and
# the wall time until that line appears), and the daemon's peak memory (VmHWM: the old policy
# and the new one side by side during the reload). Targets: under 5 s, under 300 MB.
#
# Usage: tools/bench-reload.sh [--json] [--entries N] [--reloads K]
# Needs root. Cleans up its namespace, pins, files and daemon on exit, even on failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ "$BUILD" == /* ]] || BUILD="$ROOT/$BUILD"
BPFGUARD=${BPFGUARD:-$BUILD/bpfguard}
PY=/usr/bin/python3
JSON=0
N=1000000
RELOADS=3

while (($#)); do
	case $1 in
	--json) JSON=1 ;;
	--entries)
		N=${2:-}
		shift
		;;
	--reloads)
		RELOADS=${2:-}
		shift
		;;
	*)
		echo "usage: $0 [--json] [--entries N] [--reloads K]" >&2
		exit 2
		;;
	esac
	shift
done
[[ "$N" =~ ^[0-9]+$ && "$RELOADS" =~ ^[1-9][0-9]*$ ]] || {
	echo "bench-reload: --entries and --reloads take positive numbers" >&2
	exit 2
}
[[ -x "$BPFGUARD" ]] || {
	echo "bench-reload: $BPFGUARD is missing: run 'make' first" >&2
	exit 2
}
((EUID == 0)) || {
	echo "bench-reload: needs root (namespaces, BPF)" >&2
	exit 2
}

ID="$$-$RANDOM"
NS="bgr-$ID"
PIN="/sys/fs/bpf/bpfguard-bench-$ID"
DIR=$(mktemp -d "/tmp/bpfguard-bench-reload.XXXXXX") || exit 2
PID=""

cleanup() {
	if [[ -n "$PID" ]]; then
		kill -TERM "$PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$DIR"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

say() { ((JSON)) || echo "$@" >&2; }

say "bench-reload: generating $N prefixes and $N names..."
"$PY" - "$DIR" "$N" <<'EOF' || exit 2
import gzip, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(42)
with gzip.open(d + "/prefixes.txt.gz", "wt", compresslevel=1) as f:
    for i in range(n):
        if i % 10 == 9:
            # IPv6 under 2000::/3, /16../64
            plen = r.randint(16, 64)
            a = (0x2000 << 112) | r.getrandbits(125)
            a &= ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
            h = "%032x" % a
            f.write(":".join(h[j:j + 4] for j in range(0, 32, 4)) + "/%d\n" % plen)
        else:
            plen = r.randint(8, 32)
            a = r.getrandbits(32) & (0xffffffff ^ ((1 << (32 - plen)) - 1))
            f.write("%d.%d.%d.%d/%d\n" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, plen))
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
tlds = ["com", "net", "org", "io", "de", "ru", "info", "xyz"]
with gzip.open(d + "/names.hosts.gz", "wt", compresslevel=1) as f:
    for i in range(n):
        labels = ["".join(r.choice(letters) for _ in range(r.randint(3, 12)))
                  for _ in range(r.randint(1, 3))]
        f.write("0.0.0.0 %s.%s\n" % (".".join(labels), r.choice(tlds)))
EOF

ip netns add "$NS" || exit 2
ip -n "$NS" link add veth0 type veth peer name veth1 || exit 2
ip -n "$NS" link set veth0 up && ip -n "$NS" link set veth1 up || exit 2

cat >"$DIR/reload.conf" <<EOF
[guard]
interfaces = veth0
xdp_mode = generic
state_dir = $DIR/state

[list prefixes]
path = $DIR/prefixes.txt.gz
category = bench

[list names]
path = $DIR/names.hosts.gz
category = bench
EOF

say "bench-reload: starting the guard..."
t_start=$(date +%s.%N)
nsenter --net="/run/netns/$NS" "$BPFGUARD" run -c "$DIR/reload.conf" --pin-dir "$PIN" \
	>"$DIR/guard.log" 2>&1 &
PID=$!
for _ in $(seq 600); do
	grep -q "^bpfguard: guarding" "$DIR/guard.log" && break
	kill -0 "$PID" 2>/dev/null || {
		echo "bench-reload: the guard exited:" >&2
		tail -n 20 "$DIR/guard.log" >&2
		exit 2
	}
	sleep 0.1
done
grep -q "^bpfguard: guarding" "$DIR/guard.log" || {
	echo "bench-reload: the guard was not ready after 60 s" >&2
	exit 2
}
t_ready=$(date +%s.%N)
rss_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
start_hwm=$(rss_kb VmHWM)
rss_before=$(rss_kb VmRSS)

best=""
worst=""
walls=()
for ((k = 1; k <= RELOADS; k++)); do
	before=$(grep -c "^reloaded:" "$DIR/guard.log")
	t0=$(date +%s.%N)
	kill -HUP "$PID"
	for _ in $(seq 600); do
		(($(grep -c "^reloaded:" "$DIR/guard.log") > before)) && break
		grep -q "^reload failed" "$DIR/guard.log" && {
			echo "bench-reload: the reload failed:" >&2
			tail -n 20 "$DIR/guard.log" >&2
			exit 2
		}
		sleep 0.01
	done
	t1=$(date +%s.%N)
	line=$(grep "^reloaded:" "$DIR/guard.log" | tail -n 1)
	[[ -n "$line" ]] || {
		echo "bench-reload: no reload within 6 s" >&2
		exit 2
	}
	in_daemon=$(sed -E 's/.* in ([0-9.]+) s$/\1/' <<<"$line")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	walls+=("$wall")
	say "reload $k: $in_daemon s in the daemon, $wall s from SIGHUP to the log line"
	[[ -z "$best" ]] || awk -v a="$in_daemon" -v b="$best" 'BEGIN { exit !(a < b) }' && best=$in_daemon
	[[ -z "$worst" ]] || awk -v a="$in_daemon" -v b="$worst" 'BEGIN { exit !(a > b) }' && worst=$in_daemon
done
hwm=$(rss_kb VmHWM)
rss_after=$(rss_kb VmRSS)
startup=$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.3f", b - a }')
summary=$(grep "^bpfguard: guarding" "$DIR/guard.log")

if ((JSON)); then
	printf '{"entries": %d, "startup_s": %s, "reload_s_best": %s, "reload_s_worst": %s, ' \
		"$N" "$startup" "$best" "$worst"
	printf '"reload_wall_s": [%s], "peak_kb": %d, "peak_at_start_kb": %d, ' \
		"$(
			IFS=,
			echo "${walls[*]}"
		)" "$hwm" "$start_hwm"
	printf '"rss_before_kb": %d, "rss_after_kb": %d, "target_s": 5, "target_mb": 300}\n' \
		"$rss_before" "$rss_after"
else
	echo "$summary"
	printf 'reload of %d prefixes + %d names: best %s s, worst %s s in the daemon (target < 5 s)\n' \
		"$N" "$N" "$best" "$worst"
	printf 'peak daemon memory (VmHWM): %d MB (at start: %d MB; RSS %d -> %d MB; target < 300 MB)\n' \
		$((hwm / 1024)) $((start_hwm / 1024)) $((rss_before / 1024)) $((rss_after / 1024))
fi
