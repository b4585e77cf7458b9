#!/bin/sh
# The whole pipe on the cloud backends against tests/fake-api.py: Gemini +
# ElevenLabs, and the OpenAI-compatible path, to the final reel; every
# record says which backend made it, and no key shows anywhere.
. "$(dirname "$0")/lib.sh"
detect --help 2>&1 | grep -q -- '--gemini-model' || skip_all "detect has no gemini backend"
narrate --backend gemini </dev/null 2>&1 | grep -q 'no such backend' && skip_all "narrate has no gemini backend"
speak --help 2>&1 | grep -q -- '--elevenlabs-model' || skip_all "speak has no elevenlabs backend"
make_video "$T/m.mp4" 30 --bursts "7 23"
fake_api_start || { echo "1..0 # SKIP the fake API did not start"; exit 0; }

# ---- auto: every key set, so Gemini and ElevenLabs ----
detect --first-interval 5 --interval 10 --json "$T/m.mp4" 2>"$T/err" | tee "$T/g.det" | narrate --json 2>>"$T/err" |
	speak --json 2>>"$T/err" | splice --json >"$T/g" 2>>"$T/err"
is "$?" 0 "gemini + elevenlabs: the pipe exits 0"
is "$(field "$T/g.det" 'sorted(set(r["backend"] for r in of("events")))')" '["gemini"]' "events by gemini"
is "$(field "$T/g" 'len(of("chunk_ready")) >= 2 and len(of("complete")) == 1')" true "chunks, then complete"
final=$(field "$T/g" 'of("complete")[0]["path"]')
ok "$([ -s "$final" ]; echo $?)" "the final reel exists"
is "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$final" | grep -E 'audio|video' | sort -u | tr '\n' ' ')" \
	"audio video " "the reel has sound and picture"
is "$(fake_field '[len(of("upload_start")), len([r for r in of("generate") if "inlineData" in r["json"]["contents"][0]["parts"][0]]) > 0, len(of("tts"))]')" \
	"[0, true, $(field "$T/g" 'len(of("chunk_ready"))')]" "no upload, analyses with the video inline, and a speech per chunk"
asked=$(fake_field 'len([r for r in of("generate") if "text" in r["json"]["contents"][0]["parts"][0]])')
num_cmp "$asked" "<" "$(field "$T/g" 'len(of("chunk_ready"))')" \
	"the analysis's own lines were said: fewer commentary requests than highlights"
unlike "$(cat "$T/g" "$T/err" "$FAKE_LOG")" "$FAKE_GEMINI_KEY|$FAKE_ELEVENLABS_KEY|$FAKE_OPENAI_KEY" \
	"no key in any record, message or log"

# ---- the OpenAI-compatible path ----
fake_reset
detect --backend openai --first-interval 5 --interval 10 --json "$T/m.mp4" 2>/dev/null | tee "$T/o.det" |
	PLAYCALL_NARRATE_LINES=ask narrate --backend openai --json 2>/dev/null |
	speak --backend openai --json 2>/dev/null | splice --json >"$T/o" 2>/dev/null
is "$?" 0 "openai: the pipe exits 0"
is "$(field "$T/o.det" 'sorted(set(r["backend"] for r in of("events")))') $(field "$T/o" 'len(of("complete"))')" '["openai"] 1' \
	"openai: events by openai, then complete"
frames='any(p.get("type") == "image_url" for m in r["json"]["messages"] if isinstance(m["content"], list) for p in m["content"])'
is "$(fake_field "len([r for r in of('chat') if $frames])")" "$(field "$T/o.det" 'len(of("events"))')" \
	"openai: frames through chat, a request per interval"
is "$(fake_field "len([r for r in of('chat') if not ($frames)]) == len(of('speech')) > 0")" true \
	"openai: commentary through chat, and a speech for each"
done_testing
