/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease mount: the pool as a directory tree through libfuse3.
 *
 * This layer drives the public library API only; the CLI's `mount` command
 * is a thin wrapper around dxl_fuse_run(). See docs/mount.md.
 */
#ifndef DXL_FUSE_FS_H
#define DXL_FUSE_FS_H

#include <stdbool.h>

struct dxl_fuse_opts {
	const char *pool;      /* pool path, as given */
	const char *dir;       /* mount point, as given */
	const char *options;   /* "-o" list (comma separated, may be NULL) */
	bool foreground;       /* -f: stay attached; otherwise detach once mounted */
	bool single_thread;    /* -s: one request at a time */
	bool debug;            /* -d: libfuse request trace plus library errors (implies -f) */
};

/*
 * Mount, serve until unmounted (fusermount3 -u DIR, SIGTERM, SIGINT, SIGHUP),
 * then close the pool. Without -f the calling process returns (exit status 0)
 * only once the mount is usable, or prints why it failed and returns 1; the
 * server carries on in a detached child. Returns a CLI exit status.
 */
int dxl_fuse_run(const struct dxl_fuse_opts *o);

#endif
