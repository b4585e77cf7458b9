/* Connections: accept, read a request head into a fixed buffer, answer,
 * keep alive or stream.  The sockets live in one epoll set, which the
 * common loop watches as a single fd next to stdin and the pipelines'
 * pipes; one tick timer handles every timeout, so a client costs no timer
 * and no allocation beyond its struct while it streams. */
#define _GNU_SOURCE
#include "sse.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define ACCEPT_BATCH 64            /* connections accepted per readiness */
#define SEND_TIMEOUT 60.0          /* s: a response that makes no progress is dropped */
#define SENDFILE_CHUNK (1 << 20)   /* bytes per sendfile call, so one client cannot hog a turn */
#define DRAIN_MAX 65536            /* bytes read and dropped before a close, against RST */

struct server srv;
static struct client *dead;        /* closed; freed once the current callback is done */

/* ---- epoll interest ---- */

static void epoll_set(int fd, uint32_t *have, uint32_t want, void *ptr, int registered)
{
	if (registered && *have == want)
		return;
	struct epoll_event ev = {.events = want, .data.ptr = ptr};
	int op = registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(srv.epfd, op, fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev);
	*have = want;
}

/* What the client waits for now: a request to read, room to write, or
 * (streaming) only the close of the other side. */
static void client_watch(struct client *c)
{
	uint32_t r = 0, w = 0;
	if (c->state == C_READ || (c->state == C_SSE && !(c->flags & CF_EOF)))
		r = EPOLLIN | EPOLLRDHUP;
	if (c->flags & CF_BLOCKED)
		w = EPOLLOUT;
	if (c->rfd == c->wfd) {
		epoll_set(c->rfd, &c->rev, r | w, c, 1);
		return;
	}
	epoll_set(c->rfd, &c->rev, r, c, 1);
	epoll_set(c->wfd, &c->wev, w, c, 1);
}

/* ---- lifecycle ---- */

void server_add_connection(int rfd, int wfd)
{
	struct client *c = pc_xcalloc(1, sizeof *c);
	c->kind = WATCH_CLIENT;
	c->state = C_READ;
	c->rfd = rfd;
	c->wfd = wfd;
	c->file_fd = -1;
	c->deadline = srv.now + srv.cfg.request_timeout;
	c->progress = srv.now;
	c->next = srv.clients;
	if (srv.clients)
		srv.clients->prev = c;
	srv.clients = c;
	srv.nclients++;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
	if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, rfd, &ev) < 0)
		pc_warn("connection fd %d cannot be watched: %s", rfd, strerror(errno));
	c->rev = ev.events;
	if (wfd != rfd) {
		ev.events = 0;
		epoll_ctl(srv.epfd, EPOLL_CTL_ADD, wfd, &ev);
	}
}

static void stream_detach(struct client *c)
{
	struct stream *s = c->st;
	if (!s)
		return;
	if (c->sprev)
		c->sprev->snext = c->snext;
	else
		s->clients = c->snext;
	if (c->snext)
		c->snext->sprev = c->sprev;
	c->sprev = c->snext = NULL;
	c->st = NULL;
	if (--s->nclients == 0)
		s->idle_since = srv.now;
	srv.nsse--;
}

void client_close(struct client *c)
{
	if (c->state == C_CLOSED)
		return;
	stream_detach(c);
	epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->rfd, NULL);
	if (c->wfd != c->rfd)
		epoll_ctl(srv.epfd, EPOLL_CTL_DEL, c->wfd, NULL);
	/* Read what the client sent that we did not use: closing with unread
	 * data makes the kernel send RST, which can destroy a response still
	 * in flight (a 400 or 431 the client never gets to read). */
	if (!(c->flags & CF_EOF)) {
		char tmp[4096];
		size_t drained = 0;
		ssize_t r;
		shutdown(c->wfd, SHUT_WR);
		while (drained < DRAIN_MAX && (r = read(c->rfd, tmp, sizeof tmp)) > 0)
			drained += (size_t)r;
	}
	close(c->rfd);
	if (c->wfd != c->rfd)
		close(c->wfd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	free(c->req);
	c->req = NULL;
	buf_free(&c->out);
	c->state = C_CLOSED;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv.nclients--;
	c->next = dead;
	dead = c;
}

static void reap_dead(void)
{
	while (dead) {
		struct client *c = dead;
		dead = c->next;
		free(c);
	}
}

/* ---- writing ---- */

static ssize_t send_file(struct client *c)
{
	size_t want = (size_t)(c->file_end - c->file_off);
	if (want > SENDFILE_CHUNK)
		want = SENDFILE_CHUNK;
	ssize_t w = sendfile(c->wfd, c->file_fd, &c->file_off, want);
	if (w >= 0 || (errno != EINVAL && errno != ENOSYS))
		return w;
	/* Not a socket or pipe sendfile handles: copy through a buffer. */
	char tmp[65536];
	ssize_t r = pread(c->file_fd, tmp, want < sizeof tmp ? want : sizeof tmp, c->file_off);
	if (r <= 0) {
		errno = r == 0 ? EIO : errno;
		return -1;
	}
	w = write(c->wfd, tmp, (size_t)r);
	if (w > 0)
		c->file_off += w;
	return w;
}

static void response_done(struct client *c)
{
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	if (!c->keep_alive || (c->flags & CF_EOF)) {
		client_close(c);
		return;
	}
	c->state = C_READ;
	c->flags |= CF_IDLE;
	c->flags &= (unsigned char)~CF_HEAD;
	c->deadline = srv.now + srv.cfg.keepalive_timeout;
}

void client_flush(struct client *c)
{
	if (c->state != C_WRITE && c->state != C_SSE)
		return;
	for (;;) {
		struct iovec iov[2];
		int n = 0;
		size_t out_left = c->out.len - c->out_off, sse_left = 0;
		struct stream *s = c->st;
		if (out_left)
			iov[n++] = (struct iovec){c->out.data + c->out_off, out_left};
		if (c->state == C_SSE) {
			if (c->pos < s->base) {   /* fell behind what memory keeps */
				client_close(c);
				return;
			}
			sse_left = stream_end_pos(s) - c->pos;
			if (sse_left)
				iov[n++] = (struct iovec){s->framed.data + (c->pos - s->base), sse_left};
		}
		ssize_t w;
		if (n)
			w = writev(c->wfd, iov, n);
		else if (c->state == C_WRITE && c->file_fd >= 0 && c->file_off < c->file_end)
			w = send_file(c);
		else
			break;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* A client that stops reading must not hold memory or the
			 * stream: past the bound it goes, and may resume. */
			if (c->state == C_SSE && out_left + sse_left > srv.cfg.max_backlog) {
				if (srv.cfg.verbose)
					pc_warn("client too slow (%zu bytes behind): closed", out_left + sse_left);
				client_close(c);
				return;
			}
			c->flags |= CF_BLOCKED;
			client_watch(c);
			return;
		}
		if (w < 0) {
			client_close(c);
			return;
		}
		c->progress = srv.now;
		if (n) {
			size_t done = (size_t)w;
			size_t from_out = done < out_left ? done : out_left;
			c->out_off += from_out;
			c->pos += done - from_out;
		}
	}
	/* Everything there was is sent. */
	c->flags &= (unsigned char)~CF_BLOCKED;
	buf_free(&c->out);   /* streaming clients keep no buffer of their own */
	c->out_off = 0;
	if (c->state == C_WRITE) {
		response_done(c);
		if (c->state == C_CLOSED)
			return;
	} else if (c->st->ended) {
		client_close(c);
		return;
	} else
		c->deadline = srv.now + srv.cfg.heartbeat;
	client_watch(c);
}

/* ---- reading ---- */

static void drop_request_bytes(struct client *c, size_t n)
{
	memmove(c->req, c->req + n, c->req_len - n);
	c->req_len -= n;
	if (!c->req_len) {
		/* 8 KiB per waiting client is what a 10k fan-out cannot afford. */
		free(c->req);
		c->req = NULL;
	}
}

/* Answer every complete request buffered, in order (pipelining). */
static void client_process(struct client *c)
{
	while (c->state == C_READ && c->req_len) {
		struct httpd_req req;
		int n = httpd_parse_request(c->req, c->req_len, &req);
		if (n == 0) {
			if (c->flags & CF_EOF)
				client_close(c);   /* closed in the middle of a request */
			return;
		}
		srv.requests_total++;
		c->flags &= (unsigned char)~CF_IDLE;
		if (n < 0) {
			respond_error(c, req.status, 0);
			c->req_len = 0;
		} else {
			if (c->flags & CF_EOF)
				req.keep_alive = 0;
			route_request(c, &req);
			drop_request_bytes(c, (size_t)n);
		}
		if (c->state == C_SSE && c->req) {
			free(c->req);   /* nothing more is read from a stream client */
			c->req = NULL;
			c->req_len = 0;
		}
		client_flush(c);
	}
	if (c->state == C_READ && !c->req_len && (c->flags & CF_EOF))
		client_close(c);
}

static void client_read(struct client *c)
{
	if (c->state != C_READ) {
		/* Streaming: nothing is expected; notice the close. */
		char tmp[512];
		ssize_t r = read(c->rfd, tmp, sizeof tmp);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			c->flags |= CF_EOF;
			client_close(c);
		}
		return;
	}
	if (!c->req)
		c->req = pc_xmalloc(HTTPD_REQ_MAX);
	ssize_t r = read(c->rfd, c->req + c->req_len, HTTPD_REQ_MAX - c->req_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		c->flags |= CF_EOF;
		if (r < 0 || !c->req_len) {
			client_close(c);
			return;
		}
	} else {
		if (c->flags & CF_IDLE)   /* a new request begins: its own timeout */
			c->deadline = srv.now + srv.cfg.request_timeout;
		c->flags &= (unsigned char)~CF_IDLE;
		c->req_len += (size_t)r;
	}
	client_process(c);
}

/* ---- accepting ---- */

static void refuse_busy(int fd)
{
	char msg[256];
	int n = snprintf(msg, sizeof msg,
			 "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 20\r\nConnection: close\r\n\r\ntoo many connections",
			 SSE_RETRY_AFTER);
	ssize_t w = write(fd, msg, (size_t)n);
	(void)w;
	metrics_response(503);
	close(fd);
}

static void on_listener(struct listener *L)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(L->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop listening until the next tick
				 * rather than spin on a listener that stays readable. */
				pc_warn("accept: %s; pausing", strerror(errno));
				uint32_t have = EPOLLIN;
				epoll_set(L->fd, &have, 0, L, 1);
				L->paused = 1;
			}
			return;
		}
		if (srv.nclients >= srv.cfg.max_clients) {
			refuse_busy(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		server_add_connection(fd, fd);
	}
}

void server_add_listener(int fd)
{
	if (srv.nlisteners == SSE_MAX_LISTEN)
		pc_die(PC_EXIT_USAGE, "at most %d listening sockets", SSE_MAX_LISTEN);
	struct listener *L = &srv.listeners[srv.nlisteners++];
	L->kind = WATCH_LISTEN;
	L->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = L};
	if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		pc_die(PC_EXIT_FAIL, "epoll: %s", strerror(errno));
}

/* ---- the loop ---- */

static void on_epoll(struct loop *l, int fd, short revents, void *arg)
{
	(void)l, (void)fd, (void)revents, (void)arg;
	struct epoll_event evs[SSE_EPOLL_BATCH];
	int n = epoll_wait(srv.epfd, evs, SSE_EPOLL_BATCH, 0);
	srv.now = pc_now();
	for (int i = 0; i < n; i++) {
		unsigned char kind = *(unsigned char *)evs[i].data.ptr;
		uint32_t e = evs[i].events;
		if (kind == WATCH_LISTEN) {
			on_listener(evs[i].data.ptr);
			continue;
		}
		struct client *c = evs[i].data.ptr;
		if (c->state == C_CLOSED)
			continue;
		if ((e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && (c->state == C_WRITE || c->state == C_SSE)) {
			client_flush(c);
			if (c->state == C_READ && c->req_len)
				client_process(c);
		}
		if (c->state != C_CLOSED && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
		    (c->state == C_READ || c->state == C_SSE))
			client_read(c);
	}
	reap_dead();
}

static void tick_clients(void)
{
	for (struct client *c = srv.clients, *next; c; c = next) {
		next = c->next;
		if (c->state == C_READ && srv.now >= c->deadline) {
			if (c->flags & CF_IDLE) {
				client_close(c);   /* an idle kept-alive connection: no 408 */
				continue;
			}
			c->req_len = 0;
			respond_error(c, 408, 0);
			client_flush(c);
		} else if ((c->flags & CF_BLOCKED) && srv.now - c->progress > SEND_TIMEOUT) {
			client_close(c);
		} else if (c->state == C_SSE && srv.now >= c->deadline && !(c->flags & CF_BLOCKED) &&
			   c->pos == stream_end_pos(c->st)) {
			/* A comment line keeps idle proxies from closing the stream. */
			buf_puts(&c->out, ": keepalive\n\n");
			c->out_off = 0;
			client_flush(c);
		}
	}
}

static void tick_streams(void)
{
	for (struct stream *s = srv.streams, *next; s; s = next) {
		next = s->next;
		if (s->follow_fd >= 0)
			stream_follow(s);
		/* An ended session leaves memory a while after its last client;
		 * a resume then reads its events.ndjson. */
		if (s->kind == STREAM_SESSION && s->ended && !s->pipe && !s->nclients &&
		    srv.now - s->idle_since > SSE_STREAM_LINGER)
			stream_free(s);
	}
}

static void on_tick(struct loop *l, void *arg)
{
	(void)arg;
	srv.now = pc_now();
	tick_clients();
	pipeline_tick(srv.now);
	tick_streams();
	for (int i = 0; i < srv.nlisteners; i++) {
		struct listener *L = &srv.listeners[i];
		if (L->paused) {
			uint32_t have = 0;
			epoll_set(L->fd, &have, EPOLLIN, L, 1);
			L->paused = 0;
		}
	}
	if (srv.cfg.max_age > 0 && srv.now >= srv.next_sweep) {
		int n = sweep_old(srv.out_root, srv.cfg.max_age);
		if (n)
			pc_warn("swept %d old session folders and reels (unchanged for %.0f s)", n, srv.cfg.max_age);
		double every = srv.cfg.max_age / 4;
		srv.next_sweep = srv.now + (every < 1 ? 1 : every > 3600 ? 3600 : every);
	}
	reap_dead();
	if (srv.one_connection && srv.nclients == 0 && pipelines_running() == 0)
		srv.quit = 1;
	loop_add_timer(l, srv.now + SSE_TICK, on_tick, NULL);
}

/* SIGTERM and SIGINT end the loop instead of the process, so the
 * pipelines are killed and waited for and everything is freed on the way
 * out (systemd's stop is then a clean exit 0).  A self-pipe wakes the loop. */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
	(void)sig;
	int saved = errno;
	ssize_t w = write(stop_pipe[1], "x", 1);
	(void)w;
	errno = saved;
}

static void on_stop(struct loop *l, int fd, short revents, void *arg)
{
	(void)l, (void)revents, (void)arg;
	char tmp[16];
	ssize_t r = read(fd, tmp, sizeof tmp);
	(void)r;
	srv.quit = 1;
}

static void catch_stop_signals(void)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;   /* then the default handlers of pc_init stay */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	loop_add_fd(srv.loop, stop_pipe[0], POLLIN, on_stop, NULL);
}

void server_init(void)
{
	srv.loop = loop_new();
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv.epfd < 0)
		pc_die(PC_EXIT_FAIL, "epoll_create1: %s", strerror(errno));
	srv.now = pc_now();
	loop_add_fd(srv.loop, srv.epfd, POLLIN, on_epoll, NULL);
	catch_stop_signals();
}

void server_run(void)
{
	loop_add_timer(srv.loop, srv.now + SSE_TICK, on_tick, NULL);
	while (!srv.quit)
		loop_run_once(srv.loop, -1);
}

void server_free(void)
{
	while (srv.clients)
		client_close(srv.clients);
	reap_dead();
	feed_free_all();
	while (srv.streams)
		stream_free(srv.streams);
	loop_del_fd(srv.loop, srv.epfd);
	close(srv.epfd);
	if (stop_pipe[0] >= 0) {
		loop_del_fd(srv.loop, stop_pipe[0]);
		close(stop_pipe[0]);
		close(stop_pipe[1]);
	}
	loop_free(srv.loop);
	free(srv.cfg.media);
}
