/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File extent maps: the inode's B+tree from file unit to a run of data
 * units.  Extents never overlap in file space.
 */
#include <string.h>

#include "fs.h"

#define EXT_MAX_LEN UINT32_MAX

/* Records are decoded and encoded by the codec in src/format/record.c,
 * the one fsck uses too, so the two agree on what a damaged record is. */
static int ext_get(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root, uint64_t key,
		   enum dxl_bt_match how, uint64_t *fk, struct dxl_extent *e)
{
	uint8_t val[DXL_EXTENT_VLEN];
	uint32_t vlen = sizeof(val);
	struct dxl_rec_err err;
	int rc = dxl_bt_lookup(fs, tx, root, key, how, fk, val, &vlen);

	if (rc)
		return rc;
	/* vlen is the stored length: the decoder checks it before reading */
	if (dxl_extent_decode(&fs->geo, *fk, val, vlen, e, &err))
		return dxl_err(EUCLEAN, "inode %llu: bad extent at file unit %llu: it %s",
			       (unsigned long long)root->owner, (unsigned long long)*fk, err.why);
	return 0;
}

static int ext_put(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root, uint64_t key,
		   const struct dxl_extent *e, int update)
{
	uint8_t val[DXL_EXTENT_VLEN];
	uint32_t vlen = dxl_extent_encode(val, e);

	return update ? dxl_bt_update(fs, tx, root, key, val, vlen)
		      : dxl_bt_insert(fs, tx, root, key, val, vlen);
}

int dxl_ext_map(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu, struct dxl_map *m)
{
	struct dxl_broot root;
	struct dxl_extent e;
	uint64_t k;
	int rc;

	dxl_inode_broot(ino, &root);
	rc = ext_get(fs, tx, &root, fu, DXL_BT_LE, &k, &e);
	if (rc == 0 && fu < k + e.len) {
		m->hole = 0;
		m->phys = e.phys + (fu - k);
		m->len = k + e.len - fu;
		m->flags = e.flags;
		return 0;
	}
	if (rc && rc != -ENOENT)
		return rc;
	m->hole = 1;
	m->phys = 0;
	m->flags = 0;
	rc = fu == UINT64_MAX ? -ENOENT : ext_get(fs, tx, &root, fu + 1, DXL_BT_GE, &k, &e);
	if (rc == -ENOENT) {
		m->len = UINT64_MAX - fu;
		return 0;
	}
	if (rc)
		return rc;
	m->len = k - fu;
	return 0;
}

static int nunits_add(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, int64_t delta)
{
	struct dxl_inode *in;
	int rc = dxl_inode_write(fs, tx, ino, &in);

	if (rc)
		return rc;
	in->nunits += (uint64_t)delta;
	return 0;
}

int dxl_ext_insert(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu, uint64_t phys,
		   uint64_t len, uint32_t flags)
{
	struct dxl_broot root;
	struct dxl_extent e;
	uint64_t k, total = len;
	int rc;

	dxl_inode_broot(ino, &root);
	/* Grow the left neighbour when the new run continues it on disk too:
	 * sequential writes then stay one extent. */
	if (fu > 0 && ext_get(fs, tx, &root, fu - 1, DXL_BT_LE, &k, &e) == 0 && k + e.len == fu &&
	    e.phys + e.len == phys && e.flags == flags && (uint64_t)e.len + len <= EXT_MAX_LEN) {
		e.len += (uint32_t)len;
		rc = ext_put(fs, tx, &root, k, &e, 1);
		if (rc)
			return rc;
		len = 0;
	}
	while (len) {
		uint64_t n = DXL_MIN(len, EXT_MAX_LEN);
		e.phys = phys;
		e.len = (uint32_t)n;
		e.flags = flags;
		rc = ext_put(fs, tx, &root, fu, &e, 0);
		if (rc)
			return rc == -EEXIST ? dxl_err(EUCLEAN, "inode %llu: extent at unit %llu already mapped",
						      (unsigned long long)ino, (unsigned long long)fu)
					     : rc;
		fu += n;
		phys += n;
		len -= n;
	}
	return nunits_add(fs, tx, ino, (int64_t)total);
}

/* Drop the file's reference to [phys, phys+len). */
static int drop_units(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t phys, uint64_t len, uint32_t flags)
{
	if (flags & DXL_EXT_SHARED)
		return dxl_refc_dec(fs, tx, phys, len);
	return dxl_unit_free(fs, tx, phys, len);
}

int dxl_ext_remove(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu, uint64_t len)
{
	struct dxl_broot root;
	uint64_t end = (len > UINT64_MAX - fu) ? UINT64_MAX : fu + len;
	int rc;

	if (len == 0)
		return 0;
	dxl_inode_broot(ino, &root);
	/* From the end backwards, so that a call cut short by a full
	 * transaction is resumed by calling again with the same range. */
	for (;;) {
		struct dxl_extent e, keep;
		uint64_t k, ke, lo, hi;

		if (dxl_tx_full(tx))
			return -EAGAIN;
		rc = ext_get(fs, tx, &root, end - 1, DXL_BT_LE, &k, &e);
		if (rc == -ENOENT)
			return 0;
		if (rc)
			return rc;
		ke = k + e.len;
		if (ke <= fu)
			return 0;
		lo = DXL_MAX(k, fu);
		hi = DXL_MIN(ke, end);

		if (hi < ke) { /* keep the tail [hi, ke) as its own extent */
			keep = e;
			keep.phys = e.phys + (hi - k);
			keep.len = (uint32_t)(ke - hi);
			rc = ext_put(fs, tx, &root, hi, &keep, 0);
			if (rc)
				return rc;
		}
		if (lo > k) { /* keep the head [k, lo) under the same key */
			keep = e;
			keep.len = (uint32_t)(lo - k);
			rc = ext_put(fs, tx, &root, k, &keep, 1);
		} else {
			rc = dxl_bt_delete(fs, tx, &root, k);
		}
		if (rc)
			return rc;
		rc = drop_units(fs, tx, e.phys + (lo - k), hi - lo, e.flags);
		if (rc)
			return rc;
		rc = nunits_add(fs, tx, ino, -(int64_t)(hi - lo));
		if (rc)
			return rc;
		if (lo == fu)
			return 0;
		end = lo;
	}
}

/*
 * Collapse and insert range: move every extent at or after `from` by n
 * units, down (the n units below `from` are empty: the caller removed
 * them) or up (an extent across `from` is split there first).  Records
 * are re-keyed, nothing is freed or allocated: shared units stay shared,
 * pins stay on their units.  Resumable: *cursor starts at `from` (down) or
 * UINT64_MAX (up) and records the progress; on -EAGAIN (the transaction
 * is full) the caller commits and calls again with the same cursor.
 */
int dxl_ext_shift(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t from, uint64_t n,
		  int down, uint64_t *cursor)
{
	struct dxl_broot root;
	struct dxl_extent e, keep;
	uint64_t k;
	int rc;

	dxl_inode_broot(ino, &root);
	if (!down && *cursor == UINT64_MAX && from > 0 &&
	    ext_get(fs, tx, &root, from - 1, DXL_BT_LE, &k, &e) == 0 && k + e.len > from) {
		keep = e;
		keep.len = (uint32_t)(from - k);
		e.phys += from - k;
		e.len -= keep.len;
		rc = ext_put(fs, tx, &root, k, &keep, 1);
		if (rc == 0)
			rc = ext_put(fs, tx, &root, from, &e, 0);
		if (rc)
			return rc;
	}
	for (;;) {
		if (dxl_tx_full(tx))
			return -EAGAIN;
		rc = ext_get(fs, tx, &root, *cursor, down ? DXL_BT_GE : DXL_BT_LE, &k, &e);
		if (rc == -ENOENT || (rc == 0 && k < from))
			return 0;
		if (rc)
			return rc;
		if (!down && k > UINT64_MAX - n - e.len)
			return dxl_err(EFBIG, "inode %llu: extent at unit %llu would move past the "
					      "largest file", (unsigned long long)ino, (unsigned long long)k);
		rc = dxl_bt_delete(fs, tx, &root, k);
		if (rc == 0)
			rc = ext_put(fs, tx, &root, down ? k - n : k + n, &e, 0);
		if (rc)
			return rc == -EEXIST ? dxl_err(EUCLEAN, "inode %llu: moving the extent at unit "
							       "%llu onto another", (unsigned long long)ino,
						      (unsigned long long)k)
					     : rc;
		/* next: above it (down), below it (up); it moved out of the way */
		if (down)
			*cursor = k + 1;
		else if (k == from)
			return 0;
		else
			*cursor = k - 1;
	}
}
