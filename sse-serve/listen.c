/* Where connections come from: our own listening sockets (-l), sockets
 * passed by systemd (LISTEN_FDS, read without libsystemd: sd_listen_fds(3)
 * is two environment variables and fds from 3), or one connection on
 * stdin/stdout (-i).  And what we give up once they are open (--user). */
#define _GNU_SOURCE
#include "sse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096   /* pending connections: a burst of 10k clients */
#define SD_LISTEN_FDS_START 3

/* "[ADDR:]PORT", "[v6]:PORT", ":PORT" (every address).  Loopback when no
 * address is given, so nothing is exposed by accident. */
int listen_parse(const char *spec, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon = NULL;
	if (!spec || !*spec)
		return -1;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= hn)
			return -1;
		snprintf(host, hn, "%.*s", (int)(close - spec - 1), spec + 1);
		colon = close + 1;
	} else if ((colon = strrchr(spec, ':'))) {
		if ((size_t)(colon - spec) >= hn)
			return -1;
		snprintf(host, hn, "%.*s", (int)(colon - spec), spec);
		if (strchr(host, ':'))
			return -1;   /* a bare IPv6 address needs brackets */
	} else
		snprintf(host, hn, "127.0.0.1");
	const char *p = colon ? colon + 1 : spec;
	int ok;
	pc_parse_long(p, 0, 65535, &ok);
	if (!ok || strlen(p) >= pn)
		return -1;
	snprintf(port, pn, "%s", p);
	return 0;
}

int listen_open(const char *spec, char *err, size_t errlen)
{
	char host[256], port[16];
	if (listen_parse(spec, host, sizeof host, port, sizeof port) < 0) {
		snprintf(err, errlen, "%s: not [ADDR:]PORT", spec);
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			snprintf(err, errlen, "%s: %s", spec, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

int listen_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int ok_pid, ok_fds;
	if (!pid || !fds)
		return 0;
	long p = pc_parse_long(pid, 1, 1L << 30, &ok_pid);
	long n = pc_parse_long(fds, 0, 1024, &ok_fds);
	if (!ok_pid || !ok_fds || p != (long)getpid())
		return 0;
	/* Not for our children (the pipelines). */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return (int)n;
}

int sock_is_listening(int fd)
{
	int val = 0;
	socklen_t len = sizeof val;
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

int drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "--user %s: %s", user, strerror(errno));
		return -1;
	}
	/* Make sure there is no way back. */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "--user %s: could regain root", user);
		return -1;
	}
	return 0;
}

void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void listen_url(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
			port = ntohs(a->sin6_port);
		}
	}
	int v6 = ss.ss_family == AF_INET6;
	snprintf(out, n, "http://%s%s%s:%d/", v6 ? "[" : "", host, v6 ? "]" : "", port);
}
