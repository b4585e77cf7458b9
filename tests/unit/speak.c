/* Unit tests for speak: the WAV parser, the choices per record, and the
 * stage itself driven through the backend seam by a fake backend that
 * finishes on timers (so order, concurrency, failures, quota and the cache
 * are checked without espeak-ng and without wall-clock assertions). */
#define _GNU_SOURCE
#include "pc.h"
#include "cache.h"
#include "wav.h"
#include "../../speak/speak.h"
#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct speak_backend speak_espeak;
static char scratch[64];
static char err_path[PATH_MAX];   /* what the stage said on stderr */

/* ---- WAV headers ---- */

static size_t wav_bytes(unsigned char *out, int channels, int rate, int bits, uint32_t data_size, size_t samples)
{
	int align = channels * ((bits + 7) / 8);
	uint32_t byte_rate = (uint32_t)(rate * align);
	unsigned char *p = out;
	memcpy(p, "RIFF", 4);
	uint32_t riff = (uint32_t)(36 + samples);
	memcpy(p + 4, &riff, 4);
	memcpy(p + 8, "WAVEfmt ", 8);
	uint32_t fmt_size = 16;
	uint16_t tag = 1, ch = (uint16_t)channels, al = (uint16_t)align, bi = (uint16_t)bits;
	uint32_t r = (uint32_t)rate;
	memcpy(p + 16, &fmt_size, 4);
	memcpy(p + 20, &tag, 2);
	memcpy(p + 22, &ch, 2);
	memcpy(p + 24, &r, 4);
	memcpy(p + 28, &byte_rate, 4);
	memcpy(p + 32, &al, 2);
	memcpy(p + 34, &bi, 2);
	memcpy(p + 36, "data", 4);
	memcpy(p + 40, &data_size, 4);
	memset(p + 44, 0, samples);
	return 44 + samples;
}

static void test_wav(void)
{
	static unsigned char w[44 + 44100];
	struct wav_info wi;
	char err[256];
	size_t n = wav_bytes(w, 1, 22050, 16, 44100, 44100);
	ok(wav_parse(w, n, n, &wi, err, sizeof err) == 0, "wav: espeak-ng's format parses");
	is_num(wi.duration, 1.0, 1e-9, "wav: 44100 bytes of 16-bit mono at 22050 Hz is 1 s");
	ok(wi.format == 1 && wi.channels == 1 && wi.sample_rate == 22050 && wi.bits == 16 && wi.data_offset == 44,
	   "wav: format fields");

	n = wav_bytes(w, 2, 44100, 16, 0xffffffffu, 17640);
	ok(wav_parse(w, n, n, &wi, err, sizeof err) == 0, "wav: streamed size (0xffffffff) accepted");
	is_num(wi.duration, 0.1, 1e-9, "wav: streamed size runs to the end of the file");

	n = wav_bytes(w, 1, 22050, 16, 44100, 1000);
	ok(wav_parse(w, n, n, &wi, err, sizeof err) < 0, "wav: data chunk larger than the file refused");
	ok(strstr(err, "cut off") != NULL, "wav: says it was cut off");
	ok(wav_parse(w, 44, 44 + 44100, &wi, err, sizeof err) == 0, "wav: the head of a longer file is enough");

	n = wav_bytes(w, 1, 22050, 16, 100, 100);
	w[32] = 3;   /* block align 3 for 16-bit mono */
	ok(wav_parse(w, n, n, &wi, err, sizeof err) < 0 && strstr(err, "inconsistent"), "wav: inconsistent block align refused");
	ok(wav_parse("RIFF\0\0\0\0AVI ", 12, 12, &wi, err, sizeof err) < 0 && strstr(err, "not a WAV"), "wav: other RIFF refused");
	ok(wav_parse("RIFF", 4, 4, &wi, err, sizeof err) < 0, "wav: 4 bytes refused");
	n = wav_bytes(w, 1, 22050, 16, 100, 100);
	ok(wav_parse(w, 30, n, &wi, err, sizeof err) < 0 && strstr(err, "fmt chunk cut off"), "wav: fmt cut off");

	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/x.wav", scratch);
	n = wav_bytes(w, 1, 16000, 16, 8000, 8000);
	atomic_write(path, w, n);
	ok(wav_probe(path, &wi, err, sizeof err) == 0, "wav: probe a file");
	is_num(wi.duration, 0.25, 1e-9, "wav: its duration");
	ok(wav_probe("/nonexistent.wav", &wi, err, sizeof err) < 0 && strstr(err, "/nonexistent.wav: "),
	   "wav: missing file names the file");
}

/* ---- choices ---- */

static void test_choices(void)
{
	json_object *rec = json_tokener_parse("{\"type\":\"commentary\",\"wps\":3.5,\"lang\":\"es\"}");
	is_num(speak_rate_for(0, rec), 210, 0, "rate: from the record's wps (3.5 x 60)");
	is_num(speak_rate_for(150, rec), 150, 0, "rate: --rate wins");
	is_str(speak_lang_for(NULL, rec), "es", "lang: the record's");
	is_str(speak_lang_for("pt-BR", rec), "pt-BR", "lang: --lang wins");
	ok(speak_lang_for("en us", rec) == NULL && speak_lang_for("-x", rec) == NULL, "lang: not a tag refused");
	json_object_put(rec);
	rec = json_tokener_parse("{\"type\":\"commentary\",\"wps\":100}");
	is_num(speak_rate_for(0, rec), SPEAK_RATE_MAX, 0, "rate: clamped to espeak-ng's range");
	is_str(speak_lang_for(NULL, rec), "en", "lang: default en");
	json_object_put(rec);
	rec = json_tokener_parse("{\"type\":\"commentary\",\"wps\":\"fast\"}");
	is_num(speak_rate_for(0, rec), SPEAK_RATE_DEFAULT, 0, "rate: default without a usable wps");
	json_object_put(rec);

	char v[SPEAK_VOICE_MAX];
	speak_espeak.voice(NULL, "es", v, sizeof v);
	is_str(v, "es", "espeak voice: the language");
	speak_espeak.voice("+f3", "es", v, sizeof v);
	is_str(v, "es+f3", "espeak voice: a variant of the language");
	speak_espeak.voice("en-us", "es", v, sizeof v);
	is_str(v, "en-us", "espeak voice: --voice as given");

	char k1[65], k2[65];
	struct speak_req req = {.text = "Goal!", .lang = "en", .voice = "en", .rate = 175};
	speak_espeak.key(&req, k1);
	req.rate = 176;
	speak_espeak.key(&req, k2);
	ok(strcmp(k1, k2) != 0, "espeak key: the rate is part of it");
	req.rate = 175;
	req.voice = "en+f3";
	speak_espeak.key(&req, k2);
	ok(strcmp(k1, k2) != 0, "espeak key: the voice is part of it");

	ok(speak_backend_find("espeak") == &speak_espeak, "backends: by name");
	ok(speak_backend_find("auto") != NULL, "backends: auto finds one");
	ok(speak_backend_find("nosuch") == NULL, "backends: unknown name");
}

/* ---- the stage, through a fake backend ---- */

struct fake_call {
	speak_done_fn done;
	void *arg;
	char path[PATH_MAX];
	char text[256];
	int index;
	double seconds;
};

static int fake_running, fake_max_running, fake_calls;
static int fake_finished[64];   /* indexes in the order they finished */
static int fake_finished_n;

static void mp3_write(struct fake_call *c);

/* The text says what to do: "i=N d=SECONDS [FAIL|QUOTA|GONE|EMPTY]"; a
 * request for an .mp3 gets mp3_write's file. */
static void fake_finish(struct loop *l, void *arg)
{
	struct fake_call *c = arg;
	(void)l;
	fake_running--;
	fake_finished[fake_finished_n++ % 64] = c->index;
	if (strstr(c->text, "FAIL"))
		c->done(c->arg, SPEAK_FAILED, "fake: refused");
	else if (strstr(c->text, "QUOTA"))
		c->done(c->arg, SPEAK_QUOTA, "fake: quota_exceeded");
	else if (strstr(c->text, "GONE"))
		c->done(c->arg, SPEAK_UNAVAILABLE, "fake: not installed");
	else if (strstr(c->path, ".mp3")) {
		mp3_write(c);
		c->done(c->arg, SPEAK_OK, NULL);
	} else {
		unsigned char w[44 + 22050];
		int empty = strstr(c->text, "EMPTY") != NULL;
		size_t n = wav_bytes(w, 1, 22050, 16, empty ? 0 : 22050, empty ? 0 : 22050);
		atomic_write(c->path, w, n);
		c->done(c->arg, SPEAK_OK, NULL);
	}
	free(c);
}

static void fake_voice(const char *opt, const char *lang, char *out, size_t n)
{
	snprintf(out, n, "%s-%s", opt ? opt : "fake", lang);
}

static void fake_key(const struct speak_req *req, char out[65])
{
	cache_key(out, "fake", req->voice, req->text, NULL);
}

static void fake_start(struct loop *l, const struct speak_req *req, speak_done_fn done, void *arg)
{
	struct fake_call *c = pc_xcalloc(1, sizeof *c);
	c->done = done;
	c->arg = arg;
	snprintf(c->path, sizeof c->path, "%s", req->path);
	snprintf(c->text, sizeof c->text, "%s", req->text);
	sscanf(req->text, "i=%d d=%lf", &c->index, &c->seconds);
	fake_calls++;
	if (++fake_running > fake_max_running)
		fake_max_running = fake_running;
	loop_add_timer(l, pc_now() + c->seconds, fake_finish, c);
}

static const struct speak_backend fake_backend = {
	.name = "fake", .ext = "wav", .voice = fake_voice, .key = fake_key, .start = fake_start,
};

/* Run the stage over input; returns its output records (an array). */
static json_object *run_stage_with(const struct speak_backend *be, const char *input, int jobs, int use_cache, int *rc)
{
	char out_path[PATH_MAX];
	int p[2];
	if (pipe(p) < 0)
		abort();
	if (write(p[1], input, strlen(input)) != (ssize_t)strlen(input))
		abort();
	close(p[1]);
	snprintf(out_path, sizeof out_path, "%s/stdout", scratch);
	fflush(stdout);
	int saved = dup(1), saved_err = dup(2);
	int fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	/* The stage's one-line messages: kept out of the TAP stream. */
	snprintf(err_path, sizeof err_path, "%s/stderr", scratch);
	fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(fd, 2);
	close(fd);

	fake_running = fake_max_running = fake_calls = fake_finished_n = 0;
	struct speak_cfg cfg = {.backend = be, .jobs = jobs, .use_cache = use_cache, .timeout = 10};
	struct loop *l = loop_new();
	struct speak_stage *st = speak_new(l, &cfg);
	*rc = speak_run(st, p[0], "in");
	speak_free(st);
	loop_free(l);
	close(p[0]);

	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	dup2(saved_err, 2);
	close(saved_err);
	json_object *recs = json_object_new_array();
	FILE *fp = fopen(out_path, "r");
	char line[8192];
	while (fp && fgets(line, sizeof line, fp))
		json_object_array_add(recs, json_tokener_parse(line));
	if (fp)
		fclose(fp);
	return recs;
}

static json_object *run_stage(const char *input, int jobs, int use_cache, int *rc)
{
	return run_stage_with(&fake_backend, input, jobs, use_cache, rc);
}

/* "type:index" of each record, e.g. "audio:0 audio:1 session_end". */
static const char *shape(json_object *recs, const char *session)
{
	static char s[2048];
	s[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *sid = rec_str(r, "session");
		if (session && (!sid || strcmp(sid, session)))
			continue;
		long idx;
		size_t len = strlen(s);
		if (rec_int(r, "index", &idx) == 0)
			snprintf(s + len, sizeof s - len, "%s%s:%ld", len ? " " : "", rec_type(r), idx);
		else
			snprintf(s + len, sizeof s - len, "%s%s", len ? " " : "", rec_type(r));
	}
	return s;
}

static json_object *find(json_object *recs, const char *type, const char *session, long index)
{
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		long idx = -1;
		rec_int(r, "index", &idx);
		if (!strcmp(rec_type(r), type) && (!session || (rec_str(r, "session") && !strcmp(rec_str(r, "session"), session))) &&
		    idx == index)
			return r;
	}
	return NULL;
}

static void commentary_line(struct buf *b, const char *sid, int index, double delay, const char *extra)
{
	buf_printf(b, "{\"type\":\"commentary\",\"session\":\"%s\",\"index\":%d,\"start\":%d,\"end\":%d,"
		      "\"text\":\"i=%d d=%g %s\",\"events\":[],\"backend\":\"local\",\"wps\":2.9,\"lang\":\"en\"}\n",
		   sid, index, index * 10, index * 10 + 9, index, delay, extra);
}

static void test_order_and_concurrency(void)
{
	struct buf in = {0};
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"s1\",\"dir\":\"%s/s1\"}\n", scratch);
	/* Earlier ones slower: they finish last, yet leave first. */
	for (int i = 0; i < 10; i++)
		commentary_line(&in, "s1", i, i < 5 ? 0.25 - i * 0.04 : 0.02, "");
	buf_puts(&in, "{\"type\":\"session_end\",\"session\":\"s1\"}\n");
	int rc;
	json_object *recs = run_stage(buf_cstr(&in), 5, 0, &rc);
	is_num(rc, 0, 0, "stage: exit 0");
	is_str(shape(recs, NULL), "session audio:0 audio:1 audio:2 audio:3 audio:4 audio:5 audio:6 audio:7 audio:8 audio:9 session_end",
	       "stage: audio in index order, session_end last");
	is_num(fake_max_running, 5, 0, "stage: 5 syntheses at once with --jobs 5, never more");
	is_num(fake_calls, 10, 0, "stage: one synthesis per commentary");
	ok(fake_finished[0] != 0, "stage: the syntheses really finished out of order");
	json_object *a = find(recs, "audio", "s1", 3);
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/s1/speech_3.wav", scratch);
	is_str(rec_str(a, "path"), want, "stage: speech in the session record's dir, speech_<index>.wav");
	double d = 0;
	rec_num(a, "speech_duration", &d);
	is_num(d, 0.5, 1e-9, "stage: speech_duration measured from the file");
	is_str(rec_str(a, "speech_backend"), "fake", "stage: speech_backend");
	is_str(rec_str(a, "voice"), "fake-en", "stage: voice from the backend for the record's lang");
	is_str(rec_str(a, "backend"), "local", "stage: the commentary's fields kept");
	json_object_put(recs);
	buf_free(&in);

	buf_printf(&in, "{\"type\":\"session\",\"session\":\"s1\",\"dir\":\"%s/s1\"}\n", scratch);
	for (int i = 0; i < 4; i++)
		commentary_line(&in, "s1", i, 0.01, "");
	recs = run_stage(buf_cstr(&in), 1, 0, &rc);
	is_num(fake_max_running, 1, 0, "stage: --jobs 1 is one at a time");
	is_str(shape(recs, NULL), "session audio:0 audio:1 audio:2 audio:3", "stage: no session_end, all out at the end of input");
	json_object_put(recs);
	buf_free(&in);
}

static void test_sessions_interleaved(void)
{
	struct buf in = {0};
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"A\",\"dir\":\"%s/A\"}\n", scratch);
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"B\",\"dir\":\"%s/B\"}\n", scratch);
	commentary_line(&in, "A", 0, 0.3, "");
	commentary_line(&in, "B", 0, 0.01, "");
	buf_puts(&in, "{\"type\":\"status\",\"session\":\"A\",\"stage\":\"detect\",\"message\":\"a1\"}\n");
	buf_puts(&in, "{\"type\":\"status\",\"stage\":\"detect\",\"message\":\"nosession\"}\n");
	commentary_line(&in, "B", 1, 0.01, "");
	buf_puts(&in, "{\"type\":\"session_end\",\"session\":\"B\"}\n");
	commentary_line(&in, "A", 1, 0.01, "");
	buf_puts(&in, "{\"type\":\"mystery\",\"session\":\"A\",\"x\":[1,2]}\n");
	buf_puts(&in, "{\"type\":\"session_end\",\"session\":\"A\"}\n");
	int rc;
	json_object *recs = run_stage(buf_cstr(&in), 5, 0, &rc);
	is_str(shape(recs, "A"), "session audio:0 status audio:1 mystery session_end", "sessions: A in its own order");
	is_str(shape(recs, "B"), "session audio:0 audio:1 session_end", "sessions: B in its own order");
	/* B is not held up by A's slow first speech. */
	const char *all = shape(recs, NULL);
	const char *b_end = strstr(all, "session_end"), *a_audio0 = NULL;
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		if (!strcmp(rec_type(r), "session_end")) {
			is_str(rec_str(r, "session"), "B", "sessions: B's session_end leaves before A's");
			break;
		}
		if (!strcmp(rec_type(r), "audio") && !strcmp(rec_str(r, "session"), "A"))
			a_audio0 = "seen";
	}
	ok(b_end && a_audio0 == NULL, "sessions: B finishes while A's first speech is still being made");
	ok(find(recs, "status", NULL, -1) && !strcmp(rec_str(json_object_array_get_idx(recs, 2), "message"), "nosession"),
	   "sessions: a record without a session passes at once");
	json_object *m = NULL;
	for (size_t i = 0; i < json_object_array_length(recs); i++)
		if (!strcmp(rec_type(json_object_array_get_idx(recs, i)), "mystery"))
			m = json_object_array_get_idx(recs, i);
	is_str(m ? json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN) : NULL,
	       "{\"type\":\"mystery\",\"session\":\"A\",\"x\":[1,2]}", "sessions: unknown record passes unchanged");
	json_object_put(recs);
	buf_free(&in);
}

static void test_failures(void)
{
	struct buf in = {0};
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"F\",\"dir\":\"%s/F\"}\n", scratch);
	commentary_line(&in, "F", 0, 0.01, "FAIL");
	commentary_line(&in, "F", 1, 0.01, "");
	commentary_line(&in, "F", 2, 0.01, "QUOTA");
	commentary_line(&in, "F", 3, 0.01, "EMPTY");
	commentary_line(&in, "F", 4, 0.01, "GONE");
	commentary_line(&in, "F", 5, 0.01, "GONE");
	buf_puts(&in, "{\"type\":\"commentary\",\"session\":\"F\",\"index\":6,\"text\":\"   \"}\n");
	buf_puts(&in, "{\"type\":\"commentary\",\"session\":\"F\",\"index\":7}\n");
	buf_puts(&in, "{\"type\":\"commentary\",\"session\":\"F\",\"index\":\"x\",\"text\":\"hi\"}\n");
	buf_puts(&in, "{\"type\":\"commentary\",\"session\":\"../evil\",\"index\":1,\"text\":\"hi\"}\n");
	buf_puts(&in, "{\"type\":\"commentary\",\"session\":\"F\",\"index\":8,\"text\":\"hi\",\"lang\":\"e n\"}\n");
	buf_puts(&in, "{\"type\":\"session_end\",\"session\":\"F\"}\n");
	int rc;
	json_object *recs = run_stage(buf_cstr(&in), 5, 0, &rc);
	is_num(rc, 0, 0, "failures: exit 0 (they degrade)");
	is_str(shape(recs, "F"),
	       "session error:0 audio:0 audio:1 status audio:2 error:3 audio:3 error:4 audio:4 error:5 audio:5 audio:6 error:7 audio:7 error error:8 audio:8 session_end",
	       "failures: error before each null audio, in order, stream goes on");
	json_object *a0 = find(recs, "audio", "F", 0), *e0 = find(recs, "error", "F", 0);
	ok(a0 && json_object_object_get(a0, "path") == NULL && json_object_object_get_ex(a0, "path", NULL),
	   "failures: failed speech has path null");
	is_str(rec_str(e0, "message"), "no speech for highlight 0: fake: refused", "failures: error names the index and why");
	ok(rec_str(find(recs, "audio", "F", 1), "path") != NULL, "failures: the next one still speaks");
	json_object *st = NULL;
	for (size_t i = 0; i < json_object_array_length(recs); i++)
		if (!strcmp(rec_type(json_object_array_get_idx(recs, i)), "status"))
			st = json_object_array_get_idx(recs, i);
	ok(st && strstr(rec_str(st, "message"), "quota_exceeded") && strstr(rec_str(st, "message"), "highlight 2"),
	   "failures: quota is a status naming the highlight");
	ok(rec_str(find(recs, "audio", "F", 2), "path") == NULL, "failures: quota gives path null");
	ok(strstr(rec_str(find(recs, "error", "F", 3), "message"), "no samples") != NULL,
	   "failures: a WAV without samples is not speech");
	ok(rec_str(find(recs, "audio", "F", 6), "path") == NULL && !find(recs, "error", "F", 6),
	   "failures: blank text is no speech and no error");
	is_str(rec_str(find(recs, "error", "F", 7), "input"), "in:9", "failures: missing text names the input line");
	ok(strstr(rec_str(find(recs, "error", "F", 8), "message"), "not a language tag") != NULL, "failures: bad lang refused");
	char tmpcheck[PATH_MAX + 64];
	snprintf(tmpcheck, sizeof tmpcheck, "ls -A '%s/F' | grep -q tmp", scratch);
	ok(system(tmpcheck) != 0, "failures: no temporary files left in the session folder");
	int has_evil = 0;
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		if (!strcmp(rec_type(r), "error") && !rec_str(r, "session") && rec_str(r, "input") &&
		    !strcmp(rec_str(r, "input"), "in:11"))
			has_evil = 1;
	}
	ok(has_evil, "failures: an unsafe session id is an error naming the line");
	char said[8192] = "";
	FILE *fp = fopen(err_path, "r");
	size_t got = fp ? fread(said, 1, sizeof said - 1, fp) : 0;
	said[got] = '\0';
	if (fp)
		fclose(fp);
	ok(strstr(said, "speak: F: no speech for highlight 0: fake: refused\n") != NULL, "failures: one line on stderr per failure");
	char *first = strstr(said, "fake: not installed"), *again = first ? strstr(first + 1, "fake: not installed") : NULL;
	ok(first && !again, "failures: an unavailable backend is said once on stderr");
	json_object_put(recs);
	buf_free(&in);
}

static void test_cache(void)
{
	char cache_root[PATH_MAX];
	snprintf(cache_root, sizeof cache_root, "%s/cache", scratch);
	setenv("XDG_CACHE_HOME", cache_root, 1);
	struct buf in = {0};
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"C\",\"dir\":\"%s/C\"}\n", scratch);
	for (int i = 0; i < 3; i++)
		commentary_line(&in, "C", i, 0.01, "");
	int rc;
	json_object *recs = run_stage(buf_cstr(&in), 5, 1, &rc);
	is_num(fake_calls, 3, 0, "cache: first run synthesises");
	json_object_put(recs);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/C/speech_1.wav", scratch);
	unlink(path);
	recs = run_stage(buf_cstr(&in), 5, 1, &rc);
	is_num(fake_calls, 0, 0, "cache: second run synthesises nothing");
	is_str(shape(recs, NULL), "session audio:0 audio:1 audio:2", "cache: all audio records still there");
	struct stat stt;
	ok(stat(path, &stt) == 0 && stt.st_size > 44, "cache: the speech file is back in the session folder");
	double d = 0;
	rec_num(find(recs, "audio", "C", 1), "speech_duration", &d);
	is_num(d, 0.5, 1e-9, "cache: duration measured on a hit too");
	json_object_put(recs);
	recs = run_stage(buf_cstr(&in), 5, 0, &rc);
	is_num(fake_calls, 3, 0, "cache: bypassed when off");
	json_object_put(recs);
	/* A damaged entry is made again. */
	char key[65], entry[PATH_MAX];
	cache_key(key, "fake", "fake-en", "i=0 d=0.01 ", NULL);
	ok(cache_lookup(SPEAK_CACHE_KIND, key, "wav", entry, sizeof entry) == 1, "cache: entry keyed by the backend's parts");
	atomic_write(entry, "RIFFjunk", 8);
	recs = run_stage(buf_cstr(&in), 5, 1, &rc);
	is_num(fake_calls, 1, 0, "cache: a damaged entry is spoken again");
	ok(rec_str(find(recs, "audio", "C", 0), "path") != NULL, "cache: and the record has its speech");
	json_object_put(recs);
	buf_free(&in);
	unsetenv("XDG_CACHE_HOME");
}

/* A backend writing mp3 (as the cloud ones do): speak measures it with
 * ffprobe on the loop. */
static char mp3_src[PATH_MAX];

static void mp3_write(struct fake_call *c)
{
	struct buf b = {0};
	FILE *fp = fopen(strstr(c->text, "GARBAGE") ? "/dev/null" : mp3_src, "rb");
	char chunk[4096];
	size_t n;
	while (fp && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, n);
	if (fp)
		fclose(fp);
	if (strstr(c->text, "GARBAGE"))
		buf_puts(&b, "this is no mp3 at all");
	atomic_write(c->path, b.data, b.len);
	buf_free(&b);
}

static const struct speak_backend mp3_backend = {
	.name = "mp3fake", .ext = "mp3", .voice = fake_voice, .key = fake_key, .start = fake_start,
};

static void test_mp3(void)
{
	char cmd[PATH_MAX + 200];
	snprintf(mp3_src, sizeof mp3_src, "%s/src.mp3", scratch);
	snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -y -f lavfi -i sine=duration=1.5 -c:a libmp3lame '%s'", mp3_src);
	if (system(cmd) != 0) {
		ok(1, "mp3: # SKIP ffmpeg cannot make an mp3");
		return;
	}
	struct buf in = {0};
	buf_printf(&in, "{\"type\":\"session\",\"session\":\"M3\",\"dir\":\"%s/M3\"}\n", scratch);
	commentary_line(&in, "M3", 0, 0, "");
	commentary_line(&in, "M3", 1, 0, "GARBAGE");
	commentary_line(&in, "M3", 2, 0, "");
	int rc;
	json_object *recs = run_stage_with(&mp3_backend, buf_cstr(&in), 5, 0, &rc);
	is_str(shape(recs, NULL), "session audio:0 error:1 audio:1 audio:2", "mp3: measured off the loop, still in order");
	json_object *a = find(recs, "audio", "M3", 0);
	double d = 0;
	rec_num(a, "speech_duration", &d);
	is_num(d, 1.5, 0.08, "mp3: speech_duration from ffprobe");
	ok(a && strstr(rec_str(a, "path"), "/M3/speech_0.mp3"), "mp3: the backend's extension");
	ok(strstr(rec_str(find(recs, "error", "M3", 1), "message"), "mp3fake wrote no usable speech: ffprobe: ") != NULL,
	   "mp3: a file ffprobe cannot read is no speech");
	ok(rec_str(find(recs, "audio", "M3", 1), "path") == NULL, "mp3: and has path null");
	json_object_put(recs);
	buf_free(&in);
}

int main(void)
{
	snprintf(scratch, sizeof scratch, "/tmp/pc-speak-unit-XXXXXX");
	if (!mkdtemp(scratch))
		return 1;
	pc_prog = "speak";
	out_set_json(1);
	test_wav();
	test_choices();
	test_order_and_concurrency();
	test_sessions_interleaved();
	test_failures();
	test_cache();
	test_mp3();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
