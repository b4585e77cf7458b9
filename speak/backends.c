/* The speech backends, and the choice between them (backend.h says how to
 * add one: its file, and its line here). */
#include "backend.h"

#include <string.h>

extern const struct speak_backend speak_espeak;
extern const struct speak_backend speak_elevenlabs;
extern const struct speak_backend speak_openai;

/* --backend auto takes the first usable one: cloud backends go above the
 * offline one, which stays last as the fallback. */
const struct speak_backend *const speak_backends[] = {
	&speak_elevenlabs,
	&speak_openai,
	&speak_espeak,
	NULL,
};

const struct speak_backend *speak_backend_find(const char *name)
{
	const struct speak_backend *last = NULL;
	for (size_t i = 0; speak_backends[i]; i++) {
		const struct speak_backend *b = speak_backends[i];
		if (!strcmp(name, b->name))
			return b;
		if (!strcmp(name, "auto") && b->usable && b->usable())
			return b;
		last = b;
	}
	return strcmp(name, "auto") ? NULL : last;
}
