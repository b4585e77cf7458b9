/* Highlight windows from events, as they stream in.
 *
 * Each event above --min-score gets a window from --lead before it to
 * --tail after it, clipped to the video.  Within an interval, overlapping
 * windows merge and only the --max-per-interval strongest survive; across
 * intervals, overlapping windows merge too.  A window is handed out as soon
 * as no later event can reach it: later events come from later intervals,
 * at or after the end E of the latest interval seen, so their windows start
 * at E - lead or later, and a window ending by then is final.  Only a
 * window within lead + tail of E waits for the next interval. */
#define _GNU_SOURCE
#include "narrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int event_parse(json_object *ev, struct plan_event *out, char *why, size_t n)
{
	if (!json_object_is_type(ev, json_type_object)) {
		snprintf(why, n, "not an object");
		return -1;
	}
	if (rec_num(ev, "t", &out->t) < 0 || out->t < 0) {
		snprintf(why, n, "no time \"t\" (seconds, >= 0)");
		return -1;
	}
	json_object *kind;
	if (json_object_object_get_ex(ev, "kind", &kind) && !json_object_is_type(kind, json_type_string)) {
		snprintf(why, n, "\"kind\" is not a string");
		return -1;
	}
	/* A score is what ranks highlights; an event without one is as
	 * strong as can be (a cloud service may send only what matters). */
	if (rec_num(ev, "score", &out->score) < 0) {
		json_object *s;
		if (json_object_object_get_ex(ev, "score", &s) && s) {
			snprintf(why, n, "\"score\" is not a number");
			return -1;
		}
		out->score = 1;
	}
	if (out->score < 0)
		out->score = 0;
	if (out->score > 1)
		out->score = 1;
	out->json = ev;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct plan_event *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

int plan_parse_events(json_object *rec, struct plan_interval *iv, char *err, size_t errlen)
{
	iv->nev = 0;
	iv->skipped = 0;
	iv->skip_reason[0] = '\0';
	if (rec_int(rec, "index", &iv->index) < 0 || iv->index < 0) {
		snprintf(err, errlen, "events record without an interval \"index\"");
		return -1;
	}
	if (rec_num(rec, "start", &iv->start) < 0 || rec_num(rec, "end", &iv->end) < 0 ||
	    iv->start < 0 || iv->end < iv->start) {
		snprintf(err, errlen, "events record %ld: \"start\" and \"end\" must be seconds, start <= end",
			 iv->index);
		return -1;
	}
	json_object *list;
	if (!json_object_object_get_ex(rec, "events", &list) || !json_object_is_type(list, json_type_array)) {
		snprintf(err, errlen, "events record %ld: \"events\" is not a list", iv->index);
		return -1;
	}
	size_t n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		char why[100];
		struct plan_event e;
		if (event_parse(json_object_array_get_idx(list, i), &e, why, sizeof why) < 0) {
			if (!iv->skipped++)
				snprintf(iv->skip_reason, sizeof iv->skip_reason, "event %zu: %s", i, why);
			continue;
		}
		if (iv->nev == PLAN_EVENTS_MAX) {
			if (!iv->skipped++)
				snprintf(iv->skip_reason, sizeof iv->skip_reason,
					 "more than %d events in one interval", PLAN_EVENTS_MAX);
			continue;
		}
		e.json = json_object_get(e.json);
		iv->ev[iv->nev++] = e;
	}
	qsort(iv->ev, (size_t)iv->nev, sizeof iv->ev[0], by_time);
	return 0;
}

void plan_interval_release(struct plan_interval *iv)
{
	for (int i = 0; i < iv->nev; i++)
		json_object_put(iv->ev[i].json);
	iv->nev = 0;
}

/* ---- windows ---- */

static void window_add_event(struct plan_window *w, const struct plan_event *e)
{
	json_object_array_add(w->events, json_object_get(e->json));
	if (e->score > w->peak_score || json_object_array_length(w->events) == 1) {
		w->peak_score = e->score;
		w->peak_t = e->t;
	}
}

static void window_merge(struct plan_window *into, struct plan_window *from)
{
	if (from->start < into->start)
		into->start = from->start;
	if (from->end > into->end)
		into->end = from->end;
	if (from->peak_score > into->peak_score) {
		into->peak_score = from->peak_score;
		into->peak_t = from->peak_t;
	}
	size_t n = json_object_array_length(from->events);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(into->events, json_object_get(json_object_array_get_idx(from->events, i)));
	json_object_put(from->events);
	from->events = NULL;
}

static double clip_end(const struct plan *p, double end)
{
	return p->duration > 0 && end > p->duration ? p->duration : end;
}

static void pending_push(struct plan *p, struct plan_window *w)
{
	if (p->npending == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->pending = pc_xrealloc(p->pending, p->cap * sizeof *p->pending);
	}
	p->pending[p->npending++] = *w;
}

/* Hand out the first n pending windows (oldest first). */
static void emit_first(struct plan *p, const struct plan_opts *o, size_t n, plan_emit_fn emit, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		struct plan_window w = p->pending[i];
		/* Never overlap what is already out (an event that came late). */
		if (p->emitted_any && w.start < p->emitted_end)
			w.start = p->emitted_end;
		if (w.end - w.start < o->min_len) {
			p->dropped++;
			json_object_put(w.events);
			continue;
		}
		p->emitted_end = w.end;
		p->emitted_any = 1;
		emit(arg, &w);
	}
	if (p->npending > n)
		memmove(p->pending, p->pending + n, (p->npending - n) * sizeof *p->pending);
	p->npending -= n;
}

static int by_peak(const void *a, const void *b)
{
	const struct plan_window *x = a, *y = b;
	if (x->peak_score != y->peak_score)
		return x->peak_score < y->peak_score ? 1 : -1;
	return (x->start > y->start) - (x->start < y->start);
}

static int by_start(const void *a, const void *b)
{
	const struct plan_window *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* The interval's own windows: merged, the strongest kept, in time order. */
static int interval_windows(const struct plan *p, const struct plan_opts *o, const struct plan_interval *iv,
			    struct plan_window *out)
{
	int n = 0;
	for (int i = 0; i < iv->nev; i++) {
		const struct plan_event *e = &iv->ev[i];
		if (e->score < o->min_score)
			continue;
		double start = e->t - o->lead, end = clip_end(p, e->t + o->tail);
		if (start < 0)
			start = 0;
		if (end <= start)
			continue;   /* an event past the end of the video */
		if (n && start < out[n - 1].end) {   /* events come in time order */
			if (end > out[n - 1].end)
				out[n - 1].end = end;
			window_add_event(&out[n - 1], e);
			continue;
		}
		out[n] = (struct plan_window){.start = start, .end = end, .events = json_object_new_array()};
		window_add_event(&out[n], e);
		n++;
	}
	if (o->max_per_interval > 0 && n > o->max_per_interval) {
		qsort(out, (size_t)n, sizeof *out, by_peak);
		for (int i = o->max_per_interval; i < n; i++)
			json_object_put(out[i].events);
		n = o->max_per_interval;
		qsort(out, (size_t)n, sizeof *out, by_start);
	}
	return n;
}

static void add_full(struct plan *p, const struct plan_opts *o, const struct plan_interval *iv,
		     plan_emit_fn emit, void *arg)
{
	struct plan_window w = {.start = iv->start, .end = clip_end(p, iv->end), .events = json_object_new_array()};
	/* A last interval too short to narrate joins this one rather than
	 * leave a silent gap in the full-length commentary. */
	if (p->duration > 0 && p->duration - w.end < o->min_len)
		w.end = p->duration;
	if (p->emitted_any && w.start < p->emitted_end)
		w.start = p->emitted_end;
	for (int i = 0; i < iv->nev; i++) {
		const struct plan_event *e = &iv->ev[i];
		if (e->score >= o->min_score && e->t >= w.start && e->t <= w.end)
			window_add_event(&w, e);
	}
	if (w.end <= w.start) {          /* all of it already covered */
		json_object_put(w.events);
		return;
	}
	pending_push(p, &w);
	emit_first(p, o, p->npending, emit, arg);
}

void plan_add_interval(struct plan *p, const struct plan_opts *o, const struct plan_interval *iv,
		       plan_emit_fn emit, void *arg)
{
	if (iv->end > p->horizon)
		p->horizon = iv->end;
	if (o->full) {
		add_full(p, o, iv, emit, arg);
		return;
	}
	struct plan_window *mine = pc_xcalloc((size_t)iv->nev + 1, sizeof *mine);
	int n = interval_windows(p, o, iv, mine);
	for (int i = 0; i < n; i++) {
		struct plan_window *last = p->npending ? &p->pending[p->npending - 1] : NULL;
		if (last && mine[i].start < last->end)
			window_merge(last, &mine[i]);
		else
			pending_push(p, &mine[i]);
	}
	free(mine);
	size_t final = 0;
	while (final < p->npending && p->pending[final].end <= p->horizon - o->lead)
		final++;
	/* The video's end: nothing can come after it. */
	if (p->duration > 0 && p->horizon >= p->duration)
		final = p->npending;
	emit_first(p, o, final, emit, arg);
}

void plan_finish(struct plan *p, const struct plan_opts *o, plan_emit_fn emit, void *arg)
{
	emit_first(p, o, p->npending, emit, arg);
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->npending; i++)
		json_object_put(p->pending[i].events);
	free(p->pending);
	memset(p, 0, sizeof *p);
}
