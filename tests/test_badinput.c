/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_badinput: damaged images and nonsense arguments give a clear error
 * (negative errno + non-empty dxl_errmsg()), never a crash.  Run it under
 * ASan+UBSan.  Uses only the public API; the image damage is done with
 * plain file I/O.
 *
 *  - pool paths: nonexistent, "", a directory, an empty file, garbage;
 *    mkfs with bad geometry, over an existing pool without FORCE.
 *  - a populated pool truncated (to 0, 4 KiB, half), zeroed (all, first
 *    4 KiB: the backup superblock must let fsck --repair mend it).
 *  - bit flips: each iteration restores the populated image, flips one
 *    random bit in a metadata block and, in a child process (a crash or a
 *    hang is caught and reported with the bit to reproduce), runs fsck,
 *    opens (read-only or read-write), walks and reads everything, tries a
 *    few changes, runs fsck --repair.  Whenever fsck says the damaged image
 *    is clean, everything read must equal the undamaged pool; whenever
 *    fsck --repair says it mended everything, a second fsck must be clean.
 *  - nonsense arguments to the namespace and file calls: each error case
 *    checks the errno and the message.
 *
 *   test_badinput [--seed S] [--flips N] [--flip BYTE:BIT] [--keep] [-v]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"

static uint64_t opt_seed = 1, opt_flips = 200;
static int64_t opt_flip_byte = -1;
static int opt_flip_bit, opt_keep, opt_verbose;
static char g_dir[4096], g_rt_dir[4200];
static int g_failures;
static uint64_t g_rng;

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

static void tpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", g_dir, name);
}

/* ------------------------------------------------------------ expectations */

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "?";
}

/*
 * Before each expected failure, a failing call with a unique path leaves a
 * known message; the call under test must replace it with its own (so a
 * stale message from an earlier failure does not count as "a message").
 */
static char g_marker[512];
static unsigned g_marker_n;

static int set_marker(void)
{
	char p[4300];
	dxl_pool *pool;
	snprintf(p, sizeof(p), "%s/no-such-dir/marker-%u", g_dir, ++g_marker_n);
	dxl_pool_open(p, 0, &pool);
	snprintf(g_marker, sizeof(g_marker), "%s", dxl_errmsg());
	return 0;
}

/* rc must be -e for one e of the 0-terminated list, with a message. */
static void expect_f(long long rc, const char *what, int line, ...)
{
	va_list ap;
	int ok = 0, e;
	char allowed[256] = "";
	va_start(ap, line);
	while ((e = va_arg(ap, int)) != 0) {
		size_t l = strlen(allowed);
		snprintf(allowed + l, sizeof(allowed) - l, "%s-%s", l ? " or " : "", ename(e));
		if (rc == -e)
			ok = 1;
	}
	va_end(ap);
	if (!ok) {
		fprintf(stderr, "test_badinput.c:%d: %s returned %lld (%s), expected %s [msg: %s]\n",
			line, what, rc, rc < 0 ? ename((int)-rc) : "success", allowed, dxl_errmsg());
		g_failures++;
		return;
	}
	if (!dxl_errmsg()[0]) {
		fprintf(stderr, "test_badinput.c:%d: %s returned -%s but dxl_errmsg() is empty\n",
			line, what, ename((int)-rc));
		g_failures++;
	} else if (g_marker[0] && !strcmp(dxl_errmsg(), g_marker)) {
		fprintf(stderr, "test_badinput.c:%d: %s returned -%s but left dxl_errmsg() as it "
				"was (stale: '%s')\n",
			line, what, ename((int)-rc), g_marker);
		g_failures++;
	} else if (opt_verbose) {
		printf("  ok: %s -> -%s: %s\n", what, ename((int)-rc), dxl_errmsg());
	}
}
/* rc computed already (call set_marker() before the call) */
#define EXPECT_RC(rc, ...) expect_f((long long)(rc), #rc, __LINE__, __VA_ARGS__, 0)
#define EXPECT(call, ...) \
	(set_marker(), expect_f((long long)(call), #call, __LINE__, __VA_ARGS__, 0))

#define MUST(call)                                                                        \
	do {                                                                              \
		long long rc_ = (long long)(call);                                        \
		if (rc_ != 0) {                                                           \
			fprintf(stderr, "test_badinput.c:%d: %s returned %lld (%s)\n", __LINE__, \
				#call, rc_, dxl_errmsg());                                \
			g_failures++;                                                     \
		}                                                                         \
	} while (0)

/* errnos a damaged or foreign image may give */
#define CORRUPT EUCLEAN, EINVAL, EBADMSG, EIO, ENODATA, EMEDIUMTYPE, EFBIG, ENOSPC, EPROTO

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	CHECK(b);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, b + got, (size_t)st.st_size - got, (off_t)got);
		CHECK(n > 0);
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return b;
}

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* ------------------------------------------------------------ snapshot */

/* A flat description of the pool: one line per object. */
struct snap {
	char *text;
	size_t len, cap;
	int errors; /* calls that failed while walking */
};

static void snap_add(struct snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void snap_add(struct snap *s, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (s->len + (size_t)n + 1 > s->cap) {
		s->cap = (s->cap + (size_t)n + 1) * 2;
		s->text = realloc(s->text, s->cap);
		CHECK(s->text);
	}
	memcpy(s->text + s->len, line, (size_t)n + 1);
	s->len += (size_t)n;
}

static void snap_fail(struct snap *s, const char *what, int rc)
{
	s->errors++;
	if (!dxl_errmsg()[0]) {
		fprintf(stderr, "  %s failed with %d (%s) and an empty dxl_errmsg()\n", what, rc,
			rc < 0 ? ename(-rc) : "?");
		g_failures++;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(dxl_pool *pool, const char *dir, struct snap *s, int depth)
{
	dxl_dir *d;
	int rc = dxl_opendir(pool, dir, &d);
	if (rc) {
		snap_fail(s, "opendir", rc);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dxl_dirent de;
	while ((rc = dxl_readdir(d, &de)) == 1 && n < 100000) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			CHECK(names);
		}
		size_t l = strnlen(de.name, sizeof(de.name));
		names[n] = malloc(l + 1);
		CHECK(names[n]);
		memcpy(names[n], de.name, l);
		names[n][l] = 0;
		n++;
	}
	if (rc < 0)
		snap_fail(s, "readdir", rc);
	dxl_closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", names[i]);
		struct dxl_stat st;
		rc = dxl_lstat(pool, path, &st);
		if (rc) {
			snap_fail(s, "lstat", rc);
			snap_add(s, "%s: lstat error\n", path);
			continue;
		}
		if (S_ISDIR(st.mode)) {
			snap_add(s, "%s dir 0%o nlink %u\n", path, st.mode, st.nlink);
			if (depth < 40)
				walk(pool, path, s, depth + 1);
			continue;
		}
		if (!S_ISREG(st.mode)) {
			char tgt[4200];
			ssize_t l = dxl_readlink(pool, path, tgt, sizeof(tgt));
			snap_add(s, "%s other 0%o (%zd)\n", path, st.mode, l);
			continue;
		}
		uint64_t h = 0xcbf29ce484222325ull;
		dxl_file *f;
		rc = dxl_open(pool, path, O_RDONLY, 0, &f);
		if (rc) {
			snap_fail(s, "open", rc);
			snap_add(s, "%s: open error\n", path);
			continue;
		}
		static uint8_t buf[1 << 20];
		uint64_t off = 0;
		for (;;) {
			ssize_t got = dxl_pread(f, buf, sizeof(buf), off);
			if (got < 0) {
				snap_fail(s, "pread", (int)got);
				break;
			}
			if (got == 0 || off > (1ull << 32))
				break;
			h = fnv(buf, (size_t)got, h);
			off += (uint64_t)got;
		}
		dxl_close(f);
		snap_add(s, "%s file 0%o nlink %u size %" PRIu64 " read %" PRIu64 " fnv %016" PRIx64
			    "\n",
			 path, st.mode, st.nlink, st.size, off, h);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void snap_take(dxl_pool *pool, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	snap_add(s, "/\n");
	walk(pool, "/", s, 0);
}

/* ------------------------------------------------------------ populated pool */

#define POP_SIZE (8u << 20)
static uint64_t g_unit = 4096, g_meta_end, g_pool_bytes;
static uint8_t *g_pristine;
static size_t g_pristine_len;
static struct snap g_pristine_snap;
static uint64_t *g_data_hash; /* fnv of every 4 KiB chunk of file data */
static size_t g_ndata_hash, g_data_hash_cap;

static void note_data(const uint8_t *buf, size_t len)
{
	for (size_t o = 0; o < len; o += 4096) {
		uint8_t chunk[4096] = { 0 };
		memcpy(chunk, buf + o, len - o < 4096 ? len - o : 4096);
		if (g_ndata_hash == g_data_hash_cap) {
			g_data_hash_cap = g_data_hash_cap ? 2 * g_data_hash_cap : 256;
			g_data_hash = realloc(g_data_hash, g_data_hash_cap * sizeof(*g_data_hash));
			CHECK(g_data_hash);
		}
		g_data_hash[g_ndata_hash++] = fnv(chunk, 4096, 0xcbf29ce484222325ull);
	}
}

static void put_file(dxl_pool *pool, const char *path, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	CHECK(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(rnd() | 0x80); /* never zero: data chunks are recognisable */
	dxl_file *f;
	CHECK_OK(dxl_open(pool, path, O_RDWR | O_CREAT, 0644, &f));
	CHECK_RC(dxl_pwrite(f, buf, len, off), (long long)len);
	CHECK_OK(dxl_close(f));
	note_data(buf, len);
	free(buf);
}

static void make_populated(const char *path)
{
	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.size = POP_SIZE;
	mo.unit = 4096;
	mo.meta_size = 2u << 20; /* one 4 KiB block per inode: room for 300+ files */
	CHECK_OK(dxl_mkfs(path, &mo));
	dxl_pool *pool;
	CHECK_OK(dxl_pool_open(path, 0, &pool));
	CHECK_OK(dxl_mkdir(pool, "/d1", 0755));
	CHECK_OK(dxl_mkdir(pool, "/d1/d2", 0700));
	CHECK_OK(dxl_mkdir(pool, "/big", 0755));
	put_file(pool, "/empty", 0, 0);
	put_file(pool, "/one", 0, 1);
	put_file(pool, "/d1/unit", 0, 4096);
	put_file(pool, "/d1/d2/odd", 0, 10007);
	put_file(pool, "/d1/large", 0, 300000);
	put_file(pool, "/sparse", 1 << 20, 5000);
	/* many small extents: a multi-level extent tree */
	dxl_file *f;
	CHECK_OK(dxl_open(pool, "/frag", O_RDWR | O_CREAT, 0644, &f));
	for (int i = 0; i < 400; i++) {
		uint8_t b[100];
		for (size_t k = 0; k < sizeof(b); k++)
			b[k] = (uint8_t)(rnd() | 0x80);
		CHECK_RC(dxl_pwrite(f, b, sizeof(b), (uint64_t)i * 8192), 100);
		note_data(b, sizeof(b));
	}
	CHECK_OK(dxl_close(f));
	/* a shared extent and a hard link */
	dxl_file *src, *dst;
	CHECK_OK(dxl_open(pool, "/d1/large", O_RDWR, 0, &src));
	CHECK_OK(dxl_open(pool, "/clone", O_RDWR | O_CREAT, 0644, &dst));
	CHECK_OK(dxl_reflink(src, 0, dst, 0, 65536));
	CHECK_OK(dxl_close(src));
	CHECK_OK(dxl_close(dst));
	CHECK_OK(dxl_link(pool, "/one", "/d1/d2/one-link"));
	/* a directory with enough entries for a multi-level tree */
	for (int i = 0; i < 300; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/big/entry-with-a-longish-name-%04d", i);
		CHECK_OK(dxl_open(pool, p, O_RDWR | O_CREAT, 0600, &f));
		CHECK_OK(dxl_close(f));
	}
	/* some history: freed blocks, renames */
	CHECK_OK(dxl_unlink(pool, "/big/entry-with-a-longish-name-0007"));
	CHECK_OK(dxl_rename(pool, "/big/entry-with-a-longish-name-0008", "/d1/renamed", 0));
	struct dxl_statfs sf;
	CHECK_OK(dxl_statfs(pool, &sf));
	g_unit = sf.unit;
	g_pool_bytes = sf.pool_size;
	/* the data region ends at or before the backup superblock */
	g_meta_end = sf.pool_size - 4096 - sf.data_units * sf.unit;
	snap_take(pool, &g_pristine_snap);
	CHECK(g_pristine_snap.errors == 0);
	CHECK_OK(dxl_pool_close(pool));
	int rc = (dxl_fsck)(path, 0, NULL, NULL, NULL, 0);
	CHECK_RC(rc, 0);
	g_pristine = read_whole(path, &g_pristine_len);
	if (opt_verbose)
		printf("populated pool: %zu bytes, metadata below %" PRIu64 "\n%s", g_pristine_len,
		       g_meta_end, g_pristine_snap.text);
}

static void restore(const char *path)
{
	write_file(path, g_pristine, g_pristine_len);
}

/* ------------------------------------------------------------ fsck helpers */

struct fsck_count {
	int calls;
	int empty;
};

static void count_report(void *arg, const char *msg)
{
	struct fsck_count *c = arg;
	c->calls++;
	if (!msg || !msg[0])
		c->empty++;
	if (opt_verbose)
		printf("    fsck: %s\n", msg ? msg : "(null)");
}

/* fsck on a damaged image must not say "clean". */
static void expect_fsck_problems(const char *path, const char *what)
{
	struct fsck_count c = { 0, 0 };
	struct dxl_fsck_result res;
	memset(&res, 0, sizeof(res));
	int rc = dxl_fsck(path, 0, count_report, &c, &res);
	if (rc == 0) {
		fprintf(stderr, "test_badinput: fsck of %s image returned 0 (clean)\n", what);
		g_failures++;
	} else if (rc == -EUCLEAN) {
		if (res.problems == 0 || c.calls == 0) {
			fprintf(stderr, "test_badinput: fsck of %s image: -EUCLEAN but %" PRIu64
					" problems, %d reports\n",
				what, res.problems, c.calls);
			g_failures++;
		}
	} else if (rc > 0 || !dxl_errmsg()[0]) {
		fprintf(stderr, "test_badinput: fsck of %s image returned %d, message '%s'\n", what,
			rc, dxl_errmsg());
		g_failures++;
	}
	if (c.empty) {
		fprintf(stderr, "test_badinput: fsck of %s image: %d empty problem reports\n", what,
			c.empty);
		g_failures++;
	}
}

/* ------------------------------------------------------------ pool paths */

static void test_pool_paths(void)
{
	char p[4200], q[4200];
	dxl_pool *pool = NULL;
	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.size = 4u << 20;

	tpath(p, sizeof(p), "does-not-exist");
	EXPECT(dxl_pool_open(p, 0, &pool), ENOENT);
	EXPECT(dxl_pool_open(p, DXL_POOL_RDONLY, &pool), ENOENT);
	EXPECT((dxl_fsck)(p, 0, NULL, NULL, NULL, 0), ENOENT);
	EXPECT(dxl_pool_open("", 0, &pool), ENOENT, EINVAL);
	EXPECT((dxl_fsck)("", 0, NULL, NULL, NULL, 0), ENOENT, EINVAL);
	EXPECT(dxl_pool_open(g_dir, 0, &pool), EISDIR, EINVAL, ENODEV);
	EXPECT((dxl_fsck)(g_dir, 0, NULL, NULL, NULL, 0), EISDIR, EINVAL, ENODEV);
	EXPECT(dxl_mkfs(g_dir, &mo), EISDIR, EINVAL, ENODEV);
	tpath(q, sizeof(q), "no-such-dir/pool");
	EXPECT(dxl_mkfs(q, &mo), ENOENT);
	EXPECT(dxl_pool_open(q, 0, &pool), ENOENT);

	/* empty file */
	tpath(p, sizeof(p), "empty");
	write_file(p, "", 0);
	EXPECT(dxl_pool_open(p, 0, &pool), CORRUPT);
	EXPECT(dxl_pool_open(p, DXL_POOL_RDONLY, &pool), CORRUPT);
	expect_fsck_problems(p, "empty");

	/* garbage, of several sizes */
	static const size_t gsize[] = { 100, 4096, 65536, 3u << 20 };
	for (size_t i = 0; i < sizeof(gsize) / sizeof(gsize[0]); i++) {
		uint8_t *g = malloc(gsize[i]);
		CHECK(g);
		for (size_t k = 0; k < gsize[i]; k++)
			g[k] = (uint8_t)rnd();
		tpath(p, sizeof(p), "garbage");
		write_file(p, g, gsize[i]);
		free(g);
		EXPECT(dxl_pool_open(p, 0, &pool), CORRUPT);
		EXPECT(dxl_pool_open(p, DXL_POOL_RDONLY, &pool), CORRUPT);
		expect_fsck_problems(p, "garbage");
		/* mkfs must not overwrite what is not a daxlease pool without FORCE?  The
		 * API only promises that for an existing pool; nothing asserted here. */
	}

	/* mkfs geometry */
	tpath(p, sizeof(p), "mkfs-test");
	mo.unit = 3000;
	EXPECT(dxl_mkfs(p, &mo), EINVAL);
	mo.unit = 2048;
	EXPECT(dxl_mkfs(p, &mo), EINVAL);
	mo.unit = 4096;
	mo.size = 8192;
	EXPECT(dxl_mkfs(p, &mo), EINVAL, ENOSPC);
	mo.size = 4u << 20;
	mo.unit = 8u << 20; /* a unit larger than the pool */
	EXPECT(dxl_mkfs(p, &mo), EINVAL, ENOSPC);
	mo.unit = 4096;
	MUST(dxl_mkfs(p, &mo));
	EXPECT(dxl_mkfs(p, &mo), EEXIST);
	mo.flags = DXL_MKFS_FORCE;
	MUST(dxl_mkfs(p, &mo));
	mo.flags = 0;
	if (dxl_pool_open(p, 0, &pool) == 0) {
		struct dxl_statfs sf;
		MUST(dxl_statfs(pool, &sf));
		if (sf.unit != 4096 || sf.pool_size == 0 || sf.pool_size > (4u << 20)) {
			fprintf(stderr, "statfs after mkfs: unit %" PRIu64 " size %" PRIu64 "\n",
				sf.unit, sf.pool_size);
			g_failures++;
		}
		MUST(dxl_pool_close(pool));
	} else {
		fprintf(stderr, "open after mkfs failed: %s\n", dxl_errmsg());
		g_failures++;
	}
	MUST((dxl_fsck)(p, 0, NULL, NULL, NULL, 0));
}

/* ------------------------------------------------------------ truncated / zeroed */

static void test_damaged_images(const char *pop)
{
	char p[4200];
	dxl_pool *pool;
	tpath(p, sizeof(p), "damaged");
	uint64_t cuts[] = { 0, 4096, g_pristine_len / 2, g_pristine_len - 4096 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_file(p, g_pristine, cuts[i]);
		char what[64];
		snprintf(what, sizeof(what), "truncated to %" PRIu64, cuts[i]);
		if (opt_verbose)
			printf("%s\n", what);
		pool = NULL;
		set_marker();
		int rc = dxl_pool_open(p, 0, &pool);
		EXPECT_RC(rc, CORRUPT);
		if (rc == 0)
			dxl_pool_close(pool);
		set_marker();
		rc = dxl_pool_open(p, DXL_POOL_RDONLY, &pool);
		EXPECT_RC(rc, CORRUPT);
		if (rc == 0)
			dxl_pool_close(pool);
		expect_fsck_problems(p, what);
	}

	/* all zero */
	uint8_t *z = calloc(1, g_pristine_len);
	CHECK(z);
	write_file(p, z, g_pristine_len);
	free(z);
	EXPECT(dxl_pool_open(p, 0, &pool), CORRUPT);
	expect_fsck_problems(p, "all-zero");

	/* primary superblock zeroed: the backup must let fsck --repair mend it */
	restore(p);
	int fd = open(p, O_WRONLY);
	CHECK(fd >= 0);
	static const uint8_t zero4k[4096];
	CHECK(pwrite(fd, zero4k, 4096, 0) == 4096);
	close(fd);
	pool = NULL;
	set_marker();
	int rc = dxl_pool_open(p, 0, &pool);
	if (rc == 0) {
		/* opened from the backup: must then be the same pool */
		struct snap s;
		snap_take(pool, &s);
		if (strcmp(s.text, g_pristine_snap.text)) {
			fprintf(stderr, "open with a zeroed primary superblock succeeded but the "
					"contents differ\n");
			g_failures++;
		}
		free(s.text);
		dxl_pool_close(pool);
	} else {
		EXPECT_RC(rc, CORRUPT);
	}
	restore(p);
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, zero4k, 4096, 0) == 4096);
	close(fd);
	expect_fsck_problems(p, "primary-superblock-zeroed");
	struct dxl_fsck_result res;
	memset(&res, 0, sizeof(res));
	struct fsck_count c = { 0, 0 };
	rc = dxl_fsck(p, DXL_FSCK_REPAIR, count_report, &c, &res);
	if (rc != 0 || res.repaired == 0) {
		fprintf(stderr, "fsck --repair of a zeroed primary superblock (backup intact) "
				"returned %d (%s), %" PRIu64 " problems, %" PRIu64 " repaired\n",
			rc, dxl_errmsg(), res.problems, res.repaired);
		g_failures++;
	} else {
		MUST((dxl_fsck)(p, 0, NULL, NULL, NULL, 0));
		rc = dxl_pool_open(p, 0, &pool);
		if (rc) {
			fprintf(stderr, "open after repairing the superblock returned %d (%s)\n", rc,
				dxl_errmsg());
			g_failures++;
		} else {
			struct snap s;
			snap_take(pool, &s);
			if (strcmp(s.text, g_pristine_snap.text)) {
				fprintf(stderr, "after repairing the superblock the contents differ:\n"
						"--- expected\n%s--- got\n%s",
					g_pristine_snap.text, s.text);
				g_failures++;
			}
			free(s.text);
			/* and it works: a change, then clean */
			dxl_file *f;
			MUST(dxl_open(pool, "/after-repair", O_CREAT | O_RDWR, 0644, &f));
			if (f) {
				if (dxl_pwrite(f, "x", 1, 0) != 1) {
					fprintf(stderr, "write after repair failed: %s\n", dxl_errmsg());
					g_failures++;
				}
				MUST(dxl_close(f));
			}
			MUST(dxl_pool_close(pool));
			MUST((dxl_fsck)(p, 0, NULL, NULL, NULL, 0));
		}
	}

	/* backup superblock zeroed: the pool still opens; fsck notices */
	restore(p);
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, zero4k, 4096, (off_t)(g_pristine_len - 4096)) == 4096);
	close(fd);
	rc = dxl_pool_open(p, 0, &pool);
	if (rc) {
		fprintf(stderr, "open with only the backup superblock zeroed returned %d (%s)\n", rc,
			dxl_errmsg());
		g_failures++;
	} else {
		dxl_pool_close(pool);
	}
	(void)pop;
}

/* ------------------------------------------------------------ bit flips */

static int is_data_block(const uint8_t *blk)
{
	uint64_t h = fnv(blk, 4096, 0xcbf29ce484222325ull);
	for (size_t i = 0; i < g_ndata_hash; i++)
		if (g_data_hash[i] == h)
			return 1;
	return 0;
}

/* Candidate 4 KiB blocks: non-zero, in the metadata area or the backup
 * superblock, not file data. */
static uint64_t *g_cand;
static size_t g_ncand;

static void find_candidates(void)
{
	for (uint64_t b = 0; b * 4096 < g_pristine_len; b++) {
		uint64_t off = b * 4096;
		if (off >= g_meta_end && off + 4096 != g_pristine_len)
			continue;
		const uint8_t *blk = g_pristine + off;
		int nz = 0;
		for (int i = 0; i < 4096 && !nz; i++)
			nz = blk[i] != 0;
		if (!nz || is_data_block(blk))
			continue;
		g_cand = realloc(g_cand, (g_ncand + 1) * sizeof(*g_cand));
		CHECK(g_cand);
		g_cand[g_ncand++] = b;
	}
	if (opt_verbose)
		printf("bit flips: %zu candidate metadata blocks\n", g_ncand);
	CHECK(g_ncand > 3);
}

static void pick_flip(uint64_t *byte, int *bit)
{
	uint64_t b = g_cand[rnd_below(g_ncand)];
	const uint8_t *blk = g_pristine + b * 4096;
	int last = 4095;
	while (last > 0 && !blk[last])
		last--;
	/* mostly where the block has content, sometimes anywhere in it */
	uint64_t o = rnd_below(4) ? rnd_below((uint64_t)last + 1 + 16) : rnd_below(4096);
	if (o > 4095)
		o = 4095;
	*byte = b * 4096 + o;
	*bit = (int)rnd_below(8);
}

static int g_flip_open_failed;

/* Runs in a child.  Exit 1 = a failed assertion (printed); 64 + bits
 * (1: fsck found problems, 2: open refused) = fine. */
static int flip_child(const char *p, uint64_t byte, int bit, int rw, int repair)
{
	alarm(60); /* a hang on a damaged image is a bug too */
	int bad = 0;
	struct fsck_count c = { 0, 0 };
	struct dxl_fsck_result res;
	memset(&res, 0, sizeof(res));
	int frc = dxl_fsck(p, 0, count_report, &c, &res);
	if (frc > 0 || (frc < 0 && frc != -EUCLEAN && !dxl_errmsg()[0]) ||
	    (frc == 0 && res.problems) ||
	    (frc == -EUCLEAN && (c.calls == 0 || res.problems == 0))) {
		fprintf(stderr, "  fsck returned %d with %" PRIu64 " problems, %d reports, msg '%s'\n",
			frc, res.problems, c.calls, dxl_errmsg());
		bad = 1;
	}
	dxl_pool *pool = NULL;
	int rc = dxl_pool_open(p, rw ? 0 : DXL_POOL_RDONLY, &pool);
	g_flip_open_failed = rc != 0;
	if (rc) {
		if (rc > 0 || !dxl_errmsg()[0]) {
			fprintf(stderr, "  pool open returned %d, msg '%s'\n", rc, dxl_errmsg());
			bad = 1;
		}
		if (frc == 0) {
			fprintf(stderr, "  fsck said clean, but pool open failed: %d (%s)\n", rc,
				dxl_errmsg());
			bad = 1;
		}
	} else {
		struct snap s;
		snap_take(pool, &s);
		if (frc == 0 && strcmp(s.text, g_pristine_snap.text)) {
			fprintf(stderr, "  fsck said clean, but the pool reads differently:\n--- "
					"expected\n%s--- got\n%s",
				g_pristine_snap.text, s.text);
			bad = 1;
		}
		free(s.text);
		if (rw) {
			/* changes on a damaged pool: errors are fine, crashes are not */
			dxl_file *f = NULL;
			uint8_t buf[20000];
			memset(buf, 0x5a, sizeof(buf));
			if (dxl_open(pool, "/new-file", O_CREAT | O_RDWR, 0644, &f) == 0) {
				dxl_pwrite(f, buf, sizeof(buf), 4000);
				dxl_ftruncate(f, 100);
				dxl_close(f);
			}
			if (dxl_open(pool, "/d1/large", O_RDWR, 0, &f) == 0) {
				dxl_pwrite(f, buf, sizeof(buf), 1000); /* COW of the shared part */
				dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100000, 50000);
				dxl_ftruncate(f, 5000);
				dxl_close(f);
			}
			dxl_mkdir(pool, "/d1/d2/newdir", 0755);
			dxl_unlink(pool, "/big/entry-with-a-longish-name-0100");
			dxl_rename(pool, "/d1/unit", "/big/moved", 0);
			dxl_unlink(pool, "/clone");
			dxl_rmdir(pool, "/d1/d2");
		}
		rc = dxl_pool_close(pool);
		if (rc && !dxl_errmsg()[0]) {
			fprintf(stderr, "  pool close returned %d without a message\n", rc);
			bad = 1;
		}
	}
	if (repair) {
		memset(&res, 0, sizeof(res));
		c.calls = c.empty = 0;
		rc = dxl_fsck(p, DXL_FSCK_REPAIR, count_report, &c, &res);
		if (rc == 0) {
			/* "clean or everything found was repaired": then it is clean */
			struct dxl_fsck_result r2;
			memset(&r2, 0, sizeof(r2));
			int rc2 = dxl_fsck(p, 0, count_report, &c, &r2);
			if (rc2 != 0) {
				fprintf(stderr, "  fsck --repair returned 0 (%" PRIu64 " problems, %" PRIu64
						" repaired) but a second fsck returned %d (%" PRIu64
						" problems)\n",
					res.problems, res.repaired, rc2, r2.problems);
				bad = 1;
			}
			rc2 = dxl_pool_open(p, 0, &pool);
			if (rc2) {
				fprintf(stderr, "  fsck --repair returned 0, but open returned %d (%s)\n",
					rc2, dxl_errmsg());
				bad = 1;
			} else {
				struct snap s;
				snap_take(pool, &s);
				free(s.text);
				dxl_pool_close(pool);
			}
		} else if (rc > 0 || (rc != -EUCLEAN && !dxl_errmsg()[0]) ||
			   (rc == -EUCLEAN && !c.calls)) {
			fprintf(stderr, "  fsck --repair returned %d, msg '%s', %d reports\n", rc,
				dxl_errmsg(), c.calls);
			bad = 1;
		}
	}
	if (c.empty) {
		fprintf(stderr, "  fsck made %d empty problem reports\n", c.empty);
		bad = 1;
	}
	(void)byte;
	(void)bit;
	if (bad)
		return 1;
	return 64 | (frc != 0) | (g_flip_open_failed << 1);
}

static void do_flip(const char *p, uint64_t byte, int bit)
{
	restore(p);
	int fd = open(p, O_RDWR);
	CHECK(fd >= 0);
	uint8_t v = g_pristine[byte] ^ (uint8_t)(1u << bit);
	CHECK(pwrite(fd, &v, 1, (off_t)byte) == 1);
	close(fd);
}

static void test_bitflips(void)
{
	char p[4200];
	tpath(p, sizeof(p), "flipped");
	find_candidates();
	int crashes = 0, asserts = 0, clean = 0, detected = 0, refused = 0;
	/* --flip: that one flip, read-only and read-write, with and without repair */
	uint64_t n = opt_flip_byte >= 0 ? 4 : opt_flips;
	for (uint64_t it = 0; it < n; it++) {
		uint64_t byte;
		int bit;
		if (opt_flip_byte >= 0) {
			byte = (uint64_t)opt_flip_byte;
			bit = opt_flip_bit;
		} else {
			pick_flip(&byte, &bit);
		}
		int rw = (int)rnd_below(2), repair = rnd_below(3) == 0;
		if (opt_flip_byte >= 0) {
			rw = (int)(it & 1);
			repair = (int)(it >> 1);
		}
		do_flip(p, byte, bit);
		if (opt_verbose)
			printf("flip %" PRIu64 ": byte %" PRIu64 " (block %" PRIu64 " +%" PRIu64
			       ") bit %d, %s%s\n",
			       it, byte, byte / 4096, byte % 4096, bit, rw ? "rw" : "ro",
			       repair ? ", repair" : "");
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(flip_child(p, byte, bit, rw, repair));
		int status;
		CHECK(waitpid(pid, &status, 0) == pid);
		if (WIFEXITED(status) && (WEXITSTATUS(status) & 64)) {
			clean++;
			detected += WEXITSTATUS(status) & 1;
			refused += (WEXITSTATUS(status) >> 1) & 1;
			continue;
		}
		if (WIFSIGNALED(status)) {
			crashes++;
			fprintf(stderr, "test_badinput: CRASH (signal %d%s) with bit %d of byte %" PRIu64
					" (block %" PRIu64 " +%" PRIu64 ") flipped, %s%s\n",
				WTERMSIG(status), WTERMSIG(status) == SIGALRM ? ": hang" : "", bit, byte,
				byte / 4096, byte % 4096, rw ? "read-write" : "read-only",
				repair ? ", fsck --repair" : "");
		} else {
			asserts++;
			fprintf(stderr, "test_badinput: failure above with bit %d of byte %" PRIu64
					" (block %" PRIu64 " +%" PRIu64 ") flipped, %s%s (exit %d)\n",
				bit, byte, byte / 4096, byte % 4096, rw ? "read-write" : "read-only",
				repair ? ", fsck --repair" : "", WEXITSTATUS(status));
		}
		fprintf(stderr, "  reproduce: test_badinput --seed %" PRIu64 " --flip %" PRIu64
				":%d -v\n",
			opt_seed, byte, bit);
	}
	printf("bit flips: %" PRIu64 " images: %d fine (fsck found damage in %d, open refused %d), "
	       "%d crashes/hangs, %d failed checks\n",
	       n, clean, detected, refused, crashes, asserts);
	g_failures += crashes + asserts;
}

/* ------------------------------------------------------------ arguments */

static void test_arguments(void)
{
	char p[4200];
	tpath(p, sizeof(p), "args");
	struct dxl_mkfs_opts mo;
	memset(&mo, 0, sizeof(mo));
	mo.size = 16u << 20;
	mo.unit = 4096;
	CHECK_OK(dxl_mkfs(p, &mo));
	dxl_pool *pool;
	CHECK_OK(dxl_pool_open(p, 0, &pool));
	struct dxl_stat st;
	dxl_file *f = NULL, *ro = NULL, *wo = NULL, *g = NULL, *x = NULL;
	dxl_dir *d = NULL;

	CHECK_OK(dxl_mkdir(pool, "/dir", 0755));
	CHECK_OK(dxl_mkdir(pool, "/dir/sub", 0755));
	CHECK_OK(dxl_open(pool, "/dir/file", O_CREAT | O_RDWR, 0644, &f));
	CHECK_RC(dxl_pwrite(f, "hello world", 11, 0), 11);
	CHECK_OK(dxl_open(pool, "/other", O_CREAT | O_RDWR, 0644, &g));
	CHECK_OK(dxl_open(pool, "/dir/file", O_RDONLY, 0, &ro));
	CHECK_OK(dxl_open(pool, "/dir/file", O_WRONLY, 0, &wo));

	/* bad paths */
	EXPECT(dxl_stat(pool, "", &st), ENOENT, EINVAL);
	EXPECT(dxl_mkdir(pool, "", 0755), ENOENT, EINVAL, EEXIST);
	EXPECT(dxl_open(pool, "", O_CREAT | O_RDWR, 0644, &x), ENOENT, EINVAL, EISDIR);
	EXPECT(dxl_unlink(pool, ""), ENOENT, EINVAL, EISDIR);
	EXPECT(dxl_mkdir(pool, "//", 0755), EEXIST, EINVAL);
	EXPECT(dxl_mkdir(pool, "/", 0755), EEXIST, EINVAL);
	EXPECT(dxl_unlink(pool, "//"), EISDIR, EPERM, EINVAL, EBUSY);
	EXPECT(dxl_rmdir(pool, "/"), EBUSY, EINVAL, EPERM);
	EXPECT(dxl_rmdir(pool, "//"), EBUSY, EINVAL, EPERM);
	EXPECT(dxl_rename(pool, "/", "/x", 0), EBUSY, EINVAL);
	EXPECT(dxl_rename(pool, "/dir", "/", 0), EBUSY, EINVAL, EEXIST, ENOTEMPTY);
	EXPECT(dxl_open(pool, "/", O_RDWR, 0, &x), EISDIR);
	EXPECT(dxl_open(pool, "//", O_CREAT | O_RDWR, 0644, &x), EISDIR, EINVAL);
	EXPECT(dxl_stat(pool, "/nope", &st), ENOENT);
	EXPECT(dxl_stat(pool, "/nope/x", &st), ENOENT);
	EXPECT(dxl_stat(pool, "/dir/file/x", &st), ENOTDIR);
	EXPECT(dxl_open(pool, "/dir/file/x", O_CREAT | O_RDWR, 0644, &x), ENOTDIR);
	EXPECT(dxl_mkdir(pool, "/dir/file/x", 0755), ENOTDIR);
	EXPECT(dxl_open(pool, "/nope/x", O_CREAT | O_RDWR, 0644, &x), ENOENT);
	EXPECT(dxl_open(pool, "/nope", O_RDWR, 0, &x), ENOENT);

	/* names and paths that are too long */
	char name255[300], name256[300], longpath[5000], path4096[5000];
	name255[0] = '/';
	memset(name255 + 1, 'n', 255);
	name255[256] = 0; /* "/" + 255 bytes */
	memset(name256, 'm', 257);
	name256[0] = '/';
	name256[257] = 0; /* "/" + 256 bytes */
	EXPECT(dxl_open(pool, name256, O_CREAT | O_RDWR, 0644, &x), ENAMETOOLONG);
	EXPECT(dxl_mkdir(pool, name256, 0755), ENAMETOOLONG);
	EXPECT(dxl_stat(pool, name256, &st), ENAMETOOLONG);
	EXPECT(dxl_rename(pool, "/other", name256, 0), ENAMETOOLONG);
	EXPECT(dxl_link(pool, "/other", name256), ENAMETOOLONG);
	EXPECT(dxl_symlink(pool, "/other", name256), ENAMETOOLONG);
	EXPECT(dxl_unlink(pool, name256), ENAMETOOLONG);
	dxl_file *n255 = NULL;
	MUST(dxl_open(pool, name255, O_CREAT | O_RDWR, 0644, &n255));
	if (n255) {
		MUST(dxl_close(n255));
		MUST(dxl_stat(pool, name255, &st));
		int found = 0;
		if (dxl_opendir(pool, "/", &d) == 0) {
			struct dxl_dirent de;
			while (dxl_readdir(d, &de) == 1)
				found |= strlen(de.name) == 255 && !strcmp(de.name, name255 + 1);
			dxl_closedir(d);
		}
		if (!found) {
			fprintf(stderr, "a 255-byte name is not listed by readdir\n");
			g_failures++;
		}
		MUST(dxl_unlink(pool, name255));
	}
	/* > 4096 bytes made of valid components */
	size_t l = 0;
	while (l < 4200) {
		longpath[l++] = '/';
		memset(longpath + l, 'p', 50);
		l += 50;
	}
	longpath[l] = 0;
	/* longer than PATH_MAX is a path like another (trees may be that
	 * deep): these components do not exist */
	EXPECT(dxl_stat(pool, longpath, &st), ENOENT);
	EXPECT(dxl_mkdir(pool, longpath, 0755), ENOENT);
	EXPECT(dxl_open(pool, longpath, O_CREAT | O_RDWR, 0644, &x), ENOENT);
	EXPECT(dxl_unlink(pool, longpath), ENOENT);
	EXPECT(dxl_rename(pool, "/other", longpath, 0), ENOENT);
	EXPECT(dxl_opendir(pool, longpath, &d), ENOENT);
	/* only a path of DXL_PATH_WALK_MAX (1 MiB, format.h) bytes or more is
	 * refused, by every call */
	{
		const size_t walk_max = 1u << 20;
		char *huge = malloc(walk_max + 2);
		CHECK(huge != NULL);
		for (size_t i = 0; i <= walk_max; i++)
			huge[i] = (i % 51) ? 'h' : '/';
		huge[walk_max + 1] = 0;
		EXPECT(dxl_stat(pool, huge, &st), ENAMETOOLONG);
		EXPECT(dxl_mkdir(pool, huge, 0755), ENAMETOOLONG);
		EXPECT(dxl_open(pool, huge, O_CREAT | O_RDWR, 0644, &x), ENAMETOOLONG);
		EXPECT(dxl_unlink(pool, huge), ENAMETOOLONG);
		EXPECT(dxl_rename(pool, "/other", huge, 0), ENAMETOOLONG);
		EXPECT(dxl_opendir(pool, huge, &d), ENAMETOOLONG);
		free(huge);
	}
	/* exactly 4096 bytes + NUL still too long for PATH_MAX semantics (4096 incl. NUL) */
	memset(path4096, 'q', 4096);
	for (size_t i = 0; i < 4096; i += 64)
		path4096[i] = '/';
	path4096[4096] = 0;
	EXPECT(dxl_stat(pool, path4096, &st), ENAMETOOLONG, ENOENT);
	/* a symlink target longer than any limit */
	EXPECT(dxl_symlink(pool, longpath, "/sl"), ENAMETOOLONG);

	/* open flags */
	EXPECT(dxl_open(pool, "/dir/file", O_CREAT | O_EXCL | O_RDWR, 0644, &x), EEXIST);
	EXPECT(dxl_open(pool, "/dir", O_CREAT | O_EXCL | O_RDWR, 0644, &x), EEXIST);
	EXPECT(dxl_open(pool, "/dir", O_RDWR, 0, &x), EISDIR);
	EXPECT(dxl_open(pool, "/dir", O_WRONLY, 0, &x), EISDIR);

	/* access modes */
	char buf[64];
	EXPECT(dxl_pwrite(ro, "x", 1, 0), EBADF);
	EXPECT(dxl_ftruncate(ro, 0), EBADF, EINVAL);
	EXPECT(dxl_fallocate(ro, 0, 0, 4096), EBADF);
	EXPECT(dxl_reflink(f, 0, ro, 0, 11), EBADF);
	EXPECT(dxl_pread(wo, buf, 1, 0), EBADF);
	CHECK_RC(dxl_pread(ro, buf, sizeof(buf), 0), 11);

	/* offsets and lengths */
	const uint64_t big = 1ull << 63;
	EXPECT(dxl_pwrite(f, "x", 1, big), EFBIG, EINVAL);
	EXPECT(dxl_pwrite(f, "x", 1, UINT64_MAX), EFBIG, EINVAL);
	EXPECT(dxl_pwrite(f, buf, 100, UINT64_MAX - 10), EFBIG, EINVAL, EOVERFLOW);
	EXPECT(dxl_pread(f, buf, 1, big), EINVAL, EOVERFLOW);
	EXPECT(dxl_pread(f, buf, 100, UINT64_MAX - 10), EINVAL, EOVERFLOW);
	EXPECT(dxl_ftruncate(f, big), EFBIG, EINVAL);
	EXPECT(dxl_ftruncate(f, UINT64_MAX), EFBIG, EINVAL);
	EXPECT(dxl_truncate(pool, "/dir/file", big), EFBIG, EINVAL);
	EXPECT(dxl_fallocate(f, 0, 0, 0), EINVAL);
	EXPECT(dxl_fallocate(f, 0, big, 4096), EFBIG, EINVAL);
	EXPECT(dxl_fallocate(f, 0, UINT64_MAX - 4095, 8192), EFBIG, EINVAL);
	EXPECT(dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP, EINVAL);
	EXPECT(dxl_fallocate(f, 0x4000, 0, 4096), EOPNOTSUPP, EINVAL);
	EXPECT(dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			     0, 4096),
	       EOPNOTSUPP, EINVAL);
	/* the file is unchanged by all that */
	MUST(dxl_fstat(f, &st));
	if (st.size != 11) {
		fprintf(stderr, "failed calls changed the file size to %" PRIu64 "\n", st.size);
		g_failures++;
	}

	/* a large sparse offset works (any offset the API can represent sanely) */
	CHECK_RC(dxl_pwrite(g, "far", 3, 1ull << 40), 3);
	MUST(dxl_fstat(g, &st));
	if (st.size != (1ull << 40) + 3 || st.allocated > 2 * 4096) {
		fprintf(stderr, "write at 1 TiB: size %" PRIu64 " allocated %" PRIu64 "\n", st.size,
			st.allocated);
		g_failures++;
	}
	memset(buf, 0, sizeof(buf));
	CHECK_RC(dxl_pread(g, buf, 10, (1ull << 40) - 2), 5);
	if (memcmp(buf, "\0\0far", 5)) {
		fprintf(stderr, "read back at 1 TiB differs\n");
		g_failures++;
	}
	MUST(dxl_ftruncate(g, 0));

	/* reflink alignment */
	CHECK_RC(dxl_pwrite(g, buf, 64, 3 * 4096), 64); /* g: 3 units + 64 bytes */
	EXPECT(dxl_reflink(g, 1, f, 0, 4096), EINVAL);
	EXPECT(dxl_reflink(g, 0, f, 100, 4096), EINVAL);
	EXPECT(dxl_reflink(g, 0, f, 0, 100), EINVAL);          /* unaligned, not to src EOF */
	EXPECT(dxl_reflink(g, 8 * 4096, f, 0, 4096), EINVAL); /* beyond src EOF */
	EXPECT(dxl_reflink(g, 0, g, 4096, 2 * 4096), EINVAL); /* overlapping, one file */
	EXPECT(dxl_reflink(g, big, f, 0, 4096), EINVAL, EFBIG);
	EXPECT(dxl_reflink(g, 0, f, big, 4096), EINVAL, EFBIG);
	EXPECT(dxl_reflink(g, 0, f, UINT64_MAX - 4095, 4096), EINVAL, EFBIG);
	EXPECT(dxl_reflink(g, 4096, f, 0, UINT64_MAX - 4095), EINVAL, EFBIG);
	/* to src EOF, unaligned, into a smaller dst: fine */
	MUST(dxl_reflink(g, 0, f, 0, 3 * 4096 + 64));
	MUST(dxl_fstat(f, &st));
	if (st.size != 3 * 4096 + 64) {
		fprintf(stderr, "reflink to src EOF: dst size %" PRIu64 "\n", st.size);
		g_failures++;
	}

	/* namespace misuse */
	EXPECT(dxl_unlink(pool, "/dir"), EISDIR, EPERM);
	EXPECT(dxl_rmdir(pool, "/dir"), ENOTEMPTY, EEXIST);
	EXPECT(dxl_rmdir(pool, "/dir/file"), ENOTDIR);
	EXPECT(dxl_rmdir(pool, "/nope"), ENOENT);
	EXPECT(dxl_unlink(pool, "/nope"), ENOENT);
	EXPECT(dxl_mkdir(pool, "/dir", 0755), EEXIST);
	EXPECT(dxl_mkdir(pool, "/dir/file", 0755), EEXIST);
	EXPECT(dxl_mkdir(pool, "/nope/sub", 0755), ENOENT);
	EXPECT(dxl_rename(pool, "/dir", "/dir/sub/inside", 0), EINVAL);
	EXPECT(dxl_rename(pool, "/dir", "/dir/inside", 0), EINVAL);
	EXPECT(dxl_rename(pool, "/nope", "/x", 0), ENOENT);
	EXPECT(dxl_rename(pool, "/other", "/nope/x", 0), ENOENT);
	EXPECT(dxl_rename(pool, "/other", "/dir", 0), EISDIR);
	EXPECT(dxl_rename(pool, "/dir/sub", "/other", 0), ENOTDIR);
	MUST(dxl_mkdir(pool, "/full", 0755));
	MUST(dxl_mkdir(pool, "/full/x", 0755));
	EXPECT(dxl_rename(pool, "/dir/sub", "/full", 0), ENOTEMPTY, EEXIST);
	EXPECT(dxl_rename(pool, "/other", "/dir/file", DXL_RENAME_NOREPLACE), EEXIST);
	EXPECT(dxl_rename(pool, "/other", "/dir/file", DXL_RENAME_NOREPLACE | DXL_RENAME_EXCHANGE),
	       EINVAL);
	EXPECT(dxl_rename(pool, "/other", "/nope", DXL_RENAME_EXCHANGE), ENOENT);
	EXPECT(dxl_rename(pool, "/other", "/x", 0x100), EINVAL);
	EXPECT(dxl_link(pool, "/dir", "/dirlink"), EPERM);
	EXPECT(dxl_link(pool, "/other", "/dir/file"), EEXIST);
	EXPECT(dxl_link(pool, "/nope", "/x"), ENOENT);
	EXPECT(dxl_readlink(pool, "/other", buf, sizeof(buf)), EINVAL);
	EXPECT(dxl_readlink(pool, "/nope", buf, sizeof(buf)), ENOENT);
	MUST(dxl_symlink(pool, "/dir/file", "/sl"));
	EXPECT(dxl_symlink(pool, "/x", "/sl"), EEXIST);
	EXPECT(dxl_symlink(pool, "/x", "/other"), EEXIST);
	MUST(dxl_symlink(pool, "/loop2", "/loop1"));
	MUST(dxl_symlink(pool, "/loop1", "/loop2"));
	EXPECT(dxl_stat(pool, "/loop1", &st), ELOOP);
	EXPECT(dxl_open(pool, "/loop1", O_RDONLY, 0, &x), ELOOP);
	EXPECT(dxl_opendir(pool, "/other", &d), ENOTDIR);
	EXPECT(dxl_opendir(pool, "/nope", &d), ENOENT);
	EXPECT(dxl_truncate(pool, "/dir", 0), EISDIR);
	EXPECT(dxl_truncate(pool, "/nope", 0), ENOENT);
	EXPECT(dxl_chmod(pool, "/nope", 0644), ENOENT);
	EXPECT(dxl_chown(pool, "/nope", 1, 1), ENOENT);
	EXPECT(dxl_utimens(pool, "/nope", NULL), ENOENT);

	/* a bogus readdir cookie: end, an error or entries — never a crash */
	if (dxl_opendir(pool, "/", &d) == 0) {
		struct dxl_dirent de;
		static const uint64_t cookies[] = { 1, 0x123456789abcdefull, UINT64_MAX, 255, 256 };
		for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
			dxl_seekdir(d, cookies[i]);
			int k = 0, rc;
			while ((rc = dxl_readdir(d, &de)) == 1 && k < 1000)
				k++;
			if (rc < 0 && !dxl_errmsg()[0]) {
				fprintf(stderr, "readdir after a bogus cookie: %d without a message\n",
					rc);
				g_failures++;
			}
		}
		dxl_closedir(d);
	}

	MUST(dxl_close(f));
	MUST(dxl_close(g));
	MUST(dxl_close(ro));
	MUST(dxl_close(wo));
	MUST(dxl_pool_close(pool));
	MUST((dxl_fsck)(p, 0, NULL, NULL, NULL, 0));

	/* read-only pool: every change refused with EROFS */
	CHECK_OK(dxl_pool_open(p, DXL_POOL_RDONLY, &pool));
	EXPECT(dxl_mkdir(pool, "/ro", 0755), EROFS);
	EXPECT(dxl_open(pool, "/ro", O_CREAT | O_RDWR, 0644, &x), EROFS);
	EXPECT(dxl_open(pool, "/other", O_RDWR, 0, &x), EROFS);
	EXPECT(dxl_open(pool, "/other", O_WRONLY, 0, &x), EROFS);
	EXPECT(dxl_unlink(pool, "/other"), EROFS);
	EXPECT(dxl_rmdir(pool, "/full/x"), EROFS);
	EXPECT(dxl_rename(pool, "/other", "/o2", 0), EROFS);
	EXPECT(dxl_link(pool, "/other", "/o2"), EROFS);
	EXPECT(dxl_symlink(pool, "/other", "/o2"), EROFS);
	EXPECT(dxl_truncate(pool, "/other", 0), EROFS);
	EXPECT(dxl_chmod(pool, "/other", 0600), EROFS);
	EXPECT(dxl_tune_lease_break(pool, 1000), EROFS);
	if (dxl_open(pool, "/dir/file", O_RDONLY, 0, &f) == 0) {
		CHECK_RC(dxl_pread(f, buf, 4, 0), 4);
		EXPECT(dxl_pwrite(f, "x", 1, 0), EBADF, EROFS);
		EXPECT(dxl_ftruncate(f, 0), EBADF, EINVAL, EROFS);
		MUST(dxl_close(f));
	} else {
		fprintf(stderr, "read-only open of a file in a read-only pool failed: %s\n",
			dxl_errmsg());
		g_failures++;
	}
	MUST(dxl_pool_close(pool));
	MUST((dxl_fsck)(p, 0, NULL, NULL, NULL, 0));
}

/* ------------------------------------------------------------ main */

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
			fprintf(stderr, "usage: %s [--seed S] [--flips N] [--flip BYTE:BIT] [--keep] [-v]\n",
				argv[0]);
			return 2;
		}
		i++;
		if (!strcmp(a, "--seed")) opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--flips")) opt_flips = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--flip")) {
			if (sscanf(v, "%" SCNd64 ":%d", &opt_flip_byte, &opt_flip_bit) != 2 ||
			    opt_flip_bit < 0 || opt_flip_bit > 7) {
				fprintf(stderr, "--flip BYTE:BIT\n");
				return 2;
			}
		} else { fprintf(stderr, "unknown option %s\n", a); return 2; }
	}
	if (opt_seed == 0)
		opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	g_rng = opt_seed;
	printf("test_badinput: seed %" PRIu64 ", %" PRIu64 " bit flips\n", opt_seed, opt_flips);
	fflush(stdout);

	const char *tmp = getenv("TMPDIR");
	snprintf(g_dir, sizeof(g_dir), "%s/dxl-bad-XXXXXX", dxl_test_dir(tmp && *tmp ? tmp : "/var/tmp"));
	CHECK(mkdtemp(g_dir));
	snprintf(g_rt_dir, sizeof(g_rt_dir), "%s/rt", g_dir);
	CHECK(mkdir(g_rt_dir, 0700) == 0);
	setenv("DXL_RUNTIME_DIR", g_rt_dir, 1);

	char pop[4200];
	tpath(pop, sizeof(pop), "populated");
	make_populated(pop);
	if (opt_flip_byte < 0) {
		test_pool_paths();
		test_damaged_images(pop);
		test_arguments();
	}
	test_bitflips();

	free(g_pristine);
	free(g_pristine_snap.text);
	free(g_cand);
	free(g_data_hash);
	if (g_failures) {
		fprintf(stderr, "test_badinput: %d FAILURES (seed %" PRIu64 "; files kept in %s)\n",
			g_failures, opt_seed, g_dir);
		return 1;
	}
	printf("test_badinput: OK\n");
	if (!opt_keep)
		nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
