#!/usr/bin/env bash
# Set up, build, and show the main job on the embedded default: a pool file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/bootstrap.sh"
"$top/scripts/build.sh" "$top/build" -DCMAKE_BUILD_TYPE=Release
dx="$top/build/daxlease"
pool=${POOL:-$top/demo.pool}
set -x
"$dx" mkfs --force --size 256m "$pool"
"$dx" info "$pool"
head -c 3000000 /dev/urandom > "$top/build/demo.local"
"$dx" mkdir "$pool" /data
"$dx" put "$pool" "$top/build/demo.local" /data/blob
"$dx" cp --reflink "$pool" /data/blob /data/clone
"$dx" io "$pool" /data/clone -c "pwrite -S 0x41 0 4k" -c "crc 0 4k" -c "stat"
"$dx" get "$pool" /data/blob "$top/build/demo.back"
cmp "$top/build/demo.local" "$top/build/demo.back"
"$dx" ls -l "$pool" /data
"$dx" fsck "$pool"
