/* speak --backend elevenlabs: ElevenLabs text to speech,
 * POST {base}/v1/text-to-speech/{voice_id}?output_format=..., MP3 back.
 * A spent character quota (detail.status "quota_exceeded") is SPEAK_QUOTA:
 * the chunk is made without commentary and a status record says why. */
#define _GNU_SOURCE
#include "cloud.h"
#include "cache.h"
#include "api_elevenlabs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *model = ELEVENLABS_MODEL_DEFAULT;
static const char *format = ELEVENLABS_FORMAT_DEFAULT;
static const char *stability = "";
static const char *similarity = "";
static double stability_v = -1, similarity_v = -1;
static char ext[8] = "mp3";
static struct api_client client;
static const char *base_url;

static const char *const formats[] = {
	"mp3_22050_32", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192", NULL,
};

static const struct speak_option options[] = {
	{"elevenlabs-base-url", "ELEVENLABS_BASE_URL", "URL", "the service endpoint", &base_url},
	{"elevenlabs-model", "PLAYCALL_ELEVENLABS_MODEL", "ID", "ElevenLabs model_id", &model},
	{"elevenlabs-format", "PLAYCALL_ELEVENLABS_FORMAT", "FORMAT", "output_format (mp3_44100_128, ...)", &format},
	{"elevenlabs-stability", "PLAYCALL_ELEVENLABS_STABILITY", "0-1", "voice_settings.stability (default: the voice's own)",
	 &stability},
	{"elevenlabs-similarity", "PLAYCALL_ELEVENLABS_SIMILARITY", "0-1",
	 "voice_settings.similarity_boost (with --elevenlabs-stability)", &similarity},
	{0},
};

static int unit_option(const char *name, const char *v, double *out, char *err, size_t errlen)
{
	if (!v || !*v)
		return 0;
	double d = pc_parse_seconds(v);
	if (!(d >= 0 && d <= 1)) {
		snprintf(err, errlen, "--%s: want a number from 0 to 1, not '%s'", name, v);
		return -1;
	}
	*out = d;
	return 0;
}

static int usable(void)
{
	return api_key_set(API_ELEVENLABS);
}

static int init(char *err, size_t errlen)
{
	if (!*model) {
		snprintf(err, errlen, "--elevenlabs-model: empty");
		return -1;
	}
	if (speak_cloud_format("elevenlabs-format", format, formats, ext, sizeof ext, err, errlen) < 0 ||
	    unit_option("elevenlabs-stability", stability, &stability_v, err, errlen) < 0 ||
	    unit_option("elevenlabs-similarity", similarity, &similarity_v, err, errlen) < 0)
		return -1;
	if (api_client_init(&client, API_ELEVENLABS, err, errlen) < 0 ||
	    (base_url && api_client_base(&client, base_url, "--elevenlabs-base-url", err, errlen) < 0))
		return -1;
	return api_client_need_key(&client, "elevenlabs", err, errlen);
}

/* A multilingual voice speaks every language: the model hears it in the text. */
static void voice(const char *opt_voice, const char *lang, char *out, size_t n)
{
	(void)lang;
	snprintf(out, n, "%s", opt_voice && *opt_voice ? opt_voice : ELEVENLABS_VOICE_DEFAULT);
}

static void key(const struct speak_req *req, char out[65])
{
	char vs[64];
	snprintf(vs, sizeof vs, "%g/%g", stability_v, similarity_v);
	cache_key(out, "elevenlabs", model, req->voice, format, vs, req->text, (char *)NULL);
}

static void start(struct loop *l, const struct speak_req *req, speak_done_fn done, void *arg)
{
	json_object *body = api_elevenlabs_tts_body(req->text, model, stability_v, similarity_v);
	struct http_req *r = api_elevenlabs_tts_req(&client, req->voice, format, body);
	json_object_put(body);
	speak_cloud_send(l, r, &client, req, format, done, arg);
}

const struct speak_backend speak_elevenlabs = {
	.name = "elevenlabs",
	.ext = ext,
	.options = options,
	.usable = usable,
	.init = init,
	.voice = voice,
	.key = key,
	.start = start,
};
