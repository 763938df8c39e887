/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client library's transport: connect and authenticate, send a
 * request and wait for its answer while noticing recalls, one-sided I/O.
 * Everything runs in the caller's thread; libfabric progress happens in
 * these calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rdma/client.h"

static int gone(dxl_remote *r, int err, const char *why)
{
	if (!r->dead)
		r->dead = err;
	return dxl_err(err, "server %s: %s", r->server, why);
}

static int post_rx(dxl_remote *r, struct cli_buf *b)
{
	ssize_t rc;

	do {
		rc = fi_recv(r->ep, b->data, DXL_MSG_SIZE, r->desc, FI_ADDR_UNSPEC, b);
		if (rc == -FI_EAGAIN)
			fi_cq_read(r->fab.cq, NULL, 0);
	} while (rc == -FI_EAGAIN);
	if (rc)
		return gone(r, dxl_fi_errno((int)rc), "cannot post a receive");
	b->busy = 1;
	return 0;
}

static dxl_layout *layout_by_id(dxl_remote *r, uint64_t id)
{
	dxl_layout *l;

	for (l = r->layouts; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

static void stash_put(dxl_remote *r, const uint8_t *data, size_t n, uint64_t req)
{
	int i;

	for (i = 0; i < CLI_STASH; i++)
		if (!r->stash[i].data) {
			r->stash[i].data = malloc(n);
			if (!r->stash[i].data)
				return;
			memcpy(r->stash[i].data, data, n);
			r->stash[i].len = n;
			r->stash[i].req = req;
			return;
		}
}

static void stash_clear(dxl_remote *r)
{
	for (int i = 0; i < CLI_STASH; i++) {
		free(r->stash[i].data);
		r->stash[i].data = NULL;
	}
}

/* A message from the server: an answer (stashed for its call) or a recall. */
static void on_message(dxl_remote *r, struct cli_buf *b, size_t n)
{
	struct dxl_msg *m = malloc(sizeof(*m));
	const struct dxl_p_recall *rc;
	dxl_layout *l;

	if (!m)
		return;
	if (dxl_msg_parse(b->data, n, m) != 0)
		goto out;
	/* before the session only the handshake's answers count */
	if (r->sess.on && (m->h->seq != 0 || !r->handshake)) {
		if (dxl_sess_accept(&r->sess, m) != 0)
			goto out;
	} else if (!r->handshake) {
		goto out;
	}
	if (m->reply || m->op == DXL_OP_CHALLENGE) {
		stash_put(r, b->data, n, m->h->req);
		goto out;
	}
	if (m->op != DXL_OP_RECALL && m->op != DXL_OP_REVOKED)
		goto out;
	rc = m->p;
	l = layout_by_id(r, rc->layout);
	if (!l)
		goto out;
	if (m->op == DXL_OP_RECALL && l->state == DXL_LAYOUT_ACTIVE) {
		l->state = DXL_LAYOUT_RECALLED;
		l->deadline_ns = dxl_mono_ns() + rc->ms_left * 1000000LL;
	} else if (m->op == DXL_OP_REVOKED) {
		l->state = DXL_LAYOUT_REVOKED;
		l->key = 0;
	}
	l->todo = 1;
	r->todo = 1;
out:
	free(m);
}

/* One completion (err: 0 or the provider's error). */
static void on_completion(dxl_remote *r, void *ctx, size_t len, int err)
{
	uint32_t kind;
	struct cli_buf *b = ctx;

	if (!ctx)
		return; /* an operation posted without a context (a tool's) */
	memcpy(&kind, ctx, sizeof(kind));
	if (kind == CTX_RMA) {
		struct cli_rma_ctx *rc = ctx;
		rc->done = 1;
		rc->err = err;
		return;
	}
	if (kind != CTX_RX && kind != CTX_TX)
		return;
	b->busy = 0;
	if (kind == CTX_TX) {
		if (err)
			gone(r, err == FI_ECONNREFUSED ? ECONNREFUSED : ENOTCONN,
			     "a message to it failed: it is gone (stopped or unreachable)");
		return;
	}
	if (!err)
		on_message(r, b, len);
	if (!r->dead)
		post_rx(r, b);
}

int cli_progress(dxl_remote *r, int timeout_ms)
{
	struct fi_cq_msg_entry e[16];
	struct fi_cq_err_entry ee;
	ssize_t n, i;

	if (timeout_ms) {
		struct fid *cq = &r->fab.cq->fid;
		dxl_fab_wait(&r->fab, &cq, &r->fab.cq_fd, 1, NULL, 0, timeout_ms);
	}
	n = fi_cq_read(r->fab.cq, e, DXL_ARRAY_SIZE(e));
	if (n == -FI_EAVAIL) {
		memset(&ee, 0, sizeof(ee));
		if (fi_cq_readerr(r->fab.cq, &ee, 0) != 1)
			return 0;
		on_completion(r, ee.op_context, 0, ee.err ? ee.err : EIO);
		return 1;
	}
	for (i = 0; i < n; i++)
		on_completion(r, e[i].op_context, e[i].len, 0);
	return n > 0 ? (int)n : 0;
}

static struct cli_buf *tx_buf(dxl_remote *r)
{
	int64_t until = dxl_mono_ns() + (int64_t)r->timeout_ms * 1000000LL;
	int i;

	for (;;) {
		for (i = CLI_RX; i < CLI_RX + CLI_TX; i++)
			if (!r->bufs[i].busy)
				return &r->bufs[i];
		if (r->dead || dxl_mono_ns() > until)
			return NULL;
		cli_progress(r, 1);
	}
}

static int send_msg(dxl_remote *r, fi_addr_t to, struct dxl_mb *mb, uint64_t *seq)
{
	size_t n = dxl_mb_end(mb);
	struct cli_buf *b;
	int64_t until;
	ssize_t rc;

	if (r->dead)
		return dxl_err(r->dead, "server %s is gone: the connection is dead", r->server);
	if (n == 0)
		return dxl_err(EMSGSIZE, "request too large for one message");
	b = tx_buf(r);
	if (!b)
		return r->dead ? -r->dead : gone(r, ETIMEDOUT, "it takes no messages");
	memcpy(b->data, mb->buf, n);
	if (r->sess.on)
		dxl_sess_seal(&r->sess, b->data);
	*seq = ((struct dxl_msg_hdr *)b->data)->seq;
	until = dxl_mono_ns() + (int64_t)r->timeout_ms * 1000000LL;
	for (;;) {
		rc = fi_send(r->ep, b->data, n, r->desc, to, b);
		if (rc != -FI_EAGAIN || dxl_mono_ns() > until)
			break;
		cli_progress(r, 0);
	}
	if (rc == -FI_EAGAIN)
		return gone(r, ETIMEDOUT, "it takes no messages: gone (stopped, or unreachable?)");
	if (rc)
		return gone(r, dxl_fi_errno((int)rc), fi_strerror((int)-rc));
	b->busy = 1;
	r->last_sent_ns = dxl_mono_ns();
	return 0;
}

int cli_send_only(dxl_remote *r, struct dxl_mb *mb)
{
	uint64_t seq;

	return send_msg(r, r->peer, mb, &seq);
}

void cli_flush(dxl_remote *r, int ms)
{
	int64_t until = dxl_mono_ns() + (int64_t)ms * 1000000LL;
	int i, busy;

	do {
		cli_progress(r, 1);
		for (busy = 0, i = CLI_RX; i < CLI_RX + CLI_TX; i++)
			busy |= r->bufs[i].busy;
	} while (busy && !r->dead && dxl_mono_ns() < until);
}

static int stash_take(dxl_remote *r, uint64_t req, unsigned op, uint8_t *reply, struct dxl_msg *m)
{
	int i;

	for (i = 0; i < CLI_STASH; i++) {
		struct cli_stash *s = &r->stash[i];
		if (!s->data || s->req != req)
			continue;
		memcpy(reply, s->data, s->len);
		free(s->data);
		s->data = NULL;
		if (dxl_msg_parse(reply, s->len, m) != 0)
			return -EBADMSG;
		if (m->op != (op & ~(unsigned)DXL_OP_REPLY) && !(op == DXL_OP_HELLO && m->op == DXL_OP_CHALLENGE))
			return dxl_err(EPROTO, "server %s answered %s with %s", r->server, dxl_op_name(op),
				       dxl_op_name(m->op));
		return 1;
	}
	return 0;
}

/* One round of waiting for an answer that is not there yet: the error
 * when the connection died or until passed, else 0 after progress. */
static int wait_round(dxl_remote *r, int64_t until)
{
	if (r->dead)
		return dxl_err(r->dead, "server %s is gone (stopped, or it dropped this client)", r->server);
	if (dxl_mono_ns() > until)
		return gone(r, ETIMEDOUT, "no answer in time (stopped, or unreachable?)");
	if (cli_progress(r, 0) == 0)
		cli_progress(r, 1);
	return 0;
}

static int wait_answer(dxl_remote *r, uint64_t req, unsigned op, uint8_t *reply, struct dxl_msg *m)
{
	int64_t until = dxl_mono_ns() + (int64_t)r->timeout_ms * 1000000LL;
	int rc;

	for (;;) {
		rc = stash_take(r, req, op, reply, m);
		if (rc)
			return rc < 0 ? rc : 0;
		if ((rc = wait_round(r, until)))
			return rc;
	}
}

static int call_to(dxl_remote *r, fi_addr_t to, struct dxl_mb *mb, uint8_t *reply, struct dxl_msg *m)
{
	unsigned op = ((struct dxl_msg_hdr *)mb->buf)->op;
	uint64_t seq;
	int rc;

	r->depth++;
	rc = send_msg(r, to, mb, &seq);
	if (rc == 0)
		rc = wait_answer(r, seq, op, reply, m);
	r->depth--;
	if (rc)
		return rc;
	if (m->h->status < 0)
		return dxl_err(-m->h->status, "server %s: %s: %s", r->server, dxl_op_name(op),
			       strerror(-m->h->status));
	return 0;
}

int cli_call(dxl_remote *r, struct dxl_mb *mb, uint8_t *reply, struct dxl_msg *m)
{
	int rc = call_to(r, r->peer, mb, reply, m);

	/* a recall that came meanwhile is acted on now (nested calls) */
	if (r->depth == 0 && r->todo)
		cli_do_todo(r);
	return rc;
}

ssize_t cli_rma(dxl_remote *r, int write, void *buf, size_t len, uint64_t raddr, uint64_t key)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct fi_rma_iov riov = {.addr = raddr, .len = len, .key = key};
	struct fi_msg_rma msg;
	struct fid_mr *mr = NULL;
	void *desc = NULL;
	struct cli_rma_ctx st = {.kind = CTX_RMA};
	int64_t until;
	ssize_t rc;

	if (r->dead)
		return dxl_err(r->dead, "server %s is gone", r->server);
	if (r->fab.info->domain_attr->mr_mode & FI_MR_LOCAL) {
		rc = fi_mr_reg(r->fab.domain, buf, len, write ? FI_WRITE : FI_READ, 0, 0, 0, &mr, NULL);
		if (rc)
			return dxl_err(dxl_fi_errno((int)rc), "cannot register the local buffer: %s",
				       fi_strerror((int)-rc));
		desc = fi_mr_desc(mr);
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.desc = &desc;
	msg.iov_count = 1;
	msg.addr = r->peer;
	msg.rma_iov = &riov;
	msg.rma_iov_count = 1;
	msg.context = &st;
	until = dxl_mono_ns() + (int64_t)r->timeout_ms * 1000000LL;
	for (;;) {
		/* delivery complete: the data has landed when it completes */
		rc = write ? fi_writemsg(r->ep, &msg, FI_DELIVERY_COMPLETE | FI_COMPLETION)
			   : fi_readmsg(r->ep, &msg, FI_COMPLETION);
		if (rc != -FI_EAGAIN || dxl_mono_ns() > until)
			break;
		cli_progress(r, 0);
	}
	if (rc == 0) {
		while (!st.done && !r->dead && dxl_mono_ns() <= until)
			if (cli_progress(r, 0) == 0)
				cli_progress(r, 1);
		if (!st.done)
			rc = r->dead ? -r->dead : gone(r, ETIMEDOUT, "a one-sided operation did not complete");
		else if (st.err)
			rc = dxl_err(st.err == FI_ECANCELED || st.err == FI_EACCES || st.err == FI_EINVAL ? EKEYREJECTED : EIO,
				     "remote %s of %zu bytes refused by the server's NIC: %s (revoked or wrong key, or outside the range)",
				     write ? "write" : "read", len, fi_strerror(st.err));
	} else if (rc == -FI_EAGAIN) {
		rc = gone(r, ETIMEDOUT, "it takes no one-sided operations: gone (stopped, or unreachable?)");
	} else {
		rc = dxl_err(dxl_fi_errno((int)rc), "remote %s: %s", write ? "write" : "read",
			     fi_strerror((int)-rc));
	}
	if (mr)
		fi_close(&mr->fid);
	return rc ? rc : (ssize_t)len;
}

/* ----------------------------------------------------------- connect */

#define CLI_HELLO_TRIES 4

/*
 * The answer to any HELLO sent so far: HELLO k carries seq k, which its
 * answer names in req, so a CHALLENGE to an earlier try that comes late
 * (a loaded server) is as good as this one's.  Anything else that waits
 * is a late answer to an abandoned try: thrown away.  *which: its try.
 */
static int wait_challenge(dxl_remote *r, uint64_t tries, uint8_t *reply, struct dxl_msg *m,
			  uint64_t *which)
{
	int64_t until = dxl_mono_ns() + (int64_t)r->timeout_ms * 1000000LL;
	int rc;

	for (;;) {
		for (int i = 0; i < CLI_STASH; i++) {
			struct cli_stash *st = &r->stash[i];
			int ok;
			if (!st->data)
				continue;
			memcpy(reply, st->data, st->len);
			ok = dxl_msg_parse(reply, st->len, m) == 0 && st->req >= 1 && st->req <= tries &&
			     (m->op == DXL_OP_CHALLENGE || (m->op == DXL_OP_HELLO && m->reply));
			free(st->data);
			st->data = NULL;
			if (ok) {
				*which = m->h->req;
				return 0;
			}
		}
		if ((rc = wait_round(r, until)))
			return rc;
	}
}

/* Try number try (from 1) of the handshake; cn[k-1] is the nonce of try k. */
static int handshake(dxl_remote *r, const uint8_t key[DXL_KEY_LEN], uint8_t cn[][DXL_NONCE_LEN],
		     uint64_t try)
{
	uint8_t name[DXL_ADDR_MAX], *reply = malloc(DXL_MSG_SIZE);
	struct dxl_msg *m = malloc(sizeof(*m));
	const struct dxl_p_challenge *ch;
	struct dxl_p_hello *h;
	struct dxl_p_auth *a;
	size_t namelen = sizeof(name);
	struct dxl_mb mb;
	uint8_t buf[DXL_MSG_SIZE];
	uint64_t seq, which = 0;
	const uint8_t *n;
	int rc;

	if (!reply || !m) {
		rc = dxl_err(ENOMEM, "connect: out of memory");
		goto out;
	}
	if (fi_getname(&r->ep->fid, name, &namelen) != 0 || namelen > DXL_ADDR_MAX) {
		rc = dxl_err(EIO, "connect: cannot name this endpoint");
		goto out;
	}
	randombytes_buf(cn[try - 1], DXL_NONCE_LEN);
	r->handshake = 1;
	dxl_mb_start(&mb, buf, DXL_OP_HELLO, 0, 0);
	((struct dxl_msg_hdr *)buf)->seq = try;
	h = dxl_mb_put(&mb, sizeof(*h));
	memcpy(h->nonce, cn[try - 1], DXL_NONCE_LEN);
	h->addrlen = (uint32_t)namelen;
	dxl_mb_put_bytes(&mb, name, namelen);
	r->depth++;
	rc = send_msg(r, r->front, &mb, &seq);
	if (rc == 0)
		rc = wait_challenge(r, try, reply, m, &which);
	r->depth--;
	if (rc)
		goto out;
	if (m->h->status < 0) {
		rc = dxl_err(-m->h->status, "server %s: HELLO: %s", r->server, strerror(-m->h->status));
		goto out;
	}
	ch = m->p;
	n = cn[which - 1];
	if (m->op != DXL_OP_CHALLENGE ||
	    !dxl_proof_ok(ch->proof, key, "srv", n, ch->nonce, ch->client_id)) {
		rc = dxl_err(EACCES, "server %s does not prove it holds the key: wrong key file?", r->server);
		goto out;
	}
	if (fi_av_insert(r->fab.av, m->tail, 1, &r->peer, 0, NULL) != 1) {
		rc = dxl_err(EPROTO, "server %s sent an address the provider refuses", r->server);
		goto out;
	}
	r->client_id = ch->client_id;
	r->server_timeout_ms = ch->client_timeout_ms;
	dxl_mb_start(&mb, buf, DXL_OP_AUTH, 0, 0);
	((struct dxl_msg_hdr *)buf)->seq = which; /* its answer names the try */
	a = dxl_mb_put(&mb, sizeof(*a));
	dxl_proof(a->proof, key, "cli", ch->nonce, n, r->client_id);
	/* the answer is the session's first sealed message */
	dxl_sess_init(&r->sess, key, n, ch->nonce, r->client_id);
	r->sess.on = 0; /* AUTH itself goes unsealed */
	r->depth++;
	rc = send_msg(r, r->peer, &mb, &seq);
	r->sess.on = 1;
	if (rc == 0)
		rc = wait_answer(r, which, DXL_OP_AUTH | DXL_OP_REPLY, reply, m);
	r->depth--;
	if (rc == 0 && m->h->status < 0)
		rc = dxl_err(-m->h->status, "server %s refused authentication: %s", r->server,
			     strerror(-m->h->status));
out:
	r->handshake = 0;
	/* late answers to other tries must not be taken for anything */
	stash_clear(r);
	free(reply);
	free(m);
	return rc;
}

int dxl_remote_connect(const char *host_port, const struct dxl_remote_opts *o, dxl_remote **out)
{
	uint8_t key[DXL_KEY_LEN], cn[CLI_HELLO_TRIES][DXL_NONCE_LEN];
	char hp[128];
	const char *host, *port;
	dxl_remote *r;
	int rc, i;

	dxl_err_clear();
	if (!host_port || !o || !out)
		return dxl_err(EINVAL, "connect: bad argument");
	if (o->version != DXL_REMOTE_OPTS_VERSION)
		return dxl_err(EINVAL, "connect: options version %u, this library knows %u", o->version,
			       DXL_REMOTE_OPTS_VERSION);
	if ((rc = dxl_split_host_port(host_port, hp, sizeof(hp), &host, &port)))
		return rc;
	if ((rc = dxl_key_get(o->key, o->key_file, key, "connect")))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return dxl_err(ENOMEM, "connect: out of memory");
	snprintf(r->server, sizeof(r->server), "%s", host_port);
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	r->front = r->peer = FI_ADDR_NOTAVAIL;
	rc = dxl_fab_open(&r->fab, o->provider, host, port, 0);
	if (rc == 0)
		rc = dxl_fab_ep(&r->fab, NULL, NULL, &r->ep);
	if (rc == 0 && fi_av_insert(r->fab.av, r->fab.info->dest_addr, 1, &r->front, 0, NULL) != 1)
		rc = dxl_err(EHOSTUNREACH, "connect: cannot address %s", host_port);
	if (rc == 0) {
		r->bufs = calloc(CLI_RX + CLI_TX, sizeof(*r->bufs));
		if (!r->bufs)
			rc = dxl_err(ENOMEM, "connect: out of memory");
	}
	if (rc == 0 && (r->fab.info->domain_attr->mr_mode & FI_MR_LOCAL)) {
		rc = fi_mr_reg(r->fab.domain, r->bufs, (CLI_RX + CLI_TX) * sizeof(*r->bufs), FI_SEND | FI_RECV,
			       0, 0, 0, &r->bufmr, NULL);
		if (rc)
			rc = dxl_err(dxl_fi_errno(rc), "connect: cannot register buffers: %s", fi_strerror(-rc));
		else
			r->desc = fi_mr_desc(r->bufmr);
	}
	for (i = 0; rc == 0 && i < CLI_RX + CLI_TX; i++) {
		r->bufs[i].tx = i >= CLI_RX;
		r->bufs[i].kind = r->bufs[i].tx ? CTX_TX : CTX_RX;
		if (!r->bufs[i].tx)
			rc = post_rx(r, &r->bufs[i]);
	}
	/* A lost CHALLENGE or AUTH answer (seen under load with rxm's connection
	 * setup) costs a retry, not the connection: a fresh HELLO makes a fresh
	 * session, and the server drops the half-made one after 5 s. */
	if (rc == 0) {
		uint32_t total = r->timeout_ms, step = total / 2 ? total / 2 : 1, spent = 0;
		for (uint64_t try = 1;; try++) {
			r->timeout_ms = step;
			rc = handshake(r, key, cn, try);
			spent += step;
			if (rc != -ETIMEDOUT || spent >= total || try == CLI_HELLO_TRIES)
				break;
			r->dead = 0;
			r->sess.on = 0;
			if (r->peer != FI_ADDR_NOTAVAIL) {
				fi_av_remove(r->fab.av, &r->peer, 1, 0);
				r->peer = FI_ADDR_NOTAVAIL;
			}
		}
		r->timeout_ms = total;
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(cn, sizeof(cn));
	if (rc) {
		rc = dxl_err_keep(-rc);
		r->dead = ENOTCONN;
		dxl_remote_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

uint64_t dxl_remote_client_id(const dxl_remote *r)
{
	return r ? r->client_id : 0;
}

void dxl_remote_free(dxl_remote *r)
{
	while (r->layouts) {
		dxl_layout *l = r->layouts;
		r->layouts = l->next;
		free(l);
	}
	while (r->files) {
		dxl_rfile *f = r->files;
		r->files = f->next;
		free(f);
	}
	stash_clear(r);
	if (r->ep)
		fi_close(&r->ep->fid);
	if (r->bufmr)
		fi_close(&r->bufmr->fid);
	dxl_fab_close(&r->fab);
	free(r->bufs);
	sodium_memzero(&r->sess, sizeof(r->sess));
	free(r);
}
