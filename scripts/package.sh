#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/package.sh [OUTDIR]: build the Debian packages libdaxlease0,
# libdaxlease-dev and daxlease from this tree (dpkg-buildpackage -b -us
# -uc, in a clean copy, so no build directory of the tree goes in), check
# them with lintian (errors fail), and put the .deb files in OUTDIR
# (default: dist/).  Installs the packaging tools first if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist}
"$root/scripts/bootstrap.sh" --package

version=$(sed -n 's/^project(daxlease VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
deb=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
if [ "$deb" != "$version" ]; then
	echo "package: debian/changelog says $deb, CMakeLists.txt $version: add a changelog entry" >&2
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-pkg.XXXXXX")
trap 'rm -rf "$T"' EXIT
src=$T/daxlease-$version
mkdir -p "$src"
echo "package: copying the tree"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# what git knows of (committed or not), not build directories
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$root" && tar --exclude='./build*' --exclude='./dist' -cf - .) | tar -xf - -C "$src"
fi

echo "package: dpkg-buildpackage -b -us -uc (log: $out/build.log)"
mkdir -p "$out"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "package: the build failed (whole log: $out/build.log)" >&2
	exit 1
fi
changes=$(ls "$T"/daxlease_"$version"_*.changes)
echo "package: lintian"
# errors fail; warnings and the rest are shown
lintian --fail-on error --no-tag-display-limit "$changes" | tee "$out/lintian.log"
rm -f "$out"/*.deb
cp "$T"/*.deb "$out"/
echo "package: $(cd "$out" && ls ./*.deb | tr '\n' ' ')in $out"
