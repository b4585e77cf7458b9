# Shared by the speak tests: inputs, the fake espeak-ng, log readers.
. "$(dirname "$0")/lib.sh"

# session_rec ID: the session record as detect writes it.
session_rec() {
	printf '{"type":"session","session":"%s","source":"/nowhere/%s.mp4","duration":300,"interval":30,"intervals":10,"dir":"%s","backend":"local","has_video":true,"has_audio":true}\n' \
		"$1" "$1" "$PLAYCALL_OUT/streaming/$1"
}
session_end() { printf '{"type":"session_end","session":"%s","intervals":10}\n' "$1"; }
# commentary SESSION INDEX TEXT [,"more":"fields"]; the language is $C_LANG (en).
commentary() {
	printf '{"type":"commentary","session":"%s","index":%d,"start":%d,"end":%d,"text":"%s","events":[{"t":%d,"kind":"crowd","label":"roar","score":0.9}],"backend":"local","wps":2.9,"lang":"%s","style":"excited"%s}\n' \
		"$1" "$2" $(($2 * 20)) $(($2 * 20 + 12)) "$3" $(($2 * 20 + 5)) "${C_LANG:-en}" "${4:-}"
}

# use_fake_espeak: the logging stand-in first on PATH (tests/speak-fake-espeak-ng.sh).
use_fake_espeak() {
	mkdir -p "$T/fakebin"
	cp "$PLAYCALL_SRC/tests/speak-fake-espeak-ng.sh" "$T/fakebin/espeak-ng"
	chmod +x "$T/fakebin/espeak-ng"
	export FAKE_ESPEAK_LOG="$T/espeak.log" FAKE_WAV="$T/fake.wav"
	: >"$FAKE_ESPEAK_LOG"
	ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=22050" \
		-ac 1 -c:a pcm_s16le "$FAKE_WAV"
	export PATH="$T/fakebin:$PATH"
}
fake_calls() { grep -c '^start' "$FAKE_ESPEAK_LOG"; }
# max_overlap: the most fake syntheses that ran at the same time.
max_overlap() {
	python3 -c '
import sys
ev = []
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] in ("start", "end"):
        ev.append((float(f[1]), 0 if f[0] == "end" else 1))
ev.sort()
n = best = 0
for t, kind in ev:
    n += 1 if kind else -1
    best = max(best, n)
print(best)' "$FAKE_ESPEAK_LOG"
}
# shape FILE [SESSION]: "type:index" of each record, in order.
shape() {
	python3 -c '
import json, sys
out = []
for line in open(sys.argv[1]):
    if not line.strip(): continue
    r = json.loads(line)
    if len(sys.argv) > 2 and r.get("session") != sys.argv[2]: continue
    out.append(r["type"] + (":%d" % r["index"] if isinstance(r.get("index"), int) else ""))
print(" ".join(out))' "$@"
}
