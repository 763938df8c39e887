# SPDX-License-Identifier: BSD-3-Clause
# The mounted pool driven by ordinary tools: cp -a in and out, append,
# truncate, sparse dd, mv over a file, hard and symbolic links, du vs stat,
# df vs daxlease info, chmod/chown/touch, fallocate, other processes' changes,
# permissions for a second user, SIGTERM.
source "$(dirname "$0")/lib.sh"

require_fuse
ok mkfs --size 256m "$POOL"
mount_pool

step "df agrees with daxlease info"
df_vs_info() {
	ok info --json "$POOL"
	local unit data free inodes freemeta
	unit=$(grep -oE '"unit":[0-9]+' "$T/out" | cut -d: -f2)
	data=$(grep -oE '"data_units":[0-9]+' "$T/out" | cut -d: -f2)
	free=$(grep -oE '"free_units":[0-9]+' "$T/out" | cut -d: -f2)
	inodes=$(grep -oE '"inodes":[0-9]+' "$T/out" | cut -d: -f2)
	freemeta=$(grep -oE '"free_meta_blocks":[0-9]+' "$T/out" | cut -d: -f2)
	read -r size avail < <(df -B1 --output=size,avail "$MNT" | tail -n1)
	[ "$size" -eq $((data * unit)) ] || fail "df size $size, info says $((data * unit))"
	[ "$avail" -eq $((free * unit)) ] || fail "df avail $avail, info says $((free * unit))"
	read -r itotal ifree < <(df --output=itotal,iavail "$MNT" | tail -n1)
	[ "$itotal" -eq $((inodes + freemeta)) ] || fail "df inodes $itotal vs $((inodes + freemeta))"
	[ "$ifree" -eq "$freemeta" ] || fail "df free inodes $ifree vs $freemeta"
	[ "$(stat -f -c %S "$MNT")" -eq "$unit" ] || fail "statfs block size is not the unit"
}
df_vs_info
free_before=$(df -B1 --output=avail "$MNT" | tail -n1)

step "cp -a a tree in and out, byte for byte"
S=$T/src
mkdir -p "$S/d1/d2/d3" "$S/empty"
: >"$S/zero"
printf x >"$S/one"
for n in 4095 4096 4097 65537; do head -c $n /dev/urandom >"$S/d1/f$n"; done
head -c $((3 * 1024 * 1024 + 3)) /dev/urandom >"$S/d1/d2/big"
truncate -s 6m "$S/sparse"
printf middle | dd of="$S/sparse" bs=1 seek=3000000 conv=notrunc status=none
printf end | dd of="$S/sparse" bs=1 seek=6291453 conv=notrunc status=none
ln -s d1/f4096 "$S/rel-link"
ln -s /nonexistent/target "$S/dangling"
ln -s d1 "$S/dir-link"
ln "$S/d1/f4097" "$S/d1/d2/d3/hard"
chmod 600 "$S/d1/f4095"
chmod 755 "$S/d1/f65537"
chmod 2750 "$S/d1/d2"
touch -d '2001-02-03 04:05:06.789' "$S/d1/f4096" "$S/d1/d2/d3"
cp -a "$S" "$MNT/src" || fail "cp -a into the mount failed"
diff -r --no-dereference "$S" "$MNT/src" || fail "tree differs after cp -a in"
cp -a "$MNT/src" "$T/back" || fail "cp -a out of the mount failed"
diff -r --no-dereference "$S" "$T/back" || fail "tree differs after cp -a out"
listing() { (cd "$1" && find . \( -type d -printf '%p %y %m %T@\n' \) -o \( -type f -printf '%p %y %m %s %n %T@\n' \) -o \( -type l -printf '%p %y %l\n' \) | sort); }
diff <(listing "$S") <(listing "$MNT/src") || fail "modes, sizes, links or times differ in the mount"
diff <(listing "$S") <(listing "$T/back") || fail "modes, sizes, links or times differ after the round trip"
[ "$(stat -c %i "$MNT/src/d1/f4097")" = "$(stat -c %i "$MNT/src/d1/d2/d3/hard")" ] ||
	fail "cp -a did not keep the hard link"
blocks=$(stat -c %b "$MNT/src/sparse")
[ "$blocks" -lt 1024 ] || fail "the sparse file takes $blocks blocks in the mount"

step "du and stat block counts agree, with daxlease stat"
for f in one d1/f4097 d1/d2/big sparse; do
	b=$(stat -c %b "$MNT/src/$f")
	[ "$(stat -c %B "$MNT/src/$f")" -eq 512 ] || fail "st_blocks unit is not 512"
	du=$(du -B512 "$MNT/src/$f" | cut -f1)
	[ "$du" -eq "$b" ] || fail "$f: du says $du blocks, stat says $b"
	ok stat "$POOL" "/src/$f"
	alloc=$(sed -n 's/^allocated: //p' "$T/out")
	[ $((alloc / 512)) -eq "$b" ] || fail "$f: daxlease stat allocated $alloc, st_blocks $b"
	[ "$(stat -c %o "$MNT/src/$f")" -eq 4096 ] || fail "$f: st_blksize is not the unit"
done

step "an unlinked open file: f-calls work, no hidden name anywhere"
mkdir "$MNT/orph"
exec 7<>"$MNT/orph/f"
echo data >&7
rm "$MNT/orph/f"
# fstat and fchmod come without the handle: they go by libfuse's hidden
# name, which neither the mount nor the pool may show
[ "$(stat -L -c %s:%h /proc/self/fd/7)" = 5:0 ] || fail "fstat of an unlinked open file"
chmod 600 /proc/self/fd/7 || fail "fchmod of an unlinked open file"
[ "$(stat -L -c %a /proc/self/fd/7)" = 600 ] || fail "the mode did not change"
[ -z "$(ls -A "$MNT/orph")" ] || fail "the mount lists a hidden name: $(ls -A "$MNT/orph")"
ok ls "$POOL" /orph
[ -z "$(cat "$T/out")" ] || fail "the pool holds a hidden name: $(cat "$T/out")"
exec 7>&-
# with another link left, fstat counts that one
echo two >"$MNT/orph/g"
ln "$MNT/orph/g" "$MNT/orph/g2"
exec 7<"$MNT/orph/g"
rm "$MNT/orph/g"
[ "$(stat -L -c %h /proc/self/fd/7)" = 1 ] || fail "fstat's link count with one link left: $(stat -L -c %h /proc/self/fd/7)"
[ "$(stat -c %h "$MNT/orph/g2")" = 1 ] || fail "the other link's count"
exec 7<&-
rm "$MNT/orph/g2"
rmdir "$MNT/orph" || fail "rmdir after the unlinked file was closed"
# a name of that form that a user gives a file that is not open is just a name
echo u >"$MNT/u"
mv "$MNT/u" "$MNT/.fuse_hidden0000000100000002" || fail "rename to a hidden-looking name"
[ "$(cat "$MNT/.fuse_hidden0000000100000002")" = u ] || fail "the hidden-looking name lost its file"
rm "$MNT/.fuse_hidden0000000100000002"

step "append, truncate, sparse dd"
W=$T/model
cp "$S/d1/f4097" "$W"
cp "$S/d1/f4097" "$MNT/work"
for i in 1 2 3; do
	echo "line $i" >>"$W"
	echo "line $i" >>"$MNT/work"
done
same_file "$W" "$MNT/work"
truncate -s 1000 "$W"; truncate -s 1000 "$MNT/work"; same_file "$W" "$MNT/work"
truncate -s 9000 "$W"; truncate -s 9000 "$MNT/work"; same_file "$W" "$MNT/work"
for seek in 3 17 1000 4099; do
	head -c 5000 /dev/urandom >"$T/chunk"
	dd if="$T/chunk" of="$W" bs=512 seek=$seek conv=notrunc status=none
	dd if="$T/chunk" of="$MNT/work" bs=512 seek=$seek conv=notrunc status=none
done
same_file "$W" "$MNT/work"
[ "$(stat -c %s "$MNT/work")" -eq "$(stat -c %s "$W")" ] || fail "sizes differ"
blocks=$(stat -c %b "$MNT/work")
[ "$blocks" -lt $((4099 * 512 / 512 / 2)) ] || fail "sparse dd allocated $blocks blocks"
# O_APPEND from two writers interleaves whole writes, never overwrites
: >"$MNT/log"
exec 7>>"$MNT/log" 8>>"$MNT/log"
printf aaaa >&7; printf bbbb >&8; printf cccc >&7
exec 7>&- 8>&-
[ "$(cat "$MNT/log")" = aaaabbbbcccc ] || fail "O_APPEND writers overwrote each other: $(cat "$MNT/log")"

step "fallocate: punch hole, zero range, allocate"
head -c 65536 /dev/urandom >"$W"
cp "$W" "$MNT/fa"
fallocate -p -o 4096 -l 8192 "$MNT/fa"
dd if=/dev/zero of="$W" bs=4096 seek=1 count=2 conv=notrunc status=none
same_file "$W" "$MNT/fa"
[ "$(stat -c %b "$MNT/fa")" -eq $(((65536 - 8192) / 512)) ] || fail "punch hole freed nothing"
fallocate -z -o 100 -l 1000 "$MNT/fa"
dd if=/dev/zero of="$W" bs=1 seek=100 count=1000 conv=notrunc status=none
same_file "$W" "$MNT/fa"
fallocate -o 0 -l 131072 "$MNT/fa"
truncate -s 131072 "$W"
same_file "$W" "$MNT/fa"
[ "$(stat -c %b "$MNT/fa")" -eq 256 ] || fail "fallocate did not allocate the range"

step "mv over a file, hard links, symlinks"
printf old >"$MNT/victim"
printf new >"$MNT/mover"
mv -f "$MNT/mover" "$MNT/victim"
[ "$(cat "$MNT/victim")" = new ] && [ ! -e "$MNT/mover" ] || fail "mv over a file"
mkdir "$MNT/dir2"
mv "$MNT/victim" "$MNT/dir2/"
[ -f "$MNT/dir2/victim" ] || fail "mv into a directory"
ln "$MNT/dir2/victim" "$MNT/hl"
[ "$(stat -c %h "$MNT/hl")" -eq 2 ] || fail "link count after ln is $(stat -c %h "$MNT/hl")"
[ "$(stat -c %i "$MNT/hl")" = "$(stat -c %i "$MNT/dir2/victim")" ] || fail "hard link inode"
printf more >>"$MNT/hl"
[ "$(cat "$MNT/dir2/victim")" = newmore ] || fail "write through a hard link not seen"
rm "$MNT/dir2/victim"
[ "$(stat -c %h "$MNT/hl")" -eq 1 ] || fail "link count after rm"
ln -s hl "$MNT/sl"
[ "$(readlink "$MNT/sl")" = hl ] || fail "readlink"
[ "$(cat "$MNT/sl")" = newmore ] || fail "reading through a symlink"
ln -s "$(printf 'x%.0s' $(seq 300))" "$MNT/longlink"
[ "$(readlink "$MNT/longlink" | wc -c)" -eq 301 ] || fail "long symlink target"
rmdir "$MNT/dir2"
! rmdir "$MNT/src" 2>/dev/null || fail "rmdir of a non-empty directory succeeded"

step "chmod, chown, touch -d"
chmod 640 "$MNT/hl"
[ "$(stat -c %a "$MNT/hl")" = 640 ] || fail "chmod"
chown 1234:5678 "$MNT/hl"
[ "$(stat -c %u:%g "$MNT/hl")" = 1234:5678 ] || fail "chown"
ok stat "$POOL" /hl
grep -qx 'uid:       1234' "$T/out" && grep -qx 'gid:       5678' "$T/out" || fail "chown not in the pool"
touch -d '2020-01-02 03:04:05.123456789 UTC' "$MNT/hl"
[ "$(TZ=UTC0 stat -c %y "$MNT/hl")" = "2020-01-02 03:04:05.123456789 +0000" ] ||
	fail "touch -d: $(TZ=UTC0 stat -c %y "$MNT/hl")"
chown -h 0:0 "$MNT/sl" || fail "lchown to the same owner must succeed"
[ "$(stat -c %u:%g "$MNT/hl")" = 1234:5678 ] || fail "lchown went through the symlink"
# the link itself changes, never what it points to
tgt_before=$(stat -L -c %u:%g:%Y "$MNT/sl")
chown -h 4321:8765 "$MNT/sl" || fail "lchown of a symlink"
[ "$(stat -c %u:%g "$MNT/sl")" = 4321:8765 ] || fail "lchown: $(stat -c %u:%g "$MNT/sl")"
touch -h -d '2019-05-06 07:08:09 UTC' "$MNT/sl" || fail "touch -h of a symlink"
[ "$(TZ=UTC0 stat -c %y "$MNT/sl")" = "2019-05-06 07:08:09.000000000 +0000" ] ||
	fail "touch -h: $(TZ=UTC0 stat -c %y "$MNT/sl")"
[ "$(stat -L -c %u:%g:%Y "$MNT/sl")" = "$tgt_before" ] || fail "lchown/touch -h reached the target"

step "copy_file_range inside the mount (cp) shares units, copy on write after"
head -c $((1024 * 1024)) /dev/urandom >"$MNT/orig"
cp "$MNT/orig" "$MNT/copy"
same_file "$MNT/orig" "$MNT/copy"
printf changed | dd of="$MNT/copy" bs=1 seek=10 conv=notrunc status=none
cmp -s "$MNT/orig" "$MNT/copy" && fail "writing the copy changed nothing"
printf changed | dd of="$W" bs=1 count=0 status=none
head -c 10 "$MNT/orig" >"$W"; printf changed >>"$W"; tail -c +18 "$MNT/orig" >>"$W"
same_file "$W" "$MNT/copy"

step "changes by other processes are visible through the mount"
printf 'from outside\n' >"$T/ext"
ok put "$POOL" "$T/ext" /ext
[ "$(cat "$MNT/ext")" = "from outside" ] || fail "put by another process not visible"
exec 6<"$MNT/ext"
ok io "$POOL" /ext -c "pwrite -S 0x41 0 4"
[ "$(head -c 4 <&6)" = AAAA ] || fail "write by another process not seen through an open file"
exec 6<&-
ok truncate "$POOL" /ext 2
[ "$(stat -c %s "$MNT/ext")" -eq 2 ] || fail "truncate by another process not visible"
ok rm "$POOL" /ext
[ ! -e "$MNT/ext" ] || fail "rm by another process not visible"

step "rm -rf gives the space back; df agrees with info"
rm -rf "$MNT/src" "$MNT/work" "$MNT/fa" "$MNT/log" "$MNT/orig" "$MNT/copy" "$MNT/hl" "$MNT/sl" \
	"$MNT/longlink"
[ -z "$(ls -A "$MNT")" ] || fail "left over: $(ls -A "$MNT")"
df_vs_info
[ "$(df -B1 --output=avail "$MNT" | tail -n1)" -eq "$free_before" ] || fail "space not given back"

step "the data is in the pool after unmount"
cp "$S/d1/d2/big" "$MNT/kept"
cp "$MNT/kept" "$MNT/kept2"      # copy_file_range: a reflink, up to the partial last unit
mkdir "$MNT/kd"; ln -s ../kept "$MNT/kd/lnk"
unmount_pool
fsck_clean
grep -qE ', (76[89]|77[0-9]) shared units$' "$T/out" || { cat "$T/out" >&2; fail "cp in the mount shared no units"; }
ok get "$POOL" /kept "$T/kept.out"
same_file "$S/d1/d2/big" "$T/kept.out"

step "permissions as the kernel checks them (allow_other, a second user)"
mount_pool -o allow_other
chmod 711 "$T"
mkdir -m 1777 "$MNT/pub"
chmod 644 "$MNT/kept"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
if command -v setpriv >/dev/null; then
	as_nobody cat "$MNT/kept" >/dev/null || fail "nobody cannot read a 0644 file"
	as_nobody sh -c "echo x >>'$MNT/kept'" 2>/dev/null && fail "nobody could write a root 0644 file"
	as_nobody sh -c "echo x >'$MNT/pub/mine'" || fail "nobody cannot create in a 1777 directory"
	[ "$(stat -c %u:%g "$MNT/pub/mine")" = 65534:65534 ] ||
		fail "a new file belongs to $(stat -c %u:%g "$MNT/pub/mine"), not its creator"
	as_nobody mkdir "$MNT/pub/d" || fail "nobody cannot mkdir"
	[ "$(stat -c %u "$MNT/pub/d")" = 65534 ] || fail "a new directory does not belong to its creator"
	as_nobody rm "$MNT/kept" 2>/dev/null && fail "nobody removed root's file from /"
	chmod 600 "$MNT/pub/mine"
	as_nobody cat "$MNT/pub/mine" >/dev/null || fail "owner cannot read its 0600 file"
	# set-ID bits: another user's write or truncate drops them (the kernel
	# rule; the mount serves every user, so it applies the rule for each)
	printf 'prog' >"$MNT/pub/suid"
	chmod 6777 "$MNT/pub/suid"
	as_nobody sh -c "printf x >>'$MNT/pub/suid'" || fail "nobody cannot append to a 6777 file"
	[ "$(stat -c %a "$MNT/pub/suid")" = 777 ] ||
		fail "after nobody's write the mode is $(stat -c %a "$MNT/pub/suid"), not 777"
	chmod 6777 "$MNT/pub/suid"
	as_nobody truncate -s 2 "$MNT/pub/suid" || fail "nobody cannot truncate a 6777 file"
	[ "$(stat -c %a "$MNT/pub/suid")" = 777 ] ||
		fail "after nobody's truncate the mode is $(stat -c %a "$MNT/pub/suid"), not 777"
	chmod 2767 "$MNT/pub/suid" # set-group-ID without group execute: kept
	as_nobody sh -c "printf y >>'$MNT/pub/suid'" || fail "nobody cannot append to a 2767 file"
	[ "$(stat -c %a "$MNT/pub/suid")" = 2767 ] || fail "a write dropped set-group-ID without g+x"
	chmod 6777 "$MNT/pub/suid"
	printf z >>"$MNT/pub/suid" # root's write keeps them
	[ "$(stat -c %a "$MNT/pub/suid")" = 6777 ] || fail "root's write dropped the set-ID bits"
	as_nobody sh -c "umask 0; : >'$MNT/pub/mk' && chmod 4755 '$MNT/pub/mk'" ||
		fail "nobody cannot make a set-user-ID file of its own"
	[ "$(stat -c %a "$MNT/pub/mk")" = 4755 ] || fail "nobody's own chmod 4755 gave $(stat -c %a "$MNT/pub/mk")"
else
	echo "(setpriv missing: second-user checks skipped)"
fi
unmount_pool

step "FIFOs, sockets and device nodes"
mount_pool
mkdir "$MNT/sp"
mkfifo -m 640 "$MNT/sp/fifo" || fail "mkfifo on the mount"
[ -p "$MNT/sp/fifo" ] || fail "the FIFO is not a FIFO"
(printf 'through the pipe' >"$MNT/sp/fifo") &
got=$(timeout 10 cat "$MNT/sp/fifo") || fail "reading the FIFO failed"
wait
[ "$got" = "through the pipe" ] || fail "the FIFO passed '$got'"
mknod "$MNT/sp/null" c 1 3 || fail "mknod c 1 3 on the mount"
mknod "$MNT/sp/sda1" b 8 1 || fail "mknod b 8 1 on the mount"
[ -c "$MNT/sp/null" ] && [ "$(stat -c %t,%T "$MNT/sp/null")" = 1,3 ] ||
	fail "the character device is $(stat -c '%F %t,%T' "$MNT/sp/null")"
[ -b "$MNT/sp/sda1" ] && [ "$(stat -c %t,%T "$MNT/sp/sda1")" = 8,1 ] ||
	fail "the block device is $(stat -c '%F %t,%T' "$MNT/sp/sda1")"
if command -v python3 >/dev/null; then
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$MNT/sp/sock" ||
		fail "binding a Unix socket on the mount"
	[ -S "$MNT/sp/sock" ] || fail "the socket is not a socket"
fi
[ "$(ls -l "$MNT/sp" | awk 'NR > 1 { printf "%s", substr($1, 1, 1) }' | fold -w1 | sort | tr -d '\n')" = \
  "$(command -v python3 >/dev/null && echo bcps || echo bcp)" ] || fail "ls -l shows types $(ls -l "$MNT/sp")"
unmount_pool
ok fsck "$POOL"
ok stat "$POOL" /sp/null
grep -q 'type: *character device' "$T/out" && grep -q 'device: *1,3' "$T/out" ||
	{ cat "$T/out" >&2; fail "daxlease stat of the device"; }
ok rm -r "$POOL" /sp

step "a tree deeper than PATH_MAX, through the mount"
mount_pool
name=$(printf 'd%.0s' $(seq 200))
(
	cd "$MNT" || exit 1
	for i in $(seq 30); do mkdir "$name" && cd "$name" || exit 1; done
	echo deep >leaf && [ "$(cat leaf)" = deep ] && mkfifo pipe && ln -s leaf link &&
		[ "$(cat link)" = deep ]
) || fail "building a tree 6000 bytes deep through the mount"
[ "$(find "$MNT/$name" -name leaf | wc -l)" = 1 ] || fail "find does not see the deep leaf"
rm -r "$MNT/$name" || fail "rm -r of the deep tree"
unmount_pool
ok fsck "$POOL"

step "SIGTERM stops a foreground mount cleanly"
"$DXL" mount -f "$POOL" "$MNT" 2>"$T/err" &
pid=$!
for i in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || fail "foreground mount did not come up"
[ "$(cat "$MNT/kd/lnk" | wc -c)" -eq $((3 * 1024 * 1024 + 3)) ] || fail "read through the foreground mount"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "mount -f exited $rc after SIGTERM"; }
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
fsck_clean

step "a killed mount process leaves the pool recoverable"
"$DXL" mount -f "$POOL" "$MNT" 2>"$T/err" &
pid=$!
for i in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || fail "foreground mount did not come up"
( for i in $(seq 200); do head -c 20000 /dev/urandom >"$MNT/busy$((i % 7))" || exit 0; done ) 2>/dev/null &
writer=$!
sleep 0.3
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
mountpoint -q "$MNT" && fail "still mounted after the server was killed"
fsck_clean
mount_pool
ls "$MNT" >/dev/null || fail "cannot list the pool after the crash"
unmount_pool

step "clear failures"
expect 1 mount "$POOL" "$T/nonexistent"
grep -q "nonexistent" "$T/err" || fail "no message naming the missing mount point"
expect 1 mount "$T/nopool" "$MNT"
grep -q "nopool" "$T/err" || fail "no message naming the missing pool"
rc=0; "$DXL" mount -o no_such_option "$POOL" "$MNT" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "an unknown option was accepted"
grep -q "no_such_option" "$T/err" || fail "no message naming the bad option"
mountpoint -q "$MNT" && fail "mounted despite errors"
expect 2 mount "$POOL"
echo "PASS"
