/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma: the layer on top of map — file ranges registered with libfabric,
 * and `daxlease serve` with its client library.  Shared internals.
 */
#ifndef DXL_RDMA_INT_H
#define DXL_RDMA_INT_H

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include "daxlease/rdma.h"
#include "fs/fs.h"
#include "util/util.h"

#define DXL_DEFAULT_PROVIDER "tcp;ofi_rxm"

/* A positive errno for a libfabric return code (negative FI_E*). */
static inline int dxl_fi_errno(int rc)
{
	rc = rc < 0 ? -rc : rc;
	return rc > 0 && rc < 256 ? rc : EIO;
}

/* The shared key from an options struct: key (32 bytes) if set, else
 * loaded from key_file; libsodium started.  who names the caller. */
int dxl_key_get(const uint8_t *key, const char *key_file, uint8_t out[32], const char *who);

/* 64 random bits, never 0 (0 means "no key"). */
uint64_t dxl_rdma_random_key(void);

/* One fabric, domain, address vector and completion queue: what a server
 * or a client opens first (fabric.c).  node/service NULL: any address. */
struct dxl_fab {
	struct fi_info *info;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_av *av;
	struct fid_cq *cq;
	int cq_fd;              /* wait fd of the CQ, or -1 (then poll) */
	const char *prov;
};
/* 0 when closing an MR of dom revokes it at the NIC (no MR cache shares
 * registrations); else -EOPNOTSUPP, saying why.  dxl_rdma_register asks
 * it every time (the domain is the caller's). */
int dxl_rdma_check_domain(struct fid_domain *dom, uint64_t mr_mode);
int dxl_fab_open(struct dxl_fab *fab, const char *provider, const char *node, const char *service,
		 int source);
void dxl_fab_close(struct dxl_fab *fab);
/* A completion queue that can be slept on (*fd >= 0) or only polled. */
int dxl_fab_cq(struct dxl_fab *fab, size_t size, struct fid_cq **out, int *fd);
/* An endpoint on fab bound to its AV and to cq (NULL: fab->cq) and
 * enabled; src: the info to open it with (fab->info, or a copy with
 * another source address). */
int dxl_fab_ep(struct dxl_fab *fab, struct fi_info *src, struct fid_cq *cq, struct fid_ep **out);
/* "HOST:PORT" split in place into host and port (buf is the copy). */
int dxl_split_host_port(const char *hp, char *buf, size_t len, const char **host, const char **port);
/* Sleep until one of the CQs (their wait fds) or one of fds is ready, up
 * to timeout_ms; at once if a CQ has work already (fi_trywait). */
int dxl_fab_wait(struct dxl_fab *fab, struct fid **cqs, const int *cq_fds, int ncq, const int *fds,
		 int nfds, int timeout_ms);
/* The address of an endpoint as text, for logs and lease listings. */
void dxl_fab_addr_str(struct dxl_fab *fab, const void *addr, char *buf, size_t len);

#endif
