/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime file shared by the processes of one pool.  See runtime.h.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt_internal.h"
#include "util/util.h"

#define RT_MAGIC 0x54524c58444fULL
#define RT_VERSION 6u
#define RT_SIZE DXL_ALIGN_UP(sizeof(struct rt_shared), 4096)

static int ofd_lock(int fd, short type, off_t start, int wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };
	return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
}

static int rt_init(struct rt_shared *sh)
{
	pthread_mutexattr_t a;
	int i, rc;

	/* No memset: the first opener truncated the file to 0 and back, so it
	 * reads as zeros, and touching every page of the tables would cost
	 * a page allocation each on every first open. */
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(&sh->meta_lock, &a);
	for (i = 0; rc == 0 && i < RT_ILOCKS; i++)
		rc = pthread_mutex_init(&sh->ilocks[i].mu, &a);
	pthread_mutexattr_destroy(&a);
	if (rc)
		return dxl_err(rc, "runtime: cannot initialise the metadata and inode locks");
	sh->size = (uint32_t)RT_SIZE;
	sh->next_lease_id = 1;
	sh->next_pin_gen = 1;
	sh->version = RT_VERSION;
	__atomic_store_n(&sh->magic, RT_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int dxl_rt_open(const uint8_t uuid[16], struct dxl_rt **out, int *first, int *dead)
{
	const char *dir = getenv("DXL_RUNTIME_DIR");
	struct dxl_rt *rt;
	int i, n, rc = 0;
	void *p;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return dxl_err(ENOMEM, "runtime: out of memory");
	if (!dir || !*dir)
		dir = "/dev/shm";
	n = snprintf(rt->path, sizeof(rt->path), "%s/daxlease-", dir);
	for (i = 0; i < 16 && n + 2 < (int)sizeof(rt->path); i++)
		n += snprintf(rt->path + n, sizeof(rt->path) - (size_t)n, "%02x", uuid[i]);
	snprintf(rt->path + n, sizeof(rt->path) - (size_t)n, ".rt");

	memcpy(rt->uuid, uuid, sizeof(rt->uuid));
	rt->self = -1;
	for (;;) {
		struct stat a, b;

		rt->fd = open(rt->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (rt->fd < 0) {
			rc = dxl_err(errno, "runtime file %s: %s", rt->path, strerror(errno));
			free(rt);
			return rc;
		}
		/* Byte 0 serialises openers and the last closer; byte 1 is
		 * held shared while open. */
		if (ofd_lock(rt->fd, F_WRLCK, 0, 1) < 0) {
			rc = dxl_err(errno, "runtime file %s: lock: %s", rt->path, strerror(errno));
			goto fail;
		}
		/* the last closer may have removed the file we opened */
		if (fstat(rt->fd, &a) == 0 && stat(rt->path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			break;
		close(rt->fd);
	}
	*first = ofd_lock(rt->fd, F_WRLCK, 1, 0) == 0;
	if (*first && (ftruncate(rt->fd, 0) < 0 || ftruncate(rt->fd, (off_t)RT_SIZE) < 0)) {
		rc = dxl_err(errno, "runtime file %s: %s", rt->path, strerror(errno));
		goto fail;
	}
	p = mmap(NULL, RT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rt->fd, 0);
	if (p == MAP_FAILED) {
		rc = dxl_err(errno, "runtime file %s: mmap: %s", rt->path, strerror(errno));
		goto fail;
	}
	rt->sh = p;
	if (*first) {
		rc = rt_init(rt->sh);
	} else if (__atomic_load_n(&rt->sh->magic, __ATOMIC_ACQUIRE) != RT_MAGIC ||
		   rt->sh->version != RT_VERSION || rt->sh->size != RT_SIZE) {
		rc = dxl_err(EPROTO, "runtime file %s is in use by an incompatible daxlease version",
			     rt->path);
	}
	if (rc == 0 && ofd_lock(rt->fd, F_RDLCK, 1, 1) < 0)
		rc = dxl_err(errno, "runtime file %s: lock: %s", rt->path, strerror(errno));
	/* The metadata lock before byte 0 goes: a first opener recovers and
	 * reaps orphans before any later opener can touch the pool. */
	if (rc == 0 && dead) {
		int lrc = dxl_rt_lock(rt);
		if (lrc < 0)
			rc = lrc;
		else
			*dead = lrc;
	}
	ofd_lock(rt->fd, F_UNLCK, 0, 0);
	if (rc) {
		munmap(rt->sh, RT_SIZE);
		goto fail;
	}
	*out = rt;
	return 0;
fail:
	close(rt->fd);
	free(rt);
	return rc;
}

void dxl_rt_close(struct dxl_rt *rt)
{
	if (!rt)
		return;
	munmap(rt->sh, RT_SIZE);
	/* The last one out removes the file: runtime state does not outlive
	 * its users, and /dev/shm is memory. */
	if (ofd_lock(rt->fd, F_WRLCK, 0, 1) == 0 && ofd_lock(rt->fd, F_WRLCK, 1, 0) == 0)
		unlink(rt->path);
	close(rt->fd); /* drops the OFD locks */
	free(rt);
}

void dxl_rt_forget(struct dxl_rt *rt)
{
	if (!rt)
		return;
	munmap(rt->sh, RT_SIZE);
	/* the parent's open file description keeps its OFD locks: closing
	 * our copy of the descriptor releases nothing of the parent's */
	close(rt->fd);
	free(rt);
}

/* A waker runs on another CPU only if there is one: spinning on a single
 * CPU only delays it. */
int dxl_rt_may_spin(void)
{
	static int ncpu;
	int n = __atomic_load_n(&ncpu, __ATOMIC_RELAXED);

	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 1 ? 2 : 1;
		__atomic_store_n(&ncpu, n, __ATOMIC_RELAXED);
	}
	return n > 1;
}

/* Spin on f(arg) for up to ns nanoseconds: 1 as soon as it holds. */
int dxl_rt_spin(int (*f)(void *), void *arg, int64_t ns)
{
	int64_t until;
	unsigned i;

	if (!dxl_rt_may_spin())
		return f(arg);
	until = dxl_mono_ns() + ns;
	for (i = 1;; i++) {
		if (f(arg))
			return 1;
		if ((i & 31) == 0 && dxl_mono_ns() >= until)
			return 0;
		dxl_cpu_relax();
	}
}

static int mutex_free(void *mu)
{
	/* glibc's owner word is the first int: 0 when free (a read-only
	 * look, so that spinners do not take the line from the holder) */
	return __atomic_load_n((int *)mu, __ATOMIC_RELAXED) == 0;
}

/* Lock a robust mutex of the runtime file: 0, 1 = its previous holder
 * died holding it, <0 = unusable. */
int dxl_rt_mutex_lock(pthread_mutex_t *mu, const char *what)
{
	int rc = pthread_mutex_trylock(mu);

	/* Held: the holders here keep it for microseconds, and sleeping on
	 * the futex costs two wake-ups of that order (and a contended mutex
	 * more), so wait a little on the CPU first, as adaptive mutexes do. */
	while (rc == EBUSY && dxl_rt_spin(mutex_free, mu, RT_SPIN_NS)) {
		rc = pthread_mutex_trylock(mu);
		if (rc != EBUSY)
			break;
	}

	/* Contended: wait in slices.  A holder killed inside
	 * pthread_mutex_unlock, after it released the word and before it
	 * woke the waiters, leaves them asleep for ever (the kernel's
	 * robust-list cleanup finds no owner to mourn), so look again now
	 * and then rather than trust the wake. */
	while (rc == EBUSY || rc == ETIMEDOUT) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		rc = pthread_mutex_timedlock(mu, &ts);
	}
	if (rc == 0)
		return 0;
	if (rc == EOWNERDEAD)
		return 1;
	return dxl_err(rc == ENOTRECOVERABLE ? EIO : rc,
		       "%s unusable (%s); close every user of the pool and reopen", what,
		       strerror(rc));
}

int dxl_rt_lock(struct dxl_rt *rt)
{
	return dxl_rt_mutex_lock(&rt->sh->meta_lock, "metadata lock");
}

void dxl_rt_consistent(struct dxl_rt *rt)
{
	pthread_mutex_consistent(&rt->sh->meta_lock);
}

void dxl_rt_unlock(struct dxl_rt *rt)
{
	pthread_mutex_unlock(&rt->sh->meta_lock);
	dxl_rt_wake_pending(rt);
}

const char *dxl_rt_path(const struct dxl_rt *rt)
{
	return rt->path;
}
