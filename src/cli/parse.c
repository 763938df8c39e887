/* SPDX-License-Identifier: BSD-3-Clause */
/* Number, size and duration parsing, and their human-readable forms. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

/* Digits only: strtoull would accept signs, spaces and octal. */
static int parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	uint64_t v = 0;
	const char *start = s;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (s == start)
		return -EINVAL;
	*sp = s;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	int rc = parse_digits(&s, &v);
	if (rc)
		return rc;
	unsigned shift = 0;
	switch (tolower((unsigned char)*s)) {
	case '\0': break;
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	default: return -EINVAL;
	}
	if (shift) {
		s++;
		/* "4KiB" and "4kb" are what people type too. */
		if (strcasecmp(s, "ib") == 0 || strcasecmp(s, "b") == 0)
			s += strlen(s);
	}
	if (*s)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int cli_parse_duration_ms(const char *s, uint64_t *out)
{
	uint64_t v;
	int rc = parse_digits(&s, &v);
	if (rc)
		return rc;
	uint64_t mul;
	if (*s == '\0' || strcmp(s, "s") == 0)
		mul = 1000;
	else if (strcmp(s, "ms") == 0)
		mul = 1;
	else if (strcmp(s, "m") == 0 || strcmp(s, "min") == 0)
		mul = 60000ULL;
	else if (strcmp(s, "h") == 0)
		mul = 3600000ULL;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

char *cli_fmt_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	double v = (double)n / 1024;
	size_t i = 0;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, units[i]);
	return buf;
}

char *cli_fmt_ms(char *buf, size_t len, uint64_t ms)
{
	if (ms % 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	return buf;
}

char *cli_fmt_range(char *buf, size_t len, uint64_t start, uint64_t end)
{
	if (end == UINT64_MAX)
		snprintf(buf, len, "%llu-EOF", (unsigned long long)start);
	else
		snprintf(buf, len, "%llu-%llu", (unsigned long long)start, (unsigned long long)end);
	return buf;
}

int cli_parse_seconds_ms(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t whole, frac = 0, scale = 1000;
	if (strchr(s, '.') == NULL || !isdigit((unsigned char)s[0]))
		return cli_parse_duration_ms(s, out);
	int rc = parse_digits(&p, &whole);
	if (rc)
		return rc;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return -EINVAL;
	/* Milliseconds: digits past the third are dropped. */
	for (; isdigit((unsigned char)*p); p++) {
		if (scale > 1) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (*p == 's')
		p++;
	if (*p)
		return -EINVAL;
	if (whole > (UINT64_MAX - frac) / 1000)
		return -ERANGE;
	*out = whole * 1000 + frac;
	return 0;
}

char *cli_fmt_secs(char *buf, size_t len, int64_t ms)
{
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	snprintf(buf, len, "%s%llu.%03llus", ms < 0 ? "-" : "", (unsigned long long)(a / 1000),
		 (unsigned long long)(a % 1000));
	return buf;
}

char *cli_fmt_mode(char *buf, uint32_t mode)
{
	char t = '?';
	switch (mode & S_IFMT) {
	case S_IFREG: t = '-'; break;
	case S_IFDIR: t = 'd'; break;
	case S_IFLNK: t = 'l'; break;
	case S_IFCHR: t = 'c'; break;
	case S_IFBLK: t = 'b'; break;
	case S_IFIFO: t = 'p'; break;
	case S_IFSOCK: t = 's'; break;
	}
	static const char rwx[] = "rwxrwxrwx";
	buf[0] = t;
	for (int i = 0; i < 9; i++) {
		buf[1 + i] = '-';
		if (mode & (0400u >> i))
			buf[1 + i] = rwx[i];
	}
	if (mode & S_ISUID)
		buf[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		buf[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[9] = (mode & S_IXOTH) ? 't' : 'T';
	buf[10] = '\0';
	return buf;
}

char *cli_fmt_time(char *buf, size_t len, const struct timespec *ts)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	char date[32], zone[8];
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "%lld.%09ld", (long long)ts->tv_sec, ts->tv_nsec);
		return buf;
	}
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%09ld %s", date, ts->tv_nsec, zone);
	return buf;
}
