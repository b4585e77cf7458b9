#!/bin/sh
# Ways to start sse-serve: -i (one connection on stdin/stdout, as inetd
# and systemd Accept=yes with StandardInput=socket give it), a connected
# socket passed by systemd (Accept=yes), a listening socket passed by
# systemd (Accept=no, LISTEN_FDS/LISTEN_PID), each for real with
# systemd-socket-activate; and --user dropping root after binding.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# activate ARGS...: systemd-socket-activate on a free port; PORT, ACT_PID set.
activate() {
	PORT=$(free_port)
	systemd-socket-activate -l "127.0.0.1:$PORT" -E PLAYCALL_OUT "$@" >"$T/act.out" 2>"$T/act.err" &
	ACT_PID=$!
	_i=0
	while [ $_i -lt 50 ] && ! grep -q 'Listening on' "$T/act.err"; do sleep 0.1; _i=$((_i + 1)); done
}
deactivate() { kill "$ACT_PID" 2>/dev/null; wait "$ACT_PID" 2>/dev/null; }

# -i with plain pipes: the request in, the response out, then exit 0.
out=$(printf 'GET /healthz HTTP/1.0\r\n\r\n' | sse-serve -i 2>"$T/err" | tr -d '\r'); rc=$?
is $rc 0 "-i: exits 0 when its one connection is done"
like "$out" '^HTTP/1.1 200 OK' "-i: answers the request on stdout"
like "$out" 'ok$' "-i: with the body"
out=$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n' | sse-serve -i 2>/dev/null | tr -d '\r')
is "$(printf '%s\n' "$out" | grep -c '^HTTP/1.1')" 2 "-i: keep-alive, two requests on the one connection"
out=$(printf 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n' | sse-serve -i 2>/dev/null | tr -d '\r')
like "$out" '^HTTP/1.1 404' "-i: no /events (stdin is the connection, not records)"

command -v systemd-socket-activate >/dev/null || { done_testing; exit; }

# inetd style: every connection a new process with the socket on stdin/stdout.
activate --inetd -a sse-serve -i
is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "systemd-socket-activate --inetd: answered"
is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "and a second connection, by a second process"
m=$(curl -s "http://127.0.0.1:$PORT/metrics")
like "$m" 'playcall_http_requests_total 1' "each connection was its own process (a fresh count)"
deactivate

# Accept=yes: the connected socket comes as fd 3 (LISTEN_FDS=1).
activate -a sse-serve
is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "Accept=yes (a connection as LISTEN_FDS): answered"
m=$(curl -s "http://127.0.0.1:$PORT/metrics")
like "$m" 'playcall_http_requests_total 1' "one process per connection"
deactivate

# Accept=no: the listening socket comes as fd 3; one process serves all.
mkdir -p "$T/media"
: >"$T/media/game.mp4"
activate -E "ENVOUT=$T/env" sse-serve --media "$T/media" --exec 'env >"$ENVOUT"; echo "{\"type\":\"done\"}"'
is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "Accept=no (a listening socket as LISTEN_FDS): answered"
is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "and again"
m=$(curl -s "http://127.0.0.1:$PORT/metrics")
like "$m" 'playcall_http_requests_total 3' "one process served the three requests"
curl -sN -m 5 "http://127.0.0.1:$PORT/analyze-stream/game.mp4" >"$T/e1"
like "$(sse_events "$T/e1")" '"type":"done"' "a pipeline ran under socket activation"
grep -q '^LISTEN_' "$T/env"; is $? 1 "LISTEN_PID/LISTEN_FDS are not passed on to the pipeline"
grep -q "^PLAYCALL_OUT=$PLAYCALL_OUT" "$T/env"; ok $? "the pipeline writes where the server serves (PLAYCALL_OUT)"
deactivate

# inetd instances share running sessions: the second connection's process
# follows the first one's events.ndjson instead of running it again.
cat >"$T/pipeline.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "$1" >>"$LOG"
id=session_inetd_$$
echo "{\"type\":\"session\",\"session\":\"$id\",\"source\":\"$1\"}"
for i in 0 1 2 3; do sleep 0.5; echo "{\"type\":\"chunk_ready\",\"session\":\"$id\",\"index\":$i}"; done
echo "{\"type\":\"session_end\",\"session\":\"$id\"}"
EOF
chmod +x "$T/pipeline.sh"
export LOG="$T/args"
activate --inetd -a -E LOG sse-serve -i --media "$T/media" --exec "$T/pipeline.sh \"\$1\""
curl -sN -m 10 "http://127.0.0.1:$PORT/analyze-stream/game.mp4" >"$T/i1" &
C1=$!
sleep 1
curl -sN -m 10 "http://127.0.0.1:$PORT/analyze-stream/game.mp4" >"$T/i2" &
C2=$!
wait $C1 $C2
is "$(wc -l <"$LOG" | tr -d ' ')" 1 "two inetd instances, one run"
is "$(sse_ids "$T/i1" | tr '\n' ' ')" "1 2 3 4 5 6 " "the first client got the whole stream"
cmp -s "$T/i1" "$T/i2"; ok $? "the second (another process) got the same, from id 1"
deactivate

# --user: bind as root, then serve as another user.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$T/pub"
	chmod 755 "$T" "$T/pub"
	sse_start --user nobody --out "$T/pub"
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$SSE_PID/status")
	nobody=$(id -u nobody)
	is "$uid" "$nobody $nobody $nobody $nobody" "--user nobody: every uid dropped after binding"
	is "$(curl -s "${SSE_URL}healthz")" ok "and it still serves"
	sse_stop
	sse-serve --user no-such-user-here </dev/null >/dev/null 2>&1; is $? 2 "--user of an unknown user: exit 2"
else
	pass "# SKIP --user needs root"
fi
done_testing
