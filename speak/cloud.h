/* What speak's cloud backends (elevenlabs.c, openai.c) share: sending the
 * request built by the backend, and turning the answer into an outcome --
 * the audio checked (a 200 with a JSON body is not speech) and written to
 * req->path; a spent quota SPEAK_QUOTA; any other failure SPEAK_FAILED with
 * the service's own words (never a key). */
#ifndef SPEAK_CLOUD_H
#define SPEAK_CLOUD_H
#include "backend.h"
#include "api_common.h"

/* Send r with c's options, no attempt longer than req's timeout; write the
 * audio (format for the check) to req->path; done once, from the loop. */
void speak_cloud_send(struct loop *l, struct http_req *r, const struct api_client *c,
		      const struct speak_req *req, const char *format, speak_done_fn done, void *arg);
/* A format option: one of the allowed (NULL-ended), its file extension
 * into ext.  -1 and a message naming the option. */
int speak_cloud_format(const char *option, const char *value, const char *const allowed[],
		       char *ext, size_t n, char *err, size_t errlen);

#endif
