/* detect's backends, and the seam between them and the rest of detect.
 *
 * The driver (detect.c) probes each file (media_probe), lays out its
 * intervals, makes the session folder, writes the `session` record, and then
 * hands a struct det_job to the chosen backend's start().  The backend works
 * from job->loop — fds, timers, children (common/lproc.h follows a child's
 * output line by line), libcurl transfers (loop_curl_add) — and reports
 * through the emitter (emit.c), never by writing records itself:
 *
 *   det_emit_interval(job, i, events, n)
 *       the events of interval i, delivered in ANY order, once per interval.
 *       The emitter writes `events` records in interval order, each as soon
 *       as every interval before it is in, after the common clean-up: events
 *       below --threshold dropped, near-duplicates of a kind merged, at most
 *       DET_MAX_EVENTS kept (the highest scores), sorted by time.
 *   det_emit_progress(job, seconds)
 *       how much of the file is analysed: `status` records with `progress`.
 *   det_emit_status(job, progress, fmt, ...)
 *       a `status` record for the session ("Uploading video..."), with a
 *       progress (0-100) or none (-1); it does not move det_emit_progress's.
 *   det_emit_error(job, index, fmt, ...)
 *       something went wrong (index < 0: not about one interval): a one-line
 *       message on stderr naming the file, an `error` record, and detect
 *       exits 1 in the end.  It does not stop the job.
 *   det_emit_done(job)
 *       the backend has finished and holds nothing (children reaped,
 *       transfers done): exactly once, last.  Intervals never delivered end
 *       the session's `events` there; `session_end` says how many went out.
 *
 * Several intervals may be in flight at once (a cloud backend's requests);
 * a backend that learns interval 3 before interval 0 just delivers it.
 *
 * Adding a backend: a new file defining `const struct det_backend
 * det_backend_NAME` (start, and optionally its own options and setup), and
 * one line in the table in backends.c.  Nothing else changes: its options
 * appear in `detect --help`, and `--backend auto` picks it when its key_env
 * is set (table order decides between two). */
#ifndef DETECT_BACKEND_H
#define DETECT_BACKEND_H
#include "pc.h"
#include "media.h"

#define DET_KIND_MAX 16
#define DET_LABEL_MAX 64
#define DET_MAX_EVENTS 16      /* per interval, after merging */
#define DET_MERGE_GAP 2.0      /* s: events of one kind closer than this are one */
#define DET_MAX_INTERVALS 100000

struct det_event {
	double t;                   /* seconds from the start of the file */
	char kind[DET_KIND_MAX];    /* crowd, whistle, cut, motion, lull (playcall(7)) */
	char label[DET_LABEL_MAX];  /* words for people: "crowd roar" */
	double score;               /* 0..1: how much of a highlight it is */
	json_object *extra;         /* NULL, or an object whose fields are added to the
				       event (e.g. a cloud backend's "text"); the emitter
				       takes it */
};

/* Options every backend honours. */
struct det_opts {
	double interval;        /* seconds */
	double first_interval;  /* seconds; the first interval may be shorter */
	double threshold;       /* events scoring below this are left out */
};

/* A backend's own option: --NAME VALUE, or the environment variable env. */
struct det_option {
	const char *name;       /* unique across backends: "rise", "gemini-model" */
	const char *env;        /* PLAYCALL_... or NULL */
	const char *metavar;    /* for --help: "LU" */
	const char *help;
	const char *def;        /* the default, as text */
	const char *value;      /* in force: set by the driver before setup() */
};

struct det_job;

/* A remote backend's default interval, seconds. */
#define DET_REMOTE_INTERVAL 5

struct det_backend {
	const char *name;               /* --backend NAME, and each record's "backend" */
	const char *key_env;            /* NULL: needs no key; else auto picks it when set */
	struct det_option *options;     /* NULL, or an array ending with {0} */
	/* The interval when --interval is not given; 0: 30 s.  A remote
	 * backend analyses short segments, each by its own request: a record
	 * per segment passes their events on as soon as they exist, where a
	 * 30 s interval would hold them until its last segment is back (and
	 * narrate's windows settle sooner). */
	double interval;
	/* Once, before any file: check options and keys.  -1 with a reason:
	 * detect exits 2 (a usage or configuration error). */
	int (*setup)(char *err, size_t errlen);
	/* Begin analysing job (see above).  0, or -1 when nothing was started:
	 * then the driver reports the reason (set with det_emit_error first). */
	int (*start)(struct det_job *job);
};

/* The backends (backends.c). */
extern const struct det_backend *const det_backends[];
const struct det_backend *det_backend_find(const char *name);
/* The first backend whose key is set, else local. */
const struct det_backend *det_backend_auto(void);

struct det_slot;

struct det_job {
	/* Set by the driver; read-only for the backend. */
	const char *session;          /* id */
	const char *source;           /* absolute path */
	const char *name;             /* the file as given, for messages */
	const char *dir;              /* the session folder */
	const struct media_info *mi;
	const struct det_opts *opts;
	const struct det_backend *backend;
	struct loop *loop;
	int intervals;
	const double *bounds;         /* interval i is [bounds[i], bounds[i+1]) */
	void *priv;                   /* the backend's own */

	/* The emitter's (emit.c); backends leave these alone. */
	struct det_slot *slots;
	int next;                     /* first interval not written yet */
	int written;                  /* events records written */
	int failed;                   /* an error was reported */
	int done;                     /* det_emit_done was called */
	int last_progress;
	double last_status_at;
	long events_written;
};

void det_emit_interval(struct det_job *job, int index, const struct det_event *evs, size_t n);
void det_emit_progress(struct det_job *job, double seconds);
void det_emit_status(struct det_job *job, int progress, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void det_emit_error(struct det_job *job, int index, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void det_emit_done(struct det_job *job);

/* Fill an event: kind and label are copied (cut to fit). */
void det_event_set(struct det_event *ev, double t, const char *kind, const char *label, double score);

#endif
