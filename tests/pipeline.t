#!/bin/sh
# The whole pipeline, as playcall(7) EXAMPLES shows it: one video, then
# several videos in one stream.  Offline backends only.
. "$(dirname "$0")/lib.sh"
for t in detect narrate speak splice; do
	command -v $t >/dev/null || skip_all "$t not built"
done
make_video "$T/game.mp4" 40 --bursts "8 27"
make_video "$T/other.mp4" 20 --bursts "10"

# --- detect game.mp4 | narrate | speak | splice
cd "$T"
detect game.mp4 | narrate | speak | splice > one.ndjson 2> one.err
ok $? "the pipeline exits 0"
is "$(field one.ndjson 'len(of("complete"))')" 1 "one complete record"
n=$(field one.ndjson 'len(of("chunk_ready"))')
num_cmp "$n" ">=" 2 "a chunk per loud moment ($n)"
is "$(field one.ndjson 'of("complete")[0]["chunks"]')" "$n" "complete counts the chunks"
is "$(field one.ndjson '[r["index"] for r in of("chunk_ready")] == list(range(len(of("chunk_ready"))))')" true \
	"chunks in index order"
is "$(field one.ndjson 'all(abs(r["progress"]) <= 100 for r in of("chunk_ready"))')" true "progress within 0..100"
is "$(field one.ndjson 'rs[-1]["type"]')" session_end "session_end is the last record"
is "$(field one.ndjson 'rs[0]["type"]')" session "session is the first record"
for path in $(field one.ndjson '" ".join(r["path"] for r in of("chunk_ready"))'); do
	d=$(probe_duration "$path")
	want=$(field one.ndjson "[r['duration'] for r in of('chunk_ready') if r['path'] == '$path'][0]")
	num_near "$d" "$want" 0.15 "$(basename "$path") lasts what its record says ($want s)"
done
final=$(field one.ndjson 'of("complete")[0]["url"]')
final_path="$PLAYCALL_OUT${final#/videos}"
[ -s "$final_path" ]; ok $? "the final reel exists at the complete record's url"
sum=$(field one.ndjson 'sum(r["duration"] for r in of("chunk_ready"))')
num_near "$(probe_duration "$final_path")" "$sum" 0.3 "the reel lasts as long as its chunks"
# The speech is really in the chunks: the first chunk is louder from 1 s on
# than the ducked original alone.
first=$(field one.ndjson 'of("chunk_ready")[0]["path"]')
speech_db=$(ffmpeg -nostdin -ss 1.2 -t 1 -i "$first" -af volumedetect -f null - 2>&1 | sed -n 's/.*mean_volume: \(.*\) dB/\1/p')
num_cmp "$speech_db" ">" -35 "speech is audible in the first chunk ($speech_db dB)"
is "$(grep -c . one.err)" 0 "nothing on stderr"

# --- for f in *.mp4; do detect "$f"; done | narrate | speak | splice
for f in game.mp4 other.mp4; do detect "$f"; done | narrate | speak | splice > many.ndjson 2> many.err
ok $? "several videos in one stream exit 0"
is "$(field many.ndjson 'len(of("complete"))')" 2 "a complete record per video"
is "$(field many.ndjson 'len(set(r["session"] for r in of("complete")))')" 2 "two distinct sessions"
is "$(field many.ndjson 'all(any(c["session"] == s["session"] for c in of("complete")) for s in of("session"))')" true \
	"every session completed"
done_testing
