/* Unit tests for detect: the ffmpeg output parsers, the signals-to-events
 * judgement on synthetic series, and the emitter's order and clean-up. */
#define _GNU_SOURCE
#include "pc.h"
#include "tap.h"
#include "../../detect/analyze.h"
#include "../../detect/detect.h"
#include "../../detect/signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsers ---- */

#define MAX_FRAMES 16
static struct meta_frame frames[MAX_FRAMES];
static int nframes;

static void take_frame(void *arg, const struct meta_frame *f)
{
	(void)arg;
	if (nframes < MAX_FRAMES)
		frames[nframes++] = *f;
}

static void feed_meta(struct meta_parser *mp, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, "\n");
		meta_line(mp, p, n);
		p += n + (p[n] == '\n');
	}
	meta_end(mp);
}

static void test_meta(void)
{
	static const char *const keys[] = {"lavfi.scene_score", "lavfi.signalstats.YAVG"};
	struct meta_parser mp;
	nframes = 0;
	meta_init(&mp, keys, 2, take_frame, NULL);
	feed_meta(&mp,
		  "frame:0    pts:0       pts_time:0\n"
		  "lavfi.scene_score=0.000000\n"
		  "lavfi.signalstats.YAVG=120.784\r\n"
		  "lavfi.signalstats.YMIN=16\n"
		  "frame:1    pts:1024    pts_time:2.04\n"
		  "lavfi.scene_score=0.875087\n"
		  "frame:2    pts:NOPTS   pts_time:NOPTS\n"
		  "lavfi.scene_score=0.5\n"
		  "garbage without equals\n"
		  "frame:3 pts:5 pts_time:4\n"
		  "lavfi.scene_score=nan\n"
		  "lavfi.signalstats.YAVG=-inf\n"
		  "frame:4 pts:6 pts_time:6\n"
		  "lavfi.signalstats.YAVG=33.5");
	is_num(nframes, 4, 0, "meta: four placeable frames (a NOPTS one is left out)");
	is_num(frames[0].t, 0, 1e-9, "meta: frame 0 time");
	is_num(frames[0].have, 3, 0, "meta: frame 0 has both keys");
	is_num(frames[0].v[1], 120.784, 1e-9, "meta: a value with a CR after it");
	is_num(frames[1].t, 2.04, 1e-9, "meta: frame 1 time");
	is_num(frames[1].have, 1, 0, "meta: frame 1 has only the scene score");
	is_num(frames[1].v[0], 0.875087, 1e-9, "meta: frame 1 scene score");
	is_num(frames[2].have, 0, 0, "meta: nan and -inf are no values");
	is_num(frames[3].v[1], 33.5, 1e-9, "meta: the last frame, without a newline, comes at the end");
	ok(mp.ignored >= 4, "meta: ignored lines are counted (%ld)", mp.ignored);

	char longline[META_LINE_MAX + 50];
	memset(longline, 'x', sizeof longline);
	nframes = 0;
	meta_init(&mp, keys, 2, take_frame, NULL);
	meta_line(&mp, "frame:0 pts:0 pts_time:1", 24);
	meta_line(&mp, longline, sizeof longline);
	meta_line(&mp, "lavfi.scene_score=0.25\0=9", 25);
	meta_end(&mp);
	is_num(nframes, 1, 0, "meta: an over-long line is skipped, the frame goes on");
	is_num(frames[0].v[0], 0.25, 1e-9, "meta: a NUL ends the line");
}

#define MAX_PKTS 16
static struct {
	double t;
	long size;
	int key;
} pkts[MAX_PKTS];
static int npkts;

static void take_pkt(void *arg, double t, long size, int key)
{
	(void)arg;
	if (npkts < MAX_PKTS) {
		pkts[npkts].t = t;
		pkts[npkts].size = size;
		pkts[npkts].key = key;
		npkts++;
	}
}

static void test_framecrc(void)
{
	struct pkt_parser pp;
	const char *lines[] = {
		"0,          0,          0,        1,    24942, 0x3b9a0d4e",   /* before #tb */
		"#extradata 0:       47, 0x424c0fd4",
		"#tb 0: 1/12800",
		"#media_type 0: video",
		"0,      -1024,          0,      512,     4585, 0x7de78be2",
		"0,       -512,       2048,      512,     1990, 0x6495dc95, F=0x0",
		"0,          0,       1024,      512,      924, 0x22b8b98d, F=0x4, S=1,        8, 0x00bd0014",
		"0, -9223372036854775808, -9223372036854775808, 512, 10, 0x0",
		"0, 512, -9223372036854775808, 512, 11, 0x0, F=0x0",
		"1,          0,          0,      512,      924, 0x22b8b98d",
		"0, 1, 2, 3, -5, 0x0",
		"0, 1, 2, 3, 99999999999999999999, 0x0",
		"not, a, packet",
	};
	npkts = 0;
	pkt_init(&pp, take_pkt, NULL);
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		pkt_line(&pp, lines[i], strlen(lines[i]));
	is_num(pp.tb, 1.0 / 12800, 1e-12, "framecrc: time base");
	is_num(npkts, 4, 0, "framecrc: four usable packets");
	is_num(pkts[0].t, 0, 1e-9, "framecrc: first packet at 0");
	ok(pkts[0].key && pkts[0].size == 4585, "framecrc: no F= is a keyframe of 4585 bytes");
	is_num(pkts[1].t, 0.16, 1e-9, "framecrc: pts 2048 is 0.16 s");
	ok(!pkts[1].key && pkts[1].size == 1990, "framecrc: F=0x0 is not a keyframe");
	ok(!pkts[2].key, "framecrc: flags with side data after them");
	is_num(pkts[3].t, 0.04, 1e-9, "framecrc: no pts falls back to dts");
	ok(pp.ignored >= 5, "framecrc: bad lines are counted (%ld)", pp.ignored);
}

/* ---- the analyzer ---- */

#define MAX_EVS 64
static struct det_event evs[MAX_EVS];
static double decided_at[MAX_EVS];
static int nevs;
static double feed_time;   /* the signal time being fed when an event came */

static void take_event(void *arg, const struct det_event *ev)
{
	(void)arg;
	if (nevs < MAX_EVS) {
		decided_at[nevs] = feed_time;
		evs[nevs++] = *ev;
	}
}

static int find_event(const char *kind, double near, double tol)
{
	for (int i = 0; i < nevs; i++)
		if (!strcmp(evs[i].kind, kind) && fabs(evs[i].t - near) <= tol)
			return i;
	return -1;
}

static int count_kind(const char *kind)
{
	int n = 0;
	for (int i = 0; i < nevs; i++)
		n += !strcmp(evs[i].kind, kind);
	return n;
}

/* A murmur at -35 LUFS with small wobble, loud between a and b. */
static double loudness_at(double t)
{
	double m = -35 + 0.8 * sin(t * 3.1);
	if ((t >= 23 && t < 24.6) || (t >= 61 && t < 62.6))
		m += 25;
	if (t >= 36 && t < 36.5)
		m += 20;
	if (t >= 0.2 && t < 0.6)
		m += 30;   /* before there is a baseline: not judged */
	if (t >= 85 && t < 90)
		m = -120;
	return m;
}

static void test_audio_events(void)
{
	nevs = 0;
	struct analyzer *an = an_new(0, take_event, NULL);
	for (int i = 0; i < 1000; i++) {
		feed_time = i * 0.1;
		an_audio(an, feed_time, loudness_at(feed_time));
	}
	an_audio(an, 100, NAN);   /* ignored */
	an_audio_end(an);
	an_free(an);
	int roar = find_event("crowd", 23, 0.15);
	ok(roar >= 0, "audio: a crowd roar at 23 s");
	ok(roar >= 0 && evs[roar].score >= 0.9, "audio: a 25 LU roar scores high (%g)", roar >= 0 ? evs[roar].score : -1);
	is_str(roar >= 0 ? evs[roar].label : NULL, "crowd roar", "audio: its label");
	ok(find_event("crowd", 61, 0.15) >= 0, "audio: and one at 61 s");
	int whistle = find_event("whistle", 36, 0.15);
	ok(whistle >= 0, "audio: a half-second peak at 36 s is a whistle");
	ok(whistle >= 0 && evs[whistle].score < evs[roar].score, "audio: a whistle ranks below a roar");
	int lull = find_event("lull", 85, 0.15);
	ok(lull >= 0 && !strcmp(evs[lull].label, "silence"), "audio: silence at 85 s is a lull");
	is_num(count_kind("crowd") + count_kind("whistle") + count_kind("lull"), 4, 0,
	       "audio: nothing else (no peak before a baseline, no echo of the roars)");
	int late = 0;
	for (int i = 0; i < nevs; i++)
		late += decided_at[i] - evs[i].t > AN_LOOKAHEAD;
	is_num(late, 0, 0, "audio: every event decided within the lookahead");
}

static void test_audio_rise(void)
{
	nevs = 0;
	struct analyzer *an = an_new(30, take_event, NULL);   /* --rise 30 */
	for (int i = 0; i < 1000; i++)
		an_audio(an, i * 0.1, loudness_at(i * 0.1));
	an_audio_end(an);
	an_free(an);
	is_num(count_kind("crowd") + count_kind("whistle"), 0, 0, "audio: --rise 30 hears no 25 LU roar");
}

/* Video at 25 fps, a keyframe every 2 s: packets first (as the local
 * backend orders them), then each keyframe. */
static void feed_video(struct analyzer *an, double seconds)
{
	int frames_total = (int)(seconds * 25);
	int next_key = 0;
	for (int f = 0; f < frames_total; f++) {
		double t = f / 25.0;
		feed_time = t;
		int key = f % 50 == 0;
		long size = key ? 5000 : (f % 2 ? 900 : 1200);
		if (f == 339)          /* 13.56 s: the frame after a cut */
			size = 4800;
		if (t >= 50 && t < 53)
			size *= 4;         /* a burst of motion */
		an_packet(an, t, size, key);
		/* A keyframe goes in once the packets are a little past it. */
		while (next_key * 2.0 <= an_packets_settled(an) && next_key * 2 < seconds) {
			struct an_keyframe k = {.t = next_key * 2.0};
			k.have = 0x3f;
			k.v[AN_SCENE] = 0.01;
			k.v[AN_YAVG] = 120;
			k.v[AN_YHIGH] = 200;
			k.v[AN_YDIF] = 9 + (next_key % 3);
			k.v[AN_UDIF] = k.v[AN_VDIF] = 1;
			if (next_key == 7)   /* 14 s: the first keyframe after the cut */
				k.v[AN_YDIF] = 96;
			if (next_key == 20)  /* 40 s: an encoder's keyframe at a cut */
				k.v[AN_SCENE] = 0.9;
			if (next_key == 35 || next_key == 36)   /* 70-72 s: black */
				k.v[AN_YAVG] = k.v[AN_YHIGH] = 16;
			an_keyframe(an, &k);
			next_key++;
		}
	}
	an_packets_end(an);
	an_keyframes_end(an, seconds);
}

static void test_video_events(void)
{
	nevs = 0;
	struct analyzer *an = an_new(0, take_event, NULL);
	feed_video(an, 90);
	an_free(an);
	ok(find_event("cut", 13.56, 0.01) >= 0, "video: a cut placed at the big packet between keyframes");
	ok(find_event("cut", 40, 0.01) >= 0, "video: a cut at a keyframe with a high scene score");
	int motion = find_event("motion", 50, 0.5);
	ok(motion >= 0, "video: a burst of motion at 50 s");
	ok(motion >= 0 && evs[motion].score >= 0.3 && evs[motion].score <= 0.6, "video: its score is in the motion band");
	int black = find_event("lull", 70, 0.01);
	ok(black >= 0 && !strcmp(evs[black].label, "black screen"), "video: black keyframes at 70 s are a lull");
	is_num(count_kind("motion"), 1, 0, "video: one motion event");
	is_num(count_kind("cut"), 2, 0, "video: no cut but those two (the motion burst is none)");
	is_num(nevs, 4, 0, "video: nothing else");
}

static void test_no_signal_garbage(void)
{
	nevs = 0;
	struct analyzer *an = an_new(0, take_event, NULL);
	an_packet(an, INFINITY, 10, 0);
	an_packet(an, 1e12, 10, 0);
	an_packet(an, -5, 10, 0);
	an_packet(an, 1, -10, 0);
	struct an_keyframe k = {.t = NAN};
	an_keyframe(an, &k);
	an_packets_end(an);
	an_packets_end(an);
	an_packet(an, 3, 10, 0);   /* after the end: ignored */
	an_keyframes_end(an, 10);
	an_audio_end(an);
	an_free(an);
	is_num(nevs, 0, 0, "analyzer: nonsense in, nothing out, no crash");
}

/* ---- the emitter ---- */

static json_object *written[32];
static int nwritten;

static void capture(json_object *rec)
{
	if (nwritten < 32)
		written[nwritten++] = rec;
	else
		json_object_put(rec);
}

static void forget_written(void)
{
	for (int i = 0; i < nwritten; i++)
		json_object_put(written[i]);
	nwritten = 0;
}

static void test_layout(void)
{
	double *b;
	int n = det_layout(133, 0, 30, &b);
	is_num(n, 5, 0, "layout: 133 s in 30 s intervals is 5");
	ok(n == 5 && b[0] == 0 && b[1] == 30 && b[4] == 120 && b[5] == 133, "layout: 0 30 .. 120 133");
	free(b);
	n = det_layout(120.5, 5, 30, &b);
	is_num(n, 5, 0, "layout: a 5 s first interval, a 0.5 s tail joins the last");
	ok(n == 5 && b[1] == 5 && b[2] == 35 && b[4] == 95 && b[5] == 120.5, "layout: 0 5 35 65 95 120.5");
	free(b);
	n = det_layout(5.5, 5, 30, &b);
	ok(n == 1 && b[1] == 5.5, "layout: a first interval leaving a sliver takes it");
	free(b);
	n = det_layout(10, 30, 30, &b);
	ok(n == 1 && b[1] == 10, "layout: a short clip is one interval");
	free(b);
	ok(det_layout(1e7, 1, 1, &b) < 0, "layout: too many intervals is refused");
	ok(det_layout(0, 1, 1, &b) < 0, "layout: no duration is refused");
}

static void test_tidy(void)
{
	struct det_event e[DET_MAX_EVENTS + 8];
	size_t n = 0;
	det_event_set(&e[n++], 5, "cut", "camera cut", 0.3);
	det_event_set(&e[n++], 6, "cut", "camera cut", 0.35);    /* merges with 5 */
	det_event_set(&e[n++], 2, "crowd", "crowd roar", 0.9);
	det_event_set(&e[n++], 2.5, "lull", "silence", 0.05);    /* below the threshold */
	det_event_set(&e[n++], 3, "crowd", "crowd roar", NAN);   /* no score */
	e[2].extra = json_object_new_object();
	json_object_object_add(e[2].extra, "text", json_object_new_string("what a goal"));
	e[3].extra = json_object_new_object();                   /* dropped: must be freed */
	for (int i = 0; i < DET_MAX_EVENTS + 3; i++)
		det_event_set(&e[n++], 100 + 3 * i, "motion", "burst of motion", 0.3 + i * 0.01);
	n = det_tidy(e, n, 0.1);
	is_num(n, DET_MAX_EVENTS, 0, "tidy: capped");
	is_num(e[0].t, 2, 0, "tidy: sorted by time");
	is_str(e[1].kind, "cut", "tidy: then the merged cut");
	is_num(e[1].t, 6, 0, "tidy: the merge keeps the higher score's moment");
	ok(e[n - 1].t == 100 + 3 * (DET_MAX_EVENTS + 2) && e[2].t == 100 + 3 * 5,
	   "tidy: the cap drops the lowest scores");
	ok(e[0].extra != NULL, "tidy: a kept event keeps its extra");
	for (size_t i = 0; i < n; i++)
		json_object_put(e[i].extra);
}

static json_object *field(json_object *rec, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(rec, key, &v);
	return v;
}

static void test_emitter(void)
{
	double bounds[] = {0, 30, 60, 90};
	struct det_opts o = {.interval = 30, .threshold = 0};
	struct det_job job = {.session = "s1", .name = "game.mp4", .backend = det_backend_find("local"),
			      .opts = &o, .intervals = 3, .bounds = bounds};
	det_write = capture;
	out_set_json(1);
	det_job_open(&job);

	struct det_event e[2];
	det_event_set(&e[0], 75, "crowd", "crowd roar", 0.95);
	e[0].extra = json_object_new_object();
	json_object_object_add(e[0].extra, "text", json_object_new_string("listen to them"));
	json_object_object_add(e[0].extra, "kind", json_object_new_string("not this"));
	det_emit_interval(&job, 2, e, 1);
	is_num(nwritten, 0, 0, "emitter: interval 2 waits for 0 and 1");
	det_emit_interval(&job, 0, NULL, 0);
	is_num(nwritten, 1, 0, "emitter: interval 0 leaves at once");
	det_event_set(&e[0], 31, "cut", "camera cut", 0.3);
	det_emit_interval(&job, 0, e, 1);
	is_num(nwritten, 1, 0, "emitter: a second delivery of an interval is ignored");
	det_event_set(&e[0], 45, "cut", "camera cut", 0.3);
	det_event_set(&e[1], 33, "whistle", "whistle", 0.5);
	det_emit_interval(&job, 1, e, 2);
	is_num(nwritten, 3, 0, "emitter: interval 1 frees interval 2 behind it");
	long idx[3] = {-1, -1, -1};
	for (int i = 0; i < 3 && i < nwritten; i++)
		rec_int(written[i], "index", &idx[i]);
	ok(idx[0] == 0 && idx[1] == 1 && idx[2] == 2, "emitter: records in interval order");
	json_object *r = written[1];
	double start = -1, end = -1;
	rec_num(r, "start", &start);
	rec_num(r, "end", &end);
	ok(start == 30 && end == 60, "emitter: start and end of interval 1");
	is_str(rec_type(r), "events", "emitter: type events");
	is_str(rec_str(r, "session"), "s1", "emitter: session");
	is_str(rec_str(r, "backend"), "local", "emitter: backend");
	json_object *list = field(r, "events");
	ok(list && json_object_array_length(list) == 2, "emitter: both events of interval 1");
	double t0 = 0;
	rec_num(json_object_array_get_idx(list, 0), "t", &t0);
	is_num(t0, 33, 0, "emitter: events sorted by time");
	json_object *roar = json_object_array_get_idx(field(written[2], "events"), 0);
	is_str(rec_str(roar, "text"), "listen to them", "emitter: a backend's extra field is added");
	is_str(rec_str(roar, "kind"), "crowd", "emitter: an extra never overrides a field");
	double sc = 0;
	rec_num(roar, "score", &sc);
	is_num(sc, 0.95, 1e-9, "emitter: score");
	is_num(json_object_array_length(field(written[0], "events")), 0, 0, "emitter: an empty interval has []");
	forget_written();

	det_emit_error(&job, 1, "boom %d", 7);
	ok(nwritten == 1 && job.failed, "emitter: an error is a record and fails the job");
	is_str(rec_type(written[0]), "error", "emitter: error record");
	is_str(rec_str(written[0], "message"), "game.mp4: boom 7", "emitter: the message names the file");
	is_str(rec_str(written[0], "input"), "game.mp4", "emitter: input is the file");
	is_str(rec_str(written[0], "session"), "s1", "emitter: and the session");
	forget_written();

	det_emit_done(&job);
	long pct = 0;
	rec_int(written[0], "progress", &pct);
	ok(nwritten == 1 && pct == 100, "emitter: done is a status at 100 %%");
	is_str(rec_str(written[0], "message"), "analysed game.mp4: 3 events in 3 intervals", "emitter: done says what went out");
	forget_written();
	det_job_close(&job);

	/* A gap: interval 1 never comes; 2 is held, then freed with the job. */
	det_job_open(&job);
	det_emit_progress(&job, 0);
	det_emit_progress(&job, 3);
	det_emit_progress(&job, 20);
	is_num(nwritten, 2, 0, "emitter: progress statuses at 0 and 22 %%, not at 3 %%");
	forget_written();
	det_emit_status(&job, 42, "Uploading %s", "game.mp4");
	det_emit_status(&job, -1, "waiting");
	long p1 = -1;
	rec_int(written[0], "progress", &p1);
	ok(nwritten == 2 && p1 == 42, "emitter: a backend's status with its progress");
	is_str(rec_str(written[0], "message"), "Uploading game.mp4", "emitter: ...and message");
	ok(!field(written[1], "progress") && !strcmp(rec_str(written[1], "session"), "s1"),
	   "emitter: a status without progress, with the session");
	forget_written();
	det_emit_interval(&job, 0, NULL, 0);
	det_event_set(&e[0], 75, "crowd", "crowd roar", 0.95);
	e[0].extra = json_object_new_object();
	det_emit_interval(&job, 2, e, 1);
	det_emit_done(&job);
	ok(nwritten == 2 && job.written == 1, "emitter: intervals after a gap never leave");
	det_emit_interval(&job, 1, NULL, 0);
	is_num(job.written, 1, 0, "emitter: nothing after done");
	forget_written();
	det_job_close(&job);
	det_write = out_record_put;
}

int main(void)
{
	test_meta();
	test_framecrc();
	test_audio_events();
	test_audio_rise();
	test_video_events();
	test_no_signal_garbage();
	test_layout();
	test_tidy();
	test_emitter();
	return done_testing();
}
