/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wire protocol between `daxlease serve` and its clients (docs/rdma.md).
 *
 * Every message is one libfabric send of at most DXL_MSG_SIZE bytes: a
 * 64-byte header, then an op-specific body.  Integers are little-endian
 * (the hosts this runs on; a big-endian peer fails the magic check).
 * After authentication every message carries a MAC over header and body
 * under the session key and a sequence number one above the last one from
 * that side: forged, replayed, reordered or altered messages are refused.
 * The data path is not here: clients read and write layouts with one-sided
 * RMA under the keys LAYOUTGET hands out.
 */
#ifndef DXL_RDMA_PROTO_H
#define DXL_RDMA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DXL_PROTO_MAGIC 0x524c5844u /* "DXLR" */
#define DXL_PROTO_VERSION 1
#define DXL_MSG_SIZE 4096           /* the largest message; every receive buffer */
#define DXL_MAC_LEN 32              /* crypto_auth_BYTES */
#define DXL_KEY_LEN 32              /* crypto_auth_KEYBYTES */
#define DXL_NONCE_LEN 32
#define DXL_ADDR_MAX 128            /* an endpoint name */
#define DXL_WIRE_PATH_MAX 1024      /* bytes of one path in a request */

struct dxl_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t op;       /* enum dxl_op, | DXL_OP_REPLY in answers */
	uint32_t len;      /* body bytes after the header */
	int32_t status;    /* answers: 0 or a negative errno */
	uint64_t seq;      /* per direction, from 1; 0 before the session */
	uint64_t req;      /* the request an answer answers (its seq) */
	uint8_t mac[DXL_MAC_LEN];
};

enum dxl_op {
	DXL_OP_HELLO = 1,   /* c->s (listening endpoint): hello */
	DXL_OP_CHALLENGE,   /* s->c: challenge */
	DXL_OP_AUTH,        /* c->s (the client's endpoint): auth */
	DXL_OP_RENEW,       /* c->s: nothing; keeps the client alive */
	DXL_OP_BYE,         /* c->s: the client leaves; its layouts are returned */
	DXL_OP_STAT,        /* path */
	DXL_OP_READDIR,     /* path (arg = cookie) -> readdir */
	DXL_OP_MKDIR,       /* path (mode) */
	DXL_OP_RMDIR,       /* path */
	DXL_OP_UNLINK,      /* path */
	DXL_OP_RENAME,      /* path, path2 (flags) */
	DXL_OP_TRUNCATE,    /* path (arg = size) */
	DXL_OP_OPEN,        /* path (flags, mode) -> open */
	DXL_OP_CLOSE,       /* fileop */
	DXL_OP_FSTAT,       /* fileop -> stat */
	DXL_OP_FTRUNCATE,   /* fileop (off = size) */
	DXL_OP_FALLOCATE,   /* fileop (mode, off, len) */
	DXL_OP_LAYOUTGET,   /* fileop (off, len, flags) -> layout */
	DXL_OP_LAYOUTRETURN,/* fileop (handle = layout id) */
	DXL_OP_COMMIT,      /* fileop (off, len) */
	DXL_OP_RECALL,      /* s->c: recall */
	DXL_OP_REVOKED,     /* s->c: recall (the layout is gone) */
	DXL_OP_REVOKE_ACK,  /* c->s: fileop (handle = layout id) */
	DXL_OP_MAX
};
#define DXL_OP_REPLY 0x8000

struct dxl_p_hello {
	uint8_t nonce[DXL_NONCE_LEN];
	uint32_t addrlen;  /* the client endpoint's name follows */
	uint32_t pad;
};
struct dxl_p_challenge {
	uint8_t nonce[DXL_NONCE_LEN];
	uint8_t proof[DXL_MAC_LEN]; /* the server knows the key */
	uint64_t client_id;
	uint32_t client_timeout_ms;
	uint32_t addrlen;  /* the client's session endpoint at the server follows */
};
struct dxl_p_auth {
	uint8_t proof[DXL_MAC_LEN];
};
struct dxl_p_path {
	uint64_t arg;
	uint32_t flags;
	uint32_t mode;
	uint16_t len1, len2; /* the paths follow, without NULs */
	uint32_t pad;
};
struct dxl_p_fileop {
	uint64_t handle;
	uint64_t off;
	uint64_t len;
	uint32_t flags;
	int32_t mode;
};
struct dxl_p_stat {
	uint64_t ino, size, allocated;
	uint32_t mode, nlink, uid, gid;
	int64_t atime_s, mtime_s, ctime_s, btime_s;
	uint32_t atime_ns, mtime_ns, ctime_ns, btime_ns;
};
struct dxl_p_open {
	uint64_t handle;
	struct dxl_p_stat st;
};
struct dxl_p_layout {
	uint64_t layout;
	uint64_t off, len;  /* exactly the range asked for */
	uint64_t raddr;     /* remote address of byte off */
	uint64_t key;
	uint32_t flags;     /* DXL_LAYOUT_RW */
	uint32_t pad;
};
struct dxl_p_readdir {
	uint64_t next;      /* cookie to go on from */
	uint32_t count;
	uint32_t eof;
};
struct dxl_p_dirent {
	uint64_t ino;
	uint32_t type;
	uint16_t namelen;   /* the name follows, padded to 8 bytes */
	uint16_t pad;
};
struct dxl_p_recall {
	uint64_t layout;
	uint64_t start, end;/* the range being changed */
	int64_t ms_left;    /* before the server revokes */
};

/* A parsed message: pointers into the buffer, paths copied and ended. */
struct dxl_msg {
	const struct dxl_msg_hdr *h;
	const uint8_t *body;
	uint32_t len;
	uint16_t op;        /* without DXL_OP_REPLY */
	int reply;
	const void *p;      /* the body as the op's struct (NULL: none) */
	const uint8_t *tail;/* what follows the struct (address, paths) */
	uint32_t tail_len;
	char path1[DXL_WIRE_PATH_MAX + 1];
	char path2[DXL_WIRE_PATH_MAX + 1];
};

/* Check a received message's shape (not its MAC): 0, or -EBADMSG /
 * -EPROTO with a message.  Never reads outside buf[0, n). */
int dxl_msg_parse(const void *buf, size_t n, struct dxl_msg *m);
/* Walk the entries of a parsed READDIR answer: 1 = *ent filled, 0 = end,
 * <0 = malformed.  *pos starts at 0. */
struct dxl_dirent;
int dxl_msg_dirent(const struct dxl_msg *m, uint32_t *pos, struct dxl_dirent *ent);
const char *dxl_op_name(unsigned op);

/* Building a message in a buffer of DXL_MSG_SIZE. */
struct dxl_mb {
	uint8_t *buf;
	uint32_t len;
	int overflow;
};
void dxl_mb_start(struct dxl_mb *mb, void *buf, unsigned op, uint64_t req, int32_t status);
/* n zeroed bytes appended (8-byte aligned start); NULL if they do not fit. */
void *dxl_mb_put(struct dxl_mb *mb, size_t n);
int dxl_mb_put_bytes(struct dxl_mb *mb, const void *p, size_t n);
/* A path request body. */
int dxl_mb_path(struct dxl_mb *mb, const char *p1, const char *p2, uint64_t arg, uint32_t flags,
		uint32_t mode);
/* Sets the header's length; returns the message's size (0: it overflowed). */
size_t dxl_mb_end(struct dxl_mb *mb);

/* A session: both sides' sequence numbers and the key that MACs them. */
struct dxl_sess {
	uint8_t key[DXL_KEY_LEN];
	uint64_t send_seq;  /* last sent */
	uint64_t recv_seq;  /* last accepted */
	int on;
};
/* Derive the session from the shared key and both nonces. */
void dxl_sess_init(struct dxl_sess *s, const uint8_t key[DXL_KEY_LEN], const uint8_t cn[DXL_NONCE_LEN],
		   const uint8_t sn[DXL_NONCE_LEN], uint64_t client_id);
/* Number and MAC an outgoing message (built, dxl_mb_end called). */
void dxl_sess_seal(struct dxl_sess *s, void *buf);
/* Accept an incoming parsed message: its MAC and its sequence number. */
int dxl_sess_accept(struct dxl_sess *s, const struct dxl_msg *m);
/* The handshake proofs (who: "srv" or "cli"). */
void dxl_proof(uint8_t out[DXL_MAC_LEN], const uint8_t key[DXL_KEY_LEN], const char *who,
	       const uint8_t first[DXL_NONCE_LEN], const uint8_t second[DXL_NONCE_LEN],
	       uint64_t client_id);
int dxl_proof_ok(const uint8_t proof[DXL_MAC_LEN], const uint8_t key[DXL_KEY_LEN], const char *who,
		 const uint8_t first[DXL_NONCE_LEN], const uint8_t second[DXL_NONCE_LEN],
		 uint64_t client_id);

/* Stat structs to and from the wire. */
struct dxl_stat;
void dxl_stat_to_wire(struct dxl_p_stat *w, const struct dxl_stat *st);
void dxl_stat_from_wire(struct dxl_stat *st, const struct dxl_p_stat *w);

#endif
