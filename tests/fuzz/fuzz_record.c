/* Fuzz target: one input line as a record (common/ndjson.c), and a whole
 * input through the streaming reader, including the over-long-line path. */
#include "pc.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_object *rec = nd_parse_record((const char *)data, size, err, sizeof err);
	if (rec) {
		struct buf b = {0};
		rec_human(rec, &b);   /* the terminal view reads any record */
		buf_free(&b);
	}
	json_object_put(rec);

	int p[2];
	if (size > 60000 || pipe(p) < 0)
		return 0;
	if (write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	struct nd_reader r;
	nd_init(&r, p[0], "fuzz");
	r.max = 128;
	enum nd_result res;
	while ((res = nd_read(&r, &rec, err, sizeof err)) != ND_EOF) {
		if (res == ND_RECORD)
			json_object_put(rec);
	}
	nd_free(&r);
	close(p[0]);
	return 0;
}
