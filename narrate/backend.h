/* The narrate backend seam: how commentary text gets made.
 *
 * A backend turns one highlight -- a window of the video, the events it
 * covers and what the session has said so far -- into text.  It is one
 * struct nar_backend in the table in backend.c; adding a backend is its own
 * file (narrate/<name>.c defining `const struct nar_backend nar_<name>`) and
 * one X(<name>) line in that table.  Nothing else changes.
 *
 * Jobs are asynchronous, driven by the one event loop (common/loop):
 *   - The stage calls start(job) when a slot is free (at most --jobs at
 *     once) and start returns at once.
 *   - The backend calls nar_job_done(job, text, NULL) on success or
 *     nar_job_done(job, NULL, reason) on failure, exactly once: from inside
 *     start (the local backend does) or later from a loop callback (a
 *     libcurl transfer added with loop_curl_add, a timer, a child's pipe).
 *     After nar_job_done the job is gone: do not touch it again.
 *   - Several jobs may be in flight and may finish in any order; the stage
 *     writes each session's records in index order (common/outq), each as
 *     soon as it and everything before it are done.
 *   - The stage, not the backend, enforces the fit: text longer than
 *     job->max_words is shortened (fit_trim) before it is written.
 *   - A failure skips that highlight: the stage writes an `error` record
 *     naming the index, and the stream goes on.
 *
 * Keys come from the environment (cfg_get), never from argv; a backend never
 * prints or logs one.  Backend options are the shared ones in nar_opts
 * (--lang, --style, --model, ...); anything else a backend needs it reads
 * from PLAYCALL_* / service environment variables in its own file. */
#ifndef NARRATE_BACKEND_H
#define NARRATE_BACKEND_H

#include "narrate.h"

struct loop;

struct nar_job {
	/* The highlight. */
	const char *session;
	int index;                 /* highlight number in the session */
	double start, end;         /* the clip window, seconds into the video */
	double duration;           /* the video's length; 0 when unknown */
	json_object *events;       /* array of the events it covers, as detect
	                            * wrote them ({t, kind, label, score, ...}),
	                            * in time order; may be empty (--full) */
	int full;                  /* a --full window (the whole interval) */
	/* What the text must fit. */
	double delay;              /* speech starts this far into the window */
	double wps;                /* words a second the voice speaks */
	double max_words;          /* at most this many words (fit_words) */
	const char *lang, *style;
	/* The session so far: its `session` record (source, duration, dir,
	 * ...; NULL if none came) and the texts of its earlier highlights, in
	 * index order (those done when this job started). */
	json_object *session_rec;
	json_object *earlier;
	/* The backend's own per-session state: NULL at first; freed with the
	 * backend's sess_free when the session ends. */
	void **sess_priv;
	/* The offline commentator's per-session state (nar_local_compose). */
	void **local_priv;
	const struct nar_opts *opts;
	struct loop *loop;
	/* Set by the backend when another made the text (a fallback); the
	 * record's `backend` field.  Defaults to the backend's name. */
	const char *made_by;
	void *stage;               /* the stage's own; do not touch */
};

struct nar_backend {
	const char *name;
	/* `--backend auto` takes the first backend in the table whose usable
	 * says yes (e.g. its key is set).  NULL: never chosen by auto. */
	int (*usable)(const struct nar_opts *o);
	/* Once, before the first job; may refine o (e.g. the default style).
	 * 0, or -1 with a one-line reason (a configuration error: exit 2). */
	int (*init)(struct loop *l, struct nar_opts *o, char *err, size_t errlen);
	void (*start)(struct nar_job *job);
	void (*sess_free)(void *priv);      /* may be NULL */
	void (*cleanup)(void);              /* may be NULL; at exit */
};

/* Deliver a job's result (text, or NULL and a reason). */
void nar_job_done(struct nar_job *job, const char *text, const char *err);

/* The backend for a --backend name ("auto" chooses); NULL if unknown. */
const struct nar_backend *nar_backend_select(const char *name, const struct nar_opts *o);
/* "local, auto": for usage messages. */
void nar_backend_names(char *out, size_t n);

extern const struct nar_backend nar_local;
/* The offline commentator's text for a job, for a backend that falls back on
 * it (a quota spent, a timeout): the language's table is loaded on first use;
 * a style the table lacks gives its default style.  0, or -1 and a reason. */
int nar_local_compose(struct nar_job *job, struct buf *out, char *err, size_t errlen);
void nar_local_sess_free(void *priv);   /* the stage frees local_priv with it */

#endif
