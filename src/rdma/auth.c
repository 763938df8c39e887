/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authentication, all of it libsodium's (docs/rdma.md, "Authentication"):
 * both sides hold a 32-byte key; each proves it with crypto_auth
 * (HMAC-SHA-512-256) over both sides' fresh nonces, and the session key
 * that MACs every later message is crypto_generichash (BLAKE2b) keyed
 * with it.  No cryptography of our own: only which bytes go in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rdma/proto.h"
#include "rdma/rdma_int.h"

_Static_assert(DXL_MAC_LEN == crypto_auth_BYTES, "MAC size");
_Static_assert(DXL_KEY_LEN == crypto_auth_KEYBYTES, "key size");

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return dxl_err(EIO, "libsodium cannot start");
	return 0;
}

static void proof_input(uint8_t in[8 + 2 * DXL_NONCE_LEN + 8], const char *who,
			const uint8_t first[DXL_NONCE_LEN], const uint8_t second[DXL_NONCE_LEN],
			uint64_t client_id)
{
	memset(in, 0, 8);
	memcpy(in, "dxl1-", 5);
	memcpy(in + 5, who, 3);
	memcpy(in + 8, first, DXL_NONCE_LEN);
	memcpy(in + 8 + DXL_NONCE_LEN, second, DXL_NONCE_LEN);
	memcpy(in + 8 + 2 * DXL_NONCE_LEN, &client_id, 8);
}

void dxl_proof(uint8_t out[DXL_MAC_LEN], const uint8_t key[DXL_KEY_LEN], const char *who,
	       const uint8_t first[DXL_NONCE_LEN], const uint8_t second[DXL_NONCE_LEN],
	       uint64_t client_id)
{
	uint8_t in[8 + 2 * DXL_NONCE_LEN + 8];

	proof_input(in, who, first, second, client_id);
	crypto_auth(out, in, sizeof(in), key);
}

int dxl_proof_ok(const uint8_t proof[DXL_MAC_LEN], const uint8_t key[DXL_KEY_LEN], const char *who,
		 const uint8_t first[DXL_NONCE_LEN], const uint8_t second[DXL_NONCE_LEN],
		 uint64_t client_id)
{
	uint8_t in[8 + 2 * DXL_NONCE_LEN + 8];

	proof_input(in, who, first, second, client_id);
	return crypto_auth_verify(proof, in, sizeof(in), key) == 0;
}

void dxl_sess_init(struct dxl_sess *s, const uint8_t key[DXL_KEY_LEN], const uint8_t cn[DXL_NONCE_LEN],
		   const uint8_t sn[DXL_NONCE_LEN], uint64_t client_id)
{
	uint8_t in[8 + 2 * DXL_NONCE_LEN + 8];

	proof_input(in, "ses", cn, sn, client_id);
	crypto_generichash(s->key, sizeof(s->key), in, sizeof(in), key, DXL_KEY_LEN);
	s->send_seq = 0;
	s->recv_seq = 0;
	s->on = 1;
}

/* MAC over the header (its mac field zero) and the body */
static void mac_of(const struct dxl_sess *s, const uint8_t *buf, size_t n, uint8_t out[DXL_MAC_LEN])
{
	crypto_auth_hmacsha512256_state st;
	uint8_t zero[DXL_MAC_LEN] = {0};
	size_t at = offsetof(struct dxl_msg_hdr, mac);

	crypto_auth_hmacsha512256_init(&st, s->key, sizeof(s->key));
	crypto_auth_hmacsha512256_update(&st, buf, at);
	crypto_auth_hmacsha512256_update(&st, zero, sizeof(zero));
	crypto_auth_hmacsha512256_update(&st, buf + at + DXL_MAC_LEN, n - at - DXL_MAC_LEN);
	crypto_auth_hmacsha512256_final(&st, out);
}

void dxl_sess_seal(struct dxl_sess *s, void *buf)
{
	struct dxl_msg_hdr *h = buf;

	h->seq = ++s->send_seq;
	mac_of(s, buf, sizeof(*h) + h->len, h->mac);
}

int dxl_sess_accept(struct dxl_sess *s, const struct dxl_msg *m)
{
	uint8_t mac[DXL_MAC_LEN];

	if (!s->on)
		return dxl_err(EACCES, "protocol: %s before authentication", dxl_op_name(m->op));
	mac_of(s, (const uint8_t *)m->h, sizeof(*m->h) + m->len, mac);
	if (sodium_memcmp(mac, m->h->mac, sizeof(mac)) != 0)
		return dxl_err(EBADMSG, "protocol: %s message with a wrong MAC (forged or altered)",
			       dxl_op_name(m->op));
	if (m->h->seq != s->recv_seq + 1)
		return dxl_err(EBADMSG, "protocol: %s message numbered %llu, expected %llu (replayed?)",
			       dxl_op_name(m->op), (unsigned long long)m->h->seq,
			       (unsigned long long)(s->recv_seq + 1));
	s->recv_seq = m->h->seq;
	return 0;
}

int dxl_key_get(const uint8_t *key, const char *key_file, uint8_t out[DXL_KEY_LEN], const char *who)
{
	int rc = sodium_ready();

	if (rc)
		return rc;
	if (key) {
		memcpy(out, key, DXL_KEY_LEN);
		return 0;
	}
	if (!key_file)
		return dxl_err(EINVAL, "%s: no key (key_file or key)", who);
	return dxl_key_load(key_file, out);
}

int dxl_key_generate(const char *path)
{
	uint8_t key[DXL_KEY_LEN];
	char hex[2 * DXL_KEY_LEN + 2];
	int fd, rc;
	ssize_t w;

	dxl_err_clear();
	if (!path)
		return dxl_err(EINVAL, "key file: no path");
	if ((rc = sodium_ready()))
		return rc;
	crypto_auth_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	strcat(hex, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return dxl_err(errno, "key file %s: %s", path, strerror(errno));
	w = write(fd, hex, strlen(hex));
	rc = (w == (ssize_t)strlen(hex) && fsync(fd) == 0) ? 0 : dxl_err(errno ? errno : EIO, "key file %s: write: %s", path, strerror(errno));
	sodium_memzero(hex, sizeof(hex));
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

int dxl_key_load(const char *path, uint8_t key[DXL_KEY_LEN])
{
	char hex[2 * DXL_KEY_LEN + 8];
	struct stat st;
	size_t bin = 0;
	const char *end = NULL;
	ssize_t n;
	int fd, rc;

	dxl_err_clear();
	if (!path)
		return dxl_err(EINVAL, "key file: no path");
	if ((rc = sodium_ready()))
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return dxl_err(errno, "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dxl_err(EINVAL, "key file %s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return dxl_err(EACCES, "key file %s: mode %04o lets others read it; chmod 600 it",
			       path, (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < 0)
		return dxl_err(errno, "key file %s: %s", path, strerror(errno));
	hex[n] = '\0';
	if (sodium_hex2bin(key, DXL_KEY_LEN, hex, (size_t)n, "\n\r ", &bin, &end) != 0 ||
	    bin != DXL_KEY_LEN || (end && *end && !strchr("\n\r ", *end))) {
		sodium_memzero(hex, sizeof(hex));
		return dxl_err(EINVAL, "key file %s: expected 64 hex digits (make one with 'daxlease keygen')",
			       path);
	}
	sodium_memzero(hex, sizeof(hex));
	return 0;
}
