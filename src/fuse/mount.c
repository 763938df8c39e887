/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mount driver: options, opening the pool, mounting, detaching once the
 * mount is usable, serving requests, and a clean shutdown on unmount or on
 * SIGTERM / SIGINT / SIGHUP.
 *
 * The pool is opened in the process that serves the mount (after the fork),
 * so the pool's runtime process table names the server, not a parent that
 * has already exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse_fs.h"
#include "internal.h"

enum { RUN_OK = 0, RUN_FAIL = 1, RUN_USAGE = 2 };

/* Defaults first; the user's -o list comes after them and wins. */
#define DXF_DEFAULT_OPTS                                                                  \
	"subtype=daxlease,default_permissions,entry_timeout=0,negative_timeout=0,"        \
	"attr_timeout=0"

/*
 * Split the user's -o list: our own options set ctx fields, everything else
 * is handed to libfuse (which rejects what it does not know).
 */
static int parse_opts(const char *list, struct dxf_ctx *c, char **fuse_opts)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (!list || !*list)
		return 0;
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "cached") == 0) {
			c->cached = true;
		} else if (strcmp(tok, "direct_io") == 0) {
			c->cached = false;
		} else if (strcmp(tok, "writeback_cache") == 0) {
			fprintf(stderr, "daxlease: mount: -o writeback_cache is not supported "
					"(writes must reach the pool at once)\n");
			rc = -EINVAL;
		} else {
			if (strcmp(tok, "ro") == 0)
				c->readonly = true;
			else if (strcmp(tok, "rw") == 0)
				c->readonly = false;
			if (fuse_opt_add_opt(fuse_opts, tok))
				rc = -ENOMEM;
		}
	}
	free(copy);
	return rc;
}

/* Tell the waiting parent how the mount went (one byte: 0 = mounted). */
static void notify(int *fd, char status)
{
	if (*fd < 0)
		return;
	while (write(*fd, &status, 1) < 0 && errno == EINTR)
		;
	close(*fd);
	*fd = -1;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int serve(const struct dxl_fuse_opts *o, int notify_fd)
{
	struct dxf_ctx c;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct dxl_statfs sf;
	struct fuse *f = NULL;
	struct fuse_session *se;
	char pool[PATH_MAX], dir[PATH_MAX], *opts = NULL, *user = NULL, *fsname = NULL;
	int status = RUN_FAIL, rc;

	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.lock, NULL);
	c.handles.next = c.handles.prev = &c.handles;
	c.debug = o->debug;
	c.uid = geteuid();
	c.gid = getegid();

	if (!realpath(o->pool, pool)) {
		fprintf(stderr, "daxlease: mount: %s: %s\n", o->pool, strerror(errno));
		goto out;
	}
	if (!realpath(o->dir, dir)) {
		fprintf(stderr, "daxlease: mount: %s: %s\n", o->dir, strerror(errno));
		goto out;
	}
	rc = parse_opts(o->options, &c, &user);
	if (rc < 0) {
		status = RUN_USAGE;
		goto out;
	}
	if (asprintf(&fsname, "fsname=%s", pool) < 0) {
		fsname = NULL;
		goto nomem;
	}
	if (fuse_opt_add_opt_escaped(&opts, fsname) || fuse_opt_add_opt(&opts, DXF_DEFAULT_OPTS) ||
	    (user && fuse_opt_add_opt(&opts, user)))
		goto nomem;
	if (fuse_opt_add_arg(&args, "daxlease") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (o->debug && fuse_opt_add_arg(&args, "-d")))
		goto nomem;

	rc = dxl_pool_open(pool, c.readonly ? DXL_POOL_RDONLY : 0, &c.pool);
	if (rc < 0) {
		fprintf(stderr, "daxlease: mount: %s: %s\n", o->pool,
			dxl_errmsg()[0] ? dxl_errmsg() : strerror(-rc));
		goto out;
	}
	rc = dxl_statfs(c.pool, &sf);
	if (rc < 0) {
		fprintf(stderr, "daxlease: mount: %s: %s\n", o->pool, dxl_errmsg());
		goto out;
	}
	c.unit = sf.unit;

	f = fuse_new(&args, dxf_operations(), sizeof(struct fuse_operations), &c);
	if (!f) {
		/* libfuse has said which option it did not like */
		fprintf(stderr, "daxlease: mount: bad mount options '%s'\n", opts);
		status = RUN_USAGE;
		goto out;
	}
	if (fuse_mount(f, dir) != 0) {
		fprintf(stderr, "daxlease: mount: cannot mount on %s (see the message above; "
				"is /dev/fuse usable here?)\n", o->dir);
		fuse_destroy(f);
		f = NULL;
		goto out;
	}
	se = fuse_get_session(f);
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "daxlease: mount: cannot install signal handlers\n");
		fuse_unmount(f);
		goto out;
	}

	/* Mounted: let the parent return, and leave the terminal. */
	if (notify_fd >= 0) {
		if (chdir("/") != 0) {
			/* harmless: we only keep the cwd busy */
		}
		detach_stdio();
		notify(&notify_fd, 0);
	}

	if (o->single_thread) {
		rc = fuse_loop(f);
	} else {
		struct fuse_loop_config *lc = fuse_loop_cfg_create();
		if (!lc) {
			rc = -ENOMEM;
		} else {
			fuse_loop_cfg_set_clone_fd(lc, 0);
			rc = fuse_loop_mt(f, lc);
			fuse_loop_cfg_destroy(lc);
		}
	}
	/* >0: the signal that stopped us (a clean stop); <0: a loop failure */
	status = rc < 0 ? RUN_FAIL : RUN_OK;
	if (rc < 0)
		fprintf(stderr, "daxlease: mount: %s: request loop failed: %s\n", o->dir,
			strerror(-rc));
	fuse_remove_signal_handlers(se);
	fuse_unmount(f);
	goto out;

nomem:
	fprintf(stderr, "daxlease: mount: out of memory\n");
out:
	if (f)
		fuse_destroy(f);
	if (c.pool) {
		/* files still open at a lazy unmount or a signal */
		dxf_close_all(&c);
		rc = dxl_pool_close(c.pool);
		if (rc < 0) {
			fprintf(stderr, "daxlease: mount: closing %s: %s\n", o->pool, dxl_errmsg());
			status = RUN_FAIL;
		}
	}
	notify(&notify_fd, 1);
	fuse_opt_free_args(&args);
	free(opts);
	free(user);
	free(fsname);
	pthread_mutex_destroy(&c.lock);
	return status;
}

int dxl_fuse_run(const struct dxl_fuse_opts *o)
{
	int pfd[2];
	pid_t pid;
	char st;
	ssize_t n;
	int wstatus;

	if (o->foreground || o->debug)
		return serve(o, -1);

	/*
	 * Background: the child mounts and serves; the parent waits for its
	 * one-byte report (or its exit) so that the command returns only once
	 * the mount is usable, and fails with the child's message otherwise.
	 */
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		fprintf(stderr, "daxlease: mount: pipe: %s\n", strerror(errno));
		return RUN_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "daxlease: mount: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return RUN_FAIL;
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid(); /* no controlling terminal: ^C and hangups are not ours */
		_exit(serve(o, pfd[1]));
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &st, 1);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == 1 && st == 0)
		return RUN_OK;
	/* the child has printed why; collect its status */
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
		return WEXITSTATUS(wstatus);
	return RUN_FAIL;
}
