/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * B+tree node encoding: initialisation, checksum and structural checks.
 * Pure functions over a node's bytes (see format.h for the layout).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/format.h"
#include "util/util.h"

_Static_assert(sizeof(struct dxl_node_hdr) == 24, "node header layout");
_Static_assert(sizeof(struct dxl_leaf_slot) == 16, "leaf slot layout");
_Static_assert(sizeof(struct dxl_int_ent) == 16, "internal entry layout");
_Static_assert(DXL_BLOCK_SIZE <= UINT16_MAX + 1u, "node offsets are u16");

void dxl_node_init(void *node, uint16_t cap, uint16_t level, uint64_t owner)
{
	struct dxl_node_hdr *h = node;

	memset(h, 0, sizeof(*h));
	h->magic = DXL_NODE_MAGIC;
	h->level = level;
	h->nrecs = 0;
	h->cap = cap;
	/* internal nodes have no heap; keeping it at cap there too makes a
	 * node that changes level (root grow/shrink) valid either way */
	h->heap = cap;
	h->owner = owner;
}

/* Bytes that matter, as two ranges: [0, a_end) and [b_start, cap).  The
 * gap between the slot array and the heap is free space and may hold
 * anything, so it is not covered. */
static void node_used_ranges(const struct dxl_node_hdr *h, uint32_t *a_end, uint32_t *b_start)
{
	if (h->level == 0) {
		*a_end = (uint32_t)sizeof(*h) + (uint32_t)h->nrecs * sizeof(struct dxl_leaf_slot);
		*b_start = h->heap;
	} else {
		*a_end = (uint32_t)sizeof(*h) + (uint32_t)h->nrecs * sizeof(struct dxl_int_ent);
		*b_start = h->cap;
	}
}

static uint32_t node_crc(const void *node)
{
	const struct dxl_node_hdr *h = node;
	const uint8_t *p = node;
	static const uint8_t zero[sizeof(h->crc)];
	uint32_t a_end, b_start, crc, cap;
	const size_t crc_off = offsetof(struct dxl_node_hdr, crc);

	node_used_ranges(h, &a_end, &b_start);
	/* set_crc may meet a node nobody verified: never read past it */
	cap = DXL_MIN(h->cap, DXL_BLOCK_SIZE);
	a_end = DXL_MAX(DXL_MIN(a_end, cap), (uint32_t)sizeof(*h));
	b_start = DXL_MIN(b_start, cap);
	/* without copying: bytes before the crc field, the field as zeros,
	 * then the rest of the used bytes */
	crc = dxl_crc32c(0, p, crc_off);
	crc = dxl_crc32c(crc, zero, sizeof(zero));
	crc = dxl_crc32c(crc, p + crc_off + sizeof(h->crc), a_end - crc_off - sizeof(h->crc));
	if (b_start < cap)
		crc = dxl_crc32c(crc, p + b_start, cap - b_start);
	return crc;
}

/* Only call on a node that passed the structural check (or was built by
 * us): the ranges come from the header. */
void dxl_node_set_crc(void *node)
{
	struct dxl_node_hdr *h = node;

	h->crc = node_crc(node);
}

int dxl_node_verify(const void *node, uint32_t cap, int check_crc)
{
	const struct dxl_node_hdr *h = node;
	const uint8_t *p = node;
	uint32_t i, n, end;

	if (cap < sizeof(*h) || cap > DXL_BLOCK_SIZE)
		return dxl_err(EUCLEAN, "B+tree node: capacity %u out of range", cap);
	if (h->magic != DXL_NODE_MAGIC)
		return dxl_err(EUCLEAN, "B+tree node: bad magic 0x%08x", h->magic);
	if (h->cap != cap)
		return dxl_err(EUCLEAN, "B+tree node: capacity %u, expected %u", h->cap, cap);
	if (h->level > DXL_NODE_MAX_LEVEL)
		return dxl_err(EUCLEAN, "B+tree node: level %u exceeds %u", h->level,
			       DXL_NODE_MAX_LEVEL);
	n = h->nrecs;
	if (h->level == 0) {
		const struct dxl_leaf_slot *s = (const void *)(p + sizeof(*h));
		uint64_t vbytes = 0;

		end = (uint32_t)sizeof(*h) + n * (uint32_t)sizeof(*s);
		if (end > cap)
			return dxl_err(EUCLEAN, "B+tree leaf: %u records overflow a %u-byte node",
				       n, cap);
		if (h->heap < end || h->heap > cap)
			return dxl_err(EUCLEAN, "B+tree leaf: heap offset %u outside [%u, %u]",
				       h->heap, end, cap);
		for (i = 0; i < n; i++) {
			if (s[i].len > DXL_NODE_MAX_VAL)
				return dxl_err(EUCLEAN, "B+tree leaf: record %u: value of %u bytes",
					       i, s[i].len);
			if (s[i].off < h->heap || (uint32_t)s[i].off + s[i].len > cap)
				return dxl_err(EUCLEAN,
					       "B+tree leaf: record %u: value [%u, +%u) outside the heap",
					       i, s[i].off, s[i].len);
			if (i > 0 && s[i].key <= s[i - 1].key)
				return dxl_err(EUCLEAN, "B+tree leaf: keys out of order at record %u",
					       i);
			vbytes += s[i].len;
		}
		/* values may not overlap: their total has to fit in the heap,
		 * or compacting the node would run into the slot array */
		if (vbytes > cap - h->heap)
			return dxl_err(EUCLEAN, "B+tree leaf: %llu value bytes in a %u-byte heap",
				       (unsigned long long)vbytes, cap - h->heap);
	} else {
		const struct dxl_int_ent *e = (const void *)(p + sizeof(*h));

		end = (uint32_t)sizeof(*h) + n * (uint32_t)sizeof(*e);
		if (end > cap)
			return dxl_err(EUCLEAN,
				       "B+tree internal node: %u entries overflow a %u-byte node", n,
				       cap);
		for (i = 1; i < n; i++)
			if (e[i].key <= e[i - 1].key)
				return dxl_err(EUCLEAN,
					       "B+tree internal node: keys out of order at entry %u",
					       i);
	}
	if (check_crc) {
		uint32_t crc = node_crc(node);

		if (crc != h->crc)
			return dxl_err(EUCLEAN, "B+tree node: checksum 0x%08x, computed 0x%08x",
				       h->crc, crc);
	}
	return 0;
}
