#!/usr/bin/env python3
"""WebSocket echo server on picows' core API (a peer for bench/echo.sh and bench/idle.sh).

Each data frame is sent back with the same opcode; the load generator sends only
unfragmented messages, so a frame is a message. Runs on uvloop when it is installed.
Binds to loopback only.

    python picows_echo.py [--host 127.0.0.1] [--port 9001]
"""
import argparse
import asyncio

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class EchoListener(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame):
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            transport.send(frame.msg_type, frame.get_payload_as_memoryview())


async def main(host: str, port: int):
    def listener_factory(_request: WSUpgradeRequest):
        return EchoListener()

    server = await ws_create_server(listener_factory, host, port)
    print(f"picows-echo: listening on {host}:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    if args.host not in LOOPBACK:
        parser.error(f"refusing non-loopback host {args.host}")
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(main(args.host, args.port))
    except KeyboardInterrupt:
        pass
