/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_fanout: many leases broken at once (issue 7, item 5).
 * Notification is lossless whatever the fan-out: P holder processes take
 * L leases each on one file, every holder cooperative (its event thread
 * releases each lease from the lease's callback).  One truncate breaks
 * them all.  Every lease must be told of its break and released; none may
 * be revoked.  The pool's lease-break time is long (60 s by default), so
 * a lost event shows as a revocation, not as a timing.
 *
 *   test_lease_fanout [--procs P] [--leases L] [--break-ms MS] [--own-fd]
 *
 * --own-fd takes every lease with DXL_LEASE_OWN_FD (its own socket).
 * A thousand sockets woken at once fill the breaker's send buffer (a
 * datagram is charged to its sender until read): those wakes must be
 * sent again, not taken for queued.
 */
#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */

static int opt_procs = 1, opt_leases = 20, opt_own_fd;
static uint32_t opt_break_ms = 60000;

struct hstat {
	int breaks, revokes, released, release_err;
};

struct holder {
	pid_t pid;
	struct lt_chan ch;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hstat g_st;

static void cb(dxl_lease *l, const struct dxl_event *ev, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	if (ev->type == DXL_EV_BREAK) {
		g_st.breaks++;
		if (l && dxl_lease_release(l) == 0)
			g_st.released++;
		else
			g_st.release_err++;
	} else if (ev->type == DXL_EV_REVOKED) {
		g_st.revokes++;
	}
	pthread_mutex_unlock(&g_mu);
}

static void holder_main(void *arg)
{
	struct holder *h = arg;
	lt_chan_child(&h->ch);
	dxl_pool *pool = lt_open();
	dxl_file *f;
	CHECK_OK(dxl_open(pool, "/f", O_RDWR, 0, &f));
	for (int i = 0; i < opt_leases; i++) {
		dxl_lease *l;
		/* overlapping ranges, all inside what the truncate removes */
		CHECK_OK(dxl_lease_take(f, (uint64_t)(i % 8) * U, U, opt_own_fd ? DXL_LEASE_OWN_FD : 0,
					cb, NULL, &l));
	}
	CHECK_OK(dxl_event_thread_start(pool));
	lt_put(h->ch.to_parent[1], 1, 0, 0);
	lt_expect(h->ch.to_child[0], 2); /* the truncate returned */
	pthread_mutex_lock(&g_mu);
	struct hstat s = g_st;
	pthread_mutex_unlock(&g_mu);
	lt_put3(h->ch.to_parent[1], 3, s.breaks, s.revokes, s.released);
	lt_expect(h->ch.to_child[0], 4);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(pool));
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			opt_procs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--leases") && i + 1 < argc)
			opt_leases = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--break-ms") && i + 1 < argc)
			opt_break_ms = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--own-fd"))
			opt_own_fd = 1;
		else {
			fprintf(stderr, "usage: %s [--procs P] [--leases L] [--break-ms MS] [--own-fd]\n",
				argv[0]);
			return 2;
		}
	}
	if (opt_procs < 1 || opt_procs > 200 || opt_leases < 1 || opt_leases > 4000 / opt_procs) {
		fprintf(stderr, "bad --procs / --leases\n");
		return 2;
	}
	lt_init("lfanout");
	lt_watchdog(900);
	lt_mkfs(64ull << 20, U, opt_break_ms, 0);
	dxl_pool *pool = lt_open();
	lt_fill(pool, "/f", 0, 8 * U, 1);
	printf("%d holder process(es) x %d leases, break time %u ms%s\n", opt_procs, opt_leases,
	       opt_break_ms, opt_own_fd ? ", own fds" : "");

	struct holder *hs = calloc((size_t)opt_procs, sizeof(*hs));
	CHECK(hs);
	for (int i = 0; i < opt_procs; i++) {
		lt_chan_init(&hs[i].ch);
		hs[i].pid = lt_spawn(holder_main, &hs[i]);
		lt_chan_parent(&hs[i].ch);
	}
	for (int i = 0; i < opt_procs; i++)
		lt_expect(hs[i].ch.to_parent[0], 1);
	struct lt_count c = lt_list(pool, 0, 0);
	CHECK(c.leases == opt_procs * opt_leases);

	int64_t t0 = lt_now_ns();
	CHECK_OK(dxl_truncate(pool, "/f", 0));
	int64_t t1 = lt_now_ns();
	/* for the reader only: nothing is asserted on time */
	printf("truncate returned after %.1f ms\n", (double)(t1 - t0) / 1e6);

	int breaks = 0, revokes = 0, released = 0;
	for (int i = 0; i < opt_procs; i++) {
		lt_put(hs[i].ch.to_child[1], 2, 0, 0);
		struct lt_msg m = lt_get(hs[i].ch.to_parent[0]);
		CHECK(m.cmd == 3);
		breaks += (int)m.a;
		revokes += (int)m.b;
		released += (int)m.c;
	}
	LT_SOFT(breaks == opt_procs * opt_leases, "%d of %d leases were told of the break", breaks,
		opt_procs * opt_leases);
	LT_SOFT(revokes == 0 && released == opt_procs * opt_leases,
		"%d leases revoked, %d released by their holders (of %d)", revokes, released,
		opt_procs * opt_leases);
	c = lt_list(pool, 0, 0);
	LT_SOFT(c.leases == 0, "%d leases left after the truncate", c.leases);
	for (int i = 0; i < opt_procs; i++) {
		lt_put(hs[i].ch.to_child[1], 4, 0, 0);
		lt_wait_ok(hs[i].pid, "holder");
		lt_chan_close_parent(&hs[i].ch);
	}
	free(hs);
	CHECK_OK(dxl_pool_close(pool));
	return lt_soft_done("test_lease_fanout");
}
