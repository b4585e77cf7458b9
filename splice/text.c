/* The text files splice writes next to the video: WebVTT captions, the
 * chapter list, the concat script and the HLS playlist.  Pure renderers. */
#define _GNU_SOURCE
#include "splice.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void vtt_time(struct buf *out, double t)
{
	long long ms = t > 0 ? llround(t * 1000) : 0;
	buf_printf(out, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
		   ms % 1000);
}

/* Cue text on one line (a blank line would end the cue); the characters
 * WebVTT gives meaning to, escaped. */
static void vtt_text(struct buf *out, const char *s)
{
	int space = 0;
	for (; *s; s++) {
		char c = *s;
		if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
			space = 1;
			continue;
		}
		if (space && out->len && out->data[out->len - 1] != '\n')
			buf_puts(out, " ");
		space = 0;
		if (c == '&')
			buf_puts(out, "&amp;");
		else if (c == '<')
			buf_puts(out, "&lt;");
		else if (c == '>')
			buf_puts(out, "&gt;");
		else
			buf_append(out, &c, 1);
	}
}

void vtt_render(struct buf *out, const struct cue *cues, size_t n)
{
	buf_puts(out, "WEBVTT\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "\n%zu\n", i + 1);
		vtt_time(out, cues[i].start);
		buf_puts(out, " --> ");
		vtt_time(out, cues[i].end);
		buf_puts(out, "\n");
		vtt_text(out, cues[i].text ? cues[i].text : "");
		buf_puts(out, "\n");
	}
}

void chapters_render(struct buf *out, const struct cue *chapters, size_t n)
{
	buf_puts(out, ";FFMETADATA1\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=%lld\nEND=%lld\ntitle=",
			   llround(chapters[i].start * 1000), llround(chapters[i].end * 1000));
		/* ffmetadata: = ; # \ and newline are special; a newline
		 * becomes a space, the rest are escaped with a backslash. */
		for (const char *s = chapters[i].text ? chapters[i].text : ""; *s; s++) {
			if (*s == '\n' || *s == '\r') {
				buf_puts(out, " ");
				continue;
			}
			if (strchr("=;#\\", *s))
				buf_puts(out, "\\");
			buf_append(out, s, 1);
		}
		buf_puts(out, "\n");
	}
}

void concat_render(struct buf *out, char *const paths[], const double durations[], size_t n)
{
	buf_puts(out, "ffconcat version 1.0\n");
	for (size_t i = 0; i < n; i++) {
		buf_puts(out, "file '");
		for (const char *s = paths[i]; *s; s++) {
			if (*s == '\'')
				buf_puts(out, "'\\''");
			else
				buf_append(out, s, 1);
		}
		/* The demuxer would take the same duration from the file; saying
		 * it makes the reel seekable before it is read through. */
		buf_printf(out, "'\nduration %.6f\n", durations[i]);
	}
}

void hls_render(struct buf *out, char *const names[], const double durations[], size_t n, int ended)
{
	double longest = 1;
	for (size_t i = 0; i < n; i++)
		if (durations[i] > longest)
			longest = durations[i];
	buf_printf(out, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
			"#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n",
		   (int)ceil(longest));
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "#EXTINF:%.3f,\n%s\n", durations[i], names[i]);
	if (ended)
		buf_puts(out, "#EXT-X-ENDLIST\n");
}
