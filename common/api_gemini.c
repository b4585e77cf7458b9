/* Gemini: codecs and the Files API upload.  See api_gemini.h. */
#define _GNU_SOURCE
#include "api_gemini.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsers ---- */

double api_gemini_parse_duration(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	double d = strtod(s, &end);
	if (end == s || strcmp(end, "s") || !isfinite(d) || d < 0)
		return -1;
	return d;
}

char *api_gemini_duration(double seconds, char *out, size_t n)
{
	if (!(seconds >= 0))
		seconds = 0;
	/* Milliseconds at most, no trailing zeros: "12s", "12.5s". */
	snprintf(out, n, "%.3f", seconds);
	char *dot = strchr(out, '.');
	if (dot) {
		char *e = out + strlen(out);
		while (e > dot + 1 && e[-1] == '0')
			*--e = '\0';
		if (e == dot + 1)
			*dot = '\0';
	}
	size_t l = strlen(out);
	if (l + 1 < n) {
		out[l] = 's';
		out[l + 1] = '\0';
	}
	return out;
}

int api_gemini_parse_error(const char *body, size_t len, struct http_service_error *e)
{
	char err[128];
	memset(e, 0, sizeof *e);
	json_object *root = api_parse_json(body, len, err, sizeof err);
	if (!root)
		return -1;
	json_object *top = root;
	if (json_object_is_type(root, json_type_array) && json_object_array_length(root) > 0)
		top = json_object_array_get_idx(root, 0);
	json_object *error = api_get(top, "error");
	const char *msg = api_get_str(error, "message");
	if (!msg) {
		json_object_put(root);
		return -1;
	}
	api_copy_text(e->message, sizeof e->message, msg);
	api_copy_text(e->status, sizeof e->status, api_get_str(error, "status"));
	json_object *details = api_get(error, "details");
	size_t n = details && json_object_is_type(details, json_type_array) ? json_object_array_length(details) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(details, i);
		const char *type = api_get_str(d, "@type");
		if (!type || !strstr(type, "google.rpc.RetryInfo"))
			continue;
		double delay = api_gemini_parse_duration(api_get_str(d, "retryDelay"));
		if (delay >= 0)
			e->retry_delay = delay;
	}
	json_object_put(root);
	return 0;
}

int api_gemini_parse_file(const char *body, size_t len, struct api_gemini_file *f,
			  char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	json_object *root = api_parse_json(body, len, err, errlen);
	if (!root)
		return -1;
	json_object *file = api_get(root, "file");
	if (!file)
		file = root;
	const char *name = api_get_str(file, "name");
	const char *state = api_get_str(file, "state");
	if (!name || !*name || !state) {
		snprintf(err, errlen, "answer is not a File (no name or state)");
		json_object_put(root);
		return -1;
	}
	api_copy_text(f->name, sizeof f->name, name);
	api_copy_text(f->state, sizeof f->state, state);
	api_copy_text(f->uri, sizeof f->uri, api_get_str(file, "uri"));
	const char *mime = api_get_str(file, "mimeType");
	api_copy_text(f->mime, sizeof f->mime, mime ? mime : api_get_str(file, "mime_type"));
	api_copy_text(f->error, sizeof f->error, api_get_str(api_get(file, "error"), "message"));
	json_object *vm = api_get2(file, "videoMetadata", "video_metadata");
	const char *dur = api_get_str(vm, "videoDuration");
	if (!dur)
		dur = api_get_str(vm, "video_duration");
	double d = api_gemini_parse_duration(dur);
	f->video_duration = d > 0 ? d : 0;
	if (!strcmp(f->state, "ACTIVE") && !f->uri[0]) {
		snprintf(err, errlen, "ACTIVE file %s has no uri", f->name);
		json_object_put(root);
		return -1;
	}
	json_object_put(root);
	return 0;
}

int api_gemini_parse_generate(const char *body, size_t len, struct buf *text,
			      char *err, size_t errlen)
{
	json_object *root = api_parse_json(body, len, err, errlen);
	if (!root)
		return -1;
	int rc = -1;
	json_object *cands = api_get(root, "candidates");
	json_object *c0 = cands && json_object_is_type(cands, json_type_array) &&
			  json_object_array_length(cands) > 0 ? json_object_array_get_idx(cands, 0) : NULL;
	json_object *parts = api_get(api_get(c0, "content"), "parts");
	size_t n = parts && json_object_is_type(parts, json_type_array) ? json_object_array_length(parts) : 0;
	buf_reset(text);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		json_object *thought = api_get(p, "thought");
		if (thought && json_object_get_boolean(thought))
			continue;   /* a thinking model's notes are not the answer */
		const char *t = api_get_str(p, "text");
		if (t)
			buf_puts(text, t);
	}
	if (text->len) {
		rc = 0;
	} else {
		const char *block = api_get_str(api_get(root, "promptFeedback"), "blockReason");
		const char *finish = api_get_str(c0, "finishReason");
		if (block)
			snprintf(err, errlen, "the prompt was blocked (%s)", block);
		else if (!c0)
			snprintf(err, errlen, "answer has no candidates");
		else if (finish && strcmp(finish, "STOP"))
			snprintf(err, errlen, "no text in the answer (finishReason %s)", finish);
		else
			snprintf(err, errlen, "no text in the answer");
	}
	json_object_put(root);
	return rc;
}

/* ---- bodies and requests ---- */

static json_object *generation_config(json_object *schema)
{
	json_object *gc = json_object_new_object();
	json_object_object_add(gc, "responseMimeType", json_object_new_string("application/json"));
	json_object_object_add(gc, "responseSchema", schema);
	return gc;
}

static json_object *user_content(json_object *parts)
{
	json_object *content = json_object_new_object();
	json_object_object_add(content, "role", json_object_new_string("user"));
	json_object_object_add(content, "parts", parts);
	json_object *contents = json_object_new_array();
	json_object_array_add(contents, content);
	return contents;
}

/* contents: the video part (if any), then the prompt. */
static json_object *request_body(json_object *video, const char *prompt, json_object *schema)
{
	json_object *text = json_object_new_object();
	json_object_object_add(text, "text", json_object_new_string(prompt));
	json_object *parts = json_object_new_array();
	if (video)
		json_object_array_add(parts, video);
	json_object_array_add(parts, text);
	json_object *body = json_object_new_object();
	json_object_object_add(body, "contents", user_content(parts));
	json_object_object_add(body, "generationConfig", generation_config(schema));
	return body;
}

json_object *api_gemini_video_body(const char *file_uri, const char *mime, double start, double end,
				   const char *prompt, json_object *schema)
{
	json_object *file_data = json_object_new_object();
	json_object_object_add(file_data, "mimeType", json_object_new_string(mime));
	json_object_object_add(file_data, "fileUri", json_object_new_string(file_uri));
	json_object *video = json_object_new_object();
	json_object_object_add(video, "fileData", file_data);
	if (start >= 0 && end > start) {
		char a[32], b[32];
		json_object *vm = json_object_new_object();
		json_object_object_add(vm, "startOffset", json_object_new_string(api_gemini_duration(start, a, sizeof a)));
		json_object_object_add(vm, "endOffset", json_object_new_string(api_gemini_duration(end, b, sizeof b)));
		json_object_object_add(video, "videoMetadata", vm);
	}
	return request_body(video, prompt, schema);
}

json_object *api_gemini_inline_video_body(const void *data, size_t len, const char *mime, const char *prompt,
					  json_object *schema)
{
	struct buf b64 = {0};
	api_base64(data, len, &b64);
	json_object *inline_data = json_object_new_object();
	json_object_object_add(inline_data, "mimeType", json_object_new_string(mime));
	json_object_object_add(inline_data, "data", json_object_new_string_len(b64.data ? b64.data : "", (int)b64.len));
	buf_free(&b64);
	json_object *video = json_object_new_object();
	json_object_object_add(video, "inlineData", inline_data);
	return request_body(video, prompt, schema);
}

json_object *api_gemini_text_body(const char *prompt, json_object *schema)
{
	return request_body(NULL, prompt, schema);
}

struct http_req *api_gemini_generate_req(const struct api_client *c, const char *model, json_object *body)
{
	char path[512], m[256];
	snprintf(path, sizeof path, "v1beta/models/%s:generateContent", http_escape(model, m, sizeof m));
	struct http_req *r = api_request(c, "POST", path);
	http_set_label(r, "generateContent");
	http_body_json(r, body);
	return r;
}

/* ---- the upload ---- */

struct gemini_upload {
	struct loop *loop;
	const struct api_client *client;
	char path[4096];
	long long offset, len;
	char mime[128];
	char upload_url[HTTP_URL_MAX];
	long long sent;              /* bytes the service has (after a query) */
	int resumes;                 /* query + resume rounds so far */
	struct http_req *req;        /* in flight, or NULL */
	double poll_wait, active_deadline;
	int polling;                 /* a poll timer is pending */
	struct api_gemini_file file;
	http_progress_cb progress;
	void *progress_arg;
	gemini_upload_cb done;
	void *arg;
};

static void send_bytes(struct gemini_upload *u);
static void send_query(struct gemini_upload *u);

static void upload_end(struct gemini_upload *u, const char *err, long status)
{
	u->done(u, err ? NULL : &u->file, err, status, u->arg);
	gemini_upload_cancel(u);
}

static void poll_file(struct loop *l, void *arg);

static void on_file(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct gemini_upload *u = arg;
	char err[HTTP_ERR_MAX];
	(void)r;
	u->req = NULL;
	if (!resp->ok) {
		upload_end(u, resp->error, resp->status);
		return;
	}
	if (api_gemini_parse_file(resp->body.data, resp->body.len, &u->file, err, sizeof err) < 0) {
		char msg[HTTP_ERR_MAX + 64];
		snprintf(msg, sizeof msg, "Gemini files: %s", err);
		upload_end(u, msg, 0);
		return;
	}
	if (!strcmp(u->file.state, "ACTIVE")) {
		upload_end(u, NULL, 0);
		return;
	}
	if (!strcmp(u->file.state, "FAILED")) {
		snprintf(err, sizeof err, "Gemini files: %s could not be processed%s%s", u->file.name,
			 u->file.error[0] ? ": " : "", u->file.error);
		upload_end(u, err, 0);
		return;
	}
	if (pc_now() > u->active_deadline) {
		snprintf(err, sizeof err, "Gemini files: %s not ACTIVE after %.0f s (state %s)",
			 u->file.name, GEMINI_ACTIVE_TIMEOUT, u->file.state);
		upload_end(u, err, 0);
		return;
	}
	u->polling = 1;
	loop_add_timer(u->loop, pc_now() + u->poll_wait, poll_file, u);
	u->poll_wait = fmin(u->poll_wait * 1.5, GEMINI_POLL_MAX);
}

static void poll_file(struct loop *l, void *arg)
{
	struct gemini_upload *u = arg;
	u->polling = 0;
	char path[GEMINI_NAME_MAX + 16];
	snprintf(path, sizeof path, "v1beta/%s", u->file.name);
	u->req = api_request(u->client, "GET", path);
	http_set_label(u->req, "files.get");
	http_start(l, u->req, on_file, u);
}

static void on_upload_progress(void *arg, long long sent, long long total)
{
	struct gemini_upload *u = arg;
	(void)total;
	if (u->progress)
		u->progress(u->progress_arg, u->sent + sent, u->len);
}

/* The upload's own answer, or a query's when the service says "final". */
static void on_bytes(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct gemini_upload *u = arg;
	(void)r;
	u->req = NULL;
	if (resp->ok) {
		on_file(NULL, resp, u);
		return;
	}
	/* Cut off: ask how much arrived and go on from there. */
	if (resp->retryable && u->resumes < u->client->opts.retries) {
		u->resumes++;
		send_query(u);
		return;
	}
	upload_end(u, resp->error, resp->status);
}

static void on_query(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct gemini_upload *u = arg;
	char v[64];
	(void)r;
	u->req = NULL;
	if (!resp->ok) {
		upload_end(u, resp->error, resp->status);
		return;
	}
	const char *status = http_resp_header(resp, "X-Goog-Upload-Status", v, sizeof v);
	if (status && !strcmp(status, "final")) {
		on_file(NULL, resp, u);
		return;
	}
	const char *got = http_resp_header(resp, "X-Goog-Upload-Size-Received", v, sizeof v);
	long long n = got ? atoll(got) : 0;
	u->sent = n >= 0 && n <= u->len ? n : 0;
	send_bytes(u);
}

static void send_query(struct gemini_upload *u)
{
	u->req = api_request_url(u->client, "POST", u->upload_url);
	http_set_label(u->req, "upload query");
	http_header(u->req, "X-Goog-Upload-Command", "query");
	http_body_data(u->req, "", 0, NULL);
	http_start(u->loop, u->req, on_query, u);
}

static void send_bytes(struct gemini_upload *u)
{
	char err[512], off[32];
	u->req = api_request_url(u->client, "POST", u->upload_url);
	http_set_label(u->req, "upload");
	/* Retried here by query and resume, not by sending it all again. */
	struct http_opts o = u->client->opts;
	o.retries = 0;
	http_set_opts(u->req, &o);
	snprintf(off, sizeof off, "%lld", u->sent);
	http_header(u->req, "X-Goog-Upload-Command", "upload, finalize");
	http_header(u->req, "X-Goog-Upload-Offset", off);
	if (http_body_file(u->req, u->path, u->offset + u->sent, u->len - u->sent, NULL, err, sizeof err) < 0) {
		http_cancel(u->req);
		u->req = NULL;
		upload_end(u, err, 0);
		return;
	}
	http_set_progress(u->req, on_upload_progress, u);
	http_start(u->loop, u->req, on_bytes, u);
}

static void on_started(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct gemini_upload *u = arg;
	(void)r;
	u->req = NULL;
	if (!resp->ok) {
		upload_end(u, resp->error, resp->status);
		return;
	}
	if (!http_resp_header(resp, "X-Goog-Upload-URL", u->upload_url, sizeof u->upload_url) ||
	    strncmp(u->upload_url, "http", 4)) {
		upload_end(u, "Gemini upload: the answer has no X-Goog-Upload-URL", 0);
		return;
	}
	send_bytes(u);
}

struct gemini_upload *gemini_upload_start(struct loop *l, const struct api_client *c,
					  const char *path, long long offset, long long len,
					  const char *mime, const char *display_name,
					  http_progress_cb progress, void *progress_arg,
					  gemini_upload_cb done, void *arg)
{
	struct gemini_upload *u = pc_xcalloc(1, sizeof *u);
	u->loop = l;
	u->client = c;
	snprintf(u->path, sizeof u->path, "%s", path);
	u->offset = offset;
	u->len = len;
	snprintf(u->mime, sizeof u->mime, "%s", mime);
	u->progress = progress;
	u->progress_arg = progress_arg;
	u->done = done;
	u->arg = arg;
	u->poll_wait = GEMINI_POLL_FIRST;
	u->active_deadline = pc_now() + GEMINI_ACTIVE_TIMEOUT;

	char size[32];
	snprintf(size, sizeof size, "%lld", len);
	u->req = api_request(c, "POST", "upload/v1beta/files");
	http_set_label(u->req, "upload start");
	http_header(u->req, "X-Goog-Upload-Protocol", "resumable");
	http_header(u->req, "X-Goog-Upload-Command", "start");
	http_header(u->req, "X-Goog-Upload-Header-Content-Length", size);
	http_header(u->req, "X-Goog-Upload-Header-Content-Type", mime);
	json_object *file = json_object_new_object();
	json_object_object_add(file, "display_name", json_object_new_string(display_name));
	json_object *body = json_object_new_object();
	json_object_object_add(body, "file", file);
	http_body_json(u->req, body);
	json_object_put(body);
	http_start(l, u->req, on_started, u);
	return u;
}

void gemini_upload_cancel(struct gemini_upload *u)
{
	if (!u)
		return;
	if (u->req)
		http_cancel(u->req);
	if (u->polling)
		loop_del_timers(u->loop, u);
	free(u);
}
