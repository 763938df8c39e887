/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directories: the entries of a directory are the records of the B+tree
 * rooted in its inode block.
 *
 *   key   = (dxl_name_hash(name) & DXL_DIR_HASH_MASK) | k
 *   value = struct dxl_dirent_rec { ino, type, name_len, name bytes }
 *
 * k (0..255) is the first index not in use among the names that share the
 * hash's upper 56 bits, chosen at insertion.  A lookup scans the whole
 * 256-key window [h, h|0xff] and compares names, so removal simply deletes
 * the key: a later lookup never stops early at a gap, and no tombstones are
 * needed.  The window is nearly always empty or holds one record, so a
 * lookup is one tree descent plus one leaf step.
 *
 * Invariants kept HERE, for every caller (namespace calls in ns.c, file
 * creation in file.c): adding or removing an entry updates the directory
 * inode's nentries, size (= nentries), mtime and ctime, and its nlink when
 * the entry is a directory (a subdirectory's ".." counts as a link to its
 * parent: nlink = 2 + subdirectories).  The child inode itself (its nlink,
 * its parent field, its ctime) is the caller's business.
 */
#include <dirent.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

/* Records are encoded and decoded by the codec in src/format/record.c,
 * the one fsck uses too, so the two agree on what a damaged record is. */
static uint32_t rec_encode(unsigned char *buf, uint64_t ino, uint32_t type, const char *name,
			   size_t len)
{
	struct dxl_dent d = {.ino = ino, .type = type, .name_len = (uint32_t)len, .name = name};

	return dxl_dirent_encode(buf, &d);
}

static int name_check(uint64_t dir, const char *name, size_t len)
{
	if (len == 0)
		return dxl_err(EINVAL, "directory %llu: empty entry name",
			       (unsigned long long)dir);
	if (len > DXL_NAME_MAX)
		return dxl_err(ENAMETOOLONG, "name '%.32s...' is %zu bytes, longer than %u",
			       name, len, DXL_NAME_MAX);
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return dxl_err(EINVAL, "name '%.*s' contains '/' or NUL", (int)len, name);
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return dxl_err(EINVAL, "'%.*s' cannot be a directory entry", (int)len, name);
	return 0;
}

/* The tree of directory dir, after checking that dir is a directory: a
 * file's extent map is also a valid tree, so reading it as a directory
 * would silently return garbage names. */
static int dir_root(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, struct dxl_broot *root)
{
	const struct dxl_inode *in = NULL;
	int rc = dxl_inode_read(fs, tx, dir, &in);

	if (rc)
		return rc;
	if (!S_ISDIR(in->mode))
		return dxl_err(ENOTDIR, "inode %llu is not a directory", (unsigned long long)dir);
	dxl_inode_broot(dir, root);
	return 0;
}

/* ---------------------------------------------------------------- window scan */

struct scan {
	uint64_t base;        /* hash & DXL_DIR_HASH_MASK */
	const char *name;
	size_t len;
	int want_used;        /* fill used[] (insertion) */
	uint8_t used[32];     /* bitmap of k in use */
	uint64_t key;         /* of the match */
	struct dxl_dent r;
};

#define SCAN_PAST 1
#define SCAN_FOUND 2

static int scan_cb(void *arg, uint64_t key, const void *val, uint32_t vlen)
{
	struct scan *s = arg;
	struct dxl_rec_err err;
	struct dxl_dent r;

	if (key > (s->base | 0xff))
		return SCAN_PAST;
	if (dxl_dirent_decode(val, vlen, &r, &err))
		return dxl_err(EUCLEAN, "damaged directory record at key %#llx: it %s",
			       (unsigned long long)key, err.why);
	if (s->want_used)
		s->used[(key & 0xff) >> 3] |= (uint8_t)(1u << (key & 7));
	if (r.name_len == s->len && memcmp(r.name, s->name, r.name_len) == 0) {
		s->key = key;
		s->r = r;
		s->r.name = NULL; /* the value buffer is the tree's, gone after the walk */
		return SCAN_FOUND;
	}
	return 0;
}

/* Look name up in the tree: 0 and s->key/s->r if found, -ENOENT if not. */
static int scan(struct dxl_fs *fs, struct dxl_tx *tx, const struct dxl_broot *root,
		struct scan *s)
{
	int rc;

	s->base = dxl_name_hash(s->name, s->len) & DXL_DIR_HASH_MASK;
	rc = dxl_bt_walk(fs, tx, root, s->base, scan_cb, s);
	if (rc == SCAN_FOUND)
		return 0;
	if (rc == 0 || rc == SCAN_PAST)
		return -ENOENT;
	return rc;
}

/* Update the directory inode after a change of its entries. */
static int dir_changed(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, int dentries,
		       int dsubdirs)
{
	struct dxl_inode *in;
	int64_t now = dxl_now_ns();
	int rc = dxl_inode_write(fs, tx, dir, &in);

	if (rc)
		return rc;
	if ((dentries < 0 && in->nentries < (uint64_t)-dentries) ||
	    (dsubdirs < 0 && in->nlink < 2u + (uint32_t)-dsubdirs))
		return dxl_err(EUCLEAN,
			       "directory inode %llu: entry count %llu / link count %u "
			       "inconsistent with its entries (run fsck)",
			       (unsigned long long)dir, (unsigned long long)in->nentries,
			       in->nlink);
	in->nentries += (uint64_t)(int64_t)dentries;
	in->size = in->nentries;
	in->nlink += (uint32_t)dsubdirs;
	in->mtime_ns = now;
	in->ctime_ns = now;
	return 0;
}

/* ---------------------------------------------------------------- contracts */

/* Find name in dir: its root and the scan that found it.  -ENOENT, with
 * no message, when it is not there (callers word it with what they know). */
static int find_entry(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		      size_t len, struct dxl_broot *root, struct scan *s)
{
	int rc;

	/* an over-long name cannot be stored, so it is simply not there; the
	 * path walk reports ENAMETOOLONG itself before it gets here */
	if (len == 0 || len > DXL_NAME_MAX)
		return -ENOENT;
	rc = dir_root(fs, tx, dir, root);
	if (rc)
		return rc;
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->len = len;
	return scan(fs, tx, root, s);
}

/* find_entry() for the changes: a missing entry is an error with a message. */
static int find_entry_msg(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
			  size_t len, struct dxl_broot *root, struct scan *s)
{
	int rc = find_entry(fs, tx, dir, name, len, root, s);

	if (rc == -ENOENT)
		return dxl_err(ENOENT, "no entry '%.*s'", (int)DXL_MIN(len, DXL_NAME_MAX), name);
	return rc;
}

int dxl_dir_lookup(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		   size_t len, uint64_t *ino, uint32_t *type)
{
	struct dxl_broot root;
	struct scan s;
	int rc = find_entry(fs, tx, dir, name, len, &root, &s);

	if (rc)
		return rc;
	if (ino)
		*ino = s.r.ino;
	if (type)
		*type = s.r.type;
	return 0;
}

int dxl_dir_add(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		size_t len, uint64_t ino, uint32_t type)
{
	unsigned char buf[DXL_DIRENT_MAX];
	struct dxl_broot root;
	struct scan s;
	uint32_t vlen;
	int rc, k;

	rc = name_check(dir, name, len);
	if (rc)
		return rc;
	if (!dxl_fmt_dt_ok(type))
		return dxl_err(EINVAL, "entry '%.*s': bad type %u", (int)len, name, type);
	rc = dir_root(fs, tx, dir, &root);
	if (rc)
		return rc;
	memset(&s, 0, sizeof(s));
	s.name = name;
	s.len = len;
	s.want_used = 1;
	rc = scan(fs, tx, &root, &s);
	if (rc == 0)
		return dxl_err(EEXIST, "'%.*s' already exists", (int)len, name);
	if (rc != -ENOENT)
		return rc;
	for (k = 0; k < 256; k++)
		if (!(s.used[k >> 3] & (1u << (k & 7))))
			break;
	if (k == 256)
		return dxl_err(ENOSPC,
			       "cannot add '%.*s': 256 names in this directory already share "
			       "its hash %#llx (the per-hash limit of the directory format)",
			       (int)len, name, (unsigned long long)s.base);
	vlen = rec_encode(buf, ino, type, name, len);
	rc = dxl_bt_insert(fs, tx, &root, s.base | (uint64_t)k, buf, vlen);
	if (rc)
		return dxl_err_keep(-rc);
	return dir_changed(fs, tx, dir, 1, type == DT_DIR ? 1 : 0);
}

int dxl_dir_remove(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		   size_t len)
{
	struct dxl_broot root;
	struct scan s;
	int rc;

	rc = find_entry_msg(fs, tx, dir, name, len, &root, &s);
	if (rc)
		return rc;
	rc = dxl_bt_delete(fs, tx, &root, s.key);
	if (rc)
		return dxl_err_keep(-rc);
	return dir_changed(fs, tx, dir, -1, s.r.type == DT_DIR ? -1 : 0);
}

int dxl_dir_retarget(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, const char *name,
		     size_t len, uint64_t ino, uint32_t type)
{
	unsigned char buf[DXL_DIRENT_MAX];
	struct dxl_broot root;
	struct scan s;
	uint32_t vlen;
	int rc, dsub;

	if (!dxl_fmt_dt_ok(type))
		return dxl_err(EINVAL, "entry '%.*s': bad type %u", (int)len, name, type);
	rc = find_entry_msg(fs, tx, dir, name, len, &root, &s);
	if (rc)
		return rc;
	/* Same key, same name: only the target changes, so the record stays
	 * where it is and readdir cookies held by others stay valid. */
	vlen = rec_encode(buf, ino, type, name, len);
	rc = dxl_bt_update(fs, tx, &root, s.key, buf, vlen);
	if (rc)
		return dxl_err_keep(-rc);
	dsub = (type == DT_DIR) - (s.r.type == DT_DIR);
	return dir_changed(fs, tx, dir, 0, dsub);
}

/*
 * The first entry whose key is >= cookie (the readdir step).  name must
 * hold DXL_NAME_MAX + 1 bytes; it is NUL-terminated.  -ENOENT at the end.
 */
int dxl_dir_next(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t dir, uint64_t cookie,
		 uint64_t *key, uint64_t *ino, uint32_t *type, char *name, size_t *len)
{
	unsigned char buf[DXL_NODE_MAX_VAL];
	struct dxl_broot root;
	struct dxl_rec_err err;
	struct dxl_dent r;
	uint32_t vlen = sizeof(buf);
	int rc;

	rc = dir_root(fs, tx, dir, &root);
	if (rc)
		return rc;
	rc = dxl_bt_lookup(fs, tx, &root, cookie, DXL_BT_GE, key, buf, &vlen);
	if (rc)
		return rc;
	/* the decoder checks vlen before reading past the header */
	if (dxl_dirent_decode(buf, vlen, &r, &err))
		return dxl_err(EUCLEAN, "directory inode %llu: damaged record at key %#llx: it %s",
			       (unsigned long long)dir, (unsigned long long)*key, err.why);
	*ino = r.ino;
	*type = r.type;
	memcpy(name, r.name, r.name_len);
	name[r.name_len] = '\0';
	*len = r.name_len;
	return 0;
}
