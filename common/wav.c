/* WAV headers: the chunk walk of RIFF/WAVE, enough to measure a speech file
 * exactly and to refuse one that was cut off.  The header is outside input
 * (a backend wrote it), so every size is checked before it is used. */
#define _GNU_SOURCE
#include "wav.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	WAVE_PCM = 1,
	WAVE_FLOAT = 3,
	WAVE_ALAW = 6,
	WAVE_MULAW = 7,
	WAVE_EXTENSIBLE = 0xfffe,
	WAV_CHANNELS_MAX = 64,
	WAV_RATE_MAX = 1000000,
	WAV_BITS_MAX = 64,
};
#define WAV_SIZE_STREAMED 0xffffffffu   /* a writer that could not seek back */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int parse_fmt(const unsigned char *f, uint32_t size, struct wav_info *wi, char *err, size_t errlen)
{
	if (size < 16) {
		snprintf(err, errlen, "fmt chunk of %u bytes is too short", (unsigned)size);
		return -1;
	}
	wi->format = (int)le16(f);
	wi->channels = (int)le16(f + 2);
	wi->sample_rate = (int)(le32(f + 4) > WAV_RATE_MAX ? 0 : le32(f + 4));
	uint32_t byte_rate = le32(f + 8);
	wi->block_align = (int)le16(f + 12);
	wi->bits = (int)le16(f + 14);
	/* WAVE_FORMAT_EXTENSIBLE: the real format opens the sub-format GUID. */
	if (wi->format == WAVE_EXTENSIBLE && size >= 40)
		wi->format = (int)le16(f + 24);
	if (wi->format != WAVE_PCM && wi->format != WAVE_FLOAT && wi->format != WAVE_ALAW &&
	    wi->format != WAVE_MULAW) {
		snprintf(err, errlen, "unsupported WAV sample format %d", wi->format);
		return -1;
	}
	if (wi->channels < 1 || wi->channels > WAV_CHANNELS_MAX || wi->sample_rate < 1 ||
	    wi->bits < 1 || wi->bits > WAV_BITS_MAX) {
		snprintf(err, errlen, "impossible WAV format: %d channels, %d Hz, %d bits", wi->channels,
			 wi->sample_rate, wi->bits);
		return -1;
	}
	/* Frames of whole bytes: the sizes must agree, or the duration lies. */
	if (wi->block_align != wi->channels * ((wi->bits + 7) / 8) ||
	    byte_rate != (uint32_t)wi->sample_rate * (uint32_t)wi->block_align) {
		snprintf(err, errlen, "inconsistent WAV format: block align %d, byte rate %u",
			 wi->block_align, (unsigned)byte_rate);
		return -1;
	}
	return 0;
}

int wav_parse(const void *head, size_t len, uint64_t total, struct wav_info *wi, char *err, size_t errlen)
{
	const unsigned char *p = head;
	memset(wi, 0, sizeof *wi);
	if (total < len)
		total = len;
	if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4)) {
		snprintf(err, errlen, "not a WAV file (no RIFF/WAVE header)");
		return -1;
	}
	int have_fmt = 0;
	uint64_t off = 12;
	while (off + 8 <= len) {
		const unsigned char *id = p + off;
		uint32_t size = le32(p + off + 4);
		uint64_t body = off + 8;
		if (!memcmp(id, "fmt ", 4)) {
			if (body + (size < 40 ? size : 40) > len) {
				snprintf(err, errlen, "fmt chunk cut off");
				return -1;
			}
			if (parse_fmt(p + body, size, wi, err, errlen) < 0)
				return -1;
			have_fmt = 1;
		} else if (!memcmp(id, "data", 4)) {
			if (!have_fmt) {
				snprintf(err, errlen, "data chunk before the fmt chunk");
				return -1;
			}
			wi->data_offset = body;
			if (size == 0 || size == WAV_SIZE_STREAMED)
				wi->data_bytes = total - body;
			else if (body + size > total) {
				snprintf(err, errlen, "cut off: data chunk of %u bytes, file has %llu",
					 (unsigned)size, (unsigned long long)(total - body));
				return -1;
			} else
				wi->data_bytes = size;
			wi->duration = (double)wi->data_bytes / ((double)wi->sample_rate * wi->block_align);
			return 0;
		}
		off = body + size + (size & 1);   /* chunks are padded to even sizes */
	}
	snprintf(err, errlen, "no data chunk in the first %zu bytes", len);
	return -1;
}

int wav_probe(const char *path, struct wav_info *wi, char *err, size_t errlen)
{
	static unsigned char head[WAV_HEAD_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t len = 0;
	while (len < sizeof head) {
		ssize_t n = read(fd, head + len, sizeof head - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	char why[200];
	if (wav_parse(head, len, (uint64_t)st.st_size, wi, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}
