/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease bench: side-by-side benchmarks of libdaxlease against the
 * kernel doing the same work (tmpfs system calls, raw memcpy), one JSON
 * line per figure on stdout.  See docs/bench.md.
 */
#ifndef DXL_BENCH_H
#define DXL_BENCH_H

/*
 * Entry point of `daxlease bench`.  argv[0] is "bench"; the options follow
 * (see `daxlease bench --help`).  Returns a CLI exit code: 0 when every
 * selected figure was measured (met or not: benchmarks never fail on a
 * timing), 1 when a figure could not be measured, 2 on a usage error.
 */
int dxl_bench_main(int argc, char **argv);

#endif
