/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease leases: every lease and pin of a pool, like /proc/locks. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char *kind_name(uint32_t k)
{
	switch (k) {
	case DXL_INFO_LEASE: return "LEASE";
	case DXL_INFO_LEASE_REFUSE: return "LEASE-REFUSE";
	case DXL_INFO_PIN: return "PIN";
	case DXL_INFO_PIN_LONGTERM: return "PIN-LONGTERM";
	case DXL_INFO_LEASE_MAPPING: return "LEASE-MAP";
	default: return "UNKNOWN";
	}
}

static const char *state_name(uint32_t s)
{
	switch (s) {
	case DXL_LEASE_ACTIVE: return "ACTIVE";
	case DXL_LEASE_BREAKING: return "BREAKING";
	case DXL_LEASE_REVOKED: return "REVOKED";
	default: return NULL;
	}
}

static bool is_pin(uint32_t kind)
{
	return kind == DXL_INFO_PIN || kind == DXL_INFO_PIN_LONGTERM;
}

/* The holder's path, as recorded (at most 63 bytes, maybe unterminated). */
static void copy_path(char out[65], const struct dxl_lease_info *in)
{
	size_t n = strnlen(in->path, sizeof(in->path));
	memcpy(out, in->path, n);
	out[n] = '\0';
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

struct list_ctx {
	bool json;
	unsigned long n;
};

static int print_text(const struct dxl_lease_info *in)
{
	char id[24], range[48], left[32], path[65];
	const char *state = state_name(in->state);
	if (in->id)
		snprintf(id, sizeof(id), "%llu", (unsigned long long)in->id);
	else
		snprintf(id, sizeof(id), "-");
	cli_fmt_range(range, sizeof(range), in->start, in->end);
	if (is_pin(in->kind))
		strncat(range, "u", sizeof(range) - strlen(range) - 1);
	if (in->ms_left >= 0)
		cli_fmt_secs(left, sizeof(left), in->ms_left);
	else
		snprintf(left, sizeof(left), "-");
	copy_path(path, in);
	printf("%-6s %-12s %-8s %7d %8llu %-24s %4u %5u %8s %s", id, kind_name(in->kind),
	       state ? state : "-", in->pid, (unsigned long long)in->ino, range, in->pins,
	       in->quarantined, left, path[0] ? path : "?");
	/* a server's lease on a remote client's behalf names the client */
	if (in->holder[0])
		printf("  (for %.*s)", (int)sizeof(in->holder), in->holder);
	putchar('\n');
	return 0;
}

static int print_json(const struct dxl_lease_info *in)
{
	char path[65];
	const char *state = state_name(in->state);
	copy_path(path, in);
	printf("{\"id\":%llu,\"kind\":\"%s\",\"state\":", (unsigned long long)in->id,
	       kind_name(in->kind));
	if (state)
		printf("\"%s\"", state);
	else
		printf("null");
	printf(",\"pid\":%d,\"ino\":%llu,\"path\":", in->pid, (unsigned long long)in->ino);
	json_string(path);
	printf(",\"range_unit\":\"%s\",\"start\":%llu,\"end\":", is_pin(in->kind) ? "units" : "bytes",
	       (unsigned long long)in->start);
	if (in->end == UINT64_MAX)
		printf("null");
	else
		printf("%llu", (unsigned long long)in->end);
	printf(",\"holder\":");
	if (in->holder[0]) {
		char holder[sizeof(in->holder) + 1];
		snprintf(holder, sizeof(holder), "%.*s", (int)sizeof(in->holder), in->holder);
		json_string(holder);
	} else {
		printf("null");
	}
	printf(",\"pins\":%u,\"quarantined\":%u,\"ms_left\":", in->pins, in->quarantined);
	if (in->ms_left >= 0)
		printf("%lld", (long long)in->ms_left);
	else
		printf("null");
	printf("}\n");
	return 0;
}

static int each(void *arg, const struct dxl_lease_info *info)
{
	struct list_ctx *lc = arg;
	lc->n++;
	return lc->json ? print_json(info) : print_text(info);
}

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},
	{0, 0, 0, 0},
};

static int run(int argc, char **argv)
{
	struct list_ctx lc = {0};
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("leases", argc, argv, "", longopts)) != -1) {
		if (c != 'j')
			return CLI_USAGE;
		lc.json = true;
	}
	if (argc - optind != 1)
		return cli_usage("leases", argc == optind ? "missing POOL" : "too many arguments");
	const char *path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("leases", path, DXL_POOL_RDONLY, &pool))
		return CLI_FAIL;
	if (!lc.json)
		printf("%-6s %-12s %-8s %7s %8s %-24s %4s %5s %8s %s\n", "ID", "KIND", "STATE", "PID",
		       "INO", "RANGE", "PINS", "QUAR", "LEFT", "PATH");
	int rc = dxl_lease_list(pool, each, &lc);
	fflush(stdout);
	int status = rc < 0 ? cli_lib_error("leases", path, rc) : CLI_OK;
	return cli_close_pool("leases", path, pool, status);
}

const struct cli_cmd cli_cmd_leases = {
	.name = "leases",
	.run = run,
	.usage = "leases [--json] POOL",
	.summary = "list every lease and pin of the pool, like /proc/locks",
	.help = "  --json   one JSON object per lease or pin, one per line, no header\n"
		"\nColumns: ID (lease id; a pin shows its lease, '-' if transient), KIND\n"
		"(LEASE, LEASE-REFUSE, PIN, PIN-LONGTERM), STATE (ACTIVE, BREAKING,\n"
		"REVOKED), PID of the holder, INO, RANGE (bytes START-END for leases, END\n"
		"exclusive, EOF = to infinity; storage units START-ENDu for pins), PINS\n"
		"(long-term pins under a lease), QUAR (units of a pin freed while pinned),\n"
		"LEFT (time before revocation while breaking, else '-'), PATH (as the\n"
		"holder opened it; may be stale). See docs/cli.md.\n",
};
