/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout changes and leases: the fs side of breaking.
 */
#include "fs.h"

int dxl_fs_break(struct dxl_fs *fs, uint64_t ino, uint64_t start, uint64_t end, int nonblock,
		 uint64_t exclude)
{
	struct dxl_break_req req = {
		.ino = ino, .start = start, .end = end, .nonblock = nonblock,
		.self_dispatches = __atomic_load_n(&fs->self_dispatches, __ATOMIC_RELAXED),
		.exclude = exclude,
	};

	struct dxl_break b = { 0 };

	for (;;) {
		int rc;

		req.break_ms = fs->sb->lease_break_ms;
		rc = dxl_break_check(fs->rt, &req, &b);
		if (rc <= 0)
			return rc;
		struct dxl_ilocks_saved sv;

		/* holders need the lock to release (and may work on the
		 * file meanwhile): wait without it or the inode locks */
		dxl_fs_unlock(fs);
		dxl_ilocks_release(fs, &sv);
		dxl_break_wait(fs->rt, &b);
		rc = dxl_ilocks_retake(fs, &sv);
		if (rc == 0)
			rc = dxl_fs_lock(fs);
		if (rc)
			return rc;
	}
}

void dxl_fs_layout_changed(struct dxl_fs *fs, uint64_t ino, uint64_t start, uint64_t end)
{
	if (!dxl_lt_any(fs->rt))
		return;
	__atomic_add_fetch(&fs->own_layout_changes, 1, __ATOMIC_RELEASE);
	dxl_break_notify_coherent(fs->rt, ino, start, end);
}
