#!/bin/sh
# The HLS playlist while it grows: after each chunk it is read as HLS, plays
# live, and played through (with an ENDLIST added to a copy) holds every frame
# so far.  And the order and concurrency of the work: chunk_ready leaves in
# index order though a later chunk finishes first; --jobs bounds the ffmpeg
# processes; without --jobs a transcode runs alone.
. "$(dirname "$0")/lib.sh"

ffmpeg_real=$(command -v ffmpeg)
src=$T/game.mp4
make_video "$src" 30
make_tone "$T/say.wav" 1
audio() { audio_rec "$@" "$T/say.wav" 1; }   # audio SESSION INDEX START END
session() { session_rec "$@"; }
# wait_for CMD...: until it succeeds, at most 60 s
wait_for() {
	i=0
	while ! "$@" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	"$@" 2>/dev/null
}
segments() { [ "$(grep -c '^chunk_' "$m3u8")" -ge "$1" ]; }
frames() { "$ffmpeg_real" -nostdin -v error -i "$1" -map 0:v:0 -f framemd5 - | grep -vc '^#'; }

# ---- growth ----
dir=$T/videos/streaming/g
m3u8=$dir/stream.m3u8
mkfifo "$T/fifo"
splice --jobs 1 <"$T/fifo" >"$T/g.out" 2>"$T/g.err" &
pid=$!
exec 3>"$T/fifo"
session g "$src" >&3
want=0
n=0
for w in "1 5" "9 13" "18 24"; do
	audio g $n $w >&3
	n=$((n + 1))
	wait_for segments $n; ok $? "segment $n: in the playlist"
	cp "$m3u8" "$dir/snap.m3u8"
	is "$(grep -c '^chunk_' "$dir/snap.m3u8")" $n "segment $n: exactly $n segments listed"
	is "$(grep -c ENDLIST "$dir/snap.m3u8")" 0 "segment $n: no ENDLIST while it grows"
	is "$(field "$T/g.out" 'len(of("chunk_ready"))')" $n "segment $n: its chunk_ready went out first"
	is "$(ffprobe -v error -show_entries format=format_name -of csv=p=0 "$dir/snap.m3u8")" hls "segment $n: ffprobe reads HLS"
	timeout -k 1 60 "$ffmpeg_real" -nostdin -v error -live_start_index 0 -i "$dir/snap.m3u8" -t 1 -f null -
	is "$?" 0 "segment $n: ffmpeg plays it live"
	echo '#EXT-X-ENDLIST' >>"$dir/snap.m3u8"
	want=$((want + $(frames "$dir/chunk_$((n - 1)).mp4")))
	is "$(frames "$dir/snap.m3u8")" $want "segment $n: played through, every frame so far ($want)"
done
echo '{"type":"session_end","session":"g"}' >&3
exec 3>&-
wait $pid
is "$?" 0 "growth: exit status 0"
is "$(tail -n1 "$m3u8")" "#EXT-X-ENDLIST" "complete playlist ends with ENDLIST"
is "$(frames "$m3u8")" $want "complete playlist plays every frame"
rm -f "$dir/snap.m3u8"

# ---- order and concurrency, seen through a logging ffmpeg ----
# It logs "start|end INDEX TIME" around each chunk cut; chunk 0 is slow (3 s).
mkdir -p "$T/bin"
cat >"$T/bin/ffmpeg" <<EOF
#!/bin/sh
i=
case "\$*" in *-filter_complex*) for a; do out=\$a; done; i=\${out##*.chunk_}; i=\${i%%.tmp-*} ;; esac
[ -z "\$i" ] && exec "$ffmpeg_real" "\$@"
echo "start \$i \$(date +%s.%N)" >>"\$SPLICE_LOG"
[ "\$i" = 0 ] && sleep 3
"$ffmpeg_real" "\$@"; rc=\$?
echo "end \$i \$(date +%s.%N)" >>"\$SPLICE_LOG"
exit \$rc
EOF
chmod +x "$T/bin/ffmpeg"
# most LOG: the most cuts running at once
most() {
	sort -k3 -n "$1" | awk '$1 == "start" && ++running > most { most = running } $1 == "end" { running-- } END { print most + 0 }'
}
{ session o "$src"; audio o 0 1 4; audio o 1 6 9; audio o 2 11 14; echo '{"type":"session_end","session":"o"}'; } >"$T/o.in"
SPLICE_LOG=$T/jobs2.log PATH="$T/bin:$PATH" splice --jobs 2 <"$T/o.in" >"$T/o.out"
is "$?" 0 "--jobs 2: exit status 0"
is "$(most "$T/jobs2.log")" 2 "--jobs 2: two cuts at a time, never more"
is "$(awk '$1 == "end" { print $2 }' "$T/jobs2.log" | head -n1)" 1 "--jobs 2: chunk 1 finished before the slow chunk 0"
is "$(field "$T/o.out" '[r["index"] for r in of("chunk_ready")]')" "[0, 1, 2]" "--jobs 2: chunk_ready still in index order"
SPLICE_LOG=$T/jobs1.log PATH="$T/bin:$PATH" splice --jobs 1 <"$T/o.in" >"$T/o1.out"
is "$(most "$T/jobs1.log")" 1 "--jobs 1: one cut at a time"
make_video "$T/old.avi" 16 --vcodec mpeg4
{ session x "$T/old.avi"; audio x 0 1 4; audio x 1 6 9; audio x 2 11 14; echo '{"type":"session_end","session":"x"}'; } >"$T/x.in"
SPLICE_LOG=$T/auto.log PLAYCALL_SPLICE_JOBS= PATH="$T/bin:$PATH" splice <"$T/x.in" >"$T/x.out"
is "$(field "$T/x.out" '[r["video"] for r in of("chunk_ready")]')" '["transcode", "transcode", "transcode"]' "transcoded source"
is "$(most "$T/auto.log")" 1 "no --jobs: transcodes run one at a time (libx264 uses every core)"
SPLICE_LOG=$T/env.log PLAYCALL_SPLICE_JOBS=2 PATH="$T/bin:$PATH" splice <"$T/x.in" >"$T/x2.out"
is "$(most "$T/env.log")" 2 "PLAYCALL_SPLICE_JOBS=2: transcodes side by side when asked"
done_testing
