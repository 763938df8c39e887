/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A B+tree of unique u64 keys and variable-length values (up to
 * DXL_NODE_MAX_VAL bytes), in 4 KiB metadata blocks, with its root at a
 * fixed place (inside an inode block, or a dedicated block).  One
 * implementation serves the three trees of the format: file extent maps,
 * directories and the refcount tree.
 *
 * Reads take a transaction or NULL (NULL reads the pool as committed).
 * Nodes read are checked structurally on every access (bounds, order), so
 * a damaged pool gives -EUCLEAN, never a wild pointer.
 * Deletion removes empty nodes but does not merge underfull ones.
 */
#ifndef DXL_BTREE_H
#define DXL_BTREE_H

#include <stdint.h>

#include "journal/journal.h"

struct dxl_fs;

struct dxl_broot {
	uint64_t blk;   /* block holding the root node */
	uint32_t off;   /* offset of the root node inside that block */
	uint32_t cap;   /* root node capacity */
	uint64_t owner; /* recorded in every node (ino, or 0) */
};

enum dxl_bt_match { DXL_BT_EQ, DXL_BT_LE, DXL_BT_GE };

/* Create an empty tree (an empty leaf at the root). */
void dxl_bt_init_root(void *root_node, uint32_t cap, uint64_t owner);

/*
 * Find a record: EQ = exactly key; LE = greatest key <= key; GE = least
 * key >= key.  On success stores the found key, copies up to *vlen bytes of
 * the value into val (val may be NULL) and sets *vlen to the value's length.
 * Returns 0, -ENOENT if there is no such record, or -EUCLEAN.
 */
int dxl_bt_lookup(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, enum dxl_bt_match how, uint64_t *found, void *val,
		  uint32_t *vlen);

/* Insert a new key (-EEXIST if present). May allocate nodes (-ENOSPC). */
int dxl_bt_insert(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, const void *val, uint32_t vlen);
/* Replace the value of an existing key (-ENOENT if absent). */
int dxl_bt_update(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, const void *val, uint32_t vlen);
/* Remove a key (-ENOENT if absent); frees nodes that become empty. */
int dxl_bt_delete(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key);

/* Visit records with key >= start in key order; cb returns 0 to go on,
 * non-zero to stop (returned as is).  The callback must not modify the tree. */
typedef int (*dxl_bt_visit_fn)(void *arg, uint64_t key, const void *val, uint32_t vlen);
int dxl_bt_walk(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		uint64_t start, dxl_bt_visit_fn cb, void *arg);

/* Free every node below the root and reset the root to an empty leaf.
 * May need several transactions for a big tree: returns -EAGAIN when the
 * transaction filled up (commit and call again). */
int dxl_bt_destroy(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root);

/* Visit every node block (not the root, which is in its fixed place): for
 * fsck.  cb gets the block number and level; returns non-zero to stop. */
typedef int (*dxl_bt_node_fn)(void *arg, uint64_t blk, int level);
int dxl_bt_walk_nodes(struct dxl_fs *fs, const struct dxl_broot *root, dxl_bt_node_fn cb,
		      void *arg);

#endif
