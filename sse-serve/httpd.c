/* HTTP/1.1 request heads, Range values, dates, validators and content
 * types: the parts of the server that read what a client sends.  Strict
 * where a lenient reading could be abused (request smuggling, header
 * folding), lenient only where RFC 9110/9112 say to be (a bare LF ends a
 * line; a malformed Range is ignored). */
#define _GNU_SOURCE
#include "httpd.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	int code;
	const char *reason;
} status_table[] = {
	{200, "OK"},
	{204, "No Content"},
	{206, "Partial Content"},
	{304, "Not Modified"},
	{400, "Bad Request"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{408, "Request Timeout"},
	{416, "Range Not Satisfiable"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{503, "Service Unavailable"},
	{505, "HTTP Version Not Supported"},
};

const char *httpd_reason(int status)
{
	for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
		if (status_table[i].code == status)
			return status_table[i].reason;
	return NULL;
}

int httpd_str_is(struct httpd_str s, const char *word)
{
	size_t n = strlen(word);
	return s.p && s.n == n && strncasecmp(s.p, word, n) == 0;
}

/* tchar of RFC 9110 5.6.2 */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible characters allowed in a request target (no spaces, no controls). */
static int is_target_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* Find the end of the head: the first empty line.  Returns the length
 * through it, or 0 when it is not there yet. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Next line of the head: [*pos, eol) without its CR LF or LF. */
static int next_line(const char *buf, size_t end, size_t *pos, struct httpd_str *line)
{
	if (*pos >= end)
		return 0;
	const char *nl = memchr(buf + *pos, '\n', end - *pos);
	if (!nl)
		return 0;
	size_t e = (size_t)(nl - buf);
	line->p = buf + *pos;
	line->n = e - *pos;
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = e + 1;
	return 1;
}

static int fail(struct httpd_req *req, int status)
{
	req->status = status;
	return -1;
}

static int parse_request_line(struct httpd_str line, struct httpd_req *req)
{
	const char *p = line.p, *end = line.p + line.n;
	const char *m = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	size_t mlen = (size_t)(p - m);
	if (mlen == 0 || p == end || *p != ' ')
		return fail(req, 400);
	if (mlen == 3 && !memcmp(m, "GET", 3))
		req->method = HTTPD_GET;
	else if (mlen == 4 && !memcmp(m, "HEAD", 4))
		req->method = HTTPD_HEAD;
	else
		req->method = HTTPD_OTHER;
	p++;
	const char *t = p;
	while (p < end && is_target_char((unsigned char)*p))
		p++;
	if (p == t || p == end || *p != ' ')
		return fail(req, 400);
	req->target.p = t;
	req->target.n = (size_t)(p - t);
	p++;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return fail(req, 400);
	if (p[5] != '1')
		return fail(req, 505);
	req->minor = p[7] - '0';
	return 0;
}

/* The target in origin-form ("/path?query"); absolute-form
 * ("http://host/path") is reduced to it, as RFC 9112 3.2.2 asks. */
static int split_target(struct httpd_req *req)
{
	struct httpd_str t = req->target;
	if (t.n > 7 && (!strncasecmp(t.p, "http://", 7) || !strncasecmp(t.p, "https://", 8))) {
		size_t skip = t.p[4] == ':' ? 7 : 8;
		const char *slash = memchr(t.p + skip, '/', t.n - skip);
		if (!slash)
			return fail(req, 400);
		t.n -= (size_t)(slash - t.p);
		t.p = slash;
	}
	if (t.n == 0 || t.p[0] != '/')
		return fail(req, 400);
	const char *q = memchr(t.p, '?', t.n);
	req->path.p = t.p;
	req->path.n = q ? (size_t)(q - t.p) : t.n;
	if (q) {
		req->query.p = q + 1;
		req->query.n = t.n - req->path.n - 1;
	}
	return 0;
}

static int parse_length(struct httpd_str v, unsigned long long *out)
{
	unsigned long long n = 0;
	if (v.n == 0 || v.n > 18)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(v.p[i] - '0');
	}
	*out = n;
	return 0;
}

/* Does a comma-separated header value hold the token word? */
static int has_token(struct httpd_str v, const char *word)
{
	size_t i = 0;
	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		size_t s = i;
		while (i < v.n && v.p[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		struct httpd_str tok = {v.p + s, e - s};
		if (e > s && httpd_str_is(tok, word))
			return 1;
	}
	return 0;
}

struct header_slot {
	const char *name;
	size_t offset;
};

#define SLOT(field) offsetof(struct httpd_req, field)
static const struct header_slot kept_headers[] = {
	{"host", SLOT(host)},
	{"last-event-id", SLOT(last_event_id)},
	{"range", SLOT(range)},
	{"if-range", SLOT(if_range)},
	{"if-none-match", SLOT(if_none_match)},
	{"if-modified-since", SLOT(if_modified_since)},
};

static int parse_header(struct httpd_str line, struct httpd_req *req, int *conn_close,
			int *conn_keep, int *seen_length, unsigned long long *length)
{
	const char *p = line.p, *end = line.p + line.n;
	/* obs-fold (a line starting with white space) is refused: RFC 9112 5.2 */
	const char *name = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == name || p == end || *p != ':')
		return fail(req, 400);
	struct httpd_str hname = {name, (size_t)(p - name)};
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *vend = end;
	while (vend > p && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	struct httpd_str v = {p, (size_t)(vend - p)};
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(req, 400);
	}
	for (size_t i = 0; i < sizeof kept_headers / sizeof kept_headers[0]; i++) {
		if (!httpd_str_is(hname, kept_headers[i].name))
			continue;
		struct httpd_str *slot = (struct httpd_str *)((char *)req + kept_headers[i].offset);
		if (slot->p && i == 0)
			return fail(req, 400);   /* two Host headers: RFC 9112 3.2 */
		*slot = v;
		return 0;
	}
	if (httpd_str_is(hname, "connection")) {
		*conn_close |= has_token(v, "close");
		*conn_keep |= has_token(v, "keep-alive");
	} else if (httpd_str_is(hname, "content-length")) {
		unsigned long long n;
		if (parse_length(v, &n) < 0 || (*seen_length && n != *length))
			return fail(req, 400);
		*seen_length = 1;
		*length = n;
	} else if (httpd_str_is(hname, "transfer-encoding")) {
		req->has_body = 1;
	}
	return 0;
}

int httpd_parse_request(const char *buf, size_t len, struct httpd_req *req)
{
	memset(req, 0, sizeof *req);
	/* RFC 9112 2.2: ignore empty lines before the request line. */
	size_t start = 0;
	while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
		start++;
	size_t end = head_end(buf + start, len - start);
	if (!end) {
		if (len >= HTTPD_REQ_MAX)
			return fail(req, 431);
		return 0;
	}
	end += start;
	if (end > HTTPD_REQ_MAX)
		return fail(req, 431);
	if (memchr(buf, '\0', end))
		return fail(req, 400);

	size_t pos = start;
	struct httpd_str line;
	next_line(buf, end, &pos, &line);
	if (parse_request_line(line, req) < 0 || split_target(req) < 0)
		return -1;

	int conn_close = 0, conn_keep = 0, seen_length = 0, nheaders = 0;
	unsigned long long length = 0;
	while (next_line(buf, end, &pos, &line) && line.n) {
		if (++nheaders > HTTPD_HEADERS_MAX)
			return fail(req, 431);
		if (parse_header(line, req, &conn_close, &conn_keep, &seen_length, &length) < 0)
			return -1;
	}
	if (req->minor >= 1 && !req->host.p)
		return fail(req, 400);   /* RFC 9112 3.2: HTTP/1.1 needs Host */
	if (seen_length && req->has_body)
		return fail(req, 400);   /* both framings: a smuggling attempt */
	if (length > 0)
		req->has_body = 1;
	req->keep_alive = req->minor >= 1 ? !conn_close : conn_keep && !conn_close;
	if (req->has_body)
		req->keep_alive = 0;     /* we read no bodies, so the framing is lost */
	if (req->method == HTTPD_OTHER)
		return fail(req, 405);
	return (int)end;
}

/* ---- Range ---- */

/* Digits to a number, saturating at INT64_MAX (beyond any file size). */
static int parse_pos(const char *s, size_t n, off_t *out)
{
	if (n == 0)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		int d = s[i] - '0';
		v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
	}
	*out = (off_t)v;
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

enum httpd_range httpd_parse_range(const char *v, size_t n, off_t size, off_t *first, off_t *last)
{
	if (!v)
		return RANGE_NONE;
	trim(&v, &n);
	if (n < 6 || strncasecmp(v, "bytes=", 6))
		return RANGE_NONE;
	v += 6, n -= 6;
	trim(&v, &n);
	/* Several ranges would need multipart/byteranges; the whole file is
	 * an allowed answer (RFC 9110 14.2). */
	if (memchr(v, ',', n))
		return RANGE_NONE;
	const char *dash = memchr(v, '-', n);
	if (!dash)
		return RANGE_NONE;
	const char *a = v, *b = dash + 1;
	size_t an = (size_t)(dash - v), bn = n - an - 1;
	trim(&a, &an);
	trim(&b, &bn);
	off_t x, y;
	if (an == 0) {            /* suffix: the last y bytes */
		if (parse_pos(b, bn, &y) < 0)
			return RANGE_NONE;
		if (y == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = y >= size ? 0 : size - y;
		*last = size - 1;
		return RANGE_OK;
	}
	if (parse_pos(a, an, &x) < 0)
		return RANGE_NONE;
	if (bn == 0)
		y = size > 0 ? size - 1 : 0;
	else if (parse_pos(b, bn, &y) < 0 || y < x)
		return RANGE_NONE;
	if (x >= size)
		return RANGE_UNSATISFIABLE;
	*first = x;
	*last = y >= size ? size - 1 : y;
	return RANGE_OK;
}

/* ---- dates and validators ---- */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void httpd_date(time_t t, char out[HTTPD_DATE_LEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	/* By hand: strftime's names follow the locale, HTTP's do not. */
	snprintf(out, HTTPD_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int two_digits(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

time_t httpd_parse_date(const char *s, size_t n)
{
	/* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters. */
	if (!s || n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3))
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	int mon = -1, y1, y2;
	for (int i = 0; i < 12; i++)
		if (!memcmp(s + 8, months[i], 3))
			mon = i;
	if (mon < 0 || two_digits(s + 5, &tm.tm_mday) < 0 || two_digits(s + 12, &y1) < 0 ||
	    two_digits(s + 14, &y2) < 0 || two_digits(s + 17, &tm.tm_hour) < 0 ||
	    two_digits(s + 20, &tm.tm_min) < 0 || two_digits(s + 23, &tm.tm_sec) < 0)
		return -1;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_mon = mon;
	tm.tm_year = y1 * 100 + y2 - 1900;
	return timegm(&tm);
}

void httpd_etag(const struct stat *st, char out[HTTPD_ETAG_LEN])
{
	snprintf(out, HTTPD_ETAG_LEN, "\"%llx-%llx%06lx\"", (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec, (unsigned long)(st->st_mtim.tv_nsec / 1000));
}

int httpd_etag_match(const char *list, size_t n, const char *etag)
{
	size_t elen = strlen(etag);
	size_t i = 0;
	while (i < n) {
		while (i < n && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
			i++;
		if (i < n && list[i] == '*')
			return 1;
		if (i + 2 <= n && list[i] == 'W' && list[i + 1] == '/')
			i += 2;   /* weak comparison: W/"x" matches "x" */
		size_t s = i;
		while (i < n && list[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (list[e - 1] == ' ' || list[e - 1] == '\t'))
			e--;
		if (e - s == elen && !memcmp(list + s, etag, elen))
			return 1;
	}
	return 0;
}

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{"mp4", "video/mp4"},
	{"m4v", "video/mp4"},
	{"m3u8", "application/vnd.apple.mpegurl"},
	{"ts", "video/mp2t"},
	{"m4s", "video/iso.segment"},
	{"vtt", "text/vtt; charset=utf-8"},
	{"wav", "audio/wav"},
	{"mp3", "audio/mpeg"},
	{"m4a", "audio/mp4"},
	{"aac", "audio/aac"},
	{"ogg", "audio/ogg"},
	{"webm", "video/webm"},
	{"json", "application/json"},
	{"ndjson", "application/x-ndjson"},
	{"txt", "text/plain; charset=utf-8"},
	{"jpg", "image/jpeg"},
	{"png", "image/png"},
};

const char *httpd_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	if (dot)
		for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
			if (!strcasecmp(dot + 1, content_types[i].ext))
				return content_types[i].type;
	return "application/octet-stream";
}
