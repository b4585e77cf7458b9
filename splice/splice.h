/* splice: cut each highlight, duck its sound, lay the speech over it, write
 * a chunk a browser plays at once, a live HLS playlist and the final reel.
 * Everything but main() lives in libsplice.a so tests can call it. */
#ifndef SPLICE_H
#define SPLICE_H

#include "pc.h"
#include "media.h"

#include <limits.h>

#define SPLICE_DUCK_DEFAULT 0.2      /* original sound under the speech: 20 % */
#define SPLICE_DELAY_DEFAULT 1.0     /* speech starts 1 s into the clip */
#define SPLICE_PRESET_DEFAULT "veryfast"
#define SPLICE_JOBS_MAX 16           /* keeps temporary files within tmp_path's slots */
#define SPLICE_DELAY_MAX 60.0       /* a longer "delay" is no delay */
#define SPEECH_TAIL_S 0.3            /* room after the last word when the clip is extended */
#define KF_LOOKBACK_S 15.0           /* keyframe search reaches this far before the start */
#define KF_LOOKAHEAD_S 1.0           /* ... and this far after it (B-frame reordering) */
#define HLS_TS_BASE_S 10.0           /* first segment's timestamps start here, so no
				      * segment ever needs negative-DTS shifting and
				      * every segment is shifted alike */
#define MP4_HEAD_MAX (256 * 1024)    /* how much of a chunk is read to find its moov */

/* Timeouts for the child processes, seconds. */
#define PROBE_TIMEOUT_S 30.0         /* ffprobe of the source, once per session */
#define KF_TIMEOUT_S 30.0            /* keyframe lookup: packet headers only */
#define CUT_TIMEOUT_BASE_S 60.0      /* a chunk: this plus ... */
#define CUT_TIMEOUT_PER_S 10.0       /* ... this per second of clip (a slow transcode) */
#define REMUX_TIMEOUT_S 60.0         /* chunk -> HLS segment, stream copy */
#define CONCAT_TIMEOUT_BASE_S 120.0  /* final reel: this plus ... */
#define CONCAT_TIMEOUT_PER_S 1.0     /* ... this per second of reel */

struct splice_opts {
	double duck;          /* --duck: gain of the original sound, 0..1 */
	double delay;         /* --delay: seconds from the clip's start to the speech */
	int delay_set;        /* given: it wins over the records' own delay */
	const char *preset;   /* --preset: libx264 preset when transcoding */
	int jobs;             /* --jobs: ffmpeg processes at once */
	int jobs_auto;        /* jobs not given: a transcode runs alone */
	int transcode;        /* --transcode: never copy the video */
};

/* ---- parse.c: what comes in (records, ffprobe, the chunk files) ---- */

/* The fields of a `session` record splice uses.  Strings are owned. */
struct session_info {
	char *source;
	char *dir;            /* NULL: sess_dir(id) */
	double duration;      /* 0 when absent */
};
int parse_session(json_object *rec, struct session_info *si, char *err, size_t errlen);
void session_info_free(struct session_info *si);

/* An `audio` record: one chunk to make.  Strings are owned. */
struct chunk_req {
	long index;
	double start, end;        /* the window in the source, seconds */
	char *speech;             /* speech file; NULL: no commentary */
	double speech_duration;   /* seconds; 0 when unknown */
	double delay;             /* where narrate meant the speech to start; -1: not said */
	char *text;               /* the commentary; NULL when absent */
};
int parse_audio(json_object *rec, struct chunk_req *req, char *err, size_t errlen);
void chunk_req_free(struct chunk_req *req);

/* ffprobe -show_format -show_streams JSON: media_parse plus the container's
 * start_time (0 when absent), which -read_intervals needs and -ss does not. */
int parse_probe(const char *json, size_t len, struct media_info *mi, double *start_time,
		char *err, size_t errlen);

/* ffprobe -show_entries packet=pts_time,flags -of csv=p=0 output: the latest
 * keyframe at or before want.  1 found, 0 none. */
int parse_keyframe(const char *csv, size_t len, double want, double *kf);

/* The movie duration from an MP4's mvhd (what players and ffprobe show);
 * the moov must lie within buf (it does after -movflags +faststart).
 * 0, or -1 with a reason. */
int parse_mp4_duration(const unsigned char *buf, size_t len, double *out, char *err, size_t errlen);

/* ---- text.c: what goes out as text files ---- */
struct cue {
	double start, end;
	const char *text;
};
/* WebVTT: header and cues.  Text on one line, & < > escaped. */
void vtt_render(struct buf *out, const struct cue *cues, size_t n);
/* ffmetadata with one [CHAPTER] per cue (TIMEBASE=1/1000), titles escaped. */
void chapters_render(struct buf *out, const struct cue *chapters, size_t n);
/* A concat demuxer script: paths quoted, each with its duration. */
void concat_render(struct buf *out, char *const paths[], const double durations[], size_t n);
/* An HLS EVENT playlist of segments with their durations; ended adds
 * #EXT-X-ENDLIST.  TARGETDURATION is the longest segment rounded up. */
void hls_render(struct buf *out, char *const names[], const double durations[], size_t n, int ended);

/* ---- cmd.c: child process command lines ---- */
struct args {
	char **v;
	size_t n, cap;
};
void args_add(struct args *a, const char *s);
void args_addf(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void args_list(struct args *a, ...) __attribute__((sentinel));  /* each string, to NULL */
void args_free(struct args *a);

/* A local file as an ffmpeg input: never read as an option or a protocol. */
void args_add_file(struct args *a, const char *path);

/* How the chunks of one session are encoded: the same for all of them, so
 * they concatenate without a glitch. */
struct encoding {
	int copy;             /* video stream copied (H.264), else libx264 */
	int has_video, has_audio;
	int even_scale;       /* odd width or height: libx264 needs even */
	int sample_rate, channels, audio_bitrate;
	const char *preset;
};
/* force_transcode: re-encode even what could be copied (--transcode). */
void encoding_choose(struct encoding *e, const struct media_info *mi, const char *preset, int force_transcode);

struct cut {
	const char *source, *speech, *out;
	double ss, t;         /* clip start in the source, clip duration */
	double delay, duck;
};
void cmd_source_probe(struct args *a, const char *source);
void cmd_keyframes(struct args *a, const char *source, double from, double to);
void cmd_cut(struct args *a, const struct encoding *e, const struct cut *c);
void cmd_segment(struct args *a, const char *chunk, const char *out, double ts_offset);
void cmd_concat(struct args *a, const char *list, const char *chapters, const char *out);

/* ---- splice.c: the engine ---- */
struct loop;
void splice_start(struct loop *l, const struct splice_opts *o);
/* One input record (ownership taken); input names it in messages. */
void splice_record(json_object *rec, const char *input);
/* A bad input line: reported, and remembered for the exit status. */
void splice_bad_line(const char *msg, const char *input);
/* The input ended: sessions without a session_end are completed. */
void splice_input_end(void);
int splice_busy(void);        /* sessions or children still at work */
int splice_exit_status(void); /* PC_EXIT_OK, or PC_EXIT_FAIL after a failure */
void splice_free(void);

#endif
