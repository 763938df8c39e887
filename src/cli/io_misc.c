/* SPDX-License-Identifier: BSD-3-Clause */
/* io commands without data: sync, stat, help. */
#include "io.h"

int io_fsync(struct io_ctx *ctx, const struct io_args *a)
{
	int rc = dxl_fsync(ctx->file);
	return rc < 0 ? io_lib_fail(a, rc) : CLI_OK;
}

int io_fdatasync(struct io_ctx *ctx, const struct io_args *a)
{
	int rc = dxl_fdatasync(ctx->file);
	return rc < 0 ? io_lib_fail(a, rc) : CLI_OK;
}

static void print_time(const char *key, const struct timespec *ts)
{
	printf("%s = %lld.%09ld\n", key, (long long)ts->tv_sec, ts->tv_nsec);
}

int io_stat(struct io_ctx *ctx, const struct io_args *a)
{
	struct dxl_stat st;
	int rc = dxl_fstat(ctx->file, &st);
	if (rc < 0)
		return io_lib_fail(a, rc);
	printf("size = %llu\n", (unsigned long long)st.size);
	printf("allocated = %llu\n", (unsigned long long)st.allocated);
	printf("nlink = %u\n", st.nlink);
	printf("mode = 0%o\n", st.mode);
	printf("ino = %llu\n", (unsigned long long)st.ino);
	printf("uid = %u\n", st.uid);
	printf("gid = %u\n", st.gid);
	print_time("atime", &st.atime);
	print_time("mtime", &st.mtime);
	print_time("ctime", &st.ctime);
	print_time("btime", &st.btime);
	return CLI_OK;
}

int io_help(struct io_ctx *ctx, const struct io_args *a)
{
	(void)ctx;
	if (a->argc == 1) {
		const struct io_cmd *c = io_find(a->argv[0]);
		if (!c) {
			fprintf(stderr, "help: no command '%s'\n", a->argv[0]);
			return CLI_USAGE;
		}
		printf("%s %s\n  %s\n", c->name, c->args, c->help);
		return CLI_OK;
	}
	for (size_t i = 0; i < io_ncmds; i++) {
		const struct io_cmd *c = &io_cmds[i];
		printf("%-10s %-32s %s\n", c->name, c->args, c->help);
	}
	return CLI_OK;
}
