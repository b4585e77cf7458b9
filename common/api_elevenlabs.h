/* ElevenLabs text to speech: POST {base}/v1/text-to-speech/{voice_id}
 * ?output_format=... with {text, model_id, voice_settings?} -> audio bytes.
 * Errors {"detail": {"status", "message"}} (or a string, or a list of
 * validation errors); an exhausted quota is status "quota_exceeded" (HTTP
 * 401), which the speak backend turns into audio with path null.  The key
 * is the xi-api-key header. */
#ifndef PC_API_ELEVENLABS_H
#define PC_API_ELEVENLABS_H

#include "api_common.h"

#define ELEVENLABS_MODEL_DEFAULT "eleven_multilingual_v2"
#define ELEVENLABS_VOICE_DEFAULT "JBFqnCBsd6RMkjVDRZzb"
#define ELEVENLABS_FORMAT_DEFAULT "mp3_44100_128"

int api_elevenlabs_parse_error(const char *body, size_t len, struct http_service_error *e);
/* Whether a failed answer says the character quota is spent. */
int api_elevenlabs_quota_exceeded(const struct http_resp *resp);
/* {text, model_id[, voice_settings: {stability, similarity_boost}]};
 * stability < 0: no voice_settings (the voice's own). */
json_object *api_elevenlabs_tts_body(const char *text, const char *model_id,
				     double stability, double similarity_boost);
/* The request, body not taken. */
struct http_req *api_elevenlabs_tts_req(const struct api_client *c, const char *voice_id,
					const char *output_format, json_object *body);

#endif
