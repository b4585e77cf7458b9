/* sse-serve internals: one process, one event loop (common/loop), with the
 * HTTP sockets in an epoll set that the loop watches as one fd, so 10,000
 * clients cost nothing per idle turn. */
#ifndef SSE_H
#define SSE_H

#include "pc.h"
#include "httpd.h"

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- limits and timeouts (defaults; most are options, see sse-serve(1)) ---- */
#define SSE_DEFAULT_LISTEN "127.0.0.1:8000"
#define SSE_MAX_LISTEN 8                 /* -l given several times */
#define SSE_REQUEST_TIMEOUT 10.0         /* s: a request head must arrive within (408) */
#define SSE_KEEPALIVE_TIMEOUT 15.0       /* s: an idle kept-alive connection is closed */
#define SSE_HEARTBEAT 15.0               /* s: a comment line to idle SSE clients */
#define SSE_RETRY_MS 3000                /* the retry: hint sent to EventSource */
#define SSE_RETRY_AFTER 10               /* s: Retry-After of a 503 */
#define SSE_MAX_SESSIONS 4               /* pipelines at once (2 cores) */
#define SSE_MAX_SESSIONS_LIMIT 200       /* common/proc tracks 256 children */
#define SSE_MAX_CLIENTS 16384            /* connections at once (10k streams + room) */
#define SSE_MAX_BACKLOG (1024 * 1024)    /* unsent bytes past which a stuck client is closed */
#define SSE_STREAM_MEM_MAX (8u << 20)    /* framed bytes one stream keeps in memory */
#define SSE_SAVED_LOAD_MAX (64u << 20)   /* largest events.ndjson read back for a resume */
#define SSE_STREAM_LINGER 60.0           /* s: an ended stream stays in memory without clients */
#define SSE_PIPELINE_TIMEOUT 3600.0      /* s: a pipeline running longer is killed */
#define SSE_TICK 0.25                    /* s: timeouts, heartbeats, followers, reaping */
#define SSE_EPOLL_BATCH 256              /* events taken per epoll_wait */
#define SSE_SPLIT_FANOUT 256             /* clients of one record from which two threads write it */
#define SSE_MEDIA_LIST_MAX 1000          /* files listed by /api/media */
#define SSE_SCAN_HEAD 65536              /* bytes of an events.ndjson read to find its session */

struct sse_config {
	const char *listen[SSE_MAX_LISTEN];
	int nlisten;
	int inetd;                 /* -i: one connection on stdin/stdout */
	char *media;               /* real path of --media, or NULL */
	const char *exec;          /* --exec command, or NULL */
	const char *user;          /* --user: drop to it after binding */
	long max_sessions, max_clients;
	size_t max_backlog;
	long split_fanout;         /* --split-fanout: 0 one thread writes every record */
	double request_timeout, keepalive_timeout, heartbeat, max_age, pipeline_timeout;
	int verbose;
};

/* ---- stream.c: a stream of records as framed SSE bytes, shared by its clients ---- */
enum stream_kind { STREAM_STDIN, STREAM_SESSION };

struct client;
struct pipeline;

struct stream {
	enum stream_kind kind;
	char session[SESS_ID_MAX];  /* "" until the session record came */
	char *media;                /* exec mode: real path of the media file */
	struct buf framed;          /* "id: N\ndata: <record>\n\n" for events first_id..last_id */
	size_t base;                /* stream position of framed.data[0] */
	size_t *ev_pos;             /* stream position where each kept event starts */
	size_t nev, capev;
	long first_id, last_id;     /* ids of the events kept (first_id > last_id: none) */
	int ended;                  /* no record will follow */
	int save_fd;                /* events.ndjson being appended, -1 none */
	int readonly;               /* read back from disk: never written */
	struct buf unsaved;         /* lines before the session id was known */
	int follow_fd;              /* another process writes events.ndjson: poll it */
	off_t follow_off;
	struct pipeline *pipe;      /* exec mode: the pipeline feeding it */
	double started;
	int got_chunk;
	struct client *clients;     /* attached SSE clients */
	size_t nclients;
	double idle_since;
	struct stream *next;
};

struct stream *stream_new(enum stream_kind kind);
void stream_free(struct stream *s);
size_t stream_end_pos(const struct stream *s);
/* Append one record (a JSON text without newline) as the next event, save
 * it, and hand it to every attached client. */
void stream_append(struct stream *s, const char *json, size_t len);
void stream_append_rec(struct stream *s, json_object *rec);
/* The session id is known: open <out>/streaming/<id>/events.ndjson (locked,
 * truncated) and write what came before. */
void stream_set_session(struct stream *s, const char *id);
void stream_end(struct stream *s);
/* Where a client that has seen after_id starts; *gap_from set to the first
 * id no longer in memory (to be read from disk) or 0. */
size_t stream_pos_after(const struct stream *s, long after_id, long *gap_from);
/* Frame lines from_id..to_id of the saved file into out. 0 or -1. */
int stream_read_saved(const struct stream *s, long from_id, long to_id, struct buf *out);
/* A session's saved stream read back from disk: ended, or followed when
 * the process writing it still holds its lock.  NULL if none. */
struct stream *stream_load(const char *session);
/* Poll a followed file for new lines (on the tick). */
void stream_follow(struct stream *s);
/* Parse saved lines buf[0..len) into framed events of s, ids from s->last_id+1;
 * returns bytes consumed (complete lines). */
size_t stream_take_lines(struct stream *s, const char *buf, size_t len);

/* ---- feed.c: where records come from ---- */
void feed_stdin_start(void);
/* Exec mode: start the pipeline for a media file (real path).  NULL with
 * a reason when it cannot start. */
struct stream *pipeline_start(const char *media, char *err, size_t errlen);
void pipeline_tick(double now);
int pipelines_running(void);
void feed_free_all(void);
/* The session id of the newest saved session whose source is media, and
 * whether its writer is still live ("" when none). */
void saved_find_media(const char *media, char *session, size_t n);
/* Count a record in the metrics and note a session's first chunk. */
void feed_observe(struct stream *session_stream, json_object *rec);

/* ---- fanout.c: one record to many clients, on two threads ---- */
/* Write the stream's new bytes to the plain streaming clients of s, half
 * of them on a helper thread, when there are at least split_fanout; the
 * rest, and everything but the write, is client_flush's. */
void fanout_write(struct stream *s);

/* ---- server.c: connections ---- */
enum client_state { C_READ, C_WRITE, C_SSE, C_CLOSED };

struct client {
	unsigned char kind;         /* WATCH_CLIENT: first, like struct listener */
	unsigned char state;
	unsigned char keep_alive;   /* after this response, read another request */
	unsigned char flags;        /* CF_* */
	uint32_t rev, wev;          /* events asked of epoll for rfd / wfd */
	int rfd, wfd;               /* the same socket, or stdin/stdout with -i */
	double deadline;            /* C_READ: 408 after; C_SSE: next heartbeat */
	double progress;            /* last time a write moved bytes */
	char *req;                  /* the request head as it arrives (only while reading) */
	size_t req_len;
	struct buf out;             /* bytes to send before the body or the stream */
	size_t out_off;
	int file_fd;                /* a file body: [file_off, file_end) */
	off_t file_off, file_end;
	struct stream *st;          /* C_SSE: the stream, and our position in it */
	size_t pos;
	struct client *sprev, *snext;   /* in st->clients */
	struct client *prev, *next;     /* in the server's list */
};

enum { WATCH_LISTEN = 1, WATCH_CLIENT = 2 };
#define CF_IDLE 1      /* kept alive, no byte of the next request yet: close quietly */
#define CF_BLOCKED 2   /* the socket is full: wait for EPOLLOUT */
#define CF_EOF 4       /* the client closed its side */
#define CF_HEAD 8      /* HEAD: headers without the body */
struct listener {
	unsigned char kind;
	int fd;
	int paused;                 /* out of fds: accept again on the next tick */
};

struct server {
	struct sse_config cfg;
	struct loop *loop;
	int epfd;
	struct listener listeners[SSE_MAX_LISTEN];
	int nlisteners;
	int one_connection;         /* -i or an accepted socket passed in: exit after it */
	struct client *clients;
	long nclients, nsse;
	struct stream *streams;     /* every stream in memory */
	struct stream *stdin_stream;   /* pipe mode's /events, or NULL */
	char out_root[PATH_MAX];    /* real path of the output root */
	double now;
	double next_sweep;
	int quit;
	/* metrics */
	long sessions_total, chunks_total, errors_total, requests_total;
	long ttfc_count;
	double ttfc_sum;
	long ttfc_buckets[12];
	long responses[16];         /* by status table slot */
};
extern struct server srv;

void server_init(void);
void server_add_listener(int fd);
void server_add_connection(int rfd, int wfd);
void server_run(void);
void server_free(void);
/* Hand new stream bytes to one client (called by stream_append). */
void client_flush(struct client *c);
void client_close(struct client *c);

/* ---- routes.c: what each URL answers ---- */
void route_request(struct client *c, const struct httpd_req *req);
void respond_error(struct client *c, int status, int keep_alive);
void respond_start(struct client *c, int status, int keep_alive);
void respond_body(struct client *c, const char *type, const char *body, size_t len, const char *extra);
void sse_attach(struct client *c, struct stream *s, long after_id);

/* ---- metrics.c ---- */
extern const double ttfc_bounds[];
extern const int ttfc_nbounds;
void metrics_ttfc(double seconds);
void metrics_render(struct buf *b);
void metrics_response(int status);

/* ---- listen.c: sockets, activation, privileges ---- */
int listen_parse(const char *spec, char *host, size_t hn, char *port, size_t pn);
int listen_open(const char *spec, char *err, size_t errlen);
/* LISTEN_FDS/LISTEN_PID: count of fds from 3 (0 when not activated). */
int listen_activated(void);
int sock_is_listening(int fd);
int drop_privileges(const char *user, char *err, size_t errlen);
void raise_nofile(void);
/* "http://127.0.0.1:8000/" for a listening socket. */
void listen_url(int fd, char *out, size_t n);

/* ---- sweep.c: --max-age ---- */
/* Remove session folders (and their final videos) older than max_age
 * seconds that no stream in memory is using. Returns how many. */
int sweep_old(const char *out_root, double max_age);
/* rm -r below a folder fd, never following symlinks; depth bounded. */
int remove_tree_at(int dirfd, const char *name, int depth);

/* ---- player.c ---- */
extern const char player_html[];
extern const size_t player_html_len;

#endif
