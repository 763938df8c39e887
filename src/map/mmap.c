/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Direct mappings: the pool's own memory at one contiguous address range,
 * one mmap(MAP_FIXED) per extent over a reserved range.
 *
 * DXL_MAP_DIRECT: the user's lease and a long-term pin; when the lease is
 * revoked the range becomes PROT_NONE, as a revoked mapping would — by
 * the watcher thread at the deadline, without the application's help.
 * Plain: an internal lease that is never waited for (RT_LF_COHERENT) plus
 * a pin, so units the mapping still reaches stay in quarantine; after the
 * file's layout changes the library remaps — at once in this process, by
 * its watcher in others — holes as read-only zero pages and pages past
 * EOF as PROT_NONE.  A mapping never maps a shared (reflinked) unit
 * writable: a writable one first gets private copies of what became
 * shared (a reflink onto the file), and where that cannot be done now,
 * those pages are mapped read-only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "map.h"

#define PAGE 4096ull

/* The granularity the backing store maps at: a page, or device-DAX's
 * alignment (2 MiB), whose mmap refuses any offset, length or address
 * that is not a multiple of it. */
static uint64_t map_align(const struct dxl_fs *fs)
{
	return DXL_MAX(fs->pm.align, PAGE);
}

static int map_fixed(dxl_mapping *m, uint64_t rel, uint64_t len, int prot, int fd, uint64_t fd_off)
{
	void *want = m->addr + rel, *got;

	if (fd >= 0)
		got = mmap(want, len, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)fd_off);
	else
		got = mmap(want, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (got == MAP_FAILED)
		return dxl_err(errno, "mmap: %s", strerror(errno));
	return 0;
}

/* Units from phys on (at most n) that share one protection: a writable
 * mapping gets units still shared with another place read-only. */
static int unit_run_prot(struct dxl_fs *fs, const dxl_mapping *m, const struct dxl_map *em,
			 uint64_t n, int *prot)
{
	uint64_t count = 1, run = n;
	int rc;

	*prot = m->prot;
	if (!(m->prot & PROT_WRITE) || !(em->flags & DXL_EXT_SHARED))
		return (int)DXL_MIN(n, INT32_MAX);
	rc = dxl_refc_get(fs, NULL, em->phys, &count, &run);
	if (rc)
		return rc;
	if (count > 1)
		*prot = m->prot & PROT_READ;
	return (int)DXL_MIN(DXL_MIN(n, DXL_MAX(run, 1)), INT32_MAX);
}

/* Point every page of m at the file's current layout (lock held). */
static int map_pages(struct dxl_fs *fs, dxl_mapping *m)
{
	const struct dxl_inode *in = NULL;
	uint64_t rel = 0, size, eof;
	int rc = dxl_inode_read(fs, NULL, m->ino, &in);

	if (rc)
		return rc;
	size = in->size;
	/* a plain mapping ends at EOF, as far as the store can cut it */
	eof = DXL_ALIGN_UP(size, map_align(fs));
	while (rel < m->len) {
		uint64_t pos = m->off + rel, fu = pos >> fs->unit_shift, uoff = pos & (fs->unit - 1);
		uint64_t n;
		struct dxl_map em;
		int prot = m->prot;

		if (!(m->flags & DXL_MAP_DIRECT) && pos >= eof) {
			/* past EOF: access faults, as with mmap(2) */
			return map_fixed(m, rel, m->len - rel, PROT_NONE, -1, 0);
		}
		rc = dxl_ext_map(fs, NULL, m->ino, fu, &em);
		if (rc)
			return rc;
		if (!em.hole) {
			rc = unit_run_prot(fs, m, &em, em.len, &prot);
			if (rc < 0)
				return rc;
			em.len = (uint64_t)rc;
		}
		n = DXL_MIN((em.len << fs->unit_shift) - uoff, m->len - rel);
		if (em.len > (UINT64_MAX >> fs->unit_shift))
			n = m->len - rel;
		if (!(m->flags & DXL_MAP_DIRECT))
			n = DXL_MIN(n, eof - pos);
		if (em.hole)
			rc = map_fixed(m, rel, n, m->prot & PROT_READ, -1, 0);
		else
			rc = map_fixed(m, rel, n, prot, fs->pm.fd,
				       (uint64_t)(dxl_unit_ptr(fs, em.phys) - fs->pm.base) + uoff);
		if (rc)
			return rc;
		rel += n;
	}
	return 0;
}

/* A plain mapping follows its file's layout (lock held). */
static int remap(dxl_mapping *m)
{
	struct dxl_fs *fs = &m->pool->fs;
	dxl_pin *np = NULL;
	int rc;

	if (m->revoked || (m->flags & DXL_MAP_DIRECT))
		return 0;
	/* pin the new layout before dropping the old: no gap in which a unit
	 * the pages reach could be handed out */
	rc = dxl_pin_locked(fs, m->ino, m->off, m->off + m->len, m->lease->id, NULL, NULL, &np);
	if (rc == 0)
		rc = map_pages(fs, m);
	if (rc) {
		/* cannot follow: make it inaccessible rather than stale */
		dxl_unpin_locked(fs, np);
		mprotect(m->addr, m->len, PROT_NONE);
		m->revoked = 1;
		return rc;
	}
	dxl_unpin_locked(fs, m->pin);
	m->pin = np;
	return 0;
}

int dxl_map_follow(struct dxl_fs *fs, uint64_t ino)
{
	struct dxl_mapst *ms = fs->map_state;
	dxl_mapping *m;
	int ilocked = 0;

	/* Copying needs the file's inode lock.  The caller holds it when
	 * the change was its own; the watcher only tries (the holder may
	 * be waiting for the metadata lock we hold) and comes back. */
	if (!dxl_ilock_held(fs, ino)) {
		if (dxl_ilock_try(fs, ino) < 0)
			return -EAGAIN;
		ilocked = 1;
	}

	/* Units that became shared under a writable mapping (a reflink onto
	 * the file) get private copies first, without waiting for anyone:
	 * a store must reach this file only.  Other processes' mappings are
	 * told of the copy; ours follow below, all at once. */
	for (m = ms->maps; m; m = m->next)
		if (m->ino == ino && !m->revoked && !(m->flags & DXL_MAP_DIRECT) &&
		    (m->prot & PROT_WRITE))
			dxl_file_prepare(fs, ino, m->off, m->off + m->len,
					 DXL_PREP_NONBLOCK | DXL_PREP_NOT_SELF | DXL_PREP_UNSHARE,
					 m->lease->id);
	if (ilocked)
		dxl_iunlock(fs, ino);
	dxl_err_clear();
	for (m = ms->maps; m; m = m->next)
		if (m->ino == ino)
			remap(m);
	return 0;
}

int64_t dxl_map_enforce(struct dxl_fs *fs, dxl_mapping *m)
{
	struct dxl_lease_view rl;
	int gone = dxl_lt_view(fs->rt, m->lease->id, &rl) != 0;

	if (m->revoked)
		return INT64_MAX;
	/* revoked, or past its deadline with nobody left to revoke it */
	if (gone || rl.state == RT_LEASE_REVOKED || dxl_lt_expire(fs->rt, m->lease->id)) {
		dxl_map_revoked(m);
		return INT64_MAX;
	}
	return rl.state == RT_LEASE_BREAKING ? rl.deadline_ns : INT64_MAX;
}

void dxl_map_revoked(dxl_mapping *m)
{
	if (m->revoked)
		return;
	if (!(m->flags & DXL_MAP_KEEP_REVOKED))
		mprotect(m->addr, m->len, PROT_NONE);
	m->revoked = 1;
}

void dxl_map_layout_changed(struct dxl_fs *fs, uint64_t ino)
{
	struct dxl_mapst *ms = fs->map_state;
	dxl_mapping *m;
	char msg[512];

	if (!ms || !ms->maps)
		return;
	/* following clears the thread's message: keep the caller's own (a
	 * call that failed half way has changed the layout too) */
	snprintf(msg, sizeof(msg), "%s", dxl_errmsg());
	for (m = ms->maps; m; m = m->next)
		if (m->ino == ino && (m->flags & DXL_MAP_DIRECT))
			dxl_map_enforce(fs, m);
	dxl_map_follow(fs, ino);
	if (msg[0])
		dxl_err(0, "%s", msg);
	else
		dxl_err_clear();
}

int dxl_mmap(dxl_file *f, uint64_t off, size_t len, int prot, unsigned flags, dxl_lease_cb cb,
	     void *arg, dxl_mapping **out)
{
	struct dxl_fs *fs;
	struct dxl_mapst *ms;
	const struct dxl_inode *in = NULL;
	dxl_mapping *m;
	uint64_t align, end;
	void *res;
	int rc, direct = !!(flags & DXL_MAP_DIRECT);

	dxl_err_clear();
	if (!f || !f->pool || !out || len == 0)
		return dxl_err(EINVAL, "mmap: bad argument");
	if (flags & ~(unsigned)(DXL_MAP_DIRECT | DXL_MAP_KEEP_REVOKED))
		return dxl_err(EINVAL, "mmap: unknown flags %#x", flags);
	if ((flags & DXL_MAP_KEEP_REVOKED) && !(flags & DXL_MAP_DIRECT))
		return dxl_err(EINVAL, "mmap: DXL_MAP_KEEP_REVOKED needs DXL_MAP_DIRECT");
	if (prot & ~(PROT_READ | PROT_WRITE))
		return dxl_err(EINVAL, "mmap: prot may only be PROT_READ and PROT_WRITE");
	if ((prot & PROT_WRITE) && (f->flags & O_ACCMODE) == O_RDONLY)
		return dxl_err(EACCES, "mmap: writable mapping of a file opened read-only");
	fs = &f->pool->fs;
	/* the backing store maps at its own alignment (2 MiB on device-DAX) */
	align = map_align(fs);
	if (len > SIZE_MAX - align || (uint64_t)len > UINT64_MAX - off - align)
		return dxl_err(EINVAL, "mmap of %zu bytes at %llu: the range is too large", len,
			       (unsigned long long)off);
	if (off % align)
		return dxl_err(EINVAL, "mmap: offset %llu is not a multiple of %llu",
			       (unsigned long long)off, (unsigned long long)align);
	len = DXL_ALIGN_UP(len, align);
	end = off + len;
	rc = dxl_map_state(f->pool, &ms);
	if (rc)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return dxl_err(ENOMEM, "mmap: out of memory");
	m->magic = DXL_HANDLE_LIVE;
	m->pool = f->pool;
	m->ino = f->ino;
	m->off = off;
	m->len = len;
	m->prot = prot;
	m->flags = flags;
	/* reserve the whole range first: extents then land inside it */
	res = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED) {
		free(m);
		return dxl_err(errno, "mmap: cannot reserve %zu bytes: %s", len, strerror(errno));
	}
	m->addr = (uint8_t *)DXL_ALIGN_UP((uintptr_t)res, align);
	if ((uint8_t *)res < m->addr)
		munmap(res, (size_t)(m->addr - (uint8_t *)res));
	munmap(m->addr + len, (size_t)((uint8_t *)res + len + align - (m->addr + len)));

	/* the watcher keeps the mapping right without the application */
	rc = dxl_watcher_start(f->pool, ms);
	if (rc)
		goto fail_unmap;
	rc = dxl_fs_lock(fs);
	if (rc)
		goto fail_unmap;
	rc = dxl_inode_read(fs, NULL, f->ino, &in);
	if (rc == 0 && end > DXL_ALIGN_UP(in->size, fs->unit))
		rc = dxl_err(EINVAL, "mmap of bytes %llu..%llu: past the end of the file (%llu); extend it first",
			     (unsigned long long)off, (unsigned long long)end, (unsigned long long)in->size);
	if (rc == 0)
		rc = dxl_lease_take_locked(f, off, end, direct ? 0 : RT_LF_COHERENT, direct ? cb : NULL,
					   direct ? arg : NULL, &m->lease);
	if (rc)
		goto fail_locked;
	/* allocate and commit the range's metadata now: afterwards stores
	 * made durable with dxl_persist() need no fsync (MAP_SYNC's promise) */
	rc = dxl_ilock_under(fs, f->ino); /* may drop the lock: prepare looks afresh */
	if (rc >= 0) {
		uint64_t before = dxl_fs_own_changes(fs);

		rc = dxl_file_prepare(fs, f->ino, off, end,
				      (f->flags & O_NONBLOCK) ? DXL_PREP_NONBLOCK : 0, m->lease->id);
		if (dxl_fs_own_changes(fs) != before) /* our other mappings of it follow */
			dxl_map_layout_changed(fs, f->ino);
		dxl_iunlock(fs, f->ino);
	}
	if (rc == 0)
		rc = dxl_pin_locked(fs, f->ino, off, end, m->lease->id, f->path, NULL, &m->pin);
	if (rc == 0)
		rc = map_pages(fs, m);
	if (rc)
		goto fail_lease;
	m->lease->mapping = m;
	{
		struct dxl_lease_view v;
		m->seen_changes = dxl_lt_view(fs->rt, m->lease->id, &v) ? 0 : v.changes;
	}
	pthread_mutex_lock(&ms->mu);
	m->next = ms->maps;
	ms->maps = m;
	pthread_mutex_unlock(&ms->mu);
	dxl_fs_unlock(fs);
	*out = m;
	return 0;
fail_lease:
	dxl_unpin_locked(fs, m->pin);
	dxl_lease_release_locked(m->lease);
fail_locked:
	dxl_fs_unlock(fs);
fail_unmap:
	munmap(m->addr, len);
	free(m);
	return rc;
}

static int mapping_ok(const dxl_mapping *m)
{
	return m && m->magic == DXL_HANDLE_LIVE;
}

void *dxl_mapping_addr(const dxl_mapping *m)
{
	return mapping_ok(m) ? m->addr : NULL;
}

size_t dxl_mapping_len(const dxl_mapping *m)
{
	return mapping_ok(m) ? m->len : 0;
}

dxl_lease *dxl_mapping_lease(const dxl_mapping *m)
{
	return mapping_ok(m) && (m->flags & DXL_MAP_DIRECT) ? m->lease : NULL;
}

static void unlink_mapping(struct dxl_mapst *ms, dxl_mapping *m)
{
	pthread_mutex_lock(&ms->mu);
	DXL_SLIST_REMOVE(&ms->maps, m);
	pthread_mutex_unlock(&ms->mu);
}

void dxl_map_forget(dxl_mapping *m)
{
	munmap(m->addr, m->len);
	/* the pin handle's memory only: its table entries are not ours */
	if (m->pin && m->pin->refs != &m->pin->ref0) {
		free(m->pin->refs);
		free(m->pin->segs);
	}
	free(m->pin);
	m->magic = DXL_HANDLE_DEAD;
	free(m);
}

int dxl_munmap(dxl_mapping *m)
{
	struct dxl_fs *fs;
	int rc;

	dxl_err_clear();
	if (!m)
		return 0;
	if (m->magic != DXL_HANDLE_LIVE)
		return dxl_err(EINVAL, "munmap: not a live mapping (already unmapped?)");
	fs = &m->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	unlink_mapping(fs->map_state, m);
	/* the address range goes first: after that nothing reaches the units */
	munmap(m->addr, m->len);
	dxl_unpin_locked(fs, m->pin);
	m->lease->mapping = NULL;
	dxl_lease_release_locked(m->lease);
	dxl_fs_unlock(fs);
	m->magic = DXL_HANDLE_DEAD;
	free(m);
	return 0;
}
