#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Set up, build and run the whole test suite.
#   scripts/test.sh                 gcc build, every test
#   scripts/test.sh --sanitize address,undefined   (or thread)
#   scripts/test.sh --cc clang
#   scripts/test.sh ... -- CTEST-ARGS        (e.g. -- -R namespace)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
san="" cc="" 
while [ $# -gt 0 ]; do
	case $1 in
	--sanitize) san=$2; shift 2 ;;
	--cc) cc=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--sanitize LIST] [--cc COMPILER]" >&2; exit 2 ;;
	esac
done
"$top/scripts/bootstrap.sh"
dir="$top/build"
args=()
if [ -n "$san" ]; then dir="$top/build-san-${san//,/-}"; args+=(-DDXL_SANITIZE="$san" -DCMAKE_BUILD_TYPE=Debug); fi
if [ -n "$cc" ]; then dir="$dir-$cc"; args+=(-DCMAKE_C_COMPILER="$cc"); fi
"$top/scripts/build.sh" "$dir" "${args[@]}"
cd "$dir"
ctest --output-on-failure -j2 "$@"
