/* Where records come from.  Pipe mode: standard input, to /events and to
 * each session's own stream.  Exec mode: one pipeline per media file,
 * `/bin/sh -c CMD sse-serve PATH`, the path only ever as $1, its stdout
 * read by the loop, its stderr kept for the error that ends it. */
#define _GNU_SOURCE
#include "sse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct pipeline {
	struct proc p;
	struct nd_reader rd;
	struct stream *st;
	double deadline;
	int open_fds;
	struct pipeline *next;
};

static struct pipeline *pipelines;
static struct nd_reader stdin_rd;
static int stdin_open;

void feed_observe(struct stream *ss, json_object *rec)
{
	const char *type = rec_type(rec);
	if (!strcmp(type, "error"))
		srv.errors_total++;
	if (strcmp(type, "chunk_ready"))
		return;
	srv.chunks_total++;
	if (ss && !ss->got_chunk) {
		ss->got_chunk = 1;
		metrics_ttfc(pc_now() - ss->started);
	}
}

/* Read what is there and hand on each record; a line that is not one
 * still reaches the clients, as an error record naming input and line.
 * 1 at the end of the input. */
static int drain_records(struct nd_reader *r, const char *session, void (*each)(json_object *, void *), void *arg)
{
	ssize_t got = nd_fill(r);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (;;) {
		json_object *rec;
		char err[512], input[256];
		enum nd_result res = nd_next(r, &rec, err, sizeof err);
		if (res == ND_BAD) {
			snprintf(input, sizeof input, "%s:%ld", r->name, r->line);
			pc_warn("%s", err);
			rec = rec_error(session, -1, input, err);
		} else if (res != ND_RECORD)
			break;
		each(rec, arg);
		json_object_put(rec);
	}
	return got <= 0;
}

/* ---- pipe mode ---- */

static struct stream *pipe_session(const char *id)
{
	for (struct stream *s = srv.streams; s; s = s->next)
		if (s->kind == STREAM_SESSION && !s->ended && !s->media && !s->readonly &&
		    !strcmp(s->session, id))
			return s;
	struct stream *s = stream_new(STREAM_SESSION);
	stream_set_session(s, id);
	srv.sessions_total++;
	return s;
}

static void pipe_record(json_object *rec)
{
	const char *id = rec_str(rec, "session");
	struct stream *ss = id && sess_id_valid(id) ? pipe_session(id) : NULL;
	feed_observe(ss, rec);
	stream_append_rec(srv.stdin_stream, rec);
	if (!ss)
		return;
	stream_append_rec(ss, rec);
	if (!strcmp(rec_type(rec), "session_end"))
		stream_end(ss);
}

static void stdin_eof(struct loop *l)
{
	loop_del_fd(l, 0);
	stdin_open = 0;
	stream_end(srv.stdin_stream);
	for (struct stream *s = srv.streams; s; s = s->next)
		if (s->kind == STREAM_SESSION && !s->media && !s->readonly)
			stream_end(s);
	pc_warn("end of standard input: %ld records", srv.stdin_stream->last_id);
}

static void stdin_record(json_object *rec, void *arg)
{
	(void)arg;
	pipe_record(rec);
}

static void on_stdin(struct loop *l, int fd, short revents, void *arg)
{
	(void)fd, (void)revents, (void)arg;
	if (drain_records(&stdin_rd, NULL, stdin_record, NULL))
		stdin_eof(l);
}

void feed_stdin_start(void)
{
	srv.stdin_stream = stream_new(STREAM_STDIN);
	nd_init(&stdin_rd, 0, "stdin");
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	stdin_open = 1;
	loop_add_fd(srv.loop, 0, POLLIN, on_stdin, NULL);
}

/* ---- exec mode ---- */

int pipelines_running(void)
{
	int n = 0;
	for (struct pipeline *p = pipelines; p; p = p->next)
		n++;
	return n;
}

static void pipeline_record(struct pipeline *pl, json_object *rec)
{
	struct stream *s = pl->st;
	const char *type = rec_type(rec);
	if (!strcmp(type, "session") && !s->session[0]) {
		const char *id = rec_str(rec, "session");
		if (id && sess_id_valid(id))
			stream_set_session(s, id);
	}
	feed_observe(s, rec);
	stream_append_rec(s, rec);
}

static void close_pipe_fd(struct pipeline *pl, int *fd)
{
	loop_del_fd(srv.loop, *fd);
	close(*fd);
	*fd = -1;
	pl->open_fds--;
}

static void pipe_out_record(json_object *rec, void *arg)
{
	pipeline_record(arg, rec);
}

static void on_pipe_out(struct loop *l, int fd, short revents, void *arg)
{
	struct pipeline *pl = arg;
	(void)l, (void)fd, (void)revents;
	if (drain_records(&pl->rd, pl->st->session[0] ? pl->st->session : NULL, pipe_out_record, pl))
		close_pipe_fd(pl, &pl->p.out_fd);
}

static void on_pipe_err(struct loop *l, int fd, short revents, void *arg)
{
	struct pipeline *pl = arg;
	(void)l, (void)fd, (void)revents;
	ssize_t r = proc_read_err(&pl->p);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		/* Pass the pipeline's diagnostics on: the tail kept in p.err
		 * ends with what was just read. */
		size_t fresh = (size_t)r < pl->p.errlen ? (size_t)r : pl->p.errlen;
		ssize_t w = write(2, pl->p.err + pl->p.errlen - fresh, fresh);
		(void)w;
		return;
	}
	close_pipe_fd(pl, &pl->p.err_fd);
}

static void pipeline_finish(struct pipeline *pl, int status)
{
	struct stream *s = pl->st;
	char why[64], line[512], msg[700];
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (pl->deadline < 0)
		code = -2;
	proc_status_str(code, why, sizeof why);
	pc_warn("%s: pipeline for %s ended: %s", s->session[0] ? s->session : "(no session)",
		 s->media, why);
	if (code != 0) {
		proc_err_line(&pl->p, line, sizeof line);
		snprintf(msg, sizeof msg, "pipeline %s%s%s", why, line[0] ? ": " : "", line);
		json_object *e = rec_error(s->session[0] ? s->session : NULL, -1, NULL, msg);
		srv.errors_total++;
		stream_append_rec(s, e);
		json_object_put(e);
	}
	for (struct pipeline **pp = &pipelines; *pp; pp = &(*pp)->next)
		if (*pp == pl) {
			*pp = pl->next;
			break;
		}
	s->pipe = NULL;
	nd_free(&pl->rd);
	free(pl);
	stream_end(s);
}

void pipeline_tick(double now)
{
	for (struct pipeline *pl = pipelines, *next; pl; pl = next) {
		next = pl->next;
		if (pl->deadline > 0 && now > pl->deadline) {
			pc_warn("%s: pipeline timed out after %.0f s", pl->st->media, srv.cfg.pipeline_timeout);
			pl->deadline = -1;   /* marks the end as a timeout */
			proc_kill(&pl->p);
		}
		/* Reaped once its output is closed; a child that closed its
		 * pipes but lives on is waited for without blocking the loop. */
		if (pl->open_fds == 0 && proc_try_wait(&pl->p))
			pipeline_finish(pl, pl->p.status);
	}
}

struct stream *pipeline_start(const char *media, char *err, size_t errlen)
{
	char *argv[] = {"/bin/sh", "-c", (char *)srv.cfg.exec, "sse-serve", (char *)media, NULL};
	struct pipeline *pl = pc_xcalloc(1, sizeof *pl);
	if (proc_spawn(&pl->p, argv, 0) < 0) {
		snprintf(err, errlen, "cannot start the pipeline: %s", pl->p.err);
		free(pl);
		return NULL;
	}
	struct stream *s = stream_new(STREAM_SESSION);
	s->media = pc_xstrdup(media);
	s->pipe = pl;
	pl->st = s;
	pl->deadline = srv.cfg.pipeline_timeout > 0 ? pc_now() + srv.cfg.pipeline_timeout : 0;
	nd_init(&pl->rd, pl->p.out_fd, "pipeline");
	int fds[2] = {pl->p.out_fd, pl->p.err_fd};
	loop_fd_cb cbs[2] = {on_pipe_out, on_pipe_err};
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		loop_add_fd(srv.loop, fds[i], POLLIN, cbs[i], pl);
		pl->open_fds++;
	}
	pl->next = pipelines;
	pipelines = pl;
	srv.sessions_total++;
	pc_warn("pipeline started for %s (pid %ld)", media, (long)pl->p.pid);
	return s;
}

void feed_free_all(void)
{
	while (pipelines) {
		struct pipeline *pl = pipelines;
		pipelines = pl->next;
		proc_kill(&pl->p);
		if (pl->p.out_fd >= 0)
			close(pl->p.out_fd);
		if (pl->p.err_fd >= 0)
			close(pl->p.err_fd);
		proc_wait(&pl->p);
		nd_free(&pl->rd);
		free(pl);
	}
	if (stdin_open)
		loop_del_fd(srv.loop, 0);
	nd_free(&stdin_rd);
}

/* ---- saved sessions of a media file ---- */

/* The session record among the first lines of an events.ndjson. */
static int saved_source_is(int dirfd, const char *name, const char *media)
{
	char rel[NAME_MAX + 32];
	snprintf(rel, sizeof rel, "%s/events.ndjson", name);
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char *head = pc_xmalloc(SSE_SCAN_HEAD);
	ssize_t n = read(fd, head, SSE_SCAN_HEAD);
	close(fd);
	int match = 0;
	size_t pos = 0;
	while (n > 0 && !match && pos < (size_t)n) {
		char *nl = memchr(head + pos, '\n', (size_t)n - pos);
		if (!nl)
			break;
		char err[128];
		json_object *rec = nd_parse_record(head + pos, (size_t)(nl - (head + pos)), err, sizeof err);
		pos = (size_t)(nl - head) + 1;
		if (!rec)
			continue;
		int is_session = !strcmp(rec_type(rec), "session");
		const char *src = rec_str(rec, "source");
		if (is_session && src) {
			char real[PATH_MAX];
			match = !strcmp(src, media) || (realpath(src, real) && !strcmp(real, media));
		}
		json_object_put(rec);
		if (is_session)
			break;
	}
	free(head);
	return match;
}

void saved_find_media(const char *media, char *session, size_t n)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/streaming", pc_out_root());
	session[0] = '\0';
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct timespec newest = {0, 0};
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		char rel[NAME_MAX + 32];
		if (!sess_id_valid(e->d_name) || strlen(e->d_name) >= SESS_ID_MAX)
			continue;
		snprintf(rel, sizeof rel, "%s/events.ndjson", e->d_name);
		if (fstatat(dirfd(d), rel, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_mtim.tv_sec < newest.tv_sec ||
		    (st.st_mtim.tv_sec == newest.tv_sec && st.st_mtim.tv_nsec <= newest.tv_nsec))
			continue;
		if (!saved_source_is(dirfd(d), e->d_name, media))
			continue;
		newest = st.st_mtim;
		snprintf(session, n, "%s", e->d_name);
	}
	closedir(d);
}
