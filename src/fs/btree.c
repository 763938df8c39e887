/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * B+tree over 4 KiB metadata blocks, root at a fixed place (see btree.h).
 *
 * Choices worth knowing:
 *  - No sibling pointers exist in the format, so in-order traversal keeps
 *    the root-to-leaf path and climbs it to reach the next/previous leaf.
 *  - key[0] of an internal node is kept a true lower bound of its subtree
 *    (format.h promises that to fsck): inserting a key below it lowers it
 *    on the way down.  Routing still sends keys below key[0] to child 0,
 *    so a lookup never needs the bound to be tight.
 *  - Splits are pre-emptive but only on the slow path: the common insert
 *    descends once; if the leaf has no room, a second descent splits every
 *    full node on the way down, so a parent always has room for the new
 *    separator and nothing has to climb back up.
 *  - The root never moves: it grows by moving its contents to a new block
 *    and becoming that block's parent; it shrinks back (on delete) when
 *    its only child fits in it again.
 *  - Non-root nodes are never left empty: an emptied node is freed and
 *    unhooked from its parent at once (destroy too, so a tree left half
 *    destroyed between transactions is still a valid tree).
 *  - Nothing here sets checksums: commit does, from the block kind.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fs/btree.h"
#include "fs/fs.h"

#define HDR_SZ ((uint32_t)sizeof(struct dxl_node_hdr))
#define SLOT_SZ ((uint32_t)sizeof(struct dxl_leaf_slot))
#define ENT_SZ ((uint32_t)sizeof(struct dxl_int_ent))
#define MAX_DEPTH (DXL_NODE_MAX_LEVEL + 1)

/* A node as reached from the root, with the position chosen in it. */
struct nref {
	uint64_t blk;
	uint32_t off, cap;
	uint8_t *p;   /* node start; writable only once w is set */
	int w;
	int idx;      /* internal: entry followed; leaf: slot position */
};

struct path {
	int depth;    /* lv[0] is the root, lv[depth - 1] the leaf */
	struct nref lv[MAX_DEPTH];
};

static inline struct dxl_node_hdr *H(const struct nref *r)
{
	return (struct dxl_node_hdr *)r->p;
}
static inline struct dxl_leaf_slot *SL(const uint8_t *p)
{
	return (struct dxl_leaf_slot *)(p + HDR_SZ);
}
static inline struct dxl_int_ent *EN(const uint8_t *p)
{
	return (struct dxl_int_ent *)(p + HDR_SZ);
}
static inline uint32_t int_max(uint32_t cap)
{
	return (cap - HDR_SZ) / ENT_SZ;
}

/* ------------------------------------------------------------ node access */

static const void *blk_read(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t blk)
{
	return tx ? dxl_tx_read(tx, blk) : dxl_blk_ptr(fs, blk);
}

/*
 * Read and check a node.  level < 0: the root (any level); otherwise the
 * level the parent implies, which is what makes a cycle impossible: levels
 * strictly decrease on the way down and are bounded by DXL_NODE_MAX_LEVEL.
 */
static int node_load(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		     uint64_t blk, uint32_t off, uint32_t cap, int level, struct nref *r)
{
	const uint8_t *b;
	const struct dxl_node_hdr *h;
	char why[256];

	if (level >= 0 && !dxl_is_meta_blk(fs, blk))
		return dxl_err(EUCLEAN,
			       "B+tree of owner %llu: child block %llu outside the metadata region",
			       (unsigned long long)root->owner, (unsigned long long)blk);
	b = blk_read(fs, tx, blk);
	if (!b)
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu unreadable",
			       (unsigned long long)root->owner, (unsigned long long)blk);
	h = (const void *)(b + off);
	if (dxl_node_verify(h, cap, 0) < 0) {
		snprintf(why, sizeof(why), "%s", dxl_errmsg());
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu: %s",
			       (unsigned long long)root->owner, (unsigned long long)blk, why);
	}
	if (h->owner != root->owner)
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu belongs to owner %llu",
			       (unsigned long long)root->owner, (unsigned long long)blk,
			       (unsigned long long)h->owner);
	if (level >= 0 && h->level != level)
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu has level %u, expected %d",
			       (unsigned long long)root->owner, (unsigned long long)blk, h->level,
			       level);
	if (h->level > 0 && h->nrecs == 0)
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu: internal node without entries",
			       (unsigned long long)root->owner, (unsigned long long)blk);
	r->blk = blk;
	r->off = off;
	r->cap = cap;
	r->p = (uint8_t *)(uintptr_t)h;
	r->w = 0;
	r->idx = 0;
	return 0;
}

static int root_load(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		     struct nref *r)
{
	if (root->cap < HDR_SZ + 2 * (SLOT_SZ + DXL_NODE_MAX_VAL) || root->cap > DXL_BLOCK_SIZE ||
	    root->off + root->cap > DXL_BLOCK_SIZE)
		return dxl_err(EINVAL, "B+tree root at block %llu: bad placement %u+%u",
			       (unsigned long long)root->blk, root->off, root->cap);
	return node_load(fs, tx, root, root->blk, root->off, root->cap, -1, r);
}

/* Child of an internal node, at the entry r->idx. */
static int child_load(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		      const struct nref *r, struct nref *c)
{
	return node_load(fs, tx, root, EN(r->p)[r->idx].child, 0, DXL_BLOCK_SIZE,
			 H(r)->level - 1, c);
}

/* A transaction that runs out of shadows hands out a scratch buffer (and
 * refuses to commit) rather than NULL; writing a node into a buffer other
 * blocks share would corrupt what we read back, so stop here instead. */
static int tx_overflow(uint64_t blk)
{
	return dxl_err(E2BIG, "metadata transaction too large (at B+tree block %llu)",
		       (unsigned long long)blk);
}

static int node_w(struct dxl_tx *tx, struct nref *r)
{
	uint8_t *b;

	if (r->w)
		return 0;
	b = dxl_tx_write(tx, r->blk);
	if (!b || !dxl_tx_touched(tx, r->blk))
		return tx_overflow(r->blk);
	r->p = b + r->off;
	r->w = 1;
	return 0;
}

static int node_new(struct dxl_fs *fs, struct dxl_tx *tx, uint16_t level, uint64_t owner,
		    struct nref *r)
{
	uint64_t blk = 0;
	uint8_t *b;
	int rc = dxl_meta_alloc(fs, tx, &blk);

	if (rc < 0)
		return rc;
	b = dxl_tx_new(tx, blk);
	if (!b || !dxl_tx_touched(tx, blk))
		return tx_overflow(blk);
	dxl_node_init(b, DXL_BLOCK_SIZE, level, owner);
	r->blk = blk;
	r->off = 0;
	r->cap = DXL_BLOCK_SIZE;
	r->p = b;
	r->w = 1;
	r->idx = 0;
	return 0;
}

/* ------------------------------------------------------------ leaf helpers */

/* First slot with key >= key. */
static int leaf_pos(const uint8_t *p, uint64_t key)
{
	const struct dxl_leaf_slot *s = SL(p);
	int lo = 0, hi = ((const struct dxl_node_hdr *)p)->nrecs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (s[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Entry to follow for key: the last with key[i] <= key, else 0. */
static int int_pos(const uint8_t *p, uint64_t key)
{
	const struct dxl_int_ent *e = EN(p);
	int lo = 0, hi = ((const struct dxl_node_hdr *)p)->nrecs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (e[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? lo - 1 : 0;
}

static uint32_t leaf_vbytes(const uint8_t *p)
{
	const struct dxl_node_hdr *h = (const void *)p;
	const struct dxl_leaf_slot *s = SL(p);
	uint32_t i, v = 0;

	for (i = 0; i < h->nrecs; i++)
		v += s[i].len;
	return v;
}

/* Bytes a node's contents need in a freshly packed node. */
static uint32_t node_need(const uint8_t *p)
{
	const struct dxl_node_hdr *h = (const void *)p;

	if (h->level == 0)
		return HDR_SZ + h->nrecs * SLOT_SZ + leaf_vbytes(p);
	return HDR_SZ + h->nrecs * ENT_SZ;
}

static int leaf_fits(const uint8_t *p, uint32_t vlen)
{
	const struct dxl_node_hdr *h = (const void *)p;

	return node_need(p) + SLOT_SZ + vlen <= h->cap;
}

/* Repack the values against the end of the node.  Verified nodes have
 * non-overlapping, in-bounds values, so this cannot run into the slots. */
static void leaf_compact(uint8_t *p)
{
	struct dxl_node_hdr *h = (void *)p;
	struct dxl_leaf_slot *s = SL(p);
	uint8_t tmp[DXL_BLOCK_SIZE];
	uint32_t i, top = h->cap;

	memcpy(tmp, p, h->cap);
	for (i = 0; i < h->nrecs; i++) {
		if (!s[i].len) {
			s[i].off = h->cap;
			continue;
		}
		top -= s[i].len;
		memcpy(p + top, tmp + s[i].off, s[i].len);
		s[i].off = (uint16_t)top;
	}
	h->heap = (uint16_t)top;
}

/* Caller checked leaf_fits(). */
static void leaf_insert_at(uint8_t *p, int idx, uint64_t key, const void *val, uint32_t vlen)
{
	struct dxl_node_hdr *h = (void *)p;
	struct dxl_leaf_slot *s = SL(p);

	if (h->heap < HDR_SZ + (h->nrecs + 1u) * SLOT_SZ + vlen)
		leaf_compact(p);
	memmove(&s[idx + 1], &s[idx], (h->nrecs - idx) * SLOT_SZ);
	h->heap = (uint16_t)(h->heap - vlen);
	if (vlen)
		memcpy(p + h->heap, val, vlen);
	s[idx].key = key;
	/* an empty value sits at the end, where no heap movement can leave
	 * it below the heap */
	s[idx].off = vlen ? h->heap : h->cap;
	s[idx].len = (uint16_t)vlen;
	s[idx].pad = 0;
	h->nrecs++;
}

static void leaf_remove_at(uint8_t *p, int idx)
{
	struct dxl_node_hdr *h = (void *)p;
	struct dxl_leaf_slot *s = SL(p);

	/* the lowest value is cheap to give back; others wait for a compaction */
	if (s[idx].off == h->heap)
		h->heap = (uint16_t)(h->heap + s[idx].len);
	memmove(&s[idx], &s[idx + 1], (h->nrecs - idx - 1) * SLOT_SZ);
	h->nrecs--;
	if (h->nrecs == 0)
		h->heap = h->cap;
}

static void int_insert_at(uint8_t *p, int idx, uint64_t key, uint64_t child)
{
	struct dxl_node_hdr *h = (void *)p;
	struct dxl_int_ent *e = EN(p);

	memmove(&e[idx + 1], &e[idx], (h->nrecs - idx) * ENT_SZ);
	e[idx].key = key;
	e[idx].child = child;
	h->nrecs++;
}

static void int_remove_at(uint8_t *p, int idx)
{
	struct dxl_node_hdr *h = (void *)p;
	struct dxl_int_ent *e = EN(p);

	memmove(&e[idx], &e[idx + 1], (h->nrecs - idx - 1) * ENT_SZ);
	h->nrecs--;
}

/* Fill dst (already initialised, same level) with src's records, packed. */
static void node_copy_recs(uint8_t *dst, const uint8_t *src, int from, int to)
{
	const struct dxl_node_hdr *sh = (const void *)src;
	struct dxl_node_hdr *dh = (void *)dst;
	int i;

	if (sh->level == 0) {
		const struct dxl_leaf_slot *s = SL(src);
		for (i = from; i < to; i++)
			leaf_insert_at(dst, dh->nrecs, s[i].key, src + s[i].off, s[i].len);
	} else {
		memcpy(EN(dst) + dh->nrecs, EN(src) + from, (size_t)(to - from) * ENT_SZ);
		dh->nrecs = (uint16_t)(dh->nrecs + (to - from));
	}
}

static uint64_t node_first_key(const uint8_t *p)
{
	const struct dxl_node_hdr *h = (const void *)p;

	return h->level == 0 ? SL(p)[0].key : EN(p)[0].key;
}

/* ------------------------------------------------------------ descent */

static int descend(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		   uint64_t key, struct path *pa)
{
	int d = 0, rc;

	rc = root_load(fs, tx, root, &pa->lv[0]);
	if (rc < 0)
		return rc;
	while (H(&pa->lv[d])->level > 0) {
		pa->lv[d].idx = int_pos(pa->lv[d].p, key);
		rc = child_load(fs, tx, root, &pa->lv[d], &pa->lv[d + 1]);
		if (rc < 0)
			return rc;
		d++;
	}
	pa->lv[d].idx = leaf_pos(pa->lv[d].p, key);
	pa->depth = d + 1;
	return 0;
}

/* From lv[d] (internal, idx set) down to a leaf, along the first (dir > 0)
 * or last (dir < 0) entries. */
static int descend_edge(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
			struct path *pa, int d, int dir)
{
	int rc;

	for (;;) {
		struct nref *c = &pa->lv[d + 1];

		rc = child_load(fs, tx, root, &pa->lv[d], c);
		if (rc < 0)
			return rc;
		d++;
		if (H(c)->level == 0) {
			c->idx = dir > 0 ? 0 : H(c)->nrecs;
			pa->depth = d + 1;
			return 0;
		}
		c->idx = dir > 0 ? 0 : H(c)->nrecs - 1;
	}
}

/* Move to the next (dir > 0) or previous non-empty leaf. 1 = moved, 0 = none. */
static int step_leaf(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		     struct path *pa, int dir)
{
	int d = pa->depth - 2, rc;

	while (d >= 0) {
		struct nref *r = &pa->lv[d];
		int nidx = r->idx + dir;

		if (nidx < 0 || nidx >= H(r)->nrecs) {
			d--;
			continue;
		}
		r->idx = nidx;
		rc = descend_edge(fs, tx, root, pa, d, dir);
		if (rc < 0)
			return rc;
		if (H(&pa->lv[pa->depth - 1])->nrecs > 0)
			return 1;
		/* an empty leaf is not made by this code, but tolerate one */
		d = pa->depth - 2;
	}
	return 0;
}

/* ------------------------------------------------------------ lookup / walk */

int dxl_bt_lookup(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, enum dxl_bt_match how, uint64_t *found, void *val,
		  uint32_t *vlen)
{
	struct path pa;
	struct nref *lf;
	const struct dxl_leaf_slot *s;
	int rc, idx, n;

	rc = descend(fs, tx, root, key, &pa);
	if (rc < 0)
		return rc;
	lf = &pa.lv[pa.depth - 1];
	idx = lf->idx;
	n = H(lf)->nrecs;
	if (idx < n && SL(lf->p)[idx].key == key) {
		/* exact hit satisfies every mode */
	} else if (how == DXL_BT_EQ) {
		return -ENOENT;
	} else if (how == DXL_BT_GE) {
		if (idx >= n) {
			rc = step_leaf(fs, tx, root, &pa, 1);
			if (rc <= 0)
				return rc < 0 ? rc : -ENOENT;
			lf = &pa.lv[pa.depth - 1];
			idx = 0;
		}
	} else {
		if (idx > 0) {
			idx--;
		} else {
			rc = step_leaf(fs, tx, root, &pa, -1);
			if (rc <= 0)
				return rc < 0 ? rc : -ENOENT;
			lf = &pa.lv[pa.depth - 1];
			idx = H(lf)->nrecs - 1;
		}
	}
	s = &SL(lf->p)[idx];
	if (found)
		*found = s->key;
	if (vlen) {
		if (val)
			memcpy(val, lf->p + s->off, DXL_MIN(*vlen, (uint32_t)s->len));
		*vlen = s->len;
	}
	return 0;
}

int dxl_bt_walk(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		uint64_t start, dxl_bt_visit_fn cb, void *arg)
{
	struct path pa;
	int rc, i;

	rc = descend(fs, tx, root, start, &pa);
	if (rc < 0)
		return rc;
	i = pa.lv[pa.depth - 1].idx;
	for (;;) {
		const struct nref *lf = &pa.lv[pa.depth - 1];
		const struct dxl_leaf_slot *s = SL(lf->p);

		for (; i < H(lf)->nrecs; i++) {
			rc = cb(arg, s[i].key, lf->p + s[i].off, s[i].len);
			if (rc)
				return rc;
		}
		rc = step_leaf(fs, tx, root, &pa, 1);
		if (rc <= 0)
			return rc;
		i = 0;
	}
}

static int walk_nodes_rec(struct dxl_fs *fs, const struct dxl_broot *root, struct nref *r,
			  dxl_bt_node_fn cb, void *arg)
{
	int i, rc;

	for (i = 0; i < H(r)->nrecs; i++) {
		struct nref c = { 0 };

		r->idx = i;
		rc = child_load(fs, NULL, root, r, &c);
		if (rc < 0)
			return rc;
		rc = cb(arg, c.blk, H(&c)->level);
		if (rc)
			return rc;
		if (H(&c)->level > 0) {
			rc = walk_nodes_rec(fs, root, &c, cb, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int dxl_bt_walk_nodes(struct dxl_fs *fs, const struct dxl_broot *root, dxl_bt_node_fn cb,
		      void *arg)
{
	struct nref r = { 0 };
	int rc = root_load(fs, NULL, root, &r);

	if (rc < 0)
		return rc;
	if (H(&r)->level == 0)
		return 0;
	return walk_nodes_rec(fs, root, &r, cb, arg);
}

/* ------------------------------------------------------------ insert */

void dxl_bt_init_root(void *root_node, uint32_t cap, uint64_t owner)
{
	dxl_node_init(root_node, (uint16_t)cap, 0, owner);
}

/* The root's contents move to a new block below it; the root becomes an
 * internal node with that block as its only child. */
static int grow_root(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		     struct nref *r)
{
	struct nref c = { 0 };
	struct dxl_node_hdr *h;
	int rc;

	if (H(r)->level >= DXL_NODE_MAX_LEVEL)
		return dxl_err(ENOSPC, "B+tree of owner %llu is at its maximum depth",
			       (unsigned long long)root->owner);
	rc = node_w(tx, r);
	if (rc < 0)
		return rc;
	rc = node_new(fs, tx, H(r)->level, root->owner, &c);
	if (rc < 0)
		return rc;
	node_copy_recs(c.p, r->p, 0, H(r)->nrecs);
	h = H(r);
	dxl_node_init(r->p, (uint16_t)r->cap, (uint16_t)(h->level + 1), root->owner);
	int_insert_at(r->p, 0, H(&c)->nrecs ? node_first_key(c.p) : 0, c.blk);
	return 0;
}

/*
 * Split the non-root child c of p (p has room for one more entry, p->idx
 * points at c).  Leaves split by bytes, internal nodes by count.  Both are
 * whole blocks, so either half has room for any one record afterwards.
 */
static int split_child(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		       struct nref *p, struct nref *c, struct nref *right)
{
	uint8_t tmp[DXL_BLOCK_SIZE];
	int n = H(c)->nrecs, s, rc;
	uint16_t level = H(c)->level;

	if (n < 2)
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu full with %d record(s)",
			       (unsigned long long)root->owner, (unsigned long long)c->blk, n);
	if ((rc = node_w(tx, p)) < 0 || (rc = node_w(tx, c)) < 0)
		return rc;
	if (level == 0) {
		const struct dxl_leaf_slot *sl = SL(c->p);
		uint32_t total = node_need(c->p) - HDR_SZ, acc = 0;

		for (s = 0; s < n - 1; s++) {
			uint32_t rec = SLOT_SZ + sl[s].len;
			if (s > 0 && acc + rec > total / 2)
				break;
			acc += rec;
		}
	} else {
		s = n / 2;
	}
	rc = node_new(fs, tx, level, root->owner, right);
	if (rc < 0)
		return rc;
	memcpy(tmp, c->p, c->cap);
	node_copy_recs(right->p, tmp, s, n);
	dxl_node_init(c->p, (uint16_t)c->cap, level, root->owner);
	node_copy_recs(c->p, tmp, 0, s);
	int_insert_at(p->p, p->idx + 1, node_first_key(right->p), right->blk);
	return 0;
}

/* Lower key[0] of internal nodes on the way to a new smallest key. */
static int lower_bound_fix(struct dxl_tx *tx, struct nref *r, uint64_t key)
{
	int rc;

	if (r->idx != 0 || EN(r->p)[0].key <= key)
		return 0;
	rc = node_w(tx, r);
	if (rc < 0)
		return rc;
	EN(r->p)[0].key = key;
	return 0;
}

static int node_full(const struct nref *r, uint32_t vlen)
{
	if (H(r)->level == 0)
		return !leaf_fits(r->p, vlen);
	return H(r)->nrecs >= int_max(r->cap);
}

/* Insert with splits on the way down; key is known to be absent. */
static int insert_slow(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		       uint64_t key, const void *val, uint32_t vlen)
{
	struct nref a, b, right;
	struct nref *cur = &a, *nxt = &b, *t;
	int rc;

	rc = root_load(fs, tx, root, cur);
	if (rc < 0)
		return rc;
	if (node_full(cur, vlen)) {
		rc = grow_root(fs, tx, root, cur);
		if (rc < 0)
			return rc;
	}
	while (H(cur)->level > 0) {
		cur->idx = int_pos(cur->p, key);
		rc = lower_bound_fix(tx, cur, key);
		if (rc < 0)
			return rc;
		rc = child_load(fs, tx, root, cur, nxt);
		if (rc < 0)
			return rc;
		if (node_full(nxt, vlen)) {
			rc = split_child(fs, tx, root, cur, nxt, &right);
			if (rc < 0)
				return rc;
			if (key >= node_first_key(right.p))
				*nxt = right;
		}
		t = cur;
		cur = nxt;
		nxt = t;
	}
	if (!leaf_fits(cur->p, vlen))
		return dxl_err(EUCLEAN, "B+tree of owner %llu: block %llu: no room after split",
			       (unsigned long long)root->owner, (unsigned long long)cur->blk);
	rc = node_w(tx, cur);
	if (rc < 0)
		return rc;
	leaf_insert_at(cur->p, leaf_pos(cur->p, key), key, val, vlen);
	return 0;
}

static int check_val(struct dxl_tx *tx, const void *val, uint32_t vlen)
{
	if (!tx)
		return dxl_err(EINVAL, "B+tree change without a transaction");
	if (vlen > DXL_NODE_MAX_VAL || (vlen && !val))
		return dxl_err(EINVAL, "B+tree value of %u bytes (at most %u)", vlen,
			       DXL_NODE_MAX_VAL);
	return 0;
}

int dxl_bt_insert(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, const void *val, uint32_t vlen)
{
	uint8_t vbuf[DXL_NODE_MAX_VAL];
	struct path pa;
	struct nref *lf;
	int rc, d;

	rc = check_val(tx, val, vlen);
	if (rc < 0)
		return rc;
	/* val may point into a node that a split is about to move */
	if (vlen)
		memcpy(vbuf, val, vlen);
	rc = descend(fs, tx, root, key, &pa);
	if (rc < 0)
		return rc;
	lf = &pa.lv[pa.depth - 1];
	if (lf->idx < H(lf)->nrecs && SL(lf->p)[lf->idx].key == key)
		return dxl_err(EEXIST, "B+tree of owner %llu: key %llu exists",
			       (unsigned long long)root->owner, (unsigned long long)key);
	if (!leaf_fits(lf->p, vlen))
		return insert_slow(fs, tx, root, key, vbuf, vlen);
	for (d = 0; d < pa.depth - 1; d++) {
		rc = lower_bound_fix(tx, &pa.lv[d], key);
		if (rc < 0)
			return rc;
	}
	rc = node_w(tx, lf);
	if (rc < 0)
		return rc;
	leaf_insert_at(lf->p, lf->idx, key, vbuf, vlen);
	return 0;
}

int dxl_bt_update(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key, const void *val, uint32_t vlen)
{
	uint8_t vbuf[DXL_NODE_MAX_VAL];
	struct path pa;
	struct nref *lf;
	struct dxl_leaf_slot *s;
	int rc;

	rc = check_val(tx, val, vlen);
	if (rc < 0)
		return rc;
	if (vlen)
		memcpy(vbuf, val, vlen);
	rc = descend(fs, tx, root, key, &pa);
	if (rc < 0)
		return rc;
	lf = &pa.lv[pa.depth - 1];
	if (lf->idx >= H(lf)->nrecs || SL(lf->p)[lf->idx].key != key)
		return dxl_err(ENOENT, "B+tree of owner %llu: no key %llu",
			       (unsigned long long)root->owner, (unsigned long long)key);
	rc = node_w(tx, lf);
	if (rc < 0)
		return rc;
	s = &SL(lf->p)[lf->idx];
	if (s->len == vlen) {
		if (vlen)
			memcpy(lf->p + s->off, vbuf, vlen);
		return 0;
	}
	leaf_remove_at(lf->p, lf->idx);
	if (leaf_fits(lf->p, vlen)) {
		leaf_insert_at(lf->p, lf->idx, key, vbuf, vlen);
		return 0;
	}
	/* the slow path routes the key back to this leaf and splits it; the
	 * leaf is never left without the key in between */
	return insert_slow(fs, tx, root, key, vbuf, vlen);
}

/* ------------------------------------------------------------ delete */

/* While the root has one child whose contents fit in it, pull them up.
 * A quarter of slack keeps an insert right after from growing it again. */
static int shrink_root(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root)
{
	uint8_t tmp[DXL_BLOCK_SIZE];
	struct nref r, c;
	int rc;

	for (;;) {
		rc = root_load(fs, tx, root, &r);
		if (rc < 0)
			return rc;
		if (H(&r)->level == 0 || H(&r)->nrecs != 1)
			return 0;
		r.idx = 0;
		rc = child_load(fs, tx, root, &r, &c);
		if (rc < 0)
			return rc;
		if (node_need(c.p) > r.cap - r.cap / 4)
			return 0;
		rc = node_w(tx, &r);
		if (rc < 0)
			return rc;
		memcpy(tmp, c.p, c.cap);
		dxl_node_init(r.p, (uint16_t)r.cap, H(&c)->level, root->owner);
		node_copy_recs(r.p, tmp, 0, ((struct dxl_node_hdr *)tmp)->nrecs);
		rc = dxl_meta_free(fs, tx, c.blk);
		if (rc < 0)
			return rc;
	}
}

/* lv[d] (non-root) is empty: free it and unhook it, upwards as needed. */
static int unhook_empty(struct dxl_fs *fs, struct dxl_tx *tx, struct path *pa, int d)
{
	int rc;

	if (d < 0 || d >= MAX_DEPTH)
		return dxl_err(EINVAL, "B+tree path level %d out of range", d);
	while (d > 0 && H(&pa->lv[d])->nrecs == 0) {
		struct nref *p = &pa->lv[d - 1];

		rc = dxl_meta_free(fs, tx, pa->lv[d].blk);
		if (rc < 0)
			return rc;
		rc = node_w(tx, p);
		if (rc < 0)
			return rc;
		int_remove_at(p->p, p->idx);
		d--;
	}
	if (d == 0 && H(&pa->lv[0])->level > 0 && H(&pa->lv[0])->nrecs == 0) {
		/* the tree is empty: the root goes back to being a leaf */
		struct nref *r = &pa->lv[0];
		rc = node_w(tx, r);
		if (rc < 0)
			return rc;
		dxl_node_init(r->p, (uint16_t)r->cap, 0, H(r)->owner);
	}
	return 0;
}

int dxl_bt_delete(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		  uint64_t key)
{
	struct path pa;
	struct nref *lf;
	int rc;

	if (!tx)
		return dxl_err(EINVAL, "B+tree change without a transaction");
	rc = descend(fs, tx, root, key, &pa);
	if (rc < 0)
		return rc;
	lf = &pa.lv[pa.depth - 1];
	if (lf->idx >= H(lf)->nrecs || SL(lf->p)[lf->idx].key != key)
		return dxl_err(ENOENT, "B+tree of owner %llu: no key %llu",
			       (unsigned long long)root->owner, (unsigned long long)key);
	rc = node_w(tx, lf);
	if (rc < 0)
		return rc;
	leaf_remove_at(lf->p, lf->idx);
	rc = unhook_empty(fs, tx, &pa, pa.depth - 1);
	if (rc < 0)
		return rc;
	return shrink_root(fs, tx, root);
}

/* ------------------------------------------------------------ destroy */

/*
 * One block at a time from the right edge: free the last leaf under the
 * last level-1 node (checking it is a node of this tree first, so a
 * damaged pointer does not free someone else's block), then any node that
 * empties.  Each step leaves a valid tree, so -EAGAIN can come anywhere.
 */
int dxl_bt_destroy(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root)
{
	struct path pa;
	int rc, d;

	if (!tx)
		return dxl_err(EINVAL, "B+tree change without a transaction");
	for (;;) {
		struct nref *r = &pa.lv[0];

		rc = root_load(fs, tx, root, r);
		if (rc < 0)
			return rc;
		if (H(r)->level == 0) {
			if (H(r)->nrecs == 0 && H(r)->heap == r->cap)
				return 0;
			rc = node_w(tx, r);
			if (rc < 0)
				return rc;
			dxl_node_init(r->p, (uint16_t)r->cap, 0, root->owner);
			return 0;
		}
		if (dxl_tx_full(tx))
			return -EAGAIN;
		/* levels strictly decrease from the root's, so a leaf comes
		 * before the path runs out; the bound is for the analyzers */
		for (d = 0; d < MAX_DEPTH - 1; d++) {
			struct nref *n = &pa.lv[d];

			n->idx = H(n)->nrecs - 1;
			rc = child_load(fs, tx, root, n, &pa.lv[d + 1]);
			if (rc < 0)
				return rc;
			if (H(&pa.lv[d + 1])->level == 0)
				break;
		}
		if (d >= MAX_DEPTH - 1)
			return dxl_err(EUCLEAN, "B+tree of owner %llu deeper than %d levels",
				       (unsigned long long)root->owner, DXL_NODE_MAX_LEVEL);
		pa.depth = d + 2;
		rc = dxl_meta_free(fs, tx, pa.lv[d + 1].blk);
		if (rc < 0)
			return rc;
		rc = node_w(tx, &pa.lv[d]);
		if (rc < 0)
			return rc;
		int_remove_at(pa.lv[d].p, pa.lv[d].idx);
		rc = unhook_empty(fs, tx, &pa, d);
		if (rc < 0)
			return rc;
	}
}
