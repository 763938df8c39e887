/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Figures of the "par" group: how throughput scales from one worker to
 * two — threads of one process, or two processes — each on a file of its
 * own (and two threads reading one file, and two threads creating and
 * unlinking in directories of their own), with tmpfs doing the same work
 * in the same rounds.  A round measures the four contenders one after the
 * other for the same time slice; the figure is the median over rounds of
 * each, and scaling = two workers / one worker (issue 10's targets).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_int.h"

enum par_op { P_WRITE, P_READ, P_CWU };

struct worker {
	/* what it works on */
	enum par_op op;
	int kernel;            /* 1: tmpfs through system calls; 2: plain memcpy (the floor) */
	uint64_t len;          /* bytes per write/read */
	uint64_t file_size;
	char dpath[PATH_MAX];  /* pool file (or directory for P_CWU) */
	char kpath[PATH_MAX];  /* tmpfs file (or directory) */
	dxl_pool *pool;
	dxl_file *f;
	int kfd;
	uint8_t *mem;          /* kernel == 2: anonymous memory of file_size bytes */
	uint8_t *buf;
	uint64_t offs[NOFFS];
	/* results */
	uint64_t ops;
	uint64_t ns;
	int rc;
	char err[256];
};

/* Shared with workers (threads) or mapped shared (processes). */
struct par_ctl {
	int go, stop;          /* atomics */
	struct worker w[2];
};

static int one_op(struct worker *w, uint64_t i)
{
	uint64_t off = w->offs[i & (NOFFS - 1)];
	ssize_t n;

	switch (w->op) {
	case P_WRITE:
		if (w->kernel == 2) {
			memcpy(w->mem + off, w->buf, w->len);
			return 0;
		}
		n = w->kernel ? pwrite(w->kfd, w->buf, w->len, (off_t)off)
			      : dxl_pwrite(w->f, w->buf, w->len, off);
		return n == (ssize_t)w->len ? 0 : n < 0 && !w->kernel ? (int)n : -EIO;
	case P_READ:
		if (w->kernel == 2) {
			memcpy(w->buf, w->mem + off, w->len);
			return 0;
		}
		n = w->kernel ? pread(w->kfd, w->buf, w->len, (off_t)off)
			      : dxl_pread(w->f, w->buf, w->len, off);
		return n == (ssize_t)w->len ? 0 : n < 0 && !w->kernel ? (int)n : -EIO;
	case P_CWU: {
		char p[PATH_MAX + 8];
		if (w->kernel) {
			snprintf(p, sizeof(p), "%s/f", w->kpath);
			int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				return -errno;
			n = write(fd, w->buf, 4096);
			close(fd);
			if (n != 4096 || unlink(p) != 0)
				return -EIO;
			return 0;
		}
		dxl_file *f;
		snprintf(p, sizeof(p), "%s/f", w->dpath);
		int rc = dxl_open(w->pool, p, O_WRONLY | O_CREAT | O_EXCL, 0644, &f);
		if (rc)
			return rc;
		n = dxl_pwrite(f, w->buf, 4096, 0);
		rc = dxl_close(f);
		if (n != 4096 || rc)
			return n < 0 ? (int)n : rc ? rc : -EIO;
		return dxl_unlink(w->pool, p);
	}
	}
	return -EINVAL;
}

static void work(struct par_ctl *c, struct worker *w)
{
	uint64_t i = 0, t0;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		;
	t0 = now_ns();
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		int rc = one_op(w, i++);
		if (rc) {
			w->rc = rc;
			snprintf(w->err, sizeof(w->err), "%s", w->kernel ? strerror(-rc) : dxl_errmsg());
			break;
		}
	}
	w->ns = now_ns() - t0;
	w->ops = i;
}

struct targ {
	struct par_ctl *c;
	struct worker *w;
};

static void *thread_main(void *a)
{
	struct targ *t = a;
	work(t->c, t->w);
	return NULL;
}

/* Open what a worker works on, in this process. */
static int worker_open(struct bench *b, struct worker *w, dxl_pool *pool)
{
	w->pool = pool;
	w->f = NULL;
	w->kfd = -1;
	w->mem = NULL;
	if (w->op == P_CWU)
		return 0;
	if (w->kernel == 2) {
		void *m = mmap(NULL, w->file_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED) {
			set_err(b, "mmap of %llu bytes: %s", (unsigned long long)w->file_size,
				strerror(errno));
			return -errno;
		}
		memset(m, 1, w->file_size); /* not the zero page */
		w->mem = m;
		return 0;
	}
	if (w->kernel) {
		w->kfd = open(w->kpath, O_RDWR | O_CLOEXEC);
		if (w->kfd < 0) {
			set_err(b, "open(%s): %s", w->kpath, strerror(errno));
			return -errno;
		}
		return 0;
	}
	int rc = dxl_open(pool, w->dpath, O_RDWR, 0, &w->f);
	if (rc)
		set_err(b, "dxl_open(%s): %s", w->dpath, dxl_errmsg());
	return rc;
}

static void worker_close(struct worker *w)
{
	if (w->f)
		dxl_close(w->f);
	if (w->kfd >= 0)
		close(w->kfd);
	if (w->mem)
		munmap(w->mem, w->file_size);
	w->mem = NULL;
	w->f = NULL;
	w->kfd = -1;
}

/* One timed slice of n workers (threads, or processes when procs): ops/s. */
static double slice(struct bench *b, struct worker *tmpl, int n, int procs, double sec)
{
	struct par_ctl *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	double total = 0;
	pid_t pid[2] = {0, 0};
	pthread_t th[2];
	struct targ ta[2];
	int i, started = 0;

	if (c == MAP_FAILED) {
		set_err(b, "mmap: %s", strerror(errno));
		return -1;
	}
	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++)
		c->w[i] = tmpl[i];
	for (i = 0; i < n; i++) {
		if (procs) {
			int ready[2];
			if (pipe(ready) != 0)
				break;
			pid[i] = fork();
			if (pid[i] == 0) {
				dxl_pool *pool = NULL;
				close(ready[0]);
				int rc = c->w[i].kernel ? 0 : dxl_pool_open(b->pool_path, 0, &pool);
				if (rc == 0)
					rc = worker_open(b, &c->w[i], pool);
				if (rc) {
					c->w[i].rc = rc;
					snprintf(c->w[i].err, sizeof(c->w[i].err), "%s", dxl_errmsg());
				}
				send_byte(ready[1], 'r');
				if (rc == 0)
					work(c, &c->w[i]);
				worker_close(&c->w[i]);
				if (pool)
					dxl_pool_close(pool);
				_exit(0);
			}
			close(ready[1]);
			if (pid[i] < 0 || recv_byte(ready[0], 10000) != 'r') {
				close(ready[0]);
				break;
			}
			close(ready[0]);
		} else {
			if (worker_open(b, &c->w[i], b->pool))
				break;
			ta[i] = (struct targ){c, &c->w[i]};
			if (pthread_create(&th[i], NULL, thread_main, &ta[i]) != 0) {
				worker_close(&c->w[i]);
				break;
			}
		}
		started++;
	}
	__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
	if (started == n)
		usleep((useconds_t)(sec * 1e6));
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < started; i++) {
		if (procs) {
			int st;
			waitpid(pid[i], &st, 0);
		} else {
			pthread_join(th[i], NULL);
			worker_close(&c->w[i]);
		}
	}
	for (i = 0; i < n; i++) {
		if (i >= started || c->w[i].rc) {
			if (!b->err[0])
				set_err(b, "worker %d: %s", i, i >= started ? "did not start" : c->w[i].err);
			total = -1;
			break;
		}
		total += (double)c->w[i].ops * 1e9 / (double)(c->w[i].ns ? c->w[i].ns : 1);
	}
	munmap(c, sizeof(*c));
	return total;
}

/* Pool files / directories and tmpfs ones for two workers. */
static int par_files(struct bench *b, struct worker *w, enum par_op op, uint64_t len,
		     const char *tag, int shared_file, uint8_t *mib_buf)
{
	for (int i = 0; i < 2; i++) {
		int k = shared_file ? 0 : i;
		memset(&w[i], 0, sizeof(w[i]));
		w[i].op = op;
		w[i].len = len;
		w[i].file_size = b->file_size;
		w[i].kfd = -1;
		snprintf(w[i].dpath, sizeof(w[i].dpath), "%s/par-%s-%d", b->pool_dir, tag, k);
		snprintf(w[i].kpath, sizeof(w[i].kpath), "%s/daxlease-bench-%d-par-%s-%d", b->kdir,
			 (int)getpid(), tag, k);
		w[i].buf = aligned_alloc(4096, len < 4096 ? 4096 : len);
		if (!w[i].buf) {
			set_err(b, "out of memory");
			return -ENOMEM;
		}
		fill_random(w[i].buf, len < 4096 ? 4096 : len);
		fill_offsets(w[i].offs, b->file_size, len);
		if (shared_file && i == 1)
			continue;
		if (op == P_CWU) {
			int mrc = dxl_mkdir(b->pool, w[i].dpath, 0755);
			if (mrc && mrc != -EEXIST) {
				set_err(b, "dxl_mkdir(%s): %s", w[i].dpath, dxl_errmsg());
				return -EIO;
			}
			if (mkdir(w[i].kpath, 0755) != 0 && errno != EEXIST) {
				set_err(b, "mkdir(%s): %s", w[i].kpath, strerror(errno));
				return -errno;
			}
			cleanup_add(w[i].kpath, true);
			continue;
		}
		dxl_file *f;
		int rc = dxl_open(b->pool, w[i].dpath, O_RDWR | O_CREAT | O_TRUNC, 0644, &f);
		if (rc) {
			set_err(b, "dxl_open(%s): %s", w[i].dpath, dxl_errmsg());
			return rc;
		}
		for (uint64_t off = 0; off < b->file_size && rc == 0; off += MiB)
			if (dxl_pwrite(f, mib_buf, MiB, off) != (ssize_t)MiB)
				rc = -EIO;
		dxl_close(f);
		int fd = open(w[i].kpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (rc || fd < 0) {
			set_err(b, "filling %s / %s", w[i].dpath, w[i].kpath);
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		cleanup_add(w[i].kpath, false);
		for (uint64_t off = 0; off < b->file_size && rc == 0; off += MiB)
			if (pwrite(fd, mib_buf, MiB, (off_t)off) != (ssize_t)MiB)
				rc = -EIO;
		close(fd);
		if (rc) {
			set_err(b, "filling %s", w[i].kpath);
			return rc;
		}
	}
	return 0;
}

static void par_unfiles(struct bench *b, struct worker *w, int shared_file)
{
	for (int i = 0; i < (shared_file ? 1 : 2); i++) {
		if (w[i].op == P_CWU) {
			dxl_rmdir(b->pool, w[i].dpath);
			rmdir(w[i].kpath);
		} else {
			dxl_unlink(b->pool, w[i].dpath);
			unlink(w[i].kpath);
		}
	}
	for (int i = 0; i < 2; i++)
		free(w[i].buf);
}

struct par_fig {
	const char *name;
	enum par_op op;
	uint64_t len;
	int procs;
	int shared_file;
	double target;      /* daxlease scaling at least this */
	int vs_kernel;      /* ... and at least tmpfs's scaling */
};

static const struct par_fig figs[] = {
	{"par_write_4k", P_WRITE, 4096, 0, 0, 1.8, 1},
	{"par_read_4k", P_READ, 4096, 0, 0, 1.8, 1},
	{"par_write_1m", P_WRITE, MiB, 0, 0, 1.8, 1},
	{"par_read_1m", P_READ, MiB, 0, 0, 1.8, 1},
	{"par_procs_write_4k", P_WRITE, 4096, 1, 0, 1.8, 1},
	{"par_procs_read_4k", P_READ, 4096, 1, 0, 1.8, 1},
	{"par_procs_write_1m", P_WRITE, MiB, 1, 0, 1.8, 1},
	{"par_read_one_file_4k", P_READ, 4096, 0, 1, 1.8, 0},
	{"par_create_unlink", P_CWU, 4096, 0, 0, 1.5, 0},
};

bool par_figs_selected(const struct bench *b)
{
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++)
		if (selected(b, figs[i].name, "par"))
			return true;
	return false;
}

static void one_fig(struct bench *b, const struct par_fig *pf, uint8_t *mib_buf)
{
	struct worker w[2], wk[2], wm[2];
	double d1[MAX_ROUNDS], d2[MAX_ROUNDS], k1[MAX_ROUNDS], k2[MAX_ROUNDS];
	double m1[MAX_ROUNDS], m2[MAX_ROUNDS];
	int mem = pf->op != P_CWU; /* the memory floor of the same copies */
	int rounds = b->o.rounds, r, rc;
	double sec = b->o.quick ? 0.01 : b->o.seconds / (4.0 * rounds);
	char target[160];

	b->err[0] = '\0';
	note("%s: %s, one worker against two (%s), daxlease and tmpfs", pf->name,
	     pf->op == P_CWU ? "create + 4 KiB write + close + unlink" :
	     pf->op == P_WRITE ? "writes at random aligned offsets" : "reads at random aligned offsets",
	     pf->procs ? "processes" : "threads");
	rc = par_files(b, w, pf->op, pf->len, pf->name, pf->shared_file, mib_buf);
	for (int i = 0; i < 2; i++) {
		wk[i] = w[i];
		wk[i].kernel = 1;
		wm[i] = w[i];
		wm[i].kernel = 2;
	}
	for (r = 0; rc == 0 && r < rounds; r++) {
		if ((d1[r] = slice(b, w, 1, pf->procs, sec)) < 0 ||
		    (d2[r] = slice(b, w, 2, pf->procs, sec)) < 0 ||
		    (k1[r] = slice(b, wk, 1, pf->procs, sec)) < 0 ||
		    (k2[r] = slice(b, wk, 2, pf->procs, sec)) < 0 ||
		    (mem && ((m1[r] = slice(b, wm, 1, pf->procs, sec)) < 0 ||
			     (m2[r] = slice(b, wm, 2, pf->procs, sec)) < 0)))
			rc = -EIO;
	}
	snprintf(target, sizeof(target), ">=%.1fx from 1 to 2 %s%s", pf->target,
		 pf->procs ? "processes" : "threads", pf->vs_kernel ? ", and >= tmpfs's scaling" : "");
	struct jline j;
	j_begin(&j, pf->name);
	if (rc == 0) {
		double a = median(d1, rounds), bb = median(d2, rounds);
		double c = median(k1, rounds), d = median(k2, rounds);
		double s = bb / a, ks = d / c;
		j_num(&j, "daxlease_1_ops", a, 0);
		j_num(&j, "daxlease_2_ops", bb, 0);
		j_num(&j, "kernel_1_ops", c, 0);
		j_num(&j, "kernel_2_ops", d, 0);
		j_num(&j, "scaling", s, 3);
		j_num(&j, "kernel_scaling", ks, 3);
		if (mem) { /* what two CPUs' memory gives the same copies, for scale */
			j_num(&j, "memcpy_1_ops", median(m1, rounds), 0);
			j_num(&j, "memcpy_2_ops", median(m2, rounds), 0);
			j_num(&j, "memcpy_scaling", median(m2, rounds) / median(m1, rounds), 3);
		}
		j_str(&j, "target", target);
		j_bool(&j, "met", s >= pf->target && (!pf->vs_kernel || s >= ks));
	} else {
		j_str(&j, "target", target);
		j_bool(&j, "met", false);
		j_str(&j, "error", b->err);
		b->failures++;
	}
	j_common(&j, b, 0, rounds);
	j_end(&j);
	par_unfiles(b, w, pf->shared_file);
}

void fig_par(struct bench *b)
{
	uint8_t *mib_buf = NULL;

	if (!par_figs_selected(b))
		return;
	mib_buf = malloc(MiB);
	if (!mib_buf)
		return;
	fill_random(mib_buf, MiB);
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++)
		if (selected(b, figs[i].name, "par"))
			one_fig(b, &figs[i], mib_buf);
	free(mib_buf);
}
