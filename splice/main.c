/* splice: audio records in, chunk_ready and complete records out.
 * See splice(1). */
#define _GNU_SOURCE
#include "splice.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const x264_presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
					   "medium", "slow", "slower", "veryslow", "placebo", NULL};

static void usage(int code) __attribute__((noreturn));
static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: splice [--duck GAIN] [--delay SECONDS] [--jobs N] [--preset PRESET]\n"
		"              [--transcode] [--out DIR] [--json]\n");
	exit(code);
}

/* An option's value: the flag, else its PLAYCALL_* variable, else NULL. */
static const char *opt_or_env(const char *flag, const char *env)
{
	if (flag)
		return flag;
	const char *v = getenv(env);
	return v && *v ? v : NULL;
}

static void parse_options(int argc, char **argv, struct splice_opts *o)
{
	static const struct option longopts[] = {
		{"duck", required_argument, NULL, 'd'}, {"delay", required_argument, NULL, 'D'},
		{"jobs", required_argument, NULL, 'j'}, {"preset", required_argument, NULL, 'p'},
		{"out", required_argument, NULL, 'o'},  {"json", no_argument, NULL, 'J'},
		{"transcode", no_argument, NULL, 'T'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *duck = NULL, *delay = NULL, *jobs = NULL, *preset = NULL, *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': duck = optarg; break;
		case 'D': delay = optarg; break;
		case 'j': jobs = optarg; break;
		case 'p': preset = optarg; break;
		case 'o': out = optarg; break;
		case 'J': out_set_json(1); break;
		case 'T': o->transcode = 1; break;
		case 'h': usage(PC_EXIT_OK);
		default: usage(PC_EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage(PC_EXIT_USAGE);

	duck = opt_or_env(duck, "PLAYCALL_DUCK");
	delay = opt_or_env(delay, "PLAYCALL_DELAY");   /* narrate's too: one setting */
	jobs = opt_or_env(jobs, "PLAYCALL_SPLICE_JOBS");
	preset = opt_or_env(preset, "PLAYCALL_PRESET");
	const char *transcode = getenv("PLAYCALL_TRANSCODE");
	if (transcode && !strcmp(transcode, "1"))
		o->transcode = 1;
	o->duck = duck ? pc_parse_seconds(duck) : SPLICE_DUCK_DEFAULT;
	if (!(o->duck >= 0 && o->duck <= 1))
		pc_die(PC_EXIT_USAGE, "--duck: want a gain from 0 to 1, not \"%s\"", duck);
	o->delay = delay ? pc_parse_seconds(delay) : SPLICE_DELAY_DEFAULT;
	o->delay_set = delay != NULL;
	if (!(o->delay >= 0 && o->delay <= SPLICE_DELAY_MAX))
		pc_die(PC_EXIT_USAGE, "--delay: want seconds from 0 to %g, not \"%s\"", SPLICE_DELAY_MAX, delay);
	if (jobs) {
		int ok;
		o->jobs = (int)pc_parse_long(jobs, 1, SPLICE_JOBS_MAX, &ok);
		if (!ok)
			pc_die(PC_EXIT_USAGE, "--jobs: want a number from 1 to %d, not \"%s\"", SPLICE_JOBS_MAX, jobs);
	} else {
		/* A copy is one core's work (the audio encode): one per core.
		 * A transcode uses them all, so it then runs alone. */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		o->jobs = cores < 1 ? 1 : cores > SPLICE_JOBS_MAX ? SPLICE_JOBS_MAX : (int)cores;
		o->jobs_auto = 1;
	}
	o->preset = preset ? preset : SPLICE_PRESET_DEFAULT;
	int known = 0;
	for (const char *const *p = x264_presets; *p; p++)
		known |= !strcmp(*p, o->preset);
	if (!known)
		pc_die(PC_EXIT_USAGE, "--preset: \"%s\" is not a libx264 preset (ultrafast ... veryslow)", o->preset);
	if (out)
		pc_set_out_root(out);
}

static struct nd_reader reader;
static int input_done;

static void input_over(struct loop *l)
{
	loop_del_fd(l, reader.fd);
	input_done = 1;
	splice_input_end();
}

static void on_input(struct loop *l, int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)arg;
	/* poll said readable: one read(2) does not block. */
	ssize_t n = nd_fill(&reader);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		char msg[256], input[64];
		snprintf(msg, sizeof msg, "%s: read error: %s", reader.name, strerror(errno));
		snprintf(input, sizeof input, "%s", reader.name);
		splice_bad_line(msg, input);
		input_over(l);
		return;
	}
	for (;;) {
		json_object *rec;
		char err[512], input[64];
		enum nd_result res = nd_next(&reader, &rec, err, sizeof err);
		if (res == ND_AGAIN)
			return;
		if (res == ND_EOF) {
			input_over(l);
			return;
		}
		snprintf(input, sizeof input, "%s:%ld", reader.name, reader.line);
		if (res == ND_BAD)
			splice_bad_line(err, input);
		else
			splice_record(rec, input);
	}
}

int main(int argc, char **argv)
{
	pc_init(argv[0]);
	struct splice_opts o = {0};
	parse_options(argc, argv, &o);
	struct loop *l = loop_new();
	splice_start(l, &o);
	nd_init(&reader, 0, "stdin");
	loop_add_fd(l, 0, POLLIN, on_input, NULL);
	while (!input_done || splice_busy())
		loop_run_once(l, -1);
	int status = splice_exit_status();
	splice_free();
	nd_free(&reader);
	loop_free(l);
	return status;
}
