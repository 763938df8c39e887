/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scale figures of `daxlease bench`: mkfs_1t and open_1t (group
 * "scale"), mkfs and open of a 1 TiB sparse pool file, their time and the
 * resident memory of a process doing only that.  They run before any pool
 * is set up, while the bench process is small.  Harness and conventions:
 * bench_harness.c; see docs/bench.md.
 */
#include "bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

int scale_child(const char *op, const char *path, uint64_t size, int fd)
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

void fig_scale(struct bench *b)
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
