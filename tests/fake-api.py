#!/usr/bin/env python3
"""A fake of the cloud services playcall talks to, for tests and the bench.

Listens on 127.0.0.1 (a random port unless --port) and serves:

  Gemini (GEMINI_BASE_URL=http://127.0.0.1:PORT)
    POST /upload/v1beta/files                      resumable upload: start
    POST /upload/v1beta/files?upload_id=ID         upload / upload, finalize / query
    GET  /v1beta/files/ID                          files.get
    POST /v1beta/models/MODEL:generateContent      video analysis (an uploaded file, or the
                                                   video inline, at most 20 MB a request) or text
  OpenAI-compatible (OPENAI_BASE_URL=http://127.0.0.1:PORT/v1)
    POST /v1/chat/completions                      frames (image_url) or text
    POST /v1/audio/speech
  ElevenLabs (ELEVENLABS_BASE_URL=http://127.0.0.1:PORT)
    POST /v1/text-to-speech/VOICE_ID?output_format=...

Every request is checked against the public API references (method, path,
key header, content type, JSON fields; Gemini's camelCase and snake_case
both) and answered 400 (or the service's own status) with a message saying
what is wrong.  Every request is logged as one JSON line (--log): arrival
time, method, path, query, headers (key headers only as true/false), the
JSON body (binary bodies as their length), the status answered and the fault
applied.

Faults, per endpoint (upload_start, upload, upload_query, files_get,
generate, chat, speech, tts, or *), from --faults FILE (a JSON list) or
POST /_fake/fault with one object:
  {"endpoint": "generate", "mode": MODE, "count": 1, "skip": 0, "match": "..."}
  MODE: slow (delay), status (status, message, retry_after, retry_after_date,
  retry_delay), 429 (Retry-After: retry_after), 500, quota, malformed, reset
  (reset_after: bytes of the body read first), hang, failed (files_get: the
  file's processing failed).  count -1: every time.  skip: let that many
  matching requests through first.  match: only requests whose path or body
  contains the string.
POST /_fake/reset clears faults and the log; GET /_fake/log returns it;
GET /_fake/stats counts requests per endpoint.

Latency model (--latency; --scale multiplies the times): one uplink of
--uplink bytes/s (default 4.3 MB/s) shared by every request body and upload
(a global token bucket over received body bytes, so parallel requests share
it); video analysis 2 s + 0.2 s per second of video in the request (the
videoMetadata window, else the file's duration; for frames, the span they
cover); 3 s per text generation; 3 s per speech.

Answers are deterministic.  Video analysis events come from the loudness of
the uploaded audio (ffmpeg astats over 0.1 s windows, computed once per
file): a loud run is a "crowd" roar at its onset (a "goal" when very loud, a
"whistle" when short), reported for the requested window only, so the
events of a moment are the same whatever way the video was split.  Frames
without sound give "chance" moments on a fixed 20 s grid of match time.
Speech is a real audio file (made once per length and format with ffmpeg)
whose length grows with the number of words.
"""
import argparse
import base64
import binascii
import email.utils
import hashlib
import http.server
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

KEY_HEADERS = ("x-goog-api-key", "authorization", "xi-api-key")
ANALYSIS_WORKERS = 2    # files listened to at once (the machine's cores)
STOP = threading.Event()


# ---------------------------------------------------------------- state

class Uplink:
    """One shared link: bytes are admitted in arrival order at rate bytes/s."""

    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.free_at = 0.0

    def consume(self, n):
        if not self.rate or n <= 0:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.free_at)
            self.free_at = start + n / self.rate
            until = self.free_at
        wait = until - time.monotonic()
        if wait > 0:
            time.sleep(wait)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.faults = []
        self.files = {}          # id -> dict
        self.uploads = {}        # upload id -> dict
        self.counter = 0
        self.stats = {}
        self.log_lock = threading.Lock()
        self.log_lines = []
        self.store = args.store or tempfile.mkdtemp(prefix="fake-api-")
        self.own_store = not args.store
        os.makedirs(self.store, exist_ok=True)
        self.uplink = Uplink(args.uplink if args.uplink is not None else (4.3e6 if args.latency else 0))
        self.audio_cache = {}
        self.audio_lock = threading.Lock()
        self.work = queue.Queue()
        for _ in range(ANALYSIS_WORKERS):
            threading.Thread(target=self.worker, daemon=True).start()

    def worker(self):
        while True:
            FileStore.analyse(self.work.get())

    def next_id(self, prefix):
        with self.lock:
            self.counter += 1
            return "%s%06d%s" % (prefix, self.counter, hashlib.sha1(str(time.time()).encode()).hexdigest()[:6])

    def add_fault(self, f):
        f = dict(f)
        f.setdefault("count", 1)
        f.setdefault("skip", 0)
        f.setdefault("endpoint", "*")
        with self.lock:
            self.faults.append(f)

    def take_fault(self, endpoint, path, body):
        """The first fault for this request; body None: before the body is read."""
        with self.lock:
            for f in self.faults:
                if f["endpoint"] not in ("*", endpoint) or f["count"] == 0:
                    continue
                m = f.get("match")
                if body is None and m and m not in path:
                    continue
                if body is not None and (not m or m in path or m.encode() not in body):
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                return dict(f)
        return None

    def log(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.log_lock:
            self.log_lines.append(line)
            if self.args.log:
                with open(self.args.log, "a") as fp:
                    fp.write(line + "\n")
            self.stats[entry.get("endpoint", "?")] = self.stats.get(entry.get("endpoint", "?"), 0) + 1

    def reset(self):
        with self.lock:
            self.faults = []
        with self.log_lock:
            self.log_lines = []
            self.stats = {}
            if self.args.log:
                open(self.args.log, "w").close()

    def delay(self, seconds):
        """Sleep for a modelled latency (scaled), waking early on shutdown."""
        if seconds > 0:
            STOP.wait(seconds * self.args.scale)

    def delay_from(self, since, seconds):
        """The modelled latency counted from since (time.time()): the fake's
        own work on the answer is inside it, not on top of it."""
        if seconds > 0:
            STOP.wait(max(0.0, since + seconds * self.args.scale - time.time()))


# ---------------------------------------------------------------- media

def run(argv, timeout=120):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, check=False)


def probe_duration(path):
    p = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path])
    try:
        return float(p.stdout.decode().strip())
    except ValueError:
        return 0.0


def loudness(path):
    """RMS level (dBFS) per 0.1 s of the file's audio: [(t, db)]; [] without audio."""
    p = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vn", "-map", "0:a:0?", "-af",
             "aresample=8000,asetnsamples=n=800:p=0,astats=metadata=1:reset=1,"
             "ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-",
             "-f", "null", "-"], timeout=300)
    out, t = [], None
    for line in p.stdout.decode(errors="replace").splitlines():
        m = re.search(r"pts_time:([0-9.]+)", line)
        if m:
            t = float(m.group(1))
            continue
        m = re.search(r"RMS_level=(-?[0-9.]+|-inf)", line)
        if m and t is not None:
            v = m.group(1)
            out.append((t, -120.0 if v == "-inf" else float(v)))
    return out


GEMINI_REQUEST_MAX = 20 * 1024 * 1024   # generateContent with inline data


LOUD_DB = -20.0     # a 0.1 s window this loud is part of a roar
GOAL_DB = -17.0     # a long roar peaking this loud is a goal
GAP = 1.0           # loud windows closer than this are one roar


def moments_from_loudness(series):
    """[(t, kind, label, score)] at the onset of each loud run, in file time.

    A file that starts loud (a piece of the video cut mid-roar) reports the
    roar at 0, as a model shown that clip would."""
    runs, cur = [], None
    for t, db in series:
        if db >= LOUD_DB:
            if cur and t - cur[1] <= GAP:
                cur[1] = t
                cur[2] = max(cur[2], db)
            else:
                cur = [t, t, db]
                runs.append(cur)
    out = []
    for start, end, peak in runs:
        length = end - start + 0.1
        score = round(min(1.0, max(0.05, (peak + 40.0) / 28.0)), 3)
        if peak >= GOAL_DB and length >= 1.0:
            out.append((start, "goal", "goal, the crowd erupts", max(score, 0.9)))
        elif length < 0.5:
            out.append((start, "whistle", "the referee's whistle", round(score * 0.6, 3)))
        else:
            out.append((start, "crowd", "crowd roar", score))
    return out


LINES = {
    "goal": ["GOAL! The stadium erupts!", "It's in! What a finish!", "They've scored, and the crowd goes wild!",
             "Into the net it goes!", "A goal, and what a goal!", "The keeper had no chance there!",
             "That one flies in! Scenes!", "Back of the net!"],
    "crowd": ["Listen to that roar from the stands!", "The crowd is on its feet!", "Huge noise as the pressure builds!",
              "The fans sense something here!", "What an atmosphere now!", "The stands are rocking!"],
    "whistle": ["There's the whistle.", "The referee blows for a stoppage.", "A sharp whistle stops play.",
                "The referee steps in."],
    "chance": ["A chance opens up here!", "They break forward with real menace!", "Space in behind, a real opening!",
               "Here comes the attack!", "Danger in the box!"],
    "motion": ["Quick passing through midfield.", "They move it swiftly up the pitch.", "The tempo lifts again."],
}


def line_for(kind, t, salt=b""):
    """A model's line: it varies from moment to moment (and clip to clip)."""
    lines = LINES.get(kind, LINES["motion"])
    return lines[int(hashlib.sha1(salt + ("%s %.1f" % (kind, t)).encode()).hexdigest()[:8], 16) % len(lines)]


class FileStore:
    @staticmethod
    def create(state, up):
        path = up["path"]
        f = {
            "id": up["id"], "path": path, "mime": up["mime"], "display_name": up["display_name"],
            "size": up["received"], "duration": None, "created": time.time(),
            "active_at": time.time() + state.args.processing * state.args.scale,
            "failed": False, "moments": None, "lock": threading.Lock(), "probed": threading.Event(),
            "sha256": hashlib.sha256(open(path, "rb").read()).digest(),
        }
        # What a service does with a new file (its length, what a model
        # would hear in it) is done in the background, one file at a time
        # in the order they came (so many uploads do not fight over the
        # CPU): the upload is answered at once, and a request waits for
        # this only if it comes first.
        with state.lock:
            state.files[f["id"]] = f
        state.work.put(f)
        return f

    @staticmethod
    def duration(f):
        f["probed"].wait()
        return f["duration"]

    @staticmethod
    def analyse(f):
        with f["lock"]:
            if f["moments"] is None:
                series = loudness(f["path"])
                f["moments"] = moments_from_loudness(series)
                # The audio's last window ends the file; without audio, ask.
                f["duration"] = series[-1][0] + 0.1 if series else probe_duration(f["path"])
                f["probed"].set()

    @staticmethod
    def moments(f):
        FileStore.analyse(f)
        return f["moments"]

    @staticmethod
    def resource(state, f, host):
        st = "ACTIVE" if time.time() >= f["active_at"] else "PROCESSING"
        if f["failed"]:
            st = "FAILED"
        r = {
            "name": "files/" + f["id"],
            "displayName": f["display_name"],
            "mimeType": f["mime"],
            "sizeBytes": str(f["size"]),
            "createTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(f["created"])),
            "updateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "expirationTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(f["created"] + 172800)),
            "sha256Hash": base64.b64encode(f["sha256"]).decode(),
            "uri": "http://%s/v1beta/files/%s" % (host, f["id"]),
            "state": st,
            "source": "UPLOADED",
        }
        if st == "ACTIVE" and f["probed"].is_set() and f["duration"]:
            r["videoMetadata"] = {"videoDuration": "%.3fs" % f["duration"]}
        if st == "FAILED":
            r["error"] = {"code": 400, "message": "Video could not be processed: unsupported format."}
        return r


def make_audio(state, fmt, duration):
    """A speech-like tone of duration seconds in fmt; bytes, made once per (fmt, length)."""
    duration = max(0.8, round(duration, 1))
    key = (fmt, duration)
    with state.audio_lock:
        if key in state.audio_cache:
            return state.audio_cache[key]
    ext, codec = {
        "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-ar", "24000", "-f", "mp3"]),
        "mp3_44100_128": ("mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-f", "mp3"]),
        "wav": ("wav", ["-c:a", "pcm_s16le", "-ar", "24000", "-f", "wav"]),
        "opus": ("ogg", ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-f", "ogg"]),
        "aac": ("aac", ["-c:a", "aac", "-b:a", "64k", "-ar", "24000", "-f", "adts"]),
        "flac": ("flac", ["-c:a", "flac", "-ar", "24000", "-f", "flac"]),
        "pcm": ("pcm", ["-c:a", "pcm_s16le", "-ar", "24000", "-f", "s16le"]),
    }.get(fmt, ("mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-f", "mp3"]))
    if fmt.startswith("mp3_"):
        parts = fmt.split("_")
        rate = parts[1] if len(parts) > 1 and parts[1].isdigit() else "44100"
        kbps = parts[2] if len(parts) > 2 and parts[2].isdigit() else "128"
        ext, codec = "mp3", ["-c:a", "libmp3lame", "-b:a", kbps + "k", "-ar", rate, "-f", "mp3"]
    elif fmt.startswith("pcm_"):
        rate = fmt.split("_")[1]
        ext, codec = "pcm", ["-c:a", "pcm_s16le", "-ar", rate if rate.isdigit() else "24000", "-f", "s16le"]
    out = os.path.join(state.store, "speech-%s-%.1f.%s" % (fmt, duration, ext))
    # A voice-like signal: a 180 Hz tone with syllable-rate tremolo.
    src = "sine=frequency=180:sample_rate=48000:duration=%.1f,tremolo=f=4:d=0.7,volume=0.6" % duration
    p = run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-ac", "1"] + codec + [out])
    if p.returncode != 0:
        raise RuntimeError("ffmpeg failed making speech: " + p.stderr.decode(errors="replace")[-300:])
    data = open(out, "rb").read()
    with state.audio_lock:
        state.audio_cache[key] = data
    return data


def speech_seconds(text):
    return len(text.split()) / 2.6 + 0.3


# ---------------------------------------------------------------- checks

class Bad(Exception):
    """A request that breaks the API reference: status, body."""

    def __init__(self, status, body):
        super().__init__(str(body))
        self.status = status
        self.body = body


def gemini_error(code, message, status, details=None):
    e = {"error": {"code": code, "message": message, "status": status}}
    if details:
        e["error"]["details"] = details
    return e


def gbad(message, code=400, status="INVALID_ARGUMENT"):
    return Bad(code, gemini_error(code, message, status))


def obad(message, param=None, code=None, status=400, etype="invalid_request_error"):
    return Bad(status, {"error": {"message": message, "type": etype, "param": param, "code": code}})


def ebad(message, status=400, code="invalid_request"):
    return Bad(status, {"detail": {"status": code, "message": message}})


def either(obj, camel, snake):
    if camel in obj and snake in obj:
        raise gbad("Both %s and %s are set; they are the same field." % (camel, snake))
    return obj.get(camel, obj.get(snake))


DURATION_RE = re.compile(r"^-?[0-9]+(\.[0-9]{1,9})?s$")


def check_duration(v, where):
    if not isinstance(v, str) or not DURATION_RE.match(v):
        raise gbad("Invalid value at '%s' (type.googleapis.com/google.protobuf.Duration), \"%s\": "
                   "a duration is seconds with an 's' suffix, like \"12.5s\"." % (where, v))
    return float(v[:-1])


GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
SCHEMA_FIELDS = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                 "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                 "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
                 "max_items", "min_items", "property_ordering", "any_of"}


def check_gemini_schema(s, where):
    if not isinstance(s, dict):
        raise gbad("Invalid value at '%s': a Schema is an object." % where)
    for k in s:
        if k not in SCHEMA_FIELDS:
            raise gbad("Invalid JSON payload received. Unknown name \"%s\" at '%s': Cannot find field." % (k, where))
    t = s.get("type")
    if not isinstance(t, str) or t.upper() not in GEMINI_TYPES:
        raise gbad("Invalid value at '%s.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"%s\""
                   % (where, t))
    t = t.upper()
    if "enum" in s and (t != "STRING" or not isinstance(s["enum"], list) or not all(isinstance(x, str) for x in s["enum"])):
        raise gbad("%s.enum: only STRING schemas take an enum, of strings." % where)
    if t == "OBJECT":
        props = s.get("properties")
        if not isinstance(props, dict) or not props:
            raise gbad("%s.properties: should be non-empty for OBJECT type" % where)
        for k, v in props.items():
            check_gemini_schema(v, "%s.properties[%s]" % (where, k))
        for listname in ("required", "propertyOrdering", "property_ordering"):
            lst = s.get(listname, [])
            if not isinstance(lst, list) or any(x not in props for x in lst):
                raise gbad("%s.%s: names a property that is not defined" % (where, listname))
    elif t == "ARRAY":
        if "items" not in s:
            raise gbad("%s.items: missing field." % where)
        check_gemini_schema(s["items"], where + ".items")
    return s


def schema_wants(schema, name):
    """Whether a schema (Gemini or JSON Schema) has a property name anywhere."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict) and name in props:
            return True
        return any(schema_wants(v, name) for v in schema.values())
    if isinstance(schema, list):
        return any(schema_wants(v, name) for v in schema)
    return False


def check_strict_schema(s, where):
    """OpenAI structured outputs, strict mode: every object closed, every property required."""
    if not isinstance(s, dict):
        raise obad("Invalid schema for response_format '%s': schema must be a JSON Schema of 'type: \"object\"'" % where,
                   "response_format")
    t = s.get("type")
    if t == "object" or (isinstance(t, list) and "object" in t):
        props = s.get("properties", {})
        if s.get("additionalProperties") is not False:
            raise obad("Invalid schema for response_format '%s': In context=(), 'additionalProperties' is required "
                       "to be supplied and to be false." % where, "response_format")
        req = s.get("required", [])
        missing = [k for k in props if k not in req]
        if missing:
            raise obad("Invalid schema for response_format '%s': In context=(), 'required' is required to be supplied "
                       "and to be an array including every key in properties. Missing '%s'." % (where, missing[0]),
                       "response_format")
        for v in props.values():
            check_strict_schema_any(v, where)
    elif t == "array":
        check_strict_schema_any(s.get("items", {}), where)
    elif t not in ("string", "number", "integer", "boolean", "null") and not (isinstance(t, list)):
        raise obad("Invalid schema for response_format '%s': unknown type %r" % (where, t), "response_format")


def check_strict_schema_any(s, where):
    if isinstance(s, dict) and s.get("type") in ("object", "array"):
        check_strict_schema(s, where)


# ---------------------------------------------------------------- answers

def events_for(state, f, start, end, want_line):
    """Moments of file f inside [start, end), t from the window start."""
    out = []
    for t, kind, label, score in FileStore.moments(f):
        if start <= t < end:
            ev = {"t": round(t - start, 2), "kind": kind, "label": label, "score": score}
            if want_line:
                ev["line"] = line_for(kind, t, f["sha256"])
            out.append(ev)
    return out


def grid_events(abs_start, times, want_line):
    """Frames give no sound: moments on a fixed 20 s grid of match time."""
    out, seen = [], set()
    for rel in sorted(times):
        cell = int((abs_start + rel) // 20)
        if cell in seen or (abs_start + rel) - cell * 20 > 4:
            continue
        seen.add(cell)
        score = 0.75 if cell % 3 == 1 else 0.45
        ev = {"t": round(rel, 2), "kind": "chance", "label": "an attack builds", "score": score}
        if want_line:
            ev["line"] = line_for("chance", abs_start + rel)
        out.append(ev)
    return out


WORDS_RE = re.compile(r"at most (\d+) words")
START_RE = re.compile(r"starts ([0-9.]+) seconds into the match")
EVENT_LINE_RE = re.compile(r"^- t=([0-9.]+) (\w+):", re.M)

OPENERS = ["What a moment here!", "Here they come again!", "The pressure is building!",
           "Now this is interesting!", "And the game comes alive!"]
KIND_WORDS = {"goal": "it's a goal, the stadium is shaking", "crowd": "the crowd is roaring them on",
              "whistle": "the referee steps in", "chance": "a real chance opens up",
              "motion": "the tempo picks up", "cut": "a new angle on the action",
              "lull": "a breather for both sides", "moment": "something is stirring"}


def commentary_for(prompt):
    m = WORDS_RE.search(prompt)
    max_words = int(m.group(1)) if m else 12
    kinds = [k for _, k in EVENT_LINE_RE.findall(prompt)]
    earlier = prompt.count("\n- ", prompt.find("earlier lines")) if "earlier lines" in prompt else 0
    # Like a model: another prompt, another line (deterministic all the same).
    pick = int(hashlib.sha1(prompt.encode()).hexdigest()[:8], 16) + earlier
    opener = OPENERS[pick % len(OPENERS)]
    middle = KIND_WORDS.get(kinds[0] if kinds else "moment", KIND_WORDS["moment"])
    words = ("%s %s%s" % (opener, middle[0].upper() + middle[1:], ", and the fans love it!")).split()
    words = words[:max(1, max_words)]
    text = " ".join(words)
    if not text.endswith(("!", ".", "?")):
        text = text.rstrip(",") + "!"
    return text


# ---------------------------------------------------------------- server

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-api/1"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("fake-api: " + (fmt % args) + "\n")

    # -- plumbing

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def read_body(self, limit=None):
        n = self.headers.get("Content-Length")
        if n is None:
            if self.headers.get("Transfer-Encoding"):
                raise Bad(411, {"error": "chunked bodies are not supported by the fake"})
            return b""
        n = int(n)
        st = self.server.state
        chunks, got = [], 0
        while got < n:
            want = min(65536, n - got)
            if limit is not None:
                want = min(want, limit - got)
                if want <= 0:
                    break
            c = self.rfile.read(want)
            if not c:
                break
            st.uplink.consume(len(c))
            chunks.append(c)
            got += len(c)
        return b"".join(chunks)

    def send(self, status, body=b"", ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or status != 204:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def hang(self):
        STOP.wait(self.server.state.args.hang)
        self.reset_connection()

    def host(self):
        return self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]

    def entry(self, endpoint, body, t0, t_body):
        hdrs = {}
        for k, v in self.headers.items():
            lk = k.lower()
            hdrs[lk] = bool(v.strip()) if lk in KEY_HEADERS else v
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        key_in_url = "key" in q
        if key_in_url:
            q["key"] = ["***"]
        e = {"t": t0, "t_body": t_body, "method": self.command, "path": url.path, "query": q,
             "endpoint": endpoint, "headers": hdrs, "body_bytes": len(body or b""), "key_in_url": key_in_url}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/json" and body:
            try:
                e["json"] = json.loads(body)
            except ValueError:
                e["json_error"] = True
        return e

    # -- dispatch

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def route(self, path):
        if path.startswith("/_fake/"):
            return "control"
        if path == "/upload/v1beta/files":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            if "upload_id" not in q:
                return "upload_start"
            cmd = (self.headers.get("X-Goog-Upload-Command") or "").strip().lower()
            return "upload_query" if cmd == "query" else "upload"
        if re.match(r"^/v1beta/files/[^/]+$", path):
            return "files_get"
        if re.match(r"^/v1beta/models/[^/]+:generateContent$", path):
            return "generate"
        if path == "/v1/chat/completions":
            return "chat"
        if path == "/v1/audio/speech":
            return "speech"
        if re.match(r"^/v1/text-to-speech/[^/]+$", path):
            return "tts"
        return None

    def dispatch(self):
        st = self.server.state
        t0 = time.time()
        path = urllib.parse.urlsplit(self.path).path
        endpoint = self.route(path)
        if endpoint == "control":
            return self.control(path)
        fault = None
        body = b""
        try:
            if endpoint is None:
                body = self.read_body()
                raise Bad(404, {"error": {"code": 404, "message": "The fake has no %s %s" % (self.command, path),
                                          "status": "NOT_FOUND"}})
            # Faults are picked before the body is read (a reset part-way
            # through it reads only that much), those matching on the body
            # after.
            fault = st.take_fault(endpoint, self.path, None)
            limit = fault.get("reset_after") if fault and fault["mode"] == "reset" else None
            body = self.read_body(limit)
            t_body = time.time()
            if fault is None:
                fault = st.take_fault(endpoint, self.path, body)
            entry = self.entry(endpoint, body, t0, t_body)
            if fault:
                entry["fault"] = fault["mode"]
                if self.apply_fault(endpoint, fault, entry, body):
                    return
            handler = getattr(self, "h_" + endpoint)
            handler(body, entry)
        except Bad as b:
            e = self.entry(endpoint or "unknown", body, t0, time.time())
            e["status"] = b.status
            e["error"] = b.body
            st.log(e)
            self.send(b.status, b.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def service(self, endpoint):
        if endpoint in ("upload_start", "upload", "upload_query", "files_get", "generate"):
            return "gemini"
        if endpoint in ("chat", "speech"):
            return "openai"
        return "elevenlabs"

    def error_body(self, endpoint, status, message, fault):
        svc = self.service(endpoint)
        if svc == "gemini":
            names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                     429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
            details = None
            if fault.get("retry_delay"):
                details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": fault["retry_delay"]}]
            return gemini_error(status, message, names.get(status, "UNKNOWN"), details)
        if svc == "openai":
            types = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                     429: "rate_limit_error", 500: "server_error", 503: "server_error"}
            return {"error": {"message": message, "type": types.get(status, "api_error"), "param": None,
                              "code": fault.get("code")}}
        return {"detail": {"status": fault.get("code") or "error_%d" % status, "message": message}}

    def apply_fault(self, endpoint, fault, entry, body):
        """Answer with the fault; False when the normal answer should follow."""
        st = self.server.state
        mode = fault["mode"]
        if mode == "slow":
            st.log(dict(entry, status="slow"))
            STOP.wait(float(fault.get("delay", 5)))
            entry["logged"] = True
            return False
        if mode == "reset":
            if endpoint == "upload":
                # What arrived before the cut is kept, as a real service does.
                up = self.upload_of()
                if str(up["received"]) == (self.headers.get("X-Goog-Upload-Offset") or "").strip():
                    with open(up["path"], "ab") as fp:
                        fp.write(body)
                    up["received"] += len(body)
            st.log(dict(entry, status="reset"))
            self.reset_connection()
            return True
        if mode == "hang":
            st.log(dict(entry, status="hang"))
            self.hang()
            return True
        if mode == "failed":
            entry["fail_file"] = True
            return False
        if mode == "malformed":
            st.log(dict(entry, status=200))
            self.send(200, b'{"candidates": [{"content": {"parts": [{"text": "{\\"ev', "application/json")
            return True
        headers = {}
        if mode == "429":
            status = 429
            message = fault.get("message", "Rate limit reached; please retry later.")
        elif mode == "500":
            status = int(fault.get("status", 500))
            message = fault.get("message", "Internal error encountered.")
        elif mode == "quota":
            svc = self.service(endpoint)
            if svc == "elevenlabs":
                status, fault = 401, dict(fault, code="quota_exceeded")
                message = fault.get("message", "This request exceeds your quota of 10000. You have 12 credits "
                                               "remaining, while 91 credits are required for this request.")
            elif svc == "openai":
                status, fault = 429, dict(fault, code="insufficient_quota")
                message = fault.get("message", "You exceeded your current quota, please check your plan and "
                                               "billing details.")
            else:
                status = 429
                message = fault.get("message", "Resource has been exhausted (e.g. check quota).")
        elif mode == "status":
            status = int(fault.get("status", 400))
            message = fault.get("message", "The fake was told to answer %d." % status)
        else:
            raise Bad(500, {"error": "unknown fault mode %r" % mode})
        if "retry_after" in fault:
            ra = fault["retry_after"]
            if fault.get("retry_after_date"):
                headers["Retry-After"] = email.utils.formatdate(time.time() + float(ra), usegmt=True)
            else:
                headers["Retry-After"] = str(ra)
        eb = self.error_body(endpoint, status, message, fault)
        st.log(dict(entry, status=status, error=eb))
        self.send(status, eb, headers=headers)
        return True

    def finish_ok(self, entry, status=200):
        if not entry.get("logged"):
            self.server.state.log(dict(entry, status=status))

    # -- control

    def control(self, path):
        st = self.server.state
        body = self.read_body()
        if path == "/_fake/fault" and self.command == "POST":
            spec = json.loads(body or b"{}")
            for f in spec if isinstance(spec, list) else [spec]:
                st.add_fault(f)
            return self.send(200, {"ok": True})
        if path == "/_fake/reset" and self.command == "POST":
            st.reset()
            return self.send(200, {"ok": True})
        if path == "/_fake/log":
            with st.log_lock:
                text = "".join(l + "\n" for l in st.log_lines)
            return self.send(200, text, "application/x-ndjson")
        if path == "/_fake/stats":
            with st.log_lock:
                return self.send(200, dict(st.stats))
        return self.send(404, {"error": "no such control"})

    # -- keys

    def need_key(self, service, entry):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if "key" in urllib.parse.parse_qs(url.query):
            raise gbad("The fake refuses keys in URLs: playcall sends them only in the x-goog-api-key header.")
        expected = st.args.expect_key.get(service)
        if service == "gemini":
            got = (self.headers.get("x-goog-api-key") or "").strip()
            if not got:
                raise gbad("Method doesn't allow unregistered callers (callers without established identity). "
                           "Please use API Key or other form of API consumer identity to call this API.",
                           403, "PERMISSION_DENIED")
            if expected and got != expected:
                raise gbad("API key not valid. Please pass a valid API key.")
        elif service == "openai":
            auth = self.headers.get("Authorization") or ""
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                if st.args.openai_keyless:
                    return
                raise obad("You didn't provide an API key. You need to provide your API key in an Authorization "
                           "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", status=401)
            got = auth[7:].strip()
            if expected and got != expected:
                raise obad("Incorrect API key provided: %s. You can find your API key at "
                           "https://platform.openai.com/account/api-keys." % got, status=401, code="invalid_api_key")
        else:
            got = (self.headers.get("xi-api-key") or "").strip()
            if not got:
                raise ebad("Neither authorization header nor xi-api-key received, please provide one.", 401,
                           "needs_authorization")
            if expected and got != expected:
                raise ebad("Invalid API key: %s" % got, 401, "invalid_api_key")

    def need_json(self, body, bad):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise bad("Content-Type must be application/json, not %r" % ctype)
        try:
            return json.loads(body)
        except ValueError as e:
            raise bad("Invalid JSON payload received. %s" % e)

    def need_method(self, method, bad):
        if self.command != method:
            raise bad("%s is not allowed here; use %s." % (self.command, method))

    def json_request(self, body, entry, service, bad):
        """A POST with the service's key and a JSON object body: the object."""
        self.need_method("POST", bad)
        self.need_key(service, entry)
        req = self.need_json(body, bad)
        if not isinstance(req, dict):
            raise bad("Invalid JSON payload received: the body must be a JSON object.")
        return req

    # -- Gemini

    def h_upload_start(self, body, entry):
        st = self.server.state
        self.need_method("POST", gbad)
        self.need_key("gemini", entry)
        h = self.headers
        if (h.get("X-Goog-Upload-Protocol") or "").lower() != "resumable":
            raise gbad("X-Goog-Upload-Protocol must be 'resumable' for this endpoint.")
        if (h.get("X-Goog-Upload-Command") or "").lower() != "start":
            raise gbad("X-Goog-Upload-Command must be 'start' to begin an upload.")
        try:
            size = int(h.get("X-Goog-Upload-Header-Content-Length") or "")
            assert size > 0
        except (ValueError, AssertionError):
            raise gbad("X-Goog-Upload-Header-Content-Length must be the number of bytes to upload.")
        mime = h.get("X-Goog-Upload-Header-Content-Type") or ""
        if not re.match(r"^[a-z]+/[a-z0-9.+-]+$", mime):
            raise gbad("X-Goog-Upload-Header-Content-Type must be the file's MIME type, not %r." % mime)
        display = None
        if body:
            meta = self.need_json(body, gbad)
            if not isinstance(meta, dict) or set(meta) - {"file"}:
                raise gbad("Invalid JSON payload received. Unknown name in %s: Cannot find field." % list(meta))
            file = meta.get("file", {})
            if not isinstance(file, dict):
                raise gbad("Invalid value at 'file': a File is an object.")
            for k in file:
                if k not in ("display_name", "displayName", "name", "mime_type", "mimeType"):
                    raise gbad("Invalid JSON payload received. Unknown name \"%s\" at 'file': Cannot find field." % k)
            display = either(file, "displayName", "display_name")
            if display is not None and (not isinstance(display, str) or len(display) > 512):
                raise gbad("file.display_name must be a string of at most 512 characters.")
        uid = st.next_id("up")
        path = os.path.join(st.store, uid + ".bin")
        open(path, "wb").close()
        with st.lock:
            st.uploads[uid] = {"id": uid, "size": size, "mime": mime, "display_name": display or uid,
                               "received": 0, "path": path, "final": None}
        url = "http://%s/upload/v1beta/files?upload_id=%s&upload_protocol=resumable" % (self.host(), uid)
        self.finish_ok(entry)
        self.send(200, b"", headers={"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url,
                                     "X-Goog-Upload-Control-URL": url,
                                     "X-Goog-Upload-Chunk-Granularity": "8388608"})

    def upload_of(self):
        st = self.server.state
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        uid = q.get("upload_id", [""])[0]
        with st.lock:
            up = st.uploads.get(uid)
        if not up:
            raise gbad("No upload with id %r (it was never started, or it expired)." % uid, 404, "NOT_FOUND")
        return up

    def h_upload_query(self, body, entry):
        self.need_method("POST", gbad)
        up = self.upload_of()
        self.finish_ok(entry)
        if up["final"]:
            return self.send(200, {"file": FileStore.resource(self.server.state, up["final"], self.host())},
                             headers={"X-Goog-Upload-Status": "final",
                                      "X-Goog-Upload-Size-Received": str(up["received"])})
        self.send(200, b"", headers={"X-Goog-Upload-Status": "active",
                                     "X-Goog-Upload-Size-Received": str(up["received"])})

    def h_upload(self, body, entry):
        st = self.server.state
        self.need_method("POST", gbad)
        up = self.upload_of()
        cmd = [c.strip() for c in (self.headers.get("X-Goog-Upload-Command") or "").lower().split(",")]
        if "upload" not in cmd:
            raise gbad("X-Goog-Upload-Command must be 'upload' or 'upload, finalize' (or 'query'), not %r"
                       % self.headers.get("X-Goog-Upload-Command"))
        if up["final"]:
            raise gbad("This upload is already finalized.")
        try:
            offset = int(self.headers.get("X-Goog-Upload-Offset") or "")
        except ValueError:
            raise gbad("X-Goog-Upload-Offset must be the byte offset of this chunk.")
        if offset != up["received"]:
            raise gbad("X-Goog-Upload-Offset is %d, but %d bytes have been received." % (offset, up["received"]))
        with open(up["path"], "ab") as fp:
            fp.write(body)
        up["received"] += len(body)
        if up["received"] > up["size"]:
            raise gbad("Received %d bytes, more than the %d announced in X-Goog-Upload-Header-Content-Length."
                       % (up["received"], up["size"]))
        if "finalize" not in cmd:
            self.finish_ok(entry)
            return self.send(200, b"", headers={"X-Goog-Upload-Status": "active"})
        if up["received"] != up["size"]:
            raise gbad("Finalized with %d bytes, but %d were announced." % (up["received"], up["size"]))
        f = FileStore.create(st, up)
        up["final"] = f
        self.finish_ok(entry)
        self.send(200, {"file": FileStore.resource(st, f, self.host())},
                  headers={"X-Goog-Upload-Status": "final"})

    def h_files_get(self, body, entry):
        st = self.server.state
        self.need_method("GET", gbad)
        self.need_key("gemini", entry)
        fid = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[1]
        with st.lock:
            f = st.files.get(fid)
        if not f:
            raise gbad("File files/%s does not exist or you do not have permission to access it." % fid,
                       403, "PERMISSION_DENIED")
        if entry.get("fail_file"):
            f["failed"] = True
        self.finish_ok(entry)
        self.send(200, FileStore.resource(st, f, self.host()))

    def inline_file(self, blob, where):
        """A video sent inline: kept like an upload, so it is analysed the
        same way (its sound, its length)."""
        st = self.server.state
        if not isinstance(blob, dict) or set(blob) - {"mimeType", "mime_type", "data"}:
            raise gbad("%s.inlineData is {mimeType, data}." % where)
        mime = either(blob, "mimeType", "mime_type")
        if not isinstance(mime, str) or not mime.startswith("video/"):
            raise gbad("%s.inlineData.mimeType: the fake takes inline video only (got %r)." % (where, mime))
        try:
            data = base64.b64decode(blob.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            raise gbad("Invalid value at '%s.inline_data.data' (TYPE_BYTES), Base64 decoding failed." % where)
        if not data:
            raise gbad("%s.inlineData.data is empty." % where)
        uid = st.next_id("inline")
        path = os.path.join(st.store, uid + ".bin")
        with open(path, "wb") as fp:
            fp.write(data)
        return FileStore.create(st, {"id": uid, "path": path, "mime": mime, "display_name": uid,
                                     "received": len(data)})

    def file_of_uri(self, uri):
        st = self.server.state
        m = re.match(r"^https?://[^/]+/v1beta/files/([^/?#]+)$", uri or "")
        fid = m.group(1) if m else None
        with st.lock:
            f = st.files.get(fid) if fid else None
        if not f:
            raise gbad("File %s does not exist or you do not have permission to access it." % uri, 403,
                       "PERMISSION_DENIED")
        if time.time() < f["active_at"] or f["failed"]:
            raise gbad("The File %s is not in an ACTIVE state and usage is not allowed." % f["id"], 400,
                       "FAILED_PRECONDITION")
        return f

    def h_generate(self, body, entry):
        st = self.server.state
        model = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.split("/")[3].split(":")[0])
        if len(body) > GEMINI_REQUEST_MAX:
            raise gbad("Request payload size exceeds the limit: %d bytes." % GEMINI_REQUEST_MAX)
        req = self.json_request(body, entry, "gemini", gbad)
        if not re.match(r"^[a-z0-9][a-z0-9.-]*$", model):
            raise gbad("models/%s is not found for API version v1beta." % model, 404, "NOT_FOUND")
        known = {"contents", "generationConfig", "generation_config", "systemInstruction", "system_instruction",
                 "safetySettings", "safety_settings", "tools", "toolConfig", "tool_config", "cachedContent",
                 "cached_content"}
        for k in req:
            if k not in known:
                raise gbad("Invalid JSON payload received. Unknown name \"%s\": Cannot find field." % k)
        contents = req.get("contents")
        if not isinstance(contents, list) or not contents:
            raise gbad("* GenerateContentRequest.contents: contents is not specified")
        video, texts = None, []
        for i, c in enumerate(contents):
            if not isinstance(c, dict) or set(c) - {"role", "parts"}:
                raise gbad("contents[%d]: a Content is {role, parts}." % i)
            if c.get("role", "user") not in ("user", "model"):
                raise gbad("Please use a valid role: user, model.")
            parts = c.get("parts")
            if not isinstance(parts, list) or not parts:
                raise gbad("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty." % i)
            for j, p in enumerate(parts):
                where = "contents[%d].parts[%d]" % (i, j)
                if not isinstance(p, dict):
                    raise gbad("%s: a Part is an object." % where)
                for k in p:
                    if k not in ("text", "fileData", "file_data", "inlineData", "inline_data", "videoMetadata",
                                 "video_metadata", "thought"):
                        raise gbad("Invalid JSON payload received. Unknown name \"%s\" at '%s': Cannot find field."
                                   % (k, where))
                data = [k for k in ("text", "fileData", "file_data", "inlineData", "inline_data") if k in p]
                if len(data) != 1:
                    raise gbad("%s: a Part holds exactly one of text, inlineData, fileData (has %s)." % (where, data))
                if "text" in p:
                    if not isinstance(p["text"], str):
                        raise gbad("%s.text must be a string." % where)
                    texts.append(p["text"])
                fd = either(p, "fileData", "file_data")
                if fd is not None:
                    if not isinstance(fd, dict) or set(fd) - {"mimeType", "mime_type", "fileUri", "file_uri"}:
                        raise gbad("%s.fileData is {mimeType, fileUri}." % where)
                    uri = either(fd, "fileUri", "file_uri")
                    mime = either(fd, "mimeType", "mime_type")
                    if not isinstance(mime, str) or "/" not in mime:
                        raise gbad("%s.fileData.mimeType is required." % where)
                    f = self.file_of_uri(uri)
                    vm = either(p, "videoMetadata", "video_metadata")
                    start, end = 0.0, FileStore.duration(f)
                    if vm is not None:
                        if not isinstance(vm, dict) or set(vm) - {"startOffset", "start_offset", "endOffset",
                                                                   "end_offset", "fps"}:
                            raise gbad("%s.videoMetadata is {startOffset, endOffset, fps}." % where)
                        so, eo = either(vm, "startOffset", "start_offset"), either(vm, "endOffset", "end_offset")
                        if so is not None:
                            start = check_duration(so, where + ".videoMetadata.startOffset")
                        if eo is not None:
                            end = check_duration(eo, where + ".videoMetadata.endOffset")
                        if not start < end:
                            raise gbad("%s.videoMetadata: startOffset must be before endOffset." % where)
                        if f["duration"] and end > f["duration"] + 1.0:
                            raise gbad("%s.videoMetadata.endOffset %.3fs is past the video's end (%.3fs)."
                                       % (where, end, f["duration"]))
                    if video is not None:
                        raise gbad("The fake expects one video per request.")
                    video = (f, start, end)
                elif either(p, "inlineData", "inline_data") is not None:
                    if video is not None:
                        raise gbad("The fake expects one video per request.")
                    f = self.inline_file(either(p, "inlineData", "inline_data"), where)
                    video = (f, 0.0, FileStore.duration(f))
                elif "videoMetadata" in p or "video_metadata" in p:
                    raise gbad("%s.videoMetadata belongs with the video's fileData part." % where)
        gc = either(req, "generationConfig", "generation_config") or {}
        if not isinstance(gc, dict):
            raise gbad("generationConfig is an object.")
        schema = either(gc, "responseSchema", "response_schema")
        mime = either(gc, "responseMimeType", "response_mime_type")
        if schema is not None:
            check_gemini_schema(schema, "generation_config.response_schema")
            if mime != "application/json":
                raise gbad("responseSchema requires responseMimeType 'application/json' (got %r)." % mime)
        prompt = "\n".join(texts)
        if video:
            f, start, end = video
            if schema is not None and schema_wants(schema, "events"):
                answer = json.dumps({"events": events_for(st, f, start, end, schema_wants(schema, "line"))})
            else:
                answer = "A match clip from %.1f s to %.1f s." % (start, end)
            st.delay_from(entry["t_body"], 2.0 + 0.2 * (end - start) if st.args.latency else 0)
        else:
            text = commentary_for(prompt)
            answer = json.dumps({"text": text}) if schema is not None else text
            st.delay_from(entry["t_body"], 3.0 if st.args.latency else 0)
        self.finish_ok(entry)
        self.send(200, {
            "candidates": [{"content": {"parts": [{"text": answer}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": len(prompt.split()) + (300 if video else 0),
                              "candidatesTokenCount": len(answer.split()),
                              "totalTokenCount": len(prompt.split()) + len(answer.split())},
            "modelVersion": model,
            "responseId": hashlib.sha1(body).hexdigest()[:16],
        })

    # -- OpenAI

    def h_chat(self, body, entry):
        st = self.server.state
        req = self.json_request(body, entry, "openai", obad)
        if not isinstance(req.get("model"), str) or not req["model"]:
            raise obad("you must provide a model parameter", "model")
        msgs = req.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise obad("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages")
        texts, frames = [], []
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant"):
                raise obad("Invalid value for 'messages[%d].role'." % i, "messages[%d].role" % i)
            c = m.get("content")
            if isinstance(c, str):
                texts.append(c)
                continue
            if not isinstance(c, list) or not c:
                raise obad("Invalid 'messages[%d].content': expected a string or an array of parts." % i,
                           "messages[%d].content" % i)
            last_t = None
            for j, p in enumerate(c):
                where = "messages[%d].content[%d]" % (i, j)
                if not isinstance(p, dict) or p.get("type") not in ("text", "image_url"):
                    raise obad("Invalid value: '%s'. Supported values are: 'text' and 'image_url'."
                               % (p.get("type") if isinstance(p, dict) else p), where + ".type")
                if p["type"] == "text":
                    if not isinstance(p.get("text"), str):
                        raise obad("Missing required parameter: '%s.text'." % where, where + ".text")
                    texts.append(p["text"])
                    m2 = re.search(r"t=([0-9.]+)", p["text"])
                    if m2 and len(p["text"]) < 40:
                        last_t = float(m2.group(1))
                    continue
                iu = p.get("image_url")
                if not isinstance(iu, dict) or not isinstance(iu.get("url"), str):
                    raise obad("Missing required parameter: '%s.image_url.url'." % where, where + ".image_url")
                if set(iu) - {"url", "detail"} or iu.get("detail", "auto") not in ("low", "high", "auto"):
                    raise obad("Invalid '%s.image_url': {url, detail: low|high|auto}." % where, where + ".image_url")
                url = iu["url"]
                if url.startswith("data:"):
                    mm = re.match(r"^data:image/(jpeg|png|webp|gif);base64,(.*)$", url, re.S)
                    if not mm:
                        raise obad("Invalid image URL: '%s...' is not a base64 image data URL." % url[:40],
                                   where + ".image_url.url")
                    try:
                        raw = base64.b64decode(mm.group(2), validate=True)
                    except binascii.Error:
                        raise obad("Invalid base64 image data in %s." % where, where + ".image_url.url")
                    if mm.group(1) == "jpeg" and not raw.startswith(b"\xff\xd8"):
                        raise obad("You uploaded an unsupported image. Please make sure your image is valid.",
                                   where + ".image_url.url")
                elif not url.startswith("http"):
                    raise obad("Invalid image URL in %s." % where, where + ".image_url.url")
                frames.append(last_t if last_t is not None else float(len(frames)))
        rf = req.get("response_format")
        want_events = want_line = False
        schema = None
        if rf is not None:
            if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema"):
                raise obad("Invalid value for 'response_format.type'.", "response_format.type")
            if rf["type"] == "json_schema":
                js = rf.get("json_schema")
                if not isinstance(js, dict) or not isinstance(js.get("name"), str) or \
                        not re.match(r"^[a-zA-Z0-9_-]{1,64}$", js["name"]):
                    raise obad("Invalid 'response_format.json_schema.name': a string of [a-zA-Z0-9_-], at most 64.",
                               "response_format.json_schema.name")
                schema = js.get("schema")
                if not isinstance(schema, dict):
                    raise obad("Missing required parameter: 'response_format.json_schema.schema'.",
                               "response_format.json_schema.schema")
                if js.get("strict"):
                    check_strict_schema(schema, js["name"])
                want_events = schema_wants(schema, "events")
                want_line = schema_wants(schema, "line")
        prompt = "\n".join(texts)
        if frames:
            m = START_RE.search(prompt)
            abs_start = float(m.group(1)) if m else 0.0
            span = (max(frames) - min(frames)) + (frames[1] - frames[0] if len(frames) > 1 else 1.0)
            st.delay_from(entry["t_body"], 2.0 + 0.2 * span if st.args.latency else 0)
            content = json.dumps({"events": grid_events(abs_start, frames, want_line)}) if want_events else \
                "Frames of a match."
        else:
            st.delay_from(entry["t_body"], 3.0 if st.args.latency else 0)
            text = commentary_for(prompt)
            content = json.dumps({"text": text}) if schema is not None else text
        self.finish_ok(entry)
        self.send(200, {
            "id": "chatcmpl-" + hashlib.sha1(body).hexdigest()[:24], "object": "chat.completion",
            "created": int(time.time()), "model": req["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()) + 85 * len(frames),
                      "completion_tokens": len(content.split()),
                      "total_tokens": len(prompt.split()) + 85 * len(frames) + len(content.split())},
        })

    def h_speech(self, body, entry):
        st = self.server.state
        req = self.json_request(body, entry, "openai", obad)
        for k in req:
            if k not in ("model", "input", "voice", "response_format", "speed", "instructions", "stream_format"):
                raise obad("Unrecognized request argument supplied: %s" % k, k)
        if not isinstance(req.get("model"), str) or not req["model"]:
            raise obad("Missing required parameter: 'model'.", "model")
        text = req.get("input")
        if not isinstance(text, str) or not text.strip():
            raise obad("Missing required parameter: 'input'.", "input")
        if len(text) > 4096:
            raise obad("Invalid 'input': string too long. Expected a string with maximum length 4096.", "input")
        voice = req.get("voice")
        if not (isinstance(voice, str) and voice) and not (isinstance(voice, dict) and isinstance(voice.get("id"), str)):
            raise obad("Missing required parameter: 'voice'.", "voice")
        fmt = req.get("response_format", "mp3")
        if fmt not in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
            raise obad("Invalid value for 'response_format': '%s'. Supported values are: 'mp3', 'opus', 'aac', "
                       "'flac', 'wav', and 'pcm'." % fmt, "response_format")
        speed = req.get("speed", 1.0)
        if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
            raise obad("Invalid 'speed': expected a number from 0.25 to 4.0.", "speed")
        audio = make_audio(st, fmt, speech_seconds(text) / speed)
        st.delay_from(entry["t_body"], 3.0 if st.args.latency else 0)
        ctypes = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
                  "wav": "audio/wav", "pcm": "audio/pcm"}
        self.finish_ok(entry)
        self.send(200, audio, ctypes[fmt])

    # -- ElevenLabs

    ELEVEN_FORMATS = re.compile(r"^(mp3_(22050_32|24000_48|44100_(32|64|96|128|192))|pcm_(8000|16000|22050|24000|"
                                r"44100|48000)|ulaw_8000|alaw_8000|opus_48000_(32|64|96|128|192))$")

    def h_tts(self, body, entry):
        st = self.server.state
        self.need_method("POST", ebad)
        self.need_key("elevenlabs", entry)
        voice = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[1])
        if not re.match(r"^[A-Za-z0-9_-]{1,64}$", voice):
            raise ebad("A voice with the voice_id %s was not found." % voice, 404, "voice_not_found")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        fmt = q.get("output_format", ["mp3_44100_128"])[0]
        if not self.ELEVEN_FORMATS.match(fmt):
            raise Bad(422, {"detail": [{"loc": ["query", "output_format"], "msg": "value is not a valid enumeration "
                                        "member", "type": "type_error.enum"}]})
        req = self.need_json(body, lambda m: Bad(400, {"detail": {"status": "invalid_json", "message": m}}))
        if not isinstance(req, dict) or not isinstance(req.get("text"), str) or not req["text"].strip():
            raise Bad(422, {"detail": [{"loc": ["body", "text"], "msg": "field required",
                                        "type": "value_error.missing"}]})
        for k in req:
            if k not in ("text", "model_id", "language_code", "voice_settings", "pronunciation_dictionary_locators",
                         "seed", "previous_text", "next_text", "previous_request_ids", "next_request_ids",
                         "apply_text_normalization", "apply_language_text_normalization"):
                raise Bad(422, {"detail": [{"loc": ["body", k], "msg": "extra fields not permitted",
                                            "type": "value_error.extra"}]})
        if "model_id" in req and not isinstance(req["model_id"], str):
            raise Bad(422, {"detail": [{"loc": ["body", "model_id"], "msg": "str type expected",
                                        "type": "type_error.str"}]})
        vs = req.get("voice_settings")
        if vs is not None:
            if not isinstance(vs, dict):
                raise Bad(422, {"detail": [{"loc": ["body", "voice_settings"], "msg": "value is not a valid dict",
                                            "type": "type_error.dict"}]})
            for k, v in vs.items():
                if k in ("stability", "similarity_boost", "style") and not (isinstance(v, (int, float)) and 0 <= v <= 1):
                    raise Bad(422, {"detail": [{"loc": ["body", "voice_settings", k], "msg": "ensure this value is "
                                                "between 0 and 1", "type": "value_error.number"}]})
        audio = make_audio(st, fmt, speech_seconds(req["text"]))
        st.delay_from(entry["t_body"], 3.0 if st.args.latency else 0)
        self.finish_ok(entry)
        self.send(200, audio, "audio/mpeg" if fmt.startswith("mp3") else "application/octet-stream",
                  headers={"request-id": hashlib.sha1(body).hexdigest()[:20],
                           "character-cost": str(len(req["text"]))})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # A small receive buffer, so a throttled upload is throttled at
        # the sender too (its progress is then what the link allows).
        if self.state.uplink.rate:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        super().server_bind()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="fake Gemini / OpenAI / ElevenLabs APIs for playcall tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--log", help="append one JSON line per request")
    ap.add_argument("--faults", help="a JSON file: a list of fault objects")
    ap.add_argument("--latency", action="store_true", help="the latency model of the bench")
    ap.add_argument("--uplink", type=float, default=None, help="bytes/s shared by all uploads (with --latency: 4.3e6)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply modelled delays")
    ap.add_argument("--processing", type=float, default=0.0, help="seconds an upload stays PROCESSING")
    ap.add_argument("--hang", type=float, default=600.0, help="seconds a 'hang' fault holds a request")
    ap.add_argument("--expect-key", action="append", default=[], metavar="SERVICE=KEY",
                    help="answer 401/400 unless this key comes (gemini, openai, elevenlabs)")
    ap.add_argument("--openai-keyless", action="store_true", help="accept OpenAI requests without a key (Ollama)")
    ap.add_argument("--store", help="folder for uploaded files (default: a temporary one)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    keys = {}
    for kv in args.expect_key:
        s, _, k = kv.partition("=")
        keys[s] = k
    args.expect_key = keys
    return args


def main(argv):
    args = parse_args(argv)
    state = State(args)
    if args.log:
        open(args.log, "a").close()
    if args.faults:
        for f in json.load(open(args.faults)):
            state.add_fault(f)
    Server.state = state
    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]

    def stop(signum, frame):
        STOP.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def orphan_watch(parent):
        # A test that dies without stopping the fake does not leave it behind.
        while not STOP.wait(1.0):
            if os.getppid() != parent:
                stop(None, None)
                return

    threading.Thread(target=orphan_watch, args=(os.getppid(),), daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fp:
            fp.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("fake-api listening on http://127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        STOP.set()
        srv.server_close()
        if state.own_store:
            shutil.rmtree(state.store, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
