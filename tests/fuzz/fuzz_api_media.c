/* Fuzz target: what ffmpeg writes for the cloud analysis (common/api_media.c):
 * segment list lines and a stream of JPEG frames. */
#include "pc.h"
#include "api_media.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void frame(void *arg, const unsigned char *jpeg, size_t len)
{
	(void)jpeg;
	*(size_t *)arg += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *z = malloc(size + 1);
	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	char name[256];
	double a, b;
	api_parse_segment_line(z, name, sizeof name, &a, &b);
	free(z);

	struct jpeg_split j;
	size_t total = 0;
	jpeg_split_init(&j);
	jpeg_split_feed(&j, data, size / 2, frame, &total);
	jpeg_split_feed(&j, data + size / 2, size - size / 2, frame, &total);
	jpeg_split_free(&j);
	return 0;
}
