/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FUSE operations: each one is a call (rarely two) of the public library
 * API on the pool this process opened. Library errors are negative errnos,
 * which is what libfuse expects back, so they pass through unchanged.
 *
 * The high-level (path-based) libfuse API fits the library, whose namespace
 * calls take paths: libfuse keeps the inode-number-to-path table we would
 * otherwise have to build. See docs/mount.md for the choices made here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "hidden.h"
#include "internal.h"

/* Largest piece a buffered copy_file_range moves per request. */
#define DXF_COPY_CHUNK (1u << 20)
#define DXF_COPY_MAX (64u << 20)

static struct dxf_ctx *ctx(void)
{
	return fuse_get_context()->private_data;
}

static struct dxf_handle *handle(const struct fuse_file_info *fi)
{
	return fi ? (struct dxf_handle *)(uintptr_t)fi->fh : NULL;
}

/* Pass a library result through, telling the operator about failures with -d. */
static long lib(const char *op, const char *path, long rc)
{
	struct dxf_ctx *c = ctx();

	if (rc < 0 && c->debug && rc != -ENOENT)
		fprintf(stderr, "daxlease: mount: %s %s: %s\n", op, path ? path : "(fd)",
			dxl_errmsg()[0] ? dxl_errmsg() : strerror((int)-rc));
	return rc;
}

static struct dxf_handle *handle_new(struct dxf_ctx *c, dxl_file *f, dxl_dir *d, int flags)
{
	struct dxf_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->file = f;
	h->dir = d;
	h->flags = flags;
	if (f) {
		struct dxl_stat s;
		if (dxl_fstat(f, &s) == 0)
			h->ino = s.ino;
	}
	pthread_mutex_lock(&c->lock);
	h->next = c->handles.next;
	h->prev = &c->handles;
	c->handles.next->prev = h;
	c->handles.next = h;
	pthread_mutex_unlock(&c->lock);
	return h;
}

/* Unlink from the list and close; returns the library's close result. */
static int handle_free(struct dxf_ctx *c, struct dxf_handle *h)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	pthread_mutex_unlock(&c->lock);
	rc = h->file ? dxl_close(h->file) : dxl_closedir(h->dir);
	free(h);
	return rc;
}

void dxf_close_all(struct dxf_ctx *c)
{
	while (c->handles.next != &c->handles)
		handle_free(c, c->handles.next);
	free(c->hidden);
	c->hidden = NULL;
	c->nhidden = c->cap_hidden = 0;
}

/* The library calls of path requests on a hidden name (hidden.c): what
 * fstat, fchmod, fchown and futimens of an unlinked open file become. */
static int h_fstat(dxl_file *f, void *arg)
{
	return dxl_fstat(f, (struct dxl_stat *)arg);
}

static int h_fchmod(dxl_file *f, void *arg)
{
	return dxl_fchmod(f, *(mode_t *)arg);
}

struct h_owner {
	uid_t uid;
	gid_t gid;
};

static int h_fchown(dxl_file *f, void *arg)
{
	const struct h_owner *o = arg;
	return dxl_fchown(f, o->uid, o->gid);
}

static int h_futimens(dxl_file *f, void *arg)
{
	return dxl_futimens(f, (const struct timespec *)arg);
}

/* fn on the request's open file: its handle, or the file a hidden name
 * stands for; -ENOENT when there is neither (then the path is a name). */
static int on_open_file(struct fuse_file_info *fi, const char *path,
			int (*fn)(dxl_file *f, void *arg), void *arg)
{
	struct dxf_handle *h = handle(fi);

	return h && h->file ? fn(h->file, arg) : dxf_hidden_call(ctx(), path, fn, arg);
}

static void fill_stat(const struct dxf_ctx *c, const struct dxl_stat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)s->ino;
	st->st_mode = (mode_t)s->mode;
	st->st_nlink = (nlink_t)s->nlink;
	st->st_uid = (uid_t)s->uid;
	st->st_gid = (gid_t)s->gid;
	st->st_size = (off_t)s->size;
	st->st_blocks = (blkcnt_t)((s->allocated + 511) / 512);
	st->st_blksize = (blksize_t)c->unit;
	st->st_rdev = (dev_t)s->rdev;
	st->st_atim = s->atime;
	st->st_mtim = s->mtime;
	st->st_ctim = s->ctime;
}

/* Only these open flags mean anything to dxl_open; the kernel handles the rest. */
static int lib_flags(int flags)
{
	return flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND);
}

static void set_io_mode(const struct dxf_ctx *c, struct fuse_file_info *fi)
{
	fi->direct_io = !c->cached;
	fi->keep_cache = 0; /* with -o cached, auto_cache decides at open */
}

/*
 * Owner of a new inode: the calling process's fsuid/fsgid, except that a
 * set-group-ID directory hands down its group (and, to directories, its
 * set-group-ID bit), as local file systems do. *sgid is set in that case.
 */
static int new_owner(const char *path, uid_t *uid, gid_t *gid, bool *sgid)
{
	const struct fuse_context *fc = fuse_get_context();
	struct dxl_stat ps;
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	/* paths from the mount's root may be longer than PATH_MAX */
	char *parent = n ? strndup(path, n) : NULL;
	int rc;

	*uid = fc->uid;
	*gid = fc->gid;
	*sgid = false;
	if (n && !parent)
		return -ENOMEM;
	rc = dxl_stat(ctx()->pool, n ? parent : "/", &ps);
	free(parent);
	if (rc < 0)
		return rc;
	if (ps.mode & S_ISGID) {
		*gid = (gid_t)ps.gid;
		*sgid = true;
	}
	return 0;
}

/* The library gives new inodes our own ids; hand the inode to its creator.
 * A chown drops set-ID bits (as the kernel's does); this one only hands a
 * new file to whoever made it, who asked for them: they are put back. */
static int set_owner(const char *path, uid_t uid, gid_t gid)
{
	const struct dxf_ctx *c = ctx();
	struct dxl_stat s;
	int rc;

	if (uid == c->uid && gid == c->gid)
		return 0;
	rc = dxl_lstat(c->pool, path, &s);
	if (rc == 0)
		rc = dxl_lchown(c->pool, path, uid, gid);
	if (rc == 0 && !S_ISLNK(s.mode) && (s.mode & (S_ISUID | S_ISGID)))
		rc = dxl_chmod(c->pool, path, s.mode & 07777);
	return rc;
}

/* The set-ID bits a write or truncate by the requesting user takes away
 * (the kernel's should_remove_suid; uid 0 stands for CAP_FSETID).  The
 * library applies the rule for the process it runs in, which here is the
 * mount's, serving every user: so the mount applies it for the requester,
 * on the open file when there is one (it may have no name any more). */
static int drop_privs(const char *path, dxl_file *f)
{
	struct dxf_ctx *c = ctx();
	struct dxl_stat s;
	mode_t kill;
	int rc;

	if (fuse_get_context()->uid == 0)
		return 0;
	rc = f ? dxl_fstat(f, &s) : path ? dxl_stat(c->pool, path, &s) : -ENOENT;
	if (rc < 0)
		return rc;
	kill = (s.mode & S_ISUID) | ((s.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) ? S_ISGID : 0);
	if (S_ISDIR(s.mode) || !kill)
		return 0;
	return f ? dxl_fchmod(f, s.mode & 07777 & ~kill) : dxl_chmod(c->pool, path, s.mode & 07777 & ~kill);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct dxf_ctx *c = ctx();
	struct dxl_stat s;
	int rc = on_open_file(fi, path, h_fstat, &s);

	if (rc == -ENOENT && path)
		rc = dxl_lstat(c->pool, path, &s);
	if (rc < 0)
		return (int)lib("getattr", path, rc);
	/* libfuse counts a hidden name as a link and takes it off again;
	 * the pool has no such link (hidden.c) */
	if (s.nlink > 0 && dxf_is_hidden(c, path))
		s.nlink++;
	fill_stat(c, &s, st);
	return 0;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	n = dxl_readlink(ctx()->pool, path, buf, size - 1);
	if (n < 0)
		return (int)lib("readlink", path, n);
	if ((size_t)n > size - 1)
		n = (ssize_t)(size - 1);
	buf[n] = '\0';
	return 0;
}

/* Regular files, FIFOs, sockets and devices: the pool names them, the
 * kernel gives special files their behaviour (a FIFO's pipe, a socket's
 * binding, a device's driver) without asking the mount. */
static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct dxf_ctx *c = ctx();
	uid_t uid;
	gid_t gid;
	bool sgid;
	int rc;

	rc = new_owner(path, &uid, &gid, &sgid);
	if (rc < 0)
		return (int)lib("mknod", path, rc);
	rc = dxl_mknod(c->pool, path, mode & (S_IFMT | 07777),
		       S_ISCHR(mode) || S_ISBLK(mode) ? (uint64_t)rdev : 0);
	if (rc < 0)
		return (int)lib("mknod", path, rc);
	rc = set_owner(path, uid, gid);
	if (rc < 0) {
		dxl_unlink(c->pool, path);
		return (int)lib("mknod", path, rc);
	}
	return 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	struct dxf_ctx *c = ctx();
	uid_t uid;
	gid_t gid;
	bool sgid;
	int rc = new_owner(path, &uid, &gid, &sgid);

	if (rc == 0)
		rc = dxl_mkdir(c->pool, path, (mode & 07777) | (sgid ? S_ISGID : 0));
	if (rc < 0)
		return (int)lib("mkdir", path, rc);
	rc = set_owner(path, uid, gid);
	if (rc < 0) {
		dxl_rmdir(c->pool, path);
		return (int)lib("mkdir", path, rc);
	}
	return 0;
}

static int op_unlink(const char *path)
{
	/* the last release of an unlinked file: its hidden name goes */
	if (dxf_unhide(ctx(), path) == 0)
		return 0;
	return (int)lib("unlink", path, dxl_unlink(ctx()->pool, path));
}

static int op_rmdir(const char *path)
{
	return (int)lib("rmdir", path, dxl_rmdir(ctx()->pool, path));
}

static int op_symlink(const char *target, const char *path)
{
	uid_t uid;
	gid_t gid;
	bool sgid;
	int rc = dxl_symlink(ctx()->pool, target, path);

	/* hand the link to its creator, as create and mkdir do */
	if (rc == 0 && new_owner(path, &uid, &gid, &sgid) == 0)
		rc = set_owner(path, uid, gid);
	return (int)lib("symlink", path, rc);
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	unsigned lf = 0;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL; /* RENAME_WHITEOUT: no whiteouts in the pool */
	/* libfuse hides an open file it unlinks or renames over (hidden.c) */
	if (!flags && dxf_hidden_name(to)) {
		int rc = dxf_hide(ctx(), from, to);
		if (rc != -EBUSY)
			return (int)lib("unlink", from, rc);
	}
	if (flags & RENAME_NOREPLACE)
		lf |= DXL_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		lf |= DXL_RENAME_EXCHANGE;
	return (int)lib("rename", from, dxl_rename(ctx()->pool, from, to, lf));
}

static int op_link(const char *from, const char *to)
{
	return (int)lib("link", to, dxl_link(ctx()->pool, from, to));
}

/* The library's attribute calls follow symlinks; never let them reach through one. */
static int lstat_path(const char *path, struct dxl_stat *s)
{
	if (!path)
		return -ENOENT; /* unlinked while open: no path left to name it */
	return dxl_lstat(ctx()->pool, path, s);
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct dxl_stat s;
	mode_t m = mode & 07777;
	int rc = on_open_file(fi, path, h_fchmod, &m);

	if (rc != -ENOENT)
		return (int)lib("chmod", path, rc);
	rc = lstat_path(path, &s);

	if (rc == 0 && S_ISLNK(s.mode))
		rc = -EOPNOTSUPP;
	if (rc == 0)
		rc = dxl_chmod(ctx()->pool, path, mode & 07777);
	return (int)lib("chmod", path, rc);
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct dxl_stat s;
	struct h_owner o = {uid, gid};
	int rc = on_open_file(fi, path, h_fchown, &o);

	if (rc != -ENOENT)
		return (int)lib("chown", path, rc);
	rc = lstat_path(path, &s);

	/* the kernel asks for a symlink's own owner (lchown) */
	if (rc == 0)
		rc = S_ISLNK(s.mode) ? dxl_lchown(ctx()->pool, path, uid, gid)
				     : dxl_chown(ctx()->pool, path, uid, gid);
	return (int)lib("chown", path, rc);
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);
	int rc;

	if (size < 0)
		return -EINVAL;
	rc = drop_privs(path, h ? h->file : NULL);
	if (rc < 0)
		return (int)lib("truncate", path, rc);
	if (h && h->file)
		rc = dxl_ftruncate(h->file, (uint64_t)size);
	else if (path)
		rc = dxl_truncate(ctx()->pool, path, (uint64_t)size);
	else
		rc = -ENOENT;
	return (int)lib("truncate", path, rc);
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct dxf_ctx *c = ctx();
	dxl_file *f;
	struct dxf_handle *h;
	int rc = dxl_open(c->pool, path, lib_flags(fi->flags) & ~(O_CREAT | O_EXCL), 0, &f);

	if (rc < 0)
		return (int)lib("open", path, rc);
	h = handle_new(c, f, NULL, fi->flags);
	if (!h) {
		dxl_close(f);
		return -ENOMEM;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	set_io_mode(c, fi);
	return 0;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct dxf_ctx *c = ctx();
	dxl_file *f;
	struct dxf_handle *h;
	uid_t uid;
	gid_t gid;
	bool sgid, made = true;
	int flags = lib_flags(fi->flags) | O_CREAT;
	int rc = new_owner(path, &uid, &gid, &sgid);

	if (rc < 0)
		return (int)lib("create", path, rc);
	/*
	 * Create exclusively, so the owner is only ever changed on a file this
	 * call made; if another process won the race and O_EXCL was not asked
	 * for, open its file as open(2) would.
	 */
	rc = dxl_open(c->pool, path, flags | O_EXCL, mode & 07777, &f);
	if (rc == -EEXIST && !(fi->flags & O_EXCL)) {
		made = false;
		rc = dxl_open(c->pool, path, flags & ~(O_CREAT | O_EXCL), 0, &f);
	}
	if (rc < 0)
		return (int)lib("create", path, rc);
	if (made && (rc = set_owner(path, uid, gid)) < 0) {
		dxl_close(f);
		dxl_unlink(c->pool, path);
		return (int)lib("create", path, rc);
	}
	h = handle_new(c, f, NULL, fi->flags);
	if (!h) {
		dxl_close(f);
		return -ENOMEM;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	set_io_mode(c, fi);
	return 0;
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);
	size_t done = 0;

	if (off < 0)
		return -EINVAL;
	while (done < size) {
		ssize_t n = dxl_pread(h->file, buf + done, size - done, (uint64_t)off + done);
		if (n < 0) {
			if (done)
				break;
			return (int)lib("read", path, n);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int)done;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);
	size_t done = 0;
	int rc;

	if (off < 0)
		return -EINVAL;
	rc = drop_privs(path, h->file); /* before the data, as the kernel */
	if (rc < 0)
		return (int)lib("write", path, rc);
	/* With O_APPEND the library writes at its own EOF, under its lock. */
	while (done < size) {
		ssize_t n = dxl_pwrite(h->file, buf + done, size - done, (uint64_t)off + done);
		if (n <= 0) {
			if (done)
				break;
			return n < 0 ? (int)lib("write", path, n) : -EIO;
		}
		done += (size_t)n;
	}
	if (h->flags & (O_SYNC | O_DSYNC)) {
		rc = (h->flags & O_SYNC) == O_SYNC ? dxl_fsync(h->file) : dxl_fdatasync(h->file);
		if (rc < 0)
			return (int)lib("write (sync)", path, rc);
	}
	return (int)done;
}

static int op_statfs(const char *path, struct statvfs *sv)
{
	struct dxl_statfs s;
	int rc = dxl_statfs(ctx()->pool, &s);

	if (rc < 0)
		return (int)lib("statfs", path, rc);
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = (unsigned long)s.unit;
	sv->f_frsize = (unsigned long)s.unit;
	sv->f_blocks = (fsblkcnt_t)s.data_units;
	sv->f_bfree = (fsblkcnt_t)s.free_units;
	sv->f_bavail = (fsblkcnt_t)s.free_units;
	/* one inode per 4 KiB metadata block: every free block is a possible inode */
	sv->f_files = (fsfilcnt_t)(s.inodes + s.free_meta_blocks);
	sv->f_ffree = (fsfilcnt_t)s.free_meta_blocks;
	sv->f_favail = (fsfilcnt_t)s.free_meta_blocks;
	sv->f_namemax = 255;
	return 0;
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
	return 0; /* writes reach the pool before write(2) returns */
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);
	uint64_t ino;
	int rc;

	if (!h)
		return 0;
	ino = h->ino;
	rc = (int)lib("close", path, handle_free(ctx(), h));
	dxf_hidden_released(ctx(), ino);
	return rc;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);
	int rc = datasync ? dxl_fdatasync(h->file) : dxl_fsync(h->file);

	return (int)lib("fsync", path, rc);
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dxf_ctx *c = ctx();
	dxl_dir *d;
	struct dxf_handle *h;
	int rc = dxl_opendir(c->pool, path, &d);

	if (rc < 0)
		return (int)lib("opendir", path, rc);
	h = handle_new(c, NULL, d, fi->flags);
	if (!h) {
		dxl_closedir(d);
		return -ENOMEM;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/*
 * The whole directory in one pass (offsets 0): libfuse buffers it and serves
 * the kernel's reads from that buffer; a rewind comes back here with offset 0.
 */
static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dxf_handle *h = handle(fi);
	struct dxl_dirent e;
	struct stat st;
	int rc;

	dxl_seekdir(h->dir, 0);
	if (filler(buf, ".", NULL, 0, 0) || filler(buf, "..", NULL, 0, 0))
		return -ENOMEM;
	while ((rc = dxl_readdir(h->dir, &e)) == 1) {
		memset(&st, 0, sizeof(st));
		st.st_ino = (ino_t)e.ino;
		st.st_mode = DTTOIF(e.type);
		if (filler(buf, e.name, &st, 0, 0))
			return -ENOMEM;
	}
	return rc < 0 ? (int)lib("readdir", path, rc) : 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);

	return h ? (int)lib("closedir", path, handle_free(ctx(), h)) : 0;
}

static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	return 0; /* namespace changes are durable when their call returns (journal) */
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct dxf_ctx *c = ctx();

	cfg->use_ino = 1;        /* st_ino is the pool's inode number (hard links) */
	/* libfuse hides an unlinked open file under a name (hidden.c), so that
	 * fstat and fchmod, which come without the handle, still find it;
	 * the library keeps the file itself, and the pool never has the name */
	cfg->hard_remove = 0;
	/* handle operations go by the handle: no path is built for them, and
	 * none is needed once the file's directory is gone too */
	cfg->nullpath_ok = 1;
	cfg->direct_io = !c->cached;
	cfg->kernel_cache = 0;
	cfg->auto_cache = c->cached;
	/* The kernel kills set-user/group-ID bits on write and chown for us. */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	/* Writes go through to the pool at once: O_APPEND and coherence depend on it. */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (c->cached && (conn->capable & FUSE_CAP_AUTO_INVAL_DATA))
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	return c;
}

static int op_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	struct dxf_handle *h = handle(fi);

	if (off < 0 || len <= 0)
		return -EINVAL;
	return (int)lib("fallocate", path,
			dxl_fallocate(h->file, mode, (uint64_t)off, (uint64_t)len));
}

static int op_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct dxl_stat s;
	int rc = on_open_file(fi, path, h_futimens, (void *)tv);

	if (rc != -ENOENT)
		return (int)lib("utimens", path, rc);
	rc = lstat_path(path, &s);
	/* a symlink's own times (utimensat with AT_SYMLINK_NOFOLLOW) */
	if (rc == 0)
		rc = S_ISLNK(s.mode) ? dxl_lutimens(ctx()->pool, path, tv)
				     : dxl_utimens(ctx()->pool, path, tv);
	return (int)lib("utimens", path, rc);
}

static ssize_t copy_buffered(dxl_file *src, uint64_t in, dxl_file *dst, uint64_t out,
			     size_t len)
{
	size_t cap = len < DXF_COPY_CHUNK ? len : DXF_COPY_CHUNK;
	char *buf = malloc(cap);
	size_t done = 0;
	ssize_t rc = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = len - done < cap ? len - done : cap;
		ssize_t n = dxl_pread(src, buf, want, in + done), w = 0;
		if (n <= 0) {
			rc = n;
			break;
		}
		while (w < n) {
			ssize_t m = dxl_pwrite(dst, buf + w, (size_t)(n - w), out + done + (size_t)w);
			if (m <= 0) {
				rc = m ? m : -EIO;
				break;
			}
			w += m;
		}
		done += (size_t)w;
		if (rc < 0)
			break;
	}
	free(buf);
	return done ? (ssize_t)done : rc;
}

/*
 * copy_file_range inside the mount: a reflink (shared units, copy on write
 * later) when the library can express the range — unit-aligned offsets and a
 * whole number of units, or a range that ends at the source's EOF and lands
 * at or past the destination's EOF — and a copy through a buffer otherwise.
 */
static ssize_t op_copy_file_range(const char *pin, struct fuse_file_info *fin, off_t oin,
				  const char *pout, struct fuse_file_info *fout, off_t oout,
				  size_t len, int flags)
{
	struct dxf_ctx *c = ctx();
	struct dxf_handle *hi = handle(fin), *ho = handle(fout);
	struct dxl_stat si, so;
	uint64_t in = (uint64_t)oin, out = (uint64_t)oout;
	int rc;

	if (flags)
		return -EINVAL;
	if (oin < 0 || oout < 0)
		return -EINVAL;
	if ((rc = dxl_fstat(hi->file, &si)) < 0 || (rc = dxl_fstat(ho->file, &so)) < 0)
		return lib("copy_file_range", pin, rc);
	if (in >= si.size || len == 0)
		return 0;
	if (len > si.size - in)
		len = (size_t)(si.size - in);
	if (len > (size_t)SSIZE_MAX)
		len = (size_t)SSIZE_MAX & ~(size_t)(c->unit - 1);
	if (in % c->unit == 0 && out % c->unit == 0 &&
	    (len % c->unit == 0 || (in + len == si.size && out + len >= so.size))) {
		rc = dxl_reflink(hi->file, in, ho->file, out, len);
		if (rc == 0)
			return (ssize_t)len;
		/* overlapping ranges of one file and the like: copy instead */
		if (rc != -EINVAL && rc != -EOPNOTSUPP && rc != -EXDEV)
			return lib("copy_file_range", pin, rc);
	}
	if (len > DXF_COPY_MAX)
		len = DXF_COPY_MAX;
	return lib("copy_file_range", pin, copy_buffered(hi->file, in, ho->file, out, len));
}

static const struct fuse_operations dxf_ops = {
	.getattr = op_getattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.truncate = op_truncate,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.statfs = op_statfs,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.init = op_init,
	.create = op_create,
	.utimens = op_utimens,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
};

const struct fuse_operations *dxf_operations(void)
{
	return &dxf_ops;
}
