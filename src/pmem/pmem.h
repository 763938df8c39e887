/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmem: the backing store and its persistence primitives.
 *
 * Every persistent store of metadata goes through the functions here, so
 * that a test build can log stores, flushes and fences and replay crash
 * states (docs/testing.md, the crash-state explorer).  File data writes use them too.
 */
#ifndef DXL_PMEM_H
#define DXL_PMEM_H

#include <stddef.h>
#include <stdint.h>

struct dxl_pmem {
	int fd;
	int backend;           /* enum dxl_backend */
	uint8_t *base;         /* mapping of the whole store */
	uint64_t size;         /* mapped bytes */
	uint64_t align;        /* mapping alignment of the backend (4 KiB or devdax align) */
	int need_msync;        /* durability needs msync (mapping is not DAX) */
	int rdonly;
	int io_error;          /* sticky: first failed msync in drain (negative errno) */
	int traced;            /* trace build: this pool's persistence is logged (trace.h) */
	char path[4096];
};

/* Smallest store that can hold a pool: primary + backup superblock. */
#define DXL_PMEM_MIN_SIZE 8192u

#define DXL_PMEM_CREATE 0x1  /* create/extend a plain file to size */
#define DXL_PMEM_RDONLY 0x2

/*
 * Open and map a backing store. For a plain file with DXL_PMEM_CREATE the
 * file is created if missing and grown with ftruncate (sparse: nothing is
 * allocated or touched) to `size`; a larger file is not shrunk.  size 0
 * means "as it is"; a nonzero size maps only the first `size` bytes.
 * Device-DAX size and alignment come from sysfs.  An fsdax file is mapped
 * MAP_SHARED_VALIDATE|MAP_SYNC; where the kernel refuses MAP_SYNC, the
 * file is mapped as a plain file (msync durability) — detected, not assumed.
 * "memfd:NAME" creates an anonymous memfd pool of `size` bytes (tests).
 * On failure pm is left closed (dxl_pmem_close on it is a no-op).
 */
int dxl_pmem_open(const char *path, uint64_t size, unsigned flags, struct dxl_pmem *pm);
void dxl_pmem_close(struct dxl_pmem *pm);

/* Name of the persistence method in use, e.g. "clwb+sfence", "msync". */
const char *dxl_pmem_method(const struct dxl_pmem *pm);

/*
 * The trace build (-DDXL_PMEM_TRACE, the library variant the crash-state
 * explorer links; see trace.h) logs every primitive below with the source
 * line that called it.  The macros pass that line; in the normal build
 * they pass nothing, so the product library has no trace code at all.
 */
#ifdef DXL_PMEM_TRACE
#define DXL_PMEM_STR_(x) #x
#define DXL_PMEM_STR(x) DXL_PMEM_STR_(x)
#define DXL_PMEM_SITE_PARAM , const char *site
#define DXL_PMEM_SITE_ARG , __FILE__ ":" DXL_PMEM_STR(__LINE__)
#define DXL_PMEM_SITE_PASS , site
#else
#define DXL_PMEM_SITE_PARAM
#define DXL_PMEM_SITE_ARG
#define DXL_PMEM_SITE_PASS
#endif

/*
 * Persistence primitives.  flush = write back the cache lines of a range
 * (CLWB / CLFLUSHOPT / CLFLUSH chosen by CPUID at first use); drain = the
 * fence that orders and completes them (SFENCE).  persist = flush + drain.
 * On a non-DAX mapping (need_msync) drain also msyncs the ranges flushed
 * since the last drain, so the same call sequence is durable on any backend.
 *
 * A drain or flush may carry a name ("commit"): the trace build reports
 * crash points by it, and its test switches DXL_TEST_SKIP_DRAIN=NAME and
 * DXL_TEST_SKIP_FLUSH=NAME leave that one out, to show that the explorer
 * notices.  The normal build ignores the name.
 */
void dxl_pmem_flush_(struct dxl_pmem *pm, const void *addr, size_t len,
		     const char *name DXL_PMEM_SITE_PARAM);
void dxl_pmem_drain_(struct dxl_pmem *pm, const char *name DXL_PMEM_SITE_PARAM);
#define dxl_pmem_flush(pm, addr, len) dxl_pmem_flush_((pm), (addr), (len), NULL DXL_PMEM_SITE_ARG)
#define dxl_pmem_flush_named(pm, addr, len, name) \
	dxl_pmem_flush_((pm), (addr), (len), (name) DXL_PMEM_SITE_ARG)
#define dxl_pmem_drain(pm) dxl_pmem_drain_((pm), NULL DXL_PMEM_SITE_ARG)
#define dxl_pmem_drain_named(pm, name) dxl_pmem_drain_((pm), (name) DXL_PMEM_SITE_ARG)
#define dxl_pmem_persist(pm, addr, len)             \
	do {                                        \
		dxl_pmem_flush((pm), (addr), (len)); \
		dxl_pmem_drain(pm);                  \
	} while (0)

/* Let this thread's next drain also make durable [off, off+len) of the
 * pool, whoever stored there (and did not flush): on a pool file, msync
 * writes back the page cache every process shares.  No-op on DAX, where
 * only the storing CPU's own flushes and fences can. */
void dxl_pmem_cover(struct dxl_pmem *pm, uint64_t off, uint64_t len);

/* A cached store into the mapping, to be flushed later by the caller
 * (a plain memcpy; the trace build logs it).  Every store into the pool
 * that is not one of the copies below goes through here. */
void dxl_pmem_store_(struct dxl_pmem *pm, void *dst, const void *src, size_t len
		     DXL_PMEM_SITE_PARAM);
#define dxl_pmem_store(pm, dst, src, len) dxl_pmem_store_((pm), (dst), (src), (len) DXL_PMEM_SITE_ARG)

/* Copy / fill into the mapping and flush (no drain): non-temporal stores for
 * large lengths, cached stores + flush for small ones. */
void dxl_pmem_memcpy_(struct dxl_pmem *pm, void *dst, const void *src, size_t len
		      DXL_PMEM_SITE_PARAM);
void dxl_pmem_memset_(struct dxl_pmem *pm, void *dst, int c, size_t len DXL_PMEM_SITE_PARAM);
#define dxl_pmem_memcpy(pm, dst, src, len) dxl_pmem_memcpy_((pm), (dst), (src), (len) DXL_PMEM_SITE_ARG)
#define dxl_pmem_memset(pm, dst, c, len) dxl_pmem_memset_((pm), (dst), (c), (len) DXL_PMEM_SITE_ARG)

/* Zero [off, off+len) of the pool cheaply and flush it (no drain): a hole
 * punched in a file, stores elsewhere (mkfs's metadata areas). */
void dxl_pmem_zero_area_(struct dxl_pmem *pm, uint64_t off, uint64_t len DXL_PMEM_SITE_PARAM);
#define dxl_pmem_zero_area(pm, off, len) dxl_pmem_zero_area_((pm), (off), (len) DXL_PMEM_SITE_ARG)

/* Make durable what the application stored through a mapping of its own
 * (dxl_persist): addr lies in such a mapping, not in pm->base.  Flush +
 * drain on DAX, msync of exactly that range elsewhere.  The trace build
 * logs the bytes as stores seen at this point: the library cannot see the
 * application's stores earlier. */
int dxl_pmem_persist_user_(struct dxl_pmem *pm, const void *addr, size_t len
			    DXL_PMEM_SITE_PARAM);
#define dxl_pmem_persist_user(pm, addr, len) dxl_pmem_persist_user_((pm), (addr), (len) DXL_PMEM_SITE_ARG)

/* Write back a range of the mapping to the backing file where that is
 * needed for durability (no-op on DAX); used by fsync.  Also reports a
 * failure of an earlier drain's msync (pm->io_error). */
int dxl_pmem_sync(struct dxl_pmem *pm, uint64_t off, uint64_t len);

/* Test hook: count of flush/drain calls of the calling thread (for
 * persistence tests). */
struct dxl_pmem_stats {
	uint64_t flushes, drains, msyncs;
};
void dxl_pmem_get_stats(struct dxl_pmem_stats *st);

/*
 * Test hook: choose the non-temporal store width used by dxl_pmem_memcpy /
 * memset: 0 = SSE2 (16 B), 1 = AVX2 (32 B), 2 = AVX-512 (64 B).  Capped at
 * what the CPU has; returns the level now in use.  -1 = the default
 * (AVX2 where present).
 */
int dxl_pmem_set_nt_level(int level);

/* Internal, between backend.c and persist.c: forget the calling thread's
 * pending msync range for pm (on close). */
void dxl_pmem_forget_thread_range(const struct dxl_pmem *pm);

#endif
