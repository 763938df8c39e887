/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck's space checks: extent records (by the record codec) and their
 * overlap inside a file, refcount records, the reference count of every
 * data unit (a sweep over the extents sorted by unit) against the refcount
 * tree and the extents' SHARED flags, both allocation bitmaps, and the
 * superblock's counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck/fsck_int.h"

/* ------------------------------------------------------------ words */

/* "unit 7" or "units 7-9": a range [a, b) in words. */
struct rng {
	char s[64];
};
static struct rng range_str(const char *what, uint64_t a, uint64_t b)
{
	struct rng r;
	if (b - a == 1)
		snprintf(r.s, sizeof(r.s), "%s %llu", what, ull(a));
	else
		snprintf(r.s, sizeof(r.s), "%ss %llu-%llu", what, ull(a), ull(b - 1));
	return r;
}

/* ------------------------------------------------------------ extents */

/* Is this extent record well formed, given the previous good one? 0 = ok,
 * else why not (msg).  The record itself is judged by the codec the library
 * uses; unknown flags are not a reason to drop it (fk_extent_cb clears them). */
int fk_extent_ok(struct ck *ck, struct xctx *x, uint64_t key, const uint8_t *val,
		     uint32_t vlen, struct dxl_extent *out, const char **why)
{
	struct dxl_rec_err err;
	if (dxl_extent_decode(ck->sb, key, val, vlen, out, &err) != 0 &&
	    err.fault != DXL_REC_FLAGS) {
		*why = err.why;
		return -1;
	}
	if (x->have_prev && key < x->prev_end) {
		*why = "overlaps the previous extent in the file";
		return -1;
	}
	return 0;
}

int fk_extent_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct xctx *x = arg;
	struct dxl_extent e;
	const char *why = NULL;
	uint64_t ino = INF(ck, x->idx)->ino;

	if (fk_extent_ok(ck, x, key, val, vlen, &e, &why) != 0) {
		PROBLEM(ck, "inode %llu (%s): extent at file unit %llu %s", ull(ino), x->path,
			ull(key), why);
		return fk_add_fix(ck, ino, key, F_XDROP) ? 0 : -ENOMEM;
	}
	x->prev_end = key + e.len;
	x->have_prev = 1;
	x->nunits += e.len;
	ck->extents++;
	if (e.flags & ~DXL_EXT_KNOWN) {
		PROBLEM(ck, "inode %llu (%s): extent at file unit %llu has unknown flags %#x",
			ull(ino), x->path, ull(key), e.flags);
		struct fix *f = fk_add_fix(ck, ino, key, F_XFLAGS);
		if (!f)
			return -ENOMEM;
		f->arg = e.flags & DXL_EXT_SHARED;
		e.flags &= DXL_EXT_SHARED;
	}
	struct xent *xe = fk_vec_push(&ck->xents, sizeof(*xe));
	if (!xe)
		return oom(ck);
	*xe = (struct xent){e.phys, key, ino, e.len, e.flags};
	return 0;
}

/* ------------------------------------------------------------ refcount tree */

static int refc_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	uint64_t *prev_end = arg;
	struct dxl_rec_err err;
	struct dxl_refc r;
	if (dxl_refc_decode(ck->sb, key, val, vlen, &r, &err) != 0) {
		PROBLEM(ck, "refcount record at unit %llu (length %llu, count %llu) %s", ull(key),
			ull(r.len), ull(r.count), err.why);
		ck->refc_bad = 1;
		return 0;
	}
	if (key < *prev_end) {
		PROBLEM(ck, "refcount record at unit %llu (length %llu, count %llu) overlaps the"
			" previous one", ull(key), ull(r.len), ull(r.count));
		ck->refc_bad = 1;
		return 0;
	}
	*prev_end = key + r.len;
	struct rrec *rr = fk_vec_push(&ck->refcs, sizeof(*rr));
	if (!rr)
		return oom(ck);
	*rr = (struct rrec){key, r.len, r.count};
	return 0;
}

int fk_check_refc_tree(struct ck *ck)
{
	struct dxl_broot root;
	uint64_t prev_end = 0;
	int damaged = 0;
	dxl_refc_broot(ck->fs, &root);
	/* the root block is in the metadata region in every layout mkfs makes;
	 * if it were not, there is no bitmap bit to account for it */
	if (in_meta(ck, root.blk) && fk_claim(ck, root.blk, K_REFC) == 0)
		PROBLEM(ck, "the refcount tree root block %llu is also used by an inode or node",
			ull(root.blk));
	int rc = fk_walk_tree(ck, &root, "refcount tree", 1, refc_cb, &prev_end, &damaged);
	if (damaged)
		ck->refc_bad = 1;
	return rc;
}

/* ------------------------------------------------------------ data units */

struct ev {
	uint64_t pos;
	int64_t delta;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int xent_cmp(const void *a, const void *b)
{
	const struct xent *x = a, *y = b;
	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

/* Sweep the extents into runs of constant reference count (count >= 1). */
static int build_runs(struct ck *ck)
{
	size_t n = ck->xents.n;
	struct ev *ev = malloc((n ? n : 1) * 2 * sizeof(*ev));
	if (!ev)
		return oom(ck);
	const struct xent *xs = ck->xents.v;
	for (size_t i = 0; i < n; i++) {
		ev[2 * i] = (struct ev){xs[i].phys, 1};
		ev[2 * i + 1] = (struct ev){xs[i].phys + xs[i].len, -1};
	}
	if (n)
		qsort(ev, 2 * n, sizeof(*ev), ev_cmp);
	int64_t cnt = 0;
	for (size_t i = 0; i < 2 * n;) {
		uint64_t pos = ev[i].pos;
		while (i < 2 * n && ev[i].pos == pos)
			cnt += ev[i++].delta;
		if (i == 2 * n)
			break;
		uint64_t next = ev[i].pos;
		if (cnt <= 0 || next == pos)
			continue;
		struct rrec *last = ck->runs.n ? &((struct rrec *)ck->runs.v)[ck->runs.n - 1] : NULL;
		if (last && last->start + last->len == pos && last->count == (uint64_t)cnt) {
			last->len += next - pos;
		} else {
			struct rrec *r = fk_vec_push(&ck->runs, sizeof(*r));
			if (!r) {
				free(ev);
				return oom(ck);
			}
			*r = (struct rrec){pos, next - pos, (uint64_t)cnt};
		}
		ck->units_used += next - pos;
		if (cnt >= 2)
			ck->shared_units += next - pos;
	}
	free(ev);
	return 0;
}

/* Reference count of unit u in a sorted run list (0 if in no run), and the
 * first unit past u where it may change. */
static uint64_t count_at(const struct rrec *r, size_t n, size_t *cur, uint64_t u, uint64_t *next)
{
	while (*cur < n && r[*cur].start + r[*cur].len <= u)
		(*cur)++;
	if (*cur == n) {
		*next = ~0ull;
		return 0;
	}
	if (r[*cur].start > u) {
		*next = r[*cur].start;
		return 0;
	}
	*next = r[*cur].start + r[*cur].len;
	return r[*cur].count;
}

/* Compare the computed counts with the refcount tree: a unit referenced N
 * times (N >= 2) needs a record saying N; other units no record at all. */
static void compare_refcounts(struct ck *ck)
{
	const struct rrec *runs = ck->runs.v, *recs = ck->refcs.v;
	size_t ci = 0, ri = 0;
	uint64_t u = 0, end = ck->sb->data_units;
	while (u < end) {
		uint64_t n1, n2;
		uint64_t refs = count_at(runs, ck->runs.n, &ci, u, &n1);
		uint64_t have = count_at(recs, ck->refcs.n, &ri, u, &n2);
		uint64_t next = DXL_MIN(DXL_MIN(n1, n2), end);
		uint64_t want = refs < 2 ? 0 : refs;
		if (want != have) {
			if (have)
				PROBLEM(ck, "data %s: %llu reference%s but the refcount tree says %llu",
					range_str("unit", u, next).s, ull(refs), refs == 1 ? "" : "s",
					ull(have));
			else
				PROBLEM(ck, "data %s: shared by %llu extents but no refcount record",
					range_str("unit", u, next).s, ull(want));
			ck->refc_bad = 1;
		}
		u = next;
	}
}

/* Every extent over a shared unit must carry DXL_EXT_SHARED, or a write
 * through it would change the other owners' data in place. */
static int check_shared_flags(struct ck *ck)
{
	const struct rrec *runs = ck->runs.v;
	size_t nr = ck->runs.n;
	struct xent *xs = ck->xents.v;
	for (size_t i = 0; i < ck->xents.n; i++) {
		if (xs[i].flags & DXL_EXT_SHARED)
			continue;
		/* first run ending after phys */
		size_t lo = 0, hi = nr;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (runs[mid].start + runs[mid].len <= xs[i].phys)
				lo = mid + 1;
			else
				hi = mid;
		}
		int shared = 0;
		for (size_t k = lo; k < nr && runs[k].start < xs[i].phys + xs[i].len; k++)
			if (runs[k].count >= 2) {
				shared = 1;
				break;
			}
		if (!shared)
			continue;
		PROBLEM(ck, "inode %llu: extent at file unit %llu shares data units with another"
			" extent but is not marked shared", ull(xs[i].ino), ull(xs[i].fu));
		const struct fix *old = NULL;
		for (size_t k = 0; k < ck->fixes.n; k++) {
			struct fix *f = &((struct fix *)ck->fixes.v)[k];
			if (f->ino == xs[i].ino && f->key == xs[i].fu && f->kind == F_XFLAGS) {
				f->arg |= DXL_EXT_SHARED;
				old = f;
			}
		}
		if (!old) {
			struct fix *f = fk_add_fix(ck, xs[i].ino, xs[i].fu, F_XFLAGS);
			if (!f)
				return -ENOMEM;
			f->arg = xs[i].flags | DXL_EXT_SHARED;
		}
	}
	return 0;
}

/* Data bitmap against the references; with a repair r, set/clear the bits. */
void fk_dbitmap_ranges(struct ck *ck, int report, struct rep *tx)
{
	const uint8_t *bm = dbitmap(ck);
	const struct rrec *runs = ck->runs.v;
	uint64_t end = ck->sb->data_units, u = 0;
	for (size_t k = 0; k <= ck->runs.n; k++) {
		uint64_t rs = k < ck->runs.n ? runs[k].start : end;
		uint64_t re = k < ck->runs.n ? runs[k].start + runs[k].len : end;
		/* [u, rs) must be free */
		for (uint64_t a = fk_bm_next(bm, u, rs, 1); a < rs;) {
			uint64_t b = fk_bm_next(bm, a, rs, 0);
			if (report)
				PROBLEM(ck, "data %s marked used but no file uses it (leaked)",
					range_str("unit", a, b).s);
			if (tx)
				fk_set_bits(tx, ck->sb->dbitmap_blk, a, b, 0);
			a = fk_bm_next(bm, b, rs, 1);
		}
		/* [rs, re) must be used */
		for (uint64_t a = fk_bm_next(bm, rs, re, 0); a < re;) {
			uint64_t b = fk_bm_next(bm, a, re, 1);
			if (report)
				PROBLEM(ck, "data %s used by a file but marked free",
					range_str("unit", a, b).s);
			if (tx)
				fk_set_bits(tx, ck->sb->dbitmap_blk, a, b, 1);
			a = fk_bm_next(bm, b, re, 0);
		}
		u = re;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Metadata bitmap against the claimed blocks. */
int fk_mbitmap_ranges(struct ck *ck, int report, struct rep *tx)
{
	const struct dxl_sb *sb = ck->sb;
	const uint8_t *bm = mbitmap(ck);
	size_t n = 0;
	uint64_t *blks = malloc((ck->metaset.n ? ck->metaset.n : 1) * sizeof(*blks));
	if (!blks)
		return oom(ck);
	for (size_t i = 0; i < ck->metaset.cap; i++)
		if (ck->metaset.keys[i])
			blks[n++] = ck->metaset.keys[i] - sb->meta_blk;
	if (n)
		qsort(blks, n, sizeof(*blks), u64_cmp);
	uint64_t u = 0;
	for (size_t k = 0; k <= n; k++) {
		uint64_t b0 = k < n ? blks[k] : sb->meta_blocks;
		for (uint64_t a = fk_bm_next(bm, u, b0, 1); a < b0;) {
			uint64_t b = fk_bm_next(bm, a, b0, 0);
			if (report)
				PROBLEM(ck, "metadata %s marked used but nothing uses it (leaked)",
					range_str("block", sb->meta_blk + a, sb->meta_blk + b).s);
			if (tx)
				fk_set_bits(tx, sb->mbitmap_blk, a, b, 0);
			a = fk_bm_next(bm, b, b0, 1);
		}
		if (k < n && !fk_bm_get(bm, b0)) {
			if (report)
				PROBLEM(ck, "metadata block %llu is in use but marked free",
					ull(sb->meta_blk + b0));
			if (tx)
				fk_set_bits(tx, sb->mbitmap_blk, b0, b0 + 1, 1);
		}
		u = b0 + 1;
	}
	free(blks);
	return 0;
}

/* ------------------------------------------------------------ the pass's space checks */

/* Data ownership: reference runs from the extents, against the refcount
 * tree, the extents' SHARED flags and the data bitmap; the metadata bitmap
 * against the claimed blocks. */
int fk_check_space(struct ck *ck)
{
	int rc;

	if (ck->xents.n)
		qsort(ck->xents.v, ck->xents.n, sizeof(struct xent), xent_cmp);
	if ((rc = build_runs(ck)) != 0)
		return rc;
	compare_refcounts(ck);
	if ((rc = check_shared_flags(ck)) != 0)
		return rc;
	uint64_t before = ck->problems;
	fk_dbitmap_ranges(ck, 1, NULL);
	ck->fix_dbitmap = ck->problems != before;
	before = ck->problems;
	if ((rc = fk_mbitmap_ranges(ck, 1, NULL)) != 0)
		return rc;
	ck->fix_mbitmap = ck->problems != before;
	return 0;
}

/* The superblock's counters against what the pass counted. */
void fk_check_counters(struct ck *ck)
{
	const struct dxl_sb *sb = ck->sb;
	uint64_t free_units = sb->data_units - ck->units_used;
	uint64_t free_meta = sb->meta_blocks - ck->metaset.n;
	if (sb->free_units != free_units) {
		PROBLEM(ck, "superblock: free unit count is %llu, should be %llu",
			ull(sb->free_units), ull(free_units));
		ck->fix_counters = 1;
	}
	if (sb->free_meta != free_meta) {
		PROBLEM(ck, "superblock: free metadata block count is %llu, should be %llu",
			ull(sb->free_meta), ull(free_meta));
		ck->fix_counters = 1;
	}
	if (sb->inodes != ck->ninodes) {
		PROBLEM(ck, "superblock: inode count is %llu, should be %llu", ull(sb->inodes),
			ull(ck->ninodes));
		ck->fix_counters = 1;
	}
}
