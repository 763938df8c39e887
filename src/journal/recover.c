/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery: replay the committed transactions whose in-place apply may
 * not be durable.  Replay is idempotent (records hold final bytes), so it
 * runs at every first open and after a process died holding the metadata
 * lock, without knowing whether they had been applied already.
 *
 * Which: the newest slot whose header and records are whole — a header
 * whose records do not match was cut short in its own commit (the header
 * reached the media before its records), or its records were overwritten
 * after everything had been made durable (and the slot before it cleared
 * first: journal/tx.c).  The other slot goes first if the newest says its
 * predecessor may be pending and the other slot holds it (seq - 1), whole:
 * its apply was made durable only by the newest one's commit, which may
 * have been cut short.  Replaying it when it was durable already is
 * harmless, as the newest follows it.
 */
#include <string.h>

#include "journal.h"
#include "util/util.h"

/* Records may only land in the superblock, the bitmaps or the metadata
 * region — never in the journal itself or in file data. */
static int rec_target_ok(const struct dxl_sb *sb, uint64_t off, uint32_t len)
{
	uint64_t lo = (sb->journal_blk + sb->journal_blocks) * DXL_BLOCK_SIZE;
	uint64_t hi = (sb->meta_blk + sb->meta_blocks) * DXL_BLOCK_SIZE;

	if (len == 0 || len > DXL_BLOCK_SIZE)
		return 0;
	if (off + len <= DXL_SB_CRC_LEN && off < DXL_BLOCK_SIZE)
		return 1;
	if (off < DXL_BLOCK_SIZE && off + len <= DXL_BLOCK_SIZE)
		return 1;
	return off >= lo && off < hi && len <= hi - off;
}

/* Check every record before applying any, so a damaged journal that
 * still matches its checksum cannot half-apply. */
static int check_records(const struct dxl_sb *sb, const uint8_t *log, const struct dxl_jhdr *h)
{
	uint64_t pos, n;

	for (pos = 0, n = 0; n < h->nrecs; n++) {
		struct dxl_jrec rec;
		if (pos + sizeof(rec) > h->bytes)
			return dxl_err(EUCLEAN, "journal record %llu of transaction %llu runs past its log",
				       (unsigned long long)n, (unsigned long long)h->seq);
		memcpy(&rec, log + pos, sizeof(rec));
		if (rec.kind == DXL_JREC_FREE_UNITS) {
			if (!dxl_jrec_free_ok(sb, &rec))
				return dxl_err(EUCLEAN, "journal record %llu of transaction %llu frees units "
					       "outside the data region (%llu+%u)", (unsigned long long)n,
					       (unsigned long long)h->seq, (unsigned long long)rec.off, rec.len);
		} else if (rec.kind != DXL_JREC_BYTES || !rec_target_ok(sb, rec.off, rec.len) ||
			   pos + sizeof(rec) + rec.len > h->bytes) {
			return dxl_err(EUCLEAN, "journal record %llu of transaction %llu targets bytes it "
				       "may not (offset %llu, length %u, kind %u)", (unsigned long long)n,
				       (unsigned long long)h->seq, (unsigned long long)rec.off, rec.len, rec.kind);
		}
		pos += dxl_jrec_size(&rec);
	}
	return 0;
}

static void replay(struct dxl_pmem *pm, const struct dxl_sb *sb, const uint8_t *log,
		   const struct dxl_jhdr *h)
{
	uint64_t pos, n;

	for (pos = 0, n = 0; n < h->nrecs; n++) {
		struct dxl_jrec rec;
		memcpy(&rec, log + pos, sizeof(rec));
		if (rec.kind == DXL_JREC_FREE_UNITS)
			dxl_jrec_free_apply(pm, sb, rec.off, rec.len, 1);
		else
			dxl_pmem_memcpy(pm, pm->base + rec.off, log + pos + sizeof(rec), rec.len);
		pos += dxl_jrec_size(&rec);
	}
}

int dxl_journal_recover(struct dxl_journal *j, struct dxl_pmem *pm, struct dxl_sb *sb)
{
	struct dxl_jhdr h[DXL_JSLOTS];
	const uint8_t *log;
	int ok[DXL_JSLOTS], newest, older, rc;
	unsigned k;

	j->pm = pm;
	j->sb = sb;
	j->seq = 0;
	log = dxl_jlog(pm, sb);
	for (k = 0; k < DXL_JSLOTS; k++) {
		ok[k] = dxl_jslot_read(pm, sb, k, &h[k]);
		if (ok[k] && h[k].seq > j->seq)
			j->seq = h[k].seq;
		ok[k] = ok[k] && dxl_jslot_records_ok(pm, sb, &h[k]);
	}
	newest = dxl_jslot_newest(ok, h);
	if (newest < 0)
		return 0; /* nothing committed, or nothing left to replay */
	older = !newest;
	if (!(h[newest].log_off & DXL_JHDR_PREV_PENDING) || !ok[older] ||
	    h[older].seq + 1 != h[newest].seq)
		older = -1;
	if (older >= 0 && (rc = check_records(sb, log + dxl_jhdr_off(&h[older]), &h[older])) != 0)
		return rc;
	if ((rc = check_records(sb, log + dxl_jhdr_off(&h[newest]), &h[newest])) != 0)
		return rc;
	if (pm->rdonly)
		return 0;
	/* odd while blocks change (journal.h); a holder that died mid-apply
	 * left it odd already */
	if (j->changes) {
		__atomic_store_n(j->changes, __atomic_load_n(j->changes, __ATOMIC_RELAXED) | 1,
				 __ATOMIC_RELAXED);
		dxl_store_fence();
	}
	if (older >= 0)
		replay(pm, sb, log + dxl_jhdr_off(&h[older]), &h[older]);
	replay(pm, sb, log + dxl_jhdr_off(&h[newest]), &h[newest]);
	dxl_pmem_drain_named(pm, "replay");
	if (j->changes)
		__atomic_add_fetch(j->changes, 1, __ATOMIC_RELEASE);
	return 0;
}
