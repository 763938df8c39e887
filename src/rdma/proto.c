/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protocol's message shapes: parsing what arrives (every length
 * checked against what arrived before anything is read) and building
 * what goes out.  Nothing here trusts the peer; the fuzz harness
 * (tests/fuzz_proto.c) drives dxl_msg_parse and dxl_msg_dirent.
 */
#include <dirent.h>
#include <string.h>

#include "daxlease/daxlease.h"
#include "rdma/proto.h"
#include "util/util.h"

_Static_assert(sizeof(struct dxl_msg_hdr) == 64, "header size is part of the protocol");
_Static_assert(sizeof(struct dxl_p_stat) == 88, "stat size is part of the protocol");

static const char *const op_names[DXL_OP_MAX] = {
	[DXL_OP_HELLO] = "HELLO",       [DXL_OP_CHALLENGE] = "CHALLENGE", [DXL_OP_AUTH] = "AUTH",
	[DXL_OP_RENEW] = "RENEW",       [DXL_OP_BYE] = "BYE",             [DXL_OP_STAT] = "STAT",
	[DXL_OP_READDIR] = "READDIR",   [DXL_OP_MKDIR] = "MKDIR",         [DXL_OP_RMDIR] = "RMDIR",
	[DXL_OP_UNLINK] = "UNLINK",     [DXL_OP_RENAME] = "RENAME",       [DXL_OP_TRUNCATE] = "TRUNCATE",
	[DXL_OP_OPEN] = "OPEN",         [DXL_OP_CLOSE] = "CLOSE",         [DXL_OP_FSTAT] = "FSTAT",
	[DXL_OP_FTRUNCATE] = "FTRUNCATE", [DXL_OP_FALLOCATE] = "FALLOCATE",
	[DXL_OP_LAYOUTGET] = "LAYOUTGET", [DXL_OP_LAYOUTRETURN] = "LAYOUTRETURN",
	[DXL_OP_COMMIT] = "COMMIT",     [DXL_OP_RECALL] = "RECALL",       [DXL_OP_REVOKED] = "REVOKED",
	[DXL_OP_REVOKE_ACK] = "REVOKE_ACK",
};

const char *dxl_op_name(unsigned op)
{
	op &= ~(unsigned)DXL_OP_REPLY;
	return op > 0 && op < DXL_OP_MAX && op_names[op] ? op_names[op] : "?";
}

static int bad(const char *what, unsigned op)
{
	return dxl_err(EBADMSG, "protocol: %s message: %s", dxl_op_name(op), what);
}

/* body: exactly the struct */
static int exact(struct dxl_msg *m, size_t size)
{
	if (m->len != size)
		return bad("wrong length", m->op);
	m->p = m->body;
	return 0;
}

/* body: the struct and a tail of tail bytes */
static int with_tail(struct dxl_msg *m, size_t size, uint32_t tail)
{
	if (m->len < size)
		return bad("too short", m->op);
	if (tail != m->len - size)
		return bad("its lengths do not add up", m->op);
	m->p = m->body;
	m->tail = m->body + size;
	m->tail_len = tail;
	return 0;
}

static int copy_name(char *dst, const uint8_t *src, uint32_t n, unsigned op)
{
	if (n > DXL_WIRE_PATH_MAX)
		return bad("a path is too long", op);
	if (memchr(src, '\0', n))
		return bad("a path holds a NUL byte", op);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int parse_path(struct dxl_msg *m)
{
	struct dxl_p_path pp;
	int rc;

	if (m->len < sizeof(pp))
		return bad("too short", m->op);
	memcpy(&pp, m->body, sizeof(pp));
	rc = with_tail(m, sizeof(pp), (uint32_t)pp.len1 + pp.len2);
	if (rc)
		return rc;
	if (pp.len1 == 0)
		return bad("no path", m->op);
	if ((m->op == DXL_OP_RENAME) != (pp.len2 != 0))
		return bad(m->op == DXL_OP_RENAME ? "no second path" : "an unexpected second path", m->op);
	rc = copy_name(m->path1, m->tail, pp.len1, m->op);
	if (rc == 0)
		rc = copy_name(m->path2, m->tail + pp.len1, pp.len2, m->op);
	return rc;
}

/* every entry of a READDIR answer lies inside the message */
static int check_dirents(const struct dxl_msg *m)
{
	struct dxl_dirent ent;
	uint32_t pos = 0, n = 0, count;
	int rc;

	memcpy(&count, (const uint8_t *)m->p + offsetof(struct dxl_p_readdir, count), sizeof(count));
	while ((rc = dxl_msg_dirent(m, &pos, &ent)) == 1)
		n++;
	if (rc < 0)
		return rc;
	if (n != count)
		return bad("its entry count is wrong", m->op);
	return 0;
}

static int parse_request(struct dxl_msg *m)
{
	uint32_t n;

	switch (m->op) {
	case DXL_OP_HELLO:
		if (m->len < sizeof(struct dxl_p_hello))
			return bad("too short", m->op);
		memcpy(&n, m->body + offsetof(struct dxl_p_hello, addrlen), sizeof(n));
		if (n == 0 || n > DXL_ADDR_MAX)
			return bad("bad address length", m->op);
		return with_tail(m, sizeof(struct dxl_p_hello), n);
	case DXL_OP_CHALLENGE:
		if (m->len < sizeof(struct dxl_p_challenge))
			return bad("too short", m->op);
		memcpy(&n, m->body + offsetof(struct dxl_p_challenge, addrlen), sizeof(n));
		if (n == 0 || n > DXL_ADDR_MAX)
			return bad("bad address length", m->op);
		return with_tail(m, sizeof(struct dxl_p_challenge), n);
	case DXL_OP_AUTH:
		return exact(m, sizeof(struct dxl_p_auth));
	case DXL_OP_RENEW:
	case DXL_OP_BYE:
		return exact(m, 0);
	case DXL_OP_STAT:
	case DXL_OP_READDIR:
	case DXL_OP_MKDIR:
	case DXL_OP_RMDIR:
	case DXL_OP_UNLINK:
	case DXL_OP_RENAME:
	case DXL_OP_TRUNCATE:
	case DXL_OP_OPEN:
		return parse_path(m);
	case DXL_OP_CLOSE:
	case DXL_OP_FSTAT:
	case DXL_OP_FTRUNCATE:
	case DXL_OP_FALLOCATE:
	case DXL_OP_LAYOUTGET:
	case DXL_OP_LAYOUTRETURN:
	case DXL_OP_COMMIT:
	case DXL_OP_REVOKE_ACK:
		return exact(m, sizeof(struct dxl_p_fileop));
	case DXL_OP_RECALL:
	case DXL_OP_REVOKED:
		return exact(m, sizeof(struct dxl_p_recall));
	}
	return bad("unknown operation", m->op);
}

static int parse_reply(struct dxl_msg *m)
{
	if (m->h->status < 0)
		return m->len == 0 ? 0 : bad("an error answer with a body", m->op);
	switch (m->op) {
	case DXL_OP_STAT:
	case DXL_OP_FSTAT:
		return exact(m, sizeof(struct dxl_p_stat));
	case DXL_OP_OPEN:
		return exact(m, sizeof(struct dxl_p_open));
	case DXL_OP_LAYOUTGET:
		return exact(m, sizeof(struct dxl_p_layout));
	case DXL_OP_READDIR:
		if (m->len < sizeof(struct dxl_p_readdir))
			return bad("too short", m->op);
		with_tail(m, sizeof(struct dxl_p_readdir), m->len - (uint32_t)sizeof(struct dxl_p_readdir));
		return check_dirents(m);
	case DXL_OP_AUTH:
	case DXL_OP_RENEW:
	case DXL_OP_BYE:
	case DXL_OP_MKDIR:
	case DXL_OP_RMDIR:
	case DXL_OP_UNLINK:
	case DXL_OP_RENAME:
	case DXL_OP_TRUNCATE:
	case DXL_OP_CLOSE:
	case DXL_OP_FTRUNCATE:
	case DXL_OP_FALLOCATE:
	case DXL_OP_LAYOUTRETURN:
	case DXL_OP_COMMIT:
	case DXL_OP_REVOKE_ACK:
		return exact(m, 0);
	}
	return bad("not a request that is answered", m->op);
}

int dxl_msg_parse(const void *buf, size_t n, struct dxl_msg *m)
{
	const struct dxl_msg_hdr *h = buf;

	memset(m, 0, offsetof(struct dxl_msg, path1));
	m->path1[0] = m->path2[0] = '\0';
	if (n < sizeof(*h))
		return dxl_err(EBADMSG, "protocol: a message of %zu bytes is shorter than a header", n);
	if (n > DXL_MSG_SIZE)
		return dxl_err(EBADMSG, "protocol: a message of %zu bytes is too long", n);
	if (h->magic != DXL_PROTO_MAGIC)
		return dxl_err(EPROTO, "protocol: not a daxlease message (magic %#x)", h->magic);
	if (h->version != DXL_PROTO_VERSION)
		return dxl_err(EPROTO, "protocol: version %u, this side speaks %u", h->version, DXL_PROTO_VERSION);
	if (h->len != n - sizeof(*h))
		return dxl_err(EBADMSG, "protocol: the header says %u body bytes, %zu arrived", h->len,
			       n - sizeof(*h));
	m->h = h;
	m->body = (const uint8_t *)buf + sizeof(*h);
	m->len = h->len;
	m->op = h->op & (uint16_t)~DXL_OP_REPLY;
	m->reply = !!(h->op & DXL_OP_REPLY);
	if (m->op == 0 || m->op >= DXL_OP_MAX)
		return dxl_err(EBADMSG, "protocol: unknown operation %u", m->op);
	if (m->reply ? (h->status > 0 || h->status < -4095) : h->status != 0)
		return bad("bad status", m->op);
	return m->reply ? parse_reply(m) : parse_request(m);
}

int dxl_msg_dirent(const struct dxl_msg *m, uint32_t *pos, struct dxl_dirent *ent)
{
	struct dxl_p_dirent d;
	uint32_t left;

	if (!m->tail || *pos > m->tail_len)
		return bad("bad entry position", m->op);
	left = m->tail_len - *pos;
	if (left == 0)
		return 0;
	if (left < sizeof(d))
		return bad("an entry is cut short", m->op);
	memcpy(&d, m->tail + *pos, sizeof(d));
	if (d.namelen == 0 || d.namelen > 255 || DXL_ALIGN_UP(d.namelen, 8) > left - sizeof(d))
		return bad("an entry's name does not fit", m->op);
	if (memchr(m->tail + *pos + sizeof(d), '\0', d.namelen) ||
	    memchr(m->tail + *pos + sizeof(d), '/', d.namelen))
		return bad("an entry's name holds NUL or '/'", m->op);
	memset(ent, 0, sizeof(*ent));
	ent->ino = d.ino;
	ent->type = d.type;
	memcpy(ent->name, m->tail + *pos + sizeof(d), d.namelen);
	*pos += (uint32_t)(sizeof(d) + DXL_ALIGN_UP(d.namelen, 8));
	return 1;
}

void dxl_mb_start(struct dxl_mb *mb, void *buf, unsigned op, uint64_t req, int32_t status)
{
	struct dxl_msg_hdr *h = buf;

	memset(h, 0, sizeof(*h));
	h->magic = DXL_PROTO_MAGIC;
	h->version = DXL_PROTO_VERSION;
	h->op = (uint16_t)op;
	h->req = req;
	h->status = status;
	mb->buf = buf;
	mb->len = sizeof(*h);
	mb->overflow = 0;
}

void *dxl_mb_put(struct dxl_mb *mb, size_t n)
{
	uint32_t at = (uint32_t)DXL_ALIGN_UP(mb->len, 8);

	if (mb->overflow || n > DXL_MSG_SIZE || at + n > DXL_MSG_SIZE) {
		mb->overflow = 1;
		return NULL;
	}
	memset(mb->buf + mb->len, 0, at + n - mb->len);
	mb->len = at + (uint32_t)n;
	return mb->buf + at;
}

int dxl_mb_put_bytes(struct dxl_mb *mb, const void *p, size_t n)
{
	/* unaligned: tails follow their struct directly */
	if (mb->overflow || n > DXL_MSG_SIZE - mb->len) {
		mb->overflow = 1;
		return -ENOSPC;
	}
	memcpy(mb->buf + mb->len, p, n);
	mb->len += (uint32_t)n;
	return 0;
}

int dxl_mb_path(struct dxl_mb *mb, const char *p1, const char *p2, uint64_t arg, uint32_t flags,
		uint32_t mode)
{
	size_t l1 = strlen(p1), l2 = p2 ? strlen(p2) : 0;
	struct dxl_p_path *pp;

	if (l1 == 0 || l1 > DXL_WIRE_PATH_MAX || l2 > DXL_WIRE_PATH_MAX)
		return dxl_err(ENAMETOOLONG, "a path must have 1 to %d bytes", DXL_WIRE_PATH_MAX);
	pp = dxl_mb_put(mb, sizeof(*pp));
	if (!pp)
		return -ENOSPC;
	pp->arg = arg;
	pp->flags = flags;
	pp->mode = mode;
	pp->len1 = (uint16_t)l1;
	pp->len2 = (uint16_t)l2;
	if (dxl_mb_put_bytes(mb, p1, l1) || dxl_mb_put_bytes(mb, p2 ? p2 : "", l2))
		return -ENOSPC;
	return 0;
}

size_t dxl_mb_end(struct dxl_mb *mb)
{
	struct dxl_msg_hdr *h = (struct dxl_msg_hdr *)mb->buf;

	if (mb->overflow)
		return 0;
	h->len = mb->len - (uint32_t)sizeof(*h);
	return mb->len;
}

void dxl_stat_to_wire(struct dxl_p_stat *w, const struct dxl_stat *st)
{
	memset(w, 0, sizeof(*w));
	w->ino = st->ino;
	w->size = st->size;
	w->allocated = st->allocated;
	w->mode = st->mode;
	w->nlink = st->nlink;
	w->uid = st->uid;
	w->gid = st->gid;
	w->atime_s = st->atime.tv_sec;
	w->atime_ns = (uint32_t)st->atime.tv_nsec;
	w->mtime_s = st->mtime.tv_sec;
	w->mtime_ns = (uint32_t)st->mtime.tv_nsec;
	w->ctime_s = st->ctime.tv_sec;
	w->ctime_ns = (uint32_t)st->ctime.tv_nsec;
	w->btime_s = st->btime.tv_sec;
	w->btime_ns = (uint32_t)st->btime.tv_nsec;
}

void dxl_stat_from_wire(struct dxl_stat *st, const struct dxl_p_stat *w)
{
	memset(st, 0, sizeof(*st));
	st->ino = w->ino;
	st->size = w->size;
	st->allocated = w->allocated;
	st->mode = w->mode;
	st->nlink = w->nlink;
	st->uid = w->uid;
	st->gid = w->gid;
	st->atime = (struct timespec){w->atime_s, w->atime_ns % 1000000000u};
	st->mtime = (struct timespec){w->mtime_s, w->mtime_ns % 1000000000u};
	st->ctime = (struct timespec){w->ctime_s, w->ctime_ns % 1000000000u};
	st->btime = (struct timespec){w->btime_s, w->btime_ns % 1000000000u};
}
