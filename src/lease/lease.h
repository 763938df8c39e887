/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease: layout leases, pins and quarantine, kept in the runtime tables
 * shared by every process of a pool.  Everything here runs under the
 * metadata lock except dxl_break_wait().  The layer knows inode numbers,
 * byte ranges and unit ranges — not extents or files: the fs layer asks
 * it before changing a layout (dxl_break_check) and before handing out
 * units (dxl_pin_first).
 *
 * Notification is lossless whatever the fan-out: a break, a revocation
 * and a layout change that a plain mapping must follow are recorded in
 * the lease's table entry; the holder's event socket and its process's
 * wake word only wake it, and a woken holder scans its own leases (as
 * the kernel keeps lease state in the lock and sends SIGIO only to wake).
 * A wake that cannot be queued (the holder's queue or the sender's
 * buffer full) is not lost: the lease is marked RT_LF_WAKE_OWED, every
 * break pass sends owed wakes again (a waiting breaker comes back within
 * a millisecond), and the process's wake word is bumped first, which an
 * event thread looks at whenever its poll times out.
 */
#ifndef DXL_LEASE_H
#define DXL_LEASE_H

#include <stddef.h>
#include <stdint.h>

/* for the RT_LEASE_* states and RT_LF_* flags; the tables themselves are
 * this layer's (lease_int.h): callers go through the functions below */
#include "runtime/rt_shared.h"
#include "runtime/runtime.h"

/* ---------------------------------------------------------------- leases
 * A lease id is (sequence << RT_LEASE_SHIFT | table slot): unique for the
 * runtime file's life, and found in O(1). */
struct dxl_lease_req {
	uint64_t ino, gen;
	uint64_t start, end;    /* bytes, end exclusive */
	uint32_t flags;         /* RT_LF_* */
	uint64_t notify;        /* event socket token */
	const char *path;
};
/* Returns the new lease's id in *id. */
int dxl_lt_take(struct dxl_rt *rt, const struct dxl_lease_req *req, uint64_t *id);
/* -EBUSY while it holds pins (unless revoked), -ENOENT if unknown,
 * -EPERM if another process holds it. */
int dxl_lt_release(struct dxl_rt *rt, uint64_t id);
/* Layers above read a lease through a copy of its entry (lock held):
 * 0, or -ENOENT (no message) when the id is not in the table. */
struct dxl_lease_view {
	uint32_t state;         /* RT_LEASE_* */
	uint32_t flags;         /* RT_LF_* */
	uint64_t ino, start, end;
	int64_t deadline_ns;    /* while breaking */
	uint64_t brk_start, brk_end;
	int32_t breaker_pid;
	uint32_t changes;       /* RT_LF_COHERENT: layout changes made by others */
	uint32_t npins;
};
int dxl_lt_view(struct dxl_rt *rt, uint64_t id, struct dxl_lease_view *v);
/* Its state (RT_LEASE_*; FREE when gone) without the lock: one load. */
uint32_t dxl_lt_peek(struct dxl_rt *rt, uint64_t id);
/* On whose behalf it is held (shown by listings); -ESTALE when gone. */
int dxl_lt_set_holder(struct dxl_rt *rt, uint64_t id, const char *holder);
/* Any lease in the pool / pins in use (hot paths skip every check at 0). */
int dxl_lt_any(struct dxl_rt *rt);
uint32_t dxl_pt_count(struct dxl_rt *rt);
/* Every lease and pin, as the public listing shows them (lock held):
 * *out is malloc'ed, *n entries.  0 or -ENOMEM. */
struct dxl_lease_info;
int dxl_lt_list(struct dxl_rt *rt, struct dxl_lease_info **out, size_t *n);
/* The holder's side of the deadline: revoke this process's own lease id
 * if it is breaking and its deadline has passed (nobody else may come
 * back to do it: a non-blocking breaker does not).  1 = revoked now. */
int dxl_lt_expire(struct dxl_rt *rt, uint64_t id);

/* ---------------------------------------------------------------- pins
 * A pin reference is (generation << RT_PIN_SHIFT | table slot): a
 * reference kept after its pin was dropped matches nothing, even when
 * another pin (of any process) took the slot since. */
/* Pin units [unit, unit+len) (of file ino) under lease id (0: transient). */
int dxl_pt_add(struct dxl_rt *rt, uint64_t unit, uint64_t len, uint64_t lease, uint64_t ino,
	       const char *path, uint64_t *ref);
/* -ESTALE (nothing dropped) unless ref is a live pin of this process. */
int dxl_pt_drop(struct dxl_rt *rt, uint64_t ref);
/* First pinned unit in [unit, unit+len) (*end: where that pin ends), or
 * UINT64_MAX when none is pinned. */
uint64_t dxl_pin_first(struct dxl_rt *rt, uint64_t unit, uint64_t len, uint64_t *end);
/* Units were freed: count those still pinned as quarantined (for display). */
void dxl_pin_note_free(struct dxl_rt *rt, uint64_t unit, uint64_t len);

/* Pinned units that is_free() says are free in the allocation map: the
 * quarantine, counted once however many pins cover a unit. */
uint64_t dxl_pin_count_free(struct dxl_rt *rt, int (*is_free)(void *arg, uint64_t unit), void *arg);

/* ---------------------------------------------------------------- breaks */
struct dxl_break {
	int64_t deadline_ns;
	uint32_t seq;
	int64_t looked_ns;      /* when holders' liveness was last looked at (0 first) */
};
struct dxl_break_req {
	uint64_t ino;
	uint64_t start, end;
	int nonblock;
	uint32_t break_ms;      /* the pool's lease-break time */
	int self_dispatches;    /* this process runs an event thread: its own leases can be waited for */
	uint64_t exclude;       /* a lease of the caller's own that the change is made under */
};
/*
 * Before a layout change: 0 = go ahead; -ETXTBSY = a refusing lease is in
 * the way (nothing was started); -EWOULDBLOCK = nonblock and breaks were
 * started; 1 = wait: unlock, dxl_break_wait(), lock and call again with
 * the same b (zeroed before the first call).  Leases whose deadline
 * passed, or whose holder died, are revoked here.
 */
int dxl_break_check(struct dxl_rt *rt, const struct dxl_break_req *req, struct dxl_break *b);
void dxl_break_wait(struct dxl_rt *rt, const struct dxl_break *b);
/* After a layout change: tell plain mappings of other processes to remap. */
void dxl_break_notify_coherent(struct dxl_rt *rt, uint64_t ino, uint64_t start, uint64_t end);

/* Reclaim the leases and pins of processes that died; returns how many
 * processes were reclaimed. */
int dxl_lease_reap_dead(struct dxl_rt *rt);
/* Drop everything this process holds (at pool close). */
void dxl_lease_drop_self(struct dxl_rt *rt);

/* ---------------------------------------------------------------- events */
/* Event socket of token (abstract namespace, named by pool uuid + token). */
int dxl_ev_socket(struct dxl_rt *rt, uint64_t token);
/* Wake the holder listening on token: 0 = queued, -ECONNREFUSED if
 * nobody listens (holder gone), -EAGAIN if there was no room (send again
 * later), other <0 errors. */
int dxl_ev_wake(struct dxl_rt *rt, uint64_t token);
/* Empty a socket of its wakes (non-blocking); returns how many. */
int dxl_ev_drain(int fd);

#endif
