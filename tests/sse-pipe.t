#!/bin/sh
# Pipe mode: records on standard input reach every client of GET /events
# as id/data events; a late client gets everything so far, then live
# records; Last-Event-ID resumes with no record lost or repeated; each
# session also has its own stream and events.ndjson; the end of the input
# ends the streams, and a resume after the end gets 204.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
CLIENT="python3 $PLAYCALL_SRC/tests/sse-client.py"

mkfifo "$T/in"
# A writer that keeps the fifo open until we want the end of input.
sleep 600 >"$T/in" &
HOLDER=$!
feed() { printf '%s\n' "$@" >>"$T/in"; }

SSE_STDIN="$T/in" sse_start --heartbeat 1
is "$(curl -s "${SSE_URL}healthz")" "ok" "the server answers /healthz"

feed '{"type":"session","session":"s1","source":"/v/a.mp4","duration":30}' \
	'{"type":"status","stage":"detect","session":"s1","message":"analysing","progress":5}' \
	'not json at all'

# A client from the start, reading everything as it comes.
curl -sN -D "$T/h1" "${SSE_URL}events" >"$T/c1" 2>/dev/null &
C1=$!
sleep 0.5
feed '{"type":"chunk_ready","session":"s1","index":0,"url":"/videos/streaming/s1/chunk_0.mp4","progress":50}'
sleep 0.3

# A late joiner gets what came so far, then what comes next.
curl -sN "${SSE_URL}events" >"$T/c2" 2>/dev/null &
C2=$!
sleep 0.5
feed '{"type":"chunk_ready","session":"s1","index":1,"url":"/videos/streaming/s1/chunk_1.mp4","progress":90}' \
	'{"type":"complete","session":"s1","chunks":2,"progress":100}' \
	'{"type":"session_end","session":"s1"}' \
	'{"type":"custom","note":"no session"}'
sleep 0.5

head=$(tr -d '\r' <"$T/h1")
like "$head" '^HTTP/1.1 200 OK' "200 for /events"
like "$head" 'Content-Type: text/event-stream' "Content-Type: text/event-stream"
like "$head" 'Cache-Control: no-cache' "Cache-Control: no-cache"
like "$head" 'X-Accel-Buffering: no' "X-Accel-Buffering: no"
like "$(head -n 1 "$T/c1")" '^retry: [0-9]+$' "a retry: hint first"
is "$(sse_ids "$T/c1" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " "ids 1..8 in order, one per record"
sse_events "$T/c1" >"$T/c1.ndjson"
is "$(field "$T/c1.ndjson" '[r["type"] for r in rs]')" \
	'["session", "status", "error", "chunk_ready", "chunk_ready", "complete", "session_end", "custom"]' \
	"every record, unknown types too, in input order"
is "$(field "$T/c1.ndjson" 'rs[2]["input"]')" "stdin:3" "a bad line becomes an error record naming stdin:3"
is "$(field "$T/c1.ndjson" 'rs[2]["stage"]')" "sse-serve" "the error's stage is sse-serve"
grep -q 'stdin:3: not JSON' "$SSE_LOG"; ok $? "and a one-line message on stderr"
is "$(field "$T/c1.ndjson" 'rs[3]')" \
	'{"type": "chunk_ready", "session": "s1", "index": 0, "url": "/videos/streaming/s1/chunk_0.mp4", "progress": 50}' \
	"records pass unchanged, field by field"
cmp -s "$T/c1" "$T/c2"; ok $? "the late joiner got exactly what the first client got"

# Heartbeat: idle streams carry a comment line (--heartbeat 1).
sleep 1.5
grep -q '^: keepalive$' "$T/c1"; ok $? "an idle stream gets a comment line"
is "$(sse_events "$T/c1" | grep -c .)" 8 "comments are not events"

# Resume: the client saw up to id 4; with Last-Event-ID: 4 it gets 5.. only.
curl -sN -H 'Last-Event-ID: 4' "${SSE_URL}events" >"$T/r1" 2>/dev/null &
R1=$!
sleep 0.5
feed '{"type":"status","stage":"test","message":"after resume"}'
sleep 0.3
is "$(sse_ids "$T/r1" | tr '\n' ' ')" "5 6 7 8 9 " "Last-Event-ID: 4 resumes at 5, then live"
{ sse_events "$T/c1" | head -n 4; sse_events "$T/r1"; } >"$T/joined"
sse_events "$T/c1" >"$T/all"   # c1 stayed connected throughout
cmp -s "$T/joined" "$T/all"; ok $? "first part + resumed part = the whole stream, nothing lost or repeated"

# The session's own stream and its events.ndjson.
saved="$PLAYCALL_OUT/streaming/s1/events.ndjson"
[ -f "$saved" ]; ok $? "the session's records are saved in streaming/s1/events.ndjson"
is "$(field "$saved" '[r["type"] for r in rs]')" '["session", "status", "chunk_ready", "chunk_ready", "complete", "session_end"]' \
	"events.ndjson holds the session's records only"
curl -sN -m 5 "${SSE_URL}events/s1" >"$T/s1"
is "$(sse_ids "$T/s1" | tr '\n' ' ')" "1 2 3 4 5 6 " "/events/s1: the session's records, ids from 1, then closed (session ended)"
sse_events "$T/s1" >"$T/s1.ndjson"
cmp -s "$T/s1.ndjson" "$saved"; ok $? "/events/s1 sends events.ndjson's lines"
curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: 6' "${SSE_URL}events/s1" >"$T/code"
is "$(cat "$T/code")" 204 "resume of an ended session with nothing new: 204 (EventSource stops)"
is "$(curl -s -o /dev/null -w '%{http_code}' "${SSE_URL}events/nope")" 404 "an unknown session is 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "${SSE_URL}events/..%2Fx")" 403 "a session id that climbs is refused"

# HEAD: the headers only; nothing attached.
headonly=$(curl -s -I "${SSE_URL}events" | tr -d '\r')
like "$headonly" 'Content-Type: text/event-stream' "HEAD /events: the stream's headers"

# The end of the input ends the stream: clients are closed once they have everything.
kill $HOLDER
wait $C1 $C2 $R1 2>/dev/null
pass "every client's connection was closed at the end of the input"
is "$(sse_ids "$T/c2" | tail -n 1)" 9 "the late joiner got the last record too"
curl -sN -m 5 "${SSE_URL}events" >"$T/after"
is "$(sse_ids "$T/after" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 " "a client after the end gets the whole stream, then the close"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: 9' "${SSE_URL}events")" 204 \
	"resume at the last id after the end: 204"

# Metrics saw it all.
m=$(curl -s "${SSE_URL}metrics")
like "$m" 'playcall_chunks_total 2' "metrics: 2 chunks"
like "$m" 'playcall_errors_total 1' "metrics: 1 error record"
like "$m" 'playcall_sessions_total 1' "metrics: 1 session"
like "$m" 'playcall_ttfc_seconds_count 1' "metrics: one time-to-first-chunk observed"
like "$m" 'playcall_http_responses_total\{code="204"\} 2' "metrics: responses by code"
kill -0 "$SSE_PID" 2>/dev/null; ok $? "the server keeps serving after the end of its input"
sse_stop
done_testing
