/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Set-user-ID and set-group-ID bits that a change of a file's contents or
 * owner takes away, as the kernel takes them away for a local file
 * (should_remove_suid, chown_common): otherwise anyone allowed to write a
 * set-user-ID program could put their own code in it and run it as its
 * owner.
 *
 * A write or a truncate by a caller without CAP_FSETID drops S_ISUID, and
 * S_ISGID where the group may execute (S_ISGID without S_IXGRP marks
 * mandatory locking, not a privilege, and stays).  A chown drops them from
 * anything but a directory, whoever makes it.  The library stands for the
 * process it runs in, whose effective uid 0 stands for CAP_FSETID; the
 * mount, which runs as one user for many, applies the rule for the
 * requesting user itself (src/fuse).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

uint32_t dxl_privs_dropped(uint32_t mode)
{
	uint32_t k = 0;

	if (S_ISDIR(mode))
		return 0;
	if (mode & S_ISUID)
		k |= S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		k |= S_ISGID;
	return k;
}

int dxl_file_drop_privs(struct dxl_fs *fs, uint64_t ino)
{
	const struct dxl_inode *in;
	struct dxl_inode *w;
	struct dxl_tx *tx;
	int rc = dxl_inode_read(fs, NULL, ino, &in);

	if (rc || !dxl_privs_dropped(in->mode) || geteuid() == 0)
		return rc;
	tx = dxl_tx_begin(&fs->j);
	rc = dxl_inode_write(fs, tx, ino, &w);
	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	w->mode &= ~dxl_privs_dropped(w->mode);
	w->ctime_ns = dxl_now_ns();
	return dxl_tx_commit(tx);
}
