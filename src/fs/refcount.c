/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Share counts of data units (reflink / COW), kept in the refcount tree:
 * key = first unit of a range, value = {len, count}.  Only shared ranges
 * (count >= 2) have records; an allocated unit without one has count 1,
 * so a pool that never reflinks has an empty tree.
 *
 * Changes first split records at the edges of the range, so every record
 * met afterwards lies wholly inside or wholly outside it, then adjust the
 * records in order, and finally merge neighbours with equal counts around
 * the range so repeated reflinks of the same file do not fragment the tree.
 */
#include <stdint.h>
#include <string.h>

#include "fs/fs.h"

void dxl_refc_broot(struct dxl_fs *fs, struct dxl_broot *root)
{
	root->blk = fs->sb->refc_blk;
	root->off = 0;
	root->cap = DXL_BLOCK_SIZE;
	root->owner = 0;
}

/* A record, checked by the codec in src/format/record.c (the one fsck
 * uses too): a damaged one must not make us free or share units outside
 * the data region. */
static int rec_find(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		    uint64_t unit, enum dxl_bt_match how, uint64_t *key, struct dxl_refc *r)
{
	uint8_t val[DXL_REFC_VLEN];
	uint32_t vlen = sizeof(val);
	struct dxl_rec_err err;
	int rc = dxl_bt_lookup(fs, tx, root, unit, how, key, val, &vlen);

	if (rc < 0)
		return rc;
	/* vlen is the stored length: the decoder checks it before reading */
	if (dxl_refc_decode(fs->sb, *key, val, vlen, r, &err))
		return dxl_err(EUCLEAN,
			       "refcount tree: bad record at unit %llu: it %s (len %llu, count %llu, %u bytes)",
			       (unsigned long long)*key, err.why, (unsigned long long)r->len,
			       (unsigned long long)r->count, vlen);
	return 0;
}

int dxl_refc_get(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t unit, uint64_t *count,
		 uint64_t *run)
{
	struct dxl_broot root;
	struct dxl_refc r;
	uint64_t k;
	int rc;

	if (unit >= fs->sb->data_units)
		return dxl_err(EINVAL, "unit %llu outside the data region",
			       (unsigned long long)unit);
	dxl_refc_broot(fs, &root);
	rc = rec_find(fs, tx, &root, unit, DXL_BT_LE, &k, &r);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0 && unit - k < r.len) {
		*count = r.count;
		if (run)
			*run = r.len - (unit - k);
		return 0;
	}
	*count = 1;
	if (run) {
		rc = rec_find(fs, tx, &root, unit, DXL_BT_GE, &k, &r);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		*run = rc == 0 ? k - unit : fs->sb->data_units - unit;
	}
	return 0;
}

static int rec_put(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		   uint64_t key, uint64_t len, uint64_t count, int update)
{
	struct dxl_refc r = {.len = len, .count = count};
	uint8_t val[DXL_REFC_VLEN];
	uint32_t vlen = dxl_refc_encode(val, &r);

	return update ? dxl_bt_update(fs, tx, root, key, val, vlen)
		      : dxl_bt_insert(fs, tx, root, key, val, vlen);
}

/* Make x a record boundary. */
static int split_at(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		    uint64_t x)
{
	struct dxl_refc r;
	uint64_t k;
	int rc = rec_find(fs, tx, root, x, DXL_BT_LE, &k, &r);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (k == x || x - k >= r.len)
		return 0;
	rc = rec_put(fs, tx, root, k, x - k, r.count, 1);
	if (rc < 0)
		return rc;
	return rec_put(fs, tx, root, x, r.len - (x - k), r.count, 0);
}

/* Join adjacent records with the same count from the one ending at or
 * covering lo up to the one starting at hi. */
static int merge_range(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		       uint64_t lo, uint64_t hi)
{
	struct dxl_refc a, b;
	uint64_t ka, kb;
	int rc;

	rc = rec_find(fs, tx, root, lo ? lo - 1 : 0, DXL_BT_LE, &ka, &a);
	if (rc == -ENOENT)
		rc = rec_find(fs, tx, root, lo, DXL_BT_GE, &ka, &a);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	while (ka <= hi) {
		rc = rec_find(fs, tx, root, ka + a.len, DXL_BT_GE, &kb, &b);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		if (kb > hi)
			return 0;
		if (kb == ka + a.len && b.count == a.count) {
			a.len += b.len;
			rc = dxl_bt_delete(fs, tx, root, kb);
			if (rc == 0)
				rc = rec_put(fs, tx, root, ka, a.len, a.count, 1);
			if (rc < 0)
				return rc;
		} else {
			ka = kb;
			a = b;
		}
	}
	return 0;
}

static int range_check(struct dxl_fs *fs, uint64_t start, uint64_t len)
{
	if (len == 0 || start >= fs->sb->data_units || len > fs->sb->data_units - start)
		return dxl_err(EINVAL, "unit range %llu+%llu outside the data region",
			       (unsigned long long)start, (unsigned long long)len);
	return 0;
}

/* Before changing the counts of [start, start+len): check the range and
 * split records at its edges, so every record inside lies wholly inside. */
static int refc_range(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len,
		      struct dxl_broot *root)
{
	int rc = range_check(fs, start, len);

	if (rc < 0)
		return rc;
	dxl_refc_broot(fs, root);
	if ((rc = split_at(fs, tx, root, start)) < 0)
		return rc;
	return split_at(fs, tx, root, start + len);
}

int dxl_refc_inc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len)
{
	struct dxl_broot root;
	struct dxl_refc r;
	uint64_t end = start + len, pos = start, k;
	int rc;

	rc = refc_range(fs, tx, start, len, &root);
	if (rc < 0)
		return rc;
	while (pos < end) {
		rc = rec_find(fs, tx, &root, pos, DXL_BT_GE, &k, &r);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (rc == -ENOENT || k >= end) {
			/* units without a record had count 1 */
			rc = rec_put(fs, tx, &root, pos, end - pos, 2, 0);
			if (rc < 0)
				return rc;
			break;
		}
		if (k > pos) {
			rc = rec_put(fs, tx, &root, pos, k - pos, 2, 0);
			if (rc < 0)
				return rc;
		}
		if (r.len > end - k)
			return dxl_err(EUCLEAN, "refcount tree: record at unit %llu overlaps the next",
				       (unsigned long long)k);
		if (r.count == UINT64_MAX)
			return dxl_err(EOVERFLOW, "unit %llu shared too many times",
				       (unsigned long long)k);
		rc = rec_put(fs, tx, &root, k, r.len, r.count + 1, 1);
		if (rc < 0)
			return rc;
		pos = k + r.len;
	}
	return merge_range(fs, tx, &root, start, end);
}

int dxl_refc_dec(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len)
{
	struct dxl_broot root;
	struct dxl_refc r;
	uint64_t end = start + len, pos = start, k;
	int rc;

	rc = refc_range(fs, tx, start, len, &root);
	if (rc < 0)
		return rc;
	while (pos < end) {
		rc = rec_find(fs, tx, &root, pos, DXL_BT_GE, &k, &r);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (rc == -ENOENT || k >= end) {
			/* no record: the last reference goes */
			rc = dxl_unit_free(fs, tx, pos, end - pos);
			if (rc < 0)
				return rc;
			break;
		}
		if (k > pos) {
			rc = dxl_unit_free(fs, tx, pos, k - pos);
			if (rc < 0)
				return rc;
		}
		if (r.len > end - k)
			return dxl_err(EUCLEAN, "refcount tree: record at unit %llu overlaps the next",
				       (unsigned long long)k);
		if (r.count == 2)
			rc = dxl_bt_delete(fs, tx, &root, k);
		else
			rc = rec_put(fs, tx, &root, k, r.len, r.count - 1, 1);
		if (rc < 0)
			return rc;
		pos = k + r.len;
	}
	return merge_range(fs, tx, &root, start, end);
}
