/*
 * 'daxlease io': an xfs_io-like interpreter over one open pool file. Each
 * command is one row of io_cmds (io_table.c); adding a command means writing
 * a handler and adding a row, nothing else.
 */
#ifndef DXL_CLI_IO_H
#define DXL_CLI_IO_H

#include "cli.h"

#define IO_MAX_ARGS 32

/* What every command can reach; later commands (mmap, leases) add fields here. */
struct io_ctx {
	dxl_pool *pool;
	dxl_file *file;
	const char *pool_path, *path;
	char *buf; /* CLI_CHUNK bytes of scratch */
};

/* One parsed command line: options by letter, then the positional words. */
struct io_args {
	const char *name;
	bool set[128];
	const char *optarg[128];
	int argc;
	char **argv;
};

struct io_cmd {
	const char *name;
	/* Returns CLI_OK, CLI_FAIL (printed "name: message") or CLI_USAGE. */
	int (*run)(struct io_ctx *ctx, const struct io_args *a);
	const char *opts; /* getopt letters, "S:" etc. */
	int min_args, max_args;
	const char *args; /* usage after the name */
	const char *help;
};

extern const struct io_cmd io_cmds[];
extern const size_t io_ncmds;

const struct io_cmd *io_find(const char *name);
/* Parse a number with k/m/g/t suffixes, or print "name: bad ..." and return CLI_USAGE. */
int io_num(const struct io_args *a, const char *what, const char *s, uint64_t *out);
/* "name: message" from the library's last error. Returns CLI_FAIL. */
int io_lib_fail(const struct io_args *a, int rc);
int io_usage(const struct io_args *a);

/* Handlers, one file per family. */
int io_pwrite(struct io_ctx *ctx, const struct io_args *a);
int io_pread(struct io_ctx *ctx, const struct io_args *a);
int io_crc(struct io_ctx *ctx, const struct io_args *a);
int io_truncate(struct io_ctx *ctx, const struct io_args *a);
int io_falloc(struct io_ctx *ctx, const struct io_args *a);
int io_fpunch(struct io_ctx *ctx, const struct io_args *a);
int io_fzero(struct io_ctx *ctx, const struct io_args *a);
int io_reflink(struct io_ctx *ctx, const struct io_args *a);
int io_fsync(struct io_ctx *ctx, const struct io_args *a);
int io_fdatasync(struct io_ctx *ctx, const struct io_args *a);
int io_stat(struct io_ctx *ctx, const struct io_args *a);
int io_help(struct io_ctx *ctx, const struct io_args *a);

#endif
