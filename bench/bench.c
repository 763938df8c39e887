/*
 * daxlease bench — libdaxlease measured side by side with the kernel.
 *
 * Every figure runs its contenders ("sides") in interleaved rounds: round r
 * runs each side once, in an order rotated by r, so slow drift (frequency,
 * a noisy neighbour, page-cache state) lands on every side alike.  A
 * figure's number for a side is the median over rounds of the mean time
 * per operation within the round.  One JSON line per figure goes to
 * stdout; commentary goes to stderr.  Timings are never pass/fail for the
 * exit status: "met" in each line says whether the target was reached.
 *
 * Only the public API (daxlease/daxlease.h) and libc are used.  See
 * docs/bench.md for what each figure measures and why.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fallocate; the build defines it too */
#endif
#include "bench.h"
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxlease/daxlease.h"

#define TMPFS_MAGIC_VALUE 0x01021994

/* struct opts, struct bench, struct jline, struct side: bench_int.h */

/* Paths to remove if we are interrupted (async-signal-safe cleanup). */
#define MAX_CLEANUP 16
static char cleanup_paths[MAX_CLEANUP][PATH_MAX];
static volatile sig_atomic_t cleanup_isdir[MAX_CLEANUP];
static volatile sig_atomic_t ncleanup;

void cleanup_add(const char *path, bool isdir)
{
	if (ncleanup >= MAX_CLEANUP)
		return;
	size_t n = strnlen(path, PATH_MAX - 1);
	memcpy(cleanup_paths[ncleanup], path, n);
	cleanup_paths[ncleanup][n] = '\0';
	cleanup_isdir[ncleanup] = isdir;
	ncleanup++;
}

static void cleanup_run(void)
{
	for (int i = ncleanup - 1; i >= 0; i--) {
		if (cleanup_isdir[i])
			rmdir(cleanup_paths[i]);
		else
			unlink(cleanup_paths[i]);
	}
	ncleanup = 0;
}

static void on_signal(int sig)
{
	cleanup_run();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ------------------------------------------------------------ helpers */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void set_err(struct bench *b, const char *fmt, ...)
{
	if (b->err[0])
		return; /* keep the first */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = KiB; end++; break;
	case 'm': case 'M': mul = MiB; end++; break;
	case 'g': case 'G': mul = GiB; end++; break;
	case 't': case 'T': mul = TiB; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (mul > 1 && v > UINT64_MAX / mul))
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double median(const double *v, int n)
{
	double tmp[MAX_ROUNDS];
	memcpy(tmp, v, (size_t)n * sizeof(double));
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Does the comma-separated --only list select `name` (or its group)? */
bool selected(const struct bench *b, const char *name, const char *group)
{
	if (!b->o.only)
		return true;
	const char *p = b->o.only;
	while (*p) {
		size_t n = strcspn(p, ",");
		if ((strlen(name) == n && strncmp(p, name, n) == 0) ||
		    (group && strlen(group) == n && strncmp(p, group, n) == 0))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static const char *backend_name(uint32_t backend)
{
	switch (backend) {
	case DXL_BACKEND_FILE: return "file";
	case DXL_BACKEND_SHM: return "shm";
	case DXL_BACKEND_DEVDAX: return "devdax";
	case DXL_BACKEND_FSDAX: return "fsdax";
	default: return "unknown";
	}
}

static void fs_name_of(const char *dir, char *out, size_t len)
{
	struct statfs sf;
	if (statfs(dir, &sf) != 0)
		snprintf(out, len, "unknown");
	else if ((unsigned long)sf.f_type == TMPFS_MAGIC_VALUE)
		snprintf(out, len, "tmpfs");
	else
		snprintf(out, len, "0x%lx", (unsigned long)sf.f_type);
}

/* --------------------------------------------------------- JSON lines */

void j_raw(struct jline *j, const char *fmt, ...)
{
	if (j->len >= sizeof(j->buf))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, sizeof(j->buf) - j->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		j->len += (size_t)n;
	if (j->len > sizeof(j->buf) - 1)
		j->len = sizeof(j->buf) - 1;
}

void j_key(struct jline *j, const char *k)
{
	j_raw(j, "%s\"%s\":", j->len > 1 ? "," : "", k);
}

void j_str(struct jline *j, const char *k, const char *v)
{
	j_key(j, k);
	j_raw(j, "\"");
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			j_raw(j, "\\%c", *p);
		else if (*p < 0x20)
			j_raw(j, "\\u%04x", *p);
		else
			j_raw(j, "%c", *p);
	}
	j_raw(j, "\"");
}

void j_num(struct jline *j, const char *k, double v, int prec)
{
	j_key(j, k);
	if (isfinite(v))
		j_raw(j, "%.*f", prec, v);
	else
		j_raw(j, "null");
}

void j_u64(struct jline *j, const char *k, uint64_t v)
{
	j_key(j, k);
	j_raw(j, "%llu", (unsigned long long)v);
}

void j_bool(struct jline *j, const char *k, bool v)
{
	j_key(j, k);
	j_raw(j, "%s", v ? "true" : "false");
}

void j_begin(struct jline *j, const char *name)
{
	j->len = 0;
	j_raw(j, "{");
	j_str(j, "bench", name);
}

void j_end(struct jline *j)
{
	j_raw(j, "}");
	fprintf(stdout, "%s\n", j->buf);
	fflush(stdout);
}

/* Fields every pool-based line ends with. */
void j_common(struct jline *j, const struct bench *b, uint64_t iters, int rounds)
{
	j_u64(j, "iters", iters);
	j_u64(j, "rounds", (uint64_t)rounds);
	if (b->o.quick)
		j_bool(j, "quick", true);
	j_str(j, "pool", b->pool_path);
	j_str(j, "backend", b->backend);
	j_str(j, "persist", b->persist);
	j_str(j, "kernel_fs", b->kfs);
	j_u64(j, "pool_prefault_mib", b->warmed / MiB);
	if (b->err[0])
		j_str(j, "error", b->err);
}

/* ------------------------------------------------------------ harness */

/*
 * Calibrate, then run `rounds` interleaved rounds of every side.  quick_n
 * is the per-side iteration count for --quick.  Returns 0 or a negative
 * errno; *iters gets the per-side total over all rounds.
 */
int run_sides(struct bench *b, struct side *s, int nsides, uint64_t quick_n,
		     uint64_t *iters)
{
	int rounds = b->o.rounds;
	uint64_t per_round;
	int rc;

	/* Warm-up, doubling until each side has run for a few milliseconds;
	 * it also estimates each side's cost per operation. */
	uint64_t warm_target = b->o.quick ? 2000000u : 20000000u;
	double per_op_sum = 0;
	for (int i = 0; i < nsides; i++) {
		uint64_t n = 1, t = 0;
		for (;;) {
			uint64_t t0 = now_ns();
			if ((rc = s[i].fn(b, s[i].arg, n)) < 0)
				return rc;
			t = now_ns() - t0;
			if (t >= warm_target || n >= (b->o.quick ? 64u : (1u << 22)))
				break;
			n *= 2;
		}
		per_op_sum += (double)t / (double)n;
	}

	if (b->o.iters)
		per_round = b->o.iters / (uint64_t)rounds;
	else if (b->o.quick)
		per_round = quick_n / (uint64_t)rounds;
	else
		per_round = (uint64_t)(b->o.seconds * 1e9 / rounds / per_op_sum);
	if (per_round < 1)
		per_round = 1;

	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < nsides; k++) {
			int i = (k + r) % nsides;
			uint64_t t0 = now_ns();
			if ((rc = s[i].fn(b, s[i].arg, per_round)) < 0)
				return rc;
			s[i].ns[r] = (double)(now_ns() - t0) / (double)per_round;
		}
	}
	for (int i = 0; i < nsides; i++) {
		s[i].med = median(s[i].ns, rounds);
		double lo = s[i].ns[0], hi = s[i].ns[0];
		for (int r = 1; r < rounds; r++) {
			lo = fmin(lo, s[i].ns[r]);
			hi = fmax(hi, s[i].ns[r]);
		}
		s[i].min = lo;
		note("  %-14s median %10.1f ns/op  (rounds: min %.1f, max %.1f)", s[i].name,
		     s[i].med, lo, hi);
	}
	*iters = per_round * (uint64_t)rounds;
	return 0;
}

/* ----------------------------------------------------- I/O contenders */

struct io_arg {
	dxl_file *f;          /* daxlease side */
	int fd;               /* kernel side */
	uint8_t *map;         /* memcpy sides */
	uint8_t *buf;         /* user buffer */
	size_t len;
	const uint64_t *offs; /* NOFFS random aligned offsets */
	unsigned pos;
};

#define NEXT_OFF(a) ((a)->offs[(a)->pos++ & (NOFFS - 1)])
#define COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

static int dxl_pwrite_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = dxl_pwrite(a->f, a->buf, a->len, off);
		if (r != (ssize_t)a->len) {
			set_err(b, "dxl_pwrite(%zu @ %llu) = %zd: %s", a->len,
				(unsigned long long)off, r, r < 0 ? dxl_errmsg() : "short write");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int dxl_pread_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = dxl_pread(a->f, a->buf, a->len, off);
		if (r != (ssize_t)a->len) {
			set_err(b, "dxl_pread(%zu @ %llu) = %zd: %s", a->len,
				(unsigned long long)off, r, r < 0 ? dxl_errmsg() : "short read");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int sys_pwrite_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = pwrite(a->fd, a->buf, a->len, (off_t)off);
		if (r != (ssize_t)a->len) {
			int e = r < 0 ? errno : EIO;
			set_err(b, "pwrite(2) on tmpfs: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

static int sys_pread_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = NEXT_OFF(a);
		ssize_t r = pread(a->fd, a->buf, a->len, (off_t)off);
		if (r != (ssize_t)a->len) {
			int e = r < 0 ? errno : EIO;
			set_err(b, "pread(2) on tmpfs: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

static int memcpy_to_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		memcpy(a->map + NEXT_OFF(a), a->buf, a->len);
		COMPILER_BARRIER();
	}
	return 0;
}

static int memcpy_from_batch(struct bench *b, void *arg, uint64_t n)
{
	struct io_arg *a = arg;
	for (uint64_t i = 0; i < n; i++) {
		memcpy(a->buf, a->map + NEXT_OFF(a), a->len);
		COMPILER_BARRIER();
	}
	return 0;
}

void fill_offsets(uint64_t *offs, uint64_t file_size, uint64_t len)
{
	uint64_t slots = file_size / len;
	for (int i = 0; i < NOFFS; i++)
		offs[i] = (rng_next() % slots) * len;
}

void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = rng_next();
		memcpy(p + i, &v, 8);
	}
}

/* ------------------------------------------------- test files, set-up */

struct files {
	dxl_file *f;          /* in the pool, preallocated and written */
	int kfd;              /* same size on tmpfs, preallocated and written */
	char kpath[PATH_MAX];
	char dpath[128];
};

static int write_whole_dxl(struct bench *b, dxl_file *f, uint64_t size, uint8_t *buf)
{
	for (uint64_t off = 0; off < size; off += MiB) {
		ssize_t r = dxl_pwrite(f, buf, MiB, off);
		if (r != (ssize_t)MiB) {
			set_err(b, "filling the pool file: dxl_pwrite = %zd: %s", r,
				r < 0 ? dxl_errmsg() : "short write");
			return r < 0 ? (int)r : -EIO;
		}
	}
	return 0;
}

static int write_whole_fd(struct bench *b, int fd, uint64_t size, uint8_t *buf, const char *what)
{
	for (uint64_t off = 0; off < size; off += MiB) {
		if (pwrite(fd, buf, MiB, (off_t)off) != (ssize_t)MiB) {
			set_err(b, "filling %s: %s", what, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* One file in the pool and one on tmpfs, both `size` bytes, allocated and
 * written once so that no figure pays for first touches. */
static int files_open(struct bench *b, struct files *fl, const char *tag, uint8_t *mib_buf)
{
	int rc;
	fl->f = NULL;
	fl->kfd = -1;
	snprintf(fl->dpath, sizeof(fl->dpath), "%s/%s", b->pool_dir, tag);
	rc = dxl_open(b->pool, fl->dpath, O_RDWR | O_CREAT | O_TRUNC, 0644, &fl->f);
	if (rc < 0) {
		set_err(b, "dxl_open(%s): %s", fl->dpath, dxl_errmsg());
		return rc;
	}
	rc = dxl_fallocate(fl->f, 0, 0, b->file_size);
	if (rc < 0) {
		set_err(b, "dxl_fallocate(%s, %llu): %s", fl->dpath,
			(unsigned long long)b->file_size, dxl_errmsg());
		return rc;
	}
	if ((rc = write_whole_dxl(b, fl->f, b->file_size, mib_buf)) < 0)
		return rc;

	snprintf(fl->kpath, sizeof(fl->kpath), "%s/daxlease-bench-%d.%s", b->kdir, (int)getpid(),
		 tag);
	fl->kfd = open(fl->kpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fl->kfd < 0) {
		set_err(b, "open(%s): %s", fl->kpath, strerror(errno));
		return -errno;
	}
	cleanup_add(fl->kpath, false);
	if (fallocate(fl->kfd, 0, 0, (off_t)b->file_size) != 0 &&
	    ftruncate(fl->kfd, (off_t)b->file_size) != 0) {
		set_err(b, "preallocating %s: %s", fl->kpath, strerror(errno));
		return -errno;
	}
	return write_whole_fd(b, fl->kfd, b->file_size, mib_buf, fl->kpath);
}

static void files_close(struct bench *b, struct files *fl)
{
	if (fl->f) {
		dxl_close(fl->f);
		dxl_unlink(b->pool, fl->dpath);
		fl->f = NULL;
	}
	if (fl->kfd >= 0) {
		close(fl->kfd);
		unlink(fl->kpath);
		fl->kfd = -1;
	}
}

/* An mmap of a file, or anonymous memory (path NULL), written once. */
static uint8_t *map_buffer(struct bench *b, const char *path, uint64_t size)
{
	int fd = -1;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	if (path) {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			set_err(b, "open(%s): %s", path, strerror(errno));
			return NULL;
		}
		cleanup_add(path, false);
		if (fallocate(fd, 0, 0, (off_t)size) != 0 && ftruncate(fd, (off_t)size) != 0) {
			set_err(b, "sizing %s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		flags = MAP_SHARED;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		set_err(b, "mmap(%s, %llu): %s", path ? path : "anonymous",
			(unsigned long long)size, strerror(errno));
		return NULL;
	}
	memset(p, 0x5a, size); /* fault every page in now, not in the timing */
	return p;
}

/* ------------------------------------------------------ figure 1: 4 KiB */

static void fig_4k(struct bench *b)
{
	bool want_w = selected(b, "pwrite_4k", "4k"), want_r = selected(b, "pread_4k", "4k");
	if (!want_w && !want_r)
		return;
	note("4 KiB pwrite/pread at random aligned offsets in a %llu MiB file: daxlease vs tmpfs",
	     (unsigned long long)(b->file_size / MiB));
	b->err[0] = '\0';

	static uint64_t offs[NOFFS];
	uint8_t *mib_buf = malloc(MiB);
	uint8_t *buf = aligned_alloc(4096, 4096);
	struct files fl = {.kfd = -1};
	uint64_t iters = 0;
	int rc = -ENOMEM;
	if (!mib_buf || !buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(mib_buf, MiB);
	fill_random(buf, 4096);
	fill_offsets(offs, b->file_size, 4096);
	if ((rc = files_open(b, &fl, "4k", mib_buf)) < 0)
		goto out;

	/* A check that the daxlease side really does the work. */
	{
		static const uint64_t probe = 12345 * 4096;
		uint8_t *chk = malloc(4096);
		uint64_t off = probe % b->file_size;
		if (chk && dxl_pwrite(fl.f, buf, 4096, off) == 4096 &&
		    dxl_pread(fl.f, chk, 4096, off) == 4096 && memcmp(chk, buf, 4096) != 0)
			set_err(b, "dxl_pread does not return what dxl_pwrite wrote");
		free(chk);
	}

	struct io_arg ad = {.f = fl.f, .fd = -1, .buf = buf, .len = 4096, .offs = offs};
	struct io_arg ak = {.fd = fl.kfd, .buf = buf, .len = 4096, .offs = offs};

	for (int pass = 0; pass < 2; pass++) {
		bool w = pass == 0;
		if (w ? !want_w : !want_r)
			continue;
		const char *name = w ? "pwrite_4k" : "pread_4k";
		note("%s", name);
		struct side s[2] = {
			{.name = w ? "dxl_pwrite" : "dxl_pread",
			 .fn = w ? dxl_pwrite_batch : dxl_pread_batch, .arg = &ad},
			{.name = w ? "pwrite(2)" : "pread(2)",
			 .fn = w ? sys_pwrite_batch : sys_pread_batch, .arg = &ak},
		};
		rc = run_sides(b, s, 2, 3000, &iters);
		struct jline j;
		j_begin(&j, name);
		if (rc == 0) {
			double ratio = s[1].med / s[0].med;
			j_num(&j, "daxlease_ns", s[0].med, 1);
			j_num(&j, "kernel_ns", s[1].med, 1);
			j_num(&j, "daxlease_min_ns", s[0].min, 1);
			j_num(&j, "kernel_min_ns", s[1].min, 1);
			j_num(&j, "ratio", ratio, 3);
			j_str(&j, "target", ">=2x faster than tmpfs");
			j_bool(&j, "met", ratio >= 2.0 && !b->err[0]);
		} else {
			j_str(&j, "target", ">=2x faster than tmpfs");
			j_bool(&j, "met", false);
			b->failures++;
		}
		j_common(&j, b, iters, b->o.rounds);
		j_end(&j);
		if (rc < 0)
			break;
	}
	rc = 0;
out:
	if (rc < 0) {
		/* Set-up failed: still print a line per selected figure. */
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 0 ? !want_w : !want_r)
				continue;
			struct jline j;
			j_begin(&j, pass == 0 ? "pwrite_4k" : "pread_4k");
			j_str(&j, "target", ">=2x faster than tmpfs");
			j_bool(&j, "met", false);
			j_common(&j, b, 0, b->o.rounds);
			j_end(&j);
			b->failures++;
		}
	}
	files_close(b, &fl);
	free(mib_buf);
	free(buf);
}

/* ------------------------------------------------------ figure 2: 1 MiB */

static void fig_1m(struct bench *b)
{
	bool want_w = selected(b, "pwrite_1m", "1m"), want_r = selected(b, "pread_1m", "1m");
	if (!want_w && !want_r)
		return;
	note("1 MiB pwrite/pread in a %llu MiB file: daxlease vs tmpfs vs memcpy",
	     (unsigned long long)(b->file_size / MiB));
	b->err[0] = '\0';

	static uint64_t offs[NOFFS];
	char mpath[PATH_MAX + 64];
	uint8_t *buf = aligned_alloc(4096, MiB);
	uint8_t *shared = NULL, *anon = NULL;
	struct files fl = {.kfd = -1};
	uint64_t iters = 0;
	int rc = -ENOMEM;

	snprintf(mpath, sizeof(mpath), "%s/daxlease-bench-%d.map", b->host_dir, (int)getpid());
	if (!buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(buf, MiB);
	fill_offsets(offs, b->file_size, MiB);
	if ((rc = files_open(b, &fl, "1m", buf)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(shared = map_buffer(b, mpath, b->file_size)))
		goto out;
	if (!(anon = map_buffer(b, NULL, b->file_size)))
		goto out;

	struct io_arg ad = {.f = fl.f, .fd = -1, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg ak = {.fd = fl.kfd, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg am = {.fd = -1, .map = shared, .buf = buf, .len = MiB, .offs = offs};
	struct io_arg aa = {.fd = -1, .map = anon, .buf = buf, .len = MiB, .offs = offs};

	for (int pass = 0; pass < 2; pass++) {
		bool w = pass == 0;
		if (w ? !want_w : !want_r)
			continue;
		const char *name = w ? "pwrite_1m" : "pread_1m";
		note("%s", name);
		struct side s[4] = {
			{.name = w ? "dxl_pwrite" : "dxl_pread",
			 .fn = w ? dxl_pwrite_batch : dxl_pread_batch, .arg = &ad},
			{.name = w ? "pwrite(2)" : "pread(2)",
			 .fn = w ? sys_pwrite_batch : sys_pread_batch, .arg = &ak},
			{.name = "memcpy shared",
			 .fn = w ? memcpy_to_batch : memcpy_from_batch, .arg = &am},
			{.name = "memcpy anon",
			 .fn = w ? memcpy_to_batch : memcpy_from_batch, .arg = &aa},
		};
		rc = run_sides(b, s, 4, 300, &iters);
		const char *target = w ? ">=0.8x memcpy bandwidth (shared mapping)"
				       : ">=0.8x memcpy bandwidth (shared mapping; informational, "
					 "issue 2 sets no pread_1m target)";
		struct jline j;
		j_begin(&j, name);
		if (rc == 0) {
			double gb = (double)MiB; /* bytes/ns == GB/s */
			double ratio = s[2].med / s[0].med;
			j_num(&j, "daxlease_ns", s[0].med, 1);
			j_num(&j, "kernel_ns", s[1].med, 1);
			j_num(&j, "memcpy_ns", s[2].med, 1);
			j_num(&j, "memcpy_anon_ns", s[3].med, 1);
			j_num(&j, "daxlease_min_ns", s[0].min, 1);
			j_num(&j, "memcpy_min_ns", s[2].min, 1);
			j_num(&j, "daxlease_gbps", gb / s[0].med, 2);
			j_num(&j, "kernel_gbps", gb / s[1].med, 2);
			j_num(&j, "memcpy_gbps", gb / s[2].med, 2);
			j_num(&j, "memcpy_anon_gbps", gb / s[3].med, 2);
			j_num(&j, "ratio", ratio, 3);
			j_num(&j, "kernel_ratio", s[1].med / s[0].med, 3);
			j_str(&j, "target", target);
			j_bool(&j, "met", ratio >= 0.8 && !b->err[0]);
		} else {
			j_str(&j, "target", target);
			j_bool(&j, "met", false);
			b->failures++;
		}
		j_str(&j, "memcpy_file", mpath);
		j_common(&j, b, iters, b->o.rounds);
		j_end(&j);
		if (rc < 0)
			break;
	}
	rc = 0;
out:
	if (rc < 0) {
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 0 ? !want_w : !want_r)
				continue;
			struct jline j;
			j_begin(&j, pass == 0 ? "pwrite_1m" : "pread_1m");
			j_str(&j, "target", ">=0.8x memcpy bandwidth (shared mapping)");
			j_bool(&j, "met", false);
			j_common(&j, b, 0, b->o.rounds);
			j_end(&j);
			b->failures++;
		}
	}
	if (shared)
		munmap(shared, b->file_size);
	if (anon)
		munmap(anon, b->file_size);
	unlink(mpath);
	files_close(b, &fl);
	free(buf);
}

/* ------------------------------- figure 3: create + write + close + unlink */

struct cwu_arg {
	dxl_pool *pool;
	const char *dir;  /* in the pool */
	int dfd;          /* kernel: the tmpfs directory */
	uint8_t *buf;
	uint64_t seq;
};

static int dxl_cwu_batch(struct bench *b, void *arg, uint64_t n)
{
	struct cwu_arg *a = arg;
	char path[192];
	for (uint64_t i = 0; i < n; i++) {
		dxl_file *f;
		snprintf(path, sizeof(path), "%s/f%llu", a->dir, (unsigned long long)a->seq++);
		int rc = dxl_open(a->pool, path, O_RDWR | O_CREAT | O_EXCL, 0644, &f);
		if (rc < 0) {
			set_err(b, "dxl_open(%s, O_CREAT|O_EXCL): %s", path, dxl_errmsg());
			return rc;
		}
		ssize_t w = dxl_pwrite(f, a->buf, 4096, 0);
		if (w != 4096) {
			set_err(b, "dxl_pwrite(%s): %s", path, w < 0 ? dxl_errmsg() : "short");
			dxl_close(f);
			return w < 0 ? (int)w : -EIO;
		}
		if ((rc = dxl_close(f)) < 0) {
			set_err(b, "dxl_close(%s): %s", path, dxl_errmsg());
			return rc;
		}
		if ((rc = dxl_unlink(a->pool, path)) < 0) {
			set_err(b, "dxl_unlink(%s): %s", path, dxl_errmsg());
			return rc;
		}
	}
	return 0;
}

static int sys_cwu_batch(struct bench *b, void *arg, uint64_t n)
{
	struct cwu_arg *a = arg;
	char name[32];
	for (uint64_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)a->seq++);
		int fd = openat(a->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			set_err(b, "openat(%s) on tmpfs: %s", name, strerror(errno));
			return -errno;
		}
		if (write(fd, a->buf, 4096) != 4096) {
			int e = errno ? errno : EIO;
			set_err(b, "write(2) on tmpfs: %s", strerror(e));
			close(fd);
			return -e;
		}
		if (close(fd) != 0 || unlinkat(a->dfd, name, 0) != 0) {
			set_err(b, "close/unlink on tmpfs: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static void fig_cwu(struct bench *b)
{
	if (!selected(b, "create_4k_unlink", "cwu"))
		return;
	note("create_4k_unlink: open(O_CREAT|O_EXCL) + 4 KiB write + close + unlink: "
	     "daxlease vs tmpfs");
	b->err[0] = '\0';
	char ddir[128], kd[PATH_MAX + 64];
	uint8_t *buf = aligned_alloc(4096, 4096);
	uint64_t iters = 0;
	int rc = -ENOMEM, dfd = -1;
	bool made_ddir = false, made_kd = false;
	struct side s[2];

	snprintf(ddir, sizeof(ddir), "%s/cwu", b->pool_dir);
	snprintf(kd, sizeof(kd), "%s/daxlease-bench-%d.d", b->kdir, (int)getpid());
	if (!buf) {
		set_err(b, "out of memory");
		goto out;
	}
	fill_random(buf, 4096);
	if ((rc = dxl_mkdir(b->pool, ddir, 0755)) < 0) {
		set_err(b, "dxl_mkdir(%s): %s", ddir, dxl_errmsg());
		goto out;
	}
	made_ddir = true;
	if (mkdir(kd, 0700) != 0) {
		rc = -errno;
		set_err(b, "mkdir(%s): %s", kd, strerror(errno));
		goto out;
	}
	made_kd = true;
	cleanup_add(kd, true);
	if ((dfd = open(kd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		set_err(b, "open(%s): %s", kd, strerror(errno));
		goto out;
	}
	struct cwu_arg ad = {.pool = b->pool, .dir = ddir, .dfd = -1, .buf = buf};
	struct cwu_arg ak = {.dfd = dfd, .buf = buf};
	s[0] = (struct side){.name = "daxlease", .fn = dxl_cwu_batch, .arg = &ad};
	s[1] = (struct side){.name = "tmpfs", .fn = sys_cwu_batch, .arg = &ak};
	rc = run_sides(b, s, 2, 600, &iters);
out:;
	struct jline j;
	j_begin(&j, "create_4k_unlink");
	if (rc == 0) {
		double ratio = s[1].med / s[0].med;
		j_num(&j, "daxlease_ns", s[0].med, 1);
		j_num(&j, "kernel_ns", s[1].med, 1);
		j_num(&j, "daxlease_min_ns", s[0].min, 1);
		j_num(&j, "kernel_min_ns", s[1].min, 1);
		j_num(&j, "daxlease_ops_s", 1e9 / s[0].med, 0);
		j_num(&j, "kernel_ops_s", 1e9 / s[1].med, 0);
		j_num(&j, "ratio", ratio, 3);
		j_str(&j, "target", ">=1x tmpfs rate (journal on)");
		j_bool(&j, "met", ratio >= 1.0 && !b->err[0]);
	} else {
		j_str(&j, "target", ">=1x tmpfs rate (journal on)");
		j_bool(&j, "met", false);
		b->failures++;
	}
	j_common(&j, b, iters, b->o.rounds);
	j_end(&j);
	if (dfd >= 0)
		close(dfd);
	if (made_kd)
		rmdir(kd);
	if (made_ddir)
		dxl_rmdir(b->pool, ddir);
	free(buf);
}

/* -------------------------------------------- figure 4: 1 TiB mkfs, open */

/*
 * The scale figures run in a child process so that the resident-memory
 * figure is that of a process doing only this: the child re-executes this
 * program ("/proc/self/exe bench --scale-child OP PATH SIZE FD"), does the
 * one operation, and writes "rc ns hwm_kib base_kib msg" to FD.  VmHWM is
 * read inside the child (getrusage's ru_maxrss of a child would include
 * the pre-exec copy of the parent).  If the re-exec fails (the bench linked
 * into another program), the forked child does the work itself.
 */
static long vm_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int scale_child(const char *op, const char *path, uint64_t size, int fd)
{
	char msg[300] = "";
	long base = vm_kib("VmHWM");
	int rc;
	uint64_t t0 = now_ns(), t;
	alarm(300); /* a runaway mkfs must not hang the bench */
	if (strcmp(op, "mkfs") == 0) {
		struct dxl_mkfs_opts mo;
		memset(&mo, 0, sizeof(mo));
		mo.size = size;
		rc = dxl_mkfs(path, &mo);
		t = now_ns() - t0;
	} else {
		dxl_pool *p = NULL;
		rc = dxl_pool_open(path, 0, &p);
		t = now_ns() - t0;
		if (rc == 0)
			dxl_pool_close(p);
	}
	if (rc < 0)
		snprintf(msg, sizeof(msg), "%s", dxl_errmsg());
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	long hwm = vm_kib("VmHWM");
	dprintf(fd, "%d %llu %ld %ld %s\n", rc, (unsigned long long)t, hwm, base, msg);
	return rc < 0 ? 1 : 0;
}

struct scale_result {
	int rc;
	uint64_t ns;
	long hwm_kib, base_kib;
	char msg[300];
	bool reexec;
};

static int scale_run(const char *op, const char *path, uint64_t size, struct scale_result *res)
{
	int p[2];
	memset(res, 0, sizeof(*res));
	if (pipe(p) != 0)
		return -errno;
	fflush(NULL);
	for (int attempt = 0; attempt < 2; attempt++) {
		pid_t pid = fork();
		if (pid < 0) {
			close(p[0]);
			close(p[1]);
			return -errno;
		}
		if (pid == 0) {
			close(p[0]);
			char fdbuf[16], sizebuf[32];
			snprintf(fdbuf, sizeof(fdbuf), "%d", p[1]);
			snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)size);
			if (attempt == 0) {
				char *args[] = {"daxlease", "bench", "--scale-child", (char *)op,
						(char *)path, sizebuf, fdbuf, NULL};
				int devnull = open("/dev/null", O_WRONLY);
				if (devnull >= 0) { /* the child's stdout is not ours to fill */
					dup2(devnull, STDOUT_FILENO);
					close(devnull);
				}
				execv("/proc/self/exe", args);
				_exit(127);
			}
			_exit(scale_child(op, path, size, p[1]));
		}
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		/* Read whatever the child wrote: the pipe stays open on our side
		 * (p[1]) so read only what is buffered. */
		char line[512];
		int fl = fcntl(p[0], F_GETFL);
		fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
		ssize_t n = read(p[0], line, sizeof(line) - 1);
		fcntl(p[0], F_SETFL, fl);
		if (n > 0) {
			line[n] = '\0';
			unsigned long long ns;
			int off = 0;
			if (sscanf(line, "%d %llu %ld %ld %n", &res->rc, &ns, &res->hwm_kib,
				   &res->base_kib, &off) >= 4) {
				res->ns = ns;
				snprintf(res->msg, sizeof(res->msg), "%s", line + off);
				res->msg[strcspn(res->msg, "\n")] = '\0';
				res->reexec = attempt == 0;
				close(p[0]);
				close(p[1]);
				return 0;
			}
		}
		if (attempt == 1 || !(WIFEXITED(st) && WEXITSTATUS(st) == 127)) {
			/* The re-exec ran but said nothing: maybe it is not our CLI
			 * (no "bench" subcommand); fall back to the plain fork once. */
			if (attempt == 0)
				continue;
			close(p[0]);
			close(p[1]);
			if (WIFSIGNALED(st))
				snprintf(res->msg, sizeof(res->msg), "child killed by signal %d%s",
					 WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (timed out)" : "");
			else
				snprintf(res->msg, sizeof(res->msg), "child exited %d without a result",
					 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			res->rc = -EIO;
			return 0;
		}
	}
	close(p[0]);
	close(p[1]);
	return -EIO;
}

static bool dir_writable(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
}

static void scale_line(struct bench *b, const char *name, const char *path, uint64_t size,
		       const struct scale_result *r, int sysrc, const char *note_err)
{
	struct jline j;
	double secs = (double)r->ns / 1e9;
	double mib = (double)r->hwm_kib / 1024.0;
	bool ok = sysrc == 0 && r->rc == 0;
	struct stat st;

	j_begin(&j, name);
	if (ok) {
		j_num(&j, "seconds", secs, 4);
		j_num(&j, "max_rss_mib", mib, 1);
		j_num(&j, "base_rss_mib", (double)r->base_kib / 1024.0, 1);
	}
	j_str(&j, "target", "<1 s and <64 MiB max RSS");
	j_bool(&j, "met", ok && secs < 1.0 && r->hwm_kib >= 0 && mib < 64.0);
	j_u64(&j, "pool_size", size);
	if (ok && stat(path, &st) == 0)
		j_u64(&j, "pool_disk_kib", (uint64_t)st.st_blocks / 2);
	j_str(&j, "scale_pool", path);
	j_str(&j, "rss_from", r->reexec ? "VmHWM of a fresh re-exec'd process"
					 : "VmHWM of a forked child (includes inherited pages)");
	if (b->o.quick)
		j_bool(&j, "quick", true);
	if (!ok) {
		char e[400];
		snprintf(e, sizeof(e), "%s", sysrc < 0 ? strerror(-sysrc) : r->msg);
		j_str(&j, "error", e);
	}
	if (note_err && note_err[0])
		j_str(&j, "note", note_err);
	j_end(&j);
	if (!ok)
		b->failures++;
	if (ok)
		note("  %-8s %.4f s, max RSS %.1f MiB (process baseline %.1f MiB)", name, secs, mib,
		     (double)r->base_kib / 1024.0);
	else
		note("  %-8s failed: %s", name, sysrc < 0 ? strerror(-sysrc) : r->msg);
}

static void fig_scale(struct bench *b)
{
	bool want_mkfs = selected(b, "mkfs_1t", "scale"), want_open = selected(b, "open_1t", "scale");
	if (!want_mkfs && !want_open)
		return;
	const char *dirs[2] = {b->o.scale_dir ? b->o.scale_dir : "/var/tmp", "/dev/shm"};
	char path[PATH_MAX + 64], firsterr[400] = "";
	struct scale_result rm, ro;
	int src = 0;
	note("scale: mkfs and open of a %llu GiB sparse pool file",
	     (unsigned long long)(b->o.scale_size / GiB));

	for (int d = 0; d < (b->o.scale_dir ? 1 : 2); d++) {
		if (!dir_writable(dirs[d])) {
			snprintf(firsterr, sizeof(firsterr), "%s is not a writable directory", dirs[d]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/daxlease-bench-%d-scale.pool", dirs[d],
			 (int)getpid());
		unlink(path);
		cleanup_add(path, false);
		src = scale_run("mkfs", path, b->o.scale_size, &rm);
		if (src == 0 && rm.rc == 0)
			break;
		snprintf(firsterr, sizeof(firsterr), "mkfs in %s failed: %s", dirs[d],
			 src < 0 ? strerror(-src) : rm.msg);
		unlink(path);
		note("  %s", firsterr);
	}
	if (want_mkfs)
		scale_line(b, "mkfs_1t", path, b->o.scale_size, &rm, src,
			   (src == 0 && rm.rc == 0) ? firsterr : NULL);
	if (want_open) {
		if (src == 0 && rm.rc == 0) {
			int orc = scale_run("open", path, b->o.scale_size, &ro);
			scale_line(b, "open_1t", path, b->o.scale_size, &ro, orc, NULL);
		} else {
			memset(&ro, 0, sizeof(ro));
			snprintf(ro.msg, sizeof(ro.msg), "no pool: mkfs failed");
			ro.rc = -EIO;
			scale_line(b, "open_1t", path, b->o.scale_size, &ro, 0, NULL);
		}
	}
	unlink(path);
}

/* --------------------------------------------------------- pool set-up */

/*
 * Pre-touch the pool's free space: write one big file over (most of) it,
 * then delete it.  A fresh pool file in /dev/shm is sparse, so the first
 * store to each of its pages costs a page fault plus the kernel allocating
 * and zeroing a page -- a cost real DAX memory (pmem, CXL, device-DAX)
 * does not have, and a pool in use no longer has either.  Without this the
 * create/unlink figure would mostly time first touches of tmpfs pages (the
 * allocator walks forward through the pool).  --cold and --quick skip it.
 */
static void pool_warm(struct bench *b, uint64_t free_bytes)
{
	char path[128];
	dxl_file *f = NULL;
	uint8_t *buf;
	uint64_t len, cap = 4 * GiB;
	uint64_t t0 = now_ns();

	if (free_bytes < 16 * MiB)
		return;
	len = free_bytes - 8 * MiB;
	if (len > cap)
		len = cap;
	len &= ~(MiB - 1);
	if (!(buf = malloc(MiB)))
		return;
	memset(buf, 0xa5, MiB);
	snprintf(path, sizeof(path), "%s/warm", b->pool_dir);
	if (dxl_open(b->pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &f) < 0) {
		note("pool warm-up skipped: dxl_open: %s", dxl_errmsg());
		free(buf);
		return;
	}
	uint64_t off; /* write until full: no fallocate, which would touch it twice */
	for (off = 0; off < len; off += MiB)
		if (dxl_pwrite(f, buf, MiB, off) != (ssize_t)MiB)
			break;
	b->warmed = off;
	dxl_close(f);
	if (dxl_unlink(b->pool, path) < 0)
		note("pool warm-up: dxl_unlink: %s", dxl_errmsg());
	free(buf);
	note("pre-touched %llu MiB of free pool space in %.2f s (--cold skips this)",
	     (unsigned long long)(b->warmed / MiB), (double)(now_ns() - t0) / 1e9);
}

static int pool_setup(struct bench *b)
{
	struct stat st;
	int rc;
	if (b->o.pool) {
		snprintf(b->pool_path, sizeof(b->pool_path), "%s", b->o.pool);
	} else {
		const char *dir = dir_writable("/dev/shm") ? "/dev/shm" : "/tmp";
		snprintf(b->pool_path, sizeof(b->pool_path), "%s/daxlease-bench-%d.pool", dir,
			 (int)getpid());
	}
	/* host_dir: where the pool lives (for the memcpy reference file) */
	snprintf(b->host_dir, sizeof(b->host_dir), "%s", b->pool_path);
	char *slash = strrchr(b->host_dir, '/');
	if (!slash)
		snprintf(b->host_dir, sizeof(b->host_dir), ".");
	else if (slash == b->host_dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (strncmp(b->pool_path, "/dev/", 5) == 0 && strncmp(b->pool_path, "/dev/shm/", 9) != 0)
		snprintf(b->host_dir, sizeof(b->host_dir), "/dev/shm"); /* a device node */

	if (stat(b->pool_path, &st) != 0) {
		struct dxl_mkfs_opts mo;
		memset(&mo, 0, sizeof(mo));
		mo.size = b->o.size;
		note("creating a %llu MiB pool at %s", (unsigned long long)(b->o.size / MiB),
		     b->pool_path);
		cleanup_add(b->pool_path, false);
		b->pool_created = true;
		if ((rc = dxl_mkfs(b->pool_path, &mo)) < 0) {
			set_err(b, "dxl_mkfs(%s): %s", b->pool_path, dxl_errmsg());
			note("%s", b->err);
			return rc;
		}
	} else {
		note("using the existing pool %s (bench files go in a directory of their own)",
		     b->pool_path);
	}
	if ((rc = dxl_pool_open(b->pool_path, 0, &b->pool)) < 0) {
		set_err(b, "dxl_pool_open(%s): %s%s", b->pool_path, dxl_errmsg(),
			b->pool_created ? "" : " (give a path that does not exist to create a pool)");
		note("%s", b->err);
		return rc;
	}
	struct dxl_statfs sf;
	memset(&sf, 0, sizeof(sf));
	if ((rc = dxl_statfs(b->pool, &sf)) < 0) {
		set_err(b, "dxl_statfs: %s", dxl_errmsg());
		note("%s", b->err);
		return rc;
	}
	snprintf(b->backend, sizeof(b->backend), "%s", backend_name(sf.backend));
	snprintf(b->persist, sizeof(b->persist), "%s", sf.persist ? sf.persist : "");
	b->unit = sf.unit;

	/* Test files: 64 MiB (16 MiB with --quick), smaller if the pool is. */
	uint64_t free_bytes = sf.free_units * sf.unit;
	b->file_size = b->o.quick ? 16 * MiB : 64 * MiB;
	while (b->file_size > 2 * MiB && 2 * b->file_size + 4 * MiB > free_bytes)
		b->file_size /= 2;
	if (2 * b->file_size + 4 * MiB > free_bytes) {
		set_err(b, "the pool has %llu bytes free: too small for the benchmark",
			(unsigned long long)free_bytes);
		note("%s", b->err);
		return -ENOSPC;
	}
	snprintf(b->pool_dir, sizeof(b->pool_dir), "/daxlease-bench-%d", (int)getpid());
	if ((rc = dxl_mkdir(b->pool, b->pool_dir, 0755)) < 0) {
		set_err(b, "dxl_mkdir(%s): %s", b->pool_dir, dxl_errmsg());
		note("%s", b->err);
		b->pool_dir[0] = '\0';
		return rc;
	}
	if (!b->o.cold && !b->o.quick)
		pool_warm(b, free_bytes);
	note("pool %s: backend %s, persistence %s, unit %llu, test files %llu MiB", b->pool_path,
	     b->backend, b->persist, (unsigned long long)sf.unit,
	     (unsigned long long)(b->file_size / MiB));
	return 0;
}

static void pool_teardown(struct bench *b)
{
	if (b->pool) {
		if (b->pool_dir[0])
			dxl_rmdir(b->pool, b->pool_dir);
		dxl_pool_close(b->pool);
		b->pool = NULL;
	}
	if (b->pool_created)
		unlink(b->pool_path);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: daxlease bench [--pool PATH] [--size BYTES] [--seconds S | --iters N]\n"
		"                      [--rounds R] [--quick] [--cold] [--only NAME[,NAME...]]\n"
		"                      [--scale-dir DIR] [--scale-size BYTES]\n\n"
		"Measures libdaxlease side by side with the kernel doing the same work and\n"
		"prints one JSON line per figure on stdout (commentary on stderr).\n\n"
		"  --pool PATH      pool to use; a path that does not exist is created (and\n"
		"                   deleted after); an existing pool gets a directory of its\n"
		"                   own, removed after. Default: a fresh pool in /dev/shm.\n"
		"  --size BYTES     size of a pool the bench creates (default 256m; 512m\n"
		"                   when truncate_vs_pins runs, without --quick)\n"
		"  --seconds S      time per figure, all contenders together (default 2)\n"
		"  --iters N        operations per contender per figure instead of --seconds\n"
		"  --rounds R       interleaved rounds; medians are taken over them (default 11)\n"
		"  --quick          tiny iteration counts: a smoke test for CI\n"
		"  --cold           do not pre-touch the pool's free space first (a sparse\n"
		"                   /dev/shm pool then pays a page fault per new block;\n"
		"                   --quick never pre-touches)\n"
		"  --only LIST      figures or groups: pwrite_4k pread_4k pwrite_1m pread_1m\n"
		"                   create_4k_unlink mkfs_1t open_1t pin_unpin\n"
		"                   lease_break_rtt truncate_vs_pins break_fanout rdma_bw_lat\n"
		"                   rdma_recall_rtt rdma_meta_ops par_write_4k par_read_4k\n"
		"                   par_write_1m par_read_1m par_procs_write_4k\n"
		"                   par_procs_read_4k par_procs_write_1m par_read_one_file_4k\n"
		"                   par_create_unlink; groups 4k 1m cwu scale lease rdma par\n"
		"  --scale-dir DIR  where the sparse scale pool goes (default /var/tmp, then\n"
		"                   /dev/shm)\n"
		"  --scale-size B   size of the scale pool (default 1t)\n\n"
		"Exit status: 0 when every figure was measured (targets met or not), 1 when\n"
		"one could not be, 2 on a usage error. See docs/bench.md.\n");
}

int dxl_bench_main(int argc, char **argv)
{
	static struct bench bs;
	struct bench *b = &bs;
	memset(b, 0, sizeof(*b));
	b->o.size = 256 * MiB;
	b->o.seconds = 2.0;
	b->o.rounds = 11;
	b->o.scale_size = TiB;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		/* options with a value: "--opt VALUE" or "--opt=VALUE" */
		static const char *const with_val[] = {"--pool", "--size", "--seconds", "--iters",
						       "--rounds", "--only", "--scale-dir",
						       "--scale-size"};
		const char *opt = NULL;
		for (size_t k = 0; k < sizeof(with_val) / sizeof(with_val[0]); k++) {
			size_t n = strlen(with_val[k]);
			if (strncmp(a, with_val[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
				opt = with_val[k];
				if (a[n] == '=')
					v = a + n + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else {
					fprintf(stderr, "daxlease bench: %s needs a value\n", opt);
					return 2;
				}
				break;
			}
		}
		if (!opt) {
			if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
				usage(stdout);
				return 0;
			} else if (strcmp(a, "--quick") == 0) {
				b->o.quick = true;
			} else if (strcmp(a, "--cold") == 0) {
				b->o.cold = true;
			} else if (strcmp(a, "--scale-child") == 0 && i + 4 < argc) {
				uint64_t sz = strtoull(argv[i + 3], NULL, 10);
				return scale_child(argv[i + 1], argv[i + 2], sz,
						   (int)strtol(argv[i + 4], NULL, 10));
			} else {
				fprintf(stderr, "daxlease bench: unknown argument '%s' (try --help)\n",
					a);
				return 2;
			}
			continue;
		}
		char *end;
		if (strcmp(opt, "--pool") == 0) {
			b->o.pool = v;
		} else if (strcmp(opt, "--only") == 0) {
			b->o.only = v;
		} else if (strcmp(opt, "--scale-dir") == 0) {
			b->o.scale_dir = v;
		} else if (strcmp(opt, "--size") == 0 || strcmp(opt, "--scale-size") == 0) {
			uint64_t sz;
			if (parse_size(v, &sz) < 0 || sz == 0) {
				fprintf(stderr, "daxlease bench: bad size '%s'\n", v);
				return 2;
			}
			*(strcmp(opt, "--size") == 0 ? &b->o.size : &b->o.scale_size) = sz;
			if (strcmp(opt, "--size") == 0)
				b->o.size_set = true;
		} else if (strcmp(opt, "--seconds") == 0) {
			b->o.seconds = strtod(v, &end);
			if (*end || !(b->o.seconds > 0) || b->o.seconds > 3600) {
				fprintf(stderr, "daxlease bench: bad --seconds '%s'\n", v);
				return 2;
			}
		} else if (strcmp(opt, "--iters") == 0) {
			if (parse_size(v, &b->o.iters) < 0 || b->o.iters == 0) {
				fprintf(stderr, "daxlease bench: bad --iters '%s'\n", v);
				return 2;
			}
		} else if (strcmp(opt, "--rounds") == 0) {
			long r = strtol(v, &end, 10);
			if (*end || r < 1 || r > MAX_ROUNDS) {
				fprintf(stderr, "daxlease bench: --rounds must be 1..%d\n", MAX_ROUNDS);
				return 2;
			}
			b->o.rounds = (int)r;
			b->o.rounds_set = true;
		}
	}
	if (b->o.quick && !b->o.rounds_set)
		b->o.rounds = 3;
	if (b->o.only) {
		static const char *const names[] = {
			"pwrite_4k", "pread_4k", "pwrite_1m", "pread_1m", "create_4k_unlink",
			"mkfs_1t", "open_1t", "pin_unpin", "lease_break_rtt", "truncate_vs_pins", "break_fanout",
			"rdma_bw_lat", "rdma_recall_rtt", "rdma_meta_ops",
			"par_write_4k", "par_read_4k", "par_write_1m", "par_read_1m",
			"par_procs_write_4k", "par_procs_read_4k", "par_procs_write_1m",
			"par_read_one_file_4k", "par_create_unlink",
			"4k", "1m", "cwu", "scale", "lease", "rdma", "par"};
		const char *p = b->o.only;
		while (*p) {
			size_t n = strcspn(p, ","), k;
			for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
					break;
			if (k == sizeof(names) / sizeof(names[0])) {
				fprintf(stderr, "daxlease bench: --only: unknown figure '%.*s'\n",
					(int)n, p);
				return 2;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rng_state ^= (uint64_t)getpid() << 17;

	/* The kernel's contender: tmpfs. */
	snprintf(b->kdir, sizeof(b->kdir), "%s", dir_writable("/dev/shm") ? "/dev/shm" : "/tmp");
	fs_name_of(b->kdir, b->kfs, sizeof(b->kfs));
	if (strcmp(b->kfs, "tmpfs") != 0)
		note("warning: %s is not tmpfs (%s): the kernel figures are not tmpfs figures",
		     b->kdir, b->kfs);

	/* Scale first, while this process is small (its children fork from it). */
	fig_scale(b);

	bool any_pool_fig = selected(b, "pwrite_4k", "4k") || selected(b, "pread_4k", "4k") ||
			    selected(b, "pwrite_1m", "1m") || selected(b, "pread_1m", "1m") ||
			    selected(b, "create_4k_unlink", "cwu") || lease_figs_selected(b) ||
			    rdma_figs_selected(b) || par_figs_selected(b);
	if (any_pool_fig) {
		if (!b->o.size_set)
			b->o.size = lease_figs_pool_size(b, b->o.size);
		int rc = pool_setup(b);
		if (rc < 0) {
			/* Still one line per selected figure, so CI sees them all. */
			static const char *const figs[][2] = {
				{"pwrite_4k", "4k"}, {"pread_4k", "4k"}, {"pwrite_1m", "1m"},
				{"pread_1m", "1m"}, {"create_4k_unlink", "cwu"},
				{"pin_unpin", "lease"}, {"lease_break_rtt", "lease"},
				{"truncate_vs_pins", "lease"}, {"break_fanout", "lease"},
				{"rdma_bw_lat", "rdma"}, {"rdma_recall_rtt", "rdma"},
				{"rdma_meta_ops", "rdma"}};
			char e[600];
			snprintf(e, sizeof(e), "pool set-up failed: %s", b->err);
			for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
				if (!selected(b, figs[i][0], figs[i][1]))
					continue;
				struct jline j;
				j_begin(&j, figs[i][0]);
				j_bool(&j, "met", false);
				j_str(&j, "pool", b->pool_path);
				j_str(&j, "error", e);
				j_end(&j);
				b->failures++;
			}
		} else {
			fig_4k(b);
			fig_1m(b);
			fig_cwu(b);
			fig_pin_unpin(b);
			fig_lease_break(b);
			fig_truncate_pins(b);
			fig_break_fanout(b);
			fig_rdma(b);
			fig_par(b);
		}
		pool_teardown(b);
	}
	cleanup_run();
	return b->failures ? 1 : 0;
}
