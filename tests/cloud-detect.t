#!/bin/sh
# detect's cloud backends (gemini, openai) against tests/fake-api.py: the
# requests field by field, records, streaming order, the cache, and every
# fault: 429 + Retry-After, 500 then success, quota, malformed JSON, a reset
# upload, no answer, a refused key.
. "$(dirname "$0")/lib.sh"
detect --help 2>&1 | grep -q -- '--gemini-model' || skip_all "detect has no gemini backend"

make_video "$T/m.mp4" 30 --bursts "7 23"
fake_api_start || { echo "1..0 # SKIP the fake API did not start"; exit 0; }
export PLAYCALL_HTTP_BACKOFF=0.05
D="detect --first-interval 5 --interval 15 --json"

# ---- gemini, segments (the default) ----
$D --backend gemini "$T/m.mp4" >"$T/g1" 2>"$T/g1.err"
is "$?" 0 "gemini: exit 0"
is "$(field "$T/g1" '[r["index"] for r in of("events")]')" "[0, 1, 2]" "gemini: three events records in order"
is "$(field "$T/g1" 'sorted(set(r["backend"] for r in of("events") + of("session")))')" '["gemini"]' \
	"gemini: every record says gemini"
is "$(field "$T/g1" 'len([r for r in of("status") if r["message"].startswith("Uploading video to analysis service")]) > 0')" \
	true "gemini: status 'Uploading video to analysis service…'"
top() { field "$1" "max([e for r in of('events') for e in r['events'] if $2 <= e['t'] < $3], key=lambda e: e['score'])['t']"; }
num_near "$(top "$T/g1" 5 20)" 7 1 "gemini: the top event of 5-20 s is the burst at 7 s"
num_near "$(top "$T/g1" 20 30)" 23 1 "gemini: the top event of 20-30 s is the burst at 23 s"
is "$(field "$T/g1" 'all(e.get("line") and e.get("line_lang") == "en" for r in of("events") for e in r["events"])')" \
	true "gemini: each event has a commentary line in en"
is "$(fake_field 'len(of("upload_start")) + len(of("upload"))')" 0 \
	"gemini: nothing uploaded: the reduced segments go inline"
is "$(fake_field 'rs[0]["endpoint"] == "generate" and len(of("generate")) >= 3')" true \
	"gemini: one generateContent per segment (at least one per interval)"
g1_bytes=$(fake_field 'sum(r["body_bytes"] for r in of("generate"))')
is "$(fake_field 'sorted(set(list(p.keys())[0] for r in of("generate") for p in r["json"]["contents"][0]["parts"]))')" \
	'["inlineData", "text"]' "gemini: generateContent with the video inline, then the prompt"
is "$(fake_field 'sorted(set(r["json"]["contents"][0]["parts"][0]["inlineData"]["mimeType"] for r in of("generate")))')" \
	'["video/mp4"]' "gemini: inline video/mp4"
fake_field 'of("generate")[1]["json"]["contents"][0]["parts"][0]["inlineData"]["data"]' | base64 -d >"$T/inline1.mp4"
is "$(ffprobe -v error -select_streams v -show_entries stream=height,avg_frame_rate -of csv=p=0 "$T/inline1.mp4")" \
	"180,1/1" "gemini: an inline segment: 1 frame a second at the source's 180 px (never upscaled)"
is "$(ffprobe -v error -select_streams a -show_entries stream=codec_name -of csv=p=0 "$T/inline1.mp4")" aac \
	"gemini: an inline segment keeps its sound"
is "$(fake_field 'sorted(set(r["json"]["generationConfig"]["responseMimeType"] + " " + r["json"]["generationConfig"]["responseSchema"]["type"] for r in of("generate")))')" \
	'["application/json OBJECT"]' "gemini: JSON through a response schema"
is "$(fake_field 'sorted(set(r["path"] for r in of("generate")))')" '["/v1beta/models/gemini-2.5-flash:generateContent"]' \
	"gemini: the default model"
is "$(fake_field 'all(r["headers"].get("x-goog-api-key") is True and not r["key_in_url"] for r in rs)')" true \
	"gemini: the key in the x-goog-api-key header of every request, never in a URL"
unlike "$(cat "$T/g1" "$T/g1.err" "$FAKE_LOG")" "$FAKE_GEMINI_KEY" "gemini: the key is in no record, message or log"
is "$(ls -a "$(field "$T/g1" 'of("session")[0]["dir"]')" | grep -c gemini-segments)" 0 "gemini: no segment files left"

# ---- the same video again: all from the cache ----
fake_reset
$D --backend gemini "$T/m.mp4" >"$T/g2" 2>/dev/null
is "$?" 0 "cache: exit 0"
is "$(fake_field 'len(rs)')" 0 "cache: a re-run sends no request"
is "$(field "$T/g2" '[r["events"] for r in of("events")]')" "$(field "$T/g1" '[r["events"] for r in of("events")]')" \
	"cache: the same events"

# ---- streaming: interval 0 goes out while later analyses are still slow ----
export PLAYCALL_NO_CACHE=1
fake_reset
fake_fault '{"endpoint":"generate","mode":"slow","delay":3,"skip":1,"count":-1}'
$D --backend gemini "$T/m.mp4" 2>/dev/null | while IFS= read -r line; do
	printf '%s\t%s\n' "$(date +%s.%N)" "$line"; done >"$T/stamped"
t0=$(grep '"type":"events","session":"[^"]*","index":0' "$T/stamped" | cut -f1)
t2=$(grep '"type":"events","session":"[^"]*","index":2' "$T/stamped" | cut -f1)
num_cmp "$(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }')" ">" 2 \
	"streaming: interval 0 is written seconds before the slow ones"

# ---- whole: one upload, a request per interval with videoMetadata ----
fake_reset
$D --backend gemini --gemini-upload whole "$T/m.mp4" >"$T/w1" 2>/dev/null
is "$?" 0 "whole: exit 0"
is "$(fake_field '[len(of("upload_start")), len(of("upload"))]')" "[1, 1]" "whole: one upload"
is "$(fake_field 'sorted((p["videoMetadata"]["startOffset"], p["videoMetadata"]["endOffset"]) for r in of("generate") for p in r["json"]["contents"][0]["parts"][:1])')" \
	'[["0s", "5s"], ["20s", "30s"], ["5s", "20s"]]' "whole: videoMetadata offsets per interval"
is "$(field "$T/w1" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"$(field "$T/g1" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"whole: the same events as segments (the split does not change them)"

# ---- the video: reduced by default (1 frame a second, 360 px), or copied ----
is "$(fake_field 'sum(r["body_bytes"] for r in of("upload"))')" "$(stat -c %s "$T/m.mp4")" \
	"whole: the file sent as it is"
fake_reset
$D --backend gemini --gemini-video copy "$T/m.mp4" >"$T/c1" 2>/dev/null
is "$?" 0 "--gemini-video copy: exit 0"
is "$(fake_field 'rs[0]["endpoint"]')" upload_start "--gemini-video copy: the upload starts first"
is "$(fake_field 'len(of("upload_start")) == len(of("upload")) == len(of("generate")) >= 3')" true \
	"--gemini-video copy: each segment uploaded once and analysed once (at least one per interval)"
is "$(fake_field 'sorted(set((r["headers"].get("x-goog-upload-protocol"), r["headers"].get("x-goog-upload-command"), r["headers"].get("x-goog-upload-header-content-type")) for r in of("upload_start")))')" \
	'[["resumable", "start", "video/mp4"]]' "--gemini-video copy: resumable start, with the announced type"
is "$(fake_field 'all(r["headers"]["x-goog-upload-header-content-length"] == str(r2["body_bytes"]) for r, r2 in zip(of("upload_start"), of("upload")))')" \
	true "--gemini-video copy: the announced length is what was sent"
is "$(fake_field 'sorted(set(r["headers"]["x-goog-upload-command"] + "@" + r["headers"]["x-goog-upload-offset"] for r in of("upload")))')" \
	'["upload, finalize@0"]' "--gemini-video copy: upload, finalize from offset 0"
is "$(fake_field 'sorted(set(list(p.keys())[0] for r in of("generate") for p in r["json"]["contents"][0]["parts"]))')" \
	'["fileData", "text"]' "--gemini-video copy: generateContent with a fileData part and the prompt"
is "$(fake_field 'all(r["json"]["contents"][0]["parts"][0]["fileData"]["fileUri"].startswith("http://127.0.0.1") and r["json"]["contents"][0]["parts"][0]["fileData"]["mimeType"] == "video/mp4" for r in of("generate"))')" \
	true "--gemini-video copy: fileData names the uploaded file, video/mp4"
num_cmp "$(fake_field 'sum(r["body_bytes"] for r in of("upload"))')" ">" \
	"$(( $(stat -c %s "$T/m.mp4") * 9 / 10 ))" "--gemini-video copy: about the file's bytes sent"
num_cmp "$(fake_field 'sum(r["body_bytes"] for r in of("upload"))')" ">" "$g1_bytes" \
	"--gemini-video copy: more bytes than the default, base64 and all"
is "$(field "$T/c1" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"$(field "$T/g1" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"--gemini-video copy: the same moments as the reduced video"
# ---- a moment across a cut: a second look at the cut tells it whole ----
make_video "$T/seam.mp4" 30 --bursts "9.5"
fake_reset
$D --backend gemini "$T/seam.mp4" >"$T/s1" 2>/dev/null
is "$?" 0 "across a cut: exit 0"
is "$(field "$T/s1" '[(e["kind"], round(e["t"], 1)) for r in of("events") for e in r["events"]]')" '[["goal", 9.5]]' \
	"across a cut: one goal at 9.5 s, not a roar cut short and a whistle after the cut"
is "$(fake_field '[len(of("generate")), len(of("upload"))]')" "[7, 0]" \
	"across a cut: six segments (cut at 5, 10, 15, 20, 25 s) and one second look, none uploaded"
seam_len=$(fake_field 'of("generate")[-1]["json"]["contents"][0]["parts"][0]["inlineData"]["data"]' | base64 -d |
	ffprobe -v error -show_entries format=duration -of csv=p=0 -)
num_near "$seam_len" 5 0.2 "across a cut: the second look is 2.5 s each side of it"
fake_reset
$D --backend gemini --gemini-upload whole "$T/seam.mp4" >"$T/s2" 2>/dev/null
is "$(field "$T/s1" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"$(field "$T/s2" '[[(e["kind"], round(e["t"])) for e in r["events"]] for r in of("events")]')" \
	"across a cut: the same as the whole file analysed at once"

out=$($D --backend gemini --gemini-video 91 "$T/m.mp4" 2>&1)
is "$?" 2 "--gemini-video 91: usage error"
like "$out" "--gemini-video: copy, or an even height" "--gemini-video 91: says what it takes"

# ---- faults ----
same_retry() { # ENDPOINT STATUS: seconds from the failed request to its retry
	fake_field "[b['t'] - a['t'] for a in of('$1') if a.get('status') == $2 for b in of('$1') if b['t'] > a['t'] and b.get('json') == a.get('json')][0]"
}
fake_reset
fake_fault '{"endpoint":"generate","mode":"429","retry_after":1}'
$D --backend gemini "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 0 "429 + Retry-After: exit 0"
num_cmp "$(same_retry generate 429)" ">=" 0.98 "429 + Retry-After: the retry waited 1 s"
is "$(field "$T/f" 'len(of("events"))')" 3 "429 + Retry-After: every interval"

fake_reset
fake_fault '{"endpoint":"generate","mode":"500"}'
$D --backend gemini "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 0 "500 then success: exit 0"
is "$(fake_field 'len([r for r in of("generate") if r.get("status") == 500])')" 1 "500 then success: one 500"
num_cmp "$(same_retry generate 500)" ">" 0 "500 then success: the same request sent again"
is "$(field "$T/f" '[r["index"] for r in of("events")] + [len(of("error"))]')" "[0, 1, 2, 0]" \
	"500 then success: every interval, no error"

fake_reset
fake_fault '{"endpoint":"generate","mode":"quota","count":-1}'
PLAYCALL_HTTP_RETRIES=1 $D --backend gemini "$T/m.mp4" >"$T/f" 2>"$T/f.err"
is "$?" 1 "quota spent: exit 1"
is "$(field "$T/f" '[r["index"] for r in of("events")] + [len(of("session_end"))]')" "[0, 1, 2, 1]" \
	"quota spent: the stream goes on to session_end"
like "$(field "$T/f" 'of("error")[0]["message"]')" "HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted" \
	"quota spent: the service's message in an error record"
is "$(field "$T/f" 'sorted(set(r.get("index") for r in of("error")))')" "[0, 1, 2]" "quota spent: each failed interval named"

fake_reset
fake_fault '{"endpoint":"generate","mode":"malformed","skip":1}'
$D --backend gemini "$T/m.mp4" >"$T/f" 2>"$T/f.err"
is "$?" 1 "malformed answer: exit 1"
is "$(field "$T/f" 'len(of("error"))')" 1 "malformed answer: one error record"
like "$(field "$T/f" 'of("error")[0]["message"]')" "Gemini generateContent: not JSON: the answer ends part-way" \
	"malformed answer: says so"
is "$(field "$T/f" 'len(of("events"))')" 3 "malformed answer: the stream goes on"
like "$(cat "$T/f.err")" "^detect: .*m\.mp4: Gemini generateContent: not JSON" "malformed answer: one line on stderr naming the file"

fake_reset
fake_fault '{"endpoint":"upload","mode":"reset","reset_after":60000}'
$D --backend gemini --gemini-video copy "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 0 "upload reset part-way: exit 0"
is "$(fake_field 'len(of("upload_query"))')" 1 "upload reset: asked what arrived"
is "$(fake_field 'sorted(r["headers"]["x-goog-upload-offset"] for r in of("upload") if r["headers"]["x-goog-upload-offset"] != "0")')" \
	'["60000"]' "upload reset: resumed from there"

fake_reset
fake_fault '{"endpoint":"generate","mode":"hang"}'
PLAYCALL_HTTP_TIMEOUT=2 $D --backend gemini "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 0 "no answer: timed out and retried, exit 0"
is "$(fake_field 'len([r for r in of("generate") if r.get("status") == "hang"])')" 1 "no answer: the fake held one request"
num_cmp "$(same_retry generate '"hang"')" ">=" 2 "no answer: retried after the 2 s timeout"

fake_reset
GEMINI_API_KEY=AIza-wrong-key-9999 $D --backend gemini "$T/m.mp4" >"$T/f" 2>"$T/f.err"
is "$?" 1 "refused key: exit 1"
is "$(field "$T/f" 'len(of("error"))')" 1 "refused key: one error, not one per segment"
like "$(field "$T/f" 'of("error")[0]["message"]')" "HTTP 400 INVALID_ARGUMENT: API key not valid" "refused key: the service's words"
is "$(field "$T/f" 'len(of("events"))')" 3 "refused key: every interval still delivered (empty)"
unlike "$(cat "$T/f" "$T/f.err")" "AIza-wrong-key-9999" "refused key: the key is not shown"

out=$(env -u GEMINI_API_KEY $D --backend gemini "$T/m.mp4" 2>&1)
is "$?" 2 "no key: usage error"
like "$out" "GEMINI_API_KEY" "no key: says which variable"

# ---- the manual's examples ----
fake_reset
printf '%s\n' "$FAKE_GEMINI_KEY" >"$T/gemini-key"
(cd "$T" && cp m.mp4 game.mp4 && env -u GEMINI_API_KEY GEMINI_API_KEY_FILE="$T/gemini-key" \
	detect --backend gemini --interval 15 game.mp4 >"$T/ex1" 2>/dev/null)
is "$?" 0 "example: the key from GEMINI_API_KEY_FILE"
is "$(field "$T/ex1" '[len(of("events")), of("session")[0]["backend"]]')" '[2, "gemini"]' "example: both 15 s intervals, by gemini"
is "$(fake_field 'all(r["headers"]["x-goog-api-key"] is True for r in rs) and len(of("generate")) > 0')" true \
	"example: the file's key went in the header"
fake_reset
(cd "$T" && env -u OPENAI_API_KEY detect --backend openai --openai-model llava game.mp4 >"$T/ex2" 2>/dev/null)
is "$?" 0 "example: a local OpenAI-compatible server, no key"
is "$(fake_field 'sorted(set((r["json"]["model"], "authorization" in r["headers"]) for r in of("chat")))')" '[["llava", false]]' \
	"example: the model asked for, no Authorization header without a key"

# ---- --backend auto ----
auto() { env -u GEMINI_API_KEY -u OPENAI_API_KEY "$@" $D "$T/m.mp4" 2>/dev/null | field /dev/stdin 'of("session")[0]["backend"]'; }
is "$(auto GEMINI_API_KEY=$FAKE_GEMINI_KEY)" gemini "auto: gemini when its key is set"
is "$(auto OPENAI_API_KEY=$FAKE_OPENAI_KEY)" openai "auto: openai when only its key is set"
is "$(auto)" local "auto: local without keys"

# ---- openai: frames ----
fake_reset
$D --backend openai --openai-fps 1 --openai-width 160 "$T/m.mp4" >"$T/o1" 2>/dev/null
is "$?" 0 "openai: exit 0"
is "$(field "$T/o1" '[r["index"] for r in of("events")] + sorted(set(r["backend"] for r in of("events")))')" \
	'[0, 1, 2, "openai"]' "openai: three events records, backend openai"
is "$(fake_field 'len(of("chat"))')" 3 "openai: one request per interval"
first() { fake_field "[r for r in of('chat') if 'This clip is 5.0' in r['json']['messages'][1]['content'][0]['text']][0]$1"; }
is "$(first '["json"]["model"]')" gpt-4o-mini "openai: the default model"
is "$(first '["json"]["messages"][1]["content"][1]["text"]')" "t=0.0" "openai: each frame after its time"
is "$(first '["json"]["messages"][1]["content"].__len__()')" 11 "openai: 5 frames for 5 s at 1 a second (after the prompt)"
is "$(fake_field "sorted(set(p['image_url']['url'][:23] + ' ' + p['image_url']['detail'] for r in of('chat') for p in r['json']['messages'][1]['content'] if p['type'] == 'image_url'))")" \
	'["data:image/jpeg;base64, low"]' "openai: JPEG data URLs, low detail"
is "$(first '["json"]["response_format"]["type"]') $(first '["json"]["response_format"]["json_schema"]["strict"]')" \
	"json_schema true" "openai: a strict JSON schema"
is "$(fake_field 'all(r["headers"]["authorization"] is True for r in of("chat"))')" true "openai: Authorization header"

fake_reset
fake_fault '{"endpoint":"chat","mode":"500"}'
$D --backend openai "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 0 "openai 500 then success: exit 0"
is "$(fake_field 'len(of("chat"))')" 4 "openai 500 then success: 4 requests for 3 intervals"

fake_reset
fake_fault '{"endpoint":"chat","mode":"status","status":400,"message":"Invalid model for vision.","count":-1}'
$D --backend openai "$T/m.mp4" >"$T/f" 2>/dev/null
is "$?" 1 "openai 400: exit 1"
is "$(field "$T/f" 'len(of("error"))')" 1 "openai 400: one error"
like "$(field "$T/f" 'of("error")[0]["message"]')" "OpenAI chat: HTTP 400 invalid_request_error: Invalid model for vision\." \
	"openai 400: the service's message as it is"
# ---- the interval: short by default with a cloud backend ----
detect --json --backend gemini "$T/m.mp4" >"$T/fi" 2>/dev/null
is "$(field "$T/fi" '[of("session")[0]["interval"], [r["end"] for r in of("events")]]')" "[5, [5, 10, 15, 20, 25, 30]]" \
	"gemini: without --interval the intervals are 5 s"
detect --json --backend gemini --interval 15 "$T/m.mp4" >"$T/fi2" 2>/dev/null
is "$(field "$T/fi2" '[r["end"] for r in of("events")]')" "[15, 30]" "gemini: --interval still wins"
PLAYCALL_INTERVAL=10 detect --json --backend gemini "$T/m.mp4" >"$T/fi4" 2>/dev/null
is "$(field "$T/fi4" '[r["end"] for r in of("events")]')" "[10, 20, 30]" "gemini: so does PLAYCALL_INTERVAL"
detect --json --backend local "$T/m.mp4" >"$T/fi3" 2>/dev/null
is "$(field "$T/fi3" '[r["end"] for r in of("events")]')" "[30]" "local: the interval is 30 s"
done_testing
