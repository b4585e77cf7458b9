/* narrate --backend openai: commentary by an OpenAI-compatible model
 * (chat/completions with a strict {"text"} JSON schema), one request per
 * highlight; see cloud.h. */
#define _GNU_SOURCE
#include "cloud.h"
#include "api_openai.h"

static struct http_req *request(struct nar_cloud *nc, const char *model, const char *prompt)
{
	json_object *parts = json_object_new_array();
	json_object_array_add(parts, api_openai_text_part(prompt));
	json_object *body = api_openai_chat_body(model, "You are a live football commentator.", parts,
						 "commentary", api_line_schema(API_DIALECT_OPENAI));
	struct http_req *r = api_openai_req(&nc->client, "chat/completions", "chat", body);
	json_object_put(body);
	return r;
}

static struct nar_cloud openai = {
	.service = API_OPENAI,
	.default_model = OPENAI_CHAT_MODEL_DEFAULT,
	.request = request,
	.answer = api_openai_parse_chat,
};

NAR_CLOUD_BACKEND(openai, openai);
