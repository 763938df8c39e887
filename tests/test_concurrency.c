/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrency assertions: what threads and processes working on one pool
 * at once must see, whatever the locks are.  Written before any lock of
 * the pool is split (issue 10), so that a wrong split fails here:
 *
 *  readdir   a directory listed while others create, unlink and exchange
 *            names in it shows every stable name exactly once, no name
 *            twice, and no name that was never there;
 *  one file  threads writing whole aligned blocks into one file (into
 *            holes too, so its mapping changes under them) while others
 *            read: a reader sees each block whole — all of one write, or
 *            the data it had — and at the end every block holds its
 *            last write and fsck is clean;
 *  procs     the same with two processes, each with its own pool handle.
 *
 * No timing is asserted; the runs are bounded by operation counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h"

#define BLK 4096u
#define NBLK 64u           /* blocks in the shared file */
#define STABLE 8           /* names that never change in the listed directory */
#define CHURN 16           /* names created and unlinked */

static dxl_pool *pool;
static int rounds = 300;
static int stop; /* atomic: set when the writers are done */

/* ------------------------------------------------------------ readdir */

static void *churn(void *arg)
{
	long id = (long)arg;
	char p[64];
	for (int r = 0; r < rounds && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); r++) {
		for (int i = 0; i < CHURN; i++) {
			dxl_file *f;
			snprintf(p, sizeof(p), "/d/c%ld_%d", id, i);
			CHECK_OK(dxl_open(pool, p, O_CREAT | O_EXCL | O_WRONLY, 0644, &f));
			CHECK_OK(dxl_close(f));
		}
		/* exchanging two stable names keeps both listed */
		CHECK_OK(dxl_rename(pool, "/d/s0", "/d/s1", DXL_RENAME_EXCHANGE));
		for (int i = 0; i < CHURN; i++) {
			snprintf(p, sizeof(p), "/d/c%ld_%d", id, i);
			CHECK_OK(dxl_unlink(pool, p));
		}
	}
	return NULL;
}

static void *lister(void *arg)
{
	(void)arg;
	for (int r = 0; r < rounds * 2 && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); r++) {
		int seen[STABLE] = {0};
		char names[64][256]; /* 40 names at most are ever in /d */
		int n = 0;
		dxl_dir *d;
		struct dxl_dirent de;
		int rc;
		CHECK_OK(dxl_opendir(pool, "/d", &d));
		while ((rc = dxl_readdir(d, &de)) > 0) {
			int s;
			if (sscanf(de.name, "s%d", &s) == 1 && s >= 0 && s < STABLE) {
				seen[s]++;
			} else {
				long id;
				int i;
				if (sscanf(de.name, "c%ld_%d", &id, &i) != 2 || id < 0 || id > 1 || i < 0 ||
				    i >= CHURN) {
					fprintf(stderr, "readdir: a name that was never there: %s\n", de.name);
					exit(1);
				}
			}
			for (int k = 0; k < n; k++)
				if (!strcmp(names[k], de.name)) {
					fprintf(stderr, "readdir: %s listed twice\n", de.name);
					exit(1);
				}
			if (n < 64)
				strcpy(names[n++], de.name); /* de.name is NUL-terminated, < 256 */
		}
		CHECK(rc == 0);
		CHECK_OK(dxl_closedir(d));
		for (int s = 0; s < STABLE; s++)
			if (seen[s] != 1) {
				fprintf(stderr, "readdir: stable name s%d listed %d times\n", s, seen[s]);
				exit(1);
			}
	}
	return NULL;
}

static void test_readdir(void)
{
	pthread_t t[3];
	CHECK_OK(dxl_mkdir(pool, "/d", 0755));
	for (int s = 0; s < STABLE; s++) {
		char p[32];
		dxl_file *f;
		snprintf(p, sizeof(p), "/d/s%d", s);
		CHECK_OK(dxl_open(pool, p, O_CREAT | O_EXCL | O_WRONLY, 0644, &f));
		CHECK_OK(dxl_close(f));
	}
	CHECK(pthread_create(&t[0], NULL, churn, (void *)0L) == 0);
	CHECK(pthread_create(&t[1], NULL, churn, (void *)1L) == 0);
	CHECK(pthread_create(&t[2], NULL, lister, NULL) == 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

/* ----------------------------------------------------------- one file */

/* Block b written by writer w in its generation g: every 8 bytes say so. */
static void fill(uint8_t *buf, uint32_t b, uint32_t w, uint32_t g)
{
	for (size_t i = 0; i < BLK; i += 8) {
		uint32_t v[2] = { b, (w << 24) | g };
		memcpy(buf + i, v, 8);
	}
}

/* A block read whole: zero (never written, a hole) or one write's. */
static void check_block(const uint8_t *buf, uint32_t b, const char *who)
{
	static const uint8_t zero[8];
	if (!memcmp(buf, zero, 8)) {
		for (size_t i = 8; i < BLK; i++)
			if (buf[i]) {
				fprintf(stderr, "%s: block %u torn: zeros then data at byte %zu\n", who, b, i);
				exit(1);
			}
		return;
	}
	uint32_t v0[2];
	memcpy(v0, buf, 8);
	if (v0[0] != b) {
		fprintf(stderr, "%s: block %u holds block %u's data\n", who, b, v0[0]);
		exit(1);
	}
	for (size_t i = 8; i < BLK; i += 8)
		if (memcmp(buf + i, buf, 8)) {
			fprintf(stderr, "%s: block %u torn at byte %zu (two writes mixed)\n", who, b, i);
			exit(1);
		}
}

struct wr_arg {
	dxl_pool *p;
	uint32_t w;        /* writer id: writes the blocks with b % 2 == w */
	uint32_t last[NBLK];
};

static void *writer(void *arg)
{
	struct wr_arg *a = arg;
	dxl_file *f;
	uint8_t buf[BLK];
	CHECK_OK(dxl_open(a->p, "/one", O_RDWR, 0, &f));
	for (uint32_t g = 1; g <= (uint32_t)rounds; g++) {
		for (uint32_t b = a->w; b < NBLK; b += 2) {
			/* every 16th generation punches the block first: the
			 * write then allocates again and the mapping changes */
			if (g % 16 == 0)
				CHECK_OK(dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						       (uint64_t)b * BLK, BLK));
			fill(buf, b, a->w, g);
			CHECK(dxl_pwrite(f, buf, BLK, (uint64_t)b * BLK) == BLK);
			a->last[b] = g;
		}
	}
	CHECK_OK(dxl_close(f));
	return NULL;
}

static void *reader(void *arg)
{
	dxl_pool *p = arg;
	dxl_file *f;
	uint8_t buf[BLK];
	CHECK_OK(dxl_open(p, "/one", O_RDONLY, 0, &f));
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (uint32_t b = 0; b < NBLK; b++) {
			CHECK(dxl_pread(f, buf, BLK, (uint64_t)b * BLK) == BLK);
			check_block(buf, b, "reader");
		}
	}
	CHECK_OK(dxl_close(f));
	return NULL;
}

static void final_check(struct wr_arg *a)
{
	dxl_file *f;
	uint8_t buf[BLK], want[BLK];
	CHECK_OK(dxl_open(pool, "/one", O_RDONLY, 0, &f));
	for (uint32_t b = 0; b < NBLK; b++) {
		CHECK(dxl_pread(f, buf, BLK, (uint64_t)b * BLK) == BLK);
		fill(want, b, b % 2, a[b % 2].last[b]);
		if (memcmp(buf, want, BLK)) {
			fprintf(stderr, "block %u does not hold its last write\n", b);
			exit(1);
		}
	}
	CHECK_OK(dxl_close(f));
}

static void make_one(void)
{
	dxl_file *f;
	CHECK_OK(dxl_open(pool, "/one", O_CREAT | O_TRUNC | O_RDWR, 0644, &f));
	CHECK_OK(dxl_ftruncate(f, (uint64_t)NBLK * BLK));
	CHECK_OK(dxl_close(f));
}

static void test_one_file(void)
{
	pthread_t w[2], r[2];
	static struct wr_arg a[2];
	make_one();
	__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < 2; i++) {
		a[i].p = pool;
		a[i].w = i;
		CHECK(pthread_create(&w[i], NULL, writer, &a[i]) == 0);
		CHECK(pthread_create(&r[i], NULL, reader, pool) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	final_check(a);
}

/* ---------------------------------------------------------- processes */

static void test_procs(void)
{
	pid_t pid[2];
	struct wr_arg *a = calloc(2, sizeof(*a));
	int fds[2][2];
	CHECK(a != NULL);
	make_one();
	for (uint32_t i = 0; i < 2; i++) {
		CHECK(pipe(fds[i]) == 0);
		pid[i] = fork();
		CHECK(pid[i] >= 0);
		if (pid[i] == 0) {
			/* each process its own handle: the parent's is not ours */
			dxl_pool *p;
			pthread_t r;
			close(fds[i][0]);
			CHECK_OK(dxl_pool_open(pool_path, 0, &p));
			a[i].p = p;
			a[i].w = i;
			__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
			CHECK(pthread_create(&r, NULL, reader, p) == 0);
			writer(&a[i]);
			__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
			pthread_join(r, NULL);
			CHECK(write(fds[i][1], a[i].last, sizeof(a[i].last)) == (ssize_t)sizeof(a[i].last));
			CHECK_OK(dxl_pool_close(p));
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (int i = 0; i < 2; i++) {
		int st;
		CHECK(read(fds[i][0], a[i].last, sizeof(a[i].last)) == (ssize_t)sizeof(a[i].last));
		close(fds[i][0]);
		CHECK(waitpid(pid[i], &st, 0) == pid[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	final_check(a);
	free(a);
}

int main(int argc, char **argv)
{
	struct dxl_mkfs_opts mo = { .size = 64u << 20, .unit = BLK };
	struct dxl_fsck_result res;

	if (argc > 1)
		rounds = atoi(argv[1]);
	scratch_setup("concurrency");
	CHECK_OK(dxl_mkfs(pool_path, &mo));
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	test_readdir();
	printf("readdir against create, unlink and exchange: consistent\n");
	test_one_file();
	printf("two writers and two readers on one file: no torn block, last writes kept\n");
	test_procs();
	printf("the same in two processes: no torn block, last writes kept\n");
	CHECK_OK(dxl_pool_close(pool));
	CHECK_OK(dxl_fsck(pool_path, 0, scratch_fsck_report, NULL, &res));
	CHECK(res.problems == 0);
	printf("fsck clean\n");
	return 0;
}
