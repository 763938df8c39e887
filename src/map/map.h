/*
 * map: the top of the library — layout leases, pins, event dispatch and
 * direct mappings as the application sees them.  Per pool, this process
 * keeps its own lease handles, pins and mappings here; the shared truth is
 * in the lease layer's tables.
 *
 * Locking: the pool's metadata lock for anything shared; ms->mu for this
 * process's lists.  Order: metadata lock, then ms->mu.  Callbacks run with
 * neither held, so they may release leases and unmap.
 */
#ifndef DXL_MAP_H
#define DXL_MAP_H

#include <pthread.h>

#include "fs/fs.h"

/* map-local request flag (not stored in the shared table): own event fd */
#define RT_LF_OWNFD 0x100u

struct dxl_lease {
	dxl_pool *pool;
	uint64_t id;
	uint64_t ino;
	dxl_lease_cb cb;
	void *arg;
	int own_fd;               /* DXL_LEASE_OWN_FD: its socket, else -1 */
	dxl_mapping *mapping;     /* the mapping this lease serves, if any */
	struct dxl_lease *next;
};

struct dxl_pin {
	dxl_pool *pool;
	uint64_t lease;
	int n, cap;
	int *slots;               /* rt pin table slots */
	struct dxl_seg *segs;
	/* most pins are one extent: no allocation beyond the handle */
	int slot0;
	struct dxl_seg seg0;
};

struct dxl_mapping {
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
	struct dxl_mapping *next;
};

struct dxl_mapst {
	pthread_mutex_t mu;
	int evfd;                 /* this process's event socket */
	dxl_lease *leases;
	dxl_mapping *maps;
	dxl_lease_cb def_cb;
	void *def_arg;
	pthread_t thread;
	int thread_on;
	/* one unpinned handle kept for the next pin (under the pool lock):
	 * a direct I/O pins and unpins for every request */
	struct dxl_pin *spare_pin;
	int stop_fd[2];           /* wakes the thread to stop */
};

/* This pool's map state, created at first use (event socket bound). */
int dxl_map_state(dxl_pool *pool, struct dxl_mapst **out);

/* Pin [off, end) of ino (lock held; the range already prepared). */
int dxl_pin_locked(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, uint64_t lease,
		   dxl_pin **out);
void dxl_unpin_locked(struct dxl_fs *fs, dxl_pin *pin);

/* Lease handles (list in ms). */
dxl_lease *dxl_lease_lookup(struct dxl_mapst *ms, uint64_t id);
int dxl_lease_take_locked(dxl_file *f, uint64_t off, uint64_t end, uint32_t rt_flags, dxl_lease_cb cb,
			  void *arg, dxl_lease **out);
int dxl_lease_release_locked(dxl_lease *l);

/* Mappings: follow the file's new layout (plain) or go PROT_NONE (revoked DIRECT). */
void dxl_map_layout_changed(struct dxl_fs *fs, uint64_t ino);
void dxl_map_revoked(dxl_mapping *m);
int dxl_map_remap_locked(dxl_mapping *m);

#endif
