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
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daxlease/daxlease.h"
#include "fs/fs.h"
#include "fsck/fsck_util.h"

#define FK_MAX_PASSES 5

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

/* ------------------------------------------------------------ reporting */

static void DXL_PRINTF(2, 3) say(struct ck *ck, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ck->report)
		ck->report(ck->arg, msg);
}

/* A problem found: reported and counted. */
#define PROBLEM(ck, ...) ((ck)->quiet ? (void)0 : ((ck)->problems++, say(ck, __VA_ARGS__)))
/* A repair made. */
#define REPAIRED(ck, ...) (ck->repaired++, say(ck, "repaired: " __VA_ARGS__))

static int oom(struct ck *ck)
{
	ck->oom = 1;
	return -ENOMEM;
}

static inline unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* "unit 7" or "units 7-9": a range [a, b) in words. */
struct rng {
	char s[64];
};
static struct rng range_str(const char *what, uint64_t a, uint64_t b)
{
	struct rng r;
	if (b - a == 1)
		snprintf(r.s, sizeof(r.s), "%s %llu", what, ull(a));
	else
		snprintf(r.s, sizeof(r.s), "%ss %llu-%llu", what, ull(a), ull(b - 1));
	return r;
}

/* ------------------------------------------------------------ image access */

/* Is blk inside the metadata region (and so inside the mapping: the
 * geometry was checked against the store size before any pass)? */
static int in_meta(const struct ck *ck, uint64_t blk)
{
	return blk >= ck->sb->meta_blk && blk - ck->sb->meta_blk < ck->sb->meta_blocks;
}

static const uint8_t *blkp(const struct ck *ck, uint64_t blk)
{
	return ck->base + (blk << DXL_BLOCK_SHIFT);
}

static const uint8_t *mbitmap(const struct ck *ck)
{
	return blkp(ck, ck->sb->mbitmap_blk);
}

static const uint8_t *dbitmap(const struct ck *ck)
{
	return blkp(ck, ck->sb->dbitmap_blk);
}

static int meta_bit(const struct ck *ck, uint64_t blk)
{
	return fk_bm_get(mbitmap(ck), blk - ck->sb->meta_blk);
}

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

/* Claim a metadata block for the ownership check: 1 = first claim,
 * 0 = already claimed (reported by the caller), <0 = out of memory. */
static int claim(struct ck *ck, uint64_t blk, int kind)
{
	int r = fk_map_put(&ck->metaset, blk, (uint32_t)kind);
	if (r < 0)
		return oom(ck);
	return r;
}

static int push_u64(struct ck *ck, struct fk_vec *v, uint64_t x)
{
	uint64_t *p = fk_vec_push(v, sizeof(*p));
	if (!p)
		return oom(ck);
	*p = x;
	return 0;
}

static int push_u32(struct ck *ck, struct fk_vec *v, uint32_t x)
{
	uint32_t *p = fk_vec_push(v, sizeof(*p));
	if (!p)
		return oom(ck);
	*p = x;
	return 0;
}

static struct fix *add_fix(struct ck *ck, uint64_t ino, uint64_t key, int kind)
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

static int fix_cmp(const void *a, const void *b)
{
	const struct fix *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

static const struct fix *find_fix(const struct ck *ck, uint64_t ino, uint64_t key)
{
	struct fix k;
	k.ino = ino;
	k.key = key;
	if (!ck->fixes.n)
		return NULL; /* bsearch/qsort must not get a NULL array, even empty */
	return bsearch(&k, ck->fixes.v, ck->fixes.n, sizeof(struct fix), fix_cmp);
}

/* ------------------------------------------------------------ inodes */

static const struct dxl_inode *inode_at(const struct ck *ck, uint64_t ino)
{
	return (const struct dxl_inode *)blkp(ck, ino);
}

static int mode_known(uint32_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode);
}

static uint32_t mode_dtype(uint32_t mode)
{
	return S_ISDIR(mode) ? DT_DIR : S_ISLNK(mode) ? DT_LNK : DT_REG;
}

/*
 * The info record of inode ino, creating it (and checking the inode) on
 * first sight.  Returns the index, or NO_IDX when ino is not a usable
 * inode (reported once per caller context by the caller) or on ENOMEM.
 * *bad is set when the block is not a valid inode.
 */
static uint32_t get_inode(struct ck *ck, uint64_t ino, int *bad)
{
	long slot = fk_map_find(&ck->imap, ino);
	*bad = 0;
	if (slot >= 0) {
		uint32_t idx = ck->imap.vals[slot];
		if (!(INF(ck, idx)->flags & I_VALID)) {
			*bad = 1;
			return NO_IDX;
		}
		return idx;
	}
	if (!in_meta(ck, ino)) {
		*bad = 1;
		return NO_IDX;
	}
	const struct dxl_inode *in = inode_at(ck, ino);
	int valid = in->magic == DXL_INODE_MAGIC && dxl_inode_verify(in, ino, 0) == 0 &&
		    mode_known(in->mode);
	struct iinfo *ii = fk_vec_push(&ck->inf, sizeof(*ii));
	if (!ii) {
		oom(ck);
		return NO_IDX;
	}
	memset(ii, 0, sizeof(*ii));
	ii->ino = ino;
	ii->flags = valid ? I_VALID : 0;
	uint32_t idx = (uint32_t)(ck->inf.n - 1);
	if (fk_map_put(&ck->imap, ino, idx) < 0) {
		oom(ck);
		return NO_IDX;
	}
	if (!valid) {
		*bad = 1;
		return NO_IDX;
	}
	if (claim(ck, ino, K_INODE) == 0)
		PROBLEM(ck, "block %llu is an inode but is also used as a tree node", ull(ino));
	if (dxl_inode_verify(in, ino, 1) != 0) {
		PROBLEM(ck, "inode %llu: checksum does not match its contents", ull(ino));
		push_u64(ck, &ck->crcblks, ino);
	}
	if (in->gen > ck->max_gen)
		ck->max_gen = in->gen;
	ck->ninodes++;
	return idx;
}

/* "/a/b" for a directory, from the names recorded on the way down. */
static void dir_path(struct ck *ck, uint32_t idx, char *buf, size_t size)
{
	const char *names[256];
	int n = 0;
	uint32_t cur = idx;
	while (n < 256) {
		struct iinfo *ii = INF(ck, cur);
		if (ii->ino == ck->sb->root_ino || !ii->name || !ii->parent_found)
			break;
		names[n++] = ii->name;
		long s = fk_map_find(&ck->imap, ii->parent_found);
		if (s < 0)
			break;
		cur = ck->imap.vals[s];
	}
	size_t len = 0;
	buf[0] = '\0';
	if (INF(ck, cur)->ino != ck->sb->root_ino)
		len = (size_t)snprintf(buf, size, "%s", INF(ck, cur)->flags & I_ORPHAN ? "(orphan)" : "(unlinked)");
	if (n == 0 && len == 0) {
		snprintf(buf, size, "/");
		return;
	}
	for (int i = n - 1; i >= 0 && len < size; i--)
		len += (size_t)snprintf(buf + len, size - len, "/%s", names[i]);
}

/* ------------------------------------------------------------ tree walk */

typedef int (*rec_fn)(struct ck *ck, void *arg, uint64_t key, const uint8_t *val,
		      uint32_t vlen);

struct frame {
	uint64_t blk;
	uint32_t off, cap;
	int level;              /* expected level, -1 for the root */
	uint64_t lo, hi;
	int has_hi;
};

/*
 * Walk a B+tree in key order with an explicit stack, verifying every node
 * before reading it.  A damaged node is reported and its subtree skipped;
 * *damaged tells the caller the tree should be rebuilt.  With do_claim the
 * node blocks are claimed for the ownership check (first walk of a pass).
 */
static int walk_tree(struct ck *ck, const struct dxl_broot *root, const char *what,
		     int do_claim, rec_fn cb, void *arg, int *damaged)
{
	struct fk_vec st = {0};
	struct frame *f;
	uint64_t prev = 0;
	int have_prev = 0, rc = 0;

	*damaged = 0;
	if (root->blk == 0 || root->blk >= (ck->size >> DXL_BLOCK_SHIFT) ||
	    root->off > DXL_BLOCK_SIZE ||
	    root->cap > DXL_BLOCK_SIZE - root->off) {
		PROBLEM(ck, "%s: tree root at block %llu is outside the store", what,
			ull(root->blk));
		*damaged = 1;
		return 0;
	}
	f = fk_vec_push(&st, sizeof(*f));
	if (!f)
		return oom(ck);
	*f = (struct frame){root->blk, root->off, root->cap, -1, 0, 0, 0};

	while (st.n && rc == 0) {
		struct frame fr = ((struct frame *)st.v)[--st.n];
		const uint8_t *p = blkp(ck, fr.blk) + fr.off;
		const struct dxl_node_hdr *h = (const struct dxl_node_hdr *)p;

		if (dxl_node_verify(p, fr.cap, 0) != 0) {
			PROBLEM(ck, "%s: tree node in block %llu is damaged (%s)", what, ull(fr.blk),
				dxl_errmsg());
			*damaged = 1;
			continue;
		}
		if (h->owner != root->owner || h->cap != fr.cap ||
		    (fr.level >= 0 && h->level != fr.level) || h->level > DXL_NODE_MAX_LEVEL) {
			PROBLEM(ck, "%s: tree node in block %llu has owner %llu level %u capacity %u,"
				" expected owner %llu level %d capacity %u", what, ull(fr.blk),
				ull(h->owner), h->level, h->cap, ull(root->owner), fr.level, fr.cap);
			*damaged = 1;
			continue;
		}
		if (dxl_node_verify(p, fr.cap, 1) != 0) {
			PROBLEM(ck, "%s: tree node in block %llu: checksum does not match", what,
				ull(fr.blk));
			if (do_claim)
				push_u64(ck, &ck->crcblks, fr.blk);
		}
		size_t hdrsz = sizeof(*h);
		if (h->level == 0) {
			const struct dxl_leaf_slot *s = (const struct dxl_leaf_slot *)(p + hdrsz);
			size_t slots_end = hdrsz + (size_t)h->nrecs * sizeof(*s);
			if (slots_end > fr.cap) {
				PROBLEM(ck, "%s: leaf in block %llu: %u records overflow the node", what,
					ull(fr.blk), h->nrecs);
				*damaged = 1;
				continue;
			}
			for (uint32_t i = 0; i < h->nrecs && rc == 0; i++) {
				struct dxl_leaf_slot sl;
				memcpy(&sl, &s[i], sizeof(sl));
				/* values must lie between the slot array and the node's end */
				if (sl.off < slots_end || (uint32_t)sl.off + sl.len > fr.cap) {
					PROBLEM(ck, "%s: leaf in block %llu: record %u points outside the node",
						what, ull(fr.blk), i);
					*damaged = 1;
					continue;
				}
				if ((have_prev && sl.key <= prev) || sl.key < fr.lo ||
				    (fr.has_hi && sl.key >= fr.hi)) {
					PROBLEM(ck, "%s: leaf in block %llu: key %llu out of order", what,
						ull(fr.blk), ull(sl.key));
					*damaged = 1;
					continue;
				}
				prev = sl.key;
				have_prev = 1;
				rc = cb(ck, arg, sl.key, p + sl.off, sl.len);
			}
		} else {
			const struct dxl_int_ent *e = (const struct dxl_int_ent *)(p + hdrsz);
			if (hdrsz + (size_t)h->nrecs * sizeof(*e) > fr.cap || h->nrecs == 0) {
				PROBLEM(ck, "%s: internal node in block %llu has a bad record count %u",
					what, ull(fr.blk), h->nrecs);
				*damaged = 1;
				continue;
			}
			/* push in reverse so that child 0 is visited first (key order) */
			for (int i = h->nrecs - 1; i >= 0; i--) {
				struct dxl_int_ent en, nx;
				memcpy(&en, &e[i], sizeof(en));
				int last = i == h->nrecs - 1;
				if (!last)
					memcpy(&nx, &e[i + 1], sizeof(nx));
				if ((!last && nx.key <= en.key) || en.key < fr.lo ||
				    (fr.has_hi && en.key >= fr.hi)) {
					PROBLEM(ck, "%s: internal node in block %llu: key %llu out of order",
						what, ull(fr.blk), ull(en.key));
					*damaged = 1;
					continue;
				}
				if (!in_meta(ck, en.child)) {
					PROBLEM(ck, "%s: internal node in block %llu points at block %llu,"
						" outside the metadata region", what, ull(fr.blk),
						ull(en.child));
					*damaged = 1;
					continue;
				}
				if (do_claim) {
					int c = claim(ck, en.child, K_NODE);
					if (c < 0) {
						rc = c;
						break;
					}
					if (c == 0) {
						PROBLEM(ck, "%s: tree node block %llu is already in use elsewhere",
							what, ull(en.child));
						*damaged = 1;
						continue;
					}
				}
				f = fk_vec_push(&st, sizeof(*f));
				if (!f) {
					rc = oom(ck);
					break;
				}
				*f = (struct frame){en.child, 0, DXL_BLOCK_SIZE, h->level - 1, en.key,
						    last ? fr.hi : nx.key, last ? fr.has_hi : 1};
			}
		}
	}
	fk_vec_free(&st);
	return rc;
}

/* ------------------------------------------------------------ files */

struct xctx {
	uint32_t idx;
	const char *path;
	uint64_t prev_end;
	uint64_t nunits;
	int have_prev;
};

/* Is this extent record well formed, given the previous good one? 0 = ok,
 * else why not (msg).  The record itself is judged by the codec the library
 * uses; unknown flags are not a reason to drop it (extent_cb clears them). */
static int extent_ok(struct ck *ck, struct xctx *x, uint64_t key, const uint8_t *val,
		     uint32_t vlen, struct dxl_extent *out, const char **why)
{
	struct dxl_rec_err err;
	if (dxl_extent_decode(ck->sb, key, val, vlen, out, &err) != 0 &&
	    err.fault != DXL_REC_FLAGS) {
		*why = err.why;
		return -1;
	}
	if (x->have_prev && key < x->prev_end) {
		*why = "overlaps the previous extent in the file";
		return -1;
	}
	return 0;
}

static int extent_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct xctx *x = arg;
	struct dxl_extent e;
	const char *why = NULL;
	uint64_t ino = INF(ck, x->idx)->ino;

	if (extent_ok(ck, x, key, val, vlen, &e, &why) != 0) {
		PROBLEM(ck, "inode %llu (%s): extent at file unit %llu %s", ull(ino), x->path,
			ull(key), why);
		return add_fix(ck, ino, key, F_XDROP) ? 0 : -ENOMEM;
	}
	x->prev_end = key + e.len;
	x->have_prev = 1;
	x->nunits += e.len;
	ck->extents++;
	if (e.flags & ~DXL_EXT_KNOWN) {
		PROBLEM(ck, "inode %llu (%s): extent at file unit %llu has unknown flags %#x",
			ull(ino), x->path, ull(key), e.flags);
		struct fix *f = add_fix(ck, ino, key, F_XFLAGS);
		if (!f)
			return -ENOMEM;
		f->arg = e.flags & DXL_EXT_SHARED;
		e.flags &= DXL_EXT_SHARED;
	}
	struct xent *xe = fk_vec_push(&ck->xents, sizeof(*xe));
	if (!xe)
		return oom(ck);
	*xe = (struct xent){e.phys, key, ino, e.len, e.flags};
	return 0;
}

/* Check a non-directory inode's own contents (once, when first reached). */
static int check_file(struct ck *ck, uint32_t idx, const char *path)
{
	uint64_t ino = INF(ck, idx)->ino;
	const struct dxl_inode *in = inode_at(ck, ino);
	INF(ck, idx)->flags |= I_SEEN;
	ck->files++;
	if (S_ISLNK(in->mode)) {
		if (in->size == 0 || in->size > DXL_SYMLINK_MAX)
			PROBLEM(ck, "inode %llu (%s): symlink of length %llu", ull(ino), path,
				ull(in->size));
		if (in->nunits)
			PROBLEM(ck, "inode %llu (%s): symlink maps %llu units", ull(ino), path,
				ull(in->nunits));
		return 0;
	}
	struct dxl_broot root;
	struct xctx x = {idx, path, 0, 0, 0};
	char what[64];
	int damaged = 0;
	dxl_inode_broot(ino, &root);
	snprintf(what, sizeof(what), "inode %llu extent map", ull(ino));
	int rc = walk_tree(ck, &root, what, 1, extent_cb, &x, &damaged);
	if (rc)
		return rc;
	if (damaged)
		INF(ck, idx)->flags |= I_DAMAGED;
	INF(ck, idx)->nunits_found = x.nunits;
	return 0;
}

/* ------------------------------------------------------------ directories */

struct dctx {
	uint32_t idx;           /* the directory */
	const char *path;
	uint64_t bucket;        /* hash bucket of the names below */
	struct fk_vec names;    /* char[256] of names in the current bucket */
};

static int dirent_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct dctx *d = arg;
	uint64_t dino = INF(ck, d->idx)->ino;
	struct dxl_rec_err err;
	struct dxl_dent rec;
	char name[DXL_NAME_MAX + 1];
	int bad;

	/* the codec the library uses (the value was bounds-checked by the
	 * walk); an unknown type is mended below like a wrong one */
	if (dxl_dirent_decode(val, vlen, &rec, &err) != 0 && err.fault != DXL_REC_TYPE) {
		PROBLEM(ck, "directory %llu (%s): entry with key %#llx %s", ull(dino), d->path,
			ull(key), err.why);
		return add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	memcpy(name, rec.name, rec.name_len);
	name[rec.name_len] = '\0';

	/* duplicate names can only be in the same hash bucket, which is
	 * consecutive in key order */
	if ((key & DXL_DIR_HASH_MASK) != d->bucket) {
		d->bucket = key & DXL_DIR_HASH_MASK;
		d->names.n = 0;
	}
	for (size_t i = 0; i < d->names.n; i++) {
		if (strcmp((char *)d->names.v + i * sizeof(name), name) == 0) {
			PROBLEM(ck, "directory %llu (%s): name \"%s\" appears twice", ull(dino),
				d->path, name);
			return add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
		}
	}
	char *slot = fk_vec_push(&d->names, sizeof(name));
	if (!slot)
		return oom(ck);
	memcpy(slot, name, sizeof(name));

	uint64_t child = rec.ino;
	uint32_t cidx = child == ck->sb->root_ino ? NO_IDX : get_inode(ck, child, &bad);
	if (ck->oom)
		return -ENOMEM;
	if (cidx == NO_IDX) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" points at %s %llu", ull(dino),
			d->path, name, child == ck->sb->root_ino ? "the root directory" : "a block that is not a valid inode:",
			ull(child));
		return add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	const struct dxl_inode *cin = inode_at(ck, child);
	if (S_ISDIR(cin->mode) && (INF(ck, cidx)->flags & I_LINKED)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" links directory %llu, which is"
			" already linked elsewhere", ull(dino), d->path, name, ull(child));
		return add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	if ((key & DXL_DIR_HASH_MASK) != (dxl_name_hash(name, rec.name_len) & DXL_DIR_HASH_MASK)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" is stored under the wrong hash key",
			ull(dino), d->path, name);
		struct fix *f = add_fix(ck, dino, key, F_DREKEY);
		if (!f)
			return -ENOMEM;
		f->name_len = rec.name_len;
		memcpy(f->name, name, rec.name_len + 1u);
	}
	if (rec.type != mode_dtype(cin->mode)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" has type %u but inode %llu has"
			" mode %#o", ull(dino), d->path, name, rec.type, ull(child), cin->mode);
		struct fix *f = add_fix(ck, dino, key, F_DRETYPE);
		if (!f)
			return -ENOMEM;
		f->arg = mode_dtype(cin->mode);
	}

	if (INF(ck, d->idx)->ino == ck->sb->root_ino && strcmp(name, "lost+found") == 0 &&
	    S_ISDIR(cin->mode))
		ck->lf_idx = cidx;
	INF(ck, d->idx)->nentries_found++;
	INF(ck, cidx)->links++;
	INF(ck, cidx)->flags |= I_LINKED;
	if (S_ISDIR(cin->mode)) {
		INF(ck, d->idx)->subdirs++;
		INF(ck, cidx)->parent_found = dino;
		free(INF(ck, cidx)->name);
		INF(ck, cidx)->name = strdup(name);
		if (!(INF(ck, cidx)->flags & (I_SEEN | I_QUEUED))) {
			INF(ck, cidx)->flags |= I_QUEUED;
			return push_u32(ck, &ck->queue, cidx);
		}
	} else if (!(INF(ck, cidx)->flags & I_SEEN)) {
		char path[DXL_PATH_MAX];
		snprintf(path, sizeof(path), "%s%s%s", d->path,
			 strcmp(d->path, "/") == 0 ? "" : "/", name);
		return check_file(ck, cidx, path);
	}
	return 0;
}

static int check_dir(struct ck *ck, uint32_t idx)
{
	char path[DXL_PATH_MAX];
	char what[64];
	struct dxl_broot root;
	struct dctx d = {idx, path, ~0ull, {0}};
	int damaged = 0;
	uint64_t ino = INF(ck, idx)->ino;

	INF(ck, idx)->flags |= I_SEEN;
	ck->dirs++;
	dir_path(ck, idx, path, sizeof(path));
	dxl_inode_broot(ino, &root);
	snprintf(what, sizeof(what), "directory %llu", ull(ino));
	int rc = walk_tree(ck, &root, what, 1, dirent_cb, &d, &damaged);
	fk_vec_free(&d.names);
	if (damaged)
		INF(ck, idx)->flags |= I_DAMAGED;
	return rc;
}

/* Walk every directory queued so far, breadth first (no recursion). */
static int drain_queue(struct ck *ck)
{
	for (size_t i = 0; i < ck->queue.n; i++) {
		uint32_t idx = ((uint32_t *)ck->queue.v)[i];
		if (INF(ck, idx)->flags & I_SEEN)
			continue;
		int rc = check_dir(ck, idx);
		if (rc)
			return rc;
	}
	ck->queue.n = 0;
	return 0;
}

/* Walk an inode that no directory reaches (orphan or lost). */
static int walk_root(struct ck *ck, uint32_t idx)
{
	if (INF(ck, idx)->flags & (I_SEEN | I_QUEUED))
		return 0;
	if (S_ISDIR(inode_at(ck, INF(ck, idx)->ino)->mode)) {
		INF(ck, idx)->flags |= I_QUEUED;
		int rc = push_u32(ck, &ck->queue, idx);
		return rc ? rc : drain_queue(ck);
	}
	return check_file(ck, idx, INF(ck, idx)->flags & I_ORPHAN ? "(orphan)" : "(unlinked)");
}

/* ------------------------------------------------------------ orphans, lost */

static int check_orphans(struct ck *ck)
{
	uint64_t ino = ck->sb->orphan_head;
	uint64_t steps = 0;
	int bad;

	while (ino) {
		/* a cycle cannot be longer than the number of metadata blocks */
		if (++steps > ck->sb->meta_blocks) {
			PROBLEM(ck, "orphan list does not end");
			ck->orphan_bad = 1;
			break;
		}
		uint32_t idx = get_inode(ck, ino, &bad);
		if (ck->oom)
			return -ENOMEM;
		if (idx == NO_IDX) {
			PROBLEM(ck, "orphan list: %llu is not a valid inode", ull(ino));
			ck->orphan_bad = 1;
			break;
		}
		if (INF(ck, idx)->flags & I_ORPHAN) {
			PROBLEM(ck, "orphan list: inode %llu appears twice (the list has a cycle)",
				ull(ino));
			ck->orphan_bad = 1;
			break;
		}
		INF(ck, idx)->flags |= I_ORPHAN;
		const struct dxl_inode *in = inode_at(ck, ino);
		if (in->nlink != 0) {
			PROBLEM(ck, "orphan list: inode %llu has link count %u, not 0", ull(ino),
				in->nlink);
			ck->orphan_bad = 1;
		}
		int rc = walk_root(ck, idx);
		if (rc)
			return rc;
		ino = in->orphan_next;
	}
	return 0;
}

/* In-use inodes that neither the tree nor the orphan list reaches: every
 * metadata block marked used that holds a valid inode. */
static int find_lost(struct ck *ck)
{
	const struct dxl_sb *sb = ck->sb;
	const uint8_t *bm = mbitmap(ck);
	struct fk_vec cand = {0};
	int bad, rc = 0;

	for (uint64_t i = fk_bm_next(bm, 0, sb->meta_blocks, 1); i < sb->meta_blocks;
	     i = fk_bm_next(bm, i + 1, sb->meta_blocks, 1)) {
		uint64_t blk = sb->meta_blk + i;
		if (inode_at(ck, blk)->magic != DXL_INODE_MAGIC)
			continue;
		long s = fk_map_find(&ck->imap, blk);
		if (s >= 0 && (INF(ck, ck->imap.vals[s])->flags & (I_SEEN | I_QUEUED)))
			continue;
		if (fk_map_find(&ck->metaset, blk) >= 0 &&
		    ck->metaset.vals[fk_map_find(&ck->metaset, blk)] != K_INODE)
			continue; /* a tree node that happens to look like an inode */
		uint32_t idx = get_inode(ck, blk, &bad);
		if (ck->oom) {
			rc = -ENOMEM;
			break;
		}
		if (idx != NO_IDX && (rc = push_u32(ck, &cand, idx)) != 0)
			break;
	}
	/* Directories first, from the top of each lost subtree (follow the
	 * parent fields while they lead to another lost directory), so that a
	 * lost subtree comes back whole under one /lost+found entry. */
	for (int round = 0; round < 2 && rc == 0; round++) {
		for (size_t k = 0; k < cand.n && rc == 0; k++) {
			uint32_t idx = ((uint32_t *)cand.v)[k];
			const struct dxl_inode *in = inode_at(ck, INF(ck, idx)->ino);
			if ((INF(ck, idx)->flags & (I_SEEN | I_QUEUED)) ||
			    (round == 0) != !!S_ISDIR(in->mode))
				continue;
			uint32_t top = idx;
			for (int hops = 0; round == 0 && hops < 4096; hops++) {
				uint64_t p = inode_at(ck, INF(ck, top)->ino)->parent;
				if (!in_meta(ck, p) || !meta_bit(ck, p) || p == INF(ck, top)->ino)
					break;
				uint32_t pidx = get_inode(ck, p, &bad);
				if (pidx == NO_IDX || pidx == idx ||
				    (INF(ck, pidx)->flags & (I_SEEN | I_QUEUED)) ||
				    !S_ISDIR(inode_at(ck, p)->mode))
					break;
				top = pidx;
			}
			const struct dxl_inode *tin = inode_at(ck, INF(ck, top)->ino);
			if (!S_ISDIR(tin->mode) && tin->nlink == 0) {
				PROBLEM(ck, "inode %llu has no links and is not on the orphan list",
					ull(INF(ck, top)->ino));
				INF(ck, top)->flags |= I_TOORPH;
				ck->orphan_bad = 1;
			} else {
				PROBLEM(ck, "inode %llu (%s) is in use but not linked from any directory",
					ull(INF(ck, top)->ino), S_ISDIR(tin->mode) ? "directory" : "file");
				INF(ck, top)->flags |= I_LOST;
				rc = push_u32(ck, &ck->lostroots, top);
			}
			if (!rc)
				rc = walk_root(ck, top);
		}
	}
	fk_vec_free(&cand);
	return rc;
}

/* ------------------------------------------------------------ refcount tree */

static int refc_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	uint64_t *prev_end = arg;
	struct dxl_rec_err err;
	struct dxl_refc r;
	if (dxl_refc_decode(ck->sb, key, val, vlen, &r, &err) != 0) {
		PROBLEM(ck, "refcount record at unit %llu (length %llu, count %llu) %s", ull(key),
			ull(r.len), ull(r.count), err.why);
		ck->refc_bad = 1;
		return 0;
	}
	if (key < *prev_end) {
		PROBLEM(ck, "refcount record at unit %llu (length %llu, count %llu) overlaps the"
			" previous one", ull(key), ull(r.len), ull(r.count));
		ck->refc_bad = 1;
		return 0;
	}
	*prev_end = key + r.len;
	struct rrec *rr = fk_vec_push(&ck->refcs, sizeof(*rr));
	if (!rr)
		return oom(ck);
	*rr = (struct rrec){key, r.len, r.count};
	return 0;
}

static int check_refc_tree(struct ck *ck)
{
	struct dxl_broot root;
	uint64_t prev_end = 0;
	int damaged = 0;
	dxl_refc_broot(ck->fs, &root);
	/* the root block is in the metadata region in every layout mkfs makes;
	 * if it were not, there is no bitmap bit to account for it */
	if (in_meta(ck, root.blk) && claim(ck, root.blk, K_REFC) == 0)
		PROBLEM(ck, "the refcount tree root block %llu is also used by an inode or node",
			ull(root.blk));
	int rc = walk_tree(ck, &root, "refcount tree", 1, refc_cb, &prev_end, &damaged);
	if (damaged)
		ck->refc_bad = 1;
	return rc;
}

/* ------------------------------------------------------------ data units */

struct ev {
	uint64_t pos;
	int64_t delta;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int xent_cmp(const void *a, const void *b)
{
	const struct xent *x = a, *y = b;
	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

/* Sweep the extents into runs of constant reference count (count >= 1). */
static int build_runs(struct ck *ck)
{
	size_t n = ck->xents.n;
	struct ev *ev = malloc((n ? n : 1) * 2 * sizeof(*ev));
	if (!ev)
		return oom(ck);
	const struct xent *xs = ck->xents.v;
	for (size_t i = 0; i < n; i++) {
		ev[2 * i] = (struct ev){xs[i].phys, 1};
		ev[2 * i + 1] = (struct ev){xs[i].phys + xs[i].len, -1};
	}
	if (n)
		qsort(ev, 2 * n, sizeof(*ev), ev_cmp);
	int64_t cnt = 0;
	for (size_t i = 0; i < 2 * n;) {
		uint64_t pos = ev[i].pos;
		while (i < 2 * n && ev[i].pos == pos)
			cnt += ev[i++].delta;
		if (i == 2 * n)
			break;
		uint64_t next = ev[i].pos;
		if (cnt <= 0 || next == pos)
			continue;
		struct rrec *last = ck->runs.n ? &((struct rrec *)ck->runs.v)[ck->runs.n - 1] : NULL;
		if (last && last->start + last->len == pos && last->count == (uint64_t)cnt) {
			last->len += next - pos;
		} else {
			struct rrec *r = fk_vec_push(&ck->runs, sizeof(*r));
			if (!r) {
				free(ev);
				return oom(ck);
			}
			*r = (struct rrec){pos, next - pos, (uint64_t)cnt};
		}
		ck->units_used += next - pos;
		if (cnt >= 2)
			ck->shared_units += next - pos;
	}
	free(ev);
	return 0;
}

/* Reference count of unit u in a sorted run list (0 if in no run), and the
 * first unit past u where it may change. */
static uint64_t count_at(const struct rrec *r, size_t n, size_t *cur, uint64_t u, uint64_t *next)
{
	while (*cur < n && r[*cur].start + r[*cur].len <= u)
		(*cur)++;
	if (*cur == n) {
		*next = ~0ull;
		return 0;
	}
	if (r[*cur].start > u) {
		*next = r[*cur].start;
		return 0;
	}
	*next = r[*cur].start + r[*cur].len;
	return r[*cur].count;
}

/* Compare the computed counts with the refcount tree: a unit referenced N
 * times (N >= 2) needs a record saying N; other units no record at all. */
static void compare_refcounts(struct ck *ck)
{
	const struct rrec *runs = ck->runs.v, *recs = ck->refcs.v;
	size_t ci = 0, ri = 0;
	uint64_t u = 0, end = ck->sb->data_units;
	while (u < end) {
		uint64_t n1, n2;
		uint64_t refs = count_at(runs, ck->runs.n, &ci, u, &n1);
		uint64_t have = count_at(recs, ck->refcs.n, &ri, u, &n2);
		uint64_t next = DXL_MIN(DXL_MIN(n1, n2), end);
		uint64_t want = refs < 2 ? 0 : refs;
		if (want != have) {
			if (have)
				PROBLEM(ck, "data %s: %llu reference%s but the refcount tree says %llu",
					range_str("unit", u, next).s, ull(refs), refs == 1 ? "" : "s",
					ull(have));
			else
				PROBLEM(ck, "data %s: shared by %llu extents but no refcount record",
					range_str("unit", u, next).s, ull(want));
			ck->refc_bad = 1;
		}
		u = next;
	}
}

/* Every extent over a shared unit must carry DXL_EXT_SHARED, or a write
 * through it would change the other owners' data in place. */
static int check_shared_flags(struct ck *ck)
{
	const struct rrec *runs = ck->runs.v;
	size_t nr = ck->runs.n;
	struct xent *xs = ck->xents.v;
	for (size_t i = 0; i < ck->xents.n; i++) {
		if (xs[i].flags & DXL_EXT_SHARED)
			continue;
		/* first run ending after phys */
		size_t lo = 0, hi = nr;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (runs[mid].start + runs[mid].len <= xs[i].phys)
				lo = mid + 1;
			else
				hi = mid;
		}
		int shared = 0;
		for (size_t k = lo; k < nr && runs[k].start < xs[i].phys + xs[i].len; k++)
			if (runs[k].count >= 2) {
				shared = 1;
				break;
			}
		if (!shared)
			continue;
		PROBLEM(ck, "inode %llu: extent at file unit %llu shares data units with another"
			" extent but is not marked shared", ull(xs[i].ino), ull(xs[i].fu));
		const struct fix *old = NULL;
		for (size_t k = 0; k < ck->fixes.n; k++) {
			struct fix *f = &((struct fix *)ck->fixes.v)[k];
			if (f->ino == xs[i].ino && f->key == xs[i].fu && f->kind == F_XFLAGS) {
				f->arg |= DXL_EXT_SHARED;
				old = f;
			}
		}
		if (!old) {
			struct fix *f = add_fix(ck, xs[i].ino, xs[i].fu, F_XFLAGS);
			if (!f)
				return -ENOMEM;
			f->arg = xs[i].flags | DXL_EXT_SHARED;
		}
	}
	return 0;
}

/* A repair in progress: the transaction (rolled over when it fills up). */
struct rep {
	struct ck *ck;
	struct dxl_tx *tx;
	int err;
};
static int rep_roll(struct rep *r);

/* Set or clear bits [from, to) of a bitmap starting at block bm_blk. */
static void set_bits(struct rep *r, uint64_t bm_blk, uint64_t from, uint64_t to, int val)
{
	struct ck *ck = r->ck;
	for (uint64_t i = from; i < to;) {
		uint64_t blk = bm_blk + (i >> (DXL_BLOCK_SHIFT + 3));
		uint64_t blk_end = ((i >> (DXL_BLOCK_SHIFT + 3)) + 1) << (DXL_BLOCK_SHIFT + 3);
		uint8_t *b = r->err ? NULL : dxl_tx_write(r->tx, blk);
		if (!b) {
			ck->oom = 1;
			return;
		}
		for (; i < to && i < blk_end; i++) {
			uint64_t bit = i & ((DXL_BLOCK_SIZE * 8) - 1);
			if (val)
				b[bit >> 3] |= (uint8_t)(1u << (bit & 7));
			else
				b[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
		}
		if (rep_roll(r) != 0) {
			ck->oom = 1;
			return;
		}
	}
}

/* Data bitmap against the references; with a repair r, set/clear the bits. */
static void dbitmap_ranges(struct ck *ck, int report, struct rep *tx)
{
	const uint8_t *bm = dbitmap(ck);
	const struct rrec *runs = ck->runs.v;
	uint64_t end = ck->sb->data_units, u = 0;
	for (size_t k = 0; k <= ck->runs.n; k++) {
		uint64_t rs = k < ck->runs.n ? runs[k].start : end;
		uint64_t re = k < ck->runs.n ? runs[k].start + runs[k].len : end;
		/* [u, rs) must be free */
		for (uint64_t a = fk_bm_next(bm, u, rs, 1); a < rs;) {
			uint64_t b = fk_bm_next(bm, a, rs, 0);
			if (report)
				PROBLEM(ck, "data %s marked used but no file uses it (leaked)",
					range_str("unit", a, b).s);
			if (tx)
				set_bits(tx, ck->sb->dbitmap_blk, a, b, 0);
			a = fk_bm_next(bm, b, rs, 1);
		}
		/* [rs, re) must be used */
		for (uint64_t a = fk_bm_next(bm, rs, re, 0); a < re;) {
			uint64_t b = fk_bm_next(bm, a, re, 1);
			if (report)
				PROBLEM(ck, "data %s used by a file but marked free",
					range_str("unit", a, b).s);
			if (tx)
				set_bits(tx, ck->sb->dbitmap_blk, a, b, 1);
			a = fk_bm_next(bm, b, re, 0);
		}
		u = re;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Metadata bitmap against the claimed blocks. */
static int mbitmap_ranges(struct ck *ck, int report, struct rep *tx)
{
	const struct dxl_sb *sb = ck->sb;
	const uint8_t *bm = mbitmap(ck);
	size_t n = 0;
	uint64_t *blks = malloc((ck->metaset.n ? ck->metaset.n : 1) * sizeof(*blks));
	if (!blks)
		return oom(ck);
	for (size_t i = 0; i < ck->metaset.cap; i++)
		if (ck->metaset.keys[i])
			blks[n++] = ck->metaset.keys[i] - sb->meta_blk;
	if (n)
		qsort(blks, n, sizeof(*blks), u64_cmp);
	uint64_t u = 0;
	for (size_t k = 0; k <= n; k++) {
		uint64_t b0 = k < n ? blks[k] : sb->meta_blocks;
		for (uint64_t a = fk_bm_next(bm, u, b0, 1); a < b0;) {
			uint64_t b = fk_bm_next(bm, a, b0, 0);
			if (report)
				PROBLEM(ck, "metadata %s marked used but nothing uses it (leaked)",
					range_str("block", sb->meta_blk + a, sb->meta_blk + b).s);
			if (tx)
				set_bits(tx, sb->mbitmap_blk, a, b, 0);
			a = fk_bm_next(bm, b, b0, 1);
		}
		if (k < n && !fk_bm_get(bm, b0)) {
			if (report)
				PROBLEM(ck, "metadata block %llu is in use but marked free",
					ull(sb->meta_blk + b0));
			if (tx)
				set_bits(tx, sb->mbitmap_blk, b0, b0 + 1, 1);
		}
		u = b0 + 1;
	}
	free(blks);
	return 0;
}

/* ------------------------------------------------------------ inode fields */

struct want {
	int nlink_fix, nentries_fix, nunits_fix, parent_fix;
	uint32_t nlink;
	uint64_t nentries, nunits, parent;
};

/* What the inode's bookkeeping fields should be. */
static void inode_wants(struct ck *ck, uint32_t idx, struct want *w)
{
	struct iinfo *ii = INF(ck, idx);
	const struct dxl_inode *in = inode_at(ck, ii->ino);
	memset(w, 0, sizeof(*w));
	if (S_ISDIR(in->mode)) {
		w->nlink = 2 + ii->subdirs;
		w->nentries = ii->nentries_found;
		/* a directory's size is its entry count (dir.c keeps both) */
		w->nentries_fix = in->nentries != ii->nentries_found || in->size != ii->nentries_found;
		if (ii->ino == ck->sb->root_ino)
			w->parent = ii->ino;
		else
			w->parent = ii->parent_found;
		/* a lost or orphaned directory gets its parent when relinked */
		w->parent_fix = (ii->flags & I_LINKED) && w->parent && in->parent != w->parent;
		w->parent_fix |= ii->ino == ck->sb->root_ino && in->parent != ii->ino;
		w->nlink_fix = in->nlink != w->nlink && !(ii->flags & I_ORPHAN && !(ii->flags & I_LINKED));
	} else {
		w->nlink = ii->links;
		/* a lost file keeps its count until it is relinked */
		w->nlink_fix = in->nlink != w->nlink && !(ii->flags & (I_LOST | I_TOORPH));
		if (S_ISREG(in->mode) && !(ii->flags & I_DAMAGED)) {
			w->nunits = ii->nunits_found;
			w->nunits_fix = in->nunits != ii->nunits_found;
		}
	}
}

static void check_inode_fields(struct ck *ck)
{
	for (size_t i = 0; i < ck->inf.n; i++) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		const struct dxl_inode *in = inode_at(ck, ii->ino);
		struct want w;
		inode_wants(ck, (uint32_t)i, &w);
		if (w.nlink_fix)
			PROBLEM(ck, "inode %llu: link count is %u, should be %u", ull(ii->ino),
				in->nlink, w.nlink);
		if (w.nentries_fix)
			PROBLEM(ck, "directory %llu: entry count is %llu and size %llu, both should be"
				" %llu", ull(ii->ino), ull(in->nentries), ull(in->size), ull(w.nentries));
		if (w.parent_fix)
			PROBLEM(ck, "directory %llu: parent is %llu, should be %llu", ull(ii->ino),
				ull(in->parent), ull(w.parent));
		if (w.nunits_fix)
			PROBLEM(ck, "inode %llu: records %llu mapped units, its extents map %llu",
				ull(ii->ino), ull(in->nunits), ull(w.nunits));
		int on_list = !!(ii->flags & I_ORPHAN);
		if (on_list && (ii->flags & I_LINKED)) {
			PROBLEM(ck, "inode %llu is on the orphan list but linked from a directory",
				ull(ii->ino));
			ck->orphan_bad = 1;
		}
		if (!!(in->flags & DXL_INODE_F_ORPHAN) != on_list) {
			PROBLEM(ck, "inode %llu: orphan flag is %s but the inode is %son the orphan list",
				ull(ii->ino), on_list ? "clear" : "set", on_list ? "" : "not ");
			ck->orphan_bad = 1;
		}
		if (in->gen >= ck->sb->next_gen && !ck->fix_counters) {
			PROBLEM(ck, "superblock: next generation %llu is not above inode %llu's %llu",
				ull(ck->sb->next_gen), ull(ii->ino), ull(in->gen));
			ck->fix_counters = 1;
		}
	}
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
	uint32_t ridx = get_inode(ck, sb->root_ino, &bad);
	if (ck->oom)
		return -ENOMEM;
	if (ridx == NO_IDX || !S_ISDIR(inode_at(ck, sb->root_ino)->mode)) {
		PROBLEM(ck, "root inode %llu is damaged or not a directory: cannot check the tree",
			ull(sb->root_ino));
		return -EUCLEAN;
	}
	INF(ck, ridx)->flags |= I_LINKED | I_QUEUED;
	INF(ck, ridx)->parent_found = sb->root_ino;
	if ((rc = push_u32(ck, &ck->queue, ridx)) != 0 || (rc = drain_queue(ck)) != 0)
		return rc;
	if ((rc = check_orphans(ck)) != 0)
		return rc;
	if ((rc = check_refc_tree(ck)) != 0)
		return rc;
	if ((rc = find_lost(ck)) != 0)
		return rc;

	/* data ownership */
	if (ck->xents.n)
		qsort(ck->xents.v, ck->xents.n, sizeof(struct xent), xent_cmp);
	if ((rc = build_runs(ck)) != 0)
		return rc;
	compare_refcounts(ck);
	if ((rc = check_shared_flags(ck)) != 0)
		return rc;
	uint64_t before = ck->problems;
	dbitmap_ranges(ck, 1, NULL);
	ck->fix_dbitmap = ck->problems != before;
	before = ck->problems;
	if ((rc = mbitmap_ranges(ck, 1, NULL)) != 0)
		return rc;
	ck->fix_mbitmap = ck->problems != before;

	check_inode_fields(ck);

	/* counters */
	uint64_t free_units = sb->data_units - ck->units_used;
	uint64_t free_meta = sb->meta_blocks - ck->metaset.n;
	if (sb->free_units != free_units) {
		PROBLEM(ck, "superblock: free unit count is %llu, should be %llu",
			ull(sb->free_units), ull(free_units));
		ck->fix_counters = 1;
	}
	if (sb->free_meta != free_meta) {
		PROBLEM(ck, "superblock: free metadata block count is %llu, should be %llu",
			ull(sb->free_meta), ull(free_meta));
		ck->fix_counters = 1;
	}
	if (sb->inodes != ck->ninodes) {
		PROBLEM(ck, "superblock: inode count is %llu, should be %llu", ull(sb->inodes),
			ull(ck->ninodes));
		ck->fix_counters = 1;
	}
	if (ck->fixes.n)
		qsort(ck->fixes.v, ck->fixes.n, sizeof(struct fix), fix_cmp);
	return ck->oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ repair */

static int rep_begin(struct rep *r)
{
	r->tx = dxl_tx_begin(&r->ck->fs->j);
	if (!r->tx)
		r->err = dxl_err_keep(ENOMEM);
	return r->tx ? 0 : r->err;
}

static int rep_commit(struct rep *r)
{
	int rc = dxl_tx_commit(r->tx);
	r->tx = NULL;
	if (rc)
		r->err = rc;
	return rc;
}

/* Commit and start a new transaction when this one is nearly full. */
static int rep_roll(struct rep *r)
{
	if (!dxl_tx_full(r->tx))
		return 0;
	int rc = rep_commit(r);
	return rc ? rc : rep_begin(r);
}

/* A writable shadow of a metadata block; the commit sets its checksums. */
static void *rep_touch(struct rep *r, uint64_t blk)
{
	return dxl_tx_write(r->tx, blk);
}

struct coll {
	struct ck *ck;
	uint64_t ino;
	struct fk_vec recs;     /* struct crec */
	struct xctx x;
	int is_dir;
};
struct crec {
	uint64_t key;
	uint32_t vlen;
	int rekey;
	uint8_t val[DXL_NODE_MAX_VAL];
};

/* The value of a record with fix f (F_DRETYPE: a new type, F_XFLAGS: new
 * flags) applied, re-encoded by the codec into out (DXL_NODE_MAX_VAL
 * bytes, not val); 0 when the record no longer decodes but for the field
 * being mended. */
static uint32_t mend_record(const struct ck *ck, const struct fix *f, const uint8_t *val,
			    uint32_t vlen, uint8_t *out)
{
	struct dxl_rec_err err;
	if (f->kind == F_DRETYPE) {
		struct dxl_dent d;
		if (dxl_dirent_decode(val, vlen, &d, &err) != 0 && err.fault != DXL_REC_TYPE)
			return 0;
		d.type = f->arg;
		return dxl_dirent_encode(out, &d);
	}
	struct dxl_extent e;
	if (dxl_extent_decode(ck->sb, f->key, val, vlen, &e, &err) != 0 &&
	    err.fault != DXL_REC_FLAGS)
		return 0;
	e.flags = f->arg;
	return dxl_extent_encode(out, &e);
}

/* Rebuild walk: keep the records the check pass kept, with their fixes. */
static int collect_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct coll *c = arg;
	const struct fix *f = find_fix(ck, c->ino, key);
	if (f && (f->kind == F_DREMOVE || f->kind == F_XDROP))
		return 0;
	if (vlen > DXL_NODE_MAX_VAL)
		return 0;
	if (!c->is_dir) {
		struct dxl_extent e;
		const char *why;
		if (extent_ok(ck, &c->x, key, val, vlen, &e, &why) != 0)
			return 0;
		c->x.prev_end = key + e.len;
		c->x.have_prev = 1;
	}
	struct crec *cr = fk_vec_push(&c->recs, sizeof(*cr));
	if (!cr)
		return oom(ck);
	cr->key = key;
	cr->rekey = f && f->kind == F_DREKEY;
	if (f && (f->kind == F_DRETYPE || f->kind == F_XFLAGS)) {
		cr->vlen = mend_record(ck, f, val, vlen, cr->val);
		if (cr->vlen == 0)
			c->recs.n--; /* cannot be mended: dropped */
	} else {
		cr->vlen = vlen;
		memcpy(cr->val, val, vlen);
	}
	return 0;
}

/* Insert a directory record under a free key of its name's bucket. */
static int insert_rekeyed(struct rep *r, const struct dxl_broot *root, const uint8_t *val,
			  uint32_t vlen)
{
	struct ck *ck = r->ck;
	struct dxl_rec_err err;
	struct dxl_dent d;
	/* a record is rekeyed only when its name decodes (its type may not) */
	if (dxl_dirent_decode(val, vlen, &d, &err) != 0 && err.fault != DXL_REC_TYPE)
		return -EUCLEAN;
	uint64_t h = dxl_name_hash(d.name, d.name_len) & DXL_DIR_HASH_MASK;
	for (uint64_t k = 0; k <= 0xff; k++) {
		uint64_t found;
		uint32_t vl = 0;
		int rc = dxl_bt_lookup(ck->fs, r->tx, root, h | k, DXL_BT_EQ, &found, NULL, &vl);
		if (rc == -ENOENT)
			return dxl_bt_insert(ck->fs, r->tx, root, h | k, val, vlen);
		if (rc)
			return rc;
	}
	return -ENOSPC;
}

static int rebuild_tree(struct rep *r, uint32_t idx)
{
	struct ck *ck = r->ck;
	uint64_t ino = INF(ck, idx)->ino;
	struct coll c;
	struct dxl_broot root;
	int damaged, rc;

	memset(&c, 0, sizeof(c));
	c.ck = ck;
	c.ino = ino;
	c.is_dir = S_ISDIR(inode_at(ck, ino)->mode);
	c.x.idx = idx;
	dxl_inode_broot(ino, &root);
	ck->quiet = 1;
	rc = walk_tree(ck, &root, "rebuild", 0, collect_cb, &c, &damaged);
	ck->quiet = 0;
	if (rc)
		goto out;
	uint8_t *blk = rep_touch(r, root.blk);
	if (!blk) {
		rc = -ENOMEM;
		goto out;
	}
	/* the old nodes are left behind: the next pass frees them as leaked */
	dxl_bt_init_root(blk + root.off, root.cap, root.owner);
	for (size_t i = 0; i < c.recs.n && rc == 0; i++) {
		struct crec *cr = &((struct crec *)c.recs.v)[i];
		if (cr->rekey)
			rc = insert_rekeyed(r, &root, cr->val, cr->vlen);
		else
			rc = dxl_bt_insert(ck->fs, r->tx, &root, cr->key, cr->val, cr->vlen);
		if (rc == 0)
			rc = rep_roll(r);
	}
	if (rc == 0)
		REPAIRED(ck, "inode %llu: tree rebuilt from its %zu good records", ull(ino), c.recs.n);
out:
	fk_vec_free(&c.recs);
	return rc;
}

static int apply_record_fixes(struct rep *r)
{
	struct ck *ck = r->ck;
	const struct fix *fx = ck->fixes.v;
	int rc = 0;
	for (size_t i = 0; i < ck->fixes.n && rc == 0; i++) {
		const struct fix *f = &fx[i];
		long s = fk_map_find(&ck->imap, f->ino);
		if (s < 0 || (INF(ck, ck->imap.vals[s])->flags & I_DAMAGED))
			continue; /* rebuilt as a whole */
		struct dxl_broot root;
		uint8_t val[DXL_NODE_MAX_VAL], mended[DXL_NODE_MAX_VAL];
		uint32_t vlen = sizeof(val);
		uint64_t found;
		dxl_inode_broot(f->ino, &root);
		switch (f->kind) {
		case F_DREMOVE:
		case F_XDROP:
			rc = dxl_bt_delete(ck->fs, r->tx, &root, f->key);
			if (!rc)
				REPAIRED(ck, "inode %llu: removed the bad %s record with key %#llx",
					 ull(f->ino), f->kind == F_XDROP ? "extent" : "directory",
					 ull(f->key));
			break;
		case F_DRETYPE:
		case F_XFLAGS:
		case F_DREKEY:
			rc = dxl_bt_lookup(ck->fs, r->tx, &root, f->key, DXL_BT_EQ, &found, val, &vlen);
			if (rc == -ENOENT) {
				rc = 0; /* moved by an earlier fix of the same record */
				break;
			}
			if (rc || vlen > sizeof(val))
				break;
			if (f->kind == F_DREKEY) {
				rc = dxl_bt_delete(ck->fs, r->tx, &root, f->key);
				if (!rc)
					rc = insert_rekeyed(r, &root, val, vlen);
				if (!rc)
					REPAIRED(ck, "directory %llu: entry \"%s\" moved to its hash key",
						 ull(f->ino), f->name);
				break;
			}
			vlen = mend_record(ck, f, val, vlen, mended);
			if (vlen == 0)
				break; /* no longer the record the fix was for */
			rc = dxl_bt_update(ck->fs, r->tx, &root, f->key, mended, vlen);
			if (!rc)
				REPAIRED(ck, "inode %llu: record with key %#llx %s", ull(f->ino),
					 ull(f->key), f->kind == F_DRETYPE ? "given the child's type" :
					 "given the right flags");
			break;
		}
		if (rc == 0)
			rc = rep_roll(r);
	}
	return rc;
}

static int fix_inode_fields(struct rep *r)
{
	struct ck *ck = r->ck;
	int rc = 0;
	for (size_t i = 0; i < ck->inf.n && rc == 0; i++) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		struct want w;
		inode_wants(ck, (uint32_t)i, &w);
		if (!w.nlink_fix && !w.nentries_fix && !w.parent_fix && !w.nunits_fix)
			continue;
		struct dxl_inode *in = rep_touch(r, ii->ino);
		if (!in)
			return -ENOMEM;
		if (w.nlink_fix)
			in->nlink = w.nlink;
		if (w.nentries_fix)
			in->nentries = in->size = w.nentries;
		if (w.parent_fix)
			in->parent = w.parent;
		if (w.nunits_fix)
			in->nunits = w.nunits;
		REPAIRED(ck, "inode %llu:%s%s%s%s", ull(ii->ino),
			 w.nlink_fix ? " link count set" : "", w.nentries_fix ? " entry count set" : "",
			 w.parent_fix ? " parent set" : "", w.nunits_fix ? " mapped units set" : "");
		rc = rep_roll(r);
	}
	return rc;
}

/* Rewrite the orphan list: every unlinked inode with no links, and only them. */
static int rebuild_orphans(struct rep *r)
{
	struct ck *ck = r->ck;
	uint64_t head = 0;
	int rc = 0;
	for (size_t i = ck->inf.n; i-- > 0 && rc == 0;) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		const struct dxl_inode *cur = inode_at(ck, ii->ino);
		/* unlinked and not being relinked: its link count is (or was just
		 * set to) 0 by fix_inode_fields */
		int member = !(ii->flags & (I_LINKED | I_LOST)) && ii->ino != ck->sb->root_ino &&
			     (ii->flags & (I_TOORPH | I_ORPHAN));
		if (!member && !(cur->flags & DXL_INODE_F_ORPHAN) && !cur->orphan_next)
			continue;
		struct dxl_inode *in = rep_touch(r, ii->ino);
		if (!in)
			return -ENOMEM;
		if (member) {
			in->nlink = 0;
			in->flags |= DXL_INODE_F_ORPHAN;
			in->orphan_next = head;
			head = ii->ino;
		} else {
			in->flags &= ~DXL_INODE_F_ORPHAN;
			in->orphan_next = 0;
		}
		rc = rep_roll(r);
	}
	if (rc)
		return rc;
	struct dxl_sb *sb = dxl_sb_write(r->tx);
	if (!sb)
		return -ENOMEM;
	sb->orphan_head = head;
	REPAIRED(ck, "orphan list rebuilt (it will be freed at the next open)");
	return 0;
}

static int rebuild_refc(struct rep *r)
{
	struct ck *ck = r->ck;
	struct dxl_broot root;
	int rc;
	dxl_refc_broot(ck->fs, &root);
	/* a tree we can read is freed node by node; otherwise its root is
	 * reset and the next pass frees the unreachable nodes */
	do {
		rc = dxl_bt_destroy(ck->fs, r->tx, &root);
		if (rc == -EAGAIN && (rc = rep_commit(r)) == 0 && (rc = rep_begin(r)) == 0)
			rc = -EAGAIN;
	} while (rc == -EAGAIN);
	if (rc) {
		uint8_t *blk = rep_touch(r, root.blk);
		if (!blk)
			return -ENOMEM;
		dxl_bt_init_root(blk + root.off, root.cap, root.owner);
		rc = 0;
	}
	const struct rrec *runs = ck->runs.v;
	for (size_t i = 0; i < ck->runs.n && rc == 0; i++) {
		if (runs[i].count < 2)
			continue;
		struct dxl_refc rv = {runs[i].len, runs[i].count};
		uint8_t val[DXL_REFC_VLEN];
		uint32_t vlen = dxl_refc_encode(val, &rv);
		rc = dxl_bt_insert(ck->fs, r->tx, &root, runs[i].start, val, vlen);
		if (rc == 0)
			rc = rep_roll(r);
	}
	if (rc == 0)
		REPAIRED(ck, "refcount tree rebuilt from the extents (%llu shared units)",
			 ull(ck->shared_units));
	return rc;
}

static int relink_lost(struct rep *r)
{
	struct ck *ck = r->ck;
	uint64_t root = ck->sb->root_ino, lf;
	int rc;
	if (ck->lf_idx != NO_IDX) {
		lf = INF(ck, ck->lf_idx)->ino;
	} else {
		struct dxl_inode *in;
		rc = dxl_inode_alloc(ck->fs, r->tx, S_IFDIR | 0700, 0, 0, root, &in);
		if (rc)
			return rc;
		lf = in->ino;
		in->nlink = 2;
		/* dxl_dir_add keeps the parent's entry count and link count */
		rc = dxl_dir_add(ck->fs, r->tx, root, "lost+found", 10, lf, DT_DIR);
		if (rc)
			return rc;
		REPAIRED(ck, "created /lost+found (inode %llu)", ull(lf));
	}
	for (size_t i = 0; i < ck->lostroots.n; i++) {
		uint32_t idx = ((uint32_t *)ck->lostroots.v)[i];
		uint64_t ino = INF(ck, idx)->ino;
		uint32_t mode = inode_at(ck, ino)->mode;
		char name[32];
		int n = snprintf(name, sizeof(name), "#%llu", ull(ino));
		rc = dxl_dir_add(ck->fs, r->tx, lf, name, (size_t)n, ino, mode_dtype(mode));
		if (rc)
			return rc;
		struct dxl_inode *in = rep_touch(r, ino);
		if (!in)
			return -ENOMEM;
		if (S_ISDIR(mode))
			in->parent = lf;
		else if (in->nlink == 0)
			in->nlink = 1;
		REPAIRED(ck, "inode %llu linked as /lost+found/%s", ull(ino), name);
		if ((rc = rep_roll(r)) != 0)
			return rc;
	}
	return 0;
}

static int repair_pass(struct ck *ck)
{
	struct rep r = {ck, NULL, 0};
	int rc;

	if ((rc = rep_begin(&r)) != 0)
		return rc;
	/* 1. checksums: rewriting the block makes the commit recompute them */
	for (size_t i = 0; i < ck->crcblks.n && rc == 0; i++) {
		uint64_t blk = ((uint64_t *)ck->crcblks.v)[i];
		uint32_t *crc = rep_touch(&r, blk);
		if (!crc)
			return -ENOMEM;
		/* invert the stored checksum so the block differs and is rewritten
		 * even by a commit that skips unchanged blocks; finalize sets it */
		crc[1] = ~crc[1];
		REPAIRED(ck, "block %llu: checksum recomputed", ull(blk));
		rc = rep_roll(&r);
	}
	/* 2. bitmaps and counters first, so that the allocator used by the
	 * repairs below never hands out a block that is in use */
	if (rc == 0 && ck->fix_dbitmap) {
		dbitmap_ranges(ck, 0, &r);
		REPAIRED(ck, "data allocation bitmap set from the extent maps");
	}
	if (rc == 0 && ck->fix_mbitmap) {
		rc = mbitmap_ranges(ck, 0, &r);
		REPAIRED(ck, "metadata allocation bitmap set from the blocks in use");
	}
	if (rc == 0 && (ck->fix_counters || ck->fix_dbitmap || ck->fix_mbitmap)) {
		struct dxl_sb *sb = dxl_sb_write(r.tx);
		if (!sb)
			return -ENOMEM;
		sb->free_units = ck->sb->data_units - ck->units_used;
		sb->free_meta = ck->sb->meta_blocks - ck->metaset.n;
		sb->inodes = ck->ninodes;
		if (sb->next_gen <= ck->max_gen)
			sb->next_gen = ck->max_gen + 1;
		REPAIRED(ck, "superblock counters set: %llu free units, %llu free metadata blocks,"
			 " %llu inodes", ull(sb->free_units), ull(sb->free_meta), ull(sb->inodes));
	}
	if (rc == 0 && ck->oom)
		rc = -ENOMEM;
	if (rc == 0)
		rc = rep_commit(&r) ? r.err : rep_begin(&r);
	/* 3. records and trees */
	for (size_t i = 0; i < ck->inf.n && rc == 0; i++)
		if ((INF(ck, (uint32_t)i)->flags & (I_DAMAGED | I_VALID)) == (I_DAMAGED | I_VALID))
			rc = rebuild_tree(&r, (uint32_t)i);
	if (rc == 0)
		rc = apply_record_fixes(&r);
	/* 4. bookkeeping fields */
	if (rc == 0)
		rc = fix_inode_fields(&r);
	if (rc == 0 && ck->orphan_bad)
		rc = rebuild_orphans(&r);
	if (rc == 0)
		rc = rep_commit(&r) ? r.err : rep_begin(&r);
	/* 5. sharing */
	if (rc == 0 && ck->refc_bad)
		rc = rebuild_refc(&r);
	/* 6. reconnect */
	if (rc == 0 && ck->lostroots.n)
		rc = relink_lost(&r);
	if (rc == 0)
		return rep_commit(&r) ? r.err : 0;
	if (r.tx)
		dxl_tx_abort(r.tx);
	say(ck, "repair stopped: %s", dxl_errmsg());
	return rc;
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
		dxl_pmem_close(&pm);
		PROBLEM(ck, "the store is too small (%llu bytes) to hold a pool", ull(pm.size));
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
		say(ck, "the backup superblock at byte %llu is not usable either (%s)", ull(boff),
		    dxl_errmsg());
		dxl_pmem_close(&pm);
		return -EUCLEAN;
	}
	if (!ck->repair) {
		say(ck, "the backup superblock is valid: run with repair to restore the primary");
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

int dxl_fsck(const char *path, unsigned flags, dxl_fsck_report_fn report, void *arg,
	     struct dxl_fsck_result *res)
{
	struct dxl_fsck_result dummy;
	struct ck ck;
	struct dxl_fs *fs;
	int rc, last_problems = 0;

	if (!path)
		return dxl_err(EINVAL, "fsck: no pool path");
	if (!res)
		res = &dummy;
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
		say(&ck, "cannot open the pool: %s", dxl_errmsg());
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
		/* The header checksum matched but a record would write where
		 * no transaction may (recover checks all before applying any,
		 * so nothing was applied).  Replay can never resolve that: with
		 * repair the transaction is discarded and the pool is checked
		 * as it stands. */
		PROBLEM((&ck), "journal: the committed transaction cannot be replayed (%s)",
			dxl_errmsg());
		res->problems++;
		if (ck.repair && !fs->pm.rdonly) {
			uint8_t *jh = fs->pm.base + (fs->sb->journal_blk << DXL_BLOCK_SHIFT);
			dxl_pmem_memset(&fs->pm, jh, 0, sizeof(uint32_t)); /* the magic */
			dxl_pmem_drain(&fs->pm);
			REPAIRED((&ck), "journal: the damaged transaction was discarded");
			res->repaired++;
			rc = 0;
			jcounted = 0;
		}
	}
	if (rc == 0 && (rc = dxl_sb_verify(fs->sb, fs->pm.size)) != 0)
		say(&ck, "superblock is damaged after journal replay: %s", dxl_errmsg());
	else if (rc && !jcounted)
		say(&ck, "journal replay failed: %s", dxl_errmsg());
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
		say(&ck, "superblock geometry does not fit the %llu-byte store", ull(ck.size));
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
			say(&ck, "pass %d: checking again after repairs", pass);
		rc = check_pass(&ck);
		res->problems += ck.problems;
		res->inodes = ck.ninodes;
		res->dirs = ck.dirs;
		res->files = ck.files;
		res->extents = ck.extents;
		res->shared_units = ck.shared_units;
		last_problems = ck.problems != 0;
		if (rc == 0 && ck.problems && ck.repair && pass < FK_MAX_PASSES) {
			rc = repair_pass(&ck);
			res->repaired += ck.repaired;
			pass_free(&ck);
			if (rc == 0 && ck.repaired)
				continue;
			if (rc == 0)
				say(&ck, "nothing more can be repaired safely");
			break;
		}
		pass_free(&ck);
		break;
	}
	if (flags & DXL_FSCK_VERBOSE)
		say(&ck, "%llu inodes (%llu directories, %llu files), %llu extents, %llu shared units",
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
