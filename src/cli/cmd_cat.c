/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease cat: a pool file to standard output. */
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("cat", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind < 2)
		return cli_usage("cat", "missing POOL or PATH");
	const char *pool_path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("cat", pool_path, DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	int status = CLI_OK;
	for (int i = optind + 1; i < argc && status == CLI_OK; i++) {
		dxl_file *f;
		int rc = dxl_open(pool, argv[i], O_RDONLY, 0, &f);
		if (rc < 0) {
			status = cli_lib_error("cat", argv[i], rc);
			break;
		}
		status = cli_copy_out("cat", argv[i], f, 0, STDOUT_FILENO, "stdout", 0);
		dxl_close(f);
	}
	return cli_close_pool("cat", pool_path, pool, status);
}

const struct cli_cmd cli_cmd_cat = {
	.name = "cat",
	.run = run,
	.usage = "cat POOL PATH...",
	.summary = "write pool files to standard output",
	.help = "",
};
