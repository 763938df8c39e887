/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease mkdir: create directories, with -p every missing parent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int is_dir(dxl_pool *pool, const char *path)
{
	struct dxl_stat st;
	return dxl_stat(pool, path, &st) == 0 && S_ISDIR(st.mode);
}

static int mkdir_parents(dxl_pool *pool, const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int rc = 0;
	/* Create each prefix in turn; an existing directory is fine, anything else is not. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (s > p && s[-1] != '/') {
			rc = dxl_mkdir(pool, p, 0755);
			if (rc == -EEXIST && is_dir(pool, p))
				rc = 0;
		}
		*s = saved;
		if (rc < 0 || saved == '\0')
			break;
	}
	free(p);
	return rc;
}

static int run(int argc, char **argv)
{
	bool parents = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("mkdir", argc, argv, "p", NULL)) != -1) {
		if (c != 'p')
			return CLI_USAGE;
		parents = true;
	}
	if (argc - optind < 2)
		return cli_usage("mkdir", "missing POOL or PATH");
	const char *pool_path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("mkdir", pool_path, 0, &pool))
		return CLI_FAIL;
	int status = CLI_OK;
	for (int i = optind + 1; i < argc; i++) {
		int rc = parents ? mkdir_parents(pool, argv[i]) : dxl_mkdir(pool, argv[i], 0755);
		if (rc < 0)
			status = cli_lib_error("mkdir", argv[i], rc);
	}
	return cli_close_pool("mkdir", pool_path, pool, status);
}

const struct cli_cmd cli_cmd_mkdir = {
	.name = "mkdir",
	.run = run,
	.usage = "mkdir [-p] POOL PATH...",
	.summary = "create directories (mode 0755)",
	.help = "  -p   create missing parents too; an existing directory is not an error\n",
};
