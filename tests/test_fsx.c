/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fsx: an fsx-style random operation test against an in-memory shadow
 * model.  Uses only the public API (include/daxlease/daxlease.h).
 *
 * A handful of file slots (paths, some in a subdirectory) are driven by a
 * long, seeded random sequence of pwrite / pread / ftruncate / fallocate
 * (allocate, keep-size, punch hole, zero range) / reflink / rename (plain,
 * over another file, NOREPLACE, EXCHANGE) / link / unlink / re-create /
 * close and reopen, plus I/O through handles of unlinked-but-open files.
 * The model keeps, per inode, a byte buffer (zero beyond EOF), the link
 * count and an upper bound of the units that may be allocated.
 *
 * After every step: size, nlink and allocation of the touched file through
 * dxl_fstat, and a random range read compared with the model.  Every
 * --check-every steps: every slot's whole contents, the directory listings,
 * the allocation lower bound.  Between phases: close everything, dxl_fsck
 * (must be clean), reopen read-only and check everything, reopen read-write.
 *
 *   test_fsx [--seed S] [--ops N] [--unit BYTES] [--pool-size BYTES]
 *            [--max-size BYTES] [--phase-ops N] [--check-every N] [--keep] [-v]
 *
 * --seed 0 picks a seed from the clock.  The seed and the command line that
 * reproduces a run are printed at start; on failure the last operations are
 * printed and the pool is kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"

/* ------------------------------------------------------------ options */

static uint64_t opt_seed = 1;
static uint64_t opt_ops = 20000;
static uint64_t opt_unit = 4096;
static uint64_t opt_pool_size; /* 0 = derived */
static uint64_t opt_max_size;  /* 0 = derived */
static uint64_t opt_phase_ops; /* 0 = derived */
static uint64_t opt_check_every = 250;
static int opt_keep, opt_verbose;

/* ------------------------------------------------------------ state */

static char g_dir[4096], g_pool_path[4200], g_rt_dir[4200];
static dxl_pool *g_pool;
static uint64_t g_unit, g_max, g_max_units;
static uint64_t g_opno;
static uint64_t g_rng;
static uint64_t g_enospc;

#define LOG_N 24
static char g_log[LOG_N][256];
static uint64_t g_log_count;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t rnd_range(uint64_t lo, uint64_t hi) /* inclusive */
{
	return lo + rnd_below(hi - lo + 1);
}

static void logop(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logop(const char *fmt, ...)
{
	char *s = g_log[g_log_count % LOG_N];
	int n = snprintf(s, sizeof(g_log[0]), "#%" PRIu64 " ", g_opno);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s + n, sizeof(g_log[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	g_log_count++;
	if (opt_verbose)
		printf("%s\n", s);
}

static void fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\ntest_fsx.c:%d: FAILED at op %" PRIu64 ": ", line, g_opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  last library message: %s\n", dxl_errmsg());
	fprintf(stderr, "  last operations (oldest first):\n");
	uint64_t first = g_log_count > LOG_N ? g_log_count - LOG_N : 0;
	for (uint64_t i = first; i < g_log_count; i++)
		fprintf(stderr, "    %s\n", g_log[i % LOG_N]);
	fprintf(stderr, "  reproduce: test_fsx --seed %" PRIu64 " --ops %" PRIu64
			" --unit %" PRIu64 " --pool-size %" PRIu64 " --max-size %" PRIu64
			" --phase-ops %" PRIu64 " --check-every %" PRIu64 " -v\n",
		opt_seed, opt_ops, opt_unit, opt_pool_size, opt_max_size, opt_phase_ops,
		opt_check_every);
	fprintf(stderr, "  pool kept at %s\n", g_pool_path);
	exit(1);
}

#define FX(cond, ...)                                  \
	do {                                           \
		if (!(cond))                           \
			fail(__LINE__, __VA_ARGS__);   \
	} while (0)
/* A call that must return 0. */
#define FX_OK(call)                                                             \
	do {                                                                    \
		long long rc_ = (long long)(call);                              \
		FX(rc_ == 0, "%s returned %lld (%s)", #call, rc_, strerror((int)-rc_)); \
	} while (0)

/* ------------------------------------------------------------ model */

struct minode {
	int id;            /* for the log */
	uint64_t ino;      /* as the pool reports it */
	uint8_t *buf;      /* g_max bytes; zero beyond size */
	uint64_t size;
	uint8_t *may;      /* per unit: may be allocated (upper bound) */
	int nlink;
	dxl_file *fh;      /* open read-write handle, or NULL */
};

#define MAX_SLOTS 8
#define MAX_ORPHANS 6
static int g_nslots = 4;
static char g_slot_path[MAX_SLOTS][32];
static struct minode *g_slot[MAX_SLOTS];
static struct minode *g_orphan[MAX_ORPHANS];
static int g_norphans;
static int g_next_id;
static uint8_t *g_wbuf, *g_rbuf;

static struct minode *mi_new(void)
{
	struct minode *m = calloc(1, sizeof(*m));
	CHECK(m);
	m->buf = calloc(1, g_max);
	m->may = calloc(1, g_max_units);
	CHECK(m->buf && m->may);
	m->id = g_next_id++;
	return m;
}

static void mi_free(struct minode *m)
{
	free(m->buf);
	free(m->may);
	free(m);
}

static uint64_t may_count(const struct minode *m)
{
	uint64_t n = 0;
	for (uint64_t u = 0; u < g_max_units; u++)
		n += m->may[u];
	return n;
}

static void may_set(struct minode *m, uint64_t off, uint64_t len)
{
	if (!len)
		return;
	uint64_t first = off / g_unit, last = (off + len - 1) / g_unit;
	for (uint64_t u = first; u <= last && u < g_max_units; u++)
		m->may[u] = 1;
}

/* Units entirely inside [off, off+len) are freed. */
static void may_clear_inside(struct minode *m, uint64_t off, uint64_t len)
{
	uint64_t first = (off + g_unit - 1) / g_unit, end = (off + len) / g_unit;
	for (uint64_t u = first; u < end && u < g_max_units; u++)
		m->may[u] = 0;
}

/* Model of ftruncate(size): content beyond the new size is gone; truncating
 * down frees every unit past the new EOF (preallocated ones included). */
static void mi_truncate(struct minode *m, uint64_t size)
{
	if (size < m->size) {
		memset(m->buf + size, 0, m->size - size);
		for (uint64_t u = (size + g_unit - 1) / g_unit; u < g_max_units; u++)
			m->may[u] = 0;
	}
	m->size = size;
}

/* The inode lost a name (or a handle was closed): free it if unreachable. */
static void mi_drop_name(struct minode *m)
{
	m->nlink--;
	if (m->nlink > 0)
		return;
	if (!m->fh) {
		mi_free(m);
		return;
	}
	if (g_norphans == MAX_ORPHANS) {
		/* make room: close the oldest orphan handle */
		struct minode *o = g_orphan[0];
		logop("close orphan m%d (make room)", o->id);
		FX_OK(dxl_close(o->fh));
		mi_free(o);
		memmove(g_orphan, g_orphan + 1, sizeof(g_orphan[0]) * (MAX_ORPHANS - 1));
		g_norphans--;
	}
	g_orphan[g_norphans++] = m;
}

/* ------------------------------------------------------------ helpers */

static void fill_random(uint8_t *p, uint64_t len)
{
	uint64_t x = rnd() | 1;
	uint64_t i = 0;
	for (; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < len; i++)
		p[i] = (uint8_t)(rnd() | 1);
}

static dxl_file *handle(struct minode *m, const char *path)
{
	if (!m->fh) {
		int rc = dxl_open(g_pool, path, O_RDWR, 0, &m->fh);
		FX(rc == 0, "reopen %s (m%d) returned %d (%s)", path, m->id, rc, strerror(-rc));
	}
	return m->fh;
}

/* Compare pool bytes with model bytes; report the first difference. */
static void compare(const struct minode *m, const char *what, uint64_t off, const uint8_t *got,
		    uint64_t len)
{
	if (memcmp(got, m->buf + off, len) == 0)
		return;
	uint64_t i = 0;
	while (got[i] == m->buf[off + i])
		i++;
	uint64_t j = i;
	while (j < len && got[j] != m->buf[off + j])
		j++;
	fail(__LINE__,
	     "%s m%d (size %" PRIu64 "): data mismatch at offset %" PRIu64 " (0x%" PRIx64
	     "): got 0x%02x expected 0x%02x; bad run of %" PRIu64 " bytes (read was %" PRIu64
	     "+%" PRIu64 ", unit %" PRIu64 ")",
	     what, m->id, m->size, off + i, off + i, got[i], m->buf[off + i], j - i, off, len,
	     g_unit);
}

/* Read [off, off+len) through f and compare with the model (EOF aware). */
static void check_read(dxl_file *f, const struct minode *m, uint64_t off, uint64_t len,
		       const char *what)
{
	uint64_t want = off >= m->size ? 0 : (len < m->size - off ? len : m->size - off);
	ssize_t n = dxl_pread(f, g_rbuf, len, off);
	FX(n >= 0 && (uint64_t)n == want,
	   "%s m%d: pread(%" PRIu64 ", %" PRIu64 ") returned %zd, expected %" PRIu64
	   " (size %" PRIu64 ")",
	   what, m->id, off, len, n, want, m->size);
	compare(m, what, off, g_rbuf, want);
}

static void check_whole(dxl_file *f, const struct minode *m, const char *what)
{
	uint64_t chunk = g_max < (8u << 20) ? g_max : (8u << 20);
	for (uint64_t off = 0; off < m->size; off += chunk)
		check_read(f, m, off, chunk, what);
	check_read(f, m, m->size, 4096, what); /* EOF: 0 bytes */
}

static void check_stat(const struct minode *m, const struct dxl_stat *st, const char *what,
		       int full)
{
	FX(S_ISREG(st->mode), "%s m%d: mode 0%o is not a regular file", what, m->id, st->mode);
	FX(st->size == m->size, "%s m%d: size %" PRIu64 ", model %" PRIu64, what, m->id,
	   st->size, m->size);
	FX(st->nlink == (uint32_t)m->nlink, "%s m%d: nlink %u, model %d", what, m->id, st->nlink,
	   m->nlink);
	FX(st->ino == m->ino, "%s m%d: ino %" PRIu64 ", expected %" PRIu64, what, m->id, st->ino,
	   m->ino);
	FX(st->allocated % g_unit == 0, "%s m%d: allocated %" PRIu64 " is not a multiple of the unit %" PRIu64,
	   what, m->id, st->allocated, g_unit);
	uint64_t upper = may_count(m) * g_unit;
	FX(st->allocated <= upper,
	   "%s m%d: allocated %" PRIu64 " > %" PRIu64 " (units ever written / preallocated, "
	   "minus punched / truncated away; size %" PRIu64 ")",
	   what, m->id, st->allocated, upper, m->size);
	if (full) {
		/* every unit holding a non-zero byte must be mapped */
		uint64_t need = 0;
		for (uint64_t u = 0; u * g_unit < m->size; u++) {
			const uint8_t *p = m->buf + u * g_unit;
			uint64_t l = m->size - u * g_unit < g_unit ? m->size - u * g_unit : g_unit;
			for (uint64_t i = 0; i < l; i++)
				if (p[i]) {
					need++;
					break;
				}
		}
		FX(st->allocated >= need * g_unit,
		   "%s m%d: allocated %" PRIu64 " < %" PRIu64 " (units holding non-zero data)",
		   what, m->id, st->allocated, need * g_unit);
	}
}

/* After an operation on m (through f): stat + a random read, biased to
 * the range the operation touched. */
static void check_after(struct minode *m, dxl_file *f, uint64_t toff, uint64_t tlen)
{
	struct dxl_stat st;
	FX_OK(dxl_fstat(f, &st));
	check_stat(m, &st, "fstat", 0);
	uint64_t off, len;
	if (tlen) {
		/* the touched range, a little beyond both ends */
		uint64_t pre = rnd_below(130), post = rnd_below(130);
		off = toff > pre ? toff - pre : 0;
		len = tlen + pre + post;
		if (len > g_max)
			len = g_max;
		check_read(f, m, off, len, "touched range");
	}
	uint64_t r = rnd_below(4);
	off = rnd_below(g_max + g_unit);
	len = 1 + rnd_below(r == 3 ? g_max : 65536);
	if (len > g_max)
		len = g_max;
	check_read(f, m, off, len, "read-back");
}

/* ------------------------------------------------------------ special files */

/* A few FIFOs, sockets and devices beside the files, in /: they have no
 * contents, but must keep their type and device number across the run
 * and every reopen, and show in the listing with their type. */
#define MAX_SPECIAL 3
static struct {
	int live;
	uint32_t mode;
	uint64_t dev;
} g_sp[MAX_SPECIAL];

static void sp_path(int i, char *buf, size_t n)
{
	snprintf(buf, n, "/sp%d", i);
}

static uint32_t sp_dt(uint32_t mode)
{
	return S_ISFIFO(mode) ? DT_FIFO : S_ISSOCK(mode) ? DT_SOCK : S_ISCHR(mode) ? DT_CHR : DT_BLK;
}

static void check_special(const char *why)
{
	for (int i = 0; i < MAX_SPECIAL; i++) {
		char path[16];
		struct dxl_stat st;
		sp_path(i, path, sizeof(path));
		int rc = dxl_lstat(g_pool, path, &st);
		if (!g_sp[i].live) {
			FX(rc == -ENOENT, "%s: lstat %s returned %d, model: does not exist", why, path, rc);
			continue;
		}
		FX(rc == 0, "%s: lstat %s returned %d (%s)", why, path, rc, strerror(-rc));
		FX(st.mode == g_sp[i].mode && st.rdev == g_sp[i].dev && st.size == 0,
		   "%s: %s is mode %o dev %" PRIu64 ", expected %o dev %" PRIu64, why, path, st.mode,
		   st.rdev, g_sp[i].mode, g_sp[i].dev);
	}
}

static void op_special(void)
{
	static const uint32_t types[] = { S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK };
	int i = (int)rnd_below(MAX_SPECIAL);
	char path[16];

	sp_path(i, path, sizeof(path));
	if (g_sp[i].live && rnd_below(2)) {
		logop("unlink special %s", path);
		FX_OK(dxl_unlink(g_pool, path));
		g_sp[i].live = 0;
		return;
	}
	if (g_sp[i].live) {
		check_special("special");
		return;
	}
	uint32_t mode = types[rnd_below(4)] | (uint32_t)(0600 + rnd_below(0100));
	uint64_t dev = S_ISCHR(mode) || S_ISBLK(mode) ? rnd_below(1u << 20) : 0;
	logop("mknod %s mode %o dev %" PRIu64, path, mode, dev);
	int rc = dxl_mknod(g_pool, path, mode, dev);
	if (rc == -ENOSPC) {
		g_enospc++;
		return;
	}
	FX(rc == 0, "mknod %s returned %d (%s)", path, rc, strerror(-rc));
	g_sp[i].live = 1;
	g_sp[i].mode = mode;
	g_sp[i].dev = dev;
}

/* ------------------------------------------------------------ full checks */

static int slot_in_sub(int s)
{
	return s % 2 == 1;
}

static void check_dir(const char *dpath, int sub)
{
	char seen[MAX_SLOTS + 1] = { 0 };
	dxl_dir *d;
	struct dxl_dirent de;
	int rc;
	FX_OK(dxl_opendir(g_pool, dpath, &d));
	while ((rc = dxl_readdir(d, &de)) == 1) {
		if (!sub && strncmp(de.name, "sp", 2) == 0 && de.name[2] >= '0' &&
		    de.name[2] < '0' + MAX_SPECIAL && de.name[3] == '\0') {
			int i = de.name[2] - '0';
			FX(g_sp[i].live, "readdir %s: entry '%s' exists, model says it does not", dpath,
			   de.name);
			FX(de.type == sp_dt(g_sp[i].mode), "readdir %s: '%s' has type %u", dpath, de.name,
			   de.type);
			continue;
		}
		if (!sub && strcmp(de.name, "sub") == 0) {
			FX(de.type == DT_DIR, "readdir %s: 'sub' has type %u", dpath, de.type);
			FX(!seen[MAX_SLOTS], "readdir %s: 'sub' listed twice", dpath);
			seen[MAX_SLOTS] = 1;
			continue;
		}
		int found = -1;
		for (int s = 0; s < g_nslots; s++) {
			const char *p = g_slot_path[s] + (slot_in_sub(s) ? 5 : 1);
			if (slot_in_sub(s) == sub && strcmp(p, de.name) == 0)
				found = s;
		}
		FX(found >= 0, "readdir %s: unexpected entry '%s'", dpath, de.name);
		FX(g_slot[found], "readdir %s: entry '%s' exists, model says it does not", dpath,
		   de.name);
		FX(!seen[found], "readdir %s: '%s' listed twice", dpath, de.name);
		seen[found] = 1;
		FX(de.type == DT_REG, "readdir %s: '%s' has type %u", dpath, de.name, de.type);
		FX(de.ino == g_slot[found]->ino, "readdir %s: '%s' ino %" PRIu64 " expected %" PRIu64,
		   dpath, de.name, de.ino, g_slot[found]->ino);
	}
	FX(rc == 0, "readdir %s returned %d", dpath, rc);
	FX_OK(dxl_closedir(d));
	for (int s = 0; s < g_nslots; s++)
		if (slot_in_sub(s) == sub)
			FX(!g_slot[s] || seen[s], "readdir %s: '%s' missing", dpath, g_slot_path[s]);
	if (!sub)
		FX(seen[MAX_SLOTS], "readdir /: 'sub' missing");
}

static void check_all(const char *why)
{
	for (int s = 0; s < g_nslots; s++) {
		struct dxl_stat st;
		int rc = dxl_stat(g_pool, g_slot_path[s], &st);
		struct minode *m = g_slot[s];
		if (!m) {
			FX(rc == -ENOENT, "%s: stat %s returned %d, model: does not exist", why,
			   g_slot_path[s], rc);
			continue;
		}
		FX(rc == 0, "%s: stat %s returned %d (%s)", why, g_slot_path[s], rc, strerror(-rc));
		check_stat(m, &st, g_slot_path[s], 1);
		/* read through a fresh read-only handle */
		dxl_file *f;
		rc = dxl_open(g_pool, g_slot_path[s], O_RDONLY, 0, &f);
		FX(rc == 0, "%s: open %s read-only returned %d", why, g_slot_path[s], rc);
		check_whole(f, m, g_slot_path[s]);
		FX_OK(dxl_close(f));
	}
	for (int i = 0; i < g_norphans; i++) {
		struct dxl_stat st;
		FX_OK(dxl_fstat(g_orphan[i]->fh, &st));
		check_stat(g_orphan[i], &st, "orphan", 1);
		check_whole(g_orphan[i]->fh, g_orphan[i], "orphan");
	}
	check_dir("/", 0);
	check_dir("/sub", 1);
	check_special(why);
}

/* ------------------------------------------------------------ operations */

static int pick_existing(void)
{
	int n = 0, cand[MAX_SLOTS];
	for (int s = 0; s < g_nslots; s++)
		if (g_slot[s])
			cand[n++] = s;
	return n ? cand[rnd_below((uint64_t)n)] : -1;
}

static int pick_empty(void)
{
	int n = 0, cand[MAX_SLOTS];
	for (int s = 0; s < g_nslots; s++)
		if (!g_slot[s])
			cand[n++] = s;
	return n ? cand[rnd_below((uint64_t)n)] : -1;
}

static void op_create(int s)
{
	struct minode *m = g_slot[s];
	if (!m) {
		dxl_file *f;
		logop("create %s O_CREAT|O_EXCL", g_slot_path[s]);
		int rc = dxl_open(g_pool, g_slot_path[s], O_CREAT | O_EXCL | O_RDWR, 0644, &f);
		FX(rc == 0, "create %s returned %d (%s)", g_slot_path[s], rc, strerror(-rc));
		m = mi_new();
		m->nlink = 1;
		m->fh = f;
		struct dxl_stat st;
		FX_OK(dxl_fstat(f, &st));
		m->ino = st.ino;
		g_slot[s] = m;
		for (int i = 0; i < g_nslots; i++)
			FX(i == s || !g_slot[i] || g_slot[i]->ino != m->ino,
			   "new file %s got ino %" PRIu64 " of live %s", g_slot_path[s], m->ino,
			   g_slot_path[i]);
		for (int i = 0; i < g_norphans; i++)
			FX(g_orphan[i]->ino != m->ino,
			   "new file %s got ino %" PRIu64 " of an open unlinked file", g_slot_path[s],
			   m->ino);
		check_after(m, f, 0, 0);
		return;
	}
	if (rnd_below(2)) {
		dxl_file *f = NULL;
		logop("open %s O_CREAT|O_EXCL (exists: expect EEXIST)", g_slot_path[s]);
		int rc = dxl_open(g_pool, g_slot_path[s], O_CREAT | O_EXCL | O_RDWR, 0644, &f);
		FX(rc == -EEXIST, "O_EXCL open of existing %s returned %d", g_slot_path[s], rc);
		FX(dxl_errmsg()[0], "no error message for EEXIST");
		return;
	}
	logop("open %s O_CREAT|O_TRUNC (m%d, size %" PRIu64 ")", g_slot_path[s], m->id, m->size);
	if (m->fh) {
		FX_OK(dxl_close(m->fh));
		m->fh = NULL;
	}
	int rc = dxl_open(g_pool, g_slot_path[s], O_CREAT | O_TRUNC | O_RDWR, 0644, &m->fh);
	FX(rc == 0, "O_TRUNC open returned %d", rc);
	mi_truncate(m, 0);
	check_after(m, m->fh, 0, 0);
}

static void op_write(struct minode *m, dxl_file *f, const char *name)
{
	uint64_t len, off;
	uint64_t r = rnd_below(100);
	if (r < 30)
		len = 1 + rnd_below(64);
	else if (r < 60)
		len = 1 + rnd_below(g_unit);
	else if (r < 90)
		len = 1 + rnd_below(4 * g_unit < g_max / 4 ? 4 * g_unit : g_max / 4);
	else
		len = 1 + rnd_below(g_max);
	r = rnd_below(10);
	if (r < 4) {
		off = rnd_below(g_max - len + 1);
	} else if (r < 7) {
		/* straddle a unit boundary */
		uint64_t b = g_unit * rnd_range(1, g_max_units - 1);
		uint64_t back = rnd_range(1, len < g_unit ? len : g_unit);
		off = b - back;
		if (off + len > g_max)
			off = g_max - len;
	} else {
		/* near EOF: append, overwrite the tail, or leave a gap */
		uint64_t back = rnd_below(g_unit);
		off = m->size + rnd_below(2 * g_unit);
		off = off > back ? off - back : 0;
		if (off + len > g_max) {
			if (len > g_max)
				len = g_max;
			off = g_max - len;
		}
	}
	fill_random(g_wbuf, len);
	logop("pwrite %s m%d off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")", name, m->id,
	      off, len, m->size);
	ssize_t n = dxl_pwrite(f, g_wbuf, len, off);
	if (n == -ENOSPC) {
		g_enospc++;
		logop("  -> ENOSPC");
		n = 0;
	}
	FX(n >= 0 && (uint64_t)n <= len, "pwrite returned %zd (%s)", n, strerror((int)-n));
	if (n > 0 && (uint64_t)n < len) {
		logop("  -> short write %zd", n);
		g_enospc++;
	}
	if (n > 0) {
		memcpy(m->buf + off, g_wbuf, (size_t)n);
		if (off + (uint64_t)n > m->size)
			m->size = off + (uint64_t)n;
		may_set(m, off, (uint64_t)n);
	}
	check_after(m, f, off, len);
}

static void op_truncate(struct minode *m, dxl_file *f, const char *name)
{
	uint64_t size;
	uint64_t r = rnd_below(10);
	if (r == 0)
		size = 0;
	else if (r < 4)
		size = g_unit * rnd_below(g_max_units + 1);
	else if (r < 7) { /* near the current size */
		uint64_t back = rnd_below(g_unit);
		size = m->size + rnd_below(2 * g_unit);
		size = size > back ? size - back : 0;
	}
	else
		size = rnd_below(g_max + 1);
	if (size > g_max)
		size = g_max;
	logop("ftruncate %s m%d %" PRIu64 " -> %" PRIu64, name, m->id, m->size, size);
	int rc = dxl_ftruncate(f, size);
	if (rc == -ENOSPC) {
		g_enospc++;
		logop("  -> ENOSPC");
	} else {
		FX(rc == 0, "ftruncate returned %d (%s)", rc, strerror(-rc));
		mi_truncate(m, size);
	}
	check_after(m, f, size > 100 ? size - 100 : 0, 200);
}

static void pick_range(uint64_t *off, uint64_t *len)
{
	uint64_t r = rnd_below(4);
	if (r == 0) { /* unit aligned */
		uint64_t a = rnd_below(g_max_units);
		*off = a * g_unit;
		*len = g_unit * rnd_range(1, g_max_units - a);
	} else if (r == 1) { /* small, anywhere */
		*off = rnd_below(g_max - 1);
		*len = 1 + rnd_below(g_unit);
	} else {
		*off = rnd_below(g_max - 1);
		*len = 1 + rnd_below(g_max - *off);
	}
	if (*off + *len > g_max)
		*len = g_max - *off;
}

static void op_fallocate(struct minode *m, dxl_file *f, const char *name)
{
	uint64_t off, len;
	pick_range(&off, &len);
	int kind = (int)rnd_below(5);
	int mode;
	const char *mname;
	switch (kind) {
	case 0: mode = 0; mname = "alloc"; break;
	case 1: mode = FALLOC_FL_KEEP_SIZE; mname = "alloc|keep"; break;
	case 2: mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE; mname = "punch"; break;
	case 3: mode = FALLOC_FL_ZERO_RANGE; mname = "zero"; break;
	default: mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE; mname = "zero|keep"; break;
	}
	logop("fallocate %s %s m%d off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")", mname,
	      name, m->id, off, len, m->size);
	int rc = dxl_fallocate(f, mode, off, len);
	if (rc == -ENOSPC && kind != 2) {
		g_enospc++;
		logop("  -> ENOSPC");
		may_set(m, off, len); /* may have allocated part of it */
		check_after(m, f, off, len);
		return;
	}
	FX(rc == 0, "fallocate(%s, %" PRIu64 ", %" PRIu64 ") returned %d (%s)", mname, off, len,
	   rc, strerror(-rc));
	uint64_t end = off + len;
	switch (kind) {
	case 0:
	case 1:
		may_set(m, off, len);
		if (kind == 0 && end > m->size)
			m->size = end;
		break;
	case 2:
		if (off < m->size)
			memset(m->buf + off, 0, (end < m->size ? end : m->size) - off);
		may_clear_inside(m, off, len);
		break;
	default:
		if (off < m->size)
			memset(m->buf + off, 0, (end < m->size ? end : m->size) - off);
		may_set(m, off, len);
		if (kind == 3 && end > m->size)
			m->size = end;
		break;
	}
	check_after(m, f, off, len);
}

/* Collapse range, insert range (unit-aligned, inside the file) and
 * unshare range; the model moves its bytes and its per-unit allocation
 * bound with them. */
static void op_shift(struct minode *m, dxl_file *f, const char *name)
{
	uint64_t su = (m->size + g_unit - 1) / g_unit, fu, n, u;
	int kind = (int)rnd_below(3), rc;

	if (kind == 2) {
		uint64_t off, len;
		int keep = (int)rnd_below(2);
		pick_range(&off, &len);
		logop("fallocate unshare%s %s m%d off %" PRIu64 " len %" PRIu64, keep ? "|keep" : "",
		      name, m->id, off, len);
		rc = dxl_fallocate(f, FALLOC_FL_UNSHARE_RANGE | (keep ? FALLOC_FL_KEEP_SIZE : 0), off, len);
		if (rc == -ENOSPC) {
			g_enospc++;
			may_set(m, off, len);
			check_after(m, f, off, len);
			return;
		}
		FX(rc == 0, "unshare(%" PRIu64 ", %" PRIu64 ") returned %d (%s)", off, len, rc, strerror(-rc));
		may_set(m, off, len);
		if (!keep && off + len > m->size)
			m->size = off + len;
		check_after(m, f, off, len);
		return;
	}
	if (su < 2)
		return;
	fu = rnd_below(su - 1);
	n = 1 + rnd_below(kind == 0 ? su - 1 - fu : (su < 4 ? su : 4));
	uint64_t off = fu * g_unit, len = n * g_unit;
	if (kind == 0 && off + len >= m->size)
		return; /* collapse must end inside the file */
	if (kind == 1) {
		if (m->size + len > g_max)
			return;
		for (u = g_max_units - n; u < g_max_units; u++)
			if (m->may[u])
				return; /* the model could not follow units moved past its end */
	}
	logop("fallocate %s %s m%d off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")",
	      kind == 0 ? "collapse" : "insert", name, m->id, off, len, m->size);
	rc = dxl_fallocate(f, kind == 0 ? FALLOC_FL_COLLAPSE_RANGE : FALLOC_FL_INSERT_RANGE, off, len);
	FX(rc == 0, "%s(%" PRIu64 ", %" PRIu64 ") returned %d (%s)", kind == 0 ? "collapse" : "insert",
	   off, len, rc, strerror(-rc));
	if (kind == 0) {
		memmove(m->buf + off, m->buf + off + len, m->size - off - len);
		memset(m->buf + m->size - len, 0, len);
		m->size -= len;
		for (u = fu; u + n < g_max_units; u++)
			m->may[u] = m->may[u + n];
		for (; u < g_max_units; u++)
			m->may[u] = 0;
	} else {
		memmove(m->buf + off + len, m->buf + off, m->size - off);
		memset(m->buf + off, 0, len);
		m->size += len;
		for (u = g_max_units - 1; u >= fu + n; u--)
			m->may[u] = m->may[u - n];
		for (u = fu; u < fu + n; u++)
			m->may[u] = 0;
	}
	check_after(m, f, off, m->size - off);
}

static void op_reflink(void)
{
	int ss = pick_existing(), ds = pick_existing();
	if (ss < 0)
		return;
	struct minode *src = g_slot[ss], *dst = g_slot[ds];
	if (src->size == 0)
		return;
	uint64_t src_units = (src->size + g_unit - 1) / g_unit;
	uint64_t su = rnd_below(src_units);
	uint64_t src_off = su * g_unit;
	uint64_t full_avail = src->size / g_unit > su ? src->size / g_unit - su : 0;
	uint64_t len;
	int to_eof = full_avail == 0 || rnd_below(3) == 0;
	if (to_eof)
		len = src->size - src_off;
	else
		len = g_unit * rnd_range(1, full_avail < 8 ? full_avail : (rnd_below(4) ? 8 : full_avail));
	uint64_t len_units = (len + g_unit - 1) / g_unit;
	if (len_units > g_max_units)
		return;
	uint64_t du = rnd_below(g_max_units - len_units + 1);
	uint64_t dst_off = du * g_unit;
	if (len % g_unit) {
		/* an unaligned length (ending at src EOF) must also end at or past dst EOF */
		if (dst_off + len < dst->size) {
			uint64_t lo = (dst->size - len + g_unit - 1) / g_unit;
			if (lo + len_units > g_max_units)
				return;
			du = rnd_range(lo, g_max_units - len_units);
			dst_off = du * g_unit;
		}
	}
	if (src == dst && !(dst_off + len_units * g_unit <= src_off ||
			    src_off + len_units * g_unit <= dst_off))
		return; /* overlapping ranges of one file: not a valid clone */
	dxl_file *sf = handle(src, g_slot_path[ss]);
	dxl_file *df = handle(dst, g_slot_path[ds]);
	logop("reflink %s m%d off %" PRIu64 " -> %s m%d off %" PRIu64 " len %" PRIu64
	      " (sizes %" PRIu64 ", %" PRIu64 ")",
	      g_slot_path[ss], src->id, src_off, g_slot_path[ds], dst->id, dst_off, len, src->size,
	      dst->size);
	int rc = dxl_reflink(sf, src_off, df, dst_off, len);
	if (rc == -ENOSPC) {
		g_enospc++;
		logop("  -> ENOSPC");
		check_after(dst, df, dst_off, len);
		return;
	}
	FX(rc == 0, "reflink returned %d (%s)", rc, strerror(-rc));
	memmove(dst->buf + dst_off, src->buf + src_off, len);
	for (uint64_t i = 0; i < len_units; i++)
		dst->may[du + i] |= src->may[su + i];
	if (dst_off + len > dst->size)
		dst->size = dst_off + len;
	check_after(dst, df, dst_off, len);
	check_after(src, sf, src_off, len);
}

static void op_rename(void)
{
	int a = pick_existing();
	int b = (int)rnd_below((uint64_t)g_nslots);
	if (a < 0 || a == b)
		return;
	struct minode *ma = g_slot[a], *mb = g_slot[b];
	if (mb == ma)
		return; /* two links of one file: rename is a no-op in POSIX; skip */
	uint64_t r = rnd_below(8);
	if (r == 0) {
		logop("rename NOREPLACE %s -> %s (%s)", g_slot_path[a], g_slot_path[b],
		      mb ? "exists: expect EEXIST" : "free");
		int rc = dxl_rename(g_pool, g_slot_path[a], g_slot_path[b], DXL_RENAME_NOREPLACE);
		if (mb) {
			FX(rc == -EEXIST, "rename NOREPLACE onto existing returned %d", rc);
			FX(dxl_errmsg()[0], "no error message");
			return;
		}
		FX(rc == 0, "rename NOREPLACE returned %d (%s)", rc, strerror(-rc));
	} else if (r == 1 && mb) {
		logop("rename EXCHANGE %s m%d <-> %s m%d", g_slot_path[a], ma->id, g_slot_path[b],
		      mb->id);
		FX_OK(dxl_rename(g_pool, g_slot_path[a], g_slot_path[b], DXL_RENAME_EXCHANGE));
		g_slot[a] = mb;
		g_slot[b] = ma;
		return;
	} else {
		logop("rename %s m%d -> %s%s", g_slot_path[a], ma->id, g_slot_path[b],
		      mb ? " (replacing)" : "");
		int rc = dxl_rename(g_pool, g_slot_path[a], g_slot_path[b], 0);
		FX(rc == 0, "rename returned %d (%s)", rc, strerror(-rc));
	}
	g_slot[b] = ma;
	g_slot[a] = NULL;
	if (mb)
		mi_drop_name(mb);
	struct dxl_stat st;
	FX(dxl_stat(g_pool, g_slot_path[a], &st) == -ENOENT, "old name %s still exists after rename",
	   g_slot_path[a]);
	FX_OK(dxl_stat(g_pool, g_slot_path[b], &st));
	check_stat(ma, &st, g_slot_path[b], 0);
}

static void op_unlink(void)
{
	int a = pick_existing();
	if (a < 0)
		return;
	struct minode *m = g_slot[a];
	logop("unlink %s m%d (nlink %d%s)", g_slot_path[a], m->id, m->nlink,
	      m->fh ? ", open" : "");
	FX_OK(dxl_unlink(g_pool, g_slot_path[a]));
	g_slot[a] = NULL;
	if (m->fh && rnd_below(2)) {
		logop("  close m%d", m->id);
		FX_OK(dxl_close(m->fh));
		m->fh = NULL;
	}
	mi_drop_name(m);
	struct dxl_stat st;
	FX(dxl_stat(g_pool, g_slot_path[a], &st) == -ENOENT, "%s exists after unlink",
	   g_slot_path[a]);
}

static void op_link(void)
{
	int a = pick_existing(), b = pick_empty();
	if (a < 0 || b < 0)
		return;
	struct minode *m = g_slot[a];
	logop("link %s m%d -> %s", g_slot_path[a], m->id, g_slot_path[b]);
	int rc = dxl_link(g_pool, g_slot_path[a], g_slot_path[b]);
	FX(rc == 0, "link returned %d (%s)", rc, strerror(-rc));
	m->nlink++;
	g_slot[b] = m;
	struct dxl_stat st;
	FX_OK(dxl_stat(g_pool, g_slot_path[b], &st));
	check_stat(m, &st, g_slot_path[b], 0);
}

static void op_orphan(void)
{
	if (!g_norphans)
		return;
	int i = (int)rnd_below((uint64_t)g_norphans);
	struct minode *m = g_orphan[i];
	uint64_t r = rnd_below(3);
	if (r == 0) {
		logop("close orphan m%d", m->id);
		FX_OK(dxl_close(m->fh));
		mi_free(m);
		g_orphan[i] = g_orphan[--g_norphans];
	} else if (r == 1) {
		op_write(m, m->fh, "(orphan)");
	} else {
		logop("read orphan m%d", m->id);
		check_after(m, m->fh, 0, m->size);
	}
}

static void one_op(void)
{
	uint64_t r = rnd_below(100);
	if (r < 3) {
		int s = (int)rnd_below((uint64_t)g_nslots);
		op_create(s);
		return;
	}
	if (r < 11) {
		op_reflink();
		return;
	}
	if (r < 14) {
		op_rename();
		return;
	}
	if (r < 16) {
		op_unlink();
		return;
	}
	if (r < 18) {
		op_link();
		return;
	}
	if (r < 21) {
		op_orphan();
		return;
	}
	if (r < 23) {
		op_special();
		return;
	}
	int s = (int)rnd_below((uint64_t)g_nslots);
	if (!g_slot[s]) {
		op_create(s);
		return;
	}
	struct minode *m = g_slot[s];
	if (r < 24) {
		if (m->fh) {
			logop("close %s m%d", g_slot_path[s], m->id);
			FX_OK(dxl_close(m->fh));
			m->fh = NULL;
		}
		return;
	}
	dxl_file *f = handle(m, g_slot_path[s]);
	if (r < 25) {
		logop("%s %s m%d", r & 1 ? "fsync" : "fdatasync", g_slot_path[s], m->id);
		FX_OK(r & 1 ? dxl_fsync(f) : dxl_fdatasync(f));
		return;
	}
	if (r < 30) {
		uint64_t off = rnd_below(g_max + g_unit), len = 1 + rnd_below(g_max);
		logop("pread %s m%d off %" PRIu64 " len %" PRIu64, g_slot_path[s], m->id, off, len);
		check_read(f, m, off, len, "pread");
		return;
	}
	if (r < 40) {
		op_truncate(m, f, g_slot_path[s]);
		return;
	}
	if (r < 55) {
		op_fallocate(m, f, g_slot_path[s]);
		return;
	}
	if (r < 60) {
		op_shift(m, f, g_slot_path[s]);
		return;
	}
	op_write(m, f, g_slot_path[s]);
}

/* ------------------------------------------------------------ pool life */

static void fsck_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  fsck: %s\n", msg);
}

static void close_everything(void)
{
	for (int s = 0; s < g_nslots; s++)
		if (g_slot[s] && g_slot[s]->fh) {
			FX_OK(dxl_close(g_slot[s]->fh));
			g_slot[s]->fh = NULL;
		}
	for (int i = 0; i < g_norphans; i++) {
		FX_OK(dxl_close(g_orphan[i]->fh));
		mi_free(g_orphan[i]);
	}
	g_norphans = 0;
}

static uint64_t distinct_alloc_units(void)
{
	uint64_t sum = 0;
	for (int s = 0; s < g_nslots; s++) {
		struct minode *m = g_slot[s];
		int dup = 0;
		for (int t = 0; t < s; t++)
			dup |= g_slot[t] == m;
		if (!m || dup)
			continue;
		struct dxl_stat st;
		FX_OK(dxl_stat(g_pool, g_slot_path[s], &st));
		sum += st.allocated / g_unit;
	}
	return sum;
}

static void phase_boundary(int phase)
{
	logop("phase %d end: close all, pool close, fsck, reopen", phase);
	close_everything();
	FX_OK(dxl_pool_close(g_pool));
	g_pool = NULL;
	struct dxl_fsck_result res;
	memset(&res, 0, sizeof(res));
	int rc = dxl_fsck(g_pool_path, 0, fsck_report, NULL, &res);
	FX(rc == 0, "fsck after phase %d returned %d (%s), %" PRIu64 " problems", phase, rc,
	   strerror(-rc), res.problems);
	FX(res.problems == 0, "fsck returned 0 but counted %" PRIu64 " problems", res.problems);
	/* read-only open: everything must be there */
	FX_OK(dxl_pool_open(g_pool_path, DXL_POOL_RDONLY, &g_pool));
	check_all("read-only reopen");
	FX_OK(dxl_pool_close(g_pool));
	FX_OK(dxl_pool_open(g_pool_path, 0, &g_pool));
	check_all("reopen");
	/* no leaked data units: every used unit is mapped by some file */
	struct dxl_statfs sf;
	FX_OK(dxl_statfs(g_pool, &sf));
	uint64_t used = sf.data_units - sf.free_units;
	uint64_t mapped = distinct_alloc_units();
	FX(used <= mapped,
	   "statfs: %" PRIu64 " data units in use but files map only %" PRIu64 " (leak)", used,
	   mapped);
	if (opt_verbose)
		printf("phase %d: %" PRIu64 " units used, %" PRIu64 " mapped (shared counted "
		       "per file), fsck: %" PRIu64 " inodes %" PRIu64 " extents %" PRIu64
		       " shared units\n",
		       phase, used, mapped, res.inodes, res.extents, res.shared_units);
}

/* ------------------------------------------------------------ main */

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	case '\0': break;
	default:
		fprintf(stderr, "bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) { opt_keep = 1; continue; }
		if (!strcmp(a, "-v")) { opt_verbose = 1; continue; }
		if (!v) {
			fprintf(stderr, "usage: %s [--seed S] [--ops N] [--unit BYTES] [--pool-size BYTES] "
					"[--max-size BYTES] [--phase-ops N] [--check-every N] [--keep] [-v]\n",
				argv[0]);
			return 2;
		}
		i++;
		if (!strcmp(a, "--seed")) opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--ops")) opt_ops = parse_size(v);
		else if (!strcmp(a, "--unit")) opt_unit = parse_size(v);
		else if (!strcmp(a, "--pool-size")) opt_pool_size = parse_size(v);
		else if (!strcmp(a, "--max-size")) opt_max_size = parse_size(v);
		else if (!strcmp(a, "--phase-ops")) opt_phase_ops = parse_size(v);
		else if (!strcmp(a, "--check-every")) opt_check_every = parse_size(v);
		else { fprintf(stderr, "unknown option %s\n", a); return 2; }
	}
	if (opt_seed == 0)
		opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	if (!opt_max_size)
		opt_max_size = opt_unit <= 65536 ? 512 * opt_unit : 8 * opt_unit;
	if (opt_max_size > (256u << 20))
		opt_max_size = 256u << 20;
	if (!opt_pool_size) /* slots + orphans at full size with preallocation, twice over */
		opt_pool_size = 2 * (uint64_t)(MAX_SLOTS + MAX_ORPHANS) * opt_max_size + (64u << 20);
	if (!opt_phase_ops)
		opt_phase_ops = opt_ops / 8 ? opt_ops / 8 : 1;
	if (!opt_check_every)
		opt_check_every = 1;
	printf("test_fsx: seed %" PRIu64 ", %" PRIu64 " ops, unit %" PRIu64 ", pool %" PRIu64
	       ", max file size %" PRIu64 ", phase %" PRIu64 " ops\n",
	       opt_seed, opt_ops, opt_unit, opt_pool_size, opt_max_size, opt_phase_ops);
	fflush(stdout);
	g_rng = opt_seed;

	const char *tmp = getenv("TMPDIR");
	/* on a device (DXL_TEST_POOL=/dev/daxX.Y) the pool is the device */
	const char *dev = dxl_test_pool_at(g_dir, sizeof(g_dir), g_pool_path, sizeof(g_pool_path),
					   "dxl-fsx", opt_unit, tmp && *tmp ? tmp : "/var/tmp");
	snprintf(g_rt_dir, sizeof(g_rt_dir), "%s/rt", g_dir);
	CHECK(mkdir(g_rt_dir, 0700) == 0);
	setenv("DXL_RUNTIME_DIR", g_rt_dir, 1);

	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.size = dev ? 0 : opt_pool_size; /* a device: all of it, whatever it held */
	mo.unit = opt_unit;
	if (dev)
		mo.flags |= DXL_MKFS_FORCE;
	FX_OK(dxl_mkfs(g_pool_path, &mo));
	FX_OK(dxl_pool_open(g_pool_path, 0, &g_pool));
	struct dxl_statfs sf;
	FX_OK(dxl_statfs(g_pool, &sf));
	FX(sf.unit == opt_unit, "statfs unit %" PRIu64 ", asked for %" PRIu64, sf.unit, opt_unit);
	g_unit = sf.unit;
	g_max = (opt_max_size + g_unit - 1) / g_unit * g_unit;
	g_max_units = g_max / g_unit;
	FX(g_max_units >= 2, "max size must be at least two units");
	g_wbuf = malloc(g_max);
	g_rbuf = malloc(g_max + 8 * g_unit);
	CHECK(g_wbuf && g_rbuf);

	g_nslots = 4;
	for (int s = 0; s < g_nslots; s++)
		snprintf(g_slot_path[s], sizeof(g_slot_path[s]), slot_in_sub(s) ? "/sub/f%d" : "/f%d",
			 s);
	FX_OK(dxl_mkdir(g_pool, "/sub", 0755));

	int phase = 0;
	for (g_opno = 1; g_opno <= opt_ops; g_opno++) {
		one_op();
		if (g_opno % opt_check_every == 0)
			check_all("periodic check");
		if (g_opno % opt_phase_ops == 0)
			phase_boundary(++phase);
		if (g_opno % 100000 == 0) {
			printf("  %" PRIu64 " ops\n", g_opno);
			fflush(stdout);
		}
	}
	g_opno = opt_ops;
	phase_boundary(++phase);
	close_everything();
	FX_OK(dxl_pool_close(g_pool));
	printf("test_fsx: OK (seed %" PRIu64 ", %" PRIu64 " ops, %d phases, %" PRIu64
	       " ENOSPC/short)\n",
	       opt_seed, opt_ops, phase, g_enospc);
	for (int s = 0; s < g_nslots; s++) {
		struct minode *m = g_slot[s];
		if (!m)
			continue;
		for (int t = s; t < g_nslots; t++)
			if (g_slot[t] == m)
				g_slot[t] = NULL;
		mi_free(m);
	}
	free(g_wbuf);
	free(g_rbuf);
	if (!opt_keep)
		nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("pool kept at %s\n", g_pool_path);
	return 0;
}
