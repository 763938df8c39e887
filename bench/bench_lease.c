/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease bench — the figures of pins and layout leases (issue 3):
 *
 *   pin_unpin         transient pin + unpin of one unit, with the cost of a
 *                     mutex, a robust process-shared mutex and an 8-byte
 *                     dxl_pread measured alongside for scale;
 *   lease_break_rtt   a layout-lease break round trip with a cooperative
 *                     holder in another process, against the kernel's own
 *                     F_SETLEASE break round trip on a tmpfs file;
 *   truncate_vs_pins  dxl_ftruncate(f, 0) against the number of pinned
 *                     extents and the file size.
 *
 * Same conventions as bench_harness.c: interleaved rounds, medians, one
 * JSON line per figure on stdout, commentary on stderr.  Only the public
 * API and libc.  See docs/bench.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_SETLEASE, F_SETSIG */
#endif
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxlease/daxlease.h"

#define NOPS 6             /* lease_break_rtt: operations per round */
#define PIPE_WAIT_MS 20000 /* liveness bound on one wait for a holder */
#define BREAK_MS 10000     /* the pool's lease-break time during the figure */

bool lease_figs_selected(const struct bench *b)
{
	return selected(b, "pin_unpin", "lease") || selected(b, "lease_break_rtt", "lease") ||
	       selected(b, "truncate_vs_pins", "lease") || selected(b, "break_fanout", "lease");
}

/* truncate_vs_pins needs a 256 MiB file beside the bench's own files. */
uint64_t lease_figs_pool_size(const struct bench *b, uint64_t size)
{
	if (!b->o.quick && selected(b, "truncate_vs_pins", "lease") && size < 512 * MiB)
		return 512 * MiB;
	return size;
}

static void j_arr(struct jline *j, const char *k, const double *v, int n, int prec)
{
	j_key(j, k);
	j_raw(j, "[");
	for (int i = 0; i < n; i++) {
		if (isfinite(v[i]))
			j_raw(j, "%s%.*f", i ? "," : "", prec, v[i]);
		else
			j_raw(j, "%snull", i ? "," : "");
	}
	j_raw(j, "]");
}

/* A line for a figure that could not be measured. */
static void fail_line(struct bench *b, const char *name, const char *target)
{
	if (!b->err[0])
		set_err(b, "not measured");
	j_unmeasured(b, name, target);
	note("  %s could not be measured: %s", name, b->err);
}

/* A file in the bench's directory of the pool, opened read-write. */
static int pool_file(struct bench *b, const char *tag, char *path, size_t plen, dxl_file **f)
{
	snprintf(path, plen, "%s/%s", b->pool_dir, tag);
	int rc = dxl_open(b->pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644, f);
	if (rc < 0)
		set_err(b, "dxl_open(%s): %s", path, dxl_errmsg());
	return rc;
}

/* =================================================== figure: pin_unpin */

struct pin_arg {
	dxl_file *f;
	uint64_t unit;
	const uint64_t *offs;
	unsigned pos;
	pthread_mutex_t *mu;
	uint8_t buf[8];
};

static int pin_batch(struct bench *b, void *arg, uint64_t n)
{
	struct pin_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = a->offs[a->pos++ & (NOFFS - 1)];
		dxl_pin *p;
		int rc = dxl_pin_range(a->f, off, a->unit, 0, NULL, &p);
		if (rc < 0) {
			set_err(b, "dxl_pin_range(%llu, %llu): %s", (unsigned long long)off,
				(unsigned long long)a->unit, dxl_errmsg());
			return rc;
		}
		if ((rc = dxl_unpin(p)) < 0) {
			set_err(b, "dxl_unpin: %s", dxl_errmsg());
			return rc;
		}
	}
	return 0;
}

static int mutex_batch(struct bench *b, void *arg, uint64_t n)
{
	struct pin_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		int rc = pthread_mutex_lock(a->mu);
		if (rc != 0) {
			set_err(b, "pthread_mutex_lock: %s", strerror(rc));
			return -rc;
		}
		pthread_mutex_unlock(a->mu);
	}
	return 0;
}

static int pread8_batch(struct bench *b, void *arg, uint64_t n)
{
	struct pin_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = a->offs[a->pos++ & (NOFFS - 1)];
		ssize_t r = dxl_pread(a->f, a->buf, sizeof(a->buf), off);
		if (r != (ssize_t)sizeof(a->buf)) {
			set_err(b, "dxl_pread(8 @ %llu) = %zd: %s", (unsigned long long)off, r,
				r < 0 ? dxl_errmsg() : "short read");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int count_pins_cb(void *arg, const struct dxl_lease_info *in)
{
	if (in->kind == DXL_INFO_PIN || in->kind == DXL_INFO_PIN_LONGTERM)
		(*(int *)arg)++;
	return 0;
}

static int count_pins(dxl_pool *pool)
{
	int n = 0;
	if (dxl_lease_list(pool, count_pins_cb, &n) < 0)
		return -1;
	return n;
}

void fig_pin_unpin(struct bench *b)
{
	static const char *const target = "<=100 ns per transient pin+unpin pair of one unit";
	if (!selected(b, "pin_unpin", "lease"))
		return;
	b->err[0] = '\0';
	uint64_t size = 16 * MiB, unit = b->unit, iters = 0;
	note("pin_unpin: dxl_pin_range (transient, one %llu-byte unit) + dxl_unpin in a "
	     "%llu MiB allocated file; a mutex, a robust process-shared mutex and an 8-byte "
	     "dxl_pread for scale",
	     (unsigned long long)unit, (unsigned long long)(size / MiB));

	static uint64_t offs[NOFFS];
	char path[128];
	dxl_file *f = NULL;
	pthread_mutex_t mu_private, *mu_shared = MAP_FAILED;
	bool have_private = false, have_shared = false;
	int rc;

	if ((rc = pool_file(b, "pin", path, sizeof(path), &f)) < 0)
		goto fail;
	if ((rc = dxl_fallocate(f, 0, 0, size)) < 0) {
		set_err(b, "dxl_fallocate(%s, %llu): %s", path, (unsigned long long)size,
			dxl_errmsg());
		goto fail;
	}
	fill_offsets(offs, size, unit);

	/* The sanity check: a pin is listed while held, and gone after. */
	{
		dxl_pin *p;
		struct dxl_seg seg = {0};
		if ((rc = dxl_pin_range(f, unit, unit, 0, NULL, &p)) < 0) {
			set_err(b, "dxl_pin_range: %s", dxl_errmsg());
			goto fail;
		}
		int held = count_pins(b->pool), nseg = dxl_pin_segments(p, &seg, 1);
		dxl_unpin(p);
		int after = count_pins(b->pool);
		if (held != 1 || after != 0 || nseg != 1 || seg.len != unit)
			set_err(b, "sanity check: %d pin(s) listed while pinned, %d after unpin, "
				   "%d segment(s) of %zu bytes (expected 1, 0, 1 of %llu)",
				held, after, nseg, seg.len, (unsigned long long)unit);
	}

	if ((rc = -pthread_mutex_init(&mu_private, NULL)) < 0) {
		set_err(b, "pthread_mutex_init: %s", strerror(-rc));
		goto fail;
	}
	have_private = true;
	/* The kind of lock a pool's metadata lock is: robust, process-shared,
	 * in shared memory. */
	mu_shared = mmap(NULL, sizeof(*mu_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mu_shared == MAP_FAILED) {
		rc = -errno;
		set_err(b, "mmap: %s", strerror(errno));
		goto fail;
	}
	{
		pthread_mutexattr_t at;
		pthread_mutexattr_init(&at);
		pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
		rc = -pthread_mutex_init(mu_shared, &at);
		pthread_mutexattr_destroy(&at);
		if (rc < 0) {
			set_err(b, "pthread_mutex_init (robust, shared): %s", strerror(-rc));
			goto fail;
		}
		have_shared = true;
	}

	struct pin_arg ap = {.f = f, .unit = unit, .offs = offs};
	struct pin_arg am = {.mu = &mu_private};
	struct pin_arg as = {.mu = mu_shared};
	struct pin_arg ar = {.f = f, .unit = unit, .offs = offs};
	struct side s[4] = {
		{.name = "pin+unpin", .fn = pin_batch, .arg = &ap},
		{.name = "mutex", .fn = mutex_batch, .arg = &am},
		{.name = "robust pshared", .fn = mutex_batch, .arg = &as},
		{.name = "dxl_pread 8B", .fn = pread8_batch, .arg = &ar},
	};
	if ((rc = run_sides(b, s, 4, 30000, &iters)) < 0)
		goto fail;

	struct jline j;
	j_begin(&j, "pin_unpin");
	j_num(&j, "daxlease_ns", s[0].med, 1);
	j_num(&j, "daxlease_min_ns", s[0].min, 1);
	j_num(&j, "mutex_ns", s[1].med, 1);
	j_num(&j, "robust_pshared_mutex_ns", s[2].med, 1);
	j_num(&j, "pread_8b_ns", s[3].med, 1);
	j_num(&j, "pread_8b_min_ns", s[3].min, 1);
	j_num(&j, "ratio_to_pread_8b", s[0].med / s[3].med, 2);
	j_u64(&j, "unit", unit);
	j_u64(&j, "file_size", size);
	j_str(&j, "target", target);
	j_bool(&j, "met", s[0].med <= 100.0 && !b->err[0]);
	j_common(&j, b, iters, b->o.rounds);
	j_end(&j);
	goto out;
fail:
	fail_line(b, "pin_unpin", target);
out:
	if (have_private)
		pthread_mutex_destroy(&mu_private);
	if (have_shared)
		pthread_mutex_destroy(mu_shared);
	if (mu_shared != MAP_FAILED)
		munmap(mu_shared, sizeof(*mu_shared));
	if (f) {
		dxl_close(f);
		dxl_unlink(b->pool, path);
	}
}

/* ============================================= figure: lease_break_rtt */

/*
 * Two long-lived holder processes, forked once; each opens what it needs
 * itself (the daxlease holder its own pool handle: a handle never crosses
 * fork).  Per round, for each: the breaker sends 'g' on the command pipe;
 * the holder takes its lease and answers 'r'; the breaker times the
 * layout change from call to return; the holder gets the break, releases,
 * and answers 'd' (or 'x' + a message on a failure).
 */
struct holder {
	pid_t pid;
	int cmd;  /* breaker -> holder */
	int resp; /* holder -> breaker */
};

int send_byte(int fd, char c)
{
	for (;;) {
		ssize_t n = write(fd, &c, 1);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -(n < 0 ? errno : EIO);
	}
}

int recv_byte(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	for (;;) {
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		unsigned char c;
		ssize_t n = read(fd, &c, 1);
		if (n == 1)
			return c;
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 ? -EPIPE : -errno;
	}
}

/* Holder side: report a failure ("x" + message) and leave. */
static void holder_fail(int resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void holder_fail(int resp, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg + 1, sizeof(msg) - 2, fmt, ap);
	va_end(ap);
	msg[0] = 'x';
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(msg) - 3)
		n = (int)sizeof(msg) - 3;
	msg[n + 1] = '\n';
	if (write(resp, msg, (size_t)n + 2) < 0) {
		/* the breaker is gone: nobody to tell */
	}
	_exit(1);
}

/* After the release: 'd' and when the holder woke, when its code (the
 * callback) got the break, and when the release returned (CLOCK_MONOTONIC,
 * which both processes share), so the breaker can split the round trip. */
struct stamps {
	uint64_t wake, cb, rel;
};

static int send_done(int fd, char c, const struct stamps *t)
{
	char msg[1 + sizeof(*t)];
	msg[0] = c;
	memcpy(msg + 1, t, sizeof(*t));
	/* one write below PIPE_BUF: arrives whole */
	return write(fd, msg, sizeof(msg)) == (ssize_t)sizeof(msg) ? 0 : -EPIPE;
}

struct dholder_state {
	struct stamps t;
	dxl_lease *lease;
	int released; /* 1 = released after a break, 2 = after a revoke */
	int bad;      /* an event that did not name our lease */
	int rc;
};

static void dholder_cb(dxl_lease *l, const struct dxl_event *ev, void *arg)
{
	struct dholder_state *st = arg;
	st->t.cb = now_ns();
	if (!l || l != st->lease || ev->lease_id != dxl_lease_id(l)) {
		st->bad++;
		return;
	}
	if (ev->type == DXL_EV_BREAK || ev->type == DXL_EV_REVOKED) {
		st->rc = dxl_lease_release(l);
		st->t.rel = now_ns();
		st->released = ev->type == DXL_EV_BREAK ? 1 : 2;
		st->lease = NULL;
	}
}

static void dholder_main(const char *pool_path, const char *path, int cmd, int resp)
{
	dxl_pool *pool;
	dxl_file *f;
	struct dholder_state st;

	if (dxl_pool_open(pool_path, 0, &pool) < 0)
		holder_fail(resp, "holder: dxl_pool_open(%s): %s", pool_path, dxl_errmsg());
	if (dxl_open(pool, path, O_RDWR, 0, &f) < 0)
		holder_fail(resp, "holder: dxl_open(%s): %s", path, dxl_errmsg());
	int evfd = dxl_event_fd(pool);
	if (evfd < 0)
		holder_fail(resp, "holder: dxl_event_fd: %s", dxl_errmsg());
	for (;;) {
		int c = recv_byte(cmd, -1);
		if (c == 'p') { /* a holder that polls: no system call until the break */
			dxl_lease *l;
			memset(&st, 0, sizeof(st));
			if (dxl_lease_take(f, 0, 0, 0, NULL, NULL, &l) < 0)
				holder_fail(resp, "holder: dxl_lease_take: %s", dxl_errmsg());
			if (send_byte(resp, 'r') < 0)
				break;
			int ps;
			while ((ps = dxl_lease_poll(l)) == DXL_LEASE_ACTIVE)
				;
			st.t.wake = st.t.cb = now_ns();
			if (ps != DXL_LEASE_BREAKING)
				holder_fail(resp, "holder: dxl_lease_poll: %d (%s)", ps, dxl_errmsg());
			if (dxl_lease_release(l) < 0)
				holder_fail(resp, "holder: dxl_lease_release: %s", dxl_errmsg());
			st.t.rel = now_ns();
			if (send_done(resp, 'd', &st.t) < 0)
				break;
			dxl_event_dispatch(pool); /* drain the event nobody waited for */
			continue;
		}
		if (c != 'g')
			break; /* 'q', or the breaker is gone */
		memset(&st, 0, sizeof(st));
		if (dxl_lease_take(f, 0, 0, 0, dholder_cb, &st, &st.lease) < 0)
			holder_fail(resp, "holder: dxl_lease_take: %s", dxl_errmsg());
		if (send_byte(resp, 'r') < 0)
			break;
		while (!st.released) {
			struct pollfd p[2] = {{.fd = evfd, .events = POLLIN},
					      {.fd = cmd, .events = POLLIN}};
			int r = poll(p, 2, PIPE_WAIT_MS);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				holder_fail(resp, "holder: no break event within %d ms", PIPE_WAIT_MS);
			st.t.wake = now_ns();
			if (p[1].revents)
				goto out; /* the breaker quit (or died) mid-round */
			if (dxl_event_dispatch(pool) < 0)
				holder_fail(resp, "holder: dxl_event_dispatch: %s", dxl_errmsg());
		}
		if (st.rc < 0)
			holder_fail(resp, "holder: dxl_lease_release: %s", dxl_errmsg());
		if (st.bad)
			holder_fail(resp, "holder: %d event(s) did not name the holder's lease",
				    st.bad);
		if (send_done(resp, st.released == 1 ? 'd' : 'v', &st.t) < 0)
			break;
	}
out:
	dxl_close(f);
	dxl_pool_close(pool);
	_exit(0);
}

static void kholder_main(const char *path, int cmd, int resp)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		holder_fail(resp, "kernel holder: open(%s): %s", path, strerror(errno));
	for (;;) {
		int c = recv_byte(cmd, -1);
		if (c == 'p') { /* ping: the bare wake-up round trip */
			if (send_byte(resp, 'p') < 0)
				break;
			continue;
		}
		if (c != 'g')
			break;
		/* The break arrives as a queued real-time signal naming the fd.
		 * F_UNLCK resets the fd's signal to SIGIO: set it every time. */
		if (fcntl(fd, F_SETSIG, SIGRTMIN) < 0)
			holder_fail(resp, "kernel holder: F_SETSIG: %s", strerror(errno));
		int tries = 0;
		while (fcntl(fd, F_SETLEASE, F_RDLCK) < 0) {
			/* EAGAIN: the breaker's last write fd is not quite gone */
			if (errno != EAGAIN || ++tries > 1000)
				holder_fail(resp, "kernel holder: F_SETLEASE F_RDLCK: %s",
					    strerror(errno));
			usleep(1000);
		}
		if (send_byte(resp, 'r') < 0)
			break;
		siginfo_t si;
		struct timespec to = {PIPE_WAIT_MS / 1000, 0};
		int sig;
		struct stamps t;
		while ((sig = sigtimedwait(&set, &si, &to)) < 0 && errno == EINTR)
			;
		t.wake = t.cb = now_ns();
		if (sig < 0)
			holder_fail(resp, "kernel holder: no lease-break signal within %d ms",
				    PIPE_WAIT_MS);
		if (sig != SIGRTMIN || si.si_fd != fd)
			holder_fail(resp, "kernel holder: signal %d for fd %d, not %d for fd %d", sig,
				    si.si_fd, (int)SIGRTMIN, fd);
		if (fcntl(fd, F_SETLEASE, F_UNLCK) < 0)
			holder_fail(resp, "kernel holder: F_SETLEASE F_UNLCK: %s", strerror(errno));
		t.rel = now_ns();
		if (send_done(resp, 'd', &t) < 0)
			break;
	}
	close(fd);
	_exit(0);
}

int fork_helper(struct bench *b, pid_t *pid, int *cmd, int *resp)
{
	int c[2], r[2];
	if (pipe2(c, O_CLOEXEC) < 0) {
		int e = errno;
		set_err(b, "pipe: %s", strerror(e));
		return -e;
	}
	if (pipe2(r, O_CLOEXEC) < 0) {
		int e = errno;
		close(c[0]);
		close(c[1]);
		set_err(b, "pipe: %s", strerror(e));
		return -e;
	}
	fflush(NULL);
	pid_t parent = getpid();
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(c[0]);
		close(c[1]);
		close(r[0]);
		close(r[1]);
		set_err(b, "fork: %s", strerror(e));
		return -e;
	}
	if (*pid == 0) {
		/* Not ours: the bench's cleanup handlers, its end of the pipes. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(c[1]);
		close(r[0]);
		*cmd = c[0];
		*resp = r[1];
		return 1;
	}
	close(c[0]);
	close(r[1]);
	*cmd = c[1];
	*resp = r[0];
	return 0;
}

static int holder_start(struct bench *b, struct holder *h, bool kernel, const char *dpath,
			const char *kpath)
{
	h->pid = -1;
	h->cmd = h->resp = -1;
	int rc = fork_helper(b, &h->pid, &h->cmd, &h->resp);
	if (rc == 1) {
		if (kernel)
			kholder_main(kpath, h->cmd, h->resp);
		else
			dholder_main(b->pool_path, dpath, h->cmd, h->resp);
		_exit(0);
	}
	return rc;
}

static void holder_stop(struct holder *h)
{
	if (h->pid <= 0)
		return;
	send_byte(h->cmd, 'q');
	close(h->cmd);
	close(h->resp);
	int st;
	/* a holder stuck in a wait hears the closed pipe; bound it anyway */
	for (int i = 0; i < 2000; i++) {
		pid_t w = waitpid(h->pid, &st, WNOHANG);
		if (w == h->pid || (w < 0 && errno != EINTR))
			break;
		if (i == 1000)
			kill(h->pid, SIGKILL);
		usleep(1000);
	}
	h->pid = -1;
}

/* The holder's answer, checked: 0, or an error in b->err.  After 'd' the
 * holder's time stamps follow (into *t). */
static int holder_expect(struct bench *b, struct holder *h, char want, const char *who,
			 struct stamps *t)
{
	int c = recv_byte(h->resp, PIPE_WAIT_MS);
	if (c == want && want == 'd') {
		if (read(h->resp, t, sizeof(*t)) == (ssize_t)sizeof(*t))
			return 0;
		set_err(b, "%s holder: short answer", who);
		return -EIO;
	}
	if (c == want)
		return 0;
	if (c == 'x') {
		char msg[300];
		ssize_t n = read(h->resp, msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		set_err(b, "%s", msg);
	} else if (c == 'v') {
		set_err(b, "%s: the lease was revoked, not released (a round took longer than "
			   "the %d ms lease-break time)", who, BREAK_MS);
	} else if (c < 0) {
		set_err(b, "%s holder: %s", who, c == -EPIPE ? "exited" : strerror(-c));
	} else {
		set_err(b, "%s holder: unexpected answer '%c'", who, c);
	}
	return -EIO;
}

struct lb_ctx {
	dxl_file *f;       /* the daxlease file, in the breaker */
	const char *kpath; /* the tmpfs file */
	uint8_t *buf;      /* one unit of data to put back */
	uint64_t unit;
	struct holder dh, kh;
	/* per round: where the round trip went (see split_rtt) */
	int r;            /* round; < 0 while warming up */
	double *seg[2][4];/* [daxlease, kernel][notify, dispatch, finish, release] */
};

/*
 * Where a round trip goes.  t0/t1: the breaker's call and return; t: the
 * holder's stamps.  notify + dispatch + finish = the round trip:
 *   notify    the breaker's call until the holder is awake (breaker's
 *             work before it sleeps, the notification, the wake-up);
 *   dispatch  holder awake until its callback has the break (daxlease:
 *             dxl_event_dispatch; the kernel holder's wake is the signal);
 *   finish    callback until the breaker returns (the release, the
 *             breaker's wake-up, the rest of its truncate);
 *   release   the holder's release call alone (part of finish; it may
 *             end after the breaker returns if the holder is preempted).
 */
static void split_rtt(struct lb_ctx *c, int side, uint64_t t0, uint64_t t1, const struct stamps *t)
{
	if (c->r < 0)
		return;
	c->seg[side][0][c->r] = (double)(int64_t)(t->wake - t0);
	c->seg[side][1][c->r] = (double)(int64_t)(t->cb - t->wake);
	c->seg[side][2][c->r] = (double)(int64_t)(t1 - t->cb);
	c->seg[side][3][c->r] = (double)(int64_t)(t->rel - t->cb);
}

/* Put the unit back (allocating into a hole breaks nothing). */
static int restore_dxl(struct bench *b, struct lb_ctx *c)
{
	if (dxl_pwrite(c->f, c->buf, c->unit, 0) == (ssize_t)c->unit)
		return 0;
	set_err(b, "dxl_pwrite (restore): %s", dxl_errmsg());
	return -EIO;
}

/* The operations of a round; each returns ns or a negative errno.  A
 * daxlease break: cmd 'g' for the holder asleep in poll (its round trip
 * is split, see split_rtt), 'p' for the one that polls its lease. */
static int64_t dxl_break_round(struct bench *b, struct lb_ctx *c, char cmd)
{
	const char *who = cmd == 'p' ? "daxlease polling" : "daxlease";
	struct stamps st;
	if (send_byte(c->dh.cmd, cmd) < 0 || holder_expect(b, &c->dh, 'r', who, NULL) < 0) {
		set_err(b, "%s holder did not take its lease", who);
		return -EIO;
	}
	uint64_t t0 = now_ns();
	int rc = dxl_ftruncate(c->f, 0);
	uint64_t t1 = now_ns();
	if (rc < 0) {
		set_err(b, "dxl_ftruncate (breaking the %s holder): %s", who, dxl_errmsg());
		return rc;
	}
	if (holder_expect(b, &c->dh, 'd', who, &st) < 0)
		return -EIO;
	if (cmd == 'g')
		split_rtt(c, 0, t0, t1, &st);
	int64_t t = (int64_t)(t1 - t0);
	return restore_dxl(b, c) < 0 ? -EIO : t;
}

static int64_t op_dxl_break(struct bench *b, struct lb_ctx *c) { return dxl_break_round(b, c, 'g'); }
static int64_t op_dxl_poll_break(struct bench *b, struct lb_ctx *c)
{
	return dxl_break_round(b, c, 'p');
}

static int64_t op_dxl_plain(struct bench *b, struct lb_ctx *c)
{
	uint64_t t0 = now_ns();
	int rc = dxl_ftruncate(c->f, 0);
	int64_t t = (int64_t)(now_ns() - t0);
	if (rc < 0) {
		set_err(b, "dxl_ftruncate: %s", dxl_errmsg());
		return rc;
	}
	return restore_dxl(b, c) < 0 ? -EIO : t;
}

static int64_t k_trunc_open(struct bench *b, struct lb_ctx *c, bool leased)
{
	struct stamps st;
	if (leased &&
	    (send_byte(c->kh.cmd, 'g') < 0 || holder_expect(b, &c->kh, 'r', "kernel", NULL) < 0)) {
		set_err(b, "kernel holder did not take its lease");
		return -EIO;
	}
	uint64_t t0 = now_ns();
	int fd = open(c->kpath, O_WRONLY | O_TRUNC | O_CLOEXEC);
	uint64_t t1 = now_ns();
	int64_t t = (int64_t)(t1 - t0);
	if (fd < 0) {
		set_err(b, "open(%s, O_WRONLY|O_TRUNC): %s", c->kpath, strerror(errno));
		return -EIO;
	}
	int rc = 0;
	if (leased && holder_expect(b, &c->kh, 'd', "kernel", &st) < 0)
		rc = -EIO;
	else if (leased)
		split_rtt(c, 1, t0, t1, &st);
	if (rc == 0 && pwrite(fd, c->buf, 4096, 0) != 4096) {
		set_err(b, "pwrite(%s) (restore): %s", c->kpath, strerror(errno));
		rc = -EIO;
	}
	close(fd);
	return rc < 0 ? rc : t;
}

static int64_t op_k_break(struct bench *b, struct lb_ctx *c) { return k_trunc_open(b, c, true); }

/* The floor of any such round trip: wake a sleeping process and be woken
 * by its answer (one byte each way through pipes). */
static int64_t op_ping(struct bench *b, struct lb_ctx *c)
{
	uint64_t t0 = now_ns();
	if (send_byte(c->kh.cmd, 'p') < 0 || recv_byte(c->kh.resp, PIPE_WAIT_MS) != 'p') {
		set_err(b, "kernel holder: no answer to a ping");
		return -EIO;
	}
	return (int64_t)(now_ns() - t0);
}
static int64_t op_k_plain(struct bench *b, struct lb_ctx *c) { return k_trunc_open(b, c, false); }

static long read_long_file(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

void fig_lease_break(struct bench *b)
{
	static const char *const target =
		"<=0.5x the kernel's F_SETLEASE break round trip on tmpfs (median)";
	if (!selected(b, "lease_break_rtt", "lease"))
		return;
	b->err[0] = '\0';
	int nrounds = b->o.iters ? (int)(b->o.iters > 100000 ? 100000 : b->o.iters)
				 : b->o.quick ? 21 : 401;
	int warm = b->o.quick ? 3 : 20;
	note("lease_break_rtt: truncate of a leased one-unit file, cooperative holder in another "
	     "process (poll + dxl_event_dispatch, release in the callback) vs open(O_TRUNC) of "
	     "a tmpfs file under F_SETLEASE F_RDLCK (sigtimedwait, F_UNLCK); %d rounds",
	     nrounds);

	struct lb_ctx c;
	memset(&c, 0, sizeof(c));
	c.dh.pid = c.kh.pid = -1;
	c.unit = b->unit;
	char dpath[128], kpath[PATH_MAX + 64];
	double *v[NOPS] = {NULL};
	uint32_t old_break = 0;
	bool tuned = false, made_k = false, pipe_ignored = false;
	struct sigaction old_pipe;
	int rc;
	struct dxl_statfs sf;

	snprintf(kpath, sizeof(kpath), "%s/daxlease-bench-%d.lease", b->kdir, (int)getpid());
	c.kpath = kpath;
	if (!(c.buf = aligned_alloc(4096, c.unit < 4096 ? 4096 : c.unit))) {
		set_err(b, "out of memory");
		goto fail;
	}
	fill_random(c.buf, c.unit < 4096 ? 4096 : c.unit);
	for (int i = 0; i < NOPS; i++)
		if (!(v[i] = calloc((size_t)nrounds, sizeof(double))) ||
		    (i < 4 && !(c.seg[0][i] = calloc((size_t)nrounds, sizeof(double)))) ||
		    (i < 4 && !(c.seg[1][i] = calloc((size_t)nrounds, sizeof(double))))) {
			set_err(b, "out of memory");
			goto fail;
		}

	/* A slow round must show as slow, not as revoked: a long break time. */
	memset(&sf, 0, sizeof(sf));
	if (dxl_statfs(b->pool, &sf) < 0 || dxl_tune_lease_break(b->pool, BREAK_MS) < 0) {
		set_err(b, "setting the lease-break time: %s", dxl_errmsg());
		goto fail;
	}
	old_break = sf.lease_break_ms;
	tuned = true;

	if ((rc = pool_file(b, "lease", dpath, sizeof(dpath), &c.f)) < 0)
		goto fail;
	if (dxl_pwrite(c.f, c.buf, c.unit, 0) != (ssize_t)c.unit) {
		set_err(b, "dxl_pwrite(%s): %s", dpath, dxl_errmsg());
		goto fail;
	}
	int kfd = open(kpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (kfd < 0) {
		set_err(b, "open(%s): %s", kpath, strerror(errno));
		goto fail;
	}
	cleanup_add(kpath, false);
	made_k = true;
	if (pwrite(kfd, c.buf, 4096, 0) != 4096) {
		set_err(b, "pwrite(%s): %s", kpath, strerror(errno));
		close(kfd);
		goto fail;
	}
	close(kfd);

	/* A holder that died must show as an error, not kill the bench. */
	sigaction(SIGPIPE, &(struct sigaction){.sa_handler = SIG_IGN}, &old_pipe);
	pipe_ignored = true;
	if (holder_start(b, &c.dh, false, dpath, kpath) < 0 ||
	    holder_start(b, &c.kh, true, dpath, kpath) < 0)
		goto fail;

	typedef int64_t (*op_fn)(struct bench *, struct lb_ctx *);
	static const op_fn ops[NOPS] = {op_dxl_break, op_k_break, op_dxl_plain, op_k_plain,
					op_ping, op_dxl_poll_break};
	for (int r = -warm; r < nrounds; r++) {
		c.r = r;
		for (int k = 0; k < NOPS; k++) {
			int i = (k + (r < 0 ? 0 : r)) % NOPS;
			int64_t t = ops[i](b, &c);
			if (t < 0)
				goto fail;
			if (r >= 0)
				v[i][r] = (double)t;
		}
	}

	double med[NOPS], lo[NOPS], p90[NOPS];
	for (int i = 0; i < NOPS; i++) {
		med[i] = quantile(v[i], nrounds, 0.5);
		lo[i] = v[i][0];
		p90[i] = quantile(v[i], nrounds, 0.9);
	}
	static const char *const names[NOPS] = {"daxlease break", "kernel break",
						"daxlease no lease", "kernel no lease",
						"pipe ping-pong", "daxlease polled"};
	for (int i = 0; i < NOPS; i++)
		note("  %-18s median %9.1f ns  (min %.1f, p90 %.1f)", names[i], med[i], lo[i],
		     p90[i]);
	double ratio = med[0] / med[1];
	double ratio_poll = med[5] / med[1], ratio_pipe = med[0] / med[4];
	note("  ratio daxlease/kernel %.3f (target <= 0.5)", ratio);
	note("  polling holder / kernel %.3f (target <= 0.1); sleeping holder / pipe ping-pong "
	     "%.3f (target <= 1.0)", ratio_poll, ratio_pipe);
	/* Where the round trip goes, medians of each part (they need not add
	 * up to the median of the whole). */
	double seg[2][4];
	for (int sd = 0; sd < 2; sd++)
		for (int i = 0; i < 4; i++)
			seg[sd][i] = quantile(c.seg[sd][i], nrounds, 0.5);
	note("  split (medians): notify = breaker's call until the holder is awake; dispatch = "
	     "until its callback runs; finish = until the breaker returns; release = the "
	     "holder's release call (part of finish)");
	for (int sd = 0; sd < 2; sd++)
		note("    %-8s notify %8.1f  dispatch %7.1f  finish %8.1f  (release %8.1f) ns",
		     sd ? "kernel" : "daxlease", seg[sd][0], seg[sd][1], seg[sd][2], seg[sd][3]);

	struct jline j;
	j_begin(&j, "lease_break_rtt");
	j_num(&j, "daxlease_ns", med[0], 1);
	j_num(&j, "kernel_ns", med[1], 1);
	j_num(&j, "daxlease_min_ns", lo[0], 1);
	j_num(&j, "kernel_min_ns", lo[1], 1);
	j_num(&j, "daxlease_p90_ns", p90[0], 1);
	j_num(&j, "kernel_p90_ns", p90[1], 1);
	j_num(&j, "daxlease_nolease_ns", med[2], 1);
	j_num(&j, "kernel_nolease_ns", med[3], 1);
	j_num(&j, "pipe_rtt_ns", med[4], 1);
	j_num(&j, "pipe_rtt_min_ns", lo[4], 1);
	j_num(&j, "ratio", ratio, 3);
	j_num(&j, "daxlease_polled_ns", med[5], 1);
	j_num(&j, "daxlease_polled_min_ns", lo[5], 1);
	j_num(&j, "ratio_polled_kernel", ratio_poll, 3);
	j_num(&j, "ratio_sleeping_pipe", ratio_pipe, 3);
	j_str(&j, "target_polled", "<=0.1x the kernel's break (holder polls dxl_lease_poll)");
	j_str(&j, "target_sleeping", "<=1.0x a bare pipe ping-pong (holder asleep in poll)");
	j_bool(&j, "met_polled", ratio_poll <= 0.1 && !b->err[0]);
	j_bool(&j, "met_sleeping", ratio_pipe <= 1.0 && !b->err[0]);
	static const char *const segn[4] = {"notify", "dispatch", "finish", "release"};
	for (int sd = 0; sd < 2; sd++)
		for (int i = 0; i < 4; i++) {
			char k[48];
			if (sd == 1 && i == 1)
				continue; /* the kernel holder's wake is its signal */
			snprintf(k, sizeof(k), "%s_%s_ns", sd ? "kernel" : "daxlease", segn[i]);
			j_num(&j, k, seg[sd][i], 1);
		}
	j_str(&j, "daxlease_op", "dxl_ftruncate(f,0) of a 1-unit file, whole-file lease");
	j_str(&j, "kernel_op", "open(O_WRONLY|O_TRUNC) of a 4 KiB tmpfs file, F_RDLCK lease");
	j_u64(&j, "lease_break_ms", BREAK_MS);
	j_num(&j, "kernel_lease_break_time_s",
	      (double)read_long_file("/proc/sys/fs/lease-break-time"), 0);
	j_str(&j, "target", target);
	j_bool(&j, "met", ratio <= 0.5 && !b->err[0]);
	j_common(&j, b, (uint64_t)nrounds, nrounds);
	j_end(&j);
	goto out;
fail:
	fail_line(b, "lease_break_rtt", target);
out:
	holder_stop(&c.dh);
	holder_stop(&c.kh);
	if (c.f) {
		dxl_close(c.f);
		dxl_unlink(b->pool, dpath);
	}
	if (made_k)
		unlink(kpath);
	if (pipe_ignored)
		sigaction(SIGPIPE, &old_pipe, NULL);
	if (tuned && dxl_tune_lease_break(b->pool, old_break) < 0)
		note("could not restore the pool's lease-break time (%u ms): %s", old_break,
		     dxl_errmsg());
	for (int i = 0; i < NOPS; i++)
		free(v[i]);
	for (int i = 0; i < 4; i++) {
		free(c.seg[0][i]);
		free(c.seg[1][i]);
	}
	free(c.buf);
}

/* ============================================ figure: truncate_vs_pins */

#define TP_NSIZES 2
#define TP_NPINS 4

void fig_truncate_pins(struct bench *b)
{
	static const char *const target =
		"grows with pinned extents, not file size: t(large,P)/t(small,P) < 2 for "
		"every P, and t(S,max P) > t(S,0) for both sizes";
	if (!selected(b, "truncate_vs_pins", "lease"))
		return;
	b->err[0] = '\0';
	uint64_t unit = b->unit;
	uint64_t sizes[TP_NSIZES] = {b->o.quick ? 8 * MiB : 16 * MiB,
				     b->o.quick ? 64 * MiB : 256 * MiB};
	static const int pins_want[TP_NPINS] = {0, 16, 256, 1024};
	int pins[TP_NPINS], npins = 0;
	int rounds = b->o.rounds_set || b->o.quick ? b->o.rounds
						    : (3 * b->o.rounds > MAX_ROUNDS ? MAX_ROUNDS
										    : 3 * b->o.rounds);
	char path[128];
	dxl_file *f = NULL;
	dxl_pin **held = NULL;
	double (*ns)[TP_NPINS][MAX_ROUNDS] = NULL;
	struct dxl_statfs sf;
	int rc;

	/* Fit the large file in the pool; pins go on every other unit of the
	 * small file, so the largest count must fit in half of it. */
	memset(&sf, 0, sizeof(sf));
	if (dxl_statfs(b->pool, &sf) < 0) {
		set_err(b, "dxl_statfs: %s", dxl_errmsg());
		goto fail;
	}
	uint64_t room = sf.free_units * sf.unit;
	while (sizes[1] > 2 * sizes[0] && sizes[1] + 8 * MiB > room)
		sizes[1] /= 2;
	if (sizes[1] + 8 * MiB > room) {
		set_err(b, "the pool has %llu MiB free: too small for this figure",
			(unsigned long long)(room / MiB));
		goto fail;
	}
	for (int i = 0; i < TP_NPINS; i++)
		if ((uint64_t)pins_want[i] * 2 <= sizes[0] / unit)
			pins[npins++] = pins_want[i];
	note("truncate_vs_pins: dxl_ftruncate(f, 0) of a %llu and a %llu MiB allocated file "
	     "with 0..%d transient pins on every other unit; %d rounds",
	     (unsigned long long)(sizes[0] / MiB), (unsigned long long)(sizes[1] / MiB),
	     pins[npins - 1], rounds);

	if (!(held = calloc((size_t)pins[npins - 1] + 1, sizeof(*held))) ||
	    !(ns = calloc(TP_NSIZES, sizeof(*ns)))) {
		set_err(b, "out of memory");
		goto fail;
	}
	if ((rc = pool_file(b, "trunc", path, sizeof(path), &f)) < 0)
		goto fail;

	int ncells = TP_NSIZES * npins;
	/* Round -1 is a warm-up (and checks the quarantine once per cell). */
	for (int r = -1; r < rounds; r++) {
		for (int k = 0; k < ncells; k++) {
			int cell = (k + (r < 0 ? 0 : r)) % ncells;
			int si = cell / npins, pi = cell % npins, np = pins[pi];
			/* Rebuild, outside the timing: allocate, pin every other unit. */
			if (dxl_fallocate(f, 0, 0, sizes[si]) < 0) {
				set_err(b, "dxl_fallocate(%llu): %s",
					(unsigned long long)sizes[si], dxl_errmsg());
				goto fail;
			}
			int got = 0;
			for (; got < np; got++)
				if (dxl_pin_range(f, 2 * (uint64_t)got * unit, unit, 0, NULL,
						  &held[got]) < 0) {
					set_err(b, "dxl_pin_range (pin %d of %d): %s", got + 1, np,
						dxl_errmsg());
					break;
				}
			/* Every cell, pins or not, then touches the file's metadata
			 * the same way (a pin + unpin of its last unit): the
			 * rebuild's cache-line flushes evict it on CPUs where
			 * CLWB invalidates, and only the pinned cells would
			 * otherwise find it back in the cache. */
			dxl_pin *warm_pin;
			if (got == np &&
			    dxl_pin_range(f, sizes[si] - unit, unit, 0, NULL, &warm_pin) == 0)
				dxl_unpin(warm_pin);
			uint64_t t0 = now_ns();
			rc = got == np ? dxl_ftruncate(f, 0) : -EIO;
			uint64_t t = now_ns() - t0;
			if (rc < 0 && got == np)
				set_err(b, "dxl_ftruncate(0): %s", dxl_errmsg());
			if (rc == 0 && r < 0) {
				struct dxl_statfs q;
				memset(&q, 0, sizeof(q));
				if (dxl_statfs(b->pool, &q) == 0 &&
				    q.quarantined_units != (uint64_t)np)
					set_err(b, "after truncate with %d pins, %llu units in "
						   "quarantine (expected %d)",
						np, (unsigned long long)q.quarantined_units, np);
			}
			for (int i = 0; i < got; i++)
				dxl_unpin(held[i]);
			if (rc < 0)
				goto fail;
			if (r >= 0)
				ns[si][pi][r] = (double)t;
		}
	}

	double med[TP_NSIZES][TP_NPINS], mn[TP_NSIZES][TP_NPINS];
	for (int si = 0; si < TP_NSIZES; si++)
		for (int pi = 0; pi < npins; pi++) {
			med[si][pi] = median(ns[si][pi], rounds);
			mn[si][pi] = ns[si][pi][0];
			for (int r = 1; r < rounds; r++)
				mn[si][pi] = fmin(mn[si][pi], ns[si][pi][r]);
		}
	/* Size growth at each pin count; pin growth and least-squares slope
	 * (ns per pinned extent) at each size. */
	double size_growth[TP_NPINS], per_mib[TP_NPINS], pin_growth[TP_NSIZES], slope[TP_NSIZES];
	double max_size_growth = 0;
	bool grows_with_pins = true;
	for (int pi = 0; pi < npins; pi++) {
		size_growth[pi] = med[1][pi] / med[0][pi];
		per_mib[pi] = (med[1][pi] - med[0][pi]) / (double)((sizes[1] - sizes[0]) / MiB);
		max_size_growth = fmax(max_size_growth, size_growth[pi]);
	}
	for (int si = 0; si < TP_NSIZES; si++) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0;
		for (int pi = 0; pi < npins; pi++) {
			sx += pins[pi];
			sy += med[si][pi];
			sxx += (double)pins[pi] * pins[pi];
			sxy += pins[pi] * med[si][pi];
		}
		double d = npins * sxx - sx * sx;
		slope[si] = d > 0 ? (npins * sxy - sx * sy) / d : NAN;
		pin_growth[si] = med[si][npins - 1] / med[si][0];
		if (!(med[si][npins - 1] > med[si][0]))
			grows_with_pins = false;
	}
	for (int si = 0; si < TP_NSIZES; si++) {
		char row[256];
		int n = 0;
		for (int pi = 0; pi < npins; pi++)
			n += snprintf(row + n, sizeof(row) - (size_t)n, "  %5d pins %9.1f", pins[pi],
				      med[si][pi]);
		note("  %4llu MiB:%s ns  (%.2f ns/pin)", (unsigned long long)(sizes[si] / MiB),
		     row, slope[si]);
	}
	note("  %llu->%llu MiB growth at each pin count: max %.2fx (target < 2x); "
	     "%.1f ns per MiB at 0 pins",
	     (unsigned long long)(sizes[0] / MiB), (unsigned long long)(sizes[1] / MiB),
	     max_size_growth, per_mib[0]);

	struct jline j;
	double dsizes[TP_NSIZES] = {(double)(sizes[0] / MiB), (double)(sizes[1] / MiB)};
	double dpins[TP_NPINS];
	for (int pi = 0; pi < npins; pi++)
		dpins[pi] = pins[pi];
	j_begin(&j, "truncate_vs_pins");
	j_arr(&j, "sizes_mib", dsizes, TP_NSIZES, 0);
	j_arr(&j, "pins", dpins, npins, 0);
	for (int si = 0; si < TP_NSIZES; si++) {
		char k[32];
		snprintf(k, sizeof(k), "ns_%llum", (unsigned long long)(sizes[si] / MiB));
		j_arr(&j, k, med[si], npins, 1);
	}
	for (int si = 0; si < TP_NSIZES; si++) {
		char k[32];
		snprintf(k, sizeof(k), "min_ns_%llum", (unsigned long long)(sizes[si] / MiB));
		j_arr(&j, k, mn[si], npins, 1);
	}
	j_arr(&j, "size_growth", size_growth, npins, 3);
	j_arr(&j, "pin_growth", pin_growth, TP_NSIZES, 3);
	j_arr(&j, "ns_per_pin", slope, TP_NSIZES, 2);
	j_arr(&j, "ns_per_mib", per_mib, npins, 2);
	j_num(&j, "max_size_growth", max_size_growth, 3);
	j_u64(&j, "unit", unit);
	j_str(&j, "pinning", "transient pins on every other unit, 1 unit each");
	if (npins < TP_NPINS) {
		char nb[160];
		snprintf(nb, sizeof(nb), "pin counts above %d do not fit on every other %llu-byte "
			 "unit of the %llu MiB file", pins[npins - 1], (unsigned long long)unit,
			 (unsigned long long)(sizes[0] / MiB));
		j_str(&j, "note", nb);
	}
	j_str(&j, "target", target);
	j_bool(&j, "met", max_size_growth < 2.0 && grows_with_pins && !b->err[0]);
	j_common(&j, b, (uint64_t)rounds, rounds);
	j_end(&j);
	goto out;
fail:
	fail_line(b, "truncate_vs_pins", target);
out:
	if (f) {
		dxl_close(f);
		dxl_unlink(b->pool, path);
	}
	free(held);
	free(ns);
}
