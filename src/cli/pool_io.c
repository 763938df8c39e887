/* SPDX-License-Identifier: BSD-3-Clause */
/* Full-length reads and writes on pool files, over the library's short counts. */
#include "cli.h"

ssize_t cli_pread_full(dxl_file *f, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = dxl_pread(f, (char *)buf + done, len - done, off + done);
		if (n < 0)
			return done ? (ssize_t)done : n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t cli_pwrite_full(dxl_file *f, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = dxl_pwrite(f, (const char *)buf + done, len - done, off + done);
		if (n < 0)
			return done ? (ssize_t)done : n;
		if (n == 0)
			break; /* would loop forever; the caller sees a short write */
		done += (size_t)n;
	}
	return (ssize_t)done;
}
