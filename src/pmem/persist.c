/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Persistence primitives: cache line write-back, fences, non-temporal
 * copies, and the msync fallback for mappings that are not DAX.
 *
 * The instructions are picked by CPUID at first use and the functions that
 * need ISA extensions carry target attributes (or use inline asm), so the
 * library builds for baseline x86-64 and still uses CLWB / AVX where the
 * machine has them.  See docs/pmem.md for the reasoning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daxlease/daxlease.h"
#include "pmem/pmem.h"
#include "pmem/trace.h"
#include "util/util.h"

#ifdef DXL_PMEM_TRACE
#define TRACED(pm) ((pm) && (pm)->traced)
#define SITE site
#else
#define TRACED(pm) 0
#define SITE NULL
#define dxl_trace_store(...) ((void)0)
#define dxl_trace_flush(...) ((void)0)
#define dxl_trace_fence(...) ((void)0)
#define dxl_trace_msync(...) ((void)0)
#define dxl_trace_skip_drain(name) 0
#define dxl_trace_skip_flush(name) 0
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DXL_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define CL 64u        /* cache line size: 64 B on every x86-64 CPU */
#define NT_MIN 256u   /* below this, cached stores + flush are cheaper */

enum flush_kind { FK_UNSET = 0, FK_NONE, FK_CLFLUSH, FK_CLFLUSHOPT, FK_CLWB };
enum nt_kind { NT_SSE2 = 0, NT_AVX2 = 1, NT_AVX512 = 2 };

/* Resolved at first use; racing resolvers compute the same value. */
static int flush_kind_v;     /* enum flush_kind */
static int nt_max = -1;      /* best level the CPU has */
static int nt_level_v = -1;  /* level in use */

/* Per thread: one pool-wide counter was a cache line that every copy of
 * every thread wrote (two threads writing two files then ran slower than
 * one). */
static __thread struct {
	uint64_t flushes, drains, msyncs;
} stats;

static inline void stat_inc(uint64_t *c)
{
	(*c)++;
}

/* AVX2 by default: 64-byte AVX-512 streams measured no faster here, and
 * on some Intel parts 512-bit instructions lower the core clock. */
static int nt_default(int max)
{
	return max > NT_AVX2 ? NT_AVX2 : max;
}

static void resolve_cpu(void)
{
	int fk = FK_NONE, nt = NT_SSE2;
#ifdef DXL_X86
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19)))
		fk = FK_CLFLUSH;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		if (b & (1u << 23))
			fk = FK_CLFLUSHOPT;
		if (b & (1u << 24))
			fk = FK_CLWB;
	}
	/* __builtin_cpu_supports also checks that the OS saves the wide
	 * registers (XCR0), which the raw CPUID bits do not. */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		nt = NT_AVX2;
	if (__builtin_cpu_supports("avx512f"))
		nt = NT_AVX512;
#endif
	__atomic_store_n(&nt_max, nt, __ATOMIC_RELAXED);
	if (__atomic_load_n(&nt_level_v, __ATOMIC_RELAXED) < 0)
		__atomic_store_n(&nt_level_v, nt_default(nt), __ATOMIC_RELAXED);
	__atomic_store_n(&flush_kind_v, fk, __ATOMIC_RELEASE);
}

static inline int flush_kind(void)
{
	int fk = __atomic_load_n(&flush_kind_v, __ATOMIC_ACQUIRE);
	if (dxl_unlikely(fk == FK_UNSET)) {
		resolve_cpu();
		fk = __atomic_load_n(&flush_kind_v, __ATOMIC_ACQUIRE);
	}
	return fk;
}

int dxl_pmem_set_nt_level(int level)
{
	flush_kind();
	int max = __atomic_load_n(&nt_max, __ATOMIC_RELAXED);
	if (level < 0)
		level = nt_default(max);
	if (level > max)
		level = max;
	__atomic_store_n(&nt_level_v, level, __ATOMIC_RELAXED);
	return level;
}

/* ------------------------------------------------------------ flushing */

#ifdef DXL_X86
/* Inline asm rather than intrinsics: no target attributes needed and the
 * "+m" operand orders each flush after the stores to that line. */
static void flush_lines_clwb(uintptr_t p, uintptr_t end)
{
	for (; p < end; p += CL)
		__asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
}

static void flush_lines_clflushopt(uintptr_t p, uintptr_t end)
{
	for (; p < end; p += CL)
		__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
}

static void flush_lines_clflush(uintptr_t p, uintptr_t end)
{
	for (; p < end; p += CL)
		__asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
}
#endif

static inline void flush_raw(const void *addr, size_t len)
{
	if (!len)
		return;
#ifdef DXL_X86
	uintptr_t p = (uintptr_t)addr & ~(uintptr_t)(CL - 1);
	uintptr_t end = (uintptr_t)addr + len;
	switch (flush_kind()) {
	case FK_CLWB:
		flush_lines_clwb(p, end);
		break;
	case FK_CLFLUSHOPT:
		flush_lines_clflushopt(p, end);
		break;
	case FK_CLFLUSH:
		flush_lines_clflush(p, end);
		break;
	default:
		break;
	}
#else
	(void)addr;
#endif
}

/*
 * Ranges waiting for msync (need_msync backends only).  One slot per
 * thread: "drain makes durable what *this thread* flushed", which is the
 * contract the callers rely on, and it needs no locking.  The slot holds
 * the page-rounded union of the ranges; ranges far apart simply widen it
 * (msync cost on ext4/xfs is dominated by the fsync it implies, not by
 * clean pages in the range).  If a thread flushes another pool before
 * draining the first, the first range is msynced at once: early write-back
 * is never wrong.  The slot stores addresses, never dereferences pm, so a
 * pool closed by another thread leaves at worst a harmless failing msync.
 */
static _Thread_local struct {
	const struct dxl_pmem *pm;
	uintptr_t lo, hi;
} pending;

static int msync_range(uintptr_t lo, uintptr_t hi)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	lo &= ~(pg - 1);
	stat_inc(&stats.msyncs);
	return msync((void *)lo, hi - lo, MS_SYNC) == 0 ? 0 : -errno;
}

static void note_io_error(struct dxl_pmem *pm, int err)
{
	int zero = 0;
	__atomic_compare_exchange_n(&pm->io_error, &zero, err, 0, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
}

static inline void pending_add(struct dxl_pmem *pm, const void *addr, size_t len)
{
	if (!pm || !pm->need_msync || !len)
		return;
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	if (pending.pm != pm) {
		if (pending.pm && pending.hi > pending.lo)
			msync_range(pending.lo, pending.hi);
		pending.pm = pm;
		pending.lo = lo;
		pending.hi = hi;
		return;
	}
	if (pending.hi <= pending.lo) {
		pending.lo = lo;
		pending.hi = hi;
		return;
	}
	if (lo < pending.lo)
		pending.lo = lo;
	if (hi > pending.hi)
		pending.hi = hi;
}

void dxl_pmem_forget_thread_range(const struct dxl_pmem *pm)
{
	if (pending.pm == pm) {
		pending.pm = NULL;
		pending.lo = pending.hi = 0;
	}
}

void dxl_pmem_cover(struct dxl_pmem *pm, uint64_t off, uint64_t len)
{
	if (pm && off < pm->size)
		pending_add(pm, pm->base + off, (size_t)DXL_MIN(len, pm->size - off));
}

void dxl_pmem_flush_(struct dxl_pmem *pm, const void *addr, size_t len,
		     const char *name DXL_PMEM_SITE_PARAM)
{
	if (TRACED(pm)) {
		if (dxl_trace_skip_flush(name))
			return;
		dxl_trace_flush(pm, addr, len, name, SITE);
	}
	stat_inc(&stats.flushes);
	flush_raw(addr, len);
	pending_add(pm, addr, len);
}

void dxl_pmem_drain_(struct dxl_pmem *pm, const char *name DXL_PMEM_SITE_PARAM)
{
	if (TRACED(pm)) {
		if (dxl_trace_skip_drain(name))
			return;
		dxl_trace_fence(pm, name, SITE);
	}
	stat_inc(&stats.drains);
#ifdef DXL_X86
	/* Orders CLWB/CLFLUSHOPT and non-temporal stores before later stores.
	 * (CLFLUSH is ordered already; the fence costs little there.) */
	__asm__ volatile("sfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	if (pm && pm->need_msync && pending.pm == pm && pending.hi > pending.lo) {
		int rc = msync_range(pending.lo, pending.hi);
		pending.lo = pending.hi = 0;
		if (rc)
			note_io_error(pm, rc);
	}
}

void dxl_pmem_store_(struct dxl_pmem *pm, void *dst, const void *src, size_t len
		     DXL_PMEM_SITE_PARAM)
{
	memcpy(dst, src, len);
	if (TRACED(pm))
		dxl_trace_store(pm, dst, len, 0, SITE);
}

int dxl_pmem_persist_user_(struct dxl_pmem *pm, const void *addr, size_t len
			    DXL_PMEM_SITE_PARAM)
{
	if (!pm || !addr || !len)
		return 0;
	if (!pm->need_msync) {
		if (TRACED(pm))
			dxl_trace_store(pm, addr, len, 0, SITE);
		dxl_pmem_flush_(pm, addr, len, NULL DXL_PMEM_SITE_PASS);
		dxl_pmem_drain_(pm, NULL DXL_PMEM_SITE_PASS);
		return 0; /* a flush and a fence cannot fail */
	}
	/* A mapping of the pool lives at its own address: msync exactly that
	 * range, not merged with ranges of the pool's main mapping. */
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)addr & ~(pg - 1);
	uintptr_t hi = ((uintptr_t)addr + len + pg - 1) & ~(pg - 1);
	stat_inc(&stats.msyncs);
	if (msync((void *)lo, hi - lo, MS_SYNC) == 0)
		return 0;
	int e = errno;
	/* an address that is not a mapping (EINVAL, ENOMEM) is the caller's
	 * mistake, not the pool's; a failed write-back is kept for fsync and
	 * close to report as well */
	if (e == EINVAL || e == ENOMEM)
		return dxl_err(EINVAL, "persist: %zu bytes at %p are not a mapping of the pool", len, addr);
	note_io_error(pm, -e);
	return dxl_err(e, "%s: persist: the write-back failed: %s", pm->path, strerror(e));
}

/* ------------------------------------------------- non-temporal stores */

#ifdef DXL_X86
/* All take a 64-byte aligned dst and a count of whole cache lines. */
static void nt_copy_sse2(uint8_t *d, const uint8_t *s, size_t lines)
{
	for (; lines; lines--, d += CL, s += CL) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
}

__attribute__((target("avx2"))) static void nt_copy_avx2(uint8_t *d, const uint8_t *s,
							  size_t lines)
{
	for (; lines; lines--, d += CL, s += CL) {
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
		_mm256_stream_si256((__m256i *)d, a);
		_mm256_stream_si256((__m256i *)(d + 32), b);
	}
}

__attribute__((target("avx512f"))) static void nt_copy_avx512(uint8_t *d, const uint8_t *s,
							      size_t lines)
{
	for (; lines; lines--, d += CL, s += CL)
		_mm512_stream_si512((void *)d, _mm512_loadu_si512((const void *)s));
}

static void nt_set_sse2(uint8_t *d, int c, size_t lines)
{
	__m128i v = _mm_set1_epi8((char)c);
	for (; lines; lines--, d += CL) {
		_mm_stream_si128((__m128i *)d, v);
		_mm_stream_si128((__m128i *)(d + 16), v);
		_mm_stream_si128((__m128i *)(d + 32), v);
		_mm_stream_si128((__m128i *)(d + 48), v);
	}
}

__attribute__((target("avx2"))) static void nt_set_avx2(uint8_t *d, int c, size_t lines)
{
	__m256i v = _mm256_set1_epi8((char)c);
	for (; lines; lines--, d += CL) {
		_mm256_stream_si256((__m256i *)d, v);
		_mm256_stream_si256((__m256i *)(d + 32), v);
	}
}

__attribute__((target("avx512f"))) static void nt_set_avx512(uint8_t *d, int c, size_t lines)
{
	__m512i v = _mm512_set1_epi32((int)(0x01010101u * (uint8_t)c));
	for (; lines; lines--, d += CL)
		_mm512_stream_si512((void *)d, v);
}

static void nt_copy(uint8_t *d, const uint8_t *s, size_t lines)
{
	switch (__atomic_load_n(&nt_level_v, __ATOMIC_RELAXED)) {
	case NT_AVX512:
		nt_copy_avx512(d, s, lines);
		break;
	case NT_AVX2:
		nt_copy_avx2(d, s, lines);
		break;
	default:
		nt_copy_sse2(d, s, lines);
		break;
	}
}

static void nt_set(uint8_t *d, int c, size_t lines)
{
	switch (__atomic_load_n(&nt_level_v, __ATOMIC_RELAXED)) {
	case NT_AVX512:
		nt_set_avx512(d, c, lines);
		break;
	case NT_AVX2:
		nt_set_avx2(d, c, lines);
		break;
	default:
		nt_set_sse2(d, c, lines);
		break;
	}
}
#endif

/*
 * Large copies bypass the cache: the data is written to the media anyway,
 * streaming it avoids reading each destination line in (RFO) and then
 * flushing it out again.  Partial lines at either end cannot be streamed
 * without merging, so they take cached stores and a flush.  The caller's
 * drain (SFENCE) orders the streamed stores.
 */
static void copy_flush(struct dxl_pmem *pm, void *dst, const void *src, size_t len);
static void set_flush(struct dxl_pmem *pm, void *dst, int c, size_t len);

void dxl_pmem_memcpy_(struct dxl_pmem *pm, void *dst, const void *src, size_t len
		      DXL_PMEM_SITE_PARAM)
{
	copy_flush(pm, dst, src, len);
	if (TRACED(pm)) {
		dxl_trace_store(pm, dst, len, 1, SITE);
		dxl_trace_flush(pm, dst, len, NULL, SITE);
	}
}

static void copy_flush(struct dxl_pmem *pm, void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	stat_inc(&stats.flushes);
	pending_add(pm, dst, len);
#ifdef DXL_X86
	if (len >= NT_MIN) {
		flush_kind(); /* resolves nt_level_v too */
		size_t head = (size_t)(-(uintptr_t)d & (CL - 1));
		if (head) {
			memcpy(d, s, head);
			flush_raw(d, head);
			d += head;
			s += head;
			len -= head;
		}
		size_t lines = len / CL;
		nt_copy(d, s, lines);
		d += lines * CL;
		s += lines * CL;
		len -= lines * CL;
		if (len) {
			memcpy(d, s, len);
			flush_raw(d, len);
		}
		return;
	}
#endif
	memcpy(d, s, len);
	flush_raw(d, len);
}

void dxl_pmem_memset_(struct dxl_pmem *pm, void *dst, int c, size_t len DXL_PMEM_SITE_PARAM)
{
	set_flush(pm, dst, c, len);
	if (TRACED(pm)) {
		dxl_trace_store(pm, dst, len, 1, SITE);
		dxl_trace_flush(pm, dst, len, NULL, SITE);
	}
}

static void set_flush(struct dxl_pmem *pm, void *dst, int c, size_t len)
{
	uint8_t *d = dst;

	stat_inc(&stats.flushes);
	pending_add(pm, dst, len);
#ifdef DXL_X86
	if (len >= NT_MIN) {
		flush_kind();
		size_t head = (size_t)(-(uintptr_t)d & (CL - 1));
		if (head) {
			memset(d, c, head);
			flush_raw(d, head);
			d += head;
			len -= head;
		}
		size_t lines = len / CL;
		nt_set(d, c, lines);
		d += lines * CL;
		len -= lines * CL;
		if (len) {
			memset(d, c, len);
			flush_raw(d, len);
		}
		return;
	}
#endif
	memset(d, c, len);
	flush_raw(d, len);
}

void dxl_pmem_zero_area_(struct dxl_pmem *pm, uint64_t off, uint64_t len DXL_PMEM_SITE_PARAM)
{
	if (pm->backend == DXL_BACKEND_DEVDAX ||
	    fallocate(pm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) != 0) {
		dxl_pmem_memset_(pm, pm->base + off, 0, len DXL_PMEM_SITE_PASS);
		return;
	}
	/* the hole reads as zeros at once; in the trace it is a store of zeros */
	if (TRACED(pm)) {
		dxl_trace_store(pm, pm->base + off, len, 1, SITE);
		dxl_trace_flush(pm, pm->base + off, len, NULL, SITE);
	}
}

/* ---------------------------------------------------------- the rest */

int dxl_pmem_sync(struct dxl_pmem *pm, uint64_t off, uint64_t len)
{
	if (!pm || !pm->base)
		return dxl_err(EINVAL, "pmem sync: pool not open");
	if (off > pm->size || len > pm->size - off)
		return dxl_err(EINVAL, "%s: sync range %llu+%llu outside the pool (%llu bytes)",
			       pm->path, (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)pm->size);
	int e = __atomic_load_n(&pm->io_error, __ATOMIC_RELAXED);
	if (e)
		return dxl_err(-e, "%s: an earlier write-back failed: %s", pm->path, strerror(-e));
	if (!pm->need_msync || len == 0)
		return 0;
	if (TRACED(pm))
		dxl_trace_msync(pm, pm->base + off, len, NULL);
	int rc = msync_range((uintptr_t)pm->base + off, (uintptr_t)pm->base + off + len);
	if (rc) {
		note_io_error(pm, rc);
		return dxl_err(-rc, "%s: msync: %s", pm->path, strerror(-rc));
	}
	return 0;
}

const char *dxl_pmem_method(const struct dxl_pmem *pm)
{
	int ms = pm && pm->need_msync;
	switch (flush_kind()) {
	case FK_CLWB:
		return ms ? "clwb+sfence+msync" : "clwb+sfence";
	case FK_CLFLUSHOPT:
		return ms ? "clflushopt+sfence+msync" : "clflushopt+sfence";
	case FK_CLFLUSH:
		return ms ? "clflush+msync" : "clflush";
	default:
		return ms ? "msync" : "none";
	}
}

void dxl_pmem_get_stats(struct dxl_pmem_stats *st)
{
	if (!st)
		return;
	st->flushes = stats.flushes;
	st->drains = stats.drains;
	st->msyncs = stats.msyncs;
}
