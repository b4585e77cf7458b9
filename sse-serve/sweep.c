/* --max-age: the seed's cleanup job.  Session folders (and their final
 * videos) older than the age go, unless a stream in memory still uses them.
 * Removal works on directory fds and never follows a symlink, so a link
 * planted in a session folder cannot make us delete anything outside. */
#define _GNU_SOURCE
#include "sse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_DEPTH 8   /* folders nested deeper than this are left alone */

int remove_tree_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno == ENOENT ? 0 : -1;
	if (depth <= 0)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc |= remove_tree_at(fd, e->d_name, depth - 1);
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		rc = -1;
	return rc;
}

static int in_use(const char *session)
{
	for (struct stream *s = srv.streams; s; s = s->next)
		if (!strcmp(s->session, session) && (!s->ended || s->nclients))
			return 1;
	return 0;
}

/* The newest modification time of a folder and the files directly in it:
 * a session is old when nothing in it has changed for max_age. */
static time_t newest_change(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return (time_t)-1;
	time_t newest = st.st_mtime;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime > newest)
			newest = st.st_mtime;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return newest;
}

int sweep_old(const char *out_root, double max_age)
{
	char path[PATH_MAX];
	time_t cutoff = time(NULL) - (time_t)max_age;
	int removed = 0;
	snprintf(path, sizeof path, "%s/streaming", out_root);
	int sfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
	snprintf(path, sizeof path, "%s/generated-videos", out_root);
	int gfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!sess_id_valid(e->d_name) || in_use(e->d_name))
			continue;
		time_t t = newest_change(sfd, e->d_name);
		if (t == (time_t)-1 || t >= cutoff)
			continue;
		if (remove_tree_at(sfd, e->d_name, SWEEP_DEPTH) < 0) {
			pc_warn("sweep: %s/streaming/%s: %s", out_root, e->d_name, strerror(errno));
			continue;
		}
		removed++;
	}
	if (d)
		closedir(d);
	else if (sfd >= 0)
		close(sfd);
	/* Final videos on their own age: a reel outlives nothing it was made of. */
	d = gfd >= 0 ? fdopendir(gfd) : NULL;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, "commentary_", 11) ||
		    fstatat(gfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= cutoff)
			continue;
		char id[SESS_ID_MAX];
		const char *dot = strrchr(e->d_name + 11, '.');
		size_t idlen = dot ? (size_t)(dot - e->d_name - 11) : strlen(e->d_name + 11);
		snprintf(id, sizeof id, "%.*s", (int)(idlen < sizeof id ? idlen : sizeof id - 1), e->d_name + 11);
		if (in_use(id))
			continue;
		if (unlinkat(gfd, e->d_name, 0) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	else if (gfd >= 0)
		close(gfd);
	return removed;
}
