"""The one blocking WebSocket client of the Python benchmark scripts (standard library only).

    from wsclient import WSClient
    c = WSClient(port)                  # handshake done, welcome read
    c.ask({"type": "store.get", ...})   # numbered request -> its answer (a dict)
    c.send(obj); c.answer(); c.push()   # raw frames: (payload bytes) / (payload, size on the wire)
    c.pump(timeout)                     # the messages that arrive within timeout (non-blocking loops)

Masked text frames out (any length), unfragmented text frames in; a server ping is answered
with a pong and never returned."""
import base64
import json
import os
import select
import socket
import struct


class WSClient:
    def __init__(self, port, timeout=120):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        if not self.buf.startswith(b"HTTP/1.1 101"):
            raise SystemExit(f"upgrade refused: {bytes(self.buf[:80])!r}")
        del self.buf[:self.buf.index(b"\r\n\r\n") + 4]
        self.next_id = 1
        self.recv()  # the welcome

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("server closed the connection")
        self.buf += chunk

    def send(self, obj):
        payload = json.dumps(obj, separators=(",", ":")).encode()
        n = len(payload)
        if n < 126:
            head = bytes([0x81, 0x80 | n])
        elif n < 65536:
            head = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            head = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
        # A zero mask key: masking is then the identity (RFC 6455 allows any key).
        self.sock.sendall(head + b"\0\0\0\0" + payload)

    def _frame_size(self):
        """(header bytes, payload bytes) of the buffered frame, or None while its header is incomplete."""
        if len(self.buf) < 2:
            return None
        n, off = self.buf[1] & 0x7F, 2
        if n == 126:
            if len(self.buf) < 4:
                return None
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            if len(self.buf) < 10:
                return None
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        return off, n

    def _buffered_text(self):
        """The next whole buffered text frame that is not a ping, or None (answers pings)."""
        while True:
            size = self._frame_size()
            if size is None or len(self.buf) < size[0] + size[1]:
                return None
            off, n = size
            opcode, payload = self.buf[0] & 0x0F, bytes(self.buf[off:off + n])
            del self.buf[:off + n]
            if opcode != 1:
                continue
            if payload.startswith(b'{"type":"ping"'):
                self.send({"type": "pong", "timestamp": json.loads(payload)["timestamp"]})
                continue
            return payload, off + n

    def recv(self):
        """The next text frame that is not a ping: its payload and its size on the wire."""
        while True:
            frame = self._buffered_text()
            if frame is not None:
                return frame
            self._fill()

    def pump(self, timeout):
        """The messages (dicts) already buffered or arriving within `timeout` seconds, without blocking longer."""
        size = self._frame_size()
        if size is None or len(self.buf) < size[0] + size[1]:
            if select.select([self.sock], [], [], timeout)[0]:
                self._fill()
        out = []
        while (frame := self._buffered_text()) is not None:
            out.append(json.loads(frame[0]))
        return out

    def answer(self):
        """The next frame that is not a push (raw bytes)."""
        while True:
            payload, _ = self.recv()
            if not payload.startswith(b'{"type":"push"'):
                return payload

    def push(self):
        """The next push: (payload bytes, size on the wire)."""
        while True:
            payload, size = self.recv()
            if payload.startswith(b'{"type":"push"'):
                return payload, size

    def ask(self, obj):
        """Sends `obj` with the next id; returns its answer as a dict."""
        obj = dict(obj, id=self.next_id)
        self.next_id += 1
        self.send(obj)
        while True:
            m = json.loads(self.recv()[0])
            if m.get("id") == obj["id"]:
                return m


def pct(values, p):
    """The p-th percentile of `values` (nearest rank; 0.0 for no values)."""
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else 0.0
