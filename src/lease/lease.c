/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease table, breaks, revocation, and reclaiming dead holders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "lease.h"
#include "lease_int.h"
#include "util/util.h"

static int overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

static void lease_free(struct rt_shared *sh, struct rt_lease *l)
{
	memset(l, 0, sizeof(*l));
	sh->nleases--;
}

int dxl_lt_take(struct dxl_rt *rt, const struct dxl_lease_req *req, uint64_t *id)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	int self = dxl_rt_self(rt);
	uint32_t i;

	if (self < 0)
		return dxl_err(EINVAL, "lease: this process is not registered with the pool");
	for (i = 0; i < RT_MAX_LEASES; i++) {
		struct rt_lease *l = &sh->leases[i];
		if (l->state != RT_LEASE_FREE)
			continue;
		memset(l, 0, sizeof(*l));
		l->id = (sh->next_lease_id++ << RT_LEASE_SHIFT) | i;
		l->flags = req->flags;
		l->proc = self;
		l->ino = req->ino;
		l->gen = req->gen;
		l->start = req->start;
		l->end = req->end;
		l->notify = req->notify;
		snprintf(l->path, sizeof(l->path), "%s", req->path ? req->path : "");
		l->state = RT_LEASE_ACTIVE;
		sh->nleases++;
		if (i >= sh->leases_hi)
			sh->leases_hi = i + 1;
		*id = l->id;
		return 0;
	}
	return dxl_err(ENOLCK, "lease table full (%d leases in the pool)", RT_MAX_LEASES);
}

uint32_t dxl_lt_peek(struct dxl_rt *rt, uint64_t id)
{
	const struct rt_lease *l = &dxl_rt_shared(rt)->leases[id & (RT_MAX_LEASES - 1)];
	uint32_t st = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);

	/* the slot may be freed and reused under us: the id tells */
	if (id == 0 || st == RT_LEASE_FREE || __atomic_load_n(&l->id, __ATOMIC_ACQUIRE) != id)
		return RT_LEASE_FREE;
	return st;
}

int dxl_lt_view(struct dxl_rt *rt, uint64_t id, struct dxl_lease_view *v)
{
	const struct rt_lease *l = dxl_lt_find(rt, id);

	if (!l)
		return -ENOENT;
	*v = (struct dxl_lease_view){
		.state = l->state, .flags = l->flags, .ino = l->ino, .start = l->start,
		.end = l->end, .deadline_ns = l->deadline_ns, .brk_start = l->brk_start,
		.brk_end = l->brk_end, .breaker_pid = l->breaker_pid,
		.changes = __atomic_load_n(&l->changes, __ATOMIC_ACQUIRE), .npins = l->npins,
	};
	return 0;
}

int dxl_lt_set_holder(struct dxl_rt *rt, uint64_t id, const char *holder)
{
	struct rt_lease *l = dxl_lt_find(rt, id);

	if (!l)
		return dxl_err(ESTALE, "lease %llu is no longer in the table", (unsigned long long)id);
	snprintf(l->holder, sizeof(l->holder), "%s", holder ? holder : "");
	return 0;
}

int dxl_lt_any(struct dxl_rt *rt)
{
	return __atomic_load_n(&dxl_rt_shared(rt)->nleases, __ATOMIC_RELAXED) != 0;
}

struct rt_lease *dxl_lt_find(struct dxl_rt *rt, uint64_t id)
{
	struct rt_lease *l;

	if (id == 0)
		return NULL;
	l = &dxl_rt_shared(rt)->leases[id & (RT_MAX_LEASES - 1)];
	return l->state != RT_LEASE_FREE && l->id == id ? l : NULL;
}

int dxl_lt_release(struct dxl_rt *rt, uint64_t id)
{
	struct rt_lease *l = dxl_lt_find(rt, id);

	if (!l)
		return dxl_err(ENOENT, "lease %llu does not exist", (unsigned long long)id);
	if (l->proc != dxl_rt_self(rt))
		return dxl_err(EPERM, "lease %llu belongs to another process", (unsigned long long)id);
	if (l->npins && l->state != RT_LEASE_REVOKED)
		return dxl_err(EBUSY, "lease %llu still holds %u long-term pin%s: unpin first",
			       (unsigned long long)id, l->npins, l->npins == 1 ? "" : "s");
	if (l->npins) {
		/* revoked: the pins stay listed under it until they are dropped */
		l->flags |= RT_LF_ORPHANED;
	} else {
		lease_free(dxl_rt_shared(rt), l);
	}
	dxl_rt_seq_bump(rt);
	return 0;
}

/*
 * Wakes of one pass over the table, so that a holder with many leases in
 * the way is woken once on its process socket: its scan finds all of
 * them.  An OWN_FD lease's socket is its own: nothing to share.
 */
enum { WAKE_NONE, WAKE_SENT, WAKE_GONE, WAKE_OWED };
struct wake_cache {
	uint8_t proc_sock[RT_MAX_PROCS]; /* WAKE_*: the process socket's wake this pass */
	uint64_t procs_woken[RT_MAX_PROCS / 64];
	int owed;                        /* some wake is owed: come back soon */
};

static int wake_socket(struct dxl_rt *rt, uint64_t token)
{
	int rc = dxl_ev_wake(rt, token);

	if (rc == 0)
		return WAKE_SENT;
	return rc == -ECONNREFUSED || rc == -ENOENT ? WAKE_GONE : WAKE_OWED;
}

/*
 * Wake the holder of l (its socket and its process's word); WAKE_GONE if
 * nobody listens on its socket.  A wake that could not be queued is
 * owed, not lost: the lease keeps RT_LF_WAKE_OWED until a later pass
 * gets one through (the sending socket's buffer fills when a thousand
 * holders are woken at once, whatever their own queues hold).
 */
static int wake_holder(struct dxl_rt *rt, struct rt_lease *l, struct wake_cache *wc)
{
	int r, p = l->proc, own_sock;

	if (p < 0 || p >= RT_MAX_PROCS)
		return WAKE_GONE;
	if (!(wc->procs_woken[p / 64] & (1ull << (p % 64)))) {
		wc->procs_woken[p / 64] |= 1ull << (p % 64);
		dxl_rt_proc_wake(rt, p);
	}
	own_sock = l->notify != dxl_rt_shared(rt)->procs[p].token;
	if (own_sock) {
		r = wake_socket(rt, l->notify);
	} else {
		if (wc->proc_sock[p] == WAKE_NONE)
			wc->proc_sock[p] = (uint8_t)wake_socket(rt, l->notify);
		r = wc->proc_sock[p];
	}
	if (r == WAKE_OWED) {
		l->flags |= RT_LF_WAKE_OWED;
		wc->owed = 1;
	} else {
		l->flags &= ~(uint32_t)RT_LF_WAKE_OWED;
	}
	return r;
}

static void lease_revoke(struct dxl_rt *rt, struct rt_lease *l, struct wake_cache *wc)
{
	struct wake_cache own;

	if (!wc) {
		memset(&own, 0, sizeof(own));
		wc = &own;
	}
	l->state = RT_LEASE_REVOKED;
	l->deadline_ns = 0;
	wake_holder(rt, l, wc);
	dxl_rt_seq_bump(rt);
}

int dxl_lt_expire(struct dxl_rt *rt, uint64_t id)
{
	struct rt_lease *l = dxl_lt_find(rt, id);

	if (!l || l->proc != dxl_rt_self(rt) || l->state != RT_LEASE_BREAKING ||
	    dxl_mono_ns() < l->deadline_ns)
		return 0;
	lease_revoke(rt, l, NULL);
	return 1;
}

/* Drop every lease and pin of process slot p (it died, or is closing). */
static void drop_proc(struct dxl_rt *rt, int p)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint32_t i;

	for (i = 0; i < sh->pins_hi; i++)
		if (sh->pins[i].len && sh->pins[i].proc == p)
			dxl_pt_drop_slot(rt, i);
	for (i = 0; i < sh->leases_hi; i++)
		if (sh->leases[i].state != RT_LEASE_FREE && sh->leases[i].proc == p)
			lease_free(sh, &sh->leases[i]);
	/* its open files: their orphans are freed by the next first open */
	dxl_rt_ino_drop_proc(rt, p);
	dxl_rt_seq_bump(rt);
}

int dxl_lease_reap_dead(struct dxl_rt *rt)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	int i, n = 0;

	for (i = 0; i < RT_MAX_PROCS; i++) {
		if (sh->procs[i].pid == 0 || !dxl_rt_proc_dead(rt, i))
			continue;
		drop_proc(rt, i);
		memset(&sh->procs[i], 0, sizeof(sh->procs[i]));
		n++;
	}
	return n;
}

void dxl_lease_drop_self(struct dxl_rt *rt)
{
	if (dxl_rt_self(rt) >= 0)
		drop_proc(rt, dxl_rt_self(rt));
}

#define LIVENESS_LOOK_NS 50000000LL
#define WAKE_RETRY_NS 1000000LL

/* Is the process in slot p gone?  Looked up once per pass (dead[] starts
 * at -1: not looked at yet). */
static int proc_dead_once(struct dxl_rt *rt, int p, int8_t *dead)
{
	if (p < 0 || p >= RT_MAX_PROCS)
		return 1;
	if (dead[p] < 0)
		dead[p] = (int8_t)dxl_rt_proc_dead(rt, p);
	return dead[p];
}

int dxl_break_check(struct dxl_rt *rt, const struct dxl_break_req *req, struct dxl_break *b)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	int64_t now = dxl_mono_ns(), earliest = INT64_MAX;
	int self = dxl_rt_self(rt), wait = 0, look;
	int8_t dead[RT_MAX_PROCS];
	struct wake_cache wc;
	uint32_t i;

	if (sh->nleases == 0)
		return 0;
	memset(dead, -1, sizeof(dead));
	/* A refusing lease stops the change before anyone is disturbed. */
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];
		if (l->state == RT_LEASE_FREE || l->state == RT_LEASE_REVOKED || l->ino != req->ino ||
		    l->id == req->exclude || !(l->flags & RT_LF_REFUSE) ||
		    !overlaps(l->start, l->end, req->start, req->end))
			continue;
		if (l->proc != self && dxl_rt_proc_dead(rt, l->proc)) {
			dxl_lease_reap_dead(rt);
			continue;
		}
		if (l->end == UINT64_MAX)
			return dxl_err(ETXTBSY, "a refusing layout lease (id %llu, pid %d) covers the file from byte %llu on",
				       (unsigned long long)l->id, sh->procs[l->proc].pid,
				       (unsigned long long)l->start);
		return dxl_err(ETXTBSY, "a refusing layout lease (id %llu, pid %d) covers bytes %llu..%llu of the file",
			       (unsigned long long)l->id, sh->procs[l->proc].pid,
			       (unsigned long long)l->start, (unsigned long long)l->end);
	}
	memset(&wc, 0, sizeof(wc));
	/* A holder may die after the wake reached it: look now and then (a
	 * look reads /proc, ~10 us a process), not at every release of one
	 * of a thousand leases. */
	look = now - b->looked_ns >= LIVENESS_LOOK_NS;
	if (look)
		b->looked_ns = now;
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];

		/* a revocation whose wake found no room, of any file: this
		 * pass is the next chance to send it */
		if (l->state == RT_LEASE_REVOKED && (l->flags & RT_LF_WAKE_OWED))
			wake_holder(rt, l, &wc);
		if (l->state == RT_LEASE_FREE || l->state == RT_LEASE_REVOKED || l->ino != req->ino ||
		    l->id == req->exclude || (l->flags & RT_LF_COHERENT) ||
		    !overlaps(l->start, l->end, req->start, req->end))
			continue;
		/* A dead holder is revoked at once, its pins dropped.  Before the
		 * first wake there is no need to look: a dead process's socket
		 * refuses it. */
		if (l->state == RT_LEASE_BREAKING && look && l->proc != self &&
		    proc_dead_once(rt, l->proc, dead)) {
			dxl_lease_reap_dead(rt);
			continue;
		}
		if (l->state == RT_LEASE_ACTIVE) {
			/* what the break is, then the state, before any wake:
			 * a holder that polls the state (dxl_lease_poll) or is
			 * woken by what follows finds it whole */
			l->deadline_ns = now + (int64_t)req->break_ms * 1000000LL;
			l->brk_start = req->start;
			l->brk_end = req->end;
			l->breaker_pid = (int32_t)getpid();
			__atomic_store_n(&l->state, RT_LEASE_BREAKING, __ATOMIC_RELEASE);
			dxl_rt_seq_bump(rt);
			if (wake_holder(rt, l, &wc) == WAKE_GONE) {
				lease_revoke(rt, l, &wc);
				if (l->proc != self && dxl_rt_proc_dead(rt, l->proc))
					dxl_lease_reap_dead(rt);
				continue;
			}
		} else if (l->flags & RT_LF_WAKE_OWED) {
			wake_holder(rt, l, &wc);
		}
		/* Our own lease with no thread of ours to release it: the
		 * change is this process's own doing, so it is revoked now. */
		if (now >= l->deadline_ns || (l->proc == self && !req->self_dispatches)) {
			lease_revoke(rt, l, &wc);
			continue;
		}
		wait = 1;
		earliest = DXL_MIN(earliest, l->deadline_ns);
	}
	if (!wait)
		return 0;
	if (req->nonblock)
		return dxl_err(EWOULDBLOCK, "layout lease break started; the change needs the lease released first");
	/* an owed wake is sent again soon, not at the deadline */
	b->deadline_ns = wc.owed ? DXL_MIN(earliest, now + WAKE_RETRY_NS) : earliest;
	b->seq = dxl_rt_seq(rt);
	return 1;
}

void dxl_break_wait(struct dxl_rt *rt, const struct dxl_break *b)
{
	dxl_rt_seq_wait(rt, b->seq, b->deadline_ns);
}

void dxl_break_notify_coherent(struct dxl_rt *rt, uint64_t ino, uint64_t start, uint64_t end)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	int self = dxl_rt_self(rt);
	uint64_t woken[RT_MAX_PROCS / 64] = { 0 };
	uint32_t i;

	if (sh->nleases == 0)
		return;
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];
		if (l->state != RT_LEASE_ACTIVE || !(l->flags & RT_LF_COHERENT) || l->ino != ino ||
		    l->proc == self || l->proc < 0 || l->proc >= RT_MAX_PROCS ||
		    !overlaps(l->start, l->end, start, end))
			continue;
		/* the holder's map thread compares the count with what it last
		 * followed: no change is lost however many come at once */
		__atomic_add_fetch(&l->changes, 1, __ATOMIC_RELEASE);
		if (!(woken[l->proc / 64] & (1ull << (l->proc % 64)))) {
			woken[l->proc / 64] |= 1ull << (l->proc % 64);
			dxl_rt_proc_wake(rt, l->proc);
		}
	}
}
