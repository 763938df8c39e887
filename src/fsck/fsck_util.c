/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsck/fsck_util.h"

void *fk_vec_push(struct fk_vec *g, size_t elsz)
{
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		void *nv = realloc(g->v, ncap * elsz);
		if (!nv)
			return NULL;
		g->v = nv;
		g->cap = ncap;
	}
	return (char *)g->v + elsz * g->n++;
}

void fk_vec_free(struct fk_vec *g)
{
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}

static size_t fk_hash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

long fk_map_find(const struct fk_map *m, uint64_t key)
{
	if (!m->cap || key == 0)
		return -1;
	for (size_t i = fk_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return (long)i;
		if (m->keys[i] == 0)
			return -1;
	}
}

static int fk_map_grow(struct fk_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	uint32_t *nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = fk_hash(m->keys[i], ncap);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = m->keys[i];
		nv[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
	m->cap = ncap;
	return 0;
}

int fk_map_put(struct fk_map *m, uint64_t key, uint32_t val)
{
	if (key == 0)
		return -EINVAL;
	/* keep the load under 1/2 so probes stay short */
	if ((m->n + 1) * 2 > m->cap && fk_map_grow(m) != 0)
		return -ENOMEM;
	size_t i = fk_hash(key, m->cap);
	while (m->keys[i]) {
		if (m->keys[i] == key)
			return 0;
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 1;
}

void fk_map_free(struct fk_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

uint64_t fk_bm_next(const uint8_t *bm, uint64_t from, uint64_t to, int val)
{
	while (from < to) {
		uint64_t w;
		memcpy(&w, bm + (from >> 6) * 8, sizeof(w));
		if (!val)
			w = ~w;
		w &= ~0ull << (from & 63);
		if (w) {
			uint64_t r = (from & ~63ull) + (uint64_t)__builtin_ctzll(w);
			return r < to ? r : to;
		}
		from = (from & ~63ull) + 64;
	}
	return to;
}
