/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease remote HOST:PORT CMD ...: a served pool, from another process or machine. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "crc32c.h"

#ifdef DXL_HAVE_RDMA
#include "daxlease/rdma.h"

#define CHUNK (1u << 20)        /* one RDMA operation */
#define MIN_U64(a, b) ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))
#define LAYOUT_SPAN (64ull << 20) /* one layout of put/get */

static int rfail(const char *what, const char *path, int rc)
{
	return cli_lib_error(what, path, rc);
}

static int ls_one(void *arg, const struct dxl_dirent *e)
{
	printf("%s%s\n", e->name, e->type == DT_DIR ? "/" : "");
	return 0;
}

static int r_ls(dxl_remote *r, int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/";
	int rc = dxl_remote_readdir(r, path, ls_one, NULL);

	return rc ? rfail("remote ls", path, rc) : CLI_OK;
}

static void print_stat(const char *path, const struct dxl_stat *st)
{
	char mode[12];

	printf("%s: %s ino %" PRIu64 " size %" PRIu64 " allocated %" PRIu64 " nlink %u\n", path,
	       cli_fmt_mode(mode, st->mode), st->ino, st->size, st->allocated, st->nlink);
}

static int r_stat(dxl_remote *r, int argc, char **argv)
{
	struct dxl_stat st;
	int rc;

	if (argc != 1)
		return cli_usage("remote stat", "expected PATH");
	rc = dxl_remote_stat(r, argv[0], &st);
	if (rc)
		return rfail("remote stat", argv[0], rc);
	print_stat(argv[0], &st);
	return CLI_OK;
}

static int r_simple(dxl_remote *r, const char *cmd, int argc, char **argv)
{
	uint64_t size;
	int rc;

	if (strcmp(cmd, "truncate") == 0) {
		if (argc != 2 || cli_parse_size(argv[1], &size))
			return cli_usage("remote truncate", "expected PATH SIZE");
		rc = dxl_remote_truncate(r, argv[0], size);
	} else {
		if (argc != 1)
			return cli_usage("remote", "%s: expected PATH", cmd);
		if (strcmp(cmd, "mkdir") == 0) {
			rc = dxl_remote_mkdir(r, argv[0], 0755);
		} else {
			rc = dxl_remote_unlink(r, argv[0]);
			if (rc == -EISDIR || rc == -EPERM)
				rc = dxl_remote_rmdir(r, argv[0]);
		}
	}
	return rc ? rfail(cmd, argv[0], rc) : CLI_OK;
}

/* put/get move data through layouts of at most LAYOUT_SPAN bytes */
static int r_put(dxl_remote *r, int argc, char **argv)
{
	struct cli_progress prog;
	struct stat st;
	dxl_rfile *f = NULL;
	char *buf;
	uint64_t off = 0;
	int fd, rc = 0;

	if (argc != 2)
		return cli_usage("remote put", "expected LOCAL PATH");
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return cli_sys_error("remote put", argv[0]);
	buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		return cli_usage("remote put", "out of memory");
	}
	rc = dxl_remote_open(r, argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644, &f);
	cli_progress_start(&prog, (uint64_t)st.st_size);
	while (rc == 0 && off < (uint64_t)st.st_size) {
		uint64_t span = MIN_U64(LAYOUT_SPAN, (uint64_t)st.st_size - off), done = 0;
		dxl_layout *l = NULL;
		rc = dxl_remote_layout_get(f, off, span, DXL_LAYOUT_RW, &l);
		while (rc == 0 && done < span) {
			size_t n = (size_t)MIN_U64(CHUNK, span - done);
			ssize_t got = pread(fd, buf, n, (off_t)(off + done));
			ssize_t w;
			if (got != (ssize_t)n) {
				rc = -(got < 0 ? errno : EIO);
				break;
			}
			w = dxl_remote_write(l, buf, n, off + done);
			if (w < 0)
				rc = (int)w;
			done += n;
			cli_progress_add(&prog, n);
		}
		if (rc == 0)
			rc = dxl_remote_commit(f, off, span);
		if (l) {
			int rr = dxl_remote_layout_return(l);
			rc = rc ? rc : rr;
		}
		off += span;
	}
	cli_progress_end(&prog);
	if (f) {
		int cr = dxl_remote_fclose(f);
		rc = rc ? rc : cr;
	}
	free(buf);
	close(fd);
	return rc ? rfail("remote put", argv[1], rc) : CLI_OK;
}

static int r_get(dxl_remote *r, int argc, char **argv)
{
	struct cli_progress prog;
	struct dxl_stat st;
	dxl_rfile *f = NULL;
	char *buf;
	uint64_t off = 0;
	int fd, rc;

	if (argc != 2)
		return cli_usage("remote get", "expected PATH LOCAL");
	buf = malloc(CHUNK);
	if (!buf)
		return cli_usage("remote get", "out of memory");
	rc = dxl_remote_open(r, argv[0], O_RDONLY, 0, &f);
	if (rc == 0)
		rc = dxl_remote_fstat(f, &st);
	if (rc) {
		free(buf);
		if (f)
			dxl_remote_fclose(f);
		return rfail("remote get", argv[0], rc);
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(buf);
		dxl_remote_fclose(f);
		return cli_sys_error("remote get", argv[1]);
	}
	cli_progress_start(&prog, st.size);
	while (rc == 0 && off < st.size) {
		uint64_t span = MIN_U64(LAYOUT_SPAN, st.size - off), done = 0;
		dxl_layout *l = NULL;
		rc = dxl_remote_layout_get(f, off, span, 0, &l);
		while (rc == 0 && done < span) {
			size_t n = (size_t)MIN_U64(CHUNK, span - done);
			ssize_t got = dxl_remote_read(l, buf, n, off + done);
			if (got < 0)
				rc = (int)got;
			else if (cli_write_all(fd, buf, n))
				rc = -errno;
			done += n;
			cli_progress_add(&prog, n);
		}
		if (l) {
			int rr = dxl_remote_layout_return(l);
			rc = rc ? rc : rr;
		}
		off += span;
	}
	cli_progress_end(&prog);
	dxl_remote_fclose(f);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	free(buf);
	return rc ? rfail("remote get", argv[0], rc) : CLI_OK;
}

/* ------------------------------------------------------------- io */

struct rio {
	dxl_remote *r;
	dxl_rfile *f;
	dxl_layout *l;
	const char *path;
	char *buf;
	int recalled;
};

static void on_recall(dxl_layout *l, void *arg)
{
	struct rio *io = arg;
	uint64_t off, len;

	dxl_layout_range(l, &off, &len);
	io->recalled = 1;
	printf("recall: layout of bytes %" PRIu64 "..%" PRIu64 "\n", off, off + len);
	fflush(stdout);
}

static int need_layout(struct rio *io, const char *cmd)
{
	if (!io->l) {
		fprintf(stderr, "daxlease: remote io: %s: no layout (use 'layout OFF LEN' first)\n", cmd);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int two_sizes(const char *cmd, int argc, char **argv, uint64_t *a, uint64_t *b)
{
	if (argc != 2 || cli_parse_size(argv[0], a) || cli_parse_size(argv[1], b))
		return cli_usage("remote io", "%s: expected OFF LEN", cmd);
	return CLI_OK;
}

static int io_data(struct rio *io, const char *cmd, int argc, char **argv)
{
	uint64_t off, len, done = 0;
	uint32_t crc = 0;
	int pattern = 0xcd, verbose = 0, w = strcmp(cmd, "pwrite") == 0;
	int rc;

	while (argc > 0 && argv[0][0] == '-') {
		if (strcmp(argv[0], "-S") == 0 && argc > 1) {
			pattern = (int)strtol(argv[1], NULL, 0) & 0xff;
			argc -= 2, argv += 2;
		} else if (strcmp(argv[0], "-v") == 0) {
			verbose = 1;
			argc--, argv++;
		} else {
			return cli_usage("remote io", "%s: unknown option %s", cmd, argv[0]);
		}
	}
	if ((rc = two_sizes(cmd, argc, argv, &off, &len)) || (rc = need_layout(io, cmd)))
		return rc;
	while (done < len) {
		size_t n = (size_t)MIN_U64(CHUNK, len - done);
		ssize_t got;
		if (w)
			memset(io->buf, pattern, n);
		got = w ? dxl_remote_write(io->l, io->buf, n, off + done)
			: dxl_remote_read(io->l, io->buf, n, off + done);
		if (got < 0) {
			fprintf(stderr, "daxlease: remote io: %s: %s\n", cmd, dxl_errmsg());
			return CLI_FAIL;
		}
		if (!w)
			crc = cli_crc32c(crc, io->buf, n);
		if (verbose)
			for (size_t i = 0; i < n; i += 16)
				printf("%08" PRIx64 ": %02x\n", off + done + i, (unsigned char)io->buf[i]);
		done += n;
	}
	if (w)
		printf("wrote %" PRIu64 " bytes at %" PRIu64 " (remote, one-sided)\n", len, off);
	else if (strcmp(cmd, "crc") == 0)
		printf("crc32c %08x over %" PRIu64 " bytes at %" PRIu64 "\n", crc, len, off);
	else
		printf("read %" PRIu64 " bytes at %" PRIu64 " (remote, one-sided)\n", len, off);
	return CLI_OK;
}

static int io_wait_recall(struct rio *io, int argc, char **argv)
{
	uint64_t ms = 60000;
	int keep = 0, rc;
	int64_t until;
	struct timespec ts;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0)
			keep = 1;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			if (cli_parse_seconds_ms(argv[++i], &ms))
				return cli_usage("remote io", "wait-recall: -t SECONDS");
		} else
			return cli_usage("remote io", "wait-recall: expected [-t SECONDS] [-n]");
	}
	if ((rc = need_layout(io, "wait-recall")))
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)ms;
	for (;;) {
		int st = dxl_layout_state(io->l);
		if (st == DXL_LAYOUT_REVOKED) {
			printf("revoked: the server closed the layout\n");
			return CLI_OK;
		}
		if (io->recalled || st == DXL_LAYOUT_RECALLED)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= until) {
			fprintf(stderr, "daxlease: remote io: wait-recall: no recall in time\n");
			return CLI_FAIL;
		}
		rc = dxl_remote_poll(io->r, 100);
		if (rc < 0) {
			fprintf(stderr, "daxlease: remote io: wait-recall: %s\n", dxl_errmsg());
			return CLI_FAIL;
		}
	}
	if (keep) {
		printf("recalled: keeping the layout (it will be revoked)\n");
		return CLI_OK;
	}
	rc = dxl_remote_layout_return(io->l);
	io->l = NULL;
	io->recalled = 0;
	if (rc) {
		fprintf(stderr, "daxlease: remote io: return: %s\n", dxl_errmsg());
		return CLI_FAIL;
	}
	printf("returned the layout\n");
	return CLI_OK;
}

static int io_one(struct rio *io, char *line)
{
	char *argv[16], *save = NULL, *tok;
	int argc = 0, rc;
	uint64_t a, b;
	const char *cmd;

	for (tok = strtok_r(line, " \t", &save); tok && argc < 16; tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc == 0)
		return CLI_OK;
	cmd = argv[0];
	argc--;
	if (strcmp(cmd, "layout") == 0) {
		unsigned fl = 0;
		char **av = argv + 1;
		if (argc > 0 && strcmp(av[0], "-w") == 0)
			fl = DXL_LAYOUT_RW, av++, argc--;
		if ((rc = two_sizes(cmd, argc, av, &a, &b)))
			return rc;
		if (io->l) {
			dxl_remote_layout_return(io->l);
			io->l = NULL;
		}
		rc = dxl_remote_layout_get(io->f, a, b, fl, &io->l);
		if (rc) {
			io->l = NULL;
			fprintf(stderr, "daxlease: remote io: layout: %s\n", dxl_errmsg());
			return CLI_FAIL;
		}
		printf("layout %s of bytes %" PRIu64 "..%" PRIu64 "\n", fl ? "rw" : "ro", a, a + b);
		return CLI_OK;
	}
	if (!strcmp(cmd, "pwrite") || !strcmp(cmd, "pread") || !strcmp(cmd, "crc"))
		return io_data(io, cmd, argc, argv + 1);
	if (strcmp(cmd, "wait-recall") == 0)
		return io_wait_recall(io, argc, argv + 1);
	if (strcmp(cmd, "return") == 0) {
		if ((rc = need_layout(io, cmd)))
			return rc;
		rc = dxl_remote_layout_return(io->l);
		io->l = NULL;
	} else if (strcmp(cmd, "commit") == 0) {
		a = b = 0;
		if (argc && (rc = two_sizes(cmd, argc, argv + 1, &a, &b)))
			return rc;
		rc = dxl_remote_commit(io->f, a, b);
		if (rc == 0)
			printf("committed\n");
	} else if (strcmp(cmd, "truncate") == 0) {
		if (argc != 1 || cli_parse_size(argv[1], &a))
			return cli_usage("remote io", "truncate: expected SIZE");
		rc = dxl_remote_ftruncate(io->f, a);
	} else if (strcmp(cmd, "punch") == 0) {
		if ((rc = two_sizes(cmd, argc, argv + 1, &a, &b)))
			return rc;
		rc = dxl_remote_fallocate(io->f, 0x01 | 0x02, a, b);
	} else if (strcmp(cmd, "stat") == 0) {
		struct dxl_stat st;
		rc = dxl_remote_fstat(io->f, &st);
		if (rc == 0)
			print_stat(io->path, &st);
	} else if (strcmp(cmd, "sleep") == 0) {
		if (argc != 1 || cli_parse_seconds_ms(argv[1], &a))
			return cli_usage("remote io", "sleep: expected SECONDS");
		rc = dxl_remote_poll(io->r, (int)a);
		rc = rc < 0 ? rc : 0;
	} else {
		return cli_usage("remote io", "unknown command '%s'", cmd);
	}
	if (rc) {
		fprintf(stderr, "daxlease: remote io: %s: %s\n", cmd, dxl_errmsg());
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int r_io(dxl_remote *r, int argc, char **argv)
{
	struct rio io = {.r = r};
	int i, rc = CLI_OK, opened = 0, flags = O_RDWR | O_CREAT;

	if (argc < 1)
		return cli_usage("remote io", "expected PATH -c CMD ...");
	io.path = argv[0];
	io.buf = malloc(CHUNK);
	if (!io.buf)
		return CLI_FAIL;
	dxl_remote_set_recall(r, on_recall, &io);
	for (i = 1; i < argc && rc == CLI_OK; i++) {
		char *line;
		if (strcmp(argv[i], "-r") == 0) {
			flags = O_RDONLY;
			continue;
		}
		if (strcmp(argv[i], "-c") != 0 || i + 1 >= argc) {
			rc = cli_usage("remote io", "expected -c CMD, got '%s'", argv[i]);
			break;
		}
		if (!opened) {
			int orc = dxl_remote_open(r, io.path, flags, 0644, &io.f);
			if (orc) {
				rc = rfail("remote io", io.path, orc);
				break;
			}
			opened = 1;
		}
		line = strdup(argv[++i]);
		rc = line ? io_one(&io, line) : CLI_FAIL;
		free(line);
		fflush(stdout);
	}
	if (io.l)
		dxl_remote_layout_return(io.l);
	if (io.f)
		dxl_remote_fclose(io.f);
	free(io.buf);
	return rc;
}

static int run_remote(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key-file", required_argument, 0, 'k'}, {"provider", required_argument, 0, 'p'},
		{"timeout", required_argument, 0, 't'},  {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	struct dxl_remote_opts o = {.version = DXL_REMOTE_OPTS_VERSION};
	const char *addr, *cmd;
	dxl_remote *r;
	uint64_t v;
	int c, rc;

	/* options stop at the command: its own arguments may start with '-' */
	while ((c = cli_getopt("remote", argc, argv, "+k:p:t:", longopts)) != -1) {
		switch (c) {
		case 'k': o.key_file = optarg; break;
		case 'p': o.provider = optarg; break;
		case 't':
			if (cli_parse_duration_ms(optarg, &v) || v == 0 || v > UINT32_MAX)
				return cli_usage("remote", "--timeout: expected a duration, e.g. 10s");
			o.timeout_ms = (uint32_t)v;
			break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind < 2)
		return cli_usage("remote", "expected HOST:PORT CMD [ARGS...]");
	if (!o.key_file)
		return cli_usage("remote", "--key-file FILE is required");
	addr = argv[optind];
	cmd = argv[optind + 1];
	argc -= optind + 2;
	argv += optind + 2;
	if (strcmp(cmd, "ls") && strcmp(cmd, "stat") && strcmp(cmd, "put") && strcmp(cmd, "get") &&
	    strcmp(cmd, "rm") && strcmp(cmd, "mkdir") && strcmp(cmd, "truncate") && strcmp(cmd, "io"))
		return cli_usage("remote", "unknown command '%s'", cmd);
	rc = dxl_remote_connect(addr, &o, &r);
	if (rc)
		return cli_lib_error("remote", addr, rc);
	if (strcmp(cmd, "ls") == 0)
		rc = r_ls(r, argc, argv);
	else if (strcmp(cmd, "stat") == 0)
		rc = r_stat(r, argc, argv);
	else if (strcmp(cmd, "put") == 0)
		rc = r_put(r, argc, argv);
	else if (strcmp(cmd, "get") == 0)
		rc = r_get(r, argc, argv);
	else if (strcmp(cmd, "io") == 0)
		rc = r_io(r, argc, argv);
	else
		rc = r_simple(r, cmd, argc, argv);
	dxl_remote_close(r);
	return rc;
}
#else
static int run_remote(int argc, char **argv)
{
	fprintf(stderr, "daxlease: remote: this build has no RDMA layer\n");
	return CLI_FAIL;
}
#endif

const struct cli_cmd cli_cmd_remote = {
	.name = "remote",
	.run = run_remote,
	.usage = "remote [--key-file FILE] [--provider NAME] [--timeout DUR] HOST:PORT CMD [ARGS...]",
	.summary = "use a pool served by 'daxlease serve'",
	.help = "Commands (paths are inside the served pool):\n"
		"  ls [PATH]            list a directory\n"
		"  stat PATH            size, mode, inode\n"
		"  put LOCAL PATH       copy a local file in (one-sided RDMA writes, committed)\n"
		"  get PATH LOCAL       copy a file out (one-sided RDMA reads)\n"
		"  rm PATH              remove a file or an empty directory\n"
		"  mkdir PATH           make a directory\n"
		"  truncate PATH SIZE   set a file's size\n"
		"  io PATH [-r] -c CMD [-c CMD ...]   commands on one file (created if need be;\n"
		"                       -r opens it read-only):\n"
		"      layout [-w] OFF LEN    get a layout (-w: writable) of the range\n"
		"      pwrite [-S BYTE] OFF LEN, pread [-v] OFF LEN, crc OFF LEN\n"
		"                             one-sided I/O through the layout\n"
		"      commit [OFF LEN]       make written data durable on the server\n"
		"      return                 give the layout back\n"
		"      wait-recall [-t SECONDS] [-n]\n"
		"                             wait for the server to recall the layout, then\n"
		"                             return it (-n: keep it, and be revoked)\n"
		"      truncate SIZE, punch OFF LEN, stat, sleep SECONDS\n\n"
		"  -k, --key-file FILE  the key the server was started with (mode 0600)\n"
		"  -p, --provider NAME  libfabric provider (default $DXL_FI_PROVIDER or tcp;ofi_rxm)\n"
		"  -t, --timeout DUR    a request unanswered this long fails (default 10s)\n",
};
