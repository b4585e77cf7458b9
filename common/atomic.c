/* Output files appear complete or not at all: write under a hidden
 * temporary name in the same folder, rename(2) into place when done. */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Temporary files still open for writing, removed on a fatal signal.  Fixed
 * slots so the signal handler needs no allocation. */
#define TMP_SLOTS 64
static char tmp_slots[TMP_SLOTS][PATH_MAX];
static volatile sig_atomic_t tmp_used[TMP_SLOTS];

static void tmp_track(const char *path)
{
	for (int i = 0; i < TMP_SLOTS; i++) {
		if (!tmp_used[i]) {
			snprintf(tmp_slots[i], PATH_MAX, "%s", path);
			tmp_used[i] = 1;
			return;
		}
	}
}

static void tmp_untrack(const char *path)
{
	for (int i = 0; i < TMP_SLOTS; i++) {
		if (tmp_used[i] && !strcmp(tmp_slots[i], path)) {
			tmp_used[i] = 0;
			return;
		}
	}
}

/* Called from proc_kill_all (signal context): unlink is async-signal-safe. */
void tmp_unlink_all(void);
void tmp_unlink_all(void)
{
	for (int i = 0; i < TMP_SLOTS; i++)
		if (tmp_used[i])
			unlink(tmp_slots[i]);
}

int tmp_path(const char *final, char *tmp, size_t n)
{
	static unsigned seq;
	const char *slash = strrchr(final, '/');
	const char *base = slash ? slash + 1 : final;
	int dirlen = slash ? (int)(slash - final + 1) : 0;
	const char *dot = strrchr(base, '.');
	const char *ext = dot && dot != base ? dot : "";
	int stemlen = (int)(strlen(base) - strlen(ext));
	int w = snprintf(tmp, n, "%.*s.%.*s.tmp-%ld-%u%s", dirlen, final, stemlen, base,
			 (long)getpid(), seq++, ext);
	if (w < 0 || (size_t)w >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	tmp_track(tmp);
	return 0;
}

int tmp_commit(const char *tmp, const char *final)
{
	int rc = rename(tmp, final);
	int saved = errno;
	if (rc < 0)
		unlink(tmp);
	tmp_untrack(tmp);
	errno = saved;
	return rc;
}

void tmp_abort(const char *tmp)
{
	unlink(tmp);
	tmp_untrack(tmp);
}

int atomic_write(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	if (tmp_path(path, tmp, sizeof tmp) < 0)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int saved = errno;
		tmp_abort(tmp);
		errno = saved;
		return -1;
	}
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int saved = errno;
			close(fd);
			tmp_abort(tmp);
			errno = saved;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0) {
		int saved = errno;
		tmp_abort(tmp);
		errno = saved;
		return -1;
	}
	return tmp_commit(tmp, path);
}
