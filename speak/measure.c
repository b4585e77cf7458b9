/* How long a speech file is, measured from the file itself: a WAV by its
 * header (exact, no process), anything else (a cloud backend's mp3) by
 * ffprobe run on the event loop, so a slow probe holds up nothing else. */
#define _GNU_SOURCE
#include "pc.h"
#include "media.h"
#include "wav.h"
#include "speak.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEASURE_TIMEOUT 30.0   /* seconds for ffprobe on one speech file */

static int is_wav(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && !strcasecmp(dot, ".wav");
}

struct probe {
	measure_fn done;
	void *arg;
};

static void probe_exited(struct aproc *ap, int status, void *arg)
{
	struct probe *pr = arg;
	struct media_info mi;
	char err[512], line[256];
	if (status == 0 && media_parse(ap->out.data ? ap->out.data : "", ap->out.len, &mi, err, sizeof err) == 0) {
		if (mi.has_audio) {
			pr->done(pr->arg, mi.duration, NULL);
			free(pr);
			return;
		}
		snprintf(err, sizeof err, "no audio stream");
	} else if (status != 0) {
		snprintf(err, sizeof err, "ffprobe: %s",
			 *proc_err_line(&ap->p, line, sizeof line) ? line : proc_status_str(status, line, sizeof line));
	}
	pr->done(pr->arg, 0, err);
	free(pr);
}

void speech_measure(struct loop *l, const char *path, measure_fn done, void *arg)
{
	if (is_wav(path)) {
		struct wav_info wi;
		char err[512];
		if (wav_probe(path, &wi, err, sizeof err) < 0)
			done(arg, 0, err);
		else if (wi.data_bytes == 0)
			done(arg, 0, "no samples in the WAV file");
		else
			done(arg, wi.duration, NULL);
		return;
	}
	char *argv[] = {"ffprobe", "-v", "error", "-print_format", "json", "-show_format",
			"-show_streams", "--", (char *)path, NULL};
	struct probe *pr = pc_xcalloc(1, sizeof *pr);
	pr->done = done;
	pr->arg = arg;
	aproc_start(l, argv, 0, MEASURE_TIMEOUT, probe_exited, pr);
}
