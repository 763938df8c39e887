/* SPDX-License-Identifier: BSD-3-Clause */
/* Option arguments shared by several commands, checked with a usage error. */
#include <errno.h>
#include <string.h>

#include "cli.h"

int cli_break_time_arg(const char *cmd, const char *s, uint32_t *out)
{
	uint64_t ms;
	if (cli_parse_duration_ms(s, &ms) < 0)
		return cli_usage(cmd, "--lease-break-time: bad duration '%s' (e.g. 45s, 500ms)", s);
	if (ms == 0 || ms > UINT32_MAX)
		return cli_usage(cmd, "--lease-break-time: '%s' is out of range (1ms .. 49 days)", s);
	*out = (uint32_t)ms;
	return CLI_OK;
}

int cli_yes_no_arg(const char *cmd, const char *opt, const char *s, int *out)
{
	if (strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0)
		*out = 0;
	else
		return cli_usage(cmd, "%s: expected yes or no, not '%s'", opt, s);
	return CLI_OK;
}

int cli_size_arg(const char *cmd, const char *what, const char *s, uint64_t *out)
{
	int rc = cli_parse_size(s, out);
	if (rc < 0)
		return cli_usage(cmd, "%s: %s size '%s' (use bytes or a k/m/g/t suffix)", what,
				 rc == -ERANGE ? "too large a" : "bad", s);
	return CLI_OK;
}
