/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rename, and its NOREPLACE and EXCHANGE forms: the one namespace call
 * that changes two names at once -- move to a free name, exchange two
 * entries, or replace an existing target (whose inode loses a link and is
 * reaped by the wrapper after the commit) -- all in one transaction, so a
 * crash shows the old tree or the new, never a name lost or doubled.  A
 * directory moved keeps the parent field its ".." resolves to, and may
 * not move into its own subtree.  The wrapper: ns.h.
 */
#include <sys/stat.h>

#include "ns.h"

/* Update ctime of an inode whose metadata changed. */
static int touch_ctime(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino)
{
	struct dxl_inode *in;
	int rc = dxl_inode_write(fs, tx, ino, &in);

	if (rc)
		return rc;
	in->ctime_ns = dxl_now_ns();
	return 0;
}

/* Is `anc` dir or an ancestor of dir?  Walks parent fields up to the root. */
static int is_ancestor(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t anc, uint64_t dir,
		       int *yes)
{
	const uint64_t root = fs->sb->root_ino;
	uint64_t steps = 0, limit = fs->sb->inodes + 2;

	*yes = 0;
	for (;;) {
		const struct dxl_inode *in = NULL;
		int rc;

		if (dir == anc) {
			*yes = 1;
			return 0;
		}
		if (dir == root)
			return 0;
		/* A chain longer than the number of inodes is a cycle: only a
		 * damaged pool has one, and it must not hang us. */
		if (++steps > limit)
			return dxl_err(EUCLEAN, "the parent chain of directory %llu loops",
				       (unsigned long long)dir);
		rc = dxl_inode_read(fs, tx, dir, &in);
		if (rc)
			return rc;
		dir = in->parent;
	}
}

struct ren_side {
	const char *path;
	uint64_t dir;       /* parent directory */
	const char *name;
	size_t len;
	uint64_t ino;       /* 0: no entry */
	uint32_t mode;
};

static int ren_resolve(struct dxl_fs *fs, struct dxl_tx *tx, struct ren_side *s)
{
	uint64_t ino;
	int rc = dxl_ns_parent_of(fs, tx, s->path, EINVAL, &s->dir, &s->name, &s->len);

	if (rc)
		return rc;
	s->ino = 0;
	rc = dxl_dir_lookup(fs, tx, s->dir, s->name, s->len, &ino, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0) {
		const struct dxl_inode *in = NULL;
		rc = dxl_ns_entry_of(fs, tx, s->path, s->dir, s->name, s->len, &ino, &in);
		if (rc)
			return rc;
		s->ino = ino;
		s->mode = in->mode;
	}
	return rc;
}

/* A directory moved under `newdir` must not become its own ancestor. */
static int check_not_into_self(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t moved,
			       uint64_t newdir, const char *mpath, const char *npath)
{
	int yes;
	int rc = is_ancestor(fs, tx, moved, newdir, &yes);

	if (rc)
		return rc;
	if (yes)
		return dxl_err(EINVAL, "cannot move directory %s into its own subtree (%s)",
			       mpath, npath);
	return 0;
}

static int set_parent(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, uint64_t parent)
{
	struct dxl_inode *w;
	int rc = dxl_inode_write(fs, tx, ino, &w);

	if (rc)
		return rc;
	w->parent = parent;
	return 0;
}

/* c->path: the old path; c->path2: the new one; arg: the flags. */
static int rename_check(struct dxl_fs *fs, struct ns_call *c)
{
	unsigned flags = *(const unsigned *)c->arg;

	if (flags & ~(unsigned)(DXL_RENAME_NOREPLACE | DXL_RENAME_EXCHANGE))
		return dxl_err(EINVAL, "unknown flags %#x", flags);
	if ((flags & DXL_RENAME_NOREPLACE) && (flags & DXL_RENAME_EXCHANGE))
		return dxl_err(EINVAL, "NOREPLACE and EXCHANGE exclude each other");
	if (dxl_ns_is_root(c->path) || dxl_ns_is_root(c->path2))
		return dxl_err(EBUSY, "the root directory cannot be renamed or replaced");
	return 0;
}

static int rename_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const char *oldpath = c->path, *newpath = c->path2;
	unsigned flags = *(const unsigned *)c->arg;
	struct ren_side o = { .path = oldpath }, n = { .path = newpath };
	int odir, ndir, rc;

	rc = ren_resolve(fs, tx, &o);
	if (!rc && o.ino == 0)
		rc = dxl_err(ENOENT, "%s does not exist", oldpath);
	if (!rc)
		rc = ren_resolve(fs, tx, &n);
	if (rc)
		return rc;
	odir = S_ISDIR(o.mode);
	ndir = n.ino && S_ISDIR(n.mode);
	if (dxl_ns_trailing_slash(oldpath) && !odir) {
		return dxl_err(ENOTDIR, "%s is not a directory", oldpath);
	}

	if (n.ino == 0) {
		/* plain move to a free name */
		if (flags & DXL_RENAME_EXCHANGE) {
			return dxl_err(ENOENT, "%s does not exist, nothing to exchange with",
				       newpath);
		}
		if (dxl_ns_trailing_slash(newpath) && !odir) {
			return dxl_err(ENOTDIR, "%s: a trailing '/' names a directory, %s is not one",
				       newpath, oldpath);
		}
		if (odir)
			rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
		if (!rc)
			rc = dxl_dir_remove(fs, tx, o.dir, o.name, o.len);
		if (!rc)
			rc = dxl_dir_add(fs, tx, n.dir, n.name, n.len, o.ino, dxl_ns_mode_to_dt(o.mode));
		if (!rc && odir && o.dir != n.dir)
			rc = set_parent(fs, tx, o.ino, n.dir);
		if (!rc)
			rc = touch_ctime(fs, tx, o.ino);
		return rc;
	}

	if (flags & DXL_RENAME_NOREPLACE) {
		return dxl_err(EEXIST, "%s exists", newpath);
	}
	if (n.ino == o.ino) {
		/* POSIX: two links to the same file — nothing happens */
		return NS_UNCHANGED;
	}

	if (flags & DXL_RENAME_EXCHANGE) {
		/* each directory moves into the other's parent */
		if (odir)
			rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
		if (!rc && ndir)
			rc = check_not_into_self(fs, tx, n.ino, o.dir, newpath, oldpath);
		if (!rc)
			rc = dxl_dir_retarget(fs, tx, o.dir, o.name, o.len, n.ino,
					      dxl_ns_mode_to_dt(n.mode));
		if (!rc)
			rc = dxl_dir_retarget(fs, tx, n.dir, n.name, n.len, o.ino,
					      dxl_ns_mode_to_dt(o.mode));
		if (!rc && odir && o.dir != n.dir)
			rc = set_parent(fs, tx, o.ino, n.dir);
		if (!rc && ndir && o.dir != n.dir)
			rc = set_parent(fs, tx, n.ino, o.dir);
		if (!rc)
			rc = touch_ctime(fs, tx, o.ino);
		if (!rc)
			rc = touch_ctime(fs, tx, n.ino);
		return rc;
	}

	/* replace an existing target, atomically */
	if (odir && !ndir)
		rc = dxl_err(ENOTDIR, "%s is a directory but %s is not", oldpath, newpath);
	else if (!odir && ndir)
		rc = dxl_err(EISDIR, "%s is a directory but %s is not", newpath, oldpath);
	if (!rc && ndir) {
		const struct dxl_inode *nin;
		rc = dxl_inode_read(fs, tx, n.ino, &nin);
		if (!rc)
			rc = dxl_ns_check_empty(fs, tx, newpath, n.ino, nin);
	}
	if (!rc && odir)
		rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
	if (!rc)
		rc = dxl_dir_retarget(fs, tx, n.dir, n.name, n.len, o.ino, dxl_ns_mode_to_dt(o.mode));
	if (!rc)
		rc = dxl_dir_remove(fs, tx, o.dir, o.name, o.len);
	if (!rc && odir && o.dir != n.dir)
		rc = set_parent(fs, tx, o.ino, n.dir);
	if (!rc)
		rc = touch_ctime(fs, tx, o.ino);
	if (!rc)
		rc = dxl_ns_drop_link(fs, tx, n.ino, ndir);
	if (!rc)
		c->reap = n.ino;
	return rc;
}

int dxl_rename(dxl_pool *pool, const char *oldpath, const char *newpath, unsigned flags)
{
	struct ns_call c = { .op = "rename", .names = NS_PATHS, .path = oldpath,
			     .path2 = newpath, .modify = 1, .check = rename_check,
			     .body = rename_body, .arg = &flags };
	return dxl_ns_call(pool, &c);
}
