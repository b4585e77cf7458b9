/* The speech backend seam.
 *
 * A backend turns one text into one speech file, asynchronously, on the
 * stage's event loop (common/loop: child processes through aproc, HTTP
 * through loop_curl_add; never a thread).  speak does everything around it:
 * reading records, choosing language, voice and rate, the cache, the
 * session folder, the temporary name and the rename, measuring the file,
 * the audio/error/status records and their order.
 *
 * Adding a backend touches only its new file (speak/<name>.c defining one
 * `const struct speak_backend speak_<name>`) and speak/backends.c: its line
 * in the table (and the extern declaration beside it).  Its options, if any, are declared in its struct and
 * appear on the command line and in the environment by themselves.
 *
 * A request's life:
 *   1. speak resolves the language (--lang, else the record's `lang`, else
 *      en), asks voice() for the voice, picks the rate (--rate, else the
 *      record's `wps` x 60, else SPEAK_RATE_DEFAULT);
 *   2. key() names the result in the cache: every input that changes the
 *      sound, the backend's name first.  A cache hit skips the backend;
 *   3. start() writes the speech to req->path (a hidden temporary name in
 *      the session folder, ending in "." ext) and later calls done exactly
 *      once, from the loop (never from inside start);
 *   4. on SPEAK_OK speak measures the file (WAV by its header, anything else
 *      with ffprobe), renames it to speech_<index>.<ext>, stores it in the
 *      cache and writes the `audio` record.  Any other outcome: the
 *      temporary file is removed and the record says path null.
 *
 * Outcomes:
 *   SPEAK_OK           req->path holds the whole speech file.
 *   SPEAK_FAILED       this text failed (bad voice, a crash, a timeout, a
 *                      service error); the next one may work.  An `error`
 *                      record names the index and the message.
 *   SPEAK_QUOTA        the service's quota is spent: audio path null and a
 *                      `status` record saying so (not an error: nothing is
 *                      broken, the reel is made without commentary).
 *   SPEAK_UNAVAILABLE  the backend cannot work at all (its binary missing):
 *                      said once on stderr, an `error` record per index.
 * The message is one line for people: the service's own words, never a key.
 *
 * Cancellation: there is none.  When speak must stop (a signal, stdout
 * closed) it exits and common/ kills every child process group; a backend's
 * requests simply die with the process.
 */
#ifndef SPEAK_BACKEND_H
#define SPEAK_BACKEND_H
#include <stddef.h>

struct loop;

#define SPEAK_VOICE_MAX 128         /* a voice name or id */
#define SPEAK_RATE_DEFAULT 175      /* words per minute: espeak-ng's own default */
#define SPEAK_RATE_MIN 80           /* espeak-ng's range */
#define SPEAK_RATE_MAX 450

struct speak_req {
	const char *text;    /* UTF-8, non-empty */
	const char *lang;    /* the voice's language: "en", "es" */
	const char *voice;   /* as voice() resolved it */
	int rate;            /* words per minute; a backend without rate control maps or ignores it */
	const char *path;    /* write the speech here */
	double timeout;      /* seconds the whole synthesis may take */
};
/* The request and its strings live only during start(): copy what you keep. */

enum speak_outcome { SPEAK_OK, SPEAK_FAILED, SPEAK_QUOTA, SPEAK_UNAVAILABLE };

typedef void (*speak_done_fn)(void *arg, enum speak_outcome outcome, const char *message);

/* A backend option: --NAME VALUE on the command line, else the environment
 * variable ENV, else the default already in *value.  Names are unique over
 * all backends: prefix them with the backend's name ("elevenlabs-model"). */
struct speak_option {
	const char *name;
	const char *env;      /* PLAYCALL_*, or NULL */
	const char *arg;      /* the value's name in --help: "ID" */
	const char *help;     /* one line for --help */
	const char **value;
};

struct speak_backend {
	const char *name;     /* for --backend and the records' `speech_backend` */
	const char *ext;      /* the speech file's extension: "wav", "mp3" */
	const struct speak_option *options;   /* ends with a zeroed entry; may be NULL */
	/* --backend auto takes the first backend in the table for which this
	 * says 1 (its key is set, say).  NULL: only by name. */
	int (*usable)(void);
	/* Once, when chosen, after the options are read: check them, read keys.
	 * -1 with a message: a configuration error (exit 2).  May be NULL. */
	int (*init)(char *err, size_t errlen);
	/* The voice for a language, given --voice (NULL when not given). */
	void (*voice)(const char *opt_voice, const char *lang, char *out, size_t n);
	/* The cache key (cache_key() of every input that changes the sound). */
	void (*key)(const struct speak_req *req, char out[65]);
	void (*start)(struct loop *l, const struct speak_req *req, speak_done_fn done, void *arg);
};

/* speak/backends.c: the table. */
extern const struct speak_backend *const speak_backends[];
/* By name, or "auto": the first usable one, else the last (offline) one.
 * NULL when the name is unknown. */
const struct speak_backend *speak_backend_find(const char *name);

#endif
