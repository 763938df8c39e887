/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a test makes its pools: the directory or device DXL_TEST_POOL
 * names when it is set, else the test's own default (most use /dev/shm:
 * they test behaviour, not msync).  Every test that makes a pool asks
 * here, so the whole suite can be pointed at real DAX memory:
 *
 *   DXL_TEST_POOL=/mnt/pmem0 ctest      a directory on an fsdax mount
 *   DXL_TEST_POOL=/dev/dax0.0 ctest     a device-DAX node
 *
 * A device holds one pool, at its own alignment (2 MiB), so only the
 * tests that make one pool at a time and take the device's unit run on
 * it: they call dxl_test_device() and make their pool there.  Every other
 * test asks dxl_test_dir(), which skips it (exit 77, CTest's
 * SKIP_RETURN_CODE) with a line saying why: a skip is reported, never
 * mistaken for a pass on the device (docs/testing.md).
 */
#ifndef DXL_TEST_DIR_H
#define DXL_TEST_DIR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define DXL_TEST_SKIP 77

/* The device DXL_TEST_POOL names (a character device: device-DAX), or
 * NULL when it is unset or names a directory. */
static inline const char *dxl_test_device(void)
{
	const char *d = getenv("DXL_TEST_POOL");
	struct stat st;

	if (!d || !*d || stat(d, &st) != 0 || !S_ISCHR(st.st_mode))
		return NULL;
	return d;
}

/* The device's mapping alignment from sysfs (the smallest unit a pool on
 * it can have), or 0 when there is no device or sysfs does not say. */
static inline uint64_t dxl_test_device_align(void)
{
	const char *d = dxl_test_device();
	char path[128];
	unsigned long long a = 0;
	struct stat st;
	FILE *f;

	if (!d || stat(d, &st) != 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/align", major(st.st_rdev),
		 minor(st.st_rdev));
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &a) != 1)
		a = 0;
	fclose(f);
	return a;
}

/* A test's unit: dflt, or the device's alignment when DXL_TEST_POOL is a
 * device whose alignment is larger. */
static inline uint64_t dxl_test_unit(uint64_t dflt)
{
	uint64_t a = dxl_test_device_align();

	return a > dflt ? a : dflt;
}

/* Stop a test that cannot run on the device DXL_TEST_POOL names. */
static inline void dxl_test_skip_device(const char *why)
{
	fprintf(stderr, "skipped: DXL_TEST_POOL=%s is a device, and this test %s\n",
		getenv("DXL_TEST_POOL"), why);
	exit(DXL_TEST_SKIP);
}

/* The directory for scratch files and runtime state, and for the pools
 * of a test that takes a device (dxl_test_device) but also needs files
 * beside it: DXL_TEST_POOL when it is a directory, else dflt. */
static inline const char *dxl_test_scratch_dir(const char *dflt)
{
	const char *d = getenv("DXL_TEST_POOL");
	struct stat st;

	if (!d || !*d || dxl_test_device())
		return dflt;
	if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "DXL_TEST_POOL=%s: neither a directory nor a device-DAX node\n", d);
		exit(2);
	}
	return d;
}

/* The directory for a test's pool files; a test asking this makes pool
 * files, so on a device it is skipped. */
static inline const char *dxl_test_dir(const char *dflt)
{
	if (dxl_test_device())
		dxl_test_skip_device("makes pool files (several pools, or units below the device's)");
	return dxl_test_scratch_dir(dflt);
}

/* A test's scratch directory and pool path: makes DIR-XXXXXX named
 * `name` under DXL_TEST_POOL's directory or dflt into dir, and sets pool
 * to the device when DXL_TEST_POOL is one (skipping the test when its
 * unit is below the device's alignment), else to dir/pool.  Returns the
 * device, or NULL for a pool file. */
static inline const char *dxl_test_pool_at(char *dir, size_t dir_size, char *pool,
					   size_t pool_size, const char *name, uint64_t unit,
					   const char *dflt)
{
	const char *dev = dxl_test_device();

	if (dev && unit < dxl_test_device_align())
		dxl_test_skip_device("runs with a unit below the device's (give --unit 2m)");
	snprintf(dir, dir_size, "%s/%s-XXXXXX", dxl_test_scratch_dir(dflt), name);
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(1);
	}
	if (dev)
		snprintf(pool, pool_size, "%s", dev);
	else
		snprintf(pool, pool_size, "%s/pool", dir);
	return dev;
}

#endif
