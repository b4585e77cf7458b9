/* The backends narrate knows.  Adding one is a new file and one X(name)
 * line here (for `const struct nar_backend nar_<name>` in narrate/<name>.c);
 * `--backend auto` takes the first whose usable() says yes, so cloud
 * backends go above local, which is always usable. */
#define _GNU_SOURCE
#include "backend.h"

#include <stdio.h>
#include <string.h>

#define NAR_BACKENDS \
	X(gemini) \
	X(openai) \
	X(local)

#define X(name) extern const struct nar_backend nar_##name;
NAR_BACKENDS
#undef X
#define X(name) &nar_##name,
static const struct nar_backend *const backends[] = {NAR_BACKENDS};
#undef X
#define NBACKENDS (sizeof backends / sizeof backends[0])

const struct nar_backend *nar_backend_select(const char *name, const struct nar_opts *o)
{
	for (size_t i = 0; i < NBACKENDS; i++) {
		const struct nar_backend *b = backends[i];
		if (!strcmp(name, "auto") ? b->usable && b->usable(o) : !strcmp(name, b->name))
			return b;
	}
	return NULL;
}

void nar_backend_names(char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NBACKENDS && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s, ", backends[i]->name);
	if (used < n)
		snprintf(out + used, n - used, "auto");
}
