/* SPDX-License-Identifier: BSD-3-Clause */
/* Pool opening, path joining and raw I/O helpers used by several commands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_open_pool(const char *cmd, const char *path, unsigned flags, dxl_pool **out)
{
	int rc = dxl_pool_open(path, flags, out);
	if (rc < 0)
		return cli_lib_error(cmd, path, rc);
	return CLI_OK;
}

int cli_close_pool(const char *cmd, const char *path, dxl_pool *pool, int status)
{
	int rc = dxl_pool_close(pool);
	if (rc < 0) {
		cli_lib_error(cmd, path, rc);
		return status ? status : CLI_FAIL;
	}
	return status;
}

char *cli_join_basename(const char *dir, const char *src)
{
	size_t n = strlen(src);
	while (n > 1 && src[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && src[b - 1] != '/')
		b--;
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *out = malloc(dl + 1 + (n - b) + 1);
	if (!out)
		return NULL;
	memcpy(out, dir, dl);
	size_t o = dl;
	if (!(dl == 1 && dir[0] == '/'))
		out[o++] = '/';
	memcpy(out + o, src + b, n - b);
	out[o + n - b] = '\0';
	return out;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool cli_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	/* Compare against the buffer itself: memcmp is vectorised, a loop is not. */
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}
