/* SPDX-License-Identifier: BSD-3-Clause */
/* crc32c: known vectors, chaining, and hardware vs software on random input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/util.h"

/* Internal entry points of src/util/crc32c.c, declared there for tests. */
uint32_t dxl_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t dxl_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int dxl_crc32c_hw_available(void);

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	/* xorshift64*: reproducible, so a failure can be replayed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Bit-at-a-time reference, independent of both implementations' tables. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f, const char *name)
{
	uint8_t buf[64];

	fprintf(stderr, "vectors: %s\n", name);
	CHECK(f(0, "123456789", 9) == 0xE3069283u);
	CHECK(f(0, "", 0) == 0);
	CHECK(f(0x12345678u, "", 0) == 0x12345678u);
	CHECK(f(0, "a", 1) == 0xC1D04330u);
	/* RFC 3720 (iSCSI) B.4 test patterns */
	memset(buf, 0, 32);
	CHECK(f(0, buf, 32) == 0x8A9136AAu);
	memset(buf, 0xff, 32);
	CHECK(f(0, buf, 32) == 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK(f(0, buf, 32) == 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	CHECK(f(0, buf, 32) == 0x113FDB5Cu);
	/* chaining */
	CHECK(f(f(0, "1234", 4), "56789", 5) == 0xE3069283u);
}

int main(void)
{
	enum { MAX = 3 * 8192 * 3 + 4096 + 100 };
	uint8_t *buf = malloc(MAX + 64);
	CHECK(buf != NULL);
	for (size_t i = 0; i < MAX + 64; i++)
		buf[i] = (uint8_t)rnd();

	check_vectors(dxl_crc32c, "dispatch");
	check_vectors(dxl_crc32c_sw, "software");
	int hw = dxl_crc32c_hw_available();
	fprintf(stderr, "hardware crc32c: %s\n", hw ? "yes" : "no");
	if (hw)
		check_vectors(dxl_crc32c_hw, "hardware");

	/* Every length around the 3-way thresholds, at every alignment. */
	static const size_t edges[] = { 0,    1,    7,    8,    9,    255,  256,  767,
					768,  769,  1535, 1536, 4095, 4096, 4097, 24575,
					24576, 24577, 24576 + 768, 49152 + 7, MAX };
	for (size_t e = 0; e < DXL_ARRAY_SIZE(edges); e++) {
		for (size_t off = 0; off < 16; off++) {
			size_t n = edges[e];
			uint32_t want = crc_ref(0, buf + off, n);
			CHECK(dxl_crc32c_sw(0, buf + off, n) == want);
			CHECK(dxl_crc32c(0, buf + off, n) == want);
			if (hw)
				CHECK(dxl_crc32c_hw(0, buf + off, n) == want);
		}
	}

	/* Random lengths, alignments, seeds and split points. */
	for (int iter = 0; iter < 3000; iter++) {
		size_t off = rnd() % 64;
		size_t n = (iter % 4 == 0) ? rnd() % (MAX - 64) : rnd() % 5000;
		uint32_t seed = (uint32_t)rnd();
		uint32_t s = dxl_crc32c_sw(seed, buf + off, n);
		if (hw)
			CHECK(dxl_crc32c_hw(seed, buf + off, n) == s);
		CHECK(dxl_crc32c(seed, buf + off, n) == s);
		if (iter % 16 == 0)
			CHECK(crc_ref(seed, buf + off, n) == s);
		size_t cut = n ? rnd() % (n + 1) : 0;
		CHECK(dxl_crc32c(dxl_crc32c(seed, buf + off, cut), buf + off + cut, n - cut) == s);
		CHECK(dxl_crc32c_sw(dxl_crc32c_sw(seed, buf + off, cut), buf + off + cut,
				    n - cut) == s);
	}

	/* A flipped bit anywhere in a 4 KiB block must change the crc. */
	uint32_t base = dxl_crc32c(0, buf, 4096);
	for (size_t bit = 0; bit < 4096 * 8; bit += 97) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK(dxl_crc32c(0, buf, 4096) != base);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(buf);
	printf("test_crc32c: ok\n");
	return 0;
}
