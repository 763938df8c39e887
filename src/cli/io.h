/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 'daxlease io': an xfs_io-like interpreter over one open pool file. Each
 * command is one row of io_cmds (io_table.c); adding a command means writing
 * a handler and adding a row, nothing else.
 */
#ifndef DXL_CLI_IO_H
#define DXL_CLI_IO_H

#include "cli.h"

#define IO_MAX_ARGS 32

#define IO_MAX_PINS 64
#define IO_MAX_EVENTS 64

/* A pin taken by 'pin', with what 'wait-break' needs to tear it down. */
struct io_pin {
	dxl_pin *pin;
	uint64_t lease_id; /* 0: transient */
	uint64_t off, len;
};

/* What every command can reach. */
struct io_ctx {
	dxl_pool *pool;
	dxl_file *file;
	const char *pool_path, *path;
	char *buf; /* CLI_CHUNK bytes of scratch */
	bool rdonly;

	/* 'lease': the current lease, which 'pin -l' pins under. */
	dxl_lease *lease;
	uint64_t lease_start, lease_end; /* bytes; end UINT64_MAX = to infinity */
	bool lease_refuse;
	/* 'pin': held until 'unpin' (or a break of their lease). */
	struct io_pin pins[IO_MAX_PINS];
	int npins;
	/* 'mmap': the one current mapping. */
	dxl_mapping *map;
	uint64_t map_off;
	bool map_direct, map_rdonly;
	/* Events recorded by the callback during dxl_event_dispatch/wait, not
	 * yet printed (the lease handle is not kept: it may be released). */
	struct dxl_event events[IO_MAX_EVENTS];
	int nevents;
	unsigned long lost_events;
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
int io_fcollapse(struct io_ctx *ctx, const struct io_args *a);
int io_finsert(struct io_ctx *ctx, const struct io_args *a);
int io_funshare(struct io_ctx *ctx, const struct io_args *a);
int io_reflink(struct io_ctx *ctx, const struct io_args *a);
int io_fsync(struct io_ctx *ctx, const struct io_args *a);
int io_fdatasync(struct io_ctx *ctx, const struct io_args *a);
int io_stat(struct io_ctx *ctx, const struct io_args *a);
int io_help(struct io_ctx *ctx, const struct io_args *a);
int io_mmap(struct io_ctx *ctx, const struct io_args *a);
int io_munmap(struct io_ctx *ctx, const struct io_args *a);
int io_mwrite(struct io_ctx *ctx, const struct io_args *a);
int io_mread(struct io_ctx *ctx, const struct io_args *a);
int io_pin(struct io_ctx *ctx, const struct io_args *a);
int io_unpin(struct io_ctx *ctx, const struct io_args *a);
int io_lease(struct io_ctx *ctx, const struct io_args *a);
int io_unlease(struct io_ctx *ctx, const struct io_args *a);
int io_wait_break(struct io_ctx *ctx, const struct io_args *a);
int io_events(struct io_ctx *ctx, const struct io_args *a);
int io_sleep(struct io_ctx *ctx, const struct io_args *a);

/* Shared by the handler families. */
/* OFF and LEN from argv[0], argv[1]; a usage error if malformed or overflowing. */
int io_off_len(const struct io_args *a, uint64_t *off, uint64_t *len);
/* -S BYTE (default 0xcd) or a usage error. */
int io_fill_byte(const struct io_args *a, unsigned *fill);
/* xfs_io's hex dump layout, offsets starting at base. */
void io_hexdump(const unsigned char *p, size_t n, uint64_t base);
/* The callback of every lease this process takes: records the event in ctx. */
void io_record_event(dxl_lease *lease, const struct dxl_event *ev, void *arg);
/* Install the event callback (at pool open) so every event is recorded. */
void io_events_init(struct io_ctx *ctx);
/* At exit: unmap, unpin and release whatever is still held; reports failures
 * on stderr and returns CLI_FAIL if any. */
int io_teardown(struct io_ctx *ctx);

#endif
