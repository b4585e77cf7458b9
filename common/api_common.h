/* What the cloud backends share: which service, its key and base URL, the
 * JSON schemas and prompts for video analysis and commentary, and the
 * parsers of what a model answers.  Builders are pure (JSON in, JSON out);
 * every parser of a service's answer is a function the fuzz target
 * tests/fuzz/fuzz_api.c calls.  Service specifics: api_gemini.h,
 * api_openai.h, api_elevenlabs.h. */
#ifndef PC_API_COMMON_H
#define PC_API_COMMON_H

#include "pc.h"
#include "http.h"

/* Bumped whenever a prompt or schema changes what a model is asked, so
 * cached answers to the old question are not reused. */
#define API_PROMPT_VERSION "3"

#define API_EVENTS_MAX 24       /* events kept per interval from one answer */
#define API_LABEL_MAX 80        /* bytes of an event label */
#define API_LINE_MAX 240        /* bytes of one commentary line */
#define API_TEXT_MAX 2000       /* bytes of a commentary text */
#define API_BASE_MAX 1024       /* bytes of a base URL */

enum api_service { API_GEMINI, API_OPENAI, API_ELEVENLABS };

/* A service as configured: its key (NAME or NAME_FILE), its base URL
 * (NAME_BASE_URL, default the public endpoint) and the HTTP options. */
struct api_client {
	enum api_service service;
	const char *name;          /* "Gemini", "OpenAI", "ElevenLabs" */
	char base[API_BASE_MAX];
	char *key;                 /* NULL when not set */
	struct http_opts opts;
};
/* Fill c from the environment.  -1 and a message when a *_FILE cannot be
 * read or an option is malformed (a usage error).  A missing key is not an
 * error here: a local OpenAI-compatible server needs none. */
int api_client_init(struct api_client *c, enum api_service s, char *err, size_t errlen);
void api_client_free(struct api_client *c);
/* Use another base URL (a --*-base-url option).  -1 and a message naming
 * option when it is not an http(s) URL. */
int api_client_base(struct api_client *c, const char *url, const char *option, char *err, size_t errlen);
/* A backend can work: its key is set, or (OpenAI-compatible only) the base
 * URL names another server, which may need none.  -1 and a message saying
 * which variable to set, naming backend. */
int api_client_need_key(const struct api_client *c, const char *backend, char *err, size_t errlen);
/* Whether the service's key is set (NAME or NAME_FILE), for --backend auto. */
int api_key_set(enum api_service s);
const char *api_key_env(enum api_service s);       /* "GEMINI_API_KEY" */
const char *api_base_env(enum api_service s);      /* "GEMINI_BASE_URL" */
const char *api_base_default(enum api_service s);  /* the public endpoint */
/* A request to base + path with the service's key header and error parser. */
struct http_req *api_request(const struct api_client *c, const char *method, const char *path);
/* The same for an absolute URL the service handed out (an upload URL): the
 * key goes along only when the URL has the base URL's scheme and host. */
struct http_req *api_request_url(const struct api_client *c, const char *method, const char *url);
/* Whether two URLs have the same scheme, host and port. */
int api_same_origin(const char *a, const char *b);
/* Base64 (RFC 4648) of bytes, for data: URLs. */
void api_base64(const void *data, size_t len, struct buf *out);

/* ---- video analysis: events per interval ---- */
enum api_dialect { API_DIALECT_GEMINI, API_DIALECT_OPENAI };
/* {"events":[{t, kind, label, score[, line]}]}: Gemini's responseSchema
 * (OpenAPI subset, propertyOrdering) or an OpenAI strict JSON schema. */
json_object *api_events_schema(enum api_dialect d, int with_line);
/* The question for one clip of length seconds starting at start seconds of
 * the match.  with_line asks for one spoken commentary line per event in
 * lang, so narrate can use it without another request. */
void api_detect_prompt(struct buf *out, double start, double length, int with_line, const char *lang);
/* Parse a model's answer (the JSON text) into an events array for the
 * interval [start, end]: times given from the clip start are moved to match
 * time and clamped, scores clamped to 0..1, unknown kinds kept as "moment",
 * entries without a number t dropped, sorted by t, at most API_EVENTS_MAX.
 * Adds "source": "model".  NULL and a reason when the text is not the
 * shape asked for. */
json_object *api_parse_events(const char *text, size_t len, double start, double end,
			      char *err, size_t errlen);

/* ---- commentary ---- */
/* {"text": "..."} */
json_object *api_line_schema(enum api_dialect d);
struct api_narrate_ask {
	double length;            /* the clip's length, seconds */
	int max_words;            /* the text must fit: words at the speech rate */
	const char *lang;         /* "en", "es", ... */
	const char *style;        /* "excited", "calm", ... */
	json_object *events;      /* the highlight's events, times in match seconds */
	double start;             /* clip start, to give events relative times */
	json_object *earlier;     /* array of strings: the session's earlier lines */
};
void api_narrate_prompt(struct buf *out, const struct api_narrate_ask *a);
/* The text from {"text": "..."}: trimmed, one line, at most max_words words
 * (a longer answer is cut at a word boundary).  -1 and a reason when the
 * answer is not that shape or the text is empty. */
int api_parse_line(const char *answer, size_t len, int max_words, char *out, size_t n,
		   char *err, size_t errlen);

/* ---- speech ---- */
/* Whether bytes look like audio of the format ("mp3", "wav", "opus",
 * "aac", "flac", "pcm"; ElevenLabs "mp3_44100_128" counts as mp3).  0, or
 * -1 and a reason ("answer is not audio: it starts with '{\"detail'"). */
int api_check_audio(const void *data, size_t len, const char *format, char *err, size_t errlen);
/* The file extension for a format: "mp3", "wav", "ogg" (opus), "aac",
 * "flac", "pcm". */
const char *api_audio_ext(const char *format);

/* ---- small JSON helpers shared by the codecs ---- */
json_object *api_get(json_object *o, const char *key);                 /* NULL unless present */
json_object *api_get2(json_object *o, const char *camel, const char *snake);  /* either spelling */
const char *api_get_str(json_object *o, const char *key);
/* Parse a body as JSON: NULL and "not JSON: ..." in err. */
json_object *api_parse_json(const char *body, size_t len, char *err, size_t errlen);
/* Copy a string cut at a UTF-8 boundary, control characters made spaces. */
void api_copy_text(char *dst, size_t n, const char *src);

#endif
