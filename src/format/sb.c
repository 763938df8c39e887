/* SPDX-License-Identifier: BSD-3-Clause */
/* Superblock: layout at mkfs, checksum and verification. */
#include <stddef.h>
#include <string.h>

#include "format.h"
#include "util/util.h"

void dxl_sb_set_crc(struct dxl_sb *sb)
{
	sb->crc = 0;
	sb->crc = dxl_crc32c(0, sb, DXL_SB_CRC_LEN);
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

int dxl_sb_layout(struct dxl_sb *sb, const struct dxl_geom_req *req)
{
	uint64_t size = DXL_ALIGN_DOWN(req->size, DXL_BLOCK_SIZE);
	uint64_t unit = req->unit;
	uint64_t jsize, msize, blk, data_end;
	int shift;

	if (!DXL_IS_POW2(unit) || unit < DXL_BLOCK_SIZE || unit > (1ull << 30))
		return dxl_err(EINVAL, "allocation unit %llu: must be a power of two between 4 KiB and 1 GiB",
			       (unsigned long long)unit);
	for (shift = 0; (1ull << shift) != unit; shift++)
		;
	/* The journal bounds the size of one transaction; see journal.h. */
	jsize = req->journal_size ? req->journal_size : DXL_MIN(DXL_MAX(size / 128, 512u << 10), 4u << 20);
	jsize = DXL_ALIGN_UP(jsize, DXL_BLOCK_SIZE);
	if (jsize < (512u << 10) || jsize > (1ull << 30))
		return dxl_err(EINVAL, "journal size %llu: must be between 512 KiB and 1 GiB",
			       (unsigned long long)jsize);
	/* Metadata: one 4 KiB block per inode, plus tree nodes; 1/32 of the
	 * pool is ext4's inode-table share of a 16 KiB bytes-per-inode ratio. */
	msize = req->meta_size ? req->meta_size : DXL_MAX(size / 32, 1u << 20);
	msize = DXL_ALIGN_UP(msize, DXL_BLOCK_SIZE);

	memset(sb, 0, sizeof(*sb));
	sb->magic = DXL_SB_MAGIC;
	sb->version = DXL_FORMAT_VERSION;
	sb->feat_incompat = DXL_FEAT_INCOMPAT_REFLINK | DXL_FEAT_INCOMPAT_JSLOTS | DXL_FEAT_INCOMPAT_SPECIAL;
	sb->block_size = DXL_BLOCK_SIZE;
	sb->unit_shift = (uint32_t)shift;
	sb->pool_size = size;

	blk = 1;
	sb->journal_blk = blk;
	sb->journal_blocks = jsize / DXL_BLOCK_SIZE;
	blk += sb->journal_blocks;
	sb->meta_blocks = msize / DXL_BLOCK_SIZE;
	sb->mbitmap_blk = blk;
	sb->mbitmap_blocks = div_up(sb->meta_blocks, DXL_BLOCK_SIZE * 8);
	blk += sb->mbitmap_blocks;
	/* Size the data bitmap for the most units the pool could hold; the
	 * few bits past data_units stay unused. */
	sb->dbitmap_blk = blk;
	sb->dbitmap_blocks = div_up(div_up(size, unit), DXL_BLOCK_SIZE * 8);
	blk += sb->dbitmap_blocks;
	sb->meta_blk = blk;
	blk += sb->meta_blocks;

	sb->data_off = DXL_ALIGN_UP(blk * DXL_BLOCK_SIZE, unit);
	data_end = size - DXL_BLOCK_SIZE; /* backup superblock */
	if (size < 4 * DXL_BLOCK_SIZE || sb->data_off >= data_end ||
	    (data_end - sb->data_off) / unit < 16)
		return dxl_err(ENOSPC, "pool of %llu bytes is too small for a journal of %llu, "
			       "%llu of metadata and 16 units of %llu",
			       (unsigned long long)size, (unsigned long long)jsize,
			       (unsigned long long)msize, (unsigned long long)unit);
	sb->data_units = (data_end - sb->data_off) / unit;
	sb->root_ino = sb->meta_blk;
	sb->refc_blk = sb->meta_blk + 1;
	sb->lease_break_ms = 45000;
	sb->free_units = sb->data_units;
	sb->free_meta = sb->meta_blocks - 2;
	sb->inodes = 1;
	sb->next_gen = 1;
	return 0;
}

int dxl_sb_verify(const struct dxl_sb *sb, uint64_t dev_size)
{
	struct dxl_sb tmp;
	uint64_t unit, end;

	if (sb->magic != DXL_SB_MAGIC)
		return dxl_err(EUCLEAN, "no daxlease superblock (bad magic)");
	memcpy(&tmp, sb, sizeof(tmp));
	dxl_sb_set_crc(&tmp);
	if (tmp.crc != sb->crc)
		return dxl_err(EUCLEAN, "superblock checksum mismatch (stored %08x, computed %08x)",
			       sb->crc, tmp.crc);
	if (sb->version != DXL_FORMAT_VERSION)
		return dxl_err(EPROTONOSUPPORT, "format version %u is not supported (this library reads %u)",
			       sb->version, DXL_FORMAT_VERSION);
	if (sb->feat_incompat & ~DXL_FEAT_INCOMPAT_KNOWN)
		return dxl_err(EPROTONOSUPPORT, "unknown incompatible features %#llx",
			       (unsigned long long)(sb->feat_incompat & ~DXL_FEAT_INCOMPAT_KNOWN));
	if (sb->block_size != DXL_BLOCK_SIZE || sb->unit_shift < DXL_BLOCK_SHIFT || sb->unit_shift > 30)
		return dxl_err(EUCLEAN, "superblock: bad block size %u or unit shift %u",
			       sb->block_size, sb->unit_shift);
	if (sb->pool_size > dev_size)
		return dxl_err(EUCLEAN, "pool of %llu bytes does not fit its %llu-byte backing store (truncated?)",
			       (unsigned long long)sb->pool_size, (unsigned long long)dev_size);
	unit = 1ull << sb->unit_shift;
	end = sb->pool_size / DXL_BLOCK_SIZE;
	/* Regions in order, each inside the pool; overflow-safe comparisons. */
	if (sb->journal_blk != 1 || sb->journal_blocks < 2 || sb->journal_blocks > end ||
	    sb->mbitmap_blk != sb->journal_blk + sb->journal_blocks ||
	    sb->mbitmap_blocks > end || sb->dbitmap_blk != sb->mbitmap_blk + sb->mbitmap_blocks ||
	    sb->dbitmap_blocks > end || sb->meta_blk != sb->dbitmap_blk + sb->dbitmap_blocks ||
	    sb->meta_blocks < 2 || sb->meta_blocks > end || sb->meta_blk + sb->meta_blocks > end ||
	    sb->mbitmap_blocks * DXL_BLOCK_SIZE * 8 < sb->meta_blocks ||
	    sb->data_off % unit != 0 || sb->data_off < (sb->meta_blk + sb->meta_blocks) * DXL_BLOCK_SIZE ||
	    sb->data_off > sb->pool_size || sb->data_units > (sb->pool_size - sb->data_off) / unit ||
	    sb->dbitmap_blocks * DXL_BLOCK_SIZE * 8 < sb->data_units ||
	    sb->root_ino != sb->meta_blk || sb->refc_blk != sb->meta_blk + 1)
		return dxl_err(EUCLEAN, "superblock: inconsistent layout");
	if (sb->free_units > sb->data_units || sb->free_meta > sb->meta_blocks)
		return dxl_err(EUCLEAN, "superblock: free counts exceed the pool");
	if (sb->orphan_head && (sb->orphan_head < sb->meta_blk ||
				sb->orphan_head >= sb->meta_blk + sb->meta_blocks))
		return dxl_err(EUCLEAN, "superblock: orphan list head %llu outside the metadata region",
			       (unsigned long long)sb->orphan_head);
	return 0;
}
