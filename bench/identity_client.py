#!/usr/bin/env python3
"""Bounded client of bench/identity.sh (standard library only): logins/s of built-in identity and
the p99 latency of store.get on another connection, without and during the logins.

    identity_client.py --port P --secret S [--seconds 5] [--logins 8]

Prints one `name: value` line per figure."""
import argparse, base64, json, os, socket, struct, threading, time


class WS:
    """A minimal RFC 6455 client: masked text frames out, unfragmented text frames in."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.next_id = 1
        self.recv_json()  # welcome

    def _recv(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        return d

    def send(self, obj):
        p = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(p)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p)))

    def recv_json(self):
        while True:
            while len(self.buf) < 2:
                self.buf += self._recv()
            n = self.buf[1] & 0x7F
            off = 2
            if n == 126:
                while len(self.buf) < 4:
                    self.buf += self._recv()
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                while len(self.buf) < 10:
                    self.buf += self._recv()
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            while len(self.buf) < off + n:
                self.buf += self._recv()
            op, payload, self.buf = self.buf[0] & 0x0F, self.buf[off:off + n], self.buf[off + n:]
            if op == 1:
                msg = json.loads(payload)
                if msg.get("type") == "ping":
                    self.send({"type": "pong", "timestamp": msg["timestamp"]})
                    continue
                return msg

    def ask(self, obj):
        obj = dict(obj, id=self.next_id)
        self.next_id += 1
        self.send(obj)
        while True:
            m = self.recv_json()
            if m.get("id") == obj["id"]:
                return m


def p(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def probe(port, secret, seconds, out):
    c = WS(port)
    c.ask({"type": "identity.loginWithSecret", "secret": secret})
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        r = c.ask({"type": "store.get", "bucket": "bench", "key": "k"})
        out.append((time.perf_counter() - t) * 1000)
        assert r["type"] == "result", r


def login_loop(port, stop, counts):
    c = WS(port)
    n = 0
    while not stop.is_set():
        r = c.ask({"type": "identity.login", "username": "bench", "password": "bench-password"})
        assert r["type"] == "result", r
        n += 1
    counts.append(n)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--secret", required=True)
    a.add_argument("--seconds", type=float, default=5)
    a.add_argument("--logins", type=int, default=8)
    o = a.parse_args()
    o.seconds = min(o.seconds, 60)  # bounded
    o.logins = max(1, min(o.logins, 64))
    admin = WS(o.port)
    admin.ask({"type": "identity.loginWithSecret", "secret": o.secret})
    u = admin.ask({"type": "identity.createUser", "username": "bench", "password": "bench-password"})["data"]
    admin.ask({"type": "identity.assignRole", "userId": u["id"], "roleName": "writer"})
    admin.ask({"type": "store.insert", "bucket": "bench", "data": {"id": "k", "n": 1}})

    idle = []
    probe(o.port, o.secret, o.seconds, idle)

    busy, counts, stop = [], [], threading.Event()
    workers = [threading.Thread(target=login_loop, args=(o.port, stop, counts)) for _ in range(o.logins)]
    for w in workers:
        w.start()
    time.sleep(0.2)  # every login connection is busy
    started = time.monotonic()
    probe(o.port, o.secret, o.seconds, busy)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    elapsed = time.monotonic() - started + 0.2
    print(f"identity.logins_per_s: {sum(counts) / elapsed:.1f}")
    print(f"identity.get_p50_ms.idle: {p(idle, 0.50):.3f}")
    print(f"identity.get_p99_ms.idle: {p(idle, 0.99):.3f}")
    print(f"identity.get_p50_ms.during_logins: {p(busy, 0.50):.3f}")
    print(f"identity.get_p99_ms.during_logins: {p(busy, 0.99):.3f}")
    print(f"identity.get_requests.idle: {len(idle)}")
    print(f"identity.get_requests.during_logins: {len(busy)}")


if __name__ == "__main__":
    main()
