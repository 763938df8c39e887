/* SPDX-License-Identifier: BSD-3-Clause */
#include "daxlease/daxlease.h"

/* The version this library was built as; a program compares it with the
 * DXL_VERSION_STRING it was compiled against to see which library it got. */
const char *dxl_version(void)
{
	return DXL_VERSION_STRING;
}
