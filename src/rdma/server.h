/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server's state: one thread, one libfabric domain, a listening
 * endpoint for HELLO and one endpoint per client.  A client's endpoint is
 * its fence: closing it stops everything the client still had in flight,
 * which is what revocation of an unresponsive client needs before its
 * pins may drop (fi_close on an MR does not wait).
 */
#ifndef DXL_RDMA_SERVER_H
#define DXL_RDMA_SERVER_H

#include <signal.h>

#include "rdma/proto.h"
#include "rdma/rdma_int.h"

#define SRV_RX 8          /* requests read per client at once (its posted receives) */
#define SRV_TX 16         /* answers and recalls in flight per client */
#define SRV_FRONT_RX 32   /* HELLOs read at once */
#define SRV_MAX_FILES 256 /* open handles per client */
#define SRV_AUTH_MS 5000  /* from HELLO to AUTH */
#define SRV_ACK_MS 2000   /* from REVOKED to its acknowledgement */
#define SRV_SEND_NS 1000000000LL /* a send the provider does not take in this long: the client is dropped */
#define SRV_NESTED_NS 10000000LL /* a progress round longer than this ran handlers: not the send's time */

struct srv_client;

/* A message buffer; its address is the operation's context. */
struct srv_buf {
	struct srv_client *c; /* NULL: the listening endpoint's */
	struct srv_bufs *set;
	int tx;
	int busy;
	_Alignas(16) uint8_t data[DXL_MSG_SIZE]; /* headers are read in place */
};

/* Receive and send buffers of one endpoint, registered once if the
 * provider needs local MRs (FI_MR_LOCAL). */
struct srv_bufs {
	int nrx, ntx;
	struct srv_buf *b;    /* nrx receive buffers, then ntx send buffers */
	struct fid_mr *mr;
	void *desc;
};

struct srv_file {
	uint64_t handle;
	dxl_file *f;
	int flags;
	struct srv_file *next;
};

enum { L_ACTIVE = 1, L_RECALLED, L_FENCING };

struct srv_layout {
	uint64_t id;
	struct srv_client *c;
	struct srv_file *file;
	dxl_rdma_reg *reg;
	uint64_t off, len;
	int state;
	int writable;
	int fence;               /* unregistering must close the client's endpoint first */
	int64_t ack_deadline_ns; /* L_FENCING */
	struct srv_layout *next;
};

enum { C_AUTH = 1, C_LIVE, C_ZOMBIE };

struct srv_client {
	struct dxl_server *s;
	uint64_t id;
	int state;
	struct fid_ep *ep;
	struct fid_cq *cq;       /* its own: closed with the endpoint */
	int cq_fd;
	fi_addr_t peer;
	char addr[64];
	uint8_t cn[DXL_NONCE_LEN], sn[DXL_NONCE_LEN];
	struct dxl_sess sess;
	int64_t heard_ns, zombie_ns;
	unsigned bad_msgs;
	struct srv_bufs bufs;
	struct srv_file *files;
	int nfiles;
	uint64_t next_handle;
	struct srv_layout *layouts;
	int nlayouts;
	/* a layout change waiting for recalls to come back (-EWOULDBLOCK) */
	int parked;
	uint8_t parked_msg[DXL_MSG_SIZE];
	size_t parked_len;
	int64_t parked_since_ns;
	struct srv_client *next;
};

struct dxl_server {
	dxl_pool *pool;
	struct dxl_fab fab;
	struct fid_ep *front;
	struct srv_bufs front_bufs;
	char listen[128];
	uint8_t key[DXL_KEY_LEN];
	uint32_t client_timeout_ms, max_clients, max_layouts;
	unsigned test_late_hello_ms, test_hellos; /* DXL_TEST_LATE_HELLO_MS: tests only */
	struct srv_client *clients;
	int nclients;
	struct fid **wait_cqs;   /* scratch for dxl_fab_wait: max_clients + 1 */
	int *wait_fds;
	uint64_t next_client, next_layout;
	volatile sig_atomic_t stop;
	int self_dispatch_on;
	int stop_pipe[2];
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

void srv_log(struct dxl_server *s, const char *fmt, ...) DXL_PRINTF(2, 3);
/* Seal (if the session is on) and send a built message to c. */
int srv_send(struct srv_client *c, struct dxl_mb *mb);
/* Answer request m of c with status rc (<0) or 0 and the body in mb. */
int srv_reply_err(struct srv_client *c, const struct dxl_msg *m, int rc);
void srv_drop(struct srv_client *c, const char *why);

/* server_meta.c: the requests (0, or -EWOULDBLOCK to park and retry). */
int srv_handle(struct srv_client *c, const struct dxl_msg *m);
struct srv_file *srv_file_find(struct srv_client *c, uint64_t handle);
void srv_files_close(struct srv_client *c);

/* server_layout.c */
int srv_layout_get(struct srv_client *c, const struct dxl_msg *m);
int srv_layout_return(struct srv_client *c, const struct dxl_msg *m, int ack);
int srv_commit(struct srv_client *c, const struct dxl_msg *m);
void srv_layouts_fence_all(struct srv_client *c);
void srv_layouts_timers(struct srv_client *c, int64_t now);
void srv_layouts_return_file(struct srv_client *c, struct srv_file *sf);

#endif
