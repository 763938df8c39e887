/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout leases as the application holds them, and the /proc/locks-like
 * listing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "map.h"

dxl_lease *dxl_lease_lookup(struct dxl_mapst *ms, uint64_t id)
{
	dxl_lease *l;

	for (l = ms->leases; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

void dxl_lease_handle_free(dxl_lease *l)
{
	if (l->own_fd >= 0)
		dxl_close_ours(l->own_fd, l->own_fd_ino);
	l->magic = DXL_HANDLE_DEAD;
	free(l);
}

/* A handle the application may pass in: live, and usable in this process. */
static int lease_ok(const dxl_lease *l)
{
	if (!l)
		return dxl_err(EINVAL, "lease: no lease");
	if (l->magic != DXL_HANDLE_LIVE)
		return dxl_err(EINVAL, "lease: not a live lease handle (already released?)");
	return dxl_map_usable(l->pool);
}

int dxl_lease_take_locked(dxl_file *f, uint64_t off, uint64_t end, uint32_t rt_flags, dxl_lease_cb cb,
			  void *arg, dxl_lease **out)
{
	struct dxl_fs *fs = &f->pool->fs;
	struct dxl_mapst *ms = fs->map_state;
	struct dxl_lease_req req;
	const struct dxl_inode *in = NULL;
	dxl_lease *l;
	uint64_t token = dxl_rt_self_token(fs->rt);
	int own_fd = -1, rc;

	if ((rt_flags & RT_LF_REFUSE) && !(fs->sb->flags & DXL_SBF_UNBREAKABLE))
		return dxl_err(EPERM, "refusing (unbreakable) leases are not allowed in this pool "
				      "(daxlease tune POOL --unbreakable yes)");
	rc = dxl_inode_read(fs, NULL, f->ino, &in);
	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return dxl_err(ENOMEM, "lease: out of memory");
	if (rt_flags & RT_LF_OWNFD) {
		if (getrandom(&token, sizeof(token), 0) != (ssize_t)sizeof(token))
			token ^= (uint64_t)dxl_mono_ns();
		own_fd = dxl_ev_socket(fs->rt, token);
		if (own_fd < 0) {
			free(l);
			return own_fd;
		}
	}
	req.ino = f->ino;
	req.gen = in->gen;
	req.start = off;
	req.end = end;
	req.flags = rt_flags & ~RT_LF_OWNFD;
	req.notify = token;
	req.path = f->path;
	rc = dxl_lt_take(fs->rt, &req, &l->id);
	if (rc) {
		if (own_fd >= 0)
			close(own_fd);
		free(l);
		return rc;
	}
	l->magic = DXL_HANDLE_LIVE;
	l->told = RT_LEASE_ACTIVE;
	l->pool = f->pool;
	l->ino = f->ino;
	l->cb = cb;
	l->arg = arg;
	l->own_fd = own_fd;
	l->own_fd_ino = own_fd >= 0 ? dxl_fd_ino(own_fd) : 0;
	pthread_mutex_lock(&ms->mu);
	l->next = ms->leases;
	ms->leases = l;
	pthread_mutex_unlock(&ms->mu);
	*out = l;
	return 0;
}

int dxl_lease_take(dxl_file *f, uint64_t off, uint64_t len, unsigned flags, dxl_lease_cb cb,
		   void *arg, dxl_lease **out)
{
	struct dxl_mapst *ms;
	struct dxl_fs *fs;
	uint64_t end;
	int rc;

	dxl_err_clear();
	if (!f || !f->pool || !out)
		return dxl_err(EINVAL, "lease: bad argument");
	if (flags & ~(unsigned)(DXL_LEASE_REFUSE | DXL_LEASE_OWN_FD))
		return dxl_err(EINVAL, "lease: unknown flags %#x", flags);
	if (len > UINT64_MAX - off)
		return dxl_err(EOVERFLOW, "lease of %llu bytes at %llu: the range wraps around "
					  "(length 0 means to the end of every file)",
			       (unsigned long long)len, (unsigned long long)off);
	end = len == 0 ? UINT64_MAX : off + len;
	rc = dxl_map_state(f->pool, &ms);
	if (rc)
		return rc;
	fs = &f->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_lease_take_locked(f, off, end,
				   ((flags & DXL_LEASE_REFUSE) ? RT_LF_REFUSE : 0) |
					   ((flags & DXL_LEASE_OWN_FD) ? RT_LF_OWNFD : 0),
				   cb, arg, out);
	dxl_fs_unlock(fs);
	return rc;
}

int dxl_lease_release_locked(dxl_lease *l)
{
	struct dxl_fs *fs = &l->pool->fs;
	struct dxl_mapst *ms = fs->map_state;
	int rc = dxl_lt_release(fs->rt, l->id);

	if (rc && rc != -ENOENT)
		return rc;
	pthread_mutex_lock(&ms->mu);
	DXL_SLIST_REMOVE(&ms->leases, l);
	pthread_mutex_unlock(&ms->mu);
	dxl_lease_handle_free(l);
	return 0;
}

int dxl_lease_release(dxl_lease *l)
{
	struct dxl_fs *fs;
	int rc;

	dxl_err_clear();
	if ((rc = lease_ok(l)))
		return rc;
	if (l->mapping)
		return dxl_err(EBUSY, "lease %llu belongs to a mapping: dxl_munmap releases it",
			       (unsigned long long)l->id);
	fs = &l->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_lease_release_locked(l);
	dxl_fs_unlock(fs);
	return rc;
}

int dxl_lease_state(dxl_lease *l)
{
	struct dxl_fs *fs;
	struct dxl_lease_view v;
	int rc;

	dxl_err_clear();
	if ((rc = lease_ok(l)))
		return rc;
	fs = &l->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	/* gone from the table: a dead-holder reclaim or pool-wide reset */
	rc = dxl_lt_view(fs->rt, l->id, &v) ? DXL_LEASE_REVOKED : (int)v.state;
	dxl_fs_unlock(fs);
	return rc;
}

int dxl_lease_poll(const dxl_lease *l)
{
	uint32_t st;
	int rc;

	if ((rc = lease_ok(l)))
		return rc;
	if (DXL_TSAN) /* its stores are plain, under the lock: TSan wants the lock */
		return dxl_lease_state((dxl_lease *)l);
	st = dxl_lt_peek(l->pool->fs.rt, l->id);
	/* gone from the table: a dead-holder reclaim or pool-wide reset */
	return st == RT_LEASE_FREE ? DXL_LEASE_REVOKED : (int)st;
}

int dxl_lease_set_holder(dxl_lease *l, const char *holder)
{
	struct dxl_fs *fs;
	int rc;

	dxl_err_clear();
	if ((rc = lease_ok(l)))
		return rc;
	fs = &l->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	rc = dxl_lt_set_holder(fs->rt, l->id, holder);
	dxl_fs_unlock(fs);
	return rc;
}

uint64_t dxl_lease_id(const dxl_lease *l)
{
	return l && l->magic == DXL_HANDLE_LIVE ? l->id : 0;
}

int dxl_lease_fd(dxl_lease *l)
{
	int rc = lease_ok(l);

	if (rc)
		return rc;
	if (l->own_fd < 0)
		return dxl_err(EINVAL, "lease %llu has no fd of its own (take it with DXL_LEASE_OWN_FD)",
			       (unsigned long long)l->id);
	return l->own_fd;
}

int dxl_lease_list(dxl_pool *pool, dxl_lease_info_fn fn, void *arg)
{
	struct dxl_fs *fs;
	struct dxl_lease_info *v = NULL;
	size_t n = 0, i;
	int rc;

	dxl_err_clear();
	if (!pool || !fn)
		return dxl_err(EINVAL, "lease list: bad argument");
	fs = &pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	dxl_lease_reap_dead(fs->rt);
	rc = dxl_lt_list(fs->rt, &v, &n);
	dxl_fs_unlock(fs);
	for (i = 0; i < n && rc == 0; i++) {
		v[i].size = sizeof(v[i]);
		rc = fn(arg, &v[i]);
	}
	free(v);
	return rc < 0 ? rc : 0;
}
