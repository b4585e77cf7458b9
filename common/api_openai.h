/* OpenAI-compatible services (OpenAI, and local servers that speak its
 * API: Ollama, llama.cpp, vLLM): POST {base}/chat/completions with text and
 * image_url parts and a strict JSON schema; POST {base}/audio/speech.
 * Errors {"error":{message, type, param, code}} (and the looser shapes some
 * compatible servers use).  The key is "Authorization: Bearer KEY". */
#ifndef PC_API_OPENAI_H
#define PC_API_OPENAI_H

#include "api_common.h"

#define OPENAI_CHAT_MODEL_DEFAULT "gpt-4o-mini"
#define OPENAI_TTS_MODEL_DEFAULT "gpt-4o-mini-tts"
#define OPENAI_VOICE_DEFAULT "alloy"
#define OPENAI_SPEECH_FORMAT_DEFAULT "mp3"

int api_openai_parse_error(const char *body, size_t len, struct http_service_error *e);

/* Content parts of a user message. */
json_object *api_openai_text_part(const char *text);
/* An image as a data: URL; detail "low", "high" or "auto" (NULL: none). */
json_object *api_openai_image_part(const void *jpeg, size_t len, const char *detail);
/* {model, messages: [system?, user(parts)], response_format: {type:
 * "json_schema", json_schema: {name, schema, strict: true}}}.  parts and
 * schema are taken. */
json_object *api_openai_chat_body(const char *model, const char *system, json_object *parts,
				  const char *schema_name, json_object *schema);
/* choices[0].message.content.  -1 and a reason when there is none (a
 * refusal, an answer cut at max tokens, ...). */
int api_openai_parse_chat(const char *body, size_t len, struct buf *content, char *err, size_t errlen);
/* {model, input, voice, response_format[, speed]}; speed <= 0: none. */
json_object *api_openai_speech_body(const char *model, const char *input, const char *voice,
				    const char *format, double speed);
/* POST {base}/PATH with a JSON body (not taken). */
struct http_req *api_openai_req(const struct api_client *c, const char *path, const char *label,
				json_object *body);

#endif
