/* Unit tests for common/lproc (detect follows ffmpeg's output with it):
 * lines arrive while the child still runs, the last line without a newline,
 * over-long lines, the idle timeout, a program that is not there. */
#define _GNU_SOURCE
#include "pc.h"
#include "lproc.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

struct run {
	int lines;
	char first[64], last[LPROC_MAX_LINE + 1];
	size_t longest;
	double first_at, done_at;
	int status, done;
	char err[256];
};

static void on_line(struct lproc *lp, const char *line, size_t len, void *arg)
{
	struct run *r = arg;
	(void)lp;
	if (!r->lines++) {
		snprintf(r->first, sizeof r->first, "%s", line);
		r->first_at = pc_now();
	}
	snprintf(r->last, sizeof r->last, "%s", line);
	if (len > r->longest)
		r->longest = len;
}

static void on_done(struct lproc *lp, int status, void *arg)
{
	struct run *r = arg;
	r->status = status;
	r->done = 1;
	r->done_at = pc_now();
	lproc_err_line(lp, r->err, sizeof r->err);
}

static void run(struct run *r, double idle, const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	memset(r, 0, sizeof *r);
	struct loop *l = loop_new();
	lproc_start(l, argv, idle, on_line, on_done, r);
	while (!r->done)
		loop_run_once(l, 1000);
	loop_free(l);
}

int main(void)
{
	struct run r;
	run(&r, 0, "printf 'one\\ntwo\\n'; sleep 0.4; printf 'three'; echo oops >&2; exit 3");
	is_num(r.lines, 3, 0, "lproc: three lines");
	is_str(r.first, "one", "lproc: the first");
	is_str(r.last, "three", "lproc: a last line without a newline still comes");
	ok(r.done_at - r.first_at >= 0.3, "lproc: the first line came while the child still ran (%.2f s before its end)",
	   r.done_at - r.first_at);
	is_num(r.status, 3, 0, "lproc: the exit status");
	is_str(r.err, "oops", "lproc: stderr's last line");

	run(&r, 0, "head -c 10000 /dev/zero | tr '\\0' x; echo; echo after");
	is_num(r.lines, 2, 0, "lproc: an over-long line is one line");
	is_num(r.longest, LPROC_MAX_LINE, 0, "lproc: cut to the limit");
	is_str(r.last, "after", "lproc: and the next line is whole");

	run(&r, 0.3, "echo started; exec sleep 10");
	is_num(r.status, -2, 0, "lproc: a child silent past the idle timeout is killed");
	ok(r.done_at - r.first_at < 5, "lproc: soon (%.2f s)", r.done_at - r.first_at);

	run(&r, 1.0, "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.25; done");
	is_num(r.status, 0, 0, "lproc: output keeps a child under the idle timeout alive");
	is_num(r.lines, 8, 0, "lproc: all its lines");

	char *missing[] = {"/nonexistent/ffmpeg", NULL};
	memset(&r, 0, sizeof r);
	struct loop *l = loop_new();
	lproc_start(l, missing, 0, on_line, on_done, &r);
	while (!r.done)
		loop_run_once(l, 1000);
	loop_free(l);
	is_num(r.status, -1, 0, "lproc: a missing program is -1, from the loop");
	ok(strstr(r.err, "/nonexistent/ffmpeg") != NULL, "lproc: the reason names it (%s)", r.err);
	return done_testing();
}
