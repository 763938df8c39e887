/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocators of metadata blocks and data units, on a real pool: what they
 * hand out is free, in range, marked used and counted in the superblock;
 * a unit freed earlier in a transaction is not handed out again in it;
 * runs are contiguous when the space is; the lowest free space is reused
 * first; a full pool gives -ENOSPC and says so; a double free gives
 * -EUCLEAN and changes nothing; pinned units are skipped until unpinned
 * (and are not, with the test switch DXL_TEST_NO_QUARANTINE=1).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h"
#include "fs/fs.h"


static struct dxl_fs fs;
static struct dxl_tx *tx;

/* ------------------------------------------------------------ helpers */

static void pool_open(void)
{
	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	CHECK_OK(dxl_fs_lock(&fs));
}

static void pool_close(void)
{
	dxl_fs_unlock(&fs);
	dxl_fs_close(&fs);
	memset(&fs, 0, sizeof(fs));
}

static void tx_start(void)
{
	tx = dxl_tx_begin(&fs.j);
	CHECK(tx != NULL);
}

static void tx_commit(void)
{
	CHECK_OK(dxl_tx_commit(tx));
	tx = NULL;
}

static void tx_abort(void)
{
	dxl_tx_abort(tx);
	tx = NULL;
}

/* Used units in [start, start+len) as the pool (committed) sees them. */
static uint64_t used_in(uint64_t start, uint64_t len)
{
	uint64_t u, n = 0;
	for (u = start; u < start + len; u++)
		n += (uint64_t)(dxl_unit_used(&fs, NULL, u) != 0);
	return n;
}

/* Used units as tx sees them. */
static uint64_t tx_used_in(uint64_t start, uint64_t len)
{
	uint64_t u, n = 0;
	for (u = start; u < start + len; u++)
		n += (uint64_t)(dxl_unit_used(&fs, tx, u) != 0);
	return n;
}

static uint64_t lowest_free_unit(void)
{
	uint64_t u;
	for (u = 0; u < fs.sb->data_units; u++)
		if (!dxl_unit_used(&fs, NULL, u))
			return u;
	CHECK(0);
	return 0;
}

static uint64_t count_used_units(void)
{
	return used_in(0, fs.sb->data_units);
}

static uint64_t count_used_meta(void)
{
	uint64_t b, n = 0;
	for (b = fs.sb->meta_blk; b < fs.sb->meta_blk + fs.sb->meta_blocks; b++)
		n += (uint64_t)(dxl_meta_used(&fs, NULL, b) != 0);
	return n;
}

/* The committed free counts agree with the bitmaps. */
static void check_counts(void)
{
	CHECK(fs.sb->free_units == fs.sb->data_units - count_used_units());
	CHECK(fs.sb->free_meta == fs.sb->meta_blocks - count_used_meta());
}

/* Alloc want units at goal in tx; check what comes back is sane and is
 * now used in tx (and free before, in the pool and in tx). */
static void ualloc(uint64_t goal, uint64_t want, uint64_t *start, uint64_t *got)
{
	uint64_t f = dxl_sb_read(tx)->free_units;

	CHECK_OK(dxl_unit_alloc(&fs, tx, goal, want, start, got));
	CHECK(*got >= 1 && *got <= want);
	CHECK(*start < fs.sb->data_units && *got <= fs.sb->data_units - *start);
	CHECK(tx_used_in(*start, *got) == *got);
	CHECK(dxl_sb_read(tx)->free_units == f - *got);
}

static void ufree(uint64_t start, uint64_t len)
{
	uint64_t f = dxl_sb_read(tx)->free_units;
	CHECK_OK(dxl_unit_free(&fs, tx, start, len));
	CHECK(tx_used_in(start, len) == 0);
	CHECK(dxl_sb_read(tx)->free_units == f + len);
}

/* ------------------------------------------------------------ metadata */

static void test_meta(void)
{
	uint64_t f0 = fs.sb->free_meta, b[6], x, fmeta;
	int i, j, rc;

	check_counts();
	tx_start();
	for (i = 0; i < 6; i++) {
		CHECK(!dxl_meta_used(&fs, tx, fs.sb->meta_blk + 2 + (uint64_t)i));
		CHECK_OK(dxl_meta_alloc(&fs, tx, &b[i]));
		CHECK(dxl_is_meta_blk(&fs, b[i]));
		CHECK(b[i] != fs.sb->root_ino && b[i] != fs.sb->refc_blk);
		/* a fresh pool: lowest free first, right after the two fixed blocks */
		CHECK(b[i] == fs.sb->meta_blk + 2 + (uint64_t)i);
		CHECK(dxl_meta_used(&fs, tx, b[i]));
		CHECK(!dxl_meta_used(&fs, NULL, b[i])); /* not committed yet */
		for (j = 0; j < i; j++)
			CHECK(b[j] != b[i]);
	}
	CHECK(dxl_sb_read(tx)->free_meta == f0 - 6);
	CHECK(fs.sb->free_meta == f0);
	tx_commit();
	CHECK(fs.sb->free_meta == f0 - 6);
	for (i = 0; i < 6; i++)
		CHECK(dxl_meta_used(&fs, NULL, b[i]));
	check_counts();

	/* lowest free first after frees */
	tx_start();
	CHECK_OK(dxl_meta_free(&fs, tx, b[4]));
	CHECK_OK(dxl_meta_free(&fs, tx, b[1]));
	CHECK(!dxl_meta_used(&fs, tx, b[1]) && dxl_meta_used(&fs, NULL, b[1]));
	CHECK(dxl_sb_read(tx)->free_meta == f0 - 4);
	/* ...but not in the transaction that freed them */
	CHECK_OK(dxl_meta_alloc(&fs, tx, &x));
	CHECK(x != b[1] && x != b[4] && x == b[5] + 1);
	CHECK_OK(dxl_meta_free(&fs, tx, x));
	tx_commit();
	check_counts();
	/* The process-local hint was moved past b[1] and b[4] by the
	 * allocation above (they were busy in that transaction's view); a
	 * reopen starts from the bottom again.  (Reported separately.) */
	pool_close();
	pool_open();
	tx_start();
	CHECK_OK(dxl_meta_alloc(&fs, tx, &x));
	CHECK(x == b[1]);
	CHECK_OK(dxl_meta_alloc(&fs, tx, &x));
	CHECK(x == b[4]);
	tx_commit();
	check_counts();
	/* a free that commits on its own is found first, without a reopen */
	tx_start();
	CHECK_OK(dxl_meta_free(&fs, tx, b[3]));
	tx_commit();
	tx_start();
	CHECK_OK(dxl_meta_alloc(&fs, tx, &x));
	CHECK(x == b[3]);
	tx_commit();
	check_counts();

	/* double free and bad blocks: -EUCLEAN, nothing changes */
	tx_start();
	CHECK_OK(dxl_meta_free(&fs, tx, b[2]));
	fmeta = dxl_sb_read(tx)->free_meta;
	CHECK_RC(dxl_meta_free(&fs, tx, b[2]), -EUCLEAN);
	CHECK(strstr(dxl_errmsg(), "already free") != NULL);
	CHECK_RC(dxl_meta_free(&fs, tx, b[5] + 100), -EUCLEAN);  /* never allocated */
	CHECK_RC(dxl_meta_free(&fs, tx, fs.sb->root_ino), -EUCLEAN);
	CHECK_RC(dxl_meta_free(&fs, tx, fs.sb->refc_blk), -EUCLEAN);
	CHECK_RC(dxl_meta_free(&fs, tx, fs.sb->meta_blk - 1), -EUCLEAN);
	CHECK_RC(dxl_meta_free(&fs, tx, fs.sb->meta_blk + fs.sb->meta_blocks), -EUCLEAN);
	CHECK(dxl_sb_read(tx)->free_meta == fmeta);
	CHECK(!dxl_meta_used(&fs, tx, b[2]) && !dxl_meta_used(&fs, tx, b[5] + 100));
	CHECK(dxl_meta_used(&fs, tx, fs.sb->root_ino) && dxl_meta_used(&fs, tx, fs.sb->refc_blk));
	tx_abort();
	CHECK(dxl_meta_used(&fs, NULL, b[2]));
	check_counts();

	/* full: -ENOSPC with a message, after exactly free_meta blocks */
	f0 = fs.sb->free_meta;
	tx_start();
	for (x = 0;; x++) {
		uint64_t blk;
		rc = dxl_meta_alloc(&fs, tx, &blk);
		if (rc)
			break;
		CHECK(dxl_is_meta_blk(&fs, blk) && !dxl_meta_used(&fs, NULL, blk));
	}
	CHECK_RC(rc, -ENOSPC);
	CHECK(strstr(dxl_errmsg(), "no free metadata blocks") != NULL);
	CHECK(x == f0);
	CHECK(dxl_sb_read(tx)->free_meta == 0);
	tx_abort();
	CHECK(fs.sb->free_meta == f0);
	check_counts();

	/* give the test's blocks back */
	tx_start();
	for (i = 0; i < 6; i++)
		CHECK_OK(dxl_meta_free(&fs, tx, b[i]));
	tx_commit();
	check_counts();
	printf("  metadata blocks\n");
}

/* ------------------------------------------------------------ data units */

static void test_units(void)
{
	uint64_t f0 = fs.sb->free_units, low = lowest_free_unit();
	uint64_t s, g, s1, g1, s2, g2, s3, g3, fu;

	check_counts();
	/* a run of 100 where 100 are free: contiguous, lowest first */
	CHECK(used_in(low, 400) == 0);
	tx_start();
	ualloc(DXL_GOAL_LOW, 100, &s, &g);
	CHECK(g == 100 && s == low);
	CHECK(used_in(s, g) == 0);         /* the pool: not before commit */
	CHECK(fs.sb->free_units == f0);
	tx_commit();
	CHECK(used_in(s, g) == 100);
	CHECK(fs.sb->free_units == f0 - 100);
	check_counts();

	/* a goal in free space is honoured */
	tx_start();
	ualloc(low + 300, 10, &s1, &g1);
	CHECK(s1 == low + 300 && g1 == 10);
	tx_commit();
	check_counts();

	/* a run stops at used space: up to want */
	tx_start();
	ualloc(low + 290, 50, &s2, &g2);
	CHECK(s2 == low + 290 && g2 == 10);
	ufree(s2, g2);
	tx_commit();
	check_counts();

	/* freed earlier in this transaction: never handed out in it, not
	 * even when asked for by goal */
	tx_start();
	ufree(low + 10, 20);
	CHECK(used_in(low + 10, 20) == 20); /* still used in the pool */
	ualloc(low + 10, 5, &s2, &g2);
	CHECK(s2 + g2 <= low + 10 || s2 >= low + 30);
	ualloc(DXL_GOAL_LOW, 30, &s3, &g3);
	CHECK(s3 + g3 <= low + 10 || s3 >= low + 30);
	for (fu = 0; fu < 200; fu++) {     /* everything else it finds, too */
		uint64_t a, n;
		ualloc(DXL_GOAL_LOW, 1, &a, &n);
		CHECK(a < low + 10 || a >= low + 30);
	}
	tx_abort();
	CHECK(used_in(low + 10, 20) == 20);
	check_counts();

	/* lowest free first once the frees commit */
	tx_start();
	ufree(low + 10, 20);
	ufree(low + 50, 5);
	tx_commit();
	check_counts();
	tx_start();
	ualloc(DXL_GOAL_LOW, 15, &s2, &g2);
	CHECK(s2 == low + 10 && g2 == 15);
	ualloc(DXL_GOAL_LOW, 15, &s2, &g2);
	CHECK(s2 == low + 25 && g2 == 5);  /* the rest of that hole */
	ualloc(DXL_GOAL_LOW, 15, &s2, &g2);
	CHECK(s2 == low + 50 && g2 == 5);  /* the next hole */
	ualloc(DXL_GOAL_LOW, 15, &s2, &g2);
	CHECK(s2 == low + 100 && g2 == 15); /* then past the first run */
	tx_commit();
	check_counts();

	/* double free and frees outside the region: -EUCLEAN, no change */
	tx_start();
	ufree(low + 100, 15);
	fu = dxl_sb_read(tx)->free_units;
	CHECK_RC(dxl_unit_free(&fs, tx, low + 100, 1), -EUCLEAN);
	CHECK(strstr(dxl_errmsg(), "already free") != NULL);
	CHECK_RC(dxl_unit_free(&fs, tx, low + 110, 5), -EUCLEAN);
	CHECK_RC(dxl_unit_free(&fs, tx, low + 200, 1), -EUCLEAN);   /* never allocated */
	CHECK_RC(dxl_unit_free(&fs, tx, fs.sb->data_units, 1), -EUCLEAN);
	CHECK_RC(dxl_unit_free(&fs, tx, fs.sb->data_units - 1, 2), -EUCLEAN);
	CHECK_RC(dxl_unit_free(&fs, tx, 1, UINT64_MAX), -EUCLEAN);
	CHECK(dxl_sb_read(tx)->free_units == fu);
	CHECK(tx_used_in(low + 100, 15) == 0);
	CHECK(tx_used_in(low, 100) == 100);
	CHECK_RC(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 0, &s2, &g2), -EINVAL);
	tx_abort();
	check_counts();

	/* full: -ENOSPC with a message, after exactly free_units units */
	tx_start();
	f0 = fs.sb->free_units;
	for (fu = 0;;) {
		int rc = dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1000, &s2, &g2);
		if (rc) {
			CHECK_RC(rc, -ENOSPC);
			break;
		}
		CHECK(used_in(s2, g2) == 0);
		fu += g2;
	}
	CHECK(strstr(dxl_errmsg(), "no free space") != NULL);
	CHECK(fu == f0);
	CHECK(dxl_sb_read(tx)->free_units == 0);
	CHECK(tx_used_in(0, fs.sb->data_units) == fs.sb->data_units);
	/* and with free space left only where it was freed in this tx */
	ufree(low + 5, 3);
	CHECK_RC(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1, &s2, &g2), -ENOSPC);
	tx_abort();
	CHECK(fs.sb->free_units == f0);
	check_counts();

	/* give the test's units back */
	tx_start();
	ufree(low, 115);
	ufree(low + 300, 10);
	tx_commit();
	check_counts();
	printf("  data units\n");
}

/* ------------------------------------------------------------ pins */

static void test_pins(void)
{
	uint64_t low = lowest_free_unit(), s, g, u, f0;
	struct rt_shared *rs = dxl_rt_shared(fs.rt);
	uint64_t p1, p2, p3;

	CHECK(dxl_rt_self(fs.rt) >= 0); /* dxl_fs_open registered us */
	CHECK(!fs.test_no_quarantine);
	CHECK(used_in(low, 200) == 0);
	CHECK(rs->npins == 0);
	CHECK_OK(dxl_pt_add(fs.rt, low, 10, 0, 0, NULL, &p1));
	CHECK(rs->npins == 1);
	CHECK(dxl_pin_first(fs.rt, low, 100, &u) == low && u == low + 10);
	CHECK(dxl_pin_first(fs.rt, low + 10, 100, NULL) == UINT64_MAX);

	tx_start();
	ualloc(DXL_GOAL_LOW, 5, &s, &g);
	CHECK(s == low + 10 && g == 5);
	ualloc(low + 3, 5, &s, &g);        /* a goal inside the pin */
	CHECK(s == low + 15 && g == 5);
	/* a run is cut short where a pin starts */
	CHECK_OK(dxl_pt_add(fs.rt, low + 40, 10, 0, 0, NULL, &p2));
	ualloc(low + 30, 20, &s, &g);
	CHECK(s == low + 30 && g == 10);
	ualloc(low + 30, 20, &s, &g);
	CHECK(s == low + 50 && g == 20);
	tx_abort();

	/* unpinned: they come back */
	CHECK_OK(dxl_pt_drop(fs.rt, p1));
	CHECK_OK(dxl_pt_drop(fs.rt, p2));
	CHECK(rs->npins == 0);
	tx_start();
	ualloc(low, 5, &s, &g);
	CHECK(s == low && g == 5);
	ualloc(low + 40, 10, &s, &g);
	CHECK(s == low + 40 && g == 10);
	tx_abort();

	/* quarantine: a unit freed while pinned stays out of reach, in
	 * later transactions too, until the pin goes */
	tx_start();
	ualloc(low + 100, 4, &u, &g);
	CHECK(u == low + 100 && g == 4);
	tx_commit();
	CHECK_OK(dxl_pt_add(fs.rt, u, 4, 0, 0, NULL, &p3));
	tx_start();
	ufree(u, 4);
	tx_commit();
	CHECK(used_in(u, 4) == 0);
	tx_start();
	ualloc(u, 10, &s, &g);
	CHECK(s >= u + 4 || s + g <= u);
	tx_abort();
	/* everything free is pinned: -ENOSPC that says so */
	tx_start();
	f0 = dxl_sb_read(tx)->free_units;
	while (dxl_sb_read(tx)->free_units > 4)
		ualloc(DXL_GOAL_LOW, dxl_sb_read(tx)->free_units - 4, &s, &g);
	CHECK(tx_used_in(u, 4) == 0);
	CHECK_RC(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1, &s, &g), -ENOSPC);
	CHECK(strstr(dxl_errmsg(), "pinned") != NULL);
	CHECK_OK(dxl_pt_drop(fs.rt, p3));
	ualloc(DXL_GOAL_LOW, 10, &s, &g);
	CHECK(s == u && g == 4);
	CHECK(dxl_sb_read(tx)->free_units == 0);
	tx_abort();
	CHECK(fs.sb->free_units == f0);
	check_counts();
	printf("  pinned units are skipped until unpinned\n");
}

/*
 * DXL_TEST_NO_QUARANTINE=1: the allocator does not see pins.  The pool
 * reads the variable when it is opened; the child sets it and opens the
 * pool itself, so the parent's environment stays clean.
 */
static void test_no_quarantine_child(void)
{
	uint64_t low, s, g;
	uint64_t p;

	setenv("DXL_TEST_NO_QUARANTINE", "1", 1);
	pool_open();
	low = lowest_free_unit();
	CHECK(used_in(low, 50) == 0);
	CHECK_OK(dxl_pt_add(fs.rt, low, 10, 0, 0, NULL, &p));
	CHECK(fs.test_no_quarantine);
	/* the pin is still there for everyone but the allocator */
	CHECK(dxl_pin_first(fs.rt, low, 10, NULL) == low);
	tx_start();
	ualloc(DXL_GOAL_LOW, 5, &s, &g);
	CHECK(s == low && g == 5);          /* inside the pin */
	tx_abort();
	CHECK_OK(dxl_pt_drop(fs.rt, p));
	pool_close();
}

static void test_no_quarantine(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		test_no_quarantine_child();
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(getenv("DXL_TEST_NO_QUARANTINE") == NULL);
	printf("  DXL_TEST_NO_QUARANTINE=1: pins not skipped\n");
}

/* ------------------------------------------------------------ main */

int main(void)
{
	struct dxl_mkfs_opts o = { 0 };
	struct dxl_fsck_result res;

	unsetenv("DXL_TEST_NO_QUARANTINE");
	scratch_setup("alloc");

	/* ~3,900 units of 4 KiB: one bitmap block, several 64-bit words */
	o.size = 16u << 20;
	o.unit = 4096;
	o.meta_size = 1u << 20;
	CHECK_OK(dxl_mkfs(pool_path, &o));

	test_no_quarantine();  /* first: before this process caches the switch */

	pool_open();
	test_meta();
	test_units();
	test_pins();
	pool_close();

	/* everything given back: the pool is as mkfs left it */
	pool_open();
	CHECK(fs.sb->free_units == fs.sb->data_units);
	CHECK(fs.sb->free_meta == fs.sb->meta_blocks - 2);
	check_counts();
	pool_close();
	memset(&res, 0, sizeof(res));
	CHECK_OK(dxl_fsck(pool_path, 0, scratch_fsck_report, NULL, &res));
	CHECK(res.problems == 0);
	printf("ok\n");
	return 0;
}
