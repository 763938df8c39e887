/*
 * Per-pool state of the map layer, created at first use so that a pool
 * that never takes a lease pays nothing (no socket, no thread).
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map.h"

static void map_fini(struct dxl_fs *fs)
{
	struct dxl_mapst *ms = fs->map_state;
	dxl_pool *pool = (dxl_pool *)fs;

	if (!ms)
		return;
	dxl_event_thread_stop(pool);
	while (ms->maps)
		dxl_munmap(ms->maps);
	while (ms->leases) {
		dxl_lease *l = ms->leases;
		ms->leases = l->next;
		if (l->own_fd >= 0)
			close(l->own_fd);
		free(l);
	}
	/* pins left unpinned by the application are dropped with the
	 * process's table entries at close (dxl_lease_drop_self) */
	free(ms->spare_pin);
	close(ms->evfd);
	pthread_mutex_destroy(&ms->mu);
	free(ms);
	fs->map_state = NULL;
	fs->layout_changed = NULL;
}

int dxl_map_state(dxl_pool *pool, struct dxl_mapst **out)
{
	struct dxl_fs *fs = &pool->fs;
	struct dxl_mapst *ms = fs->map_state;
	int rc;

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
	rc = dxl_ev_socket(fs->rt, dxl_rt_shared(fs->rt)->procs[dxl_rt_self(fs->rt)].token);
	if (rc < 0) {
		dxl_fs_unlock(fs);
		pthread_mutex_destroy(&ms->mu);
		free(ms);
		return rc;
	}
	ms->evfd = rc;
	fs->map_state = ms;
	fs->map_fini = map_fini;
	fs->layout_changed = dxl_map_layout_changed;
	dxl_fs_unlock(fs);
	*out = ms;
	return 0;
}
