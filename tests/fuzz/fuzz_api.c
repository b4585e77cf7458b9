/* Fuzz target: every parser of what a cloud service answers (common/api_*.c)
 * and the Retry-After header parser (common/http.c). */
#include "pc.h"
#include "http.h"
#include "api_common.h"
#include "api_gemini.h"
#include "api_openai.h"
#include "api_elevenlabs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[512], line[API_TEXT_MAX];
	struct http_service_error e;
	api_gemini_parse_error(s, size, &e);
	api_openai_parse_error(s, size, &e);
	api_elevenlabs_parse_error(s, size, &e);

	struct api_gemini_file f;
	api_gemini_parse_file(s, size, &f, err, sizeof err);
	struct buf text = {0};
	api_gemini_parse_generate(s, size, &text, err, sizeof err);
	api_openai_parse_chat(s, size, &text, err, sizeof err);
	buf_free(&text);

	json_object *evs = api_parse_events(s, size, 30, 60, err, sizeof err);
	json_object_put(evs);
	evs = api_parse_events(s, size, 0, 0, err, sizeof err);
	json_object_put(evs);
	api_parse_line(s, size, 12, line, sizeof line, err, sizeof err);
	api_check_audio(s, size, "mp3", err, sizeof err);
	api_check_audio(s, size, "wav", err, sizeof err);

	/* The string parsers take NUL-terminated text. */
	char *z = malloc(size + 1);
	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	http_parse_retry_after(z, 1700000000LL);
	api_gemini_parse_duration(z);
	char copy[64];
	api_copy_text(copy, sizeof copy, z);
	free(z);
	return 0;
}
