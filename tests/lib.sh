# Shared shell library for the TAP tests.  Source it, then call plan/ok/is.
# Each test gets a scratch folder ($T) removed at exit, and generated videos
# (ffmpeg lavfi) cached per run under $T.
set -u
: "${PLAYCALL_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PLAYCALL_BUILD:=$PLAYCALL_SRC/build}"
export PATH="$PLAYCALL_BUILD/bin:$PATH"
export PLAYCALL_DATA="${PLAYCALL_DATA:-$PLAYCALL_SRC/data}"
# Tests never reach the internet, and never see the developer's keys.
unset GEMINI_API_KEY ELEVENLABS_API_KEY OPENAI_API_KEY GEMINI_API_KEY_FILE ELEVENLABS_API_KEY_FILE OPENAI_API_KEY_FILE
T=$(mktemp -d "${TMPDIR:-/tmp}/playcall-test.XXXXXX")
export XDG_CACHE_HOME="$T/cache"
export PLAYCALL_OUT="$T/videos"
cleanup() { [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
_tap_n=0
_tap_failed=0

plan() { echo "1..$1"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }
diag() { printf '# %s\n' "$@"; }
ok() { # ok CONDITION_EXIT_STATUS NAME
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }
is() { # is GOT EXPECTED NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"; diag "got:      '$1'" "expected: '$2'"; fi
}
isnt() { if [ "$1" != "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got: '$1' (unwanted)"; fi; }
like() { # like GOT ERE NAME
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; diag "got:      '$1'" "expected to match: $2"; fi
}
unlike() { if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; diag "got: '$1'" "matched: $2"; else ok 0 "$3"; fi; }
# num_near GOT WANT TOLERANCE NAME
num_near() {
	if awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'; then
		ok 0 "$4"; else ok 1 "$4"; diag "got: '$1'  expected: $2 ± $3"; fi
}
# num_cmp GOT OP VALUE NAME   (OP: < <= > >=)
num_cmp() {
	if awk -v g="$1" -v v="$3" -v op="$2" 'BEGIN { if (g == "") exit 1;
		if (op == "<") exit !(g < v); if (op == "<=") exit !(g <= v);
		if (op == ">") exit !(g > v); if (op == ">=") exit !(g >= v); exit 1 }'; then
		ok 0 "$4"; else ok 1 "$4"; diag "got: '$1'  expected: $2 $3"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# jqr FILTER [FILE]: select from NDJSON with python (jq is not a dependency).
# FILTER is a python expression over r (the record); prints matches as JSON.
recs() { # recs TYPE FILE -> those records, one per line
	python3 -c '
import json, sys
for line in open(sys.argv[2]):
    line = line.strip()
    if not line: continue
    r = json.loads(line)
    if sys.argv[1] in ("*", r.get("type")): print(json.dumps(r))' "$1" "$2"
}
# field FILE EXPR: evaluate a python expression with `rs` = list of records.
field() {
	python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def of(t): return [r for r in rs if r.get("type") == t]
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

# Generated media.  make_video OUT DURATION [OPTIONS...]
#   --bursts "23 61"   loud 1.2 s noise bursts at those times over quiet tone
#   --noaudio          no audio stream
#   --size WxH, --rate N, --vcodec C (libx264 default), --cuts "10 20" scene cuts
make_video() {
	out=$1 dur=$2; shift 2
	bursts="" noaudio="" size=320x180 rate=25 vcodec=libx264 cuts=""
	while [ $# -gt 0 ]; do case $1 in
		--bursts) bursts=$2; shift ;; --noaudio) noaudio=1 ;;
		--size) size=$2; shift ;; --rate) rate=$2; shift ;;
		--vcodec) vcodec=$2; shift ;; --cuts) cuts=$2; shift ;;
		*) echo "make_video: bad option $1" >&2; return 2 ;; esac; shift; done
	# Video: a moving test pattern; each cut switches to a different source.
	vf="testsrc2=size=$size:rate=$rate:duration=$dur"
	if [ -n "$cuts" ]; then
		expr=0; for c in $cuts; do expr="$expr+gte(t\\,$c)"; done
		vf="testsrc2=size=$size:rate=$rate:duration=$dur,hue=h='mod(($expr)*97\\,360)':s='1+mod($expr\\,2)'"
	fi
	if [ -n "$noaudio" ]; then
		ffmpeg -nostdin -v error -y -f lavfi -i "$vf" -c:v "$vcodec" -g 50 -pix_fmt yuv420p "$out"
		return
	fi
	# Audio: a quiet crowd murmur (low pink noise), plus loud bursts.
	af="anoisesrc=color=pink:amplitude=0.03:sample_rate=44100:duration=$dur:seed=7"
	if [ -n "$bursts" ]; then
		expr=0; for b in $bursts; do expr="$expr+between(t\\,$b\\,$b+1.2)"; done
		af="$af,volume=volume='1+25*($expr)':eval=frame"
	fi
	ffmpeg -nostdin -v error -y -f lavfi -i "$vf" -f lavfi -i "$af" \
		-c:v "$vcodec" -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k -shortest "$out"
}
# probe_duration FILE [STREAM]: seconds from ffprobe
probe_duration() {
	ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}

# ---- the fake cloud APIs (tests/fake-api.py) ----
# fake_api_start [FAKE OPTIONS...]: start the fake on a random loopback port,
# point every *_BASE_URL at it, set test keys (FAKE_GEMINI_KEY, ...; the
# fake checks them; OpenAI requests may also come without a key, as to a
# local server), and stop it at exit.  FAKE_URL, FAKE_LOG are set.
FAKE_GEMINI_KEY=AIza-fake-gemini-key-0001
FAKE_OPENAI_KEY=sk-fake-openai-key-0002
FAKE_ELEVENLABS_KEY=xi-fake-elevenlabs-key-0003
fake_api_start() {
	FAKE_LOG=$T/fake-api.log
	rm -f "$T/fake-api.port"
	python3 "$PLAYCALL_SRC/tests/fake-api.py" --port-file "$T/fake-api.port" --log "$FAKE_LOG" \
		--expect-key "gemini=$FAKE_GEMINI_KEY" --expect-key "openai=$FAKE_OPENAI_KEY" \
		--expect-key "elevenlabs=$FAKE_ELEVENLABS_KEY" --openai-keyless "$@" >"$T/fake-api.out" 2>&1 &
	FAKE_PID=$!
	trap 'fake_api_stop; cleanup' EXIT
	_i=0
	while [ ! -s "$T/fake-api.port" ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -s "$T/fake-api.port" ] || { echo "# fake-api did not start:"; sed 's/^/# /' "$T/fake-api.out"; return 1; }
	FAKE_URL="http://127.0.0.1:$(cat "$T/fake-api.port")"
	export GEMINI_BASE_URL="$FAKE_URL" ELEVENLABS_BASE_URL="$FAKE_URL" OPENAI_BASE_URL="$FAKE_URL/v1"
	export GEMINI_API_KEY="$FAKE_GEMINI_KEY" OPENAI_API_KEY="$FAKE_OPENAI_KEY" ELEVENLABS_API_KEY="$FAKE_ELEVENLABS_KEY"
}
fake_api_stop() {
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}
# fake_fault JSON: add a fault ({"endpoint": "generate", "mode": "500"}, ...)
fake_fault() { curl -sf -X POST -H 'Content-Type: application/json' --data "$1" "$FAKE_URL/_fake/fault" >/dev/null; }
# fake_reset: no faults, an empty log
fake_reset() { curl -sf -X POST --data '{}' "$FAKE_URL/_fake/reset" >/dev/null; }
# fake_field EXPR: a python expression over `rs` (the fake's log records)
# and `of(endpoint)` (those of one endpoint), printed as JSON unless a string.
fake_field() {
	python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def of(e): return [r for r in rs if r.get("endpoint") == e]
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$FAKE_LOG" "$1"
}

# ---- audio levels ----
# mean_volume FILE [START [LENGTH]]: mean level (dB) of the first audio
# stream, over [START, START+LENGTH] when given (ffmpeg volumedetect).
mean_volume() {
	ffmpeg -nostdin -v info ${2:+-ss "$2"} ${3:+-t "$3"} -i "$1" -map 0:a:0 -af volumedetect -f null - 2>&1 |
		awk '/mean_volume:/ { print $(NF-1) }'
}
# make_tone OUT SECONDS: a loud 440 Hz tone, mono 22050 Hz WAV like
# espeak-ng's: a stand-in for speech whose level nothing else can reach.
make_tone() {
	ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=440:sample_rate=22050:duration=$2" \
		-af volume=4 -c:a pcm_s16le "$1"
}

# ---- records, as the stages before splice write them ----
# session_rec ID SOURCE: a session record, its folder $PLAYCALL_OUT/streaming/ID
session_rec() {
	printf '{"type":"session","session":"%s","source":"%s","dir":"%s"}\n' "$1" "$2" "$PLAYCALL_OUT/streaming/$1"
}
# audio_rec ID INDEX START END SPEECH SECONDS: an audio record ("tINDEX" said)
audio_rec() {
	printf '{"type":"audio","session":"%s","index":%s,"start":%s,"end":%s,"text":"t%s","path":"%s","speech_duration":%s}\n' \
		"$1" "$2" "$3" "$4" "$2" "$5" "$6"
}
