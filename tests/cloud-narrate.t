#!/bin/sh
# narrate's cloud backends (gemini, openai) against tests/fake-api.py: one
# request per highlight (events, words that fit, language, style, earlier
# lines), a line the video analysis already wrote used as it is, and the
# faults: 500 then success, 400, quota, malformed JSON, no answer.
. "$(dirname "$0")/lib.sh"
narrate --backend gemini </dev/null 2>&1 | grep -q 'no such backend' && skip_all "narrate has no gemini backend"
fake_api_start || { echo "1..0 # SKIP the fake API did not start"; exit 0; }
export PLAYCALL_HTTP_BACKOFF=0.05

cat >"$T/in" <<EOF
{"type":"session","session":"s1","source":"$T/m.mp4","duration":30,"interval":15,"intervals":3,"dir":"$T/s1","backend":"gemini","has_video":true,"has_audio":true}
{"type":"events","session":"s1","index":0,"start":0,"end":5,"events":[],"backend":"gemini"}
{"type":"events","session":"s1","index":1,"start":5,"end":20,"events":[{"t":7,"kind":"goal","label":"a header","score":0.9,"line":"What a header, it's in!","line_lang":"en"}],"backend":"gemini"}
{"type":"events","session":"s1","index":2,"start":20,"end":30,"events":[{"t":23,"kind":"crowd","label":"crowd roar","score":0.8}],"backend":"gemini"}
{"type":"session_end","session":"s1","intervals":3}
EOF
N="narrate --json --jobs 1"
prompt() { fake_field "[p['text'] for r in of('$1') for p in $2][$3]"; }

# ---- gemini ----
$N --backend gemini <"$T/in" >"$T/g" 2>"$T/g.err"
is "$?" 0 "gemini: exit 0"
is "$(field "$T/g" 'len(of("commentary"))')" 2 "gemini: a commentary per highlight"
is "$(field "$T/g" 'sorted(set(r["backend"] for r in of("commentary")))')" '["gemini"]' "gemini: backend gemini"
is "$(field "$T/g" 'of("commentary")[0]["text"]')" "What a header, it's in!" \
	"gemini: the analysis's own line is used as it is"
is "$(fake_field 'len(of("generate"))')" 1 "gemini: so only the other highlight asks"
p=$(prompt generate 'r["json"]["contents"][0]["parts"]' 0)
like "$p" "at most [0-9]+ words" "gemini: the prompt gives the words that fit"
words=$(printf '%s' "$p" | sed -n 's/.*at most \([0-9]*\) words.*/\1/p')
num_cmp "$(field "$T/g" 'len(of("commentary")[1]["text"].split())')" "<=" "$words" "gemini: the text fits those words"
like "$p" "Language: 'en'" "gemini: the language"
like "$p" "Style: [a-z]+" "gemini: the style"
like "$p" "- t=[0-9.]+ crowd: crowd roar" "gemini: the events, times from the clip start"
like "$p" "- What a header, it's in!" "gemini: the session's earlier lines (no repetition)"
is "$(fake_field 'of("generate")[0]["json"]["generationConfig"]["responseSchema"]["properties"]["text"]["type"]')" \
	STRING "gemini: a {text} response schema"
is "$(field "$T/g" 'of("commentary")[1]["text"] != of("commentary")[0]["text"]')" true "gemini: another line"
unlike "$(cat "$T/g" "$T/g.err" "$FAKE_LOG")" "$FAKE_GEMINI_KEY" "gemini: the key is nowhere"

fake_reset
PLAYCALL_NARRATE_LINES=ask $N --backend gemini <"$T/in" >"$T/g2" 2>/dev/null
is "$(fake_field 'len(of("generate"))')" 2 "PLAYCALL_NARRATE_LINES=ask: a request for each highlight"

fake_reset
$N --backend gemini --lang es <"$T/in" >"$T/g3" 2>/dev/null
is "$(fake_field 'len(of("generate"))')" 2 "--lang es: an English line is not reused"
like "$(prompt generate 'r["json"]["contents"][0]["parts"]' 0)" "Language: 'es'" "--lang es: asked in Spanish"

fake_reset
$N --backend gemini --model gemini-test-model <"$T/in" >/dev/null 2>&1
is "$(fake_field 'of("generate")[0]["path"]')" "/v1beta/models/gemini-test-model:generateContent" "--model names the model"

# ---- openai ----
fake_reset
$N --backend openai <"$T/in" >"$T/o" 2>/dev/null
is "$?" 0 "openai: exit 0"
is "$(field "$T/o" '[r["backend"] for r in of("commentary")]')" '["openai", "openai"]' "openai: backend openai"
is "$(fake_field 'len(of("chat"))')" 1 "openai: one request (one line reused)"
is "$(fake_field '[m["role"] for m in of("chat")[0]["json"]["messages"]]')" '["system", "user"]' "openai: system and user messages"
is "$(fake_field 'of("chat")[0]["json"]["response_format"]["json_schema"]["name"] + " " + str(of("chat")[0]["json"]["response_format"]["json_schema"]["strict"])')" \
	"commentary True" "openai: a strict json_schema"
is "$(fake_field 'of("chat")[0]["json"]["model"]')" gpt-4o-mini "openai: the default model"

# ---- faults ----
fake_reset
fake_fault '{"endpoint":"generate","mode":"500"}'
$N --backend gemini <"$T/in" >"$T/f" 2>/dev/null
is "$?" 0 "500 then success: exit 0"
is "$(field "$T/f" 'len(of("commentary"))')" 2 "500 then success: both highlights"

fail_case() { # NAME FAULT MESSAGE-ERE [ENV...]
	name=$1 f=$2 want=$3; shift 3
	fake_reset
	fake_fault "$f"
	env "$@" $N --backend gemini <"$T/in" >"$T/f" 2>"$T/f.err"
	is "$?" 0 "$name: exit 0 (a failed commentary is reported, not fatal)"
	is "$(field "$T/f" '[r.get("index") for r in of("error")]')" "[1]" "$name: an error record for highlight 1"
	like "$(field "$T/f" 'of("error")[0]["message"]')" "$want" "$name: says why"
	is "$(field "$T/f" '[len(of("commentary")), len(of("session_end"))]')" "[1, 1]" "$name: the stream goes on"
}
fail_case "400" '{"endpoint":"generate","mode":"status","status":400,"message":"Bad prompt."}' \
	"HTTP 400 INVALID_ARGUMENT: Bad prompt\."
fail_case "quota" '{"endpoint":"generate","mode":"quota","count":-1}' \
	"HTTP 429 RESOURCE_EXHAUSTED" PLAYCALL_HTTP_RETRIES=1
fail_case "malformed" '{"endpoint":"generate","mode":"malformed"}' "Gemini: not JSON"
fail_case "no answer" '{"endpoint":"generate","mode":"hang"}' "no complete answer within 1 s" \
	PLAYCALL_HTTP_TIMEOUT=1 PLAYCALL_HTTP_RETRIES=0

fake_reset
fake_fault '{"endpoint":"generate","mode":"status","status":503,"count":-1}'
PLAYCALL_NARRATE_FALLBACK=local PLAYCALL_HTTP_RETRIES=0 $N --backend gemini <"$T/in" >"$T/f" 2>"$T/f.err"
is "$(field "$T/f" '[(r["index"], r["backend"]) for r in of("commentary")] + [len(of("error"))]')" \
	'[[0, "gemini"], [1, "local"], 0]' "PLAYCALL_NARRATE_FALLBACK=local: the offline commentator speaks instead"
like "$(cat "$T/f.err")" "highlight 1: Gemini generateContent: HTTP 503.*offline commentator speaks instead" \
	"PLAYCALL_NARRATE_FALLBACK=local: says so on stderr"

# The manual's example: lines asked in Spanish are said in Spanish.
make_video "$T/game.mp4" 20 --bursts "7"
fake_reset
(cd "$T" && detect --backend gemini --gemini-lines es game.mp4 2>/dev/null | narrate --backend gemini --lang es --json >"$T/ex" 2>/dev/null)
is "$?" 0 "example: exit 0"
like "$(fake_field '[p["text"] for r in of("generate") for p in r["json"]["contents"][0]["parts"] if "text" in p][0]')" \
	"language 'es'" "example: detect asks for Spanish lines"
is "$(field "$T/ex" '[(r["lang"], r["backend"], r["text"] == r["events"][0].get("line")) for r in of("commentary")]')" \
	'[["es", "gemini", true]]' "example: the Spanish line said as it is"

out=$(env -u GEMINI_API_KEY $N --backend gemini <"$T/in" 2>&1)
is "$?" 2 "no key: usage error"
like "$out" "GEMINI_API_KEY" "no key: says which variable"
is "$(env -u OPENAI_API_KEY $N <"$T/in" 2>/dev/null | field /dev/stdin 'of("commentary")[0]["backend"]')" gemini \
	"auto: gemini when its key is set"
is "$(env -u OPENAI_API_KEY -u GEMINI_API_KEY $N <"$T/in" 2>/dev/null | field /dev/stdin 'of("commentary")[0]["backend"]')" local \
	"auto: local without keys"
done_testing
