/* The narrate stream with an asynchronous backend: jobs finish out of
 * order (later ones first, from loop timers), one fails, one sends too much
 * text -- and the records still leave in order per session, the failure as
 * an error record naming its index, session_end last. */
#define _GNU_SOURCE
#include "../../narrate/stage.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct fake_job {
	struct nar_job *job;
	int earlier_ok;
};

static int in_flight, most_in_flight, started;
static int earlier_bad, no_session_rec;

static void finish(struct loop *l, void *arg)
{
	(void)l;
	struct nar_job *job = arg;
	in_flight--;
	if (job->index == 1 && !strcmp(job->session, "a")) {
		nar_job_done(job, NULL, "the service said no");
		return;
	}
	char text[2000];
	if (job->index == 2)   /* far too long: the stage must cut it */
		snprintf(text, sizeof text, "Way too long. %s", "word word word word word word word word word word "
			 "word word word word word word word word word word word word word word word word word word word "
			 "word word word word word word word word word word word word word word word word word");
	else
		snprintf(text, sizeof text, "Text for %s %d.", job->session, job->index);
	if (job->index == 3)
		job->made_by = "other";
	if (job->index == 4) {   /* a fallback on the offline commentator */
		struct buf b = {0};
		char err[300];
		if (nar_local_compose(job, &b, err, sizeof err) == 0) {
			job->made_by = "local";
			nar_job_done(job, b.data, NULL);
		} else
			nar_job_done(job, NULL, err);
		buf_free(&b);
		return;
	}
	nar_job_done(job, text, NULL);
}

static void fake_start(struct nar_job *job)
{
	started++;
	if (!job->session_rec || strcmp(rec_str(job->session_rec, "session"), job->session))
		no_session_rec++;
	if (++in_flight > most_in_flight)
		most_in_flight = in_flight;
	/* the earlier lines are texts of lower indexes only */
	size_t n = json_object_array_length(job->earlier);
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(job->earlier, i));
		int idx;
		char sess[8];
		if (sscanf(t, "Text for %7s %d", sess, &idx) == 2 && (strcmp(sess, job->session) || idx >= job->index))
			earlier_bad++;
	}
	/* later jobs finish first */
	loop_add_timer(job->loop, pc_now() + 0.02 * (6 - job->index), finish, job);
}

static const struct nar_backend fake = {.name = "fake", .start = fake_start};

static const char input[] =
	"{\"type\":\"session\",\"session\":\"a\",\"duration\":200}\n"
	"{\"type\":\"session\",\"session\":\"b\",\"duration\":200}\n"
	"{\"type\":\"events\",\"session\":\"a\",\"index\":0,\"start\":0,\"end\":100,"
	"\"events\":[{\"t\":10,\"kind\":\"crowd\",\"score\":0.9},{\"t\":30,\"score\":0.9},{\"t\":50,\"score\":0.9},"
	"{\"t\":70,\"score\":0.9},{\"t\":90,\"score\":0.9}]}\n"
	"{\"type\":\"status\",\"session\":\"a\",\"stage\":\"detect\",\"message\":\"half way\"}\n"
	"{\"type\":\"events\",\"session\":\"b\",\"index\":0,\"start\":0,\"end\":100,"
	"\"events\":[{\"t\":20,\"score\":0.8},{\"t\":60,\"score\":0.8}]}\n"
	"{\"type\":\"events\",\"session\":\"a\",\"index\":1,\"start\":100,\"end\":200,\"events\":[]}\n"
	"{\"type\":\"session_end\",\"session\":\"a\"}\n"
	"{\"type\":\"session_end\",\"session\":\"b\"}\n";

int main(void)
{
	pc_init("narrate");
	out_set_json(1);
	int in[2];
	if (pipe(in) < 0 || write(in[1], input, sizeof input - 1) != (ssize_t)(sizeof input - 1))
		return 1;
	close(in[1]);
	char outpath[] = "/tmp/narrate-stage-XXXXXX";
	int outfd = mkstemp(outpath);
	int saved_in = dup(0), saved_out = dup(1);
	dup2(in[0], 0);
	close(in[0]);
	fflush(stdout);
	dup2(outfd, 1);

	struct nar_opts o;
	nar_opts_default(&o);
	o.max_per_interval = 0;
	o.jobs = 3;
	snprintf(o.style, sizeof o.style, "dramatic");   /* a cloud style: local falls back */
	if (!getenv("PLAYCALL_DATA"))
		setenv("PLAYCALL_DATA", "data", 1);
	struct loop *l = loop_new();
	struct stage st;
	stage_init(&st, l, &o, &fake);
	int rc = stage_run(&st);
	stage_free(&st);
	nar_local.cleanup();
	loop_free(l);

	fflush(stdout);
	dup2(saved_out, 1);
	dup2(saved_in, 0);
	close(saved_out);
	close(saved_in);

	is_num(rc, 0, 0, "stage: exit status 0 (a failed commentary is a degradation)");
	is_num(started, 7, 0, "stage: a job per highlight");
	ok(most_in_flight > 1 && most_in_flight <= 3, "stage: jobs in flight at once, at most --jobs (%d)",
	   most_in_flight);
	is_num(earlier_bad, 0, 0, "stage: a job sees only its session's earlier texts");

	FILE *fp = fopen(outpath, "r");
	char line[4096];
	struct buf order_a = {0}, order_b = {0};
	int long_fits = 0, made_by_other = 0, error_named = 0, fell_back = 0;
	while (fp && fgets(line, sizeof line, fp)) {
		json_object *r = json_tokener_parse(line);
		const char *type = rec_type(r), *sess = rec_str(r, "session");
		long idx = -1;
		rec_int(r, "index", &idx);
		struct buf *ord = sess && !strcmp(sess, "b") ? &order_b : &order_a;
		if (!strcmp(type, "commentary") || !strcmp(type, "error"))
			buf_printf(ord, "%c%ld ", type[0], idx);
		else
			buf_printf(ord, "%s ", type);
		if (!strcmp(type, "commentary") && idx == 2 && !strcmp(sess, "a")) {
			double s, e;
			rec_num(r, "start", &s);
			rec_num(r, "end", &e);
			long_fits = fit_fits(rec_str(r, "text"), e - s, 1, 2.9) && !strcmp(rec_str(r, "text"), "Way too long.");
		}
		if (!strcmp(type, "commentary") && idx == 3)
			made_by_other = !strcmp(rec_str(r, "backend"), "other");
		if (!strcmp(type, "commentary") && idx == 4)
			fell_back = !strcmp(rec_str(r, "backend"), "local") && strstr(rec_str(r, "text"), "minute");
		if (!strcmp(type, "error") && idx == 1)
			error_named = strstr(rec_str(r, "message"), "highlight 1") && strstr(rec_str(r, "message"), "the service said no");
		json_object_put(r);
	}
	if (fp)
		fclose(fp);
	unlink(outpath);
	is_str(buf_cstr(&order_a), "session c0 e1 c2 c3 status c4 session_end ",
	       "stage: session a in order, the failure in its place, session_end last");
	is_str(buf_cstr(&order_b), "session c0 c1 session_end ", "stage: session b in order");
	ok(long_fits, "stage: a backend's over-long text is cut to fit");
	ok(made_by_other, "stage: the record names the backend that made the text");
	ok(error_named, "stage: the error names the highlight and the reason");
	ok(fell_back, "stage: a backend can fall back on the offline commentator");
	is_num(no_session_rec, 0, 0, "stage: every job has its session record");
	buf_free(&order_a);
	buf_free(&order_b);
	return done_testing();
}
