/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Journal: redo transactions of changed cache lines, on a real pool.
 *
 * Commits land and survive close/reopen; the log holds only the lines that
 * changed (checked in the header and the records); replay is idempotent;
 * a header whose checksum, record checksum, uuid or magic is wrong is
 * ignored; a valid log with a record aimed at the data region or at the
 * journal is refused whole with -EUCLEAN (and then the pool does not open
 * until it is dealt with); a transaction too large for the journal is
 * refused and applies nothing; a transaction torn mid-apply is replayed at
 * the next open; a torn primary superblock is mended through the backup's
 * geometry; with two header slots a deferred apply is replayed after the
 * transaction before it, a torn newest header leaves the one before it
 * as the last, and records that were overwritten replay nothing.  Ends
 * with a clean fsck.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h"
#include "fs/fs.h"


static struct dxl_fs fs;
static struct dxl_tx *tx;

#define LINE DXL_CACHELINE
#define RECSZ ((uint64_t)sizeof(struct dxl_jrec))

/* ------------------------------------------------------------ helpers */

static void pool_open_flags(unsigned flags)
{
	CHECK_OK(dxl_fs_open(&fs, pool_path, flags));
	CHECK_OK(dxl_fs_lock(&fs));
}

static void pool_open(void)
{
	pool_open_flags(0);
}

static void pool_close(void)
{
	dxl_fs_unlock(&fs);
	dxl_fs_close(&fs);
	memset(&fs, 0, sizeof(fs));
}

static void reopen(void)
{
	pool_close();
	pool_open();
}

static void tx_start(void)
{
	tx = dxl_tx_begin(&fs.j);
	CHECK(tx != NULL);
}

/* Free metadata blocks from the top of the region: nothing allocates
 * there in this test, so their bytes are ours to scribble on. */
static uint64_t scratch(unsigned k)
{
	uint64_t b = fs.sb->meta_blk + fs.sb->meta_blocks - 1 - k;
	CHECK(dxl_is_meta_blk(&fs, b));
	CHECK(!dxl_meta_used(&fs, NULL, b));
	return b;
}

static uint8_t *pool_at(uint64_t off)
{
	return fs.pm.base + off;
}

static uint64_t blk_off(uint64_t blk)
{
	return blk << DXL_BLOCK_SHIFT;
}

static uint8_t *jslot(unsigned k)
{
	return (uint8_t *)dxl_blk_ptr(&fs, fs.sb->journal_blk) + DXL_JSLOT_OFF(k);
}

/* The newest header: the slot with the magic and the higher seq. */
static struct dxl_jhdr *jhdr(void)
{
	struct dxl_jhdr *h0 = (struct dxl_jhdr *)jslot(0), *h1 = (struct dxl_jhdr *)jslot(1);

	if (h1->magic == DXL_JHDR_MAGIC && (h0->magic != DXL_JHDR_MAGIC || h1->seq > h0->seq))
		return h1;
	return h0;
}

static struct dxl_jhdr *jother(void)
{
	struct dxl_jhdr *h = jhdr();
	return (struct dxl_jhdr *)jslot((uint8_t *)h == jslot(0) ? 1 : 0);
}

/* The one-slot journal these tests were written for: the slot not
 * holding the newest header is cleared, so it cannot stand in. */
static void forget_other(void)
{
	memset(jother(), 0, sizeof(struct dxl_jhdr));
}

static uint8_t *jlog_base(void)
{
	return dxl_blk_ptr(&fs, fs.sb->journal_blk + 1);
}

/* The newest transaction's records. */
static uint8_t *jlog(void)
{
	return jlog_base() + (jhdr()->log_off & DXL_JHDR_OFF_MASK);
}

static uint64_t jroom(void)
{
	return (fs.sb->journal_blocks - 1) * DXL_BLOCK_SIZE;
}

/* Would recovery replay the newest header now in the journal? */
static int hdr_replayable(void)
{
	struct dxl_jhdr h;
	uint32_t crc;

	memcpy(&h, jhdr(), sizeof(h));
	crc = h.crc;
	h.crc = 0;
	return h.magic == DXL_JHDR_MAGIC && dxl_crc32c(0, &h, sizeof(h)) == crc &&
	       memcmp(h.uuid, fs.sb->uuid, sizeof(h.uuid)) == 0 &&
	       (h.log_off & DXL_JHDR_OFF_MASK) + h.bytes <= jroom() &&
	       dxl_crc32c(0, jlog(), h.bytes) == h.rec_crc;
}

static void hdr_seal(struct dxl_jhdr *h)
{
	h->crc = 0;
	h->crc = dxl_crc32c(0, h, sizeof(*h));
}

static int recover(void)
{
	return dxl_journal_recover(&fs.j, &fs.pm, fs.sb);
}

struct rec_view {
	uint64_t off;
	uint32_t len;
	const uint8_t *data;
};

/* The records of the committed transaction, as the header describes them. */
static size_t log_records(struct rec_view *out, size_t max)
{
	const struct dxl_jhdr *h = jhdr();
	uint64_t pos = 0, n;

	CHECK(h->nrecs <= max);
	for (n = 0; n < h->nrecs; n++) {
		struct dxl_jrec r;
		CHECK(pos + RECSZ <= h->bytes);
		memcpy(&r, jlog() + pos, sizeof(r));
		CHECK(r.kind == DXL_JREC_BYTES || r.kind == DXL_JREC_FREE_UNITS);
		CHECK(pos + dxl_jrec_size(&r) <= h->bytes);
		out[n].off = r.off;
		out[n].len = r.len;
		out[n].data = r.kind == DXL_JREC_BYTES ? jlog() + pos + RECSZ : NULL;
		pos += dxl_jrec_size(&r);
	}
	CHECK(pos == h->bytes);
	return (size_t)n;
}

/* ------------------------------------------------------------ commits */

static void test_commit_lines(void)
{
	uint64_t A = scratch(0), B = scratch(1), C = scratch(2), D = scratch(3);
	static uint8_t ea[DXL_BLOCK_SIZE], eb[DXL_BLOCK_SIZE], ec[DXL_BLOCK_SIZE], ed[DXL_BLOCK_SIZE];
	struct dxl_jhdr before;
	struct rec_view r[16];
	uint8_t *a, *b, *c, *d;
	uint64_t seq0;

	memcpy(ea, dxl_blk_ptr(&fs, A), DXL_BLOCK_SIZE);
	memcpy(eb, dxl_blk_ptr(&fs, B), DXL_BLOCK_SIZE);
	memcpy(ec, dxl_blk_ptr(&fs, C), DXL_BLOCK_SIZE);
	memcpy(ed, dxl_blk_ptr(&fs, D), DXL_BLOCK_SIZE);

	tx_start();
	a = dxl_tx_write(tx, A);
	b = dxl_tx_write(tx, B);
	c = dxl_tx_write(tx, C);
	d = dxl_tx_write(tx, D);
	CHECK(a && b && c && d);
	CHECK(dxl_tx_nblocks(tx) == 4);
	CHECK(dxl_tx_touched(tx, D) && !dxl_tx_touched(tx, scratch(4)));
	a[5] ^= 0x5a;                     /* A: line 0 */
	b[3 * LINE + 1] ^= 0x01;          /* B: lines 3 and 4, one run */
	b[4 * LINE + 2] ^= 0x02;
	c[0] ^= 0x03;                     /* C: lines 0 and 63, two runs */
	c[63 * LINE + 63] ^= 0x04;
	d[100] ^= 0;                      /* D: touched, unchanged */
	ea[5] ^= 0x5a;
	eb[3 * LINE + 1] ^= 0x01;
	eb[4 * LINE + 2] ^= 0x02;
	ec[0] ^= 0x03;
	ec[63 * LINE + 63] ^= 0x04;
	/* the transaction sees its changes; the pool does not, yet */
	CHECK(((const uint8_t *)dxl_tx_read(tx, A))[5] == ea[5]);
	CHECK(dxl_blk_ptr(&fs, A) != (void *)a);
	CHECK(((uint8_t *)dxl_blk_ptr(&fs, A))[5] != ea[5]);
	seq0 = fs.j.seq;
	CHECK_OK(dxl_tx_commit(tx));

	CHECK(memcmp(dxl_blk_ptr(&fs, A), ea, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, B), eb, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, C), ec, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, D), ed, DXL_BLOCK_SIZE) == 0);
	CHECK(fs.j.seq == seq0 + 1);
	CHECK(jhdr()->seq == seq0 + 1);
	CHECK(hdr_replayable());
	/* only changed lines: 4 records, 64 + 128 + 64 + 64 bytes */
	CHECK(jhdr()->nrecs == 4);
	CHECK(jhdr()->bytes == 4 * RECSZ + 64 + 128 + 64 + 64);
	CHECK(log_records(r, 16) == 4);
	CHECK(r[0].off == blk_off(A) && r[0].len == 64);
	CHECK(r[1].off == blk_off(B) + 3 * LINE && r[1].len == 128);
	CHECK(r[2].off == blk_off(C) && r[2].len == 64);
	CHECK(r[3].off == blk_off(C) + 63 * LINE && r[3].len == 64);
	for (int i = 0; i < 4; i++)
		CHECK(memcmp(r[i].data, pool_at(r[i].off), r[i].len) == 0);

	/* one byte in one block: one 64-byte record */
	tx_start();
	a = dxl_tx_write(tx, A);
	a[10 * LINE + 17] ^= 0xc3;
	ea[10 * LINE + 17] ^= 0xc3;
	CHECK_OK(dxl_tx_commit(tx));
	CHECK(jhdr()->seq == seq0 + 2);
	CHECK(jhdr()->nrecs == 1);
	CHECK(jhdr()->bytes == RECSZ + 64);
	CHECK(log_records(r, 16) == 1);
	CHECK(r[0].off == blk_off(A) + 10 * LINE && r[0].len == 64);
	CHECK(memcmp(r[0].data, ea + 10 * LINE, 64) == 0);

	/* a transaction that changes nothing writes no header */
	memcpy(&before, jhdr(), sizeof(before));
	tx_start();
	b = dxl_tx_write(tx, B);
	b[7] ^= 0;
	CHECK_OK(dxl_tx_commit(tx));
	CHECK(memcmp(&before, jhdr(), sizeof(before)) == 0);
	CHECK(fs.j.seq == seq0 + 2);

	/* a block the pool does not have: the commit is refused */
	tx_start();
	(void)dxl_tx_write(tx, fs.sb->pool_size / DXL_BLOCK_SIZE);
	CHECK(dxl_tx_read(tx, fs.sb->pool_size / DXL_BLOCK_SIZE) == NULL);
	CHECK(dxl_tx_commit(tx) < 0);
	CHECK(memcmp(&before, jhdr(), sizeof(before)) == 0);

	/* survives close and reopen (which replays the last header again) */
	reopen();
	CHECK(memcmp(dxl_blk_ptr(&fs, A), ea, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, B), eb, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, C), ec, DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(dxl_blk_ptr(&fs, D), ed, DXL_BLOCK_SIZE) == 0);
	CHECK(fs.j.seq == seq0 + 2);
	printf("  commits log only changed lines, survive reopen\n");
}

/* ------------------------------------------------------------ replay */

/* Commit a one-byte change in blk at off; return the line's old bytes. */
static void commit_byte(uint64_t blk, uint32_t off, uint8_t *old_line, uint8_t *new_line)
{
	uint32_t l = off / LINE * LINE;
	uint8_t *p;

	memcpy(old_line, (uint8_t *)dxl_blk_ptr(&fs, blk) + l, LINE);
	tx_start();
	p = dxl_tx_write(tx, blk);
	p[off] ^= 0x99;
	CHECK_OK(dxl_tx_commit(tx));
	memcpy(new_line, (uint8_t *)dxl_blk_ptr(&fs, blk) + l, LINE);
	CHECK(memcmp(old_line, new_line, LINE) != 0);
	CHECK(hdr_replayable());
}

static void test_idempotent(void)
{
	uint64_t A = scratch(0);
	uint64_t len = blk_off(fs.sb->meta_blk + fs.sb->meta_blocks);
	uint8_t old[LINE], cur[LINE], *snap;
	uint8_t *line = (uint8_t *)dxl_blk_ptr(&fs, A) + 20 * LINE;

	commit_byte(A, 20 * LINE + 3, old, cur);
	snap = malloc(len);
	CHECK(snap != NULL);
	memcpy(snap, fs.pm.base, len);
	CHECK_OK(recover());
	CHECK(memcmp(snap, fs.pm.base, len) == 0);
	CHECK(fs.j.seq == jhdr()->seq);
	CHECK_OK(recover());
	CHECK(memcmp(snap, fs.pm.base, len) == 0);
	CHECK(fs.j.seq == jhdr()->seq);

	/* ...and it really replays: a line put back to its old bytes (as if
	 * the apply had not reached it) comes back */
	memcpy(line, old, LINE);
	CHECK(memcmp(snap, fs.pm.base, len) != 0);
	CHECK_OK(recover());
	CHECK(memcmp(line, cur, LINE) == 0);
	CHECK(memcmp(snap, fs.pm.base, len) == 0);
	CHECK_OK(recover());
	CHECK(memcmp(snap, fs.pm.base, len) == 0);
	free(snap);
	printf("  replay is idempotent\n");
}

static void test_bad_header(void)
{
	uint64_t A = scratch(1);
	uint8_t old[LINE], cur[LINE], byte;
	uint8_t *line = (uint8_t *)dxl_blk_ptr(&fs, A) + 7 * LINE;
	struct dxl_jhdr saved, *h;

	commit_byte(A, 7 * LINE + 9, old, cur);
	h = jhdr();
	forget_other();
	memcpy(&saved, h, sizeof(saved));

	/* header checksum broken: ignored, no error */
	memcpy(line, old, LINE);
	h->seq ^= 1;
	CHECK(!hdr_replayable());
	CHECK_OK(recover());
	CHECK(memcmp(line, old, LINE) == 0);
	memcpy(h, &saved, sizeof(saved));
	CHECK_OK(recover());
	CHECK(memcmp(line, cur, LINE) == 0);

	/* records no longer match rec_crc (being overwritten by a later
	 * transaction that never committed): ignored */
	memcpy(line, old, LINE);
	byte = jlog()[RECSZ];
	jlog()[RECSZ] ^= 0xff;
	CHECK(!hdr_replayable());
	CHECK_OK(recover());
	CHECK(memcmp(line, old, LINE) == 0);
	jlog()[RECSZ] = byte;
	CHECK_OK(recover());
	CHECK(memcmp(line, cur, LINE) == 0);

	/* a valid header of another pool (older mkfs): ignored */
	memcpy(line, old, LINE);
	h->uuid[3] ^= 0x40;
	hdr_seal(h);
	CHECK_OK(recover());
	CHECK(memcmp(line, old, LINE) == 0);

	/* no magic: never committed */
	memcpy(h, &saved, sizeof(saved));
	h->magic = 0;
	hdr_seal(h);
	CHECK_OK(recover());
	CHECK(memcmp(line, old, LINE) == 0);
	CHECK(fs.j.seq == 0);

	/* records past the journal's room: ignored */
	memcpy(h, &saved, sizeof(saved));
	h->bytes = jroom() + 8;
	hdr_seal(h);
	CHECK_OK(recover());
	CHECK(memcmp(line, old, LINE) == 0);

	memcpy(h, &saved, sizeof(saved));
	CHECK_OK(recover());
	CHECK(memcmp(line, cur, LINE) == 0);
	CHECK(fs.j.seq == saved.seq);
	printf("  damaged headers are ignored\n");
}

/* ------------------------------------------------------------ hand-built logs */

struct hrec {
	uint64_t off;
	uint32_t len;
	uint8_t fill;
};

/* Write a log of records (each len bytes of fill) with a header that
 * checksums correctly; nrecs_adj adds to the record count in the header. */
static void build_log(const struct hrec *r, size_t n, int nrecs_adj)
{
	struct dxl_jhdr h;
	uint64_t pos = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct dxl_jrec rec = { .off = r[i].off, .len = r[i].len, .kind = DXL_JREC_BYTES };
		uint64_t need = RECSZ + DXL_ALIGN_UP(r[i].len, DXL_JREC_ALIGN);
		CHECK(pos + need <= jroom());
		memcpy(jlog_base() + pos, &rec, sizeof(rec));
		memset(jlog_base() + pos + RECSZ, r[i].fill, need - RECSZ);
		pos += need;
	}
	memset(&h, 0, sizeof(h));
	h.magic = DXL_JHDR_MAGIC;
	h.seq = fs.j.seq + 1;
	h.nrecs = (uint64_t)((int64_t)n + nrecs_adj);
	h.bytes = pos;
	h.rec_crc = dxl_crc32c(0, jlog_base(), pos);
	memcpy(h.uuid, fs.sb->uuid, sizeof(h.uuid));
	hdr_seal(&h);
	memcpy(jslot(h.seq % DXL_JSLOTS), &h, sizeof(h)); /* records at 0 */
	forget_other();
	CHECK(hdr_replayable());
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void test_bad_targets(void)
{
	uint64_t E = scratch(4), e_off = blk_off(E);
	uint64_t meta_end = blk_off(fs.sb->meta_blk + fs.sb->meta_blocks);
	uint64_t last_unit = fs.sb->data_off + ((fs.sb->data_units - 1) << fs.sb->unit_shift);
	uint8_t *e = pool_at(e_off);
	struct hrec good = { e_off, 64, 0xab };
	struct hrec bad[] = {
		{ fs.sb->data_off, 64, 0xcd },                           /* first data unit */
		{ last_unit, 64, 0xcd },                                 /* last data unit */
		{ blk_off(fs.sb->journal_blk), 64, 0xcd },               /* journal header */
		{ blk_off(fs.sb->journal_blk + 1) + 4096, 64, 0xcd },    /* journal records */
		{ blk_off(fs.sb->journal_blk + fs.sb->journal_blocks) - 64, 64, 0xcd }, /* last journal line */
		{ DXL_BLOCK_SIZE - 32, 64, 0xcd },                       /* superblock into journal */
		{ meta_end - 32, 64, 0xcd },                             /* metadata into data */
		{ fs.sb->pool_size - DXL_BLOCK_SIZE, 64, 0xcd },         /* backup superblock */
		{ fs.sb->pool_size + DXL_BLOCK_SIZE, 64, 0xcd },         /* past the pool */
		{ UINT64_MAX - 31, 64, 0xcd },                           /* wraps around */
		{ e_off + 1024, 0, 0xcd },                               /* empty */
		{ blk_off(fs.sb->meta_blk + 5), DXL_BLOCK_SIZE + 8, 0xcd }, /* longer than a block */
	};
	struct hrec pair[2];
	uint8_t saved_bad[64], e_old[64];
	size_t i;

	/* the builder is right: a legal record replays */
	memset(e, 0, 64);
	build_log(&good, 1, 0);
	CHECK_OK(recover());
	CHECK(all_bytes(e, 64, 0xab));
	/* bitmaps are legal targets too (bits past the last block: zero) */
	{
		struct hrec bmrec = { blk_off(fs.sb->mbitmap_blk) + 1024, 64, 0 };
		CHECK(all_bytes(pool_at(bmrec.off), 64, 0));
		build_log(&bmrec, 1, 0);
		CHECK_OK(recover());
	}

	memset(e, 0x11, 64);
	memcpy(e_old, e, 64);
	for (i = 0; i < DXL_ARRAY_SIZE(bad); i++) {
		int in_pool = bad[i].off < fs.pm.size && bad[i].len <= 64 &&
			      bad[i].off + 64 <= fs.pm.size;
		pair[0] = good;
		pair[1] = bad[i];
		build_log(pair, 2, 0);
		if (in_pool)
			memcpy(saved_bad, pool_at(bad[i].off), 64);
		CHECK_RC(recover(), -EUCLEAN);
		CHECK(strstr(dxl_errmsg(), "journal record 1") != NULL);
		CHECK(memcmp(e, e_old, 64) == 0);
		if (in_pool)
			CHECK(memcmp(pool_at(bad[i].off), saved_bad, 64) == 0);
		/* the bad record first: same */
		pair[0] = bad[i];
		pair[1] = good;
		build_log(pair, 2, 0);
		if (in_pool)
			memcpy(saved_bad, pool_at(bad[i].off), 64);
		CHECK_RC(recover(), -EUCLEAN);
		CHECK(memcmp(e, e_old, 64) == 0);
		if (in_pool)
			CHECK(memcmp(pool_at(bad[i].off), saved_bad, 64) == 0);
	}
	/* a header that counts more records than its bytes hold */
	build_log(&good, 1, 1);
	CHECK_RC(recover(), -EUCLEAN);
	CHECK(memcmp(e, e_old, 64) == 0);

	/* such a log keeps the pool from opening, not just from replaying */
	pair[0] = good;
	pair[1] = bad[0];
	build_log(pair, 2, 0);
	pool_close();
	CHECK_RC(dxl_fs_open(&fs, pool_path, 0), -EUCLEAN);
	CHECK(strstr(dxl_errmsg(), "journal record") != NULL);
	/* fsck -n style open looks at it as it is; a new commit supersedes it */
	pool_open_flags(DXL_FS_NORECOVER);
	CHECK(memcmp(pool_at(e_off), e_old, 64) == 0);
	tx_start();
	((uint8_t *)dxl_tx_write(tx, E))[2048] ^= 1;
	CHECK_OK(dxl_tx_commit(tx));
	pool_close();
	pool_open();
	CHECK(memcmp(pool_at(e_off), e_old, 64) == 0);
	printf("  records aimed outside metadata are refused whole\n");
}

/* ------------------------------------------------------------ too large */

static void test_too_large(void)
{
	uint32_t nblk = DXL_TX_MAX_BLOCKS + 1, k, full_at = 0, fill_n;
	uint64_t per = DXL_BLOCK_SIZE + RECSZ;
	uint8_t **snap;
	struct dxl_jhdr before;
	uint64_t seq0 = fs.j.seq;

	snap = calloc(nblk, sizeof(*snap));
	CHECK(snap != NULL);
	for (k = 0; k < nblk; k++) {
		snap[k] = malloc(DXL_BLOCK_SIZE);
		CHECK(snap[k] != NULL);
		memcpy(snap[k], dxl_blk_ptr(&fs, scratch(k)), DXL_BLOCK_SIZE);
	}

	/* more blocks than a transaction may shadow */
	memcpy(&before, jhdr(), sizeof(before));
	tx_start();
	for (k = 0; k < nblk; k++) {
		uint8_t *p = dxl_tx_write(tx, scratch(k));
		CHECK(p != NULL);
		p[k % DXL_BLOCK_SIZE] ^= 0x77;
		if (!full_at && dxl_tx_full(tx))
			full_at = k + 1;
	}
	CHECK(full_at > 0 && full_at < DXL_TX_MAX_BLOCKS);
	CHECK_RC(dxl_tx_commit(tx), -E2BIG);
	CHECK(strstr(dxl_errmsg(), "too large") != NULL);
	for (k = 0; k < nblk; k++)
		CHECK(memcmp(snap[k], dxl_blk_ptr(&fs, scratch(k)), DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(&before, jhdr(), sizeof(before)) == 0);
	CHECK(fs.j.seq == seq0);

	/* fewer blocks, but every line changed: more bytes than the log holds */
	fill_n = (uint32_t)(jroom() / per) + 1;
	CHECK(fill_n < DXL_TX_MAX_BLOCKS && fill_n <= nblk);
	tx_start();
	for (k = 0; k < fill_n; k++) {
		uint8_t *p = dxl_tx_write(tx, scratch(k));
		for (uint32_t l = 0; l < DXL_BLOCK_SIZE / LINE; l++)
			p[l * LINE + (k % LINE)] ^= 0x21;
	}
	CHECK(dxl_tx_full(tx));
	CHECK_RC(dxl_tx_commit(tx), -E2BIG);
	for (k = 0; k < nblk; k++)
		CHECK(memcmp(snap[k], dxl_blk_ptr(&fs, scratch(k)), DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(&before, jhdr(), sizeof(before)) == 0);
	CHECK(fs.j.seq == seq0);
	/* a refused transaction wrote no record: the last one still replays,
	 * and leaves everything as it is */
	CHECK(hdr_replayable());
	CHECK_OK(recover());
	for (k = 0; k < nblk; k++)
		CHECK(memcmp(snap[k], dxl_blk_ptr(&fs, scratch(k)), DXL_BLOCK_SIZE) == 0);

	/* what dxl_tx_full still allows commits, even with every line changed */
	tx_start();
	for (k = 0; k + 1 < full_at; k++) {
		uint8_t *p = dxl_tx_write(tx, scratch(k));
		for (uint32_t l = 0; l < DXL_BLOCK_SIZE / LINE; l++)
			p[l * LINE + 1] ^= 0x42;
		CHECK(!dxl_tx_full(tx));
	}
	CHECK_OK(dxl_tx_commit(tx));
	CHECK(hdr_replayable());
	CHECK(jhdr()->nrecs == full_at - 1);
	for (k = 0; k + 1 < full_at; k++) {
		uint8_t *p = dxl_blk_ptr(&fs, scratch(k));
		for (uint32_t l = 0; l < DXL_BLOCK_SIZE / LINE; l++)
			snap[k][l * LINE + 1] ^= 0x42;
		CHECK(memcmp(snap[k], p, DXL_BLOCK_SIZE) == 0);
	}
	for (k = 0; k < nblk; k++)
		free(snap[k]);
	free(snap);
	printf("  oversized transactions are refused (dxl_tx_full at %u blocks)\n", full_at);
}

/* ------------------------------------------------------------ torn */

static void test_torn_apply(void)
{
	uint64_t A = scratch(5), B = scratch(6);
	uint8_t ea[DXL_BLOCK_SIZE], eb[DXL_BLOCK_SIZE], old_a[LINE];
	uint8_t *a, *b;

	memcpy(old_a, (uint8_t *)dxl_blk_ptr(&fs, A) + 30 * LINE, LINE);
	tx_start();
	a = dxl_tx_write(tx, A);
	b = dxl_tx_write(tx, B);
	a[30 * LINE + 5] ^= 0x3c;
	a[31 * LINE + 5] ^= 0x3c;
	b[0] ^= 0x3c;
	CHECK_OK(dxl_tx_commit(tx));
	memcpy(ea, dxl_blk_ptr(&fs, A), DXL_BLOCK_SIZE);
	memcpy(eb, dxl_blk_ptr(&fs, B), DXL_BLOCK_SIZE);

	/* the crash came after the header, before the apply reached line 30 */
	memcpy((uint8_t *)dxl_blk_ptr(&fs, A) + 30 * LINE, old_a, LINE);
	CHECK(memcmp(ea, dxl_blk_ptr(&fs, A), DXL_BLOCK_SIZE) != 0);
	reopen();
	CHECK(memcmp(ea, dxl_blk_ptr(&fs, A), DXL_BLOCK_SIZE) == 0);
	CHECK(memcmp(eb, dxl_blk_ptr(&fs, B), DXL_BLOCK_SIZE) == 0);
	printf("  a transaction torn mid-apply is replayed at open\n");
}

static void test_torn_sb(void)
{
	uint8_t old0[LINE], bk;
	uint64_t free0 = fs.sb->free_units, u, got;
	uint64_t boff = fs.sb->pool_size - DXL_BLOCK_SIZE;

	memcpy(old0, fs.pm.base, LINE);
	tx_start();
	CHECK_OK(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1, &u, &got));
	CHECK(got == 1);
	CHECK_OK(dxl_tx_commit(tx));
	CHECK(fs.sb->free_units == free0 - 1);
	CHECK(memcmp(old0, fs.pm.base, LINE) != 0); /* the crc line changed */

	/* old checksum line, new counters line */
	memcpy(fs.pm.base, old0, LINE);
	CHECK_RC(dxl_sb_verify(fs.sb, fs.pm.size), -EUCLEAN);
	pool_close();
	pool_open();
	CHECK_OK(dxl_sb_verify(fs.sb, fs.pm.size));
	CHECK(fs.sb->free_units == free0 - 1);
	CHECK(dxl_unit_used(&fs, NULL, u));

	/* the same with no usable backup: refused, nothing guessed */
	memcpy(old0, fs.pm.base, LINE);
	tx_start();
	CHECK_OK(dxl_unit_free(&fs, tx, u, 1));
	CHECK_OK(dxl_tx_commit(tx));
	memcpy(fs.pm.base, old0, LINE);
	bk = fs.pm.base[boff + 200];
	fs.pm.base[boff + 200] ^= 0xff;
	pool_close();
	CHECK_RC(dxl_fs_open(&fs, pool_path, 0), -EUCLEAN);
	CHECK(strstr(dxl_errmsg(), "backup") != NULL);
	/* mend the backup directly in the file, then it opens */
	{
		FILE *f = fopen(pool_path, "r+b");
		CHECK(f != NULL);
		CHECK(fseek(f, (long)(boff + 200), SEEK_SET) == 0);
		CHECK(fputc(bk, f) == bk);
		CHECK(fclose(f) == 0);
	}
	pool_open();
	CHECK_OK(dxl_sb_verify(fs.sb, fs.pm.size));
	CHECK(fs.sb->free_units == free0);
	CHECK(!dxl_unit_used(&fs, NULL, u));
	printf("  a torn superblock is mended through the backup's geometry\n");
}

/* ------------------------------------------------------------ two slots */

/* Commit one byte flip at each (blk, off) pair; returns the header. */
static struct dxl_jhdr commit_flips(const uint64_t *blk, const uint32_t *off, int n, uint8_t x)
{
	tx_start();
	for (int i = 0; i < n; i++)
		((uint8_t *)dxl_tx_write(tx, blk[i]))[off[i]] ^= x;
	CHECK_OK(dxl_tx_commit(tx));
	return *jhdr();
}

static void test_slots(void)
{
	uint64_t A = scratch(7), B = scratch(8);
	uint8_t *a = dxl_blk_ptr(&fs, A), *b = dxl_blk_ptr(&fs, B);
	uint8_t pre_k[LINE], pre_l[LINE], pre_m[LINE], v3_l[LINE], v4_l[LINE], v4_m[LINE], v3_k[LINE];
	struct dxl_jhdr h1, h2, h3, h4;
	uint64_t blks[2];
	uint32_t offs[2];

	/* consecutive transactions: the other slot, the log right after */
	blks[0] = A, offs[0] = 3;
	h1 = commit_flips(blks, offs, 1, 0x11);
	blks[0] = B, offs[0] = 5;
	h2 = commit_flips(blks, offs, 1, 0x22);
	CHECK(h2.seq == h1.seq + 1);
	CHECK((uint8_t *)jhdr() == jslot(h2.seq % 2) && jother()->seq == h1.seq);
	CHECK((h1.log_off & DXL_JHDR_OFF_MASK) + h1.bytes + h2.bytes > jroom() ||
	      (h2.log_off & DXL_JHDR_OFF_MASK) == (h1.log_off & DXL_JHDR_OFF_MASK) + h1.bytes);
	CHECK(!(h2.log_off & DXL_JHDR_PREV_PENDING)); /* DAX: the apply had its own fence */

	/* Deferred apply: T3 changes lines K and L of A; T4 changes L again
	 * and M of B.  Crash with neither apply durable: T3 is replayed
	 * first, then T4, because T4 says T3 may be pending. */
	fs.j.defer_apply = 1;
	memcpy(pre_k, a + 10 * LINE, LINE);
	memcpy(pre_l, a + 11 * LINE, LINE);
	memcpy(pre_m, b + 12 * LINE, LINE);
	blks[0] = A, offs[0] = 10 * LINE;
	blks[1] = A, offs[1] = 11 * LINE;
	h3 = commit_flips(blks, offs, 2, 0x33);
	memcpy(v3_k, a + 10 * LINE, LINE);
	memcpy(v3_l, a + 11 * LINE, LINE);
	blks[0] = A, offs[0] = 11 * LINE + 1;
	blks[1] = B, offs[1] = 12 * LINE;
	h4 = commit_flips(blks, offs, 2, 0x44);
	memcpy(v4_l, a + 11 * LINE, LINE);
	memcpy(v4_m, b + 12 * LINE, LINE);
	fs.j.defer_apply = 0;
	CHECK(h4.seq == h3.seq + 1 && (h4.log_off & DXL_JHDR_PREV_PENDING));
	CHECK((h3.log_off & DXL_JHDR_OFF_MASK) + h3.bytes <= (h4.log_off & DXL_JHDR_OFF_MASK) ||
	      (h4.log_off & DXL_JHDR_OFF_MASK) + h4.bytes <= (h3.log_off & DXL_JHDR_OFF_MASK));

#define CRASH_BOTH()                                  \
	do {                                          \
		memcpy(a + 10 * LINE, pre_k, LINE);   \
		memcpy(a + 11 * LINE, pre_l, LINE);   \
		memcpy(b + 12 * LINE, pre_m, LINE);   \
	} while (0)
	CRASH_BOTH();
	CHECK_OK(recover());
	CHECK(fs.j.seq == h4.seq);
	CHECK(memcmp(a + 10 * LINE, v3_k, LINE) == 0); /* only T3 had it */
	CHECK(memcmp(a + 11 * LINE, v4_l, LINE) == 0); /* T3, then T4 */
	CHECK(memcmp(b + 12 * LINE, v4_m, LINE) == 0);

	/* without the flag, T3 is not replayed (and K stays lost: the flag
	 * is what recovery goes by) */
	{
		struct dxl_jhdr *h = jhdr(), keep = *h;
		CRASH_BOTH();
		h->log_off &= DXL_JHDR_OFF_MASK;
		hdr_seal(h);
		CHECK_OK(recover());
		CHECK(memcmp(a + 10 * LINE, pre_k, LINE) == 0);
		CHECK(memcmp(a + 11 * LINE, v4_l, LINE) == 0);
		*h = keep;
	}

	/* T4's header torn: T4 never committed, T3 is the last */
	{
		struct dxl_jhdr *h = jhdr(), keep = *h;
		CRASH_BOTH();
		h->nrecs ^= 4; /* checksum no longer matches */
		CHECK_OK(recover());
		CHECK(fs.j.seq == h3.seq);
		CHECK(memcmp(a + 10 * LINE, v3_k, LINE) == 0);
		CHECK(memcmp(a + 11 * LINE, v3_l, LINE) == 0);
		CHECK(memcmp(b + 12 * LINE, pre_m, LINE) == 0);
		*h = keep;
	}

	/* T4's header durable, its records not (its commit cut short): T4
	 * never committed, T3 is the last — replayed, with what it may have
	 * pending */
	{
		uint8_t *r = jlog() + RECSZ, keep = *r;
		CRASH_BOTH();
		*r ^= 0xff;
		CHECK_OK(recover());
		CHECK(fs.j.seq == h4.seq);
		CHECK(memcmp(a + 10 * LINE, v3_k, LINE) == 0);
		CHECK(memcmp(a + 11 * LINE, v3_l, LINE) == 0);
		CHECK(memcmp(b + 12 * LINE, pre_m, LINE) == 0);
		*r = keep;
	}

	/* T4's records overwritten after a drain of everything: the slot
	 * before it was cleared first (journal/tx.c), so nothing is replayed
	 * — above all not T3 alone, over T4's line L */
	{
		uint8_t *r = jlog() + RECSZ, keep = *r;
		struct dxl_jhdr *o = jother(), okeep = *o;
		CRASH_BOTH();
		memcpy(a + 11 * LINE, v4_l, LINE);
		*r ^= 0xff;
		o->magic = 0;
		CHECK_OK(recover());
		CHECK(memcmp(a + 10 * LINE, pre_k, LINE) == 0);
		CHECK(memcmp(a + 11 * LINE, v4_l, LINE) == 0);
		*r = keep;
		*o = okeep;
	}

	/* settled: an empty transaction without the flag ends it */
	CHECK_OK(recover()); /* everything as committed */
	CHECK_OK(dxl_journal_settle(&fs.j));
	CHECK(jhdr()->seq == h4.seq + 1 && jhdr()->nrecs == 0 && jhdr()->bytes == 0);
	CHECK(!(jhdr()->log_off & DXL_JHDR_PREV_PENDING) && hdr_replayable());
	CHECK(jother()->seq == h4.seq);
	memcpy(a + 10 * LINE, pre_k, LINE);
	CHECK_OK(recover());
	CHECK(memcmp(a + 10 * LINE, pre_k, LINE) == 0);
	memcpy(a + 10 * LINE, v3_k, LINE);
	CHECK_OK(dxl_journal_settle(&fs.j)); /* nothing pending: no-op */
	CHECK(jhdr()->seq == h4.seq + 1);
#undef CRASH_BOTH

	/* Large transactions: one that does not fit after the newest goes
	 * to the start of the log when it fits before it. */
	{
		int nb = 0;
		struct dxl_jhdr hb[3];
		tx_start();
		while (!dxl_tx_full(tx))
			dxl_tx_write(tx, scratch(10 + (unsigned)nb++));
		dxl_tx_abort(tx);
		nb--;
		CHECK(nb > 2);
		for (int round = 0; round < 3; round++) {
			tx_start();
			for (int k = 0; k < nb; k++) {
				uint8_t *p = dxl_tx_write(tx, scratch(10 + (unsigned)k));
				for (uint32_t l = 0; l < DXL_BLOCK_SIZE / LINE; l++)
					p[l * LINE + 7] ^= (uint8_t)(0x10 + round);
			}
			CHECK_OK(dxl_tx_commit(tx));
			hb[round] = *jhdr();
			CHECK(hdr_replayable());
		}
		for (int round = 1; round < 3; round++) {
			uint64_t po = hb[round - 1].log_off & DXL_JHDR_OFF_MASK, pe = po + hb[round - 1].bytes;
			uint64_t o = hb[round].log_off & DXL_JHDR_OFF_MASK;
			if (pe + hb[round].bytes <= jroom())
				CHECK(o == pe);
			else if (hb[round].bytes <= po)
				CHECK(o == 0);
			else
				CHECK(o == 0); /* after a drain of everything ("wrap") */
			CHECK(o + hb[round].bytes <= po || o >= pe || hb[round].bytes > po);
		}
		printf("  large transactions of %d blocks went at log offsets %u, %u, %u\n", nb,
		       hb[0].log_off & DXL_JHDR_OFF_MASK, hb[1].log_off & DXL_JHDR_OFF_MASK,
		       hb[2].log_off & DXL_JHDR_OFF_MASK);
	}
	printf("  two header slots: deferred applies replay in order\n");
}

/* Freeing units logs one 16-byte intent, whatever the length; it is
 * applied after the transaction's lines (a bit allocated and a run freed
 * in one bitmap block both land), and replayed the same way. */
static void test_free_intents(void)
{
	uint64_t u, got, x, xgot, f0;
	const uint8_t *bm = dxl_blk_ptr(&fs, fs.sb->dbitmap_blk);
	uint8_t before[DXL_BLOCK_SIZE], after[DXL_BLOCK_SIZE];
	struct rec_view r[8];
	uint32_t len;

	/* a run of 3000 units, committed */
	tx_start();
	CHECK_OK(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 3000, &u, &got));
	CHECK(got == 3000 && u + got <= DXL_BLOCK_SIZE * 8);
	CHECK_OK(dxl_tx_commit(tx));
	f0 = fs.sb->free_units;
	memcpy(before, bm, sizeof(before));

	/* free it while allocating one more unit in the same bitmap block */
	tx_start();
	CHECK_OK(dxl_unit_free(&fs, tx, u, got));
	CHECK(!dxl_unit_used(&fs, tx, u) && !dxl_unit_used(&fs, tx, u + got - 1));
	CHECK(dxl_unit_used(&fs, NULL, u)); /* in the pool until the commit */
	CHECK_OK(dxl_unit_alloc(&fs, tx, DXL_GOAL_LOW, 1, &x, &xgot));
	CHECK(xgot == 1 && (x < u || x >= u + got)); /* not one freed by this transaction */
	CHECK_RC(dxl_unit_free(&fs, tx, u + 10, 1), -EUCLEAN); /* freed twice */
	CHECK(strstr(dxl_errmsg(), "already free") != NULL);
	CHECK_OK(dxl_tx_commit(tx));
	CHECK(!dxl_unit_used(&fs, NULL, u) && !dxl_unit_used(&fs, NULL, u + got - 1));
	CHECK(dxl_unit_used(&fs, NULL, x));
	CHECK(fs.sb->free_units == f0 + got - 1);
	memcpy(after, bm, sizeof(after));
	/* the log: the changed lines (superblock, the bit of x), then one
	 * intent for the 3000 units */
	{
		size_t n = log_records(r, 8), k, intents = 0;
		for (k = 0; k < n; k++)
			if (!r[k].data) {
				CHECK(k == n - 1 && r[k].off == u && r[k].len == got);
				intents++;
			}
		CHECK(intents == 1);
		len = (uint32_t)jhdr()->bytes;
		/* the superblock's two lines and x's: the 3000 bits would be
		 * 6 more lines, 384 bytes */
		CHECK(len <= 3 * (64 + RECSZ) + RECSZ);
	}

	/* torn apply: the bitmap block as before the transaction */
	memcpy((uint8_t *)bm, before, sizeof(before));
	CHECK_OK(recover());
	CHECK(memcmp(bm, after, sizeof(after)) == 0);
	CHECK_OK(recover()); /* idempotent */
	CHECK(memcmp(bm, after, sizeof(after)) == 0);

	/* an intent outside the data region is refused whole */
	{
		struct dxl_jhdr h = *jhdr();
		struct dxl_jrec rec = { .off = fs.sb->data_units - 1, .len = 2, .kind = DXL_JREC_FREE_UNITS };
		memcpy(jlog_base(), &rec, sizeof(rec));
		h.seq = fs.j.seq + 1;
		h.nrecs = 1;
		h.bytes = sizeof(rec);
		h.log_off = 0;
		h.rec_crc = dxl_crc32c(0, jlog_base(), sizeof(rec));
		hdr_seal(&h);
		memcpy(jslot(h.seq % DXL_JSLOTS), &h, sizeof(h));
		forget_other();
		memcpy(before, bm, sizeof(before));
		CHECK_RC(recover(), -EUCLEAN);
		CHECK(strstr(dxl_errmsg(), "outside the data region") != NULL);
		CHECK(memcmp(bm, before, sizeof(before)) == 0); /* nothing applied */
		memset(jslot(h.seq % DXL_JSLOTS), 0, sizeof(h));
	}
	tx_start();
	CHECK_OK(dxl_unit_free(&fs, tx, x, 1));
	CHECK_OK(dxl_tx_commit(tx));
	printf("  freeing units logs one intent, applied after the lines\n");
}

/* A pool made before the two slots is marked at its first writable open,
 * so that a library reading slot 0 only refuses it. */
static void test_jslots_upgrade(void)
{
	CHECK(fs.sb->feat_incompat & DXL_FEAT_INCOMPAT_JSLOTS); /* mkfs sets it */
	pool_close();
	pool_open_flags(DXL_FS_NORECOVER);
	fs.sb->feat_incompat &= ~DXL_FEAT_INCOMPAT_JSLOTS;
	dxl_sb_set_crc(fs.sb);
	CHECK_OK(dxl_sb_verify(fs.sb, fs.pm.size));
	pool_close();
	pool_open_flags(DXL_FS_RDONLY); /* read-only: left as it is */
	CHECK(!(fs.sb->feat_incompat & DXL_FEAT_INCOMPAT_JSLOTS));
	pool_close();
	pool_open();
	CHECK(fs.sb->feat_incompat & DXL_FEAT_INCOMPAT_JSLOTS);
	CHECK_OK(dxl_sb_verify(fs.sb, fs.pm.size));
	printf("  a pool from before the slots is marked at its first writable open\n");
}

/* ------------------------------------------------------------ main */

int main(void)
{
	struct dxl_mkfs_opts o = { 0 };
	struct dxl_fsck_result res;

	scratch_setup("journal");

	o.size = 32u << 20;
	o.unit = 4096;
	o.meta_size = 4u << 20;
	o.journal_size = 512u << 10;
	CHECK_OK(dxl_mkfs(pool_path, &o));
	pool_open();
	CHECK(fs.sb->journal_blocks == (512u << 10) / DXL_BLOCK_SIZE);

	test_commit_lines();
	test_idempotent();
	test_bad_header();
	test_bad_targets();
	test_too_large();
	test_torn_apply();
	test_torn_sb();
	test_slots();
	test_free_intents();
	test_jslots_upgrade();

	pool_close();
	memset(&res, 0, sizeof(res));
	CHECK_OK(dxl_fsck(pool_path, 0, scratch_fsck_report, NULL, &res));
	CHECK(res.problems == 0);
	printf("ok\n");
	return 0;
}
