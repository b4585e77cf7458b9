/* common/api_media: where to cut, the segment list and JPEG stream
 * parsers, and both ffmpeg runners on a generated video (segments probed
 * with ffprobe, frames checked as JPEG). */
#define _GNU_SOURCE
#include "pc.h"
#include "tap.h"
#include "media.h"
#include "api_media.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

static void test_cuts(void)
{
	double b[] = {0, 5, 35, 65, 70.5};
	double c[32];
	int n = api_segment_cuts(b, 4, 10, c, 32);
	/* 5 | 15 25 | 35 | 45 55 | 65 | 70.5 end */
	is_num(n, 7, 0, "cuts: bounds and 10 s pieces");
	double want[] = {5, 15, 25, 35, 45, 55, 65};
	int same = 1;
	for (int i = 0; i < 7; i++)
		same &= fabs(c[i] - want[i]) < 1e-9;
	ok(same, "cuts: 5 15 25 35 45 55 65 ...");
	n = api_segment_cuts(b, 4, 0, c, 32);
	ok(n == 3 && c[0] == 5 && c[1] == 35 && c[2] == 65, "cuts: bounds only without a length");
	ok(api_segment_cuts(b, 4, 1, c, 4) == 4, "cuts: at most max");
}

static void test_segment_line(void)
{
	char name[64];
	double a, b;
	ok(api_parse_segment_line("seg_0001.mp4,6.080000,16.080000", name, sizeof name, &a, &b) == 0 &&
	   !strcmp(name, "seg_0001.mp4") && a == 6.08 && b == 16.08, "segment line parsed");
	ok(api_parse_segment_line("x.mp4,1", name, sizeof name, &a, &b) < 0, "segment line: too few fields");
	ok(api_parse_segment_line("../x.mp4,1,2", name, sizeof name, &a, &b) < 0, "segment line: no path in the name");
	ok(api_parse_segment_line("x.mp4,3,2", name, sizeof name, &a, &b) < 0, "segment line: end before start");
	ok(api_parse_segment_line("x.mp4,a,2", name, sizeof name, &a, &b) < 0, "segment line: not a number");
}

static int frames_seen;
static size_t last_len;
static void count_frame(void *arg, const unsigned char *jpeg, size_t len)
{
	(void)arg;
	(void)jpeg;
	frames_seen++;
	last_len = len;
}

static void test_jpeg_split(void)
{
	/* SOI, APP0 (length 4 holding FF D9), SOS (length 2), data with
	 * stuffing and RST, EOI; junk around; a second frame fed byte by byte. */
	static const unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9,
					    0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56,
					    0xFF, 0xD9};
	struct jpeg_split j;
	jpeg_split_init(&j);
	jpeg_split_feed(&j, "junk", 4, count_frame, NULL);
	jpeg_split_feed(&j, jpg, sizeof jpg, count_frame, NULL);
	ok(frames_seen == 1 && last_len == sizeof jpg, "jpeg: one frame, FF D9 inside a segment and RST skipped");
	for (size_t i = 0; i < sizeof jpg; i++)
		jpeg_split_feed(&j, jpg + i, 1, count_frame, NULL);
	ok(frames_seen == 2 && last_len == sizeof jpg, "jpeg: a frame fed byte by byte");
	static const unsigned char cut[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0xFF, 0xD8};
	jpeg_split_feed(&j, cut, sizeof cut, count_frame, NULL);
	jpeg_split_feed(&j, jpg + 2, sizeof jpg - 2, count_frame, NULL);
	ok(frames_seen == 3 && last_len == sizeof jpg, "jpeg: a frame cut short is dropped, the next one kept");
	jpeg_split_free(&j);
}

struct run {
	int done, status, segs, frames;
	char err[600];
	char path[4][PATH_MAX];
	double start[8], end[8];
	double t[64];
	int jpeg_ok;
};

static void on_seg(void *arg, int index, const char *path, double start, double end)
{
	struct run *r = arg;
	if (index < 4)
		snprintf(r->path[index], sizeof r->path[index], "%s", path);
	if (index < 8) {
		r->start[index] = start;
		r->end[index] = end;
	}
	r->segs++;
}

static void on_frame(void *arg, int n, double t, const unsigned char *jpeg, size_t len)
{
	struct run *r = arg;
	if (n < 64)
		r->t[n] = t;
	r->jpeg_ok += len > 4 && jpeg[0] == 0xFF && jpeg[1] == 0xD8 && jpeg[len - 2] == 0xFF && jpeg[len - 1] == 0xD9;
	r->frames++;
}

static void on_end(void *arg, int status, const char *err)
{
	struct run *r = arg;
	r->done = 1;
	r->status = status;
	snprintf(r->err, sizeof r->err, "%s", err ? err : "");
}

static void run_loop(struct loop *l, int *flag)
{
	double end = pc_now() + 120;
	while (!*flag && pc_now() < end)
		loop_run_once(l, 100);
}

/* Cut src into a fresh folder dir/sub, wait for the end; r holds it all. */
static void cut_into(struct loop *l, struct run *r, const char *dir, const char *sub, const char *src,
		     const char *acodec, double from, double to, const double *cuts, int ncuts, int height)
{
	char out[PATH_MAX];
	snprintf(out, sizeof out, "%s/%s", dir, sub);
	pc_mkdirs(out);
	memset(r, 0, sizeof *r);
	api_segment_start(l, src, out, acodec, from, to, cuts, ncuts, height, on_seg, on_end, r);
	run_loop(l, &r->done);
}

int main(void)
{
	pc_init("api-media-test");
	test_cuts();
	test_segment_line();
	test_jpeg_split();

	char dir[] = "/tmp/api-media.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char video[PATH_MAX];
	snprintf(video, sizeof video, "%s/v.mp4", dir);
	char *mk[] = {"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=20",
		      "-f", "lavfi", "-i", "sine=frequency=300:duration=20", "-c:v", "libx264", "-preset", "ultrafast",
		      "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", video, NULL};
	struct proc p;
	if (proc_run(&p, mk, NULL, 120000) != 0) {
		printf("# ffmpeg: %s\n", p.err);
		return 1;
	}
	struct loop *l = loop_new();
	struct run r;
	memset(&r, 0, sizeof r);
	double cuts[] = {5, 10, 15};
	api_segment_start(l, video, dir, "aac", 0, 0, cuts, 3, 0, on_seg, on_end, &r);
	run_loop(l, &r.done);
	ok(r.done && r.status == 0, "segments: ffmpeg done (%s)", r.err);
	is_num(r.segs, 4, 0, "segments: 4 reported");
	ok(r.start[0] == 0 && fabs(r.start[1] - 5) < 1.1 && fabs(r.start[3] - 15) < 1.1 && fabs(r.end[3] - 20) < 0.2,
	   "segments: times at the cuts (next keyframe)");
	struct media_info mi;
	char err[256];
	ok(media_probe(r.path[1], &mi, err, sizeof err) == 0 && fabs(mi.duration - (r.end[1] - r.start[1])) < 0.1 &&
	   mi.has_video && mi.has_audio && !strcmp(mi.acodec, "aac") && !strcmp(mi.vcodec, "h264"),
	   "segments: a playable MP4 of that length, video copied, AAC audio");

	cut_into(l, &r, dir, "reduced", video, "aac", 0, 0, cuts, 3, 90);
	ok(r.done && r.status == 0 && r.segs == 4, "reduced segments: 4 (%s)", r.err);
	ok(fabs(r.start[1] - 5) < 0.05 && fabs(r.start[2] - 10) < 0.05 && fabs(r.start[3] - 15) < 0.05,
	   "reduced segments: cut at the points (%.3f %.3f %.3f)", r.start[1], r.start[2], r.start[3]);
	ok(media_probe(r.path[1], &mi, err, sizeof err) == 0 && mi.height == 90 && fabs(mi.fps - 1) < 0.01 &&
	   mi.has_audio && fabs(mi.duration - 5) < 0.1, "reduced segments: 90 px high, 1 frame a second, with sound");

	/* A part of the source, as one reduced clip, in the source's times. */
	cut_into(l, &r, dir, "clip", video, "aac", 8, 13, NULL, 0, 90);
	ok(r.done && r.status == 0 && r.segs == 1, "a part: one clip (%s)", r.err);
	ok(fabs(r.start[0] - 8) < 0.05 && fabs(r.end[0] - 13) < 0.1, "a part: reported in the source's times (%.3f-%.3f)",
	   r.start[0], r.end[0]);
	ok(media_probe(r.path[0], &mi, err, sizeof err) == 0 && fabs(mi.duration - 5) < 0.1 && mi.has_audio,
	   "a part: 5 s long, with sound (%.3f)", mi.duration);

	/* MP3 goes into MP4 as it is; audio of unknown kind becomes AAC. */
	char mp3[PATH_MAX];
	snprintf(mp3, sizeof mp3, "%s/mp3.mp4", dir);
	char *mk3[] = {"ffmpeg", "-nostdin", "-v", "error", "-y", "-i", video, "-c:v", "copy", "-c:a", "libmp3lame",
		       mp3, NULL};
	ok(proc_run(&p, mk3, NULL, 120000) == 0, "an MP4 with MP3 audio (%s)", p.err);
	const char *kinds[] = {"mp3", NULL}, *want[] = {"mp3", "aac"};
	for (int k = 0; k < 2; k++) {
		cut_into(l, &r, dir, k ? "audio1" : "audio0", mp3, kinds[k], 0, 0, cuts, 3, 90);
		ok(r.done && r.status == 0 && r.segs == 4 && media_probe(r.path[2], &mi, err, sizeof err) == 0 &&
		   !strcmp(mi.acodec, want[k]) && fabs(mi.duration - 5) < 0.1,
		   "segments: source audio %s gives %s audio (%s)", kinds[k] ? kinds[k] : "unknown", want[k], mi.acodec);
	}

	memset(&r, 0, sizeof r);
	api_frames_start(l, video, 1, 160, on_frame, on_end, &r);
	run_loop(l, &r.done);
	ok(r.done && r.status == 0, "frames: ffmpeg done (%s)", r.err);
	is_num(r.frames, 20, 1, "frames: one a second for 20 s");
	ok(r.jpeg_ok == r.frames, "frames: each a whole JPEG");
	is_num(r.t[5], 5, 1e-9, "frames: times by rate");

	memset(&r, 0, sizeof r);
	api_frames_start(l, "/nonexistent.mp4", 1, 160, on_frame, on_end, &r);
	run_loop(l, &r.done);
	ok(r.status < 0 && strstr(r.err, "sampling frames: ") && strstr(r.err, "No such file"), "frames: a missing file is an error with ffmpeg's reason");
	memset(&r, 0, sizeof r);
	api_segment_start(l, "/nonexistent.mp4", dir, NULL, 0, 0, cuts, 3, 0, on_seg, on_end, &r);
	run_loop(l, &r.done);
	ok(r.status < 0 && strstr(r.err, "cutting segments: ") && strstr(r.err, "No such file"), "segments: likewise");
	printf("# %s\n", r.err);

	memset(&r, 0, sizeof r);
	struct api_frames *f = api_frames_start(l, video, 1, 160, on_frame, on_end, &r);
	api_frames_cancel(f);
	double end = pc_now() + 10;
	while (!loop_idle(l) && pc_now() < end)
		loop_run_once(l, 100);
	ok(loop_idle(l) && !r.done, "frames: cancelled, no callback, nothing left");
	loop_free(l);
	char *rm[] = {"rm", "-rf", dir, NULL};
	proc_run(&p, rm, NULL, 30000);
	return done_testing();
}
