# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The end-to-end harness: network namespaces, TAP output and helpers to drive a real
# `bpfguard run`. Sourced by tests/e2e/test_*.sh and tools/demo.sh; never run directly.
#
# Topology (make_topology), documentation addresses only:
#
#   client                guard                                   server
#   eth0 192.0.2.2/24 --- eth1 192.0.2.1/24     eth2 198.51.100.1/24 --- eth0 198.51.100.2/24
#        192.0.2.66/24         2001:db8:1::1/64      2001:db8:2::1/64         2001:db8:2::2/64
#        2001:db8:1::2/64                                                lo 203.0.113.10/32
#        2001:db8:1::66/64     routes 203.0.113.0/24, 2001:db8:3::/64       203.0.113.20/32
#                              via the server; forwarding on                203.0.113.130/32
#                                                                           2001:db8:3::10/128
#                                                                           2001:db8:3::20/128
#
# Client and server route everything through the guard. Neighbour entries are static (no ARP,
# no neighbour discovery, no router solicitations, no DAD) so that the guard's counters see only
# the packets a test sends and their deltas can be compared exactly.
#
# Every name is unique per run (prefix, $$, a random number) and cleanup runs on EXIT, INT and
# TERM: it kills only the PIDs started through this file, deletes the namespaces and removes
# every pin directory handed out by new_pin_dir.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The binary under test: $BPFGUARD, else $BUILD/bpfguard (make passes BUILD=... on), else
# build/bpfguard.
E2E_BUILD=${BUILD:-build}
[[ "$E2E_BUILD" == /* ]] || E2E_BUILD="$E2E_ROOT/$E2E_BUILD"
BPFGUARD=${BPFGUARD:-$E2E_BUILD/bpfguard}
PY=/usr/bin/python3

E2E_ID="$$-$RANDOM"
NS_CLIENT="bgc-$E2E_ID"
NS_GUARD="bgg-$E2E_ID"
NS_SERVER="bgs-$E2E_ID"
E2E_PIN_BASE="/sys/fs/bpf/bpfguard-test-$E2E_ID"
E2E_TMP=""
E2E_PIDS=()
E2E_PIN_DIRS=()
E2E_NETNS=()
E2E_CLEANED=0
E2E_PIN_SEQ=0

T_NUM=0
T_FAIL=0

# Set by guard_start / guard_stop.
GUARD_PID=""
GUARD_PIN=""
GUARD_LOG=""
GUARD_RC=""

# --- TAP ---------------------------------------------------------------------------------

# diag TEXT...: TAP comments, every line of every argument prefixed with "# " (so that no
# quoted output can pass for a result line).
diag() {
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do
			printf '# %s\n' "$line"
		done <<<"$arg"
	done
}

ok() {
	T_NUM=$((T_NUM + 1))
	printf 'ok %d - %s\n' "$T_NUM" "$1"
}

# not_ok DESC [DIAGNOSTIC...]
not_ok() {
	T_NUM=$((T_NUM + 1))
	T_FAIL=$((T_FAIL + 1))
	printf 'not ok %d - %s\n' "$T_NUM" "$1"
	shift
	diag "$@"
}

# assert_eq EXPECTED ACTUAL DESC
assert_eq() {
	if [[ "$1" == "$2" ]]; then
		ok "$3"
	else
		not_ok "$3" "expected '$1', got '$2'"
	fi
}

# assert_true DESC CMD... : ok when CMD exits 0.
assert_true() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command failed (exit $?): $*" "${out:0:2000}"
	fi
}

# assert_false DESC CMD... : ok when CMD exits non-zero.
assert_false() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		not_ok "$desc" "command succeeded, expected a failure: $*" "${out:0:2000}"
	else
		ok "$desc"
	fi
}

# assert_match DESC REGEX TEXT
assert_match() {
	if [[ "$3" =~ $2 ]]; then
		ok "$1"
	else
		not_ok "$1" "no match for /$2/ in:" "${3:0:2000}"
	fi
}

# assert_nomatch DESC REGEX TEXT
assert_nomatch() {
	if [[ "$3" =~ $2 ]]; then
		not_ok "$1" "unexpected match for /$2/ in:" "${3:0:2000}"
	else
		ok "$1"
	fi
}

# bail DESC [DIAG...]: a failure that makes the rest of the file meaningless.
bail() {
	not_ok "$@"
	e2e_finish
}

# Print the plan and exit: 0 when every test passed, 1 otherwise.
e2e_finish() {
	printf '1..%d\n' "$T_NUM"
	if ((T_FAIL > 0)); then
		exit 1
	fi
	exit 0
}

# --- setup and cleanup -------------------------------------------------------------------

e2e_cleanup() {
	local pid i dir ns
	((E2E_CLEANED)) && return 0
	E2E_CLEANED=1
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	for ns in "${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for dir in "${E2E_PIN_DIRS[@]}"; do
		[[ -e "$dir" ]] && rm -rf -- "$dir"
	done
	[[ -n "$E2E_TMP" && -d "$E2E_TMP" ]] && rm -rf -- "$E2E_TMP"
	return 0
}

e2e_on_signal() {
	diag "interrupted: cleaning up"
	exit "$1"
}

# e2e_init: checks (root, tools), temp dir, traps. Call once, first.
e2e_init() {
	local tool
	trap e2e_cleanup EXIT
	trap 'e2e_on_signal 130' INT
	trap 'e2e_on_signal 143' TERM
	if [[ $EUID -ne 0 ]]; then
		bail "e2e tests need root (network namespaces, BPF): run them as root"
	fi
	for tool in ip nsenter ping curl jq timeout tc; do
		command -v "$tool" >/dev/null ||
			bail "tool '$tool' is missing: run 'make deps' (tools/deps.sh)"
	done
	[[ -x "$PY" ]] || bail "$PY is missing: run 'make deps'"
	if ! mountpoint -q /sys/fs/bpf; then
		bail "bpffs is not mounted at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf (make deps does)"
	fi
	E2E_TMP=$(mktemp -d "/tmp/bpfguard-e2e-$E2E_ID.XXXXXX") || bail "mktemp failed"
}

# e2e_require_bpfguard: the binary must exist (make all builds it).
e2e_require_bpfguard() {
	[[ -x "$BPFGUARD" ]] || bail "$BPFGUARD is missing: run 'make' first"
}

# in_ns NS CMD...: run CMD in the network namespace NS only (the host's mounts, bpffs included,
# stay visible, unlike `ip netns exec`, which remounts /sys).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# bg_in_ns NS LOG CMD...: start CMD in NS in the background, output to LOG; sets BG_PID.
bg_in_ns() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}

# forget_pid PID: the process was reaped by the caller.
forget_pid() {
	local p keep=()
	for p in "${E2E_PIDS[@]}"; do
		[[ "$p" != "$1" ]] && keep+=("$p")
	done
	E2E_PIDS=("${keep[@]}")
}

_ns_add() {
	ip netns add "$1" || return 1
	E2E_NETNS+=("$1")
	# Before any link exists, so every interface inherits these.
	in_ns "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 \
		net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 >/dev/null || return 1
	in_ns "$1" ip link set lo up
}

# _mac NS IF: the interface's MAC address (not from /sys: nsenter keeps the host's sysfs).
_mac() {
	ip -n "$1" -j link show dev "$2" | jq -er '.[0].address'
}

# make_topology: build client, guard and server (see the top of this file). Returns non-zero,
# after a diagnostic, if any step fails.
make_topology() {
	local c=$NS_CLIENT g=$NS_GUARD s=$NS_SERVER mc mg1 mg2 ms
	{
		_ns_add "$c" && _ns_add "$g" && _ns_add "$s" &&
			ip -n "$g" link add eth1 type veth peer name eth0 netns "$c" &&
			ip -n "$g" link add eth2 type veth peer name eth0 netns "$s" &&
			# client
			ip -n "$c" addr add 192.0.2.2/24 dev eth0 &&
			ip -n "$c" addr add 192.0.2.66/24 dev eth0 &&
			ip -n "$c" addr add 2001:db8:1::2/64 dev eth0 nodad &&
			ip -n "$c" addr add 2001:db8:1::66/64 dev eth0 nodad &&
			ip -n "$c" link set eth0 up &&
			ip -n "$c" route add default via 192.0.2.1 src 192.0.2.2 &&
			ip -n "$c" -6 route add default via 2001:db8:1::1 src 2001:db8:1::2 &&
			# guard
			ip -n "$g" addr add 192.0.2.1/24 dev eth1 &&
			ip -n "$g" addr add 2001:db8:1::1/64 dev eth1 nodad &&
			ip -n "$g" addr add 198.51.100.1/24 dev eth2 &&
			ip -n "$g" addr add 2001:db8:2::1/64 dev eth2 nodad &&
			ip -n "$g" link set eth1 up && ip -n "$g" link set eth2 up &&
			ip -n "$g" route add 203.0.113.0/24 via 198.51.100.2 &&
			ip -n "$g" -6 route add 2001:db8:3::/64 via 2001:db8:2::2 &&
			in_ns "$g" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
				>/dev/null &&
			# server
			ip -n "$s" addr add 198.51.100.2/24 dev eth0 &&
			ip -n "$s" addr add 2001:db8:2::2/64 dev eth0 nodad &&
			ip -n "$s" addr add 203.0.113.10/32 dev lo &&
			ip -n "$s" addr add 203.0.113.20/32 dev lo &&
			ip -n "$s" addr add 203.0.113.130/32 dev lo &&
			ip -n "$s" addr add 2001:db8:3::10/128 dev lo nodad &&
			ip -n "$s" addr add 2001:db8:3::20/128 dev lo nodad &&
			ip -n "$s" link set eth0 up &&
			ip -n "$s" route add default via 198.51.100.1 src 198.51.100.2 &&
			ip -n "$s" -6 route add default via 2001:db8:2::1 src 2001:db8:2::2
	} || {
		diag "make_topology: building the namespaces failed (see the messages above)"
		return 1
	}

	# Static neighbours: no ARP or neighbour discovery in the guard's counters.
	mc=$(_mac "$c" eth0) && mg1=$(_mac "$g" eth1) && mg2=$(_mac "$g" eth2) &&
		ms=$(_mac "$s" eth0) || return 1
	{
		ip -n "$c" neigh replace 192.0.2.1 lladdr "$mg1" dev eth0 nud permanent &&
			ip -n "$c" neigh replace 2001:db8:1::1 lladdr "$mg1" dev eth0 nud permanent &&
			ip -n "$g" neigh replace 192.0.2.2 lladdr "$mc" dev eth1 nud permanent &&
			ip -n "$g" neigh replace 192.0.2.66 lladdr "$mc" dev eth1 nud permanent &&
			ip -n "$g" neigh replace 2001:db8:1::2 lladdr "$mc" dev eth1 nud permanent &&
			ip -n "$g" neigh replace 2001:db8:1::66 lladdr "$mc" dev eth1 nud permanent &&
			ip -n "$g" neigh replace 198.51.100.2 lladdr "$ms" dev eth2 nud permanent &&
			ip -n "$g" neigh replace 2001:db8:2::2 lladdr "$ms" dev eth2 nud permanent &&
			ip -n "$s" neigh replace 198.51.100.1 lladdr "$mg2" dev eth0 nud permanent &&
			ip -n "$s" neigh replace 2001:db8:2::1 lladdr "$mg2" dev eth0 nud permanent
	} || {
		diag "make_topology: static neighbour entries failed"
		return 1
	}
	wait_quiet
	return 0
}

# _rx_total: packets received so far by the guard's two interfaces.
_rx_total() {
	ip -n "$NS_GUARD" -j -s link show 2>/dev/null |
		jq '[.[] | select(.ifname == "eth1" or .ifname == "eth2") | .stats64.rx.packets] | add'
}

# wait_quiet: until the guard's links received nothing for 0.6 s (at most 5 s): the multicast
# listener reports a new link sends must not land in the counters of the first test.
wait_quiet() {
	local i last now still=0
	last=$(_rx_total)
	for ((i = 0; i < 25; i++)); do
		sleep 0.2
		now=$(_rx_total)
		if [[ "$now" == "$last" ]]; then
			still=$((still + 1))
			((still >= 3)) && return 0
		else
			still=0
			last=$now
		fi
	done
	diag "wait_quiet: the guard's links were still receiving after 5 s"
	return 0
}

# --- traffic -----------------------------------------------------------------------------

# ping_count NS DST [PING ARGS...]: ping 5 times (0.2 s apart, bounded), print
# "TRANSMITTED RECEIVED". Always returns 0; the caller compares the numbers.
PING_COUNT=5
ping_count() {
	local ns=$1 dst=$2 out tx rx
	shift 2
	out=$(timeout 10 nsenter --net="/run/netns/$ns" ping -n -q -c "$PING_COUNT" -i 0.2 -W 1 \
		"$@" "$dst" 2>&1)
	tx=$(sed -n 's/^\([0-9]\+\) packets transmitted.*/\1/p' <<<"$out")
	rx=$(sed -n 's/^[0-9]\+ packets transmitted, \([0-9]\+\) \(packets \)\?received.*/\1/p' \
		<<<"$out")
	echo "${tx:-?} ${rx:-?}"
}

# tcp_segs_out NS: TCP segments sent so far in NS, retransmissions included (OutSegs excludes
# them), from the namespace's own /proc/net/snmp. The TCP MIB counts IPv4 and IPv6 together.
tcp_segs_out() {
	in_ns "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) f[$i] = i; h = 1 }
		else print $f["OutSegs"] + $f["RetransSegs"] }' /proc/net/snmp
}

# http_server_start NS PORT [PROTOCOL]: a Python http.server on every address of NS (dual
# stack), serving a file named `probe` whose content is "bpfguard-e2e <PORT>"; PROTOCOL
# HTTP/1.1 keeps connections open (pipelined requests are answered), the default HTTP/1.0
# closes each after one response. Waits (bounded) until it answers.
http_server_start() {
	local ns=$1 port=$2 proto=${3:-HTTP/1.0} dir i
	dir="$E2E_TMP/www-$port"
	mkdir -p "$dir" && printf 'bpfguard-e2e %s\n' "$port" >"$dir/probe" || return 1
	bg_in_ns "$ns" "$E2E_TMP/http-$port.log" "$PY" -m http.server --bind :: \
		--protocol "$proto" --directory "$dir" "$port"
	HTTP_PID=$BG_PID
	for ((i = 0; i < 50; i++)); do
		if in_ns "$ns" curl -s --max-time 1 -o /dev/null "http://[::1]:$port/probe"; then
			return 0
		fi
		kill -0 "$HTTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "http server on port $port in $ns did not come up:" \
		"$(tail -n 5 "$E2E_TMP/http-$port.log" 2>/dev/null)"
	return 1
}

# http_get NS URL [MAX_TIME]: print the body (empty on failure); the exit status is curl's.
http_get() {
	in_ns "$1" curl -sS -g --max-time "${3:-2}" "$2" 2>/dev/null
}

# --- the guard ---------------------------------------------------------------------------

# new_pin_dir: set PIN_DIR to a fresh pin directory name, removed at cleanup (not created
# here). Sets a variable rather than printing: in $(...) the bookkeeping would be lost.
new_pin_dir() {
	E2E_PIN_SEQ=$((E2E_PIN_SEQ + 1))
	PIN_DIR="$E2E_PIN_BASE-$E2E_PIN_SEQ"
	E2E_PIN_DIRS+=("$PIN_DIR")
}

# bpfguard_g ARGS...: run bpfguard in the guard namespace (bounded to 30 s).
bpfguard_g() {
	timeout 30 nsenter --net="/run/netns/$NS_GUARD" "$BPFGUARD" "$@"
}

# guard_start CONF [ARGS...]: start `bpfguard run` in the guard namespace with a fresh pin dir
# and wait up to 10 s until `status` answers. Sets GUARD_PID, GUARD_PIN, GUARD_LOG. Returns
# non-zero, after a diagnostic with the end of its log, if it exited or never became ready.
guard_start() {
	local conf=$1 i
	shift
	new_pin_dir
	GUARD_PIN=$PIN_DIR
	GUARD_LOG="$E2E_TMP/guard-$E2E_PIN_SEQ.log"
	GUARD_RC=""
	bg_in_ns "$NS_GUARD" "$GUARD_LOG" "$BPFGUARD" run -c "$conf" --pin-dir "$GUARD_PIN" "$@"
	GUARD_PID=$BG_PID
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$GUARD_PID" 2>/dev/null; then
			wait "$GUARD_PID"
			GUARD_RC=$?
			forget_pid "$GUARD_PID"
			diag "bpfguard run exited with $GUARD_RC before it was ready:" \
				"$(tail -n 20 "$GUARD_LOG")"
			return 1
		fi
		if bpfguard_g status --pin-dir "$GUARD_PIN" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	diag "bpfguard run was not ready after 10 s (status --pin-dir $GUARD_PIN failed):" \
		"$(tail -n 20 "$GUARD_LOG")"
	return 1
}

# guard_stop: SIGTERM, wait up to 10 s (then SIGKILL); sets GUARD_RC (137 when killed).
guard_stop() {
	local i
	[[ -n "$GUARD_PID" ]] || return 0
	kill -TERM "$GUARD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$GUARD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$GUARD_PID" 2>/dev/null; then
		diag "bpfguard run ignored SIGTERM for 10 s: killing it"
		kill -KILL "$GUARD_PID" 2>/dev/null
	fi
	wait "$GUARD_PID" 2>/dev/null
	GUARD_RC=$?
	forget_pid "$GUARD_PID"
	GUARD_PID=""
	return 0
}

# guard_stats: `stats --json` of the running guard.
guard_stats() {
	bpfguard_g stats --pin-dir "$GUARD_PIN" --json
}

# counter NAME [FIELD]: a verdict or note counter from `stats --json` (packets by default).
# Prints "?" when it cannot be read.
counter() {
	local v
	v=$(guard_stats 2>/dev/null | jq -er --arg n "$1" --arg f "${2:-packets}" \
		'.counters[$n][$f]') || v="?"
	echo "$v"
}

# list_hits LIST [FIELD]: a list's packets (or bytes, entries) from `stats --json`.
list_hits() {
	local v
	v=$(guard_stats 2>/dev/null | jq -er --arg n "$1" --arg f "${2:-packets}" \
		'.lists[] | select(.name == $n) | .[$f]') || v="?"
	echo "$v"
}

# delta BEFORE AFTER: AFTER - BEFORE, or "?" if either is not a number.
delta() {
	if [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo "?"
	fi
}

# snap: the running guard's `stats --json` now (empty when it cannot be read).
snap() {
	guard_stats 2>/dev/null || true
}

# _jnum JSON FILTER: a number from JSON, or "?".
_jnum() {
	local v
	v=$(jq -er "$2" <<<"$1" 2>/dev/null) || v="?"
	echo "$v"
}

# cdelta BEFORE AFTER COUNTER: the change of a counter's packets between two snaps.
cdelta() {
	local f=".counters[\"$3\"].packets"
	delta "$(_jnum "$1" "$f")" "$(_jnum "$2" "$f")"
}

# ldelta BEFORE AFTER LIST: the change of a list's packets between two snaps.
ldelta() {
	local f=".lists[] | select(.name == \"$3\") | .packets"
	delta "$(_jnum "$1" "$f")" "$(_jnum "$2" "$f")"
}

# vdelta BEFORE AFTER: the change of the sum of the verdict counters (every counter but the
# note_* ones): each packet the guard saw lands in exactly one of them.
vdelta() {
	local f='[.counters | to_entries[] | select(.key | startswith("note_") | not) |
		.value.packets] | add'
	delta "$(_jnum "$1" "$f")" "$(_jnum "$2" "$f")"
}

# counter_deltas BEFORE AFTER: "name +N ..." for every counter and list that moved.
counter_deltas() {
	jq -nr --argjson a "${1:-null}" --argjson b "${2:-null}" '
		[($b.counters | to_entries[] | .key as $k |
			(.value.packets - ($a.counters[$k].packets // 0)) as $d |
			select($d != 0) | "\($k) +\($d)"),
		 ($b.lists[] | .name as $n |
			(.packets - (($a.lists[] | select(.name == $n) | .packets) // 0)) as $d |
			select($d != 0) | "list \($n) +\($d)")] | join(", ")' 2>/dev/null
}

# assert_deltas DESC BEFORE AFTER SPEC...: one test over several exact deltas between two
# snaps. SPEC is COUNTER=N, list:NAME=N, or verdicts=N (the sum of the verdict counters).
assert_deltas() {
	local desc=$1 s0=$2 s1=$3 spec name want got bad=()
	shift 3
	for spec in "$@"; do
		name=${spec%=*}
		want=${spec##*=}
		case "$name" in
		list:*) got=$(ldelta "$s0" "$s1" "${name#list:}") ;;
		verdicts) got=$(vdelta "$s0" "$s1") ;;
		*) got=$(cdelta "$s0" "$s1" "$name") ;;
		esac
		[[ "$got" == "$want" ]] || bad+=("$name: expected +$want, got +$got")
	done
	if ((${#bad[@]} == 0)); then
		ok "$desc"
	else
		not_ok "$desc" "${bad[@]}"
		if [[ -z "$s1" ]]; then
			diag "(stats --json could not be read)"
		else
			diag "all non-zero counter deltas: $(counter_deltas "$s0" "$s1")"
		fi
	fi
}

# kernel_prog IF HOOK: the id of the BPF program the kernel has on IF at HOOK ("xdp native",
# "xdp generic", "tc ingress", "tc egress"), from ip/tc in the guard namespace; empty if none.
kernel_prog() {
	local ifc=$1 hook=$2
	case "$hook" in
	"xdp native" | "xdp generic")
		local mode=1
		[[ "$hook" == "xdp generic" ]] && mode=2
		ip -n "$NS_GUARD" -j link show dev "$ifc" 2>/dev/null |
			jq -r --argjson m "$mode" '.[0].xdp | select(. != null and .mode == $m) |
				.prog.id // empty'
		;;
	"tc ingress" | "tc egress")
		tc -n "$NS_GUARD" -j filter show dev "$ifc" "${hook#tc }" 2>/dev/null |
			jq -r '[.. | objects | select(has("prog")) | .prog.id] | map(tostring) |
				join(",")'
		;;
	esac
}

# status_prog IF HOOK: the prog id `status --json` reports for IF at HOOK; empty if none.
status_prog() {
	bpfguard_g status --pin-dir "$GUARD_PIN" --json 2>/dev/null |
		jq -r --arg i "$1" --arg h "$2" \
			'.attach[] | select(.ifname == $i and .hook == $h) | .prog_id'
}

# --- names (issue 3): offloads, captures, resolvers and TLS servers ----------------------
# Appended for tests/e2e/test_names_tshark.sh and test_domains.sh; every process started here
# goes through bg_in_ns, so e2e_cleanup stops it.

# offload_off NS IF: turn off TX checksum offload, scatter-gather, TSO and GSO on IF (the
# ethtool ioctls, from Python: ethtool itself is not a dependency). A veth otherwise hands
# its peer one large GSO packet where a real link carries MSS-sized segments, and a capture
# on the sending side shows partial checksums.
offload_off() {
	in_ns "$1" "$PY" - "$2" <<'PYEOF'
import array, fcntl, socket, struct, sys

def ethtool(sock, ifname, cmd, value):
    ev = array.array("B", struct.pack("II", cmd, value))
    addr, _ = ev.buffer_info()
    ifr = struct.pack("16sP", ifname.encode(), addr).ljust(40, b"\0")
    fcntl.ioctl(sock.fileno(), 0x8946, ifr)  # SIOCETHTOOL
    return struct.unpack("II", ev.tobytes())[1]

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    # ETHTOOL_STXCSUM, SSG, STSO, SGSO; then read them back (GTXCSUM, GSG, GTSO, GGSO)
    for cmd in (0x17, 0x19, 0x1F, 0x24):
        ethtool(s, sys.argv[1], cmd, 0)
    left = [c for c in (0x16, 0x18, 0x1E, 0x23) if ethtool(s, sys.argv[1], c, 0)]
    sys.exit(f"offload_off: {sys.argv[1]}: still on: {left}" if left else 0)
PYEOF
}

# capture_start NS IF FILE: dumpcap on IF in NS, classic pcap to FILE; returns once it
# captures (at most 5 s). Sets CAP_PID.
capture_start() {
	local ns=$1 ifc=$2 file=$3 i
	bg_in_ns "$ns" "$file.log" dumpcap -q -P -i "$ifc" -w "$file"
	CAP_PID=$BG_PID
	for ((i = 0; i < 50; i++)); do
		grep -q "^Capturing on" "$file.log" 2>/dev/null && [[ -s "$file" ]] && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "dumpcap on $ifc in $ns did not start:" "$(tail -n 5 "$file.log" 2>/dev/null)"
	return 1
}

# capture_stop: let the last packets in (0.3 s), stop dumpcap (SIGTERM), wait for it.
capture_stop() {
	local i
	[[ -n "${CAP_PID:-}" ]] || return 0
	sleep 0.3
	kill -TERM "$CAP_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	forget_pid "$CAP_PID"
	CAP_PID=""
}

# make_cert DIR: a self-signed EC certificate DIR/cert.pem, key DIR/key.pem for the test
# names (*.blocked.test, *.allowed.test and their apexes).
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=bpfguard-e2e -keyout "$1/key.pem" -out "$1/cert.pem" \
		-addext "subjectAltName=DNS:*.blocked.test,DNS:blocked.test,DNS:*.allowed.test,DNS:allowed.test" \
		>/dev/null 2>&1
}

# tls_server_start NS PORT DIR: `openssl s_server -www` on every address of NS (dual stack)
# with DIR's certificate; waits (at most 5 s) until it accepts. Sets TLS_PID.
tls_server_start() {
	local ns=$1 port=$2 dir=$3 i
	bg_in_ns "$ns" "$E2E_TMP/s_server-$port.log" openssl s_server -accept "$port" \
		-cert "$dir/cert.pem" -key "$dir/key.pem" -www -quiet
	TLS_PID=$BG_PID
	for ((i = 0; i < 50; i++)); do
		in_ns "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
		kill -0 "$TLS_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "openssl s_server on port $port in $ns did not come up:" \
		"$(tail -n 5 "$E2E_TMP/s_server-$port.log" 2>/dev/null)"
	return 1
}

# --- schedules on the real clock, and an echo server -------------------------------------

# guard_conf FILE SECTIONS [KEY LINES...]: writes a config to FILE: [guard] with the key lines,
# then SECTIONS as they are (the lists, schedules, groups); prints FILE.
guard_conf() {
	local file=$1 sections=$2 line
	shift 2
	{
		echo "[guard]"
		for line in "$@"; do
			echo "$line"
		done
		printf '\n%s\n' "$sections"
	} >"$file"
	echo "$file"
}

# schedule_from EPOCH MINUTES: "RULE WINDOW" for a [schedule] active from EPOCH for MINUTES:
# RULE a POSIX TZ rule whose clock shows a whole minute at EPOCH (its offset east of UTC is
# the seconds that make it so), WINDOW "HH:MM-HH:MM" in that clock (wrapping past midnight).
# Used as `timezone = RULE` and `daily = WINDOW`, it puts a boundary at any second.
schedule_from() {
	local t=$1 off s e
	off=$(((60 - t % 60) % 60))
	s=$(((t + off) / 60 % 1440))
	e=$(((s + $2) % 1440))
	printf 'GRD-0:00:%02d %02d:%02d-%02d:%02d\n' "$off" $((s / 60)) $((s % 60)) $((e / 60)) \
		$((e % 60))
}

# echo_server_start NS PORT: a TCP echo server on every address of NS (dual stack), each line
# sent back. Sets ECHO_PID.
echo_server_start() {
	cat >"$E2E_TMP/echo.py" <<'EOF'
import socket, sys, threading
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	bg_in_ns "$1" "$E2E_TMP/echo-$2.log" "$PY" "$E2E_TMP/echo.py" "$2"
	ECHO_PID=$BG_PID
}

# dnsmasq_start NS LOG ARGS...: dnsmasq in the foreground in NS, no config file, no upstream,
# no /etc/hosts, every query logged to LOG, plus ARGS (--address=... records, --listen-address
# ...). Waits (at most 5 s) until it answers on the first --listen-address. Sets DNSMASQ_PID.
dnsmasq_start() {
	local ns=$1 log=$2 addr="" a i
	shift 2
	for a in "$@"; do
		[[ "$a" == --listen-address=* && -z "$addr" ]] && addr=${a#--listen-address=}
	done
	bg_in_ns "$ns" "$log.out" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --no-poll --bind-interfaces --user=root --group=root --pid-file= \
		--cache-size=0 --log-queries=extra --log-facility="$log" "$@"
	DNSMASQ_PID=$BG_PID
	for ((i = 0; i < 50; i++)); do
		if in_ns "$ns" dig +short +time=1 +tries=1 "@${addr:-127.0.0.1}" \
			dnsmasq-probe.invalid >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DNSMASQ_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "dnsmasq in $ns did not come up:" "$(tail -n 5 "$log.out" "$log" 2>/dev/null)"
	return 1
}
