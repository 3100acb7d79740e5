#!/usr/bin/env python3
"""Cross-node latency of a cluster (docs/cluster.md): writes `probe` records on one node at a
fixed rate and waits for it on a subscriber of another node (of the newest probe: a push for n
means node B applied every probe up to n). Prints, one line per
figure: write_to_push (request sent on node A -> push received on node B) and replication lag
(answer received on A -> push on B: how much later B shows what A confirmed), p50/p99 in ms.

    cluster_latency.py --writer PORT --reader PORT [--count N] [--rate R] [--label L]
"""
import argparse, base64, json, os, select, socket, struct, sys, time


class Client:
    """A minimal WebSocket client (text frames, masked, no extensions)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += self.s.recv(4096)
        self.buf = buf.split(b"\r\n\r\n", 1)[1]
        self.recv()  # welcome

    def send(self, obj):
        p = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(p)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def has_frame(self):
        if len(self.buf) < 2:
            return False
        n, off = self.buf[1] & 127, 2
        if n == 126:
            if len(self.buf) < 4:
                return False
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            if len(self.buf) < 10:
                return False
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        return len(self.buf) >= off + n

    def recv(self):
        self._need(2)
        n, off = self.buf[1] & 127, 2
        if n == 126:
            self._need(4); n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10); n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        data, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return json.loads(data)

    def pump(self, timeout):
        """Reads what is available (waiting up to `timeout`); returns the decoded frames."""
        out = []
        if not self.has_frame():
            r, _, _ = select.select([self.s], [], [], timeout)
            if r:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("connection closed")
                self.buf += chunk
        while self.has_frame():
            out.append(self.recv())
        return out


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writer", type=int, required=True)
    ap.add_argument("--reader", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--label", default="cluster")
    a = ap.parse_args()
    w, r = Client(a.writer), Client(a.reader)
    r.send({"id": 1, "type": "store.subscribe", "query": "probe-latest"})
    while r.recv().get("id") != 1:
        pass
    run = os.urandom(4).hex()
    sent, answered, pushed = {}, {}, {}
    deadline = time.monotonic() + a.count / a.rate + 20  # bounded
    n = 0
    next_at = time.monotonic()
    while (len(pushed) < a.count or len(answered) < a.count) and time.monotonic() < deadline:
        now = time.monotonic()
        if n < a.count and now >= next_at:
            n += 1
            sent[n] = time.monotonic()
            w.send({"id": n + 1, "type": "store.insert", "bucket": "probe", "data": {"id": f"{run}-{n}", "n": n}})
            next_at += 1 / a.rate
        for m in w.pump(0):
            if m.get("type") == "result":
                answered[m["id"] - 1] = time.monotonic()
        for m in r.pump(0.0005):
            if m.get("type") == "push":
                # The query shows the newest probe: node B showing n means it applied every
                # earlier one too (pushes of one query coalesce when entries arrive together).
                for rec in m.get("data") or []:
                    if rec.get("id", "").startswith(run):
                        t = time.monotonic()
                        for k in range(rec["n"], 0, -1):
                            if k in pushed:
                                break
                            pushed[k] = t
    keys = [k for k in pushed if k in sent]
    w2p = [(pushed[k] - sent[k]) * 1000 for k in keys]
    lag = [(pushed[k] - answered[k]) * 1000 for k in keys if k in answered]
    p = a.label + "."
    print(f"{p}cross_node_writes: {len(keys)} of {a.count} at {a.rate:g}/s")
    print(f"{p}write_to_push_p50_ms: {pct(w2p, 50):.2f}")
    print(f"{p}write_to_push_p99_ms: {pct(w2p, 99):.2f}")
    print(f"{p}replication_lag_p50_ms: {pct(lag, 50):.2f}")
    print(f"{p}replication_lag_p99_ms: {pct(lag, 99):.2f}")
    return 0 if len(keys) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
