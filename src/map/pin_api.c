/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pins as the application takes them: the get_user_pages of this file
 * system.  A transient pin (a direct I/O) is a table entry and nothing
 * else; a long-term pin (RDMA registration, MAP_DIRECT) must sit under a
 * lease covering its range and is counted in it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

static int pin_add_seg(dxl_pin *p, uint64_t ref, void *addr, size_t len)
{
	if (p->n == p->cap) {
		int cap = p->cap * 2;
		uint64_t *refs = malloc((size_t)cap * sizeof(*refs));
		struct dxl_seg *segs = malloc((size_t)cap * sizeof(*segs));

		if (!refs || !segs) {
			free(refs);
			free(segs);
			return -ENOMEM;
		}
		memcpy(refs, p->refs, (size_t)p->n * sizeof(*refs));
		memcpy(segs, p->segs, (size_t)p->n * sizeof(*segs));
		if (p->refs != &p->ref0) {
			free(p->refs);
			free(p->segs);
		}
		p->refs = refs;
		p->segs = segs;
		p->cap = cap;
	}
	p->refs[p->n] = ref;
	p->segs[p->n].addr = addr;
	p->segs[p->n].len = len;
	p->n++;
	return 0;
}

int dxl_pin_locked(struct dxl_fs *fs, uint64_t ino, uint64_t off, uint64_t end, uint64_t lease,
		   const char *path, const struct dxl_map *first, dxl_pin **out)
{
	struct dxl_mapst *ms = fs->map_state;
	dxl_pin *p = ms && ms->spare_pin ? ms->spare_pin : malloc(sizeof(*p));
	uint64_t pos = off;
	int rc = 0;

	if (ms && p == ms->spare_pin)
		ms->spare_pin = NULL;
	if (!p)
		return dxl_err(ENOMEM, "pin: out of memory");
	p->magic = DXL_HANDLE_LIVE;
	p->pool = NULL;
	p->lease = lease;
	p->n = 0;
	p->cap = 1;
	p->refs = &p->ref0;
	p->segs = &p->seg0;
	/* holes are skipped: a plain mapping pins what its pages reach */
	while (pos < end) {
		uint64_t fu = pos >> fs->unit_shift, uoff = pos & (fs->unit - 1), n, bytes, ref;
		struct dxl_map m;

		if (first && pos == off)
			m = *first; /* the caller just looked it up, under the lock */
		else if ((rc = dxl_ext_map(fs, NULL, ino, fu, &m)) != 0)
			break;
		n = DXL_MIN(m.len, ((end - 1) >> fs->unit_shift) - fu + 1);
		bytes = DXL_MIN((fu + n) << fs->unit_shift, end) - pos;
		if (!m.hole) {
			rc = dxl_pt_add(fs->rt, m.phys, n, lease, ino, path, &ref);
			if (rc)
				break;
			rc = pin_add_seg(p, ref, dxl_unit_ptr(fs, m.phys) + uoff, bytes);
			if (rc) {
				dxl_pt_drop(fs->rt, ref);
				rc = dxl_err(ENOMEM, "pin: out of memory");
				break;
			}
		}
		pos += bytes;
	}
	if (rc) {
		dxl_unpin_locked(fs, p);
		return rc;
	}
	p->pool = (dxl_pool *)fs;
	*out = p;
	return 0;
}

void dxl_unpin_locked(struct dxl_fs *fs, dxl_pin *p)
{
	struct dxl_mapst *ms = fs->map_state;
	int i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		dxl_pt_drop(fs->rt, p->refs[i]);
	if (p->refs != &p->ref0) {
		free(p->refs);
		free(p->segs);
	}
	p->n = 0;
	p->refs = &p->ref0;
	p->segs = &p->seg0;
	p->magic = DXL_HANDLE_DEAD;
	if (ms && !ms->spare_pin)
		ms->spare_pin = p;
	else
		free(p);
}

/* A long-term pin may only be taken under an active lease of this file
 * that covers the range. */
static int lease_covers(struct dxl_fs *fs, dxl_lease *l, uint64_t ino, uint64_t off, uint64_t end)
{
	struct dxl_lease_view rl;

	if (dxl_lt_view(fs->rt, l->id, &rl) || rl.state == RT_LEASE_REVOKED)
		return dxl_err(ENOLCK, "lease %llu was revoked: take a new lease on the new layout",
			       (unsigned long long)l->id);
	if (rl.state == RT_LEASE_BREAKING)
		return dxl_err(ENOLCK, "lease %llu is being broken: release it instead of pinning",
			       (unsigned long long)l->id);
	if (rl.ino != ino || rl.start > off || rl.end < end)
		return dxl_err(ENOLCK, "lease %llu does not cover bytes %llu..%llu of this file",
			       (unsigned long long)l->id, (unsigned long long)off, (unsigned long long)end);
	return 0;
}

int dxl_pin_range(dxl_file *f, uint64_t off, uint64_t len, unsigned flags, dxl_lease *lease,
		  dxl_pin **out)
{
	struct dxl_fs *fs;
	const struct dxl_inode *in = NULL;
	uint64_t end, lid = 0;
	int longterm = !!(flags & DXL_PIN_LONGTERM), rc, prepared = 0;
	struct dxl_map m;

	dxl_err_clear();
	if (!f || !f->pool || !out)
		return dxl_err(EINVAL, "pin: bad argument");
	if (flags & ~(unsigned)DXL_PIN_LONGTERM)
		return dxl_err(EINVAL, "pin: unknown flags %#x", flags);
	if (len == 0 || off > UINT64_MAX - len)
		return dxl_err(EINVAL, "pin: bad range");
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return dxl_err(EBADF, "pin: the file is not open for writing (a pinned range can be written by DMA)");
	if (longterm && !lease)
		return dxl_err(ENOLCK, "a long-term pin needs a layout lease covering the range "
				       "(dxl_lease_take first)");
	if (longterm && lease->magic != DXL_HANDLE_LIVE)
		return dxl_err(EINVAL, "pin: not a live lease handle (already released?)");
	if (longterm && (lease->pool != f->pool || lease->ino != f->ino))
		return dxl_err(EINVAL, "pin: the lease is on another file");
	end = off + len;
	fs = &f->pool->fs;
	if (!fs->map_state) {
		struct dxl_mapst *ms;
		rc = dxl_map_state(f->pool, &ms); /* once: it keeps a spare pin handle */
		if (rc)
			return rc;
	}
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	if (longterm) {
		lid = lease->id;
		rc = lease_covers(fs, lease, f->ino, off, end);
		if (rc)
			goto out;
	}
	rc = dxl_file_inode(fs, f, &in);
	if (rc)
		goto out;
	if (end > DXL_ALIGN_UP(in->size, fs->unit)) {
		rc = dxl_err(EINVAL, "pin of bytes %llu..%llu: past the end of the file (%llu); extend it first",
			     (unsigned long long)off, (unsigned long long)end, (unsigned long long)in->size);
		goto out;
	}
	/* The usual direct I/O: one private extent covers it, nothing to prepare. */
	rc = dxl_ext_map(fs, NULL, f->ino, off >> fs->unit_shift, &m);
	if (rc)
		goto out;
	if (m.hole || (m.flags & DXL_EXT_SHARED) ||
	    m.len < ((end - 1) >> fs->unit_shift) - (off >> fs->unit_shift) + 1) {
		prepared = 1;
		/* changing the file needs its inode lock (may drop ours:
		 * prepare looks at the file afresh, and the lease after) */
		rc = dxl_ilock_under(fs, f->ino);
		if (rc < 0)
			goto out;
		uint64_t before = dxl_fs_own_changes(fs);

		rc = dxl_file_prepare(fs, f->ino, off, end,
				      (f->flags & O_NONBLOCK) ? DXL_PREP_NONBLOCK : 0, lid);
		if (dxl_fs_own_changes(fs) != before) /* our mappings of it follow */
			dxl_map_layout_changed(fs, f->ino);
		dxl_iunlock(fs, f->ino);
		if (rc == 0 && longterm)
			rc = lease_covers(fs, lease, f->ino, off, end);
		if (rc)
			goto out;
	}
	rc = dxl_pin_locked(fs, f->ino, off, end, lid, f->path, prepared ? NULL : &m, out);
out:
	dxl_fs_unlock(fs);
	return rc;
}

int dxl_pin_segments(const dxl_pin *p, struct dxl_seg *segs, int n)
{
	int i;

	if (!p || p->magic != DXL_HANDLE_LIVE)
		return dxl_err(EINVAL, "pin: not a live pin handle");
	if (n < 0)
		return dxl_err(EINVAL, "pin segments: negative count %d", n);
	for (i = 0; segs && i < n && i < p->n; i++)
		segs[i] = p->segs[i];
	return p->n;
}

int dxl_unpin(dxl_pin *p)
{
	struct dxl_fs *fs;
	int rc;

	dxl_err_clear();
	if (!p)
		return 0;
	if (p->magic != DXL_HANDLE_LIVE)
		return dxl_err(EINVAL, "unpin: not a live pin handle (already unpinned?)");
	fs = &p->pool->fs;
	rc = dxl_fs_lock(fs);
	if (rc)
		return rc;
	dxl_unpin_locked(fs, p);
	dxl_fs_unlock(fs);
	return 0;
}
