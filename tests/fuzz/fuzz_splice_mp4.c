/* Fuzz target: the head of an MP4 file, where splice reads a chunk's
 * duration from the mvhd box (splice/parse.c). */
#include "../../splice/splice.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double d;
	char err[128];
	parse_mp4_duration(data, size, &d, err, sizeof err);
	return 0;
}
