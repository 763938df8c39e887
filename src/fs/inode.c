/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inodes: read/write views, allocation, the orphan list, reaping, and the
 * process-local open table that keeps unlinked-but-open files alive.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

struct dxl_openino {
	uint64_t ino;
	uint32_t count;
};

int dxl_inode_read(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, const struct dxl_inode **out)
{
	const struct dxl_inode *in = NULL;
	int shadowed = 0, rc;

	if (!dxl_is_meta_blk(fs, ino))
		return dxl_err(EUCLEAN, "inode number %llu is outside the metadata region",
			       (unsigned long long)ino);
	if (tx) {
		shadowed = dxl_tx_touched(tx, ino);
		in = dxl_tx_read(tx, ino);
	} else {
		in = dxl_blk_ptr(fs, ino);
	}
	/* a shadow's checksum is only set at commit */
	rc = dxl_inode_verify(in, ino, !shadowed);
	if (rc)
		return rc;
	*out = in;
	return 0;
}

int dxl_inode_write(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, struct dxl_inode **out)
{
	const struct dxl_inode *in = NULL;
	int rc = dxl_inode_read(fs, tx, ino, &in);

	if (rc)
		return rc;
	*out = dxl_tx_write(tx, ino);
	return 0;
}

void dxl_inode_broot(uint64_t ino, struct dxl_broot *root)
{
	root->blk = ino;
	root->off = DXL_INODE_HDR;
	root->cap = DXL_INODE_ROOT_CAP;
	root->owner = ino;
}

int dxl_inode_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint32_t mode, uint32_t uid, uint32_t gid,
		    uint64_t parent, struct dxl_inode **out)
{
	struct dxl_inode *in;
	struct dxl_sb *sb;
	uint64_t blk;
	int64_t now = dxl_now_ns();
	int rc = dxl_meta_alloc(fs, tx, &blk);

	if (rc)
		return rc;
	sb = dxl_sb_write(tx);
	in = dxl_tx_new(tx, blk);
	in->magic = DXL_INODE_MAGIC;
	in->ino = blk;
	in->gen = sb->next_gen++;
	in->mode = mode;
	in->uid = uid;
	in->gid = gid;
	in->atime_ns = in->mtime_ns = in->ctime_ns = in->btime_ns = now;
	in->parent = parent;
	if (!S_ISLNK(mode))
		dxl_bt_init_root((uint8_t *)in + DXL_INODE_HDR, DXL_INODE_ROOT_CAP, blk);
	sb->inodes++;
	*out = in;
	return 0;
}

/* Free an unlinked inode's storage and block in tx; -EAGAIN if the
 * transaction filled up first (the caller commits and goes on). */
static int free_inode(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint32_t mode)
{
	struct dxl_broot root;
	struct dxl_inode *w;
	int rc = 0;

	dxl_inode_broot(ino, &root);
	if (S_ISREG(mode))
		rc = dxl_ext_remove(fs, tx, ino, 0, UINT64_MAX >> fs->unit_shift);
	if (rc == 0 && !S_ISLNK(mode))
		rc = dxl_bt_destroy(fs, tx, &root);
	if (rc)
		return rc;
	rc = dxl_meta_free(fs, tx, ino);
	if (rc)
		return rc;
	w = dxl_tx_write(tx, ino);
	w->magic = 0; /* a freed block no longer looks like an inode */
	dxl_sb_write(tx)->inodes--;
	return 0;
}

/* Small enough to free inside the unlinking transaction: a tree that is a
 * single leaf of a few records touches a bounded number of blocks. */
static int small_inode(const struct dxl_inode *in)
{
	const struct dxl_node_hdr *h = (const void *)((const uint8_t *)in + DXL_INODE_HDR);

	return S_ISLNK(in->mode) || (h->level == 0 && h->nrecs <= 16);
}

int dxl_inode_unlink(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino)
{
	struct dxl_inode *in;
	struct dxl_sb *sb;
	int rc = dxl_inode_write(fs, tx, ino, &in);

	if (rc)
		return rc;
	if (in->nlink == 0)
		return dxl_err(EUCLEAN, "inode %llu: link count already 0", (unsigned long long)ino);
	in->ctime_ns = dxl_now_ns();
	/* a directory loses its own "." link along with its name */
	if (!S_ISDIR(in->mode) && --in->nlink > 0)
		return 0;
	in->nlink = 0;
	/* with leases in the pool the reaper frees it, after breaking them */
	if (!dxl_inode_is_open(fs, ino) && small_inode(in) && !dxl_lt_any(fs->rt))
		return free_inode(fs, tx, ino, in->mode);
	/* open here, or big: freed by dxl_inode_reap() in transactions of its own */
	sb = dxl_sb_write(tx);
	in->orphan_next = sb->orphan_head;
	in->flags |= DXL_INODE_F_ORPHAN;
	sb->orphan_head = ino;
	return 0;
}

/* Take ino off the orphan list (it is on it). */
static int orphan_remove(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino)
{
	const struct dxl_sb *sbr = dxl_sb_read(tx);
	uint64_t cur = sbr->orphan_head, prev = 0, next, guard = 0;
	const struct dxl_inode *in = NULL;
	struct dxl_inode *w;
	int rc;

	while (cur && cur != ino) {
		rc = dxl_inode_read(fs, tx, cur, &in);
		if (rc)
			return rc;
		prev = cur;
		cur = in->orphan_next;
		if (++guard > fs->sb->meta_blocks)
			return dxl_err(EUCLEAN, "orphan list has a cycle");
	}
	if (!cur)
		return dxl_err(EUCLEAN, "inode %llu is not on the orphan list", (unsigned long long)ino);
	/* raw: the caller may already have freed the inode in this tx */
	next = ((const struct dxl_inode *)dxl_tx_read(tx, ino))->orphan_next;
	if (prev) {
		rc = dxl_inode_write(fs, tx, prev, &w);
		if (rc)
			return rc;
		w->orphan_next = next;
	} else {
		dxl_sb_write(tx)->orphan_head = next;
	}
	return 0;
}

static int reap_locked(struct dxl_fs *fs, uint64_t ino)
{
	const struct dxl_inode *in = NULL;
	uint32_t mode;
	int rc;

	/* already freed by the unlinking transaction, or reused since */
	if (!dxl_meta_used(fs, NULL, ino) || *(const uint32_t *)dxl_blk_ptr(fs, ino) != DXL_INODE_MAGIC)
		return 0;
	rc = dxl_inode_read(fs, NULL, ino, &in);
	if (rc)
		return rc;
	if (in->nlink != 0 || !(in->flags & DXL_INODE_F_ORPHAN))
		return 0;
	/* the last link is gone: leases on the file are broken before its
	 * storage goes (this may drop the lock, so look again after) */
	rc = dxl_fs_break(fs, ino, 0, UINT64_MAX, 0, 0);
	if (rc)
		return rc;
	if (!dxl_meta_used(fs, NULL, ino) || *(const uint32_t *)dxl_blk_ptr(fs, ino) != DXL_INODE_MAGIC ||
	    dxl_inode_read(fs, NULL, ino, &in) || in->nlink != 0 || !(in->flags & DXL_INODE_F_ORPHAN) ||
	    dxl_inode_is_open(fs, ino))
		return 0;
	mode = in->mode;
	/* The inode stays on the orphan list until its last transaction, so
	 * a crash in between resumes here at the next open. */
	for (;;) {
		struct dxl_tx *tx = dxl_tx_begin(&fs->j);
		rc = free_inode(fs, tx, ino, mode);
		if (rc == 0)
			rc = orphan_remove(fs, tx, ino);
		if (rc && rc != -EAGAIN) {
			dxl_tx_abort(tx);
			return rc;
		}
		{
			int crc = dxl_tx_commit(tx);
			if (crc)
				return crc;
		}
		if (rc == 0)
			return 0;
	}
}

int dxl_inode_reap(struct dxl_fs *fs, uint64_t ino)
{
	if (fs->rdonly || dxl_inode_is_open(fs, ino))
		return 0;
	return reap_locked(fs, ino);
}

int dxl_orphans_reap_all(struct dxl_fs *fs)
{
	uint64_t guard = 0;

	while (fs->sb->orphan_head) {
		uint64_t ino = fs->sb->orphan_head;
		const struct dxl_inode *in = NULL;
		int rc = dxl_inode_read(fs, NULL, ino, &in);

		if (rc)
			return rc;
		if (in->nlink != 0)
			return dxl_err(EUCLEAN, "orphan list: inode %llu has links (run daxlease fsck --repair)",
				       (unsigned long long)ino);
		rc = reap_locked(fs, ino);
		if (rc)
			return rc;
		if (++guard > fs->sb->meta_blocks)
			return dxl_err(EUCLEAN, "orphan list does not end");
	}
	return 0;
}

static struct timespec ns_to_ts(int64_t ns)
{
	struct timespec ts;
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	if (ts.tv_nsec < 0) {
		ts.tv_nsec += 1000000000L;
		ts.tv_sec--;
	}
	return ts;
}

void dxl_inode_to_stat(struct dxl_fs *fs, const struct dxl_inode *in, struct dxl_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = in->ino;
	st->mode = in->mode;
	st->nlink = in->nlink;
	st->uid = in->uid;
	st->gid = in->gid;
	st->size = in->size;
	st->allocated = in->nunits << fs->unit_shift;
	st->atime = ns_to_ts(in->atime_ns);
	st->mtime = ns_to_ts(in->mtime_ns);
	st->ctime = ns_to_ts(in->ctime_ns);
	st->btime = ns_to_ts(in->btime_ns);
	st->rdev = in->rdev;
}

static struct dxl_openino *open_find(struct dxl_fs *fs, uint64_t ino)
{
	uint32_t i;
	for (i = 0; i < fs->open_n; i++)
		if (fs->open_tab[i].ino == ino)
			return &fs->open_tab[i];
	return NULL;
}

int dxl_inode_open_get(struct dxl_fs *fs, uint64_t ino)
{
	struct dxl_openino *o = open_find(fs, ino);
	int rc;

	if (o) {
		o->count++;
		return 0;
	}
	if (fs->open_n == fs->open_cap) {
		uint32_t cap = fs->open_cap ? fs->open_cap * 2 : 16;
		struct dxl_openino *t = realloc(fs->open_tab, cap * sizeof(*t));
		if (!t)
			return dxl_err(ENOMEM, "out of memory for the open-file table");
		fs->open_tab = t;
		fs->open_cap = cap;
	}
	/* the first handle here: other processes must see it open too */
	rc = dxl_rt_ino_hold(fs->rt, ino);
	if (rc)
		return rc;
	fs->open_tab[fs->open_n++] = (struct dxl_openino){ ino, 1 };
	return 0;
}

void dxl_inode_open_put(struct dxl_fs *fs, uint64_t ino)
{
	struct dxl_openino *o = open_find(fs, ino);

	if (o && --o->count == 0) {
		*o = fs->open_tab[--fs->open_n];
		dxl_rt_ino_drop(fs->rt, ino);
	}
}

int dxl_inode_is_open(struct dxl_fs *fs, uint64_t ino)
{
	return open_find(fs, ino) != NULL || dxl_rt_ino_held_elsewhere(fs->rt, ino);
}
