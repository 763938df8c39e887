/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RDMA on loopback (tcp;ofi_rxm): the server, its clients and local
 * registrations, each promise tried where it could break.  One program,
 * one mode per CTest test (tests/rdma.cmake); every process opens
 * libfabric itself after fork.  DXL_TEST_POOL=/dev/daxX.Y runs them on a
 * device-DAX pool at its unit (the VM test, over verbs on soft-RoCE).
 *
 *   truncate_race      remote writes racing a local truncate and a reuse of
 *                      the freed units by another file: no byte of another
 *                      file changes (the client ignores the recall and is
 *                      revoked; the server is stopped over the deadline so
 *                      writes are in flight when it comes back)
 *   truncate_race_noq  the same with DXL_TEST_NO_QUARANTINE=1: must see the
 *                      corruption, or the first mode proves nothing
 *   recall             a cooperative client returns in time, loses nothing
 *   crash              a SIGKILLed client's layouts and pins go
 *   server_stop        a stopped server gives the client a clear error
 *   access             outside the range, a returned key, guessed keys,
 *                      wrong key, forged messages: refused, server unharmed
 *   commit             committed data survives a SIGKILL of the server
 *   register           local registration: break told to the owner naming
 *                      the registration; after revoke a write fails
 *   many               64 clients at once, one of them hostile
 *   late_challenge     the server answers a first HELLO after the client
 *                      has sent its second: that late CHALLENGE is taken
 *                      with the first try's nonce (not refused as a server
 *                      without the key), and the connection works
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daxlease/rdma.h"
#include "rdma/client.h"
#include "lease_common.h" /* lt_now_ns, lt_sleep_ms, lt_wait_ok */
#include "scratch_pool.h"

static const uint8_t key[32] = "daxlease-test-key-0123456789abc";
static int port;
static pid_t server_pid;
static char addr[64];

/* The address the server listens on: loopback for tcp;ofi_rxm, or the
 * address of an RDMA device's netdev (DXL_TEST_RDMA_ADDR, with
 * DXL_FI_PROVIDER="verbs;ofi_rxm": soft-RoCE in the VM test). */
static const char *host_ip(void)
{
	const char *h = getenv("DXL_TEST_RDMA_ADDR");
	return h && *h ? h : "127.0.0.1";
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	CHECK(inet_pton(AF_INET, host_ip(), &a.sin_addr) == 1);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

/* 64 MiB at 4 KiB units; on a device (DXL_TEST_POOL, the VM test) all
 * of it at its alignment, which the ranges below allow for (unit_sz). */
static uint64_t unit_sz;

static void make_pool(uint32_t break_ms)
{
	struct dxl_mkfs_opts o = {.size = scratch_dev ? 0 : 64ull << 20, .unit = unit_sz,
				  .lease_break_ms = break_ms, .flags = DXL_MKFS_FORCE};

	CHECK_OK(dxl_mkfs(pool_path, &o));
}

static void log_line(void *arg, const char *line)
{
	if (getenv("DXL_TEST_VERBOSE"))
		fprintf(stderr, "[server] %s\n", line);
}

/* 1 when a client gets in, 0 when the server died (its port was taken
 * between free_port() and its bind).  The client is a child: a process
 * that has opened the verbs provider passes the device contexts
 * librdmacm keeps to its forked children, whose own connections then
 * fail (the clients the tests fork afterwards). */
static int server_ready(void)
{
	/* 2 s a try: a connection over soft-RoCE in an emulated VM takes
	 * more than a second to come up */
	for (int64_t until = lt_now_ns() + 60 * 1000000000LL; lt_now_ns() < until;) {
		pid_t probe = fork();
		int st;
		CHECK(probe >= 0);
		if (probe == 0) {
			struct dxl_remote_opts ro = {.version = DXL_REMOTE_OPTS_VERSION, .key = key,
						     .timeout_ms = 2000};
			dxl_remote *r;
			if (dxl_remote_connect(addr, &ro, &r) != 0)
				_exit(1);
			dxl_remote_close(r);
			_exit(0);
		}
		CHECK(waitpid(probe, &st, 0) == probe);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 1;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid)
			return 0;
		lt_sleep_ms(50);
	}
	CHECK(!"the server did not come up");
	return 0;
}

static dxl_server *the_server;

static void on_sigterm(int sig)
{
	dxl_server_stop(the_server);
}

static void start_server(uint32_t client_timeout_ms)
{
	struct dxl_server_opts o = {.version = DXL_SERVER_OPTS_VERSION, .key = key,
				    .client_timeout_ms = client_timeout_ms, .log = log_line};

	for (int tries = 0; tries < 5; tries++) {
		port = free_port();
		snprintf(addr, sizeof(addr), "%s:%d", host_ip(), port);
		server_pid = fork();
		CHECK(server_pid >= 0);
		if (server_pid == 0) {
			dxl_pool *pool;
			dxl_server *s;
			CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
			CHECK_OK(dxl_server_start(pool, addr, &o, &s));
			the_server = s;
			signal(SIGTERM, on_sigterm);
			CHECK_OK(dxl_server_run(s));
			dxl_server_close(s);
			dxl_pool_close(pool);
			_exit(0);
		}
		if (server_ready())
			return;
	}
	CHECK(!"the server died five times at start");
}

static pid_t test_main_pid;

/* a failed CHECK exits: the server must not outlive the test */
static void kill_server_at_exit(void)
{
	if (getpid() == test_main_pid && server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
}

static void stop_server(void)
{
	int st;

	if (server_pid > 0) {
		kill(server_pid, SIGCONT);
		kill(server_pid, SIGTERM);
		CHECK(waitpid(server_pid, &st, 0) == server_pid);
		server_pid = 0;
		/* a server that crashed on the way (a late write, say) fails the test */
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fprintf(stderr, "server: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exit status",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static dxl_remote *connect_client(uint32_t timeout_ms)
{
	struct dxl_remote_opts ro = {.version = DXL_REMOTE_OPTS_VERSION, .key = key, .timeout_ms = timeout_ms};
	dxl_remote *r;

	CHECK_OK(dxl_remote_connect(addr, &ro, &r));
	return r;
}

/* A local file of len bytes of c. */
static void make_file(const char *path, uint64_t len, int c)
{
	dxl_pool *pool;
	dxl_file *f;
	char *buf = malloc(len);

	CHECK(buf);
	memset(buf, c, len);
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_open(pool, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &f));
	CHECK_RC(dxl_pwrite(f, buf, len, 0), (long long)len);
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(pool));
	free(buf);
}

/* How many bytes of path's [0, len) differ from c (-1: unreadable). */
static long long file_differs(const char *path, uint64_t len, int c)
{
	dxl_pool *pool;
	dxl_file *f;
	unsigned char *buf = malloc(len);
	long long bad = 0;

	CHECK(buf);
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	if (dxl_open(pool, path, O_RDONLY, 0, &f) != 0) {
		dxl_pool_close(pool);
		free(buf);
		return -1;
	}
	CHECK_RC(dxl_pread(f, buf, len, 0), (long long)len);
	for (uint64_t i = 0; i < len; i++)
		bad += buf[i] != (unsigned char)c;
	dxl_close(f);
	dxl_pool_close(pool);
	free(buf);
	return bad;
}

static int count_server_leases_cb(void *arg, const struct dxl_lease_info *in)
{
	if (in->pid == server_pid)
		++*(int *)arg;
	return 0;
}

static int server_leases(void)
{
	dxl_pool *pool;
	int n = 0;

	CHECK_OK(dxl_pool_open(pool_path, DXL_POOL_RDONLY, &pool));
	CHECK_OK(dxl_lease_list(pool, count_server_leases_cb, &n));
	dxl_pool_close(pool);
	return n;
}

static void send_int(int fd, long long v)
{
	CHECK(write(fd, &v, sizeof(v)) == sizeof(v));
}

static long long recv_int(int fd)
{
	long long v = 0;
	ssize_t n = read(fd, &v, sizeof(v));

	CHECK(n == sizeof(v));
	return v;
}

/* ------------------------------------------------------------------ 1 */

static void ignore_recall(dxl_layout *l, void *arg)
{
	/* hostile: keep writing, never return */
}

/* A client writing 64 KiB of 0xEE over its layout of /a until a write fails. */
static pid_t hostile_writer(int tell)
{
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (pid == 0) {
		dxl_remote *r = connect_client(20000);
		dxl_rfile *f;
		dxl_layout *l;
		char *buf = malloc(65536);
		long long n = 0, rc = 0;
		int64_t until;
		memset(buf, 0xee, 65536);
		dxl_remote_set_recall(r, ignore_recall, NULL);
		CHECK_OK(dxl_remote_open(r, "/a", O_RDWR, 0, &f));
		CHECK_OK(dxl_remote_layout_get(f, 0, 1 << 20, DXL_LAYOUT_RW, &l));
		send_int(tell, 0); /* ready */
		until = (lt_now_ns() / 1000000) + 30000;
		while ((lt_now_ns() / 1000000) < until) {
			rc = dxl_remote_write(l, buf, 65536, (uint64_t)(n % 16) * 65536);
			if (rc < 0)
				break;
			n++;
		}
		/* after revocation every later write fails too */
		if (rc < 0 && dxl_remote_write(l, buf, 8, 0) >= 0)
			rc = 1;
		send_int(tell, rc);
		dxl_remote_layout_return(l);
		dxl_remote_close(r);
		_exit(0);
	}
	return pid;
}

/* Returns whether another file was changed (noq: the corruption seen). */
static int test_truncate_race(int noq)
{
	int p[2];
	pid_t w;
	long long rc, bad_b, bad_c;
	dxl_pool *pool;
	dxl_file *f;
	struct dxl_stat st;

	if (noq)
		setenv("DXL_TEST_NO_QUARANTINE", "1", 1);
	make_pool(1000);
	make_file("/c", 256 << 10, 0xcc); /* a bystander */
	make_file("/a", 1 << 20, 0xaa);
	start_server(20000);
	CHECK(pipe(p) == 0);
	w = hostile_writer(p[1]);
	CHECK(recv_int(p[0]) == 0);
	lt_sleep_ms(100);
	/* The server stops over the deadline: the writer's next write waits in
	 * the network and lands when the server runs again, before it has
	 * dispatched the revocation — into units the truncate has freed. */
	kill(server_pid, SIGSTOP);
	lt_sleep_ms(50);
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_open(pool, "/a", O_RDWR, 0, &f));
	CHECK_OK(dxl_ftruncate(f, 0)); /* breaks, waits 1 s, revokes */
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(pool));
	make_file("/b", 1 << 20, 0x5b); /* takes the freed units if it may */
	kill(server_pid, SIGCONT);
	rc = recv_int(p[0]);
	lt_wait_ok(w, "writer");
	lt_sleep_ms(200);
	bad_b = file_differs("/b", 1 << 20, 0x5b);
	bad_c = file_differs("/c", 256 << 10, 0xcc);
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_stat(pool, "/a", &st));
	dxl_pool_close(pool);
	stop_server();
	printf("truncate_race%s: writer's last write %lld (%s); /b bytes changed %lld, /c %lld, /a size %llu\n",
	       noq ? "_noq" : "", rc, rc < 0 ? strerror((int)-rc) : "ok", bad_b, bad_c,
	       (unsigned long long)st.size);
	if (noq)
		return bad_b > 0 || bad_c > 0;
	CHECK(rc < 0);
	CHECK(bad_b == 0);
	CHECK(bad_c == 0);
	CHECK(st.size == 0);
	return 0;
}

/* ------------------------------------------------------------------ 2 */

static void test_recall(void)
{
	/* the punch frees the second half: a whole unit on a device */
	const uint64_t half = unit_sz > (64 << 10) ? unit_sz : 64 << 10;
	int p[2], q[2];
	pid_t c;
	dxl_pool *pool;
	dxl_file *f;

	make_pool(30000); /* a revocation would take 30 s: returning is what ends the punch */
	make_file("/r", 2 * half, 0);
	start_server(20000);
	CHECK(pipe(p) == 0 && pipe(q) == 0);
	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		dxl_remote *r = connect_client(20000);
		dxl_rfile *rf;
		dxl_layout *l;
		char buf[65536];
		memset(buf, 0x11, sizeof(buf));
		CHECK_OK(dxl_remote_open(r, "/r", O_RDWR, 0, &rf));
		CHECK_OK(dxl_remote_layout_get(rf, 0, 2 * half, DXL_LAYOUT_RW, &l));
		CHECK_RC(dxl_remote_write(l, buf, sizeof(buf), 0), (long long)sizeof(buf));
		CHECK_OK(dxl_remote_commit(rf, 0, sizeof(buf)));
		send_int(p[1], 0);
		/* no callback: the library returns the layout by itself, at
		 * the poll after the recall came (dxl_layout_state may see
		 * the recall first: RECALLED, still usable until returned) */
		int st;
		while ((st = dxl_layout_state(l)) == DXL_LAYOUT_ACTIVE || st == DXL_LAYOUT_RECALLED)
			CHECK(dxl_remote_poll(r, 100) >= 0);
		send_int(p[1], dxl_layout_state(l));
		CHECK(dxl_remote_write(l, buf, 8, 0) == -EKEYREVOKED);
		dxl_remote_layout_return(l);
		dxl_remote_fclose(rf);
		dxl_remote_close(r);
		_exit(0);
	}
	CHECK(recv_int(p[0]) == 0);
	CHECK(server_leases() == 2); /* the layout's lease and its pin */
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_open(pool, "/r", O_RDWR, 0, &f));
	CHECK_OK(dxl_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, half, half));
	CHECK_OK(dxl_close(f));
	CHECK_OK(dxl_pool_close(pool));
	CHECK(recv_int(p[0]) == DXL_LAYOUT_RETURNED);
	lt_wait_ok(c, "client");
	CHECK(file_differs("/r", 64 << 10, 0x11) == 0); /* acknowledged data kept */
	CHECK(server_leases() == 0);
	stop_server();
}

static void test_crash(void)
{
	int p[2];
	pid_t c;
	int64_t t0;
	int n;

	make_pool(1000);
	make_file("/k", 256 << 10, 0);
	start_server(1000);
	CHECK(pipe(p) == 0);
	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		dxl_remote *r = connect_client(5000);
		dxl_rfile *rf;
		dxl_layout *l1, *l2;
		CHECK_OK(dxl_remote_open(r, "/k", O_RDWR, 0, &rf));
		CHECK_OK(dxl_remote_layout_get(rf, 0, 64 << 10, DXL_LAYOUT_RW, &l1));
		CHECK_OK(dxl_remote_layout_get(rf, 128 << 10, 64 << 10, 0, &l2));
		send_int(p[1], 0);
		pause();
		_exit(0);
	}
	CHECK(recv_int(p[0]) == 0);
	CHECK(server_leases() == 4);
	kill(c, SIGKILL);
	lt_wait_status(c, LT_BOUND_S);
	t0 = (lt_now_ns() / 1000000);
	/* the documented bound: the client timeout (1 s here) and a tick */
	while ((n = server_leases()) != 0 && (lt_now_ns() / 1000000) - t0 < 5000)
		lt_sleep_ms(50);
	printf("crash: layouts of the killed client gone after %lld ms (%d left)\n",
	       (long long)((lt_now_ns() / 1000000) - t0), n);
	CHECK(n == 0);
	stop_server();
}

static void test_server_stop(void)
{
	dxl_remote *r;
	dxl_rfile *rf;
	dxl_layout *l;
	struct dxl_stat st;
	char buf[8] = "12345678";
	ssize_t w;
	int rc;

	make_pool(1000);
	make_file("/s", 64 << 10, 0);
	start_server(10000);
	r = connect_client(2000);
	CHECK_OK(dxl_remote_open(r, "/s", O_RDWR, 0, &rf));
	CHECK_OK(dxl_remote_layout_get(rf, 0, 64 << 10, DXL_LAYOUT_RW, &l));
	CHECK_RC(dxl_remote_write(l, buf, 8, 0), 8);
	stop_server();
	w = dxl_remote_write(l, buf, 8, 0);
	rc = dxl_remote_stat(r, "/s", &st);
	printf("server_stop: write %zd, stat %d: %s\n", w, rc, dxl_errmsg());
	CHECK(w < 0);
	CHECK(rc < 0);
	CHECK(strstr(dxl_errmsg(), "gone") || strstr(dxl_errmsg(), "no answer"));
	dxl_remote_layout_return(l);
	dxl_remote_fclose(rf);
	dxl_remote_close(r);
}

/* ------------------------------------------------------------------ 3 */

static void test_access(void)
{
	struct dxl_remote_opts bad = {.version = DXL_REMOTE_OPTS_VERSION, .timeout_ms = 2000};
	uint8_t wrong[32];
	dxl_remote *r, *r2;
	dxl_rfile *rf;
	dxl_layout *l;
	uint64_t k, ra;
	char buf[16];
	struct dxl_stat st;

	make_pool(1000);
	make_file("/x", 256 << 10, 0x33);
	start_server(10000);
	memcpy(wrong, key, sizeof(wrong));
	wrong[0] ^= 1;
	bad.key = wrong;
	CHECK_RC(dxl_remote_connect(addr, &bad, &r2), -EACCES);
	r = connect_client(3000);
	CHECK_OK(dxl_remote_open(r, "/x", O_RDWR, 0, &rf));
	CHECK_OK(dxl_remote_layout_get(rf, 64 << 10, 64 << 10, DXL_LAYOUT_RW, &l));
	k = dxl_layout_key(l);
	ra = dxl_layout_raddr(l);
	memset(buf, 0x44, sizeof(buf));
	/* inside: fine */
	CHECK_RC(dxl_remote_raw_write(r, buf, 8, ra, k), 8);
	CHECK_RC(dxl_remote_write(l, buf, 8, (128 << 10) - 4), -ERANGE);
	/* forged and garbage messages on the session: refused, nothing done */
	for (int i = 0; i < 40; i++) {
		uint8_t g[128];
		struct dxl_mb mb;
		for (size_t j = 0; j < sizeof(g); j++)
			g[j] = (uint8_t)(rand() >> 7);
		mb.len = sizeof(g);
		if (i % 2) { /* well formed, MAC wrong */
			dxl_mb_start(&mb, g, DXL_OP_UNLINK, 0, 0);
			CHECK_OK(dxl_mb_path(&mb, "/x", NULL, 0, 0, 0));
			dxl_mb_end(&mb);
			((struct dxl_msg_hdr *)g)->seq = r->sess.send_seq + 1;
		}
		fi_send(r->ep, g, mb.len, NULL, r->peer, NULL);
		fi_send(r->ep, g, sizeof(g), NULL, r->front, NULL);
		cli_progress(r, 1);
	}
	lt_sleep_ms(100);
	CHECK_OK(dxl_remote_stat(r, "/x", &st)); /* the session still works */
	CHECK(st.size == 256 << 10);
	/* a second layout for the out-of-range tries; the first is returned */
	{
		dxl_layout *l2;
		uint64_t k2, ra2;
		CHECK_OK(dxl_remote_layout_get(rf, 0, 64 << 10, DXL_LAYOUT_RW, &l2));
		k2 = dxl_layout_key(l2);
		ra2 = dxl_layout_raddr(l2);
		CHECK_OK(dxl_remote_layout_return(l));
		/* the NIC refuses what lies outside the range (its connection
		 * to this client may not survive that: tcp drops it) */
		CHECK(dxl_remote_raw_write(r, buf, 8, ra2 + (64 << 10) - 4, k2) < 0);
		CHECK(dxl_remote_raw_write(r, buf, 8, ra2 + (64 << 10), k2) < 0);
		CHECK(dxl_remote_raw_read(r, buf, 8, ra2 - 8, k2) < 0);
		/* guessed keys, and the returned layout's key */
		CHECK(dxl_remote_raw_write(r, buf, 8, ra2, k2 ^ 1) < 0);
		CHECK(dxl_remote_raw_write(r, buf, 8, ra2, k2 + 1) < 0);
		CHECK(dxl_remote_raw_write(r, buf, 8, ra2, dxl_rdma_random_key()) < 0);
		CHECK(dxl_remote_raw_write(r, buf, 8, ra, k) < 0);
		dxl_remote_layout_return(l2);
	}
	dxl_remote_fclose(rf);
	dxl_remote_close(r);
	/* the server is unharmed: a new client works */
	r = connect_client(3000);
	CHECK_OK(dxl_remote_stat(r, "/x", &st));
	/* a read-only layout's key reads, and the NIC refuses a write with
	 * it (libfabric's MR cache registered every range writable); a
	 * layout past EOF is refused and leaves no handle */
	{
		dxl_layout *lr = (dxl_layout *)&st;
		CHECK_OK(dxl_remote_open(r, "/x", O_RDONLY, 0, &rf));
		CHECK(dxl_remote_layout_get(rf, 0, 1 << 30, 0, &lr) == -EINVAL && lr == NULL);
		CHECK_OK(dxl_remote_layout_get(rf, 128 << 10, 64 << 10, 0, &lr));
		CHECK_RC(dxl_remote_raw_read(r, buf, 8, dxl_layout_raddr(lr), dxl_layout_key(lr)), 8);
		CHECK(buf[0] == 0x33);
		memset(buf, 0x55, sizeof(buf));
		CHECK(dxl_remote_raw_write(r, buf, 8, dxl_layout_raddr(lr), dxl_layout_key(lr)) < 0);
		dxl_remote_layout_return(lr);
		dxl_remote_fclose(rf);
	}
	dxl_remote_close(r);
	stop_server();
	/* only the 8 bytes written inside the layout changed */
	CHECK(file_differs("/x", 256 << 10, 0x33) == 8);
}

/* ------------------------------------------------------------------ 4 */

static void test_commit(void)
{
	dxl_remote *r;
	dxl_rfile *rf;
	dxl_layout *l;
	char *buf = malloc(1 << 20);
	int st;

	CHECK(buf);
	make_pool(1000);
	start_server(10000);
	r = connect_client(3000);
	CHECK_OK(dxl_remote_open(r, "/d", O_RDWR | O_CREAT, 0644, &rf));
	CHECK_OK(dxl_remote_layout_get(rf, 0, 1 << 20, DXL_LAYOUT_RW, &l));
	memset(buf, 0x6d, 1 << 20);
	CHECK_RC(dxl_remote_write(l, buf, 1 << 20, 0), 1 << 20);
	CHECK_OK(dxl_remote_commit(rf, 0, 1 << 20));
	/* the server dies with the layout still out */
	kill(server_pid, SIGKILL);
	waitpid(server_pid, &st, 0);
	server_pid = 0;
	CHECK(file_differs("/d", 1 << 20, 0x6d) == 0);
	dxl_remote_close(r);
	free(buf);
}

/* ------------------------------------------------------------------ 5 */

struct reg_seen {
	dxl_rdma_reg *reg;
	int breaks, revokes, wrong_reg, quiesced;
};

static void reg_cb(dxl_rdma_reg *reg, const struct dxl_event *ev, void *arg)
{
	struct reg_seen *s = arg;

	if (reg != s->reg)
		s->wrong_reg++;
	if (ev->type == DXL_EV_BREAK)
		s->breaks++;
	else if (ev->type == DXL_EV_REVOKED)
		s->revokes++;
}

static int reg_quiesce(dxl_rdma_reg *reg, void *arg)
{
	((struct reg_seen *)arg)->quiesced++;
	return 0;
}

static int readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

static void test_register(void)
{
	int to_w[2], from_w[2], to_t[2];
	pid_t w, t;
	struct dxl_fab fab;
	struct fid_ep *ep;
	struct reg_seen seen = {0};
	struct dxl_reg_opts o = {.version = DXL_REG_OPTS_VERSION, .cb = reg_cb, .arg = &seen,
				 .quiesce = reg_quiesce, .quiesce_arg = &seen, .holder = "test"};
	dxl_pool *pool;
	dxl_file *f;
	uint8_t name[128];
	size_t namelen = sizeof(name);
	long long before, after;
	int64_t until;
	char pstr[16];

	make_pool(1000);
	make_file("/m", 256 << 10, 0x21);
	port = free_port();
	snprintf(pstr, sizeof(pstr), "%d", port);
	CHECK(pipe(to_w) == 0 && pipe(from_w) == 0 && pipe(to_t) == 0);
	/* the writer: a peer with its own fabric, writing 8 bytes on request */
	w = fork();
	CHECK(w >= 0);
	if (w == 0) {
		struct dxl_fab wf;
		struct fid_ep *wep;
		fi_addr_t peer;
		uint64_t raddr, k;
		long long cmd;
		CHECK(read(to_w[0], &namelen, sizeof(namelen)) == sizeof(namelen));
		CHECK(read(to_w[0], name, namelen) == (ssize_t)namelen);
		CHECK(read(to_w[0], &raddr, 8) == 8 && read(to_w[0], &k, 8) == 8);
		static char b[8];
		struct fid_mr *bmr = NULL;
		void *bdesc = NULL;
		CHECK_OK(dxl_fab_open(&wf, NULL, NULL, NULL, 0));
		CHECK_OK(dxl_fab_ep(&wf, NULL, NULL, &wep));
		CHECK(fi_av_insert(wf.av, name, 1, &peer, 0, NULL) == 1);
		/* verbs wants the source registered too (FI_MR_LOCAL) */
		if (wf.info->domain_attr->mr_mode & FI_MR_LOCAL) {
			CHECK(fi_mr_reg(wf.domain, b, sizeof(b), FI_WRITE, 0, 0, 0, &bmr, NULL) == 0);
			bdesc = fi_mr_desc(bmr);
		}
		while ((cmd = recv_int(to_w[0])) != 0) {
			int stt[2] = {0, 0};
			struct iovec iov = {b, 8};
			struct fi_rma_iov ri = {.addr = raddr, .len = 8, .key = k};
			struct fi_msg_rma msg = {.msg_iov = &iov, .desc = &bdesc, .iov_count = 1, .addr = peer,
						 .rma_iov = &ri, .rma_iov_count = 1, .context = stt};
			struct fi_cq_msg_entry e;
			struct fi_cq_err_entry ee;
			int64_t t_end = (lt_now_ns() / 1000000) + 5000;
			ssize_t rc;
			memset(b, (int)cmd, 8);
			/* bounded: the connection needs the owner's progress */
			do
				rc = fi_writemsg(wep, &msg, FI_DELIVERY_COMPLETE | FI_COMPLETION);
			while (rc == -FI_EAGAIN && (fi_cq_read(wf.cq, NULL, 0), 1) &&
			       (lt_now_ns() / 1000000) < t_end);
			while (rc == 0 && !stt[0] && (lt_now_ns() / 1000000) < t_end) {
				ssize_t n = fi_cq_read(wf.cq, &e, 1);
				if (n == 1)
					stt[0] = 1;
				else if (n == -FI_EAVAIL && fi_cq_readerr(wf.cq, &ee, 0) == 1)
					stt[0] = 1, stt[1] = ee.err ? ee.err : EIO;
			}
			send_int(from_w[1], rc ? rc : !stt[0] ? -ETIMEDOUT : -stt[1]);
		}
		fi_close(&wep->fid);
		if (bmr)
			fi_close(&bmr->fid);
		dxl_fab_close(&wf);
		_exit(0);
	}
	/* the truncater: another process of the pool */
	t = fork();
	CHECK(t >= 0);
	if (t == 0) {
		dxl_pool *tp;
		dxl_file *tf;
		close(from_w[1]);
		recv_int(to_t[0]);
		CHECK_OK(dxl_pool_open(pool_path, 0, &tp));
		CHECK_OK(dxl_open(tp, "/m", O_RDWR, 0, &tf));
		CHECK_OK(dxl_ftruncate(tf, 0));
		dxl_close(tf);
		dxl_pool_close(tp);
		_exit(0);
	}
	/* only the writer holds its answer pipe open: a writer that died
	 * is an end of file here, not a read that waits for ever */
	close(from_w[1]);
	close(to_w[0]);
	close(to_t[0]);
	CHECK_OK(dxl_pool_open(pool_path, 0, &pool));
	CHECK_OK(dxl_open(pool, "/m", O_RDWR, 0, &f));
	CHECK_OK(dxl_fab_open(&fab, NULL, host_ip(), pstr, 1));
	CHECK_OK(dxl_fab_ep(&fab, NULL, NULL, &ep));
	o.mr_mode = fab.info->domain_attr->mr_mode;
	CHECK_OK(dxl_rdma_register(f, 4096, 8192, fab.domain, &o, &seen.reg));
	CHECK(dxl_rdma_reg_key(seen.reg) != 0);
	CHECK(fi_getname(&ep->fid, name, &namelen) == 0);
	{
		uint64_t ra = dxl_rdma_reg_raddr(seen.reg), k = dxl_rdma_reg_key(seen.reg);
		CHECK(write(to_w[1], &namelen, sizeof(namelen)) == sizeof(namelen));
		CHECK(write(to_w[1], name, namelen) == (ssize_t)namelen);
		CHECK(write(to_w[1], &ra, 8) == 8 && write(to_w[1], &k, 8) == 8);
	}
	/* the owner drives progress: the tcp provider's target side needs it */
#define DRIVE_UNTIL(cond, ms)                                                           \
	for (until = (lt_now_ns() / 1000000) + (ms); !(cond) && (lt_now_ns() / 1000000) < until;) {                   \
		fi_cq_read(fab.cq, NULL, 0);                                            \
		dxl_event_dispatch(pool);                                               \
	}
	/* drive until the writer answers: its connection and its write both
	 * need this side's progress (a fixed 300 ms, then a blocking read,
	 * hung for good on a loaded machine) */
	send_int(to_w[1], 0x55);
	DRIVE_UNTIL(readable(from_w[0]), 20000);
	before = recv_int(from_w[0]);
	CHECK(before == 0); /* the write landed */
	CHECK(((uint8_t *)dxl_rdma_reg_addr(seen.reg))[0] == 0x55);
	send_int(to_t[1], 1); /* truncate: break, then revoke after 1 s */
	DRIVE_UNTIL(seen.revokes > 0, 5000);
	CHECK(seen.breaks == 1);
	CHECK(seen.revokes == 1);
	CHECK(seen.wrong_reg == 0);
	CHECK(dxl_rdma_reg_key(seen.reg) == 0); /* the MR is closed */
	CHECK(dxl_rdma_reg_mr(seen.reg) == NULL);
	/* still mapped (DXL_MAP_KEEP_REVOKED): a late write through a software
	 * provider lands in quarantined units instead of faulting the owner */
	CHECK(((volatile uint8_t *)dxl_rdma_reg_addr(seen.reg))[0] == 0x55);
	lt_wait_ok(t, "truncater");
	send_int(to_w[1], 0x66);
	DRIVE_UNTIL(readable(from_w[0]), 20000);
	after = recv_int(from_w[0]);
	printf("register: write before the break %lld, after the revocation %lld\n", before, after);
	CHECK(after < 0);
	/* the pins are still held: the units stay out of other files */
	CHECK_OK(dxl_rdma_unregister(seen.reg));
	CHECK(seen.quiesced == 1);
	send_int(to_w[1], 0);
	lt_wait_ok(w, "writer");
	fi_close(&ep->fid);
	dxl_fab_close(&fab);
	dxl_close(f);
	dxl_pool_close(pool);
}

/* ------------------------------------------------------------------ many */

static void test_many(void)
{
	enum { N = 64 };
	pid_t kids[N];
	int p[2], ok = 0;

	make_pool(2000);
	start_server(10000);
	CHECK(pipe(p) == 0);
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0);
		if (kids[i] == 0) {
			dxl_remote *r = connect_client(30000);
			dxl_rfile *rf;
			dxl_layout *l;
			char path[32], buf[4096], back[4096];
			snprintf(path, sizeof(path), "/f%d", i);
			if (i == 0) {
				/* hostile: layouts it never returns, a flood of garbage */
				dxl_remote_set_recall(r, ignore_recall, NULL);
				CHECK_OK(dxl_remote_open(r, "/hostile", O_RDWR | O_CREAT, 0644, &rf));
				for (int j = 0; j < 200; j++) {
					if (j < 64)
						dxl_remote_layout_get(rf, (uint64_t)j << 16, 65536, DXL_LAYOUT_RW, &l);
					memset(buf, j, 256);
					fi_send(r->ep, buf, 256, NULL, r->peer, NULL);
					cli_progress(r, 0);
				}
				send_int(p[1], 1);
				lt_sleep_ms(3000);
				_exit(0);
			}
			memset(buf, i, sizeof(buf));
			CHECK_OK(dxl_remote_open(r, path, O_RDWR | O_CREAT, 0644, &rf));
			CHECK_OK(dxl_remote_layout_get(rf, 0, sizeof(buf), DXL_LAYOUT_RW, &l));
			CHECK_RC(dxl_remote_write(l, buf, sizeof(buf), 0), (long long)sizeof(buf));
			CHECK_RC(dxl_remote_read(l, back, sizeof(back), 0), (long long)sizeof(back));
			CHECK(memcmp(buf, back, sizeof(buf)) == 0);
			CHECK_OK(dxl_remote_commit(rf, 0, sizeof(buf)));
			CHECK_OK(dxl_remote_layout_return(l));
			CHECK_OK(dxl_remote_fclose(rf));
			dxl_remote_close(r);
			send_int(p[1], 1);
			_exit(0);
		}
	}
	/* the clients' exit statuses first: a client that failed says so
	 * (and its CHECK message is above), instead of the read below
	 * waiting for a word it will never send */
	close(p[1]);
	for (int i = 0; i < N; i++)
		lt_wait_ok(kids[i], "client");
	for (int i = 0; i < N; i++)
		ok += recv_int(p[0]) == 1;
	close(p[0]);
	CHECK(ok == N);
	stop_server();
	for (int i = 1; i < N; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/f%d", i);
		CHECK(file_differs(path, 4096, i) == 0);
	}
	printf("many: %d clients done, the hostile one among them\n", N);
}

static void test_late_challenge(void)
{
	struct dxl_stat st;
	dxl_remote *r;
	int64_t t0;

	make_pool(1000);
	make_file("/late", 4096, 0x4c);
	/* 300 ms for every first try; the client's tries are 250 ms each */
	setenv("DXL_TEST_LATE_HELLO_MS", "300", 1);
	start_server(5000);
	unsetenv("DXL_TEST_LATE_HELLO_MS");
	t0 = lt_now_ns();
	r = connect_client(500);
	printf("late_challenge: connected after %.0f ms (client id %llu)\n", (double)(lt_now_ns() - t0) / 1e6,
	       (unsigned long long)dxl_remote_client_id(r));
	CHECK_OK(dxl_remote_stat(r, "/late", &st));
	CHECK(st.size == 4096);
	dxl_remote_close(r);
	stop_server();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	/* libfabric's PSM libraries install crash and SIGTERM handlers that
	 * exit(1) (see src/cli/main.c): a crash must show as one here */
	for (int sig = 1; sig < 32; sig++) {
		struct sigaction sa;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
	signal(SIGPIPE, SIG_IGN);
	scratch_setup_device("rdma");
	unit_sz = dxl_test_unit(4096);
	test_main_pid = getpid();
	atexit(kill_server_at_exit);
	if (!strcmp(mode, "truncate_race"))
		test_truncate_race(0);
	else if (!strcmp(mode, "truncate_race_noq")) {
		/* whether the late write lands before the server closes the MR is a
		 * race (the server may run the revocation first): a few tries, one
		 * of which must show the corruption */
		int seen = 0;
		for (int i = 0; i < 5 && !seen; i++) {
			scratch_cleanup();
			scratch_setup_device("rdma");
			seen = test_truncate_race(1);
		}
		CHECK(seen || !"without quarantine the late write must show: the test cannot see what it guards");
	}
	else if (!strcmp(mode, "late_challenge"))
		test_late_challenge();
	else if (!strcmp(mode, "recall"))
		test_recall();
	else if (!strcmp(mode, "crash"))
		test_crash();
	else if (!strcmp(mode, "server_stop"))
		test_server_stop();
	else if (!strcmp(mode, "access"))
		test_access();
	else if (!strcmp(mode, "commit"))
		test_commit();
	else if (!strcmp(mode, "register"))
		test_register();
	else if (!strcmp(mode, "many"))
		test_many();
	else {
		fprintf(stderr, "usage: rdma_test truncate_race|truncate_race_noq|recall|crash|server_stop|access|commit|register|many|late_challenge\n");
		return 2;
	}
	stop_server();
	printf("%s: ok\n", mode);
	return 0;
}
