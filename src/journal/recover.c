/*
 * Recovery: replay the last committed transaction.  Replay is idempotent
 * (records hold final bytes), so it runs at every first open and after a
 * process died holding the metadata lock, without knowing whether the
 * transaction had been applied already.
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

int dxl_journal_recover(struct dxl_journal *j, struct dxl_pmem *pm, struct dxl_sb *sb)
{
	const struct dxl_jhdr *jh;
	struct dxl_jhdr hdr;
	const uint8_t *log;
	uint64_t room, pos, n;
	uint32_t crc;

	j->pm = pm;
	j->sb = sb;
	jh = (const struct dxl_jhdr *)(pm->base + sb->journal_blk * DXL_BLOCK_SIZE);
	log = pm->base + (sb->journal_blk + 1) * DXL_BLOCK_SIZE;
	room = (sb->journal_blocks - 1) * DXL_BLOCK_SIZE;

	memcpy(&hdr, jh, sizeof(hdr));
	j->seq = 0;
	if (hdr.magic != DXL_JHDR_MAGIC)
		return 0; /* never committed anything */
	crc = hdr.crc;
	hdr.crc = 0;
	if (dxl_crc32c(0, &hdr, sizeof(hdr)) != crc || memcmp(hdr.uuid, sb->uuid, sizeof(hdr.uuid)))
		return 0; /* torn header of an uncommitted transaction, or an older mkfs */
	j->seq = hdr.seq;
	if (hdr.bytes > room || dxl_crc32c(0, log, hdr.bytes) != hdr.rec_crc)
		return 0; /* records being overwritten by a later, uncommitted transaction */

	/* Check every record before applying any, so a damaged journal
	 * that still matches its checksum cannot half-apply. */
	for (pos = 0, n = 0; n < hdr.nrecs; n++) {
		struct dxl_jrec rec;
		if (pos + sizeof(rec) > hdr.bytes)
			return dxl_err(EUCLEAN, "journal record %llu runs past the log", (unsigned long long)n);
		memcpy(&rec, log + pos, sizeof(rec));
		if (!rec_target_ok(sb, rec.off, rec.len) ||
		    pos + sizeof(rec) + rec.len > hdr.bytes)
			return dxl_err(EUCLEAN, "journal record %llu targets bytes it may not (offset %llu, length %u)",
				       (unsigned long long)n, (unsigned long long)rec.off, rec.len);
		pos += sizeof(rec) + DXL_ALIGN_UP(rec.len, DXL_JREC_ALIGN);
	}
	if (pm->rdonly)
		return 0;
	/* odd while blocks change (journal.h); a holder that died mid-apply
	 * left it odd already */
	if (j->changes) {
		__atomic_store_n(j->changes, __atomic_load_n(j->changes, __ATOMIC_RELAXED) | 1,
				 __ATOMIC_RELAXED);
		dxl_store_fence();
	}
	for (pos = 0, n = 0; n < hdr.nrecs; n++) {
		struct dxl_jrec rec;
		memcpy(&rec, log + pos, sizeof(rec));
		dxl_pmem_memcpy(pm, pm->base + rec.off, log + pos + sizeof(rec), rec.len);
		pos += sizeof(rec) + DXL_ALIGN_UP(rec.len, DXL_JREC_ALIGN);
	}
	dxl_pmem_drain_named(pm, "replay");
	if (j->changes)
		__atomic_add_fetch(j->changes, 1, __ATOMIC_RELEASE);
	return 0;
}
