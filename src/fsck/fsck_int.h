/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck internals: the state of a pass (struct ck) and what the files of
 * src/fsck share (fsck.c says which job each file has).  Not a public
 * interface; everything exported here is named fk_*.
 */
#ifndef DXL_FSCK_INT_H
#define DXL_FSCK_INT_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "daxlease/daxlease.h"
#include "fs/fs.h"
#include "fsck/fsck_util.h"

/* iinfo.flags */
#define I_VALID 0x001u   /* structurally a good inode */
#define I_SEEN 0x002u    /* walked (its tree checked) */
#define I_LINKED 0x004u  /* some directory entry points at it */
#define I_ORPHAN 0x008u  /* on the orphan list */
#define I_LOST 0x010u    /* not reachable: to be relinked in /lost+found */
#define I_TOORPH 0x020u  /* not reachable, nlink 0: to go on the orphan list */
#define I_DAMAGED 0x040u /* its tree has damaged nodes: rebuild from good records */
#define I_QUEUED 0x080u  /* directory waiting in the walk queue */

/* metadata block kinds in the ownership map */
enum { K_INODE = 1, K_NODE = 2, K_REFC = 3 };

/* record fixes */
enum { F_DREMOVE = 1, F_DRETYPE, F_DREKEY, F_XDROP, F_XFLAGS };

struct iinfo {
	uint64_t ino;
	uint64_t parent_found;  /* directory whose entry links this directory */
	uint64_t nentries_found;
	uint64_t nunits_found;
	uint32_t links;         /* entries pointing at it */
	uint32_t subdirs;       /* directories: linked subdirectories */
	uint32_t flags;
	char *name;             /* directories: name in the parent (for paths) */
};

struct xent {                   /* one extent, for the ownership sweep */
	uint64_t phys, fu, ino;
	uint32_t len, flags;
};

struct rrec {                   /* a refcount record or a computed run */
	uint64_t start, len, count;
};

struct fix {
	uint64_t ino, key;
	int kind;
	uint32_t arg;           /* new type / new flags */
	uint8_t name_len;
	char name[DXL_NAME_MAX + 1];
};

struct ck {
	struct dxl_fs *fs;
	const struct dxl_sb *sb;
	uint8_t *base;
	uint64_t size;
	int repair;
	unsigned flags;
	dxl_fsck_report_fn report;
	void *arg;
	struct dxl_fsck_result *res;
	uint64_t problems;      /* this pass */
	int quiet;              /* re-walking for a rebuild: problems already reported */
	uint64_t repaired;      /* this pass */
	int oom;

	struct fk_map metaset;  /* claimed metadata block -> kind */
	struct fk_map imap;     /* ino -> index in inf */
	struct fk_vec inf;      /* struct iinfo */
	struct fk_vec xents;    /* struct xent */
	struct fk_vec refcs;    /* struct rrec: refcount records found */
	struct fk_vec runs;     /* struct rrec: computed reference runs */
	struct fk_vec fixes;    /* struct fix */
	struct fk_vec crcblks;  /* uint64_t: blocks whose checksum only is wrong */
	struct fk_vec queue;    /* uint32_t: directories to walk */
	struct fk_vec lostroots;/* uint32_t */
	int refc_bad;           /* refcount tree must be rebuilt */
	int orphan_bad;         /* orphan list must be rebuilt */
	uint32_t lf_idx;        /* /lost+found, if found (UINT32_MAX if not) */
	uint64_t max_gen;
	uint64_t ninodes;
	uint64_t units_used, shared_units;
	uint64_t dirs, files, extents;
	/* fixes decided by the comparisons, applied by repair */
	int fix_dbitmap, fix_mbitmap, fix_counters;
};

#define INF(ck, i) (&((struct iinfo *)(ck)->inf.v)[i])
#define NO_IDX UINT32_MAX

/* ------------------------------------------------------------ reporting (fsck.c) */

void DXL_PRINTF(2, 3) fk_say(struct ck *ck, const char *fmt, ...);
/* A problem found: reported and counted. */
#define PROBLEM(ck, ...) ((ck)->quiet ? (void)0 : ((ck)->problems++, fk_say(ck, __VA_ARGS__)))
/* A repair made. */
#define REPAIRED(ck, ...) (ck->repaired++, fk_say(ck, "repaired: " __VA_ARGS__))

static inline int oom(struct ck *ck)
{
	ck->oom = 1;
	return -ENOMEM;
}

static inline unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* ------------------------------------------------------------ image access */

/* Is blk inside the metadata region (and so inside the mapping: the
 * geometry was checked against the store size before any pass)? */
static inline int in_meta(const struct ck *ck, uint64_t blk)
{
	return blk >= ck->sb->meta_blk && blk - ck->sb->meta_blk < ck->sb->meta_blocks;
}

static inline const uint8_t *blkp(const struct ck *ck, uint64_t blk)
{
	return ck->base + (blk << DXL_BLOCK_SHIFT);
}

static inline const uint8_t *mbitmap(const struct ck *ck)
{
	return blkp(ck, ck->sb->mbitmap_blk);
}

static inline const uint8_t *dbitmap(const struct ck *ck)
{
	return blkp(ck, ck->sb->dbitmap_blk);
}

static inline int meta_bit(const struct ck *ck, uint64_t blk)
{
	return fk_bm_get(mbitmap(ck), blk - ck->sb->meta_blk);
}

static inline const struct dxl_inode *inode_at(const struct ck *ck, uint64_t ino)
{
	return (const struct dxl_inode *)blkp(ck, ino);
}

static inline uint32_t mode_dtype(uint32_t mode)
{
	return dxl_fmt_dt_of(mode);
}

static inline int push_u64(struct ck *ck, struct fk_vec *v, uint64_t x)
{
	uint64_t *p = fk_vec_push(v, sizeof(*p));
	if (!p)
		return oom(ck);
	*p = x;
	return 0;
}

static inline int push_u32(struct ck *ck, struct fk_vec *v, uint32_t x)
{
	uint32_t *p = fk_vec_push(v, sizeof(*p));
	if (!p)
		return oom(ck);
	*p = x;
	return 0;
}

/* Record fixes, sorted by (ino, key) at the end of a pass (fsck.c). */
struct fix *fk_add_fix(struct ck *ck, uint64_t ino, uint64_t key, int kind);
const struct fix *fk_find_fix(const struct ck *ck, uint64_t ino, uint64_t key);

/* ------------------------------------------------------------ walk (walk.c) */

typedef int (*fk_rec_fn)(struct ck *ck, void *arg, uint64_t key, const uint8_t *val,
		      uint32_t vlen);
int fk_walk_tree(struct ck *ck, const struct dxl_broot *root, const char *what, int do_claim,
		 fk_rec_fn cb, void *arg, int *damaged);
int fk_claim(struct ck *ck, uint64_t blk, int kind);
uint32_t fk_get_inode(struct ck *ck, uint64_t ino, int *bad);
int fk_check_file(struct ck *ck, uint32_t idx, const char *path);
int fk_drain_queue(struct ck *ck);
int fk_check_orphans(struct ck *ck);
int fk_find_lost(struct ck *ck);

/* ------------------------------------------------------------ namespace (namespace.c) */

int fk_check_dir(struct ck *ck, uint32_t idx);
struct want {
	int nlink_fix, nentries_fix, nunits_fix, parent_fix;
	uint32_t nlink;
	uint64_t nentries, nunits, parent;
};
void fk_inode_wants(struct ck *ck, uint32_t idx, struct want *w);
void fk_check_inode_fields(struct ck *ck);

/* ------------------------------------------------------------ space (space.c) */

struct xctx {
	uint32_t idx;
	const char *path;
	uint64_t prev_end;
	uint64_t nunits;
	int have_prev;
};
int fk_extent_ok(struct ck *ck, struct xctx *x, uint64_t key, const uint8_t *val,
		 uint32_t vlen, struct dxl_extent *out, const char **why);
int fk_extent_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen);
int fk_check_refc_tree(struct ck *ck);
struct rep;
/* Compare a bitmap with what is in use: report with report, set the bits
 * in the repair tx when given. */
void fk_dbitmap_ranges(struct ck *ck, int report, struct rep *tx);
int fk_mbitmap_ranges(struct ck *ck, int report, struct rep *tx);
int fk_check_space(struct ck *ck);
void fk_check_counters(struct ck *ck);

/* ------------------------------------------------------------ repair (repair.c) */

/* A repair in progress: the transaction (rolled over when it fills up). */
struct rep {
	struct ck *ck;
	struct dxl_tx *tx;
	int err;
};
void fk_set_bits(struct rep *r, uint64_t bm_blk, uint64_t from, uint64_t to, int val);
int fk_repair_pass(struct ck *ck);

#endif
