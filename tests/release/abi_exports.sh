#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# abi_exports.sh LIBDAXLEASE.SO INCLUDE_DIR [HEADER...]: the shared library
# exports the public API and nothing else.  Fails if a defined dynamic
# symbol is not a dxl_ name declared in INCLUDE_DIR/daxlease/*.h (the
# version node DAXLEASE_N aside), if one is not in the version node, or if
# a function the HEADERs declare (default daxlease.h; rdma.h too in a build
# with the RDMA layer) is not exported.
set -euo pipefail
so=$1 inc=$2
shift 2
headers=("$@")
[ ${#headers[@]} -gt 0 ] || headers=(daxlease.h)
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v nm >/dev/null; then
	echo "abi_exports: no nm (binutils): skipped"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-abi.XXXXXX")
trap 'rm -rf "$T"' EXIT

nm -D --defined-only "$so" >"$T/nm"
# "ADDR TYPE NAME[@[@]VERSION]"; the version node itself is an absolute symbol
awk 'NF >= 3 && !($2 == "A" && $3 ~ /^DAXLEASE_[0-9.]+$/) { print $3 }' "$T/nm" >"$T/syms"
sed 's/@.*//' "$T/syms" | sort -u >"$T/exported"
bash "$here/public_names.sh" "$inc"/daxlease/*.h >"$T/public"
bash "$here/public_names.sh" "${headers[@]/#/$inc/daxlease/}" | sort -u >"$T/core"

fail=0
if [ ! -s "$T/exported" ]; then
	echo "FAIL: $so exports nothing"
	fail=1
fi
extra=$(comm -23 "$T/exported" "$T/public")
if [ -n "$extra" ]; then
	echo "FAIL: exported but not declared in $inc/daxlease/*.h:"
	sed 's/^/  /' <<<"$extra"
	fail=1
fi
missing=$(comm -13 "$T/exported" "$T/core")
if [ -n "$missing" ]; then
	echo "FAIL: declared in ${headers[*]} but not exported:"
	sed 's/^/  /' <<<"$missing"
	fail=1
fi
# nm shows symbol versions (binutils >= 2.35): each must be DAXLEASE_N's
if grep -q @ "$T/syms"; then
	unversioned=$(grep -vE '@@?DAXLEASE_[0-9.]+$' "$T/syms" || true)
	if [ -n "$unversioned" ]; then
		echo "FAIL: exported outside a DAXLEASE_ version node:"
		sed 's/^/  /' <<<"$unversioned"
		fail=1
	fi
fi
[ "$fail" -eq 0 ] || exit 1
echo "abi_exports: $(wc -l <"$T/exported") symbols exported, all public dxl_ names; every function of ${headers[*]} is among them"
