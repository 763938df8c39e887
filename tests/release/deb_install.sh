#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# deb_install.sh DEBDIR: what CI does with the built packages (it changes
# the machine: root, and not a CTest).  Installs every .deb of DEBDIR with
# apt (their dependencies too), then, outside the tree: `man daxlease` and
# `man libdaxlease` find their pages, `daxlease` runs from PATH, and
# tests/consumer is built with pkg-config alone and with find_package, and
# run.  The packages are removed again at the end, whatever happened.
set -euo pipefail
debs=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
consumer=$here/../consumer
T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-deb.XXXXXX")
pkgs="daxlease libdaxlease-dev libdaxlease0"
for p in $pkgs; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		echo "deb_install: $p is installed already: not touching this machine's packages" >&2
		exit 1
	fi
done
cleanup() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkgs >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "deb_install: FAIL: $*" >&2; exit 1; }

files=()
for p in $pkgs; do
	f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -n 1) || true
	[ -n "$f" ] || fail "no ${p}_*.deb in $debs"
	files+=("$f")
done
echo "deb_install: apt-get install ${files[*]##*/}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${files[@]}" >"$T/apt.log" 2>&1 ||
	{ cat "$T/apt.log" >&2; fail "apt-get install"; }

cd "$T"
command -v daxlease >/dev/null || fail "daxlease is not on PATH"
daxlease --version | tee "$T/version"
# a release build: the DXL_TEST_* switches are off, and --version says
# nothing of them (a test build adds a line)
[ "$(wc -l <"$T/version")" -eq 1 ] || fail "the packaged daxlease is a test build (DXL_TEST_* switches honoured)"
man -w daxlease >/dev/null || fail "man daxlease"
man -w 3 libdaxlease >/dev/null || fail "man 3 libdaxlease"
MANWIDTH=80 man daxlease 2>/dev/null | grep -q "layout leases" || fail "man daxlease shows its page"
daxlease mkfs --size 16m "$T/pool" >/dev/null
echo hello | daxlease put "$T/pool" - /hello
[ "$(daxlease cat "$T/pool" /hello)" = hello ] || fail "daxlease put/cat"

echo "deb_install: a program built with pkg-config alone"
# shellcheck disable=SC2046
cc -o "$T/consumer_pc" "$consumer/consumer.c" $(pkg-config --cflags --libs daxlease)
mkdir "$T/run1"
"$T/consumer_pc" "$T/run1" | tee "$T/consumer.out"
# the packaged library carries the RDMA API (daxlease/rdma.h)
[ -f /usr/include/daxlease/rdma.h ] || fail "libdaxlease-dev has no daxlease/rdma.h"
grep -q "^rdma: connecting to 127.0.0.1:1 failed as it must" "$T/consumer.out" ||
	fail "the consumer did not use the RDMA API"
# the library the dynamic linker picks is the package's (/lib is /usr/lib on Debian)
got=$(ldd "$T/consumer_pc" | awk '$1 == "libdaxlease.so.0" { print $3 }')
[ -n "$got" ] && [ "$(readlink -f "$got")" = "$(readlink -f "$(dpkg -L libdaxlease0 | grep '/libdaxlease.so.0$')")" ] ||
	fail "consumer_pc does not use the packaged libdaxlease.so.0 (ldd: ${got:-none})"

echo "deb_install: a CMake project with find_package(daxlease)"
cmake -S "$consumer" -B "$T/cm" >"$T/cmake.log" 2>&1 || { cat "$T/cmake.log" >&2; fail "cmake configure"; }
cmake --build "$T/cm" >>"$T/cmake.log" 2>&1 || { cat "$T/cmake.log" >&2; fail "cmake build"; }
mkdir "$T/run2" "$T/run3"
"$T/cm/consumer_shared" "$T/run2"
"$T/cm/consumer_static" "$T/run3"
echo "deb_install: ok (the packages are removed again)"
