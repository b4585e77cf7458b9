#!/bin/sh
# Fan-out: 1,000 concurrent clients of /events on one process all receive
# every record, in order, once (written by two threads: more than
# --split-fanout's default 256); memory per client stays small; a client
# that stops reading is cut off at the backlog bound without holding back
# the others, and what it did get is a clean prefix it can resume from,
# with one writing thread and with two.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
CLIENT="python3 $PLAYCALL_SRC/tests/sse-client.py"
N=${SSE_FANOUT_CLIENTS:-1000}
RECORDS=200

mkfifo "$T/in"
sleep 600 >"$T/in" &
HOLDER=$!
SSE_STDIN="$T/in" sse_start --max-backlog 65536
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SSE_PID/status"; }
base_rss=$(rss)

# The clients connect first; then the records come, then the end of input.
$CLIENT fanout "${SSE_URL}events" "$N" "$RECORDS" 90 >"$T/result" &
FAN=$!
_i=0
while [ $_i -lt 300 ]; do
	c=$(curl -s "${SSE_URL}metrics" | sed -n 's/^playcall_clients //p')
	[ "${c:-0}" -ge "$N" ] && break
	sleep 0.1
	_i=$((_i + 1))
done
is "$c" "$N" "$N clients attached"
conn_rss=$(rss)
per_client=$(( (conn_rss - base_rss) * 1024 / N ))
diag "memory: $base_rss KiB idle, $conn_rss KiB with $N clients: $per_client bytes per client"
if ldd "$(command -v sse-serve)" | grep -q libasan; then
	pass "# SKIP memory per client is not measured under AddressSanitizer"
else
	num_cmp "$per_client" '<=' 10240 "at most 10 KB of memory per client"
fi

records() { # records COUNT PADDING
	python3 -c 'import sys
pad = "x" * int(sys.argv[2])
for i in range(1, int(sys.argv[1]) + 1):
    print("{\"type\":\"status\",\"stage\":\"test\",\"message\":\"record %d\",\"pad\":\"%s\"}" % (i, pad))' "$@"
}
records "$RECORDS" 100 >"$T/in"
kill $HOLDER
wait $FAN
r=$(cat "$T/result")
diag "$r"
val() { printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
is "$(val connected)" "$N" "every client connected"
is "$(val complete)" "$N" "every client got ids 1..$RECORDS exactly once, in order"
is "$(val unfinished)" 0 "every stream was closed at the end of the input"
kill -0 "$SSE_PID"; ok $? "the server is still up"
sse_stop

# A client that stops reading: 8 MB of records against a 64 KiB bound,
# more than any socket buffer absorbs.  The readers get it all.  With
# --split-fanout 2 every record is written by two threads, and the client
# whose socket fills is handed back to the main thread.
SLOW_RECORDS=4000
for split in 0 2; do
	sleep 600 >"$T/in" &
	HOLDER=$!
	SSE_STDIN="$T/in" sse_start --max-backlog 65536 --split-fanout $split
	$CLIENT fanout "${SSE_URL}events" 3 "$SLOW_RECORDS" 90 slow >"$T/result" &
	FAN=$!
	sleep 1
	records "$SLOW_RECORDS" 2000 >"$T/in"
	kill $HOLDER
	wait $FAN
	r=$(cat "$T/result")
	diag "--split-fanout $split: $r"
	is "$(val complete)" 3 "--split-fanout $split: the three readers got every record"
	num_cmp "$(val slow_events)" '<' "$SLOW_RECORDS" "--split-fanout $split: the client that did not read was cut off"
	is "$(val slow_in_order)" True "--split-fanout $split: what it got is a clean prefix (it can resume with Last-Event-ID)"
	sse_stop
done
done_testing
