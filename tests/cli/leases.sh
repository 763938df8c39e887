# SPDX-License-Identifier: BSD-3-Clause
# Layout leases, pins and mappings from the command line: a holder in the
# background ('io ... -c "lease 0 0" -c wait-break &'), a breaker in the
# foreground, 'daxlease leases' in between. Only generous liveness bounds
# are timed: a holder that should have released must not have been revoked.
source "$(dirname "$0")/lib.sh"

HP=""
# A background holder still running when the test fails is stopped by pid.
trap 'if [ -n "$HP" ]; then kill "$HP" 2>/dev/null || true; fi; rm -rf "$T"' EXIT

# Start a holder: io POOL /f with the given -c commands, output in $T/holder.
holder() {
	"$DXL" io "$POOL" /f "$@" >"$T/holder" 2>&1 &
	HP=$!
}

# Wait for the holder to end; its exit status must be $1.
holder_done() {
	local rc=0
	{ wait "$HP"; } 2>/dev/null || rc=$?
	HP=""
	if [ "$rc" -ne "$1" ]; then
		cat "$T/holder" >&2
		fail "holder exited $rc, expected $1"
	fi
}

# The holder's output must match this regex.
holder_has() {
	grep -qE -- "$1" "$T/holder" || { cat "$T/holder" >&2; fail "holder printed nothing matching /$1/"; }
}

holder_lacks() {
	! grep -qE -- "$1" "$T/holder" || { cat "$T/holder" >&2; fail "holder printed /$1/"; }
}

# Poll 'daxlease leases' until a line matches (at most ~20 s).
wait_listed() {
	for _ in $(seq 200); do
		if "$DXL" leases "$POOL" >"$T/out" 2>"$T/err" && grep -qE -- "$1" "$T/out"; then
			return 0
		fi
		kill -0 "$HP" 2>/dev/null || { cat "$T/holder" >&2; fail "holder died before /$1/ was listed"; }
		sleep 0.1
	done
	cat "$T/out" "$T/err" >&2
	fail "no lease or pin matching /$1/ appeared"
}

# Nothing but the header in 'daxlease leases'.
none_listed() {
	ok leases "$POOL"
	[ "$(wc -l <"$T/out")" -eq 1 ] || { cat "$T/out" >&2; fail "leases or pins are left"; }
}

size_is() {
	ok io "$POOL" /f -c stat
	has_line "size = $1"
}

HEADER='^ID +KIND +STATE +PID +INO +RANGE +PINS +QUAR +LEFT +PATH$'

new_pool --lease-break-time 20s
ok io -f "$POOL" /f -c "pwrite 0 64k"

step "empty table"
none_listed
matches "$HEADER"
ok leases --json "$POOL"
[ ! -s "$T/out" ] || fail "--json printed something for no leases"
expect 2 leases
expect 2 leases "$POOL" extra
expect 1 leases "$T/nosuch"
matches err "^daxlease: leases: $T/nosuch: "

step "cooperative holder releases; the truncate completes"
holder -c "lease 0 0" -c "pin -l 0 16k" -c "mmap -d 0 16k" -c "wait-break -t 60"
wait_listed "^[0-9]+ +PIN-LONGTERM +ACTIVE +$HP +[0-9]+ +[0-9]+-[0-9]+u +0 +0 +- /f$"
wait_listed "^[0-9]+ +LEASE +ACTIVE +$HP +[0-9]+ +0-16384 +1 +0 +- /f$"
matches "$HEADER"
matches "^[0-9]+ +LEASE +ACTIVE +$HP +[0-9]+ +0-EOF +1 +0 +- /f$"
ok leases --json "$POOL"
matches "^\\{\"id\":[0-9]+,\"kind\":\"LEASE\",\"state\":\"ACTIVE\",\"pid\":$HP,\"ino\":[0-9]+,\"path\":\"/f\",\"range_unit\":\"bytes\",\"start\":0,\"end\":null,\"holder\":null,\"pins\":1,\"quarantined\":0,\"ms_left\":null\\}$"
matches "\"kind\":\"PIN-LONGTERM\".*\"range_unit\":\"units\""
start=$SECONDS
ok io "$POOL" /f -c "truncate 4k" -c stat
has_line "size = 4096"
# Well inside the 20 s break time: the holder released, nobody was revoked.
[ $((SECONDS - start)) -lt 15 ] || fail "the truncate waited for the lease-break time"
holder_done 0
holder_has '^took lease [0-9]+ range 0-EOF$'
holder_has '^pinned 16384 bytes at offset 0 \(lease [0-9]+, [0-9]+ segments?\)$'
holder_has '^mapped 16384 bytes at offset 0 \(direct, lease [0-9]+\)$'
holder_has '^break: lease [0-9]+ ino [0-9]+ range 4096-EOF deadline ([0-9]+\.[0-9]{3}s|passed) breaker [0-9]+$'
holder_has '^unpinned 1 pin$'
holder_has '^unmapped$'
[ "$(grep -c '^released lease [0-9]*$' "$T/holder")" -eq 2 ] || { cat "$T/holder" >&2; fail "both leases must be released"; }
holder_lacks '^revoked:'
none_listed

step "non-blocking breaker gets EWOULDBLOCK; the break still starts"
holder -c "lease 0 0" -c "wait-break -t 60"
wait_listed "^[0-9]+ +LEASE +ACTIVE +$HP "
expect 1 io -n "$POOL" /f -c "truncate 0"
matches err '^truncate: .*(break|EWOULDBLOCK|[Ww]ould block)'
holder_done 0
holder_has '^break: lease [0-9]+ ino [0-9]+ range 0-EOF '
holder_has '^released lease [0-9]+$'
size_is 4096
ok io -n "$POOL" /f -c "truncate 0" -c "pwrite 0 64k"
size_is 65536
none_listed

step "refusing leases: only where the pool allows them"
expect 1 io "$POOL" /f -c "lease -u 0 0"
matches err '^lease: .+'
ok tune "$POOL" --unbreakable yes
has_line "unbreakable: allowed"
holder -c "lease -u 0 0" -c "wait-break -t 6"
wait_listed "^[0-9]+ +LEASE-REFUSE +ACTIVE +$HP +[0-9]+ +0-EOF "
expect 1 io "$POOL" /f -c "truncate 0"
matches err '^truncate: .+'
expect 1 io -n "$POOL" /f -c "fpunch 0 4k"
matches err '^fpunch: .+'
size_is 65536
ok io "$POOL" /f -c "crc 0 64k"
want=$(cat "$T/out")
# Appending breaks nothing, even a refusing lease.
ok io "$POOL" /f -c "pwrite 64k 4k"
size_is 69632
# A refused change sends no break: the holder's wait runs out.
holder_done 1
holder_has '^took refusing lease [0-9]+ range 0-EOF$'
holder_has '^wait-break: no break within 6$'
holder_lacks '^break:'
ok io "$POOL" /f -c "crc 0 64k"
has_line "$want"
ok tune "$POOL" --unbreakable no
has_line "unbreakable: no"
none_listed

step "long-term pins need a lease; transient ones do not"
expect 1 io "$POOL" /f -c "pin -l 0 4k"
matches err '^pin: .+'
ok io "$POOL" /f -c "pin 0 4k" -c "pin 8k 8k" -c unpin
has_line "pinned 4096 bytes at offset 0 (transient, 1 segment)"
has_line "unpinned 2 pins"
# A lease with pins under it is not released until they are dropped.
expect 1 io "$POOL" /f -c "lease 0 64k" -c "pin -l 0 4k" -c unlease
matches err '^unlease: .+'
ok io "$POOL" /f -c "lease 0 64k" -c "pin -l 0 4k" -c unpin -c unlease
has_line "released lease $(sed -n 's/^took lease \([0-9]*\) .*/\1/p' "$T/out")"
none_listed

step "tune accepts the issue's durations"
ok tune "$POOL" --lease-break-time 5s
has_line "lease break time: 5s"
ok tune "$POOL" --lease-break-time 500ms
has_line "lease break time: 500ms"
expect 2 tune "$POOL" --lease-break-time 5q

step "unresponsive holder is revoked at the deadline"
ok tune "$POOL" --lease-break-time 300ms
ok io "$POOL" /f -c "truncate 0" -c "pwrite 0 64k"
holder -c "lease 0 0" -c "pin -l 0 4k" -c "sleep 6" -c events -c "pin -l 8k 4k"
wait_listed "^[0-9]+ +PIN-LONGTERM +ACTIVE +$HP "
ok io "$POOL" /f -c "truncate 0"
# The truncate did not wait for the holder to go away.
kill -0 "$HP" 2>/dev/null || fail "the truncate waited for the holder to exit"
ok leases "$POOL"
matches "^[0-9]+ +LEASE +REVOKED +$HP +[0-9]+ +0-EOF +1 +0 +- /f$"
# Its pinned unit was freed by the truncate: quarantined until unpinned.
matches "^[0-9]+ +PIN-LONGTERM +REVOKED +$HP +[0-9]+ +[0-9]+-[0-9]+u +0 +1 +- /f$"
holder_done 1
holder_has '^break: lease [0-9]+ ino [0-9]+ range 0-EOF deadline passed breaker [0-9]+$'
holder_has '^revoked: lease [0-9]+ ino [0-9]+ range 0-EOF$'
holder_has '^pin: .+'
holder_lacks '^released'
none_listed
size_is 0

step "a revoked DIRECT mapping faults; the holder is told why"
ok io "$POOL" /f -c "pwrite 0 64k"
holder -c "mmap -d 0 16k" -c "mwrite -S 0x11 0 16" -c "sleep 6" -c events -c "mread 0 16"
wait_listed "^[0-9]+ +LEASE +ACTIVE +$HP +[0-9]+ +0-16384 "
ok io "$POOL" /f -c "fpunch 0 64k"
kill -0 "$HP" 2>/dev/null || fail "the punch waited for the holder to exit"
holder_done 1
holder_has '^revoked: lease [0-9]+ ino [0-9]+ range 0-65536$'
holder_has '^read 0/16 bytes at mapping offset 0$'
holder_has '^mread: SIG(SEGV|BUS) at mapping offset 0 \(file offset 0\): .+'
ok io "$POOL" /f -c "pread -v 0 16"
has_line "00000000:  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................"
none_listed

step "a holder killed with SIGKILL is revoked at once"
ok tune "$POOL" --lease-break-time 20s
holder -c "lease 0 0" -c "pin -l 0 16k" -c "sleep 60"
wait_listed "^[0-9]+ +PIN-LONGTERM +ACTIVE +$HP "
kill -KILL "$HP"
holder_done 137
start=$SECONDS
ok io "$POOL" /f -c "truncate 0"
[ $((SECONDS - start)) -lt 15 ] || fail "the truncate waited for a dead holder"
none_listed

step "mmap, mwrite, mread: round trip, persistence across reopen"
ok io -f "$POOL" /m -c "pwrite -S 0 0 64k" -c "mmap 0 64k" -c "mwrite -S 0x5a 4094 4" \
	-c "mread -v 4092 8" -c munmap
has_line "mapped 65536 bytes at offset 0 (plain)"
has_line "wrote 4/4 bytes at mapping offset 4094"
has_line "00000ffc:  00 00 5a 5a 5a 5a 00 00                          ..ZZZZ.."
has_line "read 8/8 bytes at mapping offset 4092"
ok io "$POOL" /m -c "mmap -d 16k 16k" -c "mwrite 4k 4k" -c "mread -v 4095 2"
has_line "00004fff:  00 cd                                            .."
ok io -r "$POOL" /m -c "pread -v 4092 8" -c "pread -v 20479 2"
has_line "00000ffc:  00 00 5a 5a 5a 5a 00 00                          ..ZZZZ.."
has_line "00004fff:  00 cd                                            .."
{ head -c 4094 /dev/zero; printf 'ZZZZ'; head -c 16382 /dev/zero;
  head -c 4096 /dev/zero | tr '\0' '\315'; head -c 40960 /dev/zero; } >"$T/m.want"
ok get "$POOL" /m "$T/m.got"
same_file "$T/m.want" "$T/m.got"
# Read-only mappings refuse stores; bounds are checked.
expect 1 io "$POOL" /m -c "mmap -r 0 4k" -c "mwrite 0 1"
matches err '^mwrite: the mapping is read-only$'
expect 1 io "$POOL" /m -c "mmap 0 4k" -c "mread 4000 200"
matches err '^mread: 4000\+200 is outside the mapping'
expect 1 io "$POOL" /m -c "mread 0 1"
matches err '^mread: nothing is mapped'

step "a plain mapping sees holes as zeros and faults past EOF"
ok io "$POOL" /m -c "mmap 0 64k" -c "fpunch 0 8k" -c "mread -v 4092 8"
has_line "00000ffc:  00 00 00 00 00 00 00 00                          ........"
expect 1 io "$POOL" /m -c "mmap 0 64k" -c "truncate 16k" -c "mread 8k 8k" -c "mread 16k 1"
has_line "read 8192/8192 bytes at mapping offset 8192"
has_line "read 0/1 bytes at mapping offset 16384"
matches err '^mread: SIG(SEGV|BUS) at mapping offset 16384 \(file offset 16384\): past EOF$'
# Another process changes the layout: the mapping follows it.
ok io "$POOL" /m -c "pwrite 0 16k"
holder_m() {
	"$DXL" io "$POOL" /m "$@" >"$T/holder" 2>&1 &
	HP=$!
}
holder_m -c "mmap 0 16k" -c "mread -v 0 4" -c "sleep 2" -c "mread -v 0 4"
wait_listed "^[0-9]+ +LEASE-MAP +ACTIVE +$HP +[0-9]+ +0-16384 "
ok io "$POOL" /m -c "fpunch 0 4k"
holder_done 0
holder_has '^00000000:  cd cd cd cd +\.\.\.\.$'
holder_has '^00000000:  00 00 00 00 +\.\.\.\.$'
none_listed

step "sleep, events, usage"
ok io "$POOL" /f -c "sleep 0.05" -c "sleep 10ms" -c events
has_line "no events"
expect 2 io "$POOL" /f -c "sleep soon"
expect 2 io "$POOL" /f -c "lease 0"
expect 2 io "$POOL" /f -c "mmap -x 0 4k"
expect 1 io "$POOL" /f -c "unlease"
matches err '^unlease: no lease held$'
expect 1 io "$POOL" /f -c "munmap"
expect 1 io "$POOL" /f -c "lease 0 0" -c "lease 0 4k"
matches err '^lease: lease [0-9]+ is already held'
expect 1 io "$POOL" /f -c "wait-break"
matches err '^wait-break: no lease held'
expect 1 io "$POOL" /f -c "lease 0 0" -c "wait-break -t 0.2"
matches err '^wait-break: no break within 0.2$'

fsck_clean
echo "PASS"
