/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_codec: the library and fsck give one verdict on every tree record.
 *
 * For each record kind (directory entry, extent, refcount record) a valid
 * record and each kind of damage the codec knows are crafted, checked
 * against the codec (src/format/record.c) directly, then written into a
 * copy of a small pool through a transaction (so the node checksums are
 * right and only the record is wrong).  Then dxl_fsck and the library
 * operation that reads the record — readdir and lookup for an entry, a
 * read for an extent, a copy-on-write for a refcount record — must agree:
 * both clean for the valid record, both -EUCLEAN for a damaged one.
 * After fsck --repair, both must agree that the pool is clean.
 *
 *   test_codec [-v]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fs/fs.h"
#include "scratch_pool.h"

#define UNIT 4096u

enum kind { K_DIRENT, K_EXTENT, K_REFC };

/* A record being crafted: its key, its decoded fields and the bytes. */
struct craft {
	enum kind kind;
	uint64_t key;
	int insert;                /* a new record at key, not the target replaced */
	struct dxl_dent d;
	char name[DXL_NAME_MAX + 1];
	struct dxl_extent e;
	struct dxl_refc r;
	uint64_t data_units;
	uint32_t unit_shift;
	uint8_t buf[DXL_NODE_MAX_VAL];
	uint32_t vlen;
};

struct tcase {
	const char *what;
	enum kind kind;
	enum dxl_rec_fault want;
	void (*mutate)(struct craft *c); /* on the decoded fields, before encoding */
	int dlen;                  /* then: bytes added (> 0, 'x') or cut off (< 0) */
};

static void name_slash(struct craft *c) { c->name[2] = '/'; }
static void name_nul(struct craft *c) { c->name[2] = '\0'; }
static void name_empty(struct craft *c) { c->d.name_len = 0; }
static void name_dotdot(struct craft *c) { memcpy(c->name, "..", 2); c->d.name_len = 2; }
static void ino_zero(struct craft *c) { c->d.ino = 0; }
static void type_bad(struct craft *c) { c->d.type = 9; }
static void ext_len0(struct craft *c) { c->e.len = 0; }
static void ext_phys_end(struct craft *c) { c->e.phys = c->data_units; }
static void ext_len_end(struct craft *c) { c->e.len = (uint32_t)(c->data_units - c->e.phys + 1); }
static void ext_flags(struct craft *c) { c->e.flags |= 0x80; }
static void ext_offset_end(struct craft *c)
{
	/* a second extent whose last unit is past the largest file offset
	 * (the hole after the file's data reaches it) */
	c->insert = 1;
	c->key = (~0ull >> c->unit_shift) - 1;
	c->e.len = 2;
}
static void refc_len0(struct craft *c) { c->r.len = 0; }
static void refc_len_end(struct craft *c) { c->r.len = c->data_units; }
static void refc_count1(struct craft *c) { c->r.count = 1; }
static void refc_count0(struct craft *c) { c->r.count = 0; }

static const struct tcase cases[] = {
	{"entry: valid", K_DIRENT, DXL_REC_OK, NULL, 0},
	{"entry: a trailing byte", K_DIRENT, DXL_REC_SIZE, NULL, 1},
	{"entry: shorter than its header", K_DIRENT, DXL_REC_SIZE, NULL, -7},
	{"entry: name length past the value", K_DIRENT, DXL_REC_SIZE, NULL, -1},
	{"entry: empty name", K_DIRENT, DXL_REC_NAME, name_empty, 0},
	{"entry: a '/' in the name", K_DIRENT, DXL_REC_NAME, name_slash, 0},
	{"entry: a NUL in the name", K_DIRENT, DXL_REC_NAME, name_nul, 0},
	{"entry: named ..", K_DIRENT, DXL_REC_NAME, name_dotdot, 0},
	{"entry: inode 0", K_DIRENT, DXL_REC_INO, ino_zero, 0},
	{"entry: unknown type", K_DIRENT, DXL_REC_TYPE, type_bad, 0},
	{"extent: valid", K_EXTENT, DXL_REC_OK, NULL, 0},
	{"extent: a trailing byte", K_EXTENT, DXL_REC_SIZE, NULL, 1},
	{"extent: short value", K_EXTENT, DXL_REC_SIZE, NULL, -1},
	{"extent: zero length", K_EXTENT, DXL_REC_LEN, ext_len0, 0},
	{"extent: starts past the data region", K_EXTENT, DXL_REC_RANGE, ext_phys_end, 0},
	{"extent: runs past the data region", K_EXTENT, DXL_REC_RANGE, ext_len_end, 0},
	{"extent: past the largest file offset", K_EXTENT, DXL_REC_RANGE, ext_offset_end, 0},
	{"extent: unknown flags", K_EXTENT, DXL_REC_FLAGS, ext_flags, 0},
	{"refcount: valid", K_REFC, DXL_REC_OK, NULL, 0},
	{"refcount: a trailing byte", K_REFC, DXL_REC_SIZE, NULL, 1},
	{"refcount: short value", K_REFC, DXL_REC_SIZE, NULL, -8},
	{"refcount: zero length", K_REFC, DXL_REC_LEN, refc_len0, 0},
	{"refcount: runs past the data region", K_REFC, DXL_REC_RANGE, refc_len_end, 0},
	{"refcount: count 1", K_REFC, DXL_REC_COUNT, refc_count1, 0},
	{"refcount: count 0", K_REFC, DXL_REC_COUNT, refc_count0, 0},
};

static char pristine[400];
static uint64_t ino_d, ino_x;
static int verbose;

static void remove_pristine(void)
{
	if (getpid() == scratch_owner)
		unlink(pristine);
}

static void report(void *arg, const char *msg)
{
	(void)arg;
	if (verbose)
		fprintf(stderr, "    fsck: %s\n", msg);
}

static void put_file(dxl_pool *P, const char *path, size_t len, uint64_t size)
{
	dxl_file *f;
	char *buf = malloc(len);
	CHECK(buf);
	memset(buf, 'a', len);
	CHECK_OK(dxl_open(P, path, O_RDWR | O_CREAT, 0644, &f));
	CHECK_RC(dxl_pwrite(f, buf, len, 0), (long long)len);
	CHECK_OK(dxl_ftruncate(f, size));
	CHECK_OK(dxl_close(f));
	free(buf);
}

/*
 * /d holds the entry "victim" (and "other"); /x has 2 units of data and a
 * hole to 8 units; /g shares /f's 3 units (one refcount record).
 */
static void populate(const char *path)
{
	struct dxl_mkfs_opts o = {0};
	struct dxl_stat st;
	dxl_pool *P;
	dxl_file *f, *g;

	o.size = 64ull << 20;
	o.unit = UNIT;
	CHECK_OK(dxl_mkfs(path, &o));
	CHECK_OK(dxl_pool_open(path, 0, &P));
	CHECK_OK(dxl_mkdir(P, "/d", 0755));
	put_file(P, "/d/victim", 100, 100);
	put_file(P, "/d/other", 100, 100);
	put_file(P, "/x", 2 * UNIT, 8 * UNIT);
	put_file(P, "/f", 3 * UNIT, 3 * UNIT);
	CHECK_OK(dxl_open(P, "/f", O_RDWR, 0, &f));
	CHECK_OK(dxl_open(P, "/g", O_RDWR | O_CREAT, 0644, &g));
	CHECK_OK(dxl_reflink(f, 0, g, 0, 3 * UNIT));
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_close(g));
	CHECK_OK(dxl_stat(P, "/d", &st));
	ino_d = st.ino;
	CHECK_OK(dxl_stat(P, "/x", &st));
	ino_x = st.ino;
	CHECK_OK(dxl_pool_close(P));
}

static void kind_root(struct dxl_fs *fs, enum kind k, struct dxl_broot *root)
{
	if (k == K_REFC)
		dxl_refc_broot(fs, root);
	else
		dxl_inode_broot(k == K_DIRENT ? ino_d : ino_x, root);
}

/* The target record of kind k in the pristine pool, decoded into c. */
static void read_target(struct dxl_fs *fs, struct craft *c)
{
	struct dxl_broot root;
	uint8_t val[DXL_NODE_MAX_VAL];
	uint32_t vlen = sizeof(val);
	uint64_t from = 0;

	if (c->kind == K_DIRENT)
		from = dxl_name_hash("victim", 6) & DXL_DIR_HASH_MASK;
	kind_root(fs, c->kind, &root);
	CHECK_OK(dxl_bt_lookup(fs, NULL, &root, from, DXL_BT_GE, &c->key, val, &vlen));
	c->data_units = fs->sb->data_units;
	c->unit_shift = fs->sb->unit_shift;
	switch (c->kind) {
	case K_DIRENT:
		CHECK_OK(dxl_dirent_decode(val, vlen, &c->d, NULL));
		CHECK(c->d.name_len == 6 && memcmp(c->d.name, "victim", 6) == 0);
		memcpy(c->name, c->d.name, c->d.name_len);
		c->d.name = c->name;
		break;
	case K_EXTENT:
		CHECK(c->key == 0);
		CHECK_OK(dxl_extent_decode(fs->sb, c->key, val, vlen, &c->e, NULL));
		break;
	case K_REFC:
		CHECK_OK(dxl_refc_decode(fs->sb, c->key, val, vlen, &c->r, NULL));
		CHECK(c->r.len == 3 && c->r.count == 2);
		break;
	}
}

static void encode(struct craft *c, int dlen)
{
	switch (c->kind) {
	case K_DIRENT:
		c->vlen = dxl_dirent_encode(c->buf, &c->d);
		break;
	case K_EXTENT:
		c->vlen = dxl_extent_encode(c->buf, &c->e);
		break;
	case K_REFC:
		c->vlen = dxl_refc_encode(c->buf, &c->r);
		break;
	}
	for (; dlen > 0; dlen--)
		c->buf[c->vlen++] = 'x';
	CHECK(dlen >= 0 || (uint32_t)-dlen < c->vlen);
	c->vlen -= (uint32_t)-dlen;
}

static int decode(const struct dxl_sb *sb, const struct craft *c, struct dxl_rec_err *err)
{
	union {
		struct dxl_dent d;
		struct dxl_extent e;
		struct dxl_refc r;
	} out;

	switch (c->kind) {
	case K_DIRENT:
		return dxl_dirent_decode(c->buf, c->vlen, &out.d, err);
	case K_EXTENT:
		return dxl_extent_decode(sb, c->key, c->buf, c->vlen, &out.e, err);
	default:
		return dxl_refc_decode(sb, c->key, c->buf, c->vlen, &out.r, err);
	}
}

/* Craft case t's record into the pool at path, through a transaction;
 * check the codec's verdict on it first. */
static void craft_into(const char *path, const struct tcase *t)
{
	struct dxl_fs *fs = calloc(1, sizeof(*fs));
	struct dxl_rec_err err;
	struct dxl_broot root;
	struct craft c;
	struct dxl_tx *tx;
	int rc;

	CHECK(fs);
	memset(&c, 0, sizeof(c));
	c.kind = t->kind;
	CHECK_OK(dxl_fs_open(fs, path, 0));
	CHECK_OK(dxl_fs_lock(fs));
	read_target(fs, &c);
	if (t->mutate)
		t->mutate(&c);
	encode(&c, t->dlen);

	rc = decode(fs->sb, &c, &err);
	if (rc != (t->want == DXL_REC_OK ? 0 : -EUCLEAN) || err.fault != t->want) {
		fprintf(stderr, "%s: the codec says %d (fault %d, %s), expected fault %d\n", t->what,
			rc, err.fault, err.why ? err.why : "-", t->want);
		exit(1);
	}
	if (verbose)
		fprintf(stderr, "  %s: codec: %s\n", t->what, err.why ? err.why : "valid");

	kind_root(fs, c.kind, &root);
	tx = dxl_tx_begin(&fs->j);
	CHECK(tx);
	if (c.insert)
		CHECK_OK(dxl_bt_insert(fs, tx, &root, c.key, c.buf, c.vlen));
	else
		CHECK_OK(dxl_bt_update(fs, tx, &root, c.key, c.buf, c.vlen));
	CHECK_OK(dxl_tx_commit(tx));
	dxl_fs_unlock(fs);
	dxl_fs_close(fs);
	free(fs);
}

/* Only -EUCLEAN counts as "damaged"; any other error is a test failure. */
static int verdict(const char *what, const char *op, long long rc)
{
	if (rc == -EUCLEAN)
		return 1;
	if (rc < 0) {
		fprintf(stderr, "%s: %s failed with %lld (%s), expected 0 or -EUCLEAN\n", what, op, rc,
			dxl_errmsg());
		exit(1);
	}
	return 0;
}

/* The library operation that reads the record: 1 = it saw damage. */
static int library_verdict(const char *path, const struct tcase *t)
{
	struct dxl_dirent ent;
	struct dxl_stat st;
	dxl_pool *P;
	dxl_dir *dir;
	dxl_file *f;
	char buf[8 * UNIT];
	int bad = 0, rc;

	CHECK_OK(dxl_pool_open(path, 0, &P));
	switch (t->kind) {
	case K_DIRENT:
		CHECK_OK(dxl_opendir(P, "/d", &dir));
		while ((rc = dxl_readdir(dir, &ent)) == 1)
			;
		CHECK_OK(dxl_closedir(dir));
		bad = verdict(t->what, "readdir", rc);
		/* a lookup scans the name's hash window, which holds the record */
		rc = dxl_stat(P, "/d/victim", &st);
		if ((rc == -ENOENT ? 0 : verdict(t->what, "lookup", rc)) != bad) {
			fprintf(stderr, "%s: readdir and lookup disagree (lookup: %d)\n", t->what, rc);
			exit(1);
		}
		break;
	case K_EXTENT:
		CHECK_OK(dxl_open(P, "/x", O_RDONLY, 0, &f));
		bad = verdict(t->what, "read", dxl_pread(f, buf, sizeof(buf), 0));
		CHECK_OK(dxl_close(f));
		break;
	case K_REFC:
		/* a write over shared units asks the refcount tree (copy on write) */
		CHECK_OK(dxl_open(P, "/g", O_RDWR, 0, &f));
		bad = verdict(t->what, "copy-on-write", dxl_pwrite(f, "b", 1, 0));
		CHECK_OK(dxl_close(f));
		break;
	}
	CHECK_OK(dxl_pool_close(P));
	return bad;
}

static int fsck_verdict(const char *path, const char *what)
{
	struct dxl_fsck_result r;
	int rc = dxl_fsck(path, 0, report, NULL, &r);

	CHECK(rc == 0 || rc == -EUCLEAN);
	if ((rc == 0) != (r.problems == 0)) {
		fprintf(stderr, "%s: fsck returned %d with %llu problems\n", what, rc,
			(unsigned long long)r.problems);
		exit(1);
	}
	return rc == -EUCLEAN;
}

static void run_case(const char *work, const struct tcase *t)
{
	int want_bad = t->want != DXL_REC_OK;
	struct dxl_fsck_result r;
	int lib, fk;

	scratch_copy_file(pristine, work);
	craft_into(work, t);
	fk = fsck_verdict(work, t->what);
	lib = library_verdict(work, t);
	if (verbose || lib != fk || fk != want_bad)
		fprintf(stderr, "  %s: library %s, fsck %s\n", t->what, lib ? "EUCLEAN" : "clean",
			fk ? "EUCLEAN" : "clean");
	if (lib != fk || fk != want_bad) {
		fprintf(stderr, "%s: the library and fsck must both say %s\n", t->what,
			want_bad ? "EUCLEAN" : "clean");
		exit(1);
	}
	if (!want_bad)
		return;
	/* once repaired, both agree the pool is clean */
	if (dxl_fsck(work, DXL_FSCK_REPAIR, report, NULL, &r) != 0) {
		fprintf(stderr, "%s: fsck --repair failed: %s\n", t->what, dxl_errmsg());
		exit(1);
	}
	CHECK(fsck_verdict(work, t->what) == 0);
	CHECK(library_verdict(work, t) == 0);
}

int main(int argc, char **argv)
{
	char work[400];

	verbose = argc > 1 || getenv("DXL_TEST_VERBOSE");
	scratch_setup("codec");
	snprintf(pristine, sizeof(pristine), "%s/pristine", pool_dir);
	snprintf(work, sizeof(work), "%s", pool_path);
	atexit(remove_pristine); /* runs before scratch_cleanup removes the directory */
	populate(pristine);
	CHECK(fsck_verdict(pristine, "pristine pool") == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(work, &cases[i]);
	printf("test_codec: ok (%zu records)\n", sizeof(cases) / sizeof(cases[0]));
	return 0;
}
