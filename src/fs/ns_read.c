/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The namespace calls that only read: stat and lstat, readlink, and the
 * directory streams (opendir, readdir, seekdir, closedir).  Each runs in a
 * transaction that is aborted, there being nothing to apply; they are apart
 * from the calls that change the tree so that what may change it is in
 * ns_link.c, ns_rename.c and ns_attr.c only.  The wrapper: ns.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ns.h"

/* Readdir cookies >= this are past every key (keys are < 2^63, dirhash.c). */
#define NS_COOKIE_END (1ull << 63)

struct dxl_dir {
	dxl_pool *pool;
	uint64_t ino;
	uint64_t gen;      /* detects a directory removed and its inode reused */
	uint64_t cookie;   /* next key to look at */
};

/* ---------------------------------------------------------------- stat */

struct stat_args {
	int follow;
	struct dxl_stat *st;
};

static int stat_check(struct dxl_fs *fs, struct ns_call *c)
{
	const struct stat_args *a = c->arg;

	if (a->st == NULL)
		return dxl_err(EINVAL, "no stat buffer given");
	return 0;
}

static int stat_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const struct stat_args *a = c->arg;
	const struct dxl_inode *in = NULL;
	uint64_t ino;
	int rc = dxl_namei(fs, tx, c->path, a->follow, &ino);

	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc)
		dxl_inode_to_stat(fs, in, a->st);
	return rc;
}

/*
 * A stat without the lock: the pool's commit count is odd while any
 * commit changes blocks in place, so a lookup that saw the same even
 * count before and after saw one state of the tree (every node access is
 * bounds-checked and the inode's checksum verified, so a read that met a
 * change fails or is thrown away).  0, or 1 when the locked path must run
 * — on any failure too, so that errors come from one place.
 */
static int stat_unlocked(struct dxl_fs *fs, const char *path, int follow, struct dxl_stat *st)
{
	const struct dxl_inode *in = NULL;
	struct dxl_stat tmp;
	uint64_t s, ino;
	int rc;

	if (DXL_TSAN || !fs->j.changes || !path || !st || dxl_fs_usable(fs))
		return 1; /* TSan cannot follow a seqcount: it takes the lock */
	s = __atomic_load_n(fs->j.changes, __ATOMIC_ACQUIRE);
	if (s & 1)
		return 1;
	rc = dxl_namei(fs, NULL, path, follow, &ino);
	if (rc == 0)
		rc = dxl_inode_read(fs, NULL, ino, &in);
	if (rc == 0)
		dxl_inode_to_stat(fs, in, &tmp);
#if !DXL_TSAN
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
	if (rc || __atomic_load_n(fs->j.changes, __ATOMIC_RELAXED) != s)
		return 1;
	*st = tmp;
	return 0;
}

static int ns_stat(dxl_pool *pool, const char *op, const char *path, int follow,
		   struct dxl_stat *st)
{
	struct stat_args a = { .follow = follow, .st = st };

	if (pool && stat_unlocked(&pool->fs, path, follow, st) == 0) {
		dxl_err_clear(); /* a try thrown away may have left one */
		return 0;
	}
	struct ns_call c = { .op = op, .path = path, .check = stat_check, .body = stat_body,
			     .arg = &a };
	return dxl_ns_call(pool, &c);
}

/* The caller's struct dxl_stat may be of an older or newer header. */
static int ns_stat_sized(dxl_pool *pool, const char *op, const char *path, int follow,
			 struct dxl_stat *st, size_t st_size)
{
	struct dxl_stat full;
	int rc = st ? dxl_struct_size_ok(st_size, DXL_STAT_SIZE_VER0, op) : 0;

	if (rc == 0)
		rc = ns_stat(pool, op, path, follow, st ? &full : NULL);
	if (rc == 0)
		dxl_struct_out(st, st_size, &full, sizeof(full));
	return rc;
}

int(dxl_stat)(dxl_pool *pool, const char *path, struct dxl_stat *st, size_t st_size)
{
	return ns_stat_sized(pool, "stat", path, 1, st, st_size);
}

int(dxl_lstat)(dxl_pool *pool, const char *path, struct dxl_stat *st, size_t st_size)
{
	return ns_stat_sized(pool, "lstat", path, 0, st, st_size);
}

/* ---------------------------------------------------------------- readlink */

struct readlink_args {
	char *buf;
	size_t size;
};

static int readlink_check(struct dxl_fs *fs, struct ns_call *c)
{
	const struct readlink_args *a = c->arg;

	if (a->buf == NULL || a->size == 0)
		return dxl_err(EINVAL, "no buffer given");
	return 0;
}

static int readlink_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const struct readlink_args *a = c->arg;
	const struct dxl_inode *in = NULL;
	uint64_t ino;
	size_t n;
	int rc = dxl_namei(fs, tx, c->path, 0, &ino);

	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc && !S_ISLNK(in->mode))
		rc = dxl_err(EINVAL, "%s is not a symbolic link", c->path);
	if (!rc && (in->size == 0 || in->size > DXL_SYMLINK_MAX))
		rc = dxl_err(EUCLEAN, "%s: symbolic link has a bad length %llu", c->path,
			     (unsigned long long)in->size);
	if (rc)
		return rc;
	n = DXL_MIN((size_t)in->size, a->size);
	memcpy(a->buf, (const char *)in + DXL_INODE_HDR, n);
	if (n < a->size)
		a->buf[n] = '\0'; /* a convenience readlink(2) does not give */
	c->result = (int)n; /* at most DXL_SYMLINK_MAX */
	return 0;
}

ssize_t dxl_readlink(dxl_pool *pool, const char *path, char *buf, size_t size)
{
	struct readlink_args a = { .buf = buf, .size = size };
	struct ns_call c = { .op = "readlink", .path = path, .check = readlink_check,
			     .body = readlink_body, .arg = &a };
	return dxl_ns_call(pool, &c);
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
struct opendir_args {
	dxl_pool *pool;
	struct dxl_dir *d;
};

static int opendir_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	struct opendir_args *a = c->arg;
	const struct dxl_inode *in = NULL;
	struct dxl_dir *d;
	uint64_t ino;
	int rc = dxl_namei(fs, tx, c->path, 1, &ino);

	if (!rc)
		rc = dxl_inode_read(fs, tx, ino, &in);
	if (!rc && !S_ISDIR(in->mode))
		rc = dxl_err(ENOTDIR, "%s is not a directory", c->path);
	if (rc)
		return rc;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return dxl_err(ENOMEM, "out of memory");
	d->pool = a->pool;
	d->ino = ino;
	d->gen = in->gen;
	d->cookie = 0;
	/* Like an open directory fd: while the stream exists, a rmdir leaves
	 * the inode to us (reaped at closedir), so it cannot be reused under
	 * the stream in this process. */
	rc = dxl_inode_open_get(fs, ino);
	if (rc) {
		free(d);
		return rc;
	}
	a->d = d;
	return 0;
}

int dxl_opendir(dxl_pool *pool, const char *path, dxl_dir **out)
{
	struct opendir_args a = { .pool = pool };
	struct ns_call c = { .op = "opendir", .path = path, .body = opendir_body, .arg = &a };

	dxl_err_clear();
	if (pool == NULL || out == NULL)
		return dxl_err(EINVAL, "opendir: no pool or no result pointer");
	int rc = dxl_ns_run(&pool->fs, &c);
	if (rc)
		return rc;
	*out = a.d;
	return 0;
}

struct readdir_args {
	dxl_dir *d;
	struct dxl_dirent *ent;
};

/* c->result: 1 with an entry in ent, 0 at the end of the stream. */
static int readdir_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	struct readdir_args *a = c->arg;
	struct dxl_dir *d = a->d;
	const struct dxl_inode *in = NULL;
	uint64_t key, ino;
	uint32_t type;
	size_t len;
	/* A directory removed since opendir reads as empty, like a removed
	 * directory on Linux; its inode may even belong to another file now. */
	int rc = dxl_inode_read(fs, tx, d->ino, &in);

	if (rc && dxl_meta_used(fs, tx, d->ino) == 0)
		rc = -ENOENT; /* freed by another process that had it open no more */
	if (rc == -ENOENT || (rc == 0 && (in->gen != d->gen || !S_ISDIR(in->mode) ||
					  in->nlink == 0))) {
		d->cookie = NS_COOKIE_END;
		dxl_err_clear();
		return 0;
	}
	if (rc)
		return rc;
	rc = dxl_dir_next(fs, tx, d->ino, d->cookie, &key, &ino, &type, a->ent->name, &len);
	if (rc == -ENOENT) {
		d->cookie = NS_COOKIE_END;
		return 0;
	}
	if (rc)
		return rc;
	a->ent->ino = ino;
	a->ent->type = type;
	d->cookie = key + 1;
	a->ent->cookie = d->cookie;
	c->result = 1;
	return 0;
}

int(dxl_readdir)(dxl_dir *d, struct dxl_dirent *ent, size_t ent_size)
{
	struct dxl_dirent full;
	int rc;

	dxl_err_clear();
	if (d == NULL || ent == NULL)
		return dxl_err(EINVAL, "readdir: no directory stream or no entry buffer");
	if ((rc = dxl_struct_size_ok(ent_size, DXL_DIRENT_SIZE_VER0, "readdir")))
		return rc;
	if (d->cookie >= NS_COOKIE_END)
		return 0;

	struct readdir_args a = { .d = d, .ent = &full };
	struct ns_call c = { .op = "readdir", .names = NS_INODE, .ino = d->ino,
			     .body = readdir_body, .arg = &a };
	rc = dxl_ns_run(&d->pool->fs, &c);
	if (rc == 1)
		dxl_struct_out(ent, ent_size, &full, sizeof(full));
	return rc;
}

void dxl_seekdir(dxl_dir *d, uint64_t cookie)
{
	if (d)
		d->cookie = cookie;
}

/* Not through the wrapper: no transaction, and it frees the stream
 * whether or not it gets the lock. */
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
			dxl_ns_reap(fs, d->ino);
		dxl_err_clear();
	}
	dxl_fs_unlock(fs);
	free(d);
	return 0;
}
