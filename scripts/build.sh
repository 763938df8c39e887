#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Configure and build into a directory: build.sh DIR [extra cmake args...]
# Quiet when it works; the compiler's messages when it does not (ninja
# prints them on stdout, so they are kept and shown on failure).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
cmake -S "$top" -B "$dir" -G Ninja "$@" >/dev/null
log=$(mktemp)
if ! ninja -C "$dir" >"$log" 2>&1; then
	grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | tail -n 60 >&2
	rm -f "$log"
	echo "build.sh: the build in $dir failed" >&2
	exit 1
fi
rm -f "$log"
