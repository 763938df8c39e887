/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extensible structs, as openat2(2) and clone3(2) pass them: a call that
 * takes or fills a public struct also takes its size, which the public
 * header's macro supplies (sizeof at the caller's compile time), so a
 * program built against an older header (a smaller struct) and one built
 * against a newer (a larger) both work with this library.
 */
#include <string.h>

#include "util.h"

/* The first version's size is the smallest a caller may have. */
int dxl_struct_size_ok(size_t size, size_t first, const char *what)
{
	if (size >= first)
		return 0;
	return dxl_err(EINVAL, "%s: a struct of %zu bytes, smaller than the first version's %zu", what,
		       size, first);
}

int dxl_struct_in(void *dst, size_t dst_size, const void *src, size_t src_size, size_t first,
		  const char *what)
{
	const unsigned char *s = src;
	int rc = dxl_struct_size_ok(src_size, first, what);

	if (rc)
		return rc;
	/* fields of a newer header this library does not know must be unset */
	for (size_t i = dst_size; i < src_size; i++)
		if (s[i])
			return dxl_err(E2BIG, "%s: byte %zu is set, a field this library (%zu bytes) does not know",
				       what, i, dst_size);
	memset(dst, 0, dst_size);
	memcpy(dst, src, DXL_MIN(dst_size, src_size));
	return 0;
}

void dxl_struct_out(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	memcpy(dst, src, DXL_MIN(dst_size, src_size));
	if (dst_size > src_size)
		memset((unsigned char *)dst + src_size, 0, dst_size - src_size);
}
