/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files: open and close, fsync/fdatasync, fstat, and the handle's view of
 * its inode (checked at most once per metadata change of the pool).
 * Reads and writes are in file_io.c, size and space (truncate, fallocate,
 * what a pin or a mapping prepares) in file_space.c, reflink in
 * reflink.c; what they share is in file_int.h.
 *
 * A data write's mtime reaches the inode once per clock tick (file_io.c,
 * write_time); one that could not be committed then waits in the handle
 * for close and fsync to write back.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "file_int.h"

/* Nothing was committed or replayed since the inode last passed its
 * check: the bytes are the ones checked. */
static int inode_fresh(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in)
{
	uint64_t now = __atomic_load_n(fs->j.changes, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&f->checked_at, __ATOMIC_RELAXED) != now + 1)
		return 0;
	*in = dxl_blk_ptr(fs, f->ino);
	return 1;
}

int dxl_file_inode(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in)
{
	uint64_t now = __atomic_load_n(fs->j.changes, __ATOMIC_ACQUIRE);
	int rc;

	if (inode_fresh(fs, f, in))
		return 0;
	rc = dxl_inode_read(fs, NULL, f->ino, in);
	if (rc == 0) /* +1: 0 means never checked */
		__atomic_store_n(&f->checked_at, now + 1, __ATOMIC_RELAXED);
	return rc;
}

/*
 * The same without the metadata lock held (the inode lock, or none).
 * Only the checksum needs the metadata lock: another file's transaction
 * (a link, an unlink, a rename over it) rewrites this inode's block
 * under that lock alone, though never the size or the extent root that
 * the caller reads.
 */
int dxl_file_inode_unlocked(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in)
{
	int rc;

	if (dxl_likely(inode_fresh(fs, f, in)))
		return 0;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_file_inode(fs, f, in);
	dxl_fs_unlock(fs);
	return rc;
}

/* ------------------------------------------------------------------ open */

static int path_is_root(const char *path)
{
	while (*path == '/')
		path++;
	return *path == '\0';
}

int dxl_fs_open_file(dxl_pool *pool, const char *path, int flags, mode_t mode, dxl_file **out)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in = NULL;
	dxl_file *f;
	uint64_t ino = 0;
	int rc, created = 0, ilocked = 0;
	int wr = (flags & O_ACCMODE) != O_RDONLY;

	dxl_err_clear();
	if (!pool || !path || !out)
		return dxl_err(EINVAL, "open: bad argument");
	*out = NULL;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return dxl_err(EINVAL, "open %s: bad access mode", path);
	fs = &pool->fs;
	if (wr && fs->rdonly)
		return dxl_err(EROFS, "open %s: pool is open read-only", path);
	f = calloc(1, sizeof(*f));
	if (!f)
		return dxl_err(ENOMEM, "open %s: out of memory", path);
	rc = dxl_fs_lock(fs);
	if (rc) {
		free(f);
		return rc;
	}
	if ((flags & O_CREAT) && !path_is_root(path)) {
		uint64_t dir;
		const char *name;
		size_t nlen;
		uint32_t type;

		rc = dxl_namei_parent(fs, NULL, path, &dir, &name, &nlen);
		if (rc)
			goto out;
		rc = dxl_dir_lookup(fs, NULL, dir, name, nlen, &ino, &type);
		if (rc == 0 && (flags & O_EXCL)) {
			rc = dxl_err(EEXIST, "open %s: file exists", path);
			goto out;
		}
		if (rc == 0 && type == DT_LNK)
			rc = dxl_namei(fs, NULL, path, 1, &ino);
		if (rc == -ENOENT && ino == 0) {
			struct dxl_tx *tx;
			struct dxl_inode *nin, *din;

			if (fs->rdonly) {
				rc = dxl_err(EROFS, "open %s: pool is open read-only", path);
				goto out;
			}
			dxl_err_clear();
			tx = dxl_tx_begin(&fs->j);
			rc = dxl_inode_alloc(fs, tx, S_IFREG | (mode & 07777), fs->uid, fs->gid,
					     dir, &nin);
			if (rc == 0) {
				nin->nlink = 1;
				ino = nin->ino;
				rc = dxl_dir_add(fs, tx, dir, name, nlen, ino, DT_REG);
			}
			if (rc == 0)
				rc = dxl_inode_write(fs, tx, dir, &din);
			if (rc == 0) {
				din->mtime_ns = din->ctime_ns = dxl_now_ns();
				rc = dxl_tx_commit(tx);
			} else {
				dxl_tx_abort(tx);
			}
			created = rc == 0;
		}
		if (rc)
			goto out;
	} else {
		rc = dxl_namei(fs, NULL, path, 1, &ino);
		if (rc)
			goto out;
	}
	rc = dxl_inode_read(fs, NULL, ino, &in);
	if (rc)
		goto out;
	if (S_ISDIR(in->mode)) {
		rc = dxl_err(EISDIR, "open %s: is a directory (use dxl_opendir)", path);
		goto out;
	}
	if (!S_ISREG(in->mode)) {
		rc = dxl_err(EINVAL, "open %s: a %s, not a regular file (the library reads and writes "
				     "regular files only)", path,
			     S_ISFIFO(in->mode) ? "FIFO" : S_ISSOCK(in->mode) ? "socket" :
			     S_ISCHR(in->mode) ? "character device" : S_ISBLK(in->mode) ? "block device" :
			     "special file");
		goto out;
	}
	/* open before truncating: the truncate may drop the lock, and an
	 * unlink meanwhile must not free the file under it */
	rc = dxl_inode_open_get(fs, ino);
	if (rc)
		goto out;
	if ((flags & O_TRUNC) && wr && !created && in->size > 0) {
		rc = dxl_ilock_under(fs, ino);
		if (rc >= 0) {
			ilocked = 1;
			rc = dxl_file_truncate(fs, ino, 0, !!(flags & O_NONBLOCK));
		}
		if (rc) {
			dxl_inode_open_put(fs, ino);
			dxl_inode_reap(fs, ino);
			goto out;
		}
	}
	f->pool = pool;
	f->ino = ino;
	f->flags = flags;
	snprintf(f->path, sizeof(f->path), "%s", path);
	*out = f;
out:
	dxl_fs_unlock(fs);
	if (ilocked)
		dxl_iunlock(fs, ino);
	if (rc)
		free(f);
	return rc;
}

int dxl_file_raise_mtime(struct dxl_fs *fs, uint64_t ino, int64_t t)
{
	struct dxl_inode *in;
	struct dxl_tx *tx = dxl_tx_begin(&fs->j);
	int rc = dxl_inode_write(fs, tx, ino, &in);

	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	if (t > in->mtime_ns)
		in->mtime_ns = in->ctime_ns = t;
	return dxl_tx_commit(tx);
}

/* Write back a time waiting in the handle: a write whose stamp could not
 * be committed at once (file_io.c, write_time) leaves it for close and
 * fsync. */
static int flush_times(struct dxl_fs *fs, dxl_file *f)
{
	int64_t t = __atomic_load_n(&f->pending_mtime, __ATOMIC_RELAXED);
	int rc;

	if (!t)
		return 0;
	rc = dxl_file_raise_mtime(fs, f->ino, t);
	if (rc == 0) /* unless a write of another thread set a newer one */
		__atomic_compare_exchange_n(&f->pending_mtime, &t, 0, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	return rc;
}

int dxl_close(dxl_file *f)
{
	struct dxl_fs *fs;
	int rc, rc2;

	dxl_err_clear();
	if (!f)
		return 0;
	if (!f->pool) {
		free(f);
		return dxl_err(EBADF, "close: bad file handle");
	}
	fs = &f->pool->fs;
	if (dxl_fs_inherited(fs)) {
		free(f); /* the child's copy: the parent flushes its own times */
		return 0;
	}
	rc = dxl_fs_lock_ino(fs, f->ino);
	if (rc) {
		free(f);
		return rc;
	}
	rc = fs->rdonly ? 0 : flush_times(fs, f);
	dxl_inode_open_put(fs, f->ino);
	rc2 = dxl_inode_reap(fs, f->ino);
	dxl_fs_unlock_ino(fs, f->ino);
	free(f);
	return rc ? rc : rc2;
}

/* ------------------------------------------------------------------ sync, stat */

static int do_sync(dxl_file *f)
{
	struct dxl_fs *fs;
	int rc = file_ok(f);

	if (rc)
		return rc;
	fs = &f->pool->fs;
	rc = dxl_fs_lock_ino(fs, f->ino);
	if (rc)
		return rc;
	if (!fs->rdonly)
		rc = flush_times(fs, f);
	dxl_pmem_drain(&fs->pm);
	if (rc == 0)
		rc = dxl_pmem_sync(&fs->pm, 0, fs->pm.size);
	dxl_fs_unlock_ino(fs, f->ino);
	return rc;
}

int dxl_fsync(dxl_file *f)
{
	dxl_err_clear();
	return do_sync(f);
}

int dxl_fdatasync(dxl_file *f)
{
	dxl_err_clear();
	return do_sync(f);
}

int(dxl_fstat)(dxl_file *f, struct dxl_stat *user_st, size_t st_size)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in = NULL;
	struct dxl_stat full, *st = &full;
	int rc = file_ok(f);

	if (rc)
		return rc;
	if (!user_st)
		return dxl_err(EINVAL, "fstat: no stat buffer");
	if ((rc = dxl_struct_size_ok(st_size, DXL_STAT_SIZE_VER0, "fstat")))
		return rc;
	fs = &f->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_file_inode(fs, f, &in);
	if (rc == 0) {
		int64_t t = __atomic_load_n(&f->pending_mtime, __ATOMIC_RELAXED);

		dxl_inode_to_stat(fs, in, st);
		if (t > in->mtime_ns) {
			st->mtime.tv_sec = (time_t)(t / 1000000000LL);
			st->mtime.tv_nsec = (long)(t % 1000000000LL);
			st->ctime = st->mtime;
		}
	}
	dxl_fs_unlock(fs);
	if (rc == 0)
		dxl_struct_out(user_st, st_size, &full, sizeof(full));
	return rc;
}
