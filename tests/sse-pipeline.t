#!/bin/sh
# End to end with the real tools: `detect | narrate | speak | splice` run by
# sse-serve per request (exec mode, its default command) and piped into it
# (pipe mode).  The client's transcript holds the whole job, and every URL
# in it is served: the chunks (H.264 MP4 that ffprobe reads, as long as
# their records say), their captions, the final reel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
for t in detect narrate speak splice; do
	command -v $t >/dev/null || skip_all "$t is not built yet"
done

mkdir -p "$T/media"
make_video "$T/media/game.mp4" 40 --bursts "8 25"

check_transcript() { # FILE LABEL
	sse_events "$1" >"$1.ndjson"
	n=$(wc -l <"$1.ndjson" | tr -d ' ')
	is "$(sse_ids "$1" | tr '\n' ' ')" "$(seq 1 "$n" | tr '\n' ' ')" "$2: ids 1..$n, none missing"
	is "$(field "$1.ndjson" 'len(of("error"))')" 0 "$2: no error record"
	chunks=$(field "$1.ndjson" 'len(of("chunk_ready"))')
	num_cmp "$chunks" '>=' 1 "$2: at least one chunk_ready ($chunks)"
	is "$(field "$1.ndjson" 'of("complete")[0]["chunks"]')" "$chunks" "$2: complete counts them"
	is "$(field "$1.ndjson" 'rs[-1]["type"]')" session_end "$2: session_end last"
	i=0
	while [ $i -lt "$chunks" ]; do
		url=$(field "$1.ndjson" "of('chunk_ready')[$i]['url']")
		want=$(field "$1.ndjson" "of('chunk_ready')[$i]['duration']")
		rm -f "$T/chunk.mp4"
		h=$(curl -s -D - -o "$T/chunk.mp4" "${SSE_URL}${url#/}" | tr -d '\r')
		like "$h" 'Content-Type: video/mp4' "$2: chunk $i served as video/mp4"
		num_near "$(probe_duration "$T/chunk.mp4")" "$want" 0.2 "$2: chunk $i plays for its record's duration"
		cap=$(field "$1.ndjson" "of('chunk_ready')[$i].get('captions') or ''")
		if [ -n "$cap" ]; then
			like "$(curl -s "${SSE_URL}${cap#/}" | head -n 1)" '^WEBVTT' "$2: chunk $i's captions served"
		fi
		i=$((i + 1))
	done
	final=$(field "$1.ndjson" 'of("complete")[0]["url"]')
	rm -f "$T/final.mp4"
	like "$final" '^/videos/generated-videos/commentary_.*\.mp4$' "$2: complete names the final reel's URL"
	curl -s -o "$T/final.mp4" "${SSE_URL}${final#/}"
	num_cmp "$(probe_duration "$T/final.mp4")" '>' 1 "$2: the final reel is served and plays"
}

# Exec mode with the default command.
sse_start --media "$T/media"
curl -sN -m 180 "${SSE_URL}api/analyze-stream/game.mp4" >"$T/exec"
check_transcript "$T/exec" "exec mode"
session=$(field "$T/exec.ndjson" 'of("session")[0]["session"]')
cmp -s "$T/exec.ndjson" "$PLAYCALL_OUT/streaming/$session/events.ndjson"; ok $? "exec mode: events.ndjson is the transcript"
m=$(curl -s "${SSE_URL}metrics")
like "$m" 'playcall_ttfc_seconds_count 1' "exec mode: time to first chunk measured"
sse_stop

# Pipe mode: the README's pipeline into sse-serve.
mkfifo "$T/in"
sleep 600 >"$T/in" &   # holds the fifo open until the pipeline writes
HOLDER=$!
SSE_STDIN="$T/in" sse_start
curl -sN -m 180 "${SSE_URL}events" >"$T/pipe" &
C=$!
sleep 0.3
detect "$T/media/game.mp4" | narrate | speak | splice >>"$T/in" 2>"$T/pipe.err"
kill $HOLDER
wait $C
check_transcript "$T/pipe" "pipe mode"
sse_stop
done_testing
