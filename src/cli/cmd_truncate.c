/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease truncate: set a pool file's size. */
#include "cli.h"

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("truncate", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind != 3)
		return cli_usage("truncate", argc - optind < 3 ? "missing POOL, PATH or SIZE"
								: "too many arguments");
	uint64_t size;
	if (cli_size_arg("truncate", "SIZE", argv[optind + 2], &size))
		return CLI_USAGE;
	dxl_pool *pool;
	if (cli_open_pool("truncate", argv[optind], 0, &pool))
		return CLI_FAIL;
	int status = CLI_OK;
	int rc = dxl_truncate(pool, argv[optind + 1], size);
	if (rc < 0)
		status = cli_lib_error("truncate", argv[optind + 1], rc);
	return cli_close_pool("truncate", argv[optind], pool, status);
}

const struct cli_cmd cli_cmd_truncate = {
	.name = "truncate",
	.run = run,
	.usage = "truncate POOL PATH SIZE",
	.summary = "shrink or extend an existing file (extension reads as zeros)",
	.help = "",
};
