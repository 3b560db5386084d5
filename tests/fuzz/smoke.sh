#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/fuzz/smoke.sh BUILD/tests/fuzz/NAME: a short, reproducible run of one fuzzer, as TAP,
# for `make test` (tests/run.sh fuzz). Not a fuzzing campaign (run the binary on its own for
# that: build/tests/fuzz/NAME -max_total_time=600 DIR tests/fuzz/seeds/NAME); it catches a
# parser change that breaks on its own seeds or within a few hundred thousand mutations.
#   1. every seed runs clean: tests/fuzz/seeds/NAME/ (tests/fuzz/make_seeds.py made them; an
#      input that once failed belongs there too, named for what it found), and for the
#      registry and config parsers the repository's own lists and configs;
#   2. FUZZ_RUNS mutations of the seeds (default 300000, libFuzzer's -seed=1: the same inputs
#      every run on the same binary), stopped after FUZZ_TIME seconds (default 25) if slower.
# A failure prints libFuzzer's report and the failing input in hex, and keeps the input under
# FUZZ_FAILURES (default build/fuzz/failures): rerun it with build/tests/fuzz/NAME FILE.

set -uo pipefail

bin=${1:?usage: tests/fuzz/smoke.sh BUILD/tests/fuzz/NAME}
name=$(basename "$bin")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
FUZZ_RUNS=${FUZZ_RUNS:-300000}
FUZZ_TIME=${FUZZ_TIME:-25}
FUZZ_FAILURES=${FUZZ_FAILURES:-build/fuzz/failures}

tmp=$(mktemp -d "/tmp/bpfguard-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

if [[ ! -x "$bin" ]]; then
	echo "1..1"
	echo "not ok 1 - $name: $bin is not built (make tests)"
	exit 1
fi

# The seed files: the fuzzer's own, then the repository's inputs of its kind.
seeds=()
[[ -d tests/fuzz/seeds/$name ]] && seeds+=(tests/fuzz/seeds/"$name"/*)
case "$name" in
fuzz_registry) seeds+=(tests/data/registry/*.txt tests/data/registry/dlc/* etc/registry/*) ;;
fuzz_config) seeds+=(etc/bpfguard.conf tests/data/config/*.conf) ;;
esac
mkdir -p "$tmp/seeds" "$tmp/corpus" "$tmp/out" || exit 2
i=0
for f in "${seeds[@]}"; do
	[[ -f "$f" ]] || continue
	# numbered: two directories may hold files of the same name
	i=$((i + 1))
	cp -- "$f" "$tmp/seeds/$i-$(basename "$f")" || exit 2
done

# report N DESC LOG: the TAP line, and on failure libFuzzer's report and the input kept.
report() {
	local n=$1 desc=$2 log=$3 rc=$4 a keep
	if ((rc == 0)); then
		echo "ok $n - $name: $desc"
		return 0
	fi
	echo "not ok $n - $name: $desc (exit $rc)"
	# the sanitizer's or libFuzzer's report, from its first line (not the progress lines)
	awk '/ERROR|runtime error|deadly signal|out-of-memory|timeout/ { p = 1 } p' "$log" |
		head -n 40 | sed 's/^/# /'
	for a in "$tmp"/out/*; do
		[[ -f "$a" ]] || continue
		mkdir -p "$FUZZ_FAILURES" && keep="$FUZZ_FAILURES/$name-$(basename "$a")" &&
			cp -- "$a" "$keep" && echo "# input kept: $keep (rerun: $bin $keep)"
		echo "# input ($(stat -c %s "$a") bytes, hex):"
		od -An -tx1 -v "$a" | head -n 40 | sed 's/^/#/'
	done
	return 1
}

echo "1..2"
fail=0
nseeds=$(find "$tmp/seeds" -type f | wc -l)
if ((nseeds == 0)); then
	echo "not ok 1 - $name: no seed inputs (tests/fuzz/seeds/$name: run tests/fuzz/make_seeds.py)"
	fail=1
else
	# Files as arguments: each one run once, as a reproduction would.
	"$bin" -artifact_prefix="$tmp/out/" "$tmp"/seeds/* >"$tmp/seeds.log" 2>&1
	report 1 "its $nseeds seed inputs run clean" "$tmp/seeds.log" $? || fail=1
fi
"$bin" -seed=1 -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" -max_len=4096 \
	-artifact_prefix="$tmp/out/" -print_final_stats=1 "$tmp/corpus" "$tmp/seeds" \
	>"$tmp/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
cov=$(grep -Eo 'cov: [0-9]+' "$tmp/fuzz.log" | tail -n 1)
desc="${runs:-?} mutations from its seeds run clean (${cov:-cov: ?} edges)"
report 2 "$desc" "$tmp/fuzz.log" $rc || fail=1
exit $fail
