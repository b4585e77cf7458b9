/* narrate's command line (opts.c). */
#ifndef NARRATE_OPTS_H
#define NARRATE_OPTS_H

#include "narrate.h"

/* PLAYCALL_* environment, then argv, over what o holds (nar_opts_default).
 * 0 to run, 1 for --help, -1 with a one-line reason (usage error). */
int nar_opts_parse(struct nar_opts *o, int argc, char **argv, char *err, size_t errlen);
extern const char nar_usage[];

#endif
