/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_misuse: stale handles and bad input (issue 7, item 4 and
 * "misuse and bad input").  Misuse in one process never reaches another
 * process's state, and bad arguments give a clear error, never a crash.
 *
 *  4.  A pins and unpins; B pins (and may get the same table slot); A's
 *      second dxl_unpin() on its old handle fails and B's pin stays.
 *  m1. A second dxl_unpin() of a released handle fails with EINVAL.
 *  m2. dxl_pin_segments(pin, NULL, n) returns the count and stores nothing.
 *  m3. dxl_mmap() with a length that wraps, dxl_lease_take() with a range
 *      that wraps: refused, with a message about the range.
 *  m4. dxl_event_wait() with a timeout below -1 is refused.
 *  m5. The application closes the event fd and the number is reused:
 *      dxl_pool_close() leaves the application's new fd open.
 *  m6. The lease listing names the file of a transient pin.
 */
#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */

static dxl_pool *g_pool;

enum { B_PIN = 1, B_CHECK, B_UNPIN, B_EXIT, B_DONE = 100 };
struct bproc {
	pid_t pid;
	struct lt_chan ch;
};

/* B: pins /b's first unit and keeps the pin until told. */
static void b_main(void *arg)
{
	struct bproc *b = arg;
	lt_chan_child(&b->ch);
	dxl_pool *pool = lt_open();
	dxl_file *f = NULL;
	dxl_pin *pin = NULL;
	for (;;) {
		struct lt_msg m = lt_get(b->ch.to_child[0]);
		long long rc = 0;
		switch (m.cmd) {
		case B_PIN:
			CHECK_OK(dxl_open(pool, "/b", O_RDWR, 0, &f));
			rc = dxl_pin_range(f, 0, U, 0, NULL, &pin);
			break;
		case B_CHECK: { /* is my pin still in the table? */
			struct lt_count c = lt_list(pool, getpid(), 0);
			rc = c.pins;
			break;
		}
		case B_UNPIN:
			rc = dxl_unpin(pin);
			CHECK_OK(dxl_close(f));
			break;
		case B_EXIT:
			CHECK_OK(dxl_pool_close(pool));
			lt_put(b->ch.to_parent[1], B_DONE, 0, 0);
			return;
		}
		lt_put(b->ch.to_parent[1], B_DONE, rc, 0);
	}
}

static long long b_call(struct bproc *b, int cmd)
{
	lt_put(b->ch.to_child[1], cmd, 0, 0);
	return lt_expect(b->ch.to_parent[0], B_DONE);
}

static void test_stale_pin(void)
{
	printf("test 4: a stale dxl_unpin never drops another process's pin\n");
	lt_fill(g_pool, "/a", 0, 4 * U, 1);
	lt_fill(g_pool, "/b", 0, 4 * U, 2);
	dxl_file *f;
	CHECK_OK(dxl_open(g_pool, "/a", O_RDWR, 0, &f));
	dxl_pin *p;
	CHECK_OK(dxl_pin_range(f, 0, U, 0, NULL, &p));
	CHECK_OK(dxl_unpin(p));
	/* B pins now: the slot A's pin had is free again */
	struct bproc b;
	lt_chan_init(&b.ch);
	b.pid = lt_spawn(b_main, &b);
	lt_chan_parent(&b.ch);
	CHECK_RC(b_call(&b, B_PIN), 0);
	CHECK_RC(b_call(&b, B_CHECK), 1);
	int rc = dxl_unpin(p); /* the stale handle */
	LT_SOFT(rc < 0, "a second dxl_unpin of the same handle returned %d", rc);
	LT_SOFT(b_call(&b, B_CHECK) == 1, "a stale dxl_unpin in one process dropped another's pin");
	struct lt_count c = lt_list(g_pool, 0, 0);
	LT_SOFT(c.pins == 1, "%d pins in the pool, expected B's one", c.pins);
	CHECK_RC(b_call(&b, B_UNPIN), 0);
	lt_put(b.ch.to_child[1], B_EXIT, 0, 0);
	lt_expect(b.ch.to_parent[0], B_DONE);
	lt_wait_ok(b.pid, "B");
	lt_chan_close_parent(&b.ch);

	printf("test m1: a second dxl_unpin of a released handle fails\n");
	CHECK_OK(dxl_pin_range(f, 0, U, 0, NULL, &p));
	CHECK_OK(dxl_unpin(p));
	LT_SOFT(dxl_unpin(p) == -EINVAL, "second unpin: %s", dxl_errmsg());

	printf("test m2: dxl_pin_segments with no array\n");
	CHECK_OK(dxl_pin_range(f, 0, 2 * U, 0, NULL, &p));
	LT_SOFT(dxl_pin_segments(p, NULL, 1) == 1, "dxl_pin_segments(pin, NULL, 1)");
	LT_SOFT(dxl_pin_segments(p, NULL, 0) == 1, "dxl_pin_segments(pin, NULL, 0)");
	struct dxl_seg s;
	LT_SOFT(dxl_pin_segments(p, &s, -1) == -EINVAL, "dxl_pin_segments(pin, segs, -1)");
	CHECK_OK(dxl_unpin(p));
	CHECK_OK(dxl_close(f));
}

static void test_ranges(void)
{
	printf("test m3: ranges that wrap are refused\n");
	dxl_file *f;
	dxl_mapping *m = NULL;
	dxl_lease *l = NULL;
	CHECK_OK(dxl_open(g_pool, "/a", O_RDWR, 0, &f));
	int rc = dxl_mmap(f, 0, SIZE_MAX, PROT_READ, 0, NULL, NULL, &m);
	LT_SOFT(rc == -EINVAL || rc == -EOVERFLOW, "dxl_mmap(f, 0, SIZE_MAX) returned %d", rc);
	if (rc == 0)
		dxl_munmap(m);
	rc = dxl_mmap(f, 4096, SIZE_MAX - 100, PROT_READ, 0, NULL, NULL, &m);
	LT_SOFT(rc == -EINVAL || rc == -EOVERFLOW, "dxl_mmap(f, 4096, SIZE_MAX-100) returned %d", rc);
	LT_SOFT(rc >= 0 || !strstr(dxl_errmsg(), "not a multiple"),
		"an overflowing mmap range is reported as: %s", dxl_errmsg());
	if (rc == 0)
		dxl_munmap(m);
	/* keeping a revoked mapping is a DIRECT mapping's option only */
	rc = dxl_mmap(f, 0, 4096, PROT_READ, DXL_MAP_KEEP_REVOKED, NULL, NULL, &m);
	LT_SOFT(rc == -EINVAL, "dxl_mmap(DXL_MAP_KEEP_REVOKED) without DXL_MAP_DIRECT returned %d", rc);
	if (rc == 0)
		dxl_munmap(m);
	rc = dxl_lease_take(f, 8192, UINT64_MAX - 4096, 0, NULL, NULL, &l);
	LT_SOFT(rc == -EINVAL || rc == -EOVERFLOW, "a lease range that wraps returned %d", rc);
	if (rc == 0)
		dxl_lease_release(l);
	/* len 0 is "to infinity", and a range that ends exactly at 2^64 is fine */
	CHECK_OK(dxl_lease_take(f, 0, 0, 0, NULL, NULL, &l));
	CHECK_OK(dxl_lease_release(l));
	CHECK_OK(dxl_lease_take(f, 4096, UINT64_MAX - 4096, 0, NULL, NULL, &l));
	CHECK_OK(dxl_lease_release(l));
	CHECK_OK(dxl_close(f));

	printf("test m4: dxl_event_wait with a timeout below -1\n");
	LT_SOFT(dxl_event_wait(g_pool, -2) == -EINVAL, "dxl_event_wait(pool, -2)");
}

static int g_path_ok, g_path_seen;
static int path_cb(void *arg, const struct dxl_lease_info *in)
{
	(void)arg;
	if (in->kind == DXL_INFO_PIN) {
		g_path_seen++;
		g_path_ok += strcmp(in->path, "/dir/pinned") == 0;
	}
	return 0;
}

static void test_listing_path(void)
{
	printf("test m6: the listing names a transient pin's file\n");
	CHECK_OK(dxl_mkdir(g_pool, "/dir", 0755));
	lt_fill(g_pool, "/dir/pinned", 0, 2 * U, 3);
	dxl_file *f;
	dxl_pin *p;
	CHECK_OK(dxl_open(g_pool, "/dir/pinned", O_RDWR, 0, &f));
	CHECK_OK(dxl_pin_range(f, 0, 2 * U, 0, NULL, &p));
	CHECK_OK(dxl_lease_list(g_pool, path_cb, NULL));
	LT_SOFT(g_path_seen == 1 && g_path_ok == 1, "transient pin listed without its path");
	CHECK_OK(dxl_unpin(p));
	CHECK_OK(dxl_close(f));
}

static void test_event_fd_reuse(void)
{
	printf("test m5: the application closed the event fd and the number was reused\n");
	dxl_pool *p = lt_open();
	int efd = dxl_event_fd(p);
	CHECK(efd >= 0);
	CHECK(close(efd) == 0);
	int mine = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(mine >= 0);
	if (mine != efd)
		printf("  (the fd number was not reused: %d, not %d)\n", mine, efd);
	CHECK_OK(dxl_pool_close(p));
	LT_SOFT(fcntl(mine, F_GETFD) >= 0, "dxl_pool_close closed the application's fd %d", mine);
	close(mine);
}

int main(void)
{
	lt_init("lmisuse");
	lt_watchdog(600);
	lt_mkfs(64ull << 20, U, 1000, 0);
	g_pool = lt_open();
	test_stale_pin();
	test_ranges();
	test_listing_path();
	test_event_fd_reuse();
	CHECK_OK(dxl_pool_close(g_pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	return lt_soft_done("test_lease_misuse");
}
