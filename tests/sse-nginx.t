#!/bin/sh
# examples/nginx-playcall.conf, live: nginx in front of sse-serve, as the
# example says, with only the ports and the folders of this test changed.
# Records reach a client of /events through nginx as they are written (no
# proxy buffering), Range requests for chunks pass through, /metrics is
# for loopback only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
command -v nginx >/dev/null || skip_all "no nginx"
EX="$PLAYCALL_SRC/examples"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkfifo "$T/in"
sleep 600 >"$T/in" &
HOLDER=$!
feed() { printf '%s\n' "$@" >>"$T/in"; }
SSE_STDIN="$T/in" sse_start --heartbeat 1
SSE_PORT=${SSE_URL#http://127.0.0.1:}
SSE_PORT=${SSE_PORT%%/*}

# The site as shipped, listening on a free loopback port, its upstream this
# test's sse-serve; nginx's own files under $T.
N="$T/nginx"
mkdir -p "$N/logs" "$N/tmp"
PORT=$(free_port)
sed -e "s|listen 80;|listen 127.0.0.1:$PORT;|" -e "s|server 127.0.0.1:8000;|server 127.0.0.1:$SSE_PORT;|" \
	"$EX/nginx-playcall.conf" >"$N/site.conf"
is "$(grep -c "127.0.0.1:$PORT;\|127.0.0.1:$SSE_PORT;" "$N/site.conf")" 2 "the site: only its two ports changed"
cat >"$N/nginx.conf" <<EOF
pid $N/nginx.pid;
error_log $N/logs/error.log;
events {}
http {
	access_log $N/logs/access.log;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/site.conf;
}
EOF
nginx -t -p "$N" -c "$N/nginx.conf" >"$T/nginx-t.out" 2>&1
ok $? "nginx -t accepts the site" || diag "$(cat "$T/nginx-t.out")"
nginx -p "$N" -c "$N/nginx.conf" -g 'daemon off;' 2>"$T/nginx.err" &
NGINX=$!
trap '[ -z "${SSE_PID:-}" ] || kill "$SSE_PID" 2>/dev/null; kill "$NGINX" "$HOLDER" 2>/dev/null; cleanup' EXIT
U="http://127.0.0.1:$PORT/"
i=0
while [ $i -lt 50 ] && ! curl -sf -o /dev/null "${U}healthz"; do sleep 0.1; i=$((i + 1)); done
is "$(curl -s "${U}healthz")" ok "nginx passes /healthz to sse-serve"

# A stream through nginx: each record arrives while the stream is open.
curl -sN -D "$T/h" "${U}events" >"$T/c" 2>/dev/null &
C=$!
sleep 0.5
feed '{"type":"session","session":"s1","source":"/v/a.mp4","duration":30}'
sleep 0.5
is "$(sse_events "$T/c" | field /dev/stdin 'rs[-1]["type"] if rs else ""')" session \
	"a record reaches the client through nginx at once"
feed '{"type":"chunk_ready","session":"s1","index":0,"url":"/videos/streaming/s1/chunk_0.mp4","progress":50}'
sleep 0.5
is "$(sse_events "$T/c" | field /dev/stdin '[r["type"] for r in rs]')" '["session", "chunk_ready"]' \
	"... and the next one, before the stream ends"
kill -0 "$C" 2>/dev/null
ok $? "the stream is still open"
like "$(tr -d '\r' <"$T/h")" "Content-Type: text/event-stream" "the stream's type passes through"
kill "$C" 2>/dev/null

# Chunks: Range answered by sse-serve, passed on by nginx.
mkdir -p "$PLAYCALL_OUT/streaming/s1"
head -c 5000 /dev/urandom >"$PLAYCALL_OUT/streaming/s1/chunk_0.mp4"
code=$(curl -s -o "$T/part" -w '%{http_code}' -H 'Range: bytes=100-1099' "${U}videos/streaming/s1/chunk_0.mp4")
is "$code" 206 "a Range request through nginx: 206"
cmp -s "$T/part" "$(dd if="$PLAYCALL_OUT/streaming/s1/chunk_0.mp4" bs=100 skip=1 count=10 2>/dev/null >"$T/want"; echo "$T/want")"
ok $? "... with exactly those bytes"
is "$(curl -s -o /dev/null -w '%{http_code}' "${U}metrics")" 200 "/metrics from loopback passes"

kill "$NGINX" 2>/dev/null
wait "$NGINX" 2>/dev/null
kill "$HOLDER" 2>/dev/null
sse_stop
done_testing
