/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal: crash-atomic metadata transactions.
 *
 * A transaction works on DRAM shadow copies of the metadata blocks it
 * touches.  At commit, each shadow is compared with the block in the pool a
 * cache line at a time; changed lines become redo records in the journal
 * (so a transaction that touches 8 blocks but changes 20 lines logs ~1.3 KiB,
 * not 32 KiB), the header commits them, then they are applied in place.
 * Checksums of the blocks are set at commit from the block kind
 * (dxl_fmt_finalize), so callers never forget one.
 *
 * Reads inside a transaction go through dxl_tx_read() so they see the
 * transaction's own changes.  All of this runs under the pool's metadata
 * lock; there is one transaction at a time per pool.
 *
 * One flush per commit where flushes are dear (defer_apply): the records
 * and the header are made durable by one drain; the in-place apply that
 * follows is not drained, but made durable by the next commit's drain,
 * whichever process makes it (on a pool file, msync writes back the page
 * cache that all processes share: the next commit covers the whole
 * metadata region).  The last transaction stays replayable until then:
 * records go round the log, headers alternate between two slots
 * (format.h).  On DAX a fence orders only its own CPU's flushes, and the
 * next commit may run on another, so there the apply keeps its own fence
 * (a fence costs little there); defer_apply on DAX is a test mode of the
 * crash explorer, whose workloads run on one thread.
 */
#ifndef DXL_JOURNAL_H
#define DXL_JOURNAL_H

#include <stdint.h>

#include "format/format.h"
#include "pmem/pmem.h"

struct dxl_tx;

struct dxl_journal {
	struct dxl_pmem *pm;
	struct dxl_sb *sb;         /* primary superblock, in the mapping */
	uint64_t seq;              /* last committed sequence number */
	/* bumped by every commit or replay of any process (a shared word),
	 * so readers can tell that no metadata changed since they last
	 * checked something: odd while a commit or a replay changes blocks
	 * in place, even otherwise, so that a reader without the lock that
	 * saw the same even value before and after saw no change at all (a
	 * seqcount); NULL: not kept */
	uint64_t *changes;
	struct dxl_tx *tx;         /* reusable transaction state */
	int defer_apply;           /* see above: set by the opener */
	int test_one_slot;         /* DXL_TEST_JOURNAL_ONE_SLOT: slot 0, log at 0 (shows why not) */
};

/* Free-unit intents (intent.c): is the record's range inside the data
 * region; clear its bits in the pool (stores, and flushes if flush; no
 * drain). */
int dxl_jrec_free_ok(const struct dxl_sb *sb, const struct dxl_jrec *r);
void dxl_jrec_free_apply(struct dxl_pmem *pm, const struct dxl_sb *sb, uint64_t start, uint64_t n,
			 int flush);
/* Store the 8-byte words of [cur, cur + n) that differ from want, and
 * only those (tx.c says why); n is a multiple of 8. */
void dxl_jstore_changed(struct dxl_pmem *pm, uint8_t *cur, const uint8_t *want, size_t n);

/* A header slot as the pool holds it: 1 and *h if its header is whole
 * (magic, checksum, pool, records inside the log), else 0. */
int dxl_jslot_read(const struct dxl_pmem *pm, const struct dxl_sb *sb, unsigned k,
		   struct dxl_jhdr *h);
static inline uint32_t dxl_jhdr_off(const struct dxl_jhdr *h)
{
	return h->log_off & DXL_JHDR_OFF_MASK;
}
/* The log: the blocks after the header block, and how many bytes it has. */
static inline uint8_t *dxl_jlog(const struct dxl_pmem *pm, const struct dxl_sb *sb)
{
	return pm->base + (sb->journal_blk + 1) * DXL_BLOCK_SIZE;
}
static inline uint64_t dxl_jlog_room(const struct dxl_sb *sb)
{
	return (sb->journal_blocks - 1) * DXL_BLOCK_SIZE;
}
/* Of the slots read (ok[k]: usable), the one with the newer transaction;
 * -1 when neither is. */
static inline int dxl_jslot_newest(const int ok[DXL_JSLOTS], const struct dxl_jhdr h[DXL_JSLOTS])
{
	if (!ok[0] && !ok[1])
		return -1;
	return !ok[0] || (ok[1] && h[1].seq > h[0].seq) ? 1 : 0;
}
/* Clear slot k's magic (flushed, not drained): it describes nothing. */
void dxl_jslot_clear(struct dxl_pmem *pm, const struct dxl_sb *sb, unsigned k);
/* Seal h (checksum) and store it into its slot, flushed, not drained. */
void dxl_jslot_write(struct dxl_pmem *pm, const struct dxl_sb *sb, struct dxl_jhdr *h);
/* Everything applied is durable (the caller has just synced the metadata
 * region, under the metadata lock): say so with an empty transaction, so
 * that recovery — and fsck — of a pool closed cleanly replay nothing but
 * it, as before the slots.  Lock held. */
int dxl_journal_settle(struct dxl_journal *j);
/* Are the records a whole header describes still those it committed? */
int dxl_jslot_records_ok(const struct dxl_pmem *pm, const struct dxl_sb *sb,
			 const struct dxl_jhdr *h);

/* Find and replay the committed transactions whose apply may not be
 * durable (the newest, and the one before it); idempotent.  Sets j->seq. */
int dxl_journal_recover(struct dxl_journal *j, struct dxl_pmem *pm, struct dxl_sb *sb);
void dxl_journal_fini(struct dxl_journal *j);

/* Limits: a transaction may shadow at most this many blocks; callers of
 * unbounded work (truncating a huge file) commit in chunks and check
 * dxl_tx_full() at safe points. */
#define DXL_TX_MAX_BLOCKS 256u

struct dxl_tx *dxl_tx_begin(struct dxl_journal *j);
/* The block as this transaction sees it (shadow if touched, else the pool). */
const void *dxl_tx_read(struct dxl_tx *tx, uint64_t blk);
/* A writable shadow of the block (copied from the pool on first touch). */
void *dxl_tx_write(struct dxl_tx *tx, uint64_t blk);
/* A writable shadow that starts zeroed (a block being newly allocated). */
void *dxl_tx_new(struct dxl_tx *tx, uint64_t blk);
/* Has the transaction shadowed blk?  (committed state is then in the pool.) */
int dxl_tx_touched(struct dxl_tx *tx, uint64_t blk);
int dxl_tx_full(struct dxl_tx *tx);  /* nearly out of room: commit soon */
int dxl_tx_nblocks(struct dxl_tx *tx);
/* Free data units [start, start+n) at commit with a 16-byte intent record
 * instead of the bitmap's changed lines, so freeing a large extent costs
 * O(1) in the log, not O(units).  The caller has checked that the bits
 * are set in the pool and not changed by this transaction's shadows
 * (they stay set there until the commit, so nothing reuses the units
 * before it).  -ENOSPC: no room for another intent in this transaction
 * (use the shadow); -EUCLEAN: overlaps one already freed by it. */
int dxl_tx_free_units(struct dxl_tx *tx, uint64_t start, uint64_t n);
/* Is unit among those this transaction frees by intent? */
int dxl_tx_freeing(const struct dxl_tx *tx, uint64_t unit);
/* Make it durable and apply it. On failure nothing was applied. */
int dxl_tx_commit(struct dxl_tx *tx);
void dxl_tx_abort(struct dxl_tx *tx);

#endif
