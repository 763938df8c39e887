#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The guest's side of scripts/vm-test.sh: PID 1 after scripts/vm/init,
# on the host's root (read-only over 9p).  Sets up the NVDIMMs (a
# device-DAX namespace at 2 MiB alignment, an fsdax one with an xfs
# mounted -o dax=always), runs one phase's steps, writes a line per step
# to the output directory the host shares (ok|skip|FAIL NAME SECONDS),
# and powers off.
#
# Phases: tests (the suite's tests on both devices), hardstop-write
# (writes until the host kills the VM, a line in acks after each one has
# returned) and hardstop-check (the next boot: fsck and every acked write).
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

off() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}
trap off EXIT

out=$(sed -n 's/.*dxl\.out=\([^ ]*\).*/\1/p' /proc/cmdline)
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "$out"; then
	echo "guest: cannot mount the output directory $out"
	exit 1
fi
# shellcheck source=/dev/null
. "$out/job"
res=$out/results.$PHASE
# scratch space in memory, but never over the host paths the guest runs
# from (a CI clone may live under /tmp)
for d in /run /tmp /var/tmp /dev/shm /mnt; do
	case "$TOP/ $BUILD/ $KROOT/ $out/" in *"$d/"*) continue ;; esac
	mkdir -p "$d" 2>/dev/null
	mount -t tmpfs -o mode=1777 tmpfs "$d"
done
# what udev would make: devtmpfs has no /dev/fd (bash's <(...) needs it)
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
if mountpoint -q /tmp; then TMPDIR=/tmp; else TMPDIR=/run/tmp; mkdir -p $TMPDIR; fi
export TMPDIR HOME=$TMPDIR
DXL=$BUILD/daxlease
T=$BUILD/tests
DEV=/dev/dax0.0
FSDAX=/mnt/pmem

note() { echo "$*" >>"$res"; echo "guest: $*"; }
wanted() {
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]] ||
		[[ $1 == hardstop* && ",$ONLY," == *,hardstop,* ]]
}

# step NAME TIMEOUT CMD...: run CMD, its output in NAME.log
step() {
	local name=$1 limit=$2 t0 rc=0 r
	shift 2
	wanted "$name" || return 0
	t0=$(date +%s)
	timeout -k 10 "$limit" "$@" >"$out/$name.log" 2>&1 || rc=$?
	case $rc in
	0) r=ok ;;
	77) r=skip ;;
	124|137) r=FAIL; echo "(timed out after $limit s)" >>"$out/$name.log" ;;
	*) r=FAIL ;;
	esac
	if [ "$rc" -eq 0 ]; then rc=""; else rc=" (exit $rc)"; fi
	note "$r $name $(($(date +%s) - t0))s$rc"
}

# ---- the NVDIMMs
M="modprobe -C /dev/null -d $KROOT"
for m in nfit nd_pmem dax_pmem device_dax xfs; do
	$M "$m" || note "FAIL modprobe-$m"
done
# the namespaces keep their info blocks in the images: configured once
udevadm settle 2>/dev/null || sleep 1
if [ ! -c $DEV ]; then
	ndctl create-namespace -f -e namespace0.0 -m devdax -a 2M >"$out/ndctl.$PHASE.log" 2>&1 ||
		note "FAIL ndctl-devdax"
fi
# (a raw namespace is a /dev/pmem1 too, without DAX: ask for the mode)
if ! ndctl list -n namespace1.0 2>/dev/null | grep -q '"mode":"fsdax"'; then
	ndctl create-namespace -f -e namespace1.0 -m fsdax >>"$out/ndctl.$PHASE.log" 2>&1 ||
		note "FAIL ndctl-fsdax"
fi
for i in $(seq 50); do [ -c $DEV ] && [ -b /dev/pmem1 ] && break; sleep 0.2; done
mkdir -p $FSDAX
if [ "$PHASE" = tests ]; then
	mkfs.xfs -f -q -m reflink=0 /dev/pmem1 >>"$out/ndctl.$PHASE.log" 2>&1 || note "FAIL mkfs.xfs"
fi
mount -o dax=always /dev/pmem1 $FSDAX || note "FAIL mount-xfs-dax"
# xfs mounts without DAX when the device cannot do it, saying so only in
# the kernel log: the backend checks (cli_fsdax) would then fail
dmesg | grep -i 'dax' | grep -iv 'experimental' >>"$out/ndctl.$PHASE.log"
note "setup $(uname -r), $(cat /sys/bus/dax/devices/dax0.0/align 2>/dev/null || echo '?')-byte devdax alignment"

# shellcheck source=scripts/vm/steps.sh
. "$TOP/scripts/vm/steps.sh"
case $PHASE in
tests) if [ -f "$out/run.sh" ]; then step run 3600 bash "$out/run.sh"; else phase_tests; fi ;;
hardstop-write) phase_hardstop_write ;;
hardstop-check) phase_hardstop_check ;;
*) note "FAIL unknown-phase-$PHASE" ;;
esac
umount $FSDAX 2>/dev/null
note "done"
