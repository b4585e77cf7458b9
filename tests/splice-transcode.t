#!/bin/sh
# splice --transcode (and PLAYCALL_TRANSCODE=1): an H.264 source that would
# be copied is re-encoded, and the chunk is still right.
. "$(dirname "$0")/lib.sh"
command -v splice >/dev/null || skip_all "splice not built"
make_video "$T/src.mp4" 12 --bursts "4"
make_tone "$T/speech.wav" 2
{ session_rec s1 "$T/src.mp4"; audio_rec s1 0 1 9 "$T/speech.wav" 2; echo '{"type":"session_end","session":"s1"}'; } > "$T/in.ndjson"

splice < "$T/in.ndjson" > "$T/copy.ndjson"
is "$(field "$T/copy.ndjson" 'of("chunk_ready")[0]["video"]')" copy "without --transcode the H.264 video is copied"
copy_hash=$(ffmpeg -nostdin -v error -i "$(field "$T/copy.ndjson" 'of("chunk_ready")[0]["path"]')" -map 0:v -c copy -f md5 -)

rm -rf "$PLAYCALL_OUT"
splice --transcode < "$T/in.ndjson" > "$T/tx.ndjson"
ok $? "splice --transcode exits 0"
is "$(field "$T/tx.ndjson" 'of("chunk_ready")[0]["video"]')" transcode "--transcode re-encodes"
chunk=$(field "$T/tx.ndjson" 'of("chunk_ready")[0]["path"]')
is "$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 "$chunk")" h264 "the chunk is H.264"
tx_hash=$(ffmpeg -nostdin -v error -i "$chunk" -map 0:v -c copy -f md5 -)
isnt "$tx_hash" "$copy_hash" "its packets are new, not the source's"
num_near "$(probe_duration "$chunk")" "$(field "$T/tx.ndjson" 'of("chunk_ready")[0]["duration"]')" 0.1 \
	"its duration is the record's"

rm -rf "$PLAYCALL_OUT"
PLAYCALL_TRANSCODE=1 splice < "$T/in.ndjson" > "$T/env.ndjson"
is "$(field "$T/env.ndjson" 'of("chunk_ready")[0]["video"]')" transcode "PLAYCALL_TRANSCODE=1 does the same"
done_testing
