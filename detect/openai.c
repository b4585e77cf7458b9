/* detect --backend openai: video analysis by an OpenAI-compatible vision
 * model (OpenAI, or a local server: Ollama, llama.cpp, vLLM).
 *
 * One ffmpeg samples JPEG frames (--openai-fps a second, --openai-width
 * pixels wide) as it decodes; as soon as the frames of an interval are in,
 * they go as image_url data URLs, each after a "t=..." text part, to
 * {base}/chat/completions with a strict JSON schema for the events (and a
 * commentary line per event with --openai-lines), --openai-jobs requests in
 * flight.  Intervals and the cache are detect/cloud.c's. */
#define _GNU_SOURCE
#include "cloud.h"
#include "api_common.h"
#include "api_media.h"
#include "api_openai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAI_FRAMES_MAX 32    /* images in one request; more are thinned evenly */

static struct det_option openai_options[] = {
	{"openai-model", "PLAYCALL_OPENAI_MODEL", "NAME", "the vision model that looks at the frames",
	 OPENAI_CHAT_MODEL_DEFAULT, NULL},
	{"openai-base-url", "OPENAI_BASE_URL", "URL", "the OpenAI-compatible endpoint (a local server too)",
	 "https://api.openai.com/v1", NULL},
	{"openai-jobs", "PLAYCALL_DETECT_JOBS", "N", "analysis requests in flight at once", CLOUD_JOBS_DEFAULT, NULL},
	{"openai-fps", "PLAYCALL_OPENAI_FPS", "RATE", "frames sampled a second", "0.5", NULL},
	{"openai-width", "PLAYCALL_OPENAI_WIDTH", "PX", "width of the sampled frames", "512", NULL},
	{"openai-detail", "PLAYCALL_OPENAI_DETAIL", "LEVEL", "image detail asked for: low, high or auto", "low", NULL},
	{"openai-lines", "PLAYCALL_DETECT_LINES", "LANG",
	 "also ask for a spoken commentary line per event in this language; none: do not", "en", NULL},
	{0},
};
enum { OPT_MODEL, OPT_BASE, OPT_JOBS, OPT_FPS, OPT_WIDTH, OPT_DETAIL, OPT_LINES };

static struct api_client client;
static long jobs, width;
static double fps;
static char lines_lang[16];

static const char *opt(int i)
{
	return cloud_opt(&openai_options[i]);
}

static int openai_setup(char *err, size_t errlen)
{
	if (cloud_setup(&client, API_OPENAI, "openai", openai_options, &openai_options[OPT_LINES], &jobs,
			lines_lang, sizeof lines_lang, err, errlen) < 0 ||
	    cloud_count_option(&openai_options[OPT_WIDTH], 64, 4096, &width, err, errlen) < 0)
		return -1;
	fps = pc_parse_seconds(opt(OPT_FPS));
	if (!(fps >= 0.05 && fps <= 30)) {
		snprintf(err, errlen, "--openai-fps: want frames a second from 0.05 to 30, not '%s'", opt(OPT_FPS));
		return -1;
	}
	const char *d = opt(OPT_DETAIL);
	if (strcmp(d, "low") && strcmp(d, "high") && strcmp(d, "auto")) {
		snprintf(err, errlen, "--openai-detail: low, high or auto, not '%s'", d);
		return -1;
	}
	return 0;
}

/* ---- one job ---- */

struct frame {
	double t;
	unsigned char *jpeg;
	size_t len;
};

struct frames {                 /* a piece's frames until its request goes */
	struct frame *f;
	int n, cap;
};

struct oai {
	struct cloud c;             /* first: c.owner is this */
	struct det_job *job;
	struct api_frames *sampler;
	int cursor;                 /* the piece frames now go to */
	struct http_req **reqs;     /* per piece, while in flight */
};

static void frames_free(struct frames *fr)
{
	if (!fr)
		return;
	for (int i = 0; i < fr->n; i++)
		free(fr->f[i].jpeg);
	free(fr->f);
	free(fr);
}

struct oreq {
	struct oai *o;
	int piece;
};

static void on_chat(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct oreq *q = arg;
	struct oai *o = q->o;
	int piece = q->piece;
	(void)r;
	free(q);
	o->reqs[piece] = NULL;
	cloud_piece_answer(&o->c, piece, resp, api_openai_parse_chat, "OpenAI chat", lines_lang);
}

static void start_piece(struct cloud *c, int index)
{
	struct oai *o = c->owner;
	struct cloud_piece *pc = &c->pieces[index];
	struct frames *fr = pc->priv;
	pc->priv = NULL;
	struct buf prompt = {0};
	api_detect_prompt(&prompt, pc->start, pc->end - pc->start, lines_lang[0] != 0, lines_lang);
	buf_puts(&prompt, " The frames follow, each after its time t in seconds from the start of the clip.");
	json_object *parts = json_object_new_array();
	json_object_array_add(parts, api_openai_text_part(buf_cstr(&prompt)));
	buf_free(&prompt);
	int n = fr->n, take = n < OPENAI_FRAMES_MAX ? n : OPENAI_FRAMES_MAX;
	for (int k = 0; k < take; k++) {
		struct frame *f = &fr->f[(long)k * n / take];
		char t[32];
		snprintf(t, sizeof t, "t=%.1f", f->t - pc->start);
		json_object_array_add(parts, api_openai_text_part(t));
		json_object_array_add(parts, api_openai_image_part(f->jpeg, f->len, opt(OPT_DETAIL)));
	}
	frames_free(fr);
	json_object *body = api_openai_chat_body(opt(OPT_MODEL),
						 "You mark the highlights of football matches from video frames.",
						 parts, "match_events",
						 api_events_schema(API_DIALECT_OPENAI, lines_lang[0] != 0));
	struct oreq *q = pc_xcalloc(1, sizeof *q);
	q->o = o;
	q->piece = index;
	o->reqs[index] = api_openai_req(&client, "chat/completions", "chat", body);
	json_object_put(body);
	http_start(o->job->loop, o->reqs[index], on_chat, q);
}

/* Piece i has all its frames: send it, or end it when there are none. */
static int piece_complete(struct oai *o, int i)
{
	struct cloud_piece *pc = &o->c.pieces[i];
	if (pc->state != PIECE_WAITING)
		return 0;
	struct frames *fr = pc->priv;
	if (!fr || fr->n == 0) {
		frames_free(fr);
		pc->priv = NULL;
		return cloud_piece_done(&o->c, i, json_object_new_array(), NULL);
	}
	cloud_piece_ready(&o->c, i);
	return 0;
}

static void on_frame(void *arg, int n, double t, const unsigned char *jpeg, size_t len)
{
	struct oai *o = arg;
	(void)n;
	struct cloud *c = &o->c;
	while (o->cursor < c->npieces && t >= c->pieces[o->cursor].end) {
		if (piece_complete(o, o->cursor++))
			return;
	}
	if (o->cursor >= c->npieces || t < c->pieces[o->cursor].start)
		return;    /* an interval the cache had */
	struct cloud_piece *pc = &c->pieces[o->cursor];
	struct frames *fr = pc->priv;
	if (!fr)
		fr = pc->priv = pc_xcalloc(1, sizeof *fr);
	if (fr->n == fr->cap) {
		fr->cap = fr->cap ? fr->cap * 2 : 16;
		fr->f = pc_xrealloc(fr->f, (size_t)fr->cap * sizeof *fr->f);
	}
	fr->f[fr->n].t = t;
	fr->f[fr->n].jpeg = pc_xmalloc(len);
	memcpy(fr->f[fr->n].jpeg, jpeg, len);
	fr->f[fr->n++].len = len;
}

static void on_frames_done(void *arg, int status, const char *err)
{
	struct oai *o = arg;
	o->sampler = NULL;
	int any = 0;
	for (int i = 0; i < o->c.npieces; i++)
		any |= o->c.pieces[i].priv != NULL;
	if (status < 0 && !any && o->cursor == 0) {
		cloud_fail(&o->c, err);
		return;
	}
	if (status < 0)
		det_emit_error(o->job, -1, "%s", err);
	while (o->cursor < o->c.npieces)
		if (piece_complete(o, o->cursor++))
			return;
	cloud_check(&o->c);
}

static void cleanup(struct cloud *c)
{
	struct oai *o = c->owner;
	api_frames_cancel(o->sampler);
	for (int i = 0; i < c->npieces; i++) {
		frames_free(c->pieces[i].priv);
		c->pieces[i].priv = NULL;
		if (o->reqs[i])
			http_cancel(o->reqs[i]);
	}
	free(o->reqs);
}

static int openai_start(struct det_job *job)
{
	if (!job->mi->has_video) {
		det_emit_error(job, -1, "no video stream to sample frames from");
		return -1;
	}
	struct oai *o = pc_xcalloc(1, sizeof *o);
	o->job = job;
	/* The server too: another one is another model. */
	struct buf key = {0};
	buf_printf(&key, "openai|%s|%s|lines=%s|fps=%g|w=%ld|%s", client.base, opt(OPT_MODEL),
		   lines_lang[0] ? lines_lang : "none", fps, width, opt(OPT_DETAIL));
	cloud_open(&o->c, job, buf_cstr(&key), (int)jobs, start_piece);
	buf_free(&key);
	o->c.owner = o;
	o->c.cleanup = cleanup;
	if (o->c.left == 0) {
		cloud_check(&o->c);
		return 0;
	}
	for (int i = 0; i < job->intervals; i++)
		if (cloud_needed(&o->c, job->bounds[i], job->bounds[i + 1]))
			cloud_add_piece(&o->c, job->bounds[i], job->bounds[i + 1]);
	o->c.all_known = 1;
	o->reqs = pc_xcalloc((size_t)o->c.npieces + 1, sizeof *o->reqs);
	det_emit_status(job, -1, "Sampling frames for the analysis service…");
	o->sampler = api_frames_start(job->loop, job->source, fps, (int)width, on_frame, on_frames_done, o);
	return 0;
}

const struct det_backend det_backend_openai = {
	.name = "openai",
	.key_env = "OPENAI_API_KEY",
	.options = openai_options,
	.interval = DET_REMOTE_INTERVAL,
	.setup = openai_setup,
	.start = openai_start,
};
