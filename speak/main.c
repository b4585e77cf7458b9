/* speak: options, then the stage (speak.c) on standard input. */
#define _GNU_SOURCE
#include "speak.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_BACKEND = 256, OPT_VOICE, OPT_LANG, OPT_RATE, OPT_JOBS, OPT_NO_CACHE, OPT_TIMEOUT,
       OPT_OUT, OPT_JSON, OPT_HELP, OPT_BACKEND_FIRST = 512 };

#define OPTIONS_MAX 64   /* ours plus every backend's */

/* In the order of the enum above: base_options[opt - OPT_BACKEND] is opt's. */
static const struct option base_options[] = {
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"voice", required_argument, NULL, OPT_VOICE},
	{"lang", required_argument, NULL, OPT_LANG},
	{"rate", required_argument, NULL, OPT_RATE},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"out", required_argument, NULL, OPT_OUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
};
#define BASE_COUNT (sizeof base_options / sizeof base_options[0])

/* Every backend option, in table order, as getopt sees them. */
static const struct speak_option *backend_opts[OPTIONS_MAX];
static size_t backend_opt_count;

static void usage(FILE *fp)
{
	fprintf(fp, "usage: speak [--backend NAME] [--voice VOICE] [--lang LANG] [--rate WPM] [--jobs N]\n"
		    "             [--no-cache] [--timeout SECONDS] [--out DIR] [--json]");
	for (size_t i = 0; i < backend_opt_count; i++)
		fprintf(fp, "%s[--%s %s]", i % 3 ? " " : "\n             ", backend_opts[i]->name,
			backend_opts[i]->arg ? backend_opts[i]->arg : "VALUE");
	fprintf(fp, "\nbackends: auto");
	for (size_t i = 0; speak_backends[i]; i++)
		fprintf(fp, ", %s", speak_backends[i]->name);
	fprintf(fp, "\n");
	for (size_t i = 0; i < backend_opt_count; i++)
		fprintf(fp, "  --%-24s %s\n", backend_opts[i]->name, backend_opts[i]->help ? backend_opts[i]->help : "");
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pc_warn("%s", msg);
	usage(stderr);
	exit(PC_EXIT_USAGE);
}

struct settings {
	const char *backend;
	struct speak_cfg cfg;
};

/* One setting from an option or its environment variable (named in from). */
static void set(struct settings *s, int opt, const char *val, const char *from)
{
	int ok = 1;
	double secs;
	switch (opt) {
	case OPT_BACKEND:
		s->backend = val;
		break;
	case OPT_VOICE:
		s->cfg.voice = *val ? val : NULL;
		break;
	case OPT_LANG:
		s->cfg.lang = *val ? val : NULL;
		if (s->cfg.lang && !speak_lang_for(val, NULL))
			usage_error("%s: not a language tag: '%s'", from, val);
		break;
	case OPT_RATE:
		s->cfg.rate = (int)pc_parse_long(val, SPEAK_RATE_MIN, SPEAK_RATE_MAX, &ok);
		if (!ok)
			usage_error("%s: words per minute, %d to %d: '%s'", from, SPEAK_RATE_MIN, SPEAK_RATE_MAX, val);
		break;
	case OPT_JOBS:
		s->cfg.jobs = (int)pc_parse_long(val, 1, SPEAK_JOBS_MAX, &ok);
		if (!ok)
			usage_error("%s: jobs at once, 1 to %d: '%s'", from, SPEAK_JOBS_MAX, val);
		break;
	case OPT_TIMEOUT:
		secs = pc_parse_seconds(val);
		if (!(secs > 0))
			usage_error("%s: seconds, more than 0: '%s'", from, val);
		s->cfg.timeout = secs;
		break;
	case OPT_OUT:
		pc_set_out_root(val);
		break;
	}
}

static void from_environment(struct settings *s)
{
	static const struct {
		int opt;
		const char *env;
	} envs[] = {
		{OPT_BACKEND, "PLAYCALL_SPEAK_BACKEND"}, {OPT_VOICE, "PLAYCALL_VOICE"},
		{OPT_LANG, "PLAYCALL_LANG"}, {OPT_RATE, "PLAYCALL_SPEECH_RATE"},
		{OPT_JOBS, "PLAYCALL_SPEAK_JOBS"}, {OPT_TIMEOUT, "PLAYCALL_SPEAK_TIMEOUT"},
	};
	for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
		const char *v = getenv(envs[i].env);
		if (v && *v)
			set(s, envs[i].opt, v, envs[i].env);
	}
	/* Any value but "" and "0" means no cache. */
	const char *nc = getenv("PLAYCALL_NO_CACHE");
	if (nc && *nc && strcmp(nc, "0"))
		s->cfg.use_cache = 0;
	for (size_t i = 0; i < backend_opt_count; i++) {
		const char *v = backend_opts[i]->env ? getenv(backend_opts[i]->env) : NULL;
		if (v && *v)
			*backend_opts[i]->value = v;
	}
}

static void collect_backend_options(struct option *longopts)
{
	memcpy(longopts, base_options, sizeof base_options);
	size_t n = BASE_COUNT;
	for (size_t b = 0; speak_backends[b]; b++) {
		const struct speak_option *o = speak_backends[b]->options;
		for (; o && o->name; o++) {
			if (n + 1 >= OPTIONS_MAX)
				pc_die(PC_EXIT_FAIL, "too many backend options (OPTIONS_MAX)");
			backend_opts[backend_opt_count] = o;
			longopts[n++] = (struct option){o->name, required_argument, NULL,
							(int)(OPT_BACKEND_FIRST + backend_opt_count)};
			backend_opt_count++;
		}
	}
	longopts[n] = (struct option){0};
}

int main(int argc, char **argv)
{
	pc_init(argv[0]);
	struct option longopts[OPTIONS_MAX + 1];
	collect_backend_options(longopts);
	struct settings s = {
		.backend = "auto",
		.cfg = {.jobs = SPEAK_JOBS_DEFAULT, .use_cache = 1, .timeout = SPEAK_TIMEOUT_DEFAULT},
	};
	from_environment(&s);
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char from[80];
		if (opt == OPT_HELP || opt == 'h') {
			usage(stdout);
			return PC_EXIT_OK;
		}
		if (opt == OPT_JSON) {
			out_set_json(1);
			continue;
		}
		if (opt == OPT_NO_CACHE) {
			s.cfg.use_cache = 0;
			continue;
		}
		if (opt == '?')
			usage_error("unknown option");
		if (opt >= OPT_BACKEND_FIRST) {
			*backend_opts[opt - OPT_BACKEND_FIRST]->value = optarg;
			continue;
		}
		snprintf(from, sizeof from, "--%s", longopts[opt - OPT_BACKEND].name);
		set(&s, opt, optarg, from);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s': speak reads commentary records on standard input", argv[optind]);

	s.cfg.backend = speak_backend_find(s.backend);
	if (!s.cfg.backend)
		usage_error("--backend: no backend '%s'", s.backend);
	char err[512];
	if (s.cfg.backend->init && s.cfg.backend->init(err, sizeof err) < 0)
		pc_die(PC_EXIT_USAGE, "%s: %s", s.cfg.backend->name, err);

	struct loop *loop = loop_new();
	struct speak_stage *st = speak_new(loop, &s.cfg);
	int rc = speak_run(st, 0, "stdin");
	speak_free(st);
	loop_free(loop);
	return rc;
}
