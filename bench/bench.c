/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease bench — libdaxlease measured side by side with the kernel.
 *
 * This file is the program: its options, the table of figures and groups
 * (what --only accepts, and the lines printed when the pool cannot be set
 * up), the pool the figures share, and the order the figures run in.  The
 * harness they are measured with (interleaved rounds, medians, JSON lines)
 * is bench_harness.c; the figures are in bench_io.c (4k, 1m), bench_meta.c
 * (cwu), bench_scale.c (scale), bench_lease.c and bench_fanout.c (lease),
 * bench_rdma.c (rdma) and bench_par.c (par).
 *
 * Only the public API (daxlease/daxlease.h) and libc are used.  See
 * docs/bench.md for what each figure measures and why.
 */
#include "bench.h"
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "daxlease/daxlease.h"

#define TMPFS_MAGIC_VALUE 0x01021994

/*
 * Every figure --only can name, with its group.  line_if_no_pool: a figure
 * that still prints its line (met false, the error) when the pool cannot
 * be set up; the scale figures need no pool, the par figures print none.
 */
static const struct fig_entry {
	const char *name, *group;
	bool line_if_no_pool;
} figures[] = {
	{"pwrite_4k", "4k", true},
	{"pread_4k", "4k", true},
	{"pwrite_1m", "1m", true},
	{"pread_1m", "1m", true},
	{"create_4k_unlink", "cwu", true},
	{"create_4k_unlink_disk", "cwu", false},
	{"mkfs_1t", "scale", false},
	{"open_1t", "scale", false},
	{"pin_unpin", "lease", true},
	{"lease_break_rtt", "lease", true},
	{"truncate_vs_pins", "lease", true},
	{"break_fanout", "lease", true},
	{"rdma_bw_lat", "rdma", true},
	{"rdma_recall_rtt", "rdma", true},
	{"rdma_meta_ops", "rdma", true},
	{"par_write_4k", "par", false},
	{"par_read_4k", "par", false},
	{"par_write_1m", "par", false},
	{"par_read_1m", "par", false},
	{"par_procs_write_4k", "par", false},
	{"par_procs_read_4k", "par", false},
	{"par_procs_write_1m", "par", false},
	{"par_read_one_file_4k", "par", false},
	{"par_create_unlink", "par", false},
};
#define NFIGURES (sizeof(figures) / sizeof(figures[0]))

/* Is `name` (n bytes) a figure or a group of the table? */
static bool known_figure(const char *name, size_t n)
{
	for (size_t k = 0; k < NFIGURES; k++)
		if ((strlen(figures[k].name) == n && strncmp(name, figures[k].name, n) == 0) ||
		    (strlen(figures[k].group) == n && strncmp(name, figures[k].group, n) == 0))
			return true;
	return false;
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

void fs_name_of(const char *dir, char *out, size_t len)
{
	struct statfs sf;
	if (statfs(dir, &sf) != 0)
		snprintf(out, len, "unknown");
	else if ((unsigned long)sf.f_type == TMPFS_MAGIC_VALUE)
		snprintf(out, len, "tmpfs");
	else if ((unsigned long)sf.f_type == 0xef53ul)
		snprintf(out, len, "ext4");
	else if ((unsigned long)sf.f_type == 0x58465342ul)
		snprintf(out, len, "xfs");
	else if ((unsigned long)sf.f_type == 0x9123683eul)
		snprintf(out, len, "btrfs");
	else
		snprintf(out, len, "0x%lx", (unsigned long)sf.f_type);
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
		"                   par_create_unlink create_4k_unlink_disk; groups 4k 1m cwu scale lease rdma par\n"
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
		const char *p = b->o.only;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (!known_figure(p, n)) {
				fprintf(stderr, "daxlease bench: --only: unknown figure '%.*s'\n",
					(int)n, p);
				return 2;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}

	cleanup_on_signals();
	rng_mix((uint64_t)getpid() << 17);

	/* The kernel's contender: tmpfs. */
	snprintf(b->kdir, sizeof(b->kdir), "%s", dir_writable("/dev/shm") ? "/dev/shm" : "/tmp");
	fs_name_of(b->kdir, b->kfs, sizeof(b->kfs));
	if (strcmp(b->kfs, "tmpfs") != 0)
		note("warning: %s is not tmpfs (%s): the kernel figures are not tmpfs figures",
		     b->kdir, b->kfs);

	/* Scale first, while this process is small (its children fork from it). */
	fig_scale(b);
	fig_cwu_disk(b); /* a pool of its own, on the disk */

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
			char e[600];
			snprintf(e, sizeof(e), "pool set-up failed: %s", b->err);
			for (size_t i = 0; i < NFIGURES; i++) {
				if (!figures[i].line_if_no_pool ||
				    !selected(b, figures[i].name, figures[i].group))
					continue;
				struct jline j;
				j_begin(&j, figures[i].name);
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

