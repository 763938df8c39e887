#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
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
# a layout lease: a holder pins the file's storage; a truncate breaks it
"$dx" tune "$pool" --lease-break-time 5s
"$dx" io "$pool" /data/clone -c "lease 0 0" -c "pin -l 0 64k" -c "wait-break -t 30" &
holder=$!
for _ in $(seq 50); do "$dx" leases "$pool" | grep -q PIN-LONGTERM && break; sleep 0.1; done
"$dx" leases "$pool"
"$dx" io "$pool" /data/clone -c "truncate 0"
wait "$holder"
"$dx" leases "$pool"
"$dx" fsck "$pool"
