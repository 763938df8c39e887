/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lease_stress: many processes, random operations, pins, leases,
 * mappings and SIGKILLs (issue 3, test 9).
 *
 * W worker slots; slot s owns files /f<2s> and /f<2s+1> (a pair) and is
 * the only one that writes data into them — through dxl_pwrite, through a
 * transient pin ("DMA"), through a long-term pin under a lease, through a
 * plain mapping or a DXL_MAP_DIRECT mapping.  Any worker changes the
 * layout of any file: truncate (up and down), punch, and reflink within
 * its own pair (same offsets).  Workers run an event thread whose default
 * callback only notes breaks: holders are revoked at the deadline, and
 * writes through revoked or stale mappings fault (recovered with
 * siglongjmp).  The main process SIGKILLs random workers and starts new
 * incarnations of their slots.
 *
 * Checkable pattern: every data write stores 8-byte words that name their
 * slot and their own file offset, with a check value:
 *     word = 0xA5 << 56 | slot << 48 | seq16 << 32 | h(slot, offset, seq16)
 * A word is stored with one 8-byte store, so even a killed writer leaves
 * whole words.  At the end every 8-byte word of every file must be zero
 * (hole, punched, truncated, lost in quarantine) or a valid word of the
 * file's own slot at its own offset: a unit handed to another file while
 * something still wrote to it shows up as a word of the wrong slot or
 * offset.  Then each slot writes a final "seal" (seq 0xffff) over the
 * first 8 units of its first file, and those must read back exactly.
 * The pool must pass fsck, list no lease or pin, and account for every
 * unit (allocated + free = data units: nothing leaked in quarantine).
 *
 *   test_lease_stress [--seconds S] [--workers W] [--seed N] [--kill-ms MS] [--no-mmap]
 *
 * --no-mmap leaves mappings out (to tell a mapping bug from others).
 */
#include <execinfo.h>
#include <setjmp.h>

#include "lease_common.h"

#define U lt_unit /* 4096, or the device's alignment (lease_common.h) */
#define MAXU 48 /* max file size in units */
#define MAXW 8

static int opt_workers = 4;
static int opt_seconds = 20;
static int opt_kill_ms = 300;
static uint64_t opt_seed = 1;
static int opt_no_mmap; /* diagnosis only: leave mappings out */

struct shared {
	int stop;                  /* 1: quiesce, 2: seal and exit */
	int quiet[MAXW];
	int sealed[MAXW];
	uint64_t ops[MAXW];
	uint64_t faults[MAXW], revoked[MAXW], enospc[MAXW];
};
static struct shared *g_sh;

/* ------------------------------------------------------------ pattern */

static uint32_t word_check(uint32_t slot, uint64_t off, uint32_t seq)
{
	uint64_t z = off * 0x9e3779b97f4a7c15ull ^ ((uint64_t)slot << 40) ^ ((uint64_t)seq << 20);
	z ^= z >> 31;
	z *= 0xbf58476d1ce4e5b9ull;
	z ^= z >> 29;
	return (uint32_t)z;
}

static uint64_t word_make(uint32_t slot, uint64_t off, uint32_t seq)
{
	return 0xA5ull << 56 | (uint64_t)slot << 48 | (uint64_t)(seq & 0xffff) << 32 |
	       word_check(slot, off, seq & 0xffff);
}

/* 0 = fine; 1 = a word that does not belong there */
static int word_bad(uint64_t w, uint32_t slot, uint64_t off)
{
	if (w == 0)
		return 0;
	uint32_t seq = (uint32_t)(w >> 32) & 0xffff;
	return w != word_make(slot, off, seq);
}

/* ------------------------------------------------------------ worker */

static uint64_t g_rng;
static int g_slot;
static uint32_t g_seq;
static dxl_pool *g_pool;
static __thread sigjmp_buf g_jmp;
static __thread volatile sig_atomic_t g_in_map; /* per thread: never jump across threads */

static uint64_t rnd(void)
{
	uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fault_handler(int sig)
{
	if (g_in_map)
		siglongjmp(g_jmp, sig);
	/* a fault outside a guarded store: say where, then die of it */
	void *bt[32];
	int n = backtrace(bt, 32);
	static const char msg[] = "worker: fault outside a mapping store; backtrace:\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
	backtrace_symbols_fd(bt, n, 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void default_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	(void)lease;
	(void)arg;
	if (ev->type == DXL_EV_REVOKED)
		__atomic_add_fetch(&g_sh->revoked[g_slot], 1, __ATOMIC_RELAXED);
}

static void fill_words(uint8_t *dst, uint64_t off, uint64_t len, uint32_t seq)
{
	volatile uint64_t *p = (volatile uint64_t *)dst;
	for (uint64_t i = 0; i < len / 8; i++)
		p[i] = word_make((uint32_t)g_slot, off + 8 * i, seq);
}

static void path_of(char *buf, size_t n, int file)
{
	snprintf(buf, n, "/f%d", file);
}

static int open_file(int file, dxl_file **f)
{
	char p[32];
	path_of(p, sizeof(p), file);
	return dxl_open(g_pool, p, O_RDWR | O_CREAT, 0644, f);
}

static uint64_t fsize(dxl_file *f)
{
	struct dxl_stat st;
	if (dxl_fstat(f, &st))
		return 0;
	return st.size;
}

/* A unit-aligned range [*off, *off+*len) inside the first MAXU units. */
static void pick_range(uint64_t *off, uint64_t *len, uint64_t max_units)
{
	uint64_t a = rnd_below(max_units), n = 1 + rnd_below(max_units - a < 8 ? max_units - a : 8);
	*off = a * U;
	*len = n * U;
}

/* Write through a pinned or mapped region, surviving faults. */
static void store_guarded(uint8_t *addr, uint64_t off, uint64_t len, uint32_t seq)
{
	if (sigsetjmp(g_jmp, 1) == 0) {
		g_in_map = 1;
		fill_words(addr, off, len, seq);
		g_in_map = 0;
	} else {
		g_in_map = 0;
		g_sh->faults[g_slot]++;
	}
}

static void one_op(void)
{
	int own = 2 * g_slot + (int)rnd_below(2);
	int any = (int)rnd_below(2 * (uint64_t)opt_workers);
	dxl_file *f = NULL, *g = NULL;
	uint64_t off, len;
	uint32_t seq = ++g_seq & 0x7fff;
	int rc;
	switch (rnd_below(12)) {
	case 0:
	case 1: { /* pwrite */
		if (open_file(own, &f))
			break;
		pick_range(&off, &len, MAXU);
		uint8_t *buf = malloc(len);
		CHECK(buf);
		fill_words(buf, off, len, seq);
		long long w = dxl_pwrite(f, buf, len, off);
		if (w == -ENOSPC)
			g_sh->enospc[g_slot]++;
		else if (w != (long long)len)
			LT_FAIL("pwrite returned %lld", w);
		free(buf);
		break;
	}
	case 2: { /* transient pin "DMA" */
		if (open_file(own, &f))
			break;
		uint64_t sz = fsize(f) / U;
		if (sz == 0)
			break;
		pick_range(&off, &len, sz);
		dxl_pin *p;
		rc = dxl_pin_range(f, off, len, 0, NULL, &p);
		if (rc == -ENOSPC || rc == -EINVAL) /* EOF moved (another process) */
			break;
		if (rc)
			LT_FAIL("transient pin: %d", rc);
		struct dxl_seg segs[16];
		int n = dxl_pin_segments(p, segs, 16);
		CHECK(n >= 1 && n <= 16);
		uint64_t o = off;
		for (int pass = 0; pass < 3; pass++) {
			o = off;
			for (int i = 0; i < n; i++) {
				fill_words(segs[i].addr, o, segs[i].len, seq);
				o += segs[i].len;
			}
		}
		CHECK(o == off + len);
		CHECK_OK(dxl_unpin(p));
		break;
	}
	case 3: { /* long-term pin under a lease (an RDMA registration) */
		if (open_file(own, &f))
			break;
		uint64_t sz = fsize(f) / U;
		if (sz == 0)
			break;
		pick_range(&off, &len, sz);
		dxl_lease *l;
		rc = dxl_lease_take(f, off, len, 0, NULL, NULL, &l);
		if (rc)
			LT_FAIL("lease: %d", rc);
		dxl_pin *p;
		rc = dxl_pin_range(f, off, len, DXL_PIN_LONGTERM, l, &p);
		if (rc == 0) {
			struct dxl_seg segs[16];
			int n = dxl_pin_segments(p, segs, 16);
			CHECK(n >= 1 && n <= 16);
			int passes = 1 + (int)rnd_below(20);
			for (int pass = 0; pass < passes; pass++) {
				uint64_t o = off;
				for (int i = 0; i < n; i++) {
					fill_words(segs[i].addr, o, segs[i].len, seq);
					o += segs[i].len;
				}
				if (dxl_lease_state(l) != DXL_LEASE_ACTIVE)
					break; /* a good citizen stops (a NIC would not) */
				lt_sleep_ms(1);
			}
			CHECK_OK(dxl_unpin(p));
		} else if (rc != -ENOLCK && rc != -EINVAL && rc != -ENOSPC) {
			LT_FAIL("long-term pin: %d", rc);
		}
		CHECK_OK(dxl_lease_release(l));
		break;
	}
	case 4:
	case 5: { /* a mapping, plain or direct */
		if (opt_no_mmap || open_file(own, &f))
			break;
		int direct = rnd_below(2);
		uint64_t sz = fsize(f) / U;
		if (sz == 0)
			break;
		pick_range(&off, &len, sz);
		dxl_mapping *m;
		rc = dxl_mmap(f, off, len, PROT_READ | PROT_WRITE, direct ? DXL_MAP_DIRECT : 0, NULL,
			      NULL, &m);
		if (rc == -EINVAL || rc == -ENXIO || rc == -ENOSPC)
			break; /* EOF moved under us */
		if (rc)
			LT_FAIL("mmap: %d", rc);
		for (int pass = 0; pass < 3; pass++) {
			store_guarded(dxl_mapping_addr(m), off, len, seq);
			lt_sleep_ms(1);
		}
		CHECK_OK(dxl_munmap(m));
		break;
	}
	case 6:
	case 7: { /* truncate any file */
		if (open_file(any, &f))
			break;
		uint64_t sz = fsize(f) / U;
		uint64_t to = rnd_below(3) == 0 ? (sz + 1 + rnd_below(8)) : rnd_below(sz + 1);
		if (to > MAXU)
			to = MAXU;
		rc = dxl_ftruncate(f, to * U);
		if (rc && rc != -ENOSPC)
			LT_FAIL("truncate: %d", rc);
		break;
	}
	case 8: { /* punch any file */
		if (open_file(any, &f))
			break;
		pick_range(&off, &len, MAXU);
		rc = dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		if (rc && rc != -ENOSPC)
			LT_FAIL("punch: %d", rc);
		break;
	}
	case 9: { /* reflink within the pair, same offsets */
		if (open_file(2 * g_slot, &f) || open_file(2 * g_slot + 1, &g))
			break;
		if (rnd_below(2)) {
			dxl_file *t = f;
			f = g;
			g = t;
		}
		uint64_t sz = fsize(f) / U;
		if (sz == 0)
			break;
		pick_range(&off, &len, sz);
		rc = dxl_reflink(f, off, g, off, len);
		if (rc && rc != -ENOSPC && rc != -EINVAL)
			LT_FAIL("reflink: %d", rc);
		break;
	}
	case 10: /* a lister */
		CHECK_OK(dxl_lease_list(g_pool, lt_count_cb, &(struct lt_count){0}));
		break;
	case 11:
		dxl_event_dispatch(g_pool);
		break;
	}
	if (f)
		dxl_close(f);
	if (g)
		dxl_close(g);
	g_sh->ops[g_slot]++;
}

struct worker_arg {
	int slot;
	uint64_t incarnation;
};

static void worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	g_slot = wa->slot;
	g_rng = opt_seed * 1000003 + (uint64_t)wa->slot * 7919 + wa->incarnation * 104729;
	g_seq = (uint32_t)(wa->incarnation * 4096);
	signal(SIGSEGV, fault_handler);
	signal(SIGBUS, fault_handler);
	g_pool = lt_open();
	dxl_event_set_default(g_pool, default_cb, NULL);
	CHECK_OK(dxl_event_thread_start(g_pool));
	while (__atomic_load_n(&g_sh->stop, __ATOMIC_ACQUIRE) == 0)
		one_op();
	__atomic_store_n(&g_sh->quiet[g_slot], 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&g_sh->stop, __ATOMIC_ACQUIRE) < 2)
		lt_sleep_ms(2);
	/* the seal: 8 units of the first file, exactly known */
	dxl_file *f;
	CHECK_OK(open_file(2 * g_slot, &f));
	uint8_t *buf = malloc(8 * U);
	CHECK(buf);
	fill_words(buf, 0, 8 * U, 0xffff);
	CHECK_RC(dxl_pwrite(f, buf, 8 * U, 0), (long long)(8 * U));
	free(buf);
	CHECK_OK(dxl_close(f));
	__atomic_store_n(&g_sh->sealed[g_slot], 1, __ATOMIC_RELEASE);
	CHECK_OK(dxl_pool_close(g_pool));
}

/* ------------------------------------------------------------ checks */

static uint64_t check_file(dxl_pool *pool, int file, uint64_t *allocated)
{
	char p[32];
	path_of(p, sizeof(p), file);
	dxl_file *f;
	if (dxl_open(pool, p, O_RDONLY, 0, &f) != 0)
		return 0;
	struct dxl_stat st;
	CHECK_OK(dxl_fstat(f, &st));
	*allocated += st.allocated;
	uint64_t *buf = malloc(st.size + 8);
	CHECK(buf);
	CHECK_RC(dxl_pread(f, buf, st.size, 0), (long long)st.size);
	uint64_t bad = 0;
	uint32_t slot = (uint32_t)file / 2;
	for (uint64_t i = 0; i < st.size / 8; i++) {
		if (word_bad(buf[i], slot, 8 * i)) {
			if (bad < 5)
				fprintf(stderr, "  %s: word at %" PRIu64 " is %016" PRIx64
						" (slot %u expected)\n",
					p, 8 * i, buf[i], slot);
			bad++;
		}
	}
	if (file % 2 == 0) {
		CHECK(st.size >= 8 * U);
		for (uint64_t i = 0; i < 8 * U / 8; i++)
			if (buf[i] != word_make(slot, 8 * i, 0xffff)) {
				if (bad < 5)
					fprintf(stderr, "  %s: sealed word at %" PRIu64 " is %016" PRIx64 "\n",
						p, 8 * i, buf[i]);
				bad++;
			}
	}
	free(buf);
	CHECK_OK(dxl_close(f));
	return bad;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			opt_seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			opt_workers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-mmap"))
			opt_no_mmap = 1;
		else if (!strcmp(argv[i], "--kill-ms") && i + 1 < argc)
			opt_kill_ms = atoi(argv[++i]);
		else
			LT_FAIL("usage: test_lease_stress [--seconds S] [--workers W] [--seed N] [--kill-ms MS] [--no-mmap]");
	}
	CHECK(opt_workers >= 2 && opt_workers <= MAXW);
	if (opt_seed == 0)
		opt_seed = (uint64_t)time(NULL);
	printf("test_lease_stress: %d workers, %d s, kill every ~%d ms, seed %" PRIu64 "\n",
	       opt_workers, opt_seconds, opt_kill_ms, opt_seed);
	lt_init("lstress");
	lt_watchdog((unsigned)opt_seconds + 600);
	g_sh = mmap(NULL, sizeof(*g_sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(g_sh != MAP_FAILED);
	memset(g_sh, 0, sizeof(*g_sh));
	lt_mkfs(64ull << 20, U, 200, 0);

	struct worker_arg wa[MAXW];
	pid_t pids[MAXW];
	uint64_t kills = 0, incarn = 0;
	for (int s = 0; s < opt_workers; s++) {
		wa[s].slot = s;
		wa[s].incarnation = incarn++;
		pids[s] = lt_spawn(worker_main, &wa[s]);
	}
	g_rng = opt_seed;
	int64_t end = lt_now_ns() + (int64_t)opt_seconds * 1000000000;
	while (lt_now_ns() < end) {
		lt_sleep_ms(opt_kill_ms / 2 + (int)rnd_below((uint64_t)opt_kill_ms));
		/* a worker that failed on its own is a test failure */
		for (int s = 0; s < opt_workers; s++) {
			int st;
			if (waitpid(pids[s], &st, WNOHANG) == pids[s]) {
				lt_forget(pids[s]);
				LT_FAIL("worker %d (pid %d) ended by itself: %s %d", s, (int)pids[s],
					WIFSIGNALED(st) ? "signal" : "exit status",
					WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			}
		}
		int s = (int)rnd_below((uint64_t)opt_workers);
		lt_kill9(pids[s]);
		kills++;
		wa[s].incarnation = incarn++;
		pids[s] = lt_spawn(worker_main, &wa[s]);
	}
	__atomic_store_n(&g_sh->stop, 1, __ATOMIC_RELEASE);
	int64_t bound = lt_now_ns() + (int64_t)LT_BOUND_S * 1000000000;
	for (int s = 0; s < opt_workers; s++)
		while (!__atomic_load_n(&g_sh->quiet[s], __ATOMIC_ACQUIRE)) {
			if (lt_now_ns() > bound)
				LT_FAIL("worker %d never finished its last operation", s);
			lt_sleep_ms(5);
		}
	__atomic_store_n(&g_sh->stop, 2, __ATOMIC_RELEASE);
	for (int s = 0; s < opt_workers; s++)
		lt_wait_ok(pids[s], "worker");
	uint64_t ops = 0, faults = 0, revoked = 0, enospc = 0;
	for (int s = 0; s < opt_workers; s++) {
		ops += g_sh->ops[s];
		faults += g_sh->faults[s];
		revoked += g_sh->revoked[s];
		enospc += g_sh->enospc[s];
	}
	printf("  %" PRIu64 " operations, %" PRIu64 " kills, %" PRIu64 " mapping faults, %" PRIu64
	       " revocations seen, %" PRIu64 " ENOSPC\n",
	       ops, kills, faults, revoked, enospc);

	dxl_pool *pool = lt_open();
	struct lt_count c = lt_list(pool, 0, 0);
	if (c.leases || c.pins)
		LT_FAIL("%d leases and %d pins left after every worker ended", c.leases, c.pins);
	uint64_t bad = 0, allocated = 0;
	for (int file = 0; file < 2 * opt_workers; file++)
		bad += check_file(pool, file, &allocated);
	if (bad)
		LT_FAIL("%" PRIu64 " corrupted words", bad);
	struct dxl_statfs sf;
	CHECK_OK(dxl_statfs(pool, &sf));
	/* shared units count once in the pool, once per file in allocated */
	uint64_t in_use = sf.data_units - sf.free_units;
	printf("  units: %" PRIu64 " data, %" PRIu64 " free, %" PRIu64 " allocated by files\n",
	       sf.data_units, sf.free_units, (uint64_t)(allocated / U));
	CHECK(in_use <= allocated / U);
	CHECK_OK(dxl_pool_close(pool));
	struct dxl_fsck_result res;
	CHECK_OK(dxl_fsck(lt_pool_path, 0, NULL, NULL, &res));
	CHECK(res.problems == 0);
	printf("test_lease_stress: OK\n");
	return 0;
}
