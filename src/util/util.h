/* SPDX-License-Identifier: BSD-3-Clause */
/* Small shared helpers: error reporting, checksums, bit tricks. */
#ifndef DXL_UTIL_H
#define DXL_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define DXL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Built with ThreadSanitizer: it cannot follow a seqcount (its reads race
 * by design), so the lockless paths take locks instead under it. */
#if defined(__SANITIZE_THREAD__)
#define DXL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DXL_TSAN 1
#endif
#endif
#ifndef DXL_TSAN
#define DXL_TSAN 0
#endif

/* Every store before it is visible before any store after it, the
 * non-temporal stores of a copy included (x86 orders those only with a
 * fence). */
static inline void dxl_store_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("sfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Spin-wait hint for the CPU. */
static inline void dxl_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

#define DXL_MIN(a, b) ((a) < (b) ? (a) : (b))
/* n bits (1..64) set from bit off (off + n <= 64) of a 64-bit word */
static inline uint64_t dxl_bits_mask(uint64_t off, uint64_t n)
{
	return (n == 64 ? ~0ull : ((1ull << n) - 1)) << off;
}
#define DXL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define DXL_ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define DXL_ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define DXL_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
/* Unlink node from the singly linked list at *headp (linked by `next`);
 * nothing happens if it is not on it. */
#define DXL_SLIST_REMOVE(headp, node)                                   \
	do {                                                            \
		__typeof__(node) *pp_;                                  \
		for (pp_ = (headp); *pp_; pp_ = &(*pp_)->next)          \
			if (*pp_ == (node)) {                           \
				*pp_ = (node)->next;                    \
				break;                                  \
			}                                               \
	} while (0)

#if defined(__GNUC__)
#define dxl_likely(x) __builtin_expect(!!(x), 1)
#define dxl_unlikely(x) __builtin_expect(!!(x), 0)
#define DXL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define dxl_likely(x) (x)
#define dxl_unlikely(x) (x)
#define DXL_PRINTF(a, b)
#endif

/*
 * Record a failure for dxl_errmsg() and return -err (err is a positive
 * errno), so call sites read: return dxl_err(EINVAL, "bad size %llu", x);
 */
int dxl_err(int err, const char *fmt, ...) DXL_PRINTF(2, 3);
/* Like dxl_err, but keeps an already recorded, more specific message. */
int dxl_err_keep(int err);
void dxl_err_clear(void);

/* crc32c (Castagnoli), hardware SSE4.2 when the CPU has it. */
uint32_t dxl_crc32c(uint32_t crc, const void *buf, size_t len);

/* fork() detection: dxl_fork_gen_start() (at pool open) returns the
 * current generation and makes sure children bump it; a handle whose
 * remembered generation differs from dxl_fork_generation was inherited. */
extern uint32_t dxl_fork_generation;
uint32_t dxl_fork_gen_start(void);
static inline int dxl_forked(uint32_t gen)
{
	return dxl_unlikely(__atomic_load_n(&dxl_fork_generation, __ATOMIC_RELAXED) != gen);
}

/* Wall clock in nanoseconds since the epoch. */
int64_t dxl_now_ns(void);
/* The same at the clock tick's granularity (CLOCK_REALTIME_COARSE): what
 * the kernel stamps a write's mtime with on a local file system. */
int64_t dxl_coarse_now_ns(void);

/* Extensible structs (src/util/xstruct.c).  A caller's struct is at
 * least its first version's size (first), else -EINVAL: checked by
 * dxl_struct_size_ok before a call does its work, and by dxl_struct_in.
 * dxl_struct_in copies a caller's struct of src_size bytes in (missing
 * fields zero; -E2BIG if it sets fields this library does not know);
 * dxl_struct_out copies this library's out to a caller's of dst_size
 * (its extra tail zeroed). */
int dxl_struct_size_ok(size_t size, size_t first, const char *what);
int dxl_struct_in(void *dst, size_t dst_size, const void *src, size_t src_size, size_t first,
		  const char *what);
void dxl_struct_out(void *dst, size_t dst_size, const void *src, size_t src_size);

/* A DXL_TEST_* switch's value, or NULL when unset or when this build
 * does not honour test switches (src/util/testsw.c). */
const char *dxl_test_switch(const char *name);
int dxl_test_switches_built(void);

#endif
