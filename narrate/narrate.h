/* narrate: events in, commentary out.  The parts, each its own file so unit
 * tests and fuzz targets can call them without the stream around them:
 *   plan.c     events records -> highlight windows (merging, streaming)
 *   phrases.c  phrase tables (data/narrate/<lang>.phrases): parse, numbers,
 *              time in words
 *   compose.c  the offline commentator: a window + a table -> text
 *   fit.c      words, speaking rate and the window: sizing text
 *   backend.c  the backend table (backend.h is the seam)
 *   local.c    the offline backend
 *   stage.c    the stream: records, sessions, ordered output, jobs */
#ifndef NARRATE_H
#define NARRATE_H

#include <stddef.h>
#include <stdint.h>
#include <json.h>

#include "pc.h"

/* ---- options (main.c fills them from argv and PLAYCALL_* env) ---- */
#define NAR_LEAD_DEFAULT 5.0      /* seconds of build-up before the first event */
#define NAR_TAIL_DEFAULT 7.0      /* seconds after the last event */
#define NAR_MIN_SCORE_DEFAULT 0.5 /* weaker events are not highlights */
#define NAR_MAX_PER_INTERVAL_DEFAULT 2
#define NAR_WPS_DEFAULT 2.9       /* espeak-ng's default 175 words a minute */
#define NAR_DELAY_DEFAULT 1.0     /* speech starts this far into the window */
#define NAR_JOBS_DEFAULT 4        /* backend jobs in flight at once */
#define NAR_NAME_MAX 32           /* language, style, backend, kind names */

struct nar_opts {
	double lead, tail, min_score, wps, delay;
	int max_per_interval;
	int full;                 /* one window per interval, the whole video */
	int jobs;
	char lang[NAR_NAME_MAX];
	char style[NAR_NAME_MAX]; /* "" until the table's default is known */
	char backend[NAR_NAME_MAX];
	const char *model;        /* cloud backends' model; NULL: their default */
	const char *phrases;      /* a phrase table file instead of <lang>'s */
	uint64_t seed;
};
void nar_opts_default(struct nar_opts *o);

/* ---- fit.c: text against the clock ----
 * Words are what a voice speaks: runs of letters and digits ("twenty-three"
 * is two), or, when the words are long, their syllables (vowel groups) over
 * NAR_SYLLABLES_PER_WORD -- a voice's words a minute assume words of average
 * length.  A pause (a comma, a sentence end) costs NAR_PAUSE_WORDS words,
 * and starting to speak at all NAR_START_WORDS (the voice's lead-in and
 * trailing silence).
 * Both measured against espeak-ng at 175 words a minute, English and
 * Spanish. */
#define NAR_PAUSE_WORDS 0.5
#define NAR_SYLLABLES_PER_WORD 1.4
#define NAR_START_WORDS 0.5
double fit_words(const char *text);
/* Most words that fit: speech starting `delay` into a window of `len`
 * seconds ends by its end at `wps` words a second. */
double fit_budget(double len, double delay, double wps);
int fit_fits(const char *text, double len, double delay, double wps);
/* Shorten text in place to at most max words: at a sentence end when one is
 * within the limit, else after whole words. */
void fit_trim(char *text, double max);
/* Shortest window that holds one word. */
double fit_min_window(double delay, double wps);

/* ---- plan.c: highlight windows ---- */
#define PLAN_EVENTS_MAX 256       /* events kept from one interval */
struct plan_event {
	double t, score;
	json_object *json;        /* the event as detect wrote it (a reference) */
};
/* One `events` record, checked.  Bad entries in its list are skipped and
 * counted; a record that cannot be used at all gives -1 and a reason. */
struct plan_interval {
	long index;
	double start, end;
	struct plan_event ev[PLAN_EVENTS_MAX];
	int nev;
	int skipped;               /* entries that were not events */
	char skip_reason[160];     /* why the first one was skipped */
};
int plan_parse_events(json_object *rec, struct plan_interval *iv, char *err, size_t errlen);
void plan_interval_release(struct plan_interval *iv);

struct plan_opts {
	double lead, tail, min_score;
	int max_per_interval;
	int full;
	double min_len;            /* shorter windows are not narrated */
};
struct plan_window {
	double start, end;
	double peak_t, peak_score;
	json_object *events;       /* array of the events it covers, in time order */
};
struct plan {
	double duration;           /* of the video; 0 while unknown */
	double horizon;            /* end of the latest interval seen */
	double emitted_end;        /* end of the last window handed out */
	int emitted_any;
	struct plan_window *pending;
	size_t npending, cap;
	int dropped;               /* windows too short to narrate */
};
/* A window that no later event can change; the callee owns w->events. */
typedef void (*plan_emit_fn)(void *arg, struct plan_window *w);
void plan_add_interval(struct plan *p, const struct plan_opts *o, const struct plan_interval *iv,
		       plan_emit_fn emit, void *arg);
/* The session (or the stream) ended: everything pending is final. */
void plan_finish(struct plan *p, const struct plan_opts *o, plan_emit_fn emit, void *arg);
void plan_free(struct plan *p);

/* ---- phrases.c: phrase tables ---- */
#define PH_LINE_MAX 400            /* bytes in one table line */
#define PH_LINES_MAX 8000          /* phrases in one table */
#define PH_SECTIONS_MAX 2000
#define PH_TABLE_MAX (1024 * 1024) /* bytes in one table file */
#define PH_NUMBER_MAX 999          /* numbers in words up to this */
#define PH_STYLES_MAX 8
#define PH_OUT_MAX 1024            /* one rendered sentence */

enum ph_part {
	PH_BUILD, PH_WHEN, PH_REACT, PH_MORE, PH_AFTER, PH_FILLER, PH_QUIET, PH_SHORT,
	PH_TIME, PH_NPARTS
};
enum ph_band { PH_BAND_ANY = -1, PH_LOW, PH_MID, PH_HIGH, PH_NBANDS };
enum ph_slot { TS_START, TS_SECONDS, TS_MARK, TS_AFTER, TS_HALF, TS_BEFORE, TS_NSLOTS };

struct ph_section {
	enum ph_part part;
	char kind[NAR_NAME_MAX];   /* "" any; for time sections the slot name */
	int band;                  /* enum ph_band */
	char style[NAR_NAME_MAX];  /* "" any */
	int slot;                  /* time sections: enum ph_slot */
	size_t first, count;       /* its lines in table->lines */
};
struct ph_table {
	char lang[NAR_NAME_MAX], name[64];
	double band_mid, band_high;          /* score >= band_mid is mid, >= band_high high */
	char join[16], hundred_join[16];     /* "twenty" join "three"; "one hundred" join "five" */
	char *numbers[PH_NUMBER_MAX + 1];
	char *hundreds_prefix[10];           /* "100+ ciento": the form before a remainder */
	char styles[PH_STYLES_MAX][NAR_NAME_MAX];
	int nstyles;
	char **lines;
	size_t nlines;
	struct ph_section *sections;
	size_t nsections;
};
/* Parse a table; name is for messages ("en.phrases:12: reason").
 * 0, or -1 with the reason in err.  Fuzz target: fuzz_narrate_phrases. */
int ph_parse(const char *text, size_t len, const char *name, struct ph_table *t, char *err, size_t errlen);
int ph_load(const char *path, struct ph_table *t, char *err, size_t errlen);
/* The table file for a language: $PLAYCALL_DATA/narrate/<lang>.phrases, else
 * under PLAYCALL_DATADIR.  -1 when lang is not a plain name. */
int ph_path(const char *lang, char *out, size_t n);
void ph_free(struct ph_table *t);
int ph_has_style(const struct ph_table *t, const char *style);
int ph_band(const struct ph_table *t, double score);
/* n in words ("twenty-three"), digits when the table has no words for it. */
void ph_number(const struct ph_table *t, long n, char *out, size_t size);
/* Which time slot a moment falls in, and the numbers its template uses:
 * s seconds (first minute), m whole minutes, n the next minute. */
enum ph_slot ph_slot_of(double t, long *s, long *m, long *n);

/* ---- compose.c: the offline commentator ---- */
struct cm_state {              /* per session */
	uint64_t rng;
	unsigned char *used;        /* per table line: already said */
	size_t nused;
	uint64_t *said;             /* hashes of sentences said */
	size_t nsaid, capsaid;
};
struct cm_event {
	double t, score;
	const char *kind, *label;
};
struct cm_request {
	double start, end;
	const struct cm_event *ev;  /* in time order */
	int nev;
	int peak;                   /* index of the strongest event; -1 none */
	int full;
	const char *style;
	double max_words;
};
void cm_state_init(struct cm_state *st, uint64_t seed, const char *session);
void cm_state_free(struct cm_state *st);
/* Text for one window, at most rq->max_words words; never repeats a sentence
 * the session has said while the table has unsaid ones. 0, or -1 when not
 * even one word fits. */
int cm_compose(const struct ph_table *t, const struct cm_request *rq, struct cm_state *st, struct buf *out);
uint64_t cm_rand(uint64_t *state);

#endif
