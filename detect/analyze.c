/* Signals to events (see analyze.h for the kinds and their scores).  Every
 * baseline is the clip's own, measured over the recent past, so a quiet
 * amateur recording and a loud broadcast are judged alike. */
#define _GNU_SOURCE
#include "analyze.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Audio: momentary loudness every AUDIO_STEP s. */
#define AUDIO_STEP 0.1
#define AUDIO_HISTORY 200         /* samples in the running baseline: 20 s */
#define AUDIO_MIN_HISTORY 10      /* a baseline needs 1 s */
#define AUDIO_FLOOR (-70.0)       /* LUFS: a baseline quieter than this is silence */
#define LOUD_HYST 2.0             /* LU: a peak lasts while within this of its rise */
#define LOUD_DECIDE 2.0           /* s: a peak this long is a roar, decided now */
#define WHISTLE_MAX 1.0           /* s: a peak shorter than this is a whistle */
#define LOUD_SPAN 20.0            /* LU over the rise that makes the top score */
#define SILENCE_LUFS (-50.0)
#define SILENCE_MIN 2.0           /* s */

/* Packets: spikes (a frame far bigger than its neighbours: new picture
 * content, as at a cut) and bits per frame over time (motion). */
#define SPIKE_WINDOW 24           /* non-key packets in the spike baseline */
#define SPIKE_MIN_HISTORY 8
#define SPIKE_RATIO 3.0
#define PKT_REORDER 0.5           /* s: how far B-frames may arrive out of order */
#define MOTION_BIN 0.5            /* s */
#define MOTION_OPEN 16            /* bins still taking packets */
#define MOTION_HISTORY 60         /* bins in the running baseline: 30 s */
#define MOTION_MIN_HISTORY 8
#define MOTION_RATIO 1.8          /* bits per frame over the baseline */
#define MOTION_HYST 0.8           /* a burst lasts while over RATIO * HYST */
#define MOTION_MIN_BINS 2         /* 1 s */
#define MOTION_DECIDE_BINS 4      /* 2 s: decided now */
#define MOTION_SPAN 3.0           /* ratio over RATIO that makes the top score */

/* Keyframes. */
#define KEY_HISTORY 8
#define KEY_MIN_HISTORY 3
#define CUT_SCENE 0.3             /* ffmpeg's scene score that is a cut by itself */
#define CUT_RATIO 3.0             /* frame difference over its baseline */
#define CUT_MIN_DIFF 10.0         /* and at least this (8-bit levels) */
#define CUT_SPAN 7.0
#define BLACK_Y 32.0              /* 90 % of the pixels darker than this */
#define BLACK_MIN 1.0             /* s */

/* Scores: a loud crowd ranks highest, a lull lowest. */
#define SCORE_CROWD 0.6
#define SCORE_CROWD_SPAN 0.4
#define SCORE_WHISTLE 0.45
#define SCORE_WHISTLE_SPAN 0.25
#define SCORE_MOTION 0.3
#define SCORE_MOTION_SPAN 0.3
#define SCORE_CUT 0.2
#define SCORE_CUT_SPAN 0.2
#define SCORE_SILENCE 0.08
#define SCORE_BLACK 0.1

#define RING_MAX 200

struct ring {
	double v[RING_MAX];
	size_t cap, n, head;
};

struct region {
	int open, emitted;
	double t0, base, peak, last;
	int count;
};

struct spike {
	double t, ratio;
};

struct analyzer {
	double rise;
	an_event_cb emit;
	void *arg;
	double scratch[RING_MAX];

	struct ring loudness;
	struct region loud, quiet;

	struct ring sizes, motion;
	struct spike *spikes;
	size_t nspikes, capspikes;
	double pkt_max_t;
	int pkt_any, pkt_ended;
	long first_bin;
	double bin_sum[MOTION_OPEN];
	long bin_count[MOTION_OPEN];
	struct region burst;

	struct ring keydiff;
	double prev_key_t;
	int have_prev_key;
	struct region black;
};

static void ring_init(struct ring *r, size_t cap)
{
	r->cap = cap;
	r->n = r->head = 0;
}

static void ring_push(struct ring *r, double x)
{
	r->v[r->head] = x;
	r->head = (r->head + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
}

/* The median (the upper one for an even count), by quickselect on a copy. */
static double ring_median(const struct ring *r, double *tmp)
{
	long n = (long)r->n, k = n / 2, lo = 0, hi = n - 1;
	memcpy(tmp, r->v, r->n * sizeof *tmp);
	while (lo < hi) {
		double pivot = tmp[(lo + hi) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (tmp[i] < pivot)
				i++;
			while (tmp[j] > pivot)
				j--;
			if (i <= j) {
				double x = tmp[i];
				tmp[i++] = tmp[j];
				tmp[j--] = x;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return tmp[k];
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void emit(struct analyzer *an, double t, const char *kind, const char *label, double score)
{
	struct det_event ev;
	det_event_set(&ev, t < 0 ? 0 : t, kind, label, score);
	an->emit(an->arg, &ev);
}

struct analyzer *an_new(double rise, an_event_cb cb, void *arg)
{
	struct analyzer *an = pc_xcalloc(1, sizeof *an);
	an->rise = rise > 0 ? rise : AN_RISE_DEFAULT;
	an->emit = cb;
	an->arg = arg;
	ring_init(&an->loudness, AUDIO_HISTORY);
	ring_init(&an->sizes, SPIKE_WINDOW);
	ring_init(&an->motion, MOTION_HISTORY);
	ring_init(&an->keydiff, KEY_HISTORY);
	return an;
}

void an_free(struct analyzer *an)
{
	if (!an)
		return;
	free(an->spikes);
	free(an);
}

/* ---- audio ---- */

static void emit_loud(struct analyzer *an)
{
	struct region *l = &an->loud;
	double length = l->last - l->t0 + AUDIO_STEP;
	double excess = clamp01((l->peak - l->base - an->rise) / LOUD_SPAN);
	if (length >= WHISTLE_MAX)
		emit(an, l->t0, "crowd", "crowd roar", SCORE_CROWD + SCORE_CROWD_SPAN * excess);
	else
		emit(an, l->t0, "whistle", "whistle", SCORE_WHISTLE + SCORE_WHISTLE_SPAN * excess);
	l->emitted = 1;
}

static void track_loud(struct analyzer *an, double t, double m, double base)
{
	struct region *l = &an->loud;
	if (l->open) {
		if (m - l->base >= an->rise - LOUD_HYST) {
			l->peak = m > l->peak ? m : l->peak;
			l->last = t;
			if (!l->emitted && t - l->t0 + AUDIO_STEP >= LOUD_DECIDE)
				emit_loud(an);
			return;
		}
		if (!l->emitted)
			emit_loud(an);
		l->open = 0;
	}
	if (isfinite(base) && m - base >= an->rise)
		*l = (struct region){.open = 1, .t0 = t, .base = base, .peak = m, .last = t};
}

static void track_silence(struct analyzer *an, double t, double m)
{
	struct region *q = &an->quiet;
	if (m >= SILENCE_LUFS) {
		q->open = 0;
		return;
	}
	if (!q->open)
		*q = (struct region){.open = 1, .t0 = t};
	if (!q->emitted && t - q->t0 + AUDIO_STEP >= SILENCE_MIN) {
		emit(an, q->t0, "lull", "silence", SCORE_SILENCE);
		q->emitted = 1;
	}
}

void an_audio(struct analyzer *an, double t, double m)
{
	if (!isfinite(t) || !isfinite(m))
		return;
	m = m < -120 ? -120 : m > 20 ? 20 : m;
	double base = NAN;
	if (an->loudness.n >= AUDIO_MIN_HISTORY) {
		base = ring_median(&an->loudness, an->scratch);
		base = base < AUDIO_FLOOR ? AUDIO_FLOOR : base;
	}
	track_loud(an, t, m, base);
	track_silence(an, t, m);
	ring_push(&an->loudness, m);
}

void an_audio_end(struct analyzer *an)
{
	if (an->loud.open && !an->loud.emitted)
		emit_loud(an);
	an->loud.open = an->quiet.open = 0;
}

/* ---- packets: spikes and motion ---- */

static void emit_burst(struct analyzer *an)
{
	struct region *b = &an->burst;
	emit(an, b->t0, "motion", "burst of motion",
	     SCORE_MOTION + SCORE_MOTION_SPAN * clamp01((b->peak - MOTION_RATIO) / MOTION_SPAN));
	b->emitted = 1;
}

static void motion_sample(struct analyzer *an, double t, double bytes_per_frame)
{
	struct region *b = &an->burst;
	double ratio = 0;
	if (an->motion.n >= MOTION_MIN_HISTORY) {
		double base = ring_median(&an->motion, an->scratch);
		ratio = base > 0 ? bytes_per_frame / base : 0;
	}
	ring_push(&an->motion, bytes_per_frame);
	if (b->open) {
		if (ratio >= MOTION_RATIO * MOTION_HYST) {
			b->peak = ratio > b->peak ? ratio : b->peak;
			b->count++;
			if (!b->emitted && b->count >= MOTION_DECIDE_BINS)
				emit_burst(an);
			return;
		}
		if (!b->emitted && b->count >= MOTION_MIN_BINS)
			emit_burst(an);
		b->open = 0;
	}
	if (ratio >= MOTION_RATIO)
		*b = (struct region){.open = 1, .t0 = t, .peak = ratio, .count = 1};
}

static void close_first_bin(struct analyzer *an)
{
	int slot = (int)(an->first_bin % MOTION_OPEN);
	if (an->bin_count[slot])
		motion_sample(an, an->first_bin * MOTION_BIN, an->bin_sum[slot] / (double)an->bin_count[slot]);
	an->bin_sum[slot] = 0;
	an->bin_count[slot] = 0;
	an->first_bin++;
}

static void note_spike(struct analyzer *an, double t, long size)
{
	if (an->sizes.n >= SPIKE_MIN_HISTORY) {
		double med = ring_median(&an->sizes, an->scratch);
		if (med > 0 && size >= SPIKE_RATIO * med) {
			if (an->nspikes == an->capspikes) {
				an->capspikes = an->capspikes ? an->capspikes * 2 : 64;
				an->spikes = pc_xrealloc(an->spikes, an->capspikes * sizeof *an->spikes);
			}
			an->spikes[an->nspikes++] = (struct spike){t, size / med};
		}
	}
	ring_push(&an->sizes, (double)size);
}

void an_packet(struct analyzer *an, double t, long size, int key)
{
	if (!isfinite(t) || t < -AN_MAX_TIME || t > AN_MAX_TIME || size < 0 || an->pkt_ended)
		return;
	if (!an->pkt_any || t > an->pkt_max_t)
		an->pkt_max_t = t;
	an->pkt_any = 1;
	if (!key) {
		note_spike(an, t, size);
		double fb = floor(t / MOTION_BIN);
		if (fb >= (double)an->first_bin) {
			long bin = (long)fb;
			while (bin >= an->first_bin + MOTION_OPEN)
				close_first_bin(an);
			int slot = (int)(bin % MOTION_OPEN);
			an->bin_sum[slot] += (double)size;
			an->bin_count[slot]++;
		}
	}
	/* Bins wholly before the settled time are closed; after a jump in time
	 * the empty ones between are skipped in one step. */
	long settled_bin = (long)floor((an->pkt_max_t - PKT_REORDER) / MOTION_BIN);
	for (int i = 0; i < MOTION_OPEN && an->first_bin < settled_bin; i++)
		close_first_bin(an);
	if (an->first_bin < settled_bin)
		an->first_bin = settled_bin;
}

void an_packets_end(struct analyzer *an)
{
	if (an->pkt_ended)
		return;
	for (int i = 0; i < MOTION_OPEN; i++)
		close_first_bin(an);
	if (an->burst.open && !an->burst.emitted && an->burst.count >= MOTION_MIN_BINS)
		emit_burst(an);
	an->burst.open = 0;
	an->pkt_ended = 1;
}

double an_packets_settled(const struct analyzer *an)
{
	if (an->pkt_ended)
		return INFINITY;
	return an->pkt_any ? an->pkt_max_t - PKT_REORDER : -INFINITY;
}

/* ---- keyframes: cuts and black ---- */

static double key_stat(const struct an_keyframe *k, enum an_key_stat s)
{
	return (k->have & (1u << s)) ? k->v[s] : 0;
}

/* Where between the previous keyframe and this one the picture changed:
 * the biggest spike there, else this keyframe (an encoder puts one at a
 * cut).  Spikes up to this keyframe are used up. */
static double place_cut(struct analyzer *an, double from, double to)
{
	double at = to, best = 0;
	size_t kept = 0;
	for (size_t i = 0; i < an->nspikes; i++) {
		struct spike s = an->spikes[i];
		if (s.t > from && s.t <= to && s.ratio > best) {
			best = s.ratio;
			at = s.t;
		}
		if (s.t > to)
			an->spikes[kept++] = s;
	}
	an->nspikes = kept;
	return at;
}

static void check_cut(struct analyzer *an, const struct an_keyframe *k)
{
	double diff = key_stat(k, AN_YDIF) + (key_stat(k, AN_UDIF) + key_stat(k, AN_VDIF)) / 2;
	double scene = key_stat(k, AN_SCENE);
	double ratio = 0;
	if (an->keydiff.n >= KEY_MIN_HISTORY) {
		double base = ring_median(&an->keydiff, an->scratch);
		ratio = base > 0 ? diff / base : (diff >= CUT_MIN_DIFF ? CUT_RATIO + CUT_SPAN : 0);
	}
	ring_push(&an->keydiff, diff);
	int cut = scene >= CUT_SCENE || (diff >= CUT_MIN_DIFF && ratio >= CUT_RATIO);
	double at = place_cut(an, an->prev_key_t, k->t);
	if (!cut)
		return;
	double strength = scene > clamp01((ratio - CUT_RATIO) / CUT_SPAN) ? scene : clamp01((ratio - CUT_RATIO) / CUT_SPAN);
	emit(an, at, "cut", "camera cut", SCORE_CUT + SCORE_CUT_SPAN * clamp01(strength));
}

static int is_black(const struct an_keyframe *k)
{
	if (k->have & (1u << AN_YHIGH))
		return k->v[AN_YHIGH] <= BLACK_Y;
	return (k->have & (1u << AN_YAVG)) && k->v[AN_YAVG] <= BLACK_Y / 2;
}

static void black_until(struct analyzer *an, double t)
{
	struct region *b = &an->black;
	if (b->open && !b->emitted && t - b->t0 >= BLACK_MIN) {
		emit(an, b->t0, "lull", "black screen", SCORE_BLACK);
		b->emitted = 1;
	}
}

void an_keyframe(struct analyzer *an, const struct an_keyframe *k)
{
	if (!isfinite(k->t))
		return;
	if (an->have_prev_key && k->t > an->prev_key_t)
		check_cut(an, k);
	black_until(an, k->t);
	if (!is_black(k))
		an->black.open = 0;
	else if (!an->black.open)
		an->black = (struct region){.open = 1, .t0 = k->t};
	an->prev_key_t = k->t;
	an->have_prev_key = 1;
}

void an_keyframes_end(struct analyzer *an, double duration)
{
	black_until(an, duration);
	an->black.open = 0;
}
