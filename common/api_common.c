/* Shared by the cloud codecs: clients from the environment, schemas,
 * prompts, and the parsers of model answers.  See api_common.h. */
#define _GNU_SOURCE
#include "api_common.h"
#include "api_gemini.h"
#include "api_openai.h"
#include "api_elevenlabs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct service_env {
	const char *name, *key_env, *base_env, *base_default;
	const char *key_header, *key_prefix;
	http_error_parser parse_error;
} services[] = {
	[API_GEMINI] = {"Gemini", "GEMINI_API_KEY", "GEMINI_BASE_URL",
			"https://generativelanguage.googleapis.com", "x-goog-api-key", "",
			api_gemini_parse_error},
	[API_OPENAI] = {"OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL",
			"https://api.openai.com/v1", "Authorization", "Bearer ",
			api_openai_parse_error},
	[API_ELEVENLABS] = {"ElevenLabs", "ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL",
			    "https://api.elevenlabs.io", "xi-api-key", "",
			    api_elevenlabs_parse_error},
};

const char *api_key_env(enum api_service s)
{
	return services[s].key_env;
}

const char *api_base_env(enum api_service s)
{
	return services[s].base_env;
}

const char *api_base_default(enum api_service s)
{
	return services[s].base_default;
}

int api_key_set(enum api_service s)
{
	char *key = NULL, err[512];
	int set = cfg_lookup(services[s].key_env, &key, err, sizeof err) == 0 && key;
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	return set;
}

int api_client_init(struct api_client *c, enum api_service s, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->service = s;
	c->name = services[s].name;
	if (cfg_lookup(services[s].key_env, &c->key, err, errlen) < 0)
		return -1;
	const char *base = getenv(services[s].base_env);
	if (!base || !*base)
		base = services[s].base_default;
	if (api_client_base(c, base, services[s].base_env, err, errlen) < 0 ||
	    http_opts_env(&c->opts, err, errlen) < 0) {
		api_client_free(c);
		return -1;
	}
	return 0;
}

int api_client_base(struct api_client *c, const char *url, const char *option, char *err, size_t errlen)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		snprintf(err, errlen, "%s: not an http(s) URL: '%.200s'", option, url);
		return -1;
	}
	if (strlen(url) >= sizeof c->base) {
		snprintf(err, errlen, "%s: longer than %zu bytes", option, sizeof c->base - 1);
		return -1;
	}
	snprintf(c->base, sizeof c->base, "%s", url);
	return 0;
}

int api_client_need_key(const struct api_client *c, const char *backend, char *err, size_t errlen)
{
	if (c->key || (c->service == API_OPENAI && strcmp(c->base, services[API_OPENAI].base_default)))
		return 0;
	const char *env = services[c->service].key_env;
	snprintf(err, errlen, "the %s backend needs %s (or %s_FILE)%s", backend, env, env,
		 c->service == API_OPENAI ? ", or OPENAI_BASE_URL naming a server that needs none" : "");
	return -1;
}

void api_client_free(struct api_client *c)
{
	if (c->key) {
		explicit_bzero(c->key, strlen(c->key));
		free(c->key);
	}
	c->key = NULL;
}

/* scheme://host[:port] of a URL: its length, 0 when it has none. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	p += 3;
	while (*p && *p != '/' && *p != '?' && *p != '#')
		p++;
	return (size_t)(p - url);
}

int api_same_origin(const char *a, const char *b)
{
	size_t la = origin_len(a), lb = origin_len(b);
	return la && la == lb && !strncasecmp(a, b, la);
}

struct http_req *api_request_url(const struct api_client *c, const char *method, const char *url)
{
	struct http_req *r = http_new(c->name, method, url);
	const struct service_env *se = &services[c->service];
	if (api_same_origin(url, c->base))
		http_key_header(r, se->key_header, se->key_prefix, c->key);
	http_set_error_parser(r, se->parse_error);
	http_set_opts(r, &c->opts);
	return r;
}

struct http_req *api_request(const struct api_client *c, const char *method, const char *path)
{
	char url[HTTP_URL_MAX];
	if (!http_join(c->base, path, url, sizeof url))
		snprintf(url, sizeof url, "%s", c->base);   /* refused by curl, reported */
	return api_request_url(c, method, url);
}

void api_base64(const void *data, size_t len, struct buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *b = data;
	char q[4];
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)b[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)b[i + 1] << 8;
		if (i + 2 < len)
			v |= b[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tab[v & 63] : '=';
		buf_append(out, q, 4);
	}
}

/* ---- JSON helpers ---- */

json_object *api_get(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

json_object *api_get2(json_object *o, const char *camel, const char *snake)
{
	json_object *v = api_get(o, camel);
	return v ? v : api_get(o, snake);
}

const char *api_get_str(json_object *o, const char *key)
{
	json_object *v = api_get(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *api_parse_json(const char *body, size_t len, char *err, size_t errlen)
{
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "not JSON: too large");
		return NULL;
	}
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, body ? body : "", (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		snprintf(err, errlen, "not JSON: %s", !len ? "empty answer" :
			 jerr == json_tokener_continue ? "the answer ends part-way" : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; used < len; used++) {
		if (!isspace((unsigned char)body[used])) {
			json_object_put(o);
			snprintf(err, errlen, "not JSON: text after the value");
			return NULL;
		}
	}
	return o;
}

void api_copy_text(char *dst, size_t n, const char *src)
{
	if (!n)
		return;
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)(src ? src : ""); *p && o + 1 < n; p++)
		dst[o++] = *p < 32 || *p == 127 ? ' ' : (char)*p;
	/* Do not end inside a UTF-8 sequence. */
	if (o + 1 >= n && o) {
		size_t k = o;
		while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0xC0) {
			size_t want = ((unsigned char)dst[k - 1] & 0xE0) == 0xC0 ? 2 :
				      ((unsigned char)dst[k - 1] & 0xF0) == 0xE0 ? 3 : 4;
			if (o - (k - 1) < want)
				o = k - 1;
		}
	}
	dst[o] = '\0';
}

/* ---- schemas ---- */

static const char *const event_kinds[] = {
	"goal", "shot", "save", "chance", "foul", "card", "celebration",
	"crowd", "whistle", "replay", "cut", "motion", "lull",
};
#define N_KINDS (sizeof event_kinds / sizeof event_kinds[0])

static json_object *type_of(enum api_dialect d, const char *t)
{
	/* Gemini's Schema.type is an enum written in capitals; JSON Schema's
	 * types are lower case. */
	if (d == API_DIALECT_OPENAI)
		return json_object_new_string(t);
	char up[16];
	size_t i = 0;
	for (; t[i] && i + 1 < sizeof up; i++)
		up[i] = (char)toupper((unsigned char)t[i]);
	up[i] = '\0';
	return json_object_new_string(up);
}

static json_object *prop(enum api_dialect d, const char *t, const char *description)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "type", type_of(d, t));
	if (description)
		json_object_object_add(p, "description", json_object_new_string(description));
	return p;
}

/* required (and, for Gemini, propertyOrdering) lists every property;
 * OpenAI's strict mode also wants additionalProperties false. */
static json_object *object_of(enum api_dialect d, json_object *props)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", type_of(d, "object"));
	json_object *req = json_object_new_array();
	json_object_object_foreach(props, k, v) {
		(void)v;
		json_object_array_add(req, json_object_new_string(k));
	}
	json_object_object_add(o, "properties", props);
	if (d == API_DIALECT_GEMINI)
		json_object_object_add(o, "propertyOrdering", json_object_get(req));
	json_object_object_add(o, "required", req);
	if (d == API_DIALECT_OPENAI)
		json_object_object_add(o, "additionalProperties", json_object_new_boolean(0));
	return o;
}

json_object *api_events_schema(enum api_dialect d, int with_line)
{
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "t", prop(d, "number", "seconds from the start of this clip"));
	json_object *kind = prop(d, "string", "what happened");
	json_object *kinds = json_object_new_array();
	for (size_t i = 0; i < N_KINDS; i++)
		json_object_array_add(kinds, json_object_new_string(event_kinds[i]));
	json_object_object_add(kind, "enum", kinds);
	json_object_object_add(ev, "kind", kind);
	json_object_object_add(ev, "label", prop(d, "string", "a few words naming the moment"));
	json_object_object_add(ev, "score", prop(d, "number", "0 to 1: how much of a highlight"));
	if (with_line)
		json_object_object_add(ev, "line", prop(d, "string", "one short spoken commentary line"));
	json_object *events = json_object_new_object();
	json_object_object_add(events, "type", type_of(d, "array"));
	json_object_object_add(events, "items", object_of(d, ev));
	json_object *top = json_object_new_object();
	json_object_object_add(top, "events", events);
	return object_of(d, top);
}

json_object *api_line_schema(enum api_dialect d)
{
	json_object *props = json_object_new_object();
	json_object_object_add(props, "text", prop(d, "string", "the commentary, spoken as it is"));
	return object_of(d, props);
}

/* ---- prompts ---- */

void api_detect_prompt(struct buf *out, double start, double length, int with_line, const char *lang)
{
	buf_printf(out,
		   "You are a sports analyst marking highlights in a match video. "
		   "This clip is %.1f seconds long and starts %.1f seconds into the match. "
		   "List the moments in it worth showing in a highlight reel: goals, shots, saves, "
		   "chances, fouls, cards, celebrations, crowd roars, whistles; also scene cuts, "
		   "bursts of motion and lulls when nothing else happens. For each give t, the time in "
		   "seconds from the start of THIS CLIP (0 to %.1f); kind; label, a few words; and "
		   "score, 0 to 1, how much it belongs in a highlight reel (a goal near 1, a lull near 0). ",
		   length, start, length);
	if (with_line)
		buf_printf(out,
			   "Also give line: one sentence of live commentary on that moment in the language "
			   "'%s', at most 12 words, spoken as a TV commentator would say it. ",
			   lang && *lang ? lang : "en");
	buf_printf(out, "List at most %d moments, in time order; an empty list when nothing happens.",
		   API_EVENTS_MAX);
}

void api_narrate_prompt(struct buf *out, const struct api_narrate_ask *a)
{
	buf_printf(out,
		   "You are a TV commentator for a football match. Write the commentary for one "
		   "highlight clip of %.1f seconds. It is spoken over the clip, so it must be at most "
		   "%d words. Language: '%s'. Style: %s. Speak about what happens; no stage "
		   "directions, no quotation marks, no times in seconds.\n",
		   a->length, a->max_words, a->lang && *a->lang ? a->lang : "en",
		   a->style && *a->style ? a->style : "lively");
	buf_puts(out, "What happens in the clip (t in seconds from its start):\n");
	size_t n = a->events && json_object_is_type(a->events, json_type_array) ?
		   json_object_array_length(a->events) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(a->events, i);
		double t = 0;
		rec_num(ev, "t", &t);
		const char *kind = api_get_str(ev, "kind");
		const char *label = api_get_str(ev, "label");
		buf_printf(out, "- t=%.1f %s: %s\n", t - a->start, kind ? kind : "moment", label ? label : "");
	}
	if (!n)
		buf_puts(out, "- (a quiet passage of play)\n");
	size_t m = a->earlier && json_object_is_type(a->earlier, json_type_array) ?
		   json_object_array_length(a->earlier) : 0;
	if (m) {
		buf_puts(out, "Your earlier lines in this match (do not repeat them; carry the story on):\n");
		for (size_t i = 0; i < m; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(a->earlier, i));
			buf_printf(out, "- %s\n", s ? s : "");
		}
	}
	buf_puts(out, "Answer as JSON: {\"text\": \"...\"}.");
}

/* ---- answers ---- */

/* Models without a schema sometimes wrap JSON in a ``` fence. */
static void strip_fence(const char **text, size_t *len)
{
	const char *s = *text, *e = s + *len;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e - s >= 6 && !strncmp(s, "```", 3) && !strncmp(e - 3, "```", 3)) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		if (nl && nl < e - 3) {
			s = nl + 1;
			e -= 3;
		}
	}
	*text = s;
	*len = (size_t)(e - s);
}

static int event_time(json_object *v, double *t)
{
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		*t = json_object_get_double(v);
	} else if (json_object_is_type(v, json_type_string)) {
		*t = pc_parse_clock(json_object_get_string(v));
		if (*t < 0)
			return -1;
	} else {
		return -1;
	}
	return isfinite(*t) ? 0 : -1;
}

static const char *known_kind(const char *k)
{
	for (size_t i = 0; k && i < N_KINDS; i++)
		if (!strcmp(k, event_kinds[i]))
			return event_kinds[i];
	return "moment";
}

static int by_time(const void *a, const void *b)
{
	double ta = 0, tb = 0;
	rec_num(*(json_object *const *)a, "t", &ta);
	rec_num(*(json_object *const *)b, "t", &tb);
	return ta < tb ? -1 : ta > tb;
}

static json_object *one_event(json_object *in, double start, double end)
{
	double t, length = end - start;
	if (!json_object_is_type(in, json_type_object) || event_time(api_get(in, "t"), &t) < 0)
		return NULL;
	/* Asked for clip time; a model that answers in match time is
	 * recognised by a time past the clip that falls inside it. */
	if (!(t > length + 0.5 && t >= start && t <= end + 0.5))
		t += start;
	if (t < start)
		t = start;
	if (t > end)
		t = end;
	double score = 0.5;
	json_object *sv = api_get(in, "score");
	if (sv && (json_object_is_type(sv, json_type_double) || json_object_is_type(sv, json_type_int)))
		score = json_object_get_double(sv);
	if (!isfinite(score))
		score = 0.5;
	score = score < 0 ? 0 : score > 1 ? 1 : score;
	char label[API_LABEL_MAX], line[API_LINE_MAX];
	const char *kind = known_kind(api_get_str(in, "kind"));
	api_copy_text(label, sizeof label, api_get_str(in, "label"));
	json_object *ev = json_object_new_object();
	rec_set_num(ev, "t", t);
	rec_set_str(ev, "kind", kind);
	rec_set_str(ev, "label", label[0] ? label : kind);
	rec_set_num(ev, "score", score);
	const char *l = api_get_str(in, "line");
	if (l && *l) {
		api_copy_text(line, sizeof line, l);
		rec_set_str(ev, "line", line);
	}
	rec_set_str(ev, "source", "model");
	return ev;
}

json_object *api_parse_events(const char *text, size_t len, double start, double end,
			      char *err, size_t errlen)
{
	if (!(end >= start)) {
		snprintf(err, errlen, "bad interval");
		return NULL;
	}
	strip_fence(&text, &len);
	json_object *root = api_parse_json(text, len, err, errlen);
	if (!root)
		return NULL;
	json_object *list = json_object_is_type(root, json_type_array) ? root : api_get(root, "events");
	if (!list || !json_object_is_type(list, json_type_array)) {
		snprintf(err, errlen, "answer has no \"events\" list");
		json_object_put(root);
		return NULL;
	}
	size_t n = json_object_array_length(list);
	json_object **evs = pc_xcalloc(n ? n : 1, sizeof *evs);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *ev = one_event(json_object_array_get_idx(list, i), start, end);
		if (ev)
			evs[kept++] = ev;
	}
	qsort(evs, kept, sizeof *evs, by_time);
	json_object *out = json_object_new_array();
	for (size_t i = 0; i < kept; i++) {
		if (i < API_EVENTS_MAX)
			json_object_array_add(out, evs[i]);
		else
			json_object_put(evs[i]);
	}
	free(evs);
	json_object_put(root);
	return out;
}

int api_parse_line(const char *answer, size_t len, int max_words, char *out, size_t n,
		   char *err, size_t errlen)
{
	strip_fence(&answer, &len);
	json_object *root = api_parse_json(answer, len, err, errlen);
	if (!root)
		return -1;
	const char *text = api_get_str(root, "text");
	if (!text) {
		snprintf(err, errlen, "answer has no \"text\" string");
		json_object_put(root);
		return -1;
	}
	char flat[API_TEXT_MAX];
	api_copy_text(flat, sizeof flat, text);
	json_object_put(root);
	/* Collapse spaces, and cut at max_words so the speech fits the clip. */
	size_t o = 0;
	int words = 0, in_word = 0;
	for (const char *p = flat; *p && o + 1 < n; p++) {
		if (*p == ' ') {
			in_word = 0;
			continue;
		}
		if (!in_word) {
			if (max_words > 0 && words == max_words)
				break;
			if (words && o + 2 < n)
				out[o++] = ' ';
			words++;
			in_word = 1;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	if (!words) {
		snprintf(err, errlen, "answer has an empty \"text\"");
		return -1;
	}
	return 0;
}

/* ---- audio ---- */

static int fmt_is(const char *format, const char *name)
{
	return !strncmp(format, name, strlen(name));
}

const char *api_audio_ext(const char *format)
{
	if (!format || fmt_is(format, "mp3"))
		return "mp3";
	if (fmt_is(format, "wav"))
		return "wav";
	if (fmt_is(format, "opus"))
		return "ogg";
	if (fmt_is(format, "aac"))
		return "aac";
	if (fmt_is(format, "flac"))
		return "flac";
	if (fmt_is(format, "pcm"))
		return "pcm";
	if (fmt_is(format, "ulaw") || fmt_is(format, "alaw"))
		return "raw";
	return "bin";
}

int api_check_audio(const void *data, size_t len, const char *format, char *err, size_t errlen)
{
	const unsigned char *b = data;
	const char *ext = api_audio_ext(format);
	int ok;
	if (len < 4) {
		snprintf(err, errlen, "answer is not audio: %zu bytes", len);
		return -1;
	}
	if (!strcmp(ext, "mp3"))
		ok = !memcmp(b, "ID3", 3) || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0);
	else if (!strcmp(ext, "wav"))
		ok = len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4);
	else if (!strcmp(ext, "ogg"))
		ok = !memcmp(b, "OggS", 4);
	else if (!strcmp(ext, "aac"))
		ok = (b[0] == 0xFF && (b[1] & 0xF6) == 0xF0) || !memcmp(b, "ID3", 3);
	else if (!strcmp(ext, "flac"))
		ok = !memcmp(b, "fLaC", 4);
	else
		ok = !(b[0] == '{' || b[0] == '<');   /* raw samples: anything but a document */
	if (ok)
		return 0;
	char start[24];
	size_t k = 0;
	for (; k < len && k < 16; k++)
		start[k] = b[k] >= 32 && b[k] < 127 ? (char)b[k] : '.';
	start[k] = '\0';
	snprintf(err, errlen, "answer is not %s audio: it starts with '%s'", ext, start);
	return -1;
}
