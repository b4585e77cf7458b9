/* Unit tests for sse-serve's parsers and its stream buffer: request heads,
 * Range, HTTP dates, validators, the path resolver, listen addresses,
 * event framing and resume positions, and the sweep's tree removal. */
#define _GNU_SOURCE
#include "../../sse-serve/sse.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(const char *text, struct httpd_req *req)
{
	return httpd_parse_request(text, strlen(text), req);
}

static int slice_is(struct httpd_str s, const char *want)
{
	return s.p && s.n == strlen(want) && !memcmp(s.p, want, s.n);
}

static void test_request(void)
{
	struct httpd_req r;
	const char *get = "GET /events?x=1 HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 42\r\nRange: bytes=0-9\r\n\r\nGET /next";
	int n = parse(get, &r);
	is_num(n, strstr(get, "GET /next") - get, 0, "request: head length, pipelined bytes left");
	ok(r.method == HTTPD_GET && r.minor == 1 && r.keep_alive, "request: GET, HTTP/1.1, keep-alive by default");
	ok(slice_is(r.path, "/events") && slice_is(r.query, "x=1"), "request: path and query split");
	ok(slice_is(r.last_event_id, "42") && slice_is(r.range, "bytes=0-9") && slice_is(r.host, "a"),
	   "request: Last-Event-ID, Range, Host kept");
	is_num(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), 0, 0, "request: incomplete head asks for more");
	is_num(parse("GET / HTTP/1.0\n\n", &r), 16, 0, "request: bare LF lines accepted");
	ok(!r.keep_alive, "request: HTTP/1.0 closes by default");
	parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	ok(r.keep_alive, "request: HTTP/1.0 keep-alive on request");
	parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r);
	ok(!r.keep_alive, "request: Connection: close among tokens");
	parse("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	ok(r.method == HTTPD_HEAD, "request: HEAD");
	parse("\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	ok(slice_is(r.path, "/x"), "request: leading empty lines ignored");
	parse("GET http://example.com/videos/a.mp4?q HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	ok(slice_is(r.path, "/videos/a.mp4"), "request: absolute-form reduced to its path");

	struct {
		const char *text;
		int status;
		const char *name;
	} bad[] = {
		{"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405, "POST is 405"},
		{"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", 405, "DELETE is 405"},
		{"GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is 505"},
		{"GET /x HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host is 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "two Host headers are 400"},
		{"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "a target without / is 400"},
		{"GET /x y HTTP/1.1\r\nHost: a\r\n\r\n", 400, "a space in the target is 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obs-fold is 400"},
		{"GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 400, "space before the colon is 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both framings are 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting lengths are 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, "a CR inside a value is 400"},
		{"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "a negative length is 400"},
		{"G\x01T /x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "a control character in the method is 400"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i].text, &r);
		ok(rc < 0 && r.status == bad[i].status, "request: %s (got %d/%d)", bad[i].name, rc, r.status);
	}
	char nul[] = "GET /x HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	ok(httpd_parse_request(nul, sizeof nul - 1, &r) < 0 && r.status == 400, "request: a NUL byte is 400");

	/* 431: a head that does not end within the buffer, or too many lines */
	static char big[HTTPD_REQ_MAX];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	ok(httpd_parse_request(big, sizeof big, &r) < 0 && r.status == 431, "request: a full buffer without an end is 431");
	struct buf many = {0};
	buf_puts(&many, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < HTTPD_HEADERS_MAX + 1; i++)
		buf_printf(&many, "X-%d: y\r\n", i);
	buf_puts(&many, "\r\n");
	ok(httpd_parse_request(many.data, many.len, &r) < 0 && r.status == 431, "request: too many header lines is 431");
	buf_free(&many);
	parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r);
	ok(!r.keep_alive && r.has_body, "request: a GET with a body closes the connection");
}

static void test_status(void)
{
	is_str(httpd_reason(431), "Request Header Fields Too Large", "status table: 431");
	is_str(httpd_reason(416), "Range Not Satisfiable", "status table: 416");
	ok(httpd_reason(299) == NULL, "status table: unknown code");
}

static void test_range(void)
{
	off_t a = -1, b = -1;
	const char *v;
#define RANGE(str, size) (v = (str), httpd_parse_range(v, strlen(v), (size), &a, &b))
	ok(RANGE("bytes=0-99", 1000) == RANGE_OK && a == 0 && b == 99, "range: first 100 bytes");
	ok(RANGE("bytes=500-", 1000) == RANGE_OK && a == 500 && b == 999, "range: open end");
	ok(RANGE("bytes=-100", 1000) == RANGE_OK && a == 900 && b == 999, "range: suffix");
	ok(RANGE("bytes=-5000", 1000) == RANGE_OK && a == 0 && b == 999, "range: suffix longer than the file");
	ok(RANGE("bytes=900-5000", 1000) == RANGE_OK && a == 900 && b == 999, "range: end clamped");
	ok(RANGE(" Bytes=1-2 ", 1000) == RANGE_OK && a == 1 && b == 2, "range: unit case and spaces");
	ok(RANGE("bytes=1000-", 1000) == RANGE_UNSATISFIABLE, "range: start at the size is 416");
	ok(RANGE("bytes=-0", 1000) == RANGE_UNSATISFIABLE, "range: empty suffix is 416");
	ok(RANGE("bytes=0-", 0) == RANGE_UNSATISFIABLE, "range: empty file is 416");
	ok(RANGE("bytes=99999999999999999999999-", 1000) == RANGE_UNSATISFIABLE, "range: huge start saturates, 416");
	ok(RANGE("bytes=5-1", 1000) == RANGE_NONE, "range: reversed is ignored");
	ok(RANGE("bytes=0-1,5-6", 1000) == RANGE_NONE, "range: several ranges answered whole");
	ok(RANGE("items=0-1", 1000) == RANGE_NONE, "range: other unit ignored");
	ok(RANGE("bytes=a-b", 1000) == RANGE_NONE && RANGE("bytes=", 1000) == RANGE_NONE &&
	   RANGE("bytes=-", 1000) == RANGE_NONE, "range: junk ignored");
#undef RANGE
}

static void test_dates(void)
{
	char d[HTTPD_DATE_LEN];
	httpd_date(784111777, d);
	is_str(d, "Sun, 06 Nov 1994 08:49:37 GMT", "date: IMF-fixdate");
	is_num((double)httpd_parse_date(d, strlen(d)), 784111777, 0, "date: parses back");
	ok(httpd_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30) == -1, "date: RFC 850 form refused");
	ok(httpd_parse_date("Sun, 06 Nov 1994 25:49:37 GMT", 29) == -1, "date: hour 25 refused");

	struct stat st;
	memset(&st, 0, sizeof st);
	st.st_size = 4096;
	st.st_mtim.tv_sec = 1700000000;
	char etag[HTTPD_ETAG_LEN];
	httpd_etag(&st, etag);
	ok(etag[0] == '"' && etag[strlen(etag) - 1] == '"', "etag: quoted (%s)", etag);
	char list[128];
	snprintf(list, sizeof list, "\"x\", W/%s", etag);
	ok(httpd_etag_match(list, strlen(list), etag), "etag: weak form in a list matches");
	ok(httpd_etag_match("*", 1, etag), "etag: * matches");
	ok(!httpd_etag_match("\"nope\"", 6, etag), "etag: another does not");
	is_str(httpd_content_type("a/chunk_0.mp4"), "video/mp4", "type: mp4");
	is_str(httpd_content_type("stream.m3u8"), "application/vnd.apple.mpegurl", "type: m3u8");
	is_str(httpd_content_type("chunk_0.vtt"), "text/vtt; charset=utf-8", "type: vtt");
	is_str(httpd_content_type("x.M4S"), "video/iso.segment", "type: case-insensitive m4s");
	is_str(httpd_content_type("x.ts"), "video/mp2t", "type: ts");
	is_str(httpd_content_type("noext"), "application/octet-stream", "type: default");
}

static void test_path_clean(void)
{
	char out[PATH_URL_MAX];
	struct {
		const char *in;
		int want;
		const char *out;
	} cases[] = {
		{"streaming/s/chunk_0.mp4", 0, "streaming/s/chunk_0.mp4"},
		{"a%20b.mp4", 0, "a b.mp4"},
		{"%24%28touch%20x%29.mp4", 0, "$(touch x).mp4"},
		{"../etc/passwd", 403, NULL},
		{"a/../../b", 403, NULL},
		{"%2e%2e/x", 403, NULL},
		{"%2E%2E%2Fx", 403, NULL},
		{"a/%2e%2e", 403, NULL},
		{"/etc/passwd", 403, NULL},
		{"%2fetc%2fpasswd", 403, NULL},
		{"a//b", 403, NULL},
		{"./a", 403, NULL},
		{".hidden.tmp-1-2.mp4", 403, NULL},
		{"a/", 403, NULL},
		{"a%00b", 400, NULL},
		{"a%0Ab", 400, NULL},
		{"a%5C..%5Cb", 400, NULL},
		{"a%zz", 400, NULL},
		{"a%2", 400, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = path_clean(cases[i].in, strlen(cases[i].in), out, sizeof out);
		if (cases[i].out)
			ok(rc == 0 && !strcmp(out, cases[i].out), "path: %s -> %s", cases[i].in, cases[i].out);
		else
			ok(rc == cases[i].want, "path: %s refused with %d (got %d)", cases[i].in, cases[i].want, rc);
	}
	char tiny[4];
	ok(path_clean("abcdef", 6, tiny, sizeof tiny) == 400, "path: too long for the buffer is 400");
}

static void test_path_open(void)
{
	char tmpl[] = "/tmp/sse-unit.XXXXXX", root[PATH_MAX], p[PATH_MAX + 64], real[PATH_MAX];
	if (!mkdtemp(tmpl))
		abort();
	snprintf(p, sizeof p, "%s/root", tmpl);
	mkdir(p, 0755);
	if (!realpath(p, root))
		abort();
	snprintf(p, sizeof p, "%s/secret", tmpl);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(p, sizeof p, "%s/ok.mp4", root);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	ssize_t w = write(fd, "abc", 3);
	(void)w;
	close(fd);
	snprintf(p, sizeof p, "%s/out", root);
	if (symlink("../secret", p) < 0)
		abort();
	snprintf(p, sizeof p, "%s/in", root);
	if (symlink("ok.mp4", p) < 0)
		abort();
	snprintf(p, sizeof p, "%s/dir", root);
	mkdir(p, 0755);

	struct stat st;
	fd = path_open(root, "ok.mp4", &st, real, sizeof real);
	ok(fd >= 0 && st.st_size == 3, "path_open: a file inside");
	if (fd >= 0)
		close(fd);
	fd = path_open(root, "in", &st, real, sizeof real);
	ok(fd >= 0 && strstr(real, "/ok.mp4"), "path_open: a symlink staying inside, resolved");
	if (fd >= 0)
		close(fd);
	is_num(path_open(root, "out", &st, NULL, 0), -403, 0, "path_open: a symlink leading out is 403");
	is_num(path_open(root, "missing.mp4", &st, NULL, 0), -404, 0, "path_open: missing is 404");
	is_num(path_open(root, "dir", &st, NULL, 0), -403, 0, "path_open: a folder is 403");
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	ok(system(cmd) == 0, "path_open: scratch removed");
}

static void test_listen_parse(void)
{
	char host[64], port[16];
	ok(listen_parse("8000", host, sizeof host, port, sizeof port) == 0 && !strcmp(host, "127.0.0.1") &&
	   !strcmp(port, "8000"), "listen: a port alone is loopback");
	ok(listen_parse("0.0.0.0:80", host, sizeof host, port, sizeof port) == 0 && !strcmp(host, "0.0.0.0"),
	   "listen: address and port");
	ok(listen_parse("[::1]:8080", host, sizeof host, port, sizeof port) == 0 && !strcmp(host, "::1"),
	   "listen: bracketed IPv6");
	ok(listen_parse(":8000", host, sizeof host, port, sizeof port) == 0 && !host[0], "listen: :PORT is every address");
	ok(listen_parse("::1:80", host, sizeof host, port, sizeof port) < 0, "listen: bare IPv6 refused");
	ok(listen_parse("x:99999", host, sizeof host, port, sizeof port) < 0, "listen: port out of range");
	ok(listen_parse("host:", host, sizeof host, port, sizeof port) < 0, "listen: no port");
}

static void test_stream(void)
{
	struct stream *s = stream_new(STREAM_STDIN);
	stream_append(s, "{\"type\":\"a\"}", 12);
	stream_append(s, "{\"type\":\"b\"}", 12);
	stream_append(s, "{\"type\":\"x\"}\n{\"type\":\"y\"}", 25);   /* would split an event: dropped */
	is_str(buf_cstr(&s->framed), "id: 1\ndata: {\"type\":\"a\"}\n\nid: 2\ndata: {\"type\":\"b\"}\n\n",
	       "stream: events framed once, ids from 1");
	is_num(s->last_id, 2, 0, "stream: a record with a newline is not an event");
	long gap;
	is_num(stream_pos_after(s, -1, &gap), 0, 0, "stream: no Last-Event-ID starts at the beginning");
	is_num(stream_pos_after(s, 1, &gap), s->ev_pos[1], 0, "stream: after id 1 starts at id 2");
	is_num(stream_pos_after(s, 2, &gap), stream_end_pos(s), 0, "stream: after the last waits at the end");
	is_num(stream_pos_after(s, 99, &gap), stream_end_pos(s), 0, "stream: an id from the future waits at the end");
	ok(gap == 0, "stream: no gap in memory");
	size_t used = stream_take_lines(s, "{\"type\":\"c\"}\r\n{\"type\":\"d\"}\n{\"part", 33);
	is_num(used, 27, 0, "stream: saved lines taken up to the last whole one");
	is_num(s->last_id, 4, 0, "stream: each saved line is an event");
	stream_free(s);
}

/* A stream past its memory bound forgets its oldest events; a session's
 * are still read back from its events.ndjson, framed with their ids. */
static void test_trim(void)
{
	char tmpl[] = "/tmp/sse-unit.XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	pc_set_out_root(tmpl);
	struct stream *s = stream_new(STREAM_SESSION);
	stream_set_session(s, "sess_trim");
	static char rec[4096];
	long n = 0;
	while (s->first_id == 1 && n < 100000) {
		n++;
		snprintf(rec, sizeof rec, "{\"type\":\"x\",\"n\":%ld,\"pad\":\"%03000d\"}", n, 0);
		stream_append(s, rec, strlen(rec));
	}
	ok(s->first_id > 1 && s->framed.len <= SSE_STREAM_MEM_MAX, "trim: memory bounded (first id %ld after %ld records)", s->first_id, n);
	is_num(s->last_id, n, 0, "trim: ids go on counting");
	long gap;
	is_num(stream_pos_after(s, 0, &gap), s->base, 0, "trim: a client from the start begins at the oldest kept");
	is_num(gap, 1, 0, "trim: and the ids before it are a gap to read from disk");
	struct buf old = {0};
	ok(stream_read_saved(s, 2, 3, &old) == 0, "trim: events.ndjson read back");
	ok(!strncmp(old.data, "id: 2\ndata: {\"type\":\"x\",\"n\":2,", 29) && strstr(old.data, "\n\nid: 3\ndata: ") &&
	   !strstr(old.data, "id: 4\n"), "trim: events 2..3 framed with their ids");
	buf_free(&old);
	stream_free(s);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	ok(system(cmd) == 0, "trim: scratch removed");
}

static void test_remove_tree(void)
{
	char tmpl[] = "/tmp/sse-unit.XXXXXX", p[PATH_MAX + 64];
	if (!mkdtemp(tmpl))
		abort();
	snprintf(p, sizeof p, "%s/keep", tmpl);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/keep/precious", tmpl);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(p, sizeof p, "%s/sess/sub", tmpl);
	pc_mkdirs(p);
	snprintf(p, sizeof p, "%s/sess/sub/f", tmpl);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(p, sizeof p, "%s/sess/link", tmpl);
	char target[PATH_MAX + 16];
	snprintf(target, sizeof target, "%s/keep", tmpl);
	if (symlink(target, p) < 0)
		abort();
	int dfd = open(tmpl, O_RDONLY | O_DIRECTORY);
	ok(remove_tree_at(dfd, "sess", 8) == 0, "remove_tree: removes a folder tree");
	close(dfd);
	struct stat st;
	snprintf(p, sizeof p, "%s/sess", tmpl);
	ok(stat(p, &st) < 0, "remove_tree: the folder is gone");
	snprintf(p, sizeof p, "%s/keep/precious", tmpl);
	ok(stat(p, &st) == 0, "remove_tree: a symlink's target is left alone");
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	ok(system(cmd) == 0, "remove_tree: scratch removed");
}

int main(void)
{
	test_request();
	test_status();
	test_range();
	test_dates();
	test_path_clean();
	test_path_open();
	test_listen_parse();
	test_stream();
	test_trim();
	test_remove_tree();
	return done_testing();
}
