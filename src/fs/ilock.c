/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the inode locks cover, and the order they are taken in (see fs.h
 * and docs/design.md, "Locking").  A thread remembers which entries it
 * holds, so that taking one twice nests, a lease break can let go of
 * them while it waits, and the code that changes a file can check that
 * the lock is held rather than trust that it is.
 */
#include <errno.h>

#include "fs.h"

#define MAX_HELD 4

struct held {
	struct dxl_fs *fs;
	struct rt_ilock *l;
	int depth;
};

static __thread struct held held[MAX_HELD];
static __thread int nheld;
static __thread int meta_depth; /* dxl_fs_lock()s of this thread not yet undone */

void dxl_meta_note(int delta)
{
	/* never below zero: a caller that unlocks after a failed relock
	 * (the lock unusable) must not leave this thread looking locked */
	meta_depth = meta_depth + delta < 0 ? 0 : meta_depth + delta;
}

static struct held *find(struct dxl_fs *fs, struct rt_ilock *l)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held[i].l == l && held[i].fs == fs)
			return &held[i];
	return NULL;
}

/* A dead holder may have died in the middle of a transaction: the
 * metadata lock's next holder replays it, and nobody may read the file
 * before that has happened. */
static int mourn(struct dxl_fs *fs, struct rt_ilock *l)
{
	int rc = dxl_fs_lock(fs);

	if (rc == 0)
		dxl_fs_unlock(fs);
	/* consistent either way: unlocked without it, the entry would be
	 * lost for every file that hashes to it */
	dxl_rt_ilock_consistent(l);
	return rc;
}

static int take(struct dxl_fs *fs, struct rt_ilock *l, int try)
{
	struct held *h = find(fs, l);
	int rc;

	if (h) {
		h->depth++;
		return 0;
	}
	if (nheld == MAX_HELD)
		return dxl_err(EDEADLK, "internal: more than %d inode locks held by one thread",
			       MAX_HELD);
	rc = dxl_rt_ilock(l, try);
	if (rc < 0)
		return rc; /* -EBUSY (try), or unusable: not held */
	if (rc == 1 && try) {
		dxl_rt_ilock_consistent(l); /* the metadata lock is ours: recovered */
	} else if (rc == 1) {
		rc = mourn(fs, l);
		if (rc) {
			dxl_rt_iunlock(l);
			return rc;
		}
	}
	held[nheld++] = (struct held){ fs, l, 1 };
	return 0;
}

int dxl_ilock(struct dxl_fs *fs, uint64_t ino)
{
	int rc = dxl_fs_usable(fs);

	if (rc)
		return rc;
	if (meta_depth && !find(fs, dxl_rt_ilock_of(fs->rt, ino)))
		return dxl_err(EDEADLK, "internal: inode lock of %llu wanted under the metadata lock",
			       (unsigned long long)ino);
	return take(fs, dxl_rt_ilock_of(fs->rt, ino), 0);
}

int dxl_ilock2(struct dxl_fs *fs, uint64_t a, uint64_t b)
{
	struct rt_ilock *la = dxl_rt_ilock_of(fs->rt, a), *lb = dxl_rt_ilock_of(fs->rt, b);
	int rc;

	if (la > lb) {
		uint64_t t = a;
		a = b;
		b = t;
	}
	rc = dxl_ilock(fs, a);
	if (rc)
		return rc;
	rc = dxl_ilock(fs, b);
	if (rc)
		dxl_iunlock(fs, a);
	return rc;
}

int dxl_ilock_try(struct dxl_fs *fs, uint64_t ino)
{
	return take(fs, dxl_rt_ilock_of(fs->rt, ino), 1);
}

int dxl_fs_lock_ino(struct dxl_fs *fs, uint64_t ino)
{
	int rc = dxl_ilock(fs, ino);

	if (rc)
		return rc;
	rc = dxl_fs_lock(fs);
	if (rc)
		dxl_iunlock(fs, ino);
	return rc;
}

void dxl_fs_unlock_ino(struct dxl_fs *fs, uint64_t ino)
{
	dxl_fs_unlock(fs);
	dxl_iunlock(fs, ino);
}

int dxl_ilock_under(struct dxl_fs *fs, uint64_t ino)
{
	struct rt_ilock *l = dxl_rt_ilock_of(fs->rt, ino);
	int rc = take(fs, l, 1);

	if (rc != -EBUSY)
		return rc;
	/* held by someone who may be waiting for the metadata lock: let go
	 * of it, take the two in order */
	dxl_fs_unlock(fs);
	rc = take(fs, l, 0);
	if (rc) {
		/* back as the caller left it: with the metadata lock */
		int lrc = dxl_fs_lock(fs);
		return lrc ? lrc : rc;
	}
	rc = dxl_fs_lock(fs);
	if (rc) {
		dxl_iunlock(fs, ino);
		return rc;
	}
	return 1;
}

void dxl_iunlock(struct dxl_fs *fs, uint64_t ino)
{
	struct held *h = find(fs, dxl_rt_ilock_of(fs->rt, ino));

	if (!h || --h->depth > 0)
		return;
	dxl_rt_iunlock(h->l);
	*h = held[--nheld];
}

int dxl_ilock_held(struct dxl_fs *fs, uint64_t ino)
{
	return find(fs, dxl_rt_ilock_of(fs->rt, ino)) != NULL;
}

int dxl_ilock_check(struct dxl_fs *fs, uint64_t ino, const char *what)
{
	if (dxl_likely(dxl_ilock_held(fs, ino)))
		return 0;
	return dxl_err(EDEADLK, "internal: %s of inode %llu without its inode lock", what,
		       (unsigned long long)ino);
}

int dxl_ilocks_release(struct dxl_fs *fs, struct dxl_ilocks_saved *sv)
{
	int i;

	sv->n = 0;
	for (i = nheld - 1; i >= 0; i--) {
		if (held[i].fs != fs)
			continue;
		sv->l[sv->n] = held[i].l;
		sv->depth[sv->n++] = held[i].depth;
		dxl_rt_iunlock(held[i].l);
		held[i] = held[--nheld];
	}
	return sv->n;
}

int dxl_ilocks_retake(struct dxl_fs *fs, const struct dxl_ilocks_saved *sv)
{
	const struct rt_ilock *last = NULL;
	int done = 0, rc = 0;

	/* in address order, the order every thread takes them in */
	while (done < sv->n) {
		struct rt_ilock *next = NULL;
		int i, d = 0;

		for (i = 0; i < sv->n; i++)
			if ((!last || sv->l[i] > last) && (!next || sv->l[i] < next)) {
				next = sv->l[i];
				d = sv->depth[i];
			}
		if (rc == 0)
			rc = take(fs, next, 0);
		if (rc == 0)
			held[nheld - 1].depth = d;
		last = next;
		done++;
	}
	return rc;
}
