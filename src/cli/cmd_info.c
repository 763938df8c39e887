/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease info: what dxl_statfs says about a pool, for people or for scripts. */
#include <getopt.h>

#include "cli.h"

static const char *backend_name(uint32_t b)
{
	switch (b) {
	case DXL_BACKEND_FILE: return "file";
	case DXL_BACKEND_SHM: return "shm";
	case DXL_BACKEND_DEVDAX: return "devdax";
	case DXL_BACKEND_FSDAX: return "fsdax";
	default: return "unknown";
	}
}

static void fmt_uuid(char out[37], const uint8_t u[16])
{
	static const char hex[] = "0123456789abcdef";
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}

/* Only the persistence method comes from outside our control; keep JSON valid. */
static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_json(const char *pool, const struct dxl_statfs *st)
{
	char uuid[37];
	fmt_uuid(uuid, st->uuid);
	printf("{\"pool\":");
	json_string(pool);
	printf(",\"uuid\":\"%s\",\"version\":%u,\"backend\":\"%s\",\"size\":%llu,\"unit\":%llu,"
	       "\"data_units\":%llu,\"free_units\":%llu,\"meta_blocks\":%llu,"
	       "\"free_meta_blocks\":%llu,\"inodes\":%llu,\"journal_size\":%llu,"
	       "\"lease_break_ms\":%u,\"unbreakable\":%s,\"persist\":",
	       uuid, st->version, backend_name(st->backend), (unsigned long long)st->pool_size,
	       (unsigned long long)st->unit, (unsigned long long)st->data_units,
	       (unsigned long long)st->free_units, (unsigned long long)st->meta_blocks,
	       (unsigned long long)st->free_meta_blocks, (unsigned long long)st->inodes,
	       (unsigned long long)st->journal_size, st->lease_break_ms,
	       (st->flags & DXL_MKFS_UNBREAKABLE) ? "true" : "false");
	json_string(st->persist);
	printf("}\n");
}

static void print_units(const char *label, uint64_t n, uint64_t size)
{
	char h[32];
	printf("%-18s %llu (%s)\n", label, (unsigned long long)n,
	       cli_fmt_bytes(h, sizeof(h), n * size));
}

static void print_human(const char *pool, const struct dxl_statfs *st)
{
	char uuid[37], a[32], b[32];
	fmt_uuid(uuid, st->uuid);
	printf("%-18s %s\n", "pool:", pool);
	printf("%-18s %s\n", "uuid:", uuid);
	printf("%-18s %u\n", "format version:", st->version);
	printf("%-18s %s\n", "backend:", backend_name(st->backend));
	printf("%-18s %llu (%s)\n", "size:", (unsigned long long)st->pool_size,
	       cli_fmt_bytes(a, sizeof(a), st->pool_size));
	printf("%-18s %llu (%s)\n", "unit:", (unsigned long long)st->unit,
	       cli_fmt_bytes(b, sizeof(b), st->unit));
	print_units("data units:", st->data_units, st->unit);
	print_units("free units:", st->free_units, st->unit);
	print_units("metadata blocks:", st->meta_blocks, 4096);
	print_units("free meta blocks:", st->free_meta_blocks, 4096);
	printf("%-18s %llu\n", "inodes:", (unsigned long long)st->inodes);
	printf("%-18s %llu (%s)\n", "journal size:", (unsigned long long)st->journal_size,
	       cli_fmt_bytes(a, sizeof(a), st->journal_size));
	printf("%-18s %s\n", "lease break time:", cli_fmt_ms(a, sizeof(a), st->lease_break_ms));
	printf("%-18s %s\n", "unbreakable:", (st->flags & DXL_MKFS_UNBREAKABLE) ? "allowed" : "no");
	printf("%-18s %s\n", "persistence:", st->persist ? st->persist : "unknown");
}

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},
	{0, 0, 0, 0},
};

static int run(int argc, char **argv)
{
	bool json = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("info", argc, argv, "", longopts)) != -1) {
		if (c != 'j')
			return CLI_USAGE;
		json = true;
	}
	if (argc - optind != 1)
		return cli_usage("info", argc == optind ? "missing POOL" : "too many arguments");
	const char *path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("info", path, DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	struct dxl_statfs st;
	int rc = dxl_statfs(pool, &st);
	if (rc < 0) {
		cli_lib_error("info", path, rc);
		return cli_close_pool("info", path, pool, CLI_FAIL);
	}
	if (json)
		print_json(path, &st);
	else
		print_human(path, &st);
	return cli_close_pool("info", path, pool, CLI_OK);
}

const struct cli_cmd cli_cmd_info = {
	.name = "info",
	.run = run,
	.usage = "info [--json] POOL",
	.summary = "show the format, usage and settings of a pool",
	.help = "  --json   one JSON object on one line instead of the table\n",
};
