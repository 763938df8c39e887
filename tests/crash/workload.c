/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workloads, ACE-style: a fixed small tree made by the setup, and a table
 * of operations on it.  seq-1 runs each operation alone, seq-2 every
 * ordered pair.  Sizes are in units so both unit sizes get the same
 * shapes: aligned, unaligned, appending and unit-spanning writes.
 *
 *   /A/foo     2 units + 100 bytes      /A/bar     1 unit
 *   /A/sparse  unit 0, hole, unit 2     /A/shared  reflink of foo's unit 0
 *   /A/empty   0 bytes                  /A/hard == /B/hard  300 bytes
 *   /A/d1, /B/d2  empty directories     /B/sym -> ../A/foo
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "crashx.h"

static void pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

static int wr(struct cx_ctx *c, const char *path, uint64_t off, uint64_t len, uint32_t seed,
	      int flags)
{
	dxl_pool *p = c->pool;
	dxl_file *f;
	uint8_t *buf = malloc(len ? len : 1);
	int rc;

	if (!buf)
		return -ENOMEM;
	pattern(buf, len, seed);
	rc = dxl_open(p, path, O_WRONLY | flags, 0644, &f);
	if (rc == 0) {
		ssize_t n = dxl_pwrite(f, buf, len, off);
		rc = n < 0 ? (int)n : (uint64_t)n == len ? 0 : -EIO;
		/* durable here already: the close (which writes the lazy mtime)
		 * must not be what makes it so */
		if (c->step)
			c->step(c);
		int rc2 = dxl_close(f);
		if (!rc)
			rc = rc2;
	}
	free(buf);
	return rc;
}

static int with_file(dxl_pool *p, const char *path, int (*fn)(dxl_file *f, void *a), void *a)
{
	dxl_file *f;
	int rc = dxl_open(p, path, O_RDWR, 0, &f);
	if (rc)
		return rc;
	rc = fn(f, a);
	int rc2 = dxl_close(f);
	return rc ? rc : rc2;
}

int cx_setup(struct cx_ctx *c)
{
	dxl_pool *p = c->pool;
	uint64_t u = c->unit;
	dxl_file *a, *b;
	int rc;

	if ((rc = dxl_mkdir(p, "/A", 0755)) || (rc = dxl_mkdir(p, "/B", 0755)) ||
	    (rc = dxl_mkdir(p, "/A/d1", 0755)) || (rc = dxl_mkdir(p, "/B/d2", 0755)))
		return rc;
	if ((rc = wr(c, "/A/foo", 0, 2 * u + 100, 1, O_CREAT)) ||
	    (rc = wr(c, "/A/bar", 0, u, 2, O_CREAT)) ||
	    (rc = wr(c, "/A/sparse", 0, u, 3, O_CREAT)) ||
	    (rc = wr(c, "/A/sparse", 2 * u, u, 4, 0)) ||
	    (rc = wr(c, "/A/empty", 0, 0, 0, O_CREAT)) ||
	    (rc = wr(c, "/A/hard", 0, 300, 5, O_CREAT)) ||
	    (rc = wr(c, "/A/shared", 0, 0, 0, O_CREAT)))
		return rc;
	if ((rc = dxl_link(p, "/A/hard", "/B/hard")) || (rc = dxl_symlink(p, "../A/foo", "/B/sym")))
		return rc;
	if ((rc = dxl_open(p, "/A/foo", O_RDONLY, 0, &a)))
		return rc;
	if ((rc = dxl_open(p, "/A/shared", O_RDWR, 0, &b)) == 0) {
		rc = dxl_reflink(a, 0, b, 0, u);
		dxl_close(b);
	}
	dxl_close(a);
	return rc;
}

/* ------------------------------------------------------------ the ops */
#define U (c->unit)
#define STEP(c)                   \
	do {                      \
		if ((c)->step)    \
			(c)->step(c); \
	} while (0)

static int op_create(struct cx_ctx *c)
{
	dxl_file *f;
	int rc = dxl_open(c->pool, "/A/new", O_CREAT | O_EXCL | O_WRONLY, 0644, &f);
	return rc ? rc : dxl_close(f);
}
static int op_create_b(struct cx_ctx *c)
{
	dxl_file *f;
	int rc = dxl_open(c->pool, "/B/new", O_CREAT | O_EXCL | O_WRONLY, 0600, &f);
	return rc ? rc : dxl_close(f);
}
static int op_mkdir(struct cx_ctx *c) { return dxl_mkdir(c->pool, "/A/newdir", 0755); }

static int op_write_aligned(struct cx_ctx *c) { return wr(c, "/A/foo", 0, U, 11, 0); }
static int op_write_unaligned(struct cx_ctx *c) { return wr(c, "/A/foo", 100, U, 12, 0); }
static int op_write_small(struct cx_ctx *c) { return wr(c, "/A/foo", 10, 64, 13, 0); }
static int op_write_append(struct cx_ctx *c) { return wr(c, "/A/foo", 2 * U + 100, 1000, 14, 0); }
static int op_write_span(struct cx_ctx *c) { return wr(c, "/A/bar", U - 100, 200, 15, 0); }
static int op_write_hole(struct cx_ctx *c) { return wr(c, "/A/sparse", U, U, 16, 0); }
static int op_write_empty(struct cx_ctx *c) { return wr(c, "/A/empty", 0, 2 * U + 5, 17, 0); }
static int op_write_shared(struct cx_ctx *c) { return wr(c, "/A/shared", 0, 100, 18, 0); }
static int op_write_inplace(struct cx_ctx *c) { return wr(c, "/A/bar", 100, 200, 20, 0); }
static int op_write_inplace_units(struct cx_ctx *c) { return wr(c, "/A/foo", U, U + 100, 22, 0); }
static int op_write_gap(struct cx_ctx *c) { return wr(c, "/A/bar", 3 * U + 10, 50, 19, 0); }

static int op_truncate_up(struct cx_ctx *c) { return dxl_truncate(c->pool, "/A/bar", 3 * U + 5); }
static int op_truncate_down(struct cx_ctx *c) { return dxl_truncate(c->pool, "/A/foo", 1000); }
static int op_truncate_zero(struct cx_ctx *c) { return dxl_truncate(c->pool, "/A/foo", 0); }
static int op_truncate_unit(struct cx_ctx *c) { return dxl_truncate(c->pool, "/A/foo", U); }

struct fa {
	int mode;
	uint64_t off, len;
};
static int do_fa(dxl_file *f, void *a)
{
	const struct fa *x = a;
	return dxl_fallocate(f, x->mode, x->off, x->len);
}
static int fa(struct cx_ctx *c, const char *path, int mode, uint64_t off, uint64_t len)
{
	struct fa x = { mode, off, len };
	return with_file(c->pool, path, do_fa, &x);
}
static int op_falloc(struct cx_ctx *c) { return fa(c, "/A/bar", 0, U, U); }
static int op_falloc_keep(struct cx_ctx *c) { return fa(c, "/A/bar", FALLOC_FL_KEEP_SIZE, U, 2 * U); }
static int op_punch(struct cx_ctx *c)
{
	return fa(c, "/A/foo", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, U / 2, U + U / 2);
}
static int op_zero(struct cx_ctx *c) { return fa(c, "/A/foo", FALLOC_FL_ZERO_RANGE, 50, U); }
static int op_zero_keep(struct cx_ctx *c)
{
	return fa(c, "/A/bar", FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, U / 2, 2 * U);
}

static int reflink(struct cx_ctx *c, const char *src, uint64_t so, const char *dst, uint64_t doff,
		   uint64_t len)
{
	dxl_file *a, *b;
	int rc = dxl_open(c->pool, src, O_RDWR, 0, &a);
	if (rc)
		return rc;
	rc = strcmp(src, dst) ? dxl_open(c->pool, dst, O_RDWR, 0, &b) : (b = a, 0);
	if (rc == 0) {
		rc = dxl_reflink(a, so, b, doff, len);
		if (b != a)
			dxl_close(b);
	}
	dxl_close(a);
	return rc;
}
static int op_reflink(struct cx_ctx *c) { return reflink(c, "/A/foo", 0, "/A/bar", 0, U); }
static int op_reflink_append(struct cx_ctx *c) { return reflink(c, "/A/foo", 0, "/A/empty", 0, 2 * U); }
static int op_reflink_self(struct cx_ctx *c) { return reflink(c, "/A/foo", 0, "/A/foo", U, U); }

static int op_rename(struct cx_ctx *c) { return dxl_rename(c->pool, "/A/foo", "/A/foo2", 0); }
static int op_rename_over(struct cx_ctx *c) { return dxl_rename(c->pool, "/A/foo", "/A/bar", 0); }
static int op_rename_over_dir(struct cx_ctx *c) { return dxl_rename(c->pool, "/A/d1", "/B/d2", 0); }
static int op_rename_exchange(struct cx_ctx *c)
{
	return dxl_rename(c->pool, "/A/foo", "/A/bar", DXL_RENAME_EXCHANGE);
}
static int op_rename_exchange_dir(struct cx_ctx *c)
{
	return dxl_rename(c->pool, "/A/d1", "/B/hard", DXL_RENAME_EXCHANGE);
}
static int op_rename_cross(struct cx_ctx *c) { return dxl_rename(c->pool, "/A/foo", "/B/foo", 0); }
static int op_rename_dir(struct cx_ctx *c) { return dxl_rename(c->pool, "/A/d1", "/B/d1", 0); }

static int op_link(struct cx_ctx *c) { return dxl_link(c->pool, "/A/foo", "/B/foolink"); }
static int op_unlink(struct cx_ctx *c) { return dxl_unlink(c->pool, "/A/bar"); }
static int op_unlink_hard(struct cx_ctx *c) { return dxl_unlink(c->pool, "/A/hard"); }
static int op_unlink_shared(struct cx_ctx *c) { return dxl_unlink(c->pool, "/A/shared"); }
static int op_unlink_open(struct cx_ctx *c)
{
	/* the handle stays open past the operation: the inode is an orphan
	 * that recovery must reap */
	if (c->held)
		return -EBUSY;
	int rc = dxl_open(c->pool, "/A/foo", O_RDWR, 0, &c->held);
	if (rc)
		return rc;
	return dxl_unlink(c->pool, "/A/foo");
}
static int op_rmdir(struct cx_ctx *c) { return dxl_rmdir(c->pool, "/B/d2"); }
static int op_symlink(struct cx_ctx *c) { return dxl_symlink(c->pool, "foo", "/A/sym"); }
static int op_chmod(struct cx_ctx *c) { return dxl_chmod(c->pool, "/A/foo", 0600); }
static int do_fsync(dxl_file *f, void *a)
{
	(void)a;
	return dxl_fsync(f);
}
static int op_fsync(struct cx_ctx *c) { return with_file(c->pool, "/A/foo", do_fsync, NULL); }

/* Stores through a DXL_MAP_DIRECT mapping, made durable with dxl_persist. */
static int mwrite(struct cx_ctx *c, const char *path)
{
	dxl_file *f;
	dxl_mapping *m;
	uint8_t buf[200];
	int rc = dxl_open(c->pool, path, O_RDWR, 0, &f);

	if (rc)
		return rc;
	rc = dxl_mmap(f, 0, (size_t)U, PROT_READ | PROT_WRITE, DXL_MAP_DIRECT, NULL, NULL, &m);
	if (rc == 0) {
		uint8_t *a = dxl_mapping_addr(m);
		STEP(c); /* the mapping copied shared units away */
		pattern(buf, sizeof(buf), 21);
		memcpy(a + 100, buf, sizeof(buf));
		dxl_persist(c->pool, a + 100, sizeof(buf));
		STEP(c);
		memcpy(a + U - 64, buf, 64);
		dxl_persist(c->pool, a + U - 64, 64);
		STEP(c);
		rc = dxl_munmap(m);
	}
	int rc2 = dxl_close(f);
	return rc ? rc : rc2;
}
static int op_mwrite(struct cx_ctx *c) { return mwrite(c, "/A/foo"); }
static int op_mwrite_shared(struct cx_ctx *c) { return mwrite(c, "/A/shared"); }

/* ------------------------------------------------------------ slack */
static int one(struct cx_slack *sl, const char *path, uint64_t off, uint64_t len, int zero)
{
	snprintf(sl->path, sizeof(sl->path), "%s", path);
	sl->off = off;
	sl->len = len;
	sl->zero = zero;
	return 1;
}
static int sl_write_aligned(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 0, U, 0); }
static int sl_write_unaligned(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 100, U, 0); }
static int sl_write_small(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; (void)c; return one(s, "/A/foo", 10, 64, 0); }
static int sl_write_append(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 2 * U + 100, 1000, 0); }
static int sl_write_span(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/bar", U - 100, 200, 0); }
static int sl_write_inplace(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; (void)c; return one(s, "/A/bar", 100, 200, 0); }
static int sl_write_inplace_units(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", U, U + 100, 0); }
static int sl_write_shared(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; (void)c; return one(s, "/A/shared", 0, 100, 0); }
static int sl_truncate_down(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 1000, 3 * U, 1); }
static int sl_truncate_zero(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 0, 3 * U, 1); }
static int sl_truncate_unit(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", U, 3 * U, 1); }
static int sl_punch(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", U / 2, U + U / 2, 1); }
static int sl_zero(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 50, U, 1); }
static int sl_zero_keep(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/bar", U / 2, 2 * U, 1); }
static int sl_mwrite(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/foo", 0, U, 0); }
static int sl_mwrite_shared(const struct cx_ctx *c, struct cx_slack *s, int m) { (void)m; return one(s, "/A/shared", 0, U, 0); }

const struct cx_op cx_ops[] = {
	{ "create", op_create, NULL },
	{ "create_b", op_create_b, NULL },
	{ "mkdir", op_mkdir, NULL },
	{ "write_inplace", op_write_inplace, sl_write_inplace },
	{ "write_inplace_units", op_write_inplace_units, sl_write_inplace_units },
	{ "write_aligned", op_write_aligned, sl_write_aligned },
	{ "write_unaligned", op_write_unaligned, sl_write_unaligned },
	{ "write_small", op_write_small, sl_write_small },
	{ "write_append", op_write_append, sl_write_append },
	{ "write_span", op_write_span, sl_write_span },
	{ "write_hole", op_write_hole, NULL },
	{ "write_empty", op_write_empty, NULL },
	{ "write_shared", op_write_shared, sl_write_shared },
	{ "write_gap", op_write_gap, NULL },
	{ "truncate_up", op_truncate_up, NULL },
	{ "truncate_down", op_truncate_down, sl_truncate_down },
	{ "truncate_zero", op_truncate_zero, sl_truncate_zero },
	{ "truncate_unit", op_truncate_unit, sl_truncate_unit },
	{ "falloc", op_falloc, NULL },
	{ "falloc_keep", op_falloc_keep, NULL },
	{ "punch", op_punch, sl_punch },
	{ "zero", op_zero, sl_zero },
	{ "zero_keep", op_zero_keep, sl_zero_keep },
	{ "reflink", op_reflink, NULL },
	{ "reflink_append", op_reflink_append, NULL },
	{ "reflink_self", op_reflink_self, NULL },
	{ "rename", op_rename, NULL },
	{ "rename_over", op_rename_over, NULL },
	{ "rename_over_dir", op_rename_over_dir, NULL },
	{ "rename_exchange", op_rename_exchange, NULL },
	{ "rename_exchange_dir", op_rename_exchange_dir, NULL },
	{ "rename_cross", op_rename_cross, NULL },
	{ "rename_dir", op_rename_dir, NULL },
	{ "link", op_link, NULL },
	{ "unlink", op_unlink, NULL },
	{ "unlink_hard", op_unlink_hard, NULL },
	{ "unlink_shared", op_unlink_shared, NULL },
	{ "unlink_open", op_unlink_open, NULL },
	{ "rmdir", op_rmdir, NULL },
	{ "symlink", op_symlink, NULL },
	{ "chmod", op_chmod, NULL },
	{ "fsync", op_fsync, NULL },
	{ "mwrite", op_mwrite, sl_mwrite },
	{ "mwrite_shared", op_mwrite_shared, sl_mwrite_shared },
};
const int cx_nops = (int)(sizeof(cx_ops) / sizeof(cx_ops[0]));

int cx_op_find(const char *name)
{
	for (int i = 0; i < cx_nops; i++)
		if (!strcmp(cx_ops[i].name, name))
			return i;
	return -1;
}

/* ------------------------------------------------------------ probe */
int cx_probe(dxl_pool *p, uint64_t unit, char *why, size_t len)
{
	/* past the first 4 KiB: crosses a unit boundary where units are 4 KiB */
	uint64_t n = 4096 + 100;
	(void)unit;
	uint8_t *a = malloc(n), *b = malloc(n);
	dxl_file *f = NULL;
	int rc;

	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	pattern(a, n, 99);
#define TRY(what, call)                                                              \
	do {                                                                          \
		if ((rc = (call)) < 0) {                                              \
			snprintf(why, len, "usable: %s: %s", what, dxl_errmsg());     \
			goto out;                                                     \
		}                                                                     \
	} while (0)
	TRY("mkdir /.probe", dxl_mkdir(p, "/.probe", 0755));
	TRY("create /.probe/f", dxl_open(p, "/.probe/f", O_CREAT | O_EXCL | O_RDWR, 0644, &f));
	ssize_t w = dxl_pwrite(f, a, n, 0);
	TRY("write", w < 0 ? (int)w : (uint64_t)w == n ? 0 : -EIO);
	ssize_t r = dxl_pread(f, b, n, 0);
	TRY("read", r < 0 ? (int)r : (uint64_t)r == n ? 0 : -EIO);
	TRY("read back", memcmp(a, b, n) ? -EIO : 0);
	TRY("close", dxl_close(f));
	f = NULL;
	TRY("rename", dxl_rename(p, "/.probe/f", "/.probe/g", 0));
	TRY("unlink", dxl_unlink(p, "/.probe/g"));
	TRY("rmdir", dxl_rmdir(p, "/.probe"));
#undef TRY
out:
	if (f)
		dxl_close(f);
	free(a);
	free(b);
	return rc < 0 ? rc : 0;
}
