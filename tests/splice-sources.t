#!/bin/sh
# splice on the sources that are not H.264 with sound: H.264 without audio
# (video copied, speech over silence), MPEG-4 in AVI with and without audio
# (transcoded to H.264 from exactly the window's start), and sound only.
# Every chunk has an AAC track (and H.264 video when the source has video),
# so the reel concatenates; speech is heard from 1 s.
. "$(dirname "$0")/lib.sh"

make_tone "$T/say.wav" 2
# case NAME SOURCE: one session of two chunks (speech, then none) and its
# reel; sets $out (records) and $dir (the session's folder).
case_run() {
	name=$1 src=$2
	dir=$T/videos/streaming/$name
	out=$T/$name.ndjson
	cat >"$T/$name.in" <<EOF
{"type":"session","session":"$name","source":"$src","duration":20,"dir":"$dir"}
{"type":"audio","session":"$name","index":0,"start":3.3,"end":9.3,"text":"First","path":"$T/say.wav","speech_duration":2}
{"type":"audio","session":"$name","index":1,"start":12,"end":16,"text":"Second","path":null}
{"type":"session_end","session":"$name"}
EOF
	splice <"$T/$name.in" >"$out" 2>"$T/$name.err"
	is "$?" 0 "$name: exit status 0"
	is "$(field "$out" '" ".join(r["type"] for r in rs)')" "session chunk_ready chunk_ready complete session_end" \
		"$name: records"
}
chunk() { field "$out" "of('chunk_ready')[$1]$2"; }
common_checks() {
	for i in 0 1; do
		f=$dir/chunk_$i.mp4
		is "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$f" | tr '\n' ' ')" "h264 aac " \
			"$name chunk $i: H.264 and AAC"
		num_near "$(probe_duration "$f")" "$(chunk $i '["duration"]')" 0.1 "$name chunk $i: duration as recorded"
	done
	c0=$dir/chunk_0.mp4
	num_cmp "$(awk -v a="$(mean_volume "$c0" 1.2 1.6)" -v b="$(mean_volume "$c0" 0 0.9)" 'BEGIN { print a - b }')" \
		">=" 25 "$name: speech heard from 1 s"
	final=$T/videos/generated-videos/commentary_$name.mp4
	num_near "$(probe_duration "$final")" "$(field "$out" 'sum(r["duration"] for r in of("chunk_ready"))')" 0.2 \
		"$name: reel is as long as its chunks"
	is "$(ffprobe -v error -show_chapters -of csv=p=0 "$final" | wc -l)" 2 "$name: reel has two chapters"
	is "$(ffmpeg -nostdin -v warning -i "$dir/stream.m3u8" -f null - 2>&1; echo $?)" 0 "$name: playlist plays without a warning"
	is "$(ffmpeg -nostdin -v warning -i "$final" -f null - 2>&1; echo $?)" 0 "$name: reel plays without a warning"
}

# H.264 without audio: copied video; the speech over silence.
make_video "$T/mute.mp4" 20 --noaudio
case_run mute "$T/mute.mp4"
common_checks
is "$(chunk 0 '["video"]')" "copy" "mute: video copied"
is "$(chunk 0 '["start"]')" "2" "mute: starts on the keyframe at 2 s"
num_cmp "$(mean_volume "$dir/chunk_0.mp4" 0 0.9)" "<" -80 "mute: silence before the speech"
num_cmp "$(mean_volume "$dir/chunk_1.mp4")" "<" -80 "mute: path null gives a silent track"
is "$(ffprobe -v error -select_streams a -show_entries stream=sample_rate,channels -of csv=p=0 "$dir/chunk_0.mp4")" \
	"48000,1" "mute: mono 48 kHz"

# MPEG-4 in AVI with sound: transcoded, cut exactly at the window.
make_video "$T/old.avi" 20 --vcodec mpeg4
is "$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 "$T/old.avi")" "mpeg4" "old: an MPEG-4 source"
case_run old "$T/old.avi"
common_checks
is "$(chunk 0 '["video"]')" "transcode" "old: video transcoded"
is "$(chunk 0 '["start"]')" "3.3" "old: starts exactly at the window"
num_near "$(chunk 1 '["duration"]')" 4 0.1 "old: a window's length when the speech fits"
num_near "$(awk -v a="$(mean_volume "$dir/chunk_1.mp4" 0.5 3)" -v b="$(mean_volume "$T/old.avi" 12.5 3)" \
	'BEGIN { print a - b }')" -14 1.5 "old: the original at 20 %"
is "$(ffprobe -v error -select_streams v -show_entries stream=profile,pix_fmt -of csv=p=0 "$dir/chunk_0.mp4")" \
	"High,yuv420p" "old: chunks a browser plays (High profile, 4:2:0)"

# MPEG-4 in AVI without sound.
make_video "$T/oldmute.avi" 20 --vcodec mpeg4 --noaudio
case_run oldmute "$T/oldmute.avi"
common_checks
is "$(chunk 1 '["video"]')" "transcode" "oldmute: video transcoded"
num_cmp "$(mean_volume "$dir/chunk_1.mp4")" "<" -80 "oldmute: path null gives a silent track"

# Sound only (a radio commentary): chunks of sound, the speech over it.
ffmpeg -nostdin -v error -y -f lavfi -i "anoisesrc=color=pink:amplitude=0.03:sample_rate=44100:duration=20:seed=7" \
	-c:a aac "$T/radio.m4a"
case_run radio "$T/radio.m4a"
is "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$dir/chunk_0.mp4")" "aac" "radio: a chunk of sound only"
is "$(chunk 0 '["video"]')" "none" "radio: video none"
num_cmp "$(awk -v a="$(mean_volume "$dir/chunk_0.mp4" 1.2 1.6)" -v b="$(mean_volume "$dir/chunk_0.mp4" 0 0.9)" \
	'BEGIN { print a - b }')" ">=" 25 "radio: speech heard from 1 s"
num_near "$(probe_duration "$T/videos/generated-videos/commentary_radio.mp4")" \
	"$(field "$out" 'sum(r["duration"] for r in of("chunk_ready"))')" 0.2 "radio: the reel"

# Where the speech starts: the record's delay (narrate fitted the text to
# it), unless --delay or PLAYCALL_DELAY says otherwise.
delayed() { # delayed NAME: one chunk of the mute source, narrate's delay 2.5
	printf '%s\n%s\n' "{\"type\":\"session\",\"session\":\"$1\",\"source\":\"$T/mute.mp4\",\"dir\":\"$T/videos/streaming/$1\"}" \
		"{\"type\":\"audio\",\"session\":\"$1\",\"index\":0,\"start\":4,\"end\":10,\"delay\":2.5,\"text\":\"Late\",\"path\":\"$T/say.wav\",\"speech_duration\":2}"
}
delayed d1 | splice >/dev/null
c=$T/videos/streaming/d1/chunk_0.mp4
num_cmp "$(mean_volume "$c" 0 2.4)" "<" -80 "record's delay 2.5: silence until then"
num_cmp "$(mean_volume "$c" 2.6 1.5)" ">" -30 "record's delay 2.5: the speech from then"
like "$(cat "$T/videos/streaming/d1/chunk_0.vtt")" "00:00:02.500 --> 00:00:04.500" "record's delay 2.5: the caption too"
delayed d2 | PLAYCALL_DELAY=0.5 splice >/dev/null
c=$T/videos/streaming/d2/chunk_0.mp4
num_cmp "$(mean_volume "$c" 0.6 1.3)" ">" -30 "PLAYCALL_DELAY=0.5 wins over the record: speech from 0.5 s"
num_cmp "$(mean_volume "$c" 0 0.4)" "<" -80 "PLAYCALL_DELAY=0.5: silence before"

is "$(find "$T/videos" -name '.*' | wc -l)" 0 "no temporary files left"
done_testing
