/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transactions: DRAM shadows of touched blocks, committed as redo records
 * of the cache lines that changed.  See journal.h for the protocol.
 */
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "util/util.h"

#define TX_HASH 1024u /* power of two, > 2 * DXL_TX_MAX_BLOCKS */
#define TX_MAX_FREES 64u /* free-unit intents per transaction */
#define LINES_PER_BLOCK (DXL_BLOCK_SIZE / DXL_CACHELINE)

struct shadow {
	uint64_t blk;
	uint8_t *buf;
	uint64_t dirty;       /* changed lines, found while logging, used to apply */
};

struct dxl_tx {
	struct dxl_journal *j;
	int active;
	int overflow;         /* asked for more blocks than fit: commit refuses */
	uint32_t n;
	uint32_t limit;       /* blocks that surely fit in the journal */
	struct shadow sh[DXL_TX_MAX_BLOCKS];
	uint32_t nfree;
	struct { uint64_t start, n; } frees[TX_MAX_FREES];
	int16_t hash[TX_HASH];
	uint8_t *bufs;        /* DXL_TX_MAX_BLOCKS shadow buffers */
	uint8_t scratch[DXL_BLOCK_SIZE] __attribute__((aligned(64)));
};

static uint32_t hash_blk(uint64_t blk)
{
	return (uint32_t)((blk * 0x9e3779b97f4a7c15ull) >> 54) & (TX_HASH - 1);
}

static int find(struct dxl_tx *tx, uint64_t blk)
{
	uint32_t h = hash_blk(blk);
	for (;;) {
		int16_t i = tx->hash[h];
		if (i < 0)
			return -1;
		if (tx->sh[i].blk == blk)
			return i;
		h = (h + 1) & (TX_HASH - 1);
	}
}

static uint8_t *pool_blk(struct dxl_journal *j, uint64_t blk)
{
	return j->pm->base + (blk << DXL_BLOCK_SHIFT);
}

static int blk_ok(struct dxl_journal *j, uint64_t blk)
{
	return blk < j->sb->pool_size / DXL_BLOCK_SIZE;
}

/* Journal capacity in blocks a transaction may shadow: each block can at
 * worst log every line plus one record header per line. */
static uint32_t tx_limit(const struct dxl_sb *sb)
{
	uint64_t room = dxl_jlog_room(sb) - TX_MAX_FREES * sizeof(struct dxl_jrec);
	uint64_t per = DXL_BLOCK_SIZE + LINES_PER_BLOCK * sizeof(struct dxl_jrec);
	uint64_t n = room / per;
	return (uint32_t)DXL_MIN(n, DXL_TX_MAX_BLOCKS);
}

struct dxl_tx *dxl_tx_begin(struct dxl_journal *j)
{
	struct dxl_tx *tx = j->tx;

	if (!tx) {
		tx = calloc(1, sizeof(*tx));
		if (!tx)
			return NULL;
		tx->bufs = aligned_alloc(64, (size_t)DXL_TX_MAX_BLOCKS * DXL_BLOCK_SIZE);
		if (!tx->bufs) {
			free(tx);
			return NULL;
		}
		memset(tx->hash, 0xff, sizeof(tx->hash));
		tx->j = j;
		j->tx = tx;
	}
	tx->active = 1;
	tx->overflow = 0;
	tx->n = 0;
	tx->nfree = 0;
	tx->limit = tx_limit(j->sb);
	return tx;
}

const void *dxl_tx_read(struct dxl_tx *tx, uint64_t blk)
{
	int i;

	if (!blk_ok(tx->j, blk))
		return NULL;
	i = find(tx, blk);
	return i >= 0 ? tx->sh[i].buf : pool_blk(tx->j, blk);
}

static void *shadow(struct dxl_tx *tx, uint64_t blk, int zero)
{
	uint32_t h;
	int i = find(tx, blk);
	uint8_t *buf;

	if (i >= 0) {
		if (zero)
			memset(tx->sh[i].buf, 0, DXL_BLOCK_SIZE);
		return tx->sh[i].buf;
	}
	if (!blk_ok(tx->j, blk) || tx->n >= DXL_TX_MAX_BLOCKS) {
		/* Callers check dxl_tx_full() at safe points; if one still runs
		 * over, the transaction is refused at commit rather than
		 * handing out NULL to every caller. */
		tx->overflow = 1;
		return tx->scratch;
	}
	buf = tx->bufs + (size_t)tx->n * DXL_BLOCK_SIZE;
	if (zero)
		memset(buf, 0, DXL_BLOCK_SIZE);
	else
		memcpy(buf, pool_blk(tx->j, blk), DXL_BLOCK_SIZE);
	tx->sh[tx->n].blk = blk;
	tx->sh[tx->n].buf = buf;
	for (h = hash_blk(blk); tx->hash[h] >= 0; h = (h + 1) & (TX_HASH - 1))
		;
	tx->hash[h] = (int16_t)tx->n;
	tx->n++;
	return buf;
}

void *dxl_tx_write(struct dxl_tx *tx, uint64_t blk)
{
	return shadow(tx, blk, 0);
}

void *dxl_tx_new(struct dxl_tx *tx, uint64_t blk)
{
	return shadow(tx, blk, 1);
}

int dxl_tx_touched(struct dxl_tx *tx, uint64_t blk)
{
	return find(tx, blk) >= 0;
}

int dxl_tx_free_units(struct dxl_tx *tx, uint64_t start, uint64_t n)
{
	uint32_t i;

	if (n == 0 || n > UINT32_MAX)
		return -ENOSPC;
	for (i = 0; i < tx->nfree; i++)
		if (start < tx->frees[i].start + tx->frees[i].n && tx->frees[i].start < start + n)
			return dxl_err(EUCLEAN, "allocation bitmap: units %llu+%llu are already free "
					       "(freed earlier in this transaction)",
				       (unsigned long long)start, (unsigned long long)n);
	if (tx->nfree >= TX_MAX_FREES)
		return -ENOSPC;
	tx->frees[tx->nfree].start = start;
	tx->frees[tx->nfree].n = n;
	tx->nfree++;
	return 0;
}

int dxl_tx_freeing(const struct dxl_tx *tx, uint64_t unit)
{
	uint32_t i;

	for (i = 0; tx && i < tx->nfree; i++)
		if (unit - tx->frees[i].start < tx->frees[i].n)
			return 1;
	return 0;
}

int dxl_tx_full(struct dxl_tx *tx)
{
	/* leave room for the worst single step after the check: a B+tree
	 * insert splitting every level plus the inode, bitmaps, superblock */
	return tx->n + 2 * DXL_NODE_MAX_LEVEL + 8 > tx->limit;
}

int dxl_tx_nblocks(struct dxl_tx *tx)
{
	return (int)tx->n;
}

static void tx_reset(struct dxl_tx *tx)
{
	uint32_t i;
	for (i = 0; i < tx->n; i++) {
		uint32_t h = hash_blk(tx->sh[i].blk);
		while (tx->hash[h] >= 0) {
			tx->hash[h] = -1;
			h = (h + 1) & (TX_HASH - 1);
		}
	}
	tx->n = 0;
	tx->nfree = 0;
	tx->active = 0;
	tx->overflow = 0;
}

void dxl_tx_abort(struct dxl_tx *tx)
{
	if (tx)
		tx_reset(tx);
}

/* Length of the run of set bits starting at bit start (which is set). */
static uint32_t run_len(uint64_t bits, uint32_t start)
{
	uint64_t v = ~(bits >> start);
	return v ? (uint32_t)__builtin_ctzll(v) : 64 - start;
}

/* Append a record to the log being built in the journal: len bytes of
 * src for off, or without src a free-unit intent for units off+len. */
static void log_rec(struct dxl_journal *j, uint8_t *log, uint64_t *used, uint64_t off,
		    const uint8_t *src, uint32_t len)
{
	struct dxl_jrec rec = { .off = off, .len = len, .kind = src ? DXL_JREC_BYTES : DXL_JREC_FREE_UNITS };

	dxl_pmem_store(j->pm, log + *used, &rec, sizeof(rec));
	if (src)
		dxl_pmem_store(j->pm, log + *used + sizeof(rec), src, len);
	*used += dxl_jrec_size(&rec);
}

/* The bytes of the records of a dirty mask. */
static uint64_t dirty_bytes(uint64_t dirty)
{
	uint64_t need = 0;

	while (dirty) {
		uint32_t start = (uint32_t)__builtin_ctzll(dirty);
		uint32_t run = run_len(dirty, start);

		need += sizeof(struct dxl_jrec) + (uint64_t)run * DXL_CACHELINE;
		dirty = start + run >= 64 ? 0 : dirty & (~0ull << (start + run));
	}
	return need;
}

/* Make durable, with the next drain, everything the metadata region may
 * hold that is not yet: the previous transaction's apply, by whichever
 * process.  On a pool file msync writes back the shared page cache; on
 * DAX (the test mode) its lines were flushed by this thread already. */
static void cover_applied(struct dxl_journal *j)
{
	dxl_pmem_cover(j->pm, 0, (j->sb->meta_blk + j->sb->meta_blocks) * DXL_BLOCK_SIZE);
}

/*
 * Where this transaction's need bytes of records go in the log (room
 * bytes): after the newest committed transaction's, or from the start if
 * they fit before it — never over it, since its apply may not be durable
 * yet.  Otherwise (rare: the log is sized for the largest transaction)
 * everything is made durable first, and the slot this one will take is
 * cleared: recovery must not find the transaction before the newest with
 * its records intact once the newest's records are overwritten, or it
 * would replay that one alone, over the newest's changes.
 */
static uint64_t log_place(struct dxl_journal *j, const struct dxl_jhdr *last, uint64_t need,
			  uint64_t room, unsigned slot)
{
	uint64_t lo = last ? dxl_jhdr_off(last) : 0, hi = last ? lo + last->bytes : 0;

	if (j->test_one_slot)
		return 0;
	if (need <= room - hi)
		return hi;
	if (need <= lo)
		return 0;
	cover_applied(j);
	dxl_pmem_drain_named(j->pm, "wrap");
	dxl_jslot_clear(j->pm, j->sb, slot);
	dxl_pmem_drain_named(j->pm, "wrap_slot");
	return 0;
}

/* Store the 8-byte words of a dirty run that changed, and only those:
 * a word rewritten with its own value is still a store, and a reader of
 * another field of the block that holds only the file's inode lock (an
 * overwrite reads its inode's size while a link or an unlink commits to
 * the same block) would race with it.  The free-unit intents store their
 * bitmap words the same way. */
void dxl_jstore_changed(struct dxl_pmem *pm, uint8_t *cur, const uint8_t *sh, size_t n)
{
	size_t w = 0;

	while (w < n) {
		size_t e;
		uint64_t a, b;

		memcpy(&a, cur + w, 8);
		memcpy(&b, sh + w, 8);
		if (a == b) {
			w += 8;
			continue;
		}
		for (e = w + 8; e < n; e += 8) {
			memcpy(&a, cur + e, 8);
			memcpy(&b, sh + e, 8);
			if (a == b)
				break;
		}
		dxl_pmem_store(pm, cur + w, sh + w, e - w);
		w = e;
	}
}

int dxl_tx_commit(struct dxl_tx *tx)
{
	struct dxl_journal *j = tx->j;
	struct dxl_pmem *pm = j->pm;
	uint8_t *log = dxl_jlog(pm, j->sb);
	uint64_t room = dxl_jlog_room(j->sb);
	uint64_t need = 0, used = 0, nrecs = 0, off, seq;
	struct dxl_jhdr hdr, last[DXL_JSLOTS];
	int have[DXL_JSLOTS], newest;
	unsigned slot;
	uint32_t i;

	if (tx->overflow) {
		tx_reset(tx);
		return dxl_err(E2BIG, "metadata transaction too large for the journal");
	}
	if (tx->n == 0 && tx->nfree == 0) {
		tx_reset(tx);
		return 0;
	}
	need = tx->nfree * sizeof(struct dxl_jrec);
	/* The changed cache lines of each shadow, and the log they need. */
	for (i = 0; i < tx->n; i++) {
		uint8_t *sh = tx->sh[i].buf;
		uint8_t *cur = pool_blk(j, tx->sh[i].blk);
		uint64_t dirty = 0;
		uint32_t l;

		dxl_fmt_finalize(j->sb, tx->sh[i].blk, sh);
		for (l = 0; l < LINES_PER_BLOCK; l++)
			if (memcmp(sh + l * DXL_CACHELINE, cur + l * DXL_CACHELINE, DXL_CACHELINE) != 0)
				dirty |= 1ull << l;
		tx->sh[i].dirty = dirty;
		need += dirty_bytes(dirty);
	}
	if (need == 0) {
		tx_reset(tx);
		return 0;
	}
	if (need > room) {
		tx_reset(tx);
		return dxl_err(E2BIG, "metadata transaction too large for the journal");
	}
	/* The pool's slots, not this process's count: another process may
	 * have committed since (we hold the metadata lock). */
	for (slot = 0; slot < DXL_JSLOTS; slot++)
		have[slot] = dxl_jslot_read(pm, j->sb, slot, &last[slot]);
	newest = dxl_jslot_newest(have, last);
	seq = newest >= 0 ? last[newest].seq : j->seq;
	off = log_place(j, newest >= 0 ? &last[newest] : NULL, need, room,
			(unsigned)((seq + 1) % DXL_JSLOTS));

	/* Records: runs of changed cache lines, then the intents (applied
	 * after them, on bitmap words the lines may hold too). */
	for (i = 0; i < tx->n; i++) {
		uint64_t dirty = tx->sh[i].dirty;
		uint8_t *sh = tx->sh[i].buf;

		while (dirty) {
			uint32_t start = (uint32_t)__builtin_ctzll(dirty);
			uint32_t run = run_len(dirty, start);

			log_rec(j, log + off, &used, (tx->sh[i].blk << DXL_BLOCK_SHIFT) + start * DXL_CACHELINE,
				sh + start * DXL_CACHELINE, run * DXL_CACHELINE);
			nrecs++;
			dirty = start + run >= 64 ? 0 : dirty & (~0ull << (start + run));
		}
	}
	for (i = 0; i < tx->nfree; i++, nrecs++)
		log_rec(j, log + off, &used, tx->frees[i].start, NULL, (uint32_t)tx->frees[i].n);
	/*
	 * Records and header are made durable by one drain: the header's
	 * checksum covers the records, so a header that reached the media
	 * before its records is simply not a valid commit.  With a deferred
	 * apply, the same drain makes the previous transaction's durable.
	 */
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = DXL_JHDR_MAGIC;
	hdr.seq = seq + 1;
	hdr.nrecs = nrecs;
	hdr.bytes = used;
	hdr.log_off = (uint32_t)off | (j->defer_apply ? DXL_JHDR_PREV_PENDING : 0);
	hdr.rec_crc = dxl_crc32c(0, log + off, used);
	memcpy(hdr.uuid, j->sb->uuid, sizeof(hdr.uuid));
	dxl_pmem_flush_named(pm, log + off, used, "log");
	if (j->defer_apply)
		cover_applied(j);
	if (j->test_one_slot)
		hdr.seq = seq + 1 + ((seq + 1) & 1); /* always even: slot 0 */
	dxl_jslot_write(pm, j->sb, &hdr);
	dxl_pmem_drain_named(pm, "commit");
	j->seq = hdr.seq;

	/* Apply in place: from here on the transaction is committed.  The
	 * count is odd while blocks change in place, so that a reader without
	 * the lock can tell it saw none of it (journal.h). */
	if (j->changes) {
		__atomic_add_fetch(j->changes, 1, __ATOMIC_RELAXED);
		dxl_store_fence();
	}
	for (i = 0; i < tx->n; i++) {
		uint64_t dirty = tx->sh[i].dirty;
		uint8_t *sh = tx->sh[i].buf;
		uint8_t *cur = pool_blk(j, tx->sh[i].blk);

		while (dirty) {
			uint32_t start = (uint32_t)__builtin_ctzll(dirty);
			uint32_t run = run_len(dirty, start);
			size_t loff = (size_t)start * DXL_CACHELINE, n = (size_t)run * DXL_CACHELINE;

			dxl_jstore_changed(pm, cur + loff, sh + loff, n);
			/* a pool file's next commit covers the region instead */
			if (!(j->defer_apply && pm->need_msync))
				dxl_pmem_flush(pm, cur + loff, n);
			dirty = start + run >= 64 ? 0 : dirty & (~0ull << (start + run));
		}
	}
	for (i = 0; i < tx->nfree; i++)
		dxl_jrec_free_apply(pm, j->sb, tx->frees[i].start, tx->frees[i].n,
				    !(j->defer_apply && pm->need_msync));
	if (!j->defer_apply)
		dxl_pmem_drain_named(pm, "apply");
	if (j->changes)
		__atomic_add_fetch(j->changes, 1, __ATOMIC_RELEASE);
	tx_reset(tx);
	return 0;
}

void dxl_journal_fini(struct dxl_journal *j)
{
	if (j->tx) {
		free(j->tx->bufs);
		free(j->tx);
		j->tx = NULL;
	}
}
