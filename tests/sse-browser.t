#!/bin/sh
# The player page in a real browser: Debian's headless chromium, driven by
# playwright-core (tests/browser/, installed here from npm when missing).
# An --exec script stands in for the pipeline: it publishes two pre-made
# H.264 chunks a second apart, then `complete`.  The page must receive both
# chunk_ready events and its playback must cross from chunk 0 into chunk 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "no $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || skip_all "no node"
BROWSER_DIR="$PLAYCALL_SRC/tests/browser"
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
	# The package only: it drives the system chromium, no browser download.
	(cd "$BROWSER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null 2>&1) ||
		skip_all "cannot install playwright-core from npm"
fi

# Two 2-second chunks, as splice makes them: H.264 + AAC, moov first.
mkdir -p "$T/chunks" "$T/media"
for i in 0 1; do
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x180:rate=25:duration=2" \
		-f lavfi -i "sine=frequency=$((440 + i * 220)):sample_rate=44100:duration=2" \
		-c:v libx264 -pix_fmt yuv420p -profile:v baseline -g 25 -c:a aac -b:a 64k -shortest \
		-movflags +faststart "$T/chunks/chunk_$i.mp4"
done
printf 'WEBVTT\n\n00:00:00.200 --> 00:00:01.800\nWhat a strike!\n' > "$T/chunks/chunk_0.vtt"
make_video "$T/media/match.mp4" 1 --noaudio

cat > "$T/emit.sh" <<'EOF'
#!/bin/sh
# Stands in for detect | narrate | speak | splice: publishes pre-made chunks.
id=session_browser_$$
dir="$PLAYCALL_OUT/streaming/$id"
mkdir -p "$dir" "$PLAYCALL_OUT/generated-videos"
echo "{\"type\":\"session\",\"session\":\"$id\",\"source\":\"$1\",\"duration\":4,\"dir\":\"$dir\"}"
echo "{\"type\":\"status\",\"stage\":\"detect\",\"session\":\"$id\",\"message\":\"analysing\",\"progress\":10}"
for i in 0 1; do
	sleep 1
	cp "$CHUNKS/chunk_$i.mp4" "$dir/chunk_$i.mp4"
	caps=null
	[ -f "$CHUNKS/chunk_$i.vtt" ] && cp "$CHUNKS/chunk_$i.vtt" "$dir/" && caps="\"/videos/streaming/$id/chunk_$i.vtt\""
	echo "{\"type\":\"commentary\",\"session\":\"$id\",\"index\":$i,\"text\":\"Highlight $i\"}"
	echo "{\"type\":\"chunk_ready\",\"session\":\"$id\",\"index\":$i,\"url\":\"/videos/streaming/$id/chunk_$i.mp4\",\"captions\":$caps,\"start_time\":\"00:00:0$((i * 2))\",\"end_time\":\"00:00:0$((i * 2 + 2))\",\"duration\":2,\"progress\":$((i * 40 + 40))}"
done
cp "$CHUNKS/chunk_0.mp4" "$PLAYCALL_OUT/generated-videos/commentary_$id.mp4"
echo "{\"type\":\"complete\",\"session\":\"$id\",\"chunks\":2,\"final_video\":\"commentary_$id.mp4\",\"url\":\"/videos/generated-videos/commentary_$id.mp4\",\"progress\":100}"
echo "{\"type\":\"session_end\",\"session\":\"$id\"}"
EOF
chmod +x "$T/emit.sh"
export CHUNKS="$T/chunks"

sse_start --media "$T/media" --exec "$T/emit.sh \"\$1\""
page=$(curl -s "${SSE_URL}")
like "$page" '<video id="v1"' "the page has the second (preloading) video element"

out=$(cd "$BROWSER_DIR" && SCREENSHOT=${SCREENSHOT:-} node player.js "$SSE_URL" match.mp4 2>"$T/node.err"); rc=$?
[ $rc -eq 0 ] || diag "player.js: $out" "$(tail -n 5 "$T/node.err")"
ok $rc "the browser drove the page to the second chunk"
val() { printf '%s' "$out" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1"; }
like "$(val canPlayH264)" '^(probably|maybe)$' "chromium plays H.264 + AAC in MP4"
is "$(val received)" 2 "the page received both chunk_ready events"
num_cmp "$(val played)" '>=' 1 "the first chunk played to its end"
num_cmp "$(val switches)" '>=' 1 "the page switched to the preloaded video"
like "$(val playingSrc)" 'chunk_1\.mp4$' "the video on screen is chunk 1"
num_cmp "$(val timeBefore)" '>' 2.2 "playback time went past the first chunk's 2 s"
num_cmp "$(val time)" '>' "$(val timeBefore)" "and kept advancing in the second chunk"
is "$(val errors)" "[]" "no error reached the page"
is "$(val complete)" complete "the page got the complete record"
like "$(val finalHref)" '^/videos/generated-videos/commentary_.*\.mp4$' "the final video is offered"
is "$(val progress)" 100 "the progress bar reached 100"
pageerrors=$(printf '%s' "$out" | python3 -c 'import json,sys; print(len([c for c in json.load(sys.stdin).get("console", []) if c.startswith("pageerror")]))')
is "$pageerrors" 0 "no script error on the page"
# What the browser fetched: the chunks, with ranges, from the server.
sse_stop
done_testing
