# SPDX-License-Identifier: BSD-3-Clause
# Shared set-up for the mount tests: sourced with the daxlease binary as $1.
# Makes a pool and a mount point in a fresh temporary directory; whatever
# happens, the trap unmounts and removes it. Exits 77 (CTest SKIP) with a
# clear message where FUSE cannot be used.
set -euo pipefail

DXL=${1:?usage: $0 PATH/TO/daxlease}
# the pool goes where DXL_TEST_POOL points (tests/test_dir.h), if set;
# these tests make pool files, so a device skips them (CTest: 77)
if [ -c "${DXL_TEST_POOL:-}" ]; then
	echo "skipped: DXL_TEST_POOL=$DXL_TEST_POOL is a device, and this test makes pool files" >&2
	exit 77
fi
T=$(mktemp -d "${DXL_TEST_POOL:-${TMPDIR:-/tmp}}/dxl-fuse.XXXXXX")
POOL=$T/pool
MNT=$T/mnt
STEP=""
mkdir "$MNT"

cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL${STEP:+ [$STEP]}: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
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

# Skip (exit 77) unless this host can mount FUSE file systems at all.
require_fuse() {
	command -v fusermount3 >/dev/null || skip "fusermount3 not installed (Debian: fuse3)"
	[ -e /dev/fuse ] || skip "/dev/fuse does not exist (no FUSE in this kernel or container)"
	{ exec 9<>/dev/fuse; } 2>/dev/null || skip "/dev/fuse cannot be opened (no permission)"
	exec 9>&-
	local rc=0
	"$DXL" mount --help >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "daxlease mount --help exited $rc"
}

# Mount $POOL on $MNT in the background (extra options first); skip if the
# kernel refuses the mount itself (EPERM in an unprivileged container).
mount_pool() {
	local rc=0
	"$DXL" mount "$@" "$POOL" "$MNT" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		if grep -qiE 'operation not permitted|permission denied|device not found' "$T/err"; then
			skip "mounting FUSE is not allowed here: $(head -n1 "$T/err")"
		fi
		cat "$T/err" >&2
		fail "daxlease mount exited $rc"
	fi
	mountpoint -q "$MNT" || fail "daxlease mount returned but $MNT is not a mount point"
}

unmount_pool() {
	fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
	# the server closes the pool after the kernel lets go; wait for it
	local i
	for i in $(seq 100); do
		pgrep -f "daxlease mount .*$POOL" >/dev/null || return 0
		sleep 0.1
	done
	fail "the mount process did not exit after unmount"
}

fsck_clean() {
	ok fsck "$POOL"
	grep -qxF "$POOL: clean" "$T/out" || { cat "$T/out" >&2; fail "fsck: pool not clean"; }
}

same_file() {
	cmp -- "$1" "$2" || fail "$1 and $2 differ"
}
