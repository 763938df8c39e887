/* SPDX-License-Identifier: BSD-3-Clause */
/* io commands that move bytes: pwrite, pread, crc. */
#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "io.h"

int io_off_len(const struct io_args *a, uint64_t *off, uint64_t *len)
{
	if (io_num(a, "offset", a->argv[0], off) || io_num(a, "length", a->argv[1], len))
		return CLI_USAGE;
	if (*len > UINT64_MAX - *off) {
		fprintf(stderr, "%s: offset + length overflows\n", a->name);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int io_fill_byte(const struct io_args *a, unsigned *fill)
{
	uint64_t v = 0xcd;
	if (a->set['S'] && (io_num(a, "fill byte", a->optarg['S'], &v) || v > 0xff)) {
		if (v > 0xff)
			fprintf(stderr, "%s: fill byte '%s' is not 0..255\n", a->name, a->optarg['S']);
		return CLI_USAGE;
	}
	*fill = (unsigned)v;
	return CLI_OK;
}

int io_pwrite(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	unsigned fill;
	if (io_off_len(a, &off, &len) || io_fill_byte(a, &fill))
		return CLI_USAGE;
	memset(ctx->buf, (int)fill, CLI_CHUNK);
	uint64_t done = 0;
	int status = CLI_OK;
	while (done < len) {
		size_t n = len - done < CLI_CHUNK ? (size_t)(len - done) : CLI_CHUNK;
		ssize_t w = cli_pwrite_full(ctx->file, ctx->buf, n, off + done);
		if (w > 0)
			done += (uint64_t)w;
		if (w != (ssize_t)n) {
			status = io_lib_fail(a, w < 0 ? (int)w : -EIO);
			break;
		}
	}
	printf("wrote %llu/%llu bytes at offset %llu\n", (unsigned long long)done,
	       (unsigned long long)len, (unsigned long long)off);
	return status;
}

/* xfs_io's layout: offset, 16 bytes in hex, then the printable ones. */
void io_hexdump(const unsigned char *p, size_t n, uint64_t base)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t m = n - i < 16 ? n - i : 16;
		printf("%08llx: ", (unsigned long long)base + i);
		for (size_t j = 0; j < 16; j++) {
			if (j < m)
				printf(" %02x", p[i + j]);
			else
				printf("   ");
		}
		printf("  ");
		for (size_t j = 0; j < m; j++)
			putchar(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.');
		putchar('\n');
	}
}

/* Read OFF..OFF+LEN in chunks, handing each to fn; stops early at EOF. */
static int read_range(struct io_ctx *ctx, const struct io_args *a, uint64_t off, uint64_t len,
		      void (*fn)(void *arg, const unsigned char *p, size_t n, uint64_t at),
		      void *arg, uint64_t *done)
{
	*done = 0;
	while (*done < len) {
		size_t want = len - *done < CLI_CHUNK ? (size_t)(len - *done) : CLI_CHUNK;
		ssize_t n = cli_pread_full(ctx->file, ctx->buf, want, off + *done);
		if (n < 0)
			return io_lib_fail(a, (int)n);
		if (n == 0)
			break;
		fn(arg, (const unsigned char *)ctx->buf, (size_t)n, off + *done);
		*done += (uint64_t)n;
		if ((size_t)n < want)
			break;
	}
	return CLI_OK;
}

static void dump_chunk(void *arg, const unsigned char *p, size_t n, uint64_t at)
{
	if (*(bool *)arg)
		io_hexdump(p, n, at);
}

int io_pread(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len, done;
	if (io_off_len(a, &off, &len))
		return CLI_USAGE;
	bool verbose = a->set['v'];
	int status = read_range(ctx, a, off, len, dump_chunk, &verbose, &done);
	printf("read %llu/%llu bytes at offset %llu\n", (unsigned long long)done,
	       (unsigned long long)len, (unsigned long long)off);
	return status;
}

static void crc_chunk(void *arg, const unsigned char *p, size_t n, uint64_t at)
{
	(void)at;
	*(uint32_t *)arg = cli_crc32c(*(uint32_t *)arg, p, n);
}

int io_crc(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len, done;
	uint32_t crc = 0;
	if (io_off_len(a, &off, &len))
		return CLI_USAGE;
	int status = read_range(ctx, a, off, len, crc_chunk, &crc, &done);
	if (status == CLI_OK)
		printf("crc32c 0x%08x over %llu bytes at offset %llu\n", crc,
		       (unsigned long long)done, (unsigned long long)off);
	return status;
}
