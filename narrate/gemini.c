/* narrate --backend gemini: commentary by Google Gemini (generateContent
 * with a {"text"} response schema), one request per highlight; see cloud.h. */
#define _GNU_SOURCE
#include "cloud.h"
#include "api_gemini.h"

static struct http_req *request(struct nar_cloud *nc, const char *model, const char *prompt)
{
	json_object *body = api_gemini_text_body(prompt, api_line_schema(API_DIALECT_GEMINI));
	struct http_req *r = api_gemini_generate_req(&nc->client, model, body);
	json_object_put(body);
	return r;
}

static struct nar_cloud gemini = {
	.service = API_GEMINI,
	.default_model = GEMINI_MODEL_DEFAULT,
	.request = request,
	.answer = api_gemini_parse_generate,
};

NAR_CLOUD_BACKEND(gemini, gemini);
