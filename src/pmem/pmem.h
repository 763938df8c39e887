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
	char path[4096];
};

#define DXL_PMEM_CREATE 0x1  /* create/extend a plain file to size */
#define DXL_PMEM_RDONLY 0x2

/*
 * Open and map a backing store. For a plain file with DXL_PMEM_CREATE the
 * file is created if missing and grown with fallocate (sparse where the
 * file system allows) to `size`; otherwise size 0 means "as it is".
 * Device-DAX size and alignment come from sysfs.  An fsdax file is mapped
 * MAP_SHARED_VALIDATE|MAP_SYNC; where the kernel refuses MAP_SYNC, the
 * file is mapped as a plain file (msync durability) — detected, not assumed.
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
 * needed for durability (no-op on DAX); used by fsync. */
int dxl_pmem_sync(struct dxl_pmem *pm, uint64_t off, uint64_t len);

/* Test hook: count of flush/drain calls (for persistence tests). */
struct dxl_pmem_stats {
	uint64_t flushes, drains, msyncs;
};
void dxl_pmem_get_stats(struct dxl_pmem_stats *st);

#endif
