/* The offline backend: the built-in commentator over the language's phrase
 * table.  It needs no network and finishes each job at once. */
#define _GNU_SOURCE
#include "backend.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ph_table table;
static int table_loaded;

/* The language's table (or --phrases), once. */
static int load_table(const struct nar_opts *o, char *err, size_t errlen)
{
	if (table_loaded)
		return 0;
	char path[PATH_MAX], why[512];
	const char *file = o->phrases;
	if (!file) {
		if (ph_path(o->lang, path, sizeof path) < 0) {
			snprintf(err, errlen, "--lang %s: not a language name", o->lang);
			return -1;
		}
		file = path;
	}
	if (ph_load(file, &table, why, sizeof why) < 0) {
		if (o->phrases)
			snprintf(err, errlen, "phrase table %s", why);
		else
			snprintf(err, errlen, "phrase table for --lang %s: %s", o->lang, why);
		return -1;
	}
	if (!o->phrases && strcmp(table.lang, o->lang)) {
		snprintf(err, errlen, "phrase table %s says it is lang %s", file, table.lang);
		ph_free(&table);
		return -1;
	}
	table_loaded = 1;
	return 0;
}

static int local_usable(const struct nar_opts *o)
{
	(void)o;
	return 1;
}

static int local_init(struct loop *l, struct nar_opts *o, char *err, size_t errlen)
{
	(void)l;
	if (load_table(o, err, errlen) < 0)
		return -1;
	if (o->phrases)
		snprintf(o->lang, sizeof o->lang, "%s", table.lang);
	if (!o->style[0]) {
		if (table.nstyles)
			snprintf(o->style, sizeof o->style, "%s", table.styles[0]);
		return 0;
	}
	if (!ph_has_style(&table, o->style)) {
		struct buf have = {0};
		for (int i = 0; i < table.nstyles; i++)
			buf_printf(&have, "%s%s", i ? ", " : "", table.styles[i]);
		snprintf(err, errlen, "--style %s: the %s table has %s%s", o->style, table.lang,
			 table.nstyles ? "only " : "no styles", table.nstyles ? buf_cstr(&have) : "");
		buf_free(&have);
		return -1;
	}
	return 0;
}

void nar_local_sess_free(void *priv)
{
	cm_state_free(priv);
	free(priv);
}

int nar_local_compose(struct nar_job *job, struct buf *out, char *err, size_t errlen)
{
	if (load_table(job->opts, err, errlen) < 0)
		return -1;
	struct cm_state *st = *job->local_priv;
	if (!st) {
		st = pc_xcalloc(1, sizeof *st);
		cm_state_init(st, job->opts->seed, job->session);
		*job->local_priv = st;
	}
	const char *style = job->style && ph_has_style(&table, job->style) ? job->style
			    : table.nstyles ? table.styles[0] : "";
	size_t n = json_object_array_length(job->events);
	struct cm_event *ev = pc_xcalloc(n + 1, sizeof *ev);
	struct cm_request rq = {.start = job->start, .end = job->end, .ev = ev, .peak = -1,
				.full = job->full, .style = style, .max_words = job->max_words};
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(job->events, i);
		struct cm_event *c = &ev[rq.nev];
		if (rec_num(e, "t", &c->t) < 0)
			continue;
		if (rec_num(e, "score", &c->score) < 0)
			c->score = 1;
		c->kind = rec_str(e, "kind");
		c->label = rec_str(e, "label");
		if (rq.peak < 0 || c->score > ev[rq.peak].score)
			rq.peak = rq.nev;
		rq.nev++;
	}
	int rc = cm_compose(&table, &rq, st, out);
	free(ev);
	if (rc < 0)
		snprintf(err, errlen, "the window is too short for a word");
	return rc;
}

static void local_start(struct nar_job *job)
{
	struct buf text = {0};
	char err[600];
	if (nar_local_compose(job, &text, err, sizeof err) == 0)
		nar_job_done(job, text.data, NULL);
	else
		nar_job_done(job, NULL, err);
	buf_free(&text);
}

static void local_cleanup(void)
{
	ph_free(&table);
	table_loaded = 0;
}

const struct nar_backend nar_local = {
	.name = "local",
	.usable = local_usable,
	.init = local_init,
	.start = local_start,
	.sess_free = NULL,   /* its state is the stage's local_priv slot */
	.cleanup = local_cleanup,
};
