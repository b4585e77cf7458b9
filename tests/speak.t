#!/bin/sh
# speak with the real espeak-ng: speech files probed with ffprobe, records
# checked field by field, the second language, voices, a missing voice and
# espeak-ng missing from PATH.
. "$(dirname "$0")/speak-lib.sh"
command -v espeak-ng >/dev/null || skip_all "espeak-ng not installed"
S=s_real
DIR=$PLAYCALL_OUT/streaming/$S

{
	session_rec $S
	commentary $S 0 "What a strike from the edge of the box, the keeper had no chance!"
	commentary $S 1 "Long ball forward, and the crowd rises."
	commentary $S 2 "Saved! A brilliant stop low to his left." ',"extra":{"kept":[1,2]}'
	session_end $S
} >"$T/in.ndjson"
speak <"$T/in.ndjson" >"$T/out.ndjson" 2>"$T/err"
is $? 0 "exit 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(shape "$T/out.ndjson")" "session audio:0 audio:1 audio:2 session_end" "audio in order, session_end last"
for i in 0 1 2; do
	path=$(field "$T/out.ndjson" "of('audio')[$i]['path']")
	is "$path" "$DIR/speech_$i.wav" "audio $i: speech_$i.wav in the session's dir"
	codec=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$path")
	is "$codec" "pcm_s16le" "audio $i: ffprobe reads a PCM WAV"
	probed=$(probe_duration "$path")
	said=$(field "$T/out.ndjson" "of('audio')[$i]['speech_duration']")
	num_near "$said" "$probed" 0.05 "audio $i: speech_duration ($said) matches ffprobe ($probed)"
	num_cmp "$said" ">" 1 "audio $i: real speech, longer than a second"
	# Speech at 2.9 words per second starting 1 s in fits the 12 s window.
	num_cmp "$said" "<" 11 "audio $i: fits its window after a 1 s delay"
done
is "$(field "$T/out.ndjson" "sorted(set(r['speech_backend'] for r in of('audio')))")" '["espeak"]' "speech_backend espeak"
is "$(field "$T/out.ndjson" "sorted(set(r['voice'] for r in of('audio')))")" '["en"]' "voice en (the record's lang)"
is "$(field "$T/out.ndjson" "[(r['start'], r['end'], r['wps'], r['lang'], r['style'], r['backend'], r['events'][0]['kind']) for r in of('audio')][1]")" \
	'[20, 32, 2.9, "en", "excited", "local", "crowd"]' "commentary fields carried over"
is "$(field "$T/out.ndjson" "of('audio')[2]['extra']")" '{"kept": [1, 2]}' "unknown fields carried over"
is "$(field "$T/out.ndjson" "of('session')[0]['dir']")" "$DIR" "session record passed through"
is "$(ls -A "$DIR" | grep -c tmp)" 0 "no temporary files left"

# The second language: the record's lang picks the voice.
{
	C_LANG=es commentary es_sess 0 "¡Qué golazo! Increíble, señores, qué definición."
	commentary es_sess 1 "¡Qué golazo! Increíble, señores, qué definición."
} >"$T/es.ndjson"
speak --no-cache <"$T/es.ndjson" >"$T/es.out"
is "$(field "$T/es.out" "[r['voice'] for r in of('audio')]")" '["es", "en"]' "voice follows the record's lang"
es=$(field "$T/es.out" "of('audio')[0]['path']")
en=$(field "$T/es.out" "of('audio')[1]['path']")
is "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$es")" "pcm_s16le" "Spanish speech is a WAV"
num_near "$(field "$T/es.out" "of('audio')[0]['speech_duration']")" "$(probe_duration "$es")" 0.05 "Spanish speech_duration matches ffprobe"
cmp -s "$es" "$en"; isnt $? 0 "the Spanish voice speaks differently from the English one"
speak --no-cache --lang es <"$T/es.ndjson" >"$T/es2.out"
is "$(field "$T/es2.out" "[r['voice'] for r in of('audio')]")" '["es", "es"]' "--lang overrides the record"
cmp -s "$es" "$(field "$T/es2.out" "of('audio')[1]['path']")"; is $? 0 "--lang es speaks like the record's es"
PLAYCALL_LANG=es speak --no-cache <"$T/es.ndjson" >"$T/es3.out"
is "$(field "$T/es3.out" "[r['voice'] for r in of('audio')]")" '["es", "es"]' "PLAYCALL_LANG does the same"

# A voice variant, and a voice that does not exist.
commentary var 0 "A quick one." >"$T/var.ndjson"
speak --voice +f3 --no-cache <"$T/var.ndjson" >"$T/var.out"
is "$(field "$T/var.out" "of('audio')[0]['voice']")" "en+f3" "--voice +f3 is a variant of the language"
ok "$(test -s "$(field "$T/var.out" "of('audio')[0]['path']")"; echo $?)" "the variant speaks"
{ commentary nv 0 "First."; commentary nv 1 "Second."; session_end nv; } >"$T/nv.ndjson"
speak --voice nosuchvoice --no-cache <"$T/nv.ndjson" >"$T/nv.out" 2>"$T/nv.err"
is $? 0 "a missing voice degrades: exit 0"
is "$(shape "$T/nv.out")" "error:0 audio:0 error:1 audio:1 session_end" "error then audio per index, stream goes on"
is "$(field "$T/nv.out" "[r['path'] for r in of('audio')]")" "[null, null]" "audio path null"
like "$(field "$T/nv.out" "of('error')[0]['message']")" "^no speech for highlight 0: espeak-ng failed \(exit status 1\): .*voice does not exist" "error names the index and espeak-ng's reason"
is "$(field "$T/nv.out" "of('error')[1]['index']")" 1 "error record carries the index"
# (Both run at once: either may finish, and be said, first.)
is "$(sort "$T/nv.err" | cut -d: -f1-3)" "speak: nv: no speech for highlight 0
speak: nv: no speech for highlight 1" "one line on stderr per failure"
is "$(field "$T/nv.out" "of('audio')[0]['speech_duration']")" 0 "speech_duration 0 without speech"

# espeak-ng missing from PATH: said once, every index degrades.
{ session_rec miss; commentary miss 0 "One."; commentary miss 1 "Two."; commentary miss 2 "Three."; session_end miss; } >"$T/miss.ndjson"
PATH="$PLAYCALL_BUILD/bin" speak --no-cache <"$T/miss.ndjson" >"$T/miss.out" 2>"$T/miss.err"
is $? 0 "espeak-ng missing: exit 0 (speech degrades, the reel is still made)"
is "$(cat "$T/miss.err")" "speak: espeak-ng not found on PATH: install espeak-ng for offline speech" "espeak-ng missing: one clear line on stderr"
is "$(shape "$T/miss.out")" "session error:0 audio:0 error:1 audio:1 error:2 audio:2 session_end" "espeak-ng missing: error and null audio per index"
like "$(field "$T/miss.out" "of('error')[2]['message']")" "no speech for highlight 2: espeak-ng not found on PATH" "espeak-ng missing: the records say so"
is "$(field "$T/miss.out" "[r['path'] for r in of('audio')]")" "[null, null, null]" "espeak-ng missing: path null"

# The man page's examples.
speak --rate 200 --voice +m3 --jobs 2 <"$T/var.ndjson" >"$T/ex.out"
is "$(field "$T/ex.out" "of('audio')[0]['voice']")" "en+m3" "EXAMPLES: rate, variant and jobs"
done_testing
