/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease — a file system for DAX memory, as a library.
 *
 * Conventions (libgit2-style):
 *  - Handles are opaque.
 *  - Every function returns 0 (or a byte count) on success and a negative
 *    errno on failure; dxl_errmsg() then gives a readable message for the
 *    calling thread's last failure.
 *  - The library never aborts or exits on bad input or a damaged pool.
 *  - Paths are absolute inside the pool ("/a/b"); a missing leading '/' is
 *    accepted and means the same thing.
 *
 * Growing the ABI (docs/install.md):
 *  - A struct a call takes or fills (dxl_mkfs_opts, dxl_statfs, dxl_stat,
 *    dxl_dirent, dxl_fsck_result) goes with its size, as openat2(2) and
 *    clone3(2) take theirs: each such function is wrapped by a macro of
 *    its name that passes sizeof(*(arg)), so a program compiled against
 *    an older header (a smaller struct) or a newer one (a larger) works
 *    with this library.  Fields are only ever added at the end.  The
 *    library fills what both know and zeroes the rest of a larger struct;
 *    it takes missing input fields as zero (the default) and refuses with
 *    -E2BIG a set field it does not know.  DXL_*_SIZE_VER0 is each struct's
 *    first size, the smallest accepted.  To pass NULL where a call allows
 *    it, call the function itself: (dxl_fsck)(path, 0, NULL, NULL, NULL, 0).
 *  - A struct the library hands to a callback (dxl_event, dxl_lease_info)
 *    starts with its size as the library filled it: read a field that a
 *    later version added only if DXL_HAS_FIELD(ptr, type, field).
 *  - dxl_seg (two members) never changes.
 *
 * Ownership: a handle is released by the call of its kind (dxl_pool_close,
 * dxl_close, dxl_closedir, dxl_lease_release, dxl_unpin, dxl_munmap).
 * Files and directories must be closed before their pool; mappings,
 * leases and pins still held are released by dxl_pool_close.  No handle
 * outlives its pool.  Strings the library returns are its own: dxl_errmsg
 * until the thread's next call, dxl_version for ever; a struct given to a
 * callback is valid during the call only.  Every pointer argument is
 * borrowed for the call, never kept, except the callbacks' arg.
 *
 * Handles and fork() (as SQLite and LMDB):
 *  - A pool handle, and every handle made from it (files, directories,
 *    leases, pins, mappings), belongs to the process that opened the pool.
 *    After fork() the child must open the pool itself.  In the child,
 *    every call on an inherited handle fails with -EBADF and touches
 *    nothing; only dxl_close(), dxl_closedir() and dxl_pool_close() work,
 *    and they free the child's copy only (dxl_pool_close() also unmaps the
 *    child's view of the pool and of its mappings).  The parent's leases,
 *    pins, mappings and the pool's shared state are never touched by a
 *    child.
 *  - A handle that was released (dxl_lease_release, dxl_unpin,
 *    dxl_munmap, dxl_close...) must not be used again, as with free().
 *    Where the memory is still the library's, a second release fails with
 *    -EINVAL; in no case can a stale handle reach another holder's lease
 *    or pin: table entries carry their owner and a generation.
 */
#ifndef DAXLEASE_H
#define DAXLEASE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* DXL_VERSION_MAJOR, _MINOR, _PATCH, _STRING: generated from CMakeLists.txt's version. */
#include "daxlease/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Everything declared from here to the matching pop is the public API: the
 * library is compiled with -fvisibility=hidden, and this gives these
 * declarations default visibility, so that libdaxlease.so exports exactly
 * them (with src/libdaxlease.map; docs/install.md).  One region rather than
 * a macro on each declaration: a function added to this header is exported
 * without anyone remembering a marker, and the abi_exports test checks both
 * ways.
 */
#pragma GCC visibility push(default)

/* Whether *p, a struct type the library filled, holds field (added in a
 * later version than the struct's first): its size says how much it holds. */
#define DXL_HAS_FIELD(p, type, field) ((p)->size >= offsetof(type, field) + sizeof((p)->field))

typedef struct dxl_pool dxl_pool;
typedef struct dxl_file dxl_file;
typedef struct dxl_dir dxl_dir;

/* The calling thread's message for its last failed call ("" if none). */
const char *dxl_errmsg(void);

/* The library's version, "MAJOR.MINOR.PATCH" (DXL_VERSION_STRING when it was built). */
const char *dxl_version(void);

/* ---------------------------------------------------------------- pool */

/* Backing store kinds, as detected by the pmem layer. */
enum dxl_backend {
	DXL_BACKEND_FILE = 1,  /* plain file, durable through msync */
	DXL_BACKEND_SHM = 2,   /* tmpfs / memfd: memory, CPU flushes only */
	DXL_BACKEND_DEVDAX = 3,/* /dev/daxX.Y character device */
	DXL_BACKEND_FSDAX = 4, /* file on a DAX mount, MAP_SYNC */
};

struct dxl_mkfs_opts {
	uint64_t size;           /* bytes; 0 = existing size (devdax, or an existing file) */
	uint64_t unit;           /* allocation unit; 0 = backend mapping alignment */
	uint64_t journal_size;   /* 0 = default */
	uint64_t meta_size;      /* bytes for metadata blocks; 0 = default */
	uint32_t lease_break_ms; /* 0 = default (45000, as the kernel's) */
	uint32_t flags;          /* DXL_MKFS_* */
};
#define DXL_MKFS_FORCE      0x1 /* overwrite an existing daxlease pool */
#define DXL_MKFS_UNBREAKABLE 0x2 /* allow refusing (unbreakable) leases */
#define DXL_MKFS_OPTS_SIZE_VER0 40

/* opts may be NULL (all defaults): (dxl_mkfs)(path, NULL, 0). */
int dxl_mkfs(const char *path, const struct dxl_mkfs_opts *opts, size_t opts_size);
#define dxl_mkfs(path, opts) dxl_mkfs((path), (opts), sizeof(*(opts)))

#define DXL_POOL_RDONLY 0x1 /* read-only: no recovery writes, no changes */
int dxl_pool_open(const char *path, unsigned flags, dxl_pool **out);
/* Closes the pool and frees the handle, whatever it returns: 0, or the
 * error of the final write-back on a pool file (an msync failing now, or
 * one that failed earlier and was kept), so a lost write is never silent. */
int dxl_pool_close(dxl_pool *pool);

struct dxl_statfs {
	uint8_t uuid[16];
	uint32_t version;       /* on-media format version */
	uint32_t backend;       /* enum dxl_backend */
	uint64_t pool_size;     /* bytes of the backing store in use */
	uint64_t unit;          /* allocation unit in bytes */
	uint64_t data_units;    /* units for file data */
	uint64_t free_units;    /* free and not in quarantine */
	uint64_t quarantined_units; /* freed while pinned: free again once unpinned */
	uint64_t meta_blocks;   /* 4 KiB metadata blocks (inodes, trees) */
	uint64_t free_meta_blocks;
	uint64_t inodes;        /* inodes in use */
	uint64_t journal_size;
	uint32_t lease_break_ms;
	uint32_t flags;         /* DXL_MKFS_UNBREAKABLE if allowed */
	const char *persist;    /* persistence method, e.g. "clwb+sfence" */
};
#define DXL_STATFS_SIZE_VER0 112
int dxl_statfs(dxl_pool *pool, struct dxl_statfs *st, size_t st_size);
#define dxl_statfs(pool, st) dxl_statfs((pool), (st), sizeof(*(st)))

/* Pool-wide tunables (persistent). */
int dxl_tune_lease_break(dxl_pool *pool, uint32_t ms);
int dxl_tune_unbreakable(dxl_pool *pool, int allow);

/* ---------------------------------------------------------- namespace */

struct dxl_stat {
	uint64_t ino;
	uint32_t mode;        /* S_IFREG | 0644 etc. */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t allocated;   /* bytes of storage mapped by the file */
	struct timespec atime, mtime, ctime, btime;
	uint64_t rdev;        /* character and block devices: the device number (makedev) */
};
#define DXL_STAT_SIZE_VER0 112

int dxl_stat(dxl_pool *pool, const char *path, struct dxl_stat *st, size_t st_size);
int dxl_lstat(dxl_pool *pool, const char *path, struct dxl_stat *st, size_t st_size);
#define dxl_stat(pool, path, st) dxl_stat((pool), (path), (st), sizeof(*(st)))
#define dxl_lstat(pool, path, st) dxl_lstat((pool), (path), (st), sizeof(*(st)))
int dxl_mkdir(dxl_pool *pool, const char *path, mode_t mode);
int dxl_rmdir(dxl_pool *pool, const char *path);
int dxl_unlink(dxl_pool *pool, const char *path);
int dxl_link(dxl_pool *pool, const char *oldpath, const char *newpath);
int dxl_symlink(dxl_pool *pool, const char *target, const char *linkpath);
/* A FIFO, socket, character or block device (S_IFIFO, S_IFSOCK, S_IFCHR,
 * S_IFBLK in mode, with the permission bits), or an empty regular file
 * (S_IFREG).  dev: the device number for a device, else 0.  The pool only
 * names special files; dxl_open refuses them (through the mount the
 * kernel gives them their behaviour). */
int dxl_mknod(dxl_pool *pool, const char *path, mode_t mode, uint64_t dev);
/* Returns the target length (not NUL-terminated if it fills buf), like readlink(2). */
ssize_t dxl_readlink(dxl_pool *pool, const char *path, char *buf, size_t size);

#define DXL_RENAME_NOREPLACE 0x1
#define DXL_RENAME_EXCHANGE  0x2
/* Atomic: newpath, if it exists, is replaced in the same transaction. */
int dxl_rename(dxl_pool *pool, const char *oldpath, const char *newpath, unsigned flags);

int dxl_chmod(dxl_pool *pool, const char *path, mode_t mode);
int dxl_chown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid); /* -1 = unchanged */
/* times[0] = atime, times[1] = mtime; tv_nsec may be UTIME_NOW / UTIME_OMIT. NULL = now. */
int dxl_utimens(dxl_pool *pool, const char *path, const struct timespec times[2]);
/* As dxl_chown / dxl_utimens, but a symlink at path is changed itself. */
int dxl_lchown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid);
int dxl_lutimens(dxl_pool *pool, const char *path, const struct timespec times[2]);
/* The same on an open file, which need not have a name any more (an
 * unlinked file still open).  A chown of anything but a directory drops
 * its set-user-ID bit, and its set-group-ID bit where the group may
 * execute, as on Linux; so does a write or truncate by a caller without
 * effective uid 0. */
int dxl_fchmod(dxl_file *f, mode_t mode);
int dxl_fchown(dxl_file *f, uid_t uid, gid_t gid); /* -1 = unchanged */
int dxl_futimens(dxl_file *f, const struct timespec times[2]);

struct dxl_dirent {
	uint64_t ino;
	uint32_t type;        /* DT_REG, DT_DIR, DT_LNK, DT_FIFO, DT_SOCK, DT_CHR, DT_BLK */
	uint64_t cookie;      /* position after this entry (for dxl_seekdir) */
	char name[256];
};
#define DXL_DIRENT_SIZE_VER0 280
/* Entries come in hash order; "." and ".." are not returned. */
int dxl_opendir(dxl_pool *pool, const char *path, dxl_dir **out);
/* 1 = an entry was stored, 0 = end of directory, <0 = error. */
int dxl_readdir(dxl_dir *dir, struct dxl_dirent *ent, size_t ent_size);
#define dxl_readdir(dir, ent) dxl_readdir((dir), (ent), sizeof(*(ent)))
void dxl_seekdir(dxl_dir *dir, uint64_t cookie);
int dxl_closedir(dxl_dir *dir);

/* --------------------------------------------------------------- files */

/* flags: O_RDONLY / O_WRONLY / O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND. */
int dxl_open(dxl_pool *pool, const char *path, int flags, mode_t mode, dxl_file **out);
int dxl_close(dxl_file *f);

ssize_t dxl_pread(dxl_file *f, void *buf, size_t len, uint64_t off);
ssize_t dxl_pwrite(dxl_file *f, const void *buf, size_t len, uint64_t off);
int dxl_ftruncate(dxl_file *f, uint64_t size);
int dxl_truncate(dxl_pool *pool, const char *path, uint64_t size);

/* mode: 0 (allocate, extend size), or FALLOC_FL_KEEP_SIZE,
 * FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE
 * (optionally |FALLOC_FL_KEEP_SIZE), FALLOC_FL_UNSHARE_RANGE (optionally
 * |FALLOC_FL_KEEP_SIZE: shared units get private copies, holes storage),
 * FALLOC_FL_COLLAPSE_RANGE or FALLOC_FL_INSERT_RANGE (alone; off and len
 * multiples of the unit; collapse must end before EOF, insert start
 * before it) — the Linux values from <linux/falloc.h>.  Collapse and
 * insert move everything from off on, so they break the leases from off
 * to beyond EOF first, like a truncate. */
int dxl_fallocate(dxl_file *f, int mode, uint64_t off, uint64_t len);

/* Share src's blocks into dst (copy on write afterwards). src_off, dst_off
 * and len must be multiples of the allocation unit, except that the range
 * may end at src's EOF. dst grows if the range ends past its EOF.  Units
 * that a pin or a mapping may still write (a DMA, a registration, a
 * mapping, a revoked holder) are copied into dst instead of shared, so
 * such writes reach src only; src's leases are not broken. */
int dxl_reflink(dxl_file *src, uint64_t src_off, dxl_file *dst, uint64_t dst_off,
		uint64_t len);

/* Data is durable when dxl_pwrite returns on a DAX backend; these also
 * write back lazily kept timestamps, and msync a non-DAX backing file. */
int dxl_fsync(dxl_file *f);
int dxl_fdatasync(dxl_file *f);
int dxl_fstat(dxl_file *f, struct dxl_stat *st, size_t st_size);
#define dxl_fstat(f, st) dxl_fstat((f), (st), sizeof(*(st)))

/* Make CPU stores to a range of the pool's own mapping durable.  0 on
 * DAX (a flush and a fence cannot fail); on a pool file (msync), the
 * error of a failed write-back (also kept for dxl_fsync and
 * dxl_pool_close to report), or -EINVAL for a range that is not a mapping
 * of the pool. */
int dxl_persist(dxl_pool *pool, const void *addr, size_t len);

/* ---------------------------------------------------------------- fsck */

#define DXL_FSCK_REPAIR 0x1
#define DXL_FSCK_VERBOSE 0x2
/* Called once per problem, in plain words. */
typedef void (*dxl_fsck_report_fn)(void *arg, const char *msg);
struct dxl_fsck_result {
	uint64_t problems;     /* found */
	uint64_t repaired;     /* mended (with DXL_FSCK_REPAIR) */
	uint64_t inodes, dirs, files, extents, shared_units;
};
#define DXL_FSCK_RESULT_SIZE_VER0 56
/* 0 = clean (or everything found was repaired), -EUCLEAN = problems remain,
 * other negative errno = could not check.  res may be NULL:
 * (dxl_fsck)(path, flags, report, arg, NULL, 0). */
int dxl_fsck(const char *path, unsigned flags, dxl_fsck_report_fn report, void *arg,
	     struct dxl_fsck_result *res, size_t res_size);
#define dxl_fsck(path, flags, report, arg, res) \
	dxl_fsck((path), (flags), (report), (arg), (res), sizeof(*(res)))

/* -------------------------------------------------- pins and layout leases
 *
 * A *pin* keeps storage units alive while something outside the file
 * system's control may touch them (a DMA, an RDMA NIC, a mapping): a pinned
 * unit is never handed to another file, whatever happens to the file that
 * owned it.  Units freed while pinned wait in quarantine until unpinned.
 *
 * A *layout lease* on a byte range of a file lets its holder keep the
 * range's block map fixed.  An operation that would remove or remap blocks
 * in the range (truncate down, punch, zero range that frees, COW of a
 * shared extent, unlink of the last link, rename over the file, reflink
 * over the range) first *breaks* the lease: the holder is notified on its
 * event fd, and the breaker waits until the lease is released or the
 * pool's lease-break time passes; then the lease is *revoked* and the
 * change proceeds.  Long-term pins (RDMA registrations, DXL_MAP_DIRECT
 * mappings) are only allowed under a lease, and belong to it.
 * See docs/leases.md.
 */
typedef struct dxl_lease dxl_lease;
typedef struct dxl_pin dxl_pin;
typedef struct dxl_mapping dxl_mapping;

enum dxl_lease_state {
	DXL_LEASE_ACTIVE = 1,
	DXL_LEASE_BREAKING = 2, /* a break is pending: release before the deadline */
	DXL_LEASE_REVOKED = 3,  /* the deadline passed (or the holder died) */
};

enum dxl_event_type {
	DXL_EV_BREAK = 1,   /* release the lease before deadline_ns */
	DXL_EV_REVOKED = 2, /* the lease was revoked; its mappings are gone */
};

struct dxl_event {
	uint32_t size;          /* bytes the library filled (DXL_HAS_FIELD) */
	uint32_t type;          /* enum dxl_event_type */
	uint64_t lease_id;
	uint64_t ino;
	uint64_t start, end;    /* the byte range being changed */
	int64_t deadline_ns;    /* CLOCK_MONOTONIC time of revocation */
	int32_t breaker_pid;
	dxl_lease *lease;       /* this process's handle (NULL if already released) */
};
typedef void (*dxl_lease_cb)(dxl_lease *lease, const struct dxl_event *ev, void *arg);

#define DXL_LEASE_REFUSE 0x1 /* layout changes fail with ETXTBSY instead (pool must allow) */
#define DXL_LEASE_OWN_FD 0x2 /* this lease's events arrive on dxl_lease_fd(), not the pool's */
#define DXL_LEASE_NONBLOCK_BREAK 0x4 /* reserved */

/* Take a lease on [off, off+len) of f (len 0 = to infinity; a range that
 * wraps past 2^64 is -EOVERFLOW).  cb (may be NULL) receives this lease's
 * events when they are dispatched; without cb they go to the pool's
 * default callback. */
int dxl_lease_take(dxl_file *f, uint64_t off, uint64_t len, unsigned flags, dxl_lease_cb cb,
		   void *arg, dxl_lease **out);
/* Release: -EBUSY while long-term pins taken under it are held (unpin
 * first).  A revoked lease can always be released; its pins stay in
 * quarantine until unpinned. */
int dxl_lease_release(dxl_lease *lease);
int dxl_lease_state(dxl_lease *lease);  /* enum dxl_lease_state, or <0 */
/* The same without a lock or a system call — one load from memory the
 * pool's processes share — for a holder that polls anyway (an RDMA
 * server polling its completion queue): check it on every pass, beside
 * the event fd, and release on DXL_LEASE_BREAKING.  The event (deadline,
 * range) still arrives on the fd. */
int dxl_lease_poll(const dxl_lease *lease);
uint64_t dxl_lease_id(const dxl_lease *lease);
/* The lease's own event fd (DXL_LEASE_OWN_FD), readable when it has events. */
int dxl_lease_fd(dxl_lease *lease);

/* The pool's event fd: readable (poll/epoll) when events are queued.  It
 * belongs to the library (dxl_pool_close closes it): do not close it. */
int dxl_event_fd(dxl_pool *pool);
/* Empty the pool's fd and every OWN_FD lease's fd, and call the callback
 * of every lease of this pool that has a break or revocation it was not
 * told of yet; returns how many callbacks ran.  Non-blocking.  Nothing is
 * lost however many leases break at once: the fds only wake, the state
 * is kept in the lease table. */
int dxl_event_dispatch(dxl_pool *pool);
/* Wait up to timeout_ms (-1: for ever; below -1: -EINVAL) for an event,
 * then dispatch. */
int dxl_event_wait(dxl_pool *pool, int timeout_ms);
void dxl_event_set_default(dxl_pool *pool, dxl_lease_cb cb, void *arg);
/* on != 0: this process dispatches its events promptly from a loop of its
 * own (a server), so a change it makes itself through an O_NONBLOCK file
 * breaks its own leases like anyone's (-EWOULDBLOCK, then dispatch and try
 * again) instead of revoking them at once, as it does by default when no
 * thread of the process would ever release them.  The event thread below
 * implies it. */
int dxl_event_self_dispatch(dxl_pool *pool, int on);
/* A library thread that dispatches by itself (stopped at pool close). */
int dxl_event_thread_start(dxl_pool *pool);
int dxl_event_thread_stop(dxl_pool *pool);

#define DXL_PIN_LONGTERM 0x1 /* needs a lease covering the range */
/* Pin the storage of [off, off+len) (allocating holes first). */
int dxl_pin_range(dxl_file *f, uint64_t off, uint64_t len, unsigned flags, dxl_lease *lease,
		  dxl_pin **out);
struct dxl_seg {
	void *addr;  /* in the pool's mapping */
	size_t len;
};
/* The pinned storage, in file order: fills up to n segments, returns how
 * many there are in all (segs may be NULL to ask only that; n < 0 is
 * -EINVAL). */
int dxl_pin_segments(const dxl_pin *pin, struct dxl_seg *segs, int n);
int dxl_unpin(dxl_pin *pin);

#define DXL_MAP_DIRECT 0x1 /* lease + long-term pin; revoked = PROT_NONE */
/* With DXL_MAP_DIRECT: a revoked mapping stays accessible (still pinned,
 * so its units stay out of every other file) until dxl_munmap.  For a
 * registration whose software provider (tcp) copies remote writes through
 * the mapping with the CPU: PROT_NONE would crash the owner on a late
 * write, and protects nothing the pins do not. */
#define DXL_MAP_KEEP_REVOKED 0x2
/* Map [off, off+len) of f at one contiguous address.  The range is
 * allocated and its metadata committed first, so stores made durable with
 * dxl_persist() need no fsync.  Plain mappings are kept coherent by the
 * library (after another process truncates or punches, holes read as
 * zeros and access past EOF faults; after a reflink onto the file a
 * writable mapping gets private copies of the units that became shared);
 * DXL_MAP_DIRECT mappings take a lease (cb/arg as for dxl_lease_take)
 * and are made inaccessible when it is revoked — by a library thread, at
 * the deadline, whether or not the application dispatches events.
 * off must be a multiple of the store's mapping granularity (the page, or
 * device-DAX's alignment: 2 MiB), and len is rounded up to it
 * (dxl_mapping_len says how far); so is EOF, past which a plain mapping
 * faults: on device-DAX, the rest of the last 2 MiB reads as zeros. */
int dxl_mmap(dxl_file *f, uint64_t off, size_t len, int prot, unsigned flags, dxl_lease_cb cb,
	     void *arg, dxl_mapping **out);
void *dxl_mapping_addr(const dxl_mapping *m);
size_t dxl_mapping_len(const dxl_mapping *m);
dxl_lease *dxl_mapping_lease(const dxl_mapping *m); /* DXL_MAP_DIRECT: its lease */
int dxl_munmap(dxl_mapping *m);

/* Say on whose behalf a lease is held (a server's remote client, say):
 * shown by dxl_lease_list and `daxlease leases` beside the holder's pid.
 * Longer text is cut to 47 bytes. */
int dxl_lease_set_holder(dxl_lease *lease, const char *holder);

/* Every lease and pin of the pool, like /proc/locks. */
struct dxl_lease_info {
	uint32_t size;       /* bytes the library filled (DXL_HAS_FIELD) */
	uint64_t id;         /* lease id; 0 for a transient pin */
	int32_t pid;         /* holder */
	uint64_t ino;
	uint64_t start, end; /* lease: byte range; pin: units [start, end) */
	uint32_t kind;       /* DXL_INFO_* */
	uint32_t state;      /* enum dxl_lease_state for leases */
	int64_t ms_left;     /* before revocation, when breaking; else -1 */
	uint32_t pins;       /* long-term pins held under a lease */
	uint32_t quarantined;/* pin: units freed while pinned */
	char path[64];       /* as opened by the holder (may be stale) */
	char holder[48];     /* lease: on whose behalf, e.g. a server's remote client ("" if none) */
};
#define DXL_INFO_LEASE 1
#define DXL_INFO_LEASE_REFUSE 2
#define DXL_INFO_PIN 3
#define DXL_INFO_PIN_LONGTERM 4
#define DXL_INFO_LEASE_MAPPING 5 /* a plain mapping's own lease: never waited for */
typedef int (*dxl_lease_info_fn)(void *arg, const struct dxl_lease_info *info);
int dxl_lease_list(dxl_pool *pool, dxl_lease_info_fn fn, void *arg);

/* Non-blocking breakers: open a file with O_NONBLOCK and a layout change
 * that must break a lease returns -EWOULDBLOCK (the break has started). */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
