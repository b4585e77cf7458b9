/* Segments and frames for the cloud video analysis.  See api_media.h. */
#define _GNU_SOURCE
#include "api_media.h"
#include "lproc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- where to cut ---- */

int api_segment_cuts(const double *bounds, int intervals, double seg_len, double *cuts, int max)
{
	int n = 0;
	for (int i = 0; i < intervals; i++) {
		double a = bounds[i], b = bounds[i + 1];
		int pieces = seg_len > 0 ? (int)ceil((b - a) / seg_len - 1e-9) : 1;
		if (pieces < 1)
			pieces = 1;
		for (int k = 0; k < pieces; k++) {
			double t = a + (b - a) * k / pieces;
			if (t <= bounds[0] + 1e-6 || n == max)
				continue;
			cuts[n++] = t;
		}
	}
	return n;
}

int api_parse_segment_line(const char *line, char *name, size_t n, double *start, double *end)
{
	const char *c1 = strrchr(line, ',');
	if (!c1 || c1 == line)
		return -1;
	const char *c2 = c1 - 1;
	while (c2 > line && *c2 != ',')
		c2--;
	if (*c2 != ',' || c2 == line)
		return -1;
	size_t nl = (size_t)(c2 - line);
	if (nl >= n || memchr(line, '/', nl))
		return -1;
	char *e;
	errno = 0;
	double s = strtod(c2 + 1, &e);
	if (e != c1 || errno || !isfinite(s))
		return -1;
	double t = strtod(c1 + 1, &e);
	if (*e || e == c1 + 1 || errno || !isfinite(t) || t < s || s < 0)
		return -1;
	memcpy(name, line, nl);
	name[nl] = '\0';
	*start = s;
	*end = t;
	return 0;
}

/* ---- segmenter ---- */

/* -segment_times with no cut: a time past any video (the duration syntax
 * takes no exponent). */
#define API_NO_CUT "999999999"
/* s: how far before a part the input seek lands, for the exact trim after */
#define API_SEEK_LEAD 3.0

struct api_segmenter {
	struct lproc *lp;
	char dir[PATH_MAX];
	int count;
	int cancelled;
	char bad[256];        /* a list line we could not read */
	double from;          /* the source's time of the output's 0 */
	api_segment_cb on_segment;
	api_media_done_cb on_done;
	void *arg;
};

static void seg_line(struct lproc *lp, const char *line, size_t len, void *arg)
{
	struct api_segmenter *s = arg;
	char name[256], path[PATH_MAX + 300];
	double a, b;
	(void)lp;
	(void)len;
	if (s->cancelled)
		return;
	if (api_parse_segment_line(line, name, sizeof name, &a, &b) < 0) {
		snprintf(s->bad, sizeof s->bad, "unexpected segment list line: %.120s", line);
		return;
	}
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	s->on_segment(s->arg, s->count++, path, s->from + a, s->from + b);
}

static void seg_done(struct lproc *lp, int status, void *arg)
{
	struct api_segmenter *s = arg;
	char line[512], err[600];
	if (!s->cancelled) {
		if (status == 0 && !s->bad[0] && s->count > 0) {
			s->on_done(s->arg, 0, NULL);
		} else {
			const char *why = s->bad[0] ? s->bad : lproc_err_line(lp, line, sizeof line);
			if (!why || !*why)
				why = status == 0 ? "no segments" : "ffmpeg failed";
			snprintf(err, sizeof err, "cutting segments: %s", why);
			s->on_done(s->arg, -1, err);
		}
	}
	free(s);
}

struct api_segmenter *api_segment_start(struct loop *l, const char *src, const char *dir,
					const char *acodec, double from, double to, const double *cuts, int ncuts,
					int height, api_segment_cb on_segment, api_media_done_cb on_done, void *arg)
{
	struct api_segmenter *s = pc_xcalloc(1, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->from = from > 0 ? from : 0;
	s->on_segment = on_segment;
	s->on_done = on_done;
	s->arg = arg;
	struct buf times = {0}, pattern = {0};
	for (int i = 0; i < ncuts; i++)
		buf_printf(&times, "%s%.3f", i ? "," : "", cuts[i] - s->from);
	/* A part from the middle: a fast seek to a little before it (the
	 * demuxer lands on a keyframe), then an exact trim, so that copied
	 * sound starts with the picture. */
	double lead = s->from > API_SEEK_LEAD ? API_SEEK_LEAD : s->from;
	char seek[32], trim[32], len[32];
	snprintf(seek, sizeof seek, "%.3f", s->from - lead);
	snprintf(trim, sizeof trim, "%.3f", lead);
	snprintf(len, sizeof len, "%.3f", to > s->from ? to - s->from : 1e9);
	buf_printf(&pattern, "%s/seg_%%04d.mp4", dir);
	char vf[64], fps[16];
	/* Never taller than the source: an upscaled frame only costs bytes. */
	snprintf(vf, sizeof vf, "fps=%d,scale=-2:'min(%d,trunc(ih/2)*2)'", API_REDUCED_FPS, height > 0 ? height : 360);
	snprintf(fps, sizeof fps, "%d", API_REDUCED_FPS);
	/* -segment_list pipe:1: ffmpeg writes each segment's line once the
	 * segment file is closed, so it can go at once. */
	int n = 0;
	/* The reduced video keeps one frame a second: B-frames are never
	 * needed for that (the fps filter takes the nearest I or P frame, at
	 * most a few frames off), and skipping their decode more than halves
	 * the time to the first segments.  With -c:v copy nothing is decoded
	 * and these options are idle. */
	const char *head[] = {"ffmpeg", "-nostdin", "-v", "error", "-skip_loop_filter", "all", "-skip_frame", "bidir",
			      "-flags2", "fast"};
	const char *range_in[] = {"-ss", seek};
	const char *input[] = {"-i", src, "-map", "0:v:0?", "-map", "0:a:0?"};
	const char *range_out[] = {"-ss", trim, "-t", len};
	/* Re-encoding the audio costs a quarter of the time to cut a reduced
	 * segment on two cores; MP4 takes AAC and MP3 as they are. */
	int copy_audio = acodec && (!strcmp(acodec, "aac") || !strcmp(acodec, "mp3"));
	const char *audio_copy[] = {"-c:a", "copy"};
	const char *audio_aac[] = {"-c:a", "aac", "-b:a", "96k"};
	const char *copy[] = {"-c:v", "copy"};
	/* zerolatency: no lookahead and no frame threads, which would hold
	 * back each segment by several frames, seconds of video at 1 fps. */
	const char *reduce[] = {"-vf", vf, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
				"-crf", "28", "-g", "1", "-pix_fmt", "yuv420p"};
	const char *tail[] = {"-f", "segment", "-segment_times", ncuts ? buf_cstr(&times) : API_NO_CUT,
			      "-reset_timestamps", "1", "-segment_format", "mp4",
			      "-segment_list", "pipe:1", "-segment_list_type", "csv", buf_cstr(&pattern), NULL};
	const char *argv[sizeof head / sizeof *head + sizeof range_in / sizeof *range_in + sizeof input / sizeof *input +
			 sizeof range_out / sizeof *range_out + sizeof audio_aac / sizeof *audio_aac +
			 sizeof reduce / sizeof *reduce + sizeof tail / sizeof *tail];
	int part = s->from > 0 || to > s->from;
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		argv[n++] = head[i];
	if (part)
		for (size_t i = 0; i < sizeof range_in / sizeof *range_in; i++)
			argv[n++] = range_in[i];
	for (size_t i = 0; i < sizeof input / sizeof *input; i++)
		argv[n++] = input[i];
	if (part)
		for (size_t i = 0; i < sizeof range_out / sizeof *range_out; i++)
			argv[n++] = range_out[i];
	if (copy_audio)
		for (size_t i = 0; i < sizeof audio_copy / sizeof *audio_copy; i++)
			argv[n++] = audio_copy[i];
	else
		for (size_t i = 0; i < sizeof audio_aac / sizeof *audio_aac; i++)
			argv[n++] = audio_aac[i];
	if (height > 0)
		for (size_t i = 0; i < sizeof reduce / sizeof *reduce; i++)
			argv[n++] = reduce[i];
	else
		for (size_t i = 0; i < sizeof copy / sizeof *copy; i++)
			argv[n++] = copy[i];
	for (size_t i = 0; i < sizeof tail / sizeof *tail; i++)
		argv[n++] = tail[i];
	s->lp = lproc_start(l, (char *const *)argv, API_MEDIA_STALL_TIMEOUT, seg_line, seg_done, s);
	buf_free(&times);
	buf_free(&pattern);
	return s;
}

void api_segment_cancel(struct api_segmenter *s)
{
	if (!s || s->cancelled)
		return;
	s->cancelled = 1;
	lproc_kill(s->lp);   /* seg_done still comes, and frees s */
}

/* ---- JPEG frames ---- */

enum { J_OUT, J_OUT_FF, J_MARK, J_CODE, J_LEN1, J_LEN2, J_SEG, J_SCAN, J_SCAN_FF };

void jpeg_split_init(struct jpeg_split *j)
{
	memset(j, 0, sizeof *j);
}

void jpeg_split_free(struct jpeg_split *j)
{
	buf_free(&j->cur);
}

static void j_put(struct jpeg_split *j, unsigned char c)
{
	if (j->too_big)
		return;
	if (j->cur.len >= (size_t)API_FRAME_MAX) {
		j->too_big = 1;
		return;
	}
	buf_append(&j->cur, &c, 1);
}

static void j_begin(struct jpeg_split *j)
{
	buf_reset(&j->cur);
	j->too_big = 0;
	j->in_scan = 0;
	j_put(j, 0xFF);
	j_put(j, 0xD8);
	j->state = J_MARK;
}

/* A marker code in a frame: what follows it. */
static void j_code(struct jpeg_split *j, unsigned char c, jpeg_frame_cb cb, void *arg)
{
	if (c == 0xFF) {
		j->state = J_CODE;        /* fill byte */
	} else if (c == 0xD9) {
		if (!j->too_big)
			cb(arg, (const unsigned char *)j->cur.data, j->cur.len);
		j->frames++;
		buf_reset(&j->cur);
		j->state = J_OUT;
	} else if (c == 0xD8) {
		j_begin(j);               /* a frame cut short: start over */
	} else if ((c >= 0xD0 && c <= 0xD7) || c == 0x01) {
		j->state = j->in_scan ? J_SCAN : J_MARK;
	} else {
		j->in_scan = c == 0xDA;   /* SOS: entropy-coded data after its header */
		j->state = J_LEN1;
	}
}

void jpeg_split_feed(struct jpeg_split *j, const void *data, size_t len, jpeg_frame_cb cb, void *arg)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		switch (j->state) {
		case J_OUT:
			if (c == 0xFF)
				j->state = J_OUT_FF;
			else
				j->skipped++;
			break;
		case J_OUT_FF:
			if (c == 0xD8)
				j_begin(j);
			else if (c != 0xFF) {
				j->skipped += 2;
				j->state = J_OUT;
			}
			break;
		case J_MARK:
			j_put(j, c);
			if (c == 0xFF) {
				j->state = J_CODE;
			} else {
				buf_reset(&j->cur);   /* not a marker: a broken frame */
				j->skipped++;
				j->state = J_OUT;
			}
			break;
		case J_CODE:
			j_put(j, c);
			j_code(j, c, cb, arg);
			break;
		case J_LEN1:
			j_put(j, c);
			j->seg_left = (size_t)c << 8;
			j->state = J_LEN2;
			break;
		case J_LEN2:
			j_put(j, c);
			j->seg_left |= c;
			if (j->seg_left < 2) {
				buf_reset(&j->cur);
				j->state = J_OUT;
				break;
			}
			j->seg_left -= 2;
			j->state = j->seg_left ? J_SEG : (j->in_scan ? J_SCAN : J_MARK);
			break;
		case J_SEG:
			j_put(j, c);
			if (--j->seg_left == 0)
				j->state = j->in_scan ? J_SCAN : J_MARK;
			break;
		case J_SCAN:
			j_put(j, c);
			if (c == 0xFF)
				j->state = J_SCAN_FF;
			break;
		case J_SCAN_FF:
			j_put(j, c);
			if (c == 0x00 || (c >= 0xD0 && c <= 0xD7))
				j->state = J_SCAN;
			else if (c != 0xFF)
				j_code(j, c, cb, arg);
			break;
		}
	}
}

struct api_frames {
	struct aproc *ap;
	struct jpeg_split js;
	double fps;
	int n;
	int cancelled;
	api_frame_cb on_frame;
	api_media_done_cb on_done;
	void *arg;
};

static void frames_done(struct aproc *ap, int status, void *arg)
{
	struct api_frames *f = arg;
	if (!f->cancelled) {
		char line[512], err[600];
		if (status == 0 && f->n > 0) {
			f->on_done(f->arg, 0, NULL);
		} else {
			const char *why = status == -2 ? "ffmpeg stalled" : proc_err_line(&ap->p, line, sizeof line);
			if (!why || !*why)
				why = f->n ? "ffmpeg failed" : "no frames";
			snprintf(err, sizeof err, "sampling frames: %s", why);
			f->on_done(f->arg, -1, err);
		}
	}
	jpeg_split_free(&f->js);
	free(f);
}

static void on_jpeg(void *arg, const unsigned char *jpeg, size_t len)
{
	struct api_frames *f = arg;
	int n = f->n++;
	if (!f->cancelled)
		f->on_frame(f->arg, n, n / f->fps, jpeg, len);
}

static void frames_output(struct aproc *ap, const char *data, size_t len, void *arg)
{
	struct api_frames *f = arg;
	(void)ap;
	jpeg_split_feed(&f->js, data, len, on_jpeg, f);
}

struct api_frames *api_frames_start(struct loop *l, const char *src, double fps, int width,
				    api_frame_cb on_frame, api_media_done_cb on_done, void *arg)
{
	struct api_frames *f = pc_xcalloc(1, sizeof *f);
	f->fps = fps;
	f->on_frame = on_frame;
	f->on_done = on_done;
	f->arg = arg;
	jpeg_split_init(&f->js);
	char vf[128];
	snprintf(vf, sizeof vf, "fps=%g,scale=%d:-2", fps, width);
	/* A cheap decode is enough for a few small frames a second: no
	 * B-frames (the fps filter takes the nearest other frame, a few frames
	 * off), which halves the time to each frame.  -flush_packets: each
	 * frame leaves as soon as it is encoded, not 32 KB at a time. */
	const char *argv[] = {"ffmpeg", "-nostdin", "-v", "error", "-skip_loop_filter", "all", "-skip_frame", "bidir",
			      "-flags2", "fast", "-i", src, "-map", "0:v:0", "-vf", vf, "-c:v", "mjpeg", "-q:v", "5",
			      "-flush_packets", "1", "-f", "image2pipe", "pipe:1", NULL};
	f->ap = aproc_stream(l, (char *const *)argv, API_MEDIA_STALL_TIMEOUT, frames_output, frames_done, f);
	return f;
}

void api_frames_cancel(struct api_frames *f)
{
	if (!f || f->cancelled)
		return;
	f->cancelled = 1;
	proc_kill(&f->ap->p);   /* the pipes close; frames_done frees f */
}
