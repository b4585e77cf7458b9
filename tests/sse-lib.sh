# Helpers for the sse-serve tests (sourced after lib.sh).
#   sse_start [ARGS...]   start sse-serve on a free loopback port; SSE_URL,
#                         SSE_PID, SSE_LOG (its stderr) are set.  Standard
#                         input comes from $SSE_STDIN (default /dev/null).
#   sse_stop              stop it (TERM), wait.
#   sse_events FILE       the data: lines of an SSE transcript, one record a line
#   sse_ids FILE          the id: lines, one number a line

_sse_n=0
sse_start() {
	_sse_n=$((_sse_n + 1))
	SSE_LOG="$T/sse-serve.$_sse_n.log"
	_sse_out="$T/sse-serve.$_sse_n.out"
	: >"$_sse_out"
	sse-serve -l 127.0.0.1:0 --json "$@" <"${SSE_STDIN:-/dev/null}" >"$_sse_out" 2>"$SSE_LOG" &
	SSE_PID=$!
	SSE_URL=
	_i=0
	while [ $_i -lt 100 ]; do
		SSE_URL=$(sed -n 's/.*"url":"\(http[^"]*\)".*/\1/p' "$_sse_out" | head -n 1)
		[ -n "$SSE_URL" ] && break
		kill -0 "$SSE_PID" 2>/dev/null || break
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ -z "$SSE_URL" ]; then
		diag "sse-serve did not start: $(cat "$SSE_LOG")"
		return 1
	fi
}

# Stopping is part of the test: SIGTERM must end it cleanly (exit 0), and
# a sanitizer build must have reported nothing (LeakSanitizer runs at exit).
sse_stop() {
	[ -n "${SSE_PID:-}" ] || return 0
	kill "$SSE_PID" 2>/dev/null
	wait "$SSE_PID"
	_rc=$?
	SSE_PID=
	is "$_rc" 0 "sse-serve stopped by SIGTERM exits 0"
	if grep -q 'Sanitizer\|runtime error' "$SSE_LOG"; then
		fail "sse-serve ran without a sanitizer report"
		diag "$(grep -A 12 'Sanitizer\|runtime error' "$SSE_LOG" | head -n 30)"
	fi
}

sse_events() { sed -n 's/^data: //p' "$1"; }
sse_ids() { sed -n 's/^id: //p' "$1"; }

# A failing test must not leave a server behind.
trap '[ -z "${SSE_PID:-}" ] || kill "$SSE_PID" 2>/dev/null; cleanup' EXIT
