/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease mkfs: create a pool. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

enum { OPT_SIZE = 256, OPT_UNIT, OPT_JOURNAL, OPT_META, OPT_BREAK, OPT_FORCE, OPT_UNBREAKABLE };

static const struct option longopts[] = {
	{"size", required_argument, NULL, OPT_SIZE},
	{"unit", required_argument, NULL, OPT_UNIT},
	{"journal", required_argument, NULL, OPT_JOURNAL},
	{"meta", required_argument, NULL, OPT_META},
	{"lease-break-time", required_argument, NULL, OPT_BREAK},
	{"unbreakable", required_argument, NULL, OPT_UNBREAKABLE},
	{"force", no_argument, NULL, OPT_FORCE},
	{0, 0, 0, 0},
};

static int run(int argc, char **argv)
{
	struct dxl_mkfs_opts o;
	memset(&o, 0, sizeof(o));
	int c, rc = CLI_OK, yes;
	cli_getopt_reset();
	while (rc == CLI_OK && (c = cli_getopt("mkfs", argc, argv, "f", longopts)) != -1) {
		switch (c) {
		case OPT_SIZE: rc = cli_size_arg("mkfs", "--size", optarg, &o.size); break;
		case OPT_UNIT: rc = cli_size_arg("mkfs", "--unit", optarg, &o.unit); break;
		case OPT_JOURNAL: rc = cli_size_arg("mkfs", "--journal", optarg, &o.journal_size); break;
		case OPT_META: rc = cli_size_arg("mkfs", "--meta", optarg, &o.meta_size); break;
		case OPT_BREAK: rc = cli_break_time_arg("mkfs", optarg, &o.lease_break_ms); break;
		case OPT_UNBREAKABLE:
			rc = cli_yes_no_arg("mkfs", "--unbreakable", optarg, &yes);
			if (rc == CLI_OK && yes)
				o.flags |= DXL_MKFS_UNBREAKABLE;
			break;
		case 'f':
		case OPT_FORCE: o.flags |= DXL_MKFS_FORCE; break;
		default: return CLI_USAGE;
		}
	}
	if (rc != CLI_OK)
		return rc;
	if (argc - optind != 1)
		return cli_usage("mkfs", argc == optind ? "missing POOL" : "too many arguments");
	if (o.unit && (o.unit & (o.unit - 1)))
		return cli_usage("mkfs", "--unit must be a power of two");
	const char *pool = argv[optind];
	int err = dxl_mkfs(pool, &o);
	if (err < 0)
		return cli_lib_error("mkfs", pool, err);
	return CLI_OK;
}

const struct cli_cmd cli_cmd_mkfs = {
	.name = "mkfs",
	.run = run,
	.usage = "mkfs [--size BYTES] [--unit BYTES] [--journal BYTES] [--meta BYTES]\n"
		 "                     [--lease-break-time DUR] [--unbreakable yes|no] [--force] POOL",
	.summary = "create a pool (a new file is created and sized with --size)",
	.help = "  --size BYTES              pool size; default: the existing size of POOL\n"
		"  --unit BYTES              allocation unit, a power of two; default: the\n"
		"                            backend's mapping alignment (2m on devdax, 4k else)\n"
		"  --journal BYTES           metadata journal size; default chosen by size\n"
		"  --meta BYTES              space for metadata blocks; default chosen by size\n"
		"  --lease-break-time DUR    how long a lease holder gets to let go before\n"
		"                            revocation: 500ms, 5s, 2m; bare number = seconds;\n"
		"                            default 45s\n"
		"  --unbreakable yes|no      allow leases that refuse layout changes (ETXTBSY)\n"
		"  -f, --force               overwrite an existing daxlease pool\n",
};
