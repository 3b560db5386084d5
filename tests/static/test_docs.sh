#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The README against the code, as one TAP suite for tests/run.sh: what an operator reads must
# name everything the program has, so that nothing it counts, accepts or offers goes
# undocumented when the code grows.
#   counters: every counter of maps/counters.h (its name, the second field of each X(...)) is
#             in the README, in backquotes (the counter tables of "Read the counters");
#   keys:     every config key user/config.c accepts (guard_keys, list_keys, group_keys, and
#             the [schedule] keys it compares by name) is in the README, as `key` or `key =`
#             (the prose) or at the start of a line of a config example;
#   commands: every command `bpfguard --help` lists is in the README as `bpfguard COMMAND`.
# Each `not ok` names what is missing. Needs build/bpfguard (`make`). Environment: BUILD.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
README=README.md
N=0

result() {
	local what=$1 missing=$2 total=$3
	N=$((N + 1))
	if ((total == 0)); then
		printf 'not ok %d - %s: none found in the code (has its form changed? fix this test)\n' \
			"$N" "$what"
	elif [[ -n $missing ]]; then
		printf 'not ok %d - %s: %s missing from %s:%s\n' "$N" "$what" \
			"$(wc -w <<<"$missing" | tr -d ' ')" "$README" "$(printf ' %s' $missing)"
	else
		printf 'ok %d - %s: all %d in %s\n' "$N" "$what" "$total" "$README"
	fi
}

# documented WORD: is WORD in the README in backquotes, as `WORD =`, or opening a line of a
# config example (indented or not)?
documented() {
	grep -qE "\`$1( =[^\`]*)?\`|^[[:space:]]*$1 =" "$README"
}

echo "1..3"

missing=""
total=0
for c in $(sed -n 's/^[[:space:]]*X([A-Z0-9_]*, "\([a-z0-9_]*\)".*/\1/p' maps/counters.h); do
	total=$((total + 1))
	grep -q "\`$c\`" "$README" || missing+=" $c"
done
result "counters of maps/counters.h" "$missing" "$total"

missing=""
total=0
# the string literals of the key tables, each table from its name to its closing brace
keys=$(awk '/^static const char \*const (guard|list|group)_keys\[\]/ { p = 1 }
	p { print } p && /};/ { p = 0 }' user/config.c | grep -o '"[a-z0-9_]*"' | tr -d '"')
# the [schedule] keys are compared by name in its parser
keys+=" $(grep -o 'strcasecmp(key, "[a-z0-9_]*")' user/config.c | sed 's/.*"\(.*\)")/\1/' |
	sort -u)"
for k in $(tr ' ' '\n' <<<"$keys" | sort -u); do
	total=$((total + 1))
	documented "$k" || missing+=" $k"
done
result "config keys of user/config.c" "$missing" "$total"

missing=""
total=0
if [[ -x $BUILD/bpfguard ]]; then
	for c in $("$BUILD/bpfguard" --help 2>&1 | sed -n 's/^  \([a-z]\+\) .*/\1/p'); do
		total=$((total + 1))
		grep -q "bpfguard $c\b" "$README" || missing+=" $c"
	done
fi
result "commands of bpfguard --help" "$missing" "$total"
