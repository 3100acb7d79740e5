import NoexLoop

/// What the protocol layer needs from the transport. `WebSocketServer` provides it; tests use
/// a recording fake so every operation can be checked without sockets.
public protocol ProtocolTransport: AnyObject {
    @discardableResult
    func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind) -> SendResult
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
}

extension WebSocketServer: ProtocolTransport {}

extension ProtocolCore {
    /// Connects the core to a transport of the embedder's own (`NoexServer` attaches its
    /// WebSocket server itself). The fuzz targets drive the core through this with an in-memory
    /// transport. Held weakly: the caller keeps the transport alive while events arrive.
    public func attach(_ transport: any ProtocolTransport) {
        transportRef = transport
    }
}
