# SPDX-License-Identifier: BSD-3-Clause
# cp with and without --reflink: the copy has the data, and changing the copy
# leaves the original alone.
source "$(dirname "$0")/lib.sh"
new_pool

head -c 1000000 /dev/urandom >"$T/orig"
ok put "$POOL" "$T/orig" /orig

for mode in --reflink plain; do
	step "cp $mode"
	opt=()
	[ "$mode" = plain ] || opt=("$mode")
	ok cp "${opt[@]}" "$POOL" /orig /copy
	ok get "$POOL" /copy "$T/copy"
	same_file "$T/orig" "$T/copy"
	ok io "$POOL" /copy -c "pwrite -S 0x55 4k 8k" -c "truncate 500000"
	ok get "$POOL" /orig "$T/orig.after"
	same_file "$T/orig" "$T/orig.after"
	ok get "$POOL" /copy "$T/copy"
	cp "$T/orig" "$T/want"
	head -c 8192 /dev/zero | tr '\0' U |
		dd of="$T/want" bs=4096 seek=1 conv=notrunc status=none
	truncate -s 500000 "$T/want"
	same_file "$T/want" "$T/copy"
	ok rm "$POOL" /copy
done

step "cp into a directory, onto itself"
ok mkdir "$POOL" /d
ok cp --reflink "$POOL" /orig /d
ok get "$POOL" /d/orig "$T/copy"
same_file "$T/orig" "$T/copy"
expect 1 cp "$POOL" /orig /orig
matches err 'same file'
ok get "$POOL" /orig "$T/orig.after"
same_file "$T/orig" "$T/orig.after"

step "fsck after reflinks"
ok rm "$POOL" /orig
fsck_clean
echo PASS
