#!/bin/sh
# The issue's "done when", and speak.1's EXAMPLES: detect | narrate | speak
# on a generated clip with loud bursts at known times.  Needs detect and
# narrate built (other tools); skipped until they are.
. "$(dirname "$0")/speak-lib.sh"
for tool in detect narrate; do
	command -v $tool >/dev/null || skip_all "$tool not built"
done
command -v espeak-ng >/dev/null || skip_all "espeak-ng not installed"
make_video "$T/clip.mp4" 40 --bursts "12 30"

detect "$T/clip.mp4" >"$T/events.ndjson"
narrate <"$T/events.ndjson" >"$T/commentary.ndjson"
speak <"$T/commentary.ndjson" >"$T/out.ndjson" 2>"$T/err"
is $? 0 "detect, narrate, speak: exit 0"
is "$(field "$T/out.ndjson" "len(of('audio'))")" 2 "two highlights, two audio records"
is "$(field "$T/out.ndjson" "[any(r['start'] <= t <= r['end'] for r in of('audio')) for t in (12, 30)]")" "[true, true]" \
	"the highlight windows hold the bursts at 12 s and 30 s"
is "$(field "$T/out.ndjson" "all(r['text'].strip() for r in of('audio'))")" "true" "commentary is not empty"
is "$(field "$T/out.ndjson" "len(set(r['text'] for r in of('audio'))) == len(of('audio'))")" "true" "commentary does not repeat"
n=$(field "$T/out.ndjson" "len(of('audio'))")
i=0
while [ $i -lt "$n" ]; do
	path=$(field "$T/out.ndjson" "of('audio')[$i]['path']")
	said=$(field "$T/out.ndjson" "of('audio')[$i]['speech_duration']")
	room=$(field "$T/out.ndjson" "of('audio')[$i]['end'] - of('audio')[$i]['start'] - 1")
	num_near "$said" "$(probe_duration "$path")" 0.05 "speech $i: ffprobe agrees with speech_duration ($said s)"
	num_cmp "$said" "<=" "$room" "speech $i: fits its window after the 1 s delay ($room s)"
	i=$((i + 1))
done
is "$(shape "$T/out.ndjson" | tr ' ' '\n' | grep -v status | tr '\n' ' ')" "session audio:0 audio:1 session_end " "records in order, session_end last"

# EXAMPLES: a slower, higher voice, two at a time.  The same commentary as
# above (narrate picks its phrases at random), so only the rate differs.
speak --rate 150 --voice +f3 --jobs 2 <"$T/commentary.ndjson" >"$T/ex2.ndjson"
is "$(field "$T/ex2.ndjson" "sorted(set(r['voice'] for r in of('audio')))")" '["en+f3"]' "EXAMPLES: --voice +f3"
num_cmp "$(field "$T/ex2.ndjson" "of('audio')[0]['speech_duration']")" ">" "$(field "$T/out.ndjson" "of('audio')[0]['speech_duration']")" \
	"EXAMPLES: --rate 150 speaks slower than the record's 2.9 words per second"

# EXAMPLES: Spanish commentary, spoken in Spanish.
detect "$T/clip.mp4" | narrate --lang es | speak >"$T/es.ndjson"
is "$(field "$T/es.ndjson" "sorted(set((r['lang'], r['voice']) for r in of('audio')))")" '[["es", "es"]]' "EXAMPLES: narrate --lang es | speak speaks Spanish"
p=$(field "$T/es.ndjson" "of('audio')[0]['path']")
num_near "$(field "$T/es.ndjson" "of('audio')[0]['speech_duration']")" "$(probe_duration "$p")" 0.05 "EXAMPLES: the Spanish speech probes right"

# EXAMPLES: from scratch, ignoring the cache.
narrate <"$T/events.ndjson" >"$T/narrated.ndjson"
recs commentary "$T/narrated.ndjson" >"$T/commentary.ndjson"
speak --no-cache <"$T/commentary.ndjson" >"$T/audio.ndjson"
is "$(field "$T/audio.ndjson" "len(of('audio'))")" 2 "EXAMPLES: speak --no-cache <commentary.ndjson >audio.ndjson"

# EXAMPLES: the whole offline job, when splice is built.
if command -v splice >/dev/null; then
	detect "$T/clip.mp4" | narrate | speak | splice >"$T/job.ndjson"
	is $? 0 "EXAMPLES: detect | narrate | speak | splice exits 0"
	is "$(field "$T/job.ndjson" "len(of('chunk_ready'))")" 2 "EXAMPLES: one chunk per highlight"
else
	pass "# SKIP splice not built"
	pass "# SKIP splice not built"
fi
done_testing
