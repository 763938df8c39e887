/* SPDX-License-Identifier: BSD-3-Clause */
/* The runtime handle, shared by the files of the runtime layer. */
#ifndef DXL_RT_INTERNAL_H
#define DXL_RT_INTERNAL_H

#include "rt_shared.h"
#include "runtime.h"

struct dxl_rt {
	int fd;
	struct rt_shared *sh;
	uint8_t uuid[16];
	int self;              /* our slot in sh->procs, -1 before registration */
	int wake_pending;      /* lease_seq moved while we held the lock: wake at unlock */
	char path[512];
};

int dxl_rt_mutex_lock(pthread_mutex_t *mu, const char *what);
/* How long a waiter spins before it sleeps (a lock's holder, a lease
 * holder that polls and releases): about two wake-ups here. */
#define RT_SPIN_NS 30000
int dxl_rt_may_spin(void);
int dxl_rt_spin(int (*f)(void *), void *arg, int64_t ns);

#endif
