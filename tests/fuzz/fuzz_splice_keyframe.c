/* Fuzz target: ffprobe's packet list, as splice reads it to find the
 * keyframe a copied chunk starts on (splice/parse.c). */
#include "../../splice/splice.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double kf;
	parse_keyframe((const char *)data, size, 12.5, &kf);
	parse_keyframe((const char *)data, size, 0, &kf);
	return 0;
}
