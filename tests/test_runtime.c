/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime file shared by the processes of a pool: two opens in different
 * processes share one file (and its memory); only the first opener is told
 * it is first; the last close removes the file; a process killed while
 * holding the metadata lock does not wedge the pool (the next locker
 * recovers, the pool stays consistent); dead and live processes are told
 * apart; the lease futex wait returns at its deadline when nothing moves
 * and when woken.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h"
#include "fs/fs.h"
#include "runtime/rt_shared.h"

static pid_t child; /* the child not yet waited for: killed if we fail */

/* ------------------------------------------------------------ helpers */

static int rt_files(void)
{
	DIR *d = opendir(rt_dir);
	struct dirent *de;
	int n = 0;

	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static pid_t fork_child(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK(pid >= 0);
	if (pid > 0)
		child = pid;
	return pid;
}

static void wait_ok(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	child = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "child %d failed (status %#x)\n", (int)pid, st);
		exit(1);
	}
}

static void xwrite(int fd, const void *buf, size_t n)
{
	CHECK(write(fd, buf, n) == (ssize_t)n);
}

static void xread(int fd, void *buf, size_t n)
{
	CHECK(read(fd, buf, n) == (ssize_t)n);
}

/* A child's report through a pipe. */
struct report {
	int first;
	int slot;
	int32_t pid;
	uint32_t seq;
	char path[512];
};

/* ------------------------------------------------------------ sharing */

/* dxl_rt_open directly: first detection, one file, one memory. */
static void test_first_and_shared(void)
{
	uint8_t uuid[16];
	struct dxl_rt *rt, *rt2;
	struct report r;
	char path[512];
	struct stat a, b;
	int first = -1, first2 = -1, fds[2];
	uint32_t seq0;
	pid_t pid;

	CHECK(getrandom(uuid, sizeof(uuid), 0) == (ssize_t)sizeof(uuid));
	CHECK(rt_files() == 0);
	CHECK_OK(dxl_rt_open(uuid, &rt, &first, NULL));
	CHECK(first == 1);
	snprintf(path, sizeof(path), "%s", dxl_rt_path(rt));
	CHECK(strncmp(path, rt_dir, strlen(rt_dir)) == 0);
	CHECK(exists(path) && rt_files() == 1);
	CHECK(memcmp(dxl_rt_uuid(rt), uuid, sizeof(uuid)) == 0);
	CHECK(stat(path, &a) == 0);
	seq0 = dxl_rt_seq(rt);

	/* a second opener in this process (another handle): not first */
	CHECK_OK(dxl_rt_open(uuid, &rt2, &first2, NULL));
	CHECK(first2 == 0);
	CHECK(strcmp(dxl_rt_path(rt2), path) == 0);
	dxl_rt_close(rt2);
	CHECK(exists(path)); /* rt still has it open */

	/* a second process: not first, same file, same memory */
	CHECK(pipe(fds) == 0);
	pid = fork_child();
	if (pid == 0) {
		struct dxl_rt *c;
		memset(&r, 0, sizeof(r));
		close(fds[0]);
		CHECK_OK(dxl_rt_open(uuid, &c, &r.first, NULL));
		snprintf(r.path, sizeof(r.path), "%s", dxl_rt_path(c));
		CHECK(stat(r.path, &b) == 0);
		CHECK(b.st_ino == a.st_ino && b.st_dev == a.st_dev);
		CHECK(dxl_rt_lock(c) == 0);
		dxl_rt_seq_bump(c);           /* visible to the parent */
		dxl_rt_unlock(c);
		r.seq = dxl_rt_seq(c);
		xwrite(fds[1], &r, sizeof(r));
		dxl_rt_close(c);
		_exit(0);
	}
	close(fds[1]);
	xread(fds[0], &r, sizeof(r));
	close(fds[0]);
	wait_ok(pid);
	CHECK(r.first == 0);
	CHECK(strcmp(r.path, path) == 0);
	CHECK(r.seq == seq0 + 1);
	CHECK(dxl_rt_seq(rt) == seq0 + 1);
	/* the child's close was not the last */
	CHECK(exists(path) && rt_files() == 1);

	dxl_rt_close(rt);
	CHECK(!exists(path) && rt_files() == 0);

	/* the first opener closing first does not pull the file from under
	 * a later one; the later one, now last, removes it */
	CHECK_OK(dxl_rt_open(uuid, &rt, &first, NULL));
	CHECK(first == 1);
	CHECK_OK(dxl_rt_open(uuid, &rt2, &first2, NULL));
	CHECK(first2 == 0);
	dxl_rt_close(rt);
	CHECK(exists(path) && rt_files() == 1);
	CHECK_OK(dxl_rt_open(uuid, &rt, &first, NULL));
	CHECK(first == 0);
	dxl_rt_close(rt);
	CHECK(exists(path));
	dxl_rt_close(rt2);
	CHECK(!exists(path) && rt_files() == 0);

	/* after the last close the next opener is first again, on fresh state */
	CHECK_OK(dxl_rt_open(uuid, &rt, &first, NULL));
	CHECK(first == 1);
	CHECK(dxl_rt_seq(rt) == 0);
	dxl_rt_close(rt);
	CHECK(rt_files() == 0);
	printf("  first opener detected; one shared file; last close removes it\n");
}

/* Two pool opens in different processes. */
static void test_pool_opens_share(void)
{
	struct dxl_fs fs;
	struct rt_shared *sh;
	struct report r;
	char path[512];
	int fds[2], go[2], slot;
	pid_t pid;
	char c = 'x';

	CHECK(rt_files() == 0);
	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	snprintf(path, sizeof(path), "%s", dxl_rt_path(fs.rt));
	CHECK(exists(path) && rt_files() == 1);
	sh = dxl_rt_shared(fs.rt);
	CHECK(dxl_rt_self(fs.rt) >= 0 && sh->procs[dxl_rt_self(fs.rt)].pid == getpid());

	CHECK(pipe(fds) == 0 && pipe(go) == 0);
	pid = fork_child();
	if (pid == 0) {
		struct dxl_fs cfs;
		memset(&r, 0, sizeof(r));
		close(fds[0]);
		close(go[1]);
		CHECK_OK(dxl_fs_open(&cfs, pool_path, 0));
		snprintf(r.path, sizeof(r.path), "%s", dxl_rt_path(cfs.rt));
		r.slot = dxl_rt_self(cfs.rt);
		r.pid = getpid();
		xwrite(fds[1], &r, sizeof(r));
		xread(go[0], &c, 1);          /* parent looked: close */
		dxl_fs_close(&cfs);
		_exit(0);
	}
	close(fds[1]);
	close(go[0]);
	xread(fds[0], &r, sizeof(r));
	CHECK(strcmp(r.path, path) == 0);
	CHECK(rt_files() == 1);
	slot = r.slot;
	CHECK(slot >= 0 && slot < RT_MAX_PROCS && slot != dxl_rt_self(fs.rt));
	/* the child registered in the table this process sees */
	CHECK(sh->procs[slot].pid == r.pid && r.pid == pid);
	CHECK(!dxl_rt_proc_dead(fs.rt, slot));
	/* the same pid with another start time is a reused pid: dead */
	CHECK_OK(dxl_fs_lock(&fs));
	{
		int fake = -1, i;
		for (i = RT_MAX_PROCS - 1; i >= 0 && fake < 0; i--)
			if (sh->procs[i].pid == 0)
				fake = i;
		CHECK(fake >= 0);
		CHECK(dxl_rt_proc_dead(fs.rt, fake)); /* a free slot */
		sh->procs[fake] = sh->procs[slot];
		CHECK(!dxl_rt_proc_dead(fs.rt, fake));
		sh->procs[fake].start_time++;
		CHECK(dxl_rt_proc_dead(fs.rt, fake));
		CHECK(!dxl_rt_proc_dead(fs.rt, slot));
		memset(&sh->procs[fake], 0, sizeof(sh->procs[fake]));
	}
	dxl_fs_unlock(&fs);
	xwrite(go[1], &c, 1);
	close(go[1]);
	close(fds[0]);
	wait_ok(pid);
	CHECK(sh->procs[slot].pid == 0); /* unregistered at close */
	CHECK(dxl_rt_proc_dead(fs.rt, slot));
	CHECK(exists(path));
	dxl_fs_close(&fs);
	CHECK(!exists(path) && rt_files() == 0);
	printf("  two pool opens in two processes share the runtime file\n");
}

/* ------------------------------------------------------------ dead holder */

static void fsck_clean(void)
{
	struct dxl_fsck_result res;
	memset(&res, 0, sizeof(res));
	CHECK_OK(dxl_fsck(pool_path, 0, scratch_fsck_report, NULL, &res));
	CHECK(res.problems == 0);
}

/*
 * The child takes the lock and leaves one of two states behind:
 *   torn:   a committed transaction whose apply did not finish (one line
 *           put back to its old bytes) — recovery must replay it;
 *   midlog: a committed transaction, then a second one that was writing
 *           its records when the child died (header not yet written) and
 *           an uncommitted shadow — recovery must change nothing.
 */
enum { TORN, MIDLOG };

struct kill_report {
	int slot;
	uint64_t blk;                /* the metadata block it changed */
	uint8_t want[DXL_BLOCK_SIZE]; /* its bytes after recovery */
};

static void kill_child(int mode, int wfd)
{
	static struct kill_report kr;
	struct dxl_fs cfs;
	struct dxl_tx *tx;
	uint8_t old[DXL_CACHELINE], *p;

	CHECK_OK(dxl_fs_open(&cfs, pool_path, 0));
	CHECK_OK(dxl_fs_lock(&cfs));
	kr.slot = dxl_rt_self(cfs.rt);
	kr.blk = cfs.sb->meta_blk + cfs.sb->meta_blocks - 1 - (uint64_t)mode;
	CHECK(!dxl_meta_used(&cfs, NULL, kr.blk));
	p = dxl_blk_ptr(&cfs, kr.blk);
	memcpy(old, p + 5 * DXL_CACHELINE, sizeof(old));

	tx = dxl_tx_begin(&cfs.j);
	CHECK(tx != NULL);
	((uint8_t *)dxl_tx_write(tx, kr.blk))[5 * DXL_CACHELINE + 1] ^= 0xa5;
	((uint8_t *)dxl_tx_write(tx, kr.blk))[9 * DXL_CACHELINE] ^= 0x5a;
	CHECK_OK(dxl_tx_commit(tx));
	memcpy(kr.want, p, DXL_BLOCK_SIZE);
	if (mode == TORN) {
		memcpy(p + 5 * DXL_CACHELINE, old, sizeof(old));
	} else {
		uint8_t *log = dxl_blk_ptr(&cfs, cfs.sb->journal_blk + 1);
		tx = dxl_tx_begin(&cfs.j);
		CHECK(tx != NULL);
		((uint8_t *)dxl_tx_write(tx, kr.blk))[100] ^= 0xff;
		memset(log, 0xee, 256);  /* the next commit's first records */
	}
	xwrite(wfd, &kr, sizeof(kr));
	for (;;)
		pause();                 /* killed here, lock held */
}

static void test_dead_holder(int mode)
{
	static struct kill_report kr;
	struct dxl_fs fs;
	struct dxl_sb sb0;
	int fds[2], slot;
	pid_t pid;

	CHECK(rt_files() == 0);
	/* open before the child takes the lock (an open needs it too) */
	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	CHECK(pipe(fds) == 0);
	pid = fork_child();
	if (pid == 0) {
		close(fds[0]);
		kill_child(mode, fds[1]);
		_exit(1);
	}
	close(fds[1]);
	xread(fds[0], &kr, sizeof(kr));
	close(fds[0]);
	slot = kr.slot;
	CHECK(slot >= 0 && slot != dxl_rt_self(fs.rt));
	CHECK(!dxl_rt_proc_dead(fs.rt, slot));       /* alive */
	CHECK(!dxl_rt_proc_dead(fs.rt, dxl_rt_self(fs.rt)));
	if (mode == TORN)
		CHECK(memcmp(dxl_blk_ptr(&fs, kr.blk), kr.want, DXL_BLOCK_SIZE) != 0);
	else
		CHECK(memcmp(dxl_blk_ptr(&fs, kr.blk), kr.want, DXL_BLOCK_SIZE) == 0);
	memcpy(&sb0, fs.sb, sizeof(sb0));

	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, NULL, 0) == pid);
	child = 0;
	CHECK(dxl_rt_proc_dead(fs.rt, slot));        /* dead */
	CHECK(!dxl_rt_proc_dead(fs.rt, dxl_rt_self(fs.rt)));

	/* the next locker gets the lock and recovers */
	CHECK_OK(dxl_fs_lock(&fs));
	CHECK(memcmp(dxl_blk_ptr(&fs, kr.blk), kr.want, DXL_BLOCK_SIZE) == 0);
	CHECK_OK(dxl_sb_verify(fs.sb, fs.pm.size));
	CHECK(memcmp(&sb0, fs.sb, sizeof(sb0)) == 0);
	dxl_fs_unlock(&fs);
	/* the lock is consistent again: plain lock/unlock, and a commit */
	CHECK_OK(dxl_fs_lock(&fs));
	{
		struct dxl_tx *tx = dxl_tx_begin(&fs.j);
		uint64_t u, got;
		CHECK(tx != NULL);
		CHECK_OK(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1, &u, &got));
		CHECK_OK(dxl_tx_commit(tx));
		CHECK(dxl_unit_used(&fs, NULL, u) && fs.sb->free_units == sb0.free_units - 1);
		tx = dxl_tx_begin(&fs.j);
		CHECK(tx != NULL);
		CHECK_OK(dxl_unit_free(&fs, tx, u, got));
		CHECK_OK(dxl_tx_commit(tx));
		CHECK(fs.sb->free_units == sb0.free_units);
	}
	dxl_fs_unlock(&fs);

	/* another process can open and use the pool; the dead slot is reclaimed */
	pid = fork_child();
	if (pid == 0) {
		struct dxl_fs cfs;
		CHECK_OK(dxl_fs_open(&cfs, pool_path, 0));
		CHECK_OK(dxl_fs_lock(&cfs));
		CHECK(memcmp(dxl_blk_ptr(&cfs, kr.blk), kr.want, DXL_BLOCK_SIZE) == 0);
		dxl_fs_unlock(&cfs);
		dxl_fs_close(&cfs);
		_exit(0);
	}
	wait_ok(pid);
	dxl_fs_close(&fs);
	CHECK(rt_files() == 0);
	fsck_clean();

	/* and after a full close, a first open still sees the same state */
	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	CHECK(memcmp(dxl_blk_ptr(&fs, kr.blk), kr.want, DXL_BLOCK_SIZE) == 0);
	dxl_fs_close(&fs);
	printf("  killed holding the lock (%s): next locker recovers\n",
	       mode == TORN ? "mid-apply" : "mid-log");
}

/* ------------------------------------------------------------ futex */

static void test_seq_wait(void)
{
	struct dxl_fs fs;
	struct rt_shared *sh;
	uint32_t seen;
	int64_t deadline;
	int go[2], back[2];
	pid_t pid;
	char c = 'g';

	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	sh = dxl_rt_shared(fs.rt);
	seen = dxl_rt_seq(fs.rt);

	/* nothing changes: returns (at the latest when the deadline passes,
	 * or a 100 ms re-check tick before it) with the word unchanged */
	deadline = dxl_mono_ns() + 30 * 1000000LL;
	while (dxl_mono_ns() < deadline)
		dxl_rt_seq_wait(fs.rt, seen, deadline);
	CHECK(dxl_rt_seq(fs.rt) == seen);
	CHECK(sh->seq_waiters == 0);
	/* a deadline already past, or a stale seen: returns at once */
	dxl_rt_seq_wait(fs.rt, seen, dxl_mono_ns() - 1);
	dxl_rt_seq_wait(fs.rt, seen + 1, dxl_mono_ns() + 3600 * 1000000000LL);
	CHECK(sh->seq_waiters == 0);

	/* a bump by another process ends the wait */
	CHECK(pipe(go) == 0 && pipe(back) == 0);
	pid = fork_child();
	if (pid == 0) {
		struct dxl_fs cfs;
		close(go[1]);
		close(back[0]);
		CHECK_OK(dxl_fs_open(&cfs, pool_path, 0));
		xwrite(back[1], &c, 1);      /* opened */
		xread(go[0], &c, 1);
		CHECK_OK(dxl_fs_lock(&cfs));
		dxl_rt_seq_bump(cfs.rt);
		dxl_fs_unlock(&cfs);          /* wakes the waiters */
		xread(go[0], &c, 1);          /* (closing bumps again) */
		dxl_fs_close(&cfs);
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	xread(back[0], &c, 1);
	close(back[0]);
	seen = dxl_rt_seq(fs.rt);
	xwrite(go[1], &c, 1);
	deadline = dxl_mono_ns() + 60 * 1000000000LL;
	while (dxl_rt_seq(fs.rt) == seen && dxl_mono_ns() < deadline)
		dxl_rt_seq_wait(fs.rt, seen, deadline);
	CHECK(dxl_rt_seq(fs.rt) == seen + 1);
	xwrite(go[1], &c, 1);
	close(go[1]);
	wait_ok(pid);
	CHECK(sh->seq_waiters == 0);
	dxl_fs_close(&fs);
	CHECK(rt_files() == 0);
	printf("  lease futex: wait ends at the deadline, or when bumped\n");
}

/* ------------------------------------------------------------ main */

/* Registered after scratch_setup(): runs before the scratch directory
 * goes, so a child still holding the pool is gone first. */
static void reap_child_at_exit(void)
{
	if (getpid() != scratch_owner || child <= 0)
		return;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_runtime: timed out (a wedged lock or a lost wake-up?)\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	exit(1); /* runs the exit handlers: the child, then the scratch directory, go */
}

int main(void)
{
	struct dxl_mkfs_opts o = { 0 };

	scratch_setup("runtime");
	atexit(reap_child_at_exit);
	signal(SIGALRM, on_alarm);
	alarm(300); /* a wedged lock fails the test rather than hanging it */

	o.size = 16u << 20;
	o.unit = 4096;
	o.meta_size = 1u << 20;
	CHECK_OK(dxl_mkfs(pool_path, &o));

	test_first_and_shared();
	test_pool_opens_share();
	test_dead_holder(TORN);
	test_dead_holder(MIDLOG);
	test_seq_wait();
	fsck_clean();
	printf("ok\n");
	return 0;
}
