/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocators: 4 KiB metadata blocks and data units, each a bitmap.
 *
 * A bit is free only if it is clear both in the pool (the committed state)
 * and in the transaction's shadow: a unit freed by this transaction must
 * not be handed out again before the free commits, or data written into it
 * ahead of the commit would overwrite a file that still owns it if the
 * transaction is lost.
 *
 * Policy: new files take the lowest free space (fs->dlow / fs->mlow are
 * process-local hints below which everything is known used), files that
 * grow continue after their last extent.  Reusing freed space first keeps
 * the touched part of the pool small: on a memory-backed pool a unit
 * never touched costs a page fault and a page of memory on first use.
 */
#include <string.h>

#include "fs.h"

#define BITS_PER_BLOCK (DXL_BLOCK_SIZE * 8ull)

struct bitmap {
	uint64_t first_blk; /* first bitmap block */
	uint64_t nbits;
};

static struct bitmap meta_bm(const struct dxl_fs *fs)
{
	return (struct bitmap){ fs->sb->mbitmap_blk, fs->sb->meta_blocks };
}

static struct bitmap data_bm(const struct dxl_fs *fs)
{
	return (struct bitmap){ fs->sb->dbitmap_blk, fs->sb->data_units };
}

/* 64 bits starting at bit i (i % 64 == 0) as both views see them: used
 * if used in either.  Bits past nbits read as used. */
static uint64_t busy_word(struct dxl_fs *fs, struct dxl_tx *tx, const struct bitmap *bm, uint64_t i)
{
	uint64_t blk = bm->first_blk + i / BITS_PER_BLOCK;
	uint64_t w = (i % BITS_PER_BLOCK) / 64;
	const uint64_t *pool = (const uint64_t *)dxl_blk_ptr(fs, blk);
	const uint64_t *view = (const uint64_t *)dxl_tx_read(tx, blk);
	uint64_t v = pool[w] | view[w];

	if (i + 64 > bm->nbits)
		v |= ~0ull << (bm->nbits - i);
	return v;
}

static int test_bit(struct dxl_fs *fs, struct dxl_tx *tx, const struct bitmap *bm, uint64_t i)
{
	const uint64_t *view;

	if (i >= bm->nbits)
		return 1;
	view = (const uint64_t *)(tx ? dxl_tx_read(tx, bm->first_blk + i / BITS_PER_BLOCK)
				     : dxl_blk_ptr(fs, bm->first_blk + i / BITS_PER_BLOCK));
	return (int)((view[(i % BITS_PER_BLOCK) / 64] >> (i % 64)) & 1);
}

/* Walk bits [i, i+n) of the shadow a word at a time: with apply 0, only
 * check that every bit is !set (else -EUCLEAN: the map is inconsistent);
 * with apply 1, set or clear them. */
static int walk_bits(struct dxl_tx *tx, const struct bitmap *bm, uint64_t i, uint64_t n, int set,
		     int apply)
{
	while (n) {
		uint64_t blk = bm->first_blk + i / BITS_PER_BLOCK;
		uint64_t *words = apply ? dxl_tx_write(tx, blk) : (uint64_t *)dxl_tx_read(tx, blk);
		uint64_t bit = i % BITS_PER_BLOCK;
		uint64_t cnt = DXL_MIN(n, BITS_PER_BLOCK - bit);
		uint64_t k;

		if (!words)
			return dxl_err(EUCLEAN, "allocation bitmap block %llu is outside the pool",
				       (unsigned long long)blk);
		for (k = 0; k < cnt;) {
			uint64_t b = bit + k, w = b / 64, off = b % 64;
			uint64_t m = DXL_MIN(64 - off, cnt - k);
			uint64_t mask = dxl_bits_mask(off, m);

			if (!apply && (set ? (words[w] & mask) : ((words[w] & mask) != mask))) {
				uint64_t bad = set ? (words[w] & mask) : (~words[w] & mask);
				return dxl_err(EUCLEAN, "allocation bitmap: bit %llu is already %s",
					       (unsigned long long)(i - bit + w * 64 + (uint64_t)__builtin_ctzll(bad)),
					       set ? "used" : "free");
			}
			if (apply && set)
				words[w] |= mask;
			else if (apply)
				words[w] &= ~mask;
			k += m;
		}
		i += cnt;
		n -= cnt;
	}
	return 0;
}

/* Set or clear bits [i, i+n) in the shadow, all or nothing: a refused
 * change (a bit already in the wanted state) leaves the transaction as it was. */
static int change_bits(struct dxl_tx *tx, const struct bitmap *bm, uint64_t i, uint64_t n, int set)
{
	int rc = walk_bits(tx, bm, i, n, set, 0);
	return rc ? rc : walk_bits(tx, bm, i, n, set, 1);
}

/* First free bit at or after `from`, wrapping once; -ENOSPC if none. */
static int find_free(struct dxl_fs *fs, struct dxl_tx *tx, const struct bitmap *bm, uint64_t from,
		     uint64_t *out)
{
	uint64_t nwords = (bm->nbits + 63) / 64, start, i, n;

	if (from >= bm->nbits)
		from = 0;
	start = DXL_ALIGN_DOWN(from, 64);
	/* nwords + 1 visits: the first skips the bits below `from`, the
	 * last comes back to the same word after the wrap to try them */
	for (i = start, n = 0; n <= nwords; n++) {
		uint64_t v = busy_word(fs, tx, bm, i);
		if (n == 0)
			v |= (1ull << (from - start)) - 1;
		if (~v) {
			*out = i + (uint64_t)__builtin_ctzll(~v);
			return 0;
		}
		i = i + 64 >= bm->nbits ? 0 : i + 64;
	}
	return -ENOSPC;
}

/* Are bits [lo, hi) all set in the transaction's view?  Space freed by
 * this transaction looks busy to find_free() (the pool still has it
 * used), so the low hint must not pass it. */
static int all_set_in_tx(struct dxl_tx *tx, const struct bitmap *bm, uint64_t lo, uint64_t hi)
{
	for (; lo < hi; lo++) {
		const uint64_t *w = dxl_tx_read(tx, bm->first_blk + lo / BITS_PER_BLOCK);
		uint64_t b = lo % BITS_PER_BLOCK;
		if (!((w[b / 64] >> (b % 64)) & 1))
			return 0;
	}
	return 1;
}

/* Length of the free run at i, at most max. */
static uint64_t free_run(struct dxl_fs *fs, struct dxl_tx *tx, const struct bitmap *bm, uint64_t i,
			 uint64_t max)
{
	uint64_t n = 0;

	while (n < max && i + n < bm->nbits) {
		uint64_t base = DXL_ALIGN_DOWN(i + n, 64), off = (i + n) - base;
		uint64_t v = busy_word(fs, tx, bm, base) >> off;
		uint64_t run = v ? (uint64_t)__builtin_ctzll(v) : 64 - off;
		if (run > 64 - off)
			run = 64 - off;
		n += run;
		if (run < 64 - off)
			break;
	}
	return DXL_MIN(n, max);
}

int dxl_meta_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t *blk)
{
	struct bitmap bm = meta_bm(fs);
	struct dxl_sb *sb;
	uint64_t i;
	int rc;

	if (dxl_sb_read(tx)->free_meta == 0)
		return dxl_err(ENOSPC, "no free metadata blocks (inodes and directory/extent trees)");
	if (find_free(fs, tx, &bm, fs->mlow, &i))
		return dxl_err(ENOSPC, "no free metadata blocks (inodes and directory/extent trees)");
	rc = change_bits(tx, &bm, i, 1, 1);
	if (rc)
		return rc;
	sb = dxl_sb_write(tx);
	sb->free_meta--;
	if (i >= fs->mlow && all_set_in_tx(tx, &bm, fs->mlow, i))
		fs->mlow = i + 1;
	else if (i < fs->mlow)
		fs->mlow = i; /* found below the hint after a wrap: it was stale */
	*blk = fs->sb->meta_blk + i;
	return 0;
}

int dxl_meta_free(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t blk)
{
	struct bitmap bm = meta_bm(fs);
	int rc;

	if (!dxl_is_meta_blk(fs, blk) || blk == fs->sb->root_ino || blk == fs->sb->refc_blk)
		return dxl_err(EUCLEAN, "freeing block %llu, which is not a free-able metadata block",
			       (unsigned long long)blk);
	rc = change_bits(tx, &bm, blk - fs->sb->meta_blk, 1, 0);
	if (rc)
		return rc;
	dxl_sb_write(tx)->free_meta++;
	fs->mlow = DXL_MIN(fs->mlow, blk - fs->sb->meta_blk);
	return 0;
}

int dxl_unit_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t goal, uint64_t want,
		   uint64_t *start, uint64_t *got)
{
	struct bitmap bm = data_bm(fs);
	uint32_t npins = dxl_pt_count(fs->rt);
	uint64_t i, n, tries, from_low;
	int rc, reaped = 0;

	if (want == 0)
		return dxl_err(EINVAL, "allocating zero units");
	if (goal == DXL_GOAL_LOW)
		goal = fs->dlow;
	from_low = goal == fs->dlow;
	if (dxl_sb_read(tx)->free_units == 0)
		return dxl_err(ENOSPC, "no free space in the pool");
	/* Skip units that a live pin covers: freed while a DMA or a mapping
	 * could still touch them, they stay in quarantine until unpinned. */
	for (tries = 0;; tries++) {
		uint64_t p, pend = 0;

		if (find_free(fs, tx, &bm, goal, &i) ||
		    tries > 2ull * npins + 2) {
			/* pins of processes that died are dropped, then try again */
			if (!reaped && npins && dxl_lease_reap_dead(fs->rt) > 0) {
				reaped = 1;
				npins = dxl_pt_count(fs->rt);
				tries = 0;
				continue;
			}
			return dxl_err(ENOSPC, npins ? "no free space in the pool that is not pinned"
							  : "no free space in the pool");
		}
		n = free_run(fs, tx, &bm, i, DXL_MIN(want, UINT32_MAX));
		p = fs->test_no_quarantine ? UINT64_MAX : dxl_pin_first(fs->rt, i, n, &pend);
		if (p == UINT64_MAX)
			break;
		from_low = 0;
		if (p > i) {
			n = p - i;
			break;
		}
		goal = pend >= bm.nbits ? 0 : pend;
	}
	rc = change_bits(tx, &bm, i, n, 1);
	if (rc)
		return rc;
	dxl_sb_write(tx)->free_units -= n;
	if (from_low && i >= fs->dlow && all_set_in_tx(tx, &bm, fs->dlow, i))
		fs->dlow = i + n;
	else if (i < fs->dlow)
		fs->dlow = i; /* found below the hint after a wrap: it was stale */
	*start = i;
	*got = n;
	return 0;
}

/* Are bits [i, i+n) set both in the pool and in the transaction's view? */
static int set_in_both(struct dxl_fs *fs, struct dxl_tx *tx, const struct bitmap *bm, uint64_t i,
		       uint64_t n)
{
	while (n) {
		uint64_t blk = bm->first_blk + i / BITS_PER_BLOCK, bit = i % BITS_PER_BLOCK;
		uint64_t cnt = DXL_MIN(n, BITS_PER_BLOCK - bit), k;
		const uint64_t *pool = (const uint64_t *)dxl_blk_ptr(fs, blk);
		const uint64_t *view = (const uint64_t *)dxl_tx_read(tx, blk);

		if (!view)
			return 0;
		for (k = 0; k < cnt;) {
			uint64_t b = bit + k, w = b / 64, off = b % 64, m = DXL_MIN(64 - off, cnt - k);
			uint64_t mask = dxl_bits_mask(off, m);

			if ((pool[w] & view[w] & mask) != mask)
				return 0;
			k += m;
		}
		i += cnt;
		n -= cnt;
	}
	return 1;
}

/*
 * Freeing: units whose bits the pool has set (the usual case: allocated
 * by an earlier transaction) are freed by an intent record that clears
 * them at commit — O(1) in the log for any length, where the shadowed
 * bitmap would log a line per 512 units (truncating a 256 MiB file logged
 * 8 KiB).  Units allocated by this same transaction, or when the
 * transaction has no room for another intent, go through the shadow.
 */
int dxl_unit_free(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len)
{
	struct bitmap bm = data_bm(fs);
	int rc;

	if (start >= bm.nbits || len > bm.nbits - start)
		return dxl_err(EUCLEAN, "freeing units %llu+%llu outside the data region",
			       (unsigned long long)start, (unsigned long long)len);
	rc = set_in_both(fs, tx, &bm, start, len) ? dxl_tx_free_units(tx, start, len) : -ENOSPC;
	if (rc == -ENOSPC)
		rc = change_bits(tx, &bm, start, len, 0);
	if (rc)
		return rc;
	dxl_sb_write(tx)->free_units += len;
	fs->dlow = DXL_MIN(fs->dlow, start);
	dxl_pin_note_free(fs->rt, start, len);
	return 0;
}

int dxl_unit_used(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t unit)
{
	struct bitmap bm = data_bm(fs);
	/* freed by intent: still set in the pool (not to be handed out
	 * before the commit), but free as the transaction sees it */
	return test_bit(fs, tx, &bm, unit) && !dxl_tx_freeing(tx, unit);
}

int dxl_meta_used(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t blk)
{
	struct bitmap bm = meta_bm(fs);
	if (!dxl_is_meta_blk(fs, blk))
		return 1;
	return test_bit(fs, tx, &bm, blk - fs->sb->meta_blk);
}
