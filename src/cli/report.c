/* SPDX-License-Identifier: BSD-3-Clause */
/* Error and usage reporting in the one format every command shares. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "daxlease: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	const struct cli_cmd *c = cli_find_cmd(cmd);
	if (c)
		fprintf(stderr, "\nusage: daxlease %s\nTry 'daxlease %s --help'.\n", c->usage, cmd);
	else
		fputc('\n', stderr);
	return CLI_USAGE;
}

int cli_lib_error(const char *cmd, const char *path, int rc)
{
	const char *msg = dxl_errmsg();
	if (!msg || !msg[0])
		msg = strerror(rc < 0 ? -rc : rc);
	fprintf(stderr, "daxlease: %s: %s: %s\n", cmd, path, msg);
	return CLI_FAIL;
}

int cli_sys_error(const char *cmd, const char *path)
{
	fprintf(stderr, "daxlease: %s: %s: %s\n", cmd, path, strerror(errno));
	return CLI_FAIL;
}

void cli_getopt_reset(void)
{
	/* glibc reinitialises its permutation state only when optind is 0. */
	optind = 0;
	opterr = 0;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	static const struct option none[] = {{0, 0, 0, 0}};
	char spec[64];
	/* A leading ':' makes getopt tell a missing argument from an unknown option. */
	/* a leading '+' (stop at the first word) must stay first */
	if (shortopts[0] == '+')
		snprintf(spec, sizeof(spec), "+:%s", shortopts + 1);
	else
		snprintf(spec, sizeof(spec), ":%s", shortopts);
	int c = getopt_long(argc, argv, spec, longopts ? longopts : none, NULL);
	if (c != '?' && c != ':')
		return c;
	/* A long option leaves optopt 0 (or its value); getopt has moved past it. */
	const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";
	bool is_long = strncmp(arg, "--", 2) == 0;
	if (c == ':') {
		if (is_long)
			cli_usage(cmd, "option '%s' needs an argument", arg);
		else
			cli_usage(cmd, "option '-%c' needs an argument", optopt);
	} else if (!is_long && optopt) {
		cli_usage(cmd, "unknown option '-%c'", optopt);
	} else {
		cli_usage(cmd, "unknown or ambiguous option '%s'", arg);
	}
	return '?';
}
