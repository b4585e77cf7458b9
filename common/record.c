/* Writing records: one line each, flushed at once so a pipe is live.  On a
 * terminal (unless --json) a human view is written instead. */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int out_mode = -1;   /* -1 undecided, 0 records, 1 human */
static int bar_shown;       /* the human view's progress line is on screen */

void out_set_json(int force)
{
	out_mode = force ? 0 : -1;
}

int out_is_human(void)
{
	if (out_mode < 0)
		out_mode = isatty(1) ? 1 : 0;
	return out_mode;
}

static void write_all_stdout(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(1, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* The reader went away (EPIPE) or stdout broke: nobody can
			 * use what we would make now, so stop, taking children along. */
			proc_kill_all();
			if (errno != EPIPE)
				pc_warn("stdout: %s", strerror(errno));
			_exit(PC_EXIT_FAIL);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void human_write(json_object *rec)
{
	struct buf line = {0};
	const char *type = rec_type(rec);
	double progress;
	if (type && !strcmp(type, "status") && rec_num(rec, "progress", &progress) == 0) {
		/* Progress redraws one line in place. */
		char bar[31];
		int pct = (int)progress, fill = pct * 30 / 100;
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		const char *msg = rec_str(rec, "message");
		buf_printf(&line, "\r\033[K[%s] %3d%% %.70s", bar, pct, msg ? msg : "");
		write_all_stdout(line.data, line.len);
		bar_shown = 1;
		buf_free(&line);
		return;
	}
	if (bar_shown)
		buf_puts(&line, "\r\033[K");
	bar_shown = 0;
	rec_human(rec, &line);
	buf_puts(&line, "\n");
	write_all_stdout(line.data, line.len);
	buf_free(&line);
}

void out_record(json_object *rec)
{
	if (out_is_human()) {
		human_write(rec);
		return;
	}
	size_t n;
	const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	struct buf line = {0};
	buf_append(&line, s, n);
	buf_append(&line, "\n", 1);
	write_all_stdout(line.data, line.len);
	buf_free(&line);
}

void out_record_put(json_object *rec)
{
	out_record(rec);
	json_object_put(rec);
}

json_object *rec_new(const char *type, const char *session)
{
	json_object *rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string(type));
	if (session)
		json_object_object_add(rec, "session", json_object_new_string(session));
	return rec;
}

json_object *rec_status(const char *session, int progress, const char *msg)
{
	json_object *rec = rec_new("status", session);
	rec_set_str(rec, "stage", pc_prog);
	rec_set_str(rec, "message", msg);
	if (progress >= 0)
		rec_set_int(rec, "progress", progress > 100 ? 100 : progress);
	return rec;
}

json_object *rec_error(const char *session, int index, const char *input, const char *msg)
{
	json_object *rec = rec_new("error", session);
	rec_set_str(rec, "stage", pc_prog);
	rec_set_str(rec, "message", msg);
	if (index >= 0)
		rec_set_int(rec, "index", index);
	if (input)
		rec_set_str(rec, "input", input);
	return rec;
}

void out_status(const char *session, int progress, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	out_record_put(rec_status(session, progress, msg));
}

void out_error(const char *session, int index, const char *input, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The one-line message for whoever watches stderr; the record for
	 * whoever is at the end of the pipe. */
	pc_warn("%s", msg);
	if (!out_is_human())
		out_record_put(rec_error(session, index, input, msg));
}

const char *rec_type(json_object *rec)
{
	return rec_str(rec, "type");
}

const char *rec_str(json_object *rec, const char *key)
{
	json_object *v;
	if (!rec || !json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int rec_num(json_object *rec, const char *key, double *out)
{
	json_object *v;
	if (!rec || !json_object_object_get_ex(rec, key, &v))
		return -1;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return -1;
	double d = json_object_get_double(v);
	if (!isfinite(d))
		return -1;
	*out = d;
	return 0;
}

int rec_int(json_object *rec, const char *key, long *out)
{
	double d;
	if (rec_num(rec, key, &d) < 0 || d != floor(d) || d < -2e9 || d > 2e9)
		return -1;
	*out = (long)d;
	return 0;
}

void rec_set_str(json_object *rec, const char *key, const char *val)
{
	json_object_object_add(rec, key, val ? json_object_new_string(val) : NULL);
}

void rec_set_num(json_object *rec, const char *key, double val)
{
	/* Milliseconds are all any consumer needs; shorter lines read better. */
	double r = round(val * 1000) / 1000;
	char txt[64];
	snprintf(txt, sizeof txt, "%.3f", r);
	/* trim trailing zeros so 23.400 prints as 23.4 */
	char *e = txt + strlen(txt) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	json_object_object_add(rec, key, json_object_new_double_s(r, txt));
}

void rec_set_int(json_object *rec, const char *key, long val)
{
	json_object_object_add(rec, key, json_object_new_int64(val));
}

static void human_span(json_object *rec, struct buf *out)
{
	double a, b;
	char ca[16], cb[16];
	if (rec_num(rec, "start", &a) == 0 && rec_num(rec, "end", &b) == 0)
		buf_printf(out, " [%s-%s]", pc_clock(a, ca, sizeof ca), pc_clock(b, cb, sizeof cb));
}

void rec_human(json_object *rec, struct buf *out)
{
	const char *type = rec_type(rec);
	const char *sess = rec_str(rec, "session");
	long idx = -1;
	rec_int(rec, "index", &idx);
	double d;
	if (!type)
		type = "?";
	if (!strcmp(type, "session")) {
		buf_printf(out, "session %s: %s", sess ? sess : "?", rec_str(rec, "source") ? rec_str(rec, "source") : "?");
		if (rec_num(rec, "duration", &d) == 0)
			buf_printf(out, " (%.1f s)", d);
		return;
	}
	if (!strcmp(type, "events")) {
		json_object *evs;
		buf_printf(out, "interval %ld", idx);
		human_span(rec, out);
		if (json_object_object_get_ex(rec, "events", &evs) && json_object_is_type(evs, json_type_array)) {
			size_t n = json_object_array_length(evs);
			buf_printf(out, ": %zu event%s", n, n == 1 ? "" : "s");
			for (size_t i = 0; i < n && i < 6; i++) {
				json_object *ev = json_object_array_get_idx(evs, i);
				double t = 0, score = 0;
				rec_num(ev, "t", &t);
				rec_num(ev, "score", &score);
				buf_printf(out, "%s %s@%.1f(%.2f)", i ? "," : "", rec_str(ev, "kind") ? rec_str(ev, "kind") : "?", t, score);
			}
		}
		return;
	}
	if (!strcmp(type, "commentary") || !strcmp(type, "audio")) {
		buf_printf(out, "%s %ld", !strcmp(type, "audio") ? "speech" : "highlight", idx);
		human_span(rec, out);
		if (!strcmp(type, "audio")) {
			const char *path = rec_str(rec, "path");
			buf_printf(out, ": %s", path ? path : "(no speech)");
			if (rec_num(rec, "speech_duration", &d) == 0)
				buf_printf(out, " (%.1f s)", d);
		} else {
			const char *text = rec_str(rec, "text");
			buf_printf(out, ": %s", text ? text : "");
		}
		return;
	}
	if (!strcmp(type, "chunk_ready")) {
		const char *url = rec_str(rec, "url");
		buf_printf(out, "chunk %ld ready: %s", idx, url ? url : "?");
		if (rec_num(rec, "progress", &d) == 0)
			buf_printf(out, " (%.0f%%)", d);
		return;
	}
	if (!strcmp(type, "complete")) {
		const char *url = rec_str(rec, "url");
		buf_printf(out, "complete: %s", url ? url : "?");
		return;
	}
	if (!strcmp(type, "session_end")) {
		buf_printf(out, "session %s done", sess ? sess : "?");
		return;
	}
	if (!strcmp(type, "status") || !strcmp(type, "error")) {
		const char *msg = rec_str(rec, "message");
		const char *stage = rec_str(rec, "stage");
		buf_printf(out, "%s%s%s%s", !strcmp(type, "error") ? "error: " : "",
			   stage ? stage : "", stage ? ": " : "", msg ? msg : "");
		return;
	}
	buf_printf(out, "%s %s", type, json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
}
