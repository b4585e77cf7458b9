/* Fuzz target: an input line as narrate reads it -- a record, an events
 * record checked (narrate/plan.c), its windows planned every way -- and the
 * line as text to fit and trim (narrate/fit.c). */
#include "../../narrate/narrate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void drop(void *arg, struct plan_window *w)
{
	int *n = arg;
	if (w->end < w->start)
		abort();
	(*n)++;
	json_object_put(w->events);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300];
	if (size > 65536)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	double words = fit_words(text);
	fit_trim(text, words / 2);
	if (fit_words(text) > words / 2 + 1e-9)
		abort();
	free(text);

	json_object *rec = nd_parse_record((const char *)data, size, err, sizeof err);
	if (!rec)
		return 0;
	struct plan_interval *iv = malloc(sizeof *iv);
	if (plan_parse_events(rec, iv, err, sizeof err) == 0) {
		for (int mode = 0; mode < 4; mode++) {
			struct plan_opts o = {.lead = 5, .tail = 7, .min_score = mode * 0.3, .max_per_interval = mode,
					      .full = mode == 3, .min_len = 1.5};
			struct plan p = {.duration = mode == 1 ? 0 : 60};
			int n = 0;
			plan_add_interval(&p, &o, iv, drop, &n);
			plan_add_interval(&p, &o, iv, drop, &n);   /* the same again: late, overlapping */
			plan_finish(&p, &o, drop, &n);
			plan_free(&p);
		}
		plan_interval_release(iv);
	}
	free(iv);
	json_object_put(rec);
	return 0;
}
