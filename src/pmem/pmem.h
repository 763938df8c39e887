/*
 * pmem: the backing store and its persistence primitives.
 *
 * Every persistent store of metadata goes through the functions here, so
 * that a test build can log stores, flushes and fences and replay crash
 * states (DESIGN.md roadmap).  File data writes use them too.
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
 * Persistence primitives.  flush = write back the cache lines of a range
 * (CLWB / CLFLUSHOPT / CLFLUSH chosen by CPUID at first use); drain = the
 * fence that orders and completes them (SFENCE).  persist = flush + drain.
 * On a non-DAX mapping (need_msync) drain also msyncs the ranges flushed
 * since the last drain, so the same call sequence is durable on any backend.
 */
void dxl_pmem_flush(struct dxl_pmem *pm, const void *addr, size_t len);
void dxl_pmem_drain(struct dxl_pmem *pm);
void dxl_pmem_persist(struct dxl_pmem *pm, const void *addr, size_t len);

/* Copy / fill into the mapping and flush (no drain): non-temporal stores for
 * large lengths, cached stores + flush for small ones. */
void dxl_pmem_memcpy(struct dxl_pmem *pm, void *dst, const void *src, size_t len);
void dxl_pmem_memset(struct dxl_pmem *pm, void *dst, int c, size_t len);

/* Write back a range of the mapping to the backing file where that is
 * needed for durability (no-op on DAX); used by fsync.  Also reports a
 * failure of an earlier drain's msync (pm->io_error). */
int dxl_pmem_sync(struct dxl_pmem *pm, uint64_t off, uint64_t len);

/* Test hook: count of flush/drain calls (for persistence tests). */
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
