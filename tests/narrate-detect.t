#!/bin/sh
# narrate on real detect output: a generated clip with loud bursts at 23 s
# and 50 s gives highlight windows around those times, commentary that is
# non-empty, non-repeating and fits; through speak, speech files whose
# measured length matches speech_duration and fits the window.  Also runs
# the pipelines of narrate(1) EXAMPLES.
. "$(dirname "$0")/lib.sh"
command -v narrate >/dev/null || skip_all "narrate is not built"
[ -x "$PLAYCALL_BUILD/bin/detect" ] || skip_all "detect is not built"

make_video "$T/game.mp4" 75 --bursts "23 50" || skip_all "ffmpeg could not make the test video"
detect "$T/game.mp4" >"$T/events.ndjson" 2>"$T/detect.err"
ok $? "detect ran"

narrate --seed 1 <"$T/events.ndjson" >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "narrate: exit 0"
is "$(cat "$T/err")" "" "narrate: nothing on stderr"
is "$(field "$T/out" 'len(of("events"))')" 0 "events records consumed"
is "$(field "$T/out" 'len(of("status")) == len([l for l in open(sys.argv[1].replace("out", "events.ndjson")) if "\"status\"" in l])')" \
	"true" "detect's status records passed through"
for t in 23 50; do
	is "$(field "$T/out" "len([r for r in of('commentary') if r['start'] < $t < r['end'] and $t - r['start'] >= 4])")" 1 \
		"a highlight window around the burst at $t s, with its lead-in"
done
is "$(field "$T/out" '[r["index"] for r in of("commentary")]')" "[0, 1]" "two highlights, indexes 0 and 1"
is "$(field "$T/out" 'all(len(r["text"].split()) >= 5 for r in of("commentary"))')" "true" "commentary is not empty"
said='[s.strip() for r in of("commentary") for s in __import__("re").findall(r"[^.!?]+[.!?]+", r["text"])]'
is "$(field "$T/out" "[s for s in set($said) if $said.count(s) > 1]")" "[]" "no sentence repeated"
is "$(field "$T/out" '[r["index"] for r in of("commentary") if len(r["text"].split()) / r["wps"] + r["delay"] > r["end"] - r["start"]]')" \
	"[]" "every text fits its window at its wps"
is "$(field "$T/out" 'rs[-1]["type"]')" "session_end" "session_end last"

if [ -x "$PLAYCALL_BUILD/bin/speak" ] && command -v espeak-ng >/dev/null; then
	speak <"$T/out" >"$T/audio" 2>"$T/speak.err"
	is "$(field "$T/audio" 'len([r for r in of("audio") if r["path"]])')" 2 "speak: a speech file per highlight"
	n=0 bad=""
	while IFS='	' read -r path recorded window delay; do
		measured=$(probe_duration "$path")
		awk -v m="$measured" -v r="$recorded" 'BEGIN { d = m - r; exit !(d < 0.1 && d > -0.1) }' ||
			bad="$bad measured $measured vs $recorded;"
		awk -v m="$measured" -v w="$window" -v d="$delay" 'BEGIN { exit !(d + m <= w) }' ||
			bad="$bad $measured s from $delay s overruns $window s;"
		n=$((n + 1))
	done <<EOF
$(field "$T/audio" '"\n".join("%s\t%s\t%s\t%s" % (r["path"], r["speech_duration"], r["end"] - r["start"], r["delay"]) for r in of("audio") if r["path"])')
EOF
	is "$n:$bad" "2:" "speech: ffprobe's length matches speech_duration and, 1 s in, fits the window"
fi

# narrate(1) EXAMPLES
(cd "$T" && detect game.mp4 | narrate --full --lang es --style calm) >"$T/full" 2>"$T/err"
is "$(field "$T/full" '[[r["start"], r["end"], r["lang"], r["style"]] for r in of("commentary")]')" \
	'[[0, 30, "es", "calm"], [30, 60, "es", "calm"], [60, 75, "es", "calm"]]' \
	"example: detect game.mp4 | narrate --full --lang es --style calm"
is "$(field "$T/full" 'sum(r["text"].count("!") for r in of("commentary"))')" 0 "example: ... calm"
if [ -x "$PLAYCALL_BUILD/bin/speak" ] && [ -x "$PLAYCALL_BUILD/bin/splice" ]; then
	(cd "$T" && detect game.mp4 | narrate | speak | splice --json) >"$T/reel" 2>"$T/err"; rc=$?
	is "$rc" 0 "example: detect game.mp4 | narrate | speak | splice: exit 0"
	is "$(field "$T/reel" 'len(of("complete"))')" 1 "example: ... a complete reel"
fi

done_testing
