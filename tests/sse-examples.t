#!/bin/sh
# examples/: the systemd units pass systemd-analyze verify and their
# ExecStart lines serve for real under systemd-socket-activate, as does the
# inetd line; the nginx site passes nginx -t (when nginx is here); the cron
# batch script makes reels once per video, never runs twice at once, and
# sweeps old sessions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
EX="$PLAYCALL_SRC/examples"
SSE_BIN=$(command -v sse-serve)

mkdir -p "$T/units" "$T/srv/matches" "$T/srv/videos"
: >"$T/srv/matches/game.mp4"
# The units as installed here: our binary, our folders.
for f in "$EX"/playcall-sse*; do
	sed -e "s|/usr/local/bin/sse-serve|$SSE_BIN|" -e "s|/srv/playcall|$T/srv|g" "$f" >"$T/units/$(basename "$f")"
done
if command -v systemd-analyze >/dev/null; then
	(cd "$T/units" && systemd-analyze verify --man=no ./playcall-sse.socket ./playcall-sse.service \
		./playcall-sse-inetd.socket ./playcall-sse-inetd@.service) >"$T/verify" 2>&1
	ok $? "systemd-analyze verify accepts the four units"
	is "$(cat "$T/verify")" "" "with no warning"
else
	pass "# SKIP no systemd-analyze"
	pass "# SKIP no systemd-analyze"
fi

unit_key() { sed -n "s/^$2=//p" "$T/units/$1" | head -n 1; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
serve_under() { # serve_under SOCKET-ACTIVATE-ARGS -- COMMAND...: PORT, ACT_PID
	PORT=$(free_port)
	_args=
	while [ "$1" != -- ]; do _args="$_args $1"; shift; done
	shift
	systemd-socket-activate -l "127.0.0.1:$PORT" $_args "$@" >"$T/act.out" 2>"$T/act.err" &
	ACT_PID=$!
	_i=0
	while [ $_i -lt 50 ] && ! grep -q 'Listening on' "$T/act.err"; do sleep 0.1; _i=$((_i + 1)); done
}
stop_serving() { kill "$ACT_PID" 2>/dev/null; wait "$ACT_PID" 2>/dev/null; }

is "$(unit_key playcall-sse.socket Accept)" no "playcall-sse.socket: Accept=no"
is "$(unit_key playcall-sse-inetd.socket Accept)" yes "playcall-sse-inetd.socket: Accept=yes"
if command -v systemd-socket-activate >/dev/null; then
	# shellcheck disable=SC2046 # the ExecStart line is words, as systemd splits it
	serve_under -- $(unit_key playcall-sse.service ExecStart)
	is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "playcall-sse.service's ExecStart serves the passed socket"
	like "$(curl -s "http://127.0.0.1:$PORT/api/media")" '"name":"game.mp4"' "with its --media folder"
	stop_serving
	serve_under --inetd -a -- $(unit_key playcall-sse-inetd@.service ExecStart)
	is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "playcall-sse-inetd@.service's ExecStart serves one connection on stdin/stdout"
	stop_serving
	# inetd.conf: service socktype proto wait user server argv...
	line=$(grep -v '^#' "$EX/inetd.conf" | sed -e "s|/usr/local/bin/sse-serve|$SSE_BIN|" -e "s|/srv/playcall|$T/srv|g")
	set -- $line
	is "$2 $3 $4" "stream tcp nowait" "inetd.conf: a stream service, one process per connection (nowait)"
	server=$6
	shift 7
	serve_under --inetd -a -- "$server" "$@"
	is "$(curl -s "http://127.0.0.1:$PORT/healthz")" ok "the inetd.conf line serves a connection"
	stop_serving
else
	skip_all "no systemd-socket-activate"
fi

if command -v nginx >/dev/null; then
	mkdir -p "$T/nginx/logs"
	printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp {\n include %s;\n}\n' \
		"$T/nginx" "$T/nginx" "$EX/nginx-playcall.conf" >"$T/nginx/nginx.conf"
	nginx -t -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx.out" 2>&1
	ok $? "nginx -t accepts the site"
else
	pass "# SKIP no nginx to check the site with"
fi
grep -q 'proxy_buffering off' "$EX/nginx-playcall.conf"; ok $? "the nginx site turns proxy buffering off for the streams"

# The cron batch script, with stand-in tools on PATH.
mkdir -p "$T/bin" "$T/inbox" "$T/out/streaming/session_old" "$T/out/generated-videos"
cat >"$T/bin/detect" <<'EOF'
#!/bin/sh
printf '%s\n' "$1" >>"$RUNS"
case "$1" in *broken*) echo "detect: $1: not a video" >&2; exit 1 ;; esac
[ -n "${SLOW:-}" ] && sleep "$SLOW"
echo "{\"type\":\"session\",\"session\":\"s_$(basename "$1" .mp4)\",\"source\":\"$1\"}"
EOF
for t in narrate speak; do printf '#!/bin/sh\ncat\n' >"$T/bin/$t"; done
cat >"$T/bin/splice" <<'EOF'
#!/bin/sh
while read -r line; do
	id=$(printf '%s' "$line" | sed -n 's/.*"session":"\([^"]*\)".*/\1/p')
	echo "{\"type\":\"complete\",\"session\":\"$id\",\"chunks\":1,\"url\":\"/videos/generated-videos/commentary_$id.mp4\"}"
done
EOF
chmod +x "$T/bin"/*
export RUNS="$T/runs"
: >"$T/inbox/one.mp4"
: >"$T/inbox/two.mp4"
: >"$T/inbox/broken.mp4"
touch -d '10 days ago' "$T/out/streaming/session_old" "$T/out/generated-videos"
: >"$T/out/generated-videos/commentary_session_old.mp4"
touch -d '10 days ago' "$T/out/generated-videos/commentary_session_old.mp4"
PATH="$T/bin:$PATH" sh "$EX/playcall-batch.sh" "$T/inbox" "$T/out" >"$T/batch.out" 2>"$T/batch.err"
is $? 1 "batch: exit 1 when a video failed"
is "$(ls "$T/inbox/done" | tr '\n' ' ')" "one.mp4 two.mp4 " "batch: the videos with a reel moved to done/"
is "$(ls "$T/inbox/failed")" "broken.mp4" "batch: the one without moved to failed/"
like "$(cat "$T/batch.out")" 'one.mp4: /videos/generated-videos/commentary_s_one.mp4' "batch: prints each reel's URL"
like "$(cat "$T/batch.err")" 'broken.mp4: no reel' "batch: says which failed"
[ ! -e "$T/out/streaming/session_old" ] && [ ! -e "$T/out/generated-videos/commentary_session_old.mp4" ]
ok $? "batch: sessions and reels older than 7 days swept"
PATH="$T/bin:$PATH" sh "$EX/playcall-batch.sh" "$T/inbox" "$T/out" >/dev/null 2>&1
is $? 0 "batch: a second run with nothing new: exit 0"
is "$(wc -l <"$RUNS" | tr -d ' ')" 3 "batch: and it ran nothing again"
: >"$T/inbox/three.mp4"
SLOW=2 PATH="$T/bin:$PATH" sh "$EX/playcall-batch.sh" "$T/inbox" "$T/out" >/dev/null 2>&1 &
B=$!
sleep 0.5
PATH="$T/bin:$PATH" sh "$EX/playcall-batch.sh" "$T/inbox" "$T/out" >/dev/null 2>"$T/busy"; rc=$?
wait $B
is "$rc" 0 "batch: a run while another is busy exits 0"
like "$(cat "$T/busy")" 'another run is busy' "batch: saying so"
is "$(grep -c three.mp4 "$RUNS")" 1 "batch: the new video ran once"
done_testing
