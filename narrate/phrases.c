/* Phrase tables: the offline commentator's words, one file per language
 * (data/narrate/<lang>.phrases), so a language is added without C.  The
 * format is in narrate(1), FILES.  Parsing is strict -- a typo in a table is
 * reported with its line, not discovered mid-match. */
#define _GNU_SOURCE
#include "narrate.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const part_names[PH_NPARTS] = {
	[PH_BUILD] = "build", [PH_WHEN] = "when", [PH_REACT] = "react", [PH_MORE] = "more",
	[PH_AFTER] = "after", [PH_FILLER] = "filler", [PH_QUIET] = "quiet", [PH_SHORT] = "short",
	[PH_TIME] = "time",
};
static const char *const band_names[PH_NBANDS] = {"low", "mid", "high"};
static const char *const slot_names[TS_NSLOTS] = {
	[TS_START] = "start", [TS_SECONDS] = "seconds", [TS_MARK] = "mark",
	[TS_AFTER] = "after", [TS_HALF] = "half", [TS_BEFORE] = "before",
};

/* Where the parser is: one section at a time. */
enum sect_kind { SECT_NONE, SECT_META, SECT_NUMBERS, SECT_PHRASES };
struct parser {
	struct ph_table *t;
	const char *name;
	long line;
	enum sect_kind in;
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (ps->line)
		snprintf(ps->err, ps->errlen, "%s:%ld: %s", ps->name, ps->line, why);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->name, why);
	return -1;
}

/* Well-formed UTF-8 (no overlong forms, no surrogates). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;
		unsigned long cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int plain_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= NAR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int ph_has_style(const struct ph_table *t, const char *style)
{
	for (int i = 0; i < t->nstyles; i++)
		if (!strcmp(t->styles[i], style))
			return 1;
	return 0;
}

/* ---- [meta] ---- */

/* A value: the rest of the line, or a "quoted" string keeping its spaces. */
static int meta_value(struct parser *ps, char *v, char *out, size_t n)
{
	size_t len = strlen(v);
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v[len - 1] = '\0';
		v++;
		len -= 2;
	} else if (strchr(v, '"'))
		return fail(ps, "a quoted value must be quoted whole");
	if (len >= n)
		return fail(ps, "value longer than %zu bytes", n - 1);
	memcpy(out, v, len + 1);
	return 0;
}

static int meta_line(struct parser *ps, char *line)
{
	struct ph_table *t = ps->t;
	char *key = line, *val = line + strcspn(line, " \t");
	if (*val)
		*val++ = '\0';
	val += strspn(val, " \t");
	if (!*val)
		return fail(ps, "\"%s\" has no value", key);
	if (!strcmp(key, "lang")) {
		if (!plain_name(val))
			return fail(ps, "lang must be a plain name (a-z, 0-9, - and _)");
		snprintf(t->lang, sizeof t->lang, "%s", val);
		return 0;
	}
	if (!strcmp(key, "name"))
		return meta_value(ps, val, t->name, sizeof t->name);
	if (!strcmp(key, "join"))
		return meta_value(ps, val, t->join, sizeof t->join);
	if (!strcmp(key, "hundred-join"))
		return meta_value(ps, val, t->hundred_join, sizeof t->hundred_join);
	if (!strcmp(key, "bands")) {
		char *end;
		double mid = strtod(val, &end), high = strtod(end, &end);
		if (*end || !(mid > 0 && mid < high && high <= 1))
			return fail(ps, "bands must be two scores, 0 < mid < high <= 1");
		t->band_mid = mid;
		t->band_high = high;
		return 0;
	}
	if (!strcmp(key, "styles")) {
		if (t->nstyles)
			return fail(ps, "styles given twice");
		for (char *s = strtok(val, " \t"); s; s = strtok(NULL, " \t")) {
			if (!plain_name(s))
				return fail(ps, "style \"%s\" is not a plain name", s);
			if (t->nstyles == PH_STYLES_MAX)
				return fail(ps, "more than %d styles", PH_STYLES_MAX);
			if (ph_has_style(t, s))
				return fail(ps, "style \"%s\" given twice", s);
			snprintf(t->styles[t->nstyles++], NAR_NAME_MAX, "%s", s);
		}
		return 0;
	}
	return fail(ps, "unknown [meta] key \"%s\"", key);
}

/* ---- [numbers] ---- */

static int number_line(struct parser *ps, char *line)
{
	struct ph_table *t = ps->t;
	char *words = line + strcspn(line, " \t");
	if (!*words)
		return fail(ps, "a number needs its words: \"21 twenty-one\"");
	*words++ = '\0';
	words += strspn(words, " \t");
	size_t nlen = strlen(line);
	int prefix = nlen > 1 && line[nlen - 1] == '+';
	if (prefix)
		line[--nlen] = '\0';
	char *end;
	errno = 0;
	long n = nlen && isdigit((unsigned char)line[0]) ? strtol(line, &end, 10) : -1;
	if (n < 0 || errno || *end || n > PH_NUMBER_MAX)
		return fail(ps, "\"%s\" is not a number from 0 to %d", line, PH_NUMBER_MAX);
	char **slot;
	if (prefix) {
		if (n < 100 || n % 100)
			return fail(ps, "a prefix form is for a whole hundred: \"100+ ...\"");
		slot = &t->hundreds_prefix[n / 100];
	} else
		slot = &t->numbers[n];
	if (*slot)
		return fail(ps, "number %ld%s given twice", n, prefix ? "+" : "");
	*slot = pc_xstrdup(words);
	return 0;
}

/* ---- section headers ---- */

static int header(struct parser *ps, char *line)
{
	struct ph_table *t = ps->t;
	size_t n = strlen(line);
	if (line[n - 1] != ']')
		return fail(ps, "a section header ends with ']'");
	line[n - 1] = '\0';
	char *w[5];
	int nw = 0;
	for (char *s = strtok(line + 1, " \t"); s; s = strtok(NULL, " \t")) {
		if (nw == 4)
			return fail(ps, "a section header has at most 4 words: [part kind band style]");
		w[nw++] = s;
	}
	if (nw == 0)
		return fail(ps, "empty section header");
	if (!strcmp(w[0], "meta") || !strcmp(w[0], "numbers")) {
		if (nw > 1)
			return fail(ps, "[%s] takes no qualifiers", w[0]);
		ps->in = w[0][0] == 'm' ? SECT_META : SECT_NUMBERS;
		return 0;
	}
	int part = -1;
	for (int i = 0; i < PH_NPARTS; i++)
		if (!strcmp(w[0], part_names[i]))
			part = i;
	if (part < 0)
		return fail(ps, "unknown section \"%s\"", w[0]);
	if (t->nsections == PH_SECTIONS_MAX)
		return fail(ps, "more than %d sections", PH_SECTIONS_MAX);
	struct ph_section sec = {.part = part, .band = PH_BAND_ANY, .slot = -1, .first = t->nlines};
	if (part == PH_TIME) {
		if (nw != 2)
			return fail(ps, "a time section names its slot: [time after]");
		for (int i = 0; i < TS_NSLOTS; i++)
			if (!strcmp(w[1], slot_names[i]))
				sec.slot = i;
		if (sec.slot < 0)
			return fail(ps, "unknown time slot \"%s\"", w[1]);
		snprintf(sec.kind, sizeof sec.kind, "%s", w[1]);
	} else {
		if (nw > 1 && strcmp(w[1], "*")) {
			if (!plain_name(w[1]))
				return fail(ps, "event kind \"%s\" is not a plain name", w[1]);
			snprintf(sec.kind, sizeof sec.kind, "%s", w[1]);
		}
		if (nw > 2 && strcmp(w[2], "*")) {
			for (int i = 0; i < PH_NBANDS; i++)
				if (!strcmp(w[2], band_names[i]))
					sec.band = i;
			if (sec.band == PH_BAND_ANY)
				return fail(ps, "band \"%s\" is not low, mid, high or *", w[2]);
		}
		if (nw > 3 && strcmp(w[3], "*")) {
			if (!ph_has_style(t, w[3]))
				return fail(ps, "style \"%s\" is not in [meta] styles", w[3]);
			snprintf(sec.style, sizeof sec.style, "%s", w[3]);
		}
	}
	t->sections = pc_xrealloc(t->sections, (t->nsections + 1) * sizeof *t->sections);
	t->sections[t->nsections++] = sec;
	ps->in = SECT_PHRASES;
	return 0;
}

/* ---- phrase lines ---- */

static int placeholder_ok(enum ph_part part, const char *name, size_t len)
{
	static const char *const content[] = {"time", "label"};
	static const char *const time[] = {"s", "m", "n"};
	const char *const *names = part == PH_TIME ? time : content;
	size_t count = part == PH_TIME ? 3 : 2;
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return 1;
	return 0;
}

static int phrase_line(struct parser *ps, const char *line)
{
	struct ph_table *t = ps->t;
	struct ph_section *sec = &t->sections[t->nsections - 1];
	for (const char *p = line; *p; p++) {
		if (*p == '}')
			return fail(ps, "'}' without '{'");
		if (*p != '{')
			continue;
		const char *close = strchr(p, '}');
		if (!close)
			return fail(ps, "'{' without '}'");
		if (!placeholder_ok(sec->part, p + 1, (size_t)(close - p - 1)))
			return fail(ps, "unknown placeholder {%.*s} in [%s]", (int)(close - p - 1 > 20 ? 20 : close - p - 1),
				    p + 1, part_names[sec->part]);
		p = close;
	}
	if (t->nlines == PH_LINES_MAX)
		return fail(ps, "more than %d phrases", PH_LINES_MAX);
	t->lines = pc_xrealloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
	t->lines[t->nlines++] = pc_xstrdup(line);
	sec->count++;
	return 0;
}

static int one_line(struct parser *ps, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		line[--n] = '\0';
	line += strspn(line, " \t");
	if (!*line || *line == '#')
		return 0;
	if (*line == '[')
		return header(ps, line);
	switch (ps->in) {
	case SECT_META:
		return meta_line(ps, line);
	case SECT_NUMBERS:
		return number_line(ps, line);
	case SECT_PHRASES:
		return phrase_line(ps, line);
	default:
		return fail(ps, "text before the first [section]");
	}
}

/* ---- the table as a whole ---- */

/* Lines that could serve a request: used to check that every style and band
 * has something to say for a kind the table does not know. */
static size_t lines_for(const struct ph_table *t, enum ph_part part, int band, const char *style)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nsections; i++) {
		const struct ph_section *s = &t->sections[i];
		if (s->part == part && !s->kind[0] && (s->band == PH_BAND_ANY || s->band == band) &&
		    (!s->style[0] || !strcmp(s->style, style)))
			n += s->count;
	}
	return n;
}

static int check_complete(struct parser *ps)
{
	struct ph_table *t = ps->t;
	ps->line = 0;
	if (!t->lang[0])
		return fail(ps, "no lang in [meta]");
	for (int slot = 0; slot < TS_NSLOTS; slot++) {
		size_t n = 0;
		for (size_t i = 0; i < t->nsections; i++)
			if (t->sections[i].part == PH_TIME && t->sections[i].slot == slot)
				n += t->sections[i].count;
		if (!n)
			return fail(ps, "no [time %s] phrases", slot_names[slot]);
	}
	int nstyles = t->nstyles ? t->nstyles : 1;
	for (int s = 0; s < nstyles; s++) {
		const char *style = t->nstyles ? t->styles[s] : "";
		for (int b = 0; b < PH_NBANDS; b++) {
			if (!lines_for(t, PH_REACT, b, style))
				return fail(ps, "no [react * %s%s%s] phrases for an unknown kind", band_names[b],
					    *style ? " " : "", style);
			if (!lines_for(t, PH_SHORT, b, style))
				return fail(ps, "no [short * %s%s%s] phrases", band_names[b], *style ? " " : "", style);
		}
		if (!lines_for(t, PH_WHEN, PH_HIGH, style))
			return fail(ps, "no [when] phrases%s%s", *style ? " for style " : "", style);
	}
	return 0;
}

int ph_parse(const char *text, size_t len, const char *name, struct ph_table *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->band_mid = 0.4;
	t->band_high = 0.7;
	struct parser ps = {.t = t, .name = name, .err = err, .errlen = errlen};
	char line[PH_LINE_MAX + 2];
	size_t pos = 0;
	int rc = 0;
	if (len > PH_TABLE_MAX)
		rc = fail(&ps, "longer than %d bytes", PH_TABLE_MAX);
	while (rc == 0 && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		ps.line++;
		if (n > PH_LINE_MAX)
			rc = fail(&ps, "line longer than %d bytes", PH_LINE_MAX);
		else if (memchr(text + pos, '\0', n))
			rc = fail(&ps, "NUL byte");
		else if (!utf8_valid((const unsigned char *)text + pos, n))
			rc = fail(&ps, "not UTF-8");
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			rc = one_line(&ps, line);
		}
		pos += n + 1;
	}
	if (rc == 0)
		rc = check_complete(&ps);
	if (rc < 0)
		ph_free(t);
	return rc;
}

int ph_load(const char *path, struct ph_table *t, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct buf b = {0};
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 && b.len <= PH_TABLE_MAX)
		buf_append(&b, chunk, n);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		snprintf(err, errlen, "%s: read error", path);
		buf_free(&b);
		return -1;
	}
	const char *base = strrchr(path, '/');
	int rc = ph_parse(b.data ? b.data : "", b.len, base ? base + 1 : path, t, err, errlen);
	buf_free(&b);
	return rc;
}

int ph_path(const char *lang, char *out, size_t n)
{
	if (!plain_name(lang))
		return -1;
	const char *dir = getenv("PLAYCALL_DATA");
	int w = snprintf(out, n, "%s/narrate/%s.phrases", dir && *dir ? dir : PLAYCALL_DATADIR, lang);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

void ph_free(struct ph_table *t)
{
	for (int i = 0; i <= PH_NUMBER_MAX; i++)
		free(t->numbers[i]);
	for (int i = 0; i < 10; i++)
		free(t->hundreds_prefix[i]);
	for (size_t i = 0; i < t->nlines; i++)
		free(t->lines[i]);
	free(t->lines);
	free(t->sections);
	memset(t, 0, sizeof *t);
}

int ph_band(const struct ph_table *t, double score)
{
	return score >= t->band_high ? PH_HIGH : score >= t->band_mid ? PH_MID : PH_LOW;
}

/* ---- numbers and time in words ---- */

static int number_under_100(const struct ph_table *t, long n, struct buf *out)
{
	if (t->numbers[n]) {
		buf_puts(out, t->numbers[n]);
		return 0;
	}
	long tens = n / 10 * 10, units = n % 10;
	if (n < 10 || !units || !t->numbers[tens] || !t->numbers[units])
		return -1;
	buf_printf(out, "%s%s%s", t->numbers[tens], t->join, t->numbers[units]);
	return 0;
}

void ph_number(const struct ph_table *t, long n, char *out, size_t size)
{
	struct buf b = {0};
	int rc = -1;
	if (n >= 0 && n < 100)
		rc = number_under_100(t, n, &b);
	else if (n >= 100 && n <= PH_NUMBER_MAX) {
		if (t->numbers[n]) {
			buf_puts(&b, t->numbers[n]);
			rc = 0;
		} else if (n % 100) {
			const char *prefix = t->hundreds_prefix[n / 100] ? t->hundreds_prefix[n / 100]
									 : t->numbers[n / 100 * 100];
			if (prefix) {
				buf_printf(&b, "%s%s", prefix, t->hundred_join);
				rc = number_under_100(t, n % 100, &b);
			}
		}
	}
	if (rc < 0 || b.len >= size)
		snprintf(out, size, "%ld", n);
	else
		memcpy(out, b.data, b.len + 1);
	buf_free(&b);
}

enum ph_slot ph_slot_of(double t, long *s, long *m, long *n)
{
	*s = *m = *n = 0;
	if (!(t >= 5))   /* NaN too */
		return TS_START;
	if (t < 55) {
		*s = lround(t);
		return TS_SECONDS;
	}
	*m = (long)floor(t / 60);
	double sec = t - 60.0 * (double)*m;
	*n = *m + 1;
	if (*m == 0 || sec >= 40)
		return TS_BEFORE;
	return sec < 5 ? TS_MARK : sec < 20 ? TS_AFTER : TS_HALF;
}
