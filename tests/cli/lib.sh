# SPDX-License-Identifier: BSD-3-Clause
# Shared set-up for the CLI tests: sourced with the daxlease binary as $1.
# Each test gets a fresh temporary directory, removed however the test ends.
set -euo pipefail

DXL=${1:?usage: $0 PATH/TO/daxlease}
# the pool goes where DXL_TEST_POOL points (tests/test_dir.h), if set;
# these tests make pool files, so a device skips them (CTest: 77)
if [ -c "${DXL_TEST_POOL:-}" ]; then
	echo "skipped: DXL_TEST_POOL=$DXL_TEST_POOL is a device, and this test makes pool files" >&2
	exit 77
fi
T=$(mktemp -d "${DXL_TEST_POOL:-${TMPDIR:-/tmp}}/dxl-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
POOL=$T/pool
STEP=""

fail() {
	echo "FAIL${STEP:+ [$STEP]}: $*" >&2
	exit 1
}

step() {
	STEP=$1
	echo "--- $STEP"
}

# Run daxlease, expecting exit status $1; output lands in $T/out and $T/err.
expect() {
	local want=$1 rc=0
	shift
	"$DXL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "stdout:" >&2; cat "$T/out" >&2
		echo "stderr:" >&2; cat "$T/err" >&2
		fail "daxlease $* exited $rc, expected $want"
	fi
}

ok() { expect 0 "$@"; }

# The last command's stdout must contain this exact line.
has_line() {
	grep -qxF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "no line '$1' in output"; }
}

# The last command's stdout (or stderr with 'err') must match this regex.
matches() {
	local file=$T/out
	if [ "$1" = err ]; then file=$T/err; shift; fi
	grep -qE -- "$1" "$file" || { cat "$file" >&2; fail "nothing matches /$1/"; }
}

same_file() {
	cmp -- "$1" "$2" || fail "$1 and $2 differ"
}

# A fresh 64 MiB pool; extra mkfs options may follow.
new_pool() {
	rm -f "$POOL"
	ok mkfs --size 64m "$@" "$POOL"
}

# The pool must be clean; fsck prints 'POOL: clean' only then.
fsck_clean() {
	ok fsck "$POOL"
	has_line "$POOL: clean"
}
