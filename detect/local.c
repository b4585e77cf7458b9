/* The offline backend: real signals from ffmpeg, decoding only what they
 * need, each read as it comes.  Up to three children run at once:
 *   audio      -map 0:a:0, EBU R128 momentary loudness (no video decoded)
 *   keyframes  -skip_frame nokey, scaled to 160 px: scene score, luma stats
 *   packets    -c copy -f framecrc: every video packet's size, nothing decoded
 * An interval goes to the emitter once every running signal has passed its
 * end by AN_LOOKAHEAD (every event in it is decided by then). */
#define _GNU_SOURCE
#include "analyze.h"
#include "lproc.h"
#include "signals.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_STALL_TIMEOUT 60.0  /* s: an ffmpeg silent this long is stuck */
#define LOCAL_AUDIO_STEP 0.1      /* s: ebur128's output period */
#define TRUNC_TOLERANCE 3.0       /* s: data ending this much early is a short file... */
#define TRUNC_TOLERANCE_FRAC 0.05 /* ...or this fraction of it */

enum { SIG_AUDIO, SIG_KEYS, SIG_PACKETS, SIG_N };

static const char *const sig_names[SIG_N] = {"audio", "video", "video packets"};

static const char *const audio_keys[] = {"lavfi.r128.M"};
/* In enum an_key_stat order. */
static const char *const keyframe_keys[AN_KEY_STATS] = {
	"lavfi.scene_score", "lavfi.signalstats.YAVG", "lavfi.signalstats.YHIGH",
	"lavfi.signalstats.YDIF", "lavfi.signalstats.UDIF", "lavfi.signalstats.VDIF",
};

static struct det_option local_options[] = {
	{"rise", "PLAYCALL_DETECT_RISE", "LU",
	 "loudness over the clip's running baseline that makes a crowd roar or whistle",
	 "7", NULL},
	{0},
};

struct signal {
	struct lproc *lp;
	int running;
	double reached;     /* signal time fully seen */
	double covered;     /* the furthest time any data reached */
};

struct local {
	struct det_job *job;
	struct analyzer *an;
	struct signal sig[SIG_N];
	struct meta_parser audio_mp, keys_mp;
	struct pkt_parser pp;
	/* Keyframes wait until the packets around them are in (cut placement). */
	struct an_keyframe *kq;
	size_t kq_n, kq_cap;
	int keys_ended;
	/* Decided events, not yet delivered. */
	struct det_event *evs;
	size_t nev, capev;
	int next;           /* next interval to deliver */
	long late;          /* events decided after their interval left (none expected) */
};

static double rise_option(void)
{
	double v = pc_parse_seconds(local_options[0].value);
	return v > 0 ? v : AN_RISE_DEFAULT;
}

static int local_setup(char *err, size_t errlen)
{
	double v = pc_parse_seconds(local_options[0].value);
	if (!(v > 0 && v <= 60)) {
		snprintf(err, errlen, "--rise: want loudness units in (0, 60], not '%s'", local_options[0].value);
		return -1;
	}
	return 0;
}

static void on_event(void *arg, const struct det_event *ev)
{
	struct local *lc = arg;
	if (lc->nev == lc->capev) {
		lc->capev = lc->capev ? lc->capev * 2 : 64;
		lc->evs = pc_xrealloc(lc->evs, lc->capev * sizeof *lc->evs);
	}
	lc->evs[lc->nev++] = *ev;
}

/* Hand interval i its events (those with t in it). */
static void deliver(struct local *lc, int i)
{
	struct det_job *job = lc->job;
	double start = job->bounds[i], end = job->bounds[i + 1];
	int last = i == job->intervals - 1;
	struct det_event *mine = pc_xcalloc(lc->nev ? lc->nev : 1, sizeof *mine);
	size_t n = 0, kept = 0;
	for (size_t k = 0; k < lc->nev; k++) {
		struct det_event ev = lc->evs[k];
		if (ev.t < start && i > 0)
			lc->late++;
		else if (ev.t < end || (last && ev.t <= end))
			mine[n++] = ev;
		else if (!last)
			lc->evs[kept++] = ev;
		/* else: after the end the probe gave; no clip can reach it */
	}
	lc->nev = kept;
	det_emit_interval(job, i, mine, n);
	free(mine);
	lc->next = i + 1;
}

static double min_reached(const struct local *lc)
{
	double r = INFINITY;
	for (int s = 0; s < SIG_N; s++)
		if (lc->sig[s].running && lc->sig[s].reached < r)
			r = lc->sig[s].reached;
	return r;
}

/* Every interval whose end (plus the lookahead) all running signals have
 * passed; the last waits for the end of every signal. */
static void deliver_ready(struct local *lc)
{
	struct det_job *job = lc->job;
	double reached = min_reached(lc);
	while (lc->next < job->intervals - 1 && reached >= job->bounds[lc->next + 1] + AN_LOOKAHEAD)
		deliver(lc, lc->next);
	if (isfinite(reached))
		det_emit_progress(job, reached);
}

static void drain_keyframes(struct local *lc)
{
	double settled = an_packets_settled(lc->an);
	size_t i = 0;
	for (; i < lc->kq_n && lc->kq[i].t <= settled; i++) {
		an_keyframe(lc->an, &lc->kq[i]);
		lc->sig[SIG_KEYS].reached = lc->kq[i].t;
	}
	if (i) {
		memmove(lc->kq, lc->kq + i, (lc->kq_n - i) * sizeof *lc->kq);
		lc->kq_n -= i;
	}
	if (lc->kq_n == 0 && !lc->sig[SIG_KEYS].running && !lc->keys_ended) {
		an_keyframes_end(lc->an, lc->job->mi->duration);
		lc->keys_ended = 1;
	}
}

/* ---- the three signals' output ---- */

static void on_audio_frame(void *arg, const struct meta_frame *f)
{
	struct local *lc = arg;
	if (!(f->have & 1))
		return;
	an_audio(lc->an, f->t, f->v[0]);
	struct signal *s = &lc->sig[SIG_AUDIO];
	s->reached = f->t + LOCAL_AUDIO_STEP;
	if (s->reached > s->covered)
		s->covered = s->reached;
}

static void on_keyframe(void *arg, const struct meta_frame *f)
{
	struct local *lc = arg;
	if (lc->kq_n == lc->kq_cap) {
		lc->kq_cap = lc->kq_cap ? lc->kq_cap * 2 : 32;
		lc->kq = pc_xrealloc(lc->kq, lc->kq_cap * sizeof *lc->kq);
	}
	struct an_keyframe *k = &lc->kq[lc->kq_n++];
	k->t = f->t;
	k->have = f->have;
	memcpy(k->v, f->v, sizeof k->v);
	if (f->t > lc->sig[SIG_KEYS].covered)
		lc->sig[SIG_KEYS].covered = f->t;
}

static void on_packet(void *arg, double t, long size, int key)
{
	struct local *lc = arg;
	an_packet(lc->an, t, size, key);
	struct signal *s = &lc->sig[SIG_PACKETS];
	s->reached = an_packets_settled(lc->an);
	if (t > s->covered)
		s->covered = t;
}

static void on_line(struct lproc *lp, const char *line, size_t len, void *arg)
{
	struct local *lc = arg;
	if (lp == lc->sig[SIG_AUDIO].lp) {
		meta_line(&lc->audio_mp, line, len);
	} else if (lp == lc->sig[SIG_KEYS].lp) {
		meta_line(&lc->keys_mp, line, len);
	} else {
		pkt_line(&lc->pp, line, len);
	}
	drain_keyframes(lc);
	deliver_ready(lc);
}

/* ---- the end ---- */

static void local_free(struct local *lc)
{
	an_free(lc->an);
	free(lc->kq);
	free(lc->evs);
	free(lc);
}

/* All signals are in: deliver what the data covers, then done. */
static void finish(struct local *lc)
{
	struct det_job *job = lc->job;
	double duration = job->mi->duration, covered = 0;
	for (int s = 0; s < SIG_N; s++)
		if (lc->sig[s].covered > covered)
			covered = lc->sig[s].covered;
	double tolerance = duration * TRUNC_TOLERANCE_FRAC;
	tolerance = tolerance > TRUNC_TOLERANCE ? tolerance : TRUNC_TOLERANCE;
	int whole = covered >= duration - tolerance;
	while (lc->next < job->intervals && (whole || job->bounds[lc->next + 1] <= covered + tolerance))
		deliver(lc, lc->next);
	if (!whole && covered > 0)
		det_emit_error(job, -1, "data ends at %.1f s of %.1f s (truncated file?)", covered, duration);
	if (lc->late)
		pc_warn("%s: %ld late events left out", job->name, lc->late);
	job->priv = NULL;
	local_free(lc);
	det_emit_done(job);
}

static void on_done(struct lproc *lp, int status, void *arg)
{
	struct local *lc = arg;
	int s = lp == lc->sig[SIG_AUDIO].lp ? SIG_AUDIO : lp == lc->sig[SIG_KEYS].lp ? SIG_KEYS : SIG_PACKETS;
	struct signal *sig = &lc->sig[s];
	if (status != 0) {
		char line[512], why[64];
		lproc_err_line(lp, line, sizeof line);
		if (status == -2)
			snprintf(line, sizeof line, "ffmpeg wrote nothing for %.0f s", LOCAL_STALL_TIMEOUT);
		det_emit_error(lc->job, -1, "%s analysis failed (%s)%s%s", sig_names[s],
			       proc_status_str(status, why, sizeof why), *line ? ": " : "", line);
	}
	sig->running = 0;
	sig->lp = NULL;
	if (s == SIG_AUDIO) {
		meta_end(&lc->audio_mp);
		an_audio_end(lc->an);
	} else if (s == SIG_KEYS) {
		meta_end(&lc->keys_mp);
	} else {
		an_packets_end(lc->an);
	}
	drain_keyframes(lc);
	for (int k = 0; k < SIG_N; k++) {
		if (lc->sig[k].running) {
			deliver_ready(lc);
			return;
		}
	}
	finish(lc);
}

/* ---- the start ---- */

static void spawn(struct local *lc, int s, char *const *middle)
{
	/* The common head: quiet, no stdin, the input as a file: URL (the path
	 * is absolute, so no protocol prefix can be read into it). */
	char *argv[32];
	size_t n = 0;
	char *head[] = {"ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "error"};
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		argv[n++] = head[i];
	for (size_t i = 0; middle[i]; i++)
		argv[n++] = middle[i];
	argv[n] = NULL;
	lc->sig[s].running = 1;
	lc->sig[s].reached = -INFINITY;
	lc->sig[s].lp = lproc_start(lc->job->loop, argv, LOCAL_STALL_TIMEOUT, on_line, on_done, lc);
}

static int local_start(struct det_job *job)
{
	struct local *lc = pc_xcalloc(1, sizeof *lc);
	lc->job = job;
	job->priv = lc;
	lc->an = an_new(rise_option(), on_event, lc);
	meta_init(&lc->audio_mp, audio_keys, 1, on_audio_frame, lc);
	meta_init(&lc->keys_mp, keyframe_keys, AN_KEY_STATS, on_keyframe, lc);
	pkt_init(&lc->pp, on_packet, lc);
	char input[PATH_MAX + 8];
	snprintf(input, sizeof input, "file:%s", job->source);
	if (job->mi->has_audio) {
		char *mid[] = {"-i", input, "-map", "0:a:0", "-af",
			       "ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.M:file=-:direct=1",
			       "-f", "null", "-", NULL};
		spawn(lc, SIG_AUDIO, mid);
	}
	if (job->mi->has_video) {
		/* Keyframes only, without the loop filter, at 160 px: a tenth of
		 * the cost of a full decode, and what a cut or a black screen
		 * needs.  The packets tell the rest (motion, where a cut is). */
		char *keys[] = {"-skip_frame", "nokey", "-skip_loop_filter", "all", "-flags2", "fast",
				"-i", input, "-map", "0:V:0", "-vf",
				"scale=160:-2:flags=fast_bilinear,select='gte(scene,0)',signalstats,"
				"metadata=mode=print:file=-:direct=1",
				"-f", "null", "-", NULL};
		spawn(lc, SIG_KEYS, keys);
		char *pkts[] = {"-i", input, "-map", "0:V:0", "-c", "copy", "-flush_packets", "1",
				"-f", "framecrc", "-", NULL};
		spawn(lc, SIG_PACKETS, pkts);
	}
	if (!job->mi->has_audio && !job->mi->has_video)
		finish(lc);   /* media_probe never lets this through; still, end cleanly */
	else
		det_emit_progress(job, 0);
	return 0;
}

const struct det_backend det_backend_local = {
	.name = "local",
	.key_env = NULL,
	.options = local_options,
	.setup = local_setup,
	.start = local_start,
};
