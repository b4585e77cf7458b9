/* The table of detect's backends: adding one is a new file, its extern
 * declaration and its line in the table here (see backend.h).
 * `--backend auto` takes the first whose key is set, else local. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

extern const struct det_backend det_backend_local;
extern const struct det_backend det_backend_gemini;
extern const struct det_backend det_backend_openai;

const struct det_backend *const det_backends[] = {
	&det_backend_local,
	&det_backend_gemini,
	&det_backend_openai,
	NULL,
};

const struct det_backend *det_backend_find(const char *name)
{
	for (size_t i = 0; det_backends[i]; i++)
		if (!strcmp(det_backends[i]->name, name))
			return det_backends[i];
	return NULL;
}

const struct det_backend *det_backend_auto(void)
{
	for (size_t i = 0; det_backends[i]; i++) {
		const char *env = det_backends[i]->key_env;
		char *key = env ? cfg_get(env) : NULL;
		int set = key != NULL;
		free(key);
		if (set)
			return det_backends[i];
	}
	return &det_backend_local;
}
