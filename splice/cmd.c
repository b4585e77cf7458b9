/* Command lines for ffmpeg and ffprobe.  Built as argv arrays (never a shell
 * string); paths from records go in as file: URLs so a name can be neither
 * an option nor a protocol. */
#define _GNU_SOURCE
#include "splice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRF_DEFAULT "23"     /* libx264's own default quality, said out loud */

void args_add(struct args *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = pc_xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = pc_xstrdup(s);
	a->v[a->n] = NULL;
}

void args_addf(struct args *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		pc_die(PC_EXIT_FAIL, "out of memory");
	va_end(ap);
	args_add(a, s);
	free(s);
}

void args_list(struct args *a, ...)
{
	va_list ap;
	va_start(ap, a);
	for (const char *s; (s = va_arg(ap, const char *));)
		args_add(a, s);
	va_end(ap);
}

void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

void args_add_file(struct args *a, const char *path)
{
	args_addf(a, "file:%s", path);
}

void encoding_choose(struct encoding *e, const struct media_info *mi, const char *preset, int force_transcode)
{
	memset(e, 0, sizeof *e);
	e->has_video = mi->has_video;
	e->has_audio = mi->has_audio;
	/* H.264 in 8-bit 4:2:0 is what every browser plays: copy it. */
	e->copy = mi->has_video && !force_transcode && !strcmp(mi->vcodec, "h264") &&
		  (!strcmp(mi->pix_fmt, "yuv420p") || !strcmp(mi->pix_fmt, "yuvj420p"));
	e->even_scale = mi->has_video && !e->copy && (mi->width % 2 || mi->height % 2);
	/* Keep the source's rate when it is a usual one; speech is mono, so
	 * a mono or silent source stays mono. */
	e->sample_rate = mi->has_audio && (mi->sample_rate == 44100 || mi->sample_rate == 48000)
				 ? mi->sample_rate : 48000;
	e->channels = mi->has_audio && mi->channels >= 2 ? 2 : 1;
	e->audio_bitrate = 64000 * e->channels;
	e->preset = preset;
}

void cmd_source_probe(struct args *a, const char *source)
{
	args_list(a, "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
		  (char *)NULL);
	args_add_file(a, source);
}

void cmd_keyframes(struct args *a, const char *source, double from, double to)
{
	/* Packet headers only: nothing is decoded. */
	args_list(a, "ffprobe", "-v", "error", "-read_intervals", (char *)NULL);
	args_addf(a, "%.6f%%%.6f", from, to);
	args_list(a, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
		  (char *)NULL);
	args_add_file(a, source);
}

/* The audio graph, ending in [a]: the original ducked, the speech delayed,
 * mixed without normalising (amix would otherwise halve both); padded with
 * silence to the video's end so every chunk's tracks end together. */
static void audio_graph(struct buf *g, const struct encoding *e, const struct cut *c)
{
	long delay_ms = lround(c->delay * 1000);
	const char *pad = e->has_video ? ",apad" : "";
	if (e->has_audio && c->speech)
		buf_printf(g, "[0:a:0]volume=%.4g[bed];[1:a:0]adelay=%ld:all=1[say];"
			      "[bed][say]amix=inputs=2:duration=first:dropout_transition=0:normalize=0%s[a]",
			   c->duck, delay_ms, pad);
	else if (e->has_audio)
		buf_printf(g, "[0:a:0]volume=%.4g%s[a]", c->duck, pad);
	else if (c->speech)
		buf_printf(g, "[1:a:0]adelay=%ld:all=1%s[a]", delay_ms, pad);
	else
		buf_printf(g, "anullsrc=r=%d:cl=%s[a]", e->sample_rate, e->channels == 2 ? "stereo" : "mono");
}

void cmd_cut(struct args *a, const struct encoding *e, const struct cut *c)
{
	/* -ss before -i: a seek, not a decode from the start.  With copy the
	 * start is a keyframe, so the seek lands on it exactly. */
	args_list(a, "ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", (char *)NULL);
	args_addf(a, "%.6f", c->ss);
	args_add(a, "-t");
	args_addf(a, "%.6f", c->t);
	args_add(a, "-i");
	args_add_file(a, c->source);
	if (c->speech) {
		args_add(a, "-i");
		args_add_file(a, c->speech);
	}
	struct buf graph = {0};
	audio_graph(&graph, e, c);
	if (e->even_scale)
		buf_puts(&graph, ";[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2[v]");
	args_list(a, "-filter_complex", buf_cstr(&graph), (char *)NULL);
	buf_free(&graph);
	if (e->has_video)
		args_list(a, "-map", e->even_scale ? "[v]" : "0:v:0", (char *)NULL);
	args_list(a, "-map", "[a]", (char *)NULL);
	if (e->copy)
		args_list(a, "-c:v", "copy", (char *)NULL);
	else if (e->has_video)
		args_list(a, "-c:v", "libx264", "-preset", e->preset, "-crf", CRF_DEFAULT,
			  "-pix_fmt", "yuv420p", (char *)NULL);
	/* The fast AAC coder halves the encode, most of a copied chunk's cost. */
	args_list(a, "-c:a", "aac", "-aac_coder", "fast", "-b:a", (char *)NULL);
	args_addf(a, "%d", e->audio_bitrate);
	args_add(a, "-ar");
	args_addf(a, "%d", e->sample_rate);
	args_add(a, "-ac");
	args_addf(a, "%d", e->channels);
	if (e->has_video)
		args_add(a, "-shortest");   /* the padded audio stops with the video */
	args_list(a, "-map_chapters", "-1", "-movflags", "+faststart", "-f", "mp4", (char *)NULL);
	args_add_file(a, c->out);
}

void cmd_segment(struct args *a, const char *chunk, const char *out, double ts_offset)
{
	args_list(a, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", (char *)NULL);
	args_add_file(a, chunk);
	/* MPEG-TS has no edit list to hide the AAC encoder's priming frame
	 * (before 0 in the chunk): played, it would overlap the segment
	 * before.  Drop that one packet; the video's first is a keyframe at 0. */
	args_list(a, "-map", "0", "-c", "copy", "-copypriorss:a", "0", "-output_ts_offset", (char *)NULL);
	args_addf(a, "%.6f", ts_offset);
	/* Each segment is muxed on its own, so its continuity counters start
	 * afresh: say so, or a reader joining segments flags the frame
	 * before each boundary as corrupt. */
	args_list(a, "-mpegts_flags", "+initial_discontinuity", "-f", "mpegts", (char *)NULL);
	args_add_file(a, out);
}

void cmd_concat(struct args *a, const char *list, const char *chapters, const char *out)
{
	args_list(a, "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
		  (char *)NULL);
	args_add_file(a, list);
	args_list(a, "-f", "ffmetadata", "-i", (char *)NULL);
	args_add_file(a, chapters);
	args_list(a, "-map", "0", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy",
		  "-movflags", "+faststart", "-f", "mp4", (char *)NULL);
	args_add_file(a, out);
}
