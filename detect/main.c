/* detect [options] VIDEO...: per video a session, its events per interval,
 * streamed as they are found.  See detect(1). */
#define _GNU_SOURCE
#include "detect.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BACKEND_OPTIONS 64

enum {
	OPT_INTERVAL = 256, OPT_FIRST, OPT_BACKEND, OPT_OUT, OPT_JSON, OPT_SESSION,
	OPT_THRESHOLD, OPT_HELP, OPT_BACKEND_OPTION = 1000,
};

static const struct option core_options[] = {
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"first-interval", required_argument, NULL, OPT_FIRST},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"out", required_argument, NULL, OPT_OUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"session", required_argument, NULL, OPT_SESSION},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"help", no_argument, NULL, OPT_HELP},
};
#define N_CORE (sizeof core_options / sizeof *core_options)

/* Every backend's own options, flattened: their index is val - OPT_BACKEND_OPTION. */
static struct det_option *backend_options[MAX_BACKEND_OPTIONS];
static size_t n_backend_options;

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: detect [options] VIDEO...\n"
		"  --interval S         interval length (30; 5 with a cloud backend; PLAYCALL_INTERVAL)\n"
		"  --first-interval S   length of the first interval (= --interval; PLAYCALL_FIRST_INTERVAL)\n"
		"  --backend NAME       auto, or one of:");
	for (size_t i = 0; det_backends[i]; i++)
		fprintf(fp, " %s", det_backends[i]->name);
	fprintf(fp, " (auto; PLAYCALL_DETECT_BACKEND)\n"
		"  --threshold SCORE    leave out events scoring below (0; PLAYCALL_DETECT_THRESHOLD)\n"
		"  --session ID         the session id (one VIDEO only)\n"
		"  --out DIR            output root (./videos; PLAYCALL_OUT)\n"
		"  --json               records even on a terminal\n");
	for (size_t i = 0; det_backends[i]; i++) {
		const struct det_option *bo = det_backends[i]->options;
		if (bo && bo->name)
			fprintf(fp, "the %s backend:\n", det_backends[i]->name);
		for (; bo && bo->name; bo++) {
			char head[64];
			snprintf(head, sizeof head, "--%s %s", bo->name, bo->metavar);
			fprintf(fp, "  %-20s %s (%s%s%s)\n", head, bo->help, bo->def, bo->env ? "; " : "",
				bo->env ? bo->env : "");
		}
	}
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", pc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(PC_EXIT_USAGE);
}

/* Seconds from an option or its environment variable; usage error if bad. */
static double seconds(const char *what, const char *text, double min)
{
	double v = pc_parse_seconds(text);
	if (v < min || v > 1e6)
		usage_error("%s: want seconds from %g, not '%s'", what, min, text);
	return v;
}

static double score(const char *what, const char *text)
{
	double v = pc_parse_seconds(text);
	if (v < 0 || v > 1)
		usage_error("%s: want a score from 0 to 1, not '%s'", what, text);
	return v;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* getopt's table: the core options, then each backend's. */
static struct option *all_options(void)
{
	for (size_t i = 0; det_backends[i]; i++)
		for (struct det_option *bo = det_backends[i]->options; bo && bo->name; bo++) {
			if (n_backend_options == MAX_BACKEND_OPTIONS)
				pc_die(PC_EXIT_USAGE, "too many backend options");
			const char *from_env = bo->env ? env(bo->env) : NULL;
			bo->value = from_env ? from_env : bo->def;
			backend_options[n_backend_options++] = bo;
		}
	struct option *opts = pc_xcalloc(N_CORE + n_backend_options + 1, sizeof *opts);
	memcpy(opts, core_options, sizeof core_options);
	for (size_t i = 0; i < n_backend_options; i++)
		opts[N_CORE + i] = (struct option){backend_options[i]->name, required_argument, NULL,
						   OPT_BACKEND_OPTION + (int)i};
	return opts;
}

static const struct det_backend *pick_backend(const char *name)
{
	if (!strcmp(name, "auto"))
		return det_backend_auto();
	const struct det_backend *b = det_backend_find(name);
	if (!b)
		usage_error("--backend: no backend '%s'", name);
	return b;
}

int main(int argc, char **argv)
{
	pc_init(argv[0]);
	struct det_opts o = {.interval = 30, .first_interval = 0, .threshold = 0};
	const char *backend_name = env("PLAYCALL_DETECT_BACKEND") ? env("PLAYCALL_DETECT_BACKEND") : "auto";
	const char *session = NULL;
	int interval_given = env("PLAYCALL_INTERVAL") != NULL;
	if (interval_given)
		o.interval = seconds("PLAYCALL_INTERVAL", env("PLAYCALL_INTERVAL"), 1);
	if (env("PLAYCALL_FIRST_INTERVAL"))
		o.first_interval = seconds("PLAYCALL_FIRST_INTERVAL", env("PLAYCALL_FIRST_INTERVAL"), 1);
	if (env("PLAYCALL_DETECT_THRESHOLD"))
		o.threshold = score("PLAYCALL_DETECT_THRESHOLD", env("PLAYCALL_DETECT_THRESHOLD"));

	struct option *opts = all_options();
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_INTERVAL: o.interval = seconds("--interval", optarg, 1); interval_given = 1; break;
		case OPT_FIRST: o.first_interval = seconds("--first-interval", optarg, 1); break;
		case OPT_BACKEND: backend_name = optarg; break;
		case OPT_OUT: pc_set_out_root(optarg); break;
		case OPT_JSON: out_set_json(1); break;
		case OPT_SESSION: session = optarg; break;
		case OPT_THRESHOLD: o.threshold = score("--threshold", optarg); break;
		case 'h':
		case OPT_HELP: usage(stdout); free(opts); return PC_EXIT_OK;
		default:
			if (c >= OPT_BACKEND_OPTION && c < OPT_BACKEND_OPTION + (int)n_backend_options) {
				backend_options[c - OPT_BACKEND_OPTION]->value = optarg;
				break;
			}
			usage(stderr);
			free(opts);
			return PC_EXIT_USAGE;
		}
	}
	free(opts);
	if (optind >= argc)
		usage_error("no VIDEO given");
	if (session && !sess_id_valid(session))
		usage_error("--session: '%s' is not a valid id (letters, digits, '_', '-', '.')", session);
	if (session && argc - optind > 1)
		usage_error("--session: one VIDEO only (each video is its own session)");
	const struct det_backend *b = pick_backend(backend_name);
	if (!interval_given && b->interval > 0)
		o.interval = b->interval;
	char err[512];
	if (b->setup && b->setup(err, sizeof err) < 0)
		pc_die(PC_EXIT_USAGE, "%s", err);

	struct loop *l = loop_new();
	int status = PC_EXIT_OK;
	for (int i = optind; i < argc; i++)
		if (detect_file(argv[i], b, &o, session, l) != PC_EXIT_OK)
			status = PC_EXIT_FAIL;
	loop_free(l);
	return status;
}
