/* SPDX-License-Identifier: BSD-3-Clause */
/* Inode checksum and verification (pure functions over the block). */
#include <dirent.h>
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
	if (!dxl_fmt_mode_ok(ino->mode))
		return dxl_err(EUCLEAN, "inode %llu: unsupported file type %o", (unsigned long long)ino_nr,
			       fmt);
	if (dxl_fmt_mode_special(ino->mode) && (ino->size || ino->nunits))
		return dxl_err(EUCLEAN, "inode %llu: a special file of %llu bytes", (unsigned long long)ino_nr,
			       (unsigned long long)ino->size);
	if (ino->rdev && fmt != S_IFCHR && fmt != S_IFBLK)
		return dxl_err(EUCLEAN, "inode %llu: a device number on a file that is not a device",
			       (unsigned long long)ino_nr);
	if (fmt == S_IFLNK && ino->size > DXL_SYMLINK_MAX)
		return dxl_err(EUCLEAN, "inode %llu: symlink of %llu bytes", (unsigned long long)ino_nr,
			       (unsigned long long)ino->size);
	if (ino->size > (1ull << 62))
		return dxl_err(EUCLEAN, "inode %llu: size %llu is impossible", (unsigned long long)ino_nr,
			       (unsigned long long)ino->size);
	return 0;
}

int dxl_fmt_mode_special(uint32_t mode)
{
	return S_ISFIFO(mode) || S_ISCHR(mode) || S_ISBLK(mode) || S_ISSOCK(mode);
}

int dxl_fmt_mode_ok(uint32_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || dxl_fmt_mode_special(mode);
}

uint32_t dxl_fmt_dt_of(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFLNK: return DT_LNK;
	case S_IFIFO: return DT_FIFO;
	case S_IFCHR: return DT_CHR;
	case S_IFBLK: return DT_BLK;
	case S_IFSOCK: return DT_SOCK;
	default: return DT_REG;
	}
}

int dxl_fmt_dt_ok(uint32_t type)
{
	return type == DT_REG || type == DT_DIR || type == DT_LNK || type == DT_FIFO ||
	       type == DT_CHR || type == DT_BLK || type == DT_SOCK;
}
