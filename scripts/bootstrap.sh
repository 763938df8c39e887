#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages daxlease needs to build and test, if missing.
# Safe to run again: it only calls apt-get when something is absent.
set -euo pipefail

pkgs=(build-essential cmake ninja-build clang pkg-config libclang-rt-14-dev libfuse3-dev fuse3 libfabric-dev libsodium-dev scdoc)
# bootstrap.sh --package: also what scripts/package.sh needs
if [ "${1:-}" = "--package" ]; then
	pkgs+=(dpkg-dev debhelper fakeroot lintian)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
