/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Open files that were unlinked, through the mount.  The kernel sends
 * fstat, fchmod, fchown and futimens as path requests without the file
 * handle, and libfuse answers them with the node's path: with hard_remove
 * an unlinked node has none ("Stale file handle").  So hard_remove is off,
 * and libfuse renames an open file it is told to unlink to a hidden name
 * (".fuse_hidden" and 16 hex digits, unique in the mount) and unlinks
 * that name at the last release.  Here that rename unlinks the file in the
 * pool instead — the library keeps it while handles are open, and no other
 * process of the pool ever sees a hidden name — and remembers which inode
 * the hidden name stands for; requests on the hidden name then go to one
 * of the file's open handles.  Names are matched by their last component,
 * which stays right when libfuse renames a directory above them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hidden.h"

#define HIDDEN_PREFIX ".fuse_hidden"

const char *dxf_hidden_name(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	size_t n = strlen(HIDDEN_PREFIX);

	base = base ? base + 1 : path;
	/* exactly libfuse's ".fuse_hidden%08x%08x" */
	if (!base || strncmp(base, HIDDEN_PREFIX, n) != 0 || strlen(base) != n + 16 ||
	    strspn(base + n, "0123456789abcdef") != 16)
		return NULL;
	return base;
}

/* An open handle of inode ino (lock held), or NULL. */
static struct dxf_handle *open_handle(struct dxf_ctx *c, uint64_t ino)
{
	for (struct dxf_handle *h = c->handles.next; h != &c->handles; h = h->next)
		if (h->file && h->ino == ino)
			return h;
	return NULL;
}

static struct dxf_hidden *find(struct dxf_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nhidden; i++)
		if (strcmp(c->hidden[i].name, name) == 0)
			return &c->hidden[i];
	return NULL;
}

static void drop(struct dxf_ctx *c, struct dxf_hidden *e)
{
	*e = c->hidden[--c->nhidden];
}

int dxf_hide(struct dxf_ctx *c, const char *from, const char *to)
{
	const char *name = dxf_hidden_name(to);
	struct dxl_stat s;
	int rc = dxl_lstat(c->pool, from, &s);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (!open_handle(c, s.ino)) {
		rc = -EBUSY; /* not open here: libfuse would not hide it */
	} else if (c->nhidden == c->cap_hidden) {
		size_t cap = c->cap_hidden ? 2 * c->cap_hidden : 16;
		struct dxf_hidden *n = realloc(c->hidden, cap * sizeof(*n));
		if (n) {
			c->hidden = n;
			c->cap_hidden = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		/* the name first: a request on it must not miss between the two */
		struct dxf_hidden *e = &c->hidden[c->nhidden++];
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->ino = s.ino;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == 0 && (rc = dxl_unlink(c->pool, from)) < 0)
		dxf_unhide(c, to);
	return rc;
}

int dxf_unhide(struct dxf_ctx *c, const char *path)
{
	const char *name = dxf_hidden_name(path);
	struct dxf_hidden *e;
	int rc = -ENOENT;

	if (!name)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, name)) != NULL) {
		drop(c, e);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int dxf_hidden_call(struct dxf_ctx *c, const char *path, int (*fn)(dxl_file *f, void *arg),
		    void *arg)
{
	const char *name = dxf_hidden_name(path);
	struct dxf_hidden *e;
	struct dxf_handle *h;
	int rc = -ENOENT;

	if (!name)
		return -ENOENT;
	/* under the lock, so the handle is not released while fn runs */
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, name)) != NULL && (h = open_handle(c, e->ino)) != NULL)
		rc = fn(h->file, arg);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

bool dxf_is_hidden(struct dxf_ctx *c, const char *path)
{
	const char *name = dxf_hidden_name(path);
	bool found;

	if (!name)
		return false;
	pthread_mutex_lock(&c->lock);
	found = find(c, name) != NULL;
	pthread_mutex_unlock(&c->lock);
	return found;
}

void dxf_hidden_released(struct dxf_ctx *c, uint64_t ino)
{
	/* a name whose file has no open handle left is dead: libfuse's
	 * unlink of it may never come (its directory was removed) */
	pthread_mutex_lock(&c->lock);
	if (!open_handle(c, ino))
		for (size_t i = c->nhidden; i-- > 0;)
			if (c->hidden[i].ino == ino)
				drop(c, &c->hidden[i]);
	pthread_mutex_unlock(&c->lock);
}
