/* The emitter: backends deliver intervals in any order; records leave in
 * interval order, each as soon as everything before it has left. */
#define _GNU_SOURCE
#include "detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_STEP 10       /* percent: a status record at least this far on */
#define STATUS_GAP 1.0       /* s: or this long after the last one */

struct det_slot {
	int delivered;
	struct det_event *evs;
	size_t n;
};

void (*det_write)(json_object *rec) = out_record_put;

int det_layout(double duration, double first, double interval, double **bounds)
{
	if (!(first > 0))
		first = interval;
	double est = 2 + (duration > first ? (duration - first) / interval : 0);
	if (!(interval > 0) || !(duration > 0) || est > DET_MAX_INTERVALS)
		return -1;
	double *b = pc_xcalloc((size_t)est + 2, sizeof *b);
	int n = 0;
	double end = first < duration ? first : duration;
	while (1) {
		b[n + 1] = end;
		n++;
		if (end >= duration)
			break;
		end += interval;
		if (end > duration || duration - end < DET_MIN_TAIL)
			end = duration;
	}
	/* A first interval that leaves only a sliver also takes it. */
	if (n > 1 && b[n] - b[n - 1] < DET_MIN_TAIL) {
		b[n - 1] = duration;
		n--;
	}
	*bounds = b;
	return n;
}

void det_job_open(struct det_job *job)
{
	job->slots = pc_xcalloc((size_t)job->intervals, sizeof *job->slots);
	job->next = job->written = job->failed = job->done = 0;
	job->last_progress = -1;
	job->last_status_at = 0;
	job->events_written = 0;
}

static void free_extras(struct det_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object_put(evs[i].extra);
		evs[i].extra = NULL;
	}
}

void det_job_close(struct det_job *job)
{
	for (int i = 0; i < job->intervals && job->slots; i++) {
		free_extras(job->slots[i].evs, job->slots[i].n);
		free(job->slots[i].evs);
	}
	free(job->slots);
	job->slots = NULL;
}

void det_event_set(struct det_event *ev, double t, const char *kind, const char *label, double score)
{
	memset(ev, 0, sizeof *ev);
	ev->t = t;
	snprintf(ev->kind, sizeof ev->kind, "%s", kind);
	snprintf(ev->label, sizeof ev->label, "%s", label);
	ev->score = score;
}

static int by_kind_then_time(const void *a, const void *b)
{
	const struct det_event *x = a, *y = b;
	int k = strcmp(x->kind, y->kind);
	if (k)
		return k;
	return (x->t > y->t) - (x->t < y->t);
}

static int by_score(const void *a, const void *b)
{
	const struct det_event *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return (x->t > y->t) - (x->t < y->t);
}

static int by_time(const void *a, const void *b)
{
	const struct det_event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->score < y->score) - (x->score > y->score);
}

static void drop(struct det_event *ev)
{
	json_object_put(ev->extra);
	ev->extra = NULL;
}

size_t det_tidy(struct det_event *evs, size_t n, double threshold)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct det_event ev = evs[i];
		if (!isfinite(ev.t) || !isfinite(ev.score) || ev.score < threshold) {
			drop(&ev);
			continue;
		}
		ev.score = ev.score < 0 ? 0 : ev.score > 1 ? 1 : ev.score;
		evs[kept++] = ev;
	}
	n = kept;
	if (n > 1)
		qsort(evs, n, sizeof *evs, by_kind_then_time);
	/* One kind, close in time: one happening seen twice (a roar that dips
	 * and rises again); keep its best moment. */
	kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct det_event *last = kept ? &evs[kept - 1] : NULL;
		if (last && !strcmp(last->kind, evs[i].kind) && evs[i].t - last->t < DET_MERGE_GAP) {
			if (evs[i].score > last->score) {
				drop(last);
				*last = evs[i];
			} else {
				drop(&evs[i]);
			}
			continue;
		}
		evs[kept++] = evs[i];
	}
	n = kept;
	if (n > DET_MAX_EVENTS) {
		qsort(evs, n, sizeof *evs, by_score);
		for (size_t i = DET_MAX_EVENTS; i < n; i++)
			drop(&evs[i]);
		n = DET_MAX_EVENTS;
	}
	if (n > 1)
		qsort(evs, n, sizeof *evs, by_time);
	return n;
}

json_object *det_events_record(const struct det_job *job, int index, struct det_event *evs, size_t n)
{
	json_object *rec = rec_new("events", job->session);
	rec_set_int(rec, "index", index);
	rec_set_num(rec, "start", job->bounds[index]);
	rec_set_num(rec, "end", job->bounds[index + 1]);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_new_object();
		rec_set_num(ev, "t", evs[i].t);
		rec_set_str(ev, "kind", evs[i].kind);
		rec_set_str(ev, "label", evs[i].label);
		rec_set_num(ev, "score", evs[i].score);
		if (evs[i].extra && json_object_is_type(evs[i].extra, json_type_object)) {
			json_object_object_foreach(evs[i].extra, key, val) {
				if (!json_object_object_get_ex(ev, key, NULL))
					json_object_object_add(ev, key, json_object_get(val));
			}
		}
		drop(&evs[i]);
		json_object_array_add(arr, ev);
	}
	json_object_object_add(rec, "events", arr);
	rec_set_str(rec, "backend", job->backend->name);
	return rec;
}

static void flush_ready(struct det_job *job)
{
	while (job->next < job->intervals && job->slots[job->next].delivered) {
		struct det_slot *s = &job->slots[job->next];
		det_write(det_events_record(job, job->next, s->evs, s->n));
		job->events_written += (long)s->n;
		free(s->evs);
		s->evs = NULL;
		s->n = 0;
		job->next++;
		job->written++;
	}
}

void det_emit_interval(struct det_job *job, int index, const struct det_event *evs, size_t n)
{
	if (index < 0 || index >= job->intervals || job->slots[index].delivered || job->done) {
		/* A backend's slip; the extras are ours to free all the same. */
		for (size_t i = 0; i < n; i++)
			json_object_put(evs[i].extra);
		return;
	}
	struct det_slot *s = &job->slots[index];
	s->evs = pc_xcalloc(n ? n : 1, sizeof *s->evs);
	if (n)
		memcpy(s->evs, evs, n * sizeof *evs);
	s->n = det_tidy(s->evs, n, job->opts->threshold);
	s->delivered = 1;
	flush_ready(job);
}

static void write_status(struct det_job *job, int progress, const char *msg)
{
	det_write(rec_status(job->session, progress, msg));
	job->last_status_at = pc_now();
}

void det_emit_progress(struct det_job *job, double seconds)
{
	double duration = job->bounds[job->intervals];
	int pct = (int)(100 * seconds / duration);
	pct = pct < 0 ? 0 : pct > 99 ? 99 : pct;   /* 100 is for the end */
	if (pct <= job->last_progress)
		return;
	if (pct < job->last_progress + STATUS_STEP && pc_now() - job->last_status_at < STATUS_GAP)
		return;
	char msg[512];
	snprintf(msg, sizeof msg, "analysing %s", job->name);
	job->last_progress = pct;
	write_status(job, pct, msg);
}

void det_emit_status(struct det_job *job, int progress, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	write_status(job, progress < 0 ? -1 : progress > 100 ? 100 : progress, msg);
}

void det_emit_error(struct det_job *job, int index, const char *fmt, ...)
{
	char reason[768], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s: %s", job->name, reason);
	pc_warn("%s", msg);
	if (!out_is_human())
		det_write(rec_error(job->session, index, job->name, msg));
	job->failed = 1;
}

void det_emit_done(struct det_job *job)
{
	job->done = 1;
	char msg[512];
	snprintf(msg, sizeof msg, "analysed %s: %ld event%s in %d interval%s", job->name,
		 job->events_written, job->events_written == 1 ? "" : "s", job->written,
		 job->written == 1 ? "" : "s");
	write_status(job, 100, msg);
}
