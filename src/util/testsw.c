/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DXL_TEST_* switches each weaken one rule (DXL_TEST_NO_QUARANTINE
 * lets the allocator hand out pinned units, ...) so that the test of
 * that rule can be seen to fail.  Only a build that enables them reads
 * them (cmake -DDXL_TEST_SWITCHES=ON, the default for all but release
 * builds): a release library never looks at the environment for them, so
 * no variable a user happens to set can turn a safety rule off.
 */
#include <stdlib.h>

#include "util.h"

const char *dxl_test_switch(const char *name)
{
#ifdef DXL_TEST_SWITCHES
	return getenv(name);
#else
	(void)name;
	return NULL;
#endif
}

int dxl_test_switches_built(void)
{
#ifdef DXL_TEST_SWITCHES
	return 1;
#else
	return 0;
#endif
}
