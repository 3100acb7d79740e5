// Echo mode: a plain WebSocket echo server over NoexLoop, for the Autobahn conformance suite
// and transport benchmarks. Every text or binary message is sent back unchanged; the server
// sends no heartbeat pings.
import NoexLoop

/// Echoes every message back to its sender.
final class EchoDelegate: WebSocketServerDelegate {
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: [UInt8]) {
        server.send(id, text: bytes)
    }

    func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: [UInt8]) {
        server.send(id, binary: bytes)
    }
}
