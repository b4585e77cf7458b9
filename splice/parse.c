/* What splice reads from outside: records, ffprobe's answers and the MP4
 * files ffmpeg wrote.  Each parser is a plain function over bytes or a
 * parsed record, so tests/fuzz/fuzz_splice_*.c can call it. */
#define _GNU_SOURCE
#include "splice.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_MAX 1000000L      /* more highlights than any video has */
#define SECONDS_MAX 1e7         /* about 116 days: beyond it a time is garbage */
#define KF_LINE_MAX 128         /* "pts_time,flags" lines are ~20 bytes */

static int seconds_field(json_object *rec, const char *key, double *out, int required,
			 char *err, size_t errlen)
{
	json_object *v;
	if (!json_object_object_get_ex(rec, key, &v) || json_object_is_type(v, json_type_null)) {
		*out = 0;
		if (required)
			snprintf(err, errlen, "no \"%s\"", key);
		return required ? -1 : 0;
	}
	if (rec_num(rec, key, out) < 0 || *out < 0 || *out > SECONDS_MAX) {
		snprintf(err, errlen, "\"%s\" is not a number of seconds", key);
		return -1;
	}
	return 0;
}

/* A string field: 1 and a copy in *out, 0 when absent or null, -1 when
 * something else. */
static int string_field(json_object *rec, const char *key, char **out, char *err, size_t errlen)
{
	json_object *v;
	*out = NULL;
	if (!json_object_object_get_ex(rec, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"%s\" is not a string", key);
		return -1;
	}
	*out = pc_xstrdup(json_object_get_string(v));
	return 1;
}

int parse_session(json_object *rec, struct session_info *si, char *err, size_t errlen)
{
	memset(si, 0, sizeof *si);
	if (string_field(rec, "source", &si->source, err, errlen) <= 0 || !*si->source) {
		if (!si->source)
			snprintf(err, errlen, "session record has no \"source\"");
		else
			snprintf(err, errlen, "session record has an empty \"source\"");
		session_info_free(si);
		return -1;
	}
	if (string_field(rec, "dir", &si->dir, err, errlen) < 0 ||
	    seconds_field(rec, "duration", &si->duration, 0, err, errlen) < 0) {
		session_info_free(si);
		return -1;
	}
	if (si->dir && !*si->dir) {
		free(si->dir);
		si->dir = NULL;
	}
	return 0;
}

void session_info_free(struct session_info *si)
{
	free(si->source);
	free(si->dir);
	memset(si, 0, sizeof *si);
}

int parse_audio(json_object *rec, struct chunk_req *req, char *err, size_t errlen)
{
	memset(req, 0, sizeof *req);
	req->index = -1;
	long index;
	if (rec_int(rec, "index", &index) < 0 || index < 0 || index > INDEX_MAX) {
		snprintf(err, errlen, "audio record has no valid \"index\"");
		return -1;
	}
	req->index = index;
	if (seconds_field(rec, "start", &req->start, 1, err, errlen) < 0 ||
	    seconds_field(rec, "end", &req->end, 1, err, errlen) < 0)
		goto fail;
	if (req->end <= req->start) {
		snprintf(err, errlen, "window ends (%.3f) before it starts (%.3f)", req->end, req->start);
		goto fail;
	}
	if (string_field(rec, "path", &req->speech, err, errlen) < 0 ||
	    string_field(rec, "text", &req->text, err, errlen) < 0 ||
	    seconds_field(rec, "speech_duration", &req->speech_duration, 0, err, errlen) < 0)
		goto fail;
	if (req->speech && !*req->speech) {
		free(req->speech);
		req->speech = NULL;
	}
	json_object *v;
	req->delay = -1;
	if (json_object_object_get_ex(rec, "delay", &v) && !json_object_is_type(v, json_type_null)) {
		if (seconds_field(rec, "delay", &req->delay, 0, err, errlen) < 0 || req->delay > SPLICE_DELAY_MAX) {
			snprintf(err, errlen, "\"delay\" is not a number of seconds from 0 to %g", SPLICE_DELAY_MAX);
			goto fail;
		}
	}
	return 0;
fail:
	chunk_req_free(req);
	req->index = index;   /* still names the chunk in the error */
	return -1;
}

void chunk_req_free(struct chunk_req *req)
{
	free(req->speech);
	free(req->text);
	memset(req, 0, sizeof *req);
	req->index = -1;
}

int parse_probe(const char *json, size_t len, struct media_info *mi, double *start_time,
		char *err, size_t errlen)
{
	*start_time = 0;
	if (media_parse(json, len, mi, err, errlen) < 0)
		return -1;
	/* media_parse checked it is a JSON object. */
	json_tokener *tok = json_tokener_new();
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	json_object *format;
	const char *st = NULL;
	if (json_object_object_get_ex(root, "format", &format))
		st = rec_str(format, "start_time");
	if (st) {
		char *end;
		double v = strtod(st, &end);
		if (end != st && !*end && isfinite(v) && fabs(v) < SECONDS_MAX)
			*start_time = v;
	}
	json_object_put(root);
	return 0;
}

/* One "pts_time,flags[,...]" line: 1 and the time when it is a keyframe. */
static int keyframe_line(const char *line, double *t)
{
	const char *comma = strchr(line, ',');
	if (!comma || comma[1] != 'K')
		return 0;
	char *end;
	double v = strtod(line, &end);
	if (end == line || end != comma || !isfinite(v))
		return 0;   /* "N/A": no time, no use */
	*t = v;
	return 1;
}

int parse_keyframe(const char *csv, size_t len, double want, double *kf)
{
	/* pts_time is printed to the microsecond, rounded: allow that much. */
	const double slack = 1e-6;
	int found = 0;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(csv + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (csv + i)) : len - i;
		char line[KF_LINE_MAX];
		double t;
		/* Packets come in decode order: keep the latest key one in time. */
		if (n < sizeof line) {
			memcpy(line, csv + i, n);
			line[n] = '\0';
			if (!memchr(line, '\0', n) && keyframe_line(line, &t) && t <= want + slack &&
			    (!found || t > *kf)) {
				*kf = t;
				found = 1;
			}
		}
		i += n + 1;
	}
	return found;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The box at buf[0..len): its type, where its payload starts, its size.
 * -1 when the header does not fit or the size is impossible. */
static int box_at(const unsigned char *buf, size_t len, char type[5], size_t *hdr, uint64_t *size)
{
	if (len < 8)
		return -1;
	uint64_t sz = be32(buf);
	memcpy(type, buf + 4, 4);
	type[4] = '\0';
	*hdr = 8;
	if (sz == 1) {
		if (len < 16)
			return -1;
		sz = be64(buf + 8);
		*hdr = 16;
	} else if (sz == 0) {
		sz = len;   /* to the end of the file */
	}
	if (sz < *hdr)
		return -1;
	*size = sz;
	return 0;
}

/* Find the child box named want among the boxes in buf[0..len). */
static const unsigned char *find_box(const unsigned char *buf, size_t len, const char *want,
				     size_t *payload_len, int *truncated)
{
	size_t off = 0;
	while (off < len) {
		char type[5];
		size_t hdr;
		uint64_t size;
		if (box_at(buf + off, len - off, type, &hdr, &size) < 0) {
			*truncated = 1;
			return NULL;
		}
		if (!strcmp(type, want)) {
			/* A box running past what we have is fine: we need its start. */
			*payload_len = size > len - off ? len - off - hdr : (size_t)size - hdr;
			return buf + off + hdr;
		}
		if (size > len - off) {
			*truncated = 1;
			return NULL;
		}
		off += (size_t)size;
	}
	return NULL;
}

int parse_mp4_duration(const unsigned char *buf, size_t len, double *out, char *err, size_t errlen)
{
	size_t moov_len, mvhd_len;
	int truncated = 0;
	const unsigned char *moov = find_box(buf, len, "moov", &moov_len, &truncated);
	if (!moov) {
		snprintf(err, errlen, "%s", truncated ? "no moov box in the file's head" : "no moov box");
		return -1;
	}
	const unsigned char *mvhd = find_box(moov, moov_len, "mvhd", &mvhd_len, &truncated);
	if (!mvhd) {
		snprintf(err, errlen, "no mvhd box");
		return -1;
	}
	/* version(1) flags(3), then times: 32-bit in version 0, 64-bit in 1. */
	uint64_t timescale, duration;
	if (mvhd_len >= 20 && mvhd[0] == 0) {
		timescale = be32(mvhd + 12);
		duration = be32(mvhd + 16);
	} else if (mvhd_len >= 32 && mvhd[0] == 1) {
		timescale = be32(mvhd + 20);
		duration = be64(mvhd + 24);
	} else {
		snprintf(err, errlen, "mvhd box too short or of unknown version");
		return -1;
	}
	if (timescale == 0 || duration == UINT32_MAX || duration == UINT64_MAX) {
		snprintf(err, errlen, "mvhd has no duration");
		return -1;
	}
	double d = (double)duration / (double)timescale;
	if (!(d > 0 && d < SECONDS_MAX)) {
		snprintf(err, errlen, "mvhd duration out of range");
		return -1;
	}
	*out = d;
	return 0;
}
