/* The cloud codecs without a network: request builders field by field,
 * every parser of a service's answer on good and bad input, and the pure
 * helpers of common/http (Retry-After, backoff, escaping). */
#define _GNU_SOURCE
#include "pc.h"
#include "tap.h"
#include "http.h"
#include "api_common.h"
#include "api_gemini.h"
#include "api_openai.h"
#include "api_elevenlabs.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

static json_object *parse(const char *s)
{
	return json_tokener_parse(s);
}

/* A path into JSON: "a.b.0.c" */
static json_object *at(json_object *o, const char *path)
{
	char p[256];
	snprintf(p, sizeof p, "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(p, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(k));
		else
			o = api_get(o, k);
	}
	return o;
}

static const char *str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void test_http_helpers(void)
{
	long long now = (long long)curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);
	is_num(http_parse_retry_after("120", now), 120, 0, "Retry-After: delta seconds");
	is_num(http_parse_retry_after(" 3 ", now), 3, 0, "Retry-After: spaces around");
	is_num(http_parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), 30, 0, "Retry-After: HTTP date");
	is_num(http_parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), 0, 0, "Retry-After: a past date is 0");
	ok(http_parse_retry_after("soon", now) < 0, "Retry-After: junk refused");
	ok(http_parse_retry_after("", now) < 0 && http_parse_retry_after(NULL, now) < 0, "Retry-After: empty refused");
	ok(http_parse_retry_after("-5", now) < 0, "Retry-After: negative refused");

	struct http_opts o;
	http_opts_default(&o);
	o.backoff = 1;
	o.backoff_max = 30;
	is_num(http_backoff(&o, 1, 0), 0.5, 1e-9, "backoff 1: at least half the base");
	is_num(http_backoff(&o, 1, 1), 1, 1e-9, "backoff 1: at most the base");
	is_num(http_backoff(&o, 3, 0), 2, 1e-9, "backoff 3: doubled twice, lower bound");
	is_num(http_backoff(&o, 3, 1), 4, 1e-9, "backoff 3: upper bound");
	is_num(http_backoff(&o, 40, 1), 30, 1e-9, "backoff: capped");

	char b[256];
	is_str(http_escape("gemini-2.5 flash/x?y", b, sizeof b), "gemini-2.5%20flash%2Fx%3Fy", "escape: a path segment");
	is_str(http_join("http://a/v1/", "/chat/completions", b, sizeof b), "http://a/v1/chat/completions", "join: one slash");
	is_str(http_join("http://a", "v1beta/files", b, sizeof b), "http://a/v1beta/files", "join: a slash added");
	ok(http_join("http://a", "x", b, 8) == NULL, "join: too long refused");

	char err[256];
	setenv("PLAYCALL_HTTP_TIMEOUT", "12.5", 1);
	setenv("PLAYCALL_HTTP_RETRIES", "2", 1);
	setenv("PLAYCALL_CONNECT_TIMEOUT", "3", 1);
	setenv("PLAYCALL_HTTP_BACKOFF", "0.5", 1);
	ok(http_opts_env(&o, err, sizeof err) == 0 && o.timeout == 12.5 && o.retries == 2 && o.connect_timeout == 3 &&
	   o.backoff == 0.5, "options from PLAYCALL_HTTP_TIMEOUT, _RETRIES, _CONNECT_TIMEOUT, _BACKOFF");
	setenv("PLAYCALL_HTTP_RETRIES", "many", 1);
	ok(http_opts_env(&o, err, sizeof err) < 0, "a malformed option is refused");
	is_str(err, "PLAYCALL_HTTP_RETRIES: not a count 0-100: 'many'", "... naming the variable");
	unsetenv("PLAYCALL_HTTP_TIMEOUT");
	unsetenv("PLAYCALL_HTTP_RETRIES");
	unsetenv("PLAYCALL_CONNECT_TIMEOUT");
	unsetenv("PLAYCALL_HTTP_BACKOFF");
	ok(http_opts_env(&o, err, sizeof err) == 0 && o.timeout == HTTP_TIMEOUT_DEFAULT &&
	   o.connect_timeout == HTTP_CONNECT_TIMEOUT_DEFAULT && o.retries == HTTP_RETRIES_DEFAULT, "defaults");
}

static void test_clients(void)
{
	struct api_client c;
	char err[256];
	unsetenv("GEMINI_API_KEY");
	unsetenv("GEMINI_API_KEY_FILE");
	unsetenv("GEMINI_BASE_URL");
	ok(!api_key_set(API_GEMINI), "no Gemini key set");
	ok(api_client_init(&c, API_GEMINI, err, sizeof err) == 0 && !c.key, "a client without a key");
	is_str(c.base, "https://generativelanguage.googleapis.com", "Gemini's public endpoint by default");
	api_client_free(&c);
	char kf[] = "/tmp/api-key-XXXXXX";
	int fd = mkstemp(kf);
	ok(fd >= 0 && write(fd, "key-from-file\n", 14) == 14, "a key file");
	close(fd);
	setenv("GEMINI_API_KEY_FILE", kf, 1);
	setenv("GEMINI_BASE_URL", "http://127.0.0.1:9/", 1);
	ok(api_key_set(API_GEMINI), "the key file counts as a key");
	ok(api_client_init(&c, API_GEMINI, err, sizeof err) == 0 && c.key && !strcmp(c.key, "key-from-file"),
	   "GEMINI_API_KEY_FILE read, newline trimmed");
	is_str(c.base, "http://127.0.0.1:9/", "GEMINI_BASE_URL used");
	api_client_free(&c);
	unlink(kf);
	unsetenv("GEMINI_API_KEY_FILE");
	setenv("OPENAI_BASE_URL", "ftp://x", 1);
	ok(api_client_init(&c, API_OPENAI, err, sizeof err) < 0, "a base URL that is not http(s) is refused");
	is_str(err, "OPENAI_BASE_URL: not an http(s) URL: 'ftp://x'", "... naming the variable");
	unsetenv("OPENAI_BASE_URL");
	ok(api_client_init(&c, API_OPENAI, err, sizeof err) == 0, "OpenAI client");
	is_str(c.base, "https://api.openai.com/v1", "OpenAI's public endpoint by default");
	api_client_free(&c);
	ok(api_client_init(&c, API_ELEVENLABS, err, sizeof err) == 0, "ElevenLabs client");
	is_str(c.base, "https://api.elevenlabs.io", "ElevenLabs's public endpoint by default");
	api_client_free(&c);
	is_str(api_key_env(API_ELEVENLABS), "ELEVENLABS_API_KEY", "key variable names");
	ok(api_same_origin("https://h.example/upload?x=1", "https://h.example"), "same origin");
	ok(!api_same_origin("https://evil.example/upload", "https://h.example"), "another host is not");
	ok(!api_same_origin("http://h.example/x", "https://h.example"), "another scheme is not");
	ok(!api_same_origin("https://h.example:444/x", "https://h.example"), "another port is not");
	unsetenv("GEMINI_BASE_URL");
}

static void test_base64_and_text(void)
{
	static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		struct buf b = {0};
		api_base64(in[i], strlen(in[i]), &b);
		char name[64];
		snprintf(name, sizeof name, "base64 RFC 4648 vector '%s'", in[i]);
		is_str(buf_cstr(&b), out[i], name);
		buf_free(&b);
	}
	char t[8];
	api_copy_text(t, sizeof t, "a\nb\tc");
	is_str(t, "a b c", "copy_text: control characters become spaces");
	char u[4];
	api_copy_text(u, sizeof u, "h\xc3\xa9llo");
	is_str(u, "h\xc3\xa9", "copy_text: a whole character fits");
	char v[3];
	api_copy_text(v, sizeof v, "h\xc3\xa9llo");
	is_str(v, "h", "copy_text: never half a UTF-8 character");
}

static void test_gemini(void)
{
	char d[32], err[256];
	is_str(api_gemini_duration(12.5, d, sizeof d), "12.5s", "duration 12.5s");
	is_str(api_gemini_duration(12, d, sizeof d), "12s", "duration 12s");
	is_str(api_gemini_duration(0.25, d, sizeof d), "0.25s", "duration 0.25s");
	is_num(api_gemini_parse_duration("12.5s"), 12.5, 1e-9, "parse duration");
	ok(api_gemini_parse_duration("12") < 0 && api_gemini_parse_duration("s") < 0 &&
	   api_gemini_parse_duration("-1s") < 0 && api_gemini_parse_duration(NULL) < 0, "bad durations refused");

	struct http_service_error e;
	const char *retry = "{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted (e.g. check quota).\","
			    "\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":\"type.googleapis.com/"
			    "google.rpc.QuotaFailure\"},{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
			    "\"retryDelay\":\"12s\"}]}}";
	ok(api_gemini_parse_error(retry, strlen(retry), &e) == 0, "Gemini error body parsed");
	is_str(e.message, "Resource has been exhausted (e.g. check quota).", "... message");
	is_str(e.status, "RESOURCE_EXHAUSTED", "... status");
	is_num(e.retry_delay, 12, 1e-9, "... RetryInfo retryDelay 12s");
	const char *list = "[{\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}]";
	ok(api_gemini_parse_error(list, strlen(list), &e) == 0 && !strcmp(e.message, "overloaded"), "a list of errors");
	ok(api_gemini_parse_error("<html>", 6, &e) < 0, "an HTML page is not the service's error");

	struct api_gemini_file f;
	const char *up = "{\"file\":{\"name\":\"files/abc-123\",\"mimeType\":\"video/mp4\",\"uri\":"
			 "\"https://g/v1beta/files/abc-123\",\"state\":\"ACTIVE\",\"videoMetadata\":{\"videoDuration\":\"133.4s\"}}}";
	ok(api_gemini_parse_file(up, strlen(up), &f, err, sizeof err) == 0, "upload answer {file} parsed");
	ok(!strcmp(f.name, "files/abc-123") && !strcmp(f.state, "ACTIVE") && !strcmp(f.mime, "video/mp4") &&
	   !strcmp(f.uri, "https://g/v1beta/files/abc-123"), "... name, state, mime, uri");
	is_num(f.video_duration, 133.4, 1e-9, "... videoDuration");
	const char *proc = "{\"name\":\"files/x\",\"state\":\"PROCESSING\"}";
	ok(api_gemini_parse_file(proc, strlen(proc), &f, err, sizeof err) == 0 && !strcmp(f.state, "PROCESSING"),
	   "a bare File (files.get)");
	const char *nouri = "{\"name\":\"files/x\",\"state\":\"ACTIVE\"}";
	ok(api_gemini_parse_file(nouri, strlen(nouri), &f, err, sizeof err) < 0, "ACTIVE without uri refused");
	ok(api_gemini_parse_file("{}", 2, &f, err, sizeof err) < 0, "not a File refused");
	is_str(err, "answer is not a File (no name or state)", "... with the reason");
	const char *failed = "{\"name\":\"files/x\",\"state\":\"FAILED\",\"error\":{\"code\":3,\"message\":\"bad video\"}}";
	ok(api_gemini_parse_file(failed, strlen(failed), &f, err, sizeof err) == 0 && !strcmp(f.error, "bad video"),
	   "FAILED with error.message");

	struct buf text = {0};
	const char *gen = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thinking...\",\"thought\":true},"
			  "{\"text\":\"{\\\"te\"},{\"text\":\"xt\\\": \\\"Goal!\\\"}\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}";
	ok(api_gemini_parse_generate(gen, strlen(gen), &text, err, sizeof err) == 0, "generateContent answer parsed");
	is_str(buf_cstr(&text), "{\"text\": \"Goal!\"}", "... parts joined, thoughts left out");
	const char *blocked = "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}";
	ok(api_gemini_parse_generate(blocked, strlen(blocked), &text, err, sizeof err) < 0, "a blocked prompt");
	is_str(err, "the prompt was blocked (SAFETY)", "... says so");
	const char *maxt = "{\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":\"MAX_TOKENS\"}]}";
	ok(api_gemini_parse_generate(maxt, strlen(maxt), &text, err, sizeof err) < 0, "no text");
	is_str(err, "no text in the answer (finishReason MAX_TOKENS)", "... with the finish reason");
	buf_free(&text);

	json_object *body = api_gemini_video_body("https://g/v1beta/files/abc", "video/mp4", 1.5, 31.5, "Q?",
						  api_events_schema(API_DIALECT_GEMINI, 1));
	is_str(str_at(body, "contents.0.role"), "user", "video body: user content");
	is_str(str_at(body, "contents.0.parts.0.fileData.fileUri"), "https://g/v1beta/files/abc", "video body: fileData.fileUri");
	is_str(str_at(body, "contents.0.parts.0.fileData.mimeType"), "video/mp4", "video body: fileData.mimeType");
	is_str(str_at(body, "contents.0.parts.0.videoMetadata.startOffset"), "1.5s", "video body: videoMetadata.startOffset");
	is_str(str_at(body, "contents.0.parts.0.videoMetadata.endOffset"), "31.5s", "video body: videoMetadata.endOffset");
	is_str(str_at(body, "contents.0.parts.1.text"), "Q?", "video body: the prompt");
	is_str(str_at(body, "generationConfig.responseMimeType"), "application/json", "video body: responseMimeType");
	is_str(str_at(body, "generationConfig.responseSchema.type"), "OBJECT", "video body: responseSchema");
	json_object_put(body);
	body = api_gemini_video_body("u", "video/mp4", -1, -1, "Q?", api_events_schema(API_DIALECT_GEMINI, 0));
	ok(!at(body, "contents.0.parts.0.videoMetadata"), "video body: the whole file has no videoMetadata");
	json_object_put(body);
}

static void test_schemas_and_prompts(void)
{
	json_object *g = api_events_schema(API_DIALECT_GEMINI, 1);
	is_str(str_at(g, "type"), "OBJECT", "Gemini schema: OBJECT");
	is_str(str_at(g, "properties.events.type"), "ARRAY", "Gemini schema: events ARRAY");
	is_str(str_at(g, "properties.events.items.properties.t.type"), "NUMBER", "Gemini schema: t NUMBER");
	is_str(str_at(g, "properties.events.items.properties.kind.enum.0"), "goal", "Gemini schema: kind enum");
	is_str(str_at(g, "properties.events.items.propertyOrdering.4"), "line", "Gemini schema: propertyOrdering with line");
	ok(!at(g, "additionalProperties"), "Gemini schema: no additionalProperties (not in its Schema)");
	json_object_put(g);
	json_object *o = api_events_schema(API_DIALECT_OPENAI, 0);
	is_str(str_at(o, "type"), "object", "OpenAI schema: object");
	ok(at(o, "additionalProperties") && !json_object_get_boolean(at(o, "additionalProperties")),
	   "OpenAI schema: closed objects (strict)");
	ok(json_object_array_length(at(o, "properties.events.items.required")) == 4, "OpenAI schema: all 4 required");
	ok(!at(o, "properties.events.items.properties.line"), "OpenAI schema: no line when not asked");
	json_object_put(o);

	struct buf p = {0};
	api_detect_prompt(&p, 20, 10, 1, "es");
	ok(strstr(buf_cstr(&p), "starts 20.0 seconds into the match") && strstr(p.data, "10.0 seconds long") &&
	   strstr(p.data, "language 'es'"), "detect prompt: the window and the language");
	buf_reset(&p);
	json_object *evs = parse("[{\"t\":61.5,\"kind\":\"goal\",\"label\":\"header\"}]");
	json_object *earlier = parse("[\"What a start!\"]");
	struct api_narrate_ask a = {.length = 12, .max_words = 20, .lang = "en", .style = "excited",
				    .events = evs, .start = 60, .earlier = earlier};
	api_narrate_prompt(&p, &a);
	ok(strstr(p.data, "at most 20 words") && strstr(p.data, "- t=1.5 goal: header") &&
	   strstr(p.data, "- What a start!") && strstr(p.data, "Style: excited"), "narrate prompt: fit, events, earlier lines, style");
	buf_free(&p);
	json_object_put(evs);
	json_object_put(earlier);
}

static void test_events(void)
{
	char err[256];
	const char *rel = "{\"events\":[{\"t\":8.5,\"kind\":\"goal\",\"label\":\"a header\",\"score\":0.95,\"line\":\"GOAL!\"},"
			  "{\"t\":2,\"kind\":\"weird\",\"label\":\"\",\"score\":7},{\"t\":\"bad\"},{\"kind\":\"x\"},"
			  "{\"t\":-4,\"kind\":\"lull\",\"score\":-1}]}";
	json_object *e = api_parse_events(rel, strlen(rel), 30, 40, err, sizeof err);
	ok(e && json_object_array_length(e) == 3, "events: entries without a time dropped");
	double t;
	rec_num(at(e, "0"), "t", &t);
	is_num(t, 30, 1e-9, "events: a time before the clip is clamped to its start");
	rec_num(at(e, "1"), "t", &t);
	is_num(t, 32, 1e-9, "events: clip time moved to match time");
	is_str(str_at(e, "1.kind"), "moment", "events: an unknown kind is a moment");
	is_str(str_at(e, "1.label"), "moment", "events: an empty label is the kind");
	double s;
	rec_num(at(e, "1"), "score", &s);
	is_num(s, 1, 0, "events: score clamped to 1");
	rec_num(at(e, "0"), "score", &s);
	is_num(s, 0, 0, "events: score clamped to 0");
	is_str(str_at(e, "2.line"), "GOAL!", "events: the commentary line kept");
	is_str(str_at(e, "2.source"), "model", "events: marked as a model's");
	json_object_put(e);

	const char *abs = "```json\n{\"events\":[{\"t\":\"00:35\",\"kind\":\"shot\",\"label\":\"x\",\"score\":0.5}]}\n```";
	e = api_parse_events(abs, strlen(abs), 30, 40, err, sizeof err);
	rec_num(at(e, "0"), "t", &t);
	ok(e && t == 35, "events: fenced JSON, a clock time, match time recognised (%.1f)", t);
	json_object_put(e);
	e = api_parse_events("[{\"t\":1}]", 9, 0, 10, err, sizeof err);
	ok(e && json_object_array_length(e) == 1, "events: a bare list accepted");
	json_object_put(e);
	ok(!api_parse_events("{\"moments\":[]}", 14, 0, 10, err, sizeof err), "events: no events list refused");
	is_str(err, "answer has no \"events\" list", "... with the reason");
	ok(!api_parse_events("{\"events\":[", 11, 0, 10, err, sizeof err), "events: truncated JSON refused");
	struct buf many = {0};
	buf_puts(&many, "{\"events\":[");
	for (int i = 0; i < 40; i++)
		buf_printf(&many, "%s{\"t\":%d}", i ? "," : "", 40 - i);
	buf_puts(&many, "]}");
	e = api_parse_events(many.data, many.len, 0, 100, err, sizeof err);
	rec_num(at(e, "0"), "t", &t);
	ok(e && json_object_array_length(e) == API_EVENTS_MAX && t == 1, "events: sorted by time, at most API_EVENTS_MAX");
	json_object_put(e);
	buf_free(&many);

	char line[64];
	const char *ans = "{\"text\":\"  What   a\\ngoal from the edge of the box! \"}";
	ok(api_parse_line(ans, strlen(ans), 5, line, sizeof line, err, sizeof err) == 0, "line parsed");
	is_str(line, "What a goal from the", "line: spaces collapsed, cut at 5 words");
	ok(api_parse_line("{\"text\":\"   \"}", 14, 5, line, sizeof line, err, sizeof err) < 0, "line: empty refused");
	ok(api_parse_line("{\"txt\":\"x\"}", 11, 5, line, sizeof line, err, sizeof err) < 0, "line: no text refused");
	is_str(err, "answer has no \"text\" string", "... with the reason");
}

static void test_openai(void)
{
	char err[256];
	struct http_service_error e;
	const char *std = "{\"error\":{\"message\":\"Invalid 'messages'.\",\"type\":\"invalid_request_error\","
			  "\"param\":\"messages\",\"code\":null}}";
	ok(api_openai_parse_error(std, strlen(std), &e) == 0 && !strcmp(e.message, "Invalid 'messages'.") &&
	   !strcmp(e.status, "invalid_request_error") && !e.permanent, "OpenAI error: message and type");
	const char *quota = "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\","
			    "\"code\":\"insufficient_quota\"}}";
	ok(api_openai_parse_error(quota, strlen(quota), &e) == 0 && e.permanent, "OpenAI insufficient_quota: no retry");
	const char *ollama = "{\"error\":\"model 'x' not found\"}";
	ok(api_openai_parse_error(ollama, strlen(ollama), &e) == 0 && !strcmp(e.message, "model 'x' not found"),
	   "Ollama's {\"error\": \"...\"}");
	const char *vllm = "{\"object\":\"error\",\"message\":\"too long\",\"type\":\"BadRequestError\",\"code\":400}";
	ok(api_openai_parse_error(vllm, strlen(vllm), &e) == 0 && !strcmp(e.message, "too long"), "vLLM's error");
	ok(api_openai_parse_error("{}", 2, &e) < 0, "not an error shape");

	struct buf c = {0};
	const char *chat = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"text\\\":\\\"x\\\"}\","
			   "\"refusal\":null},\"finish_reason\":\"stop\"}]}";
	ok(api_openai_parse_chat(chat, strlen(chat), &c, err, sizeof err) == 0 && !strcmp(c.data, "{\"text\":\"x\"}"),
	   "chat answer: choices[0].message.content");
	const char *refusal = "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I can't help\"},\"finish_reason\":\"stop\"}]}";
	ok(api_openai_parse_chat(refusal, strlen(refusal), &c, err, sizeof err) < 0, "a refusal");
	is_str(err, "the model refused: I can't help", "... says so");
	const char *cut = "{\"choices\":[{\"message\":{\"content\":\"{\\\"te\"},\"finish_reason\":\"length\"}]}";
	ok(api_openai_parse_chat(cut, strlen(cut), &c, err, sizeof err) < 0, "an answer cut at max tokens");
	ok(api_openai_parse_chat("{\"choices\":[]}", 14, &c, err, sizeof err) < 0, "no choices");
	buf_free(&c);

	json_object *parts = json_object_new_array();
	json_object_array_add(parts, api_openai_text_part("t=2.0"));
	json_object_array_add(parts, api_openai_image_part("\xff\xd8\xff", 3, "low"));
	json_object *body = api_openai_chat_body("gpt-x", "sys", parts, "events", api_events_schema(API_DIALECT_OPENAI, 1));
	is_str(str_at(body, "model"), "gpt-x", "chat body: model");
	is_str(str_at(body, "messages.0.role"), "system", "chat body: system message");
	is_str(str_at(body, "messages.1.content.0.type"), "text", "chat body: text part");
	is_str(str_at(body, "messages.1.content.1.type"), "image_url", "chat body: image_url part");
	is_str(str_at(body, "messages.1.content.1.image_url.url"), "data:image/jpeg;base64,/9j/", "chat body: a JPEG data URL");
	is_str(str_at(body, "messages.1.content.1.image_url.detail"), "low", "chat body: detail");
	is_str(str_at(body, "response_format.type"), "json_schema", "chat body: response_format json_schema");
	is_str(str_at(body, "response_format.json_schema.name"), "events", "chat body: schema name");
	ok(json_object_get_boolean(at(body, "response_format.json_schema.strict")), "chat body: strict");
	json_object_put(body);
	body = api_openai_speech_body("tts-1", "Hello", "nova", "opus", 1.25);
	ok(!strcmp(str_at(body, "model"), "tts-1") && !strcmp(str_at(body, "input"), "Hello") &&
	   !strcmp(str_at(body, "voice"), "nova") && !strcmp(str_at(body, "response_format"), "opus") &&
	   json_object_get_double(at(body, "speed")) == 1.25, "speech body: model, input, voice, response_format, speed");
	json_object_put(body);
}

static void test_elevenlabs_and_audio(void)
{
	struct http_service_error e;
	const char *quota = "{\"detail\":{\"status\":\"quota_exceeded\",\"message\":\"This request exceeds your quota.\"}}";
	ok(api_elevenlabs_parse_error(quota, strlen(quota), &e) == 0 && !strcmp(e.status, "quota_exceeded") &&
	   e.permanent && !strcmp(e.message, "This request exceeds your quota."), "ElevenLabs quota_exceeded");
	struct http_resp r = {.ok = 0};
	r.svc = e;
	ok(api_elevenlabs_quota_exceeded(&r), "quota recognised from a response");
	const char *s = "{\"detail\":\"Not Found\"}";
	ok(api_elevenlabs_parse_error(s, strlen(s), &e) == 0 && !strcmp(e.message, "Not Found"), "detail as a string");
	const char *v = "{\"detail\":[{\"loc\":[\"body\",\"text\"],\"msg\":\"field required\",\"type\":\"value_error.missing\"},"
			"{\"loc\":[\"query\",\"output_format\"],\"msg\":\"bad\"}]}";
	ok(api_elevenlabs_parse_error(v, strlen(v), &e) == 0, "detail as a list");
	is_str(e.message, "body.text: field required; query.output_format: bad", "... each place and message");
	ok(api_elevenlabs_parse_error("{\"x\":1}", 7, &e) < 0, "not an error shape");

	json_object *body = api_elevenlabs_tts_body("Hi", "eleven_multilingual_v2", 0.4, 0.8);
	ok(!strcmp(str_at(body, "text"), "Hi") && !strcmp(str_at(body, "model_id"), "eleven_multilingual_v2") &&
	   json_object_get_double(at(body, "voice_settings.stability")) == 0.4 &&
	   json_object_get_double(at(body, "voice_settings.similarity_boost")) == 0.8, "TTS body: text, model_id, voice_settings");
	json_object_put(body);
	body = api_elevenlabs_tts_body("Hi", "m", -1, -1);
	ok(!at(body, "voice_settings"), "TTS body: the voice's own settings when none given");
	json_object_put(body);

	char err[256];
	ok(api_check_audio("ID3\x04\0\0", 6, "mp3_44100_128", err, sizeof err) == 0, "audio: mp3 with ID3");
	ok(api_check_audio("\xff\xfb\x90\x00", 4, "mp3", err, sizeof err) == 0, "audio: mp3 frame sync");
	ok(api_check_audio("RIFF\0\0\0\0WAVEfmt ", 16, "wav", err, sizeof err) == 0, "audio: wav");
	ok(api_check_audio("OggS\0\2", 6, "opus", err, sizeof err) == 0, "audio: opus in Ogg");
	ok(api_check_audio("{\"detail\":1}", 12, "mp3", err, sizeof err) < 0, "audio: JSON is not mp3");
	is_str(err, "answer is not mp3 audio: it starts with '{\"detail\":1}'", "... showing how it starts");
	ok(api_check_audio("", 0, "mp3", err, sizeof err) < 0, "audio: empty refused");
	is_str(api_audio_ext("opus"), "ogg", "ext: opus in ogg");
	is_str(api_audio_ext("mp3_22050_32"), "mp3", "ext: ElevenLabs mp3");
	is_str(api_audio_ext("pcm_16000"), "pcm", "ext: pcm");
}

int main(void)
{
	pc_init("api-test");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_http_helpers();
	test_clients();
	test_base64_and_text();
	test_gemini();
	test_schemas_and_prompts();
	test_events();
	test_openai();
	test_elevenlabs_and_audio();
	curl_global_cleanup();
	return done_testing();
}
