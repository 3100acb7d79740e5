import NoexLoop

/// What the protocol layer needs from the transport. `WebSocketServer` provides it; tests use
/// a recording fake so every operation can be checked without sockets.
public protocol ProtocolTransport: AnyObject {
    @discardableResult
    func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind) -> SendResult
    /// One text message given as `head`, `body` and `tail` (a subscription push: its own head,
    /// the shared data, the closing brace), the same message as their concatenation.
    @discardableResult
    func send(_ id: ConnectionID, head: [UInt8], body: [UInt8], tail: [UInt8], kind: SendKind) -> SendResult
    func close(_ id: ConnectionID, code: UInt16, reason: String)
    /// Pending plus in-flight outbound bytes (nil for an unknown connection).
    func bufferedBytes(_ id: ConnectionID) -> Int?
    /// Reports an application-level pong to the heartbeat.
    func pongReceived(_ id: ConnectionID)
    /// Stops or allows again decoding frames of a connection (while its answer is computed off
    /// the loop); transports without flow control ignore it.
    func holdReading(_ id: ConnectionID, _ hold: Bool)
}

extension ProtocolTransport {
    public func holdReading(_ id: ConnectionID, _ hold: Bool) {}

    /// Transports that hold messages (the commit gate, test fakes) take the pieces joined.
    @discardableResult
    public func send(_ id: ConnectionID, head: [UInt8], body: [UInt8], tail: [UInt8], kind: SendKind) -> SendResult {
        send(id, text: head + body + tail, kind: kind)
    }
}

extension WebSocketServer: ProtocolTransport {
    /// Straight from the three buffers to the socket, or into the write queue (`FrameParts`).
    @discardableResult
    public func send(_ id: ConnectionID, head: [UInt8], body: [UInt8], tail: [UInt8], kind: SendKind) -> SendResult {
        head.withUnsafeBytes { h in
            body.withUnsafeBytes { b in
                tail.withUnsafeBytes { t in send(id, text: FrameParts(head: h, body: b, tail: t), kind: kind) }
            }
        }
    }
}

/// A push on its way to the transport (held in `ProtocolCore.deferredPushes` while a request
/// is answered). A full-result subscription push is `head` (the subscriber's own, from
/// `ServerMessage.subscriptionPushHead`), `body` (the data shared by the evaluation's
/// subscribers) and `ServerMessage.subscriptionPushTail`; any other push has an empty `head`
/// and is `body` alone.
struct OutgoingPush {
    let id: ConnectionID
    let head: [UInt8]
    let body: [UInt8]
    let kind: SendKind
}

extension ProtocolCore {
    /// Connects the core to a transport of the embedder's own (`NoexServer` attaches its
    /// WebSocket server itself). The fuzz targets drive the core through this with an in-memory
    /// transport. Held weakly: the caller keeps the transport alive while events arrive.
    public func attach(_ transport: any ProtocolTransport) {
        transportRef = transport
    }
}
