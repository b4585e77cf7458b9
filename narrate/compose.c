/* The offline commentator: a build-up for the lead-in, the moment's time in
 * words, a reaction to the peak, a word on the other events, a line for the
 * tail -- whatever of that fits the window, most important first.  Lines
 * come from the phrase table, chosen at random (a seeded, per-session
 * generator, so --seed reproduces a run) among those the session has not
 * said yet. */
#define _GNU_SOURCE
#include "narrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CM_MORE_MAX 3        /* other events mentioned in a highlight */
#define CM_FILLER_MAX 3      /* filler lines in one --full window */
#define CM_BUILD_MIN 2.5     /* seconds of lead-in worth a build-up line */
#define CM_AFTER_MIN 3.0     /* seconds of tail worth a line after the peak */
#define CM_PIECES_MAX (4 + CM_MORE_MAX + CM_FILLER_MAX)

uint64_t cm_rand(uint64_t *state)
{
	/* splitmix64: tiny, and good enough to pick lines */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

void cm_state_init(struct cm_state *st, uint64_t seed, const char *session)
{
	memset(st, 0, sizeof *st);
	/* Each session its own sequence, so interleaving sessions in one
	 * stream does not change what each one says. */
	st->rng = seed ^ fnv1a(session ? session : "");
}

void cm_state_free(struct cm_state *st)
{
	free(st->used);
	free(st->said);
	memset(st, 0, sizeof *st);
}

static int was_said(const struct cm_state *st, uint64_t h)
{
	for (size_t i = 0; i < st->nsaid; i++)
		if (st->said[i] == h)
			return 1;
	return 0;
}

static void mark_said(struct cm_state *st, size_t line, uint64_t h)
{
	st->used[line] = 1;
	if (st->nsaid == st->capsaid) {
		st->capsaid = st->capsaid ? st->capsaid * 2 : 32;
		st->said = pc_xrealloc(st->said, st->capsaid * sizeof *st->said);
	}
	st->said[st->nsaid++] = h;
}

/* ---- rendering ---- */
struct cm_vars {
	const char *time, *label;   /* content lines */
	const char *s, *m, *n;      /* time lines */
};

static const char *var_value(const struct cm_vars *v, const char *name, size_t len)
{
	const struct { const char *name, *value; } all[] = {
		{"time", v->time}, {"label", v->label}, {"s", v->s}, {"m", v->m}, {"n", v->n},
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strlen(all[i].name) == len && !strncmp(all[i].name, name, len))
			return all[i].value ? all[i].value : "";
	return "";
}

/* Fill the placeholders; a sentence that starts with one gets a capital
 * (after any opening ¡ or ¿), a fragment (a time phrase) does not. */
static void render(const char *tmpl, const struct cm_vars *v, int sentence, char *out, size_t size)
{
	struct buf b = {0};
	for (const char *p = tmpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (!close) {
			buf_append(&b, p, 1);
			continue;
		}
		buf_puts(&b, var_value(v, p + 1, (size_t)(close - p - 1)));
		p = close;
	}
	size_t i = 0;
	const char *s = buf_cstr(&b);
	while (s[i] == (char)0xc2 && (s[i + 1] == (char)0xa1 || s[i + 1] == (char)0xbf))
		i += 2;
	if (sentence && tmpl[i] == '{' && s[i] >= 'a' && s[i] <= 'z')
		b.data[i] = (char)(s[i] - 'a' + 'A');
	snprintf(out, size, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* ---- choosing a line ---- */
struct pick {
	enum ph_part part;
	const char *kind;           /* "" for none */
	int band;
	const char *style;
	const struct cm_vars *vars;
	double max_words;
	int allow_repeat;           /* the last resort: a said sentence again */
};

/* How closely a section matches: -1 not at all, else more is closer. */
static int match(const struct ph_section *s, const struct pick *pk)
{
	if (s->part != pk->part)
		return -1;
	if (s->kind[0] && strcmp(s->kind, pk->kind))
		return -1;
	if (s->band != PH_BAND_ANY && s->band != pk->band)
		return -1;
	if (s->style[0] && strcmp(s->style, pk->style))
		return -1;
	return (s->kind[0] ? 4 : 0) + (s->band != PH_BAND_ANY ? 2 : 0) + (s->style[0] ? 1 : 0);
}

/* Candidates at one closeness (tier; -1 any) that pass the filters; one is
 * taken at random.  Returns the line or -1. */
static long pick_tier(const struct ph_table *t, struct cm_state *st, const struct pick *pk, int tier,
		      int fresh_only, char *out, size_t size)
{
	long chosen = -1;
	unsigned seen = 0;
	char text[PH_OUT_MAX];
	for (size_t si = 0; si < t->nsections; si++) {
		const struct ph_section *s = &t->sections[si];
		int m = match(s, pk);
		if (m < 0 || (tier >= 0 && m != tier))
			continue;
		for (size_t li = s->first; li < s->first + s->count; li++) {
			if (fresh_only && st->used[li])
				continue;
			render(t->lines[li], pk->vars, 1, text, sizeof text);
			if (fit_words(text) > pk->max_words + 1e-9)
				continue;
			if (!pk->allow_repeat && was_said(st, fnv1a(text)))
				continue;
			/* reservoir sampling: one pass, each candidate equally likely */
			if (cm_rand(&st->rng) % ++seen == 0) {
				chosen = (long)li;
				snprintf(out, size, "%s", text);
			}
		}
	}
	return chosen;
}

static int pick_line(const struct ph_table *t, struct cm_state *st, const struct pick *pk, char *out, size_t size)
{
	long line = -1;
	/* Closest first, lines not used yet; then any unsaid sentence (a
	 * used template whose placeholders now say something new). */
	for (int tier = 7; tier >= 0 && line < 0; tier--)
		line = pick_tier(t, st, pk, tier, 1, out, size);
	if (line < 0)
		line = pick_tier(t, st, pk, -1, 0, out, size);
	if (line < 0)
		return -1;
	mark_said(st, (size_t)line, fnv1a(out));
	return 0;
}

/* The moment's time in words, one of the slot's phrasings at random. */
static void time_words(const struct ph_table *t, struct cm_state *st, double at, char *out, size_t size)
{
	long s, m, n;
	enum ph_slot slot = ph_slot_of(at, &s, &m, &n);
	char ws[64], wm[64], wn[64];
	ph_number(t, s, ws, sizeof ws);
	ph_number(t, m, wm, sizeof wm);
	ph_number(t, n, wn, sizeof wn);
	struct cm_vars v = {.s = ws, .m = wm, .n = wn};
	long chosen = -1;
	unsigned seen = 0;
	for (size_t si = 0; si < t->nsections; si++) {
		const struct ph_section *sec = &t->sections[si];
		if (sec->part != PH_TIME || sec->slot != (int)slot)
			continue;
		for (size_t li = sec->first; li < sec->first + sec->count; li++)
			if (cm_rand(&st->rng) % ++seen == 0)
				chosen = (long)li;
	}
	if (chosen < 0)
		out[0] = '\0';
	else
		render(t->lines[chosen], &v, 0, out, size);
}

/* ---- composing ---- */
struct piece {
	int order;                  /* place in the spoken text */
	char text[PH_OUT_MAX];
};
struct composer {
	const struct ph_table *t;
	struct cm_state *st;
	const struct cm_request *rq;
	struct piece pieces[CM_PIECES_MAX];
	int n;
	double left;                /* words still free */
};

/* Add one piece if a line fits what is left. */
static int add(struct composer *c, int order, enum ph_part part, const struct cm_event *ev, const char *time)
{
	if (c->n == CM_PIECES_MAX || c->left < 1)
		return -1;
	struct cm_vars v = {.time = time, .label = ev && ev->label ? ev->label : ""};
	struct pick pk = {
		.part = part,
		.kind = ev && ev->kind ? ev->kind : "",
		.band = ev ? ph_band(c->t, ev->score) : PH_LOW,
		.style = c->rq->style ? c->rq->style : "",
		.vars = &v,
		.max_words = c->left + NAR_START_WORDS,
	};
	struct piece *p = &c->pieces[c->n];
	if (pick_line(c->t, c->st, &pk, p->text, sizeof p->text) < 0)
		return -1;
	p->order = order;
	c->left -= fit_words(p->text) - NAR_START_WORDS;   /* one lead-in for all */
	c->n++;
	return 0;
}

/* The time sentence ("Just after the twenty-minute mark..."): another
 * phrasing of the time when the first makes a sentence already said. */
static int add_when(struct composer *c, int order, const struct cm_event *ev, double at)
{
	char time[PH_OUT_MAX];
	for (int attempt = 0; attempt < 8; attempt++) {
		time_words(c->t, c->st, at, time, sizeof time);
		if (add(c, order, PH_WHEN, ev, time) == 0)
			return 0;
	}
	return -1;
}

static int by_order(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;
	return x->order - y->order;
}

/* The other events worth a word: the strongest few, then in time order. */
static int others(const struct cm_request *rq, int *idx)
{
	int n = 0;
	for (int i = 0; i < rq->nev; i++) {
		if (i == rq->peak)
			continue;
		if (n < CM_MORE_MAX)
			idx[n++] = i;
		else {
			int weakest = 0;
			for (int k = 1; k < n; k++)
				if (rq->ev[idx[k]].score < rq->ev[idx[weakest]].score)
					weakest = k;
			if (rq->ev[i].score > rq->ev[idx[weakest]].score) {
				memmove(idx + weakest, idx + weakest + 1, (size_t)(n - weakest - 1) * sizeof *idx);
				idx[n - 1] = i;
			}
		}
	}
	return n;
}

static void compose_event_window(struct composer *c)
{
	const struct cm_request *rq = c->rq;
	const struct cm_event *peak = &rq->ev[rq->peak];
	char time[PH_OUT_MAX];
	time_words(c->t, c->st, peak->t, time, sizeof time);
	/* Spoken order: build-up, time, reaction, the others, after; chosen
	 * in order of importance so a short window keeps what matters. */
	if (add(c, 2, PH_REACT, peak, time) < 0 && add(c, 2, PH_SHORT, peak, time) < 0)
		return;
	add_when(c, 1, peak, peak->t);
	if (peak->t - rq->start >= CM_BUILD_MIN)
		add(c, 0, PH_BUILD, peak, time);
	int idx[CM_MORE_MAX];
	int n = others(rq, idx);
	for (int i = 0; i < n; i++)
		add(c, 3 + idx[i], PH_MORE, &rq->ev[idx[i]], time);
	if (rq->end - peak->t >= CM_AFTER_MIN || rq->full)
		add(c, 100, PH_AFTER, peak, time);
}

static void compose_quiet_window(struct composer *c)
{
	struct cm_event calm = {.t = c->rq->start, .score = 0, .kind = "", .label = ""};
	if (add(c, 1, PH_QUIET, &calm, "") < 0 && add(c, 1, PH_SHORT, &calm, "") < 0)
		return;
	add_when(c, 0, &calm, c->rq->start + (c->rq->end - c->rq->start) / 2);
}

int cm_compose(const struct ph_table *t, const struct cm_request *rq, struct cm_state *st, struct buf *out)
{
	if (rq->max_words < 1)
		return -1;
	if (st->nused < t->nlines) {
		st->used = pc_xrealloc(st->used, t->nlines);
		memset(st->used + st->nused, 0, t->nlines - st->nused);
		st->nused = t->nlines;
	}
	struct composer c = {.t = t, .st = st, .rq = rq, .left = rq->max_words - NAR_START_WORDS};
	if (rq->nev > 0 && rq->peak >= 0 && rq->peak < rq->nev)
		compose_event_window(&c);
	else
		compose_quiet_window(&c);
	if (rq->full)
		for (int i = 0; i < CM_FILLER_MAX; i++)
			if (add(&c, 200 + i, PH_FILLER, NULL, "") < 0)
				break;
	if (c.n == 0) {
		/* Everything the table has was said: say a short line again
		 * rather than nothing, cut to fit. */
		struct cm_vars v = {.time = "", .label = ""};
		struct pick pk = {.part = PH_SHORT, .kind = "", .band = PH_HIGH,
				  .style = rq->style ? rq->style : "", .vars = &v,
				  .max_words = INFINITY, .allow_repeat = 1};
		if (pick_line(t, st, &pk, c.pieces[0].text, sizeof c.pieces[0].text) < 0)
			return -1;
		c.n = 1;
	}
	qsort(c.pieces, (size_t)c.n, sizeof c.pieces[0], by_order);
	buf_reset(out);
	for (int i = 0; i < c.n; i++)
		buf_printf(out, "%s%s", i ? " " : "", c.pieces[i].text);
	/* Pieces add up to at most the budget; this is the guarantee. */
	fit_trim(out->data, rq->max_words);
	out->len = strlen(out->data);
	return out->len ? 0 : -1;
}
