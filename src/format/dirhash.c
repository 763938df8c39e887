/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dxl_name_hash: the hash that orders directory entries on media.
 *
 * This function is part of the on-media format: directory records are keyed
 * by it, so changing a single bit of its output for any name makes existing
 * entries unfindable.  It must therefore never change for format version 1
 * (a different hash would need a new incompat feature bit).  The test suite
 * pins a few known values (tests/test_namespace.c) so an accidental change
 * is caught.
 *
 * Choice: FNV-1a over the name bytes (simple, byte-at-a-time, no alignment
 * or endianness questions), followed by the 64-bit finaliser of MurmurHash3
 * (fmix64).  FNV-1a alone mixes poorly into the high bits for short names
 * that differ only in their last byte, and the directory key uses the high
 * 56 bits; the finaliser gives every input bit an avalanche effect on every
 * output bit, so names like "f1", "f2", ... spread over the whole key space.
 *
 * The top bit of the result is always 0.  Directory keys are
 * (hash & ~0xff) | k, so every key is < 2^63 and a readdir cookie
 * ("last key + 1") can never wrap around to 0, and it fits in a signed
 * 64-bit off_t as telldir()/FUSE offsets want.  63 bits are plenty: the
 * per-hash collision slots (k = 0..255) absorb the rare collisions.
 */
#include "format.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

uint64_t dxl_name_hash(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	/* Also fold the length in, so that the finaliser sees it even for
	 * inputs FNV maps close together. */
	h ^= (uint64_t)len;

	/* fmix64 (MurmurHash3 finaliser): full avalanche. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;

	return h & 0x7fffffffffffffffull;
}
