/* OpenAI-compatible: codecs.  See api_openai.h. */
#define _GNU_SOURCE
#include "api_openai.h"

#include <stdio.h>
#include <string.h>

int api_openai_parse_error(const char *body, size_t len, struct http_service_error *e)
{
	char err[128];
	memset(e, 0, sizeof *e);
	json_object *root = api_parse_json(body, len, err, sizeof err);
	if (!root)
		return -1;
	json_object *error = api_get(root, "error");
	const char *msg = NULL, *status = NULL;
	if (error && json_object_is_type(error, json_type_string)) {
		msg = json_object_get_string(error);             /* {"error": "..."} (Ollama) */
	} else if (error) {
		msg = api_get_str(error, "message");
		status = api_get_str(error, "code");             /* "invalid_api_key", "insufficient_quota" */
		if (!status)
			status = api_get_str(error, "type");
	} else {
		msg = api_get_str(root, "message");              /* {"object":"error","message":...} (vLLM) */
		status = api_get_str(root, "type");
	}
	if (!msg) {
		json_object_put(root);
		return -1;
	}
	api_copy_text(e->message, sizeof e->message, msg);
	api_copy_text(e->status, sizeof e->status, status);
	/* A spent balance is a 429 that no wait cures. */
	e->permanent = !strcmp(e->status, "insufficient_quota");
	json_object_put(root);
	return 0;
}

json_object *api_openai_text_part(const char *text)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "type", json_object_new_string("text"));
	json_object_object_add(p, "text", json_object_new_string(text));
	return p;
}

json_object *api_openai_image_part(const void *jpeg, size_t len, const char *detail)
{
	struct buf url = {0};
	buf_puts(&url, "data:image/jpeg;base64,");
	api_base64(jpeg, len, &url);
	json_object *img = json_object_new_object();
	json_object_object_add(img, "url", json_object_new_string_len(url.data, (int)url.len));
	if (detail)
		json_object_object_add(img, "detail", json_object_new_string(detail));
	buf_free(&url);
	json_object *p = json_object_new_object();
	json_object_object_add(p, "type", json_object_new_string("image_url"));
	json_object_object_add(p, "image_url", img);
	return p;
}

static json_object *message(const char *role, json_object *content)
{
	json_object *m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", content);
	return m;
}

json_object *api_openai_chat_body(const char *model, const char *system, json_object *parts,
				  const char *schema_name, json_object *schema)
{
	json_object *messages = json_object_new_array();
	if (system)
		json_object_array_add(messages, message("system", json_object_new_string(system)));
	json_object_array_add(messages, message("user", parts));
	json_object *js = json_object_new_object();
	json_object_object_add(js, "name", json_object_new_string(schema_name));
	json_object_object_add(js, "schema", schema);
	json_object_object_add(js, "strict", json_object_new_boolean(1));
	json_object *rf = json_object_new_object();
	json_object_object_add(rf, "type", json_object_new_string("json_schema"));
	json_object_object_add(rf, "json_schema", js);
	json_object *body = json_object_new_object();
	json_object_object_add(body, "model", json_object_new_string(model));
	json_object_object_add(body, "messages", messages);
	json_object_object_add(body, "response_format", rf);
	return body;
}

int api_openai_parse_chat(const char *body, size_t len, struct buf *content, char *err, size_t errlen)
{
	json_object *root = api_parse_json(body, len, err, errlen);
	if (!root)
		return -1;
	json_object *choices = api_get(root, "choices");
	json_object *c0 = choices && json_object_is_type(choices, json_type_array) &&
			  json_object_array_length(choices) > 0 ? json_object_array_get_idx(choices, 0) : NULL;
	json_object *msg = api_get(c0, "message");
	const char *text = api_get_str(msg, "content");
	const char *refusal = api_get_str(msg, "refusal");
	const char *finish = api_get_str(c0, "finish_reason");
	int rc = -1;
	buf_reset(content);
	if (!c0)
		snprintf(err, errlen, "answer has no choices");
	else if (refusal && *refusal)
		snprintf(err, errlen, "the model refused: %.300s", refusal);
	else if (finish && !strcmp(finish, "length"))
		snprintf(err, errlen, "the answer was cut short (finish_reason length)");
	else if (!text || !*text)
		snprintf(err, errlen, "no content in the answer");
	else {
		buf_puts(content, text);
		rc = 0;
	}
	json_object_put(root);
	return rc;
}

json_object *api_openai_speech_body(const char *model, const char *input, const char *voice,
				    const char *format, double speed)
{
	json_object *body = json_object_new_object();
	json_object_object_add(body, "model", json_object_new_string(model));
	json_object_object_add(body, "input", json_object_new_string(input));
	json_object_object_add(body, "voice", json_object_new_string(voice));
	json_object_object_add(body, "response_format", json_object_new_string(format));
	if (speed > 0)
		json_object_object_add(body, "speed", json_object_new_double(speed));
	return body;
}

struct http_req *api_openai_req(const struct api_client *c, const char *path, const char *label,
				json_object *body)
{
	struct http_req *r = api_request(c, "POST", path);
	http_set_label(r, label);
	http_body_json(r, body);
	return r;
}
