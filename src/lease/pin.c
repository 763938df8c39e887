/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pins: physical unit ranges that must not be handed out again.
 *
 * The quarantine is the pin table itself: units freed while pinned are
 * free in the persistent bitmap (after a crash there are no pins, so
 * "free" is right), and the allocator skips them for as long as a live
 * pin covers them.  The last unpin returns them without further work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "lease_int.h"
#include "util/util.h"

int dxl_pt_add(struct dxl_rt *rt, uint64_t unit, uint64_t len, uint64_t lease, uint64_t ino,
	       const char *path, uint64_t *ref)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	struct rt_lease *l = NULL;
	uint32_t i;

	if (len == 0)
		return dxl_err(EINVAL, "pin of zero units");
	if (lease) {
		l = dxl_lt_find(rt, lease);
		if (!l || l->state == RT_LEASE_REVOKED)
			return dxl_err(ENOLCK, "lease %llu was revoked: take a new one on the new layout",
				       (unsigned long long)lease);
	}
	for (i = sh->pins_lo; i < RT_MAX_PINS; i++) {
		struct rt_pin *p = &sh->pins[i];
		if (p->len)
			continue;
		sh->pins_lo = i + 1;
		p->unit = unit;
		p->lease = lease;
		p->proc = dxl_rt_self(rt);
		p->quarantined = 0;
		p->ino = ino;
		/* the generation fits the reference beside the slot number */
		p->gen = sh->next_pin_gen++ & (UINT64_MAX >> RT_PIN_SHIFT);
		{
			size_t n = path ? strnlen(path, sizeof(p->path) - 1) : 0;
			memcpy(p->path, path ? path : "", n);
			p->path[n] = '\0';
		}
		__atomic_store_n(&p->len, len, __ATOMIC_RELEASE);
		sh->npins++;
		if (i >= sh->pins_hi)
			sh->pins_hi = i + 1;
		if (l)
			l->npins++;
		*ref = p->gen << RT_PIN_SHIFT | i;
		return 0;
	}
	return dxl_err(ENOMEM, "pin table full (%d pins in the pool)", RT_MAX_PINS);
}

void dxl_pt_drop_slot(struct dxl_rt *rt, uint32_t i)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	struct rt_pin *p = &sh->pins[i];
	struct rt_lease *l;

	if (!p->len)
		return;
	l = p->lease ? dxl_lt_find(rt, p->lease) : NULL;
	if (l && l->npins && --l->npins == 0 && (l->flags & RT_LF_ORPHANED)) {
		memset(l, 0, sizeof(*l));
		sh->nleases--;
	}
	p->len = 0;
	p->gen = 0;
	sh->npins--;
	if (i < sh->pins_lo)
		sh->pins_lo = i;
	while (sh->pins_hi > 0 && sh->pins[sh->pins_hi - 1].len == 0)
		sh->pins_hi--;
	/* no bump: nobody waits for a pin; a lease waits for its release */
}

int dxl_pt_drop(struct dxl_rt *rt, uint64_t ref)
{
	uint32_t i = (uint32_t)(ref & (RT_MAX_PINS - 1));
	const struct rt_pin *p = &dxl_rt_shared(rt)->pins[i];

	/* owner and generation: a stale reference never reaches another
	 * holder's pin, even after its slot was taken again */
	if (!p->len || p->gen != ref >> RT_PIN_SHIFT || p->proc != dxl_rt_self(rt))
		return dxl_err(ESTALE, "pin %llu is not held by this process (already unpinned?)",
			       (unsigned long long)ref);
	dxl_pt_drop_slot(rt, i);
	return 0;
}

uint64_t dxl_pin_first(struct dxl_rt *rt, uint64_t unit, uint64_t len, uint64_t *end)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint64_t best = UINT64_MAX, best_end = 0;
	uint32_t i;

	if (sh->npins == 0)
		return UINT64_MAX;
	for (i = 0; i < sh->pins_hi; i++) {
		const struct rt_pin *p = &sh->pins[i];
		uint64_t lo, hi;
		if (!p->len || p->unit >= unit + len || p->unit + p->len <= unit)
			continue;
		lo = DXL_MAX(p->unit, unit);
		hi = p->unit + p->len;
		if (lo < best || (lo == best && hi > best_end)) {
			best = lo;
			best_end = hi;
		}
	}
	if (best != UINT64_MAX && end)
		*end = best_end;
	return best;
}

void dxl_pin_note_free(struct dxl_rt *rt, uint64_t unit, uint64_t len)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint32_t i;

	if (sh->npins == 0)
		return;
	for (i = 0; i < sh->pins_hi; i++) {
		struct rt_pin *p = &sh->pins[i];
		uint64_t lo, hi;
		if (!p->len || p->unit >= unit + len || p->unit + p->len <= unit)
			continue;
		lo = DXL_MAX(p->unit, unit);
		hi = DXL_MIN(p->unit + p->len, unit + len);
		p->quarantined += (uint32_t)(hi - lo);
	}
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

uint64_t dxl_pin_count_free(struct dxl_rt *rt, int (*is_free)(void *arg, uint64_t unit), void *arg)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	uint64_t (*r)[2], total = 0, cur_end = 0;
	uint32_t i, n = 0;

	if (sh->npins == 0)
		return 0;
	r = malloc((size_t)sh->pins_hi * sizeof(*r));
	if (!r)
		return 0;
	for (i = 0; i < sh->pins_hi; i++)
		if (sh->pins[i].len) {
			r[n][0] = sh->pins[i].unit;
			r[n][1] = sh->pins[i].unit + sh->pins[i].len;
			n++;
		}
	/* merge overlapping pins so a unit pinned twice counts once */
	qsort(r, n, sizeof(*r), cmp_range);
	for (i = 0; i < n; i++) {
		uint64_t u = DXL_MAX(r[i][0], cur_end);
		for (; u < r[i][1]; u++)
			total += (uint64_t)is_free(arg, u);
		cur_end = DXL_MAX(cur_end, r[i][1]);
	}
	free(r);
	return total;
}
