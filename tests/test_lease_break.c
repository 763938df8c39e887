/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_break: breaks across processes (issue 3, tests 3, 4 and 5).
 * Holders are helper processes driven over pipes; the main process is the
 * breaker.
 *
 *  3. A break reaches a holder in another process on its event fd (the
 *     holder polls it); a cooperative holder releases from its callback
 *     and the truncate completes, not revoked.  The same for every kind
 *     of breaker: punch, unlink of the last link, rename over the file,
 *     reflink over a range, a write that COWs a shared unit; and with the
 *     holder's event thread instead of its own poll loop.  A non-blocking
 *     breaker (O_NONBLOCK) gets -EWOULDBLOCK, the file unchanged, and the
 *     holder gets the event.
 *  4. An unresponsive holder (never dispatches) is revoked at the
 *     deadline; the truncate proceeds; the holder's next use fails clearly
 *     (REVOKED, -ENOLCK, a message); its units return to the allocator
 *     only after it unpins — even after it released the revoked lease.
 *  5. A holder killed with SIGKILL: its leases are revoked and pins
 *     dropped as soon as a lister, a breaker or the allocator finds it
 *     dead (the pool's break time is 10 minutes, so waiting for the
 *     deadline would trip the liveness bound).
 */
#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */

static dxl_pool *g_pool;

/* ============================================================ holder */

enum {
	H_LEASE = 1,  /* a=file b=off c=len: reply rc, x=slot */
	H_LEASE_SELF, /* the same, and the callback releases on BREAK */
	H_PIN_LT,     /* a=slot b=off c=len: long-term pin under the lease */
	H_PIN_T,      /* a=file b=off c=len: transient pin */
	H_WAIT_EVENT, /* poll the pool's event fd (bound), then dispatch; reply x=breaks y=revokes */
	H_DISPATCH,   /* dispatch now; reply rc, x=breaks y=revokes */
	H_STATE,      /* a=slot: reply dxl_lease_state */
	H_TRY_PIN,    /* a=slot: long-term pin of [0,U) under it: rc (unpinned if it worked), x=errmsg length */
	H_RELEASE,    /* a=slot */
	H_UNPIN_ALL,
	H_THREAD,     /* start the event thread */
	H_SEEN,       /* a=slot: reply rc=breaks x=revokes y=state at break */
	H_LAST_EV,    /* a=slot: reply rc=type x=lease id matches (1/0) y=breaker pid */
	H_CLOSE,      /* a=file: close the holder's handle on it (its leases stay) */
	H_READ,       /* a=file: read its first byte through the holder's handle: rc */
	H_EXIT,
	H_DONE = 100,
};

#define H_MAX 16
struct holder {
	pid_t pid;
	struct lt_chan ch;
};

struct hslot {
	dxl_lease *lease;
	int file;
	uint64_t id;
	struct lt_seen seen;
	int released; /* by its callback */
};

static struct hslot g_hs[H_MAX];
static int g_nhs;
static dxl_pin *g_hpins[64];
static int g_nhpins;
static pthread_mutex_t g_hmu = PTHREAD_MUTEX_INITIALIZER;

static void hold_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	struct hslot *s = arg;
	pthread_mutex_lock(&g_hmu);
	lt_seen_cb(lease, ev, &s->seen);
	if (ev->type == DXL_EV_BREAK && s->seen.release_on_break && s->seen.release_rc == 0)
		s->released = 1;
	pthread_mutex_unlock(&g_hmu);
}

static void holder_main(void *arg)
{
	struct holder *h = arg;
	lt_chan_child(&h->ch);
	dxl_pool *pool = lt_open();
	dxl_file *files[64] = {0};
	for (;;) {
		struct lt_msg m;
		if (lt_get_eof(h->ch.to_child[0], &m, 3600) < 0)
			break;
		long long rc = 0, x = 0, y = 0;
		dxl_file *f = NULL;
		if (m.cmd == H_LEASE || m.cmd == H_LEASE_SELF || m.cmd == H_PIN_T) {
			CHECK(m.a >= 0 && m.a < 64);
			if (!files[m.a]) {
				char p[32];
				lt_fname(p, sizeof(p), m.a);
				CHECK_OK(dxl_open(pool, p, O_RDWR, 0, &files[m.a]));
			}
			f = files[m.a];
		}
		struct hslot *s = NULL;
		if (m.cmd == H_PIN_LT || m.cmd == H_STATE || m.cmd == H_TRY_PIN ||
		    m.cmd == H_RELEASE || m.cmd == H_SEEN || m.cmd == H_LAST_EV) {
			CHECK(m.a >= 0 && m.a < g_nhs);
			s = &g_hs[m.a];
		}
		switch (m.cmd) {
		case H_LEASE:
		case H_LEASE_SELF: {
			CHECK(g_nhs < H_MAX);
			struct hslot *n = &g_hs[g_nhs];
			memset(n, 0, sizeof(*n));
			n->file = (int)m.a;
			n->seen.release_on_break = m.cmd == H_LEASE_SELF;
			n->seen.release_rc = 12345;
			rc = dxl_lease_take(f, (uint64_t)m.b, (uint64_t)m.c, 0, hold_cb, n, &n->lease);
			if (!rc) {
				n->id = dxl_lease_id(n->lease);
				x = g_nhs++;
			}
			break;
		}
		case H_PIN_LT:
			CHECK(s->lease && !s->released && g_nhpins < 64);
			rc = dxl_pin_range(files[s->file], (uint64_t)m.b, (uint64_t)m.c, DXL_PIN_LONGTERM,
					   s->lease, &g_hpins[g_nhpins]);
			if (!rc)
				g_nhpins++;
			break;
		case H_PIN_T:
			CHECK(g_nhpins < 64);
			rc = dxl_pin_range(f, (uint64_t)m.b, (uint64_t)m.c, 0, NULL, &g_hpins[g_nhpins]);
			if (!rc)
				g_nhpins++;
			break;
		case H_WAIT_EVENT:
			if (!lt_readable(dxl_event_fd(pool), (int)m.a * 1000))
				LT_FAIL("holder: no event on the event fd within %lld s", (long long)m.a);
			rc = dxl_event_dispatch(pool);
			/* fall through */
		case H_DISPATCH:
			if (m.cmd == H_DISPATCH)
				rc = dxl_event_dispatch(pool);
			pthread_mutex_lock(&g_hmu);
			for (int i = 0; i < g_nhs; i++) {
				x += g_hs[i].seen.breaks;
				y += g_hs[i].seen.revokes;
			}
			pthread_mutex_unlock(&g_hmu);
			break;
		case H_STATE:
			CHECK(s->lease && !s->released);
			rc = dxl_lease_state(s->lease);
			break;
		case H_TRY_PIN: {
			dxl_pin *p = NULL;
			CHECK(s->lease && !s->released);
			rc = dxl_pin_range(files[s->file], 0, U, DXL_PIN_LONGTERM, s->lease, &p);
			x = (long long)strlen(dxl_errmsg());
			if (!rc)
				CHECK_OK(dxl_unpin(p));
			break;
		}
		case H_RELEASE:
			CHECK(s->lease && !s->released);
			rc = dxl_lease_release(s->lease);
			if (!rc)
				s->lease = NULL;
			break;
		case H_UNPIN_ALL:
			for (int i = 0; i < g_nhpins; i++) {
				long long r = dxl_unpin(g_hpins[i]);
				if (r && !rc)
					rc = r;
			}
			g_nhpins = 0;
			break;
		case H_THREAD:
			rc = dxl_event_thread_start(pool);
			break;
		case H_SEEN:
			pthread_mutex_lock(&g_hmu);
			rc = s->seen.breaks;
			x = s->seen.revokes;
			y = s->seen.state_at_break;
			pthread_mutex_unlock(&g_hmu);
			break;
		case H_LAST_EV:
			pthread_mutex_lock(&g_hmu);
			rc = s->seen.last.type;
			x = s->seen.last.lease_id == s->id && s->seen.calls_wrong_lease == 0 &&
			    (s->seen.release_on_break || s->seen.last.lease == s->lease);
			y = s->seen.last.breaker_pid;
			pthread_mutex_unlock(&g_hmu);
			break;
		case H_CLOSE:
			CHECK(m.a >= 0 && m.a < 64 && files[m.a]);
			rc = dxl_close(files[m.a]);
			files[m.a] = NULL;
			break;
		case H_READ: {
			uint8_t b = 0;
			CHECK(m.a >= 0 && m.a < 64 && files[m.a]);
			rc = dxl_pread(files[m.a], &b, 1, 0);
			x = b;
			break;
		}
		case H_EXIT:
			for (int i = 0; i < 64; i++)
				if (files[i])
					dxl_close(files[i]);
			CHECK_OK(dxl_pool_close(pool));
			lt_put3(h->ch.to_parent[1], H_DONE, 0, 0, 0);
			return;
		default:
			LT_FAIL("holder: unknown command %d", m.cmd);
		}
		lt_put3(h->ch.to_parent[1], H_DONE, rc, x, y);
	}
	dxl_pool_close(pool);
}

static void holder_start(struct holder *h)
{
	memset(h, 0, sizeof(*h));
	lt_chan_init(&h->ch);
	h->pid = lt_spawn(holder_main, h);
	lt_chan_parent(&h->ch);
}

static void h_send(struct holder *h, int cmd, int64_t a, int64_t b, int64_t c)
{
	lt_put3(h->ch.to_child[1], cmd, a, b, c);
}

static long long h_reply(struct holder *h, int64_t *x, int64_t *y)
{
	struct lt_msg m = lt_get(h->ch.to_parent[0]);
	if (m.cmd != H_DONE)
		LT_FAIL("holder sent %d", m.cmd);
	if (x)
		*x = m.b;
	if (y)
		*y = m.c;
	return m.a;
}

static long long h_call(struct holder *h, int cmd, int64_t a, int64_t b, int64_t c, int64_t *x,
			int64_t *y)
{
	h_send(h, cmd, a, b, c);
	return h_reply(h, x, y);
}

/* Take a lease in the holder; returns its slot. */
static int h_lease(struct holder *h, int cooperative, int file, uint64_t off, uint64_t len)
{
	int64_t slot;
	CHECK_RC(h_call(h, cooperative ? H_LEASE_SELF : H_LEASE, file, (int64_t)off, (int64_t)len,
			&slot, NULL),
		 0);
	return (int)slot;
}

static void holder_stop(struct holder *h)
{
	h_send(h, H_EXIT, 0, 0, 0);
	h_reply(h, NULL, NULL);
	lt_wait_ok(h->pid, "holder");
	lt_chan_close_parent(&h->ch);
}

static dxl_file *open_rw(const char *path, int flags)
{
	dxl_file *f;
	CHECK_OK(dxl_open(g_pool, path, O_RDWR | flags, 0, &f));
	return f;
}

static void expect_units_free(uint64_t want, const char *when)
{
	uint64_t got = lt_free_units(g_pool);
	if (got != want)
		LT_FAIL("%s: %" PRIu64 " free units, expected %" PRIu64, when, got, want);
}

/* Write n units of pattern to path at off; returns the rc of the write. */
static long long write_units(const char *path, uint64_t off, uint64_t n)
{
	dxl_file *f;
	CHECK_OK(dxl_open(g_pool, path, O_RDWR | O_CREAT, 0644, &f));
	uint8_t *buf = malloc(n * U);
	CHECK(buf);
	memset(buf, 0x77, n * U);
	long long rc = dxl_pwrite(f, buf, n * U, off);
	free(buf);
	CHECK_OK(dxl_close(f));
	return rc == (long long)(n * U) ? 0 : rc;
}

/* Leave exactly `left` free units by writing /filler. */
static void fill_pool(uint64_t left)
{
	uint64_t free0 = lt_free_units(g_pool);
	CHECK(free0 > left);
	CHECK_RC(write_units("/filler", 0, free0 - left), 0);
	expect_units_free(left, "after the filler");
}

/* ------------------------------------------------------------- test 3 */

static void test3_cooperative(void)
{
	printf("test 3a: a break reaches a holder in another process; it releases\n");
	struct holder h;
	holder_start(&h);
	lt_fill(g_pool, "/f1", 0, 16 * U, 11);
	int s = h_lease(&h, 1, 1, 0, 0);
	CHECK(lt_list(g_pool, h.pid, 0).leases == 1);
	h_send(&h, H_WAIT_EVENT, LT_BOUND_S, 0, 0); /* the holder polls its event fd */
	CHECK_OK(dxl_truncate(g_pool, "/f1", 4 * U));
	int64_t br, rv, x, y;
	CHECK(h_reply(&h, &br, &rv) >= 1);
	CHECK(br == 1 && rv == 0);
	CHECK_RC(h_call(&h, H_SEEN, s, 0, 0, &x, &y), 1);
	CHECK(x == 0);                    /* not revoked */
	CHECK_RC(y, DXL_LEASE_BREAKING);  /* state seen inside the callback */
	CHECK_RC(h_call(&h, H_LAST_EV, s, 0, 0, &x, &y), DXL_EV_BREAK);
	CHECK(x == 1);                    /* it named this lease */
	CHECK(y == getpid());             /* and the breaker */
	CHECK(lt_size(g_pool, "/f1") == 4 * U);
	CHECK(lt_diff(g_pool, "/f1", 0, 4 * U, 11, 0) == 0);
	CHECK(lt_list(g_pool, h.pid, 0).leases == 0);

	printf("test 3b: every kind of breaker reaches the holder\n");
	lt_fill(g_pool, "/f10", 0, 8 * U, 10);  /* punch */
	lt_fill(g_pool, "/f11", 0, 8 * U, 11);  /* unlink */
	lt_fill(g_pool, "/f12", 0, 8 * U, 12);  /* renamed over by f13 */
	lt_fill(g_pool, "/f13", 0, 8 * U, 13);
	lt_fill(g_pool, "/f14", 0, 8 * U, 14);  /* reflinked over from f15 */
	lt_fill(g_pool, "/f15", 0, 8 * U, 15);
	lt_fill(g_pool, "/f17", 0, 8 * U, 17);  /* shared into f16, then COW */
	{
		dxl_file *a = open_rw("/f17", 0), *b;
		CHECK_OK(dxl_open(g_pool, "/f16", O_RDWR | O_CREAT, 0644, &b));
		CHECK_OK(dxl_reflink(a, 0, b, 0, 8 * U));
		CHECK_OK(dxl_close(a));
		CHECK_OK(dxl_close(b));
	}
	/* unlink and rename over last: they leave the rest checked if they fail */
	static const char *what[] = {"punch", "reflink over", "COW write", "unlink", "rename over"};
	for (int k = 0; k < 5; k++) {
		static const int target[] = {10, 14, 16, 11, 12};
		s = h_lease(&h, 1, target[k], 0, 0);
		/* an unlinked file lives while a process has it open (no layout
		 * changes): the holder keeps only its lease (test 3e) */
		if (k >= 3)
			CHECK_RC(h_call(&h, H_CLOSE, target[k], 0, 0, NULL, NULL), 0);
		h_send(&h, H_WAIT_EVENT, 30, 0, 0);
		long long rc = 0;
		dxl_file *a, *b;
		uint8_t buf[4096];
		switch (k) {
		case 0:
			a = open_rw("/f10", 0);
			rc = dxl_fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, U, 2 * U);
			CHECK_OK(dxl_close(a));
			break;
		case 3:
			rc = dxl_unlink(g_pool, "/f11");
			break;
		case 4:
			rc = dxl_rename(g_pool, "/f13", "/f12", 0);
			break;
		case 1:
			a = open_rw("/f15", 0);
			b = open_rw("/f14", 0);
			rc = dxl_reflink(a, 0, b, 0, 4 * U);
			CHECK_OK(dxl_close(a));
			CHECK_OK(dxl_close(b));
			break;
		case 2:
			a = open_rw("/f16", 0);
			memset(buf, 0xc0, sizeof(buf));
			rc = dxl_pwrite(a, buf, sizeof(buf), 2 * U);
			rc = rc == (long long)sizeof(buf) ? 0 : rc;
			CHECK_OK(dxl_close(a));
			break;
		}
		if (rc != 0)
			LT_FAIL("%s under a lease returned %lld", what[k], rc);
		if (h_reply(&h, &br, &rv) < 1)
			LT_FAIL("%s: the holder dispatched nothing", what[k]);
		CHECK_RC(h_call(&h, H_SEEN, s, 0, 0, &x, &y), 1);
		if (x != 0)
			LT_FAIL("%s: a cooperative holder was revoked", what[k]);
		CHECK_RC(h_call(&h, H_LAST_EV, s, 0, 0, &x, &y), DXL_EV_BREAK);
		CHECK(x == 1);
	}
	CHECK(lt_diff(g_pool, "/f10", U, 2 * U, 0, 1) == 0);
	CHECK(lt_diff(g_pool, "/f12", 0, 8 * U, 13, 0) == 0);
	CHECK(lt_diff(g_pool, "/f14", 0, 4 * U, 15, 0) == 0);
	CHECK(lt_diff(g_pool, "/f14", 4 * U, 4 * U, 14, 0) == 0);
	CHECK(lt_diff(g_pool, "/f17", 0, 8 * U, 17, 0) == 0); /* the COW left the source alone */
	CHECK(lt_list(g_pool, h.pid, 0).leases == 0);

	printf("test 3e: unlink while another process has the file open breaks nothing\n");
	lt_fill(g_pool, "/f18", 0, 8 * U, 18);
	s = h_lease(&h, 1, 18, 0, 0);
	CHECK_OK(dxl_unlink(g_pool, "/f18"));
	CHECK_RC(h_call(&h, H_STATE, s, 0, 0, NULL, NULL), DXL_LEASE_ACTIVE);
	CHECK_RC(h_call(&h, H_READ, 18, 0, 0, &x, NULL), 1);
	CHECK(x == lt_pat(18, 0)); /* its data is still the file's */
	/* the holder's last close frees it: its own lease goes with it */
	CHECK_RC(h_call(&h, H_CLOSE, 18, 0, 0, NULL, NULL), 0);
	CHECK_RC(h_call(&h, H_RELEASE, s, 0, 0, NULL, NULL), 0);
	CHECK(lt_list(g_pool, h.pid, 0).leases == 0);

	printf("test 3c: the holder's event thread releases by itself\n");
	struct holder h2;
	holder_start(&h2);
	CHECK_RC(h_call(&h2, H_THREAD, 0, 0, 0, NULL, NULL), 0);
	lt_fill(g_pool, "/f2", 0, 8 * U, 2);
	s = h_lease(&h2, 1, 2, 0, 0);
	CHECK_OK(dxl_truncate(g_pool, "/f2", 0));
	CHECK_RC(h_call(&h2, H_SEEN, s, 0, 0, &x, &y), 1);
	CHECK(x == 0);
	CHECK(lt_size(g_pool, "/f2") == 0);
	CHECK(lt_list(g_pool, h2.pid, 0).leases == 0);
	holder_stop(&h2);

	printf("test 3d: a non-blocking breaker gets EWOULDBLOCK; the holder gets the event\n");
	lt_fill(g_pool, "/f3", 0, 8 * U, 3);
	s = h_lease(&h, 1, 3, 0, 0);
	dxl_file *nb = open_rw("/f3", O_NONBLOCK);
	CHECK_RC(dxl_ftruncate(nb, U), -EWOULDBLOCK);
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK_RC(dxl_fallocate(nb, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, U), -EWOULDBLOCK);
	CHECK(lt_size(g_pool, "/f3") == 8 * U);
	CHECK(lt_diff(g_pool, "/f3", 0, 8 * U, 3, 0) == 0);
	CHECK(h_call(&h, H_WAIT_EVENT, LT_BOUND_S, 0, 0, &br, &rv) >= 1);
	CHECK_RC(h_call(&h, H_SEEN, s, 0, 0, &x, &y), 1);
	CHECK(x == 0);
	/* released: the same non-blocking call goes through now */
	CHECK_OK(dxl_ftruncate(nb, U));
	CHECK(lt_size(g_pool, "/f3") == U);
	CHECK(lt_diff(g_pool, "/f3", 0, U, 3, 0) == 0);
	CHECK_OK(dxl_close(nb));
	holder_stop(&h);
}

/* ------------------------------------------------------------- test 4 */

static void test4_unresponsive(void)
{
	printf("test 4: an unresponsive holder is revoked at the deadline\n");
	CHECK_OK(dxl_tune_lease_break(g_pool, 300));
	struct holder h;
	holder_start(&h);
	lt_fill(g_pool, "/f40", 0, 8 * U, 40);
	int s = h_lease(&h, 0, 40, 0, 0);
	CHECK_RC(h_call(&h, H_PIN_LT, s, 0, 8 * U, NULL, NULL), 0);
	fill_pool(4);

	/* a non-blocking breaker starts the break: the lease shows it */
	dxl_file *nb = open_rw("/f40", O_NONBLOCK);
	CHECK_RC(dxl_ftruncate(nb, 0), -EWOULDBLOCK);
	CHECK_OK(dxl_close(nb));
	struct lt_count c = lt_list(g_pool, h.pid, 0);
	CHECK(c.leases == 1 && c.longterm_pins == 1);
	CHECK(c.breaking + c.revoked == 1 && c.bad_ms_left == 0);

	CHECK_OK(dxl_truncate(g_pool, "/f40", 0));
	CHECK(lt_size(g_pool, "/f40") == 0);
	c = lt_list(g_pool, h.pid, 0);
	CHECK(c.leases == 1 && c.revoked == 1 && c.longterm_pins == 1);
	CHECK(c.quarantined == 8);
	/* the 8 quarantined units are not the allocator's */
	expect_units_free(4, "with 8 units quarantined");
	CHECK_RC(write_units("/g40", 0, 4), 0);
	CHECK_RC(write_units("/g40", 4 * U, 1), -ENOSPC);

	/* the holder's next use fails clearly */
	int64_t x, y;
	CHECK_RC(h_call(&h, H_STATE, s, 0, 0, NULL, NULL), DXL_LEASE_REVOKED);
	CHECK_RC(h_call(&h, H_TRY_PIN, s, 0, 0, &x, NULL), -ENOLCK);
	CHECK(x > 0); /* dxl_errmsg() said why */
	int64_t br, rv;
	CHECK(h_call(&h, H_DISPATCH, 0, 0, 0, &br, &rv) >= 1);
	CHECK(br <= 1);
	CHECK(rv == 1); /* it is told it was revoked */
	CHECK_RC(h_call(&h, H_SEEN, s, 0, 0, &x, &y), br);

	/* a revoked lease can be released; its pins stay in quarantine */
	CHECK_RC(h_call(&h, H_RELEASE, s, 0, 0, NULL, NULL), 0);
	c = lt_list(g_pool, h.pid, 0);
	CHECK(c.pins == 1 && c.quarantined == 8);
	CHECK_RC(write_units("/g40", 4 * U, 1), -ENOSPC);
	expect_units_free(0, "after the release, still pinned");

	CHECK_RC(h_call(&h, H_UNPIN_ALL, 0, 0, 0, NULL, NULL), 0);
	expect_units_free(8, "after the unpin");
	CHECK(lt_list(g_pool, h.pid, 0).pins == 0);
	CHECK_RC(write_units("/g40", 4 * U, 8), 0);
	CHECK_RC(write_units("/g40", 12 * U, 1), -ENOSPC);
	holder_stop(&h);
	CHECK_OK(dxl_unlink(g_pool, "/g40"));
	CHECK_OK(dxl_unlink(g_pool, "/filler"));
}

/* ------------------------------------------------------------- test 5 */

static void test5_killed(void)
{
	printf("test 5: a SIGKILLed holder's leases and pins are reclaimed at once\n");
	/* Ten minutes: a breaker that waited for the deadline instead of
	 * noticing the dead holder would trip the liveness bound. */
	CHECK_OK(dxl_tune_lease_break(g_pool, 600000));
	int64_t x;

	/* a: a lister finds it dead */
	struct holder h;
	holder_start(&h);
	lt_fill(g_pool, "/f50", 0, 8 * U, 50);
	lt_fill(g_pool, "/f51", 0, 8 * U, 51);
	int s = h_lease(&h, 0, 50, 0, 0);
	CHECK_RC(h_call(&h, H_PIN_LT, s, 0, 8 * U, NULL, NULL), 0);
	CHECK_RC(h_call(&h, H_PIN_T, 51, 0, 4 * U, NULL, NULL), 0);
	struct lt_count c = lt_list(g_pool, h.pid, 0);
	/* a pin is listed per extent it covers: at least one of each kind */
	if (!(c.leases == 1 && c.longterm_pins >= 1 && c.pins > c.longterm_pins))
		LT_FAIL("holder lists %d leases, %d pins, %d long-term", c.leases, c.pins, c.longterm_pins);
	lt_kill9(h.pid);
	lt_chan_close_parent(&h.ch);
	c = lt_list(g_pool, h.pid, 0);
	if (c.leases || c.pins)
		LT_FAIL("a dead holder is still listed: %d leases, %d pins", c.leases, c.pins);
	uint64_t f0 = lt_free_units(g_pool);
	alarm(120);
	CHECK_OK(dxl_truncate(g_pool, "/f50", 0));
	CHECK_OK(dxl_truncate(g_pool, "/f51", 0));
	expect_units_free(f0 + 16, "after truncating the dead holder's files");

	/* b: a breaker finds it dead (nothing listed it before) */
	holder_start(&h);
	lt_fill(g_pool, "/f52", 0, 8 * U, 52);
	s = h_lease(&h, 0, 52, 0, 0);
	CHECK_RC(h_call(&h, H_PIN_LT, s, 0, 8 * U, NULL, NULL), 0);
	pid_t dead = h.pid;
	lt_kill9(h.pid);
	lt_chan_close_parent(&h.ch);
	f0 = lt_free_units(g_pool);
	CHECK_OK(dxl_truncate(g_pool, "/f52", 0));
	expect_units_free(f0 + 8, "after the breaker reclaimed the dead holder's pins");
	c = lt_list(g_pool, dead, 0);
	CHECK(c.leases == 0 && c.pins == 0);

	/* c: the allocator finds it dead: its quarantined units are needed */
	holder_start(&h);
	lt_fill(g_pool, "/f53", 0, 8 * U, 53);
	CHECK_RC(h_call(&h, H_PIN_T, 53, 0, 8 * U, NULL, NULL), 0);
	CHECK_OK(dxl_truncate(g_pool, "/f53", 0)); /* a transient pin: no break, quarantine */
	fill_pool(4);
	CHECK_RC(write_units("/g53", 0, 4), 0);
	CHECK_RC(write_units("/g53", 4 * U, 1), -ENOSPC); /* alive: still quarantined */
	dead = h.pid;
	lt_kill9(h.pid);
	lt_chan_close_parent(&h.ch);
	CHECK_RC(write_units("/g53", 4 * U, 8), 0);
	CHECK_RC(write_units("/g53", 12 * U, 1), -ENOSPC);
	c = lt_list(g_pool, dead, 0);
	CHECK(c.leases == 0 && c.pins == 0);
	alarm(0);
	lt_watchdog(900);
	CHECK_OK(dxl_unlink(g_pool, "/g53"));
	CHECK_OK(dxl_unlink(g_pool, "/filler"));
	(void)x;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	lt_init("lbreak");
	lt_watchdog(900);
	lt_mkfs(64ull << 20, U, 120000, 0);
	g_pool = lt_open();

	test3_cooperative();
	test4_unresponsive();
	test5_killed();

	struct lt_count c = lt_list(g_pool, 0, 0);
	CHECK(c.leases == 0 && c.pins == 0);
	CHECK_OK(dxl_pool_close(g_pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	printf("test_lease_break: OK\n");
	return 0;
}
