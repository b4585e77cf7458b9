/* The narrate stream (stage.c): read records, plan windows, run backend
 * jobs, write records in order. */
#ifndef NARRATE_STAGE_H
#define NARRATE_STAGE_H

#include "backend.h"

struct stage_job;
struct nsess;

struct stage {
	struct loop *loop;
	struct nar_opts *o;
	const struct nar_backend *be;
	struct plan_opts po;
	struct sess_table sessions;
	struct nd_reader rd;
	int eof;
	int bad_input;             /* a line or record could not be used */
	int failed;                /* commentaries that failed (error records) */
	struct stage_job *head, *tail;   /* jobs waiting for a slot */
	int running;               /* jobs started and not done */
};

/* What the planner's callback needs. */
struct stage_cb {
	struct stage *st;
	struct nsess *s;
};

void stage_init(struct stage *st, struct loop *l, struct nar_opts *o, const struct nar_backend *be);
/* Start waiting jobs while there are free slots. */
void stage_pump(struct stage *st);
/* Until stdin ends and every job is done; the exit status. */
int stage_run(struct stage *st);
void stage_free(struct stage *st);

#endif
