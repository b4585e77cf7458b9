/* The stream: records in, records out, per session and in order.
 *
 * `events` records feed the session's planner; each final window becomes a
 * backend job whose place in the session's output queue is taken at once,
 * so commentary leaves in index order however the jobs finish.  Every other
 * record of a session goes through the same queue (its order kept);
 * records without a session go out at once.  `session_end` is queued after
 * the session's last window, so it leaves only after all its commentary. */
#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nsess {
	char id[SESS_ID_MAX];
	struct outq q;
	struct plan plan;
	json_object *texts;        /* texts[index]: what each highlight said */
	int next_index;
	int inflight;              /* jobs queued or running */
	int ended;                 /* session_end seen */
	json_object *session_rec;  /* its session record, when one came */
	void *backend_priv;
	void *local_priv;          /* the offline commentator's */
};

struct stage_job {
	struct nar_job job;        /* first: the backend sees only this */
	struct nsess *s;
	struct outq_item *item;
	struct stage_job *next;
};

static const struct nar_backend *backend;   /* for the session destructor */

static void nsess_free(void *data)
{
	struct nsess *s = data;
	outq_free(&s->q);
	plan_free(&s->plan);
	json_object_put(s->texts);
	json_object_put(s->session_rec);
	if (s->backend_priv && backend->sess_free)
		backend->sess_free(s->backend_priv);
	if (s->local_priv)
		nar_local_sess_free(s->local_priv);
}

void stage_init(struct stage *st, struct loop *l, struct nar_opts *o, const struct nar_backend *be)
{
	memset(st, 0, sizeof *st);
	st->loop = l;
	st->o = o;
	st->be = backend = be;
	st->po = (struct plan_opts){
		.lead = o->lead, .tail = o->tail, .min_score = o->min_score,
		.max_per_interval = o->max_per_interval, .full = o->full,
		.min_len = fit_min_window(o->delay, o->wps),
	};
	st->sessions.data_size = sizeof(struct nsess);
	st->sessions.free_data = nsess_free;
	nd_init(&st->rd, 0, "stdin");
}

static struct nsess *session(struct stage *st, const char *id)
{
	struct nsess *s = sess_get(&st->sessions, id);
	if (!s->id[0]) {
		snprintf(s->id, sizeof s->id, "%s", id);
		s->texts = json_object_new_array();
	}
	return s;
}

/* Write what can go; forget a session once all of it is out. */
static void settle(struct stage *st, struct nsess *s)
{
	outq_flush(&s->q);
	if (s->ended && !s->inflight && outq_empty(&s->q))
		sess_drop(&st->sessions, s->id);
}

/* ---- jobs ---- */

static void queue_window(void *arg, struct plan_window *w)
{
	struct stage_cb *cb = arg;
	struct stage *st = cb->st;
	struct nsess *s = cb->s;
	struct stage_job *sj = pc_xcalloc(1, sizeof *sj);
	struct nar_job *j = &sj->job;
	sj->s = s;
	sj->item = outq_push(&s->q);
	j->session = s->id;
	j->index = s->next_index++;
	j->start = w->start;
	j->end = w->end;
	j->duration = s->plan.duration;
	j->events = w->events;          /* ours now */
	j->full = st->o->full;
	j->delay = st->o->delay;
	j->wps = st->o->wps;
	j->max_words = fit_budget(w->end - w->start, st->o->delay, st->o->wps);
	j->lang = st->o->lang;
	j->style = st->o->style;
	j->sess_priv = &s->backend_priv;
	j->local_priv = &s->local_priv;
	j->opts = st->o;
	j->loop = st->loop;
	j->stage = st;
	s->inflight++;
	if (st->tail)
		st->tail->next = sj;
	else
		st->head = sj;
	st->tail = sj;
}

/* The session's texts so far, in index order. */
static json_object *earlier_texts(struct nsess *s, int before)
{
	json_object *list = json_object_new_array();
	for (int i = 0; i < before && (size_t)i < json_object_array_length(s->texts); i++) {
		json_object *t = json_object_array_get_idx(s->texts, (size_t)i);
		if (t)
			json_object_array_add(list, json_object_get(t));
	}
	return list;
}

void stage_pump(struct stage *st)
{
	while (st->head && st->running < st->o->jobs) {
		struct stage_job *sj = st->head;
		st->head = sj->next;
		if (!st->head)
			st->tail = NULL;
		sj->job.earlier = earlier_texts(sj->s, sj->job.index);
		sj->job.session_rec = json_object_get(sj->s->session_rec);
		st->running++;
		st->be->start(&sj->job);   /* may finish it at once */
	}
}

static json_object *commentary(struct stage *st, struct nar_job *j, const char *text)
{
	json_object *rec = rec_new("commentary", j->session);
	rec_set_int(rec, "index", j->index);
	rec_set_num(rec, "start", j->start);
	rec_set_num(rec, "end", j->end);
	rec_set_str(rec, "text", text);
	json_object_object_add(rec, "events", json_object_get(j->events));
	rec_set_str(rec, "backend", j->made_by ? j->made_by : st->be->name);
	rec_set_num(rec, "wps", j->wps);
	rec_set_num(rec, "delay", j->delay);
	rec_set_str(rec, "lang", j->lang);
	rec_set_str(rec, "style", j->style && *j->style ? j->style : NULL);
	return rec;
}

void nar_job_done(struct nar_job *j, const char *text, const char *err)
{
	struct stage_job *sj = (struct stage_job *)j;
	struct stage *st = j->stage;
	struct nsess *s = sj->s;
	char *said = text ? pc_xstrdup(text) : NULL;
	if (said) {
		/* The backend's text, held to the window whatever it sent. */
		fit_trim(said, j->max_words);
		if (!*said)
			err = "no text that fits the window";
	}
	if (said && *said) {
		outq_add(sj->item, commentary(st, j, said));
		json_object_array_put_idx(s->texts, (size_t)j->index, json_object_new_string(said));
	} else {
		char msg[600];
		snprintf(msg, sizeof msg, "highlight %d (%.1f-%.1f s): %s: %s", j->index, j->start, j->end,
			 j->made_by ? j->made_by : st->be->name, err ? err : "failed");
		pc_warn("session %s: %s", s->id, msg);
		outq_add(sj->item, rec_error(s->id, j->index, NULL, msg));
		st->failed++;
	}
	free(said);
	outq_ready(sj->item);
	json_object_put(j->events);
	json_object_put(j->earlier);
	json_object_put(j->session_rec);
	free(sj);
	st->running--;
	s->inflight--;
	settle(st, s);
}

/* ---- records ---- */

static void on_events(struct stage *st, struct nsess *s, json_object *rec, const char *input)
{
	struct plan_interval *iv = pc_xmalloc(sizeof *iv);
	char err[300];
	if (plan_parse_events(rec, iv, err, sizeof err) < 0) {
		pc_warn("%s: %s", input, err);
		outq_push_record(&s->q, rec_error(s->id, -1, input, err));
		st->bad_input = 1;
		free(iv);
		return;
	}
	if (iv->skipped) {
		snprintf(err, sizeof err, "interval %ld: %d event%s skipped (%s)", iv->index, iv->skipped,
			 iv->skipped == 1 ? "" : "s", iv->skip_reason);
		pc_warn("%s: %s", input, err);
		outq_push_record(&s->q, rec_error(s->id, -1, input, err));
		st->bad_input = 1;
	}
	struct stage_cb cb = {st, s};
	plan_add_interval(&s->plan, &st->po, iv, queue_window, &cb);
	plan_interval_release(iv);
	free(iv);
}

static void end_session(struct stage *st, struct nsess *s)
{
	struct stage_cb cb = {st, s};
	plan_finish(&s->plan, &st->po, queue_window, &cb);
	if (s->plan.dropped) {
		char msg[200];
		snprintf(msg, sizeof msg, "%d highlight%s too short to narrate (under %.1f s) left out",
			 s->plan.dropped, s->plan.dropped == 1 ? "" : "s", st->po.min_len);
		outq_push_record(&s->q, rec_status(s->id, -1, msg));
		s->plan.dropped = 0;
	}
}

static void on_record(struct stage *st, json_object *rec, const char *input)
{
	const char *type = rec_type(rec);
	const char *id = rec_str(rec, "session");
	if (id && !sess_id_valid(id))
		id = NULL;
	if (!id) {
		if (!strcmp(type, "events")) {
			out_error(NULL, -1, input, "%s: events record without a valid \"session\"", input);
			st->bad_input = 1;
		} else
			out_record(rec);
		json_object_put(rec);
		return;
	}
	struct nsess *s = session(st, id);
	if (!strcmp(type, "events")) {
		on_events(st, s, rec, input);
		json_object_put(rec);
	} else {
		if (!strcmp(type, "session")) {
			double d;
			if (rec_num(rec, "duration", &d) == 0 && d > 0)
				s->plan.duration = d;
			json_object_put(s->session_rec);
			s->session_rec = json_object_get(rec);
			s->ended = 0;
		}
		if (!strcmp(type, "session_end")) {
			end_session(st, s);
			s->ended = 1;
		}
		outq_push_record(&s->q, rec);
	}
	/* Settle before running jobs: the last job's end may drop s. */
	settle(st, s);
	stage_pump(st);
}

/* Everything buffered on stdin; at its end, every session's windows. */
static void on_input(struct loop *l, int fd, short revents, void *arg)
{
	struct stage *st = arg;
	(void)revents;
	if (nd_fill(&st->rd) < 0 && errno != EAGAIN && errno != EINTR) {
		out_error(NULL, -1, NULL, "stdin: read error: %s", strerror(errno));
		st->bad_input = 1;
		st->rd.eof = 1;
	}
	for (;;) {
		json_object *rec;
		char err[400], input[64];
		enum nd_result r = nd_next(&st->rd, &rec, err, sizeof err);
		if (r == ND_AGAIN)
			return;
		if (r == ND_EOF)
			break;
		snprintf(input, sizeof input, "%s:%ld", st->rd.name, st->rd.line);
		if (r == ND_BAD) {
			out_error(NULL, -1, input, "%s", err);
			st->bad_input = 1;
			continue;
		}
		on_record(st, rec, input);
	}
	loop_del_fd(l, fd);
	st->eof = 1;
	/* The stream ended: sessions without a session_end are done too. */
	for (struct sess *p = st->sessions.head; p; p = p->next) {
		struct stage_cb cb = {st, p->data};
		plan_finish(&((struct nsess *)p->data)->plan, &st->po, queue_window, &cb);
	}
	stage_pump(st);
}

int stage_run(struct stage *st)
{
	loop_add_fd(st->loop, 0, POLLIN, on_input, st);
	while (!st->eof || st->running || st->head) {
		stage_pump(st);
		if (st->eof && !st->running && !st->head)
			break;
		loop_run_once(st->loop, -1);
	}
	for (struct sess *p = st->sessions.head; p; p = p->next)
		outq_flush(&((struct nsess *)p->data)->q);
	return st->bad_input ? PC_EXIT_FAIL : PC_EXIT_OK;
}

void stage_free(struct stage *st)
{
	sess_free_all(&st->sessions);
	nd_free(&st->rd);
}
