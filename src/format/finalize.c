/* SPDX-License-Identifier: BSD-3-Clause */
/* Checksums are set at commit from the block's kind, so no caller can
 * forget one: the kind follows from the region, then the magic. */
#include <stdint.h>
#include <sys/stat.h>

#include "format.h"

void dxl_fmt_finalize(const struct dxl_sb *sb, uint64_t blk, void *block)
{
	uint32_t magic;

	if (blk == 0) {
		dxl_sb_set_crc(block);
		return;
	}
	if (blk < sb->meta_blk || blk >= sb->meta_blk + sb->meta_blocks)
		return; /* journal and bitmaps: covered by the journal's and fsck's checks */
	magic = *(const uint32_t *)block;
	if (magic == DXL_INODE_MAGIC) {
		struct dxl_inode *in = block;
		uint32_t fmt = in->mode & S_IFMT;
		dxl_inode_set_crc(in);
		/* symlinks keep raw target bytes where the tree root would be */
		if (fmt != S_IFLNK)
			dxl_node_set_crc((uint8_t *)block + DXL_INODE_HDR);
	} else if (magic == DXL_NODE_MAGIC) {
		dxl_node_set_crc(block);
	}
}
