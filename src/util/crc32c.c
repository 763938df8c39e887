/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crc32c (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * The public function takes and returns the finished (inverted) value, so
 * dxl_crc32c(0, buf, len) is the standard crc32c and chaining the result
 * through a second call equals the crc of the concatenation.  Internally
 * everything works on the raw register, where chaining is just "continue".
 *
 * Two implementations, chosen once at first use:
 *  - x86-64 with SSE4.2: the crc32 instruction, 8 bytes at a time.  The
 *    instruction has a latency of 3 cycles but a throughput of 1 per cycle,
 *    so a single dependent chain uses a third of the unit.  Large buffers
 *    are therefore cut into three independent streams whose registers are
 *    merged afterwards with a precomputed "append N zero bytes" operator
 *    (a GF(2) linear map, applied with four 256-entry tables).
 *  - elsewhere: table-driven slicing-by-8.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DXL_CRC_HW 1
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u

/* Exposed (undocumented) for tests, which compare the two paths. */
uint32_t dxl_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t dxl_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int dxl_crc32c_hw_available(void);

static uint32_t sw_table[8][256];

/* Stream lengths of the 3-way hardware path: LONG for big buffers, SHORT
 * so that a 4 KiB metadata block still gets five interleaved rounds. */
#define LONG_LEN 8192u
#define SHORT_LEN 256u
static uint32_t shift_long[4][256];  /* register * x^(8*LONG_LEN) mod P */
static uint32_t shift_short[4][256]; /* register * x^(8*SHORT_LEN) mod P */

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_use_hw;

/*
 * Multiply two polynomials modulo P in the reflected representation
 * (bit 31 is the coefficient of x^0).
 */
static uint32_t gf2_mulmod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;

	for (int i = 0; i < 32; i++) {
		if (a & (0x80000000u >> i))
			prod ^= b;
		/* b *= x: shift towards higher powers, reduce the x^32 term */
		b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
	}
	return prod;
}

/* x^(8*nbytes) mod P, i.e. the effect of appending nbytes zero bytes. */
static uint32_t xpow8n(uint64_t nbytes)
{
	uint32_t result = 0x80000000u; /* 1 */
	uint32_t sq = 0x00800000u;     /* x^8 */

	while (nbytes) {
		if (nbytes & 1)
			result = gf2_mulmod(result, sq);
		sq = gf2_mulmod(sq, sq);
		nbytes >>= 1;
	}
	return result;
}

static void build_shift_table(uint32_t tab[4][256], uint32_t op)
{
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++)
			tab[k][b] = gf2_mulmod(b << (8 * k), op);
}

static inline uint32_t shift_apply(uint32_t tab[4][256], uint32_t crc)
{
	return tab[0][crc & 0xff] ^ tab[1][(crc >> 8) & 0xff] ^ tab[2][(crc >> 16) & 0xff] ^
	       tab[3][crc >> 24];
}

static void crc_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int i = 0; i < 8; i++)
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		sw_table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			sw_table[k][b] =
				(sw_table[k - 1][b] >> 8) ^ sw_table[0][sw_table[k - 1][b] & 0xff];
	build_shift_table(shift_long, xpow8n(LONG_LEN));
	build_shift_table(shift_short, xpow8n(SHORT_LEN));
#ifdef DXL_CRC_HW
	__builtin_cpu_init();
	crc_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static inline uint64_t load_le64(const uint8_t *p)
{
	/* Assembled byte by byte so big-endian hosts agree; compilers turn
	 * this into one load on little-endian ones. */
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static uint32_t sw_raw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ sw_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t w = load_le64(p) ^ crc;
		crc = sw_table[7][w & 0xff] ^ sw_table[6][(w >> 8) & 0xff] ^
		      sw_table[5][(w >> 16) & 0xff] ^ sw_table[4][(w >> 24) & 0xff] ^
		      sw_table[3][(w >> 32) & 0xff] ^ sw_table[2][(w >> 40) & 0xff] ^
		      sw_table[1][(w >> 48) & 0xff] ^ sw_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ sw_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#ifdef DXL_CRC_HW
/* Three independent streams of n bytes each (n a multiple of 8), merged. */
__attribute__((target("sse4.2"))) static inline uint64_t hw_3way(uint64_t c0, const uint8_t *p,
								  size_t n,
								  uint32_t tab[4][256])
{
	uint64_t c1 = 0, c2 = 0;
	const uint8_t *end = p + n;

	do {
		uint64_t a, b, c;
		memcpy(&a, p, 8);
		memcpy(&b, p + n, 8);
		memcpy(&c, p + 2 * n, 8);
		c0 = _mm_crc32_u64(c0, a);
		c1 = _mm_crc32_u64(c1, b);
		c2 = _mm_crc32_u64(c2, c);
		p += 8;
	} while (p < end);
	/* crc(A||B||C) = (crc(A)*x^n + crc(B))*x^n + crc(C) */
	c0 = shift_apply(tab, (uint32_t)c0) ^ (uint32_t)c1;
	return shift_apply(tab, (uint32_t)c0) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2"))) static uint32_t hw_raw(uint32_t crc32, const uint8_t *p,
							 size_t len)
{
	uint64_t crc = crc32;

	while (len && ((uintptr_t)p & 7)) {
		crc = _mm_crc32_u8((uint32_t)crc, *p++);
		len--;
	}
	while (len >= 3 * LONG_LEN) {
		crc = hw_3way(crc, p, LONG_LEN, shift_long);
		p += 3 * LONG_LEN;
		len -= 3 * LONG_LEN;
	}
	while (len >= 3 * SHORT_LEN) {
		crc = hw_3way(crc, p, SHORT_LEN, shift_short);
		p += 3 * SHORT_LEN;
		len -= 3 * SHORT_LEN;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		crc = _mm_crc32_u64(crc, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = _mm_crc32_u8((uint32_t)crc, *p++);
	return (uint32_t)crc;
}
#endif

uint32_t dxl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return ~sw_raw(~crc, buf, len);
}

int dxl_crc32c_hw_available(void)
{
	pthread_once(&crc_once, crc_init);
	return crc_use_hw;
}

/* Callers must check dxl_crc32c_hw_available() first. */
uint32_t dxl_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
#ifdef DXL_CRC_HW
	if (crc_use_hw)
		return ~hw_raw(~crc, buf, len);
#endif
	return ~sw_raw(~crc, buf, len);
}

uint32_t dxl_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
#ifdef DXL_CRC_HW
	if (dxl_likely(crc_use_hw))
		return ~hw_raw(~crc, buf, len);
#endif
	return ~sw_raw(~crc, buf, len);
}
