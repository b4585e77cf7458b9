#!/bin/sh
# Exec mode: GET /analyze-stream/FILE runs the --exec command for a file of
# --media, the path only as $1; a second request joins the running session;
# a client that leaves does not stop it; Last-Event-ID resumes from memory
# and, after a restart, from events.ndjson, without running it again; file
# names that look like shell never run anything; --max-sessions gives 503.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"

mkdir -p "$T/media/sub" "$T/outside"
: >"$T/media/game.mp4"
: >"$T/media/other.mp4"
: >"$T/media/fail.mp4"
: >"$T/media/sub/deep.mp4"
: >"$T/outside/secret.mp4"
ln -s "$T/outside/secret.mp4" "$T/media/escape.mp4"
ln -s game.mp4 "$T/media/alias.mp4"
# Names a shell would act on, were they ever spliced into a command.
for n in '$(touch PWNED1).mp4' '`touch PWNED2`.mp4' 'a;touch PWNED3;.mp4' "q'uote\"s.mp4" 'sp ace&.mp4'; do
	: >"$T/media/$n"
done

# The stand-in pipeline: logs its argument, prints records slowly.
cat >"$T/pipeline.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "$1" >>"$LOG"
case "$1" in *fail.mp4) echo "detect: $1: no video stream" >&2; exit 3 ;; esac
id=session_$(basename "$1" | tr -c 'a-zA-Z0-9' _)$$
echo '{"type":"status","stage":"detect","message":"probing"}'
echo "{\"type\":\"session\",\"session\":\"$id\",\"source\":\"$1\",\"dir\":\"$PLAYCALL_OUT/streaming/$id\"}"
i=0
while [ $i -lt ${CHUNKS:-4} ]; do
	sleep ${PAUSE:-0.4}
	echo "{\"type\":\"chunk_ready\",\"session\":\"$id\",\"index\":$i,\"progress\":$((i * 20))}"
	i=$((i + 1))
done
echo "{\"type\":\"complete\",\"session\":\"$id\",\"chunks\":$i,\"progress\":100}"
echo "{\"type\":\"session_end\",\"session\":\"$id\"}"
touch "$LOG.finished.$id"
EOF
chmod +x "$T/pipeline.sh"
export LOG="$T/args"
EXEC="$T/pipeline.sh \"\$1\""
runs() { [ -f "$LOG" ] && wc -l <"$LOG" | tr -d ' ' || echo 0; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

sse-serve --exec true >/dev/null 2>"$T/err"; is $? 2 "--exec without --media is a usage error (2)"
sse-serve --media "$T/nope" >/dev/null 2>"$T/err"; is $? 2 "a missing --media folder is a usage error (2)"

sse_start --media "$T/media" --exec "$EXEC" --max-sessions 2
list=$(curl -s "${SSE_URL}api/media")
is "$(printf '%s' "$list" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["exec"], j["pipe"], "game.mp4" in [m["name"] for m in j["media"]])')" \
	"True False True" "/api/media lists the media folder's videos"

# Two clients of the same file share one run.
curl -sN "${SSE_URL}api/analyze-stream/game.mp4" >"$T/a1" 2>/dev/null &
A1=$!
sleep 0.6
curl -sN "${SSE_URL}analyze-stream/game.mp4" >"$T/a2" 2>/dev/null &
A2=$!
wait $A1 $A2
is "$(runs)" 1 "a second request for a running session joins it: one run"
is "$(sed -n 1p "$LOG")" "$T/media/game.mp4" "the command got the file's real path as \$1"
is "$(sse_ids "$T/a1" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " "the stream: every record, ids 1..8, then closed"
cmp -s "$T/a1" "$T/a2"; ok $? "the joiner got the same events from id 1"
sse_events "$T/a1" >"$T/a1.ndjson"
session=$(field "$T/a1.ndjson" 'of("session")[0]["session"]')
saved="$PLAYCALL_OUT/streaming/$session/events.ndjson"
cmp -s "$T/a1.ndjson" "$saved"; ok $? "events.ndjson line N is event N, the status before the session record included"

# A client that leaves early does not stop the run; it resumes exactly.
: >"$LOG"
sse_stop
export CHUNKS=6 PAUSE=0.3   # the pipeline inherits them from the server
sse_start --media "$T/media" --exec "$EXEC" --max-sessions 1
curl -sN -m 1.2 "${SSE_URL}analyze-stream/other.mp4" >"$T/b1" 2>/dev/null
last=$(sse_ids "$T/b1" | tail -n 1)
num_cmp "$last" '>=' 2 "the client saw a few events before leaving (up to $last)"
num_cmp "$last" '<' 10 "and left before the end"
sleep 2.5
ls "$LOG".finished.* >/dev/null 2>&1; ok $? "the run went on to its end without a client"
curl -sN -H "Last-Event-ID: $last" "${SSE_URL}analyze-stream/other.mp4" >"$T/b2"
{ sse_events "$T/b1"; sse_events "$T/b2"; } >"$T/b.joined"
bsession=$(field "$T/b.joined" 'of("session")[0]["session"]')
cmp -s "$T/b.joined" "$PLAYCALL_OUT/streaming/$bsession/events.ndjson"; ok $? "before + after the resume = the whole stream, no loss, no repeat"
is "$(sse_ids "$T/b2" | head -n 1)" $((last + 1)) "the resume starts right after Last-Event-ID"
is "$(runs)" 1 "the resume did not run the pipeline again"
is "$(code -H 'Last-Event-ID: 10' "${SSE_URL}analyze-stream/other.mp4")" 204 "resume past the end: 204"

# --max-sessions 1: a second file while one runs is 503 with Retry-After.
curl -sN "${SSE_URL}analyze-stream/game.mp4" >"$T/c1" 2>/dev/null &
C1=$!
sleep 0.5
busy=$(curl -s -D - -o /dev/null "${SSE_URL}analyze-stream/sub/deep.mp4" | tr -d '\r')
like "$busy" '^HTTP/1.1 503' "--max-sessions reached: 503"
like "$busy" 'Retry-After: [0-9]+' "with Retry-After"
code_join=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "${SSE_URL}analyze-stream/game.mp4")
is "$code_join" 200 "joining the running session is still allowed"
wait $C1
is "$(code -I "${SSE_URL}analyze-stream/sub/deep.mp4")" 200 "HEAD of a stream answers without starting it"
sleep 0.3
grep -c 'deep.mp4' "$LOG" | { read n; [ "$n" = 0 ]; }; ok $? "HEAD ran nothing"

# A restart: the stream is gone from memory; the resume reads events.ndjson.
sse_stop
: >"$LOG"
export CHUNKS=1 PAUSE=0
sse_start --media "$T/media" --exec "$EXEC"
curl -sN -m 5 -H "Last-Event-ID: 3" "${SSE_URL}analyze-stream/other.mp4" >"$T/d1"
is "$(sse_ids "$T/d1" | head -n 1)" 4 "after a restart, Last-Event-ID: 3 resumes at 4 from events.ndjson"
sse_events "$T/d1" >"$T/d1.ndjson"
tail -n +4 "$PLAYCALL_OUT/streaming/$bsession/events.ndjson" >"$T/d1.want"
cmp -s "$T/d1.ndjson" "$T/d1.want"; ok $? "the saved events, unchanged"
is "$(runs)" 0 "and nothing ran"
curl -sN -m 5 "${SSE_URL}events/$bsession" >"$T/d2"
is "$(sse_ids "$T/d2" | wc -l | tr -d ' ')" "$(wc -l <"$PLAYCALL_OUT/streaming/$bsession/events.ndjson" | tr -d ' ')" \
	"/events/SESSION serves a saved session whole"

# A run that fails: its stderr's last line reaches the client as an error.
curl -sN -m 5 "${SSE_URL}analyze-stream/fail.mp4" >"$T/f1"
sse_events "$T/f1" >"$T/f1.ndjson"
is "$(field "$T/f1.ndjson" 'rs[-1]["type"]')" error "a failed run ends with an error record"
like "$(field "$T/f1.ndjson" 'rs[-1]["message"]')" 'exit status 3: detect: .*fail.mp4: no video stream' \
	"naming the exit status and the pipeline's last stderr line"
is "$(field "$T/f1.ndjson" 'rs[-1]["stage"]')" sse-serve "from stage sse-serve"

# Only regular files inside --media.
is "$(code "${SSE_URL}analyze-stream/escape.mp4")" 403 "a symlink leading out of --media: 403"
is "$(code --path-as-is "${SSE_URL}analyze-stream/../outside/secret.mp4")" 403 "../ : 403"
is "$(code "${SSE_URL}analyze-stream/%2e%2e/outside/secret.mp4")" 403 "%2e%2e/ : 403"
is "$(code "${SSE_URL}analyze-stream/%2Fetc%2Fpasswd")" 403 "an absolute path: 403"
is "$(code "${SSE_URL}analyze-stream/sub")" 403 "a folder: 403"
is "$(code "${SSE_URL}analyze-stream/missing.mp4")" 404 "a missing file: 404"
is "$(code "${SSE_URL}analyze-stream/game.mp4%00.txt")" 400 "a NUL byte: 400"
is "$(runs)" 1 "none of those ran anything (only fail.mp4 ran)"

# Injection: each name reaches the command as $1, byte for byte, and runs nothing.
: >"$LOG"
for n in '$(touch PWNED1).mp4' '`touch PWNED2`.mp4' 'a;touch PWNED3;.mp4' "q'uote\"s.mp4" 'sp ace&.mp4'; do
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$n")
	curl -sN -m 5 "${SSE_URL}analyze-stream/$enc" >"$T/inj"
	is "$(tail -n 1 "$LOG")" "$T/media/$n" "\$1 is exactly the path of '$n'"
done
is "$(code "${SSE_URL}analyze-stream/a%0Atouch%20PWNED4.mp4")" 400 "a newline in the name: 400"
found=$(find "$T" / -maxdepth 1 -name 'PWNED*' 2>/dev/null; find "$T" -name 'PWNED*' 2>/dev/null)
is "$found" "" "no PWNED file was created anywhere"
is "$(runs)" 5 "five runs, one per request"
sse_stop
done_testing
