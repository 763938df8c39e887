/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The codecs of the tree records: directory entries, extents and refcount
 * records (format.h says what each decoder checks, and why there is one).
 * Pure functions over a record's bytes, its key and the pool's geometry.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "format.h"

static int fault(struct dxl_rec_err *err, enum dxl_rec_fault f, const char *why)
{
	if (err) {
		err->fault = f;
		err->why = why;
	}
	return -EUCLEAN;
}

static int ok(struct dxl_rec_err *err)
{
	if (err) {
		err->fault = DXL_REC_OK;
		err->why = NULL;
	}
	return 0;
}

/* A value of a fixed size: exactly size bytes, copied to out (zeros when
 * the size is wrong). */
static int take_fixed(void *out, size_t size, const void *val, size_t vlen,
		      struct dxl_rec_err *err)
{
	memset(out, 0, size);
	if (vlen != size)
		return fault(err, DXL_REC_SIZE, "has the wrong size");
	memcpy(out, val, size);
	return 0;
}

/* ------------------------------------------------------------ directory entries */

int dxl_dirent_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > DXL_NAME_MAX || (len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

uint32_t dxl_dirent_encode(void *buf, const struct dxl_dent *d)
{
	struct dxl_dirent_rec hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.ino = d->ino;
	hdr.type = (uint8_t)d->type;
	hdr.name_len = (uint8_t)d->name_len;
	memcpy(buf, &hdr, DXL_DIRENT_HDR);
	memcpy((char *)buf + DXL_DIRENT_HDR, d->name, d->name_len);
	return (uint32_t)(DXL_DIRENT_HDR + d->name_len);
}

int dxl_dirent_decode(const void *val, size_t vlen, struct dxl_dent *d, struct dxl_rec_err *err)
{
	struct dxl_dirent_rec hdr;

	memset(d, 0, sizeof(*d));
	if (vlen < DXL_DIRENT_HDR)
		return fault(err, DXL_REC_SIZE, "is too short to be an entry");
	memcpy(&hdr, val, DXL_DIRENT_HDR);
	d->ino = hdr.ino;
	d->type = hdr.type;
	d->name_len = hdr.name_len;
	d->name = (const char *)val + DXL_DIRENT_HDR;
	if (hdr.name_len == 0)
		return fault(err, DXL_REC_NAME, "has an empty name");
	if (vlen < DXL_DIRENT_HDR + hdr.name_len)
		return fault(err, DXL_REC_SIZE, "is shorter than its name length says");
	if (vlen > DXL_DIRENT_HDR + hdr.name_len)
		return fault(err, DXL_REC_SIZE, "has bytes after its name");
	if (!dxl_dirent_name_ok(d->name, d->name_len))
		return fault(err, DXL_REC_NAME, "has a name with '/' or NUL, or named . or ..");
	if (hdr.ino == 0)
		return fault(err, DXL_REC_INO, "points at inode 0");
	if (!dxl_fmt_dt_ok(hdr.type))
		return fault(err, DXL_REC_TYPE, "has an unknown type");
	return ok(err);
}

/* ------------------------------------------------------------ extents */

uint32_t dxl_extent_encode(void *buf, const struct dxl_extent *e)
{
	memcpy(buf, e, DXL_EXTENT_VLEN);
	return DXL_EXTENT_VLEN;
}

int dxl_extent_decode(const struct dxl_sb *sb, uint64_t key, const void *val, size_t vlen,
		      struct dxl_extent *e, struct dxl_rec_err *err)
{
	/* the largest file unit whose byte offset fits in 64 bits */
	uint64_t umax = sb->unit_shift < 64 ? (~0ull >> sb->unit_shift) : 0;

	if (take_fixed(e, DXL_EXTENT_VLEN, val, vlen, err))
		return -EUCLEAN;
	if (e->len == 0)
		return fault(err, DXL_REC_LEN, "has zero length");
	if (e->phys >= sb->data_units || e->len > sb->data_units - e->phys)
		return fault(err, DXL_REC_RANGE, "maps units past the end of the data region");
	if (key > umax || e->len > umax - key)
		return fault(err, DXL_REC_RANGE, "ends past the largest file offset");
	if (e->flags & ~DXL_EXT_KNOWN)
		return fault(err, DXL_REC_FLAGS, "has unknown flags");
	return ok(err);
}

/* ------------------------------------------------------------ refcount records */

uint32_t dxl_refc_encode(void *buf, const struct dxl_refc *r)
{
	memcpy(buf, r, DXL_REFC_VLEN);
	return DXL_REFC_VLEN;
}

int dxl_refc_decode(const struct dxl_sb *sb, uint64_t key, const void *val, size_t vlen,
		    struct dxl_refc *r, struct dxl_rec_err *err)
{
	if (take_fixed(r, DXL_REFC_VLEN, val, vlen, err))
		return -EUCLEAN;
	if (r->len == 0)
		return fault(err, DXL_REC_LEN, "has zero length");
	if (key >= sb->data_units || r->len > sb->data_units - key)
		return fault(err, DXL_REC_RANGE, "covers units past the end of the data region");
	if (r->count < 2)
		return fault(err, DXL_REC_COUNT, "has a count below 2");
	return ok(err);
}
