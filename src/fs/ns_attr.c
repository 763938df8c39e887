/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The attribute calls: chmod, chown and lchown, utimens and lutimens, and
 * fchmod, fchown and futimens on an open file, which has an inode even
 * once it has no name.
 * They change one inode's fields in place and its ctime, never a name, so
 * they are one step in one transaction: resolve the path, write the
 * inode.  Times are checked and converted before the transaction; both
 * times omitted change nothing at all, not even ctime.  The wrapper: ns.h.
 */
#include <sys/stat.h>

#include "ns.h"

enum attr_op { ATTR_CHMOD, ATTR_CHOWN, ATTR_UTIMES };

struct attr_args {
	enum attr_op op;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	const struct timespec *times;
	int nofollow;         /* lchown, lutimens: the symlink itself */
	const dxl_file *file; /* fchmod, fchown, futimens: the open file (unlinked or not) */
	/* from attr_check */
	int64_t now, at, mt;
	int set_at, set_mt;
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

static int attr_check(struct dxl_fs *fs, struct ns_call *c)
{
	struct attr_args *a = c->arg;
	int rc;

	a->now = dxl_now_ns();
	a->set_at = a->set_mt = 1;
	if (a->op == ATTR_UTIMES && a->times) {
		a->set_at = a->times[0].tv_nsec != UTIME_OMIT;
		a->set_mt = a->times[1].tv_nsec != UTIME_OMIT;
		if (a->set_at && (rc = ts_to_ns(&a->times[0], a->now, &a->at)))
			return rc;
		if (a->set_mt && (rc = ts_to_ns(&a->times[1], a->now, &a->mt)))
			return rc;
	} else {
		a->at = a->mt = a->now;
	}
	return 0;
}

static int attr_body(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c)
{
	const struct attr_args *a = c->arg;
	struct dxl_inode *w;
	uint64_t ino = a->file ? a->file->ino : 0;
	int rc = a->file ? 0 : dxl_namei(fs, tx, c->path, !a->nofollow, &ino);

	if (!rc && a->op == ATTR_UTIMES && !a->set_at && !a->set_mt)
		return NS_UNCHANGED; /* both omitted: not even ctime (as utimensat) */
	if (!rc)
		rc = dxl_inode_write(fs, tx, ino, &w);
	if (rc)
		return rc;
	switch (a->op) {
	case ATTR_CHMOD:
		w->mode = (w->mode & S_IFMT) | ((uint32_t)a->mode & 07777);
		break;
	case ATTR_CHOWN:
		if (a->uid != (uid_t)-1)
			w->uid = a->uid;
		if (a->gid != (gid_t)-1)
			w->gid = a->gid;
		/* whoever changes the owner: the new one must not inherit a
		 * set-user-ID program (privs.c) */
		w->mode &= ~dxl_privs_dropped(w->mode);
		break;
	case ATTR_UTIMES:
		if (a->set_at)
			w->atime_ns = a->at;
		if (a->set_mt)
			w->mtime_ns = a->mt;
		break;
	}
	w->ctime_ns = a->now;
	return 0;
}

static int ns_attr(dxl_pool *pool, const char *path, const char *op, struct attr_args *a)
{
	struct ns_call c = { .op = op, .path = path, .modify = 1, .check = attr_check,
			     .body = attr_body, .arg = a };
	return dxl_ns_call(pool, &c);
}

int dxl_chmod(dxl_pool *pool, const char *path, mode_t mode)
{
	struct attr_args a = { .op = ATTR_CHMOD, .mode = mode };
	return ns_attr(pool, path, "chmod", &a);
}

int dxl_chown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid)
{
	struct attr_args a = { .op = ATTR_CHOWN, .uid = uid, .gid = gid };
	return ns_attr(pool, path, "chown", &a);
}

int dxl_lchown(dxl_pool *pool, const char *path, uid_t uid, gid_t gid)
{
	struct attr_args a = { .op = ATTR_CHOWN, .uid = uid, .gid = gid, .nofollow = 1 };
	return ns_attr(pool, path, "lchown", &a);
}

int dxl_utimens(dxl_pool *pool, const char *path, const struct timespec times[2])
{
	struct attr_args a = { .op = ATTR_UTIMES, .times = times };
	return ns_attr(pool, path, "utimens", &a);
}

int dxl_lutimens(dxl_pool *pool, const char *path, const struct timespec times[2])
{
	struct attr_args a = { .op = ATTR_UTIMES, .times = times, .nofollow = 1 };
	return ns_attr(pool, path, "lutimens", &a);
}

/* On an open file: the call names it by the path it was opened with. */
static int fattr(dxl_file *f, const char *op, struct attr_args *a)
{
	struct ns_call c = { .op = op, .names = NS_INODE, .modify = 1, .check = attr_check,
			     .body = attr_body, .arg = a };

	if (!f || !f->pool) {
		dxl_err_clear();
		return dxl_err(EBADF, "%s: not an open file", op);
	}
	c.ino = f->ino;
	a->file = f;
	return dxl_ns_call(f->pool, &c);
}

int dxl_fchmod(dxl_file *f, mode_t mode)
{
	struct attr_args a = { .op = ATTR_CHMOD, .mode = mode };
	return fattr(f, "fchmod", &a);
}

int dxl_fchown(dxl_file *f, uid_t uid, gid_t gid)
{
	struct attr_args a = { .op = ATTR_CHOWN, .uid = uid, .gid = gid };
	return fattr(f, "fchown", &a);
}

int dxl_futimens(dxl_file *f, const struct timespec times[2])
{
	struct attr_args a = { .op = ATTR_UTIMES, .times = times };
	return fattr(f, "futimens", &a);
}
