/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal's two header slots (format.h): reading one as the pool
 * holds it, for the commit (where does the log go on, which seq is next)
 * and for recovery alike.
 */
#include <string.h>

#include "journal.h"
#include "util/util.h"

int dxl_jslot_read(const struct dxl_pmem *pm, const struct dxl_sb *sb, unsigned k,
		   struct dxl_jhdr *h)
{
	const uint8_t *blk = pm->base + sb->journal_blk * DXL_BLOCK_SIZE;
	uint32_t crc;

	memcpy(h, blk + DXL_JSLOT_OFF(k), sizeof(*h));
	if (h->magic != DXL_JHDR_MAGIC)
		return 0; /* never written */
	crc = h->crc;
	h->crc = 0;
	if (dxl_crc32c(0, h, sizeof(*h)) != crc || memcmp(h->uuid, sb->uuid, sizeof(h->uuid)))
		return 0; /* torn header of an uncommitted transaction, or an older mkfs */
	h->crc = crc;
	return dxl_jhdr_off(h) % DXL_JREC_ALIGN == 0 && dxl_jhdr_off(h) <= dxl_jlog_room(sb) &&
	       h->bytes <= dxl_jlog_room(sb) - dxl_jhdr_off(h);
}

int dxl_jslot_records_ok(const struct dxl_pmem *pm, const struct dxl_sb *sb,
			 const struct dxl_jhdr *h)
{
	const uint8_t *log = dxl_jlog(pm, sb);

	/* not: records since overwritten by a later transaction, which a
	 * slot's header outlives */
	return dxl_crc32c(0, log + dxl_jhdr_off(h), h->bytes) == h->rec_crc;
}

void dxl_jslot_write(struct dxl_pmem *pm, const struct dxl_sb *sb, struct dxl_jhdr *h)
{
	uint8_t *blk = pm->base + sb->journal_blk * DXL_BLOCK_SIZE;

	h->crc = 0;
	h->crc = dxl_crc32c(0, h, sizeof(*h));
	dxl_pmem_memcpy(pm, blk + DXL_JSLOT_OFF(h->seq % DXL_JSLOTS), h, sizeof(*h));
}

void dxl_jslot_clear(struct dxl_pmem *pm, const struct dxl_sb *sb, unsigned k)
{
	uint8_t *blk = pm->base + sb->journal_blk * DXL_BLOCK_SIZE;

	dxl_pmem_memset(pm, blk + DXL_JSLOT_OFF(k), 0, sizeof(uint32_t)); /* the magic */
}

/*
 * An empty transaction after the newest, saying nothing is pending.  Not
 * a rewrite of the newest header in place: torn, that would leave the
 * slot before it to be replayed alone, over the newest's changes.  The
 * empty one, torn, is simply not there.
 */
int dxl_journal_settle(struct dxl_journal *j)
{
	struct dxl_jhdr h[DXL_JSLOTS], e;
	int ok[DXL_JSLOTS] = { dxl_jslot_read(j->pm, j->sb, 0, &h[0]),
			       dxl_jslot_read(j->pm, j->sb, 1, &h[1]) };
	int newest = dxl_jslot_newest(ok, h);
	uint64_t end;

	if (j->pm->rdonly || j->test_one_slot || newest < 0 ||
	    !(h[newest].log_off & DXL_JHDR_PREV_PENDING))
		return 0;
	/* what this thread flushed of the last apply (DAX test mode; on a
	 * pool file the caller's msync did it) before the header says so */
	dxl_pmem_drain_named(j->pm, "settled");
	end = dxl_jhdr_off(&h[newest]) + h[newest].bytes;
	memset(&e, 0, sizeof(e));
	e.magic = DXL_JHDR_MAGIC;
	e.seq = h[newest].seq + 1;
	e.log_off = (uint32_t)(end <= dxl_jlog_room(j->sb) ? end : 0);
	e.rec_crc = dxl_crc32c(0, dxl_jlog(j->pm, j->sb) + e.log_off, 0);
	memcpy(e.uuid, j->sb->uuid, sizeof(e.uuid));
	dxl_jslot_write(j->pm, j->sb, &e);
	dxl_pmem_drain_named(j->pm, "settle");
	j->seq = e.seq;
	return 0;
}
