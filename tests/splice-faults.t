#!/bin/sh
# splice when things go wrong: ffmpeg killed mid-chunk, a source that is
# missing, vanishes or cannot be read, bad input lines and records, a
# session with no chunks, input that ends early, usage errors, SIGTERM.
# Each failure is an error record naming the chunk; the rest go on.
. "$(dirname "$0")/lib.sh"

ffmpeg_real=$(command -v ffmpeg)
src=$T/game.mp4
make_video "$src" 20
make_tone "$T/say.wav" 1
audio() { audio_rec "$@" "$T/say.wav" 1; }   # audio SESSION INDEX START END
session() { session_rec "$@"; }
leftovers() { find "$T/videos" -name '.*' 2>/dev/null | wc -l; }

# ---- ffmpeg killed while making chunk 1: it had written the whole file ----
mkdir -p "$T/bin"
cat >"$T/bin/ffmpeg" <<EOF
#!/bin/sh
case "\$*" in
*.chunk_1.tmp-*) "$ffmpeg_real" "\$@"; kill -9 \$\$ ;;
esac
exec "$ffmpeg_real" "\$@"
EOF
chmod +x "$T/bin/ffmpeg"
{ session k "$src"; audio k 0 1 4; audio k 1 6 9; audio k 2 11 14; echo '{"type":"session_end","session":"k"}'; } >"$T/k.in"
PATH="$T/bin:$PATH" splice <"$T/k.in" >"$T/k.out" 2>"$T/k.err"
is "$?" 1 "killed ffmpeg: exit status 1"
is "$(field "$T/k.out" '" ".join(r["type"] + str(r.get("index", "")) for r in rs)')" \
	"session chunk_ready0 error1 chunk_ready2 complete session_end" "killed ffmpeg: an error in chunk 1's place, the rest made"
like "$(field "$T/k.out" 'of("error")[0]["message"]')" "^chunk 1: ffmpeg.*killed by signal 9" "killed ffmpeg: the error says so"
is "$(field "$T/k.out" 'of("error")[0]["input"]')" "stdin:3" "killed ffmpeg: the error names the input line"
like "$(cat "$T/k.err")" "^splice: k: chunk 1: ffmpeg" "killed ffmpeg: one line on stderr"
is "$(cat "$T/k.err" | wc -l)" 1 "killed ffmpeg: just one"
[ ! -e "$T/videos/streaming/k/chunk_1.mp4" ]; ok $? "killed ffmpeg: no chunk_1.mp4"
is "$(leftovers)" 0 "killed ffmpeg: its finished-looking temporary file removed"
is "$(field "$T/k.out" 'of("complete")[0]["chunks"]')" 2 "killed ffmpeg: complete counts the 2 chunks made"
is "$(grep -c '^chunk_' "$T/videos/streaming/k/stream.m3u8")" 2 "killed ffmpeg: the playlist holds the 2"
is "$(ffprobe -v error -show_chapters -of csv=p=0 "$T/videos/generated-videos/commentary_k.mp4" | wc -l)" 2 \
	"killed ffmpeg: the reel has the 2"
num_near "$(probe_duration "$T/videos/generated-videos/commentary_k.mp4")" \
	"$(field "$T/k.out" 'sum(r["duration"] for r in of("chunk_ready"))')" 0.2 "killed ffmpeg: the reel is as long as the 2"

# ---- the reel and one HLS segment fail: the chunks stand ----
cat >"$T/bin/ffmpeg" <<EOF
#!/bin/sh
case "\$*" in
*" concat "*) echo "concat: no space left on device" >&2; exit 1 ;;
*.chunk_1.tmp-*.ts) echo "mpegts: broken" >&2; exit 1 ;;
esac
exec "$ffmpeg_real" "\$@"
EOF
{ session r "$src"; audio r 0 1 4; audio r 1 6 9; audio r 2 11 14; echo '{"type":"session_end","session":"r"}'; } >"$T/r.in"
PATH="$T/bin:$PATH" splice <"$T/r.in" >"$T/r.out" 2>"$T/r.err"
is "$?" 1 "reel fails: exit status 1"
is "$(field "$T/r.out" '" ".join(r["type"] + str(r.get("index", "")) for r in rs)')" \
	"session chunk_ready0 chunk_ready1 chunk_ready2 error1 error complete session_end" \
	"reel fails: every chunk, then the errors, complete, session_end"
is "$(field "$T/r.out" '[e["message"] for e in of("error")]')" \
	'["chunk 1: HLS segment: ffmpeg: mpegts: broken (exit status 1)", "final video: ffmpeg: concat: no space left on device (exit status 1)"]' \
	"reel fails: the errors say what and why"
is "$(field "$T/r.out" '[of("complete")[0][k] for k in ("chunks", "final_video", "url", "path", "captions")]')" \
	'[3, null, null, null, null]' "reel fails: complete counts the chunks, no reel"
is "$(ls "$T/videos/generated-videos" | grep -c commentary_r)" 0 "reel fails: no reel file, no captions"
is "$(grep -v '^#' "$T/videos/streaming/r/stream.m3u8" | tr '\n' ' ')" "chunk_0.ts chunk_2.ts " \
	"segment fails: the playlist goes on without it"
is "$(tail -n1 "$T/videos/streaming/r/stream.m3u8")" "#EXT-X-ENDLIST" "reel fails: the playlist is closed all the same"
is "$(ffmpeg_real=1 "$ffmpeg_real" -nostdin -v warning -i "$T/videos/streaming/r/stream.m3u8" -f null - 2>&1; echo $?)" 0 \
	"segment fails: the playlist still plays cleanly"
is "$(leftovers)" 0 "reel fails: no temporary files (scripts, reel) left"

# ---- sources that are missing, unreadable, or vanish ----
printf 'not a video\n' >"$T/junk.mp4"
{ session gone "$T/nowhere.mp4"; audio gone 0 1 4; echo '{"type":"session_end","session":"gone"}';
  session junk "$T/junk.mp4"; audio junk 0 1 4; echo '{"type":"session_end","session":"junk"}'; } >"$T/src.in"
splice <"$T/src.in" >"$T/src.out" 2>"$T/src.err"
is "$?" 1 "bad sources: exit status 1"
like "$(field "$T/src.out" '[r for r in of("error") if r["session"] == "gone"][0]["message"]')" \
	"^chunk 0: source $T/nowhere.mp4: .*No such file or directory" "missing source: the chunk's error says why"
like "$(field "$T/src.out" '[r for r in of("error") if r["session"] == "junk"][0]["message"]')" \
	"^chunk 0: source $T/junk.mp4: .*Invalid data" "unreadable source: the chunk's error says why"
is "$(field "$T/src.out" 'sorted((r["session"], r["chunks"], r["final_video"], r["url"]) for r in of("complete"))')" \
	'[["gone", 0, null, null], ["junk", 0, null, null]]' "no chunks: complete says 0, final_video null"
is "$(field "$T/src.out" '[r["type"] for r in rs if r.get("session") == "gone"]')" \
	'["session", "error", "complete", "session_end"]' "no chunks: session_end still forwarded last"
[ ! -e "$T/videos/generated-videos/commentary_gone.mp4" ]; ok $? "no chunks: no reel"

cp "$src" "$T/brief.mp4"
mkfifo "$T/fifo"
splice <"$T/fifo" >"$T/vanish.out" 2>"$T/vanish.err" &
pid=$!
exec 3>"$T/fifo"
session v "$T/brief.mp4" >&3
audio v 0 1 4 >&3
i=0; while ! grep -q chunk_ready "$T/vanish.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
rm "$T/brief.mp4"
audio v 1 6 9 >&3
echo '{"type":"session_end","session":"v"}' >&3
exec 3>&-
wait $pid
is "$?" 1 "vanished source: exit status 1"
is "$(field "$T/vanish.out" '" ".join(r["type"] + str(r.get("index", "")) for r in rs)')" \
	"session chunk_ready0 error1 complete session_end" "vanished source: chunk 0 made, chunk 1 an error"
like "$(field "$T/vanish.out" 'of("error")[0]["message"]')" "^chunk 1: .*No such file" "vanished source: says why"
is "$(field "$T/vanish.out" 'of("complete")[0]["chunks"]')" 1 "vanished source: complete counts 1"

# ---- bad lines and bad records; the stream goes on ----
{ session b "$src"; echo 'not json'; echo '{"type":"audio","session":"b","index":0,"end":4}';
  echo '{"type":"audio","session":"../x","index":0,"start":1,"end":4}'; echo '{"type":"hello"}';
  audio b 0 1 4; audio b 0 5 8; audio nosession 0 1 4; echo '{"type":"audio","session":"b","index":1,"start":25,"end":30}';
  echo '{"type":"session_end","session":"b"}'; echo '{"type":"note","session":"b"}';
  audio b 5 1 4; echo '[1,2]'; } >"$T/bad.in"
splice <"$T/bad.in" >"$T/bad.out" 2>"$T/bad.err"
is "$?" 1 "bad input: exit status 1"
errors=$(field "$T/bad.out" '"|".join("%s %s %s" % (r.get("input"), r.get("index", "-"), r["message"])
	for r in sorted(of("error"), key=lambda r: int(r["input"].split(":")[1])))')
like "$errors" "^stdin:2 - stdin:2: not JSON" "not JSON: error record with the input line"
like "$errors" "\\|stdin:3 0 no \"start\"\\|" "audio without start: error naming the chunk and line"
like "$errors" "\\|stdin:4 - audio: session id \"../x\" is not safe as a folder name\\|" "unsafe session id refused"
like "$errors" "\\|stdin:7 0 chunk 0: a second audio record with this index\\|" "duplicate index refused"
like "$errors" "\\|stdin:8 0 chunk 0: no session record for nosession came before it" "audio without a session record"
like "$errors" "\\|stdin:9 1 chunk 1: window starts at 25.000 s, after the end of the video" "window past the end"
like "$errors" "\\|stdin:12 5 chunk 5: audio record after session_end\\|" "audio after session_end"
like "$errors" "\\|stdin:13 - stdin:13: record is not a JSON object$" "an array is not a record"
is "$(grep -c . "$T/bad.err")" "$(field "$T/bad.out" 'len(of("error"))')" "one stderr line per error"
like "$(sed -n 1p "$T/bad.err")" "^splice: stdin:2: not JSON" "stderr names the input and line"
is "$(field "$T/bad.out" '[r["type"] for r in rs if r["type"] in ("hello", "note")]')" '["hello", "note"]' \
	"other records pass through"
is "$(field "$T/bad.out" '[r["type"] for r in rs if r.get("session") == "b"][-3:]')" '["session_end", "note", "error"]' \
	"records after session_end pass after it"
is "$(field "$T/bad.out" '[r["index"] for r in of("chunk_ready")]')" "[0]" "the good chunk is made"
is "$(field "$T/bad.out" '[r["chunks"] for r in of("complete") if r["session"] == "b"]')" "[1]" "complete counts it"

# ---- input ends without session_end: the reel all the same ----
{ session e "$src"; audio e 0 1 4; } | splice >"$T/eof.out" 2>"$T/eof.err"
is "$?" 0 "early end: exit status 0"
is "$(field "$T/eof.out" '" ".join(r["type"] for r in rs)')" "session chunk_ready complete" \
	"early end: complete, and no session_end made up"
[ -s "$T/videos/generated-videos/commentary_e.mp4" ]; ok $? "early end: the reel is written"
is "$(tail -n1 "$T/videos/streaming/e/stream.m3u8")" "#EXT-X-ENDLIST" "early end: the playlist is closed"

# ---- SIGTERM while ffmpeg works: no child, no temporary file left ----
cat >"$T/bin/ffmpeg" <<EOF
#!/bin/sh
for a; do out=\$a; done
: >"\${out#file:}"
echo \$\$ >"$T/slow.pid"
sleep 60
EOF
rm -f "$T/slow.pid"
mkfifo "$T/fifo2"
PATH="$T/bin:$PATH" splice <"$T/fifo2" >"$T/term.out" 2>"$T/term.err" &
pid=$!
exec 4>"$T/fifo2"
{ session t "$src"; audio t 0 1 4; } >&4
i=0; while [ ! -s "$T/slow.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
is "$(find "$T/videos/streaming/t" -name '.chunk_0.tmp-*' | wc -l)" 1 "SIGTERM: ffmpeg at work on its temporary file"
kill -TERM $pid
wait $pid 2>/dev/null   # not the shell's "Terminated" line
is "$?" 143 "SIGTERM: splice dies of it"
exec 4>&-
sleep 0.2
state=$(ps -o stat= -p "$(cat "$T/slow.pid")" 2>/dev/null)
like "${state:-gone}" "^(gone|Z)" "SIGTERM: the ffmpeg child is gone (or a zombie awaiting its reaper)"
is "$(find "$T/videos/streaming/t" -name '.*' | wc -l)" 0 "SIGTERM: no temporary file left"

# ---- usage ----
for bad in "--duck 2" "--duck x" "--delay -1" "--delay 61" "--jobs 0" "--jobs 17" "--preset quick" "extra" "--nope"; do
	splice $bad </dev/null >/dev/null 2>"$T/usage.err"
	is "$?" 2 "usage: splice $bad exits 2"
done
like "$(splice --preset quick </dev/null 2>&1)" "^splice: --preset: \"quick\" is not a libx264 preset" "usage: says what is wrong"
PLAYCALL_SPLICE_JOBS=many splice </dev/null >/dev/null 2>&1
is "$?" 2 "usage: PLAYCALL_SPLICE_JOBS checked too"
splice --help >"$T/help" 2>&1
is "$?" 0 "--help exits 0"
like "$(cat "$T/help")" "^usage: splice" "--help prints the usage"
is "$(splice </dev/null; echo $?)" 0 "empty input: nothing out, exit 0"
done_testing
