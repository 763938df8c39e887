/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease stat: every field of dxl_stat for one path. */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cli.h"

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	default: return "other";
	}
}

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("stat", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind != 2)
		return cli_usage("stat", argc - optind < 2 ? "missing POOL or PATH"
							     : "too many arguments");
	const char *pool_path = argv[optind], *path = argv[optind + 1];
	dxl_pool *pool;
	if (cli_open_pool("stat", pool_path, DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	struct dxl_stat st;
	int rc = dxl_lstat(pool, path, &st);
	if (rc < 0) {
		cli_lib_error("stat", path, rc);
		return cli_close_pool("stat", pool_path, pool, CLI_FAIL);
	}
	char mode[11], t[64], target[4096];
	printf("file:      %s", path);
	if (S_ISLNK(st.mode)) {
		ssize_t n = dxl_readlink(pool, path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	printf("\ntype:      %s\n", type_name(st.mode));
	printf("ino:       %llu\n", (unsigned long long)st.ino);
	if (S_ISCHR(st.mode) || S_ISBLK(st.mode))
		printf("device:    %u,%u\n", major((dev_t)st.rdev), minor((dev_t)st.rdev));
	printf("mode:      0%o (%s)\n", st.mode & 07777, cli_fmt_mode(mode, st.mode));
	printf("nlink:     %u\n", st.nlink);
	printf("uid:       %u\n", st.uid);
	printf("gid:       %u\n", st.gid);
	printf("size:      %llu\n", (unsigned long long)st.size);
	printf("allocated: %llu\n", (unsigned long long)st.allocated);
	printf("atime:     %s\n", cli_fmt_time(t, sizeof(t), &st.atime));
	printf("mtime:     %s\n", cli_fmt_time(t, sizeof(t), &st.mtime));
	printf("ctime:     %s\n", cli_fmt_time(t, sizeof(t), &st.ctime));
	printf("btime:     %s\n", cli_fmt_time(t, sizeof(t), &st.btime));
	return cli_close_pool("stat", pool_path, pool, CLI_OK);
}

const struct cli_cmd cli_cmd_stat = {
	.name = "stat",
	.run = run,
	.usage = "stat POOL PATH",
	.summary = "show every attribute of a file, directory or symlink",
	.help = "Prints one 'key: value' line each for file, type, ino, mode, nlink, uid,\n"
		"gid, size, allocated (bytes of storage mapped), atime, mtime, ctime, btime.\n"
		"A symlink is not followed.\n",
};
