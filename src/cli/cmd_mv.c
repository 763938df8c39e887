/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease mv: rename inside the pool, atomically replacing the target. */
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("mv", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind != 3)
		return cli_usage("mv", argc - optind < 3 ? "missing POOL, SRC or DST"
							  : "too many arguments");
	const char *pool_path = argv[optind], *src = argv[optind + 1];
	const char *dst = argv[optind + 2];
	dxl_pool *pool;
	if (cli_open_pool("mv", pool_path, 0, &pool))
		return CLI_FAIL;
	/* Like mv(1): an existing directory as DST means "into it". */
	char *into = NULL;
	struct dxl_stat st;
	if (dxl_stat(pool, dst, &st) == 0 && S_ISDIR(st.mode)) {
		into = cli_join_basename(dst, src);
		if (!into) {
			fprintf(stderr, "daxlease: mv: out of memory\n");
			return cli_close_pool("mv", pool_path, pool, CLI_FAIL);
		}
		dst = into;
	}
	int status = CLI_OK;
	int rc = dxl_rename(pool, src, dst, 0);
	if (rc < 0)
		status = cli_lib_error("mv", src, rc);
	free(into);
	return cli_close_pool("mv", pool_path, pool, status);
}

const struct cli_cmd cli_cmd_mv = {
	.name = "mv",
	.run = run,
	.usage = "mv POOL SRC DST",
	.summary = "rename a file or directory (an existing DST file is replaced atomically)",
	.help = "If DST is an existing directory, SRC moves into it under its own name.\n",
};
