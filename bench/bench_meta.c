/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metadata figures of `daxlease bench` (group "cwu"): open(O_CREAT|
 * O_EXCL) + a 4 KiB write + close + unlink of a fresh name, with the
 * journal on — create_4k_unlink against tmpfs, in the bench's pool;
 * create_4k_unlink_disk on the local disk: a pool file there (the
 * embedded default: every commit msyncs) against the disk's own file
 * system with the same durability (fsync of the file and the directory
 * after each step).  Harness and conventions:
 * bench_harness.c; see docs/bench.md.
 */
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------- figure 3: create + write + close + unlink */

struct cwu_arg {
	dxl_pool *pool;
	const char *dir;  /* in the pool */
	int dfd;          /* kernel: the tmpfs directory */
	uint8_t *buf;
	uint64_t seq;
};

static int dxl_cwu_batch(struct bench *b, void *arg, uint64_t n)
{
	struct cwu_arg *a = arg;
	char path[192];
	for (uint64_t i = 0; i < n; i++) {
		dxl_file *f;
		snprintf(path, sizeof(path), "%s/f%llu", a->dir, (unsigned long long)a->seq++);
		int rc = dxl_open(a->pool, path, O_RDWR | O_CREAT | O_EXCL, 0644, &f);
		if (rc < 0) {
			set_err(b, "dxl_open(%s, O_CREAT|O_EXCL): %s", path, dxl_errmsg());
			return rc;
		}
		ssize_t w = dxl_pwrite(f, a->buf, 4096, 0);
		if (w != 4096) {
			set_err(b, "dxl_pwrite(%s): %s", path, w < 0 ? dxl_errmsg() : "short");
			dxl_close(f);
			return w < 0 ? (int)w : -EIO;
		}
		if ((rc = dxl_close(f)) < 0) {
			set_err(b, "dxl_close(%s): %s", path, dxl_errmsg());
			return rc;
		}
		if ((rc = dxl_unlink(a->pool, path)) < 0) {
			set_err(b, "dxl_unlink(%s): %s", path, dxl_errmsg());
			return rc;
		}
	}
	return 0;
}

static int sys_cwu_batch(struct bench *b, void *arg, uint64_t n)
{
	struct cwu_arg *a = arg;
	char name[32];
	for (uint64_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)a->seq++);
		int fd = openat(a->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			set_err(b, "openat(%s) on tmpfs: %s", name, strerror(errno));
			return -errno;
		}
		if (write(fd, a->buf, 4096) != 4096) {
			int e = errno ? errno : EIO;
			set_err(b, "write(2) on tmpfs: %s", strerror(e));
			close(fd);
			return -e;
		}
		if (close(fd) != 0 || unlinkat(a->dfd, name, 0) != 0) {
			set_err(b, "close/unlink on tmpfs: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* The kernel side's directory: made, registered for clean-up, opened. */
static int kernel_dir(struct bench *b, const char *kd, bool *made, int *dfd)
{
	int e;

	if (mkdir(kd, 0700) != 0) {
		e = errno;
		set_err(b, "mkdir(%s): %s", kd, strerror(e));
		return -e;
	}
	*made = true;
	cleanup_add(kd, true);
	if ((*dfd = open(kd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		set_err(b, "open(%s): %s", kd, strerror(e));
		return -e;
	}
	return 0;
}

/* The figure's line: rates and ratio (daxlease's rate over the other's). */
static void cwu_line(struct bench *b, const char *name, const char *target, int rc,
		     const struct side *s, uint64_t iters, const char *dir, const char *fsname)
{
	struct jline j;
	double ratio = rc == 0 ? s[1].med / s[0].med : 0;

	j_begin(&j, name);
	if (rc == 0) {
		j_vs_kernel(&j, &s[0], &s[1]);
		j_num(&j, "daxlease_ops_s", 1e9 / s[0].med, 0);
		j_num(&j, "kernel_ops_s", 1e9 / s[1].med, 0);
		j_num(&j, "ratio", ratio, 3);
	}
	if (dir) {
		j_str(&j, "dir", dir);
		j_str(&j, "disk_fs", fsname);
	}
	j_target(&j, b, rc == 0, target, ratio >= 1.0);
	j_common(&j, b, iters, b->o.rounds);
	j_end(&j);
}

/* Each step durable before the next, as each daxlease call is: fsync of
 * the directory after the create and the unlink, of the file after the
 * write. */
static int sys_cwu_batch_sync(struct bench *b, void *arg, uint64_t n)
{
	struct cwu_arg *a = arg;
	char name[32];
	for (uint64_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)a->seq++);
		int fd = openat(a->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || fsync(a->dfd) != 0) {
			set_err(b, "openat(%s)/fsync on disk: %s", name, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		if (write(fd, a->buf, 4096) != 4096 || fsync(fd) != 0) {
			set_err(b, "write/fsync on disk: %s", strerror(errno ? errno : EIO));
			close(fd);
			return -EIO;
		}
		if (close(fd) != 0 || unlinkat(a->dfd, name, 0) != 0 || fsync(a->dfd) != 0) {
			set_err(b, "close/unlink/fsync on disk: %s", strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

void fig_cwu_disk(struct bench *b)
{
	static const char *const target = ">=1x the disk file system's rate, same durability";
	if (!selected(b, "create_4k_unlink_disk", "cwu"))
		return;
	b->err[0] = '\0';
	const char *dir = b->o.scale_dir ? b->o.scale_dir : "/var/tmp";
	char pool_path[PATH_MAX], kd[PATH_MAX], fsname[64] = "?";
	uint8_t *buf = aligned_alloc(4096, 4096);
	struct dxl_mkfs_opts mo = {.size = 64u << 20, .unit = 4096};
	dxl_pool *pool = NULL;
	uint64_t iters = 0;
	int rc = -ENOMEM, dfd = -1;
	bool made_kd = false, made_pool = false;
	struct side s[2];

	snprintf(pool_path, sizeof(pool_path), "%s/daxlease-bench-%d.cwu.pool", dir, (int)getpid());
	snprintf(kd, sizeof(kd), "%s/daxlease-bench-%d.cwu.d", dir, (int)getpid());
	fs_name_of(dir, fsname, sizeof(fsname));
	note("create_4k_unlink_disk: the same in a pool file in %s (%s: every commit msyncs) vs "
	     "%s itself with fsync of the file and the directory after each step", dir, fsname,
	     fsname);
	if (!buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(buf, 4096);
	if ((rc = dxl_mkfs(pool_path, &mo)) < 0) {
		set_err(b, "dxl_mkfs(%s): %s", pool_path, dxl_errmsg());
		goto out;
	}
	made_pool = true;
	cleanup_add(pool_path, false);
	if ((rc = dxl_pool_open(pool_path, 0, &pool)) < 0) {
		set_err(b, "dxl_pool_open(%s): %s", pool_path, dxl_errmsg());
		goto out;
	}
	if ((rc = kernel_dir(b, kd, &made_kd, &dfd)) < 0)
		goto out;
	struct cwu_arg ad = {.pool = pool, .dir = "", .dfd = -1, .buf = buf};
	struct cwu_arg ak = {.dfd = dfd, .buf = buf};
	s[0] = (struct side){.name = "daxlease", .fn = dxl_cwu_batch, .arg = &ad};
	s[1] = (struct side){.name = fsname, .fn = sys_cwu_batch_sync, .arg = &ak};
	rc = run_sides(b, s, 2, 50, &iters);
out:
	cwu_line(b, "create_4k_unlink_disk", target, rc, s, iters, dir, fsname);
	if (dfd >= 0)
		close(dfd);
	if (made_kd)
		rmdir(kd);
	if (pool)
		dxl_pool_close(pool);
	if (made_pool)
		unlink(pool_path);
	free(buf);
}

void fig_cwu(struct bench *b)
{
	if (!selected(b, "create_4k_unlink", "cwu"))
		return;
	note("create_4k_unlink: open(O_CREAT|O_EXCL) + 4 KiB write + close + unlink: "
	     "daxlease vs tmpfs");
	b->err[0] = '\0';
	char ddir[128], kd[PATH_MAX + 64];
	uint8_t *buf = aligned_alloc(4096, 4096);
	uint64_t iters = 0;
	int rc = -ENOMEM, dfd = -1;
	bool made_ddir = false, made_kd = false;
	struct side s[2];

	snprintf(ddir, sizeof(ddir), "%s/cwu", b->pool_dir);
	snprintf(kd, sizeof(kd), "%s/daxlease-bench-%d.d", b->kdir, (int)getpid());
	if (!buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(buf, 4096);
	if ((rc = dxl_mkdir(b->pool, ddir, 0755)) < 0) {
		set_err(b, "dxl_mkdir(%s): %s", ddir, dxl_errmsg());
		goto out;
	}
	made_ddir = true;
	if ((rc = kernel_dir(b, kd, &made_kd, &dfd)) < 0)
		goto out;
	struct cwu_arg ad = {.pool = b->pool, .dir = ddir, .dfd = -1, .buf = buf};
	struct cwu_arg ak = {.dfd = dfd, .buf = buf};
	s[0] = (struct side){.name = "daxlease", .fn = dxl_cwu_batch, .arg = &ad};
	s[1] = (struct side){.name = "tmpfs", .fn = sys_cwu_batch, .arg = &ak};
	rc = run_sides(b, s, 2, 600, &iters);
out:
	cwu_line(b, "create_4k_unlink", ">=1x tmpfs rate (journal on)", rc, s, iters, NULL, NULL);
	if (dfd >= 0)
		close(dfd);
	if (made_kd)
		rmdir(kd);
	if (made_ddir)
		dxl_rmdir(b->pool, ddir);
	free(buf);
}
