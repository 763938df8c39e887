/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease bench: the benchmark program lives in bench/; this only forwards. */
#include "cli.h"

#if __has_include("bench.h")
#include "bench.h"
#define HAVE_BENCH 1
#else
#define HAVE_BENCH 0
#endif

static int run(int argc, char **argv)
{
#if HAVE_BENCH
	return dxl_bench_main(argc, argv);
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "daxlease: bench: this build has no benchmarks (bench/ is missing)\n");
	return CLI_FAIL;
#endif
}

const struct cli_cmd cli_cmd_bench = {
	.name = "bench",
	.run = run,
	.usage = "bench [OPTIONS]",
	.summary = "run the benchmarks (one JSON line per figure)",
	.own_help = HAVE_BENCH,
	.help = "Options are the benchmark program's own: see 'daxlease bench' in docs/cli.md.\n",
};
