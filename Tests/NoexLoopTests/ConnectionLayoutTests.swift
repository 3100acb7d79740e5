// Pins the size of a connection's slab entry: every idle connection costs this much plus its
// socket's kernel state (there is no libuv handle per connection), so growth here is a
// per-connection memory regression (docs/transport.md, "Memory per connection").
import Testing

@testable import NoexLoop

@Suite struct ConnectionLayoutTests {
    @Test func aSlabEntryStaysSmall() {
        // The state machine without the server's deadlines and heartbeat (passed in per call).
        #expect(MemoryLayout<ConnectionStateMachine>.stride == 24)
        // The write queue without its limits (passed in per call): pending, coalescing spans,
        // the in-flight batch and its sent offset, counters, writability.
        #expect(MemoryLayout<WriteQueue>.stride == 64)
        // The frame decoder without its configuration (passed in per call).
        #expect(MemoryLayout<WebSocketFrameDecoder>.stride == 64)
        // The whole entry: the three above, the peer's address (16) and accept time (8), leftover
        // input and the deflate reference (8 each), the hard-limit timestamp, the descriptor,
        // the peer's port and the flags (24). Optional costs nothing extra (the slab stores
        // `Connection?`).
        #expect(MemoryLayout<Connection>.stride == 216)
        #expect(MemoryLayout<Connection?>.stride == MemoryLayout<Connection>.stride)
    }
}
