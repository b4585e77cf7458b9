/* Fan-out load client for `make bench`: N concurrent SSE clients of
 * sse-serve's GET /events, one epoll loop.  Each record the bench sends
 * carries "sent":<CLOCK_REALTIME seconds>; every client measures when it
 * arrived.  Prints one JSON line: connected, complete, latency percentiles.
 *
 * Delivery latency is the kernel's receive timestamp (SO_TIMESTAMPNS: when
 * the bytes reached this client's socket) minus "sent", so it measures the
 * server and the network, not how late this one thread gets round to
 * reading 10,000 sockets on a core it shares with the server.  The time
 * the client read the bytes is reported too (read_p50_ms, read_p99_ms).
 *
 *   fanout HOST PORT CLIENTS RECORDS TIMEOUT_S READY_FILE
 * READY_FILE is created once every client has its response headers, so the
 * bench starts sending only then.  After printing, it keeps the connections
 * open until its standard input ends. */
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

struct lat {
	double *v;
	size_t n, cap;
};
static struct lat lat, lat_read;   /* kernel receive time, read time */

static void lat_add(struct lat *l, double v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1 << 16;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = v;
}

static double pct(const struct lat *l, double q)
{
	return l->n ? l->v[(size_t)(l->n * q)] * 1000 : -1;
}

static void on_line(struct client *c, const char *line, size_t n, double arrived)
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
	lat_add(&lat, arrived - sent);
	lat_add(&lat_read, now_real() - sent);
}

/* arrived: the receive timestamp of the last segment this read took (a
 * read that takes several records gives each the latest one: never less
 * than the truth). */
static int consume(struct client *c, const char *buf, size_t n, double arrived)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			on_line(c, c->line, c->linelen, arrived);
			c->linelen = 0;
		} else if (c->linelen < LINE_MAX_BYTES - 1)
			c->line[c->linelen++] = buf[i];
	}
	return 0;
}

/* read(2) that also returns when the last byte reached the socket
 * (CLOCK_REALTIME, like "sent"); the read time when the kernel gave none. */
static ssize_t recv_stamped(int fd, char *buf, size_t len, double *arrived)
{
	char ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
	ssize_t r = recvmsg(fd, &mh, 0);
	*arrived = now_real();
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); r > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof ts);
			if (ts.tv_sec)
				*arrived = ts.tv_sec + ts.tv_nsec / 1e9;
		}
	return r;
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
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
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
				double arrived;
				ssize_t r = recv_stamped(c->fd, buf, sizeof buf, &arrived);
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
				consume(c, buf, (size_t)r, arrived);
				if (!had && c->headers_done)
					headers++;
				if (before < want && c->records >= want)
					complete++;
			}
		}
	}
	qsort(lat.v, lat.n, sizeof *lat.v, cmp_double);
	qsort(lat_read.v, lat_read.n, sizeof *lat_read.v, cmp_double);
	printf("{\"clients\":%d,\"connected\":%d,\"complete\":%d,\"closed\":%d,\"deliveries\":%zu,"
	       "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"read_p50_ms\":%.2f,\"read_p99_ms\":%.2f}\n",
	       n, connected, complete, closed, lat.n, pct(&lat, 0.5), pct(&lat, 0.99),
	       lat.n ? lat.v[lat.n - 1] * 1000 : -1, pct(&lat_read, 0.5), pct(&lat_read, 0.99));
	/* Hold the connections until the bench has read the server's CPU time
	 * and memory (end of standard input): 10,000 closes are not fan-out. */
	fflush(stdout);
	char b;
	while (read(0, &b, 1) > 0)
		;
	return complete == n ? 0 : 1;
}
