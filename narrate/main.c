/* narrate: events in, commentary out.  See narrate(1). */
#define _GNU_SOURCE
#include "stage.h"
#include "opts.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	pc_init(argv[0]);
	struct nar_opts o;
	char err[600];
	nar_opts_default(&o);
	int rc = nar_opts_parse(&o, argc, argv, err, sizeof err);
	if (rc > 0) {
		fputs(nar_usage, stdout);
		return PC_EXIT_OK;
	}
	if (rc < 0) {
		fputs(nar_usage, stderr);
		pc_die(PC_EXIT_USAGE, "%s", err);
	}
	const struct nar_backend *be = nar_backend_select(o.backend, &o);
	if (!be) {
		char names[200];
		nar_backend_names(names, sizeof names);
		pc_die(PC_EXIT_USAGE, "--backend %s: no such backend (there are: %s)", o.backend, names);
	}
	struct loop *l = loop_new();
	if (be->init && be->init(l, &o, err, sizeof err) < 0)
		pc_die(PC_EXIT_USAGE, "%s", err);

	struct stage st;
	stage_init(&st, l, &o, be);
	rc = stage_run(&st);
	stage_free(&st);
	if (be->cleanup)
		be->cleanup();
	loop_free(l);
	return rc;
}
