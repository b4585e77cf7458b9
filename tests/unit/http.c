/* common/http and the service clients against tests/fake-api.py: the normal
 * path, and each fault (429 + Retry-After, Gemini retryDelay, 500 then
 * success, backoff spacing, no retry on 4xx with the service's message and
 * no key, malformed JSON, reset, no answer, refused connection), uploads
 * (progress, resume after a reset, processing, failure), speech, quota,
 * parallel requests and cancel.  Spacing is read from the fake's log. */
#define _GNU_SOURCE
#include "pc.h"
#include "tap.h"
#include "http.h"
#include "api_common.h"
#include "api_gemini.h"
#include "api_openai.h"
#include "api_elevenlabs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_OPENAI "sk-test-SECRET-0123456789"
#define KEY_GEMINI "AIza-test-SECRET-gemini"
#define KEY_ELEVEN "xi-test-SECRET-eleven"
#define FAKE_START_TIMEOUT 20.0   /* s for python to come up on a busy machine */

static struct loop *L;
static struct proc fake;
static char dir[PATH_MAX - 64], base[128], video[PATH_MAX];
static struct api_client gemini, openai, eleven;

/* ---- driving requests to the end ---- */

struct result {
	int done;
	struct http_resp resp;      /* copy; body taken */
	char hdr_upload_url[HTTP_URL_MAX];
};

static void on_result(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct result *res = arg;
	(void)r;
	res->done = 1;
	res->resp = *resp;
	memset(&resp->body, 0, sizeof resp->body);     /* taken */
	memset(&resp->headers, 0, sizeof resp->headers);
}

static void run_until(int *flag, double limit)
{
	double end = pc_now() + limit;
	while (!*flag && pc_now() < end)
		loop_run_once(L, 100);
}

static void run(struct http_req *r, struct result *res)
{
	memset(res, 0, sizeof *res);
	http_start(L, r, on_result, res);
	run_until(&res->done, 120);
}

static void result_free(struct result *res)
{
	buf_free(&res->resp.body);
	buf_free(&res->resp.headers);
}

static void control(const char *path, const char *json)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct http_req *r = http_new("fake", json ? "POST" : "GET", url);
	if (json)
		http_body_data(r, json, strlen(json), "application/json");
	struct result res;
	run(r, &res);
	if (!res.resp.ok)
		printf("# control %s failed: %s\n", path, res.resp.error);
	result_free(&res);
}

static void fault(const char *json)
{
	control("/_fake/fault", json);
}

static void reset(void)
{
	control("/_fake/reset", "{}");
}

/* The fake's log: one record per request. */
static json_object *fake_log(void)
{
	char url[256];
	snprintf(url, sizeof url, "%s/_fake/log", base);
	struct http_req *r = http_new("fake", "GET", url);
	struct result res;
	run(r, &res);
	json_object *list = json_object_new_array();
	char *save = NULL;
	for (char *line = strtok_r(res.resp.body.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		if (o)
			json_object_array_add(list, o);
	}
	result_free(&res);
	return list;
}

/* Arrival times of the logged requests to endpoint. */
static int arrivals(json_object *log, const char *endpoint, double *t, int max)
{
	int n = 0;
	for (size_t i = 0; i < json_object_array_length(log) && n < max; i++) {
		json_object *e = json_object_array_get_idx(log, i);
		const char *ep = rec_str(e, "endpoint");
		if (ep && !strcmp(ep, endpoint))
			rec_num(e, "t", &t[n++]);
	}
	return n;
}

static int log_has(json_object *log, const char *needle)
{
	const char *s = json_object_to_json_string(log);
	return strstr(s, needle) != NULL;
}

/* ---- requests used below ---- */

static struct http_req *chat_req(struct api_client *c, const char *text)
{
	json_object *parts = json_object_new_array();
	json_object_array_add(parts, api_openai_text_part(text));
	json_object *body = api_openai_chat_body("gpt-test", "You are a commentator.", parts, "commentary",
						 api_line_schema(API_DIALECT_OPENAI));
	struct http_req *r = api_openai_req(c, "chat/completions", "chat", body);
	json_object_put(body);
	return r;
}

static void set_opts(struct api_client *c, int retries, double backoff, double timeout)
{
	c->opts.retries = retries;
	c->opts.backoff = backoff;
	c->opts.timeout = timeout;
	c->opts.connect_timeout = 5;
}

/* ---- tests ---- */

static void test_normal(void)
{
	reset();
	struct result res;
	run(chat_req(&openai, "Write at most 8 words about a goal."), &res);
	ok(res.resp.ok && res.resp.status == 200 && res.resp.attempts == 1, "chat: 200 at the first attempt");
	struct buf content = {0};
	char err[256], line[API_TEXT_MAX];
	ok(api_openai_parse_chat(res.resp.body.data, res.resp.body.len, &content, err, sizeof err) == 0,
	   "chat: choices[0].message.content parsed");
	ok(api_parse_line(content.data, content.len, 8, line, sizeof line, err, sizeof err) == 0 && *line,
	   "chat: the content is {\"text\"} per the schema");
	buf_free(&content);
	result_free(&res);
	json_object *log = fake_log();
	json_object *e = json_object_array_get_idx(log, 0);
	json_object *hdrs = api_get(e, "headers");
	ok(json_object_get_boolean(api_get(hdrs, "authorization")), "chat: the fake saw the Authorization header");
	is_str(rec_str(hdrs, "content-type"), "application/json", "chat: JSON content type");
	json_object *rf = api_get(api_get(e, "json"), "response_format");
	is_str(rec_str(rf, "type"), "json_schema", "chat: response_format json_schema");
	ok(json_object_get_boolean(api_get(api_get(rf, "json_schema"), "strict")), "chat: strict schema");
	ok(!log_has(log, KEY_OPENAI), "chat: the key is nowhere in what the fake logged");
	ok(!json_object_get_boolean(api_get(e, "key_in_url")), "chat: no key in the URL");
	json_object_put(log);
}

static void test_retry_after(void)
{
	reset();
	set_opts(&openai, 4, 0.05, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"429\",\"retry_after\":1,\"count\":2}");
	struct result res;
	run(chat_req(&openai, "at most 5 words"), &res);
	ok(res.resp.ok && res.resp.attempts == 3, "429 twice with Retry-After: 1, then 200 (3 attempts)");
	result_free(&res);
	json_object *log = fake_log();
	double t[8];
	int n = arrivals(log, "chat", t, 8);
	is_num(n, 3, 0, "429: the fake saw 3 requests");
	ok(n == 3 && t[1] - t[0] >= 0.98 && t[2] - t[1] >= 0.98, "429: each retry waited the 1 s asked");
	if (n == 3)
		printf("# gaps %.3f %.3f\n", t[1] - t[0], t[2] - t[1]);
	json_object_put(log);

	reset();
	fault("{\"endpoint\":\"chat\",\"mode\":\"429\",\"retry_after\":2,\"retry_after_date\":true,\"count\":1}");
	run(chat_req(&openai, "at most 5 words"), &res);
	log = fake_log();
	n = arrivals(log, "chat", t, 8);
	ok(res.resp.ok && n == 2 && t[1] - t[0] >= 0.9, "Retry-After as an HTTP date is honoured");
	result_free(&res);
	json_object_put(log);

	reset();
	set_opts(&gemini, 4, 0.05, 30);
	fault("{\"endpoint\":\"generate\",\"mode\":\"429\",\"retry_delay\":\"1.5s\",\"count\":1}");
	json_object *body = api_gemini_text_body("Write at most 6 words.", api_line_schema(API_DIALECT_GEMINI));
	run(api_gemini_generate_req(&gemini, "gemini-test", body), &res);
	log = fake_log();
	n = arrivals(log, "generate", t, 8);
	ok(res.resp.ok && n == 2 && t[1] - t[0] >= 1.45, "Gemini RetryInfo retryDelay 1.5s is honoured");
	result_free(&res);
	json_object_put(log);

	reset();
	set_opts(&openai, 4, 0.05, 30);
	openai.opts.retry_after_max = 5;
	fault("{\"endpoint\":\"chat\",\"mode\":\"429\",\"retry_after\":3600,\"count\":1}");
	double t0 = pc_now();
	run(chat_req(&openai, "x"), &res);
	ok(!res.resp.ok && res.resp.attempts == 1 && pc_now() - t0 < 3, "a wait longer than the limit fails at once");
	ok(strstr(res.resp.error, "retry after 3600 s") != NULL, "... saying how long the service asked");
	printf("# %s\n", res.resp.error);
	result_free(&res);
	openai.opts.retry_after_max = HTTP_RETRY_AFTER_MAX;
	json_object_put(body);
}

static void test_5xx_and_backoff(void)
{
	reset();
	set_opts(&openai, 4, 0.2, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"500\",\"count\":1}");
	struct result res;
	run(chat_req(&openai, "x"), &res);
	ok(res.resp.ok && res.resp.attempts == 2, "500 then success: 2 attempts, ok");
	result_free(&res);

	reset();
	fault("{\"endpoint\":\"chat\",\"mode\":\"500\",\"status\":503,\"count\":3}");
	run(chat_req(&openai, "x"), &res);
	json_object *log = fake_log();
	double t[8];
	int n = arrivals(log, "chat", t, 8);
	ok(res.resp.ok && n == 4, "503 three times, then 200: 4 requests");
	if (n == 4) {
		double g1 = t[1] - t[0], g2 = t[2] - t[1], g3 = t[3] - t[2];
		printf("# backoff gaps %.3f %.3f %.3f\n", g1, g2, g3);
		ok(g1 >= 0.1 && g1 < 1.0, "backoff 1 in [0.1, 0.2] s (+ slack for a busy machine)");
		ok(g2 >= 0.2 && g2 < 1.5, "backoff 2 in [0.2, 0.4] s");
		ok(g3 >= 0.4 && g3 < 2.5, "backoff 3 in [0.4, 0.8] s");
		ok(g3 > g1, "the backoff grows");
	} else {
		for (int i = 0; i < 4; i++)
			ok(0, "backoff gaps measured");
	}
	result_free(&res);
	json_object_put(log);

	reset();
	set_opts(&openai, 2, 0.05, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"500\",\"status\":502,\"count\":-1,\"message\":\"upstream is down\"}");
	run(chat_req(&openai, "x"), &res);
	ok(!res.resp.ok && res.resp.attempts == 3 && res.resp.status == 502, "retries run out: 3 attempts, 502 kept");
	ok(strstr(res.resp.error, "upstream is down") != NULL, "the service's message is in the error");
	printf("# %s\n", res.resp.error);
	result_free(&res);
	reset();
}

static void test_no_retry(void)
{
	static const int codes[] = {400, 401, 403};
	struct result res;
	set_opts(&openai, 4, 0.05, 30);
	for (size_t i = 0; i < 3; i++) {
		reset();
		char f[256];
		snprintf(f, sizeof f, "{\"endpoint\":\"chat\",\"mode\":\"status\",\"status\":%d,"
			 "\"message\":\"Exact words %d from the service.\"}", codes[i], codes[i]);
		fault(f);
		run(chat_req(&openai, "x"), &res);
		char want[128], name[128];
		snprintf(want, sizeof want, "OpenAI chat: HTTP %d invalid_request_error: Exact words %d from the service.",
			 codes[i], codes[i]);
		if (codes[i] == 403)
			snprintf(want, sizeof want, "OpenAI chat: HTTP 403 permission_error: Exact words 403 from the service.");
		snprintf(name, sizeof name, "HTTP %d: no retry", codes[i]);
		ok(!res.resp.ok && res.resp.attempts == 1, "%s", name);
		snprintf(name, sizeof name, "HTTP %d: the service's message verbatim", codes[i]);
		is_str(res.resp.error, want, name);
		result_free(&res);
	}
	/* A wrong key: the real service quotes it back; the key is cut out. */
	reset();
	struct api_client wrong = openai;
	wrong.key = "sk-wrong-KEY-quoted-back-42";
	run(chat_req(&wrong, "x"), &res);
	ok(!res.resp.ok && res.resp.status == 401 && res.resp.attempts == 1, "wrong key: 401, no retry");
	ok(strstr(res.resp.error, "sk-wrong-KEY-quoted-back-42") == NULL, "wrong key: the key is not in the message");
	ok(strstr(res.resp.error, "Incorrect API key provided: ***.") != NULL, "wrong key: the rest of the message stays");
	printf("# %s\n", res.resp.error);
	result_free(&res);
	/* Gemini without a key: 403 from the service, shown as it is. */
	reset();
	struct api_client nokey = gemini;
	nokey.key = NULL;
	json_object *body = api_gemini_text_body("hi", api_line_schema(API_DIALECT_GEMINI));
	run(api_gemini_generate_req(&nokey, "gemini-test", body), &res);
	ok(res.resp.status == 403 && res.resp.attempts == 1 && strstr(res.resp.error, "PERMISSION_DENIED: Method doesn't allow"),
	   "no Gemini key: 403 PERMISSION_DENIED shown, no retry");
	json_object_put(body);
	result_free(&res);
	/* Insufficient quota is a 429 that no wait cures. */
	reset();
	fault("{\"endpoint\":\"chat\",\"mode\":\"quota\"}");
	run(chat_req(&openai, "x"), &res);
	ok(!res.resp.ok && res.resp.status == 429 && res.resp.attempts == 1 && !strcmp(res.resp.svc.status, "insufficient_quota"),
	   "OpenAI insufficient_quota: 429 without retry");
	result_free(&res);
}

static void test_malformed(void)
{
	reset();
	fault("{\"endpoint\":\"generate\",\"mode\":\"malformed\"}");
	json_object *body = api_gemini_text_body("hi", api_line_schema(API_DIALECT_GEMINI));
	struct result res;
	run(api_gemini_generate_req(&gemini, "gemini-test", body), &res);
	struct buf text = {0};
	char err[256];
	ok(res.resp.ok, "malformed: HTTP 200");
	ok(api_gemini_parse_generate(res.resp.body.data, res.resp.body.len, &text, err, sizeof err) < 0,
	   "malformed: the parser refuses it");
	ok(!strncmp(err, "not JSON: ", 10), "malformed: a clear reason");
	printf("# %s\n", err);
	buf_free(&text);
	result_free(&res);
	json_object_put(body);
}

/* A loopback port nothing listens on: one the kernel just handed out. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		pc_die(1, "closed_port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

static void test_reset_and_hang(void)
{
	struct result res;
	reset();
	set_opts(&openai, 3, 0.05, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"reset\",\"count\":1}");
	run(chat_req(&openai, "x"), &res);
	/* curl itself sends again at once when a reused connection dies
	 * before any answer; either way the request was sent twice. */
	json_object *log = fake_log();
	double t[4];
	ok(res.resp.ok && arrivals(log, "chat", t, 4) == 2, "reset once: sent again, then ok");
	json_object_put(log);
	result_free(&res);

	reset();
	set_opts(&openai, 1, 0.05, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"reset\",\"count\":-1}");
	run(chat_req(&openai, "x"), &res);
	ok(!res.resp.ok && res.resp.status == 0 && res.resp.attempts == 2, "reset always: fails after the retries");
	ok(strstr(res.resp.error, "connection") != NULL, "reset: the message says the connection broke");
	printf("# %s\n", res.resp.error);
	result_free(&res);

	reset();
	set_opts(&openai, 1, 0.05, 1.0);
	fault("{\"endpoint\":\"chat\",\"mode\":\"hang\",\"count\":-1}");
	double t0 = pc_now();
	run(chat_req(&openai, "x"), &res);
	double took = pc_now() - t0;
	ok(!res.resp.ok && res.resp.attempts == 2 && res.resp.transport == 28, "no answer: timed out twice");
	ok(took >= 2.0 && took < 10, "no answer: each attempt waited its 1 s timeout");
	is_str(res.resp.error, "OpenAI chat: no complete answer within 1 s", "no answer: the message");
	result_free(&res);

	reset();
	set_opts(&openai, 3, 0.05, 5);
	fault("{\"endpoint\":\"chat\",\"mode\":\"slow\",\"delay\":1.2}");
	t0 = pc_now();
	run(chat_req(&openai, "x"), &res);
	ok(res.resp.ok && res.resp.attempts == 1 && pc_now() - t0 >= 1.2, "slow answer within the timeout: ok");
	result_free(&res);
	reset();

	struct api_client refused = openai;
	snprintf(refused.base, sizeof refused.base, "http://127.0.0.1:%d/v1", closed_port());
	set_opts(&refused, 1, 0.05, 5);
	run(chat_req(&refused, "x"), &res);
	ok(!res.resp.ok && res.resp.attempts == 2 && res.resp.status == 0, "refused connection: retried, then failed");
	printf("# %s\n", res.resp.error);
	result_free(&res);
}

static void test_parallel_and_cancel(void)
{
	reset();
	set_opts(&openai, 0, 0.05, 30);
	fault("{\"endpoint\":\"chat\",\"mode\":\"slow\",\"delay\":1.0,\"count\":4}");
	struct result res[4];
	memset(res, 0, sizeof res);
	for (int i = 0; i < 4; i++)
		http_start(L, chat_req(&openai, "x"), on_result, &res[i]);
	ok(http_in_flight() == 4, "4 requests in flight on one loop");
	int all = 0;
	double end = pc_now() + 30;
	while (!all && pc_now() < end) {
		loop_run_once(L, 100);
		all = res[0].done && res[1].done && res[2].done && res[3].done;
	}
	ok(all && res[0].resp.ok && res[3].resp.ok, "all 4 answered");
	json_object *log = fake_log();
	double t[8];
	int n = arrivals(log, "chat", t, 8);
	double lo = t[0], hi = t[0];
	for (int i = 1; i < n; i++) {
		lo = t[i] < lo ? t[i] : lo;
		hi = t[i] > hi ? t[i] : hi;
	}
	ok(n == 4 && hi - lo < 0.9, "the 4 slow requests were at the fake together, not one after another");
	for (int i = 0; i < 4; i++)
		result_free(&res[i]);
	json_object_put(log);

	reset();
	fault("{\"endpoint\":\"chat\",\"mode\":\"hang\"}");
	struct result never;
	memset(&never, 0, sizeof never);
	struct http_req *r = chat_req(&openai, "x");
	http_start(L, r, on_result, &never);
	double stop = pc_now() + 0.3;
	while (pc_now() < stop)
		loop_run_once(L, 50);
	http_cancel(r);
	ok(!never.done && http_in_flight() == 0 && loop_idle(L), "cancel: no callback, nothing left on the loop");
	reset();
}

/* ---- uploads ---- */

struct up_state {
	int done;
	struct api_gemini_file file;
	char err[HTTP_ERR_MAX];
	int ok;
	long long last_sent, total;
	int progress_calls, monotonic;
	long status;
};

static void on_progress(void *arg, long long sent, long long total)
{
	struct up_state *s = arg;
	if (sent < s->last_sent)
		s->monotonic = 0;
	s->last_sent = sent;
	s->total = total;
	s->progress_calls++;
}

static void on_uploaded(struct gemini_upload *u, const struct api_gemini_file *f, const char *err, long status,
			void *arg)
{
	struct up_state *s = arg;
	(void)u;
	s->status = status;
	s->done = 1;
	s->ok = f != NULL;
	if (f)
		s->file = *f;
	snprintf(s->err, sizeof s->err, "%s", err ? err : "");
}

static void upload(struct up_state *s, long long size)
{
	memset(s, 0, sizeof *s);
	s->monotonic = 1;
	gemini_upload_start(L, &gemini, video, 0, size, "video/mp4", "match.mp4", on_progress, s, on_uploaded, s);
	run_until(&s->done, 120);
}

static long long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static void test_upload(void)
{
	long long size = file_size(video);
	struct up_state s;
	reset();
	set_opts(&gemini, 3, 0.05, 60);
	upload(&s, size);
	ok(s.ok, "upload: done");
	is_str(s.file.state, "ACTIVE", "upload: the file is ACTIVE");
	ok(!strncmp(s.file.name, "files/", 6) && !strncmp(s.file.uri, "http://127.0.0.1:", 17), "upload: name and uri");
	ok(s.progress_calls > 0 && s.monotonic && s.last_sent == size && s.total == size,
	   "upload: progress goes up to the whole size");
	json_object *log = fake_log();
	json_object *start = json_object_array_get_idx(log, 0), *bytes = json_object_array_get_idx(log, 1);
	json_object *h = api_get(start, "headers");
	is_str(rec_str(start, "endpoint"), "upload_start", "upload: starts with the start command");
	is_str(rec_str(h, "x-goog-upload-protocol"), "resumable", "upload: resumable protocol");
	is_str(rec_str(h, "x-goog-upload-command"), "start", "upload: command start");
	char sz[32];
	snprintf(sz, sizeof sz, "%lld", size);
	is_str(rec_str(h, "x-goog-upload-header-content-length"), sz, "upload: announced length");
	is_str(rec_str(h, "x-goog-upload-header-content-type"), "video/mp4", "upload: announced type");
	is_str(rec_str(api_get(api_get(start, "json"), "file"), "display_name"), "match.mp4", "upload: display_name");
	h = api_get(bytes, "headers");
	is_str(rec_str(h, "x-goog-upload-command"), "upload, finalize", "upload: then upload, finalize");
	is_str(rec_str(h, "x-goog-upload-offset"), "0", "upload: from offset 0");
	ok(json_object_get_boolean(api_get(h, "x-goog-api-key")), "upload: the key header goes to the upload URL (same host)");
	ok(!log_has(log, KEY_GEMINI), "upload: the key is not in the log");
	json_object_put(log);

	/* One analysis with videoMetadata: the burst at 23 s. */
	reset();
	char prompt[2048];
	struct buf pb = {0};
	api_detect_prompt(&pb, 20, 10, 1, "en");
	snprintf(prompt, sizeof prompt, "%s", buf_cstr(&pb));
	buf_free(&pb);
	json_object *body = api_gemini_video_body(s.file.uri, "video/mp4", 20, 30, prompt, api_events_schema(API_DIALECT_GEMINI, 1));
	struct result res;
	run(api_gemini_generate_req(&gemini, "gemini-test", body), &res);
	json_object_put(body);
	struct buf text = {0};
	char err[256];
	ok(res.resp.ok && api_gemini_parse_generate(res.resp.body.data, res.resp.body.len, &text, err, sizeof err) == 0,
	   "generateContent on the file: answered");
	json_object *evs = api_parse_events(text.data, text.len, 20, 30, err, sizeof err);
	ok(evs && json_object_array_length(evs) == 1, "the window 20-30 s holds one event");
	double t = 0;
	if (evs && json_object_array_length(evs))
		rec_num(json_object_array_get_idx(evs, 0), "t", &t);
	ok(t >= 23 && t <= 23.6, "the event is at the burst, in match time (%.2f)", t);
	ok(evs && json_object_array_length(evs) && rec_str(json_object_array_get_idx(evs, 0), "line"),
	   "the event carries a commentary line");
	json_object_put(evs);
	buf_free(&text);
	result_free(&res);
	log = fake_log();
	json_object *vm = api_get(json_object_array_get_idx(api_get(json_object_array_get_idx(api_get(
		api_get(json_object_array_get_idx(log, 0), "json"), "contents"), 0), "parts"), 0), "videoMetadata");
	is_str(rec_str(vm, "startOffset"), "20s", "videoMetadata.startOffset \"20s\"");
	is_str(rec_str(vm, "endOffset"), "30s", "videoMetadata.endOffset \"30s\"");
	json_object_put(log);

	/* A refused key: the status comes back with the error, for a backend
	 * to stop at once. */
	reset();
	struct api_client bad = gemini;
	bad.key = "AIza-wrong";
	memset(&s, 0, sizeof s);
	gemini_upload_start(L, &bad, video, 0, size, "video/mp4", "m", NULL, NULL, on_uploaded, &s);
	run_until(&s.done, 60);
	ok(!s.ok && s.status == 400 && strstr(s.err, "API key not valid"), "upload with a wrong key: 400 and the service's words");

	/* Cut off part-way: query, then resume from what arrived. */
	reset();
	fault("{\"endpoint\":\"upload\",\"mode\":\"reset\",\"reset_after\":300000}");
	upload(&s, size);
	ok(s.ok, "upload reset part-way: done anyway (%s)", s.err);
	log = fake_log();
	int queries = 0, resumed = 0;
	for (size_t i = 0; i < json_object_array_length(log); i++) {
		json_object *e = json_object_array_get_idx(log, i);
		const char *ep = rec_str(e, "endpoint");
		if (ep && !strcmp(ep, "upload_query"))
			queries++;
		const char *off = rec_str(api_get(e, "headers"), "x-goog-upload-offset");
		if (ep && !strcmp(ep, "upload") && off && atoll(off) == 300000)
			resumed++;
	}
	ok(queries == 1, "upload reset: asked what arrived (X-Goog-Upload-Command: query)");
	ok(resumed == 1, "upload reset: resumed at offset 300000");
	json_object_put(log);
}

/* A second fake whose files stay PROCESSING for a while. */
static void test_processing(const char *fake_path)
{
	char pf[PATH_MAX + 16], log[PATH_MAX + 16];
	snprintf(pf, sizeof pf, "%s/port2", dir);
	snprintf(log, sizeof log, "%s/log2", dir);
	char *argv[] = {"python3", (char *)fake_path, "--port-file", pf, "--log", log, "--processing", "0.8", NULL};
	struct proc p2;
	if (proc_spawn(&p2, argv, PROC_STDOUT_NULL) < 0) {
		ok(0, "second fake starts");
		return;
	}
	double end = pc_now() + FAKE_START_TIMEOUT;
	while (access(pf, F_OK) < 0 && pc_now() < end)
		usleep(50000);
	FILE *fp = fopen(pf, "r");
	int port = 0;
	if (fp) {
		if (fscanf(fp, "%d", &port) != 1)
			port = 0;
		fclose(fp);
	}
	struct api_client g2 = gemini;
	snprintf(g2.base, sizeof g2.base, "http://127.0.0.1:%d", port);
	struct up_state s;
	memset(&s, 0, sizeof s);
	gemini_upload_start(L, &g2, video, 0, file_size(video), "video/mp4", "m", NULL, NULL, on_uploaded, &s);
	run_until(&s.done, 60);
	ok(s.ok && !strcmp(s.file.state, "ACTIVE"), "processing: polled until ACTIVE");
	is_num(s.file.video_duration, 40, 0.15, "processing: videoMetadata.videoDuration read");
	FILE *lf = fopen(log, "r");
	int gets = 0;
	char line[65536];
	while (lf && fgets(line, sizeof line, lf))
		gets += strstr(line, "\"endpoint\": \"files_get\"") != NULL;
	if (lf)
		fclose(lf);
	ok(gets >= 2, "processing: files.get asked more than once (%d)", gets);

	/* The service gives up on the file: FAILED is an error. */
	char url[API_BASE_MAX + 32], body[] = "{\"endpoint\":\"files_get\",\"mode\":\"failed\"}";
	snprintf(url, sizeof url, "%s/_fake/fault", g2.base);
	struct http_req *r = http_new("fake", "POST", url);
	http_body_data(r, body, strlen(body), "application/json");
	struct result res;
	run(r, &res);
	result_free(&res);
	memset(&s, 0, sizeof s);
	gemini_upload_start(L, &g2, video, 0, file_size(video), "video/mp4", "m", NULL, NULL, on_uploaded, &s);
	run_until(&s.done, 60);
	ok(!s.ok && strstr(s.err, "could not be processed: Video could not be processed"), "FAILED file: an error with the reason");
	printf("# %s\n", s.err);
	kill(-p2.pid, SIGTERM);
	proc_wait(&p2);
}

static void test_speech(void)
{
	struct result res;
	char err[256];
	reset();
	json_object *body = api_elevenlabs_tts_body("What a goal that was!", ELEVENLABS_MODEL_DEFAULT, 0.5, 0.75);
	run(api_elevenlabs_tts_req(&eleven, ELEVENLABS_VOICE_DEFAULT, ELEVENLABS_FORMAT_DEFAULT, body), &res);
	ok(res.resp.ok && api_check_audio(res.resp.body.data, res.resp.body.len, ELEVENLABS_FORMAT_DEFAULT, err, sizeof err) == 0,
	   "ElevenLabs: mp3 audio");
	result_free(&res);
	json_object *log = fake_log();
	json_object *e = json_object_array_get_idx(log, 0);
	is_str(rec_str(e, "path"), "/v1/text-to-speech/" ELEVENLABS_VOICE_DEFAULT, "ElevenLabs: voice in the path");
	is_str(json_object_get_string(json_object_array_get_idx(api_get(api_get(e, "query"), "output_format"), 0)),
	       "mp3_44100_128", "ElevenLabs: output_format query");
	is_str(rec_str(api_get(e, "json"), "model_id"), ELEVENLABS_MODEL_DEFAULT, "ElevenLabs: model_id");
	ok(json_object_get_boolean(api_get(api_get(e, "headers"), "xi-api-key")), "ElevenLabs: xi-api-key header");
	json_object_put(log);

	reset();
	fault("{\"endpoint\":\"tts\",\"mode\":\"quota\"}");
	run(api_elevenlabs_tts_req(&eleven, ELEVENLABS_VOICE_DEFAULT, ELEVENLABS_FORMAT_DEFAULT, body), &res);
	ok(res.resp.status == 401 && res.resp.attempts == 1 && api_elevenlabs_quota_exceeded(&res.resp),
	   "ElevenLabs quota_exceeded: recognised, not retried");
	printf("# %s\n", res.resp.error);
	result_free(&res);

	reset();
	fault("{\"endpoint\":\"tts\",\"mode\":\"malformed\"}");
	run(api_elevenlabs_tts_req(&eleven, ELEVENLABS_VOICE_DEFAULT, ELEVENLABS_FORMAT_DEFAULT, body), &res);
	ok(res.resp.ok && api_check_audio(res.resp.body.data, res.resp.body.len, "mp3", err, sizeof err) < 0,
	   "ElevenLabs 200 with JSON instead of audio: refused");
	printf("# %s\n", err);
	result_free(&res);
	json_object_put(body);

	reset();
	body = api_openai_speech_body(OPENAI_TTS_MODEL_DEFAULT, "A long ball forward.", OPENAI_VOICE_DEFAULT, "wav", 0);
	run(api_openai_req(&openai, "audio/speech", "speech", body), &res);
	ok(res.resp.ok && api_check_audio(res.resp.body.data, res.resp.body.len, "wav", err, sizeof err) == 0,
	   "OpenAI speech: wav audio");
	result_free(&res);
	json_object_put(body);
	log = fake_log();
	e = api_get(json_object_array_get_idx(log, 0), "json");
	ok(!strcmp(rec_str(e, "voice"), OPENAI_VOICE_DEFAULT) && !strcmp(rec_str(e, "response_format"), "wav") &&
	   !strcmp(rec_str(e, "input"), "A long ball forward."), "OpenAI speech: voice, format, input");
	json_object_put(log);
}

static int start_fake(const char *fake_path)
{
	char pf[PATH_MAX + 16];
	snprintf(pf, sizeof pf, "%s/port", dir);
	char *argv[] = {"python3", (char *)fake_path, "--port-file", pf,
			"--expect-key", "openai=" KEY_OPENAI, "--expect-key", "gemini=" KEY_GEMINI,
			"--expect-key", "elevenlabs=" KEY_ELEVEN, "--hang", "30", NULL};
	if (proc_spawn(&fake, argv, PROC_STDOUT_NULL) < 0)
		return -1;
	double end = pc_now() + FAKE_START_TIMEOUT;
	while (access(pf, F_OK) < 0 && pc_now() < end)
		usleep(50000);
	FILE *fp = fopen(pf, "r");
	int port = 0;
	if (!fp)
		return -1;
	if (fscanf(fp, "%d", &port) != 1)
		port = 0;
	fclose(fp);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	return port ? 0 : -1;
}

static void clients(void)
{
	char err[256];
	setenv("GEMINI_API_KEY", KEY_GEMINI, 1);
	setenv("OPENAI_API_KEY", KEY_OPENAI, 1);
	setenv("ELEVENLABS_API_KEY", KEY_ELEVEN, 1);
	char b[256];
	setenv("GEMINI_BASE_URL", base, 1);
	snprintf(b, sizeof b, "%s/v1", base);
	setenv("OPENAI_BASE_URL", b, 1);
	setenv("ELEVENLABS_BASE_URL", base, 1);
	if (api_client_init(&gemini, API_GEMINI, err, sizeof err) < 0 ||
	    api_client_init(&openai, API_OPENAI, err, sizeof err) < 0 ||
	    api_client_init(&eleven, API_ELEVENLABS, err, sizeof err) < 0)
		pc_die(1, "%s", err);
}

int main(void)
{
	pc_init("http-test");
	const char *src = getenv("PLAYCALL_SRC");
	char fake_path[PATH_MAX];
	snprintf(fake_path, sizeof fake_path, "%s/tests/fake-api.py", src ? src : ".");
	snprintf(dir, sizeof dir, "%s/http-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		pc_die(1, "mkdtemp");
	snprintf(video, sizeof video, "%s/v.mp4", dir);
	/* 40 s, loud bursts at 5 and 23 s (as tests/lib.sh make_video). */
	char *mk[] = {"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
		      "testsrc2=size=160x90:rate=10:duration=40", "-f", "lavfi", "-i",
		      "anoisesrc=color=pink:amplitude=0.03:sample_rate=44100:duration=40:seed=7,"
		      "volume=volume='1+25*(between(t,5,6.2)+between(t,23,24.2))':eval=frame",
		      "-c:v", "libx264", "-preset", "ultrafast", "-g", "20", "-pix_fmt", "yuv420p",
		      "-c:a", "aac", "-b:a", "64k", "-shortest", video, NULL};
	struct proc mp;
	if (proc_run(&mp, mk, NULL, 120000) != 0)
		pc_die(1, "ffmpeg: %s", mp.err);
	L = loop_new();
	if (start_fake(fake_path) < 0) {
		printf("1..0 # SKIP the fake API server did not start\n");
		return 0;
	}
	clients();
	test_normal();
	test_retry_after();
	test_5xx_and_backoff();
	test_no_retry();
	test_malformed();
	test_reset_and_hang();
	test_parallel_and_cancel();
	test_upload();
	test_processing(fake_path);
	test_speech();
	kill(-fake.pid, SIGTERM);
	proc_wait(&fake);
	api_client_free(&gemini);
	api_client_free(&openai);
	api_client_free(&eleven);
	loop_free(L);
	char *rm[] = {"rm", "-rf", dir, NULL};
	proc_run(&mp, rm, NULL, 30000);
	return done_testing();
}
