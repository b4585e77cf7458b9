/* Fuzz target: WAV headers (common/wav.c), as a whole file and as the head
 * of a longer one. */
#include "wav.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wav_info wi;
	char err[256];
	wav_parse(data, size, size, &wi, err, sizeof err);
	wav_parse(data, size, (uint64_t)size + 1000000, &wi, err, sizeof err);
	return 0;
}
