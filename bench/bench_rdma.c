/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease bench — the RDMA figures (group "rdma"), through the provider
 * the library itself uses (DXL_FI_PROVIDER, default "tcp;ofi_rxm"):
 *
 *   rdma_bw_lat      one-sided writes and reads into a file-backed MR
 *                    (dxl_rdma_register over a pool file) against an MR
 *                    over anonymous memory of the same size, registered in
 *                    the same domain of the same target process, measured
 *                    in the same interleaved rounds: bandwidth at 64 KiB
 *                    and 1 MiB, 8-byte latency;
 *   rdma_recall_rtt  a local dxl_ftruncate over a range a remote client of
 *                    `daxlease serve` holds a layout on, from call to
 *                    return (recall, the client's return, the server's
 *                    unregistration);
 *   rdma_meta_ops    remote stat, open+close, mkdir+rmdir per second,
 *                    with the same calls made locally for scale.
 *
 * Same conventions as bench_harness.c: one JSON line per measurement on
 * stdout, commentary on stderr.  Besides the public daxlease/rdma.h,
 * rdma_bw_lat's two ends use the library's own fabric helpers
 * (rdma/rdma_int.h), so they open libfabric exactly as the server and the
 * client do.  See docs/bench.md.
 */
#include "bench_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef DXL_HAVE_RDMA

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxlease/rdma.h"
#include "rdma/rdma_int.h"

#define RT_WINDOW 8          /* bandwidth: operations in flight */
#define RT_CHUNK_BYTES (16 * MiB) /* bandwidth: bytes per MR before switching (about) */
#define RT_MAX_CHUNKS 20000  /* bandwidth: chunks per MR */
#define RT_WAIT_MS 20000     /* liveness bound on one wait for a helper */
#define RT_STALL_NS (10 * UINT64_C(1000000000)) /* an RMA batch making no progress */
#define RT_LAT_MAX 100000    /* latency samples per side */
#define RC_BREAK_MS 10000    /* the pool's lease-break time during rdma_recall_rtt */

static const char *const bw_target = ">=0.95x: file-backed MR at least 0.95x the anonymous MR";

bool rdma_figs_selected(const struct bench *b)
{
	return selected(b, "rdma_bw_lat", "rdma") || selected(b, "rdma_recall_rtt", "rdma") ||
	       selected(b, "rdma_meta_ops", "rdma");
}

/* ------------------------------------------------------------ helpers */

/* The bracketed word of a /sys/kernel/mm/transparent_hugepage file. */
static void thp_mode(const char *file, char *out, size_t len)
{
	char buf[256], *lb, *rb;
	FILE *f = fopen(file, "r");

	snprintf(out, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && (lb = strchr(buf, '[')) && (rb = strchr(lb, ']'))) {
		*rb = '\0';
		snprintf(out, len, "%s", lb + 1);
	}
	fclose(f);
}

/* n bytes from fd within ms (one helper's answer): 0, or -errno. */
static int recv_all(int fd, void *p, size_t n, int ms)
{
	uint8_t *q = p;
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		ssize_t k = read(fd, q + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		got += (size_t)k;
	}
	return 0;
}

/* The provider the library picks when none is given (fabric.c). */
static const char *provider_name(void)
{
	const char *env = getenv("DXL_FI_PROVIDER");

	return env && env[0] ? env : DXL_DEFAULT_PROVIDER;
}

/* Stop a forked helper: 'q' (and SIGTERM for the server), then wait, then kill. */
static void helper_stop(pid_t *pid, int *cmd, int *resp, bool term)
{
	if (*pid <= 0)
		return;
	if (*cmd >= 0)
		send_byte(*cmd, 'q');
	if (term)
		kill(*pid, SIGTERM);
	for (int i = 0; i < 3000; i++) {
		int st;
		pid_t w = waitpid(*pid, &st, WNOHANG);
		if (w == *pid || (w < 0 && errno != EINTR))
			break;
		if (i == 2000)
			kill(*pid, SIGKILL);
		usleep(1000);
	}
	if (*cmd >= 0)
		close(*cmd);
	if (*resp >= 0)
		close(*resp);
	*pid = -1;
	*cmd = *resp = -1;
}

/* ============================================== figure: rdma_bw_lat */

/* What the target tells the initiator (one write, below PIPE_BUF). */
struct rt_info {
	int32_t err;            /* 0, or a positive errno (errmsg says why) */
	uint32_t namelen;
	uint8_t name[128];      /* the target endpoint's address (fi_getname) */
	uint64_t mr_mode;
	uint64_t raddr[2], key[2]; /* [0] file-backed, [1] anonymous */
	char prov[48];
	char errmsg[256];
};

static void rt_fail(int resp, struct rt_info *in, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rt_fail(int resp, struct rt_info *in, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->errmsg, sizeof(in->errmsg), fmt, ap);
	va_end(ap);
	in->err = err ? err : EIO;
	if (write(resp, in, sizeof(*in)) < 0) {
		/* the bench is gone: nobody to tell */
	}
	_exit(1);
}

/* Pre-fault every page of a region for writing, so no side pays for first touches. */
static void touch_pages(uint8_t *p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i += 4096) {
		volatile uint8_t *q = p + i;
		*q = *q;
	}
}

/*
 * The target process: opens the pool itself, registers [0, len) of the
 * file with dxl_rdma_register and an anonymous mapping of len bytes with
 * fi_mr_regattr in one domain, tells the initiator where they are, then
 * drives libfabric progress the way dxl_server_run does (tcp;ofi_rxm moves
 * data only in the target's fi_cq_read: sleep on the completion queue's
 * wait fd, then read it) until it hears 'q' or the pipe closes.
 */
static void rt_target(const char *pool_path, const char *path, uint64_t len, int cmd, int resp)
	__attribute__((noreturn));
static void rt_target(const char *pool_path, const char *path, uint64_t len, int cmd, int resp)
{
	struct rt_info in;
	struct dxl_fab fab;
	struct fid_ep *ep = NULL;
	struct fid_mr *amr = NULL;
	struct dxl_reg_opts ro;
	dxl_rdma_reg *reg = NULL;
	dxl_pool *pool;
	dxl_file *f;
	uint8_t *anon;
	size_t namelen;
	int rc;

	memset(&in, 0, sizeof(in));
	if (dxl_pool_open(pool_path, 0, &pool) < 0)
		rt_fail(resp, &in, EIO, "target: dxl_pool_open(%s): %s", pool_path, dxl_errmsg());
	if (dxl_open(pool, path, O_RDWR, 0, &f) < 0)
		rt_fail(resp, &in, EIO, "target: dxl_open(%s): %s", path, dxl_errmsg());
	if ((rc = dxl_fab_open(&fab, NULL, "127.0.0.1", "0", 1)) != 0)
		rt_fail(resp, &in, -rc, "target: %s", dxl_errmsg());
	snprintf(in.prov, sizeof(in.prov), "%s", fab.prov);
	if ((rc = dxl_fab_ep(&fab, NULL, NULL, &ep)) != 0)
		rt_fail(resp, &in, -rc, "target: %s", dxl_errmsg());
	in.mr_mode = fab.info->domain_attr->mr_mode;

	memset(&ro, 0, sizeof(ro));
	ro.version = DXL_REG_OPTS_VERSION;
	ro.mr_mode = in.mr_mode;
	ro.access = FI_REMOTE_READ | FI_REMOTE_WRITE;
	ro.holder = "daxlease bench rdma_bw_lat target";
	if ((rc = dxl_rdma_register(f, 0, len, fab.domain, &ro, &reg)) != 0)
		rt_fail(resp, &in, -rc, "target: dxl_rdma_register: %s", dxl_errmsg());
	touch_pages(dxl_rdma_reg_addr(reg), len);

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		    -1, 0);
	if (anon == MAP_FAILED)
		rt_fail(resp, &in, errno, "target: mmap of %llu anonymous bytes: %s",
			(unsigned long long)len, strerror(errno));
	memset(anon, 0x5a, len);
	/* the same registration reg.c makes, over anonymous memory */
	struct iovec iov = {.iov_base = anon, .iov_len = len};
	rc = -FI_ENOKEY;
	for (int tries = 0; tries < 8 && rc == -FI_ENOKEY; tries++) {
		struct fi_mr_attr a;
		memset(&a, 0, sizeof(a));
		a.mr_iov = &iov;
		a.iov_count = 1;
		a.access = FI_REMOTE_READ | FI_REMOTE_WRITE;
		a.requested_key = (in.mr_mode & FI_MR_PROV_KEY) ? 0 : dxl_rdma_random_key();
		rc = fi_mr_regattr(fab.domain, &a, 0, &amr);
	}
	if (rc)
		rt_fail(resp, &in, dxl_fi_errno(rc), "target: fi_mr_regattr of the anonymous region: %s",
			fi_strerror(-rc));

	in.raddr[0] = dxl_rdma_reg_raddr(reg);
	in.key[0] = dxl_rdma_reg_key(reg);
	in.raddr[1] = (in.mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)anon : 0;
	in.key[1] = fi_mr_key(amr);
	namelen = sizeof(in.name);
	if (fi_getname(&ep->fid, in.name, &namelen) != 0 || namelen > sizeof(in.name))
		rt_fail(resp, &in, EIO, "target: cannot name the endpoint");
	in.namelen = (uint32_t)namelen;
	if (write(resp, &in, sizeof(in)) != (ssize_t)sizeof(in))
		_exit(1);

	for (;;) {
		struct fi_cq_msg_entry e[8];
		struct fid *cq = &fab.cq->fid;
		struct pollfd p = {.fd = cmd, .events = POLLIN};
		/* as the server's loop does: sleep on the queue's fd, then progress
		 * (a busy loop here starves the initiator and the kernel's TCP
		 * work of the CPU on a small machine) */
		dxl_fab_wait(&fab, &cq, &fab.cq_fd, 1, &cmd, 1, 10);
		if (fi_cq_read(fab.cq, e, DXL_ARRAY_SIZE(e)) == -FI_EAVAIL) {
			struct fi_cq_err_entry ee;
			memset(&ee, 0, sizeof(ee));
			fi_cq_readerr(fab.cq, &ee, 0);
		}
		if (poll(&p, 1, 0) != 0)
			break; /* 'q', or the bench is gone */
	}
	/* the initiator closed its endpoint before 'q': nothing is in flight */
	fi_close(&amr->fid);
	fi_close(&ep->fid);
	dxl_rdma_unregister(reg);
	dxl_fab_close(&fab);
	munmap(anon, len);
	dxl_close(f);
	dxl_pool_close(pool);
	_exit(0);
}

/* The initiator: the bench process's own fabric and endpoint. */
struct rt_ctx {
	struct dxl_fab fab;
	bool fab_open;
	struct fid_ep *ep;
	fi_addr_t peer;
	struct fid_mr *lmr;     /* the local buffer, if the domain wants FI_MR_LOCAL */
	void *desc;
	uint8_t *buf;           /* MiB: the source of writes, the sink of reads */
	uint64_t len;           /* bytes of each target region */
	uint64_t raddr[2], key[2];
	uint64_t lat_offs[NOFFS];
};

struct rt_side {
	struct rt_ctx *c;
	int mr;                 /* 0 file-backed, 1 anonymous */
	bool write;
	size_t msg;
	int window;
	uint64_t pos;           /* next offset: sequential through the region */
};

static const char *const mr_name[2] = {"file-backed", "anonymous"};

static ssize_t rt_post(struct rt_ctx *c, int mr, bool write, size_t msg, uint64_t off)
{
	struct iovec iov = {.iov_base = c->buf, .iov_len = msg};
	struct fi_rma_iov riov = {.addr = c->raddr[mr] + off, .len = msg, .key = c->key[mr]};
	void *desc = c->desc;
	struct fi_msg_rma m;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.desc = &desc;
	m.iov_count = 1;
	m.addr = c->peer;
	m.rma_iov = &riov;
	m.rma_iov_count = 1;
	m.context = c;
	/* as the client library does (client.c): a write completes once it has landed */
	return write ? fi_writemsg(c->ep, &m, FI_DELIVERY_COMPLETE | FI_COMPLETION)
		     : fi_readmsg(c->ep, &m, FI_COMPLETION);
}

/* Completions read: >= 0, or -EIO (b->err says why). */
static int rt_reap(struct bench *b, struct rt_ctx *c, const char *what)
{
	struct fi_cq_msg_entry e[16];
	ssize_t n = fi_cq_read(c->fab.cq, e, DXL_ARRAY_SIZE(e));

	if (n >= 0)
		return (int)n;
	if (n == -FI_EAGAIN)
		return 0;
	if (n == -FI_EAVAIL) {
		struct fi_cq_err_entry ee;
		memset(&ee, 0, sizeof(ee));
		fi_cq_readerr(c->fab.cq, &ee, 0);
		set_err(b, "remote %s failed: %s", what, fi_strerror(ee.err ? ee.err : FI_EIO));
	} else {
		set_err(b, "fi_cq_read: %s", fi_strerror((int)-n));
	}
	return -EIO;
}

/* n operations with up to s->window in flight; all complete on return. */
static int rt_batch(struct bench *b, void *arg, uint64_t n)
{
	struct rt_side *s = arg;
	struct rt_ctx *c = s->c;
	const char *what = s->write ? "write" : "read";
	uint64_t posted = 0, done = 0, idle = 0, stall = 0;

	while (done < n) {
		while (posted < n && posted - done < (uint64_t)s->window) {
			ssize_t rc = rt_post(c, s->mr, s->write, s->msg, s->pos);
			if (rc == -FI_EAGAIN)
				break;
			if (rc) {
				set_err(b, "posting a remote %s: %s", what, fi_strerror((int)-rc));
				return -EIO;
			}
			s->pos += s->msg;
			if (s->pos + s->msg > c->len)
				s->pos = 0;
			posted++;
		}
		int got = rt_reap(b, c, what);
		if (got < 0)
			return got;
		done += (uint64_t)got;
		if (got > 0) {
			idle = stall = 0;
		} else if ((++idle & 0xffff) == 0) {
			uint64_t t = now_ns();
			if (!stall)
				stall = t;
			else if (t - stall > RT_STALL_NS) {
				set_err(b, "remote %s: no completion in 10 s (the target is gone?)", what);
				return -ETIMEDOUT;
			}
		}
	}
	return 0;
}

/* One 8-byte operation at off, waited for: its time in ns, or <0. */
static int64_t rt_one(struct bench *b, struct rt_ctx *c, int mr, bool write, uint64_t off)
{
	uint64_t t0 = now_ns(), idle = 0;
	ssize_t rc;

	while ((rc = rt_post(c, mr, write, 8, off)) == -FI_EAGAIN) {
		if (rt_reap(b, c, "operation") < 0)
			return -EIO;
		if ((++idle & 0xffff) == 0 && now_ns() - t0 > RT_STALL_NS) {
			set_err(b, "remote %s: the endpoint takes no operation (the target is gone?)",
				write ? "write" : "read");
			return -ETIMEDOUT;
		}
	}
	if (rc) {
		set_err(b, "posting a remote %s: %s", write ? "write" : "read", fi_strerror((int)-rc));
		return -EIO;
	}
	for (;;) {
		int got = rt_reap(b, c, write ? "write" : "read");
		if (got < 0)
			return got;
		if (got > 0)
			break;
		if ((++idle & 0xffff) == 0 && now_ns() - t0 > RT_STALL_NS) {
			set_err(b, "remote %s: no completion in 10 s (the target is gone?)",
				write ? "write" : "read");
			return -ETIMEDOUT;
		}
	}
	return (int64_t)(now_ns() - t0);
}

/* Both MRs answer, and the file-backed one is the file: a value written
 * through it reads back through dxl_pread. */
static int rt_check(struct bench *b, struct rt_ctx *c, dxl_file *f)
{
	uint64_t off = (rng_next() % (c->len / 8)) * 8, v = rng_next(), got = 0;

	for (int mr = 0; mr < 2; mr++) {
		memcpy(c->buf, &v, 8);
		if (rt_one(b, c, mr, true, off) < 0)
			return -EIO;
		memset(c->buf, 0, 8);
		if (rt_one(b, c, mr, false, off) < 0)
			return -EIO;
		memcpy(&got, c->buf, 8);
		if (got != v) {
			set_err(b, "check: 8 bytes written to the %s MR read back different", mr_name[mr]);
			return -EIO;
		}
	}
	got = 0;
	if (dxl_pread(f, &got, 8, off) != 8 || got != v) {
		set_err(b, "check: a remote write into the file-backed MR is not in the file (dxl_pread)");
		return -EIO;
	}
	return 0;
}

static void rt_close(struct rt_ctx *c)
{
	if (c->ep)
		fi_close(&c->ep->fid);
	if (c->lmr)
		fi_close(&c->lmr->fid);
	if (c->fab_open)
		dxl_fab_close(&c->fab);
	c->ep = NULL;
	c->lmr = NULL;
	c->fab_open = false;
}

static int rt_open(struct bench *b, struct rt_ctx *c, const struct rt_info *in)
{
	int rc;

	if ((rc = dxl_fab_open(&c->fab, NULL, "127.0.0.1", "0", 1)) != 0) {
		set_err(b, "initiator: %s", dxl_errmsg());
		return rc;
	}
	c->fab_open = true;
	if ((rc = dxl_fab_ep(&c->fab, NULL, NULL, &c->ep)) != 0) {
		set_err(b, "initiator: %s", dxl_errmsg());
		return rc;
	}
	if (strcmp(c->fab.prov, in->prov) != 0) {
		set_err(b, "initiator provider %s, target %s", c->fab.prov, in->prov);
		return -EINVAL;
	}
	if (fi_av_insert(c->fab.av, in->name, 1, &c->peer, 0, NULL) != 1) {
		set_err(b, "initiator: the provider refuses the target's address");
		return -EIO;
	}
	if (c->fab.info->domain_attr->mr_mode & FI_MR_LOCAL) {
		rc = fi_mr_reg(c->fab.domain, c->buf, MiB, FI_READ | FI_WRITE, 0, 0, 0, &c->lmr, NULL);
		if (rc) {
			set_err(b, "initiator: cannot register the local buffer: %s", fi_strerror(-rc));
			return -EIO;
		}
		c->desc = fi_mr_desc(c->lmr);
	}
	return 0;
}

/* The fields every rdma_bw_lat line carries. */
static void rt_tail(struct jline *j, const struct bench *b, const struct rt_ctx *c,
		    const struct rt_info *in, uint64_t iters, int rounds)
{
	char thp[32];

	j_u64(j, "mr_bytes", c->len);
	j_str(j, "provider", in->prov[0] ? in->prov : provider_name());
	j_u64(j, "mr_mode", in->mr_mode);
	thp_mode("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	j_str(j, "thp_anon", thp);
	thp_mode("/sys/kernel/mm/transparent_hugepage/shmem_enabled", thp, sizeof(thp));
	j_str(j, "thp_shmem", thp);
	j_str(j, "target", bw_target);
	j_common(j, b, iters, rounds);
}

struct rt_cell {
	bool write;
	size_t msg;             /* 8: latency; else bandwidth */
};

static const struct rt_cell rt_cells[] = {
	{true, 64 * KiB}, {true, MiB}, {false, 64 * KiB}, {false, MiB}, {true, 8}, {false, 8},
};
#define RT_NCELLS (sizeof(rt_cells) / sizeof(rt_cells[0]))

static void rt_fail_line(struct bench *b, const struct rt_cell *cell, const struct rt_ctx *c,
			 const struct rt_info *in)
{
	struct jline j;

	j_begin(&j, "rdma_bw_lat");
	j_str(&j, "op", cell->write ? "write" : "read");
	j_str(&j, "metric", cell->msg == 8 ? "latency" : "bandwidth");
	j_u64(&j, "msg_bytes", cell->msg);
	j_bool(&j, "met", false);
	if (!b->err[0])
		set_err(b, "not measured");
	rt_tail(&j, b, c, in, 0, b->o.rounds);
	j_end(&j);
	b->failures++;
}

/*
 * Bandwidth of one cell.  The two MRs alternate chunk by chunk (a few MiB
 * each, which goes first alternating too), for --seconds in all: rounds
 * of run_sides (tens of ms) were too coarse here, the provider's pace on
 * loopback flips between two levels faster than that and a median of 11
 * rounds could land on different levels for the two sides.  Bandwidth is
 * bytes over time summed over the chunks; the paired ratio is the median
 * of the per-chunk-pair ratios.
 */
static int rt_bw(struct bench *b, struct rt_ctx *c, const struct rt_info *in,
		 const struct rt_cell *cell)
{
	struct rt_side a[2];
	uint64_t per = RT_CHUNK_BYTES / cell->msg, n, warm = 0;
	double *t[2] = {NULL, NULL}, *pr = NULL, sum[2] = {0, 0}, best[2];
	int rc = -ENOMEM;

	per = per < 4 * RT_WINDOW ? 4 * RT_WINDOW : per > 16 * RT_WINDOW ? 16 * RT_WINDOW : per;
	for (int i = 0; i < 2; i++)
		a[i] = (struct rt_side){.c = c, .mr = i, .write = cell->write, .msg = cell->msg,
					.window = RT_WINDOW};
	note("rdma_bw_lat: remote %s of %zu KiB, %d in flight, file-backed vs anonymous MR "
	     "alternating every %llu operations", cell->write ? "write" : "read", cell->msg / KiB,
	     RT_WINDOW, (unsigned long long)per);
	/* warm-up, and the cost of a chunk */
	for (int i = 0; i < 4; i++) {
		uint64_t t0 = now_ns();
		if ((rc = rt_batch(b, &a[i & 1], per)) < 0)
			return rc;
		warm += now_ns() - t0;
	}
	if (b->o.iters)
		n = b->o.iters / per;
	else if (b->o.quick)
		n = 8;
	else
		n = (uint64_t)(b->o.seconds * 1e9 / ((double)warm / 4) / 2);
	n = n < 8 ? 8 : n > RT_MAX_CHUNKS ? RT_MAX_CHUNKS : n;
	if (!(t[0] = malloc(n * sizeof(double))) || !(t[1] = malloc(n * sizeof(double))) ||
	    !(pr = malloc(n * sizeof(double)))) {
		set_err(b, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t k = 0; k < n; k++)
		for (int i = 0; i < 2; i++) {
			int mr = (int)((i + k) & 1);
			uint64_t t0 = now_ns();
			if ((rc = rt_batch(b, &a[mr], per)) < 0)
				goto out;
			t[mr][k] = (double)(now_ns() - t0);
			sum[mr] += t[mr][k];
		}
	for (uint64_t k = 0; k < n; k++)
		pr[k] = t[1][k] / t[0][k];
	double paired = quantile(pr, n, 0.5);
	double bytes = (double)(per * cell->msg), gib[2];
	for (int i = 0; i < 2; i++) {
		best[i] = quantile(t[i], n, 0.0);
		gib[i] = bytes * (double)n / sum[i] * 1e9 / (double)GiB;
		note("  %-11s %.3f GiB/s  (chunks: median %.3f, best %.3f)", mr_name[i], gib[i],
		     bytes / quantile(t[i], n, 0.5) * 1e9 / (double)GiB, bytes / best[i] * 1e9 / (double)GiB);
	}
	double ratio = sum[1] / sum[0];
	struct jline j;
	j_begin(&j, "rdma_bw_lat");
	j_str(&j, "op", cell->write ? "write" : "read");
	j_str(&j, "metric", "bandwidth");
	j_u64(&j, "msg_bytes", cell->msg);
	j_u64(&j, "window", RT_WINDOW);
	j_u64(&j, "chunk_ops", per);
	j_num(&j, "file_gibps", gib[0], 3);
	j_num(&j, "anon_gibps", gib[1], 3);
	j_num(&j, "file_best_gibps", bytes / best[0] * 1e9 / (double)GiB, 3);
	j_num(&j, "anon_best_gibps", bytes / best[1] * 1e9 / (double)GiB, 3);
	j_num(&j, "ratio", ratio, 3);
	j_num(&j, "ratio_paired", paired, 3);
	j_bool(&j, "met", ratio >= 0.95 && !b->err[0]);
	rt_tail(&j, b, c, in, n * per, (int)n);
	j_end(&j);
	note("  %s %zu KiB: file %.3f GiB/s, anonymous %.3f GiB/s, ratio %.3f (median of chunk "
	     "pairs %.3f; target >= 0.95)", cell->write ? "write" : "read", cell->msg / KiB,
	     gib[0], gib[1], ratio, paired);
	rc = 0;
out:
	free(t[0]);
	free(t[1]);
	free(pr);
	return rc;
}

/* 8-byte latency: one operation at a time, each timed, alternating
 * between the MRs (which goes first alternates too), so that both see the
 * same mix of the target's states: a sleeping target costs a wake-up, an
 * awake one does not, and which one an operation meets changes faster
 * than any block of operations would. */
static int rt_lat(struct bench *b, struct rt_ctx *c, const struct rt_info *in,
		  const struct rt_cell *cell)
{
	double *v[2] = {NULL, NULL};
	uint64_t n = 0, warm_ns = 0;
	int rc = -ENOMEM;

	note("rdma_bw_lat: remote 8-byte %s latency, one at a time, file-backed vs anonymous MR",
	     cell->write ? "write" : "read");
	/* warm-up, and the cost of one */
	for (int i = 0; i < 400; i++) {
		int64_t t = rt_one(b, c, i & 1, cell->write, c->lat_offs[i & (NOFFS - 1)]);
		if (t < 0)
			return (int)t;
		warm_ns += (uint64_t)t;
	}
	if (b->o.iters)
		n = b->o.iters;
	else if (b->o.quick)
		n = 500;
	else
		n = (uint64_t)(b->o.seconds * 1e9 / 2 / ((double)warm_ns / 400));
	n = n < 16 ? 16 : n > RT_LAT_MAX ? RT_LAT_MAX : n;
	if (!(v[0] = malloc(n * sizeof(double))) || !(v[1] = malloc(n * sizeof(double)))) {
		set_err(b, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			int mr = (int)((k + i) & 1);
			int64_t t = rt_one(b, c, mr, cell->write, c->lat_offs[i & (NOFFS - 1)]);
			if (t < 0) {
				rc = (int)t;
				goto out;
			}
			v[mr][i] = (double)t / 1000.0;
		}
	double med[2], lo[2], p90[2];
	for (int i = 0; i < 2; i++) {
		med[i] = quantile(v[i], n, 0.5);
		lo[i] = v[i][0];
		p90[i] = quantile(v[i], n, 0.9);
		note("  %-11s median %8.2f us  (min %.2f, p90 %.2f)", mr_name[i], med[i], lo[i],
		     p90[i]);
	}
	double ratio = med[1] / med[0];
	struct jline j;
	j_begin(&j, "rdma_bw_lat");
	j_str(&j, "op", cell->write ? "write" : "read");
	j_str(&j, "metric", "latency");
	j_u64(&j, "msg_bytes", 8);
	j_num(&j, "file_us", med[0], 2);
	j_num(&j, "anon_us", med[1], 2);
	j_num(&j, "file_min_us", lo[0], 2);
	j_num(&j, "anon_min_us", lo[1], 2);
	j_num(&j, "file_p90_us", p90[0], 2);
	j_num(&j, "anon_p90_us", p90[1], 2);
	j_num(&j, "ratio", ratio, 3);
	j_bool(&j, "met", ratio >= 0.95 && !b->err[0]);
	rt_tail(&j, b, c, in, n, (int)DXL_MIN(n, (uint64_t)INT32_MAX)); /* each pair a round */
	j_end(&j);
	note("  8-byte %s: file %.2f us, anonymous %.2f us, ratio (anon/file) %.3f (target >= 0.95)",
	     cell->write ? "write" : "read", med[0], med[1], ratio);
	rc = 0;
out:
	free(v[0]);
	free(v[1]);
	return rc;
}

static void fig_rdma_bw_lat(struct bench *b)
{
	struct rt_ctx c;
	struct rt_info in;
	char path[128];
	dxl_file *f = NULL;
	pid_t pid = -1;
	int cmd = -1, resp = -1, rc;
	size_t next = 0;

	if (!selected(b, "rdma_bw_lat", "rdma"))
		return;
	b->err[0] = '\0';
	memset(&c, 0, sizeof(c));
	memset(&in, 0, sizeof(in));
	c.len = b->file_size;
	snprintf(path, sizeof(path), "%s/rdma_mr", b->pool_dir);
	note("rdma_bw_lat: %llu MiB file-backed MR (dxl_rdma_register) vs %llu MiB anonymous MR "
	     "(fi_mr_regattr) in one target process; initiator in the bench process",
	     (unsigned long long)(c.len / MiB), (unsigned long long)(c.len / MiB));
	if (!(c.buf = aligned_alloc(4096, MiB))) {
		set_err(b, "out of memory");
		goto fail;
	}
	fill_random(c.buf, MiB);
	fill_offsets(c.lat_offs, c.len, 64);
	/* the file: allocated in one go and written once, like every bench file */
	if ((rc = dxl_open(b->pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &f)) < 0 ||
	    (rc = dxl_fallocate(f, 0, 0, c.len)) < 0) {
		set_err(b, "%s: %s", path, dxl_errmsg());
		goto fail;
	}
	for (uint64_t off = 0; off < c.len; off += MiB)
		if (dxl_pwrite(f, c.buf, MiB, off) != (ssize_t)MiB) {
			set_err(b, "dxl_pwrite(%s): %s", path, dxl_errmsg());
			goto fail;
		}

	rc = fork_helper(b, &pid, &cmd, &resp);
	if (rc == 1)
		rt_target(b->pool_path, path, c.len, cmd, resp);
	if (rc < 0)
		goto fail;
	if ((rc = recv_all(resp, &in, sizeof(in), RT_WAIT_MS)) < 0) {
		set_err(b, "the target did not answer: %s", strerror(-rc));
		goto fail;
	}
	if (in.err) {
		in.errmsg[sizeof(in.errmsg) - 1] = '\0';
		set_err(b, "%s", in.errmsg);
		goto fail;
	}
	c.raddr[0] = in.raddr[0];
	c.raddr[1] = in.raddr[1];
	c.key[0] = in.key[0];
	c.key[1] = in.key[1];
	if (rt_open(b, &c, &in) < 0 || rt_check(b, &c, f) < 0)
		goto fail;
	note("  provider %s, mr_mode %#llx; a remote write through the file-backed MR reads back "
	     "with dxl_pread", in.prov, (unsigned long long)in.mr_mode);

	for (; next < RT_NCELLS; next++) {
		const struct rt_cell *cell = &rt_cells[next];
		rc = cell->msg == 8 ? rt_lat(b, &c, &in, cell) : rt_bw(b, &c, &in, cell);
		if (rc < 0)
			goto fail;
	}
	goto out;
fail:
	note("  rdma_bw_lat could not be measured: %s", b->err[0] ? b->err : "?");
	for (; next < RT_NCELLS; next++)
		rt_fail_line(b, &rt_cells[next], &c, &in);
out:
	/* our endpoint first: then nothing of ours is in flight at the target */
	rt_close(&c);
	helper_stop(&pid, &cmd, &resp, false);
	if (f) {
		dxl_close(f);
		dxl_unlink(b->pool, path);
	}
	free(c.buf);
}

/* ====================================== the server, for the other two */

static dxl_server *rs_server; /* in the server process */

static void rs_on_term(int sig)
{
	(void)sig;
	dxl_server_stop(rs_server);
}

/* A free TCP port on 127.0.0.1 (the kernel's pick; it may be taken again
 * before the server binds it, so the caller retries). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The server process: 'r' + the port (uint16) once listening, or 'x' +
 * a message; then serves until SIGTERM. */
static void rs_main(const char *pool_path, const uint8_t *key, int resp) __attribute__((noreturn));
static void rs_main(const char *pool_path, const uint8_t *key, int resp)
{
	struct dxl_server_opts o;
	char listen[64], msg[300];
	dxl_pool *pool;
	int rc = -EADDRINUSE;

	listen[0] = '\0';
	if (dxl_pool_open(pool_path, 0, &pool) < 0) {
		snprintf(msg, sizeof(msg), "xserver: dxl_pool_open(%.120s): %.150s\n", pool_path,
			 dxl_errmsg());
		goto fail;
	}
	memset(&o, 0, sizeof(o));
	o.version = DXL_SERVER_OPTS_VERSION;
	o.client_timeout_ms = 30000;
	o.key = key;
	for (int tries = 0; tries < 20 && rc != 0; tries++) {
		int port = free_port();
		if (port <= 0)
			continue;
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		rc = dxl_server_start(pool, listen, &o, &rs_server);
		if (rc == 0) {
			uint8_t m[3] = {'r', (uint8_t)(port >> 8), (uint8_t)port};
			struct sigaction sa;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = rs_on_term;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGTERM, &sa, NULL);
			signal(SIGPIPE, SIG_IGN);
			if (write(resp, m, sizeof(m)) != (ssize_t)sizeof(m))
				_exit(1);
			dxl_server_run(rs_server);
			dxl_server_close(rs_server);
			dxl_pool_close(pool);
			_exit(0);
		}
		if (rc != -EADDRINUSE)
			break; /* taken meanwhile: another port; anything else: no */
	}
	/* (dxl_server_start's own clean-up may have cleared its message) */
	snprintf(msg, sizeof(msg), "xserver: dxl_server_start(%s): %.200s\n", listen,
		 dxl_errmsg()[0] ? dxl_errmsg() : strerror(-rc));
fail:
	if (write(resp, msg, strlen(msg)) < 0) {
		/* nobody to tell */
	}
	_exit(1);
}

struct rs {
	pid_t pid;
	int cmd, resp;
	dxl_remote *r, *r2;     /* two clients: the second changes what the first holds */
	char addr[64];
};

static int rs_start(struct bench *b, struct rs *s)
{
	uint8_t key[32];
	int rc;

	s->pid = -1;
	s->cmd = s->resp = -1;
	s->r = s->r2 = NULL;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		set_err(b, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	rc = fork_helper(b, &s->pid, &s->cmd, &s->resp);
	if (rc == 1)
		rs_main(b->pool_path, key, s->resp);
	if (rc < 0)
		return rc;
	int c = recv_byte(s->resp, RT_WAIT_MS);
	if (c == 'r') {
		uint8_t p[2];
		if ((rc = recv_all(s->resp, p, 2, RT_WAIT_MS)) < 0) {
			set_err(b, "server: %s", strerror(-rc));
			return rc;
		}
		snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%u", (unsigned)(p[0] << 8 | p[1]));
	} else if (c == 'x') {
		char msg[300];
		ssize_t n = read(s->resp, msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		set_err(b, "%s", msg);
		return -EIO;
	} else {
		set_err(b, "the server process did not start: %s",
			c < 0 ? strerror(-c) : "unexpected answer");
		return -EIO;
	}
	struct dxl_remote_opts ro = {.version = DXL_REMOTE_OPTS_VERSION, .key = key};
	rc = dxl_remote_connect(s->addr, &ro, &s->r);
	if (rc == 0 && (rc = dxl_remote_connect(s->addr, &ro, &s->r2)) != 0)
		s->r2 = NULL;
	if (rc) {
		set_err(b, "dxl_remote_connect(%s): %s", s->addr, dxl_errmsg());
		return rc;
	}
	return 0;
}

static void rs_stop(struct rs *s)
{
	if (s->r2)
		dxl_remote_close(s->r2);
	if (s->r)
		dxl_remote_close(s->r);
	s->r = s->r2 = NULL;
	helper_stop(&s->pid, &s->cmd, &s->resp, true);
}

/* ========================================== figure: rdma_recall_rtt */

/*
 * The client's side runs in a thread of the bench process that owns the
 * connection for the figure; the main thread is a local user of the pool.
 * A round: 'g' -> the thread takes a read-write layout of one unit and
 * answers 'r', then waits in dxl_remote_poll; the main thread times
 * dxl_ftruncate(f, 0) from call to return; the layout's recall reaches
 * the thread, whose recall callback returns the layout; 'd'.
 */
struct rc_ctx {
	dxl_remote *r;
	dxl_rfile *rf;
	dxl_layout *l;
	const char *path;
	uint64_t unit;
	int cmd[2], resp[2];
	int recalled, rc, bad;
	uint64_t t_cb, t_ret, stat_ns;
	char err[300];
};

static void rc_recall(dxl_layout *l, void *arg)
{
	struct rc_ctx *c = arg;

	c->t_cb = now_ns();
	if (l != c->l) {
		c->bad++;
		dxl_remote_layout_return(l);
		return;
	}
	c->rc = dxl_remote_layout_return(l);
	c->t_ret = now_ns();
	c->l = NULL;
	c->recalled = 1;
}

static void *rc_thread(void *arg)
{
	struct rc_ctx *c = arg;
	struct dxl_stat st;

	while (recv_byte(c->cmd[0], -1) == 'g') {
		c->recalled = c->rc = 0;
		if (dxl_remote_layout_get(c->rf, 0, c->unit, DXL_LAYOUT_RW, &c->l) != 0) {
			snprintf(c->err, sizeof(c->err), "dxl_remote_layout_get: %s", dxl_errmsg());
			break;
		}
		if (send_byte(c->resp[1], 'r') < 0)
			return NULL;
		uint64_t until = now_ns() + (uint64_t)RT_WAIT_MS * 1000000u;
		while (!c->recalled && now_ns() < until)
			if (dxl_remote_poll(c->r, 100) < 0) {
				snprintf(c->err, sizeof(c->err), "dxl_remote_poll: %s", dxl_errmsg());
				break;
			}
		if (!c->recalled) {
			if (!c->err[0])
				snprintf(c->err, sizeof(c->err), "no recall within %d ms", RT_WAIT_MS);
			break;
		}
		if (c->rc != 0 || c->bad) {
			snprintf(c->err, sizeof(c->err), "%s", c->bad ? "a recall of another layout"
								      : dxl_errmsg());
			break;
		}
		/* one message round trip, for scale */
		uint64_t t = now_ns();
		if (dxl_remote_stat(c->r, c->path, &st) != 0) {
			snprintf(c->err, sizeof(c->err), "dxl_remote_stat: %s", dxl_errmsg());
			break;
		}
		c->stat_ns = now_ns() - t;
		if (send_byte(c->resp[1], 'd') < 0)
			return NULL;
	}
	send_byte(c->resp[1], 'x');
	return NULL;
}

static void rc_line_fail(struct bench *b, int rounds)
{
	struct jline j;

	j_begin(&j, "rdma_recall_rtt");
	j_bool(&j, "met", false);
	if (!b->err[0])
		set_err(b, "not measured");
	j_str(&j, "target", "none: informational (the issue sets no target)");
	j_common(&j, b, 0, rounds);
	j_end(&j);
	b->failures++;
	note("  rdma_recall_rtt could not be measured: %s", b->err);
}

static int rc_expect(struct bench *b, struct rc_ctx *c, char want)
{
	int got = recv_byte(c->resp[0], RT_WAIT_MS);

	if (got == want)
		return 0;
	if (got == 'x')
		set_err(b, "client: %s", c->err[0] ? c->err : "failed");
	else
		set_err(b, "client thread: %s", got < 0 ? strerror(-got) : "unexpected answer");
	return -EIO;
}

static void fig_rdma_recall(struct bench *b, struct rs *s)
{
	int nrounds = b->o.iters ? (int)(b->o.iters > 100000 ? 100000 : b->o.iters)
				 : b->o.quick ? 21 : 201;
	int warm = b->o.quick ? 3 : 10;
	struct rc_ctx c;
	char path[128];
	/* recall, plain, notify, return, stat, recall by a remote change */
	double *v[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	uint8_t *buf = NULL;
	dxl_file *f = NULL;
	pthread_t th;
	bool thread = false, tuned = false;
	uint32_t old_break = 0;
	struct dxl_statfs sf;

	if (!selected(b, "rdma_recall_rtt", "rdma"))
		return;
	memset(&c, 0, sizeof(c));
	c.cmd[0] = c.cmd[1] = c.resp[0] = c.resp[1] = -1;
	c.unit = b->unit;
	snprintf(path, sizeof(path), "%s/rdma_recall", b->pool_dir);
	c.path = path;
	note("rdma_recall_rtt: truncate of a one-unit file, by the bench process (dxl_ftruncate) "
	     "or by a second remote client (dxl_remote_truncate), while a remote client (a "
	     "thread, connected to a forked dxl_server on %s) holds a RW layout over it and "
	     "returns it from its recall callback; vs the local truncate with no layout; %d "
	     "rounds", s->addr, nrounds);
	if (!s->r || !s->r2)
		goto fail;
	for (int i = 0; i < 6; i++)
		if (!(v[i] = calloc((size_t)nrounds, sizeof(double)))) {
			set_err(b, "out of memory");
			goto fail;
		}
	if (!(buf = aligned_alloc(4096, c.unit < 4096 ? 4096 : c.unit))) {
		set_err(b, "out of memory");
		goto fail;
	}
	fill_random(buf, c.unit);
	memset(&sf, 0, sizeof(sf));
	if (dxl_statfs(b->pool, &sf) < 0 || dxl_tune_lease_break(b->pool, RC_BREAK_MS) < 0) {
		set_err(b, "setting the lease-break time: %s", dxl_errmsg());
		goto fail;
	}
	old_break = sf.lease_break_ms;
	tuned = true;
	if (dxl_open(b->pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &f) < 0) {
		set_err(b, "dxl_open(%s): %s", path, dxl_errmsg());
		goto fail;
	}
	if (dxl_remote_open(s->r, path, O_RDWR, 0, &c.rf) != 0) {
		set_err(b, "dxl_remote_open(%s): %s", path, dxl_errmsg());
		goto fail;
	}
	dxl_remote_set_recall(s->r, rc_recall, &c);
	c.r = s->r;
	if (pipe2(c.cmd, O_CLOEXEC) < 0 || pipe2(c.resp, O_CLOEXEC) < 0) {
		set_err(b, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&th, NULL, rc_thread, &c) != 0) {
		set_err(b, "pthread_create failed");
		goto fail;
	}
	thread = true;

	for (int r = -warm; r < nrounds; r++) {
		for (int k = 0; k < 3; k++) {
			int op = (k + (r < 0 ? 0 : r)) % 3;
			uint64_t t0, t1;
			int rc;
			if (op == 1) {
				/* the same change with nobody to recall */
				if (dxl_pwrite(f, buf, c.unit, 0) != (ssize_t)c.unit) {
					set_err(b, "dxl_pwrite(%s): %s", path, dxl_errmsg());
					goto fail;
				}
				t0 = now_ns();
				rc = dxl_ftruncate(f, 0);
				t1 = now_ns();
				if (rc < 0) {
					set_err(b, "dxl_ftruncate: %s", dxl_errmsg());
					goto fail;
				}
				if (r >= 0)
					v[1][r] = (double)(t1 - t0) / 1000.0;
				continue;
			}
			/* with a layout: recall, return, unregistration; the change
			 * made locally (op 0) or by another client (op 2) */
			if (send_byte(c.cmd[1], 'g') < 0 || rc_expect(b, &c, 'r') < 0)
				goto fail;
			t0 = now_ns();
			rc = op == 0 ? dxl_ftruncate(f, 0) : dxl_remote_truncate(s->r2, path, 0);
			t1 = now_ns();
			if (rc < 0) {
				set_err(b, "%s under a layout: %s",
					op == 0 ? "dxl_ftruncate" : "dxl_remote_truncate", dxl_errmsg());
				goto fail;
			}
			if (rc_expect(b, &c, 'd') < 0)
				goto fail;
			if (r < 0)
				continue;
			if (op == 2) {
				v[5][r] = (double)(t1 - t0) / 1000.0;
				continue;
			}
			v[0][r] = (double)(t1 - t0) / 1000.0;
			v[2][r] = (double)(c.t_cb - t0) / 1000.0;
			v[3][r] = (double)(c.t_ret - c.t_cb) / 1000.0;
			v[4][r] = (double)c.stat_ns / 1000.0;
		}
	}

	double med[6], lo[2], p90[2];
	static const char *const names[6] = {"local change", "no layout", "notify", "return",
					     "remote stat", "remote change"};
	for (int i = 0; i < 6; i++) {
		med[i] = quantile(v[i], (size_t)nrounds, 0.5);
		if (i == 0 || i == 5) {
			lo[i / 5] = v[i][0];
			p90[i / 5] = quantile(v[i], (size_t)nrounds, 0.9);
		}
		note("  %-14s median %9.1f us", names[i], med[i]);
	}
	struct jline j;
	j_begin(&j, "rdma_recall_rtt");
	j_num(&j, "recall_us", med[0], 1);
	j_num(&j, "recall_min_us", lo[0], 1);
	j_num(&j, "recall_p90_us", p90[0], 1);
	j_num(&j, "nolayout_us", med[1], 1);
	j_num(&j, "remote_recall_us", med[5], 1);
	j_num(&j, "remote_recall_min_us", lo[1], 1);
	j_num(&j, "remote_recall_p90_us", p90[1], 1);
	j_num(&j, "notify_us", med[2], 1);
	j_num(&j, "return_us", med[3], 1);
	j_num(&j, "stat_rtt_us", med[4], 1);
	j_u64(&j, "layout_bytes", c.unit);
	j_str(&j, "op", "truncate to 0 of a 1-unit file under a remote client's RW layout, "
			"returned from its recall callback; recall_us: dxl_ftruncate by a local "
			"process, remote_recall_us: dxl_remote_truncate by a second client");
	j_str(&j, "provider", provider_name());
	j_u64(&j, "lease_break_ms", RC_BREAK_MS);
	j_str(&j, "target", "none: informational (the issue sets no target)");
	j_common(&j, b, (uint64_t)nrounds, nrounds);
	j_end(&j);
	goto out;
fail:
	rc_line_fail(b, nrounds);
out:
	if (thread) {
		send_byte(c.cmd[1], 'q');
		pthread_join(th, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (c.cmd[i] >= 0)
			close(c.cmd[i]);
		if (c.resp[i] >= 0)
			close(c.resp[i]);
	}
	if (s->r)
		dxl_remote_set_recall(s->r, NULL, NULL);
	if (c.l)
		dxl_remote_layout_return(c.l);
	if (c.rf)
		dxl_remote_fclose(c.rf);
	if (f) {
		dxl_close(f);
		dxl_unlink(b->pool, path);
	}
	if (tuned && dxl_tune_lease_break(b->pool, old_break) < 0)
		note("could not restore the pool's lease-break time (%u ms): %s", old_break,
		     dxl_errmsg());
	for (int i = 0; i < 6; i++)
		free(v[i]);
	free(buf);
}

/* ============================================ figure: rdma_meta_ops */

enum { MO_STAT, MO_OPEN_CLOSE, MO_MKDIR_RMDIR, MO_N };
static const char *const mo_name[MO_N] = {"stat", "open+close", "mkdir+rmdir"};

struct mo_arg {
	dxl_remote *r;          /* NULL: the same calls, local */
	dxl_pool *pool;
	const char *file, *dir;
	int op;
};

static int mo_batch(struct bench *b, void *arg, uint64_t n)
{
	struct mo_arg *a = arg;
	struct dxl_stat st;

	for (uint64_t i = 0; i < n; i++) {
		int rc;
		switch (a->op) {
		case MO_STAT:
			rc = a->r ? dxl_remote_stat(a->r, a->file, &st) : dxl_stat(a->pool, a->file, &st);
			break;
		case MO_OPEN_CLOSE:
			if (a->r) {
				dxl_rfile *rf;
				rc = dxl_remote_open(a->r, a->file, O_RDONLY, 0, &rf);
				if (rc == 0)
					rc = dxl_remote_fclose(rf);
			} else {
				dxl_file *f;
				rc = dxl_open(a->pool, a->file, O_RDONLY, 0, &f);
				if (rc == 0)
					rc = dxl_close(f);
			}
			break;
		default:
			rc = a->r ? dxl_remote_mkdir(a->r, a->dir, 0755) : dxl_mkdir(a->pool, a->dir, 0755);
			if (rc == 0)
				rc = a->r ? dxl_remote_rmdir(a->r, a->dir) : dxl_rmdir(a->pool, a->dir);
			break;
		}
		if (rc < 0) {
			set_err(b, "%s %s: %s", a->r ? "remote" : "local", mo_name[a->op], dxl_errmsg());
			return rc;
		}
	}
	return 0;
}

static void fig_rdma_meta(struct bench *b, struct rs *s)
{
	char dir[128], file[160], sub[160];
	bool made_dir = false, made_file = false;
	dxl_file *f;
	int op = 0, rc;

	if (!selected(b, "rdma_meta_ops", "rdma"))
		return;
	if (s->r)
		b->err[0] = '\0'; /* else the server's error stays, for the lines */
	snprintf(dir, sizeof(dir), "%s/rdma_meta", b->pool_dir);
	snprintf(file, sizeof(file), "%s/f", dir);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	note("rdma_meta_ops: remote stat, open+close, mkdir+rmdir through a dxl_server on %s, one "
	     "request at a time; vs the same calls made locally on the pool", s->addr);
	if (!s->r)
		goto fail;
	if (dxl_mkdir(b->pool, dir, 0755) < 0) {
		set_err(b, "dxl_mkdir(%s): %s", dir, dxl_errmsg());
		goto fail;
	}
	made_dir = true;
	if (dxl_open(b->pool, file, O_RDWR | O_CREAT | O_TRUNC, 0644, &f) < 0) {
		set_err(b, "dxl_open(%s): %s", file, dxl_errmsg());
		goto fail;
	}
	dxl_close(f);
	made_file = true;
	for (; op < MO_N; op++) {
		struct mo_arg ar = {.r = s->r, .pool = b->pool, .file = file, .dir = sub, .op = op};
		struct mo_arg al = {.r = NULL, .pool = b->pool, .file = file, .dir = sub, .op = op};
		struct side sd[2];
		uint64_t iters = 0;
		memset(sd, 0, sizeof(sd));
		sd[0].name = "remote";
		sd[0].fn = mo_batch;
		sd[0].arg = &ar;
		sd[1].name = "local";
		sd[1].fn = mo_batch;
		sd[1].arg = &al;
		note("  %s", mo_name[op]);
		/* half of --seconds each (1 s by default): three lines, one figure */
		double sec = b->o.seconds;
		b->o.seconds = sec / 2;
		rc = run_sides(b, sd, 2, 300, &iters);
		b->o.seconds = sec;
		if (rc < 0)
			goto fail;
		struct jline j;
		j_begin(&j, "rdma_meta_ops");
		j_str(&j, "op", mo_name[op]);
		j_num(&j, "remote_ops_s", 1e9 / sd[0].med, 0);
		j_num(&j, "local_ops_s", 1e9 / sd[1].med, 0);
		j_num(&j, "remote_us", sd[0].med / 1000.0, 2);
		j_num(&j, "remote_min_us", sd[0].min / 1000.0, 2);
		j_num(&j, "local_us", sd[1].med / 1000.0, 2);
		j_num(&j, "remote_calls_s", (op == MO_STAT ? 1e9 : 2e9) / sd[0].med, 0);
		j_str(&j, "provider", provider_name());
		j_str(&j, "target", "none: informational (the issue sets no target)");
		j_common(&j, b, iters, b->o.rounds);
		j_end(&j);
		note("  %s: remote %.0f/s (%.1f us), local %.0f/s", mo_name[op], 1e9 / sd[0].med,
		     sd[0].med / 1000.0, 1e9 / sd[1].med);
	}
	goto out;
fail:
	note("  rdma_meta_ops could not be measured: %s", b->err[0] ? b->err : "?");
	if (!b->err[0])
		set_err(b, "not measured");
	for (; op < MO_N; op++) {
		struct jline j;
		j_begin(&j, "rdma_meta_ops");
		j_str(&j, "op", mo_name[op]);
		j_bool(&j, "met", false);
		j_str(&j, "target", "none: informational (the issue sets no target)");
		j_common(&j, b, 0, b->o.rounds);
		j_end(&j);
		b->failures++;
	}
out:
	if (made_file)
		dxl_unlink(b->pool, file);
	dxl_rmdir(b->pool, sub); /* if a failed round left it */
	if (made_dir)
		dxl_rmdir(b->pool, dir);
}

/* ============================================================ group */

void fig_rdma(struct bench *b)
{
	struct sigaction old_pipe;
	struct rs s;

	if (!rdma_figs_selected(b))
		return;
	/* a helper that died must show as an error, not kill the bench */
	sigaction(SIGPIPE, &(struct sigaction){.sa_handler = SIG_IGN}, &old_pipe);
	fig_rdma_bw_lat(b);
	if (selected(b, "rdma_recall_rtt", "rdma") || selected(b, "rdma_meta_ops", "rdma")) {
		b->err[0] = '\0';
		memset(&s, 0, sizeof(s));
		snprintf(s.addr, sizeof(s.addr), "?");
		if (rs_start(b, &s) < 0)
			note("rdma: the server could not be started: %s", b->err);
		/* the server's error, if any, stays in b->err for both lines */
		fig_rdma_recall(b, &s);
		fig_rdma_meta(b, &s);
		rs_stop(&s);
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
}

#else /* !DXL_HAVE_RDMA */

bool rdma_figs_selected(const struct bench *b)
{
	return selected(b, "rdma_bw_lat", "rdma") || selected(b, "rdma_recall_rtt", "rdma") ||
	       selected(b, "rdma_meta_ops", "rdma");
}

/* Still a line per selected figure; a failure only if asked for by name. */
void fig_rdma(struct bench *b)
{
	static const char *const names[] = {"rdma_bw_lat", "rdma_recall_rtt", "rdma_meta_ops"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct jline j;
		if (!selected(b, names[i], "rdma"))
			continue;
		j_begin(&j, names[i]);
		j_bool(&j, "met", false);
		j_str(&j, "error", "this build has no RDMA layer (configured with DXL_RDMA=OFF)");
		j_end(&j);
		if (b->o.only)
			b->failures++;
	}
}

#endif
