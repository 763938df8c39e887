/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_revoke: revocation takes effect without the holder's help
 * (issue 7, item 6).  The main process holds a DXL_MAP_DIRECT mapping and
 * never calls into the library while it waits: no dispatch, no event
 * thread.  Another process breaks the lease.
 *
 *  6a. A blocking truncate revokes the lease at the deadline: the mapping
 *      must then fault, though the holder never dispatched.
 *  6b. A non-blocking truncate (EWOULDBLOCK) starts the break and never
 *      comes back: the mapping must still fault once the deadline passed,
 *      and the lease reads REVOKED; a later truncate goes through at once.
 *
 * Stores made before the revocation are the file's data until then; what
 * is stored after it faults.  Waits poll with a liveness bound only.
 */
#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */
#define POLL_S 30

static dxl_pool *g_pool;
static struct lt_agent g_ag;

/* Without calling the library: does the mapping fault within POLL_S? */
static int wait_fault(volatile uint8_t *p)
{
	int64_t end = lt_now_ns() + (int64_t)POLL_S * 1000000000;
	for (;;) {
		if (lt_probe(p, 1, NULL))
			return 1;
		if (lt_now_ns() > end)
			return 0;
		lt_sleep_ms(2);
	}
}

static dxl_mapping *map_direct(const char *path, dxl_file **f)
{
	dxl_mapping *m;
	lt_fill(g_pool, path, 0, 8 * U, 5);
	CHECK_OK(dxl_open(g_pool, path, O_RDWR, 0, f));
	CHECK_OK(dxl_mmap(*f, 0, 8 * U, PROT_READ | PROT_WRITE, DXL_MAP_DIRECT, NULL, NULL, &m));
	uint8_t *a = dxl_mapping_addr(m);
	CHECK(a[0] == lt_pat(5, 0));
	a[1] = 0x11;
	dxl_persist(g_pool, a, 2);
	return m;
}

int main(void)
{
	lt_init("lrevoke");
	lt_watchdog(600);
	lt_mkfs(64ull << 20, U, 200, 0);
	lt_agent_start(&g_ag, 0);
	g_pool = lt_open();
	dxl_file *f;

	printf("test 6a: a blocking breaker revokes; the mapping faults without the holder's help\n");
	dxl_mapping *m = map_direct("/f1", &f);
	uint8_t *a = dxl_mapping_addr(m);
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC, 1, 0, 0), 0);
	LT_SOFT(wait_fault(a), "a revoked DXL_MAP_DIRECT mapping is still writable %d s later", POLL_S);
	LT_SOFT(wait_fault(a + 7 * U), "the last page of the revoked mapping is still writable");
	CHECK_RC(dxl_lease_state(dxl_mapping_lease(m)), DXL_LEASE_REVOKED);
	CHECK_OK(dxl_munmap(m));
	CHECK_OK(dxl_close(f));

	printf("test 6b: a non-blocking breaker starts the break and leaves\n");
	m = map_direct("/f2", &f);
	a = dxl_mapping_addr(m);
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC | AG_NB, 2, 0, 0), -EWOULDBLOCK);
	LT_SOFT(wait_fault(a), "the mapping is still writable %d s after its deadline passed", POLL_S);
	CHECK_RC(dxl_lease_state(dxl_mapping_lease(m)), DXL_LEASE_REVOKED);
	/* the revoked lease no longer stands in the way */
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC | AG_NB, 2, 0, 0), 0);
	CHECK(lt_size(g_pool, "/f2") == 0);
	CHECK_OK(dxl_munmap(m));
	CHECK_OK(dxl_close(f));

	lt_agent_stop(&g_ag);
	CHECK_OK(dxl_pool_close(g_pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	return lt_soft_done("test_lease_revoke");
}
