#!/bin/sh
# speak's cloud backends (elevenlabs, openai) against tests/fake-api.py: the
# requests field by field, real audio files measured, the cache, and the
# faults: quota spent (audio path null and a status), 429 + Retry-After,
# 500 then success, malformed answers, no answer.
. "$(dirname "$0")/lib.sh"
speak --help 2>&1 | grep -q -- '--elevenlabs-model' || skip_all "speak has no elevenlabs backend"
fake_api_start || { echo "1..0 # SKIP the fake API did not start"; exit 0; }
export PLAYCALL_HTTP_BACKOFF=0.05

cat >"$T/in" <<EOF
{"type":"session","session":"s1","source":"$T/m.mp4","duration":30,"dir":"$T/s1","has_video":true,"has_audio":true}
{"type":"commentary","session":"s1","index":0,"start":2,"end":14,"text":"What a header, it's in!","events":[],"backend":"gemini","wps":2.9,"delay":1,"lang":"en","style":"excited"}
{"type":"commentary","session":"s1","index":1,"start":18,"end":30,"text":"The crowd roars as they push forward again.","events":[],"backend":"gemini","wps":2.9,"delay":1,"lang":"en","style":"excited"}
{"type":"session_end","session":"s1","intervals":3}
EOF
mkdir -p "$T/s1"
S="speak --json"
mean_volume() { ffmpeg -nostdin -v info -i "$1" -af volumedetect -f null - 2>&1 | sed -n 's/.*mean_volume: \(-*[0-9.]*\) dB.*/\1/p'; }

# ---- elevenlabs ----
$S --backend elevenlabs <"$T/in" >"$T/e" 2>"$T/e.err"
is "$?" 0 "elevenlabs: exit 0"
is "$(field "$T/e" '[(r["index"], r["speech_backend"], r["voice"]) for r in of("audio")]')" \
	'[[0, "elevenlabs", "JBFqnCBsd6RMkjVDRZzb"], [1, "elevenlabs", "JBFqnCBsd6RMkjVDRZzb"]]' \
	"elevenlabs: audio records, backend and the default voice"
p0=$(field "$T/e" 'of("audio")[0]["path"]')
is "$p0" "$T/s1/speech_0.mp3" "elevenlabs: speech_0.mp3 in the session folder"
is "$(ffprobe -v error -select_streams a -show_entries stream=codec_name -of csv=p=0 "$p0")" mp3 "elevenlabs: an MP3"
num_near "$(probe_duration "$p0")" "$(field "$T/e" 'of("audio")[0]["speech_duration"]')" 0.05 \
	"elevenlabs: speech_duration is the file's"
num_cmp "$(mean_volume "$p0")" ">" -40 "elevenlabs: the file holds sound"
is "$(fake_field '[r["path"] for r in of("tts")]')" \
	'["/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb", "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb"]' "elevenlabs: the voice in the path"
is "$(fake_field 'sorted(set(r["query"]["output_format"][0] for r in of("tts")))')" '["mp3_44100_128"]' \
	"elevenlabs: output_format mp3_44100_128"
is "$(fake_field 'sorted(r["json"]["text"] for r in of("tts"))')" \
	"[\"The crowd roars as they push forward again.\", \"What a header, it's in!\"]" "elevenlabs: the texts"
is "$(fake_field 'sorted(set(r["json"]["model_id"] for r in of("tts")))')" '["eleven_multilingual_v2"]' "elevenlabs: model_id"
is "$(fake_field 'all(r["headers"]["xi-api-key"] is True and "voice_settings" not in r["json"] for r in of("tts"))')" \
	true "elevenlabs: xi-api-key header; the voice's own settings"
unlike "$(cat "$T/e" "$T/e.err" "$FAKE_LOG")" "$FAKE_ELEVENLABS_KEY" "elevenlabs: the key is nowhere"

fake_reset
rm -f "$T"/s1/speech_*
$S --backend elevenlabs <"$T/in" >"$T/e2" 2>/dev/null
is "$(fake_field 'len(rs)')" 0 "cache: the same texts again send no request"
is "$(ls "$T/s1" | grep -c '^speech_[01]\.mp3$')" 2 "cache: the speech files are there all the same"

fake_reset
$S --backend elevenlabs --no-cache --voice Voice123 --elevenlabs-model eleven_flash_v2_5 \
	--elevenlabs-stability 0.3 --elevenlabs-similarity 0.6 <"$T/in" >/dev/null 2>&1
is "$(fake_field '[of("tts")[0]["path"], of("tts")[0]["json"]["model_id"], of("tts")[0]["json"]["voice_settings"]]')" \
	'["/v1/text-to-speech/Voice123", "eleven_flash_v2_5", {"similarity_boost": 0.6, "stability": 0.3}]' \
	"elevenlabs: --voice, --elevenlabs-model, voice_settings"

export PLAYCALL_NO_CACHE=1
fake_reset
fake_fault '{"endpoint":"tts","mode":"quota","count":-1}'
$S --backend elevenlabs <"$T/in" >"$T/q" 2>"$T/q.err"
is "$?" 0 "quota spent: exit 0 (the reel is made without commentary)"
is "$(field "$T/q" '[r["path"] for r in of("audio")]')" "[null, null]" "quota spent: audio with path null"
like "$(field "$T/q" '[r["message"] for r in of("status") if "quota" in r["message"]][0]')" \
	"no speech for highlight 0: ElevenLabs text-to-speech: HTTP 401 quota_exceeded: This request exceeds your quota" \
	"quota spent: a status record says so"
is "$(field "$T/q" 'len(of("error"))')" 0 "quota spent: not an error"
is "$(fake_field 'len(of("tts"))')" 2 "quota spent: not retried"

fake_reset
fake_fault '{"endpoint":"tts","mode":"429","retry_after":1}'
$S --backend elevenlabs --jobs 1 <"$T/in" >"$T/r" 2>/dev/null
is "$(field "$T/r" '[r["path"] is not None for r in of("audio")]')" "[true, true]" "429 + Retry-After: speech all the same"
num_cmp "$(fake_field '[b["t"] - a["t"] for a in of("tts") if a.get("status") == 429 for b in of("tts") if b["t"] > a["t"] and b["json"] == a["json"]][0]')" \
	">=" 0.98 "429 + Retry-After: the retry waited 1 s"

fake_reset
fake_fault '{"endpoint":"tts","mode":"500"}'
$S --backend elevenlabs <"$T/in" >"$T/r" 2>/dev/null
is "$(field "$T/r" '[r["path"] is not None for r in of("audio")] + [len(of("error"))]')" "[true, true, 0]" \
	"500 then success: speech, no error"

fake_reset
fake_fault '{"endpoint":"tts","mode":"malformed","count":-1}'
$S --backend elevenlabs <"$T/in" >"$T/m" 2>"$T/m.err"
is "$?" 0 "malformed: exit 0"
is "$(field "$T/m" '[r["path"] for r in of("audio")]')" "[null, null]" "malformed: path null"
like "$(field "$T/m" 'of("error")[0]["message"]')" "answer is not mp3 audio: it starts with '\{\"candidates" \
	"malformed: an error record says the answer is not audio"
is "$(ls "$T/s1" | grep -c '^\.')" 0 "malformed: no temporary file left"

fake_reset
fake_fault '{"endpoint":"tts","mode":"hang","count":-1}'
PLAYCALL_HTTP_TIMEOUT=1 PLAYCALL_HTTP_RETRIES=0 $S --backend elevenlabs <"$T/in" >"$T/h" 2>/dev/null
like "$(field "$T/h" 'of("error")[0]["message"]')" "no complete answer within 1 s" "no answer: a timeout error"
is "$(field "$T/h" '[r["path"] for r in of("audio")] + [len(of("session_end"))]')" "[null, null, 1]" \
	"no answer: path null, the stream goes on"

# ---- the manual's example ----
fake_reset
printf '%s\n' "$FAKE_ELEVENLABS_KEY" >"$T/el-key"
grep -v '"session_end"' "$T/in" >"$T/commentary.ndjson"
(cd "$T" && env -u ELEVENLABS_API_KEY ELEVENLABS_API_KEY_FILE="$T/el-key" \
	speak --backend elevenlabs --elevenlabs-format mp3_44100_64 <commentary.ndjson >"$T/ex" 2>/dev/null)
is "$?" 0 "example: the key from ELEVENLABS_API_KEY_FILE"
is "$(fake_field 'sorted(set(r["query"]["output_format"][0] for r in of("tts")))')" '["mp3_44100_64"]' \
	"example: output_format mp3_44100_64"
is "$(ffprobe -v error -show_entries stream=bit_rate -of csv=p=0 "$(field "$T/ex" 'of("audio")[0]["path"]')")" 64000 \
	"example: a 64 kb/s MP3"

# ---- openai ----
fake_reset
$S --backend openai <"$T/in" >"$T/o" 2>/dev/null
is "$?" 0 "openai: exit 0"
o0=$(field "$T/o" 'of("audio")[0]["path"]')
is "$o0 $(field "$T/o" 'of("audio")[0]["voice"]')" "$T/s1/speech_0.mp3 alloy" "openai: an MP3, the default voice"
num_near "$(probe_duration "$o0")" "$(field "$T/o" 'of("audio")[0]["speech_duration"]')" 0.05 "openai: speech_duration is the file's"
is "$(fake_field '[of("speech")[0]["json"][k] for k in ("model", "voice", "response_format")]')" \
	'["gpt-4o-mini-tts", "alloy", "mp3"]' "openai: model, voice, response_format"
num_near "$(fake_field 'of("speech")[0]["json"]["speed"]')" 0.994 0.01 "openai: the commentary's pace (2.9 words a second) as speed"

fake_reset
$S --backend openai --openai-format wav --voice nova <"$T/in" >"$T/o" 2>/dev/null
o0=$(field "$T/o" 'of("audio")[0]["path"]')
is "$o0" "$T/s1/speech_0.wav" "openai --openai-format wav: speech_0.wav"
is "$(head -c 4 "$o0")" RIFF "openai: a WAV file"
is "$(fake_field 'of("speech")[0]["json"]["voice"]')" nova "openai: --voice"

fake_reset
fake_fault '{"endpoint":"speech","mode":"quota","count":-1}'
$S --backend openai <"$T/in" >"$T/q" 2>/dev/null
is "$(field "$T/q" '[r["path"] for r in of("audio")] + [len(of("error"))]')" "[null, null, 0]" \
	"openai insufficient_quota: path null, a status, no error"

out=$(env -u ELEVENLABS_API_KEY $S --backend elevenlabs <"$T/in" 2>&1)
is "$?" 2 "no key: usage error"
like "$out" "ELEVENLABS_API_KEY" "no key: says which variable"
auto() { env -u ELEVENLABS_API_KEY -u OPENAI_API_KEY "$@" $S <"$T/in" 2>/dev/null | field /dev/stdin 'of("audio")[0]["speech_backend"]'; }
is "$(auto ELEVENLABS_API_KEY=$FAKE_ELEVENLABS_KEY)" elevenlabs "auto: elevenlabs when its key is set"
is "$(auto OPENAI_API_KEY=$FAKE_OPENAI_KEY)" openai "auto: openai when only its key is set"
done_testing
