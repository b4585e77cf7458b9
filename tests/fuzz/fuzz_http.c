/* Fuzz target: a request head (sse-serve/httpd.c), and what the server
 * reads out of it next: the Range value, the If-Modified-Since date, an
 * If-None-Match list and the target's path. */
#include "../../sse-serve/httpd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpd_req req;
	if (size > HTTPD_REQ_MAX)
		size = HTTPD_REQ_MAX;
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int n = httpd_parse_request(buf, size, &req);
	if (n > 0) {
		if ((size_t)n > size)
			abort();
		if (req.path.p && (req.path.p < buf || req.path.p + req.path.n > buf + n))
			abort();
		off_t a, b;
		if (httpd_parse_range(req.range.p, req.range.n, 12345, &a, &b) == RANGE_OK &&
		    (a < 0 || b < a || b >= 12345))
			abort();
		httpd_parse_date(req.if_modified_since.p, req.if_modified_since.n);
		if (req.if_none_match.p)
			httpd_etag_match(req.if_none_match.p, req.if_none_match.n, "\"1-2\"");
		char out[PATH_URL_MAX];
		if (req.path.n > 1 && path_clean(req.path.p + 1, req.path.n - 1, out, sizeof out) == 0 &&
		    (strstr(out, "..") == out || strstr(out, "/..") || out[0] == '/'))
			abort();
	} else if (n < 0 && !httpd_reason(req.status))
		abort();
	free(buf);
	return 0;
}
