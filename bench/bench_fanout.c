/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease bench — break_fanout: many leases broken at once (issue 7).
 *
 * P holder processes hold L leases each on one file; one layout change
 * breaks them all; every holder is cooperative (its event thread releases
 * each lease from the lease's callback).  The figure is the time the
 * change takes from call to return, side by side with the kernel doing
 * the same: P processes with L read leases each (F_SETLEASE F_RDLCK on L
 * descriptors of one tmpfs file, the break signalled per descriptor as a
 * queued real-time signal), broken by an open(O_WRONLY|O_TRUNC).  Two
 * shapes: 20 leases in one process, and 1000 leases over 100 processes.
 *
 * The target is that nothing is lost: every lease is released by its
 * holder and none is revoked (the pool's lease-break time is 10 s, so a
 * lost notification shows as a revocation, and as a time of 10 s).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_SETLEASE, F_SETSIG */
#endif
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxlease/daxlease.h"

#define FAN_WAIT_MS 60000  /* liveness bound on one wait for a holder */
#define FAN_BREAK_MS 10000 /* the pool's lease-break time during the figure */
#define FAN_MAXL 64

struct fan_holder {
	pid_t pid;
	int cmd, resp;
};

/* ------------------------------------------------------- daxlease side */

static pthread_mutex_t fan_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fan_cv = PTHREAD_COND_INITIALIZER;
static int fan_released, fan_revoked;

static void fan_cb(dxl_lease *l, const struct dxl_event *ev, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fan_mu);
	if (ev->type == DXL_EV_REVOKED)
		fan_revoked++;
	if (l && (ev->type == DXL_EV_BREAK || ev->type == DXL_EV_REVOKED) &&
	    dxl_lease_release(l) == 0)
		fan_released++;
	pthread_cond_broadcast(&fan_cv);
	pthread_mutex_unlock(&fan_mu);
}

/* Replies: 'r' when the leases are taken; after the break 'd' and one
 * byte: how many were revoked (255: something failed). */
static void dholder(const char *pool_path, const char *path, int nl, uint64_t unit, int cmd,
		    int resp)
{
	dxl_pool *pool;
	dxl_file *f;

	if (dxl_pool_open(pool_path, 0, &pool) < 0 || dxl_open(pool, path, O_RDWR, 0, &f) < 0 ||
	    dxl_event_thread_start(pool) < 0)
		_exit(1);
	while (recv_byte(cmd, -1) == 't') {
		pthread_mutex_lock(&fan_mu);
		fan_released = fan_revoked = 0;
		pthread_mutex_unlock(&fan_mu);
		for (int i = 0; i < nl; i++) {
			dxl_lease *l;
			/* overlapping one-unit ranges, all inside what is cut */
			if (dxl_lease_take(f, (uint64_t)(i % 8) * unit, unit, 0, fan_cb, NULL, &l) < 0)
				_exit(1);
		}
		if (send_byte(resp, 'r') < 0)
			break;
		pthread_mutex_lock(&fan_mu);
		while (fan_released < nl)
			pthread_cond_wait(&fan_cv, &fan_mu);
		int rev = fan_revoked;
		pthread_mutex_unlock(&fan_mu);
		if (send_byte(resp, 'd') < 0 || send_byte(resp, (char)(rev > 254 ? 254 : rev)) < 0)
			break;
	}
	dxl_close(f);
	dxl_pool_close(pool);
	_exit(0);
}

/* ------------------------------------------------------- kernel side */

static void kholder(const char *path, int nl, int cmd, int resp)
{
	int fds[FAN_MAXL];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < nl; i++)
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			_exit(1);
	while (recv_byte(cmd, -1) == 't') {
		for (int i = 0; i < nl; i++) {
			int tries = 0;
			/* F_UNLCK resets the fd's signal to SIGIO: set it each time */
			if (fcntl(fds[i], F_SETSIG, SIGRTMIN) < 0)
				_exit(1);
			/* EAGAIN: the breaker's write fd is not quite gone */
			while (fcntl(fds[i], F_SETLEASE, F_RDLCK) < 0)
				if (errno != EAGAIN || ++tries > 5000 || usleep(1000) < 0)
					_exit(1);
		}
		if (send_byte(resp, 'r') < 0)
			break;
		for (int done = 0; done < nl;) {
			struct timespec to = {FAN_WAIT_MS / 1000, 0};
			siginfo_t si;
			int sig = sigtimedwait(&set, &si, &to);
			if (sig < 0 && errno == EINTR)
				continue;
			if (sig != SIGRTMIN || fcntl(si.si_fd, F_SETLEASE, F_UNLCK) < 0)
				_exit(1);
			done++;
		}
		if (send_byte(resp, 'd') < 0 || send_byte(resp, 0) < 0)
			break;
	}
	_exit(0);
}

/* ------------------------------------------------------------ harness */

static int fan_spawn(struct bench *b, struct fan_holder *h, int kernel, const char *path, int nl)
{
	int rc = fork_helper(b, &h->pid, &h->cmd, &h->resp);

	if (rc == 1) {
		if (kernel)
			kholder(path, nl, h->cmd, h->resp);
		dholder(b->pool_path, path, nl, b->unit, h->cmd, h->resp);
	}
	return rc;
}

static void fan_stop(struct fan_holder *h, int n)
{
	for (int i = 0; i < n; i++) {
		if (h[i].pid <= 0)
			continue;
		send_byte(h[i].cmd, 'q');
		close(h[i].cmd);
		close(h[i].resp);
	}
	for (int i = 0; i < n; i++) {
		int st;
		if (h[i].pid <= 0)
			continue;
		for (int k = 0; k < 3000; k++) {
			if (waitpid(h[i].pid, &st, WNOHANG) != 0)
				break;
			if (k == 2000)
				kill(h[i].pid, SIGKILL);
			usleep(1000);
		}
	}
}

/* All holders take their leases ('t' ... 'r'). */
static int fan_arm(struct bench *b, struct fan_holder *h, int n)
{
	for (int i = 0; i < n; i++)
		if (send_byte(h[i].cmd, 't') < 0) {
			set_err(b, "holder %d is gone", i);
			return -EPIPE;
		}
	for (int i = 0; i < n; i++)
		if (recv_byte(h[i].resp, FAN_WAIT_MS) != 'r') {
			set_err(b, "holder %d did not take its leases", i);
			return -EIO;
		}
	return 0;
}

/* All holders report 'd' and their revocation counts. */
static int fan_collect(struct bench *b, struct fan_holder *h, int n, int *revoked)
{
	for (int i = 0; i < n; i++) {
		int c = recv_byte(h[i].resp, FAN_WAIT_MS), r = recv_byte(h[i].resp, FAN_WAIT_MS);
		if (c != 'd' || r < 0) {
			set_err(b, "holder %d did not release its leases", i);
			return -EIO;
		}
		*revoked += r;
	}
	return 0;
}

static int refill(struct bench *b, dxl_file *f, const uint8_t *buf)
{
	ssize_t w = dxl_pwrite(f, buf, 8 * b->unit, 0);
	if (w != (ssize_t)(8 * b->unit)) {
		set_err(b, "refill: %s", dxl_errmsg());
		return -EIO;
	}
	return 0;
}

/* One shape: median ms of the daxlease and kernel breaks, revocations. */
static int fan_shape(struct bench *b, int np, int nl, int rounds, double *dms, double *kms,
		     int *revoked)
{
	struct fan_holder *dh = calloc((size_t)np, sizeof(*dh)), *kh = calloc((size_t)np, sizeof(*kh));
	double dv[MAX_ROUNDS], kv[MAX_ROUNDS];
	char dpath[128], kpath[PATH_MAX + 64];
	uint8_t *buf = malloc(8 * b->unit);
	dxl_file *f = NULL;
	int rc = -ENOMEM, nd = 0, nk = 0, kfd;

	snprintf(dpath, sizeof(dpath), "%s/fanout", b->pool_dir);
	snprintf(kpath, sizeof(kpath), "%s/daxlease-bench-%d.fanout", b->kdir, (int)getpid());
	if (!dh || !kh || !buf)
		goto out;
	fill_random(buf, 8 * b->unit);
	if ((rc = dxl_open(b->pool, dpath, O_RDWR | O_CREAT, 0644, &f)) < 0 ||
	    (rc = refill(b, f, buf)) < 0) {
		set_err(b, "%s: %s", dpath, dxl_errmsg());
		goto out;
	}
	kfd = open(kpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (kfd < 0) {
		rc = -errno;
		set_err(b, "%s: %s", kpath, strerror(errno));
		goto out;
	}
	close(kfd);
	cleanup_add(kpath, false);
	for (; nd < np; nd++)
		if ((rc = fan_spawn(b, &dh[nd], 0, dpath, nl)) < 0)
			goto out;
	for (; nk < np; nk++)
		if ((rc = fan_spawn(b, &kh[nk], 1, kpath, nl)) < 0)
			goto out;
	for (int r = 0; r < rounds; r++) {
		uint64_t t0, t1;

		if ((rc = refill(b, f, buf)) < 0 || (rc = fan_arm(b, dh, np)) < 0)
			goto out;
		t0 = now_ns();
		rc = dxl_ftruncate(f, 0);
		t1 = now_ns();
		if (rc < 0) {
			set_err(b, "truncate: %s", dxl_errmsg());
			goto out;
		}
		dv[r] = (double)(t1 - t0) / 1e6;
		if ((rc = fan_collect(b, dh, np, revoked)) < 0 || (rc = fan_arm(b, kh, np)) < 0)
			goto out;
		t0 = now_ns();
		kfd = open(kpath, O_WRONLY | O_TRUNC | O_CLOEXEC);
		t1 = now_ns();
		if (kfd < 0) {
			rc = -errno;
			set_err(b, "open(O_TRUNC) of %s: %s", kpath, strerror(errno));
			goto out;
		}
		close(kfd);
		kv[r] = (double)(t1 - t0) / 1e6;
		if ((rc = fan_collect(b, kh, np, revoked)) < 0)
			goto out;
	}
	*dms = median(dv, rounds);
	*kms = median(kv, rounds);
	rc = 0;
out:
	fan_stop(dh, nd);
	fan_stop(kh, nk);
	if (f)
		dxl_close(f);
	unlink(kpath);
	free(dh);
	free(kh);
	free(buf);
	return rc;
}

void fig_break_fanout(struct bench *b)
{
	static const int shapes[][2] = {{1, 20}, {100, 10}};
	uint32_t old_break = 0;
	struct dxl_statfs sf;

	if (!selected(b, "break_fanout", "lease"))
		return;
	int rounds = b->o.quick ? 3 : b->o.rounds_set ? b->o.rounds : 9;
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	note("break_fanout: P processes x L leases on one file, each lease released from its "
	     "callback by the holder's event thread, all broken by one truncate; vs P processes "
	     "x L F_SETLEASE read leases on a tmpfs file broken by open(O_TRUNC); %d rounds",
	     rounds);
	if (dxl_statfs(b->pool, &sf) == 0)
		old_break = sf.lease_break_ms;
	dxl_tune_lease_break(b->pool, FAN_BREAK_MS);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		int np = shapes[i][0], nl = shapes[i][1], revoked = 0;
		double dms = 0, kms = 0;
		struct jline j;

		b->err[0] = '\0';
		int rc = fan_shape(b, np, nl, rounds, &dms, &kms, &revoked);
		j_begin(&j, "break_fanout");
		j_u64(&j, "procs", (uint64_t)np);
		j_u64(&j, "leases", (uint64_t)(np * nl));
		if (rc < 0) {
			j_bool(&j, "met", false);
			j_str(&j, "error", b->err[0] ? b->err : strerror(-rc));
			b->failures++;
		} else {
			j_num(&j, "daxlease_ms", dms, 3);
			j_num(&j, "kernel_ms", kms, 3);
			j_num(&j, "ratio", kms > 0 ? dms / kms : 0, 2);
			j_u64(&j, "revoked", (uint64_t)revoked);
			j_bool(&j, "met", revoked == 0);
			note("break_fanout %d x %d: daxlease %.3f ms, kernel %.3f ms, %d revoked", np,
			     nl, dms, kms, revoked);
		}
		j_str(&j, "target", "every lease released by its holder, none revoked (break time 10 s)");
		j_common(&j, b, (uint64_t)rounds, rounds);
		j_end(&j);
	}
	if (old_break)
		dxl_tune_lease_break(b->pool, old_break);
}
