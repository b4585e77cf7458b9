/* Streams: the records of one feed, kept once as the bytes that go on the
 * wire ("id: N\ndata: <record>\n\n"), so a client is only an offset into
 * them and fan-out to thousands is one write each, with no copies.  A
 * session's stream is also appended to its events.ndjson (line N = event
 * id N), which is how a client resumes after the stream left memory or the
 * server restarted. */
#define _GNU_SOURCE
#include "sse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENTS_FILE "events.ndjson"

struct stream *stream_new(enum stream_kind kind)
{
	struct stream *s = pc_xcalloc(1, sizeof *s);
	s->kind = kind;
	s->first_id = 1;
	s->last_id = 0;
	s->save_fd = -1;
	s->follow_fd = -1;
	s->started = pc_now();
	s->idle_since = s->started;
	s->next = srv.streams;
	srv.streams = s;
	return s;
}

void stream_free(struct stream *s)
{
	for (struct stream **pp = &srv.streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	while (s->clients)
		client_close(s->clients);
	if (s->save_fd >= 0)
		close(s->save_fd);   /* also drops the lock */
	if (s->follow_fd >= 0)
		close(s->follow_fd);
	buf_free(&s->framed);
	buf_free(&s->unsaved);
	free(s->ev_pos);
	free(s->media);
	free(s);
}

size_t stream_end_pos(const struct stream *s)
{
	return s->base + s->framed.len;
}

static void events_path(const char *session, char *out, size_t n)
{
	char dir[PATH_MAX];
	snprintf(out, n, "%s/" EVENTS_FILE, sess_dir(session, dir, sizeof dir));
}

static void save(struct stream *s, const char *line, size_t len)
{
	if (s->readonly || s->kind != STREAM_SESSION)
		return;
	if (s->save_fd < 0) {
		if (!s->session[0]) {   /* written once the session id is known */
			buf_append(&s->unsaved, line, len);
			buf_append(&s->unsaved, "\n", 1);
		}
		return;
	}
	struct buf l = {0};
	buf_append(&l, line, len);
	buf_append(&l, "\n", 1);
	/* One write per line on an O_APPEND fd, so a reader sees whole lines
	 * or a partial last one it can skip. */
	ssize_t w = write(s->save_fd, l.data, l.len);
	if (w != (ssize_t)l.len) {
		pc_warn("%s: %s: write failed: %s; resume from disk will stop here", s->session,
			 EVENTS_FILE, w < 0 ? strerror(errno) : "short write");
		close(s->save_fd);
		s->save_fd = -1;
		s->readonly = 1;
	}
	buf_free(&l);
}

void stream_set_session(struct stream *s, const char *id)
{
	if (s->session[0] || !sess_id_valid(id))
		return;
	snprintf(s->session, sizeof s->session, "%s", id);
	if (s->readonly)
		return;
	char dir[PATH_MAX], path[PATH_MAX];
	sess_dir(id, dir, sizeof dir);
	events_path(id, path, sizeof path);
	int fd = -1;
	if (pc_mkdirs(dir) == 0)
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	/* The lock tells another sse-serve (an inetd instance) that this
	 * session is live: it follows the file instead of starting it again. */
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		pc_warn("%s: %s is being written by another process", id, path);
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		pc_warn("%s: cannot save %s: %s", id, path, strerror(errno));
		s->readonly = 1;
		buf_free(&s->unsaved);
		return;
	}
	if (ftruncate(fd, 0) < 0)
		pc_warn("%s: truncate %s: %s", id, path, strerror(errno));
	s->save_fd = fd;
	if (s->unsaved.len && write(fd, s->unsaved.data, s->unsaved.len) != (ssize_t)s->unsaved.len)
		pc_warn("%s: write %s: %s", id, path, strerror(errno));
	buf_free(&s->unsaved);
}

/* Forget the oldest events so a never-ending stream (a pipe that carries
 * many sessions) keeps bounded memory.  A client still behind the new
 * start is one that stopped reading long ago: closed, it can resume. */
static void trim(struct stream *s)
{
	if (s->framed.len <= SSE_STREAM_MEM_MAX || s->nev < 2)
		return;
	size_t keep_from = stream_end_pos(s) - SSE_STREAM_MEM_MAX * 3 / 4;
	size_t k = 0;
	while (k + 1 < s->nev && s->ev_pos[k] < keep_from)
		k++;
	size_t newbase = s->ev_pos[k];
	size_t drop = newbase - s->base;
	memmove(s->framed.data, s->framed.data + drop, s->framed.len - drop);
	s->framed.len -= drop;
	memmove(s->ev_pos, s->ev_pos + k, (s->nev - k) * sizeof *s->ev_pos);
	s->nev -= k;
	s->first_id += (long)k;
	s->base = newbase;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->snext;
		if (c->pos < s->base)
			client_close(c);
	}
}

static void push_event(struct stream *s, const char *line, size_t len)
{
	if (s->nev == s->capev) {
		s->capev = s->capev ? s->capev * 2 : 64;
		s->ev_pos = pc_xrealloc(s->ev_pos, s->capev * sizeof *s->ev_pos);
	}
	s->ev_pos[s->nev++] = stream_end_pos(s);
	s->last_id++;
	buf_printf(&s->framed, "id: %ld\ndata: ", s->last_id);
	buf_append(&s->framed, line, len);
	buf_append(&s->framed, "\n\n", 2);
}

static void wake_clients(struct stream *s)
{
	fanout_write(s);
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->snext;
		client_flush(c);
	}
}

void stream_append(struct stream *s, const char *json, size_t len)
{
	if (s->ended)
		return;
	/* A record is one line; a newline inside would end the SSE event. */
	if (memchr(json, '\n', len) || memchr(json, '\r', len))
		return;
	push_event(s, json, len);
	save(s, json, len);
	trim(s);
	wake_clients(s);
}

void stream_append_rec(struct stream *s, json_object *rec)
{
	size_t n;
	const char *txt = json_object_to_json_string_length(
		rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	stream_append(s, txt, n);
}

void stream_end(struct stream *s)
{
	if (s->ended)
		return;
	s->ended = 1;
	s->idle_since = srv.now;
	if (s->save_fd >= 0) {
		close(s->save_fd);
		s->save_fd = -1;
	}
	buf_free(&s->unsaved);
	/* Clients that have everything are closed now; the rest as they drain. */
	wake_clients(s);
}

size_t stream_pos_after(const struct stream *s, long after_id, long *gap_from)
{
	long want = after_id < 0 ? 1 : after_id + 1;
	*gap_from = 0;
	if (want > s->last_id)
		return stream_end_pos(s);
	if (want >= s->first_id)
		return s->ev_pos[want - s->first_id];
	*gap_from = want;
	return s->base;
}

size_t stream_take_lines(struct stream *s, const char *buf, size_t len)
{
	size_t used = 0;
	while (used < len) {
		const char *nl = memchr(buf + used, '\n', len - used);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (buf + used));
		const char *line = buf + used;
		used += n + 1;
		if (n && line[n - 1] == '\r')
			n--;
		/* Every line is an event, so ids stay line numbers. */
		push_event(s, line, n);
	}
	return used;
}

static int read_file(int fd, struct buf *b, size_t max)
{
	char tmp[65536];
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (b->len + (size_t)r > max) {
			errno = EFBIG;
			return -1;
		}
		buf_append(b, tmp, (size_t)r);
	}
}

int stream_read_saved(const struct stream *s, long from_id, long to_id, struct buf *out)
{
	char path[PATH_MAX];
	if (!s->session[0])
		return -1;
	events_path(s->session, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct buf data = {0};
	int rc = read_file(fd, &data, SSE_SAVED_LOAD_MAX);
	close(fd);
	long id = 0;
	size_t pos = 0;
	while (rc == 0 && pos < data.len && id < to_id) {
		const char *nl = memchr(data.data + pos, '\n', data.len - pos);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (data.data + pos));
		id++;
		if (id >= from_id) {
			buf_printf(out, "id: %ld\ndata: ", id);
			buf_append(out, data.data + pos, n);
			buf_append(out, "\n\n", 2);
		}
		pos += n + 1;
	}
	buf_free(&data);
	return rc;
}

struct stream *stream_load(const char *session)
{
	char path[PATH_MAX];
	if (!sess_id_valid(session))
		return NULL;
	events_path(session, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct buf data = {0};
	if (read_file(fd, &data, SSE_SAVED_LOAD_MAX) < 0) {
		pc_warn("%s: %s: %s", session, path, strerror(errno));
		buf_free(&data);
		close(fd);
		return NULL;
	}
	struct stream *s = stream_new(STREAM_SESSION);
	snprintf(s->session, sizeof s->session, "%s", session);
	s->readonly = 1;
	size_t used = data.len ? stream_take_lines(s, data.data, data.len) : 0;
	buf_free(&data);
	/* Still locked: the process that runs this session is alive (another
	 * inetd instance).  Follow the file as it grows. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		s->follow_fd = fd;
		s->follow_off = (off_t)used;
		return s;
	}
	close(fd);
	s->ended = 1;
	s->idle_since = srv.now;
	return s;
}

void stream_follow(struct stream *s)
{
	if (s->follow_fd < 0)
		return;
	/* Lock first: if the writer is gone, everything it wrote is there. */
	int done = flock(s->follow_fd, LOCK_SH | LOCK_NB) == 0;
	struct stat st;
	if (fstat(s->follow_fd, &st) == 0 && st.st_size > s->follow_off) {
		size_t want = (size_t)(st.st_size - s->follow_off);
		char *tmp = pc_xmalloc(want);
		ssize_t r = pread(s->follow_fd, tmp, want, s->follow_off);
		if (r > 0) {
			size_t before = s->nev;
			s->follow_off += (off_t)stream_take_lines(s, tmp, (size_t)r);
			if (s->nev != before) {
				trim(s);
				wake_clients(s);
			}
		}
		free(tmp);
	}
	if (done) {
		close(s->follow_fd);
		s->follow_fd = -1;
		stream_end(s);
	}
}
