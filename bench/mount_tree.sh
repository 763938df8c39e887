#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/mount_tree.sh [--src DIR] [--rounds N] [--opts MOUNT_OPTIONS] [DAXLEASE]
#
# A tree of many small files through the mount against tmpfs, in the same
# run (issue 11's benchmark): unpack a tar of DIR (default /usr/share/man,
# some 20,000 files here), find, du, then rm -r, each step timed on a
# tmpfs directory and on a daxlease mount of a pool in /dev/shm, rounds
# alternating.  One JSON line per step with the medians and the ratio
# (daxlease / tmpfs: the target is at most 2).  The tar is made once, in
# /dev/shm, so both read it from memory.  Run it with nothing else running.
set -euo pipefail
src=/usr/share/man rounds=3 opts=""
while [ $# -gt 0 ]; do
	case $1 in
	--src) src=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--opts) opts=$2; shift 2 ;;
	-h | --help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "mount_tree: unknown option $1 (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
dxl=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/daxlease}
[ -x "$dxl" ] || { echo "mount_tree: no daxlease at $dxl (build first, or give its path)" >&2; exit 2; }
command -v fusermount3 >/dev/null || { echo "mount_tree: fusermount3 missing (Debian: fuse3)" >&2; exit 2; }
[ -e /dev/fuse ] || { echo "mount_tree: no /dev/fuse" >&2; exit 2; }

T=$(mktemp -d /dev/shm/dxl-mtree.XXXXXX)
cleanup() {
	mountpoint -q "$T/mnt" 2>/dev/null && fusermount3 -u "$T/mnt"
	rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/mnt" "$T/tmpfs"

echo "mount_tree: packing $src" >&2
tar -C "$src" -cf "$T/tree.tar" .
entries=$(tar -tf "$T/tree.tar" | wc -l)
bytes=$(stat -c %s "$T/tree.tar")
# the pool: room for the tree at a 4 KiB unit per file, and metadata.
# The metadata region is fixed at mkfs and an inode takes a 4 KiB block
# (issue 11, item 1): the default for this size runs out near 7,600
# entries, so it is sized here for the tree, 8 KiB an entry.
meta_mb=$((entries * 8192 / 1048576 + 64))
pool_mb=$(((bytes + entries * 4096) * 2 / 1048576 + meta_mb + 256))
echo "mount_tree: $entries entries, $((bytes / 1048576)) MiB; pool $pool_mb MiB ($meta_mb MiB metadata) in /dev/shm; $rounds rounds" >&2

now_ns() { date +%s%N; }
# run STEP DIR: time one step in DIR (ms to stdout)
run() {
	local t0 t1 n
	t0=$(now_ns)
	case $1 in
	unpack) tar -C "$2" -xf "$T/tree.tar" ;;
	find)
		n=$(find "$2" | wc -l)
		# the tree and DIR itself
		[ "$n" -eq "$entries" ] || { echo "mount_tree: find saw $n entries in $2, want $entries" >&2; exit 1; }
		;;
	du) du -s "$2" >/dev/null ;;
	rm) find "$2" -mindepth 1 -maxdepth 1 -exec rm -r {} + ;;
	esac
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000000))
}

steps="unpack find du rm"
declare -A ms
for ((r = 1; r <= rounds; r++)); do
	for target in tmpfs daxlease; do
		if [ $target = daxlease ]; then
			rm -f "$T/pool"
			"$dxl" mkfs --size "${pool_mb}m" --meta "${meta_mb}m" "$T/pool" >/dev/null
			"$dxl" mount ${opts:+-o "$opts"} "$T/pool" "$T/mnt"
			dir=$T/mnt
		else
			dir=$T/tmpfs
		fi
		for s in $steps; do
			ms[$target.$s]+="$(run $s "$dir") "
		done
		if [ $target = daxlease ]; then
			fusermount3 -u "$T/mnt"
		fi
	done
	echo "mount_tree: round $r of $rounds done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for s in $steps; do
	a=$(median <<<"${ms[tmpfs.$s]}")
	b=$(median <<<"${ms[daxlease.$s]}")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
	printf '{"bench":"mount_tree","step":"%s","entries":%d,"rounds":%d,"opts":"%s","tmpfs_ms":%d,"daxlease_ms":%d,"ratio":%s,"target":2.0,"met":%s,"tmpfs_all":"%s","daxlease_all":"%s"}\n' \
		"$s" "$entries" "$rounds" "${opts:-direct_io}" "$a" "$b" "$ratio" \
		"$(awk -v r="$ratio" 'BEGIN { print (r <= 2.0 ? "true" : "false") }')" \
		"${ms[tmpfs.$s]% }" "${ms[daxlease.$s]% }"
done
