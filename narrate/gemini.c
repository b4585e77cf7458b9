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

static int usable(const struct nar_opts *o)
{
	(void)o;
	return nar_cloud_usable(API_GEMINI);
}

static int init(struct loop *l, struct nar_opts *o, char *err, size_t errlen)
{
	(void)l;
	(void)o;
	return nar_cloud_init(&gemini, err, errlen);
}

static void start(struct nar_job *job)
{
	nar_cloud_start(&gemini, job);
}

static void cleanup(void)
{
	nar_cloud_cleanup(&gemini);
}

const struct nar_backend nar_gemini = {
	.name = "gemini",
	.usable = usable,
	.init = init,
	.start = start,
	.cleanup = cleanup,
};
