/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease rm: remove files, symlinks and (with -r) whole trees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

struct names {
	char **v;
	size_t n, cap;
};

static int push(struct names *ns, const char *dir, const char *name)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 32;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	size_t dl = strlen(dir);
	char *p = malloc(dl + strlen(name) + 2);
	if (!p)
		return -ENOMEM;
	sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
	ns->v[ns->n++] = p;
	return 0;
}

static void free_names(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int remove_path(dxl_pool *pool, const char *path, bool recursive, bool force);

/*
 * Read the whole directory before removing anything: removing entries while
 * iterating a hash-ordered directory could skip some of them.
 */
static int remove_tree(dxl_pool *pool, const char *path, bool force)
{
	dxl_dir *d;
	int rc = dxl_opendir(pool, path, &d);
	if (rc < 0)
		return cli_lib_error("rm", path, rc);
	struct names ns = {0};
	struct dxl_dirent ent;
	while ((rc = dxl_readdir(d, &ent)) == 1)
		if ((rc = push(&ns, path, ent.name)) < 0)
			break;
	dxl_closedir(d);
	if (rc < 0) {
		free_names(&ns);
		return cli_lib_error("rm", path, rc);
	}
	int status = CLI_OK;
	for (size_t i = 0; i < ns.n; i++)
		if (remove_path(pool, ns.v[i], true, force) != CLI_OK)
			status = CLI_FAIL;
	free_names(&ns);
	if (status != CLI_OK)
		return status;
	rc = dxl_rmdir(pool, path);
	if (rc < 0 && !(force && rc == -ENOENT))
		return cli_lib_error("rm", path, rc);
	return CLI_OK;
}

static int remove_path(dxl_pool *pool, const char *path, bool recursive, bool force)
{
	struct dxl_stat st;
	int rc = dxl_lstat(pool, path, &st);
	if (rc == -ENOENT && force)
		return CLI_OK;
	if (rc < 0)
		return cli_lib_error("rm", path, rc);
	if (S_ISDIR(st.mode)) {
		if (!recursive) {
			fprintf(stderr, "daxlease: rm: %s: is a directory (use -r)\n", path);
			return CLI_FAIL;
		}
		return remove_tree(pool, path, force);
	}
	rc = dxl_unlink(pool, path);
	if (rc < 0 && !(force && rc == -ENOENT))
		return cli_lib_error("rm", path, rc);
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	bool recursive = false, force = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("rm", argc, argv, "rRf", NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'R': recursive = true; break;
		case 'f': force = true; break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind < 2)
		return cli_usage("rm", "missing POOL or PATH");
	const char *pool_path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("rm", pool_path, 0, &pool))
		return CLI_FAIL;
	int status = CLI_OK;
	for (int i = optind + 1; i < argc; i++) {
		const char *p = argv[i];
		if (strspn(p, "/") == strlen(p)) {
			fprintf(stderr, "daxlease: rm: %s: refusing to remove the root directory\n", p);
			status = CLI_FAIL;
			continue;
		}
		if (remove_path(pool, p, recursive, force) != CLI_OK)
			status = CLI_FAIL;
	}
	return cli_close_pool("rm", pool_path, pool, status);
}

const struct cli_cmd cli_cmd_rm = {
	.name = "rm",
	.run = run,
	.usage = "rm [-r] [-f] POOL PATH...",
	.summary = "remove files, symlinks and directories",
	.help = "  -r, -R   remove directories and everything below them\n"
		"  -f       a missing PATH is not an error\n",
};
