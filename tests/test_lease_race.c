/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_race: the corruption the design thread describes (issue 3,
 * test 1), and proof that the test can see it.
 *
 * Each round, in a pool kept nearly full (a filler leaves 2N free units):
 *   - the main process writes /f1 (N units);
 *   - process D1 takes a transient pin on the first half of /f1, and a
 *     thread of it starts a "DMA": it keeps storing 0xD1 through the
 *     pinned segments;
 *   - process D2 takes a lease and a long-term pin on the second half and
 *     keeps storing 0xD2 through it (an RDMA NIC: it never releases);
 *   - the main process truncates /f1 to 0 (D2's lease is revoked at the
 *     pool's lease-break time, 2 ms here);
 *   - process A allocates /f2 unit by unit until ENOSPC (so it would take
 *     every unit /f1 freed) and writes a pattern into it;
 *   - D1 and D2 make one more full DMA pass — after /f2 was written — then
 *     unpin (D2 checks its lease was revoked, dispatches its events and
 *     releases it);
 *   - the main process checks every byte of /f2.
 *
 * With quarantine (the product): no byte of /f2 is ever wrong, over
 * --rounds rounds (default 2000).  With DXL_TEST_NO_QUARANTINE=1 in the
 * allocating process (--nq-rounds, default 200, in a fresh pool): the
 * same race must corrupt /f2 — both outcomes are asserted.  Finally fsck
 * is clean and the filler intact in both runs.
 *
 *   test_lease_race [--rounds N] [--nq-rounds N] [--units N] [--unit BYTES]
 *
 * --unit: the allocation unit (4096 default; 2097152 is devdax's).
 */
#include "lease_common.h"

static uint64_t U = 4096;

static dxl_pool *g_pool;
static uint64_t g_n = 4; /* units of /f1 */

/* ============================================================ DMA process */

enum { DMA_PIN = 1, DMA_FINISH, DMA_EXIT, DMA_DONE = 100 };

struct dma {
	pid_t pid;
	struct lt_chan ch;
	int longterm;
	uint8_t byte;
};

struct dma_run {
	struct dxl_seg segs[64];
	int nsegs;
	uint8_t byte;
	int stop;
	uint64_t passes;
};

static void dma_pass(struct dma_run *r)
{
	uint64_t v = 0x0101010101010101ull * r->byte;
	for (int i = 0; i < r->nsegs; i++) {
		volatile uint64_t *p = r->segs[i].addr;
		for (size_t j = 0; j < r->segs[i].len / 8; j++)
			p[j] = v;
	}
	r->passes++;
}

static void *dma_thread(void *arg)
{
	struct dma_run *r = arg;
	for (;;) {
		/* read the flag first: a pass that starts after it was set
		 * starts after the allocating process finished */
		int stop = __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
		dma_pass(r);
		if (stop)
			break;
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void dma_main(void *arg)
{
	struct dma *d = arg;
	lt_chan_child(&d->ch);
	dxl_pool *pool = lt_open();
	dxl_file *f = NULL;
	dxl_lease *lease = NULL;
	dxl_pin *pin = NULL;
	struct dma_run run;
	pthread_t th;
	for (;;) {
		struct lt_msg m;
		if (lt_get_eof(d->ch.to_child[0], &m, 3600) < 0)
			break;
		long long rc = 0, x = 0;
		switch (m.cmd) {
		case DMA_PIN:
			CHECK_OK(dxl_open(pool, "/f1", O_RDWR, 0, &f));
			if (d->longterm) {
				CHECK_OK(dxl_lease_take(f, (uint64_t)m.a, (uint64_t)m.b, 0, NULL, NULL,
							&lease));
				CHECK_OK(dxl_pin_range(f, (uint64_t)m.a, (uint64_t)m.b, DXL_PIN_LONGTERM,
						       lease, &pin));
			} else {
				CHECK_OK(dxl_pin_range(f, (uint64_t)m.a, (uint64_t)m.b, 0, NULL, &pin));
			}
			memset(&run, 0, sizeof(run));
			run.byte = d->byte;
			run.nsegs = dxl_pin_segments(pin, run.segs, 64);
			CHECK(run.nsegs >= 1 && run.nsegs <= 64);
			CHECK(pthread_create(&th, NULL, dma_thread, &run) == 0);
			break;
		case DMA_FINISH:
			__atomic_store_n(&run.stop, 1, __ATOMIC_RELEASE);
			CHECK(pthread_join(th, NULL) == 0);
			x = (long long)run.passes;
			if (lease) {
				rc = dxl_lease_state(lease); /* reported: must be REVOKED */
				dxl_event_dispatch(pool);
			}
			CHECK_OK(dxl_unpin(pin));
			pin = NULL;
			if (lease) {
				CHECK_OK(dxl_lease_release(lease));
				lease = NULL;
			}
			CHECK_OK(dxl_close(f));
			f = NULL;
			break;
		case DMA_EXIT:
			CHECK_OK(dxl_pool_close(pool));
			lt_put3(d->ch.to_parent[1], DMA_DONE, 0, 0, 0);
			return;
		default:
			LT_FAIL("dma: unknown command %d", m.cmd);
		}
		lt_put3(d->ch.to_parent[1], DMA_DONE, rc, x, 0);
	}
}

static void dma_start(struct dma *d, int longterm, uint8_t byte)
{
	memset(d, 0, sizeof(*d));
	d->longterm = longterm;
	d->byte = byte;
	lt_chan_init(&d->ch);
	d->pid = lt_spawn(dma_main, d);
	lt_chan_parent(&d->ch);
}

static long long dma_reply(struct dma *d, int64_t *x)
{
	struct lt_msg m = lt_get(d->ch.to_parent[0]);
	CHECK(m.cmd == DMA_DONE);
	if (x)
		*x = m.b;
	return m.a;
}

static void dma_stop(struct dma *d)
{
	lt_put(d->ch.to_child[1], DMA_EXIT, 0, 0);
	dma_reply(d, NULL);
	lt_wait_ok(d->pid, "dma");
	lt_chan_close_parent(&d->ch);
}

/* ============================================================ one run */

/* Returns the number of rounds whose /f2 had a wrong byte. */
static uint64_t run(int no_quarantine, uint64_t rounds)
{
	printf("%s: %" PRIu64 " rounds, quarantine %s\n", no_quarantine ? "test 1b" : "test 1a",
	       rounds, no_quarantine ? "DISABLED in the allocating process" : "on");
	lt_mkfs(U * 64 > (32ull << 20) ? U * 64 : (32ull << 20), U, 2, 0);
	struct dma d1, d2;
	struct lt_agent alloc;
	dma_start(&d1, 0, 0xd1);
	dma_start(&d2, 1, 0xd2);
	lt_agent_start(&alloc, no_quarantine);
	g_pool = lt_open();

	/* nearly full: /f1 plus 2N free units */
	lt_fill(g_pool, "/f1", 0, g_n * U, 1);
	uint64_t free0 = lt_free_units(g_pool);
	CHECK(free0 > 2 * g_n);
	uint64_t filler = free0 - 2 * g_n;
	{
		dxl_file *f;
		CHECK_OK(dxl_open(g_pool, "/f9", O_RDWR | O_CREAT, 0644, &f));
		uint8_t *buf = malloc(filler * U);
		CHECK(buf);
		for (uint64_t i = 0; i < filler * U; i++)
			buf[i] = lt_pat(9, i);
		CHECK_RC(dxl_pwrite(f, buf, filler * U, 0), (long long)(filler * U));
		free(buf);
		CHECK_OK(dxl_close(f));
	}
	CHECK(lt_free_units(g_pool) == 2 * g_n);

	uint64_t bad_rounds = 0, bad_bytes = 0, min_units = UINT64_MAX, max_units = 0;
	for (uint64_t r = 0; r < rounds; r++) {
		uint32_t seed = (uint32_t)(1000 + r);
		if (r)
			lt_fill(g_pool, "/f1", 0, g_n * U, seed);
		uint64_t half = g_n / 2 * U;
		lt_put(d1.ch.to_child[1], DMA_PIN, 0, (int64_t)half);
		lt_put(d2.ch.to_child[1], DMA_PIN, (int64_t)half, (int64_t)(g_n * U - half));
		CHECK_RC(dma_reply(&d1, NULL), 0);
		CHECK_RC(dma_reply(&d2, NULL), 0);

		CHECK_OK(dxl_truncate(g_pool, "/f1", 0));

		int64_t got = 0;
		CHECK_RC(lt_agent_call_x(&alloc, AG_FILL_UNTIL, 2, (int64_t)(3 * g_n), seed, &got), 0);
		CHECK(got >= 1);
		if ((uint64_t)got < min_units)
			min_units = (uint64_t)got;
		if ((uint64_t)got > max_units)
			max_units = (uint64_t)got;

		/* one more DMA pass each, after /f2 was written */
		int64_t p1 = 0, p2 = 0;
		lt_put(d1.ch.to_child[1], DMA_FINISH, 0, 0);
		lt_put(d2.ch.to_child[1], DMA_FINISH, 0, 0);
		CHECK_RC(dma_reply(&d1, &p1), 0);
		long long st = dma_reply(&d2, &p2);
		if (st != DXL_LEASE_REVOKED)
			LT_FAIL("round %" PRIu64 ": D2's lease is in state %lld after the truncate, not REVOKED",
				r, st);
		CHECK(p1 >= 1 && p2 >= 1);

		uint64_t bad = lt_diff(g_pool, "/f2", 0, (uint64_t)got * U, seed, 0);
		if (bad) {
			bad_rounds++;
			bad_bytes += bad;
			if (!no_quarantine)
				fprintf(stderr, "round %" PRIu64 ": %" PRIu64 " bytes of /f2 corrupted\n",
					r, bad);
		}
		CHECK_OK(dxl_unlink(g_pool, "/f2"));
		if (!no_quarantine && r % 500 == 499)
			printf("  %" PRIu64 " rounds\n", r + 1);
	}
	printf("  /f2 got %" PRIu64 "..%" PRIu64 " units; %" PRIu64 " rounds corrupted (%" PRIu64
	       " bytes)\n",
	       min_units, max_units, bad_rounds, bad_bytes);
	if (!no_quarantine) {
		/* the quarantined units were never handed out */
		CHECK(max_units <= 2 * g_n);
	}

	dma_stop(&d1);
	dma_stop(&d2);
	lt_agent_stop(&alloc);
	CHECK(lt_diff(g_pool, "/f9", 0, filler * U, 9, 0) == 0);
	CHECK(lt_list(g_pool, 0, 0).pins == 0);
	CHECK(lt_free_units(g_pool) == 3 * g_n);
	CHECK_OK(dxl_pool_close(g_pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	return bad_rounds;
}

int main(int argc, char **argv)
{
	uint64_t rounds = 2000, nq_rounds = 200;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--nq-rounds") && i + 1 < argc)
			nq_rounds = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--unit") && i + 1 < argc)
			U = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--units") && i + 1 < argc)
			g_n = strtoull(argv[++i], NULL, 0);
		else
			LT_FAIL("usage: test_lease_race [--rounds N] [--nq-rounds N] [--units N] [--unit BYTES]");
	}
	CHECK(g_n >= 2 && g_n <= 64);
	CHECK(U >= 4096 && (U & (U - 1)) == 0);
	lt_init("lrace");
	lt_watchdog(1800);

	uint64_t bad = run(0, rounds);
	if (bad)
		LT_FAIL("with quarantine, %" PRIu64 " of %" PRIu64 " rounds corrupted another file",
			bad, rounds);
	if (nq_rounds) {
		uint64_t nq_bad = run(1, nq_rounds);
		if (nq_bad == 0)
			LT_FAIL("without quarantine the race never corrupted /f2 in %" PRIu64
				" rounds: the test cannot see the bug it is meant to catch",
				nq_rounds);
	}
	printf("test_lease_race: OK\n");
	return 0;
}
