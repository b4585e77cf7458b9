#!/bin/sh
# Cron batch job: make the narrated reel of every new video dropped into an
# inbox folder, offline, one at a time, and sweep old sessions.
#   playcall-batch.sh INBOX [OUT]
# Installed as  install -m 755 examples/playcall-batch.sh /usr/local/bin/playcall-batch
# an /etc/cron.d line (every 10 minutes, as www-data) reads:
#   */10 * * * *  www-data  /usr/local/bin/playcall-batch /srv/playcall/inbox /srv/playcall/videos
# Each video is done once: moved to INBOX/done/ when its reel is made, to
# INBOX/failed/ when not; its records are kept in OUT/batch/NAME.ndjson.
# Runs never overlap (flock).  Sessions and reels in which nothing changed
# for PLAYCALL_MAX_AGE (default 7d) are removed by `sse-serve --sweep`.
# Exit status: 0 all went well (or another run is busy), 1 some video failed.
set -eu
inbox=${1:?usage: playcall-batch.sh INBOX [OUT]}
export PLAYCALL_OUT="${2:-${PLAYCALL_OUT:-./videos}}"
mkdir -p "$inbox/done" "$inbox/failed" "$PLAYCALL_OUT/batch"
exec 9>"$inbox/.playcall-batch.lock"
if ! flock -n 9; then
	echo "playcall-batch: another run is busy" >&2
	exit 0
fi
status=0
for video in "$inbox"/*; do
	[ -f "$video" ] || continue
	name=$(basename "$video")
	log="$PLAYCALL_OUT/batch/$name.ndjson"
	detect "$video" | narrate | speak | splice >"$log" 2>>"$PLAYCALL_OUT/batch/errors.log" || true
	# The pipeline's status is splice's; its records say how it went.
	final=$(sed -n 's/.*"type":"complete".*"url":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
	if [ -n "$final" ]; then
		mv -- "$video" "$inbox/done/"
		echo "playcall-batch: $name: $final"
	else
		mv -- "$video" "$inbox/failed/"
		echo "playcall-batch: $name: no reel, see $log" >&2
		status=1
	fi
done
sse-serve --sweep --max-age "${PLAYCALL_MAX_AGE:-7d}" --out "$PLAYCALL_OUT" >/dev/null
exit $status
