#!/bin/sh
# detect on generated videos: records field by field, events where the
# media has them, options and their environment equivalents, broken inputs,
# streaming, the terminal view, and no ffmpeg left behind.
. "$(dirname "$0")/lib.sh"
command -v ffmpeg >/dev/null || skip_all "no ffmpeg"
REAL_FFMPEG=$(command -v ffmpeg)
cd "$T" || exit 1

# ---- media ----
# rich.mp4, 100 s: cuts at 13.4 and 27.7 (inverted picture between; no
# keyframe at the cuts), crowd roars at 23 and 61, a 0.3 s whistle-like peak
# at 36, a burst of motion (noise) 50-53, black 70-74, silence 85-90.
rich_video() {
	ffmpeg -nostdin -v error -y \
		-f lavfi -i "testsrc2=size=320x180:rate=25:duration=100,negate=enable='between(t,13.4,27.7)',noise=alls=20:allf=t:enable='between(t,50,53)',drawbox=color=black:t=fill:enable='between(t,70,74)'" \
		-f lavfi -i "anoisesrc=color=pink:amplitude=0.03:sample_rate=44100:duration=100:seed=7,volume=volume='(1+25*(between(t,23,24.2)+between(t,61,62.2)+between(t,36,36.3)))*(1-between(t,85,90))':eval=frame" \
		-c:v libx264 -preset veryfast -g 50 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 64k -shortest "$1"
}
rich_video rich.mp4
make_video burst23.mp4 40 --bursts 23
make_video noaudio.mp4 40 --noaudio --cuts "13.4"
make_video mpeg4.avi 40 --vcodec mpeg4 --bursts 23
ffmpeg -nostdin -v error -y -i rich.mp4 -vn -c:a pcm_s16le audio.wav
ffmpeg -nostdin -v error -y -i rich.mp4 -c copy -movflags +faststart faststart.mp4
size=$(wc -c < faststart.mp4)
head -c $((size / 2)) faststart.mp4 > half-faststart.mp4
head -c $((size / 2)) rich.mp4 > half.mp4
: > empty.mp4
echo "not a video" > text.mp4
mkdir folder.mp4

# validate FILE: the record contract, every session in the file; prints
# one line per problem (nothing when all is well).
validate() {
	python3 - "$1" <<'EOF'
import json, sys, re
kinds = {"crowd", "whistle", "cut", "motion", "lull"}
problems = []
def bad(msg): problems.append(msg)
def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
sessions = {}
order = []
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        r = json.loads(line)
    except ValueError:
        bad("line %d is not JSON" % n); continue
    if not isinstance(r, dict) or not isinstance(r.get("type"), str):
        bad("line %d is not a record" % n); continue
    t = r["type"]
    sid = r.get("session")
    if t == "session":
        for k, ty in (("session", str), ("source", str), ("dir", str), ("backend", str),
                      ("has_video", bool), ("has_audio", bool)):
            if not isinstance(r.get(k), ty): bad("session.%s is not %s" % (k, ty.__name__))
        for k in ("duration", "interval", "first_interval", "intervals"):
            if not num(r.get(k)) or r[k] <= 0: bad("session.%s is not a positive number" % k)
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", sid or ""): bad("session id %r" % sid)
        if not r["source"].startswith("/"): bad("source is not absolute")
        if not r["dir"].endswith("/streaming/" + sid): bad("dir %s" % r["dir"])
        if sid in sessions: bad("session %s twice" % sid)
        sessions[sid] = {"rec": r, "events": [], "end": None, "progress": []}
        order.append(sid); continue
    if t in ("error",) and sid is None: continue
    s = sessions.get(sid)
    if s is None: bad("%s record before its session" % t); continue
    if s["end"] is not None: bad("%s after session_end" % t)
    if t == "status":
        if r.get("stage") != "detect" or not isinstance(r.get("message"), str): bad("status fields")
        if "progress" in r: s["progress"].append(r["progress"])
    elif t == "events":
        s["events"].append(r)
    elif t == "session_end":
        s["end"] = r
    elif t != "error":
        bad("unexpected record type %s" % t)
for sid in order:
    s = sessions[sid]; rec = s["rec"]
    if s["end"] is None: bad("%s has no session_end" % sid); continue
    if s["end"].get("intervals") != len(s["events"]): bad("session_end.intervals %r != %d events records" % (s["end"].get("intervals"), len(s["events"])))
    prev_end = 0
    for i, e in enumerate(s["events"]):
        if e.get("index") != i: bad("events index %r, want %d" % (e.get("index"), i))
        if e.get("backend") != rec["backend"]: bad("events.backend")
        if not num(e.get("start")) or not num(e.get("end")): bad("events start/end"); continue
        if abs(e["start"] - prev_end) > 1e-6: bad("interval %d starts at %s, not %s" % (i, e["start"], prev_end))
        if e["end"] <= e["start"]: bad("interval %d is empty" % i)
        prev_end = e["end"]
        evs = e.get("events")
        if not isinstance(evs, list): bad("events.events is not a list"); continue
        if len(evs) > 16: bad("interval %d has %d events" % (i, len(evs)))
        last_t = -1
        for ev in evs:
            if set(ev) < {"t", "kind", "label", "score"}: bad("event fields %s" % sorted(ev))
            if ev.get("kind") not in kinds: bad("event kind %r" % ev.get("kind"))
            if not isinstance(ev.get("label"), str) or not ev["label"]: bad("event label")
            if not num(ev.get("score")) or not 0 <= ev["score"] <= 1: bad("event score %r" % ev.get("score"))
            if not num(ev.get("t")) or not e["start"] <= ev["t"] <= e["end"]: bad("event t %r outside [%s,%s]" % (ev.get("t"), e["start"], e["end"]))
            elif ev["t"] < last_t: bad("events not in time order")
            else: last_t = ev["t"]
    if len(s["events"]) == rec["intervals"] and abs(prev_end - rec["duration"]) > 1e-6:
        bad("last interval ends at %s, not at the duration %s" % (prev_end, rec["duration"]))
    p = s["progress"]
    if not p or p != sorted(p) or p[-1] != 100 or not all(isinstance(x, int) for x in p): bad("progress %s" % p)
for m in problems[:20]: print(m)
EOF
}
# events FILE: "t kind label score" lines of every events record
events() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "events":
        for e in r["events"]: print(e["t"], e["kind"], e["label"].replace(" ", "_"), e["score"])' "$1"
}
# near FILE KIND T TOL: how many KIND events within TOL of T
near() {
	events "$1" | awk -v k="$2" -v t="$3" -v tol="$4" '$2 == k { d = $1 - t; if (d < 0) d = -d; if (d <= tol) n++ } END { print n + 0 }'
}

# ---- the main case, field by field ----
detect rich.mp4 > rich.out 2> rich.err
ok $? "rich.mp4: exit 0"
is "$(cat rich.err)" "" "rich.mp4: nothing on stderr"
is "$(validate rich.out)" "" "rich.mp4: records follow the contract"
is "$(field rich.out 'rs[0]["type"]')" "session" "the session record comes first"
is "$(field rich.out 'rs[-1]["type"]')" "session_end" "session_end comes last"
is "$(field rich.out 'of("session")[0]["source"]')" "$T/rich.mp4" "session.source is the absolute path"
num_near "$(field rich.out 'of("session")[0]["duration"]')" 100 0.1 "session.duration"
is "$(field rich.out 'of("session")[0]["interval"]')" 30 "session.interval defaults to 30"
is "$(field rich.out 'of("session")[0]["first_interval"]')" 30 "session.first_interval defaults to the interval"
is "$(field rich.out 'of("session")[0]["intervals"]')" 4 "session.intervals: 100 s in 30 s intervals"
is "$(field rich.out 'of("session")[0]["backend"]')" local "session.backend: local without keys"
is "$(field rich.out '[of("session")[0]["has_video"], of("session")[0]["has_audio"]]')" "[true, true]" "has_video and has_audio"
sid=$(field rich.out 'of("session")[0]["session"]')
like "$sid" '^session_[0-9]{8}_[0-9]{6}_[0-9a-f]{6}$' "a fresh session id"
is "$(field rich.out 'of("session")[0]["dir"]')" "$PLAYCALL_OUT/streaming/$sid" "session.dir under the output root"
[ -d "$PLAYCALL_OUT/streaming/$sid" ]; ok $? "the session folder exists"
is "$(field rich.out '[(r["index"], r["start"], r["end"]) for r in of("events")]')" \
	"[[0, 0, 30], [1, 30, 60], [2, 60, 90], [3, 90, 100]]" "events: index, start and end"
is "$(field rich.out 'sorted(set(r["session"] for r in rs))')" "[\"$sid\"]" "every record carries the session"
is "$(field rich.out 'of("session_end")[0]["intervals"]')" 4 "session_end.intervals"
is "$(field rich.out 'sorted(set(r["backend"] for r in of("events")))')" '["local"]' "events.backend"
like "$(field rich.out '[r["progress"] for r in of("status")]')" '^\[0, .*, 100\]$' "status progress from 0 to 100"
num_cmp "$(field rich.out 'len([r for r in of("status") if 0 < r["progress"] < 100])')" ">" 0 "status progress while working"
is "$(near rich.out crowd 23 0.5)" 1 "a crowd roar at 23 s"
is "$(near rich.out crowd 61 0.5)" 1 "a crowd roar at 61 s"
is "$(events rich.out | awk '$2 == "crowd"' | wc -l)" 2 "no other crowd roar"
is "$(events rich.out | awk '$2 == "crowd" { print $3; exit }')" "crowd_roar" "crowd label"
is "$(near rich.out whistle 36 0.5)" 1 "a short sharp peak at 36 s is a whistle"
is "$(near rich.out cut 13.4 0.3)" 1 "a cut at 13.4 s, between keyframes"
is "$(near rich.out cut 27.7 0.3)" 1 "a cut at 27.7 s"
is "$(near rich.out motion 50 1)" 1 "a burst of motion at 50 s"
is "$(near rich.out lull 70 2)" 1 "a lull (black) at 70 s"
is "$(events rich.out | awk '$2 == "lull" && $3 == "black_screen"' | wc -l)" 1 "one black-screen lull"
is "$(near rich.out lull 85 0.5)" 1 "a lull (silence) at 85 s"
is "$(events rich.out | awk '$2 == "lull" && $3 == "silence"' | wc -l)" 1 "one silence lull"
is "$(events rich.out | sort -k4 -g | tail -n1 | awk '{ print $2 }')" crowd "a crowd roar scores highest"
top_band=$(events rich.out | awk '$2 == "lull" && $4 > 0.2' | wc -l)
is "$top_band" 0 "lulls score low"

# The burst clip: the top-scoring event within a second of 23 s.
detect burst23.mp4 > b23.out
ok $? "burst23.mp4: exit 0"
is "$(validate b23.out)" "" "burst23.mp4: records follow the contract"
num_near "$(events b23.out | sort -k4 -g | tail -n1 | awk '{ print $1 }')" 23 1 "the top-scoring event is within 1 s of the burst at 23 s"

# ---- other media ----
detect noaudio.mp4 > na.out
ok $? "video without audio: exit 0"
is "$(validate na.out)" "" "video without audio: records follow the contract"
is "$(field na.out '[of("session")[0]["has_video"], of("session")[0]["has_audio"]]')" "[true, false]" "video without audio: has_audio false"
is "$(events na.out | awk '$2 == "crowd" || $2 == "whistle" || $3 == "silence"' | wc -l)" 0 "video without audio: no audio events"
is "$(near na.out cut 13.4 0.5)" 1 "video without audio: its cut at 13.4 s"

detect audio.wav > wav.out
ok $? "audio only: exit 0"
is "$(validate wav.out)" "" "audio only: records follow the contract"
is "$(field wav.out '[of("session")[0]["has_video"], of("session")[0]["has_audio"]]')" "[false, true]" "audio only: has_video false"
is "$(near wav.out crowd 23 0.5)" 1 "audio only: the roar at 23 s"
is "$(events wav.out | awk '$2 == "cut" || $2 == "motion" || $3 == "black_screen"' | wc -l)" 0 "audio only: no video events"

detect mpeg4.avi > avi.out
ok $? "MPEG-4 in AVI: exit 0"
is "$(validate avi.out)" "" "MPEG-4 in AVI: records follow the contract"
num_near "$(events avi.out | sort -k4 -g | tail -n1 | awk '{ print $1 }')" 23 1 "MPEG-4 in AVI: the top event at the burst"

# ---- broken inputs, and the next file still done ----
detect missing.mp4 empty.mp4 half.mp4 text.mp4 folder.mp4 half-faststart.mp4 burst23.mp4 > bad.out 2> bad.err
is "$?" 1 "broken inputs: exit 1"
is "$(validate bad.out)" "" "broken inputs: the records still follow the contract"
is "$(wc -l < bad.err | tr -d ' ')" 6 "one stderr line per broken file"
like "$(sed -n 1p bad.err)" '^detect: missing.mp4: No such file or directory$' "missing file named"
like "$(sed -n 2p bad.err)" '^detect: empty.mp4: empty file$' "empty file named"
like "$(sed -n 3p bad.err)" '^detect: half.mp4: .+' "truncated file (no index) named"
like "$(sed -n 4p bad.err)" '^detect: text.mp4: .*[Ii]nvalid data' "text file named"
like "$(sed -n 5p bad.err)" '^detect: folder.mp4: is a directory$' "directory named"
like "$(sed -n 6p bad.err)" '^detect: half-faststart.mp4: data ends at [0-9.]+ s of 100.0 s' "truncated file (data missing) named"
is "$(field bad.out '[r["input"] for r in of("error")]')" \
	'["missing.mp4", "empty.mp4", "half.mp4", "text.mp4", "folder.mp4", "half-faststart.mp4"]' "an error record with input per broken file"
is "$(field bad.out '[("session" in r) for r in of("error")]')" "[false, false, false, false, false, true]" \
	"only the file that got a session has it in its error"
is "$(field bad.out 'len(of("session"))')" 2 "sessions for the half file and the good one"
is "$(field bad.out 'of("session_end")[0]["intervals"]')" 1 "the half file: session_end counts the one interval its data covers"
is "$(field bad.out 'of("session")[1]["source"]')" "$T/burst23.mp4" "the next file is still analysed"
is "$(field bad.out 'of("session_end")[1]["intervals"]')" 2 "...completely"

# ---- options and their environment ----
detect --interval 20 --first-interval 5 rich.mp4 > iv.out
is "$(field iv.out '[(r["start"], r["end"]) for r in of("events")]')" \
	"[[0, 5], [5, 25], [25, 45], [45, 65], [65, 85], [85, 100]]" "--interval 20 --first-interval 5"
is "$(field iv.out '[of("session")[0][k] for k in ("interval", "first_interval", "intervals")]')" "[20, 5, 6]" "...in the session record"
PLAYCALL_INTERVAL=50 detect rich.mp4 > env.out
is "$(field env.out 'of("session")[0]["intervals"]')" 2 "PLAYCALL_INTERVAL"
PLAYCALL_INTERVAL=50 detect --interval 25 rich.mp4 > env2.out
is "$(field env2.out 'of("session")[0]["intervals"]')" 4 "--interval wins over PLAYCALL_INTERVAL"
PLAYCALL_FIRST_INTERVAL=10 detect rich.mp4 > env3.out
is "$(field env3.out 'of("session")[0]["first_interval"]')" 10 "PLAYCALL_FIRST_INTERVAL"
detect --threshold 0.5 rich.mp4 > th.out
is "$(events th.out | awk '$4 < 0.5' | wc -l)" 0 "--threshold 0.5 leaves out lower scores"
is "$(events th.out | awk '$2 == "crowd"' | wc -l)" 2 "...and keeps the roars"
PLAYCALL_DETECT_THRESHOLD=0.9 detect rich.mp4 > th2.out
is "$(events th2.out | awk '{ print $2 }' | sort -u | tr '\n' ' ')" "crowd " "PLAYCALL_DETECT_THRESHOLD"
detect --rise 40 burst23.mp4 > rise.out
is "$(events rise.out | awk '$2 == "crowd"' | wc -l)" 0 "--rise 40: a 28 dB burst is no roar"
PLAYCALL_DETECT_RISE=40 detect burst23.mp4 > rise2.out
is "$(events rise2.out | awk '$2 == "crowd"' | wc -l)" 0 "PLAYCALL_DETECT_RISE"
detect --session my-match.1 --backend local burst23.mp4 > sess.out
is "$(field sess.out 'sorted(set(r["session"] for r in rs))')" '["my-match.1"]' "--session sets the id"
[ -d "$PLAYCALL_OUT/streaming/my-match.1" ]; ok $? "--session: its folder"
PLAYCALL_DETECT_BACKEND=local detect --out "$T/elsewhere" burst23.mp4 > out.out
like "$(field out.out 'of("session")[0]["dir"]')" "^$T/elsewhere/streaming/session_" "--out sets the output root"
is "$(field out.out 'of("session")[0]["backend"]')" local "PLAYCALL_DETECT_BACKEND=local"
detect --backend auto burst23.mp4 > auto.out
is "$(field auto.out 'of("session")[0]["backend"]')" local "--backend auto without keys is local"

usage() { # usage NAME ARGS...: exit 2 and a message on stderr, nothing on stdout
	name=$1; shift
	"$@" > usage.out 2> usage.err
	is "$?" 2 "$name: exit 2"
	is "$(wc -c < usage.out | tr -d ' ')" 0 "$name: nothing on stdout"
	like "$(head -n1 usage.err)" '^detect: ' "$name: says why"
}
usage "no video" detect
usage "unknown option" detect --frobnicate rich.mp4
usage "--interval 0" detect --interval 0 rich.mp4
usage "--interval x" detect --interval x rich.mp4
usage "PLAYCALL_INTERVAL=-3" env PLAYCALL_INTERVAL=-3 detect rich.mp4
usage "--threshold 2" detect --threshold 2 rich.mp4
usage "--rise abc" detect --rise abc rich.mp4
usage "--backend nope" detect --backend nope rich.mp4
usage "--session ../x" detect --session ../x rich.mp4
usage "--session with two videos" detect --session s1 rich.mp4 burst23.mp4
detect --help > help.out
ok $? "--help: exit 0"
for o in --interval --first-interval --backend --threshold --session --out --json --rise PLAYCALL_DETECT_RISE; do
	grep -q -- "$o" help.out; ok $? "--help lists $o"
done

# ---- the terminal view ----
if command -v script >/dev/null; then
	script -qec "detect burst23.mp4" /dev/null > tty.out 2>&1
	ok $? "on a terminal: exit 0"
	grep -q '"type"' tty.out; ok $((! $?)) "on a terminal: no raw records"
	grep -q 'interval 0 \[00:00:00-00:00:30\]: 1 event crowd@23.0' tty.out; ok $? "on a terminal: a line per interval"
	grep -q "session .*: $T/burst23.mp4 (40.0 s)" tty.out; ok $? "on a terminal: the session line"
	script -qec "detect --json burst23.mp4" /dev/null > tty2.out 2>&1
	is "$(grep -c '^{"type":"events"' tty2.out)" 2 "--json on a terminal: records"
else
	for i in 1 2 3 4 5; do pass "# SKIP no script(1)"; done
fi

# ---- streaming, and no ffmpeg left behind ----
# An ffmpeg that reads at 20x real time makes the analysis of a 60 s clip
# take seconds, so what happens while it runs can be seen.
mkdir slowbin
cat > slowbin/ffmpeg <<EOF
#!/bin/sh
exec "$REAL_FFMPEG" -readrate 20 "\$@"
EOF
chmod +x slowbin/ffmpeg
make_video slow.mp4 60 --bursts "3 40"
# watch CMD...: each record's arrival time, and whether an ffmpeg working
# on slow.mp4 was alive when it arrived.
watch() {
	python3 - "$@" <<'EOF'
import json, subprocess, sys, time
t0 = time.time()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
for line in p.stdout:
    r = json.loads(line)
    alive = subprocess.run(["pgrep", "-f", "slow.mp4 -map"], capture_output=True).stdout.strip() != b""
    print("%.3f %s %s %d" % (time.time() - t0, r["type"], r.get("index", "-"), alive))
p.wait()
print("%.3f exit %d 0" % (time.time() - t0, p.returncode))
EOF
}
PATH="$T/slowbin:$PATH" watch detect --first-interval 5 slow.mp4 > stream.out
first=$(awk '$2 == "events" { print; exit }' stream.out)
last=$(awk '$2 == "events" { l = $0 } END { print l }' stream.out)
is "$(echo "$first" | awk '{ print $3, $4 }')" "0 1" "the first interval's record arrives while ffmpeg still works"
num_cmp "$(echo "$last" | awk '{ print $1 }')" ">" "$(echo "$first" | awk '{ print $1 + 1 }')" \
	"...more than a second before the last one"
is "$(awk '$2 == "exit" { print $3 }' stream.out)" 0 "the slow run ends well"

# Ctrl-C in the middle: detect dies of it, and takes every ffmpeg along.
PATH="$T/slowbin:$PATH" detect slow.mp4 > int.out 2>&1 &
pid=$!
for i in $(seq 50); do grep -q '"type":"events"' int.out && break; sleep 0.1; done
pgrep -f "slow.mp4 -map" > /dev/null; ok $? "before SIGINT: ffmpeg is running"
kill -INT $pid
wait $pid
is "$?" 130 "SIGINT: detect dies of it"
sleep 0.3
pgrep -f "slow.mp4 -map" > /dev/null; ok $((! $?)) "SIGINT: no ffmpeg left"

# A reader that goes away: detect stops, and takes every ffmpeg along.
PATH="$T/slowbin:$PATH" sh -c 'detect slow.mp4; echo "detect exit $?" > closed.status' | head -n 1 > closed.out
for i in $(seq 50); do [ -s closed.status ] && break; sleep 0.1; done
is "$(cat closed.status)" "detect exit 1" "closed stdout: detect stops with exit 1"
sleep 0.3
pgrep -f "slow.mp4 -map" > /dev/null; ok $((! $?)) "closed stdout: no ffmpeg left"

# ---- the manual's examples ----
detect game.mp4 2>/dev/null | head -c0   # (just that a missing game.mp4 is no crash)
cp burst23.mp4 game.mp4
detect game.mp4 > ex1.out
is "$(validate ex1.out)" "" "EXAMPLES: detect game.mp4"
detect --first-interval 5 --threshold 0.3 game.mp4 > ex2.out
is "$(field ex2.out '[of("session")[0]["first_interval"], min([e["score"] for r in of("events") for e in r["events"]] or [1]) >= 0.3]')" \
	"[5, true]" "EXAMPLES: a short first interval, highlights only"
cp noaudio.mp4 second.mp4
for f in game.mp4 second.mp4; do detect "$f"; done > ex3.out
is "$(field ex3.out 'len(of("session_end"))')" 2 "EXAMPLES: several videos in one stream"
is "$(validate ex3.out)" "" "EXAMPLES: ...following the contract"
detect game.mp4 nothere.mp4 > ex4.out 2>/dev/null
is "$?" 1 "EXAMPLES: a missing file makes exit 1 after the others"

done_testing
