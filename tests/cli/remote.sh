# SPDX-License-Identifier: BSD-3-Clause
# 'daxlease serve' and 'daxlease remote' over loopback (tcp;ofi_rxm, or
# DXL_FI_PROVIDER): keys, files in and out byte for byte, the io
# commands, a recall answered by a layout return, and the errors a user
# meets (a wrong key, a missing file, a layout outside the file, a server
# that is gone).  Skipped when the CLI was built without RDMA.
source "$(dirname "$0")/lib.sh"

if ! "$DXL" serve --help >/dev/null 2>&1; then
	echo "skipped: this daxlease has no RDMA (built with -DDXL_RDMA=OFF)" >&2
	exit 77
fi
SP="" HOST=127.0.0.1 ADDR=""
trap 'if [ -n "$SP" ]; then kill "$SP" 2>/dev/null || true; fi; rm -rf "$T"' EXIT

# Serve $POOL on a free port (a port taken between the try and the bind
# makes the server exit at once: another port then).
serve() {
	local port
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		"$DXL" serve "$POOL" --listen $HOST:$port --key-file "$T/key" >"$T/serve.log" 2>&1 &
		SP=$!
		for _ in $(seq 100); do
			if grep -q "serving on" "$T/serve.log"; then
				ADDR=$HOST:$port
				return 0
			fi
			kill -0 "$SP" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SP" 2>/dev/null || true
		wait "$SP" 2>/dev/null || true
	done
	cat "$T/serve.log" >&2
	fail "the server did not start"
}

stop_server() {
	kill "$SP"
	wait "$SP" || fail "the server exited $? on SIGTERM"
	SP=""
	grep -q "stopped" "$T/serve.log" || { cat "$T/serve.log" >&2; fail "no 'stopped' in the server's log"; }
}

remote() { local want=$1; shift; expect "$want" remote --key-file "$T/key" "$ADDR" "$@"; }

step "keygen"
ok keygen "$T/key"
[ "$(stat -c %a "$T/key")" = 600 ] || fail "the key file is not mode 0600"
[ "$(tr -d '\n' <"$T/key" | wc -c)" = 64 ] || fail "the key is not 32 bytes of hex"
expect 1 keygen "$T/key"
matches err "exists"
cp "$T/key" "$T/key.open" && chmod 644 "$T/key.open"

step "a key others can read is refused"
new_pool
expect 1 serve "$POOL" --listen $HOST:1 --key-file "$T/key.open"
matches err "mode 0644 lets others read it"

step "put and get, byte for byte"
serve
head -c 3000000 /dev/urandom >"$T/a" # not a multiple of the 1 MiB chunks
remote 0 put "$T/a" /a
remote 0 get /a "$T/a.back"
same_file "$T/a" "$T/a.back"
remote 0 stat /a
matches "^/a: -rw-r--r-- ino [0-9]+ size 3000000 "
: >"$T/empty"
remote 0 put "$T/empty" /empty
remote 0 get /empty "$T/empty.back"
same_file "$T/empty" "$T/empty.back"
# the pool holds what the client wrote (the server has it open)
ok get "$POOL" /a "$T/a.local"
same_file "$T/a" "$T/a.local"

step "directories"
remote 0 mkdir /d
remote 0 put "$T/a" /d/x
remote 0 ls /d
matches "x"
remote 1 rm /d
matches err "/d"
remote 0 rm /d/x
remote 0 rm /d
remote 0 ls /
has_line "a"
! grep -qx "d" "$T/out" || fail "/d is still listed"

step "io: layouts and one-sided reads and writes"
remote 0 io /b -c "layout -w 0 8192" -c "pwrite -S 0x5a 4096 4096" -c "crc 4096 4096" -c "commit" -c "return"
matches "^wrote 4096 bytes at 4096"
head -c 4096 /dev/zero >"$T/b.want"
head -c 4096 /dev/zero | tr '\0' '\132' >>"$T/b.want"
remote 0 get /b "$T/b.got"
same_file "$T/b.want" "$T/b.got"
# a read-only layout must lie within the file: refused, and said so
remote 1 io /b -r -c "layout 0 1m"
matches err "LAYOUTGET: Invalid argument"
# a write through a read-only layout fails; the file is unchanged
remote 1 io /b -r -c "layout 0 8192" -c "pwrite 0 16"
matches err "through a read-only layout"
remote 0 get /b "$T/b.got"
same_file "$T/b.want" "$T/b.got"

step "a recall: the client returns the layout, the truncate goes on"
"$DXL" remote --key-file "$T/key" "$ADDR" io /a -c "layout -w 0 1m" -c "wait-recall -t 60" >"$T/holder" 2>&1 &
HP=$!
for _ in $(seq 100); do grep -q "^layout" "$T/holder" && break; sleep 0.1; done
ok io "$POOL" /a -c "truncate 4096"
wait "$HP" || { cat "$T/holder" >&2; fail "the holder exited $?"; }
grep -qi "recall" "$T/holder" || { cat "$T/holder" >&2; fail "the holder saw no recall"; }
remote 0 stat /a
matches " size 4096 "

step "errors: a wrong key, a missing file, a server that is gone"
ok keygen "$T/key2"
expect 1 remote --key-file "$T/key2" "$ADDR" ls /
matches err "does not prove it holds the key"
remote 1 get /nothing "$T/x"
matches err "/nothing: .*No such file"
remote 1 stat /nothing
stop_server
expect 1 remote --key-file "$T/key" --timeout 2s "$ADDR" ls /
matches err "$ADDR.*gone"
fsck_clean
echo "remote: ok"
