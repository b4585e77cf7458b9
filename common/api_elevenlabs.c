/* ElevenLabs: codecs.  See api_elevenlabs.h. */
#define _GNU_SOURCE
#include "api_elevenlabs.h"

#include <stdio.h>
#include <string.h>

int api_elevenlabs_parse_error(const char *body, size_t len, struct http_service_error *e)
{
	char err[128];
	memset(e, 0, sizeof *e);
	json_object *root = api_parse_json(body, len, err, sizeof err);
	if (!root)
		return -1;
	json_object *detail = api_get(root, "detail");
	int rc = 0;
	if (detail && json_object_is_type(detail, json_type_string)) {
		api_copy_text(e->message, sizeof e->message, json_object_get_string(detail));
	} else if (detail && json_object_is_type(detail, json_type_object)) {
		const char *status = api_get_str(detail, "status");
		if (!status)
			status = api_get_str(detail, "code");
		api_copy_text(e->status, sizeof e->status, status);
		api_copy_text(e->message, sizeof e->message, api_get_str(detail, "message"));
	} else if (detail && json_object_is_type(detail, json_type_array)) {
		/* Validation errors: "msg" of each, with where ("body.text"). */
		struct buf m = {0};
		size_t n = json_object_array_length(detail);
		for (size_t i = 0; i < n && m.len < sizeof e->message; i++) {
			json_object *d = json_object_array_get_idx(detail, i);
			const char *msg = api_get_str(d, "msg");
			if (!msg)
				continue;
			if (m.len)
				buf_puts(&m, "; ");
			json_object *loc = api_get(d, "loc");
			size_t nl = loc && json_object_is_type(loc, json_type_array) ? json_object_array_length(loc) : 0;
			for (size_t k = 0; k < nl && k < 8; k++)
				buf_printf(&m, "%s%s", k ? "." : "", json_object_get_string(json_object_array_get_idx(loc, k)));
			buf_printf(&m, "%s%s", nl ? ": " : "", msg);
		}
		api_copy_text(e->message, sizeof e->message, buf_cstr(&m));
		buf_free(&m);
	} else {
		rc = -1;
	}
	if (!rc && !e->message[0] && !e->status[0])
		rc = -1;
	else if (!rc && !e->message[0])
		snprintf(e->message, sizeof e->message, "%s", e->status);
	e->permanent = !strcmp(e->status, "quota_exceeded");
	json_object_put(root);
	return rc;
}

int api_elevenlabs_quota_exceeded(const struct http_resp *resp)
{
	return !resp->ok && !strcmp(resp->svc.status, "quota_exceeded");
}

json_object *api_elevenlabs_tts_body(const char *text, const char *model_id,
				     double stability, double similarity_boost)
{
	json_object *body = json_object_new_object();
	json_object_object_add(body, "text", json_object_new_string(text));
	json_object_object_add(body, "model_id", json_object_new_string(model_id));
	if (stability >= 0) {
		json_object *vs = json_object_new_object();
		json_object_object_add(vs, "stability", json_object_new_double(stability));
		json_object_object_add(vs, "similarity_boost",
				       json_object_new_double(similarity_boost >= 0 ? similarity_boost : 0.75));
		json_object_object_add(body, "voice_settings", vs);
	}
	return body;
}

struct http_req *api_elevenlabs_tts_req(const struct api_client *c, const char *voice_id,
					const char *output_format, json_object *body)
{
	char path[1024], v[512], f[128];
	snprintf(path, sizeof path, "v1/text-to-speech/%s?output_format=%s",
		 http_escape(voice_id, v, sizeof v), http_escape(output_format, f, sizeof f));
	struct http_req *r = api_request(c, "POST", path);
	http_set_label(r, "text-to-speech");
	http_header(r, "Accept", "audio/mpeg");
	http_body_json(r, body);
	return r;
}
