/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event sockets: one abstract-namespace datagram socket per process (and
 * per lease that asked for its own fd).  A datagram socket is pollable,
 * needs no shared memory ring, and a send to a name nobody holds fails at
 * once with ECONNREFUSED — which is how a breaker learns that a holder is
 * gone without waiting for the deadline.  Datagrams only wake: what
 * happened is in the lease table (lease.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lease.h"
#include "util/util.h"

static socklen_t ev_addr(struct dxl_rt *rt, uint64_t token, struct sockaddr_un *sa)
{
	const uint8_t *u = dxl_rt_uuid(rt);
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] = 0: the abstract namespace, nothing on disk to clean up */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		     "daxlease-%02x%02x%02x%02x%02x%02x%02x%02x-%016llx", u[0], u[1], u[2], u[3], u[4],
		     u[5], u[6], u[7], (unsigned long long)token);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int dxl_ev_socket(struct dxl_rt *rt, uint64_t token)
{
	struct sockaddr_un sa;
	socklen_t len = ev_addr(rt, token, &sa);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return dxl_err(errno, "event socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		close(fd);
		return dxl_err(e, "event socket: bind: %s", strerror(e));
	}
	return fd;
}

/* What travels on an event socket: nothing but the fact of a wake. */
struct wake {
	uint32_t magic;
};
#define WAKE_MAGIC 0x44584c57u

int dxl_ev_wake(struct dxl_rt *rt, uint64_t token)
{
	/* one unbound sending socket for the whole process, made at first use
	 * and kept: sendto on a datagram socket is safe from any thread */
	static int send_fd = -1;
	struct wake w = { WAKE_MAGIC };
	struct sockaddr_un sa;
	socklen_t len = ev_addr(rt, token, &sa);
	int fd = __atomic_load_n(&send_fd, __ATOMIC_ACQUIRE);
	ssize_t n;

	if (fd < 0) {
		int mine = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), none = -1;
		if (mine < 0)
			return -errno;
		if (__atomic_compare_exchange_n(&send_fd, &none, mine, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			fd = mine;
		} else {
			close(mine); /* another thread made it first */
			fd = none;
		}
	}
	/* MSG_DONTWAIT: a holder that never reads must not stall the breaker.
	 * EAGAIN is either the holder's queue full (it holds a wake) or this
	 * socket's send buffer full (a datagram is charged to its sender until
	 * it is read: a thousand holders woken at once fill it): the two look
	 * alike here, so the caller keeps the wake owed and sends it again. */
	n = sendto(fd, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	return n < 0 ? -errno : 0;
}

int dxl_ev_drain(int fd)
{
	struct wake w;
	int n = 0;

	while (recv(fd, &w, sizeof(w), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}
