/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The watcher: one library thread per process with mappings, asleep on
 * the process's wake word in the runtime file.  It keeps the mappings
 * right without the application's help:
 *  - a plain mapping follows another process's layout change (its
 *    lease's change count moved);
 *  - a DXL_MAP_DIRECT mapping whose lease was revoked becomes PROT_NONE,
 *    and so does one whose break deadline passed with nobody left to
 *    revoke it (a non-blocking breaker does not come back): the watcher
 *    revokes its own process's lease then, as the deadline says.
 * It never runs the application's callbacks and never reads the event
 * socket: those stay the application's (dxl_event_dispatch).
 */
#include <stdlib.h>
#include <string.h>

#include "map.h"

/* One look at every mapping (lock held): the next deadline to wake for. */
static int64_t watch_pass(struct dxl_fs *fs, struct dxl_mapst *ms)
{
	int64_t next = INT64_MAX;
	dxl_mapping *m;
	uint64_t follow[16];
	int nf = 0, all = 0, i;

	for (m = ms->maps; m; m = m->next) {
		struct dxl_lease_view rl;
		int have = dxl_lt_view(fs->rt, m->lease->id, &rl) == 0;

		if (m->revoked)
			continue;
		if (m->flags & DXL_MAP_DIRECT) {
			next = DXL_MIN(next, dxl_map_enforce(fs, m));
		} else if (have && rl.changes != m->seen_changes) {
			m->seen_changes = rl.changes;
			for (i = 0; i < nf && follow[i] != m->ino; i++)
				;
			if (i == nf && nf < (int)DXL_ARRAY_SIZE(follow))
				follow[nf++] = m->ino;
			else if (i == nf)
				all = 1;
		}
	}
	if (ms->refollow) { /* a file was busy last time */
		ms->refollow = 0;
		all = 1;
	}
	for (i = 0; i < nf && !all; i++)
		if (dxl_map_follow(fs, follow[i]) == -EAGAIN)
			ms->refollow = 1;
	if (all) /* more files changed than we kept track of: follow them all */
		for (m = ms->maps; m; m = m->next)
			if (!(m->flags & DXL_MAP_DIRECT) && dxl_map_follow(fs, m->ino) == -EAGAIN)
				ms->refollow = 1;
	if (ms->refollow)
		next = DXL_MIN(next, dxl_mono_ns() + 1000000); /* 1 ms */
	return next;
}

static void *watcher(void *arg)
{
	dxl_pool *pool = arg;
	struct dxl_fs *fs = &pool->fs;
	struct dxl_mapst *ms = fs->map_state;

	while (!__atomic_load_n(&ms->watcher_stop, __ATOMIC_ACQUIRE)) {
		uint32_t seen = dxl_rt_self_wake_seq(fs->rt);
		int64_t next = INT64_MAX;

		if (dxl_fs_lock(fs) == 0) {
			next = watch_pass(fs, ms);
			dxl_fs_unlock(fs);
		}
		if (__atomic_load_n(&ms->watcher_stop, __ATOMIC_ACQUIRE))
			break;
		dxl_rt_self_wait(fs->rt, seen, next);
	}
	return NULL;
}

int dxl_watcher_start(dxl_pool *pool, struct dxl_mapst *ms)
{
	int rc = 0;

	pthread_mutex_lock(&ms->mu);
	if (!ms->watcher_on) {
		ms->watcher_stop = 0;
		rc = pthread_create(&ms->watcher, NULL, watcher, pool);
		if (rc == 0)
			ms->watcher_on = 1;
	}
	pthread_mutex_unlock(&ms->mu);
	return rc ? dxl_err(rc, "mapping watcher thread: %s", strerror(rc)) : 0;
}

void dxl_watcher_stop(dxl_pool *pool, struct dxl_mapst *ms)
{
	struct dxl_fs *fs = &pool->fs;

	pthread_mutex_lock(&ms->mu);
	if (!ms->watcher_on) {
		pthread_mutex_unlock(&ms->mu);
		return;
	}
	ms->watcher_on = 0;
	pthread_mutex_unlock(&ms->mu);
	__atomic_store_n(&ms->watcher_stop, 1, __ATOMIC_RELEASE);
	dxl_rt_proc_wake(fs->rt, dxl_rt_self(fs->rt));
	pthread_join(ms->watcher, NULL);
}
