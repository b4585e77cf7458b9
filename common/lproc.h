/* A child process whose standard output is read line by line AS IT COMES,
 * from the event loop: for following a tool's progressive output (ffmpeg's
 * metadata=print or -progress) instead of waiting for it to end.  A line
 * splitter on aproc_stream, so the child leads its own process group and
 * dies with us on a signal or a closed stdout. */
#ifndef PC_LPROC_H
#define PC_LPROC_H
#include "pc.h"

#define LPROC_MAX_LINE 4096   /* a longer line is cut to this (the rest is dropped) */

struct lproc;
/* One line of standard output, without its newline, NUL-terminated. */
typedef void (*lproc_line_cb)(struct lproc *, const char *line, size_t len, void *arg);
/* The end: status as proc_run's result (exit code, 128+signal, -1 could not
 * start, -2 timed out).  The lproc is freed after this returns. */
typedef void (*lproc_done_cb)(struct lproc *, int status, void *arg);

/* Start argv.  idle_timeout_s > 0: the child's group is killed (status -2)
 * when it writes nothing on stdout or stderr for that long.  Never NULL: a
 * child that cannot start reports -1 through done, from the loop. */
struct lproc *lproc_start(struct loop *l, char *const argv[], double idle_timeout_s,
			  lproc_line_cb on_line, lproc_done_cb on_done, void *arg);
/* Kill the child's group; done still comes, from the loop. */
void lproc_kill(struct lproc *lp);
/* The last line of the child's stderr (or why it could not start). */
const char *lproc_err_line(struct lproc *lp, char *buf, size_t n);

#endif
