/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout of the runtime file shared by the processes of one pool.  Every
 * table is changed only under the metadata lock; readers that do not hold
 * it (the event thread peeking at a state) read single aligned words.
 * Pins and leases are runtime state: after a reboot there are none.
 */
#ifndef DXL_RT_SHARED_H
#define DXL_RT_SHARED_H

#include <pthread.h>
#include <stdint.h>

#define RT_MAX_PROCS 256
#define RT_LEASE_SHIFT 12
#define RT_MAX_LEASES (1 << RT_LEASE_SHIFT)
#define RT_PIN_SHIFT 14
#define RT_MAX_PINS (1 << RT_PIN_SHIFT)
#define RT_PATH_LEN 64
#define RT_HOLDER_LEN 48
#define RT_OPEN_SHIFT 13
#define RT_MAX_OPEN (1 << RT_OPEN_SHIFT) /* files open in the pool's processes at once */
#define RT_ILOCK_SHIFT 10
#define RT_ILOCKS (1 << RT_ILOCK_SHIFT) /* inode locks, hashed by inode number */

struct rt_proc {
	int32_t pid;              /* 0 = free slot */
	uint32_t wake;            /* futex: bumped when a lease or mapping of the
	                           * process needs it (its map thread sleeps here) */
	uint64_t start_time;      /* /proc/PID/stat starttime: pids get reused */
	uint64_t token;           /* names the process's event socket */
	uint32_t wake_waiters;    /* threads of the process asleep on wake */
	uint32_t pad;
};

enum rt_lease_state {
	RT_LEASE_FREE = 0,
	RT_LEASE_ACTIVE = 1,
	RT_LEASE_BREAKING = 2,
	RT_LEASE_REVOKED = 3,
};

struct rt_lease {
	uint64_t id;
	uint32_t state;           /* enum rt_lease_state */
	uint32_t flags;           /* RT_LF_* */
	int32_t proc;             /* holder's slot in procs[] */
	uint32_t npins;           /* long-term pins taken under it */
	uint64_t ino, gen;
	uint64_t start, end;      /* bytes, end exclusive (UINT64_MAX = infinity) */
	int64_t deadline_ns;      /* CLOCK_MONOTONIC, while breaking */
	uint64_t notify;          /* event socket token (process's or the lease's own) */
	/* The break as its holder will be told of it: the state lives here,
	 * the event socket only wakes the holder, which then looks. */
	uint64_t brk_start, brk_end;
	int32_t breaker_pid;
	uint32_t changes;         /* RT_LF_COHERENT: layout changes made by others */
	char path[RT_PATH_LEN];
	char holder[RT_HOLDER_LEN]; /* on whose behalf (a server's remote client), or "" */
};
#define RT_LF_REFUSE 0x1
#define RT_LF_COHERENT 0x2        /* a plain mapping's lease: told after the change, not before */
#define RT_LF_ORPHANED 0x4        /* released after revocation; freed with its last pin */
#define RT_LF_WAKE_OWED 0x8       /* its wake could not be queued: the next break pass sends it again */

struct rt_pin {
	uint64_t unit, len;       /* physical units; len 0 = free slot */
	uint64_t lease;           /* lease id, 0 = transient */
	int32_t proc;
	uint32_t quarantined;     /* units freed while pinned */
	uint64_t ino;
	uint64_t gen;             /* a handle names (slot, gen): a stale one matches nothing */
	char path[RT_PATH_LEN];   /* as the holder opened the file */
};

/* An inode some process has open: an unlinked file lives until the last
 * of them closes it.  Open addressing by ino (linear probing, entries
 * shifted back on removal: no tombstones). */
struct rt_open {
	uint64_t ino;             /* 0 = free */
	uint64_t procs[RT_MAX_PROCS / 64]; /* process slots holding it open */
};

struct rt_ilock {
	pthread_mutex_t mu;       /* robust, process-shared */
	uint32_t seq;             /* odd while held: lockless readers retry */
	uint32_t pad;
} __attribute__((aligned(64)));

struct rt_shared {
	uint64_t magic;
	uint32_t version;
	uint32_t size;
	pthread_mutex_t meta_lock;
	uint32_t lease_seq;       /* futex: bumped whenever a lease is released or changes state */
	uint32_t seq_waiters;     /* breakers asleep on lease_seq: wake only if any */
	uint64_t next_lease_id;   /* sequence part of lease ids (see lease.h) */
	uint64_t next_pin_gen;
	uint32_t nleases;         /* leases in use: 0 lets hot paths skip every check */
	uint32_t npins;           /* pins in use */
	uint32_t pins_hi;         /* pins[] slots at and above this are free */
	uint32_t leases_hi;
	uint32_t pins_lo;         /* pins[] slots below this are in use: a pin
	                           * takes the first free slot in O(1) */
	uint64_t meta_changes;    /* commits and replays of all processes (journal.h) */
	struct rt_proc procs[RT_MAX_PROCS];
	struct rt_lease leases[RT_MAX_LEASES];
	struct rt_pin pins[RT_MAX_PINS];
	uint32_t nopen;           /* rt_open entries in use */
	uint32_t pad2;
	struct rt_open open[RT_MAX_OPEN];
	/* One cache line each, so that work on different files shares no
	 * line that either writes (see runtime.h, inode locks). */
	struct rt_ilock ilocks[RT_ILOCKS];
};

#endif
