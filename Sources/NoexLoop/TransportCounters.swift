/// Loop-wide transport figures for monitoring. Plain integers updated on the loop thread (no
/// locks or atomics: only the loop reads and writes them).
public struct TransportCounters: Equatable, Sendable {
    /// Bytes read from client sockets (handshakes, frames and plain HTTP requests).
    public internal(set) var bytesReceived: UInt64 = 0
    /// Bytes handed to client sockets for writing.
    public internal(set) var bytesSent: UInt64 = 0
    /// TCP connections accepted (WebSocket or plain HTTP).
    public internal(set) var socketsAccepted: UInt64 = 0
    /// Lateness of the sweep timer: the loop's responsiveness.
    public internal(set) var loopLag: LoopLagMeter

    init(sweepIntervalMs: UInt64) { loopLag = LoopLagMeter(periodMs: sweepIntervalMs) }
}

extension WebSocketServer {
    /// Pending plus in-flight outbound bytes summed over every socket (open, handshaking or
    /// closing).
    public var totalBufferedBytes: Int {
        var sum = 0
        for id in connections.ids { sum += connections.withValue(id) { $0.writes.bufferedBytes } ?? 0 }
        return sum
    }

    /// Connections whose reading is paused because their write queue is above its high-water
    /// mark (see `isReading`).
    public var readingPausedCount: Int {
        var n = 0
        for id in connections.ids where connections.withValue(id, { $0.isReading }) == false { n += 1 }
        return n
    }
}
