/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io commands over one mapping of the file: mmap, munmap, mwrite, mread.
 *
 * A revoked DXL_MAP_DIRECT mapping is PROT_NONE and a plain mapping faults
 * past EOF, so every access through the mapping runs with SIGSEGV and SIGBUS
 * caught: a fault ends the command with a message naming the mapping offset
 * instead of killing the process.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "io.h"

#define IO_PAGE 4096u

int io_mmap(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	if (io_off_len(a, &off, &len))
		return CLI_USAGE;
	if (len == 0 || len > SIZE_MAX) {
		fprintf(stderr, "%s: length must be 1..%zu\n", a->name, (size_t)SIZE_MAX);
		return CLI_USAGE;
	}
	if (ctx->map) {
		fprintf(stderr, "%s: a mapping exists already (munmap first)\n", a->name);
		return CLI_FAIL;
	}
	bool direct = a->set['d'], rdonly = a->set['r'] || ctx->rdonly;
	int prot = PROT_READ | (rdonly ? 0 : PROT_WRITE);
	dxl_mapping *m;
	int rc = dxl_mmap(ctx->file, off, (size_t)len, prot, direct ? DXL_MAP_DIRECT : 0,
			  io_record_event, ctx, &m);
	if (rc < 0)
		return io_lib_fail(a, rc);
	ctx->map = m;
	ctx->map_off = off;
	ctx->map_direct = direct;
	ctx->map_rdonly = rdonly;
	char lease[40] = "";
	dxl_lease *l = direct ? dxl_mapping_lease(m) : NULL;
	if (l)
		snprintf(lease, sizeof(lease), ", lease %llu", (unsigned long long)dxl_lease_id(l));
	printf("mapped %zu bytes at offset %llu (%s%s%s)\n", dxl_mapping_len(m),
	       (unsigned long long)off, direct ? "direct" : "plain", rdonly ? ", read-only" : "",
	       lease);
	return CLI_OK;
}

int io_munmap(struct io_ctx *ctx, const struct io_args *a)
{
	if (!ctx->map) {
		fprintf(stderr, "%s: nothing is mapped\n", a->name);
		return CLI_FAIL;
	}
	int rc = dxl_munmap(ctx->map);
	if (rc < 0)
		return io_lib_fail(a, rc);
	ctx->map = NULL;
	return CLI_OK;
}

/* ------------------------------------------------------ guarded access */

static sigjmp_buf fault_jmp;
static void *volatile fault_addr;
static volatile sig_atomic_t fault_sig;
/* Bytes of the current access completed, page by page. */
static volatile size_t fault_done;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

struct access {
	unsigned char *map; /* mapping address + offset of the access */
	unsigned char *buf; /* read: destination */
	size_t len;
	int fill;           /* write: the byte */
	bool write;
};

/* The loop runs between sigsetjmp and a possible siglongjmp: it keeps its
 * progress only in fault_done, so nothing here needs to be volatile. */
static __attribute__((noinline)) void access_pages(const struct access *acc)
{
	while (fault_done < acc->len) {
		size_t at = fault_done;
		size_t n = acc->len - at < IO_PAGE ? acc->len - at : IO_PAGE;
		if (acc->write)
			memset(acc->map + at, acc->fill, n);
		else
			memcpy(acc->buf + at, acc->map + at, n);
		fault_done = at + n;
	}
}

/* Returns 0, or the signal that stopped the access (done says how far). */
static int guarded_access(const struct access *acc, size_t *done)
{
	struct sigaction sa, old_segv, old_bus;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	fault_done = 0;
	fault_sig = 0;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(fault_jmp, 1) == 0)
		access_pages(acc);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	*done = fault_done;
	return fault_sig;
}

static void report_fault(const struct io_args *a, const struct io_ctx *ctx, int sig)
{
	unsigned char *base = dxl_mapping_addr(ctx->map);
	unsigned long long at = (unsigned long long)((unsigned char *)fault_addr - base);
	fflush(stdout);
	fprintf(stderr, "%s: %s at mapping offset %llu (file offset %llu): %s\n", a->name,
		sig == SIGBUS ? "SIGBUS" : "SIGSEGV", at, at + (unsigned long long)ctx->map_off,
		ctx->map_direct ? "the mapping's lease was revoked" : "past EOF");
}

/* OFF LEN within the mapping, or a message. */
static int map_range(struct io_ctx *ctx, const struct io_args *a, uint64_t *off, uint64_t *len)
{
	if (io_off_len(a, off, len))
		return CLI_USAGE;
	if (!ctx->map) {
		fprintf(stderr, "%s: nothing is mapped (mmap first)\n", a->name);
		return CLI_FAIL;
	}
	size_t mlen = dxl_mapping_len(ctx->map);
	if (*off > mlen || *len > mlen - *off) {
		fprintf(stderr, "%s: %llu+%llu is outside the mapping (%zu bytes)\n", a->name,
			(unsigned long long)*off, (unsigned long long)*len, mlen);
		return CLI_FAIL;
	}
	/* Let the library apply layout changes queued for plain mappings; any
	 * break events are kept for 'events' and 'wait-break'. */
	int rc = dxl_event_dispatch(ctx->pool);
	(void)rc;
	return CLI_OK;
}

int io_mwrite(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	unsigned fill;
	int status = map_range(ctx, a, &off, &len);
	if (status != CLI_OK)
		return status;
	if (io_fill_byte(a, &fill))
		return CLI_USAGE;
	if (ctx->map_rdonly) {
		fprintf(stderr, "%s: the mapping is read-only\n", a->name);
		return CLI_FAIL;
	}
	unsigned char *base = dxl_mapping_addr(ctx->map);
	struct access acc = {.map = base + off, .len = (size_t)len, .fill = (int)fill, .write = true};
	size_t done;
	int sig = guarded_access(&acc, &done), prc = 0;
	if (done)
		prc = dxl_persist(ctx->pool, base + off, done);
	printf("wrote %zu/%llu bytes at mapping offset %llu\n", done, (unsigned long long)len,
	       (unsigned long long)off);
	if (prc < 0)
		return io_lib_fail(a, prc);
	if (sig) {
		report_fault(a, ctx, sig);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int io_mread(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	int status = map_range(ctx, a, &off, &len);
	if (status != CLI_OK)
		return status;
	unsigned char *base = dxl_mapping_addr(ctx->map);
	uint64_t done = 0;
	int sig = 0;
	while (done < len && !sig) {
		size_t want = len - done < CLI_CHUNK ? (size_t)(len - done) : CLI_CHUNK;
		struct access acc = {.map = base + off + done, .buf = (unsigned char *)ctx->buf,
				     .len = want};
		size_t n;
		sig = guarded_access(&acc, &n);
		if (a->set['v'])
			io_hexdump(acc.buf, n, ctx->map_off + off + done);
		done += n;
	}
	printf("read %llu/%llu bytes at mapping offset %llu\n", (unsigned long long)done,
	       (unsigned long long)len, (unsigned long long)off);
	if (sig) {
		report_fault(a, ctx, sig);
		return CLI_FAIL;
	}
	return CLI_OK;
}
