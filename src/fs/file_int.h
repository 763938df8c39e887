/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the file operations (file.c, file_io.c, file_space.c, reflink.c)
 * share and nothing else uses: the handle checks, unit arithmetic, the
 * end of a transaction that maps written data, and the few larger steps
 * more than one of them takes (each defined in the file that owns it).
 * Internal dxl_* functions here assume the locks that fs.h describes:
 * the metadata lock held, and the file's inode lock wherever the file's
 * size, extents or units change (dxl_ilock_check says so where they do).
 */
#ifndef DXL_FS_FILE_INT_H
#define DXL_FS_FILE_INT_H

#include <fcntl.h>

#include "fs.h"

#define DXL_MAX_FILE (1ull << 62)

static inline int file_ok(dxl_file *f)
{
	if (!f || !f->pool)
		return dxl_err(EBADF, "bad file handle");
	return 0;
}

static inline int writable(const dxl_file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY;
}

static inline int leases_exist(struct dxl_fs *fs)
{
	return dxl_lt_any(fs->rt);
}

static inline int nonblocking(const dxl_file *f)
{
	return !!(f->flags & O_NONBLOCK);
}

/* ------------------------------------------------------------------ units */

static inline uint64_t units_up(struct dxl_fs *fs, uint64_t bytes)
{
	return (bytes >> fs->unit_shift) + ((bytes & (fs->unit - 1)) != 0);
}

/* Units a byte range [pos, end) touches, starting at pos's unit. */
static inline uint64_t units_touched(struct dxl_fs *fs, uint64_t pos, uint64_t end)
{
	return ((end - 1) >> fs->unit_shift) - (pos >> fs->unit_shift) + 1;
}

/* Bytes from pos to the end of a run of n units starting at pos's unit. */
static inline uint64_t run_bytes(struct dxl_fs *fs, uint64_t pos, uint64_t n, uint64_t end)
{
	uint64_t run_end = ((pos >> fs->unit_shift) + n) << fs->unit_shift;
	if (n > (DXL_MAX_FILE >> fs->unit_shift) || run_end < pos)
		return end - pos;
	return DXL_MIN(run_end, end) - pos;
}

/* Allocation goal: right after the unit that maps the previous file unit. */
static inline uint64_t alloc_goal(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino,
				  uint64_t fu)
{
	struct dxl_map m;
	if (fu > 0 && dxl_ext_map(fs, tx, ino, fu - 1, &m) == 0 && !m.hole)
		return m.phys + 1;
	return DXL_GOAL_LOW;
}

/* ------------------------------------------------------------------ transactions */

static inline int set_times(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino,
			    uint64_t new_size, int set_size)
{
	struct dxl_inode *in;
	int rc = dxl_inode_write(fs, tx, ino, &in);

	if (rc)
		return rc;
	if (set_size)
		in->size = new_size;
	in->mtime_ns = in->ctime_ns = dxl_now_ns();
	return 0;
}

/* End a transaction that may map units this operation wrote data into:
 * on error nothing is applied; else the data is drained before the commit
 * (ordered mode: metadata never points at data that is not durable). */
static inline int tx_end(struct dxl_fs *fs, struct dxl_tx *tx, int rc)
{
	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	dxl_pmem_drain_named(&fs->pm, "data"); /* data before the metadata that maps it */
	return dxl_tx_commit(tx);
}

/* ------------------------------------------------------------------ file.c */

/* dxl_file_inode without the metadata lock held (the inode lock, or
 * none): it takes that lock only when the checksum must be verified. */
int dxl_file_inode_unlocked(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in);

/* ------------------------------------------------------------------ file_space.c */

/* Does [off, end) map a unit that may be shared (a write there would COW)? */
int dxl_file_range_has_shared(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end,
			      int *rc);
/*
 * The units behind the piece of [pos, end) that starts at pos: a hole
 * gets newly allocated units, which the caller fills or zeroes (*fresh = 1);
 * a mapped piece is made private first when private is set (a shared
 * unit is copied).  *phys and *n describe the units, *bytes the part of
 * [pos, end) they hold; *moved tells whether the layout changed.
 */
int dxl_file_piece_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t pos,
			 uint64_t end, int private, uint64_t *phys, uint64_t *n, uint64_t *bytes,
			 int *fresh, int *moved);
/* The file grows from old_size to new_size in tx: zero every mapped byte
 * of [old_size, new_size) (see the top of file_space.c). */
int dxl_file_grow_zero(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t old_size,
		       uint64_t new_size);
/* The same from ino's size as tx sees it up to end, if end lies past it
 * (a write or an allocation that grows the file, before its first piece). */
int dxl_file_grow_zero_to(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t end);
/* Truncate ino to size (both locks held: the metadata lock may be dropped
 * meanwhile to break leases, unless nonblock). */
/* One transaction: ino's mtime and ctime become t, unless they are newer
 * already (the write-time stamp, the lazy time written back at close and
 * fsync).  Metadata lock held. */
int dxl_file_raise_mtime(struct dxl_fs *fs, uint64_t ino, int64_t t);
int dxl_file_truncate(struct dxl_fs *fs, uint64_t ino, uint64_t size, int nonblock);

#endif
