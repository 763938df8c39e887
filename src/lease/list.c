/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease and pin tables as the public listing shows them
 * (dxl_lease_list, `daxlease leases`): the walk over the raw entries
 * stays in this layer, which owns them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daxlease/daxlease.h"
#include "lease.h"
#include "lease_int.h"
#include "util/util.h"

uint32_t dxl_pt_count(struct dxl_rt *rt)
{
	return __atomic_load_n(&dxl_rt_shared(rt)->npins, __ATOMIC_RELAXED);
}

int dxl_lt_list(struct dxl_rt *rt, struct dxl_lease_info **out, size_t *np)
{
	struct rt_shared *sh = dxl_rt_shared(rt);
	struct dxl_lease_info *v;
	size_t n = 0;
	uint32_t i;
	int64_t now;

	*out = NULL;
	*np = 0;
	v = calloc((size_t)sh->leases_hi + sh->pins_hi + 1, sizeof(*v));
	if (!v)
		return dxl_err(ENOMEM, "lease list: out of memory");
	now = dxl_mono_ns();
	for (i = 0; i < sh->leases_hi; i++) {
		const struct rt_lease *l = &sh->leases[i];
		struct dxl_lease_info *o = &v[n];
		if (l->state == RT_LEASE_FREE)
			continue;
		o->id = l->id;
		o->pid = sh->procs[l->proc].pid;
		o->ino = l->ino;
		o->start = l->start;
		o->end = l->end;
		o->kind = (l->flags & RT_LF_REFUSE)     ? DXL_INFO_LEASE_REFUSE
			  : (l->flags & RT_LF_COHERENT) ? DXL_INFO_LEASE_MAPPING
							: DXL_INFO_LEASE;
		o->state = l->state;
		o->ms_left = l->state == RT_LEASE_BREAKING ? DXL_MAX(0, (l->deadline_ns - now) / 1000000) : -1;
		o->pins = l->npins;
		memcpy(o->path, l->path, sizeof(o->path));
		o->path[sizeof(o->path) - 1] = '\0';
		memcpy(o->holder, l->holder, sizeof(o->holder));
		o->holder[sizeof(o->holder) - 1] = '\0';
		n++;
	}
	for (i = 0; i < sh->pins_hi; i++) {
		const struct rt_pin *p = &sh->pins[i];
		const struct rt_lease *l;
		struct dxl_lease_info *o = &v[n];
		if (!p->len)
			continue;
		l = p->lease ? dxl_lt_find(rt, p->lease) : NULL;
		o->id = p->lease;
		o->pid = sh->procs[p->proc].pid;
		o->ino = p->ino;
		o->start = p->unit;
		o->end = p->unit + p->len;
		o->kind = p->lease ? DXL_INFO_PIN_LONGTERM : DXL_INFO_PIN;
		o->state = l ? l->state : 0;
		o->ms_left = -1;
		o->quarantined = p->quarantined;
		memcpy(o->path, p->path, sizeof(o->path));
		o->path[sizeof(o->path) - 1] = '\0';
		n++;
	}
	*out = v;
	*np = n;
	return 0;
}
