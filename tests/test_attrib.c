/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_attrib: the fsx of leases — a randomized multi-process attribution
 * test.  The promise under test (docs/leases.md):
 *
 *     a storage unit that a pin, a DMA or a mapping may still touch is
 *     never reached through another file.
 *
 * Every 8-byte word any writer stores says which file it was aimed at:
 *
 *     0xA5 << 56 | object id (20 bits) << 36 | writer (8 bits) << 28 | seq (28 bits)
 *
 * The object id names the file the store is aimed at — the handle's file
 * for dxl_pwrite, the mapped file for a mapping, the pinned file for a DMA
 * (even after dxl_unpin or revocation) — and is a number per created file,
 * never reused.  The writer byte is the worker (high nibble, 15 = the main
 * process) and how the store was made (low nibble, K_*), seq a fresh number
 * from a global counter taken before the store.  Stores are whole aligned
 * words, so even a SIGKILLed writer leaves whole tags.
 *
 * A phase: the main process forks the workers; each opens the pool itself
 * and runs two threads of seeded random operations on a table of path
 * slots /a0../aN (pwrite, mappings plain and DXL_MAP_DIRECT kept across
 * operations, transient and long-term pins fed by a per-worker "DMA"
 * thread, reflinks, truncate, punch, zero range, create, unlink, rename
 * over, fork children, SIGKILL of itself).  When all workers are gone the
 * main process reads every live file: each word must be zero, the file's
 * own, or one a reflink could have brought (see allow_update()).  Then
 * dxl_fsck must be clean and no lease or pin may be left.
 *
 * Why the file table is right: every namespace change and every dxl_open
 * that learns a handle's object id run under one process-shared robust
 * mutex (the "test lock") together with the table update, so a handle's
 * id is right for the handle's whole life (a rename moves the object, an
 * unlink leaves the handle on a dead object).  A change is first written
 * down as an intent; whoever gets EOWNERDEAD finishes the table from what
 * the pool shows (intent_recover()).
 *
 *   test_attrib [--seed N] [--workers W] [--phases P] [--phase-ops K]
 *               [--ops TOTAL] [--seconds S] [--slots N] [--unit 4k|2m|BYTES]
 *               [--break-ms MS] [--expect-violations] [--no-fork-close]
 *               [--no-fork] [--no-kill] [--no-mmap] [--no-unlink] [--max-report N]
 *               [--verbose]
 *
 * Defaults: seed 1, 3 workers, 12 phases of 500 operations per worker,
 * 12 slots, 4 KiB units, a 20 ms lease-break time.  --seed 0 picks a seed
 * (printed); --ops and --seconds run phases until that many operations or
 * seconds; --expect-violations passes only if a violation is found (for
 * DXL_TEST_NO_QUARANTINE=1 and DXL_TEST_SHARE_PINNED=1).  To tell bugs
 * apart: --no-fork-close (fork children keep the inherited handle),
 * --no-unlink (no unlink, no rename over: no object dies), --no-fork,
 * --no-kill, --no-mmap.  The run stops after the first phase that found
 * a violation or another failure.  See docs/testing-leases.md.
 */
#include <dirent.h>
#include <execinfo.h>
#include <setjmp.h>

#include "lease_common.h"

#define PAGE 4096ull
#define MAXSLOT 32
#define MAXW 15                 /* the writer byte's high nibble; 15 is main */
#define W_MAIN 15
#define NHOLD 16                /* per worker: each op thread owns half */
#define MAXSEG 16
#define MAXEV (1u << 18)        /* reflink events; recycled between phases when half full */
#define LOGN (1u << 17)         /* ring of what each seq was used for */
#define MAXOBJ (1u << 20)       /* object ids: 20 bits of the tag */
#define SEQ_MASK ((1ull << 28) - 1)
#define SEQ_LIMIT (SEQ_MASK - (1ull << 20)) /* stop the run well before the tag wraps */
#define INF UINT64_MAX
#define FORK_BOUND_S 10         /* a fork child that runs longer is hung */
#define PHASE_BOUND_S 180         /* a phase (and a worker) that runs longer is hung */

/* How a store was made: the low nibble of the writer byte. */
enum {
	K_PWRITE,    /* dxl_pwrite by an op thread */
	K_MMAP,      /* through a plain mapping */
	K_DIRECT,    /* through a DXL_MAP_DIRECT mapping */
	K_DMA_T,     /* DMA through a transient pin, still pinned */
	K_DMA_L,     /* DMA through a long-term pin (lease active or revoked), still pinned */
	K_LATE,      /* DMA after this process's own dxl_unpin */
	K_CHILD,     /* dxl_pwrite by a fork child */
	K_CHILD_DMA, /* through a fork child's transient pin */
	K_INIT,      /* the main process: first contents, the filler */
	K_NKINDS,
	/* seq-log entries that are not stores */
	L_PIN_T = 16, L_PIN_L, L_UNPIN, L_FORK_CLOSE,
};
static const char *const kind_name[K_NKINDS] = {
	"pwrite", "plain-mmap", "direct-mmap", "dma-transient", "dma-longterm",
	"late-dma-after-unpin", "fork-child-pwrite", "fork-child-dma", "main",
};

static uint64_t opt_seed = 1;
static int opt_workers = 3, opt_phases = 12, opt_phase_ops = 500, opt_seconds, opt_slots = 12;
static uint64_t opt_total_ops, opt_unit = 4096;
static int opt_break_ms = 20, opt_expect, opt_no_fork_close, opt_no_fork, opt_no_kill, opt_no_mmap;
static int opt_no_unlink;
static int opt_max_report = 20, opt_verbose;

/* Sizes derived from the unit (main, before any fork). */
static uint64_t g_unit, g_maxu, g_opu, g_pool_size, g_free_target;

/* ------------------------------------------------------- shared region */

struct wstat {
	uint64_t ops, enospc, faults, dma_passes, late_passes, map_passes;
	uint64_t breaks, revokes, coop_revoked, lost_breaks, early_breaks;
	uint64_t forks, fork_fail, fork_hang, forks_skipped, kills_skipped;
	uint64_t pins_vanished, pins_stolen, unexpected;
	uint64_t reflinks, creates, unlinks, renames;
	uint64_t fork_close_seq;    /* last close of the inherited handle by a child */
	int64_t child_rc;           /* what the last failing fork child's call returned */
	int killed_self;            /* this phase: the SIGKILL was planned */
};

/* What a seq number was used for (diagnosis of a violation). */
struct seqrec {
	uint64_t seq;
	uint64_t off;
	uint32_t obj, len;
	uint32_t aux;   /* stores through a pin or mapping: the seq it was taken at */
	uint8_t writer, what, slot, pad;
};

enum { I_NONE, I_CREATE, I_UNLINK, I_RENAME, I_REFLINK };
struct intent {
	int op, a, b;
	uint32_t id, ev;
};

struct refl_ev {
	uint32_t src, dst;  /* object ids */
	uint64_t r;         /* the counter after dxl_reflink returned; INF until then */
	uint64_t soff, doff, len;
	uint8_t sslot, dslot;
	int32_t rc;
};

/* What a worker has pinned or mapped right now: a hint for the others'
 * truncates, punches and reflinks, so that they often hit a range a DMA
 * or a mapping is still storing into. */
struct board_ent {
	uint32_t id;  /* object; 0: empty */
	uint32_t pad;
	uint64_t off, len;
};

struct shared {
	uint64_t seq;               /* the global store sequence */
	uint32_t next_id;           /* object ids */
	int stop;                   /* seq or event space used up: end the run */
	pthread_mutex_t lock;       /* the test lock */
	struct intent intent;
	uint32_t table[MAXSLOT];    /* slot -> object id (0: empty) */
	uint32_t nev;
	uint64_t owner_deaths;      /* EOWNERDEAD seen on the test lock */
	struct wstat ws[MAXW];
	uint64_t obj_ino[MAXOBJ];
	struct refl_ev ev[MAXEV];
	struct seqrec log[LOGN];
	struct board_ent board[MAXW][NHOLD];
};
static struct shared *g_sh;

/* ------------------------------------------------------------- tags */

static uint64_t tag_make(uint32_t id, unsigned writer, uint64_t seq)
{
	return 0xA5ull << 56 | (uint64_t)(id & 0xfffff) << 36 | (uint64_t)(writer & 0xff) << 28 |
	       (seq & SEQ_MASK);
}

static uint32_t tag_id(uint64_t w)
{
	return (uint32_t)(w >> 36) & 0xfffff;
}

static unsigned tag_writer(uint64_t w)
{
	return (unsigned)(w >> 28) & 0xff;
}

static uint64_t tag_seq(uint64_t w)
{
	return w & SEQ_MASK;
}

static uint64_t next_seq(void)
{
	uint64_t s = __atomic_fetch_add(&g_sh->seq, 1, __ATOMIC_SEQ_CST);

	if (s >= SEQ_LIMIT)
		__atomic_store_n(&g_sh->stop, 1, __ATOMIC_RELAXED);
	return s;
}

static void seq_note(uint64_t s, int what, uint32_t obj, int slot, uint64_t off, uint64_t len,
		     uint64_t aux, unsigned writer)
{
	struct seqrec *r = &g_sh->log[s & (LOGN - 1)];

	r->off = off;
	r->obj = obj;
	r->len = (uint32_t)len;
	r->aux = (uint32_t)aux;
	r->writer = (uint8_t)writer;
	r->what = (uint8_t)what;
	r->slot = (uint8_t)slot;
	__atomic_store_n(&r->seq, s, __ATOMIC_RELEASE);
}

/* ------------------------------------------------ per-process state */

struct wcfg {
	int w;        /* worker number in the phase: the writer's high nibble */
	int phase;
	uint64_t seed;
	int ops[2];   /* per op thread */
	int mode;     /* EV_* */
	int kill_at;  /* op of thread 0 at which the worker SIGKILLs itself; -1 never */
	int end;      /* END_* */
};
enum { EV_THREAD, EV_DISPATCH, EV_NEVER };
enum { END_CLEAN, END_CLOSE, END_EXIT };
static const char *const mode_name[] = { "event-thread", "dispatch-loop", "never-dispatch" };

static struct wcfg g_cfg;
static dxl_pool *g_pool;
static pid_t g_wpid;
static int g_dma_stop;
/* Held shared by an op thread for each operation, exclusively around a
 * fork: no thread of ours is then inside the library or malloc. */
static pthread_rwlock_t g_gate;
static int g_my_threads; /* this worker's threads still running */
static __thread uint64_t t_rng;
static __thread int t_thread; /* 0, 1: op threads; 2: DMA; 3: fork child */

#define ST(field) (g_sh->ws[g_cfg.w].field)
#define ST_ADD(field, n) __atomic_add_fetch(&ST(field), (n), __ATOMIC_RELAXED)
#define WR(kind) ((unsigned)(g_cfg.w << 4 | (kind)))

static uint64_t rnd(void)
{
	uint64_t z = (t_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t units_up(uint64_t bytes)
{
	return (bytes + g_unit - 1) / g_unit;
}

/* Fail this process at once (workers and fork children too: no stdio
 * locks, which a forked child may find held). */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "test_attrib [pid %d]: ", (int)getpid());

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

/* A library call failed in a way the test did not expect: count it (the
 * run fails at the end) and go on, so one bug does not hide the rest. */
static void unexpected(const char *what, long long rc)
{
	uint64_t n = ST_ADD(unexpected, 1);
	char buf[512];

	if (n > 5 || t_thread == 3)
		return;
	int len = snprintf(buf, sizeof(buf), "test_attrib: worker %d [pid %d]: %s returned %lld (%s)%s\n",
			   g_cfg.w, (int)getpid(), what, rc, dxl_errmsg(),
			   rc == -EUCLEAN ? " — the handle's inode was freed while open here: unlinked "
					    "by another process?" : "");
	if (write(2, buf, (size_t)min64((uint64_t)len, sizeof(buf) - 1)) < 0)
		return;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* -------------------------------------------------- the test lock */

static void slot_path(char *buf, size_t n, int s)
{
	if (s < 0)
		snprintf(buf, n, "/fill");
	else
		snprintf(buf, n, "/a%d", s);
}

static int path_ino(dxl_pool *pool, int s, uint64_t *ino)
{
	char p[16];
	struct dxl_stat st;

	slot_path(p, sizeof(p), s);
	if (dxl_stat(pool, p, &st) != 0)
		return 0;
	if (ino)
		*ino = st.ino;
	return 1;
}

/*
 * The previous holder of the test lock died holding it.  If it was in the
 * middle of a namespace change, the change either happened or did not (a
 * create, unlink or rename is one transaction), and the pool says which:
 * nobody else changes these slots while the lock is held.  A reflink in
 * flight keeps r = INF in its event, which allows whatever its source
 * held: conservative.
 */
static void intent_recover(dxl_pool *pool)
{
	struct intent *in = &g_sh->intent;
	uint64_t ino = 0;

	switch (in->op) {
	case I_CREATE:
		if (path_ino(pool, in->a, &ino)) {
			g_sh->obj_ino[in->id] = ino;
			g_sh->table[in->a] = in->id;
		}
		break;
	case I_UNLINK:
		if (!path_ino(pool, in->a, NULL))
			g_sh->table[in->a] = 0;
		break;
	case I_RENAME:
		if (!path_ino(pool, in->a, NULL)) {
			g_sh->table[in->b] = g_sh->table[in->a];
			g_sh->table[in->a] = 0;
		}
		break;
	default:
		break;
	}
	in->op = I_NONE;
}

/*
 * Polls (trylock and a short sleep) instead of sleeping in the futex:
 * glibc's robust mutexes lose a wake-up when a waiter that was woken dies
 * before it runs (the other thread of a worker that SIGKILLs itself).  The
 * next owner then takes the lock without the waiters bit, and when it
 * unlocks or dies nobody is woken — seen here as two threads asleep for
 * good on a lock word of FUTEX_OWNER_DIED alone.  (pthread_mutex_timedlock
 * would do, but ThreadSanitizer does not count an EOWNERDEAD from it as
 * taking the lock; from trylock and lock it does.)
 */
static void tl_lock(dxl_pool *pool)
{
	long us = 20;
	int rc;

	while ((rc = pthread_mutex_trylock(&g_sh->lock)) == EBUSY) {
		sleep_us(us);
		if (us < 1000)
			us *= 2;
	}
	if (rc == EOWNERDEAD) {
		__atomic_add_fetch(&g_sh->owner_deaths, 1, __ATOMIC_RELAXED);
		intent_recover(pool);
		rc = pthread_mutex_consistent(&g_sh->lock);
	}
	if (rc)
		die("test lock: %s", strerror(rc));
}

static void tl_unlock(void)
{
	pthread_mutex_unlock(&g_sh->lock);
}

static uint64_t fsize(dxl_file *f)
{
	struct dxl_stat st;
	return dxl_fstat(f, &st) ? 0 : st.size;
}

static uint64_t fino(dxl_file *f)
{
	struct dxl_stat st;
	return dxl_fstat(f, &st) ? 0 : st.ino;
}

/* Open slot s and learn which object the handle refers to (0: empty slot).
 * Under the test lock, with every namespace change: see the top. */
static uint32_t open_slot(dxl_pool *pool, int s, dxl_file **f)
{
	char p[16];
	uint32_t id;
	int rc;

	slot_path(p, sizeof(p), s);
	*f = NULL;
	tl_lock(pool);
	id = g_sh->table[s];
	if (id && (rc = dxl_open(pool, p, O_RDWR, 0, f)) != 0)
		die("%s holds object %u in the table, but dxl_open fails: %d (%s)", p, id, rc,
		    dxl_errmsg());
	tl_unlock();
	return id;
}

/* Open the object id wherever it is now (0 if it is dead). */
static int open_object(dxl_pool *pool, uint32_t id, dxl_file **f)
{
	char p[16];
	int rc;

	*f = NULL;
	tl_lock(pool);
	for (int s = 0; s < opt_slots; s++)
		if (g_sh->table[s] == id) {
			slot_path(p, sizeof(p), s);
			if ((rc = dxl_open(pool, p, O_RDWR, 0, f)) != 0)
				die("%s holds object %u in the table, but dxl_open fails: %d", p, id, rc);
			break;
		}
	tl_unlock();
	return *f != NULL;
}

static void board_set(int hold, uint32_t id, uint64_t off, uint64_t len)
{
	struct board_ent *b = &g_sh->board[g_cfg.w][hold];

	__atomic_store_n(&b->off, off, __ATOMIC_RELAXED);
	__atomic_store_n(&b->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&b->id, id, __ATOMIC_RELEASE);
}

/* A range some worker has pinned or mapped now (a hint: it may be gone). */
static int board_pick(uint32_t *id, uint64_t *off, uint64_t *len)
{
	for (int tries = 0; tries < 16; tries++) {
		struct board_ent *b = &g_sh->board[rnd_below((uint64_t)opt_workers)][rnd_below(NHOLD)];

		*id = __atomic_load_n(&b->id, __ATOMIC_ACQUIRE);
		if (!*id)
			continue;
		*off = __atomic_load_n(&b->off, __ATOMIC_RELAXED);
		*len = __atomic_load_n(&b->len, __ATOMIC_RELAXED);
		if (*len == 0)
			continue; /* being cleared right now */
		return 1;
	}
	return 0;
}

/* ----------------------------------------------------------- stores */

/* A DMA, a NIC or another process's mapping takes no lock: the DMA thread's
 * and the mapping stores race with the library's own copies by design, so
 * ThreadSanitizer is not to see them (tests/tsan.supp is for the library). */
#if defined(__SANITIZE_THREAD__)
#define NO_TSAN __attribute__((no_sanitize_thread))
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NO_TSAN __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef NO_TSAN
#define NO_TSAN
#endif

NO_TSAN static void fill_tag(void *dst, size_t len, uint64_t tag)
{
	volatile uint64_t *p = dst;
	for (size_t i = 0; i < len / 8; i++)
		p[i] = tag;
}

static __thread sigjmp_buf t_jmp;
static __thread volatile sig_atomic_t t_guard; /* per thread: never jump across threads */

static void fault_handler(int sig)
{
	static const char msg[] = "test_attrib: fault outside a guarded mapping store; backtrace:\n";
	void *bt[32];
	int n;

	if (t_guard)
		siglongjmp(t_jmp, sig);
	n = backtrace(bt, 32);
	if (write(2, msg, sizeof(msg) - 1) >= 0)
		backtrace_symbols_fd(bt, n, 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Store a tag over a mapping, page by page.  A page may fault — revoked
 * (PROT_NONE), a hole (a read-only zero page), past EOF — and the store
 * then skips that page.  CPU stores rather than kernel copies: a copy
 * into the mapping (read(2)) may be made byte by byte, and a torn word
 * racing with another store could look like a tag of another seq.
 */
static unsigned store_guarded(uint8_t *addr, size_t len, uint64_t tag)
{
	volatile size_t pos = 0;
	volatile unsigned faults = 0;

	while (pos < len) {
		if (sigsetjmp(t_jmp, 1) == 0) {
			t_guard = 1;
			for (; pos < len; pos += PAGE)
				fill_tag(addr + pos, PAGE, tag);
			t_guard = 0;
		} else {
			t_guard = 0;
			faults++;
			pos += PAGE;
		}
	}
	return faults;
}

/* ------------------------------------------------------------ holds */

/*
 * A hold is something kept across operations: a mapping (plain or
 * direct) or a pin (transient, or long-term under a lease).  The DMA
 * thread stores through all of them; the lease callback may let go of a
 * direct mapping or a long-term pin on a break.  h->mu orders all of it:
 * a store pass, the release and the callback never overlap, so a store
 * never goes to an address the process already unmapped (which could be
 * another mapping by then), and a pass's kind (pinned or late) is decided
 * by whether the unpin happened before it.
 */
enum { H_NONE, H_MAP, H_DIRECT, H_PIN_T, H_PIN_L };
enum { HS_FREE, HS_CREATING, HS_LIVE, HS_GONE };
enum { D_OFF, D_ON, D_LATE };
enum { P_COOP, P_IGNORE };

struct hold {
	pthread_mutex_t mu;
	int kind, state, policy, dma, late_left, late_after, ttl, slot;
	int saw_break, lost;
	uint32_t id;
	uint64_t lease_id, early_break, pin_seq, off, len, ino;
	dxl_file *f;
	dxl_mapping *m;
	dxl_lease *l;
	dxl_pin *p;
	uint8_t *maddr;
	size_t mlen;
	int nseg;
	struct dxl_seg seg[MAXSEG];
};
static struct hold g_holds[NHOLD];

static struct hold *hold_get(void)
{
	for (int i = 0; i < NHOLD / 2; i++) {
		struct hold *h = &g_holds[t_thread * (NHOLD / 2) + i];
		pthread_mutex_lock(&h->mu);
		if (h->state == HS_FREE && h->dma == D_OFF) {
			h->state = HS_CREATING;
			h->kind = H_NONE;
			h->early_break = 0;
			h->lease_id = 0;
			h->saw_break = 0;
			h->lost = 0;
			h->f = NULL;
			h->m = NULL;
			h->l = NULL;
			h->p = NULL;
			h->nseg = 0;
			h->policy = rnd_below(5) < 3 ? P_COOP : P_IGNORE;
			h->late_after = rnd_below(5) < 2 ? 1 + (int)rnd_below(4) : 0;
			h->ttl = 4 + (int)rnd_below(36);
			pthread_mutex_unlock(&h->mu);
			return h;
		}
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

static void hold_put(struct hold *h, dxl_file *f)
{
	if (f)
		dxl_close(f);
	pthread_mutex_lock(&h->mu);
	h->state = HS_FREE;
	h->kind = H_NONE;
	pthread_mutex_unlock(&h->mu);
}

static int lease_count_cb(void *arg, const struct dxl_lease_info *in)
{
	struct lt_count *c = arg;

	if (c->pid && in->pid != c->pid)
		return 0;
	if (c->ino && in->ino != c->ino)
		return 0;
	if (in->kind == DXL_INFO_PIN || in->kind == DXL_INFO_PIN_LONGTERM)
		c->pins++;
	else
		c->leases++;
	return 0;
}

/* A pin this process holds must be in the pool's pin table.  If none of
 * ours on this file is, something dropped it behind our back (a fork
 * child closing the inherited handle: issue 7 item 2), and its units are no
 * longer in quarantine. */
static void pin_check(struct hold *h)
{
	struct lt_count c;

	memset(&c, 0, sizeof(c));
	c.pid = getpid();
	c.ino = h->ino;
	if (dxl_lease_list(g_pool, lease_count_cb, &c) == 0 && c.pins == 0) {
		/* no fork child of ours closed the inherited handle in this
		 * phase: another process dropped it (a stale unpin of a slot
		 * it no longer owned) */
		int stolen = __atomic_load_n(&ST(fork_close_seq), __ATOMIC_RELAXED) == 0;
		uint64_t n = ST_ADD(pins_vanished, 1);

		if (stolen)
			ST_ADD(pins_stolen, 1);
		if (n <= 3)
			fprintf(stderr, "test_attrib: worker %d [pid %d]: its pin on object %u (ino %" PRIu64
					") is gone from the pin table before dxl_unpin (%s)\n",
				g_cfg.w, (int)getpid(), h->id, h->ino,
				stolen ? "no fork child of this worker closed the inherited handle: another "
					 "process's stale dxl_unpin? issue 7 item 4" :
					 "a fork child of this worker closed the inherited handle: issue 7 item 2");
	}
}

/* Let go of what the hold has (h->mu held): by its owner, or by the
 * lease callback of a cooperating holder. */
static void hold_release(struct hold *h)
{
	int rc;

	board_set((int)(h - g_holds), 0, 0, 0);
	if (h->kind == H_MAP || h->kind == H_DIRECT) {
		rc = dxl_munmap(h->m);
		if (rc)
			unexpected("dxl_munmap", rc);
		h->m = NULL;
	} else {
		uint64_t s;

		pin_check(h);
		rc = dxl_unpin(h->p);
		if (rc)
			unexpected("dxl_unpin", rc);
		h->p = NULL;
		s = next_seq();
		seq_note(s, L_UNPIN, h->id, h->slot, h->off, h->len, h->pin_seq, WR(0));
		/* the late passes: a DMA the application did not stop first */
		h->dma = h->late_after ? D_LATE : D_OFF;
		h->late_left = h->late_after;
		if (h->kind == H_PIN_L) {
			rc = dxl_lease_release(h->l);
			if (rc)
				unexpected("dxl_lease_release", rc);
			h->l = NULL;
		}
	}
	h->state = HS_GONE;
}

static void hold_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	struct hold *h = arg;

	(void)lease;
	pthread_mutex_lock(&h->mu);
	if (h->state == HS_CREATING) {
		/* before the creator knows its lease id: it looks at this after */
		if (ev->type == DXL_EV_BREAK) {
			h->early_break = ev->lease_id;
			ST_ADD(early_breaks, 1);
		}
	} else if (h->state == HS_LIVE && h->lease_id == ev->lease_id) {
		if (ev->type == DXL_EV_BREAK) {
			h->saw_break = 1;
			ST_ADD(breaks, 1);
			if (h->policy == P_COOP)
				hold_release(h);
		} else if (ev->type == DXL_EV_REVOKED) {
			ST_ADD(revokes, 1);
			if (h->policy == P_COOP && !h->saw_break)
				h->lost = 1;
		}
	}
	pthread_mutex_unlock(&h->mu);
}

static void default_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	(void)lease;
	(void)ev;
	(void)arg;
}

/* The owner ends a hold (ttl over, or the end of its thread). */
static void hold_end(struct hold *h)
{
	pthread_mutex_lock(&h->mu);
	if (h->state == HS_LIVE) {
		dxl_lease *l = h->kind == H_PIN_L ? h->l : h->kind == H_DIRECT ? dxl_mapping_lease(h->m) : NULL;
		if (l && h->policy == P_COOP && g_cfg.mode == EV_THREAD && !h->saw_break &&
		    (h->lost || dxl_lease_state(l) == DXL_LEASE_REVOKED))
			ST_ADD(lost_breaks, 1);
		if (l && h->policy == P_COOP && g_cfg.mode == EV_THREAD &&
		    dxl_lease_state(l) == DXL_LEASE_REVOKED)
			ST_ADD(coop_revoked, 1);
		hold_release(h);
	}
	if (h->f) {
		int rc = dxl_close(h->f);
		if (rc)
			unexpected("dxl_close", rc);
		h->f = NULL;
	}
	h->state = HS_FREE; /* still D_LATE: reused once the DMA thread is done with it */
	pthread_mutex_unlock(&h->mu);
}

static void map_pass(struct hold *h)
{
	int kind = h->kind == H_DIRECT ? K_DIRECT : K_MMAP;
	uint64_t s = next_seq();
	unsigned f = store_guarded(h->maddr, h->mlen, tag_make(h->id, WR(kind), s));

	seq_note(s, kind, h->id, h->slot, h->off, h->mlen, h->pin_seq, WR(kind));
	ST_ADD(map_passes, 1);
	ST_ADD(faults, f);
}

/* One pass of the DMA thread over a hold (h->mu held); 1 if it stored. */
static int dma_pass(struct hold *h)
{
	if (h->dma != D_OFF) {
		int kind = h->dma == D_LATE ? K_LATE : h->kind == H_PIN_L ? K_DMA_L : K_DMA_T;
		uint64_t s = next_seq(), tag = tag_make(h->id, WR(kind), s);

		for (int i = 0; i < h->nseg; i++)
			fill_tag(h->seg[i].addr, h->seg[i].len, tag);
		seq_note(s, kind, h->id, h->slot, h->off, h->len, h->pin_seq, WR(kind));
		if (h->dma == D_LATE) {
			ST_ADD(late_passes, 1);
			if (--h->late_left <= 0)
				h->dma = D_OFF;
		} else {
			ST_ADD(dma_passes, 1);
		}
		return 1;
	}
	if (h->state == HS_LIVE && (h->kind == H_MAP || h->kind == H_DIRECT) && rnd_below(4) == 0) {
		map_pass(h);
		return 1;
	}
	return 0;
}

static void *dma_main(void *arg)
{
	(void)arg;
	t_thread = 2;
	t_rng = g_cfg.seed ^ 0x5851f42d4c957f2dull;
	while (!__atomic_load_n(&g_dma_stop, __ATOMIC_ACQUIRE)) {
		int busy = 0;
		for (int i = 0; i < NHOLD; i++) {
			struct hold *h = &g_holds[i];
			pthread_mutex_lock(&h->mu);
			busy |= dma_pass(h);
			pthread_mutex_unlock(&h->mu);
		}
		sleep_us(busy ? 400 : 1000);
	}
	return NULL;
}

/* ------------------------------------------------------- operations */

static int rnd_slot(void)
{
	return (int)rnd_below((uint64_t)opt_slots);
}

static uint64_t max_size(void)
{
	return g_maxu * g_unit;
}

static void op_pwrite(int append)
{
	dxl_file *f;
	int s = rnd_slot();
	uint32_t id = open_slot(g_pool, s, &f);
	uint64_t size, off, len, seq;
	long long rc;
	uint64_t *buf;

	if (!id)
		return;
	size = fsize(f);
	len = rnd_below(2) ? (1 + rnd_below(g_opu)) * g_unit : 8 * (1 + rnd_below(g_opu * g_unit / 8));
	if (append)
		off = size;
	else
		off = rnd_below(2) ? rnd_below(g_maxu) * g_unit : 8 * rnd_below(max_size() / 8);
	if (off >= max_size())
		off = 0;
	len = min64(len, max_size() - off);
	buf = malloc(len);
	if (!buf)
		die("out of memory");
	seq = next_seq();
	fill_tag(buf, len, tag_make(id, WR(K_PWRITE), seq));
	seq_note(seq, K_PWRITE, id, s, off, len, 0, WR(K_PWRITE));
	rc = dxl_pwrite(f, buf, len, off);
	if (rc == -ENOSPC)
		ST_ADD(enospc, 1);
	else if (rc != (long long)len)
		unexpected("dxl_pwrite", rc);
	free(buf);
	dxl_close(f);
}

static void op_create(void)
{
	int s = rnd_slot(), rc;
	char p[16];
	dxl_file *f = NULL;
	uint32_t id = 0;

	slot_path(p, sizeof(p), s);
	tl_lock(g_pool);
	if (!g_sh->table[s] && g_sh->next_id + 1 < MAXOBJ) {
		id = ++g_sh->next_id;
		g_sh->intent = (struct intent){ I_CREATE, s, 0, id, 0 };
		rc = dxl_open(g_pool, p, O_RDWR | O_CREAT | O_EXCL, 0644, &f);
		if (rc == 0) {
			g_sh->obj_ino[id] = fino(f);
			g_sh->table[s] = id;
			ST_ADD(creates, 1);
		} else {
			if (rc == -ENOSPC)
				ST_ADD(enospc, 1);
			else
				unexpected("dxl_open(O_CREAT|O_EXCL)", rc);
			f = NULL;
		}
		g_sh->intent.op = I_NONE;
	}
	tl_unlock();
	if (!f) {
		op_pwrite(0);
		return;
	}
	uint64_t len = (1 + rnd_below(g_maxu / 2)) * g_unit, seq = next_seq();
	uint64_t *buf = malloc(len);
	if (!buf)
		die("out of memory");
	fill_tag(buf, len, tag_make(id, WR(K_PWRITE), seq));
	seq_note(seq, K_PWRITE, id, s, 0, len, 0, WR(K_PWRITE));
	long long w = dxl_pwrite(f, buf, len, 0);
	if (w == -ENOSPC)
		ST_ADD(enospc, 1);
	else if (w != (long long)len)
		unexpected("dxl_pwrite", w);
	free(buf);
	dxl_close(f);
}

static void op_unlink(void)
{
	int s = rnd_slot(), rc;
	char p[16];

	if (opt_no_unlink)
		return;
	slot_path(p, sizeof(p), s);
	tl_lock(g_pool);
	if (g_sh->table[s]) {
		g_sh->intent = (struct intent){ I_UNLINK, s, 0, 0, 0 };
		rc = dxl_unlink(g_pool, p);
		if (rc == 0) {
			g_sh->table[s] = 0;
			ST_ADD(unlinks, 1);
		} else {
			unexpected("dxl_unlink", rc);
		}
		g_sh->intent.op = I_NONE;
	}
	tl_unlock();
}

static void op_rename(void)
{
	int a = rnd_slot(), b = rnd_slot(), rc;
	char pa[16], pb[16];

	if (a == b)
		return;
	slot_path(pa, sizeof(pa), a);
	slot_path(pb, sizeof(pb), b);
	tl_lock(g_pool);
	if (g_sh->table[a] && (!opt_no_unlink || !g_sh->table[b])) {
		g_sh->intent = (struct intent){ I_RENAME, a, b, 0, 0 };
		rc = dxl_rename(g_pool, pa, pb, 0);
		if (rc == 0) {
			/* b's old object, if any, is dead now */
			g_sh->table[b] = g_sh->table[a];
			g_sh->table[a] = 0;
			ST_ADD(renames, 1);
		} else {
			unexpected("dxl_rename", rc);
		}
		g_sh->intent.op = I_NONE;
	}
	tl_unlock();
}

/* Reflink between two slots, or within one file (ranges apart), under the
 * test lock, so the event log is in the order the reflinks happened. */
static void op_reflink(void)
{
	int a = rnd_slot(), b = rnd_below(4) == 0 ? a : rnd_slot(), rc, from_board = 0;
	char pa[16], pb[16];
	dxl_file *fa = NULL, *fb = NULL;
	uint32_t ia, ib, k, bid = 0;
	uint64_t U = g_unit, ssize, dsize, su, sfu, n, len, eff, effu, dfu, boff = 0, blen = 0;

	/* half the time from a range some worker still pins or maps */
	if (rnd_below(2) && board_pick(&bid, &boff, &blen))
		from_board = 1;
	tl_lock(g_pool);
	if (from_board)
		for (int s = 0; s < opt_slots; s++)
			if (g_sh->table[s] == bid) {
				a = s;
				if (b == a)
					b = (a + 1 + (int)rnd_below((uint64_t)opt_slots - 1)) % opt_slots;
				break;
			}
	slot_path(pa, sizeof(pa), a);
	slot_path(pb, sizeof(pb), b);
	ia = g_sh->table[a];
	ib = g_sh->table[b];
	if (!ia || !ib)
		goto out;
	if ((rc = dxl_open(g_pool, pa, O_RDWR, 0, &fa)) != 0)
		die("%s holds object %u, but dxl_open fails: %d", pa, ia, rc);
	if (b == a)
		fb = fa;
	else if ((rc = dxl_open(g_pool, pb, O_RDWR, 0, &fb)) != 0)
		die("%s holds object %u, but dxl_open fails: %d", pb, ib, rc);
	ssize = fsize(fa);
	dsize = fsize(fb);
	if (ssize == 0)
		goto out;
	su = units_up(ssize);
	sfu = rnd_below(su);
	n = 1 + rnd_below(min64(su - sfu, g_opu));
	if (from_board && ia == bid && boff / U < su) {
		sfu = boff / U;
		n = min64(units_up(boff + blen) - sfu, su - sfu);
	}
	len = rnd_below(4) == 0 ? 0 : n * U; /* 0: to the source's EOF */
	eff = len ? min64(len, ssize - sfu * U) : ssize - sfu * U;
	effu = units_up(eff);
	if (a == b) {
		if (sfu >= effu && rnd_below(2))
			dfu = rnd_below(sfu - effu + 1);
		else
			dfu = sfu + effu + rnd_below(3);
	} else {
		dfu = rnd_below(units_up(dsize) + 2);
	}
	if ((dfu + effu) * U > max_size())
		goto out;
	k = g_sh->nev;
	if (k >= MAXEV) {
		__atomic_store_n(&g_sh->stop, 1, __ATOMIC_RELAXED);
		goto out;
	}
	g_sh->ev[k] = (struct refl_ev){ ia, ib, INF, sfu * U, dfu * U, len, (uint8_t)a, (uint8_t)b, 0 };
	g_sh->nev = k + 1;
	g_sh->intent = (struct intent){ I_REFLINK, a, b, 0, k };
	rc = dxl_reflink(fa, sfu * U, fb, dfu * U, len);
	/* after the call: every store whose data the reflink could carry
	 * took its seq before this */
	g_sh->ev[k].r = __atomic_load_n(&g_sh->seq, __ATOMIC_SEQ_CST);
	g_sh->ev[k].rc = rc;
	g_sh->intent.op = I_NONE;
	ST_ADD(reflinks, 1);
	if (rc == -ENOSPC)
		ST_ADD(enospc, 1);
	else if (rc && rc != -EINVAL) /* EINVAL: the source shrank meanwhile */
		unexpected("dxl_reflink", rc);
out:
	tl_unlock();
	if (fb && fb != fa)
		dxl_close(fb);
	if (fa)
		dxl_close(fa);
}

static void op_truncate(void)
{
	dxl_file *f;
	uint32_t id;
	uint64_t size, to, boff, blen;
	int rc;

	/* half the time below a range some worker still pins or maps */
	if (rnd_below(2) && board_pick(&id, &boff, &blen)) {
		if (!open_object(g_pool, id, &f))
			return;
		to = rnd_below(boff / g_unit + 1) * g_unit;
		rc = dxl_ftruncate(f, to);
		if (rc && rc != -ENOSPC)
			unexpected("dxl_ftruncate", rc);
		dxl_close(f);
		return;
	}
	if (!(id = open_slot(g_pool, rnd_slot(), &f)))
		return;
	size = fsize(f);
	if (rnd_below(3) == 0)
		to = min64(max_size(), size + 8 * (1 + rnd_below(g_opu * g_unit / 8)));
	else if (rnd_below(4))
		to = rnd_below(size / g_unit + 1) * g_unit;
	else
		to = 8 * rnd_below(size / 8 + 1);
	rc = dxl_ftruncate(f, to);
	if (rc == -ENOSPC)
		ST_ADD(enospc, 1);
	else if (rc)
		unexpected("dxl_ftruncate", rc);
	dxl_close(f);
}

static void op_fallocate(int punch)
{
	dxl_file *f;
	uint32_t id;
	uint64_t size, off, len;
	int rc, mode, aligned = rnd_below(4) != 0;

	/* half the time a range some worker still pins or maps */
	if (punch && rnd_below(2) && board_pick(&id, &off, &len)) {
		if (!open_object(g_pool, id, &f))
			return;
	} else {
		if (!(id = open_slot(g_pool, rnd_slot(), &f)))
			return;
		size = fsize(f);
		if (size == 0) {
			dxl_close(f);
			return;
		}
		off = aligned ? rnd_below(units_up(size)) * g_unit : 8 * rnd_below(size / 8);
		len = aligned ? (1 + rnd_below(g_opu)) * g_unit : 8 * (1 + rnd_below(g_opu * g_unit / 8));
	}
	if (punch) {
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	} else {
		mode = FALLOC_FL_ZERO_RANGE | (rnd_below(2) ? FALLOC_FL_KEEP_SIZE : 0);
		if (off + len > max_size())
			len = max_size() - off;
	}
	rc = dxl_fallocate(f, mode, off, len);
	if (rc == -ENOSPC)
		ST_ADD(enospc, 1);
	else if (rc)
		unexpected(punch ? "dxl_fallocate(PUNCH_HOLE)" : "dxl_fallocate(ZERO_RANGE)", rc);
	dxl_close(f);
}

/* A unit-aligned range inside the file rounded up to the unit; 0 if empty. */
static int pick_hold_range(dxl_file *f, uint64_t *off, uint64_t *len)
{
	uint64_t lim = units_up(fsize(f)), a;

	if (lim == 0)
		return 0;
	a = rnd_below(lim);
	*off = a * g_unit;
	*len = (1 + rnd_below(min64(lim - a, g_opu))) * g_unit;
	/* sometimes less than the whole last unit (pages): the rest of the
	 * unit is the file's, written by others, and must stay out of reach */
	if (g_unit > PAGE && rnd_below(2))
		*len -= PAGE * rnd_below(g_unit / PAGE);
	return 1;
}

static int ok_hold_err(int rc)
{
	/* the file shrank (EINVAL), no space to prepare the range, the lease
	 * was broken before the pin (ENOLCK), tables full (ENOLCK, ENOMEM) */
	if (rc == -ENOSPC)
		ST_ADD(enospc, 1);
	return rc == -EINVAL || rc == -ENOSPC || rc == -ENOLCK || rc == -ENOMEM || rc == -ENXIO;
}

static void op_map(int direct)
{
	struct hold *h;
	dxl_file *f;
	dxl_mapping *m;
	uint64_t off, len;
	uint32_t id;
	int s, rc;

	if (opt_no_mmap || (!direct && g_cfg.mode == EV_NEVER))
		return; /* a plain mapping starts the event thread: not for never-dispatch */
	if (!(h = hold_get()))
		return;
	s = rnd_slot();
	if (!(id = open_slot(g_pool, s, &f)) || !pick_hold_range(f, &off, &len)) {
		hold_put(h, id ? f : NULL);
		return;
	}
	rc = dxl_mmap(f, off, len, PROT_READ | PROT_WRITE, direct ? DXL_MAP_DIRECT : 0,
		      direct ? hold_cb : NULL, direct ? h : NULL, &m);
	if (rc) {
		if (!ok_hold_err(rc))
			unexpected(direct ? "dxl_mmap(DIRECT)" : "dxl_mmap", rc);
		hold_put(h, f);
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->kind = direct ? H_DIRECT : H_MAP;
	h->f = f;
	h->m = m;
	h->maddr = dxl_mapping_addr(m);
	h->mlen = dxl_mapping_len(m);
	h->lease_id = direct ? dxl_lease_id(dxl_mapping_lease(m)) : 0;
	h->id = id;
	h->slot = s;
	h->off = off;
	h->len = len;
	h->ino = fino(f);
	h->pin_seq = next_seq();
	h->state = HS_LIVE;
	board_set((int)(h - g_holds), id, off, len);
	map_pass(h);
	if (direct && h->early_break == h->lease_id) {
		h->saw_break = 1;
		if (h->policy == P_COOP)
			hold_release(h);
	}
	pthread_mutex_unlock(&h->mu);
}

static void op_pin(int longterm)
{
	struct hold *h;
	dxl_file *f;
	dxl_lease *l = NULL;
	dxl_pin *p;
	uint64_t off, len, s;
	uint32_t id;
	int slot, rc, n;

	if (!(h = hold_get()))
		return;
	slot = rnd_slot();
	if (!(id = open_slot(g_pool, slot, &f)) || !pick_hold_range(f, &off, &len)) {
		hold_put(h, id ? f : NULL);
		return;
	}
	if (longterm) {
		rc = dxl_lease_take(f, off, len, 0, hold_cb, h, &l);
		if (rc) {
			if (!ok_hold_err(rc))
				unexpected("dxl_lease_take", rc);
			hold_put(h, f);
			return;
		}
	}
	rc = dxl_pin_range(f, off, len, longterm ? DXL_PIN_LONGTERM : 0, l, &p);
	if (rc) {
		if (!ok_hold_err(rc))
			unexpected(longterm ? "dxl_pin_range(LONGTERM)" : "dxl_pin_range", rc);
		if (l && (rc = dxl_lease_release(l)) != 0)
			unexpected("dxl_lease_release", rc);
		hold_put(h, f);
		return;
	}
	pthread_mutex_lock(&h->mu);
	n = dxl_pin_segments(p, h->seg, MAXSEG);
	h->nseg = n < MAXSEG ? n : MAXSEG;
	h->kind = longterm ? H_PIN_L : H_PIN_T;
	h->f = f;
	h->l = l;
	h->p = p;
	h->lease_id = l ? dxl_lease_id(l) : 0;
	h->id = id;
	h->slot = slot;
	h->off = off;
	h->len = len;
	h->ino = fino(f);
	s = next_seq();
	h->pin_seq = s;
	seq_note(s, longterm ? L_PIN_L : L_PIN_T, id, slot, off, len, 0, WR(0));
	h->dma = D_ON;
	h->state = HS_LIVE;
	board_set((int)(h - g_holds), id, off, len);
	if (longterm && h->early_break == h->lease_id) {
		h->saw_break = 1;
		if (h->policy == P_COOP)
			hold_release(h);
	}
	pthread_mutex_unlock(&h->mu);
}

/* A pass of the op thread itself through one of its live mappings. */
static void op_store(void)
{
	int base = t_thread * (NHOLD / 2), start = (int)rnd_below(NHOLD / 2);

	for (int i = 0; i < NHOLD / 2; i++) {
		struct hold *h = &g_holds[base + (start + i) % (NHOLD / 2)];
		pthread_mutex_lock(&h->mu);
		if (h->state == HS_LIVE && (h->kind == H_MAP || h->kind == H_DIRECT)) {
			map_pass(h);
			pthread_mutex_unlock(&h->mu);
			return;
		}
		pthread_mutex_unlock(&h->mu);
	}
}

static void op_end_one(void)
{
	struct hold *h = &g_holds[t_thread * (NHOLD / 2) + (int)rnd_below(NHOLD / 2)];
	int live;

	pthread_mutex_lock(&h->mu);
	live = h->state == HS_LIVE || h->state == HS_GONE;
	pthread_mutex_unlock(&h->mu);
	if (live)
		hold_end(h);
}

/* The owner's holds age by its operations; one the callback let go of is
 * closed at once. */
static void age_holds(void)
{
	for (int i = 0; i < NHOLD / 2; i++) {
		struct hold *h = &g_holds[t_thread * (NHOLD / 2) + i];
		int end;

		pthread_mutex_lock(&h->mu);
		end = h->state == HS_GONE || (h->state == HS_LIVE && --h->ttl <= 0);
		pthread_mutex_unlock(&h->mu);
		if (end)
			hold_end(h);
	}
}

static void end_all_holds(void)
{
	for (int i = 0; i < NHOLD / 2; i++) {
		struct hold *h = &g_holds[t_thread * (NHOLD / 2) + i];
		int end;

		pthread_mutex_lock(&h->mu);
		end = h->state == HS_LIVE || h->state == HS_GONE;
		pthread_mutex_unlock(&h->mu);
		if (end)
			hold_end(h);
	}
}

/*
 * A fork child: it inherits the pool handle with the parent's leases, pins
 * and mappings, closes it (which must only free the child's memory), opens
 * the pool itself and makes a few tagged stores.  No stdio (a lock may be
 * held by a parent thread at the fork), no threads (TSan's die_after_fork).
 */
static void child_main(uint64_t seed)
{
	dxl_pool *pool;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != g_wpid)
		_exit(0);
	t_rng = seed;
	t_thread = 3;
	alarm(FORK_BOUND_S * 3);
	if (!opt_no_fork_close) {
		uint64_t s = next_seq();
		seq_note(s, L_FORK_CLOSE, 0, 0, 0, 0, (uint64_t)getpid(), WR(K_CHILD));
		__atomic_store_n(&ST(fork_close_seq), s, __ATOMIC_RELAXED);
		if ((rc = dxl_pool_close(g_pool)) != 0) {
			ST(child_rc) = rc;
			_exit(10);
		}
	}
	if ((rc = dxl_pool_open(lt_pool_path, 0, &pool)) != 0) {
		ST(child_rc) = rc;
		_exit(11);
	}
	for (int i = 0; i < 3; i++) {
		dxl_file *f;
		int slot = rnd_slot();
		uint32_t id = open_slot(pool, slot, &f);
		uint64_t size, off, len, seq;
		uint64_t *buf;
		long long w;

		if (!id)
			continue;
		size = fsize(f);
		off = 8 * rnd_below(size / 8 + 1);
		if (off >= max_size())
			off = 0;
		len = min64(8 * (1 + rnd_below(g_unit / 8)), max_size() - off);
		buf = malloc(len);
		if (!buf)
			_exit(12);
		seq = next_seq();
		fill_tag(buf, len, tag_make(id, WR(K_CHILD), seq));
		seq_note(seq, K_CHILD, id, slot, off, len, 0, WR(K_CHILD));
		w = dxl_pwrite(f, buf, len, off);
		free(buf);
		if (w != (long long)len && w != -ENOSPC) {
			ST(child_rc) = w;
			_exit(13);
		}
		if (rnd_below(2) && (size = fsize(f)) > 0) {
			dxl_pin *p;
			struct dxl_seg seg[MAXSEG];
			uint64_t plen = min64(units_up(size), g_opu) * g_unit;

			rc = dxl_pin_range(f, 0, plen, 0, NULL, &p);
			if (rc == 0) {
				int n = dxl_pin_segments(p, seg, MAXSEG);
				seq = next_seq();
				for (int j = 0; j < n && j < MAXSEG; j++)
					fill_tag(seg[j].addr, seg[j].len, tag_make(id, WR(K_CHILD_DMA), seq));
				seq_note(seq, K_CHILD_DMA, id, slot, 0, plen, 0, WR(K_CHILD_DMA));
				if ((rc = dxl_unpin(p)) != 0) {
					ST(child_rc) = rc;
					_exit(14);
				}
			} else if (rc != -EINVAL && rc != -ENOSPC && rc != -ENOMEM) {
				ST(child_rc) = rc;
				_exit(15);
			}
		}
		dxl_close(f);
	}
	if ((rc = dxl_pool_close(pool)) != 0) {
		ST(child_rc) = rc;
		_exit(16);
	}
	_exit(0);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static int threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Are threads running that are not ours (the library's event thread or
 * watcher)?  Ours: the sanitizer's, the op threads, the DMA thread. */
static int lib_threads(void)
{
	return threads_now() != __atomic_load_n(&g_my_threads, __ATOMIC_RELAXED);
}

static void op_fork(void)
{
	uint64_t seed = rnd();
	int64_t end;
	pid_t pid;
	int st = 0;

	/* ASan's allocator is not locked around fork() (GCC 12's libasan):
	 * a child forked while another thread is in malloc deadlocks in its
	 * first free.  Parking our threads and waiting for the library's to
	 * be gone was not enough in CI (a child still hung), so under ASan
	 * this test does not fork; test_lease_fork covers fork under ASan
	 * from a process whose other threads do not allocate. */
	if (opt_no_fork)
		return;
	if (UNDER_ASAN) {
		ST_ADD(forks_skipped, 1);
		return;
	}
	pthread_rwlock_wrlock(&g_gate);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child_main(seed);
	pthread_rwlock_unlock(&g_gate);
	if (pid < 0) {
		unexpected("fork", -errno);
		return;
	}
	ST_ADD(forks, 1);
	end = lt_now_ns() + (int64_t)FORK_BOUND_S * 1000000000;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			die("waitpid for the fork child: %s", strerror(errno));
		if (lt_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			if (ST_ADD(fork_hang, 1) <= 2)
				fprintf(stderr, "test_attrib: worker %d: fork child %d still running after %d s "
						"(hung in dxl_pool_close of the inherited handle? issue 7 item 2): killed\n",
					g_cfg.w, (int)pid, FORK_BOUND_S);
			return;
		}
		sleep_us(500);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (ST_ADD(fork_fail, 1) <= 3)
			fprintf(stderr, "test_attrib: worker %d: fork child %d %s %d (10: close of the "
					"inherited handle failed, 11: open, 13: pwrite, 14: unpin, 15: pin, 16: "
					"close; the call returned %lld)\n",
				g_cfg.w, (int)pid, WIFSIGNALED(st) ? "died of signal" : "exited with",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (long long)ST(child_rc));
	}
}

/* Die at a safe point: holding the test lock, so no thread of this worker
 * is inside a namespace change (the next locker gets EOWNERDEAD with no
 * intent to repair), while leases, pins, mappings and the DMA thread are
 * live.  The other op thread may be inside the library, holding its lock:
 * its recovery is tested too — except under TSan, which does not count an
 * EOWNERDEAD from pthread_mutex_timedlock (the library's lock waits with
 * it) as taking the lock, and reports a race and then an unlock of an
 * unlocked mutex: there the worker dies only between operations and while
 * the library runs no thread. */
static void self_kill(void)
{
	if (UNDER_TSAN) {
		pthread_rwlock_wrlock(&g_gate);
		if (lib_threads()) {
			pthread_rwlock_unlock(&g_gate);
			ST_ADD(kills_skipped, 1);
			return;
		}
	}
	tl_lock(g_pool);
	g_sh->ws[g_cfg.w].killed_self = 1;
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

enum { OP_PWRITE, OP_APPEND, OP_CREATE, OP_UNLINK, OP_RENAME, OP_REFLINK, OP_TRUNC, OP_PUNCH, OP_ZERO,
       OP_MAP, OP_DIRECT, OP_STORE, OP_PIN_T, OP_PIN_L, OP_END, OP_FORK, OP_LIST, OP_DISPATCH, OP_N };
static const int op_weight[OP_N] = {
	[OP_PWRITE] = 16, [OP_APPEND] = 4, [OP_CREATE] = 4, [OP_UNLINK] = 2, [OP_RENAME] = 2,
	[OP_REFLINK] = 7, [OP_TRUNC] = 6, [OP_PUNCH] = 5, [OP_ZERO] = 3, [OP_MAP] = 4, [OP_DIRECT] = 3,
	[OP_STORE] = 6, [OP_PIN_T] = 5, [OP_PIN_L] = 6, [OP_END] = 2, [OP_FORK] = 1, [OP_LIST] = 1,
	[OP_DISPATCH] = 1,
};

static int pick_op(void)
{
	int total = 0, r, op;

	for (op = 0; op < OP_N; op++)
		total += op_weight[op];
	r = (int)rnd_below((uint64_t)total);
	for (op = 0; op < OP_N && r >= op_weight[op]; op++)
		r -= op_weight[op];
	return op;
}

static void run_op(int op)
{
	switch (op) {
	case OP_PWRITE: op_pwrite(0); break;
	case OP_APPEND: op_pwrite(1); break;
	case OP_CREATE: op_create(); break;
	case OP_UNLINK: op_unlink(); break;
	case OP_RENAME: op_rename(); break;
	case OP_REFLINK: op_reflink(); break;
	case OP_TRUNC: op_truncate(); break;
	case OP_PUNCH: op_fallocate(1); break;
	case OP_ZERO: op_fallocate(0); break;
	case OP_MAP: op_map(0); break;
	case OP_DIRECT: op_map(1); break;
	case OP_STORE: op_store(); break;
	case OP_PIN_T: op_pin(0); break;
	case OP_PIN_L: op_pin(1); break;
	case OP_END: op_end_one(); break;
	case OP_LIST: {
		struct lt_count c;
		memset(&c, 0, sizeof(c));
		int rc = dxl_lease_list(g_pool, lease_count_cb, &c);
		if (rc)
			unexpected("dxl_lease_list", rc);
		break;
	}
	default:
		if (g_cfg.mode != EV_NEVER)
			dxl_event_dispatch(g_pool);
		break;
	}
}

static void *op_main(void *arg)
{
	t_thread = (int)(intptr_t)arg;
	t_rng = g_cfg.seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(t_thread + 1));
	for (int i = 0; i < g_cfg.ops[t_thread]; i++) {
		int op;

		if (__atomic_load_n(&g_sh->stop, __ATOMIC_RELAXED))
			break;
		if (t_thread == 0 && i == g_cfg.kill_at)
			self_kill();
		op = pick_op();
		if (op == OP_FORK) {
			op_fork(); /* takes the gate itself */
		} else {
			pthread_rwlock_rdlock(&g_gate);
			if (g_cfg.mode == EV_DISPATCH)
				dxl_event_dispatch(g_pool);
			age_holds();
			run_op(op);
			pthread_rwlock_unlock(&g_gate);
		}
		ST_ADD(ops, 1);
	}
	if (g_cfg.end == END_CLEAN) {
		pthread_rwlock_rdlock(&g_gate);
		end_all_holds();
		pthread_rwlock_unlock(&g_gate);
	}
	if (t_thread == 1)
		__atomic_sub_fetch(&g_my_threads, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void worker_main(void *arg)
{
	pthread_t op1, dma;
	int rc;

	g_cfg = *(struct wcfg *)arg;
	g_wpid = getpid();
	t_thread = 0;
	signal(SIGSEGV, fault_handler);
	signal(SIGBUS, fault_handler);
	lt_watchdog(PHASE_BOUND_S);
	for (int i = 0; i < NHOLD; i++)
		pthread_mutex_init(&g_holds[i].mu, NULL);
	{
		/* a forker must not wait for ever behind the other op thread */
		pthread_rwlockattr_t ra;
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&g_gate, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	/* this one and the sanitizer's, then the other op thread and the DMA thread */
	g_my_threads = threads_now() + 2;
	if ((rc = dxl_pool_open(lt_pool_path, 0, &g_pool)) != 0)
		die("worker %d: dxl_pool_open: %d (%s)", g_cfg.w, rc, dxl_errmsg());
	dxl_event_set_default(g_pool, default_cb, NULL);
	if (g_cfg.mode == EV_THREAD && (rc = dxl_event_thread_start(g_pool)) != 0)
		die("worker %d: dxl_event_thread_start: %d", g_cfg.w, rc);
	if (pthread_create(&dma, NULL, dma_main, NULL) ||
	    pthread_create(&op1, NULL, op_main, (void *)(intptr_t)1))
		die("pthread_create");
	op_main((void *)(intptr_t)0);
	pthread_join(op1, NULL);
	/* (under TSan only with no library thread that may hold its lock: see
	 * self_kill()) */
	if (g_cfg.end == END_EXIT && !(UNDER_TSAN && lib_threads()))
		_exit(0); /* leases, pins, mappings and the DMA thread still live */
	__atomic_store_n(&g_dma_stop, 1, __ATOMIC_RELEASE);
	pthread_join(dma, NULL);
	/* END_CLOSE: the pool goes with whatever is still held */
	if ((rc = dxl_pool_close(g_pool)) != 0)
		die("worker %d: dxl_pool_close: %d", g_cfg.w, rc);
}

/* ------------------------------------------------------------ checks */

/*
 * What may legitimately be in object F: allowed[F] maps an object G to a
 * bound b — a word tagged (G, s) is legitimate in F iff s < b.  F's own
 * words always are (b = INF).
 *
 * Why it never reports a correct library (no false positive): data moves
 * between files only by a reflink X -> Y, which makes (part of) Y what X
 * held at that moment; a COW, a pin's copy of a shared unit and a pwrite
 * copy a file's own data into its own new units.  A word in X at the
 * moment of the reflink was stored before it, and its seq was taken
 * (fetch_add) before its store; r is read from the counter after
 * dxl_reflink returned, so s < r (strictly: fetch_add returns the old
 * value and r is at least the next one).  Stores after the reflink must
 * not reach Y — that is the promise.  Reflinks run under the test lock,
 * so the event log is in the order they happened, and processing it in
 * that order, allowed[Y][G] = max(allowed[Y][G], min(allowed[X][G], r)),
 * gives what X could hold at that moment: what reached X by earlier
 * events.  An event whose reflinker died has r = INF, allowing all X
 * held.  Bounds only grow, so checking with the bounds of the whole
 * log so far is still sound.  A failed reflink keeps its event: one that
 * ran out of space may have shared part of the range.
 *
 * Words a process stored after its own dxl_unpin (K_LATE) landing in
 * another file are the application's fault, not the library's: they are
 * counted as strays, not violations.
 *
 * After a clean check every live file's content is known, and the next
 * phase's reflinks can only carry that content or what arrives later
 * (whose bounds the later events raise): each live object's set is then
 * what it holds, G -> (its largest seq of G) + 1, and dead objects' sets
 * go (a dead object is never a reflink source again: every handle closed
 * with its process).  So the sets stay small in long runs.
 */
struct allow {
	uint32_t g;
	uint64_t b;
};
struct allowset {
	struct allow *v;
	uint32_t n, cap;
};
static struct allowset *g_allow;
static uint32_t g_ev_done;

static uint64_t allow_get(uint32_t f, uint32_t g)
{
	if (f == g)
		return INF;
	for (uint32_t i = 0; i < g_allow[f].n; i++)
		if (g_allow[f].v[i].g == g)
			return g_allow[f].v[i].b;
	return 0;
}

static void allow_raise(uint32_t f, uint32_t g, uint64_t b)
{
	struct allowset *a = &g_allow[f];

	if (f == g || b == 0)
		return;
	for (uint32_t i = 0; i < a->n; i++)
		if (a->v[i].g == g) {
			a->v[i].b = max64(a->v[i].b, b);
			return;
		}
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 8;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		CHECK(a->v);
	}
	a->v[a->n++] = (struct allow){ g, b };
}

static void allow_add_seen(struct allowset *a, uint32_t g, uint64_t s)
{
	for (uint32_t i = 0; i < a->n; i++)
		if (a->v[i].g == g) {
			a->v[i].b = max64(a->v[i].b, s + 1);
			return;
		}
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 8;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		CHECK(a->v);
	}
	a->v[a->n++] = (struct allow){ g, s + 1 };
}

static void allow_update(void)
{
	for (; g_ev_done < g_sh->nev; g_ev_done++) {
		const struct refl_ev *e = &g_sh->ev[g_ev_done];
		struct allowset *s = &g_allow[e->src];

		if (e->src == e->dst)
			continue; /* within one file: nothing new can arrive */
		allow_raise(e->dst, e->src, e->r);
		for (uint32_t i = 0; i < s->n; i++)
			allow_raise(e->dst, s->v[i].g, min64(s->v[i].b, e->r));
	}
}

enum { V_OK, V_STRAY, V_GARBAGE, V_FOREIGN, V_AFTER };

static int verdict(uint64_t w, uint32_t f, uint64_t seq_now)
{
	uint32_t g;
	uint64_t b;

	if (w == 0)
		return V_OK;
	g = tag_id(w);
	if ((w >> 56) != 0xA5 || g == 0 || tag_seq(w) == 0 || tag_seq(w) >= seq_now ||
	    (tag_writer(w) & 15) >= K_NKINDS)
		return V_GARBAGE;
	if (g == f)
		return V_OK;
	b = allow_get(f, g);
	if (b && tag_seq(w) < b)
		return V_OK;
	if ((tag_writer(w) & 15) == K_LATE)
		return V_STRAY;
	return b ? V_AFTER : V_FOREIGN;
}

static int slot_of(uint32_t id)
{
	for (int s = 0; s < opt_slots; s++)
		if (g_sh->table[s] == id)
			return s;
	return -2;
}

static const char *obj_where(uint32_t id, char *buf, size_t n)
{
	int s = slot_of(id);

	if (id >= MAXOBJ)
		snprintf(buf, n, "?");
	else if (s >= 0)
		snprintf(buf, n, "/a%d, ino %" PRIu64, s, g_sh->obj_ino[id]);
	else
		snprintf(buf, n, "dead, was ino %" PRIu64, g_sh->obj_ino[id]);
	return buf;
}

static const char *kind_of(unsigned writer)
{
	return (writer & 15) < K_NKINDS ? kind_name[writer & 15] : "?";
}

/* Did a reflink from object src put src's unit at byte soff somewhere in
 * dst's bytes [dlo, dhi)?  For the explanation only: it tells a unit still
 * shared by a reflink from a freed unit that happens to be reused by a file
 * that once got data from the same source. */
static int refl_put(uint32_t src, uint64_t soff, uint32_t dst, uint64_t dlo, uint64_t dhi)
{
	for (uint32_t i = 0; i < g_sh->nev; i++) {
		const struct refl_ev *e = &g_sh->ev[i];
		uint64_t len = e->len ? e->len : max_size(), d;

		if (e->src != src || e->dst != dst || soff < e->soff || soff - e->soff >= len)
			continue;
		d = e->doff + (soff - e->soff);
		if (d + g_unit > dlo && d < dhi)
			return 1;
	}
	return 0;
}

static void explain(int v, uint64_t w, uint32_t f, uint64_t foff)
{
	unsigned k = tag_writer(w) & 15;
	uint32_t g = tag_id(w);
	uint64_t b = allow_get(f, g), back = allow_get(g, f), s = tag_seq(w);
	int store = k == K_MMAP || k == K_DIRECT || k == K_DMA_T || k == K_DMA_L || k == K_CHILD_DMA;
	const struct seqrec *r = &g_sh->log[s & (LOGN - 1)];
	int known = r->seq == s && r->obj == g, shared = 0;
	uint64_t fu = foff / g_unit * g_unit;

	if (known && b) /* a unit of g's stored range that a reflink put at this unit of f */
		for (uint64_t o = r->off / g_unit * g_unit; o < r->off + r->len && !shared; o += g_unit)
			shared = refl_put(g, o, f, fu, fu + 1);
	if (known && back) /* this unit of f, put by a reflink inside g's stored range */
		shared = shared || refl_put(f, fu, g, r->off, r->off + r->len);
	if (v != V_GARBAGE && g < MAXOBJ && g_sh->obj_ino[g] == g_sh->obj_ino[f])
		printf("    note: object %u had the same inode number as this file: it was unlinked while "
		       "open (or mapped, or pinned) in another process, which freed the inode, and the "
		       "inode was reused: the stale handle, mapping or lease now reaches the new file\n", g);
	if (v == V_GARBAGE) {
		printf("    why: not a tag this run wrote (bad magic, object 0, a seq not yet handed out): "
		       "foreign bytes or a torn word\n");
	} else if ((v == V_AFTER || back) && store && (shared || !known)) {
		if (v == V_AFTER)
			printf("    why: object %u's data reached this file by reflink only up to seq %" PRIu64
			       ", and this store came later, into a unit a reflink shared with this file", g, b);
		else
			printf("    why: this file's data was reflinked into object %u (up to seq %" PRIu64
			       "), and a store aimed at object %u landed in a unit still shared with this file",
			       g, back, g);
		if (k == K_MMAP)
			printf(": a plain mapping writing a shared unit — issue 7 item 1\n");
		else
			printf(": a pinned or direct-mapped unit shared by a reflink — issue 7 item 3 (expected "
			       "with DXL_TEST_SHARE_PINNED=1)\n");
		if (!known)
			printf("    (the store's range is no longer in the seq log: the offsets were not "
			       "compared)\n");
	} else if (store && (v == V_AFTER || back)) {
		printf("    why: reflinks linked object %u and this file, but no single reflink put the "
		       "stored range at this offset: either a chain of reflinks shared the unit (then "
		       "it is issue 7 item %d) or a unit object %u had %s was freed and handed to this file "
		       "while the store could still reach it (quarantine failure: expected with "
		       "DXL_TEST_NO_QUARANTINE=1)\n",
		       g, k == K_MMAP ? 1 : 3, g, k == K_MMAP || k == K_DIRECT ? "mapped" : "pinned");
	} else if (store) {
		printf("    why: no reflink ever linked the two objects: a unit object %u had %s was freed "
		       "and handed to this file while the store could still reach it — quarantine failure "
		       "(expected with DXL_TEST_NO_QUARANTINE=1; otherwise the pin was lost: issue 7 items 2 "
		       "(a fork child's close) and 4 (a stale unpin))\n",
		       g, k == K_MMAP || k == K_DIRECT ? "mapped" : "pinned");
	} else if (v == V_AFTER) {
		printf("    why: object %u's data reached this file by reflink only up to seq %" PRIu64
		       ", and this %s came later: a write that should have copied on write (a new bug)\n",
		       g, b, kind_of(tag_writer(w)));
	} else {
		printf("    why: no reflink ever linked object %u to this file: a %s aimed at it landed here "
		       "(a misdirected write: a new bug)\n", g, kind_of(tag_writer(w)));
	}
}

static void explain_seq(uint64_t s)
{
	const struct seqrec *r = &g_sh->log[s & (LOGN - 1)];
	unsigned wk = r->writer >> 4;

	if (r->seq != s) {
		printf("    seq %" PRIu64 ": no longer in the log\n", s);
		return;
	}
	printf("    seq %" PRIu64 ": w%u %s of object %u (slot /a%u then) bytes %" PRIu64 "+%u", s, wk,
	       r->what < K_NKINDS ? kind_name[r->what] : "?", r->obj, r->slot, r->off, r->len);
	if (r->what != K_PWRITE && r->what != K_CHILD && r->what != K_INIT)
		printf(", pinned or mapped at seq %u", r->aux);
	if (wk < MAXW && g_sh->ws[wk].fork_close_seq && g_sh->ws[wk].fork_close_seq > r->aux &&
	    r->what != K_PWRITE)
		printf("; w%u's fork child closed the inherited handle at seq %" PRIu64 " (issue 7 item 2?)",
		       wk, g_sh->ws[wk].fork_close_seq);
	printf("\n");
}

struct viol_sum {
	uint64_t runs, words, strays, garbage, foreign, after;
	uint64_t by_kind[K_NKINDS];
	int files;
};

/* Check one object: every word must be fine (see verdict()).  Violations
 * are reported per run of words with the same tag source in one unit. */
static void check_object(dxl_pool *pool, int slot, uint32_t id, struct viol_sum *vs, int *fail,
			 struct allowset *seen)
{
	char p[16], where[48];
	dxl_file *f;
	struct dxl_stat st;
	uint64_t *buf, nw, seq_now = __atomic_load_n(&g_sh->seq, __ATOMIC_SEQ_CST);
	uint64_t run_i = 0, run_n = 0, run_w = 0;
	int run_v = 0, had = 0;

	slot_path(p, sizeof(p), slot);
	if (dxl_open(pool, p, O_RDONLY, 0, &f) != 0) {
		printf("FAILED: %s (object %u) cannot be opened: %s\n", p, id, dxl_errmsg());
		(*fail)++;
		return;
	}
	CHECK_OK(dxl_fstat(f, &st));
	if (st.ino != g_sh->obj_ino[id]) {
		printf("FAILED: %s is ino %" PRIu64 ", but object %u was created as ino %" PRIu64
		       ": the file table is out of sync\n", p, st.ino, id, g_sh->obj_ino[id]);
		(*fail)++;
	}
	nw = st.size / 8;
	buf = malloc(st.size + 8);
	CHECK(buf);
	CHECK_RC(dxl_pread(f, buf, st.size, 0), (long long)st.size);
	CHECK_OK(dxl_close(f));
	for (uint64_t i = 0; i <= nw; i++) {
		int v = i < nw ? verdict(buf[i], id, seq_now) : V_OK;

		if (v == V_STRAY) {
			vs->strays++;
			v = V_OK;
		} else if (v == V_OK && i < nw && buf[i] && tag_id(buf[i]) != id &&
			   (i == 0 || buf[i] != buf[i - 1])) {
			allow_add_seen(seen, tag_id(buf[i]), tag_seq(buf[i]));
		}
		if (run_n && (v == V_OK || (8 * i) / g_unit != (8 * run_i) / g_unit || v != run_v ||
			      tag_id(buf[i]) != tag_id(run_w) || tag_writer(buf[i]) != tag_writer(run_w))) {
			/* the end of a run: report it */
			vs->runs++;
			if (vs->runs <= (uint64_t)opt_max_report) {
				unsigned wr = tag_writer(run_w);
				printf("VIOLATION %s (object %u, ino %" PRIu64 ") offset %" PRIu64 " (unit %" PRIu64 "): word %016" PRIx64
				       " = object %u (%s), writer w%u %s, seq %" PRIu64 "; %" PRIu64
				       " word(s) like it here\n",
				       p, id, st.ino, 8 * run_i, 8 * run_i / g_unit, run_w, tag_id(run_w),
				       obj_where(tag_id(run_w), where, sizeof(where)), wr >> 4, kind_of(wr),
				       tag_seq(run_w), run_n);
				explain(run_v, run_w, id, 8 * run_i);
				if (run_v != V_GARBAGE)
					explain_seq(tag_seq(run_w));
			}
			run_n = 0;
		}
		if (v == V_OK)
			continue;
		if (!run_n) {
			run_i = i;
			run_w = buf[i];
			run_v = v;
		}
		run_n++;
		vs->words++;
		had = 1;
		if (v == V_GARBAGE)
			vs->garbage++;
		else if (v == V_FOREIGN)
			vs->foreign++;
		else
			vs->after++;
		if (v != V_GARBAGE)
			vs->by_kind[tag_writer(buf[i]) & 15]++;
	}
	vs->files += had;
	free(buf);
}

static int list_all_cb(void *arg, const struct dxl_lease_info *in)
{
	int *n = arg;

	if ((*n)++ < 5)
		printf("  left in the pool: %s id %" PRIu64 " pid %d ino %" PRIu64 " [%" PRIu64 ", %" PRIu64
		       ") state %u\n",
		       in->kind == DXL_INFO_PIN || in->kind == DXL_INFO_PIN_LONGTERM ? "pin" : "lease",
		       in->id, in->pid, in->ino, in->start, in->end, in->state);
	return 0;
}

static void fsck_report(void *arg, const char *msg)
{
	(void)arg;
	printf("  fsck: %s\n", msg);
}

/* The namespace must be what the table says: /fill and the live slots. */
static void check_namespace(dxl_pool *pool, int *fail)
{
	dxl_dir *d;
	struct dxl_dirent de;
	int rc, seen[MAXSLOT] = { 0 };

	CHECK_OK(dxl_opendir(pool, "/", &d));
	while ((rc = dxl_readdir(d, &de)) == 1) {
		int s = -1;
		if (!strcmp(de.name, "fill"))
			continue;
		if (sscanf(de.name, "a%d", &s) == 1 && s >= 0 && s < opt_slots && g_sh->table[s]) {
			seen[s] = 1;
			continue;
		}
		printf("FAILED: /%s is in the pool but not in the file table\n", de.name);
		(*fail)++;
	}
	CHECK(rc == 0);
	CHECK_OK(dxl_closedir(d));
	for (int s = 0; s < opt_slots; s++)
		if (g_sh->table[s] && !seen[s]) {
			printf("FAILED: the file table has object %u in /a%d, which is not in the pool\n",
			       g_sh->table[s], s);
			(*fail)++;
		}
}

static uint32_t g_filler_id;

/* Returns the violations found (runs of words); *fail counts other failures. */
static uint64_t check_phase(int phase, int *fail, struct viol_sum *total)
{
	struct viol_sum vs;
	struct dxl_fsck_result res;
	dxl_pool *pool = lt_open();
	int left = 0, files = 0;

	struct allowset seen[MAXSLOT + 1];

	memset(&vs, 0, sizeof(vs));
	memset(seen, 0, sizeof(seen));
	/* a worker that died holding the test lock: its intent is repaired now */
	tl_lock(pool);
	tl_unlock();
	allow_update();
	check_namespace(pool, fail);
	for (int s = 0; s < opt_slots; s++)
		if (g_sh->table[s]) {
			check_object(pool, s, g_sh->table[s], &vs, fail, &seen[s]);
			files++;
		}
	check_object(pool, -1, g_filler_id, &vs, fail, &seen[MAXSLOT]);
	if (!vs.runs) {
		/* see above allow_get(): what the live files hold is all the
		 * next reflinks can carry */
		for (uint32_t id = 1; id <= g_sh->next_id; id++) {
			free(g_allow[id].v);
			memset(&g_allow[id], 0, sizeof(g_allow[id]));
		}
		for (int s = 0; s < opt_slots; s++)
			if (g_sh->table[s])
				g_allow[g_sh->table[s]] = seen[s];
			else
				free(seen[s].v);
	} else {
		for (int s = 0; s < MAXSLOT; s++)
			free(seen[s].v);
	}
	free(seen[MAXSLOT].v);
	CHECK_OK(dxl_lease_list(pool, list_all_cb, &left));
	if (left) {
		printf("FAILED: %d leases or pins left after every worker of phase %d ended\n", left, phase);
		(*fail)++;
	}
	CHECK_OK(dxl_pool_close(pool));
	int rc = dxl_fsck(lt_pool_path, 0, fsck_report, NULL, &res);
	if (rc != 0 || res.problems) {
		printf("FAILED: fsck after phase %d: rc %d, %" PRIu64 " problem(s)\n", phase, rc, res.problems);
		(*fail)++;
	}
	if (vs.runs)
		printf("phase %d: %" PRIu64 " violation(s) (%" PRIu64 " words) in %d of %d files: %" PRIu64
		       " with no reflink path, %" PRIu64 " after the reflink's bound, %" PRIu64 " not tags\n",
		       phase, vs.runs, vs.words, vs.files, files + 1, vs.foreign, vs.after, vs.garbage);
	total->runs += vs.runs;
	total->words += vs.words;
	total->strays += vs.strays;
	total->foreign += vs.foreign;
	total->after += vs.after;
	total->garbage += vs.garbage;
	for (int k = 0; k < K_NKINDS; k++)
		total->by_kind[k] += vs.by_kind[k];
	if (vs.strays && opt_verbose)
		printf("phase %d: %" PRIu64 " late-DMA words after dxl_unpin in other files (the "
		       "application's own fault: not counted)\n", phase, vs.strays);
	return vs.runs;
}

/* ------------------------------------------------------------- main */

static void write_tagged(dxl_file *f, uint32_t id, uint64_t off, uint64_t len)
{
	uint64_t chunk = max64(g_unit, 1 << 20);
	uint64_t *buf = malloc(chunk);

	CHECK(buf);
	while (len) {
		uint64_t n = min64(chunk, len), s = next_seq();
		long long w;

		fill_tag(buf, n, tag_make(id, W_MAIN << 4 | K_INIT, s));
		seq_note(s, K_INIT, id, 255, off, n, 0, W_MAIN << 4 | K_INIT);
		w = dxl_pwrite(f, buf, n, off);
		if (w == -ENOSPC)
			break;
		CHECK_RC(w, (long long)n);
		off += n;
		len -= n;
	}
	free(buf);
}

/* Keep the pool fairly full: a filler file takes all but g_free_target
 * units, so what the workers free is what they allocate next. */
static void adjust_filler(dxl_pool *pool)
{
	struct dxl_statfs sf;
	dxl_file *f;
	uint64_t size;

	CHECK_OK(dxl_statfs(pool, &sf));
	CHECK_OK(dxl_open(pool, "/fill", O_RDWR, 0, &f));
	size = fsize(f);
	if (sf.free_units > g_free_target + g_free_target / 4)
		write_tagged(f, g_filler_id, size, (sf.free_units - g_free_target) * g_unit);
	else if (sf.free_units < g_free_target / 2)
		CHECK_OK(dxl_ftruncate(f, size - min64(size, (g_free_target - sf.free_units) * g_unit)));
	CHECK_OK(dxl_close(f));
}

static void setup_pool(void)
{
	dxl_pool *pool;
	dxl_file *f;

	lt_mkfs(g_pool_size, g_unit, (uint32_t)opt_break_ms, 0);
	pool = lt_open();
	g_filler_id = ++g_sh->next_id;
	CHECK_OK(dxl_open(pool, "/fill", O_RDWR | O_CREAT | O_EXCL, 0644, &f));
	g_sh->obj_ino[g_filler_id] = fino(f);
	CHECK_OK(dxl_close(f));
	t_rng = opt_seed;
	for (int s = 0; s < opt_slots; s++) {
		char p[16];
		uint32_t id = ++g_sh->next_id;

		slot_path(p, sizeof(p), s);
		CHECK_OK(dxl_open(pool, p, O_RDWR | O_CREAT | O_EXCL, 0644, &f));
		g_sh->obj_ino[id] = fino(f);
		g_sh->table[s] = id;
		write_tagged(f, id, 0, (1 + rnd_below(g_maxu / 2)) * g_unit);
		CHECK_OK(dxl_close(f));
	}
	adjust_filler(pool);
	CHECK_OK(dxl_pool_close(pool));
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	return v;
}

static void usage(void)
{
	LT_FAIL("usage: test_attrib [--seed N] [--workers W] [--phases P] [--phase-ops K] [--ops TOTAL] "
		"[--seconds S] [--slots N] [--unit 4k|2m|BYTES] [--break-ms MS] [--expect-violations] "
		"[--no-fork-close] [--no-fork] [--no-kill] [--no-mmap] [--no-unlink] [--max-report N] "
		"[--verbose]");
}

struct phase_stats {
	int killed, died;
};

/* Fork the workers of a phase and wait until every one, and every fork
 * child orphaned by a worker's death (we are their subreaper), is gone. */
static void run_phase(int phase, uint64_t seed, struct phase_stats *ps, int *fail)
{
	struct wcfg cfg[MAXW];
	pid_t pids[MAXW];
	int st, left = opt_workers;
	int64_t end = lt_now_ns() + (int64_t)PHASE_BOUND_S * 1000000000;

	t_rng = seed;
	for (int w = 0; w < opt_workers; w++) {
		int r = (int)rnd_below(10);

		g_sh->ws[w].killed_self = 0;
		g_sh->ws[w].fork_close_seq = 0;
		cfg[w].w = w;
		cfg[w].phase = phase;
		cfg[w].seed = rnd();
		cfg[w].ops[0] = opt_phase_ops / 2;
		cfg[w].ops[1] = opt_phase_ops - opt_phase_ops / 2;
		cfg[w].mode = r < 5 ? EV_THREAD : r < 8 ? EV_DISPATCH : EV_NEVER;
		cfg[w].kill_at = !opt_no_kill && rnd_below(3) == 0 ?
					 (int)(opt_phase_ops / 8 + rnd_below((uint64_t)opt_phase_ops / 2)) : -1;
		r = (int)rnd_below(10);
		cfg[w].end = r < 6 ? END_CLEAN : r < 8 ? END_CLOSE : END_EXIT;
		if (opt_verbose)
			printf("  w%d: %s, %s, end %s\n", w, mode_name[cfg[w].mode],
			       cfg[w].kill_at >= 0 ? "SIGKILLs itself" : "lives",
			       cfg[w].end == END_CLEAN ? "clean" : cfg[w].end == END_CLOSE ? "pool close" : "_exit");
	}
	lt_nchildren = 0; /* every earlier helper has been reaped */
	for (int w = 0; w < opt_workers; w++)
		pids[w] = lt_spawn(worker_main, &cfg[w]);
	for (;;) {
		pid_t r = waitpid(-1, &st, WNOHANG);
		int w;

		if (r < 0 && errno == ECHILD)
			break;
		if (r < 0 && errno != EINTR)
			LT_FAIL("waitpid: %s", strerror(errno));
		if (r <= 0) {
			if (lt_now_ns() > end)
				LT_FAIL("phase %d: %d worker(s) still running after %d s", phase, left, PHASE_BOUND_S);
			lt_sleep_ms(2);
			continue;
		}
		for (w = 0; w < opt_workers && pids[w] != r; w++)
			;
		if (w == opt_workers)
			continue; /* a fork child its dead worker left behind */
		lt_forget(r);
		left--;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && g_sh->ws[w].killed_self) {
			ps->killed++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("FAILED: phase %d worker %d (pid %d) %s %d\n", phase, w, (int)r,
			       WIFSIGNALED(st) ? "died of signal" : "exited with status",
			       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			ps->died++;
			(*fail)++;
		}
	}
}

static void sum_stats(struct wstat *s)
{
	memset(s, 0, sizeof(*s));
	for (int w = 0; w < opt_workers; w++) {
		const struct wstat *x = &g_sh->ws[w];
		s->ops += x->ops, s->enospc += x->enospc, s->faults += x->faults;
		s->dma_passes += x->dma_passes, s->late_passes += x->late_passes, s->map_passes += x->map_passes;
		s->breaks += x->breaks, s->revokes += x->revokes, s->coop_revoked += x->coop_revoked;
		s->lost_breaks += x->lost_breaks, s->early_breaks += x->early_breaks;
		s->forks += x->forks, s->fork_fail += x->fork_fail, s->fork_hang += x->fork_hang;
		s->pins_vanished += x->pins_vanished, s->unexpected += x->unexpected;
		s->pins_stolen += x->pins_stolen, s->forks_skipped += x->forks_skipped;
		s->kills_skipped += x->kills_skipped;
		s->reflinks += x->reflinks, s->creates += x->creates, s->unlinks += x->unlinks;
		s->renames += x->renames;
	}
}

/* What the workers of a phase saw that is a failure by itself. */
static void phase_failures(int phase, const struct wstat *a, const struct wstat *b, int *fail)
{
	if (b->pins_vanished > a->pins_vanished) {
		printf("FAILED: phase %d: %" PRIu64 " pins were gone from the pin table before their "
		       "dxl_unpin: %" PRIu64 " in workers whose fork child had closed the inherited handle "
		       "(issue 7 item 2), %" PRIu64 " in workers with no such child (another process's stale "
		       "unpin: issue 7 item 4)\n", phase, b->pins_vanished - a->pins_vanished,
		       (b->pins_vanished - a->pins_vanished) - (b->pins_stolen - a->pins_stolen),
		       b->pins_stolen - a->pins_stolen);
		(*fail)++;
	}
	if (b->fork_hang > a->fork_hang || b->fork_fail > a->fork_fail) {
		printf("FAILED: phase %d: %" PRIu64 " fork children hung, %" PRIu64 " failed (issue 7 item 2?)\n",
		       phase, b->fork_hang - a->fork_hang, b->fork_fail - a->fork_fail);
		(*fail)++;
	}
	if (b->unexpected > a->unexpected) {
		printf("FAILED: phase %d: %" PRIu64 " unexpected errors from the library (the first ones "
		       "above)\n", phase, b->unexpected - a->unexpected);
		(*fail)++;
	}
}

int main(int argc, char **argv)
{
	struct viol_sum total;
	uint64_t ops = 0;
	int fail = 0, phase, killed = 0, phases_run = 0;
	int64_t t0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--seed") && v)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--workers") && v)
			opt_workers = atoi(argv[++i]);
		else if (!strcmp(a, "--phases") && v)
			opt_phases = atoi(argv[++i]);
		else if (!strcmp(a, "--phase-ops") && v)
			opt_phase_ops = atoi(argv[++i]);
		else if (!strcmp(a, "--ops") && v)
			opt_total_ops = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--seconds") && v)
			opt_seconds = atoi(argv[++i]);
		else if (!strcmp(a, "--slots") && v)
			opt_slots = atoi(argv[++i]);
		else if (!strcmp(a, "--unit") && v)
			opt_unit = parse_size(argv[++i]);
		else if (!strcmp(a, "--break-ms") && v)
			opt_break_ms = atoi(argv[++i]);
		else if (!strcmp(a, "--max-report") && v)
			opt_max_report = atoi(argv[++i]);
		else if (!strcmp(a, "--expect-violations"))
			opt_expect = 1;
		else if (!strcmp(a, "--no-fork-close"))
			opt_no_fork_close = 1;
		else if (!strcmp(a, "--no-fork"))
			opt_no_fork = 1;
		else if (!strcmp(a, "--no-kill"))
			opt_no_kill = 1;
		else if (!strcmp(a, "--no-mmap"))
			opt_no_mmap = 1;
		else if (!strcmp(a, "--no-unlink"))
			opt_no_unlink = 1;
		else if (!strcmp(a, "--verbose"))
			opt_verbose = 1;
		else
			usage();
	}
	if (opt_workers < 1 || opt_workers > MAXW || opt_slots < 2 || opt_slots > MAXSLOT ||
	    opt_phase_ops < 2 || opt_break_ms < 1 || (opt_unit != 4096 && opt_unit != (2u << 20)))
		usage();
	if (opt_seed == 0)
		opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (opt_total_ops || opt_seconds)
		opt_phases = INT32_MAX;
	g_unit = opt_unit;
	if (g_unit == 4096) {
		g_maxu = 32;   /* 128 KiB files */
		g_opu = 8;
		g_pool_size = 24ull << 20;
		g_free_target = 96;
	} else {
		g_maxu = 6;    /* 12 MiB files */
		g_opu = 2;
		g_pool_size = 192ull << 20;
		g_free_target = 12;
	}
	lt_init("attrib");
	printf("test_attrib: seed %" PRIu64 ", %d workers, %d ops per phase, %d slots, unit %" PRIu64
	       ", break %d ms%s%s%s\n",
	       opt_seed, opt_workers, opt_phase_ops, opt_slots, g_unit,
	       opt_break_ms, getenv("DXL_TEST_NO_QUARANTINE") ? ", DXL_TEST_NO_QUARANTINE set" : "",
	       getenv("DXL_TEST_SHARE_PINNED") ? ", DXL_TEST_SHARE_PINNED set" : "",
	       opt_expect ? ", expecting violations" : "");
	if (opt_total_ops)
		printf("  until %" PRIu64 " operations\n", opt_total_ops);
	else if (opt_seconds)
		printf("  for %d s\n", opt_seconds);
	else
		printf("  %d phases\n", opt_phases);
	/* fork children of a worker that dies are reparented to us: reaped
	 * before the check, so nothing runs while the pool is checked */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	lt_watchdog(opt_seconds ? (unsigned)opt_seconds + 1800 : 14400);
	g_sh = mmap(NULL, sizeof(*g_sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(g_sh != MAP_FAILED);
	g_allow = calloc(MAXOBJ, sizeof(*g_allow));
	CHECK(g_allow);
	{
		pthread_mutexattr_t ma;
		CHECK(pthread_mutexattr_init(&ma) == 0);
		CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0);
		CHECK(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) == 0);
		CHECK(pthread_mutex_init(&g_sh->lock, &ma) == 0);
		pthread_mutexattr_destroy(&ma);
	}
	g_sh->seq = 1;
	setup_pool();
	memset(&total, 0, sizeof(total));
	t0 = lt_now_ns();
	for (phase = 0; phase < opt_phases; phase++) {
		struct phase_stats ps = { 0, 0 };
		struct wstat s0, s1;
		uint64_t v;
		dxl_pool *pool;

		if (opt_total_ops && ops >= opt_total_ops)
			break;
		if (opt_seconds && lt_now_ns() - t0 > (int64_t)opt_seconds * 1000000000)
			break;
		if (__atomic_load_n(&g_sh->stop, __ATOMIC_RELAXED)) {
			printf("  sequence or event space used up: the run ends here\n");
			break;
		}
		pool = lt_open();
		adjust_filler(pool);
		CHECK_OK(dxl_pool_close(pool));
		if (g_sh->nev > MAXEV / 2 && g_ev_done == g_sh->nev) {
			/* all processed: explanations now see only later reflinks */
			g_sh->nev = 0;
			g_ev_done = 0;
		}
		sum_stats(&s0);
		run_phase(phase, opt_seed * 0x9e3779b97f4a7c15ull + (uint64_t)phase, &ps, &fail);
		phases_run++;
		killed += ps.killed;
		sum_stats(&s1);
		ops += s1.ops - s0.ops;
		phase_failures(phase, &s0, &s1, &fail);
		v = check_phase(phase, &fail, &total);
		if (opt_verbose)
			printf("phase %d: done, %d worker(s) killed themselves, %" PRIu64 " ops so far\n", phase,
			       ps.killed, ops);
		/* the first phase that found something is the one to look at; a mode
		 * that expects violations goes on past other failures */
		if (v || (fail && !opt_expect))
			break;
	}
	{
		struct wstat s;

		sum_stats(&s);
		printf("  %d phase(s), %" PRIu64 " ops in %.1f s: %" PRIu64 " reflinks, %" PRIu64 " creates, %" PRIu64
		       " unlinks, %" PRIu64 " renames, %" PRIu64 " forks, %d self-kills, %" PRIu64
		       " EOWNERDEAD, %" PRIu64 " ENOSPC\n",
		       phases_run, s.ops, (double)(lt_now_ns() - t0) / 1e9, s.reflinks,
		       s.creates, s.unlinks, s.renames, s.forks, killed, g_sh->owner_deaths, s.enospc);
		printf("  %" PRIu64 " DMA passes (%" PRIu64 " late, after unpin), %" PRIu64
		       " mapping passes (%" PRIu64 " pages faulted), %" PRIu64 " breaks and %" PRIu64
		       " revocations seen by callbacks, %" PRIu64 " seq\n",
		       s.dma_passes, s.late_passes, s.map_passes, s.faults, s.breaks, s.revokes, g_sh->seq);
		if (s.kills_skipped)
			printf("  %" PRIu64 " self-kills left out under TSan: the library had threads running "
			       "(TSan does not count an EOWNERDEAD from pthread_mutex_timedlock as taking "
			       "the lock)\n", s.kills_skipped);
		if (s.forks_skipped)
			printf("  %" PRIu64 " forks left out under ASan: the library had threads running, and "
			       "ASan's allocator is not fork-safe\n", s.forks_skipped);
		if (total.strays)
			printf("  %" PRIu64 " late-DMA words (after the holder's own dxl_unpin) found in other "
			       "files: the application's fault, not counted\n", total.strays);
		if (s.coop_revoked || s.lost_breaks)
			printf("  note: %" PRIu64 " cooperating holders in workers with an event thread were "
			       "revoked, %" PRIu64 " of them without their BREAK dispatched (issue 7 item 5: break "
			       "events lost when many leases of one process break at once; or the event thread "
			       "is gone, item 2; or a slow machine: no timing is asserted)\n",
			       s.coop_revoked, s.lost_breaks);
	}
	if (total.runs) {
		printf("  violations: %" PRIu64 " (%" PRIu64 " words): %" PRIu64 " no reflink path, %" PRIu64
		       " after the reflink bound, %" PRIu64 " not tags; words by writer:",
		       total.runs, total.words, total.foreign, total.after, total.garbage);
		for (int k = 0; k < K_NKINDS; k++)
			if (total.by_kind[k])
				printf(" %s %" PRIu64, kind_name[k], total.by_kind[k]);
		printf("\n");
	}
	if (opt_expect) {
		if (!total.runs) {
			printf("test_attrib: FAILED: violations were expected, none found (seed %" PRIu64 ")\n",
			       opt_seed);
			return 1;
		}
		/* this mode proves that the check can fail; the default mode is
		 * the one that fails on everything else */
		if (fail)
			printf("  note: also %d other failure(s) above, which fail the default mode\n", fail);
		printf("test_attrib: OK: violations detected as expected (seed %" PRIu64 ")\n", opt_seed);
		return 0;
	}
	if (total.runs || fail) {
		printf("test_attrib: FAILED: %" PRIu64 " violation(s), %d other failure(s) (seed %" PRIu64
		       "; rerun with --seed %" PRIu64 ")\n",
		       total.runs, fail, opt_seed, opt_seed);
		return 1;
	}
	printf("test_attrib: OK (seed %" PRIu64 ")\n", opt_seed);
	return 0;
}
