/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crashx: the crash-state explorer (docs/testing.md, "Power failure").
 *
 *   model.c     replays a persistence trace: the bytes the program sees,
 *               the bytes that are durable, the stores still in flight,
 *               and the crash images a fence allows
 *   oracle.c    a pool's logical state (names, inodes, extents, data) and
 *               the rule an image must meet: the state before or after
 *               the operation, nothing in between
 *   workload.c  the setup, the operations, seq-1 and seq-2 sequences
 *   check.c     one crash image: recover, fsck, oracle, use; and crashes
 *               during its recovery
 *   main.c      options, the run, forked checkers, the report
 */
#ifndef CRASHX_H
#define CRASHX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daxlease/daxlease.h"

#define CX_LINE 64u

/* ------------------------------------------------------------ options */
struct cx_opts {
	int k;              /* in-flight items a crash image keeps, at most */
	int rk;             /* the same, for crashes during recovery */
	int rsamples;       /* images per crash point whose recovery is crashed too */
	int groups;         /* items a store into file data is cut into */
	uint64_t unit;      /* 0: both 4 KiB and 2 MiB */
	int seq;            /* 1 or 2 */
	long sample;        /* seq-2: explore this many sequences (0 = all) */
	uint64_t seed;
	const char *only;   /* run just this workload ("write_aligned,unlink") */
	const char *dir;    /* scratch directory */
	int verbose;
	int expect_violations;
	int paranoid;       /* compare the whole image after every restore */
	int max_report;     /* violations printed in full */
	int point, rpoint;  /* check only this crash point (-1: all) */
	const char *subset, *rsubset; /* ... and only this subset ("3,7", "-") */
	const char *argv0;
};
extern struct cx_opts cx_opt;

/* ------------------------------------------------------------- trace */
struct cx_ev {
	uint32_t kind;      /* enum dxl_tev_kind */
	uint64_t off, len;
	const uint8_t *data;
	const char *site, *name;
};
struct cx_trace {
	struct cx_ev *ev;
	size_t n;
	uint8_t *data;
};
/* Take the library's trace so far (copied) and clear it; 0 or -errno. */
int cx_trace_take(struct cx_trace *t);
void cx_trace_free(struct cx_trace *t);

/* ------------------------------------------------------------- model */
/* Byte ranges written in an image since it was last restored. */
struct cx_range {
	uint64_t lo, hi;
};
struct cx_dirty {
	struct cx_range *r;
	size_t n, cap;
};
/* Room for one more element in the array at *vp (capacity *cap elements
 * of size bytes, first allocation `first`): a test tool out of memory has
 * nothing sensible to do, so it aborts. */
void cx_grow(void *vp, size_t *cap, size_t size, size_t first);

struct cx_piece {          /* the part of one store that falls in one line */
	uint64_t line;
	uint16_t lo, hi;    /* bytes [lo, hi) of the line */
	const uint8_t *data;
	int32_t prev;       /* earlier in-flight piece of the same line, or -1 */
	int32_t item;
	uint8_t flushed;    /* durable at the next fence */
};
struct cx_item {           /* what a crash image keeps or loses as a whole */
	uint32_t first, n;  /* pieces [first, first+n) */
	const char *site;   /* of its store */
};
struct cx_model {
	uint64_t size;
	uint8_t *media;     /* durable bytes */
	uint8_t *cache;     /* the bytes the program sees, rebuilt from stores */
	const uint8_t *ref; /* media at the start of the current operation (for keys) */
	uint64_t data_start, data_end; /* file data (stores there are cut into groups) */
	struct cx_piece *p;
	size_t np, pcap;
	struct cx_item *it;
	size_t nit, itcap;
	int32_t *hash;      /* line -> newest in-flight piece */
	size_t hcap;
	uint64_t media_key; /* set hash of (line, bytes) where media != ref */
	struct cx_dirty mchanged; /* media lines changed since the checker last looked */
	uint64_t *keys;     /* images seen in this operation (set of keys) */
	size_t nkeys, kcap;
	uint8_t *own;       /* bytes of pieces kept in flight past their trace */
	size_t outside;     /* primitives on addresses outside the pool */
	size_t first_outside;
};

/* A crash point: the model just before a fence (or at the end of an
 * operation), with its in-flight items. */
struct cx_point {
	int end;            /* after the operation returned */
	const char *site, *name;
	int index;          /* fences counted from the start of the operation */
	int step;           /* steps (cx_ctx.step) the operation finished before it */
};
typedef int (*cx_point_fn)(struct cx_model *m, const struct cx_point *pt, void *arg);

int cx_model_init(struct cx_model *m, const uint8_t *image, uint64_t size, uint64_t data_start,
		  uint64_t data_end);
void cx_model_free(struct cx_model *m);
/* Start an operation: the present media is the reference for image keys. */
void cx_model_begin(struct cx_model *m, uint8_t *ref_buf);
/* Replay tr; fn is called at every fence (before it) and at the end.
 * Returns fn's first nonzero return, or 0. */
int cx_model_replay(struct cx_model *m, const struct cx_trace *tr, cx_point_fn fn, void *arg);

/* The trace replayed last is about to be freed: copy the bytes of the
 * pieces still in flight into the model. */
void cx_model_detach(struct cx_model *m);

/* Subsets of the in-flight items, of size 0..k, and the complements of
 * those (everything kept but 0..k items), one per distinct image. */
struct cx_subset {
	int n;
	int lost;           /* item[] are the items lost; all others are kept */
	uint32_t item[8];
	uint64_t key;       /* identity of the image it makes */
};
typedef int (*cx_subset_fn)(struct cx_model *m, const struct cx_subset *s, void *arg);
int cx_model_subsets(struct cx_model *m, const struct cx_point *pt, int k, cx_subset_fn fn,
		     void *arg);
/* Write the image of subset s over dst (which holds media everywhere
 * except the lines listed by cx_dirty_*). */
void cx_model_apply(const struct cx_model *m, const struct cx_subset *s, uint8_t *dst,
		    struct cx_dirty *d);
/* The lines the image of s differs in from media (at most), in increasing
 * order: malloc'd. */
size_t cx_model_lines(const struct cx_model *m, const struct cx_subset *s, uint64_t **lines);
/* First difference between the rebuilt cache and the real pool, or -1. */
int64_t cx_model_bypass(const struct cx_model *m, const uint8_t *real, size_t *nlines);
/* "3,7" (kept), "~3,7" (lost), "-" / "~-" (none): --subset's syntax */
void cx_subset_arg(const struct cx_subset *s, char *buf, size_t len);
/* "lost: line 0x1234 (tx.c:283) ..." for a report. */
void cx_model_describe(const struct cx_model *m, const struct cx_subset *s, char *buf,
		       size_t len);
uint64_t cx_hash_bytes(const void *p, size_t n, uint64_t seed);

void cx_dirty_add(struct cx_dirty *d, uint64_t off, uint64_t len);
/* Copy base over dst on every dirty range; forget them. */
void cx_dirty_restore(struct cx_dirty *d, uint8_t *dst, const uint8_t *base);

/* ------------------------------------------------------------ oracle */
struct cx_ext {
	uint64_t fu, phys, len, refs;
	uint32_t flags;
};
struct cx_node {
	char path[256];
	uint64_t ino, size;
	uint32_t mode, nlink;
	char *target;       /* symlink */
	uint8_t *data;      /* regular file: size bytes */
	struct cx_ext *ext;
	size_t next;
};
struct cx_snap {
	struct cx_node *n;
	size_t count;
};
/* Bytes whose old and new values may both be found: an in-place write. */
struct cx_slack {
	char path[256];     /* as the operation names it */
	uint64_t ino;       /* resolved: the inode, under any of its names */
	uint64_t off, len;
	int zero;           /* the new value of these bytes is zero */
};
/* orphan: a handle whose file may have been unlinked while open, or NULL */
int cx_snap_take(dxl_pool *pool, struct cx_snap *s, int with_data, dxl_file *orphan);
void cx_snap_free(struct cx_snap *s);
/* Does crash state c match state s, with bytes of slack ranges (resolved
 * in pre) allowed to hold pre's or post's value?  0 = yes; else a reason
 * in why. */
int cx_snap_match(const struct cx_snap *c, const struct cx_snap *s, const struct cx_snap *pre,
		  const struct cx_snap *post, const struct cx_slack *sl, int nsl, char *why,
		  size_t len);
/* The slack of an operation's range: the bytes of units mapped in place
 * (allocated, not shared) in pre. */
int cx_slack_resolve(const struct cx_snap *pre, const struct cx_slack *in, struct cx_slack *out,
		     int max, uint64_t unit);

/* ---------------------------------------------------------- workload */
struct cx_ctx {
	dxl_pool *pool;
	uint64_t unit;
	dxl_file *held;     /* an open handle kept across the operation (orphans) */
	/* An operation of several synchronous calls (map, store + persist,
	 * unmap) says where each ends: the state there is one a crash may
	 * show too.  NULL outside the explored operation. */
	void (*step)(struct cx_ctx *c);
	void *step_arg;
};
struct cx_op {
	const char *name;
	int (*run)(struct cx_ctx *c);
	/* ranges written in place, before resolution against the pre state */
	int (*slack)(const struct cx_ctx *c, struct cx_slack *sl, int max);
};
extern const struct cx_op cx_ops[];
extern const int cx_nops;
int cx_op_find(const char *name);
int cx_setup(struct cx_ctx *c);
/* A few files created and removed: the pool is still usable. 0 or -errno
 * with the step in why. */
int cx_probe(dxl_pool *pool, uint64_t unit, char *why, size_t len);

/* ------------------------------------------------------------- check */
struct cx_expect {
	const struct cx_snap *pre, *post; /* of the step the crash point is in */
	const struct cx_snap *states; /* before, after each step, after: nsteps + 2 */
	int nsteps;
	const struct cx_slack *sl; /* resolved against pre */
	int nsl;
	const struct cx_slack *raw; /* as the operation gives them */
	int nraw;
	int post_only;      /* a crash after the operation returned */
};
struct cx_stats {
	uint64_t states, violations, recov_states, points, bypass;
};
struct cx_applied {
	uint64_t line;
	uint8_t bytes[CX_LINE];
};
struct cx_checker {
	char path[512];      /* the crash image file */
	struct cx_model *base; /* whose media the image file holds (but for dirty) */
	struct cx_applied *applied; /* the lines the current image changed */
	size_t napplied, capplied;
	int printed;         /* violations printed so far */
	int nested;          /* checking a crash during recovery */
	char outer_desc[2048];
	int outer_point;
	char outer_subset[128];
	const char *op_name;
	uint8_t *img;        /* its mapping */
	uint64_t size;
	struct cx_dirty dirty;
	uint64_t unit;
	struct cx_stats st;
	FILE *out;           /* violations are printed here */
	const char *workload;
	int op_index;
};
int cx_checker_open(struct cx_checker *ck, const char *path, uint64_t size, uint64_t unit);
void cx_checker_close(struct cx_checker *ck);
/* Check the image of subset s at point pt of model m; returns 1 if it is a
 * violation (printed), 0 if fine. */
int cx_check(struct cx_checker *ck, struct cx_model *m, const struct cx_point *pt,
	     const struct cx_subset *s, const struct cx_expect *ex, int explore_recovery);

#endif
