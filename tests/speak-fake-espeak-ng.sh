#!/bin/sh
# A stand-in for espeak-ng, put first on PATH by the speak tests (as
# "espeak-ng").  It logs each call to $FAKE_ESPEAK_LOG:
#   start <epoch> <id> voice=<v> rate=<r> out=<path> final_exists=<yes|no>
#   end <epoch> <id>
# where <id> is the "i=N" in the text; it sleeps for "sleep=S" in the text,
# fails for "FAIL" (exit 1, espeak-like message), and otherwise copies
# $FAKE_WAV to the -w file (created empty at the start, as espeak-ng does).
voice= rate= out= text=
while [ $# -gt 0 ]; do
	case $1 in
	-v) voice=$2; shift ;;
	-s) rate=$2; shift ;;
	-w) out=$2; shift ;;
	-b) shift ;;
	--) text=$2; break ;;
	esac
	shift
done
id=$(printf '%s' "$text" | sed -n 's/.*i=\([0-9]*\).*/\1/p')
secs=$(printf '%s' "$text" | sed -n 's/.*sleep=\([0-9.]*\).*/\1/p')
# The name speak will rename the file to: .speech_3.tmp-PID-N.wav -> speech_3.wav
final=$(printf '%s' "$out" | sed 's|/\.\(speech_[0-9]*\)\.tmp-[^/]*\.wav$|/\1.wav|')
exists=no
[ "$final" != "$out" ] && [ -e "$final" ] && exists=yes
# Like espeak-ng, open the output at once and fill it at the end.
: >"$out"
echo "start $(date +%s.%N) $id voice=$voice rate=$rate out=$out final_exists=$exists" >>"$FAKE_ESPEAK_LOG"
[ -n "$secs" ] && sleep "$secs"
case $text in *FAIL*)
	echo "Error: fake espeak-ng refuses this text" >&2
	echo "end $(date +%s.%N) $id" >>"$FAKE_ESPEAK_LOG"
	exit 1 ;;
esac
cp "$FAKE_WAV" "$out" || exit 2
echo "end $(date +%s.%N) $id" >>"$FAKE_ESPEAK_LOG"
