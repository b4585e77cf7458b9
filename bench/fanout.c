/* Fan-out load client for `make bench`: N concurrent SSE clients of
 * sse-serve's GET /events, one epoll loop.  Each record the bench sends
 * carries "sent":<CLOCK_REALTIME seconds>; every client measures when it
 * arrived.  Prints one JSON line: connected, complete, latency percentiles.
 *
 *   fanout HOST PORT CLIENTS RECORDS TIMEOUT_S READY_FILE
 * READY_FILE is created once every client has its response headers, so the
 * bench starts sending only then. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF 65536
#define LINE_MAX_BYTES 4096

struct client {
	int fd;
	int headers_done;
	int records;
	size_t linelen;
	char line[LINE_MAX_BYTES];
};

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double *lat;
static size_t nlat, caplat;

static void on_line(struct client *c, const char *line, size_t n)
{
	if (!c->headers_done) {
		if (n == 0 || (n == 1 && line[0] == '\r'))
			c->headers_done = 1;
		return;
	}
	if (n < 6 || strncmp(line, "data: ", 6))
		return;
	const char *p = memmem(line, n, "\"sent\":", 7);
	if (!p)
		return;
	double sent = strtod(p + 7, NULL);
	c->records++;
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 1 << 16;
		lat = realloc(lat, caplat * sizeof *lat);
	}
	lat[nlat++] = now_real() - sent;
}

static int consume(struct client *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			on_line(c, c->line, c->linelen);
			c->linelen = 0;
		} else if (c->linelen < LINE_MAX_BYTES - 1)
			c->line[c->linelen++] = buf[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: fanout HOST PORT CLIENTS RECORDS TIMEOUT_S READY_FILE\n");
		return 2;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]), n = atoi(argv[3]), want = atoi(argv[4]);
	double timeout = atof(argv[5]);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, host, &sa.sin_addr);
	int ep = epoll_create1(0);
	struct client *cs = calloc(n, sizeof *cs);
	char req[256];
	int reqlen = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", host);
	int connected = 0;
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			if (fd >= 0)
				close(fd);
			cs[i].fd = -1;
			continue;
		}
		if (write(fd, req, reqlen) != reqlen) {
			close(fd);
			cs[i].fd = -1;
			continue;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		cs[i].fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		connected++;
	}
	int ready_written = 0, headers = 0, complete = 0, closed = 0;
	double t0 = now_real();
	static char buf[READ_BUF];
	struct epoll_event evs[1024];
	while (now_real() - t0 < timeout && complete + closed < connected) {
		if (!ready_written && headers == connected) {
			FILE *fp = fopen(argv[6], "w");
			if (fp)
				fclose(fp);
			ready_written = 1;
		}
		int k = epoll_wait(ep, evs, 1024, 100);
		for (int i = 0; i < k; i++) {
			struct client *c = evs[i].data.ptr;
			/* One read per wake-up: epoll is level-triggered, so what a
			 * short read leaves is reported again; a second read just to
			 * see EAGAIN would double this client's cost. */
			for (int reads = 0; reads < 1; reads++) {
				ssize_t r = read(c->fd, buf, sizeof buf);
				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					close(c->fd);
					c->fd = -1;
					closed++;
					break;
				}
				int had = c->headers_done, before = c->records;
				consume(c, buf, (size_t)r);
				if (!had && c->headers_done)
					headers++;
				if (before < want && c->records >= want)
					complete++;
			}
		}
	}
	qsort(lat, nlat, sizeof *lat, cmp_double);
	double p50 = nlat ? lat[nlat / 2] : -1, p99 = nlat ? lat[(size_t)(nlat * 0.99)] : -1;
	double max = nlat ? lat[nlat - 1] : -1;
	printf("{\"clients\":%d,\"connected\":%d,\"complete\":%d,\"closed\":%d,\"deliveries\":%zu,"
	       "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
	       n, connected, complete, closed, nlat, p50 * 1000, p99 * 1000, max * 1000);
	return complete == n ? 0 : 1;
}
