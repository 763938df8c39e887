/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the wire protocol's parser (src/rdma/proto.c):
 * whatever arrives, dxl_msg_parse, dxl_msg_dirent and dxl_sess_accept
 * must neither crash nor read outside the message, and a message they
 * accept must have the shape docs/rdma.md gives it.  A broken invariant
 * is reported and ends in __builtin_trap(), which libFuzzer counts as a
 * crash.
 *
 * Two builds (tests/fuzz.cmake, scripts/fuzz.sh):
 *   fuzz_proto        clang -fsanitize=fuzzer,address,undefined
 *   fuzz_proto_smoke  -DDXL_FUZZ_STANDALONE, any compiler: a CTest test
 *       that checks a built-in set of well-formed messages (each must
 *       parse, and each cut, grown or mislabelled copy must not), runs
 *       the harness over them, over deterministic mutations of them and
 *       over every file (or directory of files) on its command line.
 *       fuzz_proto_smoke --write-seeds DIR writes the built-in messages
 *       as libFuzzer's seed corpus.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daxlease/daxlease.h"
#include "rdma/proto.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_SIZE sizeof(struct dxl_msg_hdr)
#define RECV_SEQ 6 /* the second session has accepted this many messages */
#define CLIENT_ID 0x2545f4914f6cdd1dull

__attribute__((noreturn)) static void violated(const char *what, int line)
{
	fprintf(stderr, "fuzz_proto.c:%d: invariant violated: %s\n", line, what);
	__builtin_trap();
}
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			violated(#c, __LINE__);                                                    \
	} while (0)

/* ------------------------------------------------------------- sessions */

static struct dxl_sess sess_fresh; /* dxl_sess_init from the fixed key and nonces */
static unsigned long n_parsed, n_accepted; /* for the standalone program's summary */

static void sessions_init(void)
{
	static int done;
	uint8_t key[DXL_KEY_LEN], cn[DXL_NONCE_LEN], sn[DXL_NONCE_LEN];

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		violated("sodium_init", __LINE__);
	for (int i = 0; i < DXL_KEY_LEN; i++)
		key[i] = (uint8_t)(7 * i + 1);
	for (int i = 0; i < DXL_NONCE_LEN; i++) {
		cn[i] = (uint8_t)(0xc0 + i);
		sn[i] = (uint8_t)(0x55 ^ (3 * i));
	}
	dxl_sess_init(&sess_fresh, key, cn, sn, CLIENT_ID);
	CHECK(sess_fresh.on && sess_fresh.send_seq == 0 && sess_fresh.recv_seq == 0);
}

/*
 * Accepting m (parsed from buf) in a copy of *tmpl: only a message with
 * the right MAC and the next sequence number gets in, and then exactly
 * once, and no byte of it can be altered.
 */
static void check_accept(const struct dxl_sess *tmpl, const struct dxl_msg *m, uint8_t *buf)
{
	struct dxl_sess s = *tmpl, off = *tmpl;
	uint64_t before = s.recv_seq;
	size_t n = HDR_SIZE + m->len;
	int rc;

	off.on = 0;
	CHECK(dxl_sess_accept(&off, m) == -EACCES);
	CHECK(off.recv_seq == before);

	rc = dxl_sess_accept(&s, m);
	CHECK(rc == 0 || rc == -EBADMSG);
	if (rc != 0) {
		CHECK(s.recv_seq == before);
		return;
	}
	n_accepted++;
	CHECK(m->h->seq == before + 1 && s.recv_seq == before + 1);
	/* a replay */
	CHECK(dxl_sess_accept(&s, m) == -EBADMSG);
	CHECK(s.recv_seq == before + 1);
	/* an altered byte (header, MAC field or body) */
	for (size_t i = 0; i < n; i += (i < HDR_SIZE ? 1 : 1 + n / 16)) {
		struct dxl_sess t = *tmpl;

		buf[i] ^= 0x20;
		CHECK(dxl_sess_accept(&t, m) == -EBADMSG);
		CHECK(t.recv_seq == before);
		buf[i] ^= 0x20;
	}
}

/* ------------------------------------------------------------ the shape */

static void check_readdir(const struct dxl_msg *m)
{
	struct dxl_dirent ent;
	uint32_t pos = 0, before, got = 0, count;
	int rc;

	memcpy(&count, (const uint8_t *)m->p + offsetof(struct dxl_p_readdir, count), sizeof(count));
	for (;;) {
		size_t nl;

		before = pos;
		rc = dxl_msg_dirent(m, &pos, &ent);
		CHECK(rc == 1 || rc == 0 || rc == -EBADMSG);
		if (rc != 1) {
			CHECK(pos == before);
			break;
		}
		CHECK(pos > before && pos <= m->tail_len && pos % 8 == 0);
		CHECK(got < m->tail_len / (sizeof(struct dxl_p_dirent) + 8));
		got++;
		nl = strnlen(ent.name, sizeof(ent.name));
		CHECK(nl >= 1 && nl < sizeof(ent.name));
		CHECK(pos - before == sizeof(struct dxl_p_dirent) + DXL_ALIGN_UP(nl, 8));
		CHECK(memchr(ent.name, '/', nl) == NULL);
		CHECK(memcmp(ent.name, m->tail + before + sizeof(struct dxl_p_dirent), nl) == 0);
	}
	/* the parser walked the same entries and counted them */
	CHECK(rc == 0);
	CHECK(got == count);
}

/* dxl_msg_dirent on any parsed message, at any position, stays inside it */
static void probe_dirent(const struct dxl_msg *m)
{
	const uint32_t starts[] = {0, 1, 7, 8, 24, m->tail_len, m->tail_len + 1, UINT32_MAX};
	struct dxl_dirent ent;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t pos = starts[i], steps = 0;
		int rc;

		while ((rc = dxl_msg_dirent(m, &pos, &ent)) == 1) {
			CHECK(pos <= m->tail_len);
			CHECK(++steps <= m->tail_len / sizeof(struct dxl_p_dirent));
		}
		CHECK(rc == 0 || rc == -EBADMSG);
		if (!m->tail || starts[i] > m->tail_len)
			CHECK(rc == -EBADMSG && pos == starts[i]);
	}
}

static void check_path(const struct dxl_msg *m)
{
	struct dxl_p_path pp;
	size_t l1 = strlen(m->path1), l2 = strlen(m->path2);

	CHECK(m->p && m->tail);
	memcpy(&pp, m->p, sizeof(pp));
	CHECK(m->len == sizeof(pp) + m->tail_len);
	CHECK(pp.len1 == l1 && pp.len2 == l2);
	CHECK(l1 >= 1 && l1 <= DXL_WIRE_PATH_MAX && l2 <= DXL_WIRE_PATH_MAX);
	CHECK(m->tail_len == l1 + l2);
	CHECK(memcmp(m->tail, m->path1, l1) == 0 && memcmp(m->tail + l1, m->path2, l2) == 0);
	CHECK((m->op == DXL_OP_RENAME) == (l2 != 0));
}

static void check_addr(const struct dxl_msg *m, size_t size, size_t at)
{
	uint32_t addrlen;

	CHECK(m->p && m->tail);
	memcpy(&addrlen, (const uint8_t *)m->p + at, sizeof(addrlen));
	CHECK(addrlen >= 1 && addrlen <= DXL_ADDR_MAX);
	CHECK(m->tail_len == addrlen && m->len == size + addrlen);
}

static void check_exact(const struct dxl_msg *m, size_t size)
{
	CHECK(m->len == size);
	CHECK(size == 0 || m->p == m->body);
	CHECK(m->tail == NULL);
}

/* a message dxl_msg_parse accepted from base[0, n) */
static void check_msg(const struct dxl_msg *m, const uint8_t *base, size_t n)
{
	const struct dxl_msg_hdr *h = m->h;

	CHECK(n >= HDR_SIZE && n <= DXL_MSG_SIZE);
	CHECK((const uint8_t *)h == base);
	CHECK(h->magic == DXL_PROTO_MAGIC && h->version == DXL_PROTO_VERSION);
	CHECK(h->len == n - HDR_SIZE && m->len == h->len);
	CHECK(m->body == base + HDR_SIZE);
	CHECK(m->op > 0 && m->op < DXL_OP_MAX);
	CHECK(m->op == (h->op & (uint16_t)~DXL_OP_REPLY));
	CHECK(m->reply == !!(h->op & DXL_OP_REPLY));
	CHECK(strcmp(dxl_op_name(h->op), "?") != 0);
	if (m->reply)
		CHECK(h->status <= 0 && h->status >= -4095);
	else
		CHECK(h->status == 0);
	/* the paths are ended inside their arrays */
	CHECK(memchr(m->path1, '\0', DXL_WIRE_PATH_MAX + 1) != NULL);
	CHECK(memchr(m->path2, '\0', DXL_WIRE_PATH_MAX + 1) != NULL);
	CHECK(m->p == NULL || m->p == m->body);
	if (m->tail) {
		size_t at = (size_t)(m->tail - base);

		CHECK(m->tail >= m->body && at <= n);
		CHECK(m->tail_len <= n - at);
		CHECK(m->p != NULL);
	} else {
		CHECK(m->tail_len == 0);
	}
	if (m->op < DXL_OP_STAT || m->op > DXL_OP_OPEN || m->reply)
		CHECK(m->path1[0] == '\0' && m->path2[0] == '\0');

	if (m->reply && h->status < 0) {
		CHECK(m->len == 0 && m->p == NULL && m->tail == NULL);
		return;
	}
	if (!m->reply) {
		switch (m->op) {
		case DXL_OP_HELLO:
			check_addr(m, sizeof(struct dxl_p_hello), offsetof(struct dxl_p_hello, addrlen));
			return;
		case DXL_OP_CHALLENGE:
			check_addr(m, sizeof(struct dxl_p_challenge),
				   offsetof(struct dxl_p_challenge, addrlen));
			return;
		case DXL_OP_AUTH:
			check_exact(m, sizeof(struct dxl_p_auth));
			return;
		case DXL_OP_RENEW:
		case DXL_OP_BYE:
			check_exact(m, 0);
			return;
		case DXL_OP_STAT:
		case DXL_OP_READDIR:
		case DXL_OP_MKDIR:
		case DXL_OP_RMDIR:
		case DXL_OP_UNLINK:
		case DXL_OP_RENAME:
		case DXL_OP_TRUNCATE:
		case DXL_OP_OPEN:
			check_path(m);
			return;
		case DXL_OP_RECALL:
		case DXL_OP_REVOKED:
			check_exact(m, sizeof(struct dxl_p_recall));
			return;
		default: /* the file operations */
			check_exact(m, sizeof(struct dxl_p_fileop));
			return;
		}
	}
	switch (m->op) {
	case DXL_OP_STAT:
	case DXL_OP_FSTAT: {
		struct dxl_p_stat w;
		struct dxl_stat st;

		check_exact(m, sizeof(w));
		memcpy(&w, m->p, sizeof(w));
		dxl_stat_from_wire(&st, &w);
		CHECK(st.atime.tv_nsec >= 0 && st.atime.tv_nsec < 1000000000);
		CHECK(st.btime.tv_nsec >= 0 && st.btime.tv_nsec < 1000000000);
		return;
	}
	case DXL_OP_OPEN:
		check_exact(m, sizeof(struct dxl_p_open));
		return;
	case DXL_OP_LAYOUTGET:
		check_exact(m, sizeof(struct dxl_p_layout));
		return;
	case DXL_OP_READDIR:
		CHECK(m->p == m->body && m->tail == m->body + sizeof(struct dxl_p_readdir));
		CHECK(m->len == sizeof(struct dxl_p_readdir) + m->tail_len);
		check_readdir(m);
		return;
	case DXL_OP_HELLO:
	case DXL_OP_CHALLENGE:
	case DXL_OP_RECALL:
	case DXL_OP_REVOKED:
		violated("an answer to a message that is not answered parsed", __LINE__);
	default:
		check_exact(m, 0);
		return;
	}
}

/* Two parses of the same bytes came to the same message (base: buffers). */
static void check_same(const struct dxl_msg *a, const uint8_t *abase, const struct dxl_msg *b,
		       const uint8_t *bbase)
{
	CHECK((const uint8_t *)b->h - bbase == (const uint8_t *)a->h - abase);
	CHECK(a->len == b->len && a->op == b->op && a->reply == b->reply);
	CHECK((a->p == NULL) == (b->p == NULL));
	CHECK((a->tail == NULL) == (b->tail == NULL) && a->tail_len == b->tail_len);
	CHECK(a->tail == NULL || a->tail - abase == b->tail - bbase);
	CHECK(strcmp(a->path1, b->path1) == 0 && strcmp(a->path2, b->path2) == 0);
}

/* ------------------------------------------------------------ the input */

static _Alignas(64) uint8_t buf_zero[DXL_MSG_SIZE];
static _Alignas(64) uint8_t buf_ones[DXL_MSG_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dxl_msg m, mz, mo;
	size_t n = size < DXL_MSG_SIZE ? size : DXL_MSG_SIZE;
	uint8_t *exact;
	int rc, rcz, rco;

	sessions_init();
	if (size > DXL_MSG_SIZE) {
		/* no receive buffer is that big: the length check refuses it */
		CHECK(dxl_msg_parse(data, size, &m) == -EBADMSG);
		CHECK(m.h == NULL && m.path1[0] == '\0');
	}
	/*
	 * The message cut to what a receive buffer holds, three ways: in a
	 * heap block of exactly n bytes (ASan sees any read past it) and in
	 * two DXL_MSG_SIZE buffers, as the server receives it, whose bytes
	 * after n differ: they must not change the outcome.
	 */
	exact = malloc(n ? n : 1);
	if (!exact)
		abort();
	memcpy(exact, data, n);
	memcpy(buf_zero, data, n);
	memset(buf_zero + n, 0x00, DXL_MSG_SIZE - n);
	memcpy(buf_ones, data, n);
	memset(buf_ones + n, 0xff, DXL_MSG_SIZE - n);

	dxl_err_clear();
	rc = dxl_msg_parse(exact, n, &m);
	CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTO);
	CHECK(rc == 0 || dxl_errmsg()[0] != '\0');
	if (n < HDR_SIZE)
		CHECK(rc == -EBADMSG);
	rcz = dxl_msg_parse(buf_zero, n, &mz);
	rco = dxl_msg_parse(buf_ones, n, &mo);
	CHECK(rcz == rc && rco == rc);
	if (rc == 0) {
		n_parsed++;
		check_msg(&m, exact, n);
		check_msg(&mz, buf_zero, n);
		check_same(&m, exact, &mz, buf_zero);
		check_same(&m, exact, &mo, buf_ones);
		probe_dirent(&m);

		struct dxl_sess s = sess_fresh;
		check_accept(&s, &m, exact);
		s.recv_seq = RECV_SEQ;
		check_accept(&s, &m, exact);
	} else {
		CHECK(m.path1[0] == '\0' || (m.h && m.op >= DXL_OP_STAT && m.op <= DXL_OP_OPEN));
	}
	free(exact);
	return 0;
}

/* ------------------------------------------------- the standalone program */
#ifdef DXL_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

#define MAX_SEEDS 64

struct seed {
	char name[32];
	unsigned op;        /* with DXL_OP_REPLY */
	const char *p1, *p2;
	uint64_t seq;       /* 0: not sealed */
	size_t n;
	_Alignas(64) uint8_t buf[DXL_MSG_SIZE];
};
static struct seed seeds[MAX_SEEDS];
static int nseeds;
static struct dxl_mb mb;

static void die(const char *what, const char *name)
{
	fprintf(stderr, "fuzz_proto_smoke: %s: %s (%s)\n", name, what, dxl_errmsg());
	exit(1);
}

static struct seed *cur(void)
{
	return &seeds[nseeds - 1];
}

static void start(const char *name, unsigned op, int32_t status)
{
	struct seed *s;

	if (nseeds == MAX_SEEDS)
		die("too many built-in messages", name);
	s = &seeds[nseeds++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	for (char *c = s->name; *c; c++)
		*c = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
	s->op = op;
	dxl_mb_start(&mb, s->buf, op, op & DXL_OP_REPLY ? 3 : 0, status);
}

static void *put(size_t n)
{
	void *p = dxl_mb_put(&mb, n);

	if (!p)
		die("does not fit", cur()->name);
	return p;
}

static void put_bytes(const void *p, size_t n)
{
	if (dxl_mb_put_bytes(&mb, p, n))
		die("does not fit", cur()->name);
}

static void put_path(const char *p1, const char *p2, uint64_t arg, uint32_t flags, uint32_t mode)
{
	if (dxl_mb_path(&mb, p1, p2, arg, flags, mode))
		die("dxl_mb_path failed", cur()->name);
	cur()->p1 = p1;
	cur()->p2 = p2 ? p2 : "";
}

/* seal: number and MAC it as the peer of a session of the harness would */
static void end(int seal)
{
	struct seed *s = cur();

	s->n = dxl_mb_end(&mb);
	if (s->n == 0)
		die("overflowed", s->name);
	if (seal) {
		struct dxl_sess peer = sess_fresh;

		peer.send_seq = nseeds % 2 ? 0 : RECV_SEQ;
		dxl_sess_seal(&peer, s->buf);
		s->seq = peer.send_seq;
	}
}

static void put_dirent(uint64_t ino, uint32_t type, const char *name)
{
	struct dxl_p_dirent *d = put(sizeof(*d));

	d->ino = ino;
	d->type = type;
	d->namelen = (uint16_t)strlen(name);
	put_bytes(name, strlen(name));
	put(0); /* pad to 8, as the server does */
}

static void build_seeds(void)
{
	static char longpath[DXL_WIRE_PATH_MAX + 1], longname[256];
	const char *addr = "fi_sockets://192.0.2.7:7471";
	struct dxl_p_hello *hello;
	struct dxl_p_challenge *ch;
	struct dxl_p_readdir *rd;
	struct dxl_p_fileop *fo;
	struct dxl_p_recall *rc;
	struct dxl_p_layout *lo;
	struct dxl_p_open *op;
	struct dxl_p_stat *st;
	static const unsigned fileops[] = {DXL_OP_CLOSE,     DXL_OP_FSTAT,        DXL_OP_FTRUNCATE,
					   DXL_OP_FALLOCATE, DXL_OP_LAYOUTGET,    DXL_OP_LAYOUTRETURN,
					   DXL_OP_COMMIT,    DXL_OP_REVOKE_ACK};
	static const unsigned empty_answers[] = {DXL_OP_AUTH,   DXL_OP_RENEW,     DXL_OP_MKDIR,
						 DXL_OP_RENAME, DXL_OP_FALLOCATE, DXL_OP_COMMIT};

	memset(longpath, 'p', DXL_WIRE_PATH_MAX);
	longpath[0] = '/';
	memset(longname, 'n', 255);

	start("hello", DXL_OP_HELLO, 0);
	hello = put(sizeof(*hello));
	memset(hello->nonce, 0xc3, sizeof(hello->nonce));
	hello->addrlen = (uint32_t)strlen(addr);
	put_bytes(addr, strlen(addr));
	end(0);
	start("challenge", DXL_OP_CHALLENGE, 0);
	ch = put(sizeof(*ch));
	memset(ch->nonce, 0x5a, sizeof(ch->nonce));
	memset(ch->proof, 0x11, sizeof(ch->proof));
	ch->client_id = CLIENT_ID;
	ch->client_timeout_ms = 5000;
	ch->addrlen = DXL_ADDR_MAX;
	for (int i = 0; i < DXL_ADDR_MAX; i++)
		put_bytes("a", 1);
	end(0);
	start("auth", DXL_OP_AUTH, 0);
	memset(put(sizeof(struct dxl_p_auth)), 0x77, sizeof(struct dxl_p_auth));
	end(0);
	start("renew", DXL_OP_RENEW, 0);
	end(1);
	start("bye", DXL_OP_BYE, 0);
	end(1);

	start("stat", DXL_OP_STAT, 0);
	put_path("/a/b", NULL, 0, 0, 0);
	end(1);
	start("readdir", DXL_OP_READDIR, 0);
	put_path("/dir", NULL, 12345, 0, 0);
	end(1);
	start("mkdir", DXL_OP_MKDIR, 0);
	put_path("/d", NULL, 0, 0, 0755);
	end(1);
	start("rmdir", DXL_OP_RMDIR, 0);
	put_path("/d", NULL, 0, 0, 0);
	end(1);
	start("unlink", DXL_OP_UNLINK, 0);
	put_path("/x/y/z.txt", NULL, 0, 0, 0);
	end(1);
	start("rename", DXL_OP_RENAME, 0);
	put_path("/old", "/new/name", 0, 1, 0);
	end(1);
	start("rename-long", DXL_OP_RENAME, 0);
	put_path(longpath, longpath, 0, 0, 0);
	end(1);
	start("truncate", DXL_OP_TRUNCATE, 0);
	put_path("/f", NULL, 1 << 20, 0, 0);
	end(1);
	start("open", DXL_OP_OPEN, 0);
	put_path("/f", NULL, 0, 0102, 0644);
	end(1);
	for (size_t i = 0; i < sizeof(fileops) / sizeof(fileops[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", dxl_op_name(fileops[i]));
		start(name, fileops[i], 0);
		fo = put(sizeof(*fo));
		fo->handle = 42;
		fo->off = 4096;
		fo->len = 1 << 16;
		fo->flags = 1;
		end(1);
	}
	start("recall", DXL_OP_RECALL, 0);
	rc = put(sizeof(*rc));
	rc->layout = 9;
	rc->end = 8192;
	rc->ms_left = 3000;
	end(1);
	start("revoked", DXL_OP_REVOKED, 0);
	put(sizeof(*rc));
	end(1);

	/* answers */
	start("stat-reply", DXL_OP_STAT | DXL_OP_REPLY, 0);
	st = put(sizeof(*st));
	st->ino = 2;
	st->mode = 0100644;
	st->nlink = 1;
	st->mtime_s = 1700000000;
	st->mtime_ns = 999999999;
	end(1);
	start("fstat-reply", DXL_OP_FSTAT | DXL_OP_REPLY, 0);
	put(sizeof(*st));
	end(1);
	start("open-reply", DXL_OP_OPEN | DXL_OP_REPLY, 0);
	op = put(sizeof(*op));
	op->handle = 42;
	end(1);
	start("layoutget-reply", DXL_OP_LAYOUTGET | DXL_OP_REPLY, 0);
	lo = put(sizeof(*lo));
	lo->layout = 9;
	lo->len = 4096;
	lo->raddr = 0x7f0000000000ull;
	lo->key = 0xabcdef;
	lo->flags = 1;
	end(1);
	start("readdir-reply", DXL_OP_READDIR | DXL_OP_REPLY, 0);
	rd = put(sizeof(*rd));
	rd->next = 77;
	rd->count = 4;
	put_dirent(3, DT_REG, "a");
	put_dirent(4, DT_DIR, "subdir");
	put_dirent(5, DT_LNK, "exactly8");
	put_dirent(6, DT_REG, longname);
	end(1);
	start("readdir-reply-empty", DXL_OP_READDIR | DXL_OP_REPLY, 0);
	rd = put(sizeof(*rd));
	rd->eof = 1;
	end(1);
	for (size_t i = 0; i < sizeof(empty_answers) / sizeof(empty_answers[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s-reply", dxl_op_name(empty_answers[i]));
		start(name, empty_answers[i] | DXL_OP_REPLY, 0);
		end(1);
	}
	start("stat-error", DXL_OP_STAT | DXL_OP_REPLY, -ENOENT);
	end(1);
	start("readdir-error", DXL_OP_READDIR | DXL_OP_REPLY, -4095);
	end(1);
}

static int parses(const void *buf, size_t n)
{
	struct dxl_msg m;

	return dxl_msg_parse(buf, n, &m) == 0;
}

/* each built-in message parses as what it is; broken copies of it do not */
static int check_seeds(void)
{
	static _Alignas(64) uint8_t b[DXL_MSG_SIZE + 8];
	int bad = 0;

	for (int i = 0; i < nseeds; i++) {
		struct seed *s = &seeds[i];
		struct dxl_msg m;
		struct dxl_msg_hdr h;
		int fresh, later;

		dxl_err_clear();
		if (dxl_msg_parse(s->buf, s->n, &m) != 0) {
			fprintf(stderr, "fuzz_proto_smoke: built-in %s does not parse: %s\n", s->name,
				dxl_errmsg());
			bad++;
			continue;
		}
		if (m.op != (s->op & ~(unsigned)DXL_OP_REPLY) || m.reply != !!(s->op & DXL_OP_REPLY) ||
		    (s->p1 && (strcmp(m.path1, s->p1) || strcmp(m.path2, s->p2)))) {
			fprintf(stderr, "fuzz_proto_smoke: built-in %s parses as something else (%s%s '%s' '%s')\n",
				s->name, dxl_op_name(m.op), m.reply ? " reply" : "", m.path1, m.path2);
			bad++;
		}
		{
			struct dxl_sess a = sess_fresh, l = sess_fresh;

			l.recv_seq = RECV_SEQ;
			fresh = dxl_sess_accept(&a, &m) == 0;
			later = dxl_sess_accept(&l, &m) == 0;
			if (fresh != (s->seq == 1) || later != (s->seq == RECV_SEQ + 1)) {
				fprintf(stderr, "fuzz_proto_smoke: built-in %s (seq %llu) accepted: fresh %d, after %d: %d\n",
					s->name, (unsigned long long)s->seq, fresh, RECV_SEQ, later);
				bad++;
			}
		}
		/* cut by a byte, grown by a byte, a header length one off */
		memcpy(&h, s->buf, sizeof(h));
		memcpy(b, s->buf, s->n);
		b[s->n] = 0;
		if (parses(b, s->n - 1) || parses(b, s->n + 1) || parses(b, HDR_SIZE - 1)) {
			fprintf(stderr, "fuzz_proto_smoke: built-in %s cut or grown by a byte still parses\n",
				s->name);
			bad++;
		}
		for (int d = -1; d <= 1; d += 2) {
			uint32_t len = h.len + (uint32_t)d;

			memcpy(b + offsetof(struct dxl_msg_hdr, len), &len, sizeof(len));
			if (parses(b, s->n)) {
				fprintf(stderr, "fuzz_proto_smoke: built-in %s with a header length one too %s parses\n",
					s->name, d < 0 ? "small" : "big");
				bad++;
			}
		}
		LLVMFuzzerTestOneInput(s->buf, s->n);
	}
	return bad;
}

/* deterministic mutations of the built-in messages, through the harness */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void mutate_rounds(long rounds)
{
	static _Alignas(64) uint8_t b[DXL_MSG_SIZE + 128];
	static const uint32_t interesting[] = {0, 1, 7, 8, 15, 16, 17, 24, 255, 256, 1023, 1024, 1025,
					       4031, 4032, 4033, 65535, 0x80000000u, 0xffffffffu};

	for (long r = 0; r < rounds; r++) {
		const struct seed *s = &seeds[rnd() % (uint64_t)nseeds];
		size_t n = s->n;
		int k = 1 + (int)(rnd() % 4);

		memcpy(b, s->buf, n);
		while (k--) {
			size_t at = n ? rnd() % n : 0;
			uint64_t x = rnd();

			switch (x % 8) {
			case 0: /* flip a bit */
				if (n)
					b[at] ^= (uint8_t)(1u << (x >> 8) % 8);
				break;
			case 1: /* a random byte */
				if (n)
					b[at] = (uint8_t)(x >> 8);
				break;
			case 2: /* cut */
				n = at;
				break;
			case 3: /* grow */
				for (size_t g = 1 + (x >> 8) % 64; g-- && n < sizeof(b);)
					b[n++] = (uint8_t)rnd();
				break;
			case 4: /* an interesting 16- or 32-bit value */
			case 5: {
				uint32_t v = interesting[(x >> 8) % (sizeof(interesting) / sizeof(interesting[0]))];
				size_t w = x % 8 == 4 ? 2 : 4;

				if (x & (1u << 20))
					v += (uint32_t)((x >> 24) % 3) - 1;
				if (n >= w) {
					at = at > n - w ? n - w : at;
					memcpy(b + at, &v, w);
				}
				break;
			}
			case 6: /* the header length: what arrived, give or take */
				if (n >= HDR_SIZE) {
					uint32_t len = (uint32_t)(n - HDR_SIZE) + (uint32_t)((x >> 8) % 5) - 2;

					memcpy(b + offsetof(struct dxl_msg_hdr, len), &len, sizeof(len));
				}
				break;
			case 7: /* a path or entry length in the body */
				if (n >= HDR_SIZE + 32) {
					uint16_t v = (uint16_t)((x >> 8) % 1100);

					memcpy(b + HDR_SIZE + 16 + 2 * ((x >> 20) % 8), &v, sizeof(v));
				}
				break;
			}
		}
		LLVMFuzzerTestOneInput(b, n);
	}
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		fprintf(stderr, "fuzz_proto_smoke: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 8192;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

/* a file, or every file in a directory; the number run or -1 */
static long run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	long count = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "fuzz_proto_smoke: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path) == 0 ? 1 : -1;
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "fuzz_proto_smoke: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (run_file(sub) != 0) {
			closedir(d);
			return -1;
		}
		count++;
	}
	closedir(d);
	return count;
}

static int write_seeds(const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_proto_smoke: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (int i = 0; i < nseeds; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%02d-%.31s", dir, i, seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(seeds[i].buf, 1, seeds[i].n, f) != seeds[i].n || fclose(f) != 0) {
			fprintf(stderr, "fuzz_proto_smoke: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	printf("fuzz_proto_smoke: %d seed messages written to %s\n", nseeds, dir);
	return 0;
}

int main(int argc, char **argv)
{
	long rounds = 50000, files = 0;
	int bad, i = 1;

	sessions_init();
	build_seeds();
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]); /* unchecked: the fuzzer is to see a broken parser */
	if (argc >= 3 && strcmp(argv[1], "--rounds") == 0) {
		rounds = strtol(argv[2], NULL, 0);
		i = 3;
	}
	if (i < argc && argv[i][0] == '-') {
		fprintf(stderr, "usage: %s [--rounds N] [FILE|DIR...]\n"
				"       %s --write-seeds DIR\n", argv[0], argv[0]);
		return 2;
	}
	bad = check_seeds();
	if (bad) {
		fprintf(stderr, "fuzz_proto_smoke: %d failures in the built-in messages\n", bad);
		return 1;
	}
	for (; i < argc; i++) {
		long c = run_path(argv[i]);

		if (c < 0)
			return 1;
		files += c;
	}
	mutate_rounds(rounds);
	printf("fuzz_proto_smoke: %d built-in messages, %ld files, %ld mutated inputs: ok"
	       " (%lu inputs parsed, %lu accepted by a session)\n",
	       nseeds, files, rounds, n_parsed, n_accepted);
	return 0;
}
#endif
