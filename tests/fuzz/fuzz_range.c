/* Fuzz target: a Range header value against several file sizes
 * (sse-serve/httpd.c).  An accepted range always lies inside the file. */
#include "../../sse-serve/httpd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const off_t sizes[] = {0, 1, 100, 1 << 20, (off_t)1 << 40};
	char *v = malloc(size ? size : 1);
	if (!v)
		return 0;
	memcpy(v, data, size);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		off_t a = -1, b = -1;
		if (httpd_parse_range(v, size, sizes[i], &a, &b) == RANGE_OK &&
		    (a < 0 || b < a || b >= sizes[i]))
			abort();
	}
	free(v);
	return 0;
}
