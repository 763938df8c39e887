/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers of the lease tests (tests/test_lease_*.c): a pool in a
 * fresh memory-backed directory, forked helper processes that open the
 * pool themselves (a pool handle never crosses fork), pipe messages with
 * liveness bounds, and small checks over dxl_lease_list.
 *
 * Deadlines here are liveness bounds only (a hung test fails instead of
 * hanging); nothing asserts how long anything took.
 */
#ifndef DXL_LEASE_COMMON_H
#define DXL_LEASE_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"

/* Liveness bound for one wait on another process (seconds). */
#ifndef LT_BOUND_S
#define LT_BOUND_S 120
#endif

static char lt_dir[256], lt_pool_path[320], lt_rt_dir[320];
/* The tests' allocation unit: 4 KiB, or on a device (DXL_TEST_POOL) its
 * alignment, set by lt_init, so each test runs at the unit the device
 * takes. */
static uint64_t lt_unit = 4096;
static pid_t lt_owner;              /* the test's main process */
static pid_t lt_children[64];
static int lt_nchildren;

/* Report a failure with the calling process's pid (children fail too). */
#define LT_FAIL(...)                                                                \
	do {                                                                        \
		fprintf(stderr, "%s:%d: [pid %d] ", __FILE__, __LINE__, (int)getpid()); \
		fprintf(stderr, __VA_ARGS__);                                       \
		fprintf(stderr, " (last error: %s)\n", dxl_errmsg());               \
		exit(1);                                                            \
	} while (0)

/* A failed check that does not stop the test: the rest still runs, and
 * the test fails at the end (lt_soft_done). */
static int lt_soft_failures;
#define LT_SOFT(cond, ...)                                                          \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: [pid %d] FAILED (continuing): %s: ",  \
				__FILE__, __LINE__, (int)getpid(), #cond);          \
			fprintf(stderr, __VA_ARGS__);                               \
			fprintf(stderr, "\n");                                      \
			lt_soft_failures++;                                         \
		}                                                                   \
	} while (0)

static inline int lt_soft_done(const char *name)
{
	if (lt_soft_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, lt_soft_failures);
		return 1;
	}
	printf("%s: OK\n", name);
	return 0;
}

static inline int64_t lt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void lt_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static inline int lt_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static inline void lt_atexit(void)
{
	if (getpid() != lt_owner)
		return; /* a forked helper exiting: the main process cleans up */
	for (int i = 0; i < lt_nchildren; i++)
		if (lt_children[i] > 0)
			kill(lt_children[i], SIGKILL);
	for (int i = 0; i < lt_nchildren; i++)
		if (lt_children[i] > 0)
			waitpid(lt_children[i], NULL, 0);
	if (lt_dir[0]) {
		const char *keep = getenv("DXL_TEST_KEEP");
		if (keep && *keep)
			fprintf(stderr, "pool kept in %s\n", lt_dir);
		else
			nftw(lt_dir, lt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static inline void lt_alarm_handler(int sig)
{
	(void)sig;
	static const char msg[] = "lease test: liveness bound exceeded (a wait never ended)\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
	_exit(3);
}

/* Fail the calling process if it is still running after `seconds`. */
static inline void lt_watchdog(unsigned seconds)
{
	signal(SIGALRM, lt_alarm_handler);
	alarm(seconds);
}

/* A fresh directory for the pool and its runtime state: under
 * DXL_TEST_POOL if set (test_dir.h), else in /dev/shm when there is one
 * (memory-backed: no msync), else $TMPDIR or /tmp. */
static inline void lt_init(const char *name)
{
	const char *base = "/dev/shm";
	struct stat st;
	if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) {
		base = getenv("TMPDIR");
		if (!base || !*base)
			base = "/tmp";
	}
	base = dxl_test_scratch_dir(base);
	lt_owner = getpid();
	snprintf(lt_dir, sizeof(lt_dir), "%s/dxl-%s-XXXXXX", base, name);
	CHECK(mkdtemp(lt_dir) != NULL);
	if (dxl_test_device()) { /* the pool is the device; lt_mkfs checks the unit */
		snprintf(lt_pool_path, sizeof(lt_pool_path), "%s", dxl_test_device());
		lt_unit = dxl_test_unit(lt_unit);
	} else
		snprintf(lt_pool_path, sizeof(lt_pool_path), "%s/pool", lt_dir);
	snprintf(lt_rt_dir, sizeof(lt_rt_dir), "%s/rt", lt_dir);
	CHECK(mkdir(lt_rt_dir, 0700) == 0);
	setenv("DXL_RUNTIME_DIR", lt_rt_dir, 1);
	atexit(lt_atexit);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* mkfs a fresh pool at lt_pool_path (unit 4 KiB unless given).  On a
 * device the pool is all of it, and a unit below its alignment skips the
 * test (test_dir.h). */
static inline void lt_mkfs(uint64_t size, uint64_t unit, uint32_t break_ms, uint32_t flags)
{
	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.size = size;
	mo.unit = unit ? unit : 4096;
	if (dxl_test_device()) {
		if (mo.unit < dxl_test_device_align())
			dxl_test_skip_device("runs with a unit below the device's alignment");
		mo.size = 0;
	}
	mo.lease_break_ms = break_ms;
	mo.flags = flags | DXL_MKFS_FORCE;
	CHECK_OK(dxl_mkfs(lt_pool_path, &mo));
}

static inline dxl_pool *lt_open(void)
{
	dxl_pool *p = NULL;
	CHECK_OK(dxl_pool_open(lt_pool_path, 0, &p));
	return p;
}

/* ------------------------------------------------------------ processes */

/* Fork a helper running fn(arg); it exits 0 when fn returns.  The helper
 * dies with the main process.  Stdio is flushed first so no buffered
 * output is duplicated. */
static inline pid_t lt_spawn(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(2);
		lt_nchildren = 0;
		fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(0);
	}
	if (lt_nchildren < (int)(sizeof(lt_children) / sizeof(lt_children[0])))
		lt_children[lt_nchildren++] = pid;
	return pid;
}

static inline void lt_forget(pid_t pid)
{
	for (int i = 0; i < lt_nchildren; i++)
		if (lt_children[i] == pid)
			lt_children[i] = -1;
}

/* Wait for a helper (liveness bound: bound_s); returns its wait status. */
static inline int lt_wait_status(pid_t pid, int bound_s)
{
	int64_t end = lt_now_ns() + (int64_t)bound_s * 1000000000;
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		CHECK(r == 0);
		if (lt_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			lt_forget(pid);
			LT_FAIL("helper %d still running after %d s (killed)", (int)pid, bound_s);
		}
		lt_sleep_ms(2);
	}
	lt_forget(pid);
	return status;
}

/* Wait for a helper that must exit 0. */
static inline void lt_wait_ok(pid_t pid, const char *what)
{
	int st = lt_wait_status(pid, LT_BOUND_S);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			LT_FAIL("helper %d (%s) died of signal %d", (int)pid, what, WTERMSIG(st));
		LT_FAIL("helper %d (%s) failed, exit status %d", (int)pid, what, WEXITSTATUS(st));
	}
}

static inline void lt_kill9(pid_t pid)
{
	CHECK(kill(pid, SIGKILL) == 0);
	int st = lt_wait_status(pid, LT_BOUND_S);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* ---------------------------------------------------------------- pipes */

/* A two-way channel between the main process and one helper. */
struct lt_chan {
	int to_child[2];
	int to_parent[2];
};

static inline void lt_chan_init(struct lt_chan *c)
{
	CHECK(pipe(c->to_child) == 0);
	CHECK(pipe(c->to_parent) == 0);
}

/* After fork, each side closes the ends it does not use. */
static inline void lt_chan_child(struct lt_chan *c)
{
	close(c->to_child[1]);
	close(c->to_parent[0]);
}

static inline void lt_chan_parent(struct lt_chan *c)
{
	close(c->to_child[0]);
	close(c->to_parent[1]);
}

static inline void lt_chan_close_parent(struct lt_chan *c)
{
	close(c->to_child[1]);
	close(c->to_parent[0]);
}

/* Messages: a fixed-size record (command + two numbers). */
struct lt_msg {
	int32_t cmd;
	int32_t pad;
	int64_t a, b, c;
};

static inline void lt_put3(int fd, int32_t cmd, int64_t a, int64_t b, int64_t c)
{
	struct lt_msg m = {cmd, 0, a, b, c};
	ssize_t w = write(fd, &m, sizeof(m));
	if (w != (ssize_t)sizeof(m))
		LT_FAIL("pipe write: %zd (%s)", w, strerror(errno));
}

static inline void lt_put(int fd, int32_t cmd, int64_t a, int64_t b)
{
	lt_put3(fd, cmd, a, b, 0);
}

/* Read one message within the liveness bound; returns 0, or -1 at EOF
 * (the other side exited). */
static inline int lt_get_eof(int fd, struct lt_msg *m, int bound_s)
{
	int64_t end = lt_now_ns() + (int64_t)bound_s * 1000000000;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = (int)((end - lt_now_ns()) / 1000000);
		if (left <= 0)
			LT_FAIL("no message from the other process within %d s", bound_s);
		int r = poll(&p, 1, left > 1000 ? 1000 : left);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r >= 0);
		if (r == 0)
			continue;
		ssize_t n = read(fd, m, sizeof(*m));
		if (n == 0)
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(*m))
			LT_FAIL("pipe read: %zd (%s)", n, strerror(errno));
		return 0;
	}
}

static inline struct lt_msg lt_get(int fd)
{
	struct lt_msg m;
	if (lt_get_eof(fd, &m, LT_BOUND_S) < 0)
		LT_FAIL("the other process closed its pipe (it failed or exited)");
	return m;
}

/* Expect a given command; its first number is returned. */
static inline int64_t lt_expect(int fd, int32_t cmd)
{
	struct lt_msg m = lt_get(fd);
	if (m.cmd != cmd)
		LT_FAIL("expected message %d, got %d (%lld, %lld)", cmd, m.cmd, (long long)m.a,
			(long long)m.b);
	return m.a;
}

/* ----------------------------------------------------------- the pool */

/* Write len bytes of a pattern: byte at file offset o is lt_pat(seed, o). */
static inline uint8_t lt_pat(uint32_t seed, uint64_t o)
{
	uint64_t z = (o >> 3) * 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull;
	z ^= z >> 29;
	return (uint8_t)((z >> (8 * (o & 7))) | 1); /* never zero */
}

static inline void lt_fill(dxl_pool *pool, const char *path, uint64_t off, uint64_t len,
			   uint32_t seed)
{
	dxl_file *f;
	CHECK_OK(dxl_open(pool, path, O_RDWR | O_CREAT, 0644, &f));
	uint8_t *buf = malloc(len ? len : 1);
	CHECK(buf);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = lt_pat(seed, off + i);
	CHECK_RC(dxl_pwrite(f, buf, len, off), (long long)len);
	free(buf);
	CHECK_OK(dxl_close(f));
}

/* Number of bytes of [off, off+len) of path that differ from the pattern
 * (want_zero: from zero). */
static inline uint64_t lt_diff(dxl_pool *pool, const char *path, uint64_t off, uint64_t len,
			       uint32_t seed, int want_zero)
{
	dxl_file *f;
	CHECK_OK(dxl_open(pool, path, O_RDONLY, 0, &f));
	uint8_t *buf = malloc(len ? len : 1);
	CHECK(buf);
	CHECK_RC(dxl_pread(f, buf, len, off), (long long)len);
	uint64_t bad = 0;
	for (uint64_t i = 0; i < len; i++)
		bad += buf[i] != (want_zero ? 0 : lt_pat(seed, off + i));
	free(buf);
	CHECK_OK(dxl_close(f));
	return bad;
}

static inline uint64_t lt_size(dxl_pool *pool, const char *path)
{
	struct dxl_stat st;
	CHECK_OK(dxl_stat(pool, path, &st));
	return st.size;
}

static inline uint64_t lt_ino(dxl_pool *pool, const char *path)
{
	struct dxl_stat st;
	CHECK_OK(dxl_stat(pool, path, &st));
	return st.ino;
}

static inline uint64_t lt_free_units(dxl_pool *pool)
{
	struct dxl_statfs sf;
	CHECK_OK(dxl_statfs(pool, &sf));
	return sf.free_units;
}

/* -------------------------------------------------- the lease listing */

struct lt_count {
	int32_t pid;            /* count only this holder (0: everyone) */
	uint64_t ino;           /* and only this file (0: any) */
	int leases, refusing, pins, longterm_pins, revoked, breaking;
	uint64_t quarantined;
	int bad_ms_left;        /* breaking lease with ms_left < 0 */
};

static inline int lt_count_cb(void *arg, const struct dxl_lease_info *in)
{
	struct lt_count *c = arg;
	if (c->pid && in->pid != c->pid)
		return 0;
	if (c->ino && in->ino != c->ino)
		return 0;
	switch (in->kind) {
	case DXL_INFO_LEASE_REFUSE:
		c->refusing++;
		/* fall through */
	case DXL_INFO_LEASE:
		c->leases++;
		if (in->state == DXL_LEASE_REVOKED)
			c->revoked++;
		if (in->state == DXL_LEASE_BREAKING) {
			c->breaking++;
			if (in->ms_left < 0)
				c->bad_ms_left++;
		}
		break;
	case DXL_INFO_PIN_LONGTERM:
		c->longterm_pins++;
		/* fall through */
	case DXL_INFO_PIN:
		c->pins++;
		c->quarantined += in->quarantined;
		break;
	default:
		break;
	}
	return 0;
}

static inline struct lt_count lt_list(dxl_pool *pool, pid_t pid, uint64_t ino)
{
	struct lt_count c;
	memset(&c, 0, sizeof(c));
	c.pid = pid;
	c.ino = ino;
	CHECK_OK(dxl_lease_list(pool, lt_count_cb, &c));
	return c;
}

/* ------------------------------------------------------- event records */

/* What a callback saw: kept per lease (arg) by the tests. */
struct lt_seen {
	int breaks, revokes, other;
	struct dxl_event last;
	int state_at_break;     /* dxl_lease_state() inside the callback */
	int release_rc;         /* when the callback releases */
	int release_on_break;   /* release the lease from the callback */
	int calls_wrong_lease;  /* ev->lease differs from the callback's lease */
};

static inline void lt_seen_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	struct lt_seen *s = arg;
	s->last = *ev;
	if (ev->lease && ev->lease != lease)
		s->calls_wrong_lease++;
	if (ev->type == DXL_EV_BREAK) {
		s->breaks++;
		s->state_at_break = lease ? dxl_lease_state(lease) : -1;
		if (s->release_on_break && lease)
			s->release_rc = dxl_lease_release(lease);
	} else if (ev->type == DXL_EV_REVOKED) {
		s->revokes++;
	} else {
		s->other++;
	}
}

/* poll() one fd for input up to ms; 1 readable, 0 not. */
static inline int lt_readable(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	CHECK(r >= 0);
	return r > 0 && (p.revents & POLLIN);
}

/* ------------------------------------------------------------ the agent */

/*
 * An agent is a helper process that opens the pool itself and performs
 * layout changes (the breaker side) on request, so that the main process
 * can hold leases and dispatch events meanwhile.  Files are named by
 * number: n is "/f<n>".  Replies are (AG_DONE, rc, x, y).
 */
enum {
	AG_TRUNC = 1,   /* a=file b=size */
	AG_PUNCH,       /* a=file b=off c=len */
	AG_ZERO,        /* a=file b=off c=len (FALLOC_FL_ZERO_RANGE|KEEP_SIZE) */
	AG_UNLINK,      /* a=file */
	AG_RENAME,      /* a=src b=dst (over it) */
	AG_REFLINK,     /* a=src b=dst c=len, both at offset 0 */
	AG_WRITE,       /* a=file b=off c=len: pattern with seed 4242 */
	AG_LIST,        /* a=pid: reply rc=leases x=pins y=revoked */
	AG_FREE,        /* reply rc=0 x=free units */
	AG_FILL,        /* a=file b=off c=len: pattern with seed a */
	AG_FILL_UNTIL,  /* a=file b=max units c=seed: unit by unit from 0 until ENOSPC; x=units */
	AG_EXIT,
	AG_DONE = 100,
};
#define AG_NB 0x1000 /* or-ed into a command: open the file with O_NONBLOCK */

struct lt_agent {
	pid_t pid;
	struct lt_chan ch;
	int no_quarantine; /* set DXL_TEST_NO_QUARANTINE=1 before opening the pool */
};

static inline void lt_fname(char *buf, size_t n, int64_t num)
{
	snprintf(buf, n, "/f%lld", (long long)num);
}

static inline void lt_agent_main(void *arg)
{
	struct lt_agent *ag = arg;
	lt_chan_child(&ag->ch);
	if (ag->no_quarantine)
		setenv("DXL_TEST_NO_QUARANTINE", "1", 1);
	dxl_pool *pool = lt_open();
	for (;;) {
		struct lt_msg m;
		if (lt_get_eof(ag->ch.to_child[0], &m, 3600) < 0)
			break;
		int cmd = m.cmd & ~AG_NB;
		int fl = (m.cmd & AG_NB) ? O_NONBLOCK : 0;
		char p1[32], p2[32];
		lt_fname(p1, sizeof(p1), m.a);
		lt_fname(p2, sizeof(p2), m.b);
		long long rc = 0, x = 0, y = 0;
		dxl_file *f = NULL, *g = NULL;
		switch (cmd) {
		case AG_TRUNC:
			rc = dxl_open(pool, p1, O_RDWR | fl, 0, &f);
			if (!rc)
				rc = dxl_ftruncate(f, (uint64_t)m.b);
			break;
		case AG_PUNCH:
		case AG_ZERO:
			rc = dxl_open(pool, p1, O_RDWR | fl, 0, &f);
			if (!rc)
				rc = dxl_fallocate(f,
						   cmd == AG_PUNCH
							   ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
							   : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						   (uint64_t)m.b, (uint64_t)m.c);
			break;
		case AG_UNLINK:
			rc = dxl_unlink(pool, p1);
			break;
		case AG_RENAME:
			rc = dxl_rename(pool, p1, p2, 0);
			break;
		case AG_REFLINK:
			rc = dxl_open(pool, p1, O_RDONLY, 0, &g);
			if (!rc)
				rc = dxl_open(pool, p2, O_RDWR | O_CREAT | fl, 0644, &f);
			if (!rc)
				rc = dxl_reflink(g, 0, f, 0, (uint64_t)m.c);
			break;
		case AG_WRITE:
		case AG_FILL: {
			uint8_t *buf = malloc((size_t)m.c + 1);
			CHECK(buf);
			for (int64_t i = 0; i < m.c; i++)
				buf[i] = lt_pat(cmd == AG_WRITE ? 4242 : (uint32_t)m.a,
						(uint64_t)(m.b + i));
			rc = dxl_open(pool, p1, O_RDWR | O_CREAT | fl, 0644, &f);
			if (!rc) {
				rc = dxl_pwrite(f, buf, (size_t)m.c, (uint64_t)m.b);
				if (rc == m.c)
					rc = 0;
			}
			free(buf);
			break;
		}
		case AG_FILL_UNTIL: {
			uint64_t unit = 0;
			struct dxl_statfs sf;
			CHECK_OK(dxl_statfs(pool, &sf));
			unit = sf.unit;
			uint8_t *buf = malloc(unit);
			CHECK(buf);
			rc = dxl_open(pool, p1, O_RDWR | O_CREAT | O_TRUNC, 0644, &f);
			for (int64_t u = 0; !rc && u < m.b; u++) {
				for (uint64_t i = 0; i < unit; i++)
					buf[i] = lt_pat((uint32_t)m.c, (uint64_t)u * unit + i);
				long long w = dxl_pwrite(f, buf, unit, (uint64_t)u * unit);
				if (w == -ENOSPC)
					break;
				if (w != (long long)unit)
					rc = w < 0 ? w : -EIO;
				else
					x++;
			}
			free(buf);
			break;
		}
		case AG_LIST: {
			struct lt_count c = lt_list(pool, (pid_t)m.a, 0);
			rc = c.leases;
			x = c.pins;
			y = c.revoked;
			break;
		}
		case AG_FREE:
			x = (long long)lt_free_units(pool);
			break;
		case AG_EXIT:
			CHECK_OK(dxl_pool_close(pool));
			lt_put3(ag->ch.to_parent[1], AG_DONE, 0, 0, 0);
			return;
		default:
			LT_FAIL("agent: unknown command %d", m.cmd);
		}
		if (f)
			dxl_close(f);
		if (g)
			dxl_close(g);
		lt_put3(ag->ch.to_parent[1], AG_DONE, rc, x, y);
	}
	dxl_pool_close(pool);
}

static inline void lt_agent_start(struct lt_agent *ag, int no_quarantine)
{
	memset(ag, 0, sizeof(*ag));
	ag->no_quarantine = no_quarantine;
	lt_chan_init(&ag->ch);
	ag->pid = lt_spawn(lt_agent_main, ag);
	lt_chan_parent(&ag->ch);
}

static inline void lt_agent_send(struct lt_agent *ag, int cmd, int64_t a, int64_t b, int64_t c)
{
	lt_put3(ag->ch.to_child[1], cmd, a, b, c);
}

/* Wait for the agent's reply; returns rc (x, y optional). */
static inline long long lt_agent_reply(struct lt_agent *ag, int64_t *x, int64_t *y)
{
	struct lt_msg m = lt_get(ag->ch.to_parent[0]);
	if (m.cmd != AG_DONE)
		LT_FAIL("agent sent %d", m.cmd);
	if (x)
		*x = m.b;
	if (y)
		*y = m.c;
	return m.a;
}

/* Has the agent replied yet?  (non-blocking) */
static inline int lt_agent_ready(struct lt_agent *ag, int ms)
{
	return lt_readable(ag->ch.to_parent[0], ms);
}

static inline long long lt_agent_call(struct lt_agent *ag, int cmd, int64_t a, int64_t b, int64_t c)
{
	lt_agent_send(ag, cmd, a, b, c);
	return lt_agent_reply(ag, NULL, NULL);
}

static inline long long lt_agent_call_x(struct lt_agent *ag, int cmd, int64_t a, int64_t b,
					int64_t c, int64_t *x)
{
	lt_agent_send(ag, cmd, a, b, c);
	return lt_agent_reply(ag, x, NULL);
}

static inline void lt_agent_stop(struct lt_agent *ag)
{
	lt_agent_send(ag, AG_EXIT, 0, 0, 0);
	lt_agent_reply(ag, NULL, NULL);
	lt_wait_ok(ag->pid, "agent");
	lt_chan_close_parent(&ag->ch);
}

/* ------------------------------------------------ faults in a probe child */

/* Would a read (or a write, when wr) of addr fault?  Returns 0 when the
 * access works (and, for reads, *val the byte), else SIGSEGV.  The kernel
 * copies to or from addr for us (write(2) from it, read(2) into it) and
 * answers EFAULT exactly where a user access would fault — with no signal
 * to catch, which a sanitizer's own SIGSEGV handler would get first. */
static inline int lt_probe(volatile uint8_t *addr, int wr, uint8_t *val)
{
	int pfd[2];
	uint8_t v = 0x5a;
	ssize_t n;

	CHECK(pipe(pfd) == 0);
	if (wr) {
		CHECK(write(pfd[1], &v, 1) == 1);
		n = read(pfd[0], (void *)addr, 1);
	} else {
		n = write(pfd[1], (const void *)addr, 1);
		if (n == 1)
			CHECK(read(pfd[0], &v, 1) == 1);
	}
	int err = errno;
	close(pfd[0]);
	close(pfd[1]);
	if (n < 0) {
		CHECK(err == EFAULT);
		return SIGSEGV;
	}
	CHECK(n == 1);
	if (val)
		*val = v;
	return 0;
}

#endif
