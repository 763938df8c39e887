#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The suite on real DAX devices: boot Debian's stock kernel under QEMU
# (software emulation), with two emulated NVDIMMs made into a device-DAX
# namespace (2 MiB alignment) and an fsdax namespace holding an xfs
# mounted -o dax=always, and run the tests there (scripts/vm/guest.sh).
# Then a hard stop: the VM is killed in the middle of writes, booted
# again, and every pool must be fsck-clean with every completed write in
# it.  docs/vm-test.md says what runs and why it is built this way.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# The guest kernel, pinned: Debian 12's linux-image for this ABI.  Another
# can be given with --kernel (a package version of Debian's archive).
KPKG=linux-image-6.1.0-57-amd64
KVER=6.1.192-3

usage() {
	cat <<EOF
usage: scripts/vm-test.sh [--full] [--build DIR] [--work DIR] [--seed N]
                          [--kernel PKG=VERSION] [--only STEP,...] [--no-hardstop] [--no-rdma]
                          [--run SCRIPT]

Boot Debian's kernel ($KPKG $KVER) under QEMU with an emulated
device-DAX and fsdax NVDIMM and run daxlease's tests on both, then kill
the VM in the middle of writes and check every pool after the reboot.

  --full           the long mode: more operations, rounds and tests
                   (the default short mode fits CI: about 10 minutes)
  --build DIR      the build to test (default: build, made with
                   scripts/build.sh if it is not there)
  --work DIR       kernel, initramfs, NVDIMM images and logs
                   (default: DIR/vm of the build)
  --seed N         seed of the tests and of the moment of the hard stop
                   (default: from the clock; printed)
  --kernel P=V     another Debian kernel package and version
  --only LIST      run only these guest steps (names as in the results;
                   'hardstop' for the hard-stop boots)
  --no-hardstop    skip the hard-stop boots
  --no-rdma        skip the RDMA tests (over verbs on soft-RoCE, rdma_rxe,
                   on the device-DAX pool)
  --run SCRIPT     run SCRIPT in the guest (bash, after the devices are
                   set up; DXL, T, DEV, FSDAX and the steps' functions
                   such as rxe_setup and on_rxe are there) instead of the
                   tests, its output in run.log: for finding out by hand
  -h, --help       this text

Needs qemu-system-x86, ndctl, xfsprogs, busybox-static, kmod, cpio,
rdma-core and iproute2: scripts/bootstrap.sh --vm installs them.  Exit status 0 when every step
passed, 1 when one failed, 2 on a usage error.
EOF
}

mode=short build="" work="" seed="" only="" hardstop=1 rdma=1 run=""
while [ $# -gt 0 ]; do
	case $1 in
	--full) mode=full; shift ;;
	--build) build=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--kernel) KPKG=${2%%=*}; KVER=${2#*=}; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--no-hardstop) hardstop=0; shift ;;
	--no-rdma) rdma=0; shift ;;
	--run) run=$(realpath "$2") && [ -f "$run" ] || { echo "vm-test: --run $2: no such file" >&2; exit 2; }
		hardstop=0; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "vm-test: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$seed" ] || seed=$(( $(date +%s) % 100000 + 1 ))
case $seed in ''|*[!0-9]*) echo "vm-test: --seed takes a number" >&2; exit 2 ;; esac

missing=()
for c in qemu-system-x86_64 ndctl mkfs.xfs busybox depmod modprobe cpio; do
	command -v "$c" >/dev/null || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "vm-test: missing ${missing[*]}: run scripts/bootstrap.sh --vm" >&2
	exit 1
fi

if [ -z "$build" ]; then
	build=$top/build
	[ -x "$build/daxlease" ] || "$top/scripts/build.sh" "$build"
fi
build=$(cd "$build" && pwd)
for f in daxlease tests/test_fsx tests/test_kill tests/test_lease_basic; do
	[ -x "$build/$f" ] || { echo "vm-test: $build/$f is missing (build with tests)" >&2; exit 1; }
done
work=${work:-$build/vm}
mkdir -p "$work"
work=$(cd "$work" && pwd)

log() { echo "vm-test: $*"; }

# ---- the kernel: Debian's package, unpacked (never installed on the host)
kroot=$work/kernel-$KPKG-$KVER
kname=${KPKG#linux-image-}
if [ ! -f "$kroot/boot/vmlinuz-$kname" ]; then
	log "fetching $KPKG $KVER"
	rm -rf "$kroot.tmp" && mkdir -p "$kroot.tmp"
	if ! (cd "$kroot.tmp" && apt-get download -q "$KPKG=$KVER" >/dev/null 2>"$work/apt.err"); then
		cat "$work/apt.err" >&2
		echo "vm-test: cannot fetch $KPKG=$KVER (apt-get update? another version with --kernel)" >&2
		exit 1
	fi
	dpkg-deb -x "$kroot.tmp"/*.deb "$kroot.tmp/root"
	depmod -b "$kroot.tmp/root" "$kname"
	rm -rf "$kroot" && mv "$kroot.tmp/root" "$kroot" && rm -rf "$kroot.tmp"
fi

# ---- the initramfs: busybox, virtio and 9p modules, scripts/vm/init
initrd=$work/initrd-$kname.gz
if [ ! -f "$initrd" ] || [ "$top/scripts/vm/init" -nt "$initrd" ]; then
	ird=$work/initrd.d
	rm -rf "$ird" && mkdir -p "$ird/bin" "$ird/modules"
	cp "$(command -v busybox)" "$ird/bin/busybox"
	ln -s busybox "$ird/bin/sh"
	cp "$top/scripts/vm/init" "$ird/init"
	: >"$ird/modules.order"
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -C /dev/null -d "$kroot" -S "$kname" --show-depends "$m"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
		cp "$ko" "$ird/modules/"
		basename "$ko" >>"$ird/modules.order"
	done
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd"
	rm -rf "$ird"
fi

# ---- one boot: QEMU with the two NVDIMMs, the host's root read-only and
# an output directory read-write over 9p; the guest runs scripts/vm/guest.sh
# PHASE and powers off.  While it runs, the results it writes are printed.
out=$work/out
nv_dax=$work/nvdimm-devdax.img nv_fsdax=$work/nvdimm-fsdax.img
NV_SIZE=1G
qemu_pid=""
acked() { cat "$out"/acks.* 2>/dev/null | wc -l; }
boot() { # boot PHASE TIMEOUT_S [KILL_AFTER_ACKS]
	local phase=$1 limit=$2 kill_at=${3:-0} printed=0 t0
	cat >"$out/job" <<EOF
TOP=$top
BUILD=$build
KROOT=$kroot
PHASE=$phase
MODE=$mode
SEED=$seed
ONLY=$only
RDMA=$rdma
EOF
	: >"$out/results.$phase"
	t0=$(date +%s)
	qemu-system-x86_64 -machine pc,nvdimm=on,accel=tcg -cpu max -smp 2 \
		-m 2G,slots=4,maxmem=8G -display none -no-reboot -monitor none \
		-serial file:"$out/console.$phase.log" \
		-kernel "$kroot/boot/vmlinuz-$kname" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 dxl.guest=$top/scripts/vm/guest.sh dxl.out=$out" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$out",mount_tag=out,security_model=none,multidevs=remap \
		-object memory-backend-file,id=nv0,share=on,mem-path="$nv_dax",size=$NV_SIZE,align=2M \
		-device nvdimm,id=nvdimm0,memdev=nv0 \
		-object memory-backend-file,id=nv1,share=on,mem-path="$nv_fsdax",size=$NV_SIZE,align=2M \
		-device nvdimm,id=nvdimm1,memdev=nv1 &
	qemu_pid=$!
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ "$kill_at" -gt 0 ]; then sleep 0.1; else sleep 1; fi
		local n
		n=$(wc -l <"$out/results.$phase")
		if [ "$n" -gt "$printed" ]; then
			sed -n "$((printed + 1)),${n}p" "$out/results.$phase" | sed 's/^/  /'
			printed=$n
		fi
		if [ "$kill_at" -gt 0 ] && [ "$(acked)" -ge "$kill_at" ]; then
			kill -KILL "$qemu_pid"
			log "killed the VM after $(acked) completed writes"
			echo "ok vm-killed-mid-write" >>"$out/results.$phase"
			break
		fi
		if [ $(($(date +%s) - t0)) -gt "$limit" ]; then
			kill -KILL "$qemu_pid"
			log "$phase: no power-off within $limit s; the VM was killed"
			echo "FAIL vm-$phase-timeout" >>"$out/results.$phase"
			break
		fi
	done
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=""
	sed -n "$((printed + 1)),\$p" "$out/results.$phase" | sed 's/^/  /'
	log "$phase: $(($(date +%s) - t0)) s"
	return 0
}
trap '[ -z "$qemu_pid" ] || kill -KILL "$qemu_pid" 2>/dev/null || true' EXIT

rm -rf "$out" && mkdir -p "$out"
[ -z "$run" ] || cp "$run" "$out/run.sh"
# fresh NVDIMMs: the guest finds raw namespaces and configures them
rm -f "$nv_dax" "$nv_fsdax"
truncate -s $NV_SIZE "$nv_dax" "$nv_fsdax"
log "mode $mode, seed $seed, kernel $KPKG $KVER, build $build, logs in $out"
t_all=$(date +%s)
if [ "$mode" = full ] || [ -n "$run" ]; then limit=7200; else limit=900; fi
boot tests $limit
if [ "$hardstop" = 1 ] && { [ -z "$only" ] || [[ ",$only," == *,hardstop,* ]]; }; then
	# the stop comes after a seeded number of completed writes, mid-stream
	boot hardstop-write 600 $((20 + seed % 41))
	grep -q '^ok vm-killed-mid-write' "$out/results.hardstop-write" ||
		echo "FAIL hardstop-write-never-killed" >>"$out/results.hardstop-write"
	boot hardstop-check 600
fi

fail=0
for r in "$out"/results.*; do
	# the writing boot ends in the kill, not in a power-off
	[ "$r" = "$out/results.hardstop-write" ] ||
	grep -q '^done$' "$r" || { log "${r##*/results.}: the guest did not finish (see $out/console.${r##*/results.}.log)"; fail=1; }
	if grep -q '^FAIL' "$r"; then fail=1; fi
done
nok=$(cat "$out"/results.* | grep -c '^ok' || true)
nskip=$(cat "$out"/results.* | grep -c '^skip' || true)
nfail=$(cat "$out"/results.* | grep -c '^FAIL' || true)
log "$nok passed, $nskip skipped, $nfail failed in $(($(date +%s) - t_all)) s (seed $seed)"
if [ "$fail" -ne 0 ]; then
	cat "$out"/results.* | grep '^FAIL' | while read -r _ name _; do
		[ -f "$out/$name.log" ] || continue
		echo "---- $name.log (last 30 lines)"
		tail -30 "$out/$name.log"
	done
	exit 1
fi
