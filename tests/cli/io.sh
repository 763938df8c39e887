# SPDX-License-Identifier: BSD-3-Clause
# daxlease io: each command's documented output, and data checked against
# the same bytes built locally (crc via 'put' of the local copy, and cmp).
source "$(dirname "$0")/lib.sh"
new_pool

# LEN bytes of BYTE (octal escape for printf) as a local file.
fill() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# crc32c of a local file, as the CLI computes it over a pool copy.
crc_of() {
	"$DXL" put "$POOL" "$1" /crc.tmp
	"$DXL" io "$POOL" /crc.tmp -c "crc 0 $(stat -c %s "$1")" | sed 's/^crc32c \(0x[0-9a-f]*\) .*/\1/'
}

step "crc32c known answer"
printf 123456789 >"$T/nine"
ok put "$POOL" "$T/nine" /nine
ok io "$POOL" /nine -c "crc 0 9"
has_line "crc32c 0xe3069283 over 9 bytes at offset 0"
# Past EOF the range stops: the count says so.
ok io "$POOL" /nine -c "crc 0 1k" -c "pread 4 100"
has_line "crc32c 0xe3069283 over 9 bytes at offset 0"
has_line "read 5/100 bytes at offset 4"

step "pwrite, pread, stat output"
expect 1 io "$POOL" /f -c "pwrite 0 4k"
ok io -f "$POOL" /f -c "pwrite 0 8k" -c "pwrite -S 0x41 4k 16" -c "pread 0 8k" -c stat
has_line "wrote 8192/8192 bytes at offset 0"
has_line "wrote 16/16 bytes at offset 4096"
has_line "read 8192/8192 bytes at offset 0"
has_line "size = 8192"
has_line "nlink = 1"
has_line "mode = 0100644"
matches '^allocated = [0-9]+$'
matches '^ino = [0-9]+$'
matches '^mtime = [0-9]+\.[0-9]{9}$'
{ fill '\315' 4096; fill A 16; fill '\315' 4080; } >"$T/f.want"
ok get "$POOL" /f "$T/f.got"
same_file "$T/f.want" "$T/f.got"
want=$(crc_of "$T/f.want")
ok io "$POOL" /f -c "crc 0 8k"
has_line "crc32c $want over 8192 bytes at offset 0"

step "pread -v hex dump"
ok io "$POOL" /f -c "pread -v 4094 20"
has_line "00000ffe:  cd cd 41 41 41 41 41 41 41 41 41 41 41 41 41 41  ..AAAAAAAAAAAAAA"
has_line "0000100e:  41 41 cd cd                                      AA.."
has_line "read 20/20 bytes at offset 4094"

step "fpunch reads back zeros"
ok io "$POOL" /f -c "fpunch 0 4k" -c "crc 0 8k" -c stat
{ head -c 4096 /dev/zero; fill A 16; fill '\315' 4080; } >"$T/f.want"
has_line "crc32c $(crc_of "$T/f.want") over 8192 bytes at offset 0"
has_line "size = 8192"
ok get "$POOL" /f "$T/f.got"
same_file "$T/f.want" "$T/f.got"

step "fzero, falloc -k, truncate"
ok io "$POOL" /f -c "fzero 4k 4k" -c "falloc -k 8k 64k" -c stat
has_line "size = 8192"
ok io "$POOL" /f -c "falloc 8k 8k" -c stat
has_line "size = 16384"
ok io "$POOL" /f -c "fzero -k 16k 4k" -c "truncate 5000" -c stat -c fsync -c fdatasync
has_line "size = 5000"
head -c 5000 /dev/zero >"$T/f.want"
ok get "$POOL" /f "$T/f.got"
same_file "$T/f.want" "$T/f.got"

step "reflink range and copy on write"
head -c 16384 /dev/urandom >"$T/src"
ok put "$POOL" "$T/src" /src
ok io -f "$POOL" /dst -c "reflink /src 4k 0 8k" -c stat
has_line "linked 8192/8192 bytes at offset 0"
has_line "size = 8192"
ok get "$POOL" /dst "$T/dst"
dd if="$T/src" of="$T/dst.want" bs=4096 skip=1 count=2 status=none
same_file "$T/dst.want" "$T/dst"
ok io "$POOL" /dst -c "pwrite -S 0 0 4k"
ok get "$POOL" /src "$T/src.after"
same_file "$T/src" "$T/src.after"
ok io "$POOL" /dst -c "reflink /src"
has_line "linked 16384/16384 bytes at offset 0"

step "stdin commands"
printf 'pwrite -S 0x7a 0 3\n# a comment\npread 0 3\n' | "$DXL" io "$POOL" /f >"$T/out"
has_line "wrote 3/3 bytes at offset 0"
has_line "read 3/3 bytes at offset 0"

step "errors stop the run"
expect 2 io "$POOL" /f -c "nosuch 1"
matches err '^nosuch: unknown command'
expect 2 io "$POOL" /f -c "pwrite 0"
matches err '^pwrite: usage: pwrite \[-S BYTE\] OFF LEN$'
expect 2 io "$POOL" /f -c "pwrite 0 12q"
expect 2 io "$POOL" /f -c "pwrite -S 300 0 1"
expect 1 io "$POOL" /f -c "reflink /nonexistent" -c "pwrite 0 1"
matches err '^reflink: '
[ ! -s "$T/out" ] || fail "a command ran after the failure: $(cat "$T/out")"
ok io "$POOL" /f -c help -c "help crc"
has_line "crc OFF LEN"

step "fsck"
fsck_clean
echo PASS
