# SPDX-License-Identifier: BSD-3-Clause
# mkfs, info, put/get round trips, namespace commands, cat, truncate, stat, fsck.
source "$(dirname "$0")/lib.sh"

step "mkfs and info"
new_pool --lease-break-time 5s
ok info "$POOL"
matches '^backend: +file$'
matches '^unit: +4096 \(4\.0 KiB\)$'
matches '^lease break time: +5s$'
matches '^uuid: +[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
ok info --json "$POOL"
matches '^\{"pool":.*"backend":"file".*"unit":4096,.*"lease_break_ms":5000,.*\}$'
# A second mkfs must not silently destroy a pool.
expect 1 mkfs --size 64m "$POOL"
matches err "^daxlease: mkfs: $POOL: "
ok mkfs --size 64m --force "$POOL"
fsck_clean

step "put and get round trip"
head -c 3000001 /dev/urandom >"$T/rand"
chmod 644 "$T/rand"
ok put "$POOL" "$T/rand" /rand
ok get "$POOL" /rand "$T/rand.out"
same_file "$T/rand" "$T/rand.out"
ok stat "$POOL" /rand
has_line "size:      3000001"
has_line "type:      regular file"
has_line "nlink:     1"
matches '^allocated: [0-9]+$'

step "sparse put keeps the holes and the bytes"
truncate -s 8m "$T/sparse"
printf 'middle' | dd of="$T/sparse" bs=1 seek=4194304 conv=notrunc status=none
printf 'end' | dd of="$T/sparse" bs=1 seek=8388605 conv=notrunc status=none
ok put "$POOL" "$T/sparse" /sparse
ok get "$POOL" /sparse "$T/sparse.out"
same_file "$T/sparse" "$T/sparse.out"
ok stat "$POOL" /sparse
alloc=$(sed -n 's/^allocated: //p' "$T/out")
[ "$alloc" -lt $((1024 * 1024)) ] || fail "sparse file allocated $alloc bytes"

step "put from stdin, get to stdout, cat"
printf 'hello, pool\n' | "$DXL" put "$POOL" - /hello
ok cat "$POOL" /hello
has_line "hello, pool"
ok get "$POOL" /hello -
has_line "hello, pool"

step "mkdir -p, ls, ls -l"
ok mkdir -p "$POOL" /a/b/c
ok mkdir -p "$POOL" /a/b/c
expect 1 mkdir "$POOL" /a
matches err '^daxlease: mkdir: /a: '
ok put "$POOL" "$T/rand" /a/zz
ok put "$POOL" "$T/rand" /a/aa
ok ls "$POOL" /a
printf 'aa\nb\nzz\n' | cmp - "$T/out" || fail "ls /a not sorted: $(cat "$T/out")"
ok ls -l "$POOL" /a
matches '^-rw-r--r-- +1 +[0-9]+ +[0-9]+ +3000001 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} aa$'
matches '^d[rwx-]{9} +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ [0-9-]+ [0-9:]+ b$'
ok ls -a "$POOL" /a
printf '.\n..\naa\nb\nzz\n' | cmp - "$T/out" || fail "ls -a /a: $(cat "$T/out")"
ok ls "$POOL"
printf 'a\nhello\nrand\nsparse\n' | cmp - "$T/out" || fail "ls /: $(cat "$T/out")"
# an empty directory lists nothing (and sorts no array: UBSan saw qsort(NULL))
ok ls "$POOL" /a/b/c
[ ! -s "$T/out" ] || fail "ls of an empty directory: $(cat "$T/out")"
ok ls -l "$POOL" /a/b/c

step "mv"
ok mv "$POOL" /hello /a/b/greeting
ok cat "$POOL" /a/b/greeting
has_line "hello, pool"
expect 1 stat "$POOL" /hello
# A directory as DST means "into it".
ok mv "$POOL" /a/b/greeting /a/b/c
ok cat "$POOL" /a/b/c/greeting
# Replacing an existing file is one atomic rename.
ok mv "$POOL" /a/aa /a/zz
ok ls "$POOL" /a
printf 'b\nzz\n' | cmp - "$T/out" || fail "after mv: $(cat "$T/out")"

step "truncate"
ok truncate "$POOL" /a/zz 1k
ok get "$POOL" /a/zz "$T/zz"
head -c 1024 "$T/rand" | cmp - "$T/zz" || fail "truncate down lost data"
ok truncate "$POOL" /a/zz 8k
ok get "$POOL" /a/zz "$T/zz"
{ head -c 1024 "$T/rand"; head -c 7168 /dev/zero; } | cmp - "$T/zz" || fail "truncate up"
expect 2 truncate "$POOL" /a/zz 12q
expect 1 truncate "$POOL" /missing 1k

step "rm"
expect 1 rm "$POOL" /a
matches err 'is a directory'
expect 1 rm "$POOL" /nothing
ok rm -f "$POOL" /nothing
ok rm -r "$POOL" /a
ok rm "$POOL" /rand
ok ls "$POOL"
has_line "sparse"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "after rm: $(cat "$T/out")"

step "fsck after use"
fsck_clean
matches "^$POOL: [0-9]+ inodes, [0-9]+ directories, [0-9]+ files, [0-9]+ extents, [0-9]+ shared units$"
expect 8 fsck "$T/not-a-pool"
echo PASS
