/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the files of the lease layer only. */
#ifndef DXL_LEASE_INT_H
#define DXL_LEASE_INT_H

#include "lease.h"

/* The table entry of a lease id, or NULL (lock held). */
struct rt_lease *dxl_lt_find(struct dxl_rt *rt, uint64_t id);
/* Drop the pin in table slot i, whoever holds it (reclaiming, closing). */
void dxl_pt_drop_slot(struct dxl_rt *rt, uint32_t i);

#endif
