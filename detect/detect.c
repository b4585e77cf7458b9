/* The driver: one file from the command line to its session's records. */
#define _GNU_SOURCE
#include "detect.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOOP_WAIT_MS 1000

/* One line on stderr and an `error` record naming the file; no session. */
static int file_error(const char *arg, const char *reason)
{
	out_error(NULL, -1, arg, "%s: %s", arg, reason);
	return PC_EXIT_FAIL;
}

/* ffprobe names the file itself ("/abs/x.mp4: Invalid data..."); we do too. */
static const char *without_path(const char *reason, const char *source)
{
	size_t n = strlen(source);
	if (!strncmp(reason, source, n) && !strncmp(reason + n, ": ", 2))
		return reason + n + 2;
	return reason;
}

/* Something ffmpeg can read again and again: a regular, non-empty file. */
static int check_file(const char *arg, char *source, size_t n)
{
	struct stat st;
	char real[PATH_MAX];
	if (stat(arg, &st) < 0)
		return file_error(arg, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return file_error(arg, "is a directory");
	if (!S_ISREG(st.st_mode))
		return file_error(arg, "not a regular file");
	if (st.st_size == 0)
		return file_error(arg, "empty file");
	if (!realpath(arg, real))
		return file_error(arg, strerror(errno));
	if (strlen(real) >= n)
		return file_error(arg, "path too long");
	strcpy(source, real);
	return 0;
}

static json_object *session_record(const struct det_job *job)
{
	json_object *rec = rec_new("session", job->session);
	rec_set_str(rec, "source", job->source);
	rec_set_num(rec, "duration", job->mi->duration);
	rec_set_num(rec, "interval", job->opts->interval);
	rec_set_num(rec, "first_interval", job->bounds[1] - job->bounds[0]);
	rec_set_int(rec, "intervals", job->intervals);
	rec_set_str(rec, "dir", job->dir);
	rec_set_str(rec, "backend", job->backend->name);
	json_object_object_add(rec, "has_video", json_object_new_boolean(job->mi->has_video));
	json_object_object_add(rec, "has_audio", json_object_new_boolean(job->mi->has_audio));
	return rec;
}

static void run_job(struct det_job *job)
{
	det_write(session_record(job));
	det_job_open(job);
	if (job->backend->start(job) < 0 && !job->done) {
		if (!job->failed)
			det_emit_error(job, -1, "%s backend could not start", job->backend->name);
		det_emit_done(job);
	}
	while (!job->done)
		loop_run_once(job->loop, LOOP_WAIT_MS);
	json_object *end = rec_new("session_end", job->session);
	rec_set_int(end, "intervals", job->written);
	det_write(end);
	det_job_close(job);
}

int detect_file(const char *arg, const struct det_backend *b, const struct det_opts *o,
		const char *session_id, struct loop *l)
{
	char source[PATH_MAX], err[512], id[SESS_ID_MAX], dir[PATH_MAX];
	struct media_info mi;
	if (check_file(arg, source, sizeof source))
		return PC_EXIT_FAIL;
	if (media_probe(source, &mi, err, sizeof err) < 0)
		return file_error(arg, without_path(err, source));
	if (session_id)
		snprintf(id, sizeof id, "%s", session_id);
	else
		sess_new_id(id, sizeof id);
	sess_dir(id, dir, sizeof dir);
	if (pc_mkdirs(dir) < 0) {
		struct buf why = {0};
		buf_printf(&why, "cannot make the session folder %s: %s", dir, strerror(errno));
		file_error(arg, buf_cstr(&why));
		buf_free(&why);
		return PC_EXIT_FAIL;
	}
	double *bounds;
	int n = det_layout(mi.duration, o->first_interval, o->interval, &bounds);
	if (n < 0)
		return file_error(arg, "too many intervals: make --interval longer");
	struct det_job job = {
		.session = id, .source = source, .name = arg, .dir = dir, .mi = &mi, .opts = o,
		.backend = b, .loop = l, .intervals = n, .bounds = bounds,
	};
	run_job(&job);
	free(bounds);
	return job.failed ? PC_EXIT_FAIL : PC_EXIT_OK;
}
