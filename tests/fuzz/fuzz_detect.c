/* Fuzz target: what detect reads from ffmpeg (detect/signals.c) and what it
 * makes of it (detect/analyze.c, the emitter's clean-up).  Every line goes
 * to all three parsers, whose callbacks feed one analyzer. */
#include "pc.h"
#include "../../detect/analyze.h"
#include "../../detect/detect.h"
#include "../../detect/signals.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_EVENTS 256

struct sink {
	struct analyzer *an;
	struct det_event evs[FUZZ_MAX_EVENTS];
	size_t n;
};

static const char *const audio_keys[] = {"lavfi.r128.M"};
static const char *const key_keys[AN_KEY_STATS] = {
	"lavfi.scene_score", "lavfi.signalstats.YAVG", "lavfi.signalstats.YHIGH",
	"lavfi.signalstats.YDIF", "lavfi.signalstats.UDIF", "lavfi.signalstats.VDIF",
};

static void on_event(void *arg, const struct det_event *ev)
{
	struct sink *s = arg;
	if (s->n < FUZZ_MAX_EVENTS)
		s->evs[s->n++] = *ev;
}

static void on_audio(void *arg, const struct meta_frame *f)
{
	struct sink *s = arg;
	if (f->have & 1)
		an_audio(s->an, f->t, f->v[0]);
}

static void on_key(void *arg, const struct meta_frame *f)
{
	struct sink *s = arg;
	struct an_keyframe k = {.t = f->t, .have = f->have};
	memcpy(k.v, f->v, sizeof k.v);
	an_keyframe(s->an, &k);
}

static void on_packet(void *arg, double t, long size, int key)
{
	struct sink *s = arg;
	an_packet(s->an, t, size, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink s;
	struct meta_parser audio, keys;
	struct pkt_parser pkts;
	s.n = 0;
	s.an = an_new(size ? data[0] % 40 : 0, on_event, &s);
	meta_init(&audio, audio_keys, 1, on_audio, &s);
	meta_init(&keys, key_keys, AN_KEY_STATS, on_key, &s);
	pkt_init(&pkts, on_packet, &s);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		meta_line(&audio, p, len);
		meta_line(&keys, p, len);
		pkt_line(&pkts, p, len);
		p += len + 1;
	}
	meta_end(&audio);
	meta_end(&keys);
	an_audio_end(s.an);
	an_packets_end(s.an);
	an_keyframes_end(s.an, 1e6);
	an_free(s.an);
	det_tidy(s.evs, s.n, 0.1);
	return 0;
}
