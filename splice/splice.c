/* The splice engine: sessions, a queue of ffmpeg jobs bounded by --jobs, and
 * ordered output.  One event loop runs it all: input is read while ffmpeg
 * works, and each chunk goes out the moment it and those before it are done.
 *
 * A chunk's life: its `audio` record queues a cut job; when a slot is free
 * the job looks up the keyframe (copy only), runs one ffmpeg, reads the
 * chunk's real duration from its moov, writes the captions, renames the chunk
 * into place and releases its chunk_ready.  Then, in arrival order, each
 * chunk is remuxed into an HLS segment and the playlist is rewritten.  After
 * session_end and the last segment, the chunks are concatenated into the
 * reel, and `complete` and session_end go out. */
#define _GNU_SOURCE
#include "splice.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX 1024
#define DIR_MAX (PATH_MAX - 256)   /* room for the file names inside */
#define NAME_IN_MSG "%.400s"       /* a path or child message, within MSG_MAX */
#define INPUT_NAME_MAX 64    /* "stdin:123456" */

enum chunk_state { CHUNK_QUEUED, CHUNK_RUNNING, CHUNK_DONE, CHUNK_FAILED };
enum probe_state { PROBE_NONE, PROBE_RUNNING, PROBE_OK, PROBE_FAILED };

struct session;

struct chunk {
	struct chunk_req req;
	struct session *s;
	enum chunk_state state;
	char input[INPUT_NAME_MAX];   /* where its audio record came from */
	double ss, end;               /* the cut, in the source */
	double delay;                 /* from the chunk's start to the speech */
	double duration;              /* the chunk file's, from its moov */
	int captions;                 /* chunk_N.vtt written */
	char path[PATH_MAX];
	char tmp[PATH_MAX];           /* while ffmpeg writes it */
	struct outq_item *item;       /* its chunk_ready or error */
};

struct session {
	char id[SESS_ID_MAX];
	char dir[DIR_MAX];
	char *source;                 /* NULL until a session record */
	double duration;
	enum probe_state probe;
	char probe_err[MSG_MAX];
	struct media_info mi;
	double start_time;            /* the container's first timestamp */
	struct encoding enc;
	struct chunk **chunks;        /* in arrival order: the reel's order */
	size_t nchunks;
	size_t hls_next;              /* next chunk to become a segment */
	int segmenting;
	char **seg_names;
	double *seg_durations;
	size_t nsegs;
	double hls_total;             /* the segments' sum: next one's offset */
	struct outq q;
	struct outq_item *end_item;   /* complete (and session_end) wait here */
	json_object *end_rec;         /* session_end to forward, if one came */
	int ended, finishing, done;
	int busy;                     /* probe or jobs in flight: keep the session */
};

enum job_kind { JOB_CUT, JOB_SEGMENT, JOB_CONCAT };

struct job {
	enum job_kind kind;
	struct session *s;
	struct chunk *c;
	int weight;                   /* slots it holds */
	char out[PATH_MAX], tmp[PATH_MAX];
	char list[PATH_MAX], chapters[PATH_MAX];   /* concat's scripts */
	struct buf vtt;               /* the reel's captions, written with it */
	struct job *next;
};

struct jobq {
	struct job *head, *tail;
};

static struct {
	struct loop *loop;
	struct splice_opts o;
	struct sess_table sessions;
	struct jobq quick;   /* segments and reels: short, and they unblock output */
	struct jobq cuts;
	int slots;
	int failed;
} E;

static void session_free(void *data);
static void pump(void);
static void settle(struct session *s);

/* ---- small helpers ---- */

/* The URL of a file in a session's folder, relative to the output root. */
static void stream_url(char *buf, size_t n, const char *id, const char *file)
{
	snprintf(buf, n, "/videos/streaming/%s/%s", id, file);
}

/* An MP4's duration from its head (the moov, after +faststart). */
static int mp4_duration(const char *path, double *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char *head = pc_xmalloc(MP4_HEAD_MAX);
	size_t len = 0;
	ssize_t r;
	while (len < MP4_HEAD_MAX && (r = read(fd, head + len, MP4_HEAD_MAX - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	int rc = parse_mp4_duration(head, len, out, err, errlen);
	free(head);
	return rc;
}

/* "ffmpeg: <its last line> (exit status 1)", or why it could not run. */
static void child_failure(struct aproc *ap, int status, const char *what, char *msg, size_t n)
{
	char line[512], st[64];
	proc_status_str(status, st, sizeof st);
	if (status == -1)
		snprintf(msg, n, "%s could not start: " NAME_IN_MSG, what, ap->p.err);
	else if (*proc_err_line(&ap->p, line, sizeof line))
		snprintf(msg, n, "%s: " NAME_IN_MSG " (%s)", what, line, st);
	else
		snprintf(msg, n, "%s failed (%s)", what, st);
}

/* An error of this stage about a session: one line on stderr now, and the
 * record (none on a terminal, where that line says it all) for the caller
 * to put in its place. */
static json_object *error_rec(struct session *s, long index, const char *input, const char *msg)
{
	pc_warn("%s: %s", s->id, msg);
	E.failed = 1;
	return out_is_human() ? NULL : rec_error(s->id, (int)index, input, msg);
}

/* An input record that cannot be used: in input order. */
static void input_error(struct session *s, long index, const char *input, const char *msg)
{
	json_object *rec = error_rec(s, index, input, msg);
	if (rec)
		outq_push_record(&s->q, rec);
}

/* Work of ours that failed after its chunk went out (a segment, the
 * playlist, the reel): after session_end came, it goes before complete. */
static void work_error(struct session *s, long index, const char *input, const char *msg)
{
	json_object *rec = error_rec(s, index, input, msg);
	if (rec && s->end_item)
		outq_add(s->end_item, rec);
	else if (rec)
		outq_push_record(&s->q, rec);
	outq_flush(&s->q);
}

/* ---- the job queue ---- */

static void jobq_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static void jobq_unlink(struct jobq *q, struct job *prev, struct job *j)
{
	if (prev)
		prev->next = j->next;
	else
		q->head = j->next;
	if (q->tail == j)
		q->tail = prev;
	j->next = NULL;
}

static struct job *job_new(enum job_kind kind, struct session *s, struct chunk *c)
{
	struct job *j = pc_xcalloc(1, sizeof *j);
	j->kind = kind;
	j->s = s;
	j->c = c;
	j->weight = 1;
	s->busy++;
	return j;
}

static void job_end(struct job *j)
{
	E.slots -= j->weight;
	j->s->busy--;
	buf_free(&j->vtt);
	free(j);
	pump();
}

static struct aproc *job_spawn(struct job *j, struct args *a, int flags, double timeout, aproc_cb done)
{
	struct aproc *ap = aproc_start(E.loop, a->v, flags, timeout, done, j);
	args_free(a);
	return ap;
}

/* ---- chunks ---- */

static void chunk_fail(struct chunk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void chunk_fail(struct chunk *c, const char *fmt, ...)
{
	char why[MSG_MAX], msg[MSG_MAX + 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (c->tmp[0]) {
		tmp_abort(c->tmp);   /* nothing that looks finished stays behind */
		c->tmp[0] = '\0';
	}
	c->state = CHUNK_FAILED;
	snprintf(msg, sizeof msg, "chunk %ld: %s", c->req.index, why);
	json_object *rec = error_rec(c->s, c->req.index, c->input, msg);
	if (rec)
		outq_add(c->item, rec);
	outq_ready(c->item);   /* in the chunk's place */
	outq_flush(&c->s->q);
}

/* A cut job is over, the chunk made or not: free the slot, move on. */
static void cut_end(struct job *j)
{
	struct session *s = j->c->s;
	job_end(j);
	settle(s);
}

/* The caption's span in the chunk: while the speech plays (to the end
 * when its length is unknown). */
static struct cue caption_of(const struct chunk *c, double offset)
{
	double end = fmin(c->delay + c->req.speech_duration, c->duration);
	if (c->req.speech_duration <= 0 || end <= c->delay)
		end = c->duration;
	return (struct cue){offset + c->delay, offset + end, c->req.text};
}

static void write_captions(struct chunk *c)
{
	struct session *s = c->s;
	if (!c->req.speech || !c->req.text || !*c->req.text)
		return;
	struct cue cue = caption_of(c, 0);
	struct buf vtt = {0};
	vtt_render(&vtt, &cue, 1);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/chunk_%ld.vtt", s->dir, c->req.index);
	if (atomic_write(path, vtt.data, vtt.len) == 0)
		c->captions = 1;
	else
		pc_warn("%s: %s", path, strerror(errno));   /* the chunk itself is fine */
	buf_free(&vtt);
}

static json_object *chunk_ready_rec(struct chunk *c)
{
	struct session *s = c->s;
	char file[64], url[PATH_MAX], clock[16];
	json_object *rec = rec_new("chunk_ready", s->id);
	rec_set_int(rec, "index", c->req.index);
	snprintf(file, sizeof file, "chunk_%ld.mp4", c->req.index);
	stream_url(url, sizeof url, s->id, file);
	rec_set_str(rec, "url", url);
	rec_set_str(rec, "path", c->path);
	rec_set_str(rec, "start_time", pc_clock(c->ss, clock, sizeof clock));
	rec_set_str(rec, "end_time", pc_clock(c->end, clock, sizeof clock));
	rec_set_num(rec, "start", c->ss);
	rec_set_num(rec, "end", c->end);
	rec_set_num(rec, "duration", c->duration);
	/* How far into the video this highlight reaches: the share done. */
	long progress = s->duration > 0 ? (long)floor(100 * c->end / s->duration) : 0;
	rec_set_int(rec, "progress", progress < 0 ? 0 : progress > 99 ? 99 : progress);
	rec_set_str(rec, "video", !s->enc.has_video ? "none" : s->enc.copy ? "copy" : "transcode");
	snprintf(file, sizeof file, "chunk_%ld.vtt", c->req.index);
	stream_url(url, sizeof url, s->id, file);
	rec_set_str(rec, "captions", c->captions ? url : NULL);
	stream_url(url, sizeof url, s->id, "stream.m3u8");
	rec_set_str(rec, "playlist", url);
	if (c->req.text)
		rec_set_str(rec, "text", c->req.text);
	return rec;
}

static void cut_done(struct aproc *ap, int status, void *arg)
{
	struct job *j = arg;
	struct chunk *c = j->c;
	char msg[MSG_MAX];
	if (status != 0) {
		child_failure(ap, status, "ffmpeg", msg, sizeof msg);
		chunk_fail(c, "%s", msg);
	} else if (mp4_duration(c->tmp, &c->duration, msg, sizeof msg) < 0) {
		chunk_fail(c, "ffmpeg wrote no playable chunk: %s", msg);
	} else {
		c->end = c->ss + c->duration;   /* where the chunk really ends */
		write_captions(c);
		if (tmp_commit(c->tmp, c->path) < 0) {
			c->tmp[0] = '\0';
			chunk_fail(c, "%s: %s", c->path, strerror(errno));
		} else {
			c->tmp[0] = '\0';
			c->state = CHUNK_DONE;
			outq_add(c->item, chunk_ready_rec(c));
			outq_ready(c->item);
			outq_flush(&c->s->q);
		}
	}
	cut_end(j);
}

/* The clip: from ss to the window's end, or later when the speech needs
 * it, but never past the video's end.  Then one ffmpeg. */
static void cut_start(struct job *j, double ss)
{
	struct chunk *c = j->c;
	struct session *s = c->s;
	double length = s->mi.duration;
	double end = c->req.end;
	if (c->req.speech) {
		double needed = ss + c->delay + c->req.speech_duration + SPEECH_TAIL_S;
		if (needed > end)
			end = needed;   /* never cut the commentary */
	}
	c->ss = ss;
	c->end = end < length ? end : length;
	if (tmp_path(c->path, c->tmp, sizeof c->tmp) < 0) {
		c->tmp[0] = '\0';
		chunk_fail(c, "%s: %s", c->path, strerror(errno));
		cut_end(j);
		return;
	}
	struct cut cut = {s->source, c->req.speech, c->tmp, c->ss, c->end - c->ss, c->delay, E.o.duck};
	struct args a = {0};
	cmd_cut(&a, &s->enc, &cut);
	job_spawn(j, &a, PROC_STDOUT_NULL, CUT_TIMEOUT_BASE_S + CUT_TIMEOUT_PER_S * cut.t, cut_done);
}

static void keyframe_done(struct aproc *ap, int status, void *arg)
{
	struct job *j = arg;
	struct chunk *c = j->c;
	if (status != 0) {
		char msg[MSG_MAX];
		child_failure(ap, status, "ffprobe", msg, sizeof msg);
		chunk_fail(c, "keyframe lookup: %s", msg);
		cut_end(j);
		return;
	}
	/* Times in the file's own clock, which -read_intervals uses; -ss
	 * counts from the file's start. */
	double kf, want = c->s->start_time + c->req.start;
	double ss = c->req.start;
	if (parse_keyframe(ap->out.data ? ap->out.data : "", ap->out.len, want, &kf))
		ss = kf - c->s->start_time;
	/* No keyframe in reach (a very long GOP): ffmpeg seeks to one itself,
	 * and the chunk's edit list starts the picture at the window. */
	cut_start(j, ss < 0 ? 0 : ss);
}

static void cut_begin(struct job *j)
{
	struct chunk *c = j->c;
	struct session *s = c->s;
	c->state = CHUNK_RUNNING;
	if (s->probe != PROBE_OK) {
		chunk_fail(c, "%s", s->probe_err);   /* no source, or none usable */
		cut_end(j);
		return;
	}
	if (c->req.start >= s->mi.duration) {
		chunk_fail(c, "window starts at %.3f s, after the end of the video (%.3f s)",
			   c->req.start, s->mi.duration);
		cut_end(j);
		return;
	}
	if (!s->enc.copy) {
		cut_start(j, c->req.start);   /* a transcode starts where it is told */
		return;
	}
	double from = s->start_time + fmax(0, c->req.start - KF_LOOKBACK_S);
	double to = s->start_time + c->req.start + KF_LOOKAHEAD_S;
	struct args a = {0};
	cmd_keyframes(&a, s->source, from, to);
	job_spawn(j, &a, 0, KF_TIMEOUT_S, keyframe_done);
}

/* ---- HLS ---- */

static void hls_write(struct session *s, int ended)
{
	char path[PATH_MAX];
	struct buf m3u8 = {0};
	hls_render(&m3u8, s->seg_names, s->seg_durations, s->nsegs, ended);
	snprintf(path, sizeof path, "%s/stream.m3u8", s->dir);
	if (atomic_write(path, m3u8.data, m3u8.len) < 0) {
		char msg[MSG_MAX];
		snprintf(msg, sizeof msg, NAME_IN_MSG ": %s", path, strerror(errno));
		work_error(s, -1, NULL, msg);
	}
	buf_free(&m3u8);
}

/* The segment is in place (why NULL) or could not be made. */
static void segment_finish(struct job *j, const char *why)
{
	struct session *s = j->s;
	struct chunk *c = j->c;
	if (!why) {
		s->seg_names = pc_xrealloc(s->seg_names, (s->nsegs + 1) * sizeof *s->seg_names);
		s->seg_durations = pc_xrealloc(s->seg_durations, (s->nsegs + 1) * sizeof *s->seg_durations);
		s->seg_names[s->nsegs] = pc_xstrdup(strrchr(j->out, '/') + 1);
		s->seg_durations[s->nsegs++] = c->duration;
		s->hls_total += c->duration;
		hls_write(s, 0);
	} else {
		/* The chunk is fine; the live playlist goes on without it. */
		char msg[MSG_MAX];
		snprintf(msg, sizeof msg, "chunk %ld: HLS segment: " NAME_IN_MSG, c->req.index, why);
		work_error(s, c->req.index, c->input, msg);
	}
	s->segmenting = 0;
	s->hls_next++;
	job_end(j);
	settle(s);
}

static void segment_done(struct aproc *ap, int status, void *arg)
{
	struct job *j = arg;
	char why[MSG_MAX];
	if (status != 0) {
		child_failure(ap, status, "ffmpeg", why, sizeof why);
		tmp_abort(j->tmp);
	} else if (tmp_commit(j->tmp, j->out) < 0) {
		snprintf(why, sizeof why, NAME_IN_MSG ": %s", j->out, strerror(errno));
	} else {
		segment_finish(j, NULL);
		return;
	}
	segment_finish(j, why);
}

static void segment_begin(struct job *j)
{
	struct session *s = j->s;
	snprintf(j->out, sizeof j->out, "%s/chunk_%ld.ts", s->dir, j->c->req.index);
	if (tmp_path(j->out, j->tmp, sizeof j->tmp) < 0) {
		segment_finish(j, strerror(errno));
		return;
	}
	struct args a = {0};
	cmd_segment(&a, j->c->path, j->tmp, HLS_TS_BASE_S + s->hls_total);
	job_spawn(j, &a, PROC_STDOUT_NULL, REMUX_TIMEOUT_S, segment_done);
}

/* Segments join the playlist in the reel's order, one at a time: each
 * one's timestamps continue where the one before ended. */
static void hls_advance(struct session *s)
{
	while (!s->segmenting && s->hls_next < s->nchunks) {
		struct chunk *c = s->chunks[s->hls_next];
		if (c->state == CHUNK_FAILED) {
			s->hls_next++;
			continue;
		}
		if (c->state != CHUNK_DONE)
			return;
		s->segmenting = 1;
		jobq_push(&E.quick, job_new(JOB_SEGMENT, s, c));
		pump();
	}
}

/* ---- the end of a session ---- */

static size_t chunks_made(struct session *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nchunks; i++)
		n += s->chunks[i]->state == CHUNK_DONE;
	return n;
}

static void complete(struct session *s, const char *final, double final_duration, int captions)
{
	char url[PATH_MAX], name[SESS_ID_MAX + 32];
	json_object *rec = rec_new("complete", s->id);
	rec_set_int(rec, "chunks", (long)chunks_made(s));
	snprintf(name, sizeof name, "commentary_%s.mp4", s->id);
	snprintf(url, sizeof url, "/videos/generated-videos/%s", name);
	rec_set_str(rec, "final_video", final ? name : NULL);
	rec_set_str(rec, "url", final ? url : NULL);
	rec_set_str(rec, "path", final);
	if (final)
		rec_set_num(rec, "duration", final_duration);
	snprintf(url, sizeof url, "/videos/generated-videos/commentary_%s.vtt", s->id);
	rec_set_str(rec, "captions", captions ? url : NULL);
	stream_url(url, sizeof url, s->id, "stream.m3u8");
	rec_set_str(rec, "playlist", s->nsegs ? url : NULL);
	rec_set_int(rec, "progress", 100);
	outq_add(s->end_item, rec);
	if (s->end_rec) {
		outq_add(s->end_item, s->end_rec);
		s->end_rec = NULL;
	}
	outq_ready(s->end_item);
	s->end_item = NULL;   /* the queue frees it once written */
	outq_flush(&s->q);
	s->done = 1;
}

/* The reel's text files, in one pass over its chunks at their offsets in
 * it: the concat script, the chapters, the captions. */
static void reel_scripts(struct session *s, struct buf *list, struct buf *chapters, struct buf *vtt)
{
	size_t n = s->nchunks, nchunks = 0, ncues = 0;
	char **paths = pc_xcalloc(n, sizeof *paths), **titles = pc_xcalloc(n, sizeof *titles);
	double *durations = pc_xcalloc(n, sizeof *durations);
	struct cue *marks = pc_xcalloc(n, sizeof *marks), *cues = pc_xcalloc(n, sizeof *cues);
	double offset = 0;
	for (size_t i = 0; i < n; i++) {
		struct chunk *c = s->chunks[i];
		if (c->state != CHUNK_DONE)
			continue;
		if (c->req.text && *c->req.text)
			titles[nchunks] = pc_xstrdup(c->req.text);
		else if (asprintf(&titles[nchunks], "Highlight %ld", c->req.index) < 0)
			pc_die(PC_EXIT_FAIL, "out of memory");
		marks[nchunks] = (struct cue){offset, offset + c->duration, titles[nchunks]};
		paths[nchunks] = c->path;
		durations[nchunks++] = c->duration;
		if (c->captions)
			cues[ncues++] = caption_of(c, offset);
		offset += c->duration;
	}
	concat_render(list, paths, durations, nchunks);
	chapters_render(chapters, marks, nchunks);
	if (ncues)
		vtt_render(vtt, cues, ncues);
	for (size_t i = 0; i < nchunks; i++)
		free(titles[i]);
	free(titles);
	free(paths);
	free(durations);
	free(marks);
	free(cues);
}

/* The reel is in place (why NULL) or not: its captions, the playlist's
 * end, and `complete` either way. */
static void reel_finish(struct job *j, double duration, const char *why)
{
	struct session *s = j->s;
	int captions = 0;
	tmp_abort(j->list);
	tmp_abort(j->chapters);
	if (!why && j->vtt.len) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%.*s.vtt", (int)(strlen(j->out) - 4), j->out);
		captions = atomic_write(path, j->vtt.data, j->vtt.len) == 0;
		if (!captions)
			pc_warn("%s: %s", path, strerror(errno));
	}
	if (why) {
		char msg[MSG_MAX];
		snprintf(msg, sizeof msg, "final video: " NAME_IN_MSG, why);
		work_error(s, -1, NULL, msg);
	}
	if (s->nsegs)
		hls_write(s, 1);
	complete(s, why ? NULL : j->out, duration, captions);
	job_end(j);
}

static void concat_done(struct aproc *ap, int status, void *arg)
{
	struct job *j = arg;
	char why[MSG_MAX];
	double duration = 0;
	if (status != 0) {
		child_failure(ap, status, "ffmpeg", why, sizeof why);
		tmp_abort(j->tmp);
	} else if (mp4_duration(j->tmp, &duration, why, sizeof why) < 0) {
		tmp_abort(j->tmp);
	} else if (tmp_commit(j->tmp, j->out) < 0) {
		snprintf(why, sizeof why, NAME_IN_MSG ": %s", j->out, strerror(errno));
	} else {
		reel_finish(j, duration, NULL);
		return;
	}
	reel_finish(j, 0, why);
}

static void concat_begin(struct job *j)
{
	struct session *s = j->s;
	char folder[DIR_MAX], why[MSG_MAX];
	if (snprintf(folder, sizeof folder, "%s/generated-videos", pc_out_root()) >= (int)sizeof folder) {
		reel_finish(j, 0, "output folder name too long");
		return;
	}
	snprintf(j->out, sizeof j->out, "%s/commentary_%s.mp4", folder, s->id);
	char list_name[PATH_MAX], chapters_name[PATH_MAX];
	snprintf(list_name, sizeof list_name, "%s/concat.txt", s->dir);
	snprintf(chapters_name, sizeof chapters_name, "%s/chapters.txt", s->dir);
	if (pc_mkdirs(folder) < 0 || tmp_path(j->out, j->tmp, sizeof j->tmp) < 0 ||
	    tmp_path(list_name, j->list, sizeof j->list) < 0 ||
	    tmp_path(chapters_name, j->chapters, sizeof j->chapters) < 0) {
		snprintf(why, sizeof why, NAME_IN_MSG ": %s", folder, strerror(errno));
		reel_finish(j, 0, why);
		return;
	}
	struct buf list = {0}, chapters = {0};
	reel_scripts(s, &list, &chapters, &j->vtt);
	/* The scripts keep their temporary (hidden, cleaned-up) names. */
	int rc = atomic_write(j->list, list.data, list.len) < 0 ||
			 atomic_write(j->chapters, chapters.data, chapters.len) < 0 ? -1 : 0;
	int saved = errno;
	buf_free(&list);
	buf_free(&chapters);
	if (rc < 0) {
		snprintf(why, sizeof why, NAME_IN_MSG ": %s", s->dir, strerror(saved));
		reel_finish(j, 0, why);
		return;
	}
	struct args a = {0};
	cmd_concat(&a, j->list, j->chapters, j->tmp);
	job_spawn(j, &a, PROC_STDOUT_NULL, CONCAT_TIMEOUT_BASE_S + CONCAT_TIMEOUT_PER_S * s->hls_total,
		  concat_done);
}

/* After session_end (or the input's end), once every chunk is settled and
 * every segment written: the reel, or straight to `complete`. */
static void maybe_finish(struct session *s)
{
	if (!s->ended || s->finishing || s->segmenting || s->hls_next < s->nchunks)
		return;
	for (size_t i = 0; i < s->nchunks; i++)
		if (s->chunks[i]->state != CHUNK_DONE && s->chunks[i]->state != CHUNK_FAILED)
			return;
	s->finishing = 1;
	if (chunks_made(s) == 0) {
		complete(s, NULL, 0, 0);
		return;
	}
	jobq_push(&E.quick, job_new(JOB_CONCAT, s, NULL));
	pump();
}

/* What follows a chunk's end (or the session's): its segment, the reel. */
static void settle(struct session *s)
{
	hls_advance(s);
	maybe_finish(s);
}

/* ---- scheduling ---- */

static void job_begin(struct job *j)
{
	E.slots += j->weight;
	switch (j->kind) {
	case JOB_CUT:
		cut_begin(j);
		break;
	case JOB_SEGMENT:
		segment_begin(j);
		break;
	case JOB_CONCAT:
		concat_begin(j);
		break;
	}
}

static int fits(const struct job *j)
{
	return E.slots == 0 || E.slots + j->weight <= E.o.jobs;
}

/* The next job to start, taken off its queue; NULL when none can. */
static struct job *job_next(void)
{
	if (E.quick.head && fits(E.quick.head)) {
		struct job *j = E.quick.head;
		jobq_unlink(&E.quick, NULL, j);
		return j;
	}
	for (struct job *prev = NULL, *j = E.cuts.head; j; prev = j, j = j->next) {
		struct session *s = j->s;
		if (s->probe == PROBE_RUNNING)
			continue;   /* its session's source is still being probed */
		if (s->probe != PROBE_OK) {
			jobq_unlink(&E.cuts, prev, j);
			return j;   /* it fails at once, needing no slot */
		}
		/* Without --jobs a transcode runs alone: libx264 already uses
		 * every core, and a second one would halve the first's speed. */
		j->weight = !s->enc.copy && E.o.jobs_auto ? E.o.jobs : 1;
		if (!fits(j))
			return NULL;   /* keep the order: no overtaking a waiting cut */
		jobq_unlink(&E.cuts, prev, j);
		return j;
	}
	return NULL;
}

static void pump(void)
{
	static int pumping;
	if (pumping)
		return;   /* a job that ends at once calls back in here */
	pumping = 1;
	struct job *j;
	while ((j = job_next()))
		job_begin(j);
	pumping = 0;
}

/* ---- sessions ---- */

static struct session *session_get(const char *id)
{
	struct session *s = sess_get(&E.sessions, id);
	if (!s->id[0]) {
		snprintf(s->id, sizeof s->id, "%s", id);
		sess_dir(id, s->dir, sizeof s->dir);
		snprintf(s->probe_err, sizeof s->probe_err,
			 "no session record for %s came before it: the source is unknown", id);
	}
	return s;
}

static void session_free(void *data)
{
	struct session *s = data;
	for (size_t i = 0; i < s->nchunks; i++) {
		chunk_req_free(&s->chunks[i]->req);
		free(s->chunks[i]);
	}
	free(s->chunks);
	for (size_t i = 0; i < s->nsegs; i++)
		free(s->seg_names[i]);
	free(s->seg_names);
	free(s->seg_durations);
	free(s->source);
	json_object_put(s->end_rec);
	outq_free(&s->q);
}

static void probe_done(struct aproc *ap, int status, void *arg)
{
	struct session *s = arg;
	char why[MSG_MAX];
	s->busy--;
	if (status != 0)
		child_failure(ap, status, "ffprobe", why, sizeof why);
	if (status != 0 ||
	    parse_probe(ap->out.data ? ap->out.data : "", ap->out.len, &s->mi, &s->start_time, why, sizeof why) < 0) {
		s->probe = PROBE_FAILED;
		snprintf(s->probe_err, sizeof s->probe_err, "source " NAME_IN_MSG ": " NAME_IN_MSG, s->source, why);
	} else {
		s->probe = PROBE_OK;
		encoding_choose(&s->enc, &s->mi, E.o.preset, E.o.transcode);
		if (s->duration <= 0)
			s->duration = s->mi.duration;
	}
	pump();
}

static void session_record(struct session *s, json_object *rec, const char *input)
{
	struct session_info si;
	char err[MSG_MAX];
	if (s->source)
		return;   /* the first one counts */
	if (parse_session(rec, &si, err, sizeof err) < 0) {
		input_error(s, -1, input, err);
		snprintf(s->probe_err, sizeof s->probe_err, "%s", err);
		return;
	}
	s->source = si.source;
	si.source = NULL;
	s->duration = si.duration;
	if (si.dir) {
		/* Chunk paths go into records and concat scripts: absolute. */
		char cwd[PATH_MAX];
		struct buf dir = {0};
		if (si.dir[0] != '/')
			buf_printf(&dir, "%s/", getcwd(cwd, sizeof cwd) ? cwd : ".");
		buf_puts(&dir, si.dir);
		if (dir.len < sizeof s->dir)
			memcpy(s->dir, dir.data, dir.len + 1);
		else
			s->dir[0] = '\0';
		buf_free(&dir);
	}
	session_info_free(&si);
	if (!s->dir[0] || pc_mkdirs(s->dir) < 0) {
		s->probe = PROBE_FAILED;
		snprintf(s->probe_err, sizeof s->probe_err, "session folder: %s",
			 s->dir[0] ? strerror(errno) : "name too long");
		input_error(s, -1, input, s->probe_err);
		return;
	}
	struct args a = {0};
	cmd_source_probe(&a, s->source);
	s->probe = PROBE_RUNNING;
	s->busy++;
	aproc_start(E.loop, a.v, 0, PROBE_TIMEOUT_S, probe_done, s);
	args_free(&a);
}

static void audio_record(struct session *s, json_object *rec, const char *input)
{
	struct chunk_req req;
	char err[MSG_MAX];
	if (parse_audio(rec, &req, err, sizeof err) < 0) {
		input_error(s, req.index, input, err);
		return;
	}
	if (s->ended) {
		snprintf(err, sizeof err, "chunk %ld: audio record after session_end", req.index);
		input_error(s, req.index, input, err);
		chunk_req_free(&req);
		return;
	}
	for (size_t i = 0; i < s->nchunks; i++) {
		if (s->chunks[i]->req.index == req.index) {
			snprintf(err, sizeof err, "chunk %ld: a second audio record with this index", req.index);
			input_error(s, req.index, input, err);
			chunk_req_free(&req);
			return;
		}
	}
	struct chunk *c = pc_xcalloc(1, sizeof *c);
	c->req = req;
	c->s = s;
	snprintf(c->input, sizeof c->input, "%s", input ? input : "");
	snprintf(c->path, sizeof c->path, "%s/chunk_%ld.mp4", s->dir, req.index);
	/* --delay when given, else where narrate fitted the speech to start. */
	c->delay = E.o.delay_set || req.delay < 0 ? E.o.delay : req.delay;
	c->item = outq_push(&s->q);
	s->chunks = pc_xrealloc(s->chunks, (s->nchunks + 1) * sizeof *s->chunks);
	s->chunks[s->nchunks++] = c;
	jobq_push(&E.cuts, job_new(JOB_CUT, s, c));
	pump();
}

static void session_ended(struct session *s, json_object *end_rec)
{
	if (s->ended) {
		if (end_rec)
			outq_push_record(&s->q, end_rec);   /* a second one passes */
		return;
	}
	s->ended = 1;
	s->end_rec = end_rec;
	s->end_item = outq_push(&s->q);
	settle(s);
}

/* ---- the interface ---- */

void splice_start(struct loop *l, const struct splice_opts *o)
{
	memset(&E, 0, sizeof E);
	E.loop = l;
	E.o = *o;
	E.sessions.data_size = sizeof(struct session);
	E.sessions.free_data = session_free;
}

void splice_record(json_object *rec, const char *input)
{
	const char *type = rec_type(rec);
	const char *id = rec_str(rec, "session");
	if (!type) {
		out_record_put(rec);
		return;
	}
	int ours = (!strcmp(type, "session") || !strcmp(type, "audio") || !strcmp(type, "session_end"));
	if (!id || (!ours && !sess_find(&E.sessions, id))) {
		out_record_put(rec);   /* nothing of ours to wait for */
		return;
	}
	if (!sess_id_valid(id)) {
		out_error(NULL, -1, input, "%s: session id \"%.*s\" is not safe as a folder name", type,
			  SESS_ID_MAX, id);
		E.failed = 1;
		if (strcmp(type, "audio"))
			out_record(rec);
		json_object_put(rec);
		return;
	}
	struct session *s = session_get(id);
	if (!strcmp(type, "session")) {
		session_record(s, rec, input);
		outq_push_record(&s->q, rec);
	} else if (!strcmp(type, "audio")) {
		audio_record(s, rec, input);
		json_object_put(rec);
	} else if (!strcmp(type, "session_end")) {
		session_ended(s, rec);
	} else {
		outq_push_record(&s->q, rec);
	}
	outq_flush(&s->q);
}

void splice_bad_line(const char *msg, const char *input)
{
	E.failed = 1;
	out_error(NULL, -1, input, "%s", msg);
}

void splice_input_end(void)
{
	for (struct sess *e = E.sessions.head; e; e = e->next)
		session_ended(e->data, NULL);
}

int splice_busy(void)
{
	/* Drop the sessions that are through: their output is out. */
	for (struct sess *e = E.sessions.head, *next; e; e = next) {
		struct session *s = e->data;
		next = e->next;
		if (s->done && s->busy == 0 && outq_empty(&s->q))
			sess_drop(&E.sessions, e->id);
	}
	return E.sessions.head != NULL;
}

int splice_exit_status(void)
{
	return E.failed ? PC_EXIT_FAIL : PC_EXIT_OK;
}

void splice_free(void)
{
	sess_free_all(&E.sessions);
}
