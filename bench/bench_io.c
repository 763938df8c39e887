/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O figures of `daxlease bench`: pwrite_4k, pread_4k (group "4k":
 * 4 KiB at random aligned offsets, daxlease against tmpfs) and pwrite_1m,
 * pread_1m (group "1m": 1 MiB, daxlease against tmpfs and against memcpy
 * to a shared and an anonymous mapping).  The files they work on are made
 * and written once before timing, so that no figure pays for first
 * touches.  Harness and conventions: bench_harness.c; see docs/bench.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fallocate; the build defines it too */
#endif
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ----------------------------------------------------- I/O contenders */

struct io_arg {
	dxl_file *f;          /* daxlease side */
	int fd;               /* kernel side */
	uint8_t *map;         /* memcpy sides */
	uint8_t *buf;         /* user buffer */
	size_t len;
	const uint64_t *offs; /* NOFFS random aligned offsets */
	unsigned pos;
};

#define NEXT_OFF(a) ((a)->offs[(a)->pos++ & (NOFFS - 1)])
#define COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

static int dxl_pwrite_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = dxl_pwrite(a->f, a->buf, a->len, off);
		if (r != (ssize_t)a->len) {
			set_err(b, "dxl_pwrite(%zu @ %llu) = %zd: %s", a->len,
				(unsigned long long)off, r, r < 0 ? dxl_errmsg() : "short write");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int dxl_pread_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = dxl_pread(a->f, a->buf, a->len, off);
		if (r != (ssize_t)a->len) {
			set_err(b, "dxl_pread(%zu @ %llu) = %zd: %s", a->len,
				(unsigned long long)off, r, r < 0 ? dxl_errmsg() : "short read");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int sys_pwrite_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = pwrite(a->fd, a->buf, a->len, (off_t)off);
		if (r != (ssize_t)a->len) {
			int e = r < 0 ? errno : EIO;
			set_err(b, "pwrite(2) on tmpfs: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

static int sys_pread_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = pread(a->fd, a->buf, a->len, (off_t)off);
		if (r != (ssize_t)a->len) {
			int e = r < 0 ? errno : EIO;
			set_err(b, "pread(2) on tmpfs: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

static int memcpy_to_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		memcpy(a->map + NEXT_OFF(a), a->buf, a->len);
		COMPILER_BARRIER();
	}
	return 0;
}

static int memcpy_from_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		memcpy(a->buf, a->map + NEXT_OFF(a), a->len);
		COMPILER_BARRIER();
	}
	return 0;
}

/* ------------------------------------------------- test files, set-up */

struct files {
	dxl_file *f;          /* in the pool, preallocated and written */
	int kfd;              /* same size on tmpfs, preallocated and written */
	char kpath[PATH_MAX];
	char dpath[128];
};

static int write_whole_dxl(struct bench *b, dxl_file *f, uint64_t size, uint8_t *buf)
{
	for (uint64_t off = 0; off < size; off += MiB) {
		ssize_t r = dxl_pwrite(f, buf, MiB, off);
		if (r != (ssize_t)MiB) {
			set_err(b, "filling the pool file: dxl_pwrite = %zd: %s", r,
				r < 0 ? dxl_errmsg() : "short write");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int write_whole_fd(struct bench *b, int fd, uint64_t size, uint8_t *buf, const char *what)
{
	for (uint64_t off = 0; off < size; off += MiB) {
		if (pwrite(fd, buf, MiB, (off_t)off) != (ssize_t)MiB) {
			set_err(b, "filling %s: %s", what, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* One file in the pool and one on tmpfs, both `size` bytes, allocated and
 * written once so that no figure pays for first touches. */
static int files_open(struct bench *b, struct files *fl, const char *tag, uint8_t *mib_buf)
{
	int rc;
	fl->f = NULL;
	fl->kfd = -1;
	snprintf(fl->dpath, sizeof(fl->dpath), "%s/%s", b->pool_dir, tag);
	rc = dxl_open(b->pool, fl->dpath, O_RDWR | O_CREAT | O_TRUNC, 0644, &fl->f);
	if (rc < 0) {
		set_err(b, "dxl_open(%s): %s", fl->dpath, dxl_errmsg());
		return rc;
	}
	rc = dxl_fallocate(fl->f, 0, 0, b->file_size);
	if (rc < 0) {
		set_err(b, "dxl_fallocate(%s, %llu): %s", fl->dpath,
			(unsigned long long)b->file_size, dxl_errmsg());
		return rc;
	}
	if ((rc = write_whole_dxl(b, fl->f, b->file_size, mib_buf)) < 0)
		return rc;

	snprintf(fl->kpath, sizeof(fl->kpath), "%s/daxlease-bench-%d.%s", b->kdir, (int)getpid(),
		 tag);
	fl->kfd = open(fl->kpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fl->kfd < 0) {
		set_err(b, "open(%s): %s", fl->kpath, strerror(errno));
		return -errno;
	}
	cleanup_add(fl->kpath, false);
	if (fallocate(fl->kfd, 0, 0, (off_t)b->file_size) != 0 &&
	    ftruncate(fl->kfd, (off_t)b->file_size) != 0) {
		set_err(b, "preallocating %s: %s", fl->kpath, strerror(errno));
		return -errno;
	}
	return write_whole_fd(b, fl->kfd, b->file_size, mib_buf, fl->kpath);
}

static void files_close(struct bench *b, struct files *fl)
{
	if (fl->f) {
		dxl_close(fl->f);
		dxl_unlink(b->pool, fl->dpath);
		fl->f = NULL;
	}
	if (fl->kfd >= 0) {
		close(fl->kfd);
		unlink(fl->kpath);
		fl->kfd = -1;
	}
}

/* An mmap of a file, or anonymous memory (path NULL), written once. */
static uint8_t *map_buffer(struct bench *b, const char *path, uint64_t size)
{
	int fd = -1;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	if (path) {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			set_err(b, "open(%s): %s", path, strerror(errno));
			return NULL;
		}
		cleanup_add(path, false);
		if (fallocate(fd, 0, 0, (off_t)size) != 0 && ftruncate(fd, (off_t)size) != 0) {
			set_err(b, "sizing %s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		flags = MAP_SHARED;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		set_err(b, "mmap(%s, %llu): %s", path ? path : "anonymous",
			(unsigned long long)size, strerror(errno));
		return NULL;
	}
	memset(p, 0x5a, size); /* fault every page in now, not in the timing */
	return p;
}

/* ------------------------------------------------------ figure 1: 4 KiB */

void fig_4k(struct bench *b)
{
	bool want_w = selected(b, "pwrite_4k", "4k"), want_r = selected(b, "pread_4k", "4k");
	if (!want_w && !want_r)
		return;
	note("4 KiB pwrite/pread at random aligned offsets in a %llu MiB file: daxlease vs tmpfs",
	     (unsigned long long)(b->file_size / MiB));
	b->err[0] = '\0';

	static uint64_t offs[NOFFS];
	uint8_t *mib_buf = malloc(MiB);
	uint8_t *buf = aligned_alloc(4096, 4096);
	struct files fl = {.kfd = -1};
	uint64_t iters = 0;
	int rc = -ENOMEM;
	if (!mib_buf || !buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(mib_buf, MiB);
	fill_random(buf, 4096);
	fill_offsets(offs, b->file_size, 4096);
	if ((rc = files_open(b, &fl, "4k", mib_buf)) < 0)
		goto out;

	/* A check that the daxlease side really does the work. */
	{
		static const uint64_t probe = 12345 * 4096;
		uint8_t *chk = malloc(4096);
		uint64_t off = probe % b->file_size;
		if (chk && dxl_pwrite(fl.f, buf, 4096, off) == 4096 &&
		    dxl_pread(fl.f, chk, 4096, off) == 4096 && memcmp(chk, buf, 4096) != 0)
			set_err(b, "dxl_pread does not return what dxl_pwrite wrote");
		free(chk);
	}

	struct io_arg ad = {.f = fl.f, .fd = -1, .buf = buf, .len = 4096, .offs = offs};
	struct io_arg ak = {.fd = fl.kfd, .buf = buf, .len = 4096, .offs = offs};

	for (int pass = 0; pass < 2; pass++) {
		bool w = pass == 0;
		if (w ? !want_w : !want_r)
			continue;
		const char *name = w ? "pwrite_4k" : "pread_4k";
		note("%s", name);
		struct side s[2] = {
			{.name = w ? "dxl_pwrite" : "dxl_pread",
			 .fn = w ? dxl_pwrite_batch : dxl_pread_batch, .arg = &ad},
			{.name = w ? "pwrite(2)" : "pread(2)",
			 .fn = w ? sys_pwrite_batch : sys_pread_batch, .arg = &ak},
		};
		rc = run_sides(b, s, 2, 3000, &iters);
		struct jline j;
		double ratio = rc == 0 ? s[1].med / s[0].med : 0;
		j_begin(&j, name);
		if (rc == 0) {
			j_vs_kernel(&j, &s[0], &s[1]);
			j_num(&j, "ratio", ratio, 3);
		}
		j_target(&j, b, rc == 0, ">=2x faster than tmpfs", ratio >= 2.0);
		j_common(&j, b, iters, b->o.rounds);
		j_end(&j);
		if (rc < 0)
			break;
	}
	rc = 0;
out:
	if (rc < 0) {
		/* Set-up failed: still print a line per selected figure. */
		if (want_w)
			j_unmeasured(b, "pwrite_4k", ">=2x faster than tmpfs");
		if (want_r)
			j_unmeasured(b, "pread_4k", ">=2x faster than tmpfs");
	}
	files_close(b, &fl);
	free(mib_buf);
	free(buf);
}

/* ------------------------------------------------------ figure 2: 1 MiB */

void fig_1m(struct bench *b)
{
	bool want_w = selected(b, "pwrite_1m", "1m"), want_r = selected(b, "pread_1m", "1m");
	if (!want_w && !want_r)
		return;
	note("1 MiB pwrite/pread in a %llu MiB file: daxlease vs tmpfs vs memcpy",
	     (unsigned long long)(b->file_size / MiB));
	b->err[0] = '\0';

	static uint64_t offs[NOFFS];
	char mpath[PATH_MAX + 64];
	uint8_t *buf = aligned_alloc(4096, MiB);
	uint8_t *shared = NULL, *anon = NULL;
	struct files fl = {.kfd = -1};
	uint64_t iters = 0;
	int rc = -ENOMEM;

	snprintf(mpath, sizeof(mpath), "%s/daxlease-bench-%d.map", b->host_dir, (int)getpid());
	if (!buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(buf, MiB);
	fill_offsets(offs, b->file_size, MiB);
	if ((rc = files_open(b, &fl, "1m", buf)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(shared = map_buffer(b, mpath, b->file_size)))
		goto out;
	if (!(anon = map_buffer(b, NULL, b->file_size)))
		goto out;

	struct io_arg ad = {.f = fl.f, .fd = -1, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg ak = {.fd = fl.kfd, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg am = {.fd = -1, .map = shared, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg aa = {.fd = -1, .map = anon, .buf = buf, .len = MiB, .offs = offs};

	for (int pass = 0; pass < 2; pass++) {
		bool w = pass == 0;
		if (w ? !want_w : !want_r)
			continue;
		const char *name = w ? "pwrite_1m" : "pread_1m";
		note("%s", name);
		struct side s[4] = {
			{.name = w ? "dxl_pwrite" : "dxl_pread",
			 .fn = w ? dxl_pwrite_batch : dxl_pread_batch, .arg = &ad},
			{.name = w ? "pwrite(2)" : "pread(2)",
			 .fn = w ? sys_pwrite_batch : sys_pread_batch, .arg = &ak},
			{.name = "memcpy shared",
			 .fn = w ? memcpy_to_batch : memcpy_from_batch, .arg = &am},
			{.name = "memcpy anon",
			 .fn = w ? memcpy_to_batch : memcpy_from_batch, .arg = &aa},
		};
		rc = run_sides(b, s, 4, 300, &iters);
		const char *target = w ? ">=0.8x memcpy bandwidth (shared mapping)"
				       : ">=0.8x memcpy bandwidth (shared mapping; informational, "
					 "issue 2 sets no pread_1m target)";
		struct jline j;
		double ratio = rc == 0 ? s[2].med / s[0].med : 0;
		j_begin(&j, name);
		if (rc == 0) {
			double gb = (double)MiB; /* bytes/ns == GB/s */
			j_num(&j, "daxlease_ns", s[0].med, 1);
			j_num(&j, "kernel_ns", s[1].med, 1);
			j_num(&j, "memcpy_ns", s[2].med, 1);
			j_num(&j, "memcpy_anon_ns", s[3].med, 1);
			j_num(&j, "daxlease_min_ns", s[0].min, 1);
			j_num(&j, "memcpy_min_ns", s[2].min, 1);
			j_num(&j, "daxlease_gbps", gb / s[0].med, 2);
			j_num(&j, "kernel_gbps", gb / s[1].med, 2);
			j_num(&j, "memcpy_gbps", gb / s[2].med, 2);
			j_num(&j, "memcpy_anon_gbps", gb / s[3].med, 2);
			j_num(&j, "ratio", ratio, 3);
			j_num(&j, "kernel_ratio", s[1].med / s[0].med, 3);
		}
		j_target(&j, b, rc == 0, target, ratio >= 0.8);
		j_str(&j, "memcpy_file", mpath);
		j_common(&j, b, iters, b->o.rounds);
		j_end(&j);
		if (rc < 0)
			break;
	}
	rc = 0;
out:
	if (rc < 0) {
		if (want_w)
			j_unmeasured(b, "pwrite_1m", ">=0.8x memcpy bandwidth (shared mapping)");
		if (want_r)
			j_unmeasured(b, "pread_1m", ">=0.8x memcpy bandwidth (shared mapping)");
	}
	if (shared)
		munmap(shared, b->file_size);
	if (anon)
		munmap(anon, b->file_size);
	unlink(mpath);
	files_close(b, &fl);
	free(buf);
}
