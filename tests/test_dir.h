/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a test makes its pools: the directory DXL_TEST_POOL names (a
 * directory on an fsdax mount, a disk, a tmpfs) when it is set, else the
 * test's own default (most use /dev/shm: they test behaviour, not
 * msync).  Every test that makes a pool file asks here, so the whole
 * suite can be pointed at real DAX memory:
 *
 *   DXL_TEST_POOL=/mnt/pmem0 ctest
 *
 * A device (DXL_TEST_POOL=/dev/dax0.0) is refused for now: the tests make
 * several pools each, many with a 4 KiB unit, and device-DAX takes one
 * pool with its 2 MiB alignment (docs/testing.md).
 */
#ifndef DXL_TEST_DIR_H
#define DXL_TEST_DIR_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline const char *dxl_test_dir(const char *dflt)
{
	const char *d = getenv("DXL_TEST_POOL");
	struct stat st;

	if (!d || !*d)
		return dflt;
	if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "DXL_TEST_POOL=%s: not a directory (the suite takes a directory; "
				"a device-DAX node is not supported yet)\n", d);
		exit(2);
	}
	return d;
}

#endif
