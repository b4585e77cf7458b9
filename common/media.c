/* ffprobe's view of a file: streams, codecs, duration. */
#define _GNU_SOURCE
#include "pc.h"
#include "media.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double num_field(json_object *obj, const char *key)
{
	/* ffprobe writes numbers as strings ("133.000000"); accept either. */
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v))
		return NAN;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		return json_object_get_double(v);
	if (!json_object_is_type(v, json_type_string))
		return NAN;
	const char *s = json_object_get_string(v);
	char *end;
	double d = strtod(s, &end);
	return (end == s || *end) ? NAN : d;
}

static double rate_field(json_object *obj, const char *key)
{
	const char *s = rec_str(obj, key);
	long num, den;
	if (!s || sscanf(s, "%ld/%ld", &num, &den) != 2 || den <= 0 || num <= 0)
		return 0;
	return (double)num / (double)den;
}

static void copy_str(char *dst, size_t n, json_object *obj, const char *key)
{
	const char *s = rec_str(obj, key);
	snprintf(dst, n, "%s", s ? s : "");
}

static void take_stream(struct media_info *mi, json_object *st)
{
	const char *type = rec_str(st, "codec_type");
	if (!type)
		return;
	json_object *disp, *attached;
	/* Cover art is a "video" stream to ffprobe, but nothing to analyse. */
	if (json_object_object_get_ex(st, "disposition", &disp) &&
	    json_object_object_get_ex(disp, "attached_pic", &attached) &&
	    json_object_get_int(attached) == 1)
		return;
	double d = num_field(st, "duration");
	if (isfinite(d) && d > mi->duration)
		mi->duration = d;
	if (!strcmp(type, "video") && !mi->has_video) {
		mi->has_video = 1;
		copy_str(mi->vcodec, sizeof mi->vcodec, st, "codec_name");
		copy_str(mi->pix_fmt, sizeof mi->pix_fmt, st, "pix_fmt");
		copy_str(mi->profile, sizeof mi->profile, st, "profile");
		double w = num_field(st, "width"), h = num_field(st, "height");
		mi->width = isfinite(w) && w > 0 && w < 100000 ? (int)w : 0;
		mi->height = isfinite(h) && h > 0 && h < 100000 ? (int)h : 0;
		mi->fps = rate_field(st, "avg_frame_rate");
		if (mi->fps <= 0 || mi->fps > 1000)
			mi->fps = rate_field(st, "r_frame_rate");
		if (mi->fps > 1000)
			mi->fps = 0;
	} else if (!strcmp(type, "audio") && !mi->has_audio) {
		mi->has_audio = 1;
		copy_str(mi->acodec, sizeof mi->acodec, st, "codec_name");
		double sr = num_field(st, "sample_rate"), ch = num_field(st, "channels");
		mi->sample_rate = isfinite(sr) && sr > 0 && sr < 1e7 ? (int)sr : 0;
		mi->channels = isfinite(ch) && ch > 0 && ch < 256 ? (int)ch : 0;
	}
}

int media_parse(const char *json, size_t len, struct media_info *mi, char *err, size_t errlen)
{
	memset(mi, 0, sizeof *mi);
	json_tokener *tok = json_tokener_new();
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	int ok = root && json_tokener_get_error(tok) == json_tokener_success &&
		 json_object_is_type(root, json_type_object);
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(root);
		snprintf(err, errlen, "ffprobe output is not a JSON object");
		return -1;
	}
	json_object *streams, *format;
	if (json_object_object_get_ex(root, "streams", &streams) && json_object_is_type(streams, json_type_array))
		for (size_t i = 0; i < json_object_array_length(streams); i++)
			take_stream(mi, json_object_array_get_idx(streams, i));
	if (json_object_object_get_ex(root, "format", &format) && json_object_is_type(format, json_type_object)) {
		double d = num_field(format, "duration");
		/* The container's duration is the one players show. */
		if (isfinite(d) && d > 0)
			mi->duration = d;
		double sz = num_field(format, "size");
		mi->size = isfinite(sz) && sz > 0 && sz < 1e18 ? (long long)sz : 0;
		copy_str(mi->format, sizeof mi->format, format, "format_name");
	}
	json_object_put(root);
	if (!(mi->duration > 0 && mi->duration < 1e7))
		mi->duration = 0;
	if (!mi->has_video && !mi->has_audio) {
		snprintf(err, errlen, "no audio or video stream");
		return -1;
	}
	if (mi->duration <= 0) {
		snprintf(err, errlen, "duration unknown");
		return -1;
	}
	return 0;
}

int media_probe(const char *path, struct media_info *mi, char *err, size_t errlen)
{
	char *argv[] = {"ffprobe", "-v", "error", "-print_format", "json", "-show_format",
			"-show_streams", (char *)path, NULL};
	struct proc p;
	struct buf out = {0};
	int rc = proc_run(&p, argv, &out, 30000);
	if (rc != 0) {
		char line[512];
		if (rc == -1)
			snprintf(err, errlen, "cannot run ffprobe: %s", p.err);
		else if (*proc_err_line(&p, line, sizeof line))
			snprintf(err, errlen, "%s", line);
		else
			snprintf(err, errlen, "ffprobe failed (%s)", proc_status_str(rc, line, sizeof line));
		buf_free(&out);
		memset(mi, 0, sizeof *mi);
		return -1;
	}
	int res = media_parse(out.data ? out.data : "", out.len, mi, err, errlen);
	buf_free(&out);
	return res;
}
