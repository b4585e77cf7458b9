#!/bin/sh
# The speech cache: a second run of the same commentary synthesises nothing
# (counted with a fake espeak-ng, and shown with espeak-ng gone from PATH);
# every input that changes the sound changes the key; --no-cache and
# PLAYCALL_NO_CACHE bypass it.
. "$(dirname "$0")/speak-lib.sh"
use_fake_espeak
unset PLAYCALL_NO_CACHE
S=c1
{ session_rec $S; for i in 0 1 2; do commentary $S $i "i=$i Line number $i."; done; session_end $S; } >"$T/in.ndjson"
speak <"$T/in.ndjson" >"$T/run1.out"
is "$(fake_calls)" 3 "first run: three syntheses"
is "$(find "$XDG_CACHE_HOME/playcall/speech" -name '*.wav' | wc -l)" 3 "three entries under \$XDG_CACHE_HOME/playcall/speech"
like "$(find "$XDG_CACHE_HOME/playcall/speech" -name '*.wav' | head -n1)" "/speech/[0-9a-f]{2}/[0-9a-f]{64}\.wav$" "entries named by their key"
rm -rf "$PLAYCALL_OUT/streaming/$S"
: >"$FAKE_ESPEAK_LOG"
speak <"$T/in.ndjson" >"$T/run2.out"
is "$(fake_calls)" 0 "second run: nothing synthesised"
is "$(field "$T/run2.out" "[(r['path'], r['speech_duration'], r['voice']) for r in of('audio')]")" \
	"$(field "$T/run1.out" "[(r['path'], r['speech_duration'], r['voice']) for r in of('audio')]")" "second run: the same audio records"
cmp -s "$FAKE_WAV" "$PLAYCALL_OUT/streaming/$S/speech_2.wav"; is $? 0 "second run: the speech file is back in the session folder"
is "$(shape "$T/run2.out")" "session audio:0 audio:1 audio:2 session_end" "second run: same order"

# What changes the sound changes the key.
: >"$FAKE_ESPEAK_LOG"
speak --rate 190 <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 3 "another rate: a miss"
: >"$FAKE_ESPEAK_LOG"
speak --voice +f1 <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 3 "another voice: a miss"
: >"$FAKE_ESPEAK_LOG"
speak --lang de <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 3 "another language: a miss"
: >"$FAKE_ESPEAK_LOG"
sed 's/Line number 1/Line number one/' "$T/in.ndjson" | speak >/dev/null
is "$(fake_calls)" 1 "another text: a miss for that one only"

# Bypass.
: >"$FAKE_ESPEAK_LOG"
speak --no-cache <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 3 "--no-cache: synthesised again"
: >"$FAKE_ESPEAK_LOG"
PLAYCALL_NO_CACHE=1 speak <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 3 "PLAYCALL_NO_CACHE=1: synthesised again"
: >"$FAKE_ESPEAK_LOG"
PLAYCALL_NO_CACHE=0 speak <"$T/in.ndjson" >/dev/null
is "$(fake_calls)" 0 "PLAYCALL_NO_CACHE=0: the cache is used"

# A damaged entry is spoken again, not handed on.
for f in $(find "$XDG_CACHE_HOME/playcall/speech" -name '*.wav'); do printf 'RIFF' >"$f.new" && mv "$f.new" "$f"; done
: >"$FAKE_ESPEAK_LOG"
speak <"$T/in.ndjson" >"$T/dmg.out" 2>"$T/dmg.err"
is "$(fake_calls)" 3 "damaged entries: spoken again"
is "$(field "$T/dmg.out" "[r['path'] is not None for r in of('audio')]")" "[true, true, true]" "damaged entries: the records have speech"
like "$(head -n1 "$T/dmg.err")" "unusable cache entry, speaking it again: .*not a WAV" "damaged entries: said on stderr"

# Real espeak-ng: the second run works with espeak-ng gone from PATH.
if command -v espeak-ng >/dev/null && [ -x "$(PATH=${PATH#*:} command -v espeak-ng)" ]; then
	export PATH="${PATH#*:}"   # drop the fake
	{ commentary real 0 "The cache keeps this line."; commentary real 1 "And this one."; } >"$T/real.ndjson"
	speak <"$T/real.ndjson" >"$T/real1.out"
	rm -rf "$PLAYCALL_OUT/streaming/real"
	PATH="$PLAYCALL_BUILD/bin" speak <"$T/real.ndjson" >"$T/real2.out" 2>"$T/real2.err"
	is "$(cat "$T/real2.err")" "" "real espeak-ng: second run without espeak-ng on PATH, no complaint"
	is "$(field "$T/real2.out" "[r['speech_duration'] for r in of('audio')]")" "$(field "$T/real1.out" "[r['speech_duration'] for r in of('audio')]")" \
		"real espeak-ng: same durations from the cache"
	p=$(field "$T/real2.out" "of('audio')[1]['path']")
	num_near "$(field "$T/real2.out" "of('audio')[1]['speech_duration']")" "$(probe_duration "$p")" 0.05 "real espeak-ng: cached speech probes right"
else
	skip_n=3; while [ $skip_n -gt 0 ]; do pass "# SKIP espeak-ng not installed"; skip_n=$((skip_n - 1)); done
fi
done_testing
