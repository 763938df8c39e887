/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * map: the top of the library — layout leases, pins, event dispatch and
 * direct mappings as the application sees them.  Per pool, this process
 * keeps its own lease handles, pins and mappings here; the shared truth is
 * in the lease layer's tables.
 *
 * Locking: the pool's metadata lock for anything shared, and for every
 * change to this process's lists; ms->mu as well for the lists, for the
 * readers that do not take the metadata lock (the event thread collecting
 * fds).  Order: metadata lock, then ms->mu.  Callbacks run with neither
 * held, so they may release leases and unmap.
 */
#ifndef DXL_MAP_H
#define DXL_MAP_H

#include <pthread.h>

#include "fs/fs.h"

/* map-local request flag (not stored in the shared table): own event fd */
#define RT_LF_OWNFD 0x100u

/* Handles carry a magic that release poisons: a second release of a
 * handle still in memory fails instead of acting twice (after free() the
 * rule is free()'s: do not). */
#define DXL_HANDLE_LIVE 0x4878444cu
#define DXL_HANDLE_DEAD 0x64616564u

struct dxl_lease {
	uint32_t magic;
	uint32_t told;            /* last RT_LEASE_* state its owner was told of */
	dxl_pool *pool;
	uint64_t id;
	uint64_t ino;
	dxl_lease_cb cb;
	void *arg;
	int own_fd;               /* DXL_LEASE_OWN_FD: its socket, else -1 */
	uint64_t own_fd_ino;      /* the socket's inode: closed only if still ours */
	dxl_mapping *mapping;     /* the mapping this lease serves, if any */
	struct dxl_lease *next;
};

struct dxl_pin {
	uint32_t magic;
	dxl_pool *pool;
	uint64_t lease;
	int n, cap;
	uint64_t *refs;           /* rt pin table references (lease.h) */
	struct dxl_seg *segs;
	/* most pins are one extent: no allocation beyond the handle */
	uint64_t ref0;
	struct dxl_seg seg0;
};

struct dxl_mapping {
	uint32_t magic;
	dxl_pool *pool;
	uint64_t ino;
	uint64_t off;             /* file offset of addr */
	size_t len;
	int prot;
	unsigned flags;           /* DXL_MAP_DIRECT */
	uint8_t *addr;
	dxl_lease *lease;         /* the user's (DIRECT) or an internal coherence lease */
	dxl_pin *pin;
	int revoked;
	uint32_t seen_changes;    /* plain: the lease's change count last followed */
	struct dxl_mapping *next;
};

struct dxl_mapst {
	pthread_mutex_t mu;
	int evfd;                 /* this process's event socket */
	uint64_t evfd_ino;
	dxl_lease *leases;
	dxl_mapping *maps;
	dxl_lease_cb def_cb;
	void *def_arg;
	/* the event thread (dxl_event_thread_start): the application's callbacks */
	pthread_t thread;
	int thread_on;
	int stop_fd[2];           /* wakes the thread to stop */
	/* the watcher: keeps this process's mappings right without the
	 * application's help — plain ones follow layout changes, revoked
	 * DIRECT ones become inaccessible at the deadline */
	pthread_t watcher;
	int watcher_on;
	int watcher_stop;
	int refollow;             /* a mapping's file was busy: follow all next pass (lock held) */
	/* one unpinned handle kept for the next pin (under the pool lock):
	 * a direct I/O pins and unpins for every request */
	struct dxl_pin *spare_pin;
};

/* This pool's map state, created at first use (event socket bound). */
int dxl_map_state(dxl_pool *pool, struct dxl_mapst **out);
/* 0, or an error for a pool that may not be used here (inherited). */
static inline int dxl_map_usable(dxl_pool *pool)
{
	return dxl_fs_usable(&pool->fs);
}

/* Pin [off, end) of ino (lock held; the range already prepared).  first:
 * the mapping of off's unit if the caller has just looked it up, or NULL. */
int dxl_pin_locked(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, uint64_t lease,
		   const char *path, const struct dxl_map *first, dxl_pin **out);
void dxl_unpin_locked(struct dxl_fs *fs, dxl_pin *pin);

/* Lease handles (list in ms). */
dxl_lease *dxl_lease_lookup(struct dxl_mapst *ms, uint64_t id);
int dxl_lease_take_locked(dxl_file *f, uint64_t off, uint64_t end, uint32_t rt_flags, dxl_lease_cb cb,
			  void *arg, dxl_lease **out);
int dxl_lease_release_locked(dxl_lease *l);
/* Free a handle without touching the table (pool close, inherited pools). */
void dxl_lease_handle_free(dxl_lease *l);

/* Tear down this pool's map state (threads, mappings, handles); in a
 * child after fork(), free memory only.  Before dxl_fs_close. */
void dxl_map_fini(struct dxl_fs *fs);

/* Mappings: follow the file's new layout (plain) or go PROT_NONE (revoked
 * DIRECT).  dxl_map_layout_changed: after this process changed ino's
 * layout (fs->own_layout_changes moved), with the metadata lock and ino's
 * inode lock held; dxl_map_follow(fs, ino) makes every plain mapping of
 * ino follow (metadata lock held). */
void dxl_map_layout_changed(struct dxl_fs *fs, uint64_t ino);
/* The same after a call that ran with neither lock held: takes them, if
 * the count moved since `before` and this process has mappings. */
void dxl_map_follow_own(struct dxl_fs *fs, uint64_t ino, uint64_t before);
/* -EAGAIN: the file's inode lock was busy, nothing done: try again. */
int dxl_map_follow(struct dxl_fs *fs, uint64_t ino);
void dxl_map_revoked(dxl_mapping *m);
/* A DIRECT mapping whose lease was revoked, or whose deadline passed with
 * nobody left to revoke it, becomes inaccessible (lock held); returns the
 * deadline still to wait for (INT64_MAX: none). */
int64_t dxl_map_enforce(struct dxl_fs *fs, dxl_mapping *m);
/* Free a mapping's memory and address range without touching the table
 * or the lists (an inherited pool's close: the child's only thread). */
void dxl_map_forget(dxl_mapping *m);

/* The watcher thread (watch.c), started with the first mapping. */
int dxl_watcher_start(dxl_pool *pool, struct dxl_mapst *ms);
void dxl_watcher_stop(dxl_pool *pool, struct dxl_mapst *ms);

/* A descriptor the library made: its inode, to close it only if the
 * application has not closed it and got the number back for another file. */
uint64_t dxl_fd_ino(int fd);
void dxl_close_ours(int fd, uint64_t ino);

#endif
