/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease get: copy a pool file out to a local file (or '-' for stdout). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_copy_out(const char *cmd, const char *path, dxl_file *f, uint64_t size, int fd,
		 const char *local, unsigned flags)
{
	struct stat lst;
	/* Only a file we opened ourselves: seeking a redirected stdout (O_APPEND) would not make holes. */
	bool sparse = (flags & CLI_COPY_SPARSE) && fstat(fd, &lst) == 0 && S_ISREG(lst.st_mode);
	bool progress = flags & CLI_COPY_PROGRESS;
	char *buf = malloc(CLI_CHUNK);
	if (!buf) {
		fprintf(stderr, "daxlease: %s: out of memory\n", cmd);
		return CLI_FAIL;
	}
	struct cli_progress prog;
	cli_progress_start(&prog, size);
	prog.enabled = prog.enabled && progress;
	int status = CLI_OK;
	uint64_t off = 0;
	for (;;) {
		ssize_t n = cli_pread_full(f, buf, CLI_CHUNK, off);
		if (n < 0) {
			status = cli_lib_error(cmd, path, (int)n);
			break;
		}
		if (n == 0)
			break;
		if (sparse && cli_all_zero(buf, (size_t)n)) {
			if (lseek(fd, n, SEEK_CUR) < 0) {
				status = cli_sys_error(cmd, local);
				break;
			}
		} else if (cli_write_all(fd, buf, (size_t)n) < 0) {
			status = cli_sys_error(cmd, local);
			break;
		}
		off += (uint64_t)n;
		cli_progress_add(&prog, (uint64_t)n);
	}
	cli_progress_end(&prog);
	/* A skipped zero tail leaves the file short: set its length explicitly. */
	if (status == CLI_OK && sparse && ftruncate(fd, (off_t)off) < 0)
		status = cli_sys_error(cmd, local);
	free(buf);
	return status;
}

static int get(dxl_pool *pool, const char *path, const char *local)
{
	dxl_file *f;
	int rc = dxl_open(pool, path, O_RDONLY, 0, &f);
	if (rc < 0)
		return cli_lib_error("get", path, rc);
	struct dxl_stat st;
	rc = dxl_fstat(f, &st);
	if (rc < 0) {
		cli_lib_error("get", path, rc);
		dxl_close(f);
		return CLI_FAIL;
	}
	bool to_stdout = strcmp(local, "-") == 0;
	int fd = to_stdout ? STDOUT_FILENO
			   : open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.mode & 0777);
	int status;
	if (fd < 0) {
		status = cli_sys_error("get", local);
	} else {
		status = cli_copy_out("get", path, f, st.size, fd, local,
				      to_stdout ? 0 : CLI_COPY_SPARSE | CLI_COPY_PROGRESS);
		if (!to_stdout && close(fd) < 0 && status == CLI_OK)
			status = cli_sys_error("get", local);
	}
	dxl_close(f);
	return status;
}

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("get", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind != 3)
		return cli_usage("get", argc - optind < 3 ? "missing POOL, PATH or LOCAL"
							   : "too many arguments");
	dxl_pool *pool;
	if (cli_open_pool("get", argv[optind], DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	int status = get(pool, argv[optind + 1], argv[optind + 2]);
	return cli_close_pool("get", argv[optind], pool, status);
}

const struct cli_cmd cli_cmd_get = {
	.name = "get",
	.run = run,
	.usage = "get POOL PATH LOCAL",
	.summary = "copy a pool file out to a local file (LOCAL '-' writes standard output)",
	.help = "LOCAL is created or truncated. All-zero 1 MiB chunks become holes in LOCAL.\n"
		"Progress is shown when stderr is a terminal.\n",
};
