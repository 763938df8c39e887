/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Process table, the lease futex and the per-process wake words.  A process is identified by pid and
 * start time, so a reused pid is not mistaken for a live holder.
 */
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rt_internal.h"
#include "util/util.h"

int64_t dxl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Field 22 of /proc/PID/stat; 0 if the process is gone — or a zombie:
 * it will never release anything, whether or not its parent reaps it. */
static uint64_t start_time(int32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	int field;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%llu", &v);
	return v;
}

struct rt_shared *dxl_rt_shared(struct dxl_rt *rt)
{
	return rt->sh;
}

uint64_t dxl_rt_self_token(struct dxl_rt *rt)
{
	return rt->self < 0 ? 0 : rt->sh->procs[rt->self].token;
}

uint64_t *dxl_rt_commit_counter(struct dxl_rt *rt)
{
	return &rt->sh->meta_changes;
}

const uint8_t *dxl_rt_uuid(const struct dxl_rt *rt)
{
	return rt->uuid;
}

int dxl_rt_self(const struct dxl_rt *rt)
{
	return rt->self;
}

int dxl_rt_proc_dead(struct dxl_rt *rt, int slot)
{
	const struct rt_proc *p = &rt->sh->procs[slot];

	if (p->pid == 0)
		return 1;
	if (slot == rt->self)
		return 0;
	if (kill(p->pid, 0) < 0 && errno == ESRCH)
		return 1;
	return start_time(p->pid) != p->start_time;
}

int dxl_rt_register(struct dxl_rt *rt)
{
	int i;

	if (rt->self >= 0)
		return rt->self;
	for (i = 0; i < RT_MAX_PROCS; i++) {
		struct rt_proc *p = &rt->sh->procs[i];
		if (p->pid != 0)
			continue;
		p->start_time = start_time(getpid());
		if (getrandom(&p->token, sizeof(p->token), 0) != (ssize_t)sizeof(p->token))
			p->token = (uint64_t)dxl_mono_ns() ^ ((uint64_t)getpid() << 32);
		p->pid = getpid();
		rt->self = i;
		return i;
	}
	return dxl_err(EMFILE, "runtime: %d processes already have the pool open", RT_MAX_PROCS);
}

void dxl_rt_unregister(struct dxl_rt *rt)
{
	if (rt->self < 0)
		return;
	memset(&rt->sh->procs[rt->self], 0, sizeof(rt->sh->procs[0]));
	rt->self = -1;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* Called with the metadata lock held; the waiters are woken when it is
 * released (dxl_rt_wake_pending), or they would wake only to block on it. */
void dxl_rt_seq_bump(struct dxl_rt *rt)
{
	__atomic_add_fetch(&rt->sh->lease_seq, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rt->wake_pending, 1, __ATOMIC_RELAXED);
}

void dxl_rt_wake_pending(struct dxl_rt *rt)
{
	/* another thread of ours may take and drop the lock meanwhile: any
	 * wake after the bump will do */
	if (!__atomic_load_n(&rt->wake_pending, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&rt->wake_pending, 0, __ATOMIC_RELAXED))
		return; /* the load first: most unlocks have nothing to wake */
	if (__atomic_load_n(&rt->sh->seq_waiters, __ATOMIC_SEQ_CST))
		futex(&rt->sh->lease_seq, FUTEX_WAKE, INT32_MAX, NULL);
}

uint32_t dxl_rt_seq(struct dxl_rt *rt)
{
	return __atomic_load_n(&rt->sh->lease_seq, __ATOMIC_ACQUIRE);
}

struct seq_arg {
	struct dxl_rt *rt;
	uint32_t seen;
};

static int seq_moved(void *p)
{
	struct seq_arg *a = p;
	return __atomic_load_n(&a->rt->sh->lease_seq, __ATOMIC_ACQUIRE) != a->seen;
}

void dxl_rt_seq_wait(struct dxl_rt *rt, uint32_t seen, int64_t deadline_ns)
{
	int64_t left = deadline_ns - dxl_mono_ns();
	struct seq_arg a = { rt, seen };
	struct timespec ts;

	if (left <= 0)
		return;
	/* A holder that polls (dxl_lease_poll) releases within a few
	 * microseconds: see it on the CPU rather than be woken for it. */
	if (dxl_rt_spin(seq_moved, &a, DXL_MIN(left, (int64_t)RT_SPIN_NS)))
		return;
	left = deadline_ns - dxl_mono_ns();
	if (left <= 0)
		return;
	/* a holder may die without ever releasing: wake now and then to look */
	if (left > 100000000LL)
		left = 100000000LL;
	ts.tv_sec = (time_t)(left / 1000000000LL);
	ts.tv_nsec = (long)(left % 1000000000LL);
	/* count ourselves before the futex re-checks seen: a bump after
	 * that either sees us and wakes, or changed the word first */
	__atomic_add_fetch(&rt->sh->seq_waiters, 1, __ATOMIC_SEQ_CST);
	futex(&rt->sh->lease_seq, FUTEX_WAIT, seen, &ts);
	__atomic_sub_fetch(&rt->sh->seq_waiters, 1, __ATOMIC_SEQ_CST);
}

void dxl_rt_proc_wake(struct dxl_rt *rt, int slot)
{
	struct rt_proc *p;

	if (slot < 0 || slot >= RT_MAX_PROCS)
		return;
	p = &rt->sh->procs[slot];
	__atomic_add_fetch(&p->wake, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->wake_waiters, __ATOMIC_SEQ_CST))
		futex(&p->wake, FUTEX_WAKE, INT32_MAX, NULL);
}

uint32_t dxl_rt_self_wake_seq(struct dxl_rt *rt)
{
	if (rt->self < 0)
		return 0;
	return __atomic_load_n(&rt->sh->procs[rt->self].wake, __ATOMIC_ACQUIRE);
}

void dxl_rt_self_wait(struct dxl_rt *rt, uint32_t seen, int64_t deadline_ns)
{
	struct rt_proc *p;
	int64_t left = deadline_ns == INT64_MAX ? 1000000000LL : deadline_ns - dxl_mono_ns();
	struct timespec ts;

	if (rt->self < 0 || left <= 0)
		return;
	/* a bounded sleep even without a deadline: a lost wake (there should
	 * be none) costs a second, not forever */
	if (left > 1000000000LL)
		left = 1000000000LL;
	p = &rt->sh->procs[rt->self];
	ts.tv_sec = (time_t)(left / 1000000000LL);
	ts.tv_nsec = (long)(left % 1000000000LL);
	__atomic_add_fetch(&p->wake_waiters, 1, __ATOMIC_SEQ_CST);
	futex(&p->wake, FUTEX_WAIT, seen, &ts);
	__atomic_sub_fetch(&p->wake_waiters, 1, __ATOMIC_SEQ_CST);
}
