/* SPDX-License-Identifier: BSD-3-Clause */
/* Entry point: find the subcommand, handle the help forms, run it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/util.h"

static const struct cli_cmd *const commands[] = {
	&cli_cmd_mkfs, &cli_cmd_fsck, &cli_cmd_info, &cli_cmd_tune, &cli_cmd_ls,
	&cli_cmd_stat, &cli_cmd_mkdir, &cli_cmd_rm, &cli_cmd_mv, &cli_cmd_put,
	&cli_cmd_get, &cli_cmd_cat, &cli_cmd_truncate, &cli_cmd_cp, &cli_cmd_io,
	&cli_cmd_bench, &cli_cmd_mount, &cli_cmd_leases, &cli_cmd_keygen, &cli_cmd_serve,
	&cli_cmd_remote,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct cli_cmd *cli_find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

void cli_print_help(FILE *out, const struct cli_cmd *cmd)
{
	fprintf(out, "usage: daxlease %s\n\n%s.\n", cmd->usage, cmd->summary);
	if (cmd->help && cmd->help[0])
		fprintf(out, "\n%s", cmd->help);
}

static void print_overview(FILE *out)
{
	fprintf(out, "usage: daxlease <command> POOL [ARGS...]\n"
		     "       daxlease help COMMAND | daxlease COMMAND --help\n\n"
		     "A file system for DAX memory. POOL is a device-DAX node, a file on an\n"
		     "fsdax mount, or a plain file. Commands:\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nSizes take k, m, g, t suffixes (powers of 1024). Exit status: 0 success,\n"
		     "1 failure, 2 usage error (fsck: 8 when the pool could not be checked).\n");
}

/* "--help" anywhere before "--" asks for help, whatever else is on the line. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

/*
 * Debian's libfabric links the PSM providers, whose libinfinipath installs
 * SIGINT, SIGTERM, SIGSEGV... handlers from a constructor: they print a
 * backtrace into a file in the working directory and exit(1).  That broke
 * the mount's clean SIGTERM (libfuse leaves a handler already there alone)
 * and hides crashes.  At entry nothing of ours has set a handler, so one
 * that is set came from a library: back to the default.  Ignored signals
 * (a background job's SIGINT) stay ignored.
 */
static void default_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
			signal(sigs[i], SIG_DFL);
	}
}

int main(int argc, char **argv)
{
	default_signals();
	if (argc < 2) {
		print_overview(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_overview(stdout);
		return CLI_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("daxlease %s\n", dxl_version());
		/* a build that lets the environment turn safety rules off says so */
		if (dxl_test_switches_built())
			printf("built with DXL_TEST_* switches honoured (a test build, not a release)\n");
		return CLI_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc == 2) {
			print_overview(stdout);
			return CLI_OK;
		}
		const struct cli_cmd *cmd = cli_find_cmd(argv[2]);
		if (!cmd) {
			fprintf(stderr, "daxlease: help: unknown command '%s'\n", argv[2]);
			return CLI_USAGE;
		}
		cli_print_help(stdout, cmd);
		return CLI_OK;
	}
	const struct cli_cmd *cmd = cli_find_cmd(name);
	if (!cmd) {
		fprintf(stderr, "daxlease: unknown command '%s' (try 'daxlease --help')\n", name);
		return CLI_USAGE;
	}
	if (!cmd->own_help && wants_help(argc - 1, argv + 1)) {
		cli_print_help(stdout, cmd);
		return CLI_OK;
	}
	return cmd->run(argc - 1, argv + 1);
}
