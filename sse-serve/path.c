/* URL paths to files inside one folder.  Two steps, so the first can be
 * fuzzed without a file system: path_clean decodes and refuses anything
 * that names a place outside (".." in any spelling, NUL, absolute paths);
 * path_open resolves symlinks and checks the real path is still inside. */
#define _GNU_SOURCE
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A finished segment out[seg..o): refuse the ones that climb, are empty,
 * or are hidden (".", "..", and the ".NAME.tmp-*" files that are still
 * being written, which must never be served as if finished). */
static int check_segment(const char *out, size_t seg, size_t o)
{
	if (o == seg)
		return 403;   /* "//" or a leading "/": an absolute path */
	if (out[seg] == '.')
		return 403;
	return 0;
}

int path_clean(const char *rel, size_t n, char *out, size_t outlen)
{
	size_t o = 0, seg = 0;
	if (n == 0 || outlen == 0)
		return 403;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)rel[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(rel[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(rel[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return 400;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		/* Decoded bytes are checked like literal ones: %2e%2e is "..",
		 * %2f is "/", %00 is a NUL. */
		if (c < 0x20 || c == 0x7f || c == '\\')
			return 400;
		if (o + 1 >= outlen)
			return 400;
		if (c == '/') {
			int bad = check_segment(out, seg, o);
			if (bad)
				return bad;
			out[o++] = '/';
			seg = o;
			continue;
		}
		out[o++] = (char)c;
	}
	int bad = check_segment(out, seg, o);
	if (bad)
		return bad;
	out[o] = '\0';
	return 0;
}

int path_open(const char *root, const char *rel, struct stat *st, char *resolved, size_t rlen)
{
	char joined[PATH_MAX], real[PATH_MAX];
	int w = snprintf(joined, sizeof joined, "%s/%s", root, rel);
	if (w < 0 || (size_t)w >= sizeof joined)
		return -404;
	if (!realpath(joined, real))
		return errno == EACCES ? -403 : -404;
	size_t rootlen = strlen(root);
	/* root itself is "/" only when serving everything, which we never do,
	 * so the real path must continue root with a '/'. */
	if (strncmp(real, root, rootlen) || real[rootlen] != '/')
		return -403;
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -404 : -403;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -403;   /* folders are not listed; devices and fifos not read */
	}
	/* The fd stays non-blocking only for opening (a fifo swapped in would
	 * block open); reads of a regular file never block on it anyway. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (resolved)
		snprintf(resolved, rlen, "%s", real);
	return fd;
}
