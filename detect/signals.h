/* Parsers of the ffmpeg output the local backend reads as it comes.
 * Outside input: each takes any bytes without harm (fuzz target:
 * tests/fuzz/fuzz_detect.c). */
#ifndef DETECT_SIGNALS_H
#define DETECT_SIGNALS_H
#include <stddef.h>

#define META_MAX_KEYS 8
#define META_LINE_MAX 256   /* longer lines are not ffmpeg's metadata: ignored */

/* ffmpeg's metadata=print / ametadata=print lines:
 *     frame:12   pts:6144    pts_time:0.48
 *     lavfi.scene_score=0.012
 * A frame is complete when the next "frame:" line (or the end) comes. */
struct meta_frame {
	double t;                   /* pts_time */
	double v[META_MAX_KEYS];    /* the values of the keys asked for */
	unsigned have;              /* bit i: v[i] was given */
};
typedef void (*meta_frame_cb)(void *arg, const struct meta_frame *f);
struct meta_parser {
	const char *const *keys;
	size_t nkeys;
	struct meta_frame cur;
	int open;                   /* cur holds a frame being read */
	meta_frame_cb on_frame;
	void *arg;
	long lines, ignored;
};
void meta_init(struct meta_parser *mp, const char *const *keys, size_t nkeys, meta_frame_cb cb, void *arg);
void meta_line(struct meta_parser *mp, const char *line, size_t len);
void meta_end(struct meta_parser *mp);

/* ffmpeg's framecrc muxer (-c copy -f framecrc -), one stream:
 *     #tb 0: 1/12800
 *     0,      -1024,          0,      512,     4585, 0x7de78be2
 *     0,       -512,       2048,      512,     1990, 0x6495dc95, F=0x0
 * A packet without "F=" is a keyframe (the muxer writes flags only when
 * they are not just "key"). */
typedef void (*pkt_cb)(void *arg, double t, long size, int key);
struct pkt_parser {
	double tb;                  /* seconds per tick; 0 until the #tb line */
	pkt_cb on_packet;
	void *arg;
	long lines, ignored;
};
void pkt_init(struct pkt_parser *pp, pkt_cb cb, void *arg);
void pkt_line(struct pkt_parser *pp, const char *line, size_t len);

#endif
