/* Sizing text to its window: how long it takes to say, and what fits. */
#define _GNU_SOURCE
#include "narrate.h"

#include <stdlib.h>
#include <string.h>

/* The Unicode code point at s (UTF-8), its length in *len; a stray byte is
 * taken as itself so counting never stalls. */
static unsigned long utf8_next(const unsigned char *s, int *len)
{
	unsigned char c = s[0];
	int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
	unsigned long cp = n == 1 ? c : c & (0x3f >> (n - 1));
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = 1;
			return c;
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*len = n;
	return cp;
}

/* Letters and digits make words; everything else (spaces, hyphens,
 * punctuation, ¡ ¿ « » and the General Punctuation block) parts them. */
static int word_char(unsigned long cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
		       cp == '\'';
	if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7)
		return 0;
	return !(cp >= 0x2000 && cp <= 0x206f);
}

static int pause_char(unsigned long cp)
{
	return cp == ',' || cp == '.' || cp == '!' || cp == '?' || cp == ';' || cp == ':' ||
	       cp == 0x2026 /* … */ || cp == 0x2014 /* — */;
}

/* Vowels, for counting syllables: a, e, i, o, u, y and their accented
 * Latin-1 forms (á é í ó ú ü ...). */
static int vowel(unsigned long cp)
{
	if (cp < 0x80)
		return strchr("aeiouyAEIOUY", (int)cp) && cp;
	return (cp >= 0xc0 && cp <= 0xc6) || (cp >= 0xc8 && cp <= 0xcf) || (cp >= 0xd2 && cp <= 0xd6) ||
	       (cp >= 0xd9 && cp <= 0xdd) || (cp >= 0xe0 && cp <= 0xe6) || (cp >= 0xe8 && cp <= 0xef) ||
	       (cp >= 0xf2 && cp <= 0xf6) || (cp >= 0xf9 && cp <= 0xfd) || cp == 0xff;
}

double fit_words(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	double words = 0, syllables = 0, pauses = 0;
	int in_word = 0, in_vowels = 0, word_syl = 0, after_pause = 1;
	for (;;) {
		int len = 1;
		unsigned long cp = *s ? utf8_next(s, &len) : 0;
		if (cp && word_char(cp)) {
			if (!in_word)
				words += 1;
			in_word = 1;
			after_pause = 0;
			if (vowel(cp) && !in_vowels)
				word_syl++;
			in_vowels = vowel(cp);
		} else {
			if (in_word)
				syllables += word_syl ? word_syl : 1;
			in_word = in_vowels = word_syl = 0;
			/* "!!" or "?!" is one pause */
			if (pause_char(cp) && !after_pause) {
				pauses += NAR_PAUSE_WORDS;
				after_pause = 1;
			}
		}
		if (!cp)
			break;
		s += len;
	}
	double spoken = syllables / NAR_SYLLABLES_PER_WORD;
	if (spoken < words)
		spoken = words;
	return spoken ? spoken + pauses + NAR_START_WORDS : 0;
}

double fit_budget(double len, double delay, double wps)
{
	double b = (len - delay) * wps;
	return b > 0 ? b : 0;
}

int fit_fits(const char *text, double len, double delay, double wps)
{
	return fit_words(text) <= fit_budget(len, delay, wps) + 1e-9;
}

double fit_min_window(double delay, double wps)
{
	return delay + (1 + NAR_PAUSE_WORDS + NAR_START_WORDS) / wps;
}

static int sentence_end(unsigned char c)
{
	return c == '.' || c == '!' || c == '?';
}

void fit_trim(char *text, double max)
{
	if (fit_words(text) <= max)
		return;
	/* Whole sentences while they fit. */
	size_t n = strlen(text), keep = 0;
	for (size_t i = 0; i < n; i++) {
		if (!sentence_end((unsigned char)text[i]) || (text[i + 1] && text[i + 1] != ' '))
			continue;
		char save = text[i + 1];
		text[i + 1] = '\0';
		int fits = fit_words(text) <= max;
		text[i + 1] = save;
		if (!fits)
			break;
		keep = i + 1;
	}
	if (keep) {
		text[keep] = '\0';
		return;
	}
	/* No sentence fits: whole words, then a full stop (which costs a
	 * pause, so one word fewer when needed). */
	char *prefix = pc_xstrdup(text);
	size_t best = 0;
	for (size_t cut = 1; cut <= n; cut++) {
		if (text[cut] != ' ' && text[cut] != '\0')
			continue;
		size_t end = cut;
		while (end > 0 && strchr(" ,.;:!?-", text[end - 1]))
			end--;
		memcpy(prefix, text, end);
		prefix[end] = '\0';
		if (end == 0)
			continue;
		if (fit_words(prefix) + NAR_PAUSE_WORDS > max)
			break;
		best = end;
	}
	free(prefix);
	text[best] = '\0';
	if (best)
		strcpy(text + best, ".");
}
