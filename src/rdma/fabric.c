/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening libfabric the way the server and the client both need it:
 * reliable datagram endpoints (FI_EP_RDM) with messages and RMA, one
 * completion queue that can be slept on, the provider chosen at run time.
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdma/rdma_int.h"

int dxl_split_host_port(const char *hp, char *buf, size_t len, const char **host, const char **port)
{
	char *colon;

	if (!hp || strlen(hp) >= len)
		return dxl_err(EINVAL, "address '%s': expected HOST:PORT", hp ? hp : "");
	strcpy(buf, hp);
	colon = strrchr(buf, ':');
	if (!colon || colon == buf || !colon[1])
		return dxl_err(EINVAL, "address '%s': expected HOST:PORT", hp);
	*colon = '\0';
	*host = buf;
	*port = colon + 1;
	return 0;
}

static const char *provider_name(const char *provider)
{
	const char *env = getenv("DXL_FI_PROVIDER");

	if (provider && provider[0])
		return provider;
	return env && env[0] ? env : DXL_DEFAULT_PROVIDER;
}

int dxl_fab_open(struct dxl_fab *fab, const char *provider, const char *node, const char *service,
		 int source)
{
	struct fi_info *hints;
	struct fi_av_attr av_attr = {.type = FI_AV_MAP};
	int rc;

	memset(fab, 0, sizeof(*fab));
	fab->cq_fd = -1;
	fab->prov = provider_name(provider);
	/* The MR cache must be off for a closed MR to be revoked at the NIC
	 * (dxl_rdma_check_domain).  libfabric reads this when it starts, in
	 * this process's first call; a value the user set wins, and is
	 * checked. */
	setenv("FI_MR_CACHE_MONITOR", "disabled", 0);
	hints = fi_allocinfo();
	if (!hints)
		return dxl_err(ENOMEM, "libfabric: out of memory");
	hints->ep_attr->type = FI_EP_RDM;
	hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	/* every MR mode we can honour: the provider takes the ones it needs */
	hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
	/* one thread per domain: the server's loop, or the client's caller */
	hints->domain_attr->threading = FI_THREAD_DOMAIN;
	hints->fabric_attr->prov_name = strdup(fab->prov);
	rc = fi_getinfo(FI_VERSION(1, 11), node, service, source ? FI_SOURCE : 0, hints, &fab->info);
	fi_freeinfo(hints);
	if (rc) {
		fab->info = NULL;
		return dxl_err(dxl_fi_errno(rc), "libfabric: no provider '%s' for %s:%s: %s", fab->prov,
			       node ? node : "*", service ? service : "*", fi_strerror(-rc));
	}
	rc = fi_fabric(fab->info->fabric_attr, &fab->fabric, NULL);
	if (rc == 0)
		rc = fi_domain(fab->fabric, fab->info, &fab->domain, NULL);
	if (rc == 0)
		rc = fi_av_open(fab->domain, &av_attr, &fab->av, NULL);
	if (rc == 0)
		rc = dxl_fab_cq(fab, 256, &fab->cq, &fab->cq_fd);
	if (rc) {
		int err = dxl_err(dxl_fi_errno(rc), "libfabric (%s): cannot open the domain: %s", fab->prov,
				  fi_strerror(-rc));
		dxl_fab_close(fab);
		return err;
	}
	return 0;
}

void dxl_fab_close(struct dxl_fab *fab)
{
	if (fab->cq)
		fi_close(&fab->cq->fid);
	if (fab->av)
		fi_close(&fab->av->fid);
	if (fab->domain)
		fi_close(&fab->domain->fid);
	if (fab->fabric)
		fi_close(&fab->fabric->fid);
	if (fab->info)
		fi_freeinfo(fab->info);
	memset(fab, 0, sizeof(*fab));
	fab->cq_fd = -1;
}

int dxl_fab_cq(struct dxl_fab *fab, size_t size, struct fid_cq **out, int *fd)
{
	struct fi_cq_attr a = {.format = FI_CQ_FORMAT_MSG, .wait_obj = FI_WAIT_FD, .size = size};
	int rc;

	*fd = -1;
	rc = fi_cq_open(fab->domain, &a, out, NULL);
	if (rc) {
		/* no wait object: the loops poll instead */
		a.wait_obj = FI_WAIT_NONE;
		rc = fi_cq_open(fab->domain, &a, out, NULL);
	} else if (fi_control(&(*out)->fid, FI_GETWAIT, fd)) {
		*fd = -1;
	}
	if (rc)
		return dxl_err(dxl_fi_errno(rc), "libfabric: cannot open a completion queue: %s",
			       fi_strerror(-rc));
	return 0;
}

int dxl_fab_ep(struct dxl_fab *fab, struct fi_info *src, struct fid_cq *cq, struct fid_ep **out)
{
	struct fid_ep *ep;
	int rc;

	rc = fi_endpoint(fab->domain, src ? src : fab->info, &ep, NULL);
	if (rc)
		return dxl_err(dxl_fi_errno(rc), "libfabric: fi_endpoint: %s", fi_strerror(-rc));
	rc = fi_ep_bind(ep, &fab->av->fid, 0);
	if (rc == 0)
		rc = fi_ep_bind(ep, &(cq ? cq : fab->cq)->fid, FI_TRANSMIT | FI_RECV);
	if (rc == 0)
		rc = fi_enable(ep);
	if (rc) {
		fi_close(&ep->fid);
		return dxl_err(dxl_fi_errno(rc), "libfabric: cannot enable an endpoint: %s", fi_strerror(-rc));
	}
	*out = ep;
	return 0;
}

int dxl_fab_wait(struct dxl_fab *fab, struct fid **cqs, const int *cq_fds, int ncq, const int *fds,
		 int nfds, int timeout_ms)
{
	struct pollfd stack[64], *p = stack;
	int n = 0, i, rc, sleepable = ncq > 0;

	for (i = 0; i < ncq; i++)
		sleepable &= cq_fds[i] >= 0;
	if (sleepable && fi_trywait(fab->fabric, cqs, ncq) != 0)
		return 1; /* there is work: do not sleep */
	if (!sleepable && (timeout_ms < 0 || timeout_ms > 1))
		timeout_ms = 1; /* nothing to sleep on: poll the queues again soon */
	if (ncq + nfds > (int)DXL_ARRAY_SIZE(stack)) {
		p = calloc((size_t)(ncq + nfds), sizeof(*p));
		if (!p)
			return -ENOMEM;
	}
	for (i = 0; sleepable && i < ncq; i++)
		p[n++] = (struct pollfd){.fd = cq_fds[i], .events = POLLIN};
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			p[n++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	rc = poll(p, (nfds_t)n, timeout_ms);
	if (p != stack)
		free(p);
	return rc;
}

void dxl_fab_addr_str(struct dxl_fab *fab, const void *addr, char *buf, size_t len)
{
	char tmp[128];
	size_t n = sizeof(tmp);
	const char *s;

	if (!fi_av_straddr(fab->av, addr, tmp, &n)) {
		snprintf(buf, len, "?");
		return;
	}
	/* "fi_sockaddr_in://127.0.0.1:4000" reads better without the scheme */
	s = strstr(tmp, "://");
	snprintf(buf, len, "%s", s ? s + 3 : tmp);
}
