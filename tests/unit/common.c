/* Unit tests for common/: each helper the tools share. */
#define _GNU_SOURCE
#include "pc.h"
#include "tap.h"
#include "media.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[64];

static void test_clock(void)
{
	char b[16];
	is_str(pc_clock(0, b, sizeof b), "00:00:00", "clock: zero");
	is_str(pc_clock(23.9, b, sizeof b), "00:00:23", "clock: floors fractions");
	is_str(pc_clock(3725, b, sizeof b), "01:02:05", "clock: hours");
	is_str(pc_clock(-4, b, sizeof b), "00:00:00", "clock: negative clamps");
	is_str(pc_clock(0.0 / 0.0, b, sizeof b), "00:00:00", "clock: NaN clamps");
	is_num(pc_parse_clock("00:01:02.5"), 62.5, 1e-9, "parse clock HH:MM:SS.f");
	is_num(pc_parse_clock("1:30"), 90, 1e-9, "parse clock MM:SS");
	is_num(pc_parse_clock("42"), 42, 1e-9, "parse clock plain seconds");
	ok(pc_parse_clock("1:75") < 0, "parse clock rejects 75 seconds");
	ok(pc_parse_clock("1:2:3:4") < 0, "parse clock rejects four fields");
	ok(pc_parse_clock("x") < 0 && pc_parse_clock("") < 0 && pc_parse_clock("1.") < 0, "parse clock rejects junk");
}

static struct nd_reader reader_on(const char *text, int *fdkeep)
{
	int p[2];
	if (pipe(p) < 0)
		abort();
	ssize_t w = write(p[1], text, strlen(text));
	(void)w;
	close(p[1]);
	struct nd_reader r;
	nd_init(&r, p[0], "in.ndjson");
	*fdkeep = p[0];
	return r;
}

static void test_ndjson(void)
{
	int fd;
	char err[256];
	json_object *rec;
	struct nd_reader r = reader_on("{\"type\":\"a\"}\n\n  \nnot json\n{\"x\":1}\n[1]\n{\"type\":\"b\"} x\n{\"type\":\"c\"}", &fd);
	is_num(nd_read(&r, &rec, err, sizeof err), ND_RECORD, 0, "ndjson: first record");
	is_str(rec_type(rec), "a", "ndjson: its type");
	json_object_put(rec);
	is_num(nd_read(&r, &rec, err, sizeof err), ND_BAD, 0, "ndjson: bad line after blank lines");

	is_str(strncmp(err, "in.ndjson:4: not JSON", 21) ? err : "in.ndjson:4: not JSON", "in.ndjson:4: not JSON", "ndjson: error names input and line 4");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_BAD, 0, "ndjson: object without type");
	is_str(err, "in.ndjson:5: record has no string \"type\"", "ndjson: says what is missing");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_BAD, 0, "ndjson: array is not a record");
	is_str(err, "in.ndjson:6: record is not a JSON object", "ndjson: says it is not an object");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_BAD, 0, "ndjson: trailing text");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_RECORD, 0, "ndjson: last line without newline");
	is_str(rec_type(rec), "c", "ndjson: its type");
	is_num(r.line, 8, 0, "ndjson: line count");
	json_object_put(rec);
	is_num(nd_read(&r, &rec, err, sizeof err), ND_EOF, 0, "ndjson: end");
	nd_free(&r);
	close(fd);

	setenv("PLAYCALL_MAX_LINE", "64", 1);
	char big[400];
	snprintf(big, sizeof big, "{\"type\":\"x\",\"pad\":\"%0200d\"}\n{\"type\":\"ok\"}\n", 0);
	r = reader_on(big, &fd);
	unsetenv("PLAYCALL_MAX_LINE");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_BAD, 0, "ndjson: over-long line refused");
	is_str(err, "in.ndjson:1: line longer than 64 bytes", "ndjson: over-long message");
	is_num(nd_read(&r, &rec, err, sizeof err), ND_RECORD, 0, "ndjson: next line still read");
	is_num(r.line, 2, 0, "ndjson: line numbers stay right after an over-long line");
	json_object_put(rec);
	nd_free(&r);
	close(fd);

	rec = nd_parse_record("{\"type\":\"a\\u0000\"}", 18, err, sizeof err);
	ok(rec && json_object_get_string_len(json_object_object_get(rec, "type")) == 2, "ndjson: escaped NUL kept inside the string");
	json_object_put(rec);
	ok(nd_parse_record("{\"type\":\"a\"}\0x", 14, err, sizeof err) == NULL, "ndjson: raw NUL refused");
	ok(nd_parse_record("{\"type\":\"\"}", 11, err, sizeof err) == NULL, "ndjson: empty type refused");
	ok(nd_parse_record("{\"type\":\"a\"", 11, err, sizeof err) == NULL, "ndjson: truncated object refused");
}

static void test_records(void)
{
	json_object *rec = rec_new("events", "s1");
	rec_set_num(rec, "start", 23.4);
	rec_set_num(rec, "end", 1.0 / 3.0);
	rec_set_int(rec, "index", 3);
	rec_set_str(rec, "path", NULL);
	is_str(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
	       "{\"type\":\"events\",\"session\":\"s1\",\"start\":23.4,\"end\":0.333,\"index\":3,\"path\":null}",
	       "records: numbers to the millisecond, null for NULL");
	long idx;
	double d;
	ok(rec_int(rec, "index", &idx) == 0 && idx == 3, "records: rec_int");
	ok(rec_int(rec, "start", &idx) < 0, "records: rec_int refuses 23.4");
	ok(rec_num(rec, "path", &d) < 0 && rec_str(rec, "path") == NULL, "records: null is neither");
	struct buf b = {0};
	rec_human(rec, &b);
	is_str(buf_cstr(&b), "interval 3 [00:00:23-00:00:00]", "records: human view");
	buf_free(&b);
	json_object_put(rec);
	pc_prog = "unit";
	rec = rec_error("s2", 4, "stdin:3", "bad");
	is_str(json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
	       "{\"type\":\"error\",\"session\":\"s2\",\"stage\":\"unit\",\"message\":\"bad\",\"index\":4,\"input\":\"stdin:3\"}",
	       "records: error record fields");
	json_object_put(rec);
	rec = rec_status(NULL, 150, "x");
	ok(rec_int(rec, "progress", &idx) == 0 && idx == 100, "records: progress capped at 100");
	json_object_put(rec);
}

static void test_config(void)
{
	char path[PATH_MAX], *v, err[256];
	unsetenv("PC_T_KEY");
	unsetenv("PC_T_KEY_FILE");
	ok(cfg_lookup("PC_T_KEY", &v, err, sizeof err) == 0 && v == NULL, "config: unset is NULL");
	setenv("PC_T_KEY", "abc", 1);
	ok(cfg_lookup("PC_T_KEY", &v, err, sizeof err) == 0 && v && !strcmp(v, "abc"), "config: from NAME");
	free(v);
	unsetenv("PC_T_KEY");
	snprintf(path, sizeof path, "%s/key", scratch);
	atomic_write(path, "from-file\n\n", 11);
	setenv("PC_T_KEY_FILE", path, 1);
	ok(cfg_lookup("PC_T_KEY", &v, err, sizeof err) == 0 && v && !strcmp(v, "from-file"), "config: from NAME_FILE, newline trimmed");
	free(v);
	setenv("PC_T_KEY_FILE", "/nonexistent/key", 1);
	ok(cfg_lookup("PC_T_KEY", &v, err, sizeof err) < 0, "config: unreadable NAME_FILE is an error");
	is_str(err, "PC_T_KEY_FILE: /nonexistent/key: No such file or directory", "config: error names the variable and file");
	unsetenv("PC_T_KEY_FILE");
	char msg[128] = "bad key sk-secret123 in url ?key=sk-secret123";
	cfg_redact(msg, sizeof msg, "sk-secret123");
	is_str(msg, "bad key *** in url ?key=***", "config: redact every occurrence");
}

static void test_session(void)
{
	ok(sess_id_valid("session_20250116_143022"), "session: seed id valid");
	ok(!sess_id_valid("../x") && !sess_id_valid(".hidden") && !sess_id_valid("a/b") && !sess_id_valid(""),
	   "session: traversal, hidden, slash, empty refused");
	char a[64], b[64];
	sess_new_id(a, sizeof a);
	sess_new_id(b, sizeof b);
	ok(sess_id_valid(a) && strcmp(a, b), "session: new ids valid and distinct");
	struct sess_table t = {.data_size = sizeof(int)};
	int *x = sess_get(&t, "one");
	*x = 5;
	ok(sess_get(&t, "one") == x && *(int *)sess_find(&t, "one") == 5, "session: state kept per id");
	ok(sess_find(&t, "two") == NULL, "session: find does not create");
	sess_get(&t, "two");
	sess_drop(&t, "one");
	ok(sess_find(&t, "one") == NULL && sess_find(&t, "two") != NULL, "session: drop one keeps others");
	sess_free_all(&t);
	pc_set_out_root("/srv/out/");
	char d[PATH_MAX];
	is_str(sess_dir("s1", d, sizeof d), "/srv/out/streaming/s1", "session: folder under the output root");
}

/* Capture what out_record writes to stdout. */
static int capture_begin(int *saved)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/stdout", scratch);
	fflush(stdout);
	*saved = dup(1);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	return 0;
}

static char *capture_end(int saved)
{
	static char text[4096];
	char path[PATH_MAX];
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	snprintf(path, sizeof path, "%s/stdout", scratch);
	FILE *fp = fopen(path, "r");
	size_t n = fread(text, 1, sizeof text - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static void test_outq(void)
{
	int saved;
	out_set_json(1);
	struct outq q = {0};
	capture_begin(&saved);
	struct outq_item *a = outq_push(&q);
	struct outq_item *b = outq_push(&q);
	outq_push_record(&q, rec_new("session_end", "s"));
	outq_add(b, rec_new("b", "s"));
	outq_ready(b);
	int early = outq_flush(&q);
	outq_add(a, rec_new("a1", "s"));
	outq_add(a, rec_new("a2", "s"));
	outq_ready(a);
	int later = outq_flush(&q);
	char *text = capture_end(saved);
	is_num(early, 0, 0, "outq: nothing leaves before the first is ready");
	is_num(later, 3, 0, "outq: then all three items leave");
	is_str(text,
	       "{\"type\":\"a1\",\"session\":\"s\"}\n{\"type\":\"a2\",\"session\":\"s\"}\n"
	       "{\"type\":\"b\",\"session\":\"s\"}\n{\"type\":\"session_end\",\"session\":\"s\"}\n",
	       "outq: in push order, session_end last");
	ok(outq_empty(&q), "outq: empty after flush");
}

static void test_atomic(void)
{
	char final[PATH_MAX], tmp[PATH_MAX];
	snprintf(final, sizeof final, "%s/chunk_0.mp4", scratch);
	ok(tmp_path(final, tmp, sizeof tmp) == 0, "atomic: tmp path");
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/.chunk_0.tmp-", scratch);
	ok(!strncmp(tmp, want, strlen(want)) && !strcmp(tmp + strlen(tmp) - 4, ".mp4"),
	   "atomic: hidden, same folder, extension kept (%s)", tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT, 0644);
	close(fd);
	struct stat st;
	ok(stat(final, &st) < 0, "atomic: final absent while writing");
	ok(tmp_commit(tmp, final) == 0 && stat(final, &st) == 0 && stat(tmp, &st) < 0, "atomic: commit renames");
	tmp_path(final, tmp, sizeof tmp);
	fd = open(tmp, O_WRONLY | O_CREAT, 0644);
	close(fd);
	tmp_abort(tmp);
	ok(stat(tmp, &st) < 0, "atomic: abort removes");
	snprintf(final, sizeof final, "%s/nodir/x.txt", scratch);
	ok(atomic_write(final, "x", 1) < 0, "atomic: write into a missing folder fails");
	snprintf(final, sizeof final, "%s/a/b/c", scratch);
	ok(pc_mkdirs(final) == 0 && stat(final, &st) == 0 && S_ISDIR(st.st_mode), "mkdirs: nested");
}

/* Alive and not a zombie (an orphan may wait unreaped for a while). */
static int process_alive(int pid)
{
	char path[64], stat[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	size_t n = fread(stat, 1, sizeof stat - 1, fp);
	fclose(fp);
	stat[n] = '\0';
	char *close_paren = strrchr(stat, ')');
	return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

static void test_proc(void)
{
	struct proc p;
	struct buf out = {0};
	char line[256];
	char *echo[] = {"sh", "-c", "echo out; echo first >&2; echo 'last words' >&2; exit 3", NULL};
	is_num(proc_run(&p, echo, &out, 5000), 3, 0, "proc: exit code");
	is_str(buf_cstr(&out), "out\n", "proc: stdout captured");
	is_str(proc_err_line(&p, line, sizeof line), "last words", "proc: last stderr line");
	buf_free(&out);
	char *missing[] = {"playcall-no-such-binary", NULL};
	is_num(proc_run(&p, missing, NULL, 1000), -1, 0, "proc: missing binary");
	is_str(p.err, "playcall-no-such-binary: No such file or directory", "proc: says why");
	/* The grandchild (sleep) must die with the group on timeout. */
	char pidfile[PATH_MAX], cmd[PATH_MAX + 64];
	snprintf(pidfile, sizeof pidfile, "%s/gc.pid", scratch);
	snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; wait", pidfile);
	char *slow[] = {"sh", "-c", cmd, NULL};
	double t0 = pc_now();
	is_num(proc_run(&p, slow, NULL, 300), -2, 0, "proc: timeout reported");
	ok(pc_now() - t0 < 5, "proc: timeout returns promptly");
	FILE *fp = fopen(pidfile, "r");
	int gc = 0;
	if (fp) {
		if (fscanf(fp, "%d", &gc) != 1)
			gc = 0;
		fclose(fp);
	}
	usleep(100000);
	ok(gc > 0 && !process_alive(gc), "proc: timeout killed the whole group");
	char sbuf[64];
	is_str(proc_status_str(137, sbuf, sizeof sbuf), "killed by signal 9", "proc: status text");
}

static int ap_status = -100, timer_hits;
static char ap_out[64];
static void on_ap(struct aproc *ap, int status, void *arg)
{
	(void)arg;
	ap_status = status;
	snprintf(ap_out, sizeof ap_out, "%s", buf_cstr(&ap->out));
}
static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	timer_hits += *(int *)arg;
}

static void test_loop(void)
{
	struct loop *l = loop_new();
	int one = 1, ten = 10;
	loop_add_timer(l, pc_now() + 0.05, on_timer, &ten);
	loop_add_timer(l, pc_now() + 0.01, on_timer, &one);
	char *argv[] = {"sh", "-c", "echo hello; exit 4", NULL};
	aproc_start(l, argv, 0, 5, on_ap, NULL);
	double t0 = pc_now();
	while (!loop_idle(l) && pc_now() - t0 < 5)
		loop_run_once(l, 100);
	is_num(ap_status, 4, 0, "aproc: exit status through the loop");
	is_str(ap_out, "hello\n", "aproc: stdout collected");
	is_num(timer_hits, 11, 0, "loop: both timers fired");
	char *missing[] = {"playcall-no-such-binary", NULL};
	ap_status = -100;
	aproc_start(l, missing, PROC_STDOUT_NULL, 5, on_ap, NULL);
	while (!loop_idle(l) && pc_now() - t0 < 5)
		loop_run_once(l, 100);
	is_num(ap_status, -1, 0, "aproc: a missing binary reports -1 via the callback");
	char *slow[] = {"sleep", "20", NULL};
	aproc_start(l, slow, 0, 0.2, on_ap, NULL);
	ap_status = -100;
	while (!loop_idle(l) && pc_now() - t0 < 10)
		loop_run_once(l, 100);
	is_num(ap_status, -2, 0, "aproc: timeout");
	is_num(aproc_running(), 0, 0, "aproc: none left");
	loop_free(l);
}

/* aproc_stream: stdout handed over while the child runs, not gathered. */
static struct buf streamed;
static int stream_chunks, stream_status = -100;
static size_t stream_kept;
static void on_stream_out(struct aproc *ap, const char *data, size_t len, void *arg)
{
	(void)ap;
	(void)arg;
	buf_append(&streamed, data, len);
	stream_chunks++;
}
static void on_stream_done(struct aproc *ap, int status, void *arg)
{
	(void)arg;
	stream_status = status;
	stream_kept = ap->out.len;
}

static void run_stream(const char *script, double idle)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct loop *l = loop_new();
	buf_reset(&streamed);
	stream_chunks = 0;
	stream_status = -100;
	aproc_stream(l, argv, idle, on_stream_out, on_stream_done, NULL);
	while (!loop_idle(l))
		loop_run_once(l, 1000);
	loop_free(l);
}

static void test_stream(void)
{
	run_stream("printf one; sleep 0.5; printf two; exit 5", 0);
	is_str(buf_cstr(&streamed), "onetwo", "aproc_stream: all of stdout, through on_out");
	is_num(stream_chunks, 2, 0, "aproc_stream: as it came, in two pieces");
	is_num(stream_kept, 0, 0, "aproc_stream: nothing gathered in out");
	is_num(stream_status, 5, 0, "aproc_stream: the exit status");
	run_stream("echo started; exec sleep 10", 0.3);
	is_num(stream_status, -2, 0, "aproc_stream: a child silent past the idle timeout is killed");
	run_stream("for i in 1 2 3 4 5 6; do echo $i >&2; sleep 0.2; done", 0.8);
	is_num(stream_status, 0, 0, "aproc_stream: output on stderr keeps it alive too");
	char *missing[] = {"playcall-no-such-binary", NULL};
	struct loop *l = loop_new();
	stream_status = -100;
	aproc_stream(l, missing, 1, on_stream_out, on_stream_done, NULL);
	while (!loop_idle(l))
		loop_run_once(l, 1000);
	loop_free(l);
	is_num(stream_status, -1, 0, "aproc_stream: a missing program is -1, from the loop");
	is_num(aproc_running(), 0, 0, "aproc_stream: none left");
	buf_free(&streamed);
}

static void test_media(void)
{
	struct media_info mi;
	char err[256];
	const char *probe =
		"{\"streams\":[{\"codec_type\":\"video\",\"codec_name\":\"h264\",\"width\":1280,\"height\":720,"
		"\"avg_frame_rate\":\"30000/1001\",\"pix_fmt\":\"yuv420p\",\"duration\":\"132.9\"},"
		"{\"codec_type\":\"audio\",\"codec_name\":\"aac\",\"sample_rate\":\"44100\",\"channels\":2},"
		"{\"codec_type\":\"video\",\"codec_name\":\"mjpeg\",\"disposition\":{\"attached_pic\":1}}],"
		"\"format\":{\"duration\":\"133.000000\",\"size\":\"43000000\",\"format_name\":\"mov,mp4\"}}";
	ok(media_parse(probe, strlen(probe), &mi, err, sizeof err) == 0, "media: parses ffprobe json");
	is_num(mi.duration, 133, 1e-9, "media: container duration");
	is_str(mi.vcodec, "h264", "media: video codec");
	is_num(mi.fps, 29.97, 0.01, "media: fps from a ratio");
	ok(mi.width == 1280 && mi.height == 720 && mi.has_audio && mi.sample_rate == 44100 && mi.channels == 2,
	   "media: size and audio fields");
	const char *art = "{\"streams\":[{\"codec_type\":\"audio\",\"codec_name\":\"mp3\"},"
			  "{\"codec_type\":\"video\",\"disposition\":{\"attached_pic\":1}}],\"format\":{\"duration\":\"9\"}}";
	ok(media_parse(art, strlen(art), &mi, err, sizeof err) == 0 && !mi.has_video && mi.has_audio,
	   "media: cover art is not video");
	ok(media_parse("{\"streams\":[]}", 14, &mi, err, sizeof err) < 0, "media: no streams refused");
	is_str(err, "no audio or video stream", "media: says why");
	ok(media_probe("/nonexistent.mp4", &mi, err, sizeof err) < 0, "media: probe of a missing file fails");
	is_str(err, "/nonexistent.mp4: No such file or directory", "media: ffprobe's reason passed on");
}

int main(void)
{
	snprintf(scratch, sizeof scratch, "/tmp/pc-unit-XXXXXX");
	if (!mkdtemp(scratch))
		return 99;
	test_clock();
	test_ndjson();
	test_records();
	test_config();
	test_session();
	test_outq();
	test_atomic();
	test_proc();
	test_loop();
	test_stream();
	test_media();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
	if (system(cmd) != 0)
		return 99;
	return done_testing();
}
