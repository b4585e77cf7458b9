/* Ordered output: records of one session leave in the order their inputs
 * came, each as soon as it and everything before it is done. */
#include "pc.h"

#include <stdlib.h>

struct outq_item *outq_push(struct outq *q)
{
	struct outq_item *it = pc_xcalloc(1, sizeof *it);
	it->recs = json_object_new_array();
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	return it;
}

void outq_add(struct outq_item *it, json_object *rec)
{
	json_object_array_add(it->recs, rec);
}

void outq_ready(struct outq_item *it)
{
	it->ready = 1;
}

void outq_push_record(struct outq *q, json_object *rec)
{
	struct outq_item *it = outq_push(q);
	outq_add(it, rec);
	outq_ready(it);
}

static void item_free(struct outq_item *it)
{
	json_object_put(it->recs);
	free(it);
}

int outq_flush(struct outq *q)
{
	int written = 0;
	while (q->head && q->head->ready) {
		struct outq_item *it = q->head;
		size_t n = json_object_array_length(it->recs);
		for (size_t i = 0; i < n; i++)
			out_record(json_object_array_get_idx(it->recs, i));
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		item_free(it);
		written++;
	}
	return written;
}

int outq_empty(const struct outq *q)
{
	return q->head == NULL;
}

void outq_free(struct outq *q)
{
	while (q->head) {
		struct outq_item *it = q->head;
		q->head = it->next;
		item_free(it);
	}
	q->tail = NULL;
}
