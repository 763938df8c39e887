/*
 * The lease table, breaks, revocation, and reclaiming dead holders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "lease.h"
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
		l->id = sh->next_lease_id++;
		l->flags = req->flags;
		l->proc = self;
		l->npins = 0;
		l->ino = req->ino;
		l->gen = req->gen;
		l->start = req->start;
		l->end = req->end;
		l->deadline_ns = 0;
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

struct rt_lease *dxl_lt_find(struct dxl_rt *rt, uint64_t id)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint32_t i;

	if (id == 0)
		return NULL;
	for (i = 0; i < sh->leases_hi; i++)
		if (sh->leases[i].state != RT_LEASE_FREE && sh->leases[i].id == id)
			return &sh->leases[i];
	return NULL;
}

int dxl_lt_release(struct dxl_rt *rt, uint64_t id)
{
	struct rt_lease *l = dxl_lt_find(rt, id);

	if (!l)
		return dxl_err(ENOENT, "lease %llu does not exist", (unsigned long long)id);
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

static void send_event(struct dxl_rt *rt, struct rt_lease *l, uint32_t type, uint64_t start,
		       uint64_t end, int *gone)
{
	struct dxl_wire_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.lease_id = l->id;
	ev.ino = l->ino;
	ev.start = start;
	ev.end = end;
	ev.deadline_ns = l->deadline_ns;
	ev.breaker_pid = (int32_t)getpid();
	rc = dxl_ev_send(rt, l->notify, &ev);
	if (gone)
		*gone = rc == -ECONNREFUSED || rc == -ENOENT;
}

static void lease_revoke(struct dxl_rt *rt, struct rt_lease *l, uint64_t start, uint64_t end)
{
	l->state = RT_LEASE_REVOKED;
	l->deadline_ns = 0;
	send_event(rt, l, DXL_EV_REVOKED, start, end, NULL);
	dxl_rt_seq_bump(rt);
}

/* Drop every lease and pin of process slot p (it died, or is closing). */
static void drop_proc(struct dxl_rt *rt, int p)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint32_t i;

	for (i = 0; i < sh->pins_hi; i++)
		if (sh->pins[i].len && sh->pins[i].proc == p)
			dxl_pt_drop(rt, (int)i);
	for (i = 0; i < sh->leases_hi; i++)
		if (sh->leases[i].state != RT_LEASE_FREE && sh->leases[i].proc == p)
			lease_free(sh, &sh->leases[i]);
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

int dxl_break_check(struct dxl_rt *rt, const struct dxl_break_req *req, struct dxl_break *b)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	int64_t now = dxl_mono_ns(), earliest = INT64_MAX;
	int self = dxl_rt_self(rt), wait = 0, reaped = 0;
	uint32_t i;

	if (sh->nleases == 0)
		return 0;
	/* A refusing lease stops the change before anyone is disturbed. */
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];
		if (l->state == RT_LEASE_FREE || l->state == RT_LEASE_REVOKED || l->ino != req->ino ||
		    l->id == req->exclude || !(l->flags & RT_LF_REFUSE) ||
		    !overlaps(l->start, l->end, req->start, req->end))
			continue;
		if (l->proc != self && dxl_rt_proc_dead(rt, l->proc)) {
			reaped += dxl_lease_reap_dead(rt);
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
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];
		int gone = 0;

		if (l->state == RT_LEASE_FREE || l->state == RT_LEASE_REVOKED || l->ino != req->ino ||
		    l->id == req->exclude || (l->flags & RT_LF_COHERENT) ||
		    !overlaps(l->start, l->end, req->start, req->end))
			continue;
		/* A dead holder is revoked at once, its pins dropped.  Before the
		 * first send there is no need to look (/proc costs ~10 us): a
		 * dead process's socket refuses the event.  After waiting, look:
		 * it may have died after the event reached it. */
		if (l->state == RT_LEASE_BREAKING && l->proc != self && dxl_rt_proc_dead(rt, l->proc)) {
			reaped += dxl_lease_reap_dead(rt);
			continue;
		}
		if (l->state == RT_LEASE_ACTIVE) {
			l->state = RT_LEASE_BREAKING;
			l->deadline_ns = now + (int64_t)req->break_ms * 1000000LL;
			send_event(rt, l, DXL_EV_BREAK, req->start, req->end, &gone);
			dxl_rt_seq_bump(rt);
			if (gone) {
				lease_revoke(rt, l, req->start, req->end);
				if (l->proc != self && dxl_rt_proc_dead(rt, l->proc))
					reaped += dxl_lease_reap_dead(rt);
				continue;
			}
		}
		/* Our own lease with no thread of ours to release it: the
		 * change is this process's own doing, so it is revoked now. */
		if (now >= l->deadline_ns || (l->proc == self && !req->self_dispatches)) {
			lease_revoke(rt, l, req->start, req->end);
			continue;
		}
		wait = 1;
		earliest = DXL_MIN(earliest, l->deadline_ns);
	}
	(void)reaped;
	if (!wait)
		return 0;
	if (req->nonblock)
		return dxl_err(EWOULDBLOCK, "layout lease break started; the change needs the lease released first");
	b->deadline_ns = earliest;
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
	uint32_t i;

	if (sh->nleases == 0)
		return;
	for (i = 0; i < sh->leases_hi; i++) {
		struct rt_lease *l = &sh->leases[i];
		if (l->state != RT_LEASE_ACTIVE || !(l->flags & RT_LF_COHERENT) || l->ino != ino ||
		    l->proc == self || !overlaps(l->start, l->end, start, end))
			continue;
		send_event(rt, l, DXL_EV_COHERENT, start, end, NULL);
	}
}
