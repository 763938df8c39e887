#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages daxlease needs to build and test, if missing.
# Safe to run again: it only calls apt-get when something is absent.
set -euo pipefail

pkgs=(build-essential cmake ninja-build clang pkg-config libclang-rt-14-dev libfuse3-dev fuse3 libfabric-dev libsodium-dev scdoc)
# bootstrap.sh --package: also what scripts/package.sh needs
# bootstrap.sh --vm: also what scripts/vm-test.sh needs (QEMU, the guest's
# NVDIMM, xfs and RDMA tools, busybox and cpio for its initramfs), without
# their recommendations (QEMU's would bring a desktop's worth)
lean=()
for a in "$@"; do
	case $a in
	--package) pkgs+=(dpkg-dev debhelper fakeroot lintian) ;;
	--vm) lean+=(qemu-system-x86 ndctl xfsprogs busybox-static kmod cpio rdma-core ibverbs-providers iproute2 libfabric-bin) ;;
	*) echo "usage: $0 [--package] [--vm]" >&2; exit 2 ;;
	esac
done

absent() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}
mapfile -t missing < <(absent "${pkgs[@]}")
mapfile -t missing_lean < <(absent "${lean[@]}")
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_lean[@]} -eq 0 ]; then
	exit 0
fi
echo "bootstrap: installing ${missing[*]} ${missing_lean[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#missing_lean[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		"${missing_lean[@]}" >/dev/null
fi
