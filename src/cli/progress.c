/* SPDX-License-Identifier: BSD-3-Clause */
/* A one-line progress meter for put/get/cp, shown only on a terminal. */
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void show(struct cli_progress *p)
{
	char a[32], b[32];
	unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 100;
	fprintf(stderr, "\r  %s / %s  %3u%%  ", cli_fmt_bytes(a, sizeof(a), p->done),
		cli_fmt_bytes(b, sizeof(b), p->total), pct);
	p->shown = true;
}

void cli_progress_start(struct cli_progress *p, uint64_t total)
{
	p->total = total;
	p->done = 0;
	p->shown = false;
	p->enabled = isatty(STDERR_FILENO) == 1;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
}

void cli_progress_add(struct cli_progress *p, uint64_t bytes)
{
	p->done += bytes;
	if (!p->enabled)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Ten updates a second are plenty; more would slow a fast copy down. */
	long long ms = (now.tv_sec - p->last.tv_sec) * 1000LL +
		       (now.tv_nsec - p->last.tv_nsec) / 1000000;
	if (ms < 100)
		return;
	p->last = now;
	show(p);
}

void cli_progress_end(struct cli_progress *p)
{
	if (!p->enabled || !p->shown)
		return;
	show(p);
	fputc('\n', stderr);
}
