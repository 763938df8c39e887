/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A truncate made through the mount breaks a layout lease held by another
 * process: the mount server is just one more process of the pool.
 *
 *   test_fuse_lease PATH/TO/daxlease
 *
 * 1. The holder releases when told: the truncate through the mount waits
 *    for the release, then completes well before the break deadline.
 * 2. The holder ignores the break: the truncate completes once the pool's
 *    lease-break time has passed, and the lease is revoked.
 * In both cases the BREAK event names the mount process as the breaker.
 * Exits 77 (CTest SKIP) where FUSE cannot be used.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "test_dir.h"

#define SKIP 77
#define BREAK_MS 2000

static const char *dxl_bin;
static char tmp[4096], pool_path[4200], mnt[4200], errlog[4200], fpath[4300];
static pid_t server = -1;

static int run(char *const argv[])
{
	int st;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool is_mounted(void)
{
	struct stat a, b;
	return stat(mnt, &a) == 0 && stat(tmp, &b) == 0 && a.st_dev != b.st_dev;
}

static void cleanup(void)
{
	if (server > 0) {
		if (is_mounted()) {
			char *um[] = { "fusermount3", "-u", mnt, NULL };
			if (run(um) != 0) {
				char *lz[] = { "fusermount3", "-uz", mnt, NULL };
				run(lz);
			}
		}
		int st;
		for (int i = 0; i < 50 && waitpid(server, &st, WNOHANG) != server; i++)
			usleep(100000);
		kill(server, SIGTERM);
		waitpid(server, &st, 0);
		server = -1;
	}
	if (tmp[0]) {
		char *rm[] = { "rm", "-rf", tmp, NULL };
		run(rm);
		tmp[0] = '\0';
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (library: %s)\n", dxl_errmsg());
	cleanup();
	exit(1);
}

static void skip(const char *why)
{
	printf("SKIP: %s\n", why);
	cleanup();
	exit(SKIP);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mount_pool(void)
{
	int fd = open("/dev/fuse", O_RDWR);
	if (fd < 0) {
		char why[256];
		snprintf(why, sizeof(why), "/dev/fuse cannot be opened: %s", strerror(errno));
		skip(why);
	}
	close(fd);
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0) {
		int efd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (efd >= 0)
			dup2(efd, STDERR_FILENO);
		execl(dxl_bin, dxl_bin, "mount", "-f", pool_path, mnt, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !is_mounted(); i++) {
		int st;
		if (waitpid(server, &st, WNOHANG) == server) {
			char msg[512] = "";
			FILE *f = fopen(errlog, "r");
			server = -1;
			if (f) {
				if (!fgets(msg, sizeof(msg), f))
					msg[0] = '\0';
				fclose(f);
			}
			msg[strcspn(msg, "\n")] = '\0';
			if (strstr(msg, "not permitted") || strstr(msg, "ermission denied") ||
			    strstr(msg, "device not found") || strstr(msg, "fusermount3"))
				skip("mounting FUSE is not allowed here");
			die("daxlease mount -f exited early: %s", msg);
		}
		usleep(50000);
	}
	if (!is_mounted())
		die("the mount did not come up within 10 s");
}

struct seen {
	int breaks, revokes;
	int breaker_pid;
	bool release_on_break;
};

static void on_event(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	struct seen *s = arg;
	if (ev->type == DXL_EV_BREAK) {
		s->breaks++;
		s->breaker_pid = ev->breaker_pid;
		if (s->release_on_break && lease)
			dxl_lease_release(lease);
	} else if (ev->type == DXL_EV_REVOKED) {
		s->revokes++;
	}
}

/* truncate(2) through the mount in a child; returns its pid. */
static pid_t truncate_through_mount(off_t size)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(truncate(fpath, size) == 0 ? 0 : 1);
	return pid;
}

static void write_file(size_t len)
{
	char *buf = malloc(len);
	int fd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!buf || fd < 0)
		die("create %s: %s", fpath, strerror(errno));
	memset(buf, 0x5a, len);
	if (write(fd, buf, len) != (ssize_t)len)
		die("write %s: %s", fpath, strerror(errno));
	close(fd);
	free(buf);
}

static int wait_child(pid_t pid, double limit_s, double *took)
{
	double t0 = now_s();
	int st;
	while (now_s() - t0 < limit_s) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			*took = now_s() - t0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int main(int argc, char **argv)
{
	dxl_pool *pool;
	dxl_file *f;
	dxl_lease *lease;
	struct stat st;
	double t0, took;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH/TO/daxlease\n", argv[0]);
		return 2;
	}
	dxl_bin = argv[1];
	snprintf(tmp, sizeof(tmp), "%s/dxl-fuselease.XXXXXX",
		 dxl_test_dir(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
	if (!mkdtemp(tmp))
		return 1;
	snprintf(pool_path, sizeof(pool_path), "%s/pool", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(errlog, sizeof(errlog), "%s/mount.err", tmp);
	snprintf(fpath, sizeof(fpath), "%s/f", mnt);
	mkdir(mnt, 0755);
	char *mkfs[] = { (char *)dxl_bin, "mkfs", "--size", "64m", "--lease-break-time", "2s",
			 pool_path, NULL };
	if (run(mkfs) != 0)
		die("daxlease mkfs failed");
	mount_pool();

	rc = dxl_pool_open(pool_path, 0, &pool);
	if (rc < 0)
		die("dxl_pool_open");

	/* 1. The holder lets go when told: the truncate waits for that, not the deadline. */
	printf("--- the holder releases on break\n");
	write_file(1 << 20);
	struct seen s1 = { .release_on_break = true };
	if (dxl_open(pool, "/f", O_RDWR, 0, &f) < 0)
		die("dxl_open /f");
	if (dxl_lease_take(f, 0, 0, 0, on_event, &s1, &lease) < 0)
		die("dxl_lease_take");
	t0 = now_s();
	pid_t child = truncate_through_mount(4096);
	while (s1.breaks == 0 && now_s() - t0 < 10)
		dxl_event_wait(pool, 100);
	if (s1.breaks != 1)
		die("no BREAK event within 10 s of a truncate through the mount");
	if (s1.breaker_pid != server)
		die("the breaker is pid %d, not the mount process %d", s1.breaker_pid, (int)server);
	rc = wait_child(child, 10, &took);
	if (rc != 0)
		die("truncate through the mount failed (%d)", rc);
	if (now_s() - t0 > BREAK_MS / 1000.0 - 0.2)
		die("the truncate took %.2f s: it waited for the deadline, not the release",
		    now_s() - t0);
	if (stat(fpath, &st) != 0 || st.st_size != 4096)
		die("size after truncate: %lld", (long long)st.st_size);
	dxl_close(f);
	printf("released, truncate done in %.3f s\n", now_s() - t0);

	/* 2. The holder ignores the break: revoked at the deadline, then the truncate proceeds. */
	printf("--- the holder ignores the break\n");
	write_file(1 << 20);
	struct seen s2 = { .release_on_break = false };
	if (dxl_open(pool, "/f", O_RDWR, 0, &f) < 0)
		die("dxl_open /f");
	if (dxl_lease_take(f, 0, 0, 0, on_event, &s2, &lease) < 0)
		die("dxl_lease_take");
	t0 = now_s();
	child = truncate_through_mount(8192);
	rc = wait_child(child, 30, &took);
	if (rc != 0)
		die("truncate through the mount failed or hung (%d)", rc);
	if (took < BREAK_MS / 1000.0 - 0.3)
		die("the truncate took only %.2f s: it did not wait for the lease", took);
	dxl_event_dispatch(pool);
	if (s2.breaks != 1)
		die("%d BREAK events, expected 1", s2.breaks);
	if (s2.breaker_pid != server)
		die("the breaker is pid %d, not the mount process %d", s2.breaker_pid, (int)server);
	if (dxl_lease_state(lease) != DXL_LEASE_REVOKED)
		die("lease state %d after the deadline, expected revoked", dxl_lease_state(lease));
	if (stat(fpath, &st) != 0 || st.st_size != 8192)
		die("size after truncate: %lld", (long long)st.st_size);
	dxl_lease_release(lease);
	dxl_close(f);
	printf("revoked after %.3f s, truncate done\n", took);

	dxl_pool_close(pool);
	cleanup();
	printf("PASS\n");
	return 0;
}
