/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io commands for layout leases, pins and break events: lease, unlease,
 * pin, unpin, wait-break, events, sleep. With these a lease holder and a
 * breaker can be scripted from two shells.
 *
 * Every event the library dispatches to this process goes to one callback
 * (record_event) that only copies it into io_ctx; the commands print and act
 * on what was recorded once dispatch has returned.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "io.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void io_record_event(dxl_lease *lease, const struct dxl_event *ev, void *arg)
{
	struct io_ctx *ctx = arg;
	(void)lease;
	if (ctx->nevents == IO_MAX_EVENTS) {
		ctx->lost_events++;
		return;
	}
	struct dxl_event *e = &ctx->events[ctx->nevents++];
	*e = *ev;
	e->lease = NULL; /* may be released before we look at it again */
}

void io_events_init(struct io_ctx *ctx)
{
	dxl_event_set_default(ctx->pool, io_record_event, ctx);
}

/*
 * The stable forms (docs/cli.md):
 *   break: lease ID ino INO range START-END deadline 4.998s breaker PID
 *   revoked: lease ID ino INO range START-END
 * The deadline is the time left when the line is printed ("passed" if none).
 */
static void print_event(const struct dxl_event *ev)
{
	char range[48], left[32];
	cli_fmt_range(range, sizeof(range), ev->start, ev->end);
	switch (ev->type) {
	case DXL_EV_BREAK: {
		int64_t ms = (ev->deadline_ns - now_ns()) / 1000000;
		printf("break: lease %llu ino %llu range %s deadline %s breaker %d\n",
		       (unsigned long long)ev->lease_id, (unsigned long long)ev->ino, range,
		       ms > 0 ? cli_fmt_secs(left, sizeof(left), ms) : "passed", ev->breaker_pid);
		break;
	}
	case DXL_EV_REVOKED:
		printf("revoked: lease %llu ino %llu range %s\n", (unsigned long long)ev->lease_id,
		       (unsigned long long)ev->ino, range);
		break;
	default:
		printf("event: type %u lease %llu ino %llu range %s\n", ev->type,
		       (unsigned long long)ev->lease_id, (unsigned long long)ev->ino, range);
		break;
	}
}

/* Print and forget the recorded events; returns how many there were. */
static int flush_events(struct io_ctx *ctx)
{
	int n = ctx->nevents;
	for (int i = 0; i < n; i++)
		print_event(&ctx->events[i]);
	if (ctx->lost_events)
		printf("lost: %lu events (more than %d queued)\n", ctx->lost_events, IO_MAX_EVENTS);
	ctx->nevents = 0;
	ctx->lost_events = 0;
	return n;
}

/* "name: <dxl_errmsg()>" on stderr, after what stdout has so far. */
static void lib_msg(const char *name, int rc)
{
	const char *msg = dxl_errmsg();
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", name, msg && msg[0] ? msg : strerror(rc < 0 ? -rc : EIO));
}

static uint64_t lease_id_of(dxl_lease *l)
{
	return l ? dxl_lease_id(l) : 0;
}

static uint64_t map_lease_id(const struct io_ctx *ctx)
{
	return ctx->map && ctx->map_direct ? lease_id_of(dxl_mapping_lease(ctx->map)) : 0;
}

/* ---------------------------------------------------------------- lease */

int io_lease(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	if (io_off_len(a, &off, &len))
		return CLI_USAGE;
	if (ctx->lease) {
		fprintf(stderr, "%s: lease %llu is already held (unlease first)\n", a->name,
			(unsigned long long)dxl_lease_id(ctx->lease));
		return CLI_FAIL;
	}
	bool refuse = a->set['u'];
	int rc = dxl_lease_take(ctx->file, off, len, refuse ? DXL_LEASE_REFUSE : 0,
				io_record_event, ctx, &ctx->lease);
	if (rc < 0) {
		ctx->lease = NULL;
		return io_lib_fail(a, rc);
	}
	char range[48];
	ctx->lease_refuse = refuse;
	ctx->lease_start = off;
	ctx->lease_end = len ? off + len : UINT64_MAX;
	printf("took %slease %llu range %s\n", refuse ? "refusing " : "",
	       (unsigned long long)dxl_lease_id(ctx->lease),
	       cli_fmt_range(range, sizeof(range), off, len ? off + len : UINT64_MAX));
	return CLI_OK;
}

static int release_lease(struct io_ctx *ctx, const char *name)
{
	uint64_t id = dxl_lease_id(ctx->lease);
	int rc = dxl_lease_release(ctx->lease);
	if (rc < 0) {
		lib_msg(name, rc);
		return CLI_FAIL;
	}
	ctx->lease = NULL;
	printf("released lease %llu\n", (unsigned long long)id);
	return CLI_OK;
}

int io_unlease(struct io_ctx *ctx, const struct io_args *a)
{
	if (!ctx->lease) {
		fprintf(stderr, "%s: no lease held\n", a->name);
		return CLI_FAIL;
	}
	return release_lease(ctx, a->name);
}

/* ---------------------------------------------------------------- pins */

int io_pin(struct io_ctx *ctx, const struct io_args *a)
{
	uint64_t off, len;
	if (io_off_len(a, &off, &len))
		return CLI_USAGE;
	if (ctx->npins == IO_MAX_PINS) {
		fprintf(stderr, "%s: %d pins held already (unpin first)\n", a->name, IO_MAX_PINS);
		return CLI_FAIL;
	}
	bool longterm = a->set['l'];
	/* Without a lease a long-term pin is the library's to refuse, clearly. */
	dxl_lease *lease = longterm ? ctx->lease : NULL;
	dxl_pin *pin;
	int rc = dxl_pin_range(ctx->file, off, len, longterm ? DXL_PIN_LONGTERM : 0, lease, &pin);
	if (rc < 0)
		return io_lib_fail(a, rc);
	struct dxl_seg seg[1];
	int nseg = dxl_pin_segments(pin, seg, 1);
	struct io_pin *p = &ctx->pins[ctx->npins++];
	p->pin = pin;
	p->lease_id = lease_id_of(lease);
	p->off = off;
	p->len = len;
	char who[48];
	if (longterm)
		snprintf(who, sizeof(who), "lease %llu", (unsigned long long)p->lease_id);
	else
		snprintf(who, sizeof(who), "transient");
	printf("pinned %llu bytes at offset %llu (%s, %d segment%s)\n", (unsigned long long)len,
	       (unsigned long long)off, who, nseg, nseg == 1 ? "" : "s");
	return CLI_OK;
}

/* Unpin the pins taken under lease_id (every pin if all); returns CLI_OK or
 * CLI_FAIL after printing "name: message" (the failed pins stay listed). */
static int unpin_some(struct io_ctx *ctx, const char *name, bool all, uint64_t lease_id,
		      int *count)
{
	int status = CLI_OK, kept = 0;
	*count = 0;
	for (int i = 0; i < ctx->npins; i++) {
		struct io_pin *p = &ctx->pins[i];
		if (!all && p->lease_id != lease_id) {
			ctx->pins[kept++] = *p;
			continue;
		}
		int rc = dxl_unpin(p->pin);
		if (rc < 0) {
			lib_msg(name, rc);
			status = CLI_FAIL;
			ctx->pins[kept++] = *p;
			continue;
		}
		(*count)++;
	}
	ctx->npins = kept;
	return status;
}

static void print_unpinned(int n)
{
	printf("unpinned %d pin%s\n", n, n == 1 ? "" : "s");
}

int io_unpin(struct io_ctx *ctx, const struct io_args *a)
{
	int n;
	int status = unpin_some(ctx, a->name, true, 0, &n);
	print_unpinned(n);
	return status;
}

/* ---------------------------------------------------------------- breaks */

/*
 * Give lease id back, as a cooperative holder does: unpin what was pinned
 * under it, unmap the DIRECT mapping that owns it, or release it.
 */
static int surrender(struct io_ctx *ctx, const char *name, uint64_t id)
{
	int n, status = unpin_some(ctx, name, false, id, &n);
	if (n)
		print_unpinned(n);
	if (status != CLI_OK)
		return status;
	if (id && map_lease_id(ctx) == id) {
		int rc = dxl_munmap(ctx->map);
		if (rc < 0) {
			lib_msg(name, rc);
			return CLI_FAIL;
		}
		ctx->map = NULL;
		printf("unmapped\n");
		printf("released lease %llu\n", (unsigned long long)id);
	} else if (id && lease_id_of(ctx->lease) == id) {
		return release_lease(ctx, name);
	}
	return CLI_OK;
}

static bool is_break(const struct dxl_event *ev)
{
	return ev->type == DXL_EV_BREAK || ev->type == DXL_EV_REVOKED;
}

/* Ranges [start, end) overlap. */
static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

/* What one layout change broke so far, as seen by wait-break. */
struct broken {
	uint64_t ino, start, end; /* the first break's range */
	int64_t until;            /* when to stop waiting for the rest */
	uint64_t done[IO_MAX_EVENTS];
	int ndone;
	bool seen;
};

static bool is_done(const struct broken *b, uint64_t id)
{
	for (int i = 0; i < b->ndone; i++)
		if (b->done[i] == id)
			return true;
	return false;
}

/*
 * A lease this process still holds that the same change must break too: its
 * event is on the way (the breaker notifies every overlapping lease, maybe
 * one after another), so wait-break waits for it rather than return with
 * the change still blocked.  Refusing leases are never broken.
 */
static bool more_to_come(const struct io_ctx *ctx, const struct broken *b, uint64_t file_ino)
{
	if (!b->seen || b->ino != file_ino)
		return false;
	uint64_t id = lease_id_of(ctx->lease);
	if (id && !ctx->lease_refuse && !is_done(b, id) &&
	    overlaps(ctx->lease_start, ctx->lease_end, b->start, b->end))
		return true;
	id = map_lease_id(ctx);
	return id && !is_done(b, id) &&
	       overlaps(ctx->map_off, ctx->map_off + dxl_mapping_len(ctx->map), b->start, b->end);
}

/* Print the queued events and give back each lease they name, once. */
static int handle_queued(struct io_ctx *ctx, const char *name, struct broken *b)
{
	uint64_t ids[IO_MAX_EVENTS];
	int nids = 0;
	for (int i = 0; i < ctx->nevents; i++) {
		const struct dxl_event *ev = &ctx->events[i];
		if (!is_break(ev) || is_done(b, ev->lease_id))
			continue;
		if (!b->seen) {
			b->seen = true;
			b->ino = ev->ino;
			b->start = ev->start;
			b->end = ev->end;
			/* The rest arrive before this break's deadline, or are moot. */
			b->until = ev->type == DXL_EV_BREAK ? ev->deadline_ns : now_ns() + 1000000000;
		}
		if (b->ndone < IO_MAX_EVENTS)
			b->done[b->ndone++] = ev->lease_id;
		ids[nids++] = ev->lease_id;
	}
	flush_events(ctx);
	int status = CLI_OK;
	for (int j = 0; j < nids && status == CLI_OK; j++)
		status = surrender(ctx, name, ids[j]);
	return status;
}

int io_wait_break(struct io_ctx *ctx, const struct io_args *a)
{
	int64_t until = -1;
	if (a->set['t']) {
		uint64_t ms;
		if (cli_parse_seconds_ms(a->optarg['t'], &ms) < 0 || ms > INT32_MAX) {
			fprintf(stderr, "%s: bad timeout '%s'\n", a->name, a->optarg['t']);
			return CLI_USAGE;
		}
		until = now_ns() + (int64_t)ms * 1000000;
	}
	if (!ctx->lease && !map_lease_id(ctx) && ctx->nevents == 0) {
		fprintf(stderr, "%s: no lease held ('lease' or 'mmap -d' first)\n", a->name);
		return CLI_FAIL;
	}
	struct dxl_stat st;
	int rc = dxl_fstat(ctx->file, &st);
	if (rc < 0)
		return io_lib_fail(a, rc);
	struct broken b;
	memset(&b, 0, sizeof(b));
	for (;;) {
		int status = handle_queued(ctx, a->name, &b);
		if (status != CLI_OK)
			return status;
		if (b.seen && !more_to_come(ctx, &b, st.ino))
			return CLI_OK;
		int64_t stop = b.seen ? b.until : -1;
		if (until >= 0 && (stop < 0 || until < stop))
			stop = until;
		int timeout = -1;
		if (stop >= 0) {
			int64_t left = stop - now_ns();
			if (left <= 0) {
				if (b.seen)
					return CLI_OK; /* the rest were revoked meanwhile */
				fprintf(stderr, "%s: no break within %s\n", a->name, a->optarg['t']);
				return CLI_FAIL;
			}
			timeout = (int)((left + 999999) / 1000000);
		}
		rc = dxl_event_wait(ctx->pool, timeout);
		if (rc < 0 && rc != -EINTR && rc != -ETIMEDOUT && rc != -EAGAIN)
			return io_lib_fail(a, rc);
	}
}

int io_events(struct io_ctx *ctx, const struct io_args *a)
{
	int rc = dxl_event_dispatch(ctx->pool);
	if (rc < 0 && rc != -EAGAIN && rc != -EWOULDBLOCK)
		return io_lib_fail(a, rc);
	if (flush_events(ctx) == 0)
		printf("no events\n");
	return CLI_OK;
}

int io_sleep(struct io_ctx *ctx, const struct io_args *a)
{
	(void)ctx;
	uint64_t ms;
	if (cli_parse_seconds_ms(a->argv[0], &ms) < 0) {
		fprintf(stderr, "%s: bad duration '%s' (e.g. 2, 0.3, 300ms)\n", a->name, a->argv[0]);
		return CLI_USAGE;
	}
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return CLI_OK;
}

/* ---------------------------------------------------------------- exit */

int io_teardown(struct io_ctx *ctx)
{
	int status = CLI_OK, n;
	if (ctx->map) {
		int rc = dxl_munmap(ctx->map);
		if (rc < 0) {
			lib_msg("munmap", rc);
			status = CLI_FAIL;
		}
		ctx->map = NULL;
	}
	if (unpin_some(ctx, "unpin", true, 0, &n) != CLI_OK)
		status = CLI_FAIL;
	if (ctx->lease) {
		uint64_t id = dxl_lease_id(ctx->lease);
		int rc = dxl_lease_release(ctx->lease);
		if (rc < 0) {
			const char *msg = dxl_errmsg();
			fprintf(stderr, "unlease: lease %llu: %s\n", (unsigned long long)id,
				msg && msg[0] ? msg : strerror(-rc));
			status = CLI_FAIL;
		}
		ctx->lease = NULL;
	}
	return status;
}
