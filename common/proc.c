/* Subprocesses: argv arrays, never a shell string.  Each child leads its own
 * process group, so killing the group on a timeout or a signal takes along
 * whatever it started. */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void tmp_unlink_all(void);

/* Live children, for proc_kill_all from a signal handler: fixed slots. */
#define PROC_SLOTS 256
static volatile pid_t live_pids[PROC_SLOTS];

static void live_add(pid_t pid)
{
	for (int i = 0; i < PROC_SLOTS; i++)
		if (!live_pids[i]) {
			live_pids[i] = pid;
			return;
		}
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < PROC_SLOTS; i++)
		if (live_pids[i] == pid) {
			live_pids[i] = 0;
			return;
		}
}

void proc_kill_all(void)
{
	for (int i = 0; i < PROC_SLOTS; i++)
		if (live_pids[i] > 0)
			kill(-live_pids[i], SIGKILL);
	tmp_unlink_all();
}

static int devnull(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

int proc_spawn(struct proc *p, char *const argv[], int flags)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, exec_err[2] = {-1, -1};
	memset(p, 0, sizeof *p);
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->pid = -1;

	if (((flags & PROC_STDIN_PIPE) && pipe2(in, O_CLOEXEC) < 0) ||
	    (!(flags & PROC_STDOUT_NULL) && pipe2(out, O_CLOEXEC) < 0) ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(exec_err, O_CLOEXEC) < 0) {
		snprintf(p->err, sizeof p->err, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(p->err, sizeof p->err, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int fd0 = (flags & PROC_STDIN_PIPE) ? in[0] : devnull(O_RDONLY);
		int fd1 = (flags & PROC_STDOUT_NULL) ? devnull(O_WRONLY) : out[1];
		if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		int e = errno;
		ssize_t w = write(exec_err[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	/* Also from the parent, so a kill right after fork finds the group. */
	setpgid(pid, pid);
	close(exec_err[1]);
	exec_err[1] = -1;
	int child_errno = 0;
	ssize_t r;
	do
		r = read(exec_err[0], &child_errno, sizeof child_errno);
	while (r < 0 && errno == EINTR);
	close(exec_err[0]);
	exec_err[0] = -1;
	if (r == (ssize_t)sizeof child_errno) {
		waitpid(pid, NULL, 0);
		snprintf(p->err, sizeof p->err, "%s: %s", argv[0], strerror(child_errno));
		p->errlen = strlen(p->err);
		errno = child_errno;
		goto fail;
	}
	p->pid = pid;
	live_add(pid);
	if (flags & PROC_STDIN_PIPE) {
		close(in[0]);
		p->in_fd = in[1];
	}
	if (!(flags & PROC_STDOUT_NULL)) {
		close(out[1]);
		p->out_fd = out[0];
	}
	close(err[1]);
	p->err_fd = err[0];
	return 0;
fail:;
	int saved = errno;
	int *fds[] = {in, out, err, exec_err};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	p->errlen = strlen(p->err);
	errno = saved;
	return -1;
}

ssize_t proc_read_err(struct proc *p)
{
	char tmp[4096];
	ssize_t n;
	do
		n = read(p->err_fd, tmp, sizeof tmp);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	/* Keep the tail: the reason a tool failed is what it printed last. */
	if ((size_t)n >= PROC_ERR_MAX) {
		memcpy(p->err, tmp + n - PROC_ERR_MAX, PROC_ERR_MAX);
		p->errlen = PROC_ERR_MAX;
	} else {
		size_t keep = p->errlen + (size_t)n > PROC_ERR_MAX ? PROC_ERR_MAX - (size_t)n : p->errlen;
		memmove(p->err, p->err + p->errlen - keep, keep);
		memcpy(p->err + keep, tmp, (size_t)n);
		p->errlen = keep + (size_t)n;
	}
	p->err[p->errlen] = '\0';
	return n;
}

void proc_kill(struct proc *p)
{
	if (p->pid > 0 && !p->reaped)
		kill(-p->pid, SIGKILL);
}

static void reaped(struct proc *p, int status)
{
	p->status = status;
	p->reaped = 1;
	live_del(p->pid);
	/* Whatever the child left running in its group goes too. */
	kill(-p->pid, SIGKILL);
}

int proc_wait(struct proc *p)
{
	int status = 0;
	if (p->reaped)
		return p->status;
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	reaped(p, status);
	return status;
}

int proc_try_wait(struct proc *p)
{
	int status = 0;
	if (p->reaped)
		return 1;
	pid_t r = waitpid(p->pid, &status, WNOHANG);
	if (r == p->pid) {
		reaped(p, status);
		return 1;
	}
	return 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int proc_run(struct proc *p, char *const argv[], struct buf *out, int timeout_ms)
{
	if (proc_spawn(p, argv, out ? 0 : PROC_STDOUT_NULL) < 0)
		return -1;
	double deadline = timeout_ms > 0 ? pc_now() + timeout_ms / 1000.0 : 0;
	int timed_out = 0;
	while (p->out_fd >= 0 || p->err_fd >= 0) {
		struct pollfd pfd[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
		int wait_ms = -1;
		if (deadline) {
			double left = deadline - pc_now();
			if (left <= 0) {
				timed_out = 1;
				break;
			}
			wait_ms = (int)(left * 1000) + 1;
		}
		int n = poll(pfd, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (pfd[0].revents) {
			char tmp[16384];
			ssize_t r = read(p->out_fd, tmp, sizeof tmp);
			if (r > 0)
				buf_append(out, tmp, (size_t)r);
			else if (r == 0 || errno != EINTR)
				close_fd(&p->out_fd);
		}
		if (pfd[1].revents && proc_read_err(p) <= 0)
			close_fd(&p->err_fd);
	}
	if (timed_out)
		proc_kill(p);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	int status = proc_wait(p);
	return timed_out ? -2 : exit_code(status);
}

const char *proc_err_line(struct proc *p, char *buf, size_t n)
{
	size_t end = p->errlen;
	while (end && (p->err[end - 1] == '\n' || p->err[end - 1] == '\r' || p->err[end - 1] == ' '))
		end--;
	size_t start = end;
	while (start && p->err[start - 1] != '\n' && p->err[start - 1] != '\r')
		start--;
	snprintf(buf, n, "%.*s", (int)(end - start), p->err + start);
	return buf;
}

const char *proc_status_str(int status, char *buf, size_t n)
{
	if (status == -2)
		snprintf(buf, n, "timed out");
	else if (status == -1)
		snprintf(buf, n, "could not start");
	else if (status > 128)
		snprintf(buf, n, "killed by signal %d", status - 128);
	else
		snprintf(buf, n, "exit status %d", status);
	return buf;
}

/* ---- subprocesses driven by the event loop ---- */

#define APROC_READ_CHUNK 65536   /* bytes of stdout read at a time */

static int aproc_live;

int aproc_running(void)
{
	return aproc_live;
}

static void aproc_finish(struct aproc *ap)
{
	if (ap->open_fds > 0)
		return;
	loop_del_timers(ap->loop, ap);
	int result = -1;   /* could not start: ap->p.err says why */
	if (ap->p.pid > 0) {
		int status = proc_wait(&ap->p);
		result = ap->timed_out ? -2 : exit_code(status);
	}
	aproc_live--;
	ap->done(ap, result, ap->arg);
	buf_free(&ap->out);
	free(ap);
}

static void aproc_on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct aproc *ap = arg;
	(void)revents;
	ssize_t r;
	if (fd == ap->p.err_fd) {
		r = proc_read_err(&ap->p);
	} else {
		char tmp[APROC_READ_CHUNK];
		r = read(fd, tmp, sizeof tmp);
		if (r > 0 && ap->on_out)
			ap->on_out(ap, tmp, (size_t)r, ap->arg);
		else if (r > 0)
			buf_append(&ap->out, tmp, (size_t)r);
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		ap->last_output = pc_now();
		return;
	}
	loop_del_fd(l, fd);
	if (fd == ap->p.err_fd)
		close_fd(&ap->p.err_fd);
	else
		close_fd(&ap->p.out_fd);
	ap->open_fds--;
	aproc_finish(ap);
}

static void aproc_on_timeout(struct loop *l, void *arg)
{
	struct aproc *ap = arg;
	(void)l;
	ap->timed_out = 1;
	proc_kill(&ap->p);   /* the pipes close, and aproc_on_fd finishes it */
}

/* Re-armed for the end of the quiet time rather than on every read: output
 * only moves last_output, so a chatty child costs no timer work. */
static void aproc_on_idle_check(struct loop *l, void *arg)
{
	struct aproc *ap = arg;
	double quiet_until = ap->last_output + ap->idle_timeout;
	if (pc_now() < quiet_until)
		loop_add_timer(l, quiet_until, aproc_on_idle_check, ap);
	else
		aproc_on_timeout(l, ap);
}

static void aproc_on_spawn_failure(struct loop *l, void *arg)
{
	(void)l;
	aproc_finish(arg);
}

static struct aproc *aproc_new(struct loop *l, aproc_cb done, void *arg)
{
	struct aproc *ap = pc_xcalloc(1, sizeof *ap);
	ap->done = done;
	ap->arg = arg;
	ap->loop = l;
	aproc_live++;
	return ap;
}

static struct aproc *aproc_spawn(struct aproc *ap, char *const argv[], int flags, double timeout_s)
{
	struct loop *l = ap->loop;
	if (proc_spawn(&ap->p, argv, flags & ~PROC_STDIN_PIPE) < 0) {
		/* Report through the callback, from the loop, like any other end. */
		loop_add_timer(l, 0, aproc_on_spawn_failure, ap);
		return ap;
	}
	int fds[2] = {ap->p.out_fd, ap->p.err_fd};
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		loop_add_fd(l, fds[i], POLLIN, aproc_on_fd, ap);
		ap->open_fds++;
	}
	ap->last_output = pc_now();
	if (timeout_s > 0)
		loop_add_timer(l, ap->last_output + timeout_s, aproc_on_timeout, ap);
	if (ap->idle_timeout > 0)
		loop_add_timer(l, ap->last_output + ap->idle_timeout, aproc_on_idle_check, ap);
	return ap;
}

struct aproc *aproc_start(struct loop *l, char *const argv[], int flags,
			  double timeout_s, aproc_cb done, void *arg)
{
	return aproc_spawn(aproc_new(l, done, arg), argv, flags, timeout_s);
}

struct aproc *aproc_stream(struct loop *l, char *const argv[], double idle_timeout_s,
			   aproc_out_cb on_out, aproc_cb done, void *arg)
{
	struct aproc *ap = aproc_new(l, done, arg);
	ap->on_out = on_out;
	ap->idle_timeout = idle_timeout_s;
	return aproc_spawn(ap, argv, 0, 0);
}
