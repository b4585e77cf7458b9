/* One event loop for everything a stage waits on: its input, its children's
 * pipes, timers (retries, timeouts) and libcurl transfers.  curl_multi_poll
 * is the single wait, with our own fds passed as extra fds, so cloud
 * requests and local work share one thread and never a thread per request. */
#define _GNU_SOURCE
#include "pc.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct loop_fd {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
};

struct loop_timer {
	double when;
	loop_timer_cb cb;
	void *arg;
	struct loop_timer *next;
};

struct loop_xfer {
	loop_curl_cb cb;
	void *arg;
};

struct loop {
	CURLM *multi;
	struct loop_fd *fds;
	size_t nfds, capfds;
	struct loop_timer *timers;   /* sorted by when */
	int transfers;
};

struct loop *loop_new(void)
{
	static int curl_ready;
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	struct loop *l = pc_xcalloc(1, sizeof *l);
	l->multi = curl_multi_init();
	if (!l->multi)
		pc_die(PC_EXIT_FAIL, "curl_multi_init failed");
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->timers) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	curl_multi_cleanup(l->multi);
	free(l->fds);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg)
{
	if (l->nfds == l->capfds) {
		l->capfds = l->capfds ? l->capfds * 2 : 16;
		l->fds = pc_xrealloc(l->fds, l->capfds * sizeof *l->fds);
	}
	l->fds[l->nfds++] = (struct loop_fd){fd, events, cb, arg};
	return 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
	}
}

void loop_add_timer(struct loop *l, double when, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = pc_xcalloc(1, sizeof *t);
	t->when = when;
	t->cb = cb;
	t->arg = arg;
	struct loop_timer **pp = &l->timers;
	while (*pp && (*pp)->when <= when)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

void loop_del_timers(struct loop *l, void *arg)
{
	struct loop_timer **pp = &l->timers;
	while (*pp) {
		if ((*pp)->arg == arg) {
			struct loop_timer *t = *pp;
			*pp = t->next;
			free(t);
		} else
			pp = &(*pp)->next;
	}
}

void *loop_curl_multi(struct loop *l)
{
	return l->multi;
}

int loop_curl_add(struct loop *l, void *easy, loop_curl_cb cb, void *arg)
{
	struct loop_xfer *x = pc_xcalloc(1, sizeof *x);
	x->cb = cb;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
		free(x);
		return -1;
	}
	l->transfers++;
	return 0;
}

void loop_curl_remove(struct loop *l, void *easy)
{
	struct loop_xfer *x = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (curl_multi_remove_handle(l->multi, easy) != CURLM_OK)
		return;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	l->transfers--;
	free(x);
}

int loop_idle(struct loop *l)
{
	return l->nfds == 0 && l->timers == NULL && l->transfers == 0;
}

static void run_transfers(struct loop *l)
{
	int running;
	curl_multi_perform(l->multi, &running);
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(l->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode code = msg->data.result;
		struct loop_xfer *x = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(l->multi, easy);
		l->transfers--;
		if (x) {
			x->cb(l, easy, (int)code, x->arg);
			free(x);
		}
	}
}

static void run_timers(struct loop *l)
{
	double now = pc_now();
	while (l->timers && l->timers->when <= now) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		t->cb(l, t->arg);
		free(t);
	}
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	int wait_ms = max_wait_ms;
	if (l->timers) {
		double left = l->timers->when - pc_now();
		int t_ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		if (wait_ms < 0 || t_ms < wait_ms)
			wait_ms = t_ms;
	}
	if (wait_ms < 0)
		wait_ms = 1000;
	size_t n = l->nfds;
	struct curl_waitfd *w = pc_xcalloc(n ? n : 1, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		w[i].fd = l->fds[i].fd;
		w[i].events = l->fds[i].events;
	}
	int numfds = 0;
	curl_multi_poll(l->multi, w, (unsigned)n, wait_ms, &numfds);
	for (size_t i = 0; i < n; i++) {
		if (!w[i].revents)
			continue;
		/* A callback may have removed or replaced entries: look again. */
		for (size_t j = 0; j < l->nfds; j++) {
			if (l->fds[j].fd == w[i].fd) {
				struct loop_fd f = l->fds[j];
				f.cb(l, f.fd, (short)w[i].revents, f.arg);
				break;
			}
		}
	}
	free(w);
	if (l->transfers)
		run_transfers(l);
	run_timers(l);
	return 0;
}
