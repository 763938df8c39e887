/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmem layer: backend detection, mapping alignment, copy/fill correctness
 * at every alignment, persistence across close/reopen, sparse huge pools,
 * and clear errors for things that are not pools.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "test_dir.h"
#include "pmem/pmem.h"
#include "util/util.h"

#define TMPFS_MAGIC_ 0x01021994

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static char shm_dir[] = "/dev/shm/dxl_pmem_XXXXXX";
/* the disk side: /var/tmp, or where DXL_TEST_POOL points (main) */
static char disk_dir[200] = "/var/tmp/dxl_pmem_XXXXXX";

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static long rss_pages(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	CHECK(f != NULL);
	CHECK(fscanf(f, "%ld %ld", &size, &rss) == 2);
	fclose(f);
	return rss;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Random copies at all head/tail alignments, checked byte for byte,
 * including that nothing outside the destination changed. */
static void copy_and_fill(struct dxl_pmem *pm, int level)
{
	size_t area = 3u << 20;
	uint8_t *src = malloc(area), *shadow = malloc(area);
	uint8_t *dst = pm->base;
	CHECK(src && shadow && pm->size >= area);
	CHECK(dxl_pmem_set_nt_level(level) <= level || level < 0);

	for (size_t i = 0; i < area; i++)
		src[i] = (uint8_t)rnd();
	memset(shadow, 0x5a, area);
	memset(dst, 0x5a, area);

	static const size_t lens[] = { 0,   1,   7,   63,  64,  65,   255,  256,   257,
				       300, 511, 512, 4095, 4096, 4097, 8191, 65536, 1u << 20 };
	for (size_t l = 0; l < DXL_ARRAY_SIZE(lens); l++) {
		for (size_t doff = 0; doff < 70; doff += (lens[l] > 8192 ? 23 : 1)) {
			size_t soff = (doff * 7 + l) % 64;
			size_t at = (size_t)(rnd() % (area - lens[l] - 200)) & ~(size_t)63;
			at += doff;
			dxl_pmem_memcpy(pm, dst + at, src + soff, lens[l]);
			memcpy(shadow + at, src + soff, lens[l]);
			CHECK(memcmp(dst + at, src + soff, lens[l]) == 0);
			if (at >= 64)
				CHECK(memcmp(dst + at - 64, shadow + at - 64, 64) == 0);
			CHECK(memcmp(dst + at + lens[l], shadow + at + lens[l], 64) == 0);

			int c = (int)(rnd() & 0xff);
			size_t at2 = ((size_t)(rnd() % (area - lens[l] - 200)) & ~(size_t)63) + doff;
			dxl_pmem_memset(pm, dst + at2, c, lens[l]);
			memset(shadow + at2, c, lens[l]);
			for (size_t i = 0; i < lens[l]; i++)
				if (dst[at2 + i] != (uint8_t)c)
					CHECK(!"memset wrote a wrong byte");
			CHECK(memcmp(dst + at2 + lens[l], shadow + at2 + lens[l], 64) == 0);
		}
	}
	dxl_pmem_drain(pm);
	CHECK(memcmp(dst, shadow, area) == 0);
	free(src);
	free(shadow);
}

static void test_memfd(void)
{
	struct dxl_pmem pm;
	struct dxl_pmem_stats a, b;

	CHECK_OK(dxl_pmem_open("memfd:t", 8u << 20, 0, &pm));
	CHECK(pm.backend == DXL_BACKEND_SHM);
	CHECK(pm.need_msync == 0);
	CHECK(pm.size == 8u << 20);
	CHECK(pm.align == 4096);
	CHECK(((uintptr_t)pm.base & ((2u << 20) - 1)) == 0); /* huge-page friendly */
	const char *m = dxl_pmem_method(&pm);
	fprintf(stderr, "persistence method: %s\n", m);
	CHECK(strncmp(m, "clwb", 4) == 0 || strncmp(m, "clflush", 7) == 0 ||
	      strcmp(m, "none") == 0);
	CHECK(strstr(m, "msync") == NULL);

	for (int level = 0; level <= 2; level++) {
		int used = dxl_pmem_set_nt_level(level);
		fprintf(stderr, "copy/fill with non-temporal level %d\n", used);
		copy_and_fill(&pm, level);
	}
	dxl_pmem_set_nt_level(-1);

	dxl_pmem_get_stats(&a);
	dxl_pmem_persist(&pm, pm.base + 100, 5000);
	dxl_pmem_flush(&pm, pm.base, 1);
	dxl_pmem_drain(&pm);
	dxl_pmem_get_stats(&b);
	CHECK(b.flushes >= a.flushes + 2);
	CHECK(b.drains >= a.drains + 2);
	CHECK(b.msyncs == a.msyncs); /* memory backend: no msync */
	CHECK_OK(dxl_pmem_sync(&pm, 0, pm.size));
	CHECK(dxl_pmem_sync(&pm, pm.size, 1) == -EINVAL);
	CHECK(dxl_errmsg()[0] != '\0');
	dxl_pmem_close(&pm);
	CHECK(pm.base == NULL);
	dxl_pmem_close(&pm); /* closing twice is harmless */
}

static void test_shm_file(void)
{
	char p[256];
	struct dxl_pmem pm;

	path_in(p, sizeof(p), shm_dir, "pool");
	CHECK_OK(dxl_pmem_open(p, 1u << 20, DXL_PMEM_CREATE, &pm));
	CHECK(pm.backend == DXL_BACKEND_SHM);
	CHECK(pm.need_msync == 0);
	dxl_pmem_memcpy(&pm, pm.base + 4096, "hello", 6);
	dxl_pmem_drain(&pm);
	dxl_pmem_close(&pm);
	CHECK_OK(dxl_pmem_open(p, 0, DXL_PMEM_RDONLY, &pm));
	CHECK(pm.rdonly && pm.size == 1u << 20);
	CHECK(strcmp((char *)pm.base + 4096, "hello") == 0);
	dxl_pmem_close(&pm);
	unlink(p);
}

static int disk_is_tmpfs(void)
{
	struct statfs s;
	CHECK(statfs(disk_dir, &s) == 0);
	return s.f_type == TMPFS_MAGIC_;
}

static void test_disk_file(void)
{
	char p[256];
	struct dxl_pmem pm;
	struct dxl_pmem_stats a, b, c;
	size_t size = 4u << 20;
	uint8_t *data = malloc(size);
	CHECK(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)rnd();

	path_in(p, sizeof(p), disk_dir, "pool");
	CHECK_OK(dxl_pmem_open(p, size, DXL_PMEM_CREATE, &pm));
	struct stat st;
	CHECK(stat(p, &st) == 0 && (uint64_t)st.st_size == size);
	if (disk_is_tmpfs()) {
		fprintf(stderr, "%s is tmpfs: FILE backend not checked\n", disk_dir);
	} else if (pm.backend == DXL_BACKEND_FSDAX) {
		fprintf(stderr, "%s is a DAX mount: FSDAX\n", disk_dir);
		CHECK(pm.need_msync == 0);
	} else {
		CHECK(pm.backend == DXL_BACKEND_FILE);
		CHECK(pm.need_msync == 1);
		CHECK(strstr(dxl_pmem_method(&pm), "+msync") != NULL);
	}

	/* pieces at odd offsets, each persisted */
	dxl_pmem_get_stats(&a);
	size_t off = 0;
	int pieces = 0;
	while (off < size) {
		size_t n = 1 + rnd() % 70000;
		if (n > size - off)
			n = size - off;
		dxl_pmem_memcpy(&pm, pm.base + off, data + off, n);
		if (++pieces % 3 == 0)
			dxl_pmem_drain(&pm);
		off += n;
	}
	dxl_pmem_drain(&pm);
	dxl_pmem_get_stats(&b);
	if (pm.need_msync) {
		CHECK(b.msyncs > a.msyncs);
		CHECK(b.msyncs - a.msyncs <= (uint64_t)pieces / 3 + 1);
		/* nothing flushed since: drain has nothing to msync */
		dxl_pmem_drain(&pm);
		dxl_pmem_get_stats(&c);
		CHECK(c.msyncs == b.msyncs);
		/* a plain store + persist is msynced */
		pm.base[12345] = 0x77;
		data[12345] = 0x77;
		dxl_pmem_persist(&pm, pm.base + 12345, 1);
		dxl_pmem_get_stats(&c);
		CHECK(c.msyncs == b.msyncs + 1);
	}
	CHECK_OK(dxl_pmem_sync(&pm, 4096, 8192));
	CHECK(memcmp(pm.base, data, size) == 0);
	dxl_pmem_close(&pm);

	/* what the file holds now, read through the file, not the mapping */
	uint8_t *back = malloc(size);
	int fd = open(p, O_RDONLY);
	CHECK(back && fd >= 0);
	CHECK(pread(fd, back, size, 0) == (ssize_t)size);
	close(fd);
	CHECK(memcmp(back, data, size) == 0);

	/* reopen: existing size, contents there */
	CHECK_OK(dxl_pmem_open(p, 0, 0, &pm));
	CHECK(pm.size == size);
	CHECK(memcmp(pm.base, data, size) == 0);
	dxl_pmem_close(&pm);

	/* reopen with a smaller size maps a prefix; CREATE never shrinks */
	CHECK_OK(dxl_pmem_open(p, 1u << 20, DXL_PMEM_CREATE, &pm));
	CHECK(pm.size == 1u << 20);
	CHECK(memcmp(pm.base, data, 1u << 20) == 0);
	dxl_pmem_close(&pm);
	CHECK(stat(p, &st) == 0 && (uint64_t)st.st_size == size);

	/* asking for more than the file has, without CREATE */
	CHECK(dxl_pmem_open(p, size * 2, 0, &pm) == -EINVAL);
	CHECK(strstr(dxl_errmsg(), "requested") != NULL);
	unlink(p);
	free(back);
	free(data);
}

/* Threads writing their own slices of one msync-backed pool: each drain
 * makes the calling thread's own writes durable. */
struct slice {
	struct dxl_pmem *pm;
	size_t off, len;
	uint8_t seed;
};

static void *slice_writer(void *arg)
{
	struct slice *sl = arg;
	uint8_t buf[3000];
	for (size_t done = 0; done < sl->len; done += sizeof(buf)) {
		size_t n = DXL_MIN(sizeof(buf), sl->len - done);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(sl->seed + done + i);
		dxl_pmem_memcpy(sl->pm, sl->pm->base + sl->off + done, buf, n);
		dxl_pmem_drain(sl->pm);
	}
	return NULL;
}

static void test_threads(void)
{
	char p[256];
	struct dxl_pmem pm;
	struct slice sl[4];
	pthread_t t[4];
	size_t part = 1u << 20;

	path_in(p, sizeof(p), disk_dir, "threads");
	CHECK_OK(dxl_pmem_open(p, 4 * part, DXL_PMEM_CREATE, &pm));
	for (int i = 0; i < 4; i++) {
		sl[i] = (struct slice){ &pm, i * part, part - 17 * (size_t)i, (uint8_t)(i * 40) };
		CHECK(pthread_create(&t[i], NULL, slice_writer, &sl[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK_OK(dxl_pmem_sync(&pm, 0, pm.size));
	dxl_pmem_close(&pm);

	uint8_t *back = malloc(4 * part);
	int fd = open(p, O_RDONLY);
	CHECK(back && fd >= 0);
	CHECK(pread(fd, back, 4 * part, 0) == (ssize_t)(4 * part));
	close(fd);
	for (int i = 0; i < 4; i++)
		for (size_t j = 0; j < sl[i].len; j++)
			if (back[sl[i].off + j] != (uint8_t)(sl[i].seed + j))
				CHECK(!"thread slice content wrong");
	free(back);
	unlink(p);
}

/* ThreadSanitizer reserves most of the address space for its shadow, so
 * whether a 1 TiB mapping fits depends on where ASLR put things; under it
 * the same test runs on 64 GiB.  The other builds map the full 1 TiB. */
#if defined(__SANITIZE_THREAD__)
#define DXL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DXL_TEST_TSAN 1
#endif
#endif
#ifdef DXL_TEST_TSAN
#define SPARSE_TEST_SIZE (1ull << 36)
#else
#define SPARSE_TEST_SIZE (1ull << 40)
#endif

static void test_sparse_tib(void)
{
	char p[256];
	struct dxl_pmem pm;
	uint64_t tib = SPARSE_TEST_SIZE;
	const char *dir = disk_dir;

	path_in(p, sizeof(p), dir, "huge");
	long before = rss_pages();
	int rc = dxl_pmem_open(p, tib, DXL_PMEM_CREATE, &pm);
	if (rc == -EFBIG || rc == -EINVAL) {
		fprintf(stderr, "%s: no 1 TiB files here (%s); using %s\n", dir, dxl_errmsg(),
			shm_dir);
		unlink(p);
		dir = shm_dir;
		path_in(p, sizeof(p), dir, "huge");
		rc = dxl_pmem_open(p, tib, DXL_PMEM_CREATE, &pm);
	}
	CHECK_OK(rc);
	CHECK(pm.size == tib);
	CHECK(((uintptr_t)pm.base & ((2u << 20) - 1)) == 0);
	/* touch a few far-apart pages */
	for (uint64_t off = 0; off < tib; off += tib / 8) {
		dxl_pmem_memcpy(&pm, pm.base + off, "x", 1);
		dxl_pmem_memset(&pm, pm.base + off + 4096, 0xab, 4096);
	}
	dxl_pmem_drain(&pm);
	CHECK(pm.base[tib / 2] == 'x' && pm.base[tib - tib / 8 + 4096 + 4095] == 0xab);
	long during = rss_pages();
	dxl_pmem_close(&pm);
	fprintf(stderr, "1 TiB pool: rss %ld -> %ld pages\n", before, during);
	CHECK(during - before < (64l << 20) / 4096);

	CHECK_OK(dxl_pmem_open(p, 0, DXL_PMEM_RDONLY, &pm));
	CHECK(pm.size == tib && pm.base[tib / 4] == 'x' && pm.base[12345] == 0);
	dxl_pmem_close(&pm);
	CHECK(rss_pages() - before < (64l << 20) / 4096);
	unlink(p);
}

static void expect_fail(const char *path, uint64_t size, unsigned flags, int err,
			const char *needle)
{
	struct dxl_pmem pm;
	dxl_err_clear();
	int rc = dxl_pmem_open(path, size, flags, &pm);
	fprintf(stderr, "open %s -> %d: %s\n", path ? path : "(null)", rc, dxl_errmsg());
	CHECK(rc < 0);
	if (err)
		CHECK(rc == -err);
	CHECK(dxl_errmsg()[0] != '\0');
	if (needle)
		CHECK(strstr(dxl_errmsg(), needle) != NULL);
	CHECK(pm.base == NULL && pm.fd == -1);
	dxl_pmem_close(&pm);
}

static void test_errors(void)
{
	char p[256];
	uint8_t small[100] = { 0 };

	path_in(p, sizeof(p), disk_dir, "missing.img");
	expect_fail(p, 0, 0, ENOENT, "No such file or directory");
	CHECK(strstr(dxl_errmsg(), "missing.img") != NULL);
	expect_fail(disk_dir, 0, 0, EISDIR, "directory");
	expect_fail(disk_dir, 0, DXL_PMEM_RDONLY, EISDIR, "directory");
	path_in(p, sizeof(p), disk_dir, "empty.img");
	write_file(p, "", 0);
	expect_fail(p, 0, 0, EINVAL, "0 bytes: not a pool");
	expect_fail(p, 0, DXL_PMEM_RDONLY, EINVAL, "0 bytes");
	unlink(p);
	path_in(p, sizeof(p), disk_dir, "small.img");
	write_file(p, small, sizeof(small));
	expect_fail(p, 0, 0, EINVAL, "too small");
	unlink(p);
	expect_fail("memfd:x", 0, 0, EINVAL, "needs a size");
	expect_fail("memfd:x", 4096, 0, EINVAL, "too small");
	expect_fail(p, 1u << 20, DXL_PMEM_CREATE | DXL_PMEM_RDONLY, EINVAL, "read-only");
	expect_fail(p, 1u << 20, 0x100, EINVAL, "flags");
	expect_fail("", 0, 0, EINVAL, NULL);
	expect_fail(NULL, 0, 0, EINVAL, NULL);
	/* a character device that is not device-DAX */
	expect_fail("/dev/null", 0, 0, ENODEV, "not device-DAX");
	CHECK(dxl_pmem_open(p, 0, 0, NULL) == -EINVAL);
}

/* Device-DAX needs sysfs; feed a fake tree and use /dev/zero (a mappable
 * character device) to drive the devdax path end to end. */
static void test_fake_devdax(void)
{
	char root[256], d[512], f[600];
	struct dxl_pmem pm;
	struct stat st;

	CHECK(stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode));
	snprintf(root, sizeof(root), "%s/sys", disk_dir);
	snprintf(d, sizeof(d), "%s", root);
	CHECK(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/bus", root);
	CHECK(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/bus/dax", root);
	CHECK(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/dev", root);
	CHECK(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/dev/char", root);
	CHECK(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/dev/char/%u:%u", root, major(st.st_rdev), minor(st.st_rdev));
	CHECK(mkdir(d, 0755) == 0);
	snprintf(f, sizeof(f), "%s/subsystem", d);
	CHECK(symlink("../../../bus/dax", f) == 0);
	snprintf(f, sizeof(f), "%s/size", d);
	write_file(f, "8388608\n", 8);
	CHECK(setenv("DXL_PMEM_SYSFS_ROOT", root, 1) == 0);

	expect_fail("/dev/zero", 0, 0, ENODEV, "cannot read alignment from sysfs");

	snprintf(f, sizeof(f), "%s/align", d);
	write_file(f, "2097152\n", 8);
	CHECK_OK(dxl_pmem_open("/dev/zero", 0, 0, &pm));
	CHECK(pm.backend == DXL_BACKEND_DEVDAX);
	CHECK(pm.size == 8u << 20 && pm.align == 2u << 20 && pm.need_msync == 0);
	CHECK(((uintptr_t)pm.base & ((2u << 20) - 1)) == 0);
	dxl_pmem_memset(&pm, pm.base + 1000, 0x42, 100000);
	dxl_pmem_drain(&pm);
	CHECK(pm.base[1000] == 0x42 && pm.base[100999] == 0x42 && pm.base[101000] == 0);
	dxl_pmem_close(&pm);

	expect_fail("/dev/zero", 16u << 20, 0, ENOSPC, "requested");
	expect_fail("/dev/zero", 3u << 20, 0, EINVAL, "alignment");
	CHECK_OK(dxl_pmem_open("/dev/zero", 4u << 20, 0, &pm));
	CHECK(pm.size == 4u << 20);
	dxl_pmem_close(&pm);
	{
		/* mkfs names the device's alignment, read before the store closed */
		struct dxl_mkfs_opts o = { .unit = 4096 };
		CHECK_RC(dxl_mkfs("/dev/zero", &o), -EINVAL);
		CHECK(strstr(dxl_errmsg(), "mapping alignment 2097152") != NULL);
	}

	write_file(f, "3000\n", 5);
	expect_fail("/dev/zero", 0, 0, ENODEV, "bad alignment");
	unsetenv("DXL_PMEM_SYSFS_ROOT");

	snprintf(f, sizeof(f), "%s/align", d);
	unlink(f);
	snprintf(f, sizeof(f), "%s/size", d);
	unlink(f);
	snprintf(f, sizeof(f), "%s/subsystem", d);
	unlink(f);
	rmdir(d);
	static const char *const dirs[] = { "dev/char", "dev", "bus/dax", "bus", "" };
	for (size_t i = 0; i < DXL_ARRAY_SIZE(dirs); i++) {
		snprintf(d, sizeof(d), "%s/%s", root, dirs[i]);
		rmdir(d);
	}
}

int main(void)
{
	CHECK(mkdtemp(shm_dir) != NULL);
	CHECK(snprintf(disk_dir, sizeof(disk_dir), "%s/dxl_pmem_XXXXXX", dxl_test_dir("/var/tmp")) <
	      (int)sizeof(disk_dir));
	CHECK(mkdtemp(disk_dir) != NULL);

	test_memfd();
	test_shm_file();
	test_disk_file();
	test_threads();
	test_sparse_tib();
	test_errors();
	test_fake_devdax();

	rmdir(shm_dir);
	CHECK(rmdir(disk_dir) == 0);
	printf("test_pmem: ok\n");
	return 0;
}
