/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease fsck: check (and optionally repair) a pool. */
#include <errno.h>
#include <getopt.h>

#include "cli.h"

enum { OPT_REPAIR = 256 };

static const struct option longopts[] = {
	{"repair", no_argument, NULL, OPT_REPAIR},
	{"no-modify", no_argument, NULL, 'n'},
	{"verbose", no_argument, NULL, 'v'},
	{0, 0, 0, 0},
};

/* Problems go to stdout as found, so a long report can be paged or grepped. */
static void report(void *arg, const char *msg)
{
	(void)arg;
	printf("%s\n", msg);
}

static int run(int argc, char **argv)
{
	unsigned flags = 0;
	bool no_modify = false;
	int c;
	cli_getopt_reset();
	while ((c = cli_getopt("fsck", argc, argv, "nvy", longopts)) != -1) {
		switch (c) {
		case 'n': no_modify = true; break;
		case 'y':
		case OPT_REPAIR: flags |= DXL_FSCK_REPAIR; break;
		case 'v': flags |= DXL_FSCK_VERBOSE; break;
		default: return CLI_USAGE;
		}
	}
	if (no_modify && (flags & DXL_FSCK_REPAIR))
		return cli_usage("fsck", "-n and --repair contradict each other");
	if (argc - optind != 1)
		return cli_usage("fsck", argc == optind ? "missing POOL" : "too many arguments");
	const char *pool = argv[optind];

	struct dxl_fsck_result res = {0};
	int rc = dxl_fsck(pool, flags, report, NULL, &res);
	if (rc < 0 && rc != -EUCLEAN) {
		cli_lib_error("fsck", pool, rc);
		return CLI_FSCK_ERROR;
	}
	printf("%s: %llu inodes, %llu directories, %llu files, %llu extents, %llu shared units\n",
	       pool, (unsigned long long)res.inodes, (unsigned long long)res.dirs,
	       (unsigned long long)res.files, (unsigned long long)res.extents,
	       (unsigned long long)res.shared_units);
	if (rc == 0 && res.problems == 0) {
		printf("%s: clean\n", pool);
		return CLI_OK;
	}
	printf("%s: %llu problems found, %llu repaired\n", pool,
	       (unsigned long long)res.problems, (unsigned long long)res.repaired);
	if (rc == 0)
		return CLI_OK;
	printf("%s: problems remain%s\n", pool,
	       (flags & DXL_FSCK_REPAIR) ? "" : "; run with --repair to mend what can be mended");
	return CLI_FAIL;
}

const struct cli_cmd cli_cmd_fsck = {
	.name = "fsck",
	.run = run,
	.usage = "fsck [-n] [--repair] [-v] POOL",
	.summary = "check every invariant of a pool and report each problem",
	.help = "  -n, --no-modify   check only (the default); the pool is not changed\n"
		"  -y, --repair      mend what can be mended safely\n"
		"  -v, --verbose     report progress and details too\n"
		"\nOne line per problem, then a summary. Exit status: 0 clean (or everything\n"
		"found was repaired), 1 problems remain, 8 the pool could not be checked.\n",
};
