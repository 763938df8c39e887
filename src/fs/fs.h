/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs: the file system proper — allocator, inodes, extent maps, refcounts
 * (reflink/COW), directories, path lookup, file operations.
 *
 * Locking (docs/design.md, "Locking"): one metadata lock per pool
 * (process-shared, robust; see runtime/) and a hashed table of inode
 * locks.  Every transaction, and every read of metadata that another
 * file's transaction may change, holds the metadata lock; internal dxl_*
 * functions here assume it is held.  There is one transaction at a time
 * per pool.  A regular file's size, extent map and units change only
 * under its inode lock too (taken first), so that a read or an overwrite
 * needs the inode lock alone, and a read not even that (it checks the
 * lock's count afterwards).
 */
#ifndef DXL_FS_H
#define DXL_FS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "daxlease/daxlease.h"
#include "format/format.h"
#include "journal/journal.h"
#include "pmem/pmem.h"
#include "lease/lease.h"
#include "runtime/runtime.h"
#include "util/util.h"
#include "btree.h"

struct dxl_fs {
	struct dxl_pmem pm;
	struct dxl_sb *sb;         /* primary superblock, in the mapping */
	/* Its geometry as read at open (it never changes): what paths that
	 * do not hold the metadata lock read, while a commit may be
	 * rewriting the superblock's lines (free counts share them). */
	struct dxl_sb geo;
	struct dxl_journal j;
	struct dxl_rt *rt;         /* runtime state shared by the pool's processes */
	uint64_t unit;             /* allocation unit, bytes */
	uint32_t unit_shift;
	uint8_t *data;             /* mapping of unit 0 */
	int rdonly;
	uint32_t uid, gid;         /* owner of new inodes: the opener's, read once */
	/* lowest meta block / unit that may be free (process-local hints:
	 * other processes' frees below them are found after a wrap) */
	uint64_t mlow, dlow;
	/* process-local table of open inodes (the runtime file marks which
	 * processes have each open), so that an unlinked file stays readable
	 * until its last close anywhere (protected by the metadata lock) */
	struct dxl_openino *open_tab;
	uint32_t open_n, open_cap;
	/* set by the map layer: its event thread can release our own leases */
	int self_dispatches;       /* atomic count (event thread, application loop): read by breakers */
	int self_dispatch_app;     /* dxl_event_self_dispatch() said on */
	/* Layout changes this process made while leases existed (atomic).
	 * fs calls nothing above it: the layer above compares the count
	 * around a call to know that its own mappings must follow. */
	uint64_t own_layout_changes;
	/* the per-pool state of the layer above (map): fs neither reads nor
	 * frees it; its owner tears it down before dxl_fs_close */
	void *map_state;
	/* Test-only switches, read from the environment at open, so that tests
	 * can show the corruption each rule prevents: DXL_TEST_NO_QUARANTINE=1
	 * makes the allocator ignore pins, DXL_TEST_SHARE_PINNED=1 lets a
	 * reflink share pinned units. */
	int test_no_quarantine, test_share_pinned;
	/* the handle belongs to the process that opened it (see dxl_fs_usable) */
	uint32_t fork_gen;
	int32_t opener_pid;
};

/* the public handle is the fs */
struct dxl_pool {
	struct dxl_fs fs;
};

/* ---------------------------------------------------------------- locking */
/* 0, or -EBADF with a message when the handle was inherited across
 * fork(): the child must open the pool itself, and nothing it does with
 * the parent's handle may touch the parent's leases, pins or lock. */
int dxl_fs_usable(const struct dxl_fs *fs);
static inline int dxl_fs_inherited(const struct dxl_fs *fs)
{
	return dxl_forked(fs->fork_gen);
}
/* Take the metadata lock.  If the previous holder died, run journal
 * recovery before returning (its half-built transaction never committed).
 * Fails (dxl_fs_usable) on a handle inherited across fork(). */
int dxl_fs_lock(struct dxl_fs *fs);
void dxl_fs_unlock(struct dxl_fs *fs);

/* ---------------------------------------------------------------- ilock.c
 * Inode locks: taken before the metadata lock (two of them in the order
 * of their entries: dxl_ilock2); a thread that holds the metadata lock
 * may only try one (dxl_ilock_under).  They nest per thread.  A holder
 * that died is mourned by the next taker: the metadata lock is taken
 * once, so that a transaction it died in is replayed before the file
 * is read. */
int dxl_ilock(struct dxl_fs *fs, uint64_t ino);
int dxl_ilock2(struct dxl_fs *fs, uint64_t a, uint64_t b);
void dxl_iunlock(struct dxl_fs *fs, uint64_t ino);
/* With the metadata lock held: 0 = got it without letting go; 1 = the
 * metadata lock was dropped meanwhile (look at the file again). */
int dxl_ilock_under(struct dxl_fs *fs, uint64_t ino);
/* With the metadata lock held, without letting go of it: 0 or -EBUSY. */
int dxl_ilock_try(struct dxl_fs *fs, uint64_t ino);
int dxl_ilock_held(struct dxl_fs *fs, uint64_t ino);
/* The inode lock, then the metadata lock (what changing a file needs). */
int dxl_fs_lock_ino(struct dxl_fs *fs, uint64_t ino);
void dxl_fs_unlock_ino(struct dxl_fs *fs, uint64_t ino);
/* 0 if held, else -EDEADLK naming what was about to change unlocked. */
int dxl_ilock_check(struct dxl_fs *fs, uint64_t ino, const char *what);
/* Let go of every inode lock of this thread on fs (a lease break waits
 * without them) and take them again, in order. */
struct dxl_ilocks_saved {
	struct rt_ilock *l[4];
	int depth[4];
	int n;
};
int dxl_ilocks_release(struct dxl_fs *fs, struct dxl_ilocks_saved *sv);
int dxl_ilocks_retake(struct dxl_fs *fs, const struct dxl_ilocks_saved *sv);
void dxl_meta_note(int delta); /* dxl_fs_lock/unlock count per thread */

/*
 * Before removing or remapping blocks of [start, end) of ino: break the
 * layout leases in the way (see lease.h).  Called with the lock held and
 * returns with it held, but may drop it while waiting for holders, so the
 * caller reads the file's state only after this returns.  exclude: a lease
 * of the caller's the change is made under (0: none).
 */
int dxl_fs_break(struct dxl_fs *fs, uint64_t ino, uint64_t start, uint64_t end, int nonblock,
		 uint64_t exclude);
/* After a layout change of ino: other processes' plain mappings are told
 * by event; this process's are the caller's to follow, which it learns
 * from fs->own_layout_changes (dxl_fs_own_changes). */
void dxl_fs_layout_changed(struct dxl_fs *fs, uint64_t ino, uint64_t start, uint64_t end);
static inline uint64_t dxl_fs_own_changes(const struct dxl_fs *fs)
{
	return __atomic_load_n(&fs->own_layout_changes, __ATOMIC_ACQUIRE);
}

/* The set-user-ID and set-group-ID bits of mode that a write, a truncate
 * or a chown takes away (privs.c); and, for a write or truncate by this
 * process (metadata lock held), take them away from ino unless the
 * process may keep them (effective uid 0). */
uint32_t dxl_privs_dropped(uint32_t mode);
int dxl_file_drop_privs(struct dxl_fs *fs, uint64_t ino);

/* The fs halves of the public calls that change a file's layout.  The
 * public ones (src/map/file_api.c) run these, then make this process's
 * own mappings of the file follow. */
int dxl_fs_open_file(dxl_pool *pool, const char *path, int flags, mode_t mode, dxl_file **out);
ssize_t dxl_fs_pwrite(dxl_file *f, const void *buf, size_t len, uint64_t off);
int dxl_fs_ftruncate(dxl_file *f, uint64_t size);
/* *ino: the file truncated (0 if none was found) */
int dxl_fs_truncate(dxl_pool *pool, const char *path, uint64_t size, uint64_t *ino);
int dxl_fs_fallocate(dxl_file *f, int mode, uint64_t off, uint64_t len);
int dxl_fs_reflink(dxl_file *src, uint64_t src_off, dxl_file *dst, uint64_t dst_off, uint64_t len);

/* Internal open without the public wrapper: fsck uses it. */
#define DXL_FS_RDONLY 0x1
#define DXL_FS_NORECOVER 0x2 /* fsck -n: look at the pool as it is */
int dxl_fs_open(struct dxl_fs *fs, const char *path, unsigned flags);
/* 0, or the error of the final write-back (a failed msync now or earlier,
 * with its message): the pool is closed either way. */
int dxl_fs_close(struct dxl_fs *fs);

/* ---------------------------------------------------------------- blocks */
static inline void *dxl_blk_ptr(struct dxl_fs *fs, uint64_t blk)
{
	return fs->pm.base + (blk << DXL_BLOCK_SHIFT);
}
static inline int dxl_is_meta_blk(const struct dxl_fs *fs, uint64_t blk)
{
	return blk >= fs->geo.meta_blk && blk - fs->geo.meta_blk < fs->geo.meta_blocks;
}
static inline uint8_t *dxl_unit_ptr(struct dxl_fs *fs, uint64_t unit)
{
	return fs->data + (unit << fs->unit_shift);
}
/* The superblock as the transaction sees it / writably. */
static inline const struct dxl_sb *dxl_sb_read(struct dxl_tx *tx)
{
	return (const struct dxl_sb *)dxl_tx_read(tx, 0);
}
static inline struct dxl_sb *dxl_sb_write(struct dxl_tx *tx)
{
	return (struct dxl_sb *)dxl_tx_write(tx, 0);
}

/* ---------------------------------------------------------------- alloc.c */
/* A free metadata block, marked used in tx (not reused if freed in tx). */
int dxl_meta_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t *blk);
int dxl_meta_free(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t blk);
/*
 * Data units: find a free run at or after goal (DXL_GOAL_LOW: the lowest
 * free space), of up to want units (at least 1),
 * mark it used in tx and return it.  Never returns a unit freed earlier in
 * the same transaction (its old owner's data may still be needed if tx does
 * not commit) nor, once leases exist, one that is pinned.
 */
#define DXL_GOAL_LOW 0
int dxl_unit_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t goal, uint64_t want,
		   uint64_t *start, uint64_t *got);
int dxl_unit_free(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len);
/* Is a data unit / meta block marked allocated (as tx sees it)? For fsck. */
int dxl_unit_used(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t unit);
int dxl_meta_used(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t blk);

/* ---------------------------------------------------------------- inode.c */
/* A validated read-only view of an inode (-EUCLEAN if damaged, -ENOENT if
 * the block is not an in-use inode). */
int dxl_inode_read(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino,
		   const struct dxl_inode **out);
/* A writable shadow of an inode in tx. */
int dxl_inode_write(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, struct dxl_inode **out);
/* Allocate and initialise an inode (nlink 0: the caller links it).  For
 * directories and regular files the root node is an empty tree. */
int dxl_inode_alloc(struct dxl_fs *fs, struct dxl_tx *tx, uint32_t mode, uint32_t uid,
		    uint32_t gid, uint64_t parent, struct dxl_inode **out);
/* The root of an inode's tree. */
void dxl_inode_broot(uint64_t ino, struct dxl_broot *root);
/* nlink-- ; at 0 the inode goes on the orphan list (still allocated).  The
 * caller calls dxl_inode_reap() after committing. */
int dxl_inode_unlink(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino);
/* Free an orphan (nlink 0) that no handle of this process has open: its
 * extents, tree and inode block, in as many transactions as needed.
 * A no-op for an inode still linked or still open. */
int dxl_inode_reap(struct dxl_fs *fs, uint64_t ino);
/* Free every orphan (at first open of the pool: no one can have them open). */
int dxl_orphans_reap_all(struct dxl_fs *fs);
void dxl_inode_to_stat(struct dxl_fs *fs, const struct dxl_inode *in, struct dxl_stat *st);
/* Open counts: per handle in this process, and per process in the runtime
 * file, so that an unlinked file lives until every process closed it. */
int dxl_inode_open_get(struct dxl_fs *fs, uint64_t ino);
void dxl_inode_open_put(struct dxl_fs *fs, uint64_t ino);
/* Open here, or by another live process. */
int dxl_inode_is_open(struct dxl_fs *fs, uint64_t ino);

/* ---------------------------------------------------------------- extent.c */
struct dxl_map {
	uint64_t phys;    /* first unit (valid if !hole) */
	uint64_t len;     /* units from the asked unit to the end of this extent/hole */
	uint32_t flags;   /* DXL_EXT_* */
	int hole;
};
/* Mapping of file unit fu; a hole's len runs to the next extent (or ~0). */
int dxl_ext_map(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu,
		struct dxl_map *m);
/* Map [fu, fu+len) to [phys, ...) where it was a hole. */
int dxl_ext_insert(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu,
		   uint64_t phys, uint64_t len, uint32_t flags);
/* Unmap [fu, fu+len): each unit's reference is dropped (freed, or its
 * share count decreased).  Returns -EAGAIN when the transaction filled up
 * before the whole range was done (commit and call again). */
int dxl_ext_remove(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t fu,
		   uint64_t len);
/* Move the extents at or after from by n units, down or up (collapse and
 * insert range); -EAGAIN: commit and call again with the same cursor,
 * which starts at from (down) or UINT64_MAX (up) (extent.c). */
int dxl_ext_shift(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t from, uint64_t n,
		  int down, uint64_t *cursor);

/* ---------------------------------------------------------------- refcount.c */
/* Share count of a unit: 1 if no record (allocated, unshared). */
int dxl_refc_get(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t unit, uint64_t *count,
		 uint64_t *run);
/* +1 on [start, start+len) (making records with count 2 where there were none). */
int dxl_refc_inc(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len);
/* Drop one reference to each unit of the range: units whose count falls
 * to 0 are freed in the allocator. */
int dxl_refc_dec(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t start, uint64_t len);
void dxl_refc_broot(struct dxl_fs *fs, struct dxl_broot *root);

/* ---------------------------------------------------------------- dir.c */
int dxl_dir_lookup(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		   size_t len, uint64_t *ino, uint32_t *type);
int dxl_dir_add(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		size_t len, uint64_t ino, uint32_t type);
int dxl_dir_remove(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		   size_t len);
/* Replace the inode an existing entry points to (rename over). */
int dxl_dir_retarget(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		     size_t len, uint64_t ino, uint32_t type);

/* The first entry with key >= cookie (readdir step): its key, inode, type
 * and name (len in/out: buffer size, then name length). -ENOENT at the end. */
int dxl_dir_next(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, uint64_t cookie, uint64_t *key,
		 uint64_t *ino, uint32_t *type, char *name, size_t *len);

/* ---------------------------------------------------------------- namei.c */
/* Resolve a path to an inode (following symlinks, the last one too if follow). */
int dxl_namei(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, int follow,
	      uint64_t *ino);
/* Resolve all but the last component: parent directory and last name
 * (pointer into path, not NUL-terminated: *len).  "/" has no last name:
 * -EINVAL... callers handle "/" themselves (-EEXIST for mkdir, etc.). */
int dxl_namei_parent(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t *dir,
		     const char **name, size_t *len);

/* ------------------------------------- file.c, file_io.c, file_space.c */
/* Make [off, end) of ino allocated and private (holes filled with zeroed
 * units, shared units copied), keeping the size: what a pin or a mapping
 * needs before it takes the units.  Lock held; it may be dropped (see
 * dxl_fs_break) unless DXL_PREP_NONBLOCK, which fails with -EWOULDBLOCK
 * instead of waiting for a lease. */
#define DXL_PREP_NONBLOCK 0x1
#define DXL_PREP_NOT_SELF 0x2 /* the caller follows its own mappings itself:
			       * only other processes are told of the change */
#define DXL_PREP_UNSHARE 0x4  /* only copy shared units: holes stay holes */
int dxl_file_prepare(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, unsigned flags,
		     uint64_t exclude);

struct dxl_file {
	struct dxl_pool *pool;
	uint64_t ino;
	int flags;                /* open flags */
	int64_t pending_mtime;    /* lazytime fallback: written at close/fsync (0 = none) */
	int64_t time_tick;        /* coarse clock of the last write time made visible (atomic) */
	char path[64];            /* as opened, for lease listings (may be cut) */
	uint64_t checked_at;      /* meta_changes when the inode's checksum last passed */
};

/* The file's inode, checksum verified at most once per metadata change
 * of the pool (lock held): hot paths need not checksum it on every call. */
int dxl_file_inode(struct dxl_fs *fs, dxl_file *f, const struct dxl_inode **in);

#endif
