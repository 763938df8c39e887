/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 'daxlease io [-f] [-r] [-n] POOL PATH [-c CMD]...': open one file and run
 * xfs_io-style commands on it in order, stopping at the first failure.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

int io_usage(const struct io_args *a)
{
	const struct io_cmd *c = io_find(a->name);
	fprintf(stderr, "%s: usage: %s %s\n", a->name, a->name, c ? c->args : "");
	return CLI_USAGE;
}

int io_num(const struct io_args *a, const char *what, const char *s, uint64_t *out)
{
	int rc = cli_parse_size(s, out);
	if (rc < 0) {
		fprintf(stderr, "%s: %s %s '%s'\n", a->name, rc == -ERANGE ? "too large" : "bad",
			what, s);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int io_lib_fail(const struct io_args *a, int rc)
{
	const char *msg = dxl_errmsg();
	if (!msg || !msg[0])
		msg = strerror(rc < 0 ? -rc : EIO);
	fflush(stdout); /* keep stdout's lines before the error when both go to one file */
	fprintf(stderr, "%s: %s\n", a->name, msg);
	return CLI_FAIL;
}

/* Words split on blanks; '...' and "..." group, as a shell would for simple cases. */
static int tokenize(char *s, char **words, int max)
{
	int n = 0;
	char *out = s;
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (n == max)
			return -E2BIG;
		words[n++] = out;
		char quote = 0;
		for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
			if (!quote && (*s == '\'' || *s == '"'))
				quote = *s;
			else if (quote && *s == quote)
				quote = 0;
			else
				*out++ = *s;
		}
		if (quote)
			return -EINVAL;
		if (*s)
			s++;
		*out++ = '\0';
	}
	return n;
}

static int parse_opts(const struct io_cmd *c, int argc, char **argv, struct io_args *a)
{
	char spec[32];
	snprintf(spec, sizeof(spec), "+:%s", c->opts);
	cli_getopt_reset();
	int ch;
	while ((ch = getopt(argc, argv, spec)) != -1) {
		if (ch == '?' || ch == ':') {
			fprintf(stderr, "%s: %s '-%c'\n", c->name,
				ch == ':' ? "missing argument for option" : "unknown option", optopt);
			return io_usage(a);
		}
		a->set[ch & 127] = true;
		a->optarg[ch & 127] = optarg;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->argc < c->min_args || a->argc > c->max_args)
		return io_usage(a);
	return CLI_OK;
}

static int run_line(struct io_ctx *ctx, const char *line)
{
	char *copy = strdup(line);
	char *words[IO_MAX_ARGS + 1];
	if (!copy) {
		fprintf(stderr, "io: out of memory\n");
		return CLI_FAIL;
	}
	int n = tokenize(copy, words, IO_MAX_ARGS);
	int status = CLI_OK;
	if (n < 0) {
		fprintf(stderr, "io: %s: %s\n", line,
			n == -E2BIG ? "too many words" : "unterminated quote");
		status = CLI_USAGE;
	} else if (n > 0) {
		const struct io_cmd *c = io_find(words[0]);
		struct io_args a;
		memset(&a, 0, sizeof(a));
		a.name = words[0];
		words[n] = NULL;
		if (!c) {
			fprintf(stderr, "%s: unknown command (try 'help')\n", words[0]);
			status = CLI_USAGE;
		} else if ((status = parse_opts(c, n, words, &a)) == CLI_OK) {
			status = c->run(ctx, &a);
		}
	}
	fflush(stdout);
	free(copy);
	return status;
}

/* Without -c, commands come one per line on standard input ('#' starts a comment). */
static int run_stdin(struct io_ctx *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	int status = CLI_OK;
	while (status == CLI_OK && getline(&line, &cap, stdin) > 0) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		status = run_line(ctx, line);
	}
	free(line);
	return status;
}

static int run(int argc, char **argv)
{
	bool create = false, rdonly = false, nonblock = false;
	const char **cmds = calloc((size_t)argc, sizeof(*cmds));
	int ncmds = 0, c;
	if (!cmds)
		return CLI_FAIL;
	cli_getopt_reset();
	while ((c = cli_getopt("io", argc, argv, "frnc:", NULL)) != -1) {
		switch (c) {
		case 'f': create = true; break;
		case 'r': rdonly = true; break;
		case 'n': nonblock = true; break;
		case 'c': cmds[ncmds++] = optarg; break;
		default: free(cmds); return CLI_USAGE;
		}
	}
	int status = CLI_OK;
	if (argc - optind != 2)
		status = cli_usage("io", argc - optind < 2 ? "missing POOL or PATH"
							   : "too many arguments");
	else if (create && rdonly)
		status = cli_usage("io", "-f and -r contradict each other");
	if (status != CLI_OK) {
		free(cmds);
		return status;
	}
	struct io_ctx ctx = {.pool_path = argv[optind], .path = argv[optind + 1], .rdonly = rdonly};
	ctx.buf = malloc(CLI_CHUNK);
	if (!ctx.buf || cli_open_pool("io", ctx.pool_path, rdonly ? DXL_POOL_RDONLY : 0,
				      &ctx.pool)) {
		free(ctx.buf);
		free(cmds);
		return CLI_FAIL;
	}
	int flags = (rdonly ? O_RDONLY : O_RDWR) | (create ? O_CREAT : 0) |
		    (nonblock ? O_NONBLOCK : 0);
	io_events_init(&ctx);
	int rc = dxl_open(ctx.pool, ctx.path, flags, 0644, &ctx.file);
	if (rc < 0) {
		status = cli_lib_error("io", ctx.path, rc);
	} else {
		for (int i = 0; i < ncmds && status == CLI_OK; i++)
			status = run_line(&ctx, cmds[i]);
		if (ncmds == 0)
			status = run_stdin(&ctx);
		/* Whatever the commands left held goes back before the file closes. */
		int td = io_teardown(&ctx);
		if (status == CLI_OK)
			status = td;
		fflush(stdout);
		rc = dxl_close(ctx.file);
		if (rc < 0 && status == CLI_OK)
			status = cli_lib_error("io", ctx.path, rc);
	}
	free(ctx.buf);
	free(cmds);
	return cli_close_pool("io", ctx.pool_path, ctx.pool, status);
}

const struct cli_cmd cli_cmd_io = {
	.name = "io",
	.run = run,
	.usage = "io [-f] [-r] [-n] POOL PATH [-c CMD]...",
	.summary = "run xfs_io-style commands on one file (try: -c help)",
	.help = "  -f       create PATH if it does not exist (mode 0644)\n"
		"  -r       open the pool and the file read-only\n"
		"  -n       open the file with O_NONBLOCK: a layout change that must break\n"
		"           a lease fails with EWOULDBLOCK (the break starts) instead of\n"
		"           waiting for the holder\n"
		"  -c CMD   run CMD; repeat for more, they run in order. Without -c,\n"
		"           commands are read from standard input, one per line.\n"
		"\nThe first failing command stops the run: its error goes to stderr as\n"
		"'CMD: message' and the exit status is 1 (2 for a malformed command).\n"
		"Numbers take k/m/g/t suffixes. 'daxlease io POOL PATH -c help' lists\n"
		"the commands; docs/cli.md gives their exact output.\n",
};
