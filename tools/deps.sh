#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages bpfguard needs to build, test and demo, and mount bpffs.
#   tools/deps.sh          install only what is missing (silent when nothing is)
#   tools/deps.sh --all    apt-get update and install every package (CI)
#   tools/deps.sh --list   print the package list, one a line
# Needs root to install or mount; without root it only reports what is missing.

set -euo pipefail

PACKAGES=(
	# build
	libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev libidn2-dev libcmocka-dev
	libcurl4-openssl-dev
	pkg-config make gcc
	# static checks (tests/static): format, analyzer, BPF built by a second compiler
	clang-14 clang-16 clang-format-14
	# the fuzzers (tests/fuzz): libFuzzer and the sanitizers' runtime (only a Recommends of clang)
	libclang-rt-14-dev
	# schedules read the zone database (/usr/share/zoneinfo)
	tzdata
	# tests and demo
	iproute2 iputils-ping curl python3 python3-scapy tshark dnsutils knot-dnsutils
	dnsmasq-base openssl xdp-tools netcat-openbsd jq util-linux procps
)

mode=missing
case "${1:-}" in
"") ;;
--all) mode=all ;;
--list)
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
	;;
*)
	echo "usage: tools/deps.sh [--all|--list]" >&2
	exit 2
	;;
esac

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

if [[ $mode == all ]]; then
	todo=("${PACKAGES[@]}")
else
	todo=()
	for p in "${PACKAGES[@]}"; do
		installed "$p" || todo+=("$p")
	done
fi

if ((${#todo[@]} > 0)); then
	if [[ $EUID -ne 0 ]]; then
		echo "tools/deps.sh: missing packages: ${todo[*]}" >&2
		echo "tools/deps.sh: run as root (sudo make deps) to install them" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture: answer no, without a prompt.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
		debconf-set-selections
	echo "tools/deps.sh: installing ${todo[*]}"
	apt-get update -q
	apt-get install -y -q "${todo[@]}"
fi

# bpffs: pins live under /sys/fs/bpf (a fresh CI machine or container may not mount it).
if ! mountpoint -q /sys/fs/bpf; then
	if [[ $EUID -ne 0 ]]; then
		echo "tools/deps.sh: bpffs is not mounted at /sys/fs/bpf; as root: mount -t bpf bpf /sys/fs/bpf" >&2
		exit 2
	fi
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
	echo "tools/deps.sh: mounted bpffs at /sys/fs/bpf"
fi
exit 0
