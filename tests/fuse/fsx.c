/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fsx through the mount: random operations with ordinary system calls
 * (open, pwrite, pread, ftruncate, fallocate, copy_file_range, rename(at2),
 * unlink, O_APPEND writes) on files of a mounted pool, checked against an
 * in-memory shadow model. Every so often another process (the daxlease CLI)
 * reads a file straight from the pool, or writes into it, while it is
 * mounted: what the mount wrote must be in the pool, and what others write
 * must be seen through the mount. At the end: unmount, fsck, compare again.
 *
 *   test_fuse_fsx PATH/TO/daxlease [--cached] [--ops N] [--seed S]
 *
 * Exits 77 (CTest SKIP) with a message where FUSE cannot be used.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_dir.h"

#define NFILES 4
#define MAXSIZE (2u << 20)
#define MAXIO (160u << 10)
#define SKIP 77
#define LOGN 40

struct slot {
	bool exists;
	int fd;
	size_t size;
	uint8_t *data; /* MAXSIZE bytes; zero past size */
	bool stale;    /* another process wrote it; the kernel has not fetched its size */
};

static const char *dxl_bin;
static char tmp[4096], pool[4200], mnt[4200], errlog[4200];
static pid_t server = -1;
static bool mounted, cached;
static uint64_t seed, rng;
static struct slot files[NFILES];
static uint8_t *wbuf, *rbuf;
static char oplog[LOGN][160];
static unsigned long opno;
static bool no_zero_range;

static void cleanup(void);

static void logop(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logop(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(oplog[opno % LOGN], sizeof(oplog[0]), fmt, ap);
	va_end(ap);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL at op %lu (seed %" PRIu64 "%s): ", opno, seed,
		cached ? ", --cached" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nlast operations:\n");
	for (unsigned long i = opno >= LOGN ? opno - LOGN + 1 : 0; i <= opno; i++)
		fprintf(stderr, "  %6lu %s\n", i, oplog[i % LOGN]);
	cleanup();
	exit(1);
}

static void skip(const char *why)
{
	printf("SKIP: %s\n", why);
	cleanup();
	exit(SKIP);
}

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Run a command, stdout to a file (or /dev/null); returns its exit status. */
static int run(const char *out, char *const argv[])
{
	int st;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool is_mounted(void)
{
	struct stat a, b;
	return stat(mnt, &a) == 0 && stat(tmp, &b) == 0 && a.st_dev != b.st_dev;
}

static void cleanup(void)
{
	for (int i = 0; i < NFILES; i++)
		if (files[i].fd >= 0) {
			close(files[i].fd);
			files[i].fd = -1;
		}
	if (mounted && is_mounted()) {
		char *um[] = { "fusermount3", "-u", mnt, NULL };
		if (run(NULL, um) != 0) {
			char *lz[] = { "fusermount3", "-uz", mnt, NULL };
			run(NULL, lz);
		}
	}
	if (server > 0) {
		int st;
		for (int i = 0; i < 100; i++) {
			if (waitpid(server, &st, WNOHANG) == server) {
				server = -1;
				break;
			}
			usleep(100000);
		}
		if (server > 0) {
			kill(server, SIGTERM);
			waitpid(server, &st, 0);
			server = -1;
		}
	}
	mounted = false;
	if (tmp[0]) {
		char *rm[] = { "rm", "-rf", tmp, NULL };
		run(NULL, rm);
		tmp[0] = '\0';
	}
}

static void mount_pool(void)
{
	struct stat st;
	int fd = open("/dev/fuse", O_RDWR);

	if (fd < 0) {
		char why[256];
		snprintf(why, sizeof(why), "/dev/fuse cannot be opened: %s", strerror(errno));
		skip(why);
	}
	close(fd);
	if (stat("/usr/bin/fusermount3", &st) != 0 && stat("/bin/fusermount3", &st) != 0) {
		char *probe[] = { "sh", "-c", "command -v fusermount3", NULL };
		if (run(NULL, probe) != 0)
			skip("fusermount3 not installed (Debian: fuse3)");
	}
	server = fork();
	if (server < 0)
		die("fork: %s", strerror(errno));
	if (server == 0) {
		int efd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (efd >= 0) {
			dup2(efd, STDERR_FILENO);
			close(efd);
		}
		if (cached)
			execl(dxl_bin, dxl_bin, "mount", "-f", "-o", "cached", pool, mnt, (char *)NULL);
		else
			execl(dxl_bin, dxl_bin, "mount", "-f", pool, mnt, (char *)NULL);
		_exit(127);
	}
	mounted = true;
	for (int i = 0; i < 200 && !is_mounted(); i++) {
		int st2;
		if (waitpid(server, &st2, WNOHANG) == server) {
			char msg[512] = "";
			FILE *f = fopen(errlog, "r");
			server = -1;
			if (f) {
				if (!fgets(msg, sizeof(msg), f))
					msg[0] = '\0';
				fclose(f);
			}
			msg[strcspn(msg, "\n")] = '\0';
			if (strstr(msg, "not permitted") || strstr(msg, "ermission denied") ||
			    strstr(msg, "device not found")) {
				char why[700];
				snprintf(why, sizeof(why), "mounting FUSE is not allowed here: %s", msg);
				skip(why);
			}
			die("daxlease mount -f exited early: %s", msg);
		}
		usleep(50000);
	}
	if (!is_mounted())
		die("the mount did not come up within 10 s");
}

static void path_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/f%d", mnt, i);
}

static void check_bytes(int i, const uint8_t *got, size_t off, size_t len, const char *what)
{
	const uint8_t *want = files[i].data + off;
	if (memcmp(got, want, len) == 0)
		return;
	for (size_t k = 0; k < len; k++)
		if (got[k] != want[k])
			die("%s f%d: byte %zu is 0x%02x, expected 0x%02x", what, i, off + k, got[k],
			    want[k]);
}

static void model_write(int i, size_t off, const uint8_t *buf, size_t len)
{
	struct slot *s = &files[i];
	if (len == 0)
		return; /* a zero-length write or copy changes nothing, not even the size */
	memcpy(s->data + off, buf, len);
	if (off + len > s->size)
		s->size = off + len;
}

static void model_resize(int i, size_t size)
{
	struct slot *s = &files[i];
	if (size < s->size)
		memset(s->data + size, 0, s->size - size);
	s->size = size;
}

static void fill(uint8_t *buf, size_t len)
{
	uint64_t v = rnd();
	for (size_t k = 0; k < len; k++) {
		if ((k & 7) == 0)
			v = rnd();
		buf[k] = (uint8_t)(v >> ((k & 7) * 8));
	}
}

/* An offset: mostly near the end or unit-aligned, to hit the edges. */
static size_t pick_off(int i, size_t limit)
{
	size_t size = files[i].size, off;
	switch (below(4)) {
	case 0: off = size ? (size_t)below(size + 1) : 0; break;
	case 1: off = (size_t)below(limit / 4096 + 1) * 4096; break;
	case 2: off = size + (size_t)below(8192); break;
	default: off = (size_t)below(limit); break;
	}
	return off > limit ? limit : off;
}

static size_t pick_len(size_t off, size_t limit)
{
	size_t len;
	switch (below(3)) {
	case 0: len = (size_t)below(64) + 1; break;
	case 1: len = ((size_t)below(8) + 1) * 4096; break;
	default: len = (size_t)below(MAXIO) + 1; break;
	}
	if (off + len > limit)
		len = limit - off;
	return len;
}

static void open_slot(int i, int extra)
{
	char p[4300];
	path_of(i, p, sizeof(p));
	files[i].fd = open(p, O_RDWR | extra, 0644);
	if (files[i].fd < 0)
		die("open f%d: %s", i, strerror(errno));
}

static void op_create(int i)
{
	char p[4300];
	path_of(i, p, sizeof(p));
	logop("create f%d", i);
	files[i].fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (files[i].fd < 0)
		die("create f%d: %s", i, strerror(errno));
	files[i].exists = true;
	files[i].stale = false;
	model_resize(i, 0);
	int again = open(p, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (again >= 0 || errno != EEXIST)
		die("O_EXCL on an existing file: %s", again >= 0 ? "opened" : strerror(errno));
}

static void op_write(int i)
{
	size_t off = pick_off(i, MAXSIZE - 1), len = pick_len(off, MAXSIZE);
	fill(wbuf, len);
	logop("pwrite f%d %zu+%zu", i, off, len);
	ssize_t n = pwrite(files[i].fd, wbuf, len, (off_t)off);
	if (n != (ssize_t)len)
		die("pwrite f%d %zu+%zu returned %zd (%s)", i, off, len, n, strerror(errno));
	model_write(i, off, wbuf, len);
}

static void op_append(int i)
{
	char p[4300];
	size_t len = pick_len(files[i].size, MAXSIZE);
	path_of(i, p, sizeof(p));
	if (len == 0)
		return;
	fill(wbuf, len);
	logop("append f%d %zu", i, len);
	int fd = open(p, O_WRONLY | O_APPEND);
	if (fd < 0)
		die("open O_APPEND f%d: %s", i, strerror(errno));
	/* the offset must be ignored: O_APPEND writes land at EOF */
	ssize_t n = pwrite(fd, wbuf, len, 0);
	if (n != (ssize_t)len)
		die("append f%d %zu returned %zd (%s)", i, len, n, strerror(errno));
	close(fd);
	model_write(i, files[i].size, wbuf, len);
}

static void op_read(int i)
{
	size_t off = pick_off(i, MAXSIZE), len = pick_len(off, MAXSIZE);
	size_t want = off >= files[i].size ? 0
		      : (files[i].size - off < len ? files[i].size - off : len);
	logop("pread f%d %zu+%zu", i, off, len);
	ssize_t n = pread(files[i].fd, rbuf, len, (off_t)off);
	if (n != (ssize_t)want)
		die("pread f%d %zu+%zu returned %zd, expected %zu (%s)", i, off, len, n, want,
		    n < 0 ? strerror(errno) : "short");
	check_bytes(i, rbuf, off, want, "pread");
}

static void op_truncate(int i)
{
	size_t size;
	switch (below(3)) {
	case 0: size = (size_t)below(files[i].size + 1); break;
	case 1: size = (size_t)below(MAXSIZE / 4096) * 4096; break;
	default: size = (size_t)below(MAXSIZE); break;
	}
	logop("ftruncate f%d %zu", i, size);
	if (ftruncate(files[i].fd, (off_t)size) != 0)
		die("ftruncate f%d %zu: %s", i, size, strerror(errno));
	model_resize(i, size);
}

static void op_fallocate(int i)
{
	static const int modes[] = {
		0,
		FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	};
	int mode = modes[below(5)];
	size_t off = pick_off(i, MAXSIZE - 1), len = pick_len(off, MAXSIZE);
	if (len == 0)
		return;
	if ((mode & FALLOC_FL_ZERO_RANGE) && no_zero_range)
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	logop("fallocate f%d mode %#x %zu+%zu", i, (unsigned)mode, off, len);
	if (fallocate(files[i].fd, mode, (off_t)off, (off_t)len) != 0) {
		if (errno == EOPNOTSUPP && (mode & FALLOC_FL_ZERO_RANGE)) {
			printf("note: this kernel's FUSE does not pass FALLOC_FL_ZERO_RANGE on\n");
			no_zero_range = true;
			return;
		}
		die("fallocate f%d mode %#x %zu+%zu: %s", i, (unsigned)mode, off, len,
		    strerror(errno));
	}
	struct slot *s = &files[i];
	size_t end = off + len;
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		size_t zend = end < s->size ? end : s->size;
		if (off < zend)
			memset(s->data + off, 0, zend - off);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > s->size)
		s->size = end;
}

static void op_copy(int i, int j)
{
	size_t in, out, len;
	bool aligned = below(2);
	if (files[i].size == 0)
		return;
	in = aligned ? (size_t)below(files[i].size / 4096 + 1) * 4096 : (size_t)below(files[i].size);
	out = aligned ? (size_t)below((MAXSIZE - 4096) / 4096) * 4096
		      : (size_t)below(MAXSIZE - 4096);
	len = below(2) ? (size_t)-1 / 2 : pick_len(out, MAXSIZE);
	if (aligned && len != (size_t)-1 / 2)
		len = (len + 4095) & ~(size_t)4095;
	size_t avail = in < files[i].size ? files[i].size - in : 0;
	size_t expect = len < avail ? len : avail;
	if (out + expect > MAXSIZE)
		expect = MAXSIZE - out, len = expect;
	logop("copy_file_range f%d %zu -> f%d %zu len %zu", i, in, j, out, len);
	loff_t oin = (loff_t)in, oout = (loff_t)out;
	size_t done = 0;
	while (done < expect) {
		ssize_t n = copy_file_range(files[i].fd, &oin, files[j].fd, &oout, len - done, 0);
		if (n < 0)
			die("copy_file_range f%d -> f%d: %s", i, j, strerror(errno));
		if (n == 0)
			die("copy_file_range f%d -> f%d stopped at %zu of %zu", i, j, done, expect);
		done += (size_t)n;
	}
	memmove(rbuf, files[i].data + in, expect); /* rbuf is MAXSIZE */
	model_write(j, out, rbuf, expect);
}

/* A file unlinked or renamed over while open stays readable through its
 * fd, and every f-call works on it: fstat (no links left), fchmod,
 * futimens, fchown to its own owner. */
static void check_orphan(int fd, struct slot *old, const char *what)
{
	uint8_t *buf = malloc(old->size + 1);
	struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	struct stat st;
	if (!buf)
		die("out of memory");
	ssize_t n = pread(fd, buf, old->size + 1, 0);
	if (n != (ssize_t)old->size)
		die("%s: open unlinked file read %zd of %zu bytes (%s)", what, n, old->size,
		    n < 0 ? strerror(errno) : "short");
	if (memcmp(buf, old->data, old->size) != 0)
		die("%s: open unlinked file's data changed", what);
	if (fstat(fd, &st) != 0)
		die("%s: fstat of the open unlinked file: %s", what, strerror(errno));
	if ((size_t)st.st_size != old->size || st.st_nlink != 0)
		die("%s: fstat of the open unlinked file: size %lld nlink %lu, expected %zu and 0", what,
		    (long long)st.st_size, (unsigned long)st.st_nlink, old->size);
	if (fchmod(fd, 0640) != 0 || futimens(fd, ts) != 0 || fchown(fd, st.st_uid, st.st_gid) != 0)
		die("%s: fchmod/futimens/fchown of the open unlinked file: %s", what, strerror(errno));
	if (fstat(fd, &st) != 0 || (st.st_mode & 07777) != 0640 || st.st_mtime != 1000000000)
		die("%s: the open unlinked file's mode %o, mtime %lld after fchmod and futimens", what,
		    (unsigned)(st.st_mode & 07777), (long long)st.st_mtime);
	free(buf);
	close(fd);
}

static void swap_slots(int i, int j)
{
	struct slot t = files[i];
	files[i] = files[j];
	files[j] = t;
}

static void op_rename(int i, int j)
{
	char a[4300], b[4300];
	path_of(i, a, sizeof(a));
	path_of(j, b, sizeof(b));
	unsigned flags = 0;
	switch (below(3)) {
	case 1: flags = RENAME_NOREPLACE; break;
	case 2: flags = RENAME_EXCHANGE; break;
	}
	logop("rename f%d -> f%d flags %u", i, j, flags);
	int rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, flags);
	if (flags == RENAME_EXCHANGE && !files[j].exists) {
		if (rc == 0 || errno != ENOENT)
			die("RENAME_EXCHANGE with a missing target: %s", rc ? strerror(errno) : "succeeded");
		return;
	}
	if (flags == RENAME_NOREPLACE && files[j].exists) {
		if (rc == 0 || errno != EEXIST)
			die("RENAME_NOREPLACE over a file: %s", rc ? strerror(errno) : "succeeded");
		return;
	}
	if (rc != 0)
		die("rename f%d -> f%d (flags %u): %s", i, j, flags, strerror(errno));
	if (flags == RENAME_EXCHANGE) {
		swap_slots(i, j);
		return;
	}
	if (files[j].exists)
		check_orphan(files[j].fd, &files[j], "rename over");
	files[j].fd = -1;
	files[j].exists = false;
	swap_slots(i, j); /* j now holds i's file; i is empty */
	model_resize(i, 0);
}

static void op_unlink(int i)
{
	char p[4300];
	path_of(i, p, sizeof(p));
	logop("unlink f%d", i);
	if (unlink(p) != 0)
		die("unlink f%d: %s", i, strerror(errno));
	check_orphan(files[i].fd, &files[i], "unlink");
	files[i].fd = -1;
	files[i].exists = false;
	model_resize(i, 0);
}

static void op_reopen(int i)
{
	bool trunc = below(4) == 0;
	logop("reopen f%d%s", i, trunc ? " O_TRUNC" : "");
	close(files[i].fd);
	open_slot(i, trunc ? O_TRUNC : 0);
	files[i].stale = false; /* open looked the file up afresh */
	if (trunc)
		model_resize(i, 0);
}

static void op_stat(int i)
{
	struct stat st;
	logop("fstat f%d", i);
	files[i].stale = false;
	if (fstat(files[i].fd, &st) != 0)
		die("fstat f%d: %s", i, strerror(errno));
	if ((size_t)st.st_size != files[i].size)
		die("fstat f%d: size %lld, expected %zu", i, (long long)st.st_size, files[i].size);
	if (st.st_nlink != 1)
		die("fstat f%d: nlink %lu", i, (unsigned long)st.st_nlink);
	if (below(2) ? fsync(files[i].fd) : fdatasync(files[i].fd))
		die("fsync f%d: %s", i, strerror(errno));
}

/* Another process reads the file straight from the pool. */
static void check_from_pool(int i)
{
	char out[4300], name[16];
	snprintf(out, sizeof(out), "%s/get.out", tmp);
	snprintf(name, sizeof(name), "/f%d", i);
	logop("daxlease get f%d", i);
	char *argv[] = { (char *)dxl_bin, "get", pool, name, out, NULL };
	if (run(NULL, argv) != 0)
		die("daxlease get %s failed", name);
	FILE *f = fopen(out, "rb");
	if (!f)
		die("%s: %s", out, strerror(errno));
	uint8_t *buf = malloc(MAXSIZE + 1);
	size_t n = buf ? fread(buf, 1, MAXSIZE + 1, f) : 0;
	fclose(f);
	if (!buf)
		die("out of memory");
	if (n != files[i].size)
		die("the pool has f%d at %zu bytes, the mount wrote %zu", i, n, files[i].size);
	check_bytes(i, buf, 0, n, "pool copy of");
	free(buf);
}

/* Another process writes into the file; the mount must show it. */
static void write_from_outside(int i)
{
	char name[16], cmd[96];
	size_t off = (size_t)below(files[i].size + 4096), len = (size_t)below(20000) + 1;
	uint8_t byte = (uint8_t)below(256);
	if (off + len > MAXSIZE)
		return;
	snprintf(name, sizeof(name), "/f%d", i);
	snprintf(cmd, sizeof(cmd), "pwrite -S %u %zu %zu", byte, off, len);
	logop("daxlease io f%d -c '%s'", i, cmd);
	char *argv[] = { (char *)dxl_bin, "io", pool, name, "-c", cmd, NULL };
	if (run(NULL, argv) != 0)
		die("daxlease io %s -c '%s' failed", name, cmd);
	memset(wbuf, byte, len);
	model_write(i, off, wbuf, len);
	if (cached) {
		/* the page cache is revalidated at open: see docs/mount.md */
		close(files[i].fd);
		open_slot(i, 0);
	} else if (below(2)) {
		/*
		 * Reads see the new bytes at once, but the kernel clamps
		 * copy_file_range to the size it last fetched: a stat refreshes
		 * it (docs/mount.md, "Coherence").
		 */
		struct stat st;
		if (fstat(files[i].fd, &st) != 0)
			die("fstat f%d: %s", i, strerror(errno));
	} else {
		files[i].stale = true;
	}
}

static void verify_all(const char *when)
{
	for (int i = 0; i < NFILES; i++) {
		char p[4300];
		struct stat st;
		path_of(i, p, sizeof(p));
		int rc = stat(p, &st);
		if (!files[i].exists) {
			if (rc == 0 || errno != ENOENT)
				die("%s: f%d should not exist", when, i);
			continue;
		}
		if (rc != 0)
			die("%s: stat f%d: %s", when, i, strerror(errno));
		if ((size_t)st.st_size != files[i].size)
			die("%s: f%d size %lld, expected %zu", when, i, (long long)st.st_size,
			    files[i].size);
		ssize_t n = pread(files[i].fd, rbuf, MAXSIZE, 0);
		if (n != (ssize_t)files[i].size)
			die("%s: f%d read %zd of %zu", when, i, n, files[i].size);
		check_bytes(i, rbuf, 0, files[i].size, when);
	}
}

int main(int argc, char **argv)
{
	unsigned long nops = 3000;
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH/TO/daxlease [--cached] [--ops N] [--seed S]\n", argv[0]);
		return 2;
	}
	dxl_bin = argv[1];
	for (int a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--cached") == 0)
			cached = true;
		else if (strcmp(argv[a], "--ops") == 0 && a + 1 < argc)
			nops = strtoul(argv[++a], NULL, 0);
		else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else {
			fprintf(stderr, "unknown argument %s\n", argv[a]);
			return 2;
		}
	}
	rng = seed ? seed : 1;
	printf("fsx through the mount: seed %" PRIu64 ", %lu operations, %s\n", seed, nops,
	       cached ? "cached" : "direct_io");
	fflush(stdout);
	for (int i = 0; i < NFILES; i++) {
		files[i].fd = -1;
		files[i].data = calloc(1, MAXSIZE);
		if (!files[i].data)
			return 1;
	}
	wbuf = malloc(MAXSIZE);
	rbuf = malloc(MAXSIZE);
	if (!wbuf || !rbuf)
		return 1;

	snprintf(tmp, sizeof(tmp), "%s/dxl-fusefsx.XXXXXX",
		 dxl_test_dir(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(pool, sizeof(pool), "%s/pool", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(errlog, sizeof(errlog), "%s/mount.err", tmp);
	if (mkdir(mnt, 0755) != 0)
		die("mkdir %s: %s", mnt, strerror(errno));
	char *mkfs[] = { (char *)dxl_bin, "mkfs", "--size", "128m", pool, NULL };
	if (run(NULL, mkfs) != 0)
		die("daxlease mkfs failed");
	mount_pool();

	for (opno = 0; opno < nops; opno++) {
		oplog[opno % LOGN][0] = '\0';
		int i = (int)below(NFILES), j = (int)below(NFILES);
		if (!files[i].exists) {
			op_create(i);
			continue;
		}
		unsigned r = (unsigned)below(100);
		if (r < 25)
			op_write(i);
		else if (r < 45)
			op_read(i);
		else if (r < 52)
			op_truncate(i);
		else if (r < 60)
			op_fallocate(i);
		else if (r < 66)
			op_append(i);
		else if (r < 72 && i != j && files[j].exists && !files[i].stale)
			op_copy(i, j);
		else if (r < 76 && i != j)
			op_rename(i, j);
		else if (r < 78)
			op_unlink(i);
		else if (r < 84)
			op_reopen(i);
		else if (r < 92)
			op_stat(i);
		else if (r < 94)
			check_from_pool(i);
		else if (r < 96)
			write_from_outside(i);
		else
			verify_all("verify");
	}
	verify_all("final verify");

	/* Unmount; the pool must be clean and hold exactly the model. */
	for (int i = 0; i < NFILES; i++)
		if (files[i].fd >= 0) {
			close(files[i].fd);
			files[i].fd = -1;
		}
	char *um[] = { "fusermount3", "-u", mnt, NULL };
	if (run(NULL, um) != 0)
		die("fusermount3 -u failed");
	int st;
	if (waitpid(server, &st, 0) != server || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("the mount process did not exit cleanly after unmount");
	server = -1;
	mounted = false;
	char *fsck[] = { (char *)dxl_bin, "fsck", pool, NULL };
	if (run(NULL, fsck) != 0)
		die("fsck found problems after the run");
	for (int i = 0; i < NFILES; i++)
		if (files[i].exists)
			check_from_pool(i);
	cleanup();
	printf("PASS\n");
	return 0;
}
