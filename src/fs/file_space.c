/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A file's size and space: truncate, fallocate (allocate, zero a range,
 * punch a hole), dxl_file_prepare (what a pin or a mapping needs first),
 * and the steps the writes in file_io.c take too: the units behind a
 * piece of a write (holes filled, shared units copied) and the zeroing
 * of what a growing file brings inside EOF.
 *
 * Bytes past EOF may hold anything: old data after a truncate (whose
 * units past EOF are freed in later transactions, so a crash can leave
 * them), stores made through a mapping into the unit holding EOF.  So,
 * as XFS does (xfs_zero_eof), whatever makes a file grow zeroes the mapped
 * bytes it brings inside EOF (dxl_file_grow_zero()).  Units are zeroed when
 * allocated (as DAX file systems must: a mapping sees the media).  That
 * keeps truncate down a single metadata commit, with no data write ahead
 * of it.
 *
 * What changes a file's size, extents or units here runs with the file's
 * inode lock held as well as the metadata lock (taken in that order;
 * checked: dxl_ilock_check at each entry point that changes the file).
 */
#include <linux/falloc.h>
#include <sys/stat.h>

#include "file_int.h"

/* ------------------------------------------------------------------ units */

/*
 * Give the units from fu on private copies if they are shared.  m is fu's
 * mapping (not a hole).  On return *phys and *n describe units the caller may write in
 * place (at least one).
 */
static int cow_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu, uint64_t want,
		   const struct dxl_map *m, uint64_t *phys, uint64_t *n)
{
	uint64_t count = 0, run = 0, np = 0, got = 0;
	int rc;

	want = DXL_MIN(want, m->len);
	if (!(m->flags & DXL_EXT_SHARED)) {
		*phys = m->phys;
		*n = want;
		return 0;
	}
	/* Shared in the committed state, not as this transaction sees it: a
	 * write goes into the unit before the commit, so if an earlier piece
	 * of this transaction already copied away the other reference, the
	 * unit still backs that other place until the commit lands. */
	rc = dxl_refc_get(fs, NULL, m->phys, &count, &run);
	if (rc)
		return rc;
	want = DXL_MIN(want, DXL_MAX(run, 1));
	if (count <= 1) {
		*phys = m->phys;
		*n = want;
		return 0;
	}
	rc = dxl_unit_alloc(fs, tx, DXL_GOAL_LOW, want, &np, &got);
	if (rc)
		return rc;
	dxl_pmem_memcpy(&fs->pm, dxl_unit_ptr(fs, np), dxl_unit_ptr(fs, m->phys), got << fs->unit_shift);
	rc = dxl_ext_remove(fs, tx, ino, fu, got);
	if (rc == 0)
		rc = dxl_ext_insert(fs, tx, ino, fu, np, got, 0);
	if (rc)
		return rc == -EAGAIN ? dxl_err(E2BIG, "transaction full while unsharing") : rc;
	*phys = np;
	*n = got;
	return 0;
}

/* Allocate zeroed units for the hole at fu (m describes it), at most want. */
static int fill_hole(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu, uint64_t want,
		     const struct dxl_map *m, uint64_t *phys, uint64_t *n)
{
	uint64_t np = 0, got = 0;
	int rc;

	want = DXL_MIN(want, m->len);
	rc = dxl_unit_alloc(fs, tx, alloc_goal(fs, tx, ino, fu), want, &np, &got);
	if (rc)
		return rc;
	rc = dxl_ext_insert(fs, tx, ino, fu, np, got, 0);
	if (rc)
		return rc;
	*phys = np;
	*n = got;
	return 0;
}

/* Does [off, end) map a unit that may be shared (a write there would COW)? */
int dxl_file_range_has_shared(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end,
			      int *rc)
{
	uint64_t fu = off >> fs->unit_shift, last = (end - 1) >> fs->unit_shift;

	*rc = 0;
	while (fu <= last) {
		struct dxl_map m;
		*rc = dxl_ext_map(fs, NULL, ino, fu, &m);
		if (*rc)
			return 0;
		if (!m.hole && (m.flags & DXL_EXT_SHARED))
			return 1;
		if (m.len > last - fu)
			break;
		fu += m.len;
	}
	return 0;
}

int dxl_file_piece_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t pos,
			 uint64_t end, int private, uint64_t *phys, uint64_t *n, uint64_t *bytes,
			 int *fresh, int *moved)
{
	uint64_t fu = pos >> fs->unit_shift, want = units_touched(fs, pos, end);
	struct dxl_map m;
	int rc = dxl_ext_map(fs, tx, ino, fu, &m);

	*fresh = 0;
	if (rc)
		return rc;
	if (m.hole) {
		rc = fill_hole(fs, tx, ino, fu, want, &m, phys, n);
		*fresh = 1;
		*moved = 1;
	} else if (private) {
		rc = cow_units(fs, tx, ino, fu, want, &m, phys, n);
		*moved |= *phys != m.phys;
	} else {
		*phys = m.phys;
		*n = m.len;
	}
	if (rc == 0)
		*bytes = run_bytes(fs, pos, *n, end);
	return rc;
}

/* ------------------------------------------------------------------ truncate */

/* Zero [from, to) of file unit fu, which must lie in one unit; unshares first. */
static int zero_in_unit(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu,
			uint64_t from, uint64_t to)
{
	struct dxl_map m;
	uint64_t phys = 0, n = 0;
	int rc;

	if (from >= to)
		return 0;
	rc = dxl_ext_map(fs, tx, ino, fu, &m);
	if (rc || m.hole)
		return rc;
	rc = cow_units(fs, tx, ino, fu, 1, &m, &phys, &n);
	if (rc)
		return rc;
	dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys) + from, 0, to - from);
	return 0;
}

/* The file grows from old_size to new_size: zero every mapped byte of
 * [old_size, new_size) (see the top of this file).  Holes need nothing;
 * shared units wholly inside are unmapped rather than copied. */
int dxl_file_grow_zero(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t old_size,
		       uint64_t new_size)
{
	uint64_t umask = fs->unit - 1, fu, last;
	int rc = 0;

	if (new_size <= old_size)
		return 0;
	if (old_size & umask) {
		uint64_t to = DXL_MIN(fs->unit, (old_size & umask) + (new_size - old_size));
		rc = zero_in_unit(fs, tx, ino, old_size >> fs->unit_shift, old_size & umask, to);
		if (rc || (old_size >> fs->unit_shift) == (new_size >> fs->unit_shift))
			return rc;
	}
	/* whole units [fu, last), then the head of the unit holding new_size */
	fu = units_up(fs, old_size);
	last = new_size >> fs->unit_shift;
	while (fu < last) {
		struct dxl_map m;
		uint64_t n;

		rc = dxl_ext_map(fs, tx, ino, fu, &m);
		if (rc)
			return rc;
		n = DXL_MIN(m.len, last - fu);
		if (!m.hole) {
			if (m.flags & DXL_EXT_SHARED)
				rc = dxl_ext_remove(fs, tx, ino, fu, n);
			else
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, m.phys), 0, n << fs->unit_shift);
			if (rc)
				return rc == -EAGAIN ? dxl_err(E2BIG, "transaction full while zeroing past EOF") : rc;
		}
		fu += n;
	}
	if (new_size & umask)
		rc = zero_in_unit(fs, tx, ino, last, 0, new_size & umask);
	return rc;
}

int dxl_file_grow_zero_to(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t end)
{
	const struct dxl_inode *in = NULL;
	int rc = dxl_inode_read(fs, tx, ino, &in);

	if (rc == 0 && end > in->size)
		rc = dxl_file_grow_zero(fs, tx, ino, in->size, end);
	return rc;
}

/* Unmap whole units [fu, fu+n) in as many transactions as it takes. */
static int remove_units(struct dxl_fs *fs, uint64_t ino, uint64_t fu, uint64_t n)
{
	int rc;

	do {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		int crc;
		rc = dxl_ext_remove(fs, tx, ino, fu, n);
		if (rc && rc != -EAGAIN) {
			dxl_tx_abort(tx);
			return rc;
		}
		crc = dxl_tx_commit(tx);
		if (crc)
			return crc;
	} while (rc == -EAGAIN);
	return 0;
}

int dxl_file_truncate(struct dxl_fs *fs, uint64_t ino, uint64_t size, int nonblock)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	uint64_t old_size;
	int rc = dxl_ilock_check(fs, ino, "truncate");

	if (rc)
		return rc;
	if (size > DXL_MAX_FILE)
		return dxl_err(EFBIG, "truncate to %llu: beyond the largest file size",
			       (unsigned long long)size);
	rc = dxl_inode_read(fs, NULL, ino, &in);
	if (rc == 0 && size < in->size) {
		rc = dxl_fs_break(fs, ino, size, UINT64_MAX, nonblock, 0);
		if (rc == 0)
			rc = dxl_inode_read(fs, NULL, ino, &in);
	}
	if (rc)
		return rc;
	if (!S_ISREG(in->mode))
		return dxl_err(S_ISDIR(in->mode) ? EISDIR : EINVAL, "truncate: not a regular file");
	rc = dxl_file_drop_privs(fs, ino); /* even to the same size, as the kernel */
	if (rc)
		return rc;
	if (size == in->size)
		return 0;
	old_size = in->size;
	tx = dxl_tx_begin(&fs->j);
	if (size > old_size) {
		rc = dxl_file_grow_zero(fs, tx, ino, old_size, size);
		if (rc == 0)
			rc = set_times(fs, tx, ino, size, 1);
		rc = tx_end(fs, tx, rc);
		dxl_fs_layout_changed(fs, ino, old_size, UINT64_MAX);
		return rc;
	}
	/*
	 * Shrinking is one transaction — new size, the cut unit, the units
	 * past the new EOF — so a crash shows the file before or after,
	 * never a size without its extents (the crash-state explorer checks
	 * this).  The cut unit's tail must read zeros past EOF (a mapping's
	 * last page, POSIX): a shared cut unit is copied inside the
	 * transaction with its tail zeroed in the private copy; an unshared
	 * one is zeroed in place only after the commit, since before it the
	 * old size still shows those bytes.
	 */
	uint64_t cut = 0, cut_phys = 0;
	if (size & (fs->unit - 1)) {
		struct dxl_map m;
		uint64_t phys = 0, n = 0;
		rc = dxl_ext_map(fs, tx, ino, size >> fs->unit_shift, &m);
		if (rc == 0 && !m.hole)
			rc = cow_units(fs, tx, ino, size >> fs->unit_shift, 1, &m, &phys, &n);
		if (rc == 0 && !m.hole) {
			if (phys != m.phys)
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys) + (size & (fs->unit - 1)), 0,
						fs->unit - (size & (fs->unit - 1)));
			else
				cut = 1, cut_phys = phys;
		}
	}
	if (rc == 0)
		rc = set_times(fs, tx, ino, size, 1);
	int more = 0;
	if (rc == 0) {
		rc = dxl_ext_remove(fs, tx, ino, units_up(fs, size), UINT64_MAX >> fs->unit_shift);
		if (rc == -EAGAIN)
			more = 1, rc = 0;
	}
	rc = tx_end(fs, tx, rc);
	if (rc == 0 && cut) {
		dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, cut_phys) + (size & (fs->unit - 1)), 0,
				fs->unit - (size & (fs->unit - 1)));
		dxl_pmem_drain(&fs->pm);
	}
	/* More extents than one transaction holds: the rest go in further
	 * ones.  A crash in between leaves them allocated past EOF (legal,
	 * as after fallocate KEEP_SIZE, and fsck-clean), never a file that
	 * lost data it still shows. */
	if (rc == 0 && more)
		rc = remove_units(fs, ino, units_up(fs, size), UINT64_MAX >> fs->unit_shift);
	dxl_fs_layout_changed(fs, ino, size, UINT64_MAX);
	return rc;
}

int dxl_fs_ftruncate(dxl_file *f, uint64_t size)
{
	struct dxl_fs *fs;
	int rc = file_ok(f);

	if (rc)
		return rc;
	if (!writable(f))
		return dxl_err(EBADF, "truncate: file not open for writing");
	fs = &f->pool->fs;
	rc = dxl_fs_lock_ino(fs, f->ino);
	if (rc)
		return rc;
	rc = dxl_file_truncate(fs, f->ino, size, nonblocking(f));
	dxl_fs_unlock_ino(fs, f->ino);
	return rc;
}

int dxl_fs_truncate(dxl_pool *pool, const char *path, uint64_t size, uint64_t *pino)
{
	struct dxl_fs *fs;
	uint64_t ino;
	int rc;

	*pino = 0;

	dxl_err_clear();
	if (!pool || !path)
		return dxl_err(EINVAL, "truncate: bad argument");
	fs = &pool->fs;
	if (fs->rdonly)
		return dxl_err(EROFS, "truncate %s: pool is open read-only", path);
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_namei(fs, NULL, path, 1, &ino);
	/* held open meanwhile: taking the inode lock may drop the lock, and
	 * an unlink then must not free the file under us */
	if (rc == 0)
		rc = dxl_inode_open_get(fs, ino);
	if (rc == 0)
		*pino = ino;
	if (rc == 0) {
		int lrc = dxl_ilock_under(fs, ino);

		rc = lrc < 0 ? lrc : dxl_file_truncate(fs, ino, size, 0);
		dxl_inode_open_put(fs, ino);
		dxl_inode_reap(fs, ino);
		if (lrc >= 0)
			dxl_iunlock(fs, ino);
	}
	dxl_fs_unlock(fs);
	return rc;
}

/* ------------------------------------------------------------------ fallocate */

enum alloc_how {
	ALLOC_FILL,    /* fallocate: holes get zeroed units */
	ALLOC_ZERO,    /* zero range: holes allocated, mapped units zeroed (COW if shared) */
	ALLOC_PRIVATE, /* pin/map: holes allocated, shared units copied, data kept */
	ALLOC_UNSHARE, /* shared units copied, holes left alone */
};

static int alloc_range(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end,
		       enum alloc_how how, int keep_size, int tell_self)
{
	uint64_t pos = off;
	int rc = dxl_ilock_check(fs, ino, "allocation"), changed = 0;

	while (rc == 0 && pos < end) {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		const struct dxl_inode *in = NULL;

		/* growing the file: what was past EOF before must read as zeros */
		if (pos == off && !keep_size) {
			rc = dxl_file_grow_zero_to(fs, tx, ino, end);
			if (rc) {
				dxl_tx_abort(tx);
				return rc;
			}
		}
		while (pos < end && !dxl_tx_full(tx)) {
			uint64_t uoff = pos & (fs->unit - 1), phys = 0, n = 0, bytes = 0;
			int fresh;

			if (how == ALLOC_UNSHARE) {
				struct dxl_map m;
				rc = dxl_ext_map(fs, tx, ino, pos >> fs->unit_shift, &m);
				if (rc)
					break;
				if (m.hole) {
					pos += run_bytes(fs, pos, m.len, end);
					continue;
				}
			}
			rc = dxl_file_piece_units(fs, tx, ino, pos, end, how != ALLOC_FILL, &phys, &n,
						  &bytes, &fresh, &changed);
			if (rc)
				break;
			if (fresh)
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys), 0, n << fs->unit_shift);
			else if (how == ALLOC_ZERO)
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys) + uoff, 0, bytes);
			pos += bytes;
		}
		if (rc == 0)
			rc = dxl_inode_read(fs, tx, ino, &in);
		if (rc == 0 && (!keep_size || how == ALLOC_ZERO))
			rc = set_times(fs, tx, ino, (!keep_size && pos > in->size) ? pos : in->size, 1);
		rc = tx_end(fs, tx, rc);
		if (rc)
			break;
	}
	if (changed && tell_self)
		dxl_fs_layout_changed(fs, ino, off, end);
	else if (changed)
		dxl_break_notify_coherent(fs->rt, ino, off, end);
	return rc;
}

static int punch_range(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end)
{
	uint64_t first = units_up(fs, off), last = end >> fs->unit_shift; /* whole units [first, last) */
	uint64_t umask = fs->unit - 1;
	struct dxl_tx *tx;
	int rc = dxl_ilock_check(fs, ino, "punch");

	if (rc)
		return rc;
	tx = dxl_tx_begin(&fs->j);
	if ((off >> fs->unit_shift) == ((end - 1) >> fs->unit_shift)) {
		/* inside one unit */
		if ((off & umask) || (end & umask))
			rc = zero_in_unit(fs, tx, ino, off >> fs->unit_shift, off & umask,
					  (end & umask) ? (end & umask) : fs->unit);
		else
			first = off >> fs->unit_shift, last = first + 1;
	} else {
		if (off & umask)
			rc = zero_in_unit(fs, tx, ino, off >> fs->unit_shift, off & umask, fs->unit);
		if (rc == 0 && (end & umask))
			rc = zero_in_unit(fs, tx, ino, end >> fs->unit_shift, 0, end & umask);
	}
	if (rc == 0)
		rc = set_times(fs, tx, ino, 0, 0);
	/* the whole units go in the same transaction: a crash shows the hole
	 * punched or not, not half of it (unless it needs more than one) */
	int more = 0;
	if (rc == 0 && last > first) {
		rc = dxl_ext_remove(fs, tx, ino, first, last - first);
		if (rc == -EAGAIN)
			more = 1, rc = 0;
	}
	rc = tx_end(fs, tx, rc);
	if (rc == 0 && more)
		rc = remove_units(fs, ino, first, last - first);
	dxl_fs_layout_changed(fs, ino, off, end);
	return rc;
}

/*
 * Collapse range: [off, off + len) goes, what follows moves down and the
 * file shrinks by len.  Insert range: a hole of len opens at off, what
 * follows moves up and the file grows by len.  Both unit-aligned.  One
 * transaction when it fits (the usual file of a few extents); otherwise
 * each transaction leaves a consistent pool, the size changing in the
 * last (a crash in between shows the move half done, as on XFS).
 */
static int shift_range(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t len, int collapse)
{
	uint64_t fu = off >> fs->unit_shift, n = len >> fs->unit_shift;
	uint64_t cursor = collapse ? fu + n : UINT64_MAX;
	int rc = dxl_ilock_check(fs, ino, collapse ? "collapse range" : "insert range");
	int removed = !collapse, more;

	do {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		const struct dxl_inode *in = NULL;

		more = 0;
		if (rc == 0 && !removed) {
			rc = dxl_ext_remove(fs, tx, ino, fu, n);
			if (rc == 0)
				removed = 1;
		}
		if (rc == 0)
			rc = dxl_ext_shift(fs, tx, ino, collapse ? fu + n : fu, n, collapse, &cursor);
		if (rc == -EAGAIN) {
			more = 1;
			rc = 0;
		} else if (rc == 0) {
			rc = dxl_inode_read(fs, tx, ino, &in);
			if (rc == 0)
				rc = set_times(fs, tx, ino, collapse ? in->size - len : in->size + len, 1);
		}
		rc = tx_end(fs, tx, rc);
	} while (rc == 0 && more);
	dxl_fs_layout_changed(fs, ino, off, UINT64_MAX);
	return rc;
}

/* The checks collapse and insert make before anything changes. */
static int shift_check(struct dxl_fs *fs, dxl_file *f, int collapse, uint64_t off, uint64_t len)
{
	const struct dxl_inode *in;
	const char *op = collapse ? "collapse range" : "insert range";
	int rc = dxl_file_inode(fs, f, &in);

	if (rc)
		return rc;
	if ((off | len) & (fs->unit - 1))
		return dxl_err(EINVAL, "fallocate %s %llu+%llu: offset and length must be multiples "
				       "of the allocation unit (%llu)", op, (unsigned long long)off,
			       (unsigned long long)len, (unsigned long long)fs->unit);
	if (collapse && off + len >= in->size)
		return dxl_err(EINVAL, "fallocate collapse range %llu+%llu: reaches the end of the "
				       "file (%llu); truncate instead", (unsigned long long)off,
			       (unsigned long long)len, (unsigned long long)in->size);
	if (!collapse && off >= in->size)
		return dxl_err(EINVAL, "fallocate insert range at %llu: at or past the end of the "
				       "file (%llu)", (unsigned long long)off, (unsigned long long)in->size);
	if (!collapse && len > DXL_MAX_FILE - in->size)
		return dxl_err(EFBIG, "fallocate insert range: the file would pass the largest size");
	return 0;
}

int dxl_fs_fallocate(dxl_file *f, int mode, uint64_t off, uint64_t len)
{
	struct dxl_fs *fs;
	int keep = !!(mode & FALLOC_FL_KEEP_SIZE);
	int rc = file_ok(f);

	if (rc)
		return rc;
	if (!writable(f))
		return dxl_err(EBADF, "fallocate: file not open for writing");
	if (len == 0)
		return dxl_err(EINVAL, "fallocate: zero length");
	if (off > DXL_MAX_FILE || len > DXL_MAX_FILE - off)
		return dxl_err(EFBIG, "fallocate %llu+%llu: beyond the largest file size",
			       (unsigned long long)off, (unsigned long long)len);
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE |
		     FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE))
		return dxl_err(EOPNOTSUPP, "fallocate: mode %#x is not supported", mode);
	if ((mode & FALLOC_FL_PUNCH_HOLE) && (!keep || (mode & ~(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))))
		return dxl_err(EOPNOTSUPP, "fallocate: punching a hole needs KEEP_SIZE, and nothing else");
	if ((mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) &&
	    (mode & ~(FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE) ||
	     (mode & FALLOC_FL_COLLAPSE_RANGE && mode & FALLOC_FL_INSERT_RANGE)))
		return dxl_err(EINVAL, "fallocate: collapse and insert range take no other flag");
	if ((mode & FALLOC_FL_UNSHARE_RANGE) && (mode & ~(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE)))
		return dxl_err(EINVAL, "fallocate: unshare range takes only KEEP_SIZE besides");
	fs = &f->pool->fs;
	rc = dxl_fs_lock_ino(fs, f->ino);
	if (rc)
		return rc;
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
		int collapse = !!(mode & FALLOC_FL_COLLAPSE_RANGE);
		/* everything from off on moves: its leases break, like a punch */
		rc = shift_check(fs, f, collapse, off, len);
		if (rc == 0)
			rc = dxl_fs_break(fs, f->ino, off, UINT64_MAX, nonblocking(f), 0);
		if (rc == 0) /* the break may have dropped the locks: look again */
			rc = shift_check(fs, f, collapse, off, len);
		if (rc == 0)
			rc = shift_range(fs, f->ino, off, len, collapse);
		dxl_fs_unlock_ino(fs, f->ino);
		return rc;
	}
	/* a punch removes units; zeroing and unsharing copy shared ones: all remap */
	if ((mode & FALLOC_FL_PUNCH_HOLE) ||
	    ((mode & (FALLOC_FL_ZERO_RANGE | FALLOC_FL_UNSHARE_RANGE)) && leases_exist(fs) &&
	     dxl_file_range_has_shared(fs, f->ino, off, off + len, &rc)))
		rc = dxl_fs_break(fs, f->ino, off, off + len, nonblocking(f), 0);
	if (rc)
		;
	else if (mode & FALLOC_FL_PUNCH_HOLE)
		rc = punch_range(fs, f->ino, off, off + len);
	else
		rc = alloc_range(fs, f->ino, off, off + len,
				 (mode & FALLOC_FL_ZERO_RANGE)	  ? ALLOC_ZERO
				 : (mode & FALLOC_FL_UNSHARE_RANGE) ? ALLOC_PRIVATE
								    : ALLOC_FILL,
				 keep, 1);
	dxl_fs_unlock_ino(fs, f->ino);
	return rc;
}

int dxl_file_prepare(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, unsigned flags,
		     uint64_t exclude)
{
	int rc = dxl_ilock_check(fs, ino, "prepare"), shared;

	if (rc)
		return rc;
	shared = dxl_file_range_has_shared(fs, ino, off, end, &rc);
	if (rc || (!shared && (flags & DXL_PREP_UNSHARE)))
		return rc; /* nothing to copy: no transaction at all */
	if (shared && leases_exist(fs))
		rc = dxl_fs_break(fs, ino, off, end, !!(flags & DXL_PREP_NONBLOCK), exclude);
	if (rc)
		return rc;
	return alloc_range(fs, ino, off, end, (flags & DXL_PREP_UNSHARE) ? ALLOC_UNSHARE : ALLOC_PRIVATE,
			   1, !(flags & DXL_PREP_NOT_SELF));
}

