/*
 * Files: open/close, read/write, truncate, fallocate, reflink, sync.
 *
 * Bytes past EOF may hold anything: old data after a truncate (whose
 * units past EOF are freed in later transactions, so a crash can leave
 * them), stores made through a mapping into the unit holding EOF.  So,
 * as XFS does (xfs_zero_eof), whatever makes a file grow zeroes the mapped
 * bytes it brings inside EOF (grow_zero()).  Units are zeroed when
 * allocated (as DAX file systems must: a mapping sees the media).  That
 * keeps truncate down a single metadata commit, with no data write ahead
 * of it.
 *
 * Data is written straight into the pool with non-temporal stores; a
 * write that only overwrites private, allocated units needs no
 * transaction at all, which is what makes small writes cheaper than a
 * system call.  Data that a transaction maps is drained before the
 * transaction commits (ordered mode), so a crash never exposes a unit's
 * previous contents.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

#define DXL_MAX_FILE (1ull << 62)

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
static int inode_unlocked(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in)
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

static int file_ok(dxl_file *f)
{
	if (!f || !f->pool)
		return dxl_err(EBADF, "bad file handle");
	return 0;
}

static int writable(const dxl_file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY;
}

static uint64_t units_up(struct dxl_fs *fs, uint64_t bytes)
{
	return (bytes >> fs->unit_shift) + ((bytes & (fs->unit - 1)) != 0);
}

/* Units a byte range [pos, end) touches, starting at pos's unit. */
static uint64_t units_touched(struct dxl_fs *fs, uint64_t pos, uint64_t end)
{
	return ((end - 1) >> fs->unit_shift) - (pos >> fs->unit_shift) + 1;
}

/* Allocation goal: right after the unit that maps the previous file unit. */
static uint64_t alloc_goal(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu)
{
	struct dxl_map m;
	if (fu > 0 && dxl_ext_map(fs, tx, ino, fu - 1, &m) == 0 && !m.hole)
		return m.phys + 1;
	return DXL_GOAL_LOW;
}

static int set_times(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t new_size,
		     int set_size)
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
static int tx_end(struct dxl_fs *fs, struct dxl_tx *tx, int rc)
{
	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	dxl_pmem_drain_named(&fs->pm, "data"); /* data before the metadata that maps it */
	return dxl_tx_commit(tx);
}

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
static int range_has_shared(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, int *rc)
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

static int leases_exist(struct dxl_fs *fs)
{
	return dxl_rt_shared(fs->rt)->nleases != 0;
}

static int nonblocking(const dxl_file *f)
{
	return !!(f->flags & O_NONBLOCK);
}

/* ------------------------------------------------------------------ open */

static int path_is_root(const char *path)
{
	while (*path == '/')
		path++;
	return *path == '\0';
}

static int do_truncate(struct dxl_fs *fs, uint64_t ino, uint64_t size, int nonblock);
static int grow_zero(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t old_size,
		     uint64_t new_size);

int dxl_open(dxl_pool *pool, const char *path, int flags, mode_t mode, dxl_file **out)
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
		rc = dxl_err(EINVAL, "open %s: not a regular file", path);
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
			rc = do_truncate(fs, ino, 0, !!(flags & O_NONBLOCK));
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

/* Write back the lazily kept mtime (lazytime: data writes that change no
 * metadata do not pay for a transaction; the time lands at close/fsync). */
static int flush_times(struct dxl_fs *fs, dxl_file *f)
{
	struct dxl_inode *in;
	struct dxl_tx *tx;
	int rc;

	int64_t t = __atomic_load_n(&f->pending_mtime, __ATOMIC_RELAXED);

	if (!t)
		return 0;
	tx = dxl_tx_begin(&fs->j);
	rc = dxl_inode_write(fs, tx, f->ino, &in);
	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	if (t > in->mtime_ns)
		in->mtime_ns = in->ctime_ns = t;
	rc = dxl_tx_commit(tx);
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
			rc = inode_unlocked(fs, f, &in);
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
	rc = inode_unlocked(fs, f, &in);
	n = rc ? rc : read_body(fs, f->ino, in, buf, off, len);
	dxl_iunlock(fs, f->ino);
	return n;
}

/* ------------------------------------------------------------------ write */

/* Bytes from pos to the end of a run of n units starting at pos's unit. */
static uint64_t run_bytes(struct dxl_fs *fs, uint64_t pos, uint64_t n, uint64_t end)
{
	uint64_t run_end = ((pos >> fs->unit_shift) + n) << fs->unit_shift;
	if (n > (DXL_MAX_FILE >> fs->unit_shift) || run_end < pos)
		return end - pos;
	return DXL_MIN(run_end, end) - pos;
}

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

/*
 * The units behind the piece of [pos, end) that starts at pos: a hole
 * gets newly allocated units, which the caller fills or zeroes (*fresh = 1);
 * a mapped piece is made private first when private is set (a shared
 * unit is copied).  *phys and *n describe the units, *bytes the part of
 * [pos, end) they hold; *moved tells whether the layout changed.
 */
static int piece_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t pos,
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
			rc = dxl_inode_read(fs, tx, ino, &in);
			if (rc == 0 && pos > in->size)
				rc = grow_zero(fs, tx, ino, in->size, pos);
			if (rc) {
				dxl_tx_abort(tx);
				return rc;
			}
			first = 0;
		}

		while (pos < end && !dxl_tx_full(tx)) {
			uint64_t uoff = pos & (fs->unit - 1), phys = 0, n = 0, bytes = 0;
			int fresh;

			rc = piece_units(fs, tx, ino, pos, end, 1, &phys, &n, &bytes, &fresh, changed);
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

ssize_t dxl_pwrite(dxl_file *f, const void *buf, size_t len, uint64_t off)
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
	rc = inode_unlocked(fs, f, &in);
	if (rc == 0)
		rc = write_range(f, in, &off, len, &end);
	if (rc || len == 0)
		goto out_ilock;
	/* The common case: the copy needs no transaction, and the metadata
	 * lock is not taken (a fault on the caller's buffer stalls only
	 * this file). */
	if ((nseg = overwrite_plan(fs, f->ino, in, off, end, seg)) > 0) {
		overwrite(fs, f->ino, buf, off, end, seg, nseg);
		dxl_pmem_drain_named(&fs->pm, "write"); /* durable on return */
		__atomic_store_n(&f->pending_mtime, dxl_now_ns(), __ATOMIC_RELAXED);
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
	if (!broke && leases_exist(fs) && range_has_shared(fs, f->ino, off, end, &rc)) {
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
		__atomic_store_n(&f->pending_mtime, dxl_now_ns(), __ATOMIC_RELAXED);
	}
out:
	dxl_fs_unlock(fs);
out_ilock:
	dxl_iunlock(fs, f->ino);
	return rc ? rc : (ssize_t)len;
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
static int grow_zero(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t old_size,
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

static int do_truncate(struct dxl_fs *fs, uint64_t ino, uint64_t size, int nonblock)
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
	if (size == in->size)
		return 0;
	old_size = in->size;
	tx = dxl_tx_begin(&fs->j);
	if (size > old_size) {
		rc = grow_zero(fs, tx, ino, old_size, size);
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

int dxl_ftruncate(dxl_file *f, uint64_t size)
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
	rc = do_truncate(fs, f->ino, size, nonblocking(f));
	dxl_fs_unlock_ino(fs, f->ino);
	return rc;
}

int dxl_truncate(dxl_pool *pool, const char *path, uint64_t size)
{
	struct dxl_fs *fs;
	uint64_t ino;
	int rc;

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
	if (rc == 0) {
		int lrc = dxl_ilock_under(fs, ino);

		rc = lrc < 0 ? lrc : do_truncate(fs, ino, size, 0);
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
			rc = dxl_inode_read(fs, tx, ino, &in);
			if (rc == 0 && end > in->size)
				rc = grow_zero(fs, tx, ino, in->size, end);
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
			rc = piece_units(fs, tx, ino, pos, end, how != ALLOC_FILL, &phys, &n, &bytes,
					 &fresh, &changed);
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

int dxl_fallocate(dxl_file *f, int mode, uint64_t off, uint64_t len)
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
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return dxl_err(EOPNOTSUPP, "fallocate: mode %#x is not supported", mode);
	if ((mode & FALLOC_FL_PUNCH_HOLE) && (!keep || (mode & FALLOC_FL_ZERO_RANGE)))
		return dxl_err(EOPNOTSUPP, "fallocate: punching a hole needs KEEP_SIZE, and nothing else");
	fs = &f->pool->fs;
	rc = dxl_fs_lock_ino(fs, f->ino);
	if (rc)
		return rc;
	/* a punch removes units; zeroing copies shared ones: both remap */
	if ((mode & FALLOC_FL_PUNCH_HOLE) ||
	    ((mode & FALLOC_FL_ZERO_RANGE) && leases_exist(fs) &&
	     range_has_shared(fs, f->ino, off, off + len, &rc)))
		rc = dxl_fs_break(fs, f->ino, off, off + len, nonblocking(f), 0);
	if (rc)
		;
	else if (mode & FALLOC_FL_PUNCH_HOLE)
		rc = punch_range(fs, f->ino, off, off + len);
	else
		rc = alloc_range(fs, f->ino, off, off + len,
				 (mode & FALLOC_FL_ZERO_RANGE) ? ALLOC_ZERO : ALLOC_FILL, keep, 1);
	dxl_fs_unlock_ino(fs, f->ino);
	return rc;
}

int dxl_file_prepare(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, unsigned flags,
		     uint64_t exclude)
{
	int rc = dxl_ilock_check(fs, ino, "prepare"), shared;

	if (rc)
		return rc;
	shared = range_has_shared(fs, ino, off, end, &rc);
	if (rc || (!shared && (flags & DXL_PREP_UNSHARE)))
		return rc; /* nothing to copy: no transaction at all */
	if (shared && leases_exist(fs))
		rc = dxl_fs_break(fs, ino, off, end, !!(flags & DXL_PREP_NONBLOCK), exclude);
	if (rc)
		return rc;
	return alloc_range(fs, ino, off, end, (flags & DXL_PREP_UNSHARE) ? ALLOC_UNSHARE : ALLOC_PRIVATE,
			   1, !(flags & DXL_PREP_NOT_SELF));
}

/* ------------------------------------------------------------------ reflink */

/* Mark the extent record holding file unit fu as (possibly) shared. */
static int mark_shared(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu)
{
	struct dxl_broot root;
	struct dxl_extent e;
	uint64_t k;
	uint32_t vlen = sizeof(e);
	int rc;

	dxl_inode_broot(ino, &root);
	rc = dxl_bt_lookup(fs, tx, &root, fu, DXL_BT_LE, &k, &e, &vlen);
	if (rc)
		return rc;
	if (e.flags & DXL_EXT_SHARED)
		return 0;
	e.flags |= DXL_EXT_SHARED;
	return dxl_bt_update(fs, tx, &root, k, &e, sizeof(e));
}

/* The first unit of [phys, phys+n) that must not be shared because a
 * pin — a DMA, a registration, a mapping, a revoked holder that has not
 * let go — may still write it (UINT64_MAX: none); *pend: that pin's end. */
static uint64_t pinned_unit(struct dxl_fs *fs, uint64_t phys, uint64_t n, uint64_t *pend)
{
	if (fs->test_share_pinned)
		return UINT64_MAX; /* test-only: show what the rule prevents */
	return dxl_pin_first(fs->rt, phys, n, pend);
}

/* Give dst's units [dfu, dfu+n) private copies of src's units from phys
 * (the destination range is already unmapped); *got: how many it did. */
static int copy_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dino, uint64_t dfu,
		      uint64_t phys, uint64_t n, uint64_t *got)
{
	uint64_t np = 0;
	int rc = dxl_unit_alloc(fs, tx, alloc_goal(fs, tx, dino, dfu), n, &np, got);

	if (rc)
		return rc;
	dxl_pmem_memcpy(&fs->pm, dxl_unit_ptr(fs, np), dxl_unit_ptr(fs, phys), *got << fs->unit_shift);
	return dxl_ext_insert(fs, tx, dino, dfu, np, *got, 0);
}

/* Replace dst's units [dfu, dfu+ulen) with src's [sfu, ...): per piece,
 * the destination's old units go and the source's are shared in the same
 * transaction, so a reflink that fits one transaction is atomic.  A
 * pinned unit is copied instead of shared: whatever still writes to it
 * must reach the source only, never the clone. */
static int share_range(struct dxl_fs *fs, uint64_t sino, uint64_t sfu, uint64_t dino, uint64_t dfu,
		       uint64_t ulen, uint64_t new_dsize)
{
	uint64_t pos = 0;
	int rc = dxl_ilock_check(fs, sino, "reflink");

	if (rc == 0)
		rc = dxl_ilock_check(fs, dino, "reflink");
	if (rc)
		return rc;
	for (;;) {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		const struct dxl_inode *in = NULL;

		while (pos < ulen && !dxl_tx_full(tx)) {
			struct dxl_map m;
			uint64_t n, pend = 0, p = UINT64_MAX;

			rc = dxl_ext_map(fs, tx, sino, sfu + pos, &m);
			if (rc)
				break;
			n = DXL_MIN(m.len, ulen - pos);
			if (!m.hole) {
				p = pinned_unit(fs, m.phys, n, &pend);
				if (p == m.phys)
					n = DXL_MIN(n, pend - p); /* a pinned run: copied */
				else if (p != UINT64_MAX)
					n = p - m.phys;           /* shared up to the pin */
			}
			rc = dxl_ext_remove(fs, tx, dino, dfu + pos, n);
			if (rc == -EAGAIN) {
				rc = 0;
				break; /* commit what is done; the rest in the next one */
			}
			if (rc == 0 && !m.hole && p == m.phys) {
				rc = copy_units(fs, tx, dino, dfu + pos, m.phys, n, &n);
			} else if (rc == 0 && !m.hole) {
				rc = mark_shared(fs, tx, sino, sfu + pos);
				if (rc == 0)
					rc = dxl_refc_inc(fs, tx, m.phys, n);
				if (rc == 0)
					rc = dxl_ext_insert(fs, tx, dino, dfu + pos, m.phys, n, DXL_EXT_SHARED);
			}
			if (rc)
				break;
			pos += n;
		}
		if (rc == 0)
			rc = dxl_inode_read(fs, tx, dino, &in);
		if (rc == 0)
			rc = set_times(fs, tx, dino, DXL_MAX(in->size, new_dsize), pos == ulen);
		/* copied units are durable before the metadata that maps them */
		rc = tx_end(fs, tx, rc);
		if (rc || pos == ulen)
			return rc;
	}
}

int dxl_reflink(dxl_file *src, uint64_t src_off, dxl_file *dst, uint64_t dst_off, uint64_t len)
{
	struct dxl_fs *fs;
	const struct dxl_inode *sin, *din;
	uint64_t ssize, ulen, umask;
	int rc;

	dxl_err_clear();
	if ((rc = file_ok(src)) || (rc = file_ok(dst)))
		return rc;
	if (src->pool != dst->pool)
		return dxl_err(EXDEV, "reflink: files are in different pools");
	if ((src->flags & O_ACCMODE) == O_WRONLY || !writable(dst))
		return dxl_err(EBADF, "reflink: source must be readable and destination writable");
	fs = &src->pool->fs;
	umask = fs->unit - 1;
	if ((src_off & umask) || (dst_off & umask))
		return dxl_err(EINVAL, "reflink: offsets must be multiples of the %llu-byte unit",
			       (unsigned long long)fs->unit);
	if (src_off > DXL_MAX_FILE || dst_off > DXL_MAX_FILE || len > DXL_MAX_FILE)
		return dxl_err(EFBIG, "reflink: range beyond the largest file size");
	rc = dxl_ilock2(fs, src->ino, dst->ino);
	if (rc)
		return rc;
	rc = dxl_fs_lock(fs);
	if (rc) {
		dxl_iunlock(fs, src->ino);
		dxl_iunlock(fs, dst->ino);
		return rc;
	}
	/* the destination range's blocks are replaced */
	if (len)
		rc = dxl_fs_break(fs, dst->ino, dst_off,
				  len > UINT64_MAX - dst_off ? UINT64_MAX : dst_off + DXL_ALIGN_UP(len, fs->unit),
				  nonblocking(dst), 0);
	else
		rc = dxl_fs_break(fs, dst->ino, dst_off, UINT64_MAX, nonblocking(dst), 0);
	/* The source's layout does not change: its pinned units are copied
	 * into the clone, the others shared (a later write to those copies
	 * them, and breaks the source's leases then).  So a clone never
	 * waits for, or revokes, a registration of the source. */
	if (rc == 0)
		rc = dxl_inode_read(fs, NULL, src->ino, &sin);
	if (rc == 0)
		rc = dxl_inode_read(fs, NULL, dst->ino, &din);
	if (rc)
		goto out;
	ssize = sin->size;
	if (src_off > ssize) {
		rc = dxl_err(EINVAL, "reflink: source offset %llu is past its end (%llu)",
			     (unsigned long long)src_off, (unsigned long long)ssize);
		goto out;
	}
	if (len == 0 || len > ssize - src_off)
		len = ssize - src_off; /* as FICLONERANGE: 0 or past EOF means "to EOF" */
	if (len == 0)
		goto out;
	if ((len & umask) && src_off + len != ssize) {
		rc = dxl_err(EINVAL, "reflink: length must be a multiple of the unit unless it ends at EOF");
		goto out;
	}
	if ((len & umask) && dst_off + len < din->size) {
		rc = dxl_err(EINVAL, "reflink: a partial last unit can only land at or past the destination's end");
		goto out;
	}
	if (dst_off > DXL_MAX_FILE - len) {
		rc = dxl_err(EFBIG, "reflink: destination range beyond the largest file size");
		goto out;
	}
	ulen = units_up(fs, len);
	if (src->ino == dst->ino && src_off < dst_off + (ulen << fs->unit_shift) &&
	    dst_off < src_off + (ulen << fs->unit_shift)) {
		rc = dxl_err(EINVAL, "reflink: source and destination ranges overlap");
		goto out;
	}
	if (dst_off > din->size && (din->size & umask)) {
		/* the destination grows past a gap: zero it, as any growth does */
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		rc = tx_end(fs, tx, grow_zero(fs, tx, dst->ino, din->size, dst_off));
	}
	if (rc == 0)
		rc = share_range(fs, src->ino, src_off >> fs->unit_shift, dst->ino,
				 dst_off >> fs->unit_shift, ulen, dst_off + len);
	dxl_fs_layout_changed(fs, dst->ino, dst_off, dst_off + (ulen << fs->unit_shift));
out:
	dxl_fs_unlock(fs);
	dxl_iunlock(fs, src->ino);
	dxl_iunlock(fs, dst->ino);
	return rc;
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

int dxl_fstat(dxl_file *f, struct dxl_stat *st)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in = NULL;
	int rc = file_ok(f);

	if (rc)
		return rc;
	if (!st)
		return dxl_err(EINVAL, "fstat: no stat buffer");
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
	return rc;
}
