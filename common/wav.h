/* What a WAV (RIFF/WAVE) header says: enough to know how long the sound is
 * without running ffprobe, and to tell a whole file from a cut-off one. */
#ifndef PC_WAV_H
#define PC_WAV_H
#include <stddef.h>
#include <stdint.h>

/* Bytes read from the start of a file to find the fmt and data chunks. */
#define WAV_HEAD_MAX 65536

struct wav_info {
	int format;            /* 1 PCM, 3 IEEE float, ... (WAVE_FORMAT_EXTENSIBLE resolved) */
	int channels;
	int sample_rate;
	int bits;              /* bits per sample */
	int block_align;       /* bytes per frame */
	uint64_t data_offset;  /* where the samples start */
	uint64_t data_bytes;   /* how many bytes of samples */
	double duration;       /* seconds: data_bytes / (sample_rate * block_align) */
};

/* Parse the header in head[0..len) of a file of total bytes (total >= len).
 * A data chunk sized 0 or 0xffffffff (written to a pipe, never patched) runs
 * to the end of the file; a data chunk larger than the file is refused as
 * cut off.  0, or -1 with a reason in err.  Fuzz target: tests/fuzz/fuzz_wav.c */
int wav_parse(const void *head, size_t len, uint64_t total, struct wav_info *wi, char *err, size_t errlen);
/* wav_parse on a file: its first WAV_HEAD_MAX bytes and its size. */
int wav_probe(const char *path, struct wav_info *wi, char *err, size_t errlen);

#endif
