/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness of `daxlease bench`, shared by every file of figures: the
 * clock, commentary and the first error of a figure, the random numbers and
 * offsets, medians and quantiles, --only selection, JSON lines, the paths
 * removed on exit or on a signal, and run_sides -- the interleaved rounds
 * every side-by-side figure is measured in:
 *
 * Every figure runs its contenders ("sides") in interleaved rounds: round r
 * runs each side once, in an order rotated by r, so slow drift (frequency,
 * a noisy neighbour, page-cache state) lands on every side alike.  A
 * figure's number for a side is the median over rounds of the mean time
 * per operation within the round.  One JSON line per figure goes to
 * stdout; commentary goes to stderr.  Timings are never pass/fail for the
 * exit status: "met" in each line says whether the target was reached.
 *
 * The options, the table of figures and the pool are bench.c's; the
 * figures themselves live in bench_io.c, bench_meta.c, bench_scale.c,
 * bench_lease.c, bench_fanout.c, bench_rdma.c and bench_par.c.
 */
#include "bench_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


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

void cleanup_run(void)
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

void cleanup_on_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

void rng_mix(uint64_t v)
{
	rng_state ^= v;
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

double quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	long i = lround(q * (double)(n - 1));
	return v[i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i];
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

bool dir_writable(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
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

/* The medians and fastest rounds of a daxlease side and a kernel side. */
void j_vs_kernel(struct jline *j, const struct side *dxl, const struct side *kernel)
{
	j_num(j, "daxlease_ns", dxl->med, 1);
	j_num(j, "kernel_ns", kernel->med, 1);
	j_num(j, "daxlease_min_ns", dxl->min, 1);
	j_num(j, "kernel_min_ns", kernel->min, 1);
}

void j_target(struct jline *j, struct bench *b, bool measured, const char *target, bool reached)
{
	j_str(j, "target", target);
	j_bool(j, "met", measured && reached && !b->err[0]);
	if (!measured)
		b->failures++;
}

void j_unmeasured(struct bench *b, const char *name, const char *target)
{
	struct jline j;
	j_begin(&j, name);
	j_target(&j, b, false, target, false);
	j_common(&j, b, 0, b->o.rounds);
	j_end(&j);
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
