#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test runner: tests/run.sh [unit|bpf|e2e|static|fuzz|all] (default all).
#   unit: build/tests/unit/test_*   (cmocka, CMOCKA_MESSAGE_OUTPUT=TAP)
#   bpf:  build/tests/bpf/test_*    (cmocka through BPF_PROG_TEST_RUN; needs root)
#   e2e:  tests/e2e/test_*.sh       (network namespaces and a real `bpfguard run`; needs root)
#   static: tests/static/test_*.sh  (clang-format, clang --analyze, BPF with clang-14 and -16,
#           the README against the code)
#   fuzz: build/tests/fuzz/fuzz_*   (tests/fuzz/smoke.sh: the seeds, then a fixed-seed run)
# Every suite prints TAP. The runner counts every `ok` and `not ok` line across suites; a suite
# that exits non-zero (or is killed, or times out) without a `not ok` line, or that prints fewer
# results than its plan, counts as one more failure, named. At the end: the failures' names and
# a last line that is exactly "N passed, N failed". Exits 1 if anything failed or nothing ran.
#
# Environment: BUILD (default build), UNIT_TIMEOUT, BPF_TIMEOUT, E2E_TIMEOUT, STATIC_TIMEOUT,
# FUZZ_TIMEOUT (seconds per suite); FUZZ_RUNS, FUZZ_TIME (tests/fuzz/smoke.sh).

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
BPF_TIMEOUT=${BPF_TIMEOUT:-300}
E2E_TIMEOUT=${E2E_TIMEOUT:-420}
STATIC_TIMEOUT=${STATIC_TIMEOUT:-300}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-120}

PASSED=0
FAILED=0
SKIPPED=0
SUITES=0
FAILURES=()
CUR_LOG=""

usage() {
	echo "usage: tests/run.sh [unit|bpf|e2e|static|fuzz|all]" >&2
	exit 2
}

# fail_suite NAME WHY: count one failure that has no TAP line of its own.
fail_suite() {
	FAILED=$((FAILED + 1))
	FAILURES+=("$1: $2")
	printf 'not ok - %s: %s\n' "$1" "$2"
}

# run_suite NAME TIMEOUT CMD...: run one TAP-printing program, stream its output and count it.
run_suite() {
	local name=$1 limit=$2 log rc line plan="" n_ok=0 n_fail=0 n_skip=0 desc
	shift 2
	SUITES=$((SUITES + 1))
	if ! log=$(mktemp "/tmp/bpfguard-run.XXXXXX"); then
		fail_suite "$name" "mktemp failed"
		return
	fi
	CUR_LOG=$log
	printf '# --- %s\n' "$name"
	CMOCKA_MESSAGE_OUTPUT=TAP timeout --foreground -k 10 "$limit" "$@" 2>&1 | tee -i "$log"
	rc=${PIPESTATUS[0]}
	while IFS= read -r line; do
		# TAP directive "# SKIP" (cmocka prints "not ok 3 # SKIP name"): neither a pass
		# nor a failure.
		if [[ "$line" =~ ^(not[[:space:]]+)?ok.*\#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
			n_skip=$((n_skip + 1))
			continue
		fi
		case "$line" in
		"not ok "*)
			n_fail=$((n_fail + 1))
			desc=$(sed -E 's/^not ok[[:space:]]*[0-9]*[[:space:]]*-?[[:space:]]*//' <<<"$line")
			FAILURES+=("$name: ${desc:-test $((n_ok + n_fail + n_skip))}")
			;;
		"ok "*)
			n_ok=$((n_ok + 1))
			;;
		1..*)
			plan=${line#1..}
			plan=${plan%%[!0-9]*}
			;;
		esac
	done <"$log"
	rm -f "$log"
	CUR_LOG=""
	PASSED=$((PASSED + n_ok))
	FAILED=$((FAILED + n_fail))
	SKIPPED=$((SKIPPED + n_skip))
	if ((rc == 124 || rc == 137)); then
		fail_suite "$name" "timed out after ${limit}s"
	elif ((rc > 128)); then
		fail_suite "$name" "killed by signal $((rc - 128))"
	elif ((rc != 0 && n_fail == 0)); then
		fail_suite "$name" "exited with status $rc without a failing test"
	elif [[ -n "$plan" ]] && ((n_ok + n_fail + n_skip < plan)); then
		fail_suite "$name" "planned $plan tests, ran $((n_ok + n_fail + n_skip))"
	elif ((rc == 0 && n_ok + n_fail + n_skip == 0)); then
		fail_suite "$name" "ran no test"
	fi
}

# need_root SUITE: BPF and e2e suites cannot run unprivileged.
need_root() {
	if [[ $EUID -ne 0 ]]; then
		fail_suite "$1" "needs root (CAP_BPF, CAP_NET_ADMIN, network namespaces): run as root"
		return 1
	fi
	return 0
}

# run_binaries KIND TIMEOUT: every build/tests/KIND/test_* binary; a tests/KIND/test_*.c
# without its binary is a failure (not built).
run_binaries() {
	local kind=$1 limit=$2 src bin found=0
	for src in tests/"$kind"/test_*.c; do
		[[ -e "$src" ]] || continue
		bin="$BUILD/${src%.c}"
		if [[ ! -x "$bin" ]]; then
			fail_suite "$kind/$(basename "$bin")" "not built: run 'make tests' (or make test)"
		fi
	done
	for bin in "$BUILD"/tests/"$kind"/test_*; do
		[[ -f "$bin" && -x "$bin" ]] || continue
		found=1
		run_suite "$kind/$(basename "$bin")" "$limit" "$bin"
	done
	((found)) || printf '# no %s test binaries in %s/tests/%s\n' "$kind" "$BUILD" "$kind"
}

run_unit() {
	run_binaries unit "$UNIT_TIMEOUT"
}

run_bpf() {
	need_root bpf || return
	run_binaries bpf "$BPF_TIMEOUT"
}

run_e2e() {
	local t
	need_root e2e || return
	for t in tests/e2e/test_*.sh; do
		[[ -f "$t" ]] || continue
		run_suite "e2e/$(basename "$t" .sh)" "$E2E_TIMEOUT" bash "$t"
	done
}

# Static checks need no root: they read the sources and build/*.skel.h.
run_static() {
	local t
	for t in tests/static/test_*.sh; do
		[[ -f "$t" ]] || continue
		run_suite "static/$(basename "$t" .sh)" "$STATIC_TIMEOUT" bash "$t"
	done
}

# Fuzzers need no root: each one's seeds, then a short run from them (tests/fuzz/smoke.sh).
run_fuzz() {
	local src bin
	for src in tests/fuzz/fuzz_*.c; do
		[[ -e "$src" ]] || continue
		bin="$BUILD/${src%.c}"
		if [[ ! -x "$bin" ]]; then
			fail_suite "fuzz/$(basename "$bin")" "not built: run 'make tests' (or make test)"
			continue
		fi
		run_suite "fuzz/$(basename "$bin")" "$FUZZ_TIMEOUT" bash tests/fuzz/smoke.sh "$bin"
	done
}

# Ctrl-C: the running suite gets it too and cleans up (its own trap); then stop here.
trap '[[ -n "$CUR_LOG" ]] && rm -f "$CUR_LOG"; echo "# interrupted"; echo "$PASSED passed, $((FAILED + 1)) failed"; exit 130' INT TERM

what=${1:-all}
case "$what" in
unit) run_unit ;;
bpf) run_bpf ;;
e2e) run_e2e ;;
static) run_static ;;
fuzz) run_fuzz ;;
all)
	run_unit
	run_bpf
	run_e2e
	run_static
	run_fuzz
	;;
-h | --help) usage ;;
*) usage ;;
esac

if ((SUITES == 0 && FAILED == 0)); then
	fail_suite "$what" "nothing ran: no test binaries or scripts found (run 'make tests')"
fi
if ((${#FAILURES[@]} > 0)); then
	echo "# failures:"
	printf '#   %s\n' "${FAILURES[@]}"
fi
((SKIPPED > 0)) && echo "# $SKIPPED skipped"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
