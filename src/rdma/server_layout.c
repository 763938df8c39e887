/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layouts, as in pNFS: a client's one-sided access to a file range is a
 * local registration (reg.c) the server holds on the client's behalf —
 * its lease is in the pool's table with the client named beside the
 * server's pid.  A break becomes a RECALL; a revocation closes the MR at
 * once (reg.c) and the pins stay until the client acknowledges, in order
 * after anything it still had in flight, or until its endpoint is closed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdma/server.h"

static void send_recall(struct srv_layout *l, unsigned op, const struct dxl_event *ev)
{
	uint8_t buf[sizeof(struct dxl_msg_hdr) + sizeof(struct dxl_p_recall)];
	struct dxl_p_recall *r;
	struct dxl_mb mb;

	dxl_mb_start(&mb, buf, op, 0, 0);
	r = dxl_mb_put(&mb, sizeof(*r));
	r->layout = l->id;
	r->start = ev ? ev->start : l->off;
	r->end = ev ? ev->end : l->off + l->len;
	r->ms_left = ev ? (ev->deadline_ns - dxl_mono_ns()) / 1000000 : 0;
	if (r->ms_left < 0)
		r->ms_left = 0;
	srv_send(l->c, &mb);
}

/* Runs in the server's own dispatch (its loop): the MR of a revoked
 * layout is already closed here (reg.c). */
static void layout_cb(dxl_rdma_reg *reg, const struct dxl_event *ev, void *arg)
{
	struct srv_layout *l = arg;
	struct srv_client *c = l->c;

	if (c->state == C_ZOMBIE)
		return;
	if (ev->type == DXL_EV_BREAK && l->state == L_ACTIVE) {
		l->state = L_RECALLED;
		srv_log(c->s, "client %llu: recall of layout %llu (bytes %llu..%llu change)",
			(unsigned long long)c->id, (unsigned long long)l->id,
			(unsigned long long)ev->start, (unsigned long long)ev->end);
		send_recall(l, DXL_OP_RECALL, ev);
	} else if (ev->type == DXL_EV_REVOKED && l->state != L_FENCING) {
		l->state = L_FENCING;
		l->ack_deadline_ns = dxl_mono_ns() + SRV_ACK_MS * 1000000LL;
		srv_log(c->s, "client %llu: layout %llu revoked (not returned in time)",
			(unsigned long long)c->id, (unsigned long long)l->id);
		send_recall(l, DXL_OP_REVOKED, NULL);
	}
}

static int quiesce(dxl_rdma_reg *reg, void *arg)
{
	struct srv_layout *l = arg;

	/* nothing of the client's can be in flight once its endpoint is closed */
	if (l->fence && l->c->ep) {
		fi_close(&l->c->ep->fid);
		l->c->ep = NULL;
	}
	return 0;
}

static void layout_free(struct srv_layout *l, int persist)
{
	struct srv_client *c = l->c;
	DXL_SLIST_REMOVE(&c->layouts, l);
	c->nlayouts--;
	/* a returned layout's writes are made durable, as a LAYOUTCOMMIT would */
	if (persist && l->writable && dxl_rdma_reg_state(l->reg) != DXL_LEASE_REVOKED)
		dxl_persist(c->s->pool, dxl_rdma_reg_addr(l->reg), (size_t)l->len);
	if (dxl_rdma_unregister(l->reg))
		srv_log(c->s, "client %llu: layout %llu: %s", (unsigned long long)c->id,
			(unsigned long long)l->id, dxl_errmsg());
	free(l);
}

int srv_layout_get(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_fileop *op = m->p;
	struct dxl_server *s = c->s;
	struct srv_file *sf = srv_file_find(c, op->handle);
	struct dxl_reg_opts ro;
	struct srv_layout *l;
	struct dxl_p_layout *out;
	struct dxl_stat st;
	struct dxl_mb mb;
	uint8_t buf[sizeof(struct dxl_msg_hdr) + sizeof(struct dxl_p_layout)];
	char holder[96];
	int rw = !!(op->flags & DXL_LAYOUT_RW), rc;

	if (!sf)
		return srv_reply_err(c, m, -EBADF);
	if (op->len == 0 || (op->flags & ~(uint32_t)DXL_LAYOUT_RW))
		return srv_reply_err(c, m, -EINVAL);
	if (op->off + op->len < op->off)
		return srv_reply_err(c, m, -EOVERFLOW);
	if ((uint32_t)c->nlayouts >= s->max_layouts)
		return srv_reply_err(c, m, -EMFILE);
	if (rw && (sf->flags & O_ACCMODE) == O_RDONLY)
		return srv_reply_err(c, m, -EACCES);
	rc = dxl_fstat(sf->f, &st);
	if (rc == 0 && op->off + op->len > st.size)
		rc = rw ? dxl_ftruncate(sf->f, op->off + op->len) : -EINVAL;
	if (rc)
		return srv_reply_err(c, m, rc);
	l = calloc(1, sizeof(*l));
	if (!l)
		return srv_reply_err(c, m, -ENOMEM);
	l->id = ++s->next_layout;
	l->c = c;
	l->file = sf;
	l->off = op->off;
	l->len = op->len;
	l->state = L_ACTIVE;
	l->writable = rw;
	snprintf(holder, sizeof(holder), "client %llu %s", (unsigned long long)c->id, c->addr);
	memset(&ro, 0, sizeof(ro));
	ro.version = DXL_REG_OPTS_VERSION;
	ro.mr_mode = s->fab.info->domain_attr->mr_mode;
	ro.access = rw ? (FI_REMOTE_READ | FI_REMOTE_WRITE) : FI_REMOTE_READ;
	ro.cb = layout_cb;
	ro.arg = l;
	ro.quiesce = quiesce;
	ro.quiesce_arg = l;
	ro.holder = holder;
	rc = dxl_rdma_register(sf->f, op->off, op->len, s->fab.domain, &ro, &l->reg);
	if (rc) {
		free(l);
		/* a COW that must first break others' leases: wait for it */
		return rc == -EWOULDBLOCK ? rc : srv_reply_err(c, m, rc);
	}
	l->next = c->layouts;
	c->layouts = l;
	c->nlayouts++;
	dxl_mb_start(&mb, buf, DXL_OP_LAYOUTGET | DXL_OP_REPLY, m->h->seq, 0);
	out = dxl_mb_put(&mb, sizeof(*out));
	out->layout = l->id;
	out->off = l->off;
	out->len = l->len;
	out->raddr = dxl_rdma_reg_raddr(l->reg);
	out->key = dxl_rdma_reg_key(l->reg);
	out->flags = rw ? DXL_LAYOUT_RW : 0;
	return srv_send(c, &mb);
}

static struct srv_layout *layout_find(struct srv_client *c, uint64_t id)
{
	struct srv_layout *l;

	for (l = c->layouts; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

int srv_layout_return(struct srv_client *c, const struct dxl_msg *m, int ack)
{
	const struct dxl_p_fileop *op = m->p;
	struct srv_layout *l = layout_find(c, op->handle);

	if (!l)
		return srv_reply_err(c, m, -ENOENT);
	if (ack && l->state != L_FENCING)
		return srv_reply_err(c, m, -EINVAL);
	/* It came after every access the client made through the layout
	 * (messages are ordered after RMA writes: FI_ORDER_SAW), and the MR
	 * is closed before the pins drop: nothing can land later. */
	layout_free(l, l->state != L_FENCING);
	return srv_reply_err(c, m, 0);
}

int srv_commit(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_fileop *op = m->p;
	struct srv_file *sf = srv_file_find(c, op->handle);
	struct srv_layout *l;
	uint64_t end = op->len ? op->off + op->len : UINT64_MAX;
	int rc;

	if (!sf)
		return srv_reply_err(c, m, -EBADF);
	if (end < op->off)
		return srv_reply_err(c, m, -EOVERFLOW);
	for (l = c->layouts; l; l = l->next) {
		uint64_t lo, hi;
		if (l->file != sf || !l->writable || l->state == L_FENCING)
			continue;
		lo = DXL_MAX(op->off, l->off);
		hi = DXL_MIN(end, l->off + l->len);
		if (lo < hi && dxl_rdma_reg_state(l->reg) != DXL_LEASE_REVOKED)
			dxl_persist(c->s->pool, (uint8_t *)dxl_rdma_reg_addr(l->reg) + (lo - l->off),
				    (size_t)(hi - lo));
	}
	/* and the metadata: sizes, lazily kept times */
	rc = dxl_fdatasync(sf->f);
	return srv_reply_err(c, m, rc);
}

void srv_layouts_return_file(struct srv_client *c, struct srv_file *sf)
{
	struct srv_layout *l, *next;

	for (l = c->layouts; l; l = next) {
		next = l->next;
		if (l->file == sf) {
			/* the client closes the file: what it did before is in order before it */
			layout_free(l, l->state != L_FENCING);
		}
	}
}

void srv_layouts_fence_all(struct srv_client *c)
{
	struct srv_layout *l;

	while ((l = c->layouts)) {
		l->fence = 1;
		layout_free(l, 0);
	}
}

void srv_layouts_timers(struct srv_client *c, int64_t now)
{
	struct srv_layout *l;

	for (l = c->layouts; l; l = l->next)
		if (l->state == L_FENCING && now > l->ack_deadline_ns) {
			srv_drop(c, "it did not acknowledge a revocation in time");
			return;
		}
}
