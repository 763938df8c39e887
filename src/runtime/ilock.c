/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inode locks: see runtime.h.  The fs layer decides what they cover
 * (fs/ilock.c); this file only keeps the mutexes and their counts.
 */
#include <errno.h>

#include "rt_internal.h"
#include "util/util.h"

struct rt_ilock *dxl_rt_ilock_of(struct dxl_rt *rt, uint64_t ino)
{
	/* Fibonacci hashing: inode numbers are block numbers, often
	 * neighbours, and neighbours must not share an entry. */
	return &rt->sh->ilocks[(ino * 0x9E3779B97F4A7C15ull) >> (64 - RT_ILOCK_SHIFT)];
}

int dxl_rt_ilock(struct rt_ilock *l, int try)
{
	uint32_t s;
	int rc;

	if (try) {
		rc = pthread_mutex_trylock(&l->mu);
		if (rc == EBUSY)
			return -EBUSY;
		if (rc == EOWNERDEAD)
			rc = 1;
		else if (rc)
			rc = dxl_err(rc == ENOTRECOVERABLE ? EIO : rc, "inode lock unusable; "
				     "close every user of the pool and reopen");
	} else {
		rc = dxl_rt_mutex_lock(&l->mu, "inode lock");
	}
	if (rc < 0)
		return rc;
	/* odd, and not the value a reader may have seen: a dead holder
	 * leaves it odd already */
	s = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, (s + 1) | 1, __ATOMIC_RELAXED);
	dxl_store_fence();
	return rc;
}

void dxl_rt_ilock_consistent(struct rt_ilock *l)
{
	pthread_mutex_consistent(&l->mu);
}

void dxl_rt_iunlock(struct rt_ilock *l)
{
	dxl_store_fence();
	__atomic_store_n(&l->seq, __atomic_load_n(&l->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->mu);
}

uint32_t dxl_rt_iseq(const struct rt_ilock *l)
{
	return __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);
}

int dxl_rt_iseq_same(const struct rt_ilock *l, uint32_t s)
{
#if !DXL_TSAN /* unused under TSan, which has no fences */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
	return __atomic_load_n(&l->seq, __ATOMIC_RELAXED) == s;
}
