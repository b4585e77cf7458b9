/* One commentary request per highlight.  See cloud.h. */
#define _GNU_SOURCE
#include "cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nar_cloud_usable(enum api_service s)
{
	return api_key_set(s);
}

int nar_cloud_init(struct nar_cloud *nc, char *err, size_t errlen)
{
	if (api_client_init(&nc->client, nc->service, err, errlen) < 0)
		return -1;
	const char *lines = getenv("PLAYCALL_NARRATE_LINES");
	if (lines && *lines && strcmp(lines, "reuse") && strcmp(lines, "ask")) {
		snprintf(err, errlen, "PLAYCALL_NARRATE_LINES: reuse or ask, not '%.100s'", lines);
		return -1;
	}
	nc->reuse_lines = !lines || !*lines || !strcmp(lines, "reuse");
	const char *fb = getenv("PLAYCALL_NARRATE_FALLBACK");
	if (fb && *fb && strcmp(fb, "local") && strcmp(fb, "none")) {
		snprintf(err, errlen, "PLAYCALL_NARRATE_FALLBACK: local or none, not '%.100s'", fb);
		return -1;
	}
	nc->fallback_local = fb && !strcmp(fb, "local");
	return api_client_need_key(&nc->client, nc->client.service == API_GEMINI ? "gemini" : "openai", err, errlen);
}

void nar_cloud_cleanup(struct nar_cloud *nc)
{
	api_client_free(&nc->client);
}

static int said_before(json_object *earlier, const char *line)
{
	size_t n = earlier && json_object_is_type(earlier, json_type_array) ? json_object_array_length(earlier) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(earlier, i));
		if (s && !strcmp(s, line))
			return 1;
	}
	return 0;
}

const char *nar_cloud_reusable_line(json_object *events, const char *lang, json_object *earlier, double max_words)
{
	const char *best = NULL;
	double best_score = -1;
	size_t n = events && json_object_is_type(events, json_type_array) ? json_object_array_length(events) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		const char *line = rec_str(ev, "line"), *ll = rec_str(ev, "line_lang");
		double score = 0;
		rec_num(ev, "score", &score);
		if (!line || !*line || !ll || !lang || strcmp(ll, lang) || score <= best_score)
			continue;
		if (fit_words(line) > max_words || said_before(earlier, line))
			continue;
		best = line;
		best_score = score;
	}
	return best;
}

struct creq {
	struct nar_cloud *nc;
	struct nar_job *job;
};

/* The request failed: skip the highlight, or say the offline line. */
static void failed(struct nar_cloud *nc, struct nar_job *job, const char *why)
{
	struct buf text = {0};
	char err[512];
	if (nc->fallback_local && nar_local_compose(job, &text, err, sizeof err) == 0) {
		pc_warn("highlight %d: %s; the offline commentator speaks instead", job->index, why);
		job->made_by = "local";
		nar_job_done(job, buf_cstr(&text), NULL);
	} else {
		nar_job_done(job, NULL, why);
	}
	buf_free(&text);
}

static void on_answer(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct creq *q = arg;
	struct nar_job *job = q->job;
	struct nar_cloud *nc = q->nc;
	(void)r;
	if (!resp->ok) {
		free(q);
		failed(nc, job, resp->error);
		return;
	}
	struct buf text = {0};
	char err[512], line[API_TEXT_MAX], msg[700];
	if (q->nc->answer(resp->body.data, resp->body.len, &text, err, sizeof err) == 0 &&
	    api_parse_line(text.data, text.len, 0, line, sizeof line, err, sizeof err) == 0) {
		free(q);
		buf_free(&text);
		nar_job_done(job, line, NULL);   /* the stage holds it to the window */
		return;
	}
	snprintf(msg, sizeof msg, "%s: %s", q->nc->client.name, err);
	free(q);
	buf_free(&text);
	failed(nc, job, msg);
}

void nar_cloud_start(struct nar_cloud *nc, struct nar_job *job)
{
	if (nc->reuse_lines) {
		const char *line = nar_cloud_reusable_line(job->events, job->lang, job->earlier, job->max_words);
		if (line) {
			nar_job_done(job, line, NULL);
			return;
		}
	}
	struct api_narrate_ask ask = {
		.length = job->end - job->start,
		.max_words = job->max_words >= 1 ? (int)job->max_words : 1,
		.lang = job->lang,
		.style = job->style,
		.events = job->events,
		.start = job->start,
		.earlier = job->earlier,
	};
	struct buf prompt = {0};
	api_narrate_prompt(&prompt, &ask);
	const char *model = job->opts->model && *job->opts->model ? job->opts->model : nc->default_model;
	struct creq *q = pc_xcalloc(1, sizeof *q);
	q->nc = nc;
	q->job = job;
	struct http_req *r = nc->request(nc, model, buf_cstr(&prompt));
	buf_free(&prompt);
	http_start(job->loop, r, on_answer, q);
}
