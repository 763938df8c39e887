#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libFuzzer on the protocol parser (tests/fuzz_proto.c): fuzz.sh [SECONDS]
# (default 60).  Builds fuzz_proto with clang, ASan and UBSan in build-fuzz,
# seeds a fresh corpus with the built-in messages (and tests/fuzz_corpus/),
# and fails on a crash; the input is kept in build-fuzz/fuzz-artifacts/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
"$top/scripts/bootstrap.sh"
dir="$top/build-fuzz"
cmake -S "$top" -B "$dir" -G Ninja -DCMAKE_C_COMPILER=clang -DDXL_FUZZ=ON \
	-DDXL_SANITIZE=address,undefined >/dev/null
ninja -C "$dir" fuzz_proto fuzz_proto_smoke >/dev/null
corpus="$dir/fuzz-corpus" artifacts="$dir/fuzz-artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
"$dir/tests/fuzz_proto_smoke" --write-seeds "$corpus"
if [ -d "$top/tests/fuzz_corpus" ]; then cp "$top"/tests/fuzz_corpus/* "$corpus"/; fi
if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	"$dir/tests/fuzz_proto" -max_total_time="$secs" -max_len=4200 -timeout=10 \
	-artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus"; then
	echo "fuzz.sh: the fuzzer failed; the input is in $artifacts/ (run it again:" \
		"$dir/tests/fuzz_proto FILE)" >&2
	exit 1
fi
