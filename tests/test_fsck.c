/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck: a populated pool checks clean; then each kind of damage, made
 * directly in the image, is detected, mended by --repair, and a second
 * check is clean with the files' data intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h" /* scratch_copy_file */
#include "format/format.h"

static char pristine[4096], work[4096];
static uint64_t ino_f1, ino_f2, ino_d1;
static int verbose;

static void report(void *arg, const char *msg)
{
	(void)arg;
	if (verbose)
		fprintf(stderr, "  fsck: %s\n", msg);
}

/* Keeps the messages fsck reported, for the checks that read them. */
static char said[4096];
static void keep_report(void *arg, const char *msg)
{
	(void)arg;
	snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s\n", msg);
}

static uint8_t *map_pool(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	*len = (size_t)st.st_size;
	uint8_t *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	close(fd);
	return p;
}

static void unmap_pool(uint8_t *p, size_t len)
{
	CHECK(msync(p, len, MS_SYNC) == 0);
	munmap(p, len);
}

static void put_file(dxl_pool *P, const char *path, uint64_t off, size_t len, int seed)
{
	dxl_file *f;
	char *buf = malloc(len);
	CHECK(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 7);
	CHECK_OK(dxl_open(P, path, O_RDWR | O_CREAT, 0644, &f));
	CHECK_RC(dxl_pwrite(f, buf, len, off), (long long)len);
	CHECK_OK(dxl_close(f));
	free(buf);
}

static void populate(const char *path)
{
	struct dxl_mkfs_opts o = {0};
	dxl_pool *P;
	dxl_file *a, *b;
	struct dxl_stat st;

	o.size = 64ull << 20;
	o.unit = 4096;
	CHECK_OK(dxl_mkfs(path, &o));
	CHECK_OK(dxl_pool_open(path, 0, &P));
	CHECK_OK(dxl_mkdir(P, "/d1", 0755));
	CHECK_OK(dxl_mkdir(P, "/d1/d2", 0755));
	put_file(P, "/f1", 0, 5 * 4096, 1);
	put_file(P, "/d1/f2", 3 * 4096, 4096 + 100, 2); /* a hole in front */
	put_file(P, "/d1/d2/f4", 0, 10, 3);
	CHECK_OK(dxl_link(P, "/f1", "/d1/f1link"));
	CHECK_OK(dxl_symlink(P, "/f1", "/s"));
	/* a reflink: units shared between /f1 and /f3 */
	CHECK_OK(dxl_open(P, "/f1", O_RDWR, 0, &a));
	CHECK_OK(dxl_open(P, "/f3", O_RDWR | O_CREAT, 0644, &b));
	CHECK_OK(dxl_reflink(a, 0, b, 4096, 3 * 4096));
	CHECK_OK(dxl_close(a));
	CHECK_OK(dxl_close(b));
	/* an unlinked-while-open file is an orphan only until close */
	CHECK_OK(dxl_stat(P, "/f1", &st));
	ino_f1 = st.ino;
	CHECK_OK(dxl_stat(P, "/d1/f2", &st));
	ino_f2 = st.ino;
	CHECK_OK(dxl_stat(P, "/d1", &st));
	ino_d1 = st.ino;
	/* The journal keeps the last transaction and opening replays it
	 * (idempotently): end with one that touches none of the blocks
	 * damaged below, or the replay would undo the damage. */
	CHECK_OK(dxl_mkdir(P, "/last", 0755));
	CHECK_OK(dxl_chmod(P, "/last", 0700)); /* touches /last's inode only */
	CHECK_OK(dxl_pool_close(P));
}

/* Data of /f1 is still what was written (after a repair). */
static void check_data(const char *path)
{
	dxl_pool *P;
	dxl_file *f;
	char buf[5 * 4096];
	CHECK_OK(dxl_pool_open(path, 0, &P));
	CHECK_OK(dxl_open(P, "/f1", O_RDONLY, 0, &f));
	CHECK_RC(dxl_pread(f, buf, sizeof(buf), 0), (long long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK(buf[i] == (char)(1 + i * 7));
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(P));
}

static void fsck_clean(const char *path, struct dxl_fsck_result *r)
{
	CHECK_OK(dxl_fsck(path, 0, report, NULL, r));
	CHECK(r->problems == 0);
}

/* The damage is found, repaired, and the pool is clean afterwards. */
static void expect_repair(const char *what)
{
	struct dxl_fsck_result r;
	if (verbose)
		fprintf(stderr, "%s\n", what);
	int rc = dxl_fsck(work, 0, report, NULL, &r);
	if (rc != -EUCLEAN || r.problems == 0) {
		fprintf(stderr, "%s: not detected (rc %d, %llu problems)\n", what, rc,
			(unsigned long long)r.problems);
		exit(1);
	}
	rc = dxl_fsck(work, DXL_FSCK_REPAIR, report, NULL, &r);
	if (rc != 0 || r.repaired == 0) {
		fprintf(stderr, "%s: repair failed (rc %d, %llu problems, %llu repaired: %s)\n",
			what, rc, (unsigned long long)r.problems, (unsigned long long)r.repaired,
			dxl_errmsg());
		exit(1);
	}
	rc = dxl_fsck(work, 0, report, NULL, &r);
	if (rc != 0 || r.problems != 0) {
		fprintf(stderr, "%s: not clean after repair (rc %d, %llu problems)\n", what, rc,
			(unsigned long long)r.problems);
		exit(1);
	}
}

/* First extent of a file whose extent map is a single leaf in its inode. */
static struct dxl_extent *first_extent(uint8_t *p, uint64_t ino, uint64_t *key)
{
	uint8_t *node = p + ino * DXL_BLOCK_SIZE + DXL_INODE_HDR;
	struct dxl_node_hdr *h = (struct dxl_node_hdr *)node;
	struct dxl_leaf_slot *s = (struct dxl_leaf_slot *)(h + 1);
	CHECK(h->magic == DXL_NODE_MAGIC && h->level == 0 && h->nrecs >= 1);
	*key = s[0].key;
	return (struct dxl_extent *)(node + s[0].off);
}

static void bm_set(uint8_t *bm, uint64_t i, int v)
{
	if (v)
		bm[i >> 3] |= (uint8_t)(1u << (i & 7));
	else
		bm[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	struct dxl_fsck_result r;
	uint8_t *p;
	size_t len;
	struct dxl_sb *sb;
	uint64_t key;

	verbose = argc > 1 || getenv("DXL_TEST_VERBOSE");
	tmp = dxl_test_dir(tmp ? tmp : "/tmp");
	snprintf(pristine, sizeof(pristine), "%s/dxl_fsck_%d.pool", tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(work, sizeof(work), "%s/dxl_fsck_%d.work", tmp ? tmp : "/tmp", (int)getpid());
	populate(pristine);

	/* a store too small for a pool: the message gives its real size */
	{
		int fd = open(work, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
		close(fd);
		said[0] = '\0';
		memset(&r, 0, sizeof(r));
		CHECK(dxl_fsck(work, 0, keep_report, NULL, &r) != 0 || r.problems > 0);
		CHECK(strstr(said, "4096 bytes") != NULL || strstr(dxl_errmsg(), "4096 bytes") != NULL);
		CHECK(strstr(said, "(0 bytes)") == NULL);
		unlink(work);
	}

	/* clean */
	fsck_clean(pristine, &r);
	CHECK(r.dirs == 4);        /* /, /d1, /d1/d2, /last */
	CHECK(r.files == 5);       /* f1, f2, f4, s, f3 */
	CHECK(r.inodes == 9);
	CHECK(r.shared_units == 3);
	CHECK(r.extents >= 4);
	scratch_copy_file(pristine, work);
	CHECK_OK(dxl_fsck(work, DXL_FSCK_REPAIR, report, NULL, &r));
	CHECK(r.problems == 0 && r.repaired == 0);

	/* 1. a flipped bit in an inode: its checksum no longer matches */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	((struct dxl_inode *)(p + ino_f2 * DXL_BLOCK_SIZE))->mtime_ns ^= 1ll << 20;
	unmap_pool(p, len);
	expect_repair("inode bit flip");

	/* 2. a used data unit marked free */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	sb = (struct dxl_sb *)p;
	uint64_t phys = first_extent(p, ino_f1, &key)->phys;
	bm_set(p + sb->dbitmap_blk * DXL_BLOCK_SIZE, phys, 0);
	unmap_pool(p, len);
	expect_repair("used unit marked free");
	check_data(work);

	/* 3. a free data unit marked used (a leak) */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	sb = (struct dxl_sb *)p;
	bm_set(p + sb->dbitmap_blk * DXL_BLOCK_SIZE, sb->data_units - 1, 1);
	unmap_pool(p, len);
	expect_repair("leaked data unit");

	/* 4. a leaked metadata block */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	sb = (struct dxl_sb *)p;
	bm_set(p + sb->mbitmap_blk * DXL_BLOCK_SIZE, sb->meta_blocks - 1, 1);
	unmap_pool(p, len);
	expect_repair("leaked metadata block");

	/* 5. a wrong link count (checksum kept valid: a logical error) */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	{
		struct dxl_inode *in = (struct dxl_inode *)(p + ino_f1 * DXL_BLOCK_SIZE);
		CHECK(in->nlink == 2);
		in->nlink = 5;
		dxl_inode_set_crc(in);
	}
	unmap_pool(p, len);
	expect_repair("wrong nlink");
	check_data(work);

	/* 6. a directory's entry count */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	{
		struct dxl_inode *in = (struct dxl_inode *)(p + ino_d1 * DXL_BLOCK_SIZE);
		in->nentries += 3;
		dxl_inode_set_crc(in);
	}
	unmap_pool(p, len);
	expect_repair("wrong nentries");

	/* 7. the primary superblock zeroed: the backup is used */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	memset(p, 0, DXL_BLOCK_SIZE);
	unmap_pool(p, len);
	expect_repair("zeroed primary superblock");
	check_data(work);

	/* 8. a refcount record with the wrong count */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	sb = (struct dxl_sb *)p;
	{
		uint8_t *node = p + sb->refc_blk * DXL_BLOCK_SIZE;
		struct dxl_node_hdr *h = (struct dxl_node_hdr *)node;
		struct dxl_leaf_slot *s = (struct dxl_leaf_slot *)(h + 1);
		CHECK(h->magic == DXL_NODE_MAGIC && h->level == 0 && h->nrecs >= 1);
		struct dxl_refc *rc = (struct dxl_refc *)(node + s[0].off);
		CHECK(rc->count == 2);
		rc->count = 7;
		dxl_node_set_crc(node);
	}
	unmap_pool(p, len);
	expect_repair("wrong refcount");
	check_data(work);

	/* 9. a shared extent that lost its SHARED flag */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	{
		struct dxl_extent *e = first_extent(p, ino_f1, &key);
		CHECK(e->flags & DXL_EXT_SHARED);
		e->flags = 0;
		dxl_node_set_crc(p + ino_f1 * DXL_BLOCK_SIZE + DXL_INODE_HDR);
	}
	unmap_pool(p, len);
	expect_repair("shared flag lost");

	/* 10. an entry removed from a directory: the file is unreachable and
	 * goes to /lost+found */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	{
		uint8_t *node = p + ino_d1 * DXL_BLOCK_SIZE + DXL_INODE_HDR;
		struct dxl_node_hdr *h = (struct dxl_node_hdr *)node;
		struct dxl_leaf_slot *s = (struct dxl_leaf_slot *)(h + 1);
		int found = -1;
		CHECK(h->level == 0);
		for (int i = 0; i < h->nrecs; i++) {
			uint64_t child; /* values are packed: not aligned */
			memcpy(&child, node + s[i].off, sizeof(child));
			if (child == ino_f2)
				found = i;
		}
		CHECK(found >= 0);
		/* drop the slot (the value bytes stay as unused heap) */
		memmove(&s[found], &s[found + 1], (size_t)(h->nrecs - found - 1) * sizeof(*s));
		h->nrecs--;
		dxl_node_set_crc(node);
		struct dxl_inode *in = (struct dxl_inode *)(p + ino_d1 * DXL_BLOCK_SIZE);
		in->nentries--;
		in->size--;
		dxl_inode_set_crc(in);
	}
	unmap_pool(p, len);
	expect_repair("unlinked inode");
	{
		dxl_pool *P;
		struct dxl_stat st;
		char name[64];
		snprintf(name, sizeof(name), "/lost+found/#%llu", (unsigned long long)ino_f2);
		CHECK_OK(dxl_pool_open(work, 0, &P));
		CHECK_OK(dxl_stat(P, name, &st));
		CHECK(st.ino == ino_f2 && st.nlink == 1);
		CHECK_OK(dxl_pool_close(P));
	}

	/* 11. an extent out of the data region: dropped */
	scratch_copy_file(pristine, work);
	p = map_pool(work, &len);
	sb = (struct dxl_sb *)p;
	{
		struct dxl_extent *e = first_extent(p, ino_f2, &key);
		e->phys = sb->data_units + 5;
		dxl_node_set_crc(p + ino_f2 * DXL_BLOCK_SIZE + DXL_INODE_HDR);
	}
	unmap_pool(p, len);
	expect_repair("extent out of range");

	/* 12. garbage and truncated images: an error, never a crash */
	{
		int fd = open(work, O_RDWR | O_TRUNC);
		char junk[3 * 4096];
		CHECK(fd >= 0);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 131 + 7);
		CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
		close(fd);
		CHECK(dxl_fsck(work, 0, report, NULL, &r) < 0);
		CHECK(dxl_fsck(work, DXL_FSCK_REPAIR, report, NULL, &r) < 0);
	}

	unlink(work);
	unlink(pristine);
	printf("test_fsck: ok\n");
	return 0;
}
