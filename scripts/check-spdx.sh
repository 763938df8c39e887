#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every tracked source file starts with the project's SPDX line, in its own
# comment syntax ("/* ... */" for C, C headers and the linker version
# script; "# ..." for CMake, shell and the rest), after the shebang if the
# file has one.  check-spdx.sh [TOP]: lists the files that do not and exits
# 1; exits 77 (CTest: skipped) outside a git checkout.
set -euo pipefail
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
if ! command -v git >/dev/null || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "check-spdx: $top is not a git checkout: skipped"
	exit 77
fi
id='SPDX-License-Identifier: BSD-3-Clause'

# The source files: by name anywhere, and everything in the trees that hold
# only code and scripts (less the fuzzer's binary regression inputs).
is_source() {
	case $1 in
	tests/fuzz_corpus/*) return 1 ;;
	*.md) return 1 ;;
	*.c | *.h | *.cmake | *.in | *.map | *.sh | CMakeLists.txt | */CMakeLists.txt) return 0 ;;
	scripts/* | .ci/* | bench/* | tests/*) return 0 ;;
	esac
	return 1
}

bad=0 n=0
while IFS= read -r -d '' f; do
	is_source "$f" || continue
	[ -f "$f" ] || continue # deleted in the work tree, not yet in the index
	n=$((n + 1))
	case $f in
	*.c | *.h | *.h.in | *.map) want="/* $id */" ;;
	*) want="# $id" ;;
	esac
	first=$(head -n 1 -- "$f")
	line=$first
	if [ "${first#\#!}" != "$first" ]; then line=$(sed -n 2p -- "$f"); fi
	if [ "$line" != "$want" ]; then
		echo "$f: does not start with '$want'"
		bad=$((bad + 1))
	fi
done < <(git ls-files -z)
if [ "$bad" -ne 0 ]; then
	echo "check-spdx: $bad of $n source files lack the SPDX line"
	exit 1
fi
echo "check-spdx: all $n source files carry '$id'"
