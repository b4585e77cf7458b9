/* Fuzz target: what splice takes from its input records (session and audio)
 * and from ffprobe's description of the source (splice/parse.c). */
#include "../../splice/splice.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_object *rec = nd_parse_record((const char *)data, size, err, sizeof err);
	if (rec) {
		struct chunk_req req;
		struct session_info si;
		if (parse_audio(rec, &req, err, sizeof err) == 0)
			chunk_req_free(&req);
		if (parse_session(rec, &si, err, sizeof err) == 0)
			session_info_free(&si);
		json_object_put(rec);
	}
	struct media_info mi;
	double start;
	parse_probe((const char *)data, size, &mi, &start, err, sizeof err);
	return 0;
}
