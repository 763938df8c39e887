/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_basic: the single-holder rules of pins and layout leases
 * (issue 3, tests 2, 6 and 7).  The main process holds leases and
 * dispatches their events; an agent process (tests/lease_common.h) makes
 * the layout changes.
 *
 *  2. A long-term pin needs a lease that covers its range (-ENOLCK); a
 *     transient pin needs none; a lease with long-term pins cannot be
 *     released (-EBUSY) until they are dropped.  Pinned segments are the
 *     file's own storage.
 *  6. Range granularity: a lease on [0, 1 MiB) survives a punch of
 *     [2 MiB, 3 MiB), appends and hole fills (no event, still ACTIVE);
 *     a punch inside it by the holder's own process revokes it at once.
 *  7. Refusing leases: -EPERM where the pool does not allow them;
 *     -ETXTBSY for truncate / punch / unlink where it does, file
 *     unchanged.  Per-lease callbacks receive exactly their own breaks
 *     (and the default callback those of leases without one); an OWN_FD
 *     lease's event arrives on dxl_lease_fd(), not on the pool's fd.
 */
#include "lease_common.h"

/* 4 KiB units: the ranges below are laid out in MiB for them, so on a
 * device (2 MiB units) lt_mkfs skips this test */
#define U 4096ull
#define MiB (1024ull * 1024)

static dxl_pool *g_pool;
static struct lt_agent g_ag;

static dxl_file *open_rw(const char *path)
{
	dxl_file *f;
	CHECK_OK(dxl_open(g_pool, path, O_RDWR, 0, &f));
	return f;
}

/* Start an agent command, dispatch this process's events until it
 * replies; returns its rc. */
static long long call_dispatching(int cmd, int64_t a, int64_t b, int64_t c)
{
	lt_agent_send(&g_ag, cmd, a, b, c);
	int64_t end = lt_now_ns() + (int64_t)LT_BOUND_S * 1000000000;
	while (!lt_agent_ready(&g_ag, 0)) {
		if (lt_now_ns() > end)
			LT_FAIL("agent command %d never returned", cmd);
		dxl_event_wait(g_pool, 20);
	}
	return lt_agent_reply(&g_ag, NULL, NULL);
}

/* ------------------------------------------------------------- test 2 */

static void test_longterm_needs_lease(void)
{
	printf("test 2: long-term pins need a covering lease\n");
	lt_fill(g_pool, "/f1", 0, 16 * U, 1);
	lt_fill(g_pool, "/f2", 0, 4 * U, 2);
	dxl_file *f = open_rw("/f1"), *f2 = open_rw("/f2");
	dxl_pin *p = NULL, *tp = NULL, *p2 = NULL;

	CHECK_RC(dxl_pin_range(f, 0, 4 * U, DXL_PIN_LONGTERM, NULL, &p), -ENOLCK);
	CHECK(dxl_errmsg()[0] != '\0');

	dxl_lease *l, *lother, *lall;
	CHECK_OK(dxl_lease_take(f, 8 * U, 4 * U, 0, NULL, NULL, &l));
	CHECK_RC(dxl_lease_state(l), DXL_LEASE_ACTIVE);
	CHECK(dxl_lease_id(l) != 0);
	/* outside the lease, and only partly inside it */
	CHECK_RC(dxl_pin_range(f, 0, 4 * U, DXL_PIN_LONGTERM, l, &p), -ENOLCK);
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK_RC(dxl_pin_range(f, 6 * U, 4 * U, DXL_PIN_LONGTERM, l, &p), -ENOLCK);
	CHECK_RC(dxl_pin_range(f, 10 * U, 4 * U, DXL_PIN_LONGTERM, l, &p), -ENOLCK);
	/* a lease of another file covers nothing of this one */
	CHECK_OK(dxl_lease_take(f2, 0, 0, 0, NULL, NULL, &lother));
	/* (a lease handle of another file is a wrong argument: -EINVAL is as
	 * clear as -ENOLCK; what matters is the refusal) */
	{
		int rc = dxl_pin_range(f, 8 * U, 4 * U, DXL_PIN_LONGTERM, lother, &p);
		CHECK(rc == -ENOLCK || rc == -EINVAL);
		CHECK(dxl_errmsg()[0] != '\0');
	}
	CHECK_OK(dxl_lease_release(lother));

	/* covered: allowed, and the segments are the file's storage */
	CHECK_OK(dxl_pin_range(f, 8 * U, 4 * U, DXL_PIN_LONGTERM, l, &p));
	struct dxl_seg segs[8];
	int n = dxl_pin_segments(p, segs, 8);
	CHECK(n >= 1 && n <= 4);
	uint64_t o = 8 * U;
	for (int i = 0; i < n; i++) {
		CHECK(segs[i].addr != NULL && segs[i].len > 0);
		for (size_t j = 0; j < segs[i].len; j++)
			if (((uint8_t *)segs[i].addr)[j] != lt_pat(1, o + j))
				LT_FAIL("pinned segment %d byte %zu is not the file's data", i, j);
		o += segs[i].len;
	}
	CHECK(o == 12 * U);

	struct lt_count c = lt_list(g_pool, getpid(), lt_ino(g_pool, "/f1"));
	CHECK(c.leases == 1 && c.longterm_pins == 1 && c.revoked == 0);

	/* pins belong to their lease */
	CHECK_RC(dxl_lease_release(l), -EBUSY);
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK_RC(dxl_lease_state(l), DXL_LEASE_ACTIVE);

	/* a transient pin needs no lease */
	CHECK_OK(dxl_pin_range(f, 0, 4 * U, 0, NULL, &tp));
	n = dxl_pin_segments(tp, segs, 8);
	CHECK(n >= 1 && n <= 4);
	o = 0;
	for (int i = 0; i < n; i++) {
		for (size_t j = 0; j < segs[i].len; j++)
			if (((uint8_t *)segs[i].addr)[j] != lt_pat(1, o + j))
				LT_FAIL("transient pin segment %d byte %zu is not the file's data", i, j);
		o += segs[i].len;
	}
	CHECK(o == 4 * U);
	c = lt_list(g_pool, getpid(), lt_ino(g_pool, "/f1"));
	CHECK(c.pins == 2 && c.longterm_pins == 1);
	CHECK_OK(dxl_unpin(tp));

	/* a whole-file lease (len 0) covers everything, holes past EOF too */
	CHECK_OK(dxl_lease_take(f, 0, 0, 0, NULL, NULL, &lall));
	CHECK_OK(dxl_pin_range(f, 12 * U, 4 * U, DXL_PIN_LONGTERM, lall, &p2));
	CHECK_OK(dxl_unpin(p2));
	/* a hole inside EOF is allocated by the pin (pins stop at EOF) */
	CHECK_OK(dxl_ftruncate(f, 24 * U));
	CHECK_OK(dxl_pin_range(f, 20 * U, 4 * U, DXL_PIN_LONGTERM, lall, &p2));
	n = dxl_pin_segments(p2, segs, 8);
	CHECK(n >= 1);
	for (int i = 0; i < n && i < 8; i++)
		for (size_t j = 0; j < segs[i].len; j++)
			CHECK(((uint8_t *)segs[i].addr)[j] == 0); /* a fresh unit reads as zero */
	CHECK_OK(dxl_unpin(p2));
	{
		struct dxl_stat st;
		CHECK_OK(dxl_fstat(f, &st));
		CHECK(st.allocated >= 20 * U);
	}
	CHECK_OK(dxl_lease_release(lall));

	CHECK_OK(dxl_unpin(p));
	CHECK_OK(dxl_lease_release(l));
	c = lt_list(g_pool, getpid(), 0);
	CHECK(c.leases == 0 && c.pins == 0);
	/* nothing of it was changed */
	CHECK(lt_diff(g_pool, "/f1", 0, 16 * U, 1, 0) == 0);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_close(f2));
}

/* ------------------------------------------------------------- test 6 */

static void test_range_granularity(void)
{
	printf("test 6: a lease on [0, 1 MiB) survives a punch of [2 MiB, 3 MiB)\n");
	lt_fill(g_pool, "/f3", 0, 4 * MiB, 3);
	dxl_file *f = open_rw("/f3");
	struct lt_seen s1, s2;
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	dxl_lease *l1, *l2;
	CHECK_OK(dxl_lease_take(f, 0, 1 * MiB, 0, lt_seen_cb, &s1, &l1));

	CHECK_RC(lt_agent_call(&g_ag, AG_PUNCH, 3, 2 * MiB, 1 * MiB), 0);
	/* the breaker sends its events before it returns: none may be queued */
	CHECK(!lt_readable(dxl_event_fd(g_pool), 50));
	CHECK_RC(dxl_event_dispatch(g_pool), 0);
	CHECK(s1.breaks == 0 && s1.revokes == 0);
	CHECK_RC(dxl_lease_state(l1), DXL_LEASE_ACTIVE);
	CHECK(lt_diff(g_pool, "/f3", 2 * MiB, 1 * MiB, 0, 1) == 0);
	CHECK(lt_diff(g_pool, "/f3", 0, 2 * MiB, 3, 0) == 0);
	CHECK(lt_diff(g_pool, "/f3", 3 * MiB, 1 * MiB, 3, 0) == 0);

	/* allocating into a hole and appending break nothing, even under a
	 * whole-file lease */
	CHECK_OK(dxl_lease_take(f, 0, 0, 0, lt_seen_cb, &s2, &l2));
	CHECK_RC(lt_agent_call(&g_ag, AG_FILL, 3, 2 * MiB, 64 * 1024), 0);
	CHECK_RC(lt_agent_call(&g_ag, AG_FILL, 3, 4 * MiB, 64 * 1024), 0);
	/* truncate up is an append too */
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC, 3, 5 * MiB, 0), 0);
	CHECK(!lt_readable(dxl_event_fd(g_pool), 50));
	CHECK_RC(dxl_event_dispatch(g_pool), 0);
	CHECK(s1.breaks == 0 && s2.breaks == 0 && s1.revokes == 0 && s2.revokes == 0);
	CHECK_RC(dxl_lease_state(l1), DXL_LEASE_ACTIVE);
	CHECK_RC(dxl_lease_state(l2), DXL_LEASE_ACTIVE);
	CHECK(lt_size(g_pool, "/f3") == 5 * MiB);

	/* control: a punch inside the lease by the holder's own process (no
	 * event thread) revokes the overlapping leases at once */
	CHECK_OK(dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 512 * 1024, 256 * 1024));
	CHECK_RC(dxl_lease_state(l1), DXL_LEASE_REVOKED);
	CHECK_RC(dxl_lease_state(l2), DXL_LEASE_REVOKED);
	dxl_pin *p = NULL;
	CHECK_RC(dxl_pin_range(f, 0, U, DXL_PIN_LONGTERM, l1, &p), -ENOLCK);
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK(lt_diff(g_pool, "/f3", 512 * 1024, 256 * 1024, 0, 1) == 0);
	CHECK_OK(dxl_lease_release(l1));
	CHECK_OK(dxl_lease_release(l2));
	dxl_event_dispatch(g_pool); /* whatever the revocations queued */
	CHECK_OK(dxl_close(f));
}

/* Collapse and insert range move everything from their offset on: a
 * lease past the offset is broken (here: revoked at once, the holder
 * being this process without an event thread), one wholly before it is
 * not; the data moves as it should. */
static void test_shift_breaks(void)
{
	printf("test 6b: collapse and insert range break the leases from their offset on\n");
	for (int insert = 0; insert < 2; insert++) {
		lt_fill(g_pool, "/f3s", 0, 8 * U, 5);
		dxl_file *f = open_rw("/f3s");
		struct lt_seen sb, sa;
		dxl_lease *before, *after;
		memset(&sb, 0, sizeof(sb));
		memset(&sa, 0, sizeof(sa));
		CHECK_OK(dxl_lease_take(f, 0, 2 * U, 0, lt_seen_cb, &sb, &before));
		CHECK_OK(dxl_lease_take(f, 6 * U, U, 0, lt_seen_cb, &sa, &after));
		CHECK_OK(dxl_fallocate(f, insert ? FALLOC_FL_INSERT_RANGE : FALLOC_FL_COLLAPSE_RANGE,
				       3 * U, 2 * U));
		CHECK_RC(dxl_lease_state(before), DXL_LEASE_ACTIVE);
		CHECK_RC(dxl_lease_state(after), DXL_LEASE_REVOKED);
		CHECK(lt_size(g_pool, "/f3s") == (insert ? 10 : 6) * U);
		CHECK(lt_diff(g_pool, "/f3s", 0, 3 * U, 5, 0) == 0);
		if (insert) {
			CHECK(lt_diff(g_pool, "/f3s", 3 * U, 2 * U, 0, 1) == 0); /* the hole */
			/* what was at 3U..8U is at 5U..10U now */
			uint8_t b[U];
			CHECK_RC(dxl_pread(f, b, U, 7 * U), (long long)U);
			CHECK(b[0] == lt_pat(5, 5 * U) && b[U - 1] == lt_pat(5, 6 * U - 1));
		} else {
			uint8_t b[U];
			CHECK_RC(dxl_pread(f, b, U, 3 * U), (long long)U);
			CHECK(b[0] == lt_pat(5, 5 * U) && b[U - 1] == lt_pat(5, 6 * U - 1));
		}
		/* bad ranges change nothing */
		CHECK_RC(dxl_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, U + 1, U), -EINVAL);
		CHECK_RC(dxl_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 0, 64 * U), -EINVAL);
		CHECK_RC(dxl_fallocate(f, FALLOC_FL_INSERT_RANGE, 64 * U, U), -EINVAL);
		CHECK_RC(dxl_fallocate(f, FALLOC_FL_INSERT_RANGE | FALLOC_FL_KEEP_SIZE, 0, U), -EINVAL);
		CHECK(lt_size(g_pool, "/f3s") == (insert ? 10 : 6) * U);
		CHECK_OK(dxl_lease_release(before));
		CHECK_OK(dxl_lease_release(after));
		dxl_event_dispatch(g_pool);
		CHECK_OK(dxl_close(f));
		CHECK_OK(dxl_unlink(g_pool, "/f3s"));
	}
}

/* ------------------------------------------------------------- test 7 */

static void test_refusing(void)
{
	printf("test 7a: refusing leases: EPERM unless the pool allows, then ETXTBSY\n");
	struct dxl_statfs sf;
	CHECK_OK(dxl_statfs(g_pool, &sf));
	CHECK((sf.flags & DXL_MKFS_UNBREAKABLE) == 0);
	lt_fill(g_pool, "/f4", 0, 4 * MiB, 4);
	dxl_file *f = open_rw("/f4");
	dxl_lease *l = NULL;
	CHECK_RC(dxl_lease_take(f, 0, 0, DXL_LEASE_REFUSE, NULL, NULL, &l), -EPERM);
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK(lt_list(g_pool, getpid(), 0).leases == 0);

	CHECK_OK(dxl_tune_unbreakable(g_pool, 1));
	CHECK_OK(dxl_statfs(g_pool, &sf));
	CHECK((sf.flags & DXL_MKFS_UNBREAKABLE) != 0);
	CHECK_OK(dxl_lease_take(f, 0, 0, DXL_LEASE_REFUSE, NULL, NULL, &l));
	struct lt_count c = lt_list(g_pool, getpid(), 0);
	CHECK(c.leases == 1 && c.refusing == 1);

	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC, 4, 0, 0), -ETXTBSY);
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC, 4, 1 * MiB, 0), -ETXTBSY);
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC | AG_NB, 4, 0, 0), -ETXTBSY);
	CHECK_RC(lt_agent_call(&g_ag, AG_PUNCH, 4, 1 * MiB, 1 * MiB), -ETXTBSY);
	CHECK_RC(dxl_ftruncate(f, 0), -ETXTBSY); /* its own process too */
	CHECK(dxl_errmsg()[0] != '\0');
	CHECK(lt_size(g_pool, "/f4") == 4 * MiB);
	CHECK(lt_diff(g_pool, "/f4", 0, 4 * MiB, 4, 0) == 0);
	CHECK_RC(dxl_lease_state(l), DXL_LEASE_ACTIVE);
	/* appending is not a layout change */
	CHECK_RC(lt_agent_call(&g_ag, AG_FILL, 4, 4 * MiB, 64 * 1024), 0);
	CHECK_OK(dxl_lease_release(l));

	/* a refusing lease on [0, 1 MiB) does not refuse changes elsewhere */
	CHECK_OK(dxl_lease_take(f, 0, 1 * MiB, DXL_LEASE_REFUSE, NULL, NULL, &l));
	CHECK_RC(lt_agent_call(&g_ag, AG_PUNCH, 4, 2 * MiB, 1 * MiB), 0);
	CHECK_RC(lt_agent_call(&g_ag, AG_PUNCH, 4, 512 * 1024, 1 * MiB), -ETXTBSY);
	CHECK(lt_diff(g_pool, "/f4", 0, 2 * MiB, 4, 0) == 0);
	CHECK_OK(dxl_lease_release(l));
	/* released: the change goes through */
	CHECK_RC(lt_agent_call(&g_ag, AG_TRUNC, 4, 1 * MiB, 0), 0);
	CHECK(lt_size(g_pool, "/f4") == 1 * MiB);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_tune_unbreakable(g_pool, 0));
	CHECK_OK(dxl_statfs(g_pool, &sf));
	CHECK((sf.flags & DXL_MKFS_UNBREAKABLE) == 0);
}

static void test_per_lease_callbacks(void)
{
	printf("test 7b: each callback receives exactly its own lease's breaks\n");
	lt_fill(g_pool, "/f5", 0, 4 * MiB, 5);
	uint64_t ino = lt_ino(g_pool, "/f5");
	dxl_file *f = open_rw("/f5");
	struct lt_seen s1, s2, sd;
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(&sd, 0, sizeof(sd));
	s1.release_on_break = s2.release_on_break = sd.release_on_break = 1;
	s1.release_rc = s2.release_rc = sd.release_rc = 12345;
	dxl_event_set_default(g_pool, lt_seen_cb, &sd);
	dxl_lease *l1, *l2, *l0;
	CHECK_OK(dxl_lease_take(f, 0, 1 * MiB, 0, lt_seen_cb, &s1, &l1));
	CHECK_OK(dxl_lease_take(f, 2 * MiB, 1 * MiB, 0, lt_seen_cb, &s2, &l2));
	CHECK_OK(dxl_lease_take(f, 3 * MiB, 1 * MiB, 0, NULL, NULL, &l0));
	uint64_t id1 = dxl_lease_id(l1), id2 = dxl_lease_id(l2), id0 = dxl_lease_id(l0);
	CHECK(id1 && id2 && id0 && id1 != id2 && id1 != id0 && id2 != id0);

	/* break l2 only */
	CHECK_RC(call_dispatching(AG_PUNCH, 5, 2 * MiB + 4 * U, 4 * U), 0);
	CHECK(s2.breaks == 1 && s1.breaks == 0 && sd.breaks == 0);
	CHECK(s2.last.type == DXL_EV_BREAK && s2.last.lease_id == id2);
	CHECK(s2.last.lease == l2 && s2.calls_wrong_lease == 0);
	CHECK(s2.last.ino == ino);
	CHECK(s2.last.start <= 2 * MiB + 4 * U && s2.last.end >= 2 * MiB + 8 * U);
	CHECK(s2.last.breaker_pid == (int32_t)g_ag.pid);
	CHECK(s2.last.deadline_ns > 0);
	CHECK_RC(s2.state_at_break, DXL_LEASE_BREAKING);
	CHECK_RC(s2.release_rc, 0);
	CHECK_RC(dxl_lease_state(l1), DXL_LEASE_ACTIVE);
	CHECK_RC(dxl_lease_state(l0), DXL_LEASE_ACTIVE);

	/* a lease without a callback: the default one gets it */
	CHECK_RC(call_dispatching(AG_PUNCH, 5, 3 * MiB, 4 * U), 0);
	CHECK(sd.breaks == 1 && s1.breaks == 0 && s2.breaks == 1);
	CHECK(sd.last.lease_id == id0 && sd.last.lease == l0 && sd.calls_wrong_lease == 0);
	CHECK_RC(sd.release_rc, 0);
	CHECK_RC(dxl_lease_state(l1), DXL_LEASE_ACTIVE);

	/* and l1 */
	CHECK_RC(call_dispatching(AG_TRUNC, 5, 512 * 1024, 0), 0);
	CHECK(s1.breaks == 1 && s2.breaks == 1 && sd.breaks == 1);
	CHECK(s1.last.lease_id == id1 && s1.last.lease == l1);
	CHECK(s1.last.start <= 512 * 1024 && s1.last.end > 512 * 1024);
	CHECK_RC(s1.release_rc, 0);
	CHECK(s1.revokes == 0 && s2.revokes == 0 && sd.revokes == 0);
	CHECK(lt_size(g_pool, "/f5") == 512 * 1024);
	CHECK(lt_list(g_pool, getpid(), 0).leases == 0);
	dxl_event_set_default(g_pool, NULL, NULL);
	CHECK_OK(dxl_close(f));
}

static void test_own_fd(void)
{
	printf("test 7c: an OWN_FD lease gets its event on its own fd\n");
	lt_fill(g_pool, "/f6", 0, 1 * MiB, 6);
	dxl_file *f = open_rw("/f6");
	struct lt_seen s3, sd;
	memset(&s3, 0, sizeof(s3));
	memset(&sd, 0, sizeof(sd));
	s3.release_on_break = 1;
	s3.release_rc = 12345;
	dxl_event_set_default(g_pool, lt_seen_cb, &sd);
	dxl_lease *l3;
	CHECK_OK(dxl_lease_take(f, 0, 0, DXL_LEASE_OWN_FD, lt_seen_cb, &s3, &l3));
	int fd3 = dxl_lease_fd(l3), pfd = dxl_event_fd(g_pool);
	CHECK(fd3 >= 0 && pfd >= 0 && fd3 != pfd);
	CHECK(!lt_readable(fd3, 0));

	lt_agent_send(&g_ag, AG_TRUNC, 6, 64 * 1024, 0);
	if (!lt_readable(fd3, LT_BOUND_S * 1000))
		LT_FAIL("no event on the lease's own fd");
	CHECK(!lt_readable(pfd, 0)); /* it is not the pool fd's event */
	int64_t end = lt_now_ns() + (int64_t)LT_BOUND_S * 1000000000;
	while (s3.breaks == 0 && lt_now_ns() < end)
		CHECK(dxl_event_dispatch(g_pool) >= 0);
	CHECK(s3.breaks == 1 && sd.breaks == 0);
	CHECK(s3.last.lease == l3 && s3.last.lease_id != 0);
	CHECK_RC(s3.release_rc, 0);
	CHECK_RC(lt_agent_reply(&g_ag, NULL, NULL), 0);
	CHECK(lt_size(g_pool, "/f6") == 64 * 1024);
	dxl_event_set_default(g_pool, NULL, NULL);
	CHECK_OK(dxl_close(f));
}

/*
 * Unlink of the last link and rename over a file are breakers, but they
 * change a name first; the layout change is the freeing of the storage,
 * which waits for the last close.  Two readings are acceptable, and the
 * test accepts either (it prints which one it saw): (a) the call fails
 * with -ETXTBSY and the name stays; (b) the name goes, but the storage
 * under the refusing lease stays intact and the lease ACTIVE while it is
 * held, and is reclaimed once the lease is released and the file closed.
 */
static void refused_name_change(int cmd, int64_t a, int64_t b, const char *path, uint32_t seed)
{
	uint64_t ino = lt_ino(g_pool, path);
	dxl_file *f = open_rw(path);
	dxl_lease *l;
	CHECK_OK(dxl_lease_take(f, 0, 0, DXL_LEASE_REFUSE, NULL, NULL, &l));
	uint64_t free0 = lt_free_units(g_pool);
	long long rc = lt_agent_call(&g_ag, cmd, a, b, 0);
	const char *what = cmd == AG_UNLINK ? "unlink" : "rename over";
	if (rc == -ETXTBSY) {
		printf("  %s under a refusing lease: -ETXTBSY, the name stays\n", what);
		CHECK(lt_ino(g_pool, path) == ino);
		CHECK(lt_diff(g_pool, path, 0, 64 * 1024, seed, 0) == 0);
		CHECK_OK(dxl_lease_release(l));
		CHECK_OK(dxl_close(f));
		return;
	}
	if (rc != 0)
		LT_FAIL("%s under a refusing lease returned %lld", what, rc);
	printf("  %s under a refusing lease: done; the storage is kept until release\n", what);
	CHECK_RC(dxl_lease_state(l), DXL_LEASE_ACTIVE);
	uint8_t buf[64 * 1024];
	CHECK_RC(dxl_pread(f, buf, sizeof(buf), 0), (long long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != lt_pat(seed, i))
			LT_FAIL("%s: byte %zu of the leased file changed", what, i);
	dxl_pin *p;
	CHECK_OK(dxl_pin_range(f, 0, 4 * U, DXL_PIN_LONGTERM, l, &p));
	CHECK_OK(dxl_unpin(p));
	CHECK(lt_free_units(g_pool) <= free0);
	CHECK_OK(dxl_lease_release(l));
	CHECK_OK(dxl_close(f));
	/* nothing holds it now: its 16 units are reclaimed */
	CHECK(lt_free_units(g_pool) >= free0 + 16);
}

static void test_refusing_namespace(void)
{
	printf("test 7d: refusing leases against unlink of the last link and rename over\n");
	CHECK_OK(dxl_tune_unbreakable(g_pool, 1));
	lt_fill(g_pool, "/f7", 0, 64 * 1024, 7);
	lt_fill(g_pool, "/f8", 0, 64 * 1024, 8);
	lt_fill(g_pool, "/f9", 0, 64 * 1024, 9);
	refused_name_change(AG_UNLINK, 7, 0, "/f7", 7);
	refused_name_change(AG_RENAME, 9, 8, "/f8", 8);
	CHECK_OK(dxl_tune_unbreakable(g_pool, 0));
}

/* ------------------------------------------------------------- pin table */

/* The pin table holds 16384 pins: the next pin fails with ENOMEM and
 * takes nothing; a slot freed anywhere is the one the next pin takes, and
 * everything unpins cleanly (the first-free-slot index must not skip or
 * reuse a live slot). */
static void test_pin_table(void)
{
	enum { NP = 16384 };
	static dxl_pin *p[NP];
	dxl_pin *extra = NULL;

	printf("pin table: %d pins, one more, slots freed and taken again\n", NP);
	lt_fill(g_pool, "/pt", 0, (uint64_t)NP * U, 9);
	dxl_file *f = open_rw("/pt");
	for (int i = 0; i < NP; i++)
		CHECK_OK(dxl_pin_range(f, (uint64_t)i * U, U, 0, NULL, &p[i]));
	CHECK(lt_list(g_pool, 0, 0).pins == NP);
	CHECK_RC(dxl_pin_range(f, 0, U, 0, NULL, &extra), -ENOMEM);
	CHECK(strstr(dxl_errmsg(), "pin table full") != NULL);
	CHECK(lt_list(g_pool, 0, 0).pins == NP);
	/* free two in the middle and one at the start, take three again */
	int freed[3] = { 9000, 100, 0 };
	for (int k = 0; k < 3; k++)
		CHECK_OK(dxl_unpin(p[freed[k]]));
	for (int k = 0; k < 3; k++)
		CHECK_OK(dxl_pin_range(f, (uint64_t)freed[k] * U, U, 0, NULL, &p[freed[k]]));
	CHECK(lt_list(g_pool, 0, 0).pins == NP);
	CHECK_RC(dxl_pin_range(f, 0, U, 0, NULL, &extra), -ENOMEM);
	for (int i = 0; i < NP; i++)
		CHECK_OK(dxl_unpin(p[i]));
	CHECK(lt_list(g_pool, 0, 0).pins == 0);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_unlink(g_pool, "/pt"));
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	lt_init("lbasic");
	lt_watchdog(600);
	/* a long break time: cooperative holders must never be revoked */
	lt_mkfs(128 * MiB, U, 120000, 0);
	lt_agent_start(&g_ag, 0);
	g_pool = lt_open();

	test_longterm_needs_lease();
	test_range_granularity();
	test_shift_breaks();
	test_refusing();
	test_per_lease_callbacks();
	test_own_fd();
	test_pin_table();
	test_refusing_namespace(); /* last: it removes files when it fails */

	CHECK(lt_list(g_pool, 0, 0).leases == 0);
	CHECK(lt_list(g_pool, 0, 0).pins == 0);
	lt_agent_stop(&g_ag);
	CHECK_OK(dxl_pool_close(g_pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	printf("test_lease_basic: OK\n");
	return 0;
}
