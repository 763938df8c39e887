/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public calls that change a file's layout, and the pool's open and
 * close: above fs and map both.
 *
 * A write that allocates, a truncate, a fallocate, a reflink or an open
 * with O_TRUNC is done by fs (dxl_fs_*), which tells other processes'
 * mappings by event and counts the change in fs->own_layout_changes.  This
 * process's own plain mappings of the file must follow before the call
 * returns — a program that reflinks onto a file it has mapped reads the
 * new data through the mapping at once — so the call here runs the fs
 * half and then, if the count moved, makes them follow.  fs calls nothing
 * above it.
 *
 * Doing it after the fs half has let go of its locks leaves no hole: a
 * plain mapping pins what its pages reach, so until it follows, its old
 * units stay in quarantine and are reached through no other file.
 */
#include <stdlib.h>

#include "map.h"

void dxl_map_follow_own(struct dxl_fs *fs, uint64_t ino, uint64_t before)
{
	if (ino == 0 || dxl_fs_own_changes(fs) == before ||
	    !__atomic_load_n(&fs->map_state, __ATOMIC_ACQUIRE))
		return;
	if (dxl_fs_lock_ino(fs, ino) == 0) {
		dxl_map_layout_changed(fs, ino);
		dxl_fs_unlock_ino(fs, ino);
	}
}

int dxl_pool_open(const char *path, unsigned flags, dxl_pool **out)
{
	dxl_pool *pool;
	int rc;

	dxl_err_clear();
	if (!out)
		return dxl_err(EINVAL, "pool open: no place for the handle");
	*out = NULL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return dxl_err(ENOMEM, "pool open: out of memory");
	rc = dxl_fs_open(&pool->fs, path, (flags & DXL_POOL_RDONLY) ? DXL_FS_RDONLY : 0);
	if (rc) {
		free(pool);
		return rc;
	}
	*out = pool;
	return 0;
}

int dxl_pool_close(dxl_pool *pool)
{
	dxl_err_clear();
	if (!pool)
		return 0;
	/* mappings and lease handles first: they hold the pool's pins and
	 * leases, which dxl_fs_close then drops (it sees a fork itself) */
	dxl_map_fini(&pool->fs);
	int rc = dxl_fs_close(&pool->fs);
	free(pool);
	return rc;
}

int dxl_open(dxl_pool *pool, const char *path, int flags, mode_t mode, dxl_file **out)
{
	uint64_t before;
	int rc;

	if (!pool)
		return dxl_fs_open_file(pool, path, flags, mode, out);
	before = dxl_fs_own_changes(&pool->fs);
	rc = dxl_fs_open_file(pool, path, flags, mode, out);
	if (rc == 0)
		dxl_map_follow_own(&pool->fs, (*out)->ino, before);
	return rc;
}

ssize_t dxl_pwrite(dxl_file *f, const void *buf, size_t len, uint64_t off)
{
	uint64_t before;
	ssize_t n;

	if (!f || !f->pool)
		return dxl_fs_pwrite(f, buf, len, off);
	before = dxl_fs_own_changes(&f->pool->fs);
	n = dxl_fs_pwrite(f, buf, len, off);
	dxl_map_follow_own(&f->pool->fs, f->ino, before);
	return n;
}

int dxl_ftruncate(dxl_file *f, uint64_t size)
{
	uint64_t before;
	int rc;

	if (!f || !f->pool)
		return dxl_fs_ftruncate(f, size);
	before = dxl_fs_own_changes(&f->pool->fs);
	rc = dxl_fs_ftruncate(f, size);
	dxl_map_follow_own(&f->pool->fs, f->ino, before);
	return rc;
}

int dxl_truncate(dxl_pool *pool, const char *path, uint64_t size)
{
	uint64_t before, ino = 0;
	int rc;

	if (!pool)
		return dxl_fs_truncate(pool, path, size, &ino);
	before = dxl_fs_own_changes(&pool->fs);
	rc = dxl_fs_truncate(pool, path, size, &ino);
	dxl_map_follow_own(&pool->fs, ino, before);
	return rc;
}

int dxl_fallocate(dxl_file *f, int mode, uint64_t off, uint64_t len)
{
	uint64_t before;
	int rc;

	if (!f || !f->pool)
		return dxl_fs_fallocate(f, mode, off, len);
	before = dxl_fs_own_changes(&f->pool->fs);
	rc = dxl_fs_fallocate(f, mode, off, len);
	dxl_map_follow_own(&f->pool->fs, f->ino, before);
	return rc;
}

int dxl_reflink(dxl_file *src, uint64_t src_off, dxl_file *dst, uint64_t dst_off, uint64_t len)
{
	uint64_t before;
	int rc;

	if (!dst || !dst->pool)
		return dxl_fs_reflink(src, src_off, dst, dst_off, len);
	before = dxl_fs_own_changes(&dst->pool->fs);
	rc = dxl_fs_reflink(src, src_off, dst, dst_off, len);
	dxl_map_follow_own(&dst->pool->fs, dst->ino, before);
	return rc;
}
