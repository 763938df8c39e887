/* SPDX-License-Identifier: BSD-3-Clause */
/* The client library's requests: one call, one message, one answer. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "rdma/client.h"

static int remote_ok(const dxl_remote *r)
{
	return r ? 0 : dxl_err(EINVAL, "remote: no connection");
}

/* An answer and its parse, in one allocation (a message is 4 KiB). */
struct cli_answer {
	struct dxl_msg m;
	uint8_t buf[DXL_MSG_SIZE];
};

static struct cli_answer *answer_new(void)
{
	struct cli_answer *a = malloc(sizeof(*a));

	if (!a)
		dxl_err(ENOMEM, "out of memory");
	return a;
}

/* Send mb and wait for its answer into a; a NULL: the caller wants no
 * body, so the answer lives only for the call. */
static int call(dxl_remote *r, struct dxl_mb *mb, struct cli_answer *a)
{
	struct cli_answer *own = NULL;
	int rc;

	if (!a && !(a = own = answer_new()))
		return -ENOMEM;
	rc = cli_call(r, mb, a->buf, &a->m);
	free(own);
	return rc;
}

static int path_call(dxl_remote *r, unsigned op, const char *p1, const char *p2, uint64_t arg,
		     uint32_t flags, uint32_t mode, struct cli_answer *a)
{
	uint8_t buf[DXL_MSG_SIZE];
	struct dxl_mb mb;
	int rc;

	dxl_err_clear();
	if ((rc = remote_ok(r)))
		return rc;
	if (!p1)
		return dxl_err(EINVAL, "%s: no path", dxl_op_name(op));
	dxl_mb_start(&mb, buf, op, 0, 0);
	if ((rc = dxl_mb_path(&mb, p1, p2, arg, flags, mode)))
		return rc;
	return call(r, &mb, a);
}

static int fileop_call(dxl_remote *r, unsigned op, uint64_t handle, uint64_t off, uint64_t len,
		       uint32_t flags, int32_t mode, struct cli_answer *a)
{
	uint8_t buf[sizeof(struct dxl_msg_hdr) + sizeof(struct dxl_p_fileop)];
	struct dxl_p_fileop *fo;
	struct dxl_mb mb;

	dxl_mb_start(&mb, buf, op, 0, 0);
	fo = dxl_mb_put(&mb, sizeof(*fo));
	fo->handle = handle;
	fo->off = off;
	fo->len = len;
	fo->flags = flags;
	fo->mode = mode;
	return call(r, &mb, a);
}

int dxl_remote_stat(dxl_remote *r, const char *path, struct dxl_stat *st)
{
	struct cli_answer *a;
	int rc;

	if (!st)
		return dxl_err(EINVAL, "stat: bad argument");
	if (!(a = answer_new()))
		return -ENOMEM;
	rc = path_call(r, DXL_OP_STAT, path, NULL, 0, 0, 0, a);
	if (rc == 0)
		dxl_stat_from_wire(st, a->m.p);
	free(a);
	return rc;
}

int dxl_remote_mkdir(dxl_remote *r, const char *path, mode_t mode)
{
	return path_call(r, DXL_OP_MKDIR, path, NULL, 0, 0, (uint32_t)mode, NULL);
}

int dxl_remote_rmdir(dxl_remote *r, const char *path)
{
	return path_call(r, DXL_OP_RMDIR, path, NULL, 0, 0, 0, NULL);
}

int dxl_remote_unlink(dxl_remote *r, const char *path)
{
	return path_call(r, DXL_OP_UNLINK, path, NULL, 0, 0, 0, NULL);
}

int dxl_remote_rename(dxl_remote *r, const char *from, const char *to, unsigned flags)
{
	if (!to)
		return dxl_err(EINVAL, "rename: no target");
	return path_call(r, DXL_OP_RENAME, from, to, 0, flags, 0, NULL);
}

int dxl_remote_truncate(dxl_remote *r, const char *path, uint64_t size)
{
	return path_call(r, DXL_OP_TRUNCATE, path, NULL, size, 0, 0, NULL);
}

int dxl_remote_readdir(dxl_remote *r, const char *path, dxl_remote_dirent_fn fn, void *arg)
{
	struct cli_answer *a;
	struct dxl_dirent ent;
	uint64_t cookie = 0;
	int rc;

	if (!fn)
		return dxl_err(EINVAL, "readdir: bad argument");
	if (!(a = answer_new()))
		return -ENOMEM;
	for (;;) {
		const struct dxl_p_readdir *rd;
		uint32_t pos = 0;
		if ((rc = path_call(r, DXL_OP_READDIR, path, NULL, cookie, 0, 0, a)))
			break;
		rd = a->m.p;
		while ((rc = dxl_msg_dirent(&a->m, &pos, &ent)) == 1)
			if ((rc = fn(arg, &ent)) != 0)
				goto out;
		if (rc < 0 || rd->eof)
			break;
		if (rd->count == 0) {
			rc = dxl_err(EPROTO, "readdir: the server sent no entries and no end");
			break;
		}
		cookie = rd->next;
	}
out:
	free(a);
	return rc;
}

int dxl_remote_open(dxl_remote *r, const char *path, int flags, mode_t mode, dxl_rfile **out)
{
	struct cli_answer *a;
	dxl_rfile *f;
	int rc;

	if (!out)
		return dxl_err(EINVAL, "open: bad argument");
	f = calloc(1, sizeof(*f));
	a = f ? answer_new() : NULL;
	rc = a ? path_call(r, DXL_OP_OPEN, path, NULL, 0, (uint32_t)flags, (uint32_t)mode, a)
	       : dxl_err(ENOMEM, "out of memory");
	if (rc == 0) {
		f->r = r;
		f->handle = ((const struct dxl_p_open *)a->m.p)->handle;
		f->next = r->files;
		r->files = f;
		*out = f;
	} else {
		free(f);
	}
	free(a);
	return rc;
}

static void forget_layout(dxl_layout *l)
{
	DXL_SLIST_REMOVE(&l->r->layouts, l);
	free(l);
}

int dxl_remote_fclose(dxl_rfile *f)
{
	dxl_remote *r;
	dxl_layout *l, *next;
	int rc;

	dxl_err_clear();
	if (!f)
		return 0;
	r = f->r;
	/* the server returns the file's layouts with it */
	for (l = r->layouts; l; l = next) {
		next = l->next;
		if (l->f == f)
			forget_layout(l);
	}
	rc = r->dead ? 0 : fileop_call(r, DXL_OP_CLOSE, f->handle, 0, 0, 0, 0, NULL);
	DXL_SLIST_REMOVE(&r->files, f);
	free(f);
	return rc;
}

int dxl_remote_fstat(dxl_rfile *f, struct dxl_stat *st)
{
	struct cli_answer *a;
	int rc;

	dxl_err_clear();
	if (!f || !st)
		return dxl_err(EINVAL, "fstat: bad argument");
	if (!(a = answer_new()))
		return -ENOMEM;
	rc = fileop_call(f->r, DXL_OP_FSTAT, f->handle, 0, 0, 0, 0, a);
	if (rc == 0)
		dxl_stat_from_wire(st, a->m.p);
	free(a);
	return rc;
}

int dxl_remote_ftruncate(dxl_rfile *f, uint64_t size)
{
	dxl_err_clear();
	if (!f)
		return dxl_err(EINVAL, "ftruncate: no file");
	return fileop_call(f->r, DXL_OP_FTRUNCATE, f->handle, size, 0, 0, 0, NULL);
}

int dxl_remote_fallocate(dxl_rfile *f, int mode, uint64_t off, uint64_t len)
{
	dxl_err_clear();
	if (!f)
		return dxl_err(EINVAL, "fallocate: no file");
	return fileop_call(f->r, DXL_OP_FALLOCATE, f->handle, off, len, 0, mode, NULL);
}

int dxl_remote_commit(dxl_rfile *f, uint64_t off, uint64_t len)
{
	dxl_err_clear();
	if (!f)
		return dxl_err(EINVAL, "commit: no file");
	return fileop_call(f->r, DXL_OP_COMMIT, f->handle, off, len, 0, 0, NULL);
}

int dxl_remote_layout_get(dxl_rfile *f, uint64_t off, uint64_t len, unsigned flags, dxl_layout **out)
{
	const struct dxl_p_layout *pl;
	struct cli_answer *a;
	dxl_layout *l;
	int rc;

	dxl_err_clear();
	if (out)
		*out = NULL;
	if (!f || !out || len == 0)
		return dxl_err(EINVAL, "layout get: bad argument");
	if (flags & ~(unsigned)DXL_LAYOUT_RW)
		return dxl_err(EINVAL, "layout get: unknown flags %#x", flags);
	if (!(a = answer_new()))
		return -ENOMEM;
	l = calloc(1, sizeof(*l));
	rc = l ? fileop_call(f->r, DXL_OP_LAYOUTGET, f->handle, off, len, flags, 0, a)
	       : dxl_err(ENOMEM, "out of memory");
	pl = rc == 0 ? a->m.p : NULL;
	if (pl && (pl->off != off || pl->len != len))
		rc = dxl_err(EPROTO, "layout get: the server granted another range");
	if (rc == 0) {
		l->r = f->r;
		l->f = f;
		l->id = pl->layout;
		l->off = pl->off;
		l->len = pl->len;
		l->raddr = pl->raddr;
		l->key = pl->key;
		l->flags = pl->flags;
		l->state = DXL_LAYOUT_ACTIVE;
		l->next = f->r->layouts;
		f->r->layouts = l;
		*out = l;
	} else {
		free(l);
	}
	free(a);
	return rc;
}

static int layout_ok(const dxl_layout *l)
{
	return l && l->r ? 0 : dxl_err(EINVAL, "layout: no layout");
}

int dxl_remote_layout_return(dxl_layout *l)
{
	dxl_remote *r;
	unsigned op;
	uint64_t id;
	int rc;

	dxl_err_clear();
	if ((rc = layout_ok(l)))
		return rc;
	r = l->r;
	id = l->id;
	op = l->state == DXL_LAYOUT_REVOKED ? DXL_OP_REVOKE_ACK : DXL_OP_LAYOUTRETURN;
	forget_layout(l);
	/* id 0: already given back (auto-return, or a revocation acknowledged) */
	if (r->dead || id == 0)
		return 0;
	rc = fileop_call(r, op, id, 0, 0, 0, 0, NULL);
	/* already gone at the server (revoked and fenced): nothing to give back */
	return rc == -ENOENT ? 0 : rc;
}

int dxl_layout_state(dxl_layout *l)
{
	int rc = layout_ok(l);

	if (rc)
		return rc;
	cli_progress(l->r, 0);
	return l->state;
}

int64_t dxl_layout_deadline_ns(const dxl_layout *l)
{
	return l && l->state == DXL_LAYOUT_RECALLED ? l->deadline_ns : 0;
}

void dxl_layout_range(const dxl_layout *l, uint64_t *off, uint64_t *len)
{
	if (off)
		*off = l ? l->off : 0;
	if (len)
		*len = l ? l->len : 0;
}

uint64_t dxl_layout_key(const dxl_layout *l)
{
	return l ? l->key : 0;
}

uint64_t dxl_layout_raddr(const dxl_layout *l)
{
	return l ? l->raddr : 0;
}

static ssize_t layout_io(dxl_layout *l, int write, void *buf, size_t len, uint64_t off)
{
	ssize_t rc;
	int err;

	dxl_err_clear();
	if ((rc = layout_ok(l)))
		return rc;
	if (!buf && len)
		return dxl_err(EINVAL, "remote I/O: no buffer");
	if (off < l->off || off + len < off || off + len > l->off + l->len)
		return dxl_err(ERANGE, "remote I/O of bytes %llu..%llu: outside the layout (%llu..%llu)",
			       (unsigned long long)off, (unsigned long long)(off + len),
			       (unsigned long long)l->off, (unsigned long long)(l->off + l->len));
	if (write && !(l->flags & DXL_LAYOUT_RW))
		return dxl_err(EACCES, "remote write through a read-only layout");
	cli_progress(l->r, 0);
	if (l->state == DXL_LAYOUT_REVOKED)
		return dxl_err(EKEYREVOKED, "the layout was revoked by the server (not returned in time)");
	if (l->state == DXL_LAYOUT_RETURNED)
		return dxl_err(EKEYREVOKED, "the layout was returned on a recall: get a new one");
	if (len == 0)
		return 0;
	rc = cli_rma(l->r, write, buf, len, l->raddr + (off - l->off), l->key);
	if (rc < 0 && rc != -ETIMEDOUT) {
		/* a revocation may be on its way: look before saying why */
		err = (int)rc;
		cli_progress(l->r, 1);
		if (l->state == DXL_LAYOUT_REVOKED)
			return dxl_err(EKEYREVOKED, "layout %llu was revoked by the server: the %s failed",
				       (unsigned long long)l->id, write ? "write" : "read");
		return err;
	}
	return rc;
}

ssize_t dxl_remote_write(dxl_layout *l, const void *buf, size_t len, uint64_t off)
{
	return layout_io(l, 1, (void *)buf, len, off);
}

ssize_t dxl_remote_read(dxl_layout *l, void *buf, size_t len, uint64_t off)
{
	return layout_io(l, 0, buf, len, off);
}

ssize_t dxl_remote_raw_write(dxl_remote *r, const void *buf, size_t len, uint64_t raddr, uint64_t key)
{
	dxl_err_clear();
	if (!r || !buf)
		return dxl_err(EINVAL, "raw write: bad argument");
	return cli_rma(r, 1, (void *)buf, len, raddr, key);
}

ssize_t dxl_remote_raw_read(dxl_remote *r, void *buf, size_t len, uint64_t raddr, uint64_t key)
{
	dxl_err_clear();
	if (!r || !buf)
		return dxl_err(EINVAL, "raw read: bad argument");
	return cli_rma(r, 0, buf, len, raddr, key);
}

void dxl_remote_set_recall(dxl_remote *r, dxl_recall_fn fn, void *arg)
{
	if (!r)
		return;
	r->recall_fn = fn;
	r->recall_arg = arg;
}

void cli_do_todo(dxl_remote *r)
{
	dxl_layout *l, *next;

	r->todo = 0;
	for (l = r->layouts; l; l = next) {
		next = l->next;
		if (!l->todo)
			continue;
		l->todo = 0;
		if (l->state == DXL_LAYOUT_REVOKED) {
			/* acknowledge, so the server can let the units go; the
			 * handle stays for the application to see the state */
			uint64_t id = l->id;
			if (!r->dead)
				fileop_call(r, DXL_OP_REVOKE_ACK, id, 0, 0, 0, 0, NULL);
			l->id = 0;
			continue;
		}
		if (r->recall_fn) {
			r->recall_fn(l, r->recall_arg);
		} else if (!r->dead) {
			/* give it back; the handle stays the application's */
			fileop_call(r, DXL_OP_LAYOUTRETURN, l->id, 0, 0, 0, 0, NULL);
			l->state = DXL_LAYOUT_RETURNED;
			l->id = 0;
			l->key = 0;
		}
		/* the list may have changed under the callback */
		next = r->layouts;
		while (next && !next->todo)
			next = next->next;
	}
}

int dxl_remote_poll(dxl_remote *r, int timeout_ms)
{
	int64_t until;
	int n = 0, rc;

	dxl_err_clear();
	if ((rc = remote_ok(r)))
		return rc;
	until = timeout_ms < 0 ? INT64_MAX : dxl_mono_ns() + (int64_t)timeout_ms * 1000000LL;
	for (;;) {
		if (r->dead)
			return dxl_err(r->dead, "server %s is gone", r->server);
		/* keep the server's client timeout from running out */
		if (r->server_timeout_ms &&
		    dxl_mono_ns() - r->last_sent_ns > (int64_t)r->server_timeout_ms * 1000000LL / 3) {
			rc = fileop_call(r, DXL_OP_RENEW, 0, 0, 0, 0, 0, NULL);
			if (rc == -EPROTO || rc == -EBADMSG)
				return rc;
		}
		n += cli_progress(r, 0) > 0 && r->todo;
		if (r->todo) {
			cli_do_todo(r);
			return n ? n : 1;
		}
		if (dxl_mono_ns() >= until)
			return 0;
		cli_progress(r, DXL_MIN(100, (int)((until - dxl_mono_ns()) / 1000000) + 1));
	}
}

int dxl_remote_close(dxl_remote *r)
{
	uint8_t buf[sizeof(struct dxl_msg_hdr)];
	struct dxl_mb mb;

	if (!r)
		return 0;
	if (!r->dead && r->sess.on) {
		/* goodbye: the server returns every layout and closes every file */
		dxl_mb_start(&mb, buf, DXL_OP_BYE, 0, 0);
		if (cli_send_only(r, &mb) == 0)
			cli_flush(r, 200);
	}
	dxl_remote_free(r);
	return 0;
}
