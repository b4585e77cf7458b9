/* HTTP requests for the cloud backends, run on common/loop (libcurl multi:
 * many requests in flight on one thread, never a thread per request).
 *
 * A request is built, started, and finishes with one callback that gets the
 * response of the last attempt.  In between, the layer
 *   - applies a connect timeout and a whole-attempt timeout;
 *   - retries 408, 429, 5xx, connection failures, resets and timeouts with
 *     exponential backoff and jitter, waiting at least what the service asks
 *     (Retry-After in seconds or as an HTTP date, or a delay found in the
 *     error body by the service's error parser, e.g. Gemini's retryDelay);
 *   - never retries other 4xx (400/401/403/404/422...): the service's own
 *     message is returned as it is;
 *   - sends keys only in headers (http_key_header), and removes every key
 *     from every message it makes.
 * Nothing here knows a service: base URLs, headers and error shapes come
 * from common/api_*.c, so with the real base URLs this talks to the real
 * services, and with *_BASE_URL pointing at tests/fake-api.py to the fake. */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include "pc.h"

#define HTTP_URL_MAX 4096
#define HTTP_ERR_MAX 1024              /* one-line messages */
#define HTTP_SECRETS_MAX 4             /* keys one request may carry */
#define HTTP_BODY_MAX (256L << 20)     /* largest response body kept in memory */

/* Named timeouts and retry policy (seconds), each an option: see
 * http_opts_env and playcall(7). */
#define HTTP_CONNECT_TIMEOUT_DEFAULT 10.0  /* TCP + TLS handshake */
#define HTTP_TIMEOUT_DEFAULT 300.0         /* one whole attempt, upload included */
#define HTTP_RETRIES_DEFAULT 4             /* attempts after the first */
#define HTTP_BACKOFF_DEFAULT 1.0           /* first backoff; doubles each retry */
#define HTTP_BACKOFF_MAX 30.0              /* backoff ceiling */
#define HTTP_RETRY_AFTER_MAX 120.0         /* a longer wait asked by a service fails at once */

struct http_opts {
	double connect_timeout;
	double timeout;
	int retries;
	double backoff;          /* base of the exponential backoff */
	double backoff_max;
	double retry_after_max;
};
void http_opts_default(struct http_opts *o);
/* Defaults overridden by PLAYCALL_CONNECT_TIMEOUT, PLAYCALL_HTTP_TIMEOUT,
 * PLAYCALL_HTTP_RETRIES and PLAYCALL_HTTP_BACKOFF.  -1 and a message naming
 * the variable when one is malformed. */
int http_opts_env(struct http_opts *o, char *err, size_t errlen);

/* What a service says in an error body (filled by its error parser). */
struct http_service_error {
	char message[HTTP_ERR_MAX];  /* the service's own words */
	char status[64];             /* "RESOURCE_EXHAUSTED", "quota_exceeded", ... */
	double retry_delay;          /* seconds the service asks to wait; 0 none */
	int permanent;               /* retrying cannot help (an exhausted quota) */
};
/* Parse an error body; 0 when it had the service's shape, else -1. */
typedef int (*http_error_parser)(const char *body, size_t len, struct http_service_error *e);

struct http_resp {
	long status;             /* HTTP status of the last attempt; 0: no answer */
	int ok;                  /* 2xx */
	int transport;           /* curl result of the last attempt (0: complete) */
	int attempts;
	int retryable;           /* the last failure was of a retryable kind */
	struct buf body;         /* response body; a callback may take it (zero it) */
	struct buf headers;      /* header lines of the final response */
	struct http_service_error svc;  /* when the error body was understood */
	char error[HTTP_ERR_MAX];       /* one line when !ok, every key removed */
	double elapsed;          /* seconds from start to the end, retries included */
};

struct http_req;
/* Called once from the loop when the request is over (done, failed for good,
 * or out of retries).  The request and response are freed after it returns. */
typedef void (*http_done_cb)(struct http_req *r, struct http_resp *resp, void *arg);
/* Upload progress of the current attempt: bytes sent of total. */
typedef void (*http_progress_cb)(void *arg, long long sent, long long total);

/* service names the peer in messages ("Gemini", "OpenAI", "ElevenLabs"). */
struct http_req *http_new(const char *service, const char *method, const char *url);
void http_header(struct http_req *r, const char *name, const char *value);
/* A header carrying a key: value is prefix + key ("Bearer " + key).  The key
 * is never put in any message.  An empty or NULL key adds nothing. */
void http_key_header(struct http_req *r, const char *name, const char *prefix, const char *key);
/* Bodies: JSON (serialised now; Content-Type application/json), bytes
 * (copied), or a byte range of a file streamed from disk as it is sent. */
void http_body_json(struct http_req *r, json_object *body);
void http_body_data(struct http_req *r, const void *data, size_t len, const char *content_type);
int http_body_file(struct http_req *r, const char *path, long long offset, long long len,
		   const char *content_type, char *err, size_t errlen);
void http_set_opts(struct http_req *r, const struct http_opts *o);
void http_set_error_parser(struct http_req *r, http_error_parser parse);
void http_set_progress(struct http_req *r, http_progress_cb cb, void *arg);
/* What the request is for, in messages: "generateContent", "upload". */
void http_set_label(struct http_req *r, const char *label);
void http_start(struct loop *l, struct http_req *r, http_done_cb done, void *arg);
/* Stop a started request: no callback; everything is freed. */
void http_cancel(struct http_req *r);
int http_in_flight(void);   /* requests started and not yet over */

/* A response header's value (first match, name without case), or NULL. */
const char *http_resp_header(const struct http_resp *resp, const char *name, char *out, size_t n);

/* Pure helpers, exposed for tests and fuzzing. */
/* Retry-After: delta seconds or an HTTP date (relative to now, a time_t);
 * -1 when malformed. */
double http_parse_retry_after(const char *value, long long now);
/* The wait before retry number n (1-based), before any service request. */
double http_backoff(const struct http_opts *o, int n, double unit_random);
/* Percent-encode one path segment or query value into out. */
char *http_escape(const char *s, char *out, size_t n);
/* base + path, without a doubled or missing slash; NULL when too long. */
char *http_join(const char *base, const char *path, char *out, size_t n);

#endif
