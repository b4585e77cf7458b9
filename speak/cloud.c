/* The answer of a speech request to a file and an outcome.  See cloud.h. */
#define _GNU_SOURCE
#include "cloud.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sreq {
	char path[4096];
	char format[32];
	speak_done_fn done;
	void *arg;
};

static int quota_spent(const struct http_resp *resp)
{
	return !strcmp(resp->svc.status, "quota_exceeded") || !strcmp(resp->svc.status, "insufficient_quota");
}

static void on_speech(struct http_req *r, struct http_resp *resp, void *arg)
{
	struct sreq *q = arg;
	char err[600];
	(void)r;
	enum speak_outcome outcome = SPEAK_OK;
	const char *msg = NULL;
	if (!resp->ok) {
		outcome = quota_spent(resp) ? SPEAK_QUOTA : SPEAK_FAILED;
		msg = resp->error;
	} else if (api_check_audio(resp->body.data, resp->body.len, q->format, err, sizeof err) < 0) {
		outcome = SPEAK_FAILED;
		msg = err;
	} else if (atomic_write(q->path, resp->body.data, resp->body.len) < 0) {
		snprintf(err, sizeof err, "writing the speech: %s", strerror(errno));
		outcome = SPEAK_FAILED;
		msg = err;
	}
	speak_done_fn done = q->done;
	void *darg = q->arg;
	free(q);
	done(darg, outcome, msg);
}

void speak_cloud_send(struct loop *l, struct http_req *r, const struct api_client *c,
		      const struct speak_req *req, const char *format, speak_done_fn done, void *arg)
{
	struct http_opts o = c->opts;
	if (req->timeout > 0 && req->timeout < o.timeout)
		o.timeout = req->timeout;
	http_set_opts(r, &o);
	struct sreq *q = pc_xcalloc(1, sizeof *q);
	snprintf(q->path, sizeof q->path, "%s", req->path);
	snprintf(q->format, sizeof q->format, "%s", format);
	q->done = done;
	q->arg = arg;
	http_start(l, r, on_speech, q);
}

int speak_cloud_format(const char *option, const char *value, const char *const allowed[],
		       char *ext, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; allowed[i]; i++) {
		if (!strcmp(value, allowed[i])) {
			snprintf(ext, n, "%s", api_audio_ext(value));
			return 0;
		}
	}
	struct buf list = {0};
	for (size_t i = 0; allowed[i]; i++)
		buf_printf(&list, "%s%s", i ? ", " : "", allowed[i]);
	snprintf(err, errlen, "--%s: one of %s, not '%s'", option, buf_cstr(&list), value);
	buf_free(&list);
	return -1;
}
