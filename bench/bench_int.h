/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the `daxlease bench` program: what the program (bench.c:
 * options, the table of figures, the pool set-up), its harness
 * (bench_harness.c: timing, interleaved rounds, JSON lines, clean-up) and
 * the files of figures (bench_io.c, bench_meta.c, bench_scale.c,
 * bench_lease.c, bench_fanout.c, bench_rdma.c, bench_par.c) share.
 * Not installed, not part of the library.
 */
#ifndef DXL_BENCH_INT_H
#define DXL_BENCH_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daxlease/daxlease.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

#define MAX_ROUNDS 64
#define MAX_SIDES 4
#define NOFFS 4096 /* random offsets per table (power of two) */

/* ------------------------------------------------------------ options */

struct opts {
	const char *pool;      /* NULL: a fresh pool file in /dev/shm */
	uint64_t size;         /* pool size when the bench creates it */
	bool size_set;         /* --size was given */
	double seconds;        /* per figure, all sides and rounds together */
	uint64_t iters;        /* per side, over all rounds; 0 = from seconds */
	int rounds;
	bool rounds_set;       /* --rounds was given */
	bool quick;
	bool cold;             /* do not pre-touch the pool's free space */
	const char *only;      /* comma list of figure or group names */
	const char *scale_dir; /* where the 1 TiB sparse pool goes */
	uint64_t scale_size;
};

/* ----------------------------------------------------- bench context */

struct bench {
	struct opts o;
	dxl_pool *pool;
	char pool_path[PATH_MAX];
	bool pool_created;      /* we made it: delete it at the end */
	char backend[16];
	char persist[48];
	char pool_dir[64];      /* our directory inside the pool */
	char host_dir[PATH_MAX];/* directory holding the pool (for the memcpy file) */
	char kdir[64];          /* tmpfs directory for the kernel's side */
	char kfs[16];           /* "tmpfs" or the fs the kernel side really got */
	uint64_t file_size;     /* size of the 4k / 1m test files */
	uint64_t unit;          /* the pool's allocation unit */
	uint64_t warmed;        /* bytes of free pool space pre-touched */
	int failures;           /* figures that could not be measured */
	char err[512];          /* first error of the figure being measured */
};

/* ------------------------------------------------------------ helpers */

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
/* Commentary on stderr, prefixed "bench: ". */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record the first error of the figure being measured (b->err). */
void set_err(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t rng_next(void);
double median(const double *v, int n); /* n <= MAX_ROUNDS */
/* Does --only select `name` (or its group; group may be NULL)? */
bool selected(const struct bench *b, const char *name, const char *group);
/* Remove this path on exit or on SIGINT/SIGTERM/SIGHUP. */
void cleanup_add(const char *path, bool isdir);
void cleanup_run(void);        /* remove them now (at exit) */
void cleanup_on_signals(void); /* ... and on those signals */
/* Mix v into the random number state (a per-process seed). */
void rng_mix(uint64_t v);
/* The q-quantile (0..1) of n values, nearest rank; sorts v; NAN if n is 0. */
double quantile(double *v, size_t n, double q);
bool dir_writable(const char *dir); /* an existing directory we may write in */
void fill_random(uint8_t *p, size_t len);
/* One byte over a pipe (bench_lease.c): 0 or -errno; the next byte from
 * fd within ms: the byte, or -ETIMEDOUT / -EPIPE / -errno. */
int send_byte(int fd, char c);
int recv_byte(int fd, int ms);
/* Fork a helper process that dies with the bench, joined by two pipes:
 * returns 1 in the child (*cmd: its command pipe to read, *resp: its
 * answer pipe), 0 in the bench (the other ends), <0 on failure (b->err). */
int fork_helper(struct bench *b, pid_t *pid, int *cmd, int *resp);
void fill_offsets(uint64_t *offs, uint64_t file_size, uint64_t len);

/* --------------------------------------------------------- JSON lines */

struct jline {
	char buf[4096];
	size_t len;
};

void j_begin(struct jline *j, const char *name);
void j_end(struct jline *j); /* prints the line on stdout */
void j_raw(struct jline *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void j_key(struct jline *j, const char *k);
void j_str(struct jline *j, const char *k, const char *v);
void j_num(struct jline *j, const char *k, double v, int prec); /* null if not finite */
void j_u64(struct jline *j, const char *k, uint64_t v);
void j_bool(struct jline *j, const char *k, bool v);
/* Fields every pool-based line ends with (iters, rounds, pool, backend...). */
void j_common(struct jline *j, const struct bench *b, uint64_t iters, int rounds);

/* ------------------------------------------------- targets and sides */

struct side;
/* daxlease_ns, kernel_ns, daxlease_min_ns, kernel_min_ns of two sides. */
void j_vs_kernel(struct jline *j, const struct side *dxl, const struct side *kernel);
/* "target" and "met": met when measured, `reached` and no error recorded
 * (b->err); a figure not measured counts as a failure. */
void j_target(struct jline *j, struct bench *b, bool measured, const char *target, bool reached);
/* The whole line of a figure that could not be measured (target, met
 * false, the common fields, b->err if any); counts the failure. */
void j_unmeasured(struct bench *b, const char *name, const char *target);

/* ------------------------------------------------------------ harness */

/* Runs n operations; returns 0 or a negative errno (message in b->err). */
typedef int (*batch_fn)(struct bench *b, void *arg, uint64_t n);

struct side {
	const char *name;
	batch_fn fn;
	void *arg;
	double ns[MAX_ROUNDS]; /* per op, per round */
	double med;            /* median ns per op */
	double min;            /* fastest round, ns per op */
};

/* Calibrate, then run b->o.rounds interleaved rounds of every side (see
 * bench_harness.c).  quick_n: per-side operations under --quick. */
int run_sides(struct bench *b, struct side *s, int nsides, uint64_t quick_n, uint64_t *iters);

/* ------------------------------------------------------------ figures */

/* Each prints its line(s), also when it cannot be measured. */
/* bench_io.c: pwrite_4k, pread_4k (group "4k"), pwrite_1m, pread_1m ("1m"). */
void fig_4k(struct bench *b);
void fig_1m(struct bench *b);
/* bench_meta.c: create_4k_unlink (group "cwu"). */
void fig_cwu(struct bench *b);
void fig_cwu_disk(struct bench *b);
/* The file system type under dir ("tmpfs", "ext4", ...). */
void fs_name_of(const char *dir, char *out, size_t len);
/* bench_scale.c: mkfs_1t, open_1t (group "scale"), before the pool is set
 * up; scale_child is the re-executed child of `bench --scale-child OP PATH
 * SIZE FD`, which does the one operation and writes its result to fd. */
void fig_scale(struct bench *b);
int scale_child(const char *op, const char *path, uint64_t size, int fd);

/* bench_lease.c: pin_unpin, lease_break_rtt, truncate_vs_pins (group
 * "lease").  Each prints its line(s), also when it cannot be measured. */
void fig_pin_unpin(struct bench *b);
void fig_lease_break(struct bench *b);
void fig_truncate_pins(struct bench *b);
/* bench_fanout.c: break_fanout (group "lease"): many leases broken at once. */
void fig_break_fanout(struct bench *b);
/* Is any of them selected?  Do they want a bigger pool than `size`? */
bool lease_figs_selected(const struct bench *b);
uint64_t lease_figs_pool_size(const struct bench *b, uint64_t size);
/* bench_rdma.c: rdma_bw_lat, rdma_recall_rtt, rdma_meta_ops (group "rdma");
 * lines saying so when the build has no RDMA layer. */
void fig_rdma(struct bench *b);
bool rdma_figs_selected(const struct bench *b);
/* bench_par.c: par_* (group "par"): one worker against two, threads and
 * processes, each on its own file, beside tmpfs. */
void fig_par(struct bench *b);
bool par_figs_selected(const struct bench *b);

#endif
