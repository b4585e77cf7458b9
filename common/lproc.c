/* A child whose stdout is read line by line as it comes: lines split from
 * what aproc_stream hands over. */
#define _GNU_SOURCE
#include "lproc.h"

#include <stdlib.h>
#include <string.h>

struct lproc {
	struct aproc *ap;
	lproc_line_cb on_line;
	lproc_done_cb on_done;
	void *arg;
	char line[LPROC_MAX_LINE + 1];
	size_t len;
};

static void deliver_line(struct lproc *lp)
{
	lp->line[lp->len] = '\0';
	lp->on_line(lp, lp->line, lp->len, lp->arg);
	lp->len = 0;
}

static void take_output(struct aproc *ap, const char *data, size_t n, void *arg)
{
	struct lproc *lp = arg;
	(void)ap;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;
		size_t room = LPROC_MAX_LINE - lp->len;
		size_t keep = part < room ? part : room;
		memcpy(lp->line + lp->len, data, keep);
		lp->len += keep;
		if (!nl)
			return;
		deliver_line(lp);
		data = nl + 1;
		n -= part + 1;
	}
}

static void finish(struct aproc *ap, int status, void *arg)
{
	struct lproc *lp = arg;
	(void)ap;
	if (lp->len)   /* a last line without its newline */
		deliver_line(lp);
	lp->on_done(lp, status, lp->arg);
	free(lp);
}

struct lproc *lproc_start(struct loop *l, char *const argv[], double idle_timeout_s,
			  lproc_line_cb on_line, lproc_done_cb on_done, void *arg)
{
	struct lproc *lp = pc_xcalloc(1, sizeof *lp);
	lp->on_line = on_line;
	lp->on_done = on_done;
	lp->arg = arg;
	lp->ap = aproc_stream(l, argv, idle_timeout_s, take_output, finish, lp);
	return lp;
}

void lproc_kill(struct lproc *lp)
{
	proc_kill(&lp->ap->p);
}

const char *lproc_err_line(struct lproc *lp, char *buf, size_t n)
{
	return proc_err_line(&lp->ap->p, buf, n);
}
