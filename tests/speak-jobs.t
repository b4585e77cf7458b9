#!/bin/sh
# speak's concurrency, order and failures, with a fake espeak-ng first on
# PATH that logs when each synthesis starts and ends: at most --jobs at
# once, records in index order each as soon as it and those before it are
# done, failures and timeouts degrade.
. "$(dirname "$0")/speak-lib.sh"
use_fake_espeak
export PLAYCALL_NO_CACHE=1

# Ten commentaries.  Long ones (1.5 s) to see how many run at once, even
# on a loaded machine; short ones (0.4 s) to time --jobs 5 against 1.
ten() { # ten SESSION SECONDS
	session_rec $1
	for i in 0 1 2 3 4 5 6 7 8 9; do commentary $1 $i "i=$i sleep=$2 Goal number $i."; done
	session_end $1
}
ten slow 1.5 >"$T/slow.ndjson"
ten fast 0.4 >"$T/fast.ndjson"
speak --jobs 5 <"$T/slow.ndjson" >"$T/j5.out"
is $? 0 "--jobs 5: exit 0"
is "$(fake_calls)" 10 "--jobs 5: ten syntheses"
is "$(max_overlap)" 5 "--jobs 5: five at once, never more"
is "$(shape "$T/j5.out")" "session audio:0 audio:1 audio:2 audio:3 audio:4 audio:5 audio:6 audio:7 audio:8 audio:9 session_end" "--jobs 5: records in index order"
: >"$FAKE_ESPEAK_LOG"
speak <"$T/slow.ndjson" >/dev/null
is "$(max_overlap)" 5 "five jobs by default"

t0=$(date +%s.%N)
speak --jobs 5 <"$T/fast.ndjson" >/dev/null
t1=$(date +%s.%N)
: >"$FAKE_ESPEAK_LOG"
t2=$(date +%s.%N)
PLAYCALL_SPEAK_JOBS=1 speak <"$T/fast.ndjson" >/dev/null
t3=$(date +%s.%N)
is "$(max_overlap)" 1 "PLAYCALL_SPEAK_JOBS=1: one at a time"
j5=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
j1=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')
diag "10 syntheses of 0.4 s: --jobs 5 took $j5 s, --jobs 1 took $j1 s"
num_cmp "$(awk -v a="$j5" -v b="$j1" 'BEGIN { print a / b }')" "<" 0.5 "--jobs 5 is clearly faster than --jobs 1"

# Order: the first is slow, so later ones finish first; each record still
# leaves in index order.  The last is slowest: the ones before it must not
# wait for it.  A reader stamps each record as it arrives.
: >"$FAKE_ESPEAK_LOG"
S=order
{
	session_rec $S
	commentary $S 0 "i=0 sleep=1.5 slow opener"
	for i in 1 2 3 4 5 6 7 8; do commentary $S $i "i=$i sleep=0.1 quick $i"; done
	commentary $S 9 "i=9 sleep=3 slow closer"
	session_end $S
} >"$T/order.ndjson"
speak <"$T/order.ndjson" | python3 -c '
import sys, time, json
for line in sys.stdin:
    r = json.loads(line)
    print("%.3f %s %s" % (time.time(), r["type"], r.get("index", "-")), flush=True)' >"$T/arrivals"
is "$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $2 ($3 != "-" ? ":" $3 : "") }' "$T/arrivals")" \
	"session audio:0 audio:1 audio:2 audio:3 audio:4 audio:5 audio:6 audio:7 audio:8 audio:9 session_end" "order: by index although 1-8 finished before 0"
end1=$(awk '$1 == "end" && $3 == 1 { print $2 }' "$FAKE_ESPEAK_LOG")
end0=$(awk '$1 == "end" && $3 == 0 { print $2 }' "$FAKE_ESPEAK_LOG")
end9=$(awk '$1 == "end" && $3 == 9 { print $2 }' "$FAKE_ESPEAK_LOG")
num_cmp "$end1" "<" "$end0" "order: 1 really finished before 0"
got0=$(awk '$2 == "audio" && $3 == 0 { print $1 }' "$T/arrivals")
got8=$(awk '$2 == "audio" && $3 == 8 { print $1 }' "$T/arrivals")
got9=$(awk '$2 == "audio" && $3 == 9 { print $1 }' "$T/arrivals")
num_cmp "$got0" ">=" "$end0" "order: audio 0 leaves after its synthesis"
num_cmp "$got8" "<" "$end9" "order: audio 0-8 leave before the slow 9 is done"
num_cmp "$got9" ">=" "$end9" "order: audio 9 leaves when it is done"

# The speech is written under a hidden temporary name, renamed when complete.
like "$(awk '$1 == "start" && $3 == 4 { print $6 }' "$FAKE_ESPEAK_LOG")" "^out=$PLAYCALL_OUT/streaming/order/\.speech_4\.tmp-[0-9]+-[0-9]+\.wav$" \
	"temporary name: hidden, in the session folder, .wav kept"
is "$(awk '$1 == "start" { print $7 }' "$FAKE_ESPEAK_LOG" | sort -u)" "final_exists=no" "temporary name: the final name is absent while speaking"
is "$(ls -A "$PLAYCALL_OUT/streaming/order" | grep -c tmp)" 0 "temporary name: nothing left behind"
cmp -s "$FAKE_WAV" "$PLAYCALL_OUT/streaming/order/speech_9.wav"; is $? 0 "the file is what the backend wrote"

# Rate: the record's wps x 60, --rate, PLAYCALL_SPEECH_RATE, else 175.
: >"$FAKE_ESPEAK_LOG"
{
	commentary rate 0 "i=0 at wps 3.5" | sed 's/"wps":2.9/"wps":3.5/'
	printf '{"type":"commentary","session":"rate","index":1,"start":0,"end":9,"text":"i=1 no wps"}\n'
} >"$T/rate.ndjson"
speak <"$T/rate.ndjson" >/dev/null
is "$(awk '$1 == "start" { print $3, $5 }' "$FAKE_ESPEAK_LOG" | sort | tr '\n' ' ')" "0 rate=210 1 rate=175 " "rate from the record's wps, else 175"
: >"$FAKE_ESPEAK_LOG"
speak --rate 150 <"$T/rate.ndjson" >/dev/null
is "$(awk '$1 == "start" { print $5 }' "$FAKE_ESPEAK_LOG" | sort -u)" "rate=150" "--rate overrides"
: >"$FAKE_ESPEAK_LOG"
PLAYCALL_SPEECH_RATE=120 speak <"$T/rate.ndjson" >/dev/null
is "$(awk '$1 == "start" { print $5 }' "$FAKE_ESPEAK_LOG" | sort -u)" "rate=120" "PLAYCALL_SPEECH_RATE sets it"
: >"$FAKE_ESPEAK_LOG"
PLAYCALL_VOICE=+f2 speak <"$T/rate.ndjson" >/dev/null
is "$(awk '$1 == "start" { print $4 }' "$FAKE_ESPEAK_LOG" | sort -u)" "voice=en+f2" "PLAYCALL_VOICE sets the voice"

# Failures degrade: an error naming the index, path null, the rest go on.
: >"$FAKE_ESPEAK_LOG"
S=fail
{ session_rec $S; commentary $S 0 "i=0 ok"; commentary $S 1 "i=1 FAIL please"; commentary $S 2 "i=2 ok"; session_end $S; } >"$T/fail.ndjson"
speak <"$T/fail.ndjson" >"$T/fail.out" 2>"$T/fail.err"
is $? 0 "failure: exit 0"
is "$(shape "$T/fail.out")" "session audio:0 error:1 audio:1 audio:2 session_end" "failure: error and null audio for 1, the stream goes on"
is "$(field "$T/fail.out" "of('error')[0]['message']")" "no speech for highlight 1: espeak-ng failed (exit status 1): Error: fake espeak-ng refuses this text" \
	"failure: the error says which and why (espeak-ng's last line)"
is "$(field "$T/fail.out" "[r['path'] is None for r in of('audio')]")" "[false, true, false]" "failure: only 1 has path null"
is "$(cat "$T/fail.err")" "speak: fail: no speech for highlight 1: espeak-ng failed (exit status 1): Error: fake espeak-ng refuses this text" "failure: one line on stderr"

# A synthesis that hangs is killed at --timeout.
: >"$FAKE_ESPEAK_LOG"
S=hang
{ session_rec $S; commentary $S 0 "i=0 sleep=29.37 forever"; commentary $S 1 "i=1 fine"; session_end $S; } >"$T/hang.ndjson"
speak --timeout 1 <"$T/hang.ndjson" >"$T/hang.out" 2>/dev/null
is $? 0 "timeout: exit 0"
is "$(shape "$T/hang.out")" "session error:0 audio:0 audio:1 session_end" "timeout: error, null audio, the next goes on"
is "$(field "$T/hang.out" "of('error')[0]['message']")" "no speech for highlight 0: espeak-ng timed out after 1 s" "timeout: says so"
is "$(grep -c '^end [0-9.]* 0$' "$FAKE_ESPEAK_LOG")" 0 "timeout: the hung synthesis never finished (killed)"
sleep 0.2
is "$(pgrep -f 'sleep 29.37' | wc -l)" 0 "timeout: its process group is gone (espeak-ng and what it started)"
is "$(ls -A "$PLAYCALL_OUT/streaming/hang" | grep -c tmp)" 0 "timeout: no temporary file left"

# Killed by a signal: no espeak-ng left behind, no temporary speech file.
: >"$FAKE_ESPEAK_LOG"
S=killed
{ session_rec $S; for i in 0 1 2; do commentary $S $i "i=$i sleep=28.91 long"; done; } >"$T/kill.ndjson"
speak <"$T/kill.ndjson" >"$T/kill.out" 2>/dev/null &
pid=$!
n=0
while [ "$(fake_calls)" -lt 3 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
is "$(fake_calls)" 3 "signal: three syntheses running"
is "$(ls -A "$PLAYCALL_OUT/streaming/$S" | grep -c tmp)" 3 "signal: their temporary files exist"
kill -TERM $pid
wait $pid 2>/dev/null
is $? 143 "signal: speak dies of SIGTERM"
sleep 0.2
is "$(pgrep -f 'sleep 28.91' | wc -l)" 0 "signal: no espeak-ng (or its children) left"
is "$(ls -A "$PLAYCALL_OUT/streaming/$S" | wc -l)" 0 "signal: no speech file, finished or not"
done_testing
