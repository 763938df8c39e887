/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease cp: copy inside the pool, sharing blocks with --reflink. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"

/* Plain copy; all-zero chunks are skipped, so they stay (or become) holes. */
static int copy_data(dxl_file *src, dxl_file *dst, uint64_t size, const char *spath,
		     const char *dpath)
{
	char *buf = malloc(CLI_CHUNK);
	if (!buf)
		return cli_lib_error("cp", dpath, -ENOMEM);
	struct cli_progress prog;
	cli_progress_start(&prog, size);
	int status = CLI_OK;
	for (uint64_t off = 0;;) {
		ssize_t n = cli_pread_full(src, buf, CLI_CHUNK, off);
		if (n < 0) {
			status = cli_lib_error("cp", spath, (int)n);
			break;
		}
		if (n == 0)
			break;
		if (!cli_all_zero(buf, (size_t)n)) {
			ssize_t w = cli_pwrite_full(dst, buf, (size_t)n, off);
			if (w != n) {
				status = cli_lib_error("cp", dpath, w < 0 ? (int)w : -EIO);
				break;
			}
		}
		off += (uint64_t)n;
		cli_progress_add(&prog, (uint64_t)n);
	}
	cli_progress_end(&prog);
	free(buf);
	if (status == CLI_OK) {
		int rc = dxl_ftruncate(dst, size);
		if (rc < 0)
			status = cli_lib_error("cp", dpath, rc);
	}
	return status;
}

static int cp(dxl_pool *pool, const char *spath, const char *dpath, bool reflink)
{
	dxl_file *src, *dst;
	struct dxl_stat sst, dst_st;
	int rc = dxl_open(pool, spath, O_RDONLY, 0, &src);
	if (rc == 0)
		rc = dxl_fstat(src, &sst);
	else
		src = NULL;
	if (rc < 0) {
		if (src)
			dxl_close(src);
		return cli_lib_error("cp", spath, rc);
	}
	char *into = NULL;
	int status = CLI_OK;
	if (dxl_stat(pool, dpath, &dst_st) == 0) {
		if (S_ISDIR(dst_st.mode)) {
			into = cli_join_basename(dpath, spath);
			dpath = into ? into : dpath;
		} else if (dst_st.ino == sst.ino) {
			/* Opening DST with O_TRUNC would destroy SRC. */
			fprintf(stderr, "daxlease: cp: %s and %s are the same file\n", spath, dpath);
			status = CLI_FAIL;
		}
	}
	if (status == CLI_OK) {
		rc = dxl_open(pool, dpath, O_RDWR | O_CREAT | O_TRUNC, sst.mode & 0777, &dst);
		if (rc < 0) {
			status = cli_lib_error("cp", dpath, rc);
		} else {
			if (!reflink) {
				status = copy_data(src, dst, sst.size, spath, dpath);
			} else if (sst.size) {
				rc = dxl_reflink(src, 0, dst, 0, sst.size);
				if (rc < 0)
					status = cli_lib_error("cp", dpath, rc);
			}
			rc = dxl_close(dst);
			if (rc < 0 && status == CLI_OK)
				status = cli_lib_error("cp", dpath, rc);
		}
	}
	dxl_close(src);
	free(into);
	return status;
}

static const struct option longopts[] = {
	{"reflink", no_argument, NULL, 'r'},
	{0, 0, 0, 0},
};

static int run(int argc, char **argv)
{
	bool reflink = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("cp", argc, argv, "", longopts)) != -1) {
		if (c != 'r')
			return CLI_USAGE;
		reflink = true;
	}
	if (argc - optind != 3)
		return cli_usage("cp", argc - optind < 3 ? "missing POOL, SRC or DST"
							  : "too many arguments");
	dxl_pool *pool;
	if (cli_open_pool("cp", argv[optind], 0, &pool))
		return CLI_FAIL;
	int status = cp(pool, argv[optind + 1], argv[optind + 2], reflink);
	return cli_close_pool("cp", argv[optind], pool, status);
}

const struct cli_cmd cli_cmd_cp = {
	.name = "cp",
	.run = run,
	.usage = "cp [--reflink] POOL SRC DST",
	.summary = "copy a file inside the pool; --reflink shares its blocks (copy on write)",
	.help = "  --reflink   share SRC's storage with DST; either file's later writes\n"
		"              copy the blocks they touch, the other file keeps its data\n"
		"DST is created or truncated with SRC's permission bits; an existing\n"
		"directory as DST means DST/basename(SRC). Without --reflink the data is\n"
		"copied and all-zero 1 MiB chunks are left as holes.\n",
};
