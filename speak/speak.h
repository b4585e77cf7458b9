/* speak: the stage.  `commentary` records in, `audio` records out, every
 * other record passed through in order per session. */
#ifndef SPEAK_H
#define SPEAK_H
#include "pc.h"
#include "backend.h"

#define SPEAK_JOBS_DEFAULT 5
#define SPEAK_JOBS_MAX 64
#define SPEAK_TIMEOUT_DEFAULT 60.0   /* seconds one synthesis may take */
#define SPEAK_WAIT_MAX 256           /* texts waiting for a job slot before input pauses */
#define SPEAK_TEXT_MAX 16384         /* bytes of one text (espeak-ng takes it as one argument) */
#define SPEAK_LANG_MAX 32
#define SPEAK_CACHE_KIND "speech"    /* folder under the cache root */

struct speak_cfg {
	const struct speak_backend *backend;
	const char *voice;    /* --voice, or NULL: the backend's voice for the language */
	const char *lang;     /* --lang, or NULL: the record's `lang`, else "en" */
	int rate;             /* --rate (words per minute), or 0: the record's `wps` x 60, else the default */
	int jobs;             /* syntheses at once */
	int use_cache;
	double timeout;       /* seconds per synthesis */
};

struct speak_stage;
struct speak_stage *speak_new(struct loop *l, const struct speak_cfg *cfg);
/* Read records from fd until its end and every synthesis is done; returns
 * the exit status (0, or 1 when the input could not be read). */
int speak_run(struct speak_stage *st, int fd, const char *name);
/* One record (takes ownership); input names it in errors ("stdin:12"). */
void speak_record(struct speak_stage *st, json_object *rec, const char *input);
int speak_busy(const struct speak_stage *st);   /* texts waiting, running or being measured */
void speak_free(struct speak_stage *st);

/* The choices for one commentary record, exposed for tests. */
int speak_rate_for(int opt_rate, json_object *rec);
/* --lang, else the record's lang, else "en"; NULL when the one chosen is
 * not a plausible language tag (letters, digits, '-', '_'). */
const char *speak_lang_for(const char *opt_lang, json_object *rec);

/* speak/measure.c: the duration of a speech file, from the file.  A WAV is
 * measured by its header and done is called before this returns; other
 * formats are probed by ffprobe on the loop and done is called later. */
typedef void (*measure_fn)(void *arg, double duration, const char *err);
void speech_measure(struct loop *l, const char *path, measure_fn done, void *arg);

#endif
