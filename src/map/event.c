/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event dispatch: empty the process's socket and the OWN_FD leases'
 * sockets of their wakes, then look in the lease table for what each of
 * this process's leases has not been told yet, and hand every break and
 * revocation to the callback of the lease it names — so the code that
 * owns a registration (a communication library inside a bigger program)
 * sees exactly its own breaks.  Nothing is lost however many leases break
 * at once: the wakes only say "look", the table says what happened.
 *
 * A lease handle must not be released by one thread while another
 * dispatches its events: dispatch from the thread that owns the leases,
 * or let the event thread do both (release from the callback).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"

struct owed {
	uint64_t id;
	struct dxl_event ev;
};

static void owe(struct owed **v, size_t *n, size_t *cap, const dxl_lease *l,
		const struct dxl_lease_view *rl, uint32_t type, int *oom)
{
	struct owed *o;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct owed *nv = realloc(*v, c * sizeof(**v));
		if (!nv) {
			*oom = 1;
			return;
		}
		*v = nv;
		*cap = c;
	}
	o = &(*v)[(*n)++];
	memset(o, 0, sizeof(*o));
	o->id = l->id;
	o->ev.size = sizeof(o->ev);
	o->ev.type = type;
	o->ev.lease_id = l->id;
	o->ev.ino = l->ino;
	o->ev.start = rl->brk_start;
	o->ev.end = rl->brk_end;
	o->ev.deadline_ns = rl->deadline_ns;
	o->ev.breaker_pid = rl->breaker_pid;
}

/* What this process's leases have not been told (lock held): marked as
 * told here, so two dispatching threads never deliver an event twice. */
static size_t collect_owed(struct dxl_fs *fs, struct dxl_mapst *ms, struct owed **out)
{
	struct owed *v = NULL;
	size_t n = 0, cap = 0;
	int oom = 0;
	dxl_lease *l;

	for (l = ms->leases; l && !oom; l = l->next) {
		struct dxl_lease_view rl;
		uint32_t state;

		if (dxl_lt_view(fs->rt, l->id, &rl) || (rl.flags & RT_LF_COHERENT) ||
		    rl.state <= l->told)
			continue;
		state = rl.state;
		if (l->told < RT_LEASE_BREAKING)
			owe(&v, &n, &cap, l, &rl, DXL_EV_BREAK, &oom);
		if (state == RT_LEASE_REVOKED && !oom) {
			owe(&v, &n, &cap, l, &rl, DXL_EV_REVOKED, &oom);
			if (l->mapping)
				dxl_map_revoked(l->mapping);
		}
		if (!oom)
			l->told = state;
	}
	*out = v;
	return n;
}

static int dispatch(dxl_pool *pool, struct dxl_mapst *ms)
{
	struct dxl_fs *fs = &pool->fs;
	struct owed *v = NULL;
	size_t n, i;
	int rc = dxl_fs_lock(fs);

	if (rc)
		return rc;
	n = collect_owed(fs, ms, &v);
	dxl_fs_unlock(fs);
	for (i = 0; i < n; i++) {
		dxl_lease_cb cb = NULL;
		void *arg = NULL;
		dxl_lease *l;

		/* the handle may have gone since (an earlier callback released it) */
		pthread_mutex_lock(&ms->mu);
		l = dxl_lease_lookup(ms, v[i].id);
		if (l && l->cb) {
			cb = l->cb;
			arg = l->arg;
		} else {
			cb = ms->def_cb;
			arg = ms->def_arg;
		}
		pthread_mutex_unlock(&ms->mu);
		v[i].ev.lease = l;
		if (cb)
			cb(l, &v[i].ev, arg);
	}
	free(v);
	return (int)DXL_MIN(n, (size_t)INT32_MAX);
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

/* Empty every socket first, then look: a wake that comes after the look
 * stays queued and makes the fd readable again. */
static int drain_and_dispatch(dxl_pool *pool, struct dxl_mapst *ms)
{
	struct pollfd *p;
	int n = collect_fds(ms, &p, 0), i;

	if (n < 0)
		return dxl_err(ENOMEM, "dispatch: out of memory");
	for (i = 0; i < n; i++)
		dxl_ev_drain(p[i].fd);
	free(p);
	return dispatch(pool, ms);
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
	int rc;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "dispatch: no pool");
	rc = dxl_map_state(pool, &ms);
	if (rc)
		return rc;
	return drain_and_dispatch(pool, ms);
}

int dxl_event_wait(dxl_pool *pool, int timeout_ms)
{
	struct dxl_mapst *ms;
	struct pollfd *p;
	int rc, n;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "event wait: no pool");
	if (timeout_ms < -1)
		return dxl_err(EINVAL, "event wait: timeout %d ms (-1 waits for ever)", timeout_ms);
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
	return drain_and_dispatch(pool, ms);
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

/*
 * The sockets are the fast path; the process's wake word, bumped by every
 * break and revocation before its socket wake, is the backstop: a wake
 * still owed (lease.h) is seen at the next poll timeout.  The word is read
 * before the look it leads to, so a bump after the read is seen next time.
 */
static void *event_thread(void *arg)
{
	dxl_pool *pool = arg;
	struct dxl_mapst *ms = pool->fs.map_state;
	uint32_t looked = dxl_rt_self_wake_seq(pool->fs.rt);

	/* leases may have been broken before the thread was started */
	drain_and_dispatch(pool, ms);
	for (;;) {
		struct pollfd *p;
		int n = collect_fds(ms, &p, 1), i, ready = 0;
		uint32_t word;

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
				ready |= p[i].revents != 0;
		}
		free(p);
		word = dxl_rt_self_wake_seq(pool->fs.rt);
		if (ready || word != looked) {
			looked = word;
			drain_and_dispatch(pool, ms);
		}
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
	__atomic_add_fetch(&pool->fs.self_dispatches, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ms->mu);
	return 0;
}

int dxl_event_self_dispatch(dxl_pool *pool, int on)
{
	int rc;

	dxl_err_clear();
	if (!pool)
		return dxl_err(EINVAL, "event self dispatch: no pool");
	if ((rc = dxl_map_usable(pool)))
		return rc;
	/* a count: the event thread adds itself too */
	on = !!on;
	if (on != pool->fs.self_dispatch_app) {
		pool->fs.self_dispatch_app = on;
		__atomic_add_fetch(&pool->fs.self_dispatches, on ? 1 : -1, __ATOMIC_RELAXED);
	}
	return 0;
}

int dxl_event_thread_stop(dxl_pool *pool)
{
	struct dxl_mapst *ms;
	char c = 0;
	int rc;

	if (!pool || !(ms = pool->fs.map_state))
		return 0;
	if ((rc = dxl_map_usable(pool)))
		return rc;
	pthread_mutex_lock(&ms->mu);
	if (!ms->thread_on) {
		pthread_mutex_unlock(&ms->mu);
		return 0;
	}
	ms->thread_on = 0;
	__atomic_sub_fetch(&pool->fs.self_dispatches, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ms->mu);
	if (write(ms->stop_fd[1], &c, 1) < 0)
		return dxl_err(errno, "event thread: %s", strerror(errno));
	pthread_join(ms->thread, NULL);
	close(ms->stop_fd[0]);
	close(ms->stop_fd[1]);
	return 0;
}
