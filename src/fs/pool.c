/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pools: mkfs, open and close, the metadata lock, statfs and tunables.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

static uint64_t backup_sb_off(uint64_t pool_size)
{
	return pool_size - DXL_BLOCK_SIZE;
}

static void write_backup_sb(struct dxl_fs *fs)
{
	struct dxl_sb copy;
	uint8_t *dst = fs->pm.base + backup_sb_off(fs->sb->pool_size);

	memcpy(&copy, fs->sb, sizeof(copy));
	/* the backup keeps geometry and tunables; live fields are rebuilt by fsck */
	copy.free_units = copy.data_units;
	copy.free_meta = copy.meta_blocks - 2;
	copy.inodes = 1;
	copy.orphan_head = 0;
	dxl_sb_set_crc(&copy);
	dxl_pmem_memcpy(&fs->pm, dst, &copy, sizeof(copy));
	dxl_pmem_drain(&fs->pm);
}

static void set_bit(uint8_t *bitmap, uint64_t i)
{
	bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
}

int(dxl_mkfs)(const char *path, const struct dxl_mkfs_opts *user_opts, size_t opts_size)
{
	struct dxl_mkfs_opts given = { 0 };
	const struct dxl_mkfs_opts *opts = &given;
	struct dxl_pmem pm;
	struct dxl_geom_req req;
	struct dxl_sb sb;
	struct dxl_inode *root;
	uint64_t buf[DXL_BLOCK_SIZE / sizeof(uint64_t)];
	uint8_t *blk;
	struct stat st;
	int rc, existed;

	dxl_err_clear();
	if (!path || !*path)
		return dxl_err(EINVAL, "mkfs: no pool path given");
	/* NULL (size 0) is all defaults; a caller's older or newer struct is
	 * read as far as both know it */
	if (user_opts && (rc = dxl_struct_in(&given, sizeof(given), user_opts, opts_size,
					     DXL_MKFS_OPTS_SIZE_VER0, "mkfs options")))
		return rc;
	existed = stat(path, &st) == 0;
	if (!existed && opts->size == 0)
		return dxl_err(EINVAL, "mkfs %s: the file does not exist; give a size", path);
	rc = dxl_pmem_open(path, opts->size, DXL_PMEM_CREATE, &pm);
	if (rc)
		return rc;
	if (!(opts->flags & DXL_MKFS_FORCE) && pm.size >= sizeof(struct dxl_sb) &&
	    ((const struct dxl_sb *)pm.base)->magic == DXL_SB_MAGIC) {
		dxl_pmem_close(&pm);
		return dxl_err(EEXIST, "mkfs %s: already holds a daxlease pool (force to overwrite)", path);
	}
	req.size = pm.size;
	req.unit = opts->unit ? opts->unit : DXL_MAX(pm.align, DXL_BLOCK_SIZE);
	req.journal_size = opts->journal_size;
	req.meta_size = opts->meta_size;
	if (req.unit < pm.align) {
		uint64_t align = pm.align; /* close clears pm */
		dxl_pmem_close(&pm);
		return dxl_err(EINVAL, "mkfs %s: unit %llu is below the device's mapping alignment %llu",
			       path, (unsigned long long)req.unit, (unsigned long long)align);
	}
	rc = dxl_sb_layout(&sb, &req);
	if (rc) {
		dxl_pmem_close(&pm);
		return rc;
	}
	if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != (ssize_t)sizeof(sb.uuid)) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, sb.uuid, sizeof(sb.uuid)) != (ssize_t)sizeof(sb.uuid)) {
			if (fd >= 0)
				close(fd);
			dxl_pmem_close(&pm);
			return dxl_err(EIO, "mkfs %s: no randomness for the pool UUID", path);
		}
		close(fd);
	}
	sb.mkfs_time_ns = dxl_now_ns();
	if (opts->lease_break_ms)
		sb.lease_break_ms = opts->lease_break_ms;
	if (opts->flags & DXL_MKFS_UNBREAKABLE)
		sb.flags |= DXL_SBF_UNBREAKABLE;

	/* Invalidate the old superblock first: a crash mid-mkfs leaves no pool
	 * rather than a mix of two. */
	dxl_pmem_memset(&pm, pm.base, 0, DXL_BLOCK_SIZE);
	dxl_pmem_drain(&pm);
	dxl_pmem_zero_area(&pm, DXL_BLOCK_SIZE, (sb.meta_blk + 2) * DXL_BLOCK_SIZE - DXL_BLOCK_SIZE);

	/* Blocks are built in DRAM and copied in: every store into the pool
	 * goes through pmem (the trace build checks that). */
	blk = (uint8_t *)buf;
	memcpy(blk, pm.base + sb.mbitmap_blk * DXL_BLOCK_SIZE, DXL_BLOCK_SIZE);
	set_bit(blk, 0); /* root inode */
	set_bit(blk, 1); /* refcount tree root */
	/* bits past the last metadata block / unit stay set-free: the
	 * allocator bounds its search by the counts, fsck checks the bits */
	dxl_pmem_memcpy(&pm, pm.base + sb.mbitmap_blk * DXL_BLOCK_SIZE, blk, DXL_BLOCK_SIZE);

	root = (struct dxl_inode *)buf;
	memset(root, 0, DXL_BLOCK_SIZE);
	root->magic = DXL_INODE_MAGIC;
	root->ino = sb.root_ino;
	root->gen = sb.next_gen++;
	root->mode = S_IFDIR | 0755;
	root->nlink = 2;
	root->uid = (uint32_t)geteuid();
	root->gid = (uint32_t)getegid();
	root->atime_ns = root->mtime_ns = root->ctime_ns = root->btime_ns = sb.mkfs_time_ns;
	root->parent = sb.root_ino;
	dxl_bt_init_root((uint8_t *)root + DXL_INODE_HDR, DXL_INODE_ROOT_CAP, sb.root_ino);
	dxl_fmt_finalize(&sb, sb.root_ino, root);
	dxl_pmem_memcpy(&pm, pm.base + sb.root_ino * DXL_BLOCK_SIZE, root, DXL_BLOCK_SIZE);

	memset(blk, 0, DXL_BLOCK_SIZE);
	dxl_bt_init_root(blk, DXL_BLOCK_SIZE, 0);
	dxl_fmt_finalize(&sb, sb.refc_blk, blk);
	dxl_pmem_memcpy(&pm, pm.base + sb.refc_blk * DXL_BLOCK_SIZE, blk, DXL_BLOCK_SIZE);
	dxl_pmem_drain(&pm);

	/* backup, then primary: the primary's magic makes it a pool */
	dxl_sb_set_crc(&sb);
	{
		struct dxl_fs tmp = { .pm = pm, .sb = &sb };
		write_backup_sb(&tmp);
	}
	dxl_pmem_memcpy(&pm, pm.base, &sb, sizeof(sb));
	dxl_pmem_drain(&pm);
	rc = dxl_pmem_sync(&pm, 0, pm.size);
	dxl_pmem_close(&pm);
	return rc;
}

/*
 * A process killed while a transaction was being applied can leave the
 * superblock's cache lines half old, half new: its checksum fails although
 * replaying the journal would mend it.  Its geometry never changes, so the
 * backup copy says where the journal is.  Called with the metadata lock
 * held: nobody else is in the middle of a commit.
 */
static int recover_torn_sb(struct dxl_fs *fs)
{
	struct dxl_sb backup;
	struct dxl_journal j = { 0 };
	/* pool_size shares the first cache line with the magic: of that line
	 * only the checksum differs between an old and a new superblock */
	uint64_t psize = fs->sb->pool_size, boff = psize - DXL_BLOCK_SIZE;
	int rc;

	if (fs->sb->magic != DXL_SB_MAGIC || psize < 2 * DXL_BLOCK_SIZE || psize > fs->pm.size ||
	    psize % DXL_BLOCK_SIZE)
		return -EUCLEAN;
	memcpy(&backup, fs->pm.base + boff, sizeof(backup));
	if (dxl_sb_verify(&backup, fs->pm.size) != 0 || backup.pool_size - DXL_BLOCK_SIZE != boff ||
	    memcmp(backup.uuid, fs->sb->uuid, sizeof(backup.uuid)) != 0)
		return dxl_err(EUCLEAN, "superblock checksum mismatch and no usable backup");
	rc = dxl_journal_recover(&j, &fs->pm, &backup);
	if (rc)
		return rc;
	return dxl_sb_verify(fs->sb, fs->pm.size);
}

static int env_flag(const char *name)
{
	const char *v = dxl_test_switch(name);
	return v && *v && strcmp(v, "0") != 0;
}

int dxl_fs_usable(const struct dxl_fs *fs)
{
	if (dxl_likely(!dxl_fs_inherited(fs)))
		return 0;
	return dxl_err(EBADF, "this pool handle was opened by process %d and inherited across fork(): "
			      "the child must open the pool itself", (int)fs->opener_pid);
}

int dxl_fs_lock(struct dxl_fs *fs)
{
	int rc = dxl_fs_usable(fs);

	if (rc)
		return rc;
	rc = dxl_rt_lock(fs->rt);

	if (rc < 0)
		return rc;
	dxl_meta_note(1);
	if (rc == 0)
		return 0;
	/* The previous holder died inside a critical section: whatever it
	 * committed is replayed, whatever it had not is gone. */
	rc = dxl_journal_recover(&fs->j, &fs->pm, fs->sb);
	if (rc) {
		dxl_fs_unlock(fs);
		return rc;
	}
	dxl_rt_consistent(fs->rt);
	return 0;
}

void dxl_fs_unlock(struct dxl_fs *fs)
{
	dxl_meta_note(-1);
	dxl_rt_unlock(fs->rt);
}

/* A pool made before the journal had two header slots: mark it, alone
 * with it and before anything else commits, so that a library that
 * reads slot 0 only refuses it rather than missing a transaction. */
static int upgrade_jslots(struct dxl_fs *fs)
{
	struct dxl_tx *tx;

	if (fs->sb->feat_incompat & DXL_FEAT_INCOMPAT_JSLOTS)
		return 0;
	tx = dxl_tx_begin(&fs->j);
	if (!tx)
		return dxl_err(ENOMEM, "out of memory");
	dxl_sb_write(tx)->feat_incompat |= DXL_FEAT_INCOMPAT_JSLOTS;
	return dxl_tx_commit(tx);
}

int dxl_fs_open(struct dxl_fs *fs, const char *path, unsigned flags)
{
	struct dxl_tx *tx;
	int rc, first = 0, dead;

	memset(fs, 0, sizeof(*fs));
	if (!path || !*path)
		return dxl_err(EINVAL, "no pool path given");
	fs->fork_gen = dxl_fork_gen_start();
	fs->opener_pid = (int32_t)getpid();
	fs->test_no_quarantine = env_flag("DXL_TEST_NO_QUARANTINE");
	fs->test_share_pinned = env_flag("DXL_TEST_SHARE_PINNED");
	rc = dxl_pmem_open(path, 0, (flags & DXL_FS_RDONLY) ? DXL_PMEM_RDONLY : 0, &fs->pm);
	if (rc)
		return rc;
	/* one flush per commit where a flush is a system call (journal.h);
	 * the test switches let the crash explorer check that protocol on
	 * its DAX model, and show what a single header slot would break */
	fs->j.defer_apply = fs->pm.need_msync || env_flag("DXL_TEST_DEFER_APPLY");
	fs->j.test_one_slot = env_flag("DXL_TEST_JOURNAL_ONE_SLOT");
	fs->sb = (struct dxl_sb *)fs->pm.base;
	if (fs->pm.size < DXL_BLOCK_SIZE) {
		rc = dxl_err(EUCLEAN, "%s: %llu bytes is too small to be a pool", path,
			     (unsigned long long)fs->pm.size);
		goto fail_pm;
	}
	/* Without the lock, only what never changes may be read: another
	 * process may be applying a transaction to the superblock right now.
	 * The magic and UUID share a cache line whose values never change. */
	if (fs->sb->magic != DXL_SB_MAGIC) {
		rc = dxl_sb_verify(fs->sb, fs->pm.size);
		goto fail_msg;
	}
	rc = dxl_rt_open(fs->sb->uuid, &fs->rt, &first, &dead);
	if (rc)
		goto fail_pm;
	fs->geo = *fs->sb; /* again below, once verified and recovered */
	fs->j.changes = dxl_rt_commit_counter(fs->rt); /* recovery keeps it even */
	rc = dxl_sb_verify(fs->sb, fs->pm.size);
	if (!(flags & (DXL_FS_RDONLY | DXL_FS_NORECOVER))) {
		if (rc == -EUCLEAN)
			rc = recover_torn_sb(fs); /* a holder died mid-apply */
		else if (rc == 0 && (first || dead))
			rc = dxl_journal_recover(&fs->j, &fs->pm, fs->sb);
		if (rc == 0)
			rc = dxl_sb_verify(fs->sb, fs->pm.size);
	}
	if (rc == 0) {
		fs->rdonly = !!(flags & DXL_FS_RDONLY);
		fs->uid = (uint32_t)geteuid();
		fs->gid = (uint32_t)getegid();
		fs->geo = *fs->sb;
		fs->unit_shift = fs->sb->unit_shift;
		fs->unit = 1ull << fs->unit_shift;
		fs->data = fs->pm.base + fs->sb->data_off;
		fs->j.pm = &fs->pm;
		fs->j.sb = fs->sb;
		fs->j.changes = dxl_rt_commit_counter(fs->rt);
		/* preallocate the transaction so dxl_tx_begin never fails later */
		tx = dxl_tx_begin(&fs->j);
		if (tx)
			dxl_tx_abort(tx);
		else
			rc = dxl_err(ENOMEM, "%s: out of memory", path);
	}
	if (rc == 0) {
		/* join the process table, reclaiming what dead processes held */
		dxl_lease_reap_dead(fs->rt);
		rc = dxl_rt_register(fs->rt);
		rc = rc < 0 ? rc : 0;
	}
	/* Alone with the pool: no one can still have an orphan open.  Only
	 * while we hold the lock, though: once it is dropped, other openers
	 * may open files and make orphans of their own.  With no lease in a
	 * fresh runtime file, reaping never waits (never drops the lock). */
	if (rc == 0 && first && !fs->rdonly && !(flags & DXL_FS_NORECOVER))
		rc = upgrade_jslots(fs);
	if (rc == 0 && first && !fs->rdonly && !(flags & DXL_FS_NORECOVER)) {
		rc = dxl_orphans_reap_all(fs);
		if (rc)
			dxl_rt_unregister(fs->rt);
	}
	dxl_rt_consistent(fs->rt);
	dxl_rt_unlock(fs->rt);
	if (rc)
		goto fail_rt;
	return 0;
fail_rt:
	dxl_rt_close(fs->rt);
	dxl_journal_fini(&fs->j);
fail_msg:
	if (rc == -EUCLEAN || rc == -EPROTONOSUPPORT) {
		char why[256];
		snprintf(why, sizeof(why), "%s", dxl_errmsg()); /* not formatted into itself */
		rc = dxl_err(-rc, "%s: %s%s", path, why,
			     rc == -EUCLEAN ? " (run daxlease fsck --repair)" : "");
	}
fail_pm:
	dxl_pmem_close(&fs->pm);
	return rc;
}

/* In a child after fork(): give back this process's copies — memory,
 * mappings, descriptors — and leave everything shared as it is. */
static void fs_close_inherited(struct dxl_fs *fs)
{
	dxl_rt_forget(fs->rt);
	dxl_journal_fini(&fs->j);
	dxl_pmem_close(&fs->pm);
	free(fs->open_tab);
	fs->open_tab = NULL;
}

int dxl_fs_close(struct dxl_fs *fs)
{
	char msg[512] = "";
	int rc = 0;

	if (dxl_fs_inherited(fs)) {
		fs_close_inherited(fs);
		return 0;
	}
	if (dxl_fs_lock(fs) == 0) {
		dxl_lease_drop_self(fs->rt);
		dxl_rt_unregister(fs->rt);
		/* the last transaction's apply may wait for the next commit to
		 * become durable (journal.h): sync it now and say so, so that a
		 * pool left closed replays only its last transaction */
		if (fs->j.defer_apply && !fs->rdonly) {
			rc = dxl_pmem_sync(&fs->pm, 0, (fs->sb->meta_blk + fs->sb->meta_blocks) * DXL_BLOCK_SIZE);
			if (rc == 0)
				dxl_journal_settle(&fs->j);
		}
		dxl_fs_unlock(fs);
	}
	dxl_rt_close(fs->rt);
	dxl_journal_fini(&fs->j);
	/* a failed write-back, now or by an earlier drain, is the caller's to know */
	if (rc == 0)
		rc = dxl_pmem_sync(&fs->pm, 0, fs->pm.size);
	if (rc)
		snprintf(msg, sizeof(msg), "%s", dxl_errmsg());
	dxl_pmem_close(&fs->pm);
	free(fs->open_tab);
	fs->open_tab = NULL;
	if (rc)
		dxl_err(-rc, "%s", msg);
	return rc;
}

static int unit_is_free(void *arg, uint64_t unit)
{
	struct dxl_fs *fs = arg;
	return unit < fs->sb->data_units && !dxl_unit_used(fs, NULL, unit);
}

static int statfs_fill(dxl_pool *pool, struct dxl_statfs *st)
{
	struct dxl_fs *fs;
	int rc;

	fs = &pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	memcpy(st->uuid, fs->sb->uuid, sizeof(st->uuid));
	st->version = fs->sb->version;
	st->backend = (uint32_t)fs->pm.backend;
	st->pool_size = fs->sb->pool_size;
	st->unit = fs->unit;
	st->data_units = fs->sb->data_units;
	st->quarantined_units = dxl_pin_count_free(fs->rt, unit_is_free, fs);
	st->free_units = fs->sb->free_units - DXL_MIN(st->quarantined_units, fs->sb->free_units);
	st->meta_blocks = fs->sb->meta_blocks;
	st->free_meta_blocks = fs->sb->free_meta;
	st->inodes = fs->sb->inodes;
	st->journal_size = fs->sb->journal_blocks * DXL_BLOCK_SIZE;
	st->lease_break_ms = fs->sb->lease_break_ms;
	st->flags = (fs->sb->flags & DXL_SBF_UNBREAKABLE) ? DXL_MKFS_UNBREAKABLE : 0;
	st->persist = dxl_pmem_method(&fs->pm);
	dxl_fs_unlock(fs);
	return 0;
}

int(dxl_statfs)(dxl_pool *pool, struct dxl_statfs *st, size_t st_size)
{
	struct dxl_statfs full;
	int rc;

	dxl_err_clear();
	if (!pool || !st)
		return dxl_err(EINVAL, "statfs: bad argument");
	if ((rc = dxl_struct_size_ok(st_size, DXL_STATFS_SIZE_VER0, "statfs")))
		return rc;
	rc = statfs_fill(pool, &full);
	if (rc == 0)
		dxl_struct_out(st, st_size, &full, sizeof(full));
	return rc;
}

static int tune(dxl_pool *pool, int which, uint32_t val)
{
	struct dxl_fs *fs;
	struct dxl_tx *tx;
	struct dxl_sb *sb;
	int rc;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "tune: no pool");
	fs = &pool->fs;
	if (fs->rdonly)
		return dxl_err(EROFS, "tune: pool is open read-only");
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	tx = dxl_tx_begin(&fs->j);
	sb = dxl_sb_write(tx);
	if (which == 0)
		sb->lease_break_ms = val;
	else if (val)
		sb->flags |= DXL_SBF_UNBREAKABLE;
	else
		sb->flags &= ~DXL_SBF_UNBREAKABLE;
	rc = dxl_tx_commit(tx);
	if (rc == 0)
		write_backup_sb(fs);
	dxl_fs_unlock(fs);
	return rc;
}

int dxl_tune_lease_break(dxl_pool *pool, uint32_t ms)
{
	if (ms == 0 || ms > 24u * 3600 * 1000)
		return dxl_err(EINVAL, "lease break time of %u ms: must be between 1 ms and 24 hours", ms);
	return tune(pool, 0, ms);
}

int dxl_tune_unbreakable(dxl_pool *pool, int allow)
{
	return tune(pool, 1, allow ? 1 : 0);
}

int dxl_persist(dxl_pool *pool, const void *addr, size_t len)
{
	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "persist: no pool");
	return dxl_pmem_persist_user(&pool->fs.pm, addr, len);
}
