/* SPDX-License-Identifier: BSD-3-Clause */
/* The client library's state (client.c: transport, client_ops.c: requests). */
#ifndef DXL_RDMA_CLIENT_H
#define DXL_RDMA_CLIENT_H

#include "rdma/proto.h"
#include "rdma/rdma_int.h"

#define CLI_RX 16    /* server messages read at once */
#define CLI_TX 4
#define CLI_STASH 4  /* answers kept for an outer call while a nested one waits */

/* Every operation's context starts with its kind: a completion says which
 * (error entries may not carry FI_RMA in their flags). */
enum { CTX_RX = 0x52780001, CTX_TX, CTX_RMA };

struct cli_rma_ctx {
	uint32_t kind;          /* CTX_RMA */
	int done, err;
};

struct cli_buf {
	uint32_t kind;          /* CTX_RX or CTX_TX */
	int tx, busy;
	_Alignas(16) uint8_t data[DXL_MSG_SIZE]; /* headers are read in place */
};

struct cli_stash {
	uint64_t req;
	size_t len;
	uint8_t *data;
};

struct dxl_rfile {
	dxl_remote *r;
	uint64_t handle;
	struct dxl_rfile *next;
};

struct dxl_layout {
	dxl_remote *r;
	dxl_rfile *f;
	uint64_t id, off, len, raddr, key;
	unsigned flags;
	int state;             /* enum dxl_layout_state */
	int64_t deadline_ns;
	int todo;              /* a recall or revocation not yet acted on */
	struct dxl_layout *next;
};

struct dxl_remote {
	struct dxl_fab fab;
	struct fid_ep *ep;
	fi_addr_t front, peer;
	struct dxl_sess sess;
	uint64_t client_id;
	uint32_t timeout_ms, server_timeout_ms;
	struct cli_buf *bufs;  /* CLI_RX then CLI_TX */
	struct fid_mr *bufmr;
	void *desc;
	int64_t last_sent_ns;
	int depth;             /* calls in progress (a recall's return nests) */
	int todo;              /* some layout has todo set */
	struct cli_stash stash[CLI_STASH];
	dxl_recall_fn recall_fn;
	void *recall_arg;
	dxl_layout *layouts;
	dxl_rfile *files;
	int dead;              /* the server is gone: every call fails */
	char server[128];
	/* during the handshake: the one unsealed message awaited */
	int handshake;
};

/* Send a built request and wait for its answer; the answer (parsed and
 * accepted) is copied to reply (DXL_MSG_SIZE bytes) and *m points into it.
 * Returns the answer's status (0 or -errno) or a transport error. */
int cli_call(dxl_remote *r, struct dxl_mb *mb, uint8_t *reply, struct dxl_msg *m);
/* Progress: read completions and handle server messages; timeout_ms 0 = do not sleep. */
int cli_progress(dxl_remote *r, int timeout_ms);
/* Act on recalls and revocations noted by progress (outermost call only). */
void cli_do_todo(dxl_remote *r);
/* One-sided I/O through the endpoint. */
ssize_t cli_rma(dxl_remote *r, int write, void *buf, size_t len, uint64_t raddr, uint64_t key);
/* Send without waiting for an answer; then let sends leave (up to ms). */
int cli_send_only(dxl_remote *r, struct dxl_mb *mb);
void cli_flush(dxl_remote *r, int ms);
void dxl_remote_free(dxl_remote *r);

#endif
