#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks (STYLE.md "Tests"), as one TAP suite for tests/run.sh:
#   format:  clang-format-14 --dry-run -Werror on every tracked *.c and *.h (git ls-files): one
#            `not ok` per file that is not formatted, naming it and its first places; one `ok`
#            when every file is.
#   analyze: clang-14 --analyze with the user-side flags of the Makefile (-I. -Ibuild
#            -D_GNU_SOURCE -std=gnu11) on user/*.c and tools/*.c: one `ok` per clean file, one
#            `not ok` per analyzer warning naming file:line (a file that does not compile is one
#            `not ok` with the compiler's first error).
#   bpf:     every bpf/*.bpf.c compiles with clang-14 and with clang-16 under the Makefile's
#            BPF_CFLAGS (-Wall -Wextra -Werror): one line per compiler and object. (That the
#            object also loads is tests/bpf's job: every BPF test opens and loads the skeleton.)
#
# libbpf's headers are passed to the analyzer as non-system headers
# (--no-system-header-prefix=bpf/): the analyzer assumes that a function declared in a system
# header frees nothing, so every bpftool skeleton's error path (calloc, then
# bpf_object__destroy_skeleton) would be reported as a leak in generated code.
#
# Needs the skeletons (build/*.skel.h, from `make`), clang-14, clang-16 and clang-format-14
# (`make deps`). Environment: BUILD (default build).

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}

N=0
FAILS=0
TMP=$(mktemp -d /tmp/bpfguard-static.XXXXXX) || exit 2
trap 'rm -rf "$TMP"' EXIT

ok() {
	N=$((N + 1))
	printf 'ok %d - %s\n' "$N" "$1"
}

not_ok() {
	N=$((N + 1))
	FAILS=$((FAILS + 1))
	printf 'not ok %d - %s\n' "$N" "$1"
}

# comment FILE [MAX]: FILE's lines as TAP comments, at most MAX (default 20).
comment() {
	local max=${2:-20} n
	n=$(wc -l <"$1")
	sed -n "1,${max}p" "$1" | sed 's/^/#   /'
	((n > max)) && printf '#   ... (%d more lines)\n' $((n - max))
	return 0
}

# need TOOL: is TOOL installed? If not, one `not ok` saying how to get it.
need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		not_ok "$1 is not installed: run 'make deps' (tools/deps.sh installs it)"
		return 1
	fi
	return 0
}

# ---- format ----------------------------------------------------------------------------------
check_format() {
	local f files=() bad=0 out="$TMP/format" where
	need clang-format-14 || return
	mapfile -t files < <(git ls-files '*.c' '*.h')
	if ((${#files[@]} == 0)); then
		not_ok "format: git ls-files found no *.c or *.h (is $ROOT a git work tree?)"
		return
	fi
	for f in "${files[@]}"; do
		[[ -f $f ]] || continue # deleted in the work tree, not yet in git
		if clang-format-14 --dry-run -Werror "$f" >/dev/null 2>"$out"; then
			continue
		fi
		bad=$((bad + 1))
		# "file:line:col: error: code should be clang-formatted": keep the places
		where=$(grep -oE '^[^:]+:[0-9]+:[0-9]+: error' "$out" | sed 's/: error$//' |
			head -n 3 | paste -sd ' ')
		not_ok "format: $f is not clang-formatted (at ${where:-?}; fix: clang-format-14 -i $f)"
		grep -E '^[^:]+:[0-9]+:[0-9]+: error' "$out" >"$out.places"
		comment "$out.places" 10
	done
	((bad == 0)) && ok "format: all ${#files[@]} tracked *.c and *.h files are clang-formatted"
}

# ---- analyze ---------------------------------------------------------------------------------
check_analyze() {
	local f files=() out="$TMP/analyze" line skel missing=0
	local flags=(-I. -I"$BUILD" -D_GNU_SOURCE -std=gnu11 --no-system-header-prefix=bpf/)
	need clang-14 || return
	for skel in guard minimal; do
		if [[ ! -f "$BUILD/$skel.skel.h" ]]; then
			not_ok "analyze: $BUILD/$skel.skel.h is missing: run 'make' first"
			missing=1
		fi
	done
	((missing)) && return
	for f in user/*.c tools/*.c; do
		[[ -f $f ]] && files+=("$f")
	done
	if ((${#files[@]} == 0)); then
		not_ok "analyze: no user/*.c or tools/*.c found"
		return
	fi
	for f in "${files[@]}"; do
		clang-14 --analyze -Xanalyzer -analyzer-output=text "${flags[@]}" "$f" \
			-o /dev/null >"$out" 2>&1
		if grep -qE '^[^ ].*: (fatal )?error: ' "$out"; then
			line=$(grep -m1 -E '^[^ ].*: (fatal )?error: ' "$out")
			not_ok "analyze: $f does not compile: $line"
			continue
		fi
		if ! grep -qE '^[^ ].*: warning: ' "$out"; then
			ok "analyze: $f"
			continue
		fi
		# "path:line:col: warning: message [checker]" -> "path:line: message [checker]"
		while IFS= read -r line; do
			not_ok "analyze: $f: $(sed -E 's/^([^:]+:[0-9]+):[0-9]+: warning: /\1: /' <<<"$line")"
		done < <(grep -E '^[^ ].*: warning: ' "$out")
		# the path the analyzer took, for the first report
		grep -E '^[^ ].*: (warning|note): ' "$out" >"$out.path"
		comment "$out.path" 30
	done
}

# ---- BPF objects with two compilers -------------------------------------------------------------
check_bpf() {
	local cc f out="$TMP/bpf" bpf_cflags srcs=()
	# The Makefile's own flags, so that this check cannot drift from the build ($($*) is
	# make's, not the shell's).
	# shellcheck disable=SC2016
	bpf_cflags=$(make -s --no-print-directory \
		--eval='static-print-%: ; @printf "%s\n" "$($*)"' static-print-BPF_CFLAGS 2>"$out")
	if [[ -z $bpf_cflags ]]; then
		not_ok "bpf: cannot read BPF_CFLAGS from the Makefile: $(head -c 300 "$out")"
		return
	fi
	# the dependency files are the build's business
	bpf_cflags=$(sed -E 's/(^| )-MMD( |$)/ /; s/(^| )-MP( |$)/ /' <<<"$bpf_cflags")
	for f in bpf/*.bpf.c; do
		[[ -f $f ]] && srcs+=("$f")
	done
	if ((${#srcs[@]} == 0)); then
		not_ok "bpf: no bpf/*.bpf.c found"
		return
	fi
	for cc in clang-14 clang-16; do
		need "$cc" || continue
		for f in "${srcs[@]}"; do
			# shellcheck disable=SC2086 # BPF_CFLAGS is a list of words
			if "$cc" $bpf_cflags -c "$f" -o "$TMP/$(basename "$f" .c).$cc.o" \
				>"$out" 2>&1; then
				ok "bpf: $f builds with $cc -Werror"
			else
				not_ok "bpf: $f does not build with $cc: $(grep -m1 -E 'error' "$out")"
				comment "$out" 20
			fi
		done
	done
}

check_format
check_analyze
check_bpf
echo "1..$N"
((FAILS == 0))
