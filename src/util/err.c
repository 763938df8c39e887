/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daxlease/daxlease.h"
#include "util.h"

/* Per thread, like errno: a library used from many threads must not mix
 * one caller's message into another's failure. */
static _Thread_local char errbuf[512];

int dxl_err(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -err;
}

int dxl_err_keep(int err)
{
	if (errbuf[0] == '\0')
		snprintf(errbuf, sizeof(errbuf), "%s", strerror(err));
	return -err;
}

void dxl_err_clear(void)
{
	errbuf[0] = '\0';
}

const char *dxl_errmsg(void)
{
	return errbuf;
}
