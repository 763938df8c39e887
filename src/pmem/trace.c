/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistence trace: an append-only log of a traced pool's stores,
 * flushes and fences (trace.h).  Compiled into the trace build only; the
 * normal library gets an empty file.
 */
#ifdef DXL_PMEM_TRACE

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pmem/pmem.h"
#include "pmem/trace.h"

static struct {
	pthread_mutex_t lock;
	int armed;
	dev_t dev;
	ino_t ino;
	struct dxl_tev *ev;
	size_t n, cap;
	uint8_t *data;
	size_t dlen, dcap;
	int error;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct dxl_tev *append(uint32_t kind)
{
	if (T.n == T.cap) {
		size_t cap = T.cap ? T.cap * 2 : 4096;
		struct dxl_tev *ev = realloc(T.ev, cap * sizeof(*ev));
		if (!ev) {
			T.error = -ENOMEM;
			return NULL;
		}
		T.ev = ev;
		T.cap = cap;
	}
	struct dxl_tev *e = &T.ev[T.n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static int append_data(const void *src, size_t len, uint64_t *at)
{
	if (T.dlen + len > T.dcap) {
		size_t cap = T.dcap ? T.dcap : 1u << 20;
		while (cap < T.dlen + len)
			cap *= 2;
		uint8_t *d = realloc(T.data, cap);
		if (!d) {
			T.error = -ENOMEM;
			return -ENOMEM;
		}
		T.data = d;
		T.dcap = cap;
	}
	memcpy(T.data + T.dlen, src, len);
	*at = T.dlen;
	T.dlen += len;
	return 0;
}

int dxl_trace_arm(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	pthread_mutex_lock(&T.lock);
	T.armed = 1;
	T.dev = st.st_dev;
	T.ino = st.st_ino;
	T.n = 0;
	T.dlen = 0;
	T.error = 0;
	pthread_mutex_unlock(&T.lock);
	return 0;
}

void dxl_trace_disarm(void)
{
	pthread_mutex_lock(&T.lock);
	T.armed = 0;
	pthread_mutex_unlock(&T.lock);
}

void dxl_trace_clear(void)
{
	pthread_mutex_lock(&T.lock);
	T.n = 0;
	T.dlen = 0;
	T.error = 0;
	pthread_mutex_unlock(&T.lock);
}

void dxl_trace_mark(const char *label)
{
	pthread_mutex_lock(&T.lock);
	struct dxl_tev *e = append(DXL_TEV_MARK);
	if (e)
		e->name = label;
	pthread_mutex_unlock(&T.lock);
}

size_t dxl_trace_count(void)
{
	return T.n;
}

const struct dxl_tev *dxl_trace_events(void)
{
	return T.ev;
}

const uint8_t *dxl_trace_data(void)
{
	return T.data;
}

int dxl_trace_error(void)
{
	return T.error;
}

int dxl_trace_attach(struct dxl_pmem *pm)
{
	struct stat st;
	int hit;

	if (pm->fd < 0 || fstat(pm->fd, &st) != 0)
		return 0;
	pthread_mutex_lock(&T.lock);
	hit = T.armed && st.st_dev == T.dev && st.st_ino == T.ino;
	pthread_mutex_unlock(&T.lock);
	return hit;
}

/*
 * The pool offset of addr: inside the pool's own mapping, or inside
 * another mapping of the same file (an application's dxl_mmap), found in
 * /proc/self/maps.  -1 if neither.
 */
static int64_t pool_off(struct dxl_pmem *pm, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b = (uintptr_t)pm->base;
	struct stat st;
	char line[512];
	int64_t off = -1;
	FILE *f;

	if (a >= b && a - b <= pm->size && len <= pm->size - (a - b))
		return (int64_t)(a - b);
	if (fstat(pm->fd, &st) != 0 || !(f = fopen("/proc/self/maps", "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, foff, ino, maj, mnr;
		if (sscanf(line, "%lx-%lx %*s %lx %lx:%lx %lu", &lo, &hi, &foff, &maj, &mnr,
			   &ino) != 6)
			continue;
		if (ino != st.st_ino || a < lo || a + len > hi)
			continue;
		off = (int64_t)(foff + (a - lo));
		break;
	}
	fclose(f);
	if (off >= 0 && ((uint64_t)off > pm->size || len > pm->size - (uint64_t)off))
		off = -1;
	return off;
}

static void outside(const void *addr, size_t len, const char *site)
{
	struct dxl_tev *e = append(DXL_TEV_OUTSIDE);
	if (e) {
		e->off = (uint64_t)(uintptr_t)addr;
		e->len = len;
		e->site = site;
	}
}

/* DXL_TEST_UNTRACED=TEXT: stores from source lines containing TEXT are not
 * logged, as if they went around this layer — the explorer must say so. */
static int untraced(const char *site)
{
	const char *v = getenv("DXL_TEST_UNTRACED");
	return v && *v && site && strstr(site, v);
}

void dxl_trace_store(struct dxl_pmem *pm, const void *addr, size_t len, int nt,
		     const char *site)
{
	if (!len || untraced(site))
		return;
	pthread_mutex_lock(&T.lock);
	int64_t off = pool_off(pm, addr, len);
	if (off < 0) {
		outside(addr, len, site);
	} else {
		uint64_t at;
		if (append_data(addr, len, &at) == 0) {
			struct dxl_tev *e = append(DXL_TEV_STORE);
			if (e) {
				e->off = (uint64_t)off;
				e->len = len;
				e->data = at;
				e->nt = (uint32_t)nt;
				e->site = site;
			}
		}
	}
	pthread_mutex_unlock(&T.lock);
}

static void range_event(uint32_t kind, struct dxl_pmem *pm, const void *addr, size_t len,
			const char *name, const char *site)
{
	pthread_mutex_lock(&T.lock);
	int64_t off = pool_off(pm, addr, len);
	if (off < 0) {
		outside(addr, len, site);
	} else {
		struct dxl_tev *e = append(kind);
		if (e) {
			e->off = (uint64_t)off;
			e->len = len;
			e->name = name;
			e->site = site;
		}
	}
	pthread_mutex_unlock(&T.lock);
}

void dxl_trace_flush(struct dxl_pmem *pm, const void *addr, size_t len, const char *name,
		     const char *site)
{
	if (len)
		range_event(DXL_TEV_FLUSH, pm, addr, len, name, site);
}

void dxl_trace_msync(struct dxl_pmem *pm, const void *addr, size_t len, const char *site)
{
	if (len)
		range_event(DXL_TEV_MSYNC, pm, addr, len, NULL, site);
}

void dxl_trace_fence(struct dxl_pmem *pm, const char *name, const char *site)
{
	(void)pm;
	pthread_mutex_lock(&T.lock);
	struct dxl_tev *e = append(DXL_TEV_FENCE);
	if (e) {
		e->name = name;
		e->site = site;
	}
	pthread_mutex_unlock(&T.lock);
}

static int skip(const char *var, const char *name)
{
	const char *v = getenv(var);
	return name && v && strcmp(v, name) == 0;
}

int dxl_trace_skip_drain(const char *name)
{
	return skip("DXL_TEST_SKIP_DRAIN", name);
}

int dxl_trace_skip_flush(const char *name)
{
	return skip("DXL_TEST_SKIP_FLUSH", name);
}

#else
typedef int dxl_trace_not_built; /* ISO C wants something in a file */
#endif
