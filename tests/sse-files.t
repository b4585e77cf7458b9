#!/bin/sh
# GET/HEAD /videos/...: the output folder, with Range (206, 416), ETag and
# Last-Modified (304), content types and cache rules, keep-alive; and
# nothing outside it, however the path is spelled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sse-lib.sh"
CLIENT="python3 $PLAYCALL_SRC/tests/sse-client.py"

S="$PLAYCALL_OUT/streaming/s1"
mkdir -p "$S/sub" "$PLAYCALL_OUT/generated-videos" "$T/outside"
make_video "$S/chunk_0.mp4" 1
printf '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n' >"$S/stream.m3u8"
printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nGoal!\n' >"$S/chunk_0.vtt"
printf 'segment' >"$S/chunk_0.ts"
head -c 3000 /dev/urandom >"$S/speech_0.wav"
: >"$S/empty.mp4"
printf 'half' >"$S/.chunk_1.tmp-1-0.mp4"
printf 'TOP SECRET' >"$T/outside/secret.txt"
ln -s "$T/outside/secret.txt" "$S/leak.mp4"
ln -s chunk_0.mp4 "$S/same.mp4"
cp "$S/chunk_0.mp4" "$PLAYCALL_OUT/generated-videos/commentary_s1.mp4"
size=$(wc -c <"$S/chunk_0.mp4" | tr -d ' ')

sse_start
U="${SSE_URL}videos/streaming/s1"
hdr() { curl -s -D - -o /dev/null "$@" | tr -d '\r'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

curl -s -o "$T/got.mp4" "$U/chunk_0.mp4"
cmp -s "$T/got.mp4" "$S/chunk_0.mp4"; ok $? "GET: the file, byte for byte"
ffprobe -v error "$T/got.mp4"; ok $? "and ffprobe reads it"
h=$(hdr "$U/chunk_0.mp4")
like "$h" '^HTTP/1.1 200 OK' "200"
like "$h" "Content-Length: $size" "Content-Length is the size"
like "$h" 'Content-Type: video/mp4' "mp4 is video/mp4"
like "$h" 'Accept-Ranges: bytes' "Accept-Ranges: bytes"
like "$h" 'Cache-Control: public, max-age=31536000, immutable' "a chunk is immutable"
like "$h" 'ETag: "[0-9a-f-]+"' "an ETag"
like "$h" 'Last-Modified: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT' "a Last-Modified date"
etag=$(printf '%s' "$h" | sed -n 's/^ETag: //p')
lastmod=$(printf '%s' "$h" | sed -n 's/^Last-Modified: //p')

hp=$(hdr "$U/stream.m3u8")
like "$hp" 'Content-Type: application/vnd.apple.mpegurl' "m3u8: its type"
like "$hp" 'Cache-Control: no-cache' "the growing playlist is not cached"
like "$(hdr "$U/chunk_0.vtt")" 'Content-Type: text/vtt' "vtt: text/vtt"
like "$(hdr "$U/chunk_0.ts")" 'Content-Type: video/mp2t' "ts: video/mp2t"
like "$(hdr "$U/speech_0.wav")" 'Content-Type: audio/wav' "wav: audio/wav"
like "$(hdr "${SSE_URL}videos/generated-videos/commentary_s1.mp4")" '^HTTP/1.1 200' "the final video is served"

# HEAD: the same headers, no body.
curl -s -I -o /dev/null -w '%{size_download}' "$U/chunk_0.mp4" >"$T/n"
is "$(cat "$T/n")" 0 "HEAD: no body"
like "$(curl -s -I "$U/chunk_0.mp4" | tr -d '\r')" "Content-Length: $size" "HEAD: Content-Length of the GET"

# Range.
curl -s -D "$T/rh" -o "$T/r1" -H 'Range: bytes=0-99' "$U/chunk_0.mp4"
like "$(tr -d '\r' <"$T/rh")" '^HTTP/1.1 206 Partial Content' "Range: 206"
like "$(tr -d '\r' <"$T/rh")" "Content-Range: bytes 0-99/$size" "Content-Range of the first 100 bytes"
head -c 100 "$S/chunk_0.mp4" | cmp -s - "$T/r1"; ok $? "the first 100 bytes"
curl -s -o "$T/r2" -H 'Range: bytes=-100' "$U/chunk_0.mp4"
tail -c 100 "$S/chunk_0.mp4" | cmp -s - "$T/r2"; ok $? "bytes=-100: the last 100 bytes"
curl -s -o "$T/r3" -H "Range: bytes=$((size - 10))-" "$U/chunk_0.mp4"
tail -c 10 "$S/chunk_0.mp4" | cmp -s - "$T/r3"; ok $? "bytes=N-: to the end"
h416=$(curl -s -D - -o /dev/null -H "Range: bytes=$size-" "$U/chunk_0.mp4" | tr -d '\r')
like "$h416" '^HTTP/1.1 416' "a range past the end: 416"
like "$h416" "Content-Range: bytes \\*/$size" "with Content-Range: bytes */size"
is "$(code -H 'Range: bytes=0-1,5-6' "$U/chunk_0.mp4")" 200 "several ranges: the whole file (200)"
is "$(code -H 'Range: bytes=5-1' "$U/chunk_0.mp4")" 200 "a malformed range is ignored (200)"
is "$(code -H 'Range: bytes=0-0' -H 'If-Range: "other"' "$U/chunk_0.mp4")" 200 "If-Range with another ETag: the whole file"
is "$(code -H 'Range: bytes=0-0' -H "If-Range: $etag" "$U/chunk_0.mp4")" 206 "If-Range with this ETag: the range"
is "$(code -H 'Range: bytes=0-' "$U/empty.mp4")" 416 "any range of an empty file: 416"
is "$(code "$U/empty.mp4")" 200 "an empty file: 200"

# Conditional requests.
is "$(code -H "If-None-Match: $etag" "$U/chunk_0.mp4")" 304 "If-None-Match with the ETag: 304"
is "$(code -H "If-None-Match: \"x\", W/$etag" "$U/chunk_0.mp4")" 304 "a weak ETag in a list: 304"
is "$(code -H 'If-None-Match: "x"' "$U/chunk_0.mp4")" 200 "another ETag: 200"
is "$(code -H "If-Modified-Since: $lastmod" "$U/chunk_0.mp4")" 304 "If-Modified-Since its date: 304"
is "$(code -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$U/chunk_0.mp4")" 200 "an older date: 200"
h304=$(hdr -H "If-None-Match: $etag" "$U/chunk_0.mp4")
like "$h304" "ETag: $etag" "a 304 repeats the ETag"
unlike "$h304" 'Content-Length: [1-9]' "a 304 has no body"

# Keep-alive: two requests, one connection.
curl -sv -o /dev/null -o /dev/null "$U/chunk_0.vtt" "$U/stream.m3u8" 2>"$T/kv"
grep -qi 're-using existing connection' "$T/kv"; ok $? "HTTP/1.1 keep-alive: curl reused the connection"
two=$(printf 'GET /videos/streaming/s1/chunk_0.vtt HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	$CLIENT raw "$SSE_URL" 3 | tr -d '\r')
is "$(printf '%s' "$two" | grep -c '^HTTP/1.1 200')" 2 "two pipelined requests: two answers"
like "$(printf '%s' "$two" | tail -n 1)" '^ok$' "in order"
one=$(printf 'GET /healthz HTTP/1.0\r\n\r\n' | $CLIENT raw "$SSE_URL" 3 | tr -d '\r')
like "$one" 'Connection: close' "HTTP/1.0 without keep-alive: closed after the answer"

# Nothing outside the output folder.
is "$(code "$U/leak.mp4")" 403 "a symlink leading out: 403"
is "$(code "$U/same.mp4")" 200 "a symlink staying inside: 200"
is "$(code --path-as-is "${SSE_URL}videos/../../outside/secret.txt")" 403 "../: 403"
is "$(code --path-as-is "${SSE_URL}videos/streaming/s1/../../../outside/secret.txt")" 403 "../ deeper: 403"
is "$(code "${SSE_URL}videos/%2e%2e/%2e%2e/outside/secret.txt")" 403 "%2e%2e: 403"
is "$(code "${SSE_URL}videos/%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt")" 403 "%2E%2E%2F: 403"
is "$(code "${SSE_URL}videos/%2Fetc%2Fpasswd")" 403 "an absolute path (%2F): 403"
is "$(code --path-as-is "${SSE_URL}videos//etc/passwd")" 403 "an absolute path (//): 403"
is "$(code "${SSE_URL}videos/streaming/s1/chunk_0.mp4%00.txt")" 400 "%00: 400"
is "$(code "${SSE_URL}videos/streaming/s1/%5C..%5Cx")" 400 "backslashes: 400"
is "$(code "${SSE_URL}videos/streaming/s1/.chunk_1.tmp-1-0.mp4")" 403 "a file still being written (hidden): 403"
is "$(code "${SSE_URL}videos/streaming/s1")" 403 "a folder: 403 (no listing)"
is "$(code "${SSE_URL}videos/streaming/s1/nope.mp4")" 404 "a missing file: 404"
raw=$(printf 'GET /videos/../../outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | $CLIENT raw "$SSE_URL" 3)
unlike "$raw" 'TOP SECRET' "a raw ../ request does not leak the file"
like "$raw" '^HTTP/1.1 403' "it is refused"
for u in "$U/leak.mp4" "${SSE_URL}videos/%2e%2e/%2e%2e/outside/secret.txt"; do
	curl -s "$u" | grep -q 'TOP SECRET' && fail "no leak through $u" || pass "no leak through $u"
done
sse_stop
done_testing
