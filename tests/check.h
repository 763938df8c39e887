/* SPDX-License-Identifier: BSD-3-Clause */
/* Minimal test assertions: print where and why, then exit non-zero. */
#ifndef DXL_TEST_CHECK_H
#define DXL_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxlease/daxlease.h"

/* Built with ThreadSanitizer (1) or not (0): some tests skip what TSan's
 * runtime cannot take part in. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n",   \
				__FILE__, __LINE__, #cond, dxl_errmsg());               \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

/* Expect a call returning 0 / a negative errno to return want. */
#define CHECK_RC(call, want)                                                            \
	do {                                                                            \
		long long rc_ = (long long)(call);                                      \
		if (rc_ != (long long)(want)) {                                         \
			fprintf(stderr, "%s:%d: %s returned %lld, expected %lld (%s)\n",\
				__FILE__, __LINE__, #call, rc_, (long long)(want),      \
				dxl_errmsg());                                          \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

#define CHECK_OK(call) CHECK_RC(call, 0)

#endif
