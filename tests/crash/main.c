/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crashx — explore the power-failure states of daxlease workloads.
 *
 * For every workload: make a pool, build the setup tree, trace the
 * operations, and for the last one replay the trace in a forked checker
 * that tries every crash image the persistence model allows at every
 * fence.  A checker that dies is itself a violation; the run goes on
 * after the state that killed it.  See docs/testing.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "crashx.h"
#include "format/format.h"
#include "pmem/trace.h"
#include "test_dir.h"

struct cx_opts cx_opt = {
	.k = 2, .rk = 1, .rsamples = 1, .groups = 4, .seq = 1, .seed = 1, .max_report = 20,
	.point = -1, .rpoint = -1,
};

/* Between the run and its forked checkers. */
struct shared {
	struct cx_stats cur;  /* the running checker's counts */
	uint64_t done;        /* states it has finished */
	int printed;
	char desc[512];       /* the state it is checking */
};

static struct shared *sh;
static struct cx_stats total;
static uint64_t nworkloads, nfailed_ops, nexplored;
static char scratch[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crashx [options]\n"
		"Explore the crash states daxlease may be left in by a power failure during\n"
		"each operation of generated workloads, and check each one (docs/testing.md).\n"
		"\n"
		"  --seq 1|2           every single operation (1, default) or every ordered pair (2)\n"
		"  --sample N          seq 2: a seeded sample of N pairs (default: all)\n"
		"  --seed S            seed of the sample (default 1)\n"
		"  --unit 4k|2m|BYTES  only this allocation unit (default: both 4 KiB and 2 MiB)\n"
		"  -k N                in-flight items a crash image keeps, at most (default 2)\n"
		"  --rk N              the same for crashes during recovery (default 1)\n"
		"  --recovery-samples N  images per crash point whose recovery is crashed (default 1)\n"
		"  --groups N          pieces a store into file data is cut into (default 4)\n"
		"  --only W            run one workload: operation names joined by ','\n"
		"  --point P --subset L          check only this crash point and subset\n"
		"  --rpoint P --rsubset L        ... and only this crash of its recovery\n"
		"  --list              print the operations and exit\n"
		"  --expect-violations succeed only if some violation is found (for tests\n"
		"                      of the test switches DXL_TEST_SKIP_DRAIN / _FLUSH)\n"
		"  --paranoid          compare the whole image after every restore\n"
		"  --max-report N      violations printed in full (default 20)\n"
		"  --dir D             scratch directory (default $DXL_TEST_POOL, else /dev/shm, else $TMPDIR)\n"
		"  --shard I/N         run every Nth workload from the Ith (0-based): N processes\n"
		"                      share a long run\n"
		"  -v                  a line per workload\n"
		"  -h, --help          this text\n"
		"The last line is \"crash states: N explored, M violations\".\n");
}

static uint64_t parse_unit(const char *s)
{
	if (!strcmp(s, "4k") || !strcmp(s, "4K"))
		return 4096;
	if (!strcmp(s, "2m") || !strcmp(s, "2M"))
		return 2u << 20;
	return strtoull(s, NULL, 0);
}

struct explore {
	struct cx_checker *ck;
	struct cx_expect ex;
	struct cx_slack sl[32];
	const struct cx_point *pt;
	int rs_left;
	uint64_t counter, skip;
};

static int on_subset(struct cx_model *m, const struct cx_subset *s, void *arg)
{
	struct explore *e = arg;
	char sub[128];

	e->counter++;
	if (e->counter <= e->skip)
		return 0;
	cx_subset_arg(s, sub, sizeof(sub));
	if (cx_opt.subset && strcmp(cx_opt.subset, sub))
		return 0;
	snprintf(sh->desc, sizeof(sh->desc), "--point %d --subset %s", e->pt->index, sub);
	int r = cx_check(e->ck, m, e->pt, s, &e->ex, e->rs_left > 0);
	if (r & 2)
		e->rs_left--;
	sh->done = e->counter;
	sh->cur = e->ck->st;
	sh->printed = e->ck->printed;
	return 0;
}

static int on_point(struct cx_model *m, const struct cx_point *pt, void *arg)
{
	struct explore *e = arg;
	if (cx_opt.point >= 0 && pt->index != cx_opt.point)
		return 0;
	e->ck->st.points++;
	e->pt = pt;
	e->rs_left = cx_opt.rsamples;
	e->ex.post_only = pt->end;
	e->ex.pre = &e->ex.states[pt->step];
	e->ex.post = &e->ex.states[pt->end ? e->ex.nsteps + 1 : pt->step + 1];
	/* in place or not is a matter of the step's own starting state (a
	 * mapping copies shared units away before the stores through it) */
	e->ex.nsl = 0;
	for (int r = 0; r < e->ex.nraw; r++)
		e->ex.nsl += cx_slack_resolve(e->ex.pre, &e->ex.raw[r], e->sl + e->ex.nsl,
					      32 - e->ex.nsl, e->ck->unit);
	e->ex.sl = e->sl;
	if (cx_opt.verbose > 1)
		fprintf(stderr, "  point %d (%s %s): %zu item(s) in flight\n", pt->index,
			pt->name ? pt->name : "", pt->site ? pt->site : "", m->nit);
	return cx_model_subsets(m, pt, cx_opt.k, on_subset, e);
}

/* Explore the crash states of one traced operation in forked checkers. */
static void explore(struct cx_model *m, const struct cx_trace *t, const char *wname, int opi,
		    const char *opname, uint64_t unit, const struct cx_expect *ex)
{
	uint64_t skip = 0;
	int restarts = 0;
	char crash_path[512];

	snprintf(crash_path, sizeof(crash_path), "%s/crash.img", scratch);
	for (;;) {
		memset(&sh->cur, 0, sizeof(sh->cur));
		sh->done = skip;
		sh->desc[0] = 0;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			perror("crashx: fork");
			exit(2);
		}
		if (pid == 0) {
			struct cx_checker ck;
			char rtc[600];
			/* runtime state is keyed by pool UUID: the image has the
			 * workload pool's, and must not join its live state */
			snprintf(rtc, sizeof(rtc), "%s/rt-check", scratch);
			mkdir(rtc, 0700);
			setenv("DXL_RUNTIME_DIR", rtc, 1);
			uint8_t *ref = malloc((size_t)m->size);
			if (!ref || cx_checker_open(&ck, crash_path, m->size, unit)) {
				fprintf(stderr, "crashx: cannot make the image file %s\n", crash_path);
				_exit(3);
			}
			ck.workload = wname;
			ck.op_index = opi;
			ck.op_name = opname;
			ck.printed = sh->printed;
			cx_model_begin(m, ref);
			struct explore e = { .ck = &ck, .ex = *ex, .skip = skip };
			cx_model_replay(m, t, on_point, &e);
			sh->cur = ck.st;
			sh->printed = ck.printed;
			cx_checker_close(&ck);
			fflush(stdout);
			_exit(0);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		total.states += sh->cur.states;
		total.recov_states += sh->cur.recov_states;
		total.points += sh->cur.points;
		total.violations += sh->cur.violations;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
		if (WIFEXITED(status) && WEXITSTATUS(status) >= 2) {
			fprintf(stderr, "crashx: the checker failed (exit %d)\n", WEXITSTATUS(status));
			exit(2);
		}
		/* the checked code crashed on an image: that is a violation too */
		total.violations++;
		total.states++;
		if (sh->printed++ < cx_opt.max_report) {
			printf("VIOLATION: workload %s (unit %" PRIu64 "), operation %d (%s)\n", wname,
			       unit, opi + 1, opname);
			if (WIFSIGNALED(status))
				printf("  found: the checker was killed by signal %d checking a crash image\n",
				       WTERMSIG(status));
			else
				printf("  found: the checker exited with status %d checking a crash image\n",
				       WEXITSTATUS(status));
			printf("  reproduce: %s --unit %" PRIu64 " --only %s %s\n", cx_opt.argv0, unit,
			       wname, sh->desc);
		}
		skip = sh->done + 1;
		if (++restarts > 20) {
			printf("crashx: giving up on %s after %d checker crashes\n", wname, restarts);
			return;
		}
	}
}

static void bypass_violation(const char *wname, uint64_t unit, int opi, const char *opname,
			     const char *what)
{
	total.violations++;
	total.bypass++;
	if (sh->printed++ < cx_opt.max_report)
		printf("VIOLATION: workload %s (unit %" PRIu64 "), operation %d (%s)\n  found: %s\n",
		       wname, unit, opi + 1, opname, what);
}

static uint64_t pool_size(uint64_t unit)
{
	return unit >= (1u << 20) ? 18 * unit : 4u << 20;
}

/* The states an operation passes through: before, after each step, after. */
struct states {
	struct cx_snap s[16];
	int n;
};

static void on_step(struct cx_ctx *c)
{
	struct states *st = c->step_arg;
	if (st->n >= 15) {
		fprintf(stderr, "crashx: too many steps in one operation\n");
		exit(2);
	}
	dxl_trace_mark("step");
	if (cx_snap_take(c->pool, &st->s[st->n], 1, c->held)) {
		fprintf(stderr, "crashx: reading the tree after a step: %s\n", dxl_errmsg());
		exit(2);
	}
	st->n++;
}

static long shard_i, shard_n = 1, widx;

/* --shard I/N: this process runs every Nth workload from the Ith */
static int mine(void)
{
	return widx++ % shard_n == shard_i;
}

static int run_workload(const int *ops, int nops, uint64_t unit)
{
	char wname[512] = "", path[512];
	struct dxl_mkfs_opts mo = { .size = pool_size(unit), .unit = unit, .flags = DXL_MKFS_FORCE };
	struct cx_ctx ctx = { .unit = unit };
	struct cx_snap pre, post;
	struct cx_model m;
	struct cx_trace t;
	double t0 = now_s();
	uint64_t v0 = total.violations, s0 = total.states + total.recov_states;
	int rc, i, fd;

	for (i = 0; i < nops; i++)
		snprintf(wname + strlen(wname), sizeof(wname) - strlen(wname), "%s%s", i ? "," : "",
			 cx_ops[ops[i]].name);
	snprintf(path, sizeof(path), "%s/pool.img", scratch);
	unlink(path);
	if ((rc = dxl_mkfs(path, &mo)) || (rc = dxl_trace_arm(path)) ||
	    (rc = dxl_pool_open(path, 0, &ctx.pool))) {
		fprintf(stderr, "crashx: %s: cannot make the pool: %s\n", wname, dxl_errmsg());
		exit(2);
	}
	if ((rc = cx_setup(&ctx))) {
		fprintf(stderr, "crashx: %s: setup failed: %s\n", wname, dxl_errmsg());
		exit(2);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	const uint8_t *real = fd < 0 ? MAP_FAILED :
		mmap(NULL, (size_t)mo.size, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (real == MAP_FAILED) {
		perror("crashx: mmap of the pool");
		exit(2);
	}
	const struct dxl_sb *sb = (const struct dxl_sb *)real;
	if (cx_trace_take(&t) ||
	    cx_model_init(&m, real, mo.size, sb->data_off,
			  sb->data_off + (sb->data_units << sb->unit_shift))) {
		fprintf(stderr, "crashx: out of memory\n");
		exit(2);
	}
	cx_trace_free(&t);
	if ((rc = cx_snap_take(ctx.pool, &pre, 1, ctx.held))) {
		fprintf(stderr, "crashx: %s: reading the tree: %s\n", wname, dxl_errmsg());
		exit(2);
	}
	for (i = 0; i < nops; i++) {
		const struct cx_op *op = &cx_ops[ops[i]];
		struct states *st = NULL;
		if (i == nops - 1) {
			st = calloc(1, sizeof(*st));
			if (!st)
				exit(2);
			st->s[0] = pre;
			st->n = 1;
			ctx.step = on_step;
			ctx.step_arg = st;
		}
		rc = op->run(&ctx);
		ctx.step = NULL;
		if (rc)
			nfailed_ops++;
		if (cx_trace_take(&t) || cx_snap_take(ctx.pool, &post, 1, ctx.held)) {
			fprintf(stderr, "crashx: %s: after %s: %s\n", wname, op->name, dxl_errmsg());
			exit(2);
		}
		if (st) {
			struct cx_slack raw[8];
			int nraw = op->slack ? op->slack(&ctx, raw, 8) : 0;
			st->s[st->n] = post;
			struct cx_expect ex = { .states = st->s, .nsteps = st->n - 1, .raw = raw,
						.nraw = nraw };
			explore(&m, &t, wname, i, op->name, unit, &ex);
			nexplored++;
			for (int k = 1; k < st->n; k++)
				cx_snap_free(&st->s[k]);
			free(st);
		}
		/* advance the model past this operation, and check it saw every store */
		size_t out0 = m.outside;
		cx_model_replay(&m, &t, NULL, NULL);
		if (m.outside > out0) {
			char what[512];
			snprintf(what, sizeof(what), "%zu persistence call(s) on addresses outside the pool, "
				 "first at %s", m.outside - out0, t.ev[m.first_outside].site);
			bypass_violation(wname, unit, i, op->name, what);
		}
		size_t nl;
		int64_t first = cx_model_bypass(&m, real, &nl);
		if (first >= 0) {
			char what[512];
			snprintf(what, sizeof(what),
				 "%zu cache line(s) of the pool differ from the image rebuilt from the trace "
				 "(stores that went around src/pmem), first at offset 0x%" PRIx64,
				 nl, (uint64_t)first);
			bypass_violation(wname, unit, i, op->name, what);
			memcpy(m.cache, real, (size_t)m.size);
		}
		cx_model_detach(&m);
		cx_trace_free(&t);
		cx_snap_free(&pre);
		pre = post;
		m.mchanged.n = 0;
	}
	cx_snap_free(&pre);
	if (ctx.held)
		dxl_close(ctx.held);
	dxl_pool_close(ctx.pool);
	dxl_trace_disarm();
	cx_model_free(&m);
	munmap((void *)real, (size_t)mo.size);
	unlink(path);
	nworkloads++;
	if (cx_opt.verbose)
		printf("%-40s unit %-8" PRIu64 " %6" PRIu64 " states %3" PRIu64 " violations %6.2f s\n",
		       wname, unit, total.states + total.recov_states - s0, total.violations - v0,
		       now_s() - t0);
	return 0;
}

static uint64_t rng(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void run_unit(uint64_t unit)
{
	int ops[8], n = 0;

	if (cx_opt.only) {
		char buf[512], *save = NULL, *tok;
		snprintf(buf, sizeof(buf), "%s", cx_opt.only);
		for (tok = strtok_r(buf, ",", &save); tok && n < 8; tok = strtok_r(NULL, ",", &save)) {
			if ((ops[n++] = cx_op_find(tok)) < 0) {
				fprintf(stderr, "crashx: no operation \"%s\" (see --list)\n", tok);
				exit(2);
			}
		}
		run_workload(ops, n, unit);
		return;
	}
	if (cx_opt.seq == 1) {
		for (int i = 0; i < cx_nops; i++) {
			ops[0] = i;
			if (mine())
				run_workload(ops, 1, unit);
		}
		return;
	}
	long all = (long)cx_nops * cx_nops, take = cx_opt.sample > 0 && cx_opt.sample < all ? cx_opt.sample : all;
	long *idx = malloc((size_t)all * sizeof(*idx));
	uint64_t s = cx_opt.seed ^ unit;
	if (!idx)
		exit(2);
	for (long i = 0; i < all; i++)
		idx[i] = i;
	for (long i = 0; i < take; i++) {
		if (take < all) {
			long j = i + (long)(rng(&s) % (uint64_t)(all - i));
			long tmp = idx[i];
			idx[i] = idx[j];
			idx[j] = tmp;
		}
		ops[0] = (int)(idx[i] / cx_nops);
		ops[1] = (int)(idx[i] % cx_nops);
		if (mine())
			run_workload(ops, 2, unit);
		if (!cx_opt.verbose && (i + 1) % 100 == 0)
			fprintf(stderr, "crashx: unit %" PRIu64 ": %ld/%ld sequences\n", unit, i + 1, take);
	}
	free(idx);
}

static void cleanup(void)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/rt", scratch);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/rt-check", scratch);
	rmdir(p);
	rmdir(scratch);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seq", 1, 0, 'S' }, { "sample", 1, 0, 'N' }, { "seed", 1, 0, 'E' },
		{ "unit", 1, 0, 'u' }, { "rk", 1, 0, 'K' }, { "recovery-samples", 1, 0, 'R' },
		{ "groups", 1, 0, 'G' }, { "only", 1, 0, 'o' }, { "point", 1, 0, 'p' },
		{ "subset", 1, 0, 's' }, { "rpoint", 1, 0, 'P' }, { "rsubset", 1, 0, 'Q' },
		{ "list", 0, 0, 'l' }, { "expect-violations", 0, 0, 'x' }, { "paranoid", 0, 0, 'Z' },
		{ "max-report", 1, 0, 'M' }, { "dir", 1, 0, 'd' }, { "help", 0, 0, 'h' },
		{ "shard", 1, 0, 'H' }, { 0 },
	};
	int c;
	double t0 = now_s();

	cx_opt.argv0 = argv[0];
	while ((c = getopt_long(argc, argv, "k:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'S': cx_opt.seq = atoi(optarg); break;
		case 'N': cx_opt.sample = atol(optarg); break;
		case 'E': cx_opt.seed = strtoull(optarg, NULL, 0); break;
		case 'u': cx_opt.unit = parse_unit(optarg); break;
		case 'k': cx_opt.k = atoi(optarg); break;
		case 'K': cx_opt.rk = atoi(optarg); break;
		case 'R': cx_opt.rsamples = atoi(optarg); break;
		case 'G': cx_opt.groups = atoi(optarg); break;
		case 'o': cx_opt.only = optarg; break;
		case 'p': cx_opt.point = atoi(optarg); break;
		case 's': cx_opt.subset = optarg; break;
		case 'P': cx_opt.rpoint = atoi(optarg); break;
		case 'Q': cx_opt.rsubset = optarg; break;
		case 'x': cx_opt.expect_violations = 1; break;
		case 'Z': cx_opt.paranoid = 1; break;
		case 'M': cx_opt.max_report = atoi(optarg); break;
		case 'd': cx_opt.dir = optarg; break;
		case 'H':
			if (sscanf(optarg, "%ld/%ld", &shard_i, &shard_n) != 2 || shard_n < 1 ||
			    shard_i < 0 || shard_i >= shard_n) {
				usage(stderr);
				return 2;
			}
			break;
		case 'v': cx_opt.verbose++; break;
		case 'l':
			for (int i = 0; i < cx_nops; i++)
				printf("%s\n", cx_ops[i].name);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (cx_opt.seq != 1 && cx_opt.seq != 2) || cx_opt.k < 0 || cx_opt.k > 8 ||
	    cx_opt.rk < 0 || cx_opt.rk > 8 || cx_opt.groups < 1 ||
	    (cx_opt.unit && (cx_opt.unit & (cx_opt.unit - 1) || cx_opt.unit < 4096))) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *base = cx_opt.dir;
	if (!base)
		base = dxl_test_dir(access("/dev/shm", W_OK) == 0 ? "/dev/shm"
				    : getenv("TMPDIR")             ? getenv("TMPDIR")
								   : "/tmp");
	snprintf(scratch, sizeof(scratch), "%s/crashx.XXXXXX", base);
	if (!mkdtemp(scratch)) {
		perror("crashx: mkdtemp");
		return 2;
	}
	atexit(cleanup);
	char rt[600];
	snprintf(rt, sizeof(rt), "%s/rt", scratch);
	mkdir(rt, 0700);
	setenv("DXL_RUNTIME_DIR", rt, 1);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	memset(sh, 0, sizeof(*sh));

	if (cx_opt.unit) {
		run_unit(cx_opt.unit);
	} else {
		run_unit(4096);
		run_unit(2u << 20);
	}
	printf("workloads: %" PRIu64 " (seq-%d, k=%d), operations explored: %" PRIu64
	       " (%" PRIu64 " returned an error)\n",
	       nworkloads, cx_opt.only ? 0 : cx_opt.seq, cx_opt.k, nexplored, nfailed_ops);
	printf("crash points: %" PRIu64 ", images checked: %" PRIu64 " + %" PRIu64
	       " during recovery, stores around the trace: %" PRIu64 ", %.1f s\n",
	       total.points, total.states, total.recov_states, total.bypass, now_s() - t0);
	printf("crash states: %" PRIu64 " explored, %" PRIu64 " violations\n",
	       total.states + total.recov_states, total.violations);
	if (cx_opt.expect_violations)
		return total.violations ? 0 : 1;
	return total.violations ? 1 : 0;
}
