/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck's namespace checks: each directory's entries (well formed by the
 * record codec, under their name's hash, no name twice, the type of the
 * child, no directory linked twice), and the inode fields that follow from
 * the namespace: link counts, entry counts and sizes, parents, orphan
 * flags and the next generation.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck/fsck_int.h"

/* ------------------------------------------------------------ paths */

/* "/a/b" for a directory, from the names recorded on the way down. */
static void dir_path(struct ck *ck, uint32_t idx, char *buf, size_t size)
{
	const char *names[256];
	int n = 0;
	uint32_t cur = idx;
	while (n < 256) {
		struct iinfo *ii = INF(ck, cur);
		if (ii->ino == ck->sb->root_ino || !ii->name || !ii->parent_found)
			break;
		names[n++] = ii->name;
		long s = fk_map_find(&ck->imap, ii->parent_found);
		if (s < 0)
			break;
		cur = ck->imap.vals[s];
	}
	size_t len = 0;
	buf[0] = '\0';
	if (INF(ck, cur)->ino != ck->sb->root_ino)
		len = (size_t)snprintf(buf, size, "%s", INF(ck, cur)->flags & I_ORPHAN ? "(orphan)" : "(unlinked)");
	if (n == 0 && len == 0) {
		snprintf(buf, size, "/");
		return;
	}
	for (int i = n - 1; i >= 0 && len < size; i--)
		len += (size_t)snprintf(buf + len, size - len, "/%s", names[i]);
}

/* ------------------------------------------------------------ directories */

struct dctx {
	uint32_t idx;           /* the directory */
	const char *path;
	uint64_t bucket;        /* hash bucket of the names below */
	struct fk_vec names;    /* char[256] of names in the current bucket */
};

static int dirent_cb(struct ck *ck, void *arg, uint64_t key, const uint8_t *val, uint32_t vlen)
{
	struct dctx *d = arg;
	uint64_t dino = INF(ck, d->idx)->ino;
	struct dxl_rec_err err;
	struct dxl_dent rec;
	char name[DXL_NAME_MAX + 1];
	int bad;

	/* the codec the library uses (the value was bounds-checked by the
	 * walk); an unknown type is mended below like a wrong one */
	if (dxl_dirent_decode(val, vlen, &rec, &err) != 0 && err.fault != DXL_REC_TYPE) {
		PROBLEM(ck, "directory %llu (%s): entry with key %#llx %s", ull(dino), d->path,
			ull(key), err.why);
		return fk_add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	memcpy(name, rec.name, rec.name_len);
	name[rec.name_len] = '\0';

	/* duplicate names can only be in the same hash bucket, which is
	 * consecutive in key order */
	if ((key & DXL_DIR_HASH_MASK) != d->bucket) {
		d->bucket = key & DXL_DIR_HASH_MASK;
		d->names.n = 0;
	}
	for (size_t i = 0; i < d->names.n; i++) {
		if (strcmp((char *)d->names.v + i * sizeof(name), name) == 0) {
			PROBLEM(ck, "directory %llu (%s): name \"%s\" appears twice", ull(dino),
				d->path, name);
			return fk_add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
		}
	}
	char *slot = fk_vec_push(&d->names, sizeof(name));
	if (!slot)
		return oom(ck);
	memcpy(slot, name, sizeof(name));

	uint64_t child = rec.ino;
	uint32_t cidx = child == ck->sb->root_ino ? NO_IDX : fk_get_inode(ck, child, &bad);
	if (ck->oom)
		return -ENOMEM;
	if (cidx == NO_IDX) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" points at %s %llu", ull(dino),
			d->path, name, child == ck->sb->root_ino ? "the root directory" : "a block that is not a valid inode:",
			ull(child));
		return fk_add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	const struct dxl_inode *cin = inode_at(ck, child);
	if (S_ISDIR(cin->mode) && (INF(ck, cidx)->flags & I_LINKED)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" links directory %llu, which is"
			" already linked elsewhere", ull(dino), d->path, name, ull(child));
		return fk_add_fix(ck, dino, key, F_DREMOVE) ? 0 : -ENOMEM;
	}
	if ((key & DXL_DIR_HASH_MASK) != (dxl_name_hash(name, rec.name_len) & DXL_DIR_HASH_MASK)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" is stored under the wrong hash key",
			ull(dino), d->path, name);
		struct fix *f = fk_add_fix(ck, dino, key, F_DREKEY);
		if (!f)
			return -ENOMEM;
		f->name_len = rec.name_len;
		memcpy(f->name, name, rec.name_len + 1u);
	}
	if (rec.type != mode_dtype(cin->mode)) {
		PROBLEM(ck, "directory %llu (%s): entry \"%s\" has type %u but inode %llu has"
			" mode %#o", ull(dino), d->path, name, rec.type, ull(child), cin->mode);
		struct fix *f = fk_add_fix(ck, dino, key, F_DRETYPE);
		if (!f)
			return -ENOMEM;
		f->arg = mode_dtype(cin->mode);
	}

	if (INF(ck, d->idx)->ino == ck->sb->root_ino && strcmp(name, "lost+found") == 0 &&
	    S_ISDIR(cin->mode))
		ck->lf_idx = cidx;
	INF(ck, d->idx)->nentries_found++;
	INF(ck, cidx)->links++;
	INF(ck, cidx)->flags |= I_LINKED;
	if (S_ISDIR(cin->mode)) {
		INF(ck, d->idx)->subdirs++;
		INF(ck, cidx)->parent_found = dino;
		free(INF(ck, cidx)->name);
		INF(ck, cidx)->name = strdup(name);
		if (!(INF(ck, cidx)->flags & (I_SEEN | I_QUEUED))) {
			INF(ck, cidx)->flags |= I_QUEUED;
			return push_u32(ck, &ck->queue, cidx);
		}
	} else if (!(INF(ck, cidx)->flags & I_SEEN)) {
		char path[DXL_PATH_MAX];
		snprintf(path, sizeof(path), "%s%s%s", d->path,
			 strcmp(d->path, "/") == 0 ? "" : "/", name);
		return fk_check_file(ck, cidx, path);
	}
	return 0;
}

int fk_check_dir(struct ck *ck, uint32_t idx)
{
	char path[DXL_PATH_MAX];
	char what[64];
	struct dxl_broot root;
	struct dctx d = {idx, path, ~0ull, {0}};
	int damaged = 0;
	uint64_t ino = INF(ck, idx)->ino;

	INF(ck, idx)->flags |= I_SEEN;
	ck->dirs++;
	dir_path(ck, idx, path, sizeof(path));
	dxl_inode_broot(ino, &root);
	snprintf(what, sizeof(what), "directory %llu", ull(ino));
	int rc = fk_walk_tree(ck, &root, what, 1, dirent_cb, &d, &damaged);
	fk_vec_free(&d.names);
	if (damaged)
		INF(ck, idx)->flags |= I_DAMAGED;
	return rc;
}

/* ------------------------------------------------------------ inode fields */

/* What the inode's bookkeeping fields should be. */
void fk_inode_wants(struct ck *ck, uint32_t idx, struct want *w)
{
	struct iinfo *ii = INF(ck, idx);
	const struct dxl_inode *in = inode_at(ck, ii->ino);
	memset(w, 0, sizeof(*w));
	if (S_ISDIR(in->mode)) {
		w->nlink = 2 + ii->subdirs;
		w->nentries = ii->nentries_found;
		/* a directory's size is its entry count (dir.c keeps both) */
		w->nentries_fix = in->nentries != ii->nentries_found || in->size != ii->nentries_found;
		if (ii->ino == ck->sb->root_ino)
			w->parent = ii->ino;
		else
			w->parent = ii->parent_found;
		/* a lost or orphaned directory gets its parent when relinked */
		w->parent_fix = (ii->flags & I_LINKED) && w->parent && in->parent != w->parent;
		w->parent_fix |= ii->ino == ck->sb->root_ino && in->parent != ii->ino;
		w->nlink_fix = in->nlink != w->nlink && !(ii->flags & I_ORPHAN && !(ii->flags & I_LINKED));
	} else {
		w->nlink = ii->links;
		/* a lost file keeps its count until it is relinked */
		w->nlink_fix = in->nlink != w->nlink && !(ii->flags & (I_LOST | I_TOORPH));
		if (S_ISREG(in->mode) && !(ii->flags & I_DAMAGED)) {
			w->nunits = ii->nunits_found;
			w->nunits_fix = in->nunits != ii->nunits_found;
		}
	}
}

void fk_check_inode_fields(struct ck *ck)
{
	for (size_t i = 0; i < ck->inf.n; i++) {
		struct iinfo *ii = INF(ck, (uint32_t)i);
		if (!(ii->flags & I_VALID) || !(ii->flags & (I_SEEN | I_QUEUED)))
			continue;
		const struct dxl_inode *in = inode_at(ck, ii->ino);
		struct want w;
		fk_inode_wants(ck, (uint32_t)i, &w);
		if (w.nlink_fix)
			PROBLEM(ck, "inode %llu: link count is %u, should be %u", ull(ii->ino),
				in->nlink, w.nlink);
		if (w.nentries_fix)
			PROBLEM(ck, "directory %llu: entry count is %llu and size %llu, both should be"
				" %llu", ull(ii->ino), ull(in->nentries), ull(in->size), ull(w.nentries));
		if (w.parent_fix)
			PROBLEM(ck, "directory %llu: parent is %llu, should be %llu", ull(ii->ino),
				ull(in->parent), ull(w.parent));
		if (w.nunits_fix)
			PROBLEM(ck, "inode %llu: records %llu mapped units, its extents map %llu",
				ull(ii->ino), ull(in->nunits), ull(w.nunits));
		int on_list = !!(ii->flags & I_ORPHAN);
		if (on_list && (ii->flags & I_LINKED)) {
			PROBLEM(ck, "inode %llu is on the orphan list but linked from a directory",
				ull(ii->ino));
			ck->orphan_bad = 1;
		}
		if (!!(in->flags & DXL_INODE_F_ORPHAN) != on_list) {
			PROBLEM(ck, "inode %llu: orphan flag is %s but the inode is %son the orphan list",
				ull(ii->ino), on_list ? "clear" : "set", on_list ? "" : "not ");
			ck->orphan_bad = 1;
		}
		if (in->gen >= ck->sb->next_gen && !ck->fix_counters) {
			PROBLEM(ck, "superblock: next generation %llu is not above inode %llu's %llu",
				ull(ck->sb->next_gen), ull(ii->ino), ull(in->gen));
			ck->fix_counters = 1;
		}
	}
}
