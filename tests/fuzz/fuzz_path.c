/* Fuzz target: a URL path to a file (sse-serve/path.c).  A path that
 * path_clean accepts never climbs out, and path_open never opens anything
 * outside its root: checked against a scratch root holding a file and a
 * symlink that leads out. */
#define _GNU_SOURCE
#include "../../sse-serve/httpd.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[PATH_MAX], scratch[PATH_MAX];

static void remove_root(void)
{
	char p[PATH_MAX + 32];
	const char *names[] = {"root/a.mp4", "root/out", "secret"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", scratch, names[i]);
		unlink(p);
	}
	rmdir(root);
	rmdir(scratch);
}

static void make_root(void)
{
	char tmpl[] = "/tmp/fuzz_path.XXXXXX", p[PATH_MAX + 32];
	if (!mkdtemp(tmpl))
		abort();
	snprintf(p, sizeof p, "%s/root", tmpl);
	mkdir(p, 0755);
	if (!realpath(p, root))
		abort();
	snprintf(p, sizeof p, "%s/secret", tmpl);
	close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	snprintf(p, sizeof p, "%s/a.mp4", root);
	close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	snprintf(p, sizeof p, "%s/out", root);
	if (symlink("../secret", p) < 0)
		abort();
	snprintf(scratch, sizeof scratch, "%s", tmpl);
	atexit(remove_root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0])
		make_root();
	char out[PATH_URL_MAX], real[PATH_MAX];
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	int rc = path_clean(in, size, out, sizeof out);
	free(in);
	if (rc != 0 && rc != 400 && rc != 403)
		abort();
	if (rc)
		return 0;
	if (out[0] == '/' || out[0] == '.' || strstr(out, "/.") || strstr(out, "//") || strlen(out) != strnlen(out, sizeof out))
		abort();
	struct stat st;
	int fd = path_open(root, out, &st, real, sizeof real);
	if (fd >= 0) {
		if (strncmp(real, root, strlen(root)) || real[strlen(root)] != '/')
			abort();
		close(fd);
	}
	return 0;
}
