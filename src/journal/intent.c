/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Free-unit intents (DXL_JREC_FREE_UNITS): the in-place clearing of a run
 * of data-bitmap bits, shared by the commit's apply and by replay.
 */
#include "journal.h"
#include "util/util.h"

#define BITS_PER_BLOCK (DXL_BLOCK_SIZE * 8ull)

int dxl_jrec_free_ok(const struct dxl_sb *sb, const struct dxl_jrec *r)
{
	return r->len > 0 && r->off < sb->data_units && r->len <= sb->data_units - r->off;
}

void dxl_jrec_free_apply(struct dxl_pmem *pm, const struct dxl_sb *sb, uint64_t start, uint64_t n,
			 int flush)
{
	uint64_t i = start, end = start + n, nw[DXL_BLOCK_SIZE / sizeof(uint64_t)];

	while (i < end) {
		uint64_t blk = sb->dbitmap_blk + i / BITS_PER_BLOCK;
		uint64_t *words = (uint64_t *)(pm->base + blk * DXL_BLOCK_SIZE);
		uint64_t bit = i % BITS_PER_BLOCK, stop = DXL_MIN(end - i, BITS_PER_BLOCK - bit) + bit;
		uint64_t w0 = bit / 64, w1 = (stop - 1) / 64, w;

		/* the words as they must end, stored where they change */
		for (w = w0; w <= w1; w++) {
			uint64_t lo = w == w0 ? bit % 64 : 0, hi = w == w1 ? (stop - 1) % 64 : 63;

			nw[w - w0] = words[w] & ~dxl_bits_mask(lo, hi - lo + 1);
		}
		dxl_jstore_changed(pm, (uint8_t *)&words[w0], (const uint8_t *)nw,
				   (size_t)(w1 - w0 + 1) * sizeof(uint64_t));
		if (flush)
			dxl_pmem_flush(pm, &words[w0], (size_t)(w1 - w0 + 1) * sizeof(uint64_t));
		i += stop - bit;
	}
}
