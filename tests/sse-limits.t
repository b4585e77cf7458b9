#!/bin/sh
# Limits and operations: 431, 405, 408, 400, 505, --max-clients (503),
# /healthz, /metrics, --max-age sweeping, usage errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
CLIENT="python3 $PLAYCALL_SRC/tests/sse-client.py"
raw() { $CLIENT raw "$SSE_URL" "${1:-3}" | tr -d '\r'; }

sse-serve --bogus >/dev/null 2>&1; is $? 2 "an unknown option: exit 2"
sse-serve -l nowhere >/dev/null 2>&1; is $? 2 "a malformed -l: exit 2"
sse-serve --max-sessions 0 >/dev/null 2>&1; is $? 2 "--max-sessions 0: exit 2"
sse-serve --max-age soon >/dev/null 2>&1; is $? 2 "a malformed --max-age: exit 2"
sse-serve --split-fanout -1 >/dev/null 2>&1; is $? 2 "--split-fanout -1: exit 2"
sse-serve --help | grep -q 'usage: sse-serve'; ok $? "--help prints the usage"

# Old sessions for the sweep: two old, one young, one old but with a link out.
old="$PLAYCALL_OUT/streaming"
mkdir -p "$old/session_old1/sub" "$old/session_old2" "$old/session_young" "$PLAYCALL_OUT/generated-videos" "$T/keep"
: >"$old/session_old1/chunk_0.mp4"
: >"$old/session_old1/sub/x"
: >"$T/keep/precious"
ln -s "$T/keep" "$old/session_old2/link"
: >"$old/session_young/chunk_0.mp4"
: >"$PLAYCALL_OUT/generated-videos/commentary_session_old1.mp4"
: >"$PLAYCALL_OUT/generated-videos/commentary_session_young.mp4"
touch -h -d '3 days ago' "$old/session_old1/sub/x" "$old/session_old1/sub" "$old/session_old1/chunk_0.mp4" "$old/session_old1" \
	"$old/session_old2/link" "$old/session_old2" "$PLAYCALL_OUT/generated-videos/commentary_session_old1.mp4"

sse_start --request-timeout 1 --max-clients 4 --max-age 2d
sleep 0.5
port=$(printf '%s' "$SSE_URL" | sed 's/.*:\([0-9]*\)\/$/\1/')
sse-serve -l "127.0.0.1:$port" </dev/null >/dev/null 2>"$T/err"; is $? 1 "a port already taken: exit 1"
like "$(cat "$T/err")" "cannot listen on 127.0.0.1:$port" "saying so on stderr"
[ ! -e "$old/session_old1" ] && [ ! -e "$old/session_old2" ]; ok $? "--max-age 2d swept the session folders older than 2 days"
[ -e "$old/session_young/chunk_0.mp4" ]; ok $? "a young session folder stays"
[ ! -e "$PLAYCALL_OUT/generated-videos/commentary_session_old1.mp4" ]; ok $? "an old final video goes"
[ -e "$PLAYCALL_OUT/generated-videos/commentary_session_young.mp4" ]; ok $? "a young final video stays"
[ -e "$T/keep/precious" ]; ok $? "a symlink in a swept folder was not followed"
grep -q 'swept 3' "$SSE_LOG"; ok $? "the sweep is logged"

big=$(python3 -c 'print("X-Big: " + "a" * 9000)')
r=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n' "$big" | raw)
like "$r" '^HTTP/1.1 431 Request Header Fields Too Large' "a head over 8 KiB: 431"
like "$r" 'Connection: close' "and the connection is closed"
r=$(python3 -c 'import sys; sys.stdout.write("GET / HTTP/1.1\r\nHost: x\r\n" + "".join("X-%d: y\r\n" % i for i in range(100)) + "\r\n")' | raw)
like "$r" '^HTTP/1.1 431' "too many header lines: 431"
r=$(printf 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi' | raw)
like "$r" '^HTTP/1.1 405 Method Not Allowed' "POST: 405"
like "$r" 'Allow: GET, HEAD' "with Allow: GET, HEAD"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${SSE_URL}healthz")" 405 "DELETE: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "${SSE_URL}healthz")" 405 "OPTIONS: 405"
like "$(printf 'GET / HTTP/1.1\r\n\r\n' | raw)" '^HTTP/1.1 400' "HTTP/1.1 without Host: 400"
like "$(printf 'GARBAGE\r\n\r\n' | raw)" '^HTTP/1.1 400' "a malformed request line: 400"
like "$(printf 'GET / HTTP/3.0\r\nHost: x\r\n\r\n' | raw)" '^HTTP/1.1 505' "HTTP/3.0: 505"
like "$(printf 'GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | raw)" '^HTTP/1.1 404' "an unknown path: 404"

# 408: half a request, then silence past --request-timeout 1.
start=$(date +%s)
r=$( (printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; sleep 4) | $CLIENT raw "$SSE_URL" 6 | tr -d '\r')
like "$r" '^HTTP/1.1 408 Request Timeout' "a request not finished in time: 408"
r=$( (sleep 4) | $CLIENT raw "$SSE_URL" 6 | tr -d '\r')
like "$r" '^HTTP/1.1 408' "a connection that sends nothing: 408"

# --max-clients 4: the fifth connection is answered 503 at once.
held=$($CLIENT hold "$SSE_URL" 5 0.5)
is "$held" '{"refused": 1, "open": 4}' "--max-clients 4: four held, the fifth gets 503"
r=$($CLIENT raw "$SSE_URL" 1 </dev/null | head -n 1)
sleep 0.5
is "$(curl -s "${SSE_URL}healthz")" ok "the server serves again once they are gone"

# Metrics in Prometheus text format.
m=$(curl -s -D "$T/mh" "${SSE_URL}metrics")
like "$(tr -d '\r' <"$T/mh")" 'Content-Type: text/plain; version=0.0.4' "metrics: Prometheus text format"
for name in playcall_sessions_running playcall_sessions_total playcall_clients playcall_chunks_total \
	playcall_errors_total playcall_ttfc_seconds; do
	printf '%s\n' "$m" | grep -q "^# TYPE $name "; ok $? "metrics: $name has a TYPE"
done
like "$m" 'playcall_http_responses_total\{code="431"\} 2' "metrics: the two 431s"
like "$m" 'playcall_http_responses_total\{code="405"\} 3' "metrics: the three 405s"
like "$m" 'playcall_http_responses_total\{code="408"\} 2' "metrics: the two 408s"
like "$m" 'playcall_http_responses_total\{code="503"\} 1' "metrics: the 503"
like "$m" 'playcall_ttfc_seconds_bucket\{le="\+Inf"\} 0' "metrics: the TTFC histogram (empty here)"
python3 - "$m" <<'EOF'
import re, sys
ok = True
for line in sys.argv[1].splitlines():
    if line.startswith("#") or not line:
        continue
    if not re.match(r'^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+-]+$', line):
        print("# bad line: " + line); ok = False
sys.exit(0 if ok else 1)
EOF
ok $? "metrics: every sample line parses"
sse_stop
done_testing
