/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The namespace calls that add or remove one name: mkdir, symlink and
 * link add an entry (mkdir and symlink with a new inode), rmdir and
 * unlink remove one and drop the link it held, the inode being reaped by
 * the wrapper once the removal is committed.  Each is one transaction;
 * the invariants of the directory itself (its count, its nlink for
 * subdirectories, its times) are dir.c's, the child's fields are set here
 * in the same transaction.  The wrapper: ns.h.  A rename, which does
 * both at once, is ns_rename.c.
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "ns.h"

/* Hard links per inode: ext4's limit, far below the u32 field, so a link
 * count never wraps even with a damaged count close to the limit. */
#define NS_LINK_MAX 65000u

/* ---------------------------------------------------------------- mkdir */

static int mkdir_check(struct dxl_fs *fs, struct ns_call *c)
{
	if (dxl_ns_is_root(c->path))
		return dxl_err(EEXIST, "the root directory always exists");
	return 0;
}

static int mkdir_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const mode_t *mode = c->arg;
	struct dxl_inode *in;
	const char *name;
	size_t len;
	uint64_t dir, ino;
	int rc = dxl_ns_parent_of(fs, tx, c->path, EEXIST, &dir, &name, &len);

	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", c->path);
	if (!rc)
		rc = dxl_inode_alloc(fs, tx, S_IFDIR | (*mode & 07777), fs->uid, fs->gid, dir,
				     &in);
	if (!rc) {
		/* its entry in the parent, and its own "." */
		in->nlink = 2;
		ino = in->ino;
		rc = dxl_dir_add(fs, tx, dir, name, len, ino, DT_DIR);
	}
	return rc;
}

int dxl_mkdir(dxl_pool *pool, const char *path, mode_t mode)
{
	struct ns_call c = { .op = "mkdir", .path = path, .modify = 1, .check = mkdir_check,
			     .body = mkdir_body, .arg = &mode };
	return dxl_ns_call(pool, &c);
}

/* ---------------------------------------------------------------- rmdir / unlink */

static int rmdir_check(struct dxl_fs *fs, struct ns_call *c)
{
	if (dxl_ns_is_root(c->path))
		return dxl_err(EBUSY, "the root directory cannot be removed");
	return 0;
}

static int rmdir_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const char *path = c->path;
	const struct dxl_inode *in = NULL;
	const char *name;
	size_t len;
	uint64_t dir, ino = 0;
	int rc = dxl_namei_parent(fs, tx, path, &dir, &name, &len);

	if (!rc && len == 1 && name[0] == '.')
		rc = dxl_err(EINVAL, "cannot remove '.'; name the directory instead");
	if (!rc && len == 2 && name[0] == '.' && name[1] == '.')
		rc = dxl_err(ENOTEMPTY, "'..' is a non-empty directory");
	if (!rc)
		rc = dxl_ns_entry_of(fs, tx, path, dir, name, len, &ino, &in);
	if (!rc && !S_ISDIR(in->mode))
		rc = dxl_err(ENOTDIR, "%s is not a directory", path);
	if (!rc && ino == fs->sb->root_ino)
		rc = dxl_err(EBUSY, "the root directory cannot be removed");
	if (!rc)
		rc = dxl_ns_check_empty(fs, tx, path, ino, in);
	if (!rc)
		rc = dxl_dir_remove(fs, tx, dir, name, len);
	if (!rc)
		rc = dxl_ns_drop_link(fs, tx, ino, 1);
	if (!rc)
		c->reap = ino;
	return rc;
}

int dxl_rmdir(dxl_pool *pool, const char *path)
{
	struct ns_call c = { .op = "rmdir", .path = path, .modify = 1, .check = rmdir_check,
			     .body = rmdir_body };
	return dxl_ns_call(pool, &c);
}

static int unlink_check(struct dxl_fs *fs, struct ns_call *c)
{
	if (dxl_ns_is_root(c->path))
		return dxl_err(EISDIR, "the root is a directory");
	return 0;
}

static int unlink_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const char *path = c->path;
	const struct dxl_inode *in = NULL;
	const char *name;
	size_t len;
	uint64_t dir, ino = 0;
	int rc = dxl_ns_parent_of(fs, tx, path, EISDIR, &dir, &name, &len);

	if (!rc)
		rc = dxl_ns_entry_of(fs, tx, path, dir, name, len, &ino, &in);
	if (!rc && S_ISDIR(in->mode))
		rc = dxl_err(EISDIR, "%s is a directory (use rmdir)", path);
	if (!rc && dxl_ns_trailing_slash(path))
		rc = dxl_err(ENOTDIR, "%s is not a directory", path);
	if (!rc)
		rc = dxl_dir_remove(fs, tx, dir, name, len);
	if (!rc)
		rc = dxl_ns_drop_link(fs, tx, ino, 0);
	if (!rc)
		c->reap = ino;
	return rc;
}

int dxl_unlink(dxl_pool *pool, const char *path)
{
	struct ns_call c = { .op = "unlink", .path = path, .modify = 1, .check = unlink_check,
			     .body = unlink_body };
	return dxl_ns_call(pool, &c);
}

/* ---------------------------------------------------------------- link / symlink */

/* c->path: the existing file; c->path2: the new name. */
static int link_check(struct dxl_fs *fs, struct ns_call *c)
{
	if (dxl_ns_is_root(c->path2))
		return dxl_err(EEXIST, "the root directory always exists");
	return 0;
}

static int link_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const char *oldpath = c->path, *newpath = c->path2;
	const struct dxl_inode *in = NULL;
	struct dxl_inode *w;
	const char *name;
	size_t len;
	uint64_t dir, ino;
	/* like link(2): a symlink at oldpath is linked itself, not followed */
	int rc = dxl_namei(fs, tx, oldpath, 0, &ino);

	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc && S_ISDIR(in->mode))
		rc = dxl_err(EPERM, "%s is a directory; directories cannot be hard-linked",
			     oldpath);
	if (!rc && in->nlink >= NS_LINK_MAX)
		rc = dxl_err(EMLINK, "%s already has %u links", oldpath, in->nlink);
	if (!rc)
		rc = dxl_ns_parent_of(fs, tx, newpath, EEXIST, &dir, &name, &len);
	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", newpath);
	if (!rc && dxl_ns_trailing_slash(newpath))
		rc = dxl_err(ENOENT, "%s: a trailing '/' names a directory, which this would not be",
			     newpath);
	if (!rc) {
		uint32_t mode = in->mode;
		rc = dxl_dir_add(fs, tx, dir, name, len, ino, dxl_ns_mode_to_dt(mode));
	}
	if (!rc)
		rc = dxl_inode_write(fs, tx, ino, &w);
	if (!rc) {
		w->nlink++;
		w->ctime_ns = dxl_now_ns();
	}
	return rc;
}

int dxl_link(dxl_pool *pool, const char *oldpath, const char *newpath)
{
	struct ns_call c = { .op = "link", .names = NS_PATHS, .path = oldpath, .path2 = newpath,
			     .modify = 1, .check = link_check, .body = link_body };
	return dxl_ns_call(pool, &c);
}

/* c->path: the target; c->path2: the link's path; arg: the target's length. */
static int symlink_check(struct dxl_fs *fs, struct ns_call *c)
{
	size_t *tlen = c->arg;

	if (c->path == NULL)
		return dxl_err(EINVAL, "no target given");
	*tlen = strnlen(c->path, DXL_SYMLINK_MAX + 1);
	if (*tlen == 0)
		return dxl_err(ENOENT, "empty symbolic link target");
	if (*tlen > DXL_SYMLINK_MAX)
		return dxl_err(ENAMETOOLONG, "symbolic link target longer than %u bytes",
			       DXL_SYMLINK_MAX);
	if (dxl_ns_is_root(c->path2))
		return dxl_err(EEXIST, "the root directory always exists");
	return 0;
}

static int symlink_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const char *target = c->path, *linkpath = c->path2;
	size_t tlen = *(const size_t *)c->arg;
	struct dxl_inode *in;
	const char *name;
	size_t len;
	uint64_t dir;
	char *dst;
	int rc = dxl_ns_parent_of(fs, tx, linkpath, EEXIST, &dir, &name, &len);

	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", linkpath);
	if (!rc)
		rc = dxl_inode_alloc(fs, tx, S_IFLNK | 0777, fs->uid, fs->gid, dir, &in);
	if (!rc) {
		uint64_t ino = in->ino;
		/* The target is stored raw after the inode header (the shadow is
		 * the whole block); the rest is zeroed so that the block's bytes
		 * are deterministic for fsck and checksums. */
		dst = (char *)in + DXL_INODE_HDR;
		memcpy(dst, target, tlen);
		memset(dst + tlen, 0, DXL_INODE_ROOT_CAP - tlen);
		in->size = tlen;
		in->nlink = 1;
		rc = dxl_dir_add(fs, tx, dir, name, len, ino, DT_LNK);
	}
	return rc;
}

int dxl_symlink(dxl_pool *pool, const char *target, const char *linkpath)
{
	size_t tlen = 0;
	struct ns_call c = { .op = "symlink", .names = NS_PATHS, .path = target,
			     .path2 = linkpath, .modify = 1, .check = symlink_check,
			     .body = symlink_body, .arg = &tlen };
	return dxl_ns_call(pool, &c);
}

/* mknod: a special file (FIFO, device, socket) or an empty regular file.
 * Special files have no contents in the pool: the kernel gives them their
 * behaviour (the mount), the library only names them. */
struct mknod_args {
	mode_t mode;
	uint64_t dev;
};

static int mknod_check(struct dxl_fs *fs, struct ns_call *c)
{
	const struct mknod_args *a = c->arg;

	if (!S_ISREG(a->mode) && !dxl_fmt_mode_special(a->mode))
		return dxl_err(EINVAL, "file type %#o: mknod makes regular files, FIFOs, devices "
				       "and sockets (directories: dxl_mkdir, symlinks: dxl_symlink)",
			       (unsigned)(a->mode & S_IFMT));
	if (a->dev && !S_ISCHR(a->mode) && !S_ISBLK(a->mode))
		return dxl_err(EINVAL, "a device number for a file that is not a device");
	if (dxl_ns_is_root(c->path))
		return dxl_err(EEXIST, "the root directory always exists");
	return 0;
}

static int mknod_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const struct mknod_args *a = c->arg;
	struct dxl_inode *in;
	const char *name;
	size_t len;
	uint64_t dir;
	int rc = dxl_ns_parent_of(fs, tx, c->path, EEXIST, &dir, &name, &len);

	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", c->path);
	if (!rc && dxl_ns_trailing_slash(c->path))
		rc = dxl_err(ENOENT, "%s: a trailing '/' names a directory", c->path);
	/* an older pool learns that it may hold special files */
	if (!rc && dxl_fmt_mode_special(a->mode) &&
	    !(dxl_sb_read(tx)->feat_incompat & DXL_FEAT_INCOMPAT_SPECIAL))
		dxl_sb_write(tx)->feat_incompat |= DXL_FEAT_INCOMPAT_SPECIAL;
	if (!rc)
		rc = dxl_inode_alloc(fs, tx, (uint32_t)(a->mode & (S_IFMT | 07777)), fs->uid, fs->gid,
				     dir, &in);
	if (!rc) {
		in->nlink = 1;
		in->rdev = a->dev;
		rc = dxl_dir_add(fs, tx, dir, name, len, in->ino, dxl_fmt_dt_of(a->mode));
	}
	return rc;
}

int dxl_mknod(dxl_pool *pool, const char *path, mode_t mode, uint64_t dev)
{
	struct mknod_args a = { .mode = mode, .dev = dev };
	struct ns_call c = { .op = "mknod", .path = path, .modify = 1, .check = mknod_check,
			     .body = mknod_body, .arg = &a };
	return dxl_ns_call(pool, &c);
}
