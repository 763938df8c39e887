/*
 * Event dispatch: drain the process's socket and the OWN_FD leases'
 * sockets, act on what concerns this library's own mappings, and hand
 * every break to the callback of the lease it names — so the code that
 * owns a registration (a communication library inside a bigger program)
 * sees exactly its own breaks.
 *
 * A lease handle must not be released by one thread while another
 * dispatches its events: dispatch from the thread that owns the leases,
 * or let the event thread do both (release from the callback).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "map.h"

static void handle(dxl_pool *pool, struct dxl_mapst *ms, const struct dxl_wire_event *w)
{
	struct dxl_fs *fs = &pool->fs;
	struct dxl_event ev;
	dxl_lease_cb cb = NULL;
	void *arg = NULL;
	dxl_lease *l;

	/* The pool lock first, as dxl_munmap takes it: a mapping found under
	 * ms->mu stays alive while we act on it. */
	if (dxl_fs_lock(fs) != 0)
		return;
	pthread_mutex_lock(&ms->mu);
	l = dxl_lease_lookup(ms, w->lease_id);
	if (l) {
		cb = l->cb;
		arg = l->arg;
		if (l->mapping && w->type == DXL_EV_COHERENT)
			/* a plain mapping's file changed in another process: follow it */
			dxl_map_remap_locked(l->mapping);
		else if (l->mapping && w->type == DXL_EV_REVOKED)
			dxl_map_revoked(l->mapping);
	}
	pthread_mutex_unlock(&ms->mu);
	dxl_fs_unlock(fs);
	if (w->type == DXL_EV_COHERENT)
		return;
	if (!cb) {
		pthread_mutex_lock(&ms->mu);
		cb = ms->def_cb;
		arg = ms->def_arg;
		pthread_mutex_unlock(&ms->mu);
	}
	if (!cb)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = w->type;
	ev.lease_id = w->lease_id;
	ev.ino = w->ino;
	ev.start = w->start;
	ev.end = w->end;
	ev.deadline_ns = w->deadline_ns;
	ev.breaker_pid = w->breaker_pid;
	ev.lease = l;
	cb(l, &ev, arg);
}

static int drain(dxl_pool *pool, struct dxl_mapst *ms, int fd)
{
	struct dxl_wire_event w;
	int n = 0;

	for (;;) {
		ssize_t r = recv(fd, &w, sizeof(w), MSG_DONTWAIT);
		if (r < 0)
			break;
		if (r != (ssize_t)sizeof(w))
			continue; /* not ours: ignore */
		handle(pool, ms, &w);
		n++;
	}
	return n;
}

/* The sockets to watch: the process's, then the OWN_FD leases'. */
static int collect_fds(struct dxl_mapst *ms, struct pollfd **out, int extra)
{
	struct pollfd *p;
	dxl_lease *l;
	int n = 1 + extra, i = 0;

	pthread_mutex_lock(&ms->mu);
	for (l = ms->leases; l; l = l->next)
		if (l->own_fd >= 0)
			n++;
	p = calloc((size_t)n, sizeof(*p));
	if (p) {
		p[i++].fd = ms->evfd;
		for (l = ms->leases; l; l = l->next)
			if (l->own_fd >= 0)
				p[i++].fd = l->own_fd;
		for (i = 0; i < n; i++)
			p[i].events = POLLIN;
	}
	pthread_mutex_unlock(&ms->mu);
	*out = p;
	return p ? n : -ENOMEM;
}

int dxl_event_fd(dxl_pool *pool)
{
	struct dxl_mapst *ms;
	int rc;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "event fd: no pool");
	rc = dxl_map_state(pool, &ms);
	return rc ? rc : ms->evfd;
}

int dxl_event_dispatch(dxl_pool *pool)
{
	struct dxl_mapst *ms;
	struct pollfd *p;
	int rc, n, i, total = 0;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "dispatch: no pool");
	rc = dxl_map_state(pool, &ms);
	if (rc)
		return rc;
	n = collect_fds(ms, &p, 0);
	if (n < 0)
		return dxl_err(ENOMEM, "dispatch: out of memory");
	for (i = 0; i < n; i++)
		total += drain(pool, ms, p[i].fd);
	free(p);
	return total;
}

int dxl_event_wait(dxl_pool *pool, int timeout_ms)
{
	struct dxl_mapst *ms;
	struct pollfd *p;
	int rc, n;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "event wait: no pool");
	rc = dxl_map_state(pool, &ms);
	if (rc)
		return rc;
	n = collect_fds(ms, &p, 0);
	if (n < 0)
		return dxl_err(ENOMEM, "event wait: out of memory");
	rc = poll(p, (nfds_t)n, timeout_ms);
	free(p);
	if (rc < 0)
		return dxl_err(errno, "event wait: %s", strerror(errno));
	return dxl_event_dispatch(pool);
}

void dxl_event_set_default(dxl_pool *pool, dxl_lease_cb cb, void *arg)
{
	struct dxl_mapst *ms;

	if (!pool || dxl_map_state(pool, &ms))
		return;
	pthread_mutex_lock(&ms->mu);
	ms->def_cb = cb;
	ms->def_arg = arg;
	pthread_mutex_unlock(&ms->mu);
}

static void *event_thread(void *arg)
{
	dxl_pool *pool = arg;
	struct dxl_mapst *ms = pool->fs.map_state;

	for (;;) {
		struct pollfd *p;
		int n = collect_fds(ms, &p, 1), i;

		if (n < 0) {
			usleep(10000);
			continue;
		}
		p[n - 1].fd = ms->stop_fd[0];
		/* OWN_FD leases come and go: look at the list again now and then */
		if (poll(p, (nfds_t)n, 100) > 0) {
			if (p[n - 1].revents) {
				free(p);
				return NULL;
			}
			for (i = 0; i < n - 1; i++)
				if (p[i].revents)
					drain(pool, ms, p[i].fd);
		}
		free(p);
	}
}

int dxl_event_thread_start(dxl_pool *pool)
{
	struct dxl_mapst *ms;
	int rc;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "event thread: no pool");
	rc = dxl_map_state(pool, &ms);
	if (rc)
		return rc;
	pthread_mutex_lock(&ms->mu);
	if (ms->thread_on) {
		pthread_mutex_unlock(&ms->mu);
		return 0;
	}
	if (pipe2(ms->stop_fd, O_CLOEXEC) < 0) {
		pthread_mutex_unlock(&ms->mu);
		return dxl_err(errno, "event thread: %s", strerror(errno));
	}
	rc = pthread_create(&ms->thread, NULL, event_thread, pool);
	if (rc) {
		close(ms->stop_fd[0]);
		close(ms->stop_fd[1]);
		pthread_mutex_unlock(&ms->mu);
		return dxl_err(rc, "event thread: %s", strerror(rc));
	}
	ms->thread_on = 1;
	pool->fs.self_dispatches = 1;
	pthread_mutex_unlock(&ms->mu);
	return 0;
}

int dxl_event_thread_stop(dxl_pool *pool)
{
	struct dxl_mapst *ms;
	char c = 0;

	if (!pool || !(ms = pool->fs.map_state))
		return 0;
	pthread_mutex_lock(&ms->mu);
	if (!ms->thread_on) {
		pthread_mutex_unlock(&ms->mu);
		return 0;
	}
	ms->thread_on = 0;
	pool->fs.self_dispatches = 0;
	pthread_mutex_unlock(&ms->mu);
	if (write(ms->stop_fd[1], &c, 1) < 0)
		return dxl_err(errno, "event thread: %s", strerror(errno));
	pthread_join(ms->thread, NULL);
	close(ms->stop_fd[0]);
	close(ms->stop_fd[1]);
	return 0;
}
