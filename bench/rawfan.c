/* The floor for fan-out on this machine: the least a one-process server can
 * do per record — one write(2) of the framed bytes to each client socket,
 * nothing else (no parsing, no bookkeeping, no limits).  `make bench` runs
 * the same load against it and against sse-serve, so the table shows how
 * much of the latency is the kernel's loopback TCP and how much is ours.
 *
 *   rawfan PORT     (records on stdin, one per line) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 20000

static int clients[MAX_CLIENTS];
static int nclients;

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
	static char in[1 << 16], out[1 << 16];
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
				int n = snprintf(out, sizeof out, "data: %.*s\n\n", (int)len, in);
				for (int c = 0; c < nclients; c++)
					if (write(clients[c], out, (size_t)n) < 0 && errno != EAGAIN)
						clients[c] = clients[--nclients], c--;
				memmove(in, nl + 1, inlen - len - 1);
				inlen -= len + 1;
			}
		}
	}
}
