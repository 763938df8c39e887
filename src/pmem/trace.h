/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistence trace (trace build only: -DDXL_PMEM_TRACE).
 *
 * Every store, flush and fence the library makes on a traced pool is
 * appended here, with its offset in the pool, the bytes written and the
 * source line.  The crash-state explorer (tests/crash/) rebuilds the pool
 * from it — proving no store went around this layer — and builds the crash
 * images the x86 persistence model allows (docs/testing.md).
 *
 * One trace per process.  A pool is traced when the file it opens is the
 * one armed (same device and inode), so every open of it — the library's,
 * fsck's, recovery's — is logged, and other pools are not.
 * The event array and data arena belong to the trace: pointers returned
 * stay valid until the next call that records or clears.
 */
#ifndef DXL_PMEM_TRACE_H
#define DXL_PMEM_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct dxl_pmem;

enum dxl_tev_kind {
	DXL_TEV_STORE = 1,  /* bytes stored at off (cached or non-temporal) */
	DXL_TEV_FLUSH,      /* write-back of the lines of [off, off+len) */
	DXL_TEV_FENCE,      /* SFENCE: flushed lines and NT stores are durable */
	DXL_TEV_MSYNC,      /* write-back through the page cache (non-DAX) */
	DXL_TEV_OUTSIDE,    /* a primitive was given an address outside the pool */
	DXL_TEV_MARK,       /* a label from the explorer (operation boundary) */
};

struct dxl_tev {
	uint32_t kind;       /* enum dxl_tev_kind */
	uint32_t nt;         /* STORE: non-temporal (no flush needed) */
	uint64_t off, len;   /* pool offset (OUTSIDE: the address) */
	uint64_t data;       /* STORE: offset of the bytes in dxl_trace_data() */
	const char *site;    /* "src/journal/tx.c:283", static storage */
	const char *name;    /* named flush/fence ("commit"), or NULL */
};

/* Trace every pool opened on this file (by device and inode) from now on;
 * the trace is cleared.  0 or a negative errno. */
int dxl_trace_arm(const char *path);
void dxl_trace_disarm(void);
void dxl_trace_clear(void);
void dxl_trace_mark(const char *label);

size_t dxl_trace_count(void);
const struct dxl_tev *dxl_trace_events(void);
const uint8_t *dxl_trace_data(void);
/* -ENOMEM once recording failed for lack of memory (events were lost). */
int dxl_trace_error(void);

/* Internal, for pmem: */
int dxl_trace_attach(struct dxl_pmem *pm);   /* at open: trace this pool? */
void dxl_trace_store(struct dxl_pmem *pm, const void *addr, size_t len, int nt,
		     const char *site);
void dxl_trace_flush(struct dxl_pmem *pm, const void *addr, size_t len, const char *name,
		     const char *site);
void dxl_trace_fence(struct dxl_pmem *pm, const char *name, const char *site);
void dxl_trace_msync(struct dxl_pmem *pm, const void *addr, size_t len, const char *site);
/* DXL_TEST_SKIP_DRAIN / DXL_TEST_SKIP_FLUSH name this one: leave it out */
int dxl_trace_skip_drain(const char *name);
int dxl_trace_skip_flush(const char *name);

#endif
