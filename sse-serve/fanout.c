/* Fan-out on two cores.  Sending one record to 10,000 clients is 10,000
 * write(2)s, and nearly all of their time is the kernel's TCP stack, not
 * ours: one thread cannot go faster, two can.  So when a record goes to
 * many clients, a helper thread writes to half of them while this thread
 * writes to the other half.
 *
 * Each thread does only the plain case for its own clients: a streaming
 * client with nothing else queued gets the stream's new bytes in one write
 * and its position advances by what went out.  Nothing else is touched
 * while the two run — no client is closed, no epoll interest changes, the
 * stream's bytes stay where they are — so the only shared state is read
 * only.  Everything else (a short write, EAGAIN, an error, a heartbeat
 * queued, a client that fell behind) is left to client_flush on this
 * thread afterwards, which finds a client that was fully written to done
 * without another system call. */
#define _GNU_SOURCE
#include "sse.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define FANOUT_STACK (64 * 1024)   /* the helper thread only loops over write(2) */

struct fan_part {
	struct client **clients;
	size_t n;
	const struct stream *st;
	double now;
};

/* A client this thread may write to without client_flush's bookkeeping. */
static int plain(const struct client *c, const struct stream *s)
{
	return c->state == C_SSE && !(c->flags & CF_BLOCKED) && c->out.len == c->out_off &&
	       c->pos >= s->base && c->pos < stream_end_pos(s);
}

static void *write_part(void *arg)
{
	struct fan_part *p = arg;
	const struct stream *s = p->st;
	size_t end = stream_end_pos(s);
	for (size_t i = 0; i < p->n; i++) {
		struct client *c = p->clients[i];
		ssize_t w = write(c->wfd, s->framed.data + (c->pos - s->base), end - c->pos);
		if (w > 0) {
			c->pos += (size_t)w;
			c->progress = p->now;
		}
	}
	return NULL;
}

/* Start the helper on part; 0 when it runs. */
static int start_helper(pthread_t *t, struct fan_part *part)
{
	pthread_attr_t attr;
	sigset_t all, old;
	if (pthread_attr_init(&attr))
		return -1;
	pthread_attr_setstacksize(&attr, FANOUT_STACK);
	/* Signals stay with the main thread: its handlers wake the loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(t, &attr, write_part, part);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc ? -1 : 0;
}

void fanout_write(struct stream *s)
{
	if (srv.cfg.split_fanout <= 0 || s->nclients < (size_t)srv.cfg.split_fanout)
		return;
	struct client **list = malloc(s->nclients * sizeof *list);
	if (!list)
		return;   /* client_flush writes to each in turn, as with few clients */
	size_t n = 0;
	for (struct client *c = s->clients; c && n < s->nclients; c = c->snext)
		if (plain(c, s))
			list[n++] = c;
	if (n >= (size_t)srv.cfg.split_fanout) {
		struct fan_part helper = {list + n / 2, n - n / 2, s, srv.now};
		struct fan_part mine = {list, n / 2, s, srv.now};
		pthread_t t;
		if (start_helper(&t, &helper) == 0) {
			write_part(&mine);
			pthread_join(t, NULL);
		}
	}
	free(list);
}
