/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Local registration: a file range registered with the caller's libfabric
 * domain, built from the map layer's direct mapping (lease + long-term pin
 * + one contiguous address range).  The order of teardown is the point:
 * MR closed, accesses drained (quiesce), then the address range and the
 * pins go — so no remote access can land after the units leave the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rdma/fi_errno.h>
#include <sodium.h>

#include "rdma/rdma_int.h"

struct dxl_rdma_reg {
	uint32_t magic;
	dxl_mapping *map;
	uint8_t *addr;          /* the first registered byte */
	uint64_t len;
	uint64_t mr_mode;
	struct fid_mr *mr;      /* NULL once closed */
	uint64_t key;
	dxl_reg_cb cb;
	void *arg;
	int (*quiesce)(dxl_rdma_reg *reg, void *arg);
	void *quiesce_arg;
};

#define REG_LIVE 0x52656721u
#define REG_DEAD 0x64656164u

static int reg_ok(const dxl_rdma_reg *r)
{
	return r && r->magic == REG_LIVE;
}

static void close_mr(dxl_rdma_reg *r)
{
	if (!r->mr)
		return;
	fi_close(&r->mr->fid);
	r->mr = NULL;
	r->key = 0;
}

/* Runs in the owner's dispatch: the MR is closed there, in the owner's
 * thread (the domain's threading rules), before the owner hears of it. */
static void reg_lease_cb(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	dxl_rdma_reg *r = arg;

	if (!reg_ok(r))
		return;
	if (ev->type == DXL_EV_REVOKED)
		close_mr(r);
	if (r->cb)
		r->cb(r, ev, r->arg);
}

uint64_t dxl_rdma_random_key(void)
{
	uint64_t k = 0;

	/* 0 reads as "no key" in the protocol and the API */
	while (k == 0)
		randombytes_buf(&k, sizeof(k));
	return k;
}

static int register_mr(dxl_rdma_reg *r, struct fid_domain *dom, uint64_t access)
{
	struct iovec iov = {.iov_base = r->addr, .iov_len = r->len};
	struct fi_mr_attr a;
	int rc = -FI_ENOKEY, tries;

	/* Where the application chooses keys (mr_mode without FI_MR_PROV_KEY)
	 * a key must be unguessable: 64 random bits, a new draw on collision. */
	for (tries = 0; tries < 8 && rc == -FI_ENOKEY; tries++) {
		memset(&a, 0, sizeof(a));
		a.mr_iov = &iov;
		a.iov_count = 1;
		a.access = access;
		a.requested_key = (r->mr_mode & FI_MR_PROV_KEY) ? 0 : dxl_rdma_random_key();
		rc = fi_mr_regattr(dom, &a, 0, &r->mr);
	}
	if (rc)
		return dxl_err(dxl_fi_errno(rc), "rdma: fi_mr_regattr of %llu bytes: %s",
			       (unsigned long long)r->len, fi_strerror(-rc));
	r->key = fi_mr_key(r->mr);
	return 0;
}

/* libfabric's MR cache (verbs, and others through ofi_mr_cache) hands
 * out one shared registration per range, made with every access right
 * whatever was asked, and keeps it at the NIC after fi_close: a revoked
 * layout's key would still reach its units, a read-only one could be
 * written, and one client's key would be another's.  With the cache on,
 * two registrations of one page are one MR (the same key); then nothing
 * here can be made safe, and registering is refused. */
int dxl_rdma_check_domain(struct fid_domain *dom, uint64_t mr_mode)
{
	struct fid_mr *mr[2] = {NULL, NULL};
	void *page = NULL;
	int rc = 0;

	if (posix_memalign(&page, 4096, 4096) != 0)
		return dxl_err(ENOMEM, "rdma: out of memory");
	memset(page, 0, 4096);
	for (int i = 0; i < 2 && rc == 0; i++) {
		rc = fi_mr_reg(dom, page, 4096, FI_REMOTE_READ, 0,
			       (mr_mode & FI_MR_PROV_KEY) ? 0 : dxl_rdma_random_key(), 0, &mr[i], NULL);
		if (rc)
			rc = dxl_err(dxl_fi_errno(rc), "rdma: fi_mr_reg of a test page: %s", fi_strerror(-rc));
	}
	if (rc == 0 && fi_mr_key(mr[0]) == fi_mr_key(mr[1]))
		rc = dxl_err(EOPNOTSUPP,
			     "rdma: the provider caches memory registrations (libfabric's MR cache): a "
			     "closed MR stays reachable at the NIC, so a revoked layout would not be; "
			     "set FI_MR_CACHE_MONITOR=disabled before the process first uses libfabric");
	for (int i = 0; i < 2; i++)
		if (mr[i])
			fi_close(&mr[i]->fid);
	free(page);
	return rc;
}

/* ofi_rxm registers every MR for local access too (FI_READ: it reads
 * into its own MRs), so verbs asks the kernel for a writable long-term
 * pin, which a read-only mapping refuses with EFAULT: a read-only layout
 * could not be registered on an RDMA NIC at all.  The pages are writable
 * while the MR is made and read-only again at once.  The NIC's access is
 * the MR's (FI_REMOTE_READ), nothing of ours stores there, and the
 * address is not yet the caller's; a direct mapping keeps its
 * protection after that (DXL_MAP_KEEP_REVOKED: not even revocation
 * changes it). */
static int register_read_only_too(dxl_rdma_reg *r, struct fid_domain *dom, uint64_t access,
				  int prot, uint64_t maplen)
{
	uint8_t *base = dxl_mapping_addr(r->map);
	int opened = 0, rc;

	if (!(prot & PROT_WRITE))
		/* a pool opened read-only cannot: the provider may not need it */
		opened = mprotect(base, (size_t)maplen, PROT_READ | PROT_WRITE) == 0;
	rc = register_mr(r, dom, access);
	if (opened && mprotect(base, (size_t)maplen, PROT_READ) != 0 && rc == 0) {
		rc = dxl_err(errno, "rdma register: cannot make the mapping read-only again: %s",
			     strerror(errno));
		close_mr(r);
	}
	return rc;
}

int dxl_rdma_register(dxl_file *f, uint64_t off, uint64_t len, struct fid_domain *dom,
		 const struct dxl_reg_opts *o, dxl_rdma_reg **out)
{
	struct dxl_statfs sfs;
	struct dxl_stat st;
	dxl_rdma_reg *r;
	uint64_t access, align, moff, mend;
	int rc, prot;

	dxl_err_clear();
	if (!f || !dom || !o || !out || len == 0)
		return dxl_err(EINVAL, "rdma register: bad argument");
	if (o->version != DXL_REG_OPTS_VERSION)
		return dxl_err(EINVAL, "rdma register: options version %u, this library knows %u",
			       o->version, DXL_REG_OPTS_VERSION);
	if (o->mr_mode & FI_MR_ENDPOINT)
		return dxl_err(EOPNOTSUPP, "rdma register: domains that bind MRs to endpoints (FI_MR_ENDPOINT) are not supported");
	access = o->access ? o->access
			   : (f->flags & O_ACCMODE) == O_RDONLY ? FI_REMOTE_READ
								: (FI_REMOTE_READ | FI_REMOTE_WRITE);
	if (access & ~(uint64_t)(FI_REMOTE_READ | FI_REMOTE_WRITE))
		return dxl_err(EINVAL, "rdma register: access may only be FI_REMOTE_READ and FI_REMOTE_WRITE");
	if (off + len < off)
		return dxl_err(EOVERFLOW, "rdma register: the range wraps past 2^64");
	if ((rc = dxl_fstat(f, &st)) || (rc = dxl_statfs(f->pool, &sfs)))
		return rc;
	if (off + len > st.size)
		return dxl_err(EINVAL, "rdma register of bytes %llu..%llu: past the end of the file (%llu); extend it first",
			       (unsigned long long)off, (unsigned long long)(off + len),
			       (unsigned long long)st.size);
	prot = PROT_READ;
	if (access & FI_REMOTE_WRITE)
		prot |= PROT_WRITE;
	/* the mapping covers whole units (2 MiB on device-DAX); the MR exactly the range */
	align = DXL_MAX(sfs.unit, 4096);
	moff = DXL_ALIGN_DOWN(off, align);
	mend = DXL_ALIGN_UP(off + len, align);
	if (mend - moff > SIZE_MAX)
		return dxl_err(EINVAL, "rdma register: the range is too large");
	if ((rc = dxl_rdma_check_domain(dom, o->mr_mode)))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return dxl_err(ENOMEM, "rdma register: out of memory");
	r->magic = REG_LIVE;
	r->len = len;
	r->mr_mode = o->mr_mode;
	r->cb = o->cb;
	r->arg = o->arg;
	r->quiesce = o->quiesce;
	r->quiesce_arg = o->quiesce_arg;
	/* the pins, not PROT_NONE, keep a revoked range safe; a software
	 * provider's late write must not crash the owner */
	rc = dxl_mmap(f, moff, (size_t)(mend - moff), prot, DXL_MAP_DIRECT | DXL_MAP_KEEP_REVOKED,
		      reg_lease_cb, r, &r->map);
	if (rc)
		goto fail;
	r->addr = (uint8_t *)dxl_mapping_addr(r->map) + (off - moff);
	if (o->holder && (rc = dxl_lease_set_holder(dxl_mapping_lease(r->map), o->holder)))
		goto fail_map;
	rc = register_read_only_too(r, dom, access, prot, mend - moff);
	if (rc)
		goto fail_map;
	*out = r;
	return 0;
fail_map:
	dxl_munmap(r->map);
fail:
	r->magic = REG_DEAD;
	free(r);
	return rc;
}

int dxl_rdma_unregister(dxl_rdma_reg *r)
{
	int rc = 0;

	dxl_err_clear();
	if (!r)
		return 0;
	if (!reg_ok(r))
		return dxl_err(EINVAL, "rdma unregister: not a live registration");
	close_mr(r);
	/* fi_close does not wait for accesses in flight: the owner does */
	if (r->quiesce)
		rc = r->quiesce(r, r->quiesce_arg);
	if (rc) {
		/* keep the pins: something may still be writing */
		return dxl_err(rc < 0 ? -rc : EIO, "rdma unregister: quiesce failed; the range stays pinned");
	}
	rc = dxl_munmap(r->map);
	if (rc)
		return rc;
	r->magic = REG_DEAD;
	free(r);
	return 0;
}

uint64_t dxl_rdma_reg_key(const dxl_rdma_reg *r)
{
	return reg_ok(r) ? r->key : 0;
}

uint64_t dxl_rdma_reg_raddr(const dxl_rdma_reg *r)
{
	if (!reg_ok(r) || !r->mr)
		return 0;
	return (r->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)r->addr : 0;
}

struct fid_mr *dxl_rdma_reg_mr(const dxl_rdma_reg *r)
{
	return reg_ok(r) ? r->mr : NULL;
}

void *dxl_rdma_reg_addr(const dxl_rdma_reg *r)
{
	return reg_ok(r) ? r->addr : NULL;
}

dxl_lease *dxl_rdma_reg_lease(const dxl_rdma_reg *r)
{
	return reg_ok(r) ? dxl_mapping_lease(r->map) : NULL;
}

int dxl_rdma_reg_state(dxl_rdma_reg *r)
{
	if (!reg_ok(r))
		return dxl_err(EINVAL, "rdma registration: not a live registration");
	return dxl_lease_state(dxl_mapping_lease(r->map));
}
