/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck: check every invariant of a daxlease pool and, with
 * DXL_FSCK_REPAIR, mend what can be mended safely.
 *
 * The pool under check may be damaged in any way, so nothing read from the
 * image is trusted: every block number is checked against the metadata
 * region before it is dereferenced, every node is verified structurally
 * before its slots are read, and the tree walk keeps its own stack (no
 * recursion whose depth an image could choose).  Damage is reported, never
 * asserted on.
 *
 * Structure: a *pass* reads the committed image (the mapping itself, not
 * through transactions) and builds a model of what the metadata should
 * be — which inodes are in use, who links them, which metadata blocks
 * and data units are referenced and how often.  It then compares that
 * model with what is recorded (bitmaps, counters, link counts, the
 * refcount tree) and notes each problem together with its fix.  With
 * REPAIR the fixes are applied in transactions, and another pass runs:
 * some repairs have consequences only the next pass can see (a rebuilt
 * tree leaves its old node blocks behind, an inode relinked into
 * /lost+found needs its link count set), so passes repeat until one is
 * clean, no repair was possible, or a pass limit is hit.
 *
 * Memory is proportional to the metadata in use: per inode a small record,
 * per extent 32 bytes, per metadata block a hash-map slot.  Data units are
 * never represented one by one: reference counts are computed by a sweep
 * over the sorted extents, and bitmaps are compared range by range.
 *
 * The jobs, one file each (fsck_int.h holds what they share):
 *   fsck.c       the entry: superblock and journal, the pass loop, reporting
 *   walk.c       the walk: every tree node and inode reached, from the root,
 *                the orphan list and the unreachable in-use blocks
 *   namespace.c  directories (entries, names, hashes) and link counts,
 *                entry counts, parents and orphan flags
 *   space.c      extents and refcount records, reference counts, bitmaps
 *                and the superblock's counters
 *   repair.c     the repairs, in transactions
 * Tree records are decoded by the codec in src/format/record.c, the one
 * the library uses, so the two cannot disagree about a damaged record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck/fsck_int.h"

#define FK_MAX_PASSES 5

/* ------------------------------------------------------------ reporting */

void DXL_PRINTF(2, 3) fk_say(struct ck *ck, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ck->report)
		ck->report(ck->arg, msg);
}

/* ------------------------------------------------------------ record fixes */

static int fix_cmp(const void *a, const void *b)
{
	const struct fix *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

const struct fix *fk_find_fix(const struct ck *ck, uint64_t ino, uint64_t key)
{
	struct fix k;
	k.ino = ino;
	k.key = key;
	if (!ck->fixes.n)
		return NULL; /* bsearch/qsort must not get a NULL array, even empty */
	return bsearch(&k, ck->fixes.v, ck->fixes.n, sizeof(struct fix), fix_cmp);
}

struct fix *fk_add_fix(struct ck *ck, uint64_t ino, uint64_t key, int kind)
{
	struct fix *f = fk_vec_push(&ck->fixes, sizeof(*f));
	if (!f) {
		oom(ck);
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->ino = ino;
	f->key = key;
	f->kind = kind;
	return f;
}

/* ------------------------------------------------------------ geometry */

/* The geometry decides every address fsck computes, so check it before
 * anything else: dxl_sb_verify() did, but a wild pointer here would crash
 * fsck on exactly the images it exists for, so check again locally. */
static int geometry_ok(struct ck *ck)
{
	const struct dxl_sb *sb = ck->sb;
	uint64_t nblk = ck->size >> DXL_BLOCK_SHIFT;
	uint64_t unit;

	if (sb->unit_shift < DXL_BLOCK_SHIFT || sb->unit_shift > 40)
		return 0;
	unit = 1ull << sb->unit_shift;
#define RANGE_OK(b, n) ((b) >= 1 && (n) <= nblk && (b) <= nblk - (n))
	if (!RANGE_OK(sb->mbitmap_blk, sb->mbitmap_blocks) ||
	    !RANGE_OK(sb->dbitmap_blk, sb->dbitmap_blocks) ||
	    !RANGE_OK(sb->meta_blk, sb->meta_blocks) ||
	    !RANGE_OK(sb->journal_blk, sb->journal_blocks))
		return 0;
#undef RANGE_OK
	if (sb->meta_blocks > sb->mbitmap_blocks * DXL_BLOCK_SIZE * 8ull ||
	    sb->data_units > sb->dbitmap_blocks * DXL_BLOCK_SIZE * 8ull)
		return 0;
	if (sb->data_off % unit || sb->data_off > ck->size ||
	    sb->data_units > (ck->size - sb->data_off) >> sb->unit_shift)
		return 0;
	if (!in_meta(ck, sb->root_ino) || sb->refc_blk == 0 || sb->refc_blk >= nblk)
		return 0;
	return 1;
}

/* ------------------------------------------------------------ one pass */

static void pass_free(struct ck *ck)
{
	for (size_t i = 0; i < ck->inf.n; i++)
		free(INF(ck, (uint32_t)i)->name);
	fk_map_free(&ck->metaset);
	fk_map_free(&ck->imap);
	fk_vec_free(&ck->inf);
	fk_vec_free(&ck->xents);
	fk_vec_free(&ck->refcs);
	fk_vec_free(&ck->runs);
	fk_vec_free(&ck->fixes);
	fk_vec_free(&ck->crcblks);
	fk_vec_free(&ck->queue);
	fk_vec_free(&ck->lostroots);
}

static int check_pass(struct ck *ck)
{
	const struct dxl_sb *sb = ck->sb;
	int bad, rc;

	ck->lf_idx = NO_IDX;
	uint32_t ridx = fk_get_inode(ck, sb->root_ino, &bad);
	if (ck->oom)
		return -ENOMEM;
	if (ridx == NO_IDX || !S_ISDIR(inode_at(ck, sb->root_ino)->mode)) {
		PROBLEM(ck, "root inode %llu is damaged or not a directory: cannot check the tree",
			ull(sb->root_ino));
		return -EUCLEAN;
	}
	INF(ck, ridx)->flags |= I_LINKED | I_QUEUED;
	INF(ck, ridx)->parent_found = sb->root_ino;
	if ((rc = push_u32(ck, &ck->queue, ridx)) != 0 || (rc = fk_drain_queue(ck)) != 0)
		return rc;
	if ((rc = fk_check_orphans(ck)) != 0)
		return rc;
	if ((rc = fk_check_refc_tree(ck)) != 0)
		return rc;
	if ((rc = fk_find_lost(ck)) != 0)
		return rc;
	if ((rc = fk_check_space(ck)) != 0)
		return rc;
	fk_check_inode_fields(ck);
	fk_check_counters(ck);
	if (ck->fixes.n)
		qsort(ck->fixes.v, ck->fixes.n, sizeof(struct fix), fix_cmp);
	return ck->oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ superblock */

/*
 * Before the file system is opened: the primary superblock must be valid
 * for dxl_fs_open() to work at all.  If it is not, the backup (last block
 * of the store) gives the geometry; with REPAIR it replaces the primary,
 * with live fields reset for the passes to recompute.
 */
static int check_superblock(struct ck *ck, const char *path)
{
	struct dxl_pmem pm;
	char why[512];
	int rc = dxl_pmem_open(path, 0, ck->repair ? 0 : DXL_PMEM_RDONLY, &pm);
	if (rc)
		return rc;
	if (pm.size < 2 * DXL_BLOCK_SIZE) {
		uint64_t size = pm.size; /* close clears pm */
		dxl_pmem_close(&pm);
		PROBLEM(ck, "the store is too small (%llu bytes) to hold a pool", ull(size));
		return -EUCLEAN;
	}
	if (dxl_sb_verify((const struct dxl_sb *)pm.base, pm.size) == 0) {
		dxl_pmem_close(&pm);
		return 0;
	}
	snprintf(why, sizeof(why), "%s", dxl_errmsg());
	PROBLEM(ck, "primary superblock is damaged (%s)", why);
	uint64_t boff = DXL_ALIGN_DOWN(pm.size, DXL_BLOCK_SIZE) - DXL_BLOCK_SIZE;
	const struct dxl_sb *b = (const struct dxl_sb *)(pm.base + boff);
	if (dxl_sb_verify(b, pm.size) != 0 || b->pool_size - DXL_BLOCK_SIZE != boff) {
		fk_say(ck, "the backup superblock at byte %llu is not usable either (%s)", ull(boff),
		    dxl_errmsg());
		dxl_pmem_close(&pm);
		return -EUCLEAN;
	}
	if (!ck->repair) {
		fk_say(ck, "the backup superblock is valid: run with repair to restore the primary");
		dxl_pmem_close(&pm);
		return -EUCLEAN;
	}
	uint8_t blk[DXL_BLOCK_SIZE];
	memcpy(blk, b, DXL_BLOCK_SIZE);
	struct dxl_sb *nsb = (struct dxl_sb *)blk;
	/* live fields are only in the primary: the passes recompute them; the
	 * orphan list is lost, its members come back as unlinked inodes */
	nsb->orphan_head = 0;
	nsb->free_units = 0;
	nsb->free_meta = 0;
	nsb->inodes = 0;
	dxl_sb_set_crc(nsb);
	dxl_pmem_memcpy(&pm, pm.base, blk, DXL_BLOCK_SIZE);
	dxl_pmem_drain(&pm);
	dxl_pmem_close(&pm);
	REPAIRED(ck, "primary superblock restored from the backup");
	return 0;
}

/* ------------------------------------------------------------ entry */

static int fsck_run(const char *path, unsigned flags, dxl_fsck_report_fn report, void *arg,
		    struct dxl_fsck_result *res);

int(dxl_fsck)(const char *path, unsigned flags, dxl_fsck_report_fn report, void *arg,
	      struct dxl_fsck_result *user_res, size_t res_size)
{
	struct dxl_fsck_result full = { 0 };
	int rc;

	if (user_res && (rc = dxl_struct_size_ok(res_size, DXL_FSCK_RESULT_SIZE_VER0, "fsck result")))
		return rc;
	rc = fsck_run(path, flags, report, arg, &full);
	/* the counts are the caller's even when problems remain */
	if (user_res)
		dxl_struct_out(user_res, res_size, &full, sizeof(full));
	return rc;
}

static int fsck_run(const char *path, unsigned flags, dxl_fsck_report_fn report, void *arg,
		    struct dxl_fsck_result *res)
{
	struct ck ck;
	struct dxl_fs *fs;
	int rc, last_problems = 0;

	if (!path)
		return dxl_err(EINVAL, "fsck: no pool path");
	memset(res, 0, sizeof(*res));
	memset(&ck, 0, sizeof(ck));
	ck.repair = !!(flags & DXL_FSCK_REPAIR);
	ck.flags = flags;
	ck.report = report;
	ck.arg = arg;
	ck.res = res;

	rc = check_superblock(&ck, path);
	res->problems += ck.problems;
	res->repaired += ck.repaired;
	if (rc == -EUCLEAN)
		return dxl_err(EUCLEAN, "%s: the superblock is damaged%s", path,
			       ck.repair ? " and the backup is not usable" : " (repair can restore it)");
	if (rc)
		return rc;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return dxl_err(ENOMEM, "fsck: out of memory");
	/* NORECOVER: a plain open also reaps the orphan list, which on a
	 * damaged pool could free a live file before we look (or fail the
	 * open).  The journal is replayed below instead: that is recovery, not
	 * repair — without it a committed but unapplied transaction would look
	 * like damage. */
	rc = dxl_fs_open(fs, path, DXL_FS_NORECOVER);
	if (rc) {
		fk_say(&ck, "cannot open the pool: %s", dxl_errmsg());
		res->problems++;
		free(fs);
		return rc;
	}
	rc = dxl_fs_lock(fs);
	if (rc < 0) {
		dxl_fs_close(fs);
		free(fs);
		return rc;
	}
	int jcounted = 0;
	rc = dxl_journal_recover(&fs->j, &fs->pm, fs->sb);
	if (rc == -EUCLEAN) {
		jcounted = 1;
		/* A header checksum matched but a record would write where
		 * no transaction may (recover checks all before applying any,
		 * so nothing was applied).  Replay can never resolve that: with
		 * repair the transaction is discarded and the pool is checked
		 * as it stands. */
		PROBLEM((&ck), "journal: the committed transaction cannot be replayed (%s)",
			dxl_errmsg());
		res->problems++;
		if (ck.repair && !fs->pm.rdonly) {
			for (unsigned k = 0; k < DXL_JSLOTS; k++)
				dxl_jslot_clear(&fs->pm, fs->sb, k);
			dxl_pmem_drain(&fs->pm);
			REPAIRED((&ck), "journal: the damaged transaction was discarded");
			res->repaired++;
			rc = 0;
			jcounted = 0;
		}
	}
	if (rc == 0 && (rc = dxl_sb_verify(fs->sb, fs->pm.size)) != 0)
		fk_say(&ck, "superblock is damaged after journal replay: %s", dxl_errmsg());
	else if (rc && !jcounted)
		fk_say(&ck, "journal replay failed: %s", dxl_errmsg());
	if (rc) {
		if (!jcounted)
			res->problems++; /* the journal case was counted above */
		dxl_fs_unlock(fs);
		dxl_fs_close(fs);
		free(fs);
		return rc;
	}
	ck.fs = fs;
	ck.sb = fs->sb;
	ck.base = fs->pm.base;
	ck.size = fs->pm.size;
	if (!geometry_ok(&ck)) {
		ck.problems = 1;
		fk_say(&ck, "superblock geometry does not fit the %llu-byte store", ull(ck.size));
		res->problems++;
		rc = -EUCLEAN;
		goto out;
	}

	for (int pass = 1; pass <= FK_MAX_PASSES; pass++) {
		ck.problems = ck.repaired = 0;
		ck.oom = 0;
		ck.refc_bad = ck.orphan_bad = 0;
		ck.fix_dbitmap = ck.fix_mbitmap = ck.fix_counters = 0;
		ck.max_gen = ck.ninodes = ck.units_used = ck.shared_units = 0;
		ck.dirs = ck.files = ck.extents = 0;
		if (pass > 1 && (flags & DXL_FSCK_VERBOSE))
			fk_say(&ck, "pass %d: checking again after repairs", pass);
		rc = check_pass(&ck);
		res->problems += ck.problems;
		res->inodes = ck.ninodes;
		res->dirs = ck.dirs;
		res->files = ck.files;
		res->extents = ck.extents;
		res->shared_units = ck.shared_units;
		last_problems = ck.problems != 0;
		if (rc == 0 && ck.problems && ck.repair && pass < FK_MAX_PASSES) {
			rc = fk_repair_pass(&ck);
			res->repaired += ck.repaired;
			pass_free(&ck);
			if (rc == 0 && ck.repaired)
				continue;
			if (rc == 0)
				fk_say(&ck, "nothing more can be repaired safely");
			break;
		}
		pass_free(&ck);
		break;
	}
	if (flags & DXL_FSCK_VERBOSE)
		fk_say(&ck, "%llu inodes (%llu directories, %llu files), %llu extents, %llu shared units",
		    ull(res->inodes), ull(res->dirs), ull(res->files), ull(res->extents),
		    ull(res->shared_units));
	if (rc == 0 && last_problems)
		rc = -EUCLEAN;
out:
	if (rc == -EUCLEAN)
		dxl_err(EUCLEAN, "%s: %llu problem%s found, %llu repaired; the pool is not clean",
			path, ull(res->problems), res->problems == 1 ? "" : "s", ull(res->repaired));
	pass_free(&ck);
	dxl_fs_unlock(fs);
	dxl_fs_close(fs);
	free(fs);
	return rc;
}
