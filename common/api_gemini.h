/* Google Gemini API (generativelanguage v1beta): the Files API resumable
 * upload, file state polling, and generateContent; error bodies
 * {"error":{code, message, status, details[]}} with google.rpc.RetryInfo.
 * The key travels in the x-goog-api-key header, never in a URL. */
#ifndef PC_API_GEMINI_H
#define PC_API_GEMINI_H

#include "api_common.h"

#define GEMINI_MODEL_DEFAULT "gemini-2.5-flash"
#define GEMINI_POLL_FIRST 0.25        /* s: first wait for a file to become ACTIVE */
#define GEMINI_POLL_MAX 2.0           /* s: longest wait between polls */
#define GEMINI_ACTIVE_TIMEOUT 600.0   /* s: a file not ACTIVE by then fails */
#define GEMINI_NAME_MAX 256
#define GEMINI_URI_MAX 1024

/* A File resource as the service describes it. */
struct api_gemini_file {
	char name[GEMINI_NAME_MAX];      /* "files/abc-123" */
	char uri[GEMINI_URI_MAX];        /* what generateContent's fileData names */
	char state[32];                  /* "PROCESSING", "ACTIVE", "FAILED" */
	char mime[128];
	char error[512];                 /* File.error.message when FAILED */
	double video_duration;           /* videoMetadata.videoDuration; 0 unknown */
};

/* {"file": File} (upload answer) or a bare File (files.get).  0, or -1 and
 * a reason. */
int api_gemini_parse_file(const char *body, size_t len, struct api_gemini_file *f,
			  char *err, size_t errlen);
/* http_error_parser for Gemini's error bodies (also a list of them). */
int api_gemini_parse_error(const char *body, size_t len, struct http_service_error *e);
/* A google.protobuf.Duration as JSON ("12s", "1.5s"): seconds, -1 if bad. */
double api_gemini_parse_duration(const char *s);
char *api_gemini_duration(double seconds, char *out, size_t n);
/* The answer's text: candidates[0].content.parts[].text joined.  -1 and a
 * reason when there is none (blocked prompt, finishReason SAFETY, ...). */
int api_gemini_parse_generate(const char *body, size_t len, struct buf *text,
			      char *err, size_t errlen);

/* generateContent bodies.  A video part names an uploaded file; with
 * start < end the request covers only that window (Part.videoMetadata
 * startOffset / endOffset).  schema is taken (owned by the body). */
json_object *api_gemini_video_body(const char *file_uri, const char *mime, double start, double end,
				   const char *prompt, json_object *schema);
/* The video itself in the request (Part.inlineData, base64): no upload, no
 * wait for processing, one round trip; for requests under
 * GEMINI_REQUEST_MAX. */
#define GEMINI_REQUEST_MAX (20 * 1024 * 1024)
json_object *api_gemini_inline_video_body(const void *video, size_t len, const char *mime, const char *prompt,
					  json_object *schema);
json_object *api_gemini_text_body(const char *prompt, json_object *schema);
/* POST {base}/v1beta/models/{model}:generateContent with body (not taken). */
struct http_req *api_gemini_generate_req(const struct api_client *c, const char *model, json_object *body);

/* The whole upload of a byte range of a file: start, upload + finalize
 * (resumed from what the service has after a failure, X-Goog-Upload-Command:
 * query), then files.get until the file is ACTIVE. */
struct gemini_upload;
/* f is NULL on failure, with a one-line err and the HTTP status of the
 * request that failed (0: no answer, or the file failed processing). */
typedef void (*gemini_upload_cb)(struct gemini_upload *u, const struct api_gemini_file *f,
				 const char *err, long status, void *arg);
struct gemini_upload *gemini_upload_start(struct loop *l, const struct api_client *c,
					  const char *path, long long offset, long long len,
					  const char *mime, const char *display_name,
					  http_progress_cb progress, void *progress_arg,
					  gemini_upload_cb done, void *arg);
void gemini_upload_cancel(struct gemini_upload *u);

#endif
