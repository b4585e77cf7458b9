/* The offline backend: the espeak-ng program, one process per text.
 *
 * Why the binary and not libespeak-ng: the library keeps its state in
 * globals (one voice, one output callback, one synthesis at a time) and is
 * not thread-safe, so speaking several texts at once needs separate
 * processes anyway.  A process per synthesis also isolates a crash to one
 * text, runs on the stage's event loop like every other child, and can be
 * killed (with its whole process group) when it overruns its timeout. */
#define _GNU_SOURCE
#include "pc.h"
#include "cache.h"
#include "backend.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ESPEAK_BIN "espeak-ng"

/* Is an executable NAME in a folder of $PATH? (To tell "not installed"
 * from "could not start" when the spawn fails.) */
static int on_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[PATH_MAX];
		/* An empty entry means the current folder. */
		int w = snprintf(full, sizeof full, "%.*s/%s", n ? (int)n : 1, n ? path : ".", name);
		if (w > 0 && (size_t)w < sizeof full && access(full, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* The voice is the language ("es"), a variant of it when --voice starts
 * with "+" ("es+f3"), or whatever espeak-ng voice --voice names. */
static void espeak_voice(const char *opt_voice, const char *lang, char *out, size_t n)
{
	if (!opt_voice || !*opt_voice)
		snprintf(out, n, "%s", lang);
	else if (opt_voice[0] == '+')
		snprintf(out, n, "%s%s", lang, opt_voice);
	else
		snprintf(out, n, "%s", opt_voice);
}

static void espeak_key(const struct speak_req *req, char out[65])
{
	char rate[16];
	snprintf(rate, sizeof rate, "%d", req->rate);
	cache_key(out, "espeak", req->voice, req->lang, rate, req->text, NULL);
}

struct espeak_job {
	speak_done_fn done;
	void *arg;
	double timeout;
};

static void espeak_exited(struct aproc *ap, int status, void *arg)
{
	struct espeak_job *job = arg;
	char msg[1024], line[512], how[64];
	enum speak_outcome outcome = SPEAK_FAILED;
	if (status == 0) {
		outcome = SPEAK_OK;
		msg[0] = '\0';
	} else if (status == -1) {
		outcome = SPEAK_UNAVAILABLE;
		if (!on_path(ESPEAK_BIN))
			snprintf(msg, sizeof msg, ESPEAK_BIN " not found on PATH: install espeak-ng for offline speech");
		else
			snprintf(msg, sizeof msg, "cannot run " ESPEAK_BIN ": %.900s", ap->p.err);
	} else if (status == -2) {
		snprintf(msg, sizeof msg, ESPEAK_BIN " timed out after %g s", job->timeout);
	} else {
		snprintf(msg, sizeof msg, ESPEAK_BIN " failed (%s): %s", proc_status_str(status, how, sizeof how),
			 *proc_err_line(&ap->p, line, sizeof line) ? line : "no message");
	}
	job->done(job->arg, outcome, msg[0] ? msg : NULL);
	free(job);
}

static void espeak_start(struct loop *l, const struct speak_req *req, speak_done_fn done, void *arg)
{
	char rate[16];
	snprintf(rate, sizeof rate, "%d", req->rate);
	/* -b 1: the text is UTF-8; "--": a text starting with "-" is not an option. */
	char *argv[] = {ESPEAK_BIN, "-b", "1", "-v", (char *)req->voice, "-s", rate,
			"-w", (char *)req->path, "--", (char *)req->text, NULL};
	struct espeak_job *job = pc_xcalloc(1, sizeof *job);
	job->done = done;
	job->arg = arg;
	job->timeout = req->timeout;
	aproc_start(l, argv, PROC_STDOUT_NULL, req->timeout, espeak_exited, job);
}

const struct speak_backend speak_espeak = {
	.name = "espeak",
	.ext = "wav",
	.usable = NULL,   /* auto falls back to it as the last in the table */
	.voice = espeak_voice,
	.key = espeak_key,
	.start = espeak_start,
};
