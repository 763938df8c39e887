/* Inode checksum and verification (pure functions over the block). */
#include <string.h>
#include <sys/stat.h>

#include "format.h"
#include "util/util.h"

void dxl_inode_set_crc(struct dxl_inode *ino)
{
	ino->crc = 0;
	ino->crc = dxl_crc32c(0, ino, DXL_INODE_HDR);
}

int dxl_inode_verify(const struct dxl_inode *ino, uint64_t ino_nr, int check_crc)
{
	uint32_t fmt;

	if (ino->magic != DXL_INODE_MAGIC)
		return dxl_err(EUCLEAN, "inode %llu: not an inode (bad magic)", (unsigned long long)ino_nr);
	if (ino->ino != ino_nr)
		return dxl_err(EUCLEAN, "inode %llu: records itself as %llu", (unsigned long long)ino_nr,
			       (unsigned long long)ino->ino);
	if (check_crc) {
		uint32_t crc;
		uint32_t zero = 0;
		crc = dxl_crc32c(0, ino, offsetof(struct dxl_inode, crc));
		crc = dxl_crc32c(crc, &zero, sizeof(zero));
		crc = dxl_crc32c(crc, &ino->ino, DXL_INODE_HDR - offsetof(struct dxl_inode, ino));
		if (crc != ino->crc)
			return dxl_err(EUCLEAN, "inode %llu: checksum mismatch", (unsigned long long)ino_nr);
	}
	fmt = ino->mode & S_IFMT;
	if (fmt != S_IFREG && fmt != S_IFDIR && fmt != S_IFLNK)
		return dxl_err(EUCLEAN, "inode %llu: unsupported file type %o", (unsigned long long)ino_nr,
			       fmt);
	if (fmt == S_IFLNK && ino->size > DXL_SYMLINK_MAX)
		return dxl_err(EUCLEAN, "inode %llu: symlink of %llu bytes", (unsigned long long)ino_nr,
			       (unsigned long long)ino->size);
	if (ino->size > (1ull << 62))
		return dxl_err(EUCLEAN, "inode %llu: size %llu is impossible", (unsigned long long)ino_nr,
			       (unsigned long long)ino->size);
	return 0;
}
