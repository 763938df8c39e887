/*
 * The namespace half of the public API: stat, mkdir, rmdir, unlink, link,
 * symlink, readlink, rename, chmod, chown, utimens and directory streams.
 *
 * Shape of every call: take the pool's metadata lock, run the operation in
 * one transaction (read-only calls abort theirs: nothing to apply), unlock,
 * and word a failure as "OP PATH: strerror: detail" where the detail comes
 * from the layer that found the problem ("/a does not exist").  A call that
 * dropped a link reaps the inode after committing: the inode sits on the
 * orphan list inside the transaction, so a crash between commit and reap
 * leaves an orphan that the next open frees, never a leak.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

/* Hard links per inode: ext4's limit, far below the u32 field, so a link
 * count never wraps even with a damaged count close to the limit. */
#define NS_LINK_MAX 65000u

/* Readdir cookies >= this are past every key (keys are < 2^63, dirhash.c). */
#define NS_COOKIE_END (1ull << 63)

struct dxl_dir {
	dxl_pool *pool;
	uint64_t ino;
	uint64_t gen;      /* detects a directory removed and its inode reused */
	uint64_t cookie;   /* next key to look at */
};

/* ---------------------------------------------------------------- helpers */

/* "OP PATH: strerror: detail", keeping the detail the lower layer recorded. */
static int ns_fail(int rc, const char *op, const char *path)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "%s", dxl_errmsg());
	if (detail[0])
		return dxl_err(-rc, "%s %s: %s: %s", op, path ? path : "(null)", strerror(-rc),
			       detail);
	return dxl_err(-rc, "%s %s: %s", op, path ? path : "(null)", strerror(-rc));
}

static int ns_fail2(int rc, const char *op, const char *p1, const char *p2)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "%s", dxl_errmsg());
	if (detail[0])
		return dxl_err(-rc, "%s %s %s: %s: %s", op, p1 ? p1 : "(null)",
			       p2 ? p2 : "(null)", strerror(-rc), detail);
	return dxl_err(-rc, "%s %s %s: %s", op, p1 ? p1 : "(null)", p2 ? p2 : "(null)",
		       strerror(-rc));
}

static uint32_t mode_to_dt(uint32_t mode)
{
	if (S_ISDIR(mode))
		return DT_DIR;
	if (S_ISLNK(mode))
		return DT_LNK;
	return DT_REG;
}

/* Nothing but slashes: the root, which has no entry to add or remove. */
static int is_root_path(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	for (; *path; path++)
		if (*path != '/')
			return 0;
	return 1;
}

static int has_trailing_slash(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 0 && path[n - 1] == '/';
}

static int is_dot_name(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

static int ns_begin(struct dxl_fs *fs, int modify, struct dxl_tx **tx)
{
	if (modify && fs->rdonly)
		return dxl_err(EROFS, "the pool is open read-only");
	*tx = dxl_tx_begin(&fs->j);
	if (*tx == NULL)
		return dxl_err_keep(ENOMEM);
	return 0;
}

/* Commit (rc == 0) or abort (rc < 0); returns the outcome. */
static int ns_end(struct dxl_tx *tx, int rc)
{
	if (rc) {
		dxl_tx_abort(tx);
		return rc;
	}
	return dxl_tx_commit(tx);
}

/* After a committed operation dropped a link to ino.  The change is
 * already durable; if freeing the storage fails, the orphan list keeps the
 * inode and the next first open frees it, so the caller still succeeds. */
static void ns_reap(struct dxl_fs *fs, uint64_t ino)
{
	if (ino)
		(void)dxl_inode_reap(fs, ino);
	dxl_err_clear();
}

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

/* Resolve PATH's parent and name, refusing "." and ".." as names (each
 * operation says which errno that is, POSIX has no single answer). */
static int parent_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, int dot_err,
		     uint64_t *dir, const char **name, size_t *len)
{
	int rc = dxl_namei_parent(fs, tx, path, dir, name, len);

	if (rc)
		return rc;
	if (is_dot_name(*name, *len))
		return dxl_err(dot_err, "'%.*s' names a directory by its relation, not an entry",
			       (int)*len, *name);
	return 0;
}

/* Look the last component up; the entry's inode and its true type. */
static int entry_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t dir,
		    const char *name, size_t len, uint64_t *ino, const struct dxl_inode **in)
{
	int rc = dxl_dir_lookup(fs, tx, dir, name, len, ino, NULL);

	if (rc == -ENOENT)
		return dxl_err(ENOENT, "%s does not exist", path);
	if (rc)
		return rc;
	rc = dxl_inode_read(fs, tx, *ino, in);
	if (rc == -ENOENT)
		return dxl_err(EUCLEAN, "%s: entry points to inode %llu, which is not in use",
			       path, (unsigned long long)*ino);
	return rc;
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

/* ---------------------------------------------------------------- stat */

static int do_stat(struct dxl_fs *fs, const char *path, int follow, struct dxl_stat *st)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	uint64_t ino;
	int rc;

	if (st == NULL)
		return dxl_err(EINVAL, "no stat buffer given");
	rc = ns_begin(fs, 0, &tx);
	if (rc)
		return rc;
	rc = dxl_namei(fs, tx, path, follow, &ino);
	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc)
		dxl_inode_to_stat(fs, in, st);
	dxl_tx_abort(tx);
	return rc;
}

int dxl_stat(dxl_pool *pool, const char *path, struct dxl_stat *st)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "stat: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_stat(fs, path, 1, st);
	dxl_fs_unlock(fs);
	return rc ? ns_fail(rc, "stat", path) : 0;
}

int dxl_lstat(dxl_pool *pool, const char *path, struct dxl_stat *st)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "lstat: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_stat(fs, path, 0, st);
	dxl_fs_unlock(fs);
	return rc ? ns_fail(rc, "lstat", path) : 0;
}

/* ---------------------------------------------------------------- mkdir */

static int do_mkdir(struct dxl_fs *fs, const char *path, mode_t mode)
{
	struct dxl_tx *tx;
	struct dxl_inode *in;
	const char *name;
	size_t len;
	uint64_t dir, ino;
	int rc;

	if (is_root_path(path))
		return dxl_err(EEXIST, "the root directory always exists");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = parent_of(fs, tx, path, EEXIST, &dir, &name, &len);
	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", path);
	if (!rc)
		rc = dxl_inode_alloc(fs, tx, S_IFDIR | (mode & 07777), fs->uid, fs->gid, dir,
				     &in);
	if (!rc) {
		/* its entry in the parent, and its own "." */
		in->nlink = 2;
		ino = in->ino;
		rc = dxl_dir_add(fs, tx, dir, name, len, ino, DT_DIR);
	}
	return ns_end(tx, rc);
}

int dxl_mkdir(dxl_pool *pool, const char *path, mode_t mode)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "mkdir: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_mkdir(fs, path, mode);
	dxl_fs_unlock(fs);
	return rc ? ns_fail(rc, "mkdir", path) : 0;
}

/* ---------------------------------------------------------------- rmdir / unlink */

/* Drop the link a removed entry held on ino.  A directory also loses its
 * "." link: it goes to nlink 0 at once (and onto the orphan list). */
static int drop_link(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, int is_dir)
{
	struct dxl_inode *w;
	int rc = dxl_inode_write(fs, tx, ino, &w);

	if (rc)
		return rc;
	w->ctime_ns = dxl_now_ns();
	if (is_dir)
		w->nlink = 1;
	if (w->nlink == 0)
		return dxl_err(EUCLEAN, "inode %llu is linked but has a link count of 0",
			       (unsigned long long)ino);
	return dxl_inode_unlink(fs, tx, ino);
}

/* A directory is empty by its count and by its tree: both must agree
 * before we throw the tree away, or a damaged count would lose a subtree. */
static int check_empty(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t ino,
		       const struct dxl_inode *in)
{
	char name[DXL_NAME_MAX + 1];
	uint64_t key, cino;
	uint32_t type;
	size_t len;
	int rc;

	if (in->nentries != 0)
		return dxl_err(ENOTEMPTY, "%s has %llu entries", path,
			       (unsigned long long)in->nentries);
	rc = dxl_dir_next(fs, tx, ino, 0, &key, &cino, &type, name, &len);
	if (rc == 0)
		return dxl_err(EUCLEAN, "%s: entry count is 0 but it holds '%s' (run fsck)", path,
			       name);
	return rc == -ENOENT ? 0 : rc;
}

static int do_rmdir(struct dxl_fs *fs, const char *path, uint64_t *reap)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	const char *name;
	size_t len;
	uint64_t dir, ino = 0;
	int rc;

	if (is_root_path(path))
		return dxl_err(EBUSY, "the root directory cannot be removed");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = dxl_namei_parent(fs, tx, path, &dir, &name, &len);
	if (!rc && len == 1 && name[0] == '.')
		rc = dxl_err(EINVAL, "cannot remove '.'; name the directory instead");
	if (!rc && len == 2 && name[0] == '.' && name[1] == '.')
		rc = dxl_err(ENOTEMPTY, "'..' is a non-empty directory");
	if (!rc)
		rc = entry_of(fs, tx, path, dir, name, len, &ino, &in);
	if (!rc && !S_ISDIR(in->mode))
		rc = dxl_err(ENOTDIR, "%s is not a directory", path);
	if (!rc && ino == fs->sb->root_ino)
		rc = dxl_err(EBUSY, "the root directory cannot be removed");
	if (!rc)
		rc = check_empty(fs, tx, path, ino, in);
	if (!rc)
		rc = dxl_dir_remove(fs, tx, dir, name, len);
	if (!rc)
		rc = drop_link(fs, tx, ino, 1);
	rc = ns_end(tx, rc);
	if (!rc)
		*reap = ino;
	return rc;
}

/* The public face of a removal: lock, remove the name, then free what
 * lost its last link. */
static int ns_remove(dxl_pool *pool, const char *path, const char *what,
		     int (*op)(struct dxl_fs *fs, const char *path, uint64_t *reap))
{
	uint64_t reap = 0;

	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "%s: no pool", what);
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = op(fs, path, &reap);
	if (!rc)
		ns_reap(fs, reap);
	dxl_fs_unlock(fs);
	return rc ? ns_fail(rc, what, path) : 0;
}

int dxl_rmdir(dxl_pool *pool, const char *path)
{
	return ns_remove(pool, path, "rmdir", do_rmdir);
}

static int do_unlink(struct dxl_fs *fs, const char *path, uint64_t *reap)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	const char *name;
	size_t len;
	uint64_t dir, ino = 0;
	int rc;

	if (is_root_path(path))
		return dxl_err(EISDIR, "the root is a directory");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = parent_of(fs, tx, path, EISDIR, &dir, &name, &len);
	if (!rc)
		rc = entry_of(fs, tx, path, dir, name, len, &ino, &in);
	if (!rc && S_ISDIR(in->mode))
		rc = dxl_err(EISDIR, "%s is a directory (use rmdir)", path);
	if (!rc && has_trailing_slash(path))
		rc = dxl_err(ENOTDIR, "%s is not a directory", path);
	if (!rc)
		rc = dxl_dir_remove(fs, tx, dir, name, len);
	if (!rc)
		rc = drop_link(fs, tx, ino, 0);
	rc = ns_end(tx, rc);
	if (!rc)
		*reap = ino;
	return rc;
}

int dxl_unlink(dxl_pool *pool, const char *path)
{
	return ns_remove(pool, path, "unlink", do_unlink);
}

/* ---------------------------------------------------------------- link / symlink */

static int do_link(struct dxl_fs *fs, const char *oldpath, const char *newpath)
{
	const struct dxl_inode *in = NULL;
	struct dxl_inode *w;
	struct dxl_tx *tx;
	const char *name;
	size_t len;
	uint64_t dir, ino;
	int rc;

	if (is_root_path(newpath))
		return dxl_err(EEXIST, "the root directory always exists");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	/* like link(2): a symlink at oldpath is linked itself, not followed */
	rc = dxl_namei(fs, tx, oldpath, 0, &ino);
	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc && S_ISDIR(in->mode))
		rc = dxl_err(EPERM, "%s is a directory; directories cannot be hard-linked",
			     oldpath);
	if (!rc && in->nlink >= NS_LINK_MAX)
		rc = dxl_err(EMLINK, "%s already has %u links", oldpath, in->nlink);
	if (!rc)
		rc = parent_of(fs, tx, newpath, EEXIST, &dir, &name, &len);
	if (!rc && dxl_dir_lookup(fs, tx, dir, name, len, NULL, NULL) == 0)
		rc = dxl_err(EEXIST, "%s already exists", newpath);
	if (!rc && has_trailing_slash(newpath))
		rc = dxl_err(ENOENT, "%s: a trailing '/' names a directory, which this would not be",
			     newpath);
	if (!rc) {
		uint32_t mode = in->mode;
		rc = dxl_dir_add(fs, tx, dir, name, len, ino, mode_to_dt(mode));
	}
	if (!rc)
		rc = dxl_inode_write(fs, tx, ino, &w);
	if (!rc) {
		w->nlink++;
		w->ctime_ns = dxl_now_ns();
	}
	return ns_end(tx, rc);
}

int dxl_link(dxl_pool *pool, const char *oldpath, const char *newpath)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "link: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_link(fs, oldpath, newpath);
	dxl_fs_unlock(fs);
	return rc ? ns_fail2(rc, "link", oldpath, newpath) : 0;
}

static int do_symlink(struct dxl_fs *fs, const char *target, const char *linkpath)
{
	struct dxl_inode *in;
	struct dxl_tx *tx;
	const char *name;
	size_t len, tlen;
	uint64_t dir;
	char *dst;
	int rc;

	if (target == NULL)
		return dxl_err(EINVAL, "no target given");
	tlen = strnlen(target, DXL_SYMLINK_MAX + 1);
	if (tlen == 0)
		return dxl_err(ENOENT, "empty symbolic link target");
	if (tlen > DXL_SYMLINK_MAX)
		return dxl_err(ENAMETOOLONG, "symbolic link target longer than %u bytes",
			       DXL_SYMLINK_MAX);
	if (is_root_path(linkpath))
		return dxl_err(EEXIST, "the root directory always exists");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = parent_of(fs, tx, linkpath, EEXIST, &dir, &name, &len);
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
	return ns_end(tx, rc);
}

int dxl_symlink(dxl_pool *pool, const char *target, const char *linkpath)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "symlink: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_symlink(fs, target, linkpath);
	dxl_fs_unlock(fs);
	return rc ? ns_fail2(rc, "symlink", target, linkpath) : 0;
}

static ssize_t do_readlink(struct dxl_fs *fs, const char *path, char *buf, size_t size)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	uint64_t ino;
	size_t n = 0;
	int rc;

	if (buf == NULL || size == 0)
		return dxl_err(EINVAL, "no buffer given");
	rc = ns_begin(fs, 0, &tx);
	if (rc)
		return rc;
	rc = dxl_namei(fs, tx, path, 0, &ino);
	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc && !S_ISLNK(in->mode))
		rc = dxl_err(EINVAL, "%s is not a symbolic link", path);
	if (!rc && (in->size == 0 || in->size > DXL_SYMLINK_MAX))
		rc = dxl_err(EUCLEAN, "%s: symbolic link has a bad length %llu", path,
			     (unsigned long long)in->size);
	if (!rc) {
		n = DXL_MIN((size_t)in->size, size);
		memcpy(buf, (const char *)in + DXL_INODE_HDR, n);
		if (n < size)
			buf[n] = '\0'; /* a convenience readlink(2) does not give */
	}
	dxl_tx_abort(tx);
	return rc ? rc : (ssize_t)n;
}

ssize_t dxl_readlink(dxl_pool *pool, const char *path, char *buf, size_t size)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "readlink: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	ssize_t n = do_readlink(fs, path, buf, size);
	dxl_fs_unlock(fs);
	return n < 0 ? ns_fail((int)n, "readlink", path) : n;
}

/* ---------------------------------------------------------------- rename */

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
	int rc = parent_of(fs, tx, s->path, EINVAL, &s->dir, &s->name, &s->len);

	if (rc)
		return rc;
	s->ino = 0;
	rc = dxl_dir_lookup(fs, tx, s->dir, s->name, s->len, &ino, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0) {
		const struct dxl_inode *in = NULL;
		rc = entry_of(fs, tx, s->path, s->dir, s->name, s->len, &ino, &in);
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

static int do_rename(struct dxl_fs *fs, const char *oldpath, const char *newpath,
		     unsigned flags, uint64_t *reap)
{
	struct ren_side o = { .path = oldpath }, n = { .path = newpath };
	struct dxl_tx *tx;
	int odir, ndir, rc;

	if (flags & ~(unsigned)(DXL_RENAME_NOREPLACE | DXL_RENAME_EXCHANGE))
		return dxl_err(EINVAL, "unknown flags %#x", flags);
	if ((flags & DXL_RENAME_NOREPLACE) && (flags & DXL_RENAME_EXCHANGE))
		return dxl_err(EINVAL, "NOREPLACE and EXCHANGE exclude each other");
	if (is_root_path(oldpath) || is_root_path(newpath))
		return dxl_err(EBUSY, "the root directory cannot be renamed or replaced");
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = ren_resolve(fs, tx, &o);
	if (!rc && o.ino == 0)
		rc = dxl_err(ENOENT, "%s does not exist", oldpath);
	if (!rc)
		rc = ren_resolve(fs, tx, &n);
	if (rc)
		goto out;
	odir = S_ISDIR(o.mode);
	ndir = n.ino && S_ISDIR(n.mode);
	if (has_trailing_slash(oldpath) && !odir) {
		rc = dxl_err(ENOTDIR, "%s is not a directory", oldpath);
		goto out;
	}

	if (n.ino == 0) {
		/* plain move to a free name */
		if (flags & DXL_RENAME_EXCHANGE) {
			rc = dxl_err(ENOENT, "%s does not exist, nothing to exchange with", newpath);
			goto out;
		}
		if (has_trailing_slash(newpath) && !odir) {
			rc = dxl_err(ENOTDIR, "%s: a trailing '/' names a directory, %s is not one",
				     newpath, oldpath);
			goto out;
		}
		if (odir)
			rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
		if (!rc)
			rc = dxl_dir_remove(fs, tx, o.dir, o.name, o.len);
		if (!rc)
			rc = dxl_dir_add(fs, tx, n.dir, n.name, n.len, o.ino, mode_to_dt(o.mode));
		if (!rc && odir && o.dir != n.dir)
			rc = set_parent(fs, tx, o.ino, n.dir);
		if (!rc)
			rc = touch_ctime(fs, tx, o.ino);
		goto out;
	}

	if (flags & DXL_RENAME_NOREPLACE) {
		rc = dxl_err(EEXIST, "%s exists", newpath);
		goto out;
	}
	if (n.ino == o.ino) {
		/* POSIX: two links to the same file — nothing happens */
		dxl_tx_abort(tx);
		return 0;
	}

	if (flags & DXL_RENAME_EXCHANGE) {
		/* each directory moves into the other's parent */
		if (odir)
			rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
		if (!rc && ndir)
			rc = check_not_into_self(fs, tx, n.ino, o.dir, newpath, oldpath);
		if (!rc)
			rc = dxl_dir_retarget(fs, tx, o.dir, o.name, o.len, n.ino,
					      mode_to_dt(n.mode));
		if (!rc)
			rc = dxl_dir_retarget(fs, tx, n.dir, n.name, n.len, o.ino,
					      mode_to_dt(o.mode));
		if (!rc && odir && o.dir != n.dir)
			rc = set_parent(fs, tx, o.ino, n.dir);
		if (!rc && ndir && o.dir != n.dir)
			rc = set_parent(fs, tx, n.ino, o.dir);
		if (!rc)
			rc = touch_ctime(fs, tx, o.ino);
		if (!rc)
			rc = touch_ctime(fs, tx, n.ino);
		goto out;
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
			rc = check_empty(fs, tx, newpath, n.ino, nin);
	}
	if (!rc && odir)
		rc = check_not_into_self(fs, tx, o.ino, n.dir, oldpath, newpath);
	if (!rc)
		rc = dxl_dir_retarget(fs, tx, n.dir, n.name, n.len, o.ino, mode_to_dt(o.mode));
	if (!rc)
		rc = dxl_dir_remove(fs, tx, o.dir, o.name, o.len);
	if (!rc && odir && o.dir != n.dir)
		rc = set_parent(fs, tx, o.ino, n.dir);
	if (!rc)
		rc = touch_ctime(fs, tx, o.ino);
	if (!rc)
		rc = drop_link(fs, tx, n.ino, ndir);
	if (!rc)
		*reap = n.ino;
out:
	rc = ns_end(tx, rc);
	if (rc)
		*reap = 0;
	return rc;
}

int dxl_rename(dxl_pool *pool, const char *oldpath, const char *newpath, unsigned flags)
{
	uint64_t reap = 0;

	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "rename: no pool");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_rename(fs, oldpath, newpath, flags, &reap);
	if (!rc && reap)
		ns_reap(fs, reap);
	dxl_fs_unlock(fs);
	return rc ? ns_fail2(rc, "rename", oldpath, newpath) : 0;
}

/* ---------------------------------------------------------------- attributes */

enum attr_op { ATTR_CHMOD, ATTR_CHOWN, ATTR_UTIMES };

struct attr_args {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	const struct timespec *times;
	int nofollow;         /* lchown, lutimens: the symlink itself */
};

static int ts_to_ns(const struct timespec *ts, int64_t now, int64_t *out)
{
	if (ts->tv_nsec == UTIME_NOW) {
		*out = now;
		return 0;
	}
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return dxl_err(EINVAL, "tv_nsec %ld is out of range", (long)ts->tv_nsec);
	/* nanoseconds in an int64 cover the years 1678..2262 */
	if (ts->tv_sec > INT64_MAX / 1000000000LL - 1 || ts->tv_sec < INT64_MIN / 1000000000LL + 1)
		return dxl_err(EOVERFLOW, "time %lld s is out of the representable range",
			       (long long)ts->tv_sec);
	*out = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
	return 0;
}

static int do_attr(struct dxl_fs *fs, const char *path, enum attr_op op,
		   const struct attr_args *a)
{
	struct dxl_inode *w;
	struct dxl_tx *tx;
	uint64_t ino;
	int64_t now = dxl_now_ns(), at = 0, mt = 0;
	int set_at = 1, set_mt = 1;
	int rc;

	if (op == ATTR_UTIMES && a->times) {
		set_at = a->times[0].tv_nsec != UTIME_OMIT;
		set_mt = a->times[1].tv_nsec != UTIME_OMIT;
		if (set_at && (rc = ts_to_ns(&a->times[0], now, &at)))
			return rc;
		if (set_mt && (rc = ts_to_ns(&a->times[1], now, &mt)))
			return rc;
	} else {
		at = mt = now;
	}
	rc = ns_begin(fs, 1, &tx);
	if (rc)
		return rc;
	rc = dxl_namei(fs, tx, path, !a->nofollow, &ino);
	if (!rc && op == ATTR_UTIMES && !set_at && !set_mt) {
		/* both omitted: nothing changes, not even ctime (as utimensat) */
		dxl_tx_abort(tx);
		return 0;
	}
	if (!rc)
		rc = dxl_inode_write(fs, tx, ino, &w);
	if (!rc) {
		switch (op) {
		case ATTR_CHMOD:
			w->mode = (w->mode & S_IFMT) | ((uint32_t)a->mode & 07777);
			break;
		case ATTR_CHOWN:
			if (a->uid != (uid_t)-1)
				w->uid = a->uid;
			if (a->gid != (gid_t)-1)
				w->gid = a->gid;
			break;
		case ATTR_UTIMES:
			if (set_at)
				w->atime_ns = at;
			if (set_mt)
				w->mtime_ns = mt;
			break;
		}
		w->ctime_ns = now;
	}
	return ns_end(tx, rc);
}

/* The public face of the attribute calls. */
static int ns_attr(dxl_pool *pool, const char *path, const char *what, int op,
		   const struct attr_args *a)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "%s: no pool", what);
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = do_attr(fs, path, op, a);
	dxl_fs_unlock(fs);
	return rc ? ns_fail(rc, what, path) : 0;
}

int dxl_chmod(dxl_pool *pool, const char *path, mode_t mode)
{
	struct attr_args a = { .mode = mode };
	return ns_attr(pool, path, "chmod", ATTR_CHMOD, &a);
}

int dxl_chown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid)
{
	struct attr_args a = { .uid = uid, .gid = gid };
	return ns_attr(pool, path, "chown", ATTR_CHOWN, &a);
}

int dxl_lchown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid)
{
	struct attr_args a = { .uid = uid, .gid = gid, .nofollow = 1 };
	return ns_attr(pool, path, "lchown", ATTR_CHOWN, &a);
}

int dxl_utimens(dxl_pool *pool, const char *path, const struct timespec times[2])
{
	struct attr_args a = { .times = times };
	return ns_attr(pool, path, "utimens", ATTR_UTIMES, &a);
}

int dxl_lutimens(dxl_pool *pool, const char *path, const struct timespec times[2])
{
	struct attr_args a = { .times = times, .nofollow = 1 };
	return ns_attr(pool, path, "lutimens", ATTR_UTIMES, &a);
}

/* ---------------------------------------------------------------- directory streams */

/*
 * A stream is just (directory inode, generation, cookie).  Each readdir
 * looks up the first key >= cookie under the lock, so entries added or
 * removed between calls never invalidate the stream: an entry present for
 * the whole time is returned exactly once (keys never move: rename over
 * keeps the key, collisions take a fresh k), one added or removed meanwhile
 * may or may not be — POSIX's readdir rule.
 */
int dxl_opendir(dxl_pool *pool, const char *path, dxl_dir **out)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	struct dxl_dir *d = NULL;
	uint64_t ino;

	dxl_err_clear();
	if (pool == NULL || out == NULL)
		return dxl_err(EINVAL, "opendir: no pool or no result pointer");
	struct dxl_fs *fs = &pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = ns_begin(fs, 0, &tx);
	if (!rc) {
		rc = dxl_namei(fs, tx, path, 1, &ino);
		if (!rc)
			rc = dxl_inode_read(fs, tx, ino, &in);
		if (!rc && !S_ISDIR(in->mode))
			rc = dxl_err(ENOTDIR, "%s is not a directory", path);
		if (!rc) {
			d = calloc(1, sizeof(*d));
			if (d == NULL)
				rc = dxl_err(ENOMEM, "out of memory");
		}
		if (!rc) {
			d->pool = pool;
			d->ino = ino;
			d->gen = in->gen;
			d->cookie = 0;
			/* Like an open directory fd: while the stream exists, a
			 * rmdir leaves the inode to us (reaped at closedir), so it
			 * cannot be reused under the stream in this process. */
			rc = dxl_inode_open_get(fs, ino);
			if (rc) {
				free(d);
				d = NULL;
			}
		}
		dxl_tx_abort(tx);
	}
	dxl_fs_unlock(fs);
	if (rc)
		return ns_fail(rc, "opendir", path);
	*out = d;
	return 0;
}

int dxl_readdir(dxl_dir *d, struct dxl_dirent *ent)
{
	const struct dxl_inode *in = NULL;
	struct dxl_tx *tx;
	uint64_t key, ino;
	uint32_t type;
	size_t len;

	dxl_err_clear();
	if (d == NULL || ent == NULL)
		return dxl_err(EINVAL, "readdir: no directory stream or no entry buffer");
	if (d->cookie >= NS_COOKIE_END)
		return 0;
	struct dxl_fs *fs = &d->pool->fs;
	int rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = ns_begin(fs, 0, &tx);
	if (rc)
		goto unlock;
	/* A directory removed since opendir reads as empty, like a removed
	 * directory on Linux; its inode may even belong to another file now. */
	rc = dxl_inode_read(fs, tx, d->ino, &in);
	if (rc && dxl_meta_used(fs, tx, d->ino) == 0)
		rc = -ENOENT; /* freed by another process that had it open no more */
	if (rc == -ENOENT || (rc == 0 && (in->gen != d->gen || !S_ISDIR(in->mode) ||
					  in->nlink == 0))) {
		d->cookie = NS_COOKIE_END;
		rc = 0;
		dxl_err_clear();
		goto abort;
	}
	if (rc)
		goto abort;
	rc = dxl_dir_next(fs, tx, d->ino, d->cookie, &key, &ino, &type, ent->name, &len);
	if (rc == -ENOENT) {
		d->cookie = NS_COOKIE_END;
		rc = 0;
		goto abort;
	}
	if (rc)
		goto abort;
	ent->ino = ino;
	ent->type = type;
	d->cookie = key + 1;
	ent->cookie = d->cookie;
	rc = 1;
abort:
	dxl_tx_abort(tx);
unlock:
	dxl_fs_unlock(fs);
	if (rc < 0) {
		char what[32];
		snprintf(what, sizeof(what), "inode %llu", (unsigned long long)d->ino);
		return ns_fail(rc, "readdir", what);
	}
	return rc;
}

void dxl_seekdir(dxl_dir *d, uint64_t cookie)
{
	if (d)
		d->cookie = cookie;
}

int dxl_closedir(dxl_dir *d)
{
	dxl_err_clear();
	if (d == NULL)
		return 0;
	struct dxl_fs *fs = &d->pool->fs;
	if (dxl_fs_inherited(fs)) {
		free(d); /* the child's copy: the parent's count is its own */
		return 0;
	}
	int rc = dxl_fs_lock(fs);
	if (rc) {
		/* the open count is process-local: leaving it set only delays
		 * the reaping of a removed directory to the next first open */
		free(d);
		return rc;
	}
	dxl_inode_open_put(fs, d->ino);
	/* Removed while we read it: free it now that no one here has it open
	 * (only if it is still our directory, not a reuse of its block). */
	{
		const struct dxl_inode *in = NULL;
		if (dxl_inode_read(fs, NULL, d->ino, &in) == 0 && in->gen == d->gen)
			ns_reap(fs, d->ino);
		dxl_err_clear();
	}
	dxl_fs_unlock(fs);
	free(d);
	return 0;
}
