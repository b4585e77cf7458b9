#!/bin/sh
# The main job, from a fresh Debian machine (as root): install what playcall
# needs, build and install it, make a sample match video, narrate it into a
# highlight reel, and serve the stream with its player page.
#   sh examples/quickstart.sh            # then open the printed URL
#   PORT=8080 sh examples/quickstart.sh
set -eu
cd "$(dirname "$0")/.."
sh .ci/install-deps run
make -j2
make install
work=${WORK:-/tmp/playcall-demo}
mkdir -p "$work/media"
sample="$work/media/sample-match.mp4"
if [ ! -s "$sample" ]; then
	echo "making a 133 s sample match video with three crowd roars: $sample"
	ffmpeg -nostdin -v error -y \
		-f lavfi -i "testsrc2=size=1280x720:rate=25:duration=133" \
		-f lavfi -i "anoisesrc=color=pink:amplitude=0.03:sample_rate=44100:duration=133:seed=7,volume=volume='1+25*(between(t,23,24.2)+between(t,61,62.2)+between(t,104,105.2))':eval=frame" \
		-c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$sample"
fi
export PLAYCALL_OUT="$work/videos"
echo "narrating: detect | narrate | speak | splice"
detect "$sample" | narrate | speak | splice --json | tee "$work/records.ndjson" | sed -n "/\"type\":\"complete\"/p"
port=${PORT:-8000}
echo "serving: open http://127.0.0.1:$port/ (pick sample-match.mp4), or"
echo "         curl -N http://127.0.0.1:$port/analyze-stream/sample-match.mp4"
exec sse-serve -l "127.0.0.1:$port" --out "$PLAYCALL_OUT" --media "$work/media" \
	--exec 'detect "$1" | narrate | speak | splice'
