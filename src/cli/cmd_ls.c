/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease ls: list a directory, sorted by name, optionally in ls -l form. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

struct entry {
	char *name;
	char *path; /* inside the pool, for stat and readlink */
	struct dxl_stat st;
};

struct listing {
	struct entry *v;
	size_t n, cap;
};

static int add(struct listing *l, const char *name, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct entry *e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->path = strdup(path);
	if (!e->name || !e->path) {
		free(e->name);
		free(e->path);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static void free_listing(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
	}
	free(l->v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static char *child_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	char *p = malloc(dl + strlen(name) + 2);
	if (p)
		sprintf(p, "%s%s%s", dir, slash ? "" : "/", name);
	return p;
}

/* The pool's paths need not know "..": take the parent lexically. */
static char *parent_path(const char *dir)
{
	char *p = malloc(strlen(dir) + 2);
	if (!p)
		return NULL;
	strcpy(p, dir[0] == '/' ? dir : "/");
	if (dir[0] != '/')
		strcat(p, dir);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	while (n > 1 && p[n - 1] != '/')
		n--;
	while (n > 1 && p[n - 1] == '/')
		n--;
	p[n] = '\0';
	return p;
}

static int read_dir(dxl_pool *pool, const char *dir, bool all, struct listing *l)
{
	dxl_dir *d;
	int rc = dxl_opendir(pool, dir, &d);
	if (rc < 0)
		return rc;
	if (all) {
		char *parent = parent_path(dir);
		rc = parent ? add(l, ".", dir) : -ENOMEM;
		if (rc == 0)
			rc = add(l, "..", parent);
		free(parent);
	}
	struct dxl_dirent ent;
	while (rc == 0 && (rc = dxl_readdir(d, &ent)) == 1) {
		rc = 0;
		if (!all && ent.name[0] == '.')
			continue;
		char *p = child_path(dir, ent.name);
		rc = p ? add(l, ent.name, p) : -ENOMEM;
		free(p);
	}
	int crc = dxl_closedir(d);
	return rc < 0 ? rc : crc;
}

static int num_width(unsigned long long v)
{
	char b[24];
	return snprintf(b, sizeof(b), "%llu", v);
}

static void print_long(dxl_pool *pool, struct listing *l)
{
	int wl = 1, wu = 1, wg = 1, ws = 1;
	for (size_t i = 0; i < l->n; i++) {
		const struct dxl_stat *s = &l->v[i].st;
		wl = num_width(s->nlink) > wl ? num_width(s->nlink) : wl;
		wu = num_width(s->uid) > wu ? num_width(s->uid) : wu;
		wg = num_width(s->gid) > wg ? num_width(s->gid) : wg;
		ws = num_width(s->size) > ws ? num_width(s->size) : ws;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		char mode[11], when[32];
		struct tm tm;
		time_t t = e->st.mtime.tv_sec;
		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		else
			snprintf(when, sizeof(when), "%lld", (long long)t);
		printf("%s %*u %*u %*u %*llu %s %s", cli_fmt_mode(mode, e->st.mode), wl,
		       e->st.nlink, wu, e->st.uid, wg, e->st.gid, ws,
		       (unsigned long long)e->st.size, when, e->name);
		if (S_ISLNK(e->st.mode)) {
			char target[4096];
			ssize_t n = dxl_readlink(pool, e->path, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				printf(" -> %s", target);
			}
		}
		putchar('\n');
	}
}

static int list(dxl_pool *pool, const char *path, bool lng, bool all)
{
	struct listing l = {0};
	struct dxl_stat st;
	int rc = dxl_lstat(pool, path, &st);
	/* Like ls, a symlink named on the command line is followed unless -l. */
	if (rc == 0 && S_ISLNK(st.mode) && !lng) {
		struct dxl_stat target;
		if (dxl_stat(pool, path, &target) == 0)
			st = target;
	}
	if (rc < 0)
		return cli_lib_error("ls", path, rc);
	if (S_ISDIR(st.mode))
		rc = read_dir(pool, path, all, &l);
	else
		rc = add(&l, path, path);
	if (rc < 0) {
		free_listing(&l);
		return cli_lib_error("ls", path, rc);
	}
	if (l.n) /* an empty directory has no array (qsort's is nonnull) */
		qsort(l.v, l.n, sizeof(*l.v), by_name);
	int status = CLI_OK;
	if (lng) {
		for (size_t i = 0; i < l.n; i++) {
			rc = dxl_lstat(pool, l.v[i].path, &l.v[i].st);
			if (rc < 0)
				status = cli_lib_error("ls", l.v[i].path, rc);
		}
		print_long(pool, &l);
	} else {
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.v[i].name);
	}
	free_listing(&l);
	return status;
}

static int run(int argc, char **argv)
{
	bool lng = false, all = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("ls", argc, argv, "la", NULL)) != -1) {
		switch (c) {
		case 'l': lng = true; break;
		case 'a': all = true; break;
		default: return CLI_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1 || n > 2)
		return cli_usage("ls", n < 1 ? "missing POOL" : "too many arguments");
	const char *path = argv[optind];
	const char *dir = n == 2 ? argv[optind + 1] : "/";
	dxl_pool *pool;
	if (cli_open_pool("ls", path, DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	int status = list(pool, dir, lng, all);
	fflush(stdout);
	return cli_close_pool("ls", path, pool, status);
}

const struct cli_cmd cli_cmd_ls = {
	.name = "ls",
	.run = run,
	.usage = "ls [-l] [-a] POOL [PATH]",
	.summary = "list a directory of the pool (default /), sorted by name",
	.help = "  -l   long form: mode, links, uid, gid, size, mtime, name (-> target)\n"
		"  -a   include names starting with '.', and . and ..\n",
};
