#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_switches.sh SOURCE_DIR CC: a release build ignores the DXL_TEST_*
# switches.  Every switch the library reads goes through dxl_test_switch
# (src/util/testsw.c; the traced library of the crash explorer, which is
# never installed, aside), and that function, built without
# DXL_TEST_SWITCHES, returns NULL whatever the environment says.
set -euo pipefail
src=$1 cc=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/dxl-sw.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

# The library's only readers of the environment: the switch gate, the
# traced library's own switches, and the settings documented for users
# (DXL_RUNTIME_DIR, DXL_PMEM_SYSFS_ROOT, DXL_FI_PROVIDER).  A new one must
# be added here on purpose: a switch read with getenv would work in a
# release build too.
allowed="src/util/testsw.c src/pmem/trace.c src/runtime/runtime.c src/pmem/backend.c src/rdma/fabric.c"
readers=$(cd "$src" && grep -rlE '\b(secure_)?getenv\(' src --include='*.c' | grep -v '^src/cli/' | sort)
for f in $readers; do
	case " $allowed " in
	*" $f "*) ;;
	*)
		echo "FAIL: $f reads the environment (a DXL_TEST_ switch must go through dxl_test_switch):"
		grep -nE '\b(secure_)?getenv\(' "$src/$f" | sed 's/^/  /'
		fail=1
		;;
	esac
done

cat >"$T/main.c" <<'C'
#include <stdio.h>
const char *dxl_test_switch(const char *name);
int main(void)
{
	const char *v = dxl_test_switch("DXL_TEST_NO_QUARANTINE");
	printf("%s\n", v ? v : "(ignored)");
	return 0;
}
C
"$cc" -std=gnu11 -I"$src/src/util" -o "$T/rel" "$T/main.c" "$src/src/util/testsw.c"
"$cc" -std=gnu11 -DDXL_TEST_SWITCHES=1 -I"$src/src/util" -o "$T/dev" "$T/main.c" "$src/src/util/testsw.c"
rel=$(DXL_TEST_NO_QUARANTINE=1 "$T/rel")
dev=$(DXL_TEST_NO_QUARANTINE=1 "$T/dev")
if [ "$rel" != "(ignored)" ]; then
	echo "FAIL: a release build reads DXL_TEST_NO_QUARANTINE ($rel)"
	fail=1
fi
# the check above could not fail if the function ignored it everywhere
if [ "$dev" != "1" ]; then
	echo "FAIL: a build with DXL_TEST_SWITCHES does not read DXL_TEST_NO_QUARANTINE ($dev)"
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "test_switches: release build ignores DXL_TEST_NO_QUARANTINE=1; a test build reads it; no switch read around dxl_test_switch"
