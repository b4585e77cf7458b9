#!/bin/sh
# narrate: highlight windows, commentary records field by field, the fit,
# languages, styles, --seed, --full, thresholds, options and their
# environment equivalents, usage errors, the terminal view.
. "$(dirname "$0")/lib.sh"
command -v narrate >/dev/null || skip_all "narrate is not built"

# Three crowd roars (23.1, 61.2 with a whistle, 104) in a 133 s video.
cat >"$T/in.ndjson" <<'EOF'
{"type":"session","session":"s1","source":"/m/x.mp4","duration":133,"interval":30,"intervals":5,"dir":"/tmp/s1","backend":"local"}
{"type":"events","session":"s1","index":0,"start":0,"end":30,"events":[{"t":23.1,"kind":"crowd","label":"crowd roar","score":0.95},{"t":10,"kind":"motion","label":"burst of motion","score":0.3}]}
{"type":"events","session":"s1","index":1,"start":30,"end":60,"events":[]}
{"type":"events","session":"s1","index":2,"start":60,"end":90,"events":[{"t":61.2,"kind":"crowd","label":"crowd roar","score":0.9},{"t":65,"kind":"whistle","label":"whistle","score":0.6}]}
{"type":"events","session":"s1","index":3,"start":90,"end":120,"events":[{"t":104,"kind":"crowd","label":"crowd roar","score":0.92}]}
{"type":"events","session":"s1","index":4,"start":120,"end":133,"events":[]}
{"type":"session_end","session":"s1","intervals":5}
EOF

narrate --seed 1 <"$T/in.ndjson" >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "exit status 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(field "$T/out" '" ".join(r["type"] for r in rs)')" \
	"session commentary commentary commentary session_end" "session, three highlights, session_end"
is "$(field "$T/out" '[r["index"] for r in of("commentary")]')" "[0, 1, 2]" "indexes 0, 1, 2"
is "$(field "$T/out" '[[r["start"], r["end"]] for r in of("commentary")]')" \
	"[[18.1, 30.1], [56.2, 72], [99, 111]]" "windows: 5 s lead-in, 7 s tail, the whistle merged in"
is "$(field "$T/out" '[[e["t"] for e in r["events"]] for r in of("commentary")]')" \
	"[[23.1], [61.2, 65], [104]]" "each record carries the events it covers (weak ones dropped)"
is "$(field "$T/out" 'sorted(set((r["session"], r["backend"], r["wps"], r["delay"], r["lang"], r["style"]) for r in of("commentary")))')" \
	'[["s1", "local", 2.9, 1, "en", "excited"]]' "session, backend, wps, delay, lang, style"
is "$(field "$T/out" 'all(isinstance(r["text"], str) and len(r["text"]) > 20 for r in of("commentary"))')" \
	"true" "every highlight has text"
is "$(field "$T/out" 'of("session")[0] == json.loads(open(sys.argv[1]).readline())')" "true" \
	"the session record passes through unchanged"
texts=$(field "$T/out" '"|".join(r["text"] for r in of("commentary"))')
like "$texts" "twenty-three seconds" "highlight 0 says its time in words"
like "$texts" "one-minute mark" "highlight 1 too"
like "$texts" "two-minute mark" "highlight 2 too"

# The fit: at the record's wps, speech starting `delay` in ends in the window.
# Counted here plainly, one word per space-separated token.
is "$(field "$T/out" '[r["index"] for r in of("commentary") if len(r["text"].split()) / r["wps"] + r["delay"] > r["end"] - r["start"]]')" \
	"[]" "fit: words / wps + delay <= window, every highlight"
if command -v espeak-ng >/dev/null; then
	over=""
	n=0
	while IFS='	' read -r idx len text; do
		espeak-ng -w "$T/say.wav" "$text"
		d=$(probe_duration "$T/say.wav")
		awk -v d="$d" -v l="$len" 'BEGIN { exit !(d + 1 <= l) }' || over="$over $idx($d s of $len)"
		n=$((n + 1))
	done <<EOF
$(field "$T/out" '"\n".join("%d\t%s\t%s" % (r["index"], r["end"] - r["start"], r["text"]) for r in of("commentary"))')
EOF
	is "$n:$over" "3:" "fit: espeak-ng's speech, 1 s in, ends inside each window"
fi

# No sentence twice in a session, over many highlights.
python3 - >"$T/many.ndjson" <<'EOF'
import json
print(json.dumps({"type": "session", "session": "long", "duration": 1800}))
kinds = ["crowd", "whistle", "motion", "cut", "goal", "unheard-of"]
for i in range(30):
    ev = [{"t": i * 60 + 20, "kind": kinds[i % 6], "label": "x", "score": 0.5 + (i % 5) / 10}]
    print(json.dumps({"type": "events", "session": "long", "index": i, "start": i * 60, "end": i * 60 + 60, "events": ev}))
print(json.dumps({"type": "session_end", "session": "long"}))
EOF
narrate --seed 3 <"$T/many.ndjson" >"$T/many.out"
is "$(field "$T/many.out" 'len(of("commentary"))')" 30 "30 highlights"
said='[s.strip() for r in of("commentary") for s in __import__("re").findall(r"[^.!?]+[.!?]+", r["text"])]'
is "$(field "$T/many.out" "[s for s in set($said) if $said.count(s) > 1]")" "[]" \
	"no sentence repeated within the session"
num_cmp "$(field "$T/many.out" "len($said)")" ">=" 90 "... of many (build-ups, times, reactions)"

# --seed
narrate --seed 1 <"$T/in.ndjson" >"$T/again"
cmp -s "$T/out" "$T/again"; ok $? "--seed: the same seed, the same output"
narrate --seed 2 <"$T/in.ndjson" >"$T/other"
cmp -s "$T/out" "$T/other"; ok $((! $?)) "--seed: another seed, other words"
PLAYCALL_SEED=1 narrate <"$T/in.ndjson" >"$T/env"
cmp -s "$T/out" "$T/env"; ok $? "PLAYCALL_SEED is --seed"

# Languages and styles
narrate --seed 1 --lang es <"$T/in.ndjson" >"$T/es"
is "$(field "$T/es" 'sorted(set(r["lang"] for r in of("commentary")))')" '["es"]' "--lang es: lang es"
like "$(field "$T/es" '" ".join(r["text"] for r in of("commentary"))')" "veintitrés segundos" \
	"--lang es: Spanish, time in Spanish words"
PLAYCALL_LANG=es narrate --seed 1 <"$T/in.ndjson" >"$T/es2"
cmp -s "$T/es" "$T/es2"; ok $? "PLAYCALL_LANG is --lang"
narrate --lang xx <"$T/in.ndjson" >"$T/o" 2>"$T/e"; rc=$?
is "$rc" 2 "--lang without a table: exit 2"
like "$(cat "$T/e")" "^narrate: phrase table for --lang xx: .*/narrate/xx.phrases: No such file" \
	"--lang without a table: says which file is missing"
is "$(cat "$T/o")" "" "--lang without a table: no records"
narrate --seed 1 --style calm <"$T/in.ndjson" >"$T/calm"
is "$(field "$T/calm" 'sorted(set(r["style"] for r in of("commentary")))')" '["calm"]' "--style calm: style calm"
is "$(field "$T/calm" 'sum(r["text"].count("!") for r in of("commentary"))')" 0 "--style calm: no exclamations"
is "$(field "$T/out" 'all("!" in r["text"] for r in of("commentary"))')" "true" "excited (the default): exclamations"
narrate --style shouty <"$T/in.ndjson" 2>"$T/e" >/dev/null; rc=$?
is "$rc" 2 "--style the table lacks: exit 2"
is "$(cat "$T/e")" "narrate: --style shouty: the en table has only excited, calm" "--style: names the styles there are"

# A table under another language's name is refused.
mkdir -p "$T/data/narrate"
sed 's/^lang es$/lang pt/' "$PLAYCALL_DATA/narrate/es.phrases" >"$T/data/narrate/es.phrases"
PLAYCALL_DATA="$T/data" narrate --lang es <"$T/in.ndjson" 2>"$T/e" >/dev/null; rc=$?
is "$rc:$(cat "$T/e")" "2:narrate: phrase table $T/data/narrate/es.phrases says it is lang pt" \
	"a table whose lang is not its name: exit 2"

# --phrases: a table of one's own; a broken one is named with its line
cat >"$T/tiny.phrases" <<'EOF'
[meta]
lang xx
[time start]
at the start
[time seconds]
{s} seconds in
[time mark]
on {m}
[time after]
after {m}
[time half]
half {m}
[time before]
near {n}
[when]
{time}, look.
[react]
Wow, a {label}.
[short]
Oh.
EOF
narrate --phrases "$T/tiny.phrases" <"$T/in.ndjson" >"$T/tiny"
is "$(field "$T/tiny" '[r["text"] for r in of("commentary")][0]')" "23 seconds in, look. Wow, a crowd roar." \
	"--phrases: its lines, its numbers (digits without [numbers]), {label}"
is "$(field "$T/tiny" 'of("commentary")[0]["lang"]')" "xx" "--phrases: the table's lang"
printf '[meta]\nlang xx\n[react * huge]\n' >"$T/bad.phrases"
narrate --phrases "$T/bad.phrases" <"$T/in.ndjson" 2>"$T/e" >/dev/null; rc=$?
is "$rc" 2 "a broken table: exit 2"
is "$(cat "$T/e")" "narrate: phrase table bad.phrases:3: band \"huge\" is not low, mid, high or *" \
	"a broken table: file, line and reason"

# --full: one window per interval, the whole video
narrate --seed 1 --full <"$T/in.ndjson" >"$T/full"
is "$(field "$T/full" '[[r["index"], r["start"], r["end"]] for r in of("commentary")]')" \
	"[[0, 0, 30], [1, 30, 60], [2, 60, 90], [3, 90, 120], [4, 120, 133]]" "--full: a window per interval"
is "$(field "$T/full" '[len(r["events"]) for r in of("commentary")]')" "[1, 0, 2, 1, 0]" \
	"--full: each with its interval's events"
is "$(field "$T/full" '[r["index"] for r in of("commentary") if len(r["text"].split()) < 10 or len(r["text"].split()) / r["wps"] + 1 > r["end"] - r["start"]]')" \
	"[]" "--full: every window talked through, and fitting"
PLAYCALL_FULL=1 narrate --seed 1 <"$T/in.ndjson" >"$T/full2"
cmp -s "$T/full" "$T/full2"; ok $? "PLAYCALL_FULL=1 is --full"

# Thresholds and window sizes
narrate --min-score 0.93 <"$T/in.ndjson" >"$T/o"
is "$(field "$T/o" '[r["events"][0]["t"] for r in of("commentary")]')" "[23.1]" "--min-score 0.93: only the 0.95 roar"
narrate --min-score 0.2 --max-per-interval 0 <"$T/in.ndjson" >"$T/o"
is "$(field "$T/o" '[[e["t"] for e in r["events"]] for r in of("commentary")]')" "[[10], [23.1], [61.2, 65], [104]]" \
	"--min-score 0.2: the weak motion is a highlight too"
narrate --min-score 0.2 --max-per-interval 1 --lead 2 --tail 2 <"$T/in.ndjson" >"$T/o"
is "$(field "$T/o" '[[r["start"], r["end"]] for r in of("commentary")]')" "[[21.1, 25.1], [59.2, 67], [102, 106]]" \
	"--max-per-interval 1: the strongest of each interval; --lead 2 --tail 2"
PLAYCALL_MIN_SCORE=0.2 PLAYCALL_MAX_PER_INTERVAL=1 PLAYCALL_LEAD=2 PLAYCALL_TAIL=2 narrate <"$T/in.ndjson" >"$T/o2"
is "$(field "$T/o2" '[[r["start"], r["end"]] for r in of("commentary")]')" "[[21.1, 25.1], [59.2, 67], [102, 106]]" \
	"PLAYCALL_MIN_SCORE, _MAX_PER_INTERVAL, _LEAD, _TAIL"
cat >"$T/edge.ndjson" <<'EOF'
{"type":"session","session":"e","duration":40}
{"type":"events","session":"e","index":0,"start":0,"end":30,"events":[{"t":1,"kind":"crowd","score":0.9}]}
{"type":"events","session":"e","index":1,"start":30,"end":40,"events":[{"t":38,"kind":"crowd","score":0.9}]}
{"type":"session_end","session":"e"}
EOF
narrate <"$T/edge.ndjson" >"$T/o"
is "$(field "$T/o" '[[r["start"], r["end"]] for r in of("commentary")]')" "[[0, 8], [33, 40]]" \
	"windows clipped to [0, duration]"

# --wps and --delay size the text
narrate --seed 1 --wps 1.2 --delay 3 <"$T/in.ndjson" >"$T/slow"
is "$(field "$T/slow" 'sorted(set((r["wps"], r["delay"]) for r in of("commentary")))')" "[[1.2, 3]]" \
	"--wps 1.2 --delay 3: recorded"
is "$(field "$T/slow" '[r["index"] for r in of("commentary") if len(r["text"].split()) / 1.2 + 3 > r["end"] - r["start"]]')" \
	"[]" "--wps 1.2 --delay 3: less text, still fitting"
less=$(field "$T/slow" 'sum(len(r["text"].split()) for r in of("commentary"))')
more=$(field "$T/out" 'sum(len(r["text"].split()) for r in of("commentary"))')
num_cmp "$less" "<" "$more" "--wps 1.2: fewer words than at 2.9 ($less < $more)"
PLAYCALL_WPS=1.2 PLAYCALL_DELAY=3 narrate --seed 1 <"$T/in.ndjson" >"$T/slow2"
cmp -s "$T/slow" "$T/slow2"; ok $? "PLAYCALL_WPS, PLAYCALL_DELAY"

# Usage and configuration errors: exit 2, one line, no records
usage_err() { # usage_err EXPECTED-STDERR-LINE NAME ARGS...
	want=$1 name=$2; shift 2
	narrate "$@" <"$T/in.ndjson" >"$T/o" 2>"$T/e"; rc=$?
	is "$rc:$(wc -c <"$T/o")" "2:0" "$name: exit 2, no records"
	like "$(tail -n1 "$T/e")" "$want" "$name: says why"
}
usage_err "^narrate: --wps '0': expected words a second" "--wps 0" --wps 0
usage_err "^narrate: --lead '-1': expected seconds" "--lead -1" --lead -1
usage_err "^narrate: --min-score '2': expected a score from 0 to 1" "--min-score 2" --min-score 2
usage_err "^narrate: --seed 'x': expected a whole number" "--seed x" --seed x
usage_err "^narrate: unknown option or missing value: --bogus" "--bogus" --bogus
usage_err "^narrate: unexpected argument 'file.ndjson'" "an argument" file.ndjson
usage_err "^narrate: --backend nope: no such backend \(there are: ([a-z]+, )*local, auto\)" "--backend nope" --backend nope
PLAYCALL_WPS=fast narrate <"$T/in.ndjson" >/dev/null 2>"$T/e"; rc=$?
is "$rc" 2 "PLAYCALL_WPS=fast: exit 2"
like "$(tail -n1 "$T/e")" "^narrate: PLAYCALL_WPS='fast': expected words a second" "PLAYCALL_WPS=fast: names the variable"
narrate --help >"$T/o"; rc=$?
is "$rc" 0 "--help: exit 0"
like "$(head -n1 "$T/o")" "^usage: narrate " "--help: usage on stdout"
narrate --backend local --seed 1 <"$T/in.ndjson" >"$T/o"
cmp -s "$T/out" "$T/o"; ok $? "--backend local is what auto picks offline"

# The terminal view, and --json on a terminal
if command -v script >/dev/null; then
	script -qec "narrate --seed 1 < '$T/in.ndjson'" /dev/null >"$T/tty" 2>&1
	like "$(cat "$T/tty")" "highlight 0 \[00:00:18-00:00:30\]: .*twenty-three seconds" "terminal: the human view"
	unlike "$(cat "$T/tty")" '"type":' "terminal: no raw records"
	script -qec "narrate --seed 1 --json < '$T/in.ndjson'" /dev/null >"$T/tty" 2>&1
	like "$(cat "$T/tty")" '"type":"commentary"' "terminal with --json: records"
fi

# narrate(1) EXAMPLES (the pipelines are in narrate-detect.t)
cp "$T/in.ndjson" "$T/events.ndjson"
(cd "$T" && narrate --seed 7 --wps 2.2 --delay 1.5 < events.ndjson) >"$T/o"; rc=$?
is "$rc:$(field "$T/o" 'sorted(set((r["wps"], r["delay"]) for r in of("commentary")))')" "0:[[2.2, 1.5]]" \
	"example: narrate --seed 7 --wps 2.2 --delay 1.5 < events.ndjson"
(cd "$T" && narrate --seed 7 --wps 2.2 --delay 1.5 < events.ndjson) | cmp -s - "$T/o"; ok $? "example: ... the same every time"
sed 's/^lang xx$/lang fr/' "$T/tiny.phrases" >"$T/fr.phrases"
(cd "$T" && narrate --phrases fr.phrases < /dev/null) >"$T/o" 2>"$T/e"; rc=$?
is "$rc:$(cat "$T/o" "$T/e")" "0:" "example: narrate --phrases fr.phrases < /dev/null: a good table, exit 0"
printf '[when]\nhi {tme}\n' >>"$T/fr.phrases"
(cd "$T" && narrate --phrases fr.phrases < /dev/null) >"$T/o" 2>"$T/e"; rc=$?
is "$rc:$(cat "$T/e")" "2:narrate: phrase table fr.phrases:22: unknown placeholder {tme} in [when]" \
	"example: ... a broken one: exit 2, its line and what is wrong"

# Empty input, a last line without its newline, no session_end
narrate </dev/null >"$T/o"; rc=$?
is "$rc:$(wc -c <"$T/o")" "0:0" "empty input: nothing, exit 0"
head -n 2 "$T/in.ndjson" | tr -d '\n' | sed 's/}{/}\n{/' >"$T/cut"
narrate <"$T/cut" >"$T/o"
is "$(field "$T/o" '" ".join(r["type"] for r in rs)')" "session commentary" \
	"no newline at the end, no session_end: the pending window still comes out"

done_testing
