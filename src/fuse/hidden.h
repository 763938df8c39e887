/* SPDX-License-Identifier: BSD-3-Clause */
/* Unlinked open files through the mount: libfuse's hidden names (hidden.c). */
#ifndef DXL_FUSE_HIDDEN_H
#define DXL_FUSE_HIDDEN_H

#include "internal.h"

/* path's last component if it is one of libfuse's hidden names, else NULL. */
const char *dxf_hidden_name(const char *path);
/* libfuse hides from (open here) as to: unlink from in the pool and
 * remember to's name for its inode.  -EBUSY when from is not open here
 * (then it is an ordinary rename). */
int dxf_hide(struct dxf_ctx *c, const char *from, const char *to);
/* libfuse unlinks a hidden name: forget it (0), -ENOENT if unknown. */
int dxf_unhide(struct dxf_ctx *c, const char *path);
/* fn on an open handle of the file a hidden path names, with the handle
 * list locked; -ENOENT when path names none. */
int dxf_hidden_call(struct dxf_ctx *c, const char *path, int (*fn)(dxl_file *f, void *arg),
		    void *arg);
/* Whether path is a hidden name in use.  libfuse takes one from the link
 * count it reports for such a node, counting the name as a link, which in
 * the pool it is not. */
bool dxf_is_hidden(struct dxf_ctx *c, const char *path);
/* A handle of inode ino was released: its hidden names go with the last. */
void dxf_hidden_released(struct dxf_ctx *c, uint64_t ino);

#endif
