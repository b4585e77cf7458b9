/* sse-serve: the records of a playcall pipeline over HTTP as Server-Sent
 * Events, the chunk files beside them, and a player page.  See
 * sse-serve(1). */
#define _GNU_SOURCE
#include "sse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_EXEC "detect \"$1\" | narrate | speak | splice"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: sse-serve [-l [ADDR:]PORT]... [-i] [--media DIR [--exec CMD]] [--out DIR]\n"
		"                 [--user NAME] [--max-sessions N] [--max-clients N] [--max-age AGE]\n"
		"                 [--max-backlog BYTES] [--split-fanout N] [--request-timeout S] [--keepalive-timeout S]\n"
		"                 [--heartbeat S] [--timeout S] [--json] [-v]\n"
		"       sse-serve --sweep --max-age AGE [--out DIR]\n"
		"Pipe mode: records on stdin go to every client of GET /events.\n"
		"Exec mode: GET /analyze-stream/FILE runs /bin/sh -c CMD sse-serve PATH for a file of --media.\n"
		"See sse-serve(1).\n");
}

static const char *env_or(const char *opt, const char *name)
{
	const char *v = getenv(name);
	return opt ? opt : (v && *v ? v : NULL);
}

static long number_opt(const char *what, const char *s, long min, long max)
{
	int ok;
	long v = pc_parse_long(s, min, max, &ok);
	if (!ok)
		pc_die(PC_EXIT_USAGE, "%s: %s: not a number from %ld to %ld", what, s, min, max);
	return v;
}

/* Seconds, or with a unit: 90, 30m, 12h, 7d. */
static double age_opt(const char *what, const char *s)
{
	char num[64];
	double unit = 1;
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof num)
		pc_die(PC_EXIT_USAGE, "%s: %s: not a duration", what, s);
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': unit = 1; num[n - 1] = '\0'; break;
	case 'm': unit = 60; num[n - 1] = '\0'; break;
	case 'h': unit = 3600; num[n - 1] = '\0'; break;
	case 'd': unit = 86400; num[n - 1] = '\0'; break;
	}
	double v = pc_parse_seconds(num);
	if (v < 0)
		pc_die(PC_EXIT_USAGE, "%s: %s: not a duration (seconds, or with s, m, h, d)", what, s);
	return v * unit;
}

enum {
	OPT_MEDIA = 256, OPT_EXEC, OPT_OUT, OPT_USER, OPT_MAX_SESSIONS, OPT_MAX_CLIENTS, OPT_MAX_AGE,
	OPT_MAX_BACKLOG, OPT_REQUEST_TIMEOUT, OPT_KEEPALIVE_TIMEOUT, OPT_HEARTBEAT, OPT_TIMEOUT, OPT_JSON,
	OPT_SWEEP, OPT_SPLIT_FANOUT,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, 'l'},
	{"inetd", no_argument, NULL, 'i'},
	{"media", required_argument, NULL, OPT_MEDIA},
	{"exec", required_argument, NULL, OPT_EXEC},
	{"out", required_argument, NULL, OPT_OUT},
	{"user", required_argument, NULL, OPT_USER},
	{"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
	{"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"max-backlog", required_argument, NULL, OPT_MAX_BACKLOG},
	{"split-fanout", required_argument, NULL, OPT_SPLIT_FANOUT},
	{"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
	{"keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TIMEOUT},
	{"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"sweep", no_argument, NULL, OPT_SWEEP},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct raw_opts {
	const char *media, *exec, *out, *user, *max_sessions, *max_clients, *max_age, *max_backlog;
	const char *split_fanout;
	const char *request_timeout, *keepalive_timeout, *heartbeat, *timeout;
	int sweep;
};

static void parse_args(int argc, char **argv, struct raw_opts *o)
{
	struct sse_config *cfg = &srv.cfg;
	int c;
	while ((c = getopt_long(argc, argv, "l:ivh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (cfg->nlisten == SSE_MAX_LISTEN)
				pc_die(PC_EXIT_USAGE, "-l: at most %d addresses", SSE_MAX_LISTEN);
			cfg->listen[cfg->nlisten++] = optarg;
			break;
		case 'i': cfg->inetd = 1; break;
		case 'v': cfg->verbose = 1; break;
		case 'h': usage(stdout); exit(PC_EXIT_OK);
		case OPT_MEDIA: o->media = optarg; break;
		case OPT_EXEC: o->exec = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_MAX_SESSIONS: o->max_sessions = optarg; break;
		case OPT_MAX_CLIENTS: o->max_clients = optarg; break;
		case OPT_MAX_AGE: o->max_age = optarg; break;
		case OPT_MAX_BACKLOG: o->max_backlog = optarg; break;
		case OPT_SPLIT_FANOUT: o->split_fanout = optarg; break;
		case OPT_REQUEST_TIMEOUT: o->request_timeout = optarg; break;
		case OPT_KEEPALIVE_TIMEOUT: o->keepalive_timeout = optarg; break;
		case OPT_HEARTBEAT: o->heartbeat = optarg; break;
		case OPT_TIMEOUT: o->timeout = optarg; break;
		case OPT_JSON: out_set_json(1); break;
		case OPT_SWEEP: o->sweep = 1; break;
		default: usage(stderr); exit(PC_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		pc_warn("unexpected argument: %s", argv[optind]);
		usage(stderr);
		exit(PC_EXIT_USAGE);
	}
}

static double seconds_opt(const char *what, const char *s, double dflt)
{
	if (!s)
		return dflt;
	double v = pc_parse_seconds(s);
	if (v <= 0)
		pc_die(PC_EXIT_USAGE, "%s: %s: not a positive number of seconds", what, s);
	return v;
}

static void configure(struct raw_opts *o)
{
	struct sse_config *cfg = &srv.cfg;
	const char *media = env_or(o->media, "PLAYCALL_MEDIA");
	const char *v;
	cfg->exec = env_or(o->exec, "PLAYCALL_EXEC");
	cfg->user = env_or(o->user, "PLAYCALL_USER");
	if (!cfg->nlisten && (v = getenv("PLAYCALL_LISTEN")) && *v)
		cfg->listen[cfg->nlisten++] = v;
	cfg->max_sessions = SSE_MAX_SESSIONS;
	if ((v = env_or(o->max_sessions, "PLAYCALL_MAX_SESSIONS")))
		cfg->max_sessions = number_opt("--max-sessions", v, 1, SSE_MAX_SESSIONS_LIMIT);
	cfg->max_clients = SSE_MAX_CLIENTS;
	if ((v = env_or(o->max_clients, "PLAYCALL_MAX_CLIENTS")))
		cfg->max_clients = number_opt("--max-clients", v, 1, 1000000);
	cfg->max_backlog = SSE_MAX_BACKLOG;
	if (o->max_backlog)
		cfg->max_backlog = (size_t)number_opt("--max-backlog", o->max_backlog, 4096, SSE_STREAM_MEM_MAX / 4);
	/* One core: a second thread would only take turns with the first. */
	cfg->split_fanout = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? SSE_SPLIT_FANOUT : 0;
	if (o->split_fanout)
		cfg->split_fanout = number_opt("--split-fanout", o->split_fanout, 0, 1000000);
	if ((v = env_or(o->max_age, "PLAYCALL_MAX_AGE")))
		cfg->max_age = age_opt("--max-age", v);
	cfg->request_timeout = seconds_opt("--request-timeout", o->request_timeout, SSE_REQUEST_TIMEOUT);
	cfg->keepalive_timeout = seconds_opt("--keepalive-timeout", o->keepalive_timeout, SSE_KEEPALIVE_TIMEOUT);
	cfg->heartbeat = seconds_opt("--heartbeat", o->heartbeat, SSE_HEARTBEAT);
	cfg->pipeline_timeout = seconds_opt("--timeout", o->timeout, SSE_PIPELINE_TIMEOUT);

	for (int i = 0; i < cfg->nlisten; i++) {
		char host[256], port[16];
		if (listen_parse(cfg->listen[i], host, sizeof host, port, sizeof port) < 0)
			pc_die(PC_EXIT_USAGE, "-l %s: not [ADDR:]PORT", cfg->listen[i]);
	}
	if (cfg->exec && !media)
		pc_die(PC_EXIT_USAGE, "--exec needs --media DIR: the folder whose files it may run on");
	if (media) {
		cfg->media = realpath(media, NULL);
		struct stat st;
		if (!cfg->media || stat(cfg->media, &st) < 0 || !S_ISDIR(st.st_mode))
			pc_die(PC_EXIT_USAGE, "--media %s: %s", media, cfg->media ? "not a folder" : strerror(errno));
		if (!strcmp(cfg->media, "/"))
			pc_die(PC_EXIT_USAGE, "--media /: refusing to offer the whole file system");
		if (!cfg->exec)
			cfg->exec = DEFAULT_EXEC;
	}

	if (o->out)
		pc_set_out_root(o->out);
	const char *root = pc_out_root();
	if (pc_mkdirs(root) < 0)
		pc_die(PC_EXIT_USAGE, "output folder %s: %s", root, strerror(errno));
	if (!realpath(root, srv.out_root) || !strcmp(srv.out_root, "/"))
		pc_die(PC_EXIT_USAGE, "output folder %s: cannot serve it", root);
	pc_set_out_root(srv.out_root);
	/* The pipelines write where we serve from. */
	setenv("PLAYCALL_OUT", srv.out_root, 1);
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void one_connection(int rfd, int wfd)
{
	/* inetd puts the socket on stderr too: a message there would land
	 * in the HTTP response. */
	if (same_file(2, rfd)) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 2);
			close(null);
		}
	}
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	srv.one_connection = 1;
	server_add_connection(rfd, wfd);
}

static void open_sockets(void)
{
	struct sse_config *cfg = &srv.cfg;
	if (cfg->inetd) {
		one_connection(0, 1);
		return;
	}
	int n = listen_activated();
	for (int fd = 3; fd < 3 + n; fd++) {
		if (sock_is_listening(fd))
			server_add_listener(fd);        /* Accept=no */
		else if (!srv.one_connection)
			one_connection(fd, fd);         /* Accept=yes: a connected socket */
	}
	if (n)
		return;
	if (!cfg->nlisten)
		cfg->listen[cfg->nlisten++] = SSE_DEFAULT_LISTEN;
	for (int i = 0; i < cfg->nlisten; i++) {
		char err[512];
		int fd = listen_open(cfg->listen[i], err, sizeof err);
		if (fd < 0)
			pc_die(PC_EXIT_FAIL, "cannot listen on %s", err);
		server_add_listener(fd);
	}
}

static void announce(void)
{
	for (int i = 0; i < srv.nlisteners; i++) {
		char url[128], msg[256];
		listen_url(srv.listeners[i].fd, url, sizeof url);
		snprintf(msg, sizeof msg, "serving %s%s", url,
			 srv.stdin_stream ? " (records of stdin at /events)" : srv.cfg.media ? " (pick a video there)" : "");
		json_object *rec = rec_status(NULL, -1, msg);
		rec_set_str(rec, "url", url);
		out_record_put(rec);
	}
}

/* --sweep: the cleanup alone, for cron where no server runs. */
static int sweep_once(void)
{
	if (srv.cfg.max_age <= 0)
		pc_die(PC_EXIT_USAGE, "--sweep needs --max-age");
	int n = sweep_old(srv.out_root, srv.cfg.max_age);
	char msg[PATH_MAX + 64];
	snprintf(msg, sizeof msg, "swept %d old session folders and reels from %s", n, srv.out_root);
	json_object *rec = rec_status(NULL, -1, msg);
	rec_set_int(rec, "swept", n);
	out_record_put(rec);
	free(srv.cfg.media);
	return PC_EXIT_OK;
}

/* A daemon may be started with 0, 1 or 2 closed; the first socket or
 * epoll fd would then take its number and be read as records or written
 * to as a log. */
static void standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
}

int main(int argc, char **argv)
{
	struct raw_opts o = {0};
	standard_fds();
	pc_init(argv[0]);
	pc_prog = "sse-serve";
	parse_args(argc, argv, &o);
	configure(&o);
	if (o.sweep)
		return sweep_once();
	raise_nofile();
	server_init();
	open_sockets();
	if (srv.cfg.user) {
		char err[256];
		if (drop_privileges(srv.cfg.user, err, sizeof err) < 0)
			pc_die(PC_EXIT_USAGE, "%s", err);
	}
	if (!srv.cfg.exec && !srv.one_connection)
		feed_stdin_start();
	if (!srv.one_connection)
		announce();
	server_run();
	server_free();
	return PC_EXIT_OK;
}
