/* What each URL answers.  Every answer is built into the client's out
 * buffer (a file body is sent from its fd); a stream answer attaches the
 * client to a stream at the position after its Last-Event-ID. */
#define _GNU_SOURCE
#include "sse.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const sse_headers =
	"Content-Type: text/event-stream\r\n"
	"Cache-Control: no-cache\r\n"
	"X-Accel-Buffering: no\r\n";

void respond_start(struct client *c, int status, int keep_alive)
{
	char date[HTTPD_DATE_LEN];
	const char *reason = httpd_reason(status);
	c->state = C_WRITE;
	c->keep_alive = (unsigned char)keep_alive;
	buf_reset(&c->out);
	c->out_off = 0;
	httpd_date(time(NULL), date);
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nServer: sse-serve\r\nDate: %s\r\n", status,
		   reason ? reason : "Unknown", date);
	buf_puts(&c->out, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
	metrics_response(status);
}

/* Content headers and the body (left out for HEAD); extra: more header
 * lines, each ending in CR LF. */
void respond_body(struct client *c, const char *type, const char *body, size_t len, const char *extra)
{
	buf_printf(&c->out, "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", type, len, extra ? extra : "");
	if (!(c->flags & CF_HEAD))
		buf_append(&c->out, body, len);
}

void respond_error(struct client *c, int status, int keep_alive)
{
	char body[128], extra[64] = "";
	const char *reason = httpd_reason(status);
	/* These leave the connection in a state we cannot trust for another
	 * request: unread bytes of a refused head, or none at all. */
	if (status == 400 || status == 405 || status == 408 || status == 431 || status == 505)
		keep_alive = 0;
	snprintf(body, sizeof body, "%d %s\n", status, reason ? reason : "Error");
	if (status == 405)
		snprintf(extra, sizeof extra, "Allow: GET, HEAD\r\n");
	else if (status == 503)
		snprintf(extra, sizeof extra, "Retry-After: %d\r\n", SSE_RETRY_AFTER);
	respond_start(c, status, keep_alive);
	respond_body(c, "text/plain; charset=utf-8", body, strlen(body), extra);
}

static int path_is(const struct httpd_req *req, const char *p)
{
	return req->path.n == strlen(p) && !memcmp(req->path.p, p, req->path.n);
}

/* The rest of the path after prefix, or n == 0 when it does not start so. */
static struct httpd_str path_after(const struct httpd_req *req, const char *prefix)
{
	size_t n = strlen(prefix);
	struct httpd_str rest = {NULL, 0};
	if (req->path.n > n && !memcmp(req->path.p, prefix, n)) {
		rest.p = req->path.p + n;
		rest.n = req->path.n - n;
	}
	return rest;
}

/* Last-Event-ID: the id of the last event the client has; -1 if none. */
static long last_event_id(const struct httpd_req *req)
{
	struct httpd_str v = req->last_event_id;
	if (!v.p || v.n == 0 || v.n > 18)
		return -1;
	long id = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		id = id * 10 + (v.p[i] - '0');
	}
	return id;
}

/* ---- streams ---- */

void sse_attach(struct client *c, struct stream *s, long after_id)
{
	long gap;
	size_t pos = stream_pos_after(s, after_id, &gap);
	int keep = c->keep_alive;
	if (s->ended && !gap && pos == stream_end_pos(s)) {
		/* Nothing more will come: 204 tells EventSource to stop
		 * reconnecting (HTML Living Standard, 9.2.3). */
		respond_start(c, 204, keep);
		buf_puts(&c->out, "\r\n");
		return;
	}
	if (c->flags & CF_HEAD) {
		respond_start(c, 200, keep);
		buf_printf(&c->out, "%s\r\n", sse_headers);
		return;
	}
	respond_start(c, 200, 0);
	/* respond_start wrote "Connection: close": the stream ends with the
	 * connection, and this is the only way to say so without chunking. */
	buf_printf(&c->out, "%s\r\nretry: %d\n\n", sse_headers, SSE_RETRY_MS);
	if (gap && stream_read_saved(s, gap, s->first_id - 1, &c->out) < 0)
		pc_warn("%s: events %ld..%ld are no longer kept", s->session[0] ? s->session : "stdin",
			 gap, s->first_id - 1);
	c->state = C_SSE;
	c->st = s;
	c->pos = pos;
	c->snext = s->clients;
	if (s->clients)
		s->clients->sprev = c;
	s->clients = c;
	s->nclients++;
	srv.nsse++;
	c->deadline = srv.now + srv.cfg.heartbeat;
}

static struct stream *find_session(const char *id)
{
	for (struct stream *s = srv.streams; s; s = s->next)
		if (s->kind == STREAM_SESSION && !strcmp(s->session, id))
			return s;
	return NULL;
}

/* The newest stream in memory for a media file; live ones only if asked. */
static struct stream *find_media(const char *media, int live_only)
{
	struct stream *best = NULL;
	for (struct stream *s = srv.streams; s; s = s->next) {
		if (!s->media || strcmp(s->media, media))
			continue;
		if (live_only && s->ended)
			continue;
		if (!best || s->started > best->started)
			best = s;
	}
	return best;
}

/* The newest saved session of a media file, from memory or disk. */
static struct stream *saved_media(const char *media)
{
	char id[SESS_ID_MAX];
	saved_find_media(media, id, sizeof id);
	if (!id[0])
		return NULL;
	struct stream *s = find_session(id);
	if (!s && (s = stream_load(id)))
		s->media = pc_xstrdup(media);
	return s;
}

static void route_events(struct client *c, const struct httpd_req *req)
{
	if (!srv.stdin_stream) {
		respond_error(c, 404, c->keep_alive);
		return;
	}
	sse_attach(c, srv.stdin_stream, last_event_id(req));
}

static void route_session_events(struct client *c, const struct httpd_req *req, struct httpd_str rest)
{
	char id[PATH_URL_MAX];
	int bad = path_clean(rest.p, rest.n, id, sizeof id);
	if (bad || !sess_id_valid(id)) {
		respond_error(c, bad ? bad : 404, c->keep_alive);
		return;
	}
	struct stream *s = find_session(id);
	if (!s)
		s = stream_load(id);
	if (!s) {
		respond_error(c, 404, c->keep_alive);
		return;
	}
	sse_attach(c, s, last_event_id(req));
}

static void route_analyze(struct client *c, const struct httpd_req *req, struct httpd_str rest)
{
	char rel[PATH_URL_MAX], media[PATH_MAX], err[512];
	struct stat st;
	if (!srv.cfg.exec) {
		respond_error(c, 404, c->keep_alive);
		return;
	}
	int bad = path_clean(rest.p, rest.n, rel, sizeof rel);
	if (bad) {
		respond_error(c, bad, c->keep_alive);
		return;
	}
	int fd = path_open(srv.cfg.media, rel, &st, media, sizeof media);
	if (fd < 0) {
		respond_error(c, -fd, c->keep_alive);
		return;
	}
	close(fd);
	if (c->flags & CF_HEAD) {   /* a HEAD starts nothing */
		respond_start(c, 200, c->keep_alive);
		buf_printf(&c->out, "%s\r\n", sse_headers);
		return;
	}
	long last = last_event_id(req);
	struct stream *s = NULL;
	if (last >= 0) {
		/* A reconnect: the same session, never a new run. */
		s = find_media(media, 0);
		if (!s)
			s = saved_media(media);
		if (s) {
			sse_attach(c, s, last);
			return;
		}
	}
	s = find_media(media, 1);
	if (!s && srv.one_connection) {
		/* Another instance (inetd) may be running it: follow its file. */
		s = saved_media(media);
		if (s && s->ended)
			s = NULL;
	}
	if (!s) {
		if (pipelines_running() >= srv.cfg.max_sessions) {
			respond_error(c, 503, c->keep_alive);
			return;
		}
		s = pipeline_start(media, err, sizeof err);
		if (!s) {
			pc_warn("%s", err);
			respond_error(c, 500, c->keep_alive);
			return;
		}
		last = 0;
	}
	sse_attach(c, s, last < 0 ? 0 : last);
}

/* ---- files ---- */

static const char *cache_control(const char *name)
{
	const char *dot = strrchr(name, '.');
	/* Playlists and logs grow; everything else is renamed into place
	 * whole and never changes under its name. */
	if (dot && (!strcasecmp(dot, ".m3u8") || !strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".json")))
		return "no-cache";
	return "public, max-age=31536000, immutable";
}

static int not_modified(const struct httpd_req *req, const struct stat *st, const char *etag)
{
	if (req->if_none_match.p)
		return httpd_etag_match(req->if_none_match.p, req->if_none_match.n, etag);
	if (req->if_modified_since.p) {
		time_t t = httpd_parse_date(req->if_modified_since.p, req->if_modified_since.n);
		return t >= 0 && st->st_mtime <= t;
	}
	return 0;
}

static void route_file(struct client *c, const struct httpd_req *req, struct httpd_str rest)
{
	char rel[PATH_URL_MAX], etag[HTTPD_ETAG_LEN], lastmod[HTTPD_DATE_LEN], validators[256];
	struct stat st;
	int bad = path_clean(rest.p, rest.n, rel, sizeof rel);
	if (bad) {
		respond_error(c, bad, c->keep_alive);
		return;
	}
	int fd = path_open(srv.out_root, rel, &st, NULL, 0);
	if (fd < 0) {
		respond_error(c, -fd, c->keep_alive);
		return;
	}
	httpd_etag(&st, etag);
	httpd_date(st.st_mtime, lastmod);
	snprintf(validators, sizeof validators, "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: %s\r\n",
		 etag, lastmod, cache_control(rel));
	if (not_modified(req, &st, etag)) {
		close(fd);
		respond_start(c, 304, c->keep_alive);
		buf_printf(&c->out, "%s\r\n", validators);
		return;
	}
	off_t first = 0, last = st.st_size - 1;
	enum httpd_range r = RANGE_NONE;
	int range_valid = !req->if_range.p ||
			  (req->if_range.n == strlen(etag) && !memcmp(req->if_range.p, etag, req->if_range.n)) ||
			  (req->if_range.n == strlen(lastmod) && !memcmp(req->if_range.p, lastmod, req->if_range.n));
	if (req->range.p && range_valid)
		r = httpd_parse_range(req->range.p, req->range.n, st.st_size, &first, &last);
	if (r == RANGE_UNSATISFIABLE) {
		close(fd);
		char cr[96];
		snprintf(cr, sizeof cr, "Content-Range: bytes */%lld\r\n", (long long)st.st_size);
		respond_start(c, 416, c->keep_alive);
		respond_body(c, "text/plain; charset=utf-8", "416 Range Not Satisfiable\n", 26, cr);
		return;
	}
	respond_start(c, r == RANGE_OK ? 206 : 200, c->keep_alive);
	if (r == RANGE_OK)
		buf_printf(&c->out, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)first, (long long)last,
			   (long long)st.st_size);
	off_t len = st.st_size ? last - first + 1 : 0;
	buf_printf(&c->out, "Content-Type: %s\r\nContent-Length: %lld\r\nAccept-Ranges: bytes\r\n%s\r\n",
		   httpd_content_type(rel), (long long)len, validators);
	if ((c->flags & CF_HEAD) || len == 0) {
		close(fd);
		return;
	}
	c->file_fd = fd;
	c->file_off = first;
	c->file_end = first + len;
}

/* ---- the page, listings, operations ---- */

static int is_media_name(const char *name)
{
	static const char *const exts[] = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".ts", ".mpg", ".mpeg", ".flv", ".wmv"};
	const char *dot = strrchr(name, '.');
	if (!dot || name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (!strcasecmp(dot, exts[i]))
			return 1;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(json_object_get_string(json_object_object_get(*(json_object *const *)a, "name")),
		      json_object_get_string(json_object_object_get(*(json_object *const *)b, "name")));
}

static void route_media(struct client *c)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	json_object_object_add(o, "pipe", json_object_new_boolean(srv.stdin_stream != NULL));
	json_object_object_add(o, "exec", json_object_new_boolean(srv.cfg.exec != NULL));
	DIR *d = srv.cfg.media ? opendir(srv.cfg.media) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)) && json_object_array_length(list) < SSE_MEDIA_LIST_MAX) {
		struct stat st;
		if (!is_media_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		char path[PATH_MAX], real[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", srv.cfg.media, e->d_name);
		if (!realpath(path, real))   /* streams know their file by its real path */
			continue;
		json_object *m = json_object_new_object();
		json_object_object_add(m, "name", json_object_new_string(e->d_name));
		json_object_object_add(m, "size", json_object_new_int64(st.st_size));
		json_object_object_add(m, "mtime", json_object_new_int64(st.st_mtime));
		struct stream *s = find_media(real, 1);
		json_object_object_add(m, "running", json_object_new_boolean(s != NULL));
		json_object_array_add(list, m);
	}
	if (d)
		closedir(d);
	json_object_array_sort(list, by_name);
	json_object_object_add(o, "media", list);
	size_t n;
	const char *txt = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	respond_start(c, 200, c->keep_alive);
	respond_body(c, "application/json", txt, n, "Cache-Control: no-cache\r\n");
	json_object_put(o);
}

static void route_metrics(struct client *c)
{
	struct buf b = {0};
	metrics_render(&b);
	respond_start(c, 200, c->keep_alive);
	respond_body(c, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, "Cache-Control: no-cache\r\n");
	buf_free(&b);
}

void route_request(struct client *c, const struct httpd_req *req)
{
	struct httpd_str rest;
	c->keep_alive = (unsigned char)req->keep_alive;
	if (req->method == HTTPD_HEAD)
		c->flags |= CF_HEAD;
	if (srv.cfg.verbose)
		pc_warn("%s %.*s", req->method == HTTPD_HEAD ? "HEAD" : "GET", (int)req->target.n, req->target.p);
	if (path_is(req, "/") || path_is(req, "/index.html")) {
		respond_start(c, 200, c->keep_alive);
		respond_body(c, "text/html; charset=utf-8", player_html, player_html_len, "Cache-Control: no-cache\r\n");
	} else if (path_is(req, "/healthz")) {
		respond_start(c, 200, c->keep_alive);
		respond_body(c, "text/plain; charset=utf-8", "ok\n", 3, "Cache-Control: no-cache\r\n");
	} else if (path_is(req, "/metrics"))
		route_metrics(c);
	else if (path_is(req, "/api/media"))
		route_media(c);
	else if (path_is(req, "/events"))
		route_events(c, req);
	else if ((rest = path_after(req, "/events/")).n)
		route_session_events(c, req, rest);
	else if ((rest = path_after(req, "/analyze-stream/")).n || (rest = path_after(req, "/api/analyze-stream/")).n)
		route_analyze(c, req, rest);
	else if ((rest = path_after(req, "/videos/")).n)
		route_file(c, req, rest);
	else
		respond_error(c, 404, c->keep_alive);
}
