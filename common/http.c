/* HTTP on the event loop: one curl easy handle per attempt, all on the
 * loop's multi handle; retries wait on loop timers.  See http.h. */
#define _GNU_SOURCE
#include "http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HTTP_USER_AGENT "playcall/1.0"
#define HTTP_HEADER_LINE_MAX 8192   /* longest response header kept */

enum body_kind { BODY_NONE, BODY_MEM, BODY_FILE };

struct http_req {
	char service[32];
	char label[64];
	char method[16];
	char url[HTTP_URL_MAX];
	struct curl_slist *headers;
	char *secrets[HTTP_SECRETS_MAX];
	int nsecrets;
	enum body_kind body_kind;
	struct buf body;
	int fd;
	long long file_off, file_len, file_pos;
	struct http_opts opts;
	http_error_parser parse_error;
	http_progress_cb progress;
	void *progress_arg;
	http_done_cb done;
	void *arg;
	struct loop *loop;
	CURL *easy;
	int waiting;                 /* a retry timer is pending */
	double started;
	struct http_resp resp;
	char curl_err[CURL_ERROR_SIZE];
};

static int requests_in_flight;

int http_in_flight(void)
{
	return requests_in_flight;
}

/* ---- options ---- */

void http_opts_default(struct http_opts *o)
{
	o->connect_timeout = HTTP_CONNECT_TIMEOUT_DEFAULT;
	o->timeout = HTTP_TIMEOUT_DEFAULT;
	o->retries = HTTP_RETRIES_DEFAULT;
	o->backoff = HTTP_BACKOFF_DEFAULT;
	o->backoff_max = HTTP_BACKOFF_MAX;
	o->retry_after_max = HTTP_RETRY_AFTER_MAX;
}

static int env_seconds(const char *name, double *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	double d = pc_parse_seconds(v);
	if (d < 0) {
		snprintf(err, errlen, "%s: not a number of seconds: '%s'", name, v);
		return -1;
	}
	*out = d;
	return 0;
}

int http_opts_env(struct http_opts *o, char *err, size_t errlen)
{
	http_opts_default(o);
	if (env_seconds("PLAYCALL_CONNECT_TIMEOUT", &o->connect_timeout, err, errlen) < 0 ||
	    env_seconds("PLAYCALL_HTTP_TIMEOUT", &o->timeout, err, errlen) < 0 ||
	    env_seconds("PLAYCALL_HTTP_BACKOFF", &o->backoff, err, errlen) < 0)
		return -1;
	const char *v = getenv("PLAYCALL_HTTP_RETRIES");
	if (v && *v) {
		int ok;
		long n = pc_parse_long(v, 0, 100, &ok);
		if (!ok) {
			snprintf(err, errlen, "PLAYCALL_HTTP_RETRIES: not a count 0-100: '%s'", v);
			return -1;
		}
		o->retries = (int)n;
	}
	return 0;
}

/* ---- pure helpers ---- */

double http_parse_retry_after(const char *value, long long now)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		errno = 0;
		double d = strtod(value, &end);
		while (*end == ' ' || *end == '\t')
			end++;
		if (!errno && !*end && d >= 0 && d < 1e9)
			return d;
	}
	time_t when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	double d = (double)((long long)when - now);
	return d < 0 ? 0 : d;
}

double http_backoff(const struct http_opts *o, int n, double unit_random)
{
	double d = o->backoff;
	for (int i = 1; i < n && d < o->backoff_max; i++)
		d *= 2;
	if (d > o->backoff_max)
		d = o->backoff_max;
	/* Jitter in the upper half: clients that failed together spread out,
	 * and the wait still grows each time. */
	return d * (0.5 + 0.5 * unit_random);
}

char *http_escape(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

char *http_join(const char *base, const char *path, char *out, size_t n)
{
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	while (*path == '/')
		path++;
	int w = snprintf(out, n, "%.*s/%s", (int)bl, base, path);
	return (w < 0 || (size_t)w >= n) ? NULL : out;
}

/* ---- building a request ---- */

struct http_req *http_new(const char *service, const char *method, const char *url)
{
	struct http_req *r = pc_xcalloc(1, sizeof *r);
	snprintf(r->service, sizeof r->service, "%s", service);
	snprintf(r->method, sizeof r->method, "%s", method);
	snprintf(r->url, sizeof r->url, "%s", url);
	r->fd = -1;
	http_opts_default(&r->opts);
	return r;
}

void http_header(struct http_req *r, const char *name, const char *value)
{
	struct buf line = {0};
	buf_printf(&line, "%s: %s", name, value);
	r->headers = curl_slist_append(r->headers, buf_cstr(&line));
	buf_free(&line);
}

void http_key_header(struct http_req *r, const char *name, const char *prefix, const char *key)
{
	if (!key || !*key)
		return;
	struct buf line = {0};
	buf_printf(&line, "%s: %s%s", name, prefix ? prefix : "", key);
	r->headers = curl_slist_append(r->headers, buf_cstr(&line));
	buf_free(&line);
	if (r->nsecrets < HTTP_SECRETS_MAX)
		r->secrets[r->nsecrets++] = pc_xstrdup(key);
}

void http_body_json(struct http_req *r, json_object *body)
{
	const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	http_body_data(r, s, strlen(s), "application/json");
}

void http_body_data(struct http_req *r, const void *data, size_t len, const char *content_type)
{
	buf_reset(&r->body);
	buf_append(&r->body, data, len);
	r->body_kind = BODY_MEM;
	if (content_type)
		http_header(r, "Content-Type", content_type);
}

int http_body_file(struct http_req *r, const char *path, long long offset, long long len,
		   const char *content_type, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || offset < 0 || len < 0 || offset + len > (long long)size) {
		snprintf(err, errlen, "%s: range %lld+%lld outside the file (%lld bytes)",
			 path, offset, len, (long long)size);
		close(fd);
		return -1;
	}
	r->fd = fd;
	r->file_off = offset;
	r->file_len = len;
	r->body_kind = BODY_FILE;
	if (content_type)
		http_header(r, "Content-Type", content_type);
	return 0;
}

void http_set_opts(struct http_req *r, const struct http_opts *o)
{
	r->opts = *o;
}

void http_set_error_parser(struct http_req *r, http_error_parser parse)
{
	r->parse_error = parse;
}

void http_set_progress(struct http_req *r, http_progress_cb cb, void *arg)
{
	r->progress = cb;
	r->progress_arg = arg;
}

void http_set_label(struct http_req *r, const char *label)
{
	snprintf(r->label, sizeof r->label, "%s", label);
}

/* ---- curl callbacks ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_req *r = arg;
	size_t n = size * nmemb;
	if (r->resp.body.len + n > (size_t)HTTP_BODY_MAX)
		return 0;   /* CURLE_WRITE_ERROR: reported as too large */
	buf_append(&r->resp.body, p, n);
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_req *r = arg;
	size_t n = size * nmemb;
	/* Keep only the final response's headers (after 100 Continue or a
	 * redirect, a new status line starts over). */
	if (n >= 5 && !strncmp(p, "HTTP/", 5))
		buf_reset(&r->resp.headers);
	if (n <= HTTP_HEADER_LINE_MAX)
		buf_append(&r->resp.headers, p, n);
	return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_req *r = arg;
	long long left = r->file_len - r->file_pos;
	size_t want = size * nmemb;
	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	ssize_t got = pread(r->fd, p, want, r->file_off + r->file_pos);
	if (got < 0 && errno == EINTR)
		got = pread(r->fd, p, want, r->file_off + r->file_pos);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	r->file_pos += got;
	return (size_t)got;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct http_req *r = arg;
	(void)dltotal;
	(void)dlnow;
	if (r->progress && ultotal > 0)
		r->progress(r->progress_arg, (long long)ulnow, (long long)ultotal);
	return 0;
}

/* ---- running ---- */

static void attempt(struct http_req *r);

static void redact(struct http_req *r, char *s, size_t cap)
{
	for (int i = 0; i < r->nsecrets; i++)
		cfg_redact(s, cap, r->secrets[i]);
}

/* snprintf that may cut the text short on purpose (messages are one line
 * of bounded length). */
static void cut_printf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cut_printf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

static void set_error(struct http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct http_req *r, const char *fmt, ...)
{
	char what[160];
	if (r->label[0])
		snprintf(what, sizeof what, "%s %s", r->service, r->label);
	else
		snprintf(what, sizeof what, "%s", r->service);
	char msg[HTTP_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cut_printf(r->resp.error, sizeof r->resp.error, "%s: %s", what, msg);
	/* One line, whatever the service put in its message. */
	for (char *p = r->resp.error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	redact(r, r->resp.error, sizeof r->resp.error);
}

static void finish(struct http_req *r)
{
	r->resp.elapsed = pc_now() - r->started;
	requests_in_flight--;
	r->done(r, &r->resp, r->arg);
	http_cancel(r);
}

static void on_retry_timer(struct loop *l, void *arg)
{
	struct http_req *r = arg;
	(void)l;
	r->waiting = 0;
	attempt(r);
}

static void on_start_failure(struct loop *l, void *arg)
{
	struct http_req *r = arg;
	(void)l;
	r->waiting = 0;
	finish(r);
}

static int transport_retryable(int code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_FAIL_REWIND:   /* a reused connection died mid-upload */
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int status_retryable(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

static void describe_transport(struct http_req *r, int code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		if (r->resp.status == 0 && strstr(r->curl_err, "onnect"))
			set_error(r, "could not connect within %g s", r->opts.connect_timeout);
		else
			set_error(r, "no complete answer within %g s", r->opts.timeout);
		break;
	case CURLE_GOT_NOTHING:
		set_error(r, "connection closed without an answer");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_SEND_FAIL_REWIND:
		set_error(r, "connection reset (%s)", r->curl_err[0] ? r->curl_err : curl_easy_strerror(code));
		break;
	case CURLE_WRITE_ERROR:
		set_error(r, "answer larger than %ld bytes", (long)HTTP_BODY_MAX);
		break;
	default:
		set_error(r, "%s", r->curl_err[0] ? r->curl_err : curl_easy_strerror(code));
	}
}

static void describe_status(struct http_req *r)
{
	struct http_resp *resp = &r->resp;
	memset(&resp->svc, 0, sizeof resp->svc);
	int understood = r->parse_error &&
		r->parse_error(resp->body.data ? resp->body.data : "", resp->body.len, &resp->svc) == 0;
	if (understood && resp->svc.message[0]) {
		redact(r, resp->svc.message, sizeof resp->svc.message);
		if (resp->svc.status[0])
			set_error(r, "HTTP %ld %s: %s", resp->status, resp->svc.status, resp->svc.message);
		else
			set_error(r, "HTTP %ld: %s", resp->status, resp->svc.message);
		return;
	}
	/* Not the service's error shape (a proxy, an HTML page): its start. */
	char excerpt[200];
	size_t n = resp->body.len < sizeof excerpt - 1 ? resp->body.len : sizeof excerpt - 1;
	memcpy(excerpt, resp->body.data ? resp->body.data : "", n);
	excerpt[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)excerpt[i] < 32)
			excerpt[i] = ' ';
	redact(r, excerpt, sizeof excerpt);
	if (n)
		set_error(r, "HTTP %ld: %s", resp->status, excerpt);
	else
		set_error(r, "HTTP %ld", resp->status);
}

/* How long the service asked to wait: Retry-After, else the body's delay. */
static double asked_delay(struct http_req *r)
{
	char v[128];
	if (http_resp_header(&r->resp, "Retry-After", v, sizeof v)) {
		double d = http_parse_retry_after(v, (long long)time(NULL));
		if (d >= 0)
			return d;
	}
	return r->resp.svc.retry_delay > 0 ? r->resp.svc.retry_delay : 0;
}

static void schedule_retry(struct http_req *r)
{
	double asked = asked_delay(r);
	if (asked > r->opts.retry_after_max) {
		char keep[HTTP_ERR_MAX];
		snprintf(keep, sizeof keep, "%s", r->resp.error);
		cut_printf(r->resp.error, sizeof r->resp.error, "%s (the service asks to retry after %.0f s; giving up)",
			 keep, asked);
		finish(r);
		return;
	}
	double wait = http_backoff(&r->opts, r->resp.attempts, drand48());
	if (asked > wait)
		wait = asked;
	r->waiting = 1;
	loop_add_timer(r->loop, pc_now() + wait, on_retry_timer, r);
}

static void on_done(struct loop *l, void *easy, int code, void *arg)
{
	struct http_req *r = arg;
	(void)l;
	long status = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	r->easy = NULL;
	struct http_resp *resp = &r->resp;
	resp->status = status;
	resp->transport = code;
	resp->ok = code == CURLE_OK && status >= 200 && status < 300;
	if (resp->ok) {
		resp->error[0] = '\0';
		finish(r);
		return;
	}
	if (code != CURLE_OK) {
		describe_transport(r, code);
		resp->retryable = transport_retryable(code);
	} else {
		describe_status(r);
		resp->retryable = status_retryable(status) && !resp->svc.permanent;
	}
	if (resp->retryable && resp->attempts <= r->opts.retries)
		schedule_retry(r);
	else
		finish(r);
}

static long ms(double seconds)
{
	return seconds > 0 ? (long)(seconds * 1000 + 0.5) : 0;
}

static void attempt(struct http_req *r)
{
	struct http_resp *resp = &r->resp;
	resp->attempts++;
	buf_reset(&resp->body);
	buf_reset(&resp->headers);
	resp->status = 0;
	r->curl_err[0] = '\0';
	r->file_pos = 0;

	CURL *e = curl_easy_init();
	if (!e)
		pc_die(PC_EXIT_FAIL, "curl_easy_init failed");
	r->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(r->opts.connect_timeout));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(r->opts.timeout));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (r->progress) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
	}
	switch (r->body_kind) {
	case BODY_MEM:
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data ? r->body.data : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
		break;
	case BODY_FILE:
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->file_len);
		break;
	case BODY_NONE:
		if (!strcmp(r->method, "GET"))
			curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		break;
	}
	if (strcmp(r->method, "GET") && strcmp(r->method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (loop_curl_add(r->loop, e, on_done, r) < 0) {
		curl_easy_cleanup(e);
		r->easy = NULL;
		set_error(r, "could not start the transfer");
		/* Reported from the loop, like every other end. */
		r->waiting = 1;
		loop_add_timer(r->loop, 0, on_start_failure, r);
	}
}

void http_start(struct loop *l, struct http_req *r, http_done_cb done, void *arg)
{
	static int seeded;
	if (!seeded) {
		srand48((long)time(NULL) ^ (long)getpid());
		seeded = 1;
	}
	r->loop = l;
	r->done = done;
	r->arg = arg;
	r->started = pc_now();
	requests_in_flight++;
	/* No "Expect: 100-continue" round trip before a body. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	attempt(r);
}

void http_cancel(struct http_req *r)
{
	if (!r)
		return;
	if (r->easy) {
		/* Cancelled while in flight (not from finish). */
		loop_curl_remove(r->loop, r->easy);
		curl_easy_cleanup(r->easy);
		requests_in_flight--;
	} else if (r->waiting) {
		loop_del_timers(r->loop, r);
		requests_in_flight--;
	}
	curl_slist_free_all(r->headers);
	for (int i = 0; i < r->nsecrets; i++) {
		explicit_bzero(r->secrets[i], strlen(r->secrets[i]));
		free(r->secrets[i]);
	}
	if (r->fd >= 0)
		close(r->fd);
	buf_free(&r->body);
	buf_free(&r->resp.body);
	buf_free(&r->resp.headers);
	free(r);
}

const char *http_resp_header(const struct http_resp *resp, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = resp->headers.data;
	const char *end = p ? p + resp->headers.len : NULL;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			snprintf(out, n, "%.*s", (int)(ve - v), v);
			return out;
		}
		p = eol + 1;
	}
	return NULL;
}
