/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease put: copy a local file into the pool, keeping its holes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct put {
	const char *local, *path;
	int fd;
	dxl_file *f;
	char *buf;
	struct cli_progress prog;
};

static int copy_range(struct put *p, uint64_t off, uint64_t end)
{
	while (off < end) {
		size_t want = end - off < CLI_CHUNK ? (size_t)(end - off) : CLI_CHUNK;
		ssize_t n = pread(p->fd, p->buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cli_sys_error("put", p->local);
		if (n == 0)
			return CLI_OK; /* the local file shrank under us: copy what there was */
		ssize_t w = cli_pwrite_full(p->f, p->buf, (size_t)n, off);
		if (w != n)
			return cli_lib_error("put", p->path, w < 0 ? (int)w : -EIO);
		off += (uint64_t)n;
		cli_progress_add(&p->prog, (uint64_t)n);
	}
	return CLI_OK;
}

/* Walk the data segments only, so holes in LOCAL stay holes in the pool. */
static int copy_sparse(struct put *p, uint64_t size)
{
	uint64_t off = 0;
	while (off < size) {
		off_t data = lseek(p->fd, (off_t)off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0) /* no SEEK_DATA here: all of it is data */
			return copy_range(p, off, size);
		off_t hole = lseek(p->fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		cli_progress_add(&p->prog, (uint64_t)data - off);
		int rc = copy_range(p, (uint64_t)data, (uint64_t)hole);
		if (rc != CLI_OK)
			return rc;
		off = (uint64_t)hole;
	}
	cli_progress_add(&p->prog, size > off ? size - off : 0);
	int rc = dxl_ftruncate(p->f, size);
	return rc < 0 ? cli_lib_error("put", p->path, rc) : CLI_OK;
}

static int copy_stream(struct put *p)
{
	uint64_t off = 0;
	for (;;) {
		ssize_t n = read(p->fd, p->buf, CLI_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cli_sys_error("put", p->local);
		if (n == 0)
			return CLI_OK;
		ssize_t w = cli_pwrite_full(p->f, p->buf, (size_t)n, off);
		if (w != n)
			return cli_lib_error("put", p->path, w < 0 ? (int)w : -EIO);
		off += (uint64_t)n;
	}
}

static int put(dxl_pool *pool, struct put *p)
{
	struct stat lst;
	bool stream = strcmp(p->local, "-") == 0;
	p->fd = stream ? STDIN_FILENO : open(p->local, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &lst) < 0)
		return cli_sys_error("put", p->local);
	if (S_ISDIR(lst.st_mode)) {
		fprintf(stderr, "daxlease: put: %s: is a directory\n", p->local);
		return CLI_FAIL;
	}
	stream = stream || !S_ISREG(lst.st_mode);
	mode_t mode = stream ? 0644 : (lst.st_mode & 0777);

	char *into = NULL;
	struct dxl_stat st;
	if (dxl_stat(pool, p->path, &st) == 0 && S_ISDIR(st.mode)) {
		into = cli_join_basename(p->path, stream ? "stdin" : p->local);
		if (!into)
			return cli_lib_error("put", p->path, -ENOMEM);
		p->path = into;
	}
	int status;
	int rc = dxl_open(pool, p->path, O_WRONLY | O_CREAT | O_TRUNC, mode, &p->f);
	if (rc < 0) {
		status = cli_lib_error("put", p->path, rc);
	} else {
		cli_progress_start(&p->prog, stream ? 0 : (uint64_t)lst.st_size);
		status = stream ? copy_stream(p) : copy_sparse(p, (uint64_t)lst.st_size);
		cli_progress_end(&p->prog);
		rc = dxl_close(p->f);
		if (rc < 0 && status == CLI_OK)
			status = cli_lib_error("put", p->path, rc);
	}
	free(into);
	return status;
}

static int run(int argc, char **argv)
{
	cli_getopt_reset();
	if (cli_getopt("put", argc, argv, "", NULL) != -1)
		return CLI_USAGE;
	if (argc - optind != 3)
		return cli_usage("put", argc - optind < 3 ? "missing POOL, LOCAL or PATH"
							   : "too many arguments");
	struct put p = {.local = argv[optind + 1], .path = argv[optind + 2], .fd = -1};
	p.buf = malloc(CLI_CHUNK);
	if (!p.buf) {
		fprintf(stderr, "daxlease: put: out of memory\n");
		return CLI_FAIL;
	}
	dxl_pool *pool;
	int status = cli_open_pool("put", argv[optind], 0, &pool);
	if (status == CLI_OK)
		status = cli_close_pool("put", argv[optind], pool, put(pool, &p));
	if (p.fd > STDIN_FILENO)
		close(p.fd);
	free(p.buf);
	return status;
}

const struct cli_cmd cli_cmd_put = {
	.name = "put",
	.run = run,
	.usage = "put POOL LOCAL PATH",
	.summary = "copy a local file into the pool (LOCAL '-' reads standard input)",
	.help = "PATH is created or truncated, with LOCAL's permission bits; an existing\n"
		"directory as PATH means PATH/basename(LOCAL). Holes in LOCAL (SEEK_HOLE)\n"
		"stay holes. Copies in 1 MiB chunks, with progress when stderr is a terminal.\n",
};
