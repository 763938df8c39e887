/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `daxlease serve`: the loop.  One thread drives everything — libfabric
 * progress (the target of one-sided RMA must drive it), requests, the
 * pool's lease events (recalls) and the timers — so no lock is needed and
 * the domain's FI_THREAD_DOMAIN rule holds.  Changes that would block on a
 * break are made non-blocking and parked until the recalls come back.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "rdma/server.h"

void srv_log(struct dxl_server *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, line);
}

/* ------------------------------------------------------------ buffers */

static int bufs_init(struct dxl_server *s, struct srv_bufs *bs, struct srv_client *c, int nrx, int ntx)
{
	int i, rc;

	bs->nrx = nrx;
	bs->ntx = ntx;
	bs->b = calloc((size_t)(nrx + ntx), sizeof(*bs->b));
	if (!bs->b)
		return dxl_err(ENOMEM, "server: out of memory");
	for (i = 0; i < nrx + ntx; i++) {
		bs->b[i].c = c;
		bs->b[i].set = bs;
		bs->b[i].tx = i >= nrx;
	}
	if (s->fab.info->domain_attr->mr_mode & FI_MR_LOCAL) {
		rc = fi_mr_reg(s->fab.domain, bs->b, (size_t)(nrx + ntx) * sizeof(*bs->b),
			       FI_SEND | FI_RECV, 0, 0, 0, &bs->mr, NULL);
		if (rc) {
			free(bs->b);
			bs->b = NULL;
			return dxl_err(dxl_fi_errno(rc), "server: cannot register buffers: %s", fi_strerror(-rc));
		}
		bs->desc = fi_mr_desc(bs->mr);
	}
	return 0;
}

static void bufs_fini(struct srv_bufs *bs)
{
	if (bs->mr)
		fi_close(&bs->mr->fid);
	free(bs->b);
	memset(bs, 0, sizeof(*bs));
}

static int post_rx(struct fid_ep *ep, struct srv_buf *b)
{
	int rc;

	do {
		rc = (int)fi_recv(ep, b->data, DXL_MSG_SIZE, b->set->desc, FI_ADDR_UNSPEC, b);
	} while (rc == -FI_EAGAIN);
	if (rc)
		return dxl_err(dxl_fi_errno(rc), "server: fi_recv: %s", fi_strerror(-rc));
	b->busy = 1;
	return 0;
}

static int post_all_rx(struct fid_ep *ep, struct srv_bufs *bs)
{
	int i, rc;

	for (i = 0; i < bs->nrx; i++)
		if ((rc = post_rx(ep, &bs->b[i])))
			return rc;
	return 0;
}

static struct srv_buf *free_tx(struct srv_bufs *bs)
{
	int i;

	for (i = bs->nrx; i < bs->nrx + bs->ntx; i++)
		if (!bs->b[i].busy)
			return &bs->b[i];
	return NULL;
}

static void progress(struct dxl_server *s);

/* A free send buffer of bs (c's, or the listening endpoint's for c NULL);
 * every one in flight: drive completions a while (bounded). */
static struct srv_buf *tx_buf(struct dxl_server *s, struct srv_bufs *bs, struct srv_client *c)
{
	struct srv_buf *b;
	int64_t until = dxl_mono_ns() + SRV_SEND_NS;

	while (!(b = free_tx(bs)) && dxl_mono_ns() < until && (!c || c->state != C_ZOMBIE))
		progress(s);
	return b;
}

/* b is taken (busy) before the first try: while the provider says
 * -FI_EAGAIN, progress runs the loop's handlers, and a nested send must
 * not be handed the same buffer.  Those handlers may take long (64
 * HELLOs at once, each opening an endpoint): a progress round longer
 * than SRV_NESTED_NS ran them, and its time is not counted against this
 * send's SRV_SEND_NS.  They may also drop b's client, closing the
 * endpoint this send would use: then it stops. */
static int send_on(struct dxl_server *s, struct fid_ep *ep, fi_addr_t to, struct srv_buf *b, size_t n)
{
	int64_t until = dxl_mono_ns() + SRV_SEND_NS;
	ssize_t rc;

	b->busy = 1;
	for (;;) {
		int64_t t0;
		rc = fi_send(ep, b->data, n, b->set->desc, to, b);
		if (rc != -FI_EAGAIN || dxl_mono_ns() > until)
			break;
		t0 = dxl_mono_ns();
		progress(s);
		if (dxl_mono_ns() - t0 > SRV_NESTED_NS)
			until += dxl_mono_ns() - t0;
		if (b->c && b->c->state == C_ZOMBIE) {
			b->busy = 0;
			return -ENOTCONN;
		}
	}
	if (rc) {
		b->busy = 0;
		return dxl_err(dxl_fi_errno((int)rc), "server: fi_send: %s", fi_strerror((int)-rc));
	}
	return 0;
}

int srv_send(struct srv_client *c, struct dxl_mb *mb)
{
	struct srv_buf *b;
	size_t n = dxl_mb_end(mb);

	if (c->state == C_ZOMBIE)
		return -ENOTCONN;
	if (n == 0)
		return dxl_err(EMSGSIZE, "server: an answer does not fit in a message");
	b = tx_buf(c->s, &c->bufs, c);
	if (!b) {
		srv_drop(c, "it does not take its messages");
		return -ENOBUFS;
	}
	memcpy(b->data, mb->buf, n);
	if (c->sess.on)
		dxl_sess_seal(&c->sess, b->data);
	return send_on(c->s, c->ep, c->peer, b, n);
}

int srv_reply_err(struct srv_client *c, const struct dxl_msg *m, int rc)
{
	uint8_t buf[sizeof(struct dxl_msg_hdr)];
	struct dxl_mb mb;

	dxl_mb_start(&mb, buf, m->op | DXL_OP_REPLY, m->h->seq, rc);
	return srv_send(c, &mb);
}

/* ------------------------------------------------------------ clients */

static void client_free(struct srv_client *c)
{
	bufs_fini(&c->bufs);
	sodium_memzero(&c->sess, sizeof(c->sess));
	free(c);
}

/* Drop a client: its layouts' MRs first, then its endpoint (the fence:
 * nothing it still had in flight can land after this), then the pins. */
void srv_drop(struct srv_client *c, const char *why)
{
	struct dxl_server *s = c->s;

	if (c->state == C_ZOMBIE)
		return;
	srv_log(s, "client %llu (%s) dropped: %s", (unsigned long long)c->id, c->addr, why);
	c->state = C_ZOMBIE;
	srv_layouts_fence_all(c);
	if (c->ep) {
		fi_close(&c->ep->fid);
		c->ep = NULL;
	}
	if (c->cq) {
		fi_close(&c->cq->fid);
		c->cq = NULL;
	}
	srv_files_close(c);
	c->parked = 0;
	if (c->peer != FI_ADDR_NOTAVAIL)
		fi_av_remove(s->fab.av, &c->peer, 1, 0);
	c->peer = FI_ADDR_NOTAVAIL;
	/* completions of its buffers may still be queued: free it later */
	c->zombie_ns = dxl_mono_ns();
	s->nclients--;
}

static void reap_zombies(struct dxl_server *s, int64_t now, int all)
{
	struct srv_client **pp = &s->clients, *c;

	while ((c = *pp)) {
		if (c->state == C_ZOMBIE && (all || now - c->zombie_ns > 2000000000LL)) {
			*pp = c->next;
			client_free(c);
		} else {
			pp = &c->next;
		}
	}
}

static struct fi_info *session_info(struct dxl_server *s)
{
	struct fi_info *i = fi_dupinfo(s->fab.info);

	if (!i)
		return NULL;
	/* the same host as the listening endpoint, any port */
	if (i->src_addr && i->addr_format == FI_SOCKADDR_IN &&
	    i->src_addrlen >= sizeof(struct sockaddr_in))
		((struct sockaddr_in *)i->src_addr)->sin_port = 0;
	else if (i->src_addr && i->addr_format == FI_SOCKADDR_IN6 &&
		 i->src_addrlen >= sizeof(struct sockaddr_in6))
		((struct sockaddr_in6 *)i->src_addr)->sin6_port = 0;
	else {
		free(i->src_addr);
		i->src_addr = NULL;
		i->src_addrlen = 0;
	}
	return i;
}

static void hello_refuse(struct dxl_server *s, fi_addr_t peer, const struct dxl_msg *m, int err)
{
	struct srv_buf *b = free_tx(&s->front_bufs);
	struct dxl_mb mb;
	size_t n;

	if (!b)
		return;
	dxl_mb_start(&mb, b->data, DXL_OP_HELLO | DXL_OP_REPLY, m->h->seq, err);
	n = dxl_mb_end(&mb);
	send_on(s, s->front, peer, b, n);
}

static void on_hello(struct dxl_server *s, const struct dxl_msg *m)
{
	const struct dxl_p_hello *h = m->p;
	struct srv_client *c;
	struct fi_info *info;
	struct dxl_p_challenge *ch;
	uint8_t name[DXL_ADDR_MAX], buf[DXL_MSG_SIZE];
	size_t namelen = sizeof(name);
	struct dxl_mb mb;
	fi_addr_t peer = FI_ADDR_NOTAVAIL;
	int rc;

	if (fi_av_insert(s->fab.av, m->tail, 1, &peer, 0, NULL) != 1) {
		srv_log(s, "HELLO with an address the provider refuses: ignored");
		return;
	}
	/* a test's loaded server: every other HELLO (a client's first try,
	 * when clients come one at a time) is answered late */
	if (s->test_late_hello_ms && s->test_hellos++ % 2 == 0)
		usleep((useconds_t)s->test_late_hello_ms * 1000);
	if ((uint32_t)s->nclients >= s->max_clients) {
		srv_log(s, "HELLO refused: %u clients already", s->max_clients);
		hello_refuse(s, peer, m, -EUSERS);
		fi_av_remove(s->fab.av, &peer, 1, 0);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		fi_av_remove(s->fab.av, &peer, 1, 0);
		return;
	}
	c->s = s;
	c->id = ++s->next_client;
	c->state = C_AUTH;
	c->peer = peer;
	c->heard_ns = dxl_mono_ns();
	memcpy(c->cn, h->nonce, DXL_NONCE_LEN);
	randombytes_buf(c->sn, DXL_NONCE_LEN);
	dxl_fab_addr_str(&s->fab, m->tail, c->addr, sizeof(c->addr));
	info = session_info(s);
	rc = info ? 0 : -ENOMEM;
	if (rc == 0)
		rc = dxl_fab_cq(&s->fab, 64, &c->cq, &c->cq_fd);
	if (rc == 0)
		rc = dxl_fab_ep(&s->fab, info, c->cq, &c->ep);
	fi_freeinfo(info);
	if (rc == 0)
		rc = bufs_init(s, &c->bufs, c, SRV_RX, SRV_TX);
	if (rc == 0)
		rc = post_all_rx(c->ep, &c->bufs);
	if (rc == 0 && fi_getname(&c->ep->fid, name, &namelen) != 0)
		rc = -EIO;
	if (rc) {
		srv_log(s, "cannot take a client from %s: %s", c->addr, dxl_errmsg());
		if (c->ep)
			fi_close(&c->ep->fid);
		if (c->cq)
			fi_close(&c->cq->fid);
		hello_refuse(s, peer, m, rc < 0 ? rc : -EIO);
		fi_av_remove(s->fab.av, &peer, 1, 0);
		bufs_fini(&c->bufs);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	dxl_mb_start(&mb, buf, DXL_OP_CHALLENGE, m->h->seq, 0);
	ch = dxl_mb_put(&mb, sizeof(*ch));
	memcpy(ch->nonce, c->sn, DXL_NONCE_LEN);
	dxl_proof(ch->proof, s->key, "srv", c->cn, c->sn, c->id);
	ch->client_id = c->id;
	ch->client_timeout_ms = s->client_timeout_ms;
	ch->addrlen = (uint32_t)namelen;
	dxl_mb_put_bytes(&mb, name, namelen);
	srv_send(c, &mb);
}

static void on_auth(struct srv_client *c, const struct dxl_msg *m)
{
	const struct dxl_p_auth *a = m->p;
	struct dxl_mb mb;
	uint8_t buf[sizeof(struct dxl_msg_hdr)];

	if (m->op != DXL_OP_AUTH || m->reply) {
		srv_reply_err(c, m, -EACCES);
		srv_drop(c, "a request before authentication");
		return;
	}
	if (!dxl_proof_ok(a->proof, c->s->key, "cli", c->sn, c->cn, c->id)) {
		srv_reply_err(c, m, -EACCES);
		srv_drop(c, "authentication failed (wrong key)");
		return;
	}
	dxl_sess_init(&c->sess, c->s->key, c->cn, c->sn, c->id);
	c->state = C_LIVE;
	srv_log(c->s, "client %llu connected from %s", (unsigned long long)c->id, c->addr);
	dxl_mb_start(&mb, buf, DXL_OP_AUTH | DXL_OP_REPLY, m->h->seq, 0);
	srv_send(c, &mb);
}

static void retry_parked(struct srv_client *c)
{
	struct dxl_msg *m;
	int rc;

	if (!c->parked || c->state != C_LIVE)
		return;
	m = malloc(sizeof(*m));
	if (!m)
		return;
	/* the message was checked when it came; parse again for the pointers */
	if (dxl_msg_parse(c->parked_msg, c->parked_len, m) == 0) {
		rc = srv_handle(c, m);
		if (rc != -EWOULDBLOCK)
			c->parked = 0;
	} else {
		c->parked = 0;
	}
	free(m);
}

static void on_message(struct srv_client *c, struct srv_buf *b, size_t n)
{
	struct dxl_msg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return;
	rc = dxl_msg_parse(b->data, n, m);
	if (rc == 0 && c->state == C_LIVE)
		rc = dxl_sess_accept(&c->sess, m);
	if (rc) {
		/* not from the client, or not well formed: refused, nothing done */
		srv_log(c->s, "client %llu: message refused: %s", (unsigned long long)c->id, dxl_errmsg());
		if (++c->bad_msgs > 64)
			srv_drop(c, "too many refused messages");
		free(m);
		return;
	}
	c->heard_ns = dxl_mono_ns();
	if (c->state == C_AUTH) {
		on_auth(c, m);
	} else if (c->parked) {
		/* one change waits at a time; the client library never sends
		 * another request meanwhile except returns and acks */
		if (m->op == DXL_OP_LAYOUTRETURN || m->op == DXL_OP_REVOKE_ACK || m->op == DXL_OP_RENEW)
			srv_handle(c, m);
		else
			srv_reply_err(c, m, -EBUSY);
	} else {
		rc = srv_handle(c, m);
		if (rc == -EWOULDBLOCK) {
			memcpy(c->parked_msg, b->data, n);
			c->parked_len = n;
			c->parked = 1;
			c->parked_since_ns = dxl_mono_ns();
		}
	}
	free(m);
}

/* -------------------------------------------------------------- loop */

static void on_front_rx(struct dxl_server *s, struct srv_buf *b, size_t n)
{
	struct dxl_msg *m = malloc(sizeof(*m));

	if (m && dxl_msg_parse(b->data, n, m) == 0 && m->op == DXL_OP_HELLO && !m->reply)
		on_hello(s, m);
	else
		srv_log(s, "listening endpoint: message refused: %s", m ? dxl_errmsg() : "out of memory");
	free(m);
}

static void on_completion(struct dxl_server *s, struct srv_buf *b, size_t n, int err)
{
	struct srv_client *c = b->c;

	b->busy = 0;
	if (b->tx) {
		if (err && c && c->state != C_ZOMBIE)
			srv_drop(c, "a message to it failed (gone?)");
		return;
	}
	if (c && c->state == C_ZOMBIE)
		return;
	if (!err) {
		if (c)
			on_message(c, b, n);
		else
			on_front_rx(s, b, n);
	}
	if (c && c->state == C_ZOMBIE)
		return;
	if (post_rx(c ? c->ep : s->front, b) && c)
		srv_drop(c, "cannot post a receive");
}

static int progress_cq(struct dxl_server *s, struct fid_cq *cq)
{
	struct fi_cq_msg_entry e[16];
	struct fi_cq_err_entry ee;
	ssize_t n, i;

	n = fi_cq_read(cq, e, DXL_ARRAY_SIZE(e));
	if (n == -FI_EAVAIL) {
		memset(&ee, 0, sizeof(ee));
		if (fi_cq_readerr(cq, &ee, 0) == 1 && ee.op_context)
			on_completion(s, ee.op_context, 0, ee.err ? ee.err : EIO);
		return 1;
	}
	for (i = 0; i < n; i++)
		on_completion(s, e[i].op_context, e[i].len, 0);
	return n > 0 ? (int)n : 0;
}

/* Every queue once: at most 16 completions of each client a round, so a
 * busy client cannot starve the others. */
static void progress(struct dxl_server *s)
{
	struct srv_client *c;

	progress_cq(s, s->fab.cq);
	for (c = s->clients; c; c = c->next)
		if (c->state != C_ZOMBIE && c->cq)
			progress_cq(s, c->cq);
}

static void wait_any(struct dxl_server *s, const int *fds, int nfds, int timeout_ms)
{
	struct srv_client *c;
	int n = 0;

	s->wait_cqs[n] = &s->fab.cq->fid;
	s->wait_fds[n++] = s->fab.cq_fd;
	for (c = s->clients; c && n < (int)s->max_clients + 1; c = c->next)
		if (c->state != C_ZOMBIE && c->cq) {
			s->wait_cqs[n] = &c->cq->fid;
			s->wait_fds[n++] = c->cq_fd;
		}
	dxl_fab_wait(&s->fab, s->wait_cqs, s->wait_fds, n, fds, nfds, timeout_ms);
}

static void timers(struct dxl_server *s)
{
	int64_t now = dxl_mono_ns();
	struct srv_client *c;

	for (c = s->clients; c; c = c->next) {
		if (c->state == C_ZOMBIE)
			continue;
		if (c->state == C_AUTH && now - c->heard_ns > SRV_AUTH_MS * 1000000LL) {
			srv_drop(c, "no authentication in time");
			continue;
		}
		if (now - c->heard_ns > (int64_t)s->client_timeout_ms * 1000000LL) {
			srv_drop(c, "silent for longer than the client timeout");
			continue;
		}
		srv_layouts_timers(c, now);
		if (c->state == C_LIVE)
			retry_parked(c);
	}
	reap_zombies(s, now, 0);
}

static int start_front(struct dxl_server *s)
{
	int rc = dxl_fab_ep(&s->fab, NULL, NULL, &s->front);

	if (rc == 0)
		rc = bufs_init(s, &s->front_bufs, NULL, SRV_FRONT_RX, 4);
	if (rc == 0)
		rc = post_all_rx(s->front, &s->front_bufs);
	return rc;
}

int dxl_server_start(dxl_pool *pool, const char *listen, const struct dxl_server_opts *o,
		     dxl_server **out)
{
	struct dxl_server *s;
	char hp[128];
	const char *host, *port;
	int rc;

	dxl_err_clear();
	if (!pool || !listen || !o || !out)
		return dxl_err(EINVAL, "server: bad argument");
	if (o->version != DXL_SERVER_OPTS_VERSION)
		return dxl_err(EINVAL, "server: options version %u, this library knows %u", o->version,
			       DXL_SERVER_OPTS_VERSION);
	if ((rc = dxl_split_host_port(listen, hp, sizeof(hp), &host, &port)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return dxl_err(ENOMEM, "server: out of memory");
	s->pool = pool;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	snprintf(s->listen, sizeof(s->listen), "%s", listen);
	s->client_timeout_ms = o->client_timeout_ms ? o->client_timeout_ms : 10000;
	s->max_clients = o->max_clients ? o->max_clients : 256;
	s->max_layouts = o->max_layouts ? o->max_layouts : 64;
	s->log = o->log;
	s->log_arg = o->log_arg;
	if (dxl_test_switch("DXL_TEST_LATE_HELLO_MS"))
		s->test_late_hello_ms = (unsigned)atoi(dxl_test_switch("DXL_TEST_LATE_HELLO_MS"));
	rc = dxl_key_get(o->key, o->key_file, s->key, "server");
	if (rc == 0) {
		s->wait_cqs = calloc(s->max_clients + 1, sizeof(*s->wait_cqs));
		s->wait_fds = calloc(s->max_clients + 1, sizeof(*s->wait_fds));
		if (!s->wait_cqs || !s->wait_fds)
			rc = dxl_err(ENOMEM, "server: out of memory");
	}
	if (rc == 0 && pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		rc = dxl_err(errno, "server: pipe: %s", strerror(errno));
	/* One endpoint per client: rxm's default shared receive pool (4096
	 * buffers of 16 KiB) made each cost about 70 MB and 60 ms to open here,
	 * and 64 clients connecting at once timed out.  16 buffers are plenty
	 * for SRV_RX requests.  libfabric reads it when it starts; a value the
	 * user set wins. */
	setenv("FI_OFI_RXM_MSG_RX_SIZE", "16", 0);
	if (rc == 0)
		rc = dxl_fab_open(&s->fab, o->provider, host, port, 1);
	/* refused at the start, not at every client's first layout */
	if (rc == 0)
		rc = dxl_rdma_check_domain(s->fab.domain, s->fab.info->domain_attr->mr_mode);
	if (rc == 0)
		rc = start_front(s);
	/* the server's own changes wait for its clients' recalls */
	if (rc == 0 && (rc = dxl_event_self_dispatch(pool, 1)) == 0)
		s->self_dispatch_on = 1;
	if (rc) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", dxl_errmsg());
		dxl_server_close(s);
		return dxl_err(-rc, "%s", msg); /* close cleared it */
	}
	*out = s;
	return 0;
}

void dxl_server_stop(dxl_server *s)
{
	char c = 1;

	if (!s)
		return;
	s->stop = 1;
	/* async-signal-safe */
	if (s->stop_pipe[1] >= 0 && write(s->stop_pipe[1], &c, 1) < 0) {
		/* the flag is enough; the loop looks at it every tick */
	}
}

int dxl_server_run(dxl_server *s)
{
	int fds[2];
	int64_t last_tick = 0, now;
	int rc;

	dxl_err_clear();
	if (!s)
		return dxl_err(EINVAL, "server: no server");
	fds[0] = dxl_event_fd(s->pool);
	fds[1] = s->stop_pipe[0];
	srv_log(s, "serving on %s (provider %s)", s->listen, s->fab.prov);
	while (!s->stop) {
		struct srv_client *c;
		progress(s);
		/* a return that came may let a parked change go now, not at the tick */
		for (c = s->clients; c; c = c->next)
			if (c->parked)
				retry_parked(c);
		rc = dxl_event_dispatch(s->pool);
		if (rc < 0 && rc != -EAGAIN)
			srv_log(s, "event dispatch: %s", dxl_errmsg());
		now = dxl_mono_ns();
		if (now - last_tick > 10000000LL) {
			timers(s);
			last_tick = now;
		}
		/* a short sleep only: the queue's wait fd wakes it for requests
		 * and for RMA it must progress */
		wait_any(s, fds, 2, 10);
	}
	return 0;
}

int dxl_server_close(dxl_server *s)
{
	struct srv_client *c;

	if (!s)
		return 0;
	for (c = s->clients; c; c = c->next)
		if (c->state != C_ZOMBIE)
			srv_drop(c, "the server stops");
	reap_zombies(s, 0, 1);
	if (s->front)
		fi_close(&s->front->fid);
	bufs_fini(&s->front_bufs);
	dxl_fab_close(&s->fab);
	if (s->pool && s->self_dispatch_on)
		dxl_event_self_dispatch(s->pool, 0);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	sodium_memzero(s->key, sizeof(s->key));
	free(s->wait_cqs);
	free(s->wait_fds);
	free(s);
	return 0;
}
