/* The HTTP side of sse-serve that reads outside input: the request parser,
 * the Range parser, HTTP dates and the path resolver.  Each is a plain
 * function over bytes, so a libFuzzer target can call it (tests/fuzz/
 * fuzz_http.c, fuzz_range.c, fuzz_path.c). */
#ifndef SSE_HTTPD_H
#define SSE_HTTPD_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <time.h>

#define HTTPD_REQ_MAX 8192      /* request line + headers; 431 beyond */
#define HTTPD_HEADERS_MAX 64    /* header lines in one request; 431 beyond */

enum httpd_method { HTTPD_GET, HTTPD_HEAD, HTTPD_OTHER };

/* A slice of the request buffer (not NUL-terminated). */
struct httpd_str {
	const char *p;
	size_t n;
};

struct httpd_req {
	enum httpd_method method;
	int minor;                    /* HTTP/1.<minor> */
	int keep_alive;               /* the connection may carry another request */
	int has_body;                 /* Content-Length > 0 or Transfer-Encoding */
	int status;                   /* when parsing failed: the status to answer */
	struct httpd_str target;       /* origin-form path with query */
	struct httpd_str path, query;  /* target split at '?' (path still %-encoded) */
	struct httpd_str host, last_event_id, range, if_range, if_none_match, if_modified_since;
};

/* Parse the head of a request in buf[0..len).  Returns the head's length
 * (request line through the blank line) when complete, 0 when more bytes
 * are needed, -1 when the request is refused (req->status: 400, 405, 431,
 * 505).  A 405 is reported only after the whole head is read and parsed.
 * Slices in req point into buf. */
int httpd_parse_request(const char *buf, size_t len, struct httpd_req *req);

/* Reason phrase for a status code (the status table); NULL if unknown. */
const char *httpd_reason(int status);

/* Range header against a file of size bytes.  RANGE_NONE: answer the whole
 * file (no Range, another unit, several ranges, or a malformed value, which
 * RFC 9110 says to ignore); RANGE_OK: bytes *first..*last inclusive;
 * RANGE_UNSATISFIABLE: 416. */
enum httpd_range { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };
enum httpd_range httpd_parse_range(const char *v, size_t n, off_t size, off_t *first, off_t *last);

/* HTTP dates (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"). */
#define HTTPD_DATE_LEN 64   /* 29 characters, with room for any year */
void httpd_date(time_t t, char out[HTTPD_DATE_LEN]);
time_t httpd_parse_date(const char *s, size_t n);   /* -1 when not an IMF-fixdate */

/* Strong validator of a file: "size-mtime" in hex, quoted. */
#define HTTPD_ETAG_LEN 48
void httpd_etag(const struct stat *st, char out[HTTPD_ETAG_LEN]);
/* Does an If-None-Match list name etag ("*" does)?  Weak comparison. */
int httpd_etag_match(const char *list, size_t n, const char *etag);

/* Content-Type for a file name, by extension. */
const char *httpd_content_type(const char *name);

/* Case-insensitive comparison of a slice with a NUL-terminated word. */
int httpd_str_is(struct httpd_str s, const char *word);

/* ---- path.c: URL paths to files, refusing anything that leaves a folder ---- */
#define PATH_URL_MAX 4096

/* Percent-decode the URL path rel[0..n) (what follows a route's prefix)
 * into out as a relative path.  0 when clean; else the status to answer:
 * 400 (bad %-escape, NUL, control characters, a backslash, too long),
 * 403 (a segment starting with "." -- ".", "..", hidden and temporary
 * files --, an empty segment, a leading "/": an absolute path). */
int path_clean(const char *rel, size_t n, char *out, size_t outlen);

/* Open root/rel (rel from path_clean) read-only.  root must be a real
 * path (realpath(3)).  The file's real path must stay inside root (a
 * symlink leading out is refused) and be a regular file.  Returns an open
 * fd with *st filled and, when resolved is not NULL, the real path; or
 * -status (-403, -404). */
int path_open(const char *root, const char *rel, struct stat *st, char *resolved, size_t rlen);

#endif
