#!/usr/bin/env python3
"""WebSocket echo server on uWebSockets through socketify (a peer for bench/echo.sh and bench/idle.sh).

socketify (PyPI) bundles uWebSockets' C++ core and uSockets (libsocketify); the WebSocket
protocol, the event loop and the write path are uWS's own, and only the per-message callback
crosses into Python. The figures are therefore uWS plus one Python call per message: a lower
bound for uWS itself. Binds to loopback only.

    python uws_echo.py [--host 127.0.0.1] [--port 9001]
"""
import argparse

from socketify import App, CompressOptions, OpCode


def on_message(ws, message, opcode):
    ws.send(message, opcode)


def main(host: str, port: int):
    app = App()
    app.ws("/*", {
        "compression": CompressOptions.DISABLED,
        "max_payload_length": 16 * 1024 * 1024,
        "idle_timeout": 0,
        "message": on_message,
    })
    app.any("/*", lambda res, req: res.end("uws-echo"))
    app.listen({"port": port, "host": host},
               lambda config: print(f"uws-echo: listening on {host}:{port}", flush=True))
    app.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    main(args.host, args.port)
