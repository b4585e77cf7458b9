/* Media work for the cloud video analysis, run on the loop:
 *   - cutting a video into segments with ffmpeg -c copy (at keyframes, no
 *     re-encode), each reported as soon as ffmpeg closes it, so the first
 *     can be uploaded while the rest are cut;
 *   - sampling JPEG frames (rate and width) from one ffmpeg, each frame
 *     reported as it is decoded.
 * The parsers of what ffmpeg writes (the segment list, the JPEG stream)
 * are fuzz targets (tests/fuzz/fuzz_api_media.c). */
#ifndef PC_API_MEDIA_H
#define PC_API_MEDIA_H

#include "pc.h"

#define API_SEGMENTS_MAX 4096
#define API_FRAME_MAX (4L << 20)       /* bytes of one JPEG frame */
#define API_MEDIA_STALL_TIMEOUT 120.0  /* s: an ffmpeg silent this long is stuck */

/* Where to cut: every interval bound, and each interval split in equal
 * pieces of at most seg_len seconds (seg_len <= 0: bounds only).  bounds
 * has intervals + 1 entries.  Cut points are written to cuts (0 and the end
 * left out); their number, at most max. */
int api_segment_cuts(const double *bounds, int intervals, double seg_len, double *cuts, int max);

/* One line of ffmpeg's CSV segment list: "name,start,end".  0, or -1. */
int api_parse_segment_line(const char *line, char *name, size_t n, double *start, double *end);

struct api_segmenter;
/* A segment is complete: path, and its times in the source. */
typedef void (*api_segment_cb)(void *arg, int index, const char *path, double start, double end);
/* The end: 0, or -1 with ffmpeg's reason (the segments so far stay valid). */
typedef void (*api_media_done_cb)(void *arg, int status, const char *err);
/* Cut src into dir/seg_NNNN.mp4 at the cut points: the video copied (cut at
 * the keyframe at or after each point).  The audio is copied when acodec
 * (the source's, from ffprobe) is AAC or MP3, which MP4 holds as they are;
 * any other is re-encoded to AAC.  height > 0: the video re-encoded
 * instead, one frame a second at that height (or the source's, if lower),
 * every frame a keyframe (cut exactly): far fewer bytes to send, and what
 * a model samples from a video anyway. */
#define API_REDUCED_FPS 1
/* from, to: the part of src to cut (to <= from: to its end); cuts and the
 * times reported are the source's. */
struct api_segmenter *api_segment_start(struct loop *l, const char *src, const char *dir,
					const char *acodec, double from, double to, const double *cuts, int ncuts,
					int height, api_segment_cb on_segment, api_media_done_cb on_done, void *arg);
void api_segment_cancel(struct api_segmenter *s);   /* kills ffmpeg; no more callbacks */

/* Splits a stream of concatenated JPEG images (ffmpeg -f image2pipe) into
 * frames: SOI (FF D8) to EOI (FF D9), markers' lengths and entropy-coded
 * data (FF 00 stuffing, RST markers) followed, so a FF D9 inside a segment
 * does not end a frame. */
struct jpeg_split {
	struct buf cur;       /* the frame being gathered */
	int state;
	size_t seg_left;      /* bytes left of a marker segment */
	int in_scan;          /* in entropy-coded data */
	long frames;
	long skipped;         /* bytes outside any frame */
	int too_big;          /* the current frame passed API_FRAME_MAX: dropped */
};
typedef void (*jpeg_frame_cb)(void *arg, const unsigned char *jpeg, size_t len);
void jpeg_split_init(struct jpeg_split *j);
void jpeg_split_feed(struct jpeg_split *j, const void *data, size_t len, jpeg_frame_cb cb, void *arg);
void jpeg_split_free(struct jpeg_split *j);

struct api_frames;
/* Frame n of the sampling, at t seconds of the source. */
typedef void (*api_frame_cb)(void *arg, int n, double t, const unsigned char *jpeg, size_t len);
/* JPEG frames of src at fps frames a second, width pixels wide. */
struct api_frames *api_frames_start(struct loop *l, const char *src, double fps, int width,
				    api_frame_cb on_frame, api_media_done_cb on_done, void *arg);
void api_frames_cancel(struct api_frames *f);

#endif
