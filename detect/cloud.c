/* Pieces to intervals, the cache and the request queue of detect's cloud
 * backends.  See cloud.h. */
#define _GNU_SOURCE
#include "cloud.h"
#include "cache.h"
#include "api_common.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_KIND "detect"

static int no_cache(void)
{
	const char *v = getenv("PLAYCALL_NO_CACHE");
	return v && *v && strcmp(v, "0");
}

static void interval_key(const struct cloud *c, int i, char key[65])
{
	char a[32], b[32];
	snprintf(a, sizeof a, "%.3f", c->job->bounds[i]);
	snprintf(b, sizeof b, "%.3f", c->job->bounds[i + 1]);
	cache_key(key, c->sha, c->key_parts, a, b, API_PROMPT_VERSION, (char *)NULL);
}

size_t cloud_to_det(json_object *events, double start, double end, int last, struct det_event **out)
{
	size_t n = events && json_object_is_type(events, json_type_array) ? json_object_array_length(events) : 0;
	struct det_event *evs = pc_xcalloc(n ? n : 1, sizeof *evs);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(events, i);
		double t, score = 0;
		if (rec_num(e, "t", &t) < 0 || t < start || (!last && t >= end))
			continue;
		rec_num(e, "score", &score);
		const char *kind = rec_str(e, "kind"), *label = rec_str(e, "label");
		det_event_set(&evs[k], t, kind ? kind : "moment", label ? label : "", score);
		json_object *extra = NULL;
		json_object_object_foreach(e, key, val) {
			if (!strcmp(key, "t") || !strcmp(key, "kind") || !strcmp(key, "label") || !strcmp(key, "score"))
				continue;
			if (!extra)
				extra = json_object_new_object();
			json_object_object_add(extra, key, json_object_get(val));
		}
		evs[k++].extra = extra;
	}
	*out = evs;
	return k;
}

static void deliver(struct cloud *c, int i, json_object *events)
{
	struct det_job *job = c->job;
	struct det_event *evs;
	size_t n = cloud_to_det(events, job->bounds[i], job->bounds[i + 1], i == job->intervals - 1, &evs);
	det_emit_interval(job, i, evs, n);
	free(evs);
	c->delivered[i] = 1;
	c->left--;
	double done_to = job->bounds[i + 1];
	for (int k = 0; k < job->intervals && c->delivered[k]; k++)
		done_to = job->bounds[k + 1];
	det_emit_progress(job, done_to);
}

void cloud_open(struct cloud *c, struct det_job *job, const char *key_parts, int jobs,
		cloud_start_fn start_piece)
{
	memset(c, 0, sizeof *c);
	c->job = job;
	c->jobs = jobs > 0 ? jobs : 1;
	c->start_piece = start_piece;
	c->key_parts = pc_xstrdup(key_parts);
	c->delivered = pc_xcalloc((size_t)job->intervals, sizeof *c->delivered);
	c->left = job->intervals;
	if (no_cache() || sha256_file(job->source, c->sha) < 0)
		c->sha[0] = '\0';
	if (!c->sha[0])
		return;
	for (int i = 0; i < job->intervals; i++) {
		char key[65], err[128];
		struct buf b = {0};
		interval_key(c, i, key);
		if (cache_load_data(CACHE_KIND, key, ".json", &b) == 1) {
			json_object *events = api_parse_json(b.data, b.len, err, sizeof err);
			if (events && json_object_is_type(events, json_type_array)) {
				deliver(c, i, events);
				c->cached++;
			}
			json_object_put(events);
		}
		buf_free(&b);
	}
}

int cloud_needed(const struct cloud *c, double start, double end)
{
	const double *b = c->job->bounds;
	for (int i = 0; i < c->job->intervals; i++) {
		int last = i == c->job->intervals - 1;
		if (!c->delivered[i] && start < (last ? INFINITY : b[i + 1]) && end > b[i])
			return 1;
	}
	return 0;
}

static int add_piece(struct cloud *c, double start, double end)
{
	if (c->npieces == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->pieces = pc_xrealloc(c->pieces, (size_t)c->cap * sizeof *c->pieces);
	}
	c->pieces[c->npieces] = (struct cloud_piece){.start = start, .end = end, .state = PIECE_WAITING};
	return c->npieces++;
}

int cloud_add_piece(struct cloud *c, double start, double end)
{
	if (end > c->known_to)
		c->known_to = end;
	return add_piece(c, start, end);
}

static void pump(struct cloud *c)
{
	/* Second looks first: intervals already analysed wait for them. */
	for (int pass = 1; pass >= 0; pass--)
		for (int i = 0; i < c->npieces && c->running < c->jobs; i++) {
			if (c->pieces[i].state != PIECE_QUEUED || c->pieces[i].seam != pass)
				continue;
			c->pieces[i].state = PIECE_RUNNING;
			c->running++;
			c->start_piece(c, i);
		}
}

/* ---- second looks at cuts ---- */

static void piece_failed(struct cloud *c, int index, const char *err);

static int finished(const struct cloud_piece *p)
{
	return p->state == PIECE_DONE || p->state == PIECE_FAILED;
}

/* Whether piece p reported a moment with from <= t < to (times in records
 * are to the millisecond). */
static int reported_in(const struct cloud_piece *p, double from, double to)
{
	from -= 0.001;
	size_t n = p->state == PIECE_DONE ? json_object_array_length(p->events) : 0;
	for (size_t e = 0; e < n; e++) {
		double t;
		if (rec_num(json_object_array_get_idx(p->events, e), "t", &t) == 0 && t >= from && t < to)
			return 1;
	}
	return 0;
}

static int moment_before_cut(const struct cloud_piece *p)
{
	return reported_in(p, p->end - CLOUD_SEAM, p->end);
}

/* The piece (not a second look) that starts where piece k ends, or -1.
 * Pieces come in time order, so it is nearly always the next one. */
static int piece_after(const struct cloud *c, int k)
{
	if (k + 1 < c->npieces && !c->pieces[k + 1].seam && fabs(c->pieces[k + 1].start - c->pieces[k].end) < 0.05)
		return k + 1;
	for (int j = 0; j < c->npieces; j++)
		if (!c->pieces[j].seam && j != k && fabs(c->pieces[j].start - c->pieces[k].end) < 0.05)
			return j;
	return -1;
}

/* The second look at the cut at `at`, or -1. */
static int seam_at(const struct cloud *c, double at)
{
	for (int j = 0; j < c->npieces; j++)
		if (c->pieces[j].seam && fabs(c->pieces[j].at - at) < 0.05)
			return j;
	return -1;
}

/* The finished second look that tells the moment at t, or -1. */
static int seam_telling(const struct cloud *c, double t)
{
	for (int j = 0; j < c->npieces; j++)
		if (c->pieces[j].seam && c->pieces[j].state == PIECE_DONE && fabs(t - c->pieces[j].at) < CLOUD_SEAM)
			return j;
	return -1;
}

static void look_at_seams(struct cloud *c)
{
	if (!c->prepare_seam || c->failed_all)
		return;
	for (int k = 0; k < c->npieces; k++) {
		if (c->pieces[k].seam || c->pieces[k].state != PIECE_DONE || !moment_before_cut(&c->pieces[k]))
			continue;
		int n = piece_after(c, k);
		if (n < 0 || c->pieces[n].state != PIECE_DONE ||
		    !reported_in(&c->pieces[n], c->pieces[n].start, c->pieces[n].start + CLOUD_SEAM_ONSET))
			continue;
		double at = c->pieces[k].end, duration = c->job->mi->duration;
		if (seam_at(c, at) >= 0)
			continue;
		double a = at - CLOUD_SEAM_SPAN > 0 ? at - CLOUD_SEAM_SPAN : 0;
		double b = duration > 0 && at + CLOUD_SEAM_SPAN > duration ? duration : at + CLOUD_SEAM_SPAN;
		int s = add_piece(c, a, b);
		char err[256];
		c->pieces[s].seam = 1;
		c->pieces[s].at = at;
		if (c->prepare_seam(c, s, err, sizeof err) < 0)
			piece_failed(c, s, err);   /* the first looks tell it */
	}
}

/* Interval [from, to) waits for: the piece after any piece of it that
 * reported a moment just before its cut, and the second looks near it. */
static int seams_settled(const struct cloud *c, double from, double to)
{
	if (!c->prepare_seam)
		return 1;
	for (int k = 0; k < c->npieces; k++) {
		const struct cloud_piece *p = &c->pieces[k];
		if (p->seam) {
			if (!finished(p) && p->at + CLOUD_SEAM > from && p->at - CLOUD_SEAM < to)
				return 0;
			continue;
		}
		if (p->start >= to || p->end <= from || p->state != PIECE_DONE || !moment_before_cut(p))
			continue;
		int n = piece_after(c, k);
		if (n < 0 ? !c->all_known : !finished(&c->pieces[n]))
			return 0;
	}
	return 1;
}

void cloud_piece_ready(struct cloud *c, int index)
{
	if (c->failed_all)
		return;
	c->pieces[index].state = PIECE_QUEUED;
	pump(c);
}

/* The first failure of a piece overlapping interval i, or NULL. */
static int interval_state(struct cloud *c, int i, int *failed)
{
	const double *b = c->job->bounds;
	int last = i == c->job->intervals - 1;
	double end = last ? INFINITY : b[i + 1];
	*failed = 0;
	if (!c->all_known && c->known_to < (last ? b[i + 1] : end))
		return 0;
	for (int k = 0; k < c->npieces; k++) {
		struct cloud_piece *p = &c->pieces[k];
		if (p->seam || p->start >= end || p->end <= b[i])
			continue;
		if (p->state == PIECE_FAILED)
			*failed = 1;
		else if (p->state != PIECE_DONE)
			return 0;
	}
	return seams_settled(c, b[i], end);
}

struct found {
	json_object *ev;
	double t, score;
	int piece;
};

static int found_by_time(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* Whether a and b (a first) are one moment cut in two by the boundary
 * between their pieces: a near the end of its piece, b near the start of
 * the next. */
static int across_seam(const struct cloud *c, const struct found *a, const struct found *b)
{
	const struct cloud_piece *pa = &c->pieces[a->piece], *pb = &c->pieces[b->piece];
	return a->piece != b->piece && fabs(pa->end - pb->start) < 0.05 &&
	       a->t >= pa->end - CLOUD_SEAM && b->t < pb->start + CLOUD_SEAM;
}

/* Interval i's events from the pieces, a moment split by a piece boundary
 * told once: at its first time, by its higher-scoring report. */
static json_object *gather(struct cloud *c, int i)
{
	const double *b = c->job->bounds;
	int last = i == c->job->intervals - 1;
	struct found *f = NULL;
	size_t n = 0, cap = 0;
	for (int k = 0; k < c->npieces; k++) {
		struct cloud_piece *p = &c->pieces[k];
		size_t m = p->state == PIECE_DONE ? json_object_array_length(p->events) : 0;
		for (size_t e = 0; e < m; e++) {
			json_object *ev = json_object_array_get_idx(p->events, e);
			double t, score = 0;
			if (rec_num(ev, "t", &t) < 0 || t < b[i] || (!last && t >= b[i + 1]))
				continue;
			/* Near a cut looked at again, the second look tells. */
			if (p->seam ? fabs(t - p->at) >= CLOUD_SEAM : seam_telling(c, t) >= 0)
				continue;
			rec_num(ev, "score", &score);
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				f = pc_xrealloc(f, cap * sizeof *f);
			}
			f[n++] = (struct found){ev, t, score, k};
		}
	}
	if (n > 1)
		qsort(f, n, sizeof *f, found_by_time);
	json_object *events = json_object_new_array();
	for (size_t k = 0; k < n; k++) {
		json_object *ev = f[k].ev;
		if (k + 1 < n && across_seam(c, &f[k], &f[k + 1])) {
			struct found *best = f[k + 1].score > f[k].score ? &f[k + 1] : &f[k];
			ev = json_object_new_object();
			json_object_object_foreach(best->ev, key, val)
				json_object_object_add(ev, key, json_object_get(val));
			rec_set_num(ev, "t", f[k].t);
			json_object_array_add(events, ev);
			k++;
			continue;
		}
		json_object_array_add(events, json_object_get(ev));
	}
	free(f);
	return events;
}

int cloud_check(struct cloud *c)
{
	struct det_job *job = c->job;
	look_at_seams(c);
	for (int i = 0; i < job->intervals && !c->failed_all; i++) {
		int failed;
		if (c->delivered[i] || !interval_state(c, i, &failed))
			continue;
		json_object *events = gather(c, i);
		if (!failed && c->sha[0]) {
			char key[65];
			const char *s = json_object_to_json_string_ext(events, JSON_C_TO_STRING_PLAIN);
			interval_key(c, i, key);
			cache_store_data(CACHE_KIND, key, ".json", s, strlen(s));
		}
		deliver(c, i, events);
		json_object_put(events);
	}
	if (!c->left && !c->running && !c->finished) {
		c->finished = 1;
		if (c->cleanup)
			c->cleanup(c);
		for (int k = 0; k < c->npieces; k++)
			json_object_put(c->pieces[k].events);
		free(c->pieces);
		free(c->delivered);
		free(c->key_parts);
		c->pieces = NULL;
		c->delivered = NULL;
		void *owner = c->owner;
		det_emit_done(job);
		free(owner);
		return 1;
	}
	return 0;
}

/* Piece index failed: an error record, named by the first interval it
 * touches.  Its intervals are delivered with what the others found. */
static void piece_failed(struct cloud *c, int index, const char *err)
{
	struct cloud_piece *p = &c->pieces[index];
	if (p->state == PIECE_RUNNING)
		c->running--;
	p->state = PIECE_FAILED;
	int first = -1;
	for (int i = 0; i < c->job->intervals && first < 0; i++)
		if (p->start < c->job->bounds[i + 1] && p->end > c->job->bounds[i])
			first = i;
	if (!c->failed_all)
		det_emit_error(c->job, first, "%s", err ? err : "analysis failed");
}

int cloud_piece_done(struct cloud *c, int index, json_object *events, const char *err)
{
	struct cloud_piece *p = &c->pieces[index];
	if (!events) {
		piece_failed(c, index, err);
	} else {
		if (p->state == PIECE_RUNNING)
			c->running--;
		p->events = events;
		p->state = PIECE_DONE;
	}
	pump(c);
	return cloud_check(c);
}

int cloud_piece_fatal(struct cloud *c, int index, const char *err)
{
	struct cloud_piece *p = &c->pieces[index];
	if (p->state == PIECE_RUNNING)
		c->running--;
	p->state = PIECE_FAILED;
	return cloud_fail(c, err);
}

int cloud_all_known(struct cloud *c)
{
	c->all_known = 1;
	return cloud_check(c);
}

int cloud_fail(struct cloud *c, const char *err)
{
	if (c->failed_all || c->finished)
		return 0;
	det_emit_error(c->job, -1, "%s", err);
	for (int i = 0; i < c->job->intervals; i++)
		if (!c->delivered[i])
			deliver(c, i, NULL);
	c->failed_all = 1;
	for (int k = 0; k < c->npieces; k++)
		if (c->pieces[k].state == PIECE_QUEUED || c->pieces[k].state == PIECE_WAITING)
			c->pieces[k].state = PIECE_FAILED;
	return cloud_check(c);
}

int cloud_count_option(const struct det_option *o, long min, long max, long *out, char *err, size_t errlen)
{
	int ok;
	long v = pc_parse_long(o->value ? o->value : o->def, min, max, &ok);
	if (!ok) {
		snprintf(err, errlen, "--%s: want a whole number from %ld to %ld, not '%s'", o->name, min, max,
			 o->value ? o->value : o->def);
		return -1;
	}
	*out = v;
	return 0;
}

void cloud_upload_status(struct cloud *c, int *last_pct, long long sent, long long total)
{
	int pct = total > 0 ? (int)(100 * sent / total) : 0;
	if (pct / 10 <= *last_pct / 10)
		return;
	*last_pct = pct;
	det_emit_status(c->job, pct, "Uploading video to analysis service…");
}

int cloud_lines_option(const struct det_option *o, char *out, size_t n, char *err, size_t errlen)
{
	const char *v = o->value ? o->value : o->def;
	size_t len = strlen(v);
	int ok = len >= 2 && len < n;
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_';
	if (!strcmp(v, "none")) {
		out[0] = '\0';
		return 0;
	}
	if (!ok) {
		snprintf(err, errlen, "--%s: a language (en, es, pt-BR) or none, not '%s'", o->name, v);
		return -1;
	}
	snprintf(out, n, "%s", v);
	return 0;
}

int cloud_fatal_status(long status)
{
	return status == 400 || status == 401 || status == 403 || status == 404;
}

int cloud_piece_answer(struct cloud *c, int index, const struct http_resp *resp, cloud_extract_fn extract,
		       const char *what, const char *lines_lang)
{
	if (!resp->ok) {
		if (cloud_fatal_status(resp->status))
			return cloud_piece_fatal(c, index, resp->error);
		return cloud_piece_done(c, index, NULL, resp->error);
	}
	struct cloud_piece *pc = &c->pieces[index];
	struct buf text = {0};
	char err[512], msg[700];
	json_object *events = NULL;
	if (extract(resp->body.data, resp->body.len, &text, err, sizeof err) == 0)
		events = api_parse_events(text.data, text.len, pc->start, pc->end, err, sizeof err);
	buf_free(&text);
	if (!events) {
		snprintf(msg, sizeof msg, "%s: %s", what, err);
		return cloud_piece_done(c, index, NULL, msg);
	}
	for (size_t i = 0; lines_lang && *lines_lang && i < json_object_array_length(events); i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		if (rec_str(ev, "line"))
			rec_set_str(ev, "line_lang", lines_lang);
	}
	return cloud_piece_done(c, index, events, NULL);
}

const char *cloud_opt(const struct det_option *o)
{
	return o->value ? o->value : o->def;
}

int cloud_setup(struct api_client *client, enum api_service s, const char *backend, struct det_option *opts,
		const struct det_option *lines, long *jobs, char *lines_lang, size_t n, char *err, size_t errlen)
{
	char base_opt[64];
	snprintf(base_opt, sizeof base_opt, "--%s", opts[1].name);
	if (!*cloud_opt(&opts[0])) {
		snprintf(err, errlen, "--%s: empty", opts[0].name);
		return -1;
	}
	if (cloud_count_option(&opts[2], 1, 64, jobs, err, errlen) < 0 ||
	    cloud_lines_option(lines, lines_lang, n, err, errlen) < 0 ||
	    api_client_init(client, s, err, errlen) < 0 ||
	    api_client_base(client, cloud_opt(&opts[1]), base_opt, err, errlen) < 0 ||
	    api_client_need_key(client, backend, err, errlen) < 0)
		return -1;
	return 0;
}
