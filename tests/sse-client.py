#!/usr/bin/env python3
"""Socket-level clients for the sse-serve tests, where curl cannot say
exactly what to send or cannot be a thousand clients at once.

  sse-client.py raw URL [WAIT]      send stdin's bytes as they are, print all
                                    that comes back until the server closes
                                    (or WAIT seconds, default 5)
  sse-client.py hold URL N SECONDS  open N connections, send nothing, keep
                                    them SECONDS; print how many the server
                                    answered (503) and how many stayed open
  sse-client.py fanout URL N RECORDS TIMEOUT [SLOW]
                                    N clients of URL (an event stream) on
                                    non-blocking sockets, one thread; each
                                    reads until the server closes.  Prints
                                    one JSON line: how many got ids 1..RECORDS
                                    exactly, in order, once.  SLOW: one more
                                    client with a tiny receive buffer that
                                    does not read until the others are done.
"""
import json
import selectors
import socket
import sys
import time
from urllib.parse import urlsplit


def addr(url):
    u = urlsplit(url)
    return u.hostname, u.port, (u.path or "/") + ("?" + u.query if u.query else "")


def raw(url, wait):
    host, port, _ = addr(url)
    s = socket.create_connection((host, port), timeout=wait)
    data = sys.stdin.buffer.read()
    if data:
        s.sendall(data)
    out = b""
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    sys.stdout.buffer.write(out)


def hold(url, n, seconds):
    host, port, _ = addr(url)
    socks = [socket.create_connection((host, port)) for _ in range(n)]
    time.sleep(seconds)
    refused = open_ = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 503"):
                refused += 1
            elif not data:
                pass
        except BlockingIOError:
            open_ += 1
        s.close()
    print(json.dumps({"refused": refused, "open": open_}))


def parse_ids(body):
    ids = []
    for line in body.split(b"\n"):
        if line.startswith(b"id: "):
            ids.append(int(line[4:]))
    return ids


def fanout(url, n, records, timeout, slow):
    host, port, path = addr(url)
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()
    sel = selectors.DefaultSelector()
    bodies = {}
    pending_connect = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        pending_connect.append(s)
        bodies[s] = bytearray()
        sel.register(s, selectors.EVENT_WRITE)
    slow_sock = None
    if slow:
        slow_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow_sock.connect((host, port))
        slow_sock.sendall(req)
    deadline = time.time() + timeout
    open_socks = n
    connected = 0
    while open_socks and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    s.close()
                    open_socks -= 1
                    continue
                s.sendall(req)
                connected += 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                data = b""
            if data:
                bodies[s] += data
                continue
            sel.unregister(s)
            s.close()
            open_socks -= 1
    want = list(range(1, records + 1))
    complete = sum(1 for b in bodies.values() if parse_ids(bytes(b)) == want)
    result = {"clients": n, "connected": connected, "complete": complete, "unfinished": open_socks}
    if slow_sock:
        got = bytearray()
        slow_sock.settimeout(5)
        try:
            while True:
                d = slow_sock.recv(65536)
                if not d:
                    break
                got += d
        except (socket.timeout, ConnectionResetError):
            pass
        ids = parse_ids(bytes(got))
        result["slow_events"] = len(ids)
        result["slow_in_order"] = ids == list(range(1, len(ids) + 1))
    for s in list(bodies):
        try:
            s.close()
        except OSError:
            pass
    print(json.dumps(result))


def main():
    cmd = sys.argv[1]
    if cmd == "raw":
        raw(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 5)
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "fanout":
        fanout(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
               len(sys.argv) > 6 and sys.argv[6] == "slow")
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
