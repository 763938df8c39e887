/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * runtime: state shared by every process that has a pool open, in a small
 * file under /dev/shm (or $DXL_RUNTIME_DIR), named by the pool's UUID — no
 * daemon (LMDB-style).  The first opener initialises it; openers are
 * serialised by an OFD lock on byte 0, and each open pool holds a shared
 * OFD lock on byte 1, so "am I alone?" is a non-blocking exclusive try.
 *
 * It holds the robust process-shared metadata lock now; the process table,
 * pin counts, lease table and quarantine join it with the lease layer.
 */
#ifndef DXL_RUNTIME_H
#define DXL_RUNTIME_H

#include <stdint.h>

struct dxl_rt;

/* *first is set when no other process had the pool open (the caller then
 * runs recovery and reaps orphans).  With dead non-NULL it returns with
 * the metadata lock held, taken before any later opener can get it, and
 * *dead set when its previous holder died (see dxl_rt_lock). */
int dxl_rt_open(const uint8_t uuid[16], struct dxl_rt **out, int *first, int *dead);
void dxl_rt_close(struct dxl_rt *rt);
/* In a child after fork(): unmap and close this process's copies only.
 * The file, its locks and every table entry belong to the parent. */
void dxl_rt_forget(struct dxl_rt *rt);

/* 0 = locked; 1 = locked, but the previous holder died holding it (the
 * caller must recover before relying on metadata); <0 = error. */
int dxl_rt_lock(struct dxl_rt *rt);
/* Mark the state protected by the lock consistent again after recovery. */
void dxl_rt_consistent(struct dxl_rt *rt);
void dxl_rt_unlock(struct dxl_rt *rt);

/* ------------------------------------------------ process table (proc.c)
 * All under the metadata lock. */
/* Take a slot for this process (reusing dead processes' slots: the caller
 * first reclaims what they held, see dxl_rt_dead_proc()). */
int dxl_rt_register(struct dxl_rt *rt);
void dxl_rt_unregister(struct dxl_rt *rt);
int dxl_rt_self(const struct dxl_rt *rt);
/* Is the process in slot i gone (exited, or its pid reused)? */
int dxl_rt_proc_dead(struct dxl_rt *rt, int slot);
struct rt_shared *dxl_rt_shared(struct dxl_rt *rt); /* for the lease layer's tables */
/* This process's event-socket token; the pool-wide count of commits and
 * replays (journal.h). */
uint64_t dxl_rt_self_token(struct dxl_rt *rt);
uint64_t *dxl_rt_commit_counter(struct dxl_rt *rt);
const uint8_t *dxl_rt_uuid(const struct dxl_rt *rt);

/* Lease-state futex: bump after any lease change; wait (unlocked) until
 * it moves past seen or the CLOCK_MONOTONIC deadline passes. */
void dxl_rt_seq_bump(struct dxl_rt *rt);
void dxl_rt_wake_pending(struct dxl_rt *rt);
uint32_t dxl_rt_seq(struct dxl_rt *rt);
void dxl_rt_seq_wait(struct dxl_rt *rt, uint32_t seen, int64_t deadline_ns);
int64_t dxl_mono_ns(void);

/* Per-process wake word: a thread of the process (the map layer's
 * watcher) sleeps on its own word until another process, or a thread of
 * its own, wakes it; it then looks at the tables.  A wake is never lost:
 * the word moves, so a wait that starts after it returns at once. */
void dxl_rt_proc_wake(struct dxl_rt *rt, int slot);
uint32_t dxl_rt_self_wake_seq(struct dxl_rt *rt);
/* Wait (unlocked) until this process's word moves past seen or the
 * CLOCK_MONOTONIC deadline passes (INT64_MAX: no deadline). */
void dxl_rt_self_wait(struct dxl_rt *rt, uint32_t seen, int64_t deadline_ns);

/* ------------------------------------------- open inodes (openino.c)
 * All under the metadata lock.  A process marks an inode when its first
 * handle on it opens and unmarks it when its last one closes: an orphan
 * (nlink 0) is freed only when no live process holds it open. */
int dxl_rt_ino_hold(struct dxl_rt *rt, uint64_t ino);   /* -ENFILE when the table is full */
void dxl_rt_ino_drop(struct dxl_rt *rt, uint64_t ino);
/* Does a live process other than this one hold ino open?  Marks of dead
 * processes found on the way are cleared. */
int dxl_rt_ino_held_elsewhere(struct dxl_rt *rt, uint64_t ino);
/* Clear process slot p's marks (it died, or closes the pool). */
void dxl_rt_ino_drop_proc(struct dxl_rt *rt, int p);

/* ------------------------------------------- inode locks (ilock.c)
 * A hashed table of robust process-shared mutexes, one cache line each:
 * work on different files meets on no line that either writes.  Each
 * has a sequence count that is odd while the lock is held, so that
 * readers can go without the lock and check afterwards that nobody
 * held it meanwhile (a seqcount).  Two inodes may share an entry; the
 * entry is the lock. */
struct rt_ilock;
struct rt_ilock *dxl_rt_ilock_of(struct dxl_rt *rt, uint64_t ino);
/* 0 = locked; 1 = locked, but the previous holder died holding it;
 * -EBUSY when try is set and it is held; other <0 = unusable.  The
 * count is odd from here to the unlock, and every store made after
 * (non-temporal ones too) is ordered after it. */
int dxl_rt_ilock(struct rt_ilock *l, int try);
void dxl_rt_ilock_consistent(struct rt_ilock *l);
/* Orders every store made under the lock before the count moves on. */
void dxl_rt_iunlock(struct rt_ilock *l);
/* Lockless readers: s = dxl_rt_iseq(l); if s is odd, take the lock
 * instead; read; the reads are good if dxl_rt_iseq_same(l, s). */
uint32_t dxl_rt_iseq(const struct rt_ilock *l);
int dxl_rt_iseq_same(const struct rt_ilock *l, uint32_t s);

/* Path of the runtime file (for messages and `daxlease info`). */
const char *dxl_rt_path(const struct dxl_rt *rt);

#endif
