/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease tune: change the persistent pool-wide settings. */
#include <getopt.h>

#include "cli.h"

enum { OPT_BREAK = 256, OPT_UNBREAKABLE };

static const struct option longopts[] = {
	{"lease-break-time", required_argument, NULL, OPT_BREAK},
	{"unbreakable", required_argument, NULL, OPT_UNBREAKABLE},
	{0, 0, 0, 0},
};

static int run(int argc, char **argv)
{
	uint32_t ms = 0;
	int allow = -1, c, rc = CLI_OK;
	bool set_break = false;
	cli_getopt_reset();
	while (rc == CLI_OK && (c = cli_getopt("tune", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_BREAK:
			rc = cli_break_time_arg("tune", optarg, &ms);
			set_break = true;
			break;
		case OPT_UNBREAKABLE:
			rc = cli_yes_no_arg("tune", "--unbreakable", optarg, &allow);
			break;
		default: return CLI_USAGE;
		}
	}
	if (rc != CLI_OK)
		return rc;
	if (argc - optind != 1)
		return cli_usage("tune", argc == optind ? "missing POOL" : "too many arguments");
	if (!set_break && allow < 0)
		return cli_usage("tune", "nothing to change");
	const char *path = argv[optind];
	dxl_pool *pool;
	if (cli_open_pool("tune", path, 0, &pool))
		return CLI_FAIL;
	int err = 0;
	if (set_break)
		err = dxl_tune_lease_break(pool, ms);
	if (err == 0 && allow >= 0)
		err = dxl_tune_unbreakable(pool, allow);
	struct dxl_statfs st;
	if (err == 0)
		err = dxl_statfs(pool, &st);
	if (err < 0) {
		cli_lib_error("tune", path, err);
		return cli_close_pool("tune", path, pool, CLI_FAIL);
	}
	char buf[32];
	printf("lease break time: %s\n", cli_fmt_ms(buf, sizeof(buf), st.lease_break_ms));
	printf("unbreakable: %s\n", (st.flags & DXL_MKFS_UNBREAKABLE) ? "allowed" : "no");
	return cli_close_pool("tune", path, pool, CLI_OK);
}

const struct cli_cmd cli_cmd_tune = {
	.name = "tune",
	.run = run,
	.usage = "tune POOL [--lease-break-time DUR] [--unbreakable yes|no]",
	.summary = "change a pool's lease settings",
	.help = "  --lease-break-time DUR   time a lease holder gets before revocation\n"
		"                           (500ms, 5s, 2m; bare number = seconds)\n"
		"  --unbreakable yes|no     allow leases that refuse layout changes\n"
		"\nPrints the settings in force afterwards.\n",
};
