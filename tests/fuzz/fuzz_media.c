/* Fuzz target: ffprobe's JSON output (common/media.c). */
#include "pc.h"
#include "media.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_info mi;
	char err[256];
	media_parse((const char *)data, size, &mi, err, sizeof err);
	return 0;
}
