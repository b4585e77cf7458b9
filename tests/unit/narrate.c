/* Unit tests for narrate's parts: fit, phrase tables, numbers and time in
 * words, the highlight planner, the offline commentator. */
#define _GNU_SOURCE
#include "../../narrate/narrate.h"
#include "tap.h"

#include <limits.h>
#include <stdlib.h>

static struct ph_table en, es;

static void load_tables(void)
{
	char path[PATH_MAX], err[512];
	const char *data = getenv("PLAYCALL_DATA");
	if (!data || !*data) {
		const char *src = getenv("PLAYCALL_SRC");
		static char def[PATH_MAX];
		snprintf(def, sizeof def, "%s/data", src ? src : ".");
		setenv("PLAYCALL_DATA", def, 1);
	}
	ok(ph_path("en", path, sizeof path) == 0, "table path for en");
	int rc = ph_load(path, &en, err, sizeof err);
	ok(rc == 0, "en.phrases loads%s%s", rc ? ": " : "", rc ? err : "");
	ph_path("es", path, sizeof path);
	rc = ph_load(path, &es, err, sizeof err);
	ok(rc == 0, "es.phrases loads%s%s", rc ? ": " : "", rc ? err : "");
	ok(ph_path("../etc", path, sizeof path) < 0, "a language is a plain name, not a path");
}

/* ---- fit ---- */
static void test_fit(void)
{
	is_num(fit_words(""), 0, 0, "fit: nothing costs nothing");
	is_num(fit_words("one two three"), 3.5, 1e-9, "fit: three short words and the start");
	is_num(fit_words("one two three."), 4, 1e-9, "fit: a sentence end is a pause");
	is_num(fit_words("Wow!?! Yes..."), 3.5, 1e-9, "fit: runs of punctuation are one pause");
	is_num(fit_words("big-top"), 2.5, 1e-9, "fit: hyphenated words are two");
	is_num(fit_words("¡Sí, ya!"), 3.5, 1e-9, "fit: ¡ is not a word; ! and , are pauses");
	/* Qué (ué) ru-gi-do: four syllables outweigh two words */
	is_num(fit_words("Qué rugido"), 4 / 1.4 + 0.5, 1e-9, "fit: accented vowels count");
	/* in-ter-na-tio-nal: vowel groups i, e, a, io, a = 5 syllables */
	is_num(fit_words("international"), 5 / 1.4 + 0.5, 1e-9, "fit: long words count by syllables");
	is_num(fit_budget(12, 1, 2.9), 31.9, 1e-9, "fit: budget of a 12 s window");
	is_num(fit_budget(0.5, 1, 2.9), 0, 0, "fit: no budget when the window is shorter than the delay");
	ok(fit_fits("one two three four five six seven", 4, 1, 2.9), "fit: 7.5 words in 3 s at 2.9");
	ok(!fit_fits("one two three four five six seven eight nine", 4, 1, 2.9), "fit: 9.5 words do not");

	char text[200];
	snprintf(text, sizeof text, "First one here. Second sentence is longer than that. Third.");
	fit_trim(text, fit_words("First one here. Second sentence is longer than that.") + 0.2);
	is_str(text, "First one here. Second sentence is longer than that.", "trim: keeps whole sentences");
	snprintf(text, sizeof text, "First one here. Second sentence is longer than that.");
	fit_trim(text, 5);
	is_str(text, "First one here.", "trim: drops the sentence that does not fit");
	snprintf(text, sizeof text, "A very long sentence without any end in sight at all");
	fit_trim(text, 4);
	is_str(text, "A very long.", "trim: whole words and a full stop when no sentence fits");
	ok(fit_words(text) <= 4, "trim: the result fits");
	snprintf(text, sizeof text, "Short.");
	fit_trim(text, 10);
	is_str(text, "Short.", "trim: text that fits is left alone");
	snprintf(text, sizeof text, "Incomprehensibilities");
	fit_trim(text, 2);
	is_str(text, "", "trim: nothing when not one word fits");
	ok(fit_min_window(1, 2.9) > 1.5 && fit_min_window(1, 2.9) < 1.8, "fit: shortest window holds one word");
}

/* ---- tables ---- */
static const char minimal[] =
	"[meta]\nlang xx\nstyles loud\n"
	"[time start]\nat the start\n[time seconds]\n{s} in\n[time mark]\non {m}\n"
	"[time after]\nafter {m}\n[time half]\nhalf {m}\n[time before]\nnear {n}\n"
	"[when]\n{time}, look.\n[react]\nWow, {label}.\n[short]\nOh.\n";

static void parse_err(const char *text, const char *want, const char *name)
{
	struct ph_table t;
	char err[300] = "";
	int rc = ph_parse(text, strlen(text), "t.phrases", &t, err, sizeof err);
	ok(rc < 0, "table: %s is refused", name);
	is_str(err, want, name);
	if (rc == 0)
		ph_free(&t);
}

static void test_tables(void)
{
	struct ph_table t;
	char err[300];
	int rc = ph_parse(minimal, strlen(minimal), "t.phrases", &t, err, sizeof err);
	ok(rc == 0, "table: the minimal table parses%s%s", rc ? ": " : "", rc ? err : "");
	if (rc == 0) {
		is_str(t.lang, "xx", "table: lang");
		ok(t.nstyles == 1 && ph_has_style(&t, "loud"), "table: styles");
		is_num(t.nlines, 9, 0, "table: its phrases");
		ph_free(&t);
	}
	struct buf b = {0};
	buf_printf(&b, "%s[react]\n", minimal);
	buf_printf(&b, "%s", "# a comment\n  \n");
	rc = ph_parse(b.data, b.len, "t.phrases", &t, err, sizeof err);
	ok(rc == 0, "table: empty section, comments and blank lines are fine");
	if (rc == 0)
		ph_free(&t);
	buf_free(&b);

	parse_err("hello\n", "t.phrases:1: text before the first [section]", "text before a section");
	parse_err("[meta]\nlang en\n[bogus]\n", "t.phrases:3: unknown section \"bogus\"", "unknown section");
	parse_err("[meta]\nlang en\n[react crowd loud]\n", "t.phrases:3: band \"loud\" is not low, mid, high or *",
		  "bad band");
	parse_err("[meta]\nlang en\n[react * * calm]\n", "t.phrases:3: style \"calm\" is not in [meta] styles",
		  "undeclared style");
	parse_err("[meta]\nlang en\n[react]\nWhat a {thing}!\n",
		  "t.phrases:4: unknown placeholder {thing} in [react]", "unknown placeholder");
	parse_err("[meta]\nlang en\n[time after]\n{time}\n", "t.phrases:4: unknown placeholder {time} in [time]",
		  "content placeholder in a time section");
	parse_err("[meta]\nlang en\n[react]\nWhat a {label!\n", "t.phrases:4: '{' without '}'", "open brace");
	parse_err("[meta]\ncolour blue\n", "t.phrases:2: unknown [meta] key \"colour\"", "unknown meta key");
	parse_err("[meta]\nbands 0.8 0.2\n", "t.phrases:2: bands must be two scores, 0 < mid < high <= 1",
		  "bands out of order");
	parse_err("[numbers]\n1 one\n1 uno\n", "t.phrases:3: number 1 given twice", "number twice");
	parse_err("[numbers]\n1000 a thousand\n", "t.phrases:2: \"1000\" is not a number from 0 to 999",
		  "number too big");
	parse_err("[numbers]\n150+ x\n", "t.phrases:2: a prefix form is for a whole hundred: \"100+ ...\"",
		  "prefix not a hundred");
	parse_err("[meta]\nname \"half\n", "t.phrases:2: a quoted value must be quoted whole", "half quote");
	parse_err("[react\n", "t.phrases:1: a section header ends with ']'", "unclosed header");
	parse_err("[meta]\nname \xff\xfe\n", "t.phrases:2: not UTF-8", "invalid UTF-8");
	parse_err("[meta]\nstyles a b\n[time start]\nx\n", "t.phrases: no lang in [meta]", "no lang");
	parse_err("[meta]\nlang en\n[time start]\nx\n", "t.phrases: no [time seconds] phrases", "missing time slot");
	parse_err("[meta]\nlang xx\n[time start]\na\n[time seconds]\na\n[time mark]\na\n[time after]\na\n"
		  "[time half]\na\n[time before]\na\n[when]\n{time}.\n[react crowd]\nRoar.\n[short]\nOh.\n",
		  "t.phrases: no [react * low] phrases for an unknown kind", "no fallback reaction");
	char longline[PH_LINE_MAX + 40];
	memset(longline, 'a', sizeof longline);
	memcpy(longline, "[meta]\nname ", 12);
	longline[sizeof longline - 1] = '\0';
	char want[80];
	snprintf(want, sizeof want, "t.phrases:2: line longer than %d bytes", PH_LINE_MAX);
	parse_err(longline, want, "over-long line");

	rc = ph_load("/nonexistent/xx.phrases", &t, err, sizeof err);
	ok(rc < 0 && strstr(err, "/nonexistent/xx.phrases: No such file"), "table: a missing file is named");
}

/* ---- numbers and time ---- */
static void number_is(const struct ph_table *t, long n, const char *want)
{
	char out[64], name[80];
	ph_number(t, n, out, sizeof out);
	snprintf(name, sizeof name, "%s: %ld in words", t->lang, n);
	is_str(out, want, name);
}

static void test_numbers(void)
{
	number_is(&en, 0, "zero");
	number_is(&en, 7, "seven");
	number_is(&en, 21, "twenty-one");
	number_is(&en, 40, "forty");
	number_is(&en, 99, "ninety-nine");
	number_is(&en, 100, "one hundred");
	number_is(&en, 105, "one hundred and five");
	number_is(&en, 342, "three hundred and forty-two");
	number_is(&en, 1000, "1000");
	number_is(&en, -3, "-3");
	number_is(&es, 21, "veintiuno");
	number_is(&es, 35, "treinta y cinco");
	number_is(&es, 100, "cien");
	number_is(&es, 105, "ciento cinco");
	number_is(&es, 245, "doscientos cuarenta y cinco");
	number_is(&es, 300, "trescientos");

	long s, m, n;
	ok(ph_slot_of(3, &s, &m, &n) == TS_START, "time: 3 s is the start");
	ok(ph_slot_of(23.4, &s, &m, &n) == TS_SECONDS && s == 23, "time: 23.4 s is twenty-three seconds");
	ok(ph_slot_of(57, &s, &m, &n) == TS_BEFORE && n == 1, "time: 57 s is coming up to the minute");
	ok(ph_slot_of(61.2, &s, &m, &n) == TS_MARK && m == 1, "time: 61.2 s is on the one-minute mark");
	ok(ph_slot_of(1212, &s, &m, &n) == TS_AFTER && m == 20, "time: 20:12 is just after twenty");
	ok(ph_slot_of(90, &s, &m, &n) == TS_HALF && m == 1 && n == 2, "time: 1:30 is one and a half");
	ok(ph_slot_of(104, &s, &m, &n) == TS_BEFORE && n == 2, "time: 1:44 is coming up to two");
	ok(ph_slot_of(0.0 / 0.0, &s, &m, &n) == TS_START, "time: NaN is harmless");
}

/* ---- planner ---- */
struct collected {
	struct plan_window w[64];
	int n;
};

static void collect(void *arg, struct plan_window *w)
{
	struct collected *c = arg;
	if (c->n < 64)
		c->w[c->n++] = *w;
	else
		json_object_put(w->events);
}

static void collected_free(struct collected *c)
{
	for (int i = 0; i < c->n; i++)
		json_object_put(c->w[i].events);
	c->n = 0;
}

/* An events record from "t:score t:score ..." */
static void interval(struct plan_interval *iv, long index, double start, double end, const char *evs)
{
	json_object *rec = rec_new("events", "s");
	rec_set_int(rec, "index", index);
	rec_set_num(rec, "start", start);
	rec_set_num(rec, "end", end);
	json_object *list = json_object_new_array();
	double t, score;
	int used;
	while (evs && sscanf(evs, "%lf:%lf%n", &t, &score, &used) == 2) {
		json_object *e = json_object_new_object();
		rec_set_num(e, "t", t);
		rec_set_str(e, "kind", "crowd");
		rec_set_num(e, "score", score);
		json_object_array_add(list, e);
		evs += used;
	}
	json_object_object_add(rec, "events", list);
	char err[200];
	if (plan_parse_events(rec, iv, err, sizeof err) < 0)
		printf("# %s\n", err);
	json_object_put(rec);
}

static struct plan_opts popts(void)
{
	return (struct plan_opts){.lead = 5, .tail = 7, .min_score = 0.5, .max_per_interval = 2,
				  .min_len = fit_min_window(1, 2.9)};
}

static void feed(struct plan *p, const struct plan_opts *o, struct collected *c, long index, double start,
		 double end, const char *evs)
{
	struct plan_interval iv;
	interval(&iv, index, start, end, evs);
	plan_add_interval(p, o, &iv, collect, c);
	plan_interval_release(&iv);
}

static void test_plan(void)
{
	struct plan_opts o = popts();
	struct plan p = {.duration = 133};
	struct collected c = {.n = 0};

	feed(&p, &o, &c, 0, 0, 30, "10:0.9");
	is_num(c.n, 1, 0, "plan: a window far from the interval end is out at once");
	is_num(c.w[0].start, 5, 1e-9, "plan: lead-in of 5 s");
	is_num(c.w[0].end, 17, 1e-9, "plan: tail of 7 s");
	is_num(c.w[0].peak_t, 10, 1e-9, "plan: its peak");
	collected_free(&c);

	feed(&p, &o, &c, 1, 30, 60, "50:0.8 53:0.7");
	is_num(c.n, 0, 0, "plan: a window within lead+tail of the interval end waits");
	feed(&p, &o, &c, 2, 60, 90, "62:0.6");
	is_num(c.n, 1, 0, "plan: windows across intervals merge when they overlap");
	is_num(c.w[0].start, 45, 1e-9, "plan: merged start");
	is_num(c.w[0].end, 69, 1e-9, "plan: merged end");
	is_num(json_object_array_length(c.w[0].events), 3, 0, "plan: merged window covers all three events");
	is_num(c.w[0].peak_t, 50, 1e-9, "plan: the strongest is the peak");
	collected_free(&c);

	feed(&p, &o, &c, 3, 90, 120, "95:0.2 100:0.49");
	is_num(c.n, 0, 0, "plan: events below --min-score are no highlights");
	feed(&p, &o, &c, 4, 120, 133, "131:0.9");
	is_num(c.n, 1, 0, "plan: the interval reaching the video's end makes everything final");
	is_num(c.w[0].end, 133, 1e-9, "plan: clipped to the video's end");
	collected_free(&c);
	plan_finish(&p, &o, collect, &c);
	is_num(c.n, 0, 0, "plan: nothing left at the end");
	plan_free(&p);

	/* clipping at the start, merging within an interval, max per interval */
	p = (struct plan){.duration = 0};
	feed(&p, &o, &c, 0, 0, 60, "1:0.6 4:0.7 20:0.55 35:0.9 45:0.8");
	plan_finish(&p, &o, collect, &c);
	is_num(c.n, 2, 0, "plan: at most --max-per-interval windows from an interval");
	is_num(c.w[0].start, 0, 1e-9, "plan: clipped to the video's start");
	is_num(c.w[0].end, 11, 1e-9, "plan: two close events make one window");
	is_num(c.w[1].start, 30, 1e-9, "plan: the strongest windows are kept, in time order");
	is_num(c.w[1].end, 52, 1e-9, "plan: ... merged 35 and 45");
	collected_free(&c);
	plan_free(&p);

	o.max_per_interval = 0;
	p = (struct plan){.duration = 0};
	feed(&p, &o, &c, 0, 0, 60, "1:0.6 4:0.7 20:0.55 35:0.9 45:0.8");
	plan_finish(&p, &o, collect, &c);
	is_num(c.n, 3, 0, "plan: --max-per-interval 0 keeps all");
	collected_free(&c);
	plan_free(&p);

	/* --full */
	o = popts();
	o.full = 1;
	p = (struct plan){.duration = 61};
	feed(&p, &o, &c, 0, 0, 30, "");
	is_num(c.n, 1, 0, "full: a window per interval, at once");
	is_num(c.w[0].start, 0, 1e-9, "full: interval start");
	is_num(c.w[0].end, 30, 1e-9, "full: interval end");
	feed(&p, &o, &c, 1, 30, 60, "40:0.9 50:0.1");
	is_num(c.n, 2, 0, "full: second interval");
	is_num(c.w[1].end, 61, 1e-9, "full: a last second too short to narrate joins the window before");
	is_num(json_object_array_length(c.w[1].events), 1, 0, "full: events above --min-score");
	feed(&p, &o, &c, 2, 60, 61, "");
	is_num(c.n, 2, 0, "full: the covered remainder makes no window");
	collected_free(&c);
	plan_free(&p);

	/* too short to narrate */
	o = popts();
	o.lead = o.tail = 0.5;
	p = (struct plan){.duration = 0};
	feed(&p, &o, &c, 0, 0, 30, "10:0.9");
	plan_finish(&p, &o, collect, &c);
	is_num(c.n, 0, 0, "plan: a window too short for one word is left out");
	is_num(p.dropped, 1, 0, "plan: ... and counted");
	plan_free(&p);

	/* a bad event in a record */
	json_object *rec = json_tokener_parse("{\"type\":\"events\",\"index\":0,\"start\":0,\"end\":30,"
					      "\"events\":[{\"t\":\"x\"},{\"t\":5,\"score\":7},{\"t\":3}]}");
	struct plan_interval iv;
	char err[200];
	ok(plan_parse_events(rec, &iv, err, sizeof err) == 0, "events: usable despite a bad entry");
	is_num(iv.skipped, 1, 0, "events: the bad entry is skipped");
	is_str(iv.skip_reason, "event 0: no time \"t\" (seconds, >= 0)", "events: and why");
	is_num(iv.nev, 2, 0, "events: the others are kept");
	is_num(iv.ev[0].t, 3, 0, "events: in time order");
	is_num(iv.ev[0].score, 1, 0, "events: no score counts as the strongest");
	is_num(iv.ev[1].score, 1, 0, "events: scores are clamped to 1");
	plan_interval_release(&iv);
	json_object_put(rec);
	rec = json_tokener_parse("{\"type\":\"events\",\"index\":0,\"start\":9,\"end\":3,\"events\":[]}");
	ok(plan_parse_events(rec, &iv, err, sizeof err) < 0, "events: end before start is refused");
	is_str(err, "events record 0: \"start\" and \"end\" must be seconds, start <= end", "events: reason");
	json_object_put(rec);
}

/* ---- the commentator ---- */
static int compose(const struct ph_table *t, struct cm_state *st, const char *style, double start, double end,
		   const struct cm_event *ev, int nev, int full, struct buf *out)
{
	int peak = -1;
	for (int i = 0; i < nev; i++)
		if (peak < 0 || ev[i].score > ev[peak].score)
			peak = i;
	struct cm_request rq = {.start = start, .end = end, .ev = ev, .nev = nev, .peak = peak, .full = full,
				.style = style, .max_words = fit_budget(end - start, 1, 2.9)};
	return cm_compose(t, &rq, st, out);
}

/* Every sentence of a text (split after . ! ?) into the list. */
static int sentences(const char *text, char list[][PH_OUT_MAX], int n, int max)
{
	const char *p = text;
	while (*p && n < max) {
		size_t len = strcspn(p, ".!?");
		len += strspn(p + len, ".!?");
		snprintf(list[n++], PH_OUT_MAX, "%.*s", (int)len, p);
		p += len;
		p += strspn(p, " ");
	}
	return n;
}

static void test_compose(void)
{
	struct cm_state st;
	struct buf out = {0};
	cm_state_init(&st, 42, "s1");
	struct cm_event roar = {.t = 23.1, .score = 0.95, .kind = "crowd", .label = "crowd roar"};
	ok(compose(&en, &st, "excited", 18.1, 30.1, &roar, 1, 0, &out) == 0, "compose: a highlight");
	printf("# %s\n", out.data);
	ok(strstr(out.data, "twenty-three seconds") != NULL, "compose: the moment's time in words");
	ok(fit_fits(out.data, 12, 1, 2.9), "compose: fits its window");
	ok(strchr(out.data, '!') != NULL, "compose: excited style exclaims");
	cm_state_free(&st);

	/* many highlights in one session: no sentence twice, each fits */
	static char said[400][PH_OUT_MAX];
	int nsaid = 0, fits = 1, repeats = 0, nonempty = 1;
	cm_state_init(&st, 7, "long");
	const char *kinds[] = {"crowd", "whistle", "motion", "cut", "something-new"};
	for (int i = 0; i < 25; i++) {
		struct cm_event e = {.t = 60.0 * i + 13, .score = 0.5 + (i % 5) / 10.0, .kind = kinds[i % 5], .label = "x"};
		double len = 8 + i % 6;
		if (compose(&en, &st, "excited", e.t - 3, e.t - 3 + len, &e, 1, 0, &out) < 0 || !out.len)
			nonempty = 0;
		if (!fit_fits(out.data, len, 1, 2.9))
			fits = 0;
		int before = nsaid;
		nsaid = sentences(out.data, said, nsaid, 400);
		for (int k = before; k < nsaid; k++)
			for (int j = 0; j < k; j++)
				if (!strcmp(said[k], said[j])) {
					printf("# repeated: %s\n", said[k]);
					repeats++;
				}
	}
	ok(nonempty, "compose: 25 highlights, each with text");
	ok(fits, "compose: each fits its window");
	is_num(repeats, 0, 0, "compose: no sentence repeated within the session");
	ok(nsaid > 60, "compose: build-ups, times, reactions and tails (%d sentences)", nsaid);
	cm_state_free(&st);

	/* --seed: the same seed and session say the same; another seed differs */
	struct buf a = {0}, b = {0};
	struct cm_state s1, s2, s3;
	cm_state_init(&s1, 99, "x");
	cm_state_init(&s2, 99, "x");
	cm_state_init(&s3, 100, "x");
	int same = 1, differ = 0;
	for (int i = 0; i < 6; i++) {
		struct cm_event e = {.t = 30.0 * i + 10, .score = 0.9, .kind = "crowd"};
		compose(&en, &s1, "excited", e.t - 5, e.t + 7, &e, 1, 0, &a);
		compose(&en, &s2, "excited", e.t - 5, e.t + 7, &e, 1, 0, &b);
		same &= !strcmp(a.data, b.data);
		compose(&en, &s3, "excited", e.t - 5, e.t + 7, &e, 1, 0, &b);
		differ |= strcmp(a.data, b.data) != 0;
	}
	ok(same, "compose: the same seed says the same");
	ok(differ, "compose: another seed says something else");
	cm_state_free(&s1);
	cm_state_free(&s2);
	cm_state_free(&s3);
	buf_free(&a);
	buf_free(&b);

	/* calm style, Spanish, a short window, a quiet --full window */
	cm_state_init(&st, 1, "c");
	compose(&en, &st, "calm", 18.1, 30.1, &roar, 1, 0, &out);
	ok(out.len && !strchr(out.data, '!'), "compose: calm style does not exclaim: %s", out.data);
	cm_state_free(&st);
	cm_state_init(&st, 1, "e");
	compose(&es, &st, "excited", 18.1, 30.1, &roar, 1, 0, &out);
	ok(strstr(out.data, "veintitrés") != NULL, "compose: Spanish time in words: %s", out.data);
	cm_state_free(&st);
	cm_state_init(&st, 1, "short");
	ok(compose(&en, &st, "excited", 20, 22.5, &roar, 1, 0, &out) == 0 && fit_fits(out.data, 2.5, 1, 2.9),
	   "compose: a 2.5 s window gets a short line that fits: %s", out.data);
	ok(compose(&en, &st, "excited", 20, 20.9, &roar, 1, 0, &out) < 0, "compose: nothing fits 0.9 s");
	ok(compose(&en, &st, "calm", 60, 90, NULL, 0, 1, &out) == 0 && fit_words(out.data) > 15,
	   "compose: a quiet --full window is talked through: %s", out.data);
	ok(strstr(out.data, "minute") != NULL, "compose: ... with its time");
	cm_state_free(&st);
	buf_free(&out);
}

int main(void)
{
	load_tables();
	test_fit();
	test_tables();
	test_numbers();
	test_plan();
	test_compose();
	ph_free(&en);
	ph_free(&es);
	return done_testing();
}
