/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck's walk: which inodes and tree nodes a pass reaches — from the root
 * directory, the orphan list and, last, the in-use blocks that hold an
 * inode nothing reached.  Every node is verified before its slots are
 * read and every block it names is claimed, so that a block used twice
 * is found; the records themselves are judged by the callbacks
 * (namespace.c for entries, space.c for extents and refcounts).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck/fsck_int.h"

/* ------------------------------------------------------------ metadata ownership */

/* Claim a metadata block for the ownership check: 1 = first claim,
 * 0 = already claimed (reported by the caller), <0 = out of memory. */
int fk_claim(struct ck *ck, uint64_t blk, int kind)
{
	int r = fk_map_put(&ck->metaset, blk, (uint32_t)kind);
	if (r < 0)
		return oom(ck);
	return r;
}

/* ------------------------------------------------------------ inodes */

static int mode_known(uint32_t mode)
{
	return dxl_fmt_mode_ok(mode);
}

/*
 * The info record of inode ino, creating it (and checking the inode) on
 * first sight.  Returns the index, or NO_IDX when ino is not a usable
 * inode (reported once per caller context by the caller) or on ENOMEM.
 * *bad is set when the block is not a valid inode.
 */
uint32_t fk_get_inode(struct ck *ck, uint64_t ino, int *bad)
{
	long slot = fk_map_find(&ck->imap, ino);
	*bad = 0;
	if (slot >= 0) {
		uint32_t idx = ck->imap.vals[slot];
		if (!(INF(ck, idx)->flags & I_VALID)) {
			*bad = 1;
			return NO_IDX;
		}
		return idx;
	}
	if (!in_meta(ck, ino)) {
		*bad = 1;
		return NO_IDX;
	}
	const struct dxl_inode *in = inode_at(ck, ino);
	int valid = in->magic == DXL_INODE_MAGIC && dxl_inode_verify(in, ino, 0) == 0 &&
		    mode_known(in->mode);
	struct iinfo *ii = fk_vec_push(&ck->inf, sizeof(*ii));
	if (!ii) {
		oom(ck);
		return NO_IDX;
	}
	memset(ii, 0, sizeof(*ii));
	ii->ino = ino;
	ii->flags = valid ? I_VALID : 0;
	uint32_t idx = (uint32_t)(ck->inf.n - 1);
	if (fk_map_put(&ck->imap, ino, idx) < 0) {
		oom(ck);
		return NO_IDX;
	}
	if (!valid) {
		*bad = 1;
		return NO_IDX;
	}
	if (fk_claim(ck, ino, K_INODE) == 0)
		PROBLEM(ck, "block %llu is an inode but is also used as a tree node", ull(ino));
	if (dxl_inode_verify(in, ino, 1) != 0) {
		PROBLEM(ck, "inode %llu: checksum does not match its contents", ull(ino));
		push_u64(ck, &ck->crcblks, ino);
	}
	if (in->gen > ck->max_gen)
		ck->max_gen = in->gen;
	ck->ninodes++;
	return idx;
}

/* ------------------------------------------------------------ tree walk */

struct frame {
	uint64_t blk;
	uint32_t off, cap;
	int level;              /* expected level, -1 for the root */
	uint64_t lo, hi;
	int has_hi;
};

/*
 * Walk a B+tree in key order with an explicit stack, verifying every node
 * before reading it.  A damaged node is reported and its subtree skipped;
 * *damaged tells the caller the tree should be rebuilt.  With do_claim the
 * node blocks are claimed for the ownership check (first walk of a pass).
 */
int fk_walk_tree(struct ck *ck, const struct dxl_broot *root, const char *what,
		     int do_claim, fk_rec_fn cb, void *arg, int *damaged)
{
	struct fk_vec st = {0};
	struct frame *f;
	uint64_t prev = 0;
	int have_prev = 0, rc = 0;

	*damaged = 0;
	if (root->blk == 0 || root->blk >= (ck->size >> DXL_BLOCK_SHIFT) ||
	    root->off > DXL_BLOCK_SIZE ||
	    root->cap > DXL_BLOCK_SIZE - root->off) {
		PROBLEM(ck, "%s: tree root at block %llu is outside the store", what,
			ull(root->blk));
		*damaged = 1;
		return 0;
	}
	f = fk_vec_push(&st, sizeof(*f));
	if (!f)
		return oom(ck);
	*f = (struct frame){root->blk, root->off, root->cap, -1, 0, 0, 0};

	while (st.n && rc == 0) {
		struct frame fr = ((struct frame *)st.v)[--st.n];
		const uint8_t *p = blkp(ck, fr.blk) + fr.off;
		const struct dxl_node_hdr *h = (const struct dxl_node_hdr *)p;

		if (dxl_node_verify(p, fr.cap, 0) != 0) {
			PROBLEM(ck, "%s: tree node in block %llu is damaged (%s)", what, ull(fr.blk),
				dxl_errmsg());
			*damaged = 1;
			continue;
		}
		if (h->owner != root->owner || h->cap != fr.cap ||
		    (fr.level >= 0 && h->level != fr.level) || h->level > DXL_NODE_MAX_LEVEL) {
			PROBLEM(ck, "%s: tree node in block %llu has owner %llu level %u capacity %u,"
				" expected owner %llu level %d capacity %u", what, ull(fr.blk),
				ull(h->owner), h->level, h->cap, ull(root->owner), fr.level, fr.cap);
			*damaged = 1;
			continue;
		}
		if (dxl_node_verify(p, fr.cap, 1) != 0) {
			PROBLEM(ck, "%s: tree node in block %llu: checksum does not match", what,
				ull(fr.blk));
			if (do_claim)
				push_u64(ck, &ck->crcblks, fr.blk);
		}
		size_t hdrsz = sizeof(*h);
		if (h->level == 0) {
			const struct dxl_leaf_slot *s = (const struct dxl_leaf_slot *)(p + hdrsz);
			size_t slots_end = hdrsz + (size_t)h->nrecs * sizeof(*s);
			if (slots_end > fr.cap) {
				PROBLEM(ck, "%s: leaf in block %llu: %u records overflow the node", what,
					ull(fr.blk), h->nrecs);
				*damaged = 1;
				continue;
			}
			for (uint32_t i = 0; i < h->nrecs && rc == 0; i++) {
				struct dxl_leaf_slot sl;
				memcpy(&sl, &s[i], sizeof(sl));
				/* values must lie between the slot array and the node's end */
				if (sl.off < slots_end || (uint32_t)sl.off + sl.len > fr.cap) {
					PROBLEM(ck, "%s: leaf in block %llu: record %u points outside the node",
						what, ull(fr.blk), i);
					*damaged = 1;
					continue;
				}
				if ((have_prev && sl.key <= prev) || sl.key < fr.lo ||
				    (fr.has_hi && sl.key >= fr.hi)) {
					PROBLEM(ck, "%s: leaf in block %llu: key %llu out of order", what,
						ull(fr.blk), ull(sl.key));
					*damaged = 1;
					continue;
				}
				prev = sl.key;
				have_prev = 1;
				rc = cb(ck, arg, sl.key, p + sl.off, sl.len);
			}
		} else {
			const struct dxl_int_ent *e = (const struct dxl_int_ent *)(p + hdrsz);
			if (hdrsz + (size_t)h->nrecs * sizeof(*e) > fr.cap || h->nrecs == 0) {
				PROBLEM(ck, "%s: internal node in block %llu has a bad record count %u",
					what, ull(fr.blk), h->nrecs);
				*damaged = 1;
				continue;
			}
			/* push in reverse so that child 0 is visited first (key order) */
			for (int i = h->nrecs - 1; i >= 0; i--) {
				struct dxl_int_ent en, nx;
				memcpy(&en, &e[i], sizeof(en));
				int last = i == h->nrecs - 1;
				if (!last)
					memcpy(&nx, &e[i + 1], sizeof(nx));
				if ((!last && nx.key <= en.key) || en.key < fr.lo ||
				    (fr.has_hi && en.key >= fr.hi)) {
					PROBLEM(ck, "%s: internal node in block %llu: key %llu out of order",
						what, ull(fr.blk), ull(en.key));
					*damaged = 1;
					continue;
				}
				if (!in_meta(ck, en.child)) {
					PROBLEM(ck, "%s: internal node in block %llu points at block %llu,"
						" outside the metadata region", what, ull(fr.blk),
						ull(en.child));
					*damaged = 1;
					continue;
				}
				if (do_claim) {
					int c = fk_claim(ck, en.child, K_NODE);
					if (c < 0) {
						rc = c;
						break;
					}
					if (c == 0) {
						PROBLEM(ck, "%s: tree node block %llu is already in use elsewhere",
							what, ull(en.child));
						*damaged = 1;
						continue;
					}
				}
				f = fk_vec_push(&st, sizeof(*f));
				if (!f) {
					rc = oom(ck);
					break;
				}
				*f = (struct frame){en.child, 0, DXL_BLOCK_SIZE, h->level - 1, en.key,
						    last ? fr.hi : nx.key, last ? fr.has_hi : 1};
			}
		}
	}
	fk_vec_free(&st);
	return rc;
}

/* Check a non-directory inode's own contents (once, when first reached). */
int fk_check_file(struct ck *ck, uint32_t idx, const char *path)
{
	uint64_t ino = INF(ck, idx)->ino;
	const struct dxl_inode *in = inode_at(ck, ino);
	INF(ck, idx)->flags |= I_SEEN;
	ck->files++;
	if (S_ISLNK(in->mode)) {
		if (in->size == 0 || in->size > DXL_SYMLINK_MAX)
			PROBLEM(ck, "inode %llu (%s): symlink of length %llu", ull(ino), path,
				ull(in->size));
		if (in->nunits)
			PROBLEM(ck, "inode %llu (%s): symlink maps %llu units", ull(ino), path,
				ull(in->nunits));
		return 0;
	}
	struct dxl_broot root;
	struct xctx x = {idx, path, 0, 0, 0};
	char what[64];
	int damaged = 0;
	dxl_inode_broot(ino, &root);
	snprintf(what, sizeof(what), "inode %llu extent map", ull(ino));
	int rc = fk_walk_tree(ck, &root, what, 1, fk_extent_cb, &x, &damaged);
	if (rc)
		return rc;
	if (damaged)
		INF(ck, idx)->flags |= I_DAMAGED;
	INF(ck, idx)->nunits_found = x.nunits;
	return 0;
}

/* Walk every directory queued so far, breadth first (no recursion). */
int fk_drain_queue(struct ck *ck)
{
	for (size_t i = 0; i < ck->queue.n; i++) {
		uint32_t idx = ((uint32_t *)ck->queue.v)[i];
		if (INF(ck, idx)->flags & I_SEEN)
			continue;
		int rc = fk_check_dir(ck, idx);
		if (rc)
			return rc;
	}
	ck->queue.n = 0;
	return 0;
}

/* Walk an inode that no directory reaches (orphan or lost). */
static int walk_root(struct ck *ck, uint32_t idx)
{
	if (INF(ck, idx)->flags & (I_SEEN | I_QUEUED))
		return 0;
	if (S_ISDIR(inode_at(ck, INF(ck, idx)->ino)->mode)) {
		INF(ck, idx)->flags |= I_QUEUED;
		int rc = push_u32(ck, &ck->queue, idx);
		return rc ? rc : fk_drain_queue(ck);
	}
	return fk_check_file(ck, idx, INF(ck, idx)->flags & I_ORPHAN ? "(orphan)" : "(unlinked)");
}

/* ------------------------------------------------------------ orphans, lost */

int fk_check_orphans(struct ck *ck)
{
	uint64_t ino = ck->sb->orphan_head;
	uint64_t steps = 0;
	int bad;

	while (ino) {
		/* a cycle cannot be longer than the number of metadata blocks */
		if (++steps > ck->sb->meta_blocks) {
			PROBLEM(ck, "orphan list does not end");
			ck->orphan_bad = 1;
			break;
		}
		uint32_t idx = fk_get_inode(ck, ino, &bad);
		if (ck->oom)
			return -ENOMEM;
		if (idx == NO_IDX) {
			PROBLEM(ck, "orphan list: %llu is not a valid inode", ull(ino));
			ck->orphan_bad = 1;
			break;
		}
		if (INF(ck, idx)->flags & I_ORPHAN) {
			PROBLEM(ck, "orphan list: inode %llu appears twice (the list has a cycle)",
				ull(ino));
			ck->orphan_bad = 1;
			break;
		}
		INF(ck, idx)->flags |= I_ORPHAN;
		const struct dxl_inode *in = inode_at(ck, ino);
		if (in->nlink != 0) {
			PROBLEM(ck, "orphan list: inode %llu has link count %u, not 0", ull(ino),
				in->nlink);
			ck->orphan_bad = 1;
		}
		int rc = walk_root(ck, idx);
		if (rc)
			return rc;
		ino = in->orphan_next;
	}
	return 0;
}

/* In-use inodes that neither the tree nor the orphan list reaches: every
 * metadata block marked used that holds a valid inode. */
int fk_find_lost(struct ck *ck)
{
	const struct dxl_sb *sb = ck->sb;
	const uint8_t *bm = mbitmap(ck);
	struct fk_vec cand = {0};
	int bad, rc = 0;

	for (uint64_t i = fk_bm_next(bm, 0, sb->meta_blocks, 1); i < sb->meta_blocks;
	     i = fk_bm_next(bm, i + 1, sb->meta_blocks, 1)) {
		uint64_t blk = sb->meta_blk + i;
		if (inode_at(ck, blk)->magic != DXL_INODE_MAGIC)
			continue;
		long s = fk_map_find(&ck->imap, blk);
		if (s >= 0 && (INF(ck, ck->imap.vals[s])->flags & (I_SEEN | I_QUEUED)))
			continue;
		if (fk_map_find(&ck->metaset, blk) >= 0 &&
		    ck->metaset.vals[fk_map_find(&ck->metaset, blk)] != K_INODE)
			continue; /* a tree node that happens to look like an inode */
		uint32_t idx = fk_get_inode(ck, blk, &bad);
		if (ck->oom) {
			rc = -ENOMEM;
			break;
		}
		if (idx != NO_IDX && (rc = push_u32(ck, &cand, idx)) != 0)
			break;
	}
	/* Directories first, from the top of each lost subtree (follow the
	 * parent fields while they lead to another lost directory), so that a
	 * lost subtree comes back whole under one /lost+found entry. */
	for (int round = 0; round < 2 && rc == 0; round++) {
		for (size_t k = 0; k < cand.n && rc == 0; k++) {
			uint32_t idx = ((uint32_t *)cand.v)[k];
			const struct dxl_inode *in = inode_at(ck, INF(ck, idx)->ino);
			if ((INF(ck, idx)->flags & (I_SEEN | I_QUEUED)) ||
			    (round == 0) != !!S_ISDIR(in->mode))
				continue;
			uint32_t top = idx;
			for (int hops = 0; round == 0 && hops < 4096; hops++) {
				uint64_t p = inode_at(ck, INF(ck, top)->ino)->parent;
				if (!in_meta(ck, p) || !meta_bit(ck, p) || p == INF(ck, top)->ino)
					break;
				uint32_t pidx = fk_get_inode(ck, p, &bad);
				if (pidx == NO_IDX || pidx == idx ||
				    (INF(ck, pidx)->flags & (I_SEEN | I_QUEUED)) ||
				    !S_ISDIR(inode_at(ck, p)->mode))
					break;
				top = pidx;
			}
			const struct dxl_inode *tin = inode_at(ck, INF(ck, top)->ino);
			if (!S_ISDIR(tin->mode) && tin->nlink == 0) {
				PROBLEM(ck, "inode %llu has no links and is not on the orphan list",
					ull(INF(ck, top)->ino));
				INF(ck, top)->flags |= I_TOORPH;
				ck->orphan_bad = 1;
			} else {
				PROBLEM(ck, "inode %llu (%s) is in use but not linked from any directory",
					ull(INF(ck, top)->ino), S_ISDIR(tin->mode) ? "directory" : "file");
				INF(ck, top)->flags |= I_LOST;
				rc = push_u32(ck, &ck->lostroots, top);
			}
			if (!rc)
				rc = walk_root(ck, top);
		}
	}
	fk_vec_free(&cand);
	return rc;
}
