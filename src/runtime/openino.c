/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which inodes the pool's processes hold open, so that a file unlinked by
 * one process lives on while another still has it open (POSIX), instead
 * of being freed under that process's handle — whose next write would
 * then land in whatever file got the inode and units next.
 */
#include <string.h>

#include "rt_internal.h"
#include "util/util.h"

static uint32_t slot_of(uint64_t ino)
{
	return (uint32_t)((ino * 0x9e3779b97f4a7c15ull) >> (64 - RT_OPEN_SHIFT));
}

static struct rt_open *find(struct rt_shared *sh, uint64_t ino)
{
	uint32_t i = slot_of(ino), n;

	for (n = 0; n < RT_MAX_OPEN; n++, i = (i + 1) & (RT_MAX_OPEN - 1)) {
		if (sh->open[i].ino == ino)
			return &sh->open[i];
		if (sh->open[i].ino == 0)
			return NULL;
	}
	return NULL;
}

static int empty(const struct rt_open *o)
{
	size_t w;
	for (w = 0; w < DXL_ARRAY_SIZE(o->procs); w++)
		if (o->procs[w])
			return 0;
	return 1;
}

/* Remove entry i, shifting later entries of its probe run back into the
 * hole so that every lookup still finds them. */
static void remove_at(struct rt_shared *sh, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & (RT_MAX_OPEN - 1);
		if (sh->open[j].ino == 0)
			break;
		uint32_t home = slot_of(sh->open[j].ino);
		/* may entry j move to the hole at i?  Only if its home is not
		 * in the cyclic range (i, j] */
		if (((j - home) & (RT_MAX_OPEN - 1)) >= ((j - i) & (RT_MAX_OPEN - 1))) {
			sh->open[i] = sh->open[j];
			i = j;
		}
	}
	memset(&sh->open[i], 0, sizeof(sh->open[i]));
	sh->nopen--;
}

int dxl_rt_ino_hold(struct dxl_rt *rt, uint64_t ino)
{
	struct rt_shared *sh = rt->sh;
	struct rt_open *o = find(sh, ino);
	uint32_t i;

	if (rt->self < 0)
		return dxl_err(EINVAL, "open: this process is not registered with the pool");
	if (!o) {
		/* keep a free slot or more: probe runs must end */
		if (sh->nopen >= RT_MAX_OPEN - RT_MAX_OPEN / 8)
			return dxl_err(ENFILE, "%u files are open in the pool's processes: the table is full",
				       sh->nopen);
		for (i = slot_of(ino); sh->open[i].ino != 0; i = (i + 1) & (RT_MAX_OPEN - 1))
			;
		o = &sh->open[i];
		memset(o, 0, sizeof(*o));
		o->ino = ino;
		sh->nopen++;
	}
	o->procs[rt->self / 64] |= 1ull << (rt->self % 64);
	return 0;
}

void dxl_rt_ino_drop(struct dxl_rt *rt, uint64_t ino)
{
	struct rt_shared *sh = rt->sh;
	struct rt_open *o = find(sh, ino);

	if (!o || rt->self < 0)
		return;
	o->procs[rt->self / 64] &= ~(1ull << (rt->self % 64));
	if (empty(o))
		remove_at(sh, (uint32_t)(o - sh->open));
}

int dxl_rt_ino_held_elsewhere(struct dxl_rt *rt, uint64_t ino)
{
	struct rt_shared *sh = rt->sh;
	struct rt_open *o = find(sh, ino);
	int p, held = 0;

	if (!o)
		return 0;
	for (p = 0; p < RT_MAX_PROCS; p++) {
		if (!(o->procs[p / 64] & (1ull << (p % 64))) || p == rt->self)
			continue;
		if (dxl_rt_proc_dead(rt, p))
			o->procs[p / 64] &= ~(1ull << (p % 64));
		else
			held = 1;
	}
	if (empty(o))
		remove_at(sh, (uint32_t)(o - sh->open));
	return held;
}

void dxl_rt_ino_drop_proc(struct dxl_rt *rt, int p)
{
	struct rt_shared *sh = rt->sh;
	uint32_t i = 0;

	if (p < 0 || p >= RT_MAX_PROCS || sh->nopen == 0)
		return;
	while (i < RT_MAX_OPEN) {
		struct rt_open *o = &sh->open[i];
		if (o->ino && (o->procs[p / 64] & (1ull << (p % 64)))) {
			o->procs[p / 64] &= ~(1ull << (p % 64));
			if (empty(o)) {
				remove_at(sh, i);
				continue; /* another entry may have moved into i */
			}
		}
		i++;
	}
}
