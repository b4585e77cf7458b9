/* Per-session state: one stream may carry many videos, so every stage keeps
 * what it knows per session id. */
#define _GNU_SOURCE
#include "pc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sess_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n >= SESS_ID_MAX || id[0] == '.' || id[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static struct sess *sess_lookup(struct sess_table *t, const char *id)
{
	for (struct sess *s = t->head; s; s = s->next)
		if (!strcmp(s->id, id))
			return s;
	return NULL;
}

void *sess_find(struct sess_table *t, const char *id)
{
	struct sess *s = id ? sess_lookup(t, id) : NULL;
	return s ? s->data : NULL;
}

void *sess_get(struct sess_table *t, const char *id)
{
	struct sess *s = sess_lookup(t, id);
	if (s)
		return s->data;
	s = pc_xcalloc(1, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	s->data = pc_xcalloc(1, t->data_size);
	s->next = t->head;
	t->head = s;
	return s->data;
}

static void sess_free(struct sess_table *t, struct sess *s)
{
	if (t->free_data)
		t->free_data(s->data);
	free(s->data);
	free(s);
}

void sess_drop(struct sess_table *t, const char *id)
{
	for (struct sess **pp = &t->head; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->id, id)) {
			struct sess *s = *pp;
			*pp = s->next;
			sess_free(t, s);
			return;
		}
	}
}

void sess_free_all(struct sess_table *t)
{
	while (t->head) {
		struct sess *s = t->head;
		t->head = s->next;
		sess_free(t, s);
	}
}

void sess_new_id(char *buf, size_t n)
{
	static unsigned counter;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
	/* The seed's ids are session_<timestamp>; the suffix keeps two runs in
	 * the same second (or two files of one run) apart. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned mix = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^ (counter++ * 40503u);
	snprintf(buf, n, "session_%s_%06x", stamp, mix & 0xffffff);
}

static char out_root[PATH_MAX];

void pc_set_out_root(const char *dir)
{
	char cwd[PATH_MAX];
	struct buf path = {0};
	if (dir[0] == '/' || !getcwd(cwd, sizeof cwd))
		buf_puts(&path, dir);
	else
		buf_printf(&path, "%s/%s", cwd, dir);
	if (path.len >= sizeof out_root)
		pc_die(PC_EXIT_USAGE, "%s: output folder name too long", dir);
	memcpy(out_root, path.data, path.len + 1);
	buf_free(&path);
	size_t n = strlen(out_root);
	while (n > 1 && out_root[n - 1] == '/')
		out_root[--n] = '\0';
}

const char *pc_out_root(void)
{
	if (!out_root[0]) {
		const char *env = getenv("PLAYCALL_OUT");
		pc_set_out_root(env && *env ? env : "videos");
	}
	return out_root;
}

char *sess_dir(const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/streaming/%s", pc_out_root(), id);
	return buf;
}
