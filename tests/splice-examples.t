#!/bin/sh
# The EXAMPLES of splice(1), as written there, on a generated match.
. "$(dirname "$0")/lib.sh"
for t in detect narrate speak splice; do
	command -v $t >/dev/null || skip_all "$t not built"
done
cd "$T"
make_video game.mp4 40 --bursts "8 27"

# detect game.mp4 | narrate | speak | splice
detect game.mp4 | narrate | speak | splice >one.ndjson 2>one.err
is "$?" 0 "whole job: exit status 0"
num_cmp "$(field one.ndjson 'len(of("chunk_ready"))')" ">=" 2 "whole job: chunks"
is "$(field one.ndjson 'of("complete")[0]["chunks"] == len(of("chunk_ready"))')" true "whole job: complete counts them"
[ -s "$(field one.ndjson 'of("complete")[0]["path"]')" ]; ok $? "whole job: the reel"

# detect game.mp4 | narrate | speak > audio.ndjson
# splice --duck 0.35 --jobs 1 < audio.ndjson
detect game.mp4 | narrate | speak >audio.ndjson
is "$?" 0 "spoken highlights kept"
splice <audio.ndjson >default.ndjson
first=$(field default.ndjson 'of("chunk_ready")[0]["path"]')
cp "$first" default_chunk.mp4
splice --duck 0.35 --jobs 1 <audio.ndjson >louder.ndjson
is "$?" 0 "cut again: exit status 0"
is "$(field louder.ndjson '[r["path"] for r in of("chunk_ready")]')" "$(field default.ndjson '[r["path"] for r in of("chunk_ready")]')" \
	"cut again: the same chunks"
# Before the speech (first 0.9 s) only the original sounds: 0.35 / 0.2 is +4.9 dB.
num_near "$(awk -v a="$(mean_volume "$first" 0 0.9)" -v b="$(mean_volume default_chunk.mp4 0 0.9)" 'BEGIN { print a - b }')" \
	4.9 1 "cut again: the crowd louder under the commentary"

# splice < audio.ndjson | grep '"type":"complete"'
out=$(splice <audio.ndjson | grep '"type":"complete"')
is "$(echo "$out" | wc -l)" 1 "the reels only: one line"
like "$out" '"final_video":"commentary_session_[0-9_a-f]+\.mp4"' "the reels only: it names the reel"
done_testing
