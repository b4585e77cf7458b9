/* detect --backend gemini: video analysis by Google Gemini.
 *
 * Two ways to send the video (--gemini-upload):
 *   segments (default)  ffmpeg cuts the video at every interval bound and
 *       every --gemini-segment seconds, re-encoded at one frame a second
 *       (--gemini-video HEIGHT, the default) or copied and cut at keyframes
 *       (--gemini-video copy).  A reduced segment goes inline in its
 *       analysis request: one round trip, no upload, no wait for the file
 *       to be processed.  A copied one is uploaded first (Files API,
 *       resumable), in order, as soon as it is cut.  Each is analysed as
 *       soon as it can be, --gemini-jobs requests in flight: the first
 *       interval waits for its own segment only, not for the whole video.
 *   whole  one upload of the file, then one generateContent per interval
 *       with videoMetadata start/end offsets (the seed's way).
 * Either way the answer is JSON through a response schema: per event t,
 * kind, label, score and (--gemini-lines LANG) a spoken commentary line,
 * which narrate can use without another request.  Events are assembled
 * into intervals and cached by detect/cloud.c. */
#define _GNU_SOURCE
#include "cloud.h"
#include "api_common.h"
#include "api_gemini.h"
#include "api_media.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GEMINI_SEGMENT_DEFAULT "5"
/* Gemini samples a video at one frame a second and gives each frame a
 * fixed budget of about 258 tokens (its video-understanding docs), sound at
 * 1 kbps mono: one 640x360 frame a second, with the sound as it is, carries
 * what the model takes in, in a tenth of the bytes of 720p. */
#define GEMINI_VIDEO_DEFAULT "360"

static struct det_option gemini_options[] = {
	{"gemini-model", "PLAYCALL_GEMINI_MODEL", "NAME", "the Gemini model that watches the video",
	 GEMINI_MODEL_DEFAULT, NULL},
	{"gemini-base-url", "GEMINI_BASE_URL", "URL", "the Gemini API endpoint",
	 "https://generativelanguage.googleapis.com", NULL},
	{"gemini-jobs", "PLAYCALL_DETECT_JOBS", "N", "analysis requests in flight at once", CLOUD_JOBS_DEFAULT, NULL},
	{"gemini-upload", "PLAYCALL_GEMINI_UPLOAD", "HOW",
	 "segments: cut at keyframes, upload and analyse each as it comes; whole: one upload, then a request per interval",
	 "segments", NULL},
	{"gemini-segment", "PLAYCALL_GEMINI_SEGMENT", "S", "longest segment in seconds (with --gemini-upload segments)",
	 GEMINI_SEGMENT_DEFAULT, NULL},
	{"gemini-video", "PLAYCALL_GEMINI_VIDEO", "HOW",
	 "a height: re-encoded at 1 frame a second, far fewer bytes to send; copy: segments as they are",
	 GEMINI_VIDEO_DEFAULT, NULL},
	{"gemini-uploads", "PLAYCALL_GEMINI_UPLOADS", "N",
	 "segment uploads at once (they share the uplink: one at a time brings the first segments soonest)", "1", NULL},
	{"gemini-lines", "PLAYCALL_DETECT_LINES", "LANG",
	 "also ask for a spoken commentary line per event in this language; none: do not", "en", NULL},
	{0},
};
enum { OPT_MODEL, OPT_BASE, OPT_JOBS, OPT_UPLOAD, OPT_SEGMENT, OPT_VIDEO, OPT_UPLOADS, OPT_LINES };

static struct api_client client;
static long jobs, uploads_at_once;
static int whole;
static double segment_len;
static int reduce_height;      /* 0: segments copied */
static char lines_lang[16];

static const char *opt(int i)
{
	return cloud_opt(&gemini_options[i]);
}

static int gemini_setup(char *err, size_t errlen)
{
	if (cloud_setup(&client, API_GEMINI, "gemini", gemini_options, &gemini_options[OPT_LINES], &jobs,
			lines_lang, sizeof lines_lang, err, errlen) < 0 ||
	    cloud_count_option(&gemini_options[OPT_UPLOADS], 1, 16, &uploads_at_once, err, errlen) < 0)
		return -1;
	if (strcmp(opt(OPT_UPLOAD), "segments") && strcmp(opt(OPT_UPLOAD), "whole")) {
		snprintf(err, errlen, "--gemini-upload: segments or whole, not '%s'", opt(OPT_UPLOAD));
		return -1;
	}
	whole = !strcmp(opt(OPT_UPLOAD), "whole");
	if (strcmp(opt(OPT_VIDEO), "copy")) {
		int ok;
		reduce_height = (int)pc_parse_long(opt(OPT_VIDEO), 90, 2160, &ok);
		if (!ok || reduce_height % 2) {
			snprintf(err, errlen, "--gemini-video: copy, or an even height from 90 to 2160, not '%s'",
				 opt(OPT_VIDEO));
			return -1;
		}
	}
	segment_len = pc_parse_seconds(opt(OPT_SEGMENT));
	if (!(segment_len >= 2 && segment_len <= 3600)) {
		snprintf(err, errlen, "--gemini-segment: want seconds from 2 to 3600, not '%s'", opt(OPT_SEGMENT));
		return -1;
	}
	return 0;
}

/* ---- one job ---- */

struct upload {
	int piece;
	char path[PATH_MAX];
	long long size, sent;
	struct gemini_upload *u;
	int started, done;
	struct gem *g;
};

struct preq {                /* one analysis request */
	struct gem *g;
	int piece;
	struct http_req *r;
	char err[PATH_MAX + 128];    /* the inline segment could not be read */
};

/* A reduced segment this small goes in its analysis request itself
 * (base64 adds a third; the prompt and schema fit in what is left). */
#define GEMINI_INLINE_MAX ((long long)GEMINI_REQUEST_MAX / 4 * 3 - 256 * 1024)

struct piece_video {         /* a piece's video, in its priv */
	int is_inline;           /* where: a segment file sent inline; else an uploaded file's URI */
	long long size;
	char where[];
};

static struct piece_video *piece_video_new(int is_inline, long long size, const char *where)
{
	size_t n = strlen(where) + 1;
	struct piece_video *v = pc_xmalloc(sizeof *v + n);
	v->is_inline = is_inline;
	v->size = size;
	memcpy(v->where, where, n);
	return v;
}

struct seam_cut {            /* the reduced clip of a second look, being cut */
	struct gem *g;
	int piece;
	char dir[PATH_MAX + 32];
	struct api_segmenter *seg;   /* NULL once done */
	struct seam_cut *next;
};

struct gem {
	struct cloud c;              /* first: c.owner is this */
	struct seam_cut *seams;
	struct det_job *job;
	int whole;
	char dir[PATH_MAX];          /* segment files, while they live */
	struct api_segmenter *seg;
	struct upload **ups;         /* each its own allocation: callbacks hold them */
	int nups, capups, uploading;
	long long bytes_total, bytes_done;
	int last_pct;
	struct gemini_upload *file_up;   /* whole mode */
	char file_uri[GEMINI_URI_MAX];
	char mime[64];
	struct preq **reqs;              /* per piece, while in flight */
	int nreqs;
};

static void start_whole(struct gem *g);

static void progress_total(struct gem *g)
{
	long long sent = g->bytes_done;
	for (int i = 0; i < g->nups; i++)
		if (g->ups[i]->started && !g->ups[i]->done)
			sent += g->ups[i]->sent;
	cloud_upload_status(&g->c, &g->last_pct, sent, g->bytes_total);
}

static void preq_slot(struct gem *g, int piece, struct preq *p)
{
	if (piece >= g->nreqs) {
		int n = piece + 32;
		g->reqs = pc_xrealloc(g->reqs, (size_t)n * sizeof *g->reqs);
		memset(g->reqs + g->nreqs, 0, (size_t)(n - g->nreqs) * sizeof *g->reqs);
		g->nreqs = n;
	}
	g->reqs[piece] = p;
}

static void on_analysis(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct preq *p = arg;
	struct gem *g = p->g;
	int piece = p->piece;
	(void)r;
	g->reqs[piece] = NULL;
	free(p);
	const struct piece_video *v = g->c.pieces[piece].priv;
	if (v && v->is_inline) {
		g->bytes_done += v->size;
		progress_total(g);
	}
	cloud_piece_answer(&g->c, piece, resp, api_gemini_parse_generate, "Gemini generateContent", lines_lang);
}

/* An inline segment that cannot be read fails its piece, from the loop:
 * start_piece runs inside the queue's pump. */
static void on_unreadable(struct loop *l, void *arg)
{
	struct preq *p = arg;
	struct gem *g = p->g;
	int piece = p->piece;
	char err[sizeof p->err];
	(void)l;
	snprintf(err, sizeof err, "%s", p->err);
	g->reqs[piece] = NULL;
	free(p);
	cloud_piece_done(&g->c, piece, NULL, err);
}

static void start_piece(struct cloud *c, int index)
{
	struct gem *g = c->owner;
	struct cloud_piece *pc = &c->pieces[index];
	struct preq *p = pc_xcalloc(1, sizeof *p);
	p->g = g;
	p->piece = index;
	struct buf prompt = {0};
	api_detect_prompt(&prompt, pc->start, pc->end - pc->start, lines_lang[0] != 0, lines_lang);
	json_object *schema = api_events_schema(API_DIALECT_GEMINI, lines_lang[0] != 0);
	const struct piece_video *v = pc->priv;
	json_object *body;
	if (g->whole) {
		body = api_gemini_video_body(g->file_uri, g->mime, pc->start, pc->end, buf_cstr(&prompt), schema);
	} else if (v->is_inline) {
		struct buf video = {0};
		if (buf_read_file(&video, v->where) < 0) {
			snprintf(p->err, sizeof p->err, "reading segment %s: %s", v->where, strerror(errno));
			json_object_put(schema);
			buf_free(&prompt);
			preq_slot(g, index, p);
			loop_add_timer(g->job->loop, 0, on_unreadable, p);
			return;
		}
		/* The request holds the bytes now, retries too. */
		unlink(v->where);
		body = api_gemini_inline_video_body(video.data, video.len, "video/mp4", buf_cstr(&prompt), schema);
		buf_free(&video);
	} else {
		body = api_gemini_video_body(v->where, "video/mp4", -1, -1, buf_cstr(&prompt), schema);
	}
	buf_free(&prompt);
	p->r = api_gemini_generate_req(&client, opt(OPT_MODEL), body);
	json_object_put(body);
	preq_slot(g, index, p);
	http_start(g->job->loop, p->r, on_analysis, p);
}

/* ---- segments ---- */

static void pump_uploads(struct gem *g);

static void on_up_progress(void *arg, long long sent, long long total)
{
	struct upload *up = arg;
	(void)total;
	up->sent = sent;
	progress_total(up->g);
}

static void on_segment_uploaded(struct gemini_upload *u, const struct api_gemini_file *f, const char *err,
				long status, void *arg)
{
	struct upload *up = arg;
	struct gem *g = up->g;
	(void)u;
	up->u = NULL;
	up->done = 1;
	g->uploading--;
	g->bytes_done += up->size;
	unlink(up->path);
	progress_total(g);
	if (!f) {
		if (cloud_fatal_status(status)) {
			cloud_fail(&g->c, err);
			return;
		}
		if (cloud_piece_done(&g->c, up->piece, NULL, err))
			return;
		pump_uploads(g);
		return;
	}
	g->c.pieces[up->piece].priv = piece_video_new(0, up->size, f->uri);
	cloud_piece_ready(&g->c, up->piece);
	pump_uploads(g);
}

static void pump_uploads(struct gem *g)
{
	for (int i = 0; i < g->nups && g->uploading < uploads_at_once; i++) {
		struct upload *up = g->ups[i];
		if (up->started)
			continue;
		up->started = 1;
		g->uploading++;
		char name[PATH_MAX + 64];
		const char *base = strrchr(g->job->source, '/');
		snprintf(name, sizeof name, "%s [%.1f-%.1f s]", base ? base + 1 : g->job->source,
			 g->c.pieces[up->piece].start, g->c.pieces[up->piece].end);
		up->u = gemini_upload_start(g->job->loop, &client, up->path, 0, up->size, "video/mp4", name,
					    on_up_progress, up, on_segment_uploaded, up);
	}
}

static void on_segment(void *arg, int index, const char *path, double start, double end)
{
	struct gem *g = arg;
	struct stat st;
	(void)index;
	int piece = cloud_add_piece(&g->c, start, end);
	if (!cloud_needed(&g->c, start, end) || stat(path, &st) < 0) {
		/* Every interval it touches came from the cache. */
		unlink(path);
		cloud_piece_done(&g->c, piece, json_object_new_array(), NULL);
		return;
	}
	if (reduce_height > 0 && (long long)st.st_size <= GEMINI_INLINE_MAX) {
		g->c.pieces[piece].priv = piece_video_new(1, (long long)st.st_size, path);
		g->bytes_total += (long long)st.st_size;
		cloud_piece_ready(&g->c, piece);
		return;
	}
	if (g->nups == g->capups) {
		g->capups = g->capups ? g->capups * 2 : 16;
		g->ups = pc_xrealloc(g->ups, (size_t)g->capups * sizeof *g->ups);
	}
	struct upload *up = pc_xcalloc(1, sizeof *up);
	g->ups[g->nups++] = up;
	up->piece = piece;
	up->g = g;
	up->size = (long long)st.st_size;
	snprintf(up->path, sizeof up->path, "%s", path);
	g->bytes_total += up->size;
	pump_uploads(g);
}

static void on_segments_done(void *arg, int status, const char *err)
{
	struct gem *g = arg;
	g->seg = NULL;
	if (status < 0 && g->c.npieces == 0) {
		/* ffmpeg cannot cut this file into MP4 segments: send it whole. */
		det_emit_status(g->job, -1, "could not cut %s into segments; uploading it whole", g->job->name);
		rmdir(g->dir);
		g->dir[0] = '\0';
		start_whole(g);
		return;
	}
	if (status < 0)
		det_emit_error(g->job, -1, "%s", err);
	cloud_all_known(&g->c);
}

/* ---- second looks at cuts (see cloud.h) ---- */

static void on_seam_clip(void *arg, int index, const char *path, double start, double end)
{
	struct seam_cut *sc = arg;
	struct cloud_piece *pc = &sc->g->c.pieces[sc->piece];
	struct stat st;
	(void)index;
	(void)start;
	(void)end;
	if (pc->priv || stat(path, &st) < 0 || (long long)st.st_size > GEMINI_INLINE_MAX) {
		unlink(path);
		return;
	}
	pc->priv = piece_video_new(1, (long long)st.st_size, path);
}

static void on_seam_cut(void *arg, int status, const char *err)
{
	struct seam_cut *sc = arg;
	struct cloud *c = &sc->g->c;
	sc->seg = NULL;
	if (c->pieces[sc->piece].priv)
		cloud_piece_ready(c, sc->piece);
	else
		cloud_piece_done(c, sc->piece, NULL, status < 0 && err ? err : "cutting a clip across a cut: no clip");
}

/* A second look: the whole file needs only a window; reduced segments, a
 * clip of its own, sent inline.  (Copied segments get none: a clip cut at
 * keyframes would not start where asked.) */
static int prepare_seam(struct cloud *c, int index, char *err, size_t errlen)
{
	struct gem *g = c->owner;
	if (g->whole) {
		cloud_piece_ready(c, index);
		return 0;
	}
	struct seam_cut *sc = pc_xcalloc(1, sizeof *sc);
	sc->g = g;
	sc->piece = index;
	snprintf(sc->dir, sizeof sc->dir, "%s/seam-%d", g->dir, index);
	sc->next = g->seams;
	g->seams = sc;
	if (mkdir(sc->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "a clip across the cut at %.1f s: %s: %s", c->pieces[index].at, sc->dir,
			 strerror(errno));
		return -1;
	}
	sc->seg = api_segment_start(g->job->loop, g->job->source, sc->dir, g->job->mi->acodec, c->pieces[index].start,
				    c->pieces[index].end, NULL, 0, reduce_height, on_seam_clip, on_seam_cut, sc);
	return 0;
}

/* ---- whole ---- */

static const char *mime_of(const struct media_info *mi)
{
	static const struct { const char *fmt, *mime; } map[] = {
		{"mov,mp4", "video/mp4"}, {"matroska,webm", "video/webm"}, {"avi", "video/avi"},
		{"mpeg", "video/mpeg"}, {"mpegts", "video/mp2t"}, {"flv", "video/x-flv"},
		{"asf", "video/wmv"}, {"3gp", "video/3gpp"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strncmp(mi->format, map[i].fmt, strlen(map[i].fmt)))
			return map[i].mime;
	return "video/mp4";
}

static void on_whole_progress(void *arg, long long sent, long long total)
{
	struct gem *g = arg;
	cloud_upload_status(&g->c, &g->last_pct, sent, total);
}

static void on_whole_uploaded(struct gemini_upload *u, const struct api_gemini_file *f, const char *err,
			      long status, void *arg)
{
	struct gem *g = arg;
	(void)u;
	(void)status;
	g->file_up = NULL;
	if (!f) {
		cloud_fail(&g->c, err);
		return;
	}
	snprintf(g->file_uri, sizeof g->file_uri, "%s", f->uri);
	const struct det_job *job = g->job;
	int first = g->c.npieces;
	for (int i = 0; i < job->intervals; i++)
		if (cloud_needed(&g->c, job->bounds[i], job->bounds[i + 1]))
			cloud_add_piece(&g->c, job->bounds[i], job->bounds[i + 1]);
	g->c.all_known = 1;
	int last = g->c.npieces;
	for (int k = first; k < last; k++)
		cloud_piece_ready(&g->c, k);
	cloud_check(&g->c);
}

static void start_whole(struct gem *g)
{
	struct stat st;
	g->whole = 1;
	snprintf(g->mime, sizeof g->mime, "%s", mime_of(g->job->mi));
	if (stat(g->job->source, &st) < 0) {
		char err[PATH_MAX + 64];
		snprintf(err, sizeof err, "%s", strerror(errno));
		cloud_fail(&g->c, err);
		return;
	}
	const char *base = strrchr(g->job->source, '/');
	g->file_up = gemini_upload_start(g->job->loop, &client, g->job->source, 0, (long long)st.st_size, g->mime,
					 base ? base + 1 : g->job->source, on_whole_progress, g,
					 on_whole_uploaded, g);
}

/* ---- start and the end ---- */

static void cleanup(struct cloud *c)
{
	struct gem *g = c->owner;
	api_segment_cancel(g->seg);
	gemini_upload_cancel(g->file_up);
	for (int i = 0; i < g->nups; i++) {
		if (g->ups[i]->u)
			gemini_upload_cancel(g->ups[i]->u);
		if (!g->ups[i]->done)
			unlink(g->ups[i]->path);
		free(g->ups[i]);
	}
	for (int i = 0; i < g->nreqs; i++) {
		if (g->reqs[i]) {
			if (g->reqs[i]->r)
				http_cancel(g->reqs[i]->r);
			else
				loop_del_timers(g->job->loop, g->reqs[i]);   /* on_unreadable */
			free(g->reqs[i]);
		}
	}
	for (int k = 0; k < c->npieces; k++) {
		const struct piece_video *v = c->pieces[k].priv;
		if (v && v->is_inline)
			unlink(v->where);    /* not sent, or already gone */
		free(c->pieces[k].priv);
	}
	while (g->seams) {
		struct seam_cut *sc = g->seams;
		g->seams = sc->next;
		api_segment_cancel(sc->seg);
		rmdir(sc->dir);
		free(sc);
	}
	if (g->dir[0])
		rmdir(g->dir);
	free(g->ups);
	free(g->reqs);
}

static int gemini_start(struct det_job *job)
{
	struct gem *g = pc_xcalloc(1, sizeof *g);
	g->job = job;
	g->last_pct = -1;
	char key[256];
	/* A reduced video is another question to the model; second looks at
	 * cuts change the answers. */
	snprintf(key, sizeof key, "gemini|%s|lines=%s|video=%s|seams=%d", opt(OPT_MODEL),
		 lines_lang[0] ? lines_lang : "none", whole ? "copy" : opt(OPT_VIDEO), whole || reduce_height > 0);
	cloud_open(&g->c, job, key, (int)jobs, start_piece);
	g->c.owner = g;
	g->c.cleanup = cleanup;
	if (whole || reduce_height > 0)
		g->c.prepare_seam = prepare_seam;
	if (g->c.left == 0) {
		cloud_check(&g->c);
		return 0;
	}
	det_emit_status(job, 0, "Uploading video to analysis service…");
	if (whole) {
		start_whole(g);
		return 0;
	}
	snprintf(g->dir, sizeof g->dir, "%s/.gemini-segments-XXXXXX", job->dir);
	if (!mkdtemp(g->dir)) {
		g->dir[0] = '\0';
		start_whole(g);
		return 0;
	}
	double *cuts = pc_xcalloc(API_SEGMENTS_MAX, sizeof *cuts);
	int n = api_segment_cuts(job->bounds, job->intervals, segment_len, cuts, API_SEGMENTS_MAX);
	g->seg = api_segment_start(job->loop, job->source, g->dir, job->mi->acodec, 0, 0, cuts, n, reduce_height, on_segment,
				   on_segments_done, g);
	free(cuts);
	return 0;
}

const struct det_backend det_backend_gemini = {
	.name = "gemini",
	.key_env = "GEMINI_API_KEY",
	.options = gemini_options,
	.interval = DET_REMOTE_INTERVAL,
	.setup = gemini_setup,
	.start = gemini_start,
};
