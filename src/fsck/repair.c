/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck's repairs, in journaled transactions (rolled over when one fills
 * up), in an order that keeps each step safe: checksums, then bitmaps and
 * counters (so the allocator below never hands out a block in use), then
 * records and trees, inode fields, the orphan list, the refcount tree,
 * and last the relinking of unreachable inodes into /lost+found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck/fsck_int.h"

/* ------------------------------------------------------------ transactions */

static int rep_begin(struct rep *r)
{
	r->tx = dxl_tx_begin(&r->ck->fs->j);
	if (!r->tx)
		r->err = dxl_err_keep(ENOMEM);
	return r->tx ? 0 : r->err;
}

static int rep_commit(struct rep *r)
{
	int rc = dxl_tx_commit(r->tx);
	r->tx = NULL;
	if (rc)
		r->err = rc;
	return rc;
}

/* Commit and start a new transaction when this one is nearly full. */
static int rep_roll(struct rep *r)
{
	if (!dxl_tx_full(r->tx))
		return 0;
	int rc = rep_commit(r);
	return rc ? rc : rep_begin(r);
}

/* A writable shadow of a metadata block; the commit sets its checksums. */
static void *rep_touch(struct rep *r, uint64_t blk)
{
	return dxl_tx_write(r->tx, blk);
}

/* Set or clear bits [from, to) of a bitmap starting at block bm_blk. */
void fk_set_bits(struct rep *r, uint64_t bm_blk, uint64_t from, uint64_t to, int val)
{
	struct ck *ck = r->ck;
	for (uint64_t i = from; i < to;) {
		uint64_t blk = bm_blk + (i >> (DXL_BLOCK_SHIFT + 3));
		uint64_t blk_end = ((i >> (DXL_BLOCK_SHIFT + 3)) + 1) << (DXL_BLOCK_SHIFT + 3);
		uint8_t *b = r->err ? NULL : dxl_tx_write(r->tx, blk);
		if (!b) {
			ck->oom = 1;
			return;
		}
		for (; i < to && i < blk_end; i++) {
			uint64_t bit = i & ((DXL_BLOCK_SIZE * 8) - 1);
			if (val)
				b[bit >> 3] |= (uint8_t)(1u << (bit & 7));
			else
				b[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
		}
		if (rep_roll(r) != 0) {
			ck->oom = 1;
			return;
		}
	}
}

struct coll {
	struct ck *ck;
	uint64_t ino;
	struct fk_vec recs;     /* struct crec */
	struct xctx x;
	int is_dir;
};
struct crec {
	uint64_t key;
	uint32_t vlen;
	int rekey;
	uint8_t val[DXL_NODE_MAX_VAL];
};

/* ------------------------------------------------------------ records and trees */

/* The value of a record with fix f (F_DRETYPE: a new type, F_XFLAGS: new
 * flags) applied, re-encoded by the codec into out (DXL_NODE_MAX_VAL
 * bytes, not val); 0 when the record no longer decodes but for the field
 * being mended. */
static uint32_t mend_record(const struct ck *ck, const struct fix *f, const uint8_t *val,
			    uint32_t vlen, uint8_t *out)
{
	struct dxl_rec_err err;
	if (f->kind == F_DRETYPE) {
		struct dxl_dent d;
		if (dxl_dirent_decode(val, vlen, &d, &err) != 0 && err.fault != DXL_REC_TYPE)
			return 0;
		d.type = f->arg;
		return dxl_dirent_encode(out, &d);
	}
	struct dxl_extent e;
	if (dxl_extent_decode(ck->sb, f->key, val, vlen, &e, &err) != 0 &&
	    err.fault != DXL_REC_FLAGS)
		return 0;
	e.flags = f->arg;
	return dxl_extent_encode(out, &e);
}

/* Rebuild walk: keep the records the check pass kept, with their fixes. */
static int collect_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct coll *c = arg;
	const struct fix *f = fk_find_fix(ck, c->ino, key);
	if (f && (f->kind == F_DREMOVE || f->kind == F_XDROP))
		return 0;
	if (vlen > DXL_NODE_MAX_VAL)
		return 0;
	if (!c->is_dir) {
		struct dxl_extent e;
		const char *why;
		if (fk_extent_ok(ck, &c->x, key, val, vlen, &e, &why) != 0)
			return 0;
		c->x.prev_end = key + e.len;
		c->x.have_prev = 1;
	}
	struct crec *cr = fk_vec_push(&c->recs, sizeof(*cr));
	if (!cr)
		return oom(ck);
	cr->key = key;
	cr->rekey = f && f->kind == F_DREKEY;
	if (f && (f->kind == F_DRETYPE || f->kind == F_XFLAGS)) {
		cr->vlen = mend_record(ck, f, val, vlen, cr->val);
		if (cr->vlen == 0)
			c->recs.n--; /* cannot be mended: dropped */
	} else {
		cr->vlen = vlen;
		memcpy(cr->val, val, vlen);
	}
	return 0;
}

/* Insert a directory record under a free key of its name's bucket. */
static int insert_rekeyed(struct rep *r, const struct dxl_broot *root, const uint8_t *val,
			  uint32_t vlen)
{
	struct ck *ck = r->ck;
	struct dxl_rec_err err;
	struct dxl_dent d;
	/* a record is rekeyed only when its name decodes (its type may not) */
	if (dxl_dirent_decode(val, vlen, &d, &err) != 0 && err.fault != DXL_REC_TYPE)
		return -EUCLEAN;
	uint64_t h = dxl_name_hash(d.name, d.name_len) & DXL_DIR_HASH_MASK;
	for (uint64_t k = 0; k <= 0xff; k++) {
		uint64_t found;
		uint32_t vl = 0;
		int rc = dxl_bt_lookup(ck->fs, r->tx, root, h | k, DXL_BT_EQ, &found, NULL, &vl);
		if (rc == -ENOENT)
			return dxl_bt_insert(ck->fs, r->tx, root, h | k, val, vlen);
		if (rc)
			return rc;
	}
	return -ENOSPC;
}

static int rebuild_tree(struct rep *r, uint32_t idx)
{
	struct ck *ck = r->ck;
	uint64_t ino = INF(ck, idx)->ino;
	struct coll c;
	struct dxl_broot root;
	int damaged, rc;

	memset(&c, 0, sizeof(c));
	c.ck = ck;
	c.ino = ino;
	c.is_dir = S_ISDIR(inode_at(ck, ino)->mode);
	c.x.idx = idx;
	dxl_inode_broot(ino, &root);
	ck->quiet = 1;
	rc = fk_walk_tree(ck, &root, "rebuild", 0, collect_cb, &c, &damaged);
	ck->quiet = 0;
	if (rc)
		goto out;
	uint8_t *blk = rep_touch(r, root.blk);
	if (!blk) {
		rc = -ENOMEM;
		goto out;
	}
	/* the old nodes are left behind: the next pass frees them as leaked */
	dxl_bt_init_root(blk + root.off, root.cap, root.owner);
	for (size_t i = 0; i < c.recs.n && rc == 0; i++) {
		struct crec *cr = &((struct crec *)c.recs.v)[i];
		if (cr->rekey)
			rc = insert_rekeyed(r, &root, cr->val, cr->vlen);
		else
			rc = dxl_bt_insert(ck->fs, r->tx, &root, cr->key, cr->val, cr->vlen);
		if (rc == 0)
			rc = rep_roll(r);
	}
	if (rc == 0)
		REPAIRED(ck, "inode %llu: tree rebuilt from its %zu good records", ull(ino), c.recs.n);
out:
	fk_vec_free(&c.recs);
	return rc;
}

static int apply_record_fixes(struct rep *r)
{
	struct ck *ck = r->ck;
	const struct fix *fx = ck->fixes.v;
	int rc = 0;
	for (size_t i = 0; i < ck->fixes.n && rc == 0; i++) {
		const struct fix *f = &fx[i];
		long s = fk_map_find(&ck->imap, f->ino);
		if (s < 0 || (INF(ck, ck->imap.vals[s])->flags & I_DAMAGED))
			continue; /* rebuilt as a whole */
		struct dxl_broot root;
		uint8_t val[DXL_NODE_MAX_VAL], mended[DXL_NODE_MAX_VAL];
		uint32_t vlen = sizeof(val);
		uint64_t found;
		dxl_inode_broot(f->ino, &root);
		switch (f->kind) {
		case F_DREMOVE:
		case F_XDROP:
			rc = dxl_bt_delete(ck->fs, r->tx, &root, f->key);
			if (!rc)
				REPAIRED(ck, "inode %llu: removed the bad %s record with key %#llx",
					 ull(f->ino), f->kind == F_XDROP ? "extent" : "directory",
					 ull(f->key));
			break;
		case F_DRETYPE:
		case F_XFLAGS:
		case F_DREKEY:
			rc = dxl_bt_lookup(ck->fs, r->tx, &root, f->key, DXL_BT_EQ, &found, val, &vlen);
			if (rc == -ENOENT) {
				rc = 0; /* moved by an earlier fix of the same record */
				break;
			}
			if (rc || vlen > sizeof(val))
				break;
			if (f->kind == F_DREKEY) {
				rc = dxl_bt_delete(ck->fs, r->tx, &root, f->key);
				if (!rc)
					rc = insert_rekeyed(r, &root, val, vlen);
				if (!rc)
					REPAIRED(ck, "directory %llu: entry \"%s\" moved to its hash key",
						 ull(f->ino), f->name);
				break;
			}
			vlen = mend_record(ck, f, val, vlen, mended);
			if (vlen == 0)
				break; /* no longer the record the fix was for */
			rc = dxl_bt_update(ck->fs, r->tx, &root, f->key, mended, vlen);
			if (!rc)
				REPAIRED(ck, "inode %llu: record with key %#llx %s", ull(f->ino),
					 ull(f->key), f->kind == F_DRETYPE ? "given the child's type" :
					 "given the right flags");
			break;
		}
		if (rc == 0)
			rc = rep_roll(r);
	}
	return rc;
}

static int fix_inode_fields(struct rep *r)
{
	struct ck *ck = r->ck;
	int rc = 0;
	for (size_t i = 0; i < ck->inf.n && rc == 0; i++) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		struct want w;
		fk_inode_wants(ck, (uint32_t)i, &w);
		if (!w.nlink_fix && !w.nentries_fix && !w.parent_fix && !w.nunits_fix)
			continue;
		struct dxl_inode *in = rep_touch(r, ii->ino);
		if (!in)
			return -ENOMEM;
		if (w.nlink_fix)
			in->nlink = w.nlink;
		if (w.nentries_fix)
			in->nentries = in->size = w.nentries;
		if (w.parent_fix)
			in->parent = w.parent;
		if (w.nunits_fix)
			in->nunits = w.nunits;
		REPAIRED(ck, "inode %llu:%s%s%s%s", ull(ii->ino),
			 w.nlink_fix ? " link count set" : "", w.nentries_fix ? " entry count set" : "",
			 w.parent_fix ? " parent set" : "", w.nunits_fix ? " mapped units set" : "");
		rc = rep_roll(r);
	}
	return rc;
}

/* Rewrite the orphan list: every unlinked inode with no links, and only them. */
static int rebuild_orphans(struct rep *r)
{
	struct ck *ck = r->ck;
	uint64_t head = 0;
	int rc = 0;
	for (size_t i = ck->inf.n; i-- > 0 && rc == 0;) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		const struct dxl_inode *cur = inode_at(ck, ii->ino);
		/* unlinked and not being relinked: its link count is (or was just
		 * set to) 0 by fix_inode_fields */
		int member = !(ii->flags & (I_LINKED | I_LOST)) && ii->ino != ck->sb->root_ino &&
			     (ii->flags & (I_TOORPH | I_ORPHAN));
		if (!member && !(cur->flags & DXL_INODE_F_ORPHAN) && !cur->orphan_next)
			continue;
		struct dxl_inode *in = rep_touch(r, ii->ino);
		if (!in)
			return -ENOMEM;
		if (member) {
			in->nlink = 0;
			in->flags |= DXL_INODE_F_ORPHAN;
			in->orphan_next = head;
			head = ii->ino;
		} else {
			in->flags &= ~DXL_INODE_F_ORPHAN;
			in->orphan_next = 0;
		}
		rc = rep_roll(r);
	}
	if (rc)
		return rc;
	struct dxl_sb *sb = dxl_sb_write(r->tx);
	if (!sb)
		return -ENOMEM;
	sb->orphan_head = head;
	REPAIRED(ck, "orphan list rebuilt (it will be freed at the next open)");
	return 0;
}

static int rebuild_refc(struct rep *r)
{
	struct ck *ck = r->ck;
	struct dxl_broot root;
	int rc;
	dxl_refc_broot(ck->fs, &root);
	/* a tree we can read is freed node by node; otherwise its root is
	 * reset and the next pass frees the unreachable nodes */
	do {
		rc = dxl_bt_destroy(ck->fs, r->tx, &root);
		if (rc == -EAGAIN && (rc = rep_commit(r)) == 0 && (rc = rep_begin(r)) == 0)
			rc = -EAGAIN;
	} while (rc == -EAGAIN);
	if (rc) {
		uint8_t *blk = rep_touch(r, root.blk);
		if (!blk)
			return -ENOMEM;
		dxl_bt_init_root(blk + root.off, root.cap, root.owner);
		rc = 0;
	}
	const struct rrec *runs = ck->runs.v;
	for (size_t i = 0; i < ck->runs.n && rc == 0; i++) {
		if (runs[i].count < 2)
			continue;
		struct dxl_refc rv = {runs[i].len, runs[i].count};
		uint8_t val[DXL_REFC_VLEN];
		uint32_t vlen = dxl_refc_encode(val, &rv);
		rc = dxl_bt_insert(ck->fs, r->tx, &root, runs[i].start, val, vlen);
		if (rc == 0)
			rc = rep_roll(r);
	}
	if (rc == 0)
		REPAIRED(ck, "refcount tree rebuilt from the extents (%llu shared units)",
			 ull(ck->shared_units));
	return rc;
}

static int relink_lost(struct rep *r)
{
	struct ck *ck = r->ck;
	uint64_t root = ck->sb->root_ino, lf;
	int rc;
	if (ck->lf_idx != NO_IDX) {
		lf = INF(ck, ck->lf_idx)->ino;
	} else {
		struct dxl_inode *in;
		rc = dxl_inode_alloc(ck->fs, r->tx, S_IFDIR | 0700, 0, 0, root, &in);
		if (rc)
			return rc;
		lf = in->ino;
		in->nlink = 2;
		/* dxl_dir_add keeps the parent's entry count and link count */
		rc = dxl_dir_add(ck->fs, r->tx, root, "lost+found", 10, lf, DT_DIR);
		if (rc)
			return rc;
		REPAIRED(ck, "created /lost+found (inode %llu)", ull(lf));
	}
	for (size_t i = 0; i < ck->lostroots.n; i++) {
		uint32_t idx = ((uint32_t *)ck->lostroots.v)[i];
		uint64_t ino = INF(ck, idx)->ino;
		uint32_t mode = inode_at(ck, ino)->mode;
		char name[32];
		int n = snprintf(name, sizeof(name), "#%llu", ull(ino));
		rc = dxl_dir_add(ck->fs, r->tx, lf, name, (size_t)n, ino, mode_dtype(mode));
		if (rc)
			return rc;
		struct dxl_inode *in = rep_touch(r, ino);
		if (!in)
			return -ENOMEM;
		if (S_ISDIR(mode))
			in->parent = lf;
		else if (in->nlink == 0)
			in->nlink = 1;
		REPAIRED(ck, "inode %llu linked as /lost+found/%s", ull(ino), name);
		if ((rc = rep_roll(r)) != 0)
			return rc;
	}
	return 0;
}

int fk_repair_pass(struct ck *ck)
{
	struct rep r = {ck, NULL, 0};
	int rc;

	if ((rc = rep_begin(&r)) != 0)
		return rc;
	/* 1. checksums: rewriting the block makes the commit recompute them */
	for (size_t i = 0; i < ck->crcblks.n && rc == 0; i++) {
		uint64_t blk = ((uint64_t *)ck->crcblks.v)[i];
		uint32_t *crc = rep_touch(&r, blk);
		if (!crc)
			return -ENOMEM;
		/* invert the stored checksum so the block differs and is rewritten
		 * even by a commit that skips unchanged blocks; finalize sets it */
		crc[1] = ~crc[1];
		REPAIRED(ck, "block %llu: checksum recomputed", ull(blk));
		rc = rep_roll(&r);
	}
	/* 2. bitmaps and counters first, so that the allocator used by the
	 * repairs below never hands out a block that is in use */
	if (rc == 0 && ck->fix_dbitmap) {
		fk_dbitmap_ranges(ck, 0, &r);
		REPAIRED(ck, "data allocation bitmap set from the extent maps");
	}
	if (rc == 0 && ck->fix_mbitmap) {
		rc = fk_mbitmap_ranges(ck, 0, &r);
		REPAIRED(ck, "metadata allocation bitmap set from the blocks in use");
	}
	if (rc == 0 && (ck->fix_counters || ck->fix_dbitmap || ck->fix_mbitmap)) {
		struct dxl_sb *sb = dxl_sb_write(r.tx);
		if (!sb)
			return -ENOMEM;
		sb->free_units = ck->sb->data_units - ck->units_used;
		sb->free_meta = ck->sb->meta_blocks - ck->metaset.n;
		sb->inodes = ck->ninodes;
		if (sb->next_gen <= ck->max_gen)
			sb->next_gen = ck->max_gen + 1;
		REPAIRED(ck, "superblock counters set: %llu free units, %llu free metadata blocks,"
			 " %llu inodes", ull(sb->free_units), ull(sb->free_meta), ull(sb->inodes));
	}
	if (rc == 0 && ck->oom)
		rc = -ENOMEM;
	if (rc == 0)
		rc = rep_commit(&r) ? r.err : rep_begin(&r);
	/* 3. records and trees */
	for (size_t i = 0; i < ck->inf.n && rc == 0; i++)
		if ((INF(ck, (uint32_t)i)->flags & (I_DAMAGED | I_VALID)) == (I_DAMAGED | I_VALID))
			rc = rebuild_tree(&r, (uint32_t)i);
	if (rc == 0)
		rc = apply_record_fixes(&r);
	/* 4. bookkeeping fields */
	if (rc == 0)
		rc = fix_inode_fields(&r);
	if (rc == 0 && ck->orphan_bad)
		rc = rebuild_orphans(&r);
	if (rc == 0)
		rc = rep_commit(&r) ? r.err : rep_begin(&r);
	/* 5. sharing */
	if (rc == 0 && ck->refc_bad)
		rc = rebuild_refc(&r);
	/* 6. reconnect */
	if (rc == 0 && ck->lostroots.n)
		rc = relink_lost(&r);
	if (rc == 0)
		return rep_commit(&r) ? r.err : 0;
	if (r.tx)
		dxl_tx_abort(r.tx);
	fk_say(ck, "repair stopped: %s", dxl_errmsg());
	return rc;
}
