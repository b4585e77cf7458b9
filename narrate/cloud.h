/* What narrate's cloud backends (gemini.c, openai.c) share: one request per
 * highlight (the events with times from the clip start, the window length
 * and the words that fit it, the language, the style, the session's earlier
 * lines), or none at all when the video analysis already wrote a line for
 * the highlight's best event in the right language (detect --gemini-lines /
 * --openai-lines): that line was written by a model that saw the moment, and
 * it saves a round trip on the way to the first chunk.  PLAYCALL_NARRATE_LINES
 * says which: "reuse" (the default) or "ask" (always a request).
 *
 * A request that fails skips its highlight with an `error` record (the
 * stage writes it), unless PLAYCALL_NARRATE_FALLBACK=local: then the
 * offline commentator says something instead, and the record's backend
 * is "local". */
#ifndef NARRATE_CLOUD_H
#define NARRATE_CLOUD_H
#include "backend.h"
#include "api_common.h"

struct nar_cloud {
	enum api_service service;
	const char *default_model;
	struct api_client client;
	int reuse_lines;
	int fallback_local;
	/* Build the request for a prompt (the body's schema included). */
	struct http_req *(*request)(struct nar_cloud *nc, const char *model, const char *prompt);
	/* The answer's text out of a response body; -1 and a reason. */
	int (*answer)(const char *body, size_t len, struct buf *text, char *err, size_t errlen);
};

int nar_cloud_usable(enum api_service s);
int nar_cloud_init(struct nar_cloud *nc, char *err, size_t errlen);
void nar_cloud_start(struct nar_cloud *nc, struct nar_job *job);
void nar_cloud_cleanup(struct nar_cloud *nc);
/* The struct nar_backend NAME for the struct nar_cloud NC: its usable,
 * init, start and cleanup are nar_cloud's. */
#define NAR_CLOUD_BACKEND(NAME, NC)                                               \
	static int NAME##_usable(const struct nar_opts *o)                        \
	{                                                                         \
		(void)o;                                                          \
		return nar_cloud_usable((NC).service);                            \
	}                                                                         \
	static int NAME##_init(struct loop *l, struct nar_opts *o, char *err, size_t errlen) \
	{                                                                         \
		(void)l;                                                          \
		(void)o;                                                          \
		return nar_cloud_init(&(NC), err, errlen);                        \
	}                                                                         \
	static void NAME##_start(struct nar_job *job)                             \
	{                                                                         \
		nar_cloud_start(&(NC), job);                                      \
	}                                                                         \
	static void NAME##_cleanup(void)                                          \
	{                                                                         \
		nar_cloud_cleanup(&(NC));                                         \
	}                                                                         \
	const struct nar_backend nar_##NAME = {                                   \
		.name = #NAME,                                                    \
		.usable = NAME##_usable,                                          \
		.init = NAME##_init,                                              \
		.start = NAME##_start,                                            \
		.cleanup = NAME##_cleanup,                                        \
	}

/* The line of the best event that can be said as it is, or NULL. */
const char *nar_cloud_reusable_line(json_object *events, const char *lang, json_object *earlier, double max_words);

#endif
