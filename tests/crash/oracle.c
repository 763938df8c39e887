/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The oracle: a pool's logical state, and whether a crash image recovered
 * to the state before the operation or the state after it.
 *
 * The state is everything the promise covers (docs/testing.md): every
 * name, its inode number, type and mode, link count, size, symlink target,
 * the file's extents (logical unit, physical unit, length, flags) with the
 * share count of every unit, and the data.  Times are left out: the
 * journal keeps them too, but data writes set mtime lazily by design.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crashx.h"
#include "fs/fs.h"

struct nodes {
	struct cx_node *n;
	size_t count, cap;
};

static struct cx_node *add_node(struct nodes *v)
{
	if (v->count == v->cap)
		cx_grow(&v->n, &v->cap, sizeof(*v->n), 32);
	memset(&v->n[v->count], 0, sizeof(v->n[0]));
	return &v->n[v->count++];
}

/* The mapping of every unit, with its share count, read under the
 * metadata lock.  Per unit, not per extent record: how the B+tree cuts
 * extents is not part of the promise, what each unit maps to is. */
static int read_extents(dxl_pool *pool, uint64_t ino, struct cx_ext **out, size_t *nout)
{
	struct dxl_fs *fs = &pool->fs;
	uint64_t fu = 0;
	size_t cap = 0, n = 0;
	struct cx_ext *v = NULL;
	int rc = dxl_fs_lock(fs);

	if (rc)
		return rc;
	for (;;) {
		struct dxl_map m;
		rc = dxl_ext_map(fs, NULL, ino, fu, &m);
		if (rc)
			break;
		if (m.hole) {
			if (m.len >= UINT64_MAX - fu)
				break;
			fu += m.len;
			continue;
		}
		for (uint64_t i = 0; i < m.len && rc == 0; i++) {
			uint64_t count = 1, run = 0;
			rc = dxl_refc_get(fs, NULL, m.phys + i, &count, &run);
			if (rc)
				break;
			if (n == cap)
				cx_grow(&v, &cap, sizeof(*v), 8);
			v[n++] = (struct cx_ext){ .fu = fu + i, .phys = m.phys + i, .len = 1,
						  .refs = count, .flags = m.flags };
		}
		if (rc)
			break;
		fu += m.len;
	}
	dxl_fs_unlock(fs);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int read_data(dxl_pool *pool, struct cx_node *nd)
{
	dxl_file *f;
	int rc = dxl_open(pool, nd->path, O_RDONLY, 0, &f);

	if (rc)
		return rc;
	nd->data = malloc(nd->size ? nd->size : 1);
	if (!nd->data) {
		dxl_close(f);
		return -ENOMEM;
	}
	ssize_t got = dxl_pread(f, nd->data, nd->size, 0);
	dxl_close(f);
	if (got < 0)
		return (int)got;
	return (uint64_t)got == nd->size ? 0 : -EIO;
}

static int walk(dxl_pool *pool, const char *dir, struct nodes *v, int with_data, int depth)
{
	dxl_dir *d;
	struct dxl_dirent de;
	int rc;

	if (depth > 16)
		return -ELOOP;
	rc = dxl_opendir(pool, dir, &d);
	if (rc)
		return rc;
	while ((rc = dxl_readdir(d, &de)) > 0) {
		struct cx_node *nd = add_node(v);
		struct dxl_stat st;
		if (strlen(dir) + strlen(de.name) + 2 > sizeof(nd->path)) {
			rc = -ENAMETOOLONG;
			break;
		}
		strcpy(nd->path, dir);
		if (strcmp(dir, "/"))
			strcat(nd->path, "/");
		strcat(nd->path, de.name);
		rc = dxl_lstat(pool, nd->path, &st);
		if (rc)
			break;
		nd->ino = st.ino;
		nd->mode = st.mode;
		nd->nlink = st.nlink;
		nd->size = st.size;
		if (S_ISLNK(st.mode)) {
			char buf[4096];
			ssize_t n = dxl_readlink(pool, nd->path, buf, sizeof(buf) - 1);
			if (n < 0) {
				rc = (int)n;
				break;
			}
			buf[n] = 0;
			nd->target = strdup(buf);
		} else if (S_ISREG(st.mode)) {
			if ((rc = read_extents(pool, nd->ino, &nd->ext, &nd->next)) != 0)
				break;
			if (with_data && (rc = read_data(pool, nd)) != 0)
				break;
		} else if (S_ISDIR(st.mode)) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s", nd->path);
			if ((rc = walk(pool, sub, v, with_data, depth + 1)) != 0)
				break;
		}
	}
	dxl_closedir(d);
	return rc < 0 ? rc : 0;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct cx_node *)a)->path, ((const struct cx_node *)b)->path);
}

/*
 * A file unlinked while open lives on as an orphan, and a crash reaps it:
 * the state a crash can show is the tree with the orphan's references
 * dropped from the share counts of units it shared.
 */
static int drop_orphan(dxl_pool *pool, dxl_file *f, struct cx_snap *s)
{
	struct dxl_stat st;
	struct cx_ext *e = NULL;
	size_t n = 0;
	int rc = dxl_fstat(f, &st);

	if (rc || st.nlink)
		return rc;
	rc = read_extents(pool, st.ino, &e, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < s->count; j++)
			for (size_t k = 0; k < s->n[j].next; k++)
				if (s->n[j].ext[k].phys == e[i].phys && s->n[j].ext[k].refs > 1)
					s->n[j].ext[k].refs--;
	free(e);
	return 0;
}

int cx_snap_take(dxl_pool *pool, struct cx_snap *s, int with_data, dxl_file *orphan)
{
	struct nodes v = { 0 };
	struct dxl_stat st;
	int rc;

	memset(s, 0, sizeof(*s));
	struct cx_node *root = add_node(&v);
	strcpy(root->path, "/");
	rc = dxl_lstat(pool, "/", &st);
	if (rc == 0) {
		root->ino = st.ino;
		root->mode = st.mode;
		root->nlink = st.nlink;
		root->size = st.size;
		rc = walk(pool, "/", &v, with_data, 0);
	}
	s->n = v.n;
	s->count = v.count;
	if (rc) {
		cx_snap_free(s);
		return rc;
	}
	qsort(s->n, s->count, sizeof(*s->n), cmp_node);
	if (orphan && (rc = drop_orphan(pool, orphan, s)) != 0) {
		cx_snap_free(s);
		return rc;
	}
	return 0;
}

void cx_snap_free(struct cx_snap *s)
{
	size_t i;
	for (i = 0; i < s->count; i++) {
		free(s->n[i].target);
		free(s->n[i].data);
		free(s->n[i].ext);
	}
	free(s->n);
	memset(s, 0, sizeof(*s));
}

static const struct cx_node *find(const struct cx_snap *s, const char *path)
{
	struct cx_node key;
	snprintf(key.path, sizeof(key.path), "%s", path);
	return bsearch(&key, s->n, s->count, sizeof(*s->n), cmp_node);
}

/* May byte i of path hold value v?  Only inside a slack range, and only
 * pre's value, post's value, or zero where the operation zeroes. */
static int slack_ok(const char *path, uint64_t ino, uint64_t i, uint8_t v,
		    const struct cx_snap *pre, const struct cx_snap *post, const struct cx_slack *sl,
		    int nsl)
{
	int k;
	/* by inode: a hard link shows the same bytes under another name */
	for (k = 0; k < nsl; k++) {
		if (sl[k].ino != ino || i < sl[k].off || i >= sl[k].off + sl[k].len)
			continue;
		if (sl[k].zero && v == 0)
			return 1;
		const struct cx_node *a = find(pre, path), *b = find(post, path);
		if (a && a->data && i < a->size && a->data[i] == v)
			return 1;
		if (b && b->data && i < b->size && b->data[i] == v)
			return 1;
	}
	return 0;
}

static void mode_str(uint32_t mode, char *buf, size_t len)
{
	snprintf(buf, len, "%s %04o", S_ISDIR(mode) ? "dir" : S_ISLNK(mode) ? "symlink" : "file",
		 mode & 07777);
}

int cx_snap_match(const struct cx_snap *c, const struct cx_snap *s, const struct cx_snap *pre,
		  const struct cx_snap *post, const struct cx_slack *sl, int nsl, char *why,
		  size_t len)
{
	size_t i = 0, j = 0;

	/* names first: a missing or extra name says the most */
	while (i < c->count || j < s->count) {
		int d = i == c->count ? 1 : j == s->count ? -1 : strcmp(c->n[i].path, s->n[j].path);
		if (d < 0) {
			snprintf(why, len, "%s exists, expected no such name", c->n[i].path);
			return 1;
		}
		if (d > 0) {
			snprintf(why, len, "%s is missing", s->n[j].path);
			return 1;
		}
		i++;
		j++;
	}
	for (i = 0; i < c->count; i++) {
		const struct cx_node *a = &c->n[i], *b = &s->n[i];
		char ma[32], mb[32];
		if (a->ino != b->ino) {
			snprintf(why, len, "%s: inode %" PRIu64 ", expected %" PRIu64, a->path, a->ino,
				 b->ino);
			return 1;
		}
		if (a->mode != b->mode) {
			mode_str(a->mode, ma, sizeof(ma));
			mode_str(b->mode, mb, sizeof(mb));
			snprintf(why, len, "%s: %s, expected %s", a->path, ma, mb);
			return 1;
		}
		if (a->nlink != b->nlink) {
			snprintf(why, len, "%s: %u links, expected %u", a->path, a->nlink, b->nlink);
			return 1;
		}
		if (!S_ISDIR(a->mode) && a->size != b->size) {
			snprintf(why, len, "%s: size %" PRIu64 ", expected %" PRIu64, a->path, a->size,
				 b->size);
			return 1;
		}
		if ((a->target || b->target) &&
		    (!a->target || !b->target || strcmp(a->target, b->target))) {
			snprintf(why, len, "%s: points to \"%s\", expected \"%s\"", a->path,
				 a->target ? a->target : "", b->target ? b->target : "");
			return 1;
		}
		if (a->next != b->next) {
			snprintf(why, len, "%s: %zu units mapped, expected %zu", a->path, a->next,
				 b->next);
			return 1;
		}
		for (size_t e = 0; e < a->next; e++) {
			const struct cx_ext *x = &a->ext[e], *y = &b->ext[e];
			if (x->fu != y->fu || x->phys != y->phys || x->refs != y->refs ||
			    x->flags != y->flags) {
				snprintf(why, len,
					 "%s: unit %" PRIu64 " maps to %" PRIu64 " (shared by %" PRIu64
					 ", flags %u), expected unit %" PRIu64 " at %" PRIu64
					 " (shared by %" PRIu64 ", flags %u)",
					 a->path, x->fu, x->phys, x->refs, x->flags, y->fu, y->phys,
					 y->refs, y->flags);
				return 1;
			}
		}
		if (a->data && b->data && memcmp(a->data, b->data, a->size)) {
			for (uint64_t k = 0; k < a->size; k++) {
				if (a->data[k] == b->data[k] ||
				    slack_ok(a->path, a->ino, k, a->data[k], pre, post, sl, nsl))
					continue;
				snprintf(why, len, "%s: byte %" PRIu64 " is 0x%02x, expected 0x%02x",
					 a->path, k, a->data[k], b->data[k]);
				return 1;
			}
		}
	}
	return 0;
}

int cx_slack_resolve(const struct cx_snap *pre, const struct cx_slack *in, struct cx_slack *out,
		     int max, uint64_t unit)
{
	const struct cx_node *nd = find(pre, in->path);
	int n = 0;

	if (!nd || !S_ISREG(nd->mode))
		return 0;
	for (size_t e = 0; e < nd->next && n < max; e++) {
		const struct cx_ext *x = &nd->ext[e];
		if (x->refs != 1)
			continue; /* shared: written by copy-on-write, never in place */
		uint64_t lo = x->fu * unit, hi = (x->fu + x->len) * unit;
		if (lo < in->off)
			lo = in->off;
		if (hi > in->off + in->len)
			hi = in->off + in->len;
		if (lo >= hi)
			continue;
		out[n] = *in;
		out[n].ino = nd->ino;
		out[n].off = lo;
		out[n].len = hi - lo;
		n++;
	}
	return n;
}
