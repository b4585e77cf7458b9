/* Fuzz target: a phrase table (narrate/phrases.c), and when it parses, the
 * commentator using it: numbers, time in words, every part of a window. */
#include "../../narrate/narrate.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_table t;
	char err[300];
	if (ph_parse((const char *)data, size, "fuzz", &t, err, sizeof err) < 0)
		return 0;
	char words[64];
	for (long n = 0; n <= PH_NUMBER_MAX + 1; n += 7)
		ph_number(&t, n, words, sizeof words);
	struct cm_state st;
	cm_state_init(&st, size, "fuzz");
	struct cm_event ev[3] = {
		{.t = 3, .score = 0.2, .kind = "crowd", .label = "a"},
		{.t = 61, .score = 0.95, .kind = "whistle", .label = "b"},
		{.t = 66, .score = 0.5, .kind = "new", .label = NULL},
	};
	const char *style = t.nstyles ? t.styles[0] : "";
	struct buf out = {0};
	double lens[] = {1.2, 4, 12, 40};
	for (int full = 0; full < 2; full++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			struct cm_request rq = {.start = 58, .end = 58 + lens[i], .ev = ev, .nev = full ? 0 : 3,
						.peak = full ? -1 : 1, .full = full, .style = style,
						.max_words = fit_budget(lens[i], 1, 2.9)};
			if (cm_compose(&t, &rq, &st, &out) == 0 && fit_words(out.data) > rq.max_words + 1e-9)
				abort();   /* the fit is a promise */
		}
	buf_free(&out);
	cm_state_free(&st);
	ph_free(&t);
	return 0;
}
