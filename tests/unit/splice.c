/* Unit tests for splice's parsers, renderers and command lines. */
#define _GNU_SOURCE
#include "../../splice/splice.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- MP4 boxes built by hand ---- */

static void put32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = {v >> 24, v >> 16, v >> 8, v};
	buf_append(b, p, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void box(struct buf *b, const char *type, const struct buf *payload)
{
	put32(b, (uint32_t)(8 + payload->len));
	buf_append(b, type, 4);
	buf_append(b, payload->data, payload->len);
}

static void mvhd(struct buf *b, int version, uint32_t timescale, uint64_t duration)
{
	struct buf p = {0};
	put32(&p, (uint32_t)version << 24);
	if (version == 0) {
		put32(&p, 0);
		put32(&p, 0);
		put32(&p, timescale);
		put32(&p, (uint32_t)duration);
	} else {
		put64(&p, 0);
		put64(&p, 0);
		put32(&p, timescale);
		put64(&p, duration);
	}
	for (int i = 0; i < 20; i++)   /* rate, volume, matrix...: unread */
		put32(&p, 0);
	box(b, "mvhd", &p);
	buf_free(&p);
}

/* ftyp, then moov holding an mvhd after another box. */
static void movie(struct buf *file, int version, uint32_t timescale, uint64_t duration)
{
	struct buf ftyp = {0}, moov = {0}, other = {0};
	buf_puts(&ftyp, "isom\0\0\0\0isomiso2");
	box(file, "ftyp", &ftyp);
	buf_puts(&other, "xxxx");
	box(&moov, "iods", &other);
	mvhd(&moov, version, timescale, duration);
	box(file, "moov", &moov);
	buf_free(&ftyp);
	buf_free(&moov);
	buf_free(&other);
}

static void test_mp4(void)
{
	struct buf f = {0};
	double d = 0;
	char err[128];
	movie(&f, 0, 1000, 10634);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) == 0, "mp4: version 0 mvhd");
	is_num(d, 10.634, 1e-9, "mp4: its duration");
	buf_reset(&f);
	movie(&f, 1, 90000, 900000ULL * 1000);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) == 0, "mp4: version 1 mvhd");
	is_num(d, 10000, 1e-9, "mp4: 64-bit duration");

	/* A large-size (size 1) box before the moov. */
	buf_reset(&f);
	put32(&f, 1);
	buf_append(&f, "free", 4);
	put64(&f, 24);
	put64(&f, 0);
	movie(&f, 0, 600, 1200);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) == 0 && d == 2,
	   "mp4: 64-bit box size skipped over");

	/* moov at the end of a file whose head we read: not found. */
	buf_reset(&f);
	put32(&f, 1 << 20);
	buf_append(&f, "mdat", 4);
	buf_append(&f, "data", 4);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) < 0, "mp4: moov beyond the head");
	is_str(err, "no moov box in the file's head", "mp4: says so");

	buf_reset(&f);
	movie(&f, 0, 0, 100);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) < 0, "mp4: timescale 0 refused");
	buf_reset(&f);
	movie(&f, 0, 1000, 0xffffffffu);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len, &d, err, sizeof err) < 0, "mp4: unknown duration refused");

	/* Cut short inside the mvhd. */
	buf_reset(&f);
	movie(&f, 0, 1000, 5000);
	ok(parse_mp4_duration((unsigned char *)f.data, f.len - 90, &d, err, sizeof err) < 0, "mp4: truncated mvhd refused");
	put32(&f, 3);   /* a box smaller than its header */
	ok(parse_mp4_duration((unsigned char *)f.data + f.len - 4, 4, &d, err, sizeof err) < 0, "mp4: tiny input refused");
	ok(parse_mp4_duration((unsigned char *)"", 0, &d, err, sizeof err) < 0, "mp4: empty input refused");
	buf_free(&f);
}

static void test_keyframes(void)
{
	const char *csv = "4.000000,K_\n4.080000,__\n4.040000,__\n6.000000,K_\n6.080000,__\n"
			  "N/A,K_\nbogus\n,K\n8.000000,K__\r\n7.960000,__\n";
	size_t n = strlen(csv);
	double kf = -1;
	ok(parse_keyframe(csv, n, 5.3, &kf) && kf == 4, "keyframe: latest at or before the start");
	ok(parse_keyframe(csv, n, 6.0, &kf) && kf == 6, "keyframe: one exactly at the start");
	ok(parse_keyframe(csv, n, 5.9999995, &kf) && kf == 6, "keyframe: microsecond rounding allowed");
	ok(parse_keyframe(csv, n, 9, &kf) && kf == 8, "keyframe: flags with more letters, CRLF");
	ok(!parse_keyframe(csv, n, 3.9, &kf), "keyframe: none before the first");
	ok(!parse_keyframe("", 0, 10, &kf), "keyframe: empty output");
	ok(!parse_keyframe("4.0,__\n5.0,_D\n", 14, 10, &kf), "keyframe: no key packets");
	char nul[] = "4.0,K_\0\n5.0,K_";
	ok(parse_keyframe(nul, sizeof nul - 1, 10, &kf) && kf == 5, "keyframe: a line with a NUL is skipped");
}

static json_object *rec(const char *text)
{
	char err[128];
	json_object *r = nd_parse_record(text, strlen(text), err, sizeof err);
	if (!r)
		printf("# bad fixture: %s\n", err);
	return r;
}

static void test_audio(void)
{
	struct chunk_req req;
	char err[256];
	json_object *r = rec("{\"type\":\"audio\",\"session\":\"s\",\"index\":3,\"start\":12.5,\"end\":20,"
			     "\"text\":\"Goal!\",\"path\":\"/x/speech_3.wav\",\"speech_duration\":2.25}");
	ok(parse_audio(r, &req, err, sizeof err) == 0, "audio: a whole record");
	ok(req.index == 3 && req.start == 12.5 && req.end == 20 && req.speech_duration == 2.25, "audio: numbers");
	is_str(req.speech, "/x/speech_3.wav", "audio: speech path");
	is_str(req.text, "Goal!", "audio: text");
	chunk_req_free(&req);
	json_object_put(r);

	r = rec("{\"type\":\"audio\",\"index\":0,\"start\":0,\"end\":5,\"path\":null}");
	ok(parse_audio(r, &req, err, sizeof err) == 0 && !req.speech && !req.text && req.speech_duration == 0,
	   "audio: path null, no text, no speech_duration");
	ok(req.delay == -1, "audio: no delay said");
	chunk_req_free(&req);
	json_object_put(r);
	r = rec("{\"type\":\"audio\",\"index\":0,\"start\":0,\"end\":5,\"delay\":1.5}");
	ok(parse_audio(r, &req, err, sizeof err) == 0 && req.delay == 1.5, "audio: narrate's delay read");
	chunk_req_free(&req);
	json_object_put(r);

	struct {
		const char *json, *why;
		long index;
	} bad[] = {
		{"{\"type\":\"audio\",\"start\":0,\"end\":5}", "audio record has no valid \"index\"", -1},
		{"{\"type\":\"audio\",\"index\":1.5,\"start\":0,\"end\":5}", "audio record has no valid \"index\"", -1},
		{"{\"type\":\"audio\",\"index\":-1,\"start\":0,\"end\":5}", "audio record has no valid \"index\"", -1},
		{"{\"type\":\"audio\",\"index\":2,\"end\":5}", "no \"start\"", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":\"0\",\"end\":5}", "\"start\" is not a number of seconds", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":-1,\"end\":5}", "\"start\" is not a number of seconds", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":6,\"end\":5}", "window ends (5.000) before it starts (6.000)", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":0,\"end\":5,\"path\":7}", "\"path\" is not a string", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":0,\"end\":5,\"text\":[]}", "\"text\" is not a string", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":0,\"end\":5,\"speech_duration\":\"x\"}",
		 "\"speech_duration\" is not a number of seconds", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":0,\"end\":5,\"delay\":61}",
		 "\"delay\" is not a number of seconds from 0 to 60", 2},
		{"{\"type\":\"audio\",\"index\":2,\"start\":0,\"end\":5,\"delay\":\"1\"}",
		 "\"delay\" is not a number of seconds from 0 to 60", 2},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		r = rec(bad[i].json);
		int rc = parse_audio(r, &req, err, sizeof err);
		ok(rc < 0 && req.index == bad[i].index && !req.speech, "audio refused: %s", bad[i].json);
		is_str(err, bad[i].why, "audio: says why");
		json_object_put(r);
	}
}

static void test_session(void)
{
	struct session_info si;
	char err[256];
	json_object *r = rec("{\"type\":\"session\",\"session\":\"s\",\"source\":\"/v/a.mp4\",\"dir\":\"\",\"duration\":133}");
	ok(parse_session(r, &si, err, sizeof err) == 0, "session: parsed");
	is_str(si.source, "/v/a.mp4", "session: source");
	ok(!si.dir && si.duration == 133, "session: empty dir means the default");
	session_info_free(&si);
	json_object_put(r);
	r = rec("{\"type\":\"session\",\"session\":\"s\",\"dir\":\"/d\"}");
	ok(parse_session(r, &si, err, sizeof err) < 0, "session: no source refused");
	is_str(err, "session record has no \"source\"", "session: says why");
	json_object_put(r);
	r = rec("{\"type\":\"session\",\"session\":\"s\",\"source\":\"/a\",\"dir\":5}");
	ok(parse_session(r, &si, err, sizeof err) < 0 && !si.source, "session: dir of the wrong type refused");
	json_object_put(r);
}

static void test_probe(void)
{
	const char *json = "{\"streams\":[{\"codec_type\":\"video\",\"codec_name\":\"h264\",\"pix_fmt\":\"yuv420p\","
			   "\"width\":1280,\"height\":720}],\"format\":{\"duration\":\"30.0\",\"start_time\":\"1.400000\"}}";
	struct media_info mi;
	double st = -1;
	char err[128];
	ok(parse_probe(json, strlen(json), &mi, &st, err, sizeof err) == 0 && st == 1.4, "probe: start_time read");
	ok(mi.has_video && !strcmp(mi.vcodec, "h264"), "probe: media info as media_parse gives it");
	const char *none = "{\"streams\":[{\"codec_type\":\"audio\"}],\"format\":{\"duration\":\"3\",\"start_time\":\"N/A\"}}";
	ok(parse_probe(none, strlen(none), &mi, &st, err, sizeof err) == 0 && st == 0, "probe: N/A start is 0");
	ok(parse_probe("[]", 2, &mi, &st, err, sizeof err) < 0, "probe: not an object");
}

static void test_text(void)
{
	struct buf b = {0};
	struct cue cues[] = {{1, 4.3819, "Goal <now> & then\n\nmore  words"}, {3723.5, 3725, ""}};
	vtt_render(&b, cues, 2);
	is_str(buf_cstr(&b),
	       "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.382\nGoal &lt;now&gt; &amp; then more words\n"
	       "\n2\n01:02:03.500 --> 01:02:05.000\n\n",
	       "vtt: cues, times, escaping, one line each");
	buf_reset(&b);
	struct cue ch[] = {{0, 10.634, "a=b;c#d\\e\nf"}, {10.634, 16.4, "Highlight 1"}};
	chapters_render(&b, ch, 2);
	is_str(buf_cstr(&b),
	       ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=10634\ntitle=a\\=b\\;c\\#d\\\\e f\n"
	       "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=10634\nEND=16400\ntitle=Highlight 1\n",
	       "chapters: milliseconds, special characters escaped");
	buf_reset(&b);
	char *paths[] = {"/v/s/chunk_0.mp4", "/v/it's/chunk_1.mp4"};
	double durs[] = {10.634, 5.8};
	concat_render(&b, paths, durs, 2);
	is_str(buf_cstr(&b),
	       "ffconcat version 1.0\nfile '/v/s/chunk_0.mp4'\nduration 10.634000\n"
	       "file '/v/it'\\''s/chunk_1.mp4'\nduration 5.800000\n",
	       "concat: quoted paths with durations");
	buf_reset(&b);
	char *names[] = {"chunk_0.ts", "chunk_1.ts"};
	hls_render(&b, names, durs, 2, 0);
	is_str(buf_cstr(&b),
	       "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:11\n"
	       "#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.634,\nchunk_0.ts\n#EXTINF:5.800,\nchunk_1.ts\n",
	       "hls: growing playlist, target is the longest rounded up");
	buf_reset(&b);
	hls_render(&b, names, durs, 1, 1);
	ok(strstr(buf_cstr(&b), "chunk_0.ts\n#EXT-X-ENDLIST\n") && !strstr(b.data, "chunk_1"), "hls: ended playlist");
	buf_reset(&b);
	hls_render(&b, NULL, NULL, 0, 1);
	ok(strstr(buf_cstr(&b), "#EXT-X-TARGETDURATION:1\n") != NULL, "hls: empty playlist still valid");
	buf_free(&b);
}

static void test_encoding(void)
{
	struct media_info mi = {0};
	struct encoding e;
	mi.has_video = mi.has_audio = 1;
	strcpy(mi.vcodec, "h264");
	strcpy(mi.pix_fmt, "yuv420p");
	mi.width = 1280, mi.height = 720, mi.sample_rate = 44100, mi.channels = 2;
	encoding_choose(&e, &mi, "veryfast", 1);
	ok(!e.copy, "encoding: --transcode re-encodes even H.264");
	encoding_choose(&e, &mi, "veryfast", 0);
	ok(e.copy && !e.even_scale, "encoding: 8-bit 4:2:0 H.264 is copied");
	ok(e.sample_rate == 44100 && e.channels == 2 && e.audio_bitrate == 128000, "encoding: source's usual rate kept");
	strcpy(mi.pix_fmt, "yuv420p10le");
	encoding_choose(&e, &mi, "veryfast", 0);
	ok(!e.copy, "encoding: 10-bit H.264 is transcoded");
	strcpy(mi.vcodec, "mpeg4");
	strcpy(mi.pix_fmt, "yuv420p");
	mi.width = 321, mi.sample_rate = 22050, mi.channels = 1;
	encoding_choose(&e, &mi, "veryfast", 0);
	ok(!e.copy && e.even_scale, "encoding: odd width scaled to even for libx264");
	ok(e.sample_rate == 48000 && e.channels == 1 && e.audio_bitrate == 64000, "encoding: odd rate becomes 48 kHz mono");
	mi.has_audio = 0;
	encoding_choose(&e, &mi, "veryfast", 0);
	ok(e.sample_rate == 48000 && e.channels == 1, "encoding: silent source gets mono 48 kHz");
}

static const char *after(const struct args *a, const char *opt)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (!strcmp(a->v[i], opt))
			return a->v[i + 1];
	return NULL;
}

static int has(const struct args *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return 1;
	return 0;
}

static void test_commands(void)
{
	struct media_info mi = {0};
	struct encoding e;
	struct args a = {0};
	mi.has_video = mi.has_audio = 1;
	strcpy(mi.vcodec, "h264");
	strcpy(mi.pix_fmt, "yuv420p");
	mi.sample_rate = 48000, mi.channels = 1;
	encoding_choose(&e, &mi, "veryfast", 0);
	struct cut c = {"/v/-game.mp4", "/s/speech_0.wav", "/o/.chunk_0.tmp-1-0.mp4", 4, 10.5, 1, 0.2};
	cmd_cut(&a, &e, &c);
	is_str(a.v[0], "ffmpeg", "cut: ffmpeg");
	is_str(after(&a, "-ss"), "4.000000", "cut: seek to the keyframe before -i");
	is_str(after(&a, "-t"), "10.500000", "cut: clip length");
	is_str(after(&a, "-i"), "file:/v/-game.mp4", "cut: source as a file: URL");
	ok(has(&a, "file:/s/speech_0.wav"), "cut: speech input");
	is_str(after(&a, "-filter_complex"),
	       "[0:a:0]volume=0.2[bed];[1:a:0]adelay=1000:all=1[say];"
	       "[bed][say]amix=inputs=2:duration=first:dropout_transition=0:normalize=0,apad[a]",
	       "cut: duck, delay, mix, pad");
	is_str(after(&a, "-c:v"), "copy", "cut: video copied");
	ok(!has(&a, "libx264"), "cut: nothing encodes video");
	is_str(after(&a, "-ar"), "48000", "cut: session's sample rate");
	ok(has(&a, "-shortest") && has(&a, "+faststart"), "cut: audio ends with the video; faststart");
	is_str(a.v[a.n - 1], "file:/o/.chunk_0.tmp-1-0.mp4", "cut: temporary output last");
	args_free(&a);

	strcpy(mi.vcodec, "mpeg4");
	mi.has_audio = 0;
	mi.width = 320, mi.height = 181;
	encoding_choose(&e, &mi, "superfast", 0);
	cmd_cut(&a, &e, &c);
	is_str(after(&a, "-c:v"), "libx264", "transcode: libx264");
	is_str(after(&a, "-preset"), "superfast", "transcode: preset");
	is_str(after(&a, "-filter_complex"),
	       "[1:a:0]adelay=1000:all=1,apad[a];[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2[v]",
	       "no source audio: speech over silence; even size");
	is_str(after(&a, "-map"), "[v]", "transcode: scaled video mapped");
	args_free(&a);

	c.speech = NULL;
	cmd_cut(&a, &e, &c);
	is_str(after(&a, "-filter_complex"), "anullsrc=r=48000:cl=mono[a];[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2[v]",
	       "no audio, no speech: a silent track all the same");
	ok(!has(&a, "file:/s/speech_0.wav"), "no speech: no second input");
	args_free(&a);

	cmd_keyframes(&a, "/v/a.mp4", 0, 13.5);
	is_str(after(&a, "-read_intervals"), "0.000000%13.500000", "keyframes: interval");
	is_str(after(&a, "-show_entries"), "packet=pts_time,flags", "keyframes: packet flags only");
	args_free(&a);
	cmd_segment(&a, "/o/chunk_1.mp4", "/o/.chunk_1.tmp-1-2.ts", 20.634);
	is_str(after(&a, "-output_ts_offset"), "20.634000", "segment: timestamps continue");
	is_str(after(&a, "-f"), "mpegts", "segment: MPEG-TS");
	is_str(after(&a, "-copypriorss:a"), "0", "segment: no audio before the segment's start");
	is_str(after(&a, "-mpegts_flags"), "+initial_discontinuity", "segment: counters restart, and say so");
	args_free(&a);
	cmd_concat(&a, "/o/.concat.txt", "/o/.chapters.txt", "/g/.commentary_s.tmp.mp4");
	ok(has(&a, "concat") && has(&a, "-map_chapters") && !strcmp(after(&a, "-c"), "copy"), "concat: stream copy with chapters");
	args_free(&a);
}

int main(void)
{
	test_mp4();
	test_keyframes();
	test_audio();
	test_session();
	test_probe();
	test_text();
	test_encoding();
	test_commands();
	return done_testing();
}
