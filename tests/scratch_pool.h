/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A scratch directory for a test's pool: under DXL_TEST_POOL if set
 * (test_dir.h), else in /dev/shm when writable (the
 * tests measure behaviour, not msync), else $TMPDIR or /tmp, holding the
 * pool file and a private DXL_RUNTIME_DIR, so that a test neither sees
 * nor leaves runtime files of others.  Removed at exit by the process
 * that made it (forked children exit without touching it).
 *
 * scratch_setup skips the test when DXL_TEST_POOL is a device;
 * scratch_setup_device makes the device the pool instead (for a test that
 * makes one pool at a time and takes the device's unit: dxl_test_unit).
 */
#ifndef DXL_TEST_SCRATCH_POOL_H
#define DXL_TEST_SCRATCH_POOL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"

static char pool_dir[256], pool_path[300], rt_dir[300];
static pid_t scratch_owner;
static const char *scratch_dev; /* the device pool_path names, or NULL */

static inline void scratch_cleanup(void)
{
	DIR *d;
	struct dirent *de;
	char p[600];

	if (getpid() != scratch_owner)
		return;
	if (pool_path[0] && !scratch_dev) /* never the device node */
		unlink(pool_path);
	if (rt_dir[0] && (d = opendir(rt_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", rt_dir, de->d_name);
			unlink(p);
		}
		closedir(d);
		rmdir(rt_dir);
	}
	if (pool_dir[0])
		rmdir(pool_dir);
}

static inline void scratch_setup_rt(void)
{
	snprintf(rt_dir, sizeof(rt_dir), "%s/rt", pool_dir);
	CHECK(mkdir(rt_dir, 0700) == 0);
	setenv("DXL_RUNTIME_DIR", rt_dir, 1);
	scratch_owner = getpid();
	atexit(scratch_cleanup);
}

static inline const char *scratch_default_dir(void)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

	return tmp ? tmp : "/tmp";
}

/* name: a word for the directory, e.g. "journal" -> dxl_journal.XXXXXX */
static inline void scratch_setup(const char *name)
{
	snprintf(pool_dir, sizeof(pool_dir), "%s/dxl_%s.XXXXXX", dxl_test_dir(scratch_default_dir()), name);
	CHECK(mkdtemp(pool_dir) != NULL);
	snprintf(pool_path, sizeof(pool_path), "%s/pool", pool_dir);
	scratch_setup_rt();
}

/* As scratch_setup, but pool_path is the device when DXL_TEST_POOL names
 * one (its contents are destroyed); the directory holds the runtime files
 * either way.  The test makes its pools with dxl_test_unit(), size 0 on
 * the device. */
static inline void scratch_setup_device(const char *name)
{
	char dname[64];

	snprintf(dname, sizeof(dname), "dxl_%s", name);
	scratch_dev = dxl_test_pool_at(pool_dir, sizeof(pool_dir), pool_path, sizeof(pool_path), dname,
				       UINT64_MAX, scratch_default_dir());
	scratch_setup_rt();
}

/* Copy a pool file (a pristine image to damage a copy of). */
static inline void scratch_copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[1 << 16];
	ssize_t n;

	CHECK(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	CHECK(n == 0);
	close(in);
	close(out);
}

static inline void scratch_fsck_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fsck: %s\n", msg);
}

#endif
