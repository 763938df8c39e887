/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared between the operations (ops.c) and the mount driver (mount.c). */
#ifndef DXL_FUSE_INTERNAL_H
#define DXL_FUSE_INTERNAL_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daxlease/daxlease.h"

/* An open file or directory; kept on a list so shutdown can close leftovers. */
struct dxf_handle {
	dxl_file *file;          /* exactly one of file / dir is set */
	dxl_dir *dir;
	int flags;               /* open(2) flags as the kernel gave them */
	uint64_t ino;            /* the file's inode (hidden.c finds handles by it) */
	struct dxf_handle *prev, *next;
};

/* A hidden name libfuse gave an unlinked open file (hidden.c). */
struct dxf_hidden {
	char name[48];
	uint64_t ino;
};

struct dxf_ctx {
	dxl_pool *pool;
	uint64_t unit;           /* allocation unit, for st_blksize and reflink alignment */
	bool cached;             /* -o cached: kernel page cache instead of direct_io */
	bool readonly;           /* -o ro */
	bool debug;              /* report library errors on stderr */
	uid_t uid;               /* owner the library gives new inodes (our euid/egid) */
	gid_t gid;
	pthread_mutex_t lock;    /* guards the handle list and the hidden names */
	struct dxf_handle handles;
	struct dxf_hidden *hidden;
	size_t nhidden, cap_hidden;
};

/* The operation table; private_data of every request is the struct dxf_ctx. */
const struct fuse_operations *dxf_operations(void);
/* Close every handle the kernel did not release (lazy unmount, signal). */
void dxf_close_all(struct dxf_ctx *ctx);

#endif
