/* playcall common library: everything the five tools share.
 * One header so a tool includes one thing; each section names the .c file
 * that implements it. */
#ifndef PC_H
#define PC_H

#include <stddef.h>
#include <stdarg.h>
#include <sys/types.h>
#include <json.h>

/* ---- exit codes (all tools; playcall(7) EXIT STATUS) ---- */
enum pc_exit {
	PC_EXIT_OK = 0,     /* the job was done; degradations went out as records */
	PC_EXIT_FAIL = 1,   /* the job (or part of it) failed */
	PC_EXIT_USAGE = 2,  /* usage or configuration error */
};

/* ---- util.c: program identity, diagnostics, small helpers ---- */
extern const char *pc_prog;        /* the stage name: "detect", "narrate", ... */
void pc_init(const char *argv0);   /* sets pc_prog, signals, out mode defaults */
void pc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pc_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void *pc_xmalloc(size_t n);
void *pc_xcalloc(size_t n, size_t m);
void *pc_xrealloc(void *p, size_t n);
char *pc_xstrdup(const char *s);
double pc_now(void);               /* monotonic seconds */
int pc_mkdirs(const char *path);   /* mkdir -p; 0 or -1 with errno */
/* Parse a non-negative number option ("30", "2.5"); -1 when malformed. */
double pc_parse_seconds(const char *s);
long pc_parse_long(const char *s, long min, long max, int *ok);

/* ---- buf.c: growable byte buffer ---- */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *buf_cstr(struct buf *b);   /* NUL-terminated view */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Every byte of the file at path, in pieces, to sink.  0, or -1 with errno. */
int pc_read_file(const char *path, void (*sink)(void *ctx, const void *data, size_t len), void *ctx);
/* The file at path appended to b.  0, or -1 with errno (b as it was). */
int buf_read_file(struct buf *b, const char *path);

/* ---- clock.c: times as text ---- */
/* "HH:MM:SS" from seconds (floored, negative clamps to 0); buf >= 16 bytes. */
char *pc_clock(double seconds, char *buf, size_t n);
/* Parse "HH:MM:SS[.frac]", "MM:SS" or plain seconds; -1 when malformed. */
double pc_parse_clock(const char *s);

/* ---- ndjson.c: the record reader ---- */
#define ND_MAX_LINE_DEFAULT (1024 * 1024)  /* PLAYCALL_MAX_LINE overrides */
struct nd_reader {
	int fd;
	const char *name;   /* input name for messages: "stdin", a file */
	long line;          /* number of the last line handed out (1-based) */
	char *buf;
	size_t len, cap, max;
	int eof;
	int skipping;       /* discarding the rest of an over-long line */
};
enum nd_result { ND_RECORD, ND_AGAIN, ND_EOF, ND_BAD };
void nd_init(struct nd_reader *r, int fd, const char *name);
void nd_free(struct nd_reader *r);
/* One read(2) into the buffer: >0 bytes, 0 at end of input, -1 EAGAIN or error. */
ssize_t nd_fill(struct nd_reader *r);
/* Next complete record from what is buffered. ND_AGAIN: fill first.
 * ND_BAD: err holds "NAME:LINE: reason" and *input "NAME:LINE". */
enum nd_result nd_next(struct nd_reader *r, json_object **rec, char *err, size_t errlen);
/* Blocking: fill as needed until a record, a bad line or the end. */
enum nd_result nd_read(struct nd_reader *r, json_object **rec, char *err, size_t errlen);
/* Parse one line as a record: a JSON object with a string "type".
 * NULL with a reason in err otherwise.  Fuzz target: tests/fuzz/fuzz_record.c */
json_object *nd_parse_record(const char *line, size_t len, char *err, size_t errlen);

/* ---- record.c: writing records, accessors ---- */
/* Output mode: records (NDJSON) or the human view on a terminal. */
void out_set_json(int force);      /* --json: records even on a terminal */
int out_is_human(void);
void out_record(json_object *rec);            /* one line, flushed; does not take ownership */
void out_record_put(json_object *rec);        /* out_record, then json_object_put */
/* status / error records: also a one-line message on stderr for errors.
 * session may be NULL, index < 0 means none, input may be NULL. */
void out_status(const char *session, int progress, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void out_error(const char *session, int index, const char *input, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_object *rec_new(const char *type, const char *session);
json_object *rec_status(const char *session, int progress, const char *msg);
json_object *rec_error(const char *session, int index, const char *input, const char *msg);
const char *rec_type(json_object *rec);
const char *rec_str(json_object *rec, const char *key);   /* NULL unless a string */
int rec_num(json_object *rec, const char *key, double *out); /* 0 ok, -1 missing/not number */
int rec_int(json_object *rec, const char *key, long *out);
void rec_set_str(json_object *rec, const char *key, const char *val); /* NULL -> null */
void rec_set_num(json_object *rec, const char *key, double val);      /* rounded to ms */
void rec_set_int(json_object *rec, const char *key, long val);
/* Human view of one record (used on a terminal); exposed for tests. */
void rec_human(json_object *rec, struct buf *out);

/* ---- session.c: per-session state ---- */
#define SESS_ID_MAX 128
struct sess {
	char id[SESS_ID_MAX];
	void *data;
	struct sess *next;
};
struct sess_table {
	struct sess *head;
	size_t data_size;
	void (*free_data)(void *);
};
int sess_id_valid(const char *id);  /* safe as one folder name */
void *sess_find(struct sess_table *t, const char *id);
void *sess_get(struct sess_table *t, const char *id);  /* create (zeroed) if missing */
void sess_drop(struct sess_table *t, const char *id);
void sess_free_all(struct sess_table *t);
/* A new unique session id: session_YYYYMMDD_HHMMSS_XXXXXX. */
void sess_new_id(char *buf, size_t n);
/* Output root: --out, else PLAYCALL_OUT, else ./videos (made absolute). */
const char *pc_out_root(void);
void pc_set_out_root(const char *dir);
/* <root>/streaming/<session>; buf >= PATH_MAX. */
char *sess_dir(const char *id, char *buf, size_t n);

/* ---- outq.c: ordered output per session ----
 * Items leave in the order they were pushed; an item waits until it is
 * ready and everything pushed before it (same queue) has left. */
struct outq_item {
	json_object *recs;   /* array of records to write, in order */
	int ready;
	struct outq_item *next;
};
struct outq {
	struct outq_item *head, *tail;
};
struct outq_item *outq_push(struct outq *q);            /* pending, empty */
void outq_push_record(struct outq *q, json_object *rec); /* ready now; takes ownership */
void outq_add(struct outq_item *it, json_object *rec);   /* takes ownership */
void outq_ready(struct outq_item *it);
int outq_flush(struct outq *q);   /* writes what can go; returns items written */
int outq_empty(const struct outq *q);
void outq_free(struct outq *q);

/* ---- config.c: NAME / NAME_FILE ---- */
/* Value of NAME, else the contents of the file named by NAME_FILE (trailing
 * newlines trimmed).  NULL if neither is set.  -1 and a message in err when
 * NAME_FILE cannot be read.  Caller frees *out. */
int cfg_lookup(const char *name, char **out, char *err, size_t errlen);
/* cfg_lookup, dying with exit 2 on an unreadable NAME_FILE. */
char *cfg_get(const char *name);
/* Remove every occurrence of secret from s in place ("***"); for messages. */
void cfg_redact(char *s, size_t cap, const char *secret);

/* ---- atomic.c: temporary name, then rename ---- */
/* dir/.NAME.tmp-PID-N.EXT: same folder (rename stays atomic), hidden, and the
 * extension kept so ffmpeg can infer the format. Registered for removal on a
 * fatal signal until committed or aborted. */
int tmp_path(const char *final, char *tmp, size_t n);
int tmp_commit(const char *tmp, const char *final);  /* rename; 0 or -1 */
void tmp_abort(const char *tmp);                     /* unlink */
int atomic_write(const char *path, const void *data, size_t len);

/* ---- proc.c: subprocesses ----
 * argv arrays only (never a shell string); each child leads its own process
 * group so a timeout or a signal kills everything it started. */
#define PROC_ERR_MAX 4096  /* stderr kept: the tail, where the reason is */
enum { PROC_STDIN_NULL = 0, PROC_STDIN_PIPE = 1, PROC_STDOUT_NULL = 2 };
struct proc {
	pid_t pid;
	int in_fd, out_fd, err_fd;   /* -1 when closed / not piped */
	char err[PROC_ERR_MAX + 1];  /* tail of stderr, NUL-terminated */
	size_t errlen;
	int status;                  /* wait status once reaped */
	int reaped;
};
int proc_spawn(struct proc *p, char *const argv[], int flags);
/* Read what is available on err_fd into p->err (keeping the tail). 0 at EOF. */
ssize_t proc_read_err(struct proc *p);
void proc_kill(struct proc *p);                      /* SIGKILL the group */
int proc_wait(struct proc *p);                       /* blocking reap; returns status */
int proc_try_wait(struct proc *p);                   /* 1 reaped, 0 still running */
/* Run to completion: stdout into out (may be NULL), stderr tail in p->err.
 * timeout_ms <= 0: none. Returns exit code, 128+signal, or -1 (spawn failed,
 * p->err says why), -2 on timeout (group killed). */
int proc_run(struct proc *p, char *const argv[], struct buf *out, int timeout_ms);
/* Last non-empty line of the captured stderr, for one-line messages. */
const char *proc_err_line(struct proc *p, char *buf, size_t n);
/* Kill every live child group (signal-safe). Called on fatal signals and exit. */
void proc_kill_all(void);
/* Exit status as text: "exit 1", "killed by signal 9". */
const char *proc_status_str(int status, char *buf, size_t n);

/* ---- loop.c: one event loop for fds, timers and libcurl transfers ---- */
struct loop;
typedef void (*loop_fd_cb)(struct loop *, int fd, short revents, void *arg);
typedef void (*loop_timer_cb)(struct loop *, void *arg);
struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg);
void loop_del_fd(struct loop *l, int fd);
void loop_add_timer(struct loop *l, double when, loop_timer_cb cb, void *arg); /* pc_now() based */
void loop_del_timers(struct loop *l, void *arg);
void *loop_curl_multi(struct loop *l);  /* CURLM * */
/* A finished transfer calls the callback stored with loop_curl_add. */
typedef void (*loop_curl_cb)(struct loop *, void *easy, int curlcode, void *arg);
int loop_curl_add(struct loop *l, void *easy, loop_curl_cb cb, void *arg);
/* Take back a transfer that has not finished: no callback (common/http). */
void loop_curl_remove(struct loop *l, void *easy);
int loop_idle(struct loop *l);          /* no fds, timers or transfers */
int loop_run_once(struct loop *l, int max_wait_ms);

/* ---- proc.c: a subprocess run from the loop ---- */
struct aproc;
typedef void (*aproc_cb)(struct aproc *, int status, void *arg);
typedef void (*aproc_out_cb)(struct aproc *, const char *data, size_t len, void *arg);
struct aproc {
	struct proc p;
	struct buf out;       /* stdout, when captured and no on_out */
	aproc_cb done;
	aproc_out_cb on_out;  /* stdout as it arrives; NULL: gathered in out */
	void *arg;
	double idle_timeout;  /* s without output on stdout or stderr; 0: none */
	double last_output;   /* pc_now() of the last byte on stdout or stderr */
	int open_fds;
	int timed_out;
	struct loop *loop;
};
/* Start argv; on exit done(ap, status) where status is as proc_run's result
 * (exit code, 128+signal, -1 could not start, -2 timed out).  Never NULL: a
 * child that cannot start reports -1 through done, from the loop.  The
 * aproc is freed after done returns; proc_kill(&ap->p) ends it early (done
 * still comes). */
struct aproc *aproc_start(struct loop *l, char *const argv[], int flags,
			  double timeout_s, aproc_cb done, void *arg);
/* The same with stdout handed to on_out as it arrives, for following a
 * tool's progressive output; idle_timeout_s > 0: the child's group is
 * killed (status -2) when it writes nothing on stdout or stderr that long. */
struct aproc *aproc_stream(struct loop *l, char *const argv[], double idle_timeout_s,
			   aproc_out_cb on_out, aproc_cb done, void *arg);
int aproc_running(void);

/* ---- terminal view ---- */
void progress_draw(const char *label, int percent); /* stderr bar, on a tty only */

#endif
