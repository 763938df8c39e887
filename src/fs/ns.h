/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the namespace calls (src/fs/ns*.c): the one wrapper every
 * public namespace call runs through (dxl_ns_call), and the checks and
 * steps several of the calls share.  Not installed.
 *
 * A call describes itself in a struct ns_call -- its name and the paths a
 * failure names, whether it modifies the pool, an optional check that
 * needs no transaction (bad arguments, the root) and its body -- and the
 * wrapper does the rest the same way for every call: take the pool's
 * metadata lock, run the check, begin one transaction, run the body,
 * commit (a modifying call whose body succeeded) or abort (a read-only
 * call, a failure, or a body that found nothing to change), reap the
 * inode that lost its last link, unlock, and word a failure as
 * "OP PATH: strerror: detail" keeping the lower layer's detail.
 */
#ifndef DXL_FS_NS_H
#define DXL_FS_NS_H

#include "fs.h"

/* A body's "nothing to apply": the transaction is aborted, the call succeeds. */
#define NS_UNCHANGED 1

/* What a failure's message names after the call's name. */
enum ns_names {
	NS_PATH = 0, /* path */
	NS_PATHS,    /* path and path2 (link, symlink, rename) */
	NS_INODE,    /* "inode INO" (readdir: a stream has no path) */
};

struct ns_call {
	const char *op;          /* "mkdir": begins the message of a failure */
	enum ns_names names;
	const char *path, *path2;
	uint64_t ino;            /* NS_INODE */
	int modify;              /* refused on a read-only pool; commits */
	/* Checks that need no transaction, run under the lock; may be NULL. */
	int (*check)(struct dxl_fs *fs, struct ns_call *c);
	/* The work inside transaction tx: 0, NS_UNCHANGED or -errno. */
	int (*body)(struct dxl_fs *fs, struct dxl_tx *tx, struct ns_call *c);
	void *arg;               /* the call's own arguments and results */
	uint64_t reap;           /* set by body: an inode that lost a link,
				  * reaped once the transaction is committed */
	int result;              /* what the call returns on success (0) */
};

/* Clear the error, refuse a NULL pool ("OP: no pool"), then dxl_ns_run. */
int dxl_ns_call(dxl_pool *pool, struct ns_call *c);
/* The call on fs as described above; a failure to take the lock is
 * returned as it is.  Returns c->result or a negative errno. */
int dxl_ns_run(struct dxl_fs *fs, struct ns_call *c);

/* After a committed operation dropped a link to ino (0: none): free it.
 * The change is already durable; if freeing fails, the orphan list keeps
 * the inode and the next first open frees it. */
void dxl_ns_reap(struct dxl_fs *fs, uint64_t ino);

/* ----------------------------------------------- shared by several calls */

/* Nothing but slashes: the root, which has no entry to add or remove. */
int dxl_ns_is_root(const char *path);
int dxl_ns_trailing_slash(const char *path);
/* The DT_* type of an entry for an inode of this mode. */
uint32_t dxl_ns_mode_to_dt(uint32_t mode);
/* Resolve PATH's parent and name, refusing "." and ".." as names with
 * dot_err (each operation says which errno that is; POSIX has no single
 * answer). */
int dxl_ns_parent_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, int dot_err,
		     uint64_t *dir, const char **name, size_t *len);
/* Look the last component up: the entry's inode and the inode itself. */
int dxl_ns_entry_of(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t dir,
		    const char *name, size_t len, uint64_t *ino, const struct dxl_inode **in);
/* Drop the link a removed entry held on ino (a directory: also its "."). */
int dxl_ns_drop_link(struct dxl_fs *fs, struct dxl_tx *tx, uint64_t ino, int is_dir);
/* ENOTEMPTY unless directory ino is empty by its count and by its tree. */
int dxl_ns_check_empty(struct dxl_fs *fs, struct dxl_tx *tx, const char *path, uint64_t ino,
		       const struct dxl_inode *in);

#endif
