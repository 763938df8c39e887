#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# install_consumer.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR VERSION CC
# `cmake --install` of BUILD_DIR into a temporary DESTDIR, then the
# out-of-tree program tests/consumer built against it twice and run: with
# cc and `pkg-config --cflags --libs daxlease` (the shared library), and as
# a CMake project with find_package(daxlease) (shared and static).  PREFIX
# and LIBDIR are CMAKE_INSTALL_PREFIX and CMAKE_INSTALL_FULL_LIBDIR;
# $DXL_CONSUMER_FLAGS (the build's sanitizers) go to every compile and link.
# Exits 77 (skipped) without pkg-config.
set -euo pipefail
build=$1 src=$2 prefix=$3 libdir=$4 version=$5 cc=$6
extra=${DXL_CONSUMER_FLAGS:-}
if ! command -v pkg-config >/dev/null; then
	echo "install_consumer: no pkg-config (scripts/bootstrap.sh installs it): skipped"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
root=$T/root

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# Does the output of a command contain a line matching a pattern?  Not
# `cmd | grep -q`: with pipefail, grep quitting at the first match can
# kill the command with SIGPIPE and fail the pipeline (seen with ldd).
has() { # has PATTERN CMD...
	local pat=$1 out
	shift
	out=$("$@" 2>/dev/null) || return 1
	grep -q -- "$pat" <<<"$out"
}
run() { # run a command, its output shown only when it fails
	"$@" >"$T/log" 2>&1 || { cat "$T/log" >&2; fail "$*"; }
}

echo "--- cmake --install into DESTDIR"
DESTDIR=$root run cmake --install "$build"
lib=$root$libdir
for f in "$lib/libdaxlease.so.$version" "$lib/libdaxlease.a" \
	"$root$prefix/include/daxlease/daxlease.h" "$root$prefix/include/daxlease/version.h" \
	"$lib/pkgconfig/daxlease.pc" "$lib/cmake/daxlease/daxleaseConfig.cmake" \
	"$lib/cmake/daxlease/daxleaseConfigVersion.cmake" "$lib/cmake/daxlease/daxleaseTargets.cmake" \
	"$root$prefix/bin/daxlease" "$root$prefix/share/bash-completion/completions/daxlease"; do
	[ -f "$f" ] || fail "not installed: ${f#"$root"}"
done
# the RDMA API, in a build with the RDMA layer
rdma=0
if grep -qx 'DXL_RDMA:BOOL=ON' "$build/CMakeCache.txt"; then
	rdma=1
	[ -f "$root$prefix/include/daxlease/rdma.h" ] || fail "not installed: $prefix/include/daxlease/rdma.h"
fi
major=${version%%.*}
[ "$(readlink "$lib/libdaxlease.so.$major")" = "libdaxlease.so.$version" ] || fail "libdaxlease.so.$major"
[ "$(readlink "$lib/libdaxlease.so")" = "libdaxlease.so.$major" ] || fail "libdaxlease.so"
grep -qx "#define DXL_VERSION_STRING \"$version\"" "$root$prefix/include/daxlease/version.h" ||
	fail "installed version.h does not say $version"
if command -v readelf >/dev/null; then
	has "Library soname: \[libdaxlease.so.$major\]" readelf -d "$lib/libdaxlease.so.$version" ||
		fail "soname of libdaxlease.so is not libdaxlease.so.$major"
fi
[ "$("$root$prefix/bin/daxlease" --version | sed -n 1p)" = "daxlease $version" ] || fail "installed daxlease --version"
# the man pages, when the build made them (scdoc)
if [ -f "$build/man/daxlease.8" ]; then
	for f in "$root$prefix/share/man/man8/daxlease.8" "$root$prefix/share/man/man3/libdaxlease.3"; do
		[ -f "$f" ] || fail "not installed: ${f#"$root"}"
	done
fi

# Run a consumer; it prints the version of the library it got.
check_run() {
	local exe=$1 work
	work=$(mktemp -d "$T/work.XXXXXX")
	LD_LIBRARY_PATH=$lib "$exe" "$work" >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "$exe failed"; }
	grep -qx "read back: hello from outside the tree" "$T/out" || { cat "$T/out" >&2; fail "$exe: data"; }
	grep -qx "dxl_version: $version" "$T/out" || { cat "$T/out" >&2; fail "$exe: version"; }
	if [ "$rdma" = 1 ]; then
		grep -q "^rdma: connecting to 127.0.0.1:1 failed as it must" "$T/out" ||
			{ cat "$T/out" >&2; fail "$exe: the RDMA API"; }
	fi
}
# The executable must use the installed shared library.
check_shared() {
	if command -v readelf >/dev/null; then
		has "Shared library: \[libdaxlease.so.$major\]" readelf -d "$1" ||
			fail "$1 does not need libdaxlease.so.$major"
	fi
	has "libdaxlease.so.$major => $lib/" env LD_LIBRARY_PATH="$lib" ldd "$1" ||
		fail "$1 does not load libdaxlease.so.$major from the install"
}

echo "--- cc \$(pkg-config --cflags --libs daxlease)"
# the install's daxlease.pc first, the system's after it (libfabric and
# libsodium, which the static library needs)
export PKG_CONFIG_LIBDIR=$lib/pkgconfig:$(pkg-config --variable pc_path pkg-config) PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
[ "$(pkg-config --modversion daxlease)" = "$version" ] || fail "pkg-config --modversion daxlease"
flags=$(pkg-config --cflags --libs daxlease)
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # the flags are words
run "$cc" -std=c11 -Wall -Wextra -Werror $extra -o "$T/consumer_pc" "$src/tests/consumer/consumer.c" $flags
check_shared "$T/consumer_pc"
check_run "$T/consumer_pc"

echo "--- find_package(daxlease) in a CMake project"
gen=()
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
run cmake -S "$src/tests/consumer" -B "$T/cmake" "${gen[@]}" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$root$prefix" -DDXL_EXPECT_VERSION="$version" \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror $extra" -DCMAKE_EXE_LINKER_FLAGS="$extra"
grep -q "^daxlease_DIR:PATH=$root" "$T/cmake/CMakeCache.txt" || fail "find_package found another daxlease"
run cmake --build "$T/cmake"
check_shared "$T/cmake/consumer_shared"
check_run "$T/cmake/consumer_shared"
check_run "$T/cmake/consumer_static"
echo "install_consumer: installed, and used through pkg-config and find_package"
