# SPDX-License-Identifier: BSD-3-Clause
# Help on every command, usage errors (exit 2), bad sizes and durations.
source "$(dirname "$0")/lib.sh"

commands="mkfs fsck info tune ls stat mkdir rm mv put get cat truncate cp io bench"

step "help"
ok --help
for c in $commands; do
	grep -q "^  $c " "$T/out" || fail "$c missing from --help"
done
for c in $commands; do
	ok "$c" --help
	# bench answers --help itself, in its own words.
	[ "$c" = bench ] || matches "^usage: daxlease $c"
	ok help "$c"
	matches "^usage: daxlease $c"
done
expect 2 help nosuch
expect 2
expect 2 nosuch
ok --version
# MAJOR.MINOR.PATCH, and exactly the project's version when tests/cli.cmake
# passes it (CMakeLists.txt's project(VERSION) is the one source)
matches '^daxlease [0-9]+\.[0-9]+\.[0-9]+$'
if [ -n "${DXL_PROJECT_VERSION:-}" ]; then has_line "daxlease $DXL_PROJECT_VERSION"; fi

step "missing and extra arguments"
for args in "mkfs" "fsck" "info" "ls" "stat x" "mkdir x" "rm x" "mv x y" "put x y" \
	    "get x y" "cat x" "truncate x y" "cp x y" "io x" "tune x" "info a b" "stat a b c"; do
	# shellcheck disable=SC2086
	expect 2 $args
	matches err "^daxlease: ${args%% *}: "
done

step "bad sizes and durations"
for size in 12q -5 1.5m 0x 99999999999999999999 16777216t "" k; do
	expect 2 mkfs --size "$size" "$POOL"
	matches err "^daxlease: mkfs: --size: "
done
[ ! -e "$POOL" ] || fail "a rejected mkfs created the pool"
for dur in 5x 0 -1 ms 1.5s 99999999999999999999; do
	expect 2 mkfs --lease-break-time "$dur" "$POOL"
done
expect 2 mkfs --bogus "$POOL"
expect 2 mkfs -Z "$POOL"
expect 2 mkfs --size
expect 2 mkfs --unit 3000 "$POOL"
expect 2 fsck -n --repair "$POOL"
expect 2 tune "$POOL"
expect 2 tune "$POOL" --unbreakable maybe

step "accepted forms"
ok mkfs --size 32M --unit 4KiB --lease-break-time 500ms "$POOL"
ok info --json "$POOL"
matches '"lease_break_ms":500,'
ok tune "$POOL" --lease-break-time 2
has_line "lease break time: 2s"
ok tune "$POOL" --lease-break-time 1m
has_line "lease break time: 60s"

step "library errors"
expect 1 info "$T/missing"
matches err "^daxlease: info: $T/missing: .+"
expect 1 ls "$POOL" /missing
matches err "^daxlease: ls: /missing: .+"
expect 1 get "$POOL" /missing "$T/x"
expect 1 put "$POOL" "$T/missing" /x
matches err "^daxlease: put: $T/missing: No such file or directory$"
echo PASS
