/* detect's insides shared between its files (and its tests); backends need
 * only backend.h. */
#ifndef DETECT_DETECT_H
#define DETECT_DETECT_H
#include "backend.h"

#define DET_MIN_TAIL 1.0   /* s: a last interval shorter than this joins the one before */

/* Interval layout: the first interval `first` seconds, then `interval`
 * seconds each, the last ending at duration.  *bounds gets count+1 times
 * (caller frees).  The count, or -1 when it would exceed DET_MAX_INTERVALS. */
int det_layout(double duration, double first, double interval, double **bounds);

/* The emitter's part of a job: set up before start(), freed after done. */
void det_job_open(struct det_job *job);
void det_job_close(struct det_job *job);

/* The common clean-up of one interval's events, in place: drops events
 * below threshold (and any with a non-finite time or score), merges events
 * of one kind closer than DET_MERGE_GAP (keeping the higher score), keeps
 * the DET_MAX_EVENTS best, sorts by time.  Frees the extras it drops.
 * Returns the new count. */
size_t det_tidy(struct det_event *evs, size_t n, double threshold);

/* The `events` record of interval index (takes the events' extras). */
json_object *det_events_record(const struct det_job *job, int index, struct det_event *evs, size_t n);

/* Where the emitter's records go: out_record_put unless a test says else.
 * Takes the record. */
extern void (*det_write)(json_object *rec);

/* Analyse one file given on the command line with backend b: every record
 * of its session, or an error.  0 done, 1 failed (PC_EXIT_*). */
int detect_file(const char *arg, const struct det_backend *b, const struct det_opts *o,
		const char *session_id, struct loop *l);

#endif
