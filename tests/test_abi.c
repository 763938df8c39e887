/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_abi: the ABI can grow without breaking callers (include/daxlease/
 * daxlease.h, "Growing the ABI").  A program built against a newer header
 * passes larger structs: the library fills what it knows and zeroes the
 * rest, takes unknown input fields that are zero, and refuses (-E2BIG,
 * nothing done) one that is set.  A struct smaller than its first version
 * is refused (-EINVAL) and left untouched.  Structs handed to callbacks
 * carry the size the library filled.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "scratch_pool.h"

#define TAIL 24

/* a struct of a newer header: ours, then fields this library does not know */
struct newer_stat {
	struct dxl_stat st;
	unsigned char more[TAIL];
};
struct newer_mkfs {
	struct dxl_mkfs_opts o;
	unsigned char more[TAIL];
};

static int all(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int seen_leases, seen_sized;

static int on_info(void *arg, const struct dxl_lease_info *info)
{
	(void)arg;
	seen_leases++;
	if (info->size == sizeof(*info) && DXL_HAS_FIELD(info, struct dxl_lease_info, holder))
		seen_sized++;
	return 0;
}

static int events_sized = -1;

static void on_event(dxl_lease *l, const struct dxl_event *ev, void *arg)
{
	(void)arg;
	events_sized = ev->size == sizeof(*ev) && DXL_HAS_FIELD(ev, struct dxl_event, lease);
	if (ev->type == DXL_EV_BREAK && l)
		dxl_lease_release(l);
}

int main(void)
{
	struct newer_mkfs nm;
	struct newer_stat ns;
	struct dxl_stat st;
	unsigned char small[DXL_STAT_SIZE_VER0];
	dxl_pool *pool;
	dxl_file *f;
	dxl_dir *d;
	dxl_lease *l;

	scratch_setup("abi");

	/* mkfs: a set unknown field is refused, and no pool is made */
	memset(&nm, 0, sizeof(nm));
	nm.o.size = 16u << 20;
	nm.more[3] = 1;
	CHECK_RC((dxl_mkfs)(pool_path, &nm.o, sizeof(nm)), -E2BIG);
	CHECK(access(pool_path, F_OK) != 0);
	CHECK_RC((dxl_mkfs)(pool_path, &nm.o, DXL_MKFS_OPTS_SIZE_VER0 - 8), -EINVAL);
	CHECK(access(pool_path, F_OK) != 0);
	/* ... and unknown fields left zero are fine */
	nm.more[3] = 0;
	CHECK_OK((dxl_mkfs)(pool_path, &nm.o, sizeof(nm)));
	/* NULL options: the defaults, on an existing file of the size wanted */
	{
		char other[400];
		int fd;
		snprintf(other, sizeof(other), "%s.null", pool_path);
		fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(fd >= 0 && ftruncate(fd, 16 << 20) == 0);
		close(fd);
		CHECK_OK((dxl_mkfs)(other, NULL, 0));
		CHECK_OK((dxl_fsck)(other, 0, NULL, NULL, NULL, 0));
		unlink(other);
	}

	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_open(pool, "/f", O_RDWR | O_CREAT, 0644, &f));
	CHECK_RC(dxl_pwrite(f, "abcdef", 6, 0), 6);

	/* stat into a newer, larger struct: ours filled, the rest zeroed */
	memset(&ns, 0xff, sizeof(ns));
	CHECK_OK((dxl_stat)(pool, "/f", &ns.st, sizeof(ns)));
	CHECK(ns.st.size == 6 && (ns.st.mode & 0777) == 0644);
	CHECK(all(ns.more, TAIL, 0));
	memset(&ns, 0xff, sizeof(ns));
	CHECK_OK((dxl_fstat)(f, &ns.st, sizeof(ns)));
	CHECK(ns.st.size == 6 && all(ns.more, TAIL, 0));
	memset(&ns, 0xff, sizeof(ns));
	CHECK_OK((dxl_lstat)(pool, "/f", &ns.st, sizeof(ns)));
	CHECK(ns.st.size == 6 && all(ns.more, TAIL, 0));
	/* the macro passes the caller's own size */
	CHECK_OK(dxl_stat(pool, "/f", &st));
	CHECK(st.size == 6);

	/* too small for any version: refused, untouched */
	memset(small, 0xab, sizeof(small));
	CHECK_RC((dxl_stat)(pool, "/f", (struct dxl_stat *)small, sizeof(small) - 1), -EINVAL);
	CHECK(all(small, sizeof(small), 0xab));
	CHECK_RC((dxl_fstat)(f, (struct dxl_stat *)small, 8), -EINVAL);
	CHECK(all(small, sizeof(small), 0xab));

	{
		struct {
			struct dxl_statfs s;
			unsigned char more[TAIL];
		} nf;
		memset(&nf, 0xff, sizeof(nf));
		CHECK_OK((dxl_statfs)(pool, &nf.s, sizeof(nf)));
		CHECK(nf.s.pool_size == 16u << 20 && all(nf.more, TAIL, 0));
		CHECK_RC((dxl_statfs)(pool, &nf.s, 16), -EINVAL);
	}
	{
		struct {
			struct dxl_dirent e;
			unsigned char more[TAIL];
		} ne;
		memset(&ne, 0xff, sizeof(ne));
		CHECK_OK(dxl_opendir(pool, "/", &d));
		CHECK_RC((dxl_readdir)(d, &ne.e, 100), -EINVAL);
		CHECK_RC((dxl_readdir)(d, &ne.e, sizeof(ne)), 1);
		CHECK(strcmp(ne.e.name, "f") == 0 && all(ne.more, TAIL, 0));
		CHECK_RC((dxl_readdir)(d, &ne.e, sizeof(ne)), 0);
		CHECK_OK(dxl_closedir(d));
	}

	/* callbacks: the struct says how much of it the library filled */
	CHECK_OK(dxl_lease_take(f, 0, 4096, 0, on_event, NULL, &l));
	CHECK_OK(dxl_lease_list(pool, on_info, NULL));
	CHECK(seen_leases >= 1 && seen_sized == seen_leases);
	CHECK_OK(dxl_event_thread_start(pool));
	/* breaks the lease and waits: the event thread's on_event releases it */
	CHECK_OK(dxl_truncate(pool, "/f", 0));
	CHECK(events_sized == 1);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(pool));

	{
		struct {
			struct dxl_fsck_result r;
			unsigned char more[TAIL];
		} nr;
		memset(&nr, 0xff, sizeof(nr));
		CHECK_OK((dxl_fsck)(pool_path, 0, NULL, NULL, &nr.r, sizeof(nr)));
		CHECK(nr.r.problems == 0 && nr.r.files >= 1 && all(nr.more, TAIL, 0));
		CHECK_RC((dxl_fsck)(pool_path, 0, NULL, NULL, &nr.r, 8), -EINVAL);
	}
	printf("test_abi: OK\n");
	return 0;
}
