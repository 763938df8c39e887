/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsck helpers: growable arrays, a u64 hash map and bitmap scanning.
 * Everything here is sized by what fsck finds in use (inodes, tree nodes,
 * extents), never by the pool's size, so checking a 1 TiB sparse pool
 * costs memory in proportion to its metadata only.
 */
#ifndef DXL_FSCK_UTIL_H
#define DXL_FSCK_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growable array of fixed-size elements. */
struct fk_vec {
	void *v;
	size_t n, cap;
};
/* Room for one more element at the end; NULL when out of memory. */
void *fk_vec_push(struct fk_vec *g, size_t elsz);
void fk_vec_free(struct fk_vec *g);

/* Open-addressing map from a non-zero u64 key to a u32 value. */
struct fk_map {
	uint64_t *keys;            /* 0 = empty slot (key 0 is never stored) */
	uint32_t *vals;
	size_t cap, n;
};
/* Index of key's slot, or -1 when absent. */
long fk_map_find(const struct fk_map *m, uint64_t key);
/* 1 = inserted, 0 = already present (value left alone), -ENOMEM. */
int fk_map_put(struct fk_map *m, uint64_t key, uint32_t val);
void fk_map_free(struct fk_map *m);

/* First bit index in [from, to) whose value is val (0/1), or to.  Bits are
 * numbered LSB-first inside each byte (= little-endian u64 words). */
uint64_t fk_bm_next(const uint8_t *bm, uint64_t from, uint64_t to, int val);
static inline int fk_bm_get(const uint8_t *bm, uint64_t i)
{
	return (bm[i >> 3] >> (i & 7)) & 1;
}

#endif
