/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Path walk.
 *
 * Rules (docs/namespace.md has the long form):
 *  - Paths are absolute in the pool; a missing leading '/' means the same.
 *    Repeated slashes are one.  The empty path is -ENOENT; a component
 *    over DXL_NAME_MAX is -ENAMETOOLONG.  A path has no length limit of
 *    the kernel's PATH_MAX kind (a mount hands the library paths counted
 *    from the pool's root, which can be as deep as the tree): only one of
 *    DXL_PATH_WALK_MAX bytes or more, there to bound the work of a
 *    malformed call, is -ENAMETOOLONG.
 *  - "." is the directory itself; ".." is the directory's parent field
 *    (the root's parent is the root).  Both are resolved on the walk, not
 *    stored as entries.
 *  - Symlinks are followed in intermediate components, and at the end when
 *    follow is set or the path ends in '/'.  A relative target resolves from
 *    the directory holding the link, an absolute one from the pool root.
 *    More than DXL_SYMLOOP_MAX links in one walk is -ELOOP.
 *  - A non-directory where a directory is needed is -ENOTDIR, including a
 *    trailing '/' after a file.
 *
 * The walk rewrites a private copy of the path: a symlink's target replaces
 * the components walked so far (target + remaining tail), so the walk needs
 * no recursion and no stack of link states, and the length check of the
 * expanded path bounds the work.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

struct walk {
	char *buf;        /* small, or allocated for a long path */
	size_t n;         /* bytes in buf */
	size_t cap;
	int links;        /* symlinks followed so far */
	char small[DXL_PATH_MAX];
};

/* Start a walk of path[0, len). */
static int walk_init(struct walk *w, const char *path, size_t len)
{
	w->buf = w->small;
	w->cap = sizeof(w->small);
	if (len >= w->cap) {
		w->buf = malloc(len + 1);
		if (!w->buf)
			return dxl_err(ENOMEM, "path walk: out of memory");
		w->cap = len + 1;
	}
	memcpy(w->buf, path, len);
	w->n = len;
	w->links = 0;
	return 0;
}

static void walk_fini(struct walk *w)
{
	if (w->buf != w->small)
		free(w->buf);
}

static int is_dot(const char *s, size_t len)
{
	return len == 1 && s[0] == '.';
}

static int is_dotdot(const char *s, size_t len)
{
	return len == 2 && s[0] == '.' && s[1] == '.';
}

/* Replace buf[0, e) by the target of symlink ino (the tail buf[e, n) stays). */
static int expand_link(struct dxl_fs *fs, struct dxl_tx *tx, struct walk *w, size_t e,
		       const struct dxl_inode *in)
{
	const char *target;
	size_t tlen = in->size;

	if (++w->links > DXL_SYMLOOP_MAX)
		return dxl_err(ELOOP, "%.*s: more than %d symbolic links on the way", (int)e,
			       w->buf, DXL_SYMLOOP_MAX);
	if (tlen == 0 || tlen > DXL_SYMLINK_MAX)
		return dxl_err(EUCLEAN, "%.*s: symbolic link inode %llu has a bad length %zu",
			       (int)e, w->buf, (unsigned long long)in->ino, tlen);
	/* The target lives raw in the inode block after the inode header.  in
	 * points to the start of that block (as tx sees it). */
	target = (const char *)in + DXL_INODE_HDR;
	if (memchr(target, '\0', tlen))
		return dxl_err(EUCLEAN, "%.*s: symbolic link inode %llu has a NUL in its target",
			       (int)e, w->buf, (unsigned long long)in->ino);
	if (tlen + (w->n - e) >= DXL_PATH_WALK_MAX)
		return dxl_err(ENAMETOOLONG,
			       "%.*s: path is longer than %u bytes after following the "
			       "symbolic link",
			       (int)e, w->buf, DXL_PATH_WALK_MAX - 1);
	if (tlen + (w->n - e) >= w->cap) {
		size_t cap = tlen + (w->n - e) + 1;
		char *nb = malloc(cap);
		if (!nb)
			return dxl_err(ENOMEM, "path walk: out of memory");
		memcpy(nb, w->buf, w->n);
		walk_fini(w);
		w->buf = nb;
		w->cap = cap;
	}
	memmove(w->buf + tlen, w->buf + e, w->n - e);
	memcpy(w->buf, target, tlen);
	w->n = tlen + (w->n - e);
	(void)fs;
	(void)tx;
	return 0;
}

/*
 * Walk w->buf from the root.  follow: follow a symlink in the last
 * component.  On success *out is the inode the whole path names.
 */
static int walk(struct dxl_fs *fs, struct dxl_tx *tx, struct walk *w, int follow,
		uint64_t *out)
{
	const uint64_t root = fs->sb->root_ino;
	uint64_t cur = root;  /* always a directory */
	size_t i = 0;
	int rc;

restart:
	/* An absolute path, or an absolute symlink target, starts at the
	 * root; a relative target continues from the link's directory. */
	if (w->n > 0 && w->buf[0] == '/')
		cur = root;
	i = 0;
	for (;;) {
		const struct dxl_inode *in = NULL;
		size_t s, e, j;
		int last, trailing;
		uint64_t child;
		uint32_t type;

		while (i < w->n && w->buf[i] == '/')
			i++;
		if (i >= w->n) {
			*out = cur;
			return 0;
		}
		s = i;
		while (i < w->n && w->buf[i] != '/')
			i++;
		e = i;
		for (j = e; j < w->n && w->buf[j] == '/'; j++)
			;
		last = j >= w->n;
		trailing = last && j > e;

		if (e - s > DXL_NAME_MAX)
			return dxl_err(ENAMETOOLONG, "component '%.32s...' is %zu bytes, longer than %u",
				       w->buf + s, e - s, DXL_NAME_MAX);
		if (is_dot(w->buf + s, e - s))
			continue;
		if (is_dotdot(w->buf + s, e - s)) {
			rc = dxl_inode_read(fs, tx, cur, &in);
			if (rc)
				return rc;
			cur = in->parent;
			continue;
		}
		rc = dxl_dir_lookup(fs, tx, cur, w->buf + s, e - s, &child, &type);
		if (rc == -ENOENT)
			return dxl_err(ENOENT, "%.*s does not exist", (int)e, w->buf);
		if (rc)
			return rc;
		rc = dxl_inode_read(fs, tx, child, &in);
		if (rc)
			return dxl_err(rc == -ENOENT ? EUCLEAN : -rc,
				       "%.*s: entry points to inode %llu, which is %s", (int)e,
				       w->buf, (unsigned long long)child,
				       rc == -ENOENT ? "not in use" : "unreadable");
		if (S_ISLNK(in->mode) && (!last || follow || trailing)) {
			rc = expand_link(fs, tx, w, e, in);
			if (rc)
				return rc;
			goto restart;
		}
		if (last && !trailing) {
			*out = child;
			return 0;
		}
		if (!S_ISDIR(in->mode))
			return dxl_err(ENOTDIR, "%.*s is not a directory", (int)e, w->buf);
		cur = child;
	}
}

/* Common checks of a caller's path; returns its length. */
static int path_len(const char *path, size_t *len)
{
	if (path == NULL)
		return dxl_err(EINVAL, "no path given");
	*len = strnlen(path, DXL_PATH_WALK_MAX);
	if (*len == 0)
		return dxl_err(ENOENT, "empty path");
	if (*len >= DXL_PATH_WALK_MAX)
		return dxl_err(ENAMETOOLONG, "path '%.40s...' is longer than %u bytes", path,
			       DXL_PATH_WALK_MAX - 1);
	return 0;
}

int dxl_namei(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, int follow,
	      uint64_t *ino)
{
	struct walk w;
	size_t len = 0;
	int rc = path_len(path, &len);

	if (rc == 0)
		rc = walk_init(&w, path, len);
	if (rc)
		return rc;
	rc = walk(fs, tx, &w, follow, ino);
	walk_fini(&w);
	return rc;
}

int dxl_namei_parent(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t *dir,
		     const char **name, size_t *len)
{
	const struct dxl_inode *in = NULL;
	struct walk w;
	size_t plen = 0, end, start;
	int rc = path_len(path, &plen);

	if (rc)
		return rc;
	end = plen;
	while (end > 0 && path[end - 1] == '/')
		end--;
	if (end == 0)
		return dxl_err(EINVAL, "%s names the root directory, which has no parent", path);
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end - start > DXL_NAME_MAX)
		return dxl_err(ENAMETOOLONG, "name '%.32s...' is %zu bytes, longer than %u",
			       path + start, end - start, DXL_NAME_MAX);
	/* The directory part keeps its trailing '/', so the walk insists that
	 * it is a directory (following a final symlink to one). */
	rc = walk_init(&w, path, start);
	if (rc)
		return rc;
	rc = walk(fs, tx, &w, 1, dir);
	walk_fini(&w);
	if (rc)
		return rc;
	/* walk() only returns non-directories for a last component without
	 * '/', which the directory part never has — but check, since creating
	 * an entry in a file's extent tree would be a disaster. */
	rc = dxl_inode_read(fs, tx, *dir, &in);
	if (rc)
		return rc;
	if (!S_ISDIR(in->mode))
		return dxl_err(ENOTDIR, "%.*s is not a directory", (int)start, path);
	*name = path + start;
	*len = end - start;
	return 0;
}
