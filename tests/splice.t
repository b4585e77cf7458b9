#!/bin/sh
# splice on an H.264 source with sound: each chunk copies the video from the
# keyframe at or before its window, ducks the original to 20 % and lays the
# speech over it from 1 s; then the reel, its chapters and captions, and the
# HLS playlist, all probed with ffprobe and measured with volumedetect.
. "$(dirname "$0")/lib.sh"

src=$T/game.mp4
make_video "$src" 40          # 25 fps, a keyframe every 2 s, quiet pink noise
make_tone "$T/say.wav" 3      # the "speech": loud, 3 s
dir=$T/videos/streaming/s1
cat >"$T/in.ndjson" <<EOF
{"type":"session","session":"s1","source":"$src","duration":40,"dir":"$dir","has_video":true,"has_audio":true}
{"type":"audio","session":"s1","index":0,"start":5.3,"end":13.3,"text":"A shot <saved> & cleared","path":"$T/say.wav","speech_duration":3}
{"type":"status","session":"s1","stage":"speak","message":"between the chunks"}
{"type":"audio","session":"s1","index":1,"start":20.5,"end":22,"text":"Longer than its window","path":"$T/say.wav","speech_duration":3}
{"type":"audio","session":"s1","index":2,"start":30,"end":36,"text":"Not spoken","path":null}
{"type":"session_end","session":"s1","intervals":2}
EOF
out=$T/out.ndjson
splice <"$T/in.ndjson" >"$out" 2>"$T/err"
is "$?" 0 "exit status 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(field "$out" '" ".join(r["type"] for r in rs)')" \
	"session chunk_ready status chunk_ready chunk_ready complete session_end" \
	"records in input order (each chunk where its audio was), session_end last"
is "$(field "$out" '[r["index"] for r in of("chunk_ready")]')" "[0, 1, 2]" "chunk_ready in index order"
is "$(field "$out" 'rs[1] == json.loads(open(sys.argv[1]).readlines()[1])')" "true" \
	"status record passed through unchanged"

chunk() { field "$out" "of('chunk_ready')[$1]$2"; }
for i in 0 1 2; do
	f=$dir/chunk_$i.mp4
	is "$(chunk $i '["path"]')" "$f" "chunk $i: path"
	is "$(chunk $i '["url"]')" "/videos/streaming/s1/chunk_$i.mp4" "chunk $i: url"
	is "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$f" | tr '\n' ' ')" "h264 aac " \
		"chunk $i: H.264 video and AAC audio"
	num_near "$(probe_duration "$f")" "$(chunk $i '["duration"]')" 0.1 "chunk $i: duration as recorded"
	is "$(chunk $i '["video"]')" "copy" "chunk $i: video copied"
	like "$(chunk $i '["start_time"]')" '^00:00:[0-9][0-9]$' "chunk $i: start_time HH:MM:SS"
done
is "$(for i in 0 1 2; do ffprobe -v error -select_streams a -show_entries stream=sample_rate,channels \
	-of csv=p=0 "$dir/chunk_$i.mp4"; done | sort -u)" "44100,1" \
	"every chunk: the same audio parameters (the source's rate, mono)"

# The cut moved back to the keyframe at 4 s (window 5.3); the clock strings.
is "$(chunk 0 '["start"]')" "4" "chunk 0 starts on the keyframe before 5.3 s"
is "$(chunk 0 '["start_time"] + " " + of("chunk_ready")[0]["end_time"]')" "00:00:04 00:00:13" "chunk 0: clock strings"
num_near "$(chunk 0 '["end"] - of("chunk_ready")[0]["start"]')" "$(chunk 0 '["duration"]')" 0.001 "chunk 0: end - start = duration"

# The copy really copies: same codec parameters, same packets.
params() { ffprobe -v error -select_streams v:0 -show_data_hash MD5 \
	-show_entries stream=codec_name,profile,level,width,height,pix_fmt,extradata_hash -of csv=p=0 "$1"; }
is "$(params "$dir/chunk_0.mp4")" "$(params "$src")" "copy: codec parameters and extradata equal the source's"
hashes() { ffprobe -v error -select_streams v:0 -read_intervals "$2" -show_data_hash MD5 \
	-show_entries packet=size,data_hash -of csv=p=0 "$1"; }
src_packets=$(hashes "$src" "4%+#100")
chunk_packets=$(hashes "$dir/chunk_0.mp4" "%+#100")
is "$(echo "$chunk_packets" | wc -l)" 100 "copy: 100 packets compared"
is "$chunk_packets" "$src_packets" "copy: packet sizes and hashes equal the source's from the keyframe"

# Levels: speech from 1 s, the original at 20 % (-14 dB) elsewhere.
c0=$dir/chunk_0.mp4
before=$(mean_volume "$c0" 0 0.9)
speech=$(mean_volume "$c0" 1.2 2.6)
num_cmp "$(awk -v a="$speech" -v b="$before" 'BEGIN { print a - b }')" ">=" 25 \
	"chunk 0: speech from 1 s is far louder than before it ($speech vs $before dB)"
num_near "$(awk -v a="$before" -v b="$(mean_volume "$src" 4 0.9)" 'BEGIN { print a - b }')" -14 1.5 \
	"chunk 0: original at 20 % before the speech"
after=$(mean_volume "$c0" 5 3)
num_near "$(awk -v a="$after" -v b="$(mean_volume "$src" 9 3)" 'BEGIN { print a - b }')" -14 1.5 \
	"chunk 0: original at 20 % after the speech"

# The commentary is never cut: chunk 1's window (20.5-22) grows to hold it.
num_cmp "$(chunk 1 '["duration"]')" ">=" 4.2 "chunk 1: extended to hold delay + speech"
num_cmp "$(chunk 1 '["end"]')" ">=" 24.3 "chunk 1: ends at least 0.3 s after the speech"
num_cmp "$(awk -v a="$(mean_volume "$dir/chunk_1.mp4" 3.4 0.5)" -v b="$(mean_volume "$dir/chunk_1.mp4" 0 0.9)" \
	'BEGIN { print a - b }')" ">=" 25 "chunk 1: the speech's last second is there"

# path null: the ducked original only.
num_near "$(awk -v a="$(mean_volume "$dir/chunk_2.mp4" 1 4)" -v b="$(mean_volume "$src" 31 4)" 'BEGIN { print a - b }')" \
	-14 1.5 "chunk 2: no speech, the original at 20 %"
is "$(chunk 2 '["captions"]')" "null" "chunk 2: no captions without speech"

# Captions: one cue, from the delay to the end of the speech.
is "$(chunk 0 '["captions"]')" "/videos/streaming/s1/chunk_0.vtt" "chunk 0: captions url"
is "$(cat "$dir/chunk_0.vtt")" "$(printf 'WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nA shot &lt;saved&gt; &amp; cleared')" \
	"chunk 0: WebVTT cue"
[ ! -e "$dir/chunk_2.vtt" ]; ok $? "chunk 2: no caption file"

progress=$(field "$out" '[r["progress"] for r in of("chunk_ready")]')
is "$(field "$out" 'all(0 <= a <= b <= 99 for a, b in zip([r["progress"] for r in of("chunk_ready")], [r["progress"] for r in of("chunk_ready")][1:]))')" \
	"true" "progress grows and stays below 100 until complete ($progress)"

# The reel: concatenated, chapters, captions.
final=$T/videos/generated-videos/commentary_s1.mp4
is "$(field "$out" 'of("complete")[0]["chunks"]')" 3 "complete: 3 chunks"
is "$(field "$out" 'of("complete")[0]["final_video"]')" "commentary_s1.mp4" "complete: final_video"
is "$(field "$out" 'of("complete")[0]["url"]')" "/videos/generated-videos/commentary_s1.mp4" "complete: url"
is "$(field "$out" 'of("complete")[0]["path"]')" "$final" "complete: path"
is "$(field "$out" 'of("complete")[0]["progress"]')" 100 "complete: progress 100"
sum=$(field "$out" 'sum(r["duration"] for r in of("chunk_ready"))')
num_near "$(probe_duration "$final")" "$sum" 0.3 "reel: duration is the chunks' sum ($sum)"
num_near "$(field "$out" 'of("complete")[0]["duration"]')" "$(probe_duration "$final")" 0.001 "complete: duration"
is "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$final" | head -2 | tr '\n' ' ')" "h264 aac " \
	"reel: video and sound"
chapters=$(ffprobe -v error -show_chapters -show_entries chapter=start_time:chapter_tags=title -of csv=p=0 "$final")
is "$(echo "$chapters" | wc -l)" 3 "reel: one chapter per highlight"
is "$(echo "$chapters" | cut -d, -f2- | tr '\n' '|')" "A shot <saved> & cleared|Longer than its window|Not spoken|" \
	"reel: chapter titles are the commentary"
num_near "$(echo "$chapters" | sed -n 3p | cut -d, -f1)" "$(field "$out" 'sum(r["duration"] for r in of("chunk_ready")[:2])')" \
	0.01 "reel: third chapter starts where the third chunk does"
is "$(field "$out" 'of("complete")[0]["captions"]')" "/videos/generated-videos/commentary_s1.vtt" "complete: captions url"
second_cue=$(field "$out" '"%02d:%06.3f" % divmod(of("chunk_ready")[0]["duration"] + 1, 60)')
is "$(grep -c -- '-->' "$T/videos/generated-videos/commentary_s1.vtt")" 2 "reel captions: two spoken chunks"
like "$(cat "$T/videos/generated-videos/commentary_s1.vtt")" "00:$second_cue --> " \
	"reel captions: the second cue at its chunk's offset + 1 s"

# HLS: complete playlist, segments as long as the chunks, plays end to end.
m3u8=$dir/stream.m3u8
is "$(field "$out" 'of("complete")[0]["playlist"]')" "/videos/streaming/s1/stream.m3u8" "complete: playlist url"
is "$(tail -n1 "$m3u8")" "#EXT-X-ENDLIST" "playlist ends with ENDLIST"
is "$(grep '^#EXTINF' "$m3u8" | tr '\n' ' ')" \
	"$(field "$out" '" ".join("#EXTINF:%.3f," % r["duration"] for r in of("chunk_ready"))') " \
	"playlist: one segment per chunk, as long as it"
is "$(grep -v '^#' "$m3u8" | tr '\n' ' ')" "chunk_0.ts chunk_1.ts chunk_2.ts " "playlist: MPEG-TS segments"
is "$(grep '^#EXT-X-TARGETDURATION' "$m3u8")" \
	"#EXT-X-TARGETDURATION:$(field "$out" '__import__("math").ceil(max(r["duration"] for r in of("chunk_ready")))')" \
	"playlist: target duration is the longest segment rounded up"
is "$(ffprobe -v error -show_entries format=format_name -of csv=p=0 "$m3u8")" "hls" "ffprobe reads it as HLS"
frames() { ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -f framemd5 - | grep -vc '^#'; }
want=0
for i in 0 1 2; do want=$((want + $(frames "$dir/chunk_$i.mp4"))); done
is "$(frames "$m3u8")" "$want" "the whole playlist plays: every frame of every chunk ($want)"
num_near "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$m3u8")" "$sum" 0.01 "playlist duration is the chunks' sum"
is "$(ffmpeg -nostdin -v warning -i "$m3u8" -f null - 2>&1)" "" "the playlist plays without a warning (no overlaps, no corrupt packets)"
is "$(ffmpeg -nostdin -v warning -i "$final" -f null - 2>&1)" "" "the reel plays without a warning"

is "$(find "$T/videos" -name '.*' | wc -l)" 0 "no temporary files left"
done_testing
