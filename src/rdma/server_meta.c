/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server's requests: each a daxlease call on the client's behalf.
 * Files are opened O_NONBLOCK, so a change that must break leases
 * (a truncate over a layout, even the client's own) returns -EWOULDBLOCK
 * at once: the request is parked and tried again after dispatch, while
 * the recalls go out — the loop never sleeps in a break.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "rdma/server.h"

struct srv_file *srv_file_find(struct srv_client *c, uint64_t handle)
{
	struct srv_file *sf;

	for (sf = c->files; sf; sf = sf->next)
		if (sf->handle == handle)
			return sf;
	return NULL;
}

static void file_free(struct srv_client *c, struct srv_file *sf)
{
	srv_layouts_return_file(c, sf);
	DXL_SLIST_REMOVE(&c->files, sf);
	dxl_close(sf->f);
	c->nfiles--;
	free(sf);
}

void srv_files_close(struct srv_client *c)
{
	while (c->files)
		file_free(c, c->files);
}

static int reply_stat(struct srv_client *c, const struct dxl_msg *m, const struct dxl_stat *st)
{
	uint8_t buf[sizeof(struct dxl_msg_hdr) + sizeof(struct dxl_p_stat)];
	struct dxl_mb mb;

	dxl_mb_start(&mb, buf, m->op | DXL_OP_REPLY, m->h->seq, 0);
	dxl_stat_to_wire(dxl_mb_put(&mb, sizeof(struct dxl_p_stat)), st);
	return srv_send(c, &mb);
}

static int do_open(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_path *pp = m->p;
	uint8_t buf[sizeof(struct dxl_msg_hdr) + sizeof(struct dxl_p_open)];
	struct dxl_p_open *o;
	struct srv_file *sf;
	struct dxl_stat st;
	struct dxl_mb mb;
	int allowed = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC, rc;

	if (pp->flags & ~(uint32_t)allowed || (pp->flags & O_ACCMODE) == O_ACCMODE)
		return srv_reply_err(c, m, -EINVAL);
	if (c->nfiles >= SRV_MAX_FILES)
		return srv_reply_err(c, m, -EMFILE);
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return srv_reply_err(c, m, -ENOMEM);
	sf->flags = (int)pp->flags;
	rc = dxl_open(c->s->pool, m->path1, (int)pp->flags | O_NONBLOCK, pp->mode & 07777, &sf->f);
	if (rc == 0 && (rc = dxl_fstat(sf->f, &st)) != 0)
		dxl_close(sf->f);
	if (rc) {
		free(sf);
		return rc == -EWOULDBLOCK ? rc : srv_reply_err(c, m, rc);
	}
	sf->handle = ++c->next_handle;
	sf->next = c->files;
	c->files = sf;
	c->nfiles++;
	dxl_mb_start(&mb, buf, DXL_OP_OPEN | DXL_OP_REPLY, m->h->seq, 0);
	o = dxl_mb_put(&mb, sizeof(*o));
	o->handle = sf->handle;
	dxl_stat_to_wire(&o->st, &st);
	return srv_send(c, &mb);
}

static int do_readdir(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_path *pp = m->p;
	uint8_t *buf = malloc(DXL_MSG_SIZE);
	struct dxl_p_readdir *rd;
	struct dxl_dirent ent;
	struct dxl_mb mb;
	dxl_dir *d = NULL;
	uint64_t cookie = pp->arg;
	int rc;

	if (!buf)
		return srv_reply_err(c, m, -ENOMEM);
	rc = dxl_opendir(c->s->pool, m->path1, &d);
	if (rc) {
		free(buf);
		return srv_reply_err(c, m, rc);
	}
	if (cookie)
		dxl_seekdir(d, cookie);
	dxl_mb_start(&mb, buf, DXL_OP_READDIR | DXL_OP_REPLY, m->h->seq, 0);
	rd = dxl_mb_put(&mb, sizeof(*rd));
	for (;;) {
		size_t nl, need;
		struct dxl_p_dirent *de;
		rc = dxl_readdir(d, &ent);
		if (rc <= 0) {
			rd->eof = rc == 0;
			break;
		}
		nl = strlen(ent.name);
		need = DXL_ALIGN_UP(mb.len, 8) + sizeof(*de) + DXL_ALIGN_UP(nl, 8);
		if (need > DXL_MSG_SIZE)
			break; /* the next answer goes on from rd->next */
		de = dxl_mb_put(&mb, sizeof(*de));
		de->ino = ent.ino;
		de->type = ent.type;
		de->namelen = (uint16_t)nl;
		dxl_mb_put_bytes(&mb, ent.name, nl);
		dxl_mb_put(&mb, 0); /* pads the name to 8 bytes */
		rd->count++;
		rd->next = ent.cookie;
	}
	dxl_closedir(d);
	if (rc < 0) {
		free(buf);
		return srv_reply_err(c, m, rc);
	}
	if (rd->count == 0)
		rd->next = cookie;
	rc = srv_send(c, &mb);
	free(buf);
	return rc;
}

/* A change to a file by path, through an O_NONBLOCK handle: it parks
 * instead of sleeping in a break. */
static int do_truncate_path(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_path *pp = m->p;
	dxl_file *f;
	int rc = dxl_open(c->s->pool, m->path1, O_WRONLY | O_NONBLOCK, 0, &f);

	if (rc == 0) {
		rc = dxl_ftruncate(f, pp->arg);
		dxl_close(f);
	}
	return rc == -EWOULDBLOCK ? rc : srv_reply_err(c, m, rc);
}

static int do_fileop(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_fileop *op = m->p;
	struct srv_file *sf = srv_file_find(c, op->handle);
	struct dxl_stat st;
	int rc;

	if (!sf)
		return srv_reply_err(c, m, -EBADF);
	switch (m->op) {
	case DXL_OP_CLOSE:
		file_free(c, sf);
		return srv_reply_err(c, m, 0);
	case DXL_OP_FSTAT:
		rc = dxl_fstat(sf->f, &st);
		return rc ? srv_reply_err(c, m, rc) : reply_stat(c, m, &st);
	case DXL_OP_FTRUNCATE:
		rc = dxl_ftruncate(sf->f, op->off);
		break;
	default: /* DXL_OP_FALLOCATE */
		rc = dxl_fallocate(sf->f, op->mode, op->off, op->len);
		break;
	}
	return rc == -EWOULDBLOCK ? rc : srv_reply_err(c, m, rc);
}

int srv_handle(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_path *pp = m->p;
	struct dxl_stat st;
	int rc;

	if (m->reply)
		return srv_reply_err(c, m, -EPROTO);
	switch (m->op) {
	case DXL_OP_RENEW:
		return srv_reply_err(c, m, 0);
	case DXL_OP_BYE:
		srv_reply_err(c, m, 0);
		srv_drop(c, "it said goodbye");
		return 0;
	case DXL_OP_STAT:
		rc = dxl_stat(c->s->pool, m->path1, &st);
		return rc ? srv_reply_err(c, m, rc) : reply_stat(c, m, &st);
	case DXL_OP_READDIR:
		return do_readdir(c, m);
	case DXL_OP_MKDIR:
		return srv_reply_err(c, m, dxl_mkdir(c->s->pool, m->path1, pp->mode & 07777));
	case DXL_OP_RMDIR:
		return srv_reply_err(c, m, dxl_rmdir(c->s->pool, m->path1));
	case DXL_OP_UNLINK:
		/* storage goes at the last close: layouts keep their file open */
		return srv_reply_err(c, m, dxl_unlink(c->s->pool, m->path1));
	case DXL_OP_RENAME:
		return srv_reply_err(c, m, dxl_rename(c->s->pool, m->path1, m->path2, pp->flags));
	case DXL_OP_TRUNCATE:
		return do_truncate_path(c, m);
	case DXL_OP_OPEN:
		return do_open(c, m);
	case DXL_OP_CLOSE:
	case DXL_OP_FSTAT:
	case DXL_OP_FTRUNCATE:
	case DXL_OP_FALLOCATE:
		return do_fileop(c, m);
	case DXL_OP_LAYOUTGET:
		return srv_layout_get(c, m);
	case DXL_OP_LAYOUTRETURN:
		return srv_layout_return(c, m, 0);
	case DXL_OP_REVOKE_ACK:
		return srv_layout_return(c, m, 1);
	case DXL_OP_COMMIT:
		return srv_commit(c, m);
	}
	/* HELLO, CHALLENGE, AUTH, RECALL, REVOKED: not from a live client */
	return srv_reply_err(c, m, -EPROTO);
}
