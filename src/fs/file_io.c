/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File data: dxl_pread and dxl_pwrite.
 *
 * Data is written straight into the pool with non-temporal stores; a
 * write that only overwrites private, allocated units needs no
 * transaction at all, which is what makes small writes cheaper than a
 * system call.  Data that a transaction maps is drained before the
 * transaction commits (ordered mode), so a crash never exposes a unit's
 * previous contents.
 *
 * A read takes no lock: it reads the inode lock's sequence count, copies,
 * and keeps the copy if the count has not moved (see docs/design.md,
 * "Locking").  A write holds the file's inode lock; an overwrite of
 * private, mapped units below EOF holds that lock alone, so a fault on
 * the caller's buffer stalls only this file.  Anything else takes the
 * metadata lock too and goes through transactions (write_slow).
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include <unistd.h>

#include "file_int.h"

/* ------------------------------------------------------------------ read */

/* Copy what [off, off + len) holds below EOF into dst: the bytes copied,
 * or <0.  Without any lock it may see a file in the middle of a change
 * (the tree is checked on every access, so at worst it reads wrong
 * bytes of the pool or fails): the caller checks the inode lock's count
 * afterwards and throws such a read away. */
static ssize_t read_body(struct dxl_fs *fs, uint64_t ino, const struct dxl_inode *in, uint8_t *dst,
			 uint64_t off, uint64_t len)
{
	uint64_t size = in->size, pos, end;
	int rc;

	if (off >= size)
		return 0;
	end = off + DXL_MIN(len, size - off);
	for (pos = off; pos < end;) {
		struct dxl_map m;
		uint64_t fu = pos >> fs->unit_shift, uoff = pos & (fs->unit - 1), n;

		rc = dxl_ext_map(fs, NULL, ino, fu, &m);
		if (rc)
			return rc;
		n = (m.len > (end >> fs->unit_shift) ? end - pos
						     : DXL_MIN(end - pos, (m.len << fs->unit_shift) - uoff));
		if (m.hole)
			memset(dst + (pos - off), 0, n);
		else
			memcpy(dst + (pos - off), dxl_unit_ptr(fs, m.phys) + uoff, n);
		pos += n;
	}
	return (ssize_t)(end - off);
}

#define LOCKLESS_READS (!DXL_TSAN)

ssize_t dxl_pread(dxl_file *f, void *buf, size_t len, uint64_t off)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in = NULL;
	ssize_t n;
	int rc = file_ok(f);

	if (rc)
		return rc;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return dxl_err(EBADF, "read: file not open for reading");
	if (len > SSIZE_MAX || (len && !buf))
		return dxl_err(EINVAL, "read: bad buffer or length");
	if (off > INT64_MAX)
		return dxl_err(EINVAL, "read at %llu: offset beyond the largest file offset",
			       (unsigned long long)off);
	if (len > UINT64_MAX - off)
		return dxl_err(EOVERFLOW, "read at %llu+%zu: the range wraps around",
			       (unsigned long long)off, len);
	if (len == 0 || off >= DXL_MAX_FILE)
		return 0;
	fs = &f->pool->fs;
	rc = dxl_fs_usable(fs);
	if (rc)
		return rc;
	/* Readers of one file do not meet: each reads the inode lock's
	 * count, reads, and keeps what it read if nobody held the lock
	 * meanwhile.  Whoever changes the file's layout or data holds it. */
	if (LOCKLESS_READS) {
		struct rt_ilock *l = dxl_rt_ilock_of(fs->rt, f->ino);
		int tries;

		for (tries = 0; tries < 3; tries++) {
			uint32_t s = dxl_rt_iseq(l);

			if (s & 1)
				break;
			rc = dxl_file_inode_unlocked(fs, f, &in);
			if (rc)
				return rc;
			n = read_body(fs, f->ino, in, buf, off, len);
			if (dxl_rt_iseq_same(l, s)) {
				if (n >= 0 && tries)
					dxl_err_clear(); /* a try thrown away may have left one */
				return n;
			}
		}
	}
	rc = dxl_ilock(fs, f->ino);
	if (rc)
		return rc;
	rc = dxl_file_inode_unlocked(fs, f, &in);
	n = rc ? rc : read_body(fs, f->ino, in, buf, off, len);
	dxl_iunlock(fs, f->ino);
	return n;
}

/* ------------------------------------------------------------------ write */

/* Copy into units that are private and mapped, as far as that goes;
 * returns the bytes written. */
static uint64_t write_direct(struct dxl_fs *fs, uint64_t ino, const uint8_t *src, uint64_t pos,
			     uint64_t end, int *rc)
{
	uint64_t start = pos;

	while (pos < end) {
		struct dxl_map m;
		uint64_t n;

		*rc = dxl_ext_map(fs, NULL, ino, pos >> fs->unit_shift, &m);
		if (*rc || m.hole || (m.flags & DXL_EXT_SHARED))
			break;
		n = run_bytes(fs, pos, m.len, end);
		dxl_pmem_memcpy(&fs->pm, dxl_unit_ptr(fs, m.phys) + (pos & (fs->unit - 1)),
				src + (pos - start), n);
		pos += n;
	}
	return pos - start;
}

/* Write [pos, end) from src in transactions, allocating and unsharing. */
static int write_slow(struct dxl_fs *fs, uint64_t ino, const uint8_t *src, uint64_t pos, uint64_t end,
		      int *changed)
{
	const uint8_t *base = src - pos;
	int rc = dxl_ilock_check(fs, ino, "write"), first = 1;

	while (rc == 0 && pos < end) {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		const struct dxl_inode *in = NULL;

		/* a write past EOF leaves a gap that must read as zeros */
		if (first) {
			rc = dxl_file_grow_zero_to(fs, tx, ino, pos);
			if (rc) {
				dxl_tx_abort(tx);
				return rc;
			}
			first = 0;
		}

		while (pos < end && !dxl_tx_full(tx)) {
			uint64_t uoff = pos & (fs->unit - 1), phys = 0, n = 0, bytes = 0;
			int fresh;

			rc = dxl_file_piece_units(fs, tx, ino, pos, end, 1, &phys, &n, &bytes, &fresh,
						  changed);
			if (rc)
				break;
			/* zero what the write leaves of new units */
			if (fresh && uoff)
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys), 0, uoff);
			if (fresh && ((uoff + bytes) & (fs->unit - 1)))
				dxl_pmem_memset(&fs->pm, dxl_unit_ptr(fs, phys) + uoff + bytes, 0,
						(n << fs->unit_shift) - uoff - bytes);
			dxl_pmem_memcpy(&fs->pm, dxl_unit_ptr(fs, phys) + uoff, base + pos, bytes);
			pos += bytes;
		}
		if (rc == 0)
			rc = dxl_inode_read(fs, tx, ino, &in);
		if (rc == 0)
			rc = set_times(fs, tx, ino, DXL_MAX(in->size, pos), pos > in->size);
		/* on error, units written but not mapped are simply still free */
		rc = tx_end(fs, tx, rc);
		if (rc)
			return rc;
	}
	return rc;
}

/* Where the write goes (O_APPEND: at EOF) and whether it fits. */
static int write_range(const dxl_file *f, const struct dxl_inode *in, uint64_t *off, size_t len,
		       uint64_t *end)
{
	if (f->flags & O_APPEND)
		*off = in->size;
	if (*off > DXL_MAX_FILE || len > DXL_MAX_FILE - *off)
		return dxl_err(EFBIG, "write at %llu+%zu: beyond the largest file size",
			       (unsigned long long)*off, len);
	*end = *off + len;
	return 0;
}

/* [off, end) lies below EOF in private, mapped extents: an overwrite
 * that needs the inode lock alone.  The first pieces go to seg[] (unit
 * pointer, bytes); returns how many pieces there are (0: the write needs
 * the slow path).  Nothing can change the extents while the inode lock is
 * held, so pieces past seg[] are looked up again at copy time. */
#define OVERWRITE_SEGS 8
struct seg {
	uint8_t *dst;
	uint64_t len;
};
static int overwrite_plan(struct dxl_fs *fs, uint64_t ino, const struct dxl_inode *in, uint64_t off,
			  uint64_t end, struct seg *seg)
{
	uint64_t pos = off;
	int n = 0;

	if (end > in->size)
		return 0;
	while (pos < end) {
		struct dxl_map m;
		uint64_t len;

		if (dxl_ext_map(fs, NULL, ino, pos >> fs->unit_shift, &m) || m.hole ||
		    (m.flags & DXL_EXT_SHARED))
			return 0;
		len = run_bytes(fs, pos, m.len, end);
		if (n < OVERWRITE_SEGS)
			seg[n] = (struct seg){ dxl_unit_ptr(fs, m.phys) + (pos & (fs->unit - 1)), len };
		pos += len;
		n++;
	}
	return n;
}

static void overwrite(struct dxl_fs *fs, uint64_t ino, const uint8_t *src, uint64_t off,
		      uint64_t end, const struct seg *seg, int n)
{
	uint64_t pos = off;
	int i;

	for (i = 0; i < n && i < OVERWRITE_SEGS; pos += seg[i++].len)
		dxl_pmem_memcpy(&fs->pm, seg[i].dst, src + (pos - off), seg[i].len);
	if (pos < end) {
		int rc = 0;
		write_direct(fs, ino, src + (pos - off), pos, end, &rc); /* planned: cannot fail */
	}
}

/*
 * A write's modification time, kept as the kernel keeps it for a local
 * file: stamped from the coarse clock, and visible to every reader — a
 * stat here or in another process reads the inode — as soon as the write
 * returns.  The inode changes by a transaction only when the tick moved
 * since this handle last stamped it, so an overwrite loop pays one
 * transaction per tick (4 ms here), not one per write.  Stamped before
 * the data is copied, as the kernel does (file_modified() before the
 * copy): the write's own fence is then the last, so its durability does
 * not lean on the transaction's.  If that
 * transaction cannot be made now, the time waits in the handle for close
 * or fsync, as before.  locked: the caller holds the metadata lock.
 */
static void write_time(struct dxl_fs *fs, dxl_file *f, int locked)
{
	int64_t now = dxl_coarse_now_ns(), seen = __atomic_load_n(&f->time_tick, __ATOMIC_RELAXED);
	int rc;

	if (now <= seen ||
	    !__atomic_compare_exchange_n(&f->time_tick, &seen, now, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return; /* this tick is stamped (or another thread is at it) */
	rc = locked ? 0 : dxl_fs_lock(fs);
	if (rc == 0) {
		rc = dxl_file_raise_mtime(fs, f->ino, now);
		if (!locked)
			dxl_fs_unlock(fs);
	}
	if (rc) {
		__atomic_store_n(&f->pending_mtime, now, __ATOMIC_RELAXED);
		dxl_err_clear(); /* the write itself succeeded */
	}
}

/*
 * The file's mode without the metadata lock, as a hint (the lock is taken
 * to act on it).  Only a chmod changes it, under the metadata lock alone;
 * but a commit that changes the link count rewrites the 8-byte word it
 * shares with the mode (apply_words), with the mode unchanged.  On x86
 * that store is one access and the mode is never seen torn; TSan cannot
 * know that, so there the mode is read under the lock.
 */
static uint32_t mode_hint(struct dxl_fs *fs, const struct dxl_inode *in)
{
	uint32_t mode;

	if (!DXL_TSAN)
		return __atomic_load_n(&in->mode, __ATOMIC_RELAXED);
	if (dxl_fs_lock(fs))
		return 0;
	mode = in->mode;
	dxl_fs_unlock(fs);
	return mode;
}

ssize_t dxl_fs_pwrite(dxl_file *f, const void *buf, size_t len, uint64_t off)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in;
	struct seg seg[OVERWRITE_SEGS];
	uint64_t end = 0, done;
	int rc = file_ok(f), changed = 0, broke = 0, nseg;

	if (rc)
		return rc;
	if (!writable(f))
		return dxl_err(EBADF, "write: file not open for writing");
	if (len > SSIZE_MAX || (len && !buf))
		return dxl_err(EINVAL, "write: bad buffer or length");
	fs = &f->pool->fs;
	rc = dxl_ilock(fs, f->ino);
	if (rc)
		return rc;
	rc = dxl_file_inode_unlocked(fs, f, &in);
	if (rc == 0)
		rc = write_range(f, in, &off, len, &end);
	if (rc || len == 0)
		goto out_ilock;
	/* a set-user-ID file loses the bit before anyone else's code is in it */
	if (dxl_privs_dropped(mode_hint(fs, in)) && geteuid() != 0) {
		rc = dxl_fs_lock(fs);
		if (rc == 0) {
			rc = dxl_file_drop_privs(fs, f->ino);
			dxl_fs_unlock(fs);
		}
		if (rc == 0)
			rc = dxl_file_inode_unlocked(fs, f, &in);
		if (rc)
			goto out_ilock;
	}
	/* The common case: the copy needs no transaction, and the metadata
	 * lock is not taken (a fault on the caller's buffer stalls only
	 * this file). */
	if ((nseg = overwrite_plan(fs, f->ino, in, off, end, seg)) > 0) {
		write_time(fs, f, 0); /* before the data, as the kernel does */
		overwrite(fs, f->ino, buf, off, end, seg, nseg);
		dxl_pmem_drain_named(&fs->pm, "write"); /* durable on return */
		goto out_ilock;
	}
	rc = dxl_fs_lock(fs);
	if (rc)
		goto out_ilock;
again:
	rc = dxl_file_inode(fs, f, &in);
	if (rc)
		goto out;
	/* Copying a shared unit on write remaps it: leases on the range
	 * are broken first (that may drop the locks, so look again). */
	if (!broke && leases_exist(fs) && dxl_file_range_has_shared(fs, f->ino, off, end, &rc)) {
		rc = dxl_fs_break(fs, f->ino, off, end, nonblocking(f), 0);
		if (rc)
			goto out;
		broke = 1;
		goto again;
	}
	if (rc == 0 && broke) /* the locks were dropped: the size may have moved */
		rc = write_range(f, in, &off, len, &end);
	if (rc)
		goto out;
	done = 0;
	if (end <= in->size) {
		write_time(fs, f, 1);
		done = write_direct(fs, f->ino, buf, off, end, &rc);
		if (rc)
			goto out;
	}
	if (off + done < end) {
		rc = write_slow(fs, f->ino, (const uint8_t *)buf + done, off + done, end, &changed);
		if (changed)
			dxl_fs_layout_changed(fs, f->ino, off, end);
	} else {
		dxl_pmem_drain_named(&fs->pm, "write"); /* durable on return */
	}
out:
	dxl_fs_unlock(fs);
out_ilock:
	dxl_iunlock(fs, f->ino);
	return rc ? rc : (ssize_t)len;
}
