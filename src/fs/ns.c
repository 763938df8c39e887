/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The namespace half of the public API -- stat, mkdir, rmdir, unlink,
 * link, symlink, readlink, rename, chmod, chown, utimens and directory
 * streams -- is one file per job:
 *
 *   ns.c         this file: the wrapper every call runs through (ns.h
 *                says what it does) and the steps several calls share;
 *   ns_read.c    calls that only read: stat, readlink, directory streams;
 *   ns_link.c    calls that add or remove one name: mkdir, rmdir,
 *                unlink, link, symlink;
 *   ns_rename.c  rename, with its NOREPLACE and EXCHANGE forms;
 *   ns_attr.c    chmod, chown, utimens and their l- forms.
 *
 * A call that dropped a link reaps the inode after committing: the inode
 * sits on the orphan list inside the transaction, so a crash between
 * commit and reap leaves an orphan that the next open frees, never a leak.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ns.h"

/* ---------------------------------------------------------------- the wrapper */

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

static int ns_failure(const struct ns_call *c, int rc)
{
	char what[32];

	switch (c->names) {
	case NS_PATHS:
		return ns_fail2(rc, c->op, c->path, c->path2);
	case NS_INODE:
		snprintf(what, sizeof(what), "inode %llu", (unsigned long long)c->ino);
		return ns_fail(rc, c->op, what);
	case NS_PATH:
	default:
		return ns_fail(rc, c->op, c->path);
	}
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

void dxl_ns_reap(struct dxl_fs *fs, uint64_t ino)
{
	if (ino)
		(void)dxl_inode_reap(fs, ino);
	dxl_err_clear();
}

int dxl_ns_run(struct dxl_fs *fs, struct ns_call *c)
{
	struct dxl_tx *tx;
	int rc = dxl_fs_lock(fs);

	if (rc)
		return rc;
	rc = c->check ? c->check(fs, c) : 0;
	if (!rc)
		rc = ns_begin(fs, c->modify, &tx);
	if (!rc) {
		rc = c->body(fs, tx, c);
		if (rc == 0 && c->modify) {
			rc = dxl_tx_commit(tx);
		} else {
			dxl_tx_abort(tx);
			if (rc == NS_UNCHANGED)
				rc = 0;
		}
	}
	if (!rc && c->reap)
		dxl_ns_reap(fs, c->reap);
	dxl_fs_unlock(fs);
	return rc ? ns_failure(c, rc) : c->result;
}

int dxl_ns_call(dxl_pool *pool, struct ns_call *c)
{
	dxl_err_clear();
	if (pool == NULL)
		return dxl_err(EINVAL, "%s: no pool", c->op);
	return dxl_ns_run(&pool->fs, c);
}

/* ---------------------------------------------------------------- shared steps */

uint32_t dxl_ns_mode_to_dt(uint32_t mode)
{
	return dxl_fmt_dt_of(mode);
}

int dxl_ns_is_root(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	for (; *path; path++)
		if (*path != '/')
			return 0;
	return 1;
}

int dxl_ns_trailing_slash(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 0 && path[n - 1] == '/';
}

static int is_dot_name(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

int dxl_ns_parent_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, int dot_err,
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

int dxl_ns_entry_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t dir,
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

/* A directory also loses its "." link: it goes to nlink 0 at once (and
 * onto the orphan list). */
int dxl_ns_drop_link(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, int is_dir)
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

/* Count and tree must agree before we throw the tree away, or a damaged
 * count would lose a subtree. */
int dxl_ns_check_empty(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t ino,
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
