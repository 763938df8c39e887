/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reflink: dst's range gets src's units, shared (copy on write: a unit
 * shared is marked in both files' extents and counted in the refcount
 * tree; a later write to it copies it, see file_space.c), except units a
 * pin may still write, which are copied.  Both files' inode locks are
 * held (dxl_ilock2, in the order of their entries), then the metadata
 * lock.
 */
#include "file_int.h"

/* Mark the extent record holding file unit fu as (possibly) shared.  The
 * record goes through the codec (src/format/record.c), as in extent.c;
 * the caller has just mapped fu in tx, so the record decodes. */
static int mark_shared(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu)
{
	struct dxl_broot root;
	struct dxl_extent e;
	struct dxl_rec_err err;
	uint8_t val[DXL_EXTENT_VLEN];
	uint64_t k;
	uint32_t vlen = sizeof(val);
	int rc;

	dxl_inode_broot(ino, &root);
	rc = dxl_bt_lookup(fs, tx, &root, fu, DXL_BT_LE, &k, val, &vlen);
	if (rc)
		return rc;
	if (dxl_extent_decode(&fs->geo, k, val, vlen, &e, &err))
		return dxl_err(EUCLEAN, "inode %llu: bad extent at file unit %llu: it %s",
			       (unsigned long long)ino, (unsigned long long)k, err.why);
	if (e.flags & DXL_EXT_SHARED)
		return 0;
	e.flags |= DXL_EXT_SHARED;
	vlen = dxl_extent_encode(val, &e);
	return dxl_bt_update(fs, tx, &root, k, val, vlen);
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

int dxl_fs_reflink(dxl_file *src, uint64_t src_off, dxl_file *dst, uint64_t dst_off, uint64_t len)
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
		rc = tx_end(fs, tx, dxl_file_grow_zero(fs, tx, dst->ino, din->size, dst_off));
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

