/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared plumbing of the daxlease command line: the command table, exit
 * codes, argument parsing and error reporting. Every subcommand programs
 * against the public API only.
 */
#ifndef DXL_CLI_H
#define DXL_CLI_H

#include <getopt.h> /* every command reads optind after cli_getopt */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daxlease/daxlease.h"

/* Exit codes, shared by every command (fsck adds 8, like e2fsck). */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,    /* the library or the host refused something */
	CLI_USAGE = 2,   /* the command line itself is wrong */
	CLI_FSCK_ERROR = 8,
};

struct cli_cmd {
	const char *name;
	/* argv[0] is the command name; options follow GNU getopt rules. */
	int (*run)(int argc, char **argv);
	const char *usage;   /* one line, without "daxlease " */
	const char *summary; /* for the command list */
	const char *help;    /* option list, printed under the usage */
	bool own_help;       /* the command answers --help itself */
};

extern const struct cli_cmd cli_cmd_mkfs, cli_cmd_fsck, cli_cmd_info, cli_cmd_tune,
	cli_cmd_ls, cli_cmd_stat, cli_cmd_mkdir, cli_cmd_rm, cli_cmd_mv, cli_cmd_put,
	cli_cmd_get, cli_cmd_cat, cli_cmd_truncate, cli_cmd_cp, cli_cmd_io, cli_cmd_bench,
	cli_cmd_mount, cli_cmd_leases, cli_cmd_keygen, cli_cmd_serve, cli_cmd_remote;

const struct cli_cmd *cli_find_cmd(const char *name);
void cli_print_help(FILE *out, const struct cli_cmd *cmd);

/* Print "daxlease: CMD: message" plus a pointer to --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "daxlease: CMD: PATH: <dxl_errmsg() or strerror>"; returns CLI_FAIL. */
int cli_lib_error(const char *cmd, const char *path, int rc);
/* Same for a failed host call, from errno. */
int cli_sys_error(const char *cmd, const char *path);

/*
 * getopt_long wrapper: resets the parser, reports unknown options and
 * missing arguments as usage errors. Returns the option character, -1 at the
 * end, or '?' after it has printed the error.
 */

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
void cli_getopt_reset(void);

/* Sizes: decimal or 0x-hex bytes, optional k/m/g/t suffix (powers of 1024). */
int cli_parse_size(const char *s, uint64_t *out);
/* Durations: 500ms, 5s, 2m, 1h; a bare number means seconds. */
int cli_parse_duration_ms(const char *s, uint64_t *out);

/* Argument checks that print a usage error and return CLI_USAGE on failure. */
/* A positive lease break time that fits the format's 32-bit milliseconds. */
int cli_break_time_arg(const char *cmd, const char *s, uint32_t *out);
int cli_yes_no_arg(const char *cmd, const char *opt, const char *s, int *out);
int cli_size_arg(const char *cmd, const char *what, const char *s, uint64_t *out);

/* Human forms: "1.5 MiB", "45s"/"500ms". Return buf. */
char *cli_fmt_bytes(char *buf, size_t len, uint64_t n);
char *cli_fmt_ms(char *buf, size_t len, uint64_t ms);
/* A range [start, end) as "START-END", or "START-EOF" when end is UINT64_MAX. */
char *cli_fmt_range(char *buf, size_t len, uint64_t start, uint64_t end);
/* Seconds with an optional fraction ("2", "0.3"), or a duration ("300ms"). */
int cli_parse_seconds_ms(const char *s, uint64_t *out);
/* Milliseconds as seconds with 3 decimals: "1.234s" (negative: "-0.010s"). */
char *cli_fmt_secs(char *buf, size_t len, int64_t ms);
/* "rwxr-xr-x" style with the type letter first; buf needs 11 bytes. */
char *cli_fmt_mode(char *buf, uint32_t mode);
/* Local time "YYYY-MM-DD HH:MM:SS.nnnnnnnnn +zzzz". */
char *cli_fmt_time(char *buf, size_t len, const struct timespec *ts);

/* Open the pool or print the error; returns CLI_OK or CLI_FAIL. */
int cli_open_pool(const char *cmd, const char *path, unsigned flags, dxl_pool **out);
/* Close, reporting a failure (the journal may flush at close). */
int cli_close_pool(const char *cmd, const char *path, dxl_pool *pool, int status);

/* "dir/base" for "dir" and the last component of "src". Caller frees. */
char *cli_join_basename(const char *dir, const char *src);

/* Progress on stderr for long copies, only when stderr is a terminal. */
struct cli_progress {
	uint64_t total, done;
	bool enabled, shown;
	struct timespec last;
};
void cli_progress_start(struct cli_progress *p, uint64_t total);
void cli_progress_add(struct cli_progress *p, uint64_t bytes);
void cli_progress_end(struct cli_progress *p);

/*
 * dxl_pread/dxl_pwrite until len bytes or EOF: the library may return short
 * counts. Return bytes done (short only at EOF for reads), or a negative errno
 * when nothing was done.
 */
ssize_t cli_pread_full(dxl_file *f, void *buf, size_t len, uint64_t off);
ssize_t cli_pwrite_full(dxl_file *f, const void *buf, size_t len, uint64_t off);

/*
 * Copy a pool file to fd in CLI_CHUNK pieces. With CLI_COPY_SPARSE and a
 * regular file, all-zero chunks become holes (the API does not say where the
 * pool file's holes are).
 */
#define CLI_COPY_SPARSE 0x1
#define CLI_COPY_PROGRESS 0x2
int cli_copy_out(const char *cmd, const char *path, dxl_file *f, uint64_t size, int fd,
		 const char *local, unsigned flags);

/* write(2) all of buf, retrying short writes; 0 or -1 with errno. */
int cli_write_all(int fd, const void *buf, size_t len);
bool cli_all_zero(const void *buf, size_t len);

/* Copy chunk for put/get/cat/cp: large enough to stream, small enough to stay in cache. */
#define CLI_CHUNK (1u << 20)

#endif
