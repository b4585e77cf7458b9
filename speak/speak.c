/* speak: commentary in, speech out.
 *
 * Each `commentary` record becomes a job holding a pending place in its
 * session's output queue (common/outq), so records leave in input order per
 * session, each as soon as it and everything before it are done, however
 * the syntheses finish.  Up to cfg.jobs syntheses run at once, all on one
 * event loop: the backend starts a child or a transfer and calls back.
 * Cache hits skip the queue and the backend entirely. */
#define _GNU_SOURCE
#include "speak.h"
#include "cache.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct speak_sess {
	struct outq q;
	char dir[PATH_MAX];   /* the session record's `dir`; "" until seen */
	int ended;            /* session_end is queued: drop the state once it is out */
};

struct job {
	struct speak_stage *st;
	char session[SESS_ID_MAX];
	long index;
	json_object *rec;          /* the commentary; becomes the audio record */
	struct outq_item *item;    /* its place in the session's output */
	const char *text;          /* inside rec */
	char lang[SPEAK_LANG_MAX];
	char voice[SPEAK_VOICE_MAX];
	int rate;
	char key[65];
	char final[PATH_MAX];      /* <dir>/speech_<index>.<ext> */
	char tmp[PATH_MAX];        /* where the backend writes it */
	char cached[PATH_MAX];     /* the cache entry, on a hit */
	int from_cache;
	struct job *next;          /* waiting list */
};

struct speak_stage {
	struct speak_cfg cfg;
	struct loop *loop;
	struct sess_table sessions;
	struct job *wait_head, *wait_tail;
	int waiting, running, measuring;
	struct nd_reader in;
	int in_loop;          /* the input fd is watched */
	int paused;           /* too many texts waiting: input rests */
	int input_done;
	int exit_code;
	int unavailable_said, quota_said, cache_store_said;
};

static void schedule(struct speak_stage *st);

static void sess_free_data(void *data)
{
	struct speak_sess *s = data;
	outq_free(&s->q);
}

struct speak_stage *speak_new(struct loop *l, const struct speak_cfg *cfg)
{
	struct speak_stage *st = pc_xcalloc(1, sizeof *st);
	st->cfg = *cfg;
	st->loop = l;
	st->sessions.data_size = sizeof(struct speak_sess);
	st->sessions.free_data = sess_free_data;
	return st;
}

int speak_busy(const struct speak_stage *st)
{
	return st->waiting + st->running + st->measuring > 0;
}

void speak_free(struct speak_stage *st)
{
	if (!st)
		return;
	sess_free_all(&st->sessions);
	nd_free(&st->in);
	free(st);
}

/* ---- choices per record ---- */

int speak_rate_for(int opt_rate, json_object *rec)
{
	double wps;
	if (opt_rate > 0)
		return opt_rate;
	/* narrate sized the text for this many words per second: speak at it,
	 * so the speech fits the window it was written for. */
	if (rec_num(rec, "wps", &wps) < 0 || !(wps > 0))
		return SPEAK_RATE_DEFAULT;
	double wpm = round(wps * 60);
	return wpm < SPEAK_RATE_MIN ? SPEAK_RATE_MIN : wpm > SPEAK_RATE_MAX ? SPEAK_RATE_MAX : (int)wpm;
}

const char *speak_lang_for(const char *opt_lang, json_object *rec)
{
	const char *lang = opt_lang && *opt_lang ? opt_lang : rec_str(rec, "lang");
	if (!lang || !*lang)
		return "en";
	size_t n = strlen(lang);
	if (n >= SPEAK_LANG_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = lang[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      ((c == '-' || c == '_') && i > 0)))
			return NULL;
	}
	return lang;
}

/* ---- output, in order per session ---- */

/* Write what can go; forget a session whose session_end has gone out. */
static void flush_session(struct speak_stage *st, const char *id)
{
	char sid[SESS_ID_MAX];
	snprintf(sid, sizeof sid, "%s", id);   /* id may live in a record flushed here */
	struct speak_sess *s = sess_find(&st->sessions, sid);
	if (!s)
		return;
	outq_flush(&s->q);
	if (s->ended && outq_empty(&s->q))
		sess_drop(&st->sessions, sid);
}

/* A record that is ready now: behind what its session still waits for,
 * else straight out. */
static void emit(struct speak_stage *st, const char *sid, json_object *rec)
{
	struct speak_sess *s = sid ? sess_find(&st->sessions, sid) : NULL;
	if (!s) {
		out_record_put(rec);
		return;
	}
	char id[SESS_ID_MAX];
	snprintf(id, sizeof id, "%s", sid);
	outq_push_record(&s->q, rec);
	flush_session(st, id);
}

/* A one-line message on stderr, unless stdout is the terminal already
 * showing the record. */
static void note(const char *session, const char *msg)
{
	if (out_is_human())
		return;
	if (session)
		pc_warn("%s: %s", session, msg);
	else
		pc_warn("%s", msg);
}

/* ---- jobs ---- */

static void job_end(struct job *job)
{
	struct speak_stage *st = job->st;
	char sid[SESS_ID_MAX];
	snprintf(sid, sizeof sid, "%s", job->session);
	outq_ready(job->item);
	json_object_put(job->rec);
	free(job);
	flush_session(st, sid);
}

/* The commentary becomes the audio record: path null when there is no speech. */
static void job_audio(struct job *job, const char *path, double duration)
{
	json_object *rec = job->rec;
	job->rec = NULL;
	rec_set_str(rec, "type", "audio");
	rec_set_str(rec, "path", path);
	rec_set_num(rec, "speech_duration", path ? duration : 0);
	rec_set_str(rec, "speech_backend", job->st->cfg.backend->name);
	rec_set_str(rec, "voice", job->voice[0] ? job->voice : NULL);
	outq_add(job->item, rec);
	job_end(job);
}

/* No speech for this commentary: say why (an error record, or a status for
 * a spent quota), then the audio record with path null. */
static void job_fail(struct job *job, enum speak_outcome outcome, const char *input, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void job_fail(struct job *job, enum speak_outcome outcome, const char *input, const char *fmt, ...)
{
	struct speak_stage *st = job->st;
	char why[1024], msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "no speech for highlight %ld: %s", job->index, why);
	if (outcome == SPEAK_QUOTA) {
		if (!st->quota_said++)
			note(NULL, why);
		outq_add(job->item, rec_status(job->session, -1, msg));
	} else {
		/* A missing backend would say the same for every text: once. */
		if (outcome != SPEAK_UNAVAILABLE)
			note(job->session, msg);
		else if (!st->unavailable_said++)
			pc_warn("%s", why);
		outq_add(job->item, rec_error(job->session, (int)job->index, input, msg));
	}
	job_audio(job, NULL, 0);
}

static void job_request(struct job *job, struct speak_req *req)
{
	*req = (struct speak_req){
		.text = job->text,
		.lang = job->lang,
		.voice = job->voice,
		.rate = job->rate,
		.path = job->tmp,
		.timeout = job->st->cfg.timeout,
	};
}

static void enqueue(struct job *job)
{
	struct speak_stage *st = job->st;
	job->next = NULL;
	if (st->wait_tail)
		st->wait_tail->next = job;
	else
		st->wait_head = job;
	st->wait_tail = job;
	st->waiting++;
}

static void measured(void *arg, double duration, const char *err)
{
	struct job *job = arg;
	struct speak_stage *st = job->st;
	const struct speak_backend *be = st->cfg.backend;
	st->measuring--;
	if (job->from_cache) {
		if (!err && cache_copy_out(job->cached, job->final) == 0) {
			job_audio(job, job->final, duration);
			return;
		}
		/* A damaged entry (or one that cannot be copied) is a miss. */
		char why[PATH_MAX + 600];
		if (err)
			snprintf(why, sizeof why, "unusable cache entry, speaking it again: %s", err);
		else
			snprintf(why, sizeof why, "cannot copy cache entry %s, speaking it again: %s", job->cached,
				 strerror(errno));
		note(job->session, why);
		job->from_cache = 0;
		enqueue(job);
		schedule(st);
		return;
	}
	if (err) {
		tmp_abort(job->tmp);
		job_fail(job, SPEAK_FAILED, NULL, "%s wrote no usable speech: %s", be->name, err);
		return;
	}
	if (tmp_commit(job->tmp, job->final) < 0) {
		job_fail(job, SPEAK_FAILED, NULL, "%s: %s", job->final, strerror(errno));
		return;
	}
	if (st->cfg.use_cache && cache_store_file(SPEAK_CACHE_KIND, job->key, be->ext, job->final) < 0 &&
	    !st->cache_store_said++)
		pc_warn("cannot keep speech in the cache: %s", strerror(errno));
	job_audio(job, job->final, duration);
}

static void synthesized(void *arg, enum speak_outcome outcome, const char *message)
{
	struct job *job = arg;
	struct speak_stage *st = job->st;
	st->running--;
	if (outcome == SPEAK_OK) {
		st->measuring++;
		speech_measure(st->loop, job->tmp, measured, job);
	} else {
		tmp_abort(job->tmp);
		job_fail(job, outcome, NULL, "%s", message ? message : "speech failed");
	}
	schedule(st);
}

static void resume_input(struct speak_stage *st);

static void schedule(struct speak_stage *st)
{
	while (st->running < st->cfg.jobs && st->wait_head) {
		struct job *job = st->wait_head;
		st->wait_head = job->next;
		if (!st->wait_head)
			st->wait_tail = NULL;
		st->waiting--;
		if (tmp_path(job->final, job->tmp, sizeof job->tmp) < 0) {
			job_fail(job, SPEAK_FAILED, NULL, "%s: %s", job->final, strerror(errno));
			continue;
		}
		struct speak_req req;
		job_request(job, &req);
		st->running++;
		st->cfg.backend->start(st->loop, &req, synthesized, job);
	}
	resume_input(st);
}

/* Everything a commentary needs before its speech can be made; the job
 * fails (with the record's input named) when something is missing. */
static int job_prepare(struct job *job, const char *input)
{
	struct speak_stage *st = job->st;
	const struct speak_backend *be = st->cfg.backend;
	json_object *rec = job->rec;
	job->text = rec_str(rec, "text");
	if (!job->text) {
		job_fail(job, SPEAK_FAILED, input, "commentary has no string \"text\"");
		return -1;
	}
	if (strlen(job->text) > SPEAK_TEXT_MAX) {
		job_fail(job, SPEAK_FAILED, input, "text longer than %d bytes", SPEAK_TEXT_MAX);
		return -1;
	}
	const char *lang = speak_lang_for(st->cfg.lang, rec);
	if (!lang) {
		job_fail(job, SPEAK_FAILED, input, "\"%.40s\" is not a language tag",
			 st->cfg.lang ? st->cfg.lang : rec_str(rec, "lang"));
		return -1;
	}
	snprintf(job->lang, sizeof job->lang, "%s", lang);
	be->voice(st->cfg.voice, job->lang, job->voice, sizeof job->voice);
	job->rate = speak_rate_for(st->cfg.rate, rec);

	struct speak_sess *s = sess_find(&st->sessions, job->session);
	char dir[PATH_MAX];
	if (s && s->dir[0])
		snprintf(dir, sizeof dir, "%s", s->dir);
	else
		sess_dir(job->session, dir, sizeof dir);
	int w = snprintf(job->final, sizeof job->final, "%s/speech_%ld.%s", dir, job->index, be->ext);
	if (w < 0 || (size_t)w >= sizeof job->final) {
		job_fail(job, SPEAK_FAILED, input, "session folder name too long");
		return -1;
	}
	if (pc_mkdirs(dir) < 0) {
		job_fail(job, SPEAK_FAILED, NULL, "cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	struct speak_req req;
	job_request(job, &req);
	be->key(&req, job->key);
	return 0;
}

/* Blank text: nothing to say, and nothing wrong. */
static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

static void commentary(struct speak_stage *st, json_object *rec, const char *input)
{
	const char *sid = rec_str(rec, "session");
	long index;
	if (!sid || !sess_id_valid(sid)) {
		out_error(NULL, -1, input, "%s: commentary without a usable \"session\"", input);
		json_object_put(rec);
		return;
	}
	if (rec_int(rec, "index", &index) < 0 || index < 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s: commentary without a whole non-negative \"index\"", input);
		note(sid, msg);
		emit(st, sid, rec_error(sid, -1, input, msg));
		json_object_put(rec);
		return;
	}
	struct speak_sess *s = sess_get(&st->sessions, sid);
	struct job *job = pc_xcalloc(1, sizeof *job);
	job->st = st;
	snprintf(job->session, sizeof job->session, "%s", sid);
	job->index = index;
	job->rec = rec;
	job->item = outq_push(&s->q);
	if (job_prepare(job, input) < 0)
		return;
	if (blank(job->text)) {
		job_audio(job, NULL, 0);
		return;
	}
	const char *ext = st->cfg.backend->ext;
	if (st->cfg.use_cache && cache_lookup(SPEAK_CACHE_KIND, job->key, ext, job->cached, sizeof job->cached)) {
		job->from_cache = 1;
		st->measuring++;
		speech_measure(st->loop, job->cached, measured, job);
		return;
	}
	enqueue(job);
	schedule(st);
}

void speak_record(struct speak_stage *st, json_object *rec, const char *input)
{
	const char *type = rec_type(rec);
	const char *sid = rec_str(rec, "session");
	if (type && !strcmp(type, "commentary")) {
		commentary(st, rec, input);
		return;
	}
	if (sid && sess_id_valid(sid) && type && !strcmp(type, "session")) {
		struct speak_sess *s = sess_get(&st->sessions, sid);
		const char *dir = rec_str(rec, "dir");
		if (dir && *dir && strlen(dir) < sizeof s->dir)
			snprintf(s->dir, sizeof s->dir, "%s", dir);
	}
	if (sid && type && !strcmp(type, "session_end")) {
		struct speak_sess *s = sess_find(&st->sessions, sid);
		if (s)
			s->ended = 1;
	}
	emit(st, sid, rec);
}

/* ---- input ---- */

static void on_input(struct loop *l, int fd, short revents, void *arg);

static void input_watch(struct speak_stage *st, int on)
{
	if (on && !st->in_loop)
		loop_add_fd(st->loop, st->in.fd, POLLIN, on_input, st);
	else if (!on && st->in_loop)
		loop_del_fd(st->loop, st->in.fd);
	st->in_loop = on;
}

/* Hand out the complete lines buffered so far. */
static void drain(struct speak_stage *st)
{
	while (!st->input_done) {
		if (st->waiting >= SPEAK_WAIT_MAX) {
			/* Enough texts queued: leave the rest in the pipe. */
			st->paused = 1;
			input_watch(st, 0);
			return;
		}
		json_object *rec;
		char err[512], input[128];
		enum nd_result res = nd_next(&st->in, &rec, err, sizeof err);
		if (res == ND_AGAIN)
			return;
		if (res == ND_EOF) {
			input_watch(st, 0);
			st->input_done = 1;
			return;
		}
		snprintf(input, sizeof input, "%s:%ld", st->in.name, st->in.line);
		if (res == ND_BAD)
			out_error(NULL, -1, input, "%s", err);
		else
			speak_record(st, rec, input);
	}
}

static void resume_input(struct speak_stage *st)
{
	if (!st->paused || st->waiting >= SPEAK_WAIT_MAX)
		return;
	st->paused = 0;
	drain(st);
	if (!st->paused && !st->input_done)
		input_watch(st, 1);
}

static void on_input(struct loop *l, int fd, short revents, void *arg)
{
	struct speak_stage *st = arg;
	(void)l;
	(void)fd;
	(void)revents;
	if (nd_fill(&st->in) < 0 && errno != EAGAIN && errno != EINTR) {
		pc_warn("%s: read error: %s", st->in.name, strerror(errno));
		st->exit_code = PC_EXIT_FAIL;
		st->in.eof = 1;
	}
	drain(st);
}

int speak_run(struct speak_stage *st, int fd, const char *name)
{
	nd_init(&st->in, fd, name);
	input_watch(st, 1);
	while (!st->input_done || speak_busy(st))
		loop_run_once(st->loop, -1);
	/* Every job is done, so every queued record can go. */
	for (struct sess *s = st->sessions.head; s; s = s->next)
		outq_flush(&((struct speak_sess *)s->data)->q);
	sess_free_all(&st->sessions);
	return st->exit_code;
}
