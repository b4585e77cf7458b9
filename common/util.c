/* Program identity, diagnostics, signals and small helpers. */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *pc_prog = "playcall";

static void on_fatal_signal(int sig)
{
	/* Leave no ffmpeg (or espeak, or pipeline) behind, then die of the
	 * same signal so the parent sees why. */
	proc_kill_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void kill_children_at_exit(void)
{
	proc_kill_all();
}

void pc_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	pc_prog = slash ? slash + 1 : argv0;

	/* A closed stdout shows up as EPIPE from write, handled in out_record. */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(kill_children_at_exit);
}

void pc_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", pc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pc_die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", pc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void *pc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		pc_die(PC_EXIT_FAIL, "out of memory");
	return p;
}

void *pc_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		pc_die(PC_EXIT_FAIL, "out of memory");
	return p;
}

void *pc_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		pc_die(PC_EXIT_FAIL, "out of memory");
	return p;
}

char *pc_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		pc_die(PC_EXIT_FAIL, "out of memory");
	return d;
}

double pc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int pc_mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(tmp, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

double pc_parse_seconds(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || v < 0 || v != v || v > 1e9)
		return -1;
	return v;
}

long pc_parse_long(const char *s, long min, long max, int *ok)
{
	char *end;
	*ok = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return 0;
	*ok = 1;
	return v;
}

void progress_draw(const char *label, int percent)
{
	static int isatty_err = -1;
	if (isatty_err < 0)
		isatty_err = isatty(2);
	if (!isatty_err)
		return;
	if (percent < 0)
		percent = 0;
	if (percent > 100)
		percent = 100;
	char bar[31];
	int fill = percent * 30 / 100;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r\033[K[%s] %3d%% %.60s", bar, percent, label ? label : "");
	if (percent == 100)
		fputc('\n', stderr);
	fflush(stderr);
}
