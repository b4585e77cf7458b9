/* What ffprobe says about a media file. */
#ifndef PC_MEDIA_H
#define PC_MEDIA_H
#include <stddef.h>

struct media_info {
	double duration;        /* seconds; 0 when unknown */
	int has_video, has_audio;
	char vcodec[32], acodec[32];
	char pix_fmt[32], profile[48];
	int width, height;
	double fps;             /* average frame rate; 0 when unknown */
	int sample_rate, channels;
	long long size;         /* bytes, from the container */
	char format[64];        /* container: "mov,mp4,m4a,3gp,3g2,mj2", "avi", ... */
};

/* Parse ffprobe -print_format json -show_format -show_streams output.
 * 0, or -1 with a reason in err.  Fuzz target: tests/fuzz/fuzz_media.c */
int media_parse(const char *json, size_t len, struct media_info *mi, char *err, size_t errlen);
/* Run ffprobe on path (timeout 30 s) and parse.  -1 with a one-line reason
 * (ffprobe's own last line when it has one). */
int media_probe(const char *path, struct media_info *mi, char *err, size_t errlen);

#endif
