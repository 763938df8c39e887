/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_kill: process-kill crash test.  Uses only the public API.
 *
 * Each round forks a child that opens the pool and runs random metadata and
 * data operations (create, mkdir, rmdir, pwrite of a pattern derived from
 * (file id, offset, generation), truncate, punch, collapse and insert range,
 * unlink, rename of files and of directories, link, reflink, fsync).  Before each operation the child
 * records its intent in a shared-memory log; when the operation returns, it
 * records its result.  The parent sleeps 1-50 ms (counted from the fork in
 * one round of three, else from the moment the child has the pool open)
 * and SIGKILLs the child.
 *
 * Then the parent opens the pool (recovery runs: the child may have died
 * holding the metadata lock, in the middle of a transaction), closes it,
 * runs dxl_fsck (must be clean), reopens it and compares the whole
 * namespace (directory listings, link identity, link counts) and every
 * file's contents with a model replayed from the log.  Every operation that
 * returned must be there — data written by dxl_pwrite is durable when it
 * returns, no fsync needed.  The one operation that may have been in flight
 * (intent logged, no result) may be found either not done or done; a pwrite
 * or hole punch in flight may also be found partly done (each byte old or
 * new, the size old or new).  Data units in use must all be mapped by files
 * (orphans of the killed child are reaped).
 *
 *   test_kill [--seed S] [--rounds N] [--unit BYTES] [--max-delay-ms N] [--keep] [-v]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"

static uint64_t opt_seed = 1, opt_rounds = 30, opt_unit = 4096, opt_max_delay = 50;
static int opt_keep, opt_verbose;

static char g_dir[4096], g_pool_path[4200], g_rt_dir[4200];
static uint64_t g_unit;
static uint64_t g_round;

/* ------------------------------------------------------------ rng */

static uint64_t g_rng;
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint64_t rnd(void)
{
	return mix64(g_rng += 0x9e3779b97f4a7c15ull);
}
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* ------------------------------------------------------------ model */

#define KD 5         /* candidate directories */
#define KF 4         /* file names per directory */
#define KP (KD * KF) /* candidate file paths */
#define KINO 40
#define KMAXF (64 * 1024)

static const char *const dir_path[KD] = { "", "/a", "/b", "/a/c", "/b/c" };
static const int dir_parent[KD] = { -1, 0, 0, 1, 2 };

struct kino {
	uint32_t used, id, nlink, pad;
	uint64_t size;
	uint8_t data[KMAXF]; /* zero beyond size */
};

struct kmodel {
	uint8_t dir[KD];
	int16_t slot[KP]; /* inode index, -1 = none */
	uint32_t next_id;
	struct kino ino[KINO];
};

enum {
	K_CREATE = 1, K_CREATE_EXIST, K_MKDIR, K_RMDIR, K_RMDIR_NONEMPTY, K_WRITE, K_TRUNC,
	K_PUNCH, K_UNLINK, K_RENAME, K_RENAME_DIR, K_LINK, K_REFLINK, K_FSYNC, K_SHIFT,
};
static const char *const op_name[] = { "?", "create", "create-existing", "mkdir", "rmdir",
				       "rmdir-nonempty", "pwrite", "truncate", "punch", "unlink",
				       "rename", "rename-dir", "link", "reflink", "fsync",
				       "collapse/insert (off2 1: insert)" };

struct krec {
	uint32_t type;
	int32_t a, b;      /* paths or directories */
	int32_t ino;       /* model inode index created (create) */
	uint64_t off, len, off2;
	uint64_t gen;
	int64_t rc;
};

#define LOG_CAP 65536
struct klog {
	_Atomic uint32_t intent, done; /* records [0, done) returned; intent > done: in flight */
	_Atomic int failed;
	_Atomic int opened; /* the child has the pool open */
	char msg[1024];
	struct krec rec[LOG_CAP];
};
static struct klog *g_log;

static void path_of(int p, char *buf, size_t n)
{
	snprintf(buf, n, "%s/f%d", dir_path[p / KF], p % KF);
}

static const char *dpath(int d)
{
	return d == 0 ? "/" : dir_path[d];
}

static void describe(const struct krec *r, char *buf, size_t n)
{
	char pa[32] = "", pb[32] = "";
	switch (r->type) {
	case K_MKDIR: case K_RMDIR: case K_RMDIR_NONEMPTY:
		snprintf(buf, n, "%s %s", op_name[r->type], dpath(r->a));
		return;
	case K_RENAME_DIR:
		snprintf(buf, n, "%s %s -> %s", op_name[r->type], dpath(r->a), dpath(r->b));
		return;
	default:
		break;
	}
	path_of(r->a, pa, sizeof(pa));
	if (r->b >= 0)
		path_of(r->b, pb, sizeof(pb));
	snprintf(buf, n, "%s %s%s%s off %" PRIu64 " len %" PRIu64 " off2 %" PRIu64 " gen %" PRIu64,
		 op_name[r->type], pa, r->b >= 0 ? " " : "", pb, r->off, r->len, r->off2, r->gen);
}

static uint8_t pattern(uint32_t id, uint64_t off, uint64_t gen)
{
	uint64_t h = mix64(((uint64_t)id << 44) ^ (gen << 22) ^ (off >> 3) ^ 0x5bd1e995u);
	return (uint8_t)(h >> ((off & 7) * 8));
}

static int dir_empty(const struct kmodel *m, int d)
{
	for (int f = 0; f < KF; f++)
		if (m->slot[d * KF + f] >= 0)
			return 0;
	for (int c = 0; c < KD; c++)
		if (dir_parent[c] == d && m->dir[c])
			return 0;
	return 1;
}

static int under(int d, int top) /* d is top or inside it */
{
	for (; d >= 0; d = dir_parent[d])
		if (d == top)
			return 1;
	return 0;
}

static int map_dir(int d, int src, int dst)
{
	if (d == src)
		return dst;
	if (src == 1 && d == 3)
		return 4;
	if (src == 2 && d == 4)
		return 3;
	return d;
}

static void drop_link(struct kmodel *m, int p)
{
	int i = m->slot[p];
	m->slot[p] = -1;
	if (--m->ino[i].nlink == 0)
		memset(&m->ino[i], 0, sizeof(m->ino[i]));
}

/* Apply a record that returned rc (only successes change the model). */
static void apply(struct kmodel *m, const struct krec *r)
{
	if (r->rc < 0)
		return;
	struct kino *in = NULL;
	switch (r->type) {
	case K_CREATE:
		in = &m->ino[r->ino];
		memset(in, 0, sizeof(*in));
		in->used = 1;
		in->id = m->next_id++;
		in->nlink = 1;
		m->slot[r->a] = (int16_t)r->ino;
		break;
	case K_MKDIR:
		m->dir[r->a] = 1;
		break;
	case K_RMDIR:
		m->dir[r->a] = 0;
		break;
	case K_WRITE:
		in = &m->ino[m->slot[r->a]];
		for (uint64_t i = 0; i < r->len; i++)
			in->data[r->off + i] = pattern(in->id, r->off + i, r->gen);
		if (r->off + r->len > in->size)
			in->size = r->off + r->len;
		break;
	case K_TRUNC:
		in = &m->ino[m->slot[r->a]];
		if (r->off < in->size)
			memset(in->data + r->off, 0, in->size - r->off);
		in->size = r->off;
		break;
	case K_PUNCH: {
		in = &m->ino[m->slot[r->a]];
		uint64_t end = r->off + r->len < in->size ? r->off + r->len : in->size;
		if (r->off < end)
			memset(in->data + r->off, 0, end - r->off);
		break;
	}
	case K_UNLINK:
		drop_link(m, r->a);
		break;
	case K_RENAME: {
		int i = m->slot[r->a];
		if (m->slot[r->b] >= 0)
			drop_link(m, r->b);
		m->slot[r->b] = (int16_t)i;
		m->slot[r->a] = -1;
		break;
	}
	case K_RENAME_DIR: {
		struct kmodel old;
		memcpy(old.dir, m->dir, sizeof(old.dir));
		memcpy(old.slot, m->slot, sizeof(old.slot));
		for (int d = 0; d < KD; d++)
			if (under(d, r->a))
				m->dir[d] = 0;
		for (int p = 0; p < KP; p++)
			if (under(p / KF, r->a))
				m->slot[p] = -1;
		for (int d = 0; d < KD; d++)
			if (under(d, r->a) && old.dir[d])
				m->dir[map_dir(d, r->a, r->b)] = 1;
		for (int p = 0; p < KP; p++)
			if (under(p / KF, r->a) && old.slot[p] >= 0)
				m->slot[map_dir(p / KF, r->a, r->b) * KF + p % KF] = old.slot[p];
		break;
	}
	case K_LINK:
		m->slot[r->b] = m->slot[r->a];
		m->ino[m->slot[r->a]].nlink++;
		break;
	case K_SHIFT:
		in = &m->ino[m->slot[r->a]];
		if (r->off2 == 0) { /* collapse */
			memmove(in->data + r->off, in->data + r->off + r->len, in->size - r->off - r->len);
			memset(in->data + in->size - r->len, 0, r->len);
			in->size -= r->len;
		} else { /* insert */
			memmove(in->data + r->off + r->len, in->data + r->off, in->size - r->off);
			memset(in->data + r->off, 0, r->len);
			in->size += r->len;
		}
		break;
	case K_REFLINK: {
		struct kino *s = &m->ino[m->slot[r->a]], *d = &m->ino[m->slot[r->b]];
		memmove(d->data + r->off2, s->data + r->off, r->len);
		if (r->off2 + r->len > d->size)
			d->size = r->off2 + r->len;
		break;
	}
	default:
		break;
	}
}

/* ------------------------------------------------------------ child */

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void child_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(g_log->msg, sizeof(g_log->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(g_log->msg))
		snprintf(g_log->msg + n, sizeof(g_log->msg) - (size_t)n, " (%s)", dxl_errmsg());
	atomic_store(&g_log->failed, 1);
	_exit(3);
}

static dxl_pool *c_pool;
static dxl_file *c_fh[KINO];
#define C_ORPHANS 8
static dxl_file *c_orphan[C_ORPHANS];
static int c_norphans;

static dxl_file *c_handle(const struct kmodel *m, int p)
{
	int i = m->slot[p];
	if (!c_fh[i]) {
		char path[32];
		path_of(p, path, sizeof(path));
		int rc = dxl_open(c_pool, path, O_RDWR, 0, &c_fh[i]);
		if (rc)
			child_fail("open %s returned %d", path, rc);
	}
	return c_fh[i];
}

/* Before a path loses its link: keep or close the handle of a dying inode. */
static void c_unlinking(const struct kmodel *m, int p)
{
	int i = m->slot[p];
	if (m->ino[i].nlink != 1 || !c_fh[i])
		return;
	if (rnd_below(2) == 0) {
		dxl_close(c_fh[i]);
	} else {
		if (c_norphans == C_ORPHANS) {
			dxl_close(c_orphan[0]);
			memmove(c_orphan, c_orphan + 1, sizeof(c_orphan[0]) * (C_ORPHANS - 1));
			c_norphans--;
		}
		c_orphan[c_norphans++] = c_fh[i];
	}
	c_fh[i] = NULL;
}

static int pick_used(const struct kmodel *m)
{
	int cand[KP], n = 0;
	for (int p = 0; p < KP; p++)
		if (m->slot[p] >= 0)
			cand[n++] = p;
	return n ? cand[rnd_below((uint64_t)n)] : -1;
}

/* Generate one applicable operation (child's view), or return 0 to retry. */
static int gen_op(const struct kmodel *m, struct krec *r)
{
	memset(r, 0, sizeof(*r));
	r->b = -1;
	uint64_t w = rnd_below(100);
	int p = (int)rnd_below(KP), q = (int)rnd_below(KP), d = (int)rnd_below(KD);
	if (w < 12) {
		if (m->slot[p] >= 0 || !m->dir[p / KF]) {
			if (m->slot[p] >= 0 && rnd_below(4) == 0) {
				r->type = K_CREATE_EXIST;
				r->a = p;
				return 1;
			}
			return 0;
		}
		int i = 0;
		while (i < KINO && m->ino[i].used)
			i++;
		if (i == KINO)
			return 0;
		r->type = K_CREATE;
		r->a = p;
		r->ino = i;
		return 1;
	}
	if (w < 16) {
		if (d == 0 || m->dir[d] || !m->dir[dir_parent[d]])
			return 0;
		r->type = K_MKDIR;
		r->a = d;
		return 1;
	}
	if (w < 19) {
		if (d == 0 || !m->dir[d])
			return 0;
		r->type = dir_empty(m, d) ? K_RMDIR : K_RMDIR_NONEMPTY;
		r->a = d;
		return 1;
	}
	if (w < 21) {
		static const int pairs[4][2] = { { 1, 2 }, { 2, 1 }, { 3, 4 }, { 4, 3 } };
		int k = (int)rnd_below(4), s = pairs[k][0], t = pairs[k][1];
		if (!m->dir[s] || !m->dir[dir_parent[t]] || (m->dir[t] && !dir_empty(m, t)))
			return 0;
		r->type = K_RENAME_DIR;
		r->a = s;
		r->b = t;
		return 1;
	}
	p = pick_used(m);
	if (p < 0)
		return 0;
	const struct kino *in = &m->ino[m->slot[p]];
	r->a = p;
	if (w < 50) {
		r->type = K_WRITE;
		uint64_t x = rnd_below(4);
		r->len = 1 + rnd_below(x == 0 ? 16 : x == 1 ? 4096 : x == 2 ? 3 * g_unit : KMAXF);
		if (r->len > KMAXF)
			r->len = KMAXF;
		r->off = rnd_below(2) ? rnd_below(KMAXF - r->len + 1)
				      : (in->size < KMAXF - r->len ? in->size : KMAXF - r->len);
		return 1;
	}
	if (w < 58) {
		r->type = K_TRUNC;
		r->off = rnd_below(2) ? rnd_below(KMAXF + 1) : rnd_below(in->size + 1);
		return 1;
	}
	if (w < 61 && in->size >= 2 * g_unit) {
		/* collapse or insert range: unit-aligned, inside the file */
		uint64_t su = in->size / g_unit, fu = rnd_below(su - 1), n;
		r->type = K_SHIFT;
		r->off2 = rnd_below(2);
		if (r->off2 == 0) {
			n = 1 + rnd_below(su - 1 - fu);
			if ((fu + n) * g_unit >= in->size)
				return 0;
		} else {
			n = 1 + rnd_below(3);
			if (in->size + n * g_unit > KMAXF)
				return 0;
		}
		r->off = fu * g_unit;
		r->len = n * g_unit;
		return 1;
	}
	if (w < 63) {
		r->type = K_PUNCH;
		r->off = rnd_below(KMAXF);
		r->len = 1 + rnd_below(KMAXF - r->off);
		return 1;
	}
	if (w < 70) {
		r->type = K_UNLINK;
		return 1;
	}
	if (w < 78) {
		if (q == p || !m->dir[q / KF] || m->slot[q] == m->slot[p])
			return 0;
		r->type = K_RENAME;
		r->b = q;
		return 1;
	}
	if (w < 82) {
		if (m->slot[q] >= 0 || !m->dir[q / KF])
			return 0;
		r->type = K_LINK;
		r->b = q;
		return 1;
	}
	if (w < 92) {
		q = pick_used(m);
		const struct kino *dst = &m->ino[m->slot[q]];
		if (in->size == 0)
			return 0;
		uint64_t su = rnd_below((in->size + g_unit - 1) / g_unit);
		uint64_t soff = su * g_unit, len;
		uint64_t full = in->size / g_unit > su ? in->size / g_unit - su : 0;
		if (full == 0 || rnd_below(3) == 0)
			len = in->size - soff;
		else
			len = g_unit * (1 + rnd_below(full));
		uint64_t lu = (len + g_unit - 1) / g_unit, maxu = KMAXF / g_unit;
		if (lu > maxu)
			return 0;
		uint64_t doff = g_unit * rnd_below(maxu - lu + 1);
		if (len % g_unit && doff + len < dst->size)
			return 0;
		if (m->slot[q] == m->slot[p] &&
		    !(doff + lu * g_unit <= soff || soff + lu * g_unit <= doff))
			return 0;
		r->type = K_REFLINK;
		r->b = q;
		r->off = soff;
		r->off2 = doff;
		r->len = len;
		return 1;
	}
	r->type = K_FSYNC;
	return 1;
}

static uint8_t c_buf[KMAXF];

/* Perform r on the pool; return rc.  Checks the result against the model. */
static int64_t c_do(const struct kmodel *m, struct krec *r)
{
	char pa[32], pb[32];
	int rc = 0;
	dxl_file *f;
	path_of(r->a, pa, sizeof(pa));
	if (r->b >= 0)
		path_of(r->b, pb, sizeof(pb));
	switch (r->type) {
	case K_CREATE:
		rc = dxl_open(c_pool, pa, O_CREAT | O_EXCL | O_RDWR, 0644, &f);
		if (rc)
			child_fail("create %s returned %d", pa, rc);
		c_fh[r->ino] = f;
		return 0;
	case K_CREATE_EXIST:
		rc = dxl_open(c_pool, pa, O_CREAT | O_EXCL | O_RDWR, 0644, &f);
		if (rc != -EEXIST)
			child_fail("O_EXCL create of existing %s returned %d", pa, rc);
		return rc;
	case K_MKDIR:
		rc = dxl_mkdir(c_pool, dir_path[r->a], 0755);
		if (rc)
			child_fail("mkdir %s returned %d", dir_path[r->a], rc);
		return 0;
	case K_RMDIR:
		rc = dxl_rmdir(c_pool, dir_path[r->a]);
		if (rc)
			child_fail("rmdir %s returned %d", dir_path[r->a], rc);
		return 0;
	case K_RMDIR_NONEMPTY:
		rc = dxl_rmdir(c_pool, dir_path[r->a]);
		if (rc != -ENOTEMPTY && rc != -EEXIST)
			child_fail("rmdir of non-empty %s returned %d", dir_path[r->a], rc);
		return rc;
	case K_WRITE: {
		const struct kino *in = &m->ino[m->slot[r->a]];
		for (uint64_t i = 0; i < r->len; i++)
			c_buf[i] = pattern(in->id, r->off + i, r->gen);
		ssize_t n = dxl_pwrite(c_handle(m, r->a), c_buf, r->len, r->off);
		if (n != (ssize_t)r->len)
			child_fail("pwrite %s %" PRIu64 "+%" PRIu64 " returned %zd", pa, r->off,
				   r->len, n);
		return 0;
	}
	case K_TRUNC:
		rc = rnd_below(2) ? dxl_ftruncate(c_handle(m, r->a), r->off)
				  : dxl_truncate(c_pool, pa, r->off);
		if (rc)
			child_fail("truncate %s %" PRIu64 " returned %d", pa, r->off, rc);
		return 0;
	case K_PUNCH:
		rc = dxl_fallocate(c_handle(m, r->a), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   r->off, r->len);
		if (rc)
			child_fail("punch %s returned %d", pa, rc);
		return 0;
	case K_UNLINK:
		c_unlinking(m, r->a);
		rc = dxl_unlink(c_pool, pa);
		if (rc)
			child_fail("unlink %s returned %d", pa, rc);
		return 0;
	case K_RENAME:
		if (m->slot[r->b] >= 0)
			c_unlinking(m, r->b);
		rc = dxl_rename(c_pool, pa, pb, 0);
		if (rc)
			child_fail("rename %s %s returned %d", pa, pb, rc);
		return 0;
	case K_RENAME_DIR:
		rc = dxl_rename(c_pool, dir_path[r->a], dir_path[r->b], 0);
		if (rc)
			child_fail("rename %s %s returned %d", dir_path[r->a], dir_path[r->b], rc);
		return 0;
	case K_LINK:
		rc = dxl_link(c_pool, pa, pb);
		if (rc)
			child_fail("link %s %s returned %d", pa, pb, rc);
		return 0;
	case K_REFLINK:
		rc = dxl_reflink(c_handle(m, r->a), r->off, c_handle(m, r->b), r->off2, r->len);
		if (rc)
			child_fail("reflink %s %" PRIu64 " %s %" PRIu64 " %" PRIu64 " returned %d", pa,
				   r->off, pb, r->off2, r->len, rc);
		return 0;
	case K_SHIFT:
		rc = dxl_fallocate(c_handle(m, r->a),
				   r->off2 ? FALLOC_FL_INSERT_RANGE : FALLOC_FL_COLLAPSE_RANGE, r->off, r->len);
		if (rc)
			child_fail("%s %s %" PRIu64 "+%" PRIu64 " returned %d",
				   r->off2 ? "insert range" : "collapse range", pa, r->off, r->len, rc);
		return 0;
	case K_FSYNC:
		rc = rnd_below(2) ? dxl_fsync(c_handle(m, r->a)) : dxl_fdatasync(c_handle(m, r->a));
		if (rc)
			child_fail("fsync %s returned %d", pa, rc);
		return 0;
	default:
		child_fail("bad op %u", r->type);
	}
}

static struct kmodel g_model; /* parent: state after the last verified round */

static void child_main(void)
{
	static struct kmodel m;
	memcpy(&m, &g_model, sizeof(m));
	int rc = dxl_pool_open(g_pool_path, 0, &c_pool);
	if (rc)
		child_fail("child: pool open returned %d", rc);
	atomic_store(&g_log->opened, 1);
	uint64_t gen = (g_round + 1) << 24;
	for (uint32_t n = 0; n < LOG_CAP; n++) {
		struct krec r;
		while (!gen_op(&m, &r))
			;
		r.gen = gen++;
		g_log->rec[n] = r;
		atomic_store_explicit(&g_log->intent, n + 1, memory_order_release);
		r.rc = c_do(&m, &r);
		g_log->rec[n].rc = r.rc;
		apply(&m, &r);
		atomic_store_explicit(&g_log->done, n + 1, memory_order_release);
		if (rnd_below(16) == 0) { /* sometimes drop a handle */
			int i = (int)rnd_below(KINO);
			if (c_fh[i]) {
				dxl_close(c_fh[i]);
				c_fh[i] = NULL;
			}
		}
	}
	for (;;)
		pause();
}

/* ------------------------------------------------------------ parent checks */

struct kactual {
	uint8_t dir[KD];
	uint32_t listing[KD]; /* bit f: file fN, bit KF+i: i-th possible subdir */
	char unknown[KD][300];
	struct {
		int exists;
		uint64_t ino, size;
		uint32_t nlink;
		uint8_t data[KMAXF];
	} f[KP];
};

static int subdir_bit(int parent, int child)
{
	int k = 0;
	for (int c = 0; c < KD; c++) {
		if (dir_parent[c] != parent)
			continue;
		if (c == child)
			return KF + k;
		k++;
	}
	return -1;
}

static const char *base_name(int d)
{
	const char *s = strrchr(dir_path[d], '/');
	return s + 1;
}

static void fsck_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  fsck: %s\n", msg);
}

static char g_why[2048];

static int read_actual(dxl_pool *pool, struct kactual *a)
{
	memset(a, 0, sizeof(*a));
	for (int d = 0; d < KD; d++) {
		struct dxl_stat st;
		int rc = dxl_stat(pool, dpath(d), &st);
		if (rc == -ENOENT)
			continue;
		if (rc) {
			snprintf(g_why, sizeof(g_why), "stat %s returned %d (%s)", dpath(d), rc,
				 dxl_errmsg());
			return -1;
		}
		if (!S_ISDIR(st.mode)) {
			snprintf(g_why, sizeof(g_why), "%s is not a directory", dpath(d));
			return -1;
		}
		a->dir[d] = 1;
		dxl_dir *dd;
		if ((rc = dxl_opendir(pool, dpath(d), &dd))) {
			snprintf(g_why, sizeof(g_why), "opendir %s returned %d", dpath(d), rc);
			return -1;
		}
		struct dxl_dirent de;
		while ((rc = dxl_readdir(dd, &de)) == 1) {
			int bit = -1;
			if (de.name[0] == 'f' && de.name[1] >= '0' && de.name[1] < '0' + KF &&
			    !de.name[2] && de.type == DT_REG)
				bit = de.name[1] - '0';
			for (int c = 0; c < KD; c++)
				if (dir_parent[c] == d && !strcmp(de.name, base_name(c)) &&
				    de.type == DT_DIR)
					bit = subdir_bit(d, c);
			if (bit < 0 || (a->listing[d] & (1u << bit))) {
				size_t l = strlen(a->unknown[d]);
				snprintf(a->unknown[d] + l, sizeof(a->unknown[d]) - l, " '%s'(type %u)",
					 de.name, de.type);
			} else {
				a->listing[d] |= 1u << bit;
			}
		}
		dxl_closedir(dd);
		if (rc) {
			snprintf(g_why, sizeof(g_why), "readdir %s returned %d", dpath(d), rc);
			return -1;
		}
	}
	for (int p = 0; p < KP; p++) {
		char path[32];
		path_of(p, path, sizeof(path));
		struct dxl_stat st;
		int rc = dxl_stat(pool, path, &st);
		if (rc == -ENOENT || rc == -ENOTDIR)
			continue;
		if (rc) {
			snprintf(g_why, sizeof(g_why), "stat %s returned %d (%s)", path, rc,
				 dxl_errmsg());
			return -1;
		}
		a->f[p].exists = 1;
		a->f[p].ino = st.ino;
		a->f[p].size = st.size;
		a->f[p].nlink = st.nlink;
		if (!S_ISREG(st.mode) || st.size > KMAXF) {
			snprintf(g_why, sizeof(g_why), "%s: mode 0%o size %" PRIu64, path, st.mode,
				 st.size);
			return -1;
		}
		dxl_file *f;
		if ((rc = dxl_open(pool, path, O_RDONLY, 0, &f))) {
			snprintf(g_why, sizeof(g_why), "open %s returned %d", path, rc);
			return -1;
		}
		ssize_t n = dxl_pread(f, a->f[p].data, KMAXF, 0);
		dxl_close(f);
		if (n != (ssize_t)st.size) {
			snprintf(g_why, sizeof(g_why), "pread %s returned %zd, size %" PRIu64, path, n,
				 st.size);
			return -1;
		}
	}
	return 0;
}

/* Does the pool (a) match model m?  alt: per-byte alternative contents
 * (an in-flight pwrite / punch).  Sets g_why on mismatch. */
static int match(const struct kactual *a, const struct kmodel *m, const struct kmodel *alt)
{
	for (int d = 0; d < KD; d++) {
		if (a->dir[d] != m->dir[d]) {
			snprintf(g_why, sizeof(g_why), "directory %s %s, model says %s", dpath(d),
				 a->dir[d] ? "exists" : "missing", m->dir[d] ? "exists" : "missing");
			return 0;
		}
		if (!m->dir[d])
			continue;
		uint32_t want = 0;
		for (int f = 0; f < KF; f++)
			if (m->slot[d * KF + f] >= 0)
				want |= 1u << f;
		for (int c = 0; c < KD; c++)
			if (dir_parent[c] == d && m->dir[c])
				want |= 1u << subdir_bit(d, c);
		if (a->listing[d] != want || a->unknown[d][0]) {
			snprintf(g_why, sizeof(g_why),
				 "readdir %s: entries mask 0x%x, model 0x%x (bits: f0..f%d, then "
				 "subdirs); unexpected:%s",
				 dpath(d), a->listing[d], want, KF - 1, a->unknown[d]);
			return 0;
		}
	}
	for (int p = 0; p < KP; p++) {
		char path[32];
		path_of(p, path, sizeof(path));
		int i = m->slot[p];
		if (a->f[p].exists != (i >= 0)) {
			snprintf(g_why, sizeof(g_why), "file %s %s, model says %s", path,
				 a->f[p].exists ? "exists" : "missing", i >= 0 ? "exists" : "missing");
			return 0;
		}
		if (i < 0)
			continue;
		const struct kino *in = &m->ino[i];
		const struct kino *ai = alt && alt->ino[i].used ? &alt->ino[i] : in;
		if (a->f[p].nlink != in->nlink) {
			snprintf(g_why, sizeof(g_why), "%s: nlink %u, model %u", path, a->f[p].nlink,
				 in->nlink);
			return 0;
		}
		if (a->f[p].size != in->size && a->f[p].size != ai->size) {
			snprintf(g_why, sizeof(g_why), "%s: size %" PRIu64 ", model %" PRIu64, path,
				 a->f[p].size, in->size);
			return 0;
		}
		for (uint64_t o = 0; o < a->f[p].size; o++) {
			uint8_t got = a->f[p].data[o];
			if (got != in->data[o] && got != ai->data[o]) {
				snprintf(g_why, sizeof(g_why),
					 "%s (id %u): byte %" PRIu64 " is 0x%02x, model 0x%02x%s (size %" PRIu64
					 ")",
					 path, in->id, o, got, in->data[o],
					 alt ? " (or the in-flight op's value)" : "", a->f[p].size);
				return 0;
			}
		}
		for (int q = p + 1; q < KP; q++) {
			if (!a->f[q].exists || m->slot[q] < 0)
				continue;
			int same_model = m->slot[q] == i, same_pool = a->f[q].ino == a->f[p].ino;
			if (same_model != same_pool) {
				char qp[32];
				path_of(q, qp, sizeof(qp));
				snprintf(g_why, sizeof(g_why), "%s and %s: %s in the pool, %s in the model",
					 path, qp, same_pool ? "same inode" : "different inodes",
					 same_model ? "same inode" : "different inodes");
				return 0;
			}
		}
	}
	return 1;
}

static void dump_tail(uint32_t done, uint32_t intent)
{
	uint32_t first = done > 20 ? done - 20 : 0;
	char buf[256];
	fprintf(stderr, "  last operations of the round (%u returned):\n", done);
	for (uint32_t i = first; i < done; i++) {
		describe(&g_log->rec[i], buf, sizeof(buf));
		fprintf(stderr, "    [%u] %s -> %" PRId64 "\n", i, buf, g_log->rec[i].rc);
	}
	if (intent > done) {
		describe(&g_log->rec[done], buf, sizeof(buf));
		fprintf(stderr, "    [%u] %s -> (in flight at the kill)\n", done, buf);
	}
}

static void round_fail(uint32_t done, uint32_t intent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void round_fail(uint32_t done, uint32_t intent, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\ntest_kill: FAILED in round %" PRIu64 ": ", g_round);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (g_log)
		dump_tail(done, intent);
	fprintf(stderr, "  reproduce: test_kill --seed %" PRIu64 " --rounds %" PRIu64
			" --unit %" PRIu64 " -v   (kill timing varies: rerun a few times)\n",
		opt_seed, g_round + 1, opt_unit);
	fprintf(stderr, "  pool kept at %s\n", g_pool_path);
	exit(1);
}

static uint64_t mapped_units(dxl_pool *pool, const struct kactual *a)
{
	uint64_t sum = 0;
	for (int p = 0; p < KP; p++) {
		if (!a->f[p].exists)
			continue;
		int dup = 0;
		for (int q = 0; q < p; q++)
			dup |= a->f[q].exists && a->f[q].ino == a->f[p].ino;
		if (dup)
			continue;
		char path[32];
		struct dxl_stat st;
		path_of(p, path, sizeof(path));
		if (dxl_stat(pool, path, &st) == 0)
			sum += st.allocated / g_unit;
	}
	return sum;
}

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
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) { opt_keep = 1; continue; }
		if (!strcmp(a, "-v")) { opt_verbose = 1; continue; }
		if (!v) {
			fprintf(stderr, "usage: %s [--seed S] [--rounds N] [--unit BYTES] "
					"[--max-delay-ms N] [--keep] [-v]\n", argv[0]);
			return 2;
		}
		i++;
		if (!strcmp(a, "--seed")) opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--rounds")) opt_rounds = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--unit")) opt_unit = parse_size(v);
		else if (!strcmp(a, "--max-delay-ms")) opt_max_delay = strtoull(v, NULL, 0);
		else { fprintf(stderr, "unknown option %s\n", a); return 2; }
	}
	if (opt_seed == 0)
		opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	if (opt_max_delay < 1)
		opt_max_delay = 1;
	printf("test_kill: seed %" PRIu64 ", %" PRIu64 " rounds, unit %" PRIu64
	       ", kill after 1-%" PRIu64 " ms\n",
	       opt_seed, opt_rounds, opt_unit, opt_max_delay);
	fflush(stdout);

	const char *tmp = getenv("TMPDIR");
	/* on a device (DXL_TEST_POOL=/dev/daxX.Y) the pool is the device */
	const char *dev = dxl_test_pool_at(g_dir, sizeof(g_dir), g_pool_path, sizeof(g_pool_path),
					   "dxl-kill", opt_unit, tmp && *tmp ? tmp : "/var/tmp");
	snprintf(g_rt_dir, sizeof(g_rt_dir), "%s/rt", g_dir);
	CHECK(mkdir(g_rt_dir, 0700) == 0);
	setenv("DXL_RUNTIME_DIR", g_rt_dir, 1);

	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.unit = opt_unit;
	mo.size = dev ? 0 : opt_unit > 65536 ? 160 * opt_unit : 64u << 20;
	if (dev) /* a device: all of it, whatever it held */
		mo.flags |= DXL_MKFS_FORCE;
	CHECK_OK(dxl_mkfs(g_pool_path, &mo));
	dxl_pool *pool;
	CHECK_OK(dxl_pool_open(g_pool_path, 0, &pool));
	struct dxl_statfs sf;
	CHECK_OK(dxl_statfs(pool, &sf));
	g_unit = sf.unit;
	CHECK(g_unit == opt_unit);
	CHECK(KMAXF % g_unit == 0 || g_unit > KMAXF);
	CHECK_OK(dxl_pool_close(pool));

	g_log = mmap(NULL, sizeof(*g_log), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(g_log != MAP_FAILED);
	memset(&g_model, 0, sizeof(g_model));
	g_model.dir[0] = 1;
	for (int p = 0; p < KP; p++)
		g_model.slot[p] = -1;

	static struct kmodel m0, m1;
	static struct kactual act;
	uint64_t total_ops = 0, inflight_rounds = 0, inflight_after = 0;
	for (g_round = 0; g_round < opt_rounds; g_round++) {
		atomic_store(&g_log->intent, 0);
		atomic_store(&g_log->done, 0);
		atomic_store(&g_log->failed, 0);
		atomic_store(&g_log->opened, 0);
		g_log->msg[0] = 0;
		g_rng = mix64(opt_seed * 1000003 + g_round);
		uint64_t delay_us = 1000 + rnd_below(opt_max_delay * 1000);
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			g_rng = mix64(g_rng ^ 0xc0ffee);
			child_main();
		}
		/* one round in three counts the delay from fork (the kill may hit
		 * the child's pool open and recovery); the others from the moment
		 * the child has the pool open */
		if (g_round % 3 != 0)
			for (int w = 0; w < 100000 && !atomic_load(&g_log->opened) &&
					!atomic_load(&g_log->failed);
			     w++)
				usleep(100);
		usleep((useconds_t)delay_us);
		kill(pid, SIGKILL);
		int status;
		CHECK(waitpid(pid, &status, 0) == pid);
		uint32_t done = atomic_load(&g_log->done), intent = atomic_load(&g_log->intent);
		if (atomic_load(&g_log->failed) || !WIFSIGNALED(status))
			round_fail(done, intent, "child failed: %s (status 0x%x)", g_log->msg, status);
		total_ops += done;

		memcpy(&m0, &g_model, sizeof(m0));
		for (uint32_t i = 0; i < done; i++)
			apply(&m0, &g_log->rec[i]);
		int inflight = intent > done;
		const struct krec *fl = inflight ? &g_log->rec[done] : NULL;
		if (inflight) {
			memcpy(&m1, &m0, sizeof(m1));
			struct krec r = *fl;
			r.rc = r.type == K_CREATE_EXIST || r.type == K_RMDIR_NONEMPTY ? -1 : 0;
			apply(&m1, &r);
			inflight_rounds++;
		}

		/* recovery, then fsck on the closed pool */
		int rc = dxl_pool_open(g_pool_path, 0, &pool);
		if (rc)
			round_fail(done, intent, "pool open after kill returned %d (%s)", rc,
				   dxl_errmsg());
		CHECK_OK(dxl_pool_close(pool));
		struct dxl_fsck_result res;
		memset(&res, 0, sizeof(res));
		rc = dxl_fsck(g_pool_path, 0, fsck_report, NULL, &res);
		if (rc || res.problems)
			round_fail(done, intent, "fsck after recovery returned %d, %" PRIu64 " problems",
				   rc, res.problems);

		rc = dxl_pool_open(g_pool_path, 0, &pool);
		if (rc)
			round_fail(done, intent, "reopen returned %d", rc);
		if (read_actual(pool, &act))
			round_fail(done, intent, "reading the pool: %s", g_why);
		const struct kmodel *ok = NULL;
		char why0[2048] = "";
		if (match(&act, &m0, NULL)) {
			ok = &m0;
		} else {
			snprintf(why0, sizeof(why0), "%s", g_why);
			if (inflight && match(&act, &m1, NULL)) {
				ok = &m1;
			} else if (inflight && (fl->type == K_WRITE || fl->type == K_PUNCH) &&
				   match(&act, &m1, &m0)) {
				/* partly done: adopt the pool's bytes for that file */
				ok = &m1;
				int i = m1.slot[fl->a];
				m1.ino[i].size = act.f[fl->a].size;
				memcpy(m1.ino[i].data, act.f[fl->a].data, KMAXF);
				if (opt_verbose)
					printf("  round %" PRIu64 ": in-flight %s found partly done\n",
					       g_round, op_name[fl->type]);
			}
		}
		if (!ok) {
			if (inflight)
				round_fail(done, intent,
					   "pool matches neither the state before the in-flight op (%s) "
					   "nor after it (%s)",
					   why0, g_why);
			round_fail(done, intent, "pool does not match the model: %s", why0);
		}
		if (ok == &m1)
			inflight_after++;
		memcpy(&g_model, ok, sizeof(g_model));

		CHECK_OK(dxl_statfs(pool, &sf));
		uint64_t used = sf.data_units - sf.free_units, mapped = mapped_units(pool, &act);
		if (used > mapped)
			round_fail(done, intent,
				   "%" PRIu64 " data units in use, files map only %" PRIu64
				   " (leaked after recovery)",
				   used, mapped);
		CHECK_OK(dxl_pool_close(pool));
		if (opt_verbose)
			printf("round %" PRIu64 ": killed after %" PRIu64 " us, %u ops returned%s, "
			       "units used %" PRIu64 "\n",
			       g_round, delay_us, done, inflight ? ", 1 in flight" : "", used);
	}
	printf("test_kill: OK (%" PRIu64 " rounds, %" PRIu64 " operations verified, %" PRIu64
	       " kills with an op in flight, %" PRIu64 " of them found done)\n",
	       opt_rounds, total_ops, inflight_rounds, inflight_after);
	munmap(g_log, sizeof(*g_log));
	if (!opt_keep)
		nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
