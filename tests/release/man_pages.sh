#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# man_pages.sh MAN_DIR DAXLEASE INCLUDE_DIR: the generated man pages render
# without warnings, daxlease(8) has a section for every command that
# `daxlease --help` lists, holding every option of that command's --help,
# and libdaxlease(3) names every function of the public header.
set -euo pipefail
dir=$1 cli=$2 inc=$3
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v man >/dev/null; then
	echo "man_pages: no man (man-db): skipped"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-man.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
for p in daxlease.8 libdaxlease.3; do
	[ -f "$dir/$p" ] || { echo "FAIL: $dir/$p was not made"; exit 1; }
	MANWIDTH=100 man --warnings -l "$dir/$p" >"$T/$p.txt" 2>"$T/$p.err" || { cat "$T/$p.err"; fail=1; }
	if [ -s "$T/$p.err" ]; then
		echo "FAIL: $p renders with warnings:"
		sed 's/^/  /' "$T/$p.err"
		fail=1
	fi
done

"$cli" --help >"$T/overview"
cmds=$(sed -n '/^A file system/,$p' "$T/overview" | awk '/^  [a-z]+  /{print $1}')
[ "$(wc -w <<<"$cmds")" -ge 5 ] || { echo "FAIL: no commands found in $cli --help"; exit 1; }
for c in $cmds; do
	# the section, from its heading to the next command's
	awk -v c="$c" '/^   [a-z]+$/ { on = ($1 == c) } on' "$T/daxlease.8.txt" >"$T/sec"
	if [ ! -s "$T/sec" ]; then
		echo "FAIL: daxlease(8) has no section for $c"
		fail=1
		continue
	fi
	for o in $("$cli" help "$c" | grep -oE '(^|[ [])--[a-z][a-z-]*' | tr -d ' [' | sort -u); do
		grep -q -- "$o" "$T/sec" || { echo "FAIL: daxlease(8), $c: $o missing"; fail=1; }
	done
done
n=0
for f in $(bash "$here/public_names.sh" "$inc/daxlease/daxlease.h"); do
	n=$((n + 1))
	grep -q "\b$f\b" "$T/libdaxlease.3.txt" || { echo "FAIL: libdaxlease(3) does not name $f"; fail=1; }
done
[ "$fail" -eq 0 ] || exit 1
echo "man_pages: daxlease(8) covers $(wc -w <<<"$cmds") commands with their options; libdaxlease(3) names all $n public functions"
