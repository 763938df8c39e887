/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_fork: a pool handle across fork() (issue 7, item 2).
 *
 * The parent holds a DXL_MAP_DIRECT mapping (a lease and a long-term pin)
 * and a transient pin.  It forks:
 *  a. The child's calls on the inherited handles fail with a clear error
 *     (the pool, a file, the lease), and dxl_pool_close() on the inherited
 *     pool returns 0 and frees the child's memory only.
 *  b. After the child exited, the parent's lease and pins are still in
 *     the table, the runtime file is still there, and a process that opens
 *     the pool next is not a first opener: its truncate breaks the
 *     parent's lease (the parent's callback gets the break) instead of
 *     ignoring it.
 *  c. A child that opens the pool itself works normally, and its close
 *     leaves the parent's state alone.
 *  d. fsck is clean at the end.
 */
#include <dirent.h>

#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */

static dxl_pool *g_pool;
static int g_breaks;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_break(dxl_lease *l, const struct dxl_event *ev, void *arg)
{
	(void)l;
	(void)arg;
	if (ev->type != DXL_EV_BREAK)
		return;
	pthread_mutex_lock(&g_mu);
	g_breaks++;
	pthread_mutex_unlock(&g_mu);
}

static int runtime_files(void)
{
	DIR *d = opendir(lt_rt_dir);
	struct dirent *e;
	int n = 0;
	CHECK(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

struct inherited {
	dxl_file *f;
	dxl_lease *lease;
	dxl_pin *pin;
	dxl_mapping *m;
};

/* The child: every call on what it inherited must fail, clearly. */
static void child_inherited(void *arg)
{
	struct inherited *h = arg;
	struct dxl_stat st;
	struct dxl_statfs sf;
	dxl_file *g;
	int rc;

	rc = dxl_stat(g_pool, "/m", &st);
	if (rc >= 0)
		LT_FAIL("dxl_stat on an inherited pool handle worked in the child");
	if (!strstr(dxl_errmsg(), "fork"))
		LT_FAIL("unclear error for an inherited handle: \"%s\"", dxl_errmsg());
	if (dxl_statfs(g_pool, &sf) >= 0 || dxl_open(g_pool, "/m", O_RDWR, 0, &g) >= 0)
		LT_FAIL("statfs/open on an inherited pool handle worked in the child");
	uint8_t b;
	if (dxl_pread(h->f, &b, 1, 0) >= 0 || dxl_pwrite(h->f, &b, 1, 0) >= 0 ||
	    dxl_ftruncate(h->f, 0) >= 0)
		LT_FAIL("a call on an inherited file handle worked in the child");
	if (dxl_lease_state(h->lease) >= 0 || dxl_lease_release(h->lease) >= 0)
		LT_FAIL("a call on an inherited lease handle worked in the child");
	if (dxl_unpin(h->pin) >= 0)
		LT_FAIL("dxl_unpin of an inherited pin worked in the child");
	if (dxl_event_dispatch(g_pool) >= 0 || dxl_lease_list(g_pool, lt_count_cb, NULL) >= 0)
		LT_FAIL("event dispatch / lease list on an inherited pool worked in the child");
	/* closing frees the child's memory and touches nothing shared */
	CHECK_OK(dxl_pool_close(g_pool));
}

/* A child that opens the pool itself, does real work and closes. */
static void child_own(void *arg)
{
	(void)arg;
	dxl_pool *p = lt_open();
	dxl_file *f;
	CHECK_OK(dxl_open(p, "/other", O_RDWR | O_CREAT, 0644, &f));
	CHECK_RC(dxl_pwrite(f, "child", 5, 0), 5);
	dxl_pin *pin;
	CHECK_OK(dxl_pin_range(f, 0, U, 0, NULL, &pin));
	CHECK_OK(dxl_unpin(pin));
	CHECK_OK(dxl_close(f));
	struct lt_count c = lt_list(p, 0, 0);
	CHECK(c.leases >= 1 && c.pins >= 2); /* the parent's */
	CHECK_OK(dxl_pool_close(p));
}

/* The next opener truncates /m: it must break the parent's lease. */
static void child_truncate(void *arg)
{
	(void)arg;
	dxl_pool *p = lt_open();
	struct lt_count c = lt_list(p, 0, 0);
	if (c.leases < 1 || c.longterm_pins < 1)
		LT_FAIL("the next opener sees %d leases and %d long-term pins: the parent's are gone",
			c.leases, c.longterm_pins);
	CHECK_OK(dxl_truncate(p, "/m", 0));
	CHECK_OK(dxl_pool_close(p));
}

int main(void)
{
	lt_init("lfork");
	lt_watchdog(600);
	lt_mkfs(64ull << 20, U, 300, 0);
	g_pool = lt_open();
	lt_fill(g_pool, "/m", 0, 16 * U, 1);
	lt_fill(g_pool, "/t", 0, 4 * U, 2);

	struct inherited h;
	CHECK_OK(dxl_open(g_pool, "/m", O_RDWR, 0, &h.f));
	CHECK_OK(dxl_event_thread_start(g_pool));
	CHECK_OK(dxl_mmap(h.f, 0, 16 * U, PROT_READ | PROT_WRITE, DXL_MAP_DIRECT, on_break, NULL, &h.m));
	h.lease = dxl_mapping_lease(h.m);
	dxl_file *t;
	CHECK_OK(dxl_open(g_pool, "/t", O_RDWR, 0, &t));
	CHECK_OK(dxl_pin_range(t, 0, 4 * U, 0, NULL, &h.pin));
	struct lt_count before = lt_list(g_pool, getpid(), 0);
	CHECK(before.leases == 1 && before.pins == 2 && before.longterm_pins == 1);
	CHECK(runtime_files() == 1);

	printf("test 2a: calls on inherited handles fail in the child; its close frees only its memory\n");
	lt_wait_ok(lt_spawn(child_inherited, &h), "child with inherited handles");

	printf("test 2b: the parent's lease and pins survive the child\n");
	struct lt_count after = lt_list(g_pool, getpid(), 0);
	LT_SOFT(after.leases == 1 && after.pins == 2 && after.longterm_pins == 1,
		"after the child closed the inherited pool: %d leases, %d pins of the parent",
		after.leases, after.pins);
	LT_SOFT(runtime_files() == 1, "the runtime file is gone after the child's close");
	CHECK_RC(dxl_lease_state(h.lease), DXL_LEASE_ACTIVE);

	printf("test 2c: a child with its own open leaves the parent alone\n");
	lt_wait_ok(lt_spawn(child_own, NULL), "child with its own open");
	after = lt_list(g_pool, getpid(), 0);
	LT_SOFT(after.leases == 1 && after.pins == 2, "after a child's own close: %d leases, %d pins",
		after.leases, after.pins);

	printf("test 2b: the next opener's truncate breaks the parent's lease\n");
	uint8_t *a = dxl_mapping_addr(h.m);
	lt_wait_ok(lt_spawn(child_truncate, NULL), "truncating opener");
	pthread_mutex_lock(&g_mu);
	int breaks = g_breaks;
	pthread_mutex_unlock(&g_mu);
	LT_SOFT(breaks == 1, "the parent's callback saw %d breaks", breaks);
	LT_SOFT(dxl_lease_state(h.lease) == DXL_LEASE_REVOKED, "the lease was not revoked");
	(void)a;
	CHECK_OK(dxl_munmap(h.m));
	CHECK_OK(dxl_unpin(h.pin));
	CHECK_OK(dxl_close(t));
	CHECK_OK(dxl_close(h.f));
	CHECK_OK(dxl_pool_close(g_pool));

	printf("test 2d: fsck\n");
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	LT_SOFT(res.problems == 0, "fsck found %llu problems", (unsigned long long)res.problems);
	return lt_soft_done("test_lease_fork");
}
