/* The floor for fan-out on this machine: the least a one-process server can
 * do per record — one write(2) of the framed bytes to each client socket,
 * nothing else (no parsing, no bookkeeping, no limits), split between two
 * threads from SPLIT_MIN clients like sse-serve's (a floor that left a core
 * idle would be no floor).  `make bench` runs the same load against it and
 * against sse-serve, so the table shows how much of the latency is the
 * kernel's loopback TCP and how much is ours.
 *
 *   rawfan PORT     (records on stdin, one per line) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 20000
#define SPLIT_MIN 256   /* sse-serve's SSE_SPLIT_FANOUT */

static int clients[MAX_CLIENTS];
static int nclients;
static char out[1 << 16];
static size_t outlen;

struct part {
	int from, to;
	int failed[MAX_CLIENTS];   /* indexes whose write failed */
	int nfailed;
};

static void *write_part(void *arg)
{
	struct part *p = arg;
	p->nfailed = 0;
	for (int c = p->from; c < p->to; c++)
		if (write(clients[c], out, outlen) < 0 && errno != EAGAIN)
			p->failed[p->nfailed++] = c;
	return NULL;
}

/* A client gone is dropped (after both threads are done with the list). */
static void write_all(void)
{
	static struct part a, b;
	a.from = 0;
	a.to = b.from = nclients >= SPLIT_MIN ? nclients / 2 : nclients;
	b.to = nclients;
	pthread_t t;
	int helper = b.from < b.to && pthread_create(&t, NULL, write_part, &b) == 0;
	write_part(&a);
	if (helper)
		pthread_join(t, NULL);
	else
		write_part(&b);
	for (int i = b.nfailed - 1; i >= 0; i--)
		clients[b.failed[i]] = clients[--nclients];
	for (int i = a.nfailed - 1; i >= 0; i--)
		clients[a.failed[i]] = clients[--nclients];
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	signal(SIGPIPE, SIG_IGN);   /* a client gone is a failed write, not our end */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4096) < 0)
		return 1;
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.fd = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
	static char in[1 << 16];
	size_t inlen = 0;
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < k; i++) {
			if (evs[i].data.fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					char req[1024];
					ssize_t r = read(c, req, sizeof req);   /* the request, ignored */
					(void)r;
					if (nclients < MAX_CLIENTS && write(c, head, sizeof head - 1) > 0)
						clients[nclients++] = c;
					else
						close(c);
				}
				continue;
			}
			ssize_t r = read(0, in + inlen, sizeof in - inlen);
			if (r <= 0)
				return 0;
			inlen += (size_t)r;
			char *nl;
			while ((nl = memchr(in, '\n', inlen))) {
				size_t len = (size_t)(nl - in);
				outlen = (size_t)snprintf(out, sizeof out, "data: %.*s\n\n", (int)len, in);
				write_all();
				memmove(in, nl + 1, inlen - len - 1);
				inlen -= len + 1;
			}
		}
	}
}
