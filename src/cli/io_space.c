/* SPDX-License-Identifier: BSD-3-Clause */
/* io commands that change the file's size or block map. */
#include <fcntl.h>
#include <linux/falloc.h>

#include "io.h"

int io_truncate(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t size;
	if (io_num(a, "size", a->argv[0], &size))
		return CLI_USAGE;
	int rc = dxl_ftruncate(ctx->file, size);
	return rc < 0 ? io_lib_fail(a, rc) : CLI_OK;
}

static int fallocate_cmd(struct io_ctx *ctx, const struct io_args *a, int mode)
{
	uint64_t off, len;
	if (io_num(a, "offset", a->argv[0], &off) || io_num(a, "length", a->argv[1], &len))
		return CLI_USAGE;
	if (a->set['k'])
		mode |= FALLOC_FL_KEEP_SIZE;
	int rc = dxl_fallocate(ctx->file, mode, off, len);
	return rc < 0 ? io_lib_fail(a, rc) : CLI_OK;
}

int io_falloc(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, 0);
}

int io_fpunch(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
}

int io_fzero(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, FALLOC_FL_ZERO_RANGE);
}

int io_fcollapse(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, FALLOC_FL_COLLAPSE_RANGE);
}

int io_finsert(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, FALLOC_FL_INSERT_RANGE);
}

int io_funshare(struct io_ctx *ctx, const struct io_args *a)
{
	return fallocate_cmd(ctx, a, FALLOC_FL_UNSHARE_RANGE);
}

int io_reflink(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t soff = 0, doff = 0, len = 0;
	if (a->argc != 1 && a->argc != 4)
		return io_usage(a);
	if (a->argc == 4 && (io_num(a, "source offset", a->argv[1], &soff) ||
			     io_num(a, "destination offset", a->argv[2], &doff) ||
			     io_num(a, "length", a->argv[3], &len)))
		return CLI_USAGE;
	dxl_file *src;
	int rc = dxl_open(ctx->pool, a->argv[0], O_RDONLY, 0, &src);
	if (rc < 0)
		return io_lib_fail(a, rc);
	if (a->argc == 1) {
		struct dxl_stat st;
		rc = dxl_fstat(src, &st);
		len = st.size;
	}
	if (rc == 0)
		rc = dxl_reflink(src, soff, ctx->file, doff, len);
	int status = rc < 0 ? io_lib_fail(a, rc) : CLI_OK;
	dxl_close(src);
	if (status == CLI_OK)
		printf("linked %llu/%llu bytes at offset %llu\n", (unsigned long long)len,
		       (unsigned long long)len, (unsigned long long)doff);
	return status;
}
