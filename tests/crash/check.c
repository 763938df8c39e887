/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One crash image: write it into the checker's pool file, open the pool
 * (recovery runs), compare the state with the oracle, fsck, and use the
 * pool a little.  For a sample of images, the recovery itself is traced
 * and crashed at each of its fences, and every image of those crashes is
 * checked the same way.
 *
 * The image file is restored between images from the model's media by
 * the ranges that changed: the stores applied for the image and the
 * stores the checked code made (traced too).  --paranoid compares the
 * whole file after each restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crashx.h"
#include "pmem/trace.h"

int cx_checker_open(struct cx_checker *ck, const char *path, uint64_t size, uint64_t unit)
{
	int fd;

	memset(ck, 0, sizeof(*ck));
	snprintf(ck->path, sizeof(ck->path), "%s", path);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -errno;
	}
	ck->img = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (ck->img == MAP_FAILED) {
		ck->img = NULL;
		return -errno;
	}
	ck->size = size;
	ck->unit = unit;
	ck->out = stdout;
	return 0;
}

void cx_checker_close(struct cx_checker *ck)
{
	if (ck->img)
		munmap(ck->img, (size_t)ck->size);
	unlink(ck->path);
	free(ck->dirty.r);
	free(ck->applied);
	memset(ck, 0, sizeof(*ck));
}

/* Make the image file hold m's media. */
static void restore(struct cx_checker *ck, struct cx_model *m)
{
	if (ck->base != m) {
		memcpy(ck->img, m->media, (size_t)ck->size);
		ck->dirty.n = 0;
		m->mchanged.n = 0;
		ck->base = m;
	} else {
		for (size_t i = 0; i < m->mchanged.n; i++)
			cx_dirty_add(&ck->dirty, m->mchanged.r[i].lo, m->mchanged.r[i].hi - m->mchanged.r[i].lo);
		m->mchanged.n = 0;
		cx_dirty_restore(&ck->dirty, ck->img, m->media);
	}
	if (cx_opt.paranoid && memcmp(ck->img, m->media, (size_t)ck->size)) {
		uint64_t o = 0;
		while (ck->img[o] == m->media[o])
			o++;
		fprintf(stderr, "crashx: the image was not restored at offset %" PRIu64
				" (a store the trace did not see)\n", o);
		exit(2);
	}
}

static void add_stores(struct cx_dirty *d, const struct cx_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].kind == DXL_TEV_STORE)
			cx_dirty_add(d, t->ev[i].off, t->ev[i].len);
}

struct fsck_msgs {
	char buf[512];
	int n;
};

static void fsck_report(void *arg, const char *msg)
{
	struct fsck_msgs *f = arg;
	if (f->n++ == 0)
		snprintf(f->buf, sizeof(f->buf), "%s", msg);
}

static int cmp_applied(const void *key, const void *elem)
{
	uint64_t line = *(const uint64_t *)key, l = ((const struct cx_applied *)elem)->line;
	return line < l ? -1 : line > l;
}

/* Does the recovery traced in t write a byte the image did not hold?
 * (The image is media but for the applied lines, which are in order.) */
static int recovery_changed(const struct cx_checker *ck, const struct cx_model *m,
			    const struct cx_trace *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct cx_ev *e = &t->ev[i];
		if (e->kind != DXL_TEV_STORE)
			continue;
		for (uint64_t at = e->off; at < e->off + e->len;) {
			uint64_t line = at / CX_LINE, n = (line + 1) * CX_LINE - at;
			const struct cx_applied *a =
				ck->napplied ? bsearch(&line, ck->applied, ck->napplied,
						       sizeof(*ck->applied), cmp_applied)
					     : NULL;
			const uint8_t *was = a ? a->bytes + at % CX_LINE : m->media + at;
			if (n > e->off + e->len - at)
				n = e->off + e->len - at;
			if (memcmp(was, e->data + (at - e->off), n))
				return 1;
			at += n;
		}
	}
	return 0;
}

static void describe_point(const struct cx_point *pt, char *buf, size_t len)
{
	if (pt->end)
		snprintf(buf, len, "crash point %d: after the operation returned", pt->index);
	else
		snprintf(buf, len, "crash point %d: fence%s%s%s at %s", pt->index,
			 pt->name ? " \"" : "", pt->name ? pt->name : "", pt->name ? "\"" : "",
			 pt->site ? pt->site : "?");
}

void cx_subset_arg(const struct cx_subset *s, char *buf, size_t len)
{
	size_t used = 0;
	if (s->lost)
		used = (size_t)snprintf(buf, len, "~");
	if (s->n == 0)
		snprintf(buf + used, len - used, "-");
	for (int k = 0; k < s->n && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u", k ? "," : "", s->item[k]);
}

static void report(struct cx_checker *ck, struct cx_model *m, const struct cx_point *pt,
		   const struct cx_subset *s, const char *why)
{
	char desc[2048], p[256], sub[128];

	ck->st.violations++;
	if (ck->printed >= cx_opt.max_report)
		return;
	ck->printed++;
	describe_point(pt, p, sizeof(p));
	cx_model_describe(m, s, desc, sizeof(desc));
	cx_subset_arg(s, sub, sizeof(sub));
	fprintf(ck->out, "VIOLATION: workload %s (unit %" PRIu64 "), operation %d (%s)\n",
		ck->workload, ck->unit, ck->op_index + 1, ck->op_name);
	if (ck->nested) {
		fprintf(ck->out, "  during recovery of: %s\n", ck->outer_desc);
		fprintf(ck->out, "  recovery %s\n  recovery image: %s\n", p, desc);
	} else {
		fprintf(ck->out, "  %s\n  image: %s\n", p, desc);
	}
	fprintf(ck->out, "  found: %s\n", why);
	if (ck->nested)
		fprintf(ck->out, "  reproduce: %s --unit %" PRIu64 " --only %s --point %d --subset %s "
				 "--rpoint %d --rsubset %s\n",
			cx_opt.argv0, ck->unit, ck->workload, ck->outer_point, ck->outer_subset,
			pt->index, sub);
	else
		fprintf(ck->out, "  reproduce: %s --unit %" PRIu64 " --only %s --point %d --subset %s\n",
			cx_opt.argv0, ck->unit, ck->workload, pt->index, sub);
	fflush(ck->out);
}

struct nested {
	struct cx_checker *ck;
	const struct cx_expect *ex;
	const struct cx_point *pt;
};

static int nested_subset(struct cx_model *m, const struct cx_subset *s, void *arg)
{
	struct nested *n = arg;
	char sub[128];
	cx_subset_arg(s, sub, sizeof(sub));
	if (cx_opt.rsubset && strcmp(cx_opt.rsubset, sub))
		return 0;
	cx_check(n->ck, m, n->pt, s, n->ex, 0);
	return 0;
}

static int nested_point(struct cx_model *m, const struct cx_point *pt, void *arg)
{
	struct nested *n = arg;
	if (cx_opt.rpoint >= 0 && pt->index != cx_opt.rpoint)
		return 0;
	n->pt = pt;
	return cx_model_subsets(m, pt, cx_opt.rk, nested_subset, n);
}

/* Crash the recovery of the image just checked (its trace in rt). */
static void explore_recovery(struct cx_checker *ck, struct cx_model *m, const struct cx_point *pt,
			     const struct cx_subset *s, const struct cx_expect *ex,
			     const struct cx_trace *rt)
{
	struct cx_model nm;
	uint8_t *ref = malloc((size_t)ck->size);
	char p[256], desc[1536];

	if (!ref || cx_model_init(&nm, m->media, ck->size, m->data_start, m->data_end)) {
		free(ref);
		return;
	}
	for (size_t a = 0; a < ck->napplied; a++)
		memcpy(nm.media + ck->applied[a].line * CX_LINE, ck->applied[a].bytes, CX_LINE);
	memcpy(nm.cache, nm.media, (size_t)ck->size);
	cx_model_begin(&nm, ref);
	describe_point(pt, p, sizeof(p));
	cx_model_describe(m, s, desc, sizeof(desc));
	snprintf(ck->outer_desc, sizeof(ck->outer_desc), "%s; image: %s", p, desc);
	ck->outer_point = pt->index;
	cx_subset_arg(s, ck->outer_subset, sizeof(ck->outer_subset));
	ck->nested = 1;
	struct nested n = { .ck = ck, .ex = ex };
	cx_model_replay(&nm, rt, nested_point, &n);
	ck->nested = 0;
	ck->base = NULL; /* the image file holds nm's bytes now */
	cx_model_free(&nm);
	free(ref);
}

int cx_check(struct cx_checker *ck, struct cx_model *m, const struct cx_point *pt,
	     const struct cx_subset *s, const struct cx_expect *ex, int explore)
{
	char why[2048] = "", w1[900] = "", w2[900] = "";
	struct cx_trace rt = { 0 }, t2 = { 0 };
	struct cx_snap c = { 0 };
	dxl_pool *pool = NULL;
	int bad = 0, ret = 0, rc;

	restore(ck, m);
	ck->napplied = 0;
	cx_model_apply(m, s, ck->img, &ck->dirty);
	/* remember the image's own lines: recovery_changed and the nested
	 * model need the bytes before recovery wrote over them */
	uint64_t *lines;
	size_t nl = cx_model_lines(m, s, &lines);
	if (nl > ck->capplied) {
		void *p = realloc(ck->applied, nl * sizeof(*ck->applied));
		if (!p)
			abort();
		ck->applied = p;
		ck->capplied = nl;
	}
	for (size_t i = 0; i < nl; i++) {
		ck->applied[i].line = lines[i];
		memcpy(ck->applied[i].bytes, ck->img + lines[i] * CX_LINE, CX_LINE);
	}
	ck->napplied = nl;
	free(lines);
	if (ck->nested)
		ck->st.recov_states++;
	else
		ck->st.states++;

	dxl_trace_arm(ck->path);
	rc = dxl_pool_open(ck->path, 0, &pool);
	if (cx_trace_take(&rt))
		memset(&rt, 0, sizeof(rt));
	if (rc) {
		bad = 1;
		snprintf(why, sizeof(why), "the pool does not open: %s", dxl_errmsg());
		goto done;
	}
	rc = cx_snap_take(pool, &c, 1, NULL);
	if (rc) {
		bad = 1;
		snprintf(why, sizeof(why), "reading the recovered tree failed: %s (%s)",
			 strerror(-rc), dxl_errmsg());
	} else if (ex->post_only) {
		if (cx_snap_match(&c, ex->post, ex->pre, ex->post, ex->sl, ex->nsl, w2, sizeof(w2))) {
			bad = 1;
			snprintf(why, sizeof(why), "not the state after the operation: %s", w2);
		}
	} else if (cx_snap_match(&c, ex->pre, ex->pre, ex->post, ex->sl, ex->nsl, w1, sizeof(w1)) &&
		   cx_snap_match(&c, ex->post, ex->pre, ex->post, ex->sl, ex->nsl, w2, sizeof(w2))) {
		bad = 1;
		snprintf(why, sizeof(why), "neither the state before (%s) nor after (%s)", w1, w2);
	}
	cx_snap_free(&c);
	dxl_pool_close(pool);
	if (!bad) {
		struct fsck_msgs fm = { .n = 0 };
		struct dxl_fsck_result res = { 0 };
		rc = dxl_fsck(ck->path, 0, fsck_report, &fm, &res);
		if (rc) {
			bad = 1;
			snprintf(why, sizeof(why), "fsck: %" PRIu64 " problem(s), first: %s (%s)",
				 res.problems, fm.n ? fm.buf : "-", dxl_errmsg());
		}
	}
	if (!bad) {
		rc = dxl_pool_open(ck->path, 0, &pool);
		if (rc) {
			bad = 1;
			snprintf(why, sizeof(why), "the pool does not open a second time: %s",
				 dxl_errmsg());
		} else {
			if (cx_probe(pool, ck->unit, why, sizeof(why)))
				bad = 1;
			dxl_pool_close(pool);
		}
	}
done:
	if (cx_trace_take(&t2))
		memset(&t2, 0, sizeof(t2));
	dxl_trace_disarm();
	add_stores(&ck->dirty, &rt);
	add_stores(&ck->dirty, &t2);
	if (bad) {
		report(ck, m, pt, s, why);
		ret = 1;
	} else if (explore && !ck->nested && recovery_changed(ck, m, &rt)) {
		explore_recovery(ck, m, pt, s, ex, &rt);
		ret = 2;
	}
	cx_trace_free(&rt);
	cx_trace_free(&t2);
	return ret;
}
