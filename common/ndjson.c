/* The NDJSON record reader: lines of at most max bytes, each one JSON object
 * with a string "type".  Errors name the input and the line, like jq. */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nd_init(struct nd_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name ? name : "stdin";
	r->max = ND_MAX_LINE_DEFAULT;
	const char *env = getenv("PLAYCALL_MAX_LINE");
	if (env) {
		int ok;
		long v = pc_parse_long(env, 64, 1L << 30, &ok);
		if (ok)
			r->max = (size_t)v;
	}
}

void nd_free(struct nd_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}

ssize_t nd_fill(struct nd_reader *r)
{
	if (r->eof)
		return 0;
	if (r->cap - r->len < 4096) {
		r->cap = r->cap ? r->cap * 2 : 65536;
		r->buf = pc_xrealloc(r->buf, r->cap);
	}
	ssize_t n;
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		r->eof = 1;
	if (n > 0)
		r->len += (size_t)n;
	return n;
}

json_object *nd_parse_record(const char *line, size_t len, char *err, size_t errlen)
{
	if (memchr(line, '\0', len)) {
		snprintf(err, errlen, "NUL byte in record");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(64);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		snprintf(err, errlen, "not JSON: %s",
			 jerr == json_tokener_continue ? "unexpected end of line"
						       : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; used < len; used++) {
		char c = line[used];
		if (c != ' ' && c != '\t' && c != '\r') {
			json_object_put(obj);
			snprintf(err, errlen, "not JSON: trailing text after the record");
			return NULL;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		snprintf(err, errlen, "record is not a JSON object");
		return NULL;
	}
	json_object *type;
	if (!json_object_object_get_ex(obj, "type", &type) ||
	    !json_object_is_type(type, json_type_string) ||
	    json_object_get_string_len(type) == 0) {
		json_object_put(obj);
		snprintf(err, errlen, "record has no string \"type\"");
		return NULL;
	}
	return obj;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void consume(struct nd_reader *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

enum nd_result nd_next(struct nd_reader *r, json_object **rec, char *err, size_t errlen)
{
	*rec = NULL;
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (r->skipping) {
			/* The over-long line was reported; drop it through its newline. */
			if (!nl) {
				r->len = 0;
				return r->eof ? ND_EOF : ND_AGAIN;
			}
			consume(r, (size_t)(nl - r->buf) + 1);
			r->skipping = 0;
			continue;
		}
		size_t linelen;
		if (nl)
			linelen = (size_t)(nl - r->buf);
		else if (r->eof && r->len)
			linelen = r->len;   /* a last line without its newline still counts */
		else if (r->len > r->max) {
			r->line++;
			r->skipping = 1;
			snprintf(err, errlen, "%s:%ld: line longer than %zu bytes", r->name, r->line, r->max);
			return ND_BAD;
		} else
			return r->eof ? ND_EOF : ND_AGAIN;

		r->line++;
		if (linelen > r->max) {
			consume(r, nl ? linelen + 1 : linelen);
			snprintf(err, errlen, "%s:%ld: line longer than %zu bytes", r->name, r->line, r->max);
			return ND_BAD;
		}
		if (blank(r->buf, linelen)) {
			consume(r, nl ? linelen + 1 : linelen);
			continue;
		}
		char reason[200];
		*rec = nd_parse_record(r->buf, linelen, reason, sizeof reason);
		consume(r, nl ? linelen + 1 : linelen);
		if (!*rec) {
			snprintf(err, errlen, "%s:%ld: %s", r->name, r->line, reason);
			return ND_BAD;
		}
		return ND_RECORD;
	}
}

enum nd_result nd_read(struct nd_reader *r, json_object **rec, char *err, size_t errlen)
{
	for (;;) {
		enum nd_result res = nd_next(r, rec, err, errlen);
		if (res != ND_AGAIN)
			return res;
		if (nd_fill(r) < 0) {
			if (errno == EAGAIN) {
				/* Blocking use on a non-blocking fd: wait a moment. */
				usleep(10000);
				continue;
			}
			snprintf(err, errlen, "%s: read error: %s", r->name, strerror(errno));
			r->eof = 1;
			return ND_BAD;
		}
	}
}
