#!/bin/sh
# narrate as a stage of the pipe: pass-through and order with two sessions
# interleaved in one stream, session_end after its session's commentary,
# malformed lines (an error record naming stdin:N, the stream goes on), and
# streaming: the first commentary comes out while the input is still being
# written.
. "$(dirname "$0")/lib.sh"
command -v narrate >/dev/null || skip_all "narrate is not built"

# Two sessions interleaved, with records narrate does not consume.
cat >"$T/two.ndjson" <<'EOF'
{"type":"session","session":"A","source":"/m/a.mp4","duration":90,"dir":"/tmp/A"}
{"type":"status","stage":"detect","message":"no session here"}
{"type":"session","session":"B","source":"/m/b.mp4","duration":60,"dir":"/tmp/B"}
{"type":"events","session":"A","index":0,"start":0,"end":30,"events":[{"t":12,"kind":"crowd","label":"crowd roar","score":0.9}]}
{"type":"events","session":"B","index":0,"start":0,"end":30,"events":[{"t":27,"kind":"crowd","label":"crowd roar","score":0.8}]}
{"type":"status","session":"B","stage":"detect","message":"half way","progress":50}
{"type":"mystery","session":"A","payload":{"nested":[1,2,3]},"n":1.25}
{"type":"events","session":"A","index":1,"start":30,"end":60,"events":[{"t":40,"kind":"whistle","label":"whistle","score":0.7}]}
{"type":"events","session":"B","index":1,"start":30,"end":60,"events":[]}
{"type":"session_end","session":"B","intervals":2}
{"type":"events","session":"A","index":2,"start":60,"end":90,"events":[{"t":80,"kind":"motion","label":"burst","score":0.6}]}
{"type":"error","session":"A","stage":"detect","message":"something upstream"}
{"type":"session_end","session":"A","intervals":3}
EOF
narrate --seed 1 <"$T/two.ndjson" >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "two sessions: exit 0"
is "$(cat "$T/err")" "" "two sessions: nothing on stderr"
order() { # order SESSION: the types (and commentary indexes) of that session's records
	field "$T/out" "' '.join(r['type'] + (str(r['index']) if r['type'] == 'commentary' else '') for r in rs if r.get('session') == '$1')"
}
is "$(order A)" "session commentary0 mystery commentary1 commentary2 error session_end" \
	"session A: its records in order, commentary in index order, session_end last"
is "$(order B)" "session status commentary0 session_end" \
	"session B: the window near the interval end waited for the next interval; session_end last"
is "$(field "$T/out" '[i for i, r in enumerate(rs) if "session" not in r]')" "[1]" \
	"a record without a session passes at once, in its place"
is "$(field "$T/out" '[r["start"] for r in of("commentary") if r["session"] == "B"]')" "[22]" \
	"session B's window from its own events"
is "$(field "$T/out" '[r for r in rs if r["type"] == "mystery"] == [json.loads(l) for l in open(sys.argv[1].replace("out", "two.ndjson")) if "mystery" in l]')" \
	"true" "an unknown record passes through unchanged"
b_end=$(field "$T/out" '[i for i, r in enumerate(rs) if r["type"] == "session_end" and r["session"] == "B"][0]')
a_last=$(field "$T/out" '[i for i, r in enumerate(rs) if r["type"] == "commentary" and r["session"] == "A"][-1]')
num_cmp "$b_end" "<" "$a_last" "B's session_end does not wait for session A"
is "$(field "$T/out" 'sorted(set(r["session"] for r in of("commentary")))')" '["A", "B"]' "both sessions narrated"

# Each session says its own words whatever shares the stream: the same
# seed gives A the same commentary alone or interleaved.
grep '"session":"A"' "$T/two.ndjson" | narrate --seed 1 >"$T/alone"
is "$(field "$T/alone" '[r["text"] for r in of("commentary")]')" \
	"$(field "$T/out" '[r["text"] for r in of("commentary") if r["session"] == "A"]')" \
	"a session's commentary does not depend on the other sessions in the stream"

# Malformed lines: a one-line message naming the line, an error record, and on.
cat >"$T/bad.ndjson" <<'EOF'
{"type":"session","session":"S","duration":60}
{"type":"events","session":"S","index":0,"start":0,"end":30,"events":[{"t":5,"kind":"crowd","score":0.9}]}
this is not JSON
{"type":"events","session":"S","start":30,"end":60,"events":[]}
[1,2]
{"type":"events","session":"S","index":1,"start":30,"end":60,"events":[{"t":"soon"},{"t":44,"kind":"crowd","score":0.9}]}
{"type":"events","index":2,"start":60,"end":90,"events":[]}
{"type":"session_end","session":"S"}
EOF
narrate --seed 1 <"$T/bad.ndjson" >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "malformed input: exit 1 (documented), after the whole stream"
is "$(field "$T/out" '[r.get("input") for r in of("error")]')" \
	'["stdin:3", "stdin:4", "stdin:5", "stdin:6", "stdin:7"]' "an error record for each bad line, naming stdin:N"
like "$(sed -n 1p "$T/err")" "^narrate: stdin:3: not JSON: " "stderr: the line and what is wrong"
like "$(sed -n 2p "$T/err")" "^narrate: stdin:4: events record without an interval \"index\"" "stderr: a record without its index"
like "$(sed -n 3p "$T/err")" "^narrate: stdin:5: record is not a JSON object" "stderr: not an object"
like "$(sed -n 4p "$T/err")" "^narrate: stdin:6: interval 1: 1 event skipped \(event 0: no time" "stderr: a bad event in a good record"
like "$(sed -n 5p "$T/err")" "^narrate: stdin:7: events record without a valid \"session\"" "stderr: events without a session"
is "$(wc -l <"$T/err" | tr -d ' ')" 5 "stderr: one line each"
is "$(field "$T/out" '[(r["index"], r["events"][0]["t"]) for r in of("commentary")]')" "[[0, 5], [1, 44]]" \
	"the stream went on: both highlights, the good event of the bad record kept"
is "$(field "$T/out" 'rs[-1]["type"]')" "session_end" "session_end still last"
is "$(field "$T/out" 'all(r["stage"] == "narrate" for r in of("error"))')" "true" "errors say stage narrate"

# A huge line is refused like any bad line, and the stream goes on.
{ head -n 1 "$T/bad.ndjson"; python3 -c 'print("{\"type\":\"x\",\"pad\":\"" + "a" * 5000 + "\"}")'; sed -n 2p "$T/bad.ndjson"; } |
	PLAYCALL_MAX_LINE=1000 narrate >"$T/out" 2>"$T/err"
is "$(field "$T/out" '[r["type"] + ":" + str(r.get("input")) for r in rs if r["type"] != "session"]')" \
	'["error:stdin:2", "commentary:None"]' "an over-long line: error, then the stream goes on"

# Streaming: records written one at a time; the first commentary must come
# out before the last events record is written (the stage does not wait for
# the end of the video).
python3 - "$T/stream.log" <<'EOF'
import json, os, select, subprocess, sys, time
log = open(sys.argv[1], "w")
recs = [{"type": "session", "session": "L", "duration": 150}]
for i in range(5):
    evs = [{"t": i * 30 + 10, "kind": "crowd", "label": "crowd roar", "score": 0.9}]
    recs.append({"type": "events", "session": "L", "index": i, "start": i * 30, "end": i * 30 + 30, "events": evs})
recs.append({"type": "session_end", "session": "L"})
fifo = os.path.join(os.path.dirname(sys.argv[1]), "fifo")
os.mkfifo(fifo)
p = subprocess.Popen(["sh", "-c", 'exec narrate --seed 1 < "$0"', fifo], stdout=subprocess.PIPE)
w = open(fifo, "w")
pending = b""
def lines_now(wait):
    """Complete output lines, waiting up to `wait` s for the first (raw
    reads: a buffered reader could hide lines from select)."""
    global pending
    end = time.time() + wait
    while b"\n" not in pending:
        r, _, _ = select.select([p.stdout], [], [], max(0, end - time.time()))
        if not r:
            return []
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            return []
        pending += chunk
    done, _, pending = pending.rpartition(b"\n")
    return [json.loads(l) for l in done.split(b"\n") if l.strip()]
def drain(wait):
    end = time.time() + wait
    while time.time() < end:
        got = lines_now(end - time.time())
        if not got:
            return
        for r in got:
            log.write("out %s\n" % r["type"])
        if any(r["type"] == "commentary" for r in got):
            return
for i, r in enumerate(recs):
    log.write("in %s\n" % r["type"])
    w.write(json.dumps(r) + "\n")
    w.flush()
    if r["type"] == "events":
        drain(10)   # wait (up to 10 s) for what the stage writes now
w.close()
while True:
    got = lines_now(30)
    if not got:
        break
    for r in got:
        log.write("out %s\n" % r["type"])
log.write("exit %d\n" % p.wait())
EOF
first_out=$(grep -n '^out commentary' "$T/stream.log" | head -n1 | cut -d: -f1)
last_in=$(grep -n '^in events' "$T/stream.log" | tail -n1 | cut -d: -f1)
num_cmp "${first_out:-999}" "<" "$last_in" "streaming: the first commentary came out before the last events record was written"
is "$(grep -c '^out commentary' "$T/stream.log")" 5 "streaming: all five highlights"
second_in=$(grep -n '^in events' "$T/stream.log" | sed -n 2p | cut -d: -f1)
num_cmp "${first_out:-999}" "<" "${second_in:-0}" "streaming: highlight 0 as soon as its interval was in"
is "$(tail -n 2 "$T/stream.log" | tr '\n' ' ')" "out session_end exit 0 " "streaming: session_end last, exit 0"

done_testing
