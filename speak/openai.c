/* speak --backend openai: OpenAI-compatible text to speech,
 * POST {base}/audio/speech {model, input, voice, response_format, speed}.
 * The speaking rate (--rate, or the commentary's words a second) becomes
 * speed, relative to 175 words a minute. */
#define _GNU_SOURCE
#include "cloud.h"
#include "cache.h"
#include "api_openai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAI_WPM_AT_SPEED_1 175.0   /* speed 1.0 is a voice's natural pace */

static const char *model = OPENAI_TTS_MODEL_DEFAULT;
static const char *format = OPENAI_SPEECH_FORMAT_DEFAULT;
static char ext[8] = "mp3";
static struct api_client client;
static const char *base_url;

static const char *const formats[] = {"mp3", "wav", "aac", "flac", "opus", NULL};

static const struct speak_option options[] = {
	{"openai-base-url", "OPENAI_BASE_URL", "URL", "the service endpoint", &base_url},
	{"openai-tts-model", "PLAYCALL_OPENAI_TTS_MODEL", "NAME", "speech model", &model},
	{"openai-format", "PLAYCALL_OPENAI_SPEECH_FORMAT", "FORMAT", "response_format: mp3, wav, aac, flac or opus",
	 &format},
	{0},
};

static int usable(void)
{
	return api_key_set(API_OPENAI);
}

static int init(char *err, size_t errlen)
{
	if (!*model) {
		snprintf(err, errlen, "--openai-tts-model: empty");
		return -1;
	}
	if (speak_cloud_format("openai-format", format, formats, ext, sizeof ext, err, errlen) < 0)
		return -1;
	if (api_client_init(&client, API_OPENAI, err, errlen) < 0 ||
	    (base_url && api_client_base(&client, base_url, "--openai-base-url", err, errlen) < 0))
		return -1;
	return api_client_need_key(&client, "openai", err, errlen);
}

static void voice(const char *opt_voice, const char *lang, char *out, size_t n)
{
	(void)lang;
	snprintf(out, n, "%s", opt_voice && *opt_voice ? opt_voice : OPENAI_VOICE_DEFAULT);
}

static double speed_of(int rate)
{
	double s = rate > 0 ? rate / OPENAI_WPM_AT_SPEED_1 : 1;
	return s < 0.25 ? 0.25 : s > 4 ? 4 : s;
}

static void key(const struct speak_req *req, char out[65])
{
	char speed[32];
	snprintf(speed, sizeof speed, "%.3f", speed_of(req->rate));
	cache_key(out, "openai", client.base, model, req->voice, format, speed, req->text, (char *)NULL);
}

static void start(struct loop *l, const struct speak_req *req, speak_done_fn done, void *arg)
{
	json_object *body = api_openai_speech_body(model, req->text, req->voice, format, speed_of(req->rate));
	struct http_req *r = api_openai_req(&client, "audio/speech", "audio/speech", body);
	json_object_put(body);
	speak_cloud_send(l, r, &client, req, format, done, arg);
}

const struct speak_backend speak_openai = {
	.name = "openai",
	.ext = ext,
	.options = options,
	.usable = usable,
	.init = init,
	.voice = voice,
	.key = key,
	.start = start,
};
