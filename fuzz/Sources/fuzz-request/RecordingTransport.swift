import NoexLoop
import NoexServer

/// The transport side of the request fuzzer: keeps every frame the core sends, counts buffered
/// bytes until the fuzz input lets the client read them, and drops event pushes over the hard
/// limit as the WebSocket server does, so the core's backpressure paths are reachable.
final class RecordingTransport: ProtocolTransport {
    let hardLimit: Int
    var frames: [ConnectionID: [[UInt8]]] = [:]
    var buffered: [ConnectionID: Int] = [:]
    /// Connections the core asked to close, in order, until the driver reports them closed.
    var closing: [ConnectionID] = []
    private var closed: Set<ConnectionID> = []

    init(hardLimit: Int) { self.hardLimit = hardLimit }

    func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind) -> SendResult {
        if closed.contains(id) { return .notOpen }
        if kind != .response, buffered[id, default: 0] + bytes.count > hardLimit { return .dropped }
        frames[id, default: []].append(bytes)
        buffered[id, default: 0] += bytes.count
        return .queued
    }

    func close(_ id: ConnectionID, code: UInt16, reason: String) {
        guard closed.insert(id).inserted else { return }
        closing.append(id)
    }

    func bufferedBytes(_ id: ConnectionID) -> Int? { buffered[id] ?? 0 }
    func pongReceived(_ id: ConnectionID) {}

    /// The client read everything.
    func drain(_ id: ConnectionID) { buffered[id] = 0 }
}
