#!/bin/sh
# speak as a stage in a stream: pass-through, several sessions interleaved,
# session_end only after its session's audio, malformed lines, where speech
# files go, usage errors.  A fake espeak-ng (logging, sleeping on demand).
. "$(dirname "$0")/speak-lib.sh"
use_fake_espeak
export PLAYCALL_NO_CACHE=1

# Two sessions interleaved: A's first speech is slow, B's are quick.
{
	session_rec A
	session_rec B
	commentary A 0 "i=0 sleep=1.2 A slow"
	commentary B 0 "i=0 B quick"
	printf '{"type":"status","session":"A","stage":"narrate","message":"A between","progress":40}\n'
	printf '{"type":"status","stage":"detect","message":"no session"}\n'
	commentary B 1 "i=1 B quick"
	printf '{"type":"novel","session":"B","deep":{"x":[1,{"y":null}]},"n":1.5}\n'
	session_end B
	commentary A 1 "i=1 A quick"
	printf '{"type":"error","session":"A","stage":"detect","message":"upstream trouble"}\n'
	session_end A
} >"$T/two.ndjson"
speak <"$T/two.ndjson" >"$T/two.out" 2>"$T/two.err"
is $? 0 "two sessions: exit 0"
is "$(shape "$T/two.out" A)" "session audio:0 status audio:1 error session_end" "two sessions: A's records in A's order"
is "$(shape "$T/two.out" B)" "session audio:0 audio:1 novel session_end" "two sessions: B's records in B's order"
is "$(shape "$T/two.out" | cut -d' ' -f1-8)" "session session status audio:0 audio:1 novel session_end audio:0" \
	"two sessions: B (and the session-less status) are not held up by A's slow speech"
is "$(field "$T/two.out" "[r for r in rs if r['type'] == 'novel'][0]")" '{"type": "novel", "session": "B", "deep": {"x": [1, {"y": null}]}, "n": 1.5}' \
	"unknown record passed through unchanged"
is "$(field "$T/two.out" "[r['message'] for r in of('error')]")" '["upstream trouble"]' "upstream error passed through"
is "$(field "$T/two.out" "of('audio')[2]['path']")" "$PLAYCALL_OUT/streaming/A/speech_0.wav" "speech in each session's own folder"
is "$(cat "$T/two.err")" "" "nothing on stderr"

# Malformed lines: a one-line message naming the line, an error record,
# and the stream goes on.
{
	session_rec M
	echo 'not json at all'
	commentary M 0 "i=0 first"
	echo '[1,2,3]'
	echo '{"no":"type"}'
	echo '{"type":"commentary","session":"M","index":1,"text":"i=1 second"} trailing'
	printf '{"type":"commentary","session":"M","index":1,"text":"%0600d"}\n' 0
	commentary M 2 "i=2 third"
	echo '{"type":"commentary","session":"M","index":-3,"text":"negative"}'
	echo '{"type":"commentary","index":4,"text":"no session"}'
	echo '{"type":"commentary","session":"M","index":5,"text":42}'
	session_end M
} >"$T/bad.ndjson"
PLAYCALL_MAX_LINE=500 speak <"$T/bad.ndjson" >"$T/bad.out" 2>"$T/bad.err"
is $? 0 "malformed: exit 0, the stream went on"
# (Sorted: an error about a session's record waits behind that session's
# pending speech; one without a session leaves at once.)
is "$(field "$T/bad.out" "sorted((r['input'] for r in of('error')), key=lambda i: int(i.split(':')[1]))")" \
	'["stdin:2", "stdin:4", "stdin:5", "stdin:6", "stdin:7", "stdin:9", "stdin:10", "stdin:11"]' "malformed: an error record per bad line, naming it"
is "$(field "$T/bad.out" "[r['message'] for r in of('error')][:5]")" \
	'["stdin:2: not JSON: null expected", "stdin:4: record is not a JSON object", "stdin:5: record has no string \"type\"", "stdin:6: not JSON: trailing text after the record", "stdin:7: line longer than 500 bytes"]' \
	"malformed: each says what is wrong"
is "$(sed -n 1p "$T/bad.err")" "speak: stdin:2: not JSON: null expected" "malformed: one line on stderr naming input and line"
is "$(wc -l <"$T/bad.err")" 8 "malformed: one stderr line each"
is "$(shape "$T/bad.out" M)" "session audio:0 audio:2 error error:5 audio:5 session_end" "malformed: M's good records still spoken, in order"
like "$(field "$T/bad.out" "[r for r in of('error') if r['input'] == 'stdin:10'][0]['message']")" "without a usable \"session\"" "malformed: commentary without session"
like "$(field "$T/bad.out" "[r for r in of('error') if r['input'] == 'stdin:11'][0]['message']")" "no string \"text\"" "malformed: text not a string"

# Where speech goes without a session record: sess_dir under --out.
commentary nosess 0 "i=0 x" >"$T/ns.ndjson"
speak <"$T/ns.ndjson" >"$T/ns.out"
is "$(field "$T/ns.out" "of('audio')[0]['path']")" "$PLAYCALL_OUT/streaming/nosess/speech_0.wav" "no session record: PLAYCALL_OUT/streaming/<session>"
speak --out "$T/elsewhere" <"$T/ns.ndjson" >"$T/ns2.out"
is "$(field "$T/ns2.out" "of('audio')[0]['path']")" "$T/elsewhere/streaming/nosess/speech_0.wav" "no session record: --out DIR/streaming/<session>"
test -s "$T/elsewhere/streaming/nosess/speech_0.wav"; ok $? "the file is there"

# A session folder that cannot be made: each speech fails, the stream goes on.
printf '{"type":"session","session":"ro","dir":"/proc/no/such/dir"}\n' >"$T/ro.ndjson"
{ commentary ro 0 "i=0 a"; commentary ro 1 "i=1 b"; session_end ro; } >>"$T/ro.ndjson"
speak <"$T/ro.ndjson" >"$T/ro.out" 2>/dev/null
is $? 0 "unwritable folder: exit 0"
is "$(shape "$T/ro.out")" "session error:0 audio:0 error:1 audio:1 session_end" "unwritable folder: error and null audio each"
like "$(field "$T/ro.out" "of('error')[0]['message']")" "^no speech for highlight 0: cannot make /proc/no/such/dir: " "unwritable folder: says which"

# An empty input, and input that ends without a newline.
speak </dev/null >"$T/empty.out"
is "$?:$(wc -c <"$T/empty.out")" "0:0" "empty input: nothing out, exit 0"
commentary nonl 0 "i=0 last line" | tr -d '\n' | speak >"$T/nonl.out"
is "$(shape "$T/nonl.out")" "audio:0" "a last line without newline still counts"

# On a terminal, the human view; --json forces records.
if command -v script >/dev/null; then
	commentary tty 0 "i=0 on a terminal" >"$T/tty.ndjson"
	script -qec "speak <'$T/tty.ndjson'" /dev/null >"$T/tty.out" 2>&1
	like "$(tr -d '\r' <"$T/tty.out")" "^speech 0 \[00:00:00-00:00:12\]: $PLAYCALL_OUT/streaming/tty/speech_0.wav \(0.5 s\)$" "terminal: a human line per speech"
	script -qec "speak --json <'$T/tty.ndjson'" /dev/null >"$T/tty2.out" 2>&1
	like "$(tr -d '\r' <"$T/tty2.out")" '^\{"type":"audio",' "terminal: --json writes records"
else
	pass "# SKIP script(1) not installed"
	pass "# SKIP script(1) not installed"
fi

# Usage errors: exit 2 with a message naming the option or variable.
speak --jobs 0 </dev/null 2>"$T/u1"; is $? 2 "usage: --jobs 0 is exit 2"
like "$(head -n1 "$T/u1")" "^speak: --jobs: jobs at once, 1 to 64: '0'" "usage: says what --jobs takes"
speak --backend nosuch </dev/null 2>"$T/u2"; is $? 2 "usage: unknown backend is exit 2"
like "$(head -n1 "$T/u2")" "no backend 'nosuch'" "usage: names the backend"
PLAYCALL_SPEECH_RATE=fast speak </dev/null 2>"$T/u3"; is $? 2 "usage: a bad PLAYCALL_SPEECH_RATE is exit 2"
like "$(head -n1 "$T/u3")" "^speak: PLAYCALL_SPEECH_RATE: words per minute" "usage: names the variable"
speak extra-arg </dev/null 2>"$T/u4"; is $? 2 "usage: an argument is exit 2"
speak --lang 'e n' </dev/null 2>/dev/null; is $? 2 "usage: --lang not a tag is exit 2"
speak --timeout 0 </dev/null 2>/dev/null; is $? 2 "usage: --timeout 0 is exit 2"
speak --nosuch </dev/null 2>/dev/null; is $? 2 "usage: unknown option is exit 2"
speak --help >"$T/help"; is $? 0 "--help: exit 0"
like "$(cat "$T/help")" "backends: auto, ([a-z]+, )*espeak" "--help lists the backends"
done_testing
