/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease over RDMA (libfabric): register file ranges for remote access
 * under a layout lease, and reach a pool served by `daxlease serve` from
 * another process or machine.  Part of libdaxlease when it was built
 * with its RDMA layer (the default; pkg-config daxlease, or CMake's
 * daxlease::daxlease); the header needs libfabric's.  See docs/rdma.md.
 *
 * Conventions are daxlease.h's: opaque handles, 0 or a negative errno,
 * dxl_errmsg() for the message; option structs carry a version first.
 */
#ifndef DAXLEASE_RDMA_H
#define DAXLEASE_RDMA_H

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>

#include "daxlease/daxlease.h"

#ifdef __cplusplus
extern "C" {
#endif

/* exported by libdaxlease.so, as daxlease.h's declarations are */
#pragma GCC visibility push(default)

/* ------------------------------------------------- local registration
 *
 * dxl_rdma_register() registers [off, off+len) of a file with a libfabric
 * domain the caller owns.  It takes, in this order, a layout lease on the
 * range, a long-term pin and a direct mapping of it (dxl_mmap with
 * DXL_MAP_DIRECT: shared units are copied first, holes allocated), and
 * registers exactly the requested bytes of the mapping (fi_mr_regattr).
 *
 * A break of the lease is told to the registration's owner through cb,
 * when the owner dispatches events (dxl_event_dispatch or the event
 * thread).  When the lease is
 * revoked the MR is closed in that same dispatch, before cb hears of it.
 * The pins and the mapping stay until dxl_rdma_unregister(): the units stay out
 * of every other file however late a remote access comes.
 *
 * dxl_rdma_unregister() closes the MR (if still open), then calls quiesce,
 * which must return only when no access through the MR can still be in
 * flight (fi_close on an MR does not wait: fi_mr(3)), then unmaps, unpins
 * and releases the lease.  With quiesce NULL the caller promises it has
 * already made sure of that (a peer's acknowledgement that came in order
 * after its accesses, or its endpoint closed).
 *
 * Threading: the domain's.  The MR is closed only from the owner's calls
 * (dispatch, unreg), never from a library thread.
 */
typedef struct dxl_rdma_reg dxl_rdma_reg;

typedef void (*dxl_reg_cb)(dxl_rdma_reg *reg, const struct dxl_event *ev, void *arg);

#define DXL_REG_OPTS_VERSION 1
struct dxl_reg_opts {
	uint32_t version;       /* DXL_REG_OPTS_VERSION */
	uint32_t reserved;      /* 0 */
	uint64_t mr_mode;       /* the domain's (fi_info domain_attr->mr_mode) */
	uint64_t access;        /* FI_REMOTE_READ | FI_REMOTE_WRITE; 0 = both (read only
	                         * if the file was opened O_RDONLY) */
	dxl_reg_cb cb;          /* breaks and revocations; may be NULL */
	void *arg;
	int (*quiesce)(dxl_rdma_reg *reg, void *arg); /* see above; may be NULL */
	void *quiesce_arg;
	const char *holder;     /* on whose behalf (shown by `daxlease leases`); may be NULL */
};

/* The domain must outlive the registration.  The range must lie within
 * the file.  -EINVAL for an empty range or access outside
 * FI_REMOTE_READ|FI_REMOTE_WRITE; -EOPNOTSUPP for a domain that needs
 * FI_MR_ENDPOINT binding, and for one whose MRs libfabric's MR cache
 * shares (a closed MR would stay reachable at the NIC): set
 * FI_MR_CACHE_MONITOR=disabled before the process's first libfabric call
 * (docs/rdma.md).  *out is set only on success. */
int dxl_rdma_register(dxl_file *f, uint64_t off, uint64_t len, struct fid_domain *domain,
		 const struct dxl_reg_opts *opts, dxl_rdma_reg **out);
/* Close the MR, quiesce, unmap, unpin, release the lease; frees reg. */
int dxl_rdma_unregister(dxl_rdma_reg *reg);

/* What a peer needs for fi_write/fi_read into the range: the key and the
 * remote address of the range's first byte (its virtual address if the
 * domain uses FI_MR_VIRT_ADDR, else 0).  Key 0 and NULL once the MR is
 * closed (revoked). */
uint64_t dxl_rdma_reg_key(const dxl_rdma_reg *reg);
uint64_t dxl_rdma_reg_raddr(const dxl_rdma_reg *reg);
struct fid_mr *dxl_rdma_reg_mr(const dxl_rdma_reg *reg);
/* The local address of the range's first byte (in the direct mapping). */
void *dxl_rdma_reg_addr(const dxl_rdma_reg *reg);
dxl_lease *dxl_rdma_reg_lease(const dxl_rdma_reg *reg);
/* enum dxl_lease_state of the registration's lease, or <0. */
int dxl_rdma_reg_state(dxl_rdma_reg *reg);

/* ------------------------------------------------------- remote client
 *
 * A connection to `daxlease serve`.  Requests are answered in order; the
 * data path is one-sided RDMA into layouts the server granted, with no
 * server code on it.  Single-threaded: one thread at a time per
 * connection.  The server recalls layouts when their range is about to
 * change; the library notices recalls in every call, and dxl_remote_poll()
 * waits for them.  An application must call into the connection (any call,
 * or dxl_remote_poll) more often than the server's client timeout, or the
 * server takes it for dead.
 */
typedef struct dxl_remote dxl_remote;
typedef struct dxl_rfile dxl_rfile;
typedef struct dxl_layout dxl_layout;

#define DXL_REMOTE_OPTS_VERSION 1
struct dxl_remote_opts {
	uint32_t version;       /* DXL_REMOTE_OPTS_VERSION */
	uint32_t timeout_ms;    /* a request unanswered this long fails (-ETIMEDOUT); 0 = 10000 */
	const char *provider;   /* libfabric provider; NULL = $DXL_FI_PROVIDER or "tcp;ofi_rxm" */
	const char *key_file;   /* the shared secret (mode 0600); or: */
	const uint8_t *key;     /* 32 bytes */
};

/* host_port: "HOST:PORT" (IPv4 address or name). */
int dxl_remote_connect(const char *host_port, const struct dxl_remote_opts *opts, dxl_remote **out);
/* Returns every layout, closes the files, says goodbye; frees r. */
int dxl_remote_close(dxl_remote *r);
/* The server's client id for this connection. */
uint64_t dxl_remote_client_id(const dxl_remote *r);

int dxl_remote_stat(dxl_remote *r, const char *path, struct dxl_stat *st);
int dxl_remote_mkdir(dxl_remote *r, const char *path, mode_t mode);
int dxl_remote_rmdir(dxl_remote *r, const char *path);
int dxl_remote_unlink(dxl_remote *r, const char *path);
int dxl_remote_rename(dxl_remote *r, const char *from, const char *to, unsigned flags);
int dxl_remote_truncate(dxl_remote *r, const char *path, uint64_t size);
/* Calls fn for each entry (in the server's hash order) until it returns
 * nonzero (which is then returned). */
typedef int (*dxl_remote_dirent_fn)(void *arg, const struct dxl_dirent *ent);
int dxl_remote_readdir(dxl_remote *r, const char *path, dxl_remote_dirent_fn fn, void *arg);

/* flags: O_RDONLY/O_WRONLY/O_RDWR, O_CREAT, O_EXCL, O_TRUNC. */
int dxl_remote_open(dxl_remote *r, const char *path, int flags, mode_t mode, dxl_rfile **out);
int dxl_remote_fclose(dxl_rfile *f);
int dxl_remote_fstat(dxl_rfile *f, struct dxl_stat *st);
int dxl_remote_ftruncate(dxl_rfile *f, uint64_t size);
/* mode as dxl_fallocate: FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE etc. */
int dxl_remote_fallocate(dxl_rfile *f, int mode, uint64_t off, uint64_t len);

/* A layout: one-sided access to [off, off+len) of the file (*out, NULL
 * on failure; freed by dxl_remote_layout_return).  DXL_LAYOUT_RW
 * grows the file to off+len first if it is shorter; a read-only layout must
 * lie within the file. */
#define DXL_LAYOUT_RW 0x1
int dxl_remote_layout_get(dxl_rfile *f, uint64_t off, uint64_t len, unsigned flags,
			  dxl_layout **out);
/* Give it back: every write through it has landed before the server hears
 * of it.  Frees l (also when the server had already revoked it). */
int dxl_remote_layout_return(dxl_layout *l);

enum dxl_layout_state {
	DXL_LAYOUT_ACTIVE = 1,
	DXL_LAYOUT_RECALLED = 2, /* return it before the deadline */
	DXL_LAYOUT_REVOKED = 3,  /* the server closed it: I/O through it fails */
	DXL_LAYOUT_RETURNED = 4, /* the library gave it back on a recall (no callback) */
};
int dxl_layout_state(dxl_layout *l);
/* CLOCK_MONOTONIC deadline of a recalled layout (0 otherwise). */
int64_t dxl_layout_deadline_ns(const dxl_layout *l);
void dxl_layout_range(const dxl_layout *l, uint64_t *off, uint64_t *len);

/* One-sided I/O at file offset off (inside the layout).  A write returns
 * once the data has landed in the server's memory (FI_DELIVERY_COMPLETE);
 * dxl_remote_commit makes it durable.  -EKEYREVOKED after revocation,
 * -ERANGE outside the layout. */
ssize_t dxl_remote_write(dxl_layout *l, const void *buf, size_t len, uint64_t off);
ssize_t dxl_remote_read(dxl_layout *l, void *buf, size_t len, uint64_t off);
/* Durable on the server's media when it returns 0. */
int dxl_remote_commit(dxl_rfile *f, uint64_t off, uint64_t len);

/* Called for each recall: a server's request to return l before its
 * deadline.  Without a callback the library returns a recalled layout
 * itself at the next call into the connection; the handle then stays, in
 * state DXL_LAYOUT_RETURNED (I/O through it fails), until
 * dxl_remote_layout_return() frees it. */
typedef void (*dxl_recall_fn)(dxl_layout *l, void *arg);
void dxl_remote_set_recall(dxl_remote *r, dxl_recall_fn fn, void *arg);
/* Wait up to timeout_ms (-1 forever) for a message from the server
 * (a recall or revocation), handle it; keeps the connection alive.
 * Returns how many were handled. */
int dxl_remote_poll(dxl_remote *r, int timeout_ms);

/* For tools and tests: an RMA through the connection's endpoint with an
 * explicit remote address and key, bypassing the layout checks (a guessed
 * or stale key must fail at the server's NIC, not here). */
ssize_t dxl_remote_raw_write(dxl_remote *r, const void *buf, size_t len, uint64_t raddr, uint64_t key);
ssize_t dxl_remote_raw_read(dxl_remote *r, void *buf, size_t len, uint64_t raddr, uint64_t key);
/* The key and remote address of a layout (for the above). */
uint64_t dxl_layout_key(const dxl_layout *l);
uint64_t dxl_layout_raddr(const dxl_layout *l);

/* --------------------------------------------------------------- server */
typedef struct dxl_server dxl_server;

#define DXL_SERVER_OPTS_VERSION 1
struct dxl_server_opts {
	uint32_t version;           /* DXL_SERVER_OPTS_VERSION */
	uint32_t client_timeout_ms; /* a client silent this long is dropped; 0 = 10000 */
	uint32_t max_clients;       /* 0 = 256 */
	uint32_t max_layouts;       /* per client; 0 = 64 */
	const char *provider;       /* NULL = $DXL_FI_PROVIDER or "tcp;ofi_rxm" */
	const char *key_file;
	const uint8_t *key;         /* 32 bytes, or key_file */
	/* progress lines ("client 3 connected from ...") go here; may be NULL */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

/* Serve pool's files on listen ("HOST:PORT").  The pool must stay open
 * while the server runs; the server dispatches the pool's events itself. */
int dxl_server_start(dxl_pool *pool, const char *listen, const struct dxl_server_opts *opts,
		     dxl_server **out);
/* Run until dxl_server_stop() (from a signal handler too) or an error. */
int dxl_server_run(dxl_server *s);
void dxl_server_stop(dxl_server *s);
/* Revoke every layout, drop every client, free s. */
int dxl_server_close(dxl_server *s);

/* Key files: 32 random bytes as 64 hex digits and a newline, mode 0600.
 * dxl_key_load refuses a file that group or others may read. */
int dxl_key_generate(const char *path);
int dxl_key_load(const char *path, uint8_t key[32]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
