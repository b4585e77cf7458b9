/* Parsers of ffmpeg's metadata=print and framecrc output. */
#define _GNU_SOURCE
#include "signals.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy a line into buf as a C string without trailing blanks; 0 when it
 * does not fit (not a line ffmpeg wrote for us). */
static int take_line(char *buf, size_t cap, const char *line, size_t len)
{
	if (len >= cap)
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	len = strlen(buf);   /* a NUL inside ends it */
	while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	return 1;
}

/* A whole number text as a finite double; 0 ok, -1 not. */
static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(d))
		return -1;
	while (*end == ' ')
		end++;
	if (*end)
		return -1;
	*out = d;
	return 0;
}

void meta_init(struct meta_parser *mp, const char *const *keys, size_t nkeys, meta_frame_cb cb, void *arg)
{
	memset(mp, 0, sizeof *mp);
	mp->keys = keys;
	mp->nkeys = nkeys < META_MAX_KEYS ? nkeys : META_MAX_KEYS;
	mp->on_frame = cb;
	mp->arg = arg;
}

static void meta_close_frame(struct meta_parser *mp)
{
	if (mp->open)
		mp->on_frame(mp->arg, &mp->cur);
	mp->open = 0;
}

static void meta_frame_line(struct meta_parser *mp, const char *buf)
{
	meta_close_frame(mp);
	const char *p = strstr(buf, "pts_time:");
	double t;
	if (!p) {
		mp->ignored++;
		return;
	}
	p += strlen("pts_time:");
	/* pts_time is the last field; anything after it is not ours. */
	char num[64];
	size_t n = strcspn(p, " \t");
	if (n == 0 || n >= sizeof num) {
		mp->ignored++;
		return;
	}
	memcpy(num, p, n);
	num[n] = '\0';
	if (parse_double(num, &t) < 0) {
		mp->ignored++;   /* NOPTS: a frame we cannot place */
		return;
	}
	memset(&mp->cur, 0, sizeof mp->cur);
	mp->cur.t = t;
	mp->open = 1;
}

void meta_line(struct meta_parser *mp, const char *line, size_t len)
{
	char buf[META_LINE_MAX + 1];
	mp->lines++;
	if (!take_line(buf, sizeof buf, line, len)) {
		mp->ignored++;
		return;
	}
	if (!strncmp(buf, "frame:", 6)) {
		meta_frame_line(mp, buf);
		return;
	}
	char *eq = strchr(buf, '=');
	if (!mp->open || !eq) {
		mp->ignored++;
		return;
	}
	*eq = '\0';
	for (size_t i = 0; i < mp->nkeys; i++) {
		if (strcmp(buf, mp->keys[i]))
			continue;
		double v;
		if (parse_double(eq + 1, &v) == 0) {
			mp->cur.v[i] = v;
			mp->cur.have |= 1u << i;
		} else {
			mp->ignored++;   /* "nan", "-inf": no value */
		}
		return;
	}
}

void meta_end(struct meta_parser *mp)
{
	meta_close_frame(mp);
}

void pkt_init(struct pkt_parser *pp, pkt_cb cb, void *arg)
{
	memset(pp, 0, sizeof *pp);
	pp->on_packet = cb;
	pp->arg = arg;
}

/* The next ", "-separated whole number; 0 ok, -1 not. */
static int next_int(const char **p, long long *out)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno == ERANGE)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == ',')
		end++;
	else if (*end)
		return -1;
	*out = v;
	*p = end;
	return 0;
}

static void pkt_tb_line(struct pkt_parser *pp, const char *buf)
{
	int stream;
	long num, den;
	char tail;
	if (sscanf(buf, "#tb %d: %ld/%ld%c", &stream, &num, &den, &tail) != 3 || stream != 0 ||
	    num <= 0 || den <= 0) {
		pp->ignored++;
		return;
	}
	pp->tb = (double)num / (double)den;
}

void pkt_line(struct pkt_parser *pp, const char *line, size_t len)
{
	char buf[META_LINE_MAX + 1];
	pp->lines++;
	if (!take_line(buf, sizeof buf, line, len)) {
		pp->ignored++;
		return;
	}
	if (buf[0] == '#') {
		if (!strncmp(buf, "#tb ", 4))
			pkt_tb_line(pp, buf);
		return;
	}
	const char *p = buf;
	long long stream, dts, pts, duration, size;
	if (next_int(&p, &stream) < 0 || next_int(&p, &dts) < 0 || next_int(&p, &pts) < 0 ||
	    next_int(&p, &duration) < 0 || next_int(&p, &size) < 0 || stream != 0 || size < 0 ||
	    size > (1LL << 40) || pp->tb <= 0) {
		pp->ignored++;
		return;
	}
	if (pts == INT64_MIN)   /* no pts: the decode time is the best we have */
		pts = dts;
	if (pts == INT64_MIN) {
		pp->ignored++;
		return;
	}
	double t = (double)pts * pp->tb;
	if (!isfinite(t) || fabs(t) > 1e9) {
		pp->ignored++;
		return;
	}
	int key = 1;
	const char *f = strstr(p, "F=0x");
	if (f)
		key = (int)(strtol(f + 4, NULL, 16) & 1);
	pp->on_packet(pp->arg, t, (long)size, key);
}
