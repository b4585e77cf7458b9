/* Signals to events: the local backend's judgement, kept apart from the
 * processes that feed it so it can be tested (and fuzzed) on its own.
 *
 * Three signals, each a time series in file order:
 *   audio      EBU R128 momentary loudness (LUFS) every 0.1 s
 *   keyframes  decoded keyframes, scaled down: scene score, luma statistics
 *   packets    the video's compressed packets: time, size, key flag
 * Events (playcall(7) EVENTS), each decided within AN_LOOKAHEAD seconds of
 * signal time after it happened:
 *   crowd/"crowd roar"   loudness this far over the running baseline for a
 *                        second or more                   score 0.6..1
 *   whistle/"whistle"    a shorter sharp peak             score 0.45..0.7
 *   motion/"burst of motion"  the encoder spending far more bits per frame
 *                        than its running baseline        score 0.3..0.6
 *   cut/"camera cut"     a keyframe unlike the one before, placed at the
 *                        biggest packet between them      score 0.2..0.4
 *   lull/"silence", lull/"black screen"                   score 0.05..0.15 */
#ifndef DETECT_ANALYZE_H
#define DETECT_ANALYZE_H
#include "backend.h"

#define AN_LOOKAHEAD 2.5     /* s of signal after an event before it is decided */
#define AN_RISE_DEFAULT 7.0  /* LU over the baseline that makes a loud peak */
#define AN_MAX_TIME 1e8      /* s: times beyond this (three years) are nonsense */

enum an_key_stat { AN_SCENE, AN_YAVG, AN_YHIGH, AN_YDIF, AN_UDIF, AN_VDIF, AN_KEY_STATS };

struct an_keyframe {
	double t;
	double v[AN_KEY_STATS];
	unsigned have;        /* bit i: v[i] known */
};

typedef void (*an_event_cb)(void *arg, const struct det_event *ev);
struct analyzer;

struct analyzer *an_new(double rise, an_event_cb cb, void *arg);
void an_free(struct analyzer *an);
void an_audio(struct analyzer *an, double t, double momentary);
void an_audio_end(struct analyzer *an);
/* Packets before keyframes: a keyframe's cut is placed among the packets
 * seen up to its time. */
void an_packet(struct analyzer *an, double t, long size, int key);
void an_packets_end(struct analyzer *an);
/* How far the packet signal is settled (pts reorder taken into account). */
double an_packets_settled(const struct analyzer *an);
void an_keyframe(struct analyzer *an, const struct an_keyframe *k);
void an_keyframes_end(struct analyzer *an, double duration);

#endif
