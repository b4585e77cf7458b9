/* Options: defaults, then PLAYCALL_* environment, then the command line. */
#define _GNU_SOURCE
#include "narrate.h"
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WPS_MAX 20.0          /* no voice speaks faster */
#define JOBS_MAX 64

void nar_opts_default(struct nar_opts *o)
{
	memset(o, 0, sizeof *o);
	o->lead = NAR_LEAD_DEFAULT;
	o->tail = NAR_TAIL_DEFAULT;
	o->min_score = NAR_MIN_SCORE_DEFAULT;
	o->max_per_interval = NAR_MAX_PER_INTERVAL_DEFAULT;
	o->wps = NAR_WPS_DEFAULT;
	o->delay = NAR_DELAY_DEFAULT;
	o->jobs = NAR_JOBS_DEFAULT;
	snprintf(o->lang, sizeof o->lang, "en");
	snprintf(o->backend, sizeof o->backend, "auto");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	o->seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
}

enum {
	OPT_LEAD = 256, OPT_TAIL, OPT_MIN_SCORE, OPT_MAX, OPT_FULL, OPT_LANG, OPT_STYLE, OPT_SEED,
	OPT_WPS, OPT_DELAY, OPT_BACKEND, OPT_MODEL, OPT_JOBS, OPT_PHRASES, OPT_JSON, OPT_HELP,
};

static const struct option longopts[] = {
	{"lead", required_argument, 0, OPT_LEAD},
	{"tail", required_argument, 0, OPT_TAIL},
	{"min-score", required_argument, 0, OPT_MIN_SCORE},
	{"max-per-interval", required_argument, 0, OPT_MAX},
	{"full", no_argument, 0, OPT_FULL},
	{"lang", required_argument, 0, OPT_LANG},
	{"style", required_argument, 0, OPT_STYLE},
	{"seed", required_argument, 0, OPT_SEED},
	{"wps", required_argument, 0, OPT_WPS},
	{"delay", required_argument, 0, OPT_DELAY},
	{"backend", required_argument, 0, OPT_BACKEND},
	{"model", required_argument, 0, OPT_MODEL},
	{"jobs", required_argument, 0, OPT_JOBS},
	{"phrases", required_argument, 0, OPT_PHRASES},
	{"json", no_argument, 0, OPT_JSON},
	{"help", no_argument, 0, OPT_HELP},
	{0, 0, 0, 0},
};

/* The environment variable of each option that has one. */
static const struct {
	int opt;
	const char *env;
} envs[] = {
	{OPT_LEAD, "PLAYCALL_LEAD"},
	{OPT_TAIL, "PLAYCALL_TAIL"},
	{OPT_MIN_SCORE, "PLAYCALL_MIN_SCORE"},
	{OPT_MAX, "PLAYCALL_MAX_PER_INTERVAL"},
	{OPT_FULL, "PLAYCALL_FULL"},
	{OPT_LANG, "PLAYCALL_LANG"},
	{OPT_STYLE, "PLAYCALL_STYLE"},
	{OPT_SEED, "PLAYCALL_SEED"},
	{OPT_WPS, "PLAYCALL_WPS"},
	{OPT_DELAY, "PLAYCALL_DELAY"},
	{OPT_BACKEND, "PLAYCALL_NARRATE_BACKEND"},
	{OPT_MODEL, "PLAYCALL_NARRATE_MODEL"},
	{OPT_JOBS, "PLAYCALL_NARRATE_JOBS"},
};

static const char *opt_name(int opt)
{
	for (const struct option *p = longopts; p->name; p++)
		if (p->val == opt)
			return p->name;
	return "?";
}

static int bad(char *err, size_t n, const char *from, int opt, const char *val, const char *want)
{
	if (from)
		snprintf(err, n, "%s='%s': %s", from, val, want);
	else
		snprintf(err, n, "--%s '%s': %s", opt_name(opt), val, want);
	return -1;
}

static int name_value(char *dst, const char *val)
{
	if (strlen(val) >= NAR_NAME_MAX || !*val)
		return -1;
	strcpy(dst, val);
	return 0;
}

/* One option's value; from is the env variable's name, NULL for argv. */
static int set(struct nar_opts *o, int opt, const char *val, const char *from, char *err, size_t n)
{
	double d;
	long l;
	int ok;
	char *end;
	switch (opt) {
	case OPT_LEAD:
	case OPT_TAIL:
	case OPT_DELAY:
		d = pc_parse_seconds(val);
		if (d < 0 || d > 3600)
			return bad(err, n, from, opt, val, "expected seconds from 0 to 3600");
		*(opt == OPT_LEAD ? &o->lead : opt == OPT_TAIL ? &o->tail : &o->delay) = d;
		return 0;
	case OPT_MIN_SCORE:
		d = pc_parse_seconds(val);
		if (d < 0 || d > 1)
			return bad(err, n, from, opt, val, "expected a score from 0 to 1");
		o->min_score = d;
		return 0;
	case OPT_WPS:
		d = pc_parse_seconds(val);
		if (!(d > 0) || d > WPS_MAX)
			return bad(err, n, from, opt, val, "expected words a second, more than 0 and at most 20");
		o->wps = d;
		return 0;
	case OPT_MAX:
		l = pc_parse_long(val, 0, 1000, &ok);
		if (!ok)
			return bad(err, n, from, opt, val, "expected a count from 0 (no limit) to 1000");
		o->max_per_interval = (int)l;
		return 0;
	case OPT_JOBS:
		l = pc_parse_long(val, 1, JOBS_MAX, &ok);
		if (!ok)
			return bad(err, n, from, opt, val, "expected a count from 1 to 64");
		o->jobs = (int)l;
		return 0;
	case OPT_FULL:
		if (from && strcmp(val, "0") && strcmp(val, "1"))
			return bad(err, n, from, opt, val, "expected 0 or 1");
		o->full = !from || !strcmp(val, "1");
		return 0;
	case OPT_SEED:
		errno = 0;
		if (!*val || val[0] == '-' || (o->seed = strtoull(val, &end, 10), errno || *end))
			return bad(err, n, from, opt, val, "expected a whole number");
		return 0;
	case OPT_LANG:
		if (name_value(o->lang, val) < 0)
			return bad(err, n, from, opt, val, "expected a language name such as en or es");
		return 0;
	case OPT_STYLE:
		if (name_value(o->style, val) < 0)
			return bad(err, n, from, opt, val, "expected a style name such as excited or calm");
		return 0;
	case OPT_BACKEND:
		if (name_value(o->backend, val) < 0)
			return bad(err, n, from, opt, val, "expected a backend name");
		return 0;
	case OPT_MODEL:
		o->model = val;
		return 0;
	case OPT_PHRASES:
		o->phrases = val;
		return 0;
	}
	return 0;
}

int nar_opts_parse(struct nar_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
		const char *v = getenv(envs[i].env);
		if (v && *v && set(o, envs[i].opt, v, envs[i].env, err, errlen) < 0)
			return -1;
	}
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			return 1;
		case OPT_JSON:
			out_set_json(1);
			break;
		case '?':
			if (optopt)
				snprintf(err, errlen, "unknown option or missing value: -%c", optopt);
			else
				snprintf(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
			return -1;
		default:
			if (set(o, c, optarg, NULL, err, errlen) < 0)
				return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s': narrate reads records on stdin", argv[optind]);
		return -1;
	}
	return 0;
}

const char nar_usage[] =
	"usage: narrate [--lead S] [--tail S] [--min-score X] [--max-per-interval N] [--full]\n"
	"               [--lang L] [--style S] [--seed N] [--wps X] [--delay S]\n"
	"               [--backend NAME] [--model M] [--jobs N] [--phrases FILE] [--json] < events\n";
