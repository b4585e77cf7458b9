/* What detect's cloud backends (gemini.c, openai.c) share.
 *
 * A cloud backend analyses PIECES of the video, each a time range sent in
 * one request (a segment file, a videoMetadata window, a batch of frames);
 * pieces need not match intervals.  This file assembles them: an interval
 * goes to the emitter once every piece overlapping it is done (its events
 * are those of the pieces with t in the interval), so results do not depend
 * on how the video was split.  It also keeps:
 *   - the cache: each interval's events under (file content hash, backend,
 *     model, interval, prompt version, the backend's own settings), so a
 *     re-run of the same video sends no request at all;
 *   - the queue: at most `jobs` analysis requests in flight, the earliest
 *     piece first (the first chunk waits for the first interval only);
 *   - second looks: a moment across a cut between two pieces is looked at
 *     again as a whole (prepare_seam below);
 *   - failure: a failed piece is an `error` record for its intervals, which
 *     are still delivered (with what the other pieces found) so the stream
 *     goes on; a failure of the whole job (a refused key) is one error and
 *     every interval left delivered empty. */
#ifndef DETECT_CLOUD_H
#define DETECT_CLOUD_H
#include "backend.h"
#include "http.h"
#include "api_common.h"

#define CLOUD_PIECES_MAX 100000
#define CLOUD_JOBS_DEFAULT "16"    /* analysis requests in flight */
#define CLOUD_SEAM 1.5             /* s: reports this close to a piece boundary, one each side, are one moment */
#define CLOUD_SEAM_ONSET 0.5       /* s: a report this close to a piece's start: something already going on */
#define CLOUD_SEAM_SPAN 2.5        /* s each side of a cut that a second look covers */

enum cloud_piece_state { PIECE_WAITING, PIECE_QUEUED, PIECE_RUNNING, PIECE_DONE, PIECE_FAILED };

struct cloud_piece {
	double start, end;          /* seconds of the source */
	enum cloud_piece_state state;
	json_object *events;        /* array of events, match time (when DONE) */
	void *priv;                 /* the backend's (a file URI, frames) */
	int seam;                   /* a second look at the cut at `at` */
	double at;
};

struct cloud;
/* Send the analysis request of piece index; later cloud_piece_done. */
typedef void (*cloud_start_fn)(struct cloud *c, int index);
/* Make the video of seam piece index (start..end, across the cut at `at`)
 * ready to send: 0, and later cloud_piece_ready or cloud_piece_done with an
 * error (cloud_piece_ready may come at once; a done must come from the
 * loop); or -1 and why in err, at once. */
typedef int (*cloud_seam_fn)(struct cloud *c, int index, char *err, size_t errlen);

struct cloud {
	struct det_job *job;
	cloud_start_fn start_piece;
	int jobs;
	char sha[65];               /* the source's SHA-256; "" when unreadable */
	char *key_parts;            /* backend, model, settings: for the cache */
	int *delivered;             /* per interval */
	int left;                   /* intervals not delivered yet */
	struct cloud_piece *pieces;
	int npieces, cap;
	double known_to;            /* pieces cover the source up to here */
	int all_known;              /* no more pieces will be added */
	int running;
	int finished;               /* det_emit_done sent */
	int failed_all;
	int cached;                 /* intervals taken from the cache */
	/* The backend's: stop what still runs (children, uploads) before
	 * det_emit_done; may be NULL.  Then owner (the allocation holding c)
	 * is freed: after a call that returns 1 below, c is gone. */
	void (*cleanup)(struct cloud *c);
	void *owner;
	/* The backend's, or NULL: a moment reported just before a cut while
	 * the next piece starts in the middle of something may be one moment
	 * neither piece saw whole; with this, the cut gets a second look
	 * (CLOUD_SEAM_SPAN each side) and that look tells the moments within
	 * CLOUD_SEAM of the cut.  The intervals around wait for it. */
	cloud_seam_fn prepare_seam;
};

/* Set up c for job: hash the file, deliver every interval the cache has.
 * key_parts names what else changes the answer ("gemini|model|lines=en"). */
void cloud_open(struct cloud *c, struct det_job *job, const char *key_parts, int jobs,
		cloud_start_fn start_piece);
/* Whether [start, end) touches an interval still to deliver. */
int cloud_needed(const struct cloud *c, double start, double end);
/* A new piece (WAITING); its index.  known_to grows to end. */
int cloud_add_piece(struct cloud *c, double start, double end);
/* The piece can be sent: queued, started when a slot is free. */
void cloud_piece_ready(struct cloud *c, int index);
/* These return 1 when the job finished (det_emit_done) and c is freed. */
/* The piece's answer: events (taken; NULL with err on failure). */
int cloud_piece_done(struct cloud *c, int index, json_object *events, const char *err);
/* The piece's answer says the whole job cannot work: cloud_fail. */
int cloud_piece_fatal(struct cloud *c, int index, const char *err);
/* No more pieces will come. */
int cloud_all_known(struct cloud *c);
/* The whole job failed: one error, every interval left delivered empty. */
int cloud_fail(struct cloud *c, const char *err);
/* Deliver what can be delivered and, once all is, finish (det_emit_done). */
int cloud_check(struct cloud *c);

/* Events JSON (api_parse_events' shape) to det_events, to the emitter. */
size_t cloud_to_det(json_object *events, double start, double end, int last, struct det_event **out);
/* What both cloud backends check first: their options model, base-url and
 * jobs (opts[0..2], in that order), the lines option, and the client with
 * its key.  -1 and a message (a configuration error). */
int cloud_setup(struct api_client *client, enum api_service s, const char *backend, struct det_option *opts,
		const struct det_option *lines, long *jobs, char *lines_lang, size_t n, char *err, size_t errlen);
/* An option's value, else its default. */
const char *cloud_opt(const struct det_option *o);
/* An option as a count in [min, max]; -1 and a message naming it. */
int cloud_count_option(const struct det_option *o, long min, long max, long *out, char *err, size_t errlen);
/* The lines option: a language ("en", "pt-BR") into out, or "none" (out
 * empty).  -1 and a message naming the option. */
int cloud_lines_option(const struct det_option *o, char *out, size_t n, char *err, size_t errlen);
/* A piece's HTTP answer: the text is taken out by extract (the service's
 * answer shape), parsed as events, their lines marked with lines_lang, and
 * the piece done; a failure names what (e.g. "Gemini generateContent");
 * an answer no retry or other piece would change (a refused key, a model
 * that does not exist) stops the job.  1 when the job finished. */
int cloud_fatal_status(long status);
typedef int (*cloud_extract_fn)(const char *body, size_t len, struct buf *text, char *err, size_t errlen);
int cloud_piece_answer(struct cloud *c, int index, const struct http_resp *resp, cloud_extract_fn extract,
		       const char *what, const char *lines_lang);
/* Status lines for an upload: at most one per 10 %. */
void cloud_upload_status(struct cloud *c, int *last_pct, long long sent, long long total);

#endif
