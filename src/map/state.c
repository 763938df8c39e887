/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-pool state of the map layer, created at first use so that a pool
 * that never takes a lease pays nothing (no socket, no thread).
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map.h"

uint64_t dxl_fd_ino(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void dxl_close_ours(int fd, uint64_t ino)
{
	struct stat st;

	/* the application may have closed it and got the number back for a
	 * file of its own: that one is not ours to close */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && (uint64_t)st.st_ino == ino)
		close(fd);
}

void dxl_map_fini(struct dxl_fs *fs)
{
	struct dxl_mapst *ms = fs->map_state;
	dxl_pool *pool = (dxl_pool *)fs;
	int inherited = dxl_fs_inherited(fs);

	if (!ms)
		return;
	/* In a child after fork() the threads are the parent's (they do not
	 * exist here) and the tables are the parent's: free memory only. */
	if (!inherited) {
		dxl_event_thread_stop(pool);
		dxl_watcher_stop(pool, ms);
	} else if (ms->thread_on) {
		close(ms->stop_fd[0]);
		close(ms->stop_fd[1]);
	}
	/* No ms->mu in a child: a thread of the parent may have held it at
	 * fork(), and the child has no such thread to let go of it. */
	while (ms->maps) {
		dxl_mapping *m = ms->maps;
		if (inherited) {
			ms->maps = m->next;
			dxl_map_forget(m);
		} else {
			dxl_munmap(m);
		}
	}
	while (ms->leases) {
		dxl_lease *l = ms->leases;
		ms->leases = l->next;
		dxl_lease_handle_free(l);
	}
	/* pins left unpinned by the application are dropped with the
	 * process's table entries at close (dxl_lease_drop_self) */
	free(ms->spare_pin);
	dxl_close_ours(ms->evfd, ms->evfd_ino);
	if (!inherited)
		pthread_mutex_destroy(&ms->mu);
	free(ms);
	fs->map_state = NULL;
}

int dxl_map_state(dxl_pool *pool, struct dxl_mapst **out)
{
	struct dxl_fs *fs = &pool->fs;
	struct dxl_mapst *ms = fs->map_state;
	int rc = dxl_map_usable(pool);

	if (rc)
		return rc;
	if (ms) {
		*out = ms;
		return 0;
	}
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return dxl_err(ENOMEM, "out of memory");
	pthread_mutex_init(&ms->mu, NULL);
	ms->stop_fd[0] = ms->stop_fd[1] = -1;
	rc = dxl_fs_lock(fs);
	if (rc) {
		free(ms);
		return rc;
	}
	if (fs->map_state) { /* another thread got here first */
		dxl_fs_unlock(fs);
		pthread_mutex_destroy(&ms->mu);
		free(ms);
		*out = fs->map_state;
		return 0;
	}
	rc = dxl_ev_socket(fs->rt, dxl_rt_self_token(fs->rt));
	if (rc < 0) {
		dxl_fs_unlock(fs);
		pthread_mutex_destroy(&ms->mu);
		free(ms);
		return rc;
	}
	ms->evfd = rc;
	ms->evfd_ino = dxl_fd_ino(rc);
	/* read without the lock by dxl_map_follow_own */
	__atomic_store_n(&fs->map_state, ms, __ATOMIC_RELEASE);
	dxl_fs_unlock(fs);
	*out = ms;
	return 0;
}
