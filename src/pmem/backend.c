/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmem backends: find out what a path is, size it, and map it aligned.
 *
 * Detection is by what the kernel says, never by name:
 *   character device            -> device-DAX (size/align from sysfs)
 *   file on tmpfs/ramfs/hugetlbfs -> SHM (memory; CPU flushes suffice)
 *   file where MAP_SYNC works    -> FSDAX
 *   file where MAP_SYNC refused  -> FILE (page cache; msync for durability)
 *   "memfd:NAME"                 -> SHM on an anonymous memfd (tests)
 * See docs/pmem.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "pmem/pmem.h"
#include "pmem/trace.h"
#include "util/util.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#define HUGE_2M (2u << 20)
#define MEMFD_PREFIX "memfd:"

static size_t page_size(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	return pg > 0 ? (size_t)pg : 4096;
}

/*
 * Map len bytes of fd at an address aligned to `align`.  mmap only
 * promises page alignment, so reserve a larger PROT_NONE window (no
 * memory, no commit charge), place the real mapping inside it with
 * MAP_FIXED — safe, the window is ours — and give back the slack.
 * Returns MAP_FAILED with errno set; a failed attempt leaves nothing mapped.
 */
static void *map_aligned(size_t len, size_t align, int prot, int flags, int fd)
{
	size_t pg = page_size();
	size_t maplen = DXL_ALIGN_UP(len, pg);
	if (align < pg)
		align = pg;
	if (maplen < len || maplen > SIZE_MAX - align) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	size_t rlen = maplen + align - pg;
	uint8_t *r = mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			  0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	uint8_t *a = (uint8_t *)DXL_ALIGN_UP((uintptr_t)r, align);
	void *m = mmap(a, maplen, prot, flags | MAP_FIXED, fd, 0);
	if (m == MAP_FAILED) {
		int e = errno;
		munmap(r, rlen);
		errno = e;
		return MAP_FAILED;
	}
	if (a > r)
		munmap(r, (size_t)(a - r));
	if (r + rlen > a + maplen)
		munmap(a + maplen, (size_t)(r + rlen - (a + maplen)));
	return m;
}

/* Root of sysfs; overridable so tests can feed a fake device-DAX tree. */
static const char *sysfs_root(void)
{
	const char *r = secure_getenv("DXL_PMEM_SYSFS_ROOT");
	return r && *r ? r : "/sys";
}

/* Read one unsigned decimal/hex sysfs attribute. 0 = ok, -1 = absent/bad. */
static int read_sysfs_u64(const char *file, uint64_t *out)
{
	char buf[64];
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);
	if (errno || end == buf || (*end != '\0' && *end != '\n'))
		return -1;
	*out = v;
	return 0;
}

static int devdax_geometry(const char *path, dev_t rdev, uint64_t *size, uint64_t *align)
{
	char dir[PATH_MAX], file[PATH_MAX + 64], link[PATH_MAX];
	const char *root = sysfs_root();

	snprintf(dir, sizeof(dir), "%s/dev/char/%u:%u", root, major(rdev), minor(rdev));
	snprintf(file, sizeof(file), "%s/subsystem", dir);
	ssize_t n = readlink(file, link, sizeof(link) - 1);
	if (n < 0) {
		/* Fallback: the class directory by the node's name (a udev-renamed
		 * or symlinked node may not match, hence second choice). */
		char real[PATH_MAX];
		const char *name = realpath(path, real) ? strrchr(real, '/') : NULL;
		snprintf(dir, sizeof(dir), "%s/class/dax/%s", root, name ? name + 1 : "?");
		struct stat st;
		if (stat(dir, &st) != 0)
			return dxl_err(ENODEV,
				       "%s: character device %u:%u is not device-DAX "
				       "(no sysfs entry under %s/dev/char or %s/class/dax)",
				       path, major(rdev), minor(rdev), root, root);
	} else {
		link[n] = '\0';
		const char *base = strrchr(link, '/');
		base = base ? base + 1 : link;
		if (strcmp(base, "dax") != 0)
			return dxl_err(ENODEV,
				       "%s: character device %u:%u is not device-DAX "
				       "(subsystem %s)",
				       path, major(rdev), minor(rdev), base);
	}

	snprintf(file, sizeof(file), "%s/size", dir);
	if (read_sysfs_u64(file, size) != 0)
		return dxl_err(ENODEV, "%s: cannot read size from sysfs (%s)", path, file);

	/* The per-device attribute is recent (5.10); older kernels only
	 * publish the region's alignment. */
	static const char *const align_attrs[] = { "align", "device/dax_region/align",
						   "../dax_region/align", "dax_region/align" };
	for (size_t i = 0; i < DXL_ARRAY_SIZE(align_attrs); i++) {
		snprintf(file, sizeof(file), "%s/%s", dir, align_attrs[i]);
		if (read_sysfs_u64(file, align) == 0) {
			if (*align < 4096 || !DXL_IS_POW2(*align))
				return dxl_err(ENODEV, "%s: bad alignment %" PRIu64 " in %s",
					       path, *align, file);
			return 0;
		}
	}
	return dxl_err(ENODEV, "%s: cannot read alignment from sysfs (%s/align)", path, dir);
}

static int open_devdax(struct dxl_pmem *pm, const struct stat *st, uint64_t size, int prot)
{
	uint64_t dev_size, align;
	int rc = devdax_geometry(pm->path, st->st_rdev, &dev_size, &align);
	if (rc)
		return rc;
	if (dev_size == 0)
		return dxl_err(ENODEV, "%s: device-DAX has size 0 (not configured?)", pm->path);
	if (size == 0)
		size = dev_size;
	if (size > dev_size)
		return dxl_err(ENOSPC, "%s: device has %" PRIu64 " bytes, %" PRIu64 " requested",
			       pm->path, dev_size, size);
	/* The driver only maps whole alignment units. */
	if (size % align)
		return dxl_err(EINVAL,
			       "%s: size %" PRIu64 " is not a multiple of the device alignment %" PRIu64,
			       pm->path, size, align);
	if (size > SIZE_MAX)
		return dxl_err(EFBIG, "%s: %" PRIu64 " bytes do not fit the address space",
			       pm->path, size);
	void *m = map_aligned((size_t)size, (size_t)align, prot, MAP_SHARED, pm->fd);
	if (m == MAP_FAILED)
		return dxl_err(errno, "%s: mmap of %" PRIu64 " bytes (align %" PRIu64 "): %s",
			       pm->path, size, align, strerror(errno));
	pm->backend = DXL_BACKEND_DEVDAX;
	pm->base = m;
	pm->size = size;
	pm->align = align;
	pm->need_msync = 0;
	return 0;
}

/* Size checks and growth shared by files and memfds. */
static int size_file(struct dxl_pmem *pm, const struct stat *st, uint64_t *size, int grow)
{
	uint64_t have = (uint64_t)st->st_size;

	if (*size > (uint64_t)INT64_MAX)
		return dxl_err(EFBIG, "%s: size %" PRIu64 " too large", pm->path, *size);
	if (grow && *size > have) {
		/* ftruncate, not fallocate: a sparse pool costs nothing until
		 * written, and a 1 TiB pool on a small disk still opens. */
		if (ftruncate(pm->fd, (off_t)*size) != 0)
			return dxl_err(errno, "%s: cannot grow to %" PRIu64 " bytes: %s", pm->path,
				       *size, strerror(errno));
		have = *size;
	}
	if (*size == 0)
		*size = have;
	if (have == 0)
		return dxl_err(EINVAL, "%s: file is 0 bytes: not a pool", pm->path);
	if (*size > have)
		return dxl_err(EINVAL, "%s: file is %" PRIu64 " bytes, %" PRIu64 " requested",
			       pm->path, have, *size);
	if (*size < DXL_PMEM_MIN_SIZE)
		return dxl_err(EINVAL, "%s: %" PRIu64 " bytes: too small for a pool (minimum %u)",
			       pm->path, *size, DXL_PMEM_MIN_SIZE);
	if (*size > SIZE_MAX)
		return dxl_err(EFBIG, "%s: %" PRIu64 " bytes do not fit the address space",
			       pm->path, *size);
	return 0;
}

static int map_file(struct dxl_pmem *pm, uint64_t size, int prot)
{
	struct statfs sfs;
	size_t len = (size_t)size;
	size_t pg = page_size();
	/* The backend's unit stays the page, but a 2 MiB aligned base lets
	 * the kernel use huge pages (THP on shmem, PMD faults on fsdax). */
	size_t va_align = len >= HUGE_2M ? HUGE_2M : pg;
	void *m;

	if (fstatfs(pm->fd, &sfs) != 0)
		return dxl_err(errno, "%s: fstatfs: %s", pm->path, strerror(errno));

	if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC ||
	    sfs.f_type == HUGETLBFS_MAGIC) {
		uint64_t align = pg;
		if (sfs.f_type == HUGETLBFS_MAGIC) {
			/* hugetlbfs maps only whole huge pages at aligned addresses */
			align = (uint64_t)sfs.f_bsize;
			if (!DXL_IS_POW2(align) || align < pg || size % align)
				return dxl_err(EINVAL,
					       "%s: size %" PRIu64 " is not a multiple of the "
					       "huge page size %" PRIu64,
					       pm->path, size, align);
			va_align = (size_t)align;
		}
		m = map_aligned(len, va_align, prot, MAP_SHARED | MAP_NORESERVE, pm->fd);
		if (m == MAP_FAILED)
			return dxl_err(errno, "%s: mmap of %" PRIu64 " bytes: %s", pm->path, size,
				       strerror(errno));
		pm->backend = DXL_BACKEND_SHM;
		pm->align = align;
		pm->need_msync = 0;
	} else {
		/* The kernel decides: MAP_SYNC is accepted only where the file is
		 * DAX and its metadata is synchronous on fault. */
		m = map_aligned(len, va_align, prot, MAP_SHARED_VALIDATE | MAP_SYNC, pm->fd);
		if (m != MAP_FAILED) {
			pm->backend = DXL_BACKEND_FSDAX;
			pm->need_msync = 0;
		} else if (errno == EOPNOTSUPP || errno == EINVAL) {
			m = map_aligned(len, va_align, prot, MAP_SHARED, pm->fd);
			if (m == MAP_FAILED)
				return dxl_err(errno, "%s: mmap of %" PRIu64 " bytes: %s", pm->path,
					       size, strerror(errno));
			pm->backend = DXL_BACKEND_FILE;
			pm->need_msync = 1;
		} else {
			return dxl_err(errno, "%s: mmap of %" PRIu64 " bytes: %s", pm->path, size,
				       strerror(errno));
		}
		pm->align = pg;
	}
	pm->base = m;
	pm->size = size;
	return 0;
}

static int open_memfd(struct dxl_pmem *pm, const char *name, uint64_t size, int prot)
{
	struct stat st;

	if (size == 0)
		return dxl_err(EINVAL, "%s: a memfd pool needs a size", pm->path);
	pm->fd = memfd_create(*name ? name : "daxlease", MFD_CLOEXEC);
	if (pm->fd < 0)
		return dxl_err(errno, "%s: memfd_create: %s", pm->path, strerror(errno));
	if (fstat(pm->fd, &st) != 0)
		return dxl_err(errno, "%s: fstat: %s", pm->path, strerror(errno));
	int rc = size_file(pm, &st, &size, 1);
	if (rc)
		return rc;
	return map_file(pm, size, prot);
}

static int do_open(const char *path, uint64_t size, unsigned flags, struct dxl_pmem *pm)
{
	int rdonly = !!(flags & DXL_PMEM_RDONLY);
	int create = !!(flags & DXL_PMEM_CREATE);
	int prot = rdonly ? PROT_READ : PROT_READ | PROT_WRITE;
	struct stat st;

	if (flags & ~(unsigned)(DXL_PMEM_CREATE | DXL_PMEM_RDONLY))
		return dxl_err(EINVAL, "%s: unknown open flags 0x%x", path, flags);
	if (rdonly && create)
		return dxl_err(EINVAL, "%s: cannot create a pool read-only", path);
	if (path[0] == '\0')
		return dxl_err(EINVAL, "empty pool path");
	if (strlen(path) >= sizeof(pm->path))
		return dxl_err(ENAMETOOLONG, "pool path too long (%zu bytes)", strlen(path));
	memcpy(pm->path, path, strlen(path) + 1);
	pm->rdonly = rdonly;

	if (strncmp(path, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) == 0)
		return open_memfd(pm, path + strlen(MEMFD_PREFIX), size, prot);

	int oflags = O_CLOEXEC | (rdonly ? O_RDONLY : O_RDWR) | (create ? O_CREAT : 0);
	pm->fd = open(path, oflags, 0644);
	if (pm->fd < 0)
		return dxl_err(errno, "%s: %s", path, strerror(errno));
	if (fstat(pm->fd, &st) != 0)
		return dxl_err(errno, "%s: fstat: %s", path, strerror(errno));

	if (S_ISCHR(st.st_mode))
		return open_devdax(pm, &st, size, prot);
	if (S_ISDIR(st.st_mode)) /* reachable with O_RDONLY */
		return dxl_err(EISDIR, "%s: %s", path, strerror(EISDIR));
	if (!S_ISREG(st.st_mode))
		return dxl_err(EINVAL, "%s: not a regular file or device-DAX character device",
			       path);
	int rc = size_file(pm, &st, &size, create);
	if (rc)
		return rc;
	return map_file(pm, size, prot);
}

int dxl_pmem_open(const char *path, uint64_t size, unsigned flags, struct dxl_pmem *pm)
{
	if (!pm)
		return dxl_err(EINVAL, "dxl_pmem_open: no pmem handle");
	memset(pm, 0, sizeof(*pm));
	pm->fd = -1;
	if (!path)
		return dxl_err(EINVAL, "dxl_pmem_open: no path");
	int rc = do_open(path, size, flags, pm);
#ifdef DXL_PMEM_TRACE
	/* The trace models the pool as DAX memory: durability is what the
	 * flushes and fences make it, so no msync may stand in for them. */
	if (rc == 0 && dxl_trace_attach(pm)) {
		pm->traced = 1;
		pm->need_msync = 0;
	}
#endif
	if (rc) {
		if (pm->fd >= 0)
			close(pm->fd);
		memset(pm, 0, sizeof(*pm));
		pm->fd = -1;
	}
	return rc;
}

void dxl_pmem_close(struct dxl_pmem *pm)
{
	if (!pm || !pm->base)
		return;
	dxl_pmem_forget_thread_range(pm);
	munmap(pm->base, DXL_ALIGN_UP(pm->size, page_size()));
	if (pm->fd >= 0)
		close(pm->fd);
	memset(pm, 0, sizeof(*pm));
	pm->fd = -1;
}
