/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program outside the tree, built against an installed daxlease
 * (tests/release/install_consumer.sh): makes a pool in DIR, writes a file
 * in it and reads it back, and checks the library it runs with is the
 * version its header names.  Where the RDMA API is installed too, makes
 * a key file and connects to a port nobody serves: the library opens
 * libfabric and refuses, saying why.  consumer DIR
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <daxlease/daxlease.h>
#if defined(__has_include)
#if __has_include(<daxlease/rdma.h>)
#include <daxlease/rdma.h>
#define CONSUMER_RDMA 1
#endif
#endif

static int fail(const char *what, long rc)
{
	fprintf(stderr, "consumer: %s: %ld (%s)\n", what, rc, dxl_errmsg());
	return 1;
}

int main(int argc, char **argv)
{
	static const char msg[] = "hello from outside the tree\n";
	char path[4096], buf[64];
	struct dxl_mkfs_opts opts = {.size = 16u << 20};
	dxl_pool *pool;
	dxl_file *f;
	long rc;

	if (argc != 2) {
		fprintf(stderr, "usage: consumer DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/pool", argv[1]);
	if ((rc = dxl_mkfs(path, &opts)) < 0)
		return fail("dxl_mkfs", rc);
	if ((rc = dxl_pool_open(path, 0, &pool)) < 0)
		return fail("dxl_pool_open", rc);
	if ((rc = dxl_open(pool, "/hello", O_CREAT | O_RDWR, 0644, &f)) < 0)
		return fail("dxl_open", rc);
	if ((rc = dxl_pwrite(f, msg, sizeof(msg) - 1, 0)) != (long)sizeof(msg) - 1)
		return fail("dxl_pwrite", rc);
	memset(buf, 0, sizeof(buf));
	if ((rc = dxl_pread(f, buf, sizeof(buf), 0)) != (long)sizeof(msg) - 1)
		return fail("dxl_pread", rc);
	if (memcmp(buf, msg, sizeof(msg) - 1) != 0) {
		fprintf(stderr, "consumer: read back '%s'\n", buf);
		return 1;
	}
	if ((rc = dxl_close(f)) < 0)
		return fail("dxl_close", rc);
	if ((rc = dxl_pool_close(pool)) < 0)
		return fail("dxl_pool_close", rc);
	if (strcmp(dxl_version(), DXL_VERSION_STRING) != 0) {
		fprintf(stderr, "consumer: library %s, header %s\n", dxl_version(), DXL_VERSION_STRING);
		return 1;
	}
	printf("read back: %s", buf);
	printf("dxl_version: %s\n", dxl_version());
#ifdef CONSUMER_RDMA
	{
		struct dxl_remote_opts ro = {.version = DXL_REMOTE_OPTS_VERSION, .timeout_ms = 500,
					     .provider = "tcp;ofi_rxm", .key_file = path};
		dxl_remote *r = NULL;

		snprintf(path, sizeof(path), "%s/key", argv[1]);
		if ((rc = dxl_key_generate(path)) < 0)
			return fail("dxl_key_generate", rc);
		rc = dxl_remote_connect("127.0.0.1:1", &ro, &r);
		if (rc == 0 || r != NULL || !strstr(dxl_errmsg(), "127.0.0.1:1"))
			return fail("dxl_remote_connect to a port nobody serves", rc);
		printf("rdma: connecting to 127.0.0.1:1 failed as it must: %s\n", dxl_errmsg());
	}
#endif
	return 0;
}
