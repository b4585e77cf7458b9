/* A child whose stdout is read line by line as it comes, from the loop. */
#define _GNU_SOURCE
#include "lproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LPROC_READ_CHUNK 16384

struct lproc {
	struct proc p;
	struct loop *loop;
	lproc_line_cb on_line;
	lproc_done_cb on_done;
	void *arg;
	char line[LPROC_MAX_LINE + 1];
	size_t len;
	int cut;              /* the current line was longer than the limit */
	int open_fds;
	double idle_timeout;
	double last_output;   /* pc_now() of the last byte on stdout or stderr */
	int timed_out;
};

static void finish(struct lproc *lp)
{
	if (lp->open_fds > 0)
		return;
	loop_del_timers(lp->loop, lp);
	int result = -1;   /* could not start: p.err says why */
	if (lp->p.pid > 0) {
		int status = proc_wait(&lp->p);
		if (lp->timed_out)
			result = -2;
		else if (WIFEXITED(status))
			result = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			result = 128 + WTERMSIG(status);
	}
	lp->on_done(lp, result, lp->arg);
	free(lp);
}

static void deliver_line(struct lproc *lp)
{
	lp->line[lp->len] = '\0';
	lp->on_line(lp, lp->line, lp->len, lp->arg);
	lp->len = 0;
	lp->cut = 0;
}

static void take_output(struct lproc *lp, const char *data, size_t n)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;
		size_t room = LPROC_MAX_LINE - lp->len;
		size_t keep = part < room ? part : room;
		memcpy(lp->line + lp->len, data, keep);
		lp->len += keep;
		if (keep < part)
			lp->cut = 1;
		if (!nl)
			return;
		deliver_line(lp);
		data = nl + 1;
		n -= part + 1;
	}
}

static void close_stream(struct lproc *lp, int *fd)
{
	loop_del_fd(lp->loop, *fd);
	close(*fd);
	*fd = -1;
	lp->open_fds--;
}

static void on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct lproc *lp = arg;
	(void)l;
	(void)revents;
	ssize_t r;
	if (fd == lp->p.err_fd) {
		r = proc_read_err(&lp->p);
	} else {
		char chunk[LPROC_READ_CHUNK];
		r = read(fd, chunk, sizeof chunk);
		if (r > 0)
			take_output(lp, chunk, (size_t)r);
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		lp->last_output = pc_now();
		return;
	}
	if (fd == lp->p.out_fd) {
		if (lp->len)   /* a last line without its newline */
			deliver_line(lp);
		close_stream(lp, &lp->p.out_fd);
	} else {
		close_stream(lp, &lp->p.err_fd);
	}
	finish(lp);
}

static void on_idle_check(struct loop *l, void *arg)
{
	struct lproc *lp = arg;
	double quiet_until = lp->last_output + lp->idle_timeout;
	if (pc_now() < quiet_until) {
		loop_add_timer(l, quiet_until, on_idle_check, lp);
		return;
	}
	lp->timed_out = 1;
	proc_kill(&lp->p);   /* the pipes close, and on_fd finishes it */
}

static void on_spawn_failure(struct loop *l, void *arg)
{
	(void)l;
	finish(arg);
}

struct lproc *lproc_start(struct loop *l, char *const argv[], double idle_timeout_s,
			  lproc_line_cb on_line, lproc_done_cb on_done, void *arg)
{
	struct lproc *lp = pc_xcalloc(1, sizeof *lp);
	lp->loop = l;
	lp->on_line = on_line;
	lp->on_done = on_done;
	lp->arg = arg;
	lp->idle_timeout = idle_timeout_s;
	if (proc_spawn(&lp->p, argv, 0) < 0) {
		loop_add_timer(l, 0, on_spawn_failure, lp);
		return lp;
	}
	int fds[2] = {lp->p.out_fd, lp->p.err_fd};
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		loop_add_fd(l, fds[i], POLLIN, on_fd, lp);
		lp->open_fds++;
	}
	lp->last_output = pc_now();
	if (idle_timeout_s > 0)
		loop_add_timer(l, lp->last_output + idle_timeout_s, on_idle_check, lp);
	return lp;
}

void lproc_kill(struct lproc *lp)
{
	proc_kill(&lp->p);
}

const char *lproc_err_line(struct lproc *lp, char *buf, size_t n)
{
	return proc_err_line(&lp->p, buf, n);
}
