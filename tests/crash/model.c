/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistence model: replay a trace of stores, flushes and fences and
 * say which pool images a power failure may leave (docs/testing.md).
 *
 * x86 with ADR (no eADR): a store sits in the CPU cache until its line is
 * written back.  CLWB/CLFLUSHOPT start the write-back, SFENCE waits for it;
 * non-temporal stores need only the fence.  A line may also be evicted at
 * any moment, so a store that was not yet fenced — flushed or not — may or
 * may not be on the media.  Stores to one line reach the media in program
 * order (a line is written back whole), so keeping a store means keeping
 * every earlier in-flight store of its line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crashx.h"
#include "pmem/trace.h"

#define MAX64(a, b) ((a) > (b) ? (a) : (b))
#define MIN64(a, b) ((a) < (b) ? (a) : (b))

/* ------------------------------------------------------------- hashing */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

uint64_t cx_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = mix(seed ^ n);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = mix(h ^ w) + i;
	}
	for (; i < n; i++)
		h = mix(h ^ b[i]);
	return h;
}

/* A line's share of an image key: nothing where it equals the reference. */
static uint64_t contrib(const struct cx_model *m, uint64_t line, const uint8_t *bytes)
{
	if (!memcmp(bytes, m->ref + line * CX_LINE, CX_LINE))
		return 0;
	return mix(line * 0x9e3779b97f4a7c15ull ^ cx_hash_bytes(bytes, CX_LINE, line));
}

/* ------------------------------------------------------------- trace */
int cx_trace_take(struct cx_trace *t)
{
	size_t n = dxl_trace_count(), i, dlen = 0;
	const struct dxl_tev *ev = dxl_trace_events();

	memset(t, 0, sizeof(*t));
	if (dxl_trace_error())
		return dxl_trace_error();
	for (i = 0; i < n; i++)
		if (ev[i].kind == DXL_TEV_STORE && ev[i].data + ev[i].len > dlen)
			dlen = ev[i].data + ev[i].len;
	t->ev = calloc(n ? n : 1, sizeof(*t->ev));
	t->data = malloc(dlen ? dlen : 1);
	if (!t->ev || !t->data) {
		cx_trace_free(t);
		return -ENOMEM;
	}
	if (dlen)
		memcpy(t->data, dxl_trace_data(), dlen);
	for (i = 0; i < n; i++) {
		t->ev[i].kind = ev[i].kind;
		t->ev[i].off = ev[i].off;
		t->ev[i].len = ev[i].len;
		t->ev[i].data = ev[i].kind == DXL_TEV_STORE ? t->data + ev[i].data : NULL;
		t->ev[i].site = ev[i].site;
		t->ev[i].name = ev[i].name;
	}
	t->n = n;
	dxl_trace_clear();
	return 0;
}

void cx_trace_free(struct cx_trace *t)
{
	free(t->ev);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

void cx_grow(void *vp, size_t *cap, size_t size, size_t first)
{
	void *v;
	size_t c = *cap ? *cap * 2 : first;

	memcpy(&v, vp, sizeof(v));
	v = realloc(v, c * size);
	if (!v)
		abort();
	memcpy(vp, &v, sizeof(v));
	*cap = c;
}

/* ------------------------------------------------------------- dirty */
void cx_dirty_add(struct cx_dirty *d, uint64_t off, uint64_t len)
{
	if (!len)
		return;
	struct cx_range *last = d->n ? &d->r[d->n - 1] : NULL;
	if (last && last->hi >= off && last->lo <= off + len) {
		/* the common case: next to the last range */
		if (off < last->lo)
			last->lo = off;
		if (off + len > last->hi)
			last->hi = off + len;
		return;
	}
	if (d->n == d->cap)
		cx_grow(&d->r, &d->cap, sizeof(*d->r), 256);
	d->r[d->n++] = (struct cx_range){ off, off + len };
}

void cx_dirty_restore(struct cx_dirty *d, uint8_t *dst, const uint8_t *base)
{
	size_t i;
	for (i = 0; i < d->n; i++)
		memcpy(dst + d->r[i].lo, base + d->r[i].lo, d->r[i].hi - d->r[i].lo);
	d->n = 0;
}

/* ------------------------------------------------------------- model */
int cx_model_init(struct cx_model *m, const uint8_t *image, uint64_t size, uint64_t data_start,
		  uint64_t data_end)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	m->data_start = data_start;
	m->data_end = data_end;
	m->media = malloc(size);
	m->cache = malloc(size);
	if (!m->media || !m->cache) {
		cx_model_free(m);
		return -ENOMEM;
	}
	memcpy(m->media, image, size);
	memcpy(m->cache, image, size);
	m->ref = m->media;
	m->first_outside = (size_t)-1;
	return 0;
}

void cx_model_free(struct cx_model *m)
{
	free(m->media);
	free(m->cache);
	free(m->p);
	free(m->it);
	free(m->hash);
	free(m->mchanged.r);
	free(m->keys);
	free(m->own);
	memset(m, 0, sizeof(*m));
}

static void keys_reset(struct cx_model *m)
{
	if (m->keys)
		memset(m->keys, 0, m->kcap * sizeof(*m->keys));
	m->nkeys = 0;
}

void cx_model_begin(struct cx_model *m, uint8_t *ref_buf)
{
	memcpy(ref_buf, m->media, m->size);
	m->ref = ref_buf;
	m->media_key = 0;
	keys_reset(m);
}

/* line -> newest in-flight piece (open addressing, rebuilt on compaction) */
static int32_t *hslot(struct cx_model *m, uint64_t line)
{
	size_t h = (size_t)(mix(line) & (m->hcap - 1));
	for (;;) {
		int32_t *s = &m->hash[h];
		if (*s < 0 || m->p[*s].line == line)
			return s;
		h = (h + 1) & (m->hcap - 1);
	}
}

static void hash_rebuild(struct cx_model *m, size_t want)
{
	size_t cap = 1024, i;
	while (cap < want * 2)
		cap *= 2;
	if (cap != m->hcap) {
		free(m->hash);
		m->hash = malloc(cap * sizeof(int32_t));
		if (!m->hash)
			abort();
		m->hcap = cap;
	}
	memset(m->hash, 0xff, cap * sizeof(int32_t));
	for (i = 0; i < m->np; i++)
		*hslot(m, m->p[i].line) = (int32_t)i;
}

static int32_t newest(struct cx_model *m, uint64_t line)
{
	return m->hcap ? *hslot(m, line) : -1;
}

static void add_piece(struct cx_model *m, uint64_t line, uint16_t lo, uint16_t hi,
		      const uint8_t *data)
{
	if (m->np == m->pcap)
		cx_grow(&m->p, &m->pcap, sizeof(*m->p), 1024);
	if ((m->np + 1) * 2 >= m->hcap)
		hash_rebuild(m, m->np + 1);
	struct cx_piece *p = &m->p[m->np];
	p->line = line;
	p->lo = lo;
	p->hi = hi;
	p->data = data;
	p->item = (int32_t)m->nit - 1;
	/* a non-temporal store is logged with its flush right after it: it is
	 * flushed by that, like a cached store */
	p->flushed = 0;
	int32_t *s = hslot(m, line);
	p->prev = *s;
	*s = (int32_t)m->np;
	m->np++;
	m->it[m->nit - 1].n++;
}

static void new_item(struct cx_model *m, const char *site)
{
	if (m->nit == m->itcap)
		cx_grow(&m->it, &m->itcap, sizeof(*m->it), 256);
	m->it[m->nit].first = (uint32_t)m->np;
	m->it[m->nit].n = 0;
	m->it[m->nit].site = site;
	m->nit++;
}

static void do_store(struct cx_model *m, const struct cx_ev *e)
{
	uint64_t off = e->off, end = e->off + e->len;
	uint64_t l0 = off / CX_LINE, l1 = (end - 1) / CX_LINE, l;
	/* file data is cut into a few groups: the oracle treats its bytes
	 * alike, and a 2 MiB write is 32768 lines */
	uint64_t per = 1;

	if (off >= m->data_start && off < m->data_end && cx_opt.groups > 0)
		per = (l1 - l0 + (uint64_t)cx_opt.groups) / (uint64_t)cx_opt.groups;
	memcpy(m->cache + off, e->data, e->len);
	for (l = l0; l <= l1; l++) {
		uint64_t a = MAX64(off, l * CX_LINE), b = MIN64(end, (l + 1) * CX_LINE);
		if ((l - l0) % per == 0)
			new_item(m, e->site);
		add_piece(m, l, (uint16_t)(a - l * CX_LINE), (uint16_t)(b - l * CX_LINE),
			  e->data + (a - off));
	}
}

static void do_flush(struct cx_model *m, const struct cx_ev *e)
{
	uint64_t l0 = e->off / CX_LINE, l1 = (e->off + e->len - 1) / CX_LINE, l;

	if (!m->np)
		return;
	for (l = l0; l <= l1; l++)
		for (int32_t q = newest(m, l); q >= 0 && !m->p[q].flushed; q = m->p[q].prev)
			m->p[q].flushed = 1;
}

static void media_write(struct cx_model *m, const struct cx_piece *p)
{
	uint8_t *line = m->media + p->line * CX_LINE;
	m->media_key ^= contrib(m, p->line, line);
	memcpy(line + p->lo, p->data, (size_t)(p->hi - p->lo));
	m->media_key ^= contrib(m, p->line, line);
	cx_dirty_add(&m->mchanged, p->line * CX_LINE, CX_LINE);
}

/* The fence: flushed pieces reach the media; the rest stay in flight. */
static void do_fence(struct cx_model *m)
{
	size_t i, keep = 0;
	int32_t *remap;

	for (i = 0; i < m->np; i++)
		if (m->p[i].flushed)
			media_write(m, &m->p[i]);
		else
			keep++;
	if (keep == 0) {
		m->np = 0;
		m->nit = 0;
		if (m->hcap)
			memset(m->hash, 0xff, m->hcap * sizeof(int32_t));
		return;
	}
	/* compact: pieces keep their order, items keep what is left of them */
	remap = malloc(m->np * sizeof(*remap));
	if (!remap)
		abort();
	size_t np = 0, nit = 0;
	int32_t last_item = -1;
	for (i = 0; i < m->np; i++) {
		struct cx_piece p = m->p[i];
		if (p.flushed) {
			remap[i] = -1;
			continue;
		}
		remap[i] = (int32_t)np;
		if (p.item != last_item) {
			m->it[nit].first = (uint32_t)np;
			m->it[nit].n = 0;
			m->it[nit].site = m->it[p.item].site;
			last_item = p.item;
			nit++;
		}
		p.item = (int32_t)nit - 1;
		/* older pieces of the line were flushed (prefix): none left */
		p.prev = p.prev >= 0 ? remap[p.prev] : -1;
		m->p[np++] = p;
		m->it[nit - 1].n++;
	}
	free(remap);
	m->np = np;
	m->nit = nit;
	hash_rebuild(m, np);
}

int cx_model_replay(struct cx_model *m, const struct cx_trace *tr, cx_point_fn fn, void *arg)
{
	size_t i;
	int fences = 0, steps = 0, rc;

	for (i = 0; i < tr->n; i++) {
		const struct cx_ev *e = &tr->ev[i];
		switch (e->kind) {
		case DXL_TEV_STORE:
			if (e->len)
				do_store(m, e);
			break;
		case DXL_TEV_FLUSH:
			if (e->len)
				do_flush(m, e);
			break;
		case DXL_TEV_FENCE: {
			struct cx_point pt = { .site = e->site, .name = e->name,
					       .index = fences++, .step = steps };
			if (fn && (rc = fn(m, &pt, arg)) != 0)
				return rc;
			do_fence(m);
			break;
		}
		case DXL_TEV_MARK:
			steps++;
			break;
		case DXL_TEV_OUTSIDE:
			if (!m->outside++)
				m->first_outside = i;
			break;
		default:
			break;
		}
	}
	struct cx_point end = { .end = 1, .site = "return", .index = fences,
				.step = steps };
	return fn ? fn(m, &end, arg) : 0;
}

void cx_model_detach(struct cx_model *m)
{
	size_t need = 0, at = 0, i;
	uint8_t *own;

	for (i = 0; i < m->np; i++)
		need += (size_t)(m->p[i].hi - m->p[i].lo);
	own = malloc(need ? need : 1);
	if (!own)
		abort();
	for (i = 0; i < m->np; i++) {
		size_t n = (size_t)(m->p[i].hi - m->p[i].lo);
		memcpy(own + at, m->p[i].data, n);
		m->p[i].data = own + at;
		at += n;
	}
	free(m->own);
	m->own = own;
}

/* ------------------------------------------------------------ subsets */

/* The line's bytes with in-flight pieces up to and including top applied. */
static void line_image(const struct cx_model *m, int32_t top, uint8_t *buf)
{
	int32_t chain[256];
	int n = 0;
	const struct cx_piece *t = &m->p[top];

	memcpy(buf, m->media + t->line * CX_LINE, CX_LINE);
	for (int32_t q = top; q >= 0; q = m->p[q].prev) {
		if (n == (int)(sizeof(chain) / sizeof(chain[0]))) {
			/* a line stored to more than 256 times between two fences:
			 * apply from the oldest we kept (newer stores win anyway
			 * where they overlap; the model is then approximate) */
			break;
		}
		chain[n++] = q;
	}
	while (n--) {
		const struct cx_piece *p = &m->p[chain[n]];
		memcpy(buf + p->lo, p->data, (size_t)(p->hi - p->lo));
	}
}

struct topline {
	uint64_t line;
	int32_t top;
};

static int cmp_top(const void *a, const void *b)
{
	const struct topline *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->top > y->top ? -1 : x->top < y->top; /* newest first */
}

/* The lines a subset changes, each with its newest kept piece. */
static size_t subset_lines(const struct cx_model *m, const struct cx_subset *s,
			   struct topline **out)
{
	size_t n = 0, i, j;
	int k;

	if (s->lost) {
		n = m->np;
	} else {
		for (k = 0; k < s->n; k++)
			n += m->it[s->item[k]].n;
	}
	struct topline *t = malloc((n ? n : 1) * sizeof(*t));
	if (!t)
		abort();
	n = 0;
	for (uint32_t x = 0; x < m->nit; x++) {
		int in = 0;
		for (k = 0; k < s->n; k++)
			in |= s->item[k] == x;
		if (in == s->lost)
			continue;
		const struct cx_item *it = &m->it[x];
		for (i = it->first; i < it->first + it->n; i++) {
			t[n].line = m->p[i].line;
			t[n].top = (int32_t)i;
			n++;
		}
	}
	if (s->n > 1 || s->lost)
		qsort(t, n, sizeof(*t), cmp_top);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || t[j - 1].line != t[i].line)
			t[j++] = t[i];
	*out = t;
	return j;
}

static uint64_t subset_key(const struct cx_model *m, const struct cx_subset *s)
{
	struct topline *t;
	size_t n = subset_lines(m, s, &t), i;
	uint64_t key = m->media_key;
	uint8_t buf[CX_LINE];

	for (i = 0; i < n; i++) {
		line_image(m, t[i].top, buf);
		key ^= contrib(m, t[i].line, m->media + t[i].line * CX_LINE);
		key ^= contrib(m, t[i].line, buf);
	}
	free(t);
	return key;
}

/* Have we seen this image in the operation already?  (adds it) */
static int key_seen(struct cx_model *m, uint64_t key)
{
	if (key == 0)
		key = 1; /* 0 marks a free slot */
	if (m->nkeys * 2 >= m->kcap) {
		size_t cap = m->kcap ? m->kcap * 2 : 4096, i;
		uint64_t *old = m->keys, oldcap = m->kcap;
		m->keys = calloc(cap, sizeof(*m->keys));
		if (!m->keys)
			abort();
		m->kcap = cap;
		for (i = 0; i < oldcap; i++)
			if (old[i]) {
				size_t h = (size_t)(old[i] & (cap - 1));
				while (m->keys[h])
					h = (h + 1) & (cap - 1);
				m->keys[h] = old[i];
			}
		free(old);
	}
	size_t h = (size_t)(key & (m->kcap - 1));
	while (m->keys[h]) {
		if (m->keys[h] == key)
			return 1;
		h = (h + 1) & (m->kcap - 1);
	}
	m->keys[h] = key;
	m->nkeys++;
	return 0;
}

static int subsets_rec(struct cx_model *m, struct cx_subset *s, uint32_t from, int k,
		       uint64_t salt, cx_subset_fn fn, void *arg)
{
	int rc;

	s->key = subset_key(m, s) ^ salt;
	if (!key_seen(m, s->key) && (rc = fn(m, s, arg)) != 0)
		return rc;
	if (s->n == k)
		return 0;
	for (uint32_t i = from; i < m->nit; i++) {
		s->item[s->n++] = i;
		rc = subsets_rec(m, s, i + 1, k, salt, fn, arg);
		s->n--;
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Kept subsets of up to k items are Chipmunk's crash states.  Their
 * complements — all of it reached the media but up to k items — are as
 * legal and catch what small subsets cannot: a commit of many lines that
 * landed whole while an older store was lost.
 */
int cx_model_subsets(struct cx_model *m, const struct cx_point *pt, int k, cx_subset_fn fn,
		     void *arg)
{
	struct cx_subset s = { 0 };
	/* an image is checked once per set of allowed states: the same bytes
	 * may be fine during a step and wrong after the call returned */
	uint64_t salt = mix(0x5eedull + (uint64_t)pt->step * 2 + (uint64_t)pt->end);
	int rc;
	if (k > (int)(sizeof(s.item) / sizeof(s.item[0])))
		k = (int)(sizeof(s.item) / sizeof(s.item[0]));
	rc = subsets_rec(m, &s, 0, k, salt, fn, arg);
	if (rc)
		return rc;
	memset(&s, 0, sizeof(s));
	s.lost = 1;
	return subsets_rec(m, &s, 0, k, salt, fn, arg);
}

void cx_model_apply(const struct cx_model *m, const struct cx_subset *s, uint8_t *dst,
		    struct cx_dirty *d)
{
	struct topline *t;
	size_t n = subset_lines(m, s, &t), i;

	for (i = 0; i < n; i++) {
		line_image(m, t[i].top, dst + t[i].line * CX_LINE);
		cx_dirty_add(d, t[i].line * CX_LINE, CX_LINE);
	}
	free(t);
}

size_t cx_model_lines(const struct cx_model *m, const struct cx_subset *s, uint64_t **lines)
{
	struct topline *t;
	size_t n = subset_lines(m, s, &t), i;
	uint64_t *v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		abort();
	for (i = 0; i < n; i++)
		v[i] = t[i].line;
	free(t);
	*lines = v;
	return n;
}

int64_t cx_model_bypass(const struct cx_model *m, const uint8_t *real, size_t *nlines)
{
	int64_t first = -1;
	uint64_t off;

	*nlines = 0;
	for (off = 0; off < m->size; off += CX_LINE)
		if (memcmp(m->cache + off, real + off, CX_LINE)) {
			if (first < 0)
				first = (int64_t)off;
			(*nlines)++;
		}
	return first;
}

void cx_model_describe(const struct cx_model *m, const struct cx_subset *s, char *buf, size_t len)
{
	size_t used = 0;
	int k;

	used += (size_t)snprintf(buf + used, len - used, "%zu item(s) in flight, %s {", m->nit,
				 s->lost ? "lost" : "kept");
	for (k = 0; k < s->n && used < len; k++) {
		const struct cx_item *it = &m->it[s->item[k]];
		const struct cx_piece *p = &m->p[it->first];
		used += (size_t)snprintf(buf + used, len - used, "%s#%u: %u line(s) from 0x%llx, %s",
					 k ? "; " : "", s->item[k], it->n,
					 (unsigned long long)(p->line * CX_LINE),
					 it->site ? it->site : "?");
	}
	if (used < len)
		snprintf(buf + used, len - used, "}, %s the rest", s->lost ? "kept" : "lost");
}
